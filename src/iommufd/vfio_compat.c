// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 container ioctls on /dev/iommu (drivers/iommu/iommufd/
 * vfio_compat.c), acting on the context's compat IOAS since they carry no
 * IOAS ID.  Their errnos are iommufd's, which differ from type1's: a range
 * cutting a mapping fails with ENOENT, VADDR and dirty bitmaps are refused
 * (EINVAL), and no compat IOAS means ENODEV.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "iommufd_private.h"
#include "util/offsetofend.h"

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *ioas_id)
{
	if (!ictx->vfio_ioas)
		return -ENODEV;
	*ioas_id = ictx->vfio_ioas->obj.id;
	return 0;
}

/* An IOAS already chosen (IOMMU_VFIO_IOAS_SET, or an earlier group) stays. */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	if (ictx->vfio_ioas)
		return 0;
	ioas = iommufd_ioas_alloc(ictx);
	if (!ioas)
		return -ENOMEM;
	/* A user-visible object: IOMMU_VFIO_IOAS_GET tells its ID, and it
	 * lives until destroyed or the context closes. */
	ictx->vfio_ioas = ioas;
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		if (!ucmd->ictx->vfio_ioas)
			return -ENODEV;
		cmd->ioas_id = ucmd->ictx->vfio_ioas->obj.id;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
		if (!ioas)
			return -ENOENT;
		ucmd->ictx->vfio_ioas = ioas;
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		ucmd->ictx->vfio_ioas = NULL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static long iommufd_vfio_map_dma(struct iommufd_ctx *ictx, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	uint32_t prot = 0;
	uint64_t iova;

	if (copy_from_user(&map, ua, 0, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOPT_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOPT_WRITE;
	if (!ictx->vfio_ioas)
		return -ENODEV;
	iova = map.iova;
	return iopt_map_user_pages(&ictx->vfio_ioas->iopt, ua, ictx->account_mode, &iova,
				   map.vaddr, map.size, prot, 0);
}

static long iommufd_vfio_unmap_dma(struct iommufd_ctx *ictx, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct io_pagetable *iopt;
	uint64_t unmapped = 0;
	int ret;

	if (copy_from_user(&unmap, ua, 0, minsz))
		return -EFAULT;
	/* GET_DIRTY_BITMAP gave way to HWPT dirty tracking; VADDR cannot be
	 * made safe. */
	if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;
	if (!ictx->vfio_ioas)
		return -ENODEV;
	iopt = &ictx->vfio_ioas->iopt;

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		ret = iopt_unmap_all(iopt, &unmapped);
	} else {
		/* Type1 v1 may unmap part of a mapping: with large pages off,
		 * cut the areas at both ends of the range first. */
		if (iopt->disable_large_pages) {
			uint64_t iovas[] = { unmap.iova + unmap.size - 1, unmap.iova - 1 };

			ret = iopt_cut_iova(iopt, iovas, unmap.iova ? 2 : 1);
			if (ret)
				return ret;
		}
		ret = iopt_unmap_iova(iopt, unmap.iova, unmap.size, &unmapped);
	}
	/* What was unmapped goes back even when the unmap stopped early. */
	unmap.size = unmapped;
	if (copy_to_user(ua, 0, &unmap, minsz))
		return -EFAULT;
	return ret;
}

/* A software IOMMU never sees a write that bypasses the CPU caches, so
 * every HWPT enforces coherency. */
static long iommufd_vfio_cc_iommu(struct iommufd_ctx *ictx)
{
	struct iommufd_hwpt_paging *hwpt;

	if (!ictx->vfio_ioas)
		return -ENODEV;
	TAILQ_FOREACH(hwpt, &ictx->vfio_ioas->hwpt_list, hwpt_item)
		if (!hwpt->enforce_cache_coherency)
			return 0;
	return 1;
}

static long iommufd_vfio_check_extension(struct iommufd_ctx *ictx, unsigned long type)
{
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	/* IS_ENABLED(CONFIG_VFIO_NOIOMMU): distribution kernels build it. */
	case VFIO_NOIOMMU_IOMMU:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return iommufd_vfio_cc_iommu(ictx);
	/* VFIO_UPDATE_VADDR cannot be made safe; nesting went away. */
	default:
		return 0;
	}
}

static long iommufd_vfio_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	/* Like VFIO, there must be a group (its compat IOAS) first. */
	if (!ictx->vfio_ioas)
		return -ENODEV;
	/* Type1 v1 may unmap inside a mapping, which large IOPTEs forbid. */
	if (type == VFIO_TYPE1_IOMMU)
		return iopt_disable_large_pages(&ictx->vfio_ioas->iopt);
	return 0;
}

/* The page sizes all domains of the IOAS share, at least PAGE_SIZE. */
static uint64_t iommufd_get_pagesizes(struct iommufd_ioas *ioas)
{
	uint64_t pgsizes = ioas->iopt.ndomains ? IOPT_DOMAIN_PGSIZES : UINT64_MAX;

	if (pgsizes & (IOPT_PAGE_SIZE - 1)) {
		pgsizes &= ~(IOPT_PAGE_SIZE - 1);
		pgsizes |= IOPT_PAGE_SIZE;
	}
	return pgsizes > ioas->iopt.iova_alignment ? pgsizes : ioas->iopt.iova_alignment;
}

/* Each cap writes itself at off if avail bytes hold it, and returns its
 * size either way. */
static long fill_cap_dma_avail(struct iommufd_ioas *ioas, struct vfio_uarg *ua, size_t off,
			       size_t avail)
{
	/* iommufd's limit is the memory cgroup's; VFIO's U16_MAX would be
	 * too small for some users. */
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1 },
		.avail = UINT32_MAX,
	};

	(void)ioas;
	if (avail >= sizeof(cap) && copy_to_user(ua, off, &cap, sizeof(cap)))
		return -EFAULT;
	return sizeof(cap);
}

static long fill_cap_iova(struct iommufd_ioas *ioas, struct vfio_uarg *ua, size_t off,
			  size_t avail)
{
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1 },
	};
	const size_t elm = sizeof(struct vfio_iova_range);
	struct iova_node *ranges;
	unsigned int n;
	long ret = 0;

	n = iopt_iova_ranges(&ioas->iopt, NULL, 0);
	ranges = calloc(n, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	iopt_iova_ranges(&ioas->iopt, ranges, n);
	for (unsigned int i = 0; i < n; i++) {
		struct vfio_iova_range range = { .start = ranges[i].start, .end = ranges[i].last };

		if (avail >= sizeof(cap) + (cap.nr_iovas + 1) * elm &&
		    copy_to_user(ua, off + sizeof(cap) + cap.nr_iovas * elm, &range, elm)) {
			ret = -EFAULT;
			goto out;
		}
		cap.nr_iovas++;
	}
	if (avail >= sizeof(cap) + cap.nr_iovas * elm &&
	    copy_to_user(ua, off, &cap, sizeof(cap))) {
		ret = -EFAULT;
		goto out;
	}
	ret = (long)(sizeof(cap) + cap.nr_iovas * elm);
out:
	free(ranges);
	return ret;
}

/*
 * The caps are written in place, as far as argsz reaches; argsz always
 * comes back as the size that holds them all, and cap_offset is set only
 * when all of them fit.
 */
static long iommufd_vfio_iommu_get_info(struct iommufd_ctx *ictx, struct vfio_uarg *ua)
{
	typedef long (*fill_cap_fn)(struct iommufd_ioas *ioas, struct vfio_uarg *ua, size_t off,
				    size_t avail);
	static const fill_cap_fn fill_fns[] = { fill_cap_dma_avail, fill_cap_iova };
	struct vfio_iommu_type1_info info = { 0 };
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	size_t total = sizeof(info), last_cap = 0;
	struct iommufd_ioas *ioas;

	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	ioas = ictx->vfio_ioas;
	if (!ioas)
		return -ENODEV;

	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommufd_get_pagesizes(ioas);
	info.cap_offset = 0;
	for (size_t i = 0; i < sizeof(fill_fns) / sizeof(fill_fns[0]); i++) {
		long size = info.argsz > total ? fill_fns[i](ioas, ua, total, info.argsz - total)
					       : fill_fns[i](ioas, ua, total, 0);

		if (size < 0)
			return size;
		size = (size + 7) & ~7L;
		if (last_cap && info.argsz >= total) {
			uint32_t next = (uint32_t)total;

			if (copy_to_user(ua, last_cap + offsetof(struct vfio_info_cap_header, next),
					 &next, sizeof(next)))
				return -EFAULT;
		}
		last_cap = total;
		total += (size_t)size;
	}
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, struct vfio_uarg *ua)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_SET_IOMMU:
		return iommufd_vfio_set_iommu(ictx, (unsigned long)ua->value);
	case VFIO_CHECK_EXTENSION:
		return iommufd_vfio_check_extension(ictx, (unsigned long)ua->value);
	case VFIO_IOMMU_GET_INFO:
		return iommufd_vfio_iommu_get_info(ictx, ua);
	case VFIO_IOMMU_MAP_DMA:
		return iommufd_vfio_map_dma(ictx, ua);
	case VFIO_IOMMU_UNMAP_DMA:
		return iommufd_vfio_unmap_dma(ictx, ua);
	default:
		/* VFIO_IOMMU_DIRTY_PAGES included: ENOIOCTLCMD, seen as ENOTTY. */
		return -ENOTTY;
	}
}
