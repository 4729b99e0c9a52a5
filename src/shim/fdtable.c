// SPDX-License-Identifier: MIT
/*
 * fd -> uvfio file.  Every read(), close() and ioctl() of the program asks
 * this table first, so a lookup of a descriptor that was never ours must be
 * one atomic load: the table is a fixed directory of lazily allocated chunks,
 * and a chunk exists only once one of its descriptors was ours.
 *
 * Lookups take no lock.  A lookup racing a close or dup2 of the same
 * descriptor is a race in the program too; the worst it sees here is a stale
 * token, which the daemon answers with an error.
 */
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define CHUNK_SHIFT	10
#define CHUNK_SIZE	(1u << CHUNK_SHIFT)
#define NCHUNKS		4096u		/* 4M descriptors */

struct slot {
	_Atomic uint64_t token;
	_Atomic uint32_t type;
	_Atomic int32_t minor;
};

static struct slot *_Atomic chunks[NCHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *slot_of(int fd)
{
	struct slot *c;

	if (fd < 0 || (unsigned int)fd >> CHUNK_SHIFT >= NCHUNKS)
		return NULL;
	c = atomic_load_explicit(&chunks[(unsigned int)fd >> CHUNK_SHIFT], memory_order_acquire);
	return c ? &c[fd & (CHUNK_SIZE - 1)] : NULL;
}

bool shim_fd_get(int fd, struct shim_fd *out)
{
	struct slot *s = slot_of(fd);
	uint32_t type;

	if (!s)
		return false;
	type = atomic_load_explicit(&s->type, memory_order_acquire);
	if (!type)
		return false;
	out->type = type;
	out->token = atomic_load_explicit(&s->token, memory_order_relaxed);
	out->minor = atomic_load_explicit(&s->minor, memory_order_relaxed);
	return true;
}

int shim_fd_set(int fd, const struct shim_fd *ent)
{
	unsigned int ci = (unsigned int)fd >> CHUNK_SHIFT;
	struct slot *s;

	if (fd < 0 || ci >= NCHUNKS)
		return -EMFILE;
	pthread_mutex_lock(&table_lock);
	if (!atomic_load_explicit(&chunks[ci], memory_order_relaxed)) {
		struct slot *c = calloc(CHUNK_SIZE, sizeof(*c));

		if (!c) {
			pthread_mutex_unlock(&table_lock);
			return -ENOMEM;
		}
		atomic_store_explicit(&chunks[ci], c, memory_order_release);
	}
	s = slot_of(fd);
	atomic_store_explicit(&s->token, ent->token, memory_order_relaxed);
	atomic_store_explicit(&s->minor, ent->minor, memory_order_relaxed);
	atomic_store_explicit(&s->type, ent->type, memory_order_release);
	pthread_mutex_unlock(&table_lock);
	return 0;
}

struct shim_fd shim_fd_take(int fd)
{
	struct shim_fd ent = { 0 };
	struct slot *s = slot_of(fd);

	if (!s || !atomic_load_explicit(&s->type, memory_order_relaxed))
		return ent;
	pthread_mutex_lock(&table_lock);
	ent.type = atomic_exchange_explicit(&s->type, 0, memory_order_acq_rel);
	ent.token = atomic_load_explicit(&s->token, memory_order_relaxed);
	ent.minor = atomic_load_explicit(&s->minor, memory_order_relaxed);
	pthread_mutex_unlock(&table_lock);
	return ent;
}

void shim_fd_each(unsigned int lo, unsigned int hi,
		  void (*fn)(int fd, const struct shim_fd *ent, void *ctx), void *ctx)
{
	unsigned int ci;

	if (lo > hi)
		return;
	for (ci = lo >> CHUNK_SHIFT; ci < NCHUNKS && ci <= hi >> CHUNK_SHIFT; ci++) {
		struct slot *c = atomic_load_explicit(&chunks[ci], memory_order_acquire);
		unsigned int first, last, i;

		if (!c)
			continue;
		first = ci == lo >> CHUNK_SHIFT ? lo & (CHUNK_SIZE - 1) : 0;
		last = ci == hi >> CHUNK_SHIFT ? hi & (CHUNK_SIZE - 1) : CHUNK_SIZE - 1;
		for (i = first; i <= last; i++) {
			struct shim_fd ent;
			int fd = (int)((ci << CHUNK_SHIFT) | i);

			if (shim_fd_get(fd, &ent))
				fn(fd, &ent, ctx);
		}
	}
}
