/* SPDX-License-Identifier: MIT */
/*
 * Packet back ends of the emulated NICs: where transmitted Ethernet frames
 * go and where received ones come from.  The device drives its back end
 * (transmit, "there is receive room now", reset); the back end offers frames
 * to the device through a port and may hold the ones the device cannot take
 * yet, up to a bound of its own.  Frames are plain Ethernet, without any
 * device header.  Back ends live on the daemon's event-loop thread like
 * their devices.
 */
#ifndef UVFIO_MODELS_NET_BACKEND_H
#define UVFIO_MODELS_NET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct uvfio_model_args;
struct net_backend;

/* The device side, as a back end sees it. */
struct net_port {
	/* Offers one received frame: 0 taken, -EAGAIN no room now (offer it
	 * again after rx_space), any other negative errno dropped by the
	 * device. */
	int (*receive)(void *opaque, const void *frame, size_t len);
	void *opaque;
};

struct net_backend_stats {
	uint64_t tx_frames;		/* frames the device transmitted */
	uint64_t tx_dropped;		/* of those, the ones the back end could not pass on */
	uint64_t rx_frames;		/* frames the device took */
	uint64_t rx_dropped;		/* refused, or no room before the bound */
};

struct net_backend_ops {
	const char *name;		/* as the "backend" model argument names it */
	/* Allocates the back end (struct net_backend first in it). */
	int (*create)(const struct uvfio_model_args *args, struct net_backend **out);
	void (*destroy)(struct net_backend *nb);
	void (*transmit)(struct net_backend *nb, const void *frame, size_t len);
	/* The device has new receive buffers. */
	void (*rx_space)(struct net_backend *nb);
	/* The device was reset: frames held for it are stale. */
	void (*reset)(struct net_backend *nb);
	/* Optional: where the frames go, for `uvfio stats` ("tap uvfio0"). */
	void (*describe)(struct net_backend *nb, char *buf, size_t len);
};

struct net_backend {
	const struct net_backend_ops *ops;
	struct net_port port;
	struct net_backend_stats stats;
};

/* -EINVAL for an unknown back-end name. */
int net_backend_create(const char *name, const struct uvfio_model_args *args,
		       const struct net_port *port, struct net_backend **out);
void net_backend_destroy(struct net_backend *nb);

static inline void net_backend_transmit(struct net_backend *nb, const void *frame, size_t len)
{
	nb->stats.tx_frames++;
	nb->ops->transmit(nb, frame, len);
}

static inline void net_backend_rx_space(struct net_backend *nb)
{
	nb->ops->rx_space(nb);
}

static inline void net_backend_reset(struct net_backend *nb)
{
	nb->ops->reset(nb);
}

/* For back ends: offers a frame to the device and counts the outcome;
 * -EAGAIN when the device has no room, else 0 (taken or dropped). */
int net_backend_deliver(struct net_backend *nb, const void *frame, size_t len);

/* One line (no newline): the back end and its counters. */
void net_backend_describe(struct net_backend *nb, char *buf, size_t len);

extern const struct net_backend_ops net_loopback_ops;
extern const struct net_backend_ops net_tap_ops;
extern const struct net_backend_ops net_pcap_ops;

#endif
