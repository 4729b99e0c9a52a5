// SPDX-License-Identifier: MIT
/*
 * The IOAS ioctls and the area bookkeeping under them: IOVA ranges and
 * their alignment, fixed and allocated maps, unmapping without splitting,
 * allowed and reserved ranges, copies sharing pages, memfd maps, and the
 * RLIMIT_MEMLOCK accounting of pinned pages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "iommufd_test_util.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
/* A domain owner for tests that drive the io_pagetable directly. */
static const int domain_a, domain_b;

static int setup(void **state)
{
	(void)state;
	itest_setup();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown();
	return 0;
}

static struct io_pagetable *iopt_of(struct vfio_file *f, uint32_t ioas)
{
	struct iommufd_ioas *p = iommufd_get_ioas(itest_ictx(f), ioas);

	assert_non_null(p);
	return &p->iopt;
}

static struct iopt_area *area_at(struct vfio_file *f, uint32_t ioas, uint64_t iova)
{
	struct iova_node *n = iova_tree_find(&iopt_of(f, ioas)->area_itree, iova, iova);

	return n ? container_of(n, struct iopt_area, node) : NULL;
}

static long map_raw(struct vfio_file *f, struct iommu_ioas_map *m)
{
	m->size = sizeof(*m);
	return itest_ioctl(f, IOMMU_IOAS_MAP, m, sizeof(*m));
}

/* ---- IOVA_RANGES ---- */

static void test_iova_ranges(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), num;
	struct iommu_iova_range r[4];
	struct iommu_ioas_iova_ranges c = { .size = sizeof(c), .ioas_id = 77 };
	uint64_t align;

	(void)state;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &c, sizeof(c)), -ENOENT);
	c.ioas_id = ioas;
	c.__reserved = 1;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &c, sizeof(c)), -EOPNOTSUPP);

	/* A fresh IOAS: all of the 64-bit space, byte granular. */
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(num, 1);
	assert_int_equal(align, 1);
	assert_int_equal(r[0].start, 0);
	assert_true(r[0].last == UINT64_MAX);

	/* Too short an array: EMSGSIZE, with the count needed. */
	assert_int_equal(itest_ranges(f, ioas, r, 0, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 1);

	/* Reserved ranges split it. */
	assert_int_equal(iopt_reserve_iova(iopt_of(f, ioas), 0x1000, 0x1fff, &domain_a), 0);
	assert_int_equal(iopt_reserve_iova(iopt_of(f, ioas), 0x1800, 0x2fff, &domain_b), 0);
	assert_int_equal(iopt_reserve_iova(iopt_of(f, ioas), 0x8000, 0x8fff, &domain_b), 0);
	memset(r, 0, sizeof(r));
	assert_int_equal(itest_ranges(f, ioas, r, 2, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 3);
	/* What fitted was filled. */
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfff);
	assert_int_equal(r[1].start, 0x3000);
	assert_int_equal(r[1].last, 0x7fff);
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(r[2].start, 0x9000);
	assert_true(r[2].last == UINT64_MAX);

	/* The array cannot be written. */
	c.__reserved = 0;
	c.num_iovas = 3;
	c.allowed_iovas = 16;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &c, sizeof(c)), -EFAULT);

	iopt_remove_reserved_iova(iopt_of(f, ioas), &domain_b);
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(num, 2);
	iopt_remove_reserved_iova(iopt_of(f, ioas), &domain_a);
	itest_close(f);
}

/* ---- IOAS_MAP ---- */

static void test_map_errors(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);
	uint8_t *buf = itest_anon(16 * PG);
	uint64_t iova;

	(void)state;
	itest_seg(buf, 16 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	/* id 0: the IOAS under test */
#define M(id, fl, va, len, at, rsv, expect)						\
	do {										\
		struct iommu_ioas_map m = { .flags = (fl), .ioas_id = (id) ? (id) : ioas,	\
					    .__reserved = (rsv), .user_va = (va),	\
					    .length = (len), .iova = (at) };		\
		assert_int_equal(map_raw(f, &m), (expect));				\
	} while (0)
	M(0, FIXED | 0x8, (uintptr_t)buf, PG, 0x100000, 0, -EOPNOTSUPP);
	M(0, FIXED, (uintptr_t)buf, PG, 0x100000, 1, -EOPNOTSUPP);
	M(0, FIXED, (uintptr_t)buf, PG, UINT64_MAX, 0, -EOVERFLOW);
	M(0, FIXED, (uintptr_t)buf, UINT64_MAX, 0x100000, 0, -EOVERFLOW);
	M(0, IOMMU_IOAS_MAP_FIXED_IOVA, (uintptr_t)buf, PG, 0x100000, 0, -EINVAL);
	M(99, FIXED, (uintptr_t)buf, PG, 0x100000, 0, -ENOENT);
	M(0, FIXED, UINT64_MAX - 10, 100, 0x100000, 0, -EOVERFLOW);
	M(0, FIXED, (uintptr_t)buf, 0, 0x100000, 0, -EINVAL);
	M(0, FIXED, (uintptr_t)buf, 100, UINT64_MAX - 10, 0, -EOVERFLOW);
	/* Memory that is not there, or not writable for a writable map. */
	M(0, FIXED, (uintptr_t)buf + 16 * PG, PG, 0x100000, 0, -EFAULT);
	itest_seg_reset();
	itest_seg(buf, 16 * PG, UVFIO_SEG_PROT_READ);
	M(0, FIXED, (uintptr_t)buf, PG, 0x100000, 0, -EFAULT);
	M(0, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE, (uintptr_t)buf, PG, 0x100000, 0,
	  0);
	/* Taken. */
	M(0, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE, (uintptr_t)buf, 2 * PG,
	  0x100000 - PG, 0, -EEXIST);
#undef M

	/* No domain: byte granular IOVAs, lengths and memory. */
	iova = 0x7;
	assert_int_equal(itest_map(f, ioas, FIXED, buf + 3, 5, &iova), 0);
	assert_non_null(area_at(f, ioas, 0xb));
	assert_null(area_at(f, ioas, 0xc));
	assert_int_equal(itest_ictx(f)->nr_areas, 2);
	itest_close(f);
	munmap(buf, 16 * PG);
}

static void test_map_alloc_iova(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);
	uint8_t *buf = itest_anon(4 << 20), *p64k;
	uint64_t iova = 0;

	(void)state;
	/* The lowest fitting IOVA, never 0. */
	assert_int_equal(itest_map(f, ioas, RW, buf, PG, &iova), 0);
	assert_int_equal(iova, PG);
	iova = 0;
	assert_int_equal(itest_map(f, ioas, RW, buf, PG, &iova), 0);
	assert_int_equal(iova, 2 * PG);

	/* Aligned like the memory (64 KiB here) when the length allows it. */
	p64k = (uint8_t *)(((uintptr_t)buf + 0x20000) & ~0x1ffffUL) + 0x10000;
	iova = 0;
	assert_int_equal(itest_map(f, ioas, RW, p64k, 0x10000, &iova), 0);
	assert_int_equal(iova, 0x10000);
	/* ... and like the length when the memory is better aligned. */
	iova = 0;
	assert_int_equal(itest_map(f, ioas, RW, p64k, 0x8000, &iova), 0);
	assert_int_equal(iova, 0x8000);

	/* An unaligned address keeps its page offset. */
	iova = 0;
	assert_int_equal(itest_map(f, ioas, RW, buf + 0x123, 0x100, &iova), 0);
	assert_int_equal(iova, 0x3123);

	/* Never past a reserved range; within allowed ranges when given. */
	assert_int_equal(iopt_reserve_iova(iopt_of(f, ioas), 0x28000, 0x2ffff, &domain_a), 0);
	iova = 0;
	assert_int_equal(itest_map(f, ioas, RW, p64k, 0x10000, &iova), 0);
	assert_int_equal(iova, 0x30000);
	{
		struct iommu_iova_range r = { .start = 0x40000000, .last = 0x4000ffff };
		struct iommu_ioas_allow_iovas a = { .size = sizeof(a), .ioas_id = ioas,
						    .num_iovas = 1,
						    .allowed_iovas = (uintptr_t)&r };

		assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &a, sizeof(a)), 0);
		iova = 0;
		assert_int_equal(itest_map(f, ioas, RW, p64k, 0x10000, &iova), 0);
		assert_int_equal(iova, 0x40000000);
		/* Full. */
		assert_int_equal(itest_map(f, ioas, RW, p64k, 0x10000, &iova), -ENOSPC);
		/* A fixed IOVA may lie outside the allowed ranges. */
		iova = 0x50000000;
		assert_int_equal(itest_map(f, ioas, FIXED, p64k, 0x10000, &iova), 0);
	}
	iopt_remove_reserved_iova(iopt_of(f, ioas), &domain_a);
	itest_close(f);
	munmap(buf, 4 << 20);
}

/* ---- IOAS_UNMAP ---- */

static void test_unmap(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);
	uint8_t *buf = itest_anon(8 * PG);
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = 99 };
	uint64_t iova, len;

	(void)state;
	/* The IOAS is looked up before anything else. */
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_UNMAP, &u, sizeof(u)), -ENOENT);

	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 2 * PG, &iova), 0);
	iova = 0x12000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);

	len = 0;
	assert_int_equal(itest_unmap(f, ioas, 0x10000, &len), -EINVAL);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0x10000, &len), -EOVERFLOW);
	len = 0x10;
	assert_int_equal(itest_unmap(f, ioas, UINT64_MAX, &len), -EOVERFLOW);
	len = 0x20;
	assert_int_equal(itest_unmap(f, ioas, UINT64_MAX - 0x10, &len), -EOVERFLOW);
	/* Nothing there. */
	len = PG;
	assert_int_equal(itest_unmap(f, ioas, 0x20000, &len), -ENOENT);
	/* Cutting a mapping is refused. */
	len = PG;
	assert_int_equal(itest_unmap(f, ioas, 0x10000, &len), -ENOENT);
	len = PG;
	assert_int_equal(itest_unmap(f, ioas, 0x11000, &len), -ENOENT);
	/* Whole mappings go, whatever lies around them. */
	len = 0x10000;
	assert_int_equal(itest_unmap(f, ioas, 0x8000, &len), 0);
	assert_int_equal(len, 3 * PG);
	assert_int_equal(itest_ictx(f)->nr_areas, 0);

	/* An unmap stopping at a cut mapping keeps what it did. */
	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 2 * PG, &iova), 0);
	iova = 0x12000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 2 * PG, &iova), 0);
	len = 3 * PG;
	assert_int_equal(itest_unmap(f, ioas, 0x10000, &len), -ENOENT);
	assert_null(area_at(f, ioas, 0x10000));
	assert_non_null(area_at(f, ioas, 0x12000));

	/* 0 and U64_MAX: everything, also nothing. */
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &len), 0);
	assert_int_equal(len, 2 * PG);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &len), 0);
	assert_int_equal(len, 0);
	itest_close(f);
	munmap(buf, 8 * PG);
}

/* ---- ALLOW_IOVAS and reserved ranges ---- */

static long allow(struct vfio_file *f, uint32_t ioas, struct iommu_iova_range *r, uint32_t n)
{
	struct iommu_ioas_allow_iovas a = { .size = sizeof(a), .ioas_id = ioas, .num_iovas = n,
					    .allowed_iovas = (uintptr_t)r };

	return itest_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &a, sizeof(a));
}

static void test_allow_reserved(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);
	struct io_pagetable *iopt = iopt_of(f, ioas);
	struct iommu_iova_range r[3] = {
		{ .start = 0x100000, .last = 0x1fffff },
		{ .start = 0x400000, .last = 0x4fffff },
		{ .start = 0x180000, .last = 0x180fff },
	};
	uint8_t *buf = itest_anon(PG);
	uint64_t iova;

	(void)state;
	assert_int_equal(allow(f, 99, r, 2), -ENOENT);
	assert_int_equal(allow(f, ioas, r, 3), -EINVAL);	/* overlapping */
	assert_int_equal(allow(f, ioas, NULL, 1), -EFAULT);
	r[2] = (struct iommu_iova_range){ .start = 0x9000, .last = 0x9000 };
	assert_int_equal(allow(f, ioas, r, 3), -EINVAL);	/* start >= last */
	assert_int_equal(iopt->allowed_itree.count, 0);
	assert_int_equal(allow(f, ioas, r, 2), 0);
	assert_int_equal(iopt->allowed_itree.count, 2);

	/* A reservation cannot take allowed IOVA, nor mapped IOVA. */
	assert_int_equal(iopt_reserve_iova(iopt, 0x1ff000, 0x200fff, &domain_a), -EADDRINUSE);
	iova = 0x800000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);
	assert_int_equal(iopt_reserve_iova(iopt, 0x800000, 0x800000, &domain_a), -EADDRINUSE);
	assert_int_equal(iopt_reserve_iova(iopt, 0x300000, 0x3fffff, &domain_a), 0);
	/* ... and allowing reserved IOVA fails, keeping the old list. */
	r[0] = (struct iommu_iova_range){ .start = 0x3ff000, .last = 0x400fff };
	assert_int_equal(allow(f, ioas, r, 1), -EADDRINUSE);
	assert_int_equal(iopt->allowed_itree.count, 2);
	/* A fixed map onto reserved IOVA. */
	iova = 0x300000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), -EINVAL);
	/* An empty list allows everything again. */
	assert_int_equal(allow(f, ioas, r, 0), 0);
	assert_int_equal(iopt->allowed_itree.count, 0);
	iopt_remove_reserved_iova(iopt, &domain_a);
	itest_close(f);
	munmap(buf, PG);
}

/* ---- IOAS_COPY ---- */

static long copy(struct vfio_file *f, uint32_t dst, uint32_t src, uint32_t flags,
		 uint64_t src_iova, uint64_t len, uint64_t *dst_iova)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c), .flags = flags, .dst_ioas_id = dst, .src_ioas_id = src,
		.length = len, .dst_iova = *dst_iova, .src_iova = src_iova,
	};
	long ret = itest_ioctl(f, IOMMU_IOAS_COPY, &c, sizeof(c));

	*dst_iova = c.dst_iova;
	return ret;
}

static void test_copy(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t a = itest_ioas_alloc(f), b = itest_ioas_alloc(f);
	uint8_t *buf = itest_anon(8 * PG), data[16];
	uint64_t iova, len;

	(void)state;
	iova = 0x10000;
	assert_int_equal(itest_map(f, a, FIXED, buf, 4 * PG, &iova), 0);
	iova = 0x14000;
	assert_int_equal(itest_map(f, a, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
				   buf + 4 * PG, 2 * PG, &iova), 0);

	iova = 0;
	assert_int_equal(copy(f, b, a, FIXED | 0x10, 0x10000, PG, &iova), -EOPNOTSUPP);
	assert_int_equal(copy(f, b, a, FIXED, UINT64_MAX, PG, &iova), -EOVERFLOW);
	assert_int_equal(copy(f, b, a, IOMMU_IOAS_MAP_FIXED_IOVA, 0x10000, PG, &iova), -EINVAL);
	assert_int_equal(copy(f, b, 99, FIXED, 0x10000, PG, &iova), -ENOENT);
	assert_int_equal(copy(f, b, a, FIXED, 0x10000, 0, &iova), -EINVAL);
	/* The source must be mapped all along. */
	assert_int_equal(copy(f, b, a, FIXED, 0xf000, 2 * PG, &iova), -ENOENT);
	assert_int_equal(copy(f, b, a, FIXED, 0x15000, 2 * PG, &iova), -ENOENT);
	assert_int_equal(copy(f, 99, a, FIXED, 0x10000, PG, &iova), -ENOENT);
	/* Read-only pages cannot become writable. */
	iova = 0x40000;
	assert_int_equal(copy(f, b, a, FIXED, 0x13000, 2 * PG, &iova), -EPERM);

	/* Across two source mappings: two areas sharing their pages. */
	iova = 0x40000;
	assert_int_equal(copy(f, b, a, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
			      0x11000, 4 * PG, &iova), 0);
	assert_ptr_equal(area_at(f, b, 0x40000)->pages, area_at(f, a, 0x11000)->pages);
	assert_ptr_equal(area_at(f, b, 0x43000)->pages, area_at(f, a, 0x14000)->pages);
	assert_int_equal(area_at(f, b, 0x40000)->start_byte, PG);
	assert_int_equal(itest_ictx(f)->nr_areas, 4);

	/* The copy outlives the source mapping. */
	memcpy(buf + PG, "shared pages", 13);
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, a, 0, &len), 0);
	assert_int_equal(iopt_dma_rw(iopt_of(f, b), 0x40000, data, 13, false), 0);
	assert_string_equal((char *)data, "shared pages");
	/* ... with the copy's permissions. */
	assert_int_equal(iopt_dma_rw(iopt_of(f, b), 0x40000, data, 1, true), -EFAULT);

	/* Allocated IOVA for a copy. */
	iova = 0;
	assert_int_equal(copy(f, a, b, RW & ~IOMMU_IOAS_MAP_WRITEABLE, 0x40000, PG, &iova), 0);
	assert_int_equal(iova, 0x1000);
	itest_close(f);
	munmap(buf, 8 * PG);
}

/* ---- IOAS_MAP_FILE ---- */

static long map_file(struct vfio_file *f, uint32_t ioas, uint32_t flags, int32_t fd,
		     uint64_t start, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map_file m = {
		.size = sizeof(m), .flags = flags, .ioas_id = ioas, .fd = fd,
		.start = start, .length = len, .iova = *iova,
	};
	long ret = itest_ioctl(f, IOMMU_IOAS_MAP_FILE, &m, sizeof(m));

	*iova = m.iova;
	return ret;
}

static void test_map_file(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);
	int mfd;
	uint8_t *buf = itest_memfd(4 * PG, &mfd);
	uint64_t iova = 0x100000;

	(void)state;
	itest_fd(7, mfd);
	itest_fd(8, -1);
	assert_int_equal(map_file(f, ioas, FIXED | 0x20, 7, 0, PG, &iova), -EOPNOTSUPP);
	assert_int_equal(map_file(f, ioas, IOMMU_IOAS_MAP_FIXED_IOVA, 7, 0, PG, &iova), -EINVAL);
	assert_int_equal(map_file(f, 99, FIXED, 7, 0, PG, &iova), -ENOENT);
	assert_int_equal(map_file(f, ioas, FIXED, 8, 0, PG, &iova), -EBADF);
	assert_int_equal(map_file(f, ioas, FIXED, 9, 0, PG, &iova), -EBADF);
	assert_int_equal(map_file(f, ioas, FIXED, 7, UINT64_MAX - 10, PG, &iova), -EOVERFLOW);
	assert_int_equal(map_file(f, ioas, FIXED, 7, 0, 0, &iova), -EINVAL);
	/* Beyond the end of the file. */
	assert_int_equal(map_file(f, ioas, FIXED, 7, 3 * PG, 2 * PG, &iova), -EFAULT);

	assert_int_equal(map_file(f, ioas, FIXED, 7, PG, 2 * PG, &iova), 0);
	assert_int_equal(iopt_dma_rw(iopt_of(f, ioas), 0x100010, "file", 5, true), 0);
	assert_string_equal((char *)buf + PG + 0x10, "file");
	/* Allocated IOVAs follow the file offset's alignment. */
	iova = 0;
	assert_int_equal(map_file(f, ioas, RW, 7, PG, PG, &iova), 0);
	assert_int_equal(iova, PG);
	itest_close(f);
	munmap(buf, 4 * PG);
	close(mfd);
}

/* ---- accounting ---- */

static void set_memlock(uint64_t pages)
{
	struct rlimit rl = { .rlim_cur = pages * PG, .rlim_max = RLIM_INFINITY };

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		rl.rlim_cur = pages * PG;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
			rl.rlim_cur = rl.rlim_max;
	}
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
}

static void test_accounting(void **state)
{
	struct vfio_file *f = itest_open(), *g;
	struct rlimit saved;
	bool cap = itest_ctx.mm->cap_ipc_lock;
	uint32_t a, b, c;
	uint8_t *buf = itest_anon(64 * PG);
	uid_t uid = itest_ctx.uid;
	uint64_t iova, len;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &saved), 0);
	if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 64 * PG) {
		itest_close(f);
		munmap(buf, 64 * PG);
		skip();
	}
	itest_ctx.mm->cap_ipc_lock = false;
	set_memlock(16);
	a = itest_ioas_alloc(f);
	b = itest_ioas_alloc(f);

	/* Without a domain nothing is pinned, so nothing is charged. */
	iova = 0x100000;
	assert_int_equal(itest_map(f, a, FIXED, buf, 32 * PG, &iova), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 0);
	/* The first domain pins it all: over the limit. */
	assert_int_equal(iopt_table_add_domain(iopt_of(f, a), &domain_a), -ENOMEM);
	assert_int_equal(iopt_of(f, a)->ndomains, 0);
	assert_int_equal(iopt_of(f, a)->reserved.tqh_first == NULL, 1);
	set_memlock(40);
	assert_int_equal(iopt_table_add_domain(iopt_of(f, a), &domain_a), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 32);
	/* A map into a table with a domain is charged at once. */
	iova = 0x200000;
	assert_int_equal(itest_map(f, a, FIXED, buf + 32 * PG, 16 * PG, &iova), -ENOMEM);
	assert_null(area_at(f, a, 0x200000));
	iova = 0x200000;
	assert_int_equal(itest_map(f, a, FIXED, buf + 32 * PG, 8 * PG, &iova), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 40);
	/* A copy shares pages: no second charge, even into a domain. */
	assert_int_equal(iopt_table_add_domain(iopt_of(f, b), &domain_b), 0);
	iova = 0x100000;
	assert_int_equal(copy(f, b, a, FIXED, 0x100000, 32 * PG, &iova), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 40);
	/* The counter is the user's: another context of the same user adds. */
	g = itest_open();
	c = itest_ioas_alloc(g);
	assert_int_equal(iopt_table_add_domain(iopt_of(g, c), &domain_a), 0);
	iova = 0x100000;
	assert_int_equal(itest_map(g, c, FIXED, buf, PG, &iova), -ENOMEM);
	/* Pages stay charged while any table with a domain maps them. */
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, a, 0, &len), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 32);
	iopt_table_remove_domain(iopt_of(f, b), &domain_b);
	assert_int_equal(iopt_user_locked_pages(uid), 0);
	assert_int_equal(itest_map(g, c, FIXED, buf, PG, &iova), 0);
	assert_int_equal(iopt_user_locked_pages(uid), 1);
	iopt_table_remove_domain(iopt_of(g, c), &domain_a);
	iopt_table_remove_domain(iopt_of(f, a), &domain_a);
	assert_int_equal(iopt_user_locked_pages(uid), 0);

	/* Per-process accounting charges the process's locked_vm. */
	itest_ictx(f)->account_mode = IOPT_PAGES_ACCOUNT_MM;
	assert_int_equal(iopt_table_add_domain(iopt_of(f, a), &domain_a), 0);
	iova = 0x300000;
	assert_int_equal(itest_map(f, a, FIXED, buf, 4 * PG, &iova), 0);
	assert_int_equal(itest_ctx.mm->locked_vm, 4);
	assert_int_equal(iopt_user_locked_pages(uid), 0);
	/* CAP_IPC_LOCK: not charged at all. */
	itest_ctx.mm->cap_ipc_lock = true;
	iova = 0x400000;
	assert_int_equal(itest_map(f, a, FIXED, buf, 60 * PG, &iova), 0);
	assert_int_equal(itest_ctx.mm->locked_vm, 4);
	itest_ctx.mm->cap_ipc_lock = false;
	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, a, 0, &len), 0);
	assert_int_equal(itest_ctx.mm->locked_vm, 0);
	iopt_table_remove_domain(iopt_of(f, a), &domain_a);

	itest_ctx.mm->cap_ipc_lock = cap;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &saved), 0);
	itest_close(g);
	itest_close(f);
	munmap(buf, 64 * PG);
}

/* IOAS_CHANGE_PROCESS moves the charges of memfd maps to the caller. */
static void test_change_process(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommu_ioas_change_process c = { .size = sizeof(c) };
	struct vfio_uctx saved = itest_ctx;
	bool cap = itest_ctx.mm->cap_ipc_lock;
	uint32_t a = itest_ioas_alloc(f), b = itest_ioas_alloc(f);
	uint8_t *anon = itest_anon(PG);
	int mfd;
	uint8_t *buf = itest_memfd(4 * PG, &mfd);
	uint64_t iova = 0x10000, len;
	uid_t other = itest_ctx.uid + 4242;

	(void)state;
	itest_ctx.mm->cap_ipc_lock = false;
	assert_int_equal(iopt_table_add_domain(iopt_of(f, a), &domain_a), 0);
	itest_fd(3, mfd);
	assert_int_equal(map_file(f, a, FIXED, 3, 0, 4 * PG, &iova), 0);
	iova = 0x10000;
	assert_int_equal(copy(f, b, a, FIXED, 0x10000, 4 * PG, &iova), 0);
	assert_int_equal(iopt_user_locked_pages(saved.uid), 4);

	/* Another user takes over: the charge moves, counted once. */
	itest_ctx.uid = other;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_CHANGE_PROCESS, &c, sizeof(c)), 0);
	assert_int_equal(iopt_user_locked_pages(saved.uid), 0);
	assert_int_equal(iopt_user_locked_pages(other), 4);
	assert_int_equal(area_at(f, b, 0x10000)->pages->source_uid, other);

	/* Memory mapped from a VA cannot move. */
	iova = 0x80000;
	assert_int_equal(itest_map(f, b, FIXED, anon, PG, &iova), 0);
	itest_ctx.uid = saved.uid;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_CHANGE_PROCESS, &c, sizeof(c)), -EINVAL);
	assert_int_equal(iopt_user_locked_pages(other), 4);

	len = UINT64_MAX;
	assert_int_equal(itest_unmap(f, a, 0, &len), 0);
	iopt_table_remove_domain(iopt_of(f, a), &domain_a);
	assert_int_equal(iopt_user_locked_pages(other), 0);
	itest_ctx = saved;
	itest_ctx.mm->cap_ipc_lock = cap;
	itest_close(f);
	munmap(buf, 4 * PG);
	munmap(anon, PG);
	close(mfd);
}

/* ---- domains and alignment ---- */

static void test_domain_alignment(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f), num;
	struct io_pagetable *iopt = iopt_of(f, ioas);
	struct iommu_iova_range r[4];
	uint8_t *buf = itest_anon(4 * PG);
	uint64_t iova = 0x10000, align, v;

	(void)state;
	/* Byte-granular areas refuse a domain's 4 KiB pages ... */
	assert_int_equal(itest_map(f, ioas, FIXED, buf + 1, PG, &iova), 0);
	assert_int_equal(iopt_table_add_domain(iopt, &domain_a), -EADDRINUSE);
	/* ... and the huge page option's. */
	{
		struct iommu_option o = { .size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
					  .op = IOMMU_OPTION_OP_SET, .object_id = ioas };

		assert_int_equal(itest_ioctl(f, IOMMU_OPTION, &o, sizeof(o)), -EADDRINUSE);
		assert_false(iopt->disable_large_pages);
	}
	v = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &v), 0);

	/* Mapped beyond the 48-bit aperture. */
	iova = 1ULL << 48;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);
	assert_int_equal(iopt_table_add_domain(iopt, &domain_a), -EADDRINUSE);
	v = UINT64_MAX;
	assert_int_equal(itest_unmap(f, ioas, 0, &v), 0);

	assert_int_equal(iopt_table_add_domain(iopt, &domain_a), 0);
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(align, PG);
	assert_int_equal(num, 1);
	assert_true(r[0].last == (1ULL << 48) - 1);
	/* Now IOVAs, lengths and memory must be page aligned. */
	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, 100, &iova), -EINVAL);
	iova = 0x10100;
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), -EINVAL);
	iova = 0x10000;
	assert_int_equal(itest_map(f, ioas, FIXED, buf + 8, PG, &iova), -EINVAL);
	assert_int_equal(itest_map(f, ioas, FIXED, buf, PG, &iova), 0);
	/* Huge pages off with a domain holding mappings: refused. */
	assert_int_equal(iopt_disable_large_pages(iopt), -EINVAL);
	iopt_table_remove_domain(iopt, &domain_a);
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(align, 1);
	assert_int_equal(iopt_disable_large_pages(iopt), 0);
	assert_int_equal(itest_ranges(f, ioas, r, 4, &num, &align), 0);
	assert_int_equal(align, PG);
	itest_close(f);
	munmap(buf, 4 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_iova_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_alloc_iova, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_alignment, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
