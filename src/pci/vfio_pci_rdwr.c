// SPDX-License-Identifier: MIT
/*
 * BAR access through read()/write() on the device file, and ioeventfds
 * (drivers/vfio/pci/vfio_pci_rdwr.c).  Accesses are split into the largest
 * naturally aligned pieces (8/4/2/1 bytes) so the model sees what a CPU
 * would issue; the MSI-X table is off limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/loop.h"
#include "vfio_pci_priv.h"

/* Moves count bytes at BAR offset off; [x_start, x_end) is excluded: reads
 * give 0xff, writes are dropped.  Returns bytes done or -EIO when memory
 * decode is off. */
static ssize_t do_io_rw(struct vfio_pci *vp, bool test_mem, int bar, uint8_t *buf,
			uint64_t off, size_t count, uint64_t x_start, uint64_t x_end,
			bool iswrite)
{
	ssize_t done = 0;

	while (count) {
		size_t fillable, filled;

		if (off < x_start)
			fillable = count < x_start - off ? count : x_start - off;
		else if (off >= x_end)
			fillable = count;
		else
			fillable = 0;

		if (fillable) {
			if (test_mem && !vfio_pci_memory_enabled(vp))
				return -EIO;
			pci_dev_bar_rw(vp->pdev, bar, off, buf, fillable, iswrite);
			filled = fillable;
		} else {
			filled = count < x_end - off ? count : x_end - off;
			if (!iswrite)
				memset(buf, 0xff, filled);
		}
		count -= filled;
		done += filled;
		off += filled;
		buf += filled;
	}
	return done;
}

ssize_t vfio_pci_bar_rw(struct vfio_pci *vp, void *buf, size_t count, uint64_t off,
			bool iswrite)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	int bar = off >> VFIO_PCI_OFFSET_SHIFT;
	uint64_t pos = off & VFIO_PCI_OFFSET_MASK;
	uint64_t x_start = 0, x_end = 0;
	const struct pci_bar *b;

	/* no function has an option ROM, and an absent BAR has no
	 * address */
	if (bar >= PCI_NUM_BARS || !pdev->bars[bar].kind)
		return -EINVAL;
	b = &pdev->bars[bar];
	if (pos >= b->size)
		return -EINVAL;
	if (count > b->size - pos)
		count = b->size - pos;
	if (pdev->msix_vectors && bar == pdev->msix_bar) {
		x_start = pdev->msix_table_off;
		x_end = x_start + pci_dev_msix_table_size(pdev);
	}
	return do_io_rw(vp, b->kind != UVFIO_BAR_IO, bar, buf, pos, count, x_start, x_end,
			iswrite);
}

/* ---- ioeventfd: a write performed when an eventfd fires ---- */

static void ioeventfd_free(struct vfio_pci_ioeventfd *ie)
{
	uvfio_loop_unwatch(ie->fd);
	vfio_pci_eventfd_close(ie->fd);
	LIST_REMOVE(ie, next);
	ie->vpci->ioeventfds_nr--;
	free(ie);
}

static void ioeventfd_fired(void *arg, uint32_t events)
{
	struct vfio_pci_ioeventfd *ie = arg;
	struct vfio_pci *vp = ie->vpci;

	(void)events;
	if (!vfio_pci_eventfd_consume(ie->fd))
		return;
	if (vp->pdev->bars[ie->bar].kind != UVFIO_BAR_IO && !vfio_pci_memory_enabled(vp))
		return;
	pci_dev_bar_write(vp->pdev, ie->bar, ie->pos, ie->count, ie->data);
}

int vfio_pci_ioeventfd(struct vfio_pci *vp, uint64_t offset, uint64_t data,
		       unsigned int count, int32_t fd, struct vfio_uarg *ua)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	uint64_t pos = offset & VFIO_PCI_OFFSET_MASK;
	uint64_t bar = offset >> VFIO_PCI_OFFSET_SHIFT;
	struct vfio_pci_ioeventfd *ie;
	int efd, ret;

	if (bar >= PCI_NUM_BARS)
		return -EINVAL;
	if (pos + count > pdev->bars[bar].size)
		return -EINVAL;
	if (pci_dev_in_msix_table(pdev, bar, pos, count))
		return -EINVAL;
	if (count == 8)
		return -EINVAL;

	LIST_FOREACH(ie, &vp->ioeventfds, next) {
		if (ie->pos == pos && ie->bar == (int)bar && ie->data == data &&
		    ie->count == count) {
			if (fd != -1)
				return -EEXIST;
			ioeventfd_free(ie);
			return 0;
		}
	}
	if (fd < 0)
		return -ENODEV;
	if (vp->ioeventfds_nr >= VFIO_PCI_IOEVENTFD_MAX)
		return -ENOSPC;

	efd = vfio_pci_eventfd_get(ua, fd);
	if (efd < 0)
		return efd;
	ie = calloc(1, sizeof(*ie));
	if (!ie) {
		vfio_pci_eventfd_close(efd);
		return -ENOMEM;
	}
	ie->vpci = vp;
	ie->bar = bar;
	ie->pos = pos;
	ie->data = data;
	ie->count = count;
	ie->fd = efd;
	ret = uvfio_loop_watch(efd, EPOLLIN, ioeventfd_fired, ie);
	if (ret < 0) {
		vfio_pci_eventfd_close(efd);
		free(ie);
		return ret;
	}
	LIST_INSERT_HEAD(&vp->ioeventfds, ie, next);
	vp->ioeventfds_nr++;
	return 0;
}

void vfio_pci_ioeventfds_release(struct vfio_pci *vp)
{
	while (!LIST_EMPTY(&vp->ioeventfds))
		ioeventfd_free(LIST_FIRST(&vp->ioeventfds));
}
