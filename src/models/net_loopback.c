// SPDX-License-Identifier: MIT
/*
 * "loopback": every frame the device transmits comes back to it as received.
 * A frame the device has no receive buffer for waits in a queue, in order,
 * until the driver adds buffers; beyond LOOP_MAX_FRAMES or LOOP_MAX_BYTES
 * waiting, further frames are dropped (and counted), as a wire would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net_backend.h"

#define LOOP_MAX_FRAMES		256
#define LOOP_MAX_BYTES		(4u << 20)

struct loop_frame {
	struct loop_frame *next;
	size_t len;
	unsigned char data[];
};

struct loopback {
	struct net_backend nb;		/* first: the device holds &nb */
	struct loop_frame *head, **tail;
	unsigned int nr_frames;
	size_t bytes;
};

static struct loopback *to_loop(struct net_backend *nb)
{
	return (struct loopback *)nb;
}

static void loop_drop_head(struct loopback *lb)
{
	struct loop_frame *f = lb->head;

	lb->head = f->next;
	if (!lb->head)
		lb->tail = &lb->head;
	lb->nr_frames--;
	lb->bytes -= f->len;
	free(f);
}

/* Hands the device what waits, oldest first, while it has room. */
static void loop_flush(struct loopback *lb)
{
	while (lb->head && net_backend_deliver(&lb->nb, lb->head->data, lb->head->len) != -EAGAIN)
		loop_drop_head(lb);
}

static void loop_transmit(struct net_backend *nb, const void *frame, size_t len)
{
	struct loopback *lb = to_loop(nb);
	struct loop_frame *f;

	/* nothing waits, so this frame does not overtake any */
	if (!lb->head && net_backend_deliver(nb, frame, len) != -EAGAIN)
		return;
	if (lb->nr_frames >= LOOP_MAX_FRAMES || len > LOOP_MAX_BYTES - lb->bytes) {
		nb->stats.rx_dropped++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		nb->stats.rx_dropped++;
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	*lb->tail = f;
	lb->tail = &f->next;
	lb->nr_frames++;
	lb->bytes += len;
}

static void loop_rx_space(struct net_backend *nb)
{
	loop_flush(to_loop(nb));
}

static void loop_reset(struct net_backend *nb)
{
	struct loopback *lb = to_loop(nb);

	while (lb->head) {
		nb->stats.rx_dropped++;
		loop_drop_head(lb);
	}
}

static int loop_create(const struct uvfio_model_args *args, struct net_backend **out)
{
	struct loopback *lb = calloc(1, sizeof(*lb));

	(void)args;
	if (!lb)
		return -ENOMEM;
	lb->tail = &lb->head;
	*out = &lb->nb;
	return 0;
}

static void loop_destroy(struct net_backend *nb)
{
	struct loopback *lb = to_loop(nb);

	while (lb->head)
		loop_drop_head(lb);
	free(lb);
}

const struct net_backend_ops net_loopback_ops = {
	.name = "loopback",
	.create = loop_create,
	.destroy = loop_destroy,
	.transmit = loop_transmit,
	.rx_space = loop_rx_space,
	.reset = loop_reset,
};
