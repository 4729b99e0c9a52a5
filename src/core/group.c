// SPDX-License-Identifier: MIT
/*
 * VFIO groups (/dev/vfio/$GROUP): the unit of ownership.  A group is usable
 * only when viable (no device in its IOMMU group is driven by the host) and
 * only once it sits in a container with an IOMMU model set.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommufd/iommufd.h"
#include "util/offsetofend.h"
#include "vfio.h"

#define GROUP_NAME_MAX 4096	/* strndup_user(arg, PAGE_SIZE) */

void vfio_group_free_if_unused(struct vfio_group *group)
{
	if (group->opened_file || group->devices || group->external_users)
		return;
	if (group->iommu_group)
		group->iommu_group->vfio_group = NULL;
	free(group);
}

struct vfio_group *vfio_group_find(int id)
{
	struct iommu_group *ig = iommu_group_find(id);

	return ig ? ig->vfio_group : NULL;
}

struct vfio_group *vfio_group_get_or_create(struct iommu_group *ig)
{
	struct vfio_group *group = ig->vfio_group;

	if (group)
		return group;
	group = calloc(1, sizeof(*group));
	if (!group)
		return NULL;
	group->iommu_group = ig;
	TAILQ_INIT(&group->device_list);
	/* /dev/vfio/$GROUP is root:root 0600 until the topology says else. */
	group->mode = 0600;
	ig->vfio_group = group;
	return group;
}

void vfio_group_set_owner(int iommu_group_id, uid_t uid, gid_t gid, mode_t mode)
{
	struct vfio_group *group = vfio_group_find(iommu_group_id);

	if (!group)
		return;
	group->uid = uid;
	group->gid = gid;
	group->mode = mode & 07777;
}

bool vfio_group_has_iommu(const struct vfio_group *group)
{
	return group->container || group->iommufd;
}

int vfio_device_block_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;

	/* A holder that already closed does not count. */
	if (group->opened_file)
		vfio_file_reap(group->opened_file);
	if (group->opened_file)
		return -EBUSY;
	group->cdev_device_open_cnt++;
	return 0;
}

void vfio_device_unblock_group(struct vfio_device *vdev)
{
	vdev->group->cdev_device_open_cnt--;
}

bool vfio_group_viable(const struct vfio_group *group)
{
	if (!group->iommu_group)
		return false;
	if (vfio_group_has_iommu(group))
		return true;
	return !iommu_group_dma_owner_claimed(group->iommu_group);
}

void vfio_group_device_added(struct vfio_group *group, struct vfio_device *vdev)
{
	TAILQ_INSERT_TAIL(&group->device_list, vdev, group_next);
	group->devices++;
	vdev->group = group;
}

void vfio_group_device_removed(struct vfio_group *group, struct vfio_device *vdev)
{
	TAILQ_REMOVE(&group->device_list, vdev, group_next);
	vdev->group = NULL;
	if (--group->devices)
		return;
	/* The last device left: revoke the group's use of its IOMMU group.
	 * No device is open, so the container has exactly one user. */
	if (group->container)
		vfio_container_detach_group(group);
	group->iommu_group->vfio_group = NULL;
	group->iommu_group = NULL;
	vfio_group_free_if_unused(group);
}

int vfio_group_use_container(struct vfio_group *group)
{
	/* SET_CONTAINER done, but SET_IOMMU not yet. */
	if (!group->container->iommu_driver)
		return -EINVAL;
	vfio_file_get(group->opened_file);
	group->container_users++;
	return 0;
}

void vfio_group_unuse_container(struct vfio_group *group)
{
	group->container_users--;
	vfio_file_put(group->opened_file);
}

void vfio_group_try_dissolve_container(struct vfio_group *group)
{
	if (group->container && --group->container_users == 0)
		vfio_container_detach_group(group);
}

/* ---- ioctls ---- */

static long group_get_status(struct vfio_group *group, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, ua, 0, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;
	if (!group->iommu_group)
		return -ENODEV;
	status.flags = 0;
	if (vfio_group_has_iommu(group))
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	else if (!iommu_group_dma_owner_claimed(group->iommu_group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	return copy_to_user(ua, 0, &status, minsz) ? -EFAULT : 0;
}

static long group_set_container(struct vfio_group *group, struct vfio_uarg *ua)
{
	struct vfio_container *container;
	struct iommufd_ctx *ictx;
	int32_t fd;
	int kfd, ret;

	if (copy_from_user(&fd, ua, 0, sizeof(fd)))
		return -EFAULT;
	kfd = fdget(ua, fd);
	if (kfd < 0)
		return -EBADF;
	if (vfio_group_has_iommu(group))
		return -EINVAL;
	if (!group->iommu_group)
		return -ENODEV;
	container = vfio_container_from_file(vfio_file_from_fd(kfd));
	if (container)
		return vfio_container_attach_group(container, group);
	ictx = iommufd_ctx_from_file(vfio_file_from_fd(kfd));
	if (ictx) {
		/* Devices bind to it as they open; the compat IOAS is what
		 * they attach to. */
		ret = iommufd_vfio_compat_ioas_create(ictx);
		if (ret)
			return ret;
		iommufd_ctx_get(ictx);
		group->iommufd = ictx;
		return 0;
	}
	/* Neither a container nor an iommufd. */
	return -EBADFD;
}

static long group_unset_container(struct vfio_group *group)
{
	if (!vfio_group_has_iommu(group))
		return -EINVAL;
	if (group->container) {
		if (group->container_users != 1)
			return -EBUSY;
		vfio_container_detach_group(group);
	}
	/* Open devices hold their own binding to the iommufd. */
	if (group->iommufd) {
		iommufd_ctx_put(group->iommufd);
		group->iommufd = NULL;
	}
	return 0;
}

static struct vfio_device *device_get_from_name(struct vfio_group *group, const char *buf,
						int *err)
{
	struct vfio_device *vdev;

	TAILQ_FOREACH(vdev, &group->device_list, group_next) {
		int ret = vdev->ops->match ? vdev->ops->match(vdev, buf)
					   : !strcmp(vdev->dev->name, buf);

		if (ret < 0) {
			*err = ret;
			return NULL;
		}
		/* A device on its way out takes no new users. */
		if (ret && !vdev->removed_cb)
			return vdev;
	}
	*err = -ENODEV;
	return NULL;
}

static long group_get_device_fd(struct vfio_group *group, struct vfio_uarg *ua)
{
	struct vfio_device *vdev;
	const char *nul;
	char *buf;
	int err;

	/* strndup_user(): the string must end within a page. */
	nul = memchr(ua->msg.arg, 0, ua->msg.arg_len < GROUP_NAME_MAX ?
				     ua->msg.arg_len : GROUP_NAME_MAX);
	if (!nul)
		return ua->msg.arg_len >= GROUP_NAME_MAX ||
		       !(ua->msg.flags & UVFIO_IOCTL_ARG_FAULT) ? -EINVAL : -EFAULT;
	buf = strdup((const char *)ua->msg.arg);
	if (!buf)
		return -ENOMEM;
	vdev = device_get_from_name(group, buf, &err);
	free(buf);
	if (!vdev)
		return err;
	err = vfio_device_open_file(vdev, &ua->new_file);
	return err ? err : 0;
}

static long group_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_group *group = f->private_data;

	switch (cmd) {
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(group, ua);
	case VFIO_GROUP_GET_STATUS:
		return group_get_status(group, ua);
	case VFIO_GROUP_SET_CONTAINER:
		return group_set_container(group, ua);
	case VFIO_GROUP_UNSET_CONTAINER:
		return group_unset_container(group);
	default:
		return -ENOTTY;
	}
}

static ssize_t group_read(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

static ssize_t group_write(struct vfio_file *f, const void *buf, size_t count, uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

static int group_mmap(struct vfio_file *f, struct vfio_mmap_req *req)
{
	(void)f; (void)req;
	return -ENODEV;
}

/* Device files hold a reference on the group file, so this runs only once
 * no device of the group is open. */
static void group_release(struct vfio_file *f)
{
	struct vfio_group *group = f->private_data;

	/* External users may keep the container in use past the file. */
	vfio_group_try_dissolve_container(group);
	if (group->iommufd) {
		iommufd_ctx_put(group->iommufd);
		group->iommufd = NULL;
	}
	group->opened_file = NULL;
	vfio_group_free_if_unused(group);
}

static const struct vfio_file_ops group_fops = {
	.type = UVFIO_FILE_GROUP,
	.ioctl = group_ioctl,
	.read = group_read,
	.write = group_write,
	.mmap = group_mmap,
	.release = group_release,
};

struct vfio_group *vfio_group_from_file(struct vfio_file *f)
{
	return f && f->ops == &group_fops ? f->private_data : NULL;
}

/* Unix permission check of the node, as the VFS does before open.  The
 * group's device cdevs carry the same owner and mode. */
bool vfio_group_may_open(const struct vfio_group *group, const struct vfio_uctx *ctx)
{
	mode_t need = 06;	/* O_RDWR */
	mode_t m = group->mode;

	if (ctx->uid == 0)
		return true;
	if (ctx->uid == group->uid)
		return ((m >> 6) & need) == need;
	if (ctx->gid == group->gid)
		return ((m >> 3) & need) == need;
	return (m & need) == need;
}

/* Bound cdev files whose holders closed them release now, so the checks
 * below see what a kernel close() would have left.  Releasing may finish a
 * pending removal and free the group: the caller looks it up again. */
static void reap_cdevs(struct vfio_group *group)
{
	struct vfio_device *vdev, *tmp;

	if (!group->cdev_device_open_cnt)
		return;
	TAILQ_FOREACH_SAFE(vdev, &group->device_list, group_next, tmp)
		vfio_device_reap_cdev(vdev);
}

int vfio_group_open(int id, struct vfio_uctx *ctx, struct vfio_file **out)
{
	struct vfio_group *group = vfio_group_find(id);
	struct vfio_file *f;

	if (group) {
		reap_cdevs(group);
		group = vfio_group_find(id);
	}
	if (!group)
		return -ENOENT;
	if (!vfio_group_may_open(group, ctx))
		return -EACCES;
	if (!group->devices)
		return -ENODEV;
	/* A device of the group is bound through its cdev. */
	if (group->cdev_device_open_cnt)
		return -EBUSY;
	/* One open at a time; a holder that already closed does not count. */
	if (group->opened_file)
		vfio_file_reap(group->opened_file);
	if (group->opened_file)
		return -EBUSY;
	/* An external user still holds the previous open's container. */
	if (group->container)
		return -EBUSY;
	f = vfio_file_alloc(&group_fops, group);
	if (!f)
		return -ENOMEM;
	group->opened_file = f;
	*out = f;
	return 0;
}
