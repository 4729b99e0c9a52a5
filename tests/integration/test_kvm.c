// SPDX-License-Identifier: MIT
/*
 * The KVM VFIO device with uvfio's files, as a VMM uses it: created on a
 * real VM with KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO), group and device cdev
 * files added and deleted with the kernel's answers for every misuse, and
 * the device holding each file it was given; and the device's interrupts
 * routed into the VM through KVM irqfds.  Needs /dev/kvm: without it the
 * test says so and is skipped (exit 77), never passed.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
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

/* The VM's interrupt routes: GSI 16, IOAPIC pin 16 (no PIC behind it); GSI
 * 40, an MSI to the local APIC of vCPU 0. */
#define INTX_GSI	16
#define INTX_VECTOR	0x50
#define MSI_GSI		40
#define MSI_VECTOR	0x45
#define APIC_SPIV	0xf0
#define APIC_IRR	0x200

static uint32_t apic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &l->regs[off], sizeof(v));
	return v;
}

/* Polls vCPU 0's local APIC until the vector is pending (IRR), up to 2 s. */
static bool irr_pending(int vcpu, unsigned int vector)
{
	struct kvm_lapic_state l;

	for (int i = 0; i < 2000; i++) {
		if (ioctl(vcpu, KVM_GET_LAPIC, &l))
			return false;
		if (apic_reg(&l, APIC_IRR + vector / 32 * 0x10) & (1u << (vector % 32)))
			return true;
		usleep(1000);
	}
	return false;
}

static void set_intx_unmask(int device, int32_t fd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;

	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf), .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
	};
	memcpy(set->data, &fd, sizeof(fd));
	CHECK_OK(ioctl(device, VFIO_DEVICE_SET_IRQS, set));
}

/*
 * As a VMM with an in-kernel irqchip routes them: MSI through an irqfd on an
 * MSI route, delivered by KVM to the vCPU's local APIC without passing
 * through the VMM; INTx through an irqfd on an IOAPIC pin whose resample
 * eventfd is also VFIO's unmask eventfd (KVM signals it at the guest's end
 * of interrupt).  What reached KVM is read back from its irqchip.  The
 * guest's end of interrupt needs guest code running, which is not done
 * here; the unmask through an eventfd is test_dma_irq's.
 */
static void irqfds(int kvm)
{
	struct {
		struct kvm_irq_routing head;
		struct kvm_irq_routing_entry e[2];
	} routes = {
		.head.nr = 2,
		.e = {
			{ .gsi = INTX_GSI, .type = KVM_IRQ_ROUTING_IRQCHIP,
			  .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = INTX_GSI } },
			{ .gsi = MSI_GSI, .type = KVM_IRQ_ROUTING_MSI,
			  .u.msi = { .address_lo = 0xfee00000, .data = MSI_VECTOR } },
		},
	};
	struct kvm_irqchip ioapic = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_lapic_state lapic;
	struct vfio_setup s;
	int vm, vcpu, msi = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int intx = eventfd(0, EFD_CLOEXEC), resample = eventfd(0, EFD_CLOEXEC);
	uint32_t spiv;
	uint64_t v;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	REQUIRE(vm >= 0 && ioctl(vm, KVM_CREATE_IRQCHIP, 0) == 0, "VM with an irqchip: %s",
		strerror(errno));
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	REQUIRE(vcpu >= 0 && ioctl(vcpu, KVM_GET_LAPIC, &lapic) == 0, "vCPU: %s",
		strerror(errno));
	spiv = apic_reg(&lapic, APIC_SPIV) | 0x1ff;	/* APIC software-enabled */
	memcpy(&lapic.regs[APIC_SPIV], &spiv, sizeof(spiv));
	REQUIRE(ioctl(vcpu, KVM_SET_LAPIC, &lapic) == 0 &&
		ioctl(vm, KVM_SET_GSI_ROUTING, &routes) == 0 &&
		ioctl(vm, KVM_GET_IRQCHIP, &ioapic) == 0, "irqchip set-up: %s", strerror(errno));
	ioapic.chip.ioapic.redirtbl[INTX_GSI].bits = 0;
	ioapic.chip.ioapic.redirtbl[INTX_GSI].fields.vector = INTX_VECTOR;
	ioapic.chip.ioapic.redirtbl[INTX_GSI].fields.trig_mode = 1;	/* level */
	REQUIRE(ioctl(vm, KVM_SET_IRQCHIP, &ioapic) == 0, "IOAPIC: %s", strerror(errno));
	REQUIRE(ioctl(vm, KVM_IRQFD, &(struct kvm_irqfd){ .fd = (uint32_t)msi,
						      .gsi = MSI_GSI }) == 0 &&
		ioctl(vm, KVM_IRQFD, &(struct kvm_irqfd){
			.fd = (uint32_t)intx, .gsi = INTX_GSI, .flags = KVM_IRQFD_FLAG_RESAMPLE,
			.resamplefd = (uint32_t)resample }) == 0, "KVM_IRQFD: %s", strerror(errno));

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);

	/* MSI: KVM takes the signal (the eventfd stays empty) into the APIC */
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &msi));
	wr32(s.device, EDU(0x60), 0x1000);
	CHECK(irr_pending(vcpu, MSI_VECTOR), "MSI vector %#x not pending in the APIC",
	      MSI_VECTOR);
	CHECK(read(msi, &v, sizeof(v)) < 0 && errno == EAGAIN, "KVM left the MSI signal");
	wr32(s.device, EDU(0x64), 0x1000);
	CHECK_OK(disable_irqs(s.device, VFIO_PCI_MSI_IRQ_INDEX));

	/* INTx: the resample eventfd is the unmask eventfd; the level reaches
	 * the IOAPIC pin and the APIC */
	CHECK_OK(set_irq_eventfds(s.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &intx));
	set_intx_unmask(s.device, resample);
	wr32(s.device, EDU(0x60), 0x1);
	CHECK(irr_pending(vcpu, INTX_VECTOR), "INTx vector %#x not pending in the APIC",
	      INTX_VECTOR);
	CHECK_OK(ioctl(vm, KVM_GET_IRQCHIP, &ioapic));
	CHECK(ioapic.chip.ioapic.irr & (1u << INTX_GSI), "IOAPIC pin %d not asserted", INTX_GSI);
	CHECK(ioapic.chip.ioapic.redirtbl[INTX_GSI].fields.remote_irr,
	      "IOAPIC pin %d not delivered", INTX_GSI);
	wr32(s.device, EDU(0x64), 0x1);

	teardown(&s);
	close(vcpu);
	close(vm);
	close(msi);
	close(intx);
	close(resample);
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

	irqfds(kvm);
	close(kvm);
	return harness_done("kvm");
}
