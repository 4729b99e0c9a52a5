// SPDX-License-Identifier: MIT
#include "ioctl_codec.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

size_t uvfio_ioctl_encoded_size(uint32_t nfds, uint32_t nfiles, uint32_t nsegs,
				uint32_t arg_len)
{
	return sizeof(struct uvfio_ioctl_hdr) +
	       (size_t)nfds * sizeof(struct uvfio_ioctl_fd) +
	       (size_t)nfiles * sizeof(struct uvfio_ioctl_file) +
	       (size_t)nsegs * sizeof(struct uvfio_mem_seg) + arg_len;
}

void uvfio_ioctl_encode(void *buf, uint32_t flags,
			const struct uvfio_ioctl_fd *fds, uint32_t nfds,
			const struct uvfio_ioctl_file *files, uint32_t nfiles,
			const struct uvfio_mem_seg *segs, uint32_t nsegs,
			const void *arg, uint32_t arg_len)
{
	struct uvfio_ioctl_hdr hdr = {
		.flags = flags, .nfds = nfds, .nsegs = nsegs, .arg_len = arg_len,
		.nfiles = nfiles,
	};
	uint8_t *p = buf;

	memcpy(p, &hdr, sizeof(hdr));
	p += sizeof(hdr);
	if (nfds) {
		memcpy(p, fds, nfds * sizeof(*fds));
		p += nfds * sizeof(*fds);
	}
	if (nfiles) {
		memcpy(p, files, nfiles * sizeof(*files));
		p += nfiles * sizeof(*files);
	}
	if (nsegs) {
		memcpy(p, segs, nsegs * sizeof(*segs));
		p += nsegs * sizeof(*segs);
	}
	if (arg_len)
		memcpy(p, arg, arg_len);
}

int uvfio_ioctl_decode(const void *buf, size_t len, unsigned int nattached,
		       struct uvfio_ioctl_msg *out)
{
	struct uvfio_ioctl_hdr hdr;
	const uint8_t *p = buf;
	uint32_t i;

	if (len < sizeof(hdr))
		return -EPROTO;
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.pad || hdr.nfds > UVFIO_MAX_FDS || hdr.nfiles > UVFIO_MAX_FDS ||
	    hdr.nsegs > UVFIO_MAX_PAYLOAD || hdr.arg_len > UVFIO_MAX_PAYLOAD ||
	    uvfio_ioctl_encoded_size(hdr.nfds, hdr.nfiles, hdr.nsegs, hdr.arg_len) != len)
		return -EPROTO;
	p += sizeof(hdr);

	out->flags = hdr.flags;
	out->nfds = hdr.nfds;
	out->nsegs = hdr.nsegs;
	out->arg_len = hdr.arg_len;
	out->nfiles = hdr.nfiles;
	out->fds = (const struct uvfio_ioctl_fd *)p;
	p += hdr.nfds * sizeof(struct uvfio_ioctl_fd);
	out->files = (const struct uvfio_ioctl_file *)p;
	p += hdr.nfiles * sizeof(struct uvfio_ioctl_file);
	out->segs = (const struct uvfio_mem_seg *)p;
	p += hdr.nsegs * sizeof(struct uvfio_mem_seg);
	out->arg = p;

	/* Every descriptor index must name one that actually arrived. */
	for (i = 0; i < hdr.nfds; i++) {
		int32_t a = out->fds[i].attached;

		if (a < -1 || (a >= 0 && (unsigned int)a >= nattached))
			return -EPROTO;
	}
	for (i = 0; i < hdr.nfiles; i++) {
		int32_t a = out->files[i].attached;

		if (a < -1 || (a >= 0 && (unsigned int)a >= nattached))
			return -EPROTO;
	}
	for (i = 0; i < hdr.nsegs; i++) {
		const struct uvfio_mem_seg *s = &out->segs[i];

		if (s->attached < -1 ||
		    (s->attached >= 0 && (unsigned int)s->attached >= nattached + hdr.nfiles))
			return -EPROTO;
		if (s->len == 0 || s->vaddr + s->len < s->vaddr)
			return -EPROTO;
	}
	return 0;
}
