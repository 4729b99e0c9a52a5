/* SPDX-License-Identifier: MIT */
/*
 * vfio-pci internals shared by vfio_pci_core.c, vfio_pci_config.c,
 * vfio_pci_intrs.c and vfio_pci_rdwr.c (drivers/vfio/pci/vfio_pci_priv.h).
 */
#ifndef UVFIO_PCI_VFIO_PCI_PRIV_H
#define UVFIO_PCI_VFIO_PCI_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/vfio.h"
#include "pci_dev.h"

#define VFIO_PCI_OFFSET_SHIFT	40
#define VFIO_PCI_OFFSET_MASK	((1ULL << VFIO_PCI_OFFSET_SHIFT) - 1)
#define VFIO_PCI_IOEVENTFD_MAX	1000

enum vfio_pci_irq_type {
	VFIO_PCI_IRQ_NONE = -1,		/* the kernel's VFIO_PCI_NUM_IRQS "none" */
	VFIO_PCI_IRQ_INTX = 0,
	VFIO_PCI_IRQ_MSI = 1,
	VFIO_PCI_IRQ_MSIX = 2,
};

/* Config space regions, per byte: which permission table governs it. */
enum vfio_cfg_region {
	CFG_UNASSIGNED = 0,	/* raw passthrough */
	CFG_BASIC,
	CFG_PM,
	CFG_MSI,
	CFG_MSIX,
	CFG_EXP,
	CFG_AER,
	CFG_OTHER,		/* a capability we have no table for: read-only */
};

struct vfio_pci_ioeventfd {
	struct vfio_pci *vpci;
	int bar;
	uint64_t pos;
	uint64_t data;
	unsigned int count;
	int fd;
	LIST_ENTRY(vfio_pci_ioeventfd) next;
};

struct vfio_pci {
	struct vfio_device vdev;
	struct uvfio_pci_dev *pdev;

	/* config virtualisation (vfio_pci_config.c) */
	uint8_t vconfig[PCIE_CFG_SIZE];
	uint8_t cfg_map[PCIE_CFG_SIZE];		/* enum vfio_cfg_region */
	uint8_t cfg_virt[PCIE_CFG_SIZE];	/* bits served from vconfig */
	uint8_t cfg_write[PCIE_CFG_SIZE];	/* bits the user may write */
	unsigned int msi_pos, msix_pos, exp_pos;	/* where those capabilities start */
	uint32_t rbar[7];			/* BAR values to restore after reset */
	bool bardirty;
	uint8_t msi_qmax;
	uint8_t saved_config[PCIE_CFG_SIZE];	/* pci_save_state() at enable */

	/* interrupts (vfio_pci_intrs.c) */
	int irq_type;				/* enum vfio_pci_irq_type */
	int intx_trigger;			/* our dup of the eventfd, or -1 */
	int intx_unmask_fd;			/* virqfd that unmasks, or -1 */
	pid_t intx_unmask_pid;			/* who gave it, as what number */
	int32_t intx_unmask_user_fd;
	bool intx_masked;			/* automasked or masked by the user */
	bool intx_pending;			/* asserted while masked */
	bool virq_disabled;			/* COMMAND.INTX_DISABLE in vconfig */
	int *msi_trigger;			/* per vector, -1 when unset */
	unsigned int num_ctx;			/* vectors allocated */
	int err_trigger, req_trigger;

	LIST_HEAD(, vfio_pci_ioeventfd) ioeventfds;
	unsigned int ioeventfds_nr;

	/* low power features (vfio_pci_pm.c) */
	bool pm_runtime_engaged;		/* in low power, at the user's request */
	int pm_wake_fd;				/* wakeup eventfd, or -1 */

	/* migration (vfio_pci_migration.c) */
	struct vfio_file *mig_file;		/* the data session's file, if any */
	uint64_t msi_held[2048 / 64];		/* vectors raised while stopped */
	bool intx_held;
};

static inline struct vfio_pci *to_vfio_pci(struct vfio_device *vdev)
{
	return vdev->drvdata;
}

/* vfio_pci_migration.c */
void vfio_pci_mig_init(struct vfio_pci *vp);
/* Reset or last close: RUNNING, no session. */
void vfio_pci_mig_reset(struct vfio_pci *vp);
/* vfio_pci_intrs.c: the interrupts held while stopped, now delivered. */
void vfio_pci_release_held_irqs(struct vfio_pci *vp);

/* vfio_pci_pm.c */
void vfio_pci_pm_init(struct vfio_pci *vp);
void vfio_pci_pm_exit(struct vfio_pci *vp, bool notify);
/* Any ioctl on the device resumes it (vfio_device_ops.runtime_resume). */
void vfio_pci_runtime_resume(struct vfio_device *vdev);
/* The model raised an interrupt: in low power, that is a PME. */
void vfio_pci_pme(struct vfio_pci *vp);
long vfio_pci_ioctl_feature(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			    size_t off, size_t argsz);

/* vfio_pci_config.c */
void vfio_config_init(struct vfio_pci *vp);
ssize_t vfio_pci_config_rw(struct vfio_pci *vp, void *buf, size_t count, uint64_t pos,
			   bool iswrite);
bool vfio_pci_memory_enabled(struct vfio_pci *vp);
/* Puts the hardware BARs and COMMAND back after a function reset. */
void vfio_config_restore_bars(struct vfio_pci *vp);

/* vfio_pci_intrs.c */
void vfio_pci_intrs_init(struct vfio_pci *vp);
int vfio_pci_get_irq_count(struct vfio_pci *vp, unsigned int index);
int vfio_pci_set_irqs(struct vfio_pci *vp, uint32_t flags, unsigned int index,
		      unsigned int start, unsigned int count, const void *data,
		      struct vfio_uarg *ua);
void vfio_pci_intrs_disable_all(struct vfio_pci *vp);
void vfio_pci_intx_mask(struct vfio_pci *vp);
void vfio_pci_intx_unmask(struct vfio_pci *vp);
void vfio_pci_signal_req(struct vfio_pci *vp);
/* An eventfd the user named: our own dup, counted against the caller's IRQ
 * eventfds until vfio_pci_eventfd_close(); -EBADF, -EINVAL (not an eventfd)
 * or -EMFILE (the user's limit). */
int vfio_pci_eventfd_get(struct vfio_uarg *ua, int32_t user_fd);
void vfio_pci_eventfd_close(int fd);
/* Signal or take an eventfd of the user's without ever waiting on it. */
void vfio_pci_eventfd_signal(int fd);
bool vfio_pci_eventfd_consume(int fd);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci *vp, void *buf, size_t count, uint64_t off,
			bool iswrite);
int vfio_pci_ioeventfd(struct vfio_pci *vp, uint64_t offset, uint64_t data,
		       unsigned int count, int32_t fd, struct vfio_uarg *ua);
void vfio_pci_ioeventfds_release(struct vfio_pci *vp);

/* vfio_pci_core.c */
extern const struct vfio_device_ops vfio_pci_ops;
struct vfio_pci *vfio_pci_alloc(struct host_device *hdev, struct uvfio_pci_dev *pdev);
void vfio_pci_free(struct vfio_pci *vp);
/* Function reset with config save/restore (pci_try_reset_function). */
int vfio_pci_try_reset(struct vfio_pci *vp);

/* vfio_pci_hot_reset.c */
long vfio_pci_ioctl_get_pci_hot_reset_info(struct vfio_pci *vp, struct vfio_uarg *ua);
long vfio_pci_ioctl_pci_hot_reset(struct vfio_pci *vp, struct vfio_uarg *ua);

#endif
