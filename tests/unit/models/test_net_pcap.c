// SPDX-License-Identifier: MIT
/* The "pcap" packet back end against a fake device port and capture files
 * the test writes and reads with libpcap: receive order and content, frames
 * held (not dropped) while the device has no room, across a reset too,
 * refused frames counted without stopping the rest, transmitted frames
 * readable at once, and the argument errors. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/net_backend.h"
#include "util/loop.h"
#include "uvfio/model.h"

#include "fake_model_args.h"

#define MAX_FRAME	1514
#define MAX_GOT		2048

/* The device side: takes up to `room` frames (-1: any number), refuses the
 * frames `refuse` says with -EMSGSIZE, and records the sequence numbers. */
struct fake_port {
	int room;
	bool (*refuse)(uint32_t seq);
	unsigned int got, offered;
	uint32_t seq[MAX_GOT];
	unsigned int stop_at;		/* stops the loop once this many were offered */
};

static struct fake_port port;
static char dir[64];

/* Frame i: broadcast, ethertype 0x88b5, its number, then bytes that depend
 * on it; lengths cycle through 60..MAX_FRAME. */
static size_t make_frame(uint32_t i, uint8_t *f)
{
	size_t len = 60 + (i * 197) % (MAX_FRAME - 59);

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &i, sizeof(i));
	for (size_t b = 18; b < len; b++)
		f[b] = (uint8_t)(i + b);
	return len;
}

static uint32_t frame_seq(const uint8_t *f)
{
	uint32_t seq;

	memcpy(&seq, f + 14, sizeof(seq));
	return seq;
}

static int port_receive(void *opaque, const void *frame, size_t len)
{
	uint8_t want[MAX_FRAME];
	uint32_t seq = frame_seq(frame);

	(void)opaque;
	if (!port.room)
		return -EAGAIN;
	port.offered++;
	if (port.stop_at && port.offered == port.stop_at)
		uvfio_loop_stop();
	if (port.refuse && port.refuse(seq))
		return -EMSGSIZE;
	assert_int_equal(len, make_frame(seq, want));
	assert_memory_equal(frame, want, len);
	assert_true(port.got < MAX_GOT);
	port.seq[port.got++] = seq;
	if (port.room > 0)
		port.room--;
	return 0;
}

static const struct net_port fake = { .receive = port_receive };

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Writes frames first..first+n-1 (and `runts` 10-byte frames first). */
static void write_capture(const char *path, int dlt, uint32_t n, unsigned int runts)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d;
	uint8_t f[MAX_FRAME];

	assert_non_null(dead);
	d = pcap_dump_open(dead, path);
	assert_non_null(d);
	for (unsigned int i = 0; i < runts; i++) {
		struct pcap_pkthdr h = { .caplen = 10, .len = 10 };

		memset(f, 0, 10);
		pcap_dump((u_char *)d, &h, f);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pcap_pkthdr h;

		h.caplen = h.len = (uint32_t)make_frame(i, f);
		h.ts.tv_sec = i;
		h.ts.tv_usec = 0;
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static struct net_backend *create(const struct uvfio_model_args *args)
{
	struct net_backend *nb = NULL;

	assert_int_equal(net_backend_create("pcap", args, &fake, &nb), 0);
	assert_non_null(nb);
	return nb;
}

static int setup(void **state)
{
	(void)state;
	memset(&port, 0, sizeof(port));
	return 0;
}

static void assert_in_order(unsigned int n)
{
	assert_int_equal(port.got, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(port.seq[i], i);
}

static void test_rx_in_order(void **state)
{
	char rx[128], line[512];
	const struct uvfio_model_args args = { 1, { { "rx", rx } } };
	struct net_backend *nb;

	(void)state;
	path_of(rx, sizeof(rx), "order.pcap");
	write_capture(rx, DLT_EN10MB, 300, 0);
	nb = create(&args);
	port.room = -1;
	/* nothing arrives before the device asks */
	assert_int_equal(port.offered, 0);
	net_backend_rx_space(nb);
	assert_in_order(300);
	assert_int_equal(nb->stats.rx_frames, 300);
	assert_int_equal(nb->stats.rx_dropped, 0);
	net_backend_describe(nb, line, sizeof(line));
	assert_non_null(strstr(line, "net pcap rx "));
	assert_non_null(strstr(line, "order.pcap (300 read, end), tx none: tx_frames 0,"));
	assert_non_null(strstr(line, "rx_frames 300, rx_dropped 0"));
	/* the file is done: more room brings nothing */
	net_backend_rx_space(nb);
	assert_int_equal(port.got, 300);
	net_backend_destroy(nb);
}

static void test_rx_held_not_dropped(void **state)
{
	char rx[128];
	const struct uvfio_model_args args = { 2, { { "rx", rx }, { "rx_start", "immediately" } } };
	struct net_backend *nb;

	(void)state;
	path_of(rx, sizeof(rx), "held.pcap");
	write_capture(rx, DLT_EN10MB, 100, 0);
	nb = create(&args);
	/* a device without buffers: the first frame waits, nothing is lost */
	net_backend_rx_space(nb);
	assert_int_equal(port.got, 0);
	for (unsigned int round = 0; round < 10; round++) {
		port.room = 10;
		net_backend_rx_space(nb);
		assert_int_equal(port.got, 10 * (round + 1));
		assert_int_equal(port.room, 0);
		/* a reset between buffers loses nothing of the file */
		if (round == 4)
			net_backend_reset(nb);
	}
	assert_in_order(100);
	assert_int_equal(nb->stats.rx_frames, 100);
	assert_int_equal(nb->stats.rx_dropped, 0);
	net_backend_destroy(nb);
}

static bool refuse_odd(uint32_t seq)
{
	return seq & 1;
}

static void stop_loop(void *arg, uint32_t events)
{
	(void)events;
	*(struct uvfio_timer **)arg = NULL;
	uvfio_loop_stop();
}

/* More refused frames than one burst: the rest go on the loop's next
 * passes, and every accepted frame still arrives in order. */
static void test_rx_refused_counted(void **state)
{
	char rx[128];
	const struct uvfio_model_args args = { 1, { { "rx", rx } } };
	struct uvfio_timer *guard;
	struct net_backend *nb;

	(void)state;
	path_of(rx, sizeof(rx), "refused.pcap");
	write_capture(rx, DLT_EN10MB, 1500, 3);
	assert_int_equal(uvfio_loop_init(), 0);
	nb = create(&args);
	port.room = -1;
	port.refuse = refuse_odd;
	port.stop_at = 1500;
	net_backend_rx_space(nb);
	assert_true(port.offered < 1500);
	guard = uvfio_timer_add(5000, stop_loop, &guard);
	assert_non_null(guard);
	assert_int_equal(uvfio_loop_run(), 0);
	assert_non_null(guard);		/* stopped by the last frame, not the guard */
	uvfio_timer_cancel(guard);
	assert_int_equal(port.offered, 1500);
	assert_int_equal(port.got, 750);
	for (unsigned int i = 0; i < 750; i++)
		assert_int_equal(port.seq[i], 2 * i);
	/* the three runts and the 750 refused frames */
	assert_int_equal(nb->stats.rx_dropped, 753);
	assert_int_equal(nb->stats.rx_frames, 750);
	net_backend_destroy(nb);
	uvfio_loop_fini();
}

static void test_tx_readable_at_once(void **state)
{
	char tx[128], err[PCAP_ERRBUF_SIZE];
	const struct uvfio_model_args args = { 1, { { "tx", tx } } };
	struct net_backend *nb;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t f[MAX_FRAME];
	pcap_t *in;
	uint32_t n = 0;

	(void)state;
	path_of(tx, sizeof(tx), "tx.pcap");
	nb = create(&args);
	for (uint32_t i = 0; i < 50; i++) {
		size_t len = make_frame(i, f);

		net_backend_transmit(nb, f, len);
	}
	/* read while the back end still has the file open */
	in = pcap_open_offline(tx, err);
	assert_non_null(in);
	assert_int_equal(pcap_datalink(in), DLT_EN10MB);
	while (pcap_next_ex(in, &h, &data) == 1) {
		size_t len = make_frame(n, f);

		assert_int_equal(h->caplen, len);
		assert_int_equal(h->len, len);
		assert_memory_equal(data, f, len);
		n++;
	}
	pcap_close(in);
	assert_int_equal(n, 50);
	assert_int_equal(nb->stats.tx_frames, 50);
	assert_int_equal(nb->stats.tx_dropped, 0);
	net_backend_destroy(nb);
}

static void test_no_files(void **state)
{
	struct net_backend *nb = create(NULL);
	uint8_t f[MAX_FRAME];
	size_t len = make_frame(0, f);

	(void)state;
	port.room = -1;
	net_backend_rx_space(nb);
	net_backend_transmit(nb, f, len);
	assert_int_equal(port.offered, 0);
	assert_int_equal(nb->stats.tx_frames, 1);
	net_backend_destroy(nb);
}

static void test_bad_args(void **state)
{
	char missing[128], text[128], raw[128], baddir[128];
	const struct uvfio_model_args a_missing = { 1, { { "rx", missing } } };
	const struct uvfio_model_args a_text = { 1, { { "rx", text } } };
	const struct uvfio_model_args a_raw = { 1, { { "rx", raw } } };
	const struct uvfio_model_args a_baddir = { 1, { { "tx", baddir } } };
	const struct uvfio_model_args a_start = { 1, { { "rx_start", "later" } } };
	struct net_backend *nb = NULL;
	FILE *f;

	(void)state;
	path_of(missing, sizeof(missing), "missing.pcap");
	path_of(text, sizeof(text), "text.pcap");
	path_of(raw, sizeof(raw), "raw.pcap");
	path_of(baddir, sizeof(baddir), "no/such/dir.pcap");
	f = fopen(text, "w");
	assert_non_null(f);
	fputs("not a capture file, only some text that is long enough\n", f);
	fclose(f);
	write_capture(raw, DLT_RAW, 1, 0);
	assert_int_equal(net_backend_create("pcap", &a_missing, &fake, &nb), -ENOENT);
	assert_int_equal(net_backend_create("pcap", &a_text, &fake, &nb), -EINVAL);
	assert_int_equal(net_backend_create("pcap", &a_raw, &fake, &nb), -EINVAL);
	assert_int_equal(net_backend_create("pcap", &a_baddir, &fake, &nb), -ENOENT);
	assert_int_equal(net_backend_create("pcap", &a_start, &fake, &nb), -EINVAL);
	assert_int_equal(net_backend_create("pcapng", NULL, &fake, &nb), -EINVAL);
	assert_null(nb);
}

static int remove_entry(const char *name)
{
	char path[128];

	path_of(path, sizeof(path), name);
	return unlink(path);
}

int main(void)
{
	static const char *const files[] = { "order.pcap", "held.pcap", "refused.pcap",
					     "tx.pcap", "text.pcap", "raw.pcap" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rx_in_order, setup),
		cmocka_unit_test_setup(test_rx_held_not_dropped, setup),
		cmocka_unit_test_setup(test_rx_refused_counted, setup),
		cmocka_unit_test_setup(test_tx_readable_at_once, setup),
		cmocka_unit_test_setup(test_no_files, setup),
		cmocka_unit_test_setup(test_bad_args, setup),
	};
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/uvfio-pcap-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		remove_entry(files[i]);
	rmdir(dir);
	return ret;
}
