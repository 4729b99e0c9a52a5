// SPDX-License-Identifier: MIT
/*
 * VFIO devices on iommufd (drivers/vfio/iommufd.c): binding a physical
 * device to a context, attaching it to a table, and the group path's compat
 * IOAS.  Every vfio-pci function here is "physical": it sits in an IOMMU
 * group and its DMA goes through the table it is attached to.
 */
#include <errno.h>

#include "iommufd/iommufd.h"
#include "vfio.h"

int vfio_df_iommufd_bind(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;

	return iommufd_device_bind(df->iommufd, vdev->dev, &vdev->iommufd_device, &df->devid);
}

void vfio_df_iommufd_unbind(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;

	if (!vdev->iommufd_device)
		return;
	vfio_iommufd_detach_ioas(vdev);
	iommufd_device_unbind(vdev->iommufd_device);
	vdev->iommufd_device = NULL;
}

int vfio_iommufd_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id)
{
	int ret;

	if (!vdev->iommufd_device)
		return -EINVAL;
	/* iommufd_device_attach() replaces the table of an attached device. */
	ret = iommufd_device_attach(vdev->iommufd_device, pt_id);
	if (ret)
		return ret;
	vdev->iommufd_attached = true;
	return 0;
}

void vfio_iommufd_detach_ioas(struct vfio_device *vdev)
{
	if (!vdev->iommufd_device || !vdev->iommufd_attached)
		return;
	iommufd_device_detach(vdev->iommufd_device);
	vdev->iommufd_attached = false;
}

int vfio_iommufd_compat_attach_ioas(struct vfio_device *vdev, struct iommufd_ctx *ictx)
{
	uint32_t ioas_id;
	int ret;

	ret = iommufd_vfio_compat_ioas_get_id(ictx, &ioas_id);
	if (ret)
		return ret;
	/* The group path has no way to report the table it got. */
	return vfio_iommufd_attach_ioas(vdev, &ioas_id);
}

struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev)
{
	return vdev->iommufd_device ? iommufd_device_to_ictx(vdev->iommufd_device) : NULL;
}

int vfio_iommufd_get_dev_id(struct vfio_device *vdev, struct iommufd_ctx *ictx)
{
	if (vdev->iommufd_device && iommufd_device_to_ictx(vdev->iommufd_device) == ictx)
		return (int)iommufd_device_to_id(vdev->iommufd_device);
	/* Bound to nothing, but its IOMMU group belongs to ictx: no other
	 * context can own it, so it counts as ictx's. */
	if (vdev->dev->iommu_group && vdev->dev->iommu_group->owner == ictx)
		return -ENOENT;
	return -ENODEV;
}
