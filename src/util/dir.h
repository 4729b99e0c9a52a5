/* SPDX-License-Identifier: MIT */
/*
 * The daemon's directory, trusted only once checked: opened without following
 * a symlink, owned by us, writable by nobody else.  Everything inside it is
 * then reached relative to that descriptor, never through a path that
 * someone could redirect.
 */
#ifndef UVFIO_UTIL_DIR_H
#define UVFIO_UTIL_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Modes a daemon directory may have: ours in full, nobody else writes. */
#define UVFIO_DIR_MODE_DEFAULT	0700
static inline bool uvfio_dir_mode_ok(mode_t mode)
{
	return (mode & 0700) == 0700 && !(mode & ~(mode_t)0755);
}

/*
 * Creates path with mode, or opens it if it exists, and returns a descriptor
 * for it (O_DIRECTORY, close-on-exec) or -errno with a sentence in err.
 * An existing path must be a real directory (not a symlink) owned by our
 * effective user and not writable by group or others; it gets mode only if
 * set_mode.
 */
int uvfio_dir_open(const char *path, mode_t mode, bool set_mode, char *err, size_t errlen);

/* Removes name under dirfd and, if it is a directory, all it holds; never
 * follows a symlink.  0 if it is gone (or never was), else -errno. */
int uvfio_rm_tree_at(int dirfd, const char *name);

/* Removes everything inside the directory fd, which stays open. */
int uvfio_empty_dir(int fd);

#endif
