// SPDX-License-Identifier: MIT
/*
 * Devices on a context: bind and DMA ownership, attaching to an IOAS (an
 * automatic HWPT) or a HWPT, per-group tables, replace, detach, device DMA
 * through the table, IOMMU_HWPT_ALLOC, dirty tracking and GET_HW_INFO.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "iommufd_test_util.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

/* Group A holds a0 and a1, group B holds b0. */
static struct iommu_group *ga, *gb;
static struct host_device a0, a1, b0;

static int setup(void **state)
{
	(void)state;
	itest_setup();
	ga = iommu_group_alloc(900);
	gb = iommu_group_alloc(901);
	assert_non_null(ga);
	assert_non_null(gb);
	itest_dev_init(&a0, "0000:09:00.0", ga);
	itest_dev_init(&a1, "0000:09:00.1", ga);
	itest_dev_init(&b0, "0000:0a:00.0", gb);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_null(ga->owner);
	assert_null(gb->owner);
	itest_dev_fini(&a0);
	itest_dev_fini(&a1);
	itest_dev_fini(&b0);
	iommu_group_free(ga);
	iommu_group_free(gb);
	itest_teardown();
	return 0;
}

static struct iommufd_device *bind(struct vfio_file *f, struct host_device *d, uint32_t *id)
{
	struct iommufd_device *idev = NULL;

	assert_int_equal(iommufd_device_bind(itest_ictx(f), d, &idev, id), 0);
	assert_non_null(idev);
	return idev;
}

static struct io_pagetable *iopt_of(struct vfio_file *f, uint32_t ioas)
{
	return &iommufd_get_ioas(itest_ictx(f), ioas)->iopt;
}

static long hwpt_alloc(struct vfio_file *f, uint32_t dev, uint32_t pt, uint32_t flags,
		       uint32_t *out)
{
	struct iommu_hwpt_alloc c = { .size = sizeof(c), .flags = flags, .dev_id = dev,
				      .pt_id = pt };
	long ret = itest_ioctl(f, IOMMU_HWPT_ALLOC, &c, sizeof(c));

	*out = c.out_hwpt_id;
	return ret;
}

/* ---- bind ---- */

static void test_bind(void **state)
{
	struct vfio_file *f = itest_open(), *g = itest_open();
	struct iommufd_device *ia0, *ia1, *idev;
	uint32_t id0, id1, id;
	struct host_device orphan = { .name = "0000:0b:00.0" };

	(void)state;
	ia0 = bind(f, &a0, &id0);
	assert_int_equal(id0, 1);
	assert_ptr_equal(ga->owner, itest_ictx(f));
	assert_ptr_equal(iommufd_device_to_ictx(ia0), itest_ictx(f));
	assert_int_equal(iommufd_device_to_id(ia0), id0);
	assert_false(iommufd_device_attached(ia0));
	/* The group is this context's now: not another's. */
	assert_int_equal(iommufd_device_bind(itest_ictx(g), &a1, &idev, &id), -EPERM);
	ia1 = bind(f, &a1, &id1);
	assert_int_equal(id1, 2);
	/* VFIO holds bound devices. */
	assert_int_equal(itest_destroy(f, id0), -EBUSY);
	/* A host driver owns the group. */
	assert_int_equal(iommu_device_use_default_domain(&b0), 0);
	assert_int_equal(iommufd_device_bind(itest_ictx(f), &b0, &idev, &id), -EPERM);
	iommu_device_unuse_default_domain(&b0);
	assert_int_equal(iommufd_device_bind(itest_ictx(f), &orphan, &idev, &id), -ENODEV);
	/* A bound device holds its context. */
	itest_close(f);
	assert_int_equal(vfio_file_count(), 2);

	iommufd_device_unbind(ia0);
	assert_ptr_equal(ga->owner, iommufd_device_to_ictx(ia1));
	iommufd_device_unbind(ia1);
	assert_null(ga->owner);
	assert_int_equal(vfio_file_count(), 1);
	itest_close(g);
}

/* ---- attach to an IOAS ---- */

static void test_attach_ioas(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), ida0, ida1, idb0, pt, hwpt, num;
	struct iommufd_device *ia0 = bind(f, &a0, &ida0), *ia1 = bind(f, &a1, &ida1);
	struct iommufd_device *ib0 = bind(f, &b0, &idb0);
	struct iommu_iova_range r[4];
	uint64_t align;

	(void)state;
	pt = ioas;
	assert_int_equal(iommufd_device_attach(ia0, &pt), 0);
	hwpt = pt;
	assert_int_not_equal(hwpt, ioas);
	assert_true(iommufd_device_attached(ia0));
	assert_non_null(iommufd_get_hwpt_paging(itest_ictx(f), hwpt));
	/* The domain narrowed the IOAS: 4 KiB pages, 48 bits, no MSI window. */
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(align, PG);
	assert_int_equal(num, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, (1ULL << 48) - 1);
	/* In use: neither the IOAS nor the HWPT can go. */
	assert_int_equal(itest_destroy(f, ioas), -EBUSY);
	assert_int_equal(itest_destroy(f, hwpt), -EBUSY);

	/* The automatic HWPT is shared, by group and across groups. */
	pt = ioas;
	assert_int_equal(iommufd_device_attach(ia1, &pt), 0);
	assert_int_equal(pt, hwpt);
	pt = ioas;
	assert_int_equal(iommufd_device_attach(ib0, &pt), 0);
	assert_int_equal(pt, hwpt);

	/* The last detach takes the automatic HWPT along. */
	iommufd_device_detach(ia0);
	iommufd_device_detach(ia0);
	assert_false(iommufd_device_attached(ia0));
	iommufd_device_detach(ia1);
	assert_non_null(iommufd_get_hwpt_paging(itest_ictx(f), hwpt));
	iommufd_device_detach(ib0);
	assert_null(iommufd_get_hwpt_paging(itest_ictx(f), hwpt));
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(num, 1);
	assert_int_equal(align, 1);

	iommufd_device_unbind(ia0);
	iommufd_device_unbind(ia1);
	iommufd_device_unbind(ib0);
	itest_close(f);
}

static void test_attach_errors(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), ioas2 = itest_ioas_alloc(f), ida0, ida1, pt, hwpt;
	struct iommufd_device *ia0 = bind(f, &a0, &ida0), *ia1 = bind(f, &a1, &ida1);
	uint8_t *buf = itest_anon(4 * PG);
	uint64_t iova, len;

	(void)state;
	pt = 99;
	assert_int_equal(iommufd_device_attach(ia0, &pt), -ENOENT);
	pt = ida1;
	assert_int_equal(iommufd_device_attach(ia0, &pt), -EINVAL);
	assert_false(iommufd_device_attached(ia0));

	/* The IOAS maps the MSI window, past the aperture, or unaligned. */
	iova = 0xfee00000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);
	pt = ioas;
	assert_int_equal(iommufd_device_attach(ia0, &pt), -EADDRINUSE);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &len), 0);
	iova = 1ULL << 48;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);
	assert_int_equal(iommufd_device_attach(ia0, &pt), -EADDRINUSE);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &len), 0);
	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf + 1, PG, &iova), 0);
	assert_int_equal(iommufd_device_attach(ia0, &pt), -EADDRINUSE);
	/* Nothing was left behind. */
	assert_int_equal(itest_ictx(f)->nr_objects, 4);
	assert_true(TAILQ_EMPTY(&iopt_of(f, ioas)->reserved));
	assert_int_equal(iopt_of(f, ioas)->iova_alignment, 1);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &len), 0);

	/* One group, one table. */
	pt = ioas;
	assert_int_equal(iommufd_device_attach(ia0, &pt), 0);
	hwpt = pt;
	pt = ioas2;
	assert_int_equal(iommufd_device_attach(ia1, &pt), -EINVAL);
	assert_int_equal(hwpt_alloc(f, ida1, ioas, 0, &pt), 0);
	assert_int_equal(iommufd_device_attach(ia1, &pt), -EINVAL);
	assert_false(iommufd_device_attached(ia1));
	assert_int_equal(itest_destroy(f, pt), 0);
	pt = hwpt;
	assert_int_equal(iommufd_device_attach(ia1, &pt), 0);

	iommufd_device_unbind(ia0);
	iommufd_device_unbind(ia1);
	assert_null(iommufd_get_hwpt_paging(itest_ictx(f), hwpt));
	itest_close(f);
	munmap(buf, 4 * PG);
}

static void test_replace(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas1 = itest_ioas_alloc(f), ioas2 = itest_ioas_alloc(f), ida0, ida1, pt, h1, h2,
		 manual, num;
	struct iommufd_device *ia0 = bind(f, &a0, &ida0), *ia1 = bind(f, &a1, &ida1);
	struct iommu_iova_range r[4];
	uint8_t *buf = itest_anon(PG);
	uint64_t align, iova;

	(void)state;
	pt = ioas1;
	assert_int_equal(iommufd_device_attach(ia0, &pt), 0);
	h1 = pt;
	pt = ioas1;
	assert_int_equal(iommufd_device_attach(ia1, &pt), 0);

	/* Attaching an attached device replaces its group's table. */
	pt = ioas2;
	assert_int_equal(iommufd_device_attach(ia0, &pt), 0);
	h2 = pt;
	assert_int_not_equal(h2, h1);
	assert_null(iommufd_get_hwpt_paging(itest_ictx(f), h1));
	assert_ptr_equal(ia1->igroup->hwpt, iommufd_get_hwpt_paging(itest_ictx(f), h2));
	assert_int_equal(iommufd_get_hwpt_paging(itest_ictx(f), h2)->obj.users, 3);
	/* The reserved regions moved with it. */
	assert_int_equal(itest_ranges(f, ioas1, r, 4, &num, &align), 0);
	assert_int_equal(num, 1);
	assert_int_equal(itest_ranges(f, ioas2, r, 4, &num, &align), 0);
	assert_int_equal(num, 2);

	/* To the same table: nothing happens. */
	pt = h2;
	assert_int_equal(iommufd_device_attach(ia1, &pt), 0);
	assert_int_equal(iommufd_get_hwpt_paging(itest_ictx(f), h2)->obj.users, 3);

	/* To a HWPT user space made: the automatic one goes. */
	assert_int_equal(hwpt_alloc(f, ida0, ioas1, 0, &manual), 0);
	pt = manual;
	assert_int_equal(iommufd_device_attach(ia0, &pt), 0);
	assert_null(iommufd_get_hwpt_paging(itest_ictx(f), h2));
	assert_int_equal(iommufd_get_hwpt_paging(itest_ictx(f), manual)->obj.users, 3);

	/* A replace that cannot reserve changes nothing. */
	iova = 0xfee00000;
	assert_int_equal(itest_map(f, ioas2, FIXED, buf, PG, &iova), 0);
	pt = ioas2;
	assert_int_equal(iommufd_device_attach(ia0, &pt), -EADDRINUSE);
	assert_ptr_equal(ia0->igroup->hwpt, iommufd_get_hwpt_paging(itest_ictx(f), manual));
	assert_true(TAILQ_EMPTY(&iopt_of(f, ioas2)->reserved));
	assert_int_equal(itest_ictx(f)->nr_objects, 5);

	/* A user-made HWPT stays when its devices leave. */
	iommufd_device_unbind(ia0);
	iommufd_device_unbind(ia1);
	assert_non_null(iommufd_get_hwpt_paging(itest_ictx(f), manual));
	assert_int_equal(itest_destroy(f, manual), 0);
	itest_close(f);
	munmap(buf, PG);
}

/* ---- DMA ---- */

static void test_dma_rw(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), id, pt;
	struct iommufd_device *idev = bind(f, &a0, &id);
	uint8_t *buf = itest_anon(4 * PG), data[32];
	uint64_t iova, len;

	(void)state;
	/* Not attached: a fault. */
	assert_int_equal(iommufd_device_dma_rw(idev, 0x10000, data, 4, false), -EFAULT);
	assert_int_equal(itest_ictx(f)->dma_faults, 1);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x10000, data, 0, false), 0);

	pt = ioas;
	assert_int_equal(iommufd_device_attach(idev, &pt), 0);
	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 2 * PG, &iova), 0);
	iova = 0x12000;
	assert_int_equal(itest_map(f, ioas, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
				   buf + 2 * PG, PG, &iova), 0);
	iova = 0x13000;
	assert_int_equal(itest_map(f, ioas, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
				   buf + 3 * PG, PG, &iova), 0);

	/* Through to the process's memory, and across mappings. */
	assert_int_equal(iommufd_device_dma_rw(idev, 0x10ff0, "device write", 13, true), 0);
	assert_string_equal((char *)buf + 0xff0, "device write");
	memcpy(buf + 2 * PG - 4, "abcdefgh", 8);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x12000 - 4, data, 8, false), 0);
	assert_memory_equal(data, "abcdefgh", 8);
	/* Permissions, holes and the end of the space. */
	assert_int_equal(iommufd_device_dma_rw(idev, 0x12000, data, 4, true), -EFAULT);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x13000, data, 4, false), -EFAULT);
	memset(buf + 2 * PG - 8, 'z', 8);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x12ff8, "12345678abcdefgh", 16, true),
			 -EFAULT);
	assert_int_equal(iommufd_device_dma_rw(idev, 0xfff8, data, 16, false), -EFAULT);
	assert_int_equal(iommufd_device_dma_rw(idev, UINT64_MAX - 2, data, 8, false), -EFAULT);
	/* A faulting DMA moves nothing. */
	assert_int_equal(iommufd_device_dma_rw(idev, 0x11ff8, "12345678abcdefgh", 16, true),
			 -EFAULT);
	assert_memory_equal(buf + 2 * PG - 8, "zzzzzzzz", 8);
	assert_int_equal(itest_ictx(f)->dma_faults, 7);
	assert_int_equal(itest_ictx(f)->dma_ops, 2);

	/* Unmapped or detached: gone. */
	len = 2 * PG;
	assert_int_equal(itest_unmap(f, ioas, 0x10000, &len), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x10000, data, 4, false), -EFAULT);
	iommufd_device_detach(idev);
	assert_int_equal(iommufd_device_dma_rw(idev, 0x12000, data, 4, false), -EFAULT);
	iommufd_device_unbind(idev);
	itest_close(f);
	munmap(buf, 4 * PG);
}

/* ---- IOMMU_HWPT_ALLOC ---- */

static void test_hwpt_alloc(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), id, hwpt, other;
	struct iommufd_device *idev = bind(f, &a0, &id);
	struct iommu_hwpt_alloc c;

	(void)state;
	c = (struct iommu_hwpt_alloc){ .size = sizeof(c), .dev_id = id, .pt_id = ioas,
				       .__reserved = 1 };
	assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);
	c = (struct iommu_hwpt_alloc){ .size = sizeof(c), .dev_id = id, .pt_id = ioas,
				       .data_len = 8 };
	assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &c, sizeof(c)), -EINVAL);
	c = (struct iommu_hwpt_alloc){ .size = sizeof(c), .dev_id = id, .pt_id = ioas,
				       .data_type = IOMMU_HWPT_DATA_VTD_S1 };
	assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &c, sizeof(c)), -EINVAL);
	/* No driver-specific (nested or not) domains. */
	c.data_len = sizeof(struct iommu_hwpt_vtd_s1);
	assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);

	assert_int_equal(hwpt_alloc(f, ioas, ioas, 0, &hwpt), -ENOENT);
	assert_int_equal(hwpt_alloc(f, id, 99, 0, &hwpt), -EINVAL);
	assert_int_equal(hwpt_alloc(f, id, id, 0, &hwpt), -EINVAL);
	assert_int_equal(hwpt_alloc(f, id, ioas, 1 << 4, &hwpt), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, id, ioas, IOMMU_HWPT_ALLOC_PASID, &hwpt), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, id, ioas,
				    IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_NEST_PARENT,
				    &hwpt), -EOPNOTSUPP);
	/* No FAULT object exists to name. */
	assert_int_equal(hwpt_alloc(f, id, ioas, IOMMU_HWPT_FAULT_ID_VALID, &hwpt), -ENOENT);
	/* None of these used up an ID or left a domain. */
	assert_int_equal(itest_ictx(f)->nr_objects, 2);
	assert_int_equal(iopt_of(f, ioas)->ndomains, 0);

	assert_int_equal(hwpt_alloc(f, id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt), 0);
	assert_int_equal(hwpt, 3);
	assert_int_equal(iopt_of(f, ioas)->ndomains, 1);
	/* A nested HWPT on it: the driver has none. */
	assert_int_equal(hwpt_alloc(f, id, hwpt, 0, &other), -EOPNOTSUPP);
	/* A HWPT holds its IOAS; an unused one can go. */
	assert_int_equal(itest_destroy(f, ioas), -EBUSY);
	assert_int_equal(itest_destroy(f, hwpt), 0);
	assert_int_equal(iopt_of(f, ioas)->ndomains, 0);
	assert_int_equal(itest_destroy(f, ioas), 0);
	iommufd_device_unbind(idev);
	itest_close(f);
}

/* ---- dirty tracking ---- */

static long set_dirty(struct vfio_file *f, uint32_t hwpt, uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking c = { .size = sizeof(c), .flags = flags,
						   .hwpt_id = hwpt };

	return itest_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &c, sizeof(c));
}

static long get_dirty(struct vfio_file *f, uint32_t hwpt, uint32_t flags, uint64_t iova,
		      uint64_t len, uint64_t page_size, uint64_t *bitmap)
{
	struct iommu_hwpt_get_dirty_bitmap c = {
		.size = sizeof(c), .hwpt_id = hwpt, .flags = flags, .iova = iova,
		.length = len, .page_size = page_size, .data = (uintptr_t)bitmap,
	};

	return itest_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &c, sizeof(c));
}

static void test_dirty(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), id, hwpt, pt;
	struct iommufd_device *idev = bind(f, &a0, &id);
	uint8_t *buf = itest_anon(16 * PG), data[PG];
	const uint64_t base = 0x100000;
	uint64_t bm[4], iova = base, len;

	(void)state;
	memset(data, 0x5a, sizeof(data));
	/* An automatic HWPT has no dirty tracking. */
	pt = ioas;
	assert_int_equal(iommufd_device_attach(idev, &pt), 0);
	assert_int_equal(set_dirty(f, pt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -EOPNOTSUPP);
	assert_int_equal(get_dirty(f, pt, 0, base, 16 * PG, PG, bm), -EOPNOTSUPP);

	assert_int_equal(hwpt_alloc(f, id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt), 0);
	pt = hwpt;
	assert_int_equal(iommufd_device_attach(idev, &pt), 0);
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 16 * PG, &iova), 0);
	assert_int_equal(set_dirty(f, hwpt, 2), -EOPNOTSUPP);
	assert_int_equal(set_dirty(f, ioas, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT);

	/* Writes while tracking is off are not reported, nor is anything
	 * with it off. */
	assert_int_equal(iommufd_device_dma_rw(idev, base, data, 8, true), 0);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 16 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(set_dirty(f, hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);

	/* Exactly the pages written: 1, 3, 5-6 (one write across both); a
	 * read marks nothing. */
	assert_int_equal(iommufd_device_dma_rw(idev, base + 1 * PG + 100, data, 8, true), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base + 3 * PG, data, PG, true), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base + 6 * PG - 4, data, 8, true), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base + 9 * PG, data, 8, false), 0);
	bm[0] = 1ULL << 40;	/* bits already set stay set */
	assert_int_equal(get_dirty(f, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, base, 16 * PG,
				   PG, bm), 0);
	assert_int_equal(bm[0], (1ULL << 40) | 0x6a);
	/* Relative to iova, and coarser pages cover several. */
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, base + 2 * PG,
				   8 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0x1a);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, base, 16 * PG,
				   2 * PG, bm), 0);
	assert_int_equal(bm[0], 0xf);
	/* ... and finer ones split one. */
	bm[0] = bm[1] = 0;
	assert_int_equal(get_dirty(f, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, base, 4 * PG,
				   PG / 32, bm), 0);
	assert_int_equal(bm[0], 0xffffffff00000000ULL);
	assert_int_equal(bm[1], 0xffffffff00000000ULL);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(get_dirty(f, hwpt, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, base, 2 * PG,
				   PG / 128, bm), 0);
	assert_int_equal(bm[0] | bm[1], 0);
	assert_true(bm[2] == ~0ULL && bm[3] == ~0ULL);
	/* Reading clears what it reported. */
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 4 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0xa);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 16 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0x60);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 16 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0);

	/* Argument rules. */
	assert_int_equal(get_dirty(f, hwpt, 2, base, PG, PG, bm), -EOPNOTSUPP);
	assert_int_equal(get_dirty(f, 99, 0, base, PG, PG, bm), -ENOENT);
	assert_int_equal(get_dirty(f, hwpt, 0, UINT64_MAX - PG, 4 * PG, PG, bm), -EOVERFLOW);
	assert_int_equal(get_dirty(f, hwpt, 0, base + 8, PG, PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, hwpt, 0, base, PG + 8, PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, hwpt, 0, base, PG, 0, bm), -EINVAL);
	assert_int_equal(get_dirty(f, hwpt, 0, base, PG, 2 * PG, bm), -EINVAL);
	{
		struct iommu_hwpt_get_dirty_bitmap c = { .size = sizeof(c), .hwpt_id = hwpt,
							 .__reserved = 1 };

		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &c, sizeof(c)),
				 -EOPNOTSUPP);
	}

	/* Unmapped pages are clean; re-enabling starts clean. */
	assert_int_equal(iommufd_device_dma_rw(idev, base, data, 8, true), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base + 15 * PG, data, 8, true), 0);
	len = 16 * PG;
	assert_int_equal(itest_unmap(f, ioas, base, &len), 0);
	iova = base;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 16 * PG, &iova), 0);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 16 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base, data, 8, true), 0);
	assert_int_equal(set_dirty(f, hwpt, 0), 0);
	assert_int_equal(iommufd_device_dma_rw(idev, base + PG, data, 8, true), 0);
	assert_int_equal(set_dirty(f, hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	bm[0] = 0;
	assert_int_equal(get_dirty(f, hwpt, 0, base, 16 * PG, PG, bm), 0);
	assert_int_equal(bm[0], 0);

	iommufd_device_unbind(idev);
	itest_close(f);
	munmap(buf, 16 * PG);
}

/* ---- GET_HW_INFO ---- */

static void test_hw_info(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t id;
	struct iommufd_device *idev = bind(f, &a0, &id);
	uint8_t data[16];
	struct iommu_hw_info c;

	(void)state;
	c = (struct iommu_hw_info){ .size = sizeof(c), .dev_id = 99 };
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), -ENOENT);
	c = (struct iommu_hw_info){ .size = sizeof(c), .dev_id = id, .flags = 2 };
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), -EOPNOTSUPP);
	c = (struct iommu_hw_info){ .size = sizeof(c), .dev_id = id, .__reserved[1] = 1 };
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), -EOPNOTSUPP);

	/* No driver data: the buffer is zeroed and the length becomes 0. */
	memset(data, 0xff, sizeof(data));
	c = (struct iommu_hw_info){ .size = sizeof(c), .dev_id = id, .data_len = sizeof(data),
				    .data_uptr = (uintptr_t)data, .in_data_type = 7,
				    .out_capabilities = 0x55 };
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), 0);
	assert_int_equal(c.data_len, 0);
	assert_int_equal(c.out_data_type, IOMMU_HW_INFO_TYPE_NONE);
	assert_int_equal(c.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING);
	assert_int_equal(c.out_max_pasid_log2, 0);
	for (unsigned int i = 0; i < sizeof(data); i++)
		assert_int_equal(data[i], 0);
	c = (struct iommu_hw_info){ .size = sizeof(c), .dev_id = id, .data_len = 8,
				    .data_uptr = 8, .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE };
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), -EFAULT);
	c.data_len = 0;
	assert_int_equal(itest_ioctl(f, IOMMU_GET_HW_INFO, &c, sizeof(c)), 0);

	/* vIOMMUs need driver support this device's IOMMU lacks. */
	{
		struct iommu_viommu_alloc v = { .size = sizeof(v), .type = 1, .dev_id = id };

		assert_int_equal(itest_ioctl(f, IOMMU_VIOMMU_ALLOC, &v, sizeof(v)), -EOPNOTSUPP);
	}
	iommufd_device_unbind(idev);
	itest_close(f);
}

/* Unbinding an attached device detaches it first. */
static void test_unbind_attached(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), id, pt = ioas;
	struct iommufd_device *idev = bind(f, &b0, &id);

	(void)state;
	assert_int_equal(iommufd_device_attach(idev, &pt), 0);
	itest_close(f);
	iommufd_device_unbind(idev);
	assert_null(gb->owner);
	assert_int_equal(vfio_file_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hw_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_attached, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
