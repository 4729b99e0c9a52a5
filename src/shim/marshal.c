// SPDX-License-Identifier: MIT
/*
 * How each ioctl's argument travels.  The daemon cannot dereference the
 * program's pointers, so the shim copies the bytes the kernel would read,
 * lists the descriptor numbers the structure names and attaches those
 * descriptors.  One table row per command; commands shared between file
 * types (GET_INFO vs HOT_RESET_INFO, MAP_DMA vs PCI_HOT_RESET, DIRTY_PAGES vs
 * DEVICE_FEATURE) get one row per type.
 *
 * User memory is read with process_vm_readv() on ourselves: a bad pointer
 * then yields EFAULT at the point the kernel's copy would fail, instead of a
 * crash in the shim.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "util/offsetofend.h"

#define T_(t)			(1u << UVFIO_FILE_##t)
#define T_DEVICE		(T_(DEVICE) | T_(DEVICE_CDEV))

static const struct shim_ioctl_desc ioctl_table[] = {
	{ VFIO_GROUP_GET_STATUS, T_(GROUP), SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_group_status, flags) },
	{ VFIO_GROUP_SET_CONTAINER, T_(GROUP), SHIM_ARG_INT, SHIM_FDS_INT, false,
	  sizeof(int32_t) },
	{ VFIO_GROUP_GET_DEVICE_FD, T_(GROUP), SHIM_ARG_STRING, SHIM_FDS_NONE, false, 0 },
	{ VFIO_DEVICE_GET_INFO, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_device_info, num_irqs) },
	{ VFIO_DEVICE_GET_REGION_INFO, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_region_info, offset) },
	{ VFIO_DEVICE_GET_IRQ_INFO, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_irq_info, count) },
	{ VFIO_DEVICE_SET_IRQS, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_IRQ_SET, false,
	  offsetofend(struct vfio_irq_set, count) },
	{ VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_pci_hot_reset_info, count) },
	{ VFIO_DEVICE_PCI_HOT_RESET, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_HOT_RESET, false,
	  offsetofend(struct vfio_pci_hot_reset, count) },
	{ VFIO_DEVICE_IOEVENTFD, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_IOEVENTFD, false,
	  offsetofend(struct vfio_device_ioeventfd, fd) },
	{ VFIO_DEVICE_FEATURE, T_DEVICE, SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_device_feature, flags) },
	{ VFIO_IOMMU_GET_INFO, T_(CONTAINER), SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_iommu_type1_info, iova_pgsizes) },
	{ VFIO_IOMMU_MAP_DMA, T_(CONTAINER), SHIM_ARG_ARGSZ, SHIM_FDS_NONE, true,
	  offsetofend(struct vfio_iommu_type1_dma_map, size) },
	{ VFIO_IOMMU_UNMAP_DMA, T_(CONTAINER), SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_iommu_type1_dma_unmap, size) },
	{ VFIO_IOMMU_DIRTY_PAGES, T_(CONTAINER), SHIM_ARG_ARGSZ, SHIM_FDS_NONE, false,
	  offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags) },
};

static const struct shim_ioctl_desc value_only = { .kind = SHIM_ARG_NONE };

const struct shim_ioctl_desc *shim_ioctl_lookup(unsigned long cmd, uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(ioctl_table) / sizeof(ioctl_table[0]); i++) {
		const struct shim_ioctl_desc *d = &ioctl_table[i];

		if (d->cmd == cmd && (!d->types || (type < 32 && (d->types & (1u << type)))))
			return d;
	}
	return &value_only;
}

#define PAGE		4096u
#define IOV_BATCH	32u

/* Splits [uaddr, uaddr+len) at page boundaries so a partial transfer ends
 * exactly at the first unreadable page whatever the kernel's granularity. */
static size_t self_vm_rw(void *local, uint64_t uaddr, size_t len, bool write)
{
	struct iovec liov, riov[IOV_BATCH];
	size_t done = 0;
	pid_t pid = getpid();

	while (done < len) {
		size_t batch = 0;
		unsigned int n = 0;
		ssize_t r;

		while (n < IOV_BATCH && done + batch < len) {
			uint64_t a = uaddr + done + batch;
			size_t chunk = PAGE - (a & (PAGE - 1));

			if (chunk > len - done - batch)
				chunk = len - done - batch;
			riov[n].iov_base = (void *)(uintptr_t)a;
			riov[n].iov_len = chunk;
			batch += chunk;
			n++;
		}
		liov.iov_base = (uint8_t *)local + done;
		liov.iov_len = batch;
		r = write ? process_vm_writev(pid, &liov, 1, riov, n, 0)
			  : process_vm_readv(pid, &liov, 1, riov, n, 0);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < batch)
			break;
	}
	return done;
}

size_t shim_user_read(void *dst, uint64_t uaddr, size_t len)
{
	int saved = errno;
	size_t n = self_vm_rw(dst, uaddr, len, false);

	errno = saved;
	return n;
}

int shim_user_write(uint64_t uaddr, const void *src, size_t len)
{
	int saved = errno;
	size_t n = self_vm_rw((void *)src, uaddr, len, true);

	errno = saved;
	return n == len ? 0 : -EFAULT;
}

/* Reads up to want bytes; a short read marks the rest unreadable. */
static void read_bytes(struct shim_ioctl_arg *a, uint64_t arg, size_t want)
{
	a->len = (uint32_t)shim_user_read(a->bytes, arg, want);
	if (a->len < want)
		a->flags |= UVFIO_IOCTL_ARG_FAULT;
}

/* Like strndup_user(arg, PAGE_SIZE): NUL within the first 4097 bytes or
 * the daemon answers EINVAL.  Page by page, so a short string that ends just
 * before an unmapped page is not a fault. */
static void read_string(struct shim_ioctl_arg *a, uint64_t arg)
{
	const size_t max = SHIM_STRING_MAX + 1;
	size_t done = 0;

	while (done < max) {
		size_t chunk = PAGE - ((arg + done) & (PAGE - 1));
		size_t got;
		uint8_t *nul;

		if (chunk > max - done)
			chunk = max - done;
		got = shim_user_read(a->bytes + done, arg + done, chunk);
		nul = memchr(a->bytes + done, 0, got);
		if (nul) {
			a->len = (uint32_t)(nul - a->bytes + 1);
			return;
		}
		done += got;
		if (got < chunk) {
			a->flags |= UVFIO_IOCTL_ARG_FAULT;
			break;
		}
	}
	a->len = (uint32_t)done;
}

static int add_fd(struct shim_ioctl_arg *a, int32_t fd)
{
	uint32_t i;

	/* Negative numbers mean "none" in every VFIO structure. */
	if (fd < 0)
		return 0;
	for (i = 0; i < a->nfds; i++)
		if (a->fds[i].user_fd == fd)
			return 0;
	/* One message carries at most UVFIO_MAX_FDS descriptors. */
	if (a->nfds == UVFIO_MAX_FDS)
		return -E2BIG;
	a->fds[a->nfds].user_fd = fd;
	a->fds[a->nfds].attached = -1;
	if (REAL(fcntl)(fd, F_GETFD) >= 0) {
		a->fds[a->nfds].attached = (int32_t)a->nattach;
		a->attach[a->nattach++] = fd;
	}
	a->nfds++;
	return 0;
}

static uint32_t get_u32(const struct shim_ioctl_arg *a, size_t off)
{
	uint32_t v;

	memcpy(&v, a->bytes + off, sizeof(v));
	return v;
}

/* The int32 array of count entries at off, as far as argsz and the bytes
 * read cover it. */
static int add_fd_array(struct shim_ioctl_arg *a, size_t off, uint32_t count)
{
	size_t avail = a->len, argsz = get_u32(a, 0), i;
	int err;

	if (argsz < avail)
		avail = argsz;
	if (avail < off)
		return 0;
	avail = (avail - off) / sizeof(int32_t);
	if (count < avail)
		avail = count;
	for (i = 0; i < avail; i++) {
		err = add_fd(a, (int32_t)get_u32(a, off + i * sizeof(int32_t)));
		if (err)
			return err;
	}
	return 0;
}

static int list_fds(const struct shim_ioctl_desc *d, struct shim_ioctl_arg *a)
{
	switch (d->fds) {
	case SHIM_FDS_INT:
		return a->len >= sizeof(int32_t) ? add_fd(a, (int32_t)get_u32(a, 0)) : 0;
	case SHIM_FDS_IRQ_SET:
		if (a->len < d->minsz ||
		    !(get_u32(a, offsetof(struct vfio_irq_set, flags)) & VFIO_IRQ_SET_DATA_EVENTFD))
			return 0;
		return add_fd_array(a, offsetof(struct vfio_irq_set, data),
				    get_u32(a, offsetof(struct vfio_irq_set, count)));
	case SHIM_FDS_HOT_RESET:
		if (a->len < d->minsz)
			return 0;
		return add_fd_array(a, offsetof(struct vfio_pci_hot_reset, group_fds),
				    get_u32(a, offsetof(struct vfio_pci_hot_reset, count)));
	case SHIM_FDS_IOEVENTFD:
		if (a->len < d->minsz)
			return 0;
		return add_fd(a, (int32_t)get_u32(a, offsetof(struct vfio_device_ioeventfd, fd)));
	default:
		return 0;
	}
}

int shim_marshal_arg(const struct shim_ioctl_desc *d, uint64_t arg, struct shim_ioctl_arg *a)
{
	uint32_t argsz;
	size_t want;

	a->flags = 0;
	a->len = 0;
	a->nfds = 0;
	a->nattach = 0;
	switch (d->kind) {
	case SHIM_ARG_INT:
		read_bytes(a, arg, sizeof(int32_t));
		break;
	case SHIM_ARG_STRING:
		read_string(a, arg);
		break;
	case SHIM_ARG_ARGSZ:
		if (shim_user_read(&argsz, arg, sizeof(argsz)) < sizeof(argsz)) {
			a->flags |= UVFIO_IOCTL_ARG_FAULT;
			return 0;
		}
		/* The kernel reads minsz bytes before it looks at argsz. */
		want = argsz < SHIM_ARGSZ_MAX ? argsz : SHIM_ARGSZ_MAX;
		if (want < d->minsz)
			want = d->minsz;
		read_bytes(a, arg, want);
		break;
	default:
		return 0;
	}
	return list_fds(d, a);
}
