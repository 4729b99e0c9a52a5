// SPDX-License-Identifier: MIT
/*
 * Per-user accounting: a small hash of users, each entry freed once its user
 * holds nothing.
 */
#include "user.h"

#include <errno.h>
#include <stdlib.h>

#include "util/log.h"

#define USER_HASH	64

struct vfio_user {
	uid_t uid;
	uint64_t usage[VFIO_USER_NR_RES];
	struct vfio_user *next;
};

static const struct {
	const char *name;
	int err;
	uint64_t def;
} res_info[VFIO_USER_NR_RES] = {
	[VFIO_USER_CONNECTIONS] = { "connections", EMFILE, 256 },
	[VFIO_USER_FILES] = { "files", EMFILE, 1024 },
	[VFIO_USER_DMA_MAPPINGS] = { "dma_mappings", ENOSPC, 65535 },
	[VFIO_USER_IOMMUFD_OBJECTS] = { "iommufd_objects", ENOMEM, 4096 },
	[VFIO_USER_IRQ_EVENTFDS] = { "irq_eventfds", EMFILE, 1024 },
	[VFIO_USER_BACKING_FILES] = { "backing_files", EMFILE, 1024 },
};

static uint64_t limits[VFIO_USER_NR_RES];
static struct vfio_user *users[USER_HASH];

const char *vfio_user_res_name(enum vfio_user_res res)
{
	return res_info[res].name;
}

void vfio_user_set_limit(enum vfio_user_res res, uint64_t max)
{
	/* 0 stands for the default, so that it never needs initialising */
	limits[res] = max ? max : res_info[res].def;
}

uint64_t vfio_user_limit(enum vfio_user_res res)
{
	return limits[res] ? limits[res] : res_info[res].def;
}

static struct vfio_user **find(uid_t uid)
{
	struct vfio_user **pp = &users[uid % USER_HASH];

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

int vfio_user_charge(uid_t uid, enum vfio_user_res res)
{
	struct vfio_user **pp = find(uid), *u = *pp;

	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return -ENOMEM;
		u->uid = uid;
		*pp = u;
	}
	if (uid != 0 && u->usage[res] >= vfio_user_limit(res)) {
		uvfio_dbg_rl("uid %u: %s limit (%llu) reached", (unsigned int)uid,
			     res_info[res].name, (unsigned long long)vfio_user_limit(res));
		return -res_info[res].err;
	}
	u->usage[res]++;
	return 0;
}

void vfio_user_uncharge(uid_t uid, enum vfio_user_res res)
{
	struct vfio_user **pp = find(uid), *u = *pp;

	if (!u || !u->usage[res])
		return;
	u->usage[res]--;
	for (int i = 0; i < VFIO_USER_NR_RES; i++) {
		if (u->usage[i])
			return;
	}
	*pp = u->next;
	free(u);
}

uint64_t vfio_user_usage(uid_t uid, enum vfio_user_res res)
{
	struct vfio_user *u = *find(uid);

	return u ? u->usage[res] : 0;
}

void vfio_user_for_each(void (*fn)(uid_t uid, const uint64_t *usage, void *ctx), void *ctx)
{
	for (int h = 0; h < USER_HASH; h++) {
		for (struct vfio_user *u = users[h]; u; u = u->next)
			fn(u->uid, u->usage, ctx);
	}
}
