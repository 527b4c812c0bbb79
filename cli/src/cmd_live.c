/* cmd_live.c: sync, watch and chat: the commands that hold a /ws session (receive.c). */
#include "client.h"
#include "commands.h"
#include "receive.h"

static int live(const cli_opts *o, enum rx_mode mode)
{
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0)
        rc = rx_run(&c, mode, mode == RX_CHAT ? o->pos[0] : NULL, o->timeout_s);
    client_close(&c);
    return rc;
}

int cmd_sync(const cli_opts *o) { return live(o, RX_SYNC); }

int cmd_watch(const cli_opts *o) { return live(o, RX_WATCH); }

int cmd_chat(const cli_opts *o) { return live(o, RX_CHAT); }
