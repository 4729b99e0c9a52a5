/* SPDX-License-Identifier: MIT */
/*
 * IOMMU groups and DMA ownership, as drivers/iommu/iommu.c keeps them: the
 * smallest sets of devices the IOMMU can isolate.  A host driver bound to a
 * device "uses the default domain" (owner_cnt); a user-space owner (a vfio
 * group or an iommufd) claims the whole group, which fails while any host
 * driver is bound.  That claim is what VFIO calls viability.
 */
#ifndef UVFIO_CORE_IOMMU_GROUP_H
#define UVFIO_CORE_IOMMU_GROUP_H

#include <stdbool.h>
#include <sys/queue.h>

struct host_device;

struct iommu_group {
	int id;
	unsigned int owner_cnt;		/* host drivers using the DMA API */
	const void *owner;		/* user-space DMA owner, if claimed */
	unsigned int owner_users;	/* claims by the same owner */
	struct vfio_group *vfio_group;	/* the /dev/vfio/$id object, if any */
	TAILQ_HEAD(, host_device) devices;
	TAILQ_ENTRY(iommu_group) next;
};

struct iommu_group *iommu_group_alloc(int id);
struct iommu_group *iommu_group_find(int id);
void iommu_group_free(struct iommu_group *g);
void iommu_group_add_device(struct iommu_group *g, struct host_device *dev);
void iommu_group_remove_device(struct host_device *dev);

/* Host driver bind/unbind: -EBUSY while user space owns the group. */
int iommu_device_use_default_domain(struct host_device *dev);
void iommu_device_unuse_default_domain(struct host_device *dev);

/* User-space ownership: -EPERM if a host driver is bound or another owner
 * holds the group.  The same owner may claim again (counted). */
int iommu_group_claim_dma_owner(struct iommu_group *g, const void *owner);
void iommu_group_release_dma_owner(struct iommu_group *g);
bool iommu_group_dma_owner_claimed(const struct iommu_group *g);

#define iommu_group_for_each(g) for (g = iommu_group_first(); g; g = TAILQ_NEXT(g, next))
struct iommu_group *iommu_group_first(void);

#endif
