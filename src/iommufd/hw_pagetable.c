// SPDX-License-Identifier: MIT
/*
 * Paging HWPTs (drivers/iommu/iommufd/hw_pagetable.c) of the software IOMMU,
 * their dirty tracking, IOMMU_GET_HW_INFO, and the ioctls of features the
 * software IOMMU driver lacks (nesting, vIOMMU, fault queues), which fail
 * where the kernel's fail for such a driver.
 *
 * The software IOMMU sees every device write, so a HWPT's dirty set holds
 * exactly the 4 KiB IOVA pages written while tracking was on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_private.h"

#define DIRTY_PAGE_SHIFT	12
#define DIRTY_BLOCK_SHIFT	(DIRTY_PAGE_SHIFT + 6)

static int dirty_cmp(const struct iommufd_dirty_block *a, const struct iommufd_dirty_block *b)
{
	return a->index < b->index ? -1 : a->index > b->index;
}

/* libbsd leaves __unused undefined, so spell out RB_GENERATE_STATIC. */
RB_GENERATE_INTERNAL(iommufd_dirty_rb, iommufd_dirty_block, rb, dirty_cmp,
		     __attribute__((__unused__)) static)

static void dirty_clear_all(struct iommufd_hwpt_paging *hwpt)
{
	struct iommufd_dirty_block *b, *tmp;

	RB_FOREACH_SAFE(b, iommufd_dirty_rb, &hwpt->dirty, tmp) {
		RB_REMOVE(iommufd_dirty_rb, &hwpt->dirty, b);
		free(b);
	}
}

void iommufd_hwpt_mark_dirty(struct iommufd_hwpt_paging *hwpt, uint64_t iova, uint64_t len)
{
	uint64_t pg, last_pg = (iova + len - 1) >> DIRTY_PAGE_SHIFT;
	struct iommufd_dirty_block key, *b = NULL;

	for (pg = iova >> DIRTY_PAGE_SHIFT; pg <= last_pg; pg++) {
		key.index = pg >> 6;
		if (!b || b->index != key.index) {
			b = RB_FIND(iommufd_dirty_rb, &hwpt->dirty, &key);
			if (!b) {
				b = calloc(1, sizeof(*b));
				/* Without memory, report more rather than less. */
				if (!b)
					return;
				b->index = key.index;
				RB_INSERT(iommufd_dirty_rb, &hwpt->dirty, b);
			}
		}
		b->bits |= 1ULL << (pg & 63);
	}
}

/* Clears the dirty pages of [start, last] (whole pages inside it). */
static void dirty_clear_range(struct iommufd_hwpt_paging *hwpt, uint64_t start, uint64_t last)
{
	struct iommufd_dirty_block key = { .index = start >> DIRTY_BLOCK_SHIFT };
	struct iommufd_dirty_block *b, *next;

	for (b = RB_NFIND(iommufd_dirty_rb, &hwpt->dirty, &key);
	     b && b->index <= last >> DIRTY_BLOCK_SHIFT; b = next) {
		next = RB_NEXT(iommufd_dirty_rb, &hwpt->dirty, b);
		for (unsigned int bit = 0; bit < 64; bit++) {
			uint64_t pg = (b->index << DIRTY_BLOCK_SHIFT) | ((uint64_t)bit << 12);

			if (pg >= start && pg + (1ULL << DIRTY_PAGE_SHIFT) - 1 <= last)
				b->bits &= ~(1ULL << bit);
		}
		if (!b->bits) {
			RB_REMOVE(iommufd_dirty_rb, &hwpt->dirty, b);
			free(b);
		}
	}
}

void iommufd_hwpt_forget_dirty(struct iommufd_hwpt_paging *hwpt, uint64_t start, uint64_t last)
{
	dirty_clear_range(hwpt, start & ~((1ULL << DIRTY_PAGE_SHIFT) - 1),
			  last | ((1ULL << DIRTY_PAGE_SHIFT) - 1));
}

/* ---- objects ---- */

struct iommufd_hwpt_paging *iommufd_get_hwpt_paging(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_HWPT_PAGING);

	return obj ? container_of(obj, struct iommufd_hwpt_paging, obj) : NULL;
}

static void iommufd_hwpt_paging_unlink(struct iommufd_hwpt_paging *hwpt)
{
	if (hwpt->linked) {
		TAILQ_REMOVE(&hwpt->ioas->hwpt_list, hwpt, hwpt_item);
		iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt);
		hwpt->linked = false;
	}
	hwpt->ioas->obj.users--;
	dirty_clear_all(hwpt);
}

void iommufd_hwpt_paging_abort(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *hwpt)
{
	iommufd_hwpt_paging_unlink(hwpt);
	iommufd_object_abort(ictx, &hwpt->obj);
	free(hwpt);
}

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	iommufd_hwpt_paging_unlink(container_of(obj, struct iommufd_hwpt_paging, obj));
}

int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags, bool user_data,
			      bool immediate_attach, struct iommufd_hwpt_paging **out)
{
	const uint32_t valid_flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_FAULT_ID_VALID |
				     IOMMU_HWPT_ALLOC_PASID;
	struct iommufd_hwpt_paging *hwpt;
	int ret;

	if (flags & ~valid_flags)
		return -EOPNOTSUPP;
	/* A nesting parent never faults to user space. */
	if ((flags & IOMMU_HWPT_FAULT_ID_VALID) && (flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
		return -EOPNOTSUPP;

	hwpt = calloc(1, sizeof(*hwpt));
	if (!hwpt)
		return -ENOMEM;
	ret = iommufd_object_alloc(ictx, &hwpt->obj, IOMMUFD_OBJ_HWPT_PAGING);
	if (ret) {
		free(hwpt);
		return ret;
	}
	hwpt->ioas = ioas;
	ioas->obj.users++;
	RB_INIT(&hwpt->dirty);
	/* What the software IOMMU's domain_alloc_paging_flags() refuses: it
	 * has no driver-specific domains, no nesting and no PASIDs. */
	if (user_data || (flags & (IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID))) {
		ret = -EOPNOTSUPP;
		goto out_abort;
	}
	hwpt->dirty_capable = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	/* No DMA bypasses the CPU caches here. */
	hwpt->enforce_cache_coherency = true;

	if (immediate_attach) {
		ret = iommufd_hw_pagetable_attach(hwpt, idev);
		if (ret)
			goto out_abort;
	}
	ret = iopt_table_add_domain(&ioas->iopt, hwpt);
	if (ret)
		goto out_detach;
	hwpt->linked = true;
	TAILQ_INSERT_TAIL(&ioas->hwpt_list, hwpt, hwpt_item);
	*out = hwpt;
	return 0;

out_detach:
	if (immediate_attach) {
		iommufd_hw_pagetable_detach(idev);
		hwpt->obj.users--;
	}
out_abort:
	iommufd_hwpt_paging_abort(ictx, hwpt);
	return ret;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_object *pt_obj;
	struct iommufd_device *idev;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;
	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj)
		return -EINVAL;

	switch (pt_obj->type) {
	case IOMMUFD_OBJ_IOAS:
		ret = iommufd_hwpt_paging_alloc(ucmd->ictx,
						container_of(pt_obj, struct iommufd_ioas, obj),
						idev, cmd->flags, cmd->data_len, false, &hwpt);
		if (ret)
			return ret;
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		/* A nested HWPT: the driver has no domain_alloc_nested. */
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}

	/* No FAULT object can exist (IOMMU_FAULT_QUEUE_ALLOC fails). */
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		ret = -ENOENT;
		goto out_abort;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
	return 0;

out_abort:
	iommufd_hwpt_paging_abort(ucmd->ictx, hwpt);
	return ret;
}

/* ---- dirty tracking ---- */

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	hwpt = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (!hwpt)
		return -ENOENT;
	/* Only a domain allocated for it has dirty ops. */
	if (!hwpt->dirty_capable)
		return -EOPNOTSUPP;
	if (cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
		/* Start from a clean snapshot. */
		dirty_clear_all(hwpt);
		hwpt->dirty_tracking = true;
	} else {
		hwpt->dirty_tracking = false;
	}
	return 0;
}

/* OR-ing bits into the user's bitmap, one 64-bit word at a time. */
struct dirty_report {
	struct vfio_uarg *ua;
	uint64_t data;
	uint64_t word_index;
	uint64_t word;
	bool have_word;
	bool failed;
};

static void dirty_report_flush(struct dirty_report *r)
{
	uint64_t addr = r->data + r->word_index * sizeof(uint64_t), cur;

	if (!r->have_word || r->failed)
		return;
	r->have_word = false;
	if (iommufd_user_read(r->ua, addr, &cur, sizeof(cur))) {
		r->failed = true;
		return;
	}
	cur |= r->word;
	if (iommufd_user_write(r->ua, addr, &cur, sizeof(cur)))
		r->failed = true;
}

static void dirty_report_bits(struct dirty_report *r, uint64_t first, uint64_t last)
{
	for (uint64_t w = first / 64; w <= last / 64; w++) {
		uint64_t lo = w == first / 64 ? first % 64 : 0;
		uint64_t hi = w == last / 64 ? last % 64 : 63;
		uint64_t mask = (hi == 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) & ~((1ULL << lo) - 1);

		if (!r->have_word || r->word_index != w) {
			dirty_report_flush(r);
			r->word_index = w;
			r->word = 0;
			r->have_word = true;
		}
		r->word |= mask;
	}
}

/*
 * Sets the bits of the dirty pages of [iova, last] in the user's bitmap,
 * where bit n stands for page_size bytes at iova + n * page_size.  Returns
 * false if the bitmap could not be written.
 */
static bool dirty_report(struct iommufd_hwpt_paging *hwpt, struct vfio_uarg *ua,
			 const struct iommu_hwpt_get_dirty_bitmap *cmd, uint64_t last)
{
	struct dirty_report r = { .ua = ua, .data = cmd->data };
	struct iommufd_dirty_block key = { .index = cmd->iova >> DIRTY_BLOCK_SHIFT };
	unsigned int shift = (unsigned int)__builtin_ctzll(cmd->page_size);
	struct iommufd_dirty_block *b;

	for (b = RB_NFIND(iommufd_dirty_rb, &hwpt->dirty, &key);
	     b && b->index <= last >> DIRTY_BLOCK_SHIFT && !r.failed;
	     b = RB_NEXT(iommufd_dirty_rb, &hwpt->dirty, b)) {
		for (unsigned int bit = 0; bit < 64; bit++) {
			uint64_t pg = (b->index << DIRTY_BLOCK_SHIFT) | ((uint64_t)bit << 12);
			uint64_t pg_last = pg + (1ULL << DIRTY_PAGE_SHIFT) - 1;

			if (!(b->bits & (1ULL << bit)) || pg_last < cmd->iova || pg > last)
				continue;
			pg = pg < cmd->iova ? cmd->iova : pg;
			pg_last = pg_last > last ? last : pg_last;
			dirty_report_bits(&r, (pg - cmd->iova) >> shift,
					  (pg_last - cmd->iova) >> shift);
		}
	}
	dirty_report_flush(&r);
	return !r.failed;
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	uint64_t pgsize, last;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (!hwpt)
		return -ENOENT;

	/* The range: whole IOMMU pages and whole bitmap pages. */
	pgsize = hwpt->ioas->iopt.iova_alignment;
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	if ((cmd->iova & (pgsize - 1)) || ((last + 1) & (pgsize - 1)))
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if ((cmd->iova & (cmd->page_size - 1)) || ((last + 1) & (cmd->page_size - 1)))
		return -EINVAL;
	if (!hwpt->dirty_capable)
		return -EOPNOTSUPP;
	/*
	 * With tracking off, or a bitmap that cannot be written, the kernel's
	 * walk fails inside iova_bitmap_for_each(), whose result is ignored:
	 * the call succeeds having reported nothing.
	 */
	if (!hwpt->dirty_tracking)
		return 0;
	if (dirty_report(hwpt, ucmd->ua, cmd, last) &&
	    !(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
		dirty_clear_range(hwpt, cmd->iova, last);
	return 0;
}

/* ---- hardware information ---- */

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	static const uint8_t zeroes[4096];
	struct iommu_hw_info *cmd = ucmd->cmd;
	uint64_t done;

	if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE))
		cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	if (!iommufd_get_device(ucmd->ictx, cmd->dev_id))
		return -ENOENT;

	/* A driver without hw_info: no data, and the user's buffer zeroed so
	 * it never mistakes stale bytes for data. */
	cmd->out_data_type = IOMMU_HW_INFO_TYPE_NONE;
	for (done = 0; done < cmd->data_len;) {
		uint64_t n = cmd->data_len - done < sizeof(zeroes) ? cmd->data_len - done
								    : sizeof(zeroes);

		if (iommufd_user_write(ucmd->ua, cmd->data_uptr + done, zeroes, n))
			return -EFAULT;
		done += n;
	}
	cmd->data_len = 0;
	/* Every device write is seen: dirty tracking is exact. */
	cmd->out_capabilities = IOMMU_HW_CAP_DIRTY_TRACKING;
	cmd->out_max_pasid_log2 = 0;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

/* ---- features the software IOMMU lacks ---- */

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		ret = -EOPNOTSUPP;
	else if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len))
		ret = -EINVAL;
	else if (!iommufd_get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_ANY))
		ret = -ENOENT;
	else
		ret = -EINVAL;	/* only nested HWPTs and vIOMMUs take invalidations */
	/* How many requests were handled goes back even on failure. */
	cmd->entry_num = 0;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return ret;
}

/* The kernel always makes the FAULT object; its fault file has no place in
 * the daemon's file model, so the queue is refused like an unknown flag. */
int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	(void)ucmd;
	return -EOPNOTSUPP;
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!iommufd_get_device(ucmd->ictx, cmd->dev_id))
		return -ENOENT;
	/* No get_viommu_size/viommu_init in the driver. */
	return -EOPNOTSUPP;
}

/* No vIOMMU can exist, so every vIOMMU ID names nothing. */
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	(void)ucmd;
	return -ENOENT;
}

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved || cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth)
		return -EINVAL;
	return -ENOENT;
}

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	uint64_t last;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	return -ENOENT;
}
