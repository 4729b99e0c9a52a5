// SPDX-License-Identifier: MIT
/*
 * PCI hot reset (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET)
 * as vfio-pci does it.  Every function here can be reset alone, but a slot
 * reset also exists: it resets all functions of the slot, so the user must
 * prove it owns every one of them — by passing the group fds (group path) or
 * by having them all bound or owned through the same iommufd (cdev path,
 * zero-length array).
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "pci_bus.h"
#include "util/offsetofend.h"
#include "uvfio/vfio_cdev.h"
#include "vfio_pci_priv.h"

#define HOT_RESET_FDS_MAX	UVFIO_MAX_FDS

static bool same_slot(struct host_device *a, struct host_device *b)
{
	return pci_bus_dev_addr(a) >> 3 == pci_bus_dev_addr(b) >> 3;
}

static unsigned int slot_count(struct host_device *self)
{
	struct host_device *d;
	unsigned int n = 0;

	pci_bus_for_each(d) {
		if (same_slot(d, self))
			n++;
	}
	return n;
}

/* The dev_set: the slot's functions bound to vfio-pci. */
static struct vfio_pci *in_dev_set(struct host_device *d)
{
	return d->vdev && d->vdev->ops == &vfio_pci_ops ? to_vfio_pci(d->vdev) : NULL;
}

static void fill_dev(struct vfio_pci_dependent_device *out, struct host_device *d)
{
	uint32_t addr = pci_bus_dev_addr(d);

	out->segment = addr >> 16;
	out->bus = (addr >> 8) & 0xff;
	out->devfn = addr & 0xff;
}

long vfio_pci_ioctl_get_pci_hot_reset_info(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_device *vdev = &vp->vdev;
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device *devs;
	struct iommufd_ctx *ictx = NULL;
	struct host_device *d;
	unsigned int count, i = 0;
	long ret = 0;

	if (copy_from_user(&hdr, ua, 0, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	count = slot_count(vdev->dev);
	if (count > (hdr.argsz - sizeof(hdr)) / sizeof(*devs)) {
		hdr.count = count;
		return copy_to_user(ua, 0, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}
	devs = calloc(count, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	if (vdev->cdev_opened) {
		hdr.flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
		ictx = vfio_iommufd_device_ictx(vdev);
	}
	pci_bus_for_each(d) {
		if (!same_slot(d, vdev->dev))
			continue;
		if (ictx) {
			int id = in_dev_set(d) ? vfio_iommufd_get_dev_id(d->vdev, ictx) : -ENODEV;

			if (id > 0)
				devs[i].group_id = (uint32_t)id;
			else if (id == -ENOENT)
				devs[i].group_id = VFIO_PCI_DEVID_OWNED;
			else
				devs[i].group_id = (uint32_t)VFIO_PCI_DEVID_NOT_OWNED;
			if (devs[i].group_id == (uint32_t)VFIO_PCI_DEVID_NOT_OWNED)
				hdr.flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
		} else {
			devs[i].group_id = d->iommu_group->id;
		}
		fill_dev(&devs[i], d);
		i++;
	}
	hdr.count = count;
	if (copy_to_user(ua, sizeof(hdr), devs, count * sizeof(*devs)))
		ret = -EFAULT;
	free(devs);
	if (copy_to_user(ua, 0, &hdr, minsz))
		ret = -EFAULT;
	return ret;
}

static bool dev_in_groups(struct vfio_pci *vp, struct vfio_group **groups, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (groups[i] == vp->vdev.group)
			return true;
	}
	return false;
}

long vfio_pci_ioctl_pci_hot_reset(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_device *vdev = &vp->vdev;
	struct vfio_group *groups[HOT_RESET_FDS_MAX];
	struct iommufd_ctx *ictx = NULL;
	struct vfio_pci_hot_reset hdr;
	struct host_device *d;
	int32_t fds[HOT_RESET_FDS_MAX];

	if (copy_from_user(&hdr, ua, 0, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* A zero-length array is for cdev users only, and only for them. */
	if (!!hdr.count == vdev->cdev_opened)
		return -EINVAL;
	/* One group per function at most. */
	if (hdr.count > slot_count(vdev->dev) || hdr.count > HOT_RESET_FDS_MAX)
		return -EINVAL;
	if (hdr.count && copy_from_user(fds, ua, sizeof(hdr), hdr.count * sizeof(fds[0])))
		return -EFAULT;
	for (unsigned int i = 0; i < hdr.count; i++) {
		int kfd = fdget(ua, fds[i]);

		if (kfd < 0)
			return -EBADF;
		groups[i] = vfio_group_from_file(vfio_file_from_fd(kfd));
		if (!groups[i])
			return -EINVAL;
	}
	if (!hdr.count)
		ictx = vfio_iommufd_device_ictx(vdev);

	/* Every function of the slot must be in the dev_set (bound to
	 * vfio-pci) and owned by the caller. */
	pci_bus_for_each(d) {
		struct vfio_pci *other;
		bool owned;

		if (!same_slot(d, vdev->dev))
			continue;
		other = in_dev_set(d);
		if (!other)
			return -EINVAL;
		if (ictx) {
			int id = vfio_iommufd_get_dev_id(d->vdev, ictx);

			owned = id > 0 || id == -ENOENT;
		} else {
			owned = dev_in_groups(other, groups, hdr.count);
		}
		if (!owned)
			return -EINVAL;
	}
	pci_bus_for_each(d) {
		if (same_slot(d, vdev->dev))
			vfio_pci_try_reset(in_dev_set(d));
	}
	return 0;
}
