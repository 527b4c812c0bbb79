/* /ws: upgrade checks (path and Origin), message reassembly with a size cap, and a bounded
 * outbound queue drained in LWS_CALLBACK_SERVER_WRITEABLE (the mosquitto pattern). */
#include "ws.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cors.h"
#include "headers.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

struct ws_frame {
	struct ws_frame *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE + payload */
};

struct ws_conn {
	struct lws *wsi;
	struct server *srv;
	char *rx;              /* message being reassembled */
	size_t rx_len;
	bool rx_binary, closing;
	struct ws_frame *head, *tail;
	size_t queued;
};

size_t ws_session_size(void)
{
	return sizeof(struct ws_conn);
}

int ws_send(struct ws_conn *c, const char *text, size_t len)
{
	struct ws_frame *f;

	if (c->closing)
		return -1;
	if (c->queued >= (size_t)c->srv->cfg->ws_max_queue) {
		c->closing = true;
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"slow reader", 11);
		lws_callback_on_writable(c->wsi);
		return -1;
	}
	f = malloc(sizeof(*f) + LWS_PRE + len);
	if (!f)
		abort();
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->queued++;
	lws_callback_on_writable(c->wsi);
	return 0;
}

static void ws_send_error(struct ws_conn *c, json_t *id, const char *code, const char *message)
{
	json_t *frame = json_pack("{s:s, s:{s:s, s:s}}", "event", "error", "data", "code", code,
				  "message", message);
	char *s;

	if (!frame)
		abort();
	if (id)
		json_object_set(frame, "id", id);
	s = json_dumps(frame, JSON_COMPACT);
	json_decref(frame);
	if (!s)
		abort();
	ws_send(c, s, strlen(s));
	free(s);
}

/* One complete text message. The messaging issue replaces this with the event dispatcher. */
static void ws_on_message(struct ws_conn *c, const char *msg, size_t len)
{
	json_t *root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *id = root ? json_object_get(root, "id") : NULL;

	if (!root || !json_is_object(root))
		ws_send_error(c, NULL, "invalid_json", "Frames are JSON objects.");
	else
		ws_send_error(c, json_is_string(id) ? id : NULL, "not_implemented",
			      "The messaging protocol is not available yet.");
	json_decref(root);
}

static int ws_on_receive(struct ws_conn *c, const void *in, size_t len)
{
	size_t max = (size_t)c->srv->cfg->ws_max_frame;
	char *nb;

	if (lws_frame_is_binary(c->wsi)) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
				 (unsigned char *)"text frames only", 16);
		return -1;
	}
	if (c->rx_len + len + lws_remaining_packet_payload(c->wsi) > max) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"message too large", 17);
		return -1;
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

static int ws_on_writeable(struct ws_conn *c)
{
	struct ws_frame *f = c->head;

	if (c->closing)
		return -1; /* the close reason was set where we decided to close */
	if (!f)
		return 0;
	if (lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	c->head = f->next;
	if (!c->head)
		c->tail = NULL;
	c->queued--;
	free(f);
	if (c->head)
		lws_callback_on_writable(c->wsi);
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

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		size_t len)
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
	case LWS_CALLBACK_ADD_HEADERS:
		return ws_add_headers(srv, in);
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->srv = srv;
		metrics_connection(srv->metrics, 0, 1);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return ws_on_receive(c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_on_writeable(c);
	case LWS_CALLBACK_CLOSED:
		ws_on_closed(c);
		return 0;
	default:
		return 0;
	}
}
