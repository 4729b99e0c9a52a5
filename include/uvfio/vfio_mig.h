/* SPDX-License-Identifier: MIT */
/*
 * What <linux/vfio.h> gained after Linux 6.1 for VFIO migration v2: the
 * PRE_COPY states, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE and
 * VFIO_MIG_GET_PRECOPY_INFO, with the kernel's numbers and layouts.  Debian
 * 12's header has the rest of migration v2; on a newer header this file adds
 * nothing.
 */
#ifndef UVFIO_VFIO_MIG_H
#define UVFIO_VFIO_MIG_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_MIGRATION_PRE_COPY

#define VFIO_MIGRATION_PRE_COPY		(1 << 2)
#define VFIO_DEVICE_STATE_PRE_COPY	6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P	7

/* On a PRE_COPY data_fd: how much of the initial and of the dirty state is
 * left to read. */
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};

#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)

#endif

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE

/* Upon GET: how many bytes STOP_COPY would stream from now on (a bound). */
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};

#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9

#endif

#endif
