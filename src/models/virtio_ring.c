// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side.  The driver owns the descriptor table and the
 * avail ring and may change them at any moment, so each value is read once
 * through DMA, checked, and used from the local copy.
 *
 * Errors that break the ring:
 *   -EFAULT     a ring or buffer address the IOMMU does not permit
 *   -EPROTO     avail->idx moved further than the queue holds
 *   -ERANGE     a head or next index outside the table
 *   -ELOOP      a chain longer than the table (a loop) or than VIRTQ_CHAIN_MAX
 *   -EOVERFLOW  a buffer that wraps the address space, or part totals beyond 32 bits
 *   -EINVAL     a readable buffer after a writable one, or indirect misuse
 */
#include "virtio_ring.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <string.h>

#define AVAIL_FLAGS(vr)		((vr)->avail)
#define AVAIL_IDX(vr)		((vr)->avail + 2)
#define AVAIL_RING(vr, i)	((vr)->avail + 4 + 2 * (uint64_t)(i))
#define USED_IDX(vr)		((vr)->used + 2)
#define USED_RING(vr, i)	((vr)->used + 4 + 8 * (uint64_t)(i))

static int fail(struct virtq *vr, int err)
{
	if (!vr->error)
		vr->error = err;
	return vr->error;
}

static int dma_read(struct virtq *vr, uint64_t iova, void *buf, size_t len)
{
	if (vr->dma->read(vr->opaque, iova, buf, len))
		return fail(vr, -EFAULT);
	return 0;
}

static int dma_write(struct virtq *vr, uint64_t iova, const void *buf, size_t len)
{
	if (vr->dma->write(vr->opaque, iova, buf, len))
		return fail(vr, -EFAULT);
	return 0;
}

int virtq_init(struct virtq *vr, uint16_t num, uint64_t base, bool indirect,
	       const struct virtq_dma_ops *dma, void *opaque)
{
	uint64_t avail_end, used, end;

	if (!num || num > VIRTQ_MAX_NUM || (num & (num - 1)))
		return -EINVAL;
	avail_end = base + 16ULL * num + 2ULL * (3 + num);
	used = (avail_end + VIRTQ_LEGACY_ALIGN - 1) & ~(uint64_t)(VIRTQ_LEGACY_ALIGN - 1);
	end = used + 6 + 8ULL * num;
	/* the whole ring must lie below 2^64 */
	if (avail_end < base || used < avail_end || end < used)
		return -EINVAL;
	memset(vr, 0, sizeof(*vr));
	vr->dma = dma;
	vr->opaque = opaque;
	vr->num = num;
	vr->indirect = indirect;
	vr->desc = base;
	vr->avail = base + 16ULL * num;
	vr->used = used;
	return 0;
}

void virtq_clear(struct virtq *vr)
{
	memset(vr, 0, sizeof(*vr));
}

/* Appends one descriptor's buffer to the chain, keeping readable before
 * writable and the totals within 32 bits. */
static int add_seg(struct virtq *vr, struct virtq_chain *c, const struct vring_desc *d)
{
	unsigned int n = c->nr_out + c->nr_in;
	uint64_t total;

	if (n >= VIRTQ_CHAIN_MAX)
		return fail(vr, -ELOOP);
	if (d->len && d->addr + d->len - 1 < d->addr)
		return fail(vr, -EOVERFLOW);
	if (d->flags & VRING_DESC_F_WRITE) {
		total = (uint64_t)c->in_len + d->len;
		c->nr_in++;
	} else {
		if (c->nr_in)
			return fail(vr, -EINVAL);
		total = (uint64_t)c->out_len + d->len;
		c->nr_out++;
	}
	if (total > UINT32_MAX)
		return fail(vr, -EOVERFLOW);
	if (d->flags & VRING_DESC_F_WRITE)
		c->in_len = total;
	else
		c->out_len = total;
	c->seg[n].addr = d->addr;
	c->seg[n].len = d->len;
	return 0;
}

/* Adds the chain that starts with descriptor d (already read) and goes on
 * through `next` in a table of max entries: the ring's own (tbl == NULL) or
 * an indirect table copied into tbl. */
static int walk(struct virtq *vr, struct virtq_chain *c, struct vring_desc d,
		const struct vring_desc *tbl, unsigned int max)
{
	unsigned int count = 1;
	int ret;

	for (;;) {
		if (d.flags & VRING_DESC_F_INDIRECT)
			return fail(vr, -EINVAL);
		ret = add_seg(vr, c, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= max)
			return fail(vr, -ERANGE);
		/* more descriptors than the table has: the chain loops */
		if (++count > max)
			return fail(vr, -ELOOP);
		if (tbl) {
			d = tbl[d.next];
		} else {
			ret = dma_read(vr, vr->desc + 16ULL * d.next, &d, sizeof(d));
			if (ret)
				return ret;
		}
	}
}

/* A head descriptor naming a table of descriptors (the whole chain). */
static int walk_indirect(struct virtq *vr, struct virtq_chain *c, const struct vring_desc *head)
{
	struct vring_desc tbl[VIRTQ_CHAIN_MAX];
	unsigned int n = head->len / sizeof(tbl[0]);
	int ret;

	if (!vr->indirect || (head->flags & VRING_DESC_F_NEXT) || !n ||
	    head->len % sizeof(tbl[0]))
		return fail(vr, -EINVAL);
	if (n > VIRTQ_CHAIN_MAX)
		return fail(vr, -ELOOP);
	if (head->addr + head->len - 1 < head->addr)
		return fail(vr, -EOVERFLOW);
	ret = dma_read(vr, head->addr, tbl, head->len);
	if (ret)
		return ret;
	return walk(vr, c, tbl[0], tbl, n);
}

int virtq_pop(struct virtq *vr, struct virtq_chain *c)
{
	struct vring_desc d;
	uint16_t head;
	int ret;

	if (vr->error)
		return vr->error;
	if (!vr->num)
		return 0;
	if (vr->last_avail == vr->avail_idx) {
		uint16_t idx;

		ret = dma_read(vr, AVAIL_IDX(vr), &idx, sizeof(idx));
		if (ret)
			return ret;
		if ((uint16_t)(idx - vr->last_avail) > vr->num)
			return fail(vr, -EPROTO);
		vr->avail_idx = idx;
		if (idx == vr->last_avail)
			return 0;
		/* the entries and descriptors were written before the index */
		atomic_thread_fence(memory_order_acquire);
	}
	ret = dma_read(vr, AVAIL_RING(vr, vr->last_avail & (vr->num - 1)), &head, sizeof(head));
	if (ret)
		return ret;
	if (head >= vr->num)
		return fail(vr, -ERANGE);

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	ret = dma_read(vr, vr->desc + 16ULL * head, &d, sizeof(d));
	if (ret)
		return ret;
	if (d.flags & VRING_DESC_F_INDIRECT)
		ret = walk_indirect(vr, c, &d);
	else
		ret = walk(vr, c, d, NULL, vr->num);
	if (ret)
		return ret;
	vr->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vr, unsigned int n)
{
	vr->last_avail -= n;
}

/* Moves len bytes between buf and the chain's segments [first, first+nr),
 * starting off bytes into them. */
static int chain_copy(struct virtq *vr, const struct virtq_chain *c, unsigned int first,
		      unsigned int nr, uint32_t total, uint32_t off, void *buf, uint32_t len,
		      bool to_chain)
{
	uint8_t *p = buf;

	if (vr->error)
		return vr->error;
	if (off > total || len > total - off)
		return -EINVAL;
	for (unsigned int i = first; i < first + nr && len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t n;
		int ret;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len ? s->len - off : len;
		if (to_chain)
			ret = dma_write(vr, s->addr + off, p, n);
		else
			ret = dma_read(vr, s->addr + off, p, n);
		if (ret)
			return ret;
		p += n;
		len -= n;
		off = 0;
	}
	return 0;
}

int virtq_chain_read(struct virtq *vr, const struct virtq_chain *c, uint32_t off, void *buf,
		     uint32_t len)
{
	return chain_copy(vr, c, 0, c->nr_out, c->out_len, off, buf, len, false);
}

int virtq_chain_write(struct virtq *vr, const struct virtq_chain *c, uint32_t off,
		      const void *buf, uint32_t len)
{
	return chain_copy(vr, c, c->nr_out, c->nr_in, c->in_len, off, (void *)buf, len, true);
}

int virtq_push(struct virtq *vr, uint16_t head, uint32_t len)
{
	struct vring_used_elem e = { .id = head, .len = len };
	int ret;

	if (vr->error)
		return vr->error;
	ret = dma_write(vr, USED_RING(vr, vr->used_idx & (vr->num - 1)), &e, sizeof(e));
	if (ret)
		return ret;
	vr->used_idx++;
	return 0;
}

void virtq_unpush(struct virtq *vr, unsigned int n)
{
	vr->used_idx -= n;
}

int virtq_publish(struct virtq *vr)
{
	int ret;

	if (vr->error)
		return vr->error;
	if (vr->used_idx == vr->used_published)
		return 0;
	/* the entries must be visible before the index that covers them */
	atomic_thread_fence(memory_order_release);
	ret = dma_write(vr, USED_IDX(vr), &vr->used_idx, sizeof(vr->used_idx));
	if (ret)
		return ret;
	vr->used_published = vr->used_idx;
	return 1;
}

bool virtq_want_interrupt(struct virtq *vr)
{
	uint16_t flags;

	if (vr->error || !vr->num)
		return false;
	/* the flags the driver set after seeing the new used->idx count */
	atomic_thread_fence(memory_order_seq_cst);
	if (dma_read(vr, AVAIL_FLAGS(vr), &flags, sizeof(flags)))
		return false;
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}
