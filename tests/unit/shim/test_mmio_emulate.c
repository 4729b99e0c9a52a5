// SPDX-License-Identifier: MIT
/*
 * The MMIO instruction emulator, table-driven.  Every row is an exact
 * encoding (assembled by gas, bytes copied from the object file), the state
 * before and what must hold after.  The integer rows are also executed
 * natively on ordinary memory, so the flags and results the table expects
 * are checked against this CPU.  The last tests take real signal frames
 * from this kernel and emulate the faulting instructions in them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shim/mmio_emulate.h"

#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG		4096ul
#define T		0x100u		/* where rows point their memory operand */

/* Arithmetic flags. */
#define CF		0x001u
#define PF		0x004u
#define AF		0x010u
#define ZF		0x040u
#define SF		0x080u
#define OF		0x800u
#define ARITH		(CF | PF | AF | ZF | SF | OF)

/* ---- the fake device: 4 KiB of memory behind the callback ---- */

static uint8_t dev[PG] __attribute__((aligned(PG)));

/* A register value that names a device address: dev + off. */
#define D(off)		(0xdd00000000000000ull | (off))

static uint64_t xlate(uint64_t v)
{
	return (v >> 56) == 0xdd ? (uint64_t)(uintptr_t)dev + (v & 0xffffffffffffull) : v;
}

static uint64_t dev_addr(unsigned int off)
{
	return (uint64_t)(uintptr_t)dev + off;
}

static void dev_reset(void)
{
	for (unsigned int i = 0; i < PG; i++)
		dev[i] = (uint8_t)(i * 7 + 3);
}

struct access {
	uint64_t addr;
	unsigned int size;
	bool write;
};

static struct fake {
	struct access acc[4];
	unsigned int n;
	int fail_at;		/* this access fails (-1: none) */
	bool flat;		/* any address; reads give 0x5c */
} fk;

static void fake_reset(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.fail_at = -1;
}

static int fake_access(void *ctx, uint64_t addr, void *buf, unsigned int size, bool is_write)
{
	struct fake *f = ctx;
	unsigned int i = f->n++;

	if (i < 4)
		f->acc[i] = (struct access){ addr, size, is_write };
	if ((int)i == f->fail_at)
		return -EAGAIN;
	if (f->flat) {
		if (!is_write)
			memset(buf, 0x5c, size);
		return 0;
	}
	if (addr < dev_addr(0) || addr + size > dev_addr(PG))
		return -EFAULT;
	if (is_write)
		memcpy(dev + (addr - dev_addr(0)), buf, size);
	else
		memcpy(buf, dev + (addr - dev_addr(0)), size);
	return 0;
}

/* ---- contexts ---- */

struct rv {
	int8_t reg;		/* REG_x + 1; 0 ends the list */
	uint64_t val;
};
#define R(r, v)		{ REG_##r + 1, (v) }

static const int gprs[] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void ctx_init(ucontext_t *uc, const struct rv *in, size_t n)
{
	memset(uc, 0, sizeof(*uc));
	for (int i = 0; i < NGREG; i++)
		uc->uc_mcontext.gregs[i] = (greg_t)(0x0f1e2d3c4b5a6978ull + i * 0x0101010101010101ull);
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)D(0x800);
	uc->uc_mcontext.gregs[REG_EFL] = 0x202;
	for (size_t i = 0; i < n && in[i].reg; i++)
		uc->uc_mcontext.gregs[in[i].reg - 1] = (greg_t)xlate(in[i].val);
}

#define CHECK(cond, text, fmt, ...)						\
	do {									\
		if (!(cond))							\
			fail_msg("%s: " fmt, (text), ##__VA_ARGS__);		\
	} while (0)

/* Everything in the context but the listed registers, RIP and RFLAGS is
 * as before; RIP moved by len. */
static void check_gregs(const char *text, const ucontext_t *uc, const ucontext_t *before,
			const struct rv *out, size_t n, unsigned int len)
{
	greg_t want[NGREG];

	memcpy(want, before->uc_mcontext.gregs, sizeof(want));
	for (size_t i = 0; i < n && out[i].reg; i++)
		want[out[i].reg - 1] = (greg_t)xlate(out[i].val);
	want[REG_RIP] += len;
	for (int i = 0; i < NGREG; i++) {
		if (i == REG_EFL)
			continue;
		CHECK(uc->uc_mcontext.gregs[i] == want[i], text, "greg %d = %#llx, want %#llx", i,
		      (unsigned long long)uc->uc_mcontext.gregs[i], (unsigned long long)want[i]);
	}
	CHECK(uc->uc_mcontext.fpregs == before->uc_mcontext.fpregs, text, "fpregs moved");
}

/* ---- running an instruction natively ---- */

/*
 * native_exec(greg_t *g, const void *code): loads the general registers and
 * RFLAGS from g (gregset order), calls code (the instruction, then RET) and
 * stores them back.  RSP and RIP are left alone.
 */
asm(".text\n"
    ".type native_exec, @function\n"
    "native_exec:\n"
    "\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
    "\tpush %rdi\n"
    "\tpush %rsi\n"
    "\tmov 0*8(%rdi), %r8\n\tmov 1*8(%rdi), %r9\n\tmov 2*8(%rdi), %r10\n"
    "\tmov 3*8(%rdi), %r11\n\tmov 4*8(%rdi), %r12\n\tmov 5*8(%rdi), %r13\n"
    "\tmov 6*8(%rdi), %r14\n\tmov 7*8(%rdi), %r15\n\tmov 9*8(%rdi), %rsi\n"
    "\tmov 10*8(%rdi), %rbp\n\tmov 11*8(%rdi), %rbx\n\tmov 12*8(%rdi), %rdx\n"
    "\tmov 13*8(%rdi), %rax\n\tmov 14*8(%rdi), %rcx\n"
    "\tpushq 17*8(%rdi)\n\tpopfq\n"
    "\tmov 8*8(%rdi), %rdi\n"
    "\tcall *(%rsp)\n"
    "\tpushfq\n"
    "\tpush %rdi\n"
    "\tmov 24(%rsp), %rdi\n"
    "\tmov %r8, 0*8(%rdi)\n\tmov %r9, 1*8(%rdi)\n\tmov %r10, 2*8(%rdi)\n"
    "\tmov %r11, 3*8(%rdi)\n\tmov %r12, 4*8(%rdi)\n\tmov %r13, 5*8(%rdi)\n"
    "\tmov %r14, 6*8(%rdi)\n\tmov %r15, 7*8(%rdi)\n\tmov %rsi, 9*8(%rdi)\n"
    "\tmov %rbp, 10*8(%rdi)\n\tmov %rbx, 11*8(%rdi)\n\tmov %rdx, 12*8(%rdi)\n"
    "\tmov %rax, 13*8(%rdi)\n\tmov %rcx, 14*8(%rdi)\n"
    "\tpopq 8*8(%rdi)\n"
    "\tpopq 17*8(%rdi)\n"
    "\tadd $16, %rsp\n"
    "\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n"
    "\tret\n"
    ".size native_exec, .-native_exec\n");
void native_exec(greg_t *g, const void *code);

static uint8_t *xpage;

static void native_run(greg_t *g, const uint8_t *code, unsigned int len)
{
	assert_int_equal(mprotect(xpage, PG, PROT_READ | PROT_WRITE), 0);
	memcpy(xpage, code, len);
	xpage[len] = 0xc3;	/* ret */
	assert_int_equal(mprotect(xpage, PG, PROT_READ | PROT_EXEC), 0);
	native_exec(g, xpage);
}

/* ---- integer loads, stores and read-modify-writes ---- */

enum { ACC_R = 1, ACC_W = 2, ACC_RW = 3 };

struct gpr_row {
	const char *text;
	uint8_t code[15];
	uint8_t len;
	uint8_t size;		/* bytes of the access */
	uint8_t acc;		/* ACC_R, ACC_W, ACC_RW (read, then write) */
	bool moffs;		/* the last 8 code bytes are the address: T's */
	bool keep_cf;
	struct rv in[3];	/* registers before; RDI = dev + T first */
	uint64_t mem;		/* the 8 bytes at T before */
	struct rv out[2];	/* registers that change */
	uint64_t mem_after;	/* the 8 bytes at T after, if written */
	uint16_t fl_set, fl_clr;
};

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static const struct gpr_row gpr_rows[] = {
	{ .text = "movb (%rdi), %al",
	  .code = { 0x8a, 0x07 }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111111180ull) } },
	{ .text = "movb (%rdi), %ah",
	  .code = { 0x8a, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111118011ull) } },
	{ .text = "movb (%rdi), %bh",
	  .code = { 0x8a, 0x3f }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RBX, 0x2222222222222222ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RBX, 0x2222222222228022ull) } },
	{ .text = "movb (%rdi), %sil",
	  .code = { 0x40, 0x8a, 0x37 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RSI, 0x3333333333333333ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RSI, 0x3333333333333380ull) } },
	{ .text = "movb (%rdi), %r9b",
	  .code = { 0x44, 0x8a, 0x0f }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R9, 0x4444444444444444ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R9, 0x4444444444444480ull) } },
	{ .text = "movw (%rdi), %ax",
	  .code = { 0x66, 0x8b, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111118180ull) } },
	{ .text = "movw (%rdi), %r10w",
	  .code = { 0x66, 0x44, 0x8b, 0x17 }, .len = 4,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R10, 0x5555555555555555ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R10, 0x5555555555558180ull) } },
	{ .text = "movl (%rdi), %eax",
	  .code = { 0x8b, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x83828180ull) } },
	{ .text = "movl (%rdi), %r12d",
	  .code = { 0x44, 0x8b, 0x27 }, .len = 3,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R12, 0x6666666666666666ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R12, 0x83828180ull) } },
	{ .text = "movq (%rdi), %rax",
	  .code = { 0x48, 0x8b, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x8786858483828180ull) } },
	{ .text = "movq (%rdi), %r15",
	  .code = { 0x4c, 0x8b, 0x3f }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R15, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R15, 0x8786858483828180ull) } },
	{ .text = "movb %al, (%rdi)",
	  .code = { 0x88, 0x07 }, .len = 2,
	  .size = 1, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a5a588ull },
	{ .text = "movb %bh, (%rdi)",
	  .code = { 0x88, 0x3f }, .len = 2,
	  .size = 1, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(RBX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a5a577ull },
	{ .text = "movb %r10b, (%rdi)",
	  .code = { 0x44, 0x88, 0x17 }, .len = 3,
	  .size = 1, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(R10, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a5a588ull },
	{ .text = "movw %cx, (%rdi)",
	  .code = { 0x66, 0x89, 0x0f }, .len = 3,
	  .size = 2, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(RCX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a57788ull },
	{ .text = "movl %edx, (%rdi)",
	  .code = { 0x89, 0x17 }, .len = 2,
	  .size = 4, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(RDX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a555667788ull },
	{ .text = "movq %r8, (%rdi)",
	  .code = { 0x4c, 0x89, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(R8, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0x1122334455667788ull },
	{ .text = "movb $0x80, (%rdi)",
	  .code = { 0xc6, 0x07, 0x80 }, .len = 3,
	  .size = 1, .acc = ACC_W,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a5a580ull },
	{ .text = "movw $0x8001, (%rdi)",
	  .code = { 0x66, 0xc7, 0x07, 0x01, 0x80 }, .len = 5,
	  .size = 2, .acc = ACC_W,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a58001ull },
	{ .text = "movl $0x80000001, (%rdi)",
	  .code = { 0xc7, 0x07, 0x01, 0x00, 0x00, 0x80 }, .len = 6,
	  .size = 4, .acc = ACC_W,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a580000001ull },
	{ .text = "movq $-2, (%rdi)",
	  .code = { 0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff }, .len = 7,
	  .size = 8, .acc = ACC_W,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xfffffffffffffffeull },
	{ .text = "movq $0x7fffffff, (%rdi)",
	  .code = { 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0x7f }, .len = 7,
	  .size = 8, .acc = ACC_W,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0x7fffffffull },
	{ .text = "movabs 0x0, %al",
	  .code = { 0xa0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 9,
	  .size = 1, .acc = ACC_R,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111111180ull) } },
	{ .text = "movabs 0x0, %ax",
	  .code = { 0x66, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 10,
	  .size = 2, .acc = ACC_R,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111118180ull) } },
	{ .text = "movabs 0x0, %eax",
	  .code = { 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 9,
	  .size = 4, .acc = ACC_R,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x83828180ull) } },
	{ .text = "movabs 0x0, %rax",
	  .code = { 0x48, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 10,
	  .size = 8, .acc = ACC_R,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x8786858483828180ull) } },
	{ .text = "movabs %al, 0x0",
	  .code = { 0xa2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 9,
	  .size = 1, .acc = ACC_W,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a5a588ull },
	{ .text = "movabs %ax, 0x0",
	  .code = { 0x66, 0xa3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 10,
	  .size = 2, .acc = ACC_W,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a5a5a57788ull },
	{ .text = "movabs %eax, 0x0",
	  .code = { 0xa3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 9,
	  .size = 4, .acc = ACC_W,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a555667788ull },
	{ .text = "movabs %rax, 0x0",
	  .code = { 0x48, 0xa3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, .len = 10,
	  .size = 8, .acc = ACC_W,
	  .moffs = true,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0x1122334455667788ull },
	{ .text = "movzbl (%rdi), %eax",
	  .code = { 0x0f, 0xb6, 0x07 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x80ull) } },
	{ .text = "movzbw (%rdi), %ax",
	  .code = { 0x66, 0x0f, 0xb6, 0x07 }, .len = 4,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111110080ull) } },
	{ .text = "movzbq (%rdi), %r11",
	  .code = { 0x4c, 0x0f, 0xb6, 0x1f }, .len = 4,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R11, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R11, 0x80ull) } },
	{ .text = "movzbl (%rdi), %ebp",
	  .code = { 0x0f, 0xb6, 0x2f }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RBP, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RBP, 0x80ull) } },
	{ .text = "movzwl (%rdi), %ecx",
	  .code = { 0x0f, 0xb7, 0x0f }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RCX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RCX, 0x8180ull) } },
	{ .text = "movzwq (%rdi), %rcx",
	  .code = { 0x48, 0x0f, 0xb7, 0x0f }, .len = 4,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RCX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RCX, 0x8180ull) } },
	{ .text = "movsbl (%rdi), %eax",
	  .code = { 0x0f, 0xbe, 0x07 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0xffffff80ull) } },
	{ .text = "movsbl (%rdi), %eax",
	  .code = { 0x0f, 0xbe, 0x07 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x878685848382817full,
	  .out = { R(RAX, 0x7full) } },
	{ .text = "movsbw (%rdi), %ax",
	  .code = { 0x66, 0x0f, 0xbe, 0x07 }, .len = 4,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x111111111111ff80ull) } },
	{ .text = "movsbq (%rdi), %rax",
	  .code = { 0x48, 0x0f, 0xbe, 0x07 }, .len = 4,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0xffffffffffffff80ull) } },
	{ .text = "movswl (%rdi), %edx",
	  .code = { 0x0f, 0xbf, 0x17 }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RDX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RDX, 0xffff8180ull) } },
	{ .text = "movswq (%rdi), %rdx",
	  .code = { 0x48, 0x0f, 0xbf, 0x17 }, .len = 4,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RDX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RDX, 0xffffffffffff8180ull) } },
	{ .text = "movswq (%rdi), %rdx",
	  .code = { 0x48, 0x0f, 0xbf, 0x17 }, .len = 4,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RDX, 0x1111111111111111ull) },
	  .mem = 0x1234ull,
	  .out = { R(RDX, 0x1234ull) } },
	{ .text = "movslq (%rdi), %rax",
	  .code = { 0x48, 0x63, 0x07 }, .len = 3,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0xffffffff83828180ull) } },
	{ .text = "movslq (%rdi), %r14",
	  .code = { 0x4c, 0x63, 0x37 }, .len = 3,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R14, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R14, 0xffffffff83828180ull) } },
	{ .text = "movsxd (%rdi), %eax",
	  .code = { 0x63, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111111111ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x83828180ull) } },
	{ .text = "movnti %eax, (%rdi)",
	  .code = { 0x0f, 0xc3, 0x07 }, .len = 3,
	  .size = 4, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0xa5a5a5a555667788ull },
	{ .text = "movnti %r13, (%rdi)",
	  .code = { 0x4c, 0x0f, 0xc3, 0x2f }, .len = 4,
	  .size = 8, .acc = ACC_W,
	  .in = { R(RDI, D(T)), R(R13, 0x1122334455667788ull) },
	  .mem = 0xa5a5a5a5a5a5a5a5ull,
	  .mem_after = 0x1122334455667788ull },
	{ .text = "orb $0x80, (%rdi)",
	  .code = { 0x80, 0x0f, 0x80 }, .len = 3,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a501ull,
	  .mem_after = 0xa5a5a5a5a5a5a581ull,
	  .fl_set = SF,
	  .fl_clr = ZF | CF | OF },
	{ .text = "orw %ax, (%rdi)",
	  .code = { 0x66, 0x09, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111110000ull) },
	  .mem = 0xa5a5a5a5a5a50000ull,
	  .mem_after = 0xa5a5a5a5a5a50000ull,
	  .fl_set = ZF | PF,
	  .fl_clr = SF | CF | OF },
	{ .text = "orl $0x100, (%rdi)",
	  .code = { 0x81, 0x0f, 0x00, 0x01, 0x00, 0x00 }, .len = 6,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xffull,
	  .mem_after = 0x1ffull,
	  .fl_clr = ZF | SF | CF | OF },
	{ .text = "orl $-1, (%rdi)",
	  .code = { 0x83, 0x0f, 0xff }, .len = 3,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x1234ull,
	  .mem_after = 0xffffffffull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "orq %rdx, (%rdi)",
	  .code = { 0x48, 0x09, 0x17 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RDX, 1) },
	  .mem = 0x8000000000000000ull,
	  .mem_after = 0x8000000000000001ull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "lock orl %eax, (%rdi)",
	  .code = { 0xf0, 0x09, 0x07 }, .len = 3,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111100000001ull) },
	  .mem = 0x10ull,
	  .mem_after = 0x11ull,
	  .fl_clr = ZF | SF | CF | OF },
	{ .text = "andb %ah, (%rdi)",
	  .code = { 0x20, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0xf00ull) },
	  .mem = 0xa5a5a5a5a5a5a5f0ull,
	  .mem_after = 0xa5a5a5a5a5a5a500ull,
	  .fl_set = ZF | PF,
	  .fl_clr = SF | CF | OF },
	{ .text = "andw $0xff00, (%rdi)",
	  .code = { 0x66, 0x81, 0x27, 0x00, 0xff }, .len = 5,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x1234ull,
	  .mem_after = 0x1200ull,
	  .fl_clr = ZF | SF | CF | OF },
	{ .text = "andl $-16, (%rdi)",
	  .code = { 0x83, 0x27, 0xf0 }, .len = 3,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5ffffffffull,
	  .mem_after = 0xa5a5a5a5fffffff0ull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "andq $0, (%rdi)",
	  .code = { 0x48, 0x83, 0x27, 0x00 }, .len = 4,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xffffffffffffffffull,
	  .mem_after = 0,
	  .fl_set = ZF | PF,
	  .fl_clr = SF },
	{ .text = "lock andq %rcx, (%rdi)",
	  .code = { 0xf0, 0x48, 0x21, 0x0f }, .len = 4,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RCX, 0xff00ff00ff00ff0ull) },
	  .mem = 0xff00ff00ff00ff00ull,
	  .mem_after = 0xf000f000f000f00ull,
	  .fl_clr = ZF | SF },
	{ .text = "xorb $0xff, (%rdi)",
	  .code = { 0x80, 0x37, 0xff }, .len = 3,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a50full,
	  .mem_after = 0xa5a5a5a5a5a5a5f0ull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "xorl %eax, (%rdi)",
	  .code = { 0x31, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x12345678ull) },
	  .mem = 0xa5a5a5a512345678ull,
	  .mem_after = 0xa5a5a5a500000000ull,
	  .fl_set = ZF,
	  .fl_clr = SF },
	{ .text = "xorq $-1, (%rdi)",
	  .code = { 0x48, 0x83, 0x37, 0xff }, .len = 4,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xff00ff00ff00ffull,
	  .mem_after = 0xff00ff00ff00ff00ull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "lock xorw %si, (%rdi)",
	  .code = { 0x66, 0xf0, 0x31, 0x37 }, .len = 4,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RSI, 0x5555ull) },
	  .mem = 0xa5a5a5a5a5a5aaaaull,
	  .mem_after = 0xa5a5a5a5a5a5ffffull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "addb $1, (%rdi)",
	  .code = { 0x80, 0x07, 0x01 }, .len = 3,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a5ffull,
	  .mem_after = 0xa5a5a5a5a5a5a500ull,
	  .fl_set = CF | ZF | AF,
	  .fl_clr = OF | SF },
	{ .text = "addw $0x7fff, (%rdi)",
	  .code = { 0x66, 0x81, 0x07, 0xff, 0x7f }, .len = 5,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a50001ull,
	  .mem_after = 0xa5a5a5a5a5a58000ull,
	  .fl_set = OF | SF,
	  .fl_clr = CF | ZF },
	{ .text = "addl %eax, (%rdi)",
	  .code = { 0x01, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 1) },
	  .mem = 0xa5a5a5a57fffffffull,
	  .mem_after = 0xa5a5a5a580000000ull,
	  .fl_set = OF | SF | AF,
	  .fl_clr = CF | ZF },
	{ .text = "addq $-1, (%rdi)",
	  .code = { 0x48, 0x83, 0x07, 0xff }, .len = 4,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0,
	  .mem_after = 0xffffffffffffffffull,
	  .fl_set = SF,
	  .fl_clr = CF | ZF | OF },
	{ .text = "addq %rax, (%rdi)",
	  .code = { 0x48, 0x01, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x8000000000000000ull) },
	  .mem = 0x8000000000000000ull,
	  .mem_after = 0,
	  .fl_set = CF | ZF | OF,
	  .fl_clr = SF },
	{ .text = "lock addl $1, (%rdi)",
	  .code = { 0xf0, 0x83, 0x07, 0x01 }, .len = 4,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5fffffffeull,
	  .mem_after = 0xa5a5a5a5ffffffffull,
	  .fl_set = SF | PF,
	  .fl_clr = CF | ZF | OF },
	{ .text = "subb $1, (%rdi)",
	  .code = { 0x80, 0x2f, 0x01 }, .len = 3,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a500ull,
	  .mem_after = 0xa5a5a5a5a5a5a5ffull,
	  .fl_set = CF | SF | AF,
	  .fl_clr = ZF | OF },
	{ .text = "subw %ax, (%rdi)",
	  .code = { 0x66, 0x29, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 1) },
	  .mem = 0x8000ull,
	  .mem_after = 0x7fffull,
	  .fl_set = OF,
	  .fl_clr = SF | CF | ZF },
	{ .text = "subl $0x12345678, (%rdi)",
	  .code = { 0x81, 0x2f, 0x78, 0x56, 0x34, 0x12 }, .len = 6,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a512345678ull,
	  .mem_after = 0xa5a5a5a500000000ull,
	  .fl_set = ZF,
	  .fl_clr = CF | SF | OF },
	{ .text = "subq %rax, (%rdi)",
	  .code = { 0x48, 0x29, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 7) },
	  .mem = 5,
	  .mem_after = 0xfffffffffffffffeull,
	  .fl_set = CF | SF,
	  .fl_clr = ZF | OF },
	{ .text = "lock subq $1, (%rdi)",
	  .code = { 0xf0, 0x48, 0x83, 0x2f, 0x01 }, .len = 5,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x8000000000000000ull,
	  .mem_after = 0x7fffffffffffffffull,
	  .fl_set = OF,
	  .fl_clr = CF | SF | ZF },
	{ .text = "incb (%rdi)",
	  .code = { 0xfe, 0x07 }, .len = 2,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a57full,
	  .mem_after = 0xa5a5a5a5a5a5a580ull,
	  .fl_set = OF | SF | AF,
	  .fl_clr = ZF,
	  .keep_cf = true },
	{ .text = "incw (%rdi)",
	  .code = { 0x66, 0xff, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5ffffull,
	  .mem_after = 0xa5a5a5a5a5a50000ull,
	  .fl_set = ZF | AF,
	  .fl_clr = SF | OF,
	  .keep_cf = true },
	{ .text = "incl (%rdi)",
	  .code = { 0xff, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5ffffffffull,
	  .mem_after = 0xa5a5a5a500000000ull,
	  .fl_set = ZF,
	  .fl_clr = SF | OF,
	  .keep_cf = true },
	{ .text = "incq (%rdi)",
	  .code = { 0x48, 0xff, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x7fffffffffffffffull,
	  .mem_after = 0x8000000000000000ull,
	  .fl_set = OF | SF,
	  .fl_clr = ZF,
	  .keep_cf = true },
	{ .text = "lock incl (%rdi)",
	  .code = { 0xf0, 0xff, 0x07 }, .len = 3,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x41ull,
	  .mem_after = 0x42ull,
	  .fl_clr = ZF | SF | OF,
	  .keep_cf = true },
	{ .text = "decb (%rdi)",
	  .code = { 0xfe, 0x0f }, .len = 2,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a5a580ull,
	  .mem_after = 0xa5a5a5a5a5a5a57full,
	  .fl_set = OF,
	  .fl_clr = ZF | SF,
	  .keep_cf = true },
	{ .text = "decw (%rdi)",
	  .code = { 0x66, 0xff, 0x0f }, .len = 3,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a5a5a50000ull,
	  .mem_after = 0xa5a5a5a5a5a5ffffull,
	  .fl_set = SF,
	  .fl_clr = ZF | OF,
	  .keep_cf = true },
	{ .text = "decl (%rdi)",
	  .code = { 0xff, 0x0f }, .len = 2,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a500000001ull,
	  .mem_after = 0xa5a5a5a500000000ull,
	  .fl_set = ZF,
	  .fl_clr = SF | OF,
	  .keep_cf = true },
	{ .text = "decq (%rdi)",
	  .code = { 0x48, 0xff, 0x0f }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 0,
	  .mem_after = 0xffffffffffffffffull,
	  .fl_set = SF,
	  .fl_clr = ZF | OF,
	  .keep_cf = true },
	{ .text = "lock decq (%rdi)",
	  .code = { 0xf0, 0x48, 0xff, 0x0f }, .len = 4,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)) },
	  .mem = 2,
	  .mem_after = 1,
	  .fl_clr = ZF | SF | OF,
	  .keep_cf = true },
	{ .text = "xchgb %al, (%rdi)",
	  .code = { 0x86, 0x07 }, .len = 2,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1122334455667780ull) },
	  .mem_after = 0x8786858483828188ull },
	{ .text = "xchgb %ah, (%rdi)",
	  .code = { 0x86, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1122334455668088ull) },
	  .mem_after = 0x8786858483828177ull },
	{ .text = "xchgw %cx, (%rdi)",
	  .code = { 0x66, 0x87, 0x0f }, .len = 3,
	  .size = 2, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RCX, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RCX, 0x1122334455668180ull) },
	  .mem_after = 0x8786858483827788ull },
	{ .text = "xchgl %edx, (%rdi)",
	  .code = { 0x87, 0x17 }, .len = 2,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RDX, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RDX, 0x83828180ull) },
	  .mem_after = 0x8786858455667788ull },
	{ .text = "xchgq %r8, (%rdi)",
	  .code = { 0x4c, 0x87, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(R8, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R8, 0x8786858483828180ull) },
	  .mem_after = 0x1122334455667788ull },
	{ .text = "lock xchgl %eax, (%rdi)",
	  .code = { 0xf0, 0x87, 0x07 }, .len = 3,
	  .size = 4, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RAX, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x83828180ull) },
	  .mem_after = 0x8786858455667788ull },
	{ .text = "xchgq (%rdi), %rsi",
	  .code = { 0x48, 0x87, 0x37 }, .len = 3,
	  .size = 8, .acc = ACC_RW,
	  .in = { R(RDI, D(T)), R(RSI, 0x1122334455667788ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RSI, 0x8786858483828180ull) },
	  .mem_after = 0x1122334455667788ull },
	{ .text = "cmpb $0x80, (%rdi)",
	  .code = { 0x80, 0x3f, 0x80 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x8786858483828180ull,
	  .fl_set = ZF,
	  .fl_clr = CF | SF | OF },
	{ .text = "cmpw %ax, (%rdi)",
	  .code = { 0x66, 0x39, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 2) },
	  .mem = 0xa5a5a5a5a5a50001ull,
	  .fl_set = CF | SF,
	  .fl_clr = ZF | OF },
	{ .text = "cmpl $1, (%rdi)",
	  .code = { 0x83, 0x3f, 0x01 }, .len = 3,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a580000000ull,
	  .fl_set = OF,
	  .fl_clr = SF | ZF | CF },
	{ .text = "cmpq %rax, (%rdi)",
	  .code = { 0x48, 0x39, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 5) },
	  .mem = 5,
	  .fl_set = ZF,
	  .fl_clr = CF | SF | OF },
	{ .text = "cmpl (%rdi), %eax",
	  .code = { 0x3b, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 1) },
	  .mem = 2,
	  .fl_set = CF | SF,
	  .fl_clr = ZF | OF },
	{ .text = "cmpb (%rdi), %ah",
	  .code = { 0x3a, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x8000ull) },
	  .mem = 1,
	  .fl_set = OF,
	  .fl_clr = SF | ZF | CF },
	{ .text = "cmpq (%rdi), %r9",
	  .code = { 0x4c, 0x3b, 0x0f }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R9, 0x10ull) },
	  .mem = 0x10ull,
	  .fl_set = ZF,
	  .fl_clr = CF },
	{ .text = "cmpl $0x12345678, (%rdi)",
	  .code = { 0x81, 0x3f, 0x78, 0x56, 0x34, 0x12 }, .len = 6,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x12345679ull,
	  .fl_clr = CF | ZF | SF | OF },
	{ .text = "cmpq $-1, (%rdi)",
	  .code = { 0x48, 0x83, 0x3f, 0xff }, .len = 4,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xffffffffffffffffull,
	  .fl_set = ZF,
	  .fl_clr = CF },
	{ .text = "testb $0x80, (%rdi)",
	  .code = { 0xf6, 0x07, 0x80 }, .len = 3,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0x8786858483828180ull,
	  .fl_set = SF,
	  .fl_clr = ZF | CF | OF },
	{ .text = "testw %ax, (%rdi)",
	  .code = { 0x66, 0x85, 0x07 }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0xff00ull) },
	  .mem = 0xffull,
	  .fl_set = ZF,
	  .fl_clr = SF | CF | OF },
	{ .text = "testl $1, (%rdi)",
	  .code = { 0xf7, 0x07, 0x01, 0x00, 0x00, 0x00 }, .len = 6,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)) },
	  .mem = 0xa5a5a5a500000002ull,
	  .fl_set = ZF,
	  .fl_clr = SF },
	{ .text = "testq %rax, (%rdi)",
	  .code = { 0x48, 0x85, 0x07 }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0xffffffffffffffffull) },
	  .mem = 0x8000000000000000ull,
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "testb %ah, (%rdi)",
	  .code = { 0x84, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x100ull) },
	  .mem = 1,
	  .fl_clr = ZF | SF },
	{ .text = "addl (%rdi), %eax",
	  .code = { 0x03, 0x07 }, .len = 2,
	  .size = 4, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0xffffffff00000001ull) },
	  .mem = 0xa5a5a5a5ffffffffull,
	  .out = { R(RAX, 0) },
	  .fl_set = CF | ZF,
	  .fl_clr = SF | OF },
	{ .text = "orb (%rdi), %ah",
	  .code = { 0x0a, 0x27 }, .len = 2,
	  .size = 1, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RAX, 0x1111111111110011ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(RAX, 0x1111111111118011ull) },
	  .fl_set = SF,
	  .fl_clr = ZF },
	{ .text = "subq (%rdi), %rcx",
	  .code = { 0x48, 0x2b, 0x0f }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RCX, 0xaull) },
	  .mem = 3,
	  .out = { R(RCX, 7) },
	  .fl_clr = CF | ZF | SF },
	{ .text = "andw (%rdi), %dx",
	  .code = { 0x66, 0x23, 0x17 }, .len = 3,
	  .size = 2, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(RDX, 0x11111111111100ffull) },
	  .mem = 0xf0full,
	  .out = { R(RDX, 0x111111111111000full) },
	  .fl_clr = ZF | SF },
	{ .text = "xorq (%rdi), %r10",
	  .code = { 0x4c, 0x33, 0x17 }, .len = 3,
	  .size = 8, .acc = ACC_R,
	  .in = { R(RDI, D(T)), R(R10, 0x8786858483828180ull) },
	  .mem = 0x8786858483828180ull,
	  .out = { R(R10, 0) },
	  .fl_set = ZF },
};

static void run_gpr_row(const struct gpr_row *r, uint64_t efl_in)
{
	ucontext_t uc, before;
	struct mmio_emu_report rep;
	uint8_t code[15] = { 0 }, emu_dev[PG], want_dev[PG];
	greg_t g[NGREG];
	uint64_t efl, addr = dev_addr(T), after;
	unsigned int n = 0;

	memcpy(code, r->code, r->len);
	if (r->moffs)
		memcpy(code + r->len - 8, &addr, 8);
	dev_reset();
	memcpy(dev + T, &r->mem, 8);
	ctx_init(&uc, r->in, 3);
	uc.uc_mcontext.gregs[REG_EFL] = (greg_t)efl_in;
	before = uc;
	fake_reset();

	CHECK(mmio_emulate(&uc, code, sizeof(code), fake_access, &fk, &rep) == MMIO_EMU_OK,
	      r->text, "not emulated");
	CHECK(rep.insn_len == r->len && rep.mnemonic, r->text, "report length %u", rep.insn_len);
	CHECK(rep.addr == addr && rep.size == r->size && rep.is_write == !!(r->acc & ACC_W),
	      r->text, "report %#llx/%u/%d", (unsigned long long)rep.addr, rep.size, rep.is_write);
	if (r->acc & ACC_R) {
		CHECK(fk.acc[n].addr == addr && fk.acc[n].size == r->size && !fk.acc[n].write,
		      r->text, "access %u", n);
		n++;
	}
	if (r->acc & ACC_W) {
		CHECK(fk.acc[n].addr == addr && fk.acc[n].size == r->size && fk.acc[n].write,
		      r->text, "access %u", n);
		n++;
	}
	CHECK(fk.n == n, r->text, "%u accesses, want %u", fk.n, n);
	check_gregs(r->text, &uc, &before, r->out, 2, r->len);

	efl = (uint64_t)uc.uc_mcontext.gregs[REG_EFL];
	CHECK((efl & ~(uint64_t)ARITH) == (efl_in & ~(uint64_t)ARITH), r->text, "non-arithmetic flags");
	CHECK((efl & r->fl_set) == r->fl_set, r->text, "flags %#llx lack %#x", (unsigned long long)efl,
	      r->fl_set);
	CHECK(!(efl & r->fl_clr), r->text, "flags %#llx have %#x", (unsigned long long)efl, r->fl_clr);
	if (!r->fl_set && !r->fl_clr)
		CHECK(efl == efl_in, r->text, "a move changed the flags");
	if (r->keep_cf)
		CHECK((efl & CF) == (efl_in & CF), r->text, "CF changed");

	after = r->acc & ACC_W ? r->mem_after : r->mem;
	memcpy(emu_dev, dev, PG);
	dev_reset();
	memcpy(dev + T, &after, 8);
	memcpy(want_dev, dev, PG);
	CHECK(!memcmp(emu_dev, want_dev, PG), r->text, "memory after: %#llx",
	      (unsigned long long)load64(emu_dev + T));

	/* The same instruction, natively, on the same (ordinary) memory. */
	dev_reset();
	memcpy(dev + T, &r->mem, 8);
	memcpy(g, before.uc_mcontext.gregs, sizeof(g));
	g[REG_EFL] = (greg_t)efl_in;
	native_run(g, code, r->len);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++) {
		if (gprs[i] == REG_RSP)
			continue;
		CHECK(g[gprs[i]] == uc.uc_mcontext.gregs[gprs[i]], r->text,
		      "greg %d: native %#llx, emulated %#llx", gprs[i],
		      (unsigned long long)g[gprs[i]],
		      (unsigned long long)uc.uc_mcontext.gregs[gprs[i]]);
	}
	CHECK(((uint64_t)g[REG_EFL] & ARITH) == (efl & ARITH), r->text,
	      "flags: native %#llx, emulated %#llx", (unsigned long long)g[REG_EFL] & ARITH,
	      (unsigned long long)efl & ARITH);
	CHECK(!memcmp(dev, want_dev, PG), r->text, "native memory differs from the table");
}

static void test_gpr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gpr_rows) / sizeof(gpr_rows[0]); i++) {
		run_gpr_row(&gpr_rows[i], 0x202);
		run_gpr_row(&gpr_rows[i], 0x202 | ARITH);
	}
}

/* ---- effective addresses ---- */

struct addr_row {
	const char *text;
	uint8_t code[15];
	uint8_t len;
	struct rv in[3];
	uint64_t addr;
	unsigned int size;
};

static const struct addr_row addr_rows[] = {
	{ .text = "movl 0x10(%rdi,%rcx,4), %eax",
	  .code = { 0x8b, 0x44, 0x8f, 0x10 }, .len = 4,
	  .in = { R(RDI, 0x100000ull), R(RCX, 3) }, .addr = 0x10001cull, .size = 4 },
	{ .text = "movq -8(%rbp), %rax",
	  .code = { 0x48, 0x8b, 0x45, 0xf8 }, .len = 4,
	  .in = { R(RBP, 0x2008ull) }, .addr = 0x2000ull, .size = 8 },
	{ .text = "movl (%r12), %eax",
	  .code = { 0x41, 0x8b, 0x04, 0x24 }, .len = 4,
	  .in = { R(R12, 0x3000ull) }, .addr = 0x3000ull, .size = 4 },
	{ .text = "movl (%r13), %eax",
	  .code = { 0x41, 0x8b, 0x45, 0x00 }, .len = 4,
	  .in = { R(R13, 0x3100ull) }, .addr = 0x3100ull, .size = 4 },
	{ .text = "movl (%rsp), %eax",
	  .code = { 0x8b, 0x04, 0x24 }, .len = 3,
	  .in = { R(RSP, 0x4000ull) }, .addr = 0x4000ull, .size = 4 },
	{ .text = "movl 0x10(,%rcx,8), %eax",
	  .code = { 0x8b, 0x04, 0xcd, 0x10, 0x00, 0x00, 0x00 }, .len = 7,
	  .in = { R(RCX, 0x100ull) }, .addr = 0x810ull, .size = 4 },
	{ .text = "movl 0x12345678, %eax",
	  .code = { 0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 }, .len = 7,
	  .in = {  }, .addr = 0x12345678ull, .size = 4 },
	{ .text = "movq (%rax,%rax,1), %rax",
	  .code = { 0x48, 0x8b, 0x04, 0x00 }, .len = 4,
	  .in = { R(RAX, 0x500ull) }, .addr = 0xa00ull, .size = 8 },
	{ .text = "movq -0x80000000(%rdi), %rax",
	  .code = { 0x48, 0x8b, 0x87, 0x00, 0x00, 0x00, 0x80 }, .len = 7,
	  .in = { R(RDI, 0xffffffffffffff00ull) }, .addr = 0xffffffff7fffff00ull, .size = 8 },
	{ .text = "movl 0x100(%rip), %eax",
	  .code = { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }, .len = 6,
	  .in = { R(RIP, 0x400000ull) }, .addr = 0x400106ull, .size = 4 },
	{ .text = "movl -0x10(%rip), %eax",
	  .code = { 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff }, .len = 6,
	  .in = { R(RIP, 0x400000ull) }, .addr = 0x3ffff6ull, .size = 4 },
	{ .text = "movb 0x7f(%r15,%r14,2), %r8b",
	  .code = { 0x47, 0x8a, 0x44, 0x77, 0x7f }, .len = 5,
	  .in = { R(R15, 0x10000ull), R(R14, 0x20ull) }, .addr = 0x100bfull, .size = 1 },
	{ .text = "addr32 movl (%edi), %eax",
	  .code = { 0x67, 0x8b, 0x07 }, .len = 3,
	  .in = { R(RDI, 0xffffffff00001000ull) }, .addr = 0x1000ull, .size = 4 },
	{ .text = "addr32 movl 0x10(%edi,%ecx,2), %eax",
	  .code = { 0x67, 0x8b, 0x44, 0x4f, 0x10 }, .len = 5,
	  .in = { R(RDI, 0x7ffffff0ull), R(RCX, 0x80000000ull) }, .addr = 0x80000000ull, .size = 4 },
	{ .text = "addr32 movl 0x100(%eip), %eax",
	  .code = { 0x67, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }, .len = 7,
	  .in = { R(RIP, 0x10000fff0ull) }, .addr = 0x100f7ull, .size = 4 },
	{ .text = "addr32 movabs 0x80001000, %eax",
	  .code = { 0x67, 0xa1, 0x00, 0x10, 0x00, 0x80 }, .len = 6,
	  .in = {  }, .addr = 0x80001000ull, .size = 4 },
	{ .text = "ds movl (%rdi), %eax",
	  .code = { 0x3e, 0x8b, 0x07 }, .len = 3,
	  .in = { R(RDI, 0x5000ull) }, .addr = 0x5000ull, .size = 4 },
	{ .text = "movl %es:(%rdi), %eax",
	  .code = { 0x26, 0x8b, 0x07 }, .len = 3,
	  .in = { R(RDI, 0x5000ull) }, .addr = 0x5000ull, .size = 4 },
	{ .text = "cs movl (%rdi), %eax",
	  .code = { 0x2e, 0x8b, 0x07 }, .len = 3,
	  .in = { R(RDI, 0x5000ull) }, .addr = 0x5000ull, .size = 4 },
	{ .text = "cmpl $5, 0x20(%rsi,%rdx,8)",
	  .code = { 0x83, 0x7c, 0xd6, 0x20, 0x05 }, .len = 5,
	  .in = { R(RSI, 0x1000ull), R(RDX, 2) }, .addr = 0x1030ull, .size = 4 },
	{ .text = "lock addq $1, 0x8(%rip)",
	  .code = { 0xf0, 0x48, 0x83, 0x05, 0x08, 0x00, 0x00, 0x00, 0x01 }, .len = 9,
	  .in = { R(RIP, 0x7000ull) }, .addr = 0x7011ull, .size = 8 },
	{ .text = "xchgw %ax, -2(%rbx,%rsi,1)",
	  .code = { 0x66, 0x87, 0x44, 0x33, 0xfe }, .len = 5,
	  .in = { R(RBX, 0x1000ull), R(RSI, 0x10ull) }, .addr = 0x100eull, .size = 2 },
	{ .text = "vmovdqu 0x40(%rbx,%rcx,2), %xmm0",
	  .code = { 0xc5, 0xfa, 0x6f, 0x44, 0x4b, 0x40 }, .len = 6,
	  .in = { R(RBX, 0x8000ull), R(RCX, 0x10ull) }, .addr = 0x8060ull, .size = 16 },
	{ .text = "vmovdqu %ymm3, -0x20(%rip)",
	  .code = { 0xc5, 0xfe, 0x7f, 0x1d, 0xe0, 0xff, 0xff, 0xff }, .len = 8,
	  .in = { R(RIP, 0x9000ull) }, .addr = 0x8fe8ull, .size = 32 },
};

static uint8_t fpframe[8192] __attribute__((aligned(64)));
static void frame_build(uint8_t *f, bool xsave, uint64_t bv);

static void test_addressing(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(addr_rows) / sizeof(addr_rows[0]); i++) {
		const struct addr_row *r = &addr_rows[i];
		struct mmio_emu_report rep;
		ucontext_t uc;

		ctx_init(&uc, r->in, 3);
		frame_build(fpframe, true, 0x7);
		uc.uc_mcontext.fpregs = (void *)fpframe;
		fake_reset();
		fk.flat = true;
		CHECK(mmio_emulate(&uc, r->code, r->len, fake_access, &fk, &rep) == MMIO_EMU_OK,
		      r->text, "not emulated");
		CHECK(fk.n >= 1 && fk.acc[0].addr == r->addr && fk.acc[0].size == r->size, r->text,
		      "access at %#llx/%u, want %#llx/%u", (unsigned long long)fk.acc[0].addr,
		      fk.acc[0].size, (unsigned long long)r->addr, r->size);
		CHECK(rep.addr == r->addr, r->text, "report address");
	}
}

/* ---- vector registers in a signal frame ---- */

#define FX_XMM		160
#define FX_SW		464
#define XHDR		512

static unsigned int ymm_off, zmm_off, frame_size;

static void xstate_layout(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, 2, a, b, c, d);
	ymm_off = a == 256 ? b : 0;
	__cpuid_count(0xd, 6, a, b, c, d);
	zmm_off = a == 512 ? b : 0;
	frame_size = ymm_off + 256;
	if (zmm_off && zmm_off + 512 > frame_size)
		frame_size = zmm_off + 512;
}

static uint8_t xmm_byte(unsigned int n, unsigned int i)
{
	return (uint8_t)(0x10 * n + i);
}

static uint8_t ymmh_byte(unsigned int n, unsigned int i)
{
	return (uint8_t)((0x10 * n + i) ^ 0xa5);
}

static uint8_t zmmh_byte(unsigned int n, unsigned int i)
{
	return (uint8_t)((32 * n + i) ^ 0x3c);
}

/* As the kernel lays out a signal frame's fpstate: the fxsave image with the
 * software-reserved bytes, the XSAVE header, YMM_Hi128 and (with AVX-512)
 * ZMM_Hi256 at their CPUID offsets, FP_XSTATE_MAGIC2 after. */
static void frame_build(uint8_t *f, bool xsave, uint64_t bv)
{
	uint32_t mxcsr = 0x1f80, magic2 = 0x46505845;
	struct {
		uint32_t magic1, extended_size;
		uint64_t xfeatures;
		uint32_t xstate_size, pad[7];
	} sw = { 0x46505853, frame_size + 4, 0x7 | (zmm_off ? 0x40 : 0), frame_size, { 0 } };

	memset(f, 0, sizeof(fpframe));
	memcpy(f + 24, &mxcsr, 4);
	for (unsigned int n = 0; n < 16; n++)
		for (unsigned int i = 0; i < 16; i++)
			f[FX_XMM + 16 * n + i] = xmm_byte(n, i);
	if (!xsave)
		return;
	memcpy(f + FX_SW, &sw, sizeof(sw));
	memcpy(f + frame_size, &magic2, 4);
	if (zmm_off)
		bv |= 0x40;
	memcpy(f + XHDR, &bv, 8);
	for (unsigned int n = 0; n < 16; n++)
		for (unsigned int i = 0; i < 16; i++)
			f[ymm_off + 16 * n + i] = ymmh_byte(n, i);
	for (unsigned int n = 0; zmm_off && n < 16; n++)
		for (unsigned int i = 0; i < 32; i++)
			f[zmm_off + 32 * n + i] = zmmh_byte(n, i);
}

static void check_frame(const char *text, const uint8_t *got, const uint8_t *want)
{
	for (unsigned int i = 0; i < frame_size + 4; i++)
		CHECK(got[i] == want[i], text, "fpstate byte %u = %#x, want %#x", i, got[i], want[i]);
}

struct vec_row {
	const char *text;
	uint8_t code[15];
	uint8_t len;
	uint8_t reg;		/* XMM/YMM number */
	uint8_t size;		/* bytes moved */
	bool load;
	bool vex;		/* loads zero everything above the destination */
	bool aligned;		/* #GP unless aligned: misaligned is not emulated */
};

static const struct vec_row vec_rows[] = {
	{ .text = "movd (%rdi), %xmm1",
	  .code = { 0x66, 0x0f, 0x6e, 0x0f }, .len = 4,
	  .reg = 1, .size = 4, .load = true, .vex = false, .aligned = false },
	{ .text = "movq (%rdi), %xmm2",
	  .code = { 0xf3, 0x0f, 0x7e, 0x17 }, .len = 4,
	  .reg = 2, .size = 8, .load = true, .vex = false, .aligned = false },
	{ .text = "movq (%rdi), %xmm9",
	  .code = { 0xf3, 0x44, 0x0f, 0x7e, 0x0f }, .len = 5,
	  .reg = 9, .size = 8, .load = true, .vex = false, .aligned = false },
	{ .text = "rex.W movd (%rdi), %xmm0",
	  .code = { 0x66, 0x48, 0x0f, 0x6e, 0x07 }, .len = 5,
	  .reg = 0, .size = 8, .load = true, .vex = false, .aligned = false },
	{ .text = "movss (%rdi), %xmm3",
	  .code = { 0xf3, 0x0f, 0x10, 0x1f }, .len = 4,
	  .reg = 3, .size = 4, .load = true, .vex = false, .aligned = false },
	{ .text = "movsd (%rdi), %xmm4",
	  .code = { 0xf2, 0x0f, 0x10, 0x27 }, .len = 4,
	  .reg = 4, .size = 8, .load = true, .vex = false, .aligned = false },
	{ .text = "movdqa (%rdi), %xmm5",
	  .code = { 0x66, 0x0f, 0x6f, 0x2f }, .len = 4,
	  .reg = 5, .size = 16, .load = true, .vex = false, .aligned = true },
	{ .text = "movdqu (%rdi), %xmm15",
	  .code = { 0xf3, 0x44, 0x0f, 0x6f, 0x3f }, .len = 5,
	  .reg = 15, .size = 16, .load = true, .vex = false, .aligned = false },
	{ .text = "movaps (%rdi), %xmm6",
	  .code = { 0x0f, 0x28, 0x37 }, .len = 3,
	  .reg = 6, .size = 16, .load = true, .vex = false, .aligned = true },
	{ .text = "movups (%rdi), %xmm7",
	  .code = { 0x0f, 0x10, 0x3f }, .len = 3,
	  .reg = 7, .size = 16, .load = true, .vex = false, .aligned = false },
	{ .text = "movapd (%rdi), %xmm8",
	  .code = { 0x66, 0x44, 0x0f, 0x28, 0x07 }, .len = 5,
	  .reg = 8, .size = 16, .load = true, .vex = false, .aligned = true },
	{ .text = "movupd (%rdi), %xmm10",
	  .code = { 0x66, 0x44, 0x0f, 0x10, 0x17 }, .len = 5,
	  .reg = 10, .size = 16, .load = true, .vex = false, .aligned = false },
	{ .text = "movntdqa (%rdi), %xmm11",
	  .code = { 0x66, 0x44, 0x0f, 0x38, 0x2a, 0x1f }, .len = 6,
	  .reg = 11, .size = 16, .load = true, .vex = false, .aligned = true },
	{ .text = "movd %xmm1, (%rdi)",
	  .code = { 0x66, 0x0f, 0x7e, 0x0f }, .len = 4,
	  .reg = 1, .size = 4, .load = false, .vex = false, .aligned = false },
	{ .text = "movq %xmm2, (%rdi)",
	  .code = { 0x66, 0x0f, 0xd6, 0x17 }, .len = 4,
	  .reg = 2, .size = 8, .load = false, .vex = false, .aligned = false },
	{ .text = "rex.W movd %xmm8, (%rdi)",
	  .code = { 0x66, 0x4c, 0x0f, 0x7e, 0x07 }, .len = 5,
	  .reg = 8, .size = 8, .load = false, .vex = false, .aligned = false },
	{ .text = "movss %xmm3, (%rdi)",
	  .code = { 0xf3, 0x0f, 0x11, 0x1f }, .len = 4,
	  .reg = 3, .size = 4, .load = false, .vex = false, .aligned = false },
	{ .text = "movsd %xmm4, (%rdi)",
	  .code = { 0xf2, 0x0f, 0x11, 0x27 }, .len = 4,
	  .reg = 4, .size = 8, .load = false, .vex = false, .aligned = false },
	{ .text = "movdqa %xmm5, (%rdi)",
	  .code = { 0x66, 0x0f, 0x7f, 0x2f }, .len = 4,
	  .reg = 5, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "movdqu %xmm14, (%rdi)",
	  .code = { 0xf3, 0x44, 0x0f, 0x7f, 0x37 }, .len = 5,
	  .reg = 14, .size = 16, .load = false, .vex = false, .aligned = false },
	{ .text = "movaps %xmm6, (%rdi)",
	  .code = { 0x0f, 0x29, 0x37 }, .len = 3,
	  .reg = 6, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "movups %xmm7, (%rdi)",
	  .code = { 0x0f, 0x11, 0x3f }, .len = 3,
	  .reg = 7, .size = 16, .load = false, .vex = false, .aligned = false },
	{ .text = "movapd %xmm8, (%rdi)",
	  .code = { 0x66, 0x44, 0x0f, 0x29, 0x07 }, .len = 5,
	  .reg = 8, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "movupd %xmm12, (%rdi)",
	  .code = { 0x66, 0x44, 0x0f, 0x11, 0x27 }, .len = 5,
	  .reg = 12, .size = 16, .load = false, .vex = false, .aligned = false },
	{ .text = "movntdq %xmm13, (%rdi)",
	  .code = { 0x66, 0x44, 0x0f, 0xe7, 0x2f }, .len = 5,
	  .reg = 13, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "movntps %xmm1, (%rdi)",
	  .code = { 0x0f, 0x2b, 0x0f }, .len = 3,
	  .reg = 1, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "movntpd %xmm2, (%rdi)",
	  .code = { 0x66, 0x0f, 0x2b, 0x17 }, .len = 4,
	  .reg = 2, .size = 16, .load = false, .vex = false, .aligned = true },
	{ .text = "vmovd (%rdi), %xmm1",
	  .code = { 0xc5, 0xf9, 0x6e, 0x0f }, .len = 4,
	  .reg = 1, .size = 4, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovq (%rdi), %xmm2",
	  .code = { 0xc5, 0xfa, 0x7e, 0x17 }, .len = 4,
	  .reg = 2, .size = 8, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovq (%rdi), %xmm3 [VEX.W1 6E]",
	  .code = { 0xc4, 0xe1, 0xf9, 0x6e, 0x1f }, .len = 5,
	  .reg = 3, .size = 8, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovss (%rdi), %xmm3",
	  .code = { 0xc5, 0xfa, 0x10, 0x1f }, .len = 4,
	  .reg = 3, .size = 4, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovsd (%rdi), %xmm4",
	  .code = { 0xc5, 0xfb, 0x10, 0x27 }, .len = 4,
	  .reg = 4, .size = 8, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovdqa (%rdi), %xmm5",
	  .code = { 0xc5, 0xf9, 0x6f, 0x2f }, .len = 4,
	  .reg = 5, .size = 16, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovdqu (%rdi), %xmm13",
	  .code = { 0xc5, 0x7a, 0x6f, 0x2f }, .len = 4,
	  .reg = 13, .size = 16, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovaps (%rdi), %xmm6",
	  .code = { 0xc5, 0xf8, 0x28, 0x37 }, .len = 4,
	  .reg = 6, .size = 16, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovups (%rdi), %xmm7",
	  .code = { 0xc5, 0xf8, 0x10, 0x3f }, .len = 4,
	  .reg = 7, .size = 16, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovapd (%rdi), %xmm8",
	  .code = { 0xc5, 0x79, 0x28, 0x07 }, .len = 4,
	  .reg = 8, .size = 16, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovupd (%rdi), %xmm9",
	  .code = { 0xc5, 0x79, 0x10, 0x0f }, .len = 4,
	  .reg = 9, .size = 16, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovntdqa (%rdi), %xmm10",
	  .code = { 0xc4, 0x62, 0x79, 0x2a, 0x17 }, .len = 5,
	  .reg = 10, .size = 16, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovdqa (%rdi), %ymm5",
	  .code = { 0xc5, 0xfd, 0x6f, 0x2f }, .len = 4,
	  .reg = 5, .size = 32, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovdqu (%rdi), %ymm12",
	  .code = { 0xc5, 0x7e, 0x6f, 0x27 }, .len = 4,
	  .reg = 12, .size = 32, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovaps (%rdi), %ymm6",
	  .code = { 0xc5, 0xfc, 0x28, 0x37 }, .len = 4,
	  .reg = 6, .size = 32, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovups (%rdi), %ymm7",
	  .code = { 0xc5, 0xfc, 0x10, 0x3f }, .len = 4,
	  .reg = 7, .size = 32, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovapd (%rdi), %ymm8",
	  .code = { 0xc5, 0x7d, 0x28, 0x07 }, .len = 4,
	  .reg = 8, .size = 32, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovupd (%rdi), %ymm15",
	  .code = { 0xc5, 0x7d, 0x10, 0x3f }, .len = 4,
	  .reg = 15, .size = 32, .load = true, .vex = true, .aligned = false },
	{ .text = "vmovntdqa (%rdi), %ymm11",
	  .code = { 0xc4, 0x62, 0x7d, 0x2a, 0x1f }, .len = 5,
	  .reg = 11, .size = 32, .load = true, .vex = true, .aligned = true },
	{ .text = "vmovd %xmm1, (%rdi)",
	  .code = { 0xc5, 0xf9, 0x7e, 0x0f }, .len = 4,
	  .reg = 1, .size = 4, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovq %xmm2, (%rdi)",
	  .code = { 0xc5, 0xf9, 0xd6, 0x17 }, .len = 4,
	  .reg = 2, .size = 8, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovq %xmm3, (%rdi) [VEX.W1 7E]",
	  .code = { 0xc4, 0xe1, 0xf9, 0x7e, 0x1f }, .len = 5,
	  .reg = 3, .size = 8, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovss %xmm3, (%rdi)",
	  .code = { 0xc5, 0xfa, 0x11, 0x1f }, .len = 4,
	  .reg = 3, .size = 4, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovsd %xmm4, (%rdi)",
	  .code = { 0xc5, 0xfb, 0x11, 0x27 }, .len = 4,
	  .reg = 4, .size = 8, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovdqa %xmm5, (%rdi)",
	  .code = { 0xc5, 0xf9, 0x7f, 0x2f }, .len = 4,
	  .reg = 5, .size = 16, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovdqu %xmm11, (%rdi)",
	  .code = { 0xc5, 0x7a, 0x7f, 0x1f }, .len = 4,
	  .reg = 11, .size = 16, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovntdq %xmm3, (%rdi)",
	  .code = { 0xc5, 0xf9, 0xe7, 0x1f }, .len = 4,
	  .reg = 3, .size = 16, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovdqa %ymm5, (%rdi)",
	  .code = { 0xc5, 0xfd, 0x7f, 0x2f }, .len = 4,
	  .reg = 5, .size = 32, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovdqu %ymm10, (%rdi)",
	  .code = { 0xc5, 0x7e, 0x7f, 0x17 }, .len = 4,
	  .reg = 10, .size = 32, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovaps %ymm6, (%rdi)",
	  .code = { 0xc5, 0xfc, 0x29, 0x37 }, .len = 4,
	  .reg = 6, .size = 32, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovups %ymm7, (%rdi)",
	  .code = { 0xc5, 0xfc, 0x11, 0x3f }, .len = 4,
	  .reg = 7, .size = 32, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovapd %ymm8, (%rdi)",
	  .code = { 0xc5, 0x7d, 0x29, 0x07 }, .len = 4,
	  .reg = 8, .size = 32, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovupd %ymm14, (%rdi)",
	  .code = { 0xc5, 0x7d, 0x11, 0x37 }, .len = 4,
	  .reg = 14, .size = 32, .load = false, .vex = true, .aligned = false },
	{ .text = "vmovntdq %ymm3, (%rdi)",
	  .code = { 0xc5, 0xfd, 0xe7, 0x1f }, .len = 4,
	  .reg = 3, .size = 32, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovntps %ymm4, (%rdi)",
	  .code = { 0xc5, 0xfc, 0x2b, 0x27 }, .len = 4,
	  .reg = 4, .size = 32, .load = false, .vex = true, .aligned = true },
	{ .text = "vmovntpd %ymm9, (%rdi)",
	  .code = { 0xc5, 0x7d, 0x2b, 0x0f }, .len = 4,
	  .reg = 9, .size = 32, .load = false, .vex = true, .aligned = true },
};

static void run_vec_row(const struct vec_row *r, unsigned int misalign)
{
	static uint8_t want[sizeof(fpframe)];
	uint8_t want_dev[PG];
	ucontext_t uc, before;
	struct mmio_emu_report rep;
	enum mmio_emu_status st;
	uint64_t addr = dev_addr(T + misalign);

	dev_reset();
	frame_build(fpframe, true, 0x7);
	memcpy(want, fpframe, sizeof(want));
	memcpy(want_dev, dev, PG);
	ctx_init(&uc, NULL, 0);
	uc.uc_mcontext.gregs[REG_RDI] = (greg_t)addr;
	uc.uc_mcontext.fpregs = (void *)fpframe;
	before = uc;
	fake_reset();

	st = mmio_emulate(&uc, r->code, r->len, fake_access, &fk, &rep);
	if (misalign && r->aligned) {
		CHECK(st == MMIO_EMU_UNSUPPORTED && fk.n == 0, r->text, "misaligned: status %d", st);
		check_gregs(r->text, &uc, &before, NULL, 0, 0);
		check_frame(r->text, fpframe, want);
		return;
	}
	CHECK(st == MMIO_EMU_OK, r->text, "status %d", st);
	CHECK(fk.n == 1 && fk.acc[0].addr == addr && fk.acc[0].size == r->size &&
	      fk.acc[0].write == !r->load, r->text, "access");
	CHECK(rep.addr == addr && rep.size == r->size && rep.is_write == !r->load, r->text, "report");
	check_gregs(r->text, &uc, &before, NULL, 0, r->len);
	if (r->load) {
		uint8_t *x = want + FX_XMM + 16 * r->reg;

		memset(x, 0, 16);
		memcpy(x, dev + T + misalign, r->size < 16 ? r->size : 16);
		if (r->size == 32)
			memcpy(want + ymm_off + 16 * r->reg, dev + T + misalign + 16, 16);
		else if (r->vex)
			memset(want + ymm_off + 16 * r->reg, 0, 16);
		if (r->vex && zmm_off)
			memset(want + zmm_off + 32 * r->reg, 0, 32);
	} else {
		memcpy(want_dev + T + misalign, want + FX_XMM + 16 * r->reg, r->size < 16 ? r->size : 16);
		if (r->size == 32)
			memcpy(want_dev + T + misalign + 16, want + ymm_off + 16 * r->reg, 16);
	}
	check_frame(r->text, fpframe, want);
	CHECK(!memcmp(dev, want_dev, PG), r->text, "device memory");
}

static void test_vector_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vec_rows) / sizeof(vec_rows[0]); i++) {
		run_vec_row(&vec_rows[i], 0);
		run_vec_row(&vec_rows[i], 4);
	}
}

/* vmovdqu (%rdi), %ymm1; vmovdqu %ymm2, (%rdi); movdqu (%rdi), %xmm3 */
static const uint8_t ld_ymm1[] = { 0xc5, 0xfe, 0x6f, 0x0f };
static const uint8_t st_ymm2[] = { 0xc5, 0xfe, 0x7f, 0x17 };
static const uint8_t ld_xmm3[] = { 0xf3, 0x0f, 0x6f, 0x1f };
/* vmovdqu (%rdi), %xmm4 */
static const uint8_t ld_vxmm4[] = { 0xc5, 0xfa, 0x6f, 0x27 };

static enum mmio_emu_status vec_once(const uint8_t *code, size_t len, uint64_t bv, bool xsave)
{
	ucontext_t uc;

	dev_reset();
	frame_build(fpframe, xsave, bv);
	ctx_init(&uc, NULL, 0);
	uc.uc_mcontext.gregs[REG_RDI] = (greg_t)dev_addr(T);
	uc.uc_mcontext.fpregs = (void *)fpframe;
	fake_reset();
	return mmio_emulate(&uc, code, len, fake_access, &fk, NULL);
}

/* A component whose XSTATE_BV bit is clear is all zeros, whatever the image
 * holds: a write must zero the rest and set the bit; a read sees zeros. */
static void test_xstate_init_components(void **state)
{
	uint64_t bv;

	(void)state;
	/* YMM_Hi128 in init state, 32-byte load into ymm1. */
	assert_int_equal(vec_once(ld_ymm1, sizeof(ld_ymm1), 0x3, true), MMIO_EMU_OK);
	memcpy(&bv, fpframe + XHDR, 8);
	assert_true(bv & 0x4);
	for (unsigned int n = 0; n < 16; n++) {
		uint8_t zero[16] = { 0 };

		if (n == 1)
			assert_memory_equal(fpframe + ymm_off + 16, dev + T + 16, 16);
		else
			assert_memory_equal(fpframe + ymm_off + 16 * n, zero, 16);
	}
	/* ... and a 32-byte store of ymm2 reads zeros for the upper half. */
	assert_int_equal(vec_once(st_ymm2, sizeof(st_ymm2), 0x3, true), MMIO_EMU_OK);
	for (unsigned int i = 0; i < 16; i++) {
		assert_int_equal(dev[T + i], xmm_byte(2, i));
		assert_int_equal(dev[T + 16 + i], 0);
	}
	/* VEX.128 load with YMM in init state: the upper half stays init. */
	assert_int_equal(vec_once(ld_vxmm4, sizeof(ld_vxmm4), 0x3, true), MMIO_EMU_OK);
	memcpy(&bv, fpframe + XHDR, 8);
	assert_false(bv & 0x4);
	/* SSE in init state: a 16-byte load sets the bit, zeroes the others. */
	assert_int_equal(vec_once(ld_xmm3, sizeof(ld_xmm3), 0x4, true), MMIO_EMU_OK);
	memcpy(&bv, fpframe + XHDR, 8);
	assert_true(bv & 0x2);
	for (unsigned int n = 0; n < 16; n++) {
		uint8_t zero[16] = { 0 };

		if (n == 3)
			assert_memory_equal(fpframe + FX_XMM + 48, dev + T, 16);
		else
			assert_memory_equal(fpframe + FX_XMM + 16 * n, zero, 16);
	}
}

/* Without an XSAVE area (or with a broken one) only legacy SSE forms work. */
static void test_fxsave_only_frame(void **state)
{
	ucontext_t uc;
	uint32_t bad = 0;

	(void)state;
	assert_int_equal(vec_once(ld_xmm3, sizeof(ld_xmm3), 0, false), MMIO_EMU_OK);
	assert_memory_equal(fpframe + FX_XMM + 48, dev + T, 16);
	assert_int_equal(vec_once(ld_vxmm4, sizeof(ld_vxmm4), 0, false), MMIO_EMU_UNSUPPORTED);
	assert_int_equal(vec_once(ld_ymm1, sizeof(ld_ymm1), 0, false), MMIO_EMU_UNSUPPORTED);
	assert_int_equal(vec_once(st_ymm2, sizeof(st_ymm2), 0, false), MMIO_EMU_UNSUPPORTED);
	assert_int_equal(fk.n, 0);

	/* FP_XSTATE_MAGIC2 missing: the kernel would not trust it either. */
	dev_reset();
	frame_build(fpframe, true, 0x7);
	memcpy(fpframe + frame_size, &bad, 4);
	ctx_init(&uc, NULL, 0);
	uc.uc_mcontext.gregs[REG_RDI] = (greg_t)dev_addr(T);
	uc.uc_mcontext.fpregs = (void *)fpframe;
	fake_reset();
	assert_int_equal(mmio_emulate(&uc, ld_ymm1, sizeof(ld_ymm1), fake_access, &fk, NULL),
			 MMIO_EMU_UNSUPPORTED);

	/* No FP state at all. */
	uc.uc_mcontext.fpregs = NULL;
	assert_int_equal(mmio_emulate(&uc, ld_xmm3, sizeof(ld_xmm3), fake_access, &fk, NULL),
			 MMIO_EMU_UNSUPPORTED);
	assert_int_equal(fk.n, 0);
}

/* ---- MOVDIR64B ---- */

static void test_movdir64b(void **state)
{
	/* movdir64b (%rdi), %rax; movdir64b (%rsi), %r9; movdir64b (%edi), %eax */
	static const uint8_t rax[] = { 0x66, 0x0f, 0x38, 0xf8, 0x07 };
	static const uint8_t r9[] = { 0x66, 0x44, 0x0f, 0x38, 0xf8, 0x0e };
	static const uint8_t a32[] = { 0x67, 0x66, 0x0f, 0x38, 0xf8, 0x07 };
	struct rv in[] = { R(RDI, D(T)), R(RAX, D(0x200)) };
	struct rv in9[] = { R(RSI, D(0x40)), R(R9, D(0x3c0)) };
	struct rv in32[] = { R(RDI, 0xffffffff00001000ull), R(RAX, 0x1234567800002000ull) };
	struct mmio_emu_report rep;
	uint8_t want[PG];
	ucontext_t uc, before;

	(void)state;
	dev_reset();
	memcpy(want, dev, PG);
	memcpy(want + 0x200, dev + T, 64);
	ctx_init(&uc, in, 2);
	before = uc;
	fake_reset();
	assert_int_equal(mmio_emulate(&uc, rax, sizeof(rax), fake_access, &fk, &rep), MMIO_EMU_OK);
	assert_string_equal(rep.mnemonic, "movdir64b");
	assert_int_equal(rep.insn_len, 5);
	assert_true(rep.addr == dev_addr(0x200) && rep.size == 64 && rep.is_write);
	assert_int_equal(fk.n, 2);
	assert_true(fk.acc[0].addr == dev_addr(T) && fk.acc[0].size == 64 && !fk.acc[0].write);
	assert_true(fk.acc[1].addr == dev_addr(0x200) && fk.acc[1].size == 64 && fk.acc[1].write);
	assert_memory_equal(dev, want, PG);
	check_gregs("movdir64b", &uc, &before, NULL, 0, 5);
	assert_int_equal(uc.uc_mcontext.gregs[REG_EFL], before.uc_mcontext.gregs[REG_EFL]);

	dev_reset();
	memcpy(want, dev, PG);
	memcpy(want + 0x3c0, dev + 0x40, 64);
	ctx_init(&uc, in9, 2);
	before = uc;
	fake_reset();
	assert_int_equal(mmio_emulate(&uc, r9, sizeof(r9), fake_access, &fk, NULL), MMIO_EMU_OK);
	assert_memory_equal(dev, want, PG);
	check_gregs("movdir64b r9", &uc, &before, NULL, 0, 6);

	/* 32-bit address size: both addresses wrap to 32 bits. */
	ctx_init(&uc, in32, 2);
	fake_reset();
	fk.flat = true;
	assert_int_equal(mmio_emulate(&uc, a32, sizeof(a32), fake_access, &fk, NULL), MMIO_EMU_OK);
	assert_true(fk.acc[0].addr == 0x1000 && fk.acc[1].addr == 0x2000);

	/* A destination that is not 64-byte aligned faults on the real thing. */
	in[1].val = D(0x220);
	ctx_init(&uc, in, 2);
	before = uc;
	fake_reset();
	assert_int_equal(mmio_emulate(&uc, rax, sizeof(rax), fake_access, &fk, NULL),
			 MMIO_EMU_UNSUPPORTED);
	assert_int_equal(fk.n, 0);
	assert_memory_equal(&uc, &before, sizeof(uc));
}

/* ---- a failing callback changes nothing ---- */

struct fail_row {
	const char *text;
	uint8_t code[15];
	uint8_t len;
	struct rv in[2];
	int fail_at;		/* which access fails */
	unsigned int off, size;	/* the failing access */
	bool write;
};

static const struct fail_row fail_rows[] = {
	{ .text = "movl (%rdi), %eax",
	  .code = { 0x8b, 0x07 }, .len = 2,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 4, .write = false },
	{ .text = "movq %rax, (%rdi)",
	  .code = { 0x48, 0x89, 0x07 }, .len = 3,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 8, .write = true },
	{ .text = "movzbl (%rdi), %eax",
	  .code = { 0x0f, 0xb6, 0x07 }, .len = 3,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 1, .write = false },
	{ .text = "orl $1, (%rdi)",
	  .code = { 0x83, 0x0f, 0x01 }, .len = 3,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 4, .write = false },
	{ .text = "orl $1, (%rdi)",
	  .code = { 0x83, 0x0f, 0x01 }, .len = 3,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 1, .off = T, .size = 4, .write = true },
	{ .text = "lock incq (%rdi)",
	  .code = { 0xf0, 0x48, 0xff, 0x07 }, .len = 4,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 1, .off = T, .size = 8, .write = true },
	{ .text = "xchgl %eax, (%rdi)",
	  .code = { 0x87, 0x07 }, .len = 2,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 1, .off = T, .size = 4, .write = true },
	{ .text = "cmpl (%rdi), %eax",
	  .code = { 0x3b, 0x07 }, .len = 2,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 4, .write = false },
	{ .text = "movq (%rdi), %xmm1",
	  .code = { 0xf3, 0x0f, 0x7e, 0x0f }, .len = 4,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 8, .write = false },
	{ .text = "vmovdqu (%rdi), %ymm1",
	  .code = { 0xc5, 0xfe, 0x6f, 0x0f }, .len = 4,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 32, .write = false },
	{ .text = "vmovdqu %ymm1, (%rdi)",
	  .code = { 0xc5, 0xfe, 0x7f, 0x0f }, .len = 4,
	  .in = { R(RDI, D(T)) },
	  .fail_at = 0, .off = T, .size = 32, .write = true },
	{ .text = "movdir64b (%rdi), %rax",
	  .code = { 0x66, 0x0f, 0x38, 0xf8, 0x07 }, .len = 5,
	  .in = { R(RDI, D(T)), R(RAX, D(0x200)) },
	  .fail_at = 0, .off = T, .size = 64, .write = false },
	{ .text = "movdir64b (%rdi), %rax",
	  .code = { 0x66, 0x0f, 0x38, 0xf8, 0x07 }, .len = 5,
	  .in = { R(RDI, D(T)), R(RAX, D(0x200)) },
	  .fail_at = 1, .off = 0x200, .size = 64, .write = true },
};

static void test_access_failure(void **state)
{
	static uint8_t want[sizeof(fpframe)];

	(void)state;
	for (size_t i = 0; i < sizeof(fail_rows) / sizeof(fail_rows[0]); i++) {
		const struct fail_row *r = &fail_rows[i];
		struct mmio_emu_report rep;
		uint8_t want_dev[PG];
		ucontext_t uc, before;

		dev_reset();
		memcpy(want_dev, dev, PG);
		frame_build(fpframe, true, 0x7);
		memcpy(want, fpframe, sizeof(want));
		ctx_init(&uc, r->in, 2);
		uc.uc_mcontext.fpregs = (void *)fpframe;
		before = uc;
		fake_reset();
		fk.fail_at = r->fail_at;
		CHECK(mmio_emulate(&uc, r->code, r->len, fake_access, &fk, &rep) ==
		      MMIO_EMU_ACCESS_FAILED, r->text, "status");
		CHECK(rep.err == -EAGAIN, r->text, "err %d", rep.err);
		CHECK(rep.addr == dev_addr(r->off) && rep.size == r->size && rep.is_write == r->write,
		      r->text, "report %#llx/%u/%d", (unsigned long long)rep.addr, rep.size,
		      rep.is_write);
		CHECK(rep.insn_len == r->len, r->text, "length");
		CHECK(fk.n == (unsigned int)r->fail_at + 1, r->text, "accesses after the failure");
		CHECK(!memcmp(&uc, &before, sizeof(uc)), r->text, "context changed");
		check_frame(r->text, fpframe, want);
		CHECK(!memcmp(dev, want_dev, PG), r->text, "memory changed");
	}
}

/* ---- what is not emulated is not touched ---- */

struct unsup_row {
	const char *text;
	uint8_t code[16];
	uint8_t len;
	uint8_t decoded_len;	/* 0: not decodable */
	const char *mnemonic;
};

static const struct unsup_row unsup_rows[] = {
	{ .text = "rep movsb",
	  .code = { 0xf3, 0xa4 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "movsb" },
	{ .text = "movsl",
	  .code = { 0xa5 }, .len = 1,
	  .decoded_len = 1, .mnemonic = "movsd" },
	{ .text = "rep stosq",
	  .code = { 0xf3, 0x48, 0xab }, .len = 3,
	  .decoded_len = 3, .mnemonic = "stosq" },
	{ .text = "cmpxchgl %ecx, (%rdi)",
	  .code = { 0x0f, 0xb1, 0x0f }, .len = 3,
	  .decoded_len = 3, .mnemonic = "cmpxchg" },
	{ .text = "lock cmpxchgl %ecx, (%rdi)",
	  .code = { 0xf0, 0x0f, 0xb1, 0x0f }, .len = 4,
	  .decoded_len = 4, .mnemonic = "cmpxchg" },
	{ .text = "xaddl %eax, (%rdi)",
	  .code = { 0x0f, 0xc1, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "xadd" },
	{ .text = "btsl %ecx, (%rdi)",
	  .code = { 0x0f, 0xab, 0x0f }, .len = 3,
	  .decoded_len = 3, .mnemonic = "bts" },
	{ .text = "btl $3, (%rdi)",
	  .code = { 0x0f, 0xba, 0x27, 0x03 }, .len = 4,
	  .decoded_len = 4, .mnemonic = "bt" },
	{ .text = "adcl %ecx, (%rdi)",
	  .code = { 0x11, 0x0f }, .len = 2,
	  .decoded_len = 2, .mnemonic = "adc" },
	{ .text = "sbbl $1, (%rdi)",
	  .code = { 0x83, 0x1f, 0x01 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "sbb" },
	{ .text = "notl (%rdi)",
	  .code = { 0xf7, 0x17 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "not" },
	{ .text = "negq (%rdi)",
	  .code = { 0x48, 0xf7, 0x1f }, .len = 3,
	  .decoded_len = 3, .mnemonic = "neg" },
	{ .text = "shll (%rdi)",
	  .code = { 0xd1, 0x27 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "shl" },
	{ .text = "movbe (%rdi), %eax",
	  .code = { 0x0f, 0x38, 0xf0, 0x07 }, .len = 4,
	  .decoded_len = 4, .mnemonic = "movbe" },
	{ .text = "push (%rdi)",
	  .code = { 0xff, 0x37 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "push" },
	{ .text = "lea (%rdi), %rax",
	  .code = { 0x48, 0x8d, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "lea" },
	{ .text = "movl %ecx, %eax",
	  .code = { 0x89, 0xc8 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "mov" },
	{ .text = "fldl (%rdi)",
	  .code = { 0xdd, 0x07 }, .len = 2,
	  .decoded_len = 2, .mnemonic = "fld" },
	{ .text = "movq (%rdi), %mm0",
	  .code = { 0x0f, 0x6f, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "movq" },
	{ .text = "movd (%rdi), %mm0",
	  .code = { 0x0f, 0x6e, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "movd" },
	{ .text = "movlps (%rdi), %xmm0",
	  .code = { 0x0f, 0x12, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "movlps" },
	{ .text = "movhps (%rdi), %xmm0",
	  .code = { 0x0f, 0x16, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "movhps" },
	{ .text = "vmovdqu32 (%rdi), %xmm0",
	  .code = { 0x62, 0xf1, 0x7e, 0x08, 0x6f, 0x07 }, .len = 6,
	  .decoded_len = 6, .mnemonic = "vmovdqu32" },
	{ .text = "vmovdqu64 (%rdi), %zmm0",
	  .code = { 0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x07 }, .len = 6,
	  .decoded_len = 6, .mnemonic = "vmovdqu64" },
	{ .text = "vpgatherdd %xmm2, (%rax,%xmm1,4), %xmm0",
	  .code = { 0xc4, 0xe2, 0x69, 0x90, 0x04, 0x88 }, .len = 6,
	  .decoded_len = 6, .mnemonic = "vpgatherdd" },
	{ .text = "vmaskmovps (%rdi), %xmm1, %xmm0",
	  .code = { 0xc4, 0xe2, 0x71, 0x2c, 0x07 }, .len = 5,
	  .decoded_len = 5, .mnemonic = "vmaskmovps" },
	{ .text = "vbroadcastss (%rdi), %ymm0",
	  .code = { 0xc4, 0xe2, 0x7d, 0x18, 0x07 }, .len = 5,
	  .decoded_len = 5, .mnemonic = "vbroadcastss" },
	{ .text = "fs movl (%rdi), %eax",
	  .code = { 0x64, 0x8b, 0x07 }, .len = 3,
	  .decoded_len = 3, .mnemonic = "mov" },
	{ .text = "gs movq %rax, (%rdi)",
	  .code = { 0x65, 0x48, 0x89, 0x07 }, .len = 4,
	  .decoded_len = 4, .mnemonic = "mov" },
	{ .text = "movw (%rdi), %ds",
	  .code = { 0x8e, 0x1f }, .len = 2,
	  .decoded_len = 2, .mnemonic = "mov" },
	{ .text = "movw %ds, (%rdi)",
	  .code = { 0x8c, 0x1f }, .len = 2,
	  .decoded_len = 2, .mnemonic = "mov" },
	{ .text = "enqcmds (%rdi), %rax",
	  .code = { 0xf3, 0x0f, 0x38, 0xf8, 0x07 }, .len = 5,
	  .decoded_len = 5, .mnemonic = "enqcmds" },
	{ .text = "clflush (%rdi)",
	  .code = { 0x0f, 0xae, 0x3f }, .len = 3,
	  .decoded_len = 3, .mnemonic = "clflush" },
	{ .text = "prefetcht0 (%rdi)",
	  .code = { 0x0f, 0x18, 0x0f }, .len = 3,
	  .decoded_len = 3, .mnemonic = "prefetcht0" },
	{ .text = "ud2",
	  .code = { 0x0f, 0x0b }, .len = 2,
	  .decoded_len = 2, .mnemonic = "ud2" },
	{ .text = "lock movl %eax, (%rdi) [illegal LOCK]",
	  .code = { 0xf0, 0x89, 0x07 }, .len = 3,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "lock cmpl %eax, (%rdi) [illegal LOCK]",
	  .code = { 0xf0, 0x39, 0x07 }, .len = 3,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "lock addl (%rdi), %eax [illegal LOCK]",
	  .code = { 0xf0, 0x03, 0x07 }, .len = 3,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "lock movdir64b (%rdi), %rax [illegal LOCK]",
	  .code = { 0xf0, 0x66, 0x0f, 0x38, 0xf8, 0x07 }, .len = 6,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "movl (%rdi), %eax [opcode only]",
	  .code = { 0x8b }, .len = 1,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "movl 0x100(%rdi), %eax [disp32 cut short]",
	  .code = { 0x48, 0x8b, 0x87, 0x00, 0x01 }, .len = 5,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "lone VEX prefix",
	  .code = { 0xc4 }, .len = 1,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "16 bytes: 14 prefixes + movl (%rdi), %eax",
	  .code = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		    0x66, 0x66, 0x66, 0x66, 0x8b, 0x07 }, .len = 16,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "EVEX vmovdqu64 cut short",
	  .code = { 0x62, 0xf1, 0xfe, 0x48, 0x6f }, .len = 5,
	  .decoded_len = 0, .mnemonic = NULL },
	{ .text = "VEX.256.F3 0F 6E (no such instruction)",
	  .code = { 0xc5, 0xfe, 0x6e, 0x07 }, .len = 4,
	  .decoded_len = 0, .mnemonic = NULL },
};

static void test_unsupported(void **state)
{
	static uint8_t want[sizeof(fpframe)];
	uint8_t *pages, *code;

	(void)state;
	/* Code ends where a mapping does: reading past code_len would fault. */
	pages = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(pages != MAP_FAILED);
	assert_int_equal(mprotect(pages + PG, PG, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof(unsup_rows) / sizeof(unsup_rows[0]); i++) {
		const struct unsup_row *r = &unsup_rows[i];
		struct rv in[] = { R(RDI, D(T)), R(RAX, D(0x200)), R(RSI, D(0x300)) };
		struct mmio_emu_report rep;
		ucontext_t uc, before;
		enum mmio_emu_status st;

		code = pages + PG - r->len;
		memcpy(code, r->code, r->len);
		dev_reset();
		frame_build(fpframe, true, 0x7);
		memcpy(want, fpframe, sizeof(want));
		ctx_init(&uc, in, 3);
		uc.uc_mcontext.fpregs = (void *)fpframe;
		before = uc;
		fake_reset();
		st = mmio_emulate(&uc, code, r->len, fake_access, &fk, &rep);
		CHECK(st == MMIO_EMU_UNSUPPORTED, r->text, "status %d", st);
		CHECK(fk.n == 0, r->text, "%u accesses", fk.n);
		CHECK(!memcmp(&uc, &before, sizeof(uc)), r->text, "context changed");
		check_frame(r->text, fpframe, want);
		CHECK(rep.insn_len == r->decoded_len, r->text, "length %u", rep.insn_len);
		if (r->mnemonic)
			CHECK(rep.mnemonic && !strcmp(rep.mnemonic, r->mnemonic), r->text,
			      "mnemonic %s", rep.mnemonic ? rep.mnemonic : "(null)");
		else
			CHECK(!rep.mnemonic, r->text, "mnemonic %s", rep.mnemonic);
	}
	/* No bytes at all. */
	{
		ucontext_t uc;

		ctx_init(&uc, NULL, 0);
		assert_int_equal(mmio_emulate(&uc, pages, 0, fake_access, &fk, NULL),
				 MMIO_EMU_UNSUPPORTED);
	}
	munmap(pages, 2 * PG);
}

/*
 * The emulator remembers decodings per thread: different bytes at the same
 * RIP (code rewritten, or another instruction hashing alike) must each be
 * decoded as themselves, and a cached instruction must not be taken for
 * bytes that stop short of it.
 */
static void test_decode_cache(void **state)
{
	static const struct {
		uint8_t code[3];
		unsigned int len, size;	/* size 0: must not be emulated */
	} seq[] = {
		{ { 0x8b, 0x07 }, 2, 4 },	/* mov eax, [rdi] */
		{ { 0x66, 0x8b, 0x07 }, 3, 2 },	/* mov ax, [rdi] */
		{ { 0x66, 0x8b, 0x07 }, 2, 0 },	/* the same, cut short */
		{ { 0x8a, 0x07 }, 2, 1 },	/* mov al, [rdi] */
		{ { 0x8b, 0x07 }, 2, 4 },
		{ { 0x66, 0x8b, 0x07 }, 3, 2 },
	};

	(void)state;
	for (int rip = 0; rip < 8; rip++) {
		for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
			struct rv in[] = { R(RDI, D(T)) };
			enum mmio_emu_status st;
			ucontext_t uc;

			dev_reset();
			ctx_init(&uc, in, 1);
			uc.uc_mcontext.gregs[REG_RIP] += rip;
			fake_reset();
			st = mmio_emulate(&uc, seq[i].code, seq[i].len, fake_access, &fk, NULL);
			if (!seq[i].size) {
				assert_int_equal(st, MMIO_EMU_UNSUPPORTED);
				assert_int_equal(fk.n, 0);
				continue;
			}
			assert_int_equal(st, MMIO_EMU_OK);
			assert_int_equal(fk.n, 1);
			assert_int_equal(fk.acc[0].size, seq[i].size);
			assert_int_equal(uc.uc_mcontext.gregs[REG_RIP],
					 (greg_t)D(0x800) + rip + seq[i].len);
		}
	}
}

/* ---- real signal frames from this kernel ---- */

static uint8_t *trap;				/* PROT_NONE */
static uint8_t shadow[PG] __attribute__((aligned(64)));	/* what the "device" holds */
static volatile sig_atomic_t sig_ok, sig_bad;

/* Trapped page -> shadow; anything else is plain memory. */
static int shadow_access(void *ctx, uint64_t addr, void *buf, unsigned int size, bool is_write)
{
	uint8_t *p = (uint8_t *)(uintptr_t)addr;

	(void)ctx;
	if (addr >= (uint64_t)(uintptr_t)trap && addr < (uint64_t)(uintptr_t)trap + PG) {
		if (addr + size > (uint64_t)(uintptr_t)trap + PG)
			return -EFAULT;
		p = shadow + (addr - (uint64_t)(uintptr_t)trap);
	}
	if (is_write)
		memcpy(p, buf, size);
	else
		memcpy(buf, p, size);
	return 0;
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	const uint8_t *rip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	struct mmio_emu_report rep;

	(void)si;
	if (mmio_emulate(uc, rip, 15, shadow_access, NULL, &rep) == MMIO_EMU_OK) {
		sig_ok++;
		return;
	}
	sig_bad++;
	/* Let the test go on and report: run it for real, or step over it. */
	if (sig == SIGSEGV)
		mprotect(trap, PG, PROT_READ | PROT_WRITE);
	else if (rep.insn_len)
		uc->uc_mcontext.gregs[REG_RIP] += rep.insn_len;
	else
		_exit(99);
}

static void test_real_signal_frames(void **state)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO }, old_segv, old_ill;
	uint8_t in32[32], out32[32], out64[64], src64[64];
	uint64_t q, v64;
	uint32_t l;
	uint8_t s, z, c, o;
	int expect = 0;

	(void)state;
	if (!__builtin_cpu_supports("avx2"))
		skip();
	trap = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(trap != MAP_FAILED);
	for (unsigned int i = 0; i < PG; i++)
		shadow[i] = (uint8_t)(i * 13 + 1);
	for (unsigned int i = 0; i < 32; i++)
		in32[i] = (uint8_t)(0xe0 + i);
	for (unsigned int i = 0; i < 64; i++)
		src64[i] = (uint8_t)(0x40 ^ i);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old_segv), 0);
	assert_int_equal(sigaction(SIGILL, &sa, &old_ill), 0);

	/* Loads: 32-bit zero-extends, byte sign-extends. */
	q = 0xffffffffffffffffull;
	asm volatile("movl 8(%1), %k0" : "+r"(q) : "r"(trap) : "memory");
	expect++;
	assert_int_equal(q, (uint64_t)shadow[8] | shadow[9] << 8 | shadow[10] << 16 |
			 (uint64_t)shadow[11] << 24);
	asm volatile("movsbq 12(%1), %0" : "=r"(v64) : "r"(trap) : "memory");
	expect++;
	assert_int_equal(v64, (uint64_t)(int64_t)(int8_t)shadow[12]);

	/* A store. */
	asm volatile("movq %0, 16(%1)" : : "r"(0x1122334455667788ull), "r"(trap) : "memory");
	expect++;
	memcpy(&q, shadow + 16, 8);
	assert_int_equal(q, 0x1122334455667788ull);

	/* Read-modify-write: the flags reach the code after it. */
	memset(shadow + 24, 0, 8);
	asm volatile("orl $0x80000000, 24(%3)\n\tsets %0\n\tsetz %1\n\tsetc %2"
		     : "=q"(s), "=q"(z), "=q"(c) : "r"(trap) : "cc", "memory");
	expect++;
	assert_true(s == 1 && z == 0 && c == 0);
	memcpy(&l, shadow + 24, 4);
	assert_int_equal(l, 0x80000000u);
	asm volatile("stc\n\tlock decl 24(%3)\n\tsetc %0\n\tsets %1\n\tseto %2"
		     : "=q"(c), "=q"(s), "=q"(o) : "r"(trap) : "cc", "memory");
	expect++;
	assert_true(c == 1 && s == 0 && o == 1);	/* CF kept; 0x80000000 - 1 overflows */
	memcpy(&l, shadow + 24, 4);
	assert_int_equal(l, 0x7fffffffu);
	asm volatile("cmpl $0x7fffffff, 24(%2)\n\tsetz %0\n\tsetc %1"
		     : "=q"(z), "=q"(c) : "r"(trap) : "cc", "memory");
	expect++;
	assert_true(z == 1 && c == 0);

	/* XCHG: the register gets the old value. */
	l = 0xabcdef01;
	asm volatile("xchgl %0, 24(%1)" : "+r"(l) : "r"(trap) : "memory");
	expect++;
	assert_int_equal(l, 0x7fffffffu);
	memcpy(&l, shadow + 24, 4);
	assert_int_equal(l, 0xabcdef01u);

	/* 32-byte load into ymm1 and store from ymm2. */
	asm volatile("vmovdqu 64(%0), %%ymm1\n\tvmovdqu %%ymm1, (%1)"
		     : : "r"(trap), "r"(out32) : "xmm1", "memory");
	expect++;
	assert_memory_equal(out32, shadow + 64, 32);
	asm volatile("vmovdqu (%0), %%ymm2\n\tvmovdqu %%ymm2, 128(%1)"
		     : : "r"(in32), "r"(trap) : "xmm2", "memory");
	expect++;
	assert_memory_equal(shadow + 128, in32, 32);

	/* Legacy SSE load keeps the upper YMM half; VEX.128 zeroes it; MOVQ
	 * zeroes bits 64-127. */
	asm volatile("vmovdqu (%1), %%ymm3\n\tmovdqu 64(%0), %%xmm3\n\tvmovdqu %%ymm3, (%2)"
		     : : "r"(trap), "r"(in32), "r"(out32) : "xmm3", "memory");
	expect++;
	assert_memory_equal(out32, shadow + 64, 16);
	assert_memory_equal(out32 + 16, in32 + 16, 16);
	asm volatile("vmovdqu (%1), %%ymm4\n\tvmovdqu 64(%0), %%xmm4\n\tvmovdqu %%ymm4, (%2)"
		     : : "r"(trap), "r"(in32), "r"(out32) : "xmm4", "memory");
	expect++;
	assert_memory_equal(out32, shadow + 64, 16);
	memset(out64, 0, 32);
	assert_memory_equal(out32 + 16, out64, 16);
	asm volatile("vmovdqu (%1), %%ymm5\n\tmovq 72(%0), %%xmm5\n\tvmovdqu %%ymm5, (%2)"
		     : : "r"(trap), "r"(in32), "r"(out32) : "xmm5", "memory");
	expect++;
	assert_memory_equal(out32, shadow + 72, 8);
	assert_memory_equal(out32 + 8, out64, 8);
	assert_memory_equal(out32 + 16, in32 + 16, 16);

	/* With AVX-512, a VEX.256 load also zeroes bits 256-511. */
	if (__builtin_cpu_supports("avx512f")) {
		asm volatile("vpternlogd $0xff, %%zmm6, %%zmm6, %%zmm6\n\t"
			     "vmovdqu 64(%0), %%ymm6\n\tvmovdqu64 %%zmm6, (%1)"
			     : : "r"(trap), "r"(out64) : "xmm6", "memory");
		expect++;
		assert_memory_equal(out64, shadow + 64, 32);
		memset(out32, 0, 32);
		assert_memory_equal(out64 + 32, out32, 32);
	}

	/* MOVDIR64B from ordinary memory to the trapped page: SIGILL on CPUs
	 * without it, SIGSEGV on those with it; emulated either way. */
	asm volatile("movdir64b (%0), %1" : : "r"(src64), "r"(trap + 256) : "memory");
	expect++;
	assert_memory_equal(shadow + 256, src64, 64);

	assert_int_equal(sig_bad, 0);
	assert_int_equal(sig_ok, expect);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGILL, &old_ill, NULL);
	munmap(trap, PG);
}

static int setup(void **state)
{
	(void)state;
	xstate_layout();
	if (!ymm_off || frame_size + 4 > sizeof(fpframe))
		return -1;
	xpage = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return xpage == MAP_FAILED ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpr_table),
		cmocka_unit_test(test_addressing),
		cmocka_unit_test(test_vector_table),
		cmocka_unit_test(test_xstate_init_components),
		cmocka_unit_test(test_fxsave_only_frame),
		cmocka_unit_test(test_movdir64b),
		cmocka_unit_test(test_access_failure),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_decode_cache),
		cmocka_unit_test(test_real_signal_frames),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
