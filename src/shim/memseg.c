// SPDX-License-Identifier: MIT
/*
 * What backs a range of the program's memory, for MAP_DMA.  The daemon pins
 * nothing and cannot see our page tables; it either maps the same file (so
 * device DMA and the program share pages, as with a shared memfd) or reaches
 * the memory through /proc/<pid>/mem.  /proc/self/maps says which: one
 * segment per VMA piece, HOLE segments for gaps, and for shared file-backed
 * VMAs a descriptor to the backing file when we can get one.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *parse_hex(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = p;

	for (; p < end; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		v = v << 4 | d;
	}
	*out = v;
	return p == start ? NULL : p;
}

static const char *parse_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = p;

	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	*out = v;
	return p == start ? NULL : p;
}

static const char *expect(const char *p, const char *end, char c)
{
	return p && p < end && *p == c ? p + 1 : NULL;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p && p < end && *p == ' ')
		p++;
	return p;
}

/* "start-end perms offset major:minor inode [path]" */
int shim_maps_parse_line(const char *line, size_t len, struct shim_vma *v)
{
	const char *p = line, *end = line + len;
	uint64_t maj, min;

	p = parse_hex(p, end, &v->start);
	p = expect(p, end, '-');
	p = p ? parse_hex(p, end, &v->end) : NULL;
	p = expect(p, end, ' ');
	if (!p || end - p < 5 || p[4] != ' ' || v->end < v->start)
		return -EINVAL;
	v->flags = (p[0] == 'r' ? UVFIO_SEG_PROT_READ : 0) |
		   (p[1] == 'w' ? UVFIO_SEG_PROT_WRITE : 0) |
		   (p[3] == 's' ? UVFIO_SEG_SHARED : 0);
	p += 5;
	p = parse_hex(p, end, &v->offset);
	p = expect(p, end, ' ');
	p = p ? parse_hex(p, end, &maj) : NULL;
	p = expect(p, end, ':');
	p = p ? parse_hex(p, end, &min) : NULL;
	p = expect(p, end, ' ');
	p = p ? parse_dec(p, end, &v->ino) : NULL;
	if (!p)
		return -EINVAL;
	v->dev = makedev((unsigned int)maj, (unsigned int)min);
	p = skip_spaces(p, end);
	v->path = p;
	v->path_len = (size_t)(end - p);
	return 0;
}

static bool same_file(int fd, dev_t dev, uint64_t ino)
{
	struct stat st;

	return REAL(fstat)(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static int open_rw_or_ro(const char *path)
{
	int fd = REAL(open)(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* Our descriptor fd, reopened so the daemon gets its own open file (with
 * the access mode the file allows), if it is still the file (dev, ino). */
int shim_reopen_fd(int fd, dev_t dev, uint64_t ino)
{
	char path[64];

	if (fd < 0 || !same_file(fd, dev, ino))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open_rw_or_ro(path);
}

/* An open descriptor of ours on the same file, reopened. */
static int open_via_fd_table(dev_t dev, uint64_t ino)
{
	DIR *dir = REAL(opendir)("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!dir)
		return -1;
	while (found < 0 && (de = readdir(dir))) {
		char *end;
		long n = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || n == dirfd(dir))
			continue;
		found = shim_reopen_fd((int)n, dev, ino);
	}
	closedir(dir);
	return found;
}

static int open_backing(const struct shim_vma *v)
{
	static const char deleted[] = " (deleted)";
	char path[PATH_MAX];
	int fd;

	/* Needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, but is exact. */
	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = open_rw_or_ro(path);
	if (fd >= 0)
		return fd;
	fd = open_via_fd_table(v->dev, v->ino);
	if (fd >= 0)
		return fd;
	if (v->path_len == 0 || v->path[0] != '/' || v->path_len >= sizeof(path) ||
	    (v->path_len >= sizeof(deleted) - 1 &&
	     !memcmp(v->path + v->path_len - (sizeof(deleted) - 1), deleted,
		     sizeof(deleted) - 1)))
		return -1;
	memcpy(path, v->path, v->path_len);
	path[v->path_len] = 0;
	fd = open_rw_or_ro(path);
	if (fd >= 0 && !same_file(fd, v->dev, v->ino)) {
		REAL(close)(fd);
		fd = -1;
	}
	return fd;
}

/* Index of a descriptor for v's backing file, shared by every piece of the
 * same file; -1 when there is none (the daemon then uses process memory). */
static int32_t attach_backing(struct shim_memdesc *d, const struct shim_vma *v)
{
	uint32_t i;
	int fd;

	for (i = 0; i < d->nseen; i++)
		if (d->seen[i].dev == v->dev && d->seen[i].ino == v->ino)
			return d->seen[i].idx;
	if (d->nfds == UVFIO_MAX_FDS || d->nseen == sizeof(d->seen) / sizeof(d->seen[0]))
		return -1;
	fd = open_backing(v);
	/* Remember failures too, so each file is looked for once. */
	d->seen[d->nseen].dev = v->dev;
	d->seen[d->nseen].ino = v->ino;
	d->seen[d->nseen].idx = -1;
	if (fd >= 0) {
		d->seen[d->nseen].idx = (int32_t)d->nfds;
		d->fds[d->nfds++] = fd;
	}
	return d->seen[d->nseen++].idx;
}

int shim_memdesc_add(struct shim_memdesc *d, uint64_t vaddr, uint64_t len, uint64_t off,
		     int32_t attached, uint32_t flags)
{
	struct uvfio_mem_seg *s;

	if (flags & UVFIO_SEG_HOLE)
		d->holes = true;
	else
		d->all_flags &= flags;
	if (d->overflow)
		return 0;
	if (d->nsegs == SHIM_MAX_SEGS) {
		d->overflow = true;
		return 0;
	}
	if (d->nsegs == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;

		s = realloc(d->segs, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		d->segs = s;
		d->cap = cap;
	}
	s = &d->segs[d->nsegs++];
	s->vaddr = vaddr;
	s->len = len;
	s->file_offset = off;
	s->attached = attached;
	s->flags = flags;
	return 0;
}

static int describe_vma(struct shim_memdesc *d, const struct shim_vma *v, bool attach)
{
	uint64_t lo, hi;
	int32_t attached = -1;
	int err;

	if (v->end <= d->cur || v->start >= d->hi)
		return 0;
	if (v->start > d->cur) {
		hi = v->start < d->hi ? v->start : d->hi;
		err = shim_memdesc_add(d, d->cur, hi - d->cur, 0, -1, UVFIO_SEG_HOLE);
		if (err)
			return err;
		d->cur = hi;
	}
	lo = d->cur;
	hi = v->end < d->hi ? v->end : d->hi;
	if (attach && !d->overflow && (v->flags & UVFIO_SEG_SHARED) && v->ino)
		attached = attach_backing(d, v);
	err = shim_memdesc_add(d, lo, hi - lo, v->offset + (lo - v->start), attached, v->flags);
	d->cur = hi;
	return err;
}

static void close_attached(struct shim_memdesc *d)
{
	uint32_t i;

	for (i = 0; i < d->nfds; i++)
		if (d->fds[i] >= 0)
			REAL(close)(d->fds[i]);
	d->nfds = 0;
}

/* Past SHIM_MAX_SEGS the range travels as one segment the daemon reaches
 * through process memory; it fails where any piece would have. */
static void summarise(struct shim_memdesc *d)
{
	close_attached(d);
	d->nsegs = 1;
	d->segs[0].vaddr = d->lo;
	d->segs[0].len = d->hi - d->lo;
	d->segs[0].file_offset = 0;
	d->segs[0].attached = -1;
	d->segs[0].flags = d->all_flags | (d->holes ? UVFIO_SEG_HOLE : 0);
}

int shim_mem_describe_text(const char *maps, size_t n, uint64_t vaddr, uint64_t len,
			   bool attach, struct shim_memdesc *d)
{
	const char *p = maps, *end = maps + n;
	int err = 0;

	memset(d, 0, sizeof(*d));
	if (len == 0 || vaddr + len < vaddr)
		return -EINVAL;
	d->lo = d->cur = vaddr;
	d->hi = vaddr + len;
	d->all_flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE | UVFIO_SEG_SHARED;
	while (p < end && d->cur < d->hi && !err) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct shim_vma v;

		if (shim_maps_parse_line(p, llen, &v) == 0)
			err = describe_vma(d, &v, attach);
		p += llen + (nl ? 1 : 0);
	}
	if (!err && d->cur < d->hi)
		err = shim_memdesc_add(d, d->cur, d->hi - d->cur, 0, -1, UVFIO_SEG_HOLE);
	if (!err && d->overflow)
		summarise(d);
	if (err)
		shim_memdesc_release(d);
	return err;
}

static char *read_maps(size_t *n)
{
	int fd = REAL(open)("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t cap = 64 * 1024, len = 0;
	char *buf = fd >= 0 ? malloc(cap) : NULL;

	while (buf) {
		ssize_t r = REAL(read)(fd, buf + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*n = len;
			break;
		}
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		len += (size_t)r;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	if (fd >= 0)
		REAL(close)(fd);
	return buf;
}

int shim_mem_describe(uint64_t vaddr, uint64_t len, struct shim_memdesc *d)
{
	size_t n = 0;
	char *maps;
	int err;

	memset(d, 0, sizeof(*d));
	if (len == 0 || vaddr + len < vaddr)
		return -EINVAL;
	maps = read_maps(&n);
	if (!maps)
		return -ENOMEM;
	err = shim_mem_describe_text(maps, n, vaddr, len, true, d);
	free(maps);
	return err;
}

void shim_memdesc_release(struct shim_memdesc *d)
{
	close_attached(d);
	free(d->segs);
	d->segs = NULL;
	d->nsegs = d->cap = 0;
}
