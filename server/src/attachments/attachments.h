/* Attachments (issue 19, api.md "Attachments"): encrypted files uploaded with the tus 1.0.0
 * resumable-upload protocol (core, creation, termination, expiration) under /api/attachments
 * and downloaded with Range. The server keeps opaque ciphertext in the blob store
 * (blobs/blobs.h) and a row per upload (store/attachments.h); it never sees a name, a type or
 * a key. Memory stays constant per transfer: a PATCH body goes to the blob store in bounded
 * pieces as it arrives, a download is read in bounded pieces as the socket takes them.
 *
 * Public part, for the composition root (routes.c, main.c). Loop thread. */
#ifndef SOTTO_ATTACHMENTS_H
#define SOTTO_ATTACHMENTS_H

struct server;

/* Creates the attachments room when srv has a blob store (not for `sottod --routes`: the
 * handlers are registered, never called), starts its expiry sweep and registers its routes.
 * 0, or -1. */
int attachments_routes(struct server *srv);

/* Stops the sweep (before the pool stops), then frees the room (after it). */
void attachments_stop(struct server *srv);
void attachments_destroy(struct server *srv);

#endif
