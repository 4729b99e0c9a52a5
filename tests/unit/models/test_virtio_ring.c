// SPDX-License-Identifier: MIT
/* The split-virtqueue parser against good chains and against a driver that
 * breaks every rule it can: the parser must refuse, stay refused, and never
 * touch memory the "IOMMU" (the fake DMA) does not allow. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "models/virtio_ring.h"
#include "virtq_driver.h"

#define RING_BASE	MEM_BASE
#define BUF_BASE	(MEM_BASE + 0x40000)
#define NUM		8

static const struct virtq_dma_ops dma = { .read = mem_read, .write = mem_write };
static struct drv_ring d;
static struct virtq vq;
static struct virtq_chain chain;

static int setup(void **state)
{
	(void)state;
	memset(test_mem, 0, sizeof(test_mem));
	dma_faults = 0;
	drv_ring_init(&d, NUM, RING_BASE);
	assert_int_equal(virtq_init(&vq, NUM, RING_BASE, false, &dma, NULL), 0);
	return 0;
}

static uint64_t buf(unsigned int i)
{
	return BUF_BASE + 0x1000ULL * i;
}

/* A broken ring answers every later call with the same error. */
static void assert_broken(int err)
{
	uint8_t b[4];

	assert_int_equal(vq.error, err);
	assert_false(virtq_ready(&vq));
	assert_int_equal(virtq_pop(&vq, &chain), err);
	assert_int_equal(virtq_push(&vq, 0, 0), err);
	assert_int_equal(virtq_publish(&vq), err);
	assert_int_equal(virtq_chain_read(&vq, &chain, 0, b, 0), err);
	assert_false(virtq_want_interrupt(&vq));
}

static void test_init_rules(void **state)
{
	struct virtq v;

	(void)state;
	assert_int_equal(virtq_init(&v, 0, RING_BASE, false, &dma, NULL), -EINVAL);
	assert_int_equal(virtq_init(&v, 6, RING_BASE, false, &dma, NULL), -EINVAL);
	assert_int_equal(virtq_init(&v, VIRTQ_MAX_NUM, RING_BASE, false, &dma, NULL), 0);
	/* a ring that would wrap past the top of the address space */
	assert_int_equal(virtq_init(&v, 256, ~0ULL - 4095, false, &dma, NULL), -EINVAL);
	/* the legacy layout: avail after the table, used on the next page */
	assert_int_equal(virtq_init(&v, 256, 0x10000, false, &dma, NULL), 0);
	assert_int_equal(v.desc, 0x10000);
	assert_int_equal(v.avail, 0x11000);
	assert_int_equal(v.used, 0x12000);
	virtq_clear(&v);
	assert_false(virtq_ready(&v));
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(virtq_pop(&vq, &chain), 0);
	assert_int_equal(virtq_publish(&vq), 0);
	assert_int_equal(drv_used_idx(&d), 0);
	assert_true(virtq_ready(&vq));
}

/* Transmit: header and frame spread over three readable buffers. */
static void test_tx_gather(void **state)
{
	uint8_t out[162], want[162];

	(void)state;
	for (unsigned int i = 0; i < sizeof(want); i++)
		want[i] = i * 7;
	memcpy(gpa(buf(0)), want, 12);
	memcpy(gpa(buf(1)), want + 12, 100);
	memcpy(gpa(buf(2)), want + 112, 50);
	drv_desc(&d, 5, buf(0), 12, VRING_DESC_F_NEXT, 2);
	drv_desc(&d, 2, buf(1), 100, VRING_DESC_F_NEXT, 7);
	drv_desc(&d, 7, buf(2), 50, 0, 0);
	drv_avail(&d, 5);

	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.head, 5);
	assert_int_equal(chain.nr_out, 3);
	assert_int_equal(chain.nr_in, 0);
	assert_int_equal(chain.out_len, 162);
	assert_int_equal(chain.in_len, 0);
	assert_int_equal(virtq_chain_read(&vq, &chain, 0, out, 162), 0);
	assert_memory_equal(out, want, 162);
	/* from inside a segment, across the next */
	assert_int_equal(virtq_chain_read(&vq, &chain, 10, out, 110), 0);
	assert_memory_equal(out, want + 10, 110);
	/* past the end is the caller's error, not the driver's */
	assert_int_equal(virtq_chain_read(&vq, &chain, 100, out, 63), -EINVAL);
	assert_int_equal(vq.error, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 0);

	assert_int_equal(virtq_push(&vq, 5, 0), 0);
	/* not visible before the publish */
	assert_int_equal(drv_used_idx(&d), 0);
	assert_int_equal(virtq_publish(&vq), 1);
	assert_int_equal(drv_used_idx(&d), 1);
	/* nothing new: nothing to publish */
	assert_int_equal(virtq_publish(&vq), 0);
	assert_int_equal(drv_used(&d, 0).id, 5);
	assert_int_equal(drv_used(&d, 0).len, 0);
	assert_int_equal(dma_faults, 0);
}

/* Receive with merged buffers: a frame over two single-buffer chains, as
 * the device fills them (header first, then data, lengths in the used ring). */
static void test_rx_mergeable(void **state)
{
	uint8_t frame[3000];

	(void)state;
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = i ^ 0x5a;
	for (uint16_t i = 0; i < 4; i++) {
		drv_desc(&d, i, buf(i), 2048, VRING_DESC_F_WRITE, 0);
		drv_avail(&d, i);
	}
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.nr_out, 0);
	assert_int_equal(chain.nr_in, 1);
	assert_int_equal(chain.in_len, 2048);
	assert_int_equal(virtq_chain_write(&vq, &chain, 12, frame, 2036), 0);
	assert_int_equal(virtq_push(&vq, chain.head, 2048), 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.head, 1);
	assert_int_equal(virtq_chain_write(&vq, &chain, 0, frame + 2036, 964), 0);
	assert_int_equal(virtq_push(&vq, chain.head, 964), 0);
	/* writing beyond the buffer is refused */
	assert_int_equal(virtq_chain_write(&vq, &chain, 2000, frame, 49), -EINVAL);
	assert_int_equal(virtq_publish(&vq), 1);

	assert_int_equal(drv_used_idx(&d), 2);
	assert_int_equal(drv_used(&d, 0).id, 0);
	assert_int_equal(drv_used(&d, 0).len, 2048);
	assert_int_equal(drv_used(&d, 1).id, 1);
	assert_int_equal(drv_used(&d, 1).len, 964);
	assert_memory_equal(gpa(buf(0) + 12), frame, 2036);
	assert_memory_equal(gpa(buf(1)), frame + 2036, 964);
	assert_int_equal(dma_faults, 0);
}

/* A chain with both parts: readable first, then writable. */
static void test_mixed_chain(void **state)
{
	uint8_t in[8] = "request", out[5] = "done";

	(void)state;
	memcpy(gpa(buf(0)), in, 8);
	drv_desc(&d, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 3, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	drv_desc(&d, 2, buf(2), 3, VRING_DESC_F_WRITE, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.nr_out, 1);
	assert_int_equal(chain.nr_in, 2);
	assert_int_equal(chain.in_len, 6);
	assert_int_equal(virtq_chain_write(&vq, &chain, 0, out, 5), 0);
	assert_memory_equal(gpa(buf(1)), "don", 3);
	assert_memory_equal(gpa(buf(2)), "e", 2);
}

static void test_unpop_unpush(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 3; i++) {
		drv_desc(&d, i, buf(i), 100, VRING_DESC_F_WRITE, 0);
		drv_avail(&d, i);
	}
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_push(&vq, chain.head, 1), 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_push(&vq, chain.head, 2), 0);
	virtq_unpush(&vq, 2);
	virtq_unpop(&vq, 2);
	assert_int_equal(virtq_publish(&vq), 0);
	assert_int_equal(drv_used_idx(&d), 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.head, 0);
	assert_int_equal(virtq_push(&vq, chain.head, 9), 0);
	assert_int_equal(virtq_publish(&vq), 1);
	assert_int_equal(drv_used_idx(&d), 1);
	assert_int_equal(drv_used(&d, 0).len, 9);
}

/* Indices wrap at 2^16 and the ring at num. */
static void test_index_wrap(void **state)
{
	(void)state;
	vq.last_avail = vq.avail_idx = 0xfffe;
	vq.used_idx = vq.used_published = 0xfffe;
	drv_set_avail_idx(&d, 0xfffe);
	for (uint16_t i = 0; i < 4; i++) {
		drv_desc(&d, i, buf(i), 64, 0, 0);
		drv_avail(&d, i);
	}
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&vq, &chain), 1);
		assert_int_equal(chain.head, i);
		assert_int_equal(virtq_push(&vq, chain.head, 0), 0);
	}
	assert_int_equal(virtq_pop(&vq, &chain), 0);
	assert_int_equal(virtq_publish(&vq), 1);
	assert_int_equal(drv_used_idx(&d), 2);
}

static void test_interrupt_suppression(void **state)
{
	(void)state;
	assert_true(virtq_want_interrupt(&vq));
	drv_avail_flags(&d, VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_want_interrupt(&vq));
	drv_avail_flags(&d, 0);
	assert_true(virtq_want_interrupt(&vq));
}

/* ---- malformed ---- */

static void test_loop(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 10, VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 10, VRING_DESC_F_NEXT, 2);
	drv_desc(&d, 2, buf(2), 10, VRING_DESC_F_NEXT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -ELOOP);
	assert_broken(-ELOOP);
}

static void test_self_loop(void **state)
{
	(void)state;
	drv_desc(&d, 3, buf(0), 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	drv_avail(&d, 3);
	assert_int_equal(virtq_pop(&vq, &chain), -ELOOP);
	assert_broken(-ELOOP);
}

/* All num descriptors in one chain is legal; it is the most there can be. */
static void test_longest_chain(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < NUM; i++)
		drv_desc(&d, i, buf(i), 1, i + 1 < NUM ? VRING_DESC_F_NEXT : 0, i + 1);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.nr_out, NUM);
	assert_int_equal(chain.out_len, NUM);
}

/* A big ring allows chains up to VIRTQ_CHAIN_MAX, no longer. */
static void test_chain_cap(void **state)
{
	const uint16_t num = 512;

	(void)state;
	drv_ring_init(&d, num, RING_BASE);
	assert_int_equal(virtq_init(&vq, num, RING_BASE, false, &dma, NULL), 0);
	for (uint16_t i = 0; i <= VIRTQ_CHAIN_MAX; i++)
		drv_desc(&d, i, buf(0), 1, i < VIRTQ_CHAIN_MAX ? VRING_DESC_F_NEXT : 0, i + 1);
	drv_avail(&d, 1);		/* VIRTQ_CHAIN_MAX descriptors: fine */
	drv_avail(&d, 0);		/* one more: refused */
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.nr_out, VIRTQ_CHAIN_MAX);
	assert_int_equal(virtq_pop(&vq, &chain), -ELOOP);
	assert_broken(-ELOOP);
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 10, VRING_DESC_F_NEXT, NUM);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -ERANGE);
	assert_broken(-ERANGE);
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	drv_avail(&d, 0xffff);
	assert_int_equal(virtq_pop(&vq, &chain), -ERANGE);
	assert_broken(-ERANGE);
}

static void test_avail_idx_jump(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < NUM; i++)
		drv_desc(&d, i, buf(i), 1, 0, 0);
	/* exactly a full ring is fine */
	drv_set_avail_idx(&d, NUM);
	for (int i = 0; i < NUM; i++)
		assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_pop(&vq, &chain), 0);
	/* more than the ring holds beyond what the device took */
	drv_set_avail_idx(&d, 2 * NUM + 1);
	assert_int_equal(virtq_pop(&vq, &chain), -EPROTO);
	assert_broken(-EPROTO);
}

static void test_avail_idx_backwards(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 1, 0, 0);
	drv_avail(&d, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	drv_set_avail_idx(&d, 1);
	assert_int_equal(virtq_pop(&vq, &chain), -EPROTO);
}

static void test_len_sum_overflow(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 0x80000000u, VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 0x80000000u, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EOVERFLOW);
	assert_broken(-EOVERFLOW);
}

static void test_writable_len_sum_overflow(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 0xffffffffu, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 1, VRING_DESC_F_WRITE, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EOVERFLOW);
}

static void test_address_wrap(void **state)
{
	(void)state;
	drv_desc(&d, 0, ~0ULL - 15, 32, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EOVERFLOW);
	assert_broken(-EOVERFLOW);
}

/* Buffers the IOMMU does not map: nothing moves, the ring breaks. */
static void test_unmapped_buffer(void **state)
{
	uint8_t b[64];

	(void)state;
	drv_desc(&d, 0, MEM_BASE + MEM_SIZE - 32, 64, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(virtq_chain_read(&vq, &chain, 0, b, 64), -EFAULT);
	assert_int_equal(dma_faults, 1);
	assert_broken(-EFAULT);
}

static void test_unmapped_write(void **state)
{
	uint8_t b[16] = { 1 };

	(void)state;
	drv_desc(&d, 0, 0x1000, 16, VRING_DESC_F_WRITE, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_chain_write(&vq, &chain, 0, b, 16), -EFAULT);
	assert_broken(-EFAULT);
}

/* The rings themselves outside the mapping. */
static void test_unmapped_ring(void **state)
{
	(void)state;
	assert_int_equal(virtq_init(&vq, NUM, 0x2000, false, &dma, NULL), 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EFAULT);
	assert_broken(-EFAULT);
}

/* Used ring beyond the mapping while the avail side is inside. */
static void test_unmapped_used_ring(void **state)
{
	uint64_t base = MEM_BASE + MEM_SIZE - 0x1000;

	(void)state;
	drv_ring_init(&d, 4, base - 0x1000);
	d.desc = base;
	d.avail = base + 64;
	assert_int_equal(virtq_init(&vq, 4, base, false, &dma, NULL), 0);
	drv_desc(&d, 0, buf(0), 4, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(virtq_push(&vq, 0, 0), -EFAULT);
	assert_broken(-EFAULT);
}

static void test_readable_after_writable(void **state)
{
	(void)state;
	drv_desc(&d, 0, buf(0), 10, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 10, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
	assert_broken(-EINVAL);
}

/* ---- indirect tables ---- */

static void put_table_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
			   uint16_t flags, uint16_t next)
{
	struct vring_desc v = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gpa(table + 16ULL * i), &v, sizeof(v));
}

static void use_indirect(void)
{
	assert_int_equal(virtq_init(&vq, NUM, RING_BASE, true, &dma, NULL), 0);
}

static void test_indirect(void **state)
{
	uint64_t t = buf(10);
	uint8_t out[20];

	(void)state;
	use_indirect();
	memcpy(gpa(buf(0)), "0123456789", 10);
	memcpy(gpa(buf(1)), "abcdefghij", 10);
	put_table_desc(t, 0, buf(0), 10, VRING_DESC_F_NEXT, 2);
	put_table_desc(t, 2, buf(1), 10, VRING_DESC_F_NEXT, 1);
	put_table_desc(t, 1, buf(2), 100, VRING_DESC_F_WRITE, 0);
	drv_desc(&d, 4, t, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 4);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
	assert_int_equal(chain.head, 4);
	assert_int_equal(chain.nr_out, 2);
	assert_int_equal(chain.nr_in, 1);
	assert_int_equal(chain.out_len, 20);
	assert_int_equal(chain.in_len, 100);
	assert_int_equal(virtq_chain_read(&vq, &chain, 0, out, 20), 0);
	assert_memory_equal(out, "0123456789abcdefghij", 20);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	put_table_desc(buf(10), 0, buf(0), 10, 0, 0);
	drv_desc(&d, 0, buf(10), 16, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
	assert_broken(-EINVAL);
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	use_indirect();
	put_table_desc(buf(10), 0, buf(0), 10, 0, 0);
	drv_desc(&d, 0, buf(10), 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(1), 10, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
}

/* Only the head may name a table. */
static void test_indirect_not_head(void **state)
{
	(void)state;
	use_indirect();
	put_table_desc(buf(10), 0, buf(0), 10, 0, 0);
	drv_desc(&d, 0, buf(1), 10, VRING_DESC_F_NEXT, 1);
	drv_desc(&d, 1, buf(10), 16, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
}

static void test_indirect_nested(void **state)
{
	(void)state;
	use_indirect();
	put_table_desc(buf(10), 0, buf(11), 16, VRING_DESC_F_INDIRECT, 0);
	put_table_desc(buf(11), 0, buf(0), 10, 0, 0);
	drv_desc(&d, 0, buf(10), 16, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	use_indirect();
	drv_desc(&d, 0, buf(10), 24, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
	use_indirect();
	drv_desc(&d, 0, buf(10), 0, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EINVAL);
}

static void test_indirect_too_big(void **state)
{
	(void)state;
	use_indirect();
	drv_desc(&d, 0, buf(10), 16 * (VIRTQ_CHAIN_MAX + 1), VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -ELOOP);
	/* a table that wraps the address space */
	use_indirect();
	drv_desc(&d, 0, ~0ULL - 15, 32, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EOVERFLOW);
}

static void test_indirect_loop(void **state)
{
	(void)state;
	use_indirect();
	put_table_desc(buf(10), 0, buf(0), 10, VRING_DESC_F_NEXT, 1);
	put_table_desc(buf(10), 1, buf(0), 10, VRING_DESC_F_NEXT, 0);
	drv_desc(&d, 0, buf(10), 32, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -ELOOP);
}

static void test_indirect_next_out_of_table(void **state)
{
	(void)state;
	use_indirect();
	/* index 2 is inside the ring's table but outside this 2-entry table */
	put_table_desc(buf(10), 0, buf(0), 10, VRING_DESC_F_NEXT, 2);
	drv_desc(&d, 0, buf(10), 32, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -ERANGE);
}

static void test_indirect_unmapped_table(void **state)
{
	(void)state;
	use_indirect();
	drv_desc(&d, 0, 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), -EFAULT);
}

/* A reset (init again) heals a broken ring. */
static void test_reinit_heals(void **state)
{
	(void)state;
	drv_avail(&d, NUM);
	assert_int_equal(virtq_pop(&vq, &chain), -ERANGE);
	drv_ring_init(&d, NUM, RING_BASE);
	assert_int_equal(virtq_init(&vq, NUM, RING_BASE, false, &dma, NULL), 0);
	assert_int_equal(virtq_pop(&vq, &chain), 0);
	drv_desc(&d, 0, buf(0), 1, 0, 0);
	drv_avail(&d, 0);
	assert_int_equal(virtq_pop(&vq, &chain), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rules),
		cmocka_unit_test_setup(test_empty, setup),
		cmocka_unit_test_setup(test_tx_gather, setup),
		cmocka_unit_test_setup(test_rx_mergeable, setup),
		cmocka_unit_test_setup(test_mixed_chain, setup),
		cmocka_unit_test_setup(test_unpop_unpush, setup),
		cmocka_unit_test_setup(test_index_wrap, setup),
		cmocka_unit_test_setup(test_interrupt_suppression, setup),
		cmocka_unit_test_setup(test_loop, setup),
		cmocka_unit_test_setup(test_self_loop, setup),
		cmocka_unit_test_setup(test_longest_chain, setup),
		cmocka_unit_test_setup(test_chain_cap, setup),
		cmocka_unit_test_setup(test_next_out_of_range, setup),
		cmocka_unit_test_setup(test_head_out_of_range, setup),
		cmocka_unit_test_setup(test_avail_idx_jump, setup),
		cmocka_unit_test_setup(test_avail_idx_backwards, setup),
		cmocka_unit_test_setup(test_len_sum_overflow, setup),
		cmocka_unit_test_setup(test_writable_len_sum_overflow, setup),
		cmocka_unit_test_setup(test_address_wrap, setup),
		cmocka_unit_test_setup(test_unmapped_buffer, setup),
		cmocka_unit_test_setup(test_unmapped_write, setup),
		cmocka_unit_test_setup(test_unmapped_ring, setup),
		cmocka_unit_test_setup(test_unmapped_used_ring, setup),
		cmocka_unit_test_setup(test_readable_after_writable, setup),
		cmocka_unit_test_setup(test_indirect, setup),
		cmocka_unit_test_setup(test_indirect_not_negotiated, setup),
		cmocka_unit_test_setup(test_indirect_with_next, setup),
		cmocka_unit_test_setup(test_indirect_not_head, setup),
		cmocka_unit_test_setup(test_indirect_nested, setup),
		cmocka_unit_test_setup(test_indirect_bad_len, setup),
		cmocka_unit_test_setup(test_indirect_too_big, setup),
		cmocka_unit_test_setup(test_indirect_loop, setup),
		cmocka_unit_test_setup(test_indirect_next_out_of_table, setup),
		cmocka_unit_test_setup(test_indirect_unmapped_table, setup),
		cmocka_unit_test_setup(test_reinit_heals, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
