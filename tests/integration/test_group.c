// SPDX-License-Identifier: MIT
/* Group (/dev/vfio/$GROUP) rules, each errno as Linux. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vfio_util.h"

static uint32_t group_flags(int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	CHECK_OK(ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	return st.flags;
}

static void test_open(void)
{
	struct stat st;
	int g = open_group(EDU_GROUP);

	REQUIRE(g >= 0, "open group: %s", strerror(errno));
	CHECK_ERR(open_group(EDU_GROUP), EBUSY);
	CHECK_ERR(open_group(99), ENOENT);
	CHECK(stat("/dev/vfio/10", &st) == 0 && S_ISCHR(st.st_mode), "group node is a chardev");
	CHECK(stat("/dev/vfio/vfio", &st) == 0 && S_ISCHR(st.st_mode) &&
	      (st.st_mode & 0777) == 0666, "container node is open to all");
	close(g);
	/* Released by close: it opens again at once. */
	g = open_group(EDU_GROUP);
	CHECK(g >= 0, "reopen after close: %s", strerror(errno));
	close(g);
}

static void test_status_and_container(void)
{
	struct vfio_group_status st = { .argsz = 4 };
	int c = open("/dev/vfio/vfio", O_RDWR), g = open_group(EDU_GROUP);
	int bad = 1000, efd = eventfd(0, 0), c2 = open("/dev/vfio/vfio", O_RDWR);

	REQUIRE(c >= 0 && g >= 0 && efd >= 0, "setup");
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_STATUS, &st), EINVAL);
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_STATUS, NULL), EFAULT);
	CHECK(group_flags(g) == VFIO_GROUP_FLAGS_VIABLE, "viable, no container");

	CHECK_ERR(ioctl(g, VFIO_GROUP_UNSET_CONTAINER), EINVAL);
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, &bad), EBADF);
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, &efd), EBADFD);
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, NULL), EFAULT);
	/* A group fd is not a container either. */
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, &g), EBADFD);
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF), EINVAL);

	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK(group_flags(g) == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
	      "container set");
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c2), EINVAL);
	/* Container set but no IOMMU model yet. */
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF), EINVAL);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:10:07.0"), ENODEV);
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, RAM_BDF0), ENODEV);
	CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NULL), EFAULT);
	{
		char *longname = malloc(8192);

		memset(longname, 'a', 8191);
		longname[8191] = 0;
		CHECK_ERR(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, longname), EINVAL);
		free(longname);
	}
	CHECK_ERR(ioctl(g, _IO(VFIO_TYPE, VFIO_BASE + 50)), ENOTTY);

	int d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF);

	CHECK(d >= 0, "device fd: %s", strerror(errno));
	CHECK(fcntl(d, F_GETFD) & FD_CLOEXEC, "device fds are close-on-exec");
	/* The group path may open the same device again. */
	int d2 = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF);

	CHECK(d2 >= 0, "second device fd: %s", strerror(errno));
	CHECK_ERR(ioctl(g, VFIO_GROUP_UNSET_CONTAINER), EBUSY);
	close(d);
	CHECK_ERR(ioctl(g, VFIO_GROUP_UNSET_CONTAINER), EBUSY);
	close(d2);
	CHECK_OK(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	CHECK(group_flags(g) == VFIO_GROUP_FLAGS_VIABLE, "container unset");
	close(g);
	close(c);
	close(c2);
	close(efd);
}

/* Group 12 holds a device driven by a host driver: not viable. */
static void test_not_viable(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR), g = open_group(SHARED_GROUP);

	REQUIRE(c >= 0 && g >= 0, "setup: %s", strerror(errno));
	CHECK(group_flags(g) == 0, "not viable");
	CHECK_ERR(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c), EPERM);
	close(g);
	close(c);
}

/* Files released in any order: device, group and container. */
static void test_close_orders(void)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};

	for (int i = 0; i < 6; i++) {
		struct vfio_setup s;
		int fds[3];

		setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
		fds[0] = s.container;
		fds[1] = s.group;
		fds[2] = s.device;
		for (int k = 0; k < 3; k++)
			close(fds[orders[i][k]]);
		/* Everything released: the group opens again and is unattached. */
		int g = open_group(EDU_GROUP);

		CHECK(g >= 0, "order %d: group reopens: %s", i, strerror(errno));
		if (g >= 0) {
			CHECK(group_flags(g) == VFIO_GROUP_FLAGS_VIABLE, "order %d: clean", i);
			close(g);
		}
	}
}

/* Two groups in one container share its mappings. */
static void test_two_groups(void)
{
	struct vfio_setup s;
	int g2 = open_group(RAM_GROUP);
	char *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);
	REQUIRE(g2 >= 0, "open group 11");
	CHECK_OK(map_dma(s.container, buf, 0x100000, 4096, VFIO_DMA_MAP_FLAG_READ));
	CHECK_OK(ioctl(g2, VFIO_GROUP_SET_CONTAINER, &s.container));
	CHECK(group_flags(g2) & VFIO_GROUP_FLAGS_CONTAINER_SET, "second group attached");
	/* Detaching one of two groups keeps the container's model. */
	CHECK_OK(ioctl(s.group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_ERR(map_dma(s.container, buf, 0x100000, 4096, VFIO_DMA_MAP_FLAG_READ), EEXIST);
	close(g2);
	teardown(&s);
	munmap(buf, 4096);
}

int main(void)
{
	test_open();
	test_status_and_container();
	test_not_viable();
	test_close_orders();
	test_two_groups();
	return harness_done("group");
}
