// SPDX-License-Identifier: MIT
/*
 * Info capability chains: appended in order, 8-byte aligned, linked by
 * offsets that vfio_info_cap_shift() rebases to where the chain lands in the
 * user's buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "core/vfio.h"

static struct vfio_info_cap_header *hdr_at(struct vfio_info_cap *caps, size_t off)
{
	assert_true(off + sizeof(struct vfio_info_cap_header) <= caps->size);
	return (struct vfio_info_cap_header *)(caps->buf + off);
}

static void test_empty_chain(void **state)
{
	struct vfio_info_cap caps = { 0 };

	(void)state;
	/* Shifting nothing is harmless. */
	vfio_info_cap_shift(&caps, 64);
	assert_null(caps.buf);
	assert_int_equal(caps.size, 0);
}

static void test_single_cap(void **state)
{
	struct vfio_info_cap caps = { 0 };
	struct vfio_region_info_cap_type *t;

	(void)state;
	t = vfio_info_cap_add(&caps, sizeof(*t), VFIO_REGION_INFO_CAP_TYPE, 1);
	assert_non_null(t);
	assert_ptr_equal(t, caps.buf);
	assert_int_equal(caps.size, sizeof(*t));
	assert_int_equal(t->header.id, VFIO_REGION_INFO_CAP_TYPE);
	assert_int_equal(t->header.version, 1);
	assert_int_equal(t->header.next, 0);
	assert_int_equal(t->type, 0);
	assert_int_equal(t->subtype, 0);
	/* The only capability ends the chain: shifting leaves next at 0. */
	vfio_info_cap_shift(&caps, 40);
	assert_int_equal(t->header.next, 0);
	free(caps.buf);
}

static void test_chain_order_alignment_shift(void **state)
{
	struct vfio_info_cap caps = { 0 };
	struct vfio_info_cap_header *h;
	uint8_t *body;
	const size_t shift = 104;	/* e.g. sizeof(struct vfio_region_info) rounded */

	(void)state;
	/* 12 bytes: padded to 16 so the next capability stays aligned. */
	body = vfio_info_cap_add(&caps, 12, 1, 1);
	assert_non_null(body);
	memset(body + sizeof(*h), 0xaa, 12 - sizeof(*h));
	assert_int_equal(caps.size, 16);
	assert_non_null(vfio_info_cap_add(&caps, 24, 2, 3));
	assert_int_equal(caps.size, 40);
	assert_non_null(vfio_info_cap_add(&caps, 8, 3, 0));
	assert_int_equal(caps.size, 48);
	assert_int_equal(caps.size % 8, 0);

	/* Appended in call order, offsets relative to the chain start. */
	h = hdr_at(&caps, 0);
	assert_int_equal(h->id, 1);
	assert_int_equal(h->next, 16);
	/* Earlier contents survived the reallocations; padding is zero. */
	for (size_t i = sizeof(*h); i < 12; i++)
		assert_int_equal(caps.buf[i], 0xaa);
	for (size_t i = 12; i < 16; i++)
		assert_int_equal(caps.buf[i], 0);
	h = hdr_at(&caps, 16);
	assert_int_equal(h->id, 2);
	assert_int_equal(h->version, 3);
	assert_int_equal(h->next, 40);
	for (size_t i = 16 + sizeof(*h); i < 40; i++)
		assert_int_equal(caps.buf[i], 0);
	h = hdr_at(&caps, 40);
	assert_int_equal(h->id, 3);
	assert_int_equal(h->version, 0);
	assert_int_equal(h->next, 0);

	/* Rebased to where the chain lands after the info structure. */
	vfio_info_cap_shift(&caps, shift);
	assert_int_equal(hdr_at(&caps, 0)->next, 16 + shift);
	assert_int_equal(hdr_at(&caps, 16)->next, 40 + shift);
	assert_int_equal(hdr_at(&caps, 40)->next, 0);
	assert_int_equal(hdr_at(&caps, 0)->id, 1);
	assert_int_equal(hdr_at(&caps, 16)->id, 2);

	/* Walking the shifted chain as user space does visits all three. */
	{
		uint8_t *user = calloc(1, shift + caps.size);
		unsigned int n = 0;
		uint32_t off = (uint32_t)shift;

		assert_non_null(user);
		memcpy(user + shift, caps.buf, caps.size);
		while (off) {
			h = (struct vfio_info_cap_header *)(user + off);
			assert_int_equal(h->id, ++n);
			off = h->next;
		}
		assert_int_equal(n, 3);
		free(user);
	}
	free(caps.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_chain),
		cmocka_unit_test(test_single_cap),
		cmocka_unit_test(test_chain_order_alignment_shift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
