// SPDX-License-Identifier: MIT
/*
 * Exported descriptor entry points: open of the device nodes, the calls that
 * move descriptors around (close, dup*, fcntl F_DUPFD*, close_range), and
 * ioctl, read, write, pread, pwrite and mmap on uvfio files.  Descriptors that
 * are not ours cost one fd-table lookup; pread, pwrite and mmap on a
 * descriptor inherited across exec are recognised by the error the kernel
 * gives for a socket, then learned from the daemon.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VFIO_IOCTL_TYPE	';'	/* VFIO and iommufd */

/* A uvfio file (not one of the shim's own entries). */
static bool ours(int fd, struct shim_fd *ent)
{
	return shim_fd_get(fd, ent) && shim_fd_is_file(ent);
}

/* What a descriptor's entry holds: one more descriptor names it / one went
 * (after the descriptor itself was closed).  Channels are not counted. */
static void entry_get(const struct shim_fd *ent)
{
	if (ent->type == SHIM_FD_KVM_VFIO)
		shim_kvm_vfio_get(ent->token);
}

static void entry_put(const struct shim_fd *ent)
{
	if (ent->type == SHIM_FD_KVM_VFIO)
		shim_kvm_vfio_put(ent->token);
	else if (shim_fd_is_file(ent))
		/* the kernel releases a file synchronously on its last close */
		shim_op_release(ent->token);
}

/* Keeps errno: when the descriptor is not ours, the caller returns the
 * real call's error. */
static bool learn(int fd, struct shim_fd *ent)
{
	int saved = errno;
	bool yes = shim_active() && shim_op_learn(fd, ent) == 1;

	errno = saved;
	return yes;
}

static long result(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* ---- open ---- */

static bool wants_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Device nodes go to the daemon, redirected paths to the fake tree, and the
 * rest (the common case) straight to libc.  pass receives the path to use
 * and returns what the real call returns. */
#define OPEN_BODY(path, flags, pass_call)					\
	do {									\
		char mapped_[PATH_MAX];						\
		struct shim_node node_;						\
		const char *use_ = (path);					\
		int kind_ = SHIM_PATH_PASS;					\
										\
		if (shim_path_candidate(path))					\
			kind_ = shim_path_map((path), mapped_, &node_);		\
		if (kind_ < 0)							\
			return (int)result(kind_);				\
		if (kind_ == SHIM_PATH_NODE)					\
			return (int)result(shim_op_open((path), (flags),	\
							node_.minor));		\
		if (kind_ == SHIM_PATH_REDIRECT)				\
			use_ = mapped_;						\
		return pass_call;						\
	} while (0)

static mode_t va_mode(int flags, va_list ap)
{
	return wants_mode(flags) ? (mode_t)va_arg(ap, int) : 0;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(path, flags, REAL(open)(use_, flags, mode));
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(path, flags, REAL(open64)(use_, flags, mode));
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(path, flags, REAL(openat)(dirfd, use_, flags, mode));
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(path, flags, REAL(openat64)(dirfd, use_, flags, mode));
}

/* The fortified forms abort on O_CREAT without a mode: let libc do that. */
SHIM_EXPORT int __open_2(const char *path, int flags)
{
	if (wants_mode(flags))
		return REAL(open_2)(path, flags);
	OPEN_BODY(path, flags, REAL(open_2)(use_, flags));
}

SHIM_EXPORT int __open64_2(const char *path, int flags)
{
	if (wants_mode(flags))
		return REAL(open64_2)(path, flags);
	OPEN_BODY(path, flags, REAL(open64_2)(use_, flags));
}

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (wants_mode(flags))
		return REAL(openat_2)(dirfd, path, flags);
	OPEN_BODY(path, flags, REAL(openat_2)(dirfd, use_, flags));
}

SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	if (wants_mode(flags))
		return REAL(openat64_2)(dirfd, path, flags);
	OPEN_BODY(path, flags, REAL(openat64_2)(dirfd, use_, flags));
}

/* ---- descriptor bookkeeping ---- */

SHIM_EXPORT int close(int fd)
{
	struct shim_fd ent = shim_fd_take(fd);
	int ret;

	if (!ent.type)
		return REAL(close)(fd);
	if (ent.type == SHIM_FD_CHANNEL) {
		shim_chan_lost(fd, &ent);
		return REAL(close)(fd);
	}
	/* Writes posted to the file land before it goes. */
	if (shim_fd_is_file(&ent))
		shim_op_posted_fence();
	ret = REAL(close)(fd);
	entry_put(&ent);
	return ret;
}

static void forget_channel(int fd, const struct shim_fd *ent, void *ctx)
{
	(void)ctx;
	if (ent->type == SHIM_FD_CHANNEL) {
		shim_fd_take(fd);
		shim_chan_lost(fd, ent);
	}
}

static void forget_file(int fd, const struct shim_fd *ent, void *ctx)
{
	(void)ctx;
	shim_fd_take(fd);
	entry_put(ent);
}

/* After descriptors [lo, hi] were closed: channels first, so the releases
 * do not go out on a channel that is already gone. */
static void forget_range(unsigned int lo, unsigned int hi)
{
	int saved = errno;

	shim_fd_each(lo, hi, forget_channel, NULL);
	shim_fd_each(lo, hi, forget_file, NULL);
	errno = saved;
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int ret;

	shim_op_posted_fence();
	ret = REAL(close_range)(first, last, flags);

	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		forget_range(first, last);
	return ret;
}

SHIM_EXPORT void closefrom(int lowfd)
{
	shim_op_posted_fence();
	REAL(closefrom)(lowfd);
	forget_range(lowfd < 0 ? 0 : (unsigned int)lowfd, INT_MAX);
}

/* A descriptor whose entry a copy takes: a uvfio file or a KVM VFIO device. */
static bool copied(int fd, struct shim_fd *ent)
{
	return shim_fd_get(fd, ent) && ent->type != SHIM_FD_CHANNEL;
}

/* newfd now refers to what oldfd refers to. */
static void copy_entry(int oldfd, int newfd)
{
	struct shim_fd ent;

	if (newfd >= 0 && copied(oldfd, &ent) && shim_fd_set(newfd, &ent) == 0)
		entry_get(&ent);
}

SHIM_EXPORT int dup(int oldfd)
{
	int ret = REAL(dup)(oldfd);

	copy_entry(oldfd, ret);
	return ret;
}

/* dup2/dup3 close newfd first when it was open: the same as close() for
 * what it held, unless the call fails and newfd is untouched. */
static int dup_onto(int oldfd, int newfd, int flags, bool three)
{
	struct shim_fd prior, ent;
	bool has_old;
	int ret;

	if (oldfd == newfd)
		return three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	has_old = copied(oldfd, &ent);
	if (ours(newfd, &prior))
		shim_op_posted_fence();
	prior = shim_fd_take(newfd);
	if (prior.type == SHIM_FD_CHANNEL)
		shim_chan_lost(newfd, &prior);
	ret = three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	if (ret < 0) {
		if (prior.type && prior.type != SHIM_FD_CHANNEL)
			shim_fd_set(newfd, &prior);
		return ret;
	}
	if (has_old && shim_fd_set(newfd, &ent) == 0)
		entry_get(&ent);
	/* the same file still open here: nothing to release */
	if (prior.type && prior.type != SHIM_FD_CHANNEL &&
	    !(shim_fd_is_file(&prior) && has_old && ent.token == prior.token))
		entry_put(&prior);
	return ret;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	return dup_onto(oldfd, newfd, 0, false);
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return dup_onto(oldfd, newfd, flags, true);
}

#define FCNTL_BODY(real)						\
	do {								\
		va_list ap;						\
		void *arg;						\
		int ret;						\
									\
		va_start(ap, cmd);					\
		arg = va_arg(ap, void *);				\
		va_end(ap);						\
		ret = real(fd, cmd, arg);				\
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)		\
			copy_entry(fd, ret);				\
		return ret;						\
	} while (0)

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	FCNTL_BODY(REAL(fcntl));
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	FCNTL_BODY(REAL(fcntl64));
}

/* ---- ioctl ---- */

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	struct shim_fd ent;
	unsigned long arg;
	va_list ap;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (ours(fd, &ent) ||
	    (_IOC_TYPE(request) == VFIO_IOCTL_TYPE && !shim_fd_get(fd, &ent) && learn(fd, &ent))) {
		/* a reset or a power state change: memory decode may go off */
		if (ent.type == UVFIO_FILE_DEVICE || ent.type == UVFIO_FILE_DEVICE_CDEV)
			shim_chan_posted_forget();
		return (int)result(shim_op_ioctl(&ent, request, arg));
	}
	if (_IOC_TYPE(request) == KVMIO) {
		long ret;

		if (shim_kvm_ioctl(fd, request, arg, &ret))
			return (int)result(ret);
	}
	return REAL(ioctl)(fd, request, arg);
}

/* ---- read and write ---- */

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	struct shim_fd ent;

	if (!ours(fd, &ent))
		return REAL(read)(fd, buf, count);
	return result(shim_op_rw(&ent, buf, count, 0, UVFIO_RW_USE_POS));
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	struct shim_fd ent;

	/* An overflowing call goes to libc, which aborts it. */
	if (count > buflen || !ours(fd, &ent))
		return REAL(read_chk)(fd, buf, count, buflen);
	return result(shim_op_rw(&ent, buf, count, 0, UVFIO_RW_USE_POS));
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
	struct shim_fd ent;

	if (!ours(fd, &ent))
		return REAL(write)(fd, buf, count);
	return result(shim_op_rw(&ent, (void *)buf, count, 0,
				 UVFIO_RW_WRITE | UVFIO_RW_USE_POS));
}

static ssize_t positioned(const struct shim_fd *ent, void *buf, size_t count, int64_t off,
			  uint32_t flags)
{
	if (off < 0)
		return result(-EINVAL);
	return result(shim_op_rw(ent, buf, count, off, flags));
}

/* A socket answers pread/pwrite with ESPIPE: only then can an unknown
 * descriptor be a uvfio file inherited across exec. */
#define PRW_BODY(real_call, buf, flags)					\
	do {								\
		struct shim_fd ent_;					\
		ssize_t ret_;						\
									\
		if (ours(fd, &ent_))					\
			return positioned(&ent_, (void *)(buf), count,	\
					  off, flags);			\
		ret_ = real_call;					\
		if (ret_ < 0 && errno == ESPIPE && !shim_fd_get(fd, &ent_) && \
		    learn(fd, &ent_))					\
			return positioned(&ent_, (void *)(buf), count,	\
					  off, flags);			\
		return ret_;						\
	} while (0)

SHIM_EXPORT ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
	PRW_BODY(REAL(pread)(fd, buf, count, off), buf, 0);
}

SHIM_EXPORT ssize_t pread64(int fd, void *buf, size_t count, off64_t off)
{
	PRW_BODY(REAL(pread64)(fd, buf, count, off), buf, 0);
}

SHIM_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off, size_t buflen)
{
	if (count > buflen)
		return REAL(pread_chk)(fd, buf, count, off, buflen);
	PRW_BODY(REAL(pread_chk)(fd, buf, count, off, buflen), buf, 0);
}

SHIM_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
				  size_t buflen)
{
	if (count > buflen)
		return REAL(pread64_chk)(fd, buf, count, off, buflen);
	PRW_BODY(REAL(pread64_chk)(fd, buf, count, off, buflen), buf, 0);
}

/* Small stores to device registers may be posted (see shim_op_rw). */
SHIM_EXPORT ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	PRW_BODY(REAL(pwrite)(fd, buf, count, off), buf, UVFIO_RW_WRITE | UVFIO_RW_ASK_POSTED);
}

SHIM_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off)
{
	PRW_BODY(REAL(pwrite64)(fd, buf, count, off), buf,
		 UVFIO_RW_WRITE | UVFIO_RW_ASK_POSTED);
}

/* ---- mmap ---- */

static void *map_ours(int fd, const struct shim_fd *ent, void *addr, size_t len, int prot,
		      int flags, int64_t off)
{
	int err;
	void *p = shim_op_mmap(fd, ent, addr, len, prot, flags, off, &err);

	if (p == MAP_FAILED)
		errno = -err;
	else
		shim_vma_forget(p, len);
	return p;
}

/* A socket answers mmap with ENODEV.  A fixed mapping replaces whatever
 * BAR pages were there; the cache of what backs our memory learns the new
 * mapping. */
#define MMAP_BODY(real_call)						\
	do {								\
		struct shim_fd ent_;					\
		void *p_;						\
									\
		if (!(flags & MAP_ANONYMOUS) && ours(fd, &ent_))	\
			return map_ours(fd, &ent_, addr, len, prot, flags, off); \
		p_ = real_call;						\
		if (p_ == MAP_FAILED && errno == ENODEV &&		\
		    !(flags & MAP_ANONYMOUS) && !shim_fd_get(fd, &ent_) && \
		    learn(fd, &ent_))					\
			return map_ours(fd, &ent_, addr, len, prot, flags, off); \
		if (p_ != MAP_FAILED && (flags & MAP_FIXED))		\
			shim_mmio_forget(p_, len);			\
		shim_vma_mapped(addr, p_, len, prot, flags, fd, off);	\
		return p_;						\
	} while (0)

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	MMAP_BODY(REAL(mmap)(addr, len, prot, flags, fd, off));
}

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	MMAP_BODY(REAL(mmap64)(addr, len, prot, flags, fd, off));
}
