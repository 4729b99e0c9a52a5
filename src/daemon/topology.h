/* SPDX-License-Identifier: MIT */
/*
 * The host's layout: IOMMU groups, the PCI functions in them, their models
 * and drivers, and owner/mode of each /dev/vfio/$GROUP node (what udev rules
 * and chown do on a real host).  Read from a JSON file or the built-in
 * default; README.md documents the format.
 */
#ifndef UVFIO_DAEMON_TOPOLOGY_H
#define UVFIO_DAEMON_TOPOLOGY_H

#include <stddef.h>

/* path NULL: the built-in default.  On error, err says what and where. */
int topology_load(const char *path, char *err, size_t errlen);
/* Re-applies node owners to vfio groups (they come and go with binding). */
void topology_apply_owners(void);
void topology_fini(void);
extern const char topology_default_json[];

#endif
