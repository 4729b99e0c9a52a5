// SPDX-License-Identifier: MIT
/*
 * bench_contention: a well-behaved client's trapped register read (edu's ID
 * register by pread) while another client of the same daemon misbehaves:
 * (a) floods requests, (b) asks for big replies and never reads them, (c)
 * holds thousands of files.  Each figure beside the idle one, same run.
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "bench_util.h"
#include "transport/wire.h"

#define SAMPLES		5000
#define WARMUP		500
#define HELD_FILES	4000

static int raw_channel(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv("UVFIO_DIR");
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	check(dir && fd >= 0, "UVFIO_DIR and a socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" "uvfiod.sock", dir);
	check(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
	      strerror(errno));
	return fd;
}

static void flood(int ready)
{
	struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = 999 };
	int fd = raw_channel();
	char buf[256];

	check(write(ready, "r", 1) == 1, "ready");
	for (;;) {
		for (int i = 0; i < 32; i++)
			send(fd, &req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT);
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
}

/* Learns the device's token, then asks for 128 KiB reads it never takes. */
static void never_read(int device, int ready)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_LEARN };
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct uvfio_rep rep;
	struct cmsghdr *cm;
	int fd = raw_channel();

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &device, sizeof(int));
	check(sendmsg(fd, &mh, 0) == sizeof(req) && recv(fd, &rep, sizeof(rep), 0) > 0 &&
	      rep.ret == 0, "LEARN");
	req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_RW,
				  .file = rep.token, .arg0 = REGION(0), .arg1 = UVFIO_RW_CHUNK };
	check(write(ready, "r", 1) == 1, "ready");
	for (;;) {
		/* blocks once the daemon stops reading us; reconnects after it
		 * drops us, to keep misbehaving */
		if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) < 0)
			pause();
	}
}

static void hold_files(int ready)
{
	for (int i = 0; i < HELD_FILES; i++)
		check(open("/dev/vfio/vfio", O_RDWR) >= 0, "open %d: %s", i, strerror(errno));
	check(write(ready, "r", 1) == 1, "ready");
	pause();
}

static struct stats measure(int device, uint64_t *ns)
{
	uint32_t v;

	for (int i = -WARMUP; i < SAMPLES; i++) {
		uint64_t t0 = now_ns();

		check(pread(device, &v, 4, (off_t)REGION(0)) == 4, "pread: %s", strerror(errno));
		if (i >= 0)
			ns[i] = now_ns() - t0;
	}
	return stats_of(ns, SAMPLES);
}

int main(void)
{
	static uint64_t ns[SAMPLES];
	static const char *const names[] = {
		"(a) beside a flood",
		"(b) beside a non-reader",
		"(c) beside 4000 files",
	};
	struct vfio_dev d;
	struct stats idle;

	vfio_open(&d, EDU_GROUP, EDU_BDF);
	idle = measure(d.device, ns);
	printf("A well-behaved client's trapped 4-byte BAR read while another misbehaves, "
	       "%d samples each, %s\n", SAMPLES, placement());
	print_floor("idle (the floor)", idle);
	for (int k = 0; k < 3; k++) {
		struct stats st;
		int ready[2];
		pid_t pid;
		char c;

		check(pipe(ready) == 0, "pipe");
		pid = fork();
		check(pid >= 0, "fork");
		if (!pid) {
			if (k == 0)
				flood(ready[1]);
			else if (k == 1)
				never_read(d.device, ready[1]);
			else
				hold_files(ready[1]);
			_exit(0);
		}
		check(read(ready[0], &c, 1) == 1, "the other client did not start");
		close(ready[0]);
		close(ready[1]);
		usleep(50000);		/* let it get going */
		st = measure(d.device, ns);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		print_latency(names[k], st, "idle", idle.median_us);
	}
	return 0;
}
