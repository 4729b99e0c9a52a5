// SPDX-License-Identifier: MIT
/* vfio-pci ioctls: device/region/irq info, SET_IRQS rules, reset, mmap. */
#include <errno.h>
#include <fcntl.h>
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
#include "transport/wire.h"
#include "util/loop.h"

static int teardown(void **state)
{
	(void)state;
	test_close_all();
	return 0;
}

/* unmask eventfds are watched on the event loop */
static int group_setup(void **state)
{
	(void)state;
	return uvfio_loop_init();
}

static int group_teardown(void **state)
{
	(void)state;
	uvfio_loop_fini();
	return 0;
}

static long region_info(struct vfio_device *v, uint32_t index, uint32_t argsz,
			struct vfio_region_info *out, uint8_t *full)
{
	struct vfio_region_info ri = { .argsz = argsz, .index = index };
	uint8_t buf[256] = { 0 };
	struct tua t;
	long ret;

	memcpy(buf, &ri, sizeof(ri));
	/* the user's buffer is at least the fixed structure */
	tua_init(&t, buf, argsz < sizeof(ri) ? sizeof(ri) : argsz);
	ret = tua_ioctl(v, VFIO_DEVICE_GET_REGION_INFO, &t);
	memcpy(out, t.wb, sizeof(*out));
	if (full)
		memcpy(full, t.wb, sizeof(buf));
	return ret;
}

static void test_device_info(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:04.0", "edu");
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct tua t;

	(void)state;
	tua_init(&t, &info, sizeof(info));
	assert_int_equal(tua_ioctl(v, VFIO_DEVICE_GET_INFO, &t), 0);
	memcpy(&info, t.wb, sizeof(info));
	assert_int_equal(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);

	info.argsz = 15;
	tua_init(&t, &info, sizeof(info));
	assert_int_equal(tua_ioctl(v, VFIO_DEVICE_GET_INFO, &t), -EINVAL);
	tua_init(&t, &info, 8);		/* argument shorter than minsz */
	assert_int_equal(tua_ioctl(v, VFIO_DEVICE_GET_INFO, &t), -EFAULT);
	tua_init(&t, &info, sizeof(info));
	assert_int_equal(tua_ioctl(v, 0x3b7f, &t), -ENOTTY);
}

static void test_region_info_edu(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:04.0", "edu");
	struct vfio_region_info ri;

	(void)state;
	assert_int_equal(region_info(v, 0, 32, &ri, NULL), 0);
	assert_int_equal(ri.size, 1 << 20);
	assert_int_equal(ri.offset, 0);
	/* all registers: mappable, with an empty sparse-mmap list for VMMs */
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				   VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(region_info(v, 1, 32, &ri, NULL), 0);
	assert_int_equal(ri.size, 0);
	assert_int_equal(ri.flags, 0);
	assert_int_equal(ri.offset, 1ULL << 40);
	assert_int_equal(region_info(v, VFIO_PCI_ROM_REGION_INDEX, 32, &ri, NULL), 0);
	assert_int_equal(ri.size, 0);
	assert_int_equal(ri.flags, 0);
	assert_int_equal(region_info(v, VFIO_PCI_CONFIG_REGION_INDEX, 32, &ri, NULL), 0);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(ri.offset, 7ULL << 40);
	assert_int_equal(region_info(v, VFIO_PCI_VGA_REGION_INDEX, 32, &ri, NULL), -EINVAL);
	assert_int_equal(region_info(v, 9, 32, &ri, NULL), -EINVAL);
	assert_int_equal(region_info(v, 0, 31, &ri, NULL), -EINVAL);
}

static void test_region_info_sparse(void **state)
{
	struct vfio_device *v = test_open_device("0000:00:05.0", "ramdev");
	size_t need = sizeof(struct vfio_region_info) +
		      sizeof(struct vfio_region_info_cap_sparse_mmap) +
		      sizeof(struct vfio_region_sparse_mmap_area);
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_region_info ri;
	uint8_t full[256];

	(void)state;
	/* too small for the capability: told how much is needed */
	assert_int_equal(region_info(v, 0, 32, &ri, NULL), 0);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				   VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(ri.argsz, need);
	assert_int_equal(ri.cap_offset, 0);
	assert_int_equal(ri.size, 64 << 10);

	assert_int_equal(region_info(v, 0, need, &ri, full), 0);
	assert_int_equal(ri.argsz, need);
	assert_int_equal(ri.cap_offset, sizeof(ri));
	sp = (void *)(full + ri.cap_offset);
	assert_int_equal(sp->header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(sp->header.version, 1);
	assert_int_equal(sp->header.next, 0);
	assert_int_equal(sp->nr_areas, 1);
	assert_int_equal(sp->areas[0].offset, 0x1000);
	assert_int_equal(sp->areas[0].size, 0xf000);

	/* BAR1 is the upper half of BAR0; the I/O BAR has no mmap */
	assert_int_equal(region_info(v, 1, 32, &ri, NULL), 0);
	assert_int_equal(ri.flags, 0);
	assert_int_equal(region_info(v, 2, 32, &ri, NULL), 0);
	assert_int_equal(ri.size, 256);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	/* the MSI-X BAR is all registers: mappable, with no RAM area to list */
	need = sizeof(struct vfio_region_info) + sizeof(struct vfio_region_info_cap_sparse_mmap);
	assert_int_equal(region_info(v, 4, need, &ri, full), 0);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				   VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	sp = (void *)(full + ri.cap_offset);
	assert_int_equal(sp->header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(sp->nr_areas, 0);
}

static long irq_info(struct vfio_device *v, uint32_t index, struct vfio_irq_info *out)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };
	struct tua t;
	long ret;

	tua_init(&t, &ii, sizeof(ii));
	ret = tua_ioctl(v, VFIO_DEVICE_GET_IRQ_INFO, &t);
	memcpy(out, t.wb, sizeof(*out));
	return ret;
}

static void test_irq_info(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	struct vfio_irq_info ii;

	(void)state;
	assert_int_equal(irq_info(e, VFIO_PCI_INTX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				   VFIO_IRQ_INFO_AUTOMASKED);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(e, VFIO_PCI_MSI_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(e, VFIO_PCI_MSIX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(irq_info(r, VFIO_PCI_MSIX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 8);
	assert_int_equal(irq_info(r, VFIO_PCI_MSI_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(irq_info(e, VFIO_PCI_ERR_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(e, VFIO_PCI_REQ_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(e, 5, &ii), -EINVAL);
}

/* A raw SET_IRQS with up to 4 data bytes. */
static long set_irqs_raw(struct vfio_device *v, uint32_t argsz, uint32_t flags, uint32_t index,
			 uint32_t start, uint32_t count, int32_t data, int fd)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *s = (void *)buf;
	struct tua t;

	s->argsz = argsz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, &data, 4);
	tua_init(&t, buf, sizeof(buf));
	if (fd != -2)
		tua_add_fd(&t, data, fd);
	return tua_ioctl(v, VFIO_DEVICE_SET_IRQS, &t);
}

#define EVT	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_T	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)

static void test_set_irqs_rules(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");
	int efd = eventfd(0, EFD_CLOEXEC), efd2 = eventfd(0, EFD_CLOEXEC);
	int pfd[2];

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	/* validate_and_prepare */
	assert_int_equal(set_irqs_raw(e, 19, NONE_T, 0, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 5, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T | 0x40, 0, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 0, 1, 0, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 0, 0, 2, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 0, 1, UINT32_MAX - 1, 0, -2), -EINVAL);
	/* MSI-X has no vectors on edu: even count 0 is refused */
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, 0, -2), -EINVAL);
	/* eventfd data larger than argsz */
	assert_int_equal(set_irqs_raw(e, 20, EVT, 0, 0, 1, 7, efd), -EINVAL);
	/* the data itself cannot be read: EFAULT */
	{
		struct vfio_irq_set s = { .argsz = 24, .flags = EVT, .index = 0, .count = 1 };
		struct tua t;

		tua_init(&t, &s, sizeof(s));
		assert_int_equal(tua_ioctl(e, VFIO_DEVICE_SET_IRQS, &t), -EFAULT);
	}
	/* unsupported actions */
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
				      VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 0, -2), -ENOTTY);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
				      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, -2), -ENOTTY);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, 0, -2), -ENOTTY);
	/* MSI with no vectors: pci_alloc_irq_vectors(1, 0) */
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 0, 0, -2), -ERANGE);
	/* eventfd checks */
	assert_int_equal(set_irqs_raw(e, 24, EVT, 0, 0, 1, 9, -1), -EBADF);
	assert_int_equal(set_irqs_raw(e, 24, EVT, 0, 0, 1, 9, pfd[0]), -EINVAL);
	/* INTx not enabled: unmask, mask and loopback refuse */
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
				      0, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 0, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 0, -2), -EINVAL);

	/* INTx on; MSI now conflicts; loopback signals */
	assert_int_equal(set_irqs_raw(e, 24, EVT, 0, 0, 1, 9, efd), 0);
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 9, efd2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, 0, 0, 1, 0, -2), 0);
	assert_int_equal(eventfd_count(efd), 1);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 0, 1, 0, -2), 0);
	assert_int_equal(eventfd_count(efd), 0);
	/* no masking by eventfd: ENOTTY, as in the kernel */
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK,
				      0, 0, 1, 9, efd2), -ENOTTY);
	/* a second unmask eventfd while one is set: EBUSY */
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				      0, 0, 1, 9, efd2), 0);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				      0, 0, 1, 9, efd2), -EBUSY);
	assert_int_equal(set_irqs_raw(e, 24, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				      0, 0, 1, -1, -2), 0);
	/* teardown with count 0, then MSI works and de-assigns with -1 */
	assert_int_equal(set_irqs_raw(e, 20, NONE_T, 0, 0, 0, 0, -2), 0);
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 9, efd2), 0);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 0, -2), 0);
	assert_int_equal(eventfd_count(efd2), 1);
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, -2), 0);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 0, -2), 0);
	assert_int_equal(eventfd_count(efd2), 0);
	assert_int_equal(set_irqs_raw(e, 24, EVT, 0, 0, 1, 9, efd), -EINVAL);

	/* REQ: DATA_NONE with no trigger is EINVAL; set, signal, release */
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 9, efd), 0);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, -2), 0);
	assert_int_equal(eventfd_count(efd), 1);
	e->ops->request(e, 0);
	assert_int_equal(eventfd_count(efd), 1);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, 0, -2), 0);
	assert_int_equal(set_irqs_raw(e, 24, NONE_T, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, -2), -EINVAL);
	assert_int_equal(set_irqs_raw(e, 24, EVT, VFIO_PCI_ERR_IRQ_INDEX, 0, 0, 0, -2), -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	close(efd);
	close(efd2);
}

static void test_msix_block(void **state)
{
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	int fds[3] = { a, -1, b };

	(void)state;
	/* vectors 0..2 allocated; vector 1 left unset */
	assert_int_equal(set_irqs_eventfds(r, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, fds), 0);
	bar_write(r, 0, 0x8, 4, 2);
	assert_int_equal(eventfd_count(b), 1);
	bar_write(r, 0, 0x8, 4, 1);
	bar_write(r, 0, 0x8, 4, 0);
	assert_int_equal(eventfd_count(a), 1);
	/* a vector beyond the allocation cannot be assigned (no resize) */
	assert_int_equal(set_irqs_eventfds(r, VFIO_PCI_MSIX_IRQ_INDEX, 3, 1, fds), -EINVAL);
	assert_int_equal(r->stats.irqs, 2);
	close(a);
	close(b);
}

static void test_reset_and_mmap(void **state)
{
	struct vfio_device *r = test_open_device("0000:00:05.0", "ramdev");
	struct uvfio_pci_dev *pdev = r->dev->bus_data;
	struct vfio_mmap_req req = { .offset = 0x1000, .length = 0x2000,
				     .flags = UVFIO_MMAP_SHARED | UVFIO_MMAP_READ };
	struct tua t;
	uint16_t cmd;

	(void)state;
	cmd = cfg_read(r, PCI_COMMAND, 2);
	cfg_write(r, PCI_COMMAND, 2, cmd | PCI_COMMAND_MASTER);
	bar_write(r, 0, 0x4, 4, 0xabcd);
	tua_init(&t, "", 0);
	assert_int_equal(tua_ioctl(r, VFIO_DEVICE_RESET, &t), 0);
	assert_int_equal(bar_read(r, 0, 0x4, 4), 0);
	/* config state survives the reset */
	assert_int_equal(cfg_read(r, PCI_COMMAND, 2), cmd | PCI_COMMAND_MASTER);
	assert_int_equal(pci_dev_cfg_read(pdev, PCI_BASE_ADDRESS_0, 4) & ~0xfu,
			 (uint32_t)pdev->bars[0].phys);

	/* RAM only: nothing traps */
	assert_int_equal(r->ops->mmap(r, &req), 0);
	assert_int_equal(req.fd, pdev->bars[0].memfd);
	assert_int_equal(req.out.fd_offset, 0x1000);
	assert_int_equal(req.out.nr_traps, 0);
	assert_int_equal(req.out.index, 0);
	assert_string_equal(req.out.device, "0000:00:05.0");
	/* the whole BAR: the register page traps */
	req.offset = 0;
	req.length = 64 << 10;
	assert_int_equal(r->ops->mmap(r, &req), 0);
	assert_int_equal(req.out.fd_offset, 0);
	assert_int_equal(req.out.nr_traps, 1);
	assert_int_equal(req.out.traps[0].offset, 0);
	assert_int_equal(req.out.traps[0].length, 0x1000);
	/* the MSI-X BAR: all of it traps, offsets from the mapping's start */
	req.offset = (4ULL << 40) | 0x1000;
	req.length = 0x2000;
	assert_int_equal(r->ops->mmap(r, &req), 0);
	assert_int_equal(req.out.fd_offset, 0x1000);
	assert_int_equal(req.out.index, 4);
	assert_int_equal(req.out.nr_traps, 1);
	assert_int_equal(req.out.traps[0].offset, 0);
	assert_int_equal(req.out.traps[0].length, 0x2000);

	req.offset = 0x1000;
	req.flags = UVFIO_MMAP_READ;
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);	/* MAP_PRIVATE */
	req.flags = UVFIO_MMAP_SHARED;
	req.offset = 0x1800;					/* unaligned */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 0xf000;					/* past the BAR */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 0;
	req.length = 0;						/* empty */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 2ULL << 40;				/* I/O BAR */
	req.length = 0x1000;
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 1ULL << 40;				/* upper half of BAR0 */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 6ULL << 40;				/* ROM */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 7ULL << 40;				/* config space */
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
	req.offset = 9ULL << 40;
	assert_int_equal(r->ops->mmap(r, &req), -EINVAL);
}

static void test_match(void **state)
{
	struct vfio_device *e = test_open_device("0000:00:04.0", "edu");

	(void)state;
	assert_int_equal(e->ops->match(e, "0000:00:04.0"), 1);
	assert_int_equal(e->ops->match(e, "0000:00:04.1"), 0);
	assert_int_equal(e->ops->match(e, "0000:00:04.0x"), 0);
	assert_int_equal(e->ops->match(e, "0000:00:04.0 "), 1);
	assert_int_equal(e->ops->match(e, "0000:00:04.0 foo"), -EINVAL);
	assert_int_equal(e->ops->match(e,
		"0000:00:04.0 vf_token=2ab74924-c335-45f4-9b16-8569e5b08258"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_device_info, teardown),
		cmocka_unit_test_teardown(test_region_info_edu, teardown),
		cmocka_unit_test_teardown(test_region_info_sparse, teardown),
		cmocka_unit_test_teardown(test_irq_info, teardown),
		cmocka_unit_test_teardown(test_set_irqs_rules, teardown),
		cmocka_unit_test_teardown(test_msix_block, teardown),
		cmocka_unit_test_teardown(test_reset_and_mmap, teardown),
		cmocka_unit_test_teardown(test_match, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
