// SPDX-License-Identifier: MIT
/* The "tap" packet back end against a fake device port, in a network
 * namespace of the test's own (so nothing of the machine's network is
 * touched): frames sent into the interface through a packet socket reach
 * the device in order, the back end stops reading while the device has no
 * room and loses nothing the kernel queued, a reset drops only the frame it
 * held, transmitted frames come out of the interface, and frames sent while
 * the interface is down are counted as dropped.
 *
 * Skipped (exit 77) where a namespace or /dev/net/tun cannot be had. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "models/net_backend.h"
#include "util/loop.h"
#include "uvfio/model.h"

#include "fake_model_args.h"

#define ETHERTYPE	0x88b5		/* IEEE local experimental: no stack answers it */
#define MAX_FRAME	1514
#define MAX_GOT		256

/* The device side: takes up to `room` of the test's frames (-1: any number)
 * and records them by sequence number.  Any other frame (the kernel's IPv6
 * start-up frames, where IPv6 could not be switched off) is taken and
 * ignored while there is room. */
struct fake_port {
	int room;
	unsigned int got, stop_at;
	uint32_t seq[MAX_GOT];
};

static struct fake_port port;

static size_t make_frame(uint32_t i, uint8_t *f)
{
	size_t len = 60 + (i * 331) % (MAX_FRAME - 59);

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, &i, sizeof(i));
	for (size_t b = 18; b < len; b++)
		f[b] = (uint8_t)(i * 7 + b);
	return len;
}

static bool ours(const uint8_t *f, size_t len)
{
	return len >= 18 && f[12] == ETHERTYPE >> 8 && f[13] == (ETHERTYPE & 0xff);
}

static int port_receive(void *opaque, const void *frame, size_t len)
{
	uint8_t want[MAX_FRAME];
	uint32_t seq;

	(void)opaque;
	if (!port.room)
		return -EAGAIN;
	if (!ours(frame, len))
		return 0;
	if (port.room > 0)
		port.room--;
	memcpy(&seq, (const uint8_t *)frame + 14, sizeof(seq));
	assert_int_equal(len, make_frame(seq, want));
	assert_memory_equal(frame, want, len);
	assert_true(port.got < MAX_GOT);
	port.seq[port.got++] = seq;
	if (port.stop_at && port.got == port.stop_at)
		uvfio_loop_stop();
	return 0;
}

static const struct net_port fake = { .receive = port_receive };

static void guard_fired(void *arg, uint32_t events)
{
	(void)events;
	*(struct uvfio_timer **)arg = NULL;
	uvfio_loop_stop();
}

/* Runs the loop until port.stop_at frames arrived or ms passed; true if
 * they arrived. */
static bool run_loop(unsigned int ms)
{
	struct uvfio_timer *guard = uvfio_timer_add(ms, guard_fired, &guard);

	assert_non_null(guard);
	assert_int_equal(uvfio_loop_run(), 0);
	if (!guard)
		return false;
	uvfio_timer_cancel(guard);
	return true;
}

static void set_up(const char *ifname, bool up)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/* A packet socket on the interface for the test's frames only. */
static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETHERTYPE),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	struct timeval tv = { .tv_sec = 2 };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));

	assert_true(s >= 0);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return s;
}

/* Sends frames first..first+n-1 into the interface: the tap reads them. */
static void inject(int s, uint32_t first, uint32_t n)
{
	uint8_t f[MAX_FRAME];

	for (uint32_t i = first; i < first + n; i++) {
		size_t len = make_frame(i, f);

		assert_int_equal(send(s, f, len, 0), (ssize_t)len);
	}
}

static struct net_backend *create(const char *ifname)
{
	const struct uvfio_model_args args = { 1, { { "ifname", ifname } } };
	struct net_backend *nb = NULL;

	assert_int_equal(net_backend_create("tap", &args, &fake, &nb), 0);
	assert_non_null(nb);
	return nb;
}

static int setup(void **state)
{
	(void)state;
	memset(&port, 0, sizeof(port));
	return uvfio_loop_init();
}

static int teardown(void **state)
{
	(void)state;
	uvfio_loop_fini();
	return 0;
}

static void test_names(void **state)
{
	const struct uvfio_model_args long_name = { 1, { { "ifname", "name-too-long-for-it" } } };
	const struct uvfio_model_args empty = { 1, { { "ifname", "" } } };
	struct net_backend *nb = NULL, *nb2 = NULL;
	char line[512];

	(void)state;
	assert_int_equal(net_backend_create("tap", NULL, &fake, &nb), 0);
	net_backend_describe(nb, line, sizeof(line));
	/* the kernel numbered the default pattern */
	assert_non_null(strstr(line, "net tap uvfio0: tx_frames 0, tx_dropped 0"));
	assert_true(if_nametoindex("uvfio0") > 0);
	assert_int_equal(net_backend_create("tap", NULL, &fake, &nb2), 0);
	assert_true(if_nametoindex("uvfio1") > 0);
	net_backend_destroy(nb2);
	net_backend_destroy(nb);
	/* a tap that is not persistent goes with its descriptor */
	assert_int_equal(if_nametoindex("uvfio0"), 0);
	nb = NULL;
	assert_int_equal(net_backend_create("tap", &long_name, &fake, &nb), -EINVAL);
	assert_int_equal(net_backend_create("tap", &empty, &fake, &nb), -EINVAL);
	assert_null(nb);
}

static void test_receive_in_order(void **state)
{
	struct net_backend *nb = create("nbt-rx");
	int s;

	(void)state;
	set_up("nbt-rx", true);
	s = packet_socket("nbt-rx");
	port.room = -1;
	port.stop_at = 100;
	inject(s, 0, 100);
	assert_true(run_loop(3000));
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(port.seq[i], i);
	assert_int_equal(nb->stats.rx_dropped, 0);
	close(s);
	net_backend_destroy(nb);
}

/* The device full: one frame waits in the back end, the rest in the
 * kernel's queue; all come in order once there is room. */
static void test_receive_waits_for_room(void **state)
{
	struct net_backend *nb = create("nbt-full");
	char line[512];
	int s;

	(void)state;
	set_up("nbt-full", true);
	s = packet_socket("nbt-full");
	/* let the kernel's own start-up frames go by first */
	port.room = -1;
	run_loop(300);
	port.room = 0;
	inject(s, 0, 60);
	assert_false(run_loop(300));
	assert_int_equal(port.got, 0);
	net_backend_describe(nb, line, sizeof(line));
	assert_non_null(strstr(line, "nbt-full (receive paused)"));

	port.room = 20;
	net_backend_rx_space(nb);
	run_loop(300);
	assert_int_equal(port.got, 20);

	port.room = -1;
	port.stop_at = 60;
	/* this reads a burst at once; the loop reads the rest, if any */
	net_backend_rx_space(nb);
	if (port.got < 60)
		assert_true(run_loop(3000));
	for (unsigned int i = 0; i < 60; i++)
		assert_int_equal(port.seq[i], i);
	assert_int_equal(nb->stats.rx_dropped, 0);
	close(s);
	net_backend_destroy(nb);
}

static void test_reset_drops_held(void **state)
{
	struct net_backend *nb = create("nbt-reset");
	int s;

	(void)state;
	set_up("nbt-reset", true);
	s = packet_socket("nbt-reset");
	port.room = -1;
	run_loop(300);
	port.room = 0;
	inject(s, 0, 3);
	run_loop(300);
	net_backend_reset(nb);
	assert_int_equal(nb->stats.rx_dropped, 1);
	/* after the reset the back end reads again, by itself */
	port.room = -1;
	port.stop_at = 2;
	assert_true(run_loop(3000));
	assert_int_equal(port.seq[0], 1);
	assert_int_equal(port.seq[1], 2);
	close(s);
	net_backend_destroy(nb);
}

static void test_transmit(void **state)
{
	struct net_backend *nb = create("nbt-tx");
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 1];
	unsigned int n = 0;
	int s;

	(void)state;
	set_up("nbt-tx", true);
	s = packet_socket("nbt-tx");
	for (uint32_t i = 0; i < 40; i++) {
		size_t len = make_frame(i, f);

		net_backend_transmit(nb, f, len);
	}
	while (n < 40) {
		ssize_t len = recv(s, got, sizeof(got), 0);

		assert_true(len > 0);
		assert_int_equal(len, make_frame(n, f));
		assert_memory_equal(got, f, len);
		n++;
	}
	assert_int_equal(nb->stats.tx_frames, 40);
	assert_int_equal(nb->stats.tx_dropped, 0);

	/* an interface that is down takes nothing */
	set_up("nbt-tx", false);
	net_backend_transmit(nb, f, make_frame(0, f));
	assert_int_equal(nb->stats.tx_frames, 41);
	assert_int_equal(nb->stats.tx_dropped, 1);
	close(s);
	net_backend_destroy(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_waits_for_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_drops_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
	};
	int fd;

	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: no network namespace of our own: %s\n", strerror(errno));
		return 77;
	}
	/* no IPv6 start-up frames on the test's interfaces (the sysctl is this
	 * namespace's own) */
	fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			printf("IPv6 stays on: %s\n", strerror(errno));
		close(fd);
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: /dev/net/tun: %s\n", strerror(errno));
		return 77;
	}
	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
