// SPDX-License-Identifier: MIT
/*
 * VFIO devices: registration by bus drivers, device files and their access
 * gating, removal that waits for the user, and the DMA entry point.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/loop.h"
#include "util/offsetofend.h"
#include "vfio.h"

#define REQUEST_INTERVAL_MS 10000	/* how often a removal re-asks the user */

void (*vfio_topology_changed)(void);

static void topology_changed(void)
{
	if (vfio_topology_changed)
		vfio_topology_changed();
}

/* One open of a device. */
struct vfio_device_file {
	struct vfio_device *vdev;
	struct vfio_group *group;	/* opened through this group */
	bool access_granted;
};

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
	if (!vdev->open_count) {
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

static void device_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;

	if (--vdev->open_count == 0) {
		if (vdev->ops->close_device)
			vdev->ops->close_device(vdev);
		vfio_group_unuse_container(df->group);
	}
}

static long device_feature(struct vfio_uarg *ua)
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
	/* No migration, dirty logging, power management or VF token on
	 * emulated functions: every feature is unsupported. */
	return -ENOTTY;
}

static long device_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_device_file *df = f->private_data;
	struct vfio_device *vdev = df->vdev;

	if (!df->access_granted)
		return -EINVAL;
	if (cmd == VFIO_DEVICE_FEATURE)
		return device_feature(ua);
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

	if (df->access_granted)
		device_close(df);
	free(df);
	if (!vdev->open_count && vdev->removed_cb)
		finish_removal(vdev);
}

static const struct vfio_file_ops device_fops = {
	.type = UVFIO_FILE_DEVICE,
	.ioctl = device_ioctl,
	.read = device_read,
	.write = device_write,
	.mmap = device_mmap,
	.release = device_release,
};

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

	/* The group path may open a device many times; the first open uses
	 * the container and opens the device in its bus driver. */
	if (vdev->open_count == 0) {
		ret = vfio_group_use_container(group);
		if (ret)
			goto err_free;
		if (vdev->ops->open_device) {
			ret = vdev->ops->open_device(vdev);
			if (ret) {
				vfio_group_unuse_container(group);
				goto err_free;
			}
		}
	}
	vdev->open_count++;

	*out = vfio_file_alloc(&device_fops, df);
	if (!*out) {
		device_close(df);
		ret = -ENOMEM;
		goto err_free;
	}
	df->access_granted = true;
	return 0;

err_free:
	free(df);
	return ret;
}

int vfio_device_dma_rw(struct vfio_device *vdev, uint64_t iova, void *buf, size_t len,
		       bool write)
{
	struct vfio_group *group;
	int ret;

	ret = vfio_group_get_external_user_from_dev(vdev, &group);
	if (ret) {
		vdev->stats.dma_faults++;
		return ret;
	}
	ret = vfio_external_dma_rw(group, iova, buf, len, write);
	vfio_group_put_external_user(group);
	if (ret) {
		vdev->stats.dma_faults++;
		uvfio_dbg_rl("%s: DMA %s of %zu bytes at iova 0x%llx faulted (%d)",
			     vdev->dev->name, write ? "write" : "read", len,
			     (unsigned long long)iova, ret);
		return ret;
	}
	if (write)
		vdev->stats.dma_writes++;
	else
		vdev->stats.dma_reads++;
	vdev->stats.dma_bytes += len;
	return 0;
}
