// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum uvfio_log_level log_level = UVFIO_LOG_INFO;

void uvfio_log_set_level(enum uvfio_log_level level)
{
	log_level = level;
}

bool uvfio_log_enabled(enum uvfio_log_level level)
{
	return level <= log_level;
}

static void vlog(enum uvfio_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	fprintf(stderr, "uvfiod: %s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void uvfio_log(enum uvfio_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!uvfio_log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

#define RL_INTERVAL_S	5
#define RL_BURST	10

void uvfio_log_rl(int *state, enum uvfio_log_level level, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	if (!uvfio_log_enabled(level))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* state[0]: window start (s), state[1]: messages in the window */
	if (now.tv_sec - state[0] >= RL_INTERVAL_S) {
		state[0] = (int)now.tv_sec;
		state[1] = 0;
	}
	if (state[1]++ >= RL_BURST)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
