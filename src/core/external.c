// SPDX-License-Identifier: MIT
/*
 * The external-user API: a trusted consumer inside the daemon (a device
 * model's DMA engine, a future mediated driver) borrows a device's group and
 * its container for as long as it works, so a user closing files at that
 * moment cannot tear the IOMMU context down underneath it.
 */
#include <errno.h>

#include "vfio.h"

int vfio_group_get_external_user_from_dev(struct vfio_device *vdev, struct vfio_group **out)
{
	struct vfio_group *group = vdev->group;

	/* Nothing to use until the user put the group in a container with an
	 * IOMMU model; take nothing on that path. */
	if (!group || !group->container || !group->container->iommu_driver ||
	    !group->container_users)
		return -EINVAL;
	group->external_users++;
	group->container_users++;
	*out = group;
	return 0;
}

void vfio_group_put_external_user(struct vfio_group *group)
{
	group->external_users--;
	vfio_group_try_dissolve_container(group);
	vfio_group_free_if_unused(group);
}

int vfio_external_user_iommu_id(struct vfio_group *group)
{
	return group->iommu_group ? group->iommu_group->id : -ENODEV;
}

int vfio_external_dma_rw(struct vfio_group *group, uint64_t iova, void *buf, size_t len,
			 bool write)
{
	struct vfio_container *c = group->container;

	if (!c || !c->iommu_driver || !c->iommu_driver->dma_rw)
		return -EINVAL;
	return c->iommu_driver->dma_rw(c->iommu_data, iova, buf, len, write);
}
