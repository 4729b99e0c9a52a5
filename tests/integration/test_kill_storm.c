// SPDX-License-Identifier: MIT
/*
 * A kill storm: 200 client processes against one shared daemon, up to 8 at
 * a time, each doing a random mix of group/container and cdev/iommufd work,
 * DMA mappings, interrupts, register mappings and forks, each killed with
 * SIGKILL at a random moment.  Afterwards the daemon is alive and back at
 * its baseline: no file open, no device in use, nothing counted for any
 * user but this test's own channel, as many descriptors as before and about
 * as much memory.
 */
#include <dirent.h>
#include <linux/iommufd.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "iommufd_util.h"
#include "wire_util.h"

#define CLIENTS		200
#define AT_ONCE		8

static const struct {
	int group;
	const char *bdf;
} functions[] = {
	{ 10, "0000:10:00.0" }, { 11, "0000:10:01.0" }, { 13, "0000:10:03.0" },
	{ 14, "0000:10:04.0" },
};

/* Group path: container, group, type1, DMA, device, interrupts, a BAR map. */
static void group_work(unsigned int r)
{
	unsigned int f = r % 4;
	int container = open("/dev/vfio/vfio", O_RDWR), group, device, efd[2];
	uint8_t *mem = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
			    (r & 8 ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

	group = open_group(functions[f].group);
	if (group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, r & 16 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU))
		return;		/* busy: another client has it */
	map_dma(container, mem, 0x100000, 1 << 16,
		VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, functions[f].bdf);
	if (device < 0)
		return;
	enable_device(device);
	efd[0] = eventfd(0, EFD_CLOEXEC);
	efd[1] = eventfd(0, EFD_CLOEXEC);
	set_irq_eventfds(device, r & 32 ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_INTX_IRQ_INDEX, 0,
			 1, efd);
	set_irq_eventfds(device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, efd + 1);
	if (f != 2) {		/* virtio-net's BAR0 is I/O */
		volatile uint32_t *bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
					      device, REGION(0));

		if (bar != MAP_FAILED)
			(void)bar[0];
	}
	if (f == 0)
		edu_dma(device, 0x100000, EDU_BUF, 4096, 0);
	if (r & 64) {		/* sometimes tidy, sometimes leave it to the kill */
		close(device);
		close(group);
		close(container);
		close(efd[0]);
		close(efd[1]);
	}
}

/* cdev path: iommufd, IOAS, mapping, bind, attach. */
static void cdev_work(unsigned int r)
{
	int iommufd = open("/dev/iommu", O_RDWR), dev = open_cdev(functions[r % 4].bdf), ioas;
	uint8_t *mem = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);

	ioas = ioas_alloc(iommufd);
	if (ioas > 0)
		ioas_map(iommufd, (uint32_t)ioas, mem, 1 << 16, 0x200000,
			 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	if (dev >= 0 && bind_iommufd(dev, iommufd) >= 0 && ioas > 0)
		attach_pt(dev, (uint32_t)ioas);
	if (r & 64) {
		close(dev);
		close(iommufd);
	}
}

static void client(unsigned int seed)
{
	int null = open("/dev/null", O_WRONLY);

	setpgid(0, 0);		/* its forks die with it */
	/* a client's calls may fail (a group busy, a kill mid-call): no
	 * verdict is made in here */
	dup2(null, STDERR_FILENO);
	srand(seed);
	for (;;) {
		unsigned int r = (unsigned int)rand();

		if (r & 1)
			group_work(r >> 1);
		else
			cdev_work(r >> 1);
		if ((r & 0x300) == 0 && fork() == 0)
			continue;	/* the child carries on with copies of it all */
	}
}

/* The daemon's pid, from its end of a connection. */
static pid_t daemon_pid(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = raw_channel_flags(0);

	REQUIRE(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, "the daemon");
	close(fd);
	return cred.pid;
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmRSS: %ld kB", &kib);
	if (f)
		fclose(f);
	return kib;
}

/* What `uvfio stats` and `uvfio ls` say (files, users' holdings, devices in
 * use, mappings), minus lines that count traffic (they only grow). */
static void stats(const char *uvfio, char *out, size_t cap)
{
	char cmd[512], line[512];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s stats; %s ls", uvfio, uvfio);
	p = popen(cmd, "r");
	REQUIRE(p, "uvfio stats");
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, ": dma reads") || strstr(line, "descriptors") ||
		    strstr(line, "tx_frames"))
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s", line);
	}
	pclose(p);
}

static bool idle(const char *uvfio, const char *want)
{
	char now[8192];

	stats(uvfio, now, sizeof(now));
	return !strcmp(now, want);
}

int main(int argc, char **argv)
{
	char before[8192], after[8192];
	pid_t running[AT_ONCE] = { 0 }, dmn;
	int fds_before, fds_after;
	long rss_before, rss_after;
	struct timespec ts;
	bool back = false;
	unsigned int busiest = 0;

	if (argc != 2)
		return 2;
	dmn = daemon_pid();
	stats(argv[1], before, sizeof(before));
	/* the daemon sees the hang-ups of the CLI's connections in its own
	 * time too: the baseline is the count once it holds still */
	fds_before = count_fds(dmn);
	for (int i = 0; i < 40; i++) {
		int now;

		usleep(50000);
		now = count_fds(dmn);
		if (now == fds_before)
			break;
		fds_before = now;
	}
	rss_before = rss_kib(dmn);
	srand(12345);
	for (int started = 0, done = 0; done < CLIENTS;) {
		for (int i = 0; i < AT_ONCE; i++) {
			if (running[i] || started == CLIENTS)
				continue;
			running[i] = fork();
			REQUIRE(running[i] >= 0, "fork");
			if (!running[i])
				client((unsigned int)started * 7919u + 1);
			started++;
		}
		if (done % 50 == 25) {
			char mid[8192];
			unsigned int open_now = 0;

			stats(argv[1], mid, sizeof(mid));
			sscanf(mid, "files open: %u", &open_now);
			if (open_now > busiest)
				busiest = open_now;
		}
		/* kill one at random after a random while */
		ts.tv_sec = 0;
		ts.tv_nsec = (rand() % 20) * 1000000L;
		nanosleep(&ts, NULL);
		for (int i = rand() % AT_ONCE, k = 0; k < AT_ONCE; k++, i = (i + 1) % AT_ONCE) {
			if (!running[i])
				continue;
			/* its whole process group: forks included */
			kill(-running[i], SIGKILL);
			kill(running[i], SIGKILL);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
			done++;
			break;
		}
	}
	/* the daemon sees each hang-up in its own time */
	for (int i = 0; i < 200 && !back; i++) {
		fds_after = count_fds(dmn);
		back = fds_after == fds_before && idle(argv[1], before);
		if (!back)
			usleep(50000);
	}
	stats(argv[1], after, sizeof(after));
	rss_after = rss_kib(dmn);
	CHECK(busiest > 0, "the clients had files open during the storm");
	CHECK(kill(dmn, 0) == 0, "the daemon is alive");
	CHECK(!strcmp(after, before), "state after the storm:\n%s\nbefore:\n%s", after, before);
	CHECK(fds_after == fds_before, "daemon descriptors %d, before %d", fds_after, fds_before);
	/* Under ASan freed memory sits in quarantine: there LeakSanitizer, at
	 * the daemon's exit, is what says nothing was lost. */
	if (getenv("ASAN_OPTIONS"))
		printf("kill storm: daemon memory not compared (ASan quarantine); LSan checks "
		       "leaks at exit\n");
	else
		CHECK(rss_after - rss_before < 16 * 1024, "daemon memory %ld KiB, before %ld KiB",
		      rss_after, rss_before);
	printf("kill storm: %d clients (up to %u files open), daemon %d fds and %ld KiB "
	       "before, %d and %ld after\n", CLIENTS, busiest, fds_before, rss_before,
	       fds_after, rss_after);
	return harness_done("kill storm");
}
