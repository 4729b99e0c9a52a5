// SPDX-License-Identifier: MIT
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vfio.h"
#include "pci/pci_bus.h"
#include "util/dir.h"
#include "util/log.h"

#define PCI_ROOT "devices/pci0000:10"	/* our devices' root complex */
#define VFIO_CDEV_MAJOR	241		/* what the kernel's vfio cdev region gets */

/*
 * Everything below is made relative to directory descriptors, with
 * O_NOFOLLOW, and fresh files with O_EXCL: a symlink found in the daemon's
 * directory is never written through.
 */

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The directory rel (a/b/c) under base, made with its parents if need be.
 * Returns its descriptor or -errno. */
static int dir_at(int base, const char *fmt, ...)
{
	char rel[PATH_MAX], *save = NULL, *comp;
	int fd = base, next, ret;
	va_list ap;

	va_start(ap, fmt);
	ret = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (ret < 0 || ret >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	for (comp = strtok_r(rel, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		/* A name from a topology (a driver's) must not climb out. */
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			ret = -EINVAL;
			goto fail;
		}
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			goto fail;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			ret = -errno;
			goto fail;
		}
		if (fd != base)
			close(fd);
		fd = next;
	}
	return fd != base ? fd : -EINVAL;
fail:
	if (fd != base)
		close(fd);
	return ret;
}

/* A new file: the tree is built fresh, so anything already there is wrong. */
static int new_file(int dfd, const char *name, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

static int put_file(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = new_file(dfd, name, mode);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int putf(int dfd, const char *name, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put_file(dfd, name, buf, (size_t)n, 0444);
}

static int link_at(int dfd, const char *name, const char *fmt, ...)
{
	char target[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	return symlinkat(target, dfd, name) < 0 ? -errno : 0;
}

/* The device cdev's class device: <BDF>/vfio-dev/vfioN, which programs scan
 * to find /dev/vfio/devices/vfioN, and its /sys/class/vfio-dev link. */
static int write_vfio_dev(int sys, int devdir, struct host_device *dev)
{
	int idx = dev->vdev->index, d;
	char name[32];

	snprintf(name, sizeof(name), "vfio%d", idx);
	d = dir_at(devdir, "vfio-dev/%s", name);
	if (d < 0)
		return d;
	putf(d, "dev", "%d:%d\n", VFIO_CDEV_MAJOR, idx);
	putf(d, "uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=vfio/devices/%s\n", VFIO_CDEV_MAJOR, idx,
	     name);
	link_at(d, "subsystem", "../../../../../class/vfio-dev");
	link_at(d, "device", "../../../%s", dev->name);
	close(d);
	d = dir_at(sys, "class/vfio-dev");
	if (d < 0)
		return d;
	link_at(d, name, "../../" PCI_ROOT "/%s/vfio-dev/%s", dev->name, name);
	close(d);
	return 0;
}

static int write_device(int sys, struct host_device *dev)
{
	struct pci_sysfs_info info;
	char buf[1024];
	size_t len = 0;
	int d, ret;

	ret = pci_bus_sysfs_info(dev, &info);
	if (ret)
		return ret;
	d = dir_at(sys, PCI_ROOT "/%s", dev->name);
	if (d < 0)
		return d;

	putf(d, "vendor", "0x%04x\n", info.vendor);
	putf(d, "device", "0x%04x\n", info.device);
	putf(d, "subsystem_vendor", "0x%04x\n", info.subsystem_vendor);
	putf(d, "subsystem_device", "0x%04x\n", info.subsystem_device);
	putf(d, "class", "0x%06x\n", info.class);
	putf(d, "revision", "0x%02x\n", info.revision);
	putf(d, "numa_node", "-1\n");
	putf(d, "irq", "0\n");
	putf(d, "enable", "%d\n", dev->vdev && dev->vdev->open_count ? 1 : 0);
	putf(d, "local_cpulist", "0-%ld\n", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	putf(d, "modalias", "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", info.vendor,
	     info.device, info.subsystem_vendor, info.subsystem_device,
	     info.class >> 16, (info.class >> 8) & 0xff, info.class & 0xff);
	putf(d, "uevent", "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
	     "PCI_SLOT_NAME=%s\n",
	     dev->driver[0] ? "DRIVER=" : "", dev->driver, dev->driver[0] ? "\n" : "",
	     info.class, info.vendor, info.device, info.subsystem_vendor,
	     info.subsystem_device, dev->name);
	for (int i = 0; i < 13; i++) {
		uint64_t start = i < 7 ? info.resource[i].start : 0;
		uint64_t end = i < 7 ? info.resource[i].end : 0;
		uint64_t flags = i < 7 ? info.resource[i].flags : 0;

		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"0x%016llx 0x%016llx 0x%016llx\n",
					(unsigned long long)start, (unsigned long long)end,
					(unsigned long long)flags);
	}
	put_file(d, "resource", buf, len, 0444);
	put_file(d, "config", info.config, info.config_size, 0644);

	link_at(d, "subsystem", "../../../bus/pci");
	link_at(d, "iommu_group", "../../../kernel/iommu_groups/%d", dev->iommu_group->id);
	if (dev->driver[0])
		link_at(d, "driver", "../../../bus/pci/drivers/%s", dev->driver);
	ret = dev->vdev ? write_vfio_dev(sys, d, dev) : 0;
	close(d);
	return ret;
}

/* Device nodes are plain files carrying the owner and mode of the node;
 * both set on the descriptor, exactly (no umask), owner first so that a
 * chown cannot clear mode bits. */
static void put_node(int dfd, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	int fd = new_file(dfd, name, mode);

	if (fd < 0)
		return;
	if (geteuid() == 0 && fchown(fd, uid, gid) < 0)
		uvfio_dbg("chown %s: %s", name, strerror(errno));
	fchmod(fd, mode);
	close(fd);
}

static int build_sys(int sys, FILE *redirects)
{
	static const char *const dirs[] = {
		"bus/pci/devices", "bus/pci/drivers/vfio-pci", "kernel/iommu_groups",
		"module/vfio/parameters", "module/vfio_pci/parameters",
		"module/vfio_iommu_type1/parameters", PCI_ROOT,
	};
	struct iommu_group *g;
	int d, ret = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		d = dir_at(sys, "%s", dirs[i]);
		if (d < 0)
			return d;
		close(d);
	}
	d = dir_at(sys, "module/vfio/parameters");
	if (d < 0)
		return d;
	putf(d, "enable_unsafe_noiommu_mode", "%c\n", vfio_noiommu ? 'Y' : 'N');
	close(d);
	d = dir_at(sys, "module/vfio_iommu_type1/parameters");
	if (d < 0)
		return d;
	putf(d, "dma_entry_limit", "65535\n");
	putf(d, "allow_unsafe_interrupts", "N\n");
	close(d);
	d = dir_at(sys, "module/vfio_pci/parameters");
	if (d < 0)
		return d;
	putf(d, "nointxmask", "N\n");
	putf(d, "disable_idle_d3", "N\n");
	close(d);
	fputs("/sys/bus/pci/devices\n/sys/bus/pci/drivers/vfio-pci\n/sys/kernel/iommu_groups\n"
	      "/sys/module/vfio\n/sys/module/vfio_pci\n/sys/module/vfio_iommu_type1\n"
	      "/sys/class/vfio-dev\n/dev/vfio\n/dev/iommu\n/sys/" PCI_ROOT "\n", redirects);

	iommu_group_for_each(g) {
		int gd = -1, members = -1, bus = -1, drv;
		struct host_device *dev;

		gd = dir_at(sys, "kernel/iommu_groups/%d", g->id);
		members = gd < 0 ? gd : dir_at(gd, "devices");
		bus = dir_at(sys, "bus/pci/devices");
		if (gd < 0 || members < 0 || bus < 0) {
			ret = gd < 0 ? gd : members < 0 ? members : bus;
			goto next;
		}
		putf(gd, "type", "DMA\n");
		putf(gd, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
		TAILQ_FOREACH(dev, &g->devices, group_next) {
			ret = write_device(sys, dev);
			if (ret)
				goto next;
			link_at(bus, dev->name, "../../../" PCI_ROOT "/%s", dev->name);
			link_at(members, dev->name, "../../../../" PCI_ROOT "/%s", dev->name);
			if (!dev->driver[0])
				continue;
			drv = dir_at(sys, "bus/pci/drivers/%s", dev->driver);
			if (drv >= 0) {
				link_at(drv, dev->name, "../../../../" PCI_ROOT "/%s", dev->name);
				close(drv);
			}
			if (strcmp(dev->driver, "vfio-pci"))
				fprintf(redirects, "/sys/bus/pci/drivers/%s\n", dev->driver);
		}
next:
		close_fd(gd);
		close_fd(members);
		close_fd(bus);
		if (ret)
			return ret;
	}
	return 0;
}

static int build_dev(int devdir)
{
	struct iommu_group *g;
	int vfio, cdevs;

	vfio = dir_at(devdir, "vfio");
	if (vfio < 0)
		return vfio;
	cdevs = dir_at(vfio, "devices");
	if (cdevs < 0) {
		close(vfio);
		return cdevs;
	}
	put_node(vfio, "vfio", 0666, 0, 0);
	put_node(devdir, "iommu", 0666, 0, 0);
	iommu_group_for_each(g) {
		struct vfio_group *vg = g->vfio_group;
		struct vfio_device *vdev;
		char name[32];

		if (!vg)
			continue;
		snprintf(name, sizeof(name), "%d", g->id);
		put_node(vfio, name, vg->mode, vg->uid, vg->gid);
		/* A group's cdevs carry its owner and mode, as udev rules
		 * usually give them. */
		TAILQ_FOREACH(vdev, &vg->device_list, group_next) {
			snprintf(name, sizeof(name), "vfio%d", vdev->index);
			put_node(cdevs, name, vg->mode, vg->uid, vg->gid);
		}
	}
	close(cdevs);
	close(vfio);
	return 0;
}

/* Builds the whole tree into stage/, then swaps it in: readers see the old
 * or the new tree, only for an instant neither. */
static int build(int stage, FILE *redirects)
{
	int d, ret;

	d = dir_at(stage, "sys");
	if (d < 0)
		return d;
	ret = build_sys(d, redirects);
	close(d);
	if (ret)
		return ret;
	d = dir_at(stage, "dev");
	if (d < 0)
		return d;
	ret = build_dev(d);
	close(d);
	return ret;
}

/* root/ may hold the view already; anything else by that name (a symlink,
 * a file) goes, as it is not ours to follow. */
static int open_root(int dirfd)
{
	int fd = dir_at(dirfd, "root");

	if (fd != -ELOOP && fd != -ENOTDIR)
		return fd;
	uvfio_rm_tree_at(dirfd, "root");
	return dir_at(dirfd, "root");
}

int sysfs_write(int dirfd)
{
	int stage = -1, root = -1, old = -1, fd, ret;
	FILE *redirects = NULL;

	/* Leftovers of an earlier run are removed, never reused. */
	uvfio_rm_tree_at(dirfd, "root.stage");
	uvfio_rm_tree_at(dirfd, "root.old");
	uvfio_rm_tree_at(dirfd, "redirects.tmp");
	stage = dir_at(dirfd, "root.stage");
	root = open_root(dirfd);
	old = dir_at(dirfd, "root.old");
	ret = stage < 0 ? stage : root < 0 ? root : old < 0 ? old : 0;
	if (ret)
		goto out;
	/* Readable by all: the directory's own mode says who reaches it. */
	fd = new_file(dirfd, "redirects.tmp", 0644);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	fchmod(fd, 0644);
	redirects = fdopen(fd, "w");
	if (!redirects) {
		ret = -errno;
		close(fd);
		goto out;
	}
	ret = build(stage, redirects);
	if (fclose(redirects) && !ret)
		ret = -EIO;
	if (ret)
		goto out;
	for (int i = 0; i < 2; i++) {
		const char *top = i ? "dev" : "sys";

		renameat(root, top, old, top);
		if (renameat(stage, top, root, top) < 0) {
			ret = -errno;
			goto out;
		}
	}
	/* Replaces whatever is called redirects, a symlink included, without
	 * following it. */
	if (renameat(dirfd, "redirects.tmp", dirfd, "redirects") < 0)
		ret = -errno;
out:
	close_fd(stage);
	close_fd(root);
	close_fd(old);
	uvfio_rm_tree_at(dirfd, "root.old");
	uvfio_rm_tree_at(dirfd, "root.stage");
	uvfio_rm_tree_at(dirfd, "redirects.tmp");
	return ret;
}
