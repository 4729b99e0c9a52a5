// SPDX-License-Identifier: MIT
/*
 * Migration v2 for vfio-pci functions whose model can save and load its
 * registers: the arcs of the state machine (core/migration.c walks it) and
 * the device state stream.
 *
 * Stopped (STOP, STOP_COPY, RESUMING) the function issues no DMA and holds
 * its interrupts, delivered when it runs again.  The P2P states quiesce
 * nothing more: a function here starts no peer-to-peer transfer of its own.
 * PRE_COPY opens the saving session early but has no precopy data: its
 * reads answer ENOMSG until STOP_COPY puts the whole state in it.
 *
 * The stream: a header (magic, version, the model's name and IDs, the
 * body's length and FNV-1a checksum), then sections: the physical and the
 * virtual config space, each memory BAR's memory, the model's registers.
 * A stream from another model, of another version or a damaged one is
 * refused whole with EINVAL before anything is loaded.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>

#include "core/migration.h"
#include "uvfio/vfio_mig.h"
#include "vfio_pci_priv.h"

#define MIG_MAGIC	"UVFIOMIG"
#define MIG_VERSION	1

enum { SEC_CONFIG = 1, SEC_VCONFIG, SEC_BAR, SEC_MODEL };

struct mig_header {
	char magic[8];
	uint32_t version;
	uint32_t nsections;
	char model[32];
	uint16_t vendor, device;
	uint32_t pad;
	uint64_t body_len;
	uint64_t checksum;
};

struct mig_section {
	uint32_t tag;
	uint32_t index;
	uint64_t len;
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static uint16_t cfg16(const struct uvfio_pci_dev *pdev, unsigned int off)
{
	return (uint16_t)(pdev->config[off] | pdev->config[off + 1] << 8);
}

/* The body's sections, in order, with their payload; NULL buf: sizes only. */
static size_t put_section(uint8_t *buf, size_t at, uint32_t tag, uint32_t index,
			  const void *data, size_t len)
{
	struct mig_section s = { .tag = tag, .index = index, .len = len };

	if (buf) {
		memcpy(buf + at, &s, sizeof(s));
		if (len)
			memcpy(buf + at + sizeof(s), data, len);
	}
	return at + sizeof(s) + len;
}

static size_t model_size(struct uvfio_pci_dev *pdev)
{
	return pdev->ops->save(pdev, NULL, 0);
}

/* Writes the body at buf (NULL: measures it); the sections written. */
static size_t put_body(struct vfio_pci *vp, uint8_t *buf, size_t model_len, uint32_t *nsec)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	size_t at = 0;

	*nsec = 0;
	at = put_section(buf, at, SEC_CONFIG, 0, pdev->config, sizeof(pdev->config));
	at = put_section(buf, at, SEC_VCONFIG, 0, vp->vconfig, sizeof(vp->vconfig));
	*nsec += 2;
	for (uint32_t i = 0; i < PCI_NUM_BARS; i++) {
		if (!pdev->bars[i].ram)
			continue;
		at = put_section(buf, at, SEC_BAR, i, pdev->bars[i].ram, pdev->bars[i].size);
		++*nsec;
	}
	if (buf) {
		struct mig_section s = { .tag = SEC_MODEL, .len = model_len };

		memcpy(buf + at, &s, sizeof(s));
		pdev->ops->save(pdev, buf + at + sizeof(s), model_len);
	}
	++*nsec;
	return at + sizeof(struct mig_section) + model_len;
}

static size_t stream_size(struct vfio_pci *vp)
{
	uint32_t nsec;

	return sizeof(struct mig_header) + put_body(vp, NULL, model_size(vp->pdev), &nsec);
}

/* The whole state, in a buffer of its own; NULL when out of memory. */
static uint8_t *save_state(struct vfio_pci *vp, size_t *len)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	size_t model_len = model_size(pdev);
	struct mig_header h = { .magic = MIG_MAGIC, .version = MIG_VERSION,
				.vendor = cfg16(pdev, 0), .device = cfg16(pdev, 2) };
	uint8_t *buf;
	uint32_t nsec;

	h.body_len = put_body(vp, NULL, model_len, &nsec);
	buf = malloc(sizeof(h) + h.body_len);
	if (!buf)
		return NULL;
	put_body(vp, buf + sizeof(h), model_len, &h.nsections);
	strncpy(h.model, pdev->ops->name, sizeof(h.model) - 1);
	h.checksum = fnv1a(buf + sizeof(h), h.body_len);
	memcpy(buf, &h, sizeof(h));
	*len = sizeof(h) + h.body_len;
	return buf;
}

/* Checks the whole stream, then loads it: the model's registers first (the
 * model checks them before it takes any), then what cannot fail.  0, or
 * -EINVAL with nothing loaded. */
static int load_state(struct vfio_pci *vp, const uint8_t *buf, size_t len)
{
	struct uvfio_pci_dev *pdev = vp->pdev;
	const uint8_t *sec[SEC_MODEL + 1][PCI_NUM_BARS] = { { NULL } };
	uint64_t model_len = 0;
	const uint8_t *p, *end;
	struct mig_header h;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, MIG_MAGIC, sizeof(h.magic)) || h.version != MIG_VERSION ||
	    strncmp(h.model, pdev->ops->name, sizeof(h.model)) || h.vendor != cfg16(pdev, 0) ||
	    h.device != cfg16(pdev, 2) || h.body_len != len - sizeof(h) ||
	    fnv1a(buf + sizeof(h), h.body_len) != h.checksum)
		return -EINVAL;
	p = buf + sizeof(h);
	end = buf + len;
	for (uint32_t n = 0; n < h.nsections; n++) {
		struct mig_section s;
		const uint8_t *data;

		if ((size_t)(end - p) < sizeof(s))
			return -EINVAL;
		memcpy(&s, p, sizeof(s));
		data = p + sizeof(s);
		if (s.len > (size_t)(end - data) || s.tag < SEC_CONFIG || s.tag > SEC_MODEL ||
		    s.index >= PCI_NUM_BARS || (s.tag != SEC_BAR && s.index) ||
		    sec[s.tag][s.index])
			return -EINVAL;
		if ((s.tag == SEC_CONFIG || s.tag == SEC_VCONFIG) && s.len != PCIE_CFG_SIZE)
			return -EINVAL;
		if (s.tag == SEC_BAR &&
		    (!pdev->bars[s.index].ram || s.len != pdev->bars[s.index].size))
			return -EINVAL;
		if (s.tag == SEC_MODEL)
			model_len = s.len;
		sec[s.tag][s.index] = data;
		p = data + s.len;
	}
	/* every part, and nothing after them */
	if (p != end || !sec[SEC_CONFIG][0] || !sec[SEC_VCONFIG][0] || !sec[SEC_MODEL][0])
		return -EINVAL;
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (!!pdev->bars[i].ram != !!sec[SEC_BAR][i])
			return -EINVAL;
	if (pdev->ops->load(pdev, sec[SEC_MODEL][0], model_len))
		return -EINVAL;
	memcpy(pdev->config, sec[SEC_CONFIG][0], PCIE_CFG_SIZE);
	memcpy(vp->vconfig, sec[SEC_VCONFIG][0], PCIE_CFG_SIZE);
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (sec[SEC_BAR][i])
			memcpy(pdev->bars[i].ram, sec[SEC_BAR][i], pdev->bars[i].size);
	return 0;
}

/* ---- running and stopped ---- */

static void run(struct vfio_pci *vp)
{
	if (!vp->pdev->stopped)
		return;
	vp->pdev->stopped = false;
	vfio_pci_release_held_irqs(vp);
	if (vp->pdev->ops->run)
		vp->pdev->ops->run(vp->pdev);
}

static void end_session(struct vfio_pci *vp)
{
	if (!vp->mig_file)
		return;
	vfio_mig_file_end(vp->mig_file);
	vfio_file_put(vp->mig_file);
	vp->mig_file = NULL;
}

/* A session's file: one reference for the user, one kept to end it. */
static struct vfio_file *open_session(struct vfio_pci *vp, struct vfio_file *f)
{
	if (!f)
		return NULL;
	vfio_file_get(f);
	vp->mig_file = f;
	return f;
}

/* STOP_COPY: the whole state, in the session's file. */
static int fill_saving(struct vfio_pci *vp)
{
	size_t len;
	uint8_t *buf = save_state(vp, &len);

	if (!buf)
		return -ENOMEM;
	vfio_mig_file_fill(vp->mig_file, buf, len);
	return 0;
}

static int mig_step(struct vfio_device *vdev, uint32_t next, struct vfio_file **data)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);
	uint32_t cur = vdev->mig_state;

	switch (next) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		/* from STOP, or out of a precopy session */
		end_session(vp);
		run(vp);
		return 0;
	case VFIO_DEVICE_STATE_STOP:
		if (cur == VFIO_DEVICE_STATE_RESUMING) {
			size_t len;
			const uint8_t *buf = vfio_mig_file_data(vp->mig_file, &len);

			if (load_state(vp, buf, len))
				return -EINVAL;
		}
		end_session(vp);
		vp->pdev->stopped = true;
		return 0;
	case VFIO_DEVICE_STATE_STOP_COPY:
		vp->pdev->stopped = true;
		if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return fill_saving(vp);		/* the precopy fd goes on */
		*data = open_session(vp, vfio_mig_file_saving());
		if (!*data)
			return -ENOMEM;
		if (fill_saving(vp)) {
			end_session(vp);
			vfio_file_abort(*data);
			*data = NULL;
			return -ENOMEM;
		}
		return 0;
	case VFIO_DEVICE_STATE_RESUMING:
		*data = open_session(vp, vfio_mig_file_resuming(stream_size(vp)));
		return *data ? 0 : -ENOMEM;
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		/* between the two: the session goes on */
		if (cur == VFIO_DEVICE_STATE_PRE_COPY || cur == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			return 0;
		*data = open_session(vp, vfio_mig_file_saving());
		return *data ? 0 : -ENOMEM;
	default:
		return -EINVAL;
	}
}

static int mig_data_size(struct vfio_device *vdev, uint64_t *len)
{
	*len = stream_size(to_vfio_pci(vdev));
	return 0;
}

static const struct vfio_migration_ops mig_ops = {
	.step = mig_step,
	.data_size = mig_data_size,
};

void vfio_pci_mig_init(struct vfio_pci *vp)
{
	const struct uvfio_model_ops *ops = vp->pdev->ops;

	vp->mig_file = NULL;
	if (!ops->save || !ops->load)
		return;
	vp->vdev.mig_ops = &mig_ops;
	vp->vdev.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			     VFIO_MIGRATION_PRE_COPY;
	vp->vdev.mig_state = VFIO_DEVICE_STATE_RUNNING;
}

void vfio_pci_mig_reset(struct vfio_pci *vp)
{
	end_session(vp);
	run(vp);
	vp->vdev.mig_state = VFIO_DEVICE_STATE_RUNNING;
}
