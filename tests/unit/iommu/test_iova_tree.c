// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "iommu/iova_tree.h"

static struct iova_node *node(uint64_t start, uint64_t last)
{
	struct iova_node *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	n->start = start;
	n->last = last;
	return n;
}

static void free_all(struct iova_tree *t)
{
	struct iova_node *n, *tmp;

	iova_tree_foreach_safe(n, tmp, t) {
		iova_tree_remove(t, n);
		free(n);
	}
	assert_int_equal(t->count, 0);
	assert_null(iova_tree_first(t));
}

static void test_insert_overlap(void **state)
{
	struct iova_tree t;
	struct iova_node *a = node(0x1000, 0x1fff), *b = node(0x3000, 0x4fff);
	struct iova_node *bad[] = {
		node(0x1000, 0x1fff), node(0x0, 0x1000), node(0x1fff, 0x2fff),
		node(0x1800, 0x1900), node(0x0, 0xffff), node(0x2000, 0x3000),
		node(0x4fff, 0x5000),
	};

	(void)state;
	iova_tree_init(&t);
	assert_int_equal(iova_tree_insert(&t, a), 0);
	assert_int_equal(iova_tree_insert(&t, b), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(iova_tree_insert(&t, bad[i]), -EEXIST);
		free(bad[i]);
	}
	/* neighbours touching either end are fine */
	assert_int_equal(iova_tree_insert(&t, node(0x2000, 0x2fff)), 0);
	assert_int_equal(iova_tree_insert(&t, node(0x0, 0xfff)), 0);
	assert_int_equal(iova_tree_insert(&t, node(0x5000, 0x5000)), 0);
	assert_int_equal(t.count, 5);

	struct iova_node *bogus = node(10, 9);

	assert_int_equal(iova_tree_insert(&t, bogus), -EINVAL);
	free(bogus);
	free_all(&t);
}

static void test_find(void **state)
{
	struct iova_tree t;
	struct iova_node *a = node(0x1000, 0x1fff), *b = node(0x3000, 0x4fff);
	struct iova_node *top = node(UINT64_MAX - 0xfff, UINT64_MAX);

	(void)state;
	iova_tree_init(&t);
	assert_null(iova_tree_find(&t, 0, UINT64_MAX));
	assert_int_equal(iova_tree_insert(&t, b), 0);
	assert_int_equal(iova_tree_insert(&t, a), 0);
	assert_int_equal(iova_tree_insert(&t, top), 0);

	assert_ptr_equal(iova_tree_find(&t, 0, UINT64_MAX), a);
	assert_ptr_equal(iova_tree_find(&t, 0x1fff, 0x1fff), a);
	assert_ptr_equal(iova_tree_find(&t, 0x1800, 0x3000), a);
	assert_null(iova_tree_find(&t, 0x2000, 0x2fff));
	assert_ptr_equal(iova_tree_find(&t, 0x2000, 0x3000), b);
	assert_ptr_equal(iova_tree_find(&t, 0x4fff, 0x10000), b);
	assert_null(iova_tree_find(&t, 0x5000, UINT64_MAX - 0x1000));
	assert_ptr_equal(iova_tree_find(&t, UINT64_MAX, UINT64_MAX), top);
	assert_null(iova_tree_find(&t, 0, 0xfff));

	assert_ptr_equal(iova_tree_first(&t), a);
	assert_ptr_equal(iova_tree_next(&t, a), b);
	assert_ptr_equal(iova_tree_next(&t, b), top);
	assert_null(iova_tree_next(&t, top));

	iova_tree_remove(&t, b);
	free(b);
	assert_ptr_equal(iova_tree_find(&t, 0x2000, 0x10000), NULL);
	assert_ptr_equal(iova_tree_next(&t, a), top);
	free_all(&t);
}

/* Many random ranges against a brute-force model. */
static void test_many(void **state)
{
	enum { SLOTS = 4096 };
	static struct iova_node *slot[SLOTS];
	struct iova_tree t;
	unsigned int seed = 12345;
	size_t live = 0;

	(void)state;
	iova_tree_init(&t);
	/* slot i owns [i*16, i*16+15]; a node takes a prefix of its slot */
	for (int round = 0; round < 40000; round++) {
		unsigned int i = (unsigned int)rand_r(&seed) % SLOTS;

		if (slot[i]) {
			iova_tree_remove(&t, slot[i]);
			free(slot[i]);
			slot[i] = NULL;
			live--;
		} else {
			slot[i] = node(i * 16ULL, i * 16ULL + (unsigned int)rand_r(&seed) % 16);
			assert_int_equal(iova_tree_insert(&t, slot[i]), 0);
			live++;
		}
		assert_int_equal(t.count, live);
	}
	for (int q = 0; q < 20000; q++) {
		uint64_t a = (uint64_t)((unsigned int)rand_r(&seed) % (SLOTS * 16));
		uint64_t b = a + (unsigned int)rand_r(&seed) % 200;
		struct iova_node *want = NULL;

		for (unsigned int i = 0; i < SLOTS && !want; i++) {
			if (slot[i] && slot[i]->last >= a && slot[i]->start <= b)
				want = slot[i];
		}
		assert_ptr_equal(iova_tree_find(&t, a, b), want);
	}
	/* iteration is in order and sees every node */
	uint64_t prev_last = 0;
	size_t seen = 0;
	struct iova_node *n, *tmp;

	iova_tree_foreach_safe(n, tmp, &t) {
		if (seen)
			assert_true(n->start > prev_last);
		prev_last = n->last;
		seen++;
	}
	assert_int_equal(seen, live);
	free_all(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_overlap),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
