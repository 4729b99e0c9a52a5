// SPDX-License-Identifier: MIT
/*
 * The device cdev /dev/vfio/devices/vfioN: finding it, blocked until bound,
 * BIND/ATTACH/DETACH with their errnos, exclusivity with the group path,
 * DMA and MSI through an IOAS, threads racing the bind, processes racing
 * for one device through the two paths, a bound process killed, and PCI hot
 * reset in both forms.
 */
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "iommufd_util.h"

static void test_discovery(void)
{
	char path[128], buf[64] = { 0 };
	struct stat st;
	int fd, n;

	REQUIRE(cdev_path(EDU_BDF, path, sizeof(path)) == 0, "no vfio-dev entry for " EDU_BDF);
	CHECK(stat(path, &st) == 0 && S_ISCHR(st.st_mode), "%s is a char device", path);
	n = atoi(strrchr(path, 'o') + 1);
	CHECK(major(st.st_rdev) == 241 && (int)minor(st.st_rdev) == n, "rdev 241:%d", n);
	snprintf(buf, sizeof(buf), "/sys/class/vfio-dev/vfio%d/dev", n);
	fd = open(buf, O_RDONLY);
	CHECK(fd >= 0, "%s opens", buf);
	memset(buf, 0, sizeof(buf));
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0, "read dev");
	snprintf(path, sizeof(path), "241:%d\n", n);
	CHECK(!strcmp(buf, path), "dev says %s", buf);
	close(fd);
	CHECK(stat("/dev/iommu", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10,
	      "/dev/iommu is a misc char device");
	/* A function bound to a host driver has no cdev. */
	CHECK(cdev_path(SHARED_HOST_BDF, path, sizeof(path)) != 0, "host-driven: no vfio-dev");
}

static void test_blocked_until_bound(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	uint8_t big[64] = { 0 };
	uint32_t v;
	int dev = open_cdev(EDU_BDF), iommufd = open("/dev/iommu", O_RDWR);
	int ev = eventfd(0, 0), dev2;

	REQUIRE(dev >= 0 && iommufd >= 0, "open cdev and /dev/iommu: %s", strerror(errno));
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_RESET), EINVAL);
	CHECK_ERR(pread(dev, &v, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX)), EINVAL);
	CHECK_ERR(pwrite(dev, &v, 4, REGION(0)), EINVAL);
	CHECK_ERR(read(dev, &v, 4), EINVAL);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, 0) == MAP_FAILED && errno == EINVAL,
	      "mmap before bind: %s", strerror(errno));
	CHECK_ERR(attach_pt(dev, 1), EINVAL);
	CHECK_ERR(detach_pt(dev), EINVAL);

	/* BIND's own checks */
	b.argsz = 12;
	b.iommufd = iommufd;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);	/* short */
	b.argsz = sizeof(b);
	b.flags = 2;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);	/* flags */
	b.flags = 0;
	b.iommufd = -1;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);	/* negative fd */
	b.iommufd = 1000;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EBADF);
	b.iommufd = ev;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EBADFD);	/* not an iommufd */
	memcpy(big, &b, sizeof(b));
	((struct vfio_device_bind_iommufd *)big)->argsz = sizeof(big);
	((struct vfio_device_bind_iommufd *)big)->iommufd = iommufd;
	big[60] = 1;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, big), E2BIG);	/* non-zero tail */
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, (void *)8), EFAULT);
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_GET_INFO, &info), EINVAL);	/* still blocked */

	big[60] = 0;
	CHECK(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, big) == 0, "bind with a zero tail: %s",
	      strerror(errno));
	CHECK(((struct vfio_device_bind_iommufd *)big)->out_devid > 0, "devid");
	CHECK_OK(ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	CHECK(info.flags & VFIO_DEVICE_FLAGS_CDEV, "GET_INFO says CDEV");
	CHECK(info.num_regions == 9 && info.num_irqs == 5, "regions and irqs");
	CHECK(pread(dev, &v, 4, REGION(VFIO_PCI_CONFIG_REGION_INDEX)) == 4 && v == 0x11e81234,
	      "config readable once bound");
	/* Bound stays bound: a second bind fails, so does one on another open. */
	CHECK_ERR(bind_iommufd(dev, iommufd), EINVAL);
	dev2 = open_cdev(EDU_BDF);
	CHECK(dev2 >= 0, "a second open of the cdev is allowed");
	CHECK_ERR(bind_iommufd(dev2, iommufd), EINVAL);
	CHECK_ERR(ioctl(dev2, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	close(dev2);
	close(dev);
	/* Closing unbound: a new open binds again. */
	dev = open_cdev(EDU_BDF);
	CHECK(bind_iommufd(dev, iommufd) > 0, "bind after close: %s", strerror(errno));
	close(dev);
	close(iommufd);
	close(ev);
}

static void test_exclusivity(void)
{
	struct vfio_setup s;
	int iommufd = open("/dev/iommu", O_RDWR), ictx2 = open("/dev/iommu", O_RDWR);
	int dev = open_cdev(EDU_BDF), a, b, group;

	REQUIRE(dev >= 0 && iommufd >= 0 && ictx2 >= 0, "open");
	/* Opening the cdev claims nothing: the group still opens. */
	group = open_group(EDU_GROUP);
	CHECK(group >= 0, "group opens while the cdev is only open");
	/* ... and while the group is open, the cdev cannot bind. */
	CHECK_ERR(bind_iommufd(dev, iommufd), EBUSY);
	close(group);
	CHECK(bind_iommufd(dev, iommufd) > 0, "bind once the group closed: %s", strerror(errno));
	CHECK_ERR(open_group(EDU_GROUP), EBUSY);
	close(dev);
	group = open_group(EDU_GROUP);
	CHECK(group >= 0, "group opens once the cdev closed: %s", strerror(errno));
	close(group);

	/* A device fd from the group path cannot bind. */
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	CHECK_ERR(bind_iommufd(s.device, iommufd), EINVAL);
	/* The program closed the group, but the open device holds the group
	 * file as in the kernel: the group is still open for the cdev. */
	close(s.group);
	dev = open_cdev(EDU_BDF);
	CHECK_ERR(bind_iommufd(dev, iommufd), EBUSY);
	close(s.device);
	close(s.container);
	CHECK(bind_iommufd(dev, iommufd) > 0, "bind once the group path let go");
	close(dev);

	/* Both functions of group 11 must use one iommufd. */
	a = open_cdev(RAM_BDF0);
	b = open_cdev(RAM_BDF1);
	REQUIRE(a >= 0 && b >= 0, "open ramdev cdevs");
	CHECK(bind_iommufd(a, iommufd) > 0, "bind 10:01.0");
	CHECK_ERR(bind_iommufd(b, ictx2), EPERM);
	CHECK(bind_iommufd(b, iommufd) > 0, "bind 10:01.1 to the same iommufd");
	CHECK_ERR(open_group(RAM_GROUP), EBUSY);
	close(a);
	CHECK_ERR(open_group(RAM_GROUP), EBUSY);
	close(b);
	group = open_group(RAM_GROUP);
	CHECK(group >= 0, "group 11 opens once both cdevs closed");
	close(group);

	/* A group not viable: a host driver holds 10:02.1. */
	dev = open_cdev(SHARED_VFIO_BDF);
	CHECK(dev >= 0, "open 10:02.0's cdev");
	CHECK_ERR(bind_iommufd(dev, iommufd), EPERM);
	close(dev);
	close(iommufd);
	close(ictx2);
}

static void test_attach_dma_msi(void)
{
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	int iommufd = open("/dev/iommu", O_RDWR), dev = open_cdev(EDU_BDF);
	uint8_t *mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	int ioas, ioas2, hwpt, ev = eventfd(0, 0);

	REQUIRE(dev >= 0 && iommufd >= 0 && mem != MAP_FAILED, "setup");
	REQUIRE(bind_iommufd(dev, iommufd) > 0, "bind: %s", strerror(errno));
	ioas = ioas_alloc(iommufd);
	ioas2 = ioas_alloc(iommufd);
	REQUIRE(ioas > 0 && ioas2 > 0, "IOAS_ALLOC: %s", strerror(errno));

	at.argsz = 8;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), EINVAL);
	at.argsz = sizeof(at);
	at.flags = 4;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), EINVAL);
	at.flags = VFIO_DEVICE_ATTACH_PASID;
	at.pt_id = (uint32_t)ioas;
	CHECK_ERR(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), EOPNOTSUPP);
	CHECK_ERR(attach_pt(dev, 9999), ENOENT);

	enable_device(dev);
	for (int i = 0; i < 4096; i++)
		mem[i] = (uint8_t)(i * 7);
	memset(mem + 4096, 0, 4096);
	CHECK_OK(ioas_map(iommufd, ioas, mem, 8192, 0x100000, MAP_RW));
	/* Not attached yet: the IOMMU blocks the device. */
	edu_dma(dev, 0x100000, EDU_BUF, 4096, 0);
	edu_dma(dev, EDU_BUF, 0x101000, 4096, 1);
	CHECK(mem[4096 + 1] == 0, "no DMA before attach");

	hwpt = attach_pt(dev, (uint32_t)ioas);
	CHECK(hwpt > 0 && hwpt != ioas, "attach to an IOAS gives its HWPT (%d)", hwpt);
	edu_dma(dev, 0x100000, EDU_BUF, 4096, 0);
	edu_dma(dev, EDU_BUF, 0x101000, 4096, 1);
	CHECK(!memcmp(mem, mem + 4096, 4096), "DMA round trip through the IOAS");
	/* The auto HWPT is in use: neither it nor its IOAS can be destroyed. */
	CHECK_ERR(iommufd_destroy(iommufd, (uint32_t)hwpt), EBUSY);
	CHECK_ERR(iommufd_destroy(iommufd, (uint32_t)ioas), EBUSY);

	/* Attaching again replaces the table: ioas2 maps nothing. */
	CHECK(attach_pt(dev, (uint32_t)ioas2) > 0, "replace: %s", strerror(errno));
	memset(mem + 4096, 0, 4096);
	edu_dma(dev, EDU_BUF, 0x101000, 4096, 1);
	CHECK(mem[4096 + 1] == 0, "the replaced table's mappings are gone for the device");
	CHECK(attach_pt(dev, (uint32_t)ioas) > 0, "back to the first IOAS");

	/* MSI on completion of a factorial. */
	CHECK_OK(set_irq_eventfds(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &ev));
	wr32(dev, EDU(0x20), 0x80);
	wr32(dev, EDU(0x08), 6);
	CHECK(wait_eventfd(ev, 2000) == 1, "MSI after factorial");
	CHECK(rd32(dev, EDU(0x08)) == 720, "6! = 720");
	wr32(dev, EDU(0x64), 1);

	/* Detach blocks DMA again. */
	CHECK_OK(detach_pt(dev));
	CHECK_OK(detach_pt(dev));	/* detaching twice is harmless */
	memset(mem + 4096, 0, 4096);
	edu_dma(dev, EDU_BUF, 0x101000, 4096, 1);
	CHECK(mem[4096 + 1] == 0, "no DMA after detach");
	close(dev);
	close(ev);
	/* The device let go: its IOAS may go now. */
	CHECK_OK(iommufd_destroy(iommufd, (uint32_t)ioas2));
	close(iommufd);
	munmap(mem, 8192);
}

/* Threads using one cdev fd (and a dup) while another binds: each sees
 * EINVAL until the bind, success after, never anything else. */
struct racer {
	int fd;
	atomic_int *stop;
	int errors, after, flips;
};

static void *race_getinfo(void *arg)
{
	struct racer *r = arg;
	bool bound = false;

	while (!atomic_load(r->stop)) {
		struct vfio_device_info info = { .argsz = sizeof(info) };
		int ret = ioctl(r->fd, VFIO_DEVICE_GET_INFO, &info);

		if (ret == 0) {
			if (info.num_regions != 9)
				r->errors++;
			bound = true;
			__atomic_fetch_add(&r->after, 1, __ATOMIC_RELAXED);
		} else if (errno != EINVAL || bound) {
			/* an odd errno, or blocked again after bound */
			r->flips++;
		}
	}
	return NULL;
}

static void test_bind_race(void)
{
	for (int round = 0; round < 5; round++) {
		atomic_int stop = 0;
		int iommufd = open("/dev/iommu", O_RDWR), dev = open_cdev(EDU_BDF);
		int dup_fd = dup(dev);
		struct racer r[3] = { { dev, &stop }, { dup_fd, &stop }, { dev, &stop } };
		pthread_t t[3];

		REQUIRE(dev >= 0 && iommufd >= 0 && dup_fd >= 0, "open");
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, race_getinfo, &r[i]);
		usleep(2000 * (unsigned int)round);
		CHECK(bind_iommufd(dev, iommufd) > 0, "bind during the race: %s", strerror(errno));
		/* until each thread has had calls answered after the bind (a busy
		 * machine may take a while to run them all) */
		for (int ms = 0; ms < 5000; ms++) {
			bool all = true;

			for (int i = 0; i < 3; i++)
				all &= __atomic_load_n(&r[i].after, __ATOMIC_RELAXED) > 0;
			if (all && ms >= 20)
				break;
			usleep(1000);
		}
		atomic_store(&stop, 1);
		for (int i = 0; i < 3; i++) {
			pthread_join(t[i], NULL);
			CHECK(r[i].errors == 0 && r[i].flips == 0,
			      "thread %d saw a half state (%d bad, %d flips)", i, r[i].errors,
			      r[i].flips);
			CHECK(r[i].after > 0, "thread %d saw the bound state", i);
		}
		close(dup_fd);
		close(dev);
		close(iommufd);
	}
}

/* Two processes race for edu: one through its group, one through its cdev.
 * Exactly one wins each round. */
static int child_take(bool via_cdev, int go)
{
	char c;
	int fd, iommufd;

	if (read(go, &c, 1) != 1)
		return 3;
	if (via_cdev) {
		iommufd = open("/dev/iommu", O_RDWR);
		fd = open_cdev(EDU_BDF);
		if (fd < 0 || iommufd < 0)
			return 3;
		if (bind_iommufd(fd, iommufd) < 0)
			return errno == EBUSY ? 1 : 2;
	} else {
		fd = open_group(EDU_GROUP);
		if (fd < 0)
			return errno == EBUSY ? 1 : 2;
	}
	usleep(100000);	/* hold it while the other tries */
	return 0;
}

static void test_process_race(void)
{
	for (int round = 0; round < 4; round++) {
		int go[2], st[2], won = 0, lost = 0;
		pid_t pid[2];

		REQUIRE(pipe(go) == 0, "pipe");
		for (int i = 0; i < 2; i++) {
			pid[i] = fork();
			if (pid[i] == 0)
				_exit(child_take((i + round) % 2, go[0]));
		}
		CHECK(write(go[1], "xx", 2) == 2, "start");
		for (int i = 0; i < 2; i++) {
			waitpid(pid[i], &st[i], 0);
			if (WIFEXITED(st[i]) && WEXITSTATUS(st[i]) == 0)
				won++;
			else if (WIFEXITED(st[i]) && WEXITSTATUS(st[i]) == 1)
				lost++;
		}
		CHECK(won == 1 && lost == 1, "round %d: %d won, %d lost with EBUSY", round, won,
		      lost);
		close(go[0]);
		close(go[1]);
	}
}

/* A process killed while bound: the device is bindable again at once. */
static void test_killed_while_bound(void)
{
	int ready[2], iommufd, dev;
	char c;
	pid_t pid;

	REQUIRE(pipe(ready) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		int ictx = open("/dev/iommu", O_RDWR), d = open_cdev(EDU_BDF);

		if (bind_iommufd(d, ictx) < 0 || attach_pt(d, (uint32_t)ioas_alloc(ictx)) < 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1, "child bound");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	iommufd = open("/dev/iommu", O_RDWR);
	dev = open_cdev(EDU_BDF);
	CHECK(bind_iommufd(dev, iommufd) > 0, "bind right after the holder died: %s",
	      strerror(errno));
	close(dev);
	close(iommufd);
	close(ready[0]);
}

static int hot_reset_info(int dev, struct vfio_pci_hot_reset_info *info, unsigned int n)
{
	memset(info, 0, sizeof(*info) + n * sizeof(info->devices[0]));
	info->argsz = (uint32_t)(sizeof(*info) + n * sizeof(info->devices[0]));
	return ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

static int hot_reset(int dev, const int32_t *fds, unsigned int n)
{
	char buf[sizeof(struct vfio_pci_hot_reset) + 8 * sizeof(int32_t)];
	struct vfio_pci_hot_reset *r = (void *)buf;

	r->argsz = (uint32_t)(sizeof(*r) + n * sizeof(int32_t));
	r->flags = 0;
	r->count = n;
	if (n)
		memcpy(r->group_fds, fds, n * sizeof(int32_t));
	return ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, r);
}

#define RAMDEV_SCRATCH	(REGION(0) + 0x4)

static void test_hot_reset_group(void)
{
	char buf[sizeof(struct vfio_pci_hot_reset_info) + 8 * 8];
	struct vfio_pci_hot_reset_info *info = (void *)buf;
	struct vfio_setup s, edu;
	int32_t fds[3] = { -1, -1, -1 };

	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	/* Too small: ENOSPC with the count needed. */
	CHECK_ERR(hot_reset_info(s.device, info, 0), ENOSPC);
	CHECK(info->count == 2, "two functions share the slot (%u)", info->count);
	CHECK_OK(hot_reset_info(s.device, info, 8));
	CHECK(info->count == 2 && info->flags == 0, "count %u flags %u", info->count,
	      info->flags);
	CHECK(info->devices[0].group_id == RAM_GROUP && info->devices[1].group_id == RAM_GROUP,
	      "group IDs");
	CHECK(info->devices[0].bus == 0x10 && info->devices[0].devfn == (1 << 3 | 0) &&
	      info->devices[1].devfn == (1 << 3 | 1), "addresses");

	wr32(s.device, RAMDEV_SCRATCH, 0x1234);
	fds[0] = s.group;
	CHECK_ERR(hot_reset(s.device, fds, 0), EINVAL);		/* the group form needs fds */
	fds[0] = 1000;
	CHECK_ERR(hot_reset(s.device, fds, 1), EBADF);
	fds[0] = s.container;
	CHECK_ERR(hot_reset(s.device, fds, 1), EINVAL);		/* not a group */
	CHECK_ERR(hot_reset(s.device, fds, 3), EINVAL);		/* more fds than functions */
	setup_device(&edu, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);
	fds[0] = edu.group;
	CHECK_ERR(hot_reset(s.device, fds, 1), EINVAL);		/* the wrong group */
	teardown(&edu);
	fds[0] = s.group;
	CHECK_OK(hot_reset(s.device, fds, 1));
	CHECK(rd32(s.device, RAMDEV_SCRATCH) == 0, "the reset reset the function");
	teardown(&s);
}

static void test_hot_reset_cdev(void)
{
	char buf[sizeof(struct vfio_pci_hot_reset_info) + 8 * 8];
	struct vfio_pci_hot_reset_info *info = (void *)buf;
	int iommufd = open("/dev/iommu", O_RDWR);
	int a = open_cdev(RAM_BDF0), b = open_cdev(RAM_BDF1);
	int32_t fd;
	int ida, idb;

	REQUIRE(iommufd >= 0 && a >= 0 && b >= 0, "open");
	ida = bind_iommufd(a, iommufd);
	REQUIRE(ida > 0, "bind a");
	/* b unbound, but its group is owned through a: "owned". */
	CHECK_OK(hot_reset_info(a, info, 8));
	CHECK(info->count == 2, "count");
	CHECK(info->flags == (VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			      VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED), "flags 0x%x", info->flags);
	CHECK(info->devices[0].group_id == (uint32_t)ida, "devid of a");
	CHECK(info->devices[1].group_id == VFIO_PCI_DEVID_OWNED, "b owned, unbound");
	idb = bind_iommufd(b, iommufd);
	CHECK(idb > 0 && idb != ida, "bind b");
	CHECK_OK(hot_reset_info(a, info, 8));
	CHECK(info->devices[1].group_id == (uint32_t)idb, "devid of b");

	wr32(b, RAMDEV_SCRATCH, 0x55);
	fd = a;
	CHECK_ERR(hot_reset(a, &fd, 1), EINVAL);	/* cdev users pass no fds */
	CHECK_OK(hot_reset(a, NULL, 0));
	CHECK(rd32(b, RAMDEV_SCRATCH) == 0, "the slot reset reached b");
	close(a);
	close(b);
	close(iommufd);
}

int main(void)
{
	test_discovery();
	test_blocked_until_bound();
	test_exclusivity();
	test_attach_dma_msi();
	test_bind_race();
	test_process_race();
	test_killed_while_bound();
	test_hot_reset_group();
	test_hot_reset_cdev();
	return harness_done("test_cdev");
}
