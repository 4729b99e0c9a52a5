// SPDX-License-Identifier: MIT
/*
 * The migration v2 state machine: for every pair of states, the arcs a
 * driver is asked to take on the way (the paths include/uapi/linux/vfio.h
 * and vfio_mig_get_next_state() document), for a device with every optional
 * state, with P2P only, and with neither; and every refused request.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/migration.h"
#include "uvfio/vfio_mig.h"

static const char *const names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR", [VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING", [VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};
#define NSTATES 8

/* Every arc taken from cur to target, as "A>B>C", or "EINVAL". */
static void walk(uint32_t flags, uint32_t cur, uint32_t target, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "%s", names[cur]);

	for (int steps = 0; cur != target; steps++) {
		uint32_t next;

		assert_true(steps < NSTATES);
		if (vfio_mig_next_state(flags, cur, target, &next)) {
			snprintf(out, len, "EINVAL");
			return;
		}
		n += (size_t)snprintf(out + n, len - n, ">%s", names[next]);
		cur = next;
	}
}

static uint32_t state_of(const char *name, size_t len)
{
	for (uint32_t s = 0; s < NSTATES; s++)
		if (strlen(names[s]) == len && !strncmp(names[s], name, len))
			return s;
	fail_msg("no state %.*s", (int)len, name);
	return 0;
}

/* Checks "FROM>...>TO" paths; pairs not listed (but for ERROR and those
 * the device lacks) must be refused. */
static void check_paths(uint32_t flags, const char *const *paths, size_t npaths)
{
	bool listed[NSTATES][NSTATES] = { { false } };
	char got[160];

	for (size_t i = 0; i < npaths; i++) {
		const char *first_gt = strchr(paths[i], '>');
		const char *last_gt = strrchr(paths[i], '>');
		uint32_t from = state_of(paths[i], (size_t)(first_gt - paths[i]));
		uint32_t to = state_of(last_gt + 1, strlen(last_gt + 1));

		walk(flags, from, to, got, sizeof(got));
		if (strcmp(got, paths[i]))
			fail_msg("%s: got %s", paths[i], got);
		listed[from][to] = true;
	}
	for (uint32_t from = 0; from < NSTATES; from++) {
		for (uint32_t to = 0; to < NSTATES; to++) {
			if (listed[from][to] || from == to)
				continue;
			walk(flags, from, to, got, sizeof(got));
			if (strcmp(got, "EINVAL"))
				fail_msg("%s -> %s: got %s, want EINVAL", names[from], names[to], got);
		}
	}
}

static const char *const full_paths[] = {
	/* single arcs */
	"STOP>RUNNING_P2P", "STOP>STOP_COPY", "STOP>RESUMING",
	"RUNNING>RUNNING_P2P", "RUNNING>PRE_COPY",
	"PRE_COPY>RUNNING", "PRE_COPY>PRE_COPY_P2P",
	"PRE_COPY_P2P>PRE_COPY", "PRE_COPY_P2P>RUNNING_P2P", "PRE_COPY_P2P>STOP_COPY",
	"STOP_COPY>STOP", "RESUMING>STOP",
	"RUNNING_P2P>STOP", "RUNNING_P2P>RUNNING", "RUNNING_P2P>PRE_COPY_P2P",
	/* combinations */
	"PRE_COPY>PRE_COPY_P2P>STOP_COPY",
	"PRE_COPY>RUNNING>RUNNING_P2P",
	"PRE_COPY>RUNNING>RUNNING_P2P>STOP",
	"PRE_COPY>RUNNING>RUNNING_P2P>STOP>RESUMING",
	"PRE_COPY_P2P>RUNNING_P2P>RUNNING",
	"PRE_COPY_P2P>RUNNING_P2P>STOP",
	"PRE_COPY_P2P>RUNNING_P2P>STOP>RESUMING",
	"RESUMING>STOP>RUNNING_P2P",
	"RESUMING>STOP>RUNNING_P2P>PRE_COPY_P2P",
	"RESUMING>STOP>RUNNING_P2P>RUNNING",
	"RESUMING>STOP>RUNNING_P2P>RUNNING>PRE_COPY",
	"RESUMING>STOP>STOP_COPY",
	"RUNNING>RUNNING_P2P>PRE_COPY_P2P",
	"RUNNING>RUNNING_P2P>STOP",
	"RUNNING>RUNNING_P2P>STOP>RESUMING",
	"RUNNING>RUNNING_P2P>STOP>STOP_COPY",
	"RUNNING_P2P>RUNNING>PRE_COPY",
	"RUNNING_P2P>STOP>RESUMING",
	"RUNNING_P2P>STOP>STOP_COPY",
	"STOP>RUNNING_P2P>PRE_COPY_P2P",
	"STOP>RUNNING_P2P>RUNNING",
	"STOP>RUNNING_P2P>RUNNING>PRE_COPY",
	"STOP_COPY>STOP>RESUMING",
	"STOP_COPY>STOP>RUNNING_P2P",
	"STOP_COPY>STOP>RUNNING_P2P>RUNNING",
	/* refused: STOP_COPY -> PRE_COPY, PRE_COPY_P2P; anything to or from ERROR */
};

static void test_every_state(void **state)
{
	(void)state;
	check_paths(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
		    full_paths, sizeof(full_paths) / sizeof(full_paths[0]));
}

/* Without PRE_COPY its arcs are gone; the rest is the same. */
static void test_p2p_only(void **state)
{
	static const char *const paths[] = {
		"STOP>RUNNING_P2P", "STOP>STOP_COPY", "STOP>RESUMING",
		"RUNNING>RUNNING_P2P", "STOP_COPY>STOP", "RESUMING>STOP",
		"RUNNING_P2P>STOP", "RUNNING_P2P>RUNNING",
		"RESUMING>STOP>RUNNING_P2P", "RESUMING>STOP>RUNNING_P2P>RUNNING",
		"RESUMING>STOP>STOP_COPY", "RUNNING>RUNNING_P2P>STOP",
		"RUNNING>RUNNING_P2P>STOP>RESUMING", "RUNNING>RUNNING_P2P>STOP>STOP_COPY",
		"RUNNING_P2P>STOP>RESUMING", "RUNNING_P2P>STOP>STOP_COPY",
		"STOP>RUNNING_P2P>RUNNING", "STOP_COPY>STOP>RESUMING",
		"STOP_COPY>STOP>RUNNING_P2P", "STOP_COPY>STOP>RUNNING_P2P>RUNNING",
	};

	(void)state;
	check_paths(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P, paths,
		    sizeof(paths) / sizeof(paths[0]));
}

/* STOP_COPY alone: RUNNING and STOP meet directly. */
static void test_stop_copy_only(void **state)
{
	static const char *const paths[] = {
		"STOP>RUNNING", "RUNNING>STOP", "STOP>STOP_COPY", "STOP>RESUMING",
		"STOP_COPY>STOP", "RESUMING>STOP",
		"RUNNING>STOP>STOP_COPY", "RUNNING>STOP>RESUMING",
		"STOP_COPY>STOP>RUNNING", "STOP_COPY>STOP>RESUMING",
		"RESUMING>STOP>RUNNING", "RESUMING>STOP>STOP_COPY",
	};

	(void)state;
	check_paths(VFIO_MIGRATION_STOP_COPY, paths, sizeof(paths) / sizeof(paths[0]));
}

static void test_out_of_range(void **state)
{
	uint32_t next;

	(void)state;
	assert_int_equal(vfio_mig_next_state(VFIO_MIGRATION_STOP_COPY, VFIO_DEVICE_STATE_RUNNING,
					     8, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(VFIO_MIGRATION_STOP_COPY, VFIO_DEVICE_STATE_RUNNING,
					     0xffffffff, &next), -EINVAL);
	/* a device with no migration has no state to reach */
	assert_int_equal(vfio_mig_next_state(0, VFIO_DEVICE_STATE_RUNNING,
					     VFIO_DEVICE_STATE_STOP, &next), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state),
		cmocka_unit_test(test_p2p_only),
		cmocka_unit_test(test_stop_copy_only),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
