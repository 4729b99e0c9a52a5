// SPDX-License-Identifier: MIT
/*
 * VFIO migration v2 (drivers/vfio/vfio_main.c): VFIO_DEVICE_FEATURE_MIGRATION,
 * _MIG_DEVICE_STATE and _MIG_DATA_SIZE, the state machine that turns a
 * requested state into the arcs a driver implements, and the data files
 * that stream a device's state out (saving) or in (resuming).
 *
 * The arcs: from each state, the next state on the way to each target, for
 * a device with every optional state.  A device without an optional state
 * (P2P, PRE_COPY) has the arcs through it skipped, as the kernel skips them.
 */
#include "migration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dirty_log.h"
#include "util/offsetofend.h"
#include "uvfio/vfio_mig.h"

enum { ERR = VFIO_DEVICE_STATE_ERROR, STOP = VFIO_DEVICE_STATE_STOP,
       RUN = VFIO_DEVICE_STATE_RUNNING, SCOPY = VFIO_DEVICE_STATE_STOP_COPY,
       RESUME = VFIO_DEVICE_STATE_RESUMING, RP2P = VFIO_DEVICE_STATE_RUNNING_P2P,
       PRE = VFIO_DEVICE_STATE_PRE_COPY, PREP2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
       NSTATES };

/* next[from][to] */
static const uint8_t next_arc[NSTATES][NSTATES] = {
	[STOP] = { [STOP] = STOP, [RUN] = RP2P, [PRE] = RP2P, [PREP2P] = RP2P,
		   [SCOPY] = SCOPY, [RESUME] = RESUME, [RP2P] = RP2P, [ERR] = ERR },
	[RUN] = { [STOP] = RP2P, [RUN] = RUN, [PRE] = PRE, [PREP2P] = RP2P,
		  [SCOPY] = RP2P, [RESUME] = RP2P, [RP2P] = RP2P, [ERR] = ERR },
	[PRE] = { [STOP] = RUN, [RUN] = RUN, [PRE] = PRE, [PREP2P] = PREP2P,
		  [SCOPY] = PREP2P, [RESUME] = RUN, [RP2P] = RUN, [ERR] = ERR },
	[PREP2P] = { [STOP] = RP2P, [RUN] = RP2P, [PRE] = PRE, [PREP2P] = PREP2P,
		     [SCOPY] = SCOPY, [RESUME] = RP2P, [RP2P] = RP2P, [ERR] = ERR },
	[SCOPY] = { [STOP] = STOP, [RUN] = STOP, [PRE] = ERR, [PREP2P] = ERR,
		    [SCOPY] = SCOPY, [RESUME] = STOP, [RP2P] = STOP, [ERR] = ERR },
	[RESUME] = { [STOP] = STOP, [RUN] = STOP, [PRE] = STOP, [PREP2P] = STOP,
		     [SCOPY] = STOP, [RESUME] = RESUME, [RP2P] = STOP, [ERR] = ERR },
	[RP2P] = { [STOP] = STOP, [RUN] = RUN, [PRE] = RUN, [PREP2P] = PREP2P,
		   [SCOPY] = STOP, [RESUME] = STOP, [RP2P] = RP2P, [ERR] = ERR },
	/* [ERR]: all ERR (zero) */
};

/* What a device must support for a state to exist for it. */
static uint32_t state_needs(uint32_t state)
{
	switch (state) {
	case PRE:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
	case PREP2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;
	case RP2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	case ERR:
		return ~0u;
	default:
		return VFIO_MIGRATION_STOP_COPY;
	}
}

static bool state_exists(uint32_t flags, uint32_t state)
{
	return state < NSTATES && (state_needs(state) & flags) == state_needs(state);
}

int vfio_mig_next_state(uint32_t flags, uint32_t cur, uint32_t target, uint32_t *next)
{
	if (!state_exists(flags, cur) && cur != ERR)
		return -EINVAL;
	if (!state_exists(flags, target))
		return -EINVAL;
	*next = next_arc[cur][target];
	/* arcs through a state this device lacks are skipped over */
	while (!state_exists(flags, *next) && *next != ERR)
		*next = next_arc[*next][target];
	return *next == ERR ? -EINVAL : 0;
}

/* Walks from the current state to target, one driver arc at a time.  The
 * state is the last one reached; a data file opened on the way is the
 * caller's (only the last arc may open one). */
static int set_state(struct vfio_device *vdev, uint32_t target, struct vfio_file **data)
{
	*data = NULL;
	while (vdev->mig_state != target) {
		uint32_t next;
		int ret = vfio_mig_next_state(vdev->mig_flags, vdev->mig_state, target, &next);

		if (ret)
			return ret;
		if (*data) {
			/* a file opened short of the target: no arc does that */
			vfio_file_put(*data);
			*data = NULL;
			return -EINVAL;
		}
		ret = vdev->mig_ops->step(vdev, next, data);
		if (ret)
			return ret;
		vdev->mig_state = next;
	}
	return 0;
}

long vfio_mig_feature_migration(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
				size_t off, size_t argsz)
{
	struct vfio_device_feature_migration mig = { .flags = vdev->mig_flags };
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(mig));
	if (ret != 1)
		return ret;
	return copy_to_user(ua, off, &mig, sizeof(mig)) ? -EFAULT : 0;
}

long vfio_mig_feature_state(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
			    size_t off, size_t argsz)
{
	struct vfio_device_feature_mig_state mig;
	struct vfio_file *data = NULL;
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz,
				 VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET, sizeof(mig));
	if (ret != 1)
		return ret;
	if (copy_from_user(&mig, ua, off, offsetofend(struct vfio_device_feature_mig_state,
						     data_fd)))
		return -EFAULT;
	if (flags & VFIO_DEVICE_FEATURE_GET)
		mig.device_state = vdev->mig_state;
	else
		ret = set_state(vdev, mig.device_state, &data);
	mig.data_fd = -1;
	if (copy_to_user(ua, off, &mig, sizeof(mig))) {
		if (data)
			vfio_file_abort(data);
		return -EFAULT;
	}
	if (ret)
		return ret;
	if (data) {
		/* the descriptor's number goes in data_fd */
		ua->new_file = data;
		ua->new_file_arg = off + offsetof(struct vfio_device_feature_mig_state, data_fd);
	}
	return 0;
}

long vfio_mig_feature_data_size(struct vfio_device *vdev, uint32_t flags, struct vfio_uarg *ua,
				size_t off, size_t argsz)
{
	struct vfio_device_feature_mig_data_size size = { 0 };
	uint64_t len;
	int ret;

	if (!vdev->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(size));
	if (ret != 1)
		return ret;
	ret = vdev->mig_ops->data_size(vdev, &len);
	if (ret)
		return ret;
	size.stop_copy_length = len;
	return copy_to_user(ua, off, &size, sizeof(size)) ? -EFAULT : 0;
}

/* ---- data files ---- */

struct vfio_mig_file {
	bool saving;
	bool filled;		/* saving: the state is in buf (STOP_COPY) */
	bool disabled;		/* its session ended */
	uint8_t *buf;
	size_t len;		/* the state's bytes (resuming: written so far) */
	size_t alloc, cap;	/* resuming: buf's size, and its bound */
};

/* Streams, like the kernel's: read and write at the file position only. */
static ssize_t mig_read(struct vfio_file *f, void *buf, size_t count, uint64_t *ppos)
{
	struct vfio_mig_file *mf = f->private_data;

	if (ppos != &f->pos)
		return -ESPIPE;
	if (!mf->saving)
		return -EINVAL;
	if (mf->disabled)
		return -ENODEV;
	if (!mf->filled)
		return -ENOMSG;		/* precopy: nothing to send for now */
	if (*ppos >= mf->len)
		return 0;
	if (count > mf->len - *ppos)
		count = mf->len - *ppos;
	memcpy(buf, mf->buf + *ppos, count);
	*ppos += count;
	return (ssize_t)count;
}

static ssize_t mig_write(struct vfio_file *f, const void *buf, size_t count, uint64_t *ppos)
{
	struct vfio_mig_file *mf = f->private_data;

	if (ppos != &f->pos)
		return -ESPIPE;
	if (mf->saving)
		return -EINVAL;
	if (mf->disabled)
		return -ENODEV;
	if (count > mf->cap - mf->len)
		return -ENOMEM;		/* more than any state of this device */
	if (mf->len + count > mf->alloc) {
		size_t alloc = mf->alloc ? mf->alloc : 4096;
		uint8_t *nb;

		while (alloc < mf->len + count)
			alloc *= 2;
		nb = realloc(mf->buf, alloc);
		if (!nb)
			return -ENOMEM;
		mf->buf = nb;
		mf->alloc = alloc;
	}
	memcpy(mf->buf + mf->len, buf, count);
	mf->len += count;
	*ppos += count;
	return (ssize_t)count;
}

/* VFIO_MIG_GET_PRECOPY_INFO: in precopy, nothing is left to read. */
static long mig_ioctl(struct vfio_file *f, unsigned int cmd, struct vfio_uarg *ua)
{
	struct vfio_mig_file *mf = f->private_data;
	const size_t minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, ua, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (!mf->saving || mf->filled || mf->disabled)
		return -EINVAL;
	info.initial_bytes = 0;
	info.dirty_bytes = 0;
	return copy_to_user(ua, 0, &info, minsz) ? -EFAULT : 0;
}

static void mig_release(struct vfio_file *f)
{
	struct vfio_mig_file *mf = f->private_data;

	free(mf->buf);
	free(mf);
}

static const struct vfio_file_ops mig_fops = {
	.type = UVFIO_FILE_MIG_DATA,
	.ioctl = mig_ioctl,
	.read = mig_read,
	.write = mig_write,
	.release = mig_release,
};

struct vfio_file *vfio_mig_file_saving(void)
{
	struct vfio_mig_file *mf = calloc(1, sizeof(*mf));
	struct vfio_file *f;

	if (!mf)
		return NULL;
	mf->saving = true;
	f = vfio_file_alloc(&mig_fops, mf);
	if (!f)
		free(mf);
	return f;
}

void vfio_mig_file_fill(struct vfio_file *f, uint8_t *buf, size_t len)
{
	struct vfio_mig_file *mf = f->private_data;

	free(mf->buf);
	mf->buf = buf;
	mf->len = len;
	mf->filled = true;
}

struct vfio_file *vfio_mig_file_resuming(size_t max)
{
	struct vfio_mig_file *mf = calloc(1, sizeof(*mf));
	struct vfio_file *f;

	if (!mf)
		return NULL;
	mf->cap = max;
	f = vfio_file_alloc(&mig_fops, mf);
	if (!f)
		free(mf);
	return f;
}

void vfio_mig_file_end(struct vfio_file *f)
{
	struct vfio_mig_file *mf = f->private_data;

	mf->disabled = true;
}

const uint8_t *vfio_mig_file_data(struct vfio_file *f, size_t *len)
{
	struct vfio_mig_file *mf = f->private_data;

	*len = mf->len;
	return mf->buf;
}
