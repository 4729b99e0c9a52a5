/* SPDX-License-Identifier: MIT */
/*
 * An ordered set of non-overlapping, inclusive IOVA ranges [start, last].
 * Users embed struct iova_node in their own object (type1 DMA mappings,
 * iommufd areas) and get back to it with container_of().  Inclusive ends let
 * a range reach 2^64 - 1 without overflow.  All lookups are O(log n).
 */
#ifndef UVFIO_IOMMU_IOVA_TREE_H
#define UVFIO_IOMMU_IOVA_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/tree.h>

#include "util/container_of.h"

struct iova_node {
	RB_ENTRY(iova_node) rb;
	uint64_t start;
	uint64_t last;		/* inclusive */
};

RB_HEAD(iova_rb, iova_node);

struct iova_tree {
	struct iova_rb root;
	size_t count;
};

void iova_tree_init(struct iova_tree *t);
/* Links n (start/last set by the caller); -EEXIST if it overlaps a node, or
 * -EINVAL if last < start. */
int iova_tree_insert(struct iova_tree *t, struct iova_node *n);
void iova_tree_remove(struct iova_tree *t, struct iova_node *n);
/* The lowest node overlapping [start, last], or NULL. */
struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t start, uint64_t last);
struct iova_node *iova_tree_first(const struct iova_tree *t);
struct iova_node *iova_tree_next(const struct iova_tree *t, struct iova_node *n);

/* Visits nodes in IOVA order; n may be removed inside the loop body. */
#define iova_tree_foreach_safe(n, tmp, t)				\
	for ((n) = iova_tree_first(t);					\
	     (n) && ((tmp) = iova_tree_next((t), (n)), 1);		\
	     (n) = (tmp))

#endif
