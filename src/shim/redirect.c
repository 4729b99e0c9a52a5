// SPDX-License-Identifier: MIT
/*
 * Which paths the program sees from the fake tree at $UVFIO_DIR/root, and how
 * the VFIO device nodes there (ordinary files) present themselves as char
 * devices.  Only the prefixes the daemon lists in $UVFIO_DIR/redirects are
 * redirected: redirecting all of /sys would hide the machine's CPUs and
 * memory from programs such as DPDK.
 *
 * Every path entry point asks shim_path_candidate() first, so paths outside
 * /sys and /dev cost two or three compares.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VFIO_MISC_MAJOR		10
#define VFIO_CONTAINER_MINOR	196
#define IOMMUFD_MINOR		123
#define VFIO_GROUP_MAJOR	242
#define VFIO_CDEV_MAJOR		241

static bool starts_with(const char *s, const char *prefix, size_t n)
{
	return !strncmp(s, prefix, n);
}

/* -1 unless s is a non-empty run of digits that fits an int. */
static int parse_number(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

bool shim_node_classify(const char *path, struct shim_node *node)
{
	static const char vfio_dir[] = "/dev/vfio/", devices[] = "devices/";
	const char *name;

	if (!strcmp(path, "/dev/iommu")) {
		*node = (struct shim_node){ UVFIO_FILE_IOMMUFD, VFIO_MISC_MAJOR, IOMMUFD_MINOR };
		return true;
	}
	if (!starts_with(path, vfio_dir, sizeof(vfio_dir) - 1))
		return false;
	name = path + sizeof(vfio_dir) - 1;
	if (!strcmp(name, "vfio")) {
		*node = (struct shim_node){ UVFIO_FILE_CONTAINER, VFIO_MISC_MAJOR,
					    VFIO_CONTAINER_MINOR };
		return true;
	}
	if (starts_with(name, devices, sizeof(devices) - 1)) {
		name += sizeof(devices) - 1;
		if (!*name || strchr(name, '/'))
			return false;
		*node = (struct shim_node){ UVFIO_FILE_DEVICE_CDEV, VFIO_CDEV_MAJOR,
					    starts_with(name, "vfio", 4) ?
					    parse_number(name + 4) : -1 };
		return true;
	}
	if (parse_number(name) < 0)
		return false;
	*node = (struct shim_node){ UVFIO_FILE_GROUP, VFIO_GROUP_MAJOR, parse_number(name) };
	return true;
}

int shim_redirects_parse(const char *buf, size_t n, struct shim_redirects *r)
{
	size_t i, lines = 1, pos = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	r->text = malloc(n + 1);
	r->off = malloc(lines * sizeof(*r->off));
	r->len = malloc(lines * sizeof(*r->len));
	if (!r->text || !r->off || !r->len) {
		shim_redirects_free(r);
		return -ENOMEM;
	}
	memcpy(r->text, buf, n);
	r->text[n] = 0;
	while (pos < n) {
		char *line = r->text + pos, *nl = memchr(line, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - line) : n - pos;

		pos += len + 1;
		while (len && (line[len - 1] == '/' || line[len - 1] == ' ' ||
			       line[len - 1] == '\t' || line[len - 1] == '\r'))
			len--;
		/* An absolute prefix, and never "/" itself (that is all of /). */
		if (len < 2 || line[0] != '/')
			continue;
		line[len] = 0;
		r->off[r->n] = (uint32_t)(line - r->text);
		r->len[r->n] = (uint32_t)len;
		r->n++;
	}
	return 0;
}

void shim_redirects_free(struct shim_redirects *r)
{
	free(r->text);
	free(r->off);
	free(r->len);
	memset(r, 0, sizeof(*r));
}

bool shim_redirects_match(const struct shim_redirects *r, const char *path)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		uint32_t len = r->len[i];

		if (!strncmp(path, r->text + r->off[i], len) &&
		    (path[len] == 0 || path[len] == '/'))
			return true;
	}
	return false;
}

/* The daemon's list, re-read when the file changes (it is rewritten on
 * every bind and unbind). */
static struct {
	pthread_rwlock_t lock;
	bool loaded;
	bool present;
	struct stat id;		/* the file the list came from */
	struct shim_redirects list;
} cache = { .lock = PTHREAD_RWLOCK_INITIALIZER };

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool cache_fresh(bool present, const struct stat *st)
{
	return cache.loaded && present == cache.present &&
	       (!present || same_version(st, &cache.id));
}

static void cache_reload(void)
{
	const char *path = shim_env()->redirects;
	struct shim_redirects list = { 0 };
	struct stat st;
	char *buf = NULL;
	bool present = false;
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && REAL(fstat)(fd, &st) == 0 && st.st_size >= 0 &&
	    st.st_size < (1 << 20) && (buf = malloc((size_t)st.st_size + 1))) {
		size_t len = 0;
		ssize_t r;

		while (len < (size_t)st.st_size &&
		       ((r = REAL(read)(fd, buf + len, (size_t)st.st_size - len)) > 0 ||
			(r < 0 && errno == EINTR)))
			len += r > 0 ? (size_t)r : 0;
		present = shim_redirects_parse(buf, len, &list) == 0;
	}
	free(buf);
	if (fd >= 0)
		REAL(close)(fd);
	shim_redirects_free(&cache.list);
	cache.list = list;
	cache.present = present;
	if (present)
		cache.id = st;
	cache.loaded = true;
}

/* Programs walk /sys by the thousand (DPDK's EAL start): look at the list
 * file at most every RECHECK_NS, not on every path. */
#define RECHECK_NS	(20 * 1000 * 1000LL)

static bool recheck_due(void)
{
	static _Atomic long long last;
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (now - atomic_load(&last) < RECHECK_NS)
		return false;
	atomic_store(&last, now);
	return true;
}

static bool cache_match(const char *path, bool check)
{
	struct stat st;
	bool present = false, hit;

	check = check && recheck_due();
	if (check)
		present = REAL(stat)(shim_env()->redirects, &st) == 0;
	pthread_rwlock_rdlock(&cache.lock);
	if (!cache.loaded || (check && !cache_fresh(present, &st))) {
		pthread_rwlock_unlock(&cache.lock);
		pthread_rwlock_wrlock(&cache.lock);
		if (!cache.loaded || (check && !cache_fresh(present, &st)))
			cache_reload();
	}
	hit = shim_redirects_match(&cache.list, path);
	pthread_rwlock_unlock(&cache.lock);
	return hit;
}

int shim_path_map(const char *path, char *out, struct shim_node *node)
{
	const struct shim_env *env;
	int kind = SHIM_PATH_REDIRECT;
	size_t len;

	if (!shim_path_candidate(path) || !shim_active())
		return SHIM_PATH_PASS;
	if (path[1] == 'd') {
		if (shim_node_classify(path, node))
			kind = SHIM_PATH_NODE;
		else if (strcmp(path, "/dev/vfio") && !starts_with(path, "/dev/vfio/", 10) &&
			 !cache_match(path, false))
			return SHIM_PATH_PASS;
	} else if (!cache_match(path, true)) {
		return SHIM_PATH_PASS;
	}
	env = shim_env();
	len = strlen(path);
	if (env->root_len + len >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, env->root, env->root_len);
	memcpy(out + env->root_len, path, len + 1);
	return kind;
}

size_t shim_path_unmap(char *path, size_t len)
{
	const struct shim_env *env = shim_env();
	size_t rl = env->root_len;

	if (!env->dir || len < rl || memcmp(path, env->root, rl) ||
	    (len > rl && path[rl] != '/'))
		return len;
	if (len == rl) {
		path[0] = '/';
		return 1;
	}
	memmove(path, path + rl, len - rl);
	return len - rl;
}

int shim_node_path(const struct shim_node *node, char *out)
{
	const struct shim_env *env = shim_env();
	int n;

	switch (node->type) {
	case UVFIO_FILE_CONTAINER:
		n = snprintf(out, PATH_MAX, "%s/dev/vfio/vfio", env->root);
		break;
	case UVFIO_FILE_IOMMUFD:
		n = snprintf(out, PATH_MAX, "%s/dev/iommu", env->root);
		break;
	case UVFIO_FILE_GROUP:
		n = node->minor < 0 ? -1 :
		    snprintf(out, PATH_MAX, "%s/dev/vfio/%d", env->root, node->minor);
		break;
	case UVFIO_FILE_DEVICE_CDEV:
		n = node->minor < 0 ? -1 :
		    snprintf(out, PATH_MAX, "%s/dev/vfio/devices/vfio%d", env->root, node->minor);
		break;
	default:
		n = -1;
	}
	return n > 0 && n < PATH_MAX ? 0 : -ENOENT;
}

bool shim_fd_node(const struct shim_fd *ent, struct shim_node *node)
{
	switch (ent->type) {
	case UVFIO_FILE_CONTAINER:
		*node = (struct shim_node){ ent->type, VFIO_MISC_MAJOR, VFIO_CONTAINER_MINOR };
		return true;
	case UVFIO_FILE_IOMMUFD:
		*node = (struct shim_node){ ent->type, VFIO_MISC_MAJOR, IOMMUFD_MINOR };
		return true;
	case UVFIO_FILE_GROUP:
		*node = (struct shim_node){ ent->type, VFIO_GROUP_MAJOR, ent->minor };
		return true;
	case UVFIO_FILE_DEVICE_CDEV:
		*node = (struct shim_node){ ent->type, VFIO_CDEV_MAJOR, ent->minor };
		return true;
	default:
		return false;
	}
}

static dev_t node_rdev(const struct shim_node *node)
{
	return makedev(node->major, node->minor < 0 ? 0 : (unsigned int)node->minor);
}

/* The same field edits for struct stat and struct stat64. */
#define PRESENT_NODE(st, node)						\
	do {								\
		(st)->st_mode = S_IFCHR | ((st)->st_mode & 07777);	\
		(st)->st_rdev = node_rdev(node);			\
		(st)->st_size = 0;					\
		(st)->st_blocks = 0;					\
	} while (0)

/* Anonymous inodes: mode 0600 without a type, owned by the opener. */
#define PRESENT_ANON(st)						\
	do {								\
		(st)->st_mode = S_IRUSR | S_IWUSR;			\
		(st)->st_uid = geteuid();				\
		(st)->st_gid = getegid();				\
		(st)->st_rdev = 0;					\
		(st)->st_size = 0;					\
		(st)->st_blocks = 0;					\
	} while (0)

void shim_node_present(const struct shim_node *node, struct stat *st)
{
	PRESENT_NODE(st, node);
}

void shim_node_present64(const struct shim_node *node, struct stat64 *st)
{
	PRESENT_NODE(st, node);
}

void shim_node_present_statx(const struct shim_node *node, struct statx *stx)
{
	stx->stx_mode = (uint16_t)(S_IFCHR | (stx->stx_mode & 07777));
	stx->stx_rdev_major = node->major;
	stx->stx_rdev_minor = node->minor < 0 ? 0 : (uint32_t)node->minor;
	stx->stx_size = 0;
	stx->stx_blocks = 0;
}

void shim_anon_present(struct stat *st)
{
	PRESENT_ANON(st);
}

void shim_anon_present64(struct stat64 *st)
{
	PRESENT_ANON(st);
}

void shim_anon_present_statx(struct statx *stx)
{
	stx->stx_mode = S_IRUSR | S_IWUSR;
	stx->stx_uid = geteuid();
	stx->stx_gid = getegid();
	stx->stx_rdev_major = 0;
	stx->stx_rdev_minor = 0;
	stx->stx_size = 0;
	stx->stx_blocks = 0;
}
