// SPDX-License-Identifier: MIT
/*
 * MAP_DMA of memory the shim remembers: a memfd is sent to the daemon once
 * and named by key after, and nothing of that shows: DMA lands in the file
 * every time, a different file mapped at the same address is the one used,
 * the daemon lets a file go when its last mapping goes, a fork child maps
 * as a process of its own, holes and protections give the errors they
 * always did, and no connection can name a file its process did not send.
 */
#include <linux/vfio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vfio_util.h"
#include "wire_util.h"
#include "transport/ioctl_codec.h"

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define IOVA	0x1000000ull
#define PAGE	4096u

static const char *uvfio;

/* Backing files the daemon keeps for our user (`uvfio stats`), or -1. */
static long backing_files(void)
{
	char cmd[512], line[512], want[32];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s stats", uvfio);
	snprintf(want, sizeof(want), "user %u:", (unsigned int)getuid());
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		char *b = strstr(line, "backing_files ");

		if (!strncmp(line, want, strlen(want)) && b)
			n = strtol(b + strlen("backing_files "), NULL, 10);
	}
	if (p)
		pclose(p);
	return n < 0 && p ? 0 : n;
}

static int memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	REQUIRE(fd >= 0 && ftruncate(fd, PAGE) == 0, "memfd: %s", strerror(errno));
	return fd;
}

/* A page of ours the device reads from, mapped at SRC_IOVA. */
#define SRC_IOVA	0x2000000ull
static uint8_t *src;

/* The device writes `fill` into the page mapped at IOVA (from src, through
 * its buffer). */
static void dma_fill(struct vfio_setup *s, uint8_t fill)
{
	memset(src, fill, 64);
	edu_dma(s->device, SRC_IOVA, EDU_BUF, 64, 0);
	edu_dma(s->device, EDU_BUF, IOVA, 64, 1);
}

/* What the file holds at its start, read through the file. */
static uint8_t file_byte(int fd)
{
	uint8_t b = 0;

	CHECK(pread(fd, &b, 1, 0) == 1, "pread: %s", strerror(errno));
	return b;
}

static void test_twice(struct vfio_setup *s)
{
	int fd = memfd("twice");
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	REQUIRE(p != MAP_FAILED, "mmap");
	for (int i = 1; i <= 3; i++) {
		CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
		CHECK(backing_files() == 1, "map %d: the daemon keeps the file", i);
		dma_fill(s, (uint8_t)(0x10 + i));
		CHECK(file_byte(fd) == 0x10 + i && p[0] == 0x10 + i, "map %d: DMA lands in the file",
		      i);
		CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	}
	/* closing our descriptor changes nothing: the mapping holds the file */
	close(fd);
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
	dma_fill(s, 0x20);
	CHECK(p[0] == 0x20, "DMA after close");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	/* its last mapping gone, the daemon lets the file go */
	CHECK_OK(munmap(p, PAGE));
	CHECK(backing_files() == 0, "file let go with its mapping");
}

/* munmap, then another file mapped at the same address; then mmap over. */
static void test_replaced(struct vfio_setup *s)
{
	int a = memfd("a"), b = memfd("b"), c = memfd("c");
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0), *q;

	REQUIRE(p != MAP_FAILED, "mmap");
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
	dma_fill(s, 0xa1);
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	CHECK_OK(munmap(p, PAGE));
	q = mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b, 0);
	REQUIRE(q == p, "mmap at the same address");
	CHECK_OK(map_dma(s->container, q, IOVA, PAGE, RW));
	dma_fill(s, 0xb1);
	CHECK(file_byte(b) == 0xb1, "DMA reaches the new file");
	CHECK(file_byte(a) == 0xa1, "and not the old one");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");

	/* over it, without munmap */
	q = mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, c, 0);
	REQUIRE(q == p, "mmap over");
	CHECK_OK(map_dma(s->container, q, IOVA, PAGE, RW));
	dma_fill(s, 0xc1);
	CHECK(file_byte(c) == 0xc1 && file_byte(b) == 0xb1, "DMA reaches the file mapped over");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");

	/* anonymous memory over it: reached as process memory */
	q = mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	REQUIRE(q == p, "anonymous over");
	CHECK_OK(map_dma(s->container, q, IOVA, PAGE, RW));
	dma_fill(s, 0xd1);
	CHECK(q[0] == 0xd1 && file_byte(c) == 0xc1, "DMA reaches the anonymous page");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	CHECK(backing_files() == 0, "the files went with their mappings");
	munmap(q, PAGE);
	close(a);
	close(b);
	close(c);
}

/* What the maps would say, whatever the cache knows. */
static void test_errors(struct vfio_setup *s)
{
	uint8_t *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	REQUIRE(p != MAP_FAILED, "mmap");
	CHECK_OK(munmap(p + PAGE, PAGE));
	CHECK_ERR(map_dma(s->container, p, IOVA, 3 * PAGE, RW), EFAULT);
	CHECK_OK(mprotect(p, PAGE, PROT_READ));
	CHECK_ERR(map_dma(s->container, p, IOVA, PAGE, RW), EFAULT);
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, VFIO_DMA_MAP_FLAG_READ));
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	/* moved and grown: the whole new range maps, the old one is a hole */
	{
		uint8_t *q = mremap(p + 2 * PAGE, PAGE, 4 * PAGE, MREMAP_MAYMOVE);

		REQUIRE(q != MAP_FAILED, "mremap: %s", strerror(errno));
		CHECK_OK(map_dma(s->container, q, IOVA, 4 * PAGE, RW));
		dma_fill(s, 0x5a);
		CHECK(q[0] == 0x5a, "DMA into the moved range");
		CHECK(unmap_dma(s->container, IOVA, 4 * PAGE, 0) == 4 * PAGE, "unmap");
		if (q != p + 2 * PAGE)
			CHECK_ERR(map_dma(s->container, p + 2 * PAGE, IOVA, PAGE, RW), EFAULT);
		munmap(q, 4 * PAGE);
	}
	munmap(p, PAGE);
}

static void test_fork(struct vfio_setup *s)
{
	int fd = memfd("fork"), status;
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pid_t pid;

	REQUIRE(p != MAP_FAILED, "mmap");
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		int ok = map_dma(s->container, p, IOVA, PAGE, RW) == 0;

		dma_fill(s, 0x77);
		ok &= unmap_dma(s->container, IOVA, PAGE, 0) == PAGE;
		ok &= map_dma(s->container, p, IOVA, PAGE, RW) == 0;
		ok &= unmap_dma(s->container, IOVA, PAGE, 0) == PAGE;
		_exit(ok && !harness_failed ? 0 : 1);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child maps and unmaps");
	CHECK(file_byte(fd) == 0x77, "the child's DMA lands in the shared file");
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "the parent maps again");
	munmap(p, PAGE);
	close(fd);
}

/* One hand-made MAP_DMA naming fd's file by key, on a connection of our
 * own: the daemon's answer. */
static long long raw_map(int chan, uint64_t container, int fd, void *vaddr, bool attach)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW, .vaddr = (uintptr_t)vaddr, .iova = IOVA,
		.size = PAGE,
	};
	struct uvfio_mem_seg seg = {
		.vaddr = (uintptr_t)vaddr, .len = PAGE, .attached = attach ? 1 : 0,
		.flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE | UVFIO_SEG_SHARED,
	};
	struct uvfio_ioctl_file file = { .attached = attach ? 0 : -1 };
	struct {
		struct uvfio_req req;
		uint8_t payload[256];
	} msg = { .req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_IOCTL, .file = container,
			   .arg0 = VFIO_IOMMU_MAP_DMA, .arg1 = (uintptr_t)&m } };
	size_t len = uvfio_ioctl_encoded_size(0, 1, 1, sizeof(m));
	struct uvfio_rep rep;
	char buf[512];
	struct stat st;

	REQUIRE(fstat(fd, &st) == 0 && len <= sizeof(msg.payload), "fstat");
	file.dev = st.st_dev;
	file.ino = st.st_ino;
	uvfio_ioctl_encode(msg.payload, 0, NULL, 0, &file, 1, &seg, 1, &m, sizeof(m));
	msg.req.len = (uint32_t)len;
	if (attach ? send_with_fd(chan, &msg, sizeof(msg.req) + len, fd) :
		     send(chan, &msg, sizeof(msg.req) + len, 0) != (ssize_t)(sizeof(msg.req) + len))
		return 1;
	if (recv(chan, buf, sizeof(buf), 0) < (ssize_t)sizeof(rep))
		return 1;
	memcpy(&rep, buf, sizeof(rep));
	return rep.ret;
}

/* A connection (another address space to the daemon, even in our own
 * process, and a fork child's) cannot name a file it did not send. */
static void test_foreign_key(struct vfio_setup *s)
{
	int fd = memfd("key"), chan, status;
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct uvfio_rep rep;
	uint64_t token;
	char buf[512];
	pid_t pid;

	REQUIRE(p != MAP_FAILED, "mmap");
	/* our process's shim sends the file: the daemon keeps it for us */
	CHECK_OK(map_dma(s->container, p, IOVA, PAGE, RW));
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	CHECK(backing_files() == 1, "kept for our process");

	chan = raw_channel_flags(0);
	{
		struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = UVFIO_OP_LEARN };

		REQUIRE(send_with_fd(chan, &req, sizeof(req), s->container) == 0, "learn");
		REQUIRE(recv(chan, buf, sizeof(buf), 0) >= (ssize_t)sizeof(rep), "learn reply");
		memcpy(&rep, buf, sizeof(rep));
		REQUIRE(rep.ret == 0, "learned the container");
		token = rep.token;
	}
	CHECK(raw_map(chan, token, fd, p, false) == UVFIO_RET_RESEND_FILES,
	      "a key this connection's address space never sent is unknown");
	/* sent with the descriptor, it is kept for this connection too */
	CHECK(raw_map(chan, token, fd, p, true) == 0, "mapped with the descriptor");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");
	CHECK(raw_map(chan, token, fd, p, false) == 0, "then named by key");
	CHECK(unmap_dma(s->container, IOVA, PAGE, 0) == PAGE, "unmap");

	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		int c = raw_channel_flags(0);

		_exit(raw_map(c, token, fd, p, false) == UVFIO_RET_RESEND_FILES ? 0 : 1);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a fork child cannot name its parent's file");
	close(chan);
	munmap(p, PAGE);
	close(fd);
	/* the connection went, and its files with it */
	for (int i = 0; i < 50 && backing_files() != 0; i++)
		usleep(20000);
	CHECK(backing_files() == 0, "nothing kept once the files are unmapped and the "
	      "connection is gone");
}

int main(int argc, char **argv)
{
	struct vfio_setup s;

	if (argc != 2)
		return 2;
	uvfio = argv[1];
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	/* shared: a fork child's fill is what the parent's mapping reads */
	src = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(src != MAP_FAILED, "mmap");
	REQUIRE(map_dma(s.container, src, SRC_IOVA, PAGE, VFIO_DMA_MAP_FLAG_READ) == 0, "map src");
	test_twice(&s);
	test_replaced(&s);
	test_errors(&s);
	test_fork(&s);
	test_foreign_key(&s);
	teardown(&s);
	return harness_done("map_cache");
}
