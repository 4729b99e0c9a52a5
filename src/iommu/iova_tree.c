// SPDX-License-Identifier: MIT
#include <errno.h>

#include "iova_tree.h"

static int iova_cmp(const struct iova_node *a, const struct iova_node *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}

/* libbsd leaves __unused undefined (it clashes with Linux headers), so spell
 * out what RB_GENERATE_STATIC would. */
RB_GENERATE_INTERNAL(iova_rb, iova_node, rb, iova_cmp, __attribute__((__unused__)) static)

void iova_tree_init(struct iova_tree *t)
{
	RB_INIT(&t->root);
	t->count = 0;
}

int iova_tree_insert(struct iova_tree *t, struct iova_node *n)
{
	if (n->last < n->start)
		return -EINVAL;
	if (iova_tree_find(t, n->start, n->last))
		return -EEXIST;
	RB_INSERT(iova_rb, &t->root, n);
	t->count++;
	return 0;
}

void iova_tree_remove(struct iova_tree *t, struct iova_node *n)
{
	RB_REMOVE(iova_rb, &t->root, n);
	t->count--;
}

/*
 * Nodes never overlap, so ordering by start also orders by last.  Descend
 * towards the lowest node whose last reaches start; it overlaps the query
 * unless it begins after the query's end.
 */
struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t start, uint64_t last)
{
	struct iova_node *n = RB_ROOT(&t->root), *res = NULL;

	while (n) {
		if (start <= n->last) {
			res = n;
			if (start >= n->start)
				break;
			n = RB_LEFT(n, rb);
		} else {
			n = RB_RIGHT(n, rb);
		}
	}
	if (res && res->start > last)
		return NULL;
	return res;
}

struct iova_node *iova_tree_first(const struct iova_tree *t)
{
	return RB_MIN(iova_rb, (struct iova_rb *)&t->root);
}

struct iova_node *iova_tree_next(const struct iova_tree *t, struct iova_node *n)
{
	(void)t;
	return RB_NEXT(iova_rb, &t->root, n);
}
