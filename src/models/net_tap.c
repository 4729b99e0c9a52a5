// SPDX-License-Identifier: MIT
/*
 * "tap": the NIC's wire is a Linux tap interface (/dev/net/tun with IFF_TAP |
 * IFF_NO_PI, so frames cross it as plain Ethernet).  Argument "ifname" names
 * the interface; it may hold one %d for the kernel to number (default
 * "uvfio%d").  An existing persistent tap of that name is attached to.
 * Creating an interface needs CAP_NET_ADMIN in the daemon's network
 * namespace; without it the device is not created (-EPERM).
 *
 * The back end only attaches to the interface.  Bringing it up, giving it
 * addresses or putting it in a bridge is left to the user (`ip link set
 * NAME up`): frames flow once the interface is up.
 *
 * Receive: the tap's descriptor is watched on the event loop and each frame
 * read is offered to the device.  When the device has no room, that frame
 * is kept and the descriptor is no longer watched, so the kernel's queue for
 * the interface (txqueuelen) holds what follows, and drops past it as a wire
 * would, until the driver adds receive buffers.
 *
 * Transmit: one write per frame; a frame the interface does not take
 * (EAGAIN; EIO while it is down) is dropped and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net_backend.h"
#include "util/log.h"
#include "util/loop.h"
#include "uvfio/model.h"

/* Frames read per wake-up, so one busy interface does not hold the loop. */
#define TAP_BURST		64
/* The largest frame a tap passes: a 65535-byte MTU, Ethernet header, one
 * VLAN tag. */
#define TAP_MAX_FRAME		(0xffff + ETH_HLEN + 4)

struct tap {
	struct net_backend nb;		/* first: the device holds &nb */
	int fd;
	bool watching;
	size_t held;			/* length of the frame in buf waiting for room */
	char ifname[IFNAMSIZ];
	unsigned char buf[TAP_MAX_FRAME];
};

static struct tap *to_tap(struct net_backend *nb)
{
	return (struct tap *)nb;
}

static void tap_readable(void *arg, uint32_t events);

static void tap_watch(struct tap *t, bool on)
{
	if (on == t->watching)
		return;
	if (!on) {
		uvfio_loop_unwatch(t->fd);
	} else if (uvfio_loop_watch(t->fd, EPOLLIN, tap_readable, t)) {
		/* out of memory: the next rx_space tries again */
		uvfio_dbg_rl("tap %s: cannot watch the interface", t->ifname);
		return;
	}
	t->watching = on;
}

/*
 * Offers frames to the device until it is full, the interface has nothing
 * more or a burst is done.  Reading stops while a frame waits for room, or
 * after a read error (EPOLLERR would otherwise wake the loop for ever);
 * rx_space resumes it.
 */
static void tap_pump(struct tap *t)
{
	bool failed = false;

	for (unsigned int i = 0; i < TAP_BURST; i++) {
		if (!t->held) {
			ssize_t n = read(t->fd, t->buf, sizeof(t->buf));

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				uvfio_dbg_rl("tap %s: read: %s", t->ifname, strerror(errno));
				failed = true;
			}
			if (n <= 0)
				break;
			t->held = (size_t)n;
		}
		if (net_backend_deliver(&t->nb, t->buf, t->held) == -EAGAIN)
			break;
		t->held = 0;
	}
	/* level-triggered: a burst cut short wakes the loop again */
	tap_watch(t, !t->held && !failed);
}

static void tap_readable(void *arg, uint32_t events)
{
	(void)events;
	tap_pump(arg);
}

static void tap_transmit(struct net_backend *nb, const void *frame, size_t len)
{
	struct tap *t = to_tap(nb);
	ssize_t n = write(t->fd, frame, len);

	if (n == (ssize_t)len)
		return;
	nb->stats.tx_dropped++;
	if (n < 0 && errno != EAGAIN)
		uvfio_dbg_rl("tap %s: write: %s", t->ifname, strerror(errno));
}

static void tap_rx_space(struct net_backend *nb)
{
	struct tap *t = to_tap(nb);

	/* while watched, the loop reads by itself */
	if (!t->watching)
		tap_pump(t);
}

static void tap_reset(struct net_backend *nb)
{
	struct tap *t = to_tap(nb);

	if (t->held) {
		nb->stats.rx_dropped++;
		t->held = 0;
	}
	tap_watch(t, true);
}

static void tap_describe(struct net_backend *nb, char *buf, size_t len)
{
	struct tap *t = to_tap(nb);

	snprintf(buf, len, "%s%s", t->ifname, t->watching ? "" : " (receive paused)");
}

static int tap_create(const struct uvfio_model_args *args, struct net_backend **out)
{
	const char *name = uvfio_model_arg(args, "ifname");
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct tap *t;
	int ret;

	if (!name)
		name = "uvfio%d";
	if (!*name || strlen(name) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		goto out_close;
	}
	memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname) - 1);
	ret = uvfio_loop_watch(t->fd, EPOLLIN, tap_readable, t);
	if (ret)
		goto out_close;
	t->watching = true;
	*out = &t->nb;
	return 0;

out_close:
	close(t->fd);
out_free:
	free(t);
	return ret;
}

static void tap_destroy(struct net_backend *nb)
{
	struct tap *t = to_tap(nb);

	tap_watch(t, false);
	close(t->fd);
	free(t);
}

const struct net_backend_ops net_tap_ops = {
	.name = "tap",
	.create = tap_create,
	.destroy = tap_destroy,
	.transmit = tap_transmit,
	.rx_space = tap_rx_space,
	.reset = tap_reset,
	.describe = tap_describe,
};
