// SPDX-License-Identifier: MIT
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vfio.h"
#include "pci/pci_bus.h"
#include "util/log.h"

#define PCI_ROOT "devices/pci0000:10"	/* our devices' root complex */
#define VFIO_CDEV_MAJOR	241		/* what the kernel's vfio cdev region gets */

/* Paths under the daemon dir; an over-long one fails to open later. */
static void pathf(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
}

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	pathf(tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int put_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int putf(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pathf(path, "%s/%s", dir, name);
	return put_file(path, buf, (size_t)n, 0444);
}

static int link_at(const char *target, const char *dir, const char *name)
{
	char path[PATH_MAX];

	pathf(path, "%s/%s", dir, name);
	return symlink(target, path) < 0 ? -errno : 0;
}

/* The device cdev's class device: <BDF>/vfio-dev/vfioN, which programs scan
 * to find /dev/vfio/devices/vfioN, and its /sys/class/vfio-dev link. */
static int write_vfio_dev(const char *sys, const char *devdir, struct host_device *dev)
{
	char d[PATH_MAX], p[PATH_MAX], name[32];
	int idx = dev->vdev->index, ret;

	snprintf(name, sizeof(name), "vfio%d", idx);
	pathf(d, "%s/vfio-dev/%s", devdir, name);
	ret = mkdirs(d);
	if (ret)
		return ret;
	putf(d, "dev", "%d:%d\n", VFIO_CDEV_MAJOR, idx);
	putf(d, "uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=vfio/devices/%s\n", VFIO_CDEV_MAJOR, idx,
	     name);
	link_at("../../../../../class/vfio-dev", d, "subsystem");
	pathf(p, "../../../%s", dev->name);
	link_at(p, d, "device");
	pathf(p, "%s/class/vfio-dev", sys);
	ret = mkdirs(p);
	if (ret)
		return ret;
	pathf(d, "../../" PCI_ROOT "/%s/vfio-dev/%s", dev->name, name);
	return link_at(d, p, name);
}

static int write_device(const char *sys, struct host_device *dev)
{
	struct pci_sysfs_info info;
	char d[PATH_MAX], p[PATH_MAX], buf[1024];
	size_t len = 0;
	int ret;

	ret = pci_bus_sysfs_info(dev, &info);
	if (ret)
		return ret;
	pathf(d, "%s/" PCI_ROOT "/%s", sys, dev->name);
	ret = mkdirs(d);
	if (ret)
		return ret;

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
	pathf(p, "%s/resource", d);
	put_file(p, buf, len, 0444);
	pathf(p, "%s/config", d);
	put_file(p, info.config, info.config_size, 0644);

	link_at("../../../bus/pci", d, "subsystem");
	pathf(p, "../../../kernel/iommu_groups/%d", dev->iommu_group->id);
	link_at(p, d, "iommu_group");
	if (dev->driver[0]) {
		pathf(p, "../../../bus/pci/drivers/%s", dev->driver);
		link_at(p, d, "driver");
	}
	if (dev->vdev)
		return write_vfio_dev(sys, d, dev);
	return 0;
}

/* Device nodes are plain files carrying the owner and mode of the node. */
static void put_node(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	put_file(path, "", 0, mode);
	chmod(path, mode);
	if (geteuid() == 0 && chown(path, uid, gid) < 0)
		uvfio_dbg("chown %s: %s", path, strerror(errno));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Builds the whole tree into stage/, then swaps it in: readers see the old
 * or the new tree, only for an instant neither. */
static int build(const char *stage, FILE *redirects)
{
	char sys[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	struct iommu_group *g;
	int ret;

	pathf(sys, "%s/sys", stage);
	const char *dirs[] = { "bus/pci/devices", "bus/pci/drivers/vfio-pci", "kernel/iommu_groups",
			       "module/vfio/parameters", "module/vfio_pci/parameters",
			       "module/vfio_iommu_type1/parameters", PCI_ROOT };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		pathf(p, "%s/%s", sys, dirs[i]);
		ret = mkdirs(p);
		if (ret)
			return ret;
	}
	pathf(p, "%s/module/vfio/parameters", sys);
	putf(p, "enable_unsafe_noiommu_mode", "%c\n", vfio_noiommu ? 'Y' : 'N');
	pathf(p, "%s/module/vfio_iommu_type1/parameters", sys);
	putf(p, "dma_entry_limit", "65535\n");
	putf(p, "allow_unsafe_interrupts", "N\n");
	pathf(p, "%s/module/vfio_pci/parameters", sys);
	putf(p, "nointxmask", "N\n");
	putf(p, "disable_idle_d3", "N\n");
	fputs("/sys/bus/pci/devices\n/sys/bus/pci/drivers/vfio-pci\n/sys/kernel/iommu_groups\n"
	      "/sys/module/vfio\n/sys/module/vfio_pci\n/sys/module/vfio_iommu_type1\n"
	      "/sys/class/vfio-dev\n/dev/vfio\n/dev/iommu\n/sys/" PCI_ROOT "\n", redirects);

	iommu_group_for_each(g) {
		struct host_device *dev;

		pathf(p, "%s/kernel/iommu_groups/%d/devices", sys, g->id);
		ret = mkdirs(p);
		if (ret)
			return ret;
		pathf(q, "%s/kernel/iommu_groups/%d", sys, g->id);
		putf(q, "type", "DMA\n");
		putf(q, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
		TAILQ_FOREACH(dev, &g->devices, group_next) {
			char target[PATH_MAX];

			ret = write_device(sys, dev);
			if (ret)
				return ret;
			pathf(target, "../../../" PCI_ROOT "/%s", dev->name);
			pathf(q, "%s/bus/pci/devices", sys);
			link_at(target, q, dev->name);
			pathf(target, "../../../../" PCI_ROOT "/%s", dev->name);
			link_at(target, p, dev->name);
			if (dev->driver[0]) {
				pathf(q, "%s/bus/pci/drivers/%s", sys, dev->driver);
				mkdirs(q);
				link_at(target, q, dev->name);
				if (strcmp(dev->driver, "vfio-pci"))
					fprintf(redirects, "/sys/bus/pci/drivers/%s\n", dev->driver);
			}
		}
	}

	pathf(p, "%s/dev/vfio", stage);
	ret = mkdirs(p);
	if (ret)
		return ret;
	pathf(q, "%s/vfio", p);
	put_node(q, 0666, 0, 0);
	pathf(q, "%s/dev/iommu", stage);
	put_node(q, 0666, 0, 0);
	pathf(q, "%s/devices", p);
	ret = mkdirs(q);
	if (ret)
		return ret;
	iommu_group_for_each(g) {
		struct vfio_group *vg = g->vfio_group;
		struct vfio_device *vdev;

		if (!vg)
			continue;
		pathf(q, "%s/%d", p, g->id);
		put_node(q, vg->mode, vg->uid, vg->gid);
		/* A group's cdevs carry its owner and mode, as udev rules
		 * usually give them. */
		TAILQ_FOREACH(vdev, &vg->device_list, group_next) {
			pathf(q, "%s/devices/vfio%d", p, vdev->index);
			put_node(q, vg->mode, vg->uid, vg->gid);
		}
	}
	return 0;
}

int sysfs_write(const char *dir)
{
	char stage[PATH_MAX], root[PATH_MAX], from[PATH_MAX], to[PATH_MAX], old[PATH_MAX];
	char rtmp[PATH_MAX], rpath[PATH_MAX];
	FILE *redirects;
	int ret;

	pathf(stage, "%s/root.stage", dir);
	pathf(root, "%s/root", dir);
	pathf(old, "%s/root.old", dir);
	pathf(rtmp, "%s/redirects.tmp", dir);
	pathf(rpath, "%s/redirects", dir);
	rm_tree(stage);
	rm_tree(old);
	if (mkdirs(stage) || mkdirs(root) || mkdirs(old))
		return -errno;
	redirects = fopen(rtmp, "we");
	if (!redirects)
		return -errno;
	ret = build(stage, redirects);
	if (fclose(redirects) && !ret)
		ret = -EIO;
	if (ret) {
		uvfio_err("cannot write the sysfs view under %s: %s", dir, strerror(-ret));
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		const char *top = i ? "dev" : "sys";

		pathf(from, "%s/%s", stage, top);
		pathf(to, "%s/%s", root, top);
		pathf(old, "%s/root.old/%s", dir, top);
		rename(to, old);
		if (rename(from, to) < 0)
			return -errno;
	}
	if (rename(rtmp, rpath) < 0)
		return -errno;
	/* Everyone may read the view; the nodes' own modes say who may open. */
	chmod(dir, 0755);
	pathf(old, "%s/root.old", dir);
	rm_tree(old);
	rm_tree(stage);
	return 0;
}
