/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark programs share: timing, statistics, the table row format
 * and the few VFIO setup steps they need.  Like the examples, the programs use
 * only <linux/vfio.h> and libc, so they run unchanged on a kernel with
 * vfio-pci.
 */
#ifndef UVFIO_BENCH_UTIL_H
#define UVFIO_BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* The default `uvfio run` topology. */
#define EDU_GROUP	10
#define EDU_BDF		"0000:10:00.0"
#define RAM_GROUP	11
#define RAM_BDF		"0000:10:01.0"

#define REGION(index)	((uint64_t)(index) << 40)

#define die(...) do { fprintf(stderr, "bench: " __VA_ARGS__); fputc('\n', stderr); exit(1); } \
		 while (0)
#define check(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median_us, p99_us, mean_us;
};

/* Sorts the samples (nanoseconds) in place. */
static inline struct stats stats_of(uint64_t *ns, size_t n)
{
	struct stats s;
	double sum = 0;

	qsort(ns, n, sizeof(*ns), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)ns[i];
	s.median_us = (double)ns[n / 2] / 1e3;
	s.p99_us = (double)ns[n * 99 / 100] / 1e3;
	s.mean_us = sum / (double)n / 1e3;
	return s;
}

/* One table row: a measured latency beside its floor. */
static inline void print_latency(const char *what, struct stats s, const char *floor_name,
				 double floor_us)
{
	printf("  %-26s median %6.2f us  p99 %6.2f us  floor (%s) %5.2f us  ratio %4.1fx\n",
	       what, s.median_us, s.p99_us, floor_name, floor_us, s.median_us / floor_us);
}

static inline void print_floor(const char *what, struct stats s)
{
	printf("  %-26s median %6.2f us  p99 %6.2f us\n", what, s.median_us, s.p99_us);
}

/* The target of a DMA map + unmap pair: two round trips (the floor) and
 * 5 us of work. */
static inline void print_pair_target(const char *indent, double pair_us, double rt_us)
{
	double limit = 2 * rt_us + 5;

	printf("%starget: pair <= 2 x RT + 5 us = %.2f us: %s\n", indent, limit,
	       pair_us <= limit ? "met" : "NOT met");
}

/*
 * Two distinct CPUs the process may run on, to force a floor's two sides
 * apart: the scheduler tends to keep a fresh fork on its parent's CPU, where
 * the daemon, started long before, may well not be.  False under `taskset -c N`.
 */
static inline bool two_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return false;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	}
	return n == 2;
}

/* For the table headings: `taskset -c N make bench` puts everything on one CPU. */
static inline const char *placement(void)
{
	int cpu[2];

	return two_cpus(cpu) ? "unpinned" : "all on one CPU";
}

static inline void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	check(sched_setaffinity(0, sizeof(set), &set) == 0, "sched_setaffinity: %s",
	      strerror(errno));
}

struct vfio_dev {
	int container, group, device;
};

/* Container, group, type1v2 IOMMU and (if bdf) the device fd with memory
 * decode and bus mastering on. */
static inline void vfio_open(struct vfio_dev *d, int group_id, const char *bdf)
{
	char path[64];

	d->container = open("/dev/vfio/vfio", O_RDWR);
	check(d->container >= 0, "/dev/vfio/vfio: %s (run under `uvfio run`)", strerror(errno));
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	d->group = open(path, O_RDWR);
	check(d->group >= 0, "%s: %s", path, strerror(errno));
	check(ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) == 0, "SET_CONTAINER: %s",
	      strerror(errno));
	check(ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "SET_IOMMU: %s",
	      strerror(errno));
	d->device = -1;
	if (!bdf)
		return;
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d->device >= 0, "GET_DEVICE_FD %s: %s", bdf, strerror(errno));

	uint16_t cmd = 0;
	uint64_t off = REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4;

	check(pread(d->device, &cmd, 2, (off_t)off) == 2, "config read: %s", strerror(errno));
	cmd |= 0x6;	/* memory decode, bus master */
	check(pwrite(d->device, &cmd, 2, (off_t)off) == 2, "config write: %s", strerror(errno));
}

static inline uint32_t rd32(int device, uint64_t off)
{
	uint32_t v;

	check(pread(device, &v, 4, (off_t)off) == 4, "pread 0x%llx: %s",
	      (unsigned long long)off, strerror(errno));
	return v;
}

static inline void wr32(int device, uint64_t off, uint32_t v)
{
	check(pwrite(device, &v, 4, (off_t)off) == 4, "pwrite 0x%llx: %s",
	      (unsigned long long)off, strerror(errno));
}

static inline void wr64(int device, uint64_t off, uint64_t v)
{
	check(pwrite(device, &v, 8, (off_t)off) == 8, "pwrite 0x%llx: %s",
	      (unsigned long long)off, strerror(errno));
}

static inline int map_dma(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

static inline int unmap_dma(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);
}

#endif
