// SPDX-License-Identifier: MIT
/*
 * vfio-pci interrupts (drivers/vfio/pci/vfio_pci_intrs.c): INTx with
 * automasking and unmask eventfds, MSI and MSI-X vectors, and the error and
 * request signals.  Interrupts reach the user by writing 1 to the eventfd
 * registered for them, as eventfd_signal() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/user.h"
#include "util/log.h"
#include "util/loop.h"
#include "vfio_pci_priv.h"

/* The user each eventfd we hold counts against, by our descriptor number
 * (the daemon's descriptors are small and dense). */
static uid_t *eventfd_owner;
static int eventfd_owner_n;

static int eventfd_set_owner(int fd, uid_t uid)
{
	if (fd >= eventfd_owner_n) {
		int n = fd + 64;
		uid_t *p = realloc(eventfd_owner, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		eventfd_owner = p;
		eventfd_owner_n = n;
	}
	eventfd_owner[fd] = uid;
	return 0;
}

void vfio_pci_eventfd_close(int fd)
{
	vfio_user_uncharge(eventfd_owner[fd], VFIO_USER_IRQ_EVENTFDS);
	close(fd);
}

int vfio_pci_eventfd_get(struct vfio_uarg *ua, int32_t user_fd)
{
	char path[64], target[64];
	ssize_t n;
	int fd = fdget(ua, user_fd), ret;
	uid_t uid;

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:[eventfd]"))
		return -EINVAL;
	/* no caller context: the daemon's own (root's) use */
	uid = ua->ctx ? ua->ctx->uid : 0;
	ret = vfio_user_charge(uid, VFIO_USER_IRQ_EVENTFDS);
	if (ret)
		return ret;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || eventfd_set_owner(fd, uid)) {
		ret = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		vfio_user_uncharge(uid, VFIO_USER_IRQ_EVENTFDS);
		return ret;
	}
	return fd;
}

/*
 * The user's eventfds are shared with the user, file flags included: a
 * blocking one whose counter the user filled up (or drained) would block the
 * daemon in write (or read).  Never wait on them.
 */
static ssize_t eventfd_io_nowait(int fd, uint64_t *v, bool write)
{
	struct iovec iov = { .iov_base = v, .iov_len = sizeof(*v) };
	struct pollfd p = { .fd = fd, .events = write ? POLLOUT : POLLIN };
	ssize_t n = write ? pwritev2(fd, &iov, 1, -1, RWF_NOWAIT)
			  : preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n >= 0 || errno != EOPNOTSUPP)
		return n;
	/* a kernel without RWF_NOWAIT for eventfds: check first (single
	 * threaded, so only the user can race us, at its own loss) */
	if (poll(&p, 1, 0) != 1) {
		errno = EAGAIN;
		return -1;
	}
	return write ? pwritev2(fd, &iov, 1, -1, 0) : preadv2(fd, &iov, 1, -1, 0);
}

void vfio_pci_eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* a full counter (EAGAIN) means the user is far behind: drop it */
	if (eventfd_io_nowait(fd, &one, true) < 0)
		uvfio_dbg_rl("eventfd %d signal failed: %d", fd, errno);
}

bool vfio_pci_eventfd_consume(int fd)
{
	uint64_t cnt;

	return eventfd_io_nowait(fd, &cnt, false) == sizeof(cnt);
}

static void eventfd_put(int *fd)
{
	if (*fd >= 0)
		vfio_pci_eventfd_close(*fd);
	*fd = -1;
}

void vfio_pci_intrs_init(struct vfio_pci *vp)
{
	vp->irq_type = VFIO_PCI_IRQ_NONE;
	vp->intx_trigger = -1;
	vp->intx_unmask_fd = -1;
	vp->err_trigger = -1;
	vp->req_trigger = -1;
	vp->msi_trigger = NULL;
	vp->num_ctx = 0;
	vp->intx_masked = false;
	vp->intx_pending = false;
}

int vfio_pci_get_irq_count(struct vfio_pci *vp, unsigned int index)
{
	struct uvfio_pci_dev *pdev = vp->pdev;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return pdev->pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return pdev->msi_vectors;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return pdev->msix_vectors;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pdev->is_pcie ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

/* ---- INTx ---- */

static bool is_intx(struct vfio_pci *vp)
{
	return vp->irq_type == VFIO_PCI_IRQ_INTX;
}

/* The line fired: signal and mask until the user unmasks (level-triggered
 * semantics over an edge-style eventfd). */
static void intx_deliver(struct vfio_pci *vp)
{
	if (vp->intx_masked) {
		vp->intx_pending = true;
		return;
	}
	vp->intx_masked = true;
	vp->intx_pending = false;
	if (vp->intx_trigger >= 0) {
		vfio_pci_eventfd_signal(vp->intx_trigger);
		vp->vdev.stats.irqs++;
	}
}

void vfio_pci_intx_mask(struct vfio_pci *vp)
{
	if (is_intx(vp))
		vp->intx_masked = true;
}

void vfio_pci_intx_unmask(struct vfio_pci *vp)
{
	if (!is_intx(vp) || !vp->intx_masked || vp->virq_disabled)
		return;
	vp->intx_masked = false;
	/* still asserted: it fires again at once */
	if (vp->pdev->intx_level)
		intx_deliver(vp);
	else
		vp->intx_pending = false;
}

static int intx_enable(struct vfio_pci *vp, int trigger)
{
	if (vp->irq_type != VFIO_PCI_IRQ_NONE)
		return -EINVAL;
	if (!vp->pdev->pin)
		return -ENODEV;
	vp->irq_type = VFIO_PCI_IRQ_INTX;
	vp->intx_trigger = trigger;
	vp->intx_masked = vp->virq_disabled;
	vp->intx_pending = false;
	if (vp->pdev->intx_level)
		intx_deliver(vp);
	return 0;
}

static void intx_unmask_fd_release(struct vfio_pci *vp)
{
	if (vp->intx_unmask_fd < 0)
		return;
	uvfio_loop_unwatch(vp->intx_unmask_fd);
	eventfd_put(&vp->intx_unmask_fd);
}

static void intx_disable(struct vfio_pci *vp)
{
	intx_unmask_fd_release(vp);
	eventfd_put(&vp->intx_trigger);
	vp->intx_masked = false;
	vp->intx_pending = false;
	vp->irq_type = VFIO_PCI_IRQ_NONE;
}

static void intx_unmask_fired(void *arg, uint32_t events)
{
	struct vfio_pci *vp = arg;

	(void)events;
	if (vfio_pci_eventfd_consume(vp->intx_unmask_fd))
		vfio_pci_intx_unmask(vp);
}

static int set_intx_mask(struct vfio_pci *vp, unsigned int start, unsigned int count,
			 uint32_t flags, const void *data, struct vfio_uarg *ua)
{
	(void)ua;
	if (!is_intx(vp) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_pci_intx_mask(vp);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data)
			vfio_pci_intx_mask(vp);
	} else {
		return -ENOTTY;		/* masking by eventfd: not in the kernel either */
	}
	return 0;
}

/*
 * The kernel's unmask virqfd goes away when the user's last descriptor of
 * its eventfd is closed (EPOLLHUP), so a VMM may close it and set a new one,
 * as QEMU does when it re-routes INTx through KVM.  We hold a copy of the
 * eventfd, so we ask instead: does the process that gave it still have that
 * descriptor, on that file?  When we may not ask (kcmp needs ptrace-read
 * rights), it counts as open.
 */
static bool unmask_fd_closed(struct vfio_pci *vp)
{
	long same;

	if (vp->intx_unmask_pid <= 0)
		return false;
	same = syscall(SYS_kcmp, vp->intx_unmask_pid, getpid(), KCMP_FILE,
			    vp->intx_unmask_user_fd, vp->intx_unmask_fd);

	return same > 0 || (same < 0 && (errno == EBADF || errno == ESRCH));
}

static int set_intx_unmask(struct vfio_pci *vp, unsigned int start, unsigned int count,
			   uint32_t flags, const void *data, struct vfio_uarg *ua)
{
	if (!is_intx(vp) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_pci_intx_unmask(vp);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data)
			vfio_pci_intx_unmask(vp);
	} else {
		int32_t fd = *(const int32_t *)data;
		int efd, ret;

		if (fd < 0) {
			intx_unmask_fd_release(vp);
			return 0;
		}
		efd = vfio_pci_eventfd_get(ua, fd);
		if (efd < 0)
			return efd;
		if (vp->intx_unmask_fd >= 0 && unmask_fd_closed(vp))
			intx_unmask_fd_release(vp);
		if (vp->intx_unmask_fd >= 0) {
			vfio_pci_eventfd_close(efd);
			return -EBUSY;
		}
		ret = uvfio_loop_watch(efd, EPOLLIN, intx_unmask_fired, vp);
		if (ret < 0) {
			vfio_pci_eventfd_close(efd);
			return ret;
		}
		vp->intx_unmask_fd = efd;
		vp->intx_unmask_pid = ua->ctx ? ua->ctx->pid : 0;
		vp->intx_unmask_user_fd = fd;
	}
	return 0;
}

static int set_intx_trigger(struct vfio_pci *vp, unsigned int start, unsigned int count,
			    uint32_t flags, const void *data, struct vfio_uarg *ua)
{
	if (is_intx(vp) && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		intx_disable(vp);
		return 0;
	}
	if (!(is_intx(vp) || vp->irq_type == VFIO_PCI_IRQ_NONE) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd = *(const int32_t *)data;
		int trigger = -1, ret;

		if (fd >= 0) {
			trigger = vfio_pci_eventfd_get(ua, fd);
			if (trigger < 0)
				return trigger;
		}
		if (is_intx(vp)) {
			eventfd_put(&vp->intx_trigger);
			vp->intx_trigger = trigger;
			return 0;
		}
		ret = intx_enable(vp, trigger);
		if (ret < 0 && trigger >= 0)
			vfio_pci_eventfd_close(trigger);
		return ret;
	}

	if (!is_intx(vp))
		return -EINVAL;
	/* loopback: lets the user test its handler */
	if ((flags & VFIO_IRQ_SET_DATA_NONE) || *(const uint8_t *)data) {
		if (vp->intx_trigger >= 0)
			vfio_pci_eventfd_signal(vp->intx_trigger);
	}
	return 0;
}

void uvfio_pci_intx_set(struct uvfio_pci_dev *pdev, bool level)
{
	bool rising = level && !pdev->intx_level;
	struct vfio_pci *vp = pdev->vpci;

	pdev->intx_level = level;
	if (level)
		pdev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		pdev->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
	if (!vp || !is_intx(vp))
		return;
	if (rising && pdev->stopped) {
		vp->intx_held = true;
	} else if (rising) {
		vfio_pci_pme(vp);
		intx_deliver(vp);
	}
	else if (!level)
		vp->intx_pending = false;
}

/* ---- MSI / MSI-X ---- */

static void msi_hw_enable(struct vfio_pci *vp, bool msix, bool enable)
{
	struct uvfio_pci_dev *pdev = vp->pdev;

	if (msix) {
		unsigned int reg = UVFIO_CAP_MSIX_POS + PCI_MSIX_FLAGS;
		uint16_t f = pci_dev_cfg_read(pdev, reg, 2) & ~PCI_MSIX_FLAGS_ENABLE;

		pci_dev_cfg_write(pdev, reg, 2, f | (enable ? PCI_MSIX_FLAGS_ENABLE : 0));
	} else {
		unsigned int reg = UVFIO_CAP_MSI_POS + PCI_MSI_FLAGS;
		uint16_t f = pci_dev_cfg_read(pdev, reg, 2);

		f &= ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		if (enable)
			f |= PCI_MSI_FLAGS_ENABLE | vp->msi_qmax << 4;
		pci_dev_cfg_write(pdev, reg, 2, f);
	}
}

static int msi_enable(struct vfio_pci *vp, unsigned int nvec, bool msix)
{
	if (vp->irq_type != VFIO_PCI_IRQ_NONE)
		return -EINVAL;
	/* pci_alloc_irq_vectors(pdev, 1, 0, ...) */
	if (!nvec)
		return -ERANGE;
	vp->msi_trigger = malloc(nvec * sizeof(*vp->msi_trigger));
	if (!vp->msi_trigger)
		return -ENOMEM;
	for (unsigned int i = 0; i < nvec; i++)
		vp->msi_trigger[i] = -1;
	vp->num_ctx = nvec;
	vp->irq_type = msix ? VFIO_PCI_IRQ_MSIX : VFIO_PCI_IRQ_MSI;
	if (!msix) {
		/* log2 of the vectors allocated, rounded up (fls(nvec*2-1)-1) */
		vp->msi_qmax = 31 - __builtin_clz(nvec * 2 - 1);
	}
	msi_hw_enable(vp, msix, true);
	return 0;
}

static void msi_disable(struct vfio_pci *vp)
{
	bool msix = vp->irq_type == VFIO_PCI_IRQ_MSIX;

	for (unsigned int i = 0; i < vp->num_ctx; i++)
		eventfd_put(&vp->msi_trigger[i]);
	free(vp->msi_trigger);
	vp->msi_trigger = NULL;
	vp->num_ctx = 0;
	msi_hw_enable(vp, msix, false);
	vp->irq_type = VFIO_PCI_IRQ_NONE;
}

static int msi_set_vector_signal(struct vfio_pci *vp, unsigned int vector, int32_t fd,
				 struct vfio_uarg *ua)
{
	int trigger;

	if (vector < vp->num_ctx)
		eventfd_put(&vp->msi_trigger[vector]);
	if (fd < 0)
		return 0;
	/* beyond the vectors allocated at enable: no dynamic MSI-X here */
	if (vector >= vp->num_ctx)
		return -EINVAL;
	trigger = vfio_pci_eventfd_get(ua, fd);
	if (trigger < 0)
		return trigger;
	vp->msi_trigger[vector] = trigger;
	return 0;
}

static int msi_set_block(struct vfio_pci *vp, unsigned int start, unsigned int count,
			 const int32_t *fds, struct vfio_uarg *ua)
{
	unsigned int i, j;
	int ret = 0;

	for (i = 0, j = start; i < count && !ret; i++, j++)
		ret = msi_set_vector_signal(vp, j, fds ? fds[i] : -1, ua);
	if (ret) {
		for (i = start; i < j; i++)
			msi_set_vector_signal(vp, i, -1, ua);
	}
	return ret;
}

static int set_msi_trigger(struct vfio_pci *vp, unsigned int index, unsigned int start,
			   unsigned int count, uint32_t flags, const void *data,
			   struct vfio_uarg *ua)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	int ret;

	if (vp->irq_type == (int)index && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		msi_disable(vp);
		return 0;
	}
	if (!(vp->irq_type == (int)index || vp->irq_type == VFIO_PCI_IRQ_NONE))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (vp->irq_type == (int)index)
			return msi_set_block(vp, start, count, data, ua);
		ret = msi_enable(vp, start + count, msix);
		if (ret)
			return ret;
		ret = msi_set_block(vp, start, count, data, ua);
		if (ret)
			msi_disable(vp);
		return ret;
	}

	if (vp->irq_type != (int)index)
		return -EINVAL;
	for (unsigned int i = start; i < start + count; i++) {
		if (i >= vp->num_ctx || vp->msi_trigger[i] < 0)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) || ((const uint8_t *)data)[i - start])
			vfio_pci_eventfd_signal(vp->msi_trigger[i]);
	}
	return 0;
}

bool uvfio_pci_msi_enabled(struct uvfio_pci_dev *pdev)
{
	struct vfio_pci *vp = pdev->vpci;

	return vp && (vp->irq_type == VFIO_PCI_IRQ_MSI || vp->irq_type == VFIO_PCI_IRQ_MSIX);
}

void uvfio_pci_msi_notify(struct uvfio_pci_dev *pdev, unsigned int vector)
{
	struct vfio_pci *vp = pdev->vpci;

	if (!uvfio_pci_msi_enabled(pdev) || vector >= vp->num_ctx || vp->msi_trigger[vector] < 0)
		return;
	if (pdev->stopped && vector < 2048) {
		vp->msi_held[vector / 64] |= 1ull << (vector % 64);
		return;
	}
	vfio_pci_pme(vp);
	vfio_pci_eventfd_signal(vp->msi_trigger[vector]);
	vp->vdev.stats.irqs++;
}

/* ---- error and request signals ---- */

static int set_ctx_trigger_single(int *ctx, unsigned int count, uint32_t flags,
				  const void *data, struct vfio_uarg *ua)
{
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (*ctx >= 0) {
			if (count)
				vfio_pci_eventfd_signal(*ctx);
			else
				eventfd_put(ctx);
			return 0;
		}
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(const uint8_t *)data && *ctx >= 0)
			vfio_pci_eventfd_signal(*ctx);
		return 0;
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd;

		if (!count)
			return -EINVAL;
		fd = *(const int32_t *)data;
		if (fd == -1) {
			eventfd_put(ctx);
		} else if (fd >= 0) {
			int efd = vfio_pci_eventfd_get(ua, fd);

			if (efd < 0)
				return efd;
			eventfd_put(ctx);
			*ctx = efd;
		}
		return 0;
	}
	return -EINVAL;
}

static int set_err_trigger(struct vfio_pci *vp, unsigned int start, unsigned int count,
			   uint32_t flags, const void *data, struct vfio_uarg *ua)
{
	if (start != 0 || count > 1)
		return -EINVAL;
	return set_ctx_trigger_single(&vp->err_trigger, count, flags, data, ua);
}

static int set_req_trigger(struct vfio_pci *vp, unsigned int start, unsigned int count,
			   uint32_t flags, const void *data, struct vfio_uarg *ua)
{
	if (start != 0 || count > 1)
		return -EINVAL;
	return set_ctx_trigger_single(&vp->req_trigger, count, flags, data, ua);
}

void vfio_pci_signal_req(struct vfio_pci *vp)
{
	if (vp->req_trigger >= 0)
		vfio_pci_eventfd_signal(vp->req_trigger);
}

/* ---- dispatch ---- */

int vfio_pci_set_irqs(struct vfio_pci *vp, uint32_t flags, unsigned int index,
		      unsigned int start, unsigned int count, const void *data,
		      struct vfio_uarg *ua)
{
	uint32_t action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		switch (action) {
		case VFIO_IRQ_SET_ACTION_MASK:
			return set_intx_mask(vp, start, count, flags, data, ua);
		case VFIO_IRQ_SET_ACTION_UNMASK:
			return set_intx_unmask(vp, start, count, flags, data, ua);
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return set_intx_trigger(vp, start, count, flags, data, ua);
		}
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_msi_trigger(vp, index, start, count, flags, data, ua);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER && vp->pdev->is_pcie)
			return set_err_trigger(vp, start, count, flags, data, ua);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_req_trigger(vp, start, count, flags, data, ua);
		break;
	}
	return -ENOTTY;
}

void vfio_pci_intrs_disable_all(struct vfio_pci *vp)
{
	if (is_intx(vp))
		intx_disable(vp);
	else if (vp->irq_type != VFIO_PCI_IRQ_NONE)
		msi_disable(vp);
	eventfd_put(&vp->err_trigger);
	eventfd_put(&vp->req_trigger);
}

void vfio_pci_release_held_irqs(struct vfio_pci *vp)
{
	if (vp->intx_held && is_intx(vp) && vp->pdev->intx_level)
		intx_deliver(vp);
	vp->intx_held = false;
	for (unsigned int w = 0; w < sizeof(vp->msi_held) / sizeof(vp->msi_held[0]); w++) {
		uint64_t bits = vp->msi_held[w];

		vp->msi_held[w] = 0;
		for (; bits; bits &= bits - 1)
			uvfio_pci_msi_notify(vp->pdev, w * 64 + (unsigned int)__builtin_ctzll(bits));
	}
}
