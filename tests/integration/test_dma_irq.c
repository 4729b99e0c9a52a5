// SPDX-License-Identifier: MIT
/* DMA through the software IOMMU, faults, and interrupt delivery. */
#include <stdlib.h>
#include <sys/mman.h>

#include "vfio_util.h"

#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void round_trip(struct vfio_setup *s, uint8_t *mem, const char *what)
{
	for (int i = 0; i < 4096; i++)
		mem[i] = (uint8_t)(i ^ 0xa5);
	memset(mem + 4096, 0, 4096);
	CHECK_OK(map_dma(s->container, mem, 0x1000000, 8192, RW));
	edu_dma(s->device, 0x1000000, EDU_BUF, 4096, 0);
	edu_dma(s->device, EDU_BUF, 0x1001000, 4096, 1);
	CHECK(!memcmp(mem, mem + 4096, 4096), "%s: data survives the round trip", what);
	CHECK(unmap_dma(s->container, 0x1000000, 8192, 0) == 8192, "unmap");
}

static void test_dma(void)
{
	struct vfio_setup s;
	uint8_t *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mfd = memfd_create("dma", MFD_CLOEXEC);
	uint8_t *shared;

	REQUIRE(mfd >= 0 && ftruncate(mfd, 8192) == 0, "memfd");
	shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	REQUIRE(anon != MAP_FAILED && shared != MAP_FAILED, "mmap");
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);

	round_trip(&s, anon, "anonymous private memory");
	round_trip(&s, shared, "memfd shared memory");

	/* Fault: the device writes to an IOVA nothing is mapped at. */
	memset(anon, 0x11, 8192);
	CHECK_OK(map_dma(s.container, anon, 0x1000000, 4096, RW));
	edu_dma(s.device, 0x1000000, EDU_BUF, 4096, 0);
	edu_dma(s.device, EDU_BUF, 0x2000000, 4096, 1);
	/* Fault: the device writes to a read-only mapping. */
	CHECK_OK(map_dma(s.container, anon + 4096, 0x1001000, 4096, VFIO_DMA_MAP_FLAG_READ));
	memset(anon + 4096, 0x22, 4096);
	memset(anon, 0x33, 4096);
	edu_dma(s.device, 0x1000000, EDU_BUF, 4096, 0);
	edu_dma(s.device, EDU_BUF, 0x1001000, 4096, 1);
	CHECK(anon[4096] == 0x22 && anon[8191] == 0x22, "a read-only mapping is not written");
	/* A transfer straddling into unmapped space does nothing at all. */
	edu_dma(s.device, EDU_BUF, 0x1000800, 4096, 1);
	CHECK(anon[0x800] == 0x33, "no partial DMA on a fault");

	/* Bus master off: no DMA. */
	uint16_t cmd = 0x2;

	CHECK(pwrite(s.device, &cmd, 2, REGION(VFIO_PCI_CONFIG_REGION_INDEX) + 4) == 2, "cmd");
	memset(anon, 0x44, 4096);
	edu_dma(s.device, EDU_BUF, 0x1000000, 4096, 1);
	CHECK(anon[0] == 0x44, "no DMA without bus mastering");
	enable_device(s.device);
	edu_dma(s.device, EDU_BUF, 0x1000000, 4096, 1);
	CHECK(anon[0] == 0x33, "DMA again with bus mastering");
	teardown(&s);
	munmap(anon, 8192);
	munmap(shared, 8192);
	close(mfd);
}

static void test_msi_and_intx(void)
{
	struct vfio_setup s;
	int32_t efd = eventfd(0, EFD_CLOEXEC), unmask = eventfd(0, EFD_CLOEXEC);

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);

	/* MSI on factorial completion */
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd));
	wr32(s.device, EDU(0x20), 0x80);
	wr32(s.device, EDU(0x08), 5);
	CHECK(wait_eventfd(efd, 2000) == 1, "MSI after factorial");
	CHECK(rd32(s.device, EDU(0x08)) == 120, "5! = 120");
	CHECK(rd32(s.device, EDU(0x24)) == 1, "irq status says factorial");
	wr32(s.device, EDU(0x64), 1);
	/* software-raised interrupt */
	wr32(s.device, EDU(0x60), 0x1000);
	CHECK(wait_eventfd(efd, 2000) == 1, "MSI after raise");
	wr32(s.device, EDU(0x64), 0x1000);
	CHECK_OK(disable_irqs(s.device, VFIO_PCI_MSI_IRQ_INDEX));

	/* INTx: level-triggered, automasked until UNMASK */
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd));
	wr32(s.device, EDU(0x60), 0x1);
	CHECK(wait_eventfd(efd, 2000) == 1, "INTx asserted");
	wr32(s.device, EDU(0x64), 0x1);
	wr32(s.device, EDU(0x60), 0x2);
	CHECK(wait_eventfd(efd, 200) == 0, "masked: no second interrupt before UNMASK");
	/* unmask through an eventfd: the pending level fires again */
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &unmask, 4);
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_SET_IRQS, set));
	uint64_t one = 1;

	CHECK(write(unmask, &one, 8) == 8, "unmask eventfd");
	CHECK(wait_eventfd(efd, 2000) == 1, "still asserted after unmask: fires again");
	wr32(s.device, EDU(0x64), 0x2);

	/* one unmask eventfd at a time, until the user closes it (the
	 * kernel's virqfd goes with the eventfd), as QEMU does when it moves
	 * INTx to a KVM irqfd with a resample eventfd */
	int32_t second = eventfd(0, EFD_CLOEXEC);

	memcpy(set->data, &second, 4);
	CHECK_ERR(ioctl(s.device, VFIO_DEVICE_SET_IRQS, set), EBUSY);
	close(unmask);
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_SET_IRQS, set));
	CHECK(write(second, &one, 8) == 8, "unmask through the new eventfd");
	wr32(s.device, EDU(0x60), 0x4);
	CHECK(wait_eventfd(efd, 2000) == 1, "INTx again");
	wr32(s.device, EDU(0x64), 0x4);
	wr32(s.device, EDU(0x60), 0x8);
	CHECK(write(second, &one, 8) == 8, "the new unmask eventfd");
	CHECK(wait_eventfd(efd, 2000) == 1, "unmasked through the new eventfd");
	wr32(s.device, EDU(0x64), 0x8);
	teardown(&s);
	close(efd);
	close(second);
}

static void test_msix_ramdev(void)
{
	struct vfio_setup s;
	int32_t efds[8];
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX };

	setup_device(&s, RAM_GROUP, RAM_BDF1, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	CHECK(irq.count == 8, "ramdev has 8 MSI-X vectors, got %u", irq.count);
	for (int i = 0; i < 8; i++)
		efds[i] = eventfd(0, EFD_CLOEXEC);
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, efds));
	for (uint32_t v = 0; v < 8; v += 3) {
		wr32(s.device, REGION(0) + 0x8, v);
		CHECK(wait_eventfd(efds[v], 2000) == 1, "MSI-X vector %u", v);
	}
	/* MSI is exclusive with MSI-X */
	CHECK(set_irq_eventfds(s.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, efds) == -1 &&
	      errno == EINVAL, "MSI while MSI-X is on");
	teardown(&s);
	for (int i = 0; i < 8; i++)
		close(efds[i]);
}

int main(void)
{
	test_dma();
	test_msi_and_intx();
	test_msix_ramdev();
	return harness_done("dma_irq");
}
