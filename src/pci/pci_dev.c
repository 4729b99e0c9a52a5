// SPDX-License-Identifier: MIT
/*
 * The emulated PCI function: physical config space built from the model's
 * description, BAR backing, and the model-facing services (DMA, identity).
 */
#include "pci_dev.h"

#include <errno.h>
#include <stdio.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/vfio.h"
#include "util/loop.h"
#include "vfio_pci_priv.h"

#define PAGE_SIZE_4K	4096u

/* COMMAND bits the hardware implements. */
#define HW_COMMAND_WMASK (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

/* Sets a register's power-on value and which bits software may change. */
static void set_reg(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
		    uint32_t val, uint32_t wmask)
{
	put_le(pdev->config + off, size, val);
	put_le(pdev->wmask + off, size, wmask);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- describing the hardware ---- */

void uvfio_pci_set_ids(struct uvfio_pci_dev *pdev, uint16_t vendor, uint16_t device,
		       uint16_t subsys_vendor, uint16_t subsys_device,
		       uint32_t class_code, uint8_t revision)
{
	if (!pdev->creating)
		return;
	set_reg(pdev, PCI_VENDOR_ID, 2, vendor, 0);
	set_reg(pdev, PCI_DEVICE_ID, 2, device, 0);
	set_reg(pdev, PCI_SUBSYSTEM_VENDOR_ID, 2, subsys_vendor, 0);
	set_reg(pdev, PCI_SUBSYSTEM_ID, 2, subsys_device, 0);
	set_reg(pdev, PCI_REVISION_ID, 1, revision, 0);
	set_reg(pdev, PCI_CLASS_PROG, 3, class_code & 0xffffff, 0);
}

static bool areas_valid(const struct uvfio_bar_desc *d)
{
	if (d->nr_areas > UVFIO_BAR_MAX_AREAS || (d->kind == UVFIO_BAR_IO && d->nr_areas))
		return false;
	for (unsigned int i = 0; i < d->nr_areas; i++) {
		const struct uvfio_bar_area *a = &d->areas[i];

		if (!a->size || (a->offset | a->size) & (PAGE_SIZE_4K - 1) ||
		    a->offset >= d->size || a->size > d->size - a->offset)
			return false;
		for (unsigned int j = 0; j < i; j++) {
			const struct uvfio_bar_area *b = &d->areas[j];

			if (a->offset < b->offset + b->size && b->offset < a->offset + a->size)
				return false;
		}
	}
	return true;
}

int uvfio_pci_add_bar(struct uvfio_pci_dev *pdev, int bar, const struct uvfio_bar_desc *desc)
{
	uint32_t type;

	if (!pdev->creating || bar < 0 || bar >= PCI_NUM_BARS || !is_pow2(desc->size))
		return -EINVAL;
	switch (desc->kind) {
	case UVFIO_BAR_MEM32:
		if (desc->size < PAGE_SIZE_4K || desc->size > (1ULL << 31))
			return -EINVAL;
		type = PCI_BASE_ADDRESS_MEM_TYPE_32;
		break;
	case UVFIO_BAR_MEM64:
		if (desc->size < PAGE_SIZE_4K || bar == PCI_NUM_BARS - 1 || pdev->bars[bar + 1].kind)
			return -EINVAL;
		type = PCI_BASE_ADDRESS_MEM_TYPE_64;
		break;
	case UVFIO_BAR_IO:
		if (desc->size < 4 || desc->size > 256 || desc->prefetchable)
			return -EINVAL;
		type = PCI_BASE_ADDRESS_SPACE_IO;
		break;
	default:
		return -EINVAL;
	}
	if (pdev->bars[bar].kind || (bar > 0 && pdev->bars[bar - 1].kind == UVFIO_BAR_MEM64) ||
	    !areas_valid(desc))
		return -EINVAL;
	if (desc->prefetchable)
		type |= PCI_BASE_ADDRESS_MEM_PREFETCH;

	struct pci_bar *b = &pdev->bars[bar];

	b->kind = desc->kind;
	b->size = desc->size;
	b->prefetchable = desc->prefetchable;
	b->nr_areas = desc->nr_areas;
	memcpy(b->areas, desc->areas, sizeof(b->areas));

	unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bar;

	set_reg(pdev, reg, 4, type, (uint32_t)~(desc->size - 1) & ~(desc->kind == UVFIO_BAR_IO ?
				    ~PCI_BASE_ADDRESS_IO_MASK : ~PCI_BASE_ADDRESS_MEM_MASK));
	if (desc->kind == UVFIO_BAR_MEM64)
		set_reg(pdev, reg + 4, 4, 0, (uint32_t)(~(desc->size - 1) >> 32));
	return 0;
}

void uvfio_pci_set_intx_pin(struct uvfio_pci_dev *pdev, uint8_t pin)
{
	if (pdev->creating && pin <= 4)
		pdev->pin = pin;
}

int uvfio_pci_add_msi(struct uvfio_pci_dev *pdev, unsigned int nvectors, bool is64)
{
	if (!pdev->creating || pdev->msi_vectors || !is_pow2(nvectors) || nvectors > 32)
		return -EINVAL;
	pdev->msi_vectors = nvectors;
	pdev->msi_64 = is64;
	return 0;
}

int uvfio_pci_add_msix(struct uvfio_pci_dev *pdev, unsigned int nvectors, int bar,
		       uint32_t table_offset, uint32_t pba_offset)
{
	if (!pdev->creating || pdev->msix_vectors || !nvectors || nvectors > 2048 ||
	    bar < 0 || bar >= PCI_NUM_BARS || (table_offset | pba_offset) & 7)
		return -EINVAL;
	pdev->msix_vectors = nvectors;
	pdev->msix_bar = bar;
	pdev->msix_table_off = table_offset;
	pdev->msix_pba_off = pba_offset;
	return 0;
}

int uvfio_pci_add_pcie(struct uvfio_pci_dev *pdev)
{
	if (!pdev->creating)
		return -EINVAL;
	pdev->is_pcie = true;
	pdev->cfg_size = PCIE_CFG_SIZE;
	return 0;
}

int uvfio_pci_add_config_reg(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			      uint32_t val, uint32_t wmask, uint32_t w1cmask)
{
	if (!pdev->creating || (size != 1 && size != 2 && size != 4) || off % size ||
	    off + size > PCIE_CFG_SIZE || wmask & w1cmask)
		return -EINVAL;
	if (off < UVFIO_CFG_DEV_START || (off >= PCI_CFG_SIZE && off < UVFIO_ECFG_DEV_START) ||
	    (off < PCI_CFG_SIZE && off + size > PCI_CFG_SIZE))
		return -EINVAL;
	set_reg(pdev, off, size, val, wmask | w1cmask);
	put_le(pdev->w1cmask + off, size, w1cmask);
	if (off >= PCI_CFG_SIZE)
		pdev->ext_cfg_regs = true;
	return 0;
}

uint32_t pci_dev_msix_table_size(struct uvfio_pci_dev *pdev)
{
	return pdev->msix_vectors * PCI_MSIX_ENTRY_SIZE;
}

static uint32_t msix_pba_size(struct uvfio_pci_dev *pdev)
{
	return (pdev->msix_vectors + 63) / 64 * 8;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The MSI-X structures must sit inside a memory BAR and never in RAM. */
static int check_msix(struct uvfio_pci_dev *pdev)
{
	struct pci_bar *b = &pdev->bars[pdev->msix_bar];
	uint64_t tsz = pci_dev_msix_table_size(pdev), psz = msix_pba_size(pdev);

	if (b->kind != UVFIO_BAR_MEM32 && b->kind != UVFIO_BAR_MEM64)
		return -EINVAL;
	if (pdev->msix_table_off + tsz > b->size || pdev->msix_pba_off + psz > b->size ||
	    ranges_overlap(pdev->msix_table_off, tsz, pdev->msix_pba_off, psz))
		return -EINVAL;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		if (ranges_overlap(b->areas[i].offset, b->areas[i].size, pdev->msix_table_off, tsz) ||
		    ranges_overlap(b->areas[i].offset, b->areas[i].size, pdev->msix_pba_off, psz))
			return -EINVAL;
	}
	return 0;
}

/* Capability list: PM first (Linux and QEMU expect one), then MSI, MSI-X,
 * PCI Express; AER as the first extended capability of a PCIe function. */
static void build_caps(struct uvfio_pci_dev *pdev)
{
	uint8_t *prev_next = &pdev->config[PCI_CAPABILITY_LIST];
	unsigned int p;

	set_reg(pdev, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);

	p = UVFIO_CAP_PM_POS;
	*prev_next = p;
	set_reg(pdev, p + PCI_CAP_LIST_ID, 1, PCI_CAP_ID_PM, 0);
	set_reg(pdev, p + PCI_PM_PMC, 2, 3, 0);		/* PM spec 1.2, D0/D3hot only */
	set_reg(pdev, p + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET,
		PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
	prev_next = &pdev->config[p + PCI_CAP_LIST_NEXT];

	if (pdev->msi_vectors) {
		unsigned int qmask = __builtin_ctz(pdev->msi_vectors);
		unsigned int data = pdev->msi_64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;

		p = UVFIO_CAP_MSI_POS;
		*prev_next = p;
		set_reg(pdev, p + PCI_CAP_LIST_ID, 1, PCI_CAP_ID_MSI, 0);
		set_reg(pdev, p + PCI_MSI_FLAGS, 2,
			(pdev->msi_64 ? PCI_MSI_FLAGS_64BIT : 0) | qmask << 1,
			PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		set_reg(pdev, p + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc);
		if (pdev->msi_64)
			set_reg(pdev, p + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffff);
		set_reg(pdev, p + data, 2, 0, 0xffff);
		prev_next = &pdev->config[p + PCI_CAP_LIST_NEXT];
	}

	if (pdev->msix_vectors) {
		p = UVFIO_CAP_MSIX_POS;
		*prev_next = p;
		set_reg(pdev, p + PCI_CAP_LIST_ID, 1, PCI_CAP_ID_MSIX, 0);
		set_reg(pdev, p + PCI_MSIX_FLAGS, 2, pdev->msix_vectors - 1,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
		set_reg(pdev, p + PCI_MSIX_TABLE, 4, pdev->msix_table_off | pdev->msix_bar, 0);
		set_reg(pdev, p + PCI_MSIX_PBA, 4, pdev->msix_pba_off | pdev->msix_bar, 0);
		prev_next = &pdev->config[p + PCI_CAP_LIST_NEXT];
	}

	if (pdev->is_pcie) {
		p = UVFIO_CAP_EXP_POS;
		*prev_next = p;
		set_reg(pdev, p + PCI_CAP_LIST_ID, 1, PCI_CAP_ID_EXP, 0);
		set_reg(pdev, p + PCI_EXP_FLAGS, 2, 2 | PCI_EXP_TYPE_ENDPOINT << 4, 0);
		set_reg(pdev, p + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR, 0);
		/* relaxed ordering, no snoop, 512-byte read requests */
		set_reg(pdev, p + PCI_EXP_DEVCTL, 2,
			PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | 0x2000,
			(uint16_t)~PCI_EXP_DEVCTL_BCR_FLR);
		set_reg(pdev, p + PCI_EXP_LNKCAP, 4, 0x11, 0);	/* 2.5 GT/s x1 */
		set_reg(pdev, p + PCI_EXP_LNKSTA, 2, 0x11, 0);
		set_reg(pdev, p + PCI_EXP_DEVCTL2, 2, 0, 0xffff);

		set_reg(pdev, UVFIO_ECAP_AER_POS, 4, PCI_EXT_CAP_ID_ERR | 2 << 16, 0);
		set_reg(pdev, UVFIO_ECAP_AER_POS + PCI_ERR_UNCOR_MASK, 4, 0, 0x03fff030);
		set_reg(pdev, UVFIO_ECAP_AER_POS + PCI_ERR_UNCOR_SEVER, 4, 0x00462030, 0x03fff030);
		set_reg(pdev, UVFIO_ECAP_AER_POS + PCI_ERR_COR_MASK, 4, 0x00002000, 0x0000f1c1);
	}
}

static int build_config(struct uvfio_pci_dev *pdev)
{
	if (pdev->msix_vectors && check_msix(pdev))
		return -EINVAL;
	/* extended config registers need the 4 KiB config space */
	if (pdev->ext_cfg_regs && !pdev->is_pcie)
		return -EINVAL;
	set_reg(pdev, PCI_COMMAND, 2, 0, HW_COMMAND_WMASK);
	set_reg(pdev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
	if (!pdev->is_pcie)
		set_reg(pdev, PCI_LATENCY_TIMER, 1, 0, 0xff);
	set_reg(pdev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0);
	set_reg(pdev, PCI_INTERRUPT_LINE, 1, 0, 0xff);
	set_reg(pdev, PCI_INTERRUPT_PIN, 1, pdev->pin, 0);
	build_caps(pdev);
	memcpy(pdev->reset_config, pdev->config, sizeof(pdev->config));
	return 0;
}

static int alloc_bar_ram(struct uvfio_pci_dev *pdev, struct pci_bar *b)
{
	struct stat st;

	b->memfd = memfd_create(pdev->name, MFD_CLOEXEC);
	if (b->memfd < 0)
		return -errno;
	if (ftruncate(b->memfd, b->size) < 0)
		return -errno;
	if (fstat(b->memfd, &st) < 0)
		return -errno;
	b->memfd_dev = st.st_dev;
	b->memfd_ino = st.st_ino;
	b->ram = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	if (b->ram == MAP_FAILED) {
		b->ram = NULL;
		return -errno;
	}
	return 0;
}

int pci_dev_create(const char *name, const struct uvfio_model_ops *ops,
		   const struct uvfio_model_args *args, struct uvfio_pci_dev **out)
{
	struct uvfio_pci_dev *pdev = calloc(1, sizeof(*pdev));
	int ret;

	if (!pdev)
		return -ENOMEM;
	snprintf(pdev->name, sizeof(pdev->name), "%s", name);
	pdev->ops = ops;
	pdev->cfg_size = PCI_CFG_SIZE;
	pdev->msix_bar = -1;
	pdev->timer_fd = -1;
	for (int i = 0; i < PCI_NUM_BARS; i++)
		pdev->bars[i].memfd = -1;
	pdev->priv = calloc(1, ops->priv_size ? ops->priv_size : 1);
	if (!pdev->priv) {
		free(pdev);
		return -ENOMEM;
	}

	pdev->creating = true;
	ret = ops->create ? ops->create(pdev, args) : 0;
	pdev->creating = false;
	if (ret < 0) {
		free(pdev->priv);
		free(pdev);
		return ret;
	}
	ret = build_config(pdev);
	/* Every memory BAR is mmappable: its RAM areas are this memory, its
	 * register pages are mapped from it inaccessible so that they trap. */
	for (int i = 0; i < PCI_NUM_BARS && !ret; i++) {
		enum uvfio_bar_kind kind = pdev->bars[i].kind;

		if (kind == UVFIO_BAR_MEM32 || kind == UVFIO_BAR_MEM64)
			ret = alloc_bar_ram(pdev, &pdev->bars[i]);
	}
	if (ret < 0) {
		pci_dev_destroy(pdev);
		return ret;
	}
	*out = pdev;
	return 0;
}

void pci_dev_destroy(struct uvfio_pci_dev *pdev)
{
	if (pdev->ops->destroy)
		pdev->ops->destroy(pdev);
	if (pdev->timer_fd >= 0) {
		uvfio_loop_unwatch(pdev->timer_fd);
		close(pdev->timer_fd);
	}
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];

		if (b->ram)
			munmap(b->ram, b->size);
		if (b->memfd >= 0)
			close(b->memfd);
	}
	free(pdev->priv);
	free(pdev);
}

void pci_dev_set_bar_addr(struct uvfio_pci_dev *pdev, int bar, uint64_t addr)
{
	struct pci_bar *b = &pdev->bars[bar];
	unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint32_t lo = get_le(pdev->config + reg, 4);

	lo &= b->kind == UVFIO_BAR_IO ? ~PCI_BASE_ADDRESS_IO_MASK : ~PCI_BASE_ADDRESS_MEM_MASK;
	put_le(pdev->config + reg, 4, lo | (uint32_t)addr);
	if (b->kind == UVFIO_BAR_MEM64)
		put_le(pdev->config + reg + 4, 4, addr >> 32);
	b->phys = addr;
}

/* ---- config cycles ---- */

uint32_t pci_dev_cfg_read(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size)
{
	if (off >= pdev->cfg_size || size > pdev->cfg_size - off)
		return ~0u;
	return get_le(pdev->config + off, size);
}

void pci_dev_cfg_write(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
		       uint32_t val)
{
	if (off >= pdev->cfg_size || size > pdev->cfg_size - off)
		return;
	for (unsigned int i = 0; i < size; i++) {
		uint8_t m = pdev->wmask[off + i] & ~pdev->w1cmask[off + i];
		uint8_t b = val >> (8 * i);

		pdev->config[off + i] = (pdev->config[off + i] & ~m) | (b & m);
		pdev->config[off + i] &= ~(b & pdev->w1cmask[off + i]);
	}
}

uint16_t pci_dev_command(struct uvfio_pci_dev *pdev)
{
	return get_le(pdev->config + PCI_COMMAND, 2);
}

void pci_dev_function_reset(struct uvfio_pci_dev *pdev)
{
	memcpy(pdev->config, pdev->reset_config, sizeof(pdev->config));
	pdev->intx_level = false;
	if (pdev->ops->reset)
		pdev->ops->reset(pdev);
}

/* ---- BARs ---- */

const struct uvfio_bar_area *pci_dev_bar_area(struct uvfio_pci_dev *pdev, int bar,
					      uint64_t off, uint64_t len)
{
	struct pci_bar *b = &pdev->bars[bar];

	for (unsigned int i = 0; i < b->nr_areas; i++) {
		const struct uvfio_bar_area *a = &b->areas[i];

		if (off >= a->offset && len <= a->size && off - a->offset <= a->size - len)
			return a;
	}
	return NULL;
}

bool pci_dev_in_msix_table(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint64_t len)
{
	return pdev->msix_vectors && bar == pdev->msix_bar &&
	       ranges_overlap(off, len, pdev->msix_table_off, pci_dev_msix_table_size(pdev));
}

static bool in_msix_pba(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint64_t len)
{
	return pdev->msix_vectors && bar == pdev->msix_bar &&
	       ranges_overlap(off, len, pdev->msix_pba_off, msix_pba_size(pdev));
}

uint64_t pci_dev_bar_read(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	if (pci_dev_bar_area(pdev, bar, off, size)) {
		memcpy(&v, (uint8_t *)pdev->bars[bar].ram + off, size);
		return v;
	}
	/* The function owns its MSI-X structures; no vector is ever pending
	 * because delivery is immediate. */
	if (pci_dev_in_msix_table(pdev, bar, off, size) || in_msix_pba(pdev, bar, off, size))
		return 0;
	if (!pdev->ops->bar_read)
		return ~0ULL >> (64 - 8 * size);
	return pdev->ops->bar_read(pdev, bar, off, size);
}

void pci_dev_bar_write(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
		       uint64_t val)
{
	if (pci_dev_bar_area(pdev, bar, off, size)) {
		memcpy((uint8_t *)pdev->bars[bar].ram + off, &val, size);
		return;
	}
	if (pci_dev_in_msix_table(pdev, bar, off, size) || in_msix_pba(pdev, bar, off, size))
		return;
	if (pdev->ops->bar_write)
		pdev->ops->bar_write(pdev, bar, off, size, val);
}

static unsigned int access_size(uint64_t off, size_t left)
{
	if (left >= 8 && !(off % 8))
		return 8;
	if (left >= 4 && !(off % 4))
		return 4;
	if (left >= 2 && !(off % 2))
		return 2;
	return 1;
}

/* The RAM area holding off, or NULL and in *next where the first area past
 * off begins (the BAR size if none). */
static const struct uvfio_bar_area *area_at(struct uvfio_pci_dev *pdev, int bar, uint64_t off,
					    uint64_t *next)
{
	struct pci_bar *b = &pdev->bars[bar];

	*next = b->size;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		const struct uvfio_bar_area *a = &b->areas[i];

		if (off >= a->offset && off - a->offset < a->size)
			return a;
		if (a->offset > off && a->offset < *next)
			*next = a->offset;
	}
	return NULL;
}

bool pci_dev_bar_regs_around(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint64_t len,
			     uint64_t *start, uint64_t *end)
{
	struct pci_bar *b = &pdev->bars[bar];

	if (off >= b->size || len > b->size - off)
		return false;
	*start = 0;
	*end = b->size;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		const struct uvfio_bar_area *a = &b->areas[i];

		if (a->offset >= off + len && a->offset < *end)
			*end = a->offset;
		else if (a->offset + a->size <= off && a->offset + a->size > *start)
			*start = a->offset + a->size;
		else if (a->offset < off + len && a->offset + a->size > off)
			return false;
	}
	return true;
}

/* Register pieces of [off, off+len), which holds no RAM: where they lie is
 * looked up once for the run, not once per piece. */
static void bar_regs_rw(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint8_t *p,
			size_t len, bool write)
{
	bool msix = pci_dev_in_msix_table(pdev, bar, off, len) || in_msix_pba(pdev, bar, off, len);

	while (len) {
		unsigned int n = access_size(off, len);
		uint64_t v = 0;

		if (msix && (pci_dev_in_msix_table(pdev, bar, off, n) ||
			     in_msix_pba(pdev, bar, off, n))) {
			/* the function owns them: reads 0 (nothing pends) */
			if (!write)
				memset(p, 0, n);
		} else if (write) {
			memcpy(&v, p, n);
			if (pdev->ops->bar_write)
				pdev->ops->bar_write(pdev, bar, off, n, v);
		} else {
			v = pdev->ops->bar_read ? pdev->ops->bar_read(pdev, bar, off, n)
						: ~0ULL >> (64 - 8 * n);
			memcpy(p, &v, n);
		}
		off += n;
		p += n;
		len -= n;
	}
}

void pci_dev_bar_rw(struct uvfio_pci_dev *pdev, int bar, uint64_t off, void *buf, size_t len,
		    bool write)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t next;
		const struct uvfio_bar_area *a = area_at(pdev, bar, off, &next);
		size_t run;

		if (a) {
			/* RAM is memory: the run that lies in one area moves at once */
			uint8_t *ram = (uint8_t *)pdev->bars[bar].ram + off;

			run = a->offset + a->size - off < len ? a->offset + a->size - off : len;
			memcpy(write ? ram : p, write ? p : ram, run);
		} else {
			run = next > off && next - off < len ? next - off : len;
			bar_regs_rw(pdev, bar, off, p, run, write);
		}
		off += run;
		p += run;
		len -= run;
	}
}

int pci_dev_bar_of_stat(struct uvfio_pci_dev *pdev, const struct stat *st)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &pdev->bars[i];

		if (b->memfd >= 0 && b->memfd_dev == st->st_dev && b->memfd_ino == st->st_ino)
			return i;
	}
	return -1;
}

/* ---- model services ---- */

static void timer_fired(void *arg, uint32_t events)
{
	struct uvfio_pci_dev *pdev = arg;
	void (*fn)(struct uvfio_pci_dev *) = pdev->timer_fn;
	uint64_t n;

	(void)events;
	if (read(pdev->timer_fd, &n, sizeof(n)) != sizeof(n) || !fn)
		return;
	pdev->timer_fn = NULL;
	fn(pdev);
}

int uvfio_pci_schedule(struct uvfio_pci_dev *pdev, unsigned int us,
		       void (*fn)(struct uvfio_pci_dev *pdev))
{
	/* a zero it_value would disarm: the soonest is 1 ns */
	struct itimerspec its = {
		.it_value = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 + 1 },
	};

	if (pdev->timer_fd < 0) {
		int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

		if (fd < 0)
			return -errno;
		if (uvfio_loop_watch(fd, EPOLLIN, timer_fired, pdev) < 0) {
			close(fd);
			return -ENOMEM;
		}
		pdev->timer_fd = fd;
	}
	if (timerfd_settime(pdev->timer_fd, 0, &its, NULL) < 0)
		return -errno;
	pdev->timer_fn = fn;
	return 0;
}

void uvfio_pci_cancel_scheduled(struct uvfio_pci_dev *pdev)
{
	const struct itimerspec off = { 0 };

	pdev->timer_fn = NULL;
	if (pdev->timer_fd >= 0)
		timerfd_settime(pdev->timer_fd, 0, &off, NULL);
}

void uvfio_pci_config_set_bits(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			       uint32_t bits)
{
	if ((size != 1 && size != 2 && size != 4) || off >= pdev->cfg_size ||
	    size > pdev->cfg_size - off)
		return;
	put_le(pdev->config + off, size, get_le(pdev->config + off, size) | bits);
}

void *uvfio_pci_priv(struct uvfio_pci_dev *pdev)
{
	return pdev->priv;
}

const char *uvfio_pci_name(struct uvfio_pci_dev *pdev)
{
	return pdev->name;
}

void *uvfio_pci_bar_ram(struct uvfio_pci_dev *pdev, int bar)
{
	if (bar < 0 || bar >= PCI_NUM_BARS)
		return NULL;
	return pdev->bars[bar].ram;
}

bool uvfio_pci_msix_enabled(struct uvfio_pci_dev *pdev)
{
	/* the hardware's own bit, which the bus driver sets with SET_IRQS */
	return pdev->msix_vectors &&
	       (get_le(pdev->config + UVFIO_CAP_MSIX_POS + PCI_MSIX_FLAGS, 2) &
		PCI_MSIX_FLAGS_ENABLE);
}

static int pci_dma(struct uvfio_pci_dev *pdev, uint64_t iova, void *buf, size_t len, bool write)
{
	struct vfio_device *vdev = pdev->vpci ? &pdev->vpci->vdev : NULL;

	if (!vdev)
		return -EFAULT;
	/* stopped for migration: it issues nothing */
	if (pdev->stopped)
		return -EIO;
	/* Bus mastering off: the function cannot issue requests at all. */
	if (!(pci_dev_command(pdev) & PCI_COMMAND_MASTER)) {
		vdev->stats.dma_faults++;
		return -EFAULT;
	}
	/* the core counts transfers and IOMMU faults in vdev->stats */
	return vfio_device_dma_rw(vdev, iova, buf, len, write) ? -EFAULT : 0;
}

bool uvfio_pci_stopped(const struct uvfio_pci_dev *pdev)
{
	return pdev->stopped;
}

int uvfio_pci_dma_read(struct uvfio_pci_dev *pdev, uint64_t iova, void *buf, size_t len)
{
	return pci_dma(pdev, iova, buf, len, false);
}

int uvfio_pci_dma_write(struct uvfio_pci_dev *pdev, uint64_t iova, const void *buf, size_t len)
{
	return pci_dma(pdev, iova, (void *)buf, len, true);
}
