// SPDX-License-Identifier: MIT
/* The virtio-net model on its own: this file plays the PCI layer (the model
 * API in uvfio/model.h, with DMA into a flat test memory and interrupts
 * counted) and a legacy virtio driver, and checks the registers, the
 * loopback data path, interrupts and the broken-driver handling. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvfio/model.h"
#include "virtq_driver.h"

extern const struct uvfio_model_ops uvfio_virtio_net_model;

/* ---- the PCI layer, faked ---- */

struct uvfio_pci_dev {
	void *priv;
	const char *name;
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	uint8_t revision, pin;
	struct uvfio_bar_desc bars[6];
	unsigned int msix_vectors;
	int msix_bar;
	uint32_t msix_table, msix_pba;
	bool msix_on;
	bool intx;
	unsigned int intx_edges;
	unsigned int msi[8];
};

#include "fake_model_args.h"

void uvfio_pci_set_ids(struct uvfio_pci_dev *pdev, uint16_t vendor, uint16_t device,
		       uint16_t subsys_vendor, uint16_t subsys_device, uint32_t class_code,
		       uint8_t revision)
{
	pdev->vendor = vendor;
	pdev->device = device;
	pdev->subsys_vendor = subsys_vendor;
	pdev->subsys_device = subsys_device;
	pdev->class_code = class_code;
	pdev->revision = revision;
}

int uvfio_pci_add_bar(struct uvfio_pci_dev *pdev, int bar, const struct uvfio_bar_desc *desc)
{
	pdev->bars[bar] = *desc;
	return 0;
}

void uvfio_pci_set_intx_pin(struct uvfio_pci_dev *pdev, uint8_t pin)
{
	pdev->pin = pin;
}

int uvfio_pci_add_msix(struct uvfio_pci_dev *pdev, unsigned int nvectors, int bar,
		       uint32_t table_offset, uint32_t pba_offset)
{
	pdev->msix_vectors = nvectors;
	pdev->msix_bar = bar;
	pdev->msix_table = table_offset;
	pdev->msix_pba = pba_offset;
	return 0;
}

void *uvfio_pci_priv(struct uvfio_pci_dev *pdev)
{
	return pdev->priv;
}

const char *uvfio_pci_name(struct uvfio_pci_dev *pdev)
{
	return pdev->name;
}

int uvfio_pci_dma_read(struct uvfio_pci_dev *pdev, uint64_t iova, void *buf, size_t len)
{
	return mem_read(pdev, iova, buf, len);
}

int uvfio_pci_dma_write(struct uvfio_pci_dev *pdev, uint64_t iova, const void *buf, size_t len)
{
	return mem_write(pdev, iova, buf, len);
}

void uvfio_pci_msi_notify(struct uvfio_pci_dev *pdev, unsigned int vector)
{
	assert_true(pdev->msix_on);
	assert_in_range(vector, 0, pdev->msix_vectors - 1);
	pdev->msi[vector]++;
}

bool uvfio_pci_msix_enabled(struct uvfio_pci_dev *pdev)
{
	return pdev->msix_on;
}

/* Stopped by the user (migration): the model must start nothing. */
static bool stopped;

bool uvfio_pci_stopped(const struct uvfio_pci_dev *pdev)
{
	(void)pdev;
	return stopped;
}

void uvfio_pci_intx_set(struct uvfio_pci_dev *pdev, bool level)
{
	if (level && !pdev->intx)
		pdev->intx_edges++;
	pdev->intx = level;
}

/* ---- the driver ---- */

#define RX_RING		(MEM_BASE + 0x0000)
#define TX_RING		(MEM_BASE + 0x4000)
#define RX_BUF		(MEM_BASE + 0x10000)	/* 64 x 2 KiB, or 256 x 256 bytes */
#define TX_HDR		(MEM_BASE + 0x30000)
#define TX_DATA		(MEM_BASE + 0x40000)	/* 128 x 4 KiB */
#define TX_SLOTS	128
#define QSIZE		256

#define F_MAC		(1u << VIRTIO_NET_F_MAC)
#define F_STATUS	(1u << VIRTIO_NET_F_STATUS)
#define F_MRG		(1u << VIRTIO_NET_F_MRG_RXBUF)
#define F_ANY		(1u << VIRTIO_F_ANY_LAYOUT)
#define F_INDIRECT	(1u << VIRTIO_RING_F_INDIRECT_DESC)
#define ALL_FEATURES	(F_MAC | F_STATUS | F_MRG | F_ANY | F_INDIRECT)

#define S_UP		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_DRIVER_OK)

static struct uvfio_pci_dev dev;
static struct drv_ring rx, tx;
static unsigned int hlen;

static uint64_t rd(uint64_t off, unsigned int size)
{
	return uvfio_virtio_net_model.bar_read(&dev, 0, off, size);
}

static void wr(uint64_t off, unsigned int size, uint64_t val)
{
	uvfio_virtio_net_model.bar_write(&dev, 0, off, size, val);
}

static int create(const struct uvfio_model_args *args)
{
	int ret;

	memset(&dev, 0, sizeof(dev));
	dev.name = "0000:10:03.0";
	dev.priv = calloc(1, uvfio_virtio_net_model.priv_size);
	assert_non_null(dev.priv);
	ret = uvfio_virtio_net_model.create(&dev, args);
	if (ret) {
		free(dev.priv);
		dev.priv = NULL;
	}
	return ret;
}

static int setup(void **state)
{
	(void)state;
	memset(test_mem, 0, sizeof(test_mem));
	dma_faults = 0;
	return create(NULL);
}

static int teardown(void **state)
{
	(void)state;
	if (dev.priv) {
		uvfio_virtio_net_model.destroy(&dev);
		free(dev.priv);
		dev.priv = NULL;
	}
	return 0;
}

static void select_queue(uint16_t q)
{
	wr(VIRTIO_PCI_QUEUE_SEL, 2, q);
}

/* The legacy bring-up both DPDK and Linux do; rings stay empty. */
static void bring_up(uint32_t features)
{
	wr(VIRTIO_PCI_STATUS, 1, 0);
	wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_PCI_GUEST_FEATURES, 4, features);
	hlen = features & F_MRG ? 12 : 10;
	drv_ring_init(&rx, QSIZE, RX_RING);
	drv_ring_init(&tx, QSIZE, TX_RING);
	select_queue(0);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_NUM, 2), QSIZE);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, RX_RING >> 12);
	select_queue(1);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_NUM, 2), QSIZE);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, TX_RING >> 12);
	wr(VIRTIO_PCI_STATUS, 1, S_UP);
}

/* Posts n receive buffers of size bytes each and kicks the receive queue. */
static void rx_post(unsigned int n, uint32_t size)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = rx.avail_idx % QSIZE;

		drv_desc(&rx, slot, RX_BUF + (uint64_t)slot * size, size, VRING_DESC_F_WRITE, 0);
		drv_avail(&rx, slot);
	}
	wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
}

static uint64_t tx_slot_data(uint16_t slot)
{
	return TX_DATA + 4096ULL * slot;
}

/* Queues one frame as header + data descriptors, without kicking. */
static void tx_queue(const void *frame, uint32_t len)
{
	uint16_t slot = tx.avail_idx % TX_SLOTS;

	assert_true(len <= 4096);
	memset(gpa(TX_HDR + 16ULL * slot), 0, 16);
	memcpy(gpa(tx_slot_data(slot)), frame, len);
	drv_desc(&tx, 2 * slot, TX_HDR + 16ULL * slot, hlen, VRING_DESC_F_NEXT, 2 * slot + 1);
	drv_desc(&tx, 2 * slot + 1, tx_slot_data(slot), len, 0, 0);
	drv_avail(&tx, 2 * slot);
}

static void tx_kick(void)
{
	wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
}

static void tx_send(const void *frame, uint32_t len)
{
	tx_queue(frame, len);
	tx_kick();
}

static void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 13);
}

/* Where the i-th received buffer's bytes are (as rx_post laid them out). */
static uint8_t *rx_buf(uint16_t id, uint32_t size)
{
	return gpa(RX_BUF + (uint64_t)id * size);
}

static uint16_t num_buffers(uint16_t id, uint32_t size)
{
	struct virtio_net_hdr_mrg_rxbuf h;

	memcpy(&h, rx_buf(id, size), sizeof(h));
	return h.num_buffers;
}

/* ---- tests ---- */

static void test_identity(void **state)
{
	(void)state;
	assert_int_equal(dev.vendor, 0x1af4);
	assert_int_equal(dev.device, 0x1000);
	assert_int_equal(dev.subsys_vendor, 0x1af4);
	assert_int_equal(dev.subsys_device, 1);
	assert_int_equal(dev.class_code, 0x020000);
	assert_int_equal(dev.revision, 0);
	assert_int_equal(dev.bars[0].kind, UVFIO_BAR_IO);
	assert_int_equal(dev.bars[0].size, 32);
	assert_int_equal(dev.bars[1].kind, UVFIO_BAR_MEM32);
	assert_int_equal(dev.msix_vectors, 3);
	assert_int_equal(dev.msix_bar, 1);
	assert_int_equal(dev.pin, 1);
}

static void test_registers(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_int_equal(rd(VIRTIO_PCI_HOST_FEATURES, 4), ALL_FEATURES);
	/* only offered bits stick */
	wr(VIRTIO_PCI_GUEST_FEATURES, 4, 0xffffffff);
	assert_int_equal(rd(VIRTIO_PCI_GUEST_FEATURES, 4), ALL_FEATURES);
	/* two queues; the third does not exist */
	select_queue(0);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x123);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0x123);
	select_queue(1);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
	select_queue(2);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_SEL, 2), 2);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_NUM, 2), 0);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x456);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
	/* one 8-byte read covers both feature words */
	assert_int_equal(rd(0, 8), (uint64_t)ALL_FEATURES << 32 | ALL_FEATURES);

	/* MSI-X off: the MAC right after the ISR, link up after it */
	for (int i = 0; i < 6; i++)
		mac[i] = rd(20 + i, 1);
	assert_int_equal(mac[0], 0x52);
	assert_int_equal(mac[1], 0x54);
	assert_int_equal(mac[2], 0x00);
	assert_int_equal(rd(20, 4), mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
	assert_int_equal(rd(24, 2), mac[4] | mac[5] << 8);
	assert_int_equal(rd(26, 2), VIRTIO_NET_S_LINK_UP);
	/* MSI-X on: the vectors come in between */
	dev.msix_on = true;
	assert_int_equal(rd(20, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(24, 2), mac[0] | mac[1] << 8);
	assert_int_equal(rd(30, 2), VIRTIO_NET_S_LINK_UP);
	dev.msix_on = false;

	/* the legacy interface lets the driver change the MAC; reset undoes it */
	wr(20, 2, 0x0202);
	assert_int_equal(rd(20, 2), 0x0202);
	wr(26, 2, 0);
	assert_int_equal(rd(26, 2), VIRTIO_NET_S_LINK_UP);
	wr(VIRTIO_PCI_STATUS, 1, 0);
	assert_int_equal(rd(20, 1), 0x52);
	assert_int_equal(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
	select_queue(0);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
}

static void test_features_fixed_while_running(void **state)
{
	(void)state;
	bring_up(F_MRG);
	wr(VIRTIO_PCI_GUEST_FEATURES, 4, 0);
	assert_int_equal(rd(VIRTIO_PCI_GUEST_FEATURES, 4), F_MRG);
}

static void test_args(void **state)
{
	struct uvfio_model_args a = { .n = 1, .kv = { { "mac", "02:11:22:33:44:55" } } };
	struct uvfio_model_args bad = { .n = 1, .kv = { { "mac", "02:11:22:33:44" } } };
	struct uvfio_model_args mcast = { .n = 1, .kv = { { "mac", "03:11:22:33:44:55" } } };
	struct uvfio_model_args junk = { .n = 1, .kv = { { "mac", "02:11:22:33:44:55x" } } };
	struct uvfio_model_args be = { .n = 1, .kv = { { "backend", "carrier-pigeon" } } };
	struct uvfio_model_args lo = { .n = 1, .kv = { { "backend", "loopback" } } };

	(void)state;
	teardown(NULL);
	assert_int_equal(create(&a), 0);
	assert_int_equal(rd(20, 4), 0x33221102);
	assert_int_equal(rd(24, 2), 0x5544);
	teardown(NULL);
	assert_int_equal(create(&bad), -EINVAL);
	assert_int_equal(create(&mcast), -EINVAL);
	assert_int_equal(create(&junk), -EINVAL);
	assert_int_equal(create(&be), -EINVAL);
	assert_int_equal(create(&lo), 0);
}

/* Two functions get different default MACs. */
static void test_default_mac_per_function(void **state)
{
	uint32_t first;

	(void)state;
	first = rd(22, 4);
	teardown(NULL);
	memset(&dev, 0, sizeof(dev));
	dev.name = "0000:10:04.0";
	dev.priv = calloc(1, uvfio_virtio_net_model.priv_size);
	assert_int_equal(uvfio_virtio_net_model.create(&dev, NULL), 0);
	assert_int_not_equal(rd(22, 4), first);
}

static void test_loopback(void **state)
{
	uint8_t frame[64];
	struct vring_used_elem e;

	(void)state;
	bring_up(F_MAC | F_STATUS | F_MRG);
	rx_post(8, 2048);
	/* nothing used yet, nothing to signal */
	assert_false(dev.intx);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	make_frame(frame, sizeof(frame), 1);
	tx_send(frame, sizeof(frame));

	assert_int_equal(drv_used_idx(&tx), 1);
	assert_int_equal(drv_used(&tx, 0).id, 0);
	assert_int_equal(drv_used_idx(&rx), 1);
	e = drv_used(&rx, 0);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 12 + 64);
	assert_int_equal(num_buffers(0, 2048), 1);
	assert_memory_equal(rx_buf(0, 2048) + 12, frame, 64);
	/* INTA: up once, the ISR says "queue", reading it lowers the line */
	assert_true(dev.intx);
	assert_int_equal(dev.intx_edges, 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 1);
	assert_false(dev.intx);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP);
	assert_int_equal(dma_faults, 0);
}

/* Migration: stopped, a notification and the frames it would loop back
 * wait; the state saved, the device reset and the state loaded, the rings
 * go on where they stood once the function runs. */
static void test_save_load(void **state)
{
	uint8_t frame[80], saved[512];
	size_t len;

	(void)state;
	bring_up(F_MRG);
	rx_post(16, 2048);
	make_frame(frame, sizeof(frame), 3);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&rx), 1);

	stopped = true;
	make_frame(frame, sizeof(frame), 4);
	tx_send(frame, sizeof(frame));			/* held */
	assert_int_equal(drv_used_idx(&tx), 1);
	len = uvfio_virtio_net_model.save(&dev, NULL, 0);
	assert_true(len <= sizeof(saved));
	assert_int_equal(uvfio_virtio_net_model.save(&dev, saved, sizeof(saved)), len);

	uvfio_virtio_net_model.reset(&dev);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), 0);
	saved[0] ^= 0xff;				/* features the device lacks */
	assert_int_equal(uvfio_virtio_net_model.load(&dev, saved, len), -EINVAL);
	saved[0] ^= 0xff;
	assert_int_equal(uvfio_virtio_net_model.load(&dev, saved, len - 1), -EINVAL);
	assert_int_equal(uvfio_virtio_net_model.load(&dev, saved, len), 0);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP);
	stopped = false;
	uvfio_virtio_net_model.run(&dev);
	/* the held notification: the second frame went round */
	assert_int_equal(drv_used_idx(&tx), 2);
	assert_int_equal(drv_used_idx(&rx), 2);
	assert_memory_equal(rx_buf(drv_used(&rx, 1).id, 2048) + 12, frame, sizeof(frame));
	assert_int_equal(dma_faults, 0);
}

/* A burst: every frame comes back, in order, each in its own buffer. */
static void test_burst(void **state)
{
	uint8_t frame[100];

	(void)state;
	bring_up(F_MRG);
	rx_post(64, 2048);
	for (int i = 0; i < 32; i++) {
		make_frame(frame, sizeof(frame), i);
		tx_queue(frame, 60 + i);
	}
	tx_kick();
	assert_int_equal(drv_used_idx(&tx), 32);
	assert_int_equal(drv_used_idx(&rx), 32);
	for (int i = 0; i < 32; i++) {
		struct vring_used_elem e = drv_used(&rx, i);

		make_frame(frame, sizeof(frame), i);
		assert_int_equal(e.id, i);
		assert_int_equal(e.len, 12 + 60 + i);
		assert_memory_equal(rx_buf(e.id, 2048) + 12, frame, 60 + i);
	}
}

/* A frame larger than one buffer is merged over several. */
static void test_mergeable_spans_buffers(void **state)
{
	static uint8_t frame[3000];

	(void)state;
	bring_up(F_MRG);
	rx_post(8, 1024);
	make_frame(frame, sizeof(frame), 7);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&rx), 3);
	assert_int_equal(drv_used(&rx, 0).len, 1024);
	assert_int_equal(drv_used(&rx, 1).len, 1024);
	assert_int_equal(drv_used(&rx, 2).len, 3000 + 12 - 2048);
	assert_int_equal(num_buffers(0, 1024), 3);
	assert_memory_equal(rx_buf(0, 1024) + 12, frame, 1012);
	assert_memory_equal(rx_buf(1, 1024), frame + 1012, 1024);
	assert_memory_equal(rx_buf(2, 1024), frame + 2036, 964);
}

/* Not enough buffers for the whole frame: none is used, the frame waits. */
static void test_mergeable_waits_for_room(void **state)
{
	static uint8_t frame[3000];

	(void)state;
	bring_up(F_MRG);
	rx_post(2, 1024);
	make_frame(frame, sizeof(frame), 9);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&rx), 0);
	rx_post(1, 1024);
	assert_int_equal(drv_used_idx(&rx), 3);
	assert_int_equal(num_buffers(0, 1024), 3);
	assert_memory_equal(rx_buf(2, 1024), frame + 2036, 964);
}

/* Without MRG_RXBUF: a 10-byte header, one buffer per frame, and a frame
 * that does not fit is dropped with the buffer left for the next. */
static void test_no_mergeable(void **state)
{
	uint8_t frame[200];

	(void)state;
	bring_up(F_MAC);
	rx_post(1, 2048);
	make_frame(frame, sizeof(frame), 3);
	tx_send(frame, 64);
	assert_int_equal(drv_used_idx(&rx), 1);
	assert_int_equal(drv_used(&rx, 0).len, 10 + 64);
	assert_memory_equal(rx_buf(0, 2048) + 10, frame, 64);

	bring_up(F_MAC);
	rx_post(1, 100);
	tx_send(frame, 200);
	assert_int_equal(drv_used_idx(&tx), 1);
	assert_int_equal(drv_used_idx(&rx), 0);
	tx_send(frame, 90);
	assert_int_equal(drv_used_idx(&rx), 1);
	assert_int_equal(drv_used(&rx, 0).len, 100);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP);
}

/* Frames sent while the driver has no receive buffers wait, in order. */
static void test_frames_wait_for_buffers(void **state)
{
	uint8_t frame[80];

	(void)state;
	bring_up(F_MRG);
	for (int i = 0; i < 3; i++) {
		make_frame(frame, sizeof(frame), 10 * i);
		tx_send(frame, sizeof(frame));
	}
	assert_int_equal(drv_used_idx(&tx), 3);
	assert_int_equal(drv_used_idx(&rx), 0);
	rx_post(8, 2048);
	assert_int_equal(drv_used_idx(&rx), 3);
	for (int i = 0; i < 3; i++) {
		make_frame(frame, sizeof(frame), 10 * i);
		assert_memory_equal(rx_buf(drv_used(&rx, i).id, 2048) + 12, frame, 80);
	}
}

/* Up to 256 frames wait; the rest are dropped. */
static void test_wait_bound(void **state)
{
	uint8_t frame[64];

	(void)state;
	bring_up(F_MRG);
	for (int i = 0; i < 300; i++) {
		make_frame(frame, sizeof(frame), i);
		tx_send(frame, sizeof(frame));
	}
	assert_int_equal(drv_used_idx(&tx), 300);
	/* 256 buffers of 256 bytes */
	for (unsigned int i = 0; i < QSIZE; i++) {
		drv_desc(&rx, i, RX_BUF + 256ULL * i, 256, VRING_DESC_F_WRITE, 0);
		drv_avail(&rx, i);
	}
	wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
	assert_int_equal(drv_used_idx(&rx), 256);
	make_frame(frame, sizeof(frame), 255);
	assert_memory_equal(gpa(RX_BUF + 256ULL * 255 + 12), frame, 64);
}

/* A reset forgets the frames that waited. */
static void test_reset_drops_waiting(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	bring_up(F_MRG);
	tx_send(frame, sizeof(frame));
	bring_up(F_MRG);
	rx_post(8, 2048);
	assert_int_equal(drv_used_idx(&rx), 0);
}

/* Nothing is consumed before DRIVER_OK; then what waits is sent. */
static void test_nothing_before_driver_ok(void **state)
{
	uint8_t frame[64] = { 1 };

	(void)state;
	bring_up(F_MRG);
	wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	rx_post(4, 2048);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&tx), 0);
	assert_int_equal(drv_used_idx(&rx), 0);
	wr(VIRTIO_PCI_STATUS, 1, S_UP);
	assert_int_equal(drv_used_idx(&tx), 1);
	assert_int_equal(drv_used_idx(&rx), 1);
}

/* The whole frame in one indirect table, header and data split oddly. */
static void test_indirect_transmit(void **state)
{
	uint64_t table = TX_DATA + 0x10000;
	uint8_t frame[64];
	struct vring_desc t[3] = {
		{ .addr = TX_HDR, .len = 5, .flags = VRING_DESC_F_NEXT, .next = 1 },
		{ .addr = TX_HDR + 5, .len = 10, .flags = VRING_DESC_F_NEXT, .next = 2 },
		{ .addr = TX_DATA + 3, .len = 61 },
	};

	(void)state;
	bring_up(F_MRG | F_INDIRECT | F_ANY);
	rx_post(4, 2048);
	make_frame(frame, sizeof(frame), 42);
	memset(gpa(TX_HDR), 0, 12);
	memcpy(gpa(TX_HDR + 12), frame, 3);
	memcpy(gpa(TX_DATA + 3), frame + 3, 61);
	memcpy(gpa(table), t, sizeof(t));
	drv_desc(&tx, 0, table, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	drv_avail(&tx, 0);
	tx_kick();
	assert_int_equal(drv_used_idx(&tx), 1);
	assert_int_equal(drv_used_idx(&rx), 1);
	assert_int_equal(drv_used(&rx, 0).len, 12 + 64);
	assert_memory_equal(rx_buf(0, 2048) + 12, frame, 64);
}

static void test_msix(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	dev.msix_on = true;
	bring_up(F_MRG);
	wr(VIRTIO_MSI_CONFIG_VECTOR, 2, 0);
	assert_int_equal(rd(VIRTIO_MSI_CONFIG_VECTOR, 2), 0);
	select_queue(0);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, 1);
	assert_int_equal(rd(VIRTIO_MSI_QUEUE_VECTOR, 2), 1);
	select_queue(1);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, 2);
	/* a vector the table does not have reads back as none */
	select_queue(2);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, 0);
	assert_int_equal(rd(VIRTIO_MSI_QUEUE_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	select_queue(0);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, 3);
	assert_int_equal(rd(VIRTIO_MSI_QUEUE_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, 1);

	rx_post(8, 2048);
	tx_send(frame, sizeof(frame));
	assert_int_equal(dev.msi[0], 0);
	assert_int_equal(dev.msi[1], 1);
	assert_int_equal(dev.msi[2], 1);
	assert_int_equal(dev.intx_edges, 0);

	/* the driver polls receive: no message for it */
	drv_avail_flags(&rx, VRING_AVAIL_F_NO_INTERRUPT);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&rx), 2);
	assert_int_equal(dev.msi[1], 1);
	assert_int_equal(dev.msi[2], 2);

	/* a queue without a vector signals nothing */
	select_queue(1);
	wr(VIRTIO_MSI_QUEUE_VECTOR, 2, VIRTIO_MSI_NO_VECTOR);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&tx), 3);
	assert_int_equal(dev.msi[2], 2);
	assert_int_equal(dev.intx_edges, 0);

	/* a reset forgets the vectors */
	wr(VIRTIO_PCI_STATUS, 1, 0);
	assert_int_equal(rd(VIRTIO_MSI_CONFIG_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
}

/* ---- a driver that breaks the rules ---- */

/* The device flags itself, raises a config change, and then ignores the
 * driver until it resets. */
static void assert_needs_reset(void)
{
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET,
			 VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(dev.intx);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1) & VIRTIO_PCI_ISR_CONFIG, VIRTIO_PCI_ISR_CONFIG);
}

static void test_tx_loop_breaks_device(void **state)
{
	uint8_t frame[64] = { 0 };
	uint16_t tx_used;

	(void)state;
	bring_up(F_MRG);
	rx_post(8, 2048);
	drv_desc(&tx, 0, TX_HDR, 12, VRING_DESC_F_NEXT, 1);
	drv_desc(&tx, 1, TX_DATA, 64, VRING_DESC_F_NEXT, 0);
	drv_avail(&tx, 0);
	tx_kick();
	assert_needs_reset();
	/* the driver writing its status does not clear the flag */
	wr(VIRTIO_PCI_STATUS, 1, S_UP);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP | VIRTIO_CONFIG_S_NEEDS_RESET);
	/* good frames now go nowhere */
	tx_used = drv_used_idx(&tx);
	tx_send(frame, sizeof(frame));
	rx_post(1, 2048);
	assert_int_equal(drv_used_idx(&tx), tx_used);
	assert_int_equal(drv_used_idx(&rx), 0);
	/* a reset brings it back */
	bring_up(F_MRG);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP);
	rx_post(8, 2048);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&rx), 1);
}

static void test_tx_writable_breaks_device(void **state)
{
	(void)state;
	bring_up(F_MRG);
	drv_desc(&tx, 0, TX_HDR, 12, VRING_DESC_F_NEXT, 1);
	drv_desc(&tx, 1, TX_DATA, 64, VRING_DESC_F_WRITE, 0);
	drv_avail(&tx, 0);
	tx_kick();
	assert_needs_reset();
	assert_int_equal(drv_used_idx(&tx), 0);
}

static void test_tx_short_header_breaks_device(void **state)
{
	(void)state;
	bring_up(F_MRG);
	drv_desc(&tx, 0, TX_HDR, 10, 0, 0);
	drv_avail(&tx, 0);
	tx_kick();
	assert_needs_reset();
}

static void test_rx_readable_breaks_device(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	bring_up(F_MRG);
	drv_desc(&rx, 0, RX_BUF, 2048, 0, 0);
	drv_avail(&rx, 0);
	tx_send(frame, sizeof(frame));
	assert_needs_reset();
}

static void test_rx_buffer_smaller_than_header_breaks_device(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	bring_up(F_MRG);
	rx_post(1, 8);
	tx_send(frame, sizeof(frame));
	assert_needs_reset();
}

/* A receive buffer outside the mapping: the IOMMU refuses, the device
 * breaks instead of writing anywhere else. */
static void test_rx_unmapped_breaks_device(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	bring_up(F_MRG);
	drv_desc(&rx, 0, 0x1000, 2048, VRING_DESC_F_WRITE, 0);
	drv_avail(&rx, 0);
	wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
	tx_send(frame, sizeof(frame));
	assert_true(dma_faults > 0);
	assert_needs_reset();
	assert_int_equal(drv_used_idx(&rx), 0);
}

static void test_tx_unmapped_ring_breaks_device(void **state)
{
	(void)state;
	bring_up(F_MRG);
	select_queue(1);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x7);
	tx_kick();
	assert_needs_reset();
}

/* With MSI-X the config change goes to the config vector. */
static void test_broken_msix_config_vector(void **state)
{
	(void)state;
	dev.msix_on = true;
	bring_up(F_MRG);
	wr(VIRTIO_MSI_CONFIG_VECTOR, 2, 0);
	drv_avail(&tx, 0xffff);
	tx_kick();
	assert_int_equal(dev.msi[0], 1);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET,
			 VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), VIRTIO_PCI_ISR_CONFIG);
}

/* Queue address 0 turns a queue off. */
static void test_queue_off(void **state)
{
	uint8_t frame[64] = { 0 };

	(void)state;
	bring_up(F_MRG);
	rx_post(4, 2048);
	select_queue(1);
	wr(VIRTIO_PCI_QUEUE_PFN, 4, 0);
	tx_send(frame, sizeof(frame));
	assert_int_equal(drv_used_idx(&tx), 0);
	assert_int_equal(rd(VIRTIO_PCI_STATUS, 1), S_UP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identity),
		T(test_registers),
		T(test_features_fixed_while_running),
		T(test_args),
		T(test_default_mac_per_function),
		T(test_loopback),
		T(test_burst),
		T(test_save_load),
		T(test_mergeable_spans_buffers),
		T(test_mergeable_waits_for_room),
		T(test_no_mergeable),
		T(test_frames_wait_for_buffers),
		T(test_wait_bound),
		T(test_reset_drops_waiting),
		T(test_nothing_before_driver_ok),
		T(test_indirect_transmit),
		T(test_msix),
		T(test_tx_loop_breaks_device),
		T(test_tx_writable_breaks_device),
		T(test_tx_short_header_breaks_device),
		T(test_rx_readable_breaks_device),
		T(test_rx_buffer_smaller_than_header_breaks_device),
		T(test_rx_unmapped_breaks_device),
		T(test_tx_unmapped_ring_breaks_device),
		T(test_broken_msix_config_vector),
		T(test_queue_off),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
