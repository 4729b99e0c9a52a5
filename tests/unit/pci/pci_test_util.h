/* SPDX-License-Identifier: MIT */
/* Driving vfio-pci through its vfio_device_ops, as the core would. */
#ifndef UVFIO_TEST_PCI_UTIL_H
#define UVFIO_TEST_PCI_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "core/vfio.h"
#include "transport/ioctl_codec.h"

#define CFG_OFF(off)	((7ULL << 40) | (off))
#define BAR_OFF(bar, off) ((uint64_t)(bar) << 40 | (off))

/* One ioctl argument: arg bytes, write-back buffer, descriptors. */
struct tua {
	struct vfio_uarg ua;
	uint8_t arg[1024];
	uint8_t wb[1024];
	struct uvfio_ioctl_fd fds[8];
	int attached[8];
};

void tua_init(struct tua *t, const void *arg, size_t len);
/* Makes user descriptor number user_fd refer to daemon descriptor fd
 * (-1: the user named a descriptor that is not open). */
void tua_add_fd(struct tua *t, int32_t user_fd, int fd);
/* Runs cmd; the result (written back bytes over the argument) is in t->wb. */
long tua_ioctl(struct vfio_device *vdev, unsigned int cmd, struct tua *t);

/* Adds a device of `model` at bdf bound to vfio-pci and opens it. */
struct vfio_device *test_open_device(const char *bdf, const char *model);
void test_close_all(void);

uint32_t cfg_read(struct vfio_device *vdev, unsigned int off, unsigned int size);
void cfg_write(struct vfio_device *vdev, unsigned int off, unsigned int size, uint32_t val);
ssize_t dev_read(struct vfio_device *vdev, void *buf, size_t len, uint64_t off);
ssize_t dev_write(struct vfio_device *vdev, const void *buf, size_t len, uint64_t off);
uint64_t bar_read(struct vfio_device *vdev, int bar, uint64_t off, unsigned int size);
void bar_write(struct vfio_device *vdev, int bar, uint64_t off, unsigned int size, uint64_t v);

/* SET_IRQS with an eventfd array (fds are daemon descriptors). */
long set_irqs_eventfds(struct vfio_device *vdev, unsigned int index, unsigned int start,
		       unsigned int count, const int *fds);
long set_irqs_none(struct vfio_device *vdev, unsigned int index, uint32_t action,
		   unsigned int start, unsigned int count);
/* Pending count of an eventfd (0 if none), consuming it. */
uint64_t eventfd_count(int fd);

#endif
