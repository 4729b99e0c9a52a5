/* SPDX-License-Identifier: MIT */
/*
 * The type1 IOMMU back end (drivers/vfio/vfio_iommu_type1.c) as a software
 * IOMMU: MAP_DMA pins the caller's memory, device DMA goes through
 * vfio_iommu_type1_ops.dma_rw and is checked against the mappings.
 */
#ifndef UVFIO_IOMMU_TYPE1_H
#define UVFIO_IOMMU_TYPE1_H

#include "core/vfio.h"

extern const struct vfio_iommu_driver_ops vfio_iommu_type1_ops;

/* The dma_entry_limit module parameter (default 65535): mappings allowed
 * per container, read when a container opens the driver. */
void vfio_iommu_type1_set_dma_entry_limit(unsigned int limit);

#endif
