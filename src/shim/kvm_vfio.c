// SPDX-License-Identifier: MIT
/*
 * The KVM VFIO pseudo-device (virt/kvm/vfio.c) for uvfio's files.  A VMM
 * creates it with KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO) and adds to it the
 * group or device cdev files of its devices (KVM_DEV_VFIO_FILE_ADD, formerly
 * KVM_DEV_VFIO_GROUP_ADD).  The kernel's device does not know our files
 * (sockets to it) and answers EINVAL, which QEMU's iommufd path, crosvm and
 * cloud-hypervisor take as fatal.  So the shim keeps, per such device, the
 * uvfio files added to it, with the kernel's rules: only a group or a device
 * cdev may be added, each file once (EEXIST, whatever descriptor names it),
 * deleting one not added is ENOENT, and the device holds a reference to each
 * file added, as the kernel's holds the struct file.  Everything else -- a
 * descriptor that is no uvfio file, another attribute -- goes to the real
 * KVM, which answers as it does (EBADF, EINVAL, ENOENT, ENXIO).
 *
 * Unlike the kernel's, which lives as long as the VM, the list lives as long
 * as a descriptor of the device is open in the process.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE	KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD	KVM_DEV_VFIO_GROUP_ADD
#define KVM_DEV_VFIO_FILE_DEL	KVM_DEV_VFIO_GROUP_DEL
#endif

struct kvm_vfio_file {
	uint64_t token;
	int held;		/* our descriptor of it: the device's reference */
};

struct kvm_vfio {
	pthread_mutex_t lock;
	unsigned int refs;	/* fd-table entries naming this device */
	unsigned int n, cap;
	struct kvm_vfio_file *files;
};

static pthread_mutex_t refs_lock = PTHREAD_MUTEX_INITIALIZER;

static void register_device(int fd)
{
	struct kvm_vfio *kv = calloc(1, sizeof(*kv));
	struct shim_fd ent = { .type = SHIM_FD_KVM_VFIO, .minor = -1 };

	if (!kv)
		return;		/* then it answers as the kernel's: EINVAL */
	pthread_mutex_init(&kv->lock, NULL);
	kv->refs = 1;
	ent.token = (uintptr_t)kv;
	if (shim_fd_set(fd, &ent))
		free(kv);
}

void shim_kvm_vfio_get(uint64_t token)
{
	struct kvm_vfio *kv = (struct kvm_vfio *)(uintptr_t)token;

	pthread_mutex_lock(&refs_lock);
	kv->refs++;
	pthread_mutex_unlock(&refs_lock);
}

void shim_kvm_vfio_put(uint64_t token)
{
	struct kvm_vfio *kv = (struct kvm_vfio *)(uintptr_t)token;
	bool last;

	pthread_mutex_lock(&refs_lock);
	last = --kv->refs == 0;
	pthread_mutex_unlock(&refs_lock);
	if (!last)
		return;
	/* the device goes: its references to the files with it */
	for (unsigned int i = 0; i < kv->n; i++)
		close(kv->files[i].held);
	free(kv->files);
	pthread_mutex_destroy(&kv->lock);
	free(kv);
}

static struct kvm_vfio_file *find(struct kvm_vfio *kv, uint64_t token)
{
	for (unsigned int i = 0; i < kv->n; i++)
		if (kv->files[i].token == token)
			return &kv->files[i];
	return NULL;
}

static int file_add(struct kvm_vfio *kv, int fd, const struct shim_fd *ent)
{
	struct kvm_vfio_file *f;
	int held;

	if (find(kv, ent->token))
		return -EEXIST;
	if (kv->n == kv->cap) {
		unsigned int cap = kv->cap ? 2 * kv->cap : 4;

		f = realloc(kv->files, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		kv->files = f;
		kv->cap = cap;
	}
	/* fcntl is ours: the copy is entered in the fd table */
	held = fcntl(fd, F_DUPFD_CLOEXEC, SHIM_FD_HIGH);
	if (held < 0)
		return -errno;
	kv->files[kv->n++] = (struct kvm_vfio_file){ .token = ent->token, .held = held };
	return 0;
}

static int file_del(struct kvm_vfio *kv, const struct shim_fd *ent)
{
	struct kvm_vfio_file *f = find(kv, ent->token);
	int held;

	if (!f)
		return -ENOENT;
	held = f->held;
	*f = kv->files[--kv->n];
	close(held);		/* ours: the file is released if that was the last */
	return 0;
}

/* KVM_SET_DEVICE_ATTR on a KVM VFIO device: true if it was ours to answer. */
static bool set_attr(const struct shim_fd *dev, unsigned long arg, long *ret)
{
	struct kvm_vfio *kv = (struct kvm_vfio *)(uintptr_t)dev->token;
	struct kvm_device_attr attr;
	struct shim_fd ent;
	int32_t fd;

	if (shim_copy_safe(&attr, (const void *)arg, sizeof(attr)))
		return false;	/* the kernel says EFAULT */
	if (attr.group != KVM_DEV_VFIO_FILE ||
	    (attr.attr != KVM_DEV_VFIO_FILE_ADD && attr.attr != KVM_DEV_VFIO_FILE_DEL))
		return false;
	if (shim_copy_safe(&fd, (const void *)(uintptr_t)attr.addr, sizeof(fd))) {
		*ret = -EFAULT;
		return true;
	}
	/* not a uvfio file (or not open): the kernel's answer is the answer */
	if (!shim_fd_get(fd, &ent) || !shim_fd_is_file(&ent))
		return false;
	pthread_mutex_lock(&kv->lock);
	if (attr.attr == KVM_DEV_VFIO_FILE_DEL)
		*ret = file_del(kv, &ent);
	else if (ent.type == UVFIO_FILE_GROUP || ent.type == UVFIO_FILE_DEVICE_CDEV)
		*ret = file_add(kv, fd, &ent);
	else
		*ret = -EINVAL;	/* a container, a device from a group, an iommufd */
	pthread_mutex_unlock(&kv->lock);
	return true;
}

bool shim_kvm_ioctl(int fd, unsigned long request, unsigned long arg, long *ret)
{
	/* the kernel takes an unsigned int: QEMU's int request arrives
	 * sign-extended */
	unsigned int cmd = (unsigned int)request;
	struct kvm_create_device cd;
	struct shim_fd dev;

	if (cmd == KVM_CREATE_DEVICE) {
		*ret = REAL(ioctl)(fd, request, arg);
		if (*ret == 0 && !shim_copy_safe(&cd, (const void *)arg, sizeof(cd)) &&
		    cd.type == KVM_DEV_TYPE_VFIO && !(cd.flags & KVM_CREATE_DEVICE_TEST))
			register_device((int)cd.fd);
		if (*ret < 0)
			*ret = -errno;
		return true;
	}
	if (cmd == KVM_SET_DEVICE_ATTR && shim_fd_get(fd, &dev) &&
	    dev.type == SHIM_FD_KVM_VFIO)
		return set_attr(&dev, arg, ret);
	return false;
}
