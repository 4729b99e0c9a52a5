// SPDX-License-Identifier: MIT
/*
 * Containers (/dev/vfio/vfio) and the IOMMU-driver registry.
 *
 * A container is unprivileged: anyone may open it.  Only adding a group
 * gives the user the privilege to set an IOMMU model, and removing the last
 * group takes it away again (the IOMMU context and its mappings go).
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "vfio.h"

bool vfio_noiommu;

#define MAX_IOMMU_DRIVERS 4

static const struct vfio_iommu_driver_ops *iommu_drivers[MAX_IOMMU_DRIVERS];

/*
 * The no-IOMMU driver only answers CHECK_EXTENSION, and only when unsafe
 * no-IOMMU mode is on.  It can never be set on a container here: only
 * IOMMU-backed groups exist, and they cannot share a no-IOMMU container.
 */
static long noiommu_ioctl(void *data, unsigned int cmd, struct vfio_uarg *ua)
{
	(void)data;
	if (cmd == VFIO_CHECK_EXTENSION)
		return vfio_noiommu && ua->value == VFIO_NOIOMMU_IOMMU ? 1 : 0;
	return -ENOTTY;
}

static void *noiommu_open(unsigned long arg, int *err)
{
	(void)arg;
	*err = -EINVAL;
	return NULL;
}

static const struct vfio_iommu_driver_ops vfio_noiommu_ops = {
	.name = "vfio-noiommu",
	.open = noiommu_open,
	.ioctl = noiommu_ioctl,
};

static bool is_noiommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	return ops == &vfio_noiommu_ops;
}

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	int i, free_slot = -1;

	for (i = 0; i < MAX_IOMMU_DRIVERS; i++) {
		if (iommu_drivers[i] == ops)
			return -EEXIST;
		if (!iommu_drivers[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	iommu_drivers[free_slot] = ops;
	/* The no-IOMMU driver is part of the core, registered with the first. */
	if (!is_noiommu_driver(ops))
		vfio_register_iommu_driver(&vfio_noiommu_ops);
	return 0;
}

void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	for (int i = 0; i < MAX_IOMMU_DRIVERS; i++)
		if (iommu_drivers[i] == ops)
			iommu_drivers[i] = NULL;
}

static bool driver_allowed(const struct vfio_container *c,
			   const struct vfio_iommu_driver_ops *ops)
{
	return c->noiommu == is_noiommu_driver(ops);
}

void vfio_container_get(struct vfio_container *c)
{
	c->refs++;
}

void vfio_container_put(struct vfio_container *c)
{
	if (--c->refs)
		return;
	free(c);
}

static long check_extension(struct vfio_container *c, struct vfio_uarg *ua)
{
	long ret = 0;

	/* With a driver set, only it answers; otherwise poll every driver
	 * and return the first positive answer. */
	if (c->iommu_driver)
		return c->iommu_driver->ioctl(c->iommu_data, VFIO_CHECK_EXTENSION, ua);
	for (int i = 0; i < MAX_IOMMU_DRIVERS; i++) {
		const struct vfio_iommu_driver_ops *d = iommu_drivers[i];

		if (!d || (!TAILQ_EMPTY(&c->group_list) && !driver_allowed(c, d)))
			continue;
		ret = d->ioctl(NULL, VFIO_CHECK_EXTENSION, ua);
		if (ret > 0)
			break;
	}
	return ret;
}

static int attach_groups(struct vfio_container *c,
			 const struct vfio_iommu_driver_ops *d, void *data)
{
	struct vfio_group *g, *undo;
	int ret;

	TAILQ_FOREACH(g, &c->group_list, container_next) {
		ret = d->attach_group(data, g->iommu_group);
		if (ret)
			goto unwind;
	}
	return 0;

unwind:
	TAILQ_FOREACH(undo, &c->group_list, container_next) {
		if (undo == g)
			break;
		d->detach_group(data, undo->iommu_group);
	}
	return ret;
}

static long set_iommu(struct vfio_container *c, unsigned long arg, struct vfio_uarg *ua)
{
	long ret = -ENODEV;

	/* Privilege comes from having a group; a model is set only once. */
	if (TAILQ_EMPTY(&c->group_list) || c->iommu_driver)
		return -EINVAL;

	for (int i = 0; i < MAX_IOMMU_DRIVERS; i++) {
		const struct vfio_iommu_driver_ops *d = iommu_drivers[i];
		void *data;
		int err = 0;

		if (!d || !driver_allowed(c, d))
			continue;
		/* SET_IOMMU's argument is a CHECK_EXTENSION value: open the
		 * driver that claims it. */
		if (d->ioctl(NULL, VFIO_CHECK_EXTENSION, ua) <= 0)
			continue;
		data = d->open(arg, &err);
		if (!data) {
			ret = err;
			continue;
		}
		ret = attach_groups(c, d, data);
		if (ret) {
			d->release(data);
			continue;
		}
		c->iommu_driver = d;
		c->iommu_data = data;
		break;
	}
	return ret;
}

static long container_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_container *c = f->private_data;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return check_extension(c, ua);
	case VFIO_SET_IOMMU:
		return set_iommu(c, (unsigned long)ua->value, ua);
	default:
		/* Everything else belongs to the IOMMU driver, once set. */
		if (c->iommu_driver)
			return c->iommu_driver->ioctl(c->iommu_data, cmd, ua);
		return -EINVAL;
	}
}

static ssize_t container_read(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

static ssize_t container_write(struct vfio_file *f, const void *buf, size_t count,
			       uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

static int container_mmap(struct vfio_file *f, struct vfio_mmap_req *req)
{
	(void)f; (void)req;
	return -ENODEV;
}

static void container_release(struct vfio_file *f)
{
	struct vfio_container *c = f->private_data;

	c->file = NULL;
	vfio_container_put(c);
}

static const struct vfio_file_ops container_fops = {
	.type = UVFIO_FILE_CONTAINER,
	.ioctl = container_ioctl,
	.read = container_read,
	.write = container_write,
	.mmap = container_mmap,
	.release = container_release,
};

int vfio_container_open(struct vfio_uctx *ctx, struct vfio_file **out)
{
	struct vfio_container *c = calloc(1, sizeof(*c));

	(void)ctx;
	if (!c)
		return -ENOMEM;
	TAILQ_INIT(&c->group_list);
	c->refs = 1;
	c->file = vfio_file_alloc(&container_fops, c);
	if (!c->file) {
		free(c);
		return -ENOMEM;
	}
	*out = c->file;
	return 0;
}

struct vfio_container *vfio_container_from_file(struct vfio_file *f)
{
	return f && f->ops == &container_fops ? f->private_data : NULL;
}

int vfio_container_attach_group(struct vfio_container *c, struct vfio_group *g)
{
	int ret;

	/* Real groups and no-IOMMU groups never mix. */
	if (!TAILQ_EMPTY(&c->group_list) && c->noiommu)
		return -EPERM;

	ret = iommu_group_claim_dma_owner(g->iommu_group, g);
	if (ret)
		return ret;

	if (c->iommu_driver) {
		ret = c->iommu_driver->attach_group(c->iommu_data, g->iommu_group);
		if (ret) {
			iommu_group_release_dma_owner(g->iommu_group);
			return ret;
		}
	}

	g->container = c;
	g->container_users = 1;
	c->noiommu = false;
	TAILQ_INSERT_TAIL(&c->group_list, g, container_next);
	vfio_container_get(c);
	return 0;
}

void vfio_container_detach_group(struct vfio_group *g)
{
	struct vfio_container *c = g->container;

	if (c->iommu_driver)
		c->iommu_driver->detach_group(c->iommu_data, g->iommu_group);
	iommu_group_release_dma_owner(g->iommu_group);

	g->container = NULL;
	g->container_users = 0;
	TAILQ_REMOVE(&c->group_list, g, container_next);

	/* Detaching the last group deprivileges the container. */
	if (c->iommu_driver && TAILQ_EMPTY(&c->group_list)) {
		c->iommu_driver->release(c->iommu_data);
		c->iommu_driver = NULL;
		c->iommu_data = NULL;
	}
	vfio_container_put(c);
}
