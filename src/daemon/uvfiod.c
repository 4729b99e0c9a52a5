// SPDX-License-Identifier: MIT
/*
 * uvfiod: the daemon that plays the kernel's part of VFIO.
 *
 *   uvfiod --dir DIR [--topology FILE] [--debug] [--ready-fd FD]
 *
 * DIR receives the socket (uvfiod.sock), the host view (root/, redirects).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vfio.h"
#include "iommu/type1.h"
#include "pci/pci_bus.h"
#include "session.h"
#include "sysfs.h"
#include "topology.h"
#include "transport/channel.h"
#include "util/log.h"
#include "util/loop.h"

static const char *dir;
static bool loading;

static void topology_changed(void)
{
	if (loading)
		return;
	topology_apply_owners();
	sysfs_write(dir);
}

static void signal_event(void *arg, uint32_t events)
{
	struct signalfd_siginfo si;
	int fd = *(int *)arg;

	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		uvfio_loop_stop();
}

static void usage(void)
{
	fprintf(stderr, "usage: uvfiod --dir DIR [--topology FILE] [--debug] [--ready-fd FD]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "topology", required_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'D' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *topology = NULL;
	char sock[PATH_MAX], err[512] = "";
	int ready_fd = -1, sfd, ret, c;
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 't': topology = optarg; break;
		case 'D': uvfio_log_set_level(UVFIO_LOG_DEBUG); break;
		case 'r': ready_fd = atoi(optarg); break;
		default: usage(); return c == 'h' ? 0 : 2;
		}
	}
	if (!dir || optind != argc) {
		usage();
		return 2;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		uvfio_err("%s: %s", dir, strerror(errno));
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	if (uvfio_loop_init() || sfd < 0 || uvfio_loop_watch(sfd, EPOLLIN, signal_event, &sfd)) {
		uvfio_err("cannot set up the event loop");
		return 1;
	}
	vfio_register_iommu_driver(&vfio_iommu_type1_ops);
	vfio_topology_changed = topology_changed;

	loading = true;
	ret = topology_load(topology, err, sizeof(err));
	loading = false;
	if (ret) {
		uvfio_err("topology: %s", err);
		goto out;
	}
	topology_changed();
	snprintf(sock, sizeof(sock), "%s/" UVFIO_SOCK_NAME, dir);
	ret = session_listen(sock);
	if (ret) {
		uvfio_err("%s: %s", sock, strerror(-ret));
		goto out;
	}
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "ready\n", 6);

		(void)n;
		close(ready_fd);
	}
	uvfio_info("serving VFIO at %s (pid %d)", dir, (int)getpid());
	ret = uvfio_loop_run();

out:
	session_shutdown();
	vfio_file_release_all();
	pci_bus_fini();
	topology_fini();
	uvfio_loop_unwatch(sfd);
	close(sfd);
	uvfio_loop_fini();
	return ret ? 1 : 0;
}
