/* SPDX-License-Identifier: MIT */
/*
 * The emulated PCI function: "the hardware" under the bus driver.  It owns the
 * physical config space (what the device itself answers, before any vfio-pci
 * virtualisation), the BAR backing and the device model.  Bus drivers reach
 * the model only through these functions, like a kernel driver reaches a
 * device only through config cycles and BAR accesses.
 */
#ifndef UVFIO_PCI_PCI_DEV_H
#define UVFIO_PCI_PCI_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "uvfio/model.h"

struct host_device;
struct vfio_pci;

#define PCI_NUM_BARS		6
#define PCI_ROM_SLOT		6
#define PCI_CFG_SIZE		256
#define PCIE_CFG_SIZE		4096

/* Where pci_dev_finalize() lays out the capabilities (dword aligned). */
#define UVFIO_CAP_PM_POS	0x40
#define UVFIO_CAP_MSI_POS	0x48
#define UVFIO_CAP_MSIX_POS	0x60
#define UVFIO_CAP_EXP_POS	0x70
#define UVFIO_ECAP_AER_POS	0x100

/* Where a model may place device-specific config registers
 * (uvfio_pci_add_config_reg()): past the capabilities above (PCI Express
 * ends at 0xac, AER with its TLP prefix log at 0x148). */
#define UVFIO_CFG_DEV_START	0xb0
#define UVFIO_ECFG_DEV_START	0x148

struct pci_bar {
	enum uvfio_bar_kind kind;	/* 0: absent (or upper half of MEM64) */
	uint64_t size;
	bool prefetchable;
	unsigned int nr_areas;
	struct uvfio_bar_area areas[UVFIO_BAR_MAX_AREAS];
	uint64_t phys;			/* host bus address the bus assigned */
	int memfd;			/* backing of a memory BAR, -1 if none */
	dev_t memfd_dev;		/* its identity, to know it in a client's */
	ino_t memfd_ino;		/* mappings (peer-to-peer DMA) */
	void *ram;
};

struct uvfio_pci_dev {
	char name[32];
	const struct uvfio_model_ops *ops;
	void *priv;
	bool creating;			/* only create() may describe the hardware */

	uint8_t config[PCIE_CFG_SIZE];	/* physical config space */
	uint8_t wmask[PCIE_CFG_SIZE];	/* bits the hardware lets software write */
	uint8_t reset_config[PCIE_CFG_SIZE];	/* power-on state */
	uint8_t w1cmask[PCIE_CFG_SIZE];	/* bits a written 1 clears (model registers) */
	bool ext_cfg_regs;		/* a model register lies past 0x100 */
	unsigned int cfg_size;

	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t pin;
	bool is_pcie;
	unsigned int msi_vectors;	/* 0: no MSI capability */
	bool msi_64;
	unsigned int msix_vectors;	/* 0: no MSI-X capability */
	int msix_bar;
	uint32_t msix_table_off, msix_pba_off;

	bool intx_level;
	/* stopped by its user (migration): no DMA, interrupts held */
	bool stopped;
	struct vfio_pci *vpci;		/* when bound to vfio-pci */

	int timer_fd;			/* uvfio_pci_schedule(), -1 until used */
	void (*timer_fn)(struct uvfio_pci_dev *pdev);
};

/* Creates a function running ops->create(); bar addresses come from the bus. */
int pci_dev_create(const char *name, const struct uvfio_model_ops *ops,
		   const struct uvfio_model_args *args, struct uvfio_pci_dev **out);
void pci_dev_destroy(struct uvfio_pci_dev *pdev);
/* Programs BAR `bar` with its bus address (the bus's resource assignment). */
void pci_dev_set_bar_addr(struct uvfio_pci_dev *pdev, int bar, uint64_t addr);

/* Config cycles to the hardware: any size/offset inside cfg_size. */
uint32_t pci_dev_cfg_read(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size);
void pci_dev_cfg_write(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
		       uint32_t val);
uint16_t pci_dev_command(struct uvfio_pci_dev *pdev);

/* BAR accesses (naturally aligned 1/2/4/8 bytes): RAM areas or the model. */
uint64_t pci_dev_bar_read(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size);
void pci_dev_bar_write(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
		       uint64_t val);
/* len bytes at off as the CPU would move them: naturally aligned pieces of
 * 8/4/2/1 bytes, each a bar read or write.  The caller checks bounds. */
void pci_dev_bar_rw(struct uvfio_pci_dev *pdev, int bar, uint64_t off, void *buf, size_t len,
		    bool write);
/* The memory BAR whose backing file is the file st describes (fstat of
 * another descriptor of it), or -1. */
struct stat;
int pci_dev_bar_of_stat(struct uvfio_pci_dev *pdev, const struct stat *st);
/* The RAM area of `bar` holding [off, off+len), or NULL. */
/* The run of registers (no RAM area) of bar holding [off, off+len), in
 * [*start, *end); false if that range is not all registers. */
bool pci_dev_bar_regs_around(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint64_t len,
			     uint64_t *start, uint64_t *end);
const struct uvfio_bar_area *pci_dev_bar_area(struct uvfio_pci_dev *pdev, int bar,
					      uint64_t off, uint64_t len);
bool pci_dev_in_msix_table(struct uvfio_pci_dev *pdev, int bar, uint64_t off, uint64_t len);
uint32_t pci_dev_msix_table_size(struct uvfio_pci_dev *pdev);

/* Function-level reset: model registers and config space to power-on state. */
void pci_dev_function_reset(struct uvfio_pci_dev *pdev);

/* Little-endian config-space fields of 1, 2 or 4 bytes. */
static inline void put_le(uint8_t *p, unsigned int size, uint32_t v)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

#endif
