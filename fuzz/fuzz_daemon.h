/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz harnesses share: the daemon's state set up once in-process
 * (event loop, type1, the default topology), client sessions on socket pairs
 * fed through session_adopt(), and the bookkeeping that returns the daemon to
 * its idle state after each input, so one input never changes what the next
 * one sees.
 */
#ifndef UVFIO_FUZZ_DAEMON_H
#define UVFIO_FUZZ_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "transport/wire.h"

/* Event loop, IOMMU driver and the default host; once per process. */
void fz_daemon_init(void);
/* Lets the daemon run everything already queued for it. */
void fz_settle(void);

/* A new session: returns the client end of its call channel. */
int fz_session(void);

/* Sends one raw datagram on the call channel (what a hostile client can
 * send); returns 0 or -errno. */
int fz_send(int sock, const void *msg, size_t len, const int *fds, unsigned int nfds);
/* Receives one pending reply: 1 with it (*rfd a descriptor or -1, kept by
 * fz_keep_fd()), 0 if none. */
int fz_recv(int sock, struct uvfio_rep *rep, void *buf, size_t cap, int *rfd);
/* One well-formed round trip: header (magic set here), payload, descriptors.
 * Returns the reply's ret, or a value < -4096 when no reply came. */
#define FZ_NO_REPLY	(-100000)
int64_t fz_call(int sock, struct uvfio_req *req, const void *payload, const int *fds,
		unsigned int nfds, struct uvfio_rep *rep, void *rbuf, size_t cap, int *rfd);

/* Descriptors the daemon handed to the client: closed by fz_end(). */
void fz_keep_fd(int fd);
/* Ends an input: closes the session and every descriptor it received, lets
 * the daemon release what they held, and aborts if any file is left open
 * (a reference leak). */
void fz_end(int sock);

#endif
