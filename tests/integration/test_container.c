// SPDX-License-Identifier: MIT
/* Container (/dev/vfio/vfio) and type1 IOMMU rules, each errno as Linux. */
#include <stdlib.h>
#include <sys/mman.h>

#include "vfio_util.h"

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void test_unprivileged_container(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR);
	char b[8];

	REQUIRE(c >= 0, "open: %s", strerror(errno));
	CHECK(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "api version");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1, "type1");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1, "type1v2");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) == 1, "unmap all");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) == 0,
	      "no-IOMMU is off unless unsafe mode is enabled");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU) == 0, "nesting");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU) == 0, "spapr");
	CHECK(ioctl(c, VFIO_CHECK_EXTENSION, 12345) == 0, "unknown extension");
	/* Only a group gives the privilege to pick an IOMMU model. */
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	/* Without a model, IOMMU ioctls are not there yet. */
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	CHECK_ERR(ioctl(c, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	CHECK_ERR(read(c, b, sizeof(b)), EINVAL);
	CHECK_ERR(write(c, b, sizeof(b)), EINVAL);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, c, 0) == MAP_FAILED && errno == ENODEV,
	      "mmap of a container: %s", strerror(errno));
	close(c);
}

static void test_set_iommu(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR), g = open_group(EDU_GROUP);

	REQUIRE(c >= 0 && g >= 0, "open: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU), ENODEV);
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, 77), ENODEV);
	/* UNMAP_ALL is an extension type1 claims, but not a model it opens. */
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, VFIO_UNMAP_ALL), EINVAL);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	CHECK_ERR(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), EINVAL);
	/* With a model set, unknown ioctls belong to it. */
	CHECK_ERR(ioctl(c, _IO(VFIO_TYPE, VFIO_BASE + 60)), ENOTTY);
	close(g);
	close(c);
}

static void test_get_info(void)
{
	struct vfio_setup s;
	struct vfio_iommu_type1_info info = { .argsz = 8 };
	char big[4096];
	struct vfio_iommu_type1_info *full = (void *)big;
	int seen_range = 0, seen_avail = 0;

	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);
	CHECK_ERR(ioctl(s.container, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	CHECK_ERR(ioctl(s.container, VFIO_IOMMU_GET_INFO, NULL), EFAULT);

	/* argsz of the bare struct: flags say CAPS, argsz grows to fit them. */
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	CHECK_OK(ioctl(s.container, VFIO_IOMMU_GET_INFO, &info));
	CHECK(info.flags & VFIO_IOMMU_INFO_PGSIZES, "pgsizes flag");
	CHECK(info.flags & VFIO_IOMMU_INFO_CAPS, "caps flag");
	CHECK(info.iova_pgsizes & 4096, "4K pages: 0x%llx", (unsigned long long)info.iova_pgsizes);
	CHECK(info.argsz > sizeof(info), "argsz grows to %u", info.argsz);
	CHECK(info.cap_offset == 0, "no caps written when they do not fit");

	memset(big, 0, sizeof(big));
	full->argsz = sizeof(big);
	CHECK_OK(ioctl(s.container, VFIO_IOMMU_GET_INFO, full));
	CHECK(full->cap_offset == sizeof(*full), "cap offset %u", full->cap_offset);
	for (uint32_t off = full->cap_offset; off && off < sizeof(big);) {
		struct vfio_info_cap_header *h = (void *)(big + off);

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;

			seen_range = 1;
			CHECK(r->nr_iovas >= 1 && r->iova_ranges[0].start == 0,
			      "iova ranges start at 0");
		}
		if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			seen_avail = 1;
			CHECK(((struct vfio_iommu_type1_info_dma_avail *)h)->avail == 65535,
			      "dma avail");
		}
		off = h->next;
	}
	CHECK(seen_range && seen_avail, "capability chain has IOVA ranges and DMA avail");
	teardown(&s);
}

static void test_map_unmap(void)
{
	struct vfio_setup s;
	size_t sz = 1 << 20;
	char *buf = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = 8 };

	REQUIRE(buf != MAP_FAILED && ro != MAP_FAILED, "mmap");
	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);

	CHECK_ERR(ioctl(s.container, VFIO_IOMMU_MAP_DMA, &m), EINVAL);	/* argsz */
	CHECK_ERR(map_dma(s.container, buf, 0x100000, 4096, RW | 0x80), EINVAL); /* flags */
	CHECK_ERR(map_dma(s.container, buf, 0x100000, 4096, 0), EINVAL);	/* no prot */
	CHECK_ERR(map_dma(s.container, buf, 0x100000, 0, RW), EINVAL);	/* size 0 */
	CHECK_ERR(map_dma(s.container, buf, 0x100800, 4096, RW), EINVAL);	/* iova align */
	CHECK_ERR(map_dma(s.container, buf + 8, 0x100000, 4096, RW), EINVAL); /* vaddr align */
	CHECK_ERR(map_dma(s.container, buf, 0x100000, 100, RW), EINVAL);	/* size align */
	CHECK_ERR(map_dma(s.container, buf, 0xfffffffffffff000ULL, 0x2000, RW), EOVERFLOW);
	CHECK_ERR(map_dma(s.container, buf, 0xfee00000ULL, 4096, RW), EINVAL); /* MSI window */
	CHECK_ERR(map_dma(s.container, NULL, 0x100000, 4096, RW), EFAULT);	/* nothing there */
	CHECK_ERR(map_dma(s.container, ro, 0x100000, 4096, RW), EFAULT);	/* device may write */
	CHECK_OK(map_dma(s.container, ro, 0x100000, 4096, VFIO_DMA_MAP_FLAG_READ));
	CHECK(unmap_dma(s.container, 0x100000, 4096, 0) == 4096, "unmap ro");

	CHECK_OK(map_dma(s.container, buf, 0x200000, sz, RW));
	CHECK_ERR(map_dma(s.container, buf, 0x200000, 4096, RW), EEXIST);
	CHECK_ERR(map_dma(s.container, buf, 0x1ff000, 0x2000, RW), EEXIST);
	CHECK_ERR(map_dma(s.container, buf, 0x200000 + sz - 4096, 0x2000, RW), EEXIST);

	/* v2: an unmap may not bisect a mapping. */
	CHECK(unmap_dma(s.container, 0x200000, 4096, 0) == -1 && errno == EINVAL, "bisect");
	CHECK(unmap_dma(s.container, 0x200000 + 4096, sz - 4096, 0) == -1 && errno == EINVAL,
	      "bisect from the middle");
	CHECK(unmap_dma(s.container, 0x10000000, 4096, 0) == 0, "nothing there: 0 bytes");
	CHECK(unmap_dma(s.container, 0x100000, 0x100000 + sz + 0x100000, 0) == (long long)sz,
	      "a range covering the whole mapping unmaps it");
	CHECK(unmap_dma(s.container, 0x100001, 4096, 0) == -1 && errno == EINVAL, "unaligned");
	CHECK(unmap_dma(s.container, 0x1000, 0, 0) == -1 && errno == EINVAL, "size 0");
	CHECK(unmap_dma(s.container, 0xfffffffffffff000ULL, 0x2000, 0) == -1 &&
	      errno == EOVERFLOW, "wrap");

	/* UNMAP_ALL: iova and size must be 0; returns the total. */
	CHECK_OK(map_dma(s.container, buf, 0x200000, 4096, RW));
	CHECK_OK(map_dma(s.container, buf + 4096, 0x300000, 8192, RW));
	CHECK(unmap_dma(s.container, 0x200000, 0, VFIO_DMA_UNMAP_FLAG_ALL) == -1 &&
	      errno == EINVAL, "unmap all with an iova");
	CHECK(unmap_dma(s.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL) == 3 * 4096, "unmap all");
	CHECK(unmap_dma(s.container, 0, 0, 0x80) == -1 && errno == EINVAL, "unknown flag");
	teardown(&s);
	munmap(buf, sz);
	munmap(ro, 4096);
}

static void test_type1_v1_unmap(void)
{
	struct vfio_setup s;
	char *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1_IOMMU);
	CHECK_OK(map_dma(s.container, buf, 0x200000, 0x10000, RW));
	/* v1: starting inside a mapping unmaps nothing, and succeeds. */
	CHECK(unmap_dma(s.container, 0x201000, 0x1000, 0) == 0, "v1 inner unmap");
	/* Covering the first IOVA removes the whole mapping. */
	CHECK(unmap_dma(s.container, 0x200000, 0x1000, 0) == 0x10000, "v1 head unmap");
	teardown(&s);
	munmap(buf, 1 << 20);
}

/* Removing the last group deprivileges the container and drops mappings. */
static void test_deprivilege(void)
{
	struct vfio_setup s;
	char *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(map_dma(s.container, buf, 0x200000, 8192, RW));
	CHECK_OK(ioctl(s.group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_ERR(map_dma(s.container, buf, 0x200000, 8192, RW), EINVAL);
	CHECK_OK(ioctl(s.group, VFIO_GROUP_SET_CONTAINER, &s.container));
	CHECK_OK(ioctl(s.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* The old mapping is gone: the same range maps again. */
	CHECK_OK(map_dma(s.container, buf, 0x200000, 8192, RW));
	teardown(&s);
	munmap(buf, 8192);
}

int main(void)
{
	test_unprivileged_container();
	test_set_iommu();
	test_get_info();
	test_map_unmap();
	test_type1_v1_unmap();
	test_deprivilege();
	return harness_done("container");
}
