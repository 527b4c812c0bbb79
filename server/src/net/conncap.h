/* Open connections per client address, so that one address cannot take every socket and
 * header table (slowloris: more than 4,096 half-sent heads from one address stopped all new
 * clients). The loop thread counts each accepted socket against its peer address and
 * refuses one over the cap; trusted proxies are not capped (their clients are, by the proxy).
 * Loop thread only. */
#ifndef SOTTO_CONNCAP_H
#define SOTTO_CONNCAP_H

#include <stdbool.h>
#include <stddef.h>

struct conncap;
struct sockaddr;

/* A counter for descriptors 0..fd_max-1: at most max_total connections in all (so the
 * process keeps descriptors for its store, pipes and logs, and never reaches EMFILE in
 * accept(), where lws would spin), and at most max_per_ip per address (0: no per-address
 * cap). Aborts on out-of-memory; free with conncap_destroy. */
struct conncap *conncap_create(size_t fd_max, unsigned max_per_ip, size_t max_total);
void conncap_destroy(struct conncap *cc);

/* Counts socket fd against the address sa (AF_INET or AF_INET6). False, counting nothing, if
 * max_total are open, or that address already holds max_per_ip (unless exempt), or fd is
 * out of range. */
bool conncap_admit(struct conncap *cc, int fd, const struct sockaddr *sa, bool exempt);

/* The socket fd closed: its address's count goes down (no-op for a socket never admitted). */
void conncap_release(struct conncap *cc, int fd);

/* Connections counted for the address of an admitted fd (tests and metrics). */
unsigned conncap_count(const struct conncap *cc, int fd);

/* Connections counted in all. */
size_t conncap_total(const struct conncap *cc);

#endif
