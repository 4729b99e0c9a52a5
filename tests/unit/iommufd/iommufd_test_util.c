// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "iommufd_test_util.h"
#include "util/loop.h"

struct vfio_uctx itest_ctx;
uint32_t itest_wb_hi;

static struct uvfio_mem_seg segs[8];
static unsigned int nsegs;
static int attached[8];
static unsigned int nattached;
static struct uvfio_ioctl_fd fds[8];
static unsigned int nfds;

void itest_setup(void)
{
	assert_int_equal(uvfio_loop_init(), 0);
	itest_ctx.pid = getpid();
	itest_ctx.uid = getuid();
	itest_ctx.gid = getgid();
	itest_ctx.mm = vfio_mm_attach(itest_ctx.pid, getuid(), -1, NULL,
				      open("/proc/self/mem", O_RDWR | O_CLOEXEC));
	assert_non_null(itest_ctx.mm);
	itest_seg_reset();
}

void itest_teardown(void)
{
	vfio_file_release_all();
	assert_int_equal(vfio_file_count(), 0);
	assert_int_equal(itest_ctx.mm->locked_vm, 0);
	assert_int_equal(iopt_user_locked_pages(itest_ctx.uid), 0);
	vfio_mm_put(itest_ctx.mm);
	uvfio_loop_fini();
}

struct vfio_file *itest_open(void)
{
	struct vfio_file *f = NULL;

	assert_int_equal(iommufd_fops_open(&itest_ctx, &f), 0);
	assert_non_null(f);
	assert_non_null(iommufd_ctx_from_file(f));
	return f;
}

void itest_close(struct vfio_file *f)
{
	vfio_file_abort(f);
}

struct iommufd_ctx *itest_ictx(struct vfio_file *f)
{
	return iommufd_ctx_from_file(f);
}

void itest_seg_reset(void)
{
	memset(segs, 0, sizeof(segs));
	nsegs = 0;
	nattached = 0;
	nfds = 0;
}

void itest_seg(void *p, uint64_t len, uint32_t flags)
{
	assert_true(nsegs < 8);
	segs[nsegs++] = (struct uvfio_mem_seg){ .vaddr = (uintptr_t)p, .len = len,
						.attached = -1, .flags = flags };
}

void itest_seg_memfd(void *p, uint64_t len, int fd, uint64_t file_off)
{
	assert_true(nsegs < 8 && nattached < 8);
	attached[nattached] = fd;
	segs[nsegs++] = (struct uvfio_mem_seg){
		.vaddr = (uintptr_t)p, .len = len, .file_offset = file_off,
		.attached = (int32_t)nattached++,
		.flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE | UVFIO_SEG_SHARED,
	};
}

void itest_fd(int32_t user_fd, int fd)
{
	assert_true(nfds < 8);
	if (fd < 0) {
		fds[nfds++] = (struct uvfio_ioctl_fd){ .user_fd = user_fd, .attached = -1 };
		return;
	}
	assert_true(nattached < 8);
	attached[nattached] = fd;
	fds[nfds++] = (struct uvfio_ioctl_fd){ .user_fd = user_fd,
					       .attached = (int32_t)nattached++ };
}

long itest_ioctl_flags(struct vfio_file *f, unsigned int cmd, void *arg, size_t len,
		       uint32_t msg_flags)
{
	uint8_t *wb = calloc(1, len ? len : 1);
	struct vfio_uarg ua;
	long ret;

	assert_non_null(wb);
	memset(&ua, 0, sizeof(ua));
	if (len)
		memcpy(wb, arg, len);
	ua.ctx = &itest_ctx;
	ua.msg.flags = msg_flags;
	ua.msg.arg = arg;
	ua.msg.arg_len = (uint32_t)len;
	ua.msg.segs = segs;
	ua.msg.nsegs = nsegs;
	ua.msg.fds = fds;
	ua.msg.nfds = nfds;
	ua.attached = attached;
	ua.nattached = nattached;
	ua.wb = wb;
	ret = f->ops->ioctl(f, cmd, &ua);
	assert_true(ua.wb_hi <= len);
	if (ua.wb_hi > ua.wb_lo)
		memcpy((uint8_t *)arg + ua.wb_lo, wb + ua.wb_lo, ua.wb_hi - ua.wb_lo);
	itest_wb_hi = ua.wb_hi;
	free(wb);
	return ret;
}

long itest_ioctl(struct vfio_file *f, unsigned int cmd, void *arg, size_t len)
{
	return itest_ioctl_flags(f, cmd, arg, len, 0);
}

long itest_ioctl_val(struct vfio_file *f, unsigned int cmd, unsigned long value)
{
	struct vfio_uarg ua;

	memset(&ua, 0, sizeof(ua));
	ua.ctx = &itest_ctx;
	ua.value = value;
	return f->ops->ioctl(f, cmd, &ua);
}

void *itest_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

void *itest_memfd(size_t len, int *fd)
{
	void *p;

	*fd = memfd_create("iommufd-test", 0);
	assert_true(*fd >= 0);
	assert_int_equal(ftruncate(*fd, (off_t)len), 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

uint32_t itest_ioas_alloc(struct vfio_file *f)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &a, sizeof(a)), 0);
	assert_int_not_equal(a.out_ioas_id, 0);
	return a.out_ioas_id;
}

long itest_map(struct vfio_file *f, uint32_t ioas, uint32_t flags, void *va, uint64_t len,
	       uint64_t *iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .flags = flags, .ioas_id = ioas,
		.user_va = (uintptr_t)va, .length = len, .iova = *iova,
	};
	long ret;

	itest_seg_reset();
	itest_seg(va, len, UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE);
	ret = itest_ioctl(f, IOMMU_IOAS_MAP, &m, sizeof(m));
	*iova = m.iova;
	return ret;
}

long itest_unmap(struct vfio_file *f, uint32_t ioas, uint64_t iova, uint64_t *len)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova,
				      .length = *len };
	long ret = itest_ioctl(f, IOMMU_IOAS_UNMAP, &u, sizeof(u));

	*len = u.length;
	return ret;
}

long itest_destroy(struct vfio_file *f, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return itest_ioctl(f, IOMMU_DESTROY, &d, sizeof(d));
}

long itest_ranges(struct vfio_file *f, uint32_t ioas, struct iommu_iova_range *r,
		  uint32_t max, uint32_t *num, uint64_t *align)
{
	struct iommu_ioas_iova_ranges c = {
		.size = sizeof(c), .ioas_id = ioas, .num_iovas = max,
		.allowed_iovas = (uintptr_t)r,
	};
	long ret = itest_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &c, sizeof(c));

	*num = c.num_iovas;
	*align = c.out_iova_alignment;
	return ret;
}

void itest_dev_init(struct host_device *d, const char *name, struct iommu_group *g)
{
	memset(d, 0, sizeof(*d));
	strncpy(d->name, name, sizeof(d->name) - 1);
	iommu_group_add_device(g, d);
}

void itest_dev_fini(struct host_device *d)
{
	iommu_group_remove_device(d);
}
