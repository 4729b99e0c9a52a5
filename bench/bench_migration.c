// SPDX-License-Identifier: MIT
/*
 * bench_migration: per model, the STOP_COPY stream's size, the time to save
 * it (RUNNING -> STOP_COPY, read to end of stream, -> STOP) and to resume it
 * (RUNNING -> RESUMING, write, -> RUNNING), beside a floor measured in the
 * same run: the same bytes read and written through a pipe.  (The guest
 * migration's downtime needs QEMU with migration v2, which Debian 12 has
 * not.)
 */
#include <linux/vfio.h>

#include "bench_util.h"
#include "uvfio/vfio_mig.h"

#define ROUNDS		50

static int device;

static int set_state(uint32_t state)
{
	union {
		struct vfio_device_feature f;
		uint8_t b[sizeof(struct vfio_device_feature) +
			  sizeof(struct vfio_device_feature_mig_state)];
	} u = { .f = { .argsz = sizeof(u),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE } };
	struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = -1 };

	memcpy(u.f.data, &m, sizeof(m));
	check(ioctl(device, VFIO_DEVICE_FEATURE, &u) == 0, "MIG_DEVICE_STATE %u: %s", state,
	      strerror(errno));
	memcpy(&m, u.f.data, sizeof(m));
	return m.data_fd;
}

static size_t save(uint8_t *buf, size_t cap)
{
	int fd = set_state(VFIO_DEVICE_STATE_STOP_COPY);
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	check(n == 0, "read of the data_fd: %s", strerror(errno));
	set_state(VFIO_DEVICE_STATE_STOP);
	close(fd);
	set_state(VFIO_DEVICE_STATE_RUNNING);
	return len;
}

static void resume(const uint8_t *buf, size_t len)
{
	int fd = set_state(VFIO_DEVICE_STATE_RESUMING);

	check(write(fd, buf, len) == (ssize_t)len, "write of the data_fd: %s", strerror(errno));
	set_state(VFIO_DEVICE_STATE_RUNNING);
	close(fd);
}

/* The same bytes through a pipe, in chunks a pipe takes. */
static uint64_t pipe_floor(const uint8_t *buf, size_t len, uint8_t *out)
{
	uint64_t t0 = now_ns();
	int p[2];

	check(pipe(p) == 0, "pipe");
	for (size_t at = 0; at < len;) {
		size_t chunk = len - at < 65536 ? len - at : 65536;

		check(write(p[1], buf + at, chunk) == (ssize_t)chunk, "pipe write");
		check(read(p[0], out + at, chunk) == (ssize_t)chunk, "pipe read");
		at += chunk;
	}
	close(p[0]);
	close(p[1]);
	return now_ns() - t0;
}

static void model(const char *name, int group, const char *bdf)
{
	static uint64_t save_ns[ROUNDS], resume_ns[ROUNDS], floor_ns[ROUNDS];
	size_t cap = 64 << 20, len = 0;
	uint8_t *buf = malloc(cap), *out = malloc(cap);
	struct stats s, r, f;
	struct vfio_dev d;

	check(buf && out, "malloc");
	vfio_open(&d, group, bdf);
	device = d.device;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = now_ns();

		len = save(buf, cap);
		save_ns[i] = now_ns() - t0;
		t0 = now_ns();
		resume(buf, len);
		resume_ns[i] = now_ns() - t0;
		floor_ns[i] = pipe_floor(buf, len, out);
	}
	s = stats_of(save_ns, ROUNDS);
	r = stats_of(resume_ns, ROUNDS);
	f = stats_of(floor_ns, ROUNDS);
	printf("  %-10s stream %8zu bytes  save %8.1f us  resume %8.1f us  "
	       "floor (pipe, both ways) %7.1f us  ratio %5.1fx / %5.1fx\n", name, len,
	       s.median_us, r.median_us, f.median_us, s.median_us / f.median_us,
	       r.median_us / f.median_us);
	close(d.device);
	close(d.group);
	close(d.container);
	free(buf);
	free(out);
}

int main(void)
{
	printf("Migration v2: STOP_COPY stream per model, %d rounds each, medians, %s\n",
	       ROUNDS, placement());
	model("edu", EDU_GROUP, EDU_BDF);
	model("ramdev", RAM_GROUP, RAM_BDF);
	model("virtio-net", 13, "0000:10:03.0");
	model("ioat", 14, "0000:10:04.0");
	return 0;
}
