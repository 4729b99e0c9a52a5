// SPDX-License-Identifier: MIT
/*
 * Daemon-side files.  Each file is found two ways: by token (calls name the
 * file they act on) and by the inode of the client's socket end (a
 * descriptor passed in an ioctl argument, e.g. SET_CONTAINER's container fd,
 * is recognised as one of ours by what it is, not by what it claims).
 */
#include "file.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user.h"
#include "util/log.h"
#include "util/loop.h"

#define FILE_HASH_SIZE 1024

static struct vfio_file *by_token[FILE_HASH_SIZE];
static struct vfio_file *by_ino[FILE_HASH_SIZE];
static unsigned int nr_files;

static unsigned int hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (unsigned int)(v & (FILE_HASH_SIZE - 1));
}

static void hash_add(struct vfio_file *f)
{
	unsigned int t = hash64(f->token), i = hash64(f->peer_ino);

	f->hash_next_token = by_token[t];
	by_token[t] = f;
	f->hash_next_ino = by_ino[i];
	by_ino[i] = f;
	nr_files++;
}

static void hash_del(struct vfio_file *f)
{
	struct vfio_file **pp;

	for (pp = &by_token[hash64(f->token)]; *pp; pp = &(*pp)->hash_next_token) {
		if (*pp == f) {
			*pp = f->hash_next_token;
			break;
		}
	}
	for (pp = &by_ino[hash64(f->peer_ino)]; *pp; pp = &(*pp)->hash_next_ino) {
		if (*pp == f) {
			*pp = f->hash_next_ino;
			break;
		}
	}
	nr_files--;
}

static void drop_user_ref(struct vfio_file *f)
{
	if (f->sock < 0)
		return;
	uvfio_loop_unwatch(f->sock);
	close(f->sock);
	f->sock = -1;
	vfio_file_put(f);
}

static void file_hup(void *arg, uint32_t events)
{
	struct vfio_file *f = arg;

	if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
		drop_user_ref(f);
}

struct vfio_file *vfio_file_alloc(const struct vfio_file_ops *ops, void *private_data)
{
	struct vfio_file *f = calloc(1, sizeof(*f));
	int sv[2];
	struct stat st;

	if (!f)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		goto err_free;
	if (fstat(sv[1], &st) < 0)
		goto err_close;
	/* Tokens are capabilities for calls: make them unguessable. */
	do {
		if (getrandom(&f->token, sizeof(f->token), 0) != sizeof(f->token))
			goto err_close;
	} while (f->token == 0 || vfio_file_lookup_token(f->token));
	f->ops = ops;
	f->private_data = private_data;
	f->refs = 1;
	f->sock = sv[0];
	f->peer_sock = sv[1];
	f->peer_ino = st.st_ino;
	/* The program holds sv[1]; we only ever learn that it let go. */
	if (uvfio_loop_watch(f->sock, EPOLLRDHUP, file_hup, f) < 0)
		goto err_close;
	hash_add(f);
	return f;

err_close:
	close(sv[0]);
	close(sv[1]);
err_free:
	free(f);
	return NULL;
}

int vfio_file_charge(struct vfio_file *f, uid_t uid)
{
	int ret = vfio_user_charge(uid, VFIO_USER_FILES);

	if (ret)
		return ret;
	f->charged_uid = uid;
	f->charged = true;
	return 0;
}

void vfio_file_handed_over(struct vfio_file *f)
{
	if (f->peer_sock >= 0)
		close(f->peer_sock);
	f->peer_sock = -1;
}

void vfio_file_abort(struct vfio_file *f)
{
	vfio_file_handed_over(f);
	drop_user_ref(f);
}

void vfio_file_get(struct vfio_file *f)
{
	f->refs++;
}

void vfio_file_put(struct vfio_file *f)
{
	if (--f->refs)
		return;
	if (f->ops->release)
		f->ops->release(f);
	hash_del(f);
	if (f->peer_sock >= 0)
		close(f->peer_sock);
	if (f->charged)
		vfio_user_uncharge(f->charged_uid, VFIO_USER_FILES);
	free(f);
}

struct vfio_file *vfio_file_lookup_token(uint64_t token)
{
	struct vfio_file *f;

	for (f = by_token[hash64(token)]; f; f = f->hash_next_token)
		if (f->token == token)
			return f;
	return NULL;
}

struct vfio_file *vfio_file_from_fd(int fd)
{
	struct vfio_file *f;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return NULL;
	for (f = by_ino[hash64(st.st_ino)]; f; f = f->hash_next_ino)
		if (f->peer_ino == st.st_ino && f->sock >= 0)
			break;
	/* A file whose client end is gone cannot be passed around; its inode
	 * number may already belong to a new socket. */
	if (!f || vfio_file_reap(f))
		return NULL;
	return f;
}

bool vfio_file_reap(struct vfio_file *f)
{
	struct pollfd p = { .fd = f->sock, .events = POLLRDHUP };

	if (f->sock < 0)
		return true;
	if (f->peer_sock >= 0)
		return false;	/* not handed over yet */
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		drop_user_ref(f);
		return true;
	}
	return false;
}

unsigned int vfio_file_count(void)
{
	return nr_files;
}

void vfio_file_release_all(void)
{
	bool again = true;

	/* Dropping one file's user reference may release others on the same
	 * chain, so rescan after each. */
	while (again) {
		again = false;
		for (unsigned int i = 0; i < FILE_HASH_SIZE && !again; i++) {
			for (struct vfio_file *f = by_token[i]; f; f = f->hash_next_token) {
				if (f->sock >= 0) {
					drop_user_ref(f);
					again = true;
					break;
				}
			}
		}
	}
}
