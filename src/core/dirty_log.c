// SPDX-License-Identifier: MIT
/*
 * Device DMA logging, as drivers/vfio/vfio_main.c checks the requests and a
 * variant driver's log_ops keep the log.  The log is a hash of 64-page words
 * (set bits: pages written), so its size follows what the device wrote, not
 * the ranges the user named; the ranges are kept sorted for the per-write
 * check.
 */
#include "dirty_log.h"

#include <errno.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uaccess.h"
#include "vfio.h"

/* What the kernel guarantees: as many ranges as fill a page. */
#define LOG_MAX_RANGES	(4096 / sizeof(struct vfio_device_feature_dma_logging_range))
#define LOG_MIN_PAGE	4096ull
/* The largest page kept: a report at 4 KiB then sets at most 2^18 bits per
 * logged page, so its work follows what the device wrote. */
#define LOG_MAX_PAGE	(1ull << 30)
/* Bitmap words gathered before they are written out: the memory a report
 * takes, whatever its size. */
#define REPORT_BATCH	65536

struct log_range {
	uint64_t start, last;
};

struct log_word {
	uint64_t key;		/* word index + 1; 0: empty */
	uint64_t bits;
};

struct vfio_dirty_log {
	uint64_t page_size;
	unsigned int page_shift;
	struct log_range *ranges;	/* sorted, not overlapping */
	uint32_t nranges;
	struct log_word *words;
	size_t cap, used;		/* a power of two; entries in use */
	bool lost;			/* a write went unlogged (no memory) */
};

int vfio_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	/* without PROBE, one of GET and SET */
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The kernel's IS_ALIGNED(), for any a (a zero a leaves only 0 aligned). */
static bool aligned(uint64_t x, uint64_t a)
{
	return !(x & (a - 1));
}

static int range_cmp(const void *a, const void *b)
{
	const struct log_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static uint64_t word_hash(uint64_t key, size_t cap)
{
	return (key * 0x9e3779b97f4a7c15ull) >> 7 & (cap - 1);
}

static struct log_word *word_slot(struct log_word *words, size_t cap, uint64_t key)
{
	size_t i = word_hash(key, cap);

	while (words[i].key && words[i].key != key)
		i = (i + 1) & (cap - 1);
	return &words[i];
}

/* The word of 64 pages holding page index w: NULL only when out of memory
 * (that write then goes unlogged: reports say so with ENOMEM). */
static struct log_word *word_get(struct vfio_dirty_log *log, uint64_t w)
{
	struct log_word *slot;

	if (2 * (log->used + 1) > log->cap) {
		size_t cap = log->cap ? 2 * log->cap : 64;
		struct log_word *nw = calloc(cap, sizeof(*nw));

		if (!nw)
			return NULL;
		for (size_t i = 0; i < log->cap; i++)
			if (log->words[i].key)
				*word_slot(nw, cap, log->words[i].key) = log->words[i];
		free(log->words);
		log->words = nw;
		log->cap = cap;
	}
	slot = word_slot(log->words, log->cap, w + 1);
	if (!slot->key) {
		slot->key = w + 1;
		log->used++;
	}
	return slot;
}

void vfio_dirty_log_free(struct vfio_dirty_log *log)
{
	if (!log)
		return;
	free(log->ranges);
	free(log->words);
	free(log);
}

/* The first range ending at or after iova, or NULL. */
static const struct log_range *range_from(const struct vfio_dirty_log *log, uint64_t iova)
{
	uint32_t lo = 0, hi = log->nranges;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (log->ranges[mid].last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < log->nranges ? &log->ranges[lo] : NULL;
}

void vfio_dirty_log_mark(struct vfio_dirty_log *log, uint64_t iova, size_t len)
{
	uint64_t last = iova + len - 1;

	const struct log_range *r = range_from(log, iova);

	if (!len || last < iova || !r)
		return;
	for (; r < log->ranges + log->nranges && r->start <= last; r++) {
		uint64_t from = iova > r->start ? iova : r->start;
		uint64_t to = last < r->last ? last : r->last;

		for (uint64_t p = from >> log->page_shift; p <= to >> log->page_shift; p++) {
			struct log_word *w = word_get(log, p / 64);

			if (w)
				w->bits |= 1ull << (p % 64);
			else
				log->lost = true;
		}
	}
}

long vfio_dirty_log_start(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			  size_t off, size_t argsz)
{
	struct vfio_device_feature_dma_logging_control control;
	struct vfio_dirty_log *log;
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(control));

	if (ret != 1)
		return ret;
	if (copy_from_user(&control, ua, off, sizeof(control)))
		return -EFAULT;
	if (!control.num_ranges)
		return -EINVAL;
	if (control.num_ranges > LOG_MAX_RANGES)
		return -E2BIG;
	log = calloc(1, sizeof(*log));
	if (log)
		log->ranges = calloc(control.num_ranges, sizeof(*log->ranges));
	if (!log || !log->ranges) {
		vfio_dirty_log_free(log);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < control.num_ranges; i++) {
		struct vfio_device_feature_dma_logging_range range;

		if (!ua->ctx || !ua->ctx->mm ||
		    vfio_mm_read(ua->ctx->mm, control.ranges + i * sizeof(range), &range,
				 sizeof(range))) {
			ret = -EFAULT;
			goto fail;
		}
		if (!aligned(range.iova, control.page_size) ||
		    !aligned(range.length, control.page_size)) {
			ret = -EINVAL;
			goto fail;
		}
		if (range.iova + range.length < range.iova) {
			ret = -EOVERFLOW;
			goto fail;
		}
		log->ranges[i].start = range.iova;
		log->ranges[i].last = range.iova + range.length - 1;
	}
	qsort(log->ranges, control.num_ranges, sizeof(*log->ranges), range_cmp);
	for (uint32_t i = 1; i < control.num_ranges; i++) {
		if (log->ranges[i].start <= log->ranges[i - 1].last) {
			ret = -EINVAL;		/* overlapping */
			goto fail;
		}
	}
	log->nranges = control.num_ranges;
	/* a start while logging: one at a time */
	if (vdev->dirty_log) {
		ret = -EINVAL;
		goto fail;
	}
	/* the page size hinted, if it is one we keep, else the nearest */
	log->page_size = !is_pow2(control.page_size) || control.page_size < LOG_MIN_PAGE ?
			 LOG_MIN_PAGE : control.page_size > LOG_MAX_PAGE ? LOG_MAX_PAGE :
			 control.page_size;
	log->page_shift = (unsigned int)__builtin_ctzll(log->page_size);
	control.page_size = log->page_size;
	if (copy_to_user(ua, off, &control, sizeof(control))) {
		ret = -EFAULT;
		goto fail;
	}
	vdev->dirty_log = log;
	return 0;
fail:
	vfio_dirty_log_free(log);
	return ret;
}

long vfio_dirty_log_stop(struct vfio_device *vdev, uint32_t flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	vfio_dirty_log_free(vdev->dirty_log);
	vdev->dirty_log = NULL;
	return 0;
}

/* A word of the user's bitmap to OR bits into. */
struct bitmap_update {
	uint64_t index, bits;
};

static int update_cmp(const void *a, const void *b)
{
	const struct bitmap_update *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* ORs the updates (sorted, one per word) into the user's bitmap: each run
 * of consecutive words read and written back at once. */
static int bitmap_or(struct vfio_mm *mm, uint64_t bitmap, struct bitmap_update *u, size_t n)
{
	uint64_t buf[64];

	for (size_t i = 0; i < n;) {
		size_t run = 1;

		while (i + run < n && run < 64 && u[i + run].index == u[i].index + run)
			run++;
		if (vfio_mm_read(mm, bitmap + 8 * u[i].index, buf, 8 * run))
			return -EFAULT;
		for (size_t k = 0; k < run; k++)
			buf[k] |= u[i + k].bits;
		if (vfio_mm_write(mm, bitmap + 8 * u[i].index, buf, 8 * run))
			return -EFAULT;
		i += run;
	}
	return 0;
}

/* Sorts the updates, merges those of one word and ORs them into the user's
 * bitmap; the list is empty after. */
static int flush(struct vfio_mm *mm, uint64_t bitmap, struct bitmap_update *u, size_t *n)
{
	size_t merged = 0;
	int ret;

	if (!*n)
		return 0;
	qsort(u, *n, sizeof(*u), update_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (u[i].index == u[merged].index)
			u[merged].bits |= u[i].bits;
		else
			u[++merged] = u[i];
	}
	ret = bitmap_or(mm, bitmap, u, merged + 1);
	*n = 0;
	return ret;
}

/* Adds report bits [first, last] to the updates (words in any order),
 * written out every REPORT_BATCH words. */
static int add_bits(struct vfio_mm *mm, uint64_t bitmap, struct bitmap_update **u, size_t *n,
		    size_t *cap, uint64_t first, uint64_t last)
{
	for (uint64_t b = first; b <= last; b = (b | 63) + 1) {
		uint64_t hi = last < (b | 63) ? last : (b | 63);
		uint64_t mask = (hi - b == 63 ? ~0ull : ((1ull << (hi - b + 1)) - 1)) << (b % 64);

		if (*n == REPORT_BATCH) {
			int ret = flush(mm, bitmap, *u, n);

			if (ret)
				return ret;
		}
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct bitmap_update *nu = realloc(*u, nc * sizeof(**u));

			if (!nu)
				return -ENOMEM;
			*u = nu;
			*cap = nc;
		}
		(*u)[(*n)++] = (struct bitmap_update){ .index = b / 64, .bits = mask };
		if (hi == last)
			break;
	}
	return 0;
}

long vfio_dirty_log_report(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			   size_t off, size_t argsz)
{
	struct vfio_device_feature_dma_logging_report report;
	struct vfio_dirty_log *log = vdev->dirty_log;
	struct bitmap_update *u = NULL;
	size_t n = 0, cap = 0;
	uint64_t rlast;
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(report));

	if (ret != 1)
		return ret;
	if (copy_from_user(&report, ua, off, sizeof(report)))
		return -EFAULT;
	if (report.page_size < LOG_MIN_PAGE || !is_pow2(report.page_size))
		return -EINVAL;
	if (report.iova + report.length < report.iova)
		return -EOVERFLOW;
	if (!log || !report.length)
		return -EINVAL;
	if (log->lost)
		return -ENOMEM;		/* the user must take all as dirty */
	if (!ua->ctx || !ua->ctx->mm)
		return -EFAULT;
	ret = 0;
	rlast = report.iova + report.length - 1;
	/* every logged page in the report's range, as report bits */
	for (size_t i = 0; i < log->cap && !ret; i++) {
		struct log_word *w = &log->words[i];

		for (uint64_t bits = w->key ? w->bits : 0; bits && !ret; bits &= bits - 1) {
			uint64_t p = (w->key - 1) * 64 + (uint64_t)__builtin_ctzll(bits);
			uint64_t start = p << log->page_shift, last = start + log->page_size - 1;

			if (last < report.iova || start > rlast)
				continue;
			start = start > report.iova ? start : report.iova;
			last = last < rlast ? last : rlast;
			ret = add_bits(ua->ctx->mm, report.bitmap, &u, &n, &cap,
				       (start - report.iova) / report.page_size,
				       (last - report.iova) / report.page_size);
		}
	}
	if (!ret)
		ret = flush(ua->ctx->mm, report.bitmap, u, &n);
	free(u);
	if (ret)
		return ret;
	/* reported: cleared from the log */
	for (size_t i = 0; i < log->cap; i++) {
		struct log_word *w = &log->words[i];

		for (uint64_t bits = w->key ? w->bits : 0; bits; bits &= bits - 1) {
			uint64_t bit = (uint64_t)__builtin_ctzll(bits);
			uint64_t start = ((w->key - 1) * 64 + bit) << log->page_shift;

			if (start <= rlast && start + log->page_size - 1 >= report.iova)
				w->bits &= ~(1ull << bit);
		}
	}
	return 0;
}

int vfio_dirty_log_describe(const struct vfio_dirty_log *log, char *buf, size_t len)
{
	uint64_t pages = 0;

	if (!log)
		return snprintf(buf, len, "off");
	for (size_t i = 0; i < log->cap; i++)
		if (log->words[i].key)
			pages += (uint64_t)__builtin_popcountll(log->words[i].bits);
	return snprintf(buf, len, "on, %u ranges, page size %llu, %llu pages written",
			log->nranges, (unsigned long long)log->page_size,
			(unsigned long long)pages);
}
