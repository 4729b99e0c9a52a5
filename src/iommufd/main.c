// SPDX-License-Identifier: MIT
/*
 * The iommufd context: one per open of /dev/iommu.  It owns the object
 * table, dispatches the ioctls with iommufd's size rules, and hands the
 * command numbers below IOMMUFD_CMD_BASE to the VFIO type1 compatibility.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/user.h"
#include "iommufd_private.h"
#include "util/log.h"
#include "util/offsetofend.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Objects are freed through their first member. */
_Static_assert(offsetof(struct iommufd_ioas, obj) == 0, "obj first");
_Static_assert(offsetof(struct iommufd_hwpt_paging, obj) == 0, "obj first");
_Static_assert(offsetof(struct iommufd_device, obj) == 0, "obj first");

/* ---- object table ---- */

/* IDs are handed out lowest first from 1, as xa_alloc() with
 * XA_FLAGS_ALLOC1 does, so a destroyed object's ID comes back. */
int iommufd_object_alloc(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			 enum iommufd_object_type type)
{
	uint32_t id;

	int ret;

	if (ictx->nr_objects >= IOMMUFD_MAX_OBJECTS)
		return -ENOMEM;
	for (id = ictx->free_hint ? ictx->free_hint : 1; id < ictx->nr_slots; id++)
		if (!ictx->objects[id])
			break;
	if (id >= ictx->nr_slots) {
		uint32_t n = ictx->nr_slots ? ictx->nr_slots * 2 : 16;
		struct iommufd_object **objs = realloc(ictx->objects, n * sizeof(*objs));

		if (!objs)
			return -ENOMEM;
		memset(objs + ictx->nr_slots, 0, (n - ictx->nr_slots) * sizeof(*objs));
		ictx->objects = objs;
		id = ictx->nr_slots ? ictx->nr_slots : 1;
		ictx->nr_slots = n;
	}
	ret = vfio_user_charge(ictx->uid, VFIO_USER_IOMMUFD_OBJECTS);
	if (ret)
		return ret;
	obj->id = id;
	obj->type = type;
	obj->users = 1;
	obj->finalized = false;
	ictx->objects[id] = obj;
	ictx->nr_objects++;
	ictx->free_hint = id + 1;
	return 0;
}

void iommufd_object_finalize(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	(void)ictx;
	obj->finalized = true;
}

static void iommufd_object_unlink(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	ictx->objects[obj->id] = NULL;
	ictx->nr_objects--;
	vfio_user_uncharge(ictx->uid, VFIO_USER_IOMMUFD_OBJECTS);
	if (obj->id < ictx->free_hint)
		ictx->free_hint = obj->id;
}

void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	iommufd_object_unlink(ictx, obj);
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	if (!id || id >= ictx->nr_slots)
		return NULL;
	obj = ictx->objects[id];
	if (!obj || !obj->finalized || (type != IOMMUFD_OBJ_ANY && obj->type != type))
		return NULL;
	return obj;
}

static void iommufd_object_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	iommufd_object_unlink(ictx, obj);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	switch (obj->type) {
	case IOMMUFD_OBJ_IOAS:
		iommufd_ioas_destroy(obj);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		iommufd_hwpt_paging_destroy(obj);
		break;
	case IOMMUFD_OBJ_DEVICE:
		iommufd_device_destroy(obj);
		break;
	case IOMMUFD_OBJ_ANY:
		break;
	}
	free(obj);
}

void iommufd_object_put_and_try_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	if (--obj->users == 1)
		iommufd_object_destroy(ictx, obj);
}

static int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_object *obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_ANY);

	if (!obj)
		return -ENOENT;
	/* Anything else holding it (an HWPT its IOAS, a device its HWPT,
	 * VFIO its device) keeps it alive. */
	if (obj->users != 1)
		return -EBUSY;
	iommufd_object_destroy(ucmd->ictx, obj);
	return 0;
}

/* ---- helpers for the handlers ---- */

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	size_t n = ucmd->user_size < cmd_len ? ucmd->user_size : cmd_len;

	return copy_to_user(ucmd->ua, 0, ucmd->cmd, n) ? -EFAULT : 0;
}

bool iommufd_capable(struct vfio_uarg *ua, int cap)
{
	return ua->ctx && proc_capable(ua->ctx->pid, cap);
}

int iommufd_user_read(struct vfio_uarg *ua, uint64_t addr, void *buf, size_t len)
{
	if (!ua->ctx || !ua->ctx->mm || vfio_mm_read(ua->ctx->mm, addr, buf, len))
		return -EFAULT;
	return 0;
}

int iommufd_user_write(struct vfio_uarg *ua, uint64_t addr, const void *buf, size_t len)
{
	if (!ua->ctx || !ua->ctx->mm || vfio_mm_write(ua->ctx->mm, addr, buf, len))
		return -EFAULT;
	return 0;
}

/* ---- IOMMU_OPTION ---- */

static int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		ret = iommufd_option_rlimit_mode(ucmd, cmd);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		ret = iommufd_ioas_option(ucmd, cmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	/* Only the value goes back, for GET and SET alike. */
	if (copy_to_user(ucmd->ua, offsetof(struct iommu_option, val64), &cmd->val64,
			 sizeof(cmd->val64)))
		return -EFAULT;
	return 0;
}

/* ---- dispatch ---- */

union ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault;
	struct iommu_hw_info info;
	struct iommu_hw_queue_alloc hw_queue;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate cache;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_change_process change_process;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vdevice_alloc vdev;
	struct iommu_veventq_alloc veventq;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_viommu_alloc viommu;
};

struct iommufd_ioctl_op {
	unsigned int size;
	unsigned int min_size;		/* the end of the last mandatory field */
	unsigned int ioctl_num;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

#define IOCTL_OP(_ioctl, _fn, _struct, _last)					\
	[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE] = {				\
		.size = sizeof(_struct),					\
		.min_size = offsetofend(_struct, _last),			\
		.ioctl_num = _ioctl,						\
		.execute = _fn,							\
	}

static const struct iommufd_ioctl_op iommufd_ioctl_ops[] = {
	IOCTL_OP(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOCTL_OP(IOMMU_FAULT_QUEUE_ALLOC, iommufd_fault_alloc, struct iommu_fault_alloc,
		 out_fault_fd),
	IOCTL_OP(IOMMU_GET_HW_INFO, iommufd_get_hw_info, struct iommu_hw_info, __reserved),
	IOCTL_OP(IOMMU_HW_QUEUE_ALLOC, iommufd_hw_queue_alloc_ioctl,
		 struct iommu_hw_queue_alloc, length),
	IOCTL_OP(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc, struct iommu_hwpt_alloc, __reserved),
	IOCTL_OP(IOMMU_HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_bitmap,
		 struct iommu_hwpt_get_dirty_bitmap, data),
	IOCTL_OP(IOMMU_HWPT_INVALIDATE, iommufd_hwpt_invalidate, struct iommu_hwpt_invalidate,
		 __reserved),
	IOCTL_OP(IOMMU_HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_tracking,
		 struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOCTL_OP(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl, struct iommu_ioas_alloc,
		 out_ioas_id),
	IOCTL_OP(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		 struct iommu_ioas_allow_iovas, allowed_iovas),
	IOCTL_OP(IOMMU_IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
		 struct iommu_ioas_change_process, __reserved),
	IOCTL_OP(IOMMU_IOAS_COPY, iommufd_ioas_copy, struct iommu_ioas_copy, src_iova),
	IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		 struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOCTL_OP(IOMMU_IOAS_MAP, iommufd_ioas_map, struct iommu_ioas_map, iova),
	IOCTL_OP(IOMMU_IOAS_MAP_FILE, iommufd_ioas_map_file, struct iommu_ioas_map_file, iova),
	IOCTL_OP(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap, struct iommu_ioas_unmap, length),
	IOCTL_OP(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
	IOCTL_OP(IOMMU_VDEVICE_ALLOC, iommufd_vdevice_alloc_ioctl, struct iommu_vdevice_alloc,
		 virt_id),
	IOCTL_OP(IOMMU_VEVENTQ_ALLOC, iommufd_veventq_alloc, struct iommu_veventq_alloc,
		 out_veventq_fd),
	IOCTL_OP(IOMMU_VFIO_IOAS, iommufd_vfio_ioas, struct iommu_vfio_ioas, __reserved),
	IOCTL_OP(IOMMU_VIOMMU_ALLOC, iommufd_viommu_alloc_ioctl, struct iommu_viommu_alloc,
		 out_viommu_id),
};

static long iommufd_fops_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct iommufd_ucmd ucmd = { .ictx = f->private_data, .ua = ua };
	const struct iommufd_ioctl_op *op;
	unsigned int nr = _IOC_NR(cmd);
	union ucmd_buffer buf;
	size_t n;
	int ret;

	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= ARRAY_SIZE(iommufd_ioctl_ops))
		return iommufd_vfio_ioctl(ucmd.ictx, cmd, ua);

	if (copy_from_user(&ucmd.user_size, ua, 0, sizeof(ucmd.user_size)))
		return -EFAULT;
	op = &iommufd_ioctl_ops[nr - IOMMUFD_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* copy_struct_from_user(): a longer structure is fine if what we do
	 * not know of it is zero; a shorter one reads as zero-extended. */
	if (ucmd.user_size > op->size) {
		ret = check_zeroed_user(ua, op->size, ucmd.user_size);
		if (ret)
			return ret;
	}
	memset(&buf, 0, op->size);
	n = ucmd.user_size < op->size ? ucmd.user_size : op->size;
	if (copy_from_user(&buf, ua, 0, n))
		return -EFAULT;
	ucmd.cmd = &buf;
	return op->execute(&ucmd);
}

/* ---- the file ---- */

static ssize_t iommufd_fops_read(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

static ssize_t iommufd_fops_write(struct vfio_file *f, const void *buf, size_t count,
				  uint64_t *ppos)
{
	(void)f; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}

/* The kernel maps vIOMMU MMIO pages here; with no vIOMMU no offset is ever
 * handed out, so every well-formed request names nothing. */
static int iommufd_fops_mmap(struct vfio_file *f, struct vfio_mmap_req *req)
{
	(void)f;
	if (!req->length || req->length % IOPT_PAGE_SIZE)
		return -EINVAL;
	if (!(req->flags & UVFIO_MMAP_SHARED))
		return -EINVAL;
	return -ENXIO;
}

/*
 * Objects reference each other (a device its HWPT, an HWPT its IOAS), so
 * destroy the ones only the table holds, repeatedly, until none is left.
 */
static void iommufd_fops_release(struct vfio_file *f)
{
	struct iommufd_ctx *ictx = f->private_data;
	bool progress = true;

	while (ictx->nr_objects && progress) {
		progress = false;
		for (uint32_t id = 1; id < ictx->nr_slots; id++) {
			struct iommufd_object *obj = ictx->objects[id];

			if (obj && obj->users == 1) {
				iommufd_object_destroy(ictx, obj);
				progress = true;
			}
		}
	}
	if (ictx->nr_objects)
		uvfio_err("iommufd: %u objects still referenced at release", ictx->nr_objects);
	free(ictx->objects);
	free(ictx);
}

static const struct vfio_file_ops iommufd_fops = {
	.type = UVFIO_FILE_IOMMUFD,
	.ioctl = iommufd_fops_ioctl,
	.read = iommufd_fops_read,
	.write = iommufd_fops_write,
	.mmap = iommufd_fops_mmap,
	.release = iommufd_fops_release,
};

int iommufd_fops_open(struct vfio_uctx *uctx, struct vfio_file **out)
{
	struct iommufd_ctx *ictx = calloc(1, sizeof(*ictx));

	if (!ictx)
		return -ENOMEM;
	ictx->uid = uctx->uid;
	ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
	TAILQ_INIT(&ictx->groups);
	ictx->file = vfio_file_alloc(&iommufd_fops, ictx);
	if (!ictx->file) {
		free(ictx);
		return -ENOMEM;
	}
	*out = ictx->file;
	return 0;
}

struct iommufd_ctx *iommufd_ctx_from_file(struct vfio_file *f)
{
	return f && f->ops == &iommufd_fops ? f->private_data : NULL;
}

void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	vfio_file_get(ictx->file);
}

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	vfio_file_put(ictx->file);
}

void iommufd_ctx_describe(struct iommufd_ctx *ictx, char *buf, size_t len)
{
	unsigned int n[4] = { 0 };

	for (uint32_t id = 1; id < ictx->nr_slots; id++)
		if (ictx->objects[id] && ictx->objects[id]->finalized)
			n[ictx->objects[id]->type]++;
	snprintf(buf, len,
		 "iommufd: %u IOAS, %u HWPT, %u devices, %u areas, %" PRIu64 " faults, %" PRIu64
		 " dma ops (%" PRIu64 " bytes)%s",
		 n[IOMMUFD_OBJ_IOAS], n[IOMMUFD_OBJ_HWPT_PAGING], n[IOMMUFD_OBJ_DEVICE],
		 ictx->nr_areas, ictx->dma_faults, ictx->dma_ops, ictx->dma_bytes,
		 ictx->account_mode == IOPT_PAGES_ACCOUNT_MM ? ", per-process accounting" : "");
}
