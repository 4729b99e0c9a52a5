/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the integration tests: the standard VFIO setup steps,
 * written only against <linux/vfio.h> and libc.  The default topology:
 *   group 10: 0000:10:00.0 edu
 *   group 11: 0000:10:01.0, 0000:10:01.1 ramdev (a two-function device)
 *   group 12: 0000:10:02.0 edu (vfio-pci), 0000:10:02.1 edu (host driver)
 */
#ifndef UVFIO_TEST_VFIO_UTIL_H
#define UVFIO_TEST_VFIO_UTIL_H

#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define EDU_GROUP	10
#define EDU_BDF		"0000:10:00.0"
#define RAM_GROUP	11
#define RAM_BDF0	"0000:10:01.0"
#define RAM_BDF1	"0000:10:01.1"
#define SHARED_GROUP	12
#define SHARED_VFIO_BDF	"0000:10:02.0"
#define SHARED_HOST_BDF	"0000:10:02.1"

#define REGION(index)	((uint64_t)(index) << 40)

struct vfio_setup {
	int container;
	int group;
	int device;
};

static inline int open_group(int id)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	return open(path, O_RDWR);
}

/* Container + group + IOMMU model + device fd, each step REQUIREd. */
static inline void setup_device(struct vfio_setup *s, int group_id, const char *bdf,
				unsigned long iommu_type)
{
	s->container = open("/dev/vfio/vfio", O_RDWR);
	REQUIRE(s->container >= 0, "open container: %s", strerror(errno));
	s->group = open_group(group_id);
	REQUIRE(s->group >= 0, "open group %d: %s", group_id, strerror(errno));
	REQUIRE(ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container) == 0,
		"SET_CONTAINER: %s", strerror(errno));
	REQUIRE(ioctl(s->container, VFIO_SET_IOMMU, iommu_type) == 0, "SET_IOMMU: %s",
		strerror(errno));
	s->device = bdf ? ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, bdf) : -1;
	REQUIRE(!bdf || s->device >= 0, "GET_DEVICE_FD %s: %s", bdf, strerror(errno));
}

static inline void teardown(struct vfio_setup *s)
{
	if (s->device >= 0)
		close(s->device);
	close(s->group);
	close(s->container);
}

static inline int map_dma(int container, void *vaddr, uint64_t iova, uint64_t size,
			  uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = (uintptr_t)vaddr,
		.iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

/* Returns the unmapped size, or -1. */
static inline long long unmap_dma(int container, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -1;
	return (long long)u.size;
}

/* SET_IRQS with DATA_EVENTFD|ACTION_TRIGGER for count descriptors. */
static inline int set_irq_eventfds(int device, uint32_t index, uint32_t start, uint32_t count,
				   const int32_t *fds)
{
	char buf[sizeof(struct vfio_irq_set) + 64 * sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = (uint32_t)(sizeof(*set) + count * sizeof(int32_t));
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	memcpy(set->data, fds, count * sizeof(int32_t));
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set);
}

/* SET_IRQS with DATA_NONE|ACTION_TRIGGER and count 0: the index off. */
static inline int disable_irqs(int device, uint32_t index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .index = index,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &set);
}

/* Waits up to ms for the eventfd; returns its count (0 on timeout). */
static inline uint64_t wait_eventfd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, ms) != 1 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static inline uint32_t rd32(int device, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	CHECK(pread(device, &v, 4, off) == 4, "pread 0x%llx: %s", (unsigned long long)off,
	      strerror(errno));
	return v;
}

static inline void wr32(int device, uint64_t off, uint32_t v)
{
	CHECK(pwrite(device, &v, 4, off) == 4, "pwrite 0x%llx: %s", (unsigned long long)off,
	      strerror(errno));
}

static inline void wr64(int device, uint64_t off, uint64_t v)
{
	CHECK(pwrite(device, &v, 8, off) == 8, "pwrite 0x%llx: %s", (unsigned long long)off,
	      strerror(errno));
}

/* VFIO_DEVICE_FEATURE with len (at most 64) bytes of the feature's data,
 * copied back after (a request may store a result even when it fails); the
 * ioctl's result. */
static inline int device_feature(int device, uint32_t flags, void *data, size_t len)
{
	union {
		struct vfio_device_feature f;
		uint8_t b[sizeof(struct vfio_device_feature) + 64];
	} u = { .f = { .argsz = (uint32_t)(sizeof(u.f) + len), .flags = flags } };
	int ret;

	REQUIRE(len <= 64, "feature data of %zu bytes", len);
	if (len)
		memcpy(u.f.data, data, len);
	ret = ioctl(device, VFIO_DEVICE_FEATURE, &u);
	if (len)
		memcpy(data, u.f.data, len);
	return ret;
}

/* Config space: memory decode and bus mastering on. */
static inline void enable_device(int device)
{
	uint16_t cmd = 0;

	CHECK(pread(device, &cmd, 2, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4) == 2, "cmd");
	cmd |= 0x6;
	CHECK(pwrite(device, &cmd, 2, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4) == 2, "cmd");
}

#define EDU(reg)	(REGION(0) + (reg))
#define EDU_BUF		0x40000

/* One edu DMA (to_ram: from the device's buffer to memory); returns once
 * the command register says it is done. */
static inline void edu_dma(int d, uint64_t src, uint64_t dst, uint64_t len, int to_ram)
{
	wr64(d, EDU(0x80), src);
	wr64(d, EDU(0x88), dst);
	wr64(d, EDU(0x90), len);
	wr64(d, EDU(0x98), 1 | (to_ram ? 2 : 0));
	CHECK((rd32(d, EDU(0x98)) & 1) == 0, "DMA finished");
}

/* Sends len bytes with one descriptor attached (SCM_RIGHTS). */
static inline int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == (ssize_t)len ? 0 : -1;
}

#endif
