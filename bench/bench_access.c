// SPDX-License-Identifier: MIT
/*
 * bench_access: a trapped register access (pread/pwrite on the device fd)
 * against what it cannot beat: a unix SOCK_SEQPACKET round trip between two
 * processes carrying the same message sizes as uvfio's wire format, and a
 * pread of a plain file (the system-call floor).  And the same registers
 * through the mmapped BAR: a 4-byte load and store that trap in the shim
 * (a fault, the decode, one round trip, the write-back), beside what the
 * kernel alone charges for a fault delivered as a signal and returned from.
 *
 * Nothing is pinned: the scheduler decides whether the daemon and the program
 * share a CPU, for the floor as for the real thing.  The samples of each kind
 * are taken in interleaved rounds so that a noisy moment hits all of them.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ucontext.h>

#include "bench_util.h"

#define ITERS		20000
#define ROUNDS		100	/* short rounds: every kind sees each placement */
#define WARMUP		1000

#define EDU_ID		0x00
#define EDU_LIVENESS	0x04

/* Header sizes of a region read on the wire: request 40 bytes, reply 24 + 4. */
#define REQ_BYTES	40
#define REP_BYTES	28

enum { K_SOCK, K_SOCK_X, K_FILE, K_FAULT, K_BAR_READ, K_BAR_WRITE, K_CFG_READ, K_MMIO_READ,
       K_MMIO_WRITE, NKINDS };

/* An echo server in a child process, pinned to cpu if cpu >= 0. */
static int sock_floor_start(pid_t *child, int cpu)
{
	int sv[2];

	check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
	      strerror(errno));
	*child = fork();
	check(*child >= 0, "fork: %s", strerror(errno));
	if (*child == 0) {
		char req[REQ_BYTES], rep[REP_BYTES] = { 0 };

		close(sv[0]);
		if (cpu >= 0)
			pin_self(cpu);
		while (recv(sv[1], req, sizeof(req), 0) > 0)
			check(send(sv[1], rep, sizeof(rep), 0) == sizeof(rep), "floor send");
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

static volatile uint32_t *mmio;	/* edu's BAR0, mapped */

/*
 * The fault floor: a load from a PROT_NONE page, delivered as SIGSEGV and
 * returned from, with no shim in between.  The shim owns SIGSEGV (it is how
 * register pages trap), so for the floor's rounds the bench swaps its own
 * handler in at the system call, reusing the restorer glibc gave the shim's,
 * and puts the shim's back after.  The handler steps over the 2-byte load.
 */
#define SA_RESTORER_FLAG 0x04000000ul

struct kernel_sigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static volatile uint32_t *no_access;
static struct kernel_sigaction shim_segv;

static void skip_load(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 2;
	uc->uc_mcontext.gregs[REG_RAX] = 0;
}

static void fault_floor_begin(void)
{
	struct kernel_sigaction ours;

	check(syscall(SYS_rt_sigaction, SIGSEGV, NULL, &shim_segv, 8) == 0 &&
	      (shim_segv.flags & SA_RESTORER_FLAG), "SIGSEGV action: %s", strerror(errno));
	ours = (struct kernel_sigaction){
		.handler = skip_load, .flags = SA_SIGINFO | SA_RESTORER_FLAG,
		.restorer = shim_segv.restorer,
	};
	check(syscall(SYS_rt_sigaction, SIGSEGV, &ours, NULL, 8) == 0, "SIGSEGV: %s",
	      strerror(errno));
}

static void fault_floor_end(void)
{
	check(syscall(SYS_rt_sigaction, SIGSEGV, &shim_segv, NULL, 8) == 0, "SIGSEGV: %s",
	      strerror(errno));
}

static uint64_t one(int kind, const int *sock, int file, int dev, uint64_t bar0, uint64_t cfg)
{
	char req[REQ_BYTES] = { 0 }, rep[REP_BYTES];
	uint64_t t0 = now_ns();
	uint32_t v = 0;

	switch (kind) {
	case K_SOCK:
	case K_SOCK_X:
		check(send(sock[kind], req, sizeof(req), 0) == sizeof(req), "floor send");
		check(recv(sock[kind], rep, sizeof(rep), 0) == sizeof(rep), "floor recv");
		break;
	case K_FILE:
		check(pread(file, &v, 4, 0) == 4, "file pread");
		break;
	case K_FAULT:
		__asm__ volatile("mov (%1), %0" : "=a"(v) : "D"(no_access) : "memory");
		break;
	case K_BAR_READ:
		check(pread(dev, &v, 4, (off_t)(bar0 + EDU_ID)) == 4, "BAR0 pread: %s",
		      strerror(errno));
		break;
	case K_BAR_WRITE:
		check(pwrite(dev, &v, 4, (off_t)(bar0 + EDU_LIVENESS)) == 4, "BAR0 pwrite: %s",
		      strerror(errno));
		break;
	case K_CFG_READ:
		check(pread(dev, &v, 4, (off_t)cfg) == 4, "config pread: %s", strerror(errno));
		break;
	case K_MMIO_READ:
		v = mmio[EDU_ID / 4];
		break;
	case K_MMIO_WRITE:
		mmio[EDU_LIVENESS / 4] = v;
		break;
	}
	return now_ns() - t0;
}

int main(void)
{
	static uint64_t ns[NKINDS][ITERS];
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX };
	uint64_t cfg = REGION(VFIO_PCI_CONFIG_REGION_INDEX);
	struct stats st[NKINDS];
	struct vfio_dev d;
	int sock[2], file, cpu[2];
	bool cross = two_cpus(cpu);
	cpu_set_t all;
	pid_t child[2];

	vfio_open(&d, EDU_GROUP, EDU_BDF);
	check(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO: %s",
	      strerror(errno));
	check(rd32(d.device, reg.offset + EDU_ID) >> 16 == 0x0100, "not an edu device");
	mmio = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d.device, (off_t)reg.offset);
	check(mmio != MAP_FAILED, "mmap of BAR0: %s", strerror(errno));
	check(mmio[EDU_ID / 4] >> 16 == 0x0100, "not edu through the mapping");

	no_access = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(no_access != MAP_FAILED, "mmap: %s", strerror(errno));
	file = memfd_create("bench-floor", MFD_CLOEXEC);
	check(file >= 0 && ftruncate(file, 4096) == 0, "memfd: %s", strerror(errno));
	check(sched_getaffinity(0, sizeof(all), &all) == 0, "sched_getaffinity");
	sock[K_SOCK] = sock_floor_start(&child[K_SOCK], -1);
	sock[K_SOCK_X] = cross ? sock_floor_start(&child[K_SOCK_X], cpu[1]) : -1;

	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < NKINDS; k++) {
			int from = r * (ITERS / ROUNDS), to = from + ITERS / ROUNDS;

			if (k == K_SOCK_X) {
				if (!cross)
					continue;
				pin_self(cpu[0]);
			}
			if (k == K_FAULT)
				fault_floor_begin();
			for (int i = r ? 0 : -WARMUP; i < to - from; i++) {
				uint64_t t = one(k, sock, file, d.device, reg.offset, cfg);

				if (i >= 0)
					ns[k][from + i] = t;
			}
			if (k == K_SOCK_X)
				check(sched_setaffinity(0, sizeof(all), &all) == 0, "affinity");
			if (k == K_FAULT)
				fault_floor_end();
		}
	}
	/* The second child holds a copy of the first one's socket: close both
	 * before waiting. */
	for (int k = K_SOCK; k <= K_SOCK_X; k++) {
		if (k == K_SOCK || cross)
			close(sock[k]);
	}
	for (int k = K_SOCK; k <= K_SOCK_X; k++) {
		if (k == K_SOCK || cross)
			waitpid(child[k], NULL, 0);
	}
	for (int k = 0; k < NKINDS; k++) {
		if (k != K_SOCK_X || cross)
			st[k] = stats_of(ns[k], ITERS);
	}

	printf("Trapped register access, %d samples each after %d warm-up, %s\n", ITERS,
	       WARMUP, placement());
	print_floor("floor: pread plain file", st[K_FILE]);
	print_floor("floor: fault + sigreturn", st[K_FAULT]);
	print_floor("floor: socket RT 40/28 B", st[K_SOCK]);
	if (cross)
		print_floor("floor: cross-CPU (pinned)", st[K_SOCK_X]);
	print_latency("edu BAR0 4-byte read", st[K_BAR_READ], "socket RT", st[K_SOCK].median_us);
	print_latency("edu BAR0 4-byte write", st[K_BAR_WRITE], "socket RT",
		      st[K_SOCK].median_us);
	print_latency("config space 4-byte read", st[K_CFG_READ], "socket RT",
		      st[K_SOCK].median_us);
	print_latency("edu BAR0 4-byte MMIO load", st[K_MMIO_READ], "pread",
		      st[K_BAR_READ].median_us);
	print_latency("edu BAR0 4-byte MMIO store", st[K_MMIO_WRITE], "pwrite",
		      st[K_BAR_WRITE].median_us);
	printf("  MMIO over pread/pwrite: load +%.2f us, store +%.2f us%s; "
	       "the kernel's fault + sigreturn alone %.2f us\n",
	       st[K_MMIO_READ].median_us - st[K_BAR_READ].median_us,
	       st[K_MMIO_WRITE].median_us - st[K_BAR_WRITE].median_us,
	       cross ? " (target <= 3 us)" : "", st[K_FAULT].median_us);
	printf("  BAR0 read over: syscall floor %.1fx", st[K_BAR_READ].median_us /
	       st[K_FILE].median_us);
	if (cross)
		printf(", cross-CPU socket RT %.1fx", st[K_BAR_READ].median_us /
		       st[K_SOCK_X].median_us);
	putchar('\n');
	return 0;
}
