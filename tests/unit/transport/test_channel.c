// SPDX-License-Identifier: MIT
/*
 * The call channel over a real socket pair: a round trip with a "daemon"
 * thread passing descriptors both ways, then every way a message can be
 * malformed, checking that descriptors arriving with a rejected message are
 * closed rather than leaked into the receiver.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "transport/channel.h"
#include "transport/ioctl_codec.h"

static int cli = -1, dmn = -1;	/* client end, daemon end (non-blocking) */

static int setup(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cli = sv[0];
	dmn = sv[1];
	assert_int_equal(fcntl(dmn, F_SETFL, O_NONBLOCK), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (cli >= 0)
		close(cli);
	if (dmn >= 0)
		close(dmn);
	cli = dmn = -1;
	return 0;
}

static unsigned int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* The number the next descriptor installed in this process will get. */
static int next_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Sends raw bytes with `nfds` copies of `fd` attached. */
static void raw_send(int sock, const void *buf, size_t len, int fd, unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 128)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 128);
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (unsigned int i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* ---- a real round trip ---- */

struct daemon_result {
	int line;		/* first failed check, 0 if none */
	unsigned int served;
};

#define DCHECK(r, cond)	do { if (!(cond) && !(r)->line) (r)->line = __LINE__; } while (0)

static const char reply_bytes[] = "written-back";

/* Serves requests until the client hangs up: checks the encoded ioctl and
 * the descriptors that came with it, writes through one of them, and
 * answers with a new descriptor. */
static void *daemon_thread(void *arg)
{
	struct daemon_result *r = arg;
	static uint8_t buf[UVFIO_MAX_PAYLOAD];

	for (;;) {
		struct pollfd p = { .fd = dmn, .events = POLLIN };
		struct uvfio_inmsg in;
		struct uvfio_ioctl_msg m;
		struct uvfio_rep rep = { 0 };
		uint8_t out[sizeof(struct uvfio_ioctl_wb) + sizeof(reply_bytes)];
		struct uvfio_ioctl_wb wb = { .off = 4, .len = sizeof(reply_bytes) };
		int ret, pfd[2], kfd;

		if (poll(&p, 1, 5000) != 1) {
			DCHECK(r, false);
			return NULL;
		}
		ret = uvfio_chan_recv(dmn, &in, buf, sizeof(buf));
		if (ret == -EAGAIN)
			continue;
		if (ret == 0)
			return NULL;	/* hang-up */
		DCHECK(r, ret == 1);
		if (ret != 1)
			return NULL;
		DCHECK(r, in.req.op == UVFIO_OP_IOCTL);
		DCHECK(r, in.req.file == 0x1122334455667788ULL);
		DCHECK(r, in.req.arg0 == 0xc0de);
		DCHECK(r, in.payload == buf);
		DCHECK(r, in.nfds == 2);
		DCHECK(r, uvfio_ioctl_decode(in.payload, in.req.len, in.nfds, &m) == 0);
		DCHECK(r, m.nfds == 1 && m.fds[0].user_fd == 5 && m.fds[0].attached == 1);
		DCHECK(r, m.nsegs == 1 && m.segs[0].attached == 0);
		DCHECK(r, m.arg_len == 8 && !memcmp(m.arg, "argbytes", 8));
		/* Descriptors arrive close-on-exec in the daemon. */
		DCHECK(r, (fcntl(in.fds[0], F_GETFD) & FD_CLOEXEC) != 0);
		/* The descriptor the user named is usable here. */
		kfd = in.fds[m.fds[0].attached];
		DCHECK(r, write(kfd, "hi", 2) == 2);
		uvfio_inmsg_close_fds(&in);
		DCHECK(r, in.nfds == 0);

		if (pipe(pfd)) {
			DCHECK(r, false);
			return NULL;
		}
		DCHECK(r, write(pfd[1], "new", 3) == 3);
		memcpy(out, &wb, sizeof(wb));
		memcpy(out + sizeof(wb), reply_bytes, sizeof(reply_bytes));
		rep.ret = UVFIO_RET_FD;
		rep.token = 0xabcdef;
		rep.type = 3;
		rep.len = sizeof(out);
		DCHECK(r, uvfio_chan_reply(dmn, &rep, out, pfd[0]) == 0);
		/* Passing it does not consume the daemon's copy. */
		close(pfd[0]);
		close(pfd[1]);
		r->served++;
	}
}

static void call_once(int cloexec)
{
	const struct uvfio_ioctl_fd fds[1] = { { .user_fd = 5, .attached = 1 } };
	const struct uvfio_mem_seg segs[1] = {
		{ .vaddr = 0x10000, .len = 0x1000, .attached = 0, .flags = UVFIO_SEG_SHARED },
	};
	uint8_t payload[128], rbuf[128];
	size_t plen = uvfio_ioctl_encoded_size(1, 0, 1, 8);
	int memfd = memfd_create("seg", MFD_CLOEXEC), pfd[2], sendfds[2];
	struct uvfio_call call;
	struct uvfio_ioctl_wb wb;
	char got[4] = { 0 };

	assert_true(memfd >= 0);
	assert_int_equal(pipe(pfd), 0);
	assert_true(plen <= sizeof(payload));
	uvfio_ioctl_encode(payload, 0, fds, 1, NULL, 0, segs, 1, "argbytes", 8);
	sendfds[0] = memfd;
	sendfds[1] = pfd[1];

	memset(&call, 0, sizeof(call));
	call.req.op = UVFIO_OP_IOCTL;
	call.req.len = (uint32_t)plen;
	call.req.file = 0x1122334455667788ULL;
	call.req.arg0 = 0xc0de;
	call.payload = payload;
	call.fds = sendfds;
	call.nfds = 2;
	call.rbuf = rbuf;
	call.rbuf_cap = sizeof(rbuf);
	call.rfd_cloexec = cloexec;
	assert_int_equal(uvfio_chan_call(cli, &call), 0);
	assert_int_equal(call.req.magic, UVFIO_WIRE_MAGIC);

	/* The daemon wrote through the descriptor we passed. */
	assert_int_equal(read(pfd[0], got, 2), 2);
	assert_string_equal(got, "hi");

	assert_int_equal(call.rep.ret, UVFIO_RET_FD);
	assert_int_equal(call.rep.token, 0xabcdef);
	assert_int_equal(call.rep.type, 3);
	assert_int_equal(call.rep.len, sizeof(wb) + sizeof(reply_bytes));
	memcpy(&wb, rbuf, sizeof(wb));
	assert_int_equal(wb.off, 4);
	assert_int_equal(wb.len, sizeof(reply_bytes));
	assert_string_equal((char *)rbuf + sizeof(wb), reply_bytes);

	/* The descriptor the daemon passed back, with the requested flag. */
	assert_true(call.rfd >= 0);
	assert_int_equal((fcntl(call.rfd, F_GETFD) & FD_CLOEXEC) != 0, cloexec != 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(read(call.rfd, got, 3), 3);
	assert_string_equal(got, "new");

	close(call.rfd);
	close(memfd);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_round_trip_thread(void **state)
{
	struct daemon_result r = { 0 };
	unsigned int fds_before = count_open_fds();
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, daemon_thread, &r), 0);
	call_once(1);
	call_once(0);
	/* Hang-up ends the daemon's loop (recv returns 0). */
	close(cli);
	cli = -1;
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.line, 0);
	assert_int_equal(r.served, 2);
	assert_int_equal(count_open_fds(), fds_before - 1);
}

/* ---- the daemon side: uvfio_chan_recv ---- */

static void test_recv_empty_and_hangup(void **state)
{
	struct uvfio_inmsg in;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(uvfio_chan_recv(dmn, &in, buf, sizeof(buf)), -EAGAIN);
	close(cli);
	cli = -1;
	assert_int_equal(uvfio_chan_recv(dmn, &in, buf, sizeof(buf)), 0);
}

static void test_recv_valid_with_fds(void **state)
{
	struct { struct uvfio_req req; char p[5]; } __attribute__((packed)) msg = {
		.req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_LEARN, .len = 5 },
		.p = "abcd",
	};
	struct uvfio_inmsg in;
	uint8_t buf[64];
	unsigned int before;

	(void)state;
	raw_send(cli, &msg, sizeof(msg), 1, 3);
	before = count_open_fds();
	assert_int_equal(uvfio_chan_recv(dmn, &in, buf, sizeof(buf)), 1);
	assert_int_equal(in.nfds, 3);
	assert_int_equal(count_open_fds(), before + 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_true(fd_is_open(in.fds[i]));
		assert_true(fcntl(in.fds[i], F_GETFD) & FD_CLOEXEC);
	}
	assert_int_equal(in.req.op, UVFIO_OP_LEARN);
	assert_int_equal(in.req.len, 5);
	assert_string_equal((char *)in.payload, "abcd");
	uvfio_inmsg_close_fds(&in);
	assert_int_equal(count_open_fds(), before);
}

/* Sends a malformed message with descriptors and expects it refused with
 * every descriptor that came with it closed. */
static void expect_rejected(const void *buf, size_t len, unsigned int nfds, size_t cap,
			    int expect)
{
	struct uvfio_inmsg in;
	uint8_t *rbuf = malloc(cap ? cap : 1);
	unsigned int before;
	int first;

	assert_non_null(rbuf);
	raw_send(cli, buf, len, 1, nfds);
	before = count_open_fds();
	first = next_fd();
	assert_int_equal(uvfio_chan_recv(dmn, &in, rbuf, cap), expect);
	assert_int_equal(in.nfds, 0);
	/* Where the first received descriptor was installed: closed again. */
	assert_false(fd_is_open(first));
	assert_int_equal(count_open_fds(), before);
	/* The channel stays usable: nothing else is queued. */
	assert_int_equal(uvfio_chan_recv(dmn, &in, rbuf, cap), -EAGAIN);
	free(rbuf);
}

static void test_recv_malformed(void **state)
{
	struct { struct uvfio_req req; char p[16]; } __attribute__((packed)) msg;

	(void)state;
	memset(&msg, 0, sizeof(msg));
	msg.req.magic = UVFIO_WIRE_MAGIC;
	msg.req.op = UVFIO_OP_IOCTL;
	msg.req.len = 16;

	/* Shorter than a header. */
	expect_rejected(&msg, 8, 2, 64, -EPROTO);
	expect_rejected(&msg, sizeof(msg.req) - 1, 1, 64, -EPROTO);
	/* Wrong magic. */
	msg.req.magic = 0x12345678;
	expect_rejected(&msg, sizeof(msg), 2, 64, -EPROTO);
	msg.req.magic = UVFIO_WIRE_MAGIC;
	/* Payload length disagrees with the header, either way. */
	expect_rejected(&msg, sizeof(msg) - 1, 2, 64, -EPROTO);
	msg.req.len = 8;
	expect_rejected(&msg, sizeof(msg), 2, 64, -EPROTO);
	msg.req.len = 16;
	/* Payload larger than the receive buffer: truncated. */
	expect_rejected(&msg, sizeof(msg), 2, 15, -EMSGSIZE);
	expect_rejected(&msg, sizeof(msg), 0, 0, -EMSGSIZE);
	/* More descriptors than a request may carry. */
	expect_rejected(&msg, sizeof(msg), UVFIO_MAX_FDS + 6, 64, -EMSGSIZE);
	/* A well-formed message still goes through afterwards. */
	{
		struct uvfio_inmsg in;
		uint8_t buf[64];

		raw_send(cli, &msg, sizeof(msg), 1, UVFIO_MAX_FDS);
		assert_int_equal(uvfio_chan_recv(dmn, &in, buf, sizeof(buf)), 1);
		assert_int_equal(in.nfds, UVFIO_MAX_FDS);
		uvfio_inmsg_close_fds(&in);
	}
}

/* ---- the client side: uvfio_chan_call ---- */

/* Queues a raw "reply" before the call, so the call reads it back. */
static int call_with_raw_reply(const void *rep, size_t len, unsigned int nfds, size_t cap,
			       struct uvfio_call *call)
{
	uint8_t rbuf[64];
	struct uvfio_inmsg in;
	uint8_t req[64];
	int ret;

	assert_true(cap <= sizeof(rbuf));
	raw_send(dmn, rep, len, 1, nfds);
	memset(call, 0, sizeof(*call));
	call->req.op = UVFIO_OP_HELLO;
	call->rbuf = rbuf;
	call->rbuf_cap = cap;
	call->rfd = -7;
	ret = uvfio_chan_call(cli, call);
	/* The request itself arrived intact. */
	assert_int_equal(uvfio_chan_recv(dmn, &in, req, sizeof(req)), 1);
	assert_int_equal(in.req.op, UVFIO_OP_HELLO);
	assert_int_equal(in.nfds, 0);
	return ret;
}

static void test_call_reply_rules(void **state)
{
	struct { struct uvfio_rep rep; char p[8]; } __attribute__((packed)) r;
	struct uvfio_call call;
	unsigned int before = count_open_fds();
	int first;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.rep.ret = 42;
	r.rep.len = 8;
	memcpy(r.p, "payload", 8);

	/* Well-formed, no descriptor. */
	assert_int_equal(call_with_raw_reply(&r, sizeof(r), 0, 8, &call), 0);
	assert_int_equal(call.rep.ret, 42);
	assert_int_equal(call.rfd, -1);
	/* Well-formed with a descriptor. */
	assert_int_equal(call_with_raw_reply(&r, sizeof(r), 1, 8, &call), 0);
	assert_true(fd_is_open(call.rfd));
	close(call.rfd);
	assert_int_equal(count_open_fds(), before);

	/* Length disagrees with the header. */
	first = next_fd();
	r.rep.len = 9;
	assert_int_equal(call_with_raw_reply(&r, sizeof(r), 1, 16, &call), -EPROTO);
	assert_false(fd_is_open(first));
	r.rep.len = 8;
	/* Shorter than a reply header. */
	assert_int_equal(call_with_raw_reply(&r, 4, 1, 16, &call), -EPROTO);
	assert_false(fd_is_open(first));
	/* Larger than the caller's buffer. */
	assert_int_equal(call_with_raw_reply(&r, sizeof(r), 1, 7, &call), -EMSGSIZE);
	assert_false(fd_is_open(first));
	assert_int_equal(count_open_fds(), before);
	/* A reply carries one descriptor: extra ones are dropped, not kept. */
	assert_int_equal(call_with_raw_reply(&r, sizeof(r), 3, 8, &call), 0);
	assert_int_equal(call.rfd, first);
	assert_int_equal(count_open_fds(), before + 1);
	close(call.rfd);
	assert_int_equal(count_open_fds(), before);
}

static void *hangup_thread(void *arg)
{
	struct pollfd p = { .fd = dmn, .events = POLLIN };
	int *ok = arg;

	/* Take the request, then die without answering. */
	*ok = poll(&p, 1, 5000) == 1;
	close(dmn);
	dmn = -1;
	return NULL;
}

static void test_call_daemon_gone(void **state)
{
	struct uvfio_call call;
	uint8_t rbuf[16];
	int ok = 0, fds[UVFIO_MAX_FDS + 1];
	pthread_t t;

	(void)state;
	memset(&call, 0, sizeof(call));
	call.req.op = UVFIO_OP_HELLO;
	call.rbuf = rbuf;
	call.rbuf_cap = sizeof(rbuf);

	/* Too many descriptors for one request: refused before sending. */
	for (unsigned int i = 0; i <= UVFIO_MAX_FDS; i++)
		fds[i] = 1;
	call.fds = fds;
	call.nfds = UVFIO_MAX_FDS + 1;
	assert_int_equal(uvfio_chan_call(cli, &call), -EINVAL);
	call.nfds = 0;

	/* The daemon reads the request and goes away. */
	assert_int_equal(pthread_create(&t, NULL, hangup_thread, &ok), 0);
	assert_int_equal(uvfio_chan_call(cli, &call), -ECONNRESET);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(ok);
	/* And a call on a dead channel fails cleanly (no SIGPIPE). */
	assert_int_equal(uvfio_chan_call(cli, &call), -EPIPE);
}

static void test_connect(void **state)
{
	char dir[64], path[108];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char longpath[200];
	int lfd, c, a;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/uvfio-chan-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, UVFIO_SOCK_NAME);
	assert_int_equal(uvfio_chan_connect(path), -ENOENT);

	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	c = uvfio_chan_connect(path);
	assert_true(c >= 0);
	assert_true(fcntl(c, F_GETFD) & FD_CLOEXEC);
	a = accept(lfd, NULL, NULL);
	assert_true(a >= 0);
	close(a);
	close(c);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	longpath[0] = '/';
	assert_int_equal(uvfio_chan_connect(longpath), -ENAMETOOLONG);

	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_empty_and_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_valid_with_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_reply_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_daemon_gone, setup, teardown),
		cmocka_unit_test(test_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
