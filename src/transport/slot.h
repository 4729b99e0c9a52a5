/* SPDX-License-Identifier: MIT */
/*
 * The shared call slot: the second implementation of "one call", beside the
 * socket (channel.h).  Each call channel may carry one slot, a memfd the
 * daemon creates at HELLO and both sides map: one request and one reply at a
 * time, sequence-numbered, with the payloads in a data area, and a ring of
 * posted BAR writes.  A call that passes descriptors goes on the socket; a
 * reply that passes one is announced in the slot and sent on the socket.
 *
 * Waiting is adaptive on both sides.  The daemon polls active slots for a
 * while after work and otherwise sleeps in epoll; a client that finds it
 * asleep kicks it once through an eventfd of the channel.  Each side spins
 * only while the other runs on another CPU, otherwise it sleeps on a futex in
 * the slot, and the waker wakes only a sleeper.
 *
 * The client may write anything to the slot at any time: the daemon copies a
 * request out before it looks at it and never waits on what it finds.
 */
#ifndef UVFIO_TRANSPORT_SLOT_H
#define UVFIO_TRANSPORT_SLOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "wire.h"

#define UVFIO_SLOT_POSTED	64	/* ring entries; a power of two */
#define UVFIO_SLOT_DATA_OFF	4096u
#define UVFIO_SLOT_DATA		UVFIO_MAX_PAYLOAD
#define UVFIO_SLOT_SIZE		(UVFIO_SLOT_DATA_OFF + UVFIO_SLOT_DATA)

/* One posted write: performed in ring order, before any later call. */
struct uvfio_posted {
	uint64_t file;			/* token */
	uint64_t offset;
	uint32_t len;			/* 1, 2, 4 or 8 */
	uint32_t pad;
	uint8_t data[8];
};

/* Reply flags (uvfio_slot.rep_flags). */
#define UVFIO_SLOT_REP_SOCKET	(1u << 0)	/* the reply waits on the socket */

struct uvfio_slot {
	/* written by the client */
	struct {
		_Atomic uint32_t req_seq;	/* bumped when a request is ready */
		_Atomic uint32_t sleeping;	/* waits on rep_seq's futex */
		_Atomic int32_t cpu;		/* where the client runs */
		_Atomic uint32_t post_head;	/* posted writes queued */
	} __attribute__((aligned(64))) c;
	/* written by the daemon */
	struct {
		_Atomic uint32_t rep_seq;	/* = req_seq when answered; futex */
		_Atomic uint32_t awake;		/* will look again without a kick */
		_Atomic int32_t cpu;		/* where the daemon runs */
		_Atomic uint32_t post_tail;	/* posted writes performed */
	} __attribute__((aligned(64))) d;
	struct uvfio_req req __attribute__((aligned(64)));
	struct uvfio_rep rep __attribute__((aligned(64)));
	uint32_t rep_flags;
	struct uvfio_posted posted[UVFIO_SLOT_POSTED] __attribute__((aligned(64)));
};

_Static_assert(sizeof(struct uvfio_slot) <= UVFIO_SLOT_DATA_OFF, "slot header fits a page");

static inline uint8_t *uvfio_slot_data(struct uvfio_slot *s)
{
	return (uint8_t *)s + UVFIO_SLOT_DATA_OFF;
}

/* ---- client side ---- */

struct uvfio_slot_chan {
	int sock;			/* the channel's socket */
	int kick;			/* eventfd the daemon watches */
	struct uvfio_slot *slot;	/* NULL: socket only */
	/* Copies between the slot and the caller's buffers, which may be
	 * bad: 0 or -EFAULT.  NULL: memcpy. */
	int (*copy)(void *dst, const void *src, size_t n);
};

/* One call: on the slot when the request passes no descriptors, else on the
 * socket.  Same contract as uvfio_chan_call(). */
int uvfio_slot_call(struct uvfio_slot_chan *ch, struct uvfio_call *call);

/* Queues a posted write; false when the ring is full (make a call: the
 * daemon performs queued writes before any call). */
bool uvfio_slot_post(struct uvfio_slot_chan *ch, uint64_t file, uint64_t offset,
		     const void *data, uint32_t len);
/* Posted writes not yet performed. */
bool uvfio_slot_posted_pending(const struct uvfio_slot_chan *ch);

/* ---- daemon side ---- */

/* Creates a slot memfd and maps it.  The memfd (or -errno) is returned. */
int uvfio_slot_create(struct uvfio_slot **slot);
void uvfio_slot_destroy(struct uvfio_slot *slot);

/* Tells the client the reply is ready and wakes it if it sleeps. */
void uvfio_slot_complete(struct uvfio_slot *slot, uint32_t seq);

#endif
