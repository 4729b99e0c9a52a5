// SPDX-License-Identifier: MIT
/*
 * bench_ioas: iommufd IOAS_MAP + IOAS_UNMAP of 4 KiB and 2 MiB, and
 * IOAS_COPY (+ its UNMAP) of 4 KiB, with 1, 1k and 100k mappings live in the
 * IOAS, against the cheapest iommufd call (IOMMU_OPTION GET) as the floor:
 * how the cost grows with the number of areas the IOAS holds.  The 4 KiB
 * pair is measured on anonymous memory and on a memfd, each against the
 * target of two round trips and 5 us.
 */
#include <linux/iommufd.h>
#include <sys/mman.h>

#include "bench_util.h"

#define ITERS		2000
#define WARMUP		100
#define PAGE		4096ull
#define HUGE		(2ull << 20)
#define LIVE_MAX	100000u
#define LIVE_BASE	0x100000000ull	/* background areas from 4 GiB up */
#define PROBE_IOVA	0x1000000ull
#define COPY_IOVA	0x2000000ull

enum { OP_RT, OP_MAP4K, OP_MAP4K_MEMFD, OP_MAP2M, OP_COPY, NOPS };

static const char *const names[NOPS] = {
	[OP_RT] = "floor: IOMMU_OPTION GET",
	[OP_MAP4K] = "IOAS_MAP+UNMAP 4 KiB anon",
	[OP_MAP4K_MEMFD] = "IOAS_MAP+UNMAP 4 KiB memfd",
	[OP_MAP2M] = "IOAS_MAP+UNMAP 2 MiB",
	[OP_COPY] = "IOAS_COPY+UNMAP 4 KiB",
};

static uint64_t ns[NOPS][ITERS];

static int fd;
static uint32_t ioas, ioas2;

static void map(uint32_t id, void *va, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = id, .user_va = (uintptr_t)va, .length = len,
		.iova = iova, .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				       IOMMU_IOAS_MAP_WRITEABLE,
	};

	check(ioctl(fd, IOMMU_IOAS_MAP, &m) == 0, "IOAS_MAP: %s", strerror(errno));
}

static void unmap(uint32_t id, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = id, .iova = iova,
				      .length = len };

	check(ioctl(fd, IOMMU_IOAS_UNMAP, &u) == 0, "IOAS_UNMAP: %s", strerror(errno));
}

static void one(int op, void *const *buf4k, void *buf2m, int i)
{
	struct iommu_option o = { .size = sizeof(o), .option_id = IOMMU_OPTION_RLIMIT_MODE,
				  .op = IOMMU_OPTION_OP_GET };
	struct iommu_ioas_copy c = {
		.size = sizeof(c), .dst_ioas_id = ioas2, .src_ioas_id = ioas, .length = PAGE,
		.dst_iova = COPY_IOVA, .src_iova = LIVE_BASE,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
	};
	uint64_t t0 = now_ns();

	switch (op) {
	case OP_RT:
		check(ioctl(fd, IOMMU_OPTION, &o) == 0, "IOMMU_OPTION: %s", strerror(errno));
		break;
	case OP_MAP4K:
	case OP_MAP4K_MEMFD:
		map(ioas, buf4k[op == OP_MAP4K_MEMFD], PAGE, PROBE_IOVA);
		unmap(ioas, PROBE_IOVA, PAGE);
		break;
	case OP_MAP2M:
		map(ioas, buf2m, HUGE, PROBE_IOVA);
		unmap(ioas, PROBE_IOVA, HUGE);
		break;
	case OP_COPY:
		check(ioctl(fd, IOMMU_IOAS_COPY, &c) == 0, "IOAS_COPY: %s", strerror(errno));
		unmap(ioas2, COPY_IOVA, PAGE);
		break;
	}
	if (i >= 0)
		ns[op][i] = now_ns() - t0;
}

int main(void)
{
	static const unsigned int lives[] = { 1, 1000, LIVE_MAX };
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	unsigned int live = 0;
	uint8_t *bg, *buf2m;
	void *buf4k[2];
	int mfd;
	double rt_us = 0;

	fd = open("/dev/iommu", O_RDWR);
	check(fd >= 0, "/dev/iommu: %s", strerror(errno));
	check(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0, "IOAS_ALLOC: %s", strerror(errno));
	ioas = a.out_ioas_id;
	check(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0, "IOAS_ALLOC: %s", strerror(errno));
	ioas2 = a.out_ioas_id;
	bg = mmap(NULL, LIVE_MAX * PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	buf4k[0] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("bench-ioas", MFD_CLOEXEC);
	check(mfd >= 0 && ftruncate(mfd, PAGE) == 0, "memfd: %s", strerror(errno));
	buf4k[1] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	buf2m = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(bg != MAP_FAILED && buf4k[0] != MAP_FAILED && buf4k[1] != MAP_FAILED &&
	      buf2m != MAP_FAILED, "mmap: %s",
	      strerror(errno));

	printf("iommufd IOAS operations, %d each after %d warm-up, %s; anonymous memory\n"
	       "unless it says memfd;\n"
	       "RT: median in iommufd round trips (IOMMU_OPTION GET, measured per row)\n",
	       ITERS, WARMUP, placement());
	for (size_t l = 0; l < sizeof(lives) / sizeof(lives[0]); l++) {
		/* Background areas of one page each, never touched again. */
		for (; live < lives[l]; live++)
			map(ioas, bg + (uint64_t)live * PAGE, PAGE, LIVE_BASE + (uint64_t)live * 2 * PAGE);
		printf("  %u live mappings:\n", live);
		for (int op = 0; op < NOPS; op++) {
			struct stats s;
			double sum = 0;

			for (int i = -WARMUP; i < ITERS; i++)
				one(op, buf4k, buf2m, i);
			for (int i = 0; i < ITERS; i++)
				sum += (double)ns[op][i];
			s = stats_of(ns[op], ITERS);
			if (op == OP_RT)
				rt_us = s.median_us;
			printf("    %-27s %7.0f /s  median %7.2f us  p99 %7.2f us  = %5.1f RT\n",
			       names[op], ITERS / (sum / 1e9), s.median_us, s.p99_us,
			       s.median_us / rt_us);
			if (op == OP_MAP4K || op == OP_MAP4K_MEMFD)
				print_pair_target("      ", s.median_us, rt_us);
		}
	}
	close(fd);
	return 0;
}
