// SPDX-License-Identifier: MIT
/*
 * bench_map: VFIO_IOMMU_MAP_DMA + VFIO_IOMMU_UNMAP_DMA of one 4 KiB page, in
 * pairs, against the cheapest call the daemon answers (VFIO_GET_API_VERSION
 * on the container): the figure says how many transport round trips a pair
 * is worth.  A MAP_DMA costs more than its round trip because the shim
 * describes the memory behind the range (from /proc/self/maps, passing the
 * backing file of a shared mapping) and the daemon builds and accounts the
 * mapping.  The shim remembers what backs the memory it saw mapped and sends
 * a memfd to the daemon once, so a pair of either kind rides the shared
 * call slot; the target is two round trips and 5 us.
 */
#include <sys/mman.h>

#include "bench_util.h"

#define ITERS		5000
#define ROUNDS		25
#define WARMUP		200
#define PAGE		4096u
#define IOVA		0x100000ull

enum { K_RT, K_ANON, K_MEMFD, NKINDS };

static const char *const names[NKINDS] = {
	[K_RT] = "GET_API_VERSION",
	[K_ANON] = "4 KiB anon (process_vm)",
	[K_MEMFD] = "4 KiB memfd (zero-copy)",
};

static uint64_t map_ns[NKINDS][ITERS], unmap_ns[NKINDS][ITERS], pair_ns[NKINDS][ITERS];

static void one(int container, int kind, void *const *buf, int i)
{
	uint64_t t0 = now_ns(), t1;

	if (kind == K_RT) {
		check(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
		      "GET_API_VERSION: %s", strerror(errno));
		if (i >= 0)
			pair_ns[kind][i] = now_ns() - t0;
		return;
	}
	check(map_dma(container, buf[kind], IOVA, PAGE) == 0, "MAP_DMA: %s", strerror(errno));
	t1 = now_ns();
	check(unmap_dma(container, IOVA, PAGE) == 0, "UNMAP_DMA: %s", strerror(errno));
	if (i >= 0) {
		map_ns[kind][i] = t1 - t0;
		pair_ns[kind][i] = now_ns() - t0;
		unmap_ns[kind][i] = pair_ns[kind][i] - map_ns[kind][i];
	}
}

int main(void)
{
	void *buf[NKINDS] = { NULL };
	struct vfio_dev d;
	double rt_us;
	int fd;

	vfio_open(&d, RAM_GROUP, NULL);

	buf[K_ANON] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("bench-map", MFD_CLOEXEC);
	check(fd >= 0 && ftruncate(fd, PAGE) == 0, "memfd: %s", strerror(errno));
	buf[K_MEMFD] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(buf[K_ANON] != MAP_FAILED && buf[K_MEMFD] != MAP_FAILED, "mmap: %s",
	      strerror(errno));
	close(fd);
	memset(buf[K_ANON], 1, PAGE);
	memset(buf[K_MEMFD], 1, PAGE);

	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < NKINDS; k++) {
			int from = r * (ITERS / ROUNDS);

			for (int i = r ? 0 : -WARMUP; i < ITERS / ROUNDS; i++)
				one(d.container, k, buf, i < 0 ? -1 : from + i);
		}
	}

	printf("MAP_DMA + UNMAP_DMA pairs of 4 KiB, %d each after %d warm-up, %s;\n"
	       "RT: pair median in transport round trips (the floor)\n", ITERS, WARMUP,
	       placement());
	rt_us = stats_of(pair_ns[K_RT], ITERS).median_us;
	print_floor("floor: GET_API_VERSION", stats_of(pair_ns[K_RT], ITERS));
	for (int k = K_ANON; k < NKINDS; k++) {
		struct stats pair, map, unmap;
		double sum = 0;

		for (int i = 0; i < ITERS; i++)
			sum += (double)pair_ns[k][i];
		pair = stats_of(pair_ns[k], ITERS);
		map = stats_of(map_ns[k], ITERS);
		unmap = stats_of(unmap_ns[k], ITERS);
		printf("  %-26s %5.0f pairs/s  median %6.2f us (map %.2f + unmap %.2f)  "
		       "p99 %6.2f us  = %.1f RT\n",
		       names[k], ITERS / (sum / 1e9), pair.median_us, map.median_us,
		       unmap.median_us, pair.p99_us, pair.median_us / rt_us);
		print_pair_target("    ", pair.median_us, rt_us);
	}
	return 0;
}
