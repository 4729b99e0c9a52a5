// SPDX-License-Identifier: MIT
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dirty_log.h"
#include "core/user.h"
#include "core/vfio.h"
#include "pci/pci_bus.h"
#include "session.h"

struct text {
	char buf[16384];
	size_t len;
};

static void emit(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->buf))
		t->len = sizeof(t->buf) - 1;
}

static const char *group_state(const struct iommu_group *g)
{
	const struct vfio_group *vg = g->vfio_group;

	if (!vg)
		return "no vfio group";
	if (vg->container)
		return "in use";
	return vfio_group_viable(vg) ? "viable" : "not viable";
}

static void cmd_ls(struct text *t)
{
	struct iommu_group *g;

	emit(t, "%-14s %-10s %-10s %-6s %-10s %-7s %s\n", "DEVICE", "ID", "MODEL", "GROUP",
	     "DRIVER", "CDEV", "STATE");
	iommu_group_for_each(g) {
		struct host_device *dev;

		TAILQ_FOREACH(dev, &g->devices, group_next) {
			struct pci_sysfs_info info;
			char cdev[16] = "-";

			if (pci_bus_sysfs_info(dev, &info))
				continue;
			if (dev->vdev)
				snprintf(cdev, sizeof(cdev), "vfio%d", dev->vdev->index);
			emit(t, "%-14s %04x:%04x  %-10s %-6d %-10s %-7s %s%s%s\n", dev->name,
			     info.vendor, info.device, pci_bus_model_name(dev), g->id,
			     dev->driver[0] ? dev->driver : "(none)", cdev, group_state(g),
			     dev->vdev && dev->vdev->open_count ? ", device open" : "",
			     dev->vdev && dev->vdev->cdev_opened ? " (cdev)" : "");
		}
	}
}

static void emit_user(uid_t uid, const uint64_t *usage, void *ctx)
{
	struct text *t = ctx;

	emit(t, "user %u:", (unsigned int)uid);
	for (int i = 0; i < VFIO_USER_NR_RES; i++)
		emit(t, "%s %s %llu", i ? "," : "", vfio_user_res_name(i),
		     (unsigned long long)usage[i]);
	emit(t, "\n");
}

/* The device's migration state as the uAPI names it. */
static const char *mig_state_name(const struct vfio_device *vdev)
{
	static const char *const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
		"PRE_COPY", "PRE_COPY_P2P",
	};

	if (!vdev->mig_ops)
		return "unsupported";
	return vdev->mig_state < sizeof(names) / sizeof(names[0]) ? names[vdev->mig_state] : "?";
}

static void cmd_stats(struct text *t)
{
	struct iommu_group *g;

	emit(t, "files open: %u\n", vfio_file_count());
	emit(t, "limits per user:");
	for (int i = 0; i < VFIO_USER_NR_RES; i++)
		emit(t, "%s %s %llu", i ? "," : "", vfio_user_res_name(i),
		     (unsigned long long)vfio_user_limit(i));
	emit(t, "\n");
	vfio_user_for_each(emit_user, t);
	iommu_group_for_each(g) {
		struct host_device *dev;
		struct vfio_group *vg = g->vfio_group;

		TAILQ_FOREACH(dev, &g->devices, group_next) {
			const struct vfio_device_stats *st;
			char line[512];

			if (pci_bus_describe(dev, line, sizeof(line)))
				emit(t, "%s: %s\n", dev->name, line);
			if (!dev->vdev)
				continue;
			st = &dev->vdev->stats;
			emit(t, "%s: dma reads %llu, writes %llu, bytes %llu, faults %llu, irqs %llu\n",
			     dev->name, (unsigned long long)st->dma_reads,
			     (unsigned long long)st->dma_writes, (unsigned long long)st->dma_bytes,
			     (unsigned long long)st->dma_faults, (unsigned long long)st->irqs);
			vfio_dirty_log_describe(dev->vdev->dirty_log, line, sizeof(line));
			emit(t, "%s: migration %s, dma logging %s\n", dev->name,
			     mig_state_name(dev->vdev), line);
		}
		if (vg && vg->container && vg->container->iommu_driver &&
		    vg->container->iommu_driver->describe) {
			char line[256];

			vg->container->iommu_driver->describe(vg->container->iommu_data, line,
							       sizeof(line));
			emit(t, "group %d container: %s\n", g->id, line);
		}
	}
}

static bool may_administer(const struct vfio_uctx *ctx)
{
	return ctx->uid == 0 || ctx->uid == geteuid();
}

static void unbind_done(void *arg, int err)
{
	struct session *s = arg;

	session_complete_control(s, err, err ? NULL : "unbound\n");
}

void control_run(struct session *s, struct vfio_uctx *ctx, const char *cmd)
{
	static struct text t;
	char verb[16], bdf[32], driver[32];
	int n;

	t.len = 0;
	t.buf[0] = 0;
	n = sscanf(cmd, "%15s %31s %31s", verb, bdf, driver);
	if (n >= 1 && !strcmp(verb, "ls")) {
		cmd_ls(&t);
		session_complete_control(s, 0, t.buf);
	} else if (n >= 1 && !strcmp(verb, "stats")) {
		cmd_stats(&t);
		session_complete_control(s, 0, t.buf);
	} else if (n == 3 && !strcmp(verb, "bind")) {
		int ret = may_administer(ctx) ? pci_bus_bind(bdf, driver) : -EPERM;

		session_complete_control(s, ret, ret ? NULL : "bound\n");
	} else if (n == 2 && !strcmp(verb, "unbind")) {
		if (!may_administer(ctx)) {
			session_complete_control(s, -EPERM, NULL);
			return;
		}
		pci_bus_unbind(bdf, unbind_done, s);
	} else {
		session_complete_control(s, -EINVAL, NULL);
	}
}
