// SPDX-License-Identifier: MIT
/*
 * Faults on register pages of mapped BARs (mmio.c keeps the table).  The
 * handler decodes the faulting instruction (mmio_emulate.c), performs its
 * accesses as the region reads and writes of the same size that pread and
 * pwrite would make, delivers a loaded value to its destination register
 * and resumes after the instruction.  It allocates nothing and takes no
 * lock: any thread may fault, at any time.
 *
 * The program keeps its own SIGSEGV and SIGILL handlers: once ours is
 * installed, sigaction() and signal() for those two signals record the
 * program's wish, and every fault that is not a register access goes to the
 * program's handler with its flags and mask, or to the default action.
 * SIGILL is ours too because MOVDIR64B, the 64-byte store of DSA portals,
 * is undefined on CPUs without it and must still reach a device.
 */
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "mmio_emulate.h"

#define PAGE		4096ull
#define INSN_MAX	15	/* the longest x86 instruction */


/* The program's disposition of SIGSEGV [0] and SIGILL [1] while ours is in. */
static struct sigaction prog_act[2];
static _Atomic bool handlers_in;
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

static int sig_slot(int sig)
{
	return sig == SIGSEGV ? 0 : sig == SIGILL ? 1 : -1;
}

static struct sigaction *prog_action(int sig)
{
	return &prog_act[sig == SIGILL];
}

static void mmio_signal(int sig, siginfo_t *si, void *ucv);

/* Ours runs on the alternate stack exactly when the program's would. */
static void install_ours(int sig)
{
	struct sigaction sa = {
		.sa_sigaction = mmio_signal,
		.sa_flags = SA_SIGINFO | (prog_action(sig)->sa_flags & SA_ONSTACK),
	};

	sigemptyset(&sa.sa_mask);
	REAL(sigaction)(sig, &sa, NULL);
}

void shim_mmio_handlers_install(void)
{
	pthread_mutex_lock(&sig_lock);
	if (!atomic_load(&handlers_in)) {
		REAL(sigaction)(SIGSEGV, NULL, &prog_act[0]);
		REAL(sigaction)(SIGILL, NULL, &prog_act[1]);
		install_ours(SIGSEGV);
		install_ours(SIGILL);
		atomic_store(&handlers_in, true);
	}
	pthread_mutex_unlock(&sig_lock);
}

SHIM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int i = sig_slot(sig);

	if (i < 0 || !atomic_load(&handlers_in))
		return REAL(sigaction)(sig, act, old);
	pthread_mutex_lock(&sig_lock);
	if (old)
		*old = prog_act[i];
	if (act) {
		prog_act[i] = *act;
		install_ours(sig);
	}
	pthread_mutex_unlock(&sig_lock);
	return 0;
}

/* glibc's signal() and sysv_signal() set the disposition without going
 * through the exported sigaction: redo them on top of ours. */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags, bool mask_self)
{
	struct sigaction act = { .sa_handler = handler, .sa_flags = flags }, old;

	sigemptyset(&act.sa_mask);
	if (mask_self && sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

SHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, true);
}

SHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, true);
}

SHIM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

SHIM_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

/* A fault that is not a register access: what the kernel would have done
 * without us. */
static void chain(int sig, siginfo_t *si, ucontext_t *uc)
{
	struct sigaction pa = *prog_action(sig);
	sigset_t mask = uc->uc_sigmask;

	if (pa.sa_handler == SIG_DFL || pa.sa_handler == SIG_IGN) {
		/* A fault cannot be ignored: the instruction runs again and the
		 * default action ends the program, with its core. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		REAL(sigaction)(sig, &dfl, NULL);
		return;
	}
	sigorset(&mask, &mask, &pa.sa_mask);
	if (!(pa.sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	if (pa.sa_flags & SA_RESETHAND) {
		prog_action(sig)->sa_handler = SIG_DFL;
		prog_action(sig)->sa_flags &= ~SA_SIGINFO;
	}
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (pa.sa_flags & SA_SIGINFO)
		pa.sa_sigaction(sig, si, uc);
	else
		pa.sa_handler(sig);
}

/* A BAR access the device could not take (memory decode off, the daemon
 * gone): SIGBUS at that address, as a faulting BAR mapping gives on Linux. */
static void raise_sigbus(uint64_t addr)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = SIGBUS;
	info.si_code = BUS_ADRERR;
	info.si_addr = (void *)(uintptr_t)addr;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGBUS, &info);
}

struct fault_ctx {
	int sig;
	bool touched;		/* a register page was accessed */
	bool device_error;
	uint64_t err_addr;
};

/* The emulator's memory access: register pages through the device file,
 * anything else as plain memory of this process. */
static int fault_access(void *c, uint64_t addr, void *buf, unsigned int size, bool is_write)
{
	struct fault_ctx *ctx = c;
	uint8_t *p = buf;

	while (size) {
		struct shim_bar_view v;
		unsigned int piece;

		if (shim_mmio_lookup(addr, &v) && v.trapped) {
			ssize_t ret;

			piece = v.end - addr < size ? (unsigned int)(v.end - addr) : size;
			if (!(v.prot & (is_write ? PROT_WRITE : PROT_READ)))
				return -EACCES;
			ret = shim_op_rw_async(v.token, p, piece,
					       (int64_t)(v.region_off + (addr - v.start)), is_write);
			if (ret != (ssize_t)piece) {
				ctx->device_error = true;
				ctx->err_addr = addr;
				return ret < 0 ? (int)ret : -EIO;
			}
			ctx->touched = true;
		} else {
			piece = PAGE - (addr & (PAGE - 1));
			if (piece > size)
				piece = size;
			/* SIGILL: only a store to a register page is ours */
			if (ctx->sig == SIGILL && is_write)
				return -ENXIO;
			if (is_write ? shim_user_write(addr, p, piece) != 0 :
				       shim_user_read(p, addr, piece) != piece)
				return -EFAULT;
		}
		addr += piece;
		p += piece;
		size -= piece;
	}
	return 0;
}

/* MOVDIR64B: 66 [67] 0F 38 F8 /r, possibly behind segment prefixes. */
static bool is_movdir64b(const uint8_t *code, size_t n)
{
	bool opsize = false;
	size_t i = 0;

	for (; i < n; i++) {
		uint8_t b = code[i];

		if (b == 0x66)
			opsize = true;
		else if (b != 0x67 && b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e &&
			 b != 0x64 && b != 0x65)
			break;
	}
	if (i < n && (code[i] & 0xf0) == 0x40)
		i++;
	return opsize && i + 3 <= n && code[i] == 0x0f && code[i + 1] == 0x38 &&
	       code[i + 2] == 0xf8;
}

/* ---- the stop message, formatted without stdio ---- */

struct msgbuf {
	char buf[512];
	size_t len;
};

static void msg_str(struct msgbuf *m, const char *s)
{
	while (*s && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = *s++;
}

static void msg_hex(struct msgbuf *m, uint64_t v, int min_digits)
{
	char tmp[17];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v || n < min_digits);
	while (n && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = tmp[--n];
}

static void stop_program(int sig, const struct shim_bar_view *v, uint64_t addr, uint64_t rip,
			 const uint8_t *code, size_t n, const struct mmio_emu_report *rep)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct msgbuf m = { .len = 0 };
	size_t shown = rep->insn_len ? rep->insn_len : n;

	msg_str(&m, "uvfio: cannot emulate the instruction at 0x");
	msg_hex(&m, rip, 1);
	msg_str(&m, " (bytes");
	for (size_t i = 0; i < shown; i++) {
		msg_str(&m, " ");
		msg_hex(&m, code[i], 2);
	}
	if (rep->mnemonic) {
		msg_str(&m, ": ");
		msg_str(&m, rep->mnemonic);
	}
	msg_str(&m, ") on device ");
	msg_str(&m, v->device);
	msg_str(&m, " BAR");
	msg_hex(&m, v->index, 1);
	msg_str(&m, " offset 0x");
	msg_hex(&m, (v->region_off & ((1ull << 40) - 1)) + (addr - v->start), 1);
	msg_str(&m, "; uvfio emulates MOV, MOVZX/MOVSX, MOVNTI, MOVD/MOVQ, SSE/AVX moves, "
		    "MOVDIR64B, OR/AND/XOR/ADD/SUB/INC/DEC/XCHG/CMP/TEST on register pages\n");
	if (write(STDERR_FILENO, m.buf, m.len) < 0) {
		/* nothing more to say */
	}
	/* The instruction runs again and the default action stops the
	 * program where it stood. */
	REAL(sigaction)(sig, &dfl, NULL);
}

static size_t read_code(uint64_t rip, uint8_t *code)
{
	if (PAGE - (rip & (PAGE - 1)) >= INSN_MAX) {
		memcpy(code, (const void *)(uintptr_t)rip, INSN_MAX);
		return INSN_MAX;
	}
	return shim_user_read(code, rip, INSN_MAX);
}

/* Set while this thread copies to or from a buffer of the program: a fault
 * there ends the copy with EFAULT, the way the kernel's exception table
 * ends a copy_from_user(). */
static __thread sigjmp_buf *volatile copy_fixup;

/* The copy itself, out of the sanitizers' sight: a bad buffer of the
 * program is for the fixup to catch, not a bug of ours to report. */
static void copy_bytes(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

int shim_copy_safe(void *dst, const void *src, size_t n)
{
	/* a signal handler's copy may interrupt ours: it puts ours back */
	sigjmp_buf env, *outer = copy_fixup;
	sigset_t segv;

	if (!atomic_load_explicit(&handlers_in, memory_order_relaxed))
		shim_mmio_handlers_install();
	if (sigsetjmp(env, 0)) {
		copy_fixup = outer;
		/* we left the handler by a jump: SIGSEGV is still blocked */
		sigemptyset(&segv);
		sigaddset(&segv, SIGSEGV);
		pthread_sigmask(SIG_UNBLOCK, &segv, NULL);
		return -EFAULT;
	}
	copy_fixup = &env;
	copy_bytes(dst, src, n);
	copy_fixup = outer;
	return 0;
}

static void mmio_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t addr = (uintptr_t)si->si_addr;
	struct fault_ctx ctx = { .sig = sig };
	struct mmio_emu_report rep;
	enum mmio_emu_status st;
	uint8_t code[INSN_MAX];
	struct shim_bar_view v = { .device = "" };
	int saved = errno;
	size_t n;

	if (sig == SIGSEGV && copy_fixup)
		siglongjmp(*copy_fixup, 1);
	if (sig == SIGSEGV && (si->si_code != SEGV_ACCERR || !shim_mmio_lookup(addr, &v) ||
			       !v.trapped))
		goto chain;
	n = read_code(rip, code);
	if (sig == SIGILL && !is_movdir64b(code, n))
		goto chain;
	st = mmio_emulate(uc, code, n, fault_access, &ctx, &rep);
	if (st == MMIO_EMU_OK)
		goto out;
	if (ctx.device_error) {
		raise_sigbus(ctx.err_addr);
		goto out;
	}
	if (st == MMIO_EMU_UNSUPPORTED && sig == SIGSEGV) {
		stop_program(sig, &v, addr, rip, code, n, &rep);
		goto out;
	}
	if (st == MMIO_EMU_UNSUPPORTED && sig == SIGILL && rep.addr &&
	    shim_mmio_lookup(rep.addr, &v) && v.trapped) {
		stop_program(sig, &v, rep.addr, rip, code, n, &rep);
		goto out;
	}
chain:
	chain(sig, si, uc);
out:
	errno = saved;
}
