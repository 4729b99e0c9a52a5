// SPDX-License-Identifier: MIT
/* The ioctl marshal table and what it copies from user memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim/shim.h"
#include "uvfio/vfio_cdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define PG	4096ul

static uint8_t bytes[SHIM_ARGSZ_MAX + 1];

/* Two pages, the second unreadable: objects placed against the boundary
 * show where reads stop. */
static uint8_t *guard;

static int setup(void **state)
{
	(void)state;
	guard = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED || mprotect(guard + PG, PG, PROT_NONE))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return munmap(guard, 2 * PG);
}

static struct shim_ioctl_arg *marshal(unsigned long cmd, uint32_t type, const void *arg,
				      int expect)
{
	static struct shim_ioctl_arg a;

	a.bytes = bytes;
	assert_int_equal(shim_marshal_arg(shim_ioctl_lookup(cmd, type),
					  (uintptr_t)arg, &a), expect);
	return &a;
}

static void test_lookup(void **state)
{
	const struct shim_ioctl_desc *d;

	(void)state;
	/* Shared numbers resolve by file type. */
	d = shim_ioctl_lookup(VFIO_IOMMU_MAP_DMA, UVFIO_FILE_CONTAINER);
	assert_int_equal(d->mem_va_off, 8);
	assert_int_equal(d->mem_len_off, 24);
	assert_int_equal(d->kind, SHIM_ARG_ARGSZ);
	assert_int_equal(d->minsz, 32);
	d = shim_ioctl_lookup(VFIO_DEVICE_PCI_HOT_RESET, UVFIO_FILE_DEVICE);
	assert_int_equal(d->mem_va_off, 0);
	assert_int_equal(d->fds, SHIM_FDS_HOT_RESET);
	assert_int_equal(d->minsz, 12);
	d = shim_ioctl_lookup(VFIO_DEVICE_PCI_HOT_RESET, UVFIO_FILE_DEVICE_CDEV);
	assert_int_equal(d->fds, SHIM_FDS_HOT_RESET);
	d = shim_ioctl_lookup(VFIO_IOMMU_GET_INFO, UVFIO_FILE_CONTAINER);
	assert_int_equal(d->minsz, 16);
	d = shim_ioctl_lookup(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, UVFIO_FILE_DEVICE);
	assert_int_equal(d->minsz, 12);
	d = shim_ioctl_lookup(VFIO_IOMMU_DIRTY_PAGES, UVFIO_FILE_CONTAINER);
	assert_int_equal(d->kind, SHIM_ARG_ARGSZ);
	d = shim_ioctl_lookup(VFIO_DEVICE_FEATURE, UVFIO_FILE_DEVICE);
	assert_int_equal(d->kind, SHIM_ARG_ARGSZ);
	assert_int_equal(d->minsz, 8);

	assert_int_equal(shim_ioctl_lookup(VFIO_GROUP_SET_CONTAINER, UVFIO_FILE_GROUP)->kind,
			 SHIM_ARG_INT);
	assert_int_equal(shim_ioctl_lookup(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP)->kind,
			 SHIM_ARG_STRING);
	assert_int_equal(shim_ioctl_lookup(VFIO_DEVICE_SET_IRQS, UVFIO_FILE_DEVICE)->fds,
			 SHIM_FDS_IRQ_SET);
	d = shim_ioctl_lookup(VFIO_DEVICE_IOEVENTFD, UVFIO_FILE_DEVICE);
	assert_int_equal(d->fds, SHIM_FDS_FIELD);
	assert_int_equal(d->fd_off, 24);

	/* Value-only: by design, for the wrong file type, and unknown. */
	assert_int_equal(shim_ioctl_lookup(VFIO_GET_API_VERSION, UVFIO_FILE_CONTAINER)->kind,
			 SHIM_ARG_NONE);
	assert_int_equal(shim_ioctl_lookup(VFIO_CHECK_EXTENSION, UVFIO_FILE_CONTAINER)->kind,
			 SHIM_ARG_NONE);
	assert_int_equal(shim_ioctl_lookup(VFIO_DEVICE_RESET, UVFIO_FILE_DEVICE)->kind,
			 SHIM_ARG_NONE);
	assert_int_equal(shim_ioctl_lookup(VFIO_IOMMU_MAP_DMA, UVFIO_FILE_GROUP)->kind,
			 SHIM_ARG_NONE);
	assert_int_equal(shim_ioctl_lookup(VFIO_DEVICE_GET_INFO, UVFIO_FILE_CONTAINER)->kind,
			 SHIM_ARG_NONE);
	assert_int_equal(shim_ioctl_lookup(0x5401, UVFIO_FILE_DEVICE)->kind, SHIM_ARG_NONE);
}

static void test_iommufd_lookup(void **state)
{
	const struct shim_ioctl_desc *d;

	(void)state;
	/* /dev/iommu takes the type1 ioctls too (compat), with memory. */
	d = shim_ioctl_lookup(VFIO_IOMMU_MAP_DMA, UVFIO_FILE_IOMMUFD);
	assert_int_equal(d->mem_va_off, 8);
	assert_int_equal(shim_ioctl_lookup(VFIO_IOMMU_GET_INFO, UVFIO_FILE_IOMMUFD)->kind,
			 SHIM_ARG_ARGSZ);
	/* ... but not the device ioctl sharing GET_INFO's number. */
	assert_int_equal(shim_ioctl_lookup(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
					   UVFIO_FILE_IOMMUFD)->minsz, 16);
	d = shim_ioctl_lookup(IOMMU_IOAS_MAP, UVFIO_FILE_IOMMUFD);
	assert_int_equal(d->kind, SHIM_ARG_SIZE);
	assert_int_equal(d->mem_va_off, 16);
	assert_int_equal(d->mem_len_off, 24);
	d = shim_ioctl_lookup(IOMMU_IOAS_MAP_FILE, UVFIO_FILE_IOMMUFD);
	assert_int_equal(d->fds, SHIM_FDS_FIELD);
	assert_int_equal(d->fd_off, 12);
	/* Any other iommufd command: size-led, all of it travels. */
	d = shim_ioctl_lookup(IOMMU_IOAS_ALLOC, UVFIO_FILE_IOMMUFD);
	assert_int_equal(d->kind, SHIM_ARG_SIZE);
	assert_int_equal(shim_ioctl_lookup(_IO(IOMMUFD_TYPE, 0xfe), UVFIO_FILE_IOMMUFD)->kind,
			 SHIM_ARG_SIZE);
	/* ... only on /dev/iommu. */
	assert_int_equal(shim_ioctl_lookup(IOMMU_IOAS_ALLOC, UVFIO_FILE_CONTAINER)->kind,
			 SHIM_ARG_NONE);
	d = shim_ioctl_lookup(VFIO_DEVICE_BIND_IOMMUFD, UVFIO_FILE_DEVICE_CDEV);
	assert_int_equal(d->kind, SHIM_ARG_SIZE);
	assert_int_equal(d->fds, SHIM_FDS_FIELD);
	assert_int_equal(d->fd_off, 8);
	assert_int_equal(shim_ioctl_lookup(VFIO_DEVICE_ATTACH_IOMMUFD_PT,
					   UVFIO_FILE_DEVICE_CDEV)->minsz, 12);
}

/* copy_struct_from_user(): what the structure holds travels; a longer
 * size's tail is checked for zero here. */
static void test_iommufd_size(void **state)
{
	struct {
		struct iommu_ioas_alloc cmd;
		uint8_t tail[64];
	} big;
	struct iommu_ioas_map_file mf = { .size = sizeof(mf), .fd = 0 };
	struct shim_ioctl_arg *a;
	uint32_t tiny = 2;
	uint8_t *page;

	(void)state;
	memset(&big, 0, sizeof(big));
	big.cmd.size = sizeof(big);
	a = marshal(IOMMU_IOAS_ALLOC, UVFIO_FILE_IOMMUFD, &big, 0);
	assert_int_equal(a->len, sizeof(big));
	assert_int_equal(a->flags, 0);

	/* A size below the size field still sends the field. */
	a = marshal(IOMMU_IOAS_ALLOC, UVFIO_FILE_IOMMUFD, &tiny, 0);
	assert_int_equal(a->len, 4);

	/* The known structure travels, a non-zero tail is flagged. */
	struct {
		struct iommu_ioas_map_file cmd;
		uint8_t tail[16];
	} mft;
	memset(&mft, 0, sizeof(mft));
	mft.cmd.size = sizeof(mft);
	mft.cmd.fd = -1;
	a = marshal(IOMMU_IOAS_MAP_FILE, UVFIO_FILE_IOMMUFD, &mft, 0);
	assert_int_equal(a->len, sizeof(mft.cmd));
	assert_int_equal(a->flags, 0);
	mft.tail[15] = 1;
	a = marshal(IOMMU_IOAS_MAP_FILE, UVFIO_FILE_IOMMUFD, &mft, 0);
	assert_int_equal(a->flags, UVFIO_IOCTL_TAIL_NONZERO);

	/* The descriptor field is listed and attached. */
	a = marshal(IOMMU_IOAS_MAP_FILE, UVFIO_FILE_IOMMUFD, &mf, 0);
	assert_int_equal(a->nfds, 1);
	assert_int_equal(a->fds[0].user_fd, 0);
	assert_int_equal(a->nattach, 1);

	/* A tail running into an unmapped page is a fault, not a zero. */
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	munmap(page + 4096, 4096);
	memset(page, 0, 4096);
	mf.size = 8192;
	memcpy(page + 4096 - sizeof(mf) - 8, &mf, sizeof(mf));
	a = marshal(IOMMU_IOAS_MAP_FILE, UVFIO_FILE_IOMMUFD, page + 4096 - sizeof(mf) - 8, 0);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);
	munmap(page, 4096);
}

static void test_argsz(void **state)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 3 };
	struct shim_ioctl_arg *a;
	uint32_t *p;

	(void)state;
	a = marshal(VFIO_DEVICE_GET_REGION_INFO, UVFIO_FILE_DEVICE, &ri, 0);
	assert_int_equal(a->len, sizeof(ri));
	assert_int_equal(a->flags, 0);
	assert_memory_equal(a->bytes, &ri, sizeof(ri));

	/* A too-small argsz still copies what the kernel reads first. */
	ri.argsz = 4;
	a = marshal(VFIO_DEVICE_GET_REGION_INFO, UVFIO_FILE_DEVICE, &ri, 0);
	assert_int_equal(a->len, 32);
	assert_int_equal(a->flags, 0);

	/* argsz reaching into an unreadable page: the readable part, flagged. */
	p = (uint32_t *)(guard + PG - 40);
	p[0] = 1000;
	a = marshal(VFIO_DEVICE_GET_INFO, UVFIO_FILE_DEVICE, p, 0);
	assert_int_equal(a->len, 40);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);

	/* Large argsz is bounded. */
	{
		uint8_t *big = calloc(1, 2 * SHIM_ARGSZ_MAX);

		assert_non_null(big);
		*(uint32_t *)big = 2 * SHIM_ARGSZ_MAX;
		a = marshal(VFIO_DEVICE_FEATURE, UVFIO_FILE_DEVICE, big, 0);
		assert_int_equal(a->len, SHIM_ARGSZ_MAX);
		assert_int_equal(a->flags, 0);
		free(big);
	}

	/* Unreadable argsz: nothing copied. */
	a = marshal(VFIO_GROUP_GET_STATUS, UVFIO_FILE_GROUP, guard + PG, 0);
	assert_int_equal(a->len, 0);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);
	a = marshal(VFIO_GROUP_GET_STATUS, UVFIO_FILE_GROUP, NULL, 0);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);

	/* Value-only commands copy nothing. */
	a = marshal(VFIO_CHECK_EXTENSION, UVFIO_FILE_CONTAINER, (void *)1, 0);
	assert_int_equal(a->len, 0);
	assert_int_equal(a->flags, 0);
	assert_int_equal(a->nfds, 0);
}

static void test_string(void **state)
{
	static const char name[] = "0000:06:0d.0";
	struct shim_ioctl_arg *a;
	char *p, *longs;

	(void)state;
	a = marshal(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP, name, 0);
	assert_int_equal(a->len, sizeof(name));
	assert_string_equal((char *)a->bytes, name);
	assert_int_equal(a->flags, 0);

	/* Ends right before the unreadable page: fine. */
	p = (char *)guard + PG - sizeof(name);
	memcpy(p, name, sizeof(name));
	a = marshal(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP, p, 0);
	assert_int_equal(a->len, sizeof(name));
	assert_int_equal(a->flags, 0);

	/* Runs into it: a fault. */
	memset(guard + PG - 8, 'x', 8);
	a = marshal(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP, guard + PG - 8, 0);
	assert_int_equal(a->len, 8);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);

	/* Longer than a page: 4097 bytes, no NUL, for the daemon to refuse. */
	longs = malloc(5000);
	assert_non_null(longs);
	memset(longs, 'a', 4999);
	longs[4999] = 0;
	a = marshal(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP, longs, 0);
	assert_int_equal(a->len, SHIM_STRING_MAX + 1);
	assert_int_equal(a->flags, 0);
	assert_null(memchr(a->bytes, 0, a->len));

	/* Exactly 4096 characters plus NUL: all 4097 bytes. */
	longs[4096] = 0;
	a = marshal(VFIO_GROUP_GET_DEVICE_FD, UVFIO_FILE_GROUP, longs, 0);
	assert_int_equal(a->len, SHIM_STRING_MAX + 1);
	assert_int_equal(a->bytes[SHIM_STRING_MAX], 0);
	free(longs);
}

static void test_fds(void **state)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)buf;
	int32_t *data = (int32_t *)irq->data;
	struct shim_ioctl_arg *a;
	int efd = eventfd(0, EFD_CLOEXEC), closed_fd = dup(efd);
	int32_t v;

	(void)state;
	assert_true(efd >= 0 && closed_fd >= 0);
	close(closed_fd);

	v = efd;
	a = marshal(VFIO_GROUP_SET_CONTAINER, UVFIO_FILE_GROUP, &v, 0);
	assert_int_equal(a->len, 4);
	assert_int_equal(a->nfds, 1);
	assert_int_equal(a->fds[0].user_fd, efd);
	assert_int_equal(a->fds[0].attached, 0);
	assert_int_equal(a->nattach, 1);
	assert_int_equal(a->attach[0], efd);

	/* A number that is not open is listed, not attached. */
	v = closed_fd;
	a = marshal(VFIO_GROUP_SET_CONTAINER, UVFIO_FILE_GROUP, &v, 0);
	assert_int_equal(a->nfds, 1);
	assert_int_equal(a->fds[0].attached, -1);
	assert_int_equal(a->nattach, 0);

	a = marshal(VFIO_GROUP_SET_CONTAINER, UVFIO_FILE_GROUP, guard + PG, 0);
	assert_int_equal(a->flags, UVFIO_IOCTL_ARG_FAULT);
	assert_int_equal(a->nfds, 0);

	/* SET_IRQS eventfds: -1 means none, repeats go once, only within argsz. */
	memset(buf, 0, sizeof(buf));
	irq->argsz = sizeof(*irq) + 3 * sizeof(int32_t);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->count = 4;
	data[0] = efd;
	data[1] = -1;
	data[2] = closed_fd;
	data[3] = 77;
	a = marshal(VFIO_DEVICE_SET_IRQS, UVFIO_FILE_DEVICE, irq, 0);
	assert_int_equal(a->nfds, 2);
	assert_int_equal(a->fds[0].user_fd, efd);
	assert_int_equal(a->fds[0].attached, 0);
	assert_int_equal(a->fds[1].user_fd, closed_fd);
	assert_int_equal(a->fds[1].attached, -1);

	irq->flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	a = marshal(VFIO_DEVICE_SET_IRQS, UVFIO_FILE_DEVICE, irq, 0);
	assert_int_equal(a->nfds, 0);

	/* Hot reset group fds, for a device only. */
	{
		uint8_t hb[sizeof(struct vfio_pci_hot_reset) + 2 * sizeof(int32_t)];
		struct vfio_pci_hot_reset *hr = (struct vfio_pci_hot_reset *)hb;

		hr->argsz = sizeof(hb);
		hr->flags = 0;
		hr->count = 2;
		hr->group_fds[0] = efd;
		hr->group_fds[1] = efd;
		a = marshal(VFIO_DEVICE_PCI_HOT_RESET, UVFIO_FILE_DEVICE, hr, 0);
		assert_int_equal(a->nfds, 1);
		assert_int_equal(a->len, sizeof(hb));
		a = marshal(VFIO_IOMMU_MAP_DMA, UVFIO_FILE_CONTAINER, hr, 0);
		assert_int_equal(a->nfds, 0);
	}

	{
		struct vfio_device_ioeventfd ie = {
			.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32, .fd = efd,
		};

		a = marshal(VFIO_DEVICE_IOEVENTFD, UVFIO_FILE_DEVICE, &ie, 0);
		assert_int_equal(a->nfds, 1);
		assert_int_equal(a->fds[0].user_fd, efd);
		ie.fd = -1;
		a = marshal(VFIO_DEVICE_IOEVENTFD, UVFIO_FILE_DEVICE, &ie, 0);
		assert_int_equal(a->nfds, 0);
	}
	close(efd);
}

/* More distinct descriptors than one message carries. */
static void test_too_many_fds(void **state)
{
	const unsigned int n = UVFIO_MAX_FDS + 1;
	size_t len = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *irq = calloc(1, len);
	unsigned int i;

	(void)state;
	assert_non_null(irq);
	irq->argsz = (uint32_t)len;
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->count = n;
	for (i = 0; i < n; i++)
		((int32_t *)irq->data)[i] = (int32_t)(10000 + i);
	marshal(VFIO_DEVICE_SET_IRQS, UVFIO_FILE_DEVICE, irq, -E2BIG);
	irq->count = n - 1;
	marshal(VFIO_DEVICE_SET_IRQS, UVFIO_FILE_DEVICE, irq, 0);
	free(irq);
}

static void test_user_write(void **state)
{
	uint32_t v = 0, src = 0xabcd;

	(void)state;
	assert_int_equal(shim_user_write((uintptr_t)&v, &src, sizeof(src)), 0);
	assert_int_equal(v, 0xabcd);
	assert_int_equal(shim_user_write((uintptr_t)(guard + PG - 2), &src, sizeof(src)),
			 -EFAULT);
	errno = 1234;
	assert_int_equal(shim_user_read(&v, (uintptr_t)(guard + PG), sizeof(v)), 0);
	assert_int_equal(errno, 1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_iommufd_lookup),
		cmocka_unit_test(test_iommufd_size),
		cmocka_unit_test(test_argsz),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_too_many_fds),
		cmocka_unit_test(test_user_write),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
