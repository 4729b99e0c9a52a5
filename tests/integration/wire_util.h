/* SPDX-License-Identifier: MIT */
/*
 * For tests that speak uvfio's wire protocol themselves, as a hostile client
 * would: a raw call channel to the daemon of $UVFIO_DIR.
 */
#ifndef UVFIO_TEST_WIRE_UTIL_H
#define UVFIO_TEST_WIRE_UTIL_H

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "harness.h"
#include "transport/channel.h"
#include "transport/wire.h"

/* flags: SOCK_NONBLOCK or 0. */
static inline int raw_channel_flags(int flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv("UVFIO_DIR");
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);

	REQUIRE(dir && fd >= 0, "UVFIO_DIR and a socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" UVFIO_SOCK_NAME, dir);
	REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
		strerror(errno));
	return fd;
}

#endif
