// SPDX-License-Identifier: MIT
/*
 * Wire messages: the whole path a client request takes, from the datagram
 * on the call channel through session.c's decoding and dispatch to the files
 * it names, on one session per input.
 *
 * Input: records of [ctl:u8][len:u16 LE][len bytes], each sent as one
 * datagram (the bytes are the request header and payload).  ctl:
 *   bit 0  set the header's magic and len from the datagram's size
 *   bit 1  replace the header's file token by the token of the file received
 *          earlier whose index is the token's low byte (tokens are random:
 *          a fuzzer cannot guess them)
 *   bit 2  attach an eventfd        bit 3  attach a 64 KiB memfd
 *   bit 4  attach the descriptor of received file number ctl >> 5
 * After each datagram the daemon runs until idle and its replies are read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_daemon.h"

#define MAX_FILES	16

struct rfile {
	uint64_t token;
	int fd;
};

static uint8_t rbuf[UVFIO_MAX_PAYLOAD];
static int trace;		/* UVFIO_FUZZ_TRACE=1: print each reply's result */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_daemon_init();
	trace = getenv("UVFIO_FUZZ_TRACE") != NULL;
	return 0;
}

/* unbind/bind change the host for every later input (and unbind waits
 * for users for seconds): not what a per-input harness can undo. */
static int is_admin_command(const uint8_t *msg, size_t len)
{
	struct uvfio_req req;

	if (len < sizeof(req))
		return 0;
	memcpy(&req, msg, sizeof(req));
	return req.op == UVFIO_OP_CONTROL &&
	       memmem(msg + sizeof(req), len - sizeof(req), "bind", 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[65536];
	struct rfile files[MAX_FILES];
	unsigned int nfiles = 0;
	int sock = fz_session();

	while (size >= 3) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		int fds[3];
		unsigned int nfds = 0;
		struct uvfio_req req;
		struct uvfio_rep rep;
		int rfd;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(msg, data, len);
		data += len;
		size -= len;

		if (len >= sizeof(req)) {
			memcpy(&req, msg, sizeof(req));
			if (ctl & 1) {
				req.magic = UVFIO_WIRE_MAGIC;
				req.len = (uint32_t)(len - sizeof(req));
			}
			if ((ctl & 2) && nfiles)
				req.file = files[(req.file & 0xff) % nfiles].token;
			memcpy(msg, &req, sizeof(req));
		}
		if (is_admin_command(msg, len))
			continue;
		if (ctl & 4)
			fds[nfds++] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ctl & 8) {
			int m = memfd_create("fuzz", MFD_CLOEXEC);

			if (m >= 0 && ftruncate(m, 65536) < 0) {
				close(m);
				m = -1;
			}
			fds[nfds++] = m;
		}
		if ((ctl & 16) && nfiles)
			fds[nfds++] = files[(ctl >> 5) % nfiles].fd;
		for (unsigned int i = 0; i < nfds; i++) {
			if (fds[i] < 0) {
				/* out of descriptors: not the daemon's fault */
				nfds = i;
				break;
			}
		}
		fz_send(sock, msg, len, fds, nfds);
		if ((ctl & 4) && fds[0] >= 0)
			close(fds[0]);
		if ((ctl & 8) && fds[(ctl & 4) ? 1 : 0] >= 0)
			close(fds[(ctl & 4) ? 1 : 0]);
		fz_settle();
		while (fz_recv(sock, &rep, rbuf, sizeof(rbuf), &rfd)) {
			if (trace)
				fprintf(stderr, "reply: %lld\n", (long long)rep.ret);
			if (rfd >= 0 && rep.token && nfiles < MAX_FILES)
				files[nfiles++] = (struct rfile){ .token = rep.token, .fd = rfd };
		}
	}
	fz_end(sock);
	return 0;
}
