/* SPDX-License-Identifier: MIT */
/*
 * iommufd (drivers/iommu/iommufd/) as the VFIO core sees it, mirroring the
 * kernel's include/linux/iommufd.h: a /dev/iommu file is an iommufd context
 * whose life is the file's; VFIO binds physical devices to a context, attaches
 * them to an IOAS or a paging HWPT, and their DMA then goes through that
 * table.  The object table, IOAS, io page table, HWPT and the VFIO type1
 * compatibility live in this directory, one concept a file.
 */
#ifndef UVFIO_IOMMUFD_IOMMUFD_H
#define UVFIO_IOMMUFD_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/file.h"
#include "core/uaccess.h"

struct host_device;
struct iommufd_ctx;
struct iommufd_device;

/* Opening /dev/iommu: a new context owned by the new file. */
int iommufd_fops_open(struct vfio_uctx *uctx, struct vfio_file **out);

/* The context behind a file: NULL when f is not a /dev/iommu file.  A VFIO
 * user (a group or a cdev-bound device) keeps the context alive with
 * iommufd_ctx_get() (a reference on its file) until iommufd_ctx_put(). */
struct iommufd_ctx *iommufd_ctx_from_file(struct vfio_file *f);
void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);

/*
 * Binds a physical device to ictx, claiming DMA ownership of its IOMMU group
 * with ictx as the owner (so every device of one group bound through iommufd
 * must use the same context; -EPERM otherwise or while a host driver is
 * bound).  Creates the DEVICE object and returns its ID in *id.  The device
 * cannot DMA until attached.
 */
int iommufd_device_bind(struct iommufd_ctx *ictx, struct host_device *dev,
			struct iommufd_device **out, uint32_t *id);
/* Detaches if attached, destroys the DEVICE object, releases ownership. */
void iommufd_device_unbind(struct iommufd_device *idev);
/*
 * Attaches to *pt_id: an IOAS (an automatic paging HWPT for it is reused or
 * created, and *pt_id is set to that HWPT's ID) or a paging HWPT.  A device
 * already attached has its table replaced (iommufd_device_replace()).
 * -ENOENT for an unknown ID, -EINVAL for an object that is not a table or
 * when the device's IOMMU group already uses another table, -EADDRINUSE
 * when the IOAS maps IOVA the device must reserve (the MSI window), beyond
 * the 48-bit aperture, or not 4 KiB aligned.
 */
int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
bool iommufd_device_attached(const struct iommufd_device *idev);
struct iommufd_ctx *iommufd_device_to_ictx(const struct iommufd_device *idev);
uint32_t iommufd_device_to_id(const struct iommufd_device *idev);

/*
 * Device DMA through the table the device is attached to: 0, or -EFAULT when
 * not attached, not mapped or not permitted (nothing transferred, the fault
 * counted).  Writes mark the pages dirty in the HWPT when it tracks dirty.
 */
int iommufd_device_dma_rw(struct iommufd_device *idev, uint64_t iova, void *buf, size_t len,
			  bool write);

/*
 * The VFIO group path with an iommufd as its "container": creates the
 * context's compat IOAS if it has none (VFIO_GROUP_SET_CONTAINER), and gives
 * its ID to attach devices opened through the group.  -ENODEV when no compat
 * IOAS exists (get_id only).
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *ioas_id);

/* One line for `uvfio stats`. */
void iommufd_ctx_describe(struct iommufd_ctx *ictx, char *buf, size_t len);

#endif
