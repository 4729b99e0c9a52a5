// SPDX-License-Identifier: MIT
/*
 * bench_ioat: copy throughput of the I/OAT engine (0000:10:04.0) driven the
 * way DPDK drives it (registers through the mmapped BAR0, a ring of copy
 * descriptors in DMA-mapped shared memory, one doorbell per batch, completion
 * polled in memory), for 4 KiB to 1 MiB per descriptor, beside memcpy of the
 * same sizes in the same run.
 *
 * run-bench starts it on a host whose engine has no modelled latency
 * ("latency_us": 0), so the figures are what the daemon's work costs.
 */
#include <sys/mman.h>

#include "bench_util.h"

#define IOAT_GROUP	14
#define IOAT_BDF	"0000:10:04.0"

#define CHANCMD		0x84
#define DMACOUNT	0x86
#define CHANSTS		0x88
#define CHAINADDR	0x90
#define CHANCMP		0x98
#define CHANCMD_RESET	0x20
#define ST_MASK		7ull
#define ST_IDLE		1
#define DESC_COMPL	(1u << 3)

struct ioat_desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src;
	uint64_t dst;
	uint64_t next;
	uint64_t rsvd[4];
};

#define RING		64
#define MAX_SIZE	(1u << 20)
#define BATCH_BYTES	(8u << 20)	/* per doorbell, at most RING descriptors */
#define ROUNDS		30
#define IOVA		0x100000000ull
#define RING_OFF	0
#define COMPL_OFF	(RING * sizeof(struct ioat_desc))
#define SRC_OFF		(1u << 20)
#define DST_OFF		(2u << 20)
#define MEM_SIZE	(3u << 20)

static volatile uint8_t *regs;
static uint8_t *mem;
static uint16_t doorbell;

static volatile uint64_t *completion(void)
{
	return (volatile uint64_t *)(mem + COMPL_OFF);
}

/* One batch of n copies of size bytes; returns nanoseconds from the doorbell
 * to the completion of the last one. */
static uint64_t batch(unsigned int n, uint32_t size)
{
	struct ioat_desc *ring = (void *)(mem + RING_OFF);
	static unsigned int slot;
	uint64_t t0, sts;

	for (unsigned int i = 0; i < n; i++) {
		struct ioat_desc *d = &ring[slot];

		d->size = size;
		d->ctl = i == n - 1 ? DESC_COMPL : 0;
		d->src = IOVA + SRC_OFF;
		d->dst = IOVA + DST_OFF;
		slot = (slot + 1) % RING;
		doorbell++;
	}
	*completion() = 0;
	t0 = now_ns();
	*(volatile uint16_t *)(regs + DMACOUNT) = doorbell;
	do
		sts = *completion();
	while ((sts & ST_MASK) != ST_IDLE && now_ns() - t0 < 5000000000ull);
	check((sts & ST_MASK) == ST_IDLE, "the engine did not finish: status %#llx, CHANSTS %#llx",
	      (unsigned long long)sts, (unsigned long long)*(volatile uint64_t *)(regs + CHANSTS));
	return now_ns() - t0;
}

static uint64_t memcpy_batch(unsigned int n, uint32_t size)
{
	uint64_t t0 = now_ns();

	for (unsigned int i = 0; i < n; i++) {
		memcpy(mem + DST_OFF, mem + SRC_OFF, size);
		asm volatile("" : : "r"(mem) : "memory");
	}
	return now_ns() - t0;
}

static double gbps(uint64_t bytes, uint64_t ns)
{
	return (double)bytes / (double)ns;	/* bytes per ns = GB/s */
}

int main(void)
{
	static const uint32_t sizes[] = { 4096, 16384, 65536, 262144, 1u << 20 };
	struct ioat_desc *ring;
	struct vfio_dev d;
	uint64_t dev_ns[ROUNDS], cpu_ns[ROUNDS];

	vfio_open(&d, IOAT_GROUP, IOAT_BDF);
	regs = mmap(NULL, 16 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, d.device,
		    (off_t)REGION(0));
	check(regs != MAP_FAILED, "mmap of BAR0: %s", strerror(errno));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	check(mem != MAP_FAILED && map_dma(d.container, mem, IOVA, MEM_SIZE) == 0,
	      "DMA memory: %s", strerror(errno));
	memset(mem + SRC_OFF, 0x5a, MAX_SIZE);
	ring = (void *)(mem + RING_OFF);
	for (unsigned int i = 0; i < RING; i++)
		ring[i].next = IOVA + RING_OFF + ((i + 1) % RING) * sizeof(*ring);

	*(volatile uint8_t *)(regs + CHANCMD) = CHANCMD_RESET;
	*(volatile uint64_t *)(regs + CHANCMP) = IOVA + COMPL_OFF;
	*(volatile uint64_t *)(regs + CHAINADDR) = IOVA + RING_OFF;

	printf("I/OAT copies through the engine vs memcpy, %d batches per size, %s\n", ROUNDS,
	       placement());
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s];
		unsigned int n = BATCH_BYTES / size < RING ? BATCH_BYTES / size : RING;
		uint64_t bytes = (uint64_t)n * size;

		batch(n, size);		/* warm up */
		for (int r = 0; r < ROUNDS; r++) {
			dev_ns[r] = batch(n, size);
			cpu_ns[r] = memcpy_batch(n, size);
		}
		check(!memcmp(mem + DST_OFF, mem + SRC_OFF, size), "the copy is wrong");
		qsort(dev_ns, ROUNDS, sizeof(dev_ns[0]), cmp_u64);
		qsort(cpu_ns, ROUNDS, sizeof(cpu_ns[0]), cmp_u64);
		printf("  %7u B x %2u per doorbell  engine %6.2f GB/s (%8.1f us/batch)  "
		       "floor memcpy %6.2f GB/s  ratio %5.1fx\n", size, n,
		       gbps(bytes, dev_ns[ROUNDS / 2]), dev_ns[ROUNDS / 2] / 1e3,
		       gbps(bytes, cpu_ns[ROUNDS / 2]),
		       (double)dev_ns[ROUNDS / 2] / (double)cpu_ns[ROUNDS / 2]);
	}
	return 0;
}
