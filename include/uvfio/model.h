/* SPDX-License-Identifier: MIT */
/*
 * uvfio device-model API: how an emulated PCI function plugs into uvfiod.
 *
 * A model describes its hardware (IDs, BARs, capabilities) while it is being
 * created, then answers register accesses and raises interrupts and DMA
 * through the services below.  It never sees VFIO, sockets or client
 * processes: the PCI bus driver (vfio-pci semantics: config virtualisation,
 * interrupt plumbing) and the software IOMMU sit between it and the user.
 */
#ifndef UVFIO_MODEL_H
#define UVFIO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_pci_dev;
struct uvfio_model_args;

enum uvfio_bar_kind {
	UVFIO_BAR_MEM32 = 1,
	UVFIO_BAR_MEM64,	/* takes two BAR slots */
	UVFIO_BAR_IO,
};

/* A part of a memory BAR that is plain memory the user may mmap. */
struct uvfio_bar_area {
	uint64_t offset;
	uint64_t size;
};

#define UVFIO_BAR_MAX_AREAS 4

struct uvfio_bar_desc {
	enum uvfio_bar_kind kind;
	uint64_t size;			/* power of two; >= 4096 for MEM */
	bool prefetchable;
	/* Areas backed by shared RAM (uvfio_pci_bar_ram()); the rest of the BAR
	 * traps to bar_read/bar_write. */
	unsigned int nr_areas;
	struct uvfio_bar_area areas[UVFIO_BAR_MAX_AREAS];
};

struct uvfio_model_ops {
	const char *name;		/* as named in topology files */
	size_t priv_size;		/* zeroed per-device state */
	/* Describe the hardware with uvfio_pci_set_ids(), _add_bar(), ... */
	int (*create)(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args);
	void (*destroy)(struct uvfio_pci_dev *pdev);
	/* Trapped BAR access: size is 1, 2, 4 or 8, naturally aligned. */
	uint64_t (*bar_read)(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size);
	void (*bar_write)(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
			  uint64_t val);
	/* Function-level reset: back to power-on register state. */
	void (*reset)(struct uvfio_pci_dev *pdev);
	/* Optional: one line of run-time state for `uvfio stats` (no newline). */
	void (*describe)(struct uvfio_pci_dev *pdev, char *buf, size_t len);
	/* Optional, both or neither, for migration: the model's own state
	 * (config space and BAR memory are saved for it).  save writes at most
	 * len bytes to buf and returns the size of its state (buf NULL: only
	 * that); load takes exactly what save wrote, checks all of it before
	 * it changes anything, and returns 0 or -EINVAL.  Called while the
	 * function is stopped. */
	size_t (*save)(struct uvfio_pci_dev *pdev, void *buf, size_t len);
	int (*load)(struct uvfio_pci_dev *pdev, const void *buf, size_t len);
	/* Optional: the function runs again after its user stopped it
	 * (uvfio_pci_stopped()): take up the work held meanwhile. */
	void (*run)(struct uvfio_pci_dev *pdev);
};

/* Key/value parameters from the topology (e.g. "backend": "loopback"). */
const char *uvfio_model_arg(const struct uvfio_model_args *args, const char *key);

/* ---- describing the hardware (only inside create) ---- */
void uvfio_pci_set_ids(struct uvfio_pci_dev *pdev, uint16_t vendor, uint16_t device,
		       uint16_t subsys_vendor, uint16_t subsys_device,
		       uint32_t class_code, uint8_t revision);
int uvfio_pci_add_bar(struct uvfio_pci_dev *pdev, int bar, const struct uvfio_bar_desc *desc);
void uvfio_pci_set_intx_pin(struct uvfio_pci_dev *pdev, uint8_t pin);	/* 1 = INTA, 0 none */
int uvfio_pci_add_msi(struct uvfio_pci_dev *pdev, unsigned int nvectors, bool is64);
int uvfio_pci_add_msix(struct uvfio_pci_dev *pdev, unsigned int nvectors, int bar,
		       uint32_t table_offset, uint32_t pba_offset);
/* Makes the function a PCI Express endpoint (4 KiB config space, AER). */
int uvfio_pci_add_pcie(struct uvfio_pci_dev *pdev);
/* A device-specific config register of 1, 2 or 4 bytes (naturally aligned)
 * past the capabilities uvfio lays out: at 0xb0-0xff, or 0x148-0xfff on a
 * PCI Express function.  val is its power-on value (a function-level reset
 * restores it), wmask the bits software may write, w1cmask the status bits
 * a written 1 clears (wmask and w1cmask are disjoint).  vfio-pci passes
 * these bytes through to the function, as the kernel does for config space
 * no capability claims. */
int uvfio_pci_add_config_reg(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			     uint32_t val, uint32_t wmask, uint32_t w1cmask);

/* ---- runtime services ---- */

/* Stopped by its user (migration): the function must start no work of its
 * own -- DMA fails, interrupts are held -- until ops->run. */
bool uvfio_pci_stopped(const struct uvfio_pci_dev *pdev);
void *uvfio_pci_priv(struct uvfio_pci_dev *pdev);
const char *uvfio_pci_name(struct uvfio_pci_dev *pdev);
/* The shared memory behind a BAR's RAM areas (BAR-offset addressed). */
void *uvfio_pci_bar_ram(struct uvfio_pci_dev *pdev, int bar);
/* DMA through the IOMMU.  0, or -EFAULT (not mapped / no permission / bus
 * master disabled / nobody attached): nothing was transferred. */
int uvfio_pci_dma_read(struct uvfio_pci_dev *pdev, uint64_t iova, void *buf, size_t len);
int uvfio_pci_dma_write(struct uvfio_pci_dev *pdev, uint64_t iova, const void *buf, size_t len);
/* Message-signalled interrupt `vector` (MSI-X if enabled, else MSI).  Falls
 * back to nothing when neither is enabled. */
void uvfio_pci_msi_notify(struct uvfio_pci_dev *pdev, unsigned int vector);
bool uvfio_pci_msi_enabled(struct uvfio_pci_dev *pdev);
/* Whether MSI-X is on (its capability's enable bit): some devices lay out
 * their registers differently then. */
bool uvfio_pci_msix_enabled(struct uvfio_pci_dev *pdev);
/* Sets bits of a register made with uvfio_pci_add_config_reg() (hardware
 * logging a status, e.g. an error). */
void uvfio_pci_config_set_bits(struct uvfio_pci_dev *pdev, unsigned int off, unsigned int size,
			       uint32_t bits);
/* Level of INTx pin A: asserting delivers one interrupt and auto-masks. */
void uvfio_pci_intx_set(struct uvfio_pci_dev *pdev, bool level);
/* Calls fn on the daemon's loop `us` microseconds from now: the device's own
 * time, for work that finishes after the access that started it (a DMA engine
 * behind its doorbell).  One call pending per function: scheduling again
 * replaces it.  0 or -errno. */
int uvfio_pci_schedule(struct uvfio_pci_dev *pdev, unsigned int us,
		       void (*fn)(struct uvfio_pci_dev *pdev));
void uvfio_pci_cancel_scheduled(struct uvfio_pci_dev *pdev);

/* ---- registry ---- */
const struct uvfio_model_ops *uvfio_model_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
