// SPDX-License-Identifier: MIT
/*
 * Device registers through mmap, as a driver written against <linux/vfio.h>
 * uses them: ramdev's whole BAR0 mapped, its register page reached with
 * every instruction form a compiler or a hand-written driver uses for MMIO.
 * Each form runs twice, once on ordinary memory and once on the device's
 * register file, and the results must agree: registers, flags and memory.
 * Also: threads, fork, a program with its own SIGSEGV/SIGBUS handlers, partial
 * munmap, MAP_FIXED, mremap, mprotect, a closed device fd, the clear stop for
 * an instruction that cannot be emulated, and the mmap errnos of vfio-pci.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vfio_util.h"

#define BAR_SIZE	(64 << 10)
#define REG_ID		0x00
#define REG_SCRATCH	0x04
#define REG_READS	0x18
#define REG_FILE	0x100
#define CONFIG		REGION(VFIO_PCI_CONFIG_REGION_INDEX)
#define FLAGS_MASK	0x8d5ull	/* CF PF AF ZF SF OF */

static int dev;
static uint8_t *bar;

/* ---- the differential runs ---- */

struct regs {
	uint64_t a, b, flags;
	uint8_t v[64] __attribute__((aligned(64)));
};

typedef void (*form_fn)(uint8_t *m, struct regs *r);

static void movdir64b_st(uint8_t *m, struct regs *r);
static void movdir64b_ref(uint8_t *m, struct regs *r);
static bool cpu_has_movdir64b(void);

/* Plain memory standing in for the register file, 64-byte aligned like it. */
static uint8_t plain[256] __attribute__((aligned(64)));

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 37 + (i >> 3) * 0x80);
}

/* Runs fn on plain memory and on the register file from the same start and
 * compares what each left behind. */
static void run_form(const char *name, form_fn fn)
{
	uint8_t dev_after[256];
	struct regs rp, rd;

	fill_pattern(plain, sizeof(plain), 0x11);
	CHECK(pwrite(dev, plain, sizeof(plain), REGION(0) + REG_FILE) == sizeof(plain),
	      "%s: preset", name);
	memset(&rp, 0, sizeof(rp));
	rp.a = 0xdeadbeefcafef00dull;
	rp.b = 0x8877665544332211ull;
	fill_pattern(rp.v, sizeof(rp.v), 0x5c);
	rd = rp;

	if (fn == movdir64b_st && !cpu_has_movdir64b())
		movdir64b_ref(plain, &rp);
	else
		fn(plain, &rp);
	fn(bar + REG_FILE, &rd);

	CHECK(pread(dev, dev_after, sizeof(dev_after), REGION(0) + REG_FILE) ==
	      sizeof(dev_after), "%s: read back", name);
	CHECK(!memcmp(dev_after, plain, sizeof(plain)), "%s: device memory differs", name);
	CHECK(rd.a == rp.a, "%s: a = %#llx, want %#llx", name, (unsigned long long)rd.a,
	      (unsigned long long)rp.a);
	CHECK(rd.b == rp.b, "%s: b = %#llx, want %#llx", name, (unsigned long long)rd.b,
	      (unsigned long long)rp.b);
	CHECK((rd.flags & FLAGS_MASK) == (rp.flags & FLAGS_MASK), "%s: flags %#llx, want %#llx",
	      name, (unsigned long long)(rd.flags & FLAGS_MASK),
	      (unsigned long long)(rp.flags & FLAGS_MASK));
	CHECK(!memcmp(rd.v, rp.v, sizeof(rp.v)), "%s: vector registers differ", name);
}

#define FORM(id, body, ...)						\
	static void id(uint8_t *m, struct regs *r)			\
	{								\
		asm volatile(body : __VA_ARGS__);			\
	}

/* plain loads and stores of every size; immediates; sign/zero extension */
FORM(ld8, "movb 3(%2), %b0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(ld8h, "movb 5(%2), %%ah", "+a"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(ld16, "movw 6(%2), %w0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(ld32, "movl 8(%2), %k0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(ld64, "movq 16(%2), %0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(ld64_sib, "movq 8(%2,%3,8), %0", "+r"(r->a), "+r"(r->b) : "r"(m), "r"(3ull) : "memory")
FORM(st8, "movb %b1, 1(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st8h, "movb %%bh, 2(%2)", "+r"(r->a), "+b"(r->b) : "r"(m) : "memory")
FORM(st16, "movw %w1, 10(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st32, "movl %k1, 12(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st64, "movq %1, 24(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st_imm8, "movb $0x5a, 7(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st_imm16, "movw $0x1234, 14(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st_imm32, "movl $0x89abcdef, 20(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(st_imm64, "movq $-2, 32(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(zx8_32, "movzbl 2(%2), %k0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(zx8_64, "movzbq 7(%2), %0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(zx16_32, "movzwl 6(%2), %k0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(zx16_16, "movzbw 9(%2), %w0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(sx8_64, "movsbq 15(%2), %0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(sx8_32, "movsbl 15(%2), %k0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(sx16_64, "movswq 14(%2), %0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(sx32_64, "movslq 12(%2), %0", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(nti32, "movnti %k1, 40(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")
FORM(nti64, "movnti %1, 48(%2)", "+r"(r->a), "+r"(r->b) : "r"(m) : "memory")

/* XMM/YMM: the vector block is loaded into the register first and stored
 * back after, so both what was loaded and what was kept are compared. */
#define VFORM(id, body)							\
	static void id(uint8_t *m, struct regs *r)			\
	{								\
		asm volatile("vmovdqu (%1), %%ymm0\n\t"			\
			     "vmovdqu 32(%1), %%ymm1\n\t"		\
			     body "\n\t"				\
			     "vmovdqu %%ymm0, (%1)\n\t"			\
			     "vmovdqu %%ymm1, 32(%1)"			\
			     : : "r"(m), "r"(r->v) : "memory", "xmm0", "xmm1"); \
	}

VFORM(movd_ld, "movd 4(%0), %%xmm0")
VFORM(movd_st, "movd %%xmm1, 20(%0)")
VFORM(movq_ld, "movq 8(%0), %%xmm0")
VFORM(movq_st, "movq %%xmm1, 24(%0)")
VFORM(movss_ld, "movss 4(%0), %%xmm1")
VFORM(movsd_st, "movsd %%xmm0, 40(%0)")
VFORM(vmovq_ld, "vmovq 8(%0), %%xmm1")
VFORM(movdqa_ld, "movdqa 16(%0), %%xmm0")
VFORM(movdqu_ld, "movdqu 8(%0), %%xmm1")
VFORM(movaps_st, "movaps %%xmm1, 32(%0)")
VFORM(movups_st, "movups %%xmm0, 72(%0)")
VFORM(movapd_ld, "movapd 48(%0), %%xmm1")
VFORM(movupd_st, "movupd %%xmm1, 88(%0)")
VFORM(movntdq_st, "movntdq %%xmm0, 96(%0)")
VFORM(movntps_st, "movntps %%xmm1, 112(%0)")
VFORM(movntdqa_ld, "movntdqa 64(%0), %%xmm0")
VFORM(vmovdqu_x_ld, "vmovdqu 40(%0), %%xmm0")
VFORM(vmovdqu_y_ld, "vmovdqu 8(%0), %%ymm1")
VFORM(vmovdqa_y_st, "vmovdqa %%ymm0, 128(%0)")
VFORM(vmovups_y_st, "vmovups %%ymm1, 168(%0)")
VFORM(vmovaps_y_ld, "vmovaps 64(%0), %%ymm0")
VFORM(vmovntdq_y_st, "vmovntdq %%ymm1, 192(%0)")

/* MOVDIR64B: 64 bytes from ordinary memory to the destination named by a
 * register; undefined on CPUs without it, where the shim takes the SIGILL. */
static void movdir64b_st(uint8_t *m, struct regs *r)
{
	asm volatile("movdir64b (%1), %0" : : "r"(m + 128), "r"(r->v) : "memory");
}

/* What it does, for the run on plain memory where the CPU lacks it. */
static void movdir64b_ref(uint8_t *m, struct regs *r)
{
	memcpy(m + 128, r->v, 64);
}

static bool cpu_has_movdir64b(void)
{
	unsigned int a = 7, b, c = 0, d;

	asm("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 28);
}

/* read-modify-write and compare forms, with the flags they leave */
#define RFORM(id, body, ...)						\
	static void id(uint8_t *m, struct regs *r)			\
	{								\
		asm volatile(body "\n\tpushfq\n\tpopq %2"		\
			     : "+r"(r->a), "+r"(r->b), "=r"(r->flags)	\
			     : "r"(m) : "memory", "cc");			\
	}

RFORM(or8, "orb %b1, 3(%3)")
RFORM(or32_imm, "orl $0x80000001, 8(%3)")
RFORM(and16, "andw %w1, 6(%3)")
RFORM(and64_imm8, "andq $-16, 16(%3)")
RFORM(xor64, "xorq %1, 24(%3)")
RFORM(xor32_self, "xorl %k0, 24(%3)")
RFORM(add32, "addl %k1, 12(%3)")
RFORM(add8_imm, "addb $0x7f, 5(%3)")
RFORM(sub16_imm, "subw $0x1234, 30(%3)")
RFORM(sub64, "subq %0, 32(%3)")
RFORM(inc32, "incl 40(%3)")
RFORM(inc8, "incb 47(%3)")
RFORM(dec64, "decq 48(%3)")
RFORM(dec16, "decw 50(%3)")
RFORM(xchg32, "xchgl %k0, 52(%3)")
RFORM(xchg64, "xchgq %1, 56(%3)")
RFORM(lock_or64, "lock orq %0, 64(%3)")
RFORM(lock_add32, "lock addl %k1, 72(%3)")
RFORM(lock_dec32, "lock decl 76(%3)")
RFORM(cmp32_imm, "cmpl $0x1000, 8(%3)")
RFORM(cmp64_reg, "cmpq %0, 16(%3)")
RFORM(cmp8_rev, "cmpb 3(%3), %b1")
RFORM(test32_imm, "testl $0x80, 12(%3)")
RFORM(test64_reg, "testq %1, 24(%3)")

/* The moffs form (MOV RAX, [imm64]) has the address in the instruction:
 * build it at run time. */
static void moffs_ld(uint8_t *m, struct regs *r)
{
	static uint8_t *code;
	uint64_t addr = (uintptr_t)(m + 32);

	if (!code)
		code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code[0] = 0x48;
	code[1] = 0xa1;
	memcpy(code + 2, &addr, 8);
	code[10] = 0xc3;
	r->a = ((uint64_t (*)(void))(void *)code)();
}

static const struct {
	const char *name;
	form_fn fn;
} forms[] = {
#define F(x) { #x, x }
	F(ld8), F(ld8h), F(ld16), F(ld32), F(ld64), F(ld64_sib), F(st8), F(st8h), F(st16),
	F(st32), F(st64), F(st_imm8), F(st_imm16), F(st_imm32), F(st_imm64), F(zx8_32),
	F(zx8_64), F(zx16_32), F(zx16_16), F(sx8_64), F(sx8_32), F(sx16_64), F(sx32_64),
	F(nti32), F(nti64), F(movd_ld), F(movd_st), F(movq_ld), F(movq_st), F(movss_ld),
	F(movsd_st), F(vmovq_ld), F(movdqa_ld), F(movdqu_ld), F(movaps_st), F(movups_st),
	F(movapd_ld), F(movupd_st), F(movntdq_st), F(movntps_st), F(movntdqa_ld),
	F(vmovdqu_x_ld), F(vmovdqu_y_ld), F(vmovdqa_y_st), F(vmovups_y_st), F(vmovaps_y_ld),
	F(vmovntdq_y_st), F(movdir64b_st), F(or8), F(or32_imm), F(and16), F(and64_imm8),
	F(xor64), F(xor32_self), F(add32), F(add8_imm), F(sub16_imm), F(sub64), F(inc32),
	F(inc8), F(dec64), F(dec16), F(xchg32), F(xchg64), F(lock_or64), F(lock_add32),
	F(lock_dec32), F(cmp32_imm), F(cmp64_reg), F(cmp8_rev), F(test32_imm),
	F(test64_reg), F(moffs_ld),
#undef F
};

static void test_forms(void)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		run_form(forms[i].name, forms[i].fn);
}

/* ---- registers with side effects, program order ---- */

static void test_side_effects(void)
{
	volatile uint32_t *r32 = (volatile uint32_t *)bar;
	volatile uint64_t *reads = (volatile uint64_t *)(bar + REG_READS);
	uint64_t first = *reads, second = *reads, third = *reads;

	CHECK(r32[REG_ID / 4] == 0x11e91234, "ID through the mapping");
	CHECK(second == first + 1 && third == first + 2,
	      "each load reaches the device once, in order: %llu %llu %llu",
	      (unsigned long long)first, (unsigned long long)second, (unsigned long long)third);
	r32[REG_SCRATCH / 4] = 1;
	r32[REG_SCRATCH / 4] = 2;
	CHECK(r32[REG_SCRATCH / 4] == 2 && rd32(dev, REGION(0) + REG_SCRATCH) == 2,
	      "stores in program order");
	/* RAM pages are plain shared memory, seen by pread at once */
	bar[0x1000 + 7] = 0xa5;
	CHECK(rd32(dev, REGION(0) + 0x1004) >> 24 == 0xa5, "RAM page through pread");
}

/* ---- threads ---- */

#define THREADS		4
#define ROUNDS		500

static void *thread_body(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	volatile uint64_t *slot = (volatile uint64_t *)(bar + REG_FILE + 8 * t);
	uintptr_t bad = 0;

	for (uint64_t i = 0; i < ROUNDS; i++) {
		uint64_t v = (t << 56) | i;

		*slot = v;
		if (*slot != v || *(volatile uint32_t *)bar != 0x11e91234)
			bad++;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t th[THREADS];
	uintptr_t bad = 0;

	for (uintptr_t t = 0; t < THREADS; t++)
		REQUIRE(pthread_create(&th[t], NULL, thread_body, (void *)t) == 0, "thread");
	for (int t = 0; t < THREADS; t++) {
		void *ret;

		pthread_join(th[t], &ret);
		bad += (uintptr_t)ret;
	}
	CHECK(bad == 0, "%lu wrong values seen by %d threads", (unsigned long)bad, THREADS);
	for (uint64_t t = 0; t < THREADS; t++) {
		uint64_t v = 0;

		CHECK(pread(dev, &v, 8, REGION(0) + REG_FILE + 8 * t) == 8 &&
		      v == ((t << 56) | (ROUNDS - 1)), "thread %llu's last store",
		      (unsigned long long)t);
	}
}

/* ---- the program's own signal handlers ---- */

static sigjmp_buf jump;
static volatile sig_atomic_t segv_count, bus_count;
static void *volatile segv_addr, *volatile bus_addr;
static volatile int segv_on_altstack, segv_usr1_blocked;
static uint8_t altstack[64 << 10];

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;
	uint8_t here;

	(void)sig;
	(void)uc;
	segv_count++;
	segv_addr = si->si_addr;
	segv_on_altstack = &here >= altstack && &here < altstack + sizeof(altstack);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	segv_usr1_blocked = sigismember(&cur, SIGUSR1);
	siglongjmp(jump, 1);
}

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_count++;
	bus_addr = si->si_addr;
	siglongjmp(jump, 1);
}

/* Touches addr (a load, or a store of v); true if the program's SIGSEGV
 * handler ran instead. */
static bool faults(volatile uint32_t *addr, bool store)
{
	int before = segv_count;

	if (!sigsetjmp(jump, 1)) {
		if (store)
			*addr = 1;
		else
			(void)*addr;
	}
	return segv_count == before + 1 && segv_addr == (void *)addr;
}

static void test_program_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction old;
	uint8_t *none;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	REQUIRE(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_sigaction == on_segv &&
	      (old.sa_flags & SA_ONSTACK), "the program sees its own SIGSEGV handler");

	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(faults((volatile uint32_t *)(none + 8), false),
	      "a fault that is not MMIO reaches the program's handler");
	CHECK(segv_on_altstack, "on its alternate stack (SA_ONSTACK)");
	CHECK(segv_usr1_blocked, "with its sa_mask blocked");
	CHECK(*(volatile uint32_t *)bar == 0x11e91234, "MMIO still works after it");
	munmap(none, 4096);

	/* signal() goes through the same bookkeeping */
	CHECK((uintptr_t)signal(SIGSEGV, SIG_DFL) == (uintptr_t)on_segv,
	      "signal() returns the old one");
	CHECK(sigaction(SIGSEGV, &sa, &old) == 0 && old.sa_handler == SIG_DFL, "signal() took");
}

/* ---- mapping shapes ---- */

static void test_map_shapes(void)
{
	volatile uint32_t *regs;
	uint8_t *where, *m, *moved;

	/* several mappings of the same registers */
	regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev, REGION(0));
	CHECK(regs != MAP_FAILED, "second mapping of the register page");
	regs[REG_SCRATCH / 4] = 77;
	CHECK(*(volatile uint32_t *)(bar + REG_SCRATCH) == 77, "both mappings reach one device");

	/* read-only by mprotect: loads work, stores fault to the program */
	CHECK_OK(mprotect((void *)regs, 4096, PROT_READ));
	CHECK(regs[REG_ID / 4] == 0x11e91234, "load through a read-only mapping");
	CHECK(faults(&regs[REG_SCRATCH / 4], true), "store through a read-only mapping faults");
	CHECK(rd32(dev, REGION(0) + REG_SCRATCH) == 77, "and reaches nothing");
	CHECK_OK(mprotect((void *)regs, 4096, PROT_READ | PROT_WRITE));
	regs[REG_SCRATCH / 4] = 78;
	CHECK(rd32(dev, REGION(0) + REG_SCRATCH) == 78, "writable again");
	munmap((void *)regs, 4096);

	/* MAP_FIXED at an address the program chose */
	where = mmap(NULL, 6 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m = mmap(where + 4096, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, dev,
		 REGION(0));
	CHECK(m == where + 4096, "MAP_FIXED");
	CHECK(*(volatile uint32_t *)m == 0x11e91234, "registers at the fixed address");
	m[4096] = 0x3c;
	CHECK((rd32(dev, REGION(0) + 0x1000) & 0xff) == 0x3c, "RAM at the fixed address");

	/* growing is refused as for a VM_DONTEXPAND mapping; moving is not */
	CHECK(mremap(m, 2 * 4096, 3 * 4096, 0) == MAP_FAILED && errno == EFAULT,
	      "mremap cannot grow a BAR mapping");
	moved = mremap(m, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, where + 3 * 4096);
	REQUIRE(moved == where + 3 * 4096, "mremap moves it: %s", strerror(errno));
	CHECK(*(volatile uint32_t *)moved == 0x11e91234, "registers at the new address");
	CHECK(moved[4096] == 0x3c, "RAM at the new address");
	CHECK(faults((volatile uint32_t *)(where + 4096), false), "nothing left where it was");
	/* shrinking in place keeps what stays */
	CHECK(mremap(moved, 2 * 4096, 4096, 0) == moved, "mremap shrinks it");
	CHECK(*(volatile uint32_t *)moved == 0x11e91234, "registers after shrinking");

	/* a fixed anonymous mapping over the register page replaces it */
	m = mmap(moved, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	REQUIRE(m == moved, "anonymous MAP_FIXED over registers");
	*(volatile uint32_t *)(m + REG_SCRATCH) = 1234;
	CHECK(rd32(dev, REGION(0) + REG_SCRATCH) == 78, "plain memory now, not the device");
	munmap(where, 6 * 4096);

	/* partial munmap: the register page goes, the RAM stays */
	m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev, REGION(0));
	CHECK(m != MAP_FAILED, "map registers + RAM");
	CHECK_OK(munmap(m, 4096));
	CHECK(m[4096] == 0x3c, "RAM page survives a partial munmap");
	CHECK(faults((volatile uint32_t *)m, false), "the unmapped register page faults");
	munmap(m + 4096, 4096);

	/* a length that is not a page multiple maps whole pages, as mmap does */
	m = mmap(NULL, 100, PROT_READ, MAP_SHARED, dev, REGION(0));
	CHECK(m != MAP_FAILED && *(volatile uint32_t *)m == 0x11e91234, "100-byte mapping");
	munmap(m, 100);
}

/* vfio_pci_core_mmap's refusals. */
static void test_mmap_errnos(void)
{
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, dev, REGION(0)), EINVAL);
	CHECK_ERR(mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, dev, REGION(0) + BAR_SIZE - 4096),
		  EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, REGION(0) + 2048), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, REGION(1)), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, REGION(2)), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev,
		       REGION(VFIO_PCI_ROM_REGION_INDEX)), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, CONFIG), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, REGION(9)), EINVAL);
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_SHARED, dev, REGION(0)), EINVAL);

	/* every memory BAR says it can be mapped; the I/O BAR does not */
	for (uint32_t i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		CHECK_OK(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
		CHECK(!!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) == (i == 0 || i == 4),
		      "BAR%u mmap flag %#x", i, ri.flags);
	}
	/* the MSI-X BAR maps too; its table reads as vfio-pci's pread does */
	uint8_t *msix = mmap(NULL, 16 << 10, PROT_READ, MAP_SHARED, dev, REGION(4));

	CHECK(msix != MAP_FAILED, "MSI-X BAR mapping: %s", strerror(errno));
	if (msix != MAP_FAILED) {
		uint32_t v = 0;

		CHECK(pread(dev, &v, 4, REGION(4)) == 4, "pread of the table");
		CHECK(*(volatile uint32_t *)msix == v, "same through the mapping");
		munmap(msix, 16 << 10);
	}
}

/* ---- fork, a closed device fd, memory decode off ---- */

static void test_fork(void)
{
	pid_t pid = fork();
	int status;

	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		volatile uint32_t *r = (volatile uint32_t *)bar;

		r[REG_SCRATCH / 4] = 0xc0ffee;
		_exit(r[REG_ID / 4] == 0x11e91234 && r[REG_SCRATCH / 4] == 0xc0ffee ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the child uses the inherited mapping (status %#x)", status);
	CHECK(rd32(dev, REGION(0) + REG_SCRATCH) == 0xc0ffee, "the child's store reached it");
}

static void test_memory_decode_off(void)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO };
	volatile uint32_t *r = (volatile uint32_t *)bar;
	uint16_t cmd = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	CHECK(pwrite(dev, &cmd, 2, CONFIG + 4) == 2, "memory decode off");
	if (!sigsetjmp(jump, 1))
		(void)r[REG_SCRATCH / 4];
	CHECK(bus_count == 1 && bus_addr == (void *)&r[REG_SCRATCH / 4],
	      "a load with memory decode off is a SIGBUS at its address");
	enable_device(dev);
	CHECK(r[REG_ID / 4] == 0x11e91234, "decode on again");
	signal(SIGBUS, SIG_DFL);
}

/* An instruction the shim does not emulate stops the program and says so. */
static void test_unsupported(void)
{
	int pipefd[2];
	char out[1024] = "";
	ssize_t n = 0, got;
	pid_t pid;
	int status;

	REQUIRE(pipe(pipefd) == 0, "pipe");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		dup2(pipefd[1], 2);
		signal(SIGSEGV, SIG_DFL);
		asm volatile("btsl $3, (%0)" : : "a"(bar + REG_SCRATCH) : "memory", "cc");
		_exit(0);
	}
	close(pipefd[1]);
	while ((got = read(pipefd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += got;
	close(pipefd[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	      WTERMSIG(status) == SIGSEGV, "stopped by SIGSEGV (status %#x)", status);
	CHECK(strstr(out, RAM_BDF0 " BAR0 offset 0x4") && strstr(out, "0f ba 28 03") &&
	      strstr(out, "bts"), "the message names the bytes, device, BAR, offset: %s", out);
}

int main(void)
{
	struct vfio_setup s;
	int dup_fd;

	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	dev = s.device;
	enable_device(dev);
	bar = mmap(NULL, BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev, REGION(0));
	REQUIRE(bar != MAP_FAILED, "mmap of the whole BAR0: %s", strerror(errno));

	test_forms();
	test_side_effects();
	test_threads();
	test_program_handlers();
	test_map_shapes();
	test_mmap_errnos();
	test_fork();
	test_memory_decode_off();
	test_unsupported();

	/* the mapping keeps the device file open, as a VMA holds its file */
	dup_fd = dup(dev);
	close(dev);
	close(dup_fd);
	CHECK(*(volatile uint32_t *)bar == 0x11e91234, "registers after the device fd closed");
	munmap(bar, BAR_SIZE);
	s.device = -1;
	teardown(&s);
	return harness_done("mmio");
}
