// SPDX-License-Identifier: MIT
/*
 * The VFIO core driven through its C API, without daemon or shim: a fake bus
 * driver and two fake IOMMU drivers count what the core asks of them, and
 * ioctl arguments are marshalled by hand the way the daemon hands them over.
 * A "client" descriptor is a dup of a file's peer end; closing it and reaping
 * the file is what a program's close() amounts to.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "core/vfio.h"
#include "util/loop.h"

#define GROUP_A		7	/* two vfio devices plus one host-only device */
#define GROUP_B		8	/* one vfio device */
#define EXT_A		VFIO_TYPE1v2_IOMMU
#define EXT_B		VFIO_TYPE1_IOMMU
#define EXT_NONE	0x4242
#define FAKE_CMD	_IO(VFIO_TYPE, VFIO_BASE + 60)
#define FAKE_CMD_RET	0x5a
#define DEV_CMD_RET	0x77
#define FAKE_MEM	4096

/* ---- fake IOMMU drivers ---- */

struct fake_drv {
	unsigned long ext;		/* the CHECK_EXTENSION value it claims */
	unsigned int polls;		/* CHECK_EXTENSION with no iommu_data */
	unsigned int checks;		/* CHECK_EXTENSION forwarded to the open driver */
	unsigned int opens, releases, attaches, detaches, live;
	int open_err, attach_err;
	struct iommu_group *attached[4];
	unsigned int nattached;
	uint8_t mem[FAKE_MEM];
};

struct fake_iommu {
	struct fake_drv *drv;
};

static struct fake_drv drv_a, drv_b;

static void *fake_open(struct fake_drv *d, unsigned long arg, int *err)
{
	struct fake_iommu *fi;

	assert_int_equal(arg, d->ext);
	d->opens++;
	if (d->open_err) {
		*err = d->open_err;
		return NULL;
	}
	fi = calloc(1, sizeof(*fi));
	assert_non_null(fi);
	fi->drv = d;
	d->live++;
	return fi;
}

static long fake_ioctl(struct fake_drv *d, void *data, unsigned int cmd, struct vfio_uarg *ua)
{
	if (data)
		assert_ptr_equal(((struct fake_iommu *)data)->drv, d);
	if (cmd == VFIO_CHECK_EXTENSION) {
		if (data)
			d->checks++;
		else
			d->polls++;
		return ua->value == d->ext;
	}
	if (cmd == FAKE_CMD && data)
		return FAKE_CMD_RET;
	return -ENOTTY;
}

static void *drv_a_open(unsigned long arg, int *err) { return fake_open(&drv_a, arg, err); }
static void *drv_b_open(unsigned long arg, int *err) { return fake_open(&drv_b, arg, err); }

static long drv_a_ioctl(void *data, unsigned int cmd, struct vfio_uarg *ua)
{
	return fake_ioctl(&drv_a, data, cmd, ua);
}

static long drv_b_ioctl(void *data, unsigned int cmd, struct vfio_uarg *ua)
{
	return fake_ioctl(&drv_b, data, cmd, ua);
}

static void fake_release(void *data)
{
	struct fake_iommu *fi = data;

	fi->drv->releases++;
	fi->drv->live--;
	/* The core detaches every group before it releases. */
	assert_int_equal(fi->drv->nattached, 0);
	free(fi);
}

static int fake_attach(void *data, struct iommu_group *g)
{
	struct fake_drv *d = ((struct fake_iommu *)data)->drv;

	if (d->attach_err)
		return d->attach_err;
	/* The group must already be claimed for user space. */
	assert_non_null(g->owner);
	assert_true(d->nattached < 4);
	d->attached[d->nattached++] = g;
	d->attaches++;
	return 0;
}

static void fake_detach(void *data, struct iommu_group *g)
{
	struct fake_drv *d = ((struct fake_iommu *)data)->drv;
	unsigned int i;

	for (i = 0; i < d->nattached; i++)
		if (d->attached[i] == g)
			break;
	assert_true(i < d->nattached);
	d->attached[i] = d->attached[--d->nattached];
	d->detaches++;
}

static int fake_dma_rw(void *data, uint64_t iova, void *buf, size_t len, bool write)
{
	struct fake_drv *d = ((struct fake_iommu *)data)->drv;

	if (iova > FAKE_MEM || len > FAKE_MEM - iova)
		return -EFAULT;
	if (write)
		memcpy(d->mem + iova, buf, len);
	else
		memcpy(buf, d->mem + iova, len);
	return 0;
}

static const struct vfio_iommu_driver_ops drv_a_ops = {
	.name = "fake-a", .open = drv_a_open, .release = fake_release, .ioctl = drv_a_ioctl,
	.attach_group = fake_attach, .detach_group = fake_detach, .dma_rw = fake_dma_rw,
};

static const struct vfio_iommu_driver_ops drv_b_ops = {
	.name = "fake-b", .open = drv_b_open, .release = fake_release, .ioctl = drv_b_ioctl,
	.attach_group = fake_attach, .detach_group = fake_detach, .dma_rw = fake_dma_rw,
};

/* Only ever registered, never asked: they fill the registry. */
static const struct vfio_iommu_driver_ops extra_ops[2] = {
	{ .name = "extra-1", .ioctl = drv_a_ioctl },
	{ .name = "extra-2", .ioctl = drv_b_ioctl },
};

/* ---- fake bus driver ---- */

struct fake_dev {
	struct host_device host;
	struct vfio_device vdev;
	bool vfio;			/* bound to the fake vfio driver */
	unsigned int opens, closes, requests, last_request;
	int open_err;
};

static struct fake_dev devs[] = {
	{ .host = { .name = "0000:00:01.0" }, .vfio = true },
	{ .host = { .name = "0000:00:01.1" }, .vfio = true },
	{ .host = { .name = "0000:00:01.2" } },	/* host-only: viability */
	{ .host = { .name = "0000:00:02.0" }, .vfio = true },
};
#define DEV_A0	(&devs[0])
#define DEV_A1	(&devs[1])
#define DEV_AH	(&devs[2])
#define DEV_B0	(&devs[3])
#define NDEVS	(sizeof(devs) / sizeof(devs[0]))

static int fdev_open(struct vfio_device *vdev)
{
	struct fake_dev *fd = vdev->drvdata;

	fd->opens++;
	return fd->open_err;
}

static void fdev_close(struct vfio_device *vdev)
{
	((struct fake_dev *)vdev->drvdata)->closes++;
}

static long fdev_ioctl(struct vfio_device *vdev, unsigned int cmd, struct vfio_uarg *ua)
{
	(void)vdev; (void)ua;
	return cmd == FAKE_CMD ? DEV_CMD_RET : -ENOTTY;
}

static void fdev_request(struct vfio_device *vdev, unsigned int count)
{
	struct fake_dev *fd = vdev->drvdata;

	fd->requests++;
	fd->last_request = count;
}

static const struct vfio_device_ops fdev_ops = {
	.name = "fake-vfio", .open_device = fdev_open, .close_device = fdev_close,
	.ioctl = fdev_ioctl, .request = fdev_request,
};

/* ---- the test's view of user space ---- */

static struct vfio_uctx root_ctx = { .pid = 1, .uid = 0, .gid = 0 };
static unsigned int topology_changes;

static void count_topology(void)
{
	topology_changes++;
}

/* A descriptor held by the program. */
struct ufile {
	struct vfio_file *f;
	int fd;
};

#define MAX_UFILES 16
static struct ufile ufiles[MAX_UFILES];

static struct ufile *hand_over(struct vfio_file *f)
{
	for (unsigned int i = 0; i < MAX_UFILES; i++) {
		struct ufile *u = &ufiles[i];

		if (u->f)
			continue;
		u->f = f;
		u->fd = fcntl(f->peer_sock, F_DUPFD_CLOEXEC, 0);
		assert_true(u->fd >= 0);
		vfio_file_handed_over(f);
		return u;
	}
	fail_msg("out of ufiles");
	return NULL;
}

/* The program's last close() of the descriptor. */
static void uclose(struct ufile *u)
{
	close(u->fd);
	u->fd = -1;
	assert_true(vfio_file_reap(u->f));
	u->f = NULL;
}

struct ioc {
	uint64_t value;
	void *arg;
	size_t len;
	uint32_t flags;
	const struct uvfio_ioctl_fd *fds;
	uint32_t nfds;
	const int *attached;
	unsigned int nattached;
	struct vfio_file *new_file;	/* out */
};

static long ioctl_full(struct vfio_file *f, unsigned int cmd, struct ioc *io)
{
	uint8_t *wb = calloc(1, io->len ? io->len : 1);
	struct vfio_uarg ua;
	long ret;

	assert_non_null(wb);
	memset(&ua, 0, sizeof(ua));
	ua.ctx = &root_ctx;
	ua.value = io->value;
	ua.msg.flags = io->flags;
	ua.msg.nfds = io->nfds;
	ua.msg.fds = io->fds;
	ua.msg.arg = io->arg;
	ua.msg.arg_len = (uint32_t)io->len;
	ua.attached = io->attached;
	ua.nattached = io->nattached;
	ua.wb = wb;
	ret = f->ops->ioctl(f, cmd, &ua);
	assert_true(ua.wb_hi <= io->len);
	if (ua.wb_hi > ua.wb_lo)
		memcpy((uint8_t *)io->arg + ua.wb_lo, wb + ua.wb_lo, ua.wb_hi - ua.wb_lo);
	free(wb);
	io->new_file = ua.new_file;
	if (ret)
		assert_null(ua.new_file);
	return ret;
}

static long ioctl_val(struct vfio_file *f, unsigned int cmd, uint64_t value)
{
	struct ioc io = { .value = value };

	return ioctl_full(f, cmd, &io);
}

static long ioctl_arg(struct vfio_file *f, unsigned int cmd, void *arg, size_t len)
{
	struct ioc io = { .arg = arg, .len = len };

	return ioctl_full(f, cmd, &io);
}

/* SET_CONTAINER with `cfd` as the descriptor the user names (attached as the
 * first SCM_RIGHTS descriptor). */
static long set_container_fd(struct vfio_file *g, int cfd)
{
	int32_t user_fd = 42;
	struct uvfio_ioctl_fd fds[1] = { { .user_fd = 42, .attached = 0 } };
	int att[1] = { cfd };
	struct ioc io = { .arg = &user_fd, .len = sizeof(user_fd), .fds = fds, .nfds = 1,
			  .attached = att, .nattached = 1 };

	return ioctl_full(g, VFIO_GROUP_SET_CONTAINER, &io);
}

static long set_container(struct vfio_file *g, struct vfio_file *c)
{
	return set_container_fd(g, c->peer_sock);
}

static long get_status(struct vfio_file *g, uint32_t *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st), .flags = 0xdead };
	long ret = ioctl_arg(g, VFIO_GROUP_GET_STATUS, &st, sizeof(st));

	*flags = st.flags;
	return ret;
}

static long get_device_fd(struct vfio_file *g, const char *name, struct vfio_file **out)
{
	char buf[64];
	struct ioc io = { .arg = buf, .len = strlen(name) + 1 };
	long ret;

	strcpy(buf, name);
	ret = ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &io);
	*out = io.new_file;
	return ret;
}

static struct vfio_file *open_container(void)
{
	struct vfio_file *c = NULL;

	assert_int_equal(vfio_container_open(&root_ctx, &c), 0);
	assert_non_null(c);
	return c;
}

static struct vfio_file *open_group(int id)
{
	struct vfio_file *g = NULL;

	assert_int_equal(vfio_group_open(id, &root_ctx, &g), 0);
	assert_non_null(g);
	return g;
}

/* Container + group A with fake driver A set. */
static void open_usable(struct vfio_file **c, struct vfio_file **g)
{
	*c = open_container();
	*g = open_group(GROUP_A);
	assert_int_equal(set_container(*g, *c), 0);
	assert_int_equal(ioctl_val(*c, VFIO_SET_IOMMU, EXT_A), 0);
}

/* ---- fixture ---- */

static struct iommu_group *ig_a, *ig_b;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(uvfio_loop_init(), 0);
	memset(&drv_a, 0, sizeof(drv_a));
	memset(&drv_b, 0, sizeof(drv_b));
	drv_a.ext = EXT_A;
	drv_b.ext = EXT_B;
	assert_int_equal(vfio_register_iommu_driver(&drv_a_ops), 0);
	assert_int_equal(vfio_register_iommu_driver(&drv_b_ops), 0);
	assert_int_equal(vfio_register_iommu_driver(&drv_a_ops), -EEXIST);
	topology_changes = 0;
	vfio_topology_changed = count_topology;

	ig_a = iommu_group_alloc(GROUP_A);
	ig_b = iommu_group_alloc(GROUP_B);
	assert_non_null(ig_a);
	assert_non_null(ig_b);
	assert_null(iommu_group_alloc(GROUP_A));
	for (unsigned int i = 0; i < NDEVS; i++) {
		struct fake_dev *d = &devs[i];

		memset(&d->vdev, 0, sizeof(d->vdev));
		d->host.vdev = NULL;
		d->opens = d->closes = d->requests = d->last_request = 0;
		d->open_err = 0;
		iommu_group_add_device(d == DEV_B0 ? ig_b : ig_a, &d->host);
		if (!d->vfio)
			continue;
		vfio_device_init(&d->vdev, &d->host, &fdev_ops, d);
		assert_int_equal(vfio_register_group_dev(&d->vdev), 0);
		assert_ptr_equal(d->host.vdev, &d->vdev);
	}
	assert_int_equal(topology_changes, 3);
	assert_non_null(vfio_group_find(GROUP_A));
	assert_ptr_equal(vfio_group_find(GROUP_A), DEV_A1->vdev.group);
	assert_int_equal(vfio_group_find(GROUP_A)->devices, 2);
	return 0;
}

static void removed_cb(void *arg, int err)
{
	assert_int_equal(err, 0);
	(*(unsigned int *)arg)++;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < MAX_UFILES; i++) {
		if (ufiles[i].f)
			close(ufiles[i].fd);
		ufiles[i].f = NULL;
	}
	vfio_file_release_all();
	for (unsigned int i = 0; i < NDEVS; i++) {
		struct fake_dev *d = &devs[i];
		unsigned int done = 0;

		if (d->vdev.group) {
			vfio_unregister_group_dev(&d->vdev, removed_cb, &done);
			assert_int_equal(done, 1);
		}
		iommu_group_remove_device(&d->host);
	}
	assert_null(vfio_group_find(GROUP_A));
	assert_null(vfio_group_find(GROUP_B));
	iommu_group_free(ig_a);
	iommu_group_free(ig_b);
	vfio_unregister_iommu_driver(&drv_a_ops);
	vfio_unregister_iommu_driver(&drv_b_ops);
	vfio_topology_changed = NULL;
	uvfio_loop_fini();
	assert_int_equal(vfio_file_count(), 0);
	/* Every IOMMU context that was opened was released. */
	assert_int_equal(drv_a.live, 0);
	assert_int_equal(drv_b.live, 0);
	return 0;
}

/* ---- groups: open ---- */

static void test_group_open_exclusive(void **state)
{
	struct vfio_file *g, *g2 = NULL;
	struct ufile *u;

	(void)state;
	g = open_group(GROUP_A);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g2), -EBUSY);
	assert_null(g2);
	/* Another group is independent. */
	g2 = open_group(GROUP_B);
	assert_int_equal(vfio_file_count(), 2);

	/* Handed to the program and still held there: still busy. */
	u = hand_over(g);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g2), -EBUSY);

	/* The program closed it, but the hang-up was not processed yet:
	 * the next open reaps it rather than failing. */
	close(u->fd);
	u->fd = -1;
	u->f = NULL;
	g = NULL;
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g), 0);
	assert_non_null(g);
	assert_ptr_equal(vfio_group_find(GROUP_A)->opened_file, g);
	assert_int_equal(vfio_file_count(), 2);

	assert_int_equal(vfio_group_open(99, &root_ctx, &g2), -ENOENT);
}

/* Device files keep the group file: the group stays open after the
 * program closed its group descriptor. */
static void test_group_busy_while_device_open(void **state)
{
	struct vfio_file *c, *g, *d, *g2 = NULL;
	struct ufile *ug, *ud;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	ug = hand_over(g);
	ud = hand_over(d);
	uclose(ug);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g2), -EBUSY);
	assert_null(g2);
	uclose(ud);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g2), 0);
	assert_non_null(g2);
	vfio_file_put(g2);
	vfio_file_put(c);
}

static void test_group_open_permissions(void **state)
{
	struct vfio_uctx owner = { .pid = 1, .uid = 1000, .gid = 1000 };
	struct vfio_uctx member = { .pid = 1, .uid = 1001, .gid = 1000 };
	struct vfio_uctx other = { .pid = 1, .uid = 1002, .gid = 1002 };
	struct vfio_file *g = NULL;

	(void)state;
	/* Default node: root:root 0600. */
	assert_int_equal(vfio_group_open(GROUP_A, &owner, &g), -EACCES);
	assert_null(g);

	vfio_group_set_owner(GROUP_A, 1000, 1000, 0600);
	assert_int_equal(vfio_group_open(GROUP_A, &member, &g), -EACCES);
	assert_int_equal(vfio_group_open(GROUP_A, &other, &g), -EACCES);
	assert_int_equal(vfio_group_open(GROUP_A, &owner, &g), 0);
	vfio_file_put(g);
	g = NULL;

	/* Read-only for the owner is not enough for O_RDWR. */
	vfio_group_set_owner(GROUP_A, 1000, 1000, 0460);
	assert_int_equal(vfio_group_open(GROUP_A, &owner, &g), -EACCES);
	/* The owner class decides for the owner even if the group would allow. */
	assert_int_equal(vfio_group_open(GROUP_A, &member, &g), 0);
	vfio_file_put(g);
	g = NULL;
	assert_int_equal(vfio_group_open(GROUP_A, &other, &g), -EACCES);

	vfio_group_set_owner(GROUP_A, 1000, 1000, 0606);
	assert_int_equal(vfio_group_open(GROUP_A, &other, &g), 0);
	vfio_file_put(g);
	g = NULL;

	/* root ignores the mode. */
	vfio_group_set_owner(GROUP_A, 1000, 1000, 0);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g), 0);
	vfio_file_put(g);

	/* Permission is checked before exclusivity. */
	g = open_group(GROUP_A);
	assert_int_equal(vfio_group_open(GROUP_A, &owner, &g), -EACCES);
	assert_int_equal(vfio_file_count(), 1);

	/* Other groups are untouched by GROUP_A's owner. */
	assert_int_equal(vfio_group_find(GROUP_B)->mode, 0600);
}

static void test_group_viability(void **state)
{
	struct vfio_file *c, *g;
	uint32_t flags;

	(void)state;
	c = open_container();
	g = open_group(GROUP_A);
	assert_int_equal(get_status(g, &flags), 0);
	assert_int_equal(flags, VFIO_GROUP_FLAGS_VIABLE);

	/* A host driver binds to the group's other device. */
	assert_int_equal(iommu_device_use_default_domain(&DEV_AH->host), 0);
	assert_int_equal(get_status(g, &flags), 0);
	assert_int_equal(flags, 0);
	assert_false(vfio_group_viable(vfio_group_find(GROUP_A)));
	assert_int_equal(set_container(g, c), -EPERM);
	assert_null(vfio_group_find(GROUP_A)->container);
	/* Nothing was claimed by the failed attempt. */
	iommu_device_unuse_default_domain(&DEV_AH->host);
	assert_false(iommu_group_dma_owner_claimed(ig_a));

	assert_int_equal(get_status(g, &flags), 0);
	assert_int_equal(flags, VFIO_GROUP_FLAGS_VIABLE);
	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(get_status(g, &flags), 0);
	assert_int_equal(flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);

	/* User space owns the group now: host drivers may not bind. */
	assert_int_equal(iommu_device_use_default_domain(&DEV_AH->host), -EBUSY);
	assert_int_equal(ig_a->owner_cnt, 0);
	/* Other groups are unaffected. */
	assert_int_equal(iommu_device_use_default_domain(&DEV_B0->host), 0);
	iommu_device_unuse_default_domain(&DEV_B0->host);

	/* Releasing the group gives it back to the host. */
	vfio_file_put(g);
	assert_false(iommu_group_dma_owner_claimed(ig_a));
	assert_int_equal(iommu_device_use_default_domain(&DEV_AH->host), 0);
	iommu_device_unuse_default_domain(&DEV_AH->host);
	vfio_file_put(c);
}

static void test_group_status_args(void **state)
{
	struct vfio_file *g;
	struct vfio_group_status st = { .argsz = 7 };

	(void)state;
	g = open_group(GROUP_A);
	assert_int_equal(ioctl_arg(g, VFIO_GROUP_GET_STATUS, &st, sizeof(st)), -EINVAL);
	st.argsz = sizeof(st);
	/* Argument shorter than minsz: the copy faults. */
	assert_int_equal(ioctl_arg(g, VFIO_GROUP_GET_STATUS, &st, 4), -EFAULT);
	assert_int_equal(ioctl_val(g, VFIO_GET_API_VERSION, 0), -ENOTTY);
	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), -EINVAL);
	assert_int_equal(g->ops->read(g, &st, 1, &g->pos), -EINVAL);
	vfio_file_put(g);
}

static void test_set_container_fd_rules(void **state)
{
	struct vfio_file *c, *g, *g2;
	int32_t user_fd = 42;
	struct uvfio_ioctl_fd bad[1] = { { .user_fd = 42, .attached = -1 } };
	struct ioc io = { .arg = &user_fd, .len = sizeof(user_fd), .fds = bad, .nfds = 1 };
	int p[2];

	(void)state;
	c = open_container();
	g = open_group(GROUP_A);
	g2 = open_group(GROUP_B);

	/* Not an open descriptor in the caller. */
	assert_int_equal(ioctl_full(g, VFIO_GROUP_SET_CONTAINER, &io), -EBADF);
	/* The number in the argument was not described at all. */
	io.nfds = 0;
	assert_int_equal(ioctl_full(g, VFIO_GROUP_SET_CONTAINER, &io), -EBADF);
	/* Short argument. */
	io.len = 2;
	assert_int_equal(ioctl_full(g, VFIO_GROUP_SET_CONTAINER, &io), -EFAULT);
	/* Open, but neither a container nor an iommufd. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(set_container_fd(g, p[0]), -EBADFD);
	close(p[0]);
	close(p[1]);
	assert_int_equal(set_container(g, g2), -EBADFD);

	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(set_container(g, c), -EINVAL);
	/* A second group may join the same container. */
	assert_int_equal(set_container(g2, c), 0);
	assert_int_equal(vfio_container_from_file(c)->refs, 3);
	assert_ptr_equal(vfio_group_find(GROUP_B)->container, vfio_container_from_file(c));

	/* A container handed to the program is found by any descriptor the
	 * program holds for it. */
	vfio_file_put(g2);
	g2 = open_group(GROUP_B);
	{
		struct vfio_file *c2 = open_container();
		struct ufile *u = hand_over(c2);
		int keep = dup(u->fd);

		/* Held: usable. */
		assert_int_equal(set_container_fd(g2, keep), 0);
		assert_int_equal(ioctl_val(g2, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
		close(keep);
		uclose(u);
	}
	vfio_file_put(g2);
	vfio_file_put(g);
	vfio_file_put(c);
}

/* ---- containers ---- */

static void test_container_basics(void **state)
{
	struct vfio_file *c;

	(void)state;
	c = open_container();
	assert_int_equal(ioctl_val(c, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
	/* No IOMMU model: everything else is EINVAL, not ENOTTY. */
	assert_int_equal(ioctl_val(c, FAKE_CMD, 0), -EINVAL);
	assert_int_equal(ioctl_val(c, VFIO_IOMMU_GET_INFO, 0), -EINVAL);
	/* SET_IOMMU needs a group first. */
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), -EINVAL);
	assert_int_equal(drv_a.opens, 0);
	assert_int_equal(c->ops->read(c, NULL, 0, &c->pos), -EINVAL);
	assert_int_equal(c->ops->mmap(c, NULL), -ENODEV);
	vfio_file_put(c);

	/* The registry is small and refuses duplicates. */
	assert_int_equal(vfio_register_iommu_driver(&extra_ops[0]), 0);
	assert_int_equal(vfio_register_iommu_driver(&extra_ops[1]), -ENOSPC);
	assert_int_equal(vfio_register_iommu_driver(&drv_b_ops), -EEXIST);
	vfio_unregister_iommu_driver(&extra_ops[0]);
	assert_int_equal(vfio_register_iommu_driver(&extra_ops[1]), 0);
	vfio_unregister_iommu_driver(&extra_ops[1]);
}

static void test_check_extension_polls(void **state)
{
	struct vfio_file *c, *g;

	(void)state;
	c = open_container();
	/* Unset: every driver is asked without a context; first yes wins. */
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_A), 1);
	assert_int_equal(drv_a.polls, 1);
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_B), 1);
	assert_int_equal(drv_b.polls, 1);
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_NONE), 0);
	assert_int_equal(drv_a.polls, 3);
	assert_int_equal(drv_b.polls, 2);
	/* No-IOMMU is off: nobody claims it. */
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);

	g = open_group(GROUP_A);
	assert_int_equal(set_container(g, c), 0);
	/* Still polled with a group but no model. */
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_B), 1);

	/* SET_IOMMU opens the driver that answers for its argument. */
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_B), 0);
	assert_int_equal(drv_a.opens, 0);
	assert_int_equal(drv_b.opens, 1);
	assert_int_equal(drv_b.attaches, 1);
	assert_ptr_equal(drv_b.attached[0], ig_a);
	assert_ptr_equal(vfio_container_from_file(c)->iommu_driver, &drv_b_ops);

	/* Set: only that driver answers, with its context. */
	drv_a.polls = drv_b.polls = 0;
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_A), 0);
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_B), 1);
	assert_int_equal(drv_a.polls + drv_a.checks, 0);
	assert_int_equal(drv_b.polls, 0);
	assert_int_equal(drv_b.checks, 2);
	/* Unknown ioctls go to the driver. */
	assert_int_equal(ioctl_val(c, FAKE_CMD, 0), FAKE_CMD_RET);
	assert_int_equal(ioctl_val(c, VFIO_IOMMU_GET_INFO, 0), -ENOTTY);

	/* A model is set once. */
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), -EINVAL);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_B), -EINVAL);
	assert_int_equal(drv_a.opens + drv_b.opens, 1);

	vfio_file_put(g);
	assert_int_equal(drv_b.releases, 1);
	vfio_file_put(c);
}

static void test_set_iommu_failures(void **state)
{
	struct vfio_file *c, *g, *g2;

	(void)state;
	c = open_container();
	g = open_group(GROUP_A);
	g2 = open_group(GROUP_B);
	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(set_container(g2, c), 0);

	/* Nobody claims the type. */
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_NONE), -ENODEV);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, 0), -ENODEV);
	assert_int_equal(drv_a.opens + drv_b.opens, 0);

	/* The driver claims it but cannot open: its error. */
	drv_a.open_err = -ENOMEM;
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), -ENOMEM);
	assert_int_equal(drv_a.opens, 1);
	drv_a.open_err = 0;

	/* Attach fails: released again, nothing left attached. */
	drv_a.attach_err = -EBUSY;
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), -EBUSY);
	assert_int_equal(drv_a.releases, 1);
	assert_int_equal(drv_a.live, 0);
	assert_null(vfio_container_from_file(c)->iommu_driver);
	drv_a.attach_err = 0;

	/* Works now, and attaches both groups. */
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), 0);
	assert_int_equal(drv_a.nattached, 2);
	/* A group joining a container with a model is attached right away. */
	assert_int_equal(ioctl_val(g2, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	assert_int_equal(drv_a.nattached, 1);
	assert_int_equal(drv_a.releases, 1);
	drv_a.attach_err = -ENOSPC;
	assert_int_equal(set_container(g2, c), -ENOSPC);
	/* ... and a failed attach leaves the group unclaimed. */
	assert_false(iommu_group_dma_owner_claimed(ig_b));
	drv_a.attach_err = 0;
	assert_int_equal(set_container(g2, c), 0);
	assert_int_equal(drv_a.nattached, 2);

	vfio_file_put(g);
	vfio_file_put(g2);
	vfio_file_put(c);
	assert_int_equal(drv_a.releases, 2);
}

static void test_deprivilege_last_group(void **state)
{
	struct vfio_file *c, *g, *g2;

	(void)state;
	c = open_container();
	g = open_group(GROUP_A);
	g2 = open_group(GROUP_B);
	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(set_container(g2, c), 0);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), 0);

	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	assert_int_equal(drv_a.detaches, 1);
	assert_int_equal(drv_a.releases, 0);
	assert_false(iommu_group_dma_owner_claimed(ig_a));
	assert_int_equal(ioctl_val(c, FAKE_CMD, 0), FAKE_CMD_RET);

	/* The last group leaving takes the model with it. */
	assert_int_equal(ioctl_val(g2, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	assert_int_equal(drv_a.detaches, 2);
	assert_int_equal(drv_a.releases, 1);
	assert_null(vfio_container_from_file(c)->iommu_driver);
	assert_int_equal(ioctl_val(c, FAKE_CMD, 0), -EINVAL);
	assert_int_equal(ioctl_val(g2, VFIO_GROUP_UNSET_CONTAINER, 0), -EINVAL);
	/* Back to polling, and SET_IOMMU is refused without a group. */
	drv_a.polls = 0;
	assert_int_equal(ioctl_val(c, VFIO_CHECK_EXTENSION, EXT_A), 1);
	assert_int_equal(drv_a.polls, 1);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), -EINVAL);

	/* The container can be privileged again. */
	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_B), 0);
	assert_int_equal(drv_b.attaches, 1);
	assert_int_equal(vfio_container_from_file(c)->refs, 2);

	/* Closing the group file detaches too. */
	vfio_file_put(g);
	assert_int_equal(drv_b.releases, 1);
	assert_int_equal(vfio_container_from_file(c)->refs, 1);
	vfio_file_put(g2);
	vfio_file_put(c);
}

/* ---- devices ---- */

static void test_get_device_fd(void **state)
{
	struct vfio_file *c, *g, *d = NULL, *d2 = NULL;
	struct vfio_group *grp;
	char noterm[8];
	struct ioc io = { .arg = noterm, .len = sizeof(noterm) };

	(void)state;
	memset(noterm, 'x', sizeof(noterm));
	c = open_container();
	g = open_group(GROUP_A);
	grp = vfio_group_find(GROUP_A);

	/* No container. */
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), -EINVAL);
	assert_int_equal(set_container(g, c), 0);
	/* Container but no model. */
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), -EINVAL);
	assert_int_equal(DEV_A0->opens, 0);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), 0);

	/* Name rules. */
	assert_int_equal(get_device_fd(g, "0000:00:09.0", &d), -ENODEV);
	assert_int_equal(get_device_fd(g, DEV_B0->host.name, &d), -ENODEV);
	assert_int_equal(get_device_fd(g, DEV_AH->host.name, &d), -ENODEV);
	assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &io), -EINVAL);
	io.flags = UVFIO_IOCTL_ARG_FAULT;
	assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &io), -EFAULT);

	/* strndup_user(arg, PAGE_SIZE): a page without NUL is too long
	 * whatever follows it; a fault within the page is a fault. */
	{
		char *page = malloc(4097);
		struct ioc big = { .arg = page, .flags = UVFIO_IOCTL_ARG_FAULT };

		assert_non_null(page);
		memset(page, 'x', 4097);
		big.len = 4095;
		assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &big), -EFAULT);
		big.len = 4096;
		assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &big), -EINVAL);
		big.len = 4097;
		assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &big), -EINVAL);
		big.flags = 0;
		big.len = 4096;
		assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &big), -EINVAL);
		/* NUL as the page's last byte: a name (of no device). */
		page[4095] = '\0';
		big.flags = UVFIO_IOCTL_ARG_FAULT;
		assert_int_equal(ioctl_full(g, VFIO_GROUP_GET_DEVICE_FD, &big), -ENODEV);
		free(page);
	}

	/* The bus driver fails its open: nothing kept. */
	DEV_A0->open_err = -EIO;
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), -EIO);
	assert_int_equal(grp->container_users, 1);
	assert_int_equal(g->refs, 1);
	DEV_A0->open_err = 0;

	/* Two opens of one device: the driver sees one. */
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d2), 0);
	assert_non_null(d);
	assert_non_null(d2);
	assert_ptr_not_equal(d, d2);
	assert_int_equal(d->ops->type, UVFIO_FILE_DEVICE);
	assert_int_equal(DEV_A0->opens, 2);	/* the failed one counted */
	assert_int_equal(DEV_A0->vdev.open_count, 2);
	assert_int_equal(grp->container_users, 2);
	/* Each device file keeps the group file. */
	assert_int_equal(g->refs, 2);

	/* Device files forward to the bus driver. */
	assert_int_equal(ioctl_val(d, FAKE_CMD, 0), DEV_CMD_RET);
	assert_int_equal(d->ops->read(d, noterm, 1, &d->pos), -EINVAL);
	assert_int_equal(d->ops->write(d, noterm, 1, &d->pos), -EINVAL);

	/* Devices are in use: the group cannot leave its container. */
	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), -EBUSY);
	vfio_file_put(d);
	assert_int_equal(DEV_A0->closes, 0);
	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), -EBUSY);
	vfio_file_put(d2);
	assert_int_equal(DEV_A0->closes, 1);
	assert_int_equal(DEV_A0->vdev.open_count, 0);
	assert_int_equal(grp->container_users, 1);
	assert_int_equal(g->refs, 1);
	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	assert_int_equal(drv_a.releases, 1);
	assert_int_equal(grp->container_users, 0);

	vfio_file_put(g);
	vfio_file_put(c);
}

static void test_device_feature(void **state)
{
	struct vfio_file *c, *g, *d;
	struct vfio_device_feature ft;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A1->host.name, &d), 0);

	ft = (struct vfio_device_feature){ .argsz = 7, .flags = VFIO_DEVICE_FEATURE_GET };
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -EINVAL);
	ft.argsz = sizeof(ft);
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, 4), -EFAULT);
	ft.flags = 1u << 19;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -EINVAL);
	ft.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
		   VFIO_DEVICE_FEATURE_MIGRATION;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -EINVAL);

	/* Valid requests for features nobody implements. */
	ft.flags |= VFIO_DEVICE_FEATURE_PROBE;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -ENOTTY);
	ft.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -ENOTTY);
	ft.flags = VFIO_DEVICE_FEATURE_SET | 0x1234;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -ENOTTY);
	ft.flags = 0;
	assert_int_equal(ioctl_arg(d, VFIO_DEVICE_FEATURE, &ft, sizeof(ft)), -ENOTTY);

	vfio_file_put(d);
	vfio_file_put(g);
	vfio_file_put(c);
}

/*
 * Container, group and device files closed by the program in every order:
 * the group stays in its container while the group file or a device file is
 * open, and the end state is the same whatever the order.
 */
static void close_in_order(const int order[3])
{
	struct vfio_file *c, *g, *d;
	struct ufile *u[3];
	bool g_closed = false, d_closed = false;

	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	u[0] = hand_over(c);
	u[1] = hand_over(g);
	u[2] = hand_over(d);
	assert_int_equal(vfio_file_count(), 3);

	for (int i = 0; i < 3; i++) {
		uclose(u[order[i]]);
		g_closed |= order[i] == 1;
		d_closed |= order[i] == 2;
		assert_int_equal(DEV_A0->closes, d_closed ? 1 : 0);
		assert_int_equal(drv_a.detaches, g_closed && d_closed ? 1 : 0);
		assert_int_equal(drv_a.releases, g_closed && d_closed ? 1 : 0);
		assert_int_equal(iommu_group_dma_owner_claimed(ig_a), !(g_closed && d_closed));
	}
	assert_int_equal(vfio_file_count(), 0);
	assert_int_equal(drv_a.releases, 1);
	assert_int_equal(drv_a.live, 0);
	assert_int_equal(DEV_A0->opens, 1);
	assert_null(vfio_group_find(GROUP_A)->opened_file);
	assert_null(vfio_group_find(GROUP_A)->container);
	assert_int_equal(vfio_group_find(GROUP_A)->container_users, 0);

	/* Everything can start over. */
	open_usable(&c, &g);
	assert_int_equal(drv_a.opens, 2);
	vfio_file_put(g);
	vfio_file_put(c);
}

static void test_close_cgd(void **state) { (void)state; close_in_order((int[]){ 0, 1, 2 }); }
static void test_close_cdg(void **state) { (void)state; close_in_order((int[]){ 0, 2, 1 }); }
static void test_close_gcd(void **state) { (void)state; close_in_order((int[]){ 1, 0, 2 }); }
static void test_close_gdc(void **state) { (void)state; close_in_order((int[]){ 1, 2, 0 }); }
static void test_close_dcg(void **state) { (void)state; close_in_order((int[]){ 2, 0, 1 }); }
static void test_close_dgc(void **state) { (void)state; close_in_order((int[]){ 2, 1, 0 }); }

static void test_unregister_waits_for_release(void **state)
{
	struct vfio_file *c, *g, *d, *d2 = NULL;
	unsigned int done = 0, changes;
	uint32_t flags;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	changes = topology_changes;

	vfio_unregister_group_dev(&DEV_A0->vdev, removed_cb, &done);
	/* The user is asked, the removal waits. */
	assert_int_equal(DEV_A0->requests, 1);
	assert_int_equal(DEV_A0->last_request, 0);
	assert_int_equal(done, 0);
	assert_ptr_equal(DEV_A0->host.vdev, &DEV_A0->vdev);
	assert_int_equal(topology_changes, changes);
	/* A device on its way out takes no new opens. */
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d2), -ENODEV);
	/* The open file keeps working meanwhile. */
	assert_int_equal(ioctl_val(d, FAKE_CMD, 0), DEV_CMD_RET);

	vfio_file_put(d);
	assert_int_equal(done, 1);
	assert_int_equal(DEV_A0->closes, 1);
	assert_null(DEV_A0->host.vdev);
	assert_null(DEV_A0->vdev.group);
	assert_int_equal(topology_changes, changes + 1);
	/* The group still has a device, and its container. */
	assert_int_equal(vfio_group_find(GROUP_A)->devices, 1);
	assert_int_equal(get_status(g, &flags), 0);
	assert_int_equal(flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	assert_int_equal(drv_a.detaches, 0);

	/* The last device going (not open) detaches the group at once. */
	done = 0;
	vfio_unregister_group_dev(&DEV_A1->vdev, removed_cb, &done);
	assert_int_equal(done, 1);
	assert_int_equal(DEV_A1->requests, 0);
	assert_int_equal(drv_a.detaches, 1);
	assert_int_equal(drv_a.releases, 1);
	assert_false(iommu_group_dma_owner_claimed(ig_a));
	assert_null(vfio_group_find(GROUP_A));
	/* The open group file outlives its devices, but reports them gone. */
	assert_int_equal(get_status(g, &flags), -ENODEV);
	assert_int_equal(set_container(g, c), -ENODEV);
	assert_int_equal(get_device_fd(g, DEV_A1->host.name, &d2), -ENODEV);
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &d2), -ENOENT);
	vfio_file_put(g);
	vfio_file_put(c);
	assert_int_equal(vfio_file_count(), 0);

	/* Registering again makes a fresh group. */
	vfio_device_init(&DEV_A0->vdev, &DEV_A0->host, &fdev_ops, DEV_A0);
	assert_int_equal(vfio_register_group_dev(&DEV_A0->vdev), 0);
	assert_non_null(vfio_group_find(GROUP_A));
	assert_int_equal(vfio_group_find(GROUP_A)->devices, 1);
}

static void test_unregister_last_device_open(void **state)
{
	struct vfio_file *c, *g, *d, *d2;
	struct ufile *ug;
	unsigned int done0 = 0, done1 = 0;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	assert_int_equal(get_device_fd(g, DEV_A1->host.name, &d2), 0);
	ug = hand_over(g);
	uclose(ug);	/* the device files keep the group */
	assert_int_equal(drv_a.detaches, 0);

	vfio_unregister_group_dev(&DEV_A0->vdev, removed_cb, &done0);
	vfio_unregister_group_dev(&DEV_A1->vdev, removed_cb, &done1);
	assert_int_equal(DEV_A0->requests + DEV_A1->requests, 2);
	vfio_file_put(d2);
	assert_int_equal(done1, 1);
	assert_int_equal(done0, 0);
	assert_int_equal(drv_a.detaches, 0);
	vfio_file_put(d);
	assert_int_equal(done0, 1);
	assert_int_equal(drv_a.detaches, 1);
	assert_int_equal(drv_a.releases, 1);
	assert_null(vfio_group_find(GROUP_A));
	vfio_file_put(c);
	assert_int_equal(vfio_file_count(), 0);
}

static void stop_loop(void *arg, uint32_t events)
{
	(void)arg; (void)events;
	uvfio_loop_stop();
}

/* Without anybody reaping, the event loop notices the program's close. */
static void test_hangup_through_loop(void **state)
{
	struct vfio_file *c, *g, *d;
	struct ufile *uc, *ug, *ud;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	uc = hand_over(c);
	ug = hand_over(g);
	ud = hand_over(d);
	close(uc->fd);
	close(ug->fd);
	close(ud->fd);
	uc->f = ug->f = ud->f = NULL;
	assert_int_equal(vfio_file_count(), 3);
	assert_non_null(uvfio_timer_add(100, stop_loop, NULL));
	assert_int_equal(uvfio_loop_run(), 0);
	assert_int_equal(vfio_file_count(), 0);
	assert_int_equal(DEV_A0->closes, 1);
	assert_int_equal(drv_a.releases, 1);
	assert_false(iommu_group_dma_owner_claimed(ig_a));
}

/* Daemon shutdown: every program reference goes at once. */
static void test_release_all(void **state)
{
	struct vfio_file *c, *g, *d, *d2;
	struct ufile *u[3];

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	assert_int_equal(get_device_fd(g, DEV_A1->host.name, &d2), 0);
	u[0] = hand_over(d);
	u[1] = hand_over(c);
	u[2] = hand_over(g);
	vfio_file_release_all();
	assert_int_equal(vfio_file_count(), 0);
	assert_int_equal(DEV_A0->closes + DEV_A1->closes, 2);
	assert_int_equal(drv_a.releases, 1);
	assert_null(vfio_group_find(GROUP_A)->opened_file);
	for (unsigned int i = 0; i < 3; i++) {
		close(u[i]->fd);
		u[i]->f = NULL;
	}
}

/* ---- external users and DMA ---- */

static void test_external_user(void **state)
{
	struct vfio_file *c, *g;
	struct vfio_group *grp = NULL, *grp2 = NULL;
	struct ufile *ug;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];

	(void)state;
	/* Nothing to borrow without a container with a model. */
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A0->vdev, &grp), -EINVAL);
	c = open_container();
	g = open_group(GROUP_A);
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A0->vdev, &grp), -EINVAL);
	assert_int_equal(set_container(g, c), 0);
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A0->vdev, &grp), -EINVAL);
	assert_null(grp);
	assert_int_equal(vfio_group_find(GROUP_A)->external_users, 0);
	assert_int_equal(vfio_group_find(GROUP_A)->container_users, 1);
	assert_int_equal(ioctl_val(c, VFIO_SET_IOMMU, EXT_A), 0);

	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A0->vdev, &grp), 0);
	assert_ptr_equal(grp, vfio_group_find(GROUP_A));
	assert_int_equal(vfio_external_user_iommu_id(grp), GROUP_A);
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A1->vdev, &grp2), 0);
	assert_ptr_equal(grp2, grp);
	vfio_group_put_external_user(grp2);
	/* An external user pins the container like an open device. */
	assert_int_equal(ioctl_val(g, VFIO_GROUP_UNSET_CONTAINER, 0), -EBUSY);

	/* The program closes everything; the external user keeps the
	 * group in its container and the IOMMU context alive. */
	ug = hand_over(g);
	uclose(ug);
	vfio_file_put(c);
	assert_int_equal(drv_a.detaches, 0);
	assert_int_equal(drv_a.releases, 0);
	assert_true(iommu_group_dma_owner_claimed(ig_a));
	assert_int_equal(vfio_external_dma_rw(grp, 16, buf, sizeof(buf), true), 0);
	assert_int_equal(vfio_external_dma_rw(grp, 16, back, sizeof(back), false), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(vfio_external_dma_rw(grp, FAKE_MEM, back, 1, false), -EFAULT);

	/* Kernel rule: a previous open's container still in use blocks a
	 * new open of the group. */
	assert_int_equal(vfio_group_open(GROUP_A, &root_ctx, &g), -EBUSY);

	/* The last put detaches and deprivileges. */
	vfio_group_put_external_user(grp);
	assert_int_equal(drv_a.detaches, 1);
	assert_int_equal(drv_a.releases, 1);
	assert_false(iommu_group_dma_owner_claimed(ig_a));
	assert_int_equal(vfio_group_find(GROUP_A)->external_users, 0);
	assert_null(vfio_group_find(GROUP_A)->container);
	assert_int_equal(vfio_file_count(), 0);

	g = open_group(GROUP_A);
	vfio_file_put(g);
}

static void test_external_user_outlives_device(void **state)
{
	struct vfio_file *c, *g;
	struct vfio_group *grp;
	unsigned int done = 0;

	(void)state;
	open_usable(&c, &g);
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_B0->vdev, &grp), -EINVAL);
	assert_int_equal(vfio_group_get_external_user_from_dev(&DEV_A0->vdev, &grp), 0);
	vfio_file_put(g);
	vfio_file_put(c);
	/* Both devices of the group go while the external user holds it. */
	vfio_unregister_group_dev(&DEV_A0->vdev, removed_cb, &done);
	vfio_unregister_group_dev(&DEV_A1->vdev, removed_cb, &done);
	assert_int_equal(done, 2);
	assert_null(vfio_group_find(GROUP_A));
	assert_int_equal(drv_a.releases, 1);
	assert_int_equal(vfio_external_user_iommu_id(grp), -ENODEV);
	assert_int_equal(vfio_external_dma_rw(grp, 0, &done, 1, false), -EINVAL);
	/* The put frees the orphaned group (valgrind checks). */
	vfio_group_put_external_user(grp);
}

static void test_device_dma_rw(void **state)
{
	struct vfio_file *c, *g, *d;
	uint32_t v = 0xa5a5f00d, r = 0;

	(void)state;
	/* No IOMMU context: refused and counted. */
	assert_int_equal(vfio_device_dma_rw(&DEV_A0->vdev, 0, &v, sizeof(v), true), -EINVAL);
	assert_int_equal(DEV_A0->vdev.stats.dma_faults, 1);

	open_usable(&c, &g);
	assert_int_equal(get_device_fd(g, DEV_A0->host.name, &d), 0);
	assert_int_equal(vfio_device_dma_rw(&DEV_A0->vdev, 64, &v, sizeof(v), true), 0);
	assert_int_equal(vfio_device_dma_rw(&DEV_A0->vdev, 64, &r, sizeof(r), false), 0);
	assert_int_equal(r, v);
	assert_memory_equal(drv_a.mem + 64, &v, sizeof(v));
	assert_int_equal(vfio_device_dma_rw(&DEV_A0->vdev, FAKE_MEM - 2, &r, 4, false), -EFAULT);
	assert_int_equal(DEV_A0->vdev.stats.dma_writes, 1);
	assert_int_equal(DEV_A0->vdev.stats.dma_reads, 1);
	assert_int_equal(DEV_A0->vdev.stats.dma_bytes, 8);
	assert_int_equal(DEV_A0->vdev.stats.dma_faults, 2);
	/* Borrowing for DMA leaves no reference behind. */
	assert_int_equal(vfio_group_find(GROUP_A)->container_users, 2);
	assert_int_equal(vfio_group_find(GROUP_A)->external_users, 0);

	vfio_file_put(d);
	vfio_file_put(g);
	vfio_file_put(c);
	assert_int_equal(drv_a.releases, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_open_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_busy_while_device_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_open_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_viability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_status_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_container_fd_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_extension_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_iommu_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deprivilege_last_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_device_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_cgd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_cdg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_gcd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_gdc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_dcg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_dgc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_waits_for_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_last_device_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup_through_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_user_outlives_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_dma_rw, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
