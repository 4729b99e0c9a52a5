// SPDX-License-Identifier: MIT
/* The edu model through vfio-pci: registers, interrupts (MSI and INTx with
 * automasking), and DMA gating. */
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

static int teardown(void **state)
{
	(void)state;
	test_close_all();
	return 0;
}

static void test_registers(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");

	(void)state;
	assert_int_equal(bar_read(e, 0, 0x00, 4), 0x010000ed);
	assert_int_equal(bar_read(e, 0, 0x04, 4), 0);
	bar_write(e, 0, 0x04, 4, 0x12345678);
	assert_int_equal(bar_read(e, 0, 0x04, 4), 0xedcba987);
	bar_write(e, 0, 0x08, 4, 5);
	assert_int_equal(bar_read(e, 0, 0x08, 4), 120);
	assert_int_equal(bar_read(e, 0, 0x20, 4) & 1, 0);
	bar_write(e, 0, 0x08, 4, 13);		/* wraps mod 2^32 */
	assert_int_equal(bar_read(e, 0, 0x08, 4), 1932053504u);
	/* only the irq-on-factorial bit of the status is writable */
	bar_write(e, 0, 0x20, 4, 0xff);
	assert_int_equal(bar_read(e, 0, 0x20, 4), 0x80);
	/* wrong sizes and holes read all ones */
	assert_int_equal(bar_read(e, 0, 0x04, 2), 0xffff);
	assert_int_equal(bar_read(e, 0, 0x84, 4), 0xffffffff);
	assert_int_equal(bar_read(e, 0, 0x40000, 4), 0xffffffff);
	bar_write(e, 0, 0x04, 2, 0);
	assert_int_equal(bar_read(e, 0, 0x04, 4), 0xedcba987);
}

static void test_msi(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	int efd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(set_irqs_eventfds(e, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd), 0);
	bar_write(e, 0, 0x20, 4, 0x80);
	bar_write(e, 0, 0x08, 4, 4);
	assert_int_equal(eventfd_count(efd), 1);
	assert_int_equal(bar_read(e, 0, 0x24, 4), 0x1);
	/* every raise while status is non-zero sends a message */
	bar_write(e, 0, 0x60, 4, 0x40);
	assert_int_equal(eventfd_count(efd), 1);
	assert_int_equal(bar_read(e, 0, 0x24, 4), 0x41);
	bar_write(e, 0, 0x64, 4, 0x41);
	assert_int_equal(bar_read(e, 0, 0x24, 4), 0);
	assert_int_equal(eventfd_count(efd), 0);
	assert_int_equal(e->stats.irqs, 2);
	close(efd);
}

static void test_intx_automask(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	int efd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(set_irqs_eventfds(e, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd), 0);
	bar_write(e, 0, 0x60, 4, 0x2);
	assert_int_equal(eventfd_count(efd), 1);
	assert_true(cfg_read(e, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* masked now: acknowledging and raising again stays quiet */
	bar_write(e, 0, 0x64, 4, 0x2);
	assert_false(cfg_read(e, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	bar_write(e, 0, 0x60, 4, 0x2);
	assert_int_equal(eventfd_count(efd), 0);
	/* unmask with the line still high: fires again */
	assert_int_equal(set_irqs_none(e, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK,
				       0, 1), 0);
	assert_int_equal(eventfd_count(efd), 1);
	bar_write(e, 0, 0x64, 4, 0x2);
	assert_int_equal(set_irqs_none(e, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK,
				       0, 1), 0);
	assert_int_equal(eventfd_count(efd), 0);
	/* INTx disable in COMMAND masks too */
	cfg_write(e, PCI_COMMAND, 2, cfg_read(e, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
	bar_write(e, 0, 0x60, 4, 0x1);
	assert_int_equal(eventfd_count(efd), 0);
	cfg_write(e, PCI_COMMAND, 2, cfg_read(e, PCI_COMMAND, 2) & ~PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(eventfd_count(efd), 1);
	close(efd);
}

static void test_dma_gating(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	struct uvfio_pci_dev *pdev = e->dev->bus_data;
	uint8_t b[8];

	(void)state;
	/* no bus mastering: the request never leaves the function */
	assert_int_equal(uvfio_pci_dma_read(pdev, 0x1000, b, sizeof(b)), -EFAULT);
	assert_int_equal(e->stats.dma_faults, 1);
	bar_write(e, 0, 0x80, 8, 0x1000);
	bar_write(e, 0, 0x88, 8, 0x40000);
	bar_write(e, 0, 0x90, 8, 8);
	bar_write(e, 0, 0x98, 8, 0x1 | 0x4);
	assert_int_equal(bar_read(e, 0, 0x98, 8), 0x4);
	assert_int_equal(bar_read(e, 0, 0x24, 4), 0);
	assert_int_equal(e->stats.dma_faults, 2);
	/* out of the device buffer: refused without a transfer */
	bar_write(e, 0, 0x88, 8, 0x40ffc);
	bar_write(e, 0, 0x98, 8, 0x1);
	assert_int_equal(bar_read(e, 0, 0x98, 8), 0);
	assert_int_equal(e->stats.dma_faults, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_registers, teardown),
		cmocka_unit_test_teardown(test_msi, teardown),
		cmocka_unit_test_teardown(test_intx_automask, teardown),
		cmocka_unit_test_teardown(test_dma_gating, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
