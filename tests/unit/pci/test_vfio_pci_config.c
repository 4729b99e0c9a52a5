// SPDX-License-Identifier: MIT
/* Config space virtualisation: BAR sizing, read-only fields, capability
 * chains, COMMAND semantics, MSI flags, device-specific registers. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci/pci_bus.h"
#include "pci/pci_dev.h"
#include "pci_test_util.h"

static struct uvfio_pci_dev *hw(struct vfio_device *vdev)
{
	return vdev->dev->bus_data;
}

static int teardown(void **state)
{
	(void)state;
	test_close_all();
	return 0;
}

static void test_bar_sizing_mem32(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:04.0", "edu");
	uint32_t orig = cfg_read(v, PCI_BASE_ADDRESS_0, 4);

	(void)state;
	assert_int_not_equal(orig, 0);
	assert_int_equal(orig & 0xfffff, 0);	/* 1 MiB aligned, MEM32, non-prefetch */
	cfg_write(v, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
	/* the hardware BAR never changes */
	assert_int_equal(pci_dev_cfg_read(hw(v), PCI_BASE_ADDRESS_0, 4), orig);
	cfg_write(v, PCI_BASE_ADDRESS_0, 4, orig);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_0, 4), orig);
	/* absent BARs and the ROM read 0 whatever is written */
	for (unsigned int off = PCI_BASE_ADDRESS_1; off <= PCI_BASE_ADDRESS_5; off += 4) {
		cfg_write(v, off, 4, 0xffffffff);
		assert_int_equal(cfg_read(v, off, 4), 0);
	}
	cfg_write(v, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, PCI_ROM_ADDRESS, 4), 0);
}

static void test_bar_sizing_mem64_io(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:05.0", "ramdev");

	(void)state;
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_0, 4) & 0xf, 0xc);	/* 64-bit prefetch */
	cfg_write(v, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cfg_write(v, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_0, 4), 0xffff000c);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	/* I/O BAR of 256 bytes */
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_2, 4) & 3, PCI_BASE_ADDRESS_SPACE_IO);
	cfg_write(v, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_2, 4), 0xffffff01);
	/* 16 KiB MEM32 */
	cfg_write(v, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_4, 4), 0xffffc000);
	/* byte-wise sizing write of the low byte only keeps the type bits */
	cfg_write(v, PCI_BASE_ADDRESS_4, 1, 0xff);
	assert_int_equal(cfg_read(v, PCI_BASE_ADDRESS_4, 1), 0x00);
}

static void test_read_only_fields(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:04.0", "edu");

	(void)state;
	assert_int_equal(cfg_read(v, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(v, PCI_DEVICE_ID, 2), 0x11e8);
	assert_int_equal(cfg_read(v, PCI_VENDOR_ID, 4), 0x11e81234);
	cfg_write(v, PCI_VENDOR_ID, 4, 0xdeadbeef);
	assert_int_equal(cfg_read(v, PCI_VENDOR_ID, 4), 0x11e81234);
	assert_int_equal(cfg_read(v, PCI_CLASS_REVISION, 4), 0xff000010);
	cfg_write(v, PCI_CLASS_REVISION, 4, 0);
	assert_int_equal(cfg_read(v, PCI_CLASS_REVISION, 4), 0xff000010);
	assert_int_equal(cfg_read(v, PCI_INTERRUPT_PIN, 1), 1);
	cfg_write(v, PCI_INTERRUPT_PIN, 1, 3);
	assert_int_equal(cfg_read(v, PCI_INTERRUPT_PIN, 1), 1);
	/* interrupt line: virtual, writable, never reaches the hardware */
	cfg_write(v, PCI_INTERRUPT_LINE, 1, 11);
	assert_int_equal(cfg_read(v, PCI_INTERRUPT_LINE, 1), 11);
	assert_int_equal(pci_dev_cfg_read(hw(v), PCI_INTERRUPT_LINE, 1), 0);
	cfg_write(v, PCI_CAPABILITY_LIST, 1, 0);
	assert_int_equal(cfg_read(v, PCI_CAPABILITY_LIST, 1), UVFIO_CAP_PM_POS);
	cfg_write(v, PCI_STATUS, 2, 0xffff);
	assert_true(cfg_read(v, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* an unaligned read is split and still sees the same bytes */
	assert_int_equal(cfg_read(v, 1, 4), 0x0211e812);	/* + COMMAND.MEMORY */
	/* past the end: EFAULT */
	uint32_t x;

	assert_int_equal(dev_read(v, &x, 4, CFG_OFF(4094)), -EFAULT);
	assert_int_equal(dev_read(v, &x, 1, CFG_OFF(4096)), -EFAULT);
}

static void test_cap_chain(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:05.0", "ramdev");
	uint8_t ids[8], n = 0;
	unsigned int pos = cfg_read(v, PCI_CAPABILITY_LIST, 1);

	(void)state;
	while (pos && n < 8) {
		ids[n++] = cfg_read(v, pos + PCI_CAP_LIST_ID, 1);
		if (ids[n - 1] == PCI_CAP_ID_MSI) {
			uint16_t f = cfg_read(v, pos + PCI_MSI_FLAGS, 2);

			assert_true(f & PCI_MSI_FLAGS_64BIT);
			assert_int_equal((f & PCI_MSI_FLAGS_QMASK) >> 1, 2);	/* 4 vectors */
		}
		if (ids[n - 1] == PCI_CAP_ID_MSIX) {
			assert_int_equal(cfg_read(v, pos + PCI_MSIX_FLAGS, 2) & 0x7ff, 7);
			assert_int_equal(cfg_read(v, pos + PCI_MSIX_TABLE, 4), 4);
			assert_int_equal(cfg_read(v, pos + PCI_MSIX_PBA, 4), 0x2004);
		}
		pos = cfg_read(v, pos + PCI_CAP_LIST_NEXT, 1);
	}
	assert_int_equal(n, 4);
	assert_int_equal(ids[0], PCI_CAP_ID_PM);
	assert_int_equal(ids[1], PCI_CAP_ID_MSI);
	assert_int_equal(ids[2], PCI_CAP_ID_MSIX);
	assert_int_equal(ids[3], PCI_CAP_ID_EXP);
	/* AER first in extended space, end of the list */
	uint32_t hdr = cfg_read(v, 0x100, 4);

	assert_int_equal(PCI_EXT_CAP_ID(hdr), PCI_EXT_CAP_ID_ERR);
	assert_int_equal(PCI_EXT_CAP_NEXT(hdr), 0);
	cfg_write(v, 0x100 + PCI_ERR_UNCOR_MASK, 4, 0xffffffff);
	assert_int_equal(cfg_read(v, 0x100 + PCI_ERR_UNCOR_MASK, 4), 0);
}

static void test_command(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:04.0", "edu");
	uint16_t cmd = cfg_read(v, PCI_COMMAND, 2);

	(void)state;
	/* enabled at open like pci_enable_device: memory decode, no mastering */
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_false(cmd & PCI_COMMAND_MASTER);
	cfg_write(v, PCI_COMMAND, 2, cmd | PCI_COMMAND_MASTER);
	assert_true(pci_dev_command(hw(v)) & PCI_COMMAND_MASTER);
	assert_true(cfg_read(v, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	/* INTx disable is virtual */
	cfg_write(v, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	assert_true(cfg_read(v, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE);
	assert_false(pci_dev_command(hw(v)) & PCI_COMMAND_INTX_DISABLE);
	assert_false(cfg_read(v, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	/* memory off reaches the hardware */
	cfg_write(v, PCI_COMMAND, 2, 0);
	assert_false(pci_dev_command(hw(v)) & PCI_COMMAND_MEMORY);
	assert_false(cfg_read(v, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
}

static void test_msi_flags(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:05.0", "ramdev");
	unsigned int f = UVFIO_CAP_MSI_POS + PCI_MSI_FLAGS;
	int efd = eventfd(0, EFD_CLOEXEC);
	int fds[2] = { efd, -1 };

	(void)state;
	/* the user cannot enable MSI through config space */
	cfg_write(v, f, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
	assert_int_equal(cfg_read(v, f, 2) & (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE), 2 << 4);
	/* QSIZE is clamped to what was allocated: 2 vectors -> 1 */
	assert_int_equal(set_irqs_eventfds(v, VFIO_PCI_MSI_IRQ_INDEX, 0, 2, fds), 0);
	cfg_write(v, f, 2, PCI_MSI_FLAGS_ENABLE | 3 << 4);
	assert_int_equal(cfg_read(v, f, 2) & (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE),
			 PCI_MSI_FLAGS_ENABLE | 1 << 4);
	/* address and data are virtual */
	cfg_write(v, UVFIO_CAP_MSI_POS + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	assert_int_equal(cfg_read(v, UVFIO_CAP_MSI_POS + PCI_MSI_ADDRESS_LO, 4), 0xfee00000);
	assert_int_equal(pci_dev_cfg_read(hw(v), UVFIO_CAP_MSI_POS + PCI_MSI_ADDRESS_LO, 4), 0);
	/* MSI-X enable follows SET_IRQS */
	assert_false(cfg_read(v, UVFIO_CAP_MSIX_POS + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(set_irqs_none(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(set_irqs_eventfds(v, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds), 0);
	assert_true(cfg_read(v, UVFIO_CAP_MSIX_POS + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE);
	close(efd);
}

/* Device-specific config registers (the I/OAT's DMAUNCERRSTS, CHANERR_INT,
 * CHANERRMASK_INT): passed through vfio-pci, write-1-to-clear where the
 * model says so, back to power-on after a function reset. */
static void test_model_config_regs(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:06.0", "ioat");
	struct uvfio_pci_dev *pdev = hw(v);

	(void)state;
	assert_int_equal(cfg_read(v, 0x180, 4), 0);
	/* the device logs errors 0x100 | 0x2 | 0x1 */
	uvfio_pci_config_set_bits(pdev, 0x180, 4, 0x103);
	assert_int_equal(cfg_read(v, 0x180, 4), 0x103);
	assert_int_equal(cfg_read(v, 0x181, 1), 0x01);
	/* a written 1 clears, a written 0 keeps, whatever the width */
	cfg_write(v, 0x180, 4, 0x101);
	assert_int_equal(cfg_read(v, 0x180, 4), 0x002);
	cfg_write(v, 0x180, 1, 0x00);
	assert_int_equal(cfg_read(v, 0x180, 4), 0x002);
	cfg_write(v, 0x180, 2, 0x0002);
	assert_int_equal(cfg_read(v, 0x180, 4), 0);
	/* the Linux driver's read-and-write-back clears what it read */
	uvfio_pci_config_set_bits(pdev, 0x148, 4, 0x10);
	cfg_write(v, 0x148, 4, cfg_read(v, 0x148, 4));
	assert_int_equal(cfg_read(v, 0x148, 4), 0);
	/* a plain read-write register */
	cfg_write(v, 0x184, 4, 0xdeadbeef);
	assert_int_equal(cfg_read(v, 0x184, 4), 0xdeadbeef);
	/* software cannot set status bits */
	cfg_write(v, 0x180, 4, 0);
	assert_int_equal(pci_dev_cfg_read(pdev, 0x180, 4), 0);

	uvfio_pci_config_set_bits(pdev, 0x180, 4, 0x1);
	pci_dev_function_reset(pdev);
	assert_int_equal(pci_dev_cfg_read(pdev, 0x180, 4), 0);
	assert_int_equal(pci_dev_cfg_read(pdev, 0x184, 4), 0);
	/* config space nobody claimed stays read-only zero */
	cfg_write(v, 0x190, 4, ~0u);
	assert_int_equal(cfg_read(v, 0x190, 4), 0);
}

static int cfg_reg_results[10];
static bool cfg_reg_pcie;

static int cfg_regs_create(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args)
{
	int *r = cfg_reg_results;

	(void)args;
	*r++ = uvfio_pci_add_config_reg(pdev, 0x40, 4, 0, ~0u, 0);	/* capabilities */
	*r++ = uvfio_pci_add_config_reg(pdev, 0xa8, 4, 0, ~0u, 0);	/* PCI Express */
	*r++ = uvfio_pci_add_config_reg(pdev, 0x100, 4, 0, ~0u, 0);	/* AER */
	*r++ = uvfio_pci_add_config_reg(pdev, 0x144, 4, 0, ~0u, 0);
	*r++ = uvfio_pci_add_config_reg(pdev, 0xb2, 4, 0, ~0u, 0);	/* misaligned */
	*r++ = uvfio_pci_add_config_reg(pdev, 0xb0, 3, 0, ~0u, 0);
	*r++ = uvfio_pci_add_config_reg(pdev, 0xb0, 4, 0, 0xff, 0x1);	/* both */
	*r++ = uvfio_pci_add_config_reg(pdev, 0xfc, 4, 0x5a, 0xff00, 0xff);
	*r++ = uvfio_pci_add_config_reg(pdev, 0xffc, 4, 0, 0, ~0u);
	if (cfg_reg_pcie)
		*r++ = uvfio_pci_add_pcie(pdev);
	return 0;
}

static void test_model_config_reg_rules(void **state)
{
	static const struct uvfio_model_ops ops = {
		.name = "cfg-regs",
		.create = cfg_regs_create,
	};
	struct uvfio_pci_dev *pdev;

	(void)state;
	/* an extended register on a conventional PCI function */
	cfg_reg_pcie = false;
	assert_int_equal(pci_dev_create("0000:00:07.0", &ops, NULL, &pdev), -EINVAL);
	for (int i = 0; i < 7; i++)
		assert_int_equal(cfg_reg_results[i], -EINVAL);
	assert_int_equal(cfg_reg_results[7], 0);
	assert_int_equal(cfg_reg_results[8], 0);

	cfg_reg_pcie = true;
	assert_int_equal(pci_dev_create("0000:00:07.0", &ops, NULL, &pdev), 0);
	assert_int_equal(pci_dev_cfg_read(pdev, 0xfc, 4), 0x5a);
	pci_dev_cfg_write(pdev, 0xfc, 4, 0x1234);
	assert_int_equal(pci_dev_cfg_read(pdev, 0xfc, 4), 0x124a);	/* 0x5a & ~0x34 */
	/* only while the function is being created */
	assert_int_equal(uvfio_pci_add_config_reg(pdev, 0xf8, 4, 0, ~0u, 0), -EINVAL);
	pci_dev_destroy(pdev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bar_sizing_mem32, teardown),
		cmocka_unit_test_teardown(test_bar_sizing_mem64_io, teardown),
		cmocka_unit_test_teardown(test_read_only_fields, teardown),
		cmocka_unit_test_teardown(test_cap_chain, teardown),
		cmocka_unit_test_teardown(test_command, teardown),
		cmocka_unit_test_teardown(test_msi_flags, teardown),
		cmocka_unit_test_teardown(test_model_config_regs, teardown),
		cmocka_unit_test(test_model_config_reg_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
