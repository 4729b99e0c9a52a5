// SPDX-License-Identifier: MIT
/*
 * Hostile input: a client that speaks the wire protocol badly (or not at
 * all), huge argsz values and bad pointers through the shim.  The daemon must
 * answer with an error or drop that client, and keep serving everyone else.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "transport/ioctl_codec.h"
#include "transport/slot.h"
#include "vfio_util.h"
#include "wire_util.h"

/* Sends raw bytes; returns the reply's ret, or 1 if the daemon hung up. */
static long long exchange(int fd, const void *msg, size_t len)
{
	struct uvfio_rep rep;
	char buf[UVFIO_MAX_PAYLOAD];
	ssize_t n;

	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 1;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 1;
	memcpy(&rep, buf, sizeof(rep));
	return rep.ret;
}

static void test_garbage(void)
{
	struct {
		struct uvfio_req req;
		char payload[64];
	} m;
	int fd;

	/* Not even a header: the channel is dropped. */
	fd = raw_channel_flags(0);
	CHECK(exchange(fd, "junk", 4) == 1, "short message drops the channel");
	close(fd);

	fd = raw_channel_flags(0);
	memset(&m, 0, sizeof(m));
	m.req.magic = 0x12345678;
	CHECK(exchange(fd, &m, sizeof(m.req)) == 1, "bad magic drops the channel");
	close(fd);

	fd = raw_channel_flags(0);
	memset(&m, 0, sizeof(m));
	m.req.magic = UVFIO_WIRE_MAGIC;
	m.req.op = UVFIO_OP_IOCTL;
	m.req.len = 1000;	/* more than was sent */
	CHECK(exchange(fd, &m, sizeof(m)) == 1, "length mismatch drops the channel");
	close(fd);

	/* Well-formed but wrong: answered with an error, channel kept. */
	fd = raw_channel_flags(0);
	memset(&m, 0, sizeof(m));
	m.req.magic = UVFIO_WIRE_MAGIC;
	m.req.op = 999;
	CHECK(exchange(fd, &m, sizeof(m.req)) == -EOPNOTSUPP, "unknown op");
	m.req.op = UVFIO_OP_IOCTL;
	m.req.file = 0x1234;
	CHECK(exchange(fd, &m, sizeof(m.req)) == -EBADF, "unknown file token");
	m.req.op = UVFIO_OP_OPEN;
	m.req.len = sizeof(m.payload);
	memset(m.payload, 'x', sizeof(m.payload));
	CHECK(exchange(fd, &m, sizeof(m)) == -ENOENT, "open of a bogus path");
	m.req.op = UVFIO_OP_LEARN;
	m.req.len = 0;
	CHECK(exchange(fd, &m, sizeof(m.req)) == -EBADF, "learn without a descriptor");
	close(fd);
}

/* A malformed ioctl payload on a real file. */
static void test_bad_codec(void)
{
	struct vfio_setup s;
	struct {
		struct uvfio_req req;
		struct uvfio_ioctl_hdr hdr;
	} m;
	int chan;
	struct uvfio_rep rep;
	char buf[256];

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	/* Learn the device file's token the way the shim does. */
	chan = raw_channel_flags(0);
	{
		struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_LEARN };

		REQUIRE(send_with_fd(chan, &req, sizeof(req), s.device) == 0, "learn");
		REQUIRE(recv(chan, buf, sizeof(buf), 0) >= (ssize_t)sizeof(rep), "learn reply");
		memcpy(&rep, buf, sizeof(rep));
		CHECK(rep.ret == 0 && rep.type == UVFIO_FILE_DEVICE, "learned a device file");
	}
	memset(&m, 0, sizeof(m));
	m.req.magic = UVFIO_WIRE_MAGIC;
	m.req.op = UVFIO_OP_IOCTL;
	m.req.file = rep.token;
	m.req.arg0 = VFIO_DEVICE_GET_INFO;
	m.req.len = sizeof(m.hdr);
	m.hdr.arg_len = 5000;	/* claims bytes that are not there */
	CHECK(exchange(chan, &m, sizeof(m)) == -EPROTO, "inconsistent codec");
	m.hdr.arg_len = 0;
	m.hdr.nfds = 3;		/* descriptors that never came */
	CHECK(exchange(chan, &m, sizeof(m)) == -EPROTO, "missing descriptors");
	m.hdr.nfds = 0;
	CHECK(exchange(chan, &m, sizeof(m)) == -EFAULT, "empty argument: EFAULT");
	/* Region access bigger than a message: refused, not overrun. */
	m.req.op = UVFIO_OP_RW;
	m.req.arg0 = 0;
	m.req.arg1 = 1 << 30;
	m.req.len = 0;
	CHECK(exchange(chan, &m, sizeof(m.req)) == -EPROTO, "oversized read");
	close(chan);
	/* The device still works for its owner. */
	enable_device(s.device);
	CHECK(rd32(s.device, REGION(0)) == 0x010000ed, "device still answers");
	teardown(&s);
}

/* Through the shim: huge argsz and bad pointers behave like the kernel. */
static void test_argsz_and_pointers(void)
{
	struct vfio_setup s;
	struct vfio_device_info info = { .argsz = 0xffffffff };
	/* A structure that ends right before an inaccessible page. */
	uint8_t *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_region_info *r;

	REQUIRE(pages != MAP_FAILED && mprotect(pages + 4096, 4096, PROT_NONE) == 0, "guard");
	r = (void *)(pages + 4096 - sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->argsz = 0xffffffff;
	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	/* Big argsz, small buffer: the capability chain cannot be stored. */
	CHECK_ERR(ioctl(s.device, VFIO_DEVICE_GET_REGION_INFO, r), EFAULT);
	munmap(pages, 8192);
	/* Big argsz with nothing to add: fine. */
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_GET_INFO, &info));
	CHECK_ERR(ioctl(s.device, VFIO_DEVICE_GET_INFO, (void *)16), EFAULT);
	CHECK_ERR(ioctl(s.device, VFIO_DEVICE_SET_IRQS, (void *)-4096L), EFAULT);
	CHECK_ERR(ioctl(s.container, VFIO_IOMMU_MAP_DMA, (void *)8), EFAULT);
	/* An unmapped buffer (the compiler must not see the constant). */
	void *volatile bad = (void *)16;

	CHECK_ERR(pread(s.device, bad, 4, REGION(7)), EFAULT);
	teardown(&s);
}

/* A raw client with a call slot, writing whatever it likes into it. */
struct raw_slot {
	int sock, kick, memfd;
	struct uvfio_slot *slot;
};

static void raw_slot_open(struct raw_slot *r)
{
	struct uvfio_hello hello = { .image_addr = 0 };
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_HELLO, .flags = UVFIO_HELLO_SLOT, .len = sizeof(hello) },
		.payload = &hello,
	};

	r->sock = raw_channel_flags(0);
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c.fds = &r->kick;
	c.nfds = 1;
	REQUIRE(uvfio_chan_call(r->sock, &c) == 0 && c.rep.ret == 0 && c.rfd >= 0,
		"HELLO with a slot: %lld", (long long)c.rep.ret);
	r->memfd = c.rfd;
	r->slot = mmap(NULL, UVFIO_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	REQUIRE(r->slot != MAP_FAILED, "mmap slot: %s", strerror(errno));
}

static void raw_slot_close(struct raw_slot *r)
{
	munmap(r->slot, UVFIO_SLOT_SIZE);
	close(r->memfd);
	close(r->kick);
	close(r->sock);
}

/* Publishes whatever is in the slot's request as the next one and kicks;
 * the reply's ret, or 1 if none came within 5 s. */
static long long raw_slot_call(struct raw_slot *r)
{
	uint32_t seq = atomic_load(&r->slot->c.req_seq) + 1;

	atomic_store(&r->slot->c.req_seq, seq);
	eventfd_write(r->kick, 1);
	for (int i = 0; i < 50000; i++) {
		if (atomic_load(&r->slot->d.rep_seq) == seq)
			return r->slot->rep.ret;
		usleep(100);
	}
	return 1;
}

static atomic_bool flooding;

/* Requests as fast as the daemon answers them, none of them valid. */
static void *flood(void *arg)
{
	struct raw_slot *r = arg;
	uint32_t seq = atomic_load(&r->slot->c.req_seq);

	while (atomic_load(&flooding)) {
		r->slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = 999 };
		atomic_store(&r->slot->c.req_seq, ++seq);
		eventfd_write(r->kick, 1);
		while (atomic_load(&flooding) && atomic_load(&r->slot->d.rep_seq) != seq)
			sched_yield();
	}
	return NULL;
}

/* What a client can do to the daemon through its slot: it is answered with
 * an error or ignored, and everyone else goes on being served. */
static void test_slot_abuse(void)
{
	struct raw_slot r;
	struct vfio_setup s;
	pthread_t t;

	raw_slot_open(&r);
	/* sealed: the client cannot shrink it under the daemon (SIGBUS) */
	CHECK_ERR(ftruncate(r.memfd, 0), EPERM);

	r.slot->req = (struct uvfio_req){ .magic = 0x12345678, .op = UVFIO_OP_RW };
	CHECK(raw_slot_call(&r) == -EPROTO, "bad magic in the slot");
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_RW,
					  .len = UVFIO_SLOT_DATA + 1 };
	CHECK(raw_slot_call(&r) == -EPROTO, "a length past the data area");
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_HELLO,
					  .len = sizeof(struct uvfio_hello) };
	CHECK(raw_slot_call(&r) == -EPROTO, "HELLO through the slot");
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_CONTROL };
	CHECK(raw_slot_call(&r) == -EPROTO, "a control command through the slot");
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_RW,
					  .file = 0x1234 };
	CHECK(raw_slot_call(&r) == -EBADF, "an unknown file token");

	/* posted writes: a ring index far ahead, and writes to files that
	 * are not there, are dropped */
	for (int i = 0; i < UVFIO_SLOT_POSTED; i++)
		r.slot->posted[i] = (struct uvfio_posted){ .file = 0x5678 + i, .len = 4 };
	atomic_store(&r.slot->c.post_head, 10 * UVFIO_SLOT_POSTED);
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_SYNC };
	CHECK(raw_slot_call(&r) == 0, "served after a lying ring index");
	atomic_store(&r.slot->c.post_head, atomic_load(&r.slot->d.post_tail) + 3);
	CHECK(raw_slot_call(&r) == 0, "served after posts to unknown files");

	/* one client calling nonstop does not starve another */
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	atomic_store(&flooding, true);
	REQUIRE(pthread_create(&t, NULL, flood, &r) == 0, "pthread_create");
	for (int i = 0; i < 2000; i++)
		CHECK(rd32(s.device, REGION(0)) == 0x010000ed, "served beside a flood");
	atomic_store(&flooding, false);
	pthread_join(t, NULL);
	teardown(&s);

	/* gone with its slot mid-call: the daemon frees it and goes on */
	r.slot->req = (struct uvfio_req){ .magic = UVFIO_WIRE_MAGIC, .op = 999 };
	atomic_store(&r.slot->c.req_seq, atomic_load(&r.slot->c.req_seq) + 1);
	raw_slot_close(&r);
}

int main(void)
{
	test_garbage();
	test_slot_abuse();
	test_bad_codec();
	test_argsz_and_pointers();
	/* Everyone else is still served. */
	struct vfio_setup s;

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	CHECK(rd32(s.device, REGION(0)) == 0x010000ed, "daemon still serves");
	teardown(&s);
	return harness_done("robustness");
}
