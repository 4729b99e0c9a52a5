// SPDX-License-Identifier: MIT
/*
 * IOAS objects and their ioctls (drivers/iommu/iommufd/ioas.c): each check
 * in the kernel's order, with its errno.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>

#include "iommufd_private.h"

/* ALLOW_IOVAS ranges one call may set: a daemon-side limit standing in for
 * the kernel's memory cgroup. */
#define IOMMUFD_MAX_ALLOWED	65536u

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS);

	return obj ? container_of(obj, struct iommufd_ioas, obj) : NULL;
}

/* An unmapped range is no longer dirty in any domain of the IOAS: its
 * IOPTEs, and their dirty bits, are gone. */
static void iommufd_ioas_unmapped(void *arg, uint64_t start, uint64_t last)
{
	struct iommufd_ioas *ioas = arg;
	struct iommufd_hwpt_paging *hwpt;

	TAILQ_FOREACH(hwpt, &ioas->hwpt_list, hwpt_item)
		iommufd_hwpt_forget_dirty(hwpt, start, last);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas = calloc(1, sizeof(*ioas));

	if (!ioas)
		return NULL;
	if (iommufd_object_alloc(ictx, &ioas->obj, IOMMUFD_OBJ_IOAS)) {
		free(ioas);
		return NULL;
	}
	iopt_init_table(&ioas->iopt, &ictx->nr_areas);
	ioas->iopt.unmapped = iommufd_ioas_unmapped;
	ioas->iopt.unmapped_arg = ioas;
	TAILQ_INIT(&ioas->hwpt_list);
	ioas->ictx = ictx;
	return ioas;
}

void iommufd_ioas_abort(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas)
{
	iommufd_object_abort(ictx, &ioas->obj);
	iopt_destroy_table(&ioas->iopt);
	free(ioas);
}

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

	iopt_destroy_table(&ioas->iopt);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = iommufd_ioas_alloc(ucmd->ictx);
	if (!ioas)
		return -ENOMEM;
	cmd->out_ioas_id = ioas->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_ioas_abort(ucmd->ictx, ioas);
		return ret;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	struct iova_node *ranges;
	uint32_t max = cmd->num_iovas;
	unsigned int n;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	n = iopt_iova_ranges(&ioas->iopt, NULL, 0);
	ranges = calloc(n, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	iopt_iova_ranges(&ioas->iopt, ranges, n);
	for (unsigned int i = 0; i < n && i < max; i++) {
		struct iommu_iova_range elm = { .start = ranges[i].start, .last = ranges[i].last };

		ret = iommufd_user_write(ucmd->ua, cmd->allowed_iovas + i * sizeof(elm), &elm,
					 sizeof(elm));
		if (ret)
			break;
	}
	free(ranges);
	if (ret)
		return ret;
	cmd->num_iovas = n;
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		return ret;
	/* The count went back, so the caller can size its array and retry. */
	return n > max ? -EMSGSIZE : 0;
}

static int iommufd_ioas_load_iovas(struct iommufd_ucmd *ucmd, struct iova_tree *allowed,
				   uint64_t uptr, uint32_t num)
{
	for (uint32_t i = 0; i < num; i++) {
		struct iommu_iova_range range;
		struct iopt_allowed *a;

		if (i >= IOMMUFD_MAX_ALLOWED)
			return -ENOMEM;
		if (iommufd_user_read(ucmd->ua, uptr + (uint64_t)i * sizeof(range), &range,
				      sizeof(range)))
			return -EFAULT;
		if (range.start >= range.last)
			return -EINVAL;
		if (iova_tree_find(allowed, range.start, range.last))
			return -EINVAL;
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->node.start = range.start;
		a->node.last = range.last;
		iova_tree_insert(allowed, &a->node);
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iova_tree allowed;
	struct iommufd_ioas *ioas;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	iova_tree_init(&allowed);
	ret = iommufd_ioas_load_iovas(ucmd, &allowed, cmd->allowed_iovas, cmd->num_iovas);
	/* The whole list is replaced at once: on success `allowed` holds the
	 * old ranges, on failure the new ones; both go. */
	if (!ret)
		ret = iopt_set_allow_iova(&ioas->iopt, &allowed);
	iopt_free_allowed(&allowed);
	return ret;
}

/* Mappings are always cache coherent: nothing to ask for. */
static uint32_t conv_iommu_prot(uint32_t map_flags)
{
	uint32_t prot = 0;

	if (map_flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOPT_WRITE;
	if (map_flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOPT_READ;
	return prot;
}

#define IOMMUFD_MAP_FLAGS \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)

/* The checks IOAS_MAP and IOAS_MAP_FILE share, in the kernel's order. */
static int map_check(struct iommufd_ucmd *ucmd, uint32_t flags, uint64_t iova, uint64_t length,
		     uint32_t ioas_id, struct iommufd_ioas **ioas)
{
	/* The kernel's IOVAs and lengths are unsigned long. */
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	*ioas = iommufd_get_ioas(ucmd->ictx, ioas_id);
	return *ioas ? 0 : -ENOENT;
}

static unsigned int map_alloc_flags(uint32_t flags)
{
	return flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	uint64_t iova = cmd->iova;
	struct iommufd_ioas *ioas;
	int ret;

	if ((cmd->flags & ~IOMMUFD_MAP_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	ret = map_check(ucmd, cmd->flags, cmd->iova, cmd->length, cmd->ioas_id, &ioas);
	if (ret)
		return ret;
	ret = iopt_map_user_pages(&ioas->iopt, ucmd->ua, ucmd->ictx->account_mode, &iova,
				  cmd->user_va, cmd->length, conv_iommu_prot(cmd->flags),
				  map_alloc_flags(cmd->flags));
	if (ret)
		return ret;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	uint64_t iova = cmd->iova;
	struct iommufd_ioas *ioas;
	int fd, ret;

	if (cmd->flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	ret = map_check(ucmd, cmd->flags, cmd->iova, cmd->length, cmd->ioas_id, &ioas);
	if (ret)
		return ret;
	fd = fdget(ucmd->ua, cmd->fd);
	if (fd < 0)
		return fd;
	ret = iopt_map_file_pages(&ioas->iopt, ucmd->ua, ucmd->ictx->account_mode, &iova, fd,
				  cmd->start, cmd->length, conv_iommu_prot(cmd->flags),
				  map_alloc_flags(cmd->flags));
	if (ret)
		return ret;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src_ioas, *dst_ioas;
	struct iopt_pages_list list;
	uint64_t iova;
	int ret;

	if (cmd->flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX ||
	    cmd->dst_iova >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	src_ioas = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (!src_ioas)
		return -ENOENT;
	/* The copy shares the source's pinned pages: nothing is pinned again. */
	ret = iopt_get_pages(&src_ioas->iopt, cmd->src_iova, cmd->length, &list);
	if (ret)
		return ret;
	dst_ioas = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (!dst_ioas) {
		ret = -ENOENT;
		goto out;
	}
	iova = cmd->dst_iova;
	ret = iopt_map_pages(&dst_ioas->iopt, &list, cmd->length, &iova,
			     conv_iommu_prot(cmd->flags),
			     cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA);
	if (ret)
		goto out;
	cmd->dst_iova = iova;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out:
	iopt_free_pages_list(&list);
	return ret;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int ret;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		ret = iopt_unmap_all(&ioas->iopt, &unmapped);
		if (ret)
			return ret;
	} else {
		if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
			return -EOVERFLOW;
		ret = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length, &unmapped);
		if (ret)
			return ret;
		if (!unmapped)
			return -ENOENT;
	}
	cmd->length = unmapped;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct io_pagetable **iopts;
	unsigned int n = 0;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	iopts = calloc(ictx->nr_objects ? ictx->nr_objects : 1, sizeof(*iopts));
	if (!iopts)
		return -ENOMEM;
	for (uint32_t id = 1; id < ictx->nr_slots; id++) {
		struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, id);

		if (ioas)
			iopts[n++] = &ioas->iopt;
	}
	ret = iopt_change_process(iopts, n, ucmd->ua->ctx);
	free(iopts);
	return ret;
}

int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd, struct iommu_option *cmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = ictx->account_mode == IOPT_PAGES_ACCOUNT_MM;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!iommufd_capable(ucmd->ua, CAP_SYS_RESOURCE))
		return -EPERM;
	/* Existing objects were charged the old way. */
	if (ictx->nr_objects)
		return -EBUSY;
	if (cmd->val64 == 0)
		ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
	else if (cmd->val64 == 1)
		ictx->account_mode = IOPT_PAGES_ACCOUNT_MM;
	else
		return -EINVAL;
	return 0;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd, struct iommu_option *cmd)
{
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->option_id != IOMMU_OPTION_HUGE_PAGES)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (cmd->val64 == 0)
		return iopt_disable_large_pages(&ioas->iopt);
	if (cmd->val64 == 1) {
		iopt_enable_large_pages(&ioas->iopt);
		return 0;
	}
	return -EINVAL;
}
