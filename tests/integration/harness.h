/* SPDX-License-Identifier: MIT */
/*
 * A minimal test harness for integration tests.  Tests are ordinary programs
 * against <linux/vfio.h> and libc: this header only prints and counts.
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (meson's rule).
 */
#ifndef UVFIO_TEST_HARNESS_H
#define UVFIO_TEST_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed, harness_checks;

#define CHECK(cond, ...) do {							\
		harness_checks++;						\
		if (!(cond)) {							\
			harness_failed++;					\
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
		}								\
	} while (0)

/* An operation that must fail with errno e. */
#define CHECK_ERR(expr, e) do {							\
		errno = 0;							\
		long r_ = (long)(expr);						\
		CHECK(r_ == -1 && errno == (e), "%s returned %ld, errno %d (%s), want %s", \
		      #expr, r_, errno, strerror(errno), #e);			\
	} while (0)

#define CHECK_OK(expr) do {							\
		errno = 0;							\
		long r_ = (long)(expr);						\
		CHECK(r_ >= 0, "%s returned %ld, errno %d (%s)", #expr, r_, errno, \
		      strerror(errno));						\
	} while (0)

/* A setup step the rest cannot do without. */
#define REQUIRE(cond, ...) do {							\
		if (!(cond)) {							\
			fprintf(stderr, "FATAL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			exit(1);						\
		}								\
	} while (0)

static inline int harness_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, harness_checks, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
