/* SPDX-License-Identifier: MIT */
/*
 * What <linux/vfio.h> gained after Linux 6.1 for the device cdev
 * (/dev/vfio/devices/vfioN) and iommufd, with the kernel's numbers and
 * layouts (v6.18).  Debian 12's header predates them; a program built there
 * includes this after <linux/vfio.h>.  Nothing is defined twice: on a newer
 * header this file adds nothing.
 */
#ifndef UVFIO_VFIO_CDEV_H
#define UVFIO_VFIO_CDEV_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_DEVICE_BIND_IOMMUFD

/* VFIO_DEVICE_GET_INFO: the device was opened through its cdev. */
#define VFIO_DEVICE_FLAGS_CDEV	(1 << 9)

/*
 * Binds a device opened through its cdev to the iommufd `iommufd`; until
 * then every other use of the file fails with EINVAL.  out_devid names the
 * device in that iommufd.  token_uuid_ptr (with VFIO_DEVICE_BIND_FLAG_TOKEN)
 * points to the 16-byte VF token.
 */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)

/* Attaches the device to an IOAS or a HWPT; pt_id is written back with the
 * HWPT actually used. */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
	__u32 pt_id;
	__u32 pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_DETACH_PASID (1 << 0)
	__u32 pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)

#endif /* VFIO_DEVICE_BIND_IOMMUFD */

/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO for a cdev-bound device: entries carry
 * the iommufd device ID in place of the group ID (the 6.1 struct's group_id
 * field), and the reset takes a zero-length group fd array.
 */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID		(1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED	(1 << 1)
#define VFIO_PCI_DEVID_OWNED			0
#define VFIO_PCI_DEVID_NOT_OWNED		-1
#endif

#endif
