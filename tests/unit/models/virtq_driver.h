/* SPDX-License-Identifier: MIT */
/*
 * The driver's half of a legacy split ring, for tests: a flat block of
 * "guest memory" at bus address MEM_BASE that the fake DMA reaches (anything
 * outside it faults), and helpers that fill descriptors and the avail ring
 * the way a driver would.
 */
#ifndef UVFIO_TEST_VIRTQ_DRIVER_H
#define UVFIO_TEST_VIRTQ_DRIVER_H

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>

#define MEM_BASE	0x100000ULL
#define MEM_SIZE	(1u << 20)

static uint8_t test_mem[MEM_SIZE];
static unsigned int dma_faults;

static inline void *gpa(uint64_t iova)
{
	return test_mem + (iova - MEM_BASE);
}

static inline int mem_check(uint64_t iova, size_t len)
{
	if (iova < MEM_BASE || len > MEM_SIZE || iova - MEM_BASE > MEM_SIZE - len) {
		dma_faults++;
		return -EFAULT;
	}
	return 0;
}

static inline int mem_read(void *opaque, uint64_t iova, void *buf, size_t len)
{
	(void)opaque;
	if (mem_check(iova, len))
		return -EFAULT;
	memcpy(buf, gpa(iova), len);
	return 0;
}

static inline int mem_write(void *opaque, uint64_t iova, const void *buf, size_t len)
{
	(void)opaque;
	if (mem_check(iova, len))
		return -EFAULT;
	memcpy(gpa(iova), buf, len);
	return 0;
}

struct drv_ring {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx;
	uint16_t last_used;
};

/* The legacy layout at base (4096-aligned used ring), zeroed. */
static inline void drv_ring_init(struct drv_ring *d, uint16_t num, uint64_t base)
{
	uint64_t avail_end = base + 16ULL * num + 2ULL * (3 + num);

	d->num = num;
	d->desc = base;
	d->avail = base + 16ULL * num;
	d->used = (avail_end + 4095) & ~4095ULL;
	d->avail_idx = 0;
	d->last_used = 0;
	memset(gpa(base), 0, d->used + 6 + 8ULL * num - base);
}

static inline void drv_desc(struct drv_ring *d, uint16_t i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	struct vring_desc v = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gpa(d->desc + 16ULL * i), &v, sizeof(v));
}

/* Publishes head in the avail ring. */
static inline void drv_avail(struct drv_ring *d, uint16_t head)
{
	memcpy(gpa(d->avail + 4 + 2ULL * (d->avail_idx % d->num)), &head, 2);
	d->avail_idx++;
	memcpy(gpa(d->avail + 2), &d->avail_idx, 2);
}

static inline void drv_set_avail_idx(struct drv_ring *d, uint16_t idx)
{
	d->avail_idx = idx;
	memcpy(gpa(d->avail + 2), &idx, 2);
}

static inline void drv_avail_flags(struct drv_ring *d, uint16_t flags)
{
	memcpy(gpa(d->avail), &flags, 2);
}

static inline uint16_t drv_used_idx(const struct drv_ring *d)
{
	uint16_t idx;

	memcpy(&idx, gpa(d->used + 2), 2);
	return idx;
}

/* The i-th used entry ever written (modulo the ring). */
static inline struct vring_used_elem drv_used(const struct drv_ring *d, uint16_t i)
{
	struct vring_used_elem e;

	memcpy(&e, gpa(d->used + 4 + 8ULL * (i % d->num)), sizeof(e));
	return e;
}

#endif
