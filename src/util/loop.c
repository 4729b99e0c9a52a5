// SPDX-License-Identifier: MIT
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct watch {
	int fd;
	uint32_t seq;		/* tells this watch from an earlier one of fd */
	uvfio_loop_fn fn;
	void *arg;
};

/* An event carries the fd and the watch's sequence number: a callback may
 * close an fd and a later one reuse its number while events for the old
 * one wait in the same batch; those must not reach the new watch. */
static uint32_t next_seq;

static uint64_t event_data(const struct watch *w)
{
	return (uint64_t)w->seq << 32 | (uint32_t)w->fd;
}

struct uvfio_timer {
	int fd;
	uvfio_loop_fn fn;
	void *arg;
};

/* Watches are indexed by fd: the daemon's descriptors are small and dense. */
static struct watch **watches;
static int nwatches;
static int epfd = -1;
static bool stopping;
static uvfio_loop_poll_fn poll_fn;
static bool polling;

int uvfio_loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -errno : 0;
}

void uvfio_loop_fini(void)
{
	for (int i = 0; i < nwatches; i++)
		free(watches[i]);
	free(watches);
	watches = NULL;
	nwatches = 0;
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}

int uvfio_loop_watch(int fd, uint32_t events, uvfio_loop_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct watch *w;

	if (fd >= nwatches) {
		int n = fd + 64;
		struct watch **nw = realloc(watches, n * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		for (int i = nwatches; i < n; i++)
			nw[i] = NULL;
		watches = nw;
		nwatches = n;
	}
	if (watches[fd])
		return -EEXIST;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct watch){ .fd = fd, .seq = ++next_seq, .fn = fn, .arg = arg };
	ev.data.u64 = event_data(w);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	watches[fd] = w;
	return 0;
}

int uvfio_loop_modify(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || fd >= nwatches || !watches[fd])
		return -ENOENT;
	ev.data.u64 = event_data(watches[fd]);
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void uvfio_loop_unwatch(int fd)
{
	if (fd < 0 || fd >= nwatches || !watches[fd])
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	free(watches[fd]);
	watches[fd] = NULL;
}

static void timer_fired(void *arg, uint32_t events)
{
	struct uvfio_timer *t = arg;
	uvfio_loop_fn fn = t->fn;
	void *fnarg = t->arg;

	uvfio_timer_cancel(t);
	fn(fnarg, events);
}

struct uvfio_timer *uvfio_timer_add(unsigned int ms, uvfio_loop_fn fn, void *arg)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L + 1 },
	};
	struct uvfio_timer *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	t->fn = fn;
	t->arg = arg;
	if (t->fd < 0 || timerfd_settime(t->fd, 0, &its, NULL) < 0 ||
	    uvfio_loop_watch(t->fd, EPOLLIN, timer_fired, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

void uvfio_timer_cancel(struct uvfio_timer *t)
{
	if (!t)
		return;
	uvfio_loop_unwatch(t->fd);
	close(t->fd);
	free(t);
}

/* Runs the callbacks of one batch of events. */
static void dispatch(const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		/* Look the watch up again: a callback earlier in this batch may
		 * have removed it, or closed its fd and watched a new one under
		 * the same number.  Callbacks tolerate a spurious wake-up
		 * (non-blocking descriptors). */
		int fd = (int)(uint32_t)evs[i].data.u64;
		struct watch *w = fd < nwatches ? watches[fd] : NULL;

		if (w && w->seq == (uint32_t)(evs[i].data.u64 >> 32))
			w->fn(w->arg, evs[i].events);
	}
}

int uvfio_loop_run(void)
{
	struct epoll_event evs[64];

	stopping = false;
	while (!stopping) {
		int n = epoll_wait(epfd, evs, 64, polling ? 0 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		dispatch(evs, n);
		polling = poll_fn && poll_fn();
	}
	return 0;
}

void uvfio_loop_set_poll(uvfio_loop_poll_fn fn)
{
	poll_fn = fn;
}

int uvfio_loop_run_once(int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	dispatch(evs, n);
	polling = poll_fn && poll_fn();
	return n;
}

void uvfio_loop_stop(void)
{
	stopping = true;
}
