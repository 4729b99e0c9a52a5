// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/user.h"
#include "dma_mem.h"

#define DMA_PAGE_SIZE	4096ULL

static uint64_t dma_npages(uint64_t addr, uint64_t size)
{
	uint64_t first = addr / DMA_PAGE_SIZE;
	uint64_t last = (addr + size - 1) / DMA_PAGE_SIZE;

	return last - first + 1;
}

/* ---- SIGBUS guard for zero-copy spans ---- */

/*
 * A file mapped MAP_SHARED raises SIGBUS when its owner truncates it below a
 * mapped page.  The kernel's pinned pages outlive a truncate; ours cannot, so
 * an access to such a page fails the DMA instead of killing the daemon.
 */
static __thread sigjmp_buf *volatile dma_guard;
static struct sigaction dma_prev_sigbus;

static void dma_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (dma_guard)
		siglongjmp(*dma_guard, 1);
	/* Not ours: behave as if we were never installed. */
	if (dma_prev_sigbus.sa_flags & SA_SIGINFO) {
		dma_prev_sigbus.sa_sigaction(sig, si, uc);
	} else if (dma_prev_sigbus.sa_handler != SIG_DFL &&
		   dma_prev_sigbus.sa_handler != SIG_IGN) {
		dma_prev_sigbus.sa_handler(sig);
	} else {
		/* The faulting access repeats and takes the default action. */
		signal(SIGBUS, SIG_DFL);
	}
}

/* Checked at every new zero-copy mapping, not at every DMA (hot), in case
 * someone replaced the handler since. */
static void dma_guard_install(void)
{
	struct sigaction sa, cur;

	if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == dma_sigbus)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dma_sigbus;
	/* NODEFER: leaving the handler by siglongjmp must not leave SIGBUS
	 * blocked, and sigsetjmp(env, 0) does not restore the mask. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &dma_prev_sigbus);
}

static int dma_copy_guarded(void *dst, const void *src, size_t len)
{
	sigjmp_buf env;

	if (sigsetjmp(env, 0)) {
		dma_guard = NULL;
		return -EFAULT;
	}
	dma_guard = &env;
	/* The copy must happen between the two stores, as the handler sees. */
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(dst, src, len);
	atomic_signal_fence(memory_order_seq_cst);
	dma_guard = NULL;
	return 0;
}

/* ---- peer-to-peer ---- */

static const struct dma_mmio_ops *mmio_ops;

void dma_mem_set_mmio_ops(const struct dma_mmio_ops *ops)
{
	mmio_ops = ops;
}

/* ---- building ---- */

/* A mapping counts against its user's DMA mappings while it lives. */
static int dma_mem_alloc(struct vfio_mm *mm, uint64_t vaddr, uint64_t size, bool need_read,
			 bool need_write, unsigned int maxspans, struct dma_mem **out)
{
	struct dma_mem *mem = calloc(1, sizeof(*mem) + maxspans * sizeof(mem->spans[0]));
	int ret;

	if (!mem)
		return -ENOMEM;
	ret = vfio_user_charge(mm->uid, VFIO_USER_DMA_MAPPINGS);
	if (ret) {
		free(mem);
		return ret;
	}
	mem->mm = mm;
	vfio_mm_get(mm);
	mem->vaddr = vaddr;
	mem->size = size;
	mem->need_read = need_read;
	mem->need_write = need_write;
	*out = mem;
	return 0;
}

static void dma_mem_free(struct dma_mem *mem)
{
	for (unsigned int i = 0; i < mem->nspans; i++) {
		if (mem->spans[i].map_base)
			munmap(mem->spans[i].map_base, mem->spans[i].map_len);
		vfio_mm_file_map_put(mem->spans[i].fmap);
	}
	vfio_user_uncharge(mem->mm->uid, VFIO_USER_DMA_MAPPINGS);
	vfio_mm_put(mem->mm);
	free(mem);
}

static bool fmap_guarded;

/* Maps len bytes of fd (st: its fstat) at file_off into the daemon for
 * span s: through the mapping of a file the process keeps (mm) if it is
 * one, else a mapping of its own. */
static int dma_span_map(struct dma_mem_span *s, struct vfio_mm *mm, int fd,
			const struct stat *st, uint64_t file_off, bool writable)
{
	uint64_t lead = file_off % DMA_PAGE_SIZE;
	size_t map_len = (lead + s->len + DMA_PAGE_SIZE - 1) & ~(DMA_PAGE_SIZE - 1);
	void *p;

	/* Only a regular file (memfd, tmpfs, hugetlbfs) gives back the very
	 * pages the process has mapped; a device node would not. */
	if (!S_ISREG(st->st_mode))
		return -ENODEV;
	/* A shared mapping past EOF cannot be faulted in: GUP says EFAULT. */
	if (file_off > (uint64_t)st->st_size || s->len > (uint64_t)st->st_size - file_off)
		return -EFAULT;
	s->fmap = vfio_mm_file_map(mm, fd, st, file_off, s->len, writable);
	if (s->fmap) {
		/* reused for every mapping of the file: checked once */
		if (!fmap_guarded) {
			dma_guard_install();
			fmap_guarded = true;
		}
		s->host = s->fmap->base + file_off;
		return 0;
	}
	p = mmap(NULL, map_len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd,
		 (off_t)(file_off - lead));
	if (p == MAP_FAILED)
		return -errno;
	dma_guard_install();
	s->map_base = p;
	s->map_len = map_len;
	s->host = (uint8_t *)p + lead;
	return 0;
}

static const struct uvfio_mem_seg *dma_seg_at(const struct uvfio_mem_seg *segs,
					      unsigned int nsegs, uint64_t addr)
{
	for (unsigned int i = 0; i < nsegs; i++) {
		if (addr >= segs[i].vaddr && addr - segs[i].vaddr < segs[i].len)
			return &segs[i];
	}
	return NULL;
}

/* The segment covering addr, checked the way GUP checks a VMA. */
static int dma_seg_check(const struct uvfio_mem_seg *segs, unsigned int nsegs, uint64_t addr,
			 bool need_read, bool need_write, const struct uvfio_mem_seg **out)
{
	const struct uvfio_mem_seg *seg = dma_seg_at(segs, nsegs, addr);

	if (!seg || (seg->flags & UVFIO_SEG_HOLE))
		return -EFAULT;
	if (need_write && !(seg->flags & UVFIO_SEG_PROT_WRITE))
		return -EFAULT;
	if (need_read && !(seg->flags & UVFIO_SEG_PROT_READ))
		return -EFAULT;
	*out = seg;
	return 0;
}

static int dma_mem_build(struct vfio_uarg *ua, uint64_t vaddr, uint64_t size, bool need_read,
			 bool need_write, bool allow_mmio, struct dma_mem **out)
{
	const struct uvfio_mem_seg *segs, *seg;
	unsigned int nsegs, nspans = 0;
	uint64_t end = vaddr + size, addr, len;
	struct dma_mem *mem;
	int ret;

	if (!ua->ctx || !ua->ctx->mm)
		return -ENODEV;
	if (!size)
		return -EINVAL;
	/* Reaching 2^64 is no user memory either. */
	if (end < vaddr)
		return -EFAULT;
	segs = uarg_mem_segs(ua, &nsegs);

	for (addr = vaddr; addr < end; addr += len, nspans++) {
		ret = dma_seg_check(segs, nsegs, addr, need_read, need_write, &seg);
		if (ret)
			return ret;
		len = seg->vaddr + seg->len - addr;
		if (len > end - addr)
			len = end - addr;
	}

	ret = dma_mem_alloc(ua->ctx->mm, vaddr, size, need_read, need_write, nspans, &mem);
	if (ret)
		return ret;

	for (addr = vaddr; addr < end; addr += len) {
		struct dma_mem_span *s = &mem->spans[mem->nspans];
		struct dma_mem_span *prev = mem->nspans ? s - 1 : NULL;

		dma_seg_check(segs, nsegs, addr, need_read, need_write, &seg);
		len = seg->vaddr + seg->len - addr;
		if (len > end - addr)
			len = end - addr;

		s->off = addr - vaddr;
		s->len = len;
		s->vaddr = addr;
		if ((seg->flags & UVFIO_SEG_SHARED) && seg->attached >= 0 &&
		    (unsigned int)seg->attached < ua->nattached) {
			int fd = ua->attached[seg->attached];
			uint64_t file_off = seg->file_offset + (addr - seg->vaddr);
			struct stat st;

			if (fstat(fd, &st)) {
				ret = -errno;
			} else if (mmio_ops && mmio_ops->resolve(&st, file_off, len, &s->bus_addr)) {
				s->mmio = true;
				ret = allow_mmio ? 0 : -EFAULT;
			} else {
				ret = dma_span_map(s, ua->ctx->mm, fd, &st, file_off, need_write);
			}
			if (ret == -EFAULT) {
				dma_mem_free(mem);
				return ret;
			}
			/* Other failures: the process can still reach it. */
		}
		if (!s->host && !s->mmio && prev && !prev->host && !prev->mmio) {
			prev->len += len;
			memset(s, 0, sizeof(*s));
			continue;
		}
		mem->nspans++;
	}
	*out = mem;
	return 0;
}

int dma_mem_get_user(struct vfio_uarg *ua, uint64_t vaddr, uint64_t size, bool need_read,
		     bool need_write, struct dma_mem **out)
{
	return dma_mem_build(ua, vaddr, size, need_read, need_write, false, out);
}

/* Charges the pages mem spans to its process, as vfio_lock_acct() does;
 * device memory is not charged (type1 skips reserved pfns). */
static int dma_mem_account(struct dma_mem *mem, uint64_t addr)
{
	int64_t npages = (int64_t)dma_npages(addr, mem->size);
	int ret;

	for (unsigned int i = 0; i < mem->nspans; i++) {
		if (mem->spans[i].mmio)
			npages -= (int64_t)dma_npages(mem->spans[i].vaddr, mem->spans[i].len);
	}
	if (npages < 0)
		npages = 0;
	ret = vfio_mm_lock_acct(mem->mm, npages);

	if (ret) {
		dma_mem_free(mem);
		return ret;
	}
	mem->locked = npages;
	return 0;
}

int dma_mem_pin(struct vfio_uarg *ua, uint64_t vaddr, uint64_t size, bool need_read,
		bool need_write, struct dma_mem **out)
{
	struct dma_mem *mem;
	int ret;

	ret = dma_mem_build(ua, vaddr, size, need_read, need_write, true, &mem);
	if (ret)
		return ret;
	ret = dma_mem_account(mem, vaddr);
	if (ret)
		return ret;
	*out = mem;
	return 0;
}

int dma_mem_repin(struct vfio_uarg *ua, struct dma_mem *old, uint64_t vaddr,
		  struct dma_mem **out)
{
	struct dma_mem *mem;
	int ret;

	ret = dma_mem_build(ua, vaddr, old->size, old->need_read, old->need_write, true, &mem);
	if (ret)
		return ret;
	if (mem->mm == old->mm) {
		/* Same process: the pages stay accounted where they are. */
		mem->locked = old->locked;
		old->locked = 0;
	} else {
		ret = vfio_mm_lock_acct(mem->mm, old->locked);
		if (ret) {
			dma_mem_free(mem);
			return ret;
		}
		mem->locked = old->locked;
	}
	*out = mem;
	return 0;
}

int dma_mem_get_file(struct vfio_mm *mm, int fd, uint64_t offset, uint64_t size,
		     bool writable, struct dma_mem **out)
{
	struct dma_mem *mem;
	struct stat st;
	int ret;

	if (!size || offset + size < offset)
		return -EINVAL;
	ret = dma_mem_alloc(mm, 0, size, true, writable, 1, &mem);
	if (ret)
		return ret;
	mem->spans[0].len = size;
	ret = fstat(fd, &st) ? -errno : dma_span_map(&mem->spans[0], mm, fd, &st, offset, writable);
	if (ret) {
		dma_mem_free(mem);
		return ret;
	}
	mem->nspans = 1;
	*out = mem;
	return 0;
}

int dma_mem_from_file(struct vfio_mm *mm, int fd, uint64_t offset, uint64_t size,
		      bool writable, struct dma_mem **out)
{
	struct dma_mem *mem;
	int ret;

	ret = dma_mem_get_file(mm, fd, offset, size, writable, &mem);
	if (ret)
		return ret;
	ret = dma_mem_account(mem, offset);
	if (ret)
		return ret;
	*out = mem;
	return 0;
}

void dma_mem_unpin(struct dma_mem *mem)
{
	if (!mem)
		return;
	if (mem->locked)
		vfio_mm_lock_acct(mem->mm, -mem->locked);
	dma_mem_free(mem);
}

/* ---- access ---- */

static int dma_span_rw(struct dma_mem *mem, struct dma_mem_span *s, uint64_t off, void *buf,
		       size_t len, bool write)
{
	if (s->mmio)
		return mmio_ops->rw(s->bus_addr + off, buf, len, write);
	if (s->host) {
		if (write)
			return dma_copy_guarded(s->host + off, buf, len);
		return dma_copy_guarded(buf, s->host + off, len);
	}
	if (write)
		return vfio_mm_write(mem->mm, s->vaddr + off, buf, len) ? -EFAULT : 0;
	return vfio_mm_read(mem->mm, s->vaddr + off, buf, len) ? -EFAULT : 0;
}

int dma_mem_rw(struct dma_mem *mem, uint64_t off, void *buf, size_t len, bool write)
{
	unsigned int lo = 0, hi = mem->nspans;
	uint8_t *p = buf;

	if (off > mem->size || len > mem->size - off)
		return -EFAULT;
	if (mem->nspans == 1)
		return dma_span_rw(mem, &mem->spans[0], off, buf, len, write);

	/* The last span starting at or before off. */
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (mem->spans[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (unsigned int i = lo; len; i++) {
		struct dma_mem_span *s = &mem->spans[i];
		uint64_t in = off - s->off;
		size_t n = s->len - in < len ? (size_t)(s->len - in) : len;
		int ret = dma_span_rw(mem, s, in, p, n, write);

		if (ret)
			return ret;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}
