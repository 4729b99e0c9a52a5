/* SPDX-License-Identifier: MIT */
/*
 * The uvfio wire format between the shim (client) and uvfiod.
 *
 * Every open VFIO file is a socket the program holds: its only job is lifetime
 * (the daemon releases the file when the last reference to it goes away).
 * Calls travel on a separate per-thread "call channel" and name the file by
 * its token, so threads and forked processes never steal each other's replies.
 *
 * A request is a header, a payload of `len` bytes and up to UVFIO_MAX_FDS file
 * descriptors (SCM_RIGHTS).  A reply is a header, a payload and optionally
 * one descriptor.  Nothing here knows about VFIO structures: ioctl payloads
 * are opaque bytes laid out by the codec in ioctl_codec.h.
 */
#ifndef UVFIO_TRANSPORT_WIRE_H
#define UVFIO_TRANSPORT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define UVFIO_WIRE_MAGIC	0x75766631u	/* "uvf1" */
#define UVFIO_MAX_FDS		64
#define UVFIO_MAX_PAYLOAD	(256u * 1024u)	/* one message; larger I/O is chunked */
#define UVFIO_RW_CHUNK		(128u * 1024u)

enum uvfio_op {
	UVFIO_OP_HELLO = 1,	/* payload: struct uvfio_hello; fd: /proc/self/mem */
	UVFIO_OP_OPEN,		/* payload: path; arg0: open flags -> fd + token */
	UVFIO_OP_LEARN,		/* fd attached -> token + file type, or -EBADF */
	UVFIO_OP_IOCTL,		/* arg0: cmd, arg1: raw arg; payload: ioctl codec */
	UVFIO_OP_RW,		/* arg0: offset, arg1: count; flags: UVFIO_RW_* */
	UVFIO_OP_MMAP,		/* arg0: offset, arg1: length; flags: prot|shared */
	UVFIO_OP_RELEASE_SYNC,	/* after close(): release now if the last ref went */
	UVFIO_OP_CONTROL,	/* payload: a control command line (CLI) */
	UVFIO_OP_SYNC,		/* returns once the process's posted writes are done */
	UVFIO_OP_FORGET,	/* payload: struct uvfio_ioctl_file keys of backing
				 * files the process maps no more: let them go */
	UVFIO_OP_MAX
};

/* UVFIO_OP_HELLO: the client names its address space (first request of a
 * call channel).  image is random per program image of the process and
 * stands at image_addr in its memory. */
#define UVFIO_IMAGE_LEN		16

/* HELLO flags: the last descriptor is an eventfd the client will kick the
 * daemon with; the reply passes a shared call slot (slot.h). */
#define UVFIO_HELLO_SLOT	(1u << 0)

struct uvfio_hello {
	uint8_t image[UVFIO_IMAGE_LEN];
	uint64_t image_addr;
};

/* UVFIO_OP_RW flags */
#define UVFIO_RW_WRITE		(1u << 0)
#define UVFIO_RW_USE_POS	(1u << 1)	/* read()/write(): use and advance f_pos */
#define UVFIO_RW_ASK_POSTED	(1u << 2)	/* a write: may such writes be posted? */
/* UVFIO_OP_RW reply to UVFIO_RW_ASK_POSTED, in rep.type: the write was done,
 * and writes of 1, 2, 4 or 8 naturally aligned bytes within the offsets the
 * payload (struct uvfio_rw_posted) names may be posted in the slot. */
#define UVFIO_RW_REP_POSTED	(1u << 0)
struct uvfio_rw_posted {
	uint64_t start, end;	/* file offsets [start, end) */
};

/* UVFIO_OP_MMAP flags */
#define UVFIO_MMAP_READ		(1u << 0)
#define UVFIO_MMAP_WRITE	(1u << 1)
#define UVFIO_MMAP_SHARED	(1u << 2)

/*
 * UVFIO_OP_MMAP reply payload.  The client maps `length` bytes of the reply
 * descriptor at fd_offset; the listed pieces (offsets from the start of the
 * mapping) are device registers: the client maps them inaccessible and
 * performs each load and store to them as a region read or write at
 * region_offset + the offset into the mapping.
 */
#define UVFIO_MMAP_MAX_TRAPS	8

struct uvfio_mmap_trap {
	uint64_t offset;
	uint64_t length;
};

struct uvfio_mmap_reply {
	uint64_t fd_offset;
	uint32_t nr_traps;
	uint32_t index;			/* region index, for messages */
	char device[32];		/* the device's name, for messages */
	struct uvfio_mmap_trap traps[UVFIO_MMAP_MAX_TRAPS];
};

enum uvfio_file_type {
	UVFIO_FILE_NONE = 0,
	UVFIO_FILE_CONTAINER,	/* /dev/vfio/vfio */
	UVFIO_FILE_GROUP,	/* /dev/vfio/$GROUP */
	UVFIO_FILE_DEVICE,	/* from VFIO_GROUP_GET_DEVICE_FD */
	UVFIO_FILE_DEVICE_CDEV,	/* /dev/vfio/devices/vfioN */
	UVFIO_FILE_IOMMUFD,	/* /dev/iommu */
	UVFIO_FILE_MIG_DATA,	/* a migration data_fd */
};

struct uvfio_req {
	uint32_t magic;
	uint32_t op;
	uint32_t flags;
	uint32_t len;		/* payload bytes following the header */
	uint64_t file;		/* target file token, 0 if none */
	uint64_t arg0;
	uint64_t arg1;
};

struct uvfio_rep {
	int64_t ret;		/* >= 0 success value, < 0 -errno */
	uint64_t token;		/* OPEN/LEARN/ioctl returning a file: its token */
	uint32_t type;		/* OPEN/LEARN: enum uvfio_file_type */
	uint32_t len;		/* payload bytes following the header */
};

/* A reply whose `ret` is this carries a new file descriptor: the ioctl's return
 * value is that descriptor's number in the caller. */
#define UVFIO_RET_FD		(1LL << 40)
/* As UVFIO_RET_FD, but the ioctl returns 0 and the new descriptor's number
 * is stored as an s32 in the argument, at the offset in rep.type's upper 16
 * bits (the file type is in the lower 16). */
#define UVFIO_RET_FD_ARG	(1LL << 42)
/* The request named a backing file by key that the daemon does not hold
 * for this process (ioctl_codec.h): nothing was done; send it again with
 * the descriptors. */
#define UVFIO_RET_RESEND_FILES	(1LL << 41)

#endif
