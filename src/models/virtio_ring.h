/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue (virtio 1.x "Split Virtqueues", in the
 * legacy layout: the used ring starts on the next 4096-byte boundary after the
 * avail ring), written for a driver that cannot be trusted: every index,
 * length and address it supplies is checked, and all ring and buffer memory
 * is reached only through the DMA callbacks (the IOMMU).  The first violation
 * breaks the ring for good: every later call returns that error until
 * virtq_init() starts it afresh.
 */
#ifndef UVFIO_MODELS_VIRTIO_RING_H
#define UVFIO_MODELS_VIRTIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reach device-visible memory; 0, or a negative errno (nothing moved). */
struct virtq_dma_ops {
	int (*read)(void *opaque, uint64_t iova, void *buf, size_t len);
	int (*write)(void *opaque, uint64_t iova, const void *buf, size_t len);
};

/* Largest queue a split ring can describe (16-bit indices). */
#define VIRTQ_MAX_NUM		32768
/* Most descriptors one chain may have: a longer one is refused. */
#define VIRTQ_CHAIN_MAX		256
/* The legacy interface's alignment of the used ring. */
#define VIRTQ_LEGACY_ALIGN	4096

struct virtq {
	const struct virtq_dma_ops *dma;
	void *opaque;
	uint16_t num;			/* 0: not set up */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used;	/* bus addresses of the three parts */
	uint16_t last_avail;		/* next avail entry the device takes */
	uint16_t avail_idx;		/* the driver's avail->idx, last read */
	uint16_t used_idx;		/* next used entry the device writes */
	uint16_t used_published;	/* used->idx as the driver sees it */
	int error;			/* first violation, 0 while healthy */
};

struct virtq_seg {
	uint64_t addr;
	uint32_t len;
};

/* One available buffer: device-readable segments, then device-writable. */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint32_t out_len, in_len;	/* byte totals of each part */
	struct virtq_seg seg[VIRTQ_CHAIN_MAX];
};

/* Sets up a ring of num entries (a power of two) at the legacy layout whose
 * descriptor table starts at base.  -EINVAL for a bad num. */
int virtq_init(struct virtq *vr, uint16_t num, uint64_t base, bool indirect,
	       const struct virtq_dma_ops *dma, void *opaque);
/* Forgets the ring (queue address 0, or a reset). */
void virtq_clear(struct virtq *vr);

static inline bool virtq_ready(const struct virtq *vr)
{
	return vr->num && !vr->error;
}

/* Takes the next available chain: 1 taken, 0 none available, or the error
 * that broke the ring. */
int virtq_pop(struct virtq *vr, struct virtq_chain *c);
/* Gives back the last n chains taken and not yet pushed. */
void virtq_unpop(struct virtq *vr, unsigned int n);
/* Copies len bytes at offset off of the chain's readable part into buf. */
int virtq_chain_read(struct virtq *vr, const struct virtq_chain *c, uint32_t off, void *buf,
		     uint32_t len);
/* Copies len bytes from buf to offset off of the chain's writable part. */
int virtq_chain_write(struct virtq *vr, const struct virtq_chain *c, uint32_t off,
		      const void *buf, uint32_t len);
/* Records chain `head` as used with len bytes written; the driver sees it
 * only after virtq_publish(). */
int virtq_push(struct virtq *vr, uint16_t head, uint32_t len);
/* Withdraws the last n entries pushed and not yet published. */
void virtq_unpush(struct virtq *vr, unsigned int n);
/* Makes the pushed entries visible (used->idx): 1 if there were any, 0 if
 * not, or the ring's error. */
int virtq_publish(struct virtq *vr);
/* After a publish: does the driver want an interrupt (no
 * VRING_AVAIL_F_NO_INTERRUPT)?  false for a broken ring. */
bool virtq_want_interrupt(struct virtq *vr);

#endif
