// SPDX-License-Identifier: MIT
/*
 * Device DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_START/STOP/REPORT):
 * edu's DMA writes into logged ranges are reported bit for bit at the
 * logging page size and at a larger one, reads and writes outside the ranges
 * are not, a report only sets bits and clears what it reported, and every
 * misuse gets the kernel's errno.
 */
#include <linux/vfio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "vfio_util.h"

#define IOVA		0x100000ull
#define MAP_SIZE	(128u << 10)
#define PAGE		4096ull

static int device;

/* One feature request: the header, then the feature's data. */
static int start(struct vfio_device_feature_dma_logging_range *r, uint32_t n, uint64_t *page)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *page, .num_ranges = n, .ranges = (uintptr_t)r,
	};
	int ret = device_feature(device,
			     VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			  &c, sizeof(c));

	*page = c.page_size;
	return ret;
}

static int report(uint64_t iova, uint64_t length, uint64_t page, uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = length, .page_size = page, .bitmap = (uintptr_t)bitmap,
	};

	return device_feature(device,
			     VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		       &r, sizeof(r));
}

static int stop(void)
{
	return device_feature(device, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

/* edu writes len bytes of its buffer to iova (the device writes memory). */
static void dev_write(uint64_t iova, uint64_t len)
{
	edu_dma(device, EDU_BUF, iova, len, 1);
}

static void test_logging(void)
{
	struct vfio_device_feature_dma_logging_range ranges[] = {
		{ .iova = IOVA + 0x10000, .length = 0x4000 },	/* B */
		{ .iova = IOVA, .length = 0x8000 },					/* A */
	};
	uint64_t page = PAGE, bitmap[2];

	CHECK_OK(start(ranges, 2, &page));
	CHECK(page == PAGE, "page size kept: %llu", (unsigned long long)page);
	CHECK_ERR(start(ranges, 2, &page), EINVAL);	/* one start at a time */

	dev_write(IOVA + 0x1000, 4096);		/* A, page 1 */
	dev_write(IOVA + 0x8000, 4096);		/* between A and B: not logged */
	dev_write(IOVA + 0x10000, 64);		/* B, page 0x10 */
	dev_write(IOVA + 0x12f80, 256);		/* B, pages 0x12 and 0x13 */
	edu_dma(device, IOVA + 0x3000, EDU_BUF, 4096, 0);	/* a read: not logged */

	/* set bits only: the sentinel stays */
	bitmap[0] = 1ull << 40;
	bitmap[1] = 0;
	CHECK_OK(report(IOVA, 0x14000, PAGE, bitmap));
	CHECK(bitmap[0] == ((1ull << 40) | (1ull << 1) | (1ull << 0x10) | (1ull << 0x12) |
			    (1ull << 0x13)) && bitmap[1] == 0,
	      "report at 4 KiB: %#llx %#llx", (unsigned long long)bitmap[0],
	      (unsigned long long)bitmap[1]);
	/* reported, so cleared */
	bitmap[0] = 0;
	CHECK_OK(report(IOVA, 0x14000, PAGE, bitmap));
	CHECK(bitmap[0] == 0, "cleared by the report: %#llx", (unsigned long long)bitmap[0]);

	/* at 8 KiB, a bit covers two logged pages; a report of part of the
	 * log leaves the rest */
	dev_write(IOVA + 0x1000, 8);
	dev_write(IOVA + 0x11000, 8);
	bitmap[0] = 0;
	CHECK_OK(report(IOVA, 0x8000, 2 * PAGE, bitmap));
	CHECK(bitmap[0] == 1, "report at 8 KiB: %#llx", (unsigned long long)bitmap[0]);
	bitmap[0] = 0;
	CHECK_OK(report(IOVA + 0x10000, 0x4000, 2 * PAGE, bitmap));
	CHECK(bitmap[0] == 1, "the other range's page, at 8 KiB: %#llx",
	      (unsigned long long)bitmap[0]);

	CHECK_OK(stop());
	CHECK_ERR(report(IOVA, 0x14000, PAGE, bitmap), EINVAL);	/* not logging */
	CHECK_OK(stop());
}

static void test_misuse(void)
{
	struct vfio_device_feature_dma_logging_range r[2] = {
		{ .iova = IOVA, .length = 0x4000 }, { .iova = IOVA + 0x2000, .length = 0x4000 },
	};
	struct vfio_device_feature_dma_logging_range *many = calloc(257, sizeof(*many));
	uint64_t page = PAGE, bitmap[1];
	struct vfio_device_feature probe = { .argsz = sizeof(probe) };

	REQUIRE(many, "calloc");
	/* probing */
	probe.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	CHECK_OK(ioctl(device, VFIO_DEVICE_FEATURE, &probe));
	probe.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	CHECK_OK(ioctl(device, VFIO_DEVICE_FEATURE, &probe));
	probe.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &probe), EINVAL);
	probe.flags = VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;	/* neither GET nor SET */
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &probe), EINVAL);
	probe.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &probe), EINVAL);	/* argsz */

	CHECK_ERR(start(r, 0, &page), EINVAL);
	CHECK_ERR(start(many, 257, &page), E2BIG);
	CHECK_ERR(start(r, 2, &page), EINVAL);			/* overlapping */
	r[1].iova = IOVA + 0x8000 + 0x800;
	CHECK_ERR(start(r, 2, &page), EINVAL);			/* not page aligned */
	r[1].iova = ~0ull - 0xfff;
	r[1].length = 0x2000;
	CHECK_ERR(start(r, 2, &page), EOVERFLOW);
	CHECK_ERR(start((void *)8, 2, &page), EFAULT);
	free(many);

	r[1] = (struct vfio_device_feature_dma_logging_range){ .iova = IOVA + 0x8000,
								.length = 0x4000 };
	page = 0;		/* nothing but 0 is aligned to it */
	CHECK_ERR(start(r, 2, &page), EINVAL);
	page = 1000;		/* not one we keep: the smallest we do */
	CHECK_OK(start(r, 2, &page));
	CHECK(page == PAGE, "page size 1000 comes back as 4 KiB: %llu", (unsigned long long)page);
	CHECK_OK(stop());
	page = 512;
	CHECK_OK(start(r, 2, &page));
	CHECK(page == PAGE, "a page size below 4 KiB comes back as 4 KiB: %llu",
	      (unsigned long long)page);
	CHECK_ERR(report(IOVA, 0x4000, 2048, bitmap), EINVAL);
	CHECK_ERR(report(IOVA, 0x4000, 3 * PAGE, bitmap), EINVAL);
	CHECK_ERR(report(~0ull - 0xfff, 0x2000, PAGE, bitmap), EOVERFLOW);
	dev_write(IOVA, 8);
	CHECK_ERR(report(IOVA, 0x4000, PAGE, (void *)8), EFAULT);
	CHECK_OK(stop());
}

int main(void)
{
	struct vfio_setup s;
	uint8_t *mem = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t page = PAGE, bitmap[1] = { 0 };
	struct vfio_device_feature_dma_logging_range r = { .iova = IOVA, .length = 0x4000 };

	REQUIRE(mem != MAP_FAILED, "mmap");
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	device = s.device;
	enable_device(device);
	REQUIRE(map_dma(s.container, mem, IOVA, MAP_SIZE,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0,
		"MAP_DMA: %s", strerror(errno));
	test_logging();
	test_misuse();

	/* logging ends with the device's last close */
	CHECK_OK(start(&r, 1, &page));
	close(device);
	device = ioctl(s.group, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF);
	REQUIRE(device >= 0, "device again: %s", strerror(errno));
	CHECK_ERR(report(IOVA, 0x4000, PAGE, bitmap), EINVAL);
	s.device = device;
	teardown(&s);
	return harness_done("dirty-log");
}
