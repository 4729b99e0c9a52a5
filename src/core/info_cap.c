// SPDX-License-Identifier: MIT
/*
 * Capability chains of VFIO info structures: a linked list of headers whose
 * `next` fields are offsets from the start of the user's buffer.
 */
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio.h"

void *vfio_info_cap_add(struct vfio_info_cap *caps, size_t size, uint16_t id,
			uint16_t version)
{
	struct vfio_info_cap_header *header, *tmp;
	uint8_t *buf;
	/* Capabilities start 8-byte aligned so __u64 fields stay aligned. */
	size_t aligned = (size + 7) & ~(size_t)7;

	buf = realloc(caps->buf, caps->size + aligned);
	if (!buf) {
		free(caps->buf);
		caps->buf = NULL;
		caps->size = 0;
		return NULL;
	}
	caps->buf = buf;
	header = (void *)(buf + caps->size);
	memset(header, 0, aligned);
	header->id = id;
	header->version = version;

	/* Link it behind the current tail (offsets relative to buf for now). */
	if (caps->size) {
		for (tmp = (void *)buf; tmp->next; tmp = (void *)(buf + tmp->next))
			;
		tmp->next = (uint32_t)caps->size;
	}
	caps->size += aligned;
	return header;
}

void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset)
{
	struct vfio_info_cap_header *tmp;
	uint8_t *buf = caps->buf;

	if (!caps->size)
		return;
	for (tmp = (void *)buf; tmp->next; tmp = (void *)(buf + tmp->next - offset))
		tmp->next += (uint32_t)offset;
}
