// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 ioctls on /dev/iommu, acting on the compat IOAS, with
 * iommufd's errnos where they differ from type1's.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "iommufd_test_util.h"

static struct iommu_group *ga;
static struct host_device a0;

static int setup(void **state)
{
	(void)state;
	itest_setup();
	ga = iommu_group_alloc(910);
	assert_non_null(ga);
	itest_dev_init(&a0, "0000:11:00.0", ga);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_null(ga->owner);
	itest_dev_fini(&a0);
	iommu_group_free(ga);
	itest_teardown();
	return 0;
}

/* What VFIO_GROUP_SET_CONTAINER with this file and a device open through
 * the group amount to: the compat IOAS, and the device attached to it. */
static struct iommufd_device *group_attach(struct vfio_file *f)
{
	struct iommufd_ctx *ictx = itest_ictx(f);
	struct iommufd_device *idev;
	uint32_t id, ioas;

	assert_int_equal(iommufd_vfio_compat_ioas_create(ictx), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(ictx, &ioas), 0);
	assert_int_equal(iommufd_device_bind(ictx, &a0, &idev, &id), 0);
	assert_int_equal(iommufd_device_attach(idev, &ioas), 0);
	return idev;
}

static struct io_pagetable *compat_iopt(struct vfio_file *f)
{
	return &itest_ictx(f)->vfio_ioas->iopt;
}

static long map(struct vfio_file *f, uint32_t flags, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = (uintptr_t)vaddr, .iova = iova,
		.size = size,
	};

	itest_seg_reset();
	itest_seg(vaddr, size ? size : 1, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	return itest_ioctl(f, VFIO_IOMMU_MAP_DMA, &m, sizeof(m));
}

static long unmap(struct vfio_file *f, uint32_t flags, uint64_t iova, uint64_t *size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = *size,
	};
	long ret = itest_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u));

	*size = u.size;
	return ret;
}

static void test_extensions(void **state)
{
	struct vfio_file *f = itest_open();

	(void)state;
	assert_int_equal(itest_ioctl_val(f, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 1);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU), 0);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, 0x1234), 0);
	/* Cache coherency is a property of the compat IOAS's domains. */
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), -ENODEV);
	assert_int_equal(iommufd_vfio_compat_ioas_create(itest_ictx(f)), 0);
	assert_int_equal(itest_ioctl_val(f, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 1);
	/* Not provided: dirty pages through type1, and anything else. */
	assert_int_equal(itest_ioctl_val(f, VFIO_IOMMU_DIRTY_PAGES, 0), -ENOTTY);
	assert_int_equal(itest_ioctl_val(f, _IO(VFIO_TYPE, VFIO_BASE + 27), 0), -ENOTTY);
	itest_close(f);
}

static void test_set_iommu(void **state)
{
	struct vfio_file *f = itest_open();
	uint8_t *buf = itest_anon(PG);
	struct iommufd_device *idev;
	uint64_t size;

	(void)state;
	/* The type is checked before the group. */
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), -EINVAL);
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), -EINVAL);
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -ENODEV);
	idev = group_attach(f);
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	assert_false(compat_iopt(f)->disable_large_pages);
	/* Type1 v1 turns large pages off, which mapped domains refuse. */
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x10000, PG), 0);
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), -EINVAL);
	size = 0;
	assert_int_equal(unmap(f, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size), 0);
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), 0);
	assert_true(compat_iopt(f)->disable_large_pages);
	iommufd_device_unbind(idev);
	itest_close(f);
	munmap(buf, PG);
}

static void test_map(void **state)
{
	struct vfio_file *f = itest_open();
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) - 1 };
	uint8_t *buf = itest_anon(4 * PG);
	struct iommufd_device *idev;

	(void)state;
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_MAP_DMA, &m, sizeof(m)), -EINVAL);
	m.argsz = sizeof(m);
	m.flags = VFIO_DMA_MAP_FLAG_VADDR;
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_MAP_DMA, &m, sizeof(m)), -EINVAL);
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_MAP_DMA, &m, 16), -EFAULT);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x10000, PG), -ENODEV);

	idev = group_attach(f);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, buf, 0x100000,
			     3 * PG), 0);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x102000, PG), -EEXIST);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x200000, 0), -EINVAL);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x200100, PG), -EINVAL);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0xfee00000, PG), -EINVAL);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, UINT64_MAX - PG + 1, 2 * PG),
			 -EOVERFLOW);
	/* Without permissions: mapped, useless to the device. */
	assert_int_equal(map(f, 0, buf, 0x200000, PG), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x200000, buf, 4, false), -EFAULT);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x100000, buf + PG, 4, false), 0);
	iommufd_device_unbind(idev);
	itest_close(f);
	munmap(buf, 4 * PG);
}

static void test_unmap(void **state)
{
	struct vfio_file *f = itest_open();
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u) - 1 };
	uint8_t *buf = itest_anon(4 * PG);
	struct iommufd_device *idev;
	uint64_t size;

	(void)state;
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);
	size = PG;
	assert_int_equal(unmap(f, 0, 0x10000, &size), -ENODEV);
	/* Dirty bitmaps and VADDR belong to type1 alone. */
	size = PG;
	assert_int_equal(unmap(f, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 0x10000, &size), -EINVAL);
	assert_int_equal(unmap(f, VFIO_DMA_UNMAP_FLAG_VADDR, 0x10000, &size), -EINVAL);

	idev = group_attach(f);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x100000, 3 * PG), 0);
	size = PG;
	assert_int_equal(unmap(f, VFIO_DMA_UNMAP_FLAG_ALL, 0x100000, &size), -EINVAL);
	/* Type1 v2 says EINVAL for cutting a mapping; iommufd ENOENT, and the
	 * size goes back (nothing unmapped). */
	size = PG;
	assert_int_equal(unmap(f, 0, 0x101000, &size), -ENOENT);
	assert_int_equal(size, 0);
	/* Nothing there: success, unlike IOMMU_IOAS_UNMAP. */
	size = PG;
	assert_int_equal(unmap(f, 0, 0x500000, &size), 0);
	assert_int_equal(size, 0);
	size = 0;
	assert_int_equal(unmap(f, 0, 0x100000, &size), -EINVAL);
	size = 0x10000;
	assert_int_equal(unmap(f, 0, 0xf0000, &size), 0);
	assert_int_equal(size, 0);
	size = 0x100000;
	assert_int_equal(unmap(f, 0, 0x100000, &size), 0);
	assert_int_equal(size, 3 * PG);

	/* Type1 v1: a hole may be punched into a mapping. */
	assert_int_equal(itest_ioctl_val(f, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(map(f, VFIO_DMA_MAP_FLAG_READ, buf, 0x100000, 3 * PG), 0);
	size = PG;
	assert_int_equal(unmap(f, 0, 0x101000, &size), 0);
	assert_int_equal(size, PG);
	assert_int_equal(itest_ictx(f)->nr_areas, 2);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x102000, buf, 4, false), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x101000, buf, 4, false), -EFAULT);
	/* ... on page boundaries only, and then nothing comes back. */
	size = PG;
	u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(u), .iova = 0x100800,
						 .size = PG };
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);
	assert_int_equal(itest_wb_hi, 0);
	size = 0;
	assert_int_equal(unmap(f, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size), 0);
	assert_int_equal(size, 2 * PG);
	iommufd_device_unbind(idev);
	itest_close(f);
	munmap(buf, 4 * PG);
}

struct info_buf {
	struct vfio_iommu_type1_info info;
	uint8_t caps[232];
};

static long get_info(struct vfio_file *f, struct info_buf *b, uint32_t argsz)
{
	memset(b, 0, sizeof(*b));
	b->info.argsz = argsz;
	return itest_ioctl(f, VFIO_IOMMU_GET_INFO, b, sizeof(*b));
}

static void test_get_info(void **state)
{
	struct vfio_file *f = itest_open();
	const size_t isz = sizeof(struct vfio_iommu_type1_info);
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *range;
	struct iommufd_device *idev;
	struct info_buf b;

	(void)state;
	assert_int_equal(get_info(f, &b, offsetof(struct vfio_iommu_type1_info, cap_offset) - 1),
			 -EINVAL);
	assert_int_equal(itest_ioctl(f, VFIO_IOMMU_GET_INFO, &b, 8), -EFAULT);
	assert_int_equal(get_info(f, &b, sizeof(b)), -ENODEV);

	/* No domain: any page size from 4 KiB, one range. */
	assert_int_equal(iommufd_vfio_compat_ioas_create(itest_ictx(f)), 0);
	assert_int_equal(get_info(f, &b, isz), 0);
	assert_int_equal(b.info.flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	assert_true(b.info.iova_pgsizes == 0xfffffffffffff000ULL);
	assert_int_equal(b.info.argsz, isz + 16 + 16 + 16);
	assert_int_equal(b.info.cap_offset, 0);

	assert_int_equal(get_info(f, &b, sizeof(b)), 0);
	assert_int_equal(b.info.cap_offset, isz);
	avail = (void *)((uint8_t *)&b + isz);
	assert_int_equal(avail->header.id, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	assert_int_equal(avail->header.version, 1);
	assert_int_equal(avail->header.next, isz + 16);
	assert_int_equal(avail->avail, UINT32_MAX);
	range = (void *)((uint8_t *)&b + isz + 16);
	assert_int_equal(range->header.id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	assert_int_equal(range->header.next, 0);
	assert_int_equal(range->nr_iovas, 1);
	assert_true(range->iova_ranges[0].end == UINT64_MAX);

	/* A domain: its page sizes, and the MSI window and aperture cut out. */
	idev = group_attach(f);
	assert_int_equal(get_info(f, &b, sizeof(b)), 0);
	assert_int_equal(b.info.iova_pgsizes, IOPT_DOMAIN_PGSIZES);
	assert_int_equal(b.info.argsz, isz + 16 + 16 + 2 * 16);
	range = (void *)((uint8_t *)&b + isz + 16);
	assert_int_equal(range->nr_iovas, 2);
	assert_int_equal(range->iova_ranges[0].end, 0xfedfffff);
	assert_int_equal(range->iova_ranges[1].start, 0xfef00000);
	assert_int_equal(range->iova_ranges[1].end, (1ULL << 48) - 1);

	/* Room for the first cap only: it is written, and so is its next
	 * (pointing past the buffer), but no cap_offset. */
	assert_int_equal(get_info(f, &b, isz + 16), 0);
	assert_int_equal(b.info.cap_offset, 0);
	assert_int_equal(b.info.argsz, isz + 16 + 16 + 2 * 16);
	avail = (void *)((uint8_t *)&b + isz);
	assert_int_equal(avail->header.id, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	assert_int_equal(avail->header.next, isz + 16);
	range = (void *)((uint8_t *)&b + isz + 16);
	assert_int_equal(range->header.id, 0);
	iommufd_device_unbind(idev);
	itest_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_extensions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
