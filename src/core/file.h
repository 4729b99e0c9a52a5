/* SPDX-License-Identifier: MIT */
/*
 * Daemon-side open files.  A vfio_file is the daemon's `struct file`: each
 * one is backed by a socket pair whose other end the program holds as its
 * descriptor.  The program's last close (or its death) hangs the socket up,
 * which drops the "user" reference; internal references (a device file
 * pinning its group file, a group pinning its container) keep the object
 * alive exactly as get_file()/fput() do in the kernel.
 */
#ifndef UVFIO_CORE_FILE_H
#define UVFIO_CORE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport/wire.h"
#include "uaccess.h"

struct vfio_file;

struct vfio_mmap_req {
	uint64_t offset;	/* file offset of the mapping (pgoff << PAGE_SHIFT) */
	uint64_t length;
	uint32_t flags;		/* UVFIO_MMAP_* */
	/* out: what the client maps in its place, and which pieces of it trap */
	int fd;			/* owned by the handler's object; not closed by caller */
	struct uvfio_mmap_reply out;
};

struct vfio_file_ops {
	enum uvfio_file_type type;
	long (*ioctl)(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua);
	ssize_t (*read)(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos);
	ssize_t (*write)(struct vfio_file *f, const void *buf, size_t count, uint64_t *ppos);
	/* Optional: may a write of count bytes at offset off be posted, i.e.
	 * queued by the client and performed later, in order?  If so, so may
	 * writes of that size in [*start, *end). */
	bool (*write_posted)(struct vfio_file *f, uint64_t off, size_t count, uint64_t *start,
			     uint64_t *end);
	int (*mmap)(struct vfio_file *f, struct vfio_mmap_req *req);
	void (*release)(struct vfio_file *f);
};

struct vfio_file {
	const struct vfio_file_ops *ops;
	void *private_data;
	uint64_t token;		/* names the file in calls; unguessable */
	uint64_t pos;		/* f_pos, for read()/write() */
	unsigned int refs;
	int sock;		/* daemon end of the socket pair, -1 once hung up */
	int peer_sock;		/* client end until handed over, then -1 */
	ino_t peer_ino;		/* inode of the client end: identifies the file */
	struct vfio_file *hash_next_token, *hash_next_ino;
	uid_t charged_uid;	/* counted against this user's open files */
	bool charged;
};

/* A new file with one user reference; peer_sock is the descriptor to hand to
 * the client (vfio_file_handed_over() closes the daemon's copy of it). */
struct vfio_file *vfio_file_alloc(const struct vfio_file_ops *ops, void *private_data);
/* Counts the file against uid's open files until it is released: 0, or
 * -EMFILE (the caller aborts the file). */
int vfio_file_charge(struct vfio_file *f, uid_t uid);
void vfio_file_handed_over(struct vfio_file *f);
/* Undo an allocation whose descriptor never reached the client. */
void vfio_file_abort(struct vfio_file *f);
void vfio_file_get(struct vfio_file *f);
void vfio_file_put(struct vfio_file *f);

struct vfio_file *vfio_file_lookup_token(uint64_t token);
/* The file a received descriptor refers to, or NULL if it is not one of ours. */
struct vfio_file *vfio_file_from_fd(int fd);
/* If the client already dropped its last descriptor, release its reference
 * now rather than when the hang-up event is processed, so that a following
 * call sees the state a kernel close() would have left.  Returns true when
 * the file was hung up. */
bool vfio_file_reap(struct vfio_file *f);
unsigned int vfio_file_count(void);
/* Daemon shutdown: every client reference goes, as if all closed. */
void vfio_file_release_all(void);

#endif
