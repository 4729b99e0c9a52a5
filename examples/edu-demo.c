// SPDX-License-Identifier: MIT
/*
 * edu-demo: a user-space driver for QEMU's "edu" teaching device, written
 * only against the kernel's uAPI (<linux/vfio.h>, <linux/iommufd.h>) and
 * libc.  It follows the flows of the kernel's Documentation/driver-api/vfio.rst
 * and runs unchanged on a Linux host with vfio-pci, or under `uvfio run`.
 *
 *   edu-demo [--cdev] [BDF]   (default: the first edu device bound to vfio-pci)
 *
 * Without --cdev it goes through a container and the device's group; with
 * --cdev through the device cdev /dev/vfio/devices/vfioN and /dev/iommu.
 * Debian 12's <linux/vfio.h> (6.1) predates the cdev ioctls, so they come
 * from uvfio's copy of the newer header, uvfio/vfio_cdev.h.
 */
#include <dirent.h>
#include <linux/iommufd.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uvfio/vfio_cdev.h"

/* edu registers (QEMU docs/specs/edu.rst) */
#define EDU_ID		0x00
#define EDU_LIVENESS	0x04
#define EDU_FACTORIAL	0x08
#define EDU_STATUS	0x20
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_BUF	0x40000

#define EDU_STATUS_IRQFACT	0x80
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4

#define DMA_IOVA	0x1000000ULL	/* 16 MiB: inside edu's 28-bit DMA range */
#define DMA_SIZE	(1024 * 1024)

static int step;

#define say(...) do { printf("[%2d] ", ++step); printf(__VA_ARGS__); putchar('\n'); } while (0)
#define die(...) do { fprintf(stderr, "edu-demo: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)
#define check(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

struct edu {
	int device;
	uint64_t bar0;		/* region offset of BAR0 */
	uint64_t config;	/* region offset of config space */
	int irq;		/* eventfd signalled by MSI */
};

static uint32_t rd32(struct edu *e, uint64_t reg)
{
	uint32_t v;

	check(pread(e->device, &v, 4, e->bar0 + reg) == 4, "read 0x%llx: %s",
	      (unsigned long long)reg, strerror(errno));
	return v;
}

static void wr32(struct edu *e, uint64_t reg, uint32_t v)
{
	check(pwrite(e->device, &v, 4, e->bar0 + reg) == 4, "write 0x%llx: %s",
	      (unsigned long long)reg, strerror(errno));
}

static void wr64(struct edu *e, uint64_t reg, uint64_t v)
{
	check(pwrite(e->device, &v, 8, e->bar0 + reg) == 8, "write 0x%llx: %s",
	      (unsigned long long)reg, strerror(errno));
}

static void wait_irq(struct edu *e, const char *what)
{
	struct pollfd p = { .fd = e->irq, .events = POLLIN };
	uint64_t count;

	check(poll(&p, 1, 5000) == 1, "no interrupt for %s", what);
	check(read(e->irq, &count, sizeof(count)) == sizeof(count), "eventfd read");
}

static int read_attr(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok;
}

/* The edu device (1234:11e8) bound to vfio-pci with the lowest address. */
static int find_edu(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char buf[256], path[512];
		ssize_t n;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= len)
			continue;
		if (!read_attr(de->d_name, "vendor", buf, sizeof(buf)) || strcmp(buf, "0x1234\n") ||
		    !read_attr(de->d_name, "device", buf, sizeof(buf)) || strcmp(buf, "0x11e8\n"))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", de->d_name);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (strcmp(basename(buf), "vfio-pci"))
			continue;
		if (!found || strcmp(de->d_name, bdf) < 0)
			strcpy(bdf, de->d_name);
		found = 1;
	}
	closedir(d);
	return found;
}

static void print_iommu_info(int container)
{
	struct vfio_iommu_type1_info *info = calloc(1, sizeof(*info));
	struct vfio_info_cap_header *hdr;
	size_t size = sizeof(*info);

	info->argsz = (uint32_t)size;
	check(ioctl(container, VFIO_IOMMU_GET_INFO, info) == 0, "IOMMU_GET_INFO: %s",
	      strerror(errno));
	/* The capability chain does not fit: ask again with what it needs. */
	if (info->argsz > size) {
		size = info->argsz;
		info = realloc(info, size);
		memset(info, 0, size);
		info->argsz = (uint32_t)size;
		check(ioctl(container, VFIO_IOMMU_GET_INFO, info) == 0, "IOMMU_GET_INFO");
	}
	say("IOMMU: page sizes 0x%llx, info with %zu bytes of capabilities",
	    (unsigned long long)info->iova_pgsizes, size - sizeof(*info));
	for (uint32_t off = info->cap_offset; off; off = hdr->next) {
		hdr = (void *)((char *)info + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)hdr;

			for (uint32_t i = 0; i < r->nr_iovas; i++)
				printf("     usable IOVA range 0x%llx-0x%llx\n",
				       (unsigned long long)r->iova_ranges[i].start,
				       (unsigned long long)r->iova_ranges[i].end);
		} else if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			printf("     DMA mappings available: %u\n",
			       ((struct vfio_iommu_type1_info_dma_avail *)hdr)->avail);
		}
	}
	free(info);
}

/* How the device was reached, and how to let it go. */
struct path_ops {
	void (*unmap)(void *ctx);
	void (*close_all)(void *ctx, struct edu *e);
};

struct group_path {
	int container, group;
};

struct cdev_path {
	int iommufd;
	uint32_t ioas;
};

/* Container, group, IOMMU model, DMA mapping, device fd: vfio.rst's flow. */
static void open_group_path(struct group_path *p, const char *bdf, uint8_t *buf, struct edu *e)
{
	struct vfio_group_status group_status = { .argsz = sizeof(group_status) };
	struct vfio_iommu_type1_dma_map dma_map = { .argsz = sizeof(dma_map) };
	char path[512], link[512];
	int group_id;
	ssize_t n;

	/* Which IOMMU group is the device in? */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	check(n > 0, "%s: %s", path, strerror(errno));
	link[n] = 0;
	group_id = atoi(basename(link));
	say("device %s is in IOMMU group %d", bdf, group_id);

	/* Create a new container */
	p->container = open("/dev/vfio/vfio", O_RDWR);
	check(p->container >= 0, "/dev/vfio/vfio: %s", strerror(errno));
	check(ioctl(p->container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
	      "unknown API version");
	check(ioctl(p->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
	      "no TYPE1v2 IOMMU support");
	say("container open: API version %d, type1v2 IOMMU supported", VFIO_API_VERSION);

	/* Open the group */
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	p->group = open(path, O_RDWR);
	check(p->group >= 0, "%s: %s", path, strerror(errno));
	check(ioctl(p->group, VFIO_GROUP_GET_STATUS, &group_status) == 0, "GROUP_GET_STATUS");
	check(group_status.flags & VFIO_GROUP_FLAGS_VIABLE,
	      "group %d is not viable (not all its devices are bound to vfio)", group_id);
	say("group %d open and viable", group_id);

	/* Add the group to the container, enable the IOMMU model */
	check(ioctl(p->group, VFIO_GROUP_SET_CONTAINER, &p->container) == 0,
	      "SET_CONTAINER: %s", strerror(errno));
	check(ioctl(p->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "SET_IOMMU: %s",
	      strerror(errno));
	say("group added to the container, type1v2 IOMMU set");
	print_iommu_info(p->container);

	/* Setup a DMA mapping of the buffer */
	dma_map.vaddr = (uintptr_t)buf;
	dma_map.size = DMA_SIZE;
	dma_map.iova = DMA_IOVA;
	dma_map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	check(ioctl(p->container, VFIO_IOMMU_MAP_DMA, &dma_map) == 0, "MAP_DMA: %s",
	      strerror(errno));
	say("mapped %d KiB of anonymous memory at IOVA 0x%llx", DMA_SIZE / 1024,
	    (unsigned long long)DMA_IOVA);

	/* Get a file descriptor for the device */
	e->device = ioctl(p->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(e->device >= 0, "GET_DEVICE_FD: %s", strerror(errno));
}

static void group_unmap(void *ctx)
{
	struct group_path *p = ctx;
	struct vfio_iommu_type1_dma_unmap dma_unmap = {
		.argsz = sizeof(dma_unmap), .iova = DMA_IOVA, .size = DMA_SIZE,
	};

	check(ioctl(p->container, VFIO_IOMMU_UNMAP_DMA, &dma_unmap) == 0, "UNMAP_DMA");
	say("unmapped %llu KiB", (unsigned long long)dma_unmap.size / 1024);
}

static void group_close(void *ctx, struct edu *e)
{
	struct group_path *p = ctx;

	close(p->container);
	close(p->group);
	close(e->irq);
	close(e->device);
	say("closed container, group, then device: all released");
}

static const struct path_ops group_ops = { group_unmap, group_close };

/* The cdev flow: open the device's cdev (found under its vfio-dev sysfs
 * directory), bind it to an iommufd, give it an IOAS, map. */
static void open_cdev_path(struct cdev_path *p, const char *bdf, uint8_t *buf, struct edu *e)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	char path[512], cdev[300] = "";
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	check(d, "%s: %s (no device cdev)", path, strerror(errno));
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", de->d_name);
	closedir(d);
	check(cdev[0], "no vfioN under %s", path);

	e->device = open(cdev, O_RDWR);
	check(e->device >= 0, "%s: %s", cdev, strerror(errno));
	say("device %s has cdev %s; opened (blocked until bound)", bdf, cdev);

	p->iommufd = open("/dev/iommu", O_RDWR);
	check(p->iommufd >= 0, "/dev/iommu: %s", strerror(errno));
	bind.iommufd = p->iommufd;
	check(ioctl(e->device, VFIO_DEVICE_BIND_IOMMUFD, &bind) == 0, "BIND_IOMMUFD: %s",
	      strerror(errno));
	say("bound to a new iommufd: device ID %u", bind.out_devid);

	check(ioctl(p->iommufd, IOMMU_IOAS_ALLOC, &alloc) == 0, "IOAS_ALLOC: %s", strerror(errno));
	p->ioas = alloc.out_ioas_id;
	attach.pt_id = p->ioas;
	check(ioctl(e->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) == 0,
	      "ATTACH_IOMMUFD_PT: %s", strerror(errno));
	say("IOAS %u allocated; device attached, through paging HWPT %u", p->ioas, attach.pt_id);

	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE;
	map.ioas_id = p->ioas;
	map.user_va = (uintptr_t)buf;
	map.length = DMA_SIZE;
	map.iova = DMA_IOVA;
	check(ioctl(p->iommufd, IOMMU_IOAS_MAP, &map) == 0, "IOAS_MAP: %s", strerror(errno));
	say("mapped %d KiB of anonymous memory at IOVA 0x%llx in IOAS %u", DMA_SIZE / 1024,
	    (unsigned long long)DMA_IOVA, p->ioas);
}

static void cdev_unmap(void *ctx)
{
	struct cdev_path *p = ctx;
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = p->ioas, .iova = DMA_IOVA, .length = DMA_SIZE,
	};

	check(ioctl(p->iommufd, IOMMU_IOAS_UNMAP, &unmap) == 0, "IOAS_UNMAP: %s",
	      strerror(errno));
	say("unmapped %llu KiB", (unsigned long long)unmap.length / 1024);
}

static void cdev_close(void *ctx, struct edu *e)
{
	struct cdev_path *p = ctx;
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };

	check(ioctl(e->device, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach) == 0, "DETACH: %s",
	      strerror(errno));
	say("device detached: its DMA is blocked again");
	close(p->iommufd);
	close(e->irq);
	close(e->device);
	say("closed the iommufd, then the device: unbound and released");
}

static const struct path_ops cdev_ops = { cdev_unmap, cdev_close };

int main(int argc, char **argv)
{
	struct vfio_device_info device_info = { .argsz = sizeof(device_info) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	const struct path_ops *ops;
	struct group_path gp;
	struct cdev_path cp;
	void *ctx;
	bool use_cdev = argc > 1 && !strcmp(argv[1], "--cdev");
	char bdf[64];
	struct edu e = { 0 };
	uint8_t *buf;

	if (use_cdev) {
		argc--;
		argv++;
	}
	if (argc > 1)
		snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	else if (!find_edu(bdf, sizeof(bdf)))
		die("no edu device bound to vfio-pci");

	/* The DMA buffer: plain anonymous memory, as the kernel docs use. */
	buf = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(buf != MAP_FAILED, "mmap");
	if (use_cdev) {
		open_cdev_path(&cp, bdf, buf, &e);
		ops = &cdev_ops;
		ctx = &cp;
	} else {
		open_group_path(&gp, bdf, buf, &e);
		ops = &group_ops;
		ctx = &gp;
	}
	check(ioctl(e.device, VFIO_DEVICE_GET_INFO, &device_info) == 0, "DEVICE_GET_INFO");
	say("device fd: %u regions, %u IRQ indexes%s%s%s", device_info.num_regions,
	    device_info.num_irqs, device_info.flags & VFIO_DEVICE_FLAGS_PCI ? ", PCI" : "",
	    device_info.flags & VFIO_DEVICE_FLAGS_RESET ? ", resettable" : "",
	    device_info.flags & VFIO_DEVICE_FLAGS_CDEV ? ", opened as a cdev" : "");

	/* Config space: identify, then enable memory decode and bus mastering. */
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	check(ioctl(e.device, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO config");
	e.config = reg.offset;
	uint16_t ids[2], cmd;

	check(pread(e.device, ids, 4, e.config) == 4, "config read");
	check(pread(e.device, &cmd, 2, e.config + PCI_COMMAND) == 2, "config read");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	check(pwrite(e.device, &cmd, 2, e.config + PCI_COMMAND) == 2, "config write");
	say("config space (%llu bytes): vendor 0x%04x device 0x%04x; memory + bus master on",
	    (unsigned long long)reg.size, ids[0], ids[1]);

	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	check(ioctl(e.device, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO BAR0");
	e.bar0 = reg.offset;
	say("BAR0: %llu KiB at region offset 0x%llx, flags 0x%x", (unsigned long long)reg.size / 1024,
	    (unsigned long long)reg.offset, reg.flags);

	uint32_t id = rd32(&e, EDU_ID);

	wr32(&e, EDU_LIVENESS, 0x12345678);
	say("edu version %u.%u, liveness check: wrote 0x12345678, read 0x%08x", id >> 24,
	    (id >> 16) & 0xff, rd32(&e, EDU_LIVENESS));
	check(rd32(&e, EDU_LIVENESS) == ~0x12345678u, "liveness check failed");

	/* MSI through an eventfd */
	irq.index = VFIO_PCI_MSI_IRQ_INDEX;
	check(ioctl(e.device, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0, "IRQ_INFO");
	check(irq.count >= 1, "no MSI");
	e.irq = eventfd(0, EFD_CLOEXEC);
	{
		char sbuf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
		struct vfio_irq_set *set = (void *)sbuf;

		set->argsz = sizeof(sbuf);
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = VFIO_PCI_MSI_IRQ_INDEX;
		set->start = 0;
		set->count = 1;
		memcpy(set->data, &e.irq, sizeof(int32_t));
		check(ioctl(e.device, VFIO_DEVICE_SET_IRQS, set) == 0, "SET_IRQS: %s",
		      strerror(errno));
	}
	say("MSI vector 0 wired to an eventfd");

	wr32(&e, EDU_STATUS, EDU_STATUS_IRQFACT);
	wr32(&e, EDU_FACTORIAL, 10);
	wait_irq(&e, "factorial");
	uint32_t fact = rd32(&e, EDU_FACTORIAL);

	check(fact == 3628800, "10! = %u?", fact);
	wr32(&e, EDU_IRQ_ACK, rd32(&e, EDU_IRQ_STATUS));
	say("factorial: 10! = %u, announced by MSI", fact);

	/* DMA: page 0 of the buffer into the device, then back out to page 1. */
	for (int i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memset(buf + 4096, 0, 4096);
	wr64(&e, EDU_DMA_SRC, DMA_IOVA);
	wr64(&e, EDU_DMA_DST, EDU_DMA_BUF);
	wr64(&e, EDU_DMA_COUNT, 4096);
	wr64(&e, EDU_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ);
	wait_irq(&e, "DMA to the device");
	wr32(&e, EDU_IRQ_ACK, rd32(&e, EDU_IRQ_STATUS));
	wr64(&e, EDU_DMA_SRC, EDU_DMA_BUF);
	wr64(&e, EDU_DMA_DST, DMA_IOVA + 4096);
	wr64(&e, EDU_DMA_COUNT, 4096);
	wr64(&e, EDU_DMA_CMD, EDU_DMA_START | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	wait_irq(&e, "DMA from the device");
	wr32(&e, EDU_IRQ_ACK, rd32(&e, EDU_IRQ_STATUS));
	check(!memcmp(buf, buf + 4096, 4096), "DMA round trip corrupted the data");
	say("DMA: 4 KiB from IOVA 0x%llx into the device and back to IOVA 0x%llx: identical",
	    (unsigned long long)DMA_IOVA, (unsigned long long)DMA_IOVA + 4096);

	/* Tear down: unmap, then close in an unusual order. */
	ops->unmap(ctx);
	ops->close_all(ctx, &e);
	munmap(buf, DMA_SIZE);
	return 0;
}
