// SPDX-License-Identifier: MIT
/*
 * Per-user limits (tests/integration/limits.json: 16 connections, 32 files,
 * 64 DMA mappings, 16 iommufd objects, 8 IRQ eventfds).  One unprivileged
 * user (65534) takes all it can of each and gets the errno Linux gives;
 * while it holds them another user (65533) does one of everything; when the
 * first exits, the daemon counts nothing for it any more.
 *
 * Needs root to become those users: skipped, exit 77, otherwise.
 */
#include <linux/iommufd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "iommufd_util.h"
#include "wire_util.h"

#define ATTACKER	65534
#define VICTIM		65533
#define IOAS_IOVA	0x100000ull

static void become(uid_t uid)
{
	REQUIRE(setresgid(uid, uid, uid) == 0 && setresuid(uid, uid, uid) == 0,
		"become uid %u", (unsigned int)uid);
}

/* A raw call channel; -errno of the first reply when the daemon refuses it. */
static int raw_channel(int *refused)
{
	struct uvfio_req req = { .magic = UVFIO_WIRE_MAGIC, .op = 999 };
	struct uvfio_rep rep = { 0 };
	int fd = raw_channel_flags(0);

	REQUIRE(send(fd, &req, sizeof(req), MSG_NOSIGNAL) == sizeof(req) &&
		recv(fd, &rep, sizeof(rep), 0) == sizeof(rep), "a call");
	*refused = rep.ret == -EOPNOTSUPP ? 0 : (int)rep.ret;
	return fd;
}

/* Takes as many as it can of each; returns how many it got. */
static int take_connections(int *fds, int max)
{
	int n = 0, refused = 0;

	while (n < max && !refused) {
		fds[n] = raw_channel(&refused);
		if (!refused)
			n++;
	}
	CHECK(refused == -EMFILE, "the connection past the limit: %d", refused);
	close(fds[n]);
	return n;
}

static int take_files(int *fds, int max)
{
	int n = 0;

	while (n < max && (fds[n] = open("/dev/vfio/vfio", O_RDWR)) >= 0)
		n++;
	CHECK(n < max && errno == EMFILE, "the file past the limit: %s", strerror(errno));
	return n;
}

static int take_ioas(int iommufd, uint32_t *ids, int max)
{
	int n = 0, id;

	while (n < max && (id = ioas_alloc(iommufd)) > 0)
		ids[n++] = (uint32_t)id;
	CHECK(n < max && errno == ENOMEM, "the object past the limit: %s", strerror(errno));
	return n;
}

static int take_mappings(int iommufd, uint32_t ioas, uint8_t *mem, int max)
{
	int n = 0;

	while (n < max && ioas_map(iommufd, ioas, mem + 4096 * n, 4096, IOAS_IOVA + 4096 * n,
				   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE) == 0)
		n++;
	CHECK(n < max && errno == ENOSPC, "the mapping past the limit: %s", strerror(errno));
	return n;
}

static int take_ioeventfds(int device, int max)
{
	int n = 0;

	for (; n < max; n++) {
		struct vfio_device_ioeventfd ie = {
			.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32,
			.offset = REGION(0) + 0x100 + 4 * n, .fd = eventfd(0, EFD_CLOEXEC),
		};

		if (ioctl(device, VFIO_DEVICE_IOEVENTFD, &ie))
			break;
	}
	CHECK(n < max && errno == EMFILE, "the eventfd past the limit: %s", strerror(errno));
	return n;
}

/* One of everything, as the other user. */
static int victim(void)
{
	struct vfio_setup s;
	int iommufd, ioas, efd = eventfd(0, EFD_CLOEXEC);
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = REGION(0) + 0x100, .fd = efd,
	};

	become(VICTIM);
	setup_device(&s, RAM_GROUP, RAM_BDF0, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(ioctl(s.device, VFIO_DEVICE_IOEVENTFD, &ie));
	CHECK_OK(map_dma(s.container, mem, 0x100000, 4096,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	iommufd = open("/dev/iommu", O_RDWR);
	ioas = ioas_alloc(iommufd);
	CHECK(ioas > 0, "IOAS_ALLOC");
	CHECK_OK(ioas_map(iommufd, (uint32_t)ioas, mem, 4096, IOAS_IOVA,
			  IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE));
	return harness_done("limits (the other user)");
}

/* A new thread needs a channel of its own: over the limit, its first call
 * fails with EMFILE. */
static void *open_in_new_thread(void *arg)
{
	int fd = open("/dev/vfio/vfio", O_RDWR);

	*(int *)arg = fd < 0 ? errno : 0;
	return NULL;
}

static int attacker(int done_pipe, int go_pipe)
{
	static int fds[2048];
	static uint32_t ids[256];
	struct vfio_setup s;
	int nconn, nfiles, nobj, nmap, nefd, iommufd, ioas;
	uint8_t *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	char c;

	become(ATTACKER);
	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	nefd = take_ioeventfds(s.device, 100);
	CHECK(nefd == 8, "%d IRQ eventfds", nefd);
	iommufd = open("/dev/iommu", O_RDWR);
	REQUIRE(iommufd >= 0, "/dev/iommu");
	ioas = ioas_alloc(iommufd);
	nobj = 1 + take_ioas(iommufd, ids, 256);
	CHECK(nobj == 16, "%d iommufd objects", nobj);
	nmap = take_mappings(iommufd, (uint32_t)ioas, mem, 200);
	CHECK(nmap == 64, "%d DMA mappings", nmap);
	nfiles = 4 + take_files(fds, 2048);	/* with container, group, device, iommufd */
	CHECK(nfiles == 32, "%d files", nfiles);
	nconn = take_connections(fds + nfiles, 100);
	CHECK(nconn >= 10 && nconn < 16, "%d raw connections beside the shim's", nconn);
	pthread_t t;
	int err = -1;

	REQUIRE(pthread_create(&t, NULL, open_in_new_thread, &err) == 0, "thread");
	pthread_join(t, NULL);
	CHECK(err == EMFILE, "a new thread's open past the connection limit: %s", strerror(err));
	REQUIRE(write(done_pipe, "f", 1) == 1 && read(go_pipe, &c, 1) == 1, "sync");
	return harness_done("limits (the user at its limits)");
}

static bool daemon_counts_nothing_for(const char *uvfio, uid_t uid)
{
	char cmd[512], line[512], want[32];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s stats", uvfio);
	snprintf(want, sizeof(want), "user %u:", (unsigned int)uid);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		found |= !strncmp(line, want, strlen(want));
	if (p)
		pclose(p);
	return p && !found;
}

int main(int argc, char **argv)
{
	int done[2], go[2], status;
	pid_t a, v;
	char c;

	if (argc != 2)
		return 2;
	if (geteuid() != 0) {
		printf("SKIP: needs root to act as two other users\n");
		return 77;
	}
	REQUIRE(pipe(done) == 0 && pipe(go) == 0, "pipes");
	a = fork();
	REQUIRE(a >= 0, "fork");
	if (!a) {
		int ret = attacker(done[1], go[0]);

		fflush(stdout);
		_exit(ret);
	}
	CHECK(read(done[0], &c, 1) == 1, "the first user is at its limits");

	v = fork();
	REQUIRE(v >= 0, "fork");
	if (!v) {
		int ret = victim();

		fflush(stdout);
		_exit(ret);
	}
	CHECK(waitpid(v, &status, 0) == v && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the other user is unaffected (status %#x)", status);

	CHECK(write(go[1], "g", 1) == 1, "release");
	CHECK(waitpid(a, &status, 0) == a && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the user at its limits got the right errors (status %#x)", status);
	/* everything it held was released with it */
	for (int i = 0; i < 50 && !daemon_counts_nothing_for(argv[1], ATTACKER); i++)
		usleep(100000);
	CHECK(daemon_counts_nothing_for(argv[1], ATTACKER), "nothing counted for it after");
	return harness_done("limits");
}
