// SPDX-License-Identifier: MIT
/*
 * Emulating the instruction that touched a trapped register page.  Runs in
 * a SIGSEGV/SIGILL handler on whatever thread faulted, so everything here is
 * async-signal-safe: the decoder lives on the stack, nothing is allocated,
 * and the only static state is a CPUID result that every caller computes
 * identically and each thread's cache of decoded instructions.
 *
 * Nothing in the context changes until every memory access has succeeded,
 * so a failed access leaves registers, RFLAGS and RIP as they were.
 */
#include "mmio_emulate.h"

#include <cpuid.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <Zydis/Zydis.h>

/* Arithmetic flags: CF PF AF ZF SF OF.  INC and DEC leave CF alone. */
#define EFL_ARITH	0x8d5ull
#define EFL_CF		0x001ull

/* The signal frame's fpstate: a 512-byte fxsave image whose software-reserved
 * bytes say whether an XSAVE area follows (arch/x86/include/uapi/asm/
 * sigcontext.h: struct _fpx_sw_bytes). */
#define FX_XMM_OFF		160
#define FX_SW_BYTES_OFF		464
#define FX_SIZE			512
#define XSAVE_HDR_SIZE		64
#define FP_XSTATE_MAGIC1	0x46505853u
#define FP_XSTATE_MAGIC2	0x46505845u
#define XFEATURE_SSE		(1ull << 1)
#define XFEATURE_YMM		(1ull << 2)
#define XFEATURE_ZMM_HI256	(1ull << 6)

struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

/* ---- general-purpose registers ---- */

/* Zydis numbers RAX..R15 in encoding order; the ucontext does not. */
static const int8_t gpr_greg[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

struct gpr {
	int greg;		/* index into gregs */
	unsigned int shift;	/* 8 for AH, CH, DH, BH */
	unsigned int bytes;
};

static bool gpr_lookup(ZydisRegister reg, struct gpr *g)
{
	ZydisRegister r64;

	switch (ZydisRegisterGetClass(reg)) {
	case ZYDIS_REGCLASS_GPR8:
		g->bytes = 1;
		break;
	case ZYDIS_REGCLASS_GPR16:
		g->bytes = 2;
		break;
	case ZYDIS_REGCLASS_GPR32:
		g->bytes = 4;
		break;
	case ZYDIS_REGCLASS_GPR64:
		g->bytes = 8;
		break;
	default:
		return false;
	}
	r64 = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
	if (r64 < ZYDIS_REGISTER_RAX || r64 > ZYDIS_REGISTER_R15)
		return false;
	g->greg = gpr_greg[r64 - ZYDIS_REGISTER_RAX];
	g->shift = (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH) ? 8 : 0;
	return true;
}

static uint64_t trunc_to(uint64_t v, unsigned int bytes)
{
	return bytes >= 8 ? v : v & ((1ull << (bytes * 8)) - 1);
}

static uint64_t sign_extend(uint64_t v, unsigned int bytes)
{
	unsigned int sh = 64 - bytes * 8;

	return bytes >= 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}

static uint64_t gpr_get(const ucontext_t *uc, const struct gpr *g)
{
	return trunc_to((uint64_t)uc->uc_mcontext.gregs[g->greg] >> g->shift, g->bytes);
}

/* Writes as the CPU does: 32-bit destinations zero-extend, 8- and 16-bit
 * ones keep the rest of the register. */
static void gpr_put(ucontext_t *uc, const struct gpr *g, uint64_t v)
{
	uint64_t old = (uint64_t)uc->uc_mcontext.gregs[g->greg];
	uint64_t mask;

	switch (g->bytes) {
	case 4:
		v = (uint32_t)v;
		break;
	case 8:
		break;
	default:
		mask = ((1ull << (g->bytes * 8)) - 1) << g->shift;
		v = (old & ~mask) | ((v << g->shift) & mask);
		break;
	}
	uc->uc_mcontext.gregs[g->greg] = (greg_t)v;
}

static uint64_t load_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	memcpy(&v, p, bytes);
	return v;
}

/* ---- vector registers in the signal frame ---- */

/* Where the XSAVE components sit in the standard (non-compacted) format the
 * kernel writes to signal frames.  Cached: every thread computes the same
 * values, so a race only repeats the work. */
static uint32_t xoff_ymm, xoff_zmm;
static int xoff_ready;

static void xstate_offsets(uint32_t *ymm, uint32_t *zmm)
{
	unsigned int a, b, c, d;

	if (!__atomic_load_n(&xoff_ready, __ATOMIC_ACQUIRE)) {
		uint32_t y = 0, z = 0;

		if (__get_cpuid_max(0, NULL) >= 0xd) {
			__cpuid_count(0xd, 2, a, b, c, d);
			if (a == 256)
				y = b;
			__cpuid_count(0xd, 6, a, b, c, d);
			if (a == 512)
				z = b;
		}
		__atomic_store_n(&xoff_ymm, y, __ATOMIC_RELAXED);
		__atomic_store_n(&xoff_zmm, z, __ATOMIC_RELAXED);
		__atomic_store_n(&xoff_ready, 1, __ATOMIC_RELEASE);
	}
	*ymm = __atomic_load_n(&xoff_ymm, __ATOMIC_RELAXED);
	*zmm = __atomic_load_n(&xoff_zmm, __ATOMIC_RELAXED);
}

struct vstate {
	uint8_t *fx;		/* fxsave image; NULL: no FP state */
	uint8_t *bv;		/* XSTATE_BV; NULL: no XSAVE area (fxsave only) */
	uint8_t *ymmh;		/* YMM_Hi128, 16 bytes a register; NULL: absent */
	uint8_t *zmmh;		/* ZMM_Hi256, 32 bytes a register; NULL: absent */
};

static void vstate_get(ucontext_t *uc, struct vstate *v)
{
	struct fpx_sw_bytes sw;
	uint32_t ymm, zmm, magic2;

	memset(v, 0, sizeof(*v));
	v->fx = (uint8_t *)uc->uc_mcontext.fpregs;
	if (!v->fx)
		return;
	memcpy(&sw, v->fx + FX_SW_BYTES_OFF, sizeof(sw));
	/* The same checks the kernel makes before trusting the frame. */
	if (sw.magic1 != FP_XSTATE_MAGIC1 || sw.xstate_size < FX_SIZE + XSAVE_HDR_SIZE ||
	    sw.extended_size < sw.xstate_size + sizeof(magic2))
		return;
	memcpy(&magic2, v->fx + sw.xstate_size, sizeof(magic2));
	if (magic2 != FP_XSTATE_MAGIC2)
		return;
	v->bv = v->fx + FX_SIZE;
	xstate_offsets(&ymm, &zmm);
	if ((sw.xfeatures & XFEATURE_YMM) && ymm >= FX_SIZE + XSAVE_HDR_SIZE &&
	    ymm + 256 <= sw.xstate_size)
		v->ymmh = v->fx + ymm;
	if ((sw.xfeatures & XFEATURE_ZMM_HI256) && zmm >= FX_SIZE + XSAVE_HDR_SIZE &&
	    zmm + 512 <= sw.xstate_size)
		v->zmmh = v->fx + zmm;
}

static uint64_t vstate_bv(const struct vstate *v)
{
	uint64_t bv;

	if (!v->bv)
		return XFEATURE_SSE;	/* fxsave image: XMM always valid */
	memcpy(&bv, v->bv, sizeof(bv));
	return bv;
}

/* A component whose XSTATE_BV bit is clear is in its initial state (zero)
 * whatever the image holds, and XRSTOR would reload it as zero: before we
 * write part of it, make the image say zero and mark it in use. */
static void vstate_touch(struct vstate *v, uint64_t feature, uint8_t *area, size_t len)
{
	uint64_t bv = vstate_bv(v);

	if (!v->bv || (bv & feature))
		return;
	memset(area, 0, len);
	bv |= feature;
	memcpy(v->bv, &bv, sizeof(bv));
}

static int vreg_id(ZydisRegister reg, unsigned int *bytes)
{
	ZydisRegisterClass cls = ZydisRegisterGetClass(reg);
	int id = ZydisRegisterGetId(reg);

	if (cls == ZYDIS_REGCLASS_XMM)
		*bytes = 16;
	else if (cls == ZYDIS_REGCLASS_YMM)
		*bytes = 32;
	else
		return -1;
	return id >= 0 && id < 16 ? id : -1;	/* 16-31 need EVEX */
}

/* Reads the low n bytes (n <= 32) of the register. */
static void vreg_read(const struct vstate *v, int id, uint8_t *buf, unsigned int n)
{
	uint64_t bv = vstate_bv(v);

	memset(buf, 0, n);
	if (bv & XFEATURE_SSE)
		memcpy(buf, v->fx + FX_XMM_OFF + 16 * id, n < 16 ? n : 16);
	if (n > 16 && (bv & XFEATURE_YMM))
		memcpy(buf + 16, v->ymmh + 16 * id, n - 16);
}

/*
 * Writes n bytes (4, 8, 16 or 32) to the low end of the register.  Every
 * load we emulate zeroes the rest of the XMM register; VEX forms also zero
 * everything above it (YMM and, with AVX-512, ZMM upper bits), legacy SSE
 * forms leave the upper YMM half alone.
 */
static void vreg_write(struct vstate *v, int id, const uint8_t *buf, unsigned int n, bool vex)
{
	uint8_t xmm[16] = { 0 };

	memcpy(xmm, buf, n < 16 ? n : 16);
	vstate_touch(v, XFEATURE_SSE, v->fx + FX_XMM_OFF, 16 * 16);
	memcpy(v->fx + FX_XMM_OFF + 16 * id, xmm, 16);
	if (n > 16) {
		vstate_touch(v, XFEATURE_YMM, v->ymmh, 16 * 16);
		memcpy(v->ymmh + 16 * id, buf + 16, 16);
	} else if (vex && (vstate_bv(v) & XFEATURE_YMM)) {
		memset(v->ymmh + 16 * id, 0, 16);
	}
	if (vex && v->zmmh && (vstate_bv(v) & XFEATURE_ZMM_HI256))
		memset(v->zmmh + 32 * id, 0, 32);
}

/* ---- arithmetic with the CPU's own flags ---- */

enum alu_op { ALU_ADD, ALU_OR, ALU_AND, ALU_XOR, ALU_SUB, ALU_CMP, ALU_TEST, ALU_INC, ALU_DEC };

/* pushfq writes below RSP: step over the red zone the compiler may be using.
 * LEA leaves the flags alone. */
#define SAVE_FLAGS	"\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %1\n\tlea 128(%%rsp), %%rsp"

#define ALU2(name)								\
static uint64_t alu_##name(unsigned int size, uint64_t a, uint64_t b, uint64_t *res) \
{										\
	uint64_t fl;								\
										\
	switch (size) {								\
	case 1: {								\
		uint8_t x = a;							\
		asm(#name "b %2, %0" SAVE_FLAGS					\
		    : "+q"(x), "=r"(fl) : "q"((uint8_t)b) : "cc");		\
		*res = x;							\
		break;								\
	}									\
	case 2: {								\
		uint16_t x = a;							\
		asm(#name "w %2, %0" SAVE_FLAGS					\
		    : "+r"(x), "=r"(fl) : "r"((uint16_t)b) : "cc");		\
		*res = x;							\
		break;								\
	}									\
	case 4: {								\
		uint32_t x = a;							\
		asm(#name "l %2, %0" SAVE_FLAGS					\
		    : "+r"(x), "=r"(fl) : "r"((uint32_t)b) : "cc");		\
		*res = x;							\
		break;								\
	}									\
	default: {								\
		uint64_t x = a;							\
		asm(#name "q %2, %0" SAVE_FLAGS					\
		    : "+r"(x), "=r"(fl) : "r"(b) : "cc");			\
		*res = x;							\
		break;								\
	}									\
	}									\
	return fl;								\
}

#define ALU1(name)								\
static uint64_t alu_##name(unsigned int size, uint64_t a, uint64_t b, uint64_t *res) \
{										\
	uint64_t fl;								\
										\
	(void)b;								\
	switch (size) {								\
	case 1: {								\
		uint8_t x = a;							\
		asm(#name "b %0" SAVE_FLAGS : "+q"(x), "=r"(fl) : : "cc");	\
		*res = x;							\
		break;								\
	}									\
	case 2: {								\
		uint16_t x = a;							\
		asm(#name "w %0" SAVE_FLAGS : "+r"(x), "=r"(fl) : : "cc");	\
		*res = x;							\
		break;								\
	}									\
	case 4: {								\
		uint32_t x = a;							\
		asm(#name "l %0" SAVE_FLAGS : "+r"(x), "=r"(fl) : : "cc");	\
		*res = x;							\
		break;								\
	}									\
	default: {								\
		uint64_t x = a;							\
		asm(#name "q %0" SAVE_FLAGS : "+r"(x), "=r"(fl) : : "cc");	\
		*res = x;							\
		break;								\
	}									\
	}									\
	return fl;								\
}

/* AT&T "sub %2, %0" is Intel "sub %0, %2": a - b, as the instruction does. */
ALU2(add)
ALU2(or)
ALU2(and)
ALU2(xor)
ALU2(sub)
ALU2(cmp)
ALU2(test)
ALU1(inc)
ALU1(dec)

static uint64_t (*const alu_fn[])(unsigned int, uint64_t, uint64_t, uint64_t *) = {
	[ALU_ADD] = alu_add, [ALU_OR] = alu_or, [ALU_AND] = alu_and,
	[ALU_XOR] = alu_xor, [ALU_SUB] = alu_sub, [ALU_CMP] = alu_cmp,
	[ALU_TEST] = alu_test, [ALU_INC] = alu_inc, [ALU_DEC] = alu_dec,
};

/* ---- what each mnemonic is ---- */

enum emu_kind { K_NONE, K_MOVE, K_ALU, K_XCHG, K_MOVDIR64B };

struct emu_desc {
	enum emu_kind kind;
	enum alu_op op;		/* K_ALU */
	bool gpr;		/* K_MOVE: the register operand is a GPR ... */
	bool vec;		/* ... or an XMM/YMM register */
	bool sign;		/* K_MOVE to a GPR: sign-extend the load */
	bool aligned;		/* #GP unless aligned to the operand size */
};

static struct emu_desc describe(ZydisMnemonic m)
{
	struct emu_desc d = { .kind = K_MOVE };

	switch (m) {
	case ZYDIS_MNEMONIC_MOV:
	case ZYDIS_MNEMONIC_MOVNTI:
	case ZYDIS_MNEMONIC_MOVZX:
		d.gpr = true;
		break;
	case ZYDIS_MNEMONIC_MOVSX:
	case ZYDIS_MNEMONIC_MOVSXD:
		d.gpr = d.sign = true;
		break;
	case ZYDIS_MNEMONIC_MOVD:
	case ZYDIS_MNEMONIC_MOVQ:
	case ZYDIS_MNEMONIC_MOVSS:
	case ZYDIS_MNEMONIC_MOVSD:	/* the string MOVSD has no visible operands */
	case ZYDIS_MNEMONIC_MOVDQU:
	case ZYDIS_MNEMONIC_MOVUPS:
	case ZYDIS_MNEMONIC_MOVUPD:
	case ZYDIS_MNEMONIC_VMOVD:
	case ZYDIS_MNEMONIC_VMOVQ:
	case ZYDIS_MNEMONIC_VMOVSS:
	case ZYDIS_MNEMONIC_VMOVSD:
	case ZYDIS_MNEMONIC_VMOVDQU:
	case ZYDIS_MNEMONIC_VMOVUPS:
	case ZYDIS_MNEMONIC_VMOVUPD:
		d.vec = true;
		break;
	case ZYDIS_MNEMONIC_MOVDQA:
	case ZYDIS_MNEMONIC_MOVAPS:
	case ZYDIS_MNEMONIC_MOVAPD:
	case ZYDIS_MNEMONIC_MOVNTDQ:
	case ZYDIS_MNEMONIC_MOVNTPS:
	case ZYDIS_MNEMONIC_MOVNTPD:
	case ZYDIS_MNEMONIC_MOVNTDQA:
	case ZYDIS_MNEMONIC_VMOVDQA:
	case ZYDIS_MNEMONIC_VMOVAPS:
	case ZYDIS_MNEMONIC_VMOVAPD:
	case ZYDIS_MNEMONIC_VMOVNTDQ:
	case ZYDIS_MNEMONIC_VMOVNTPS:
	case ZYDIS_MNEMONIC_VMOVNTPD:
	case ZYDIS_MNEMONIC_VMOVNTDQA:
		d.vec = d.aligned = true;
		break;
	case ZYDIS_MNEMONIC_ADD:
		d.kind = K_ALU, d.op = ALU_ADD;
		break;
	case ZYDIS_MNEMONIC_OR:
		d.kind = K_ALU, d.op = ALU_OR;
		break;
	case ZYDIS_MNEMONIC_AND:
		d.kind = K_ALU, d.op = ALU_AND;
		break;
	case ZYDIS_MNEMONIC_XOR:
		d.kind = K_ALU, d.op = ALU_XOR;
		break;
	case ZYDIS_MNEMONIC_SUB:
		d.kind = K_ALU, d.op = ALU_SUB;
		break;
	case ZYDIS_MNEMONIC_CMP:
		d.kind = K_ALU, d.op = ALU_CMP;
		break;
	case ZYDIS_MNEMONIC_TEST:
		d.kind = K_ALU, d.op = ALU_TEST;
		break;
	case ZYDIS_MNEMONIC_INC:
		d.kind = K_ALU, d.op = ALU_INC;
		break;
	case ZYDIS_MNEMONIC_DEC:
		d.kind = K_ALU, d.op = ALU_DEC;
		break;
	case ZYDIS_MNEMONIC_XCHG:
		d.kind = K_XCHG;
		break;
	case ZYDIS_MNEMONIC_MOVDIR64B:
		d.kind = K_MOVDIR64B;
		break;
	default:
		d.kind = K_NONE;
		break;
	}
	return d;
}

/* ---- one emulation ---- */

struct emu {
	ucontext_t *uc;
	const ZydisDecodedInstruction *in;
	const ZydisDecodedOperand *ops;
	mmio_access_fn access;
	void *ctx;
	struct mmio_emu_report *rep;
};

/* base + index * scale + disp, wrapped to the address size.  Truncating the
 * 64-bit sum gives the same result as adding 32-bit registers. */
static bool effective_address(const struct emu *e, const ZydisDecodedOperand *op, uint64_t *ea)
{
	const ZydisDecodedOperandMem *m = &op->mem;
	const greg_t *gregs = e->uc->uc_mcontext.gregs;
	uint64_t a = (uint64_t)m->disp.value;
	struct gpr g;

	if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || m->type != ZYDIS_MEMOP_TYPE_MEM)
		return false;
	/* FS and GS have bases we do not know; the others are zero here. */
	if (m->segment == ZYDIS_REGISTER_FS || m->segment == ZYDIS_REGISTER_GS)
		return false;
	if (m->base == ZYDIS_REGISTER_RIP || m->base == ZYDIS_REGISTER_EIP) {
		a += (uint64_t)gregs[REG_RIP] + e->in->length;
	} else if (m->base != ZYDIS_REGISTER_NONE) {
		if (!gpr_lookup(m->base, &g))
			return false;
		a += (uint64_t)gregs[g.greg];
	}
	if (m->index != ZYDIS_REGISTER_NONE) {
		if (!gpr_lookup(m->index, &g))
			return false;
		a += (uint64_t)gregs[g.greg] * m->scale;
	}
	if (e->in->address_width == 32)
		a = (uint32_t)a;
	else if (e->in->address_width != 64)
		return false;
	*ea = a;
	return true;
}

static int do_access(const struct emu *e, uint64_t addr, void *buf, unsigned int size,
		     bool is_write)
{
	int r = e->access(e->ctx, addr, buf, size, is_write);

	if (r == 0)
		return 0;
	e->rep->addr = addr;
	e->rep->size = size;
	e->rep->is_write = is_write;
	e->rep->err = r < 0 ? r : -EIO;
	return -1;
}

static void set_operand(const struct emu *e, uint64_t addr, unsigned int size, bool is_write)
{
	e->rep->addr = addr;
	e->rep->size = size;
	e->rep->is_write = is_write;
}

static void finish(const struct emu *e, uint64_t efl, uint64_t efl_mask)
{
	greg_t *gregs = e->uc->uc_mcontext.gregs;

	gregs[REG_EFL] = (greg_t)(((uint64_t)gregs[REG_EFL] & ~efl_mask) | (efl & efl_mask));
	gregs[REG_RIP] += e->in->length;
}

/* The visible operands: exactly one memory operand and want - 1 registers or
 * immediates, returned in other[].  Returns the memory operand's position or
 * -1. */
static int split_operands(const struct emu *e, unsigned int want, const ZydisDecodedOperand **other)
{
	int mem = -1;
	unsigned int i, n = 0;

	if (e->in->operand_count_visible != want)
		return -1;
	for (i = 0; i < want; i++) {
		const ZydisDecodedOperand *op = &e->ops[i];

		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (mem >= 0)
				return -1;
			mem = (int)i;
		} else if ((op->type == ZYDIS_OPERAND_TYPE_REGISTER ||
			    op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) && n + 1 < want) {
			other[n++] = op;
		} else {
			return -1;
		}
	}
	return mem;
}

static enum mmio_emu_status emu_move(const struct emu *e, const struct emu_desc *d)
{
	const ZydisDecodedOperand *other[1], *mop;
	uint8_t buf[32];
	unsigned int size, rbytes = 0;
	bool vex = e->in->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX;
	bool load;
	struct vstate v;
	struct gpr g;
	uint64_t ea, val;
	int mi, vid = -1;

	mi = split_operands(e, 2, other);
	if (mi < 0)
		return MMIO_EMU_UNSUPPORTED;
	mop = &e->ops[mi];
	load = mi == 1;
	size = mop->size / 8;
	if (!effective_address(e, mop, &ea))
		return MMIO_EMU_UNSUPPORTED;
	set_operand(e, ea, size, !load);

	if (other[0]->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		if (load || !d->gpr || size > 8)
			return MMIO_EMU_UNSUPPORTED;
		val = trunc_to(other[0]->imm.value.u, size);
		memcpy(buf, &val, size);
		if (do_access(e, ea, buf, size, true))
			return MMIO_EMU_ACCESS_FAILED;
		finish(e, 0, 0);
		return MMIO_EMU_OK;
	}

	if (d->gpr && gpr_lookup(other[0]->reg.value, &g)) {
		if (size != 1 && size != 2 && size != 4 && size != 8)
			return MMIO_EMU_UNSUPPORTED;
		if (load) {
			if (do_access(e, ea, buf, size, false))
				return MMIO_EMU_ACCESS_FAILED;
			val = load_le(buf, size);
			gpr_put(e->uc, &g, d->sign ? sign_extend(val, size) : val);
		} else {
			if (g.bytes != size)
				return MMIO_EMU_UNSUPPORTED;
			val = gpr_get(e->uc, &g);
			memcpy(buf, &val, size);
			if (do_access(e, ea, buf, size, true))
				return MMIO_EMU_ACCESS_FAILED;
		}
		finish(e, 0, 0);
		return MMIO_EMU_OK;
	}

	if (d->vec)
		vid = vreg_id(other[0]->reg.value, &rbytes);
	if (vid < 0)
		return MMIO_EMU_UNSUPPORTED;
	if (size != 4 && size != 8 && size != 16 && size != 32)
		return MMIO_EMU_UNSUPPORTED;
	if (size > rbytes || (d->aligned && (ea & (size - 1))))
		return MMIO_EMU_UNSUPPORTED;
	vstate_get(e->uc, &v);
	if (!v.fx)
		return MMIO_EMU_UNSUPPORTED;
	/* VEX means AVX state exists and its upper halves are ours to zero. */
	if ((vex || rbytes > 16) && !v.ymmh)
		return MMIO_EMU_UNSUPPORTED;
	if (load) {
		if (do_access(e, ea, buf, size, false))
			return MMIO_EMU_ACCESS_FAILED;
		vreg_write(&v, vid, buf, size, vex);
	} else {
		vreg_read(&v, vid, buf, size);
		if (do_access(e, ea, buf, size, true))
			return MMIO_EMU_ACCESS_FAILED;
	}
	finish(e, 0, 0);
	return MMIO_EMU_OK;
}

static enum mmio_emu_status emu_alu(const struct emu *e, const struct emu_desc *d)
{
	const ZydisDecodedOperand *other[1] = { NULL };
	bool unary = d->op == ALU_INC || d->op == ALU_DEC;
	bool readonly = d->op == ALU_CMP || d->op == ALU_TEST;
	uint64_t ea, m, o = 0, res, fl;
	unsigned int size;
	struct gpr g = { 0 };
	uint8_t buf[8];
	int mi;

	mi = split_operands(e, unary ? 1 : 2, other);
	if (mi < 0)
		return MMIO_EMU_UNSUPPORTED;
	size = e->ops[mi].size / 8;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return MMIO_EMU_UNSUPPORTED;
	if (!effective_address(e, &e->ops[mi], &ea))
		return MMIO_EMU_UNSUPPORTED;
	if (!unary) {
		if (other[0]->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			if (mi != 0)
				return MMIO_EMU_UNSUPPORTED;
			o = trunc_to(other[0]->imm.value.u, size);
		} else {
			if (!gpr_lookup(other[0]->reg.value, &g) || g.bytes != size)
				return MMIO_EMU_UNSUPPORTED;
			o = gpr_get(e->uc, &g);
		}
	}
	/* A memory destination is read, then written; a register destination
	 * (ADD reg, [mem]) only read. */
	set_operand(e, ea, size, mi == 0 && !readonly);

	if (do_access(e, ea, buf, size, false))
		return MMIO_EMU_ACCESS_FAILED;
	m = load_le(buf, size);
	if (mi == 0)
		fl = alu_fn[d->op](size, m, o, &res);
	else
		fl = alu_fn[d->op](size, o, m, &res);
	if (!readonly) {
		if (mi == 0) {
			memcpy(buf, &res, size);
			if (do_access(e, ea, buf, size, true))
				return MMIO_EMU_ACCESS_FAILED;
		} else {
			gpr_put(e->uc, &g, res);
		}
	}
	finish(e, fl, unary ? EFL_ARITH & ~EFL_CF : EFL_ARITH);
	return MMIO_EMU_OK;
}

static enum mmio_emu_status emu_xchg(const struct emu *e)
{
	const ZydisDecodedOperand *other[1];
	uint64_t ea, old, val;
	unsigned int size;
	struct gpr g;
	uint8_t buf[8];
	int mi;

	mi = split_operands(e, 2, other);
	if (mi < 0 || other[0]->type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    !gpr_lookup(other[0]->reg.value, &g))
		return MMIO_EMU_UNSUPPORTED;
	size = e->ops[mi].size / 8;
	if (g.bytes != size || !effective_address(e, &e->ops[mi], &ea))
		return MMIO_EMU_UNSUPPORTED;
	set_operand(e, ea, size, true);
	if (do_access(e, ea, buf, size, false))
		return MMIO_EMU_ACCESS_FAILED;
	old = load_le(buf, size);
	val = gpr_get(e->uc, &g);
	memcpy(buf, &val, size);
	if (do_access(e, ea, buf, size, true))
		return MMIO_EMU_ACCESS_FAILED;
	gpr_put(e->uc, &g, old);
	finish(e, 0, 0);
	return MMIO_EMU_OK;
}

/*
 * MOVDIR64B reg, m512: Zydis 4.0 gives the address register as operand 0,
 * the source as operand 1 and the destination ES:[reg] as a hidden memory
 * operand 2 (reported with segment DS; ES and DS both have base 0 here).
 */
static enum mmio_emu_status emu_movdir64b(const struct emu *e)
{
	uint8_t buf[64];
	uint64_t src, dst;

	if (e->in->operand_count < 3 || e->ops[1].size != 512 || e->ops[2].size != 512 ||
	    !effective_address(e, &e->ops[1], &src) || !effective_address(e, &e->ops[2], &dst))
		return MMIO_EMU_UNSUPPORTED;
	set_operand(e, dst, 64, true);
	if (dst & 63)
		return MMIO_EMU_UNSUPPORTED;	/* #GP on the real thing */
	if (do_access(e, src, buf, 64, false) || do_access(e, dst, buf, 64, true))
		return MMIO_EMU_ACCESS_FAILED;
	finish(e, 0, 0);
	return MMIO_EMU_OK;
}

/* ---- decoding ---- */

/*
 * A driver touches its registers from a handful of instructions in a loop,
 * and decoding one costs about as much as the register access itself.  Each
 * thread keeps the last few decodings, keyed by the instruction's bytes: the
 * decoding is a function of those bytes alone, so a hit is exact even if
 * code was rewritten in between.  A handler that interrupts a lookup on the
 * same thread decodes without the cache.
 */
#define DECODE_CACHE_WAYS	4

struct decoded {
	uint8_t len;		/* 0: empty */
	uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

static __thread struct decoded decode_cache[DECODE_CACHE_WAYS];
static __thread bool decode_cache_busy;

static bool decode_fresh(const uint8_t *code, size_t code_len, ZydisDecodedInstruction *in,
			 ZydisDecodedOperand *ops)
{
	ZydisDecoder dec;

	return ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
					     ZYDIS_STACK_WIDTH_64)) &&
	       ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code, code_len, in, ops));
}

static bool decode(uint64_t rip, const uint8_t *code, size_t code_len,
		   ZydisDecodedInstruction *in, ZydisDecodedOperand *ops)
{
	struct decoded *c = &decode_cache[rip % DECODE_CACHE_WAYS];
	bool ok;

	if (decode_cache_busy)
		return decode_fresh(code, code_len, in, ops);
	decode_cache_busy = true;
	atomic_signal_fence(memory_order_seq_cst);
	if (c->len && c->len <= code_len && !memcmp(c->bytes, code, c->len)) {
		*in = c->in;
		memcpy(ops, c->ops, sizeof(*ops) * in->operand_count);
		ok = true;
	} else {
		ok = decode_fresh(code, code_len, in, ops);
		if (ok) {
			c->len = in->length;
			memcpy(c->bytes, code, in->length);
			c->in = *in;
			memcpy(c->ops, ops, sizeof(*ops) * in->operand_count);
		}
	}
	atomic_signal_fence(memory_order_seq_cst);
	decode_cache_busy = false;
	return ok;
}

enum mmio_emu_status mmio_emulate(ucontext_t *uc, const uint8_t *code, size_t code_len,
				  mmio_access_fn access, void *ctx,
				  struct mmio_emu_report *rep)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct mmio_emu_report scratch;
	struct emu_desc d;
	struct emu e = {
		.uc = uc, .in = &in, .ops = ops, .access = access, .ctx = ctx,
		.rep = rep ? rep : &scratch,
	};

	memset(e.rep, 0, sizeof(*e.rep));
	if (!uc || !code || !code_len || !access)
		return MMIO_EMU_UNSUPPORTED;
	if (!decode((uint64_t)uc->uc_mcontext.gregs[REG_RIP], code, code_len, &in, ops))
		return MMIO_EMU_UNSUPPORTED;
	e.rep->insn_len = in.length;
	e.rep->mnemonic = ZydisMnemonicGetString(in.mnemonic);
	if (in.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY &&
	    in.encoding != ZYDIS_INSTRUCTION_ENCODING_VEX)
		return MMIO_EMU_UNSUPPORTED;

	d = describe(in.mnemonic);
	switch (d.kind) {
	case K_MOVE:
		if (in.encoding == ZYDIS_INSTRUCTION_ENCODING_VEX && !d.vec)
			return MMIO_EMU_UNSUPPORTED;
		return emu_move(&e, &d);
	case K_ALU:
		return emu_alu(&e, &d);
	case K_XCHG:
		return emu_xchg(&e);
	case K_MOVDIR64B:
		return emu_movdir64b(&e);
	default:
		return MMIO_EMU_UNSUPPORTED;
	}
}
