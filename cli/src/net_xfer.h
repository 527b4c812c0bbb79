/* net_xfer.h: the file transfers of attachments (libcurl, blocking): tus requests whose
 * bodies come from a file descriptor and downloads written to one, in constant memory, with
 * the headers tus answers with (Location, Upload-Offset) and a progress callback. */
#ifndef SOTTO_CLI_NET_XFER_H
#define SOTTO_CLI_NET_XFER_H

#include <stdint.h>

typedef void (*xfer_progress_fn)(void *ctx, uint64_t now);

typedef struct xfer {
    /* the request */
    const char *method; /* "POST", "HEAD", "PATCH", "GET" */
    const char *url;
    const char *token;   /* Bearer */
    uint64_t upload_len; /* POST: Upload-Length */
    int in_fd;           /* PATCH: the body is in_len bytes of in_fd from in_off */
    uint64_t in_off, in_len;
    int out_fd;                /* GET: the body (200 or 206) is written at out_from of out_fd */
    uint64_t out_from;         /* and a Range from there is asked for when > 0 */
    xfer_progress_fn progress; /* bytes moved in this request so far (may be NULL) */
    void *progress_ctx;
    /* the answer */
    long status; /* 0: no response */
    char location[256];
    int has_offset;
    uint64_t offset; /* Upload-Offset */
    int write_failed;
} xfer;

/* Zeroes x and sets the descriptors to -1. */
void xfer_init(xfer *x, const char *method, const char *url, const char *token);
/* 0 when a response arrived (any status), -1 when the connection failed or broke. */
int xfer_run(xfer *x);

#endif
