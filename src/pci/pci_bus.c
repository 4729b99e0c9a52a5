// SPDX-License-Identifier: MIT
/*
 * The host PCI bus: enumerates emulated functions, assigns their BARs bus
 * addresses (as firmware would), puts them in IOMMU groups and binds
 * drivers.  A host driver is represented by its one visible effect: it uses
 * the group's default DMA domain, which keeps user space out of the group.
 */
#include "pci_bus.h"

#include <errno.h>
#include <stddef.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "iommu/dma_mem.h"
#include "pci_dev.h"
#include "util/log.h"
#include "vfio_pci_priv.h"

struct bus_dev {
	struct host_device hdev;
	struct uvfio_pci_dev *pdev;
	uint32_t key;			/* domain:bus:dev.fn, for ordering */
	bool unbinding;
	TAILQ_ENTRY(bus_dev) next;
};

static TAILQ_HEAD(, bus_dev) bus_devs = TAILQ_HEAD_INITIALIZER(bus_devs);

/* Address windows the "firmware" assigns BARs from. */
static struct {
	uint64_t start, limit, next;
} windows[] = {
	[UVFIO_BAR_MEM32] = { 0xc0000000ULL, 0xfec00000ULL, 0xc0000000ULL },
	[UVFIO_BAR_MEM64] = { 0x8000000000ULL, 0x10000000000ULL, 0x8000000000ULL },
	[UVFIO_BAR_IO] = { 0xc000, 0x10000, 0xc000 },
};

const char *uvfio_model_arg(const struct uvfio_model_args *args, const char *key)
{
	if (!args)
		return NULL;
	for (unsigned int i = 0; i < args->n && i < UVFIO_MODEL_ARGS_MAX; i++) {
		if (!strcmp(args->kv[i].key, key))
			return args->kv[i].value;
	}
	return NULL;
}

static int parse_bdf(const char *bdf, char *name, size_t len, uint32_t *key)
{
	unsigned int dom = 0, bus, dev, fn;
	int n = -1;

	if (sscanf(bdf, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) != 4 || bdf[n]) {
		dom = 0;
		n = -1;
		if (sscanf(bdf, "%x:%x.%x%n", &bus, &dev, &fn, &n) != 3 || bdf[n])
			return -EINVAL;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(name, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	*key = dom << 16 | bus << 8 | dev << 3 | fn;
	return 0;
}

static struct bus_dev *find(const char *bdf)
{
	char name[32];
	uint32_t key;
	struct bus_dev *bd;

	if (parse_bdf(bdf, name, sizeof(name), &key))
		return NULL;
	TAILQ_FOREACH(bd, &bus_devs, next) {
		if (bd->key == key)
			return bd;
	}
	return NULL;
}

static struct bus_dev *to_bus_dev(struct host_device *dev)
{
	return (struct bus_dev *)((char *)dev - offsetof(struct bus_dev, hdev));
}

struct host_device *pci_bus_find(const char *bdf)
{
	struct bus_dev *bd = find(bdf);

	return bd ? &bd->hdev : NULL;
}

uint32_t pci_bus_dev_addr(struct host_device *dev)
{
	return to_bus_dev(dev)->key;
}

struct host_device *pci_bus_first(void)
{
	struct bus_dev *bd = TAILQ_FIRST(&bus_devs);

	return bd ? &bd->hdev : NULL;
}

struct host_device *pci_bus_next(struct host_device *dev)
{
	struct bus_dev *bd = TAILQ_NEXT(to_bus_dev(dev), next);

	return bd ? &bd->hdev : NULL;
}

static int assign_bars(struct uvfio_pci_dev *pdev)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		uint64_t addr;

		if (!b->kind)
			continue;
		addr = (windows[b->kind].next + b->size - 1) & ~(b->size - 1);
		if (addr + b->size > windows[b->kind].limit)
			return -ENOSPC;
		windows[b->kind].next = addr + b->size;
		pci_dev_set_bar_addr(pdev, i, addr);
	}
	return 0;
}

static void remove_dev(struct bus_dev *bd)
{
	struct iommu_group *g = bd->hdev.iommu_group;

	TAILQ_REMOVE(&bus_devs, bd, next);
	if (g) {
		iommu_group_remove_device(&bd->hdev);
		if (TAILQ_EMPTY(&g->devices) && !g->vfio_group)
			iommu_group_free(g);
	}
	pci_dev_destroy(bd->pdev);
	free(bd);
}

/* ---- peer-to-peer: memory transactions routed by bus address ---- */

static bool bus_mmio_resolve(const struct stat *st, uint64_t off, uint64_t len,
			     uint64_t *bus_addr)
{
	struct bus_dev *bd;
	int bar;

	TAILQ_FOREACH(bd, &bus_devs, next) {
		bar = pci_dev_bar_of_stat(bd->pdev, st);
		if (bar < 0)
			continue;
		if (off >= bd->pdev->bars[bar].size || len > bd->pdev->bars[bar].size - off)
			return false;
		*bus_addr = bd->pdev->bars[bar].phys + off;
		return true;
	}
	return false;
}

/* The BAR that decodes [addr, addr + len) claims it; a function with memory
 * decode off claims nothing (the transaction fails, as a master abort). */
static int bus_mmio_rw(uint64_t addr, void *buf, size_t len, bool write)
{
	struct bus_dev *bd;

	TAILQ_FOREACH(bd, &bus_devs, next) {
		struct uvfio_pci_dev *pdev = bd->pdev;

		for (int i = 0; i < PCI_NUM_BARS; i++) {
			struct pci_bar *b = &pdev->bars[i];

			if ((b->kind != UVFIO_BAR_MEM32 && b->kind != UVFIO_BAR_MEM64) ||
			    addr < b->phys || addr - b->phys >= b->size)
				continue;
			if (len > b->size - (addr - b->phys) ||
			    !(pci_dev_command(pdev) & PCI_COMMAND_MEMORY))
				return -EFAULT;
			pci_dev_bar_rw(pdev, i, addr - b->phys, buf, len, write);
			return 0;
		}
	}
	return -EFAULT;
}

static const struct dma_mmio_ops bus_mmio_ops = {
	.resolve = bus_mmio_resolve,
	.rw = bus_mmio_rw,
};

int pci_bus_add_device(const char *bdf, const char *model, const struct uvfio_model_args *args,
		       int iommu_group_id, const char *driver, struct host_device **out)
{
	const struct uvfio_model_ops *ops;
	struct iommu_group *g;
	struct bus_dev *bd, *pos;
	char name[32];
	uint32_t key;
	int ret;

	if (parse_bdf(bdf, name, sizeof(name), &key) || iommu_group_id < 0)
		return -EINVAL;
	if (find(name))
		return -EEXIST;
	ops = uvfio_model_find(model);
	if (!ops)
		return -ENOENT;
	bd = calloc(1, sizeof(*bd));
	if (!bd)
		return -ENOMEM;
	ret = pci_dev_create(name, ops, args, &bd->pdev);
	if (!ret)
		ret = assign_bars(bd->pdev);
	if (ret) {
		if (bd->pdev)
			pci_dev_destroy(bd->pdev);
		free(bd);
		return ret;
	}
	snprintf(bd->hdev.name, sizeof(bd->hdev.name), "%s", name);
	bd->hdev.bus_data = bd->pdev;
	bd->key = key;

	g = iommu_group_find(iommu_group_id);
	if (!g)
		g = iommu_group_alloc(iommu_group_id);
	if (!g) {
		pci_dev_destroy(bd->pdev);
		free(bd);
		return -ENOMEM;
	}
	iommu_group_add_device(g, &bd->hdev);
	bd->hdev.iommu_group = g;

	TAILQ_FOREACH(pos, &bus_devs, next) {
		if (pos->key > key)
			break;
	}
	if (pos)
		TAILQ_INSERT_BEFORE(pos, bd, next);
	else
		TAILQ_INSERT_TAIL(&bus_devs, bd, next);

	if (driver && *driver) {
		ret = pci_bus_bind(name, driver);
		if (ret) {
			remove_dev(bd);
			return ret;
		}
	}
	dma_mem_set_mmio_ops(&bus_mmio_ops);
	if (out)
		*out = &bd->hdev;
	return 0;
}

/* vfio-pci's probe: the function becomes a vfio device in its group. */
static int vfio_pci_probe(struct bus_dev *bd)
{
	struct vfio_pci *vp = vfio_pci_alloc(&bd->hdev, bd->pdev);
	int ret;

	if (!vp)
		return -ENOMEM;
	bd->hdev.vdev = &vp->vdev;
	ret = vfio_register_group_dev(&vp->vdev);
	if (ret) {
		bd->hdev.vdev = NULL;
		vfio_pci_free(vp);
	}
	return ret;
}

int pci_bus_bind(const char *bdf, const char *driver)
{
	struct bus_dev *bd = find(bdf);
	int ret;

	if (!bd)
		return -ENODEV;
	if (!driver || !*driver || strlen(driver) >= sizeof(bd->hdev.driver))
		return -EINVAL;
	if (bd->hdev.driver[0])
		return -EBUSY;
	if (!strcmp(driver, "vfio-pci"))
		ret = vfio_pci_probe(bd);
	else
		ret = iommu_device_use_default_domain(&bd->hdev);
	if (ret)
		return ret;
	snprintf(bd->hdev.driver, sizeof(bd->hdev.driver), "%s", driver);
	return 0;
}

struct unbind_req {
	struct bus_dev *bd;
	struct vfio_device *vdev;	/* the core clears hdev.vdev on removal */
	void (*cb)(void *arg, int err);
	void *arg;
};

static void vfio_pci_removed(void *arg, int err)
{
	struct unbind_req *req = arg;
	struct bus_dev *bd = req->bd;

	bd->unbinding = false;
	if (!err) {
		vfio_pci_free(to_vfio_pci(req->vdev));
		bd->hdev.vdev = NULL;
		bd->hdev.driver[0] = '\0';
	}
	if (req->cb)
		req->cb(req->arg, err);
	free(req);
}

void pci_bus_unbind(const char *bdf, void (*cb)(void *arg, int err), void *arg)
{
	struct bus_dev *bd = find(bdf);
	struct unbind_req *req;

	if (!bd || !bd->hdev.driver[0]) {
		if (cb)
			cb(arg, -ENODEV);
		return;
	}
	if (strcmp(bd->hdev.driver, "vfio-pci")) {
		iommu_device_unuse_default_domain(&bd->hdev);
		bd->hdev.driver[0] = '\0';
		if (cb)
			cb(arg, 0);
		return;
	}
	if (bd->unbinding) {
		if (cb)
			cb(arg, -EBUSY);
		return;
	}
	req = malloc(sizeof(*req));
	if (!req) {
		if (cb)
			cb(arg, -ENOMEM);
		return;
	}
	req->bd = bd;
	req->vdev = bd->hdev.vdev;
	req->cb = cb;
	req->arg = arg;
	bd->unbinding = true;
	vfio_unregister_group_dev(bd->hdev.vdev, vfio_pci_removed, req);
}

static uint64_t resource_flags(struct uvfio_pci_dev *pdev, int bar)
{
	uint32_t lo = pci_dev_cfg_read(pdev, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	const struct pci_bar *b = &pdev->bars[bar];
	uint64_t f = UVFIO_IORESOURCE_SIZEALIGN;

	if (b->kind == UVFIO_BAR_IO)
		return f | UVFIO_IORESOURCE_IO | (lo & ~PCI_BASE_ADDRESS_IO_MASK);
	f |= UVFIO_IORESOURCE_MEM | (lo & ~PCI_BASE_ADDRESS_MEM_MASK);
	if (b->prefetchable)
		f |= UVFIO_IORESOURCE_PREFETCH;
	if (b->kind == UVFIO_BAR_MEM64)
		f |= UVFIO_IORESOURCE_MEM_64;
	return f;
}

int pci_bus_sysfs_info(struct host_device *dev, struct pci_sysfs_info *info)
{
	struct uvfio_pci_dev *pdev = dev->bus_data;

	if (!pdev)
		return -ENODEV;
	memset(info, 0, sizeof(*info));
	info->vendor = pci_dev_cfg_read(pdev, PCI_VENDOR_ID, 2);
	info->device = pci_dev_cfg_read(pdev, PCI_DEVICE_ID, 2);
	info->subsystem_vendor = pci_dev_cfg_read(pdev, PCI_SUBSYSTEM_VENDOR_ID, 2);
	info->subsystem_device = pci_dev_cfg_read(pdev, PCI_SUBSYSTEM_ID, 2);
	info->class = pci_dev_cfg_read(pdev, PCI_CLASS_PROG, 3);
	info->revision = pci_dev_cfg_read(pdev, PCI_REVISION_ID, 1);
	info->irq_pin = pdev->pin;
	info->config = pdev->config;
	info->config_size = pdev->cfg_size;
	info->is_pcie = pdev->is_pcie;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &pdev->bars[i];

		if (!b->kind)
			continue;
		info->resource[i].start = b->phys;
		info->resource[i].end = b->phys + b->size - 1;
		info->resource[i].flags = resource_flags(pdev, i);
	}
	return 0;
}

const char *pci_bus_model_name(struct host_device *dev)
{
	struct uvfio_pci_dev *pdev = dev->bus_data;

	return pdev ? pdev->ops->name : NULL;
}

bool pci_bus_describe(struct host_device *dev, char *buf, size_t len)
{
	struct uvfio_pci_dev *pdev = dev->bus_data;

	if (!pdev || !pdev->ops->describe || !len)
		return false;
	buf[0] = 0;
	pdev->ops->describe(pdev, buf, len);
	return buf[0] != 0;
}

static void fini_removed(void *arg, int err)
{
	*(int *)arg = err ? err : 1;
}

void pci_bus_fini(void)
{
	struct bus_dev *bd, *tmp;

	TAILQ_FOREACH_SAFE(bd, &bus_devs, next, tmp) {
		if (!strcmp(bd->hdev.driver, "vfio-pci")) {
			struct vfio_device *vdev = bd->hdev.vdev;
			int done = 0;

			vfio_unregister_group_dev(vdev, fini_removed, &done);
			if (done != 1) {
				/* still open: the core keeps pointing at it */
				uvfio_warn("%s: vfio device still in use at exit", bd->hdev.name);
				continue;
			}
			vfio_pci_free(to_vfio_pci(vdev));
			bd->hdev.vdev = NULL;
		} else if (bd->hdev.driver[0]) {
			iommu_device_unuse_default_domain(&bd->hdev);
		}
		bd->hdev.driver[0] = '\0';
		remove_dev(bd);
	}
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		windows[i].next = windows[i].start;
}
