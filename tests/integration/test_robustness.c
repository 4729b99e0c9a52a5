// SPDX-License-Identifier: MIT
/*
 * Hostile input: a client that speaks the wire protocol badly (or not at
 * all), huge argsz values and bad pointers through the shim.  The daemon must
 * answer with an error or drop that client, and keep serving everyone else.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "transport/ioctl_codec.h"
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

int main(void)
{
	test_garbage();
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
