// SPDX-License-Identifier: MIT
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long a client spins for a daemon that runs on another CPU before it
 * sleeps (the daemon may be busy with another client's long call). */
#define SPIN_NS			50000
/* How often a sleeping client checks that the daemon is still there. */
#define SLEEP_CHECK_MS		200

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Shared (not private) futexes: the two sides are different processes. */
static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static int copy(const struct uvfio_slot_chan *ch, void *dst, const void *src, size_t n)
{
	if (ch->copy)
		return ch->copy(dst, src, n);
	memcpy(dst, src, n);
	return 0;
}

/* The daemon sleeps: one kick wakes it (it then polls every slot).  True if
 * it was kicked. */
static bool kick(const struct uvfio_slot_chan *ch)
{
	if (atomic_load(&ch->slot->d.awake))
		return false;
	eventfd_write(ch->kick, 1);
	return true;
}

/* A sleeping client looks now and then whether the daemon went away. */
static int daemon_gone(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) ? -ECONNRESET : 0;
}

/* Waits until rep_seq reaches seq.  While the daemon is awake: on another
 * CPU spin; on ours yield to it (it moves away if it can, else it goes to
 * sleep and says so).  Having just kicked it awake, yield while it wakes up
 * (sleeping would cost a second wake-up).  Each for at most SPIN_NS, then
 * sleep on the futex. */
static int wait_reply(const struct uvfio_slot_chan *ch, uint32_t seq, bool kicked)
{
	struct uvfio_slot *s = ch->slot;
	const struct timespec check = { .tv_nsec = SLEEP_CHECK_MS * 1000000L };
	uint64_t spin_end = kicked ? mono_ns() + SPIN_NS : 0;
	unsigned int n = 0;

	for (;;) {
		uint32_t cur = atomic_load_explicit(&s->d.rep_seq, memory_order_acquire);
		bool awake = atomic_load_explicit(&s->d.awake, memory_order_relaxed);

		if (cur == seq)
			return 0;
		if (awake || kicked) {
			if (!spin_end)
				spin_end = mono_ns() + SPIN_NS;
			if ((++n & 63) || mono_ns() < spin_end) {
				if (!awake || atomic_load_explicit(&s->d.cpu, memory_order_relaxed) ==
						      sched_getcpu())
					sched_yield();
				else
					cpu_relax();
				continue;
			}
		}
		kicked = false;
		/* Dekker with the daemon's store of rep_seq then load of
		 * sleeping: one of the two sees the other. */
		atomic_store(&s->c.sleeping, 1);
		cur = atomic_load(&s->d.rep_seq);
		if (cur != seq && futex(&s->d.rep_seq, FUTEX_WAIT, cur, &check) < 0 &&
		    errno == ETIMEDOUT) {
			int err = daemon_gone(ch->sock);

			if (err) {
				atomic_store(&s->c.sleeping, 0);
				return err;
			}
		}
		atomic_store(&s->c.sleeping, 0);
		spin_end = 0;
	}
}

int uvfio_slot_call(struct uvfio_slot_chan *ch, struct uvfio_call *call)
{
	struct uvfio_slot *s = ch->slot;
	uint8_t *data;
	uint32_t seq;
	int err;

	if (!s || call->nfds || call->req.len > UVFIO_SLOT_DATA)
		return uvfio_chan_call(ch->sock, call);
	data = uvfio_slot_data(s);
	call->req.magic = UVFIO_WIRE_MAGIC;
	call->rfd = -1;
	if (call->req.len && copy(ch, data, call->payload, call->req.len))
		return -EFAULT;
	s->req = call->req;
	atomic_store_explicit(&s->c.cpu, sched_getcpu(), memory_order_relaxed);
	seq = atomic_load_explicit(&s->c.req_seq, memory_order_relaxed) + 1;
	atomic_store(&s->c.req_seq, seq);
	err = wait_reply(ch, seq, kick(ch));
	if (err)
		return err;
	if (s->rep_flags & UVFIO_SLOT_REP_SOCKET)
		return uvfio_chan_recv_reply(ch->sock, call);
	call->rep = s->rep;
	if (call->rep.len > call->rbuf_cap || call->rep.len > UVFIO_SLOT_DATA)
		return -EPROTO;
	if (call->rep.len && copy(ch, call->rbuf, data, call->rep.len))
		return -EFAULT;
	return 0;
}

bool uvfio_slot_post(struct uvfio_slot_chan *ch, uint64_t file, uint64_t offset,
		     const void *data, uint32_t len)
{
	struct uvfio_slot *s = ch->slot;
	uint32_t head = atomic_load_explicit(&s->c.post_head, memory_order_relaxed);
	struct uvfio_posted *p;

	if (head - atomic_load_explicit(&s->d.post_tail, memory_order_acquire) >=
	    UVFIO_SLOT_POSTED || len > sizeof(p->data))
		return false;
	p = &s->posted[head % UVFIO_SLOT_POSTED];
	p->file = file;
	p->offset = offset;
	p->len = len;
	memcpy(p->data, data, len);
	atomic_store(&s->c.post_head, head + 1);
	kick(ch);
	return true;
}

bool uvfio_slot_posted_pending(const struct uvfio_slot_chan *ch)
{
	const struct uvfio_slot *s = ch->slot;

	return s && atomic_load(&s->c.post_head) != atomic_load(&s->d.post_tail);
}

int uvfio_slot_create(struct uvfio_slot **slot)
{
	int fd = memfd_create("uvfio-slot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0)
		return -errno;
	/* The client cannot shrink it under the daemon (SIGBUS). */
	if (ftruncate(fd, UVFIO_SLOT_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	p = mmap(NULL, UVFIO_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return err;
	}
	*slot = p;
	return fd;
}

void uvfio_slot_destroy(struct uvfio_slot *slot)
{
	if (slot)
		munmap(slot, UVFIO_SLOT_SIZE);
}

void uvfio_slot_complete(struct uvfio_slot *slot, uint32_t seq)
{
	atomic_store(&slot->d.rep_seq, seq);
	if (atomic_load(&slot->c.sleeping))
		futex(&slot->d.rep_seq, FUTEX_WAKE, 1, NULL);
}
