/* SPDX-License-Identifier: MIT */
/*
 * The host view a VFIO program reads: sysfs entries of our devices and IOMMU
 * groups, /sys/module/vfio*, and the /dev/vfio nodes, materialised as a real
 * tree under $DIR/root so that stat, readlink, realpath, opendir and fopen
 * all behave like on a real host.  $DIR/redirects lists the path prefixes the
 * shim sends into the tree; everything else stays the machine's own.
 */
#ifndef UVFIO_DAEMON_SYSFS_H
#define UVFIO_DAEMON_SYSFS_H

/* (Re)writes the tree in the daemon's directory, the descriptor of a
 * directory checked by uvfio_dir_open(); call after every topology change.
 * Nothing is written through a symlink found there. */
int sysfs_write(int dirfd);

#endif
