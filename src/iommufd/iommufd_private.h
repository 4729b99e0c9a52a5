/* SPDX-License-Identifier: MIT */
/*
 * What the iommufd files share: the context and its object table (main.c),
 * IOAS (ioas.c), paging HWPTs (hw_pagetable.c), devices and their IOMMU
 * groups (device.c) and the type1 compatibility (vfio_compat.c).
 *
 * Objects live in the context's table under IDs from 1.  `users` counts who
 * holds an object: 1 is the table alone, and only then may IOMMU_DESTROY
 * remove it (EBUSY otherwise).  An HWPT holds its IOAS, an attached device
 * holds its HWPT, and VFIO holds the devices it bound.  The daemon is single
 * threaded, so ioctls need no short-term references.
 */
#ifndef UVFIO_IOMMUFD_PRIVATE_H
#define UVFIO_IOMMUFD_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <uapi/linux/iommufd.h>

#include "io_pagetable.h"
#include "iommufd.h"

/* A daemon-side limit that stands in for the kernel's memory cgroup. */
#define IOMMUFD_MAX_OBJECTS	65536u

enum iommufd_object_type {
	IOMMUFD_OBJ_ANY,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_IOAS,
};

struct iommufd_object {
	uint32_t id;
	enum iommufd_object_type type;
	unsigned int users;
	bool finalized;		/* visible to lookups */
};

struct iommufd_ioas;

struct iommufd_ctx {
	struct vfio_file *file;
	uid_t uid;				/* who opened it: charged for objects */
	struct iommufd_object **objects;	/* by ID; [0] unused */
	uint32_t nr_slots;
	uint32_t nr_objects;
	uint32_t free_hint;			/* no free ID below it */
	unsigned int nr_areas;
	enum iopt_account_mode account_mode;
	struct iommufd_ioas *vfio_ioas;		/* the type1 compatibility IOAS */
	TAILQ_HEAD(, iommufd_group) groups;
	uint64_t dma_ops, dma_bytes, dma_faults;
};

/* One ioctl being served. */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	struct vfio_uarg *ua;
	uint32_t user_size;
	void *cmd;
};

/* Copies the command structure back, as much as the caller's size holds. */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

/* ---- object table (main.c) ---- */

/* Reserves an ID for obj (not yet visible); -ENOMEM past the limit. */
int iommufd_object_alloc(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			 enum iommufd_object_type type);
void iommufd_object_finalize(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* Gives back the ID of an object never finalized; the caller frees it. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* A finalized object of that type (any with IOMMUFD_OBJ_ANY), or NULL. */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type);
/* Drops a reference; when only the table is left, destroys the object. */
void iommufd_object_put_and_try_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* The kernel's capable(): the caller's effective capability cap. */
bool iommufd_capable(struct vfio_uarg *ua, int cap);
/* Access to the caller's memory named by a pointer inside a command:
 * 0 or -EFAULT. */
int iommufd_user_read(struct vfio_uarg *ua, uint64_t addr, void *buf, size_t len);
int iommufd_user_write(struct vfio_uarg *ua, uint64_t addr, const void *buf, size_t len);

/* ---- IOAS (ioas.c) ---- */

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	TAILQ_HEAD(, iommufd_hwpt_paging) hwpt_list;
	struct iommufd_ctx *ictx;
};

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id);
/* A new IOAS with its ID reserved; finalize or abort it. */
struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx);
void iommufd_ioas_abort(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd, struct iommu_option *cmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd, struct iommu_option *cmd);

/* ---- paging HWPTs (hw_pagetable.c) ---- */

/* Written pages of one HWPT, 64 IOVA pages a node. */
struct iommufd_dirty_block {
	RB_ENTRY(iommufd_dirty_block) rb;
	uint64_t index;		/* IOVA >> (page shift + 6) */
	uint64_t bits;
};
RB_HEAD(iommufd_dirty_rb, iommufd_dirty_block);

struct iommufd_hwpt_paging {
	struct iommufd_object obj;
	struct iommufd_ioas *ioas;
	bool auto_domain;		/* made for an IOAS attach; reusable */
	bool dirty_capable;		/* allocated with DIRTY_TRACKING */
	bool dirty_tracking;
	bool enforce_cache_coherency;
	bool linked;			/* a domain of ioas, on its hwpt_list */
	struct iommufd_dirty_rb dirty;
	TAILQ_ENTRY(iommufd_hwpt_paging) hwpt_item;
};

struct iommufd_hwpt_paging *iommufd_get_hwpt_paging(struct iommufd_ctx *ictx, uint32_t id);
/*
 * A new paging HWPT over ioas for idev (ID reserved: finalize or abort).
 * user_data: the caller passed driver-specific data.  With immediate_attach
 * the device is attached before the domain joins the IOAS, as for an
 * automatic domain.
 */
int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags, bool user_data,
			      bool immediate_attach, struct iommufd_hwpt_paging **out);
void iommufd_hwpt_paging_abort(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *hwpt);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
/* Device writes through hwpt landed on [iova, iova + len). */
void iommufd_hwpt_mark_dirty(struct iommufd_hwpt_paging *hwpt, uint64_t iova, uint64_t len);
/* [start, last] of hwpt's IOAS is no longer mapped. */
void iommufd_hwpt_forget_dirty(struct iommufd_hwpt_paging *hwpt, uint64_t start, uint64_t last);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);
int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);

/* ---- devices (device.c) ---- */

/* The context's view of one IOMMU group: its devices share one HWPT. */
struct iommufd_group {
	struct iommu_group *group;
	struct iommufd_hwpt_paging *hwpt;	/* attached table, if any */
	unsigned int refs;			/* bound devices */
	TAILQ_HEAD(, iommufd_device) attached;
	TAILQ_ENTRY(iommufd_group) next;
};

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct host_device *dev;
	struct iommufd_group *igroup;
	bool attached;
	TAILQ_ENTRY(iommufd_device) attach_next;
};

struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ictx, uint32_t id);
void iommufd_device_destroy(struct iommufd_object *obj);
/* Attaches idev to hwpt (not yet attached anywhere): the group's table must
 * be hwpt or none (-EINVAL); the device's reserved regions go into the IOAS. */
int iommufd_hw_pagetable_attach(struct iommufd_hwpt_paging *hwpt, struct iommufd_device *idev);
/* Undoes iommufd_hw_pagetable_attach() and returns the HWPT, whose device
 * reference the caller drops. */
struct iommufd_hwpt_paging *iommufd_hw_pagetable_detach(struct iommufd_device *idev);

/* ---- VFIO type1 compatibility (vfio_compat.c) ---- */

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, struct vfio_uarg *ua);
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);

#endif
