/* SPDX-License-Identifier: MIT */
/*
 * Driving /dev/iommu files the way the daemon does: the calling process is
 * this very test process, and each ioctl argument is marshalled by hand as
 * the shim would (argument bytes, write-back buffer, memory segments and
 * descriptors).
 */
#ifndef UVFIO_TEST_IOMMUFD_UTIL_H
#define UVFIO_TEST_IOMMUFD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/vfio.h"
#include "iommufd/iommufd_private.h"

#define PG 4096ULL

extern struct vfio_uctx itest_ctx;
/* Where the last ioctl's write-back ended (copy_to_user's high mark). */
extern uint32_t itest_wb_hi;

/* Event loop, caller's context; itest_teardown() checks every file went. */
void itest_setup(void);
void itest_teardown(void);

struct vfio_file *itest_open(void);
/* The program's last close() of the descriptor. */
void itest_close(struct vfio_file *f);
struct iommufd_ctx *itest_ictx(struct vfio_file *f);

/* What backs the caller's memory in the next call. */
void itest_seg_reset(void);
void itest_seg(void *p, uint64_t len, uint32_t uvfio_seg_flags);
void itest_seg_memfd(void *p, uint64_t len, int fd, uint64_t file_off);
/* User descriptor number user_fd is daemon descriptor fd (-1: not open). */
void itest_fd(int32_t user_fd, int fd);

/* The argument is len bytes of arg; msg_flags are UVFIO_IOCTL_* flags. */
long itest_ioctl_flags(struct vfio_file *f, unsigned int cmd, void *arg, size_t len,
		       uint32_t msg_flags);
long itest_ioctl(struct vfio_file *f, unsigned int cmd, void *arg, size_t len);
long itest_ioctl_val(struct vfio_file *f, unsigned int cmd, unsigned long value);

void *itest_anon(size_t len);
void *itest_memfd(size_t len, int *fd);

/* Shorthands; each asserts nothing and returns the ioctl result. */
uint32_t itest_ioas_alloc(struct vfio_file *f);
long itest_map(struct vfio_file *f, uint32_t ioas, uint32_t flags, void *va, uint64_t len,
	       uint64_t *iova);
long itest_unmap(struct vfio_file *f, uint32_t ioas, uint64_t iova, uint64_t *len);
long itest_destroy(struct vfio_file *f, uint32_t id);
/* The usable ranges of an IOAS (up to max), its count and alignment. */
long itest_ranges(struct vfio_file *f, uint32_t ioas, struct iommu_iova_range *r,
		  uint32_t max, uint32_t *num, uint64_t *align);

/* A fake host device in IOMMU group g. */
void itest_dev_init(struct host_device *d, const char *name, struct iommu_group *g);
void itest_dev_fini(struct host_device *d);

#endif
