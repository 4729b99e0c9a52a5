// SPDX-License-Identifier: MIT
/*
 * ramdev: uvfio's own test device (1234:11e9), not a real product.  It has
 * one of everything vfio-pci handles, so a client can exercise each path:
 *
 *   BAR0 64 KiB MEM64 prefetchable: page 0 registers (trapped), pages 1-15
 *        RAM (mmappable, listed in a sparse-mmap capability)
 *        0x00 RO  ID 0x11e91234
 *        0x04 RW  scratch
 *        0x08 WO  raise message-signalled vector N (the MSI-X doorbell)
 *        0x0c WO  raise message-signalled vector N (the MSI doorbell)
 *        0x10 RW  INTx level (bit 0)
 *        0x18 RO  how many times this register was read before (a read
 *                 side effect, so a test sees each load reach the device)
 *        0x100-0x1ff RW  a register file taking accesses of any size
 *   BAR2 256-byte I/O: plain scratch bytes (pread/pwrite of an I/O BAR)
 *   BAR4 16 KiB MEM32: MSI-X table (8 vectors) at 0, PBA at 0x2000
 *   MSI with 4 vectors, INTA, PCI Express.
 *
 * Both doorbells raise vector N of whichever mode the user enabled: a
 * function signals with the one it was configured for.
 */
#include <errno.h>
#include <string.h>

#include "uvfio/model.h"

#define RAMDEV_ID		0x11e91234u

#define REG_ID			0x00
#define REG_SCRATCH		0x04
#define REG_MSIX_DOORBELL	0x08
#define REG_MSI_DOORBELL	0x0c
#define REG_INTX		0x10
#define REG_READS		0x18
#define REG_FILE		0x100
#define REG_FILE_SIZE		0x100

#define IO_SIZE			256

struct ramdev {
	uint32_t scratch;
	uint32_t intx;
	uint64_t reads;
	uint8_t file[REG_FILE_SIZE];
	uint8_t io[IO_SIZE];
};

static uint64_t ramdev_read(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size)
{
	struct ramdev *rd = uvfio_pci_priv(pdev);
	uint64_t v = 0;

	switch (bar) {
	case 0:
		if (off >= REG_FILE && off < REG_FILE + REG_FILE_SIZE) {
			memcpy(&v, rd->file + (off - REG_FILE), size);
			return v;
		}
		if (off == REG_READS)
			v = rd->reads++;
		else if (off == REG_ID)
			v = RAMDEV_ID;
		else if (off == REG_SCRATCH)
			v = rd->scratch;
		else if (off == REG_INTX)
			v = rd->intx;
		break;
	case 2:
		memcpy(&v, rd->io + off, size);
		return v;
	}
	return size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

static void ramdev_write(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
			 uint64_t val)
{
	struct ramdev *rd = uvfio_pci_priv(pdev);

	if (bar == 2) {
		memcpy(rd->io + off, &val, size);
		return;
	}
	if (bar != 0)
		return;
	if (off >= REG_FILE && off < REG_FILE + REG_FILE_SIZE) {
		memcpy(rd->file + (off - REG_FILE), &val, size);
		return;
	}
	switch (off) {
	case REG_SCRATCH:
		rd->scratch = val;
		break;
	case REG_MSIX_DOORBELL:
	case REG_MSI_DOORBELL:
		uvfio_pci_msi_notify(pdev, (uint32_t)val);
		break;
	case REG_INTX:
		rd->intx = val & 1;
		uvfio_pci_intx_set(pdev, rd->intx);
		break;
	}
}

static void ramdev_reset(struct uvfio_pci_dev *pdev)
{
	struct ramdev *rd = uvfio_pci_priv(pdev);

	memset(rd, 0, sizeof(*rd));
	memset(uvfio_pci_bar_ram(pdev, 0), 0, 64 << 10);
}

static int ramdev_create(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args)
{
	const struct uvfio_bar_desc bar0 = {
		.kind = UVFIO_BAR_MEM64,
		.size = 64 << 10,
		.prefetchable = true,
		.nr_areas = 1,
		.areas = { { .offset = 0x1000, .size = 0xf000 } },
	};
	const struct uvfio_bar_desc bar2 = { .kind = UVFIO_BAR_IO, .size = IO_SIZE };
	const struct uvfio_bar_desc bar4 = { .kind = UVFIO_BAR_MEM32, .size = 16 << 10 };
	int ret;

	(void)args;
	uvfio_pci_set_ids(pdev, 0x1234, 0x11e9, 0x1234, 0x0001, 0xff0000, 0x01);
	ret = uvfio_pci_add_bar(pdev, 0, &bar0);
	if (!ret)
		ret = uvfio_pci_add_bar(pdev, 2, &bar2);
	if (!ret)
		ret = uvfio_pci_add_bar(pdev, 4, &bar4);
	if (!ret)
		ret = uvfio_pci_add_msi(pdev, 4, true);
	if (!ret)
		ret = uvfio_pci_add_msix(pdev, 8, 4, 0, 0x2000);
	if (!ret)
		ret = uvfio_pci_add_pcie(pdev);
	uvfio_pci_set_intx_pin(pdev, 1);
	return ret;
}

/* What a migration carries: every register (BAR0's RAM is saved for us). */
static size_t ramdev_save(struct uvfio_pci_dev *pdev, void *buf, size_t len)
{
	const struct ramdev *rd = uvfio_pci_priv(pdev);

	if (buf && len >= sizeof(*rd))
		memcpy(buf, rd, sizeof(*rd));
	return sizeof(*rd);
}

static int ramdev_load(struct uvfio_pci_dev *pdev, const void *buf, size_t len)
{
	struct ramdev *rd = uvfio_pci_priv(pdev);
	struct ramdev st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.intx > 1)
		return -EINVAL;
	*rd = st;
	uvfio_pci_intx_set(pdev, rd->intx);
	return 0;
}

const struct uvfio_model_ops uvfio_ramdev_model = {
	.name = "ramdev",
	.priv_size = sizeof(struct ramdev),
	.create = ramdev_create,
	.bar_read = ramdev_read,
	.bar_write = ramdev_write,
	.reset = ramdev_reset,
	.save = ramdev_save,
	.load = ramdev_load,
};
