// SPDX-License-Identifier: MIT
/*
 * bench_dma: device DMA through the software IOMMU, against memcpy of the
 * same sizes.
 *
 * The edu device moves at most 4 KiB per command (its buffer's size), so a
 * transfer of S bytes is S / 4 KiB commands, each two register writes (the
 * RAM-side address, then the command; both posted) and a read of the command
 * register until the device says it is done, as a driver of edu polls it.
 * Throughput below therefore includes the register traffic, as such a driver
 * would see it.  Subtracting one more status read (measured with each
 * command) from the command's time estimates what the IOMMU lookup and the
 * copy themselves cost.
 *
 * Two kinds of DMA memory: a shared memfd, which the daemon maps itself
 * (zero-copy: the device touches the program's pages), and anonymous private
 * memory, which the daemon can only reach with process_vm_readv/writev.
 */
#include <sys/mman.h>

#include "bench_util.h"

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096u

#define DMA_START	0x1
#define DMA_TO_RAM	0x2

#define MAX_SIZE	(4u << 20)
#define MAP_SIZE	(MAX_SIZE + EDU_BUF_SIZE)	/* the last page is a scratch page */
#define MIN_BYTES	(8u << 20)			/* DMA'd per measurement, at least */
#define MIN_REPS	3
#define MAX_CMDS	16384	/* commands timed over the four sizes, at most */

static const uint32_t sizes[] = { 4u << 10, 64u << 10, 1u << 20, 4u << 20 };

struct backing {
	const char *name;
	uint8_t *buf;
	uint64_t iova;
};

static int dev;
static uint64_t bar0;

/*
 * One 4 KiB command: the RAM-side address, then the command, then status
 * reads until it is done.  The command and its polling are timed, and one
 * more status read: their difference is the DMA.
 */
struct cmd_times {
	uint64_t *read, *cmd;
	size_t n;
};

static void dma_cmd(uint64_t iova, bool to_ram, struct cmd_times *t)
{
	uint64_t t0, t1, t2;

	wr64(dev, bar0 + (to_ram ? EDU_DMA_DST : EDU_DMA_SRC), iova);
	t0 = now_ns();
	wr64(dev, bar0 + EDU_DMA_CMD, DMA_START | (to_ram ? DMA_TO_RAM : 0));
	while (rd32(dev, bar0 + EDU_DMA_CMD) & DMA_START)
		;
	t1 = now_ns();
	rd32(dev, bar0 + EDU_DMA_CMD);
	t2 = now_ns();
	if (t) {
		t->cmd[t->n] = t1 - t0;
		t->read[t->n++] = t2 - t1;
	}
}

/* Each direction only changes the RAM-side address from command to command. */
static void dma_setup(bool to_ram)
{
	wr64(dev, bar0 + EDU_DMA_CNT, EDU_BUF_SIZE);
	wr64(dev, bar0 + (to_ram ? EDU_DMA_SRC : EDU_DMA_DST), EDU_BUF);
}

/* Every 16th page (and the last) into the device and out to the scratch page:
 * a failed DMA is silent in edu, so a timing of failed commands would look
 * fine. */
static void verify(const struct backing *b)
{
	uint8_t *scratch = b->buf + MAX_SIZE;

	for (uint32_t i = 0; i < MAX_SIZE; i++)
		b->buf[i] = (uint8_t)(i * 7 + i / EDU_BUF_SIZE);
	for (uint32_t off = 0; off < MAX_SIZE; off += 16 * EDU_BUF_SIZE) {
		uint32_t page = off + 16 * EDU_BUF_SIZE >= MAX_SIZE ? MAX_SIZE - EDU_BUF_SIZE : off;

		memset(scratch, 0, EDU_BUF_SIZE);
		dma_setup(false);
		dma_cmd(b->iova + page, false, NULL);
		dma_setup(true);
		dma_cmd(b->iova + MAX_SIZE, true, NULL);
		check(!memcmp(scratch, b->buf + page, EDU_BUF_SIZE),
		      "%s: DMA of page 0x%x did not arrive", b->name, page);
	}
}

/* Median time of one S-byte transfer, in ns. */
static uint64_t time_dma(const struct backing *b, uint32_t size, bool to_ram,
			 struct cmd_times *t)
{
	uint32_t reps = MIN_BYTES / size > MIN_REPS ? MIN_BYTES / size : MIN_REPS;
	uint64_t *ns = calloc(reps, sizeof(*ns)), med;

	check(ns, "calloc");
	dma_setup(to_ram);
	for (uint32_t r = 0; r < reps; r++) {
		uint64_t t0 = now_ns();

		for (uint32_t off = 0; off < size; off += EDU_BUF_SIZE)
			dma_cmd(b->iova + off, to_ram, t);
		ns[r] = now_ns() - t0;
	}
	med = (uint64_t)(stats_of(ns, reps).median_us * 1e3);
	free(ns);
	return med;
}

/* Median time of one S-byte memcpy between two warm buffers, in ns. */
static uint64_t time_memcpy(uint8_t *dst, const uint8_t *src, uint32_t size)
{
	uint32_t inner = (64u << 20) / size;
	uint64_t ns[9];

	for (int r = 0; r < 9; r++) {
		uint64_t t0 = now_ns();

		for (uint32_t i = 0; i < inner; i++) {
			memcpy(dst, src, size);
			/* Keep the copies: dst is read by nobody the compiler can see. */
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		ns[r] = (now_ns() - t0) / inner;
	}
	return (uint64_t)(stats_of(ns, 9).median_us * 1e3);
}

static double mbps(uint32_t bytes, uint64_t ns)
{
	return (double)bytes / ((double)ns / 1e9) / 1e6;
}

static void *map_memfd(size_t size)
{
	int fd = memfd_create("bench-dma", MFD_CLOEXEC);
	void *p;

	check(fd >= 0 && ftruncate(fd, (off_t)size) == 0, "memfd: %s", strerror(errno));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "mmap memfd: %s", strerror(errno));
	close(fd);
	return p;
}

static void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	check(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

int main(void)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct backing backings[] = {
		{ "memfd (zero-copy)", map_memfd(MAP_SIZE), 0x1000000 },
		{ "anon (process_vm)", map_anon(MAP_SIZE), 0x2000000 },
	};
	uint8_t *src = map_anon(MAX_SIZE), *dst = map_anon(MAX_SIZE);
	static uint64_t read_ns[MAX_CMDS], cmd_ns[MAX_CMDS];
	struct cmd_times t = { read_ns, cmd_ns, 0 };
	uint64_t memcpy_ns[4];
	struct vfio_dev d;

	vfio_open(&d, EDU_GROUP, EDU_BDF);
	dev = d.device;
	check(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO: %s",
	      strerror(errno));
	bar0 = reg.offset;
	for (int b = 0; b < 2; b++) {
		check(map_dma(d.container, backings[b].buf, backings[b].iova, MAP_SIZE) == 0,
		      "MAP_DMA %s: %s", backings[b].name, strerror(errno));
		verify(&backings[b]);
	}

	memset(src, 0x5a, MAX_SIZE);
	memset(dst, 0, MAX_SIZE);
	for (int s = 0; s < 4; s++)
		memcpy_ns[s] = time_memcpy(dst, src, sizes[s]);

	printf("DMA by edu through the software IOMMU, %s: 4 KiB per command, each 2\n"
	       "register writes (address, then command) and status reads until done; medians;\n"
	       "floor: memcpy of the same size; the DMA alone = command and polling - one\n"
	       "status read\n", placement());
	for (int b = 0; b < 2; b++) {
		for (int dir = 0; dir < 2; dir++) {
			const char *what = dir ? "dev->RAM" : "RAM->dev";
			struct stats read, cmd;

			t.n = 0;
			for (int s = 0; s < 4; s++) {
				uint64_t ns = time_dma(&backings[b], sizes[s], dir, &t);

				printf("  %s %-17s %4u KiB %6.1f MB/s %6.1f us/cmd  "
				       "memcpy %6.0f MB/s  ratio %4.0fx\n",
				       what, backings[b].name, sizes[s] >> 10, mbps(sizes[s], ns),
				       (double)ns / 1e3 / (sizes[s] / EDU_BUF_SIZE),
				       mbps(sizes[s], memcpy_ns[s]),
				       (double)ns / (double)memcpy_ns[s]);
			}
			read = stats_of(t.read, t.n);
			cmd = stats_of(t.cmd, t.n);
			printf("  %s %-17s the DMA alone: %.2f - %.2f = %.2f us/4 KiB\n", what,
			       backings[b].name, cmd.median_us, read.median_us,
			       cmd.median_us - read.median_us);
		}
	}
	for (int b = 0; b < 2; b++)
		check(unmap_dma(d.container, backings[b].iova, MAP_SIZE) == 0, "UNMAP_DMA: %s",
		      strerror(errno));
	return 0;
}
