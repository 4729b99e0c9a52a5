// SPDX-License-Identifier: MIT
/*
 * bench_fastpath: what a faster transport has to move, each figure beside a
 * floor this program measures in the same run.
 *
 *   - ramdev's trapped register file read and written with pread/pwrite,
 *     against a cross-CPU shared-memory spin round trip (what a polling
 *     transport could reach), a futex round trip and a unix socket round trip
 *     on one CPU (what a sleeping one pays);
 *   - the first read after 20 ms of idleness, when a transport that polls and
 *     then sleeps has gone to sleep;
 *   - 4-byte writes in bursts (a posted write need not wait for its reply),
 *     each burst followed by a read that must see its last value;
 *   - 16 KiB pread/pwrite on the RAM area of a BAR, against memcpy;
 *   - the daemon's CPU use while its client sits idle (polling must stop);
 *   - 32 processes reading at once: aggregate rate and fairness.
 */
#include <linux/futex.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "bench_util.h"

#define SAMPLES		20000
#define WARMUP		2000
#define ROUNDS		20	/* interleaved: a noisy moment hits every kind */
#define PER_ROUND	(SAMPLES / ROUNDS)
#define ECHO_WARMUP	100	/* per round: each starts a fresh echo thread */

/* ramdev's register file: read/write registers, always trapped. */
#define REG_FILE	0x100
#define REG_POSTED	0x104

#define IDLE_SAMPLES	200
#define IDLE_NS		20000000L

#define BURST		64
#define BURSTS		320
#define BURST_WARMUP	32

#define CHUNK		16384
#define THRU_ROUNDS	5
#define THRU_NS		50000000ull	/* per kind and round */

#define CLIENTS		32
#define CLIENT_SECONDS	5

/* The wire sizes of a 4-byte region read, as in bench_access. */
#define REQ_BYTES	40
#define REP_BYTES	28

enum { K_SPIN, K_FUTEX, K_SOCK, K_READ, K_WRITE, NKINDS };

/* The far side of a floor's round trip: a process pinned to cpu, in memory
 * both share, as the daemon is (a switch between two processes costs more
 * than one between two threads of a process). */
struct echo {
	int kind, cpu;
	_Atomic uint32_t word;	/* K_SPIN, K_FUTEX: odd a ping, even a pong */
	atomic_bool stop;
	int sock[2];		/* K_SOCK */
};

static int first_cpu(void)
{
	cpu_set_t set;

	check(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity: %s",
	      strerror(errno));
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set))
			return c;
	}
	die("no CPU allowed");
}

/* Waits until the word has the parity (1: a ping, 0: a pong); returns it. */
static uint32_t echo_await(struct echo *e, uint32_t parity)
{
	uint32_t v;

	while (((v = atomic_load_explicit(&e->word, memory_order_acquire)) & 1) != parity) {
		if (e->kind == K_FUTEX)
			syscall(SYS_futex, &e->word, FUTEX_WAIT, v, NULL, NULL, 0);
	}
	return v;
}

static void echo_post(struct echo *e, uint32_t v)
{
	atomic_store_explicit(&e->word, v, memory_order_release);
	if (e->kind == K_FUTEX)
		syscall(SYS_futex, &e->word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void echo_main(struct echo *e)
{
	char req[REQ_BYTES], rep[REP_BYTES] = { 0 };

	pin_self(e->cpu);
	if (e->kind == K_SOCK) {
		close(e->sock[0]);
		while (recv(e->sock[1], req, sizeof(req), 0) > 0)
			check(send(e->sock[1], rep, sizeof(rep), 0) == sizeof(rep), "echo send");
		return;
	}
	for (;;) {
		uint32_t v = echo_await(e, 1);
		bool last = atomic_load(&e->stop);

		echo_post(e, v + 1);
		if (last)
			return;
	}
}

static uint64_t round_trip(struct echo *e)
{
	char req[REQ_BYTES] = { 0 }, rep[REP_BYTES];
	uint64_t t0 = now_ns();

	if (e->kind == K_SOCK) {
		check(send(e->sock[0], req, sizeof(req), 0) == sizeof(req), "floor send");
		check(recv(e->sock[0], rep, sizeof(rep), 0) == sizeof(rep), "floor recv");
	} else {
		echo_post(e, atomic_load_explicit(&e->word, memory_order_relaxed) + 1);
		echo_await(e, 0);
	}
	return now_ns() - t0;
}

/* One round of a floor, with an echo process of its own: the spinning one
 * must not compete with the daemon outside its samples. */
static void floor_round(int kind, int cpu, int echo_cpu, uint64_t *ns)
{
	struct echo *e = mmap(NULL, sizeof(*e), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int st;

	check(e != MAP_FAILED, "mmap: %s", strerror(errno));
	*e = (struct echo){ .kind = kind, .cpu = echo_cpu };
	if (kind == K_SOCK)
		check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->sock) == 0,
		      "socketpair: %s", strerror(errno));
	pin_self(cpu);
	pid = fork();
	check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		echo_main(e);
		_exit(0);
	}
	if (kind == K_SOCK)
		close(e->sock[1]);
	for (int i = -ECHO_WARMUP; i < PER_ROUND; i++) {
		uint64_t t = round_trip(e);

		if (i >= 0)
			ns[i] = t;
	}
	if (kind == K_SOCK) {
		close(e->sock[0]);
	} else {
		atomic_store(&e->stop, true);
		round_trip(e);
	}
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "echo process failed");
	munmap(e, sizeof(*e));
}

static uint64_t timed_rd32(int device, uint64_t off)
{
	uint64_t t0 = now_ns();

	rd32(device, off);
	return now_ns() - t0;
}

static uint64_t timed_wr32(int device, uint64_t off, uint32_t v)
{
	uint64_t t0 = now_ns();

	wr32(device, off, v);
	return now_ns() - t0;
}

/* Each read after a sleep long enough for any poller to have given up. */
static struct stats after_idle(int device, uint64_t off, uint64_t *ns)
{
	const struct timespec idle = { .tv_nsec = IDLE_NS };

	for (int i = 0; i < IDLE_SAMPLES; i++) {
		nanosleep(&idle, NULL);
		ns[i] = timed_rd32(device, off);
	}
	return stats_of(ns, IDLE_SAMPLES);
}

/* Bursts of writes, each timed; the read closing a burst must see its last
 * value, or a posted write was lost or overtaken. */
static struct stats posted_writes(int device, uint64_t off, uint64_t *ns)
{
	uint32_t v = 0, got;
	size_t n = 0;

	for (int b = -BURST_WARMUP; b < BURSTS; b++) {
		for (int i = 0; i < BURST; i++) {
			uint64_t t = timed_wr32(device, off, ++v);

			if (b >= 0)
				ns[n++] = t;
		}
		got = rd32(device, off);
		check(got == v, "read 0x%x after a burst ending with 0x%x: writes out of order",
		      got, v);
	}
	return stats_of(ns, n);
}

/*
 * The first mmappable stretch of at least CHUNK bytes in a BAR (on ramdev,
 * BAR0's RAM pages, listed in its sparse-mmap capability): its offset in the
 * device fd, or 0 if there is none; *bar and *in_bar say where it lies.
 */
static uint64_t ram_area(int device, int *bar, uint64_t *in_bar)
{
	for (int i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		union {
			struct vfio_region_info info;
			uint8_t b[4096];
		} u = { .info = { .argsz = sizeof(u), .index = i } };
		uint32_t next;

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &u.info) ||
		    !(u.info.flags & VFIO_REGION_INFO_FLAG_MMAP) || u.info.argsz > sizeof(u))
			continue;
		*bar = i;
		*in_bar = 0;
		if (!(u.info.flags & VFIO_REGION_INFO_FLAG_CAPS)) {
			if (u.info.size >= CHUNK)
				return u.info.offset;
			continue;
		}
		for (next = u.info.cap_offset; next; ) {
			struct vfio_region_info_cap_sparse_mmap *sp = (void *)(u.b + next);

			if (next + sizeof(*sp) > u.info.argsz)
				break;
			for (uint32_t a = 0; sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
			     a < sp->nr_areas &&
			     next + sizeof(*sp) + (a + 1) * sizeof(sp->areas[0]) <= u.info.argsz; a++) {
				if (sp->areas[a].size >= CHUNK) {
					*in_bar = sp->areas[a].offset;
					return u.info.offset + *in_bar;
				}
			}
			next = sp->header.next;
		}
	}
	return 0;
}

enum { T_READ, T_WRITE, T_MEMCPY, NTHRU };

/* Bytes per nanosecond, that is GB/s, in interleaved rounds. */
static void throughput(int device, uint64_t off, double gbps[NTHRU])
{
	static uint8_t a[CHUNK], b[CHUNK];
	uint64_t bytes[NTHRU] = { 0 }, ns[NTHRU] = { 0 };

	for (size_t i = 0; i < CHUNK; i++)
		a[i] = (uint8_t)(i * 7 + 1);
	check(pwrite(device, a, CHUNK, (off_t)off) == CHUNK, "pwrite 16 KiB: %s",
	      strerror(errno));
	check(pread(device, b, CHUNK, (off_t)off) == CHUNK, "pread 16 KiB: %s", strerror(errno));
	check(!memcmp(a, b, CHUNK), "16 KiB read back differs from what was written");

	for (int r = 0; r < THRU_ROUNDS; r++) {
		for (int k = 0; k < NTHRU; k++) {
			uint64_t t0 = now_ns(), t;

			do {
				for (int i = 0; i < 16; i++) {
					if (k == T_READ)
						check(pread(device, b, CHUNK, (off_t)off) == CHUNK,
						      "pread 16 KiB: %s", strerror(errno));
					else if (k == T_WRITE)
						check(pwrite(device, a, CHUNK, (off_t)off) == CHUNK,
						      "pwrite 16 KiB: %s", strerror(errno));
					else
						memcpy(b, a, CHUNK);
					/* the copies are never read: keep them */
					__asm__ volatile("" : : "r"(b) : "memory");
				}
				bytes[k] += 16 * CHUNK;
				t = now_ns() - t0;
			} while (t < THRU_NS);
			ns[k] += t;
		}
	}
	for (int k = 0; k < NTHRU; k++)
		gbps[k] = (double)bytes[k] / (double)ns[k];
}

/* The daemon behind $UVFIO_DIR, as its socket's peer; -1 without one. */
static pid_t daemon_pid(void)
{
	/* SEQPACKET today; a stream socket should the transport change. */
	static const int types[] = { SOCK_SEQPACKET, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv("UVFIO_DIR");
	pid_t pid = -1;

	if (!dir)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/uvfiod.sock", dir);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && pid < 0; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		check(fd >= 0, "socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		    !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
			pid = cred.pid;
		close(fd);
	}
	return pid;
}

/* utime + stime of a whole process, in clock ticks. */
static unsigned long long cpu_ticks(pid_t pid)
{
	unsigned long long utime, stime;
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	check(n > 0, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	/* the command name may hold anything: fields resume after its ')' */
	p = strrchr(buf, ')');
	check(p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			  &utime, &stime) == 2, "%s: cannot parse", path);
	return utime + stime;
}

static double idle_seconds(void)
{
	const char *s = getenv("BENCH_IDLE_SECONDS");
	char *end;
	double v;

	if (!s || !*s)
		return 10;
	v = strtod(s, &end);
	check(!*end && v > 0 && v <= 3600, "BENCH_IDLE_SECONDS=%s: not a duration", s);
	return v;
}

static void idle_daemon_cpu(void)
{
	double secs = idle_seconds();
	pid_t pid = daemon_pid();
	unsigned long long t0;
	struct timespec left;
	uint64_t start;
	double elapsed;

	if (pid <= 0) {
		printf("  idle daemon CPU: n/a (no uvfio daemon at $UVFIO_DIR)\n");
		return;
	}
	t0 = cpu_ticks(pid);
	start = now_ns();
	left.tv_sec = (time_t)secs;
	left.tv_nsec = (long)((secs - (double)left.tv_sec) * 1e9);
	while (nanosleep(&left, &left) && errno == EINTR)
		;
	elapsed = (double)(now_ns() - start) / 1e9;
	printf("  idle daemon CPU over %g s: %.1f %% (pid %d, resolution %.1f %%)\n", secs,
	       100.0 * (double)(cpu_ticks(pid) - t0) / (double)sysconf(_SC_CLK_TCK) / elapsed,
	       (int)pid, 100.0 / (double)sysconf(_SC_CLK_TCK) / elapsed);
}

/* A client process: reads for CLIENT_SECONDS once the gate opens (the parent
 * closes it), then reports its count.  The device fd is the parent's. */
static void client(int device, uint64_t off, int ready, int gate, int result)
{
	uint64_t n = 0, end;
	char c;

	rd32(device, off);	/* connected before the start */
	check(write(ready, "r", 1) == 1, "ready: %s", strerror(errno));
	close(ready);		/* so a client that dies here is seen */
	check(read(gate, &c, 1) == 0, "gate");
	end = now_ns() + CLIENT_SECONDS * 1000000000ull;
	do {
		rd32(device, off);
		n++;
	} while (now_ns() < end);
	check(write(result, &n, sizeof(n)) == sizeof(n), "result: %s", strerror(errno));
	_exit(0);
}

static void clients(int device, uint64_t off, double alone)
{
	int ready[2], gate[2], result[2], failed = 0;
	double sum = 0, slowest = 0, mean;
	pid_t pid[CLIENTS];
	char c;

	check(pipe(ready) == 0 && pipe(gate) == 0 && pipe(result) == 0, "pipe: %s",
	      strerror(errno));
	fflush(stdout);		/* or each child flushes a copy on exit */
	for (int i = 0; i < CLIENTS; i++) {
		pid[i] = fork();
		check(pid[i] >= 0, "fork: %s", strerror(errno));
		if (!pid[i]) {
			close(ready[0]);
			close(gate[1]);
			close(result[0]);
			client(device, off, ready[1], gate[0], result[1]);
		}
	}
	close(ready[1]);
	close(gate[0]);
	close(result[1]);
	for (int i = 0; i < CLIENTS; i++)
		check(read(ready[0], &c, 1) == 1, "a client failed to start");
	close(gate[1]);		/* go */
	for (int i = 0; i < CLIENTS; i++) {
		uint64_t n;
		double rate;

		check(read(result[0], &n, sizeof(n)) == sizeof(n), "a client failed");
		rate = (double)n / CLIENT_SECONDS;
		sum += rate;
		if (!i || rate < slowest)
			slowest = rate;
	}
	for (int i = 0; i < CLIENTS; i++) {
		int st;

		failed |= waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) ||
			  WEXITSTATUS(st);
	}
	check(!failed, "a client failed");
	close(ready[0]);
	close(result[0]);

	mean = sum / CLIENTS;
	printf("  %-26s %9.0f reads/s  one client alone %9.0f reads/s  (%.2fx)\n", "aggregate",
	       sum, alone, sum / alone);
	printf("  %-26s mean %.0f reads/s, slowest %.0f reads/s, slowest/mean %.2f, fair: %s\n",
	       "per client", mean, slowest, slowest / mean, slowest >= mean / 4 ? "yes" : "no");
}

/* A row with its ratios to both round-trip floors. */
static void print_vs_floors(const char *what, struct stats s, const struct stats *spin,
			    struct stats futex)
{
	printf("  %-26s median %6.2f us  p99 %6.2f us  ratio ", what, s.median_us, s.p99_us);
	if (spin)
		printf("%5.1fx spin", s.median_us / spin->median_us);
	else
		printf("  n/a spin");
	printf(", %5.1fx futex\n", s.median_us / futex.median_us);
}

int main(void)
{
	static uint64_t ns[NKINDS][SAMPLES], more[BURSTS * BURST];
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX };
	int cpu[2], first = first_cpu(), ram_bar = -1;
	bool cross = two_cpus(cpu);
	struct stats st[NKINDS], idle, posted;
	double gbps[NTHRU];
	uint64_t ram, in_bar;
	struct vfio_dev d;
	cpu_set_t all;

	check(sched_getaffinity(0, sizeof(all), &all) == 0, "sched_getaffinity: %s",
	      strerror(errno));
	vfio_open(&d, RAM_GROUP, RAM_BDF);
	check(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO: %s",
	      strerror(errno));
	check(rd32(d.device, reg.offset) == 0x11e91234, "not a ramdev");

	for (int r = 0; r < ROUNDS; r++) {
		int from = r * PER_ROUND;

		if (cross)
			floor_round(K_SPIN, cpu[0], cpu[1], ns[K_SPIN] + from);
		floor_round(K_FUTEX, first, first, ns[K_FUTEX] + from);
		floor_round(K_SOCK, first, first, ns[K_SOCK] + from);
		/* the accesses themselves go where the scheduler puts them;
		 * each round warms up like a floor's (the daemon slept while
		 * the floors ran: its first access is the idle figure below) */
		check(sched_setaffinity(0, sizeof(all), &all) == 0, "sched_setaffinity: %s",
		      strerror(errno));
		for (int i = r ? -ECHO_WARMUP : -WARMUP; i < PER_ROUND; i++) {
			uint64_t t = timed_rd32(d.device, reg.offset + REG_FILE);

			if (i >= 0)
				ns[K_READ][from + i] = t;
		}
		for (int i = r ? -ECHO_WARMUP : -WARMUP; i < PER_ROUND; i++) {
			uint64_t t = timed_wr32(d.device, reg.offset + REG_FILE, (uint32_t)i);

			if (i >= 0)
				ns[K_WRITE][from + i] = t;
		}
	}
	for (int k = 0; k < NKINDS; k++) {
		if (k != K_SPIN || cross)
			st[k] = stats_of(ns[k], SAMPLES);
	}

	printf("Trapped register access on ramdev, %d samples each after %d warm-up, %s\n",
	       SAMPLES, WARMUP, placement());
	if (cross)
		print_floor("floor: cross-CPU spin RT", st[K_SPIN]);
	else
		printf("  %-26s n/a (one CPU allowed)\n", "floor: cross-CPU spin RT");
	print_floor("floor: futex RT, one CPU", st[K_FUTEX]);
	print_floor("floor: socket RT, one CPU", st[K_SOCK]);
	print_vs_floors("4-byte read (pread)", st[K_READ], cross ? &st[K_SPIN] : NULL,
			st[K_FUTEX]);
	print_vs_floors("4-byte write (pwrite)", st[K_WRITE], cross ? &st[K_SPIN] : NULL,
			st[K_FUTEX]);
	fflush(stdout);

	idle = after_idle(d.device, reg.offset + REG_FILE, more);
	print_latency("first read after 20 ms", idle, "warm read", st[K_READ].median_us);
	fflush(stdout);

	posted = posted_writes(d.device, reg.offset + REG_POSTED, more);
	print_vs_floors("4-byte write in a burst", posted, cross ? &st[K_SPIN] : NULL,
			st[K_FUTEX]);
	printf("  %-26s %.2fx a lone pwrite; each of %d bursts of %d read back its last "
	       "value\n", "", posted.median_us / st[K_WRITE].median_us, BURSTS, BURST);
	fflush(stdout);

	ram = ram_area(d.device, &ram_bar, &in_bar);
	if (ram) {
		throughput(d.device, ram, gbps);
		printf("16 KiB pread/pwrite on the RAM of BAR%d (offset 0x%llx)\n", ram_bar,
		       (unsigned long long)in_bar);
		printf("  %-26s %6.2f GB/s  floor (memcpy 16 KiB) %6.2f GB/s  ratio %5.1fx\n",
		       "16 KiB read (pread)", gbps[T_READ], gbps[T_MEMCPY],
		       gbps[T_MEMCPY] / gbps[T_READ]);
		printf("  %-26s %6.2f GB/s  floor (memcpy 16 KiB) %6.2f GB/s  ratio %5.1fx\n",
		       "16 KiB write (pwrite)", gbps[T_WRITE], gbps[T_MEMCPY],
		       gbps[T_MEMCPY] / gbps[T_WRITE]);
	} else {
		printf("16 KiB region access: n/a (no mmappable RAM of 16 KiB in a BAR)\n");
	}

	printf("Idle client, device open\n");
	fflush(stdout);
	idle_daemon_cpu();

	printf("%d processes reading the register file at once for %d s, %s\n", CLIENTS,
	       CLIENT_SECONDS, placement());
	clients(d.device, reg.offset + REG_FILE, 1e6 / st[K_READ].mean_us);
	return 0;
}
