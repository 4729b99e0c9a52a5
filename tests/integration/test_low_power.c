// SPDX-License-Identifier: MIT
/*
 * VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, _ENTRY_WITH_WAKEUP and _EXIT, as
 * vfio-pci answers them: in low power the function's memory is off (region
 * access EIO, config space still answers); an entry without a wakeup
 * eventfd lasts through ioctls until LOW_POWER_EXIT; one with a wakeup
 * eventfd ends at the next ioctl -- LOW_POWER_EXIT included -- or at a PME
 * (the I/OAT engine's completion interrupt), signalling the eventfd; every
 * misuse gets vfio-pci's errno.
 */
#include <linux/vfio.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "vfio_util.h"

#define IOAT_GROUP	14
#define IOAT_BDF	"0000:10:04.0"
#define IOVA		0x10000000ull

static int device;

static int entry(void)
{
	return device_feature(device, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0);
}

static int entry_wakeup(int fd)
{
	struct vfio_device_low_power_entry_with_wakeup e = { .wakeup_eventfd = fd };

	return device_feature(device, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, &e, sizeof(e));
}

static int pm_exit(void)
{
	return device_feature(device,
			     VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0);
}

/* A register read: 0 if it worked, else errno. */
static int bar_read_errno(void)
{
	uint32_t v;

	return pread(device, &v, 4, (off_t)REGION(0)) == 4 ? 0 : errno;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void drain(int fd)
{
	uint64_t v;

	while (readable(fd, 0) && read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static void test_rules(void)
{
	struct vfio_device_feature f = { .argsz = sizeof(f) };
	int null = open("/dev/null", O_RDWR);
	uint16_t vendor = 0;

	f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	CHECK_OK(ioctl(device, VFIO_DEVICE_FEATURE, &f));
	f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	f.flags = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;		/* neither GET nor SET */
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
	CHECK_ERR(ioctl(device, VFIO_DEVICE_FEATURE, &f), EINVAL);	/* argsz */
	CHECK_ERR(entry_wakeup(-1), EINVAL);
	CHECK_ERR(entry_wakeup(null), EINVAL);			/* not an eventfd */
	CHECK_ERR(entry_wakeup(900), EBADF);

	/* without a wakeup eventfd: through ioctls, until LOW_POWER_EXIT */
	CHECK_OK(entry());
	CHECK(bar_read_errno() == EIO, "memory is off in low power: %d", bar_read_errno());
	CHECK(pread(device, &vendor, 2, (off_t)REGION(VFIO_PCI_CONFIG_REGION_INDEX)) == 2 &&
	      vendor == 0x8086, "config space answers: %#x", vendor);
	CHECK_ERR(entry(), EINVAL);				/* already */
	CHECK(bar_read_errno() == EIO, "still in low power after ioctls");
	CHECK_ERR(pwrite(device, &vendor, 2, (off_t)REGION(0) + 0x80), EIO);
	CHECK_OK(pm_exit());
	CHECK(bar_read_errno() == 0, "memory back after LOW_POWER_EXIT");
	CHECK_OK(pm_exit());					/* not in low power: fine */
	close(null);
}

static void test_wakeup(void)
{
	int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vfio_device_info info = { .argsz = sizeof(info) };

	/* any ioctl resumes the device: it says so and stays out */
	CHECK_OK(entry_wakeup(wake));
	CHECK(bar_read_errno() == EIO, "memory off");
	CHECK(!readable(wake, 0), "no wakeup yet");
	CHECK_OK(ioctl(device, VFIO_DEVICE_GET_INFO, &info));
	CHECK(readable(wake, 0), "the ioctl woke the device");
	drain(wake);
	CHECK(bar_read_errno() == 0, "out of low power for good");

	/* LOW_POWER_EXIT is an ioctl too: it notifies */
	CHECK_OK(entry_wakeup(wake));
	CHECK_OK(pm_exit());
	CHECK(readable(wake, 0), "LOW_POWER_EXIT itself woke the device");
	drain(wake);

	/* an entry that comes while entered with a wakeup: the ioctl wakes
	 * the device first, so the new entry is taken */
	CHECK_OK(entry_wakeup(wake));
	CHECK_OK(entry());
	CHECK(readable(wake, 0), "woken by the second entry's ioctl");
	drain(wake);
	CHECK(bar_read_errno() == EIO, "in low power again, without a wakeup");
	CHECK_OK(pm_exit());
	CHECK(!readable(wake, 0), "no notification for an entry without one");
	close(wake);
}

/* Registers of the I/OAT channel and one null descriptor that asks for a
 * completion interrupt. */
#define INTRCTRL	0x03
#define CHANCTRL	0x80
#define CHANCMD		0x84
#define DMACOUNT	0x86
#define CHAINADDR	0x90

static void wr(unsigned int off, uint64_t v, size_t n)
{
	CHECK(pwrite(device, &v, n, (off_t)(REGION(0) + off)) == (ssize_t)n, "pwrite %#x: %s",
	      off, strerror(errno));
}

/* A PME: the engine completes (and interrupts) while the function is in low
 * power; the wakeup eventfd fires.  If the engine beat the entry, the round
 * proves nothing and is run again. */
static void test_pme(int container)
{
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	int irq = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bool tested = false;

	REQUIRE(mem != MAP_FAILED && irq >= 0 && wake >= 0, "setup");
	REQUIRE(map_dma(container, mem, IOVA, 4096,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0, "MAP_DMA: %s",
		strerror(errno));
	REQUIRE(set_irq_eventfds(device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &irq) == 0,
		"MSI-X: %s", strerror(errno));
	/* a null descriptor (0x20) with its interrupt (0x1), then its next */
	((uint32_t *)mem)[1] = 0x20 | 0x1;
	((uint64_t *)mem)[3] = IOVA + 64;
	for (int round = 0; round < 10 && !tested; round++) {
		drain(irq);
		drain(wake);
		wr(CHANCMD, 0x20, 1);				/* reset the channel */
		wr(INTRCTRL, 0x1, 1);				/* master interrupt enable */
		wr(CHAINADDR, IOVA, 8);
		wr(CHANCTRL, 0x1, 2);				/* arm the interrupt */
		wr(DMACOUNT, 1, 2);			/* the doorbell: done in 500 us */
		CHECK_OK(entry_wakeup(wake));
		if (readable(irq, 0)) {				/* the engine was quicker */
			CHECK_OK(pm_exit());
			continue;
		}
		tested = true;
		CHECK(readable(wake, 5000), "the completion (a PME) woke the device");
		CHECK(readable(irq, 0), "and its interrupt came");
		CHECK(bar_read_errno() == 0, "out of low power");
	}
	CHECK(tested, "the engine always completed before the entry: PME NOT tested");
	close(irq);
	close(wake);
}

int main(void)
{
	struct vfio_setup s;

	setup_device(&s, IOAT_GROUP, IOAT_BDF, VFIO_TYPE1v2_IOMMU);
	device = s.device;
	enable_device(device);
	test_rules();
	test_wakeup();
	test_pme(s.container);

	/* low power ends with the device's last close */
	CHECK_OK(entry());
	close(device);
	device = ioctl(s.group, VFIO_GROUP_GET_DEVICE_FD, IOAT_BDF);
	REQUIRE(device >= 0, "device again: %s", strerror(errno));
	enable_device(device);
	CHECK(bar_read_errno() == 0, "not in low power after the last close");
	s.device = device;
	teardown(&s);
	return harness_done("low-power");
}
