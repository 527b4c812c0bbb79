/* commands.h: one entry point per subcommand; each returns an EXIT_* code. */
#ifndef SOTTO_CLI_COMMANDS_H
#define SOTTO_CLI_COMMANDS_H

#include <jansson.h>

#include "args.h"
#include "localstore.h"

int cmd_register(const cli_opts *o);
int cmd_login(const cli_opts *o);
int cmd_logout(const cli_opts *o);
int cmd_whoami(const cli_opts *o);
int cmd_devices(const cli_opts *o);
int cmd_users(const cli_opts *o);
int cmd_block(const cli_opts *o);
int cmd_unblock(const cli_opts *o);
int cmd_blocked(const cli_opts *o);
int cmd_send(const cli_opts *o);
int cmd_edit(const cli_opts *o);
int cmd_delete(const cli_opts *o);
int cmd_sync(const cli_opts *o);
int cmd_watch(const cli_opts *o);
int cmd_chat(const cli_opts *o);
int cmd_history(const cli_opts *o);
int cmd_conversations(const cli_opts *o);
int cmd_verify(const cli_opts *o);
int cmd_calls(const cli_opts *o);
int cmd_mfa(const cli_opts *o);
int cmd_password(const cli_opts *o);
int cmd_verify_email(const cli_opts *o);
int cmd_account(const cli_opts *o);
int cmd_send_file(const cli_opts *o);
int cmd_get_file(const cli_opts *o);
int cmd_profile(const cli_opts *o);

/* One stored message as `history` prints it (chat shows the recent ones the same way), with
 * what its retry says (history_retry_state): an undecryptable message asked for less than a
 * day ago is waiting for its resend, a received one that was asked for came as a resend. */
enum { HISTORY_PLAIN = 0, HISTORY_WAITING = 1, HISTORY_RESENT = 2 };
struct client;
int history_retry_state(struct client *c, const ls_message *m);
void history_print_line(const ls_message *m, const char *peer_name, int retry_state);

/* Prints a JSON value on stdout (one line) and returns 0. */
int print_json(json_t *v);

#endif
