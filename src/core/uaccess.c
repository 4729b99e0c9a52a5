// SPDX-License-Identifier: MIT
/*
 * User access for handlers, and per-process memory accounting.
 */
#include "uaccess.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

static unsigned int mm_hash(pid_t pid)
{
	return (unsigned int)pid % MM_HASH;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

struct vfio_mm *vfio_mm_attach(pid_t pid, uid_t uid, int pidfd, const uint8_t *image,
			       int memfd)
{
	struct vfio_mm *mm;

	if (pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (mm = image ? mms[mm_hash(pid)] : NULL; mm; mm = mm->hash_next) {
		if (mm->pid == pid && !memcmp(mm->image, image, UVFIO_IMAGE_LEN) &&
		    !mm_exited(mm)) {
			close_fd(pidfd);
			close_fd(memfd);
			mm->refs++;
			mm->users++;
			return mm;
		}
	}
	mm = calloc(1, sizeof(*mm));
	if (!mm) {
		close_fd(pidfd);
		close_fd(memfd);
		return NULL;
	}
	mm->pid = pid;
	mm->uid = uid;
	mm->refs = 1;
	mm->users = 1;
	mm->pidfd = pidfd;
	mm->memfd = memfd;
	mm->cap_ipc_lock = proc_capable(pid, CAP_IPC_LOCK) && !mm_exited(mm);
	if (image) {
		memcpy(mm->image, image, UVFIO_IMAGE_LEN);
		mm->named = true;
		mm->hash_next = mms[mm_hash(pid)];
		mms[mm_hash(pid)] = mm;
	}
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
	for (pp = &mms[mm_hash(mm->pid)]; mm->named && *pp; pp = &(*pp)->hash_next) {
		if (*pp == mm) {
			*pp = mm->hash_next;
			break;
		}
	}
	vfio_mm_drop_files(mm);
	close_fd(mm->pidfd);
	close_fd(mm->memfd);
	free(mm);
}

void vfio_mm_detach(struct vfio_mm *mm)
{
	if (mm->users && !--mm->users)
		vfio_mm_drop_files(mm);
	vfio_mm_put(mm);
}

int vfio_mm_open_image(pid_t pid, int pidfd, const uint8_t *image, uint64_t image_addr,
		       int memfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	uint8_t found[UVFIO_IMAGE_LEN];
	char path[64];

	if (memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		memfd = open(path, O_RDWR | O_CLOEXEC);
		if (memfd < 0)
			return -errno;
	}
	/* The name proves the image; a live pidfd proves the pid was not
	 * reused for another process meanwhile. */
	if (image_addr > INT64_MAX ||
	    pread(memfd, found, sizeof(found), (off_t)image_addr) != sizeof(found) ||
	    memcmp(found, image, sizeof(found)) || pidfd < 0 || poll(&p, 1, 0) != 0) {
		close(memfd);
		return -EPERM;
	}
	return memfd;
}

/*
 * RLIMIT_MEMLOCK of mm's process in pages, from /proc/PID/limits, which any
 * user may read (prlimit() on another user's process needs CAP_SYS_RESOURCE
 * even for root).  Read fresh each time, as the kernel checks the current
 * limit; trusted only if the process was still alive after the read, so the
 * pid still named it.  False when it cannot be known.
 */
static bool memlock_limit(const struct vfio_mm *mm, uint64_t *pages)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)mm->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long soft;
		char *p;

		if (strncmp(line, "Max locked memory", 17))
			continue;
		p = line + 17;
		while (*p == ' ')
			p++;
		if (!strncmp(p, "unlimited", 9)) {
			*pages = UINT64_MAX;
			found = true;
		} else if (sscanf(p, "%llu", &soft) == 1) {
			*pages = soft / (uint64_t)page_size();
			found = true;
		}
		break;
	}
	fclose(f);
	return found && !mm_exited(mm);
}

int vfio_mm_lock_acct(struct vfio_mm *mm, int64_t npages)
{
	if (npages > 0 && !mm->cap_ipc_lock) {
		uint64_t limit;

		if (!memlock_limit(mm, &limit))
			return -ENOMEM;
		if (mm->locked_vm + (uint64_t)npages > limit) {
			uvfio_dbg_rl("pid %d: RLIMIT_MEMLOCK (%llu pages) exceeded", (int)mm->pid,
				     (unsigned long long)limit);
			return -ENOMEM;
		}
	}
	if (npages < 0 && (uint64_t)-npages > mm->locked_vm)
		mm->locked_vm = 0;
	else
		mm->locked_vm += (uint64_t)npages;
	return 0;
}

/* Through the process's own /proc/self/mem: once its address space is gone
 * (exec, exit) every access fails, even if the pid lives on. */
static int mm_rw(struct vfio_mm *mm, uint64_t vaddr, void *buf, size_t len, bool write)
{
	if (mm->memfd < 0 || mm_exited(mm) || vaddr > INT64_MAX || len > INT64_MAX - vaddr)
		return -EFAULT;
	while (len) {
		ssize_t n = write ? pwrite(mm->memfd, buf, len, (off_t)vaddr)
				  : pread(mm->memfd, buf, len, (off_t)vaddr);

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
