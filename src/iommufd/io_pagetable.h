/* SPDX-License-Identifier: MIT */
/*
 * The IOVA space of one IOAS (drivers/iommu/iommufd/io_pagetable.c): areas
 * mapping IOVA ranges onto slices of pinned memory ("pages"), the ranges
 * user space asked to keep allowed, and the ranges devices and domains
 * reserved.  A page table with no domain (no HWPT) is a pure software table:
 * byte granular, the whole 64-bit space.  Each domain narrows it to the
 * software IOMMU's 4 KiB pages and 48-bit aperture, and each attached device
 * reserves the x86 MSI window.
 *
 * Pages are shared: IOAS_COPY maps the pages of another IOAS without pinning
 * again, and splitting an area for the type1 compatibility leaves both halves
 * on the same pages.  Pinned pages are charged to RLIMIT_MEMLOCK only while
 * some area using them sits in a table with a domain, as the kernel pins
 * only to fill a domain.
 */
#ifndef UVFIO_IOMMUFD_IO_PAGETABLE_H
#define UVFIO_IOMMUFD_IO_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/uaccess.h"
#include "iommu/dma_mem.h"
#include "iommu/iova_tree.h"

#define IOPT_PAGE_SIZE		4096ULL
/* The software IOMMU's domains: x86 page sizes, 48-bit input addresses. */
#define IOPT_DOMAIN_PGSIZES	0x40201000ULL
#define IOPT_APERTURE_LAST	((1ULL << 48) - 1)
/* The interrupt doorbell window every x86 device reserves (IOMMU_RESV_MSI). */
#define IOPT_MSI_START		0xfee00000ULL
#define IOPT_MSI_LAST		0xfeefffffULL

/* Areas a context may have: a daemon-side limit standing in for the kernel's
 * memory cgroup (-ENOMEM beyond it). */
#define IOPT_MAX_AREAS		262144u

/* iopt_map_*() flags */
#define IOPT_ALLOC_IOVA		(1u << 0)

/* Area permissions, as the device sees them. */
#define IOPT_READ		(1u << 0)
#define IOPT_WRITE		(1u << 1)

/* Where pinned pages are charged (iommufd's IOPT_PAGES_ACCOUNT_*). */
enum iopt_account_mode {
	IOPT_PAGES_ACCOUNT_NONE,	/* CAP_IPC_LOCK: not charged */
	IOPT_PAGES_ACCOUNT_USER,	/* the user's counter, vs RLIMIT_MEMLOCK */
	IOPT_PAGES_ACCOUNT_MM,		/* the process's locked_vm, as VFIO does */
};

/* One pinned range of user memory or of a file. */
struct iopt_pages {
	unsigned int refs;		/* areas and in-flight copies using it */
	struct dma_mem *mem;
	uint64_t base;			/* user VA (or file offset) of byte 0 */
	bool writable;
	bool is_file;
	enum iopt_account_mode account_mode;
	struct vfio_mm *source_mm;	/* the process that pinned it */
	uid_t source_uid;
	uint64_t npages;		/* CPU pages it spans */
	bool charged;			/* npages are on the account */
	unsigned int domain_users;	/* areas in a table with a domain */
	unsigned int visit;		/* IOAS_CHANGE_PROCESS walk marker */
};

struct iopt_area {
	struct iova_node node;		/* [iova, last] */
	struct iopt_pages *pages;
	uint64_t start_byte;		/* where the area begins in pages */
	uint32_t prot;			/* IOPT_READ | IOPT_WRITE */
};

struct iopt_allowed {
	struct iova_node node;
};

/* Reserved ranges may overlap (two devices reserve the same MSI window), so
 * they are a list rather than an iova_tree. */
struct iopt_reserved {
	uint64_t start, last;
	const void *owner;
	TAILQ_ENTRY(iopt_reserved) next;
};

struct io_pagetable {
	struct iova_tree area_itree;
	struct iova_tree allowed_itree;
	TAILQ_HEAD(, iopt_reserved) reserved;
	uint64_t iova_alignment;
	unsigned int ndomains;
	bool disable_large_pages;
	unsigned int *nareas;		/* the context's area count (a limit) */
	/* Told about every IOVA range that stops being mapped. */
	void (*unmapped)(void *arg, uint64_t start, uint64_t last);
	void *unmapped_arg;
};

/* A slice of pages taken from one table to map in another (IOAS_COPY). */
struct iopt_pages_elm {
	struct iopt_pages *pages;
	uint64_t start_byte;
	uint64_t length;
};

struct iopt_pages_list {
	struct iopt_pages_elm *elm;
	unsigned int n;
};

void iopt_init_table(struct io_pagetable *iopt, unsigned int *nareas);
/* Unmaps everything and frees what the table owns. */
void iopt_destroy_table(struct io_pagetable *iopt);

/*
 * Maps length bytes at uptr of the caller (ua describes the memory) or of
 * the file fd at start.  *iova is the IOVA (in) or, with IOPT_ALLOC_IOVA, the
 * one chosen (out).  mode is the context's accounting mode.
 */
int iopt_map_user_pages(struct io_pagetable *iopt, struct vfio_uarg *ua,
			enum iopt_account_mode mode, uint64_t *iova, uint64_t uptr,
			uint64_t length, uint32_t prot, unsigned int flags);
int iopt_map_file_pages(struct io_pagetable *iopt, struct vfio_uarg *ua,
			enum iopt_account_mode mode, uint64_t *iova, int fd, uint64_t start,
			uint64_t length, uint32_t prot, unsigned int flags);
/* The pages under [iova, iova + length), which must be mapped without a
 * hole (-ENOENT otherwise).  Undo with iopt_free_pages_list(). */
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_list *list);
int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_list *list, uint64_t length,
		   uint64_t *iova, uint32_t prot, unsigned int flags);
void iopt_free_pages_list(struct iopt_pages_list *list);

/* Unmaps the areas inside [iova, iova + length): -ENOENT at the first one
 * only partly inside (those before are gone). */
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* Splits the areas containing each iovas[i] so that it ends one. */
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas, unsigned int n);

/* Replaces the allowed ranges with those of allowed (swapped on success;
 * the caller frees what it gets back either way). */
int iopt_set_allow_iova(struct io_pagetable *iopt, struct iova_tree *allowed);
void iopt_free_allowed(struct iova_tree *allowed);
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);
/* The usable ranges (gaps between reserved ranges): up to max into out,
 * returns how many there are. */
unsigned int iopt_iova_ranges(struct io_pagetable *iopt, struct iova_node *out,
			      unsigned int max);

/* A domain (paging HWPT) starts or stops translating through this table. */
int iopt_table_add_domain(struct io_pagetable *iopt, const void *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt, const void *domain);
/* The reserved regions of a device attaching through a domain. */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt, const void *dev);

int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);

/* Device DMA through the table: 0 or -EFAULT (nothing moved). */
int iopt_dma_rw(struct io_pagetable *iopt, uint64_t iova, void *buf, size_t len, bool write);

/*
 * IOAS_CHANGE_PROCESS over a set of tables: every area must come from a
 * file (-EINVAL), and all charges move to the caller's process and user,
 * or nothing changes (-ENOMEM).
 */
int iopt_change_process(struct io_pagetable **iopts, unsigned int n, struct vfio_uctx *uctx);

/* Pages charged to uid's per-user counter (all contexts). */
uint64_t iopt_user_locked_pages(uid_t uid);

#endif
