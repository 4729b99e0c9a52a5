// SPDX-License-Identifier: MIT
/*
 * Intel I/OAT ("Crystal Beach" DMA, CBDMA) of a Skylake-SP Xeon: PCI
 * 8086:2021, I/OAT version 3.2, one channel per function, as Linux's ioatdma
 * (drivers/dma/ioat/) and DPDK's dmadev_ioat drive it.
 *
 * CBVER: Linux treats every 8086:2021 as version 3.2 whatever the register
 * says; DPDK reads it and reports errors per operation only from 3.4, which
 * is how this channel behaves (a halt with the failing descriptor, recovered
 * by a reset and a new chain).  So the register reads 3.4 unless the topology
 * says otherwise ("version": "3.2" .. "3.4").
 *
 *   BAR0  MEM64, 16 KiB, not prefetchable:
 *         0x00 CHANCNT (1)   0x01 XFERCAP (log2 of the largest transfer)
 *         0x02 GENCTRL       0x03 INTRCTRL     0x04 ATTNSTATUS (read clears)
 *         0x08 CBVER (0x34)  0x0c INTRDELAY    0x0e CS_STATUS
 *         0x10 DMACAPABILITY (block fill)
 *         0x80 the channel:  +0x00 CHANCTRL  +0x02 DMA_COMP  +0x04 CHANCMD
 *              +0x06 DMACOUNT  +0x08 CHANSTS  +0x10 CHAINADDR  +0x18 CHANCMP
 *              +0x20 CDAR  +0x28 CHANERR (write 1 to clear)  +0x2c CHANERR_MASK
 *              +0x30 DCACTRL
 *         0x2000 MSI-X table (one vector), 0x3000 PBA, where the Xeon
 *         datasheets put them.
 *   Config space: CHANERR_INT (0x180, write 1 to clear, logs what CHANERR
 *   logs), CHANERRMASK_INT (0x184), DMAUNCERRSTS (0x148, nothing sets it).
 *   Interrupts: MSI-X or INTA (the hardware has no MSI capability).
 *
 * The channel walks a chain of 64-byte descriptors from CHAINADDR through
 * their `next` fields.  Writing CHAINADDR starts a new chain (ARMED, count
 * 0); DMACOUNT is the 16-bit number of descriptors the driver has made
 * available since then, and the channel processes descriptors until its own
 * count reaches it.  As on hardware the work happens after the doorbell
 * write, not inside it: the channel is ACTIVE for `latency_us` (topology
 * argument, default 500) and then runs every descriptor made available by
 * then, so a driver never sees completions its doorbell write could not yet
 * have produced.  A channel restarting after an error takes longer (20 ms):
 * DPDK's error recovery rings the doorbell and returns, and counts on the
 * work not being done before its next look, however busy the machine.
 * CHANSTS holds the address of the last completed descriptor.
 *
 * Errors halt the channel (HALTED, CHANSTS keeping the last good
 * descriptor): a descriptor that cannot be read is a read data error (what
 * DPDK decodes as a descriptor read error), a source or destination the
 * IOMMU refuses an address error of that side, a size beyond XFERCAP a
 * length error, an operation other than copy and fill a control error.  With
 * CHANCTRL's error-completion bit the status is written to CHANCMP, with its
 * error-interrupt bit an interrupt is raised.  The channel stays halted
 * until CHANERR is cleared and a new chain is started (optionally after a
 * CHANCMD reset), which is what both drivers do.
 *
 * Not modelled: DCA (DCACTRL only stores), interrupt coalescing (INTRDELAY
 * only stores), RAID operations, CHANERR_MASK (stores; every error halts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfio/model.h"

#define IOAT_BAR		0
#define IOAT_BAR_SIZE		(16 << 10)
#define IOAT_MSIX_TABLE		0x2000
#define IOAT_MSIX_PBA		0x3000

#define IOAT_VERSION		0x34
#define IOAT_LATENCY_US		500	/* doorbell to work, by default */
#define IOAT_RESTART_US		20000	/* the same after an error */
#define IOAT_XFERCAP_LOG	20	/* 1 MiB per descriptor */
#define IOAT_MAX_XFER		(1u << IOAT_XFERCAP_LOG)
/* Work per turn of the daemon's loop: the rest of a long chain waits for the
 * next turn, so other clients' register accesses are not held up behind it
 * (a descriptor counts as at least 4 KiB: 256 of them at most). */
#define IOAT_TURN_BYTES		(1u << 20)
#define IOAT_DESC_MIN_BYTES	4096u
#define IOAT_REVISION		0x04
#define IOAT_CLASS		0x088000	/* system peripheral, other */

/* global registers */
#define REG_CHANCNT		0x00
#define REG_XFERCAP		0x01
#define REG_GENCTRL		0x02
#define REG_INTRCTRL		0x03
#define REG_ATTNSTATUS		0x04
#define REG_CBVER		0x08
#define REG_INTRDELAY		0x0c
#define REG_CS_STATUS		0x0e
#define REG_DMACAP		0x10

#define INTRCTRL_MASTER_INT_EN	0x01
#define INTRCTRL_INT_STATUS	0x02
#define INTRCTRL_INT		0x04
#define INTRCTRL_MSIX_VECCTL	0x08

#define INTRDELAY_MASK		0x3fff
#define INTRDELAY_COALESCE	0x8000

#define DMACAP_FILL		0x00000040

/* channel registers, from the channel's base */
#define CHAN_BASE		0x80
#define CHAN_SIZE		0x80
#define CH_CHANCTRL		0x00
#define CH_DMA_COMP		0x02
#define CH_CHANCMD		0x04
#define CH_DMACOUNT		0x06
#define CH_CHANSTS		0x08
#define CH_CHAINADDR		0x10
#define CH_CHANCMP		0x18
#define CH_CDAR			0x20
#define CH_CHANERR		0x28
#define CH_CHANERR_MASK		0x2c
#define CH_DCACTRL		0x30

#define CHANCTRL_INT_REARM	0x0001
#define CHANCTRL_ERR_COMPL_EN	0x0004
#define CHANCTRL_ERR_INT_EN	0x0010
#define CHANCTRL_IN_USE		0x0100
#define CHANCTRL_RW		0xf33d	/* priority, DCA, in use, snoop, error and rearm bits */

#define DMA_COMP_V1_V2		0x0003

#define CHANCMD_RESET		0x20
#define CHANCMD_RESUME		0x10
#define CHANCMD_ABORT		0x08
#define CHANCMD_SUSPEND		0x04

#define CHANSTS_ACTIVE		0x0
#define CHANSTS_IDLE		0x1
#define CHANSTS_SUSPENDED	0x2
#define CHANSTS_HALTED		0x3
#define CHANSTS_ARMED		0x4
#define CHANSTS_ADDR		(~0x3fULL)

#define CHANERR_SRC_ADDR	0x0001
#define CHANERR_DEST_ADDR	0x0002
#define CHANERR_NEXT_ALIGN	0x0008
#define CHANERR_CHAIN_ADDR	0x0010
#define CHANERR_READ_DATA	0x0100
#define CHANERR_CONTROL		0x0400
#define CHANERR_LENGTH		0x0800
#define CHANERR_COMPL_ADDR	0x1000

/* config space */
#define CFG_DMAUNCERRSTS	0x148
#define CFG_CHANERR_INT		0x180
#define CFG_CHANERRMASK_INT	0x184

/* descriptor control bits (struct ioat_dma_descriptor / ioat_fill_descriptor) */
#define DESC_INT_EN		(1u << 0)
#define DESC_COMPL_WRITE	(1u << 3)
#define DESC_NULL		(1u << 5)
#define DESC_OP_SHIFT		24
#define OP_COPY			0x00
#define OP_FILL			0x01

#define DESC_SIZE		64
#define BOUNCE_SIZE		(64 << 10)	/* a multiple of 8: fill patterns stay aligned */

struct ioat_desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src;		/* fill: the 64-bit pattern */
	uint64_t dst;
	uint64_t next;
	uint64_t rsvd[4];
};

struct ioat_chan {
	uint16_t chanctrl;
	uint16_t dmacount;	/* the doorbell: descriptors made available */
	uint16_t count;		/* descriptors processed since the chain started */
	uint8_t state;		/* CHANSTS_* */
	bool int_pending;	/* a completion interrupt waits for INT_REARM */
	uint64_t completed;	/* last completed descriptor, 0: none in this chain */
	uint64_t chainaddr;
	uint64_t next;		/* descriptor to fetch next (CDAR) */
	uint64_t chancmp;
	uint32_t chanerr;
	uint32_t chanerr_mask;
	uint32_t dcactrl;
};

struct ioat {
	uint8_t version;		/* CBVER */
	unsigned int latency_us;	/* doorbell to work */
	bool engine_pending;		/* the work is scheduled */
	bool restarting;		/* no work done since the last error */
	uint8_t genctrl;
	uint8_t intrctrl;
	uint32_t attnstatus;
	uint16_t intrdelay;
	struct ioat_chan ch;
	/* for `uvfio stats`; kept across resets */
	uint64_t descs, bytes, errors;
	uint8_t bounce[BOUNCE_SIZE];
};

/* ---- interrupts ---- */

static void ioat_irq(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	io->attnstatus |= 1;
	if (!(io->intrctrl & INTRCTRL_MASTER_INT_EN))
		return;
	if (uvfio_pci_msix_enabled(pdev))
		uvfio_pci_msi_notify(pdev, 0);
	else
		uvfio_pci_intx_set(pdev, true);
}

/* A completion interrupt fires once per arming; one that comes while the
 * channel is disarmed waits for the driver to re-arm (Linux re-arms after
 * each cleanup, so none is lost). */
static void ioat_completion_irq(struct uvfio_pci_dev *pdev)
{
	struct ioat_chan *ch = &((struct ioat *)uvfio_pci_priv(pdev))->ch;

	if (!(ch->chanctrl & CHANCTRL_INT_REARM)) {
		ch->int_pending = true;
		return;
	}
	ch->chanctrl &= ~CHANCTRL_INT_REARM;
	ch->int_pending = false;
	ioat_irq(pdev);
}

/* ---- the channel ---- */

static uint64_t chansts(const struct ioat_chan *ch)
{
	return ch->completed | ch->state;
}

/* Where a chain stands when nothing is running. */
static uint8_t quiet_state(const struct ioat_chan *ch)
{
	return ch->completed ? CHANSTS_IDLE : CHANSTS_ARMED;
}

static int write_completion(struct uvfio_pci_dev *pdev)
{
	struct ioat_chan *ch = &((struct ioat *)uvfio_pci_priv(pdev))->ch;
	uint64_t sts = chansts(ch);

	return uvfio_pci_dma_write(pdev, ch->chancmp, &sts, sizeof(sts));
}

static void ioat_halt(struct uvfio_pci_dev *pdev, uint32_t err)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	struct ioat_chan *ch = &io->ch;

	ch->state = CHANSTS_HALTED;
	io->restarting = true;
	if ((ch->chanctrl & CHANCTRL_ERR_COMPL_EN) && write_completion(pdev))
		err |= CHANERR_COMPL_ADDR;
	ch->chanerr |= err;
	uvfio_pci_config_set_bits(pdev, CFG_CHANERR_INT, 4, err);
	io->errors++;
	if (ch->chanctrl & CHANCTRL_ERR_INT_EN)
		ioat_irq(pdev);
}

static uint32_t do_copy(struct uvfio_pci_dev *pdev, const struct ioat_desc *d)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	for (uint32_t done = 0; done < d->size;) {
		uint32_t n = d->size - done < BOUNCE_SIZE ? d->size - done : BOUNCE_SIZE;

		if (uvfio_pci_dma_read(pdev, d->src + done, io->bounce, n))
			return CHANERR_SRC_ADDR;
		if (uvfio_pci_dma_write(pdev, d->dst + done, io->bounce, n))
			return CHANERR_DEST_ADDR;
		done += n;
	}
	return 0;
}

/* Byte i of the destination is byte i % 8 of the pattern. */
static uint32_t do_fill(struct uvfio_pci_dev *pdev, const struct ioat_desc *d)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	uint32_t first = d->size < BOUNCE_SIZE ? d->size : BOUNCE_SIZE;

	for (uint32_t i = 0; i < first; i += 8)
		memcpy(io->bounce + i, &d->src, sizeof(d->src));
	for (uint32_t done = 0; done < d->size;) {
		uint32_t n = d->size - done < BOUNCE_SIZE ? d->size - done : BOUNCE_SIZE;

		if (uvfio_pci_dma_write(pdev, d->dst + done, io->bounce, n))
			return CHANERR_DEST_ADDR;
		done += n;
	}
	return 0;
}

static uint32_t do_desc(struct uvfio_pci_dev *pdev, const struct ioat_desc *d)
{
	uint32_t op = d->ctl >> DESC_OP_SHIFT;

	if (op != OP_COPY && op != OP_FILL)
		return CHANERR_CONTROL;
	if (d->size > IOAT_MAX_XFER)
		return CHANERR_LENGTH;
	if (d->ctl & DESC_NULL)
		return 0;
	return op == OP_COPY ? do_copy(pdev, d) : do_fill(pdev, d);
}

static void engine_run(struct uvfio_pci_dev *pdev);

/* Processes descriptors until the channel's count reaches DMACOUNT (at most
 * 65535 per doorbell: the counts are 16-bit), IOAT_TURN_BYTES per turn: past
 * that the channel stays ACTIVE and goes on at the next turn. */
static void ioat_run(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	struct ioat_chan *ch = &io->ch;
	uint64_t done = 0;

	while (ch->count != ch->dmacount) {
		uint64_t addr = ch->next;
		struct ioat_desc d;
		uint32_t err;

		if (done >= IOAT_TURN_BYTES && !io->engine_pending &&
		    uvfio_pci_schedule(pdev, 0, engine_run) == 0) {
			io->engine_pending = true;
			return;
		}
		ch->state = CHANSTS_ACTIVE;
		if (addr & (DESC_SIZE - 1)) {
			ioat_halt(pdev, ch->count ? CHANERR_NEXT_ALIGN : CHANERR_CHAIN_ADDR);
			return;
		}
		if (uvfio_pci_dma_read(pdev, addr, &d, sizeof(d))) {
			ioat_halt(pdev, CHANERR_READ_DATA);
			return;
		}
		err = do_desc(pdev, &d);
		if (err) {
			ioat_halt(pdev, err);
			return;
		}
		done += d.size > IOAT_DESC_MIN_BYTES ? d.size : IOAT_DESC_MIN_BYTES;
		ch->completed = addr;
		ch->next = d.next;
		ch->count++;
		io->descs++;
		if (!(d.ctl & DESC_NULL))
			io->bytes += d.size;
		if (ch->count == ch->dmacount)
			ch->state = CHANSTS_IDLE;
		if ((d.ctl & DESC_COMPL_WRITE) && write_completion(pdev)) {
			ioat_halt(pdev, CHANERR_COMPL_ADDR);
			return;
		}
		if (d.ctl & DESC_INT_EN)
			ioat_completion_irq(pdev);
	}
}

static void engine_run(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	io->engine_pending = false;
	/* stopped by its user: the work waits for ioat_run_again() */
	if (uvfio_pci_stopped(pdev))
		return;
	if (io->ch.state == CHANSTS_ACTIVE) {
		io->restarting = false;
		ioat_run(pdev);
	}
}

/* Descriptors are available: the channel turns ACTIVE and works on them
 * once its latency has passed. */
static void engine_kick(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	struct ioat_chan *ch = &io->ch;

	if (ch->count == ch->dmacount)
		return;
	ch->state = CHANSTS_ACTIVE;
	if (io->engine_pending)
		return;
	if (uvfio_pci_schedule(pdev, io->restarting && io->latency_us ? IOAT_RESTART_US :
				      io->latency_us, engine_run) == 0)
		io->engine_pending = true;
	else
		ioat_run(pdev);		/* no timer to be had: work now */
}

static void engine_stop(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	if (io->engine_pending)
		uvfio_pci_cancel_scheduled(pdev);
	io->engine_pending = false;
}

/* A new chain at CHAINADDR; a halted channel leaves HALTED only once its
 * errors are cleared. */
static void start_chain(struct ioat_chan *ch)
{
	if (ch->state == CHANSTS_HALTED && ch->chanerr)
		return;
	ch->next = ch->chainaddr;
	ch->count = 0;
	ch->completed = 0;
	ch->state = CHANSTS_ARMED;
}

static void chan_reset(struct ioat_chan *ch)
{
	uint32_t chanerr = ch->chanerr;

	/* the error log survives: both drivers clear it themselves */
	memset(ch, 0, sizeof(*ch));
	ch->chanerr = chanerr;
	ch->state = chanerr ? CHANSTS_HALTED : CHANSTS_ARMED;
}

static void chan_command(struct uvfio_pci_dev *pdev, uint8_t cmd)
{
	struct ioat_chan *ch = &((struct ioat *)uvfio_pci_priv(pdev))->ch;

	/* commands complete at once: RESET reads back clear */
	if (cmd & CHANCMD_RESET) {
		engine_stop(pdev);
		chan_reset(ch);
		return;
	}
	if (cmd & (CHANCMD_SUSPEND | CHANCMD_ABORT)) {
		/* no descriptor is ever half done, so abort is a suspend */
		engine_stop(pdev);
		if (ch->state != CHANSTS_HALTED)
			ch->state = CHANSTS_SUSPENDED;
	} else if (cmd & CHANCMD_RESUME) {
		if (ch->state == CHANSTS_SUSPENDED) {
			ch->state = quiet_state(ch);
			engine_kick(pdev);
		}
	}
}

static void set_chanctrl(struct uvfio_pci_dev *pdev, uint16_t val)
{
	struct ioat_chan *ch = &((struct ioat *)uvfio_pci_priv(pdev))->ch;

	ch->chanctrl = val & CHANCTRL_RW;
	if ((ch->chanctrl & CHANCTRL_INT_REARM) && ch->int_pending)
		ioat_completion_irq(pdev);
}

static void set_dmacount(struct uvfio_pci_dev *pdev, uint16_t val)
{
	struct ioat_chan *ch = &((struct ioat *)uvfio_pci_priv(pdev))->ch;

	ch->dmacount = val;
	if (ch->state == CHANSTS_IDLE || ch->state == CHANSTS_ARMED ||
	    ch->state == CHANSTS_ACTIVE)
		engine_kick(pdev);
}

/* ---- register access ---- */

static void put(uint8_t *img, unsigned int off, unsigned int size, uint64_t v)
{
	for (unsigned int i = 0; i < size; i++)
		img[off + i] = v >> (8 * i);
}

/* The registers as the hardware presents them: 0x00-0x7f global, 0x80-0xff
 * the channel. */
static void read_image(struct ioat *io, uint8_t img[2 * CHAN_SIZE])
{
	const struct ioat_chan *ch = &io->ch;
	uint8_t *c = img + CHAN_BASE;
	uint8_t intrctrl = io->intrctrl & (INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECCTL);

	if (io->attnstatus) {
		intrctrl |= INTRCTRL_INT_STATUS;
		if (intrctrl & INTRCTRL_MASTER_INT_EN)
			intrctrl |= INTRCTRL_INT;
	}
	memset(img, 0, 2 * CHAN_SIZE);
	put(img, REG_CHANCNT, 1, 1);
	put(img, REG_XFERCAP, 1, IOAT_XFERCAP_LOG);
	put(img, REG_GENCTRL, 1, io->genctrl);
	put(img, REG_INTRCTRL, 1, intrctrl);
	put(img, REG_ATTNSTATUS, 4, io->attnstatus);
	put(img, REG_CBVER, 1, io->version);
	put(img, REG_INTRDELAY, 2, io->intrdelay | INTRDELAY_COALESCE);
	put(img, REG_CS_STATUS, 2, 0);
	put(img, REG_DMACAP, 4, DMACAP_FILL);

	put(c, CH_CHANCTRL, 2, ch->chanctrl);
	put(c, CH_DMA_COMP, 2, DMA_COMP_V1_V2);
	put(c, CH_CHANCMD, 1, 0);
	put(c, CH_DMACOUNT, 2, ch->dmacount);
	put(c, CH_CHANSTS, 8, chansts(ch));
	put(c, CH_CHAINADDR, 8, ch->chainaddr);
	put(c, CH_CHANCMP, 8, ch->chancmp);
	put(c, CH_CDAR, 8, ch->next);
	put(c, CH_CHANERR, 4, ch->chanerr);
	put(c, CH_CHANERR_MASK, 4, ch->chanerr_mask);
	put(c, CH_DCACTRL, 4, ch->dcactrl);
}

static bool covers(uint64_t off, unsigned int size, unsigned int byte)
{
	return off <= byte && byte < off + size;
}

static uint64_t ioat_read(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	uint8_t img[2 * CHAN_SIZE];
	uint64_t v = 0;

	if (bar != IOAT_BAR || off >= sizeof(img))
		return 0;
	read_image(io, img);
	memcpy(&v, img + off, size);

	/* ATTNSTATUS clears when read, which ends an INTx assertion */
	if (off < REG_ATTNSTATUS + 4 && off + size > REG_ATTNSTATUS && io->attnstatus) {
		io->attnstatus = 0;
		uvfio_pci_intx_set(pdev, false);
	}
	/* IN_USE: the first read after it was cleared returns 0 and claims the
	 * channel (a semaphore between would-be owners) */
	if (covers(off, size, CHAN_BASE + CH_CHANCTRL + 1))
		io->ch.chanctrl |= CHANCTRL_IN_USE;
	return v;
}

struct reg {
	uint8_t off;
	uint8_t size;
};

/* The writable registers, in the order a wide write reaches them. */
static const struct reg writable[] = {
	{ REG_GENCTRL, 1 },
	{ REG_INTRCTRL, 1 },
	{ REG_INTRDELAY, 2 },
	{ CHAN_BASE + CH_CHANCTRL, 2 },
	{ CHAN_BASE + CH_CHANCMD, 1 },
	{ CHAN_BASE + CH_DMACOUNT, 2 },
	{ CHAN_BASE + CH_CHAINADDR, 8 },
	{ CHAN_BASE + CH_CHANCMP, 8 },
	{ CHAN_BASE + CH_CHANERR, 4 },
	{ CHAN_BASE + CH_CHANERR_MASK, 4 },
	{ CHAN_BASE + CH_DCACTRL, 4 },
};

/* merged: the register with the written bytes replaced; written: only the
 * written bytes (zero elsewhere), for write-1-to-clear and commands. */
static void reg_write(struct uvfio_pci_dev *pdev, unsigned int reg, uint64_t merged,
		      uint64_t written)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	struct ioat_chan *ch = &io->ch;

	switch (reg) {
	case REG_GENCTRL:
		io->genctrl = merged & 0x01;
		break;
	case REG_INTRCTRL:
		io->intrctrl = merged & (INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECCTL);
		break;
	case REG_INTRDELAY:
		io->intrdelay = merged & INTRDELAY_MASK;
		break;
	case CHAN_BASE + CH_CHANCTRL:
		set_chanctrl(pdev, merged);
		break;
	case CHAN_BASE + CH_CHANCMD:
		chan_command(pdev, written);
		break;
	case CHAN_BASE + CH_DMACOUNT:
		set_dmacount(pdev, merged);
		break;
	case CHAN_BASE + CH_CHAINADDR:
		/* each half starts the chain anew: drivers write low then high */
		ch->chainaddr = merged;
		start_chain(ch);
		break;
	case CHAN_BASE + CH_CHANCMP:
		ch->chancmp = merged & ~7ULL;	/* 8-byte aligned */
		break;
	case CHAN_BASE + CH_CHANERR:
		ch->chanerr &= ~(uint32_t)written;
		break;
	case CHAN_BASE + CH_CHANERR_MASK:
		ch->chanerr_mask = merged;
		break;
	case CHAN_BASE + CH_DCACTRL:
		ch->dcactrl = merged;
		break;
	}
}

/* Any width works: each register the access overlaps takes the bytes that
 * fall on it. */
static void ioat_write(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	if (bar != IOAT_BAR || off >= 2 * CHAN_SIZE)
		return;
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++) {
		const struct reg *r = &writable[i];
		uint8_t img[2 * CHAN_SIZE];
		uint64_t merged = 0, written = 0;
		bool hit = false;

		if (off >= r->off + r->size || off + size <= r->off)
			continue;
		/* the register's current bytes (CHANCMD reads 0) */
		read_image(io, img);
		for (unsigned int b = 0; b < r->size; b++) {
			uint64_t byte = img[r->off + b];

			if (covers(off, size, r->off + b)) {
				byte = (val >> (8 * (r->off + b - off))) & 0xff;
				written |= byte << (8 * b);
				hit = true;
			}
			merged |= byte << (8 * b);
		}
		if (hit)
			reg_write(pdev, r->off, merged, written);
	}
}

/* ---- the function ---- */

static void ioat_init_regs(struct ioat *io)
{
	io->genctrl = 0;
	io->intrctrl = 0;
	io->attnstatus = 0;
	io->intrdelay = 0;
	memset(&io->ch, 0, sizeof(io->ch));
	io->ch.state = CHANSTS_ARMED;
}

static void ioat_reset(struct uvfio_pci_dev *pdev)
{
	engine_stop(pdev);
	ioat_init_regs(uvfio_pci_priv(pdev));
	uvfio_pci_intx_set(pdev, false);
}

static const char *const state_names[] = {
	"active", "idle", "suspended", "halted", "armed",
};

static void ioat_describe(struct uvfio_pci_dev *pdev, char *buf, size_t len)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	snprintf(buf, len, "channel %s, chanerr %#x, %llu descriptors, %llu bytes, %llu errors",
		 state_names[io->ch.state], io->ch.chanerr, (unsigned long long)io->descs,
		 (unsigned long long)io->bytes, (unsigned long long)io->errors);
}

static int ioat_create(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args)
{
	const struct uvfio_bar_desc bar0 = { .kind = UVFIO_BAR_MEM64, .size = IOAT_BAR_SIZE };
	const char *version = uvfio_model_arg(args, "version");
	const char *latency = uvfio_model_arg(args, "latency_us");
	struct ioat *io = uvfio_pci_priv(pdev);
	int ret;

	io->version = IOAT_VERSION;
	io->latency_us = IOAT_LATENCY_US;
	if (latency) {
		char *end;
		unsigned long us = strtoul(latency, &end, 10);

		if (!*latency || *end || us > 1000000)
			return -EINVAL;
		io->latency_us = (unsigned int)us;
	}
	if (version) {
		if (strlen(version) != 3 || version[0] != '3' || version[1] != '.' ||
		    version[2] < '2' || version[2] > '4')
			return -EINVAL;
		io->version = (uint8_t)(0x30 | (version[2] - '0'));
	}
	ioat_init_regs(io);
	/* no subsystem IDs on the CPU's integrated functions */
	uvfio_pci_set_ids(pdev, 0x8086, 0x2021, 0x0000, 0x0000, IOAT_CLASS, IOAT_REVISION);
	ret = uvfio_pci_add_bar(pdev, IOAT_BAR, &bar0);
	if (!ret)
		ret = uvfio_pci_add_msix(pdev, 1, IOAT_BAR, IOAT_MSIX_TABLE, IOAT_MSIX_PBA);
	if (!ret)
		ret = uvfio_pci_add_pcie(pdev);
	if (!ret)
		ret = uvfio_pci_add_config_reg(pdev, CFG_DMAUNCERRSTS, 4, 0, 0, ~0u);
	if (!ret)
		ret = uvfio_pci_add_config_reg(pdev, CFG_CHANERR_INT, 4, 0, 0, ~0u);
	if (!ret)
		ret = uvfio_pci_add_config_reg(pdev, CFG_CHANERRMASK_INT, 4, 0, ~0u, 0);
	uvfio_pci_set_intx_pin(pdev, 1);
	return ret;
}

/* ---- migration ---- */

/* What a migration carries: the registers and the channel, work not yet
 * done included (the version and latency are the topology's; the counters
 * are this host's). */
struct ioat_state {
	uint8_t genctrl, intrctrl, restarting, pad;
	uint32_t attnstatus;
	uint16_t intrdelay, pad2;
	uint16_t chanctrl, dmacount, count;
	uint8_t chan_state, int_pending;
	uint64_t completed, chainaddr, next, chancmp;
	uint32_t chanerr, chanerr_mask, dcactrl, pad3;
};

static size_t ioat_save(struct uvfio_pci_dev *pdev, void *buf, size_t len)
{
	const struct ioat *io = uvfio_pci_priv(pdev);
	const struct ioat_chan *ch = &io->ch;
	struct ioat_state st = {
		.genctrl = io->genctrl, .intrctrl = io->intrctrl, .restarting = io->restarting,
		.attnstatus = io->attnstatus, .intrdelay = io->intrdelay,
		.chanctrl = ch->chanctrl, .dmacount = ch->dmacount, .count = ch->count,
		.chan_state = ch->state, .int_pending = ch->int_pending,
		.completed = ch->completed, .chainaddr = ch->chainaddr, .next = ch->next,
		.chancmp = ch->chancmp, .chanerr = ch->chanerr, .chanerr_mask = ch->chanerr_mask,
		.dcactrl = ch->dcactrl,
	};

	if (buf && len >= sizeof(st))
		memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

static int ioat_load(struct uvfio_pci_dev *pdev, const void *buf, size_t len)
{
	struct ioat *io = uvfio_pci_priv(pdev);
	struct ioat_chan *ch = &io->ch;
	struct ioat_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.chan_state > CHANSTS_ARMED || st.restarting > 1 || st.int_pending > 1)
		return -EINVAL;
	io->genctrl = st.genctrl;
	io->intrctrl = st.intrctrl;
	io->restarting = st.restarting;
	io->attnstatus = st.attnstatus;
	io->intrdelay = st.intrdelay;
	*ch = (struct ioat_chan){
		.chanctrl = st.chanctrl, .dmacount = st.dmacount, .count = st.count,
		.state = st.chan_state, .int_pending = st.int_pending,
		.completed = st.completed, .chainaddr = st.chainaddr, .next = st.next,
		.chancmp = st.chancmp, .chanerr = st.chanerr, .chanerr_mask = st.chanerr_mask,
		.dcactrl = st.dcactrl,
	};
	/* the engine's timer belongs to the work: ioat_run_again() restarts it */
	io->engine_pending = false;
	uvfio_pci_cancel_scheduled(pdev);
	return 0;
}

/* Running again: work made available meanwhile (or carried over) goes on. */
static void ioat_run_again(struct uvfio_pci_dev *pdev)
{
	struct ioat *io = uvfio_pci_priv(pdev);

	if (io->ch.state == CHANSTS_ACTIVE && !io->engine_pending)
		engine_kick(pdev);
}

const struct uvfio_model_ops uvfio_ioat_model = {
	.name = "ioat",
	.priv_size = sizeof(struct ioat),
	.create = ioat_create,
	.bar_read = ioat_read,
	.bar_write = ioat_write,
	.reset = ioat_reset,
	.describe = ioat_describe,
	.save = ioat_save,
	.load = ioat_load,
	.run = ioat_run_again,
};
