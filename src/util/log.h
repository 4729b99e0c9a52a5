/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging.  Anything an unprivileged client can trigger is logged at
 * debug level only, and rate-limited (uvfio_dbg_rl), as the kernel does.
 */
#ifndef UVFIO_UTIL_LOG_H
#define UVFIO_UTIL_LOG_H

#include <stdbool.h>

enum uvfio_log_level { UVFIO_LOG_ERR, UVFIO_LOG_WARN, UVFIO_LOG_INFO, UVFIO_LOG_DEBUG };

void uvfio_log_set_level(enum uvfio_log_level level);
bool uvfio_log_enabled(enum uvfio_log_level level);
void uvfio_log(enum uvfio_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Debug message allowed at most `burst` times per 5 s window per call site. */
void uvfio_log_rl(int *state, enum uvfio_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define uvfio_err(...)	uvfio_log(UVFIO_LOG_ERR, __VA_ARGS__)
#define uvfio_warn(...)	uvfio_log(UVFIO_LOG_WARN, __VA_ARGS__)
#define uvfio_info(...)	uvfio_log(UVFIO_LOG_INFO, __VA_ARGS__)
#define uvfio_dbg(...)	uvfio_log(UVFIO_LOG_DEBUG, __VA_ARGS__)
#define uvfio_dbg_rl(...) do {						\
		static int uvfio_rl_state_[2];				\
		uvfio_log_rl(uvfio_rl_state_, UVFIO_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
