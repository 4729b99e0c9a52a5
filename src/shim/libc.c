// SPDX-License-Identifier: MIT
/*
 * The real libc behind the shim, and the environment contract with
 * `uvfio run`.  Both are looked up on first use rather than in a constructor:
 * other libraries' constructors may call into the shim before ours has run.
 */
#include "shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct shim_libc shim_real;

static pthread_once_t libc_once = PTHREAD_ONCE_INIT;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static struct shim_env env;

#define RESOLVE(field, name) (*(void **)&shim_real.field = dlsym(RTLD_NEXT, name))

static void libc_resolve(void)
{
	RESOLVE(open, "open");
	RESOLVE(open64, "open64");
	RESOLVE(openat, "openat");
	RESOLVE(openat64, "openat64");
	RESOLVE(open_2, "__open_2");
	RESOLVE(open64_2, "__open64_2");
	RESOLVE(openat_2, "__openat_2");
	RESOLVE(openat64_2, "__openat64_2");
	RESOLVE(fopen, "fopen");
	RESOLVE(fopen64, "fopen64");
	RESOLVE(opendir, "opendir");
	RESOLVE(stat, "stat");
	RESOLVE(stat64, "stat64");
	RESOLVE(lstat, "lstat");
	RESOLVE(lstat64, "lstat64");
	RESOLVE(fstat, "fstat");
	RESOLVE(fstat64, "fstat64");
	RESOLVE(fstatat, "fstatat");
	RESOLVE(fstatat64, "fstatat64");
	RESOLVE(xstat, "__xstat");
	RESOLVE(xstat64, "__xstat64");
	RESOLVE(lxstat, "__lxstat");
	RESOLVE(lxstat64, "__lxstat64");
	RESOLVE(fxstat, "__fxstat");
	RESOLVE(fxstat64, "__fxstat64");
	RESOLVE(fxstatat, "__fxstatat");
	RESOLVE(fxstatat64, "__fxstatat64");
	RESOLVE(statx, "statx");
	RESOLVE(access, "access");
	RESOLVE(faccessat, "faccessat");
	RESOLVE(readlink, "readlink");
	RESOLVE(readlinkat, "readlinkat");
	RESOLVE(readlink_chk, "__readlink_chk");
	RESOLVE(readlinkat_chk, "__readlinkat_chk");
	RESOLVE(realpath, "realpath");
	RESOLVE(realpath_chk, "__realpath_chk");
	RESOLVE(canonicalize_file_name, "canonicalize_file_name");
	RESOLVE(close, "close");
	RESOLVE(close_range, "close_range");
	RESOLVE(closefrom, "closefrom");
	RESOLVE(dup, "dup");
	RESOLVE(dup2, "dup2");
	RESOLVE(dup3, "dup3");
	RESOLVE(fcntl, "fcntl");
	RESOLVE(fcntl64, "fcntl64");
	RESOLVE(ioctl, "ioctl");
	RESOLVE(read, "read");
	RESOLVE(read_chk, "__read_chk");
	RESOLVE(write, "write");
	RESOLVE(pread, "pread");
	RESOLVE(pread64, "pread64");
	RESOLVE(pread_chk, "__pread_chk");
	RESOLVE(pread64_chk, "__pread64_chk");
	RESOLVE(pwrite, "pwrite");
	RESOLVE(pwrite64, "pwrite64");
	RESOLVE(mmap, "mmap");
	RESOLVE(mmap64, "mmap64");
	RESOLVE(munmap, "munmap");
	RESOLVE(mremap, "mremap");
	RESOLVE(mprotect, "mprotect");
	RESOLVE(sigaction, "sigaction");
}

void shim_libc_init(void)
{
	pthread_once(&libc_once, libc_resolve);
}

static bool join(char *dst, size_t cap, const char *dir, const char *leaf)
{
	int n = snprintf(dst, cap, "%s/%s", dir, leaf);

	return n > 0 && (size_t)n < cap;
}

/* A switch that is on unless set to 0. */
static bool env_is_zero(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "0");
}

static void env_read(void)
{
	const char *dir = getenv("UVFIO_DIR");

	if (!dir || dir[0] != '/' || strlen(dir) >= sizeof(env.dir_buf))
		return;
	strcpy(env.dir_buf, dir);
	dir = env.dir_buf;
	if (!join(env.root, sizeof(env.root), dir, "root") ||
	    !join(env.sock, sizeof(env.sock), dir, UVFIO_SOCK_NAME) ||
	    !join(env.redirects, sizeof(env.redirects), dir, "redirects"))
		return;
	env.root_len = strlen(env.root);
	env.slot = !env_is_zero("UVFIO_SLOT");
	env.posted = env.slot && !env_is_zero("UVFIO_POSTED");
	env.dir = dir;
}

const struct shim_env *shim_env(void)
{
	pthread_once(&env_once, env_read);
	return &env;
}
