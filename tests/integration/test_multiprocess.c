// SPDX-License-Identifier: MIT
/* Several processes on one daemon: exclusivity, fd passing, death. */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "vfio_util.h"

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1 || !(cm = CMSG_FIRSTHDR(&mh)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A group is held by one process at a time. */
static void test_exclusive_group(void)
{
	int g = open_group(EDU_GROUP);
	pid_t pid;

	REQUIRE(g >= 0, "open group: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(g);	/* the parent still holds it */
		int g2 = open_group(EDU_GROUP);

		_exit(g2 < 0 && errno == EBUSY ? 0 : 1);
	}
	CHECK(child_status(pid) == 0, "another process gets EBUSY");
	close(g);
	pid = fork();
	if (pid == 0)
		_exit(open_group(EDU_GROUP) >= 0 ? 0 : 1);
	CHECK(child_status(pid) == 0, "after close, another process gets it");
}

/* A device fd sent to another process keeps working there. */
static void test_fd_passing(void)
{
	struct vfio_setup s;
	int sv[2];
	pid_t pid;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int d = recv_fd(sv[1]);
		uint32_t id = 0;
		struct vfio_device_info info = { .argsz = sizeof(info) };

		if (d < 0 || pread(d, &id, 4, REGION(0)) != 4 || id != 0x010000ed)
			_exit(1);
		if (ioctl(d, VFIO_DEVICE_GET_INFO, &info) || info.num_regions != 9)
			_exit(2);
		close(d);
		_exit(0);
	}
	close(sv[1]);
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	CHECK(send_with_fd(sv[0], "d", 1, s.device) == 0, "send");
	/* Our copy goes; the child's keeps the device open. */
	close(s.device);
	s.device = -1;
	CHECK(child_status(pid) == 0, "the device works in the receiving process");
	close(sv[0]);
	teardown(&s);
}

/* A process killed in the middle of DMA releases everything at once. */
static void test_killed_mid_dma(void)
{
	int ready[2];
	pid_t pid;
	char c;

	REQUIRE(pipe(ready) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct vfio_setup s;
		uint8_t *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
		enable_device(s.device);
		map_dma(s.container, buf, 0x1000000, 1 << 20,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			uint64_t regs[4] = { 0x40000, 0x1000000, 4096, 3 };

			pwrite(s.device, &regs[0], 8, REGION(0) + 0x80);
			pwrite(s.device, &regs[1], 8, REGION(0) + 0x88);
			pwrite(s.device, &regs[2], 8, REGION(0) + 0x90);
			pwrite(s.device, &regs[3], 8, REGION(0) + 0x98);
		}
	}
	close(ready[1]);
	REQUIRE(read(ready[0], &c, 1) == 1, "child ready");
	usleep(20000);
	kill(pid, SIGKILL);
	CHECK(child_status(pid) == 128 + SIGKILL, "killed");
	/* The group, its container and mappings are free at once. */
	struct vfio_setup s;

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	uint8_t *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK_OK(map_dma(s.container, buf, 0x1000000, 4096, VFIO_DMA_MAP_FLAG_READ));
	teardown(&s);
	close(ready[0]);
}

int main(void)
{
	test_exclusive_group();
	test_fd_passing();
	test_killed_mid_dma();
	return harness_done("multiprocess");
}
