/* SPDX-License-Identifier: MIT */
/*
 * When the daemon looks at shared call slots (src/transport/slot.h): it polls
 * every slot for a while after work (the poll window), and otherwise sleeps
 * in epoll until a client kicks it.  It spins only while the client it last
 * served runs on another CPU; finding itself on that client's CPU it moves
 * to another one its affinity allows (never the client), or else sleeps.
 */
#ifndef UVFIO_DAEMON_SLOT_POLL_H
#define UVFIO_DAEMON_SLOT_POLL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "transport/slot.h"

struct slot_client {
	struct uvfio_slot *slot;
	int kick;			/* eventfd the client writes to wake us */
	uint32_t seen;			/* last request served */
	uint32_t post_tail;		/* posted writes performed */
	bool blocked;			/* its session takes no request now */
	LIST_ENTRY(slot_client) link;
};

/* Poll window in microseconds (0: never poll, sleep after every call). */
#define SLOT_POLL_US_DEFAULT	200
void slot_poll_setup(unsigned int window_us);
int slot_client_add(struct slot_client *sc);
void slot_client_del(struct slot_client *sc);
/* Something may be waiting in sc (it was blocked): look at it soon. */
void slot_poll_wake(void);

/* Has the client put anything in the slot that we have not taken? */
static inline bool slot_client_pending(const struct slot_client *sc)
{
	return (!sc->blocked && atomic_load(&sc->slot->c.req_seq) != sc->seen) ||
	       atomic_load(&sc->slot->c.post_head) != sc->post_tail;
}

/* session.c: serves what sc's slot holds (posted writes, then at most one
 * request).  True if there was work. */
bool session_slot_serve(struct slot_client *sc);

#endif
