// SPDX-License-Identifier: MIT
/*
 * The cache of what backs our memory: it describes a range only when it
 * knows all of it, and mmap over, munmap of a part, mremap (move, grow,
 * shrink) and mprotect keep it right.  Pure bookkeeping: the addresses are
 * made up, nothing is mapped there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim/shim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG	4096ull
#define RW	(UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE)
#define BASE	0x7e0000000000ull

/* What the cache told the daemon to let go. */
static struct uvfio_ioctl_file forgot[16];
static unsigned int nforgot;

void shim_op_forget(const struct uvfio_ioctl_file *keys, unsigned int n)
{
	for (unsigned int i = 0; i < n && nforgot < 16; i++)
		forgot[nforgot++] = keys[i];
}

static void *at(uint64_t page)
{
	return (void *)(uintptr_t)(BASE + page * PG);
}

static void map_anon(uint64_t page, uint64_t pages, int prot)
{
	shim_vma_mapped(NULL, at(page), pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void map_file(uint64_t page, uint64_t pages, int fd, int64_t off)
{
	shim_vma_mapped(NULL, at(page), pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

/* Describes pages [page, page + pages): true if the cache knows them. */
static bool describe(uint64_t page, uint64_t pages, struct shim_memdesc *d)
{
	return shim_vma_describe(BASE + page * PG, pages * PG, d);
}

static void check_seg(const struct shim_memdesc *d, uint32_t i, uint64_t page, uint64_t pages,
		      uint32_t flags)
{
	assert_true(i < d->nsegs);
	assert_int_equal(d->segs[i].vaddr, BASE + page * PG);
	assert_int_equal(d->segs[i].len, pages * PG);
	assert_int_equal(d->segs[i].flags, flags);
}

static int memfd(uint64_t size)
{
	int fd = memfd_create("vmacache", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void clear_all(void)
{
	shim_vma_forget(at(0), 1ull << 30);
	nforgot = 0;
}

static void test_anon(void **state)
{
	struct shim_memdesc d;

	(void)state;
	clear_all();
	assert_false(describe(0, 1, &d));
	map_anon(0, 4, PROT_READ | PROT_WRITE);
	assert_true(describe(1, 2, &d));
	assert_int_equal(d.nsegs, 1);
	check_seg(&d, 0, 1, 2, RW);
	assert_int_equal(d.segs[0].attached, -1);
	assert_int_equal(d.nfds + d.nfiles, 0);
	shim_memdesc_release(&d);
	/* past the end: unknown, left to the maps */
	assert_false(describe(3, 2, &d));

	/* munmap of the middle: a hole the maps must report */
	shim_vma_forget(at(1), PG);
	assert_false(describe(0, 4, &d));
	assert_true(describe(0, 1, &d));
	shim_memdesc_release(&d);
	assert_true(describe(2, 2, &d));
	check_seg(&d, 0, 2, 2, RW);
	shim_memdesc_release(&d);

	/* mmap over part of it: the new mapping's protection */
	map_anon(3, 2, PROT_READ);
	assert_true(describe(2, 3, &d));
	assert_int_equal(d.nsegs, 2);
	check_seg(&d, 0, 2, 1, RW);
	check_seg(&d, 1, 3, 2, UVFIO_SEG_PROT_READ);
	shim_memdesc_release(&d);

	/* mprotect of a part splits it */
	shim_vma_protect(at(2), PG, PROT_NONE, true);
	assert_true(describe(2, 2, &d));
	check_seg(&d, 0, 2, 1, 0);
	check_seg(&d, 1, 3, 1, UVFIO_SEG_PROT_READ);
	shim_memdesc_release(&d);
	/* a failed mprotect leaves nothing known there */
	shim_vma_protect(at(3), PG, PROT_WRITE, false);
	assert_false(describe(3, 1, &d));
	assert_true(describe(4, 1, &d));
	shim_memdesc_release(&d);
	/* a failed fixed mmap may have unmapped the range */
	shim_vma_mapped(at(4), MAP_FAILED, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			-1, 0);
	assert_false(describe(4, 1, &d));
	assert_int_equal(nforgot, 0);
}

static void test_not_cached(void **state)
{
	struct shim_memdesc d;
	int p[2];

	(void)state;
	clear_all();
	assert_int_equal(pipe(p), 0);
	/* shared anonymous memory, stacks and huge pages are the maps' */
	shim_vma_mapped(NULL, at(0), PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shim_vma_mapped(NULL, at(1), PG, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	shim_vma_mapped(NULL, at(2), PG, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	/* so is a mapping of anything but a regular file */
	shim_vma_mapped(NULL, at(3), PG, PROT_READ, MAP_SHARED, p[0], 0);
	for (int i = 0; i < 4; i++)
		assert_false(describe((uint64_t)i, 1, &d));
	/* a mapping over a known range makes it unknown */
	map_anon(5, 1, PROT_READ);
	shim_vma_mapped(NULL, at(5), PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_false(describe(5, 1, &d));
	close(p[0]);
	close(p[1]);
}

static void test_file(void **state)
{
	struct shim_memdesc d;
	int a = memfd(8 * PG), b = memfd(8 * PG);
	struct stat sa, sb;

	(void)state;
	clear_all();
	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	map_file(0, 4, a, 2 * PG);
	/* not sent yet: the file travels with a descriptor and its key */
	assert_true(describe(1, 2, &d));
	assert_int_equal(d.nsegs, 1);
	check_seg(&d, 0, 1, 2, RW | UVFIO_SEG_SHARED);
	assert_int_equal(d.segs[0].file_offset, 3 * PG);
	assert_int_equal(d.segs[0].attached, SHIM_SEG_FILE(0));
	assert_int_equal(d.nfiles, 1);
	assert_int_equal(d.files[0].ino, sa.st_ino);
	assert_int_equal(d.files[0].dev, sa.st_dev);
	assert_int_equal(d.nfds, 1);
	assert_int_equal(d.files[0].attached, 0);
	shim_vma_sent(&d, true);
	shim_memdesc_release(&d);

	/* sent: named by key alone */
	assert_true(describe(0, 4, &d));
	assert_int_equal(d.nfds, 0);
	assert_int_equal(d.nfiles, 1);
	assert_int_equal(d.files[0].attached, -1);
	/* the daemon did not have it after all: sent again next time */
	shim_vma_sent(&d, false);
	shim_memdesc_release(&d);
	assert_true(describe(0, 1, &d));
	assert_int_equal(d.nfds, 1);
	shim_vma_sent(&d, true);
	shim_memdesc_release(&d);

	/* munmap of part keeps the file; of the rest, it is let go */
	shim_vma_forget(at(0), 2 * PG);
	assert_int_equal(nforgot, 0);
	/* another file mapped over the rest: the first is gone */
	map_file(2, 2, b, 0);
	assert_int_equal(nforgot, 1);
	assert_int_equal(forgot[0].ino, sa.st_ino);
	assert_true(describe(2, 2, &d));
	assert_int_equal(d.nfiles, 1);
	assert_int_equal(d.files[0].ino, sb.st_ino);
	assert_int_equal(d.segs[0].file_offset, 0);
	shim_memdesc_release(&d);
	close(a);
	close(b);
}

static void test_remap(void **state)
{
	struct shim_memdesc d;
	int fd = memfd(16 * PG);

	(void)state;
	clear_all();
	/* move */
	map_file(0, 2, fd, PG);
	shim_vma_remap(at(0), 2 * PG, at(10), 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, at(10));
	assert_false(describe(0, 1, &d));
	assert_true(describe(10, 2, &d));
	assert_int_equal(d.segs[0].file_offset, PG);
	shim_memdesc_release(&d);
	/* grow in place: the file continues */
	shim_vma_remap(at(10), 2 * PG, at(10), 4 * PG, 0, NULL);
	assert_true(describe(10, 4, &d));
	assert_int_equal(d.nsegs, 1);
	check_seg(&d, 0, 10, 4, RW | UVFIO_SEG_SHARED);
	assert_int_equal(d.segs[0].file_offset, PG);
	shim_memdesc_release(&d);
	/* shrink */
	shim_vma_remap(at(10), 4 * PG, at(10), PG, 0, NULL);
	assert_true(describe(10, 1, &d));
	shim_memdesc_release(&d);
	assert_false(describe(10, 2, &d));
	/* grow and move, anonymous, over something known */
	map_anon(20, 1, PROT_READ | PROT_WRITE);
	map_anon(30, 4, PROT_READ);
	shim_vma_remap(at(20), PG, at(30), 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, at(30));
	assert_false(describe(20, 1, &d));
	assert_true(describe(30, 4, &d));
	assert_int_equal(d.nsegs, 2);
	check_seg(&d, 0, 30, 3, RW);
	check_seg(&d, 1, 33, 1, UVFIO_SEG_PROT_READ);
	shim_memdesc_release(&d);
	/* DONTUNMAP leaves the old range as it was */
	shim_vma_remap(at(30), 3 * PG, at(40), 3 * PG,
		       MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, at(40));
	assert_true(describe(30, 3, &d));
	shim_memdesc_release(&d);
	assert_true(describe(40, 3, &d));
	shim_memdesc_release(&d);
	/* a failed move to a fixed place may have unmapped it */
	shim_vma_remap(at(40), 3 * PG, MAP_FAILED, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, at(30));
	assert_false(describe(30, 1, &d));
	assert_true(describe(40, 3, &d));
	shim_memdesc_release(&d);
	/* a range only partly known moves as unknown */
	shim_vma_forget(at(41), PG);
	shim_vma_remap(at(40), 3 * PG, at(50), 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, at(50));
	assert_false(describe(50, 1, &d));
	assert_false(describe(40, 1, &d));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon),
		cmocka_unit_test(test_not_cached),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_remap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
