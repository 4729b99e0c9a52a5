/* SPDX-License-Identifier: MIT */
/*
 * The daemon's view of "user space": the calling process (like `current`),
 * its memory accounting (like mm->locked_vm), and the argument of one ioctl
 * as the shim marshalled it.  Handlers read and write arguments only through
 * copy_from_user()/copy_to_user(), so a short or unreadable argument gives
 * EFAULT exactly where the kernel's copy would fail.
 */
#ifndef UVFIO_CORE_UACCESS_H
#define UVFIO_CORE_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport/ioctl_codec.h"
#include "transport/wire.h"

/*
 * One client address space, like the kernel's mm_struct: what MAP_DMA pins
 * and accounts.  Its memory is reached only through the process's own
 * /proc/self/mem, opened by the process and handed over at connect: that
 * descriptor follows the address space, not the pid, so after an exec, exit
 * or pid reuse it reaches nothing, whatever the daemon's privileges.
 */
struct vfio_mm {
	pid_t pid;
	uid_t uid;		/* whose DMA mappings these are (per-user limits) */
	int pidfd;		/* the process, for liveness and /proc look-ups */
	int memfd;		/* its /proc/self/mem, -1: no memory access */
	uint8_t image[UVFIO_IMAGE_LEN];	/* which program image of pid */
	bool named;		/* shared by the connections that name its image */
	unsigned int refs;
	uint64_t locked_vm;	/* pages accounted, like mm->locked_vm */
	bool cap_ipc_lock;	/* unlimited pinning, like capable(CAP_IPC_LOCK) */
	unsigned int users;	/* connections of the process naming it */
	/* Backing files the process sent, that it may name again by key
	 * (mm_files.c): its own only, gone with its last connection. */
	struct mm_file *files;
	unsigned int nfiles;
	uint64_t files_clock;
	struct vfio_mm *hash_next;
};

/* The kernel's capable() for another process: bit cap (CAP_*) of its
 * effective set. */
bool proc_capable(pid_t pid, int cap);

/*
 * The address space of process pid, user uid (pidfd: that process, or -1 to
 * open one).
 * With an image (the random name the process's shim gives its current program
 * image), connections naming the same pid and image share one mm, as threads
 * share one; without, the mm is private to the caller.  memfd is the
 * process's /proc/self/mem or -1.  Takes pidfd and memfd (closed when unused);
 * +1 ref, or NULL.
 */
struct vfio_mm *vfio_mm_attach(pid_t pid, uid_t uid, int pidfd, const uint8_t *image,
			       int memfd);
/*
 * A /proc/PID/mem descriptor for the image of the process behind pidfd that
 * holds `image` at image_addr: memfd if the client gave one (or -1 to open
 * the process's own, where the daemon may), checked by reading the name
 * through it, so it cannot reach another image or process.  Takes memfd;
 * the descriptor or -errno.
 */
int vfio_mm_open_image(pid_t pid, int pidfd, const uint8_t *image, uint64_t image_addr,
		       int memfd);
void vfio_mm_get(struct vfio_mm *mm);
void vfio_mm_put(struct vfio_mm *mm);
/* A connection that had mm from vfio_mm_attach() lets it go: the last one
 * takes the backing files with it (the process is gone, or no longer
 * calls), then the reference is put. */
void vfio_mm_detach(struct vfio_mm *mm);
/* Account npages (negative to release) against RLIMIT_MEMLOCK of mm's
 * process; -ENOMEM when the limit would be exceeded, as vfio_lock_acct(). */
int vfio_mm_lock_acct(struct vfio_mm *mm, int64_t npages);
/* Copy between daemon memory and the process's private memory. */
int vfio_mm_read(struct vfio_mm *mm, uint64_t vaddr, void *buf, size_t len);
int vfio_mm_write(struct vfio_mm *mm, uint64_t vaddr, const void *buf, size_t len);

/* The calling thread's process and credentials. */
struct vfio_uctx {
	struct vfio_mm *mm;
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct vfio_file;

struct vfio_uarg {
	struct vfio_uctx *ctx;
	uint64_t value;			/* the raw `arg` of ioctl() */
	struct uvfio_ioctl_msg msg;	/* marshalled argument */
	const int *attached;		/* descriptors that came with it */
	unsigned int nattached;
	uint8_t *wb;			/* write-back buffer (arg_len bytes) */
	uint32_t wb_lo, wb_hi;		/* dirty range within wb */
	struct vfio_file *new_file;	/* set when the ioctl returns a new fd */
	/* non-zero: the ioctl returns 0 and the new fd's number goes, as an
	 * s32, at this offset of the argument */
	uint32_t new_file_arg;
};

int copy_from_user(void *dst, struct vfio_uarg *ua, size_t off, size_t n);
int copy_to_user(struct vfio_uarg *ua, size_t off, const void *src, size_t n);
/* Are bytes [from, to) of the argument all zero?  0 yes, -E2BIG no,
 * -EFAULT unreadable (iommufd's copy_struct_from_user rule). */
int check_zeroed_user(struct vfio_uarg *ua, size_t from, size_t to);
/* The descriptor the user named by number: a daemon-side fd owned by the
 * request (do not close), or -EBADF if it was not an open fd. */
int fdget(struct vfio_uarg *ua, int32_t user_fd);
/* The memory segments the shim described for [vaddr, vaddr+len). */
const struct uvfio_mem_seg *uarg_mem_segs(struct vfio_uarg *ua, unsigned int *nsegs);

/* ---- mm_files.c: backing files named by key ---- */

/*
 * Resolves the request's file entries into its descriptor table: table
 * (2 * UVFIO_MAX_FDS ints) gets the descriptors that came with the message,
 * then one per file entry, and ua->attached points at it.  A file sent with
 * its descriptor is kept for the process under its key, if the key is the
 * file's.  0; UVFIO_RET_RESEND_FILES when a key names no file this process
 * sent (nothing was done); or -errno.
 */
long uarg_resolve_files(struct vfio_uarg *ua, int *table);
/*
 * A daemon mapping of all of a kept file, shared by the DMA mappings that
 * use it, so that mapping a piece of the file again costs no mmap; it
 * outlives its table entry while they use it.
 */
struct mm_file_map {
	uint8_t *base;
	uint64_t len;		/* bytes mapped from offset 0 */
	bool writable;
	unsigned int refs;
};

/* The mapping of the kept file fd (st: its fstat) that covers [off, off +
 * len), made or grown as needed: +1 ref.  NULL when fd is no kept file or
 * it cannot be mapped so (the caller maps the range itself). */
struct stat;
struct mm_file_map *vfio_mm_file_map(struct vfio_mm *mm, int fd, const struct stat *st,
				     uint64_t off, uint64_t len, bool writable);
void vfio_mm_file_map_put(struct mm_file_map *map);
/* The process says it maps these files no more (UVFIO_OP_FORGET). */
void vfio_mm_forget_files(struct vfio_mm *mm, const void *keys, size_t len);
/* Lets every kept file go. */
void vfio_mm_drop_files(struct vfio_mm *mm);

#endif
