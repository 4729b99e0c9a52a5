// SPDX-License-Identifier: MIT
/*
 * bench_irq: message-signalled interrupt latency, from the start of a ramdev
 * doorbell write (which raises vector 0) until the vector's eventfd has been
 * polled readable and read.  The floor is a bare eventfd hand-off between two
 * processes: one writes, the other polls and reads, timed on the shared
 * monotonic clock.
 *
 * The doorbell write is itself a trapped access, so each sample is split at
 * the moment that write returned: the table also gives the latency minus the
 * sample's own trapped write.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench_util.h"

#define ITERS		10000
#define ROUNDS		50
#define WARMUP		500

#define RAM_MSIX_BELL	0x08
#define RAM_MSI_BELL	0x0c

enum { K_HANDOFF, K_HANDOFF_X, K_IRQ, K_AFTER_WRITE, NKINDS };

/* The hand-off floor's shared state: the sender's timestamp, the receiver's
 * measured latency. */
struct handoff {
	int go, ack;		/* eventfds: sender -> receiver, receiver -> sender */
	pid_t child;
	volatile uint64_t *shm;	/* [0]: send time, [1]: latency */
};

static void wait_fd(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	check(poll(&p, 1, 5000) == 1, "no event within 5 s");
	check(read(fd, &v, sizeof(v)) == sizeof(v), "eventfd read: %s", strerror(errno));
}

static void kick(int fd)
{
	uint64_t one = 1;

	check(write(fd, &one, sizeof(one)) == sizeof(one), "eventfd write: %s", strerror(errno));
}

static void handoff_start(struct handoff *h, int cpu)
{
	h->go = eventfd(0, EFD_CLOEXEC);
	h->ack = eventfd(0, EFD_CLOEXEC);
	h->shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	check(h->go >= 0 && h->ack >= 0 && h->shm != MAP_FAILED, "handoff setup: %s",
	      strerror(errno));
	h->child = fork();
	check(h->child >= 0, "fork: %s", strerror(errno));
	if (h->child)
		return;
	if (cpu >= 0)
		pin_self(cpu);
	for (;;) {
		wait_fd(h->go);
		h->shm[1] = now_ns() - h->shm[0];
		if (!h->shm[0])
			_exit(0);
		kick(h->ack);
	}
}

static uint64_t handoff_one(struct handoff *h)
{
	h->shm[0] = now_ns();
	kick(h->go);
	wait_fd(h->ack);
	return h->shm[1];
}

static void handoff_stop(struct handoff *h)
{
	h->shm[0] = 0;
	kick(h->go);
	waitpid(h->child, NULL, 0);
}

/* Vector 0 of the given MSI or MSI-X index to efd, or torn down if efd < 0. */
static void wire_irq(int device, uint32_t index, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = sizeof(buf);
	set->flags = (efd >= 0 ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
		     VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = efd >= 0;
	memcpy(set->data, &efd, sizeof(int32_t));
	check(ioctl(device, VFIO_DEVICE_SET_IRQS, set) == 0, "SET_IRQS: %s", strerror(errno));
}

/* Returns the latency; *after_write: the part after the doorbell write returned. */
static uint64_t irq_one(int device, uint64_t bell, int efd, uint64_t *after_write)
{
	uint64_t t0 = now_ns(), t1, t2;

	wr32(device, bell, 0);
	t1 = now_ns();
	wait_fd(efd);
	t2 = now_ns();
	*after_write = t2 - t1;
	return t2 - t0;
}

int main(void)
{
	static uint64_t ns[NKINDS][ITERS];
	static const struct {
		const char *name;
		uint32_t index, bell;
	} modes[] = {
		{ "MSI-X vector 0", VFIO_PCI_MSIX_IRQ_INDEX, RAM_MSIX_BELL },
		{ "MSI vector 0", VFIO_PCI_MSI_IRQ_INDEX, RAM_MSI_BELL },
	};
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct handoff h[2];
	struct stats st[NKINDS];
	int cpu[2], efd;
	bool cross = two_cpus(cpu);
	cpu_set_t all;
	struct vfio_dev d;

	vfio_open(&d, RAM_GROUP, RAM_BDF);
	check(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &reg) == 0, "REGION_INFO: %s",
	      strerror(errno));
	efd = eventfd(0, EFD_CLOEXEC);
	check(efd >= 0, "eventfd: %s", strerror(errno));
	check(sched_getaffinity(0, sizeof(all), &all) == 0, "sched_getaffinity");
	handoff_start(&h[0], -1);
	if (cross)
		handoff_start(&h[1], cpu[1]);

	printf("MSI delivery: ramdev doorbell write until the eventfd is read, %d samples\n"
	       "each after %d warm-up, %s\n", ITERS, WARMUP, placement());
	for (int m = 0; m < 2; m++) {
		wire_irq(d.device, modes[m].index, efd);
		for (int r = 0; r < ROUNDS; r++) {
			for (int k = 0; k <= K_IRQ; k++) {
				int from = r * (ITERS / ROUNDS);

				if (k == K_HANDOFF_X) {
					if (!cross)
						continue;
					pin_self(cpu[0]);
				}
				for (int i = r ? 0 : -WARMUP; i < ITERS / ROUNDS; i++) {
					uint64_t t, after = 0;

					if (k == K_IRQ)
						t = irq_one(d.device, reg.offset + modes[m].bell, efd,
							    &after);
					else
						t = handoff_one(&h[k - K_HANDOFF]);
					if (i >= 0)
						ns[k][from + i] = t;
					if (i >= 0 && k == K_IRQ)
						ns[K_AFTER_WRITE][from + i] = after;
				}
				if (k == K_HANDOFF_X)
					check(sched_setaffinity(0, sizeof(all), &all) == 0,
					      "affinity");
			}
		}
		wire_irq(d.device, modes[m].index, -1);
		for (int k = 0; k < NKINDS; k++) {
			if (k != K_HANDOFF_X || cross)
				st[k] = stats_of(ns[k], ITERS);
		}
		print_floor("floor: eventfd hand-off", st[K_HANDOFF]);
		if (cross)
			print_floor("floor: cross-CPU (pinned)", st[K_HANDOFF_X]);
		print_latency(modes[m].name, st[K_IRQ], "hand-off", st[K_HANDOFF].median_us);
		print_latency("  - its trapped write", st[K_AFTER_WRITE], "hand-off",
			      st[K_HANDOFF].median_us);
	}
	handoff_stop(&h[0]);
	if (cross)
		handoff_stop(&h[1]);
	return 0;
}
