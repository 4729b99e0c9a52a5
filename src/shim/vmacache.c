// SPDX-License-Identifier: MIT
/*
 * What backs the program's memory, remembered from the mappings it makes
 * through us, so that MAP_DMA and IOAS_MAP need not read /proc/self/maps:
 * anonymous private memory and mappings of regular files made by the
 * interposed mmap, kept right through munmap, mremap, mprotect and mmap over
 * them.  Memory mapped any other way (before us, by libc or the loader
 * themselves, by raw system calls) is not here: a range the cache does not
 * cover whole is described from /proc/self/maps, as before.
 *
 * It also remembers which backing files the daemon holds for this process,
 * sent once with a descriptor: later calls name them by key and pass none,
 * so they take the shared call slot.  When the last mapping of such a file
 * goes, the daemon is told to let it go, as it would drop the pages.
 *
 * A sorted array under a mutex.  A signal handler that interrupted this
 * thread inside the cache and maps or unmaps memory cannot take the lock: it
 * marks the cache stale, and the next user empties it.  A fork child starts
 * empty: its address space is a new one (MADV_DONTFORK ranges are not in
 * it) and the daemon holds no file for it.
 */
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE		4096ull
#define PAGE_UP(x)	(((x) + PAGE - 1) & ~(PAGE - 1))
#define VMA_MAX		4096u	/* ranges remembered; beyond, new ones are not */
#define SENT_MAX	64u	/* files the daemon holds for us, as far as we know */
#define GONE_MAX	16u	/* files told to go per operation; others wait */
#define DESC_SEGS	64u	/* a longer description comes from the maps */

struct vma_ent {
	uint64_t start, end;
	uint64_t offset;	/* file offset of start */
	uint64_t dev, ino;	/* backing file (st_dev, st_ino); ino 0: anonymous */
	int fd;			/* the program's descriptor it was mapped from */
	uint32_t flags;		/* UVFIO_SEG_PROT_* | UVFIO_SEG_SHARED */
	bool unreachable;	/* its file could not be opened: process memory */
};

struct file_key {
	uint64_t dev, ino;
};

/* Keys whose mappings an operation removed: told to go if none is left. */
struct gone {
	struct uvfio_ioctl_file k[GONE_MAX];
	unsigned int n;
};

static struct vma_ent *vmas;		/* VMA_MAX entries, mapped on first use */
static unsigned int nvmas;
static struct file_key sent[SENT_MAX];
static unsigned int nsent, sent_next;
static pthread_mutex_t vma_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t vma_once = PTHREAD_ONCE_INIT;
static _Atomic bool vma_stale;
static __thread unsigned int vma_busy;

static void vma_atfork_prepare(void)
{
	pthread_mutex_lock(&vma_lock);
}

static void vma_atfork_parent(void)
{
	pthread_mutex_unlock(&vma_lock);
}

static void vma_atfork_child(void)
{
	nvmas = 0;
	nsent = 0;
	atomic_store(&vma_stale, false);
	pthread_mutex_unlock(&vma_lock);
}

static void vma_setup(void)
{
	pthread_atfork(vma_atfork_prepare, vma_atfork_parent, vma_atfork_child);
}

/* False when this thread is already inside (a signal handler interrupted
 * it): an update then marks everything stale, a lookup finds nothing. */
static bool cache_lock(bool update)
{
	if (vma_busy) {
		if (update)
			atomic_store(&vma_stale, true);
		return false;
	}
	pthread_once(&vma_once, vma_setup);
	vma_busy++;
	pthread_mutex_lock(&vma_lock);
	if (atomic_exchange(&vma_stale, false))
		nvmas = 0;
	return true;
}

static void cache_unlock(void)
{
	pthread_mutex_unlock(&vma_lock);
	vma_busy--;
}

/* ---- the sorted array (under the lock) ---- */

/* The first entry that ends above addr. */
static unsigned int vma_find(uint64_t addr)
{
	unsigned int lo = 0, hi = nvmas;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int sent_index(uint64_t dev, uint64_t ino)
{
	for (unsigned int i = 0; i < nsent; i++) {
		if (sent[i].dev == dev && sent[i].ino == ino)
			return (int)i;
	}
	return -1;
}

static void sent_del(int i)
{
	sent[i] = sent[--nsent];
}

static void note_gone(struct gone *g, const struct vma_ent *e)
{
	if (!e->ino || sent_index(e->dev, e->ino) < 0)
		return;
	for (unsigned int i = 0; i < g->n; i++) {
		if (g->k[i].dev == e->dev && g->k[i].ino == e->ino)
			return;
	}
	if (g->n < GONE_MAX)
		g->k[g->n++] = (struct uvfio_ioctl_file){ .dev = e->dev, .ino = e->ino };
}

static void vma_delete(unsigned int i, unsigned int n)
{
	memmove(&vmas[i], &vmas[i + n], (nvmas - i - n) * sizeof(*vmas));
	nvmas -= n;
}

/* Cuts the entry holding addr in two at addr; without room it goes whole. */
static void vma_split(uint64_t addr, struct gone *g)
{
	unsigned int i = vma_find(addr);
	struct vma_ent *e = &vmas[i];

	if (i == nvmas || e->start >= addr)
		return;
	if (nvmas == VMA_MAX) {
		note_gone(g, e);
		vma_delete(i, 1);
		return;
	}
	memmove(e + 1, e, (nvmas - i) * sizeof(*e));
	nvmas++;
	e->end = addr;
	e[1].offset += addr - e[1].start;
	e[1].start = addr;
}

static void vma_remove(uint64_t lo, uint64_t hi, struct gone *g)
{
	unsigned int i, j;

	if (!nvmas || lo >= hi)
		return;
	vma_split(lo, g);
	vma_split(hi, g);
	i = vma_find(lo);
	for (j = i; j < nvmas && vmas[j].start < hi; j++)
		note_gone(g, &vmas[j]);
	vma_delete(i, j - i);
}

static void vma_insert(const struct vma_ent *e)
{
	unsigned int i;

	if (!vmas) {
		void *p = REAL(mmap)(NULL, VMA_MAX * sizeof(*vmas), PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return;
		vmas = p;
	}
	if (nvmas == VMA_MAX)
		return;
	i = vma_find(e->start);
	memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(*e));
	vmas[i] = *e;
	nvmas++;
}

/* Of the keys an operation removed, those no mapping uses any more stop
 * being sent; they are left in g for the daemon to drop. */
static void gone_settle(struct gone *g)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < g->n; k++) {
		bool used = false;
		int s;

		for (unsigned int i = 0; i < nvmas && !used; i++)
			used = vmas[i].dev == g->k[k].dev && vmas[i].ino == g->k[k].ino;
		s = sent_index(g->k[k].dev, g->k[k].ino);
		if (used || s < 0)
			continue;
		sent_del(s);
		g->k[n++] = g->k[k];
	}
	g->n = n;
}

/* After the unlock: the daemon lets the files go. */
static void gone_tell(const struct gone *g)
{
	if (g->n)
		shim_op_forget(g->k, g->n);
}

/* ---- the interposed calls ---- */

static uint32_t prot_flags(int prot)
{
	return (prot & PROT_READ ? UVFIO_SEG_PROT_READ : 0) |
	       (prot & PROT_WRITE ? UVFIO_SEG_PROT_WRITE : 0);
}

/* What a new mapping is, if it is one the cache describes exactly as the
 * maps would: anonymous private memory, or a regular file. */
static bool vma_classify(size_t len, int prot, int flags, int fd, int64_t off,
			 struct vma_ent *e)
{
	int type = flags & MAP_TYPE;
	bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	struct stat st;

	*e = (struct vma_ent){ .end = PAGE_UP(len), .fd = -1, .flags = prot_flags(prot) };
	/* a stack that grows, or huge pages that make an anonymous mapping
	 * a file one: left to the maps */
	if (flags & (MAP_GROWSDOWN | MAP_HUGETLB))
		return false;
	if (flags & MAP_ANONYMOUS)
		return !shared && type == MAP_PRIVATE;
	if (REAL(fstat)(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->fd = fd;
	e->offset = (uint64_t)off;
	if (shared)
		e->flags |= UVFIO_SEG_SHARED;
	return shared || type == MAP_PRIVATE;
}

void shim_vma_mapped(void *addr, void *p, size_t len, int prot, int flags, int fd, int64_t off)
{
	struct gone g = { .n = 0 };
	struct vma_ent e;
	bool keep;
	int saved = errno;

	if (p == MAP_FAILED) {
		/* a fixed mapping that failed may have unmapped what was there */
		if (flags & MAP_FIXED)
			shim_vma_forget(addr, len);
		return;
	}
	keep = vma_classify(len, prot, flags, fd, off, &e);
	errno = saved;
	e.start = (uintptr_t)p;
	e.end += e.start;
	if (!cache_lock(true))
		return;
	vma_remove(e.start, e.end, &g);
	if (keep)
		vma_insert(&e);
	gone_settle(&g);
	cache_unlock();
	gone_tell(&g);
}

void shim_vma_forget(void *addr, size_t len)
{
	uint64_t lo = (uintptr_t)addr & ~(PAGE - 1);
	struct gone g = { .n = 0 };

	if (!len || !cache_lock(true))
		return;
	vma_remove(lo, PAGE_UP((uintptr_t)addr + len), &g);
	gone_settle(&g);
	cache_unlock();
	gone_tell(&g);
}

void shim_vma_protect(void *addr, size_t len, int prot, bool done)
{
	uint64_t lo = (uintptr_t)addr, hi = PAGE_UP(lo + len);
	struct gone g = { .n = 0 };

	if (!len || !cache_lock(true))
		return;
	if (done) {
		vma_split(lo, &g);
		vma_split(hi, &g);
		for (unsigned int i = vma_find(lo); i < nvmas && vmas[i].start < hi; i++)
			vmas[i].flags = (vmas[i].flags & UVFIO_SEG_SHARED) | prot_flags(prot);
	} else {
		/* a failed mprotect may have changed part of the range */
		vma_remove(lo, hi, &g);
	}
	gone_settle(&g);
	cache_unlock();
	gone_tell(&g);
}

/* The entries tiling [lo, hi) exactly, clipped to it, into out (at most
 * max); 0 when they leave a gap or are too many. */
static unsigned int vma_tiles(uint64_t lo, uint64_t hi, struct vma_ent *out, unsigned int max)
{
	unsigned int n = 0;
	uint64_t cur = lo;

	for (unsigned int i = vma_find(lo); cur < hi; i++) {
		if (i == nvmas || vmas[i].start > cur || n == max)
			return 0;
		out[n] = vmas[i];
		out[n].offset += cur - out[n].start;
		out[n].start = cur;
		if (out[n].end > hi)
			out[n].end = hi;
		cur = out[n++].end;
	}
	return n;
}

/*
 * mremap moved or resized [old, old + old_len) to [p, p + new_len): the
 * kernel allows it only within one mapping, and a grown mapping continues
 * its last piece (same file, following offsets).  MREMAP_DONTUNMAP leaves the
 * old range mapped as it was (emptied of anonymous pages, which the maps do
 * not show); a zero old_len makes a second mapping of shared memory, not
 * described here.
 */
void shim_vma_remap(void *old, size_t old_len, void *p, size_t new_len, int flags, void *want)
{
	uint64_t lo = (uintptr_t)old, hi = PAGE_UP(lo + old_len);
	uint64_t nlo = (uintptr_t)p, nhi = PAGE_UP(nlo + new_len);
	struct vma_ent tiles[16];
	struct gone g = { .n = 0 };
	unsigned int n;
	int64_t delta = (int64_t)(nlo - lo);

	if (p == MAP_FAILED) {
		/* the kernel may have unmapped the target before failing */
		if (flags & MREMAP_FIXED)
			shim_vma_forget(want, new_len);
		return;
	}
	if (!cache_lock(true))
		return;
	n = old_len ? vma_tiles(lo, hi, tiles, sizeof(tiles) / sizeof(tiles[0])) : 0;
	if (!(flags & MREMAP_DONTUNMAP))
		vma_remove(lo, hi, &g);
	vma_remove(nlo, nhi, &g);
	for (unsigned int i = 0; i < n; i++) {
		struct vma_ent e = tiles[i];

		e.start += (uint64_t)delta;
		e.end += (uint64_t)delta;
		if (e.start >= nhi)
			break;
		if (i == n - 1 || e.end > nhi)
			e.end = nhi;
		vma_insert(&e);
	}
	gone_settle(&g);
	cache_unlock();
	gone_tell(&g);
}

/* ---- describing a range ---- */

/* The index in d->files of e's file, added (with a descriptor to send if
 * the daemon does not hold it yet) if new; -1 when it cannot be. */
static int file_index(struct shim_memdesc *d, const struct vma_ent *e)
{
	struct uvfio_ioctl_file *f;
	int fd;

	for (uint32_t k = 0; k < d->nfiles; k++) {
		if (d->files[k].dev == e->dev && d->files[k].ino == e->ino)
			return (int)k;
	}
	if (d->nfiles == UVFIO_MAX_FDS)
		return -1;
	f = &d->files[d->nfiles];
	*f = (struct uvfio_ioctl_file){ .dev = e->dev, .ino = e->ino, .attached = -1 };
	if (sent_index(e->dev, e->ino) < 0) {
		fd = d->nfds < UVFIO_MAX_FDS ? shim_reopen_fd(e->fd, e->dev, e->ino) : -1;
		if (fd < 0)
			return -1;
		f->attached = (int32_t)d->nfds;
		d->fds[d->nfds++] = fd;
	}
	return (int)d->nfiles++;
}

/* [cur, cur + len) of e; contiguous pieces of the same kind are one
 * segment, as the kernel merges such mappings.  False: leave it to the
 * maps. */
static bool describe_piece(struct shim_memdesc *d, const struct vma_ent *e, uint64_t cur,
			   uint64_t len)
{
	uint64_t off = e->offset + (cur - e->start);
	int32_t attached = -1;
	struct uvfio_mem_seg *s = d->nsegs ? &d->segs[d->nsegs - 1] : NULL;

	if ((e->flags & UVFIO_SEG_SHARED) && !e->unreachable) {
		int k = file_index(d, e);

		if (k < 0)
			return false;
		attached = (int32_t)SHIM_SEG_FILE(k);
	}
	if (s && s->vaddr + s->len == cur && s->flags == e->flags && s->attached == attached &&
	    (attached < 0 || s->file_offset + s->len == off)) {
		s->len += len;
		return true;
	}
	return d->nsegs < DESC_SEGS && shim_memdesc_add(d, cur, len, off, attached, e->flags) == 0;
}

bool shim_vma_describe(uint64_t vaddr, uint64_t len, struct shim_memdesc *d)
{
	uint64_t cur = vaddr, hi = vaddr + len;
	bool ok = true;

	memset(d, 0, sizeof(*d));
	if (!len || hi < vaddr || !cache_lock(false))
		return false;
	d->lo = d->cur = vaddr;
	d->hi = hi;
	for (unsigned int i = vma_find(vaddr); ok && cur < hi; i++) {
		uint64_t piece;

		/* a hole, or memory the cache does not know */
		if (i == nvmas || vmas[i].start > cur) {
			ok = false;
			break;
		}
		piece = (vmas[i].end < hi ? vmas[i].end : hi) - cur;
		ok = describe_piece(d, &vmas[i], cur, piece);
		cur += piece;
	}
	cache_unlock();
	if (!ok) {
		shim_memdesc_release(d);
		memset(d, 0, sizeof(*d));
	}
	return ok;
}

void shim_vma_key_files(struct shim_memdesc *d)
{
	/* a summarised range has closed its descriptors */
	if (d->overflow || !d->nseen || !cache_lock(false))
		return;
	for (uint32_t i = 0; i < d->nseen && d->nfiles < UVFIO_MAX_FDS; i++) {
		bool known = false;

		for (unsigned int v = 0; v < nvmas; v++) {
			if (vmas[v].dev != d->seen[i].dev || vmas[v].ino != d->seen[i].ino)
				continue;
			known = true;
			/* no way to the file: the maps path gave process memory */
			vmas[v].unreachable = d->seen[i].idx < 0;
		}
		if (!known || d->seen[i].idx < 0)
			continue;
		d->files[d->nfiles] = (struct uvfio_ioctl_file){
			.dev = d->seen[i].dev, .ino = d->seen[i].ino, .attached = d->seen[i].idx,
		};
		for (uint32_t s = 0; s < d->nsegs; s++) {
			if (d->segs[s].attached == d->seen[i].idx)
				d->segs[s].attached = (int32_t)SHIM_SEG_FILE(d->nfiles);
		}
		d->nfiles++;
	}
	cache_unlock();
}

void shim_vma_sent(const struct shim_memdesc *d, bool held)
{
	if (!d->nfiles || !cache_lock(false))
		return;
	for (uint32_t k = 0; k < d->nfiles; k++) {
		const struct uvfio_ioctl_file *f = &d->files[k];
		int s = sent_index(f->dev, f->ino);

		if (!held && f->attached < 0 && s >= 0) {
			sent_del(s);
		} else if (held && f->attached >= 0 && s < 0) {
			/* full: the oldest known goes (the daemon keeps it a
			 * while, a resend fixes any mismatch) */
			if (nsent < SENT_MAX)
				s = (int)nsent++;
			else
				s = (int)(sent_next++ % SENT_MAX);
			sent[s] = (struct file_key){ .dev = f->dev, .ino = f->ino };
		}
	}
	cache_unlock();
}
