/* SPDX-License-Identifier: MIT */
/*
 * x86-64 emulation of one load, store or read-modify-write that faulted on a
 * trapped register page.  The signal handler hands us the interrupted
 * context and the instruction bytes at RIP; we decode them (Zydis), make the
 * memory accesses through a callback, and update the context as the real
 * instruction would have: destination registers, RFLAGS, RIP.
 *
 * Async-signal-safe: no allocation, no locks, no stdio, no errno.
 */
#ifndef UVFIO_SHIM_MMIO_EMULATE_H
#define UVFIO_SHIM_MMIO_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

/*
 * One memory access made by an emulated instruction: addr is the effective
 * address; the callback moves size bytes between buf and the device (or
 * plain memory if addr is not a trapped range: the callback decides).
 * Returns 0 or -errno.
 */
typedef int (*mmio_access_fn)(void *ctx, uint64_t addr, void *buf, unsigned int size,
			      bool is_write);

enum mmio_emu_status {
	MMIO_EMU_OK = 0,	/* performed; registers, RFLAGS and RIP updated */
	MMIO_EMU_UNSUPPORTED,	/* not an access we emulate: nothing done */
	MMIO_EMU_ACCESS_FAILED,	/* the callback failed (err in report): nothing
				 * updated, RIP unchanged */
};

struct mmio_emu_report {
	/* The instruction's memory operand (MOVDIR64B: its destination).  On
	 * MMIO_EMU_ACCESS_FAILED these describe the access that failed. */
	uint64_t addr;		/* effective address (0 if unknown) */
	unsigned int size;	/* bytes */
	bool is_write;		/* stores and read-modify-writes */
	int err;		/* the callback's -errno for ACCESS_FAILED */
	unsigned int insn_len;	/* decoded length, or 0 */
	const char *mnemonic;	/* static string from Zydis, or NULL */
};

/*
 * Emulates the instruction at code (the bytes at uc's RIP; code_len may be
 * below 15 near the end of a mapping).  Vector registers are read and written
 * in uc->uc_mcontext.fpregs, laid out as the kernel's signal frame (fxsave
 * image, then the XSAVE header and components).  rep may be NULL.
 */
enum mmio_emu_status mmio_emulate(ucontext_t *uc, const uint8_t *code, size_t code_len,
				  mmio_access_fn access, void *ctx,
				  struct mmio_emu_report *rep);

#endif
