/* SPDX-License-Identifier: MIT */
/*
 * Per-user accounting, like the kernel's struct user_struct and RLIMIT_*:
 * what one user's clients hold in the shared daemon, so that no user can
 * exhaust it for the others.  Exceeding a limit fails the offender's call
 * with the errno Linux gives for that resource.  Root is not limited (it
 * has CAP_SYS_RESOURCE, and could stop the daemon anyway).
 */
#ifndef UVFIO_CORE_USER_H
#define UVFIO_CORE_USER_H

#include <stdint.h>
#include <sys/types.h>

enum vfio_user_res {
	VFIO_USER_CONNECTIONS,		/* call channels: EMFILE */
	VFIO_USER_FILES,		/* open VFIO files: EMFILE */
	VFIO_USER_DMA_MAPPINGS,		/* type1 and IOAS mappings: ENOSPC */
	VFIO_USER_IOMMUFD_OBJECTS,	/* IOAS, HWPT, devices...: ENOMEM */
	VFIO_USER_IRQ_EVENTFDS,		/* eventfds the daemon holds: EMFILE */
	VFIO_USER_BACKING_FILES,	/* memory files kept to be named by key:
					 * beyond it they are not kept */
	VFIO_USER_NR_RES
};

/* The name topology files and `uvfio stats` use ("dma_mappings"). */
const char *vfio_user_res_name(enum vfio_user_res res);
/* The limit for every user (the topology's "limits"). */
void vfio_user_set_limit(enum vfio_user_res res, uint64_t max);
uint64_t vfio_user_limit(enum vfio_user_res res);

/* One more of res for uid: 0, or the errno of that resource. */
int vfio_user_charge(uid_t uid, enum vfio_user_res res);
void vfio_user_uncharge(uid_t uid, enum vfio_user_res res);
uint64_t vfio_user_usage(uid_t uid, enum vfio_user_res res);

/* Calls fn for every user holding anything. */
void vfio_user_for_each(void (*fn)(uid_t uid, const uint64_t *usage, void *ctx), void *ctx);

#endif
