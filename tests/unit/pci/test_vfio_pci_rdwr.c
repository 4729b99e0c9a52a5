// SPDX-License-Identifier: MIT
/* BAR access through read()/write(): splitting, clipping, EIO when memory
 * decode is off, the MSI-X window, and ioeventfds. */
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
#include "util/loop.h"

static int teardown(void **state)
{
	(void)state;
	test_close_all();
	return 0;
}

static void test_split_edu(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	uint8_t buf[16];

	(void)state;
	/* edu answers only 4-byte accesses below 0x80 */
	assert_int_equal(bar_read(e, 0, 0, 4), 0x010000ed);
	assert_int_equal(bar_read(e, 0, 0, 8), ~0ULL);
	/* 6 bytes at 2: a 2-byte access (all ones) then a 4-byte one (liveness) */
	bar_write(e, 0, 4, 4, 0x0f0f0f0f);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dev_read(e, buf, 6, BAR_OFF(0, 2)), 6);
	assert_int_equal(buf[0], 0xff);
	assert_int_equal(buf[1], 0xff);
	assert_int_equal(buf[2], 0xf0);
	assert_int_equal(buf[5], 0xf0);
	/* 8-byte access to the 64-bit DMA registers */
	bar_write(e, 0, 0x80, 8, 0x123456789aULL);
	assert_int_equal(bar_read(e, 0, 0x80, 8), 0x123456789aULL);
	assert_int_equal(bar_read(e, 0, 0x80, 4), 0x3456789a);
	/* clipped at the end of the BAR, EINVAL past it */
	assert_int_equal(dev_read(e, buf, 16, BAR_OFF(0, (1 << 20) - 8)), 8);
	assert_int_equal(dev_read(e, buf, 4, BAR_OFF(0, 1 << 20)), -EINVAL);
	/* absent BAR, ROM, VGA, beyond */
	assert_int_equal(dev_read(e, buf, 4, BAR_OFF(1, 0)), -EINVAL);
	assert_int_equal(dev_read(e, buf, 4, BAR_OFF(6, 0)), -EINVAL);
	assert_int_equal(dev_write(e, buf, 4, BAR_OFF(6, 0)), -EINVAL);
	assert_int_equal(dev_read(e, buf, 4, BAR_OFF(8, 0)), -EINVAL);
	assert_int_equal(dev_read(e, buf, 4, BAR_OFF(9, 0)), -EINVAL);
	assert_int_equal(dev_read(e, buf, 0, BAR_OFF(9, 0)), 0);
}

static void test_memory_disabled(void **state)
{
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	uint16_t cmd = cfg_read(r, PCI_COMMAND, 2);
	uint32_t v;

	(void)state;
	bar_write(r, 2, 0x10, 4, 0x55aa55aa);
	cfg_write(r, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	assert_int_equal(dev_read(r, &v, 4, BAR_OFF(0, 0)), -EIO);
	assert_int_equal(dev_write(r, &v, 4, BAR_OFF(4, 0x3000)), -EIO);
	/* I/O BARs are never gated */
	assert_int_equal(bar_read(r, 2, 0x10, 4), 0x55aa55aa);
	cfg_write(r, PCI_COMMAND, 2, cmd);
	assert_int_equal(bar_read(r, 0, 0, 4), 0x11e91234);
}

static void test_ram_and_msix_window(void **state)
{
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	struct uvfio_pci_dev *pdev = r->dev->bus_data;
	uint8_t *ram = uvfio_pci_bar_ram(pdev, 0);
	uint8_t buf[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		buf[i] = i;
	assert_int_equal(dev_write(r, buf, 29, BAR_OFF(0, 0x1003)), 29);
	assert_memory_equal(ram + 0x1003, buf, 29);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dev_read(r, buf, 29, BAR_OFF(0, 0x1003)), 29);
	assert_int_equal(buf[28], 28);
	/* table reads 0xff, writes are dropped; the PBA reads through */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dev_read(r, buf, 16, BAR_OFF(4, 0x70)), 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], i < 16 ? 0xff : 0);
	assert_int_equal(dev_read(r, buf, 16, BAR_OFF(4, 0x78)), 16);
	assert_int_equal(buf[7], 0xff);
	assert_int_equal(buf[8], 0x00);
	assert_int_equal(dev_write(r, buf, 8, BAR_OFF(4, 0)), 8);
	assert_int_equal(bar_read(r, 4, 0x2000, 8), 0);
}

static void stop_loop(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	uvfio_loop_stop();
}

static long ioeventfd(struct vfio_device *v, uint32_t flags, uint64_t off, uint64_t data,
		      int32_t fd, int real_fd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie), .flags = flags, .offset = off, .data = data, .fd = fd,
	};
	struct tua t;

	tua_init(&t, &ie, sizeof(ie));
	if (fd >= 0)
		tua_add_fd(&t, fd, real_fd);
	return tua_ioctl(v, VFIO_DEVICE_IOEVENTFD, &t);
}

static void test_ioeventfd(void **state)
{
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;

	(void)state;
	assert_int_equal(uvfio_loop_init(), 0);
	assert_int_equal(ioeventfd(r, 3, BAR_OFF(0, 4), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 0x10, BAR_OFF(0, 4), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 8, BAR_OFF(0, 0), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 1, -2, -1), -EINVAL);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(6, 4), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 64 << 10), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(4, 0x10), 1, 5, efd), -EINVAL);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 1, -1, -1), -ENODEV);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 0x1234, 5, efd), 0);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 0x1234, 5, efd), -EEXIST);

	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	assert_non_null(uvfio_timer_add(50, stop_loop, NULL));
	assert_int_equal(uvfio_loop_run(), 0);
	assert_int_equal(bar_read(r, 0, 4, 4), 0x1234);

	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 0x1234, -1, -1), 0);
	assert_int_equal(ioeventfd(r, 4, BAR_OFF(0, 4), 0x1234, -1, -1), -ENODEV);
	close(efd);
	uvfio_loop_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_split_edu, teardown),
		cmocka_unit_test_teardown(test_memory_disabled, teardown),
		cmocka_unit_test_teardown(test_ram_and_msix_window, teardown),
		cmocka_unit_test_teardown(test_ioeventfd, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
