/* SPDX-License-Identifier: MIT */
/*
 * Pinned user memory: what pin_user_pages() hands an IOMMU back end.  A
 * dma_mem covers [vaddr, vaddr + size) of one client process and is made of
 * spans.  A span backed by a shared file mapping is mapped into the daemon
 * too, so DMA to it is a memcpy (zero copy); any other span (private or
 * anonymous memory) is reached through the process (vfio_mm_read/write).
 * The pages are accounted against the process's RLIMIT_MEMLOCK for as long
 * as the dma_mem lives, as vfio_lock_acct() does.
 */
#ifndef UVFIO_IOMMU_DMA_MEM_H
#define UVFIO_IOMMU_DMA_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/uaccess.h"

struct dma_mem_span {
	uint64_t off;		/* offset of the span in the dma_mem */
	uint64_t len;
	uint64_t vaddr;		/* where the process sees it */
	uint8_t *host;		/* daemon mapping of the span, NULL: via the process */
	bool mmio;		/* a device BAR: reached by bus address */
	uint64_t bus_addr;
	void *map_base;		/* what to munmap (host rounded down to a page) */
	size_t map_len;
	struct mm_file_map *fmap;	/* or the kept file's mapping it uses */
};

struct dma_mem {
	struct vfio_mm *mm;
	uint64_t vaddr;
	uint64_t size;
	int64_t locked;		/* pages accounted to mm */
	bool need_read, need_write;
	unsigned int nspans;
	struct dma_mem_span spans[];
};

/*
 * Device memory behind a program's mapping of a BAR (peer-to-peer DMA).  The
 * IOMMU translates to a bus address and the bus routes the transaction to
 * whichever BAR decodes it, so a mapping never outlives what it reaches.
 * The PCI bus registers these.
 */
struct dma_mmio_ops {
	/* The bus address of [off, off + len) of the file st describes (an
	 * fstat) when it backs a BAR. */
	bool (*resolve)(const struct stat *st, uint64_t off, uint64_t len, uint64_t *bus_addr);
	/* 0, or -EFAULT when no BAR with memory decode on claims it all. */
	int (*rw)(uint64_t bus_addr, void *buf, size_t len, bool write);
};

void dma_mem_set_mmio_ops(const struct dma_mmio_ops *ops);

/*
 * Pins [vaddr, vaddr + size) of the caller as the segments of ua describe
 * it; a mapped BAR becomes a peer-to-peer span, as type1 maps PFNMAP VMAs.  need_read/need_write are the device's view (IOMMU_READ/IOMMU_WRITE).
 * -EFAULT if a byte is unmapped or lacks the protection asked for, -ENOMEM
 * beyond RLIMIT_MEMLOCK, -ENODEV without a caller process.
 */
int dma_mem_pin(struct vfio_uarg *ua, uint64_t vaddr, uint64_t size, bool need_read,
		bool need_write, struct dma_mem **out);
/*
 * Pins the same amount of memory at a new vaddr of the caller (type1's
 * VFIO_DMA_MAP_FLAG_VADDR).  The accounting moves to the caller's process
 * as vfio_change_dma_owner() does (old keeps none of it); old is untouched
 * on failure and is the caller's to unpin on success.
 */
int dma_mem_repin(struct vfio_uarg *ua, struct dma_mem *old, uint64_t vaddr,
		  struct dma_mem **out);
/* Pins size bytes of the file fd at offset (iommufd IOAS_MAP_FILE), always
 * zero copy; accounted to mm. */
int dma_mem_from_file(struct vfio_mm *mm, int fd, uint64_t offset, uint64_t size,
		      bool writable, struct dma_mem **out);
/*
 * dma_mem_pin() and dma_mem_from_file() without the RLIMIT_MEMLOCK charge,
 * for iommufd, which charges pinned pages its own way (per user or per
 * process, and only while a domain uses them).  A mapped BAR is -EFAULT, as
 * GUP refuses VM_PFNMAP memory to iommufd.
 */
int dma_mem_get_user(struct vfio_uarg *ua, uint64_t vaddr, uint64_t size, bool need_read,
		     bool need_write, struct dma_mem **out);
int dma_mem_get_file(struct vfio_mm *mm, int fd, uint64_t offset, uint64_t size,
		     bool writable, struct dma_mem **out);
void dma_mem_unpin(struct dma_mem *mem);

/*
 * Copies len bytes at off in mem to or from buf.  The caller checks bounds
 * and permissions.  0, or -EFAULT when the backing went away under us (a
 * shared file truncated by its owner raises SIGBUS, which is caught here
 * rather than taking the daemon down).
 */
int dma_mem_rw(struct dma_mem *mem, uint64_t off, void *buf, size_t len, bool write);

#endif
