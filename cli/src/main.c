/* main.c: sotto, the command-line client: parse, dispatch, exit with a documented code. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <sotto.h>

#include "args.h"
#include "commands.h"
#include "net_http.h"
#include "util.h"

static const struct {
    const char *name;
    int (*fn)(const cli_opts *);
} DISPATCH[] = {
    {"register", cmd_register}, {"login", cmd_login},
    {"logout", cmd_logout},     {"whoami", cmd_whoami},
    {"devices", cmd_devices},   {"users", cmd_users},
    {"block", cmd_block},       {"unblock", cmd_unblock},
    {"blocked", cmd_blocked},   {"send", cmd_send},
    {"edit", cmd_edit},         {"delete", cmd_delete},
    {"sync", cmd_sync},         {"watch", cmd_watch},
    {"chat", cmd_chat},         {"history", cmd_history},
    {"verify", cmd_verify},     {"conversations", cmd_conversations},
    {"calls", cmd_calls},       {"mfa", cmd_mfa},
    {"password", cmd_password}, {"verify-email", cmd_verify_email},
    {"account", cmd_account},   {"send-file", cmd_send_file},
    {"get-file", cmd_get_file}, {"profile", cmd_profile},
};

/* Keys, tokens and message text live in this process's memory: no core file may hold them,
 * and no other process of the same user may ptrace us or read /proc/<pid>/mem (the process
 * is not dumpable). First thing, before any secret is loaded. */
static int harden(void)
{
    struct rlimit none = {0, 0};

    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return -1;
#ifdef __linux__
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return -1;
#endif
    return 0;
}

int main(int argc, char **argv)
{
    cli_opts o;
    char err[256];
    int rc = EXIT_USAGE;

    if (harden() != 0) {
        fprintf(stderr, "sotto: cannot disable core dumps for this process\n");
        return EXIT_LOCAL;
    }
    umask(077); /* every file we create (the database, its -wal and -shm) is ours alone */
    if (args_parse(&o, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "sotto: %s\n%s", err, args_usage());
        return EXIT_USAGE;
    }
    if (!strcmp(o.cmd, "help")) {
        fputs(args_usage(), stdout);
        return 0;
    }
    if (sotto_init() != 0 || http_global_init() != 0) {
        fprintf(stderr, "sotto: cannot initialise the crypto or network libraries\n");
        return EXIT_LOCAL;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof DISPATCH / sizeof DISPATCH[0]; i++)
        if (!strcmp(DISPATCH[i].name, o.cmd))
            rc = DISPATCH[i].fn(&o);
    http_global_cleanup();
    return rc;
}
