// SPDX-License-Identifier: MIT
/*
 * vfio-pci: the VFIO bus driver for PCI functions
 * (drivers/vfio/pci/vfio_pci_core.c).  Device file ioctls, read/write of
 * the regions, mmap of BAR memory, and enable/disable around the first open
 * and last close.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "uvfio/vfio_cdev.h"
#include "vfio_pci_priv.h"
#include "util/offsetofend.h"

#define PAGE_SIZE_4K		4096ULL

/* ---- enable / disable ---- */

static void save_config(struct uvfio_pci_dev *pdev, uint8_t *save)
{
	memcpy(save, pdev->config, pdev->cfg_size);
}

/* pci_restore_state(): writes the saved registers back through config
 * cycles, so read-only status reflects the device as it is now. */
static void restore_config(struct uvfio_pci_dev *pdev, const uint8_t *save)
{
	for (unsigned int off = 0; off < pdev->cfg_size; off += 4)
		pci_dev_cfg_write(pdev, off, 4, get_le(save + off, 4));
}

int vfio_pci_try_reset(struct vfio_pci *vp)
{
	uint8_t save[PCIE_CFG_SIZE];

	save_config(vp->pdev, save);
	pci_dev_function_reset(vp->pdev);
	restore_config(vp->pdev, save);
	/* a reset device runs: migration state RUNNING, no session */
	vfio_pci_mig_reset(vp);
	return 0;
}

static void power_state_d0(struct uvfio_pci_dev *pdev)
{
	unsigned int reg = UVFIO_CAP_PM_POS + PCI_PM_CTRL;

	pci_dev_cfg_write(pdev, reg, 2, pci_dev_cfg_read(pdev, reg, 2) & ~PCI_PM_CTRL_STATE_MASK);
}

/* vfio_pci_core_enable(): power up, enable decoding of the BARs the function
 * has (pci_enable_device), reset, and remember the state to restore at close. */
static int vfio_pci_open_device(struct vfio_device *vdev)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);
	struct uvfio_pci_dev *pdev = vp->pdev;
	uint16_t cmd = pci_dev_command(pdev);

	power_state_d0(pdev);
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		if (pdev->bars[i].kind == UVFIO_BAR_IO)
			cmd |= PCI_COMMAND_IO;
		else if (pdev->bars[i].kind)
			cmd |= PCI_COMMAND_MEMORY;
	}
	pci_dev_cfg_write(pdev, PCI_COMMAND, 2, cmd);
	vfio_pci_try_reset(vp);
	save_config(pdev, vp->saved_config);
	vfio_config_init(vp);
	vfio_pci_intrs_init(vp);
	vfio_pci_pm_init(vp);
	return 0;
}

/* vfio_pci_core_disable(): stop DMA and interrupts, reset, restore. */
static void vfio_pci_close_device(struct vfio_device *vdev)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);
	struct uvfio_pci_dev *pdev = vp->pdev;

	/* the user is gone: low power ends, unannounced; migration too */
	vfio_pci_pm_exit(vp, false);
	vfio_pci_mig_reset(vp);
	pci_dev_cfg_write(pdev, PCI_COMMAND, 2, pci_dev_command(pdev) & ~PCI_COMMAND_MASTER);
	vfio_pci_intrs_disable_all(vp);
	vfio_pci_ioeventfds_release(vp);
	pci_dev_function_reset(pdev);
	restore_config(pdev, vp->saved_config);
}

/* ---- ioctls ---- */

static long ioctl_get_info(struct vfio_device *vdev, struct vfio_uarg *ua)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	if (vdev->cdev_opened)
		info.flags |= VFIO_DEVICE_FLAGS_CDEV;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

/* Like vfio-pci's bar_mmap_supported: every memory BAR of a page or more. */
static bool bar_mmappable(struct uvfio_pci_dev *pdev, int bar)
{
	enum uvfio_bar_kind kind = pdev->bars[bar].kind;

	return (kind == UVFIO_BAR_MEM32 || kind == UVFIO_BAR_MEM64) &&
	       pdev->bars[bar].size >= PAGE_SIZE_4K;
}

/* Lists the RAM areas (possibly none) unless they are the whole BAR: VMMs map
 * those and trap the rest themselves; drivers that map the whole BAR get
 * trapped register pages. */
static int add_sparse_cap(struct pci_bar *b, struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	uint64_t covered = 0;
	size_t size;

	for (unsigned int i = 0; i < b->nr_areas; i++)
		covered += b->areas[i].size;
	if (covered == b->size)
		return 0;
	size = sizeof(*sparse) + b->nr_areas * sizeof(sparse->areas[0]);
	sparse = vfio_info_cap_add(caps, size, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
	if (!sparse)
		return -ENOMEM;
	sparse->nr_areas = b->nr_areas;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		sparse->areas[i].offset = b->areas[i].offset;
		sparse->areas[i].size = b->areas[i].size;
	}
	return 0;
}

static long ioctl_get_region_info(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct uvfio_pci_dev *pdev = vp->pdev;
	struct vfio_info_cap caps = { NULL, 0 };
	struct vfio_region_info info;
	long ret = 0;

	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = (uint64_t)info.index << VFIO_PCI_OFFSET_SHIFT;
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = (uint64_t)info.index << VFIO_PCI_OFFSET_SHIFT;
		info.size = pdev->bars[info.index].size;
		if (!info.size) {
			info.flags = 0;
			break;
		}
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		if (bar_mmappable(pdev, info.index)) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			ret = add_sparse_cap(&pdev->bars[info.index], &caps);
			if (ret)
				return ret;
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		/* no function has an option ROM */
		info.offset = (uint64_t)info.index << VFIO_PCI_OFFSET_SHIFT;
		info.flags = 0;
		info.size = 0;
		break;
	default:
		/* VGA: none of our functions is a VGA device */
		return -EINVAL;
	}

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(ua, sizeof(info), caps.buf, caps.size))
				ret = -EFAULT;
			info.cap_offset = sizeof(info);
		}
		free(caps.buf);
		if (ret)
			return ret;
	}
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

static long ioctl_get_irq_info(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !vp->pdev->is_pcie)
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vfio_pci_get_irq_count(vp, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;	/* no dynamic MSI-X */
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

/* vfio_set_irqs_validate_and_prepare() */
static int set_irqs_validate(const struct vfio_irq_set *hdr, unsigned int num_irqs,
			     size_t *data_size)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	size_t size;

	if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->count >= UINT32_MAX - hdr->start ||
	    hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	*data_size = 0;
	if (hdr->start >= num_irqs || hdr->start + hdr->count > num_irqs)
		return -EINVAL;
	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr->argsz - minsz < hdr->count * size)
			return -EINVAL;
		*data_size = hdr->count * size;
	}
	return 0;
}

static long ioctl_set_irqs(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size;
	uint8_t *data = NULL;
	int max, ret;

	if (copy_from_user(&hdr, ua, 0, minsz))
		return -EFAULT;
	max = hdr.index < VFIO_PCI_NUM_IRQS ? vfio_pci_get_irq_count(vp, hdr.index) : 0;
	ret = set_irqs_validate(&hdr, max, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = malloc(data_size);
		if (!data)
			return -ENOMEM;
		if (copy_from_user(data, ua, minsz, data_size)) {
			free(data);
			return -EFAULT;
		}
	}
	ret = vfio_pci_set_irqs(vp, hdr.flags, hdr.index, hdr.start, hdr.count, data, ua);
	free(data);
	return ret;
}

static long ioctl_ioeventfd(struct vfio_pci *vp, struct vfio_uarg *ua)
{
	size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd ioe;
	unsigned int count;

	if (copy_from_user(&ioe, ua, 0, minsz))
		return -EFAULT;
	if (ioe.argsz < minsz)
		return -EINVAL;
	if (ioe.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = ioe.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (__builtin_popcount(count) != 1 || ioe.fd < -1)
		return -EINVAL;
	return vfio_pci_ioeventfd(vp, ioe.offset, ioe.data, count, ioe.fd, ua);
}

static long vfio_pci_ioctl(struct vfio_device *vdev, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return ioctl_get_info(vdev, ua);
	case VFIO_DEVICE_GET_REGION_INFO:
		return ioctl_get_region_info(vp, ua);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return ioctl_get_irq_info(vp, ua);
	case VFIO_DEVICE_SET_IRQS:
		return ioctl_set_irqs(vp, ua);
	case VFIO_DEVICE_RESET:
		return vfio_pci_try_reset(vp);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_get_pci_hot_reset_info(vp, ua);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_pci_hot_reset(vp, ua);
	case VFIO_DEVICE_IOEVENTFD:
		return ioctl_ioeventfd(vp, ua);
	default:
		return -ENOTTY;
	}
}

/* ---- read / write / mmap ---- */

static ssize_t vfio_pci_rw(struct vfio_pci *vp, void *buf, size_t count, uint64_t *ppos,
			   bool iswrite)
{
	unsigned int index = *ppos >> VFIO_PCI_OFFSET_SHIFT;
	ssize_t ret;

	if (!count)
		return 0;
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = vfio_pci_config_rw(vp, buf, count, *ppos & VFIO_PCI_OFFSET_MASK, iswrite);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		ret = vfio_pci_bar_rw(vp, buf, count, *ppos, false);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		ret = vfio_pci_bar_rw(vp, buf, count, *ppos, iswrite);
		break;
	default:
		/* VGA (no function has one) and beyond */
		return -EINVAL;
	}
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t vfio_pci_read(struct vfio_device *vdev, void *buf, size_t count,
			     uint64_t *ppos)
{
	return vfio_pci_rw(to_vfio_pci(vdev), buf, count, ppos, false);
}

static ssize_t vfio_pci_write(struct vfio_device *vdev, const void *buf, size_t count,
			      uint64_t *ppos)
{
	return vfio_pci_rw(to_vfio_pci(vdev), (void *)buf, count, ppos, true);
}

/* A store of 1, 2, 4 or 8 naturally aligned bytes into a memory BAR is a
 * PCIe memory write, which is posted; config and I/O writes are not.  Only
 * registers: RAM areas may be mapped, and a load through the mapping would
 * not wait for a write queued in the client. */
static bool vfio_pci_write_posted(struct vfio_device *vdev, uint64_t off, size_t count,
				  uint64_t *start, uint64_t *end)
{
	struct uvfio_pci_dev *pdev = to_vfio_pci(vdev)->pdev;
	unsigned int index = off >> VFIO_PCI_OFFSET_SHIFT;
	uint64_t pos = off & VFIO_PCI_OFFSET_MASK, base = off - pos;

	if (index > VFIO_PCI_BAR5_REGION_INDEX || (count != 1 && count != 2 && count != 4 &&
						   count != 8) || pos % count)
		return false;
	if (!pdev->bars[index].kind || pdev->bars[index].kind == UVFIO_BAR_IO ||
	    !pci_dev_bar_regs_around(pdev, (int)index, pos, count, start, end))
		return false;
	*start += base;
	*end += base;
	return true;
}

/* The pieces of [start, end) of bar that are registers, not RAM areas:
 * (offset from start, length), in order.  Returns how many. */
static uint32_t trapped_pieces(const struct pci_bar *b, uint64_t start, uint64_t end,
			       struct uvfio_mmap_trap *traps)
{
	uint64_t pos = start;
	uint32_t n = 0;

	while (pos < end) {
		uint64_t next_ram = end, ram_end = end;

		/* the RAM area that starts first at or after pos (areas do not
		 * overlap) */
		for (unsigned int i = 0; i < b->nr_areas; i++) {
			const struct uvfio_bar_area *a = &b->areas[i];

			if (a->offset + a->size <= pos || a->offset >= next_ram)
				continue;
			next_ram = a->offset > pos ? a->offset : pos;
			ram_end = a->offset + a->size;
		}
		if (next_ram > pos) {
			traps[n].offset = pos - start;
			traps[n].length = next_ram - pos;
			n++;
		}
		pos = ram_end;
	}
	return n;
}

/* vfio_pci_core_mmap(): any page-aligned range of a memory BAR, shared. */
static int vfio_pci_mmap(struct vfio_device *vdev, struct vfio_mmap_req *req)
{
	struct uvfio_pci_dev *pdev = to_vfio_pci(vdev)->pdev;
	uint64_t index = req->offset >> VFIO_PCI_OFFSET_SHIFT;
	uint64_t start = req->offset & VFIO_PCI_OFFSET_MASK;
	struct pci_bar *b;

	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (!(req->flags & UVFIO_MMAP_SHARED))
		return -EINVAL;
	if (index >= VFIO_PCI_ROM_REGION_INDEX || !bar_mmappable(pdev, index))
		return -EINVAL;
	b = &pdev->bars[index];
	if ((start | req->length) & (PAGE_SIZE_4K - 1) || !req->length ||
	    req->length > b->size || start > b->size - req->length)
		return -EINVAL;
	req->fd = b->memfd;
	req->out.fd_offset = start;
	req->out.index = (uint32_t)index;
	snprintf(req->out.device, sizeof(req->out.device), "%s", pdev->name);
	req->out.nr_traps = trapped_pieces(b, start, start + req->length, req->out.traps);
	return 0;
}

static void vfio_pci_request(struct vfio_device *vdev, unsigned int count)
{
	struct vfio_pci *vp = to_vfio_pci(vdev);

	if (vp->req_trigger >= 0) {
		if (!(count % 10))
			uvfio_dbg_rl("%s: relaying device request to user (#%u)",
				     vp->pdev->name, count);
		vfio_pci_signal_req(vp);
	}
}

static bool is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
					    ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return false;
	}
	return true;
}

/* "BDF" or "BDF vf_token=UUID"; no function here is a PF or VF, so a token
 * is an error, as vfio_pci_validate_vf_token() says. */
static int vfio_pci_match(struct vfio_device *vdev, const char *buf)
{
	const char *name = vdev->dev->name;
	size_t len = strlen(name);
	bool vf_token = false;

	if (strncmp(name, buf, len))
		return 0;
	buf += len;
	if (!*buf)
		return 1;
	if (*buf != ' ')
		return 0;
	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (vf_token || strncmp(buf, "vf_token=", 9))
			return -EINVAL;
		buf += 9;
		if (strnlen(buf, 36) < 36 || !is_uuid(buf))
			return -EINVAL;
		buf += 36;
		vf_token = true;
	}
	return vf_token ? -EINVAL : 1;
}

const struct vfio_device_ops vfio_pci_ops = {
	.name = "vfio-pci",
	.open_device = vfio_pci_open_device,
	.close_device = vfio_pci_close_device,
	.read = vfio_pci_read,
	.write = vfio_pci_write,
	.write_posted = vfio_pci_write_posted,
	.ioctl = vfio_pci_ioctl,
	.device_feature = vfio_pci_ioctl_feature,
	.runtime_resume = vfio_pci_runtime_resume,
	.mmap = vfio_pci_mmap,
	.request = vfio_pci_request,
	.match = vfio_pci_match,
};

struct vfio_pci *vfio_pci_alloc(struct host_device *hdev, struct uvfio_pci_dev *pdev)
{
	struct vfio_pci *vp = calloc(1, sizeof(*vp));

	if (!vp)
		return NULL;
	vp->pdev = pdev;
	LIST_INIT(&vp->ioeventfds);
	vfio_pci_intrs_init(vp);
	vfio_pci_pm_init(vp);
	vfio_device_init(&vp->vdev, hdev, &vfio_pci_ops, vp);
	vfio_pci_mig_init(vp);
	pdev->vpci = vp;
	return vp;
}

void vfio_pci_free(struct vfio_pci *vp)
{
	vp->pdev->vpci = NULL;
	free(vp);
}
