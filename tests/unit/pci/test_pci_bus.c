// SPDX-License-Identifier: MIT
/* The host bus: adding devices, driver binding rules, sysfs information. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/iommu_group.h"
#include "pci/pci_bus.h"
#include "pci_test_util.h"

static int teardown(void **state)
{
	(void)state;
	test_close_all();
	return 0;
}

static void record(void *arg, int err)
{
	*(int *)arg = err;
}

static void test_add_and_bind(void **state)
{
	struct host_device *d;
	int res = 1, owner;

	(void)state;
	assert_int_equal(pci_bus_add_device("10:00.0", "edu", NULL, 7, "e1000e", &d), 0);
	assert_string_equal(d->name, "0000:10:00.0");
	assert_string_equal(d->driver, "e1000e");
	assert_int_equal(d->iommu_group->id, 7);
	assert_int_equal(pci_bus_add_device("0000:10:00.0", "edu", NULL, 7, "", NULL), -EEXIST);
	assert_int_equal(pci_bus_add_device("0000:10:00.1", "nosuch", NULL, 7, "", NULL), -ENOENT);
	assert_int_equal(pci_bus_add_device("0000:10:20.0", "edu", NULL, 7, "", NULL), -EINVAL);
	assert_int_equal(pci_bus_add_device("0000:0f:00.0", "ramdev", NULL, 8, "", NULL), 0);
	/* BDF order */
	assert_string_equal(pci_bus_first()->name, "0000:0f:00.0");
	assert_ptr_equal(pci_bus_next(pci_bus_first()), d);
	assert_null(pci_bus_next(d));

	assert_int_equal(pci_bus_bind("0000:10:00.0", "vfio-pci"), -EBUSY);
	assert_int_equal(pci_bus_bind("0000:11:00.0", "vfio-pci"), -ENODEV);
	pci_bus_unbind("0000:10:00.0", record, &res);
	assert_int_equal(res, 0);
	pci_bus_unbind("0000:10:00.0", record, &res);
	assert_int_equal(res, -ENODEV);
	/* a host driver cannot bind while user space owns the group */
	assert_int_equal(iommu_group_claim_dma_owner(d->iommu_group, &owner), 0);
	assert_int_equal(pci_bus_bind("0000:10:00.0", "e1000e"), -EBUSY);
	iommu_group_release_dma_owner(d->iommu_group);
	assert_int_equal(pci_bus_bind("0000:10:00.0", "vfio-pci"), 0);
	assert_non_null(d->vdev);
	res = 1;
	pci_bus_unbind("0000:10:00.0", record, &res);
	assert_int_equal(res, 0);
	assert_null(d->vdev);
	assert_string_equal(d->driver, "");
}

static void test_sysfs_info(void **state)
{
	struct pci_sysfs_info info;
	struct host_device *d;

	(void)state;
	assert_int_equal(pci_bus_add_device("0000:00:05.0", "ramdev", NULL, 3, "vfio-pci", &d), 0);
	assert_int_equal(pci_bus_sysfs_info(d, &info), 0);
	assert_int_equal(info.vendor, 0x1234);
	assert_int_equal(info.device, 0x11e9);
	assert_int_equal(info.class, 0xff0000);
	assert_int_equal(info.irq_pin, 1);
	assert_int_equal(info.config_size, 4096);
	assert_true(info.is_pcie);
	assert_int_equal(info.resource[0].end - info.resource[0].start + 1, 64 << 10);
	assert_int_equal(info.resource[0].flags, 0x0014220c);
	assert_int_equal(info.resource[1].flags, 0);
	assert_int_equal(info.resource[2].flags, 0x00040101);
	assert_int_equal(info.resource[2].end - info.resource[2].start + 1, 256);
	assert_int_equal(info.resource[4].flags, 0x00040200);
	assert_int_equal(info.resource[6].flags, 0);
	assert_int_equal(info.config[0], 0x34);
	assert_int_equal(info.resource[0].start & 0xffff, 0);
	assert_string_equal(pci_bus_model_name(d), "ramdev");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_add_and_bind, teardown),
		cmocka_unit_test_teardown(test_sysfs_info, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
