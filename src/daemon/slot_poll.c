// SPDX-License-Identifier: MIT
#include "slot_poll.h"

#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util/loop.h"

/* How long one turn of polling keeps the loop from looking at epoll (the
 * sockets and timers wait at most this long while we poll). */
#define TURN_NS		20000

static LIST_HEAD(, slot_client) clients = LIST_HEAD_INITIALIZER(clients);
static uint64_t window_ns = SLOT_POLL_US_DEFAULT * 1000ull;
static bool active;			/* polling, not asleep in epoll */
static uint64_t last_work;
static cpu_set_t client_cpus;		/* where the clients of the last pass with
					 * work ran */
static int my_cpu = -1;			/* as published in the slots */
static cpu_set_t allowed;		/* our affinity at start */
static bool can_move;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void set_awake(bool awake)
{
	struct slot_client *sc;

	LIST_FOREACH(sc, &clients, link)
		atomic_store(&sc->slot->d.awake, awake);
}

static void publish_cpu(int cpu)
{
	struct slot_client *sc;

	my_cpu = cpu;
	LIST_FOREACH(sc, &clients, link)
		atomic_store_explicit(&sc->slot->d.cpu, cpu, memory_order_relaxed);
}

/* Spinning is only worth it while the clients run elsewhere; on a client's
 * CPU we would keep it from running.  Then move to a CPU of our affinity
 * where none of them runs; if there is none (many clients), stay and share:
 * the clients on our CPU yield to us.  If we may not move, stop polling. */
static bool may_spin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set, busy;

	if (cpu != my_cpu)
		publish_cpu(cpu);
	if (cpu < 0 || !CPU_ISSET(cpu, &client_cpus))
		return true;
	if (!can_move)
		return false;
	CPU_AND(&busy, &allowed, &client_cpus);
	CPU_XOR(&set, &allowed, &busy);		/* allowed, less the clients' */
	if (!CPU_COUNT(&set))
		return true;
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return false;
	publish_cpu(sched_getcpu());
	return !CPU_ISSET(my_cpu, &client_cpus);
}

/* Going to sleep: clear the awake flags, then look once more (a client that
 * saw the flag set before we cleared it did not kick).  False if work came. */
static bool try_sleep(void)
{
	struct slot_client *sc;

	set_awake(false);
	atomic_thread_fence(memory_order_seq_cst);
	LIST_FOREACH(sc, &clients, link) {
		if (slot_client_pending(sc)) {
			set_awake(true);
			return false;
		}
	}
	active = false;
	return true;
}

/* One pass over every slot; true if any had work. */
static bool serve_all(void)
{
	struct slot_client *sc, *next;
	bool work = false, any = false;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	for (sc = LIST_FIRST(&clients); sc; sc = next) {
		int cpu;

		next = LIST_NEXT(sc, link);
		if (!slot_client_pending(sc))
			continue;
		cpu = atomic_load_explicit(&sc->slot->c.cpu, memory_order_relaxed);
		any = true;
		if (cpu >= 0 && cpu < CPU_SETSIZE)
			CPU_SET(cpu, &cpus);
		work |= session_slot_serve(sc);
	}
	if (any)
		client_cpus = cpus;
	return work;
}

static bool poll_turn(void)
{
	uint64_t start, now;

	if (!active)
		return false;
	start = mono_ns();
	for (;;) {
		if (serve_all())
			last_work = mono_ns();
		now = mono_ns();
		if (now - last_work >= window_ns || !may_spin()) {
			if (try_sleep())
				return false;
			continue;
		}
		if (now - start >= TURN_NS)
			return true;
		cpu_relax();
	}
}

void slot_poll_wake(void)
{
	if (!active) {
		active = true;
		set_awake(true);
	}
	last_work = mono_ns();
}

static void kicked(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	slot_poll_wake();
}

void slot_poll_setup(unsigned int window_us)
{
	window_ns = (uint64_t)window_us * 1000;
	can_move = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 &&
		   CPU_COUNT(&allowed) > 1;
}

int slot_client_add(struct slot_client *sc)
{
	/* Edge-triggered: every write to the eventfd is an event, so the
	 * daemon never reads it (and never waits on what the client holds). */
	int err = uvfio_loop_watch(sc->kick, EPOLLIN | EPOLLET, kicked, sc);

	if (err)
		return err;
	uvfio_loop_set_poll(poll_turn);
	atomic_store(&sc->slot->d.cpu, my_cpu);
	atomic_store(&sc->slot->d.awake, active);
	LIST_INSERT_HEAD(&clients, sc, link);
	return 0;
}

void slot_client_del(struct slot_client *sc)
{
	uvfio_loop_unwatch(sc->kick);
	LIST_REMOVE(sc, link);
}
