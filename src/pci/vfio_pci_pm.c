// SPDX-License-Identifier: MIT
/*
 * Runtime power management for the user (drivers/vfio/pci/vfio_pci_core.c):
 * VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, _ENTRY_WITH_WAKEUP and _EXIT.
 *
 * Entered, the function is runtime suspended, in D3: its memory is off
 * (region reads and writes fail with EIO, a register page of a mapping
 * faults with SIGBUS), config space answers.  As on Linux every ioctl on the
 * device resumes it for its duration: a function entered with a wakeup
 * eventfd then signals it and leaves low power for good; one entered without
 * goes back to sleep after the ioctl.  A PME -- here, the model raising an
 * interrupt while suspended -- resumes it the same way.  LOW_POWER_EXIT, and
 * the device's last close, leave low power without a notification.
 */
#include <errno.h>
#include <linux/vfio.h>

#include "core/dirty_log.h"
#include "vfio_pci_priv.h"

void vfio_pci_pm_init(struct vfio_pci *vp)
{
	vp->pm_runtime_engaged = false;
	vp->pm_wake_fd = -1;
}

/* notify: a resume the user asked to hear about (the wakeup eventfd). */
void vfio_pci_pm_exit(struct vfio_pci *vp, bool notify)
{
	vp->pm_runtime_engaged = false;
	if (vp->pm_wake_fd >= 0) {
		if (notify)
			vfio_pci_eventfd_signal(vp->pm_wake_fd);
		vfio_pci_eventfd_close(vp->pm_wake_fd);
		vp->pm_wake_fd = -1;
	}
}

void vfio_pci_runtime_resume(struct vfio_device *vdev)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);

	/* only an entry with a wakeup eventfd ends with the resume */
	if (vp->pm_runtime_engaged && vp->pm_wake_fd >= 0)
		vfio_pci_pm_exit(vp, true);
}

void vfio_pci_pme(struct vfio_pci *vp)
{
	vfio_pci_runtime_resume(&vp->vdev);
}

static int pm_entry(struct vfio_pci *vp, int wake_fd)
{
	if (vp->pm_runtime_engaged)
		return -EINVAL;
	vp->pm_runtime_engaged = true;
	vp->pm_wake_fd = wake_fd;
	return 0;
}

static long feature_pm_entry(struct vfio_pci *vp, uint32_t flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	return pm_entry(vp, -1);
}

static long feature_pm_entry_with_wakeup(struct vfio_pci *vp, uint32_t flags,
					 struct vfio_uarg *ua, size_t off, size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(entry));
	int efd;

	if (ret != 1)
		return ret;
	if (copy_from_user(&entry, ua, off, sizeof(entry)))
		return -EFAULT;
	if (entry.wakeup_eventfd < 0)
		return -EINVAL;
	efd = vfio_pci_eventfd_get(ua, entry.wakeup_eventfd);
	if (efd < 0)
		return efd;
	ret = pm_entry(vp, efd);
	if (ret)
		vfio_pci_eventfd_close(efd);
	return ret;
}

static long feature_pm_exit(struct vfio_pci *vp, uint32_t flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	vfio_pci_pm_exit(vp, false);
	return 0;
}

long vfio_pci_ioctl_feature(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			    size_t off, size_t argsz)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return feature_pm_entry(vp, flags, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return feature_pm_entry_with_wakeup(vp, flags, ua, off, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return feature_pm_exit(vp, flags, argsz);
	default:
		/* no migration or VF token */
		return -ENOTTY;
	}
}
