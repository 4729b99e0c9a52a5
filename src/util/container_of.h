/* SPDX-License-Identifier: MIT */
#ifndef UVFIO_UTIL_CONTAINER_OF_H
#define UVFIO_UTIL_CONTAINER_OF_H

#include <stddef.h>

/* The structure that embeds the member ptr points to. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
