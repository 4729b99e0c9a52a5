/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests of the device cdev and /dev/iommu: what a program on a
 * Linux >= 6.6 host does, against the kernel's ABI only.
 */
#ifndef UVFIO_TEST_IOMMUFD_UTIL_H
#define UVFIO_TEST_IOMMUFD_UTIL_H

#include <dirent.h>
#include <linux/iommufd.h>

#include "uvfio/vfio_cdev.h"
#include "vfio_util.h"

/* The cdev of a PCI function, found the way the kernel's selftests do:
 * the vfio-dev directory under the device in sysfs. */
static inline int cdev_path(const char *bdf, char *out, size_t len)
{
	char dir[300];
	struct dirent *e;
	DIR *d;
	int ret = -1;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%.64s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4) && strlen(e->d_name) < 32) {
			snprintf(out, len, "/dev/vfio/devices/%.32s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

static inline int open_cdev(const char *bdf)
{
	char path[128];

	if (cdev_path(bdf, path, sizeof(path)))
		return -1;
	return open(path, O_RDWR);
}

/* Returns the devid, or -1 with errno. */
static inline int bind_iommufd(int dev, int iommufd)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };

	if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b))
		return -1;
	return (int)b.out_devid;
}

/* Returns the table actually attached (a HWPT ID), or -1. */
static inline int attach_pt(int dev, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = pt_id };

	if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a))
		return -1;
	return (int)a.pt_id;
}

static inline int detach_pt(int dev)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static inline int ioas_alloc(int iommufd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		return -1;
	return (int)a.out_ioas_id;
}

static inline int ioas_map(int iommufd, uint32_t ioas, void *va, uint64_t len, uint64_t iova,
			   uint32_t flags)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .flags = flags | IOMMU_IOAS_MAP_FIXED_IOVA, .ioas_id = ioas,
		.user_va = (uintptr_t)va, .length = len, .iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &m);
}

static inline long long ioas_unmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova,
				      .length = len };

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &u))
		return -1;
	return (long long)u.length;
}

static inline int iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(iommufd, IOMMU_DESTROY, &d);
}

#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

#endif
