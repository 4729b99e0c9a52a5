// SPDX-License-Identifier: MIT
/* Path redirection: node names, the redirect list, and the mapping into
 * $UVFIO_DIR/root as the daemon rewrites the list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char dir[64];

static void write_redirects(const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/redirects.tmp", dir);
	snprintf(path, sizeof(path), "%s/redirects", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* Like the daemon: a new file, atomically. */
	assert_int_equal(rename(tmp, path), 0);
	/* The shim looks at the list at most every 20 ms. */
	usleep(30 * 1000);
}

static void test_node_classify(void **state)
{
	struct shim_node n;

	(void)state;
	assert_true(shim_node_classify("/dev/vfio/vfio", &n));
	assert_int_equal(n.type, UVFIO_FILE_CONTAINER);
	assert_int_equal(n.major, 10);
	assert_int_equal(n.minor, 196);

	assert_true(shim_node_classify("/dev/iommu", &n));
	assert_int_equal(n.type, UVFIO_FILE_IOMMUFD);
	assert_int_equal(n.minor, 123);

	assert_true(shim_node_classify("/dev/vfio/42", &n));
	assert_int_equal(n.type, UVFIO_FILE_GROUP);
	assert_int_equal(n.major, 242);
	assert_int_equal(n.minor, 42);

	assert_true(shim_node_classify("/dev/vfio/devices/vfio7", &n));
	assert_int_equal(n.type, UVFIO_FILE_DEVICE_CDEV);
	assert_int_equal(n.major, 241);
	assert_int_equal(n.minor, 7);

	assert_true(shim_node_classify("/dev/vfio/devices/other", &n));
	assert_int_equal(n.minor, -1);

	assert_false(shim_node_classify("/dev/vfio", &n));
	assert_false(shim_node_classify("/dev/vfio/", &n));
	assert_false(shim_node_classify("/dev/vfio/12a", &n));
	assert_false(shim_node_classify("/dev/vfio/99999999999", &n));
	assert_false(shim_node_classify("/dev/vfio/vfio/x", &n));
	assert_false(shim_node_classify("/dev/vfio/devices", &n));
	assert_false(shim_node_classify("/dev/vfio/devices/", &n));
	assert_false(shim_node_classify("/dev/vfio/devices/a/b", &n));
	assert_false(shim_node_classify("/dev/iommu0", &n));
	assert_false(shim_node_classify("/dev/null", &n));
}

static void test_redirects_parse_match(void **state)
{
	static const char text[] =
		"/sys/bus/pci/devices\n"
		"\n"
		"/sys/module/vfio/\n"
		"/sys/kernel/iommu_groups\r\n"
		"relative/path\n"
		"/\n"
		"/sys/devices/pci0000:10/0000:10:00.0";
	struct shim_redirects r;

	(void)state;
	assert_int_equal(shim_redirects_parse(text, strlen(text), &r), 0);
	assert_int_equal(r.n, 4);

	assert_true(shim_redirects_match(&r, "/sys/bus/pci/devices"));
	assert_true(shim_redirects_match(&r, "/sys/bus/pci/devices/0000:10:00.0/vendor"));
	assert_true(shim_redirects_match(&r, "/sys/module/vfio"));
	assert_true(shim_redirects_match(&r, "/sys/module/vfio/parameters/x"));
	assert_true(shim_redirects_match(&r, "/sys/kernel/iommu_groups/3/devices"));
	assert_true(shim_redirects_match(&r, "/sys/devices/pci0000:10/0000:10:00.0"));

	/* A prefix matches whole components only. */
	assert_false(shim_redirects_match(&r, "/sys/module/vfio_pci"));
	assert_false(shim_redirects_match(&r, "/sys/bus/pci/devicesX"));
	assert_false(shim_redirects_match(&r, "/sys/devices/pci0000:10/0000:10:00.1"));
	assert_false(shim_redirects_match(&r, "/sys/bus/pci"));
	assert_false(shim_redirects_match(&r, "/sys/module"));
	assert_false(shim_redirects_match(&r, "/"));
	assert_false(shim_redirects_match(&r, "relative/path"));
	shim_redirects_free(&r);

	assert_int_equal(shim_redirects_parse("", 0, &r), 0);
	assert_int_equal(r.n, 0);
	assert_false(shim_redirects_match(&r, "/sys/bus"));
	shim_redirects_free(&r);
}

static void expect_map(const char *path, int kind)
{
	char out[PATH_MAX], want[PATH_MAX];
	struct shim_node n;

	assert_int_equal(shim_path_map(path, out, &n), kind);
	if (kind == SHIM_PATH_PASS)
		return;
	snprintf(want, sizeof(want), "%s/root%s", dir, path);
	assert_string_equal(out, want);
}

static void test_path_map(void **state)
{
	struct shim_node n;
	char out[PATH_MAX], *longp;

	(void)state;
	write_redirects("/sys/bus/pci/devices\n/sys/module/vfio\n/dev/extra\n");
	expect_map("/sys/bus/pci/devices/0000:10:00.0/iommu_group", SHIM_PATH_REDIRECT);
	expect_map("/sys/module/vfio", SHIM_PATH_REDIRECT);
	expect_map("/sys/module", SHIM_PATH_PASS);
	expect_map("/sys/module/vfio_pci", SHIM_PATH_PASS);
	expect_map("/sys/class/net", SHIM_PATH_PASS);
	expect_map("/dev/vfio/vfio", SHIM_PATH_NODE);
	expect_map("/dev/vfio/3", SHIM_PATH_NODE);
	expect_map("/dev/iommu", SHIM_PATH_NODE);
	expect_map("/dev/vfio", SHIM_PATH_REDIRECT);
	expect_map("/dev/vfio/devices", SHIM_PATH_REDIRECT);
	expect_map("/dev/extra/x", SHIM_PATH_REDIRECT);
	expect_map("/dev/null", SHIM_PATH_PASS);
	expect_map("/proc/self/maps", SHIM_PATH_PASS);
	expect_map("sys/bus/pci/devices", SHIM_PATH_PASS);
	expect_map("/sys", SHIM_PATH_PASS);
	expect_map("", SHIM_PATH_PASS);

	/* The daemon rewrites the list on bind/unbind: /sys lookups see it. */
	write_redirects("/sys/module/vfio_pci\n");
	expect_map("/sys/module/vfio_pci/x", SHIM_PATH_REDIRECT);
	expect_map("/sys/bus/pci/devices/0000:10:00.0", SHIM_PATH_PASS);

	/* No list at all: nothing under /sys is ours, nodes still are. */
	snprintf(out, sizeof(out), "%s/redirects", dir);
	assert_int_equal(unlink(out), 0);
	usleep(30 * 1000);
	expect_map("/sys/module/vfio_pci/x", SHIM_PATH_PASS);
	expect_map("/dev/vfio/vfio", SHIM_PATH_NODE);
	write_redirects("/sys/bus\n");
	expect_map("/sys/bus/x", SHIM_PATH_REDIRECT);

	longp = malloc(PATH_MAX + 16);
	assert_non_null(longp);
	strcpy(longp, "/sys/bus/");
	memset(longp + 9, 'a', PATH_MAX);
	longp[PATH_MAX + 9] = 0;
	assert_int_equal(shim_path_map(longp, out, &n), -ENAMETOOLONG);
	free(longp);
}

static void test_path_unmap(void **state)
{
	char p[PATH_MAX];
	size_t n;

	(void)state;
	n = (size_t)snprintf(p, sizeof(p), "%s/root/sys/devices/pci0000:10", dir);
	n = shim_path_unmap(p, n);
	p[n] = 0;
	assert_string_equal(p, "/sys/devices/pci0000:10");

	n = (size_t)snprintf(p, sizeof(p), "%s/root", dir);
	n = shim_path_unmap(p, n);
	p[n] = 0;
	assert_string_equal(p, "/");

	/* Only a whole leading component is the root. */
	n = (size_t)snprintf(p, sizeof(p), "%s/rootfs/x", dir);
	assert_int_equal(shim_path_unmap(p, n), n);

	strcpy(p, "/usr/lib/x86_64-linux-gnu");
	assert_int_equal(shim_path_unmap(p, strlen(p)), strlen(p));
}

static void test_present(void **state)
{
	struct shim_node n = { UVFIO_FILE_GROUP, 242, 5 };
	struct shim_fd ent = { .token = 1, .type = UVFIO_FILE_GROUP, .minor = 5 };
	struct stat st = { .st_mode = S_IFREG | 0640, .st_size = 123 };
	char p[PATH_MAX], want[PATH_MAX];

	(void)state;
	shim_node_present(&n, &st);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(major(st.st_rdev), 242);
	assert_int_equal(minor(st.st_rdev), 5);
	assert_int_equal(st.st_size, 0);

	shim_anon_present(&st);
	assert_int_equal(st.st_mode, S_IRUSR | S_IWUSR);
	assert_int_equal(st.st_uid, geteuid());

	assert_true(shim_fd_node(&ent, &n));
	assert_int_equal(shim_node_path(&n, p), 0);
	snprintf(want, sizeof(want), "%s/root/dev/vfio/5", dir);
	assert_string_equal(p, want);
	ent.minor = -1;
	assert_true(shim_fd_node(&ent, &n));
	assert_int_equal(shim_node_path(&n, p), -ENOENT);
	ent.type = UVFIO_FILE_DEVICE;
	assert_false(shim_fd_node(&ent, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_classify),
		cmocka_unit_test(test_redirects_parse_match),
		cmocka_unit_test(test_path_map),
		cmocka_unit_test(test_path_unmap),
		cmocka_unit_test(test_present),
	};
	char path[PATH_MAX];
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/uvfio-shim-test-%d", (int)getpid());
	if (mkdir(dir, 0700))
		return 1;
	setenv("UVFIO_DIR", dir, 1);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(path, sizeof(path), "%s/redirects", dir);
	unlink(path);
	rmdir(dir);
	return ret;
}
