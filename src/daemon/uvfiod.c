// SPDX-License-Identifier: MIT
/*
 * uvfiod: the daemon that plays the kernel's part of VFIO.
 *
 *   uvfiod --dir DIR [--dir-mode MODE] [--topology FILE] [--debug] [--ready-fd FD]
 *
 * DIR receives the socket (uvfiod.sock), the host view (root/, redirects).
 * It is created with MODE (default 0700; 0755 lets other users' programs
 * reach the daemon) or, if it exists, must be a real directory of ours that
 * nobody else may write (util/dir.h): a root daemon on a directory someone
 * else controls would write wherever their symlinks point.
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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vfio.h"
#include "iommu/type1.h"
#include "pci/pci_bus.h"
#include "session.h"
#include "slot_poll.h"
#include "sysfs.h"
#include "topology.h"
#include "transport/channel.h"
#include "util/dir.h"
#include "util/log.h"
#include "util/loop.h"

static const char *dir;
static int dir_fd = -1;		/* everything in DIR is reached through it */
static bool loading;

static void topology_changed(void)
{
	int ret;

	if (loading)
		return;
	topology_apply_owners();
	ret = sysfs_write(dir_fd);
	if (ret)
		uvfio_err("cannot write the sysfs view under %s: %s", dir, strerror(-ret));
}

static void signal_event(void *arg, uint32_t events)
{
	struct signalfd_siginfo si;
	int fd = *(int *)arg;

	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		uvfio_loop_stop();
}

/* Every client's files and channels are descriptors of ours: take all the
 * kernel allows; the per-user limits share them out. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: uvfiod --dir DIR [--dir-mode MODE] [--topology FILE] [--debug] "
		"[--ready-fd FD] [--poll-us US]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "dir-mode", required_argument, NULL, 'm' },
		{ "topology", required_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'D' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *topology = NULL;
	char err[PATH_MAX + 256] = "", *end;
	mode_t dir_mode = UVFIO_DIR_MODE_DEFAULT;
	int ready_fd = -1, sfd, ret, c;
	unsigned long poll_us = SLOT_POLL_US_DEFAULT;
	bool dir_mode_set = false;
	sigset_t mask;
	long m;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'm':
			m = strtol(optarg, &end, 8);
			if (!*optarg || *end || m < 0 || !uvfio_dir_mode_ok((mode_t)m)) {
				fprintf(stderr, "uvfiod: --dir-mode %s: an octal mode with rwx "
					"for the owner and no write for others, e.g. 0755\n",
					optarg);
				return 2;
			}
			dir_mode = (mode_t)m;
			dir_mode_set = true;
			break;
		case 't': topology = optarg; break;
		case 'D': uvfio_log_set_level(UVFIO_LOG_DEBUG); break;
		case 'r': ready_fd = atoi(optarg); break;
		case 'p':
			poll_us = strtoul(optarg, &end, 10);
			if (!*optarg || *end || poll_us > 1000000) {
				fprintf(stderr, "uvfiod: --poll-us %s: microseconds, 0 to 1000000\n",
					optarg);
				return 2;
			}
			break;
		default: usage(); return c == 'h' ? 0 : 2;
		}
	}
	if (!dir || optind != argc) {
		usage();
		return 2;
	}
	dir_fd = uvfio_dir_open(dir, dir_mode, dir_mode_set, err, sizeof(err));
	if (dir_fd < 0) {
		uvfio_err("refusing the directory: %s", err);
		return 1;
	}

	raise_nofile();
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
	slot_poll_setup((unsigned int)poll_us);
	vfio_register_iommu_driver(&vfio_iommu_type1_ops);
	vfio_topology_changed = topology_changed;

	loading = true;
	ret = topology_load(topology, err, sizeof(err));
	loading = false;
	if (ret) {
		uvfio_err("topology: %s", err);
		goto out;
	}
	topology_apply_owners();
	ret = sysfs_write(dir_fd);
	if (ret) {
		uvfio_err("cannot write the sysfs view under %s: %s", dir, strerror(-ret));
		goto out;
	}
	ret = session_listen(dir_fd, UVFIO_SOCK_NAME);
	if (ret) {
		uvfio_err("%s/%s: %s", dir, UVFIO_SOCK_NAME, strerror(-ret));
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
	close(dir_fd);
	return ret ? 1 : 0;
}
