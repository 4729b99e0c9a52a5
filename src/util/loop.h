/* SPDX-License-Identifier: MIT */
/*
 * The daemon's single event loop (epoll).  All daemon state is touched from
 * this one thread, the way a kernel subsystem serialises under its locks, so
 * the core needs no locking of its own.
 */
#ifndef UVFIO_UTIL_LOOP_H
#define UVFIO_UTIL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*uvfio_loop_fn)(void *arg, uint32_t events);

int uvfio_loop_init(void);
void uvfio_loop_fini(void);
/* Watch fd for epoll `events`; fn runs on the loop thread. */
int uvfio_loop_watch(int fd, uint32_t events, uvfio_loop_fn fn, void *arg);
/* Changes the epoll events of a watched fd. */
int uvfio_loop_modify(int fd, uint32_t events);
void uvfio_loop_unwatch(int fd);

struct uvfio_timer;
/* One-shot timer after `ms` milliseconds; returns NULL on failure. */
struct uvfio_timer *uvfio_timer_add(unsigned int ms, uvfio_loop_fn fn, void *arg);
void uvfio_timer_cancel(struct uvfio_timer *t);

/* Called after every batch of events.  While it returns true (it polls
 * shared memory and keeps the CPU) the loop only looks at epoll, without
 * sleeping, between calls; false lets the loop sleep until an event. */
typedef bool (*uvfio_loop_poll_fn)(void);
void uvfio_loop_set_poll(uvfio_loop_poll_fn fn);

/* Runs until uvfio_loop_stop(); returns 0 or -errno. */
int uvfio_loop_run(void);
void uvfio_loop_stop(void);
/* Dispatches one batch of ready events, waiting at most timeout_ms for them
 * (0: only what is ready now).  Returns how many were handled or -errno.
 * For driving the daemon in-process (fuzzers): call until it returns 0 to
 * let everything already queued run. */
int uvfio_loop_run_once(int timeout_ms);

#endif
