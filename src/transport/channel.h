/* SPDX-License-Identifier: MIT */
/*
 * The call channel: the one replaceable transport layer.  A client thread
 * sends a request (header, payload, descriptors) and waits for the reply;
 * the daemon receives requests and answers them in order.  This file is the
 * unix SOCK_SEQPACKET implementation; nothing above it sees a socket.
 */
#ifndef UVFIO_TRANSPORT_CHANNEL_H
#define UVFIO_TRANSPORT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define UVFIO_SOCK_NAME	"uvfiod.sock"

/* ---- client side ---- */

/* Connects a call channel to the daemon listening at sock_path.  Returns the
 * channel descriptor (close-on-exec) or -errno. */
int uvfio_chan_connect(const char *sock_path);

struct uvfio_call {
	struct uvfio_req req;
	const void *payload;		/* req.len bytes */
	const int *fds;			/* descriptors to pass */
	unsigned int nfds;
	/* reply */
	struct uvfio_rep rep;
	void *rbuf;			/* reply payload lands here */
	size_t rbuf_cap;
	int rfd;			/* received descriptor or -1 */
	int rfd_cloexec;		/* install it close-on-exec */
};

/* One round trip.  Returns 0 (the daemon's answer is in call->rep) or
 * -errno when the channel itself failed. */
int uvfio_chan_call(int chan, struct uvfio_call *call);
/* The second half of a call: waits for the reply on the socket. */
int uvfio_chan_recv_reply(int chan, struct uvfio_call *call);

/* ---- daemon side ---- */

struct uvfio_inmsg {
	struct uvfio_req req;
	uint8_t *payload;		/* req.len bytes, in the caller's buffer */
	int fds[UVFIO_MAX_FDS];
	unsigned int nfds;
};

/* Receives one request (non-blocking socket).  Returns 1 with a message,
 * 0 on hang-up, -EAGAIN when nothing is pending, other -errno on a
 * malformed message (any descriptors that came with it are closed). */
int uvfio_chan_recv(int sock, struct uvfio_inmsg *msg, void *buf, size_t cap);
/* Sends a reply, optionally passing one descriptor.  Never waits: -EAGAIN
 * when the client is not reading and its socket is full (the daemon must
 * not be held up by one client). */
int uvfio_chan_reply(int sock, const struct uvfio_rep *rep, const void *payload,
		     int fd);
void uvfio_inmsg_close_fds(struct uvfio_inmsg *msg);

#endif
