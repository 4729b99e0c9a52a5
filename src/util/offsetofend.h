/* SPDX-License-Identifier: MIT */
#ifndef UVFIO_UTIL_OFFSETOFEND_H
#define UVFIO_UTIL_OFFSETOFEND_H

#include <stddef.h>

/* The end of a member: the kernel's minimum argsz of a uAPI structure. */
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

#endif
