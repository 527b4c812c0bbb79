/* net_ws.c: the libwebsockets client behind net_ws.h. Writes happen only in
 * LWS_CALLBACK_CLIENT_WRITEABLE; large frames are reassembled, capped at RX_MAX. */
#include "net_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "term.h"
#include "util.h"

#define RX_MAX (1u << 20)
#define TICK_US (50 * LWS_US_PER_MS)

typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
} frame;

struct ws_conn {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t sul;
    ws_event_fn on_event;
    ws_tick_fn on_tick;
    void *user;
    frame *head, *tail;
    char *rx;
    size_t rx_len;
    int established, closed, stop, close_code, rx_overflow;
    unsigned next_id;
};

static void dispatch(ws_conn *w)
{
    json_t *j = json_loadb(w->rx, w->rx_len, 0, NULL);
    const char *ev = json_string_value(json_object_get(j, "event"));

    if (ev != NULL)
        w->on_event(w->user, ev, j);
    json_decref(j);
}

static void on_receive(ws_conn *w, struct lws *wsi, const void *in, size_t len)
{
    if (!w->rx_overflow && w->rx_len + len <= RX_MAX) {
        char *p = realloc(w->rx, w->rx_len + len + 1);
        if (p != NULL) {
            memcpy(p + w->rx_len, in, len);
            w->rx = p;
            w->rx_len += len;
        } else {
            w->rx_overflow = 1;
        }
    } else {
        w->rx_overflow = 1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return;
    if (!w->rx_overflow)
        dispatch(w);
    w->rx_len = 0;
    w->rx_overflow = 0;
}

static int on_writeable(ws_conn *w, struct lws *wsi)
{
    frame *f = w->head;

    if (f == NULL)
        return 0;
    if (lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
        return -1;
    w->head = f->next;
    if (w->head == NULL)
        w->tail = NULL;
    free(f);
    if (w->head != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_closed(ws_conn *w, struct lws *wsi)
{
    w->closed = 1;
    w->wsi = NULL;
    lws_cancel_service(lws_get_context(wsi));
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    ws_conn *w = lws_context_user(lws_get_context(wsi));
    (void)user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        w->established = 1;
        if (w->head != NULL)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: on_receive(w, wsi, in, len); break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(w, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            w->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char s1[256];
        fprintf(stderr, "sotto: websocket: %s\n",
                term_safe(s1, sizeof s1, in ? (const char *)in : "connection failed"));
        on_closed(w, wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED: on_closed(w, wsi); break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols PROTOCOLS[] = {
    {"sotto", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void tick(lws_sorted_usec_list_t *sul)
{
    ws_conn *w = lws_container_of(sul, ws_conn, sul);

    if (w->on_tick != NULL && w->on_tick(w->user))
        w->stop = 1;
    lws_sul_schedule(w->ctx, 0, &w->sul, tick, TICK_US);
}

static int connect_to(ws_conn *w, const char *server)
{
    struct lws_client_connect_info ci;
    char url[1024];
    const char *proto, *host, *path;
    int port;

    if (str_copy(url, sizeof url, server) != 0 ||
        lws_parse_uri(url, &proto, &host, &port, &path) != 0)
        return -1;
    memset(&ci, 0, sizeof ci);
    ci.context = w->ctx;
    ci.address = host;
    ci.host = host;
    ci.origin = host;
    ci.port = port;
    ci.path = "/ws";
    ci.local_protocol_name = "sotto";
    ci.ssl_connection =
        strcmp(proto, "https") == 0 || strcmp(proto, "wss") == 0 ? LCCSCF_USE_SSL : 0;
    w->wsi = lws_client_connect_via_info(&ci);
    return w->wsi != NULL ? 0 : -1;
}

int ws_open(ws_conn **out, const char *server, ws_event_fn on_event, ws_tick_fn on_tick, void *ctx)
{
    struct lws_context_creation_info info;
    ws_conn *w = calloc(1, sizeof *w);

    if (w == NULL)
        return -1;
    w->on_event = on_event;
    w->on_tick = on_tick;
    w->user = ctx;
    lws_set_log_level(0, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = PROTOCOLS;
    info.user = w;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if ((w->ctx = lws_create_context(&info)) == NULL || connect_to(w, server) != 0)
        goto fail;
    while (!w->established && !w->closed)
        lws_service(w->ctx, 0);
    if (!w->established)
        goto fail;
    lws_sul_schedule(w->ctx, 0, &w->sul, tick, TICK_US);
    *out = w;
    return 0;
fail:
    fprintf(stderr, "sotto: cannot open a websocket to %s\n", server);
    ws_close(w, 0);
    return -1;
}

int ws_send(ws_conn *w, const char *event, json_t *data, int want_id, char *id)
{
    json_t *j = json_pack("{s:s,s:o}", "event", event, "data", data ? data : json_object());
    char *txt = NULL;
    frame *f = NULL;
    int rc = -1;

    if (j == NULL || w->closed)
        goto done;
    if (want_id) {
        snprintf(id, 16, "c%u", ++w->next_id);
        json_object_set_new(j, "id", json_string(id));
    }
    if ((txt = json_dumps(j, JSON_COMPACT)) == NULL)
        goto done;
    size_t len = strlen(txt);
    if ((f = malloc(sizeof *f + LWS_PRE + len)) == NULL)
        goto done;
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, txt, len);
    if (w->tail != NULL)
        w->tail->next = f;
    else
        w->head = f;
    w->tail = f;
    if (w->wsi != NULL)
        lws_callback_on_writable(w->wsi);
    rc = 0;
done:
    free(txt);
    json_decref(j);
    return rc;
}

int ws_run(ws_conn *w)
{
    w->stop = 0;
    while (!w->stop && !w->closed)
        lws_service(w->ctx, 0);
    return w->closed ? -1 : 0;
}

void ws_stop(ws_conn *w) { w->stop = 1; }

int ws_close_code(const ws_conn *w) { return w->close_code; }

void ws_close(ws_conn *w, int flush_ms)
{
    if (w == NULL)
        return;
    if (w->ctx != NULL) {
        uint64_t end = now_ms() + (uint64_t)flush_ms;
        while (w->head != NULL && !w->closed && now_ms() < end)
            lws_service(w->ctx, 0);
        lws_sul_cancel(&w->sul);
        lws_context_destroy(w->ctx);
    }
    while (w->head != NULL) {
        frame *f = w->head;
        w->head = f->next;
        free(f);
    }
    free(w->rx);
    free(w);
}
