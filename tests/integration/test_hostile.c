// SPDX-License-Identifier: MIT
/*
 * Clients that try to deny service to others, against one shared daemon:
 *  - one that asks for big replies and never reads them: the daemon stops
 *    reading it, keeps serving everyone else, and drops it after a while;
 *  - one that floods requests as fast as it can: others are still served.
 *  - one whose interrupt eventfd is full, so that signalling it would block.
 * A watchdog (alarm) turns a daemon that stalls into a failure.
 */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "transport/wire.h"
#include "vfio_util.h"
#include "wire_util.h"

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "FAIL: a well-behaved call got no answer: the daemon is stalled\n");
	_exit(1);
}

/* A call of ours, through the shim, must be answered. */
static void well_behaved_call(int container, const char *while_what)
{
	alarm(20);
	CHECK(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
	      "our call while %s", while_what);
	alarm(0);
}

/* The token of one of our files, as the daemon names it (LEARN). */
static uint64_t learn_token(int chan, int file)
{
	struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_LEARN };
	struct uvfio_rep rep = { .ret = -1 };
	struct pollfd p = { .fd = chan, .events = POLLIN };

	REQUIRE(send_with_fd(chan, &req, sizeof(req), file) == 0, "LEARN");
	REQUIRE(poll(&p, 1, 10000) == 1 && recv(chan, &rep, sizeof(rep), 0) >= (ssize_t)sizeof(rep) &&
		rep.ret == 0, "LEARN reply");
	return rep.token;
}

/* Big replies to small requests, none of them read. */
static void test_never_reads(int container, int device)
{
	int fd = raw_channel_flags(SOCK_NONBLOCK), sent = 0, got = 0;
	struct uvfio_req req = {
		.magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_RW,
		.file = learn_token(fd, device), .arg0 = REGION(0), .arg1 = UVFIO_RW_CHUNK,
	};
	static char buf[UVFIO_MAX_PAYLOAD + 64];
	struct pollfd p;
	bool eof = false;

	/* until our side of the socket is full: the daemon has stopped reading
	 * us because we take none of its replies */
	while (send(fd, &req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(req))
		sent++;
	CHECK(errno == EAGAIN, "the flood ends with a full socket: %s", strerror(errno));
	CHECK(sent > 10, "sent %d requests", sent);
	for (int i = 0; i < 100; i++)
		well_behaved_call(container, "another client never reads its replies");
	/* the daemon gives an unread reply 5 s */
	sleep(6);

	/* it was dropped: what was sent to it, then the end */
	p.fd = fd;
	p.events = POLLIN;
	while (!eof && poll(&p, 1, 20000) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0) {
			eof = true;
		} else if (n > 0) {
			struct uvfio_rep rep;

			memcpy(&rep, buf, sizeof(rep));
			CHECK(rep.ret == UVFIO_RW_CHUNK, "reply %d: %lld", got, (long long)rep.ret);
			got++;
		}
		else if (errno == ECONNRESET)	/* dropped with requests unread */
			eof = true;
		else if (errno != EAGAIN)
			break;
	}
	CHECK(eof, "the client that did not read was dropped");
	CHECK(got < sent, "it got %d replies of %d requests", got, sent);
	close(fd);
	well_behaved_call(container, "after it was dropped");
}

/* An interrupt eventfd whose counter the user filled up: signalling it
 * would block a daemon that waited on it. */
static void test_full_eventfd(int container, int device)
{
	uint64_t full = 0xfffffffffffffffeull;
	int efd = eventfd(0, EFD_CLOEXEC);	/* blocking, like most programs' */

	CHECK_OK(set_irq_eventfds(device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd));
	CHECK(write(efd, &full, sizeof(full)) == sizeof(full), "fill the counter");
	wr32(device, REGION(0) + 0x60, 1);	/* edu raises its interrupt */
	well_behaved_call(container, "an interrupt went to a full eventfd");
	close(efd);
}

/* A child that floods requests (reading its replies, as fast as it can). */
static pid_t flooder(void)
{
	pid_t pid = fork();

	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = 999 };
		char buf[256];
		int fd = raw_channel_flags(SOCK_NONBLOCK);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		for (;;) {
			if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) < 0 && errno != EAGAIN)
				_exit(0);
			while (poll(&p, 1, 0) == 1 && recv(fd, buf, sizeof(buf), 0) > 0)
				;
		}
	}
	return pid;
}

int main(void)
{
	struct vfio_setup s;
	int container;
	pid_t flood;

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	container = s.container;
	signal(SIGALRM, on_alarm);
	test_never_reads(container, s.device);
	test_full_eventfd(container, s.device);

	flood = flooder();
	for (int i = 0; i < 200; i++)
		well_behaved_call(container, "another client floods the daemon");
	kill(flood, SIGKILL);
	waitpid(flood, NULL, 0);
	teardown(&s);
	return harness_done("hostile");
}
