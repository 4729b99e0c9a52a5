// SPDX-License-Identifier: MIT
/*
 * VFIO migration v2 through the uAPI, as a VMM drives it: ramdev's and edu's
 * state saved through the STOP_COPY data_fd, the device reset, the state
 * written back through a RESUMING data_fd and compared; PRE_COPY and its
 * PRECOPY_INFO; a stopped device raising no interrupt and doing no DMA until
 * it runs again; and streams that must be refused (another model's, a
 * damaged one, a short one), each with its errno.
 */
#include <linux/vfio.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "vfio_util.h"
#include "uvfio/vfio_mig.h"

#define REG_SCRATCH	(REGION(0) + 0x04)
#define REG_MSIX	(REGION(0) + 0x08)
#define REG_FILE	(REGION(0) + 0x100)
#define RAM		(REGION(0) + 0x1000)	/* ramdev BAR0's RAM */

static int device;

/* Moves to state; the data_fd it returned (-1 if none), or -2 on error. */
static int set_state(uint32_t state)
{
	struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = -7 };

	if (device_feature(device,
			     VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m,
		    sizeof(m)))
		return -2;
	return m.data_fd;
}

static uint32_t get_state(void)
{
	struct vfio_device_feature_mig_state m = { 0 };

	CHECK_OK(device_feature(device,
			     VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m,
			 sizeof(m)));
	return m.device_state;
}

/* Everything the data_fd streams, until end of stream. */
static uint8_t *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	ssize_t n;

	*len = 0;
	while (buf && (n = read(fd, buf + *len, cap - *len)) > 0) {
		*len += (size_t)n;
		if (*len == cap)
			buf = realloc(buf, cap *= 2);
	}
	return buf;
}

/* Resumes from a stream: 0 if it worked, else the errno of the write (a
 * stream longer than the device's) or of the move to target. */
static int resume(const uint8_t *buf, size_t len, uint32_t target)
{
	int fd = set_state(VFIO_DEVICE_STATE_RESUMING), ret = 0;

	CHECK(fd >= 0, "RESUMING gives a data_fd: %d", fd);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len)
		ret = errno;
	else if (set_state(target) == -2)
		ret = errno;
	close(fd);
	return ret;
}

static uint8_t *save(size_t *len)
{
	int fd = set_state(VFIO_DEVICE_STATE_STOP_COPY);
	uint8_t *buf, byte;

	CHECK(fd >= 0, "STOP_COPY gives a data_fd: %d %s", fd, strerror(errno));
	buf = read_all(fd, len);
	CHECK_ERR(pread(fd, &byte, 1, 0), ESPIPE);	/* a stream */
	CHECK(set_state(VFIO_DEVICE_STATE_STOP) == -1, "STOP_COPY -> STOP");
	CHECK_ERR(read(fd, &byte, 1), ENODEV);		/* the session ended */
	close(fd);
	return buf;
}

static void test_ramdev(struct vfio_setup *s, uint8_t **ram_stream, size_t *ram_len)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	uint8_t pattern[4096], got[4096];
	size_t len;
	uint8_t *stream;

	CHECK_OK(device_feature(device,
			     VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
			 sizeof(mig)));
	CHECK(mig.flags == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			    VFIO_MIGRATION_PRE_COPY), "flags %#llx", (unsigned long long)mig.flags);
	CHECK(get_state() == VFIO_DEVICE_STATE_RUNNING, "a device starts RUNNING");

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 7);
	CHECK(pwrite(s->device, pattern, sizeof(pattern), (off_t)RAM) == sizeof(pattern), "RAM");
	wr32(s->device, REG_SCRATCH, 0x5c4a7c4);
	wr32(s->device, REG_FILE + 0x20, 0xfeedf00d);

	CHECK_OK(device_feature(device,
			     VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size,
			 sizeof(size)));
	stream = save(&len);			/* RUNNING > RUNNING_P2P > STOP > STOP_COPY */
	CHECK(len && len == size.stop_copy_length, "stream %zu bytes, DATA_SIZE said %llu", len,
	      (unsigned long long)size.stop_copy_length);

	/* a reset runs the device again, registers and RAM cleared */
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));
	CHECK(get_state() == VFIO_DEVICE_STATE_RUNNING, "RUNNING after a reset");
	enable_device(s->device);
	CHECK(rd32(s->device, REG_SCRATCH) == 0, "reset cleared the registers");

	CHECK(resume(stream, len, VFIO_DEVICE_STATE_RUNNING) == 0, "resumed");
	CHECK(get_state() == VFIO_DEVICE_STATE_RUNNING, "RUNNING after resuming");
	CHECK(rd32(s->device, REG_SCRATCH) == 0x5c4a7c4, "scratch restored");
	CHECK(rd32(s->device, REG_FILE + 0x20) == 0xfeedf00d, "register file restored");
	CHECK(pread(s->device, got, sizeof(got), (off_t)RAM) == sizeof(got) &&
	      !memcmp(got, pattern, sizeof(got)), "BAR RAM restored");
	*ram_stream = stream;
	*ram_len = len;
}

/* Streams that must be refused, with the device left RESUMING; a reset
 * brings it back. */
static void test_refused(struct vfio_setup *s, uint8_t *stream, size_t len,
			 const uint8_t *other, size_t other_len)
{
	CHECK(resume(stream, len - 1, VFIO_DEVICE_STATE_STOP) == EINVAL, "a short stream");
	CHECK(get_state() == VFIO_DEVICE_STATE_RESUMING, "still RESUMING");
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));

	stream[len / 2] ^= 0x40;
	CHECK(resume(stream, len, VFIO_DEVICE_STATE_STOP) == EINVAL, "a damaged stream");
	stream[len / 2] ^= 0x40;
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));

	/* edu's is longer than any ramdev stream: refused at the write */
	CHECK(resume(other, other_len, VFIO_DEVICE_STATE_STOP) == ENOMEM,
	      "another model's stream");
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));
	CHECK(resume(other, len, VFIO_DEVICE_STATE_STOP) == EINVAL,
	      "another model's stream, cut to this one's length");
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));

	stream[0] ^= 1;
	CHECK(resume(stream, len, VFIO_DEVICE_STATE_STOP) == EINVAL, "a bad magic");
	stream[0] ^= 1;
	CHECK_OK(ioctl(s->device, VFIO_DEVICE_RESET));
	CHECK(resume(stream, len, VFIO_DEVICE_STATE_RUNNING) == 0, "the good one still works");
}

static void test_arcs_refused(void)
{
	CHECK(set_state(VFIO_DEVICE_STATE_ERROR) == -2 && errno == EINVAL, "to ERROR");
	CHECK(set_state(99) == -2 && errno == EINVAL, "no such state");
	CHECK(set_state(VFIO_DEVICE_STATE_STOP_COPY) >= 0, "STOP_COPY");
	CHECK(set_state(VFIO_DEVICE_STATE_PRE_COPY) == -2 && errno == EINVAL,
	      "STOP_COPY -> PRE_COPY is refused");
	CHECK(get_state() == VFIO_DEVICE_STATE_STOP_COPY, "and the state stays");
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "back to RUNNING");
}

static void test_precopy(void)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	int fd = set_state(VFIO_DEVICE_STATE_PRE_COPY);
	uint8_t byte;
	size_t len;
	uint8_t *buf;

	CHECK(fd >= 0, "PRE_COPY gives a data_fd");
	CHECK_OK(ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	CHECK(info.initial_bytes == 0 && info.dirty_bytes == 0, "no precopy data");
	CHECK_ERR(read(fd, &byte, 1), ENOMSG);
	/* PRE_COPY > PRE_COPY_P2P > STOP_COPY: the same fd streams on */
	CHECK(set_state(VFIO_DEVICE_STATE_STOP_COPY) == -1, "no new data_fd in STOP_COPY");
	CHECK_ERR(ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), EINVAL);
	buf = read_all(fd, &len);
	CHECK(len > 0, "the state came on the precopy fd: %zu bytes", len);
	free(buf);
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "RUNNING");
	close(fd);
}

/* Stopped: an interrupt the device raises waits for RUNNING. */
static void test_stopped_irq(void)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct pollfd p = { .fd = efd, .events = POLLIN };

	REQUIRE(set_irq_eventfds(device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &efd) == 0,
		"MSI-X: %s", strerror(errno));
	CHECK(set_state(VFIO_DEVICE_STATE_STOP) == -1, "STOP");
	wr32(device, REG_MSIX, 0);		/* the doorbell rings vector 0 */
	CHECK(poll(&p, 1, 50) == 0, "no interrupt while stopped");
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "RUNNING");
	CHECK(poll(&p, 1, 1000) == 1, "the held interrupt comes when it runs");
	close(efd);
}

/* Stopped: edu's DMA does not happen. */
static void test_stopped_dma(struct vfio_setup *edu)
{
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	int saved = device;

	REQUIRE(mem != MAP_FAILED, "mmap");
	memset(mem, 0x11, 4096);
	REQUIRE(map_dma(edu->container, mem, 0x100000, 4096,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0, "MAP_DMA");
	device = edu->device;
	CHECK(set_state(VFIO_DEVICE_STATE_STOP) == -1, "edu STOP");
	edu_dma(edu->device, EDU_BUF, 0x100000, 64, 1);
	CHECK(mem[0] == 0x11, "no DMA while stopped");
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "edu RUNNING");
	edu_dma(edu->device, EDU_BUF, 0x100000, 64, 1);
	CHECK(mem[0] != 0x11 || mem[1] != 0x11, "DMA again when it runs");
	device = saved;
}

/* A register of the device at group/bdf survives save, reset and resume. */
static void test_model(int group, const char *bdf, const char *what, uint64_t off,
		       unsigned int size, uint64_t val)
{
	struct vfio_setup s;
	uint64_t got = 0;
	uint8_t *stream;
	size_t len;

	setup_device(&s, group, bdf, VFIO_TYPE1v2_IOMMU);
	device = s.device;
	enable_device(device);
	CHECK(pwrite(device, &val, size, (off_t)off) == (ssize_t)size, "%s: write", what);
	stream = save(&len);
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "%s: RUNNING", what);
	CHECK_OK(ioctl(device, VFIO_DEVICE_RESET));
	CHECK(pread(device, &got, size, (off_t)off) == (ssize_t)size && got != val,
	      "%s: the reset cleared it", what);
	CHECK(resume(stream, len, VFIO_DEVICE_STATE_RUNNING) == 0, "%s: resumed", what);
	got = 0;
	CHECK(pread(device, &got, size, (off_t)off) == (ssize_t)size && got == val,
	      "%s: restored (%#llx)", what, (unsigned long long)got);
	free(stream);
	teardown(&s);
}

int main(void)
{
	struct vfio_setup ram, edu;
	uint8_t *stream, *edu_stream;
	size_t len, edu_len;

	setup_device(&ram, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	setup_device(&edu, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(ram.device);
	enable_device(edu.device);

	/* edu mid-work: a register set and its DMA buffer filled, then saved,
	 * reset and resumed; both come back (and its stream is offered to
	 * ramdev below) */
	uint8_t *dma = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	REQUIRE(dma != MAP_FAILED && map_dma(edu.container, dma, 0x200000, 8192,
					     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0,
		"edu DMA memory");
	for (int i = 0; i < 4096; i++)
		dma[i] = (uint8_t)(i * 31 + 5);
	device = edu.device;
	wr32(edu.device, EDU(0x04), 0x12345678);	/* liveness */
	edu_dma(edu.device, 0x200000, EDU_BUF, 4096, 0);	/* RAM -> edu's buffer */
	edu_stream = save(&edu_len);
	CHECK(set_state(VFIO_DEVICE_STATE_RUNNING) == -1, "edu RUNNING");
	CHECK_OK(ioctl(edu.device, VFIO_DEVICE_RESET));
	enable_device(edu.device);
	CHECK(resume(edu_stream, edu_len, VFIO_DEVICE_STATE_RUNNING) == 0, "edu resumed");
	CHECK(rd32(edu.device, EDU(0x04)) == ~0x12345678u, "edu's liveness register restored");
	edu_dma(edu.device, EDU_BUF, 0x201000, 4096, 1);	/* edu's buffer -> RAM */
	CHECK(!memcmp(dma, dma + 4096, 4096), "edu's DMA buffer restored");

	device = ram.device;
	test_ramdev(&ram, &stream, &len);
	test_refused(&ram, stream, len, edu_stream, edu_len);
	test_arcs_refused();
	test_precopy();
	test_stopped_irq();
	test_stopped_dma(&edu);
	/* I/OAT's CHAINADDR; virtio-net's queue select (I/O BAR0) */
	test_model(14, "0000:10:04.0", "ioat", REGION(0) + 0x90, 8, 0x12345000);
	test_model(13, "0000:10:03.0", "virtio-net", REGION(0) + 14, 2, 1);

	free(stream);
	free(edu_stream);
	teardown(&edu);
	teardown(&ram);
	return harness_done("migration");
}
