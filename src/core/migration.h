/* SPDX-License-Identifier: MIT */
/*
 * VFIO migration v2: the device features, the state machine, and the data
 * files a bus driver opens for a saving or resuming session (migration.c).
 */
#ifndef UVFIO_CORE_MIGRATION_H
#define UVFIO_CORE_MIGRATION_H

#include <stddef.h>
#include <stdint.h>

#include "uaccess.h"
#include "vfio.h"

/* The next arc from cur on the way to target for a device supporting flags
 * (VFIO_MIGRATION_*): 0 and *next, or -EINVAL for a state the device lacks
 * or a target that cannot be reached (ERROR, STOP_COPY -> PRE_COPY...). */
int vfio_mig_next_state(uint32_t flags, uint32_t cur, uint32_t target, uint32_t *next);

/* VFIO_DEVICE_FEATURE_MIGRATION, _MIG_DEVICE_STATE, _MIG_DATA_SIZE: the
 * feature's data at off in the argument, argsz bytes of it. */
long vfio_mig_feature_migration(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
				size_t off, size_t argsz);
long vfio_mig_feature_state(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			    size_t off, size_t argsz);
long vfio_mig_feature_data_size(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
				size_t off, size_t argsz);

/* A saving session's file (reads answer ENOMSG, precopy, until it is
 * filled), or a resuming one taking at most max bytes; NULL when out of
 * memory or descriptors. */
struct vfio_file *vfio_mig_file_saving(void);
struct vfio_file *vfio_mig_file_resuming(size_t max);
/* STOP_COPY: the state it streams (buf taken over). */
void vfio_mig_file_fill(struct vfio_file *f, uint8_t *buf, size_t len);
/* The session ended: reads and writes fail with ENODEV from now on. */
void vfio_mig_file_end(struct vfio_file *f);
/* What a resuming session received. */
const uint8_t *vfio_mig_file_data(struct vfio_file *f, size_t *len);

#endif
