/* SPDX-License-Identifier: MIT */
/*
 * Internals of the preload shim, shared between its files.  Nothing here is
 * exported from libuvfio-shim.so: only the interposed libc entry points are.
 *
 *   libc.c        the real libc functions (dlsym RTLD_NEXT) and $UVFIO_DIR
 *   fdtable.c     which descriptors are uvfio files: fd -> {token, type}
 *   callchan.c    the calling thread's call channel to the daemon
 *   ops.c         the daemon operations (OPEN, LEARN, RW, MMAP, IOCTL, ...)
 *   marshal.c     per-ioctl argument layout and user-memory access
 *   memseg.c      what backs a range of our memory (/proc/self/maps)
 *   vmacache.c    the same, remembered from the mappings made through us
 *   redirect.c    which paths live in the fake tree and how nodes look
 *   interpose_fd.c, interpose_path.c   the exported entry points
 */
#ifndef UVFIO_SHIM_SHIM_H
#define UVFIO_SHIM_SHIM_H

/* The shim defines open, stat, mmap... under their own names: the build's
 * large-file and fortify settings would rename or inline them. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "transport/channel.h"
#include "transport/slot.h"
#include "transport/ioctl_codec.h"
#include "transport/wire.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* ---- libc.c ---- */

/* Every libc function the shim wraps or needs unwrapped.  Resolved once,
 * lazily, with dlsym(RTLD_NEXT); a missing one stays NULL. */
struct shim_libc {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	DIR *(*opendir)(const char *);
	int (*stat)(const char *, struct stat *);
	int (*stat64)(const char *, struct stat64 *);
	int (*lstat)(const char *, struct stat *);
	int (*lstat64)(const char *, struct stat64 *);
	int (*fstat)(int, struct stat *);
	int (*fstat64)(int, struct stat64 *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*fstatat64)(int, const char *, struct stat64 *, int);
	int (*xstat)(int, const char *, struct stat *);
	int (*xstat64)(int, const char *, struct stat64 *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*lxstat64)(int, const char *, struct stat64 *);
	int (*fxstat)(int, int, struct stat *);
	int (*fxstat64)(int, int, struct stat64 *);
	int (*fxstatat)(int, int, const char *, struct stat *, int);
	int (*fxstatat64)(int, int, const char *, struct stat64 *, int);
	int (*statx)(int, const char *, int, unsigned int, struct statx *);
	int (*access)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	ssize_t (*readlink)(const char *, char *, size_t);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
	ssize_t (*readlink_chk)(const char *, char *, size_t, size_t);
	ssize_t (*readlinkat_chk)(int, const char *, char *, size_t, size_t);
	char *(*realpath)(const char *, char *);
	char *(*realpath_chk)(const char *, char *, size_t);
	char *(*canonicalize_file_name)(const char *);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pread64)(int, void *, size_t, off64_t);
	ssize_t (*pread_chk)(int, void *, size_t, off_t, size_t);
	ssize_t (*pread64_chk)(int, void *, size_t, off64_t, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off64_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*mprotect)(void *, size_t, int);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
};

extern struct shim_libc shim_real;
/* Fills shim_real on first use; cheap afterwards. */
void shim_libc_init(void);
#define REAL(fn) (shim_libc_init(), shim_real.fn)

/* $UVFIO_DIR and what derives from it, read once. */
struct shim_env {
	const char *dir;	/* NULL: the shim passes everything through */
	char dir_buf[4096];
	char root[4096];	/* $UVFIO_DIR/root */
	size_t root_len;
	char sock[4096];	/* $UVFIO_DIR/uvfiod.sock */
	char redirects[4096];	/* $UVFIO_DIR/redirects */
	bool slot;		/* calls through a shared slot ($UVFIO_SLOT != 0) */
	bool posted;		/* small BAR writes are posted ($UVFIO_POSTED != 0) */
};

const struct shim_env *shim_env(void);
static inline bool shim_active(void)
{
	return shim_env()->dir != NULL;
}

/* ---- fdtable.c ---- */

/* Beyond enum uvfio_file_type: a descriptor that is one of our call
 * channels, so a program closing "all its fds" does not strand a thread;
 * and a KVM VFIO device (kvm_vfio.c), its token our record of it. */
#define SHIM_FD_CHANNEL		0x100u
#define SHIM_FD_KVM_VFIO	0x101u

/* Descriptors the shim makes for itself go this high, so the program's own
 * numbering stays what it would be without the shim. */
#define SHIM_FD_HIGH		512

struct shim_fd {
	uint64_t token;
	uint32_t type;		/* enum uvfio_file_type or SHIM_FD_CHANNEL; 0 = free */
	int32_t minor;		/* node minor (group/cdev number), -1 if unknown */
};

/* A uvfio file, as opposed to the shim's own entries. */
static inline bool shim_fd_is_file(const struct shim_fd *ent)
{
	return ent->type && ent->type < SHIM_FD_CHANNEL;
}

/* Fast: one atomic load for descriptors that were never ours. */
bool shim_fd_get(int fd, struct shim_fd *out);
int shim_fd_set(int fd, const struct shim_fd *ent);
/* Clears fd and returns what it held (type 0 if nothing). */
struct shim_fd shim_fd_take(int fd);
/* Calls fn for every used entry in [lo, hi]; the callback may clear it. */
void shim_fd_each(unsigned int lo, unsigned int hi,
		  void (*fn)(int fd, const struct shim_fd *ent, void *ctx), void *ctx);

/* ---- callchan.c ---- */

/* A thread's connection to the daemon plus scratch buffers for ioctl
 * payloads.  Only the owning thread uses it; fd is cleared from any thread
 * when the program closes the descriptor under us. */
struct shim_chan;

/* The calling thread's channel, connecting on first use; NULL with *err. */
struct shim_chan *shim_chan_get(int *err);
/* One round trip; on a transport failure the channel is dropped so the next
 * call reconnects.  Returns 0 or -errno. */
int shim_chan_call(struct shim_chan *ch, struct uvfio_call *call);
/* Whether this thread is inside a channel call of its own (a signal handler
 * interrupted it). */
bool shim_chan_busy(void);
/* Scratch space owned by the channel: request payload and reply payload. */
void *shim_chan_reqbuf(struct shim_chan *ch, size_t *cap);
void *shim_chan_repbuf(struct shim_chan *ch, size_t *cap);
/* The descriptor fd closed under us was a channel's: forget it. */
void shim_chan_lost(int fd, const struct shim_fd *ent);
/* Posted writes: the daemon said writes to [start, end) of file token may be
 * posted (asked at generation gen); a write queued in the slot (true) or not
 * (the caller calls).  Forgetting voids every window learned so far. */
unsigned int shim_chan_posted_gen(void);
void shim_chan_posted_forget(void);
void shim_chan_learn_posted(struct shim_chan *ch, uint64_t token, uint64_t start, uint64_t end,
			    unsigned int gen);
bool shim_chan_post(struct shim_chan *ch, uint64_t token, uint64_t off, uint64_t data,
		    uint32_t len);
/* Whether any thread of ours may have posted writes not yet performed. */
bool shim_chan_posted_pending(void);

/* ---- ops.c ---- */

/* Each returns >= 0 or -errno; a descriptor result is registered in the
 * fd table before it is returned. */
int shim_op_open(const char *path, int flags, int minor);
/* 1: fd is a uvfio file (now registered, *ent filled), 0: not ours. */
int shim_op_learn(int fd, struct shim_fd *ent);
void shim_op_release(uint64_t token);
ssize_t shim_op_rw(const struct shim_fd *ent, void *buf, size_t count, int64_t off,
		   uint32_t flags);
void *shim_op_mmap(int fd, const struct shim_fd *ent, void *addr, size_t len, int prot,
		   int flags, int64_t off, int *err);
/* A descriptor of the memory behind [off, off + len) of a device's BAR (what
 * an mmap of it maps), or -errno. */
int shim_op_bar_memory(uint64_t token, int64_t off, size_t len);
/* A read or write of a device region that may be made from a signal
 * handler (a trapped register access).  Bytes done or -errno. */
ssize_t shim_op_rw_async(uint64_t token, void *buf, size_t count, int64_t off, bool write);
/* Returns once every write this process posted was performed. */
void shim_op_posted_fence(void);
long shim_op_ioctl(const struct shim_fd *ent, unsigned long cmd, unsigned long arg);
/* The daemon may let these backing files of ours go (no call from inside a
 * call of this thread). */
void shim_op_forget(const struct uvfio_ioctl_file *keys, unsigned int n);

/* ---- kvm_vfio.c ---- */

/* An ioctl of KVM's on a descriptor that is not a uvfio file: true (and
 * *ret, >= 0 or -errno) if the shim answered it, false to let KVM. */
bool shim_kvm_ioctl(int fd, unsigned long request, unsigned long arg, long *ret);
/* Another descriptor names the KVM VFIO device token / one went. */
void shim_kvm_vfio_get(uint64_t token);
void shim_kvm_vfio_put(uint64_t token);

/* ---- marshal.c ---- */

enum shim_arg_kind {
	SHIM_ARG_NONE,		/* the value is the argument */
	SHIM_ARG_ARGSZ,		/* VFIO struct led by a u32 argsz */
	SHIM_ARG_SIZE,		/* iommufd struct led by a u32 size; a tail past
				 * what is sent must be zero */
	SHIM_ARG_INT,		/* pointer to one int */
	SHIM_ARG_STRING,	/* NUL-terminated string, like strndup_user(PAGE_SIZE) */
};

enum shim_arg_fds {
	SHIM_FDS_NONE,
	SHIM_FDS_INT,		/* the int at arg */
	SHIM_FDS_FIELD,		/* the s32 at fd_off */
	SHIM_FDS_IRQ_SET,	/* vfio_irq_set data[] when DATA_EVENTFD */
	SHIM_FDS_HOT_RESET,	/* vfio_pci_hot_reset group_fds[] */
	SHIM_FDS_FEATURE,	/* LOW_POWER_ENTRY_WITH_WAKEUP's eventfd */
};

struct shim_ioctl_desc {
	unsigned long cmd;
	uint32_t types;		/* bit per enum uvfio_file_type; 0 = any file */
	uint8_t kind;		/* enum shim_arg_kind */
	uint8_t fds;		/* enum shim_arg_fds */
	uint8_t fd_off;		/* SHIM_FDS_FIELD: where the descriptor is */
	/* The argument names process memory to map: u64 address and length
	 * at these offsets (0: it names none). */
	uint8_t mem_va_off, mem_len_off;
	uint32_t minsz;		/* bytes the kernel reads even when argsz is smaller */
};

#define SHIM_ARGSZ_MAX		(64u * 1024u)
#define SHIM_STRING_MAX		4096u

/* The row for cmd on a file of this type; value-only for unknown ones. */
const struct shim_ioctl_desc *shim_ioctl_lookup(unsigned long cmd, uint32_t type);

/* Copy user memory without faulting: bytes actually copied (< len when a
 * page was unreadable). */
size_t shim_user_read(void *dst, uint64_t uaddr, size_t len);
/* 0 or -EFAULT. */
int shim_user_write(uint64_t uaddr, const void *src, size_t len);

/* The argument bytes, descriptors and flags of one ioctl. */
struct shim_ioctl_arg {
	uint32_t flags;			/* UVFIO_IOCTL_* */
	uint32_t len;
	uint8_t *bytes;			/* caller's buffer, SHIM_ARGSZ_MAX + 1 bytes */
	struct uvfio_ioctl_fd fds[UVFIO_MAX_FDS];
	int attach[UVFIO_MAX_FDS];	/* descriptors to pass, by index */
	uint32_t nfds;
	uint32_t nattach;
};

/* Reads arg according to d into a (bytes must have room for
 * SHIM_ARGSZ_MAX + 1) and lists the descriptors it names.  Returns 0, or
 * -E2BIG when it names more descriptors than one message carries. */
int shim_marshal_arg(const struct shim_ioctl_desc *d, uint64_t arg, struct shim_ioctl_arg *a);

/* ---- memseg.c ---- */

/* One line of /proc/<pid>/maps. */
struct shim_vma {
	uint64_t start, end, offset;
	dev_t dev;
	uint64_t ino;
	uint32_t flags;		/* UVFIO_SEG_PROT_* | UVFIO_SEG_SHARED */
	const char *path;	/* points into the parsed line; "" if none */
	size_t path_len;
};

/* Parses one line (without its newline).  0 or -EINVAL. */
int shim_maps_parse_line(const char *line, size_t len, struct shim_vma *v);

#define SHIM_MAX_SEGS		4096u

struct shim_memdesc {
	struct uvfio_mem_seg *segs;	/* malloc'd */
	uint32_t nsegs, cap;
	int fds[UVFIO_MAX_FDS];		/* descriptors opened for the segments */
	uint32_t nfds;
	struct {			/* backing files looked for, found or not */
		dev_t dev;
		uint64_t ino;
		int32_t idx;		/* in fds, or -1 */
	} seen[2 * UVFIO_MAX_FDS];
	uint32_t nseen;
	uint64_t lo, hi;		/* range being described */
	uint64_t cur;			/* described up to here */
	bool overflow;			/* too many segments: summarised */
	uint32_t all_flags;		/* AND of every mapped piece's flags */
	bool holes;
	/* Backing files named by key (vmacache.c); a segment names file k
	 * with attached = SHIM_SEG_FILE(k), and a file that travels with a
	 * descriptor has attached = its index in fds. */
	struct uvfio_ioctl_file files[UVFIO_MAX_FDS];
	uint32_t nfiles;
};

#define SHIM_SEG_FILE(k)	(UVFIO_MAX_FDS + (k))

/* Describes [vaddr, vaddr + len) of the calling process.  0 or -errno. */
int shim_mem_describe(uint64_t vaddr, uint64_t len, struct shim_memdesc *d);
/* The same from maps text already read (for tests and for the above);
 * attach selects whether backing files are opened. */
int shim_mem_describe_text(const char *maps, size_t n, uint64_t vaddr, uint64_t len,
			   bool attach, struct shim_memdesc *d);
void shim_memdesc_release(struct shim_memdesc *d);
/* Appends a segment.  0 or -ENOMEM. */
int shim_memdesc_add(struct shim_memdesc *d, uint64_t vaddr, uint64_t len, uint64_t off,
		     int32_t attached, uint32_t flags);
/* Our descriptor fd reopened (a new open file of ours), if it is still the
 * file (dev, ino); -1 if not. */
int shim_reopen_fd(int fd, dev_t dev, uint64_t ino);

/* ---- vmacache.c ---- */

/* The program's mmap(addr, len, prot, flags, fd, off) returned p (maybe
 * MAP_FAILED). */
void shim_vma_mapped(void *addr, void *p, size_t len, int prot, int flags, int fd, int64_t off);
/* [addr, addr + len) holds nothing the cache knows (unmapped, or mapped in
 * a way it does not describe). */
void shim_vma_forget(void *addr, size_t len);
/* mprotect of the range: done, or failed (part of it may have changed). */
void shim_vma_protect(void *addr, size_t len, int prot, bool done);
/* mremap(old, old_len, new_len, flags, want) returned p (maybe MAP_FAILED). */
void shim_vma_remap(void *old, size_t old_len, void *p, size_t new_len, int flags, void *want);
/* Describes [vaddr, vaddr + len) from the cache when it covers all of it
 * (true), naming files the daemon holds by key; false: d is empty. */
bool shim_vma_describe(uint64_t vaddr, uint64_t len, struct shim_memdesc *d);
/* After a description from the maps: files it attached that the cache
 * knows travel with their key, so the daemon keeps them. */
void shim_vma_key_files(struct shim_memdesc *d);
/* The daemon answered a call made with d: it holds every file d sent
 * (held), or it held none of those d named by key (!held). */
void shim_vma_sent(const struct shim_memdesc *d, bool held);

/* ---- mmio.c, mmio_fault.c ---- */

/* A mapped BAR range, as a lookup copies it out of the table. */
struct shim_bar_view {
	uint64_t start, end;
	uint64_t token;			/* the device file */
	uint64_t region_off;		/* device file offset of start */
	int prot;			/* what the program asked for */
	bool trapped;			/* registers, not RAM */
	uint32_t index;			/* region index */
	const char *device;		/* the device's name: messages only */
};

/* The BAR range holding addr.  Safe in a signal handler. */
bool shim_mmio_lookup(uint64_t addr, struct shim_bar_view *v);
/* Copies n bytes, either side possibly a bad buffer of the program: 0, or
 * -EFAULT when a page was not there.  Not for signal handlers. */
int shim_copy_safe(void *dst, const void *src, size_t n);
/* Puts our SIGSEGV and SIGILL handlers in front of the program's (once). */
void shim_mmio_handlers_install(void);

/* Maps a BAR range the daemon described (the reply descriptor mfd at
 * mr->fd_offset): RAM pieces with prot, register pieces inaccessible and
 * entered in the table of trapped ranges.  Every piece keeps the device file
 * open until it is unmapped, as a VMA holds its file.  MAP_FAILED with *err. */
void *shim_mmio_map(int devfd, const struct shim_fd *ent, void *addr, size_t len, int prot,
		    int flags, int mfd, uint64_t off, const struct uvfio_mmap_reply *mr,
		    int *err);
/* Register pages are mapped inaccessible, but the program (and a device
 * reaching them peer-to-peer) may use them as it mapped them: segments in
 * BAR mappings get the program's protection. */
void shim_mmio_describe(struct shim_memdesc *md);
/* [addr, addr + len) no longer holds BAR pages (unmapped or replaced). */
void shim_mmio_forget(void *addr, size_t len);

/* ---- redirect.c ---- */

enum shim_path_kind {
	SHIM_PATH_PASS = 0,	/* not ours: use the path as given */
	SHIM_PATH_REDIRECT,	/* lives in the fake tree */
	SHIM_PATH_NODE,		/* a VFIO device node: opened through the daemon */
};

struct shim_node {
	uint32_t type;		/* enum uvfio_file_type */
	unsigned int major;
	int minor;		/* -1 when the name has no number */
};

/* Classifies a /dev path as a VFIO node; false if it is none. */
bool shim_node_classify(const char *path, struct shim_node *node);

/* A parsed redirect list. */
struct shim_redirects {
	char *text;		/* the prefixes, NUL-separated */
	uint32_t *off;		/* start of each prefix in text */
	uint32_t *len;
	uint32_t n;
};

int shim_redirects_parse(const char *buf, size_t n, struct shim_redirects *r);
void shim_redirects_free(struct shim_redirects *r);
bool shim_redirects_match(const struct shim_redirects *r, const char *path);

/* Classifies path and, unless SHIM_PATH_PASS, writes $UVFIO_DIR/root + path
 * to out (PATH_MAX bytes).  Returns the kind or -ENAMETOOLONG. */
int shim_path_map(const char *path, char *out, struct shim_node *node);

/* Quick test done inline by every path entry point. */
static inline bool shim_path_candidate(const char *p)
{
	return p && p[0] == '/' &&
	       ((p[1] == 's' && p[2] == 'y' && p[3] == 's' && p[4] == '/') ||
		(p[1] == 'd' && p[2] == 'e' && p[3] == 'v' && p[4] == '/'));
}

/* Removes a leading $UVFIO_DIR/root from the len bytes at path, in place,
 * so the program sees /sys/... again.  Returns the new length; the caller
 * terminates strings. */
size_t shim_path_unmap(char *path, size_t len);

/* $UVFIO_DIR/root + the node's path (PATH_MAX bytes); -ENOENT when the
 * node's number is unknown. */
int shim_node_path(const struct shim_node *node, char *out);
/* Turns the stat of a node's stand-in file into what the char device would
 * report. */
void shim_node_present(const struct shim_node *node, struct stat *st);
void shim_node_present64(const struct shim_node *node, struct stat64 *st);
void shim_node_present_statx(const struct shim_node *node, struct statx *stx);
/* The node an open uvfio file stands for; false for device files, which are
 * anonymous inodes. */
bool shim_fd_node(const struct shim_fd *ent, struct shim_node *node);
/* Anonymous-inode presentation of a device file's socket stat. */
void shim_anon_present(struct stat *st);
void shim_anon_present64(struct stat64 *st);
void shim_anon_present_statx(struct statx *stx);

#endif
