// SPDX-License-Identifier: MIT
/*
 * The ioctl argument codec: uvfio_ioctl_decode() on any payload, with any
 * number of descriptors said to have arrived.  What it accepts must be safe
 * to walk as the handlers walk it (every listed fd entry, segment and
 * argument byte in bounds, every attached index naming an arrived
 * descriptor) and must encode back to the same bytes.
 *
 * Input: [nattached:u8] then the payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/ioctl_codec.h"
#include "transport/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uvfio_ioctl_msg m;
	unsigned int nattached;
	uint8_t *buf, *again;
	volatile uint8_t sink = 0;

	if (size < 1)
		return 0;
	nattached = data[0] % (UVFIO_MAX_FDS + 2);
	/* The daemon decodes from an aligned receive buffer: so do we. */
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (uvfio_ioctl_decode(buf, size - 1, nattached, &m)) {
		free(buf);
		return 0;
	}
	for (uint32_t i = 0; i < m.nfds; i++) {
		if (m.fds[i].attached < -1 || m.fds[i].attached >= (int32_t)nattached)
			abort();
		sink ^= (uint8_t)m.fds[i].user_fd;
	}
	for (uint32_t i = 0; i < m.nfiles; i++) {
		if (m.files[i].attached < -1 || m.files[i].attached >= (int32_t)nattached)
			abort();
		sink ^= (uint8_t)m.files[i].ino;
	}
	for (uint32_t i = 0; i < m.nsegs; i++) {
		if (m.segs[i].attached < -1 ||
		    m.segs[i].attached >= (int32_t)(nattached + m.nfiles) ||
		    !m.segs[i].len || m.segs[i].vaddr + m.segs[i].len < m.segs[i].vaddr)
			abort();
		sink ^= (uint8_t)m.segs[i].flags;
	}
	for (uint32_t i = 0; i < m.arg_len; i++)
		sink ^= m.arg[i];

	if (uvfio_ioctl_encoded_size(m.nfds, m.nfiles, m.nsegs, m.arg_len) != size - 1)
		abort();
	again = malloc(size);
	if (!again)
		abort();
	uvfio_ioctl_encode(again, m.flags, m.fds, m.nfds, m.files, m.nfiles, m.segs, m.nsegs, m.arg,
			   m.arg_len);
	if (memcmp(again, buf, size - 1))
		abort();
	free(again);
	free(buf);
	(void)sink;
	return 0;
}
