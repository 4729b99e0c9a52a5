// SPDX-License-Identifier: MIT
/* /proc/self/maps parsing and the segments MAP_DMA sends for a range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim/shim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PG	4096ul
#define RW	(UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE)

static void test_parse_line(void **state)
{
	static const char shared[] =
		"7f12a0000000-7f12a0003000 rw-s 00002000 00:01 81234                      "
		"/memfd:nohuge (deleted)";
	static const char anon[] = "7ffd1000-7ffd3000 r--p 00000000 00:00 0 ";
	static const char file[] = "55d0aa000000-55d0aa001000 r-xp 0001f000 fd:01 393230 /usr/bin/x y";
	struct shim_vma v;

	(void)state;
	assert_int_equal(shim_maps_parse_line(shared, strlen(shared), &v), 0);
	assert_int_equal(v.start, 0x7f12a0000000ull);
	assert_int_equal(v.end, 0x7f12a0003000ull);
	assert_int_equal(v.offset, 0x2000);
	assert_int_equal(v.flags, RW | UVFIO_SEG_SHARED);
	assert_int_equal(v.dev, makedev(0, 1));
	assert_int_equal(v.ino, 81234);
	assert_int_equal(v.path_len, strlen("/memfd:nohuge (deleted)"));
	assert_memory_equal(v.path, "/memfd:nohuge (deleted)", v.path_len);

	assert_int_equal(shim_maps_parse_line(anon, strlen(anon), &v), 0);
	assert_int_equal(v.flags, UVFIO_SEG_PROT_READ);
	assert_int_equal(v.ino, 0);
	assert_int_equal(v.path_len, 0);

	assert_int_equal(shim_maps_parse_line(file, strlen(file), &v), 0);
	assert_int_equal(v.dev, makedev(0xfd, 1));
	assert_int_equal(v.offset, 0x1f000);
	assert_int_equal(v.flags, UVFIO_SEG_PROT_READ);
	assert_memory_equal(v.path, "/usr/bin/x y", v.path_len);

	assert_int_equal(shim_maps_parse_line("", 0, &v), -EINVAL);
	assert_int_equal(shim_maps_parse_line("zz-10 rw-p", 10, &v), -EINVAL);
	assert_int_equal(shim_maps_parse_line("2000-1000 rw-p 0 00:00 0", 24, &v), -EINVAL);
	assert_int_equal(shim_maps_parse_line("1000-2000 rw-p 0 00:00", 22, &v), -EINVAL);
}

static const char maps_text[] =
	"10000-14000 rw-s 00001000 00:05 77 /memfd:a (deleted)\n"
	"14000-16000 r--p 00000000 00:00 0 \n"
	"18000-20000 rw-p 00000000 00:00 0 [heap]\n"
	"garbage line\n"
	"30000-31000 r--s 00000000 08:02 99 /data/file\n";

static void check_seg(const struct uvfio_mem_seg *s, uint64_t vaddr, uint64_t len,
		      uint64_t off, uint32_t flags)
{
	assert_int_equal(s->vaddr, vaddr);
	assert_int_equal(s->len, len);
	assert_int_equal(s->file_offset, off);
	assert_int_equal(s->flags, flags);
	assert_int_equal(s->attached, -1);
}

static void test_describe_text(void **state)
{
	struct shim_memdesc d;

	(void)state;
	/* Starts inside the shared VMA, crosses a private one, a gap, ends
	 * inside the heap. */
	assert_int_equal(shim_mem_describe_text(maps_text, strlen(maps_text), 0x12000,
						0x1a000 - 0x12000, false, &d), 0);
	assert_int_equal(d.nsegs, 4);
	check_seg(&d.segs[0], 0x12000, 0x2000, 0x1000 + 0x2000, RW | UVFIO_SEG_SHARED);
	check_seg(&d.segs[1], 0x14000, 0x2000, 0, UVFIO_SEG_PROT_READ);
	check_seg(&d.segs[2], 0x16000, 0x2000, 0, UVFIO_SEG_HOLE);
	check_seg(&d.segs[3], 0x18000, 0x2000, 0, RW);
	shim_memdesc_release(&d);

	/* Before everything, and past the last VMA. */
	assert_int_equal(shim_mem_describe_text(maps_text, strlen(maps_text), 0x8000, 0x9000,
						false, &d), 0);
	assert_int_equal(d.nsegs, 2);
	check_seg(&d.segs[0], 0x8000, 0x8000, 0, UVFIO_SEG_HOLE);
	check_seg(&d.segs[1], 0x10000, 0x1000, 0x1000, RW | UVFIO_SEG_SHARED);
	shim_memdesc_release(&d);

	assert_int_equal(shim_mem_describe_text(maps_text, strlen(maps_text), 0x30800, 0x1000,
						false, &d), 0);
	assert_int_equal(d.nsegs, 2);
	check_seg(&d.segs[0], 0x30800, 0x800, 0x800, UVFIO_SEG_PROT_READ | UVFIO_SEG_SHARED);
	check_seg(&d.segs[1], 0x31000, 0x800, 0, UVFIO_SEG_HOLE);
	shim_memdesc_release(&d);

	assert_int_equal(shim_mem_describe_text(maps_text, strlen(maps_text), 0x1000, 0,
						false, &d), -EINVAL);
	assert_int_equal(shim_mem_describe_text(maps_text, strlen(maps_text), ~0ull - 10, 100,
						false, &d), -EINVAL);
}

/* Past SHIM_MAX_SEGS the range is one process-memory segment. */
static void test_describe_overflow(void **state)
{
	const unsigned int n = SHIM_MAX_SEGS + 10;
	size_t cap = (size_t)n * 64, len = 0;
	char *text = malloc(cap);
	struct shim_memdesc d;
	unsigned int i;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%lx-%lx %s 00000000 00:00 0\n",
					(i + 1) * PG, (i + 2) * PG, i % 2 ? "rw-p" : "r--p");
	assert_int_equal(shim_mem_describe_text(text, len, PG, (uint64_t)n * PG, false, &d), 0);
	assert_int_equal(d.nsegs, 1);
	check_seg(&d.segs[0], PG, (uint64_t)n * PG, 0, UVFIO_SEG_PROT_READ);
	shim_memdesc_release(&d);

	/* With a gap, the summary says so. */
	assert_int_equal(shim_mem_describe_text(text, len, 0, (uint64_t)(n + 1) * PG, false,
						&d), 0);
	assert_int_equal(d.nsegs, 1);
	check_seg(&d.segs[0], 0, (uint64_t)(n + 1) * PG, 0,
		  UVFIO_SEG_PROT_READ | UVFIO_SEG_HOLE);
	shim_memdesc_release(&d);
	free(text);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Our own memory: a shared memfd window, a hole, private anonymous pages. */
static void test_describe_self(void **state)
{
	struct shim_memdesc d;
	uint8_t *base, *p;
	int mfd;

	(void)state;
	mfd = memfd_create("shimtest", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4 * PG), 0);
	base = mmap(NULL, 5 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	p = mmap(base, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, PG);
	assert_ptr_equal(p, base);
	assert_int_equal(munmap(base + 2 * PG, PG), 0);
	p = mmap(base + 3 * PG, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_ptr_equal(p, base + 3 * PG);

	assert_int_equal(shim_mem_describe((uintptr_t)base, 5 * PG, &d), 0);
	assert_int_equal(d.nsegs, 3);
	assert_int_equal(d.segs[0].vaddr, (uintptr_t)base);
	assert_int_equal(d.segs[0].len, 2 * PG);
	assert_int_equal(d.segs[0].file_offset, PG);
	assert_int_equal(d.segs[0].flags, RW | UVFIO_SEG_SHARED);
	assert_int_equal(d.segs[0].attached, 0);
	assert_int_equal(d.nfds, 1);
	assert_true(same_file(d.fds[0], mfd));
	assert_int_equal(d.segs[1].flags, UVFIO_SEG_HOLE);
	assert_int_equal(d.segs[1].len, PG);
	assert_int_equal(d.segs[2].flags, RW);
	assert_int_equal(d.segs[2].attached, -1);
	shim_memdesc_release(&d);
	assert_int_equal(d.nfds, 0);

	/* Two windows on the same file share one descriptor. */
	assert_int_equal(munmap(base, 5 * PG), 0);
	base = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	assert_ptr_equal(mmap(base, PG, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 3 * PG), base);
	assert_ptr_equal(mmap(base + PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			      mfd, 0), base + PG);
	assert_int_equal(shim_mem_describe((uintptr_t)base, 2 * PG, &d), 0);
	assert_int_equal(d.nsegs, 2);
	assert_int_equal(d.nfds, 1);
	assert_int_equal(d.segs[0].attached, 0);
	assert_int_equal(d.segs[1].attached, 0);
	assert_int_equal(d.segs[0].file_offset, 3 * PG);
	assert_int_equal(d.segs[1].file_offset, 0);
	assert_int_equal(d.segs[0].flags, UVFIO_SEG_PROT_READ | UVFIO_SEG_SHARED);
	shim_memdesc_release(&d);

	munmap(base, 4 * PG);
	close(mfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_describe_text),
		cmocka_unit_test(test_describe_overflow),
		cmocka_unit_test(test_describe_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
