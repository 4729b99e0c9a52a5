// SPDX-License-Identifier: MIT
/*
 * IOMMU groups and their DMA ownership.
 */
#include "iommu_group.h"

#include <errno.h>
#include <stdlib.h>

#include "vfio.h"

static TAILQ_HEAD(, iommu_group) groups = TAILQ_HEAD_INITIALIZER(groups);

struct iommu_group *iommu_group_first(void)
{
	return TAILQ_FIRST(&groups);
}

struct iommu_group *iommu_group_alloc(int id)
{
	struct iommu_group *g, *pos;

	if (id < 0 || iommu_group_find(id))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->id = id;
	TAILQ_INIT(&g->devices);
	/* Kept in id order so listings are stable. */
	TAILQ_FOREACH(pos, &groups, next)
		if (pos->id > id)
			break;
	if (pos)
		TAILQ_INSERT_BEFORE(pos, g, next);
	else
		TAILQ_INSERT_TAIL(&groups, g, next);
	return g;
}

struct iommu_group *iommu_group_find(int id)
{
	struct iommu_group *g;

	TAILQ_FOREACH(g, &groups, next)
		if (g->id == id)
			return g;
	return NULL;
}

void iommu_group_free(struct iommu_group *g)
{
	TAILQ_REMOVE(&groups, g, next);
	free(g);
}

void iommu_group_add_device(struct iommu_group *g, struct host_device *dev)
{
	dev->iommu_group = g;
	TAILQ_INSERT_TAIL(&g->devices, dev, group_next);
}

void iommu_group_remove_device(struct host_device *dev)
{
	TAILQ_REMOVE(&dev->iommu_group->devices, dev, group_next);
	dev->iommu_group = NULL;
}

int iommu_device_use_default_domain(struct host_device *dev)
{
	struct iommu_group *g = dev->iommu_group;

	/* A user-space owner has the group: the host driver may not DMA. */
	if (g->owner)
		return -EBUSY;
	g->owner_cnt++;
	return 0;
}

void iommu_device_unuse_default_domain(struct host_device *dev)
{
	struct iommu_group *g = dev->iommu_group;

	if (g->owner_cnt)
		g->owner_cnt--;
}

int iommu_group_claim_dma_owner(struct iommu_group *g, const void *owner)
{
	if (g->owner) {
		if (g->owner != owner)
			return -EPERM;
		g->owner_users++;
		return 0;
	}
	if (g->owner_cnt)
		return -EPERM;
	g->owner = owner;
	g->owner_users = 1;
	return 0;
}

void iommu_group_release_dma_owner(struct iommu_group *g)
{
	if (g->owner_users && --g->owner_users == 0)
		g->owner = NULL;
}

bool iommu_group_dma_owner_claimed(const struct iommu_group *g)
{
	return g->owner_cnt || g->owner;
}
