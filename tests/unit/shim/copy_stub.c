// SPDX-License-Identifier: MIT
/*
 * The shim's fault-safe copy lives with its SIGSEGV handler (mmio_fault.c),
 * which the unit tests do not link: the same contract through
 * process_vm_readv/writev on ourselves.
 */
#include "shim/shim.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

int shim_copy_safe(void *dst, const void *src, size_t n)
{
	struct iovec l = { .iov_base = dst, .iov_len = n };
	struct iovec r = { .iov_base = (void *)src, .iov_len = n };

	if (!n)
		return 0;
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}
