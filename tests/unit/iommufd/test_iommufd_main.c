// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu context: object IDs, IOMMU_DESTROY, the size rules every
 * command shares, IOMMU_OPTION, IOMMU_VFIO_IOAS, the commands of features
 * the software IOMMU lacks, and release on the last close.
 */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommufd_test_util.h"
#include "util/offsetofend.h"

static int setup(void **state)
{
	(void)state;
	itest_setup();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown();
	return 0;
}

/* ---- object table ---- */

static void test_ids(void **state)
{
	struct vfio_file *f = itest_open();

	(void)state;
	/* IDs start at 1 and the lowest free one is reused. */
	assert_int_equal(itest_ioas_alloc(f), 1);
	assert_int_equal(itest_ioas_alloc(f), 2);
	assert_int_equal(itest_ioas_alloc(f), 3);
	assert_int_equal(itest_destroy(f, 2), 0);
	assert_int_equal(itest_destroy(f, 2), -ENOENT);
	assert_int_equal(itest_ioas_alloc(f), 2);
	assert_int_equal(itest_ioas_alloc(f), 4);
	assert_int_equal(itest_destroy(f, 0), -ENOENT);
	assert_int_equal(itest_destroy(f, 99), -ENOENT);
	assert_int_equal(itest_destroy(f, 0xffffffff), -ENOENT);
	/* The table grows past its first size. */
	for (uint32_t i = 5; i <= 40; i++)
		assert_int_equal(itest_ioas_alloc(f), i);
	assert_int_equal(itest_ictx(f)->nr_objects, 40);
	itest_close(f);
}

static void test_ioas_alloc(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommu_ioas_alloc a = { .size = sizeof(a), .flags = 1 };

	(void)state;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &a, sizeof(a)), -EOPNOTSUPP);
	assert_int_equal(itest_ictx(f)->nr_objects, 0);
	/* An argument shorter than its size field says: nothing is made. */
	a.flags = 0;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &a, 8), -EFAULT);
	assert_int_equal(itest_ictx(f)->nr_objects, 0);
	itest_close(f);
}

/* ---- size rules ---- */

static void test_size_rules(void **state)
{
	struct vfio_file *f = itest_open();
	struct {
		struct iommu_ioas_alloc a;
		uint8_t tail[20];
	} big;
	uint32_t size;

	(void)state;
	/* Not even the size field can be read. */
	size = 12;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &size, 2), -EFAULT);

	/* Below the last mandatory field. */
	memset(&big, 0, sizeof(big));
	big.a.size = 11;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &big, sizeof(big)), -EINVAL);
	big.a.size = 0;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &big, sizeof(big)), -EINVAL);

	/* Larger than we know: fine if the tail is zero, and the reply is
	 * only as long as our structure. */
	big.a.size = sizeof(big);
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &big, sizeof(big)), 0);
	assert_int_equal(big.a.out_ioas_id, 1);
	assert_int_equal(itest_wb_hi, sizeof(struct iommu_ioas_alloc));
	big.tail[19] = 1;
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &big, sizeof(big)), -E2BIG);

	/* The shim says what it could not copy. */
	big.tail[19] = 0;
	big.a.size = 4096;
	assert_int_equal(itest_ioctl_flags(f, IOMMU_IOAS_ALLOC, &big, sizeof(big),
					   UVFIO_IOCTL_TAIL_NONZERO), -E2BIG);
	assert_int_equal(itest_ioctl_flags(f, IOMMU_IOAS_ALLOC, &big, sizeof(big),
					   UVFIO_IOCTL_ARG_FAULT), -EFAULT);
	assert_int_equal(itest_ioctl(f, IOMMU_IOAS_ALLOC, &big, sizeof(big)), 0);
	assert_int_equal(big.a.out_ioas_id, 2);

	/* Shorter than the structure but past the minimum: zero-extended.
	 * IOMMU_OPTION's minimum is its end, IOVA_RANGES' too; HWPT_ALLOC's
	 * minimum stops before data_type. */
	{
		struct iommu_hwpt_alloc h = { .size = offsetofend(struct iommu_hwpt_alloc,
								  __reserved) - 1 };

		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &h, sizeof(h)), -EINVAL);
		h.size = offsetofend(struct iommu_hwpt_alloc, __reserved);
		h.data_len = 5;	/* beyond size: reads as 0 */
		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_ALLOC, &h, sizeof(h)), -ENOENT);
	}
	itest_close(f);
}

static void test_unknown_commands(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	(void)state;
	/* Past the last command, below the first, a wrong direction or size
	 * encoding: not ours. */
	assert_int_equal(itest_ioctl(f, _IO(IOMMUFD_TYPE, 0x95), &a, sizeof(a)), -ENOTTY);
	assert_int_equal(itest_ioctl(f, _IO(IOMMUFD_TYPE, 0xff), &a, sizeof(a)), -ENOTTY);
	assert_int_equal(itest_ioctl(f, _IO(IOMMUFD_TYPE, 0x7f), &a, sizeof(a)), -ENOTTY);
	assert_int_equal(itest_ioctl(f, _IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC,
					      struct iommu_ioas_alloc), &a, sizeof(a)),
			 -ENOTTY);
	assert_int_equal(itest_ioctl(f, _IO('x', IOMMUFD_CMD_IOAS_ALLOC), &a, sizeof(a)),
			 -ENOTTY);
	assert_int_equal(itest_ictx(f)->nr_objects, 0);
	itest_close(f);
}

/* ---- IOMMU_OPTION ---- */

static long option(struct vfio_file *f, uint32_t id, uint16_t op, uint32_t obj, uint64_t *val)
{
	struct iommu_option o = { .size = sizeof(o), .option_id = id, .op = op,
				  .object_id = obj, .val64 = *val };
	long ret = itest_ioctl(f, IOMMU_OPTION, &o, sizeof(o));

	*val = o.val64;
	return ret;
}

static void test_option(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommu_option o = { .size = sizeof(o), .__reserved = 1 };
	bool privileged;
	uint64_t v = 7;
	uint32_t ioas;

	(void)state;
	assert_int_equal(itest_ioctl(f, IOMMU_OPTION, &o, sizeof(o)), -EOPNOTSUPP);
	assert_int_equal(option(f, 9, IOMMU_OPTION_OP_GET, 0, &v), -EOPNOTSUPP);

	/* RLIMIT_MODE: global, per user by default. */
	assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 1, &v),
			 -EOPNOTSUPP);
	assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, 7, 0, &v), -EOPNOTSUPP);
	{
		struct vfio_uarg ua = { .ctx = &itest_ctx };

		privileged = iommufd_capable(&ua, CAP_SYS_RESOURCE);
	}
	v = 1;
	if (privileged) {
		v = 2;
		assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v),
				 -EINVAL);
		v = 1;
		assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v),
				 0);
		assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &v),
				 0);
		assert_int_equal(v, 1);
	} else {
		assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v),
				 -EPERM);
	}

	/* HUGE_PAGES: per IOAS. */
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, 0, &v), -ENOENT);
	ioas = itest_ioas_alloc(f);
	if (privileged) {
		/* Objects exist: the accounting mode is fixed now. */
		v = 0;
		assert_int_equal(option(f, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v),
				 -EBUSY);
	}
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &v), 0);
	assert_int_equal(v, 1);
	v = 0;
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), 0);
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &v), 0);
	assert_int_equal(v, 0);
	v = 2;
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v),
			 -EINVAL);
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, 3, ioas, &v), -EOPNOTSUPP);
	v = 1;
	assert_int_equal(option(f, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), 0);
	/* Only val64 is written back. */
	assert_int_equal(itest_wb_hi, sizeof(struct iommu_option));
	itest_close(f);
}

/* ---- IOMMU_VFIO_IOAS ---- */

static long vfio_ioas(struct vfio_file *f, uint16_t op, uint32_t *id)
{
	struct iommu_vfio_ioas v = { .size = sizeof(v), .op = op, .ioas_id = *id };
	long ret = itest_ioctl(f, IOMMU_VFIO_IOAS, &v, sizeof(v));

	*id = v.ioas_id;
	return ret;
}

static void test_vfio_ioas(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommufd_ctx *ictx = itest_ictx(f);
	struct iommu_vfio_ioas v = { .size = sizeof(v), .__reserved = 1 };
	uint32_t id = 0, a, got;

	(void)state;
	assert_int_equal(itest_ioctl(f, IOMMU_VFIO_IOAS, &v, sizeof(v)), -EOPNOTSUPP);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(ictx, &got), -ENODEV);
	assert_int_equal(vfio_ioas(f, 3, &id), -EOPNOTSUPP);
	id = 5;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), -ENOENT);

	a = itest_ioas_alloc(f);
	id = a;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	id = 0;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, a);
	/* An IOAS already set is what a group gets. */
	assert_int_equal(iommufd_vfio_compat_ioas_create(ictx), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(ictx, &got), 0);
	assert_int_equal(got, a);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_CLEAR, &id), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);

	/* Without one, a group makes one: a user-visible object. */
	assert_int_equal(iommufd_vfio_compat_ioas_create(ictx), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(ictx, &got), 0);
	assert_int_not_equal(got, a);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, got);
	/* Destroying it ends the compatibility. */
	assert_int_equal(itest_destroy(f, got), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	itest_close(f);
}

/* ---- features the software IOMMU lacks ---- */

static void test_unsupported(void **state)
{
	struct vfio_file *f = itest_open();
	uint32_t ioas = itest_ioas_alloc(f);

	(void)state;
	{
		struct iommu_fault_alloc c = { .size = sizeof(c) };

		assert_int_equal(itest_ioctl(f, IOMMU_FAULT_QUEUE_ALLOC, &c, sizeof(c)),
				 -EOPNOTSUPP);
	}
	{
		struct iommu_viommu_alloc c = { .size = sizeof(c), .type = 1, .flags = 1 };

		assert_int_equal(itest_ioctl(f, IOMMU_VIOMMU_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);
		c.flags = 0;
		c.type = IOMMU_VIOMMU_TYPE_DEFAULT;
		assert_int_equal(itest_ioctl(f, IOMMU_VIOMMU_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);
		c.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
		c.dev_id = ioas;	/* not a device */
		assert_int_equal(itest_ioctl(f, IOMMU_VIOMMU_ALLOC, &c, sizeof(c)), -ENOENT);
	}
	{
		struct iommu_vdevice_alloc c = { .size = sizeof(c), .viommu_id = ioas };

		assert_int_equal(itest_ioctl(f, IOMMU_VDEVICE_ALLOC, &c, sizeof(c)), -ENOENT);
	}
	{
		struct iommu_veventq_alloc c = { .size = sizeof(c), .type = 1, .__reserved = 1 };

		assert_int_equal(itest_ioctl(f, IOMMU_VEVENTQ_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);
		c.__reserved = 0;
		assert_int_equal(itest_ioctl(f, IOMMU_VEVENTQ_ALLOC, &c, sizeof(c)), -EINVAL);
		c.veventq_depth = 8;
		assert_int_equal(itest_ioctl(f, IOMMU_VEVENTQ_ALLOC, &c, sizeof(c)), -ENOENT);
	}
	{
		struct iommu_hw_queue_alloc c = { .size = sizeof(c), .type = 0 };

		assert_int_equal(itest_ioctl(f, IOMMU_HW_QUEUE_ALLOC, &c, sizeof(c)), -EOPNOTSUPP);
		c.type = 1;
		assert_int_equal(itest_ioctl(f, IOMMU_HW_QUEUE_ALLOC, &c, sizeof(c)), -EINVAL);
		c.length = 16;
		c.nesting_parent_iova = UINT64_MAX - 4;
		assert_int_equal(itest_ioctl(f, IOMMU_HW_QUEUE_ALLOC, &c, sizeof(c)), -EOVERFLOW);
		c.nesting_parent_iova = 0x1000;
		assert_int_equal(itest_ioctl(f, IOMMU_HW_QUEUE_ALLOC, &c, sizeof(c)), -ENOENT);
	}
	{
		struct iommu_hwpt_invalidate c = { .size = sizeof(c), .__reserved = 1,
						   .entry_num = 3 };

		/* The handled count comes back on every failure. */
		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_INVALIDATE, &c, sizeof(c)),
				 -EOPNOTSUPP);
		assert_int_equal(c.entry_num, 0);
		c.__reserved = 0;
		c.entry_num = 3;
		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_INVALIDATE, &c, sizeof(c)), -EINVAL);
		c.entry_num = 0;
		c.hwpt_id = 77;
		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_INVALIDATE, &c, sizeof(c)), -ENOENT);
		c.hwpt_id = ioas;
		assert_int_equal(itest_ioctl(f, IOMMU_HWPT_INVALIDATE, &c, sizeof(c)), -EINVAL);
	}
	{
		struct iommu_ioas_change_process c = { .size = sizeof(c), .__reserved = 1 };

		assert_int_equal(itest_ioctl(f, IOMMU_IOAS_CHANGE_PROCESS, &c, sizeof(c)),
				 -EOPNOTSUPP);
		c.__reserved = 0;
		assert_int_equal(itest_ioctl(f, IOMMU_IOAS_CHANGE_PROCESS, &c, sizeof(c)), 0);
	}
	itest_close(f);
}

/* ---- the file ---- */

static void test_file_ops(void **state)
{
	struct vfio_file *f = itest_open();
	struct vfio_mmap_req req = { .length = PG, .flags = UVFIO_MMAP_READ };
	uint64_t pos = 0;
	char buf[8];

	(void)state;
	assert_int_equal(f->ops->type, UVFIO_FILE_IOMMUFD);
	assert_int_equal(f->ops->read(f, buf, sizeof(buf), &pos), -EINVAL);
	assert_int_equal(f->ops->write(f, buf, sizeof(buf), &pos), -EINVAL);
	assert_int_equal(f->ops->mmap(f, &req), -EINVAL);
	req.flags |= UVFIO_MMAP_SHARED;
	req.length = 100;
	assert_int_equal(f->ops->mmap(f, &req), -EINVAL);
	req.length = PG;
	assert_int_equal(f->ops->mmap(f, &req), -ENXIO);
	assert_null(iommufd_ctx_from_file(NULL));
	itest_close(f);
}

/* The last close destroys everything, however objects reference each other;
 * a context reference (a VFIO user) keeps it alive past the close. */
static void test_release(void **state)
{
	struct vfio_file *f = itest_open();
	struct iommufd_ctx *ictx = itest_ictx(f);
	uint8_t *buf = itest_anon(4 * PG);
	uint32_t a = itest_ioas_alloc(f), b = itest_ioas_alloc(f);
	uint64_t iova = 0x10000;
	char line[256];

	(void)state;
	assert_int_equal(itest_map(f, a, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
				   buf, 4 * PG, &iova), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_create(ictx), 0);
	(void)b;
	iommufd_ctx_describe(ictx, line, sizeof(line));
	assert_non_null(strstr(line, "3 IOAS"));
	assert_non_null(strstr(line, "1 areas"));

	iommufd_ctx_get(ictx);
	itest_close(f);
	assert_int_equal(vfio_file_count(), 1);
	assert_int_equal(ictx->nr_objects, 3);
	iommufd_ctx_put(ictx);
	assert_int_equal(vfio_file_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfio_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
