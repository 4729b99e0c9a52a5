// SPDX-License-Identifier: MIT
/*
 * QEMU's "edu" educational device (hw/misc/edu.c, docs/specs/edu.rst),
 * register for register, as a PCI Express endpoint.  Two differences, both
 * deliberate: the factorial and DMA complete at once (QEMU uses a thread and
 * a 100 ms timer, so a driver polling the status sees the same result), and
 * a DMA outside the device's buffer is refused instead of performed.
 *
 * Model argument: "dma_mask" (default 0xfffffff): like QEMU's property, the
 * RAM-side address of a DMA is masked with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uvfio/model.h"

#define EDU_ID			0x010000edu

#define REG_ID			0x00
#define REG_LIVENESS		0x04
#define REG_FACT		0x08
#define REG_STATUS		0x20
#define REG_IRQ_STATUS		0x24
#define REG_IRQ_RAISE		0x60
#define REG_IRQ_ACK		0x64
#define REG_DMA_SRC		0x80
#define REG_DMA_DST		0x88
#define REG_DMA_CNT		0x90
#define REG_DMA_CMD		0x98

#define STATUS_IRQFACT		0x80

#define IRQ_FACT		0x00000001
#define IRQ_DMA			0x00000100

#define DMA_RUN			0x1
#define DMA_DIR_TO_RAM		0x2	/* 0: RAM -> buffer, 1: buffer -> RAM */
#define DMA_IRQ			0x4

#define DMA_START		0x40000
#define DMA_SIZE		4096

struct edu {
	uint32_t liveness;
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint64_t dma_mask;
	uint8_t buf[DMA_SIZE];
};

static void edu_raise_irq(struct uvfio_pci_dev *pdev, uint32_t val)
{
	struct edu *edu = uvfio_pci_priv(pdev);

	edu->irq_status |= val;
	if (!edu->irq_status)
		return;
	if (uvfio_pci_msi_enabled(pdev))
		uvfio_pci_msi_notify(pdev, 0);
	else
		uvfio_pci_intx_set(pdev, true);
}

static void edu_lower_irq(struct uvfio_pci_dev *pdev, uint32_t val)
{
	struct edu *edu = uvfio_pci_priv(pdev);

	edu->irq_status &= ~val;
	if (!edu->irq_status && !uvfio_pci_msi_enabled(pdev))
		uvfio_pci_intx_set(pdev, false);
}

/* [addr, addr+cnt) inside the device buffer, and not empty (QEMU's
 * edu_check_range). */
static bool in_buffer(uint64_t addr, uint64_t cnt)
{
	uint64_t end = addr + cnt;

	return end > addr && addr >= DMA_START && end <= DMA_START + DMA_SIZE;
}

static void edu_do_dma(struct uvfio_pci_dev *pdev)
{
	struct edu *edu = uvfio_pci_priv(pdev);
	int ret;

	if (edu->dma_cmd & DMA_DIR_TO_RAM) {
		if (!in_buffer(edu->dma_src, edu->dma_cnt))
			goto out;
		ret = uvfio_pci_dma_write(pdev, edu->dma_dst & edu->dma_mask,
					  edu->buf + (edu->dma_src - DMA_START), edu->dma_cnt);
	} else {
		if (!in_buffer(edu->dma_dst, edu->dma_cnt))
			goto out;
		ret = uvfio_pci_dma_read(pdev, edu->dma_src & edu->dma_mask,
					 edu->buf + (edu->dma_dst - DMA_START), edu->dma_cnt);
	}
	edu->dma_cmd &= ~DMA_RUN;
	if (!ret && (edu->dma_cmd & DMA_IRQ))
		edu_raise_irq(pdev, IRQ_DMA);
	return;
out:
	edu->dma_cmd &= ~DMA_RUN;
}

static uint64_t edu_read(struct uvfio_pci_dev *pdev, int bar, uint64_t addr, unsigned int size)
{
	struct edu *edu = uvfio_pci_priv(pdev);
	uint64_t val = ~0ULL;

	(void)bar;
	if (addr < 0x80 && size != 4)
		return val;
	if (addr >= 0x80 && size != 4 && size != 8)
		return val;

	switch (addr) {
	case REG_ID:
		val = EDU_ID;
		break;
	case REG_LIVENESS:
		val = edu->liveness;
		break;
	case REG_FACT:
		val = edu->fact;
		break;
	case REG_STATUS:
		val = edu->status;
		break;
	case REG_IRQ_STATUS:
		val = edu->irq_status;
		break;
	case REG_DMA_SRC:
		val = edu->dma_src;
		break;
	case REG_DMA_DST:
		val = edu->dma_dst;
		break;
	case REG_DMA_CNT:
		val = edu->dma_cnt;
		break;
	case REG_DMA_CMD:
		val = edu->dma_cmd;
		break;
	}
	return size == 4 ? (uint32_t)val : val;
}

static uint32_t factorial(uint32_t n)
{
	uint32_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

static void edu_write(struct uvfio_pci_dev *pdev, int bar, uint64_t addr, unsigned int size,
		      uint64_t val)
{
	struct edu *edu = uvfio_pci_priv(pdev);

	(void)bar;
	if (addr < 0x80 && size != 4)
		return;
	if (addr >= 0x80 && size != 4 && size != 8)
		return;
	if (size == 4)
		val = (uint32_t)val;

	switch (addr) {
	case REG_LIVENESS:
		edu->liveness = ~val;
		break;
	case REG_FACT:
		/* computed at once, so the "computing" status bit (0x01) is never seen set */
		edu->fact = factorial(val);
		if (edu->status & STATUS_IRQFACT)
			edu_raise_irq(pdev, IRQ_FACT);
		break;
	case REG_STATUS:
		edu->status = (edu->status & ~STATUS_IRQFACT) | (val & STATUS_IRQFACT);
		break;
	case REG_IRQ_RAISE:
		edu_raise_irq(pdev, val);
		break;
	case REG_IRQ_ACK:
		edu_lower_irq(pdev, val);
		break;
	case REG_DMA_SRC:
		if (!(edu->dma_cmd & DMA_RUN))
			edu->dma_src = val;
		break;
	case REG_DMA_DST:
		if (!(edu->dma_cmd & DMA_RUN))
			edu->dma_dst = val;
		break;
	case REG_DMA_CNT:
		if (!(edu->dma_cmd & DMA_RUN))
			edu->dma_cnt = val;
		break;
	case REG_DMA_CMD:
		if (!(val & DMA_RUN) || (edu->dma_cmd & DMA_RUN))
			break;
		edu->dma_cmd = val;
		edu_do_dma(pdev);
		break;
	}
}

static void edu_reset(struct uvfio_pci_dev *pdev)
{
	struct edu *edu = uvfio_pci_priv(pdev);
	uint64_t mask = edu->dma_mask;

	memset(edu, 0, sizeof(*edu));
	edu->dma_mask = mask;
}

static int edu_create(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args)
{
	struct edu *edu = uvfio_pci_priv(pdev);
	const struct uvfio_bar_desc bar0 = {
		.kind = UVFIO_BAR_MEM32,
		.size = 1 << 20,
	};
	const char *mask = uvfio_model_arg(args, "dma_mask");
	int ret;

	edu->dma_mask = (1ULL << 28) - 1;
	if (mask) {
		char *end;

		edu->dma_mask = strtoull(mask, &end, 0);
		if (!*mask || *end)
			return -EINVAL;
	}
	/* QEMU's subsystem IDs for its own devices: Red Hat, QEMU */
	uvfio_pci_set_ids(pdev, 0x1234, 0x11e8, 0x1af4, 0x1100, 0xff0000, 0x10);
	ret = uvfio_pci_add_bar(pdev, 0, &bar0);
	if (!ret)
		ret = uvfio_pci_add_msi(pdev, 1, true);
	if (!ret)
		ret = uvfio_pci_add_pcie(pdev);
	uvfio_pci_set_intx_pin(pdev, 1);
	return ret;
}

/* What a migration carries: the registers and the DMA buffer (the DMA mask
 * is the topology's). */
struct edu_state {
	uint32_t liveness, fact, status, irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint8_t buf[DMA_SIZE];
};

static size_t edu_save(struct uvfio_pci_dev *pdev, void *buf, size_t len)
{
	const struct edu *edu = uvfio_pci_priv(pdev);
	struct edu_state st = {
		.liveness = edu->liveness, .fact = edu->fact, .status = edu->status,
		.irq_status = edu->irq_status, .dma_src = edu->dma_src, .dma_dst = edu->dma_dst,
		.dma_cnt = edu->dma_cnt, .dma_cmd = edu->dma_cmd,
	};

	if (buf && len >= sizeof(st)) {
		memcpy(st.buf, edu->buf, sizeof(st.buf));
		memcpy(buf, &st, sizeof(st));
	}
	return sizeof(st);
}

static int edu_load(struct uvfio_pci_dev *pdev, const void *buf, size_t len)
{
	struct edu *edu = uvfio_pci_priv(pdev);
	struct edu_state st;

	/* a DMA completes within its command: none can be running */
	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.dma_cmd & DMA_RUN)
		return -EINVAL;
	edu->liveness = st.liveness;
	edu->fact = st.fact;
	edu->status = st.status;
	edu->dma_src = st.dma_src;
	edu->dma_dst = st.dma_dst;
	edu->dma_cnt = st.dma_cnt;
	edu->dma_cmd = st.dma_cmd;
	memcpy(edu->buf, st.buf, sizeof(edu->buf));
	edu->irq_status = 0;
	if (st.irq_status)
		edu_raise_irq(pdev, st.irq_status);
	else
		edu_lower_irq(pdev, ~0u);
	return 0;
}

const struct uvfio_model_ops uvfio_edu_model = {
	.name = "edu",
	.priv_size = sizeof(struct edu),
	.create = edu_create,
	.bar_read = edu_read,
	.bar_write = edu_write,
	.reset = edu_reset,
	.save = edu_save,
	.load = edu_load,
};
