// SPDX-License-Identifier: MIT
#include "fuzz_daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/vfio.h"
#include "daemon/session.h"
#include "daemon/topology.h"
#include "iommu/type1.h"
#include "util/log.h"
#include "util/loop.h"

#define MAX_KEPT	256

static pid_t client_pid;
static int kept[MAX_KEPT];
static unsigned int nkept;

void fz_daemon_init(void)
{
	char err[512] = "";

	signal(SIGPIPE, SIG_IGN);
	uvfio_log_set_level(UVFIO_LOG_ERR);
	/* The sessions' "client process" is a sleeping child, never the fuzzer
	 * itself: whatever address a fuzzed MAP_DMA names, device DMA reaches
	 * the child's memory, not the heap the daemon code runs on. */
	client_pid = fork();
	if (client_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (client_pid < 0 || uvfio_loop_init()) {
		fprintf(stderr, "fuzz: cannot set up\n");
		abort();
	}
	vfio_register_iommu_driver(&vfio_iommu_type1_ops);
	if (topology_load(NULL, err, sizeof(err))) {
		fprintf(stderr, "fuzz: topology: %s\n", err);
		abort();
	}
}

void fz_settle(void)
{
	/* Bounded: a descriptor that stays ready forever must not hang us. */
	for (int i = 0; i < 1000; i++)
		if (uvfio_loop_run_once(0) <= 0)
			return;
}

int fz_session(void)
{
	struct ucred cred = { .pid = client_pid, .uid = getuid(), .gid = getgid() };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0 ||
	    session_adopt(sv[0], &cred) < 0) {
		fprintf(stderr, "fuzz: cannot start a session\n");
		abort();
	}
	return sv[1];
}

int fz_send(int sock, const void *msg, size_t len, const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_MAX_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

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
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

int fz_recv(int sock, struct uvfio_rep *rep, void *buf, size_t cap, int *rfd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_MAX_FDS)];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = rep, .iov_len = sizeof(*rep) },
		{ .iov_base = buf, .iov_len = cap },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*rfd = -1;
	if (n <= 0)
		return 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		unsigned int cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (unsigned int k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(fd));
			fz_keep_fd(fd);
			if (*rfd < 0)
				*rfd = fd;
		}
	}
	if ((size_t)n < sizeof(*rep))
		memset(rep, 0, sizeof(*rep));
	return 1;
}

int64_t fz_call(int sock, struct uvfio_req *req, const void *payload, const int *fds,
		unsigned int nfds, struct uvfio_rep *rep, void *rbuf, size_t cap, int *rfd)
{
	uint8_t msg[sizeof(*req) + 8192];

	*rfd = -1;
	if (req->len > sizeof(msg) - sizeof(*req))
		return FZ_NO_REPLY;
	req->magic = UVFIO_WIRE_MAGIC;
	memcpy(msg, req, sizeof(*req));
	if (req->len)
		memcpy(msg + sizeof(*req), payload, req->len);
	if (fz_send(sock, msg, sizeof(*req) + req->len, fds, nfds))
		return FZ_NO_REPLY;
	fz_settle();
	if (!fz_recv(sock, rep, rbuf, cap, rfd))
		return FZ_NO_REPLY;
	return rep->ret;
}

void fz_keep_fd(int fd)
{
	if (nkept < MAX_KEPT)
		kept[nkept++] = fd;
	else
		close(fd);
}

void fz_end(int sock)
{
	close(sock);
	while (nkept)
		close(kept[--nkept]);
	fz_settle();
	if (vfio_file_count()) {
		fprintf(stderr, "fuzz: %u files still open after the client closed everything\n",
			vfio_file_count());
		abort();
	}
}
