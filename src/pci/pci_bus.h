/* SPDX-License-Identifier: MIT */
/*
 * The host PCI bus: emulated functions, their IOMMU groups, and driver
 * binding (vfio-pci, a host driver, or none).  This is what the daemon's
 * topology, sysfs view and CLI use; nothing here knows about clients.
 */
#ifndef UVFIO_PCI_PCI_BUS_H
#define UVFIO_PCI_PCI_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vfio.h"

#define UVFIO_MODEL_ARGS_MAX	16

struct uvfio_model_args {
	unsigned int n;
	struct {
		char key[32];
		char value[128];
	} kv[UVFIO_MODEL_ARGS_MAX];
};

/*
 * Adds a function at bdf ("0000:10:00.0"; "10:00.0" means domain 0) running
 * `model` with `args`, in IOMMU group iommu_group_id (created if needed),
 * then binds `driver`: "vfio-pci", "" for none, any other name = a host
 * driver that uses the DMA API.  -EINVAL bad bdf or model description,
 * -EEXIST bdf taken, -ENOENT no such model, a bind error (device removed
 * again).  *out may be NULL.
 */
int pci_bus_add_device(const char *bdf, const char *model, const struct uvfio_model_args *args,
		       int iommu_group_id, const char *driver, struct host_device **out);
/* -ENODEV unknown device, -EBUSY already bound; a host driver cannot bind
 * while user space owns the group (-EBUSY from the IOMMU layer). */
int pci_bus_bind(const char *bdf, const char *driver);
/* cb(arg, 0) once unbound (vfio-pci: when the user released the device),
 * cb(arg, -ENODEV) if not bound or unknown. */
void pci_bus_unbind(const char *bdf, void (*cb)(void *arg, int err), void *arg);

struct host_device *pci_bus_find(const char *bdf);
/* PCI address: segment << 16 | bus << 8 | devfn (devfn = slot << 3 | fn). */
uint32_t pci_bus_dev_addr(struct host_device *dev);
/* Devices in BDF order. */
struct host_device *pci_bus_first(void);
struct host_device *pci_bus_next(struct host_device *dev);
#define pci_bus_for_each(d) for (d = pci_bus_first(); d; d = pci_bus_next(d))

/* Linux IORESOURCE_* flags as sysfs `resource` prints them. */
#define UVFIO_IORESOURCE_IO		0x00000100
#define UVFIO_IORESOURCE_MEM		0x00000200
#define UVFIO_IORESOURCE_PREFETCH	0x00002000
#define UVFIO_IORESOURCE_READONLY	0x00004000
#define UVFIO_IORESOURCE_SIZEALIGN	0x00040000
#define UVFIO_IORESOURCE_MEM_64		0x00100000

struct pci_sysfs_resource {
	uint64_t start, end, flags;	/* all 0 when the BAR is absent */
};

struct pci_sysfs_info {
	uint16_t vendor, device, subsystem_vendor, subsystem_device;
	uint32_t class;			/* 24 bits: base, sub, prog-if */
	uint8_t revision;
	uint8_t irq_pin;		/* 1 = INTA, 0 none */
	const uint8_t *config;		/* physical config space */
	unsigned int config_size;	/* 256 or 4096 */
	struct pci_sysfs_resource resource[7];	/* BAR0-5, ROM */
	bool is_pcie;
};

int pci_bus_sysfs_info(struct host_device *dev, struct pci_sysfs_info *info);
/* Model name of a device ("edu"). */
const char *pci_bus_model_name(struct host_device *dev);
/* The model's line of run-time state; false if it has none. */
bool pci_bus_describe(struct host_device *dev, char *buf, size_t len);

/* Removes every device (all device files must be closed by now). */
void pci_bus_fini(void);

#endif
