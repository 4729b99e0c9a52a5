// SPDX-License-Identifier: MIT
/*
 * Area bookkeeping of one IOAS, with the kernel's placement rules, errnos
 * and pinned-page accounting (drivers/iommu/iommufd/io_pagetable.c and
 * pages.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "io_pagetable.h"
#include "util/log.h"

/* THP size: automatic IOVAs are aligned at most this much. */
#define IOPT_HPAGE_SIZE		(2ULL << 20)

static inline struct iopt_area *to_area(struct iova_node *n)
{
	return n ? container_of(n, struct iopt_area, node) : NULL;
}

static inline uint64_t area_length(const struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

/* Offset of iova's byte inside the area's pages. */
static inline uint64_t area_start_byte(const struct iopt_area *area, uint64_t iova)
{
	return area->start_byte + (iova - area->node.start);
}

static uint64_t pages_spanned(uint64_t addr, uint64_t size)
{
	return (addr + size - 1) / IOPT_PAGE_SIZE - addr / IOPT_PAGE_SIZE + 1;
}

/* ---- pinned-page accounting ---- */

/* The per-user counter shared by every context, like user->locked_vm. */
struct iopt_user {
	uid_t uid;
	uint64_t locked;
	struct iopt_user *next;
};

static struct iopt_user *iopt_users;

static struct iopt_user **iopt_user_slot(uid_t uid)
{
	struct iopt_user **pp;

	for (pp = &iopt_users; *pp; pp = &(*pp)->next)
		if ((*pp)->uid == uid)
			break;
	return pp;
}

uint64_t iopt_user_locked_pages(uid_t uid)
{
	struct iopt_user *u = *iopt_user_slot(uid);

	return u ? u->locked : 0;
}

static int iopt_user_charge(uid_t uid, const struct vfio_mm *mm, uint64_t npages)
{
	struct iopt_user **pp = iopt_user_slot(uid), *u = *pp;
	uint64_t limit, cur = u ? u->locked : 0;
	struct rlimit rl;

	/* The limit is that of the process pinning, the total the user's. */
	if (prlimit(mm->pid, RLIMIT_MEMLOCK, NULL, &rl) < 0)
		return -ENOMEM;
	limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur / IOPT_PAGE_SIZE;
	if (npages > limit || cur > limit - npages) {
		uvfio_dbg_rl("iommufd: uid %u over RLIMIT_MEMLOCK (%llu)", (unsigned int)uid,
			     (unsigned long long)rl.rlim_cur);
		return -ENOMEM;
	}
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return -ENOMEM;
		u->uid = uid;
		*pp = u;
	}
	u->locked += npages;
	return 0;
}

static void iopt_user_uncharge(uid_t uid, uint64_t npages)
{
	struct iopt_user **pp = iopt_user_slot(uid), *u = *pp;

	if (!u)
		return;
	u->locked = u->locked > npages ? u->locked - npages : 0;
	if (!u->locked) {
		*pp = u->next;
		free(u);
	}
}

static int iopt_charge(enum iopt_account_mode mode, struct vfio_mm *mm, uid_t uid,
		       uint64_t npages)
{
	switch (mode) {
	case IOPT_PAGES_ACCOUNT_USER:
		return iopt_user_charge(uid, mm, npages);
	case IOPT_PAGES_ACCOUNT_MM:
		return vfio_mm_lock_acct(mm, (int64_t)npages);
	case IOPT_PAGES_ACCOUNT_NONE:
		break;
	}
	return 0;
}

static void iopt_uncharge(enum iopt_account_mode mode, struct vfio_mm *mm, uid_t uid,
			  uint64_t npages)
{
	switch (mode) {
	case IOPT_PAGES_ACCOUNT_USER:
		iopt_user_uncharge(uid, npages);
		break;
	case IOPT_PAGES_ACCOUNT_MM:
		vfio_mm_lock_acct(mm, -(int64_t)npages);
		break;
	case IOPT_PAGES_ACCOUNT_NONE:
		break;
	}
}

/* ---- pages ---- */

static struct iopt_pages *iopt_pages_alloc(struct vfio_uarg *ua, enum iopt_account_mode mode,
					   uint64_t base, uint64_t length, bool writable,
					   bool is_file)
{
	struct iopt_pages *pages = calloc(1, sizeof(*pages));

	if (!pages)
		return NULL;
	pages->refs = 1;
	pages->base = base;
	pages->writable = writable;
	pages->is_file = is_file;
	pages->npages = pages_spanned(base, length);
	pages->source_mm = ua->ctx->mm;
	vfio_mm_get(pages->source_mm);
	pages->source_uid = ua->ctx->uid;
	if (pages->source_mm->cap_ipc_lock)
		pages->account_mode = IOPT_PAGES_ACCOUNT_NONE;
	else if (mode == IOPT_PAGES_ACCOUNT_MM)
		pages->account_mode = IOPT_PAGES_ACCOUNT_MM;
	else
		pages->account_mode = IOPT_PAGES_ACCOUNT_USER;
	return pages;
}

static void iopt_pages_get(struct iopt_pages *pages)
{
	pages->refs++;
}

static void iopt_pages_put(struct iopt_pages *pages)
{
	if (--pages->refs)
		return;
	dma_mem_unpin(pages->mem);
	vfio_mm_put(pages->source_mm);
	free(pages);
}

/* An area using pages entered a table with a domain: the first one pins. */
static int iopt_pages_domain_get(struct iopt_pages *pages)
{
	int ret;

	if (pages->domain_users++)
		return 0;
	ret = iopt_charge(pages->account_mode, pages->source_mm, pages->source_uid,
			  pages->npages);
	if (ret) {
		pages->domain_users--;
		return ret;
	}
	pages->charged = true;
	return 0;
}

static void iopt_pages_domain_put(struct iopt_pages *pages)
{
	if (--pages->domain_users)
		return;
	iopt_uncharge(pages->account_mode, pages->source_mm, pages->source_uid, pages->npages);
	pages->charged = false;
}

/* ---- table ---- */

void iopt_init_table(struct io_pagetable *iopt, unsigned int *nareas)
{
	memset(iopt, 0, sizeof(*iopt));
	iova_tree_init(&iopt->area_itree);
	iova_tree_init(&iopt->allowed_itree);
	TAILQ_INIT(&iopt->reserved);
	/* A table without a domain is software only: any alignment. */
	iopt->iova_alignment = 1;
	iopt->nareas = nareas;
}

void iopt_free_allowed(struct iova_tree *allowed)
{
	struct iova_node *n, *tmp;

	iova_tree_foreach_safe(n, tmp, allowed) {
		iova_tree_remove(allowed, n);
		free(container_of(n, struct iopt_allowed, node));
	}
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	struct iopt_reserved *r;

	iopt_unmap_all(iopt, NULL);
	iopt_free_allowed(&iopt->allowed_itree);
	while ((r = TAILQ_FIRST(&iopt->reserved))) {
		TAILQ_REMOVE(&iopt->reserved, r, next);
		free(r);
	}
}

static bool iopt_reserved_overlaps(const struct io_pagetable *iopt, uint64_t start,
				   uint64_t last)
{
	const struct iopt_reserved *r;

	TAILQ_FOREACH(r, &iopt->reserved, next)
		if (r->start <= last && start <= r->last)
			return true;
	return false;
}

/* ---- IOVA allocation ---- */

/* Aligns *start up (keeping the page offset of the memory) and checks that
 * length bytes fit before last. */
static bool alloc_check_range(uint64_t *start, uint64_t last, uint64_t length,
			      uint64_t align, uint64_t page_offset)
{
	uint64_t aligned;

	if (__builtin_add_overflow(*start, align - 1, &aligned))
		return false;
	aligned &= ~(align - 1);
	aligned |= page_offset;
	if (aligned >= last || last - aligned < length - 1)
		return false;
	*start = aligned;
	return true;
}

/* The last IOVA of the used run (reserved, or mapped too with areas)
 * containing iova, or false if iova is free. */
static bool iopt_used_at(const struct io_pagetable *iopt, uint64_t iova, bool areas,
			 uint64_t *last)
{
	const struct iopt_reserved *r;
	struct iova_node *n;
	bool used = false;

	n = areas ? iova_tree_find(&iopt->area_itree, iova, iova) : NULL;
	if (n) {
		*last = n->last;
		used = true;
	}
	TAILQ_FOREACH(r, &iopt->reserved, next) {
		if (r->start <= iova && iova <= r->last && (!used || r->last > *last)) {
			*last = r->last;
			used = true;
		}
	}
	return used;
}

/* The first used IOVA in (iova, hi], if any. */
static bool iopt_next_used(const struct io_pagetable *iopt, uint64_t iova, uint64_t hi,
			   bool areas, uint64_t *next)
{
	const struct iopt_reserved *r;
	struct iova_node *n;
	bool found = false;

	n = areas ? iova_tree_find(&iopt->area_itree, iova, hi) : NULL;
	if (n) {
		*next = n->start;
		found = true;
	}
	TAILQ_FOREACH(r, &iopt->reserved, next) {
		if (r->start > iova && r->start <= hi && (!found || r->start < *next)) {
			*next = r->start;
			found = true;
		}
	}
	return found;
}

/* The first hole of [lo, hi] (neither reserved nor mapped) where the
 * mapping fits. */
static bool iopt_find_hole(const struct io_pagetable *iopt, uint64_t lo, uint64_t hi,
			   uint64_t length, uint64_t align, uint64_t page_offset, uint64_t *iova)
{
	uint64_t cur = lo, end, next;

	for (;;) {
		if (iopt_used_at(iopt, cur, true, &end)) {
			if (end >= hi)
				return false;
			cur = end + 1;
			continue;
		}
		end = iopt_next_used(iopt, cur, hi, true, &next) ? next - 1 : hi;
		if (alloc_check_range(&cur, end, length, align, page_offset)) {
			*iova = cur;
			return true;
		}
		if (end >= hi)
			return false;
		cur = end + 1;
	}
}

/*
 * Chooses an IOVA inside the allowed ranges (all of [PAGE_SIZE, max -
 * PAGE_SIZE] when none were given; 0 is never returned).  The alignment is
 * that of the length rounded up to a power of two, lowered to the memory's
 * own alignment and capped at the THP size, so huge pages stay huge.
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova, uint64_t addr,
			   uint64_t length)
{
	const uint64_t lo = IOPT_PAGE_SIZE, hi = UINT64_MAX - IOPT_PAGE_SIZE;
	uint64_t page_offset = addr % IOPT_PAGE_SIZE;
	uint64_t align, start, last;
	struct iova_node *n;

	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	align = length == 1 ? 1 : 1ULL << (64 - __builtin_clzll(length - 1));
	if (addr && (1ULL << __builtin_ctzll(addr)) < align)
		align = 1ULL << __builtin_ctzll(addr);
	if (align >= IOPT_HPAGE_SIZE)
		align = IOPT_HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return -EINVAL;

	if (!iopt->allowed_itree.count) {
		start = lo;
		if (alloc_check_range(&start, hi, length, align, page_offset) &&
		    iopt_find_hole(iopt, start, hi, length, align, page_offset, iova))
			return 0;
		return -ENOSPC;
	}
	/* Touching allowed ranges form one span. */
	for (n = iova_tree_first(&iopt->allowed_itree); n;) {
		struct iova_node *m = iova_tree_next(&iopt->allowed_itree, n);

		start = n->start;
		last = n->last;
		while (m && last != UINT64_MAX && m->start == last + 1) {
			last = m->last;
			m = iova_tree_next(&iopt->allowed_itree, m);
		}
		n = m;
		if (last < lo || start > hi)
			continue;
		start = start < lo ? lo : start;
		last = last > hi ? hi : last;
		if (!alloc_check_range(&start, last, length, align, page_offset))
			continue;
		if (iopt_find_hole(iopt, start, last, length, align, page_offset, iova))
			return 0;
	}
	return -ENOSPC;
}

static int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iopt_reserved_overlaps(iopt, iova, last))
		return -EINVAL;
	if (iova_tree_find(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/* ---- mapping ---- */

/* Every check of a mapping, in the kernel's order, before anything is
 * pinned or changed: the size, the IOVA, then each slice. */
static int iopt_place(struct io_pagetable *iopt, const struct iopt_pages_list *list,
		      uint64_t length, uint64_t *iova, uint32_t prot, unsigned int flags)
{
	uint64_t cur, last;
	int ret;

	if (!length || (length & (iopt->iova_alignment - 1)))
		return -EINVAL;
	if (flags & IOPT_ALLOC_IOVA) {
		/* The first slice's memory decides the ideal alignment. */
		const struct iopt_pages_elm *e = &list->elm[0];

		ret = iopt_alloc_iova(iopt, iova, e->pages->base + e->start_byte, length);
	} else {
		ret = iopt_check_iova(iopt, *iova, length);
	}
	if (ret)
		return ret;

	cur = *iova;
	for (unsigned int i = 0; i < list->n; i++) {
		const struct iopt_pages_elm *e = &list->elm[i];

		if ((prot & IOPT_WRITE) && !e->pages->writable)
			return -EPERM;
		if (((e->pages->base + e->start_byte) % IOPT_PAGE_SIZE) &
		    (iopt->iova_alignment - 1))
			return -EINVAL;
		if (__builtin_add_overflow(cur, e->length - 1, &last))
			return -EOVERFLOW;
		cur = last + 1;
	}
	return 0;
}

static void iopt_area_free(struct io_pagetable *iopt, struct iopt_area *area)
{
	if (iopt->ndomains)
		iopt_pages_domain_put(area->pages);
	iopt_pages_put(area->pages);
	(*iopt->nareas)--;
	free(area);
}

/* Links one area per slice at *iova; the areas take their own references. */
static int iopt_insert(struct io_pagetable *iopt, const struct iopt_pages_list *list,
		       uint64_t iova, uint32_t prot)
{
	struct iopt_area **areas;
	unsigned int i;
	int ret = 0;

	if (*iopt->nareas + list->n > IOPT_MAX_AREAS)
		return -ENOMEM;
	areas = calloc(list->n, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (i = 0; i < list->n; i++) {
		const struct iopt_pages_elm *e = &list->elm[i];
		struct iopt_area *area = calloc(1, sizeof(*area));

		if (!area) {
			ret = -ENOMEM;
			break;
		}
		area->node.start = iova;
		area->node.last = iova + e->length - 1;
		area->pages = e->pages;
		area->start_byte = e->start_byte;
		area->prot = prot;
		areas[i] = area;
		iova += e->length;
		iopt_pages_get(e->pages);
		(*iopt->nareas)++;
		/* A table with a domain holds its memory pinned and charged. */
		if (iopt->ndomains) {
			ret = iopt_pages_domain_get(e->pages);
			if (ret) {
				iopt_pages_put(e->pages);
				(*iopt->nareas)--;
				free(area);
				areas[i] = NULL;
				break;
			}
		}
	}
	if (ret) {
		while (i-- > 0)
			iopt_area_free(iopt, areas[i]);
	} else {
		for (i = 0; i < list->n; i++)
			iova_tree_insert(&iopt->area_itree, &areas[i]->node);
	}
	free(areas);
	return ret;
}

int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_list *list, uint64_t length,
		   uint64_t *iova, uint32_t prot, unsigned int flags)
{
	int ret = iopt_place(iopt, list, length, iova, prot, flags);

	if (ret)
		return ret;
	return iopt_insert(iopt, list, *iova, prot);
}

void iopt_free_pages_list(struct iopt_pages_list *list)
{
	for (unsigned int i = 0; i < list->n; i++)
		iopt_pages_put(list->elm[i].pages);
	free(list->elm);
	list->elm = NULL;
	list->n = 0;
}

/* The memory is pinned only once the mapping is known to fit, so a bad
 * address is reported after a bad IOVA, as the kernel's order has it. */
static int iopt_map_new_pages(struct io_pagetable *iopt, struct iopt_pages *pages,
			      uint64_t length, uint64_t *iova, uint32_t prot, unsigned int flags,
			      struct vfio_uarg *ua, int fd, uint64_t start)
{
	struct iopt_pages_elm elm = { .pages = pages, .start_byte = 0, .length = length };
	struct iopt_pages_list list = { .elm = &elm, .n = 1 };
	int ret;

	ret = iopt_place(iopt, &list, length, iova, prot, flags);
	if (!ret) {
		if (pages->is_file)
			ret = dma_mem_get_file(pages->source_mm, fd, start, length,
					       pages->writable, &pages->mem);
		else	/* GUP's rule: a write pin needs VM_WRITE, a read pin VM_READ */
			ret = dma_mem_get_user(ua, pages->base, length, !pages->writable,
					       pages->writable, &pages->mem);
	}
	if (!ret)
		ret = iopt_insert(iopt, &list, *iova, prot);
	iopt_pages_put(pages);
	return ret;
}

int iopt_map_user_pages(struct io_pagetable *iopt, struct vfio_uarg *ua,
			enum iopt_account_mode mode, uint64_t *iova, uint64_t uptr,
			uint64_t length, uint32_t prot, unsigned int flags)
{
	struct iopt_pages *pages;
	uint64_t end;

	if (__builtin_add_overflow(uptr, length, &end))
		return -EOVERFLOW;
	if (!length || length > SIZE_MAX - IOPT_PAGE_SIZE)
		return -EINVAL;
	if (!ua->ctx || !ua->ctx->mm)
		return -ENODEV;
	pages = iopt_pages_alloc(ua, mode, uptr, length, prot & IOPT_WRITE, false);
	if (!pages)
		return -ENOMEM;
	return iopt_map_new_pages(iopt, pages, length, iova, prot, flags, ua, -1, 0);
}

int iopt_map_file_pages(struct io_pagetable *iopt, struct vfio_uarg *ua,
			enum iopt_account_mode mode, uint64_t *iova, int fd, uint64_t start,
			uint64_t length, uint32_t prot, unsigned int flags)
{
	struct iopt_pages *pages;
	uint64_t end;

	if (length && __builtin_add_overflow(start, length - 1, &end))
		return -EOVERFLOW;
	if (!length || length > SIZE_MAX - IOPT_PAGE_SIZE)
		return -EINVAL;
	if (!ua->ctx || !ua->ctx->mm)
		return -ENODEV;
	pages = iopt_pages_alloc(ua, mode, start, length, prot & IOPT_WRITE, true);
	if (!pages)
		return -ENOMEM;
	return iopt_map_new_pages(iopt, pages, length, iova, prot, flags, ua, fd, start);
}

int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_list *list)
{
	uint64_t last, cur;
	struct iova_node *n;
	unsigned int cap = 0;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	list->elm = NULL;
	list->n = 0;
	for (n = iova_tree_find(&iopt->area_itree, iova, iova), cur = iova; n;
	     n = iova_tree_next(&iopt->area_itree, n)) {
		struct iopt_area *area = to_area(n);
		uint64_t end = n->last < last ? n->last : last;

		if (n->start > cur)
			break;
		if (list->n == cap) {
			unsigned int ncap = cap ? cap * 2 : 4;
			struct iopt_pages_elm *e = realloc(list->elm, ncap * sizeof(*e));

			if (!e) {
				iopt_free_pages_list(list);
				return -ENOMEM;
			}
			list->elm = e;
			cap = ncap;
		}
		list->elm[list->n++] = (struct iopt_pages_elm){
			.pages = area->pages,
			.start_byte = area_start_byte(area, cur),
			.length = end - cur + 1,
		};
		iopt_pages_get(area->pages);
		if (end == last)
			return 0;
		cur = end + 1;
	}
	iopt_free_pages_list(list);
	return -ENOENT;
}

/* ---- unmapping ---- */

static void iopt_area_remove(struct io_pagetable *iopt, struct iopt_area *area)
{
	iova_tree_remove(&iopt->area_itree, &area->node);
	if (iopt->unmapped)
		iopt->unmapped(iopt->unmapped_arg, area->node.start, area->node.last);
	iopt_area_free(iopt, area);
}

static int iopt_unmap_iova_range(struct io_pagetable *iopt, uint64_t start, uint64_t last,
				 uint64_t *unmapped)
{
	uint64_t bytes = 0;
	struct iova_node *n;
	int ret = 0;

	while ((n = iova_tree_find(&iopt->area_itree, start, last))) {
		uint64_t first = n->start, end = n->last;

		/* No splitting: an area must lie wholly inside the range. */
		if (first < start || end > last) {
			ret = -ENOENT;
			break;
		}
		iopt_area_remove(iopt, to_area(n));
		bytes += end - first + 1;
		if (end >= last)
			break;
		start = end + 1;
	}
	if (unmapped)
		*unmapped = bytes;
	return ret;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped)
{
	uint64_t last;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_iova_range(iopt, iova, last, unmapped);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	return iopt_unmap_iova_range(iopt, 0, UINT64_MAX, unmapped);
}

/* Splits area so that iova is the last byte of its first half (the type1
 * compatibility punching holes).  Both halves keep the same pages. */
static int iopt_area_split(struct io_pagetable *iopt, struct iopt_area *area, uint64_t iova)
{
	uint64_t align = iopt->iova_alignment, first = area->node.start, last = area->node.last;
	uint64_t new_start = iova + 1;
	struct iopt_area *rhs;

	if (iova == first || iova == last)
		return 0;
	if ((new_start & (align - 1)) ||
	    ((area->pages->base + area_start_byte(area, new_start)) & (align - 1)))
		return -EINVAL;
	/* A domain may hold the range in large IOPTEs, which cannot split. */
	if (iopt->ndomains && !iopt->disable_large_pages)
		return -EINVAL;
	if (*iopt->nareas >= IOPT_MAX_AREAS)
		return -ENOMEM;
	rhs = calloc(1, sizeof(*rhs));
	if (!rhs)
		return -ENOMEM;
	rhs->node.start = new_start;
	rhs->node.last = last;
	rhs->pages = area->pages;
	rhs->start_byte = area_start_byte(area, new_start);
	rhs->prot = area->prot;
	iopt_pages_get(rhs->pages);
	if (iopt->ndomains)
		rhs->pages->domain_users++;	/* already charged by area */
	(*iopt->nareas)++;

	iova_tree_remove(&iopt->area_itree, &area->node);
	area->node.last = iova;
	iova_tree_insert(&iopt->area_itree, &area->node);
	iova_tree_insert(&iopt->area_itree, &rhs->node);
	return 0;
}

int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct iova_node *node = iova_tree_find(&iopt->area_itree, iovas[i], iovas[i]);
		int ret;

		if (!node)
			continue;
		ret = iopt_area_split(iopt, to_area(node), iovas[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- allowed and reserved ranges ---- */

int iopt_set_allow_iova(struct io_pagetable *iopt, struct iova_tree *allowed)
{
	struct iova_tree old = iopt->allowed_itree;
	struct iova_node *n;

	for (n = iova_tree_first(allowed); n; n = iova_tree_next(allowed, n))
		if (iopt_reserved_overlaps(iopt, n->start, n->last))
			return -EADDRINUSE;
	/* The trees are swapped whole: RB_HEAD holds only the root. */
	iopt->allowed_itree = *allowed;
	*allowed = old;
	return 0;
}

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner)
{
	struct iopt_reserved *r;

	if (iova_tree_find(&iopt->area_itree, start, last) ||
	    iova_tree_find(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->start = start;
	r->last = last;
	r->owner = owner;
	TAILQ_INSERT_TAIL(&iopt->reserved, r, next);
	return 0;
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	struct iopt_reserved *r, *tmp;

	for (r = TAILQ_FIRST(&iopt->reserved); r; r = tmp) {
		tmp = TAILQ_NEXT(r, next);
		if (r->owner == owner) {
			TAILQ_REMOVE(&iopt->reserved, r, next);
			free(r);
		}
	}
}

unsigned int iopt_iova_ranges(struct io_pagetable *iopt, struct iova_node *out,
			      unsigned int max)
{
	uint64_t cur = 0, end, next;
	unsigned int n = 0;

	for (;;) {
		if (iopt_used_at(iopt, cur, false, &end)) {
			if (end == UINT64_MAX)
				return n;
			cur = end + 1;
			continue;
		}
		end = iopt_next_used(iopt, cur, UINT64_MAX, false, &next) ? next - 1 : UINT64_MAX;
		if (n < max) {
			out[n].start = cur;
			out[n].last = end;
		}
		n++;
		if (end == UINT64_MAX)
			return n;
		cur = end + 1;
	}
}

/* ---- domains ---- */

static int iopt_check_iova_alignment(struct io_pagetable *iopt, uint64_t align)
{
	struct iova_node *n;

	for (n = iova_tree_first(&iopt->area_itree); n; n = iova_tree_next(&iopt->area_itree, n)) {
		struct iopt_area *area = to_area(n);

		if ((n->start & (align - 1)) || (area_length(area) & (align - 1)) ||
		    (((area->pages->base + area->start_byte) % IOPT_PAGE_SIZE) & (align - 1)))
			return -EADDRINUSE;
	}
	return 0;
}

/* The alignment every user of the table needs: PAGE_SIZE for large pages
 * off and for the domains' smallest page, else byte granular. */
static int iopt_calculate_iova_alignment(struct io_pagetable *iopt)
{
	uint64_t align = iopt->disable_large_pages || iopt->ndomains ? IOPT_PAGE_SIZE : 1;
	int ret;

	if (align > iopt->iova_alignment) {
		ret = iopt_check_iova_alignment(iopt, align);
		if (ret)
			return ret;
	}
	iopt->iova_alignment = align;
	return 0;
}

static void iopt_unfill(struct io_pagetable *iopt, struct iova_node *stop)
{
	struct iova_node *n;

	for (n = iova_tree_first(&iopt->area_itree); n != stop;
	     n = iova_tree_next(&iopt->area_itree, n))
		iopt_pages_domain_put(to_area(n)->pages);
}

int iopt_table_add_domain(struct io_pagetable *iopt, const void *domain)
{
	uint64_t align = 1ULL << __builtin_ctzll(IOPT_DOMAIN_PGSIZES);
	struct iova_node *n;
	int ret;

	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;
	if (align != iopt->iova_alignment) {
		ret = iopt_check_iova_alignment(iopt, align);
		if (ret)
			return ret;
	}
	/* Nothing may already be mapped beyond the aperture. */
	ret = iopt_reserve_iova(iopt, IOPT_APERTURE_LAST + 1, UINT64_MAX, domain);
	if (ret)
		return ret;
	/* The first domain pins (and charges) every mapping. */
	if (!iopt->ndomains) {
		for (n = iova_tree_first(&iopt->area_itree); n;
		     n = iova_tree_next(&iopt->area_itree, n)) {
			ret = iopt_pages_domain_get(to_area(n)->pages);
			if (ret) {
				iopt_unfill(iopt, n);
				iopt_remove_reserved_iova(iopt, domain);
				return ret;
			}
		}
	}
	iopt->ndomains++;
	iopt->iova_alignment = align;
	return 0;
}

void iopt_table_remove_domain(struct io_pagetable *iopt, const void *domain)
{
	if (!--iopt->ndomains)
		iopt_unfill(iopt, NULL);
	iopt_remove_reserved_iova(iopt, domain);
	iopt_calculate_iova_alignment(iopt);
}

int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt, const void *dev)
{
	return iopt_reserve_iova(iopt, IOPT_MSI_START, IOPT_MSI_LAST, dev);
}

int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	int ret;

	if (iopt->disable_large_pages)
		return 0;
	/* Domains may already hold large IOPTEs. */
	if (iopt->ndomains && iopt->area_itree.count)
		return -EINVAL;
	iopt->disable_large_pages = true;
	ret = iopt_calculate_iova_alignment(iopt);
	if (ret)
		iopt->disable_large_pages = false;
	return ret;
}

void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	iopt->disable_large_pages = false;
	iopt_calculate_iova_alignment(iopt);
}

/* ---- device DMA ---- */

int iopt_dma_rw(struct io_pagetable *iopt, uint64_t iova, void *buf, size_t len, bool write)
{
	uint32_t need = write ? IOPT_WRITE : IOPT_READ;
	struct iova_node *first, *n;
	uint64_t last, cur;
	uint8_t *p = buf;

	if (!len)
		return 0;
	if (__builtin_add_overflow(iova, len - 1, &last))
		return -EFAULT;
	/* A faulting access moves no data: check the whole range first. */
	first = iova_tree_find(&iopt->area_itree, iova, iova);
	for (n = first, cur = iova;; n = iova_tree_next(&iopt->area_itree, n)) {
		if (!n || n->start > cur || !(to_area(n)->prot & need))
			return -EFAULT;
		if (n->last >= last)
			break;
		cur = n->last + 1;
	}
	for (n = first, cur = iova; cur - iova < len; n = iova_tree_next(&iopt->area_itree, n)) {
		struct iopt_area *area = to_area(n);
		uint64_t in_area = n->last - cur;	/* bytes left here, less one */
		size_t remaining = len - (size_t)(cur - iova);
		size_t chunk = in_area < remaining - 1 ? (size_t)in_area + 1 : remaining;

		if (dma_mem_rw(area->pages->mem, area_start_byte(area, cur), p, chunk, write))
			return -EFAULT;
		p += chunk;
		cur += chunk;
	}
	return 0;
}

/* ---- IOAS_CHANGE_PROCESS ---- */

static unsigned int iopt_visit_gen;

/* Calls fn on each pages of the tables once. */
static void iopt_for_each_pages(struct io_pagetable **iopts, unsigned int n,
				void (*fn)(struct iopt_pages *pages, void *arg), void *arg)
{
	unsigned int gen = ++iopt_visit_gen;

	for (unsigned int i = 0; i < n; i++) {
		for (struct iova_node *node = iova_tree_first(&iopts[i]->area_itree); node;
		     node = iova_tree_next(&iopts[i]->area_itree, node)) {
			struct iopt_pages *pages = to_area(node)->pages;

			if (pages->visit == gen)
				continue;
			pages->visit = gen;
			fn(pages, arg);
		}
	}
}

struct iopt_change {
	struct vfio_uctx *uctx;
	uint64_t npages[IOPT_PAGES_ACCOUNT_MM + 1];
};

static bool iopt_needs_recharge(const struct iopt_pages *pages, const struct vfio_uctx *uctx)
{
	switch (pages->account_mode) {
	case IOPT_PAGES_ACCOUNT_MM:
		return pages->source_mm != uctx->mm;
	case IOPT_PAGES_ACCOUNT_USER:
		return pages->source_uid != uctx->uid || pages->source_mm != uctx->mm;
	case IOPT_PAGES_ACCOUNT_NONE:
		break;
	}
	return false;
}

static void iopt_count_recharge(struct iopt_pages *pages, void *arg)
{
	struct iopt_change *c = arg;

	if (pages->charged && iopt_needs_recharge(pages, c->uctx))
		c->npages[pages->account_mode] += pages->npages;
}

static void iopt_move_charge(struct iopt_pages *pages, void *arg)
{
	struct iopt_change *c = arg;

	if (pages->charged && iopt_needs_recharge(pages, c->uctx))
		iopt_uncharge(pages->account_mode, pages->source_mm, pages->source_uid,
			      pages->npages);
	vfio_mm_get(c->uctx->mm);
	vfio_mm_put(pages->source_mm);
	pages->source_mm = c->uctx->mm;
	pages->source_uid = c->uctx->uid;
}

int iopt_change_process(struct io_pagetable **iopts, unsigned int n, struct vfio_uctx *uctx)
{
	struct iopt_change c = { .uctx = uctx };
	int ret;

	if (!uctx || !uctx->mm)
		return -ENODEV;
	for (unsigned int i = 0; i < n; i++)
		for (struct iova_node *node = iova_tree_first(&iopts[i]->area_itree); node;
		     node = iova_tree_next(&iopts[i]->area_itree, node))
			if (!to_area(node)->pages->is_file)
				return -EINVAL;

	/* Charge the newcomer first: if it cannot take it, nothing moved. */
	iopt_for_each_pages(iopts, n, iopt_count_recharge, &c);
	ret = iopt_charge(IOPT_PAGES_ACCOUNT_USER, uctx->mm, uctx->uid,
			  c.npages[IOPT_PAGES_ACCOUNT_USER]);
	if (ret)
		return ret;
	ret = iopt_charge(IOPT_PAGES_ACCOUNT_MM, uctx->mm, uctx->uid,
			  c.npages[IOPT_PAGES_ACCOUNT_MM]);
	if (ret) {
		iopt_uncharge(IOPT_PAGES_ACCOUNT_USER, uctx->mm, uctx->uid,
			      c.npages[IOPT_PAGES_ACCOUNT_USER]);
		return ret;
	}
	iopt_for_each_pages(iopts, n, iopt_move_charge, &c);
	return 0;
}
