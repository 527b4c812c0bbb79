/* args.c: command-line parsing and the table of subcommands' argument counts. */
#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name, min and max positional arguments after the subcommand name */
static const struct {
    const char *name;
    int min, max;
} COMMANDS[] = {
    {"register", 0, 0},     {"login", 0, 0},   {"logout", 0, 0},    {"whoami", 0, 0},
    {"devices", 0, 3},      /* devices [list | accept | revoke ID | rename ID NAME] */
    {"mfa", 1, 1},          /* mfa enable | disable | backup-codes */
    {"password", 1, 1},     /* password change | forgot | reset */
    {"verify-email", 1, 1}, /* verify-email resend */
    {"account", 1, 1},      /* account delete */
    {"users", 2, 2},        /* users search QUERY */
    {"chat", 1, 1},         {"send", 2, 2},    {"edit", 3, 3},      {"delete", 2, 2},
    {"sync", 0, 0},         {"watch", 0, 0},   {"history", 1, 1},   {"verify", 1, 1},
    {"block", 1, 1},        {"unblock", 1, 1}, {"blocked", 0, 0},   {"conversations", 0, 0},
    {"calls", 1, 1},        {"help", 0, 1},    {"send-file", 2, 2}, /* send-file USER PATH */
    {"get-file", 2, 3}, /* get-file USER MESSAGE-ID [INDEX] */
    {"profile", 1, 2},  /* profile avatar PATH | profile avatar --remove */
};

enum {
    O_SERVER = 256,
    O_PROFILE,
    O_JSON,
    O_EMAIL,
    O_USERNAME,
    O_DISPLAY,
    O_PWSTDIN,
    O_MFA,
    O_DEVNAME,
    O_SEARCH,
    O_MARK,
    O_ACCEPT,
    O_TIMEOUT,
    O_LIMIT,
    O_YES,
    O_CAPTION,
    O_FORCE,
    O_REMOVE
};

static const struct option LONGOPTS[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"profile", required_argument, NULL, O_PROFILE},
    {"json", no_argument, NULL, O_JSON},
    {"email", required_argument, NULL, O_EMAIL},
    {"username", required_argument, NULL, O_USERNAME},
    {"display-name", required_argument, NULL, O_DISPLAY},
    {"password-stdin", no_argument, NULL, O_PWSTDIN},
    {"mfa-code", required_argument, NULL, O_MFA},
    {"device-name", required_argument, NULL, O_DEVNAME},
    {"search", required_argument, NULL, O_SEARCH},
    {"mark-verified", no_argument, NULL, O_MARK},
    {"accept", no_argument, NULL, O_ACCEPT},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"limit", required_argument, NULL, O_LIMIT},
    {"yes", no_argument, NULL, O_YES},
    {"caption", required_argument, NULL, O_CAPTION},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, O_FORCE},
    {"remove", no_argument, NULL, O_REMOVE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

const char *args_usage(void)
{
    return "usage: sotto [options] <command> [args]\n"
           "commands:\n"
           "  register                 create an account and this device\n"
           "  login                    sign in (a new device, or this one again)\n"
           "  logout                   end this device's session (keys stay)\n"
           "  whoami                   the signed-in user and device\n"
           "  devices [list]           this account's devices\n"
           "  devices accept           accept a device added to your account (ends the hold)\n"
           "  devices revoke ID        revoke a device\n"
           "  devices rename ID NAME   rename a device of your account\n"
           "  devices approve ID       add your new device to the signed device list (--yes)\n"
           "  mfa enable|disable|backup-codes   two-factor sign-in (password, then a code)\n"
           "  password change|forgot|reset      change it, or reset it by mail\n"
           "  verify-email resend      a new verification link (the state is in whoami)\n"
           "  account delete           delete the account for good (--yes without a "
           "terminal)\n"
           "  users search QUERY       find users\n"
           "  send USER TEXT           send one message (TEXT - reads it from stdin)\n"
           "  edit USER ID TEXT        replace the text of your message ID (from history --json)\n"
           "  delete USER ID           delete your message ID for everyone\n"
           "  sync                     fetch and store everything queued, and missed calls; exit\n"
           "  watch                    print incoming messages and calls as they arrive\n"
           "  chat USER                interactive chat (/help, /verify, /quit); shows calls\n"
           "  conversations            your conversations: unread counts, last message (--limit "
           "N)\n"
           "  history USER             local history (--search TEXT)\n"
           "  calls USER               call history with USER, newest first (--limit N)\n"
           "  verify USER              safety number and QR (--mark-verified, --accept)\n"
           "  block USER | unblock USER | blocked (the list)\n"
           "  send-file USER PATH      send a file of at most 100 MiB (--caption TEXT)\n"
           "  get-file USER ID [N]     save file N (default 1) of message ID (-o PATH, --force)\n"
           "  profile avatar PATH      your public profile picture (PNG, JPEG or WebP, 2 MiB)\n"
           "  profile avatar --remove  remove it\n"
           "options:\n"
           "  --server URL (default " DEFAULT_SERVER ")  --profile DIR  --json\n"
           "  --email E --username U --display-name N --password-stdin --mfa-code C\n"
           "  --device-name N --search T --timeout SECONDS --limit N --yes\n"
           "  (--password-stdin: every secret a command asks for, one a line, in its order)\n"
           "  --caption TEXT -o/--output PATH --force --remove\n";
}

static int positive_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int set_opt(cli_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_SERVER: o->server = arg; break;
    case O_PROFILE: o->profile = arg; break;
    case O_JSON: o->json = 1; break;
    case O_EMAIL: o->email = arg; break;
    case O_USERNAME: o->username = arg; break;
    case O_DISPLAY: o->display_name = arg; break;
    case O_PWSTDIN: o->password_stdin = 1; break;
    case O_MFA: o->mfa_code = arg; break;
    case O_DEVNAME: o->device_name = arg; break;
    case O_SEARCH: o->search = arg; break;
    case O_MARK: o->mark_verified = 1; break;
    case O_ACCEPT: o->accept = 1; break;
    case O_YES: o->yes = 1; break;
    case O_CAPTION: o->caption = arg; break;
    case 'o': o->output = arg; break;
    case O_FORCE: o->force = 1; break;
    case O_REMOVE: o->remove = 1; break;
    case O_TIMEOUT: return positive_int(arg, &o->timeout_s);
    case O_LIMIT: return positive_int(arg, &o->limit) != 0 || o->limit == 0 ? -1 : 0;
    default: return -1;
    }
    return 0;
}

static int check_positionals(cli_opts *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (strcmp(COMMANDS[i].name, o->cmd) != 0)
            continue;
        if (o->npos < COMMANDS[i].min || o->npos > COMMANDS[i].max) {
            snprintf(err, errlen, "wrong number of arguments for '%s'", o->cmd);
            return -1;
        }
        if (strcmp(o->cmd, "profile") == 0 && strcmp(o->pos[0], "avatar") != 0) {
            snprintf(err, errlen, "profile: only 'profile avatar PATH' and '--remove' exist");
            return -1;
        }
        if (strcmp(o->cmd, "users") == 0 && strcmp(o->pos[0], "search") != 0) {
            snprintf(err, errlen, "users: only 'users search QUERY' exists");
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown command '%s'", o->cmd);
    return -1;
}

/* Why getopt_long's result c (with optarg) was refused, naming the option as typed. */
static void opt_error(int c, char **argv, char *err, size_t errlen)
{
    if (c == '?')
        snprintf(err, errlen, "bad option '%s'", argv[optind - 1]);
    else if (c == ':')
        snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
    else
        for (const struct option *l = LONGOPTS; l->name != NULL; l++)
            if (l->val == c)
                snprintf(err, errlen, "bad value '%s' for --%s", optarg, l->name);
}

int args_parse(cli_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    int c;

    memset(o, 0, sizeof *o);
    o->limit = 50;
    optind = 0; /* GNU: full re-initialisation, so the parser can run more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:ho:", LONGOPTS, NULL)) != -1) {
        if (c == 'h') {
            o->cmd = "help";
            return 0;
        }
        if (c == '?' || c == ':' || set_opt(o, c, optarg) != 0) {
            opt_error(c, argv, err, errlen);
            return -1;
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "no command given");
        return -1;
    }
    o->cmd = argv[optind++];
    /* Options may also follow the command and its arguments. */
    for (;;) {
        while (optind < argc && (argv[optind][0] != '-' || argv[optind][1] == '\0')) {
            if (o->npos == ARGS_MAX_POS) {
                snprintf(err, errlen, "too many arguments");
                return -1;
            }
            o->pos[o->npos++] = argv[optind++];
        }
        if (optind >= argc)
            break;
        if (strcmp(argv[optind], "--") == 0) {
            optind++;
            while (optind < argc && o->npos < ARGS_MAX_POS)
                o->pos[o->npos++] = argv[optind++];
            if (optind < argc) {
                snprintf(err, errlen, "too many arguments");
                return -1;
            }
            break;
        }
        if ((c = getopt_long(argc, argv, "+:ho:", LONGOPTS, NULL)) == -1)
            break;
        if (c == 'h') {
            o->cmd = "help";
            return 0;
        }
        if (c == '?' || c == ':' || set_opt(o, c, optarg) != 0) {
            opt_error(c, argv, err, errlen);
            return -1;
        }
    }
    return check_positionals(o, err, errlen);
}
