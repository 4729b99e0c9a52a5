// SPDX-License-Identifier: MIT
/*
 * User access for handlers, and per-process memory accounting.
 */
#include "uaccess.h"

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"

#define MM_HASH 64

static struct vfio_mm *mms[MM_HASH];
static long page_size_cached;

static long page_size(void)
{
	if (!page_size_cached)
		page_size_cached = sysconf(_SC_PAGESIZE);
	return page_size_cached;
}

bool proc_capable(pid_t pid, int cap)
{
	char path[64], line[256];
	bool has = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long eff;

		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			has = eff & (1ULL << cap);
			break;
		}
	}
	fclose(f);
	return has;
}

/* A pidfd becomes readable when its process exits: after that the pid may
 * name somebody else, so the mm must never be used to reach memory again. */
static bool mm_exited(const struct vfio_mm *mm)
{
	struct pollfd p = { .fd = mm->pidfd, .events = POLLIN };

	return mm->pidfd < 0 || poll(&p, 1, 0) != 0;
}

struct vfio_mm *vfio_mm_get_by_pid(pid_t pid)
{
	struct vfio_mm *mm;
	unsigned int h = (unsigned int)pid % MM_HASH;

	for (mm = mms[h]; mm; mm = mm->hash_next)
		if (mm->pid == pid && !mm_exited(mm)) {
			mm->refs++;
			return mm;
		}
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	mm->pid = pid;
	mm->refs = 1;
	mm->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	mm->cap_ipc_lock = proc_capable(pid, CAP_IPC_LOCK);
	mm->hash_next = mms[h];
	mms[h] = mm;
	return mm;
}

void vfio_mm_get(struct vfio_mm *mm)
{
	mm->refs++;
}

void vfio_mm_put(struct vfio_mm *mm)
{
	struct vfio_mm **pp;

	if (--mm->refs)
		return;
	for (pp = &mms[(unsigned int)mm->pid % MM_HASH]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == mm) {
			*pp = mm->hash_next;
			break;
		}
	}
	if (mm->pidfd >= 0)
		close(mm->pidfd);
	free(mm);
}

int vfio_mm_lock_acct(struct vfio_mm *mm, int64_t npages)
{
	struct rlimit rl;

	if (npages > 0 && !mm->cap_ipc_lock) {
		uint64_t limit;

		if (prlimit(mm->pid, RLIMIT_MEMLOCK, NULL, &rl) < 0)
			return -ENOMEM;
		limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX
						     : rl.rlim_cur / (uint64_t)page_size();
		if (mm->locked_vm + (uint64_t)npages > limit) {
			uvfio_dbg_rl("pid %d: RLIMIT_MEMLOCK (%llu) exceeded", (int)mm->pid,
				     (unsigned long long)rl.rlim_cur);
			return -ENOMEM;
		}
	}
	if (npages < 0 && (uint64_t)-npages > mm->locked_vm)
		mm->locked_vm = 0;
	else
		mm->locked_vm += (uint64_t)npages;
	return 0;
}

static int mm_rw(struct vfio_mm *mm, uint64_t vaddr, void *buf, size_t len, bool write)
{
	if (mm_exited(mm))
		return -EFAULT;
	while (len) {
		struct iovec local = { .iov_base = buf, .iov_len = len };
		struct iovec remote = { .iov_base = (void *)(uintptr_t)vaddr, .iov_len = len };
		ssize_t n = write ? process_vm_writev(mm->pid, &local, 1, &remote, 1, 0)
				  : process_vm_readv(mm->pid, &local, 1, &remote, 1, 0);

		if (n <= 0)
			return -EFAULT;
		buf = (uint8_t *)buf + n;
		vaddr += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int vfio_mm_read(struct vfio_mm *mm, uint64_t vaddr, void *buf, size_t len)
{
	return mm_rw(mm, vaddr, buf, len, false);
}

int vfio_mm_write(struct vfio_mm *mm, uint64_t vaddr, const void *buf, size_t len)
{
	return mm_rw(mm, vaddr, (void *)buf, len, true);
}

int copy_from_user(void *dst, struct vfio_uarg *ua, size_t off, size_t n)
{
	if (off > ua->msg.arg_len || n > ua->msg.arg_len - off)
		return -EFAULT;
	memcpy(dst, ua->msg.arg + off, n);
	return 0;
}

int copy_to_user(struct vfio_uarg *ua, size_t off, const void *src, size_t n)
{
	if (off > ua->msg.arg_len || n > ua->msg.arg_len - off)
		return -EFAULT;
	if (!n)
		return 0;
	memcpy(ua->wb + off, src, n);
	if (ua->wb_hi == 0 || off < ua->wb_lo)
		ua->wb_lo = (uint32_t)off;
	if (off + n > ua->wb_hi)
		ua->wb_hi = (uint32_t)(off + n);
	return 0;
}

int check_zeroed_user(struct vfio_uarg *ua, size_t from, size_t to)
{
	size_t i, end = to < ua->msg.arg_len ? to : ua->msg.arg_len;

	for (i = from; i < end; i++)
		if (ua->msg.arg[i])
			return -E2BIG;
	if (to > ua->msg.arg_len) {
		if (ua->msg.flags & UVFIO_IOCTL_ARG_FAULT)
			return -EFAULT;
		if (ua->msg.flags & UVFIO_IOCTL_TAIL_NONZERO)
			return -E2BIG;
	}
	return 0;
}

int fdget(struct vfio_uarg *ua, int32_t user_fd)
{
	for (uint32_t i = 0; i < ua->msg.nfds; i++) {
		if (ua->msg.fds[i].user_fd != user_fd)
			continue;
		if (ua->msg.fds[i].attached < 0)
			return -EBADF;
		return ua->attached[ua->msg.fds[i].attached];
	}
	return -EBADF;
}

const struct uvfio_mem_seg *uarg_mem_segs(struct vfio_uarg *ua, unsigned int *nsegs)
{
	*nsegs = ua->msg.nsegs;
	return ua->msg.segs;
}
