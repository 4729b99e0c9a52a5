// SPDX-License-Identifier: MIT
/*
 * VFIO devices: registration by bus drivers, device files and their access
 * gating, removal that waits for the user, and the DMA entry point.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "dirty_log.h"
#include "migration.h"
#include "uvfio/vfio_mig.h"
#include "iommufd/iommufd.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/offsetofend.h"
#include "uvfio/vfio_cdev.h"
#include "vfio.h"

#define REQUEST_INTERVAL_MS 10000	/* how often a removal re-asks the user */

void (*vfio_topology_changed)(void);

/* Every registered device, for cdev lookup by index. */
static TAILQ_HEAD(, vfio_device) vfio_devices = TAILQ_HEAD_INITIALIZER(vfio_devices);

/* Index of /dev/vfio/devices/vfioN: the lowest free, like the kernel's ida. */
static int alloc_index(void)
{
	struct vfio_device *vdev;
	int idx = 0;

again:
	TAILQ_FOREACH(vdev, &vfio_devices, next) {
		if (vdev->index == idx) {
			idx++;
			goto again;
		}
	}
	return idx;
}

struct vfio_device *vfio_device_find_by_index(int index)
{
	struct vfio_device *vdev;

	TAILQ_FOREACH(vdev, &vfio_devices, next) {
		/* A device on its way out takes no new users. */
		if (vdev->index == index && !vdev->removed_cb)
			return vdev;
	}
	return NULL;
}

static void topology_changed(void)
{
	if (vfio_topology_changed)
		vfio_topology_changed();
}

void vfio_device_init(struct vfio_device *vdev, struct host_device *dev,
		      const struct vfio_device_ops *ops, void *drvdata)
{
	*vdev = (struct vfio_device){ .ops = ops, .drvdata = drvdata, .dev = dev };
}

int vfio_register_group_dev(struct vfio_device *vdev)
{
	struct vfio_group *group = vfio_group_get_or_create(vdev->dev->iommu_group);

	if (!group)
		return -ENOMEM;
	vdev->index = alloc_index();
	TAILQ_INSERT_TAIL(&vfio_devices, vdev, next);
	vfio_group_device_added(group, vdev);
	vdev->dev->vdev = vdev;
	topology_changed();
	return 0;
}

static void finish_removal(struct vfio_device *vdev)
{
	void (*cb)(void *, int) = vdev->removed_cb;
	void *arg = vdev->removed_arg;

	uvfio_timer_cancel(vdev->request_timer);
	vdev->request_timer = NULL;
	vfio_group_device_removed(vdev->group, vdev);
	TAILQ_REMOVE(&vfio_devices, vdev, next);
	vdev->dev->vdev = NULL;
	vdev->removed_cb = NULL;
	topology_changed();
	cb(arg, 0);
}

static void request_again(void *arg, uint32_t events)
{
	struct vfio_device *vdev = arg;

	(void)events;
	vdev->request_timer = NULL;
	if (vdev->ops->request)
		vdev->ops->request(vdev, ++vdev->request_count);
	vdev->request_timer = uvfio_timer_add(REQUEST_INTERVAL_MS, request_again, vdev);
}

void vfio_unregister_group_dev(struct vfio_device *vdev, void (*cb)(void *arg, int err),
			       void *arg)
{
	vdev->removed_cb = cb;
	vdev->removed_arg = arg;
	vdev->request_count = 0;
	if (!vdev->nfiles) {
		finish_removal(vdev);
		return;
	}
	/* In use: ask the user to let go, and keep asking, like the kernel's
	 * vfio_unregister_group_dev() wait loop. */
	if (vdev->ops->request)
		vdev->ops->request(vdev, 0);
	vdev->request_timer = uvfio_timer_add(REQUEST_INTERVAL_MS, request_again, vdev);
}

/* ---- device files ---- */

/* The first open of a device: bind it to the iommufd or use the group's
 * container, then open it in its bus driver (vfio_df_device_first_open). */
static int device_first_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;
	int ret;

	if (df->iommufd)
		ret = vfio_df_iommufd_bind(df);
	else
		ret = vfio_group_use_container(vdev->group);
	if (ret)
		return ret;
	if (vdev->ops->open_device) {
		ret = vdev->ops->open_device(vdev);
		if (ret)
			goto err_unuse;
	}
	return 0;

err_unuse:
	if (df->iommufd)
		vfio_df_iommufd_unbind(df);
	else
		vfio_group_unuse_container(vdev->group);
	return ret;
}

static void device_last_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;

	if (vdev->ops->close_device)
		vdev->ops->close_device(vdev);
	/* the log goes with the last user, as a driver's close stops it */
	vfio_dirty_log_free(vdev->dirty_log);
	vdev->dirty_log = NULL;
	if (df->iommufd)
		vfio_df_iommufd_unbind(df);
	else
		vfio_group_unuse_container(vdev->group);
}

int vfio_df_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;
	int ret;

	/* Only the group path may open a device more than once: a cdev has
	 * no way to share one binding safely. */
	if (vdev->open_count != 0 && !df->group)
		return -EINVAL;
	if (vdev->open_count == 0) {
		ret = device_first_open(df);
		if (ret)
			return ret;
	}
	vdev->open_count++;
	return 0;
}

void vfio_df_close(struct vfio_device_file *df)
{
	if (--df->vdev->open_count == 0)
		device_last_close(df);
}

static long device_feature(struct vfio_device *vdev, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;

	if (copy_from_user(&feature, ua, 0, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET are exclusive except when probing. */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return vfio_mig_feature_migration(vdev, feature.flags, ua, minsz,
						  feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return vfio_mig_feature_state(vdev, feature.flags, ua, minsz,
					      feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return vfio_mig_feature_data_size(vdev, feature.flags, ua, minsz,
						  feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return vfio_dirty_log_start(vdev, feature.flags, ua, minsz,
					    feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return vfio_dirty_log_stop(vdev, feature.flags, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return vfio_dirty_log_report(vdev, feature.flags, ua, minsz,
					     feature.argsz - minsz);
	default:
		if (!vdev->ops->device_feature)
			return -ENOTTY;
		return vdev->ops->device_feature(vdev, feature.flags, ua, minsz,
						 feature.argsz - minsz);
	}
}

static long device_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_device_file *df = f->private_data;
	struct vfio_device *vdev = df->vdev;

	/* Checked before access: binding is what grants it. */
	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_df_ioctl_bind_iommufd(df, ua);
	if (!df->access_granted)
		return -EINVAL;
	if (vdev->ops->runtime_resume)
		vdev->ops->runtime_resume(vdev);
	if (!df->group) {
		if (cmd == VFIO_DEVICE_ATTACH_IOMMUFD_PT)
			return vfio_df_ioctl_attach_pt(df, ua);
		if (cmd == VFIO_DEVICE_DETACH_IOMMUFD_PT)
			return vfio_df_ioctl_detach_pt(df, ua);
	}
	if (cmd == VFIO_DEVICE_FEATURE)
		return device_feature(vdev, ua);
	if (!vdev->ops->ioctl)
		return -EINVAL;
	return vdev->ops->ioctl(vdev, cmd, ua);
}

static ssize_t device_read(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos)
{
	struct vfio_device_file *df = f->private_data;

	if (!df->access_granted)
		return -EINVAL;
	if (!df->vdev->ops->read)
		return -EINVAL;
	return df->vdev->ops->read(df->vdev, buf, count, ppos);
}

static ssize_t device_write(struct vfio_file *f, const void *buf, size_t count,
			    uint64_t *ppos)
{
	struct vfio_device_file *df = f->private_data;

	if (!df->access_granted)
		return -EINVAL;
	if (!df->vdev->ops->write)
		return -EINVAL;
	return df->vdev->ops->write(df->vdev, buf, count, ppos);
}

static bool device_write_posted(struct vfio_file *f, uint64_t off, size_t count,
				uint64_t *start, uint64_t *end)
{
	struct vfio_device_file *df = f->private_data;

	return df->access_granted && df->vdev->ops->write_posted &&
	       df->vdev->ops->write_posted(df->vdev, off, count, start, end);
}

static int device_mmap(struct vfio_file *f, struct vfio_mmap_req *req)
{
	struct vfio_device_file *df = f->private_data;

	if (!df->access_granted)
		return -EINVAL;
	if (!df->vdev->ops->mmap)
		return -EINVAL;
	return df->vdev->ops->mmap(df->vdev, req);
}

static void device_release(struct vfio_file *f)
{
	struct vfio_device_file *df = f->private_data;
	struct vfio_device *vdev = df->vdev;

	if (df->group) {
		if (df->access_granted)
			vfio_df_close(df);
		if (df->iommufd)
			vfio_file_put(df->group->opened_file);
	} else {
		vfio_df_unbind_iommufd(df);
	}
	free(df);
	if (!--vdev->nfiles && vdev->removed_cb)
		finish_removal(vdev);
}

static const struct vfio_file_ops device_fops = {
	.type = UVFIO_FILE_DEVICE,
	.ioctl = device_ioctl,
	.read = device_read,
	.write = device_write,
	.write_posted = device_write_posted,
	.mmap = device_mmap,
	.release = device_release,
};

/* The same file operations; only the type the shim sees differs, so it can
 * tell a cdev (which may BIND) from a group-opened device. */
static const struct vfio_file_ops device_cdev_fops = {
	.type = UVFIO_FILE_DEVICE_CDEV,
	.ioctl = device_ioctl,
	.read = device_read,
	.write = device_write,
	.write_posted = device_write_posted,
	.mmap = device_mmap,
	.release = device_release,
};

struct vfio_device_file *vfio_device_file_from_file(struct vfio_file *f)
{
	if (!f || (f->ops != &device_fops && f->ops != &device_cdev_fops))
		return NULL;
	return f->private_data;
}

int vfio_device_open_file(struct vfio_device *vdev, struct vfio_file **out)
{
	struct vfio_group *group = vdev->group;
	struct vfio_device_file *df;
	int ret;

	if (!vfio_group_has_iommu(group))
		return -EINVAL;
	df = calloc(1, sizeof(*df));
	if (!df)
		return -ENOMEM;
	df->vdev = vdev;
	df->group = group;
	df->iommufd = group->iommufd;

	ret = vfio_df_open(df);
	if (ret)
		goto err_free;
	/* The group path has no way to choose a table: the first open
	 * attaches the iommufd's compat IOAS. */
	if (df->iommufd && vdev->open_count == 1) {
		ret = vfio_iommufd_compat_attach_ioas(vdev, df->iommufd);
		if (ret)
			goto err_close;
	}

	*out = vfio_file_alloc(&device_fops, df);
	if (!*out) {
		ret = -ENOMEM;
		goto err_close;
	}
	df->file = *out;
	vdev->nfiles++;
	/* With an iommufd there is no container use to pin the group file,
	 * and the binding borrows the group's iommufd reference. */
	if (df->iommufd)
		vfio_file_get(group->opened_file);
	df->access_granted = true;
	return 0;

err_close:
	vfio_df_close(df);
err_free:
	free(df);
	return ret;
}

int vfio_device_cdev_open(int index, struct vfio_uctx *ctx, struct vfio_file **out)
{
	struct vfio_device *vdev = vfio_device_find_by_index(index);
	struct vfio_device_file *df;

	if (!vdev)
		return -ENOENT;
	if (!vfio_group_may_open(vdev->group, ctx))
		return -EACCES;
	df = calloc(1, sizeof(*df));
	if (!df)
		return -ENOMEM;
	df->vdev = vdev;
	*out = vfio_file_alloc(&device_cdev_fops, df);
	if (!*out) {
		free(df);
		return -ENOMEM;
	}
	df->file = *out;
	/* Holds the registration: removal waits for this file too. */
	vdev->nfiles++;
	return 0;
}

int vfio_device_dma_rw(struct vfio_device *vdev, uint64_t iova, void *buf, size_t len,
		       bool write)
{
	struct vfio_group *group;
	int ret;

	if (vdev->iommufd_device) {
		/* Not attached to a table: the IOMMU blocks everything. */
		ret = iommufd_device_dma_rw(vdev->iommufd_device, iova, buf, len, write);
	} else {
		ret = vfio_group_get_external_user_from_dev(vdev, &group);
		if (ret) {
			vdev->stats.dma_faults++;
			return ret;
		}
		ret = vfio_external_dma_rw(group, iova, buf, len, write);
		vfio_group_put_external_user(group);
	}
	if (ret) {
		vdev->stats.dma_faults++;
		uvfio_dbg_rl("%s: DMA %s of %zu bytes at iova 0x%llx faulted (%d)",
			     vdev->dev->name, write ? "write" : "read", len,
			     (unsigned long long)iova, ret);
		return ret;
	}
	if (write) {
		vdev->stats.dma_writes++;
		if (vdev->dirty_log)
			vfio_dirty_log_mark(vdev->dirty_log, iova, len);
	} else {
		vdev->stats.dma_reads++;
	}
	vdev->stats.dma_bytes += len;
	return 0;
}
