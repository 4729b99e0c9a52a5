// SPDX-License-Identifier: MIT
/*
 * The DMA log's bitmaps: writes marked at the logging page size, reported
 * into a bitmap in "user" memory (this process's, through its own
 * /proc/self/mem, as the daemon reaches a client) at smaller and larger
 * page sizes, only inside the logged ranges and the reported range, only
 * setting bits, and cleared once reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/dirty_log.h"
#include "core/uaccess.h"
#include "core/vfio.h"

#define K4	4096ull

static struct vfio_mm mm;
static struct vfio_uctx ctx = { .mm = &mm };
static struct vfio_device vdev;

static int setup(void **state)
{
	(void)state;
	memset(&mm, 0, sizeof(mm));
	mm.pid = getpid();
	mm.memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	mm.pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	assert_true(mm.memfd >= 0 && mm.pidfd >= 0);
	memset(&vdev, 0, sizeof(vdev));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vfio_dirty_log_free(vdev.dirty_log);
	vdev.dirty_log = NULL;
	close(mm.memfd);
	close(mm.pidfd);
	return 0;
}

/* A feature's data as the daemon sees it: an argument and its write-back. */
struct arg {
	struct vfio_uarg ua;
	uint8_t wb[64];
};

static void arg_init(struct arg *a, const void *data, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->ua.ctx = &ctx;
	a->ua.msg.arg = data;
	a->ua.msg.arg_len = (uint32_t)len;
	a->ua.wb = a->wb;
}

static long start(const struct vfio_device_feature_dma_logging_range *r, uint32_t n,
		  uint64_t page)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = page, .num_ranges = n, .ranges = (uintptr_t)r,
	};
	struct arg a;

	arg_init(&a, &c, sizeof(c));
	return vfio_dirty_log_start(&vdev, VFIO_DEVICE_FEATURE_SET, &a.ua, 0, sizeof(c));
}

static long report(uint64_t iova, uint64_t length, uint64_t page, uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = length, .page_size = page, .bitmap = (uintptr_t)bitmap,
	};
	struct arg a;

	arg_init(&a, &r, sizeof(r));
	return vfio_dirty_log_report(&vdev, VFIO_DEVICE_FEATURE_GET, &a.ua, 0, sizeof(r));
}

static void test_bits(void **state)
{
	const struct vfio_device_feature_dma_logging_range ranges[] = {
		{ .iova = 0x100000, .length = 0x40000 },	/* 64 pages */
		{ .iova = 0x200000, .length = 0x10000 },	/* 16 pages */
	};
	uint64_t bm[4];

	(void)state;
	assert_int_equal(start(ranges, 2, K4), 0);
	vfio_dirty_log_mark(vdev.dirty_log, 0x100000, 1);		/* page 0 */
	vfio_dirty_log_mark(vdev.dirty_log, 0x100fff + 0x3e000, 2);	/* pages 62, 63 */
	vfio_dirty_log_mark(vdev.dirty_log, 0x13ffff, 0x10000);	/* 63 and past A */
	vfio_dirty_log_mark(vdev.dirty_log, 0x1ff000, 0x2000);	/* B's page 0 */
	vfio_dirty_log_mark(vdev.dirty_log, 0x300000, 0x1000);	/* no range */

	/* at 4 KiB over A: bits 0, 62, 63; the bitmap's own bits stay */
	memset(bm, 0, sizeof(bm));
	bm[1] = 0xf0;
	assert_int_equal(report(0x100000, 0x40000, K4, bm), 0);
	assert_true(bm[0] == (1ull | 1ull << 62 | 1ull << 63));
	assert_true(bm[1] == 0xf0);
	/* reported: gone */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0x100000, 0x40000, K4, bm), 0);
	assert_true(bm[0] == 0);

	/* B at 64 KiB: one bit for the whole range; then at 4 KiB, the page's
	 * own bit */
	vfio_dirty_log_mark(vdev.dirty_log, 0x203000, 8);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0x200000, 0x10000, 16 * K4, bm), 0);
	assert_true(bm[0] == 1);
	vfio_dirty_log_mark(vdev.dirty_log, 0x203000, 8);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0x200000, 0x10000, K4, bm), 0);
	assert_true(bm[0] == 1ull << 3);

	/* a report of part of a range leaves the rest logged */
	vfio_dirty_log_mark(vdev.dirty_log, 0x101000, 0x2000);	/* pages 1, 2 */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0x102000, 0x1000, K4, bm), 0);
	assert_true(bm[0] == 1);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0x100000, 0x40000, K4, bm), 0);
	assert_true(bm[0] == 1ull << 1);

	/* a bitmap the "user" cannot write: EFAULT */
	vfio_dirty_log_mark(vdev.dirty_log, 0x100000, 8);
	assert_int_equal(report(0x100000, 0x40000, K4, (uint64_t *)8), -EFAULT);
}

static void test_many_pages(void **state)
{
	const struct vfio_device_feature_dma_logging_range r = { .iova = 0, .length = 1ull << 32 };
	static uint64_t bm[(1ull << 32) / K4 / 64];
	uint64_t set = 0;

	(void)state;
	assert_int_equal(start(&r, 1, K4), 0);
	/* every 3rd page of 4 GiB: the log grows with what was written */
	for (uint64_t p = 0; p < (1ull << 32) / K4; p += 3)
		vfio_dirty_log_mark(vdev.dirty_log, p * K4, 1);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(report(0, 1ull << 32, K4, bm), 0);
	for (size_t w = 0; w < sizeof(bm) / sizeof(bm[0]); w++)
		set += (uint64_t)__builtin_popcountll(bm[w]);
	assert_int_equal(set, ((1ull << 32) / K4 + 2) / 3);
	for (uint64_t p = 0; p < 64 * 3; p++)
		assert_int_equal(!!(bm[p / 64] & (1ull << (p % 64))), p % 3 == 0);
}

/* The page size comes back as one the log keeps: 4 KiB to 1 GiB. */
static void test_page_size(void **state)
{
	const struct vfio_device_feature_dma_logging_range r = { .iova = 0, .length = 1ull << 40 };
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = 1ull << 40, .num_ranges = 1, .ranges = (uintptr_t)&r,
	};
	struct arg a;

	(void)state;
	arg_init(&a, &c, sizeof(c));
	assert_int_equal(vfio_dirty_log_start(&vdev, VFIO_DEVICE_FEATURE_SET, &a.ua, 0,
					      sizeof(c)), 0);
	memcpy(&c, a.wb, sizeof(c));
	assert_true(c.page_size == 1ull << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_size, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
