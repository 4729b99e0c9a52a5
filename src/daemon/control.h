/* SPDX-License-Identifier: MIT */
/*
 * Administrative commands from the CLI (ls, stats, bind, unbind): what an
 * administrator does through sysfs on a real host.
 */
#ifndef UVFIO_DAEMON_CONTROL_H
#define UVFIO_DAEMON_CONTROL_H

struct session;
struct vfio_uctx;

/* Runs cmd; the answer goes to session_complete_control(), possibly later
 * (unbind of a device in use waits for its user to release it). */
void control_run(struct session *s, struct vfio_uctx *ctx, const char *cmd);

#endif
