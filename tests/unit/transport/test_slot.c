// SPDX-License-Identifier: MIT
/*
 * The shared call slot against the daemon's real poller (slot_poll.c) and
 * event loop, with a test's serve function in place of the session's: many
 * client threads, each with a slot of its own, make calls and post writes
 * with pauses long enough for the poller to go to sleep between some of
 * them, so that every waking path runs (spin, yield, futex, kick).  Every
 * reply must answer its own request, every posted write arrive once and in
 * order, and nothing may hang (the test's timeout).  Then the slot's rules
 * one by one: payload limits, a reply passed on the socket, a daemon that
 * goes away while a client sleeps.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/slot_poll.h"
#include "transport/channel.h"
#include "transport/slot.h"
#include "util/loop.h"

#define THREADS		8
#define CALLS		4000
#define POSTS_EVERY	7

struct client {
	struct slot_client sc;		/* the daemon's view */
	struct uvfio_slot_chan ch;	/* the client's view */
	int sock[2];			/* [0] client end, [1] daemon end */
	unsigned int id;
	uint64_t next_post;		/* daemon side: the value expected next */
	unsigned int posts_seen, bad;
};

static struct client clients[THREADS];
static int stop_fd = -1;

/* The "session": a request's payload is (id, i); the reply is (i, ~id). */
bool session_slot_serve(struct slot_client *sc)
{
	struct client *c = (struct client *)((char *)sc - offsetof(struct client, sc));
	struct uvfio_slot *s = sc->slot;
	uint32_t head = atomic_load(&s->c.post_head), seq;
	bool work = false;
	uint64_t in[2];

	for (; sc->post_tail != head; sc->post_tail++) {
		const struct uvfio_posted *p = &s->posted[sc->post_tail % UVFIO_SLOT_POSTED];
		uint64_t v;

		memcpy(&v, p->data, sizeof(v));
		if (p->file != c->id || v != c->next_post)
			c->bad++;
		c->next_post = v + 1;
		c->posts_seen++;
		work = true;
	}
	atomic_store(&s->d.post_tail, sc->post_tail);
	seq = atomic_load(&s->c.req_seq);
	if (seq == sc->seen)
		return work;
	sc->seen = seq;
	memcpy(in, uvfio_slot_data(s), sizeof(in));
	if (s->req.len != sizeof(in) || in[0] != c->id)
		c->bad++;
	s->rep = (struct uvfio_rep){ .ret = (int64_t)in[1], .len = sizeof(in) };
	s->rep_flags = 0;
	in[0] = in[1];
	in[1] = ~(uint64_t)c->id;
	memcpy(uvfio_slot_data(s), in, sizeof(in));
	uvfio_slot_complete(s, seq);
	return true;
}

static void stopped(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	uvfio_loop_stop();
}

static void *daemon_main(void *arg)
{
	(void)arg;
	uvfio_loop_run();
	return NULL;
}

static void client_init(struct client *c, unsigned int id)
{
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	memset(c, 0, sizeof(*c));
	c->id = id;
	assert_true(kick >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock), 0);
	int memfd = uvfio_slot_create(&c->sc.slot);

	assert_true(memfd >= 0);
	close(memfd);
	c->sc.kick = kick;
	c->ch = (struct uvfio_slot_chan){ .sock = c->sock[0], .kick = kick, .slot = c->sc.slot };
}

static void client_fini(struct client *c)
{
	close(c->sc.kick);
	close(c->sock[0]);
	close(c->sock[1]);
	uvfio_slot_destroy(c->sc.slot);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned int seed = c->id;
	uint64_t posted = 0;

	for (uint64_t i = 0; i < CALLS; i++) {
		uint64_t req[2] = { c->id, i }, rep[2] = { 0, 0 };
		struct uvfio_call call = {
			.req = { .op = UVFIO_OP_RW, .len = sizeof(req) },
			.payload = req, .rbuf = rep, .rbuf_cap = sizeof(rep),
		};

		if (i % POSTS_EVERY == 0) {
			/* a full ring makes the caller call instead: retry */
			while (!uvfio_slot_post(&c->ch, c->id, 0, &posted, sizeof(posted)))
				sched_yield();
			posted++;
		}
		if (uvfio_slot_call(&c->ch, &call) || call.rep.ret != (int64_t)i ||
		    rep[0] != i || rep[1] != ~(uint64_t)c->id)
			return (void *)1;
		/* now and then long enough for the poller to go to sleep */
		if (rand_r(&seed) % 64 == 0)
			usleep(rand_r(&seed) % 400);
	}
	/* the last posts are performed before the daemon stops */
	while (uvfio_slot_posted_pending(&c->ch))
		sched_yield();
	c->next_post = posted;	/* read only after the join */
	return NULL;
}

static void run_race(unsigned int window_us)
{
	pthread_t daemon, threads[THREADS];
	uint64_t posted[THREADS];

	assert_int_equal(uvfio_loop_init(), 0);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(uvfio_loop_watch(stop_fd, EPOLLIN, stopped, NULL), 0);
	slot_poll_setup(window_us);
	for (unsigned int i = 0; i < THREADS; i++) {
		client_init(&clients[i], i + 1);
		assert_int_equal(slot_client_add(&clients[i].sc), 0);
	}
	assert_int_equal(pthread_create(&daemon, NULL, daemon_main, NULL), 0);
	for (unsigned int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, client_main, &clients[i]), 0);
	for (unsigned int i = 0; i < THREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(threads[i], &ret), 0);
		assert_null(ret);
	}
	/* The threads are done: what the daemon thread saw is final once it
	 * stopped.  Each thread's expected count was parked in next_post. */
	for (unsigned int i = 0; i < THREADS; i++)
		posted[i] = clients[i].next_post;
	eventfd_write(stop_fd, 1);
	assert_int_equal(pthread_join(daemon, NULL), 0);
	for (unsigned int i = 0; i < THREADS; i++) {
		struct client *c = &clients[i];

		assert_int_equal(c->bad, 0);
		assert_int_equal(c->posts_seen, posted[i]);
		slot_client_del(&c->sc);
		client_fini(c);
	}
	uvfio_loop_unwatch(stop_fd);
	close(stop_fd);
	uvfio_loop_fini();
}

static void test_race_polling(void **state)
{
	(void)state;
	run_race(SLOT_POLL_US_DEFAULT);
}

static void test_race_no_polling(void **state)
{
	(void)state;
	run_race(0);
}

/* ---- single calls against a hand-driven daemon side ---- */

struct manual {
	struct client c;
	pthread_t thread;
	struct uvfio_call call;
	int err;
};

static void *manual_call(void *arg)
{
	struct manual *m = arg;

	m->err = uvfio_slot_call(&m->c.ch, &m->call);
	return NULL;
}

/* Waits (bounded) for the client to publish request seq. */
static void await_request(struct manual *m, uint32_t seq)
{
	for (int i = 0; i < 5000 && atomic_load(&m->c.sc.slot->c.req_seq) != seq; i++)
		usleep(200);
	assert_int_equal(atomic_load(&m->c.sc.slot->c.req_seq), seq);
}

static void test_payload_rules(void **state)
{
	struct manual m = { 0 };
	uint8_t rep[4];
	int fd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	client_init(&m.c, 1);
	/* a request passing a descriptor goes on the socket: the "daemon"
	 * end sees it there, and nothing in the slot */
	m.call = (struct uvfio_call){ .req = { .op = UVFIO_OP_IOCTL }, .fds = &fd, .nfds = 1 };
	assert_int_equal(pthread_create(&m.thread, NULL, manual_call, &m), 0);
	{
		struct pollfd p = { .fd = m.c.sock[1], .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
	}
	close(m.c.sock[1]);	/* no answer: the client sees the hang-up */
	m.c.sock[1] = -1;
	assert_int_equal(pthread_join(m.thread, NULL), 0);
	assert_true(m.err < 0);
	assert_int_equal(atomic_load(&m.c.sc.slot->c.req_seq), 0);
	close(fd);
	close(m.c.sock[0]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, m.c.sock), 0);
	m.c.ch.sock = m.c.sock[0];

	/* a reply longer than the caller's buffer is a protocol error */
	m.call = (struct uvfio_call){ .req = { .op = UVFIO_OP_RW }, .rbuf = rep,
				      .rbuf_cap = sizeof(rep) };
	assert_int_equal(pthread_create(&m.thread, NULL, manual_call, &m), 0);
	await_request(&m, 1);
	m.c.sc.slot->rep = (struct uvfio_rep){ .len = sizeof(rep) + 1 };
	uvfio_slot_complete(m.c.sc.slot, 1);
	assert_int_equal(pthread_join(m.thread, NULL), 0);
	assert_int_equal(m.err, -EPROTO);

	/* a reply announced as waiting on the socket is read from there */
	m.call = (struct uvfio_call){ .req = { .op = UVFIO_OP_RW }, .rbuf = rep,
				      .rbuf_cap = sizeof(rep) };
	assert_int_equal(pthread_create(&m.thread, NULL, manual_call, &m), 0);
	await_request(&m, 2);
	{
		struct uvfio_rep r = { .ret = 42, .len = 2 };

		assert_int_equal(uvfio_chan_reply(m.c.sock[1], &r, "ok", -1), 0);
	}
	m.c.sc.slot->rep_flags = UVFIO_SLOT_REP_SOCKET;
	uvfio_slot_complete(m.c.sc.slot, 2);
	assert_int_equal(pthread_join(m.thread, NULL), 0);
	assert_int_equal(m.err, 0);
	assert_int_equal(m.call.rep.ret, 42);
	assert_memory_equal(rep, "ok", 2);

	/* a daemon that goes away while the client sleeps on the futex: the
	 * client notices within its check interval */
	m.c.sc.slot->rep_flags = 0;
	m.call = (struct uvfio_call){ .req = { .op = UVFIO_OP_RW } };
	assert_int_equal(pthread_create(&m.thread, NULL, manual_call, &m), 0);
	await_request(&m, 3);
	close(m.c.sock[1]);
	m.c.sock[1] = -1;
	assert_int_equal(pthread_join(m.thread, NULL), 0);
	assert_int_equal(m.err, -ECONNRESET);
	client_fini(&m.c);
}

/* The ring holds UVFIO_SLOT_POSTED writes; past that, posting fails until
 * the daemon catches up, and a write wider than 8 bytes is refused. */
static void test_post_ring(void **state)
{
	struct client c;
	uint64_t v = 0, wide[2] = { 0, 0 };

	(void)state;
	client_init(&c, 1);
	for (unsigned int i = 0; i < UVFIO_SLOT_POSTED; i++, v++)
		assert_true(uvfio_slot_post(&c.ch, 1, 0, &v, sizeof(v)));
	assert_false(uvfio_slot_post(&c.ch, 1, 0, &v, sizeof(v)));
	assert_true(uvfio_slot_posted_pending(&c.ch));
	atomic_store(&c.sc.slot->d.post_tail, 1);
	assert_true(uvfio_slot_post(&c.ch, 1, 0, &v, sizeof(v)));
	atomic_store(&c.sc.slot->d.post_tail, UVFIO_SLOT_POSTED + 1);
	assert_false(uvfio_slot_posted_pending(&c.ch));
	assert_false(uvfio_slot_post(&c.ch, 1, 0, wide, sizeof(wide)));
	client_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_race_polling),
		cmocka_unit_test(test_race_no_polling),
		cmocka_unit_test(test_payload_rules),
		cmocka_unit_test(test_post_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
