// SPDX-License-Identifier: MIT
/*
 * How each ioctl's argument travels.  The daemon cannot dereference the
 * program's pointers, so the shim copies the bytes the kernel would read,
 * lists the descriptor numbers the structure names and attaches those
 * descriptors.  One table row per command; commands shared between file
 * types (GET_INFO vs HOT_RESET_INFO, MAP_DMA vs PCI_HOT_RESET, DIRTY_PAGES vs
 * DEVICE_FEATURE) get one row per type.
 *
 * User memory is read with one copy that a fault on a bad pointer turns into
 * an error (shim_copy_safe); when it fails, again with process_vm_readv() on
 * ourselves, page by page, which says how far the memory could be read: a
 * bad pointer then yields EFAULT at the point the kernel's copy would fail,
 * instead of a crash in the shim.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "util/offsetofend.h"
#include "uvfio/vfio_cdev.h"
#include "uvfio/vfio_mig.h"

#define T_(t)			(1u << UVFIO_FILE_##t)
#define T_DEVICE		(T_(DEVICE) | T_(DEVICE_CDEV))
/* /dev/iommu answers the type1 container ioctls (vfio compat). */
#define T_CONTAINER		(T_(CONTAINER) | T_(IOMMUFD))

#define ROW(c, t, k, min) \
	{ .cmd = (c), .types = (t), .kind = SHIM_ARG_##k, .minsz = (min) }
#define ROW_FD(c, t, k, min, fdk, off) \
	{ .cmd = (c), .types = (t), .kind = SHIM_ARG_##k, .minsz = (min), \
	  .fds = SHIM_FDS_##fdk, .fd_off = (off) }
#define ROW_MEM(c, t, k, min, va, len) \
	{ .cmd = (c), .types = (t), .kind = SHIM_ARG_##k, .minsz = (min), \
	  .mem_va_off = (va), .mem_len_off = (len) }

static const struct shim_ioctl_desc ioctl_table[] = {
	ROW(VFIO_GROUP_GET_STATUS, T_(GROUP), ARGSZ, offsetofend(struct vfio_group_status, flags)),
	ROW_FD(VFIO_GROUP_SET_CONTAINER, T_(GROUP), INT, sizeof(int32_t), INT, 0),
	ROW(VFIO_GROUP_GET_DEVICE_FD, T_(GROUP), STRING, 0),
	ROW(VFIO_DEVICE_GET_INFO, T_DEVICE, ARGSZ, offsetofend(struct vfio_device_info, num_irqs)),
	ROW(VFIO_DEVICE_GET_REGION_INFO, T_DEVICE, ARGSZ,
	    offsetofend(struct vfio_region_info, offset)),
	ROW(VFIO_DEVICE_GET_IRQ_INFO, T_DEVICE, ARGSZ, offsetofend(struct vfio_irq_info, count)),
	ROW_FD(VFIO_DEVICE_SET_IRQS, T_DEVICE, ARGSZ, offsetofend(struct vfio_irq_set, count),
	       IRQ_SET, 0),
	ROW(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, T_DEVICE, ARGSZ,
	    offsetofend(struct vfio_pci_hot_reset_info, count)),
	ROW_FD(VFIO_DEVICE_PCI_HOT_RESET, T_DEVICE, ARGSZ,
	       offsetofend(struct vfio_pci_hot_reset, count), HOT_RESET, 0),
	ROW_FD(VFIO_DEVICE_IOEVENTFD, T_DEVICE, ARGSZ, offsetofend(struct vfio_device_ioeventfd, fd),
	       FIELD, offsetof(struct vfio_device_ioeventfd, fd)),
	ROW_FD(VFIO_DEVICE_FEATURE, T_DEVICE, ARGSZ, offsetofend(struct vfio_device_feature, flags),
	       FEATURE, 0),
	ROW(VFIO_MIG_GET_PRECOPY_INFO, T_(MIG_DATA), ARGSZ,
	    offsetofend(struct vfio_precopy_info, dirty_bytes)),
	/* Read like copy_struct_from_user(): argsz is the size, the tail
	 * past the structure must be zero. */
	ROW_FD(VFIO_DEVICE_BIND_IOMMUFD, T_DEVICE, SIZE, sizeof(struct vfio_device_bind_iommufd),
	       FIELD, offsetof(struct vfio_device_bind_iommufd, iommufd)),
	ROW(VFIO_DEVICE_ATTACH_IOMMUFD_PT, T_DEVICE, ARGSZ,
	    offsetofend(struct vfio_device_attach_iommufd_pt, pt_id)),
	ROW(VFIO_DEVICE_DETACH_IOMMUFD_PT, T_DEVICE, ARGSZ,
	    offsetofend(struct vfio_device_detach_iommufd_pt, flags)),
	ROW(VFIO_IOMMU_GET_INFO, T_CONTAINER, ARGSZ,
	    offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)),
	ROW_MEM(VFIO_IOMMU_MAP_DMA, T_CONTAINER, ARGSZ,
		offsetofend(struct vfio_iommu_type1_dma_map, size),
		offsetof(struct vfio_iommu_type1_dma_map, vaddr),
		offsetof(struct vfio_iommu_type1_dma_map, size)),
	ROW(VFIO_IOMMU_UNMAP_DMA, T_CONTAINER, ARGSZ,
	    offsetofend(struct vfio_iommu_type1_dma_unmap, size)),
	ROW(VFIO_IOMMU_DIRTY_PAGES, T_CONTAINER, ARGSZ,
	    offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags)),
	/* iommufd commands with more than bytes in them; the rest take the
	 * generic row below. */
	ROW_MEM(IOMMU_IOAS_MAP, T_(IOMMUFD), SIZE, sizeof(struct iommu_ioas_map),
		offsetof(struct iommu_ioas_map, user_va), offsetof(struct iommu_ioas_map, length)),
	ROW_FD(IOMMU_IOAS_MAP_FILE, T_(IOMMUFD), SIZE, sizeof(struct iommu_ioas_map_file),
	       FIELD, offsetof(struct iommu_ioas_map_file, fd)),
};

/* Every other iommufd command (nr >= 0x80): a size-led structure of a
 * length only the daemon knows, so all of it travels. */
static const struct shim_ioctl_desc iommufd_generic = {
	.kind = SHIM_ARG_SIZE, .minsz = SHIM_ARGSZ_MAX,
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
	if (type == UVFIO_FILE_IOMMUFD && _IOC_TYPE(cmd) == IOMMUFD_TYPE &&
	    _IOC_NR(cmd) >= IOMMUFD_CMD_BASE)
		return &iommufd_generic;
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

/* Reads len bytes: all of them with one copy when they are there, else as
 * many as can be read. */
static size_t user_read(void *dst, uint64_t uaddr, size_t len)
{
	if (shim_copy_safe(dst, (const void *)(uintptr_t)uaddr, len) == 0)
		return len;
	return shim_user_read(dst, uaddr, len);
}

/* Reads up to want bytes; a short read marks the rest unreadable. */
static void read_bytes(struct shim_ioctl_arg *a, uint64_t arg, size_t want)
{
	a->len = (uint32_t)user_read(a->bytes, arg, want);
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
	case SHIM_FDS_FIELD:
		if (a->len < d->fd_off + sizeof(int32_t))
			return 0;
		return add_fd(a, (int32_t)get_u32(a, d->fd_off));
	case SHIM_FDS_FEATURE: {
		const size_t data = offsetof(struct vfio_device_feature, data);
		uint32_t flags;

		if (a->len < data + sizeof(int32_t))
			return 0;
		flags = get_u32(a, offsetof(struct vfio_device_feature, flags));
		if ((flags & VFIO_DEVICE_FEATURE_MASK) !=
		    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP ||
		    !(flags & VFIO_DEVICE_FEATURE_SET) || (flags & VFIO_DEVICE_FEATURE_PROBE))
			return 0;
		return add_fd(a, (int32_t)get_u32(a, data));
	}
	default:
		return 0;
	}
}

/* copy_struct_from_user()'s tail rule for the bytes [uaddr, uaddr + len)
 * that do not travel: all zero, or the daemon answers E2BIG (EFAULT if one
 * is unreadable first). */
static void check_tail(struct shim_ioctl_arg *a, uint64_t uaddr, uint64_t len)
{
	uint8_t buf[PAGE];

	while (len) {
		size_t chunk = PAGE - (uaddr & (PAGE - 1)), got;

		if (chunk > len)
			chunk = len;
		got = user_read(buf, uaddr, chunk);
		for (size_t i = 0; i < got; i++) {
			if (buf[i]) {
				a->flags |= UVFIO_IOCTL_TAIL_NONZERO;
				return;
			}
		}
		if (got < chunk) {
			a->flags |= UVFIO_IOCTL_ARG_FAULT;
			return;
		}
		uaddr += chunk;
		len -= chunk;
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
		if (user_read(&argsz, arg, sizeof(argsz)) < sizeof(argsz)) {
			a->flags |= UVFIO_IOCTL_ARG_FAULT;
			return 0;
		}
		/* The kernel reads minsz bytes before it looks at argsz. */
		want = argsz < SHIM_ARGSZ_MAX ? argsz : SHIM_ARGSZ_MAX;
		if (want < d->minsz)
			want = d->minsz;
		read_bytes(a, arg, want);
		break;
	case SHIM_ARG_SIZE:
		if (user_read(&argsz, arg, sizeof(argsz)) < sizeof(argsz)) {
			a->flags |= UVFIO_IOCTL_ARG_FAULT;
			return 0;
		}
		/* What the structure can hold travels; the daemon judges the
		 * size itself. */
		want = argsz < d->minsz ? argsz : d->minsz;
		if (want < sizeof(argsz))
			want = sizeof(argsz);
		read_bytes(a, arg, want);
		if (argsz > want && !(a->flags & UVFIO_IOCTL_ARG_FAULT))
			check_tail(a, arg + want, argsz - want);
		break;
	default:
		return 0;
	}
	return list_fds(d, a);
}
