// SPDX-License-Identifier: MIT
/*
 * The ioctl payload codec: what the shim encodes the daemon decodes
 * unchanged, and the decoder refuses (-EPROTO) anything it could misread.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "transport/ioctl_codec.h"
#include "transport/wire.h"

struct enc {
	uint8_t *buf;
	size_t len;
};

#define HDR	24	/* sizeof(struct uvfio_ioctl_hdr) */

static struct enc encode_files(uint32_t flags, const struct uvfio_ioctl_fd *fds, uint32_t nfds,
			       const struct uvfio_ioctl_file *files, uint32_t nfiles,
			       const struct uvfio_mem_seg *segs, uint32_t nsegs,
			       const void *arg, uint32_t arg_len)
{
	struct enc e;

	e.len = uvfio_ioctl_encoded_size(nfds, nfiles, nsegs, arg_len);
	e.buf = malloc(e.len);
	assert_non_null(e.buf);
	uvfio_ioctl_encode(e.buf, flags, fds, nfds, files, nfiles, segs, nsegs, arg, arg_len);
	return e;
}

static struct enc encode(uint32_t flags, const struct uvfio_ioctl_fd *fds, uint32_t nfds,
			 const struct uvfio_mem_seg *segs, uint32_t nsegs,
			 const void *arg, uint32_t arg_len)
{
	return encode_files(flags, fds, nfds, NULL, 0, segs, nsegs, arg, arg_len);
}

/* Rewrites the header of an encoded buffer. */
static void set_hdr(struct enc *e, uint32_t nfds, uint32_t nsegs, uint32_t arg_len)
{
	struct uvfio_ioctl_hdr h;

	memcpy(&h, e->buf, sizeof(h));
	h.nfds = nfds;
	h.nsegs = nsegs;
	h.arg_len = arg_len;
	memcpy(e->buf, &h, sizeof(h));
}

static void test_encoded_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct uvfio_ioctl_hdr), HDR);
	assert_int_equal(sizeof(struct uvfio_ioctl_fd), 8);
	assert_int_equal(sizeof(struct uvfio_ioctl_file), 24);
	assert_int_equal(sizeof(struct uvfio_mem_seg), 32);
	assert_int_equal(uvfio_ioctl_encoded_size(0, 0, 0, 0), HDR);
	assert_int_equal(uvfio_ioctl_encoded_size(2, 0, 3, 5), HDR + 16 + 96 + 5);
	assert_int_equal(uvfio_ioctl_encoded_size(1, 2, 1, 0), HDR + 8 + 48 + 32);
	/* Counts are widened before multiplying. */
	assert_int_equal(uvfio_ioctl_encoded_size(0, 0, UINT32_MAX, UINT32_MAX),
			 HDR + (size_t)UINT32_MAX * 32 + UINT32_MAX);
}

static void test_round_trip(void **state)
{
	const struct uvfio_ioctl_fd fds[2] = {
		{ .user_fd = 7, .attached = 1 }, { .user_fd = 99, .attached = -1 },
	};
	const struct uvfio_mem_seg segs[2] = {
		{ .vaddr = 0x7f0000000000, .len = 0x2000, .file_offset = 0x1000, .attached = 0,
		  .flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_SHARED },
		{ .vaddr = 0x7f0000002000, .len = 0x1000, .attached = -1,
		  .flags = UVFIO_SEG_HOLE },
	};
	const uint8_t arg[11] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	struct uvfio_ioctl_msg m;
	struct enc e;

	(void)state;
	e = encode(UVFIO_IOCTL_ARG_FAULT, fds, 2, segs, 2, arg, sizeof(arg));
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 2, &m), 0);
	assert_int_equal(m.flags, UVFIO_IOCTL_ARG_FAULT);
	assert_int_equal(m.nfds, 2);
	assert_int_equal(m.nsegs, 2);
	assert_int_equal(m.arg_len, sizeof(arg));
	/* The decoded view points into the received buffer, in layout order. */
	assert_ptr_equal(m.fds, e.buf + HDR);
	assert_ptr_equal(m.segs, e.buf + HDR + 16);
	assert_ptr_equal(m.arg, e.buf + HDR + 16 + 64);
	assert_memory_equal(m.fds, fds, sizeof(fds));
	assert_memory_equal(m.segs, segs, sizeof(segs));
	assert_memory_equal(m.arg, arg, sizeof(arg));
	free(e.buf);

	/* Nothing but a header. */
	e = encode(0, NULL, 0, NULL, 0, NULL, 0);
	assert_int_equal(e.len, HDR);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), 0);
	assert_int_equal(m.nfds + m.nsegs + m.arg_len, 0);
	assert_int_equal(m.flags, 0);
	free(e.buf);

	/* Only an argument; descriptors that arrived unnamed are fine. */
	e = encode(UVFIO_IOCTL_TAIL_NONZERO, NULL, 0, NULL, 0, arg, 3);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 5, &m), 0);
	assert_int_equal(m.flags, UVFIO_IOCTL_TAIL_NONZERO);
	assert_memory_equal(m.arg, arg, 3);
	free(e.buf);
}

static void test_reject_sizes(void **state)
{
	const uint8_t arg[8] = { 0 };
	struct uvfio_ioctl_msg m;
	struct enc e;
	uint8_t *big;

	(void)state;
	e = encode(0, NULL, 0, NULL, 0, arg, sizeof(arg));
	/* Shorter than a header. */
	assert_int_equal(uvfio_ioctl_decode(e.buf, 0, 0, &m), -EPROTO);
	assert_int_equal(uvfio_ioctl_decode(e.buf, HDR - 1, 0, &m), -EPROTO);
	/* The header and the length disagree, either way. */
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len - 1, 0, &m), -EPROTO);
	assert_int_equal(uvfio_ioctl_decode(e.buf, HDR, 0, &m), -EPROTO);
	set_hdr(&e, 0, 0, 7);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	/* Counts that claim the argument's bytes as descriptors or segments. */
	set_hdr(&e, 1, 0, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 1, &m), 0);
	set_hdr(&e, 0, 1, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	free(e.buf);

	/* A payload of exactly the sizes the limits allow, then beyond. */
	big = calloc(1, uvfio_ioctl_encoded_size(UVFIO_MAX_FDS + 1, 0, 0, UVFIO_MAX_PAYLOAD + 1));
	assert_non_null(big);
	e.buf = big;
	set_hdr(&e, UVFIO_MAX_FDS, 0, UVFIO_MAX_PAYLOAD);
	for (unsigned int i = 0; i < UVFIO_MAX_FDS; i++) {
		struct uvfio_ioctl_fd f = { .user_fd = (int32_t)i, .attached = -1 };

		memcpy(big + HDR + i * sizeof(f), &f, sizeof(f));
	}
	assert_int_equal(uvfio_ioctl_decode(big, uvfio_ioctl_encoded_size(UVFIO_MAX_FDS, 0, 0,
									 UVFIO_MAX_PAYLOAD),
					    0, &m), 0);
	/* Too many descriptors, even with a consistent length. */
	set_hdr(&e, UVFIO_MAX_FDS + 1, 0, 0);
	memset(big + HDR + UVFIO_MAX_FDS * 8, 0xff, 8);	/* attached = -1 */
	assert_int_equal(uvfio_ioctl_decode(big, uvfio_ioctl_encoded_size(UVFIO_MAX_FDS + 1, 0,
									 0, 0),
					    0, &m), -EPROTO);
	/* An argument larger than one message may carry. */
	set_hdr(&e, 0, 0, UVFIO_MAX_PAYLOAD + 1);
	assert_int_equal(uvfio_ioctl_decode(big, uvfio_ioctl_encoded_size(0, 0, 0,
									 UVFIO_MAX_PAYLOAD + 1),
					    0, &m), -EPROTO);
	free(big);

	/* Counts so large the size computation would matter. */
	e = encode(0, NULL, 0, NULL, 0, NULL, 0);
	set_hdr(&e, UINT32_MAX, 0, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	set_hdr(&e, 0, UINT32_MAX, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	set_hdr(&e, 0, 0, UINT32_MAX);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	set_hdr(&e, 0, UVFIO_MAX_PAYLOAD + 1, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	free(e.buf);
}

static int decode_fd(int32_t attached, unsigned int nattached)
{
	struct uvfio_ioctl_fd fd = { .user_fd = 3, .attached = attached };
	struct uvfio_ioctl_msg m;
	struct enc e = encode(0, &fd, 1, NULL, 0, NULL, 0);
	int ret = uvfio_ioctl_decode(e.buf, e.len, nattached, &m);

	free(e.buf);
	return ret;
}

static void test_reject_fd_index(void **state)
{
	(void)state;
	assert_int_equal(decode_fd(-1, 0), 0);
	assert_int_equal(decode_fd(0, 1), 0);
	assert_int_equal(decode_fd(UVFIO_MAX_FDS - 1, UVFIO_MAX_FDS), 0);
	assert_int_equal(decode_fd(0, 0), -EPROTO);
	assert_int_equal(decode_fd(1, 1), -EPROTO);
	assert_int_equal(decode_fd(-2, 4), -EPROTO);
	assert_int_equal(decode_fd(INT32_MIN, 4), -EPROTO);
	assert_int_equal(decode_fd(INT32_MAX, 4), -EPROTO);

	/* One bad entry among good ones is enough. */
	{
		const struct uvfio_ioctl_fd fds[3] = {
			{ 3, 0 }, { 4, -1 }, { 5, 2 },
		};
		struct uvfio_ioctl_msg m;
		struct enc e = encode(0, fds, 3, NULL, 0, NULL, 0);

		assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 3, &m), 0);
		assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 2, &m), -EPROTO);
		free(e.buf);
	}
}

static int decode_seg(uint64_t vaddr, uint64_t len, int32_t attached, unsigned int nattached)
{
	const struct uvfio_mem_seg s = { .vaddr = vaddr, .len = len, .attached = attached };
	const uint8_t arg[4] = { 0 };
	struct uvfio_ioctl_msg m;
	struct enc e = encode(0, NULL, 0, &s, 1, arg, sizeof(arg));
	int ret = uvfio_ioctl_decode(e.buf, e.len, nattached, &m);

	free(e.buf);
	return ret;
}

static void test_reject_segments(void **state)
{
	(void)state;
	assert_int_equal(decode_seg(0x1000, 0x1000, -1, 0), 0);
	assert_int_equal(decode_seg(0x1000, 0x1000, 0, 1), 0);
	/* Index out of range. */
	assert_int_equal(decode_seg(0x1000, 0x1000, 1, 1), -EPROTO);
	assert_int_equal(decode_seg(0x1000, 0x1000, 0, 0), -EPROTO);
	assert_int_equal(decode_seg(0x1000, 0x1000, -2, 1), -EPROTO);
	/* Empty. */
	assert_int_equal(decode_seg(0x1000, 0, -1, 0), -EPROTO);
	/* Wrapping the address space. */
	assert_int_equal(decode_seg(UINT64_MAX - 5, 10, -1, 0), -EPROTO);
	assert_int_equal(decode_seg(0xfffffffffffff000ULL, 0x1000, -1, 0), -EPROTO);
	assert_int_equal(decode_seg(1, UINT64_MAX, -1, 0), -EPROTO);
	/* Up to the very last byte is fine. */
	assert_int_equal(decode_seg(UINT64_MAX - 9, 9, -1, 0), 0);

	/* The second of two segments is bad. */
	{
		const struct uvfio_mem_seg s[2] = {
			{ .vaddr = 0, .len = 4096, .attached = -1 },
			{ .vaddr = 4096, .len = 0, .attached = -1 },
		};
		struct uvfio_ioctl_msg m;
		struct enc e = encode(0, NULL, 0, s, 2, NULL, 0);

		assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
		free(e.buf);
	}
}

/* Files by key: they sit between the descriptors and the segments, name a
 * descriptor that came or none, and segments may name them after the
 * descriptors. */
static void test_files(void **state)
{
	const struct uvfio_ioctl_fd fd = { .user_fd = 9, .attached = 0 };
	struct uvfio_ioctl_file files[2] = {
		{ .dev = 1, .ino = 77, .attached = 1 }, { .dev = 1, .ino = 78, .attached = -1 },
	};
	struct uvfio_mem_seg segs[2] = {
		{ .vaddr = 0x10000, .len = 0x1000, .attached = 2, .flags = UVFIO_SEG_SHARED },
		{ .vaddr = 0x11000, .len = 0x1000, .attached = 3, .flags = UVFIO_SEG_SHARED },
	};
	const uint8_t arg[4] = { 1, 2, 3, 4 };
	struct uvfio_ioctl_msg m;
	struct enc e;

	(void)state;
	e = encode_files(0, &fd, 1, files, 2, segs, 2, arg, sizeof(arg));
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 2, &m), 0);
	assert_int_equal(m.nfiles, 2);
	assert_ptr_equal(m.files, e.buf + HDR + 8);
	assert_ptr_equal(m.segs, e.buf + HDR + 8 + 48);
	assert_memory_equal(m.files, files, sizeof(files));
	assert_memory_equal(m.arg, arg, sizeof(arg));
	/* segment 3 is beyond 1 descriptor + 2 files */
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 1, &m), -EPROTO);
	free(e.buf);

	/* a file carried by a descriptor that did not come */
	files[0].attached = 2;
	e = encode_files(0, NULL, 0, files, 2, NULL, 0, NULL, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 2, &m), -EPROTO);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 3, &m), 0);
	free(e.buf);
	files[0].attached = -2;
	e = encode_files(0, NULL, 0, files, 2, NULL, 0, NULL, 0);
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 3, &m), -EPROTO);
	free(e.buf);

	/* the header's padding is not ours to ignore */
	e = encode_files(0, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
	e.buf[HDR - 1] = 1;
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	free(e.buf);

	/* more file entries than one message may name */
	e.len = uvfio_ioctl_encoded_size(0, UVFIO_MAX_FDS + 1, 0, 0);
	e.buf = calloc(1, e.len);
	assert_non_null(e.buf);
	{
		struct uvfio_ioctl_hdr h = { .nfiles = UVFIO_MAX_FDS + 1 };

		memcpy(e.buf, &h, sizeof(h));
		for (unsigned int i = 0; i <= UVFIO_MAX_FDS; i++)
			memset(e.buf + HDR + i * 24 + 16, 0xff, 4);	/* attached = -1 */
	}
	assert_int_equal(uvfio_ioctl_decode(e.buf, e.len, 0, &m), -EPROTO);
	free(e.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_size),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reject_sizes),
		cmocka_unit_test(test_reject_fd_index),
		cmocka_unit_test(test_reject_segments),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
