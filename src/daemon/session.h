/* SPDX-License-Identifier: MIT */
/*
 * Client sessions: the daemon end of call channels.  A session is one
 * connected thread of one client process; it turns requests into calls on
 * the files they name, with the caller's credentials as `current`.
 */
#ifndef UVFIO_DAEMON_SESSION_H
#define UVFIO_DAEMON_SESSION_H

#include <sys/types.h>

/* Starts listening at name inside the directory dirfd, which must stay open
 * until session_shutdown() (mode 0666: the container node is open to all). */
int session_listen(int dirfd, const char *name);
/* Serves a connected, non-blocking socket whose peer is cred (what a listen
 * socket's accept does; also how tests and fuzzers feed the daemon).  On
 * success the session owns fd; on failure (-ENOMEM) the caller keeps it. */
struct ucred;
int session_adopt(int fd, const struct ucred *cred);
void session_shutdown(void);

/* Opening a node path on behalf of a client: /dev/vfio/vfio, /dev/vfio/$N. */
struct vfio_uctx;
struct vfio_file;
int session_open_node(const char *path, struct vfio_uctx *ctx, struct vfio_file **out);

/* A control command finished asynchronously (control.c). */
struct session;
void session_complete_control(struct session *s, long ret, const char *text);

#endif
