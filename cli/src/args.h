/* args.h: the command line, parsed into one struct (no I/O, so it is unit-tested). */
#ifndef SOTTO_CLI_ARGS_H
#define SOTTO_CLI_ARGS_H

#include <stddef.h>

#define ARGS_MAX_POS 4

typedef struct cli_opts {
    const char *server;  /* --server URL (NULL: the profile's, else the default) */
    const char *profile; /* --profile DIR */
    int json;            /* --json */
    const char *email, *username, *display_name, *mfa_code, *device_name, *search;
    int password_stdin;        /* --password-stdin: secrets from stdin, one a line */
    int mark_verified, accept; /* verify */
    int yes;                   /* --yes: account delete without a terminal to confirm on */
    int timeout_s;             /* watch/chat: stop after this many seconds (0: never) */
    int limit;                 /* history/users search */
    const char *caption;       /* send-file --caption */
    const char *output;        /* get-file -o PATH */
    int force;                 /* get-file --force: replace an existing file */
    int remove;                /* profile avatar --remove */
    const char *cmd;           /* the subcommand */
    const char *pos[ARGS_MAX_POS];
    int npos;
} cli_opts;

#define DEFAULT_SERVER "http://localhost:8080"

/* Parses argv (getopt_long, options anywhere, "--" ends them). Returns 0, or -1 with a
 * message in err. Pointers in o point into argv. Validates the positional count for the
 * subcommand. */
int args_parse(cli_opts *o, int argc, char **argv, char *err, size_t errlen);
/* The usage text. */
const char *args_usage(void);

#endif
