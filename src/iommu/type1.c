// SPDX-License-Identifier: MIT
/*
 * The type1 IOMMU back end.  Every check of the ioctls runs in the kernel's
 * order with the kernel's errno (v6.18: EOVERFLOW for a wrapping range).
 * The IOMMU is software, so it differs from hardware type1 in two ways a
 * user can see: pages the device wrote are known exactly, so dirty bitmaps
 * hold only those; and the aperture is fixed to that of an x86 IOMMU domain
 * (48-bit, MSI window reserved).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <linux/vfio.h>

#include "dma_mem.h"
#include "iova_tree.h"
#include "type1.h"
#include "util/log.h"
#include "util/offsetofend.h"

#ifndef offsetofend
#endif

/* 4K | 2M | 1G, as an x86 IOMMU domain reports; mappings go by the smallest. */
#define TYPE1_PGSIZES		0x40201000ULL
#define TYPE1_PGSHIFT		12
#define TYPE1_PGSIZE		(1ULL << TYPE1_PGSHIFT)

/* Dirty bitmaps: one bit per page, at most INT_MAX pages (bitmap_set()'s
 * limit in the kernel), handed out in whole u64 words. */
#define DIRTY_BITMAP_PAGES_MAX	((uint64_t)INT32_MAX)
#define DIRTY_BITMAP_BYTES(n)	((((n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX	DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX)

/* Highest user address + 1 on x86-64 (TASK_SIZE_MAX), for access_ok(). */
#define USER_ADDR_END		0x00007ffffffff000ULL

static const struct vfio_iova_range type1_iova_ranges[] = {
	{ .start = 0, .end = 0xfedfffffULL },
	{ .start = 0xfef00000ULL, .end = 0xffffffffffffULL },
};
#define TYPE1_NR_IOVAS (sizeof(type1_iova_ranges) / sizeof(type1_iova_ranges[0]))

static unsigned int dma_entry_limit = UINT16_MAX;

void vfio_iommu_type1_set_dma_entry_limit(unsigned int limit)
{
	dma_entry_limit = limit;
}

struct type1_dma {
	struct iova_node node;		/* [iova, iova + size - 1] */
	uint64_t vaddr;
	uint32_t prot;			/* VFIO_DMA_MAP_FLAG_READ | _WRITE */
	bool vaddr_invalid;
	struct dma_mem *mem;
	uint64_t *bitmap;		/* pages written, while dirty tracking */
};

struct type1_group {
	struct iommu_group *iommu_group;
	TAILQ_ENTRY(type1_group) next;
};

struct type1 {
	struct iova_tree dmas;
	TAILQ_HEAD(, type1_group) groups;
	unsigned int dma_avail;
	unsigned int vaddr_invalid_count;
	bool v2;
	bool dirty_tracking;
	uint64_t bytes_mapped;
	uint64_t faults, ops, bytes;	/* device DMA */
};

static inline struct type1_dma *to_dma(struct iova_node *n)
{
	return n ? container_of(n, struct type1_dma, node) : NULL;
}

static inline uint64_t dma_size(const struct type1_dma *dma)
{
	return dma->node.last - dma->node.start + 1;
}

/* access_ok(): the range lies in user space. */
static bool user_range_ok(uint64_t addr, uint64_t size)
{
	return size <= USER_ADDR_END && addr <= USER_ADDR_END - size;
}

/* ---- dirty bitmaps ---- */

static int dma_bitmap_alloc(struct type1_dma *dma)
{
	uint64_t npages = dma_size(dma) >> TYPE1_PGSHIFT;

	if (npages > DIRTY_BITMAP_PAGES_MAX)
		return -EINVAL;
	/* One spare word: update_user_bitmap() shifts in place. */
	dma->bitmap = calloc(1, DIRTY_BITMAP_BYTES(npages) + sizeof(uint64_t));
	return dma->bitmap ? 0 : -ENOMEM;
}

static void dma_bitmap_free(struct type1_dma *dma)
{
	free(dma->bitmap);
	dma->bitmap = NULL;
}

static void dma_bitmap_set(struct type1_dma *dma, uint64_t off, uint64_t len)
{
	for (uint64_t pg = off >> TYPE1_PGSHIFT; pg <= (off + len - 1) >> TYPE1_PGSHIFT; pg++)
		dma->bitmap[pg / 64] |= 1ULL << (pg % 64);
}

static int dma_bitmap_alloc_all(struct type1 *iommu)
{
	struct iova_node *n, *tmp;
	int ret;

	iova_tree_foreach_safe(n, tmp, &iommu->dmas) {
		ret = dma_bitmap_alloc(to_dma(n));
		if (ret) {
			iova_tree_foreach_safe(n, tmp, &iommu->dmas)
				dma_bitmap_free(to_dma(n));
			return ret;
		}
	}
	return 0;
}

static bool verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	return npages && bitmap_size && bitmap_size <= DIRTY_BITMAP_SIZE_MAX &&
	       bitmap_size >= DIRTY_BITMAP_BYTES(npages);
}

static unsigned int pgshift_of(uint64_t pgsize)
{
	/* __ffs(0) is undefined in the kernel; no page count fits then. */
	return pgsize ? (unsigned int)__builtin_ctzll(pgsize) : 64;
}

static uint64_t pages_in(uint64_t size, uint64_t pgsize)
{
	unsigned int shift = pgshift_of(pgsize);

	return shift < 64 ? size >> shift : 0;
}

/*
 * Stores dma's dirty bits into the user's bitmap at data, whose bit 0 is the
 * page at base_iova.  A mapping that does not start on a word boundary of
 * the user's bitmap shares its first word with the one before: OR it in.
 */
static int update_user_bitmap(struct vfio_uarg *ua, uint64_t data, struct type1_dma *dma,
			      uint64_t base_iova)
{
	uint64_t nbits = dma_size(dma) >> TYPE1_PGSHIFT;
	uint64_t bit_offset = (dma->node.start - base_iova) >> TYPE1_PGSHIFT;
	uint64_t uaddr = data + bit_offset / 64 * sizeof(uint64_t);
	unsigned int shift = bit_offset % 64;
	size_t nwords = (size_t)((nbits + shift + 63) / 64);
	uint64_t *b = dma->bitmap;

	if (!ua->ctx || !ua->ctx->mm)
		return -EFAULT;
	if (shift) {
		uint64_t leftover;

		for (size_t i = nwords; i-- > 0;)
			b[i] = (b[i] << shift) | (i ? b[i - 1] >> (64 - shift) : 0);
		if (vfio_mm_read(ua->ctx->mm, uaddr, &leftover, sizeof(leftover)))
			return -EFAULT;
		b[0] |= leftover;
	}
	if (vfio_mm_write(ua->ctx->mm, uaddr, b, nwords * sizeof(uint64_t)))
		return -EFAULT;
	return 0;
}

/* ---- mappings ---- */

static void type1_remove_dma(struct type1 *iommu, struct type1_dma *dma)
{
	iova_tree_remove(&iommu->dmas, &dma->node);
	iommu->bytes_mapped -= dma_size(dma);
	if (dma->vaddr_invalid)
		iommu->vaddr_invalid_count--;
	dma_mem_unpin(dma->mem);
	dma_bitmap_free(dma);
	free(dma);
	iommu->dma_avail++;
}

static void type1_remove_all(struct type1 *iommu)
{
	struct iova_node *n, *tmp;

	iova_tree_foreach_safe(n, tmp, &iommu->dmas)
		type1_remove_dma(iommu, to_dma(n));
}

static bool iova_range_valid(uint64_t start, uint64_t last)
{
	for (size_t i = 0; i < TYPE1_NR_IOVAS; i++) {
		if (start >= type1_iova_ranges[i].start && last <= type1_iova_ranges[i].end)
			return true;
	}
	return false;
}

/* VFIO_DMA_MAP_FLAG_VADDR: the process gives a new address for memory it
 * invalidated; DMA carries on from the new backing. */
static int type1_update_vaddr(struct type1 *iommu, struct vfio_uarg *ua,
			      struct type1_dma *dma, const struct vfio_iommu_type1_dma_map *map)
{
	struct dma_mem *mem;
	int ret;

	if (!dma)
		return -ENOENT;
	if (!dma->vaddr_invalid || dma->node.start != map->iova || dma_size(dma) != map->size)
		return -EINVAL;
	ret = dma_mem_repin(ua, dma->mem, map->vaddr, &mem);
	if (ret)
		return ret;
	dma_mem_unpin(dma->mem);
	dma->mem = mem;
	dma->vaddr = map->vaddr;
	dma->vaddr_invalid = false;
	iommu->vaddr_invalid_count--;
	return 0;
}

static int type1_do_map(struct type1 *iommu, struct vfio_uarg *ua,
			const struct vfio_iommu_type1_dma_map *map)
{
	bool set_vaddr = map->flags & VFIO_DMA_MAP_FLAG_VADDR;
	uint32_t prot = map->flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	uint64_t iova_last, vaddr_last;
	struct type1_dma *dma;
	int ret;

	if (!map->size)
		return -EINVAL;
	if (__builtin_add_overflow(map->iova, map->size - 1, &iova_last) ||
	    __builtin_add_overflow(map->vaddr, map->size - 1, &vaddr_last))
		return -EOVERFLOW;
	if (!!prot == set_vaddr)
		return -EINVAL;
	if ((map->size | map->iova | map->vaddr) & (TYPE1_PGSIZE - 1))
		return -EINVAL;

	dma = to_dma(iova_tree_find(&iommu->dmas, map->iova, iova_last));
	if (set_vaddr)
		return type1_update_vaddr(iommu, ua, dma, map);
	if (dma)
		return -EEXIST;
	if (!iommu->dma_avail)
		return -ENOSPC;
	if (!iova_range_valid(map->iova, iova_last))
		return -EINVAL;

	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return -ENOMEM;
	dma->node.start = map->iova;
	dma->node.last = iova_last;
	dma->vaddr = map->vaddr;
	dma->prot = prot;
	ret = dma_mem_pin(ua, map->vaddr, map->size, prot & VFIO_DMA_MAP_FLAG_READ,
			  prot & VFIO_DMA_MAP_FLAG_WRITE, &dma->mem);
	if (!ret && iommu->dirty_tracking)
		ret = dma_bitmap_alloc(dma);
	if (ret) {
		dma_mem_unpin(dma->mem);
		free(dma);
		return ret;
	}
	iova_tree_insert(&iommu->dmas, &dma->node);
	iommu->dma_avail--;
	iommu->bytes_mapped += map->size;
	return 0;
}

static long type1_map_dma(struct type1 *iommu, struct vfio_uarg *ua)
{
	const uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			      VFIO_DMA_MAP_FLAG_VADDR;
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;

	if (copy_from_user(&map, ua, 0, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~mask)
		return -EINVAL;
	return type1_do_map(iommu, ua, &map);
}

/* Undoes a VADDR invalidation that failed at stop: the mappings from first
 * up to stop get their vaddr back. */
static void type1_vaddr_rollback(struct type1 *iommu, struct iova_node *first,
				 struct iova_node *stop)
{
	for (struct iova_node *n = first; n != stop; n = iova_tree_next(&iommu->dmas, n)) {
		to_dma(n)->vaddr_invalid = false;
		iommu->vaddr_invalid_count--;
	}
}

static int type1_do_unmap(struct type1 *iommu, struct vfio_uarg *ua,
			  struct vfio_iommu_type1_dma_unmap *unmap, const struct vfio_bitmap *bitmap)
{
	bool unmap_all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	bool invalidate_vaddr = unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR;
	bool get_dirty = unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	uint64_t iova = unmap->iova, last, unmapped = 0;
	struct iova_node *n, *first, *next;
	struct type1_dma *dma;
	int ret = -EINVAL;

	if (iova & (TYPE1_PGSIZE - 1))
		goto out;
	if (unmap_all) {
		if (iova || unmap->size)
			goto out;
		last = UINT64_MAX;
	} else {
		if (!unmap->size || unmap->size & (TYPE1_PGSIZE - 1))
			goto out;
		if (__builtin_add_overflow(iova, unmap->size - 1, &last)) {
			ret = -EOVERFLOW;
			goto out;
		}
	}
	if (get_dirty && (!iommu->dirty_tracking || bitmap->pgsize != TYPE1_PGSIZE))
		goto out;

	/* v2 never splits a mapping: the range must not cut one. */
	if (iommu->v2 && !unmap_all) {
		n = iova_tree_find(&iommu->dmas, iova, iova);
		if (n && n->start != iova)
			goto out;
		n = iova_tree_find(&iommu->dmas, last, last);
		if (n && n->last != last)
			goto out;
	}

	ret = 0;
	first = iova_tree_find(&iommu->dmas, iova, last);
	for (n = first; n && n->start <= last; n = next) {
		next = iova_tree_next(&iommu->dmas, n);
		dma = to_dma(n);
		/* v1: a range starting inside a mapping unmaps nothing more;
		 * one covering a mapping's first page takes all of it. */
		if (!iommu->v2 && iova > n->start)
			break;
		if (invalidate_vaddr) {
			if (dma->vaddr_invalid) {
				type1_vaddr_rollback(iommu, first, n);
				ret = -EINVAL;
				unmapped = 0;
				break;
			}
			dma->vaddr_invalid = true;
			iommu->vaddr_invalid_count++;
			unmapped += dma_size(dma);
			continue;
		}
		if (get_dirty) {
			ret = update_user_bitmap(ua, (uint64_t)(uintptr_t)bitmap->data, dma, iova);
			if (ret)
				break;
		}
		unmapped += dma_size(dma);
		type1_remove_dma(iommu, dma);
	}
out:
	unmap->size = unmapped;
	return ret;
}

static long type1_unmap_dma(struct type1 *iommu, struct vfio_uarg *ua)
{
	const uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR |
			      VFIO_DMA_UNMAP_FLAG_ALL;
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = { 0 };
	int ret;

	if (copy_from_user(&unmap, ua, 0, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~mask)
		return -EINVAL;
	if ((unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, ua, minsz, sizeof(bitmap)))
			return -EFAULT;
		if (!user_range_ok((uint64_t)(uintptr_t)bitmap.data, bitmap.size))
			return -EINVAL;
		if (!verify_bitmap_size(pages_in(unmap.size, bitmap.pgsize), bitmap.size))
			return -EINVAL;
	}

	ret = type1_do_unmap(iommu, ua, &unmap, &bitmap);
	if (ret)
		return ret;
	return copy_to_user(ua, 0, &unmap, minsz) ? -EFAULT : 0;
}

/* ---- VFIO_IOMMU_GET_INFO ---- */

static int type1_build_caps(struct type1 *iommu, struct vfio_info_cap *caps)
{
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *range;
	size_t range_size = sizeof(*range) + sizeof(type1_iova_ranges);

	mig = vfio_info_cap_add(caps, sizeof(*mig), VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	if (!mig)
		return -ENOMEM;
	mig->flags = 0;
	mig->pgsize_bitmap = TYPE1_PGSIZE;
	mig->max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX;

	avail = vfio_info_cap_add(caps, sizeof(*avail), VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	if (!avail)
		return -ENOMEM;
	avail->avail = iommu->dma_avail;

	range = vfio_info_cap_add(caps, range_size, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (!range)
		return -ENOMEM;
	range->nr_iovas = TYPE1_NR_IOVAS;
	range->reserved = 0;
	memcpy(range->iova_ranges, type1_iova_ranges, sizeof(type1_iova_ranges));
	return 0;
}

static long type1_get_info(struct type1 *iommu, struct vfio_uarg *ua)
{
	struct vfio_iommu_type1_info info;
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	int ret;

	memset(&info, 0, sizeof(info));
	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);

	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = TYPE1_PGSIZES;
	ret = type1_build_caps(iommu, &caps);
	if (ret) {
		free(caps.buf);
		return ret;
	}

	info.flags |= VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + caps.size) {
		info.argsz = (uint32_t)(sizeof(info) + caps.size);
	} else {
		vfio_info_cap_shift(&caps, sizeof(info));
		if (copy_to_user(ua, sizeof(info), caps.buf, caps.size)) {
			free(caps.buf);
			return -EFAULT;
		}
		info.cap_offset = sizeof(info);
	}
	free(caps.buf);
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

/* ---- VFIO_IOMMU_DIRTY_PAGES ---- */

static int type1_dirty_bitmap(struct type1 *iommu, struct vfio_uarg *ua,
			      const struct vfio_iommu_type1_dirty_bitmap_get *range)
{
	uint64_t last = range->iova + range->size - 1;
	struct iova_node *n;
	int ret;

	/* Like a v2 unmap, the range must not cut a mapping. */
	n = iova_tree_find(&iommu->dmas, range->iova, range->iova);
	if (n && n->start != range->iova)
		return -EINVAL;
	n = iova_tree_find(&iommu->dmas, last, last);
	if (n && n->last != last)
		return -EINVAL;

	for (n = iova_tree_find(&iommu->dmas, range->iova, last); n && n->start <= last;
	     n = iova_tree_next(&iommu->dmas, n)) {
		struct type1_dma *dma = to_dma(n);

		ret = update_user_bitmap(ua, (uint64_t)(uintptr_t)range->bitmap.data, dma,
					 range->iova);
		if (ret)
			return ret;
		/* Reported pages start clean again. */
		memset(dma->bitmap, 0, DIRTY_BITMAP_BYTES(dma_size(dma) >> TYPE1_PGSHIFT) +
				       sizeof(uint64_t));
	}
	return 0;
}

static long type1_dirty_pages(struct type1 *iommu, struct vfio_uarg *ua)
{
	const uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	int ret;

	if (!iommu->v2)
		return -EACCES;
	if (copy_from_user(&dirty, ua, 0, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || dirty.flags & ~mask)
		return -EINVAL;
	/* exactly one operation at a time */
	if (!dirty.flags || (dirty.flags & (dirty.flags - 1)))
		return -EINVAL;

	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		if (!iommu->dirty_tracking) {
			ret = dma_bitmap_alloc_all(iommu);
			if (ret)
				return ret;
			iommu->dirty_tracking = true;
		}
		return 0;
	}
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		if (iommu->dirty_tracking) {
			struct iova_node *n, *tmp;

			iommu->dirty_tracking = false;
			iova_tree_foreach_safe(n, tmp, &iommu->dmas)
				dma_bitmap_free(to_dma(n));
		}
		return 0;
	}

	if (dirty.argsz - minsz < sizeof(range))
		return -EINVAL;
	if (copy_from_user(&range, ua, minsz, sizeof(range)))
		return -EFAULT;
	if (range.iova + range.size < range.iova)
		return -EINVAL;
	if (!user_range_ok((uint64_t)(uintptr_t)range.bitmap.data, range.bitmap.size))
		return -EINVAL;
	if (!verify_bitmap_size(pages_in(range.size, range.bitmap.pgsize), range.bitmap.size))
		return -EINVAL;
	/* only the smallest page size is reported */
	if (range.bitmap.pgsize != TYPE1_PGSIZE)
		return -EINVAL;
	if (range.iova & (TYPE1_PGSIZE - 1))
		return -EINVAL;
	if (!range.size || range.size & (TYPE1_PGSIZE - 1))
		return -EINVAL;
	if (!iommu->dirty_tracking)
		return -EINVAL;
	return type1_dirty_bitmap(iommu, ua, &range);
}

/* ---- driver ops ---- */

static long type1_check_extension(struct type1 *iommu, unsigned long arg)
{
	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_UPDATE_VADDR:
	/* A software IOMMU never sees a non-coherent (no-snoop) write. */
	case VFIO_DMA_CC_IOMMU:
		return iommu != NULL;
	default:
		return 0;
	}
}

static void *type1_open(unsigned long arg, int *err)
{
	struct type1 *iommu;

	if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU) {
		*err = -EINVAL;
		return NULL;
	}
	iommu = calloc(1, sizeof(*iommu));
	if (!iommu) {
		*err = -ENOMEM;
		return NULL;
	}
	iova_tree_init(&iommu->dmas);
	TAILQ_INIT(&iommu->groups);
	iommu->v2 = arg == VFIO_TYPE1v2_IOMMU;
	iommu->dma_avail = dma_entry_limit;
	return iommu;
}

static void type1_release(void *data)
{
	struct type1 *iommu = data;
	struct type1_group *g;

	type1_remove_all(iommu);
	while ((g = TAILQ_FIRST(&iommu->groups))) {
		TAILQ_REMOVE(&iommu->groups, g, next);
		free(g);
	}
	free(iommu);
}

static long type1_ioctl(void *data, unsigned int cmd, struct vfio_uarg *ua)
{
	struct type1 *iommu = data;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
		return type1_check_extension(iommu, ua->value);
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(iommu, ua);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map_dma(iommu, ua);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap_dma(iommu, ua);
	case VFIO_IOMMU_DIRTY_PAGES:
		return type1_dirty_pages(iommu, ua);
	default:
		return -ENOTTY;
	}
}

static struct type1_group *type1_find_group(struct type1 *iommu, struct iommu_group *ig)
{
	struct type1_group *g;

	TAILQ_FOREACH(g, &iommu->groups, next) {
		if (g->iommu_group == ig)
			return g;
	}
	return NULL;
}

static int type1_attach_group(void *data, struct iommu_group *ig)
{
	struct type1 *iommu = data;
	struct type1_group *g;

	/* Attaching may need pinning, which an invalid vaddr cannot do. */
	if (iommu->vaddr_invalid_count)
		return -EBUSY;
	if (type1_find_group(iommu, ig))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->iommu_group = ig;
	TAILQ_INSERT_TAIL(&iommu->groups, g, next);
	return 0;
}

static void type1_detach_group(void *data, struct iommu_group *ig)
{
	struct type1 *iommu = data;
	struct type1_group *g = type1_find_group(iommu, ig);

	if (!g)
		return;
	TAILQ_REMOVE(&iommu->groups, g, next);
	free(g);
	/* Group ownership is what entitles the mappings; the last one takes
	 * them along. */
	if (TAILQ_EMPTY(&iommu->groups))
		type1_remove_all(iommu);
}

static int type1_dma_fault(struct type1 *iommu, uint64_t iova, size_t len, bool write)
{
	iommu->faults++;
	uvfio_dbg_rl("type1: DMA %s fault at iova 0x%" PRIx64 " len %zu",
		     write ? "write" : "read", iova, len);
	return -EFAULT;
}

static int type1_dma_rw(void *data, uint64_t iova, void *buf, size_t len, bool write)
{
	struct type1 *iommu = data;
	uint32_t need = write ? VFIO_DMA_MAP_FLAG_WRITE : VFIO_DMA_MAP_FLAG_READ;
	struct iova_node *first, *n;
	uint64_t last, cur;
	uint8_t *p = buf;

	if (!len)
		return 0;
	if (__builtin_add_overflow(iova, len - 1, &last))
		return type1_dma_fault(iommu, iova, len, write);

	/* Check the whole range first: a faulting DMA moves no data. */
	first = iova_tree_find(&iommu->dmas, iova, iova);
	for (n = first, cur = iova;; n = iova_tree_next(&iommu->dmas, n)) {
		if (!n || n->start > cur || !(to_dma(n)->prot & need))
			return type1_dma_fault(iommu, iova, len, write);
		if (n->last >= last)
			break;
		cur = n->last + 1;
	}

	for (n = first, cur = iova; cur - iova < len; n = iova_tree_next(&iommu->dmas, n)) {
		struct type1_dma *dma = to_dma(n);
		uint64_t off = cur - n->start;
		uint64_t in_map = n->last - cur;	/* bytes left here, less one */
		size_t remaining = len - (size_t)(cur - iova);
		size_t chunk = in_map < remaining - 1 ? (size_t)in_map + 1 : remaining;

		if (dma_mem_rw(dma->mem, off, p, chunk, write))
			return type1_dma_fault(iommu, iova, len, write);
		if (write && iommu->dirty_tracking)
			dma_bitmap_set(dma, off, chunk);
		p += chunk;
		cur += chunk;
	}
	iommu->ops++;
	iommu->bytes += len;
	return 0;
}

static void type1_describe(void *data, char *buf, size_t len)
{
	struct type1 *iommu = data;

	snprintf(buf, len,
		 "type1%s: %zu mappings, %" PRIu64 " bytes mapped, %" PRIu64 " faults, %" PRIu64
		 " dma ops (%" PRIu64 " bytes)%s",
		 iommu->v2 ? "v2" : "", iommu->dmas.count, iommu->bytes_mapped, iommu->faults,
		 iommu->ops, iommu->bytes, iommu->dirty_tracking ? ", dirty tracking" : "");
}

const struct vfio_iommu_driver_ops vfio_iommu_type1_ops = {
	.name = "vfio-iommu-type1",
	.open = type1_open,
	.release = type1_release,
	.ioctl = type1_ioctl,
	.attach_group = type1_attach_group,
	.detach_group = type1_detach_group,
	.dma_rw = type1_dma_rw,
	.describe = type1_describe,
};
