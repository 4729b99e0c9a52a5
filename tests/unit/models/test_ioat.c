// SPDX-License-Identifier: MIT
/* The I/OAT model on its own: this file plays the PCI layer (the model API
 * in uvfio/model.h, with DMA into a flat test memory where anything outside
 * faults, and interrupts counted) and the two drivers, doing what Linux's
 * ioatdma and DPDK's dmadev_ioat do to the registers. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_model_args.h"
#include "uvfio/model.h"

extern const struct uvfio_model_ops uvfio_ioat_model;

/* ---- the PCI layer, faked ---- */

#define MEM_BASE	0x100000ULL
#define MEM_SIZE	(4u << 20)

static uint8_t test_mem[MEM_SIZE];
static unsigned int dma_faults;

struct uvfio_pci_dev {
	void *priv;
	uint16_t vendor, device;
	uint32_t class_code;
	uint8_t revision, pin;
	bool pcie;
	struct uvfio_bar_desc bars[6];
	unsigned int msix_vectors;
	int msix_bar;
	uint32_t msix_table, msix_pba;
	bool msix_on;
	bool intx;
	unsigned int intx_edges;
	unsigned int msi;
	uint8_t cfg[4096], cfg_w1c[4096], cfg_claimed[4096];
};

void uvfio_pci_set_ids(struct uvfio_pci_dev *pdev, uint16_t vendor, uint16_t device,
		       uint16_t subsys_vendor, uint16_t subsys_device, uint32_t class_code,
		       uint8_t revision)
{
	(void)subsys_vendor;
	(void)subsys_device;
	pdev->vendor = vendor;
	pdev->device = device;
	pdev->class_code = class_code;
	pdev->revision = revision;
}

int uvfio_pci_add_bar(struct uvfio_pci_dev *pdev, int bar, const struct uvfio_bar_desc *desc)
{
	pdev->bars[bar] = *desc;
	return 0;
}

void uvfio_pci_set_intx_pin(struct uvfio_pci_dev *pdev, uint8_t pin)
{
	pdev->pin = pin;
}

int uvfio_pci_add_msix(struct uvfio_pci_dev *pdev, unsigned int nvectors, int bar,
		       uint32_t table_offset, uint32_t pba_offset)
{
	pdev->msix_vectors = nvectors;
	pdev->msix_bar = bar;
	pdev->msix_table = table_offset;
	pdev->msix_pba = pba_offset;
	return 0;
}

int uvfio_pci_add_pcie(struct uvfio_pci_dev *pdev)
{
	pdev->pcie = true;
	return 0;
}

int uvfio_pci_add_config_reg(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			     uint32_t val, uint32_t wmask, uint32_t w1cmask)
{
	assert_int_equal(size, 4);
	assert_int_equal(wmask & w1cmask, 0);
	memcpy(pdev->cfg + off, &val, 4);
	memcpy(pdev->cfg_w1c + off, &w1cmask, 4);
	memset(pdev->cfg_claimed + off, 1, 4);
	return 0;
}

void uvfio_pci_config_set_bits(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			       uint32_t bits)
{
	uint32_t v;

	assert_int_equal(size, 4);
	assert_true(pdev->cfg_claimed[off]);
	memcpy(&v, pdev->cfg + off, 4);
	v |= bits;
	memcpy(pdev->cfg + off, &v, 4);
}

void *uvfio_pci_priv(struct uvfio_pci_dev *pdev)
{
	return pdev->priv;
}

/* The device's own time: work scheduled by a register write runs when the
 * test lets time pass, which wr() does after every write unless told to
 * hold it. */
static void (*scheduled)(struct uvfio_pci_dev *pdev);
static unsigned int scheduled_us;
static bool hold_time;

int uvfio_pci_schedule(struct uvfio_pci_dev *pdev, unsigned int us,
		       void (*fn)(struct uvfio_pci_dev *pdev))
{
	(void)pdev;
	scheduled = fn;
	scheduled_us = us;
	return 0;
}

void uvfio_pci_cancel_scheduled(struct uvfio_pci_dev *pdev)
{
	(void)pdev;
	scheduled = NULL;
}

/* Stopped by the user (migration): the model must start nothing. */
static bool stopped;

bool uvfio_pci_stopped(const struct uvfio_pci_dev *pdev)
{
	(void)pdev;
	return stopped;
}

static int mem_check(uint64_t iova, size_t len)
{
	if (iova < MEM_BASE || len > MEM_SIZE || iova - MEM_BASE > MEM_SIZE - len) {
		dma_faults++;
		return -EFAULT;
	}
	return 0;
}

int uvfio_pci_dma_read(struct uvfio_pci_dev *pdev, uint64_t iova, void *buf, size_t len)
{
	(void)pdev;
	if (mem_check(iova, len))
		return -EFAULT;
	memcpy(buf, test_mem + (iova - MEM_BASE), len);
	return 0;
}

int uvfio_pci_dma_write(struct uvfio_pci_dev *pdev, uint64_t iova, const void *buf, size_t len)
{
	(void)pdev;
	if (mem_check(iova, len))
		return -EFAULT;
	memcpy(test_mem + (iova - MEM_BASE), buf, len);
	return 0;
}

void uvfio_pci_msi_notify(struct uvfio_pci_dev *pdev, unsigned int vector)
{
	assert_true(pdev->msix_on);
	assert_int_equal(vector, 0);
	pdev->msi++;
}

bool uvfio_pci_msix_enabled(struct uvfio_pci_dev *pdev)
{
	return pdev->msix_on;
}

void uvfio_pci_intx_set(struct uvfio_pci_dev *pdev, bool level)
{
	if (level && !pdev->intx)
		pdev->intx_edges++;
	pdev->intx = level;
}

/* ---- the driver ---- */

/* registers, as Linux's registers.h and DPDK's ioat_hw_defs.h name them */
#define CHANCNT		0x00
#define XFERCAP		0x01
#define INTRCTRL	0x03
#define ATTNSTATUS	0x04
#define CBVER		0x08
#define INTRDELAY	0x0c
#define DMACAP		0x10
#define CHANCTRL	0x80
#define DMA_COMP	0x82
#define CHANCMD		0x84
#define DMACOUNT	0x86
#define CHANSTS		0x88
#define CHAINADDR	0x90
#define CHANCMP		0x98
#define CDAR		0xa0
#define CHANERR		0xa8
#define CHANERR_MASK	0xac
#define DCACTRL		0xb0

#define CFG_CHANERR_INT	0x180

#define CTRL_INT_REARM	0x0001
#define CTRL_ERR_COMPL	0x0004
#define CTRL_ABORT_EN	0x0008
#define CTRL_ERR_INT	0x0010
#define CTRL_IN_USE	0x0100
#define CTRL_RUN	(CTRL_INT_REARM | CTRL_ERR_INT | CTRL_ERR_COMPL | CTRL_ABORT_EN)

#define CMD_RESET	0x20
#define CMD_SUSPEND	0x04

#define ST_ACTIVE	0
#define ST_IDLE		1
#define ST_SUSPENDED	2
#define ST_HALTED	3
#define ST_ARMED	4

#define INT_EN		(1u << 0)
#define COMPL		(1u << 3)
#define NULL_DESC	(1u << 5)
#define OP_FILL		(1u << 24)

#define RING		(MEM_BASE + 0x0000)	/* up to 256 descriptors */
#define COMPLETION	(MEM_BASE + 0x4000)
#define SRC		(MEM_BASE + 0x10000)
#define DST		(MEM_BASE + 0x200000)
#define BAD		0x40000000ULL		/* not mapped */

struct desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src;
	uint64_t dst;
	uint64_t next;
	uint64_t rsvd[4];
};

static struct uvfio_pci_dev dev;
static unsigned int ring_size;

static void *mem(uint64_t iova)
{
	return test_mem + (iova - MEM_BASE);
}

static uint64_t rd(uint64_t off, unsigned int size)
{
	return uvfio_ioat_model.bar_read(&dev, 0, off, size);
}

static void let_time_pass(void)
{
	void (*fn)(struct uvfio_pci_dev *pdev) = scheduled;

	scheduled = NULL;
	if (fn)
		fn(&dev);
}

static void wr(uint64_t off, unsigned int size, uint64_t val)
{
	uvfio_ioat_model.bar_write(&dev, 0, off, size, val);
	if (!hold_time)
		let_time_pass();
}

static uint32_t cfg32(unsigned int off)
{
	uint32_t v;

	memcpy(&v, dev.cfg + off, 4);
	return v;
}

static uint64_t completion(void)
{
	uint64_t v;

	memcpy(&v, mem(COMPLETION), 8);
	return v;
}

static uint64_t desc_addr(unsigned int i)
{
	return RING + 64ULL * (i % ring_size);
}

/* A ring whose descriptors point each to the next, as both drivers build. */
static void ring_init(unsigned int n)
{
	ring_size = n;
	memset(mem(RING), 0, 64ULL * n);
	for (unsigned int i = 0; i < n; i++) {
		struct desc *d = mem(desc_addr(i));

		d->next = desc_addr(i + 1);
	}
}

static void set_desc(unsigned int i, uint32_t ctl, uint64_t src, uint64_t dst, uint32_t size)
{
	struct desc *d = mem(desc_addr(i));

	d->size = size;
	d->ctl = ctl;
	d->src = src;
	d->dst = dst;
}

static int setup(void **state)
{
	(void)state;
	memset(test_mem, 0, sizeof(test_mem));
	dma_faults = 0;
	scheduled = NULL;
	hold_time = false;
	memset(&dev, 0, sizeof(dev));
	dev.priv = calloc(1, uvfio_ioat_model.priv_size);
	assert_non_null(dev.priv);
	assert_int_equal(uvfio_ioat_model.create(&dev, NULL), 0);
	return 0;
}

/* "version" picks what CBVER reads; anything but 3.2-3.4 is refused. */
static void test_version_arg(void **state)
{
	struct uvfio_model_args args = { .n = 1, .kv = { { "version", "3.2" } } };

	(void)state;
	assert_int_equal(uvfio_ioat_model.create(&dev, &args), 0);
	assert_int_equal(rd(CBVER, 1), 0x32);
	args.kv[0][1] = "3.5";
	assert_int_equal(uvfio_ioat_model.create(&dev, &args), -EINVAL);
	args.kv[0][1] = "32";
	assert_int_equal(uvfio_ioat_model.create(&dev, &args), -EINVAL);
}

static int teardown(void **state)
{
	(void)state;
	free(dev.priv);
	dev.priv = NULL;
	return 0;
}

/* ioat_dmadev_create() then ioat_dev_start(): 64-bit register writes. */
static void dpdk_start(void)
{
	uint32_t err;

	if (rd(CHANCTRL, 2) & CTRL_IN_USE)
		wr(CHANCTRL, 2, 0);
	err = rd(CHANERR, 4);
	if (err)
		wr(CHANERR, 4, err);
	wr(CHANCMD, 1, CMD_SUSPEND);
	wr(CHANCMD, 1, CMD_RESET);
	assert_int_equal(rd(CHANCMD, 1) & CMD_RESET, 0);
	wr(CHANCTRL, 2, CTRL_ABORT_EN | CTRL_ERR_COMPL);
	wr(CHAINADDR, 8, RING);
	wr(CHANCMP, 8, COMPLETION);
	assert_int_not_equal(rd(CHANSTS, 8) & 7, ST_HALTED);
}

/* __ioat_recover(): clear CHANERR, reset, the chain from after the failed
 * descriptor, wait for ARMED. */
static void dpdk_recover(unsigned int next)
{
	uint32_t err = rd(CHANERR, 4);

	wr(CHANERR, 4, err);
	wr(CHANCMD, 1, CMD_RESET);
	wr(CHAINADDR, 8, desc_addr(next));
	wr(CHANCTRL, 2, CTRL_ABORT_EN | CTRL_ERR_COMPL);
	wr(CHANCMP, 8, COMPLETION);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
}

/* ioat_alloc_chan_resources(): 32-bit halves, a null descriptor. */
static void linux_start(void)
{
	wr(CHANCTRL, 2, CTRL_RUN);
	wr(CHANCMP, 4, (uint32_t)COMPLETION);
	wr(CHANCMP + 4, 4, COMPLETION >> 32);
	set_desc(0, NULL_DESC | INT_EN | COMPL, 0, 0, 1);
	wr(CHAINADDR, 4, (uint32_t)RING);
	wr(CHAINADDR + 4, 4, RING >> 32);
	wr(DMACOUNT, 2, 1);
}

static void fill_pattern(uint64_t iova, size_t len, unsigned int seed)
{
	uint8_t *p = mem(iova);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* ---- tests ---- */

static void test_identity(void **state)
{
	(void)state;
	assert_int_equal(dev.vendor, 0x8086);
	assert_int_equal(dev.device, 0x2021);
	assert_int_equal(dev.class_code, 0x088000);
	assert_int_equal(dev.revision, 0x04);
	assert_int_equal(dev.bars[0].kind, UVFIO_BAR_MEM64);
	assert_int_equal(dev.bars[0].size, 16 << 10);
	assert_false(dev.bars[0].prefetchable);
	assert_int_equal(dev.msix_vectors, 1);
	assert_int_equal(dev.msix_bar, 0);
	assert_int_equal(dev.msix_table, 0x2000);
	assert_int_equal(dev.msix_pba, 0x3000);
	assert_true(dev.pcie);
	assert_int_equal(dev.pin, 1);
	assert_true(dev.cfg_claimed[0x148] && dev.cfg_claimed[0x180] && dev.cfg_claimed[0x184]);

	assert_int_equal(rd(CHANCNT, 1), 1);
	assert_int_equal(rd(XFERCAP, 1), 20);
	assert_int_equal(rd(CBVER, 1), 0x34);
	assert_true(rd(DMACAP, 4) & 0x40);		/* block fill */
	assert_false(rd(DMACAP, 4) & 0x300);		/* no XOR, no PQ */
	assert_int_equal(rd(INTRDELAY, 2), 0x8000);
	assert_int_equal(rd(DMA_COMP, 2), 3);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
	assert_int_equal(rd(CHANERR, 4), 0);
	/* a 4-byte read at 0 returns CHANCNT, XFERCAP, GENCTRL, INTRCTRL */
	assert_int_equal(rd(0, 4), 0x1401);
	/* nothing beyond the channel */
	assert_int_equal(rd(0x100, 4), 0);
	assert_int_equal(rd(0x1ff8, 8), 0);
}

static void test_chan_reset_and_in_use(void **state)
{
	(void)state;
	/* the first read claims the channel, the next ones see it claimed */
	assert_int_equal(rd(CHANCTRL, 2), 0);
	assert_int_equal(rd(CHANCTRL, 2), CTRL_IN_USE);
	wr(CHANCTRL, 2, 0);
	assert_int_equal(rd(CHANCTRL + 1, 1), 0);

	wr(CHANCTRL, 2, CTRL_RUN);
	wr(DCACTRL, 4, 0xffffffff);
	assert_int_equal(rd(DCACTRL, 4), 0xffffffff);
	wr(CHAINADDR, 8, RING);
	wr(CHANCMD, 1, CMD_RESET);
	assert_int_equal(rd(CHANCMD, 1), 0);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
	assert_int_equal(rd(CHANCTRL, 2), 0);
	assert_int_equal(rd(DMACOUNT, 2), 0);
	assert_int_equal(rd(DCACTRL, 4), 0);
}

static void test_copy_ring(void **state)
{
	static const uint32_t sizes[] = { 1, 7, 4096, 65536 + 100, 1u << 20 };
	uint64_t src = SRC, dst = DST;

	(void)state;
	ring_init(64);
	dpdk_start();
	for (unsigned int i = 0; i < 5; i++) {
		fill_pattern(src, sizes[i], i);
		set_desc(i, COMPL, src, dst, sizes[i]);
		src += sizes[i] + 64;
		dst += sizes[i] + 64;
	}
	/* descriptors only run once the doorbell counts them */
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
	wr(DMACOUNT, 2, 5);
	assert_int_equal(rd(DMACOUNT, 2), 5);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(4) | ST_IDLE);
	assert_int_equal(completion(), desc_addr(4) | ST_IDLE);
	assert_int_equal(rd(CDAR, 8), desc_addr(5));
	src = SRC;
	dst = DST;
	for (unsigned int i = 0; i < 5; i++) {
		assert_memory_equal(mem(src), mem(dst), sizes[i]);
		/* not a byte more */
		assert_int_equal(*(uint8_t *)mem(dst + sizes[i]), 0);
		src += sizes[i] + 64;
		dst += sizes[i] + 64;
	}
	assert_int_equal(dma_faults, 0);
}

/* The doorbell write only starts the channel: it is ACTIVE, nothing is
 * copied and no completion is written until its latency has passed; a reset
 * meanwhile drops the work. */
static void test_work_after_doorbell(void **state)
{
	struct uvfio_model_args args = { .n = 1, .kv = { { "latency_us", "20" } } };

	(void)state;
	assert_int_equal(uvfio_ioat_model.create(&dev, &args), 0);
	ring_init(32);
	dpdk_start();
	fill_pattern(SRC, 256, 3);
	set_desc(0, COMPL, SRC, DST, 256);
	set_desc(1, COMPL, SRC, DST + 512, 256);
	hold_time = true;
	wr(DMACOUNT, 2, 1);
	assert_non_null(scheduled);
	assert_int_equal(scheduled_us, 20);
	assert_int_equal(rd(CHANSTS, 8) & 7, ST_ACTIVE);
	assert_int_equal(completion(), 0);
	assert_int_equal(*(uint8_t *)mem(DST), 0);
	/* a second doorbell before the work ran: one run does both */
	wr(DMACOUNT, 2, 2);
	let_time_pass();
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_IDLE);
	assert_int_equal(completion(), desc_addr(1) | ST_IDLE);
	assert_memory_equal(mem(SRC), mem(DST), 256);
	assert_memory_equal(mem(SRC), mem(DST + 512), 256);

	/* reset while work is pending: none of it happens */
	set_desc(2, COMPL, SRC, DST + 1024, 256);
	wr(DMACOUNT, 2, 3);
	assert_non_null(scheduled);
	wr(CHANCMD, 1, CMD_RESET);
	assert_null(scheduled);
	assert_int_equal(*(uint8_t *)mem(DST + 1024), 0);
	args.kv[0][1] = "x";
	assert_int_equal(uvfio_ioat_model.create(&dev, &args), -EINVAL);
}

/* A long chain runs a turn at a time (1 MiB of work each), staying ACTIVE
 * in between, so the daemon serves other clients meanwhile. */
static void test_long_chain_in_turns(void **state)
{
	const uint32_t size = 256u << 10;

	(void)state;
	ring_init(32);
	dpdk_start();
	fill_pattern(SRC, size, 5);
	for (unsigned int i = 0; i < 16; i++)
		set_desc(i, COMPL, SRC, DST + (i % 4) * size, size);
	hold_time = true;
	wr(DMACOUNT, 2, 16);
	for (unsigned int turn = 1; turn < 4; turn++) {
		let_time_pass();
		/* four descriptors a turn; the next turn is due at once */
		assert_int_equal(rd(CHANSTS, 8), desc_addr(4 * turn - 1) | ST_ACTIVE);
		assert_non_null(scheduled);
		assert_int_equal(scheduled_us, 0);
	}
	let_time_pass();
	assert_int_equal(rd(CHANSTS, 8), desc_addr(15) | ST_IDLE);
	assert_null(scheduled);
	for (unsigned int i = 0; i < 4; i++)
		assert_memory_equal(mem(SRC), mem(DST + i * size), size);
	hold_time = false;
}

/* Migration: stopped, the engine holds the work a doorbell made available;
 * its state saved mid-chain and loaded into a reset channel, the work goes
 * on when the function runs again. */
static void test_save_load(void **state)
{
	const uint32_t size = 256u << 10;
	uint8_t saved[512];
	size_t len;

	(void)state;
	ring_init(32);
	dpdk_start();
	fill_pattern(SRC, size, 9);
	for (unsigned int i = 0; i < 8; i++)
		set_desc(i, COMPL, SRC, DST + (i % 4) * size, size);
	hold_time = true;
	wr(DMACOUNT, 2, 8);
	let_time_pass();		/* one turn: four descriptors */
	assert_int_equal(rd(CHANSTS, 8), desc_addr(3) | ST_ACTIVE);
	stopped = true;
	let_time_pass();		/* the next turn, stopped: nothing */
	assert_int_equal(rd(CHANSTS, 8), desc_addr(3) | ST_ACTIVE);
	len = uvfio_ioat_model.save(&dev, NULL, 0);
	assert_true(len <= sizeof(saved));
	assert_int_equal(uvfio_ioat_model.save(&dev, saved, sizeof(saved)), len);

	uvfio_ioat_model.reset(&dev);
	assert_int_not_equal(rd(CHANSTS, 8), desc_addr(3) | ST_ACTIVE);
	assert_int_equal(uvfio_ioat_model.load(&dev, saved, len - 1), -EINVAL);
	assert_int_equal(uvfio_ioat_model.load(&dev, saved, len), 0);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(3) | ST_ACTIVE);
	stopped = false;
	uvfio_ioat_model.run(&dev);
	assert_non_null(scheduled);
	while (scheduled)
		let_time_pass();
	assert_int_equal(rd(CHANSTS, 8), desc_addr(7) | ST_IDLE);
	for (unsigned int i = 0; i < 4; i++)
		assert_memory_equal(mem(SRC), mem(DST + i * size), size);
	hold_time = false;
}

/* A channel coming out of an error starts its work later (DPDK's recovery
 * counts on it); the doorbell after that is back to the usual latency. */
static void test_restart_latency(void **state)
{
	(void)state;
	ring_init(32);
	dpdk_start();
	set_desc(0, COMPL, 0, DST, 64);			/* the IOMMU refuses 0 */
	wr(DMACOUNT, 2, 1);
	assert_int_equal(rd(CHANSTS, 8) & 7, ST_HALTED);
	dpdk_recover(1);
	fill_pattern(SRC, 64, 1);
	set_desc(1, COMPL, SRC, DST, 64);
	set_desc(2, COMPL, SRC, DST + 64, 64);
	hold_time = true;
	wr(DMACOUNT, 2, 1);
	assert_int_equal(scheduled_us, 20000);
	let_time_pass();
	assert_int_equal(completion(), desc_addr(1) | ST_IDLE);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(scheduled_us, 500);
	let_time_pass();
	assert_memory_equal(mem(SRC), mem(DST + 64), 64);
}

static void test_fill(void **state)
{
	const uint64_t pattern = 0x0807060504030201ULL;

	(void)state;
	ring_init(32);
	dpdk_start();
	set_desc(0, OP_FILL | COMPL, pattern, DST + 3, 100);
	set_desc(1, OP_FILL | COMPL, pattern, DST + 0x1000, 70000);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(completion(), desc_addr(1) | ST_IDLE);
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(*(uint8_t *)mem(DST + 3 + i), (i % 8) + 1);
	assert_int_equal(*(uint8_t *)mem(DST + 2), 0);
	assert_int_equal(*(uint8_t *)mem(DST + 103), 0);
	for (unsigned int i = 0; i < 70000; i++)
		assert_int_equal(*(uint8_t *)mem(DST + 0x1000 + i), (i % 8) + 1);
	assert_int_equal(*(uint8_t *)mem(DST + 0x1000 + 70000), 0);
}

static void test_completion_writeback(void **state)
{
	(void)state;
	ring_init(32);
	linux_start();
	/* the null descriptor completed: IDLE, written where CHANCMP says */
	assert_int_equal(rd(CHANSTS, 8), RING | ST_IDLE);
	assert_int_equal(rd(CHANSTS, 4), (uint32_t)RING | ST_IDLE);	/* low half first */
	assert_int_equal(rd(CHANSTS + 4, 4), RING >> 32);
	assert_int_equal(completion(), RING | ST_IDLE);
	assert_int_equal(rd(CHANCMP, 8), COMPLETION);
	assert_int_equal(rd(CHAINADDR, 8), RING);

	/* without compl_write the status moves but memory keeps the old one */
	fill_pattern(SRC, 64, 1);
	set_desc(1, 0, SRC, DST, 64);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_IDLE);
	assert_int_equal(completion(), RING | ST_IDLE);
	/* a batch writes the status of each descriptor that asks: ACTIVE for
	 * all but the last */
	set_desc(2, COMPL, SRC, DST, 64);
	set_desc(3, 0, SRC, DST, 64);
	set_desc(4, 0, SRC, DST, 64);
	wr(DMACOUNT, 2, 5);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(4) | ST_IDLE);
	assert_int_equal(completion(), desc_addr(2));

	/* CHANCMP moved: the next completion goes there */
	wr(CHANCMP, 8, COMPLETION + 0x100);
	set_desc(5, COMPL, SRC, DST, 64);
	wr(DMACOUNT, 2, 6);
	assert_int_equal(*(uint64_t *)mem(COMPLETION + 0x100), desc_addr(5) | ST_IDLE);
}

static void test_dmacount_wraps(void **state)
{
	uint16_t count = 0;
	unsigned int total = 0;

	(void)state;
	ring_init(32);
	dpdk_start();
	for (unsigned int i = 0; i < 32; i++)
		set_desc(i, NULL_DESC | COMPL, 0, 0, 1);
	/* DPDK keeps one slot free: batches of 31, past 65535 and round */
	while (total < 70000) {
		count += 31;
		total += 31;
		wr(DMACOUNT, 2, count);
		assert_int_equal(completion(), desc_addr(total - 1) | ST_IDLE);
	}
	assert_true(count < total);
	assert_int_equal(rd(DMACOUNT, 2), count);
	assert_int_equal(dma_faults, 0);
}

static void test_interrupts(void **state)
{
	(void)state;
	ring_init(32);
	for (unsigned int i = 1; i < 32; i++)
		set_desc(i, NULL_DESC | COMPL | INT_EN, 0, 0, 1);

	/* no interrupt before the driver enables them */
	dev.msix_on = true;
	linux_start();
	assert_int_equal(dev.msi, 0);
	wr(INTRCTRL, 1, 0x01 | 0x08);		/* master enable, MSI-X vectors */
	assert_int_equal(rd(INTRCTRL, 1) & 0x09, 0x09);
	/* the null descriptor used up the arming: arm again */
	wr(CHANCTRL, 2, CTRL_RUN);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(dev.msi, 1);
	/* one per arming: the next completion waits for the re-arm */
	wr(DMACOUNT, 2, 3);
	assert_int_equal(dev.msi, 1);
	wr(CHANCTRL, 2, CTRL_RUN);
	assert_int_equal(dev.msi, 2);
	/* descriptors without int_en do not interrupt */
	set_desc(3, NULL_DESC | COMPL, 0, 0, 1);
	wr(DMACOUNT, 2, 4);
	assert_int_equal(dev.msi, 2);

	/* INTx: level until ATTNSTATUS is read */
	dev.msix_on = false;
	rd(ATTNSTATUS, 4);
	wr(INTRCTRL, 1, 0x01);
	wr(CHANCTRL, 2, CTRL_RUN);
	assert_false(dev.intx);
	wr(DMACOUNT, 2, 5);
	assert_true(dev.intx);
	assert_int_equal(rd(INTRCTRL, 1), 0x01 | 0x02 | 0x04);
	assert_int_equal(rd(ATTNSTATUS, 4), 1);
	assert_false(dev.intx);
	assert_int_equal(rd(ATTNSTATUS, 4), 0);
	assert_int_equal(rd(INTRCTRL, 1), 0x01);

	/* an error interrupts with ERR_INT_EN, armed or not */
	set_desc(5, 0, BAD, DST, 64);
	wr(DMACOUNT, 2, 6);
	assert_int_equal(rd(CHANSTS, 8) & 7, ST_HALTED);
	assert_true(dev.intx);
	assert_int_equal(dev.intx_edges, 2);
}

/* The DPDK sequence around one failing copy among good ones. */
static void check_fault_and_recover(uint32_t ctl, uint64_t src, uint64_t dst, uint32_t size,
				    uint32_t want_err)
{
	ring_init(32);
	dpdk_start();
	fill_pattern(SRC, 4096, 3);
	set_desc(0, COMPL, SRC, DST, 4096);
	set_desc(1, COMPL, SRC, DST + 0x2000, 4096);
	set_desc(2, ctl | COMPL, src, dst, size);
	set_desc(3, COMPL, SRC, DST + 0x4000, 4096);
	set_desc(4, COMPL, SRC, DST + 0x6000, 4096);
	wr(DMACOUNT, 2, 5);

	/* halted on descriptor 2; the status names descriptor 1 */
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_HALTED);
	assert_int_equal(completion(), desc_addr(1) | ST_HALTED);
	assert_int_equal(rd(CHANERR, 4), want_err);
	assert_int_equal(cfg32(CFG_CHANERR_INT), want_err);
	assert_memory_equal(mem(DST + 0x2000), mem(SRC), 4096);
	/* the failed one and the ones after it wrote nothing */
	for (unsigned int i = 0; i < 4096; i++) {
		assert_int_equal(*(uint8_t *)mem(DST + 0x1000 + i), 0);
		assert_int_equal(*(uint8_t *)mem(DST + 0x4000 + i), 0);
	}
	/* more doorbells do nothing while halted */
	wr(DMACOUNT, 2, 6);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_HALTED);

	/* ioat_completed(): recover from descriptor 3 and resubmit the rest */
	dpdk_recover(3);
	assert_int_equal(rd(CHANERR, 4), 0);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(4) | ST_IDLE);
	assert_int_equal(completion(), desc_addr(4) | ST_IDLE);
	assert_memory_equal(mem(DST + 0x4000), mem(SRC), 4096);
	assert_memory_equal(mem(DST + 0x6000), mem(SRC), 4096);
}

static void test_fault_source(void **state)
{
	(void)state;
	check_fault_and_recover(0, BAD, DST + 0x1000, 4096, 0x0001);
	assert_int_not_equal(dma_faults, 0);
}

static void test_fault_destination(void **state)
{
	(void)state;
	/* the page after the test memory: a copy that ends outside */
	check_fault_and_recover(0, SRC, MEM_BASE + MEM_SIZE - 100, 4096, 0x0002);
}

static void test_fault_fill_destination(void **state)
{
	(void)state;
	check_fault_and_recover(OP_FILL, 0x1234, BAD, 64, 0x0002);
}

static void test_length_beyond_xfercap(void **state)
{
	(void)state;
	check_fault_and_recover(0, SRC, DST + 0x1000, (1u << 20) + 1, 0x0800);
	assert_int_equal(dma_faults, 0);
}

static void test_unknown_op(void **state)
{
	(void)state;
	check_fault_and_recover(0x87u << 24, SRC, DST + 0x1000, 64, 0x0400);	/* XOR */
}

static void test_fault_descriptor(void **state)
{
	(void)state;
	ring_init(32);
	dpdk_start();
	/* the chain points where nothing is mapped */
	wr(CHAINADDR, 8, BAD);
	wr(DMACOUNT, 2, 1);
	/* nothing completed in this chain: the address is 0 */
	assert_int_equal(rd(CHANSTS, 8), ST_HALTED);
	assert_int_equal(completion(), ST_HALTED);
	assert_int_equal(rd(CHANERR, 4), 0x0100);	/* read data error */
	assert_int_equal(cfg32(CFG_CHANERR_INT), 0x0100);

	/* a misaligned next pointer after a good descriptor */
	wr(CHANERR, 4, 0x0100);
	wr(CHANCMD, 1, CMD_RESET);
	/* a reset forgets CHANCTRL and CHANCMP: drivers program them again */
	assert_int_equal(rd(CHANCMP, 8), 0);
	wr(CHANCTRL, 2, CTRL_ABORT_EN | CTRL_ERR_COMPL);
	wr(CHANCMP, 8, COMPLETION);
	set_desc(0, NULL_DESC | COMPL, 0, 0, 1);
	((struct desc *)mem(desc_addr(0)))->next = RING + 0x48;
	wr(CHAINADDR, 8, RING);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_HALTED);
	assert_int_equal(rd(CHANERR, 4), 0x0008);
	assert_int_equal(cfg32(CFG_CHANERR_INT), 0x0108);
}

static void test_completion_address_fault(void **state)
{
	(void)state;
	ring_init(32);
	dpdk_start();
	wr(CHANCMP, 8, BAD);
	set_desc(0, NULL_DESC | COMPL, 0, 0, 1);
	wr(DMACOUNT, 2, 1);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_HALTED);
	assert_int_equal(rd(CHANERR, 4), 0x1000);
}

static void test_chanerr_w1c(void **state)
{
	(void)state;
	ring_init(32);
	dpdk_start();
	set_desc(0, 0, BAD, DST, 64);
	set_desc(1, COMPL, SRC, DST, 64);
	wr(DMACOUNT, 2, 1);
	wr(CHANCTRL, 2, CTRL_ABORT_EN | CTRL_ERR_COMPL);
	/* a written 0 keeps a bit, a written 1 clears it */
	wr(CHANERR, 4, 0x0002);
	assert_int_equal(rd(CHANERR, 4), 0x0001);
	wr(CHANERR, 1, 0x00);
	assert_int_equal(rd(CHANERR, 4), 0x0001);
	/* while an error is logged a new chain does not leave HALTED */
	wr(CHAINADDR, 8, desc_addr(1));
	assert_int_equal(rd(CHANSTS, 8) & 7, ST_HALTED);
	wr(DMACOUNT, 2, 1);
	assert_int_equal(rd(CHANSTS, 8) & 7, ST_HALTED);
	/* nor does a reset */
	wr(CHANCMD, 1, CMD_RESET);
	assert_int_equal(rd(CHANSTS, 8), ST_HALTED);
	wr(CHANERR, 4, 0x0001);
	assert_int_equal(rd(CHANERR, 4), 0);
	wr(CHANCMP, 8, COMPLETION);
	/* Linux's ioat_eh() restart: no reset, a new chain, a doorbell */
	wr(CHAINADDR, 4, (uint32_t)desc_addr(1));
	wr(CHAINADDR + 4, 4, desc_addr(1) >> 32);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
	wr(DMACOUNT, 2, 1);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_IDLE);
	/* CHANERR_MASK is plain storage */
	wr(CHANERR_MASK, 4, 0x30000);
	assert_int_equal(rd(CHANERR_MASK, 4), 0x30000);
}

static void test_suspend(void **state)
{
	(void)state;
	ring_init(32);
	dpdk_start();
	set_desc(0, NULL_DESC | COMPL, 0, 0, 1);
	set_desc(1, NULL_DESC | COMPL, 0, 0, 1);
	wr(DMACOUNT, 2, 1);
	/* ioat_dev_stop() */
	wr(CHANCMD, 1, CMD_SUSPEND);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_SUSPENDED);
	wr(DMACOUNT, 2, 2);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_SUSPENDED);
	/* resume carries on with what the doorbell counted meanwhile */
	wr(CHANCMD, 1, 0x10);
	assert_int_equal(rd(CHANSTS, 8), desc_addr(1) | ST_IDLE);
	/* ioat_dev_start() again: a new chain */
	wr(CHANCMD, 1, CMD_SUSPEND);
	wr(CHAINADDR, 8, RING);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
}

static void test_reset_op(void **state)
{
	char line[160];

	(void)state;
	ring_init(32);
	dev.msix_on = false;
	wr(INTRCTRL, 1, 0x01);
	dpdk_start();
	wr(CHANCTRL, 2, CTRL_ABORT_EN | CTRL_ERR_COMPL | CTRL_ERR_INT);
	set_desc(0, 0, BAD, DST, 64);
	wr(DMACOUNT, 2, 1);
	assert_true(dev.intx);
	uvfio_ioat_model.describe(&dev, line, sizeof(line));
	assert_string_equal(line, "channel halted, chanerr 0x1, 0 descriptors, 0 bytes, 1 errors");

	uvfio_ioat_model.reset(&dev);
	assert_false(dev.intx);
	assert_int_equal(rd(CHANSTS, 8), ST_ARMED);
	assert_int_equal(rd(CHANERR, 4), 0);
	assert_int_equal(rd(CHANCTRL, 2), 0);
	assert_int_equal(rd(INTRCTRL, 1), 0);
	assert_int_equal(rd(ATTNSTATUS, 4), 0);
	assert_int_equal(rd(CHAINADDR, 8), 0);
	assert_int_equal(rd(CHANCMP, 8), 0);
	assert_int_equal(rd(DMACOUNT, 2), 0);

	/* and it works from there */
	dpdk_start();
	fill_pattern(SRC, 256, 9);
	set_desc(0, COMPL, SRC, DST, 256);
	wr(DMACOUNT, 2, 1);
	assert_memory_equal(mem(DST), mem(SRC), 256);
	uvfio_ioat_model.describe(&dev, line, sizeof(line));
	assert_string_equal(line, "channel idle, chanerr 0, 1 descriptors, 256 bytes, 1 errors");
}

static void test_wide_and_narrow_writes(void **state)
{
	(void)state;
	/* CHANCMP and CHAINADDR byte by byte, CHANCTRL+CHANCMD+DMACOUNT in one */
	for (unsigned int i = 0; i < 8; i++)
		wr(CHANCMP + i, 1, (COMPLETION >> (8 * i)) & 0xff);
	assert_int_equal(rd(CHANCMP, 8), COMPLETION);
	ring_init(32);
	set_desc(0, NULL_DESC | COMPL, 0, 0, 1);
	wr(CHAINADDR, 8, RING);
	wr(CHANCTRL, 8, (uint64_t)1 << 48 | CTRL_ERR_COMPL);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_IDLE);
	assert_int_equal(rd(CHANCTRL, 2), CTRL_ERR_COMPL);
	/* read-only registers ignore writes */
	wr(CHANSTS, 8, 0);
	wr(CBVER, 1, 0);
	assert_int_equal(rd(CHANSTS, 8), RING | ST_IDLE);
	assert_int_equal(rd(CBVER, 1), 0x34);
	/* INTRDELAY keeps the delay, the coalescing bit is the hardware's */
	wr(INTRDELAY, 2, 0x7fff);
	assert_int_equal(rd(INTRDELAY, 2), 0xbfff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_arg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_work_after_doorbell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_chain_in_turns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chan_reset_and_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completion_writeback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmacount_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fill_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_length_beyond_xfercap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_descriptor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completion_address_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chanerr_w1c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_and_narrow_writes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
