// SPDX-License-Identifier: MIT
/*
 * Physical devices bound to a context (drivers/iommu/iommufd/device.c):
 * DMA ownership of their IOMMU group, attaching to an IOAS (through an
 * automatic paging HWPT) or to a HWPT, replacing and detaching, and device
 * DMA through the attached table.
 *
 * The devices of one IOMMU group cannot be told apart by the IOMMU, so
 * they share one table: the first attach sets it, the others must use the
 * same one, and a replace moves the whole group.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "core/vfio.h"
#include "iommufd_private.h"
#include "util/log.h"

struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_DEVICE);

	return obj ? container_of(obj, struct iommufd_device, obj) : NULL;
}

static struct iommufd_group *iommufd_get_group(struct iommufd_ctx *ictx, struct iommu_group *g)
{
	struct iommufd_group *igroup;

	TAILQ_FOREACH(igroup, &ictx->groups, next) {
		if (igroup->group == g) {
			igroup->refs++;
			return igroup;
		}
	}
	igroup = calloc(1, sizeof(*igroup));
	if (!igroup)
		return NULL;
	igroup->group = g;
	igroup->refs = 1;
	TAILQ_INIT(&igroup->attached);
	TAILQ_INSERT_TAIL(&ictx->groups, igroup, next);
	return igroup;
}

static void iommufd_put_group(struct iommufd_ctx *ictx, struct iommufd_group *igroup)
{
	if (--igroup->refs)
		return;
	TAILQ_REMOVE(&ictx->groups, igroup, next);
	free(igroup);
}

int iommufd_device_bind(struct iommufd_ctx *ictx, struct host_device *dev,
			struct iommufd_device **out, uint32_t *id)
{
	struct iommufd_group *igroup;
	struct iommufd_device *idev;
	int ret;

	if (!dev->iommu_group)
		return -ENODEV;
	igroup = iommufd_get_group(ictx, dev->iommu_group);
	if (!igroup)
		return -ENOMEM;
	/* The whole group becomes this context's: no host driver, and no
	 * other VFIO user or context, may have it. */
	ret = iommu_group_claim_dma_owner(dev->iommu_group, ictx);
	if (ret)
		goto out_put_group;
	idev = calloc(1, sizeof(*idev));
	if (!idev) {
		ret = -ENOMEM;
		goto out_release_owner;
	}
	ret = iommufd_object_alloc(ictx, &idev->obj, IOMMUFD_OBJ_DEVICE);
	if (ret) {
		free(idev);
		goto out_release_owner;
	}
	idev->ictx = ictx;
	idev->dev = dev;
	idev->igroup = igroup;
	iommufd_ctx_get(ictx);
	/* The binder holds the device until iommufd_device_unbind(). */
	idev->obj.users++;
	iommufd_object_finalize(ictx, &idev->obj);
	*out = idev;
	*id = idev->obj.id;
	return 0;

out_release_owner:
	iommu_group_release_dma_owner(dev->iommu_group);
out_put_group:
	iommufd_put_group(ictx, igroup);
	return ret;
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = container_of(obj, struct iommufd_device, obj);
	struct iommufd_ctx *ictx = idev->ictx;

	iommu_group_release_dma_owner(idev->igroup->group);
	iommufd_put_group(ictx, idev->igroup);
	/* Last: this may be the context's final reference. */
	iommufd_ctx_put(ictx);
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_device_detach(idev);
	iommufd_object_put_and_try_destroy(idev->ictx, &idev->obj);
}

/* ---- attach, replace, detach ---- */

int iommufd_hw_pagetable_attach(struct iommufd_hwpt_paging *hwpt, struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	int ret;

	if (idev->attached)
		return -EBUSY;
	if (igroup->hwpt && igroup->hwpt != hwpt)
		return -EINVAL;
	/* Per device, since only the attach of each device reserves its
	 * regions in the IOAS. */
	ret = iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt, idev);
	if (ret)
		return ret;
	igroup->hwpt = hwpt;
	hwpt->obj.users++;
	idev->attached = true;
	TAILQ_INSERT_TAIL(&igroup->attached, idev, attach_next);
	return 0;
}

struct iommufd_hwpt_paging *iommufd_hw_pagetable_detach(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *hwpt = igroup->hwpt;

	TAILQ_REMOVE(&igroup->attached, idev, attach_next);
	idev->attached = false;
	if (TAILQ_EMPTY(&igroup->attached))
		igroup->hwpt = NULL;
	iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
	return hwpt;
}

/* Drops a device's reference; an automatic HWPT nobody uses goes away. */
static void iommufd_hw_pagetable_put(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *hwpt)
{
	if (hwpt->auto_domain)
		iommufd_object_put_and_try_destroy(ictx, &hwpt->obj);
	else
		hwpt->obj.users--;
}

static void iommufd_group_remove_reserved_iova(struct iommufd_group *igroup,
					       struct iommufd_hwpt_paging *hwpt)
{
	struct iommufd_device *cur;

	TAILQ_FOREACH(cur, &igroup->attached, attach_next)
		iopt_remove_reserved_iova(&hwpt->ioas->iopt, cur);
}

/*
 * Moves idev's group to hwpt.  *old is the table left behind (NULL when
 * hwpt already was the group's), holding one reference for the caller.
 */
static int iommufd_device_do_replace(struct iommufd_device *idev,
				     struct iommufd_hwpt_paging *hwpt,
				     struct iommufd_hwpt_paging **old)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *old_hwpt = igroup->hwpt;
	struct iommufd_device *cur;
	unsigned int n = 0;
	int ret;

	*old = NULL;
	if (!old_hwpt || !idev->attached)
		return -EINVAL;
	if (hwpt == old_hwpt)
		return 0;
	/* The reserved regions of every device of the group move along. */
	if (hwpt->ioas != old_hwpt->ioas) {
		TAILQ_FOREACH(cur, &igroup->attached, attach_next) {
			ret = iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt, cur);
			if (ret) {
				iommufd_group_remove_reserved_iova(igroup, hwpt);
				return ret;
			}
		}
		iommufd_group_remove_reserved_iova(igroup, old_hwpt);
	}
	igroup->hwpt = hwpt;
	TAILQ_FOREACH(cur, &igroup->attached, attach_next)
		n++;
	hwpt->obj.users += n;
	old_hwpt->obj.users -= n - 1;
	*old = old_hwpt;
	return 0;
}

static int iommufd_device_do_attach_or_replace(struct iommufd_device *idev,
					       struct iommufd_hwpt_paging *hwpt, bool replace,
					       struct iommufd_hwpt_paging **old)
{
	*old = NULL;
	if (replace)
		return iommufd_device_do_replace(idev, hwpt, old);
	return iommufd_hw_pagetable_attach(hwpt, idev);
}

/*
 * Attaching to an IOAS: any automatic HWPT of it that takes the device is
 * as good as another (-EINVAL means it does not); else a new one is made.
 * HWPTs user space allocated are never picked.
 */
static int iommufd_device_auto_get_domain(struct iommufd_device *idev,
					  struct iommufd_ioas *ioas, uint32_t *pt_id,
					  bool replace, struct iommufd_hwpt_paging **old)
{
	struct iommufd_hwpt_paging *hwpt;
	int ret;

	TAILQ_FOREACH(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt->auto_domain)
			continue;
		ret = iommufd_device_do_attach_or_replace(idev, hwpt, replace, old);
		if (ret == -EINVAL)
			continue;
		if (!ret)
			*pt_id = hwpt->obj.id;
		return ret;
	}

	/* A plain attach attaches while allocating, as the kernel does for
	 * drivers that finish a domain only at attach. */
	ret = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0, false, !replace, &hwpt);
	if (ret)
		return ret;
	if (replace) {
		ret = iommufd_device_do_replace(idev, hwpt, old);
		if (ret) {
			iommufd_hwpt_paging_abort(idev->ictx, hwpt);
			return ret;
		}
	}
	hwpt->auto_domain = true;
	*pt_id = hwpt->obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
	return 0;
}

static int iommufd_device_change_pt(struct iommufd_device *idev, uint32_t *pt_id, bool replace)
{
	struct iommufd_hwpt_paging *old = NULL;
	struct iommufd_object *pt_obj;
	int ret;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj)
		return -ENOENT;
	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
		ret = iommufd_device_do_attach_or_replace(
			idev, container_of(pt_obj, struct iommufd_hwpt_paging, obj), replace, &old);
		break;
	case IOMMUFD_OBJ_IOAS:
		ret = iommufd_device_auto_get_domain(
			idev, container_of(pt_obj, struct iommufd_ioas, obj), pt_id, replace, &old);
		break;
	default:
		return -EINVAL;
	}
	if (old)
		iommufd_hw_pagetable_put(idev->ictx, old);
	return ret;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id)
{
	int ret;

	if (idev->attached)
		return iommufd_device_change_pt(idev, pt_id, true);
	ret = iommufd_device_change_pt(idev, pt_id, false);
	if (ret)
		return ret;
	/* An attachment holds the device, catching a destroy while attached. */
	idev->obj.users++;
	return 0;
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	if (!idev->attached)
		return;
	iommufd_hw_pagetable_put(idev->ictx, iommufd_hw_pagetable_detach(idev));
	idev->obj.users--;
}

bool iommufd_device_attached(const struct iommufd_device *idev)
{
	return idev->attached;
}

struct iommufd_ctx *iommufd_device_to_ictx(const struct iommufd_device *idev)
{
	return idev->ictx;
}

uint32_t iommufd_device_to_id(const struct iommufd_device *idev)
{
	return idev->obj.id;
}

/* ---- DMA ---- */

int iommufd_device_dma_rw(struct iommufd_device *idev, uint64_t iova, void *buf, size_t len,
			  bool write)
{
	struct iommufd_hwpt_paging *hwpt = idev->attached ? idev->igroup->hwpt : NULL;
	struct iommufd_ctx *ictx = idev->ictx;

	if (!len)
		return 0;
	if (!hwpt || iopt_dma_rw(&hwpt->ioas->iopt, iova, buf, len, write)) {
		ictx->dma_faults++;
		uvfio_dbg_rl("iommufd: %s DMA %s fault at iova 0x%" PRIx64 " len %zu",
			     idev->dev->name, write ? "write" : "read", iova, len);
		return -EFAULT;
	}
	if (write && hwpt->dirty_tracking)
		iommufd_hwpt_mark_dirty(hwpt, iova, len);
	ictx->dma_ops++;
	ictx->dma_bytes += len;
	return 0;
}
