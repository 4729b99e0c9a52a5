// SPDX-License-Identifier: MIT
/*
 * Exported path entry points.  glibc's own fopen, opendir and realpath do
 * not go through an interposed open(), so each is wrapped by name, as are the
 * stat family (the 2.33+ symbols and the older __xstat ones), access,
 * readlink and their fortified forms.  A path outside /sys and /dev costs the
 * inline shim_path_candidate() test and nothing else.
 *
 * fstat and friends live here too: on a uvfio file they report the char
 * device (container, group) or anonymous inode (device file) the kernel
 * would.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The path to hand to libc: path itself, or its place in the fake tree.
 * NULL (errno set) when the mapped path does not fit. */
static inline const char *map_path(const char *path, char *buf, struct shim_node *node,
				   int *kind)
{
	*kind = SHIM_PATH_PASS;
	if (!shim_path_candidate(path))
		return path;
	*kind = shim_path_map(path, buf, node);
	if (*kind < 0) {
		errno = -*kind;
		return NULL;
	}
	return *kind == SHIM_PATH_PASS ? path : buf;
}

#define MAPPED(path)							\
	char buf_[PATH_MAX];						\
	struct shim_node node_;						\
	int kind_;							\
	const char *use_ = map_path((path), buf_, &node_, &kind_)

/* ---- stat of paths ---- */

#define STAT_PATH(call, st, present)					\
	do {								\
		int ret_;						\
									\
		if (!use_)						\
			return -1;					\
		ret_ = call;						\
		if (ret_ == 0 && kind_ == SHIM_PATH_NODE)		\
			present(&node_, st);				\
		return ret_;						\
	} while (0)

SHIM_EXPORT int stat(const char *path, struct stat *st)
{
	MAPPED(path);
	STAT_PATH(REAL(stat)(use_, st), st, shim_node_present);
}

SHIM_EXPORT int stat64(const char *path, struct stat64 *st)
{
	MAPPED(path);
	STAT_PATH(REAL(stat64)(use_, st), st, shim_node_present64);
}

SHIM_EXPORT int lstat(const char *path, struct stat *st)
{
	MAPPED(path);
	STAT_PATH(REAL(lstat)(use_, st), st, shim_node_present);
}

SHIM_EXPORT int lstat64(const char *path, struct stat64 *st)
{
	MAPPED(path);
	STAT_PATH(REAL(lstat64)(use_, st), st, shim_node_present64);
}

SHIM_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	MAPPED(path);
	STAT_PATH(REAL(xstat)(ver, use_, st), st, shim_node_present);
}

SHIM_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	MAPPED(path);
	STAT_PATH(REAL(xstat64)(ver, use_, st), st, shim_node_present64);
}

SHIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	MAPPED(path);
	STAT_PATH(REAL(lxstat)(ver, use_, st), st, shim_node_present);
}

SHIM_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	MAPPED(path);
	STAT_PATH(REAL(lxstat64)(ver, use_, st), st, shim_node_present64);
}

/* ---- stat of descriptors ---- */

static bool ours(int fd, struct shim_fd *ent)
{
	return shim_fd_get(fd, ent) && shim_fd_is_file(ent);
}

/* A container or group descriptor reports its node's stand-in file (owner,
 * mode, times) as the char device; a device file is an anonymous inode. */
#define PRESENT_FD(ent, st, real_stat, node_present, anon_present)	\
	do {								\
		struct shim_node n_;					\
		char p_[PATH_MAX];					\
		int saved_ = errno;					\
									\
		if (!shim_fd_node(ent, &n_)) {				\
			anon_present(st);				\
			break;						\
		}							\
		if (shim_node_path(&n_, p_) || real_stat(p_, st))	\
			(st)->st_mode = S_IRUSR | S_IWUSR;		\
		node_present(&n_, st);					\
		errno = saved_;						\
	} while (0)

static void present_fd(const struct shim_fd *ent, struct stat *st)
{
	PRESENT_FD(ent, st, REAL(stat), shim_node_present, shim_anon_present);
}

static void present_fd64(const struct shim_fd *ent, struct stat64 *st)
{
	PRESENT_FD(ent, st, REAL(stat64), shim_node_present64, shim_anon_present64);
}

#define STAT_FD(call, fd, st, present)					\
	do {								\
		struct shim_fd ent_;					\
		int ret_ = call;					\
									\
		if (ret_ == 0 && ours(fd, &ent_))			\
			present(&ent_, st);				\
		return ret_;						\
	} while (0)

SHIM_EXPORT int fstat(int fd, struct stat *st)
{
	STAT_FD(REAL(fstat)(fd, st), fd, st, present_fd);
}

SHIM_EXPORT int fstat64(int fd, struct stat64 *st)
{
	STAT_FD(REAL(fstat64)(fd, st), fd, st, present_fd64);
}

SHIM_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	STAT_FD(REAL(fxstat)(ver, fd, st), fd, st, present_fd);
}

SHIM_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	STAT_FD(REAL(fxstat64)(ver, fd, st), fd, st, present_fd64);
}

/* fstatat: an empty path with AT_EMPTY_PATH is the descriptor itself. */
#define STAT_AT(call, dirfd, path, st, flags, present_path, present_desc) \
	do {								\
		if ((flags & AT_EMPTY_PATH) && !path[0])	\
			STAT_FD(call, dirfd, st, present_desc);		\
		STAT_PATH(call, st, present_path);			\
	} while (0)

SHIM_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	MAPPED(path);
	STAT_AT(REAL(fstatat)(dirfd, use_, st, flags), dirfd, path, st, flags,
		shim_node_present, present_fd);
}

SHIM_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	MAPPED(path);
	STAT_AT(REAL(fstatat64)(dirfd, use_, st, flags), dirfd, path, st, flags,
		shim_node_present64, present_fd64);
}

SHIM_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	MAPPED(path);
	STAT_AT(REAL(fxstatat)(ver, dirfd, use_, st, flags), dirfd, path, st, flags,
		shim_node_present, present_fd);
}

SHIM_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
			     int flags)
{
	MAPPED(path);
	STAT_AT(REAL(fxstatat64)(ver, dirfd, use_, st, flags), dirfd, path, st, flags,
		shim_node_present64, present_fd64);
}

static void present_fd_statx(const struct shim_fd *ent, struct statx *stx)
{
	struct shim_node n;
	char p[PATH_MAX];
	int saved = errno;

	if (!shim_fd_node(ent, &n)) {
		shim_anon_present_statx(stx);
		return;
	}
	if (shim_node_path(&n, p) ||
	    REAL(statx)(AT_FDCWD, p, 0, stx->stx_mask | STATX_BASIC_STATS, stx))
		stx->stx_mode = S_IRUSR | S_IWUSR;
	shim_node_present_statx(&n, stx);
	errno = saved;
}

SHIM_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
		      struct statx *stx)
{
	MAPPED(path);
	STAT_AT(REAL(statx)(dirfd, use_, flags, mask, stx), dirfd, path, stx, flags,
		shim_node_present_statx, present_fd_statx);
}

/* ---- access ---- */

SHIM_EXPORT int access(const char *path, int mode)
{
	MAPPED(path);
	return use_ ? REAL(access)(use_, mode) : -1;
}

SHIM_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	MAPPED(path);
	return use_ ? REAL(faccessat)(dirfd, use_, mode, flags) : -1;
}

/* ---- opening through stdio and dirent ---- */

SHIM_EXPORT FILE *fopen(const char *path, const char *mode)
{
	MAPPED(path);
	return use_ ? REAL(fopen)(use_, mode) : NULL;
}

SHIM_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	MAPPED(path);
	return use_ ? REAL(fopen64)(use_, mode) : NULL;
}

SHIM_EXPORT DIR *opendir(const char *path)
{
	MAPPED(path);
	return use_ ? REAL(opendir)(use_) : NULL;
}

/* ---- names that come back: strip the fake tree's root ---- */

static ssize_t link_result(ssize_t n, char *buf, int kind)
{
	if (n > 0 && kind != SHIM_PATH_PASS)
		n = (ssize_t)shim_path_unmap(buf, (size_t)n);
	return n;
}

SHIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	MAPPED(path);
	if (!use_)
		return -1;
	return link_result(REAL(readlink)(use_, buf, len), buf, kind_);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	MAPPED(path);
	if (!use_)
		return -1;
	return link_result(REAL(readlinkat)(dirfd, use_, buf, len), buf, kind_);
}

SHIM_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		return REAL(readlink_chk)(path, buf, len, buflen);
	MAPPED(path);
	if (!use_)
		return -1;
	return link_result(REAL(readlink_chk)(use_, buf, len, buflen), buf, kind_);
}

SHIM_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
				     size_t buflen)
{
	if (len > buflen)
		return REAL(readlinkat_chk)(dirfd, path, buf, len, buflen);
	MAPPED(path);
	if (!use_)
		return -1;
	return link_result(REAL(readlinkat_chk)(dirfd, use_, buf, len, buflen), buf, kind_);
}

static char *name_result(char *res, int kind)
{
	if (res && kind != SHIM_PATH_PASS)
		res[shim_path_unmap(res, strlen(res))] = 0;
	return res;
}

SHIM_EXPORT char *realpath(const char *path, char *resolved)
{
	MAPPED(path);
	if (!use_)
		return NULL;
	return name_result(REAL(realpath)(use_, resolved), kind_);
}

SHIM_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		return REAL(realpath_chk)(path, resolved, resolvedlen);
	MAPPED(path);
	if (!use_)
		return NULL;
	return name_result(REAL(realpath_chk)(use_, resolved, resolvedlen), kind_);
}

SHIM_EXPORT char *canonicalize_file_name(const char *path)
{
	MAPPED(path);
	if (!use_)
		return NULL;
	return name_result(REAL(canonicalize_file_name)(use_), kind_);
}
