// SPDX-License-Identifier: MIT
/* dma_mem built straight from a file, as iommufd's IOAS_MAP_FILE uses it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "iommu/dma_mem.h"

#define PG 4096ULL

static void test_from_file(void **state)
{
	struct vfio_mm *mm = vfio_mm_attach(getpid(), getuid(), -1, NULL,
					    open("/proc/self/mem", O_RDWR | O_CLOEXEC));
	uint64_t base = mm->locked_vm;
	struct dma_mem *mem;
	uint8_t *view, buf[64];
	int fd = memfd_create("dma-mem-test", 0), pfd[2];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(3 * PG)), 0);
	view = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(view != MAP_FAILED);

	assert_int_equal(dma_mem_from_file(mm, fd, PG, 2 * PG, true, &mem), 0);
	assert_int_equal(mm->locked_vm, base + 2);
	memset(buf, 0x42, sizeof(buf));
	assert_int_equal(dma_mem_rw(mem, PG + 8, buf, sizeof(buf), true), 0);
	assert_memory_equal(view + 2 * PG + 8, buf, sizeof(buf));
	view[PG] = 0x17;
	assert_int_equal(dma_mem_rw(mem, 0, buf, 1, false), 0);
	assert_int_equal(buf[0], 0x17);
	/* out of bounds */
	assert_int_equal(dma_mem_rw(mem, 2 * PG - 1, buf, 2, false), -EFAULT);
	assert_int_equal(dma_mem_rw(mem, UINT64_MAX, buf, 2, false), -EFAULT);
	dma_mem_unpin(mem);
	assert_int_equal(mm->locked_vm, base);

	/* an unaligned offset spanning a page boundary: two pages accounted */
	assert_int_equal(dma_mem_from_file(mm, fd, PG - 10, 20, false, &mem), 0);
	assert_int_equal(mm->locked_vm, base + 2);
	view[PG - 10] = 0x99;
	assert_int_equal(dma_mem_rw(mem, 0, buf, 1, false), 0);
	assert_int_equal(buf[0], 0x99);
	dma_mem_unpin(mem);

	/* past EOF, empty, not a regular file */
	assert_int_equal(dma_mem_from_file(mm, fd, 2 * PG, 2 * PG, false, &mem), -EFAULT);
	assert_int_equal(dma_mem_from_file(mm, fd, 0, 0, false, &mem), -EINVAL);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(dma_mem_from_file(mm, pfd[0], 0, PG, false, &mem), -ENODEV);
	assert_int_equal(mm->locked_vm, base);

	close(pfd[0]);
	close(pfd[1]);
	munmap(view, 3 * PG);
	close(fd);
	vfio_mm_put(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
