// SPDX-License-Identifier: MIT
/*
 * The KVM VFIO device with uvfio's files, as a VMM uses it: created on a
 * real VM with KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO), group and device cdev
 * files added and deleted with the kernel's answers for every misuse, and
 * the device holding each file it was given.  Needs /dev/kvm: without it
 * the test says so and is skipped (exit 77), never passed.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommufd_util.h"

#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE	KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD	KVM_DEV_VFIO_GROUP_ADD
#define KVM_DEV_VFIO_FILE_DEL	KVM_DEV_VFIO_GROUP_DEL
#endif

static int kvm_vfio;

/* which as an int, as QEMU passes it (sign-extended on its way to ioctl) */
static int file_attr(int which, uint64_t op, int fd)
{
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_FILE, .attr = op, .addr = (uintptr_t)&fd,
	};

	return ioctl(kvm_vfio, which, &attr);
}

static int add(int fd)
{
	return file_attr(KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_FILE_ADD, fd);
}

static int del(int fd)
{
	return file_attr(KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_FILE_DEL, fd);
}

int main(void)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct kvm_device_attr bad = { .group = KVM_DEV_VFIO_FILE,
				       .attr = KVM_DEV_VFIO_FILE_ADD, .addr = 8 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, group, dup_group, container;
	int cdev, null;

	if (kvm < 0) {
		fprintf(stderr, "SKIPPED: no usable /dev/kvm (%s): the KVM VFIO device "
			"was NOT tested\n", strerror(errno));
		return 77;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	REQUIRE(vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	REQUIRE(ioctl(vm, KVM_CREATE_DEVICE, &cd) == 0, "KVM_CREATE_DEVICE: %s", strerror(errno));
	kvm_vfio = (int)cd.fd;

	container = open("/dev/vfio/vfio", O_RDWR);
	group = open_group(EDU_GROUP);
	cdev = open_cdev(RAM_BDF0);
	null = open("/dev/null", O_RDWR);
	REQUIRE(container >= 0 && group >= 0 && cdev >= 0 && null >= 0, "opens: %s",
		strerror(errno));

	CHECK_OK(file_attr(KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_FILE_ADD, group));
	CHECK_OK(file_attr(KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_FILE_DEL, group));

	/* a group and a device cdev are VFIO files to KVM */
	CHECK_OK(add(group));
	CHECK_ERR(add(group), EEXIST);
	dup_group = dup(group);
	CHECK_ERR(add(dup_group), EEXIST);	/* the same file */
	CHECK_OK(add(cdev));
	/* what is not, as the kernel answers it */
	CHECK_ERR(add(container), EINVAL);
	CHECK_ERR(add(null), EINVAL);
	CHECK_ERR(add(-1), EBADF);
	CHECK_ERR(add(1000), EBADF);
	CHECK_ERR(ioctl(kvm_vfio, KVM_SET_DEVICE_ATTR, &bad), EFAULT);
	CHECK_ERR(file_attr(KVM_SET_DEVICE_ATTR, 3, group), ENXIO);	/* SPAPR_TCE */

	CHECK_OK(del(dup_group));
	CHECK_ERR(del(group), ENOENT);
	CHECK_ERR(del(container), ENOENT);
	CHECK_ERR(del(null), ENOENT);
	CHECK_ERR(del(-1), EBADF);
	CHECK_OK(add(group));

	/* the device holds the files added to it: closed by the program, the
	 * group stays open (a second open is EBUSY) until the device goes */
	close(dup_group);
	close(group);
	CHECK_ERR(open_group(EDU_GROUP), EBUSY);
	close(kvm_vfio);
	close(vm);
	group = open_group(EDU_GROUP);
	CHECK(group >= 0, "the group was let go with the device: %s", strerror(errno));

	/* a copy of the device's descriptor is the same device */
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	/* as QEMU's kvm_vm_ioctl(..., int type, ...) passes it */
	REQUIRE(vm >= 0 && ioctl(vm, (int)KVM_CREATE_DEVICE, &cd) == 0, "second VM: %s",
		strerror(errno));
	kvm_vfio = dup((int)cd.fd);
	CHECK_OK(add(group));
	close((int)cd.fd);
	CHECK_ERR(add(group), EEXIST);
	close(group);
	CHECK_ERR(open_group(EDU_GROUP), EBUSY);
	close(kvm_vfio);
	close(vm);
	group = open_group(EDU_GROUP);
	CHECK(group >= 0, "let go with the last descriptor: %s", strerror(errno));

	close(group);
	close(cdev);
	close(container);
	close(null);
	close(kvm);
	return harness_done("kvm");
}
