// SPDX-License-Identifier: MIT
/*
 * /dev/iommu through the whole stack, against the kernel's iommufd ABI:
 * lifetime by file, the size rules, the object table, IOAS ioctls, HWPTs,
 * hardware info, exact dirty tracking, options, and the VFIO compatibility
 * (type1 ioctls on /dev/iommu, a group whose "container" is an iommufd).
 */
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "iommufd_util.h"

#define PG 4096ULL

static void test_lifetime(void)
{
	struct iommu_ioas_iova_ranges r = { .size = sizeof(r) };
	int fd = open("/dev/iommu", O_RDWR), d, ioas, st;
	pid_t pid;

	REQUIRE(fd >= 0, "open /dev/iommu: %s", strerror(errno));
	ioas = ioas_alloc(fd);
	CHECK(ioas > 0, "IOAS_ALLOC: %s", strerror(errno));
	/* A dup and a forked child share the context. */
	d = dup(fd);
	r.ioas_id = (uint32_t)ioas;
	CHECK(ioctl(d, IOMMU_IOAS_IOVA_RANGES, &r) == 0 || errno == EMSGSIZE,
	      "the IOAS is visible through a dup");
	pid = fork();
	if (pid == 0)
		_exit(iommufd_destroy(fd, (uint32_t)ioas) == 0 ? 0 : 1);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child destroys it");
	CHECK_ERR(iommufd_destroy(d, (uint32_t)ioas), ENOENT);
	close(fd);
	/* Passed to another process over SCM_RIGHTS: the same context. */
	int sv[2];

	REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
	ioas = ioas_alloc(d);
	pid = fork();
	if (pid == 0) {
		char c;
		struct iovec iov = { .iov_base = &c, .iov_len = 1 };
		union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		int got;

		if (recvmsg(sv[1], &mh, 0) != 1 || !CMSG_FIRSTHDR(&mh))
			_exit(2);
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(got));
		_exit(iommufd_destroy(got, (uint32_t)ioas) == 0 ? 0 : 1);
	}
	CHECK(send_with_fd(sv[0], "x", 1, d) == 0, "send the iommufd");
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the receiver destroys our IOAS");
	CHECK_ERR(iommufd_destroy(d, (uint32_t)ioas), ENOENT);
	close(sv[0]);
	close(sv[1]);
	/* Still open through the dup. */
	CHECK(ioas_alloc(d) > 0, "the context lives while a reference does");
	close(d);
	/* Each open is a new context with its own IDs. */
	fd = open("/dev/iommu", O_RDWR);
	CHECK_ERR(iommufd_destroy(fd, 2), ENOENT);
	close(fd);
}

static void test_size_rules(void)
{
	struct {
		struct iommu_ioas_alloc cmd;
		uint8_t tail[32];
	} big;
	struct iommu_ioas_alloc a = { .size = 4 };
	int fd = open("/dev/iommu", O_RDWR);

	REQUIRE(fd >= 0, "open");
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &a), EINVAL);		/* too short */
	memset(&big, 0, sizeof(big));
	big.cmd.size = sizeof(big);
	CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &big) == 0 && big.cmd.out_ioas_id > 0,
	      "a longer struct with a zero tail: %s", strerror(errno));
	big.tail[31] = 1;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &big), E2BIG);
	a.size = sizeof(a);
	a.flags = 1;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &a), EOPNOTSUPP);
	CHECK_ERR(ioctl(fd, _IO(IOMMUFD_TYPE, 0xf0), &a), ENOTTY);
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, (void *)16), EFAULT);
	CHECK_ERR(iommufd_destroy(fd, 0), ENOENT);
	CHECK_ERR(iommufd_destroy(fd, 12345), ENOENT);
	close(fd);
}

static void test_ioas(void)
{
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges r = { .size = sizeof(r) };
	struct iommu_ioas_map m = { .size = sizeof(m) };
	struct iommu_ioas_copy c = { .size = sizeof(c) };
	int fd = open("/dev/iommu", O_RDWR), mfd = memfd_create("ioas", 0);
	uint8_t *mem = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	int ioas, ioas2;

	REQUIRE(fd >= 0 && mfd >= 0 && mem != MAP_FAILED && ftruncate(mfd, 4 * PG) == 0, "setup");
	ioas = ioas_alloc(fd);
	ioas2 = ioas_alloc(fd);
	REQUIRE(ioas > 0 && ioas2 > 0 && ioas != ioas2, "two IOASes");

	/* IOVA_RANGES: too small an array gives the count needed. */
	r.ioas_id = (uint32_t)ioas;
	r.num_iovas = 0;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r), EMSGSIZE);
	CHECK(r.num_iovas >= 1, "num_iovas says how many (%u)", r.num_iovas);
	r.num_iovas = 8;
	r.allowed_iovas = (uintptr_t)ranges;
	CHECK_OK(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r));
	/* Byte granular until a domain (a device's table) joins, as in Linux. */
	CHECK(r.out_iova_alignment == 1, "alignment %llu", (unsigned long long)r.out_iova_alignment);
	r.ioas_id = 999;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r), ENOENT);

	/* MAP: fixed, overlap, allocated IOVA, flags. */
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, mem, 4 * PG, 0x100000, MAP_RW));
	CHECK_ERR(ioas_map(fd, (uint32_t)ioas, mem, PG, 0x102000, MAP_RW), EEXIST);
	CHECK_ERR(ioas_map(fd, 999, mem, PG, 0x200000, MAP_RW), ENOENT);
	m.ioas_id = (uint32_t)ioas;
	m.flags = 1 << 5;
	m.user_va = (uintptr_t)mem;
	m.length = PG;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_MAP, &m), EOPNOTSUPP);
	m.flags = MAP_RW;
	m.iova = 0;
	CHECK_OK(ioctl(fd, IOMMU_IOAS_MAP, &m));
	CHECK(m.iova % PG == 0 && (m.iova + PG <= 0x100000 || m.iova >= 0x104000),
	      "an allocated IOVA (0x%llx) avoids the existing area", (unsigned long long)m.iova);

	/* UNMAP: no splitting an area, nothing there, everything. */
	CHECK_ERR(ioas_unmap(fd, (uint32_t)ioas, 0x101000, PG), ENOENT);
	CHECK_ERR(ioas_unmap(fd, (uint32_t)ioas, 0x40000000, PG), ENOENT);
	CHECK(ioas_unmap(fd, (uint32_t)ioas, 0x100000, 4 * PG) == (long long)(4 * PG),
	      "unmap one area");
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, mem, 2 * PG, 0x100000, MAP_RW));
	CHECK(ioas_unmap(fd, (uint32_t)ioas, 0, UINT64_MAX) == (long long)(3 * PG),
	      "0..U64_MAX unmaps everything");

	/* MAP_FILE of a memfd, COPY to the second IOAS. */
	struct iommu_ioas_map_file mf = {
		.size = sizeof(mf), .flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = (uint32_t)ioas, .fd = mfd, .start = 0, .length = 4 * PG,
		.iova = 0x300000,
	};
	CHECK(ioctl(fd, IOMMU_IOAS_MAP_FILE, &mf) == 0, "MAP_FILE: %s", strerror(errno));
	mf.fd = -1;
	mf.iova = 0x400000;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_MAP_FILE, &mf), EBADF);
	c.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA;
	c.src_ioas_id = (uint32_t)ioas;
	c.dst_ioas_id = (uint32_t)ioas2;
	c.src_iova = 0x300000;
	c.dst_iova = 0x500000;
	c.length = 4 * PG;
	CHECK(ioctl(fd, IOMMU_IOAS_COPY, &c) == 0, "COPY: %s", strerror(errno));
	c.src_iova = 0x700000;
	c.dst_iova = 0x900000;
	CHECK_ERR(ioctl(fd, IOMMU_IOAS_COPY, &c), ENOENT);
	CHECK(ioas_unmap(fd, (uint32_t)ioas2, 0x500000, 4 * PG) == (long long)(4 * PG),
	      "unmap the copy");

	/* The context's last close frees everything it held. */
	close(fd);
	close(mfd);
	munmap(mem, 16 * PG);
}

static void test_options_and_compat_ioas(void)
{
	struct iommu_option o = { .size = sizeof(o) };
	struct iommu_vfio_ioas v = { .size = sizeof(v) };
	int fd = open("/dev/iommu", O_RDWR), ioas;

	REQUIRE(fd >= 0, "open");
	ioas = ioas_alloc(fd);
	o.option_id = IOMMU_OPTION_RLIMIT_MODE;
	o.op = IOMMU_OPTION_OP_GET;
	CHECK(ioctl(fd, IOMMU_OPTION, &o) == 0 && o.val64 == 0, "RLIMIT_MODE is per user");
	o.option_id = IOMMU_OPTION_HUGE_PAGES;
	o.object_id = (uint32_t)ioas;
	CHECK(ioctl(fd, IOMMU_OPTION, &o) == 0 && o.val64 == 1, "HUGE_PAGES on by default");
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 0;
	CHECK_OK(ioctl(fd, IOMMU_OPTION, &o));
	o.val64 = 2;
	CHECK_ERR(ioctl(fd, IOMMU_OPTION, &o), EINVAL);
	o.option_id = 77;
	CHECK_ERR(ioctl(fd, IOMMU_OPTION, &o), EOPNOTSUPP);

	v.op = IOMMU_VFIO_IOAS_GET;
	CHECK_ERR(ioctl(fd, IOMMU_VFIO_IOAS, &v), ENODEV);	/* no compat IOAS yet */
	v.op = IOMMU_VFIO_IOAS_SET;
	v.ioas_id = (uint32_t)ioas;
	CHECK_OK(ioctl(fd, IOMMU_VFIO_IOAS, &v));
	v.op = IOMMU_VFIO_IOAS_GET;
	v.ioas_id = 0;
	CHECK(ioctl(fd, IOMMU_VFIO_IOAS, &v) == 0 && v.ioas_id == (uint32_t)ioas, "GET");
	v.op = IOMMU_VFIO_IOAS_CLEAR;
	CHECK_OK(ioctl(fd, IOMMU_VFIO_IOAS, &v));
	v.op = 9;
	CHECK_ERR(ioctl(fd, IOMMU_VFIO_IOAS, &v), EOPNOTSUPP);
	close(fd);
}

/* HWPT_ALLOC, GET_HW_INFO and dirty tracking that reports exactly the pages
 * the device wrote. */
static void test_hwpt_dirty(void)
{
	struct iommu_hwpt_alloc h = { .size = sizeof(h) };
	struct iommu_hw_info hi = { .size = sizeof(hi) };
	struct iommu_hwpt_set_dirty_tracking dt = { .size = sizeof(dt) };
	struct iommu_hwpt_get_dirty_bitmap gb = { .size = sizeof(gb) };
	int fd = open("/dev/iommu", O_RDWR), dev = open_cdev(EDU_BDF), devid, ioas;
	uint8_t *mem = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	uint64_t bitmap[1];

	REQUIRE(fd >= 0 && dev >= 0 && mem != MAP_FAILED, "setup");
	devid = bind_iommufd(dev, fd);
	REQUIRE(devid > 0, "bind: %s", strerror(errno));
	ioas = ioas_alloc(fd);
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, mem, 16 * PG, 0x1000000, MAP_RW));
	struct iommu_ioas_iova_ranges r = { .size = sizeof(r), .ioas_id = (uint32_t)ioas };

	hi.dev_id = (uint32_t)devid;
	CHECK(ioctl(fd, IOMMU_GET_HW_INFO, &hi) == 0, "GET_HW_INFO: %s", strerror(errno));
	CHECK(hi.out_data_type == IOMMU_HW_INFO_TYPE_NONE, "a software IOMMU: no hw data");
	CHECK(hi.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING, "dirty tracking offered");
	hi.dev_id = (uint32_t)ioas;
	CHECK_ERR(ioctl(fd, IOMMU_GET_HW_INFO, &hi), ENOENT);	/* not a device */

	h.dev_id = (uint32_t)devid;
	h.pt_id = (uint32_t)ioas;
	h.data_type = IOMMU_HWPT_DATA_VTD_S1;
	CHECK_ERR(ioctl(fd, IOMMU_HWPT_ALLOC, &h), EINVAL);	/* a type without data */
	struct iommu_hwpt_vtd_s1 s1 = { 0 };

	h.data_len = sizeof(s1);
	h.data_uptr = (uintptr_t)&s1;
	CHECK_ERR(ioctl(fd, IOMMU_HWPT_ALLOC, &h), EOPNOTSUPP);	/* driver data: nesting */
	h.data_type = IOMMU_HWPT_DATA_NONE;
	h.data_len = 0;
	h.data_uptr = 0;
	h.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	CHECK(ioctl(fd, IOMMU_HWPT_ALLOC, &h) == 0, "HWPT_ALLOC: %s", strerror(errno));
	CHECK((uint32_t)attach_pt(dev, h.out_hwpt_id) == h.out_hwpt_id, "attach to the HWPT");
	CHECK(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r) == 0 || errno == EMSGSIZE, "IOVA_RANGES");
	CHECK(r.out_iova_alignment == PG, "page granular once a device's table joined");
	CHECK_ERR(iommufd_destroy(fd, h.out_hwpt_id), EBUSY);

	dt.hwpt_id = h.out_hwpt_id;
	dt.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	CHECK_OK(ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &dt));
	enable_device(dev);
	/* The device writes pages 3 and 9; it only reads page 0. */
	edu_dma(dev, 0x1000000, EDU_BUF, PG, 0);
	edu_dma(dev, EDU_BUF, 0x1000000 + 3 * PG, PG, 1);
	edu_dma(dev, EDU_BUF, 0x1000000 + 9 * PG, 64, 1);

	gb.hwpt_id = h.out_hwpt_id;
	gb.iova = 0x1000000;
	gb.length = 16 * PG;
	gb.page_size = PG;
	gb.data = (uintptr_t)bitmap;
	gb.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	bitmap[0] = 0;
	CHECK_OK(ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb));
	CHECK(bitmap[0] == ((1ULL << 3) | (1ULL << 9)), "dirty pages 3 and 9 exactly: 0x%llx",
	      (unsigned long long)bitmap[0]);
	gb.flags = 0;
	bitmap[0] = 0;
	CHECK_OK(ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb));
	CHECK(bitmap[0] == ((1ULL << 3) | (1ULL << 9)), "still there without NO_CLEAR");
	bitmap[0] = 0;
	CHECK_OK(ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb));
	CHECK(bitmap[0] == 0, "cleared by the previous read: 0x%llx",
	      (unsigned long long)bitmap[0]);
	gb.page_size = 0;
	CHECK_ERR(ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), EINVAL);
	gb.page_size = PG;
	gb.iova = 0x1000000 + 0x800;
	CHECK_ERR(ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), EINVAL);	/* unaligned */

	close(dev);
	CHECK_OK(iommufd_destroy(fd, h.out_hwpt_id));
	close(fd);
	munmap(mem, 16 * PG);
}

/* The group path with /dev/iommu as its container. */
static void test_vfio_compat(void)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct iommu_vfio_ioas v = { .size = sizeof(v), .op = IOMMU_VFIO_IOAS_GET };
	int fd = open("/dev/iommu", O_RDWR), group = open_group(EDU_GROUP), dev;
	uint8_t *mem = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);

	REQUIRE(fd >= 0 && group >= 0 && mem != MAP_FAILED, "setup");
	CHECK(ioctl(fd, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "API version");
	CHECK(ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1, "TYPE1v2");
	CHECK(ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) == 1, "UNMAP_ALL");
	CHECK(ioctl(fd, VFIO_GROUP_GET_STATUS, &gs) == -1, "group ioctls are not iommufd's");
	CHECK_OK(ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd));
	CHECK_OK(ioctl(group, VFIO_GROUP_GET_STATUS, &gs));
	CHECK(gs.flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET), "status");
	CHECK_ERR(ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd), EINVAL);
	CHECK_OK(ioctl(fd, VFIO_IOMMU_MAP_DMA, &(struct vfio_iommu_type1_dma_map){
		.argsz = sizeof(struct vfio_iommu_type1_dma_map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)mem, .iova = 0x2000000, .size = 2 * PG }));
	CHECK(ioctl(fd, IOMMU_VFIO_IOAS, &v) == 0 && v.ioas_id > 0, "the compat IOAS exists");

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF);
	REQUIRE(dev >= 0, "GET_DEVICE_FD through an iommufd container: %s", strerror(errno));
	enable_device(dev);
	memset(mem, 0x5a, PG);
	memset(mem + PG, 0, PG);
	edu_dma(dev, 0x2000000, EDU_BUF, PG, 0);
	edu_dma(dev, EDU_BUF, 0x2000000 + PG, PG, 1);
	CHECK(!memcmp(mem, mem + PG, PG), "DMA through the compat IOAS");
	/* The cdev of a group-opened device cannot bind. */
	int cdev = open_cdev(EDU_BDF);

	CHECK_ERR(bind_iommufd(cdev, fd), EBUSY);
	close(cdev);
	CHECK(unmap_dma(fd, 0x2000000, 2 * PG, 0) == (long long)(2 * PG), "compat UNMAP_DMA");
	close(dev);
	CHECK_OK(ioctl(group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_ERR(ioctl(group, VFIO_GROUP_UNSET_CONTAINER), EINVAL);
	close(group);
	close(fd);
	munmap(mem, 2 * PG);
}

/* Pinned pages count against RLIMIT_MEMLOCK once a device's table maps
 * them (per user by default), like the kernel's iommufd. */
static void memlock_child(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cd[2];
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	uint8_t *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	int fd, dev, ioas;

	/* Before the first call: the daemon reads our capabilities then. */
	REQUIRE(syscall(SYS_capget, &h, cd) == 0, "capget");
	cd[0].effective &= ~(1u << CAP_IPC_LOCK);
	cd[0].permitted &= ~(1u << CAP_IPC_LOCK);
	REQUIRE(syscall(SYS_capset, &h, cd) == 0, "capset");
	REQUIRE(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	fd = open("/dev/iommu", O_RDWR);
	dev = open_cdev(EDU_BDF);
	REQUIRE(fd >= 0 && dev >= 0 && bind_iommufd(dev, fd) > 0, "bind");
	ioas = ioas_alloc(fd);
	REQUIRE(attach_pt(dev, (uint32_t)ioas) > 0, "attach");
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, buf, 32 * 1024, 0x100000, MAP_RW));
	CHECK_ERR(ioas_map(fd, (uint32_t)ioas, buf + 32 * 1024, 64 * 1024, 0x200000, MAP_RW),
		  ENOMEM);
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, buf + 32 * 1024, 32 * 1024, 0x200000, MAP_RW));
	CHECK(ioas_unmap(fd, (uint32_t)ioas, 0x100000, 32 * 1024) == 32 * 1024, "unmap");
	CHECK_OK(ioas_map(fd, (uint32_t)ioas, buf + 64 * 1024, 32 * 1024, 0x300000, MAP_RW));
	close(dev);
	close(fd);
}

/* false when it could not run: dropping CAP_IPC_LOCK needs root. */
static bool test_accounting(void)
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		printf("test_iommufd: accounting needs root to drop CAP_IPC_LOCK: not run\n");
		return false;
	}
	pid = fork();
	if (pid == 0) {
		memlock_child();
		_exit(harness_failed ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "RLIMIT_MEMLOCK accounting");
	return true;
}

int main(void)
{
	bool ran_all;

	test_lifetime();
	test_size_rules();
	test_ioas();
	test_options_and_compat_ioas();
	test_hwpt_dirty();
	test_vfio_compat();
	ran_all = test_accounting();
	/* Not all of it ran: a skip (77), not a pass, unless something failed. */
	return harness_done("test_iommufd") ?: (ran_all ? 0 : 77);
}
