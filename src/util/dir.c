// SPDX-License-Identifier: MIT
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int uvfio_dir_open(const char *path, mode_t mode, bool set_mode, char *err, size_t errlen)
{
	bool created = false;
	struct stat st;
	int fd, ret;

	if (!uvfio_dir_mode_ok(mode)) {
		snprintf(err, errlen, "mode %04o: the owner needs rwx and nobody else may write",
			 (unsigned int)mode);
		return -EINVAL;
	}
	if (mkdir(path, mode) == 0) {
		created = true;
	} else if (errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			snprintf(err, errlen, "%s is a symlink: give a real directory", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	/* Checked on what we opened, so nothing can be swapped in after. */
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		ret = -EPERM;
		snprintf(err, errlen, "%s is owned by uid %u, not by this user (uid %u): "
			 "give a directory of ours or a path that does not exist yet", path,
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
		goto fail;
	}
	if (st.st_mode & 022) {
		ret = -EPERM;
		snprintf(err, errlen, "%s is writable by group or others (mode %04o): "
			 "another user could plant files in it", path,
			 (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	/* mkdir's mode went through the umask: make it exactly the one asked. */
	if ((created || set_mode) && fchmod(fd, mode) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int uvfio_rm_tree_at(int dirfd, const char *name)
{
	int fd, ret;

	/* unlinkat removes a symlink itself, whatever it points at. */
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = uvfio_empty_dir(fd);
	close(fd);
	if (!ret && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

int uvfio_empty_dir(int fd)
{
	/* A description of our own: readdir's position is not the caller's. */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	bool removed;
	int ret = 0;
	DIR *d;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	/* Entries removed while reading may hide others: read again until a
	 * pass finds nothing left. */
	do {
		removed = false;
		rewinddir(d);
		while ((e = readdir(d))) {
			int r;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			r = uvfio_rm_tree_at(fd, e->d_name);
			if (r)
				ret = r;
			else
				removed = true;
		}
	} while (removed && !ret);
	closedir(d);
	return ret;
}
