/* Per-address connection counts: an open-addressing table (linear probing, backward-shift
 * deletion, so no tombstones) of 16-byte addresses with their counts, sized for every
 * descriptor to hold a distinct address at a load of at most one half, and a per-descriptor
 * note of the slot's address so a close needs no address. */
#include "conncap.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

struct cc_entry {
	uint8_t addr[16];
	unsigned count; /* 0: empty slot */
};

struct cc_fd {
	uint8_t addr[16];
	bool counted;  /* in total */
	bool per_ip;   /* and in its address's count */
};

struct conncap {
	unsigned max_per_ip;
	size_t fd_max, mask, max_total, total;
	struct cc_entry *table;
	struct cc_fd *fds;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

struct conncap *conncap_create(size_t fd_max, unsigned max_per_ip, size_t max_total)
{
	struct conncap *cc = calloc(1, sizeof(*cc));
	size_t size = 16;

	if (!cc)
		abort();
	cc->max_per_ip = max_per_ip;
	cc->fd_max = fd_max;
	cc->max_total = max_total;
	cc->fds = calloc(fd_max ? fd_max : 1, sizeof(*cc->fds));
	if (!cc->fds)
		abort();
	if (!max_per_ip)
		return cc;
	while (size < 2 * fd_max)
		size <<= 1;
	cc->mask = size - 1;
	cc->table = calloc(size, sizeof(*cc->table));
	if (!cc->table)
		abort();
	/* A keyed hash: a client cannot choose addresses that collide into one long run. */
	randombytes_buf(cc->key, sizeof(cc->key));
	return cc;
}

void conncap_destroy(struct conncap *cc)
{
	if (!cc)
		return;
	free(cc->table);
	free(cc->fds);
	free(cc);
}

/* IPv4 as IPv4-mapped IPv6, so both families share one key space. */
static bool cc_key(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static size_t cc_home(const struct conncap *cc, const uint8_t addr[16])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, addr, 16, cc->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & cc->mask;
}

/* The slot holding addr, or the empty slot where it would go. */
static size_t cc_find(const struct conncap *cc, const uint8_t addr[16])
{
	size_t i = cc_home(cc, addr);

	while (cc->table[i].count && memcmp(cc->table[i].addr, addr, 16))
		i = (i + 1) & cc->mask;
	return i;
}

bool conncap_admit(struct conncap *cc, int fd, const struct sockaddr *sa, bool exempt)
{
	uint8_t addr[16];
	size_t i = 0;

	if (fd < 0 || (size_t)fd >= cc->fd_max || !cc_key(sa, addr))
		return false;
	if (cc->fds[fd].counted) /* a descriptor reused before its close was seen */
		conncap_release(cc, fd);
	if (cc->total >= cc->max_total)
		return false;
	if (cc->max_per_ip && !exempt) {
		i = cc_find(cc, addr);
		if (cc->table[i].count >= cc->max_per_ip)
			return false;
		if (!cc->table[i].count)
			memcpy(cc->table[i].addr, addr, 16);
		cc->table[i].count++;
	}
	memcpy(cc->fds[fd].addr, addr, 16);
	cc->fds[fd].counted = true;
	cc->fds[fd].per_ip = cc->max_per_ip && !exempt;
	cc->total++;
	return true;
}

/* Empties slot i and moves later entries of its run back, so lookups never stop early. */
static void cc_remove_slot(struct conncap *cc, size_t i)
{
	size_t j = i;

	cc->table[i].count = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & cc->mask;
		if (!cc->table[j].count)
			return;
		home = cc_home(cc, cc->table[j].addr);
		/* Entry j may move to i if its home is not in the cyclic range (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			cc->table[i] = cc->table[j];
			cc->table[j].count = 0;
			i = j;
		}
	}
}

void conncap_release(struct conncap *cc, int fd)
{
	size_t i;

	if (fd < 0 || (size_t)fd >= cc->fd_max || !cc->fds[fd].counted)
		return;
	cc->fds[fd].counted = false;
	cc->total--;
	if (!cc->fds[fd].per_ip)
		return;
	cc->fds[fd].per_ip = false;
	i = cc_find(cc, cc->fds[fd].addr);
	if (!cc->table[i].count)
		return;
	if (--cc->table[i].count == 0)
		cc_remove_slot(cc, i);
}

unsigned conncap_count(const struct conncap *cc, int fd)
{
	if (fd < 0 || (size_t)fd >= cc->fd_max || !cc->fds[fd].per_ip)
		return 0;
	return cc->table[cc_find(cc, cc->fds[fd].addr)].count;
}

size_t conncap_total(const struct conncap *cc)
{
	return cc->total;
}
