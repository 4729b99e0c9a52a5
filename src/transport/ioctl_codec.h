/* SPDX-License-Identifier: MIT */
/*
 * Layout of an UVFIO_OP_IOCTL payload, shared by the shim (encoder) and the
 * daemon (decoder).  The shim copies the user's argument bytes (as much as the
 * ioctl's size field says, bounded), lists the descriptors the structure
 * names, and, for ioctls that name process memory (MAP_DMA, IOAS_MAP),
 * describes what backs that memory.  The daemon never dereferences a client
 * pointer; it reads these bytes the way the kernel reads user memory.
 *
 *   struct uvfio_ioctl_hdr
 *   struct uvfio_ioctl_fd   fds[nfds]
 *   struct uvfio_ioctl_file files[nfiles]
 *   struct uvfio_mem_seg    segs[nsegs]
 *   uint8_t                 arg[arg_len]
 *
 * A segment's backing file is descriptor `attached` of the request's table:
 * the descriptors that came with the message, then one per files[] entry.
 * A file entry names a backing file by (st_dev, st_ino): the daemon keeps
 * the files a process sent (attached >= 0) so that it may name them again
 * without a descriptor (attached == -1), which lets the call skip the socket.
 *
 * Reply payload: struct uvfio_ioctl_wb followed by wb.len bytes to store at
 * wb.off in the user's argument.
 */
#ifndef UVFIO_TRANSPORT_IOCTL_CODEC_H
#define UVFIO_TRANSPORT_IOCTL_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* hdr.flags */
#define UVFIO_IOCTL_ARG_FAULT	(1u << 0)	/* bytes past arg_len could not be read */
#define UVFIO_IOCTL_TAIL_NONZERO (1u << 1)	/* iommufd: a byte past arg_len is not 0 */

struct uvfio_ioctl_hdr {
	uint32_t flags;
	uint32_t nfds;
	uint32_t nsegs;
	uint32_t arg_len;
	uint32_t nfiles;
	uint32_t pad;
};

/* A descriptor number the user wrote into the argument.  attached is the
 * index of the SCM_RIGHTS descriptor carrying it, or -1 when the number was
 * not an open descriptor in the caller (the daemon then answers EBADF at the
 * point the kernel would). */
struct uvfio_ioctl_fd {
	int32_t user_fd;
	int32_t attached;
};

/* A backing file by key.  attached: the descriptor carrying it (the daemon
 * keeps it under this key if the key is that file's), or -1: one the
 * process sent before.  Also the payload of UVFIO_OP_FORGET (attached
 * unused). */
struct uvfio_ioctl_file {
	uint64_t dev;
	uint64_t ino;
	int32_t attached;
	uint32_t pad;
};

/* What backs [vaddr, vaddr+len) in the caller. */
#define UVFIO_SEG_PROT_READ	(1u << 0)
#define UVFIO_SEG_PROT_WRITE	(1u << 1)
#define UVFIO_SEG_SHARED	(1u << 2)	/* MAP_SHARED: writes reach the file */
#define UVFIO_SEG_HOLE		(1u << 3)	/* nothing mapped there */

struct uvfio_mem_seg {
	uint64_t vaddr;
	uint64_t len;
	uint64_t file_offset;	/* offset of vaddr in the attached file */
	int32_t attached;	/* index in the request's descriptor table (see above),
				 * or -1: reach it as process memory */
	uint32_t flags;		/* UVFIO_SEG_* */
};

struct uvfio_ioctl_wb {
	uint32_t off;
	uint32_t len;
};

/* A decoded request, pointing into the received buffer. */
struct uvfio_ioctl_msg {
	uint32_t flags;
	uint32_t nfds;
	uint32_t nsegs;
	uint32_t arg_len;
	uint32_t nfiles;
	const struct uvfio_ioctl_fd *fds;
	const struct uvfio_ioctl_file *files;
	const struct uvfio_mem_seg *segs;
	const uint8_t *arg;
};

size_t uvfio_ioctl_encoded_size(uint32_t nfds, uint32_t nfiles, uint32_t nsegs,
				uint32_t arg_len);

/* Lays out a request into buf (of uvfio_ioctl_encoded_size bytes). */
void uvfio_ioctl_encode(void *buf, uint32_t flags,
			const struct uvfio_ioctl_fd *fds, uint32_t nfds,
			const struct uvfio_ioctl_file *files, uint32_t nfiles,
			const struct uvfio_mem_seg *segs, uint32_t nsegs,
			const void *arg, uint32_t arg_len);

/* Validates and decodes a received payload; nattached is how many
 * descriptors arrived with it.  Returns 0 or -EPROTO.  A segment may name
 * an index up to nattached + nfiles (the file entries, resolved by the
 * daemon). */
int uvfio_ioctl_decode(const void *buf, size_t len, unsigned int nattached,
		       struct uvfio_ioctl_msg *out);

#endif
