// SPDX-License-Identifier: MIT
/*
 * "pcap": the NIC's wire is a pair of capture files, read and written
 * through libpcap.  Both arguments are optional:
 *
 *   "rx"        an Ethernet capture (DLT_EN10MB) whose frames the device
 *               receives in file order, as fast as the driver posts receive
 *               buffers.  The file is finite and a test wants all of it, so
 *               no frame is dropped for lack of room: the next one stays in
 *               the file until the device can take it, across resets too.
 *               A frame the device refuses outright (larger than its
 *               buffers) or shorter than an Ethernet header is dropped and
 *               counted.  A frame captured truncated arrives as captured.
 *   "tx"        a capture file (DLT_EN10MB) created, or truncated, when the
 *               device is created.  Each transmitted frame is appended and
 *               flushed at once, so the file can be read while the daemon
 *               runs.  Without "tx" transmitted frames are discarded.
 *   "rx_start"  when receiving starts: "immediately" (the default, and the
 *               only value): as soon as the driver has receive buffers.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "net_backend.h"
#include "util/log.h"
#include "util/loop.h"
#include "uvfio/model.h"

/* libpcap's own limit: larger than any frame the device sends. */
#define PCAP_SNAPLEN		262144
/* Frames offered per call.  A device's ring stops a burst long before
 * this; only a device refusing every frame reaches it, and then the rest of
 * the file goes on the next loop passes instead of all at once. */
#define PCAP_BURST		512

struct pcapbe {
	struct net_backend nb;		/* first: the device holds &nb */
	pcap_t *rx;			/* NULL once the file is done */
	const unsigned char *next;	/* frame read but not taken yet, in rx's buffer */
	size_t next_len;
	uint64_t rx_read;
	struct uvfio_timer *more;	/* continues a burst cut short */
	pcap_t *tx_dead;		/* what the dumper needs to know the link type */
	pcap_dumper_t *tx;
	char rx_path[128], tx_path[128];
};

static struct pcapbe *to_pcap(struct net_backend *nb)
{
	return (struct pcapbe *)nb;
}

/* Reads the next Ethernet frame of the rx file; false at its end. */
static bool rx_next(struct pcapbe *p)
{
	while (p->rx) {
		struct pcap_pkthdr *h;
		const unsigned char *data;
		int ret = pcap_next_ex(p->rx, &h, &data);

		if (ret == 1 && h->caplen >= ETH_HLEN) {
			p->next = data;
			p->next_len = h->caplen;
			p->rx_read++;
			return true;
		}
		if (ret == 1) {
			p->nb.stats.rx_dropped++;
			continue;
		}
		/* the end of the file, or damage, which ends it as well */
		if (ret == PCAP_ERROR)
			uvfio_dbg_rl("pcap %s: %s", p->rx_path, pcap_geterr(p->rx));
		pcap_close(p->rx);
		p->rx = NULL;
	}
	return false;
}

static void pcapbe_pump(struct pcapbe *p);

static void pcapbe_more(void *arg, uint32_t events)
{
	struct pcapbe *p = arg;

	(void)events;
	p->more = NULL;
	pcapbe_pump(p);
}

static void pcapbe_pump(struct pcapbe *p)
{
	for (unsigned int i = 0; i < PCAP_BURST; i++) {
		if (!p->next && !rx_next(p))
			return;
		if (net_backend_deliver(&p->nb, p->next, p->next_len) == -EAGAIN)
			return;
		p->next = NULL;
	}
	/* if no timer can be had, the driver's next buffers continue it */
	if (!p->more)
		p->more = uvfio_timer_add(0, pcapbe_more, p);
}

static void pcapbe_rx_space(struct net_backend *nb)
{
	pcapbe_pump(to_pcap(nb));
}

static void pcapbe_transmit(struct net_backend *nb, const void *frame, size_t len)
{
	struct pcapbe *p = to_pcap(nb);
	struct pcap_pkthdr h = { .caplen = (uint32_t)len, .len = (uint32_t)len };

	if (!p->tx)
		return;
	gettimeofday(&h.ts, NULL);
	pcap_dump((unsigned char *)p->tx, &h, frame);
	if (pcap_dump_flush(p->tx)) {
		nb->stats.tx_dropped++;
		uvfio_dbg_rl("pcap %s: write failed", p->tx_path);
	}
}

/* The next frame stays where it is: a reset loses no part of the file. */
static void pcapbe_reset(struct net_backend *nb)
{
	(void)nb;
}

static void pcapbe_describe(struct net_backend *nb, char *buf, size_t len)
{
	struct pcapbe *p = to_pcap(nb);

	snprintf(buf, len, "rx %s (%llu read%s), tx %s", p->rx_path[0] ? p->rx_path : "none",
		 (unsigned long long)p->rx_read, p->rx ? "" : ", end",
		 p->tx_path[0] ? p->tx_path : "none");
}

static int open_rx(struct pcapbe *p, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f = fopen(path, "rb");

	if (!f)
		return -errno;
	p->rx = pcap_fopen_offline(f, err);
	if (!p->rx) {
		fclose(f);
		return -EINVAL;
	}
	if (pcap_datalink(p->rx) != DLT_EN10MB)
		return -EINVAL;
	snprintf(p->rx_path, sizeof(p->rx_path), "%s", path);
	return 0;
}

static int open_tx(struct pcapbe *p, const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -errno;
	p->tx_dead = pcap_open_dead(DLT_EN10MB, PCAP_SNAPLEN);
	if (!p->tx_dead) {
		fclose(f);
		return -ENOMEM;
	}
	/* on failure libpcap has closed f itself */
	p->tx = pcap_dump_fopen(p->tx_dead, f);
	if (!p->tx)
		return -EIO;
	snprintf(p->tx_path, sizeof(p->tx_path), "%s", path);
	return 0;
}

static void pcapbe_destroy(struct net_backend *nb)
{
	struct pcapbe *p = to_pcap(nb);

	uvfio_timer_cancel(p->more);
	if (p->rx)
		pcap_close(p->rx);
	if (p->tx)
		pcap_dump_close(p->tx);
	if (p->tx_dead)
		pcap_close(p->tx_dead);
	free(p);
}

static int pcapbe_create(const struct uvfio_model_args *args, struct net_backend **out)
{
	const char *rx = uvfio_model_arg(args, "rx");
	const char *tx = uvfio_model_arg(args, "tx");
	const char *start = uvfio_model_arg(args, "rx_start");
	struct pcapbe *p;
	int ret = 0;

	if (start && strcmp(start, "immediately"))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (rx)
		ret = open_rx(p, rx);
	if (!ret && tx)
		ret = open_tx(p, tx);
	if (ret) {
		pcapbe_destroy(&p->nb);
		return ret;
	}
	*out = &p->nb;
	return 0;
}

const struct net_backend_ops net_pcap_ops = {
	.name = "pcap",
	.create = pcapbe_create,
	.destroy = pcapbe_destroy,
	.transmit = pcapbe_transmit,
	.rx_space = pcapbe_rx_space,
	.reset = pcapbe_reset,
	.describe = pcapbe_describe,
};
