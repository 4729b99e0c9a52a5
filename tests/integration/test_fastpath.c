// SPDX-License-Identifier: MIT
/*
 * Register access on the fast path (each thread's shared call slot, posted
 * writes), seen as a program sees it:
 *   - many threads hammering registers of one device at once, each reading
 *     back what it wrote;
 *   - posted writes keep PCIe's order: a later read from the same thread or
 *     from another thread of the process, a close of the descriptor written
 *     through, sees them; stores through a mapped register page too;
 *   - memory decode turned off by the process itself: its next write fails
 *     with EIO as in vfio-pci; turned off by another process sharing the
 *     device: a posted write is dropped, as a device drops it (with
 *     UVFIO_POSTED=0: EIO);
 *   - fork and exec while slots are in use: the child gets no slot of its
 *     parent's and its own calls work; the exec'd image works through the
 *     descriptor it inherited.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "harness.h"
#include "vfio_util.h"

#define REG_FILE	(REGION(0) + 0x100)	/* ramdev: 256 bytes of registers */
#define CMD		(REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4)
#define THREADS		16
#define ITERS		3000

static int device;
static atomic_int failures;

/* How many of the process's mappings are call slots. */
static int slot_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	REQUIRE(f, "/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "uvfio-slot") != NULL;
	fclose(f);
	return n;
}

static void *hammer(void *arg)
{
	uint64_t off = REG_FILE + 8 * (uintptr_t)arg;

	for (uint32_t i = 0; i < ITERS; i++) {
		uint32_t v = (uint32_t)(uintptr_t)arg << 24 | i, got = 0;

		/* a posted store, then a read that must come after it */
		if (pwrite(device, &v, 4, (off_t)off) != 4 ||
		    pread(device, &got, 4, (off_t)off) != 4 || got != v) {
			atomic_fetch_add(&failures, 1);
			break;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];

	for (uintptr_t i = 0; i < THREADS; i++)
		REQUIRE(pthread_create(&t[i], NULL, hammer, (void *)i) == 0, "pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&failures) == 0, "%d threads read back something else",
	      atomic_load(&failures));
	CHECK(slot_mappings() >= 1, "the threads used slots");
}

/* Far more writes than the ring holds, then one read. */
static void test_burst(void)
{
	uint32_t v;

	for (v = 1; v <= 1000; v++)
		wr32(device, REG_FILE, v);
	CHECK(rd32(device, REG_FILE) == 1000, "the read after a burst sees its last write");
}

static _Atomic uint32_t handoff;

static void *reader(void *arg)
{
	uint32_t want;

	(void)arg;
	while (!(want = atomic_load(&handoff)))
		sched_yield();
	CHECK(rd32(device, REG_FILE + 4) == want, "another thread's read sees the posted write");
	return NULL;
}

static void test_other_thread(void)
{
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, reader, NULL) == 0, "pthread_create");
	wr32(device, REG_FILE + 4, 0x600d);	/* learns the window */
	wr32(device, REG_FILE + 4, 0xcafe);	/* posted */
	atomic_store(&handoff, 0xcafe);
	pthread_join(t, NULL);
}

/* Written through a second descriptor which is then closed. */
static void test_close(struct vfio_setup *s)
{
	int d2 = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, RAM_BDF0);

	REQUIRE(d2 >= 0, "second device fd: %s", strerror(errno));
	wr32(d2, REG_FILE + 8, 1);
	for (uint32_t v = 2; v <= 40; v++)
		wr32(d2, REG_FILE + 8, v);
	CHECK(close(d2) == 0, "close: %s", strerror(errno));
	CHECK(rd32(device, REG_FILE + 8) == 40, "writes posted before close landed");
}

static void set_memory_decode(bool on)
{
	uint16_t cmd = 0;

	CHECK(pread(device, &cmd, 2, CMD) == 2, "read COMMAND");
	cmd = on ? (cmd | 0x2) : (cmd & ~0x2);
	CHECK(pwrite(device, &cmd, 2, CMD) == 2, "write COMMAND");
}

/* Decode turned off by this process: it knows, and its next write is made
 * synchronously, failing as vfio-pci fails it. */
static void test_decode_off_self(void)
{
	uint32_t v = 0xbad;

	wr32(device, REG_FILE + 12, 7);
	wr32(device, REG_FILE + 12, 8);
	set_memory_decode(false);
	CHECK_ERR(pwrite(device, &v, 4, (off_t)(REG_FILE + 12)), EIO);
	CHECK_ERR(pread(device, &v, 4, (off_t)(REG_FILE + 12)), EIO);
	set_memory_decode(true);
	CHECK(rd32(device, REG_FILE + 12) == 8, "the write with decode off did nothing");
}

/* Decode turned off by another process sharing the device (posted: whether
 * this process posts writes, UVFIO_POSTED). */
static void test_decode_off_other(bool posted)
{
	uint32_t v = 0xbad;
	pid_t pid;
	ssize_t n;
	int st;

	wr32(device, REG_FILE + 12, 7);
	wr32(device, REG_FILE + 12, 8);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		set_memory_decode(false);
		_exit(harness_failed);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st), "child");
	errno = 0;
	n = pwrite(device, &v, 4, (off_t)(REG_FILE + 12));
	if (posted)
		CHECK(n == 4, "a posted write is accepted whatever becomes of it: %zd %s", n,
		      strerror(errno));
	else
		CHECK(n == -1 && errno == EIO, "a synchronous write with decode off: EIO (%zd, %s)",
		      n, strerror(errno));
	set_memory_decode(true);
	CHECK(rd32(device, REG_FILE + 12) == 8, "the write with decode off was dropped");
}

/* Stores through a mapped register page are posted too (the page is
 * trapped), and keep their order with the loads after them. */
static void test_mmio_stores(void)
{
	volatile uint32_t *bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device,
				      (off_t)REGION(0));
	int ok = 1;

	REQUIRE(bar != MAP_FAILED, "mmap BAR0: %s", strerror(errno));
	for (uint32_t v = 1; v <= 500; v++) {
		bar[(0x100 + 24) / 4] = v;
		if (v % 50 == 0)
			ok &= bar[(0x100 + 24) / 4] == v;
	}
	CHECK(ok, "a load sees the stores before it");
	CHECK(rd32(device, REG_FILE + 24) == 500, "and so does a pread");
	munmap((void *)bar, 4096);
}

static void test_fork(void)
{
	pid_t pid;
	int st;

	wr32(device, REG_FILE + 16, 0xf0f0);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int ok = slot_mappings() == 0;	/* the parent's are not inherited */

		wr32(device, REG_FILE + 16, 0xc41d);
		ok &= rd32(device, REG_FILE + 16) == 0xc41d;
		ok &= slot_mappings() == 1;	/* its own */
		_exit(ok && !harness_failed ? 0 : 1);
	}
	/* the parent keeps using its slot meanwhile */
	for (int i = 0; i < 200; i++)
		rd32(device, REG_FILE);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child's calls work, on a slot of its own");
	CHECK(rd32(device, REG_FILE + 16) == 0xc41d, "the child's write landed");
}

static void test_exec(const char *self)
{
	char fd_arg[16];
	pid_t pid;
	int st;

	wr32(device, REG_FILE + 20, 0xe1e1);
	snprintf(fd_arg, sizeof(fd_arg), "%d", device);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* the device descriptor is inherited across exec */
		fcntl(device, F_SETFD, 0);
		execl(self, self, "--exec-child", fd_arg, (char *)NULL);
		_exit(2);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the exec'd image works through the inherited descriptor (status %d)", st);
	CHECK(rd32(device, REG_FILE + 20) == 0xe0e0, "its write landed");
}

static int exec_child(int fd)
{
	device = fd;
	CHECK(slot_mappings() == 0, "a new image starts without slots");
	CHECK(rd32(device, REG_FILE + 20) == 0xe1e1, "reads what the parent wrote");
	wr32(device, REG_FILE + 20, 0xe0e0);
	wr32(device, REG_FILE + 20, 0xe0e0);
	return harness_failed ? 1 : 0;	/* exit() closes: the write lands */
}

int main(int argc, char **argv)
{
	const char *posted_env = getenv("UVFIO_POSTED");
	bool posted = !posted_env || strcmp(posted_env, "0") != 0;
	struct vfio_setup s;

	if (argc == 3 && !strcmp(argv[1], "--exec-child"))
		return exec_child(atoi(argv[2]));
	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	device = s.device;
	enable_device(device);

	test_threads();
	test_burst();
	test_other_thread();
	test_close(&s);
	test_mmio_stores();
	test_decode_off_self();
	test_decode_off_other(posted);
	test_fork();
	test_exec("/proc/self/exe");
	teardown(&s);
	return harness_done(posted ? "fastpath" : "fastpath (UVFIO_POSTED=0)");
}
