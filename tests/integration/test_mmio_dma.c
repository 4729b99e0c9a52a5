// SPDX-License-Identifier: MIT
/*
 * DMA engines and peer-to-peer DMA through mmapped BARs, against the kernel's
 * uAPI only:
 *  - an I/OAT (CBDMA) driver that touches the engine only through its mapped
 *    BAR0 (byte, word, dword, qword and vector accesses, a read-modify-write,
 *    write-1-to-clear), with a descriptor ring and completion word in
 *    DMA-mapped memory: copies, fill, a faulting source that halts the channel
 *    with the right CHANERR and status, recovery, a forked child using the
 *    inherited mapping, and threads reading registers meanwhile, in a program
 *    with its own SIGSEGV handler;
 *  - peer-to-peer: ramdev's mapped BAR0 given to MAP_DMA (type1 v1 and v2), and edu's
 *    DMA engine writing to its RAM page and register file and reading a
 *    register with a read side effect; iommufd refuses to map it (EFAULT).
 */
#include <linux/iommufd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "iommufd_util.h"

#define IOAT_GROUP	14
#define IOAT_BDF	"0000:10:04.0"

/* I/OAT registers (Linux drivers/dma/ioat/registers.h) */
#define CHANCNT		0x00
#define CBVER		0x08
#define CHANCTRL	0x80
#define CHANCMD		0x84
#define DMACOUNT	0x86
#define CHANSTS		0x88
#define CHAINADDR	0x90
#define CHANCMP		0x98
#define CHANERR		0xa8
#define CHANCTRL_ERR_COMPL_EN	0x0004
#define CHANCTRL_ANY_ERR_ABORT	0x0008
#define CHANCMD_RESET	0x20
#define ST_MASK		7ull
#define ST_IDLE		1
#define ST_HALTED	3
#define ST_ARMED	4
#define DESC_COMPL	(1u << 3)
#define DESC_OP_FILL	(1u << 24)
#define CHANERR_SRC	0x1
#define CFG_CHANERR_INT	0x180

struct ioat_desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src;
	uint64_t dst;
	uint64_t next;
	uint64_t rsvd[4];
};

#define RING		16
#define MEM_SIZE	(1 << 20)
#define IOVA		0x10000000ull
#define RING_OFF	0
#define COMPL_OFF	(RING * sizeof(struct ioat_desc))
#define SRC_OFF		0x10000
#define DST_OFF		0x80000

static volatile uint8_t *regs;
static uint8_t *mem;
static unsigned int next_desc;	/* ring slot of the next descriptor */
static uint16_t doorbell;	/* descriptors made available since the chain began */

static inline uint8_t rd8(unsigned int off) { return *(volatile uint8_t *)(regs + off); }
static inline uint32_t rd32m(unsigned int off) { return *(volatile uint32_t *)(regs + off); }
static inline uint64_t rd64(unsigned int off) { return *(volatile uint64_t *)(regs + off); }
static inline void wr8(unsigned int off, uint8_t v) { *(volatile uint8_t *)(regs + off) = v; }
static inline void wr16(unsigned int off, uint16_t v) { *(volatile uint16_t *)(regs + off) = v; }
static inline void wr32m(unsigned int off, uint32_t v) { *(volatile uint32_t *)(regs + off) = v; }
static inline void wr64m(unsigned int off, uint64_t v) { *(volatile uint64_t *)(regs + off) = v; }

static volatile uint64_t *completion(void)
{
	return (volatile uint64_t *)(mem + COMPL_OFF);
}

static uint64_t desc_iova(unsigned int i)
{
	return IOVA + RING_OFF + (i % RING) * sizeof(struct ioat_desc);
}

/* Reset and start a new chain at the next free descriptor, the way Linux's
 * ioat driver does it: CHAINADDR and CHANCMP in two 32-bit halves. */
static void chan_start(void)
{
	wr8(CHANCMD, CHANCMD_RESET);
	CHECK((rd8(CHANCMD) & CHANCMD_RESET) == 0, "reset completes");
	wr32m(CHANCMP, (uint32_t)(IOVA + COMPL_OFF));
	wr32m(CHANCMP + 4, (uint32_t)((IOVA + COMPL_OFF) >> 32));
	wr32m(CHAINADDR, (uint32_t)desc_iova(next_desc));
	wr32m(CHAINADDR + 4, (uint32_t)(desc_iova(next_desc) >> 32));
	/* read-modify-write of the control register */
	asm volatile("orw %1, (%0)" : : "r"(regs + CHANCTRL),
		     "ri"((uint16_t)(CHANCTRL_ERR_COMPL_EN | CHANCTRL_ANY_ERR_ABORT)) :
		     "memory", "cc");
	CHECK((rd64(CHANSTS) & ST_MASK) == ST_ARMED, "a new chain is armed");
	doorbell = 0;
	*completion() = 0;
}

static void queue(uint32_t ctl, uint64_t src, uint64_t dst, uint32_t size)
{
	struct ioat_desc *d = (void *)(mem + RING_OFF + next_desc * sizeof(*d));

	d->size = size;
	d->ctl = ctl | DESC_COMPL;
	d->src = src;
	d->dst = dst;
	d->next = desc_iova(next_desc + 1);
	next_desc = (next_desc + 1) % RING;
	doorbell++;
}

/* Rings the doorbell and waits (bounded) until the channel stops working. */
static uint64_t ring_and_wait(void)
{
	struct timespec ts = { 0, 100000 };
	uint64_t sts = 0;

	*completion() = 0;
	wr16(DMACOUNT, doorbell);
	for (int i = 0; i < 20000; i++) {
		sts = *completion();
		if ((sts & ST_MASK) == ST_IDLE || (sts & ST_MASK) == ST_HALTED)
			break;
		nanosleep(&ts, NULL);
	}
	return sts;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void ioat_copies(const char *who)
{
	static const uint32_t sizes[] = { 1, 64, 1000, 4096, 65536 };
	uint32_t off = 0;
	bool same = true;

	memset(mem + DST_OFF, 0, 0x20000);
	fill_pattern(mem + SRC_OFF, 0x20000, next_desc);
	for (unsigned int i = 0; i < 5; i++) {
		queue(0, IOVA + SRC_OFF + off, IOVA + DST_OFF + off, sizes[i]);
		off += sizes[i] + 64;
	}
	uint64_t sts = ring_and_wait();

	CHECK((sts & ST_MASK) == ST_IDLE && (sts & ~0x3full) == desc_iova(next_desc - 1),
	      "%s: five copies complete, status %#llx", who, (unsigned long long)sts);
	off = 0;
	for (unsigned int i = 0; i < 5; i++) {
		same &= !memcmp(mem + SRC_OFF + off, mem + DST_OFF + off, sizes[i]) &&
			mem[DST_OFF + off + sizes[i]] == 0;
		off += sizes[i] + 64;
	}
	CHECK(same, "%s: the data arrived, not a byte more", who);
}

static void *register_reader(void *arg)
{
	uintptr_t bad = 0;

	(void)arg;
	for (int i = 0; i < 300; i++) {
		if (rd8(CHANCNT) != 1 || (rd32m(CBVER) & 0xff) < 0x32)
			bad++;
	}
	return (void *)bad;
}

static void on_segv(int sig)
{
	(void)sig;
	_exit(99);
}

static void test_ioat(void)
{
	struct vfio_setup s;
	pthread_t th[2];
	uintptr_t bad = 0;
	uint64_t sts, vec[2];
	uint32_t cfg = 0;
	pid_t pid;
	int status;

	setup_device(&s, IOAT_GROUP, IOAT_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	regs = mmap(NULL, 16 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, s.device, REGION(0));
	REQUIRE(regs != MAP_FAILED, "mmap of BAR0: %s", strerror(errno));
	/* shared, so that a forked child's descriptors are the device's too */
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(map_dma(s.container, mem, IOVA, MEM_SIZE,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0, "MAP_DMA");

	CHECK(rd8(CHANCNT) == 1, "one channel");
	CHECK(rd8(CBVER) >= 0x32, "I/OAT 3.2 or later");
	for (int t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, register_reader, NULL);
	chan_start();
	ioat_copies("parent");

	/* a 16-byte load of CHANSTS and CHAINADDR together */
	asm volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)" : : "r"(vec),
		     "r"(regs + CHANSTS) : "memory", "xmm0");
	CHECK(vec[0] == rd64(CHANSTS) && (vec[0] & ST_MASK) == ST_IDLE,
	      "vector load of the status register");

	/* fill */
	memset(mem + DST_OFF, 0, 256);
	queue(DESC_OP_FILL, 0x1122334455667788ull, IOVA + DST_OFF, 100);
	sts = ring_and_wait();
	CHECK((sts & ST_MASK) == ST_IDLE && mem[DST_OFF] == 0x88 && mem[DST_OFF + 99] == 0x55 &&
	      mem[DST_OFF + 100] == 0, "fill, status %#llx", (unsigned long long)sts);

	/* a source the IOMMU refuses halts the channel; nothing is written */
	memset(mem + DST_OFF, 0xee, 64);
	queue(0, 0, IOVA + DST_OFF, 64);
	sts = ring_and_wait();
	CHECK((sts & ST_MASK) == ST_HALTED, "halted, status %#llx", (unsigned long long)sts);
	CHECK((rd64(CHANSTS) & ST_MASK) == ST_HALTED, "CHANSTS halted");
	/* the same registers through pread, as a driver without mmap sees them */
	CHECK(pread(s.device, vec, 8, REGION(0) + CHANSTS) == 8 && vec[0] == rd64(CHANSTS),
	      "CHANSTS by pread");
	CHECK(rd32m(CHANERR) == CHANERR_SRC, "CHANERR says source address: %#x",
	      rd32m(CHANERR));
	CHECK(pread(s.device, &cfg, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + CFG_CHANERR_INT) ==
	      4 && (cfg & CHANERR_SRC), "CHANERR_INT in config space: %#x", cfg);
	CHECK(mem[DST_OFF] == 0xee, "the halted copy wrote nothing");
	/* write-1-to-clear, then a new chain: it works again */
	wr32m(CHANERR, rd32m(CHANERR));
	CHECK(rd32m(CHANERR) == 0, "CHANERR cleared");
	chan_start();
	ioat_copies("after recovery");

	/* a child uses the inherited mapping of the engine */
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		int failed = harness_failed;

		ioat_copies("child");
		_exit(harness_failed != failed);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the child drove the engine (status %#x)", status);
	/* the child's descriptors came from its copy of our ring position */
	next_desc = (next_desc + 5) % RING;
	doorbell += 5;
	ioat_copies("parent after the child");

	for (int t = 0; t < 2; t++) {
		void *ret;

		pthread_join(th[t], &ret);
		bad += (uintptr_t)ret;
	}
	CHECK(bad == 0, "register reads from other threads: %lu wrong", (unsigned long)bad);
	munmap((void *)regs, 16 << 10);
	teardown(&s);
}

/* ---- peer-to-peer ---- */

#define RAM_BAR_SIZE	(64 << 10)
#define P2P_IOVA	0x2000000ull	/* edu reaches 28 bits of address */
#define BUF_IOVA	0x3000000ull

static void test_p2p(unsigned long iommu_type)
{
	struct vfio_setup s;
	uint8_t *bar, *buf, got[16];
	uint64_t reads_before, v;
	int edu_group, edu, iommufd, ioas;
	uint16_t cmd = 0;

	setup_device(&s, RAM_GROUP, RAM_BDF0, iommu_type);
	enable_device(s.device);
	bar = mmap(NULL, RAM_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s.device, REGION(0));
	REQUIRE(bar != MAP_FAILED, "mmap ramdev BAR0");

	/* iommufd cannot map device memory (no dma-buf here) */
	iommufd = open("/dev/iommu", O_RDWR);
	ioas = ioas_alloc(iommufd);
	CHECK(ioas > 0, "IOAS_ALLOC");
	CHECK_ERR(ioas_map(iommufd, (uint32_t)ioas, bar, RAM_BAR_SIZE, P2P_IOVA,
			   IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			   IOMMU_IOAS_MAP_WRITEABLE), EFAULT);
	/* nor can its type1 compatibility */
	struct iommu_vfio_ioas compat = { .size = sizeof(compat), .ioas_id = (uint32_t)ioas,
					  .op = IOMMU_VFIO_IOAS_SET };

	CHECK_OK(ioctl(iommufd, IOMMU_VFIO_IOAS, &compat));
	CHECK_ERR(map_dma(iommufd, bar, P2P_IOVA, RAM_BAR_SIZE,
			  VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE), EFAULT);
	close(iommufd);

	/* edu joins the container; ramdev's BAR is mapped for it */
	edu_group = open_group(EDU_GROUP);
	REQUIRE(edu_group >= 0 && ioctl(edu_group, VFIO_GROUP_SET_CONTAINER, &s.container) == 0,
		"edu's group in the container: %s", strerror(errno));
	edu = ioctl(edu_group, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF);
	REQUIRE(edu >= 0, "edu device");
	enable_device(edu);
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_OK(map_dma(s.container, buf, BUF_IOVA, 8192,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(map_dma(s.container, bar, P2P_IOVA, RAM_BAR_SIZE,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));

	/* into the RAM page */
	fill_pattern(buf, 4096, 5);
	edu_dma(edu, BUF_IOVA, EDU_BUF, 4096, 0);
	edu_dma(edu, EDU_BUF, P2P_IOVA + 0x2000, 256, 1);
	CHECK(!memcmp(bar + 0x2000, buf, 256), "edu wrote ramdev's RAM page");
	/* into the register file: register writes of the model */
	edu_dma(edu, EDU_BUF, P2P_IOVA + 0x100, 16, 1);
	CHECK(pread(s.device, got, 16, REGION(0) + 0x100) == 16 && !memcmp(got, buf, 16),
	      "edu wrote ramdev's registers");
	/* from a register with a read side effect */
	CHECK(pread(s.device, &reads_before, 8, REGION(0) + 0x18) == 8, "read counter");
	edu_dma(edu, P2P_IOVA + 0x18, EDU_BUF, 8, 0);
	edu_dma(edu, EDU_BUF, BUF_IOVA + 4096, 8, 1);
	memcpy(&v, buf + 4096, 8);
	CHECK(v == reads_before + 1, "edu read the register: %llu after %llu",
	      (unsigned long long)v, (unsigned long long)reads_before);

	/* ramdev with memory decode off claims nothing */
	CHECK(pwrite(s.device, &cmd, 2, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4) == 2, "off");
	bar[0x3000] = 0x77;
	edu_dma(edu, EDU_BUF, P2P_IOVA + 0x3000, 1, 1);
	enable_device(s.device);
	CHECK(bar[0x3000] == 0x77, "no write reaches a BAR that does not decode");

	/* the program unmaps its BAR mapping: DMA still goes to the BAR (as
	 * to pinned PFNs), never to memory that was freed */
	munmap(bar, RAM_BAR_SIZE);
	edu_dma(edu, BUF_IOVA, EDU_BUF, 16, 0);
	edu_dma(edu, EDU_BUF, P2P_IOVA + 0x4000, 16, 1);
	CHECK(pread(s.device, got, 16, REGION(0) + 0x4000) == 16 && !memcmp(got, buf, 16),
	      "after munmap the DMA still reaches the BAR");
	CHECK(unmap_dma(s.container, P2P_IOVA, RAM_BAR_SIZE, 0) == RAM_BAR_SIZE, "UNMAP_DMA");

	close(edu);
	close(edu_group);
	teardown(&s);
}

int main(void)
{
	/* the program's own handler must not see any of the register traps */
	signal(SIGSEGV, on_segv);
	test_ioat();
	test_p2p(VFIO_TYPE1_IOMMU);
	test_p2p(VFIO_TYPE1v2_IOMMU);
	return harness_done("mmio-dma");
}
