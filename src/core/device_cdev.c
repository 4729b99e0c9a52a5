// SPDX-License-Identifier: MIT
/*
 * The device cdev, /dev/vfio/devices/vfioN (drivers/vfio/device_cdev.c).
 * Opening it claims nothing; VFIO_DEVICE_BIND_IOMMUFD makes it usable and,
 * for as long as the file lives, keeps the device's group from being opened
 * through /dev/vfio/$GROUP.  The daemon serves one request at a time, so
 * another thread of the program sees the file either unbound or bound.
 */
#include <errno.h>
#include <linux/vfio.h>

#include "iommufd/iommufd.h"
#include "util/offsetofend.h"
#include "uvfio/vfio_cdev.h"
#include "vfio.h"

#define UUID_SIZE 16

long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct vfio_device *vdev = df->vdev;
	struct vfio_device_bind_iommufd bind = { 0 };
	struct iommufd_ctx *ictx;
	uint32_t user_size;
	int kfd, ret;

	if (copy_from_user(&user_size, ua, 0, sizeof(user_size)))
		return -EFAULT;
	if (user_size < minsz)
		return -EINVAL;
	/* copy_struct_from_user(): what we know, and a zero tail beyond it */
	if (copy_from_user(&bind, ua, 0, user_size < sizeof(bind) ? user_size : sizeof(bind)))
		return -EFAULT;
	if (user_size > sizeof(bind)) {
		ret = check_zeroed_user(ua, sizeof(bind), user_size);
		if (ret)
			return ret;
	}
	if (bind.iommufd < 0 || bind.flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN)
		return -EINVAL;
	/* Only a cdev file binds; a group-opened device is already open. */
	if (df->group)
		return -EINVAL;

	if (vdev->cdev_file != df->file)
		vfio_device_reap_cdev(vdev);
	ret = vfio_device_block_group(vdev);
	if (ret)
		return ret;
	/* A file binds once and stays bound until closed. */
	if (df->access_granted) {
		ret = -EINVAL;
		goto out_unblock;
	}
	/* No emulated function is a VF: like vfio-pci for a PF, a token is
	 * accepted only if the user has one to give (and it is not checked
	 * against anything). */
	if (bind.flags & VFIO_DEVICE_BIND_FLAG_TOKEN) {
		uint8_t uuid[UUID_SIZE];

		if (user_size < offsetofend(struct vfio_device_bind_iommufd, token_uuid_ptr)) {
			ret = -EINVAL;
			goto out_unblock;
		}
		if (vfio_mm_read(ua->ctx->mm, bind.token_uuid_ptr, uuid, sizeof(uuid))) {
			ret = -EFAULT;
			goto out_unblock;
		}
	}
	kfd = fdget(ua, bind.iommufd);
	if (kfd < 0) {
		ret = -EBADF;
		goto out_unblock;
	}
	ictx = iommufd_ctx_from_file(vfio_file_from_fd(kfd));
	if (!ictx) {
		ret = -EBADFD;
		goto out_unblock;
	}
	iommufd_ctx_get(ictx);
	df->iommufd = ictx;

	ret = vfio_df_open(df);
	if (ret)
		goto out_put;
	if (copy_to_user(ua, offsetof(struct vfio_device_bind_iommufd, out_devid), &df->devid,
			 sizeof(df->devid))) {
		ret = -EFAULT;
		goto out_close;
	}
	vdev->cdev_opened = true;
	vdev->cdev_file = df->file;
	df->access_granted = true;
	return 0;

out_close:
	vfio_df_close(df);
out_put:
	iommufd_ctx_put(ictx);
	df->iommufd = NULL;
out_unblock:
	vfio_device_unblock_group(vdev);
	return ret;
}

void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->vdev;

	if (!df->access_granted)
		return;
	vfio_df_close(df);
	iommufd_ctx_put(df->iommufd);
	df->iommufd = NULL;
	vdev->cdev_opened = false;
	vdev->cdev_file = NULL;
	vfio_device_unblock_group(vdev);
}

void vfio_device_reap_cdev(struct vfio_device *vdev)
{
	if (vdev->cdev_file)
		vfio_file_reap(vdev->cdev_file);
}

long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	struct vfio_device_attach_iommufd_pt attach;
	int ret;

	if (copy_from_user(&attach, ua, 0, minsz))
		return -EFAULT;
	if (attach.argsz < minsz)
		return -EINVAL;
	if (attach.flags & ~VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	/* PCI functions here have no PASID capability. */
	if (attach.flags & VFIO_DEVICE_ATTACH_PASID)
		return -EOPNOTSUPP;
	ret = vfio_iommufd_attach_ioas(df->vdev, &attach.pt_id);
	if (ret)
		return ret;
	if (copy_to_user(ua, offsetof(struct vfio_device_attach_iommufd_pt, pt_id),
			 &attach.pt_id, sizeof(attach.pt_id))) {
		vfio_iommufd_detach_ioas(df->vdev);
		return -EFAULT;
	}
	return 0;
}

long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, struct vfio_uarg *ua)
{
	const size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);
	struct vfio_device_detach_iommufd_pt detach;

	if (copy_from_user(&detach, ua, 0, minsz))
		return -EFAULT;
	if (detach.argsz < minsz)
		return -EINVAL;
	if (detach.flags & ~VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	if (detach.flags & VFIO_DEVICE_DETACH_PASID)
		return -EOPNOTSUPP;
	vfio_iommufd_detach_ioas(df->vdev);
	return 0;
}
