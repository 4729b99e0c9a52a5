// SPDX-License-Identifier: MIT
/*
 * uvfio: run programs against a uvfio "host", and administer it.
 *
 *   uvfio run [--connect DIR | --topology FILE] [--dir-mode MODE] [--poll-us US] [--debug]
 *             [--] PROGRAM [ARGS...]
 *   uvfio daemon --dir DIR [--dir-mode MODE] [--topology FILE] [--poll-us US] [--debug]
 *   uvfio ls | stats                 [--dir DIR]
 *   uvfio bind BDF DRIVER | unbind BDF [--dir DIR]
 *
 * DIR defaults to $UVFIO_DIR for the administrative commands.  uvfiod creates
 * DIR, or checks that it is a real directory of ours that nobody else may
 * write, and refuses it otherwise (util/dir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport/channel.h"
#include "util/dir.h"

#ifndef UVFIO_LIBDIR
#define UVFIO_LIBDIR "/usr/local/lib"
#endif

static char self_dir[PATH_MAX];

static void find_self(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		strcpy(self_dir, ".");
		return;
	}
	exe[n] = 0;
	snprintf(self_dir, sizeof(self_dir), "%s", dirname(exe));
}

/* Next to the uvfio binary (build tree, bindir), else the install libdir. */
static int find_sibling(const char *name, const char *fallback_dir, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s", self_dir, name) < (int)len && access(out, R_OK) == 0)
		return 0;
	if (snprintf(out, len, "%s/%s", fallback_dir, name) >= (int)len)
		return -ENAMETOOLONG;
	return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

static bool wait_for_socket(const char *dir, int seconds)
{
	char sock[PATH_MAX];
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (snprintf(sock, sizeof(sock), "%s/" UVFIO_SOCK_NAME, dir) >= (int)sizeof(sock))
		return false;
	for (int i = 0; i < seconds * 50; i++) {
		int fd = uvfio_chan_connect(sock);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

/* What `run` and `daemon` pass on to uvfiod; NULL/false: its default. */
struct daemon_opts {
	const char *dir_mode, *topology, *poll_us;
	bool debug;
};

/* Starts uvfiod on dir and waits until it serves.  Returns its pid. */
static pid_t start_daemon(const char *dir, const struct daemon_opts *o, bool foreground)
{
	char daemon_path[PATH_MAX], fdarg[16], buf[16];
	int pipefd[2];
	pid_t pid;

	if (find_sibling("uvfiod", self_dir, daemon_path, sizeof(daemon_path))) {
		fprintf(stderr, "uvfio: cannot find uvfiod next to %s\n", self_dir);
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *argv[14];
		int n = 0;

		/* Only the ready pipe survives exec. */
		fcntl(pipefd[1], F_SETFD, 0);
		snprintf(fdarg, sizeof(fdarg), "%d", pipefd[1]);
		argv[n++] = "uvfiod";
		argv[n++] = "--dir";
		argv[n++] = dir;
		argv[n++] = "--ready-fd";
		argv[n++] = fdarg;
		if (o->dir_mode) {
			argv[n++] = "--dir-mode";
			argv[n++] = o->dir_mode;
		}
		if (o->topology) {
			argv[n++] = "--topology";
			argv[n++] = o->topology;
		}
		if (o->poll_us) {
			argv[n++] = "--poll-us";
			argv[n++] = o->poll_us;
		}
		if (o->debug)
			argv[n++] = "--debug";
		argv[n] = NULL;
		if (!foreground)
			setpgid(0, 0);	/* keep ^C for the program, not the host */
		/* If uvfio itself is killed, the host goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		unsetenv("LD_PRELOAD");
		execv(daemon_path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], buf, sizeof(buf)) <= 0) {
		close(pipefd[0]);
		waitpid(pid, NULL, 0);
		fprintf(stderr, "uvfio: the daemon failed to start\n");
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

static int status_to_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static pid_t child_pid;

static void remove_private_dir(const char *dir, int dir_fd)
{
	uvfio_empty_dir(dir_fd);
	close(dir_fd);
	rmdir(dir);
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "topology", required_argument, NULL, 't' },
		{ "dir-mode", required_argument, NULL, 'm' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'D' },
		{ 0 }
	};
	/* The private directory is readable by all (never writable): the
	 * program may switch users, as a VMM dropping privileges does, and the
	 * nodes' own modes say who may open them. */
	struct daemon_opts o = { .dir_mode = "0755" };
	const char *connect_dir = NULL;
	char dir[PATH_MAX], shim[PATH_MAX], preload[PATH_MAX * 2], err[PATH_MAX + 256];
	int c, status, ret, dir_fd = -1;
	pid_t daemon = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'c': connect_dir = optarg; break;
		case 't': o.topology = optarg; break;
		case 'm': o.dir_mode = optarg; break;
		case 'p': o.poll_us = optarg; break;
		case 'D': o.debug = true; break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: uvfio run [--connect DIR | --topology FILE] [--dir-mode MODE] "
			"[--poll-us US] [--debug] [--] PROGRAM [ARGS...]\n");
		return 2;
	}
	if (find_sibling("libuvfio-shim.so", UVFIO_LIBDIR, shim, sizeof(shim))) {
		fprintf(stderr, "uvfio: cannot find libuvfio-shim.so\n");
		return 1;
	}
	if (connect_dir) {
		if (!realpath(connect_dir, dir) || !wait_for_socket(dir, 10)) {
			fprintf(stderr, "uvfio: no daemon serves %s\n", connect_dir);
			return 1;
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/uvfio-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("uvfio: mkdtemp");
			return 1;
		}
		/* Held open to empty it at the end without following anything
		 * planted in it. */
		dir_fd = uvfio_dir_open(dir, UVFIO_DIR_MODE_DEFAULT, false, err, sizeof(err));
		if (dir_fd < 0) {
			fprintf(stderr, "uvfio: %s\n", err);
			rmdir(dir);
			return 1;
		}
		daemon = start_daemon(dir, &o, false);
		if (daemon < 0) {
			remove_private_dir(dir, dir_fd);
			return 1;
		}
	}

	/* The shim goes after anything already preloaded (sanitizer runtimes
	 * must stay first). */
	const char *old = getenv("LD_PRELOAD");

	snprintf(preload, sizeof(preload), "%s%s%s", old && *old ? old : "",
		 old && *old ? ":" : "", shim);
	child_pid = fork();
	if (child_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("UVFIO_DIR", dir, 1);
		setenv("LD_PRELOAD", preload, 1);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "uvfio: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	while (waitpid(child_pid, &status, 0) < 0 && errno == EINTR)
		;
	ret = status_to_exit(status);

	if (daemon > 0) {
		int dstatus;

		kill(daemon, SIGTERM);
		while (waitpid(daemon, &dstatus, 0) < 0 && errno == EINTR)
			;
		/* A daemon that failed (a sanitizer report, a crash) fails the run. */
		if (!WIFEXITED(dstatus) || WEXITSTATUS(dstatus)) {
			fprintf(stderr, "uvfio: the daemon exited with status %d\n",
				status_to_exit(dstatus));
			if (!ret)
				ret = 70;
		}
		remove_private_dir(dir, dir_fd);
	}
	return ret;
}

static int cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "dir-mode", required_argument, NULL, 'm' },
		{ "topology", required_argument, NULL, 't' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'D' },
		{ 0 }
	};
	struct daemon_opts o = { 0 };
	const char *dir = NULL;
	int c, status;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'm': o.dir_mode = optarg; break;
		case 't': o.topology = optarg; break;
		case 'p': o.poll_us = optarg; break;
		case 'D': o.debug = true; break;
		default: return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "usage: uvfio daemon --dir DIR [--dir-mode MODE] [--topology FILE] "
			"[--poll-us US] [--debug]\n");
		return 2;
	}
	/* uvfiod makes the directory itself, or refuses one it cannot trust. */
	pid = start_daemon(dir, &o, true);
	if (pid < 0)
		return 1;
	child_pid = pid;
	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status_to_exit(status);
}

static int cmd_control(const char *dir, const char *command)
{
	static char reply[65536];
	char sock[PATH_MAX];
	struct uvfio_call call = {
		.req = { .op = UVFIO_OP_CONTROL, .len = (uint32_t)strlen(command) },
		.payload = command, .rbuf = reply, .rbuf_cap = sizeof(reply) - 1,
	};
	int chan, ret;

	if (!dir) {
		fprintf(stderr, "uvfio: no daemon given: use --dir DIR or set UVFIO_DIR\n");
		return 2;
	}
	if (snprintf(sock, sizeof(sock), "%s/" UVFIO_SOCK_NAME, dir) >= (int)sizeof(sock))
		return 2;
	chan = uvfio_chan_connect(sock);
	if (chan < 0) {
		fprintf(stderr, "uvfio: %s: %s\n", sock, strerror(-chan));
		return 1;
	}
	ret = uvfio_chan_call(chan, &call);
	close(chan);
	if (ret) {
		fprintf(stderr, "uvfio: %s\n", strerror(-ret));
		return 1;
	}
	if (call.rep.ret < 0) {
		fprintf(stderr, "uvfio: %s: %s\n", command, strerror((int)-call.rep.ret));
		return 1;
	}
	reply[call.rep.len] = 0;
	fputs(reply, stdout);
	return 0;
}

static void usage(void)
{
	fputs("usage: uvfio run [--connect DIR | --topology FILE] [--dir-mode MODE] [--debug]\n"
	      "                 [--] PROGRAM [ARGS...]\n"
	      "       uvfio daemon --dir DIR [--dir-mode MODE] [--topology FILE] [--debug]\n"
	      "       uvfio ls|stats [--dir DIR]\n"
	      "       uvfio bind BDF DRIVER [--dir DIR]\n"
	      "       uvfio unbind BDF [--dir DIR]\n", stderr);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("UVFIO_DIR");
	char command[256];
	int i, n = 0;

	find_self();
	if (argc < 2) {
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "daemon"))
		return cmd_daemon(argc - 1, argv + 1);

	/* Administrative commands: positional words plus --dir. */
	command[0] = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
			continue;
		}
		n += snprintf(command + n, sizeof(command) - (size_t)n, "%s%s", n ? " " : "",
			      argv[i]);
		if ((size_t)n >= sizeof(command))
			return 2;
	}
	if (strcmp(argv[1], "ls") && strcmp(argv[1], "stats") && strcmp(argv[1], "bind") &&
	    strcmp(argv[1], "unbind")) {
		usage();
		return 2;
	}
	return cmd_control(dir, command);
}
