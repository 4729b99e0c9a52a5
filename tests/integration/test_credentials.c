// SPDX-License-Identifier: MIT
/*
 * Credentials: group node ownership (EACCES for a user who does not own it)
 * and RLIMIT_MEMLOCK accounting of pinned pages (ENOMEM beyond the limit).
 * Needs root to become another user; otherwise the test is skipped.
 */
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vfio_util.h"

static int run_child(void (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		fn();
		_exit(harness_failed ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void as_nobody(void)
{
	REQUIRE(setgid(65534) == 0 && setuid(65534) == 0, "drop to nobody");
	CHECK_ERR(open_group(EDU_GROUP), EACCES);
	/* The container node is open to all. */
	int c = open("/dev/vfio/vfio", O_RDWR);

	CHECK(c >= 0, "container for everyone: %s", strerror(errno));
	CHECK(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "api");
	close(c);
}

static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	REQUIRE(syscall(SYS_capget, &h, d) == 0, "capget");
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK);
	REQUIRE(syscall(SYS_capset, &h, d) == 0, "capset");
}

static void memlock_limited(void)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	struct vfio_setup s;
	uint8_t *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);

	/* Before the first VFIO call: the daemon reads our capabilities then. */
	drop_ipc_lock();
	REQUIRE(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	setup_device(&s, EDU_GROUP, NULL, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(map_dma(s.container, buf, 0x100000, 32 * 1024, VFIO_DMA_MAP_FLAG_READ));
	CHECK_ERR(map_dma(s.container, buf + 32 * 1024, 0x200000, 64 * 1024,
			  VFIO_DMA_MAP_FLAG_READ), ENOMEM);
	CHECK_OK(map_dma(s.container, buf + 32 * 1024, 0x200000, 32 * 1024,
			 VFIO_DMA_MAP_FLAG_READ));
	/* unmapping gives the pages back */
	CHECK(unmap_dma(s.container, 0x100000, 32 * 1024, 0) == 32 * 1024, "unmap");
	CHECK_OK(map_dma(s.container, buf + 64 * 1024, 0x300000, 32 * 1024,
			 VFIO_DMA_MAP_FLAG_READ));
	teardown(&s);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("credentials: skipped, needs root to switch users\n");
		return 77;
	}
	CHECK(run_child(as_nobody) == 0, "unprivileged user");
	CHECK(run_child(memlock_limited) == 0, "memlock");
	return harness_done("credentials");
}
