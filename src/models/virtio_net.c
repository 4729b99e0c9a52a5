// SPDX-License-Identifier: MIT
/*
 * virtio-net as a transitional PCI function (1af4:1000, subsystem 1af4:0001)
 * driven through the legacy interface (virtio 1.x "Legacy Interfaces: A Note
 * on PCI Device Layout"), which is what DPDK's legacy virtio PMD and Linux's
 * virtio_pci_legacy speak.
 *
 *   BAR0  I/O, 32 bytes: the legacy header, then (MSI-X enabled only) the
 *         config and queue vectors, then the device config: MAC, status.
 *   BAR1  MEM32, 4 KiB: MSI-X table (3 vectors) at 0, PBA at 0x800.
 *   INTA  when MSI-X is off; ISR bit 0 queue, bit 1 config change.
 *
 * Queues 0 (receive) and 1 (transmit), 256 entries each, no control queue.
 * Features offered, all implemented: MAC, STATUS (the link is always up),
 * MRG_RXBUF, ANY_LAYOUT (headers and frames are read and written as one byte
 * stream, however the driver splits them) and INDIRECT_DESC.  Not offered:
 * NOTIFY_ON_EMPTY (it only adds interrupts, and no driver here wants them),
 * checksum and segmentation offloads, EVENT_IDX.
 *
 * A driver that breaks the ring rules (see virtio_ring.c) gets
 * DEVICE_NEEDS_RESET in the status and a config-change interrupt; the
 * device then does nothing more until it is reset.
 *
 * Model arguments: "backend" (default "loopback"; also "tap" and "pcap",
 * whose own arguments net_tap.c and net_pcap.c describe) and "mac"
 * (aa:bb:cc:dd:ee:ff; default 52:54:00 followed by three bytes derived from
 * the function's name, so every function has its own).
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "net_backend.h"
#include "uvfio/model.h"
#include "util/log.h"
#include "virtio_ring.h"

#define VNET_BAR0_SIZE		32
#define VNET_MSIX_BAR		1
#define VNET_MSIX_VECTORS	3
#define VNET_QUEUE_SIZE		256
#define VNET_RXQ		0
#define VNET_TXQ		1
#define VNET_NR_QUEUES		2
#define VNET_ISR_QUEUE		0x1
/* The largest frame a driver without segmentation offloads can send:
 * a 65535-byte MTU, an Ethernet header and one VLAN tag. */
#define VNET_MAX_FRAME		(0xffff + ETH_HLEN + 4)

#define VNET_FEATURES	((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) |	\
			 (1u << VIRTIO_NET_F_MRG_RXBUF) | (1u << VIRTIO_F_ANY_LAYOUT) |	\
			 (1u << VIRTIO_RING_F_INDIRECT_DESC))

struct vnet_queue {
	struct virtq vr;
	uint32_t pfn;
	uint16_t vector;
};

struct vnet {
	struct uvfio_pci_dev *pdev;
	struct net_backend *be;
	uint32_t guest_features;
	uint16_t queue_sel;
	uint16_t config_vector;
	uint8_t status;
	uint8_t isr;
	uint8_t mac[ETH_ALEN];
	uint8_t perm_mac[ETH_ALEN];	/* what a reset restores */
	struct vnet_queue q[VNET_NR_QUEUES];
	uint8_t held_notify;		/* queues notified while stopped */
	/* one chain each: receiving runs inside transmitting (loopback) */
	struct virtq_chain tx_chain, rx_first, rx_more;
	uint8_t frame[VNET_MAX_FRAME];
};

static int vnet_dma_read(void *opaque, uint64_t iova, void *buf, size_t len)
{
	return uvfio_pci_dma_read(opaque, iova, buf, len);
}

static int vnet_dma_write(void *opaque, uint64_t iova, const void *buf, size_t len)
{
	return uvfio_pci_dma_write(opaque, iova, buf, len);
}

static const struct virtq_dma_ops vnet_dma = {
	.read = vnet_dma_read,
	.write = vnet_dma_write,
};

static bool has_feature(const struct vnet *vn, unsigned int bit)
{
	return vn->guest_features & (1u << bit);
}

static unsigned int hdr_len(const struct vnet *vn)
{
	return has_feature(vn, VIRTIO_NET_F_MRG_RXBUF) ? sizeof(struct virtio_net_hdr_mrg_rxbuf) :
							  sizeof(struct virtio_net_hdr);
}

/* The device config moves when MSI-X is switched on or off. */
static unsigned int config_offset(struct vnet *vn)
{
	return VIRTIO_PCI_CONFIG_OFF(uvfio_pci_msix_enabled(vn->pdev));
}

static bool running(const struct vnet *vn)
{
	return (vn->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vn->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

static struct vnet_queue *selected_queue(struct vnet *vn)
{
	return vn->queue_sel < VNET_NR_QUEUES ? &vn->q[vn->queue_sel] : NULL;
}

/* Raises an interrupt cause: the vector when MSI-X is on (none for
 * VIRTIO_MSI_NO_VECTOR), else INTA, which stays up until the ISR is read.
 * The ISR records the cause either way, as drivers read it with MSI-X too. */
static void vnet_raise(struct vnet *vn, uint8_t cause, uint16_t vector)
{
	vn->isr |= cause;
	if (uvfio_pci_msix_enabled(vn->pdev)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			uvfio_pci_msi_notify(vn->pdev, vector);
	} else {
		uvfio_pci_intx_set(vn->pdev, true);
	}
}

static int vnet_broken(struct vnet *vn, int err)
{
	if (!(vn->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		uvfio_dbg_rl("%s: driver broke the virtqueue rules (%d); device needs a reset",
			     uvfio_pci_name(vn->pdev), err);
		vn->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		vnet_raise(vn, VIRTIO_PCI_ISR_CONFIG, vn->config_vector);
	}
	return err;
}

/* Makes the queue's new used entries visible and interrupts if the driver
 * asks. */
static void vnet_complete(struct vnet *vn, struct vnet_queue *q)
{
	int ret = virtq_publish(&q->vr);

	if (ret < 0) {
		vnet_broken(vn, ret);
		return;
	}
	if (ret && virtq_want_interrupt(&q->vr))
		vnet_raise(vn, VNET_ISR_QUEUE, q->vector);
}

/* The back end's port: places one frame in receive buffers. */
static int vnet_receive(void *opaque, const void *frame, size_t len)
{
	struct vnet *vn = opaque;
	struct vnet_queue *q = &vn->q[VNET_RXQ];
	struct virtio_net_hdr_mrg_rxbuf hdr = { .hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE };
	bool mrg = has_feature(vn, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int hlen = hdr_len(vn), nbufs = 0;
	size_t done = 0;
	int ret;

	/* stopped by its user: the back end keeps the frame for later */
	if (uvfio_pci_stopped(vn->pdev))
		return -EAGAIN;

	if (vn->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return -EIO;
	if (!running(vn) || !q->vr.num)
		return -EAGAIN;
	if (len > VNET_MAX_FRAME)
		return -EMSGSIZE;
	do {
		struct virtq_chain *c = nbufs ? &vn->rx_more : &vn->rx_first;
		uint32_t start = nbufs ? 0 : hlen, n;

		ret = virtq_pop(&q->vr, c);
		if (ret < 0)
			return vnet_broken(vn, ret);
		if (!ret) {
			/* not enough buffers for the whole frame: keep it */
			virtq_unpush(&q->vr, nbufs);
			virtq_unpop(&q->vr, nbufs);
			return -EAGAIN;
		}
		if (c->nr_out || (mrg && c->in_len < hlen))
			return vnet_broken(vn, -EINVAL);
		if (!mrg && c->in_len < hlen + len) {
			/* too small for a frame that must fit one buffer */
			virtq_unpop(&q->vr, 1);
			return -EMSGSIZE;
		}
		n = c->in_len - start < len - done ? c->in_len - start : len - done;
		ret = virtq_chain_write(&q->vr, c, start, (const uint8_t *)frame + done, n);
		if (!ret)
			ret = virtq_push(&q->vr, c->head, start + n);
		if (ret)
			return vnet_broken(vn, ret);
		done += n;
		nbufs++;
	} while (done < len);

	hdr.num_buffers = nbufs;
	ret = virtq_chain_write(&q->vr, &vn->rx_first, 0, &hdr, hlen);
	if (ret)
		return vnet_broken(vn, ret);
	vnet_complete(vn, q);
	return 0;
}

/* Sends what the driver queued for transmission, at most one ring's worth
 * per notification so a driver that keeps adding cannot hold the daemon. */
static void vnet_transmit(struct vnet *vn)
{
	struct vnet_queue *q = &vn->q[VNET_TXQ];
	struct virtq_chain *c = &vn->tx_chain;
	unsigned int hlen = hdr_len(vn);

	for (unsigned int i = 0; i < q->vr.num && running(vn); i++) {
		uint32_t len;
		int ret = virtq_pop(&q->vr, c);

		if (!ret)
			break;
		if (ret < 0) {
			vnet_broken(vn, ret);
			return;
		}
		/* the header is mandatory; nothing is written on transmit */
		if (c->nr_in || c->out_len < hlen) {
			vnet_broken(vn, -EINVAL);
			return;
		}
		len = c->out_len - hlen;
		if (len < ETH_HLEN || len > VNET_MAX_FRAME) {
			uvfio_dbg_rl("%s: dropped a %u-byte frame", uvfio_pci_name(vn->pdev), len);
		} else {
			ret = virtq_chain_read(&q->vr, c, hlen, vn->frame, len);
			if (ret) {
				vnet_broken(vn, ret);
				return;
			}
			net_backend_transmit(vn->be, vn->frame, len);
		}
		ret = virtq_push(&q->vr, c->head, 0);
		if (ret) {
			vnet_broken(vn, ret);
			return;
		}
	}
	if (running(vn))
		vnet_complete(vn, q);
}

static void vnet_notify(struct vnet *vn, uint16_t queue)
{
	if (!running(vn) || queue >= VNET_NR_QUEUES || !virtq_ready(&vn->q[queue].vr))
		return;
	if (uvfio_pci_stopped(vn->pdev)) {
		vn->held_notify |= 1u << queue;
		return;
	}
	if (queue == VNET_TXQ)
		vnet_transmit(vn);
	else
		net_backend_rx_space(vn->be);
}

/* Power-on register state. */
static void vnet_init_regs(struct vnet *vn)
{
	vn->guest_features = 0;
	vn->queue_sel = 0;
	vn->config_vector = VIRTIO_MSI_NO_VECTOR;
	vn->status = 0;
	vn->isr = 0;
	memcpy(vn->mac, vn->perm_mac, sizeof(vn->mac));
	for (int i = 0; i < VNET_NR_QUEUES; i++) {
		virtq_clear(&vn->q[i].vr);
		vn->q[i].pfn = 0;
		vn->q[i].vector = VIRTIO_MSI_NO_VECTOR;
	}
}

static void vnet_reset(struct uvfio_pci_dev *pdev)
{
	struct vnet *vn = uvfio_pci_priv(pdev);

	vnet_init_regs(vn);
	uvfio_pci_intx_set(pdev, false);
	net_backend_reset(vn->be);
}

static void vnet_set_status(struct vnet *vn, uint8_t val)
{
	bool was_running = running(vn);

	if (!val) {
		vnet_reset(vn->pdev);
		return;
	}
	/* only the device sets DEVICE_NEEDS_RESET, and only a reset clears it */
	vn->status = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
		     (vn->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	if (!was_running && running(vn)) {
		if (virtq_ready(&vn->q[VNET_TXQ].vr))
			vnet_transmit(vn);
		if (virtq_ready(&vn->q[VNET_RXQ].vr))
			net_backend_rx_space(vn->be);
	}
}

static void vnet_set_pfn(struct vnet *vn, uint32_t pfn)
{
	struct vnet_queue *q = selected_queue(vn);

	if (!q)
		return;
	q->pfn = pfn;
	if (!pfn)
		virtq_clear(&q->vr);
	else
		virtq_init(&q->vr, VNET_QUEUE_SIZE, (uint64_t)pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT,
			   has_feature(vn, VIRTIO_RING_F_INDIRECT_DESC), &vnet_dma, vn->pdev);
}

static void vnet_set_features(struct vnet *vn, uint32_t val)
{
	/* the header size and ring format stay fixed while the driver runs */
	if (vn->status & VIRTIO_CONFIG_S_DRIVER_OK)
		return;
	vn->guest_features = val & VNET_FEATURES;
	for (int i = 0; i < VNET_NR_QUEUES; i++)
		vn->q[i].vr.indirect = has_feature(vn, VIRTIO_RING_F_INDIRECT_DESC);
}

/* A vector the table does not have reads back as none, which is how
 * drivers learn that the assignment failed. */
static uint16_t valid_vector(uint64_t val)
{
	return val < VNET_MSIX_VECTORS ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Reads see the registers as bytes, so any width the driver picks works
 * (the spec asks this of the device config; it costs nothing elsewhere). */
static uint64_t vnet_read(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size)
{
	struct vnet *vn = uvfio_pci_priv(pdev);
	struct vnet_queue *q = selected_queue(vn);
	uint8_t regs[VNET_BAR0_SIZE];
	unsigned int cfg = config_offset(vn);
	uint64_t val = 0;

	if (bar != 0 || off + size > sizeof(regs))
		return 0;
	memset(regs, 0xff, sizeof(regs));
	put32(regs + VIRTIO_PCI_HOST_FEATURES, VNET_FEATURES);
	put32(regs + VIRTIO_PCI_GUEST_FEATURES, vn->guest_features);
	put32(regs + VIRTIO_PCI_QUEUE_PFN, q ? q->pfn : 0);
	put16(regs + VIRTIO_PCI_QUEUE_NUM, q ? VNET_QUEUE_SIZE : 0);
	put16(regs + VIRTIO_PCI_QUEUE_SEL, vn->queue_sel);
	regs[VIRTIO_PCI_STATUS] = vn->status;
	regs[VIRTIO_PCI_ISR] = vn->isr;
	if (cfg > VIRTIO_MSI_CONFIG_VECTOR) {
		put16(regs + VIRTIO_MSI_CONFIG_VECTOR, vn->config_vector);
		put16(regs + VIRTIO_MSI_QUEUE_VECTOR, q ? q->vector : VIRTIO_MSI_NO_VECTOR);
	}
	memcpy(regs + cfg + offsetof(struct virtio_net_config, mac), vn->mac, ETH_ALEN);
	put16(regs + cfg + offsetof(struct virtio_net_config, status), VIRTIO_NET_S_LINK_UP);
	memcpy(&val, regs + off, size);

	/* reading the ISR acknowledges it */
	if (off <= VIRTIO_PCI_ISR && off + size > VIRTIO_PCI_ISR) {
		vn->isr = 0;
		uvfio_pci_intx_set(pdev, false);
	}
	return val;
}

static void vnet_write(struct uvfio_pci_dev *pdev, int bar, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct vnet *vn = uvfio_pci_priv(pdev);
	struct vnet_queue *q = selected_queue(vn);
	unsigned int cfg = config_offset(vn);

	if (bar != 0 || off + size > VNET_BAR0_SIZE)
		return;
	if (size == 8) {
		vnet_write(pdev, bar, off, 4, (uint32_t)val);
		vnet_write(pdev, bar, off + 4, 4, val >> 32);
		return;
	}
	if (off >= cfg) {
		/* the legacy interface lets the driver write the MAC */
		for (unsigned int i = 0; i < size; i++) {
			uint64_t pos = off - cfg + i;

			if (pos < ETH_ALEN)
				vn->mac[pos] = val >> (8 * i);
		}
		return;
	}
	switch (off) {
	case VIRTIO_PCI_GUEST_FEATURES:
		if (size == 4)
			vnet_set_features(vn, val);
		break;
	case VIRTIO_PCI_QUEUE_PFN:
		if (size == 4)
			vnet_set_pfn(vn, val);
		break;
	case VIRTIO_PCI_QUEUE_SEL:
		if (size == 2)
			vn->queue_sel = val;
		break;
	case VIRTIO_PCI_QUEUE_NOTIFY:
		if (size == 2)
			vnet_notify(vn, val);
		break;
	case VIRTIO_PCI_STATUS:
		if (size == 1)
			vnet_set_status(vn, val);
		break;
	case VIRTIO_MSI_CONFIG_VECTOR:
		if (size == 2)
			vn->config_vector = valid_vector(val & 0xffff);
		break;
	case VIRTIO_MSI_QUEUE_VECTOR:
		if (size == 2 && q)
			q->vector = valid_vector(val & 0xffff);
		break;
	}
}

static int parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	int end = 0;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5], &end) != ETH_ALEN || s[end])
		return -EINVAL;
	/* a station address is unicast */
	return mac[0] & 1 ? -EINVAL : 0;
}

static void default_mac(const char *name, uint8_t mac[ETH_ALEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = h >> 16;
	mac[4] = h >> 8;
	mac[5] = h;
}

static int vnet_create(struct uvfio_pci_dev *pdev, const struct uvfio_model_args *args)
{
	struct vnet *vn = uvfio_pci_priv(pdev);
	const struct uvfio_bar_desc bar0 = { .kind = UVFIO_BAR_IO, .size = VNET_BAR0_SIZE };
	const struct uvfio_bar_desc bar1 = { .kind = UVFIO_BAR_MEM32, .size = 4096 };
	const char *backend = uvfio_model_arg(args, "backend");
	const char *mac = uvfio_model_arg(args, "mac");
	const struct net_port port = { .receive = vnet_receive, .opaque = vn };
	int ret;

	vn->pdev = pdev;
	if (mac) {
		ret = parse_mac(mac, vn->perm_mac);
		if (ret)
			return ret;
	} else {
		default_mac(uvfio_pci_name(pdev), vn->perm_mac);
	}
	vnet_init_regs(vn);

	uvfio_pci_set_ids(pdev, 0x1af4, 0x1000, 0x1af4, VIRTIO_ID_NET, 0x020000, 0);
	ret = uvfio_pci_add_bar(pdev, 0, &bar0);
	if (!ret)
		ret = uvfio_pci_add_bar(pdev, VNET_MSIX_BAR, &bar1);
	if (!ret)
		ret = uvfio_pci_add_msix(pdev, VNET_MSIX_VECTORS, VNET_MSIX_BAR, 0, 0x800);
	if (ret)
		return ret;
	uvfio_pci_set_intx_pin(pdev, 1);
	/* last: nothing after it can fail, and create has no undo */
	return net_backend_create(backend ? backend : "loopback", args, &port, &vn->be);
}

static void vnet_describe(struct uvfio_pci_dev *pdev, char *buf, size_t len)
{
	struct vnet *vn = uvfio_pci_priv(pdev);

	net_backend_describe(vn->be, buf, len);
}

static void vnet_destroy(struct uvfio_pci_dev *pdev)
{
	struct vnet *vn = uvfio_pci_priv(pdev);

	net_backend_destroy(vn->be);
}

/* ---- migration ---- */

/* What a migration carries: the registers and where each ring stands (the
 * rings themselves are in the driver's memory; frames the back end holds
 * are in flight, and may be lost as on a wire). */
struct vnet_queue_state {
	uint32_t pfn;
	uint16_t vector, num;
	uint16_t last_avail, avail_idx, used_idx, used_published;
	int32_t error;
};

struct vnet_state {
	uint32_t guest_features;
	uint16_t queue_sel, config_vector;
	uint8_t status, isr, held_notify, pad;
	uint8_t mac[ETH_ALEN], pad2[2];
	struct vnet_queue_state q[VNET_NR_QUEUES];
};

static size_t vnet_save(struct uvfio_pci_dev *pdev, void *buf, size_t len)
{
	const struct vnet *vn = uvfio_pci_priv(pdev);
	struct vnet_state st = {
		.guest_features = vn->guest_features, .queue_sel = vn->queue_sel,
		.config_vector = vn->config_vector, .status = vn->status, .isr = vn->isr,
		.held_notify = vn->held_notify,
	};

	memcpy(st.mac, vn->mac, ETH_ALEN);
	for (int i = 0; i < VNET_NR_QUEUES; i++) {
		const struct vnet_queue *q = &vn->q[i];

		st.q[i] = (struct vnet_queue_state){
			.pfn = q->pfn, .vector = q->vector, .num = q->vr.num,
			.last_avail = q->vr.last_avail, .avail_idx = q->vr.avail_idx,
			.used_idx = q->vr.used_idx, .used_published = q->vr.used_published,
			.error = q->vr.error,
		};
	}
	if (buf && len >= sizeof(st))
		memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

static int vnet_load(struct uvfio_pci_dev *pdev, const void *buf, size_t len)
{
	struct vnet *vn = uvfio_pci_priv(pdev);
	struct virtq rings[VNET_NR_QUEUES];
	struct vnet_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if ((st.guest_features & ~VNET_FEATURES) || st.held_notify >> VNET_NR_QUEUES)
		return -EINVAL;
	/* every ring first: a bad one leaves the device as it was */
	for (int i = 0; i < VNET_NR_QUEUES; i++) {
		const struct vnet_queue_state *qs = &st.q[i];

		virtq_clear(&rings[i]);
		if (!qs->pfn)
			continue;
		if (qs->num != VNET_QUEUE_SIZE ||
		    virtq_init(&rings[i], qs->num, (uint64_t)qs->pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT,
			       st.guest_features & (1u << VIRTIO_RING_F_INDIRECT_DESC), &vnet_dma,
			       pdev))
			return -EINVAL;
		rings[i].last_avail = qs->last_avail;
		rings[i].avail_idx = qs->avail_idx;
		rings[i].used_idx = qs->used_idx;
		rings[i].used_published = qs->used_published;
		rings[i].error = qs->error;
	}
	vn->guest_features = st.guest_features;
	vn->queue_sel = st.queue_sel;
	vn->config_vector = valid_vector(st.config_vector);
	vn->status = st.status;
	vn->isr = st.isr;
	vn->held_notify = st.held_notify;
	memcpy(vn->mac, st.mac, ETH_ALEN);
	for (int i = 0; i < VNET_NR_QUEUES; i++) {
		vn->q[i].pfn = st.q[i].pfn;
		vn->q[i].vector = valid_vector(st.q[i].vector);
		vn->q[i].vr = rings[i];
	}
	net_backend_reset(vn->be);
	/* a pending INTx cause stays up until the ISR is read */
	uvfio_pci_intx_set(pdev, vn->isr && !uvfio_pci_msix_enabled(pdev));
	return 0;
}

/* Running again: the notifications held meanwhile, then frames the back
 * end kept. */
static void vnet_run(struct uvfio_pci_dev *pdev)
{
	struct vnet *vn = uvfio_pci_priv(pdev);
	uint8_t held = vn->held_notify;

	vn->held_notify = 0;
	for (uint16_t q = 0; q < VNET_NR_QUEUES; q++)
		if (held & (1u << q))
			vnet_notify(vn, q);
	if (running(vn))
		net_backend_rx_space(vn->be);
}

const struct uvfio_model_ops uvfio_virtio_net_model = {
	.name = "virtio-net",
	.priv_size = sizeof(struct vnet),
	.create = vnet_create,
	.destroy = vnet_destroy,
	.bar_read = vnet_read,
	.bar_write = vnet_write,
	.reset = vnet_reset,
	.describe = vnet_describe,
	.save = vnet_save,
	.load = vnet_load,
	.run = vnet_run,
};
