/* /ws: upgrade checks (path and Origin), message reassembly with a size cap, and a bounded
 * outbound queue drained in LWS_CALLBACK_SERVER_WRITEABLE (the mosquitto pattern); a frame
 * that finds the queue empty is written at once. The connection handler on top (the handler of
 * ws.h, registered at start) gets each complete message and the connection's life events,
 * with its state kept inside this file's per-connection data. */
#include "net/ws.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cors.h"
#include "base/log.h"
#include "base/server.h"
#include "net/headers.h"
#include "net/http.h"
#include "net/metrics.h"

struct ws_frame {
    struct ws_frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + payload */
};

#define WS_WRITES_PER_TURN 16 /* frames written per writeable callback while not choked */
#define WS_CLOSE_TEXT_MAX 123 /* a close frame's payload is at most 125 bytes */
/* lws 4.1 keeps LWS_WRITE_CLOSE (4) private: lws-write.h leaves its slot in the public enum
 * and says lws_close_reason() handles it. ws_write_close says why we write it ourselves. */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

struct ws_conn {
    struct lws *wsi;
    struct server *srv;
    char *rx; /* message being reassembled */
    size_t rx_len;
    bool closing;
    bool flush_close;       /* close with close_code once the queue is written */
    bool ping_due;          /* keep-alive: a ping goes out at the next writeable */
    size_t rx_discard;      /* bytes of a refused message read and dropped so far, +1 */
    int close_code;         /* 0: close without a close frame; set by ws_discard too */
    const char *close_text; /* static */
    struct ws_frame *head, *tail;
    size_t queued;
    /* The handler's state_size bytes. 8-byte alignment (WS_STATE_ALIGN), not max_align_t's
     * 16: that would leave a hole of 8 bytes on every connection. */
    uint64_t state[];
};

static const struct ws_handler *ws_handler;

void ws_set_handler(const struct ws_handler *h) { ws_handler = h; }

size_t ws_conn_data_size(void)
{
    return sizeof(struct ws_conn) + (ws_handler ? ws_handler->state_size : 0);
}

size_t ws_queued(const struct ws_conn *c) { return c->queued; }

size_t ws_room(const struct ws_conn *c)
{
    size_t max = (size_t)c->srv->cfg->ws_max_queue;

    return c->closing || c->flush_close || c->queued >= max ? 0 : max - c->queued;
}

void ws_close(struct ws_conn *c, int code, const char *reason)
{
    if (c->closing || c->flush_close)
        return;
    c->flush_close = true;
    c->close_code = code;
    c->close_text = reason;
    /* A client that does not read cannot hold the socket open by not taking the last
     * frames. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
    lws_callback_on_writable(c->wsi);
}

void ws_ping(struct ws_conn *c)
{
    if (c->closing || c->flush_close)
        return;
    c->ping_due = true;
    lws_callback_on_writable(c->wsi);
}

void ws_rx_pause(struct ws_conn *c, bool pause) { lws_rx_flow_control(c->wsi, pause ? 0 : 1); }

int ws_send(struct ws_conn *c, const char *text, size_t len)
{
    struct ws_frame *f;

    if (c->closing || c->flush_close)
        return -1;
    if (c->queued >= (size_t)c->srv->cfg->ws_max_queue) {
        c->closing = true; /* now, without writing what is queued */
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        c->close_text = "slow reader";
        lws_callback_on_writable(c->wsi);
        return -1;
    }
    f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        abort();
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    /* Nothing waiting: straight to the socket. lws keeps what the socket does not take (at
     * most this frame) and asks for writeable itself; frames after it queue below. Asking
     * for writeable for every frame cost two epoll_ctl calls each (events on, then off) and
     * a further turn of the loop before the write. */
    if (!c->head && !c->ping_due && !lws_partial_buffered(c->wsi)) {
        int n = lws_write(c->wsi, f->buf + LWS_PRE, len, LWS_WRITE_TEXT);

        free(f);
        if (n < (int)len) { /* the socket is gone: close without a close frame */
            c->closing = true;
            c->close_code = 0;
            lws_callback_on_writable(c->wsi);
            return -1;
        }
        return 0;
    }
    if (c->tail)
        c->tail->next = f;
    else
        c->head = f;
    c->tail = f;
    c->queued++;
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* One complete text message: to the connection handler, unless a close is under way. */
static void ws_on_message(struct ws_conn *c, const char *msg, size_t len)
{
    if (!c->closing && !c->flush_close && ws_handler)
        ws_handler->message(c->state, msg, len);
}

static void ws_on_alive(struct ws_conn *c)
{
    if (ws_handler)
        ws_handler->alive(c->state);
}

/* Starts dropping the message being received: it is read to its end, then the socket is
 * closed with code (ws_on_receive), unless a close is under way already. */
static void ws_discard(struct ws_conn *c, int code, const char *text)
{
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    c->rx_discard = 1;
    if (!c->closing && !c->flush_close) {
        c->close_code = code;
        c->close_text = text;
    }
}

static int ws_on_receive(struct ws_conn *c, const void *in, size_t len)
{
    size_t max = (size_t)c->srv->cfg->ws_max_frame;
    char *nb;

    /* A binary or oversized message is read to its end and dropped, then the socket is
     * closed with 1003 or 1009: closing with its rest unread would reset the connection, and
     * the client would see 1006 instead (likelier with the 1 KiB receive buffer, which reads
     * it in more pieces). A sender that never ends the message is cut off after 4 x
     * WS_MAX_FRAME. */
    if (!c->rx_discard && lws_frame_is_binary(c->wsi))
        ws_discard(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
    else if (!c->rx_discard && c->rx_len + len + lws_remaining_packet_payload(c->wsi) > max)
        ws_discard(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    if (c->rx_discard) {
        c->rx_discard += len;
        if (c->rx_discard > 4 * max)
            return -1; /* cut off without a close frame */
        /* Later messages are dropped too (ws_on_message: flush_close). */
        if (lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi))
            ws_close(c, c->close_code, c->close_text);
        return 0;
    }
    nb = realloc(c->rx, c->rx_len + len + 1);
    if (!nb)
        abort();
    c->rx = nb;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return 0;
    ws_on_message(c, c->rx, c->rx_len);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    return 0;
}

/* The keep-alive ping (ws_ping, asked for by the handler) goes first: every frame is written
 * whole (FIN set, and lws holds back the writeable callback while a partly sent one is
 * pending), so it never lands inside a message, and it is not a queued frame, so the queue's
 * bound is untouched. It carries a payload because lws 4.1 hands an empty pong to no
 * callback. */
#define WS_PING_PAYLOAD "ka"

static int ws_write_ping(struct ws_conn *c)
{
    unsigned char buf[LWS_PRE + sizeof(WS_PING_PAYLOAD)];
    size_t n = sizeof(WS_PING_PAYLOAD) - 1;

    c->ping_due = false;
    memcpy(buf + LWS_PRE, WS_PING_PAYLOAD, n);
    return lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_PING) < (int)n ? -1 : 0;
}

/* Writes the close frame (close_code, close_text) and has lws drop the connection: returns
 * -1 for the writeable callback to return. The frame is written here rather than left to lws
 * (lws_close_reason, then -1, which sends it on a later writeable turn): on an event-library
 * loop that path lost the frame in lws 4.1 (on libuv, Debian's _DEBUG build runs a second
 * "repeat test" close that shuts the socket first), and the client saw 1006. Written here, it
 * goes out whatever loop lws runs on. The server closes the TCP connection first, as RFC 6455
 * 7.1.1 has it. */
static int ws_write_close(struct ws_conn *c)
{
    unsigned char buf[LWS_PRE + 2 + WS_CLOSE_TEXT_MAX];
    size_t n;

    if (!c->close_code)
        return -1; /* no frame (the socket failed) */
    n = strlen(c->close_text);
    if (n > WS_CLOSE_TEXT_MAX)
        n = WS_CLOSE_TEXT_MAX;
    buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)c->close_code;
    memcpy(buf + LWS_PRE + 2, c->close_text, n);
    (void)lws_write(c->wsi, buf + LWS_PRE, 2 + n, WS_WRITE_CLOSE);
    return -1;
}

/* Writes queued frames while the socket takes them (a few per turn, so one busy connection
 * cannot starve the others), then closes if a close was asked for once the queue is out. */
static int ws_on_writeable(struct ws_conn *c)
{
    size_t before = c->queued;
    int i = 0;

    if (c->closing)
        return ws_write_close(c); /* without what is still queued */
    if (c->ping_due && !c->flush_close) {
        if (ws_write_ping(c))
            return -1;
        i = 1; /* and a choke check before the first frame */
    }
    for (; c->head && i < WS_WRITES_PER_TURN; i++) {
        struct ws_frame *f = c->head;

        if (i && lws_send_pipe_choked(c->wsi))
            break;
        if (lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
            return -1;
        c->head = f->next;
        if (!c->head)
            c->tail = NULL;
        c->queued--;
        free(f);
    }
    if (c->head) {
        lws_callback_on_writable(c->wsi);
    } else if (c->flush_close) {
        return ws_write_close(c);
    }
    /* Durable events wait in the store while the queue is busy; room again: fetch them. */
    if (before > c->queued && c->queued <= (size_t)c->srv->cfg->ws_max_queue / 4 && ws_handler)
        ws_handler->room(c->state);
    return 0;
}

static void ws_on_closed(struct ws_conn *c)
{
    if (!c->srv)
        return; /* refused before ESTABLISHED: nothing was set up */
    while (c->head) {
        struct ws_frame *f = c->head;

        c->head = f->next;
        free(f);
    }
    c->tail = NULL;
    free(c->rx);
    c->rx = NULL;
    if (ws_handler)
        ws_handler->closed(c->state);
    metrics_connection(c->srv->metrics, 0, -1);
}

/* Upgrades are accepted on /ws only (lws hands every upgrade to the default protocol). */
static bool ws_path_ok(struct lws *wsi)
{
    char uri[8];

    return lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) == 3 && !strcmp(uri, "/ws");
}

/* Refuses cross-site WebSocket hijacking: a browser page from another origin may not open a
 * socket with the user's cookies. No Origin (non-browser clients) or an allowed one is fine;
 * so is the page's own origin (Origin host equals Host). */
static bool ws_origin_ok(struct lws *wsi, struct server *srv)
{
    char origin[CORS_ORIGIN_MAX], host[256];
    const char *o;

    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return true;
    if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
        return false;
    if (cors_origin_allowed(&srv->cors, origin))
        return true;
    if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) < 0)
        return false;
    o = strstr(origin, "://");
    return o && !strcmp(o + 3, host);
}

/* The 101 answer carries the security headers too. */
static int ws_add_headers(struct server *srv, void *in)
{
    struct lws_process_html_args *args = in;
    size_t n;
    const char *block = headers_security(srv->tls, &n);

    if (args->max_len < 0 || (size_t)args->max_len < n)
        return 0;
    memcpy(args->p, block, n);
    args->p += n;
    args->max_len -= (int)n;
    return 0;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct ws_conn *c = user;
    struct server *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!ws_path_ok(wsi)) {
            log_info("ws.refused", "reason=path");
            return 1;
        }
        if (!ws_origin_ok(wsi, srv)) {
            log_info("ws.refused", "reason=origin");
            return 1;
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return http_confirm_upgrade(wsi);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: /* lws asks the vhost default */
        http_conn_instantiated(wsi);
        return 0;
    case LWS_CALLBACK_ADD_HEADERS: return ws_add_headers(srv, in);
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, ws_conn_data_size());
        c->wsi = wsi;
        c->srv = srv;
        metrics_connection(srv->metrics, 0, 1);
        if (ws_handler)
            ws_handler->open(srv, c, c->state);
        return 0;
    case LWS_CALLBACK_RECEIVE: ws_on_alive(c); return ws_on_receive(c, in, len);
    case LWS_CALLBACK_RECEIVE_PONG: ws_on_alive(c); return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return ws_on_writeable(c);
    case LWS_CALLBACK_CLOSED: ws_on_closed(c); return 0;
    default: return 0;
    }
}
