// SPDX-License-Identifier: MIT
/*
 * The packet back ends by name, and what all of them share.
 */
#include "net_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct net_backend_ops *const backends[] = {
	&net_loopback_ops,
	&net_tap_ops,
	&net_pcap_ops,
};

int net_backend_create(const char *name, const struct uvfio_model_args *args,
		       const struct net_port *port, struct net_backend **out)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct net_backend *nb;
		int ret;

		if (strcmp(backends[i]->name, name))
			continue;
		ret = backends[i]->create(args, &nb);
		if (ret)
			return ret;
		nb->ops = backends[i];
		nb->port = *port;
		memset(&nb->stats, 0, sizeof(nb->stats));
		*out = nb;
		return 0;
	}
	return -EINVAL;
}

void net_backend_destroy(struct net_backend *nb)
{
	if (nb)
		nb->ops->destroy(nb);
}

int net_backend_deliver(struct net_backend *nb, const void *frame, size_t len)
{
	int ret = nb->port.receive(nb->port.opaque, frame, len);

	if (ret == -EAGAIN)
		return ret;
	if (ret)
		nb->stats.rx_dropped++;
	else
		nb->stats.rx_frames++;
	return 0;
}

void net_backend_describe(struct net_backend *nb, char *buf, size_t len)
{
	char detail[320] = "";

	if (nb->ops->describe) {
		detail[0] = ' ';
		nb->ops->describe(nb, detail + 1, sizeof(detail) - 1);
	}
	snprintf(buf, len,
		 "net %s%s: tx_frames %llu, tx_dropped %llu, rx_frames %llu, rx_dropped %llu",
		 nb->ops->name, detail, (unsigned long long)nb->stats.tx_frames,
		 (unsigned long long)nb->stats.tx_dropped, (unsigned long long)nb->stats.rx_frames,
		 (unsigned long long)nb->stats.rx_dropped);
}
