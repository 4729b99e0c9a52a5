// SPDX-License-Identifier: MIT
#include "pci_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "pci/pci_bus.h"

void tua_init(struct tua *t, const void *arg, size_t len)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->arg, arg, len);
	memcpy(t->wb, arg, len);
	t->ua.msg.arg = t->arg;
	t->ua.msg.arg_len = len;
	t->ua.msg.fds = t->fds;
	t->ua.attached = t->attached;
	t->ua.wb = t->wb;
}

void tua_add_fd(struct tua *t, int32_t user_fd, int fd)
{
	unsigned int i = t->ua.msg.nfds++;

	t->fds[i].user_fd = user_fd;
	if (fd < 0) {
		t->fds[i].attached = -1;
		return;
	}
	t->fds[i].attached = t->ua.nattached;
	t->attached[t->ua.nattached++] = fd;
}

long tua_ioctl(struct vfio_device *vdev, unsigned int cmd, struct tua *t)
{
	return vdev->ops->ioctl(vdev, cmd, &t->ua);
}

struct vfio_device *test_open_device(const char *bdf, const char *model)
{
	struct host_device *hdev;
	static int group = 40;

	assert_int_equal(pci_bus_add_device(bdf, model, NULL, group++, "vfio-pci", &hdev), 0);
	assert_non_null(hdev->vdev);
	assert_int_equal(hdev->vdev->ops->open_device(hdev->vdev), 0);
	hdev->vdev->open_count = 1;
	return hdev->vdev;
}

void test_close_all(void)
{
	struct host_device *d;

	pci_bus_for_each(d) {
		if (d->vdev && d->vdev->open_count) {
			d->vdev->open_count = 0;
			d->vdev->ops->close_device(d->vdev);
		}
	}
	pci_bus_fini();
}

ssize_t dev_read(struct vfio_device *vdev, void *buf, size_t len, uint64_t off)
{
	return vdev->ops->read(vdev, buf, len, &off);
}

ssize_t dev_write(struct vfio_device *vdev, const void *buf, size_t len, uint64_t off)
{
	return vdev->ops->write(vdev, buf, len, &off);
}

uint32_t cfg_read(struct vfio_device *vdev, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	assert_int_equal(dev_read(vdev, &v, size, CFG_OFF(off)), size);
	return v;
}

void cfg_write(struct vfio_device *vdev, unsigned int off, unsigned int size, uint32_t val)
{
	assert_int_equal(dev_write(vdev, &val, size, CFG_OFF(off)), size);
}

uint64_t bar_read(struct vfio_device *vdev, int bar, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	assert_int_equal(dev_read(vdev, &v, size, BAR_OFF(bar, off)), size);
	return v;
}

void bar_write(struct vfio_device *vdev, int bar, uint64_t off, unsigned int size, uint64_t v)
{
	assert_int_equal(dev_write(vdev, &v, size, BAR_OFF(bar, off)), size);
}

long set_irqs_eventfds(struct vfio_device *vdev, unsigned int index, unsigned int start,
		       unsigned int count, const int *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 32 * sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;
	int32_t *data = (int32_t *)s->data;
	struct tua t;

	s->argsz = sizeof(*s) + count * sizeof(int32_t);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	/* user descriptor numbers are 100+i; -1 stays -1 */
	for (unsigned int i = 0; i < count; i++)
		data[i] = fds[i] < 0 ? fds[i] : (int32_t)(100 + i);
	tua_init(&t, buf, s->argsz);
	for (unsigned int i = 0; i < count; i++) {
		if (fds[i] >= 0)
			tua_add_fd(&t, 100 + i, fds[i]);
	}
	return tua_ioctl(vdev, VFIO_DEVICE_SET_IRQS, &t);
}

long set_irqs_none(struct vfio_device *vdev, unsigned int index, uint32_t action,
		   unsigned int start, unsigned int count)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s), .flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index, .start = start, .count = count,
	};
	struct tua t;

	tua_init(&t, &s, sizeof(s));
	return tua_ioctl(vdev, VFIO_DEVICE_SET_IRQS, &t);
}

uint64_t eventfd_count(int fd)
{
	uint64_t v = 0;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	fcntl(fd, F_SETFL, fl);
	return v;
}
