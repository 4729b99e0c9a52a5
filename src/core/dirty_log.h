/* SPDX-License-Identifier: MIT */
/*
 * Device DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_START/STOP/REPORT):
 * the pages of the IOVA ranges the user named that the device wrote.  The
 * software IOMMU sees every device write, so every device can log; the log
 * is kept at the page size chosen at start and reported at any power-of-two
 * page size, set bits only, the reported part cleared.
 */
#ifndef UVFIO_CORE_DIRTY_LOG_H
#define UVFIO_CORE_DIRTY_LOG_H

#include <stddef.h>
#include <stdint.h>

struct vfio_device;
struct vfio_uarg;
struct vfio_dirty_log;

/* The three features: feature flags, the argument, where the feature's data
 * starts in it and how long it is (argsz minus the header).  0 or -errno. */
long vfio_dirty_log_start(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			  size_t off, size_t argsz);
long vfio_dirty_log_stop(struct vfio_device *vdev, uint32_t flags, size_t argsz);
long vfio_dirty_log_report(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			   size_t off, size_t argsz);

/* The device wrote [iova, iova + len). */
void vfio_dirty_log_mark(struct vfio_dirty_log *log, uint64_t iova, size_t len);
/* Logging ends (stop, the device's last close). */
void vfio_dirty_log_free(struct vfio_dirty_log *log);
/* One line for `uvfio stats`. */
int vfio_dirty_log_describe(const struct vfio_dirty_log *log, char *buf, size_t len);

/* The feature rules shared by every feature (vfio_check_feature): 1 go on,
 * 0 a probe that succeeded, or -EINVAL. */
int vfio_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz);

#endif
