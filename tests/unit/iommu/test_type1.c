// SPDX-License-Identifier: MIT
/*
 * type1 through its driver ops, with arguments marshalled as the shim does:
 * the argument bytes, the write-back buffer and the memory segments are
 * built here by hand, and the "user" is this very process.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "iommu/type1.h"

#define PG 4096ULL

static const struct vfio_iommu_driver_ops *ops = &vfio_iommu_type1_ops;
static struct vfio_uctx ctx;
static struct iommu_group group_a = { .id = 1 }, group_b = { .id = 2 };

/* What backs the next MAP_DMA: a test sets these before calling map(). */
static struct uvfio_mem_seg segs[8];
static unsigned int nsegs;
static int attached[8];
static unsigned int nattached;

static long ioctl_arg(void *iommu, unsigned int cmd, void *arg, size_t len)
{
	uint8_t *wb = malloc(len ? len : 1);
	struct vfio_uarg ua;
	long ret;

	assert_non_null(wb);
	memset(&ua, 0, sizeof(ua));
	if (len)
		memcpy(wb, arg, len);
	ua.ctx = &ctx;
	ua.msg.arg = arg;
	ua.msg.arg_len = (uint32_t)len;
	ua.msg.segs = segs;
	ua.msg.nsegs = nsegs;
	ua.attached = attached;
	ua.nattached = nattached;
	ua.wb = wb;
	ret = ops->ioctl(iommu, cmd, &ua);
	if (ua.wb_hi > ua.wb_lo)
		memcpy((uint8_t *)arg + ua.wb_lo, wb + ua.wb_lo, ua.wb_hi - ua.wb_lo);
	free(wb);
	return ret;
}

static long check_ext(void *iommu, unsigned long ext)
{
	struct vfio_uarg ua;

	memset(&ua, 0, sizeof(ua));
	ua.ctx = &ctx;
	ua.value = ext;
	return ops->ioctl(iommu, VFIO_CHECK_EXTENSION, &ua);
}

static void seg_private(unsigned int i, void *p, uint64_t len, uint32_t prot)
{
	segs[i] = (struct uvfio_mem_seg){ .vaddr = (uintptr_t)p, .len = len, .attached = -1,
					  .flags = prot };
	if (i >= nsegs)
		nsegs = i + 1;
}

static void seg_memfd(unsigned int i, void *p, uint64_t len, int fd, uint64_t off)
{
	attached[nattached] = fd;
	segs[i] = (struct uvfio_mem_seg){ .vaddr = (uintptr_t)p, .len = len, .file_offset = off,
					  .attached = (int32_t)nattached++,
					  .flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE |
						   UVFIO_SEG_SHARED };
	if (i >= nsegs)
		nsegs = i + 1;
}

static long map(void *iommu, uint32_t flags, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = (uintptr_t)vaddr,
		.iova = iova, .size = size,
	};

	return ioctl_arg(iommu, VFIO_IOMMU_MAP_DMA, &m, sizeof(m));
}

static long unmap(void *iommu, uint32_t flags, uint64_t iova, uint64_t *size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = *size,
	};
	long ret = ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u));

	*size = u.size;
	return ret;
}

static void *open_iommu(unsigned long type)
{
	int err = 0;
	void *iommu = ops->open(type, &err);

	assert_non_null(iommu);
	assert_int_equal(ops->attach_group(iommu, &group_a), 0);
	return iommu;
}

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void *memfd_buf(size_t len, int *fd)
{
	void *p;

	*fd = memfd_create("type1-test", 0);
	assert_true(*fd >= 0);
	assert_int_equal(ftruncate(*fd, (off_t)len), 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static int setup(void **state)
{
	(void)state;
	nsegs = 0;
	nattached = 0;
	memset(segs, 0, sizeof(segs));
	vfio_iommu_type1_set_dma_entry_limit(UINT16_MAX);
	return 0;
}

/* ---- extensions and open ---- */

static void test_extensions(void **state)
{
	int err = 0;
	void *iommu;

	(void)state;
	assert_int_equal(check_ext(NULL, VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(check_ext(NULL, VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(check_ext(NULL, VFIO_UNMAP_ALL), 1);
	assert_int_equal(check_ext(NULL, VFIO_UPDATE_VADDR), 0);
	assert_int_equal(check_ext(NULL, VFIO_DMA_CC_IOMMU), 0);
	assert_int_equal(check_ext(NULL, VFIO_TYPE1_NESTING_IOMMU), 0);
	assert_int_equal(check_ext(NULL, 0x1234), 0);

	assert_null(ops->open(VFIO_TYPE1_NESTING_IOMMU, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ops->open(0, &err));
	assert_int_equal(err, -EINVAL);

	iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	assert_int_equal(check_ext(iommu, VFIO_UPDATE_VADDR), 1);
	assert_int_equal(check_ext(iommu, VFIO_DMA_CC_IOMMU), 1);
	assert_int_equal(check_ext(iommu, VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(check_ext(iommu, VFIO_TYPE1_NESTING_IOMMU), 0);
	/* duplicate attach */
	assert_int_equal(ops->attach_group(iommu, &group_a), -EINVAL);
	assert_int_equal(ioctl_arg(iommu, 0x3b99, NULL, 0), -ENOTTY);
	ops->release(iommu);
}

/* ---- GET_INFO ---- */

struct info_buf {
	struct vfio_iommu_type1_info info;
	uint8_t caps[256];
};

static void test_get_info(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	struct info_buf b;
	uint32_t need;

	(void)state;
	/* too small */
	memset(&b, 0, sizeof(b));
	b.info.argsz = 15;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, sizeof(b)), -EINVAL);
	/* the argument itself is shorter than minsz */
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, 8), -EFAULT);

	/* argsz 16: only the first 16 bytes come back, argsz says what is needed */
	memset(&b, 0xaa, sizeof(b));
	b.info.argsz = 16;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, 16), 0);
	assert_int_equal(b.info.flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	assert_int_equal(b.info.iova_pgsizes, 0x40201000ULL);
	need = b.info.argsz;
	assert_true(need > sizeof(b.info));
	assert_int_equal(b.info.cap_offset, 0xaaaaaaaa);

	/* argsz = sizeof(info): cap_offset written as 0, caps not copied */
	memset(&b, 0xaa, sizeof(b));
	b.info.argsz = sizeof(b.info);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, sizeof(b)), 0);
	assert_int_equal(b.info.argsz, need);
	assert_int_equal(b.info.cap_offset, 0);
	assert_int_equal(b.caps[0], 0xaa);

	/* big enough: walk the chain */
	memset(&b, 0, sizeof(b));
	b.info.argsz = need;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, need), 0);
	assert_int_equal(b.info.argsz, need);
	assert_int_equal(b.info.cap_offset, sizeof(b.info));

	uint8_t *base = (uint8_t *)&b;
	struct vfio_info_cap_header *h = (void *)(base + b.info.cap_offset);
	struct vfio_iommu_type1_info_cap_migration *mig = (void *)h;

	assert_int_equal(h->id, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	assert_int_equal(h->version, 1);
	assert_int_equal(mig->flags, 0);
	assert_int_equal(mig->pgsize_bitmap, PG);
	assert_int_equal(mig->max_dirty_bitmap_size, 0x10000000ULL);
	assert_true(h->next > b.info.cap_offset && h->next < need);

	h = (void *)(base + h->next);
	assert_int_equal(h->id, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	assert_int_equal(h->version, 1);
	assert_int_equal(((struct vfio_iommu_type1_info_dma_avail *)h)->avail, 65535);
	assert_true(h->next < need);

	h = (void *)(base + h->next);
	struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;

	assert_int_equal(h->id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	assert_int_equal(h->version, 1);
	assert_int_equal(h->next, 0);
	assert_int_equal(r->nr_iovas, 2);
	assert_int_equal(r->iova_ranges[0].start, 0);
	assert_int_equal(r->iova_ranges[0].end, 0xfedfffffULL);
	assert_int_equal(r->iova_ranges[1].start, 0xfef00000ULL);
	assert_int_equal(r->iova_ranges[1].end, 0xffffffffffffULL);
	ops->release(iommu);
}

/* ---- MAP_DMA rules ---- */

static void test_map_errors(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	uint8_t *buf = anon(16 * PG);
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map m = { .argsz = 31, .flags = rw,
					      .vaddr = (uintptr_t)buf, .size = PG };

	(void)state;
	seg_private(0, buf, 16 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);

	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_MAP_DMA, &m, sizeof(m)), -EINVAL);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_MAP_DMA, &m, 24), -EFAULT);
	m.argsz = sizeof(m);
	m.flags = rw | 8;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_MAP_DMA, &m, sizeof(m)), -EINVAL);

	assert_int_equal(map(iommu, rw, buf, 0, 0), -EINVAL);
	/* wrap: EOVERFLOW before any other check, even alignment */
	assert_int_equal(map(iommu, rw, buf, UINT64_MAX - PG + 2, PG), -EOVERFLOW);
	assert_int_equal(map(iommu, 0, (void *)(UINTPTR_MAX - 5), 0, PG), -EOVERFLOW);
	assert_int_equal(map(iommu, 0, buf, 0, PG), -EINVAL);
	assert_int_equal(map(iommu, rw | VFIO_DMA_MAP_FLAG_VADDR, buf, 0, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf + 1, 0, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf, 0x800, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf, 0, PG + 1), -EINVAL);
	/* a range ending exactly at 2^64 - 1 is no wrap, just outside the aperture */
	assert_int_equal(map(iommu, rw, buf, UINT64_MAX - PG + 1, PG), -EINVAL);
	/* MSI window and beyond 48 bits */
	assert_int_equal(map(iommu, rw, buf, 0xfee00000ULL, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf, 0xfedff000ULL, 2 * PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf, 1ULL << 48, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, buf, 0xfef00000ULL, PG), 0);
	assert_int_equal(map(iommu, rw, buf, 0xfedff000ULL, PG), 0);

	/* overlap in any way */
	assert_int_equal(map(iommu, rw, buf, 0x100000, 4 * PG), 0);
	assert_int_equal(map(iommu, rw, buf, 0x100000, 4 * PG), -EEXIST);
	assert_int_equal(map(iommu, rw, buf, 0x0ff000, 2 * PG), -EEXIST);
	assert_int_equal(map(iommu, rw, buf, 0x103000, 2 * PG), -EEXIST);
	assert_int_equal(map(iommu, rw, buf, 0x0f0000, 0x100000), -EEXIST);
	assert_int_equal(map(iommu, rw, buf, 0x104000, PG), 0);
	/* EEXIST comes before the aperture check */
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0xfedff000ULL, 2 * PG), -EEXIST);

	/* backing: unmapped, hole, protection */
	assert_int_equal(map(iommu, rw, buf + 16 * PG, 0x200000, PG), -EFAULT);
	assert_int_equal(map(iommu, rw, buf + 15 * PG, 0x200000, 2 * PG), -EFAULT);
	seg_private(0, buf, 8 * PG, UVFIO_SEG_PROT_READ);
	seg_private(1, buf + 8 * PG, 4 * PG, UVFIO_SEG_HOLE);
	seg_private(2, buf + 12 * PG, 4 * PG, UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, rw, buf, 0x200000, PG), -EFAULT);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_WRITE, buf, 0x200000, PG), -EFAULT);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0x200000, 8 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf + 7 * PG, 0x300000, 2 * PG),
			 -EFAULT);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_WRITE, buf + 12 * PG, 0x300000, 4 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf + 12 * PG, 0x400000, 4 * PG),
			 -EFAULT);
	/* failures leave nothing behind: the same iova maps fine afterwards */
	seg_private(0, buf, 16 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	nsegs = 1;
	assert_int_equal(map(iommu, rw, buf, 0x400000, 16 * PG), 0);

	char desc[256];

	ops->describe(iommu, desc, sizeof(desc));
	assert_non_null(strstr(desc, "7 mappings"));
	ops->release(iommu);
	munmap(buf, 16 * PG);
}

static void test_enospc(void **state)
{
	void *iommu;
	uint8_t *buf = anon(4 * PG);
	struct info_buf b;
	uint64_t size = PG;

	(void)state;
	vfio_iommu_type1_set_dma_entry_limit(2);
	iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	seg_private(0, buf, 4 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0, PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, PG, PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 2 * PG, PG), -ENOSPC);
	/* EEXIST wins over ENOSPC; ENOSPC wins over the aperture */
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0, PG), -EEXIST);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 1ULL << 50, PG), -ENOSPC);

	memset(&b, 0, sizeof(b));
	b.info.argsz = sizeof(b);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_GET_INFO, &b, sizeof(b)), 0);
	struct vfio_info_cap_header *h = (void *)((uint8_t *)&b + b.info.cap_offset);

	h = (void *)((uint8_t *)&b + h->next);
	assert_int_equal(((struct vfio_iommu_type1_info_dma_avail *)h)->avail, 0);

	assert_int_equal(unmap(iommu, 0, 0, &size), 0);
	assert_int_equal(size, PG);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 2 * PG, PG), 0);
	ops->release(iommu);
	munmap(buf, 4 * PG);
}

static void test_memlock(void **state)
{
	struct rlimit old, rl;
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	uint8_t *buf = anon(32 * PG);
	uint64_t base = ctx.mm->locked_vm, size;
	bool cap = ctx.mm->cap_ipc_lock;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = (base + 16) * PG;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	ctx.mm->cap_ipc_lock = false;

	seg_private(0, buf, 32 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0, 32 * PG), -ENOMEM);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0, 8 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 8 * PG, 8 * PG), 0);
	assert_int_equal(ctx.mm->locked_vm, base + 16);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 16 * PG, PG), -ENOMEM);
	size = 8 * PG;
	assert_int_equal(unmap(iommu, 0, 0, &size), 0);
	assert_int_equal(ctx.mm->locked_vm, base + 8);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 16 * PG, 8 * PG), 0);
	/* CAP_IPC_LOCK lifts the limit */
	ctx.mm->cap_ipc_lock = true;
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0x100000, 32 * PG), 0);
	ctx.mm->cap_ipc_lock = false;

	ops->release(iommu);
	assert_int_equal(ctx.mm->locked_vm, base);
	ctx.mm->cap_ipc_lock = cap;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	munmap(buf, 32 * PG);
}

/* ---- device DMA ---- */

static void test_dma_rw(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	int fd;
	uint8_t *shared = memfd_buf(4 * PG, &fd);
	uint8_t *priv = anon(4 * PG);
	uint8_t out[3 * PG], in[3 * PG];
	char desc[256];

	(void)state;
	seg_memfd(0, shared, 4 * PG, fd, 0);
	seg_private(1, priv, 4 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	/* zero copy at iova 0x10000, process memory right after it */
	assert_int_equal(map(iommu, rw, shared, 0x10000, 4 * PG), 0);
	assert_int_equal(map(iommu, rw, priv, 0x14000, 4 * PG), 0);

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	/* within the memfd */
	assert_int_equal(ops->dma_rw(iommu, 0x10010, out, 100, true), 0);
	assert_memory_equal(shared + 0x10, out, 100);
	shared[0x2000] = 0x5a;
	assert_int_equal(ops->dma_rw(iommu, 0x12000, in, 1, false), 0);
	assert_int_equal(in[0], 0x5a);
	/* within private memory */
	assert_int_equal(ops->dma_rw(iommu, 0x15000, out, PG, true), 0);
	assert_memory_equal(priv + PG, out, PG);
	priv[3 * PG + 5] = 0xa5;
	assert_int_equal(ops->dma_rw(iommu, 0x17005, in, 1, false), 0);
	assert_int_equal(in[0], 0xa5);
	/* across the two mappings */
	assert_int_equal(ops->dma_rw(iommu, 0x13800, out, 3 * PG, true), 0);
	assert_memory_equal(shared + 0x3800, out, 0x800);
	assert_memory_equal(priv, out + 0x800, 3 * PG - 0x800);
	memset(in, 0, sizeof(in));
	assert_int_equal(ops->dma_rw(iommu, 0x13800, in, 3 * PG, false), 0);
	assert_memory_equal(in, out, 3 * PG);

	/* one mapping made of a memfd span and a private span */
	uint64_t size = 8 * PG;

	assert_int_equal(unmap(iommu, 0, 0x10000, &size), 0);
	assert_int_equal(size, 8 * PG);
	uint8_t *two = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(two != MAP_FAILED);
	assert_int_equal(munmap(two + 2 * PG, 2 * PG), 0);
	assert_true(mmap(two + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == two + 2 * PG);
	nsegs = 0;
	nattached = 0;
	seg_memfd(0, two, 2 * PG, fd, 0);
	seg_private(1, two + 2 * PG, 2 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, rw, two, 0x40000, 4 * PG), 0);
	assert_int_equal(ops->dma_rw(iommu, 0x41000, out, 2 * PG, true), 0);
	assert_memory_equal(shared + PG, out, PG);
	assert_memory_equal(two + 2 * PG, out + PG, PG);

	ops->describe(iommu, desc, sizeof(desc));
	assert_non_null(strstr(desc, "0 faults"));
	assert_non_null(strstr(desc, "7 dma ops"));
	ops->release(iommu);
	munmap(two, 4 * PG);
	munmap(shared, 4 * PG);
	munmap(priv, 4 * PG);
	close(fd);
}

static void test_dma_faults(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1_IOMMU);
	int fd;
	uint8_t *ro = memfd_buf(2 * PG, &fd);
	uint8_t *wo = anon(2 * PG);
	uint8_t buf[2 * PG];
	char desc[256];

	(void)state;
	seg_memfd(0, ro, 2 * PG, fd, 0);
	seg_private(1, wo, 2 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, ro, 0, 2 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_WRITE, wo, 2 * PG, 2 * PG), 0);
	memset(ro, 0x11, 2 * PG);
	memset(wo, 0x22, 2 * PG);
	memset(buf, 0x33, sizeof(buf));

	/* device writes to a read-only mapping, reads from a write-only one */
	assert_int_equal(ops->dma_rw(iommu, 0, buf, 16, true), -EFAULT);
	assert_int_equal(ro[0], 0x11);
	assert_int_equal(ops->dma_rw(iommu, 2 * PG, buf, 16, false), -EFAULT);
	assert_int_equal(buf[0], 0x33);
	/* a write spanning into the write-only mapping from the read-only one:
	 * nothing moves, not even the permitted part */
	assert_int_equal(ops->dma_rw(iommu, PG, buf, 2 * PG, true), -EFAULT);
	assert_int_equal(wo[0], 0x22);
	/* running off the end into nothing */
	assert_int_equal(ops->dma_rw(iommu, 3 * PG, buf, 2 * PG, true), -EFAULT);
	assert_int_equal(wo[PG], 0x22);
	assert_int_equal(ops->dma_rw(iommu, 0x100000, buf, 1, false), -EFAULT);
	assert_int_equal(ops->dma_rw(iommu, UINT64_MAX, buf, 2, false), -EFAULT);
	/* allowed ones still work */
	assert_int_equal(ops->dma_rw(iommu, 3 * PG - 1, buf, 2, true), 0);
	assert_int_equal(wo[PG - 1], 0x33);
	assert_int_equal(wo[PG], 0x33);
	assert_int_equal(ops->dma_rw(iommu, PG, buf, 1, false), 0);
	assert_int_equal(buf[0], 0x11);

	ops->describe(iommu, desc, sizeof(desc));
	assert_non_null(strstr(desc, "6 faults"));
	assert_non_null(strstr(desc, "2 dma ops"));

	/* process memory that went away */
	assert_int_equal(munmap(wo, 2 * PG), 0);
	assert_int_equal(ops->dma_rw(iommu, 2 * PG, buf, 1, true), -EFAULT);

	/* the file shrinks under a zero-copy mapping: a fault, not a crash */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(ops->dma_rw(iommu, 0, buf, 16, false), -EFAULT);
	ops->release(iommu);
	munmap(ro, 2 * PG);
	close(fd);
}

/* ---- UNMAP_DMA: v1 and v2 ---- */

static void map3(void *iommu, uint8_t *buf)
{
	seg_private(0, buf, 16 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0x10000, 4 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0x14000, 4 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_READ, buf, 0x20000, 4 * PG), 0);
}

static void test_unmap_v1(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1_IOMMU);
	uint8_t *buf = anon(16 * PG);
	uint64_t size;

	(void)state;
	map3(iommu, buf);
	/* starts inside a mapping: success, nothing unmapped */
	size = 8 * PG;
	assert_int_equal(unmap(iommu, 0, 0x11000, &size), 0);
	assert_int_equal(size, 0);
	/* covers the first page only: the whole mapping goes */
	size = PG;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), 0);
	assert_int_equal(size, 4 * PG);
	/* covers the first page of the next two */
	size = 0x10000 + PG;
	assert_int_equal(unmap(iommu, 0, 0x14000, &size), 0);
	assert_int_equal(size, 8 * PG);
	size = 0x1000000;
	assert_int_equal(unmap(iommu, 0, 0, &size), 0);
	assert_int_equal(size, 0);

	/* UNMAP_ALL in v1 */
	map3(iommu, buf);
	size = 0;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size), 0);
	assert_int_equal(size, 12 * PG);
	/* dirty logging is v2 only */
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d),
						   .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START };
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &d, sizeof(d)), -EACCES);
	ops->release(iommu);
	munmap(buf, 16 * PG);
}

static void test_unmap_v2(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	uint8_t *buf = anon(16 * PG);
	struct vfio_iommu_type1_dma_unmap u;
	uint64_t size;

	(void)state;
	map3(iommu, buf);
	/* header rules */
	u = (struct vfio_iommu_type1_dma_unmap){ .argsz = 23, .iova = 0x10000, .size = PG };
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);
	u.argsz = sizeof(u);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, 16), -EFAULT);
	u.flags = 8;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);
	u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);
	u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u)), -EINVAL);

	/* bisecting -> EINVAL, and size is not written back */
	size = PG;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), -EINVAL);
	assert_int_equal(size, PG);
	size = 4 * PG;
	assert_int_equal(unmap(iommu, 0, 0x11000, &size), -EINVAL);
	size = 5 * PG;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), -EINVAL);
	/* alignment, zero size, wrap */
	size = PG;
	assert_int_equal(unmap(iommu, 0, 0x10800, &size), -EINVAL);
	size = 0;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), -EINVAL);
	size = 0x800;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), -EINVAL);
	size = 2 * PG;
	assert_int_equal(unmap(iommu, 0, UINT64_MAX - PG + 1, &size), -EOVERFLOW);
	size = PG;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size), -EINVAL);
	size = 0;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_ALL, PG, &size), -EINVAL);

	/* nothing there: success, 0 */
	size = 4 * PG;
	assert_int_equal(unmap(iommu, 0, 0x30000, &size), 0);
	assert_int_equal(size, 0);
	/* gaps are fine as long as no mapping is cut */
	size = 0x10000;
	assert_int_equal(unmap(iommu, 0, 0x10000, &size), 0);
	assert_int_equal(size, 8 * PG);
	assert_int_equal(ops->dma_rw(iommu, 0x10000, buf, 1, false), -EFAULT);
	size = 0;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size), 0);
	assert_int_equal(size, 4 * PG);
	ops->release(iommu);
	munmap(buf, 16 * PG);
}

/* ---- VFIO_UPDATE_VADDR ---- */

static void test_update_vaddr(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	uint8_t *a = anon(4 * PG), *b = anon(4 * PG);
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	uint8_t v = 0x77, r;
	uint64_t size;

	(void)state;
	seg_private(0, a, 4 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	seg_private(1, b, 4 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	assert_int_equal(map(iommu, rw, a, 0x10000, 2 * PG), 0);
	assert_int_equal(map(iommu, rw, a + 2 * PG, 0x12000, 2 * PG), 0);

	/* not invalid yet */
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x10000, 2 * PG), -EINVAL);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x30000, 2 * PG), -ENOENT);

	size = 4 * PG;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_VADDR, 0x10000, &size), 0);
	assert_int_equal(size, 4 * PG);
	/* DMA carries on to the memory pinned before */
	assert_int_equal(ops->dma_rw(iommu, 0x10000, &v, 1, true), 0);
	assert_int_equal(a[0], 0x77);
	/* groups cannot join now */
	assert_int_equal(ops->attach_group(iommu, &group_b), -EBUSY);
	/* invalidating again fails and rolls back what it marked */
	size = 2 * PG;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_VADDR, 0x10000, &size), -EINVAL);

	/* mismatched updates */
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR | VFIO_DMA_MAP_FLAG_READ, b,
			     0x10000, 2 * PG), -EINVAL);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x10000, 4 * PG), -EINVAL);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x11000, PG), -EINVAL);
	assert_int_equal(map(iommu, rw, b, 0x10000, 2 * PG), -EEXIST);

	/* new backing: DMA now reaches b */
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x10000, 2 * PG), 0);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b, 0x10000, 2 * PG), -EINVAL);
	b[PG] = 0x99;
	assert_int_equal(ops->dma_rw(iommu, 0x11000, &r, 1, false), 0);
	assert_int_equal(r, 0x99);
	assert_int_equal(ops->attach_group(iommu, &group_b), -EBUSY);
	assert_int_equal(map(iommu, VFIO_DMA_MAP_FLAG_VADDR, b + 2 * PG, 0x12000, 2 * PG), 0);
	assert_int_equal(ops->attach_group(iommu, &group_b), 0);

	/* an invalid-vaddr mapping still unmaps normally */
	size = 2 * PG;
	assert_int_equal(unmap(iommu, VFIO_DMA_UNMAP_FLAG_VADDR, 0x12000, &size), 0);
	size = 2 * PG;
	assert_int_equal(unmap(iommu, 0, 0x12000, &size), 0);
	assert_int_equal(size, 2 * PG);
	assert_int_equal(ops->attach_group(iommu, &group_b), -EINVAL);

	/* the last group leaving takes the mappings along */
	ops->detach_group(iommu, &group_a);
	assert_int_equal(ops->dma_rw(iommu, 0x10000, &r, 1, false), 0);
	ops->detach_group(iommu, &group_b);
	assert_int_equal(ops->dma_rw(iommu, 0x10000, &r, 1, false), -EFAULT);
	ops->release(iommu);
	munmap(a, 4 * PG);
	munmap(b, 4 * PG);
}

/* ---- dirty page tracking ---- */

struct dirty_get {
	struct vfio_iommu_type1_dirty_bitmap hdr;
	struct vfio_iommu_type1_dirty_bitmap_get range;
};

static long dirty_op(void *iommu, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d), .flags = flags };

	return ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &d, sizeof(d));
}

static long dirty_get(void *iommu, uint64_t iova, uint64_t size, uint64_t *bitmap,
		      uint64_t bitmap_size)
{
	struct dirty_get g = {
		.hdr = { .argsz = sizeof(g), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP },
		.range = { .iova = iova, .size = size,
			   .bitmap = { .pgsize = PG, .size = bitmap_size, .data = (__u64 *)bitmap } },
	};

	return ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &g, sizeof(g));
}

static void test_dirty(void **state)
{
	void *iommu = open_iommu(VFIO_TYPE1v2_IOMMU);
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	uint8_t *buf = anon(256 * PG);
	uint64_t bm[4] = { 0 };
	uint8_t data[2 * PG] = { 0 };
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = 7,
						   .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START };

	(void)state;
	seg_private(0, buf, 256 * PG, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	/* two mappings: 100 pages at 0, 100 pages right after (bit 100 is in
	 * the middle of a word) */
	assert_int_equal(map(iommu, rw, buf, 0, 100 * PG), 0);

	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &d, sizeof(d)), -EINVAL);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &d, 4), -EFAULT);
	assert_int_equal(dirty_op(iommu, 0), -EINVAL);
	assert_int_equal(dirty_op(iommu, 8), -EINVAL);
	assert_int_equal(dirty_op(iommu, VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
					 VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), -EINVAL);
	/* not tracking yet */
	assert_int_equal(dirty_get(iommu, 0, 100 * PG, bm, sizeof(bm)), -EINVAL);

	assert_int_equal(dirty_op(iommu, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(dirty_op(iommu, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(map(iommu, rw, buf + 100 * PG, 100 * PG, 100 * PG), 0);

	/* device writes: page 3, pages 99-100 (across the mappings), 130;
	 * a read does not dirty */
	assert_int_equal(ops->dma_rw(iommu, 3 * PG + 10, data, 4, true), 0);
	assert_int_equal(ops->dma_rw(iommu, 99 * PG + 8, data, PG, true), 0);
	assert_int_equal(ops->dma_rw(iommu, 130 * PG, data, 1, true), 0);
	assert_int_equal(ops->dma_rw(iommu, 150 * PG, data, PG, false), 0);

	/* argument rules */
	assert_int_equal(dirty_get(iommu, 0, 200 * PG, bm, 8), -EINVAL);
	assert_int_equal(dirty_get(iommu, 0, 50 * PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(dirty_get(iommu, PG, 99 * PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(dirty_get(iommu, 0x800, 200 * PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(dirty_get(iommu, 0, 200 * PG, (uint64_t *)(uintptr_t)(1ULL << 60),
				   sizeof(bm)), -EINVAL);
	struct dirty_get g = { .hdr = { .argsz = sizeof(g) - 1,
					.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP } };
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_DIRTY_PAGES, &g, sizeof(g)), -EINVAL);

	assert_int_equal(dirty_get(iommu, 0, 200 * PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], (1ULL << 3));
	assert_int_equal(bm[1], (1ULL << (99 - 64)) | (1ULL << (100 - 64)));
	assert_int_equal(bm[2], (1ULL << (130 - 128)));
	assert_int_equal(bm[3], 0);
	/* reported pages are clean again */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dirty_get(iommu, 0, 200 * PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0] | bm[1] | bm[2] | bm[3], 0);

	/* unmap with the bitmap: second mapping only, bit 0 = page 100 */
	assert_int_equal(ops->dma_rw(iommu, 164 * PG, data, 1, true), 0);
	assert_int_equal(ops->dma_rw(iommu, 5 * PG, data, 1, true), 0);
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} um = {
		.u = { .argsz = sizeof(um), .flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		       .iova = 100 * PG, .size = 100 * PG },
		.b = { .pgsize = PG, .size = 16, .data = (__u64 *)bm },
	};
	memset(bm, 0, sizeof(bm));
	um.b.pgsize = 2 * PG;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &um, sizeof(um)), -EINVAL);
	um.b.pgsize = PG;
	um.u.argsz = sizeof(um.u) + 8;
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &um, sizeof(um)), -EINVAL);
	um.u.argsz = sizeof(um);
	assert_int_equal(ioctl_arg(iommu, VFIO_IOMMU_UNMAP_DMA, &um, sizeof(um)), 0);
	assert_int_equal(um.u.size, 100 * PG);
	assert_int_equal(bm[0], 0);
	assert_int_equal(bm[1], 1ULL << 0);

	/* stop; getting a bitmap fails again; start with no fresh writes */
	assert_int_equal(dirty_op(iommu, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	assert_int_equal(dirty_get(iommu, 0, 100 * PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(ops->dma_rw(iommu, 7 * PG, data, 1, true), 0);
	assert_int_equal(dirty_op(iommu, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dirty_get(iommu, 0, 100 * PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0] | bm[1], 0);
	ops->release(iommu);
	munmap(buf, 256 * PG);
}

static int group_setup(void **state)
{
	(void)state;
	ctx.pid = getpid();
	ctx.mm = vfio_mm_attach(ctx.pid, getuid(), -1, NULL,
				open("/proc/self/mem", O_RDWR | O_CLOEXEC));
	return ctx.mm ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	assert_int_equal(ctx.mm->locked_vm, 0);
	vfio_mm_put(ctx.mm);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_extensions, setup),
		cmocka_unit_test_setup(test_get_info, setup),
		cmocka_unit_test_setup(test_map_errors, setup),
		cmocka_unit_test_setup(test_enospc, setup),
		cmocka_unit_test_setup(test_memlock, setup),
		cmocka_unit_test_setup(test_dma_rw, setup),
		cmocka_unit_test_setup(test_dma_faults, setup),
		cmocka_unit_test_setup(test_unmap_v1, setup),
		cmocka_unit_test_setup(test_unmap_v2, setup),
		cmocka_unit_test_setup(test_update_vaddr, setup),
		cmocka_unit_test_setup(test_dirty, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
