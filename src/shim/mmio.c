// SPDX-License-Identifier: MIT
/*
 * BAR mappings in the program.  Pages the device model declares RAM are its
 * shared memory, mapped directly; register pages are mapped inaccessible so
 * that each load and store to them faults and is carried out by
 * mmio_fault.c.
 *
 * The table of BAR ranges is read from signal handlers on any thread: a
 * fixed array of slots, each under a sequence count, so a lookup takes no
 * lock and allocates nothing.  It is changed (mmap, munmap, mremap,
 * mprotect) under a mutex, never from a handler.  Every range keeps the
 * device file open (a descriptor of ours), as a VMA holds its file.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE		4096ull
#define PAGE_UP(x)	(((x) + PAGE - 1) & ~(PAGE - 1))
#define MMIO_SLOTS	1024u
/* Descriptors that keep device files open live above the program's. */
#define HOLDER_FD_BASE	512

struct bar_range {
	_Atomic uint32_t seq;		/* odd while a writer changes the slot */
	_Atomic uint64_t start;		/* 0: the slot is free */
	_Atomic uint64_t end;
	uint64_t token;			/* the device file */
	uint64_t region_off;		/* device file offset of start */
	int holder;			/* our descriptor of the device file */
	int prot;			/* what the program asked for */
	bool trapped;			/* registers, not RAM */
	uint32_t index;			/* region index */
	char device[32];
};

static struct bar_range slots[MMIO_SLOTS];
static _Atomic unsigned int slots_hi;	/* slots at and above are unused */
static _Atomic unsigned int slots_used;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t mmio_once = PTHREAD_ONCE_INIT;

/* ---- lookups (any context) ---- */

static bool slot_view(struct bar_range *r, uint64_t addr, struct shim_bar_view *v)
{
	uint32_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);

	/* A slot being changed belongs to an mmap or munmap racing this
	 * access: the program's race, seen as "not a BAR". */
	if (seq & 1)
		return false;
	v->start = atomic_load_explicit(&r->start, memory_order_relaxed);
	v->end = atomic_load_explicit(&r->end, memory_order_relaxed);
	if (!v->start || addr < v->start || addr >= v->end)
		return false;
	v->token = r->token;
	v->region_off = r->region_off;
	v->prot = r->prot;
	v->trapped = r->trapped;
	v->index = r->index;
	v->device = r->device;
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&r->seq, memory_order_relaxed) == seq;
}

bool shim_mmio_lookup(uint64_t addr, struct shim_bar_view *v)
{
	unsigned int hi = atomic_load_explicit(&slots_hi, memory_order_acquire);

	for (unsigned int i = 0; i < hi; i++) {
		if (slot_view(&slots[i], addr, v))
			return true;
	}
	return false;
}

/* ---- the table (under slots_lock) ---- */

static void slot_begin(struct bar_range *r)
{
	atomic_fetch_add_explicit(&r->seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void slot_end(struct bar_range *r)
{
	atomic_fetch_add_explicit(&r->seq, 1, memory_order_release);
}

static void slot_set_bounds(struct bar_range *r, uint64_t start, uint64_t end)
{
	slot_begin(r);
	r->region_off += start - atomic_load_explicit(&r->start, memory_order_relaxed);
	atomic_store_explicit(&r->start, start, memory_order_relaxed);
	atomic_store_explicit(&r->end, end, memory_order_relaxed);
	slot_end(r);
}

static int holder_open(int fd, const struct shim_fd *ent)
{
	int h = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, HOLDER_FD_BASE);

	if (h < 0)
		return -errno;
	if (shim_fd_set(h, ent)) {
		REAL(close)(h);
		return -ENOMEM;
	}
	return h;
}

/* Unless the program closed it under us (close_range), drop our reference;
 * the file is released if it was the last. */
static void holder_close(int h, uint64_t token)
{
	struct shim_fd ent;

	if (!shim_fd_get(h, &ent) || ent.token != token)
		return;
	shim_fd_take(h);
	REAL(close)(h);
	shim_op_release(token);
}

static struct bar_range *slot_alloc(void)
{
	unsigned int hi = atomic_load_explicit(&slots_hi, memory_order_relaxed);

	for (unsigned int i = 0; i < hi; i++) {
		if (!atomic_load_explicit(&slots[i].start, memory_order_relaxed))
			return &slots[i];
	}
	if (hi == MMIO_SLOTS)
		return NULL;
	atomic_store_explicit(&slots_hi, hi + 1, memory_order_release);
	return &slots[hi];
}

static unsigned int slots_free(void)
{
	return MMIO_SLOTS - atomic_load_explicit(&slots_used, memory_order_relaxed);
}

/* Fills a free slot; the caller made sure one exists. */
static void slot_add(const struct bar_range *tmpl, uint64_t start, uint64_t end,
		     uint64_t region_off, int holder)
{
	struct bar_range *r = slot_alloc();

	slot_begin(r);
	r->token = tmpl->token;
	r->region_off = region_off;
	r->holder = holder;
	r->prot = tmpl->prot;
	r->trapped = tmpl->trapped;
	r->index = tmpl->index;
	memcpy(r->device, tmpl->device, sizeof(r->device));
	atomic_store_explicit(&r->end, end, memory_order_relaxed);
	atomic_store_explicit(&r->start, start, memory_order_relaxed);
	slot_end(r);
	atomic_fetch_add_explicit(&slots_used, 1, memory_order_relaxed);
}

static void slot_free(struct bar_range *r)
{
	int holder = r->holder;
	uint64_t token = r->token;

	slot_begin(r);
	atomic_store_explicit(&r->start, 0, memory_order_relaxed);
	slot_end(r);
	atomic_fetch_sub_explicit(&slots_used, 1, memory_order_relaxed);
	holder_close(holder, token);
}

/* Makes addr a boundary between slots.  -ENOMEM when no slot or descriptor
 * is left for the second half. */
static int split_at(uint64_t addr)
{
	unsigned int hi = atomic_load_explicit(&slots_hi, memory_order_relaxed);

	for (unsigned int i = 0; i < hi; i++) {
		struct bar_range *r = &slots[i];
		uint64_t start = atomic_load_explicit(&r->start, memory_order_relaxed);
		uint64_t end = atomic_load_explicit(&r->end, memory_order_relaxed);
		struct shim_fd ent = { .token = r->token, .type = UVFIO_FILE_DEVICE, .minor = -1 };
		int holder;

		if (!start || addr <= start || addr >= end)
			continue;
		if (!slots_free())
			return -ENOMEM;
		holder = holder_open(r->holder, &ent);
		if (holder < 0)
			return holder;
		slot_add(r, addr, end, r->region_off + (addr - start), holder);
		slot_set_bounds(r, start, addr);
		return 0;
	}
	return 0;
}

/* Calls fn for every slot inside [lo, hi) after splitting at both ends. */
static int each_inside(uint64_t lo, uint64_t hi, void (*fn)(struct bar_range *r, void *ctx),
		       void *ctx)
{
	unsigned int n;
	int err = split_at(lo);

	if (!err)
		err = split_at(hi);
	if (err)
		return err;
	n = atomic_load_explicit(&slots_hi, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++) {
		struct bar_range *r = &slots[i];
		uint64_t start = atomic_load_explicit(&r->start, memory_order_relaxed);

		if (start && start >= lo && start < hi)
			fn(r, ctx);
	}
	return 0;
}

static bool any_inside(uint64_t lo, uint64_t hi)
{
	unsigned int n = atomic_load_explicit(&slots_hi, memory_order_relaxed);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t start = atomic_load_explicit(&slots[i].start, memory_order_relaxed);
		uint64_t end = atomic_load_explicit(&slots[i].end, memory_order_relaxed);

		if (start && start < hi && end > lo)
			return true;
	}
	return false;
}

static void forget_one(struct bar_range *r, void *ctx)
{
	(void)ctx;
	slot_free(r);
}

/* Forgetting never fails for want of a slot: a range that cannot be split
 * is forgotten whole (its pages are gone anyway or the program unmapped
 * part of a BAR, where losing the rest beats trapping stale addresses). */
static void forget_locked(uint64_t lo, uint64_t hi)
{
	unsigned int n;

	if (each_inside(lo, hi, forget_one, NULL) == 0)
		return;
	n = atomic_load_explicit(&slots_hi, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t start = atomic_load_explicit(&slots[i].start, memory_order_relaxed);
		uint64_t end = atomic_load_explicit(&slots[i].end, memory_order_relaxed);

		if (start && start < hi && end > lo)
			slot_free(&slots[i]);
	}
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&slots_lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&slots_lock);
}

static void mmio_setup(void)
{
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static void table_lock(void)
{
	pthread_once(&mmio_once, mmio_setup);
	pthread_mutex_lock(&slots_lock);
}

void shim_mmio_forget(void *addr, size_t len)
{
	uint64_t lo = (uintptr_t)addr & ~(PAGE - 1);

	if (!atomic_load_explicit(&slots_used, memory_order_relaxed) || !len)
		return;
	table_lock();
	forget_locked(lo, PAGE_UP((uintptr_t)addr + len));
	pthread_mutex_unlock(&slots_lock);
}

void shim_mmio_describe(struct shim_memdesc *md)
{
	if (!atomic_load_explicit(&slots_used, memory_order_relaxed))
		return;
	for (uint32_t i = 0; i < md->nsegs; i++) {
		struct uvfio_mem_seg *seg = &md->segs[i];
		struct shim_bar_view v;
		int fd;

		if (seg->flags & UVFIO_SEG_HOLE || !shim_mmio_lookup(seg->vaddr, &v))
			continue;
		seg->flags &= ~(UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
		seg->flags |= (v.prot & PROT_READ ? UVFIO_SEG_PROT_READ : 0) |
			      (v.prot & PROT_WRITE ? UVFIO_SEG_PROT_WRITE : 0);
		/* Without the right to open /proc/self/map_files the BAR's
		 * memory comes from the daemon, as mmap got it. */
		if (seg->attached >= 0 || md->nfds == UVFIO_MAX_FDS)
			continue;
		fd = shim_op_bar_memory(v.token, (int64_t)(v.region_off + (seg->vaddr - v.start)),
					seg->len);
		if (fd >= 0) {
			md->fds[md->nfds] = fd;
			seg->attached = (int32_t)md->nfds++;
		}
	}
}

/* ---- mapping ---- */

struct map_piece {
	uint64_t offset, length;
	bool trapped;
};

/* Splits [0, len) into RAM and register pieces, in order. */
static unsigned int map_pieces(const struct uvfio_mmap_reply *mr, uint64_t len,
			       struct map_piece *out)
{
	uint64_t pos = 0;
	unsigned int n = 0;

	for (uint32_t i = 0; i < mr->nr_traps; i++) {
		const struct uvfio_mmap_trap *t = &mr->traps[i];

		if (t->offset > pos)
			out[n++] = (struct map_piece){ pos, t->offset - pos, false };
		out[n++] = (struct map_piece){ t->offset, t->length, true };
		pos = t->offset + t->length;
	}
	if (pos < len)
		out[n++] = (struct map_piece){ pos, len - pos, false };
	return n;
}

static bool pieces_valid(const struct map_piece *pc, unsigned int n, uint64_t len)
{
	uint64_t pos = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (pc[i].offset != pos || !pc[i].length || pc[i].length > len - pos ||
		    (pc[i].length & (PAGE - 1)))
			return false;
		pos += pc[i].length;
	}
	return pos == len;
}

void *shim_mmio_map(int devfd, const struct shim_fd *ent, void *addr, size_t len, int prot,
		    int flags, int mfd, uint64_t off, const struct uvfio_mmap_reply *mr,
		    int *err)
{
	struct map_piece pc[2 * UVFIO_MMAP_MAX_TRAPS + 1];
	struct shim_fd hent = { .token = ent->token, .type = ent->type, .minor = -1 };
	struct bar_range tmpl = { .token = ent->token, .prot = prot, .index = mr->index };
	uint64_t plen = PAGE_UP(len), base;
	unsigned int n = map_pieces(mr, plen, pc), i;
	void *p;

	if (!pieces_valid(pc, n, plen)) {
		*err = -EIO;
		return MAP_FAILED;
	}
	memcpy(tmpl.device, mr->device, sizeof(tmpl.device));
	tmpl.device[sizeof(tmpl.device) - 1] = 0;
	table_lock();
	if (slots_free() < n) {
		pthread_mutex_unlock(&slots_lock);
		*err = -ENOMEM;
		return MAP_FAILED;
	}
	p = REAL(mmap)(addr, len, mr->nr_traps ? PROT_NONE : prot, flags, mfd,
		       (off_t)mr->fd_offset);
	if (p == MAP_FAILED) {
		*err = -errno;
		pthread_mutex_unlock(&slots_lock);
		return MAP_FAILED;
	}
	base = (uintptr_t)p;
	if (flags & MAP_FIXED)
		forget_locked(base, base + plen);
	*err = 0;
	for (i = 0; i < n && !*err; i++) {
		int holder;

		if (!pc[i].trapped && mr->nr_traps &&
		    REAL(mprotect)((uint8_t *)p + pc[i].offset, pc[i].length, prot) < 0) {
			*err = -errno;
			break;
		}
		holder = holder_open(devfd, &hent);
		if (holder < 0) {
			*err = holder;
			break;
		}
		tmpl.trapped = pc[i].trapped;
		slot_add(&tmpl, base + pc[i].offset, base + pc[i].offset + pc[i].length,
			 off + pc[i].offset, holder);
	}
	if (*err) {
		forget_locked(base, base + plen);
		REAL(munmap)(p, len);
		pthread_mutex_unlock(&slots_lock);
		return MAP_FAILED;
	}
	pthread_mutex_unlock(&slots_lock);
	if (mr->nr_traps)
		shim_mmio_handlers_install();
	return p;
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	int ret;

	/* PCIe: a posted write is done before anything later of ours */
	shim_op_posted_fence();
	ret = REAL(munmap)(addr, len);

	if (ret == 0) {
		shim_mmio_forget(addr, len);
		shim_vma_forget(addr, len);
	}
	return ret;
}

struct protect_ctx {
	int prot;
	int err;
};

static void protect_one(struct bar_range *r, void *c)
{
	struct protect_ctx *ctx = c;
	uint64_t start = atomic_load_explicit(&r->start, memory_order_relaxed);
	uint64_t end = atomic_load_explicit(&r->end, memory_order_relaxed);

	slot_begin(r);
	r->prot = ctx->prot;
	slot_end(r);
	/* register pages stay inaccessible whatever the program allows */
	if (r->trapped && REAL(mprotect)((void *)(uintptr_t)start, end - start, PROT_NONE) < 0)
		ctx->err = -errno;
}

SHIM_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	uint64_t lo = (uintptr_t)addr, hi = PAGE_UP(lo + len);
	struct protect_ctx ctx = { .prot = prot };
	int ret = REAL(mprotect)(addr, len, prot);

	shim_vma_protect(addr, len, prot, ret == 0);
	if (ret < 0 || !len || !atomic_load_explicit(&slots_used, memory_order_relaxed))
		return ret;
	table_lock();
	if (any_inside(lo, hi) && each_inside(lo, hi, protect_one, &ctx) < 0)
		ctx.err = -ENOMEM;
	pthread_mutex_unlock(&slots_lock);
	if (ctx.err) {
		errno = -ctx.err;
		return -1;
	}
	return 0;
}

struct move_ctx {
	uint64_t old_lo, keep_hi;
	int64_t delta;
};

static void move_one(struct bar_range *r, void *c)
{
	struct move_ctx *ctx = c;
	uint64_t start = atomic_load_explicit(&r->start, memory_order_relaxed);
	uint64_t end = atomic_load_explicit(&r->end, memory_order_relaxed);

	if (start >= ctx->keep_hi) {
		slot_free(r);		/* shrunk away */
		return;
	}
	slot_begin(r);
	atomic_store_explicit(&r->start, start + ctx->delta, memory_order_relaxed);
	atomic_store_explicit(&r->end, end + ctx->delta, memory_order_relaxed);
	slot_end(r);
}

/* A BAR mapping is VM_DONTEXPAND|VM_PFNMAP on Linux: it cannot grow
 * (EFAULT); it may shrink or move. */
SHIM_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	uint64_t lo = (uintptr_t)old, hi = PAGE_UP(lo + old_len);
	void *want = NULL, *p;
	struct move_ctx ctx;
	bool bar;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	bar = atomic_load_explicit(&slots_used, memory_order_relaxed) && old_len;
	if (bar) {
		table_lock();
		bar = any_inside(lo, hi);
		pthread_mutex_unlock(&slots_lock);
	}
	if (bar && PAGE_UP(new_len) > PAGE_UP(old_len)) {
		errno = EFAULT;
		return MAP_FAILED;
	}
	if (bar && (flags & MREMAP_DONTUNMAP)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	p = REAL(mremap)(old, old_len, new_len, flags, want);
	shim_vma_remap(old, old_len, p, new_len, flags, want);
	if (p == MAP_FAILED)
		return p;
	if ((uintptr_t)p != lo)
		shim_mmio_forget(p, new_len);
	if (!bar)
		return p;
	ctx.old_lo = lo;
	ctx.keep_hi = lo + PAGE_UP(new_len);
	ctx.delta = (int64_t)((uintptr_t)p - lo);
	table_lock();
	if (split_at(ctx.keep_hi) < 0 || each_inside(lo, hi, move_one, &ctx) < 0)
		forget_locked(lo, hi);
	pthread_mutex_unlock(&slots_lock);
	return p;
}
