// SPDX-License-Identifier: MIT
#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int uvfio_chan_connect(const char *sock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The program may have made our descriptor non-blocking through a dup or a
 * fork sibling; wait instead of failing. */
static int wait_for(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, -1) < 0 && errno != EINTR ? -errno : 0;
}

static int send_msg(int sock, const void *hdr, size_t hlen, const void *payload,
		    size_t plen, const int *fds, unsigned int nfds, bool block)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_MAX_FDS)];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = hlen },
		{ .iov_base = (void *)payload, .iov_len = plen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };
	ssize_t n;

	if (nfds > UVFIO_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	for (;;) {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && block) {
			int err = wait_for(sock, POLLOUT);

			if (err)
				return err;
			continue;
		}
		return -errno;
	}
	return (size_t)n == hlen + plen ? 0 : -EPROTO;
}

/* Receives one datagram into hdr+buf; collects descriptors. */
static ssize_t recv_msg(int sock, void *hdr, size_t hlen, void *buf, size_t cap,
			int *fds, unsigned int *nfds, unsigned int maxfds,
			bool cloexec, bool block)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_MAX_FDS)];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = hlen },
		{ .iov_base = buf, .iov_len = cap },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*nfds = 0;
	for (;;) {
		n = recvmsg(sock, &mh, cloexec ? MSG_CMSG_CLOEXEC : 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && block) {
			int err = wait_for(sock, POLLIN);

			if (err)
				return err;
			continue;
		}
		return -errno;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		unsigned int k, cnt;
		int *p;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		p = (int *)CMSG_DATA(cm);
		for (k = 0; k < cnt; k++) {
			if (*nfds < maxfds)
				fds[(*nfds)++] = p[k];
			else
				close(p[k]);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (unsigned int k = 0; k < *nfds; k++)
			close(fds[k]);
		*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

int uvfio_chan_call(int chan, struct uvfio_call *call)
{
	int err;

	call->req.magic = UVFIO_WIRE_MAGIC;
	err = send_msg(chan, &call->req, sizeof(call->req), call->payload,
		       call->req.len, call->fds, call->nfds, true);
	return err ? err : uvfio_chan_recv_reply(chan, call);
}

int uvfio_chan_recv_reply(int chan, struct uvfio_call *call)
{
	unsigned int nrfd = 0;
	int rfd = -1;
	ssize_t n;

	n = recv_msg(chan, &call->rep, sizeof(call->rep), call->rbuf,
		     call->rbuf_cap, &rfd, &nrfd, 1, call->rfd_cloexec, true);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(call->rep) || (size_t)n - sizeof(call->rep) != call->rep.len) {
		if (nrfd)
			close(rfd);
		return n == 0 ? -ECONNRESET : -EPROTO;
	}
	call->rfd = nrfd ? rfd : -1;
	return 0;
}

int uvfio_chan_recv(int sock, struct uvfio_inmsg *msg, void *buf, size_t cap)
{
	ssize_t n = recv_msg(sock, &msg->req, sizeof(msg->req), buf, cap,
			     msg->fds, &msg->nfds, UVFIO_MAX_FDS, true, false);

	if (n < 0)
		return (int)n;
	if (n == 0) {
		/* A zero-length datagram reads as a hang-up, but it may have
		 * carried descriptors: keeping them would keep files open. */
		uvfio_inmsg_close_fds(msg);
		return 0;
	}
	if ((size_t)n < sizeof(msg->req) || msg->req.magic != UVFIO_WIRE_MAGIC ||
	    (size_t)n - sizeof(msg->req) != msg->req.len) {
		uvfio_inmsg_close_fds(msg);
		return -EPROTO;
	}
	msg->payload = buf;
	return 1;
}

void uvfio_inmsg_close_fds(struct uvfio_inmsg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++)
		close(msg->fds[i]);
	msg->nfds = 0;
}

int uvfio_chan_reply(int sock, const struct uvfio_rep *rep, const void *payload, int fd)
{
	return send_msg(sock, rep, sizeof(*rep), payload, rep->len, &fd, fd >= 0 ? 1 : 0, false);
}
