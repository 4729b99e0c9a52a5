// SPDX-License-Identifier: MIT
/* Device-fd rules: info, regions, IRQ info and SET_IRQS, access, mmap. */
#include <stdlib.h>
#include <sys/mman.h>

#include "vfio_util.h"

static void test_info(int d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_INFO, &info));
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI, "PCI flag");
	CHECK(info.flags & VFIO_DEVICE_FLAGS_RESET, "RESET flag");
	CHECK(info.num_regions == 9, "9 regions, got %u", info.num_regions);
	CHECK(info.num_irqs == 5, "5 irq indexes, got %u", info.num_irqs);
	info.argsz = 8;
	CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_INFO, NULL), EFAULT);
	CHECK_ERR(ioctl(d, _IO(VFIO_TYPE, VFIO_BASE + 70)), ENOTTY);
}

static void test_edu_regions(int d)
{
	struct vfio_region_info r = { .argsz = sizeof(r) };

	for (uint32_t i = 0; i < 9; i++) {
		memset(&r, 0, sizeof(r));
		r.argsz = sizeof(r);
		r.index = i;
		if (i == VFIO_PCI_VGA_REGION_INDEX) {
			CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &r), EINVAL);
			continue;
		}
		CHECK_OK(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &r));
		CHECK(r.offset == REGION(i), "region %u offset 0x%llx", i,
		      (unsigned long long)r.offset);
		if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			CHECK(r.size == 1 << 20, "BAR0 is 1 MiB");
			CHECK(r.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					  VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS),
			      "edu BAR0 maps with traps, flags 0x%x", r.flags);
		} else if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			CHECK(r.size >= 256, "config size");
		} else {
			CHECK(r.size == 0 && r.flags == 0, "region %u absent", i);
		}
	}
	r.index = 9;
	CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &r), EINVAL);
	r.argsz = 16;
	r.index = 0;
	CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &r), EINVAL);
}

static void test_irq_info(int d)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };

	irq.index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 1 && irq.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
					      VFIO_IRQ_INFO_AUTOMASKED), "INTx 0x%x", irq.flags);
	irq.index = VFIO_PCI_MSI_IRQ_INDEX;
	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 1 && irq.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
	      "MSI count %u flags 0x%x", irq.count, irq.flags);
	irq.index = VFIO_PCI_MSIX_IRQ_INDEX;
	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 0, "edu has no MSI-X");
	irq.index = VFIO_PCI_ERR_IRQ_INDEX;
	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 1 && (irq.flags & VFIO_IRQ_INFO_EVENTFD), "ERR");
	irq.index = VFIO_PCI_REQ_IRQ_INDEX;
	CHECK_OK(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 1 && (irq.flags & VFIO_IRQ_INFO_EVENTFD), "REQ");
	irq.index = 5;
	CHECK_ERR(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq), EINVAL);
}

static int set_irqs(int d, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		    const void *data, size_t len)
{
	char buf[sizeof(struct vfio_irq_set) + 64];
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = (uint32_t)(sizeof(*s) + len);
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (len)
		memcpy(s->data, data, len);
	return ioctl(d, VFIO_DEVICE_SET_IRQS, s);
}

static void test_set_irqs(int d)
{
	const uint32_t EFD = VFIO_IRQ_SET_DATA_EVENTFD, TRIG = VFIO_IRQ_SET_ACTION_TRIGGER;
	const uint32_t NONE = VFIO_IRQ_SET_DATA_NONE, BOOL = VFIO_IRQ_SET_DATA_BOOL;
	int32_t efd = eventfd(0, EFD_CLOEXEC), minus1 = -1, bad = 999, notefd = 0;
	uint8_t one = 1;

	/* header and data-size validation */
	CHECK_ERR(set_irqs(d, EFD | TRIG, 5, 0, 1, &efd, 4), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | TRIG | 0x1000, 1, 0, 1, &efd, 4), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 1, 1, &efd, 4), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 2, &efd, 4), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd, 0), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | BOOL | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd, 4), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &efd, 4), EINVAL);
	/* unsupported actions */
	CHECK_ERR(set_irqs(d, NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
			   NULL, 0), ENOTTY);
	CHECK_ERR(set_irqs(d, NONE | VFIO_IRQ_SET_ACTION_MASK | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0,
			   1, NULL, 0), ENOTTY);
	CHECK_ERR(set_irqs(d, NONE, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0), ENOTTY);
	/* descriptors that are not eventfds */
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &bad, 4), EBADF);
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &notefd, 4), EINVAL);

	/* MSI: enable, loopback trigger, then INTx cannot be enabled */
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd, 4));
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0));
	CHECK(wait_eventfd(efd, 1000) == 1, "DATA_NONE loopback signals MSI");
	CHECK_OK(set_irqs(d, BOOL | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &one, 1));
	CHECK(wait_eventfd(efd, 1000) == 1, "DATA_BOOL loopback signals MSI");
	CHECK_ERR(set_irqs(d, EFD | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd, 4), EINVAL);
	/* de-assign the vector, then disable MSI with count 0 */
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &minus1, 4));
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_MSI_IRQ_INDEX, 0, 0, NULL, 0));

	/* INTx: enable, mask/unmask, loopback, disable */
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd, 4));
	CHECK_OK(set_irqs(d, NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			  NULL, 0));
	CHECK_OK(set_irqs(d, BOOL | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			  &one, 1));
	CHECK_ERR(set_irqs(d, NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 2,
			   NULL, 0), EINVAL);
	CHECK_ERR(set_irqs(d, EFD | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			   &efd, 4), ENOTTY);
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	CHECK(wait_eventfd(efd, 1000) == 1, "INTx loopback");
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0));
	/* masking INTx needs INTx enabled */
	CHECK_ERR(set_irqs(d, NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
			   NULL, 0), EINVAL);

	/* ERR and REQ: single triggers */
	CHECK_ERR(set_irqs(d, NONE | TRIG, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0), EINVAL);
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 4));
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	CHECK(wait_eventfd(efd, 1000) == 1, "REQ loopback");
	CHECK_ERR(set_irqs(d, BOOL | TRIG, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, &one, 0), EINVAL);
	CHECK_OK(set_irqs(d, NONE | TRIG, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, NULL, 0));
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &efd, 4));
	CHECK_OK(set_irqs(d, EFD | TRIG, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &minus1, 4));
	CHECK_ERR(set_irqs(d, EFD | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_ERR_IRQ_INDEX, 0, 1,
			   &efd, 4), ENOTTY);
	close(efd);
}

static void test_access(int d)
{
	uint8_t cfg[256], b[16];
	uint32_t bar, sz;

	CHECK(pread(d, cfg, sizeof(cfg), REGION(VFIO_PCI_CONFIG_REGION_INDEX)) == 256,
	      "whole config header");
	CHECK(cfg[0] == 0x34 && cfg[1] == 0x12 && cfg[2] == 0xe8 && cfg[3] == 0x11, "edu ids");
	/* BAR sizing through the virtualised BAR0 */
	uint64_t bar0 = REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 0x10;

	CHECK(pread(d, &bar, 4, bar0) == 4, "bar read");
	wr32(d, bar0, 0xffffffff);
	sz = rd32(d, bar0);
	CHECK((sz & ~0xfu) == ~((1u << 20) - 1), "BAR0 sizes as 1 MiB: 0x%08x", sz);
	wr32(d, bar0, bar);
	/* the vendor ID is read-only */
	wr32(d, REGION(VFIO_PCI_CONFIG_REGION_INDEX), 0);
	CHECK(rd32(d, REGION(VFIO_PCI_CONFIG_REGION_INDEX)) == 0x11e81234, "read-only IDs");
	/* config space bounds: EFAULT past the end, like the kernel */
	CHECK_ERR(pread(d, b, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4096), EFAULT);
	/* BAR bounds */
	enable_device(d);
	CHECK_ERR(pread(d, b, 4, REGION(0) + (1 << 20)), EINVAL);
	CHECK(pread(d, b, 16, REGION(0) + (1 << 20) - 8) == 8, "reads are clipped at the end");
	CHECK_ERR(pread(d, b, 4, REGION(9)), EINVAL);
	CHECK_ERR(pread(d, b, 4, REGION(1)), EINVAL);
	/* memory decode off: memory BAR access fails with EIO */
	uint16_t cmd = 0;

	CHECK(pwrite(d, &cmd, 2, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4) == 2, "cmd off");
	CHECK_ERR(pread(d, b, 4, REGION(0)), EIO);
	enable_device(d);
	CHECK(rd32(d, REGION(0)) == 0x010000ed, "edu ID register");
	/* a BAR of registers maps like any memory BAR; loads trap to the model */
	volatile uint32_t *regs = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d, REGION(0));

	CHECK(regs != MAP_FAILED, "mmap of a register BAR: %s", strerror(errno));
	if (regs != MAP_FAILED) {
		CHECK(regs[0] == 0x010000ed, "edu ID register through the mapping");
		munmap((void *)regs, 4096);
	}
	/* reset keeps config, resets registers */
	wr32(d, REGION(0) + 0x04, 5);
	CHECK_OK(ioctl(d, VFIO_DEVICE_RESET));
	CHECK(rd32(d, REGION(0) + 0x04) == 0, "liveness register back to its power-on 0");
	CHECK(rd32(d, REGION(0)) == 0x010000ed, "memory decode survives reset");
	/* read() uses the file position from 0: region 0 */
	CHECK(read(d, b, 4) == 4 && b[0] == 0xed, "read() at f_pos 0");
}

/* ramdev: mmappable RAM areas with a sparse-mmap capability. */
static void test_mmap_ramdev(void)
{
	struct vfio_setup s;
	char buf[512];
	struct vfio_region_info *r = (void *)buf;
	int found = 0;

	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	memset(buf, 0, sizeof(buf));
	r->argsz = sizeof(*r);
	r->index = 0;
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_GET_REGION_INFO, r));
	CHECK(r->flags & VFIO_REGION_INFO_FLAG_MMAP, "ramdev BAR0 is mmappable");
	CHECK(r->flags & VFIO_REGION_INFO_FLAG_CAPS, "with capabilities");
	CHECK(r->argsz > sizeof(*r) && r->cap_offset == 0, "argsz grows for the caps");
	uint32_t need = r->argsz;

	memset(buf, 0, sizeof(buf));
	r->argsz = need;
	r->index = 0;
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_GET_REGION_INFO, r));
	for (uint32_t off = r->cap_offset; off && off < sizeof(buf);) {
		struct vfio_info_cap_header *h = (void *)(buf + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;

			found = sp->nr_areas;
			CHECK(sp->areas[0].offset == 4096, "first mmappable area after the registers");
		}
		off = h->next;
	}
	CHECK(found >= 1, "sparse mmap capability");

	enable_device(s.device);
	uint8_t *m1 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s.device,
			   REGION(0) + 4096);
	uint8_t *m2 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s.device,
			   REGION(0) + 4096);

	CHECK(m1 != MAP_FAILED && m2 != MAP_FAILED, "mmap RAM area: %s", strerror(errno));
	if (m1 != MAP_FAILED && m2 != MAP_FAILED) {
		m1[100] = 0x5a;
		CHECK(m2[100] == 0x5a, "both mappings see the same BAR memory");
		CHECK(pread(s.device, buf, 1, REGION(0) + 4096 + 100) == 1 && buf[0] == 0x5a,
		      "pread sees what mmap wrote");
		munmap(m1, 8192);
		munmap(m2, 8192);
	}
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, s.device, REGION(0) + 4096) ==
	      MAP_FAILED && errno == EINVAL, "private mappings are refused");
	teardown(&s);
}

int main(void)
{
	struct vfio_setup s;

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	test_info(s.device);
	test_edu_regions(s.device);
	test_irq_info(s.device);
	test_set_irqs(s.device);
	test_access(s.device);
	teardown(&s);
	test_mmap_ramdev();
	return harness_done("device");
}
