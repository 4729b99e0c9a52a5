// SPDX-License-Identifier: MIT
/*
 * Config space virtualisation (drivers/vfio/pci/vfio_pci_config.c).
 *
 * Every byte belongs to a region: the standard header, one capability, or
 * nothing.  Each region type has a permission table saying, per bit, whether
 * it is served from the virtual copy (vconfig) or from the hardware, and
 * whether the user may write it.  Unassigned bytes pass through raw, because
 * some devices hide registers between capabilities.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "vfio_pci_priv.h"

#define ALL_VIRT	0xffffffffu
#define ALL_WRITE	0xffffffffu
#define NO_VIRT		0
#define NO_WRITE	0

struct perm_field {
	uint16_t off;		/* from the start of the capability */
	uint8_t size;
	uint32_t virt;
	uint32_t write;
};

static const struct perm_field basic_perms[] = {
	{ PCI_VENDOR_ID, 2, ALL_VIRT, NO_WRITE },
	{ PCI_DEVICE_ID, 2, ALL_VIRT, NO_WRITE },
	/* INTx disable is emulated; memory/IO/bus master reach the hardware */
	{ PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, ALL_WRITE },
	{ PCI_STATUS, 2, PCI_STATUS_CAP_LIST, NO_WRITE },
	{ PCI_CACHE_LINE_SIZE, 1, NO_VIRT, ALL_WRITE },
	{ PCI_LATENCY_TIMER, 1, NO_VIRT, ALL_WRITE },
	{ PCI_BIST, 1, NO_VIRT, ALL_WRITE },
	/* the user never programs the real BARs */
	{ PCI_BASE_ADDRESS_0, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_BASE_ADDRESS_1, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_BASE_ADDRESS_2, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_BASE_ADDRESS_3, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_BASE_ADDRESS_4, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_BASE_ADDRESS_5, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_ROM_ADDRESS, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_CAPABILITY_LIST, 1, ALL_VIRT, NO_WRITE },
	{ PCI_INTERRUPT_LINE, 1, ALL_VIRT, ALL_WRITE },
	{ PCI_INTERRUPT_PIN, 1, ALL_VIRT, NO_WRITE },
};

/* The ID and next pointer of every capability come from vconfig. */
#define CAP_HEADER_PERMS \
	{ PCI_CAP_LIST_ID, 1, ALL_VIRT, NO_WRITE }, \
	{ PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE }

static const struct perm_field pm_perms[] = {
	CAP_HEADER_PERMS,
	{ PCI_PM_CTRL, 4, NO_VIRT, (uint32_t)~PCI_PM_CTRL_PME_STATUS },
};

/* Fully virtual: the host owns the real MSI registers. */
static const struct perm_field msi64_perms[] = {
	CAP_HEADER_PERMS,
	{ PCI_MSI_FLAGS, 1, ALL_VIRT, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ PCI_MSI_ADDRESS_LO, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_MSI_ADDRESS_HI, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_MSI_DATA_64, 2, ALL_VIRT, ALL_WRITE },
};

static const struct perm_field msi32_perms[] = {
	CAP_HEADER_PERMS,
	{ PCI_MSI_FLAGS, 1, ALL_VIRT, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ PCI_MSI_ADDRESS_LO, 4, ALL_VIRT, ALL_WRITE },
	{ PCI_MSI_DATA_32, 2, ALL_VIRT, ALL_WRITE },
};

static const struct perm_field msix_perms[] = {
	CAP_HEADER_PERMS,
	{ PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
	  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL },
};

/* Phantom functions would confuse the IOMMU, MPS must match the link
 * partner, ARI is set at enumeration; FLR and MRRS are emulated. */
static const struct perm_field exp_perms[] = {
	CAP_HEADER_PERMS,
	{ PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
	  PCI_EXP_DEVCTL_READRQ, (uint16_t)~PCI_EXP_DEVCTL_PHANTOM },
	{ PCI_EXP_DEVCTL2, 2, NO_VIRT, (uint16_t)~PCI_EXP_DEVCTL2_ARI },
};

static const struct perm_field aer_perms[] = {
	{ 0, 4, ALL_VIRT, NO_WRITE },
};

#define MSI_LEN(is64)	((is64) ? PCI_MSI_DATA_64 + 2 : PCI_MSI_DATA_32 + 2)

static void map_region(struct vfio_pci *vp, unsigned int pos, unsigned int len,
		       enum vfio_cfg_region r, const struct perm_field *perms, size_t n)
{
	memset(vp->cfg_map + pos, r, len);
	for (size_t i = 0; i < n; i++) {
		put_le(vp->cfg_virt + pos + perms[i].off, perms[i].size, perms[i].virt);
		put_le(vp->cfg_write + pos + perms[i].off, perms[i].size, perms[i].write);
	}
}

#define MAP(vp, pos, len, r, perms) map_region(vp, pos, len, r, perms, \
					       sizeof(perms) / sizeof((perms)[0]))

/* Walks the capability lists the way vfio_cap_init() does, giving each byte
 * its region. */
static void build_map(struct vfio_pci *vp)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	unsigned int pos, loops = 0;

	memset(vp->cfg_map, CFG_UNASSIGNED, sizeof(vp->cfg_map));
	memset(vp->cfg_virt, 0, sizeof(vp->cfg_virt));
	memset(vp->cfg_write, 0, sizeof(vp->cfg_write));
	MAP(vp, 0, PCI_STD_HEADER_SIZEOF, CFG_BASIC, basic_perms);

	pos = pdev->config[PCI_CAPABILITY_LIST] & ~3u;
	while (pos >= PCI_STD_HEADER_SIZEOF && pos < PCI_CFG_SIZE && loops++ < 48) {
		uint8_t id = pdev->config[pos + PCI_CAP_LIST_ID];

		switch (id) {
		case PCI_CAP_ID_PM:
			MAP(vp, pos, PCI_PM_SIZEOF, CFG_PM, pm_perms);
			break;
		case PCI_CAP_ID_MSI:
			vp->msi_pos = pos;
			if (pdev->msi_64)
				MAP(vp, pos, MSI_LEN(true), CFG_MSI, msi64_perms);
			else
				MAP(vp, pos, MSI_LEN(false), CFG_MSI, msi32_perms);
			break;
		case PCI_CAP_ID_MSIX:
			vp->msix_pos = pos;
			MAP(vp, pos, PCI_CAP_MSIX_SIZEOF, CFG_MSIX, msix_perms);
			break;
		case PCI_CAP_ID_EXP:
			vp->exp_pos = pos;
			MAP(vp, pos, PCI_CAP_EXP_ENDPOINT_SIZEOF_V2, CFG_EXP, exp_perms);
			break;
		default:
			memset(vp->cfg_map + pos, CFG_OTHER, 4);
			break;
		}
		pos = pdev->config[pos + PCI_CAP_LIST_NEXT] & ~3u;
	}

	if (pdev->cfg_size <= PCI_CFG_SIZE)
		return;
	pos = PCI_CFG_SIZE;
	loops = 0;
	while (pos >= PCI_CFG_SIZE && loops++ < 480) {
		uint32_t hdr = get_le(pdev->config + pos, 4);

		if (!hdr)
			break;
		if (PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_ERR)
			MAP(vp, pos, PCI_ERR_ROOT_COMMAND, CFG_AER, aer_perms);
		else
			memset(vp->cfg_map + pos, CFG_OTHER, 4);
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
}

void vfio_config_init(struct vfio_pci *vp)
{
	struct uvfio_pci_dev *pdev = vp->pdev;

	build_map(vp);
	memcpy(vp->vconfig, pdev->config, pdev->cfg_size);
	for (int i = 0; i < 6; i++)
		vp->rbar[i] = get_le(vp->vconfig + PCI_BASE_ADDRESS_0 + 4 * i, 4);
	vp->rbar[6] = get_le(vp->vconfig + PCI_ROM_ADDRESS, 4);
	vp->bardirty = true;
	vp->virq_disabled = false;
	vp->msi_qmax = pdev->msi_vectors ? __builtin_ctz(pdev->msi_vectors) : 0;
	if (!pdev->pin)
		vp->vconfig[PCI_INTERRUPT_PIN] = 0;
}

void vfio_config_restore_bars(struct vfio_pci *vp)
{
	for (int i = 0; i < 6; i++)
		pci_dev_cfg_write(vp->pdev, PCI_BASE_ADDRESS_0 + 4 * i, 4, vp->rbar[i]);
	pci_dev_cfg_write(vp->pdev, PCI_ROM_ADDRESS, 4, vp->rbar[6]);
}

bool vfio_pci_memory_enabled(struct vfio_pci *vp)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	uint16_t pmcsr = pci_dev_cfg_read(pdev, UVFIO_CAP_PM_POS + PCI_PM_CTRL, 2);

	/* runtime suspended at the user's request: D3, memory off */
	return !vp->pm_runtime_engaged && (pmcsr & PCI_PM_CTRL_STATE_MASK) < 3 &&
	       (get_le(vp->vconfig + PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
}

/* Makes the virtual BARs read back as sized, typed addresses: whatever the
 * user wrote, masked by the BAR size, with the hardware's type bits. */
static void bar_fixup(struct vfio_pci *vp)
{
	struct uvfio_pci_dev *pdev = vp->pdev;

	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &pdev->bars[i];
		uint8_t *vbar = vp->vconfig + PCI_BASE_ADDRESS_0 + 4 * i;
		uint64_t mask;
		uint32_t flags;

		if (!b->kind) {
			/* absent, or the upper half a MEM64 BAR owns below */
			if (!i || pdev->bars[i - 1].kind != UVFIO_BAR_MEM64)
				put_le(vbar, 4, 0);
			continue;
		}
		mask = ~(b->size - 1);
		if (b->kind == UVFIO_BAR_IO) {
			flags = PCI_BASE_ADDRESS_SPACE_IO;
		} else {
			flags = b->kind == UVFIO_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0;
			if (b->prefetchable)
				flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
		}
		put_le(vbar, 4, (get_le(vbar, 4) & (uint32_t)mask) | flags);
		if (b->kind == UVFIO_BAR_MEM64)
			put_le(vbar + 4, 4, get_le(vbar + 4, 4) & (uint32_t)(mask >> 32));
	}
	/* No function has an option ROM. */
	put_le(vp->vconfig + PCI_ROM_ADDRESS, 4, 0);
	vp->bardirty = false;
}

static bool chunk_covers(unsigned int pos, unsigned int count, unsigned int reg)
{
	return pos <= reg && reg < pos + count;
}

static bool chunk_is_bar(unsigned int pos, unsigned int count)
{
	return (pos < PCI_BASE_ADDRESS_5 + 4 && pos + count > PCI_BASE_ADDRESS_0) ||
	       (pos < PCI_ROM_ADDRESS + 4 && pos + count > PCI_ROM_ADDRESS);
}

static uint32_t default_read(struct vfio_pci *vp, unsigned int pos, unsigned int count)
{
	uint32_t virt = get_le(vp->cfg_virt + pos, count);
	uint32_t val = get_le(vp->vconfig + pos, count) & virt;

	if (~virt & (~0u >> (32 - 8 * count)))
		val |= pci_dev_cfg_read(vp->pdev, pos, count) & ~virt;
	return val;
}

static void default_write(struct vfio_pci *vp, unsigned int pos, unsigned int count,
			  uint32_t val)
{
	uint32_t virt = get_le(vp->cfg_virt + pos, count);
	uint32_t write = get_le(vp->cfg_write + pos, count);

	if (write & virt) {
		uint32_t v = get_le(vp->vconfig + pos, count);

		v = (v & ~(write & virt)) | (val & write & virt);
		put_le(vp->vconfig + pos, count, v);
	}
	if (write & ~virt) {
		uint32_t phys = pci_dev_cfg_read(vp->pdev, pos, count);

		phys = (phys & ~(write & ~virt)) | (val & write & ~virt);
		pci_dev_cfg_write(vp->pdev, pos, count, phys);
	}
}

static void basic_write(struct vfio_pci *vp, unsigned int pos, unsigned int count,
			uint32_t val)
{
	uint16_t new_cmd = val, phys_cmd = pci_dev_command(vp->pdev);
	uint16_t virt_cmd = get_le(vp->vconfig + PCI_COMMAND, 2);

	if (pos == PCI_COMMAND) {
		/* Enabling decode we believe is on while the hardware has it
		 * off means the function was reset behind our back: put the
		 * BARs back before letting it decode. */
		if ((new_cmd & virt_cmd & ~phys_cmd) & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO))
			vfio_config_restore_bars(vp);
	}
	default_write(vp, pos, count, val);
	if (pos == PCI_COMMAND) {
		/* remember the user's enables for the test above */
		uint16_t mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;

		virt_cmd = get_le(vp->vconfig + PCI_COMMAND, 2);
		put_le(vp->vconfig + PCI_COMMAND, 2, (virt_cmd & ~mask) | (new_cmd & mask));
	}
	if (chunk_covers(pos, count, PCI_COMMAND) || chunk_covers(pos, count, PCI_COMMAND + 1)) {
		bool disable = get_le(vp->vconfig + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;

		if (disable && !vp->virq_disabled) {
			vp->virq_disabled = true;
			vfio_pci_intx_mask(vp);
		} else if (!disable && vp->virq_disabled) {
			vp->virq_disabled = false;
			vfio_pci_intx_unmask(vp);
		}
	}
	if (chunk_is_bar(pos, count))
		vp->bardirty = true;
}

/* MSI is enabled through SET_IRQS only; the queue size cannot exceed what
 * was allocated. */
static void msi_write(struct vfio_pci *vp, unsigned int cap, unsigned int pos,
		      unsigned int count, uint32_t val)
{
	default_write(vp, pos, count, val);
	if (chunk_covers(pos, count, cap + PCI_MSI_FLAGS)) {
		uint8_t *flags = vp->vconfig + cap + PCI_MSI_FLAGS;

		if (vp->irq_type != VFIO_PCI_IRQ_MSI)
			*flags &= ~PCI_MSI_FLAGS_ENABLE;
		if (((*flags & PCI_MSI_FLAGS_QSIZE) >> 4) > vp->msi_qmax)
			*flags = (*flags & ~PCI_MSI_FLAGS_QSIZE) | vp->msi_qmax << 4;
	}
}

static int exp_write(struct vfio_pci *vp, unsigned int cap, unsigned int pos,
		     unsigned int count, uint32_t val)
{
	uint8_t *ctl = vp->vconfig + cap + PCI_EXP_DEVCTL;

	default_write(vp, pos, count, val);
	if (get_le(ctl, 2) & PCI_EXP_DEVCTL_BCR_FLR) {
		/* initiate FLR: self-clearing */
		put_le(ctl, 2, get_le(ctl, 2) & ~PCI_EXP_DEVCTL_BCR_FLR);
		return vfio_pci_try_reset(vp);
	}
	return 0;
}

/* One access of 1, 2 or 4 bytes at a naturally aligned position. */
static int config_do_rw(struct vfio_pci *vp, uint8_t *buf, unsigned int pos,
			unsigned int count, bool iswrite)
{
	uint8_t r = vp->cfg_map[pos];
	uint32_t val;

	if (iswrite) {
		val = get_le(buf, count);
		switch (r) {
		case CFG_UNASSIGNED:
			pci_dev_cfg_write(vp->pdev, pos, count, val);
			return 0;
		case CFG_BASIC:
			basic_write(vp, pos, count, val);
			return 0;
		case CFG_MSI:
			msi_write(vp, vp->msi_pos, pos, count, val);
			return 0;
		case CFG_EXP:
			return exp_write(vp, vp->exp_pos, pos, count, val);
		case CFG_OTHER:
			return 0;
		default:
			default_write(vp, pos, count, val);
			return 0;
		}
	}

	switch (r) {
	case CFG_UNASSIGNED:
	case CFG_OTHER:
		val = pci_dev_cfg_read(vp->pdev, pos, count);
		break;
	case CFG_BASIC:
		if (vp->bardirty && chunk_is_bar(pos, count))
			bar_fixup(vp);
		val = default_read(vp, pos, count);
		break;
	case CFG_MSIX: {
		/* enabled means enabled through SET_IRQS */
		uint8_t *hi = vp->vconfig + vp->msix_pos + PCI_MSIX_FLAGS + 1;

		if (vp->irq_type == VFIO_PCI_IRQ_MSIX)
			*hi |= PCI_MSIX_FLAGS_ENABLE >> 8;
		else
			*hi &= ~(PCI_MSIX_FLAGS_ENABLE >> 8);
		val = default_read(vp, pos, count);
		break;
	}
	default:
		val = default_read(vp, pos, count);
		break;
	}
	put_le(buf, count, val);
	return 0;
}

ssize_t vfio_pci_config_rw(struct vfio_pci *vp, void *buf, size_t count, uint64_t pos,
			   bool iswrite)
{
	unsigned int cfg_size = vp->pdev->cfg_size;
	uint8_t *p = buf;
	size_t done = 0;

	while (count) {
		unsigned int n;
		int ret;

		if (pos >= cfg_size || count > cfg_size - pos)
			return -EFAULT;
		if (count >= 4 && !(pos % 4))
			n = 4;
		else if (count >= 2 && !(pos % 2))
			n = 2;
		else
			n = 1;
		ret = config_do_rw(vp, p, pos, n, iswrite);
		if (ret < 0)
			return ret;
		p += n;
		pos += n;
		count -= n;
		done += n;
	}
	return done;
}
