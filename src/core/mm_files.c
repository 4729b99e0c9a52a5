// SPDX-License-Identifier: MIT
/*
 * Backing files a client process names by key.  MAP_DMA and IOAS_MAP of a
 * shared file mapping need the file behind it; passing its descriptor on
 * every call would keep those calls on the socket, off the shared call slot.
 * So the process's address space keeps each file the process sent, under
 * (st_dev, st_ino), and the process names it by that key from then on.
 *
 * A key is kept only when it is the key of the file it came with, so it
 * always names that file; a process reaches only the files it sent itself
 * (the table belongs to its address space, and goes with its last
 * connection); the table is small, lets the least recently used file go
 * when full, and counts against its user's "backing_files" limit.  A file
 * that cannot be kept still serves its own call.  A key the table does not
 * hold is no error for the program: the shim sends the call again with the
 * descriptors.
 *
 * A kept file is also mapped whole into the daemon once a DMA mapping uses
 * it, so that the next one of the same file costs no mmap and its unmap no
 * munmap (each about 2 us here).  The mapping goes with the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uaccess.h"
#include "user.h"

#define MM_FILES_MAX	64
/* Larger files are mapped piece by piece, as the DMA mappings need. */
#define MM_FILE_MAP_MAX	(64ull << 30)
/* The daemon's address space held by whole-file maps, all clients together:
 * past it (sparse files cost nothing to make) files are mapped piece by
 * piece, so no client can use up the daemon's address space this way. */
#define MM_FILE_MAPS_BUDGET	(8ull << 40)
#define MM_PAGE		4096ull

static uint64_t file_maps_total;

struct mm_file {
	uint64_t dev, ino;
	int fd;
	uint64_t used;		/* files_clock of the last call that named it */
	struct mm_file_map *map;
};

void vfio_mm_file_map_put(struct mm_file_map *map)
{
	if (!map || --map->refs)
		return;
	munmap(map->base, map->len);
	file_maps_total -= map->len;
	free(map);
}

/* All of fd, writable if the file lets us: the table's reference. */
static struct mm_file_map *file_map_new(int fd, uint64_t len)
{
	struct mm_file_map *map;
	void *p;

	if (len > MM_FILE_MAPS_BUDGET - file_maps_total)
		return NULL;
	map = calloc(1, sizeof(*map));
	if (!map)
		return NULL;
	map->writable = true;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		map->writable = false;
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	}
	if (p == MAP_FAILED) {
		free(map);
		return NULL;
	}
	map->base = p;
	map->len = len;
	map->refs = 1;
	file_maps_total += len;
	return map;
}

struct mm_file_map *vfio_mm_file_map(struct vfio_mm *mm, int fd, const struct stat *st,
				     uint64_t off, uint64_t len, bool writable)
{
	uint64_t size = ((uint64_t)st->st_size + MM_PAGE - 1) & ~(MM_PAGE - 1);
	struct mm_file *f = NULL;
	struct mm_file_map *map;

	for (unsigned int i = 0; i < mm->nfiles && !f; i++)
		if (mm->files[i].fd == fd)
			f = &mm->files[i];
	if (!f)
		return NULL;
	map = f->map;
	/* none yet, or the file grew, or it is wanted writable now */
	if (!map || off + len > map->len || (writable && !map->writable)) {
		if (size > MM_FILE_MAP_MAX || off > size || len > size - off)
			return NULL;
		map = file_map_new(fd, size);
		if (!map || (writable && !map->writable)) {
			vfio_mm_file_map_put(map);
			return NULL;
		}
		vfio_mm_file_map_put(f->map);
		f->map = map;
	}
	map->refs++;
	return map;
}

static struct mm_file *mm_file_find(struct vfio_mm *mm, uint64_t dev, uint64_t ino)
{
	for (unsigned int i = 0; i < mm->nfiles; i++) {
		if (mm->files[i].dev == dev && mm->files[i].ino == ino)
			return &mm->files[i];
	}
	return NULL;
}

static void mm_file_drop(struct vfio_mm *mm, struct mm_file *f)
{
	vfio_mm_file_map_put(f->map);
	close(f->fd);
	vfio_user_uncharge(mm->uid, VFIO_USER_BACKING_FILES);
	*f = mm->files[--mm->nfiles];
}

/* Room for one more: a free entry, or the least recently used one that the
 * current call (stamp) does not use.  NULL when there is none. */
static struct mm_file *mm_file_room(struct vfio_mm *mm, uint64_t stamp)
{
	struct mm_file *lru = NULL;

	if (!mm->files) {
		mm->files = calloc(MM_FILES_MAX, sizeof(*mm->files));
		if (!mm->files)
			return NULL;
	}
	if (mm->nfiles < MM_FILES_MAX)
		return &mm->files[mm->nfiles];
	for (unsigned int i = 0; i < mm->nfiles; i++) {
		if (mm->files[i].used != stamp && (!lru || mm->files[i].used < lru->used))
			lru = &mm->files[i];
	}
	if (lru)
		mm_file_drop(mm, lru);
	return lru ? &mm->files[mm->nfiles] : NULL;
}

/* Keeps a copy of fd under (dev, ino) if that is the file's key: a regular
 * file, as only those back DMA memory (dma_mem.c).  The descriptor the call
 * is to use: the kept one (with its mapping), or fd. */
static int mm_file_keep(struct vfio_mm *mm, int fd, uint64_t dev, uint64_t ino,
			uint64_t stamp)
{
	struct mm_file *f = mm_file_find(mm, dev, ino);
	struct stat st;
	int copy;

	if (f) {
		f->used = stamp;
		return f->fd;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != dev ||
	    (uint64_t)st.st_ino != ino)
		return fd;
	f = mm_file_room(mm, stamp);
	if (!f || vfio_user_charge(mm->uid, VFIO_USER_BACKING_FILES))
		return fd;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0) {
		vfio_user_uncharge(mm->uid, VFIO_USER_BACKING_FILES);
		return fd;
	}
	*f = (struct mm_file){ .dev = dev, .ino = ino, .fd = copy, .used = stamp };
	mm->nfiles++;
	return copy;
}

long uarg_resolve_files(struct vfio_uarg *ua, int *table)
{
	struct vfio_mm *mm = ua->ctx ? ua->ctx->mm : NULL;
	const struct uvfio_ioctl_msg *msg = &ua->msg;
	bool miss = false;
	uint64_t stamp;

	if (!msg->nfiles)
		return 0;
	if (ua->nattached > UVFIO_MAX_FDS || msg->nfiles > UVFIO_MAX_FDS)
		return -EPROTO;
	stamp = mm ? ++mm->files_clock : 0;
	memcpy(table, ua->attached, ua->nattached * sizeof(*table));
	for (uint32_t i = 0; i < msg->nfiles; i++) {
		const struct uvfio_ioctl_file *k = &msg->files[i];
		struct mm_file *f;
		int fd = -1;

		if (k->attached >= 0) {
			fd = ua->attached[k->attached];
			if (mm)
				fd = mm_file_keep(mm, fd, k->dev, k->ino, stamp);
		} else if (mm && (f = mm_file_find(mm, k->dev, k->ino))) {
			f->used = stamp;
			fd = f->fd;
		} else {
			miss = true;
		}
		table[ua->nattached + i] = fd;
	}
	if (miss)
		return UVFIO_RET_RESEND_FILES;
	ua->attached = table;
	ua->nattached += msg->nfiles;
	return 0;
}

void vfio_mm_forget_files(struct vfio_mm *mm, const void *keys, size_t len)
{
	const uint8_t *p = keys;

	for (; len >= sizeof(struct uvfio_ioctl_file); len -= sizeof(struct uvfio_ioctl_file),
	     p += sizeof(struct uvfio_ioctl_file)) {
		struct uvfio_ioctl_file k;
		struct mm_file *f;

		memcpy(&k, p, sizeof(k));
		f = mm_file_find(mm, k.dev, k.ino);
		if (f)
			mm_file_drop(mm, f);
	}
}

void vfio_mm_drop_files(struct vfio_mm *mm)
{
	while (mm->nfiles)
		mm_file_drop(mm, &mm->files[0]);
	free(mm->files);
	mm->files = NULL;
}
