/* SPDX-License-Identifier: MIT */
/*
 * The VFIO core: devices, groups, containers, the IOMMU-driver registry and
 * the external-user API, with the kernel's rules (drivers/vfio/).  One file a
 * concept: vfio_main.c (devices and device files), group.c, container.c,
 * external.c.
 */
#ifndef UVFIO_CORE_VFIO_H
#define UVFIO_CORE_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "file.h"
#include "iommu_group.h"
#include "uaccess.h"

struct vfio_device;
struct vfio_group;
struct vfio_container;
struct iommufd_ctx;
struct iommufd_device;

/* ---- host devices: what sits on the (emulated) bus ---- */

/* A device on the host bus, bound to vfio-pci, to a host driver, or to none.
 * The bus (src/pci/pci_bus.c) owns these. */
struct host_device {
	char name[32];			/* dev_name(): "0000:10:00.0" */
	char driver[32];		/* bound driver name, "" if none */
	struct iommu_group *iommu_group;
	struct vfio_device *vdev;	/* when bound to a vfio bus driver */
	void *bus_data;			/* the bus's own per-device state */
	TAILQ_ENTRY(host_device) group_next;
};

/* ---- bus drivers (vfio-pci) ---- */

struct vfio_device_ops {
	const char *name;
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	ssize_t (*read)(struct vfio_device *vdev, void *buf, size_t count, uint64_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const void *buf, size_t count, uint64_t *ppos);
	/* Optional: is a write of count bytes at off one the bus posts (the
	 * writer need not wait for it)?  If so, [*start, *end) is the range
	 * around it where writes of that size are posted too. */
	bool (*write_posted)(struct vfio_device *vdev, uint64_t off, size_t count,
			     uint64_t *start, uint64_t *end);
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd, struct vfio_uarg *ua);
	/* VFIO_DEVICE_FEATURE requests the core does not handle itself: the
	 * feature's data is at off in the argument, argsz bytes of it. */
	long (*device_feature)(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			       size_t off, size_t argsz);
	/* Called before every ioctl on the device, as the kernel resumes a
	 * runtime-suspended device for each. */
	void (*runtime_resume)(struct vfio_device *vdev);
	int (*mmap)(struct vfio_device *vdev, struct vfio_mmap_req *req);
	/* Ask user space to release the device (REQ interrupt); count is how
	 * many times it was asked before. */
	void (*request)(struct vfio_device *vdev, unsigned int count);
	/* > 0 match, 0 no match, < 0 error: like vfio_device_ops.match. */
	int (*match)(struct vfio_device *vdev, const char *buf);
};

/* Migration v2, implemented by the bus driver (core/migration.c walks the
 * state machine). */
struct vfio_migration_ops {
	/* One arc from vdev->mig_state to next; an arc that starts a data
	 * transfer returns its file (one user reference) in *data.  0, or
	 * -errno with the state unchanged. */
	int (*step)(struct vfio_device *vdev, uint32_t next, struct vfio_file **data);
	/* Bytes STOP_COPY would stream now. */
	int (*data_size)(struct vfio_device *vdev, uint64_t *len);
};

struct vfio_device_stats {
	uint64_t dma_reads, dma_writes, dma_bytes, dma_faults;
	uint64_t irqs;
};

struct vfio_device {
	const struct vfio_device_ops *ops;
	void *drvdata;			/* the bus driver's device */
	struct host_device *dev;
	struct vfio_group *group;
	int index;			/* N of /dev/vfio/devices/vfioN */
	unsigned int open_count;	/* opened (bound) device files, all paths */
	unsigned int nfiles;		/* device files, bound or not */
	/* iommufd: bound through the cdev, or through a group whose
	 * "container" is an iommufd */
	struct iommufd_device *iommufd_device;
	bool iommufd_attached;
	bool cdev_opened;		/* bound through its cdev */
	struct vfio_file *cdev_file;	/* the cdev file bound, if any */
	struct vfio_device_stats stats;
	struct vfio_dirty_log *dirty_log;	/* DMA logging, if started */
	const struct vfio_migration_ops *mig_ops;	/* NULL: not migratable */
	uint32_t mig_flags;			/* VFIO_MIGRATION_* */
	uint32_t mig_state;			/* enum vfio_device_mig_state */
	/* removal in progress: waiting for the user to close */
	void (*removed_cb)(void *arg, int err);
	void *removed_arg;
	unsigned int request_count;
	struct uvfio_timer *request_timer;
	TAILQ_ENTRY(vfio_device) group_next;
	TAILQ_ENTRY(vfio_device) next;
};

void vfio_device_init(struct vfio_device *vdev, struct host_device *dev,
		      const struct vfio_device_ops *ops, void *drvdata);
/* Registers the device with the vfio group of its IOMMU group (created on
 * first device), making /dev/vfio/$group appear. */
int vfio_register_group_dev(struct vfio_device *vdev);
/* Starts unregistering: if the device is open, user space is asked to
 * release it (ops->request) every 10 s until it does; cb runs once the device
 * is gone.  Mirrors vfio_unregister_group_dev(), which blocks instead. */
void vfio_unregister_group_dev(struct vfio_device *vdev,
			       void (*cb)(void *arg, int err), void *arg);

/* ---- DMA: how a bus driver reaches the user's memory ---- */

/* DMA for device vdev through whatever IOMMU context the device's user set
 * up.  0, or -EFAULT when the IOMMU refuses (fault counted), -EINVAL when no
 * IOMMU context exists. */
int vfio_device_dma_rw(struct vfio_device *vdev, uint64_t iova, void *buf,
		       size_t len, bool write);

/* ---- IOMMU drivers (type1) ---- */

struct vfio_iommu_driver_ops {
	const char *name;
	/* CHECK_EXTENSION arg of the interface; returns data or NULL + *err. */
	void *(*open)(unsigned long arg, int *err);
	void (*release)(void *iommu_data);
	/* iommu_data is NULL when the core polls CHECK_EXTENSION. */
	long (*ioctl)(void *iommu_data, unsigned int cmd, struct vfio_uarg *ua);
	int (*attach_group)(void *iommu_data, struct iommu_group *g);
	void (*detach_group)(void *iommu_data, struct iommu_group *g);
	int (*dma_rw)(void *iommu_data, uint64_t iova, void *buf, size_t len, bool write);
	/* stats for `uvfio stats` */
	void (*describe)(void *iommu_data, char *buf, size_t len);
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

/* ---- groups ---- */

struct vfio_group {
	struct iommu_group *iommu_group;	/* NULL once the last device left */
	struct vfio_file *opened_file;
	struct vfio_container *container;
	unsigned int container_users;
	unsigned int devices;			/* registered vfio devices */
	struct iommufd_ctx *iommufd;		/* SET_CONTAINER with an iommufd */
	unsigned int cdev_device_open_cnt;	/* devices bound through a cdev */
	unsigned int external_users;		/* in-daemon consumers */
	uid_t uid;				/* owner and mode of /dev/vfio/$id */
	gid_t gid;
	mode_t mode;
	TAILQ_HEAD(, vfio_device) device_list;
	TAILQ_ENTRY(vfio_group) container_next;
};

struct vfio_group *vfio_group_find(int id);
/* The group behind a /dev/vfio/$GROUP file, or NULL. */
struct vfio_group *vfio_group_from_file(struct vfio_file *f);
/* Opening /dev/vfio/$id: permission, existence and exclusivity checks. */
int vfio_group_open(int id, struct vfio_uctx *ctx, struct vfio_file **out);
/* Set owner and mode of a group's node (topology). */
void vfio_group_set_owner(int iommu_group_id, uid_t uid, gid_t gid, mode_t mode);
bool vfio_group_viable(const struct vfio_group *group);
bool vfio_group_may_open(const struct vfio_group *group, const struct vfio_uctx *ctx);

/* used by vfio_main.c */
int vfio_group_use_container(struct vfio_group *group);
void vfio_group_unuse_container(struct vfio_group *group);
/* Drops one container user; the last one detaches the container. */
void vfio_group_try_dissolve_container(struct vfio_group *group);
void vfio_group_free_if_unused(struct vfio_group *group);
/* Called whenever devices or groups appear or go (the daemon refreshes its
 * sysfs view). */
extern void (*vfio_topology_changed)(void);
bool vfio_group_has_iommu(const struct vfio_group *group);
void vfio_group_device_added(struct vfio_group *group, struct vfio_device *vdev);
void vfio_group_device_removed(struct vfio_group *group, struct vfio_device *vdev);
struct vfio_group *vfio_group_get_or_create(struct iommu_group *ig);

/* ---- containers ---- */

struct vfio_container {
	struct vfio_file *file;
	unsigned int refs;
	TAILQ_HEAD(, vfio_group) group_list;
	const struct vfio_iommu_driver_ops *iommu_driver;
	void *iommu_data;
	bool noiommu;
};

int vfio_container_open(struct vfio_uctx *ctx, struct vfio_file **out);
struct vfio_container *vfio_container_from_file(struct vfio_file *f);
int vfio_container_attach_group(struct vfio_container *c, struct vfio_group *g);
void vfio_container_detach_group(struct vfio_group *g);
void vfio_container_get(struct vfio_container *c);
void vfio_container_put(struct vfio_container *c);
/* unsafe no-IOMMU mode (module parameter enable_unsafe_noiommu_mode) */
extern bool vfio_noiommu;

/* ---- device files ---- */

/* One open of a device, through its group or its cdev. */
struct vfio_device_file {
	struct vfio_device *vdev;
	struct vfio_file *file;
	struct vfio_group *group;	/* opened through this group; NULL: cdev */
	struct iommufd_ctx *iommufd;	/* bound to (cdev) or via the group */
	uint32_t devid;			/* iommufd DEVICE object ID */
	bool access_granted;
};

/* Opens a new device file for vdev through its group (GET_DEVICE_FD). */
int vfio_device_open_file(struct vfio_device *vdev, struct vfio_file **out);
/* Opening /dev/vfio/devices/vfio$index: claims nothing until bound. */
int vfio_device_cdev_open(int index, struct vfio_uctx *ctx, struct vfio_file **out);
struct vfio_device *vfio_device_find_by_index(int index);
/* The device behind a device file (either path), or NULL. */
struct vfio_device_file *vfio_device_file_from_file(struct vfio_file *f);

/* used by vfio_main.c and device_cdev.c (vfio_df_open/close) */
int vfio_df_open(struct vfio_device_file *df);
void vfio_df_close(struct vfio_device_file *df);
long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, struct vfio_uarg *ua);
long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, struct vfio_uarg *ua);
long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, struct vfio_uarg *ua);
void vfio_df_unbind_iommufd(struct vfio_device_file *df);
/* Release now a bound cdev file of vdev whose holder already closed it. */
void vfio_device_reap_cdev(struct vfio_device *vdev);
/* A cdev binding blocks the group path and the other way round. */
int vfio_device_block_group(struct vfio_device *vdev);
void vfio_device_unblock_group(struct vfio_device *vdev);

/* ---- iommufd glue (drivers/vfio/iommufd.c) ---- */

int vfio_df_iommufd_bind(struct vfio_device_file *df);
void vfio_df_iommufd_unbind(struct vfio_device_file *df);
int vfio_iommufd_compat_attach_ioas(struct vfio_device *vdev, struct iommufd_ctx *ictx);
int vfio_iommufd_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id);
void vfio_iommufd_detach_ioas(struct vfio_device *vdev);
/* The device's iommufd DEVICE ID in ictx (> 0); -ENOENT when not bound there
 * but its IOMMU group is owned by ictx; -ENODEV otherwise. */
int vfio_iommufd_get_dev_id(struct vfio_device *vdev, struct iommufd_ctx *ictx);
struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev);

/* ---- external users (a trusted in-daemon consumer) ---- */

/* Takes a reference on the device's group and a container user, so neither
 * can be torn down while the caller works.  Returns 0 and *out, or -EINVAL
 * when the group has no container with an IOMMU set (nothing to use). */
int vfio_group_get_external_user_from_dev(struct vfio_device *vdev,
					  struct vfio_group **out);
void vfio_group_put_external_user(struct vfio_group *group);
int vfio_external_user_iommu_id(struct vfio_group *group);
int vfio_external_dma_rw(struct vfio_group *group, uint64_t iova, void *buf,
			 size_t len, bool write);

/* ---- info capability chains (vfio_info_add_capability) ---- */

struct vfio_info_cap {
	uint8_t *buf;
	size_t size;
};
/* Appends a capability (header first, `size` bytes in all) to the chain;
 * returns a pointer to it or NULL on ENOMEM. */
void *vfio_info_cap_add(struct vfio_info_cap *caps, size_t size, uint16_t id,
			uint16_t version);
/* Rebases the chain's next offsets by `offset` (where it lands in the user's
 * buffer). */
void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset);

#endif
