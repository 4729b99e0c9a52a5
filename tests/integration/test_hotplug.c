// SPDX-License-Identifier: MIT
/*
 * Driver binding from the administrator's side (`uvfio bind/unbind`, what
 * sysfs bind/unbind do on a host): viability follows the host driver, and
 * removing a device in use asks its user through the REQ interrupt first.
 *
 *   test_hotplug PATH-TO-uvfio      (run under `uvfio run`)
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "vfio_util.h"

static const char *uvfio;

static pid_t spawn(const char *a, const char *b, const char *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(uvfio, "uvfio", a, b, c, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int finish(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int admin(const char *a, const char *b, const char *c)
{
	return finish(spawn(a, b, c));
}

static uint32_t group_flags(int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(g, VFIO_GROUP_GET_STATUS, &st))
		return ~0u;
	return st.flags;
}

static void test_viability_follows_host_driver(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR), g = open_group(SHARED_GROUP);

	REQUIRE(c >= 0 && g >= 0, "setup: %s", strerror(errno));
	CHECK(group_flags(g) == 0, "not viable while a host driver is bound");
	CHECK(admin("unbind", SHARED_HOST_BDF, NULL) == 0, "unbind the host driver");
	CHECK(group_flags(g) == VFIO_GROUP_FLAGS_VIABLE, "viable with the function unbound");
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	/* User space owns the group now: the host driver may not come back. */
	CHECK(admin("bind", SHARED_HOST_BDF, "edu") != 0, "host bind refused while in use");
	CHECK_OK(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	CHECK(admin("bind", SHARED_HOST_BDF, "edu") == 0, "host bind once released");
	CHECK(group_flags(g) == 0, "not viable again");
	close(g);
	close(c);
}

static void test_remove_device_in_use(void)
{
	struct vfio_setup s;
	int32_t req = eventfd(0, EFD_CLOEXEC);
	pid_t unbind;

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));
	unbind = spawn("unbind", EDU_BDF, NULL);
	/* The kernel asks the user to release the device and waits. */
	CHECK(wait_eventfd(req, 5000) >= 1, "REQ interrupt asks us to let go");
	CHECK(waitpid(unbind, NULL, WNOHANG) == 0, "unbind waits while the device is open");
	CHECK_ERR(ioctl(s.group, VFIO_GROUP_GET_DEVICE_FD, EDU_BDF), ENODEV);
	close(s.device);
	s.device = -1;
	CHECK(finish(unbind) == 0, "unbind completes once released");
	/* The group lost its only device. */
	CHECK(group_flags(s.group) == ~0u && errno == ENODEV, "group is gone: ENODEV");
	teardown(&s);
	CHECK_ERR(open_group(EDU_GROUP), ENOENT);
	CHECK(admin("bind", EDU_BDF, "vfio-pci") == 0, "bind back to vfio-pci");
	int g = open_group(EDU_GROUP);

	CHECK(g >= 0 && group_flags(g) == VFIO_GROUP_FLAGS_VIABLE, "group 10 is back");
	if (g >= 0)
		close(g);
	close(req);
}

/* `uvfio stats` output, captured. */
static void stats(char *out, size_t len)
{
	int p[2];
	ssize_t n, got = 0;
	pid_t pid;

	REQUIRE(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(uvfio, "uvfio", "stats", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = 0;
	close(p[0]);
	finish(pid);
}

/* An IOMMU fault is counted and shown to the administrator. */
static void test_fault_in_stats(void)
{
	struct vfio_setup s;
	char out[8192];

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	wr64(s.device, REGION(0) + 0x80, 0x40000);
	wr64(s.device, REGION(0) + 0x88, 0x5000000);	/* nothing mapped there */
	wr64(s.device, REGION(0) + 0x90, 64);
	wr64(s.device, REGION(0) + 0x98, 3);
	stats(out, sizeof(out));
	CHECK(strstr(out, EDU_BDF ": dma reads 0, writes 0, bytes 0, faults 1") != NULL,
	      "fault counted: %s", out);
	teardown(&s);
}

static void test_admin_errors(void)
{
	CHECK(admin("unbind", "0000:10:1f.0", NULL) != 0, "unknown device");
	CHECK(admin("bind", EDU_BDF, "vfio-pci") != 0, "already bound");
	CHECK(admin("stats", NULL, NULL) == 0, "stats");
	CHECK(admin("ls", NULL, NULL) == 0, "ls");
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2, "usage: test_hotplug PATH-TO-uvfio");
	uvfio = argv[1];
	test_viability_follows_host_driver();
	test_remove_device_in_use();
	test_fault_in_stats();
	test_admin_errors();
	return harness_done("hotplug");
}
