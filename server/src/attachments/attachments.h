/* Attachments (issue 19, api.md "Attachments"): encrypted files uploaded with the tus 1.0.0
 * resumable-upload protocol (core, creation, termination, expiration) under /api/attachments
 * and downloaded with Range. The server keeps opaque ciphertext in the blob store
 * (blobs/blobs.h) and a row per upload (store/attachments.h); it never sees a name, a type or
 * a key. Memory stays constant per transfer: a PATCH body goes to the blob store in bounded
 * pieces as it arrives, a download is read in bounded pieces as the socket takes them.
 *
 * Public part, for the composition root (routes.c, main.c; loop thread) and for the rooms
 * whose transactions delete attachment rows (a worker). */
#ifndef SOTTO_ATTACHMENTS_H
#define SOTTO_ATTACHMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct server;

/* Creates the attachments room when srv has a blob store (not for `sottod --routes`: the
 * handlers are registered, never called), starts its expiry sweep and registers its routes.
 * 0, or -1. */
int attachments_routes(struct server *srv);

/* Stops the sweep (before the pool stops), then frees the room (after it). */
void attachments_stop(struct server *srv);
void attachments_destroy(struct server *srv);

/* Removes the blobs of ids[0..n) once the transaction that deleted their rows has committed
 * (a message's deletion, an account's): rows first, blobs after, so a crash between leaves
 * blobs no row names, which the reconciliation at the next start removes (reconcile.c), and
 * never a row without its bytes. On the worker that committed: blob I/O never runs on the
 * loop thread. */
void attachments_blobs_remove(struct server *srv, const char (*ids)[STORE_ID_SIZE], size_t n);

/* The room's counters since start, for /metrics (routes.c wires them): ciphertext bytes
 * received and sent, uploads being written now, blob store errors. Loop thread. */
void attachments_metrics(void *arg, uint64_t *bytes_in, uint64_t *bytes_out, uint64_t *uploads,
                         uint64_t *store_errors);

#endif
