// SPDX-License-Identifier: MIT
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77	/* Linux 6.5 */
#endif

#include "control.h"
#include "slot_poll.h"
#include "core/user.h"
#include "core/vfio.h"
#include "iommufd/iommufd.h"
#include "transport/channel.h"
#include "transport/ioctl_codec.h"
#include "util/container_of.h"
#include "util/log.h"
#include "util/loop.h"

/* A reply the client has not taken yet (its socket was full). */
struct pending_reply {
	struct uvfio_rep rep;
	int fd;
	uint8_t payload[];
};

/* Requests served from one channel before the others get their turn. */
#define SESSION_BUDGET		4

/* How long a client may leave a reply unread before it is dropped. */
#define REPLY_TIMEOUT_MS	5000

struct session {
	int sock;
	struct vfio_uctx ctx;
	bool hello;		/* the client named its address space */
	bool charged;		/* counted against its user's connections */
	int refuse;		/* over the limit: answer this, then hang up */
	/* At most one reply waits for the client; meanwhile its requests are
	 * not read, so a client that never reads costs the daemon one reply
	 * and is dropped when the timer fires. */
	struct pending_reply *out;
	struct uvfio_timer *out_timer;
	bool waiting;		/* a control command answers later */
	bool dead;		/* hung up while waiting */
	/* The shared call slot, if the client asked for one, and whether the
	 * request being handled came from it. */
	struct slot_client sc;
	bool from_slot;
	uint32_t slot_seq;
	LIST_ENTRY(session) next;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static int listen_fd = -1;
static char listen_path[108];

/* One request at a time on the loop thread: buffers can be shared. */
static uint8_t in_buf[UVFIO_MAX_PAYLOAD];
static uint8_t out_buf[UVFIO_MAX_PAYLOAD];

static void update_blocked(struct session *s);

static void pending_free(struct session *s)
{
	if (s->out) {
		if (s->out->fd >= 0)
			close(s->out->fd);
		free(s->out);
		s->out = NULL;
	}
	uvfio_timer_cancel(s->out_timer);
	s->out_timer = NULL;
	update_blocked(s);
}

static bool drain_posted(struct session *s);

static void slot_free(struct session *s)
{
	if (!s->sc.slot)
		return;
	/* Writes it posted were accepted: they land even if it goes. */
	drain_posted(s);
	slot_client_del(&s->sc);
	close(s->sc.kick);
	uvfio_slot_destroy(s->sc.slot);
	s->sc.slot = NULL;
}

/* A session with a reply waiting or a control command in flight takes no
 * new request, from its slot either. */
static void update_blocked(struct session *s)
{
	bool blocked = s->waiting || s->out;

	if (s->sc.slot && s->sc.blocked != blocked) {
		s->sc.blocked = blocked;
		if (!blocked)
			slot_poll_wake();
	}
}

static void session_free(struct session *s)
{
	slot_free(s);
	pending_free(s);
	if (s->charged)
		vfio_user_uncharge(s->ctx.uid, VFIO_USER_CONNECTIONS);
	LIST_REMOVE(s, next);
	if (s->sock >= 0) {
		uvfio_loop_unwatch(s->sock);
		close(s->sock);
	}
	if (s->ctx.mm)
		vfio_mm_detach(s->ctx.mm);
	free(s);
}

static void out_timeout(void *arg, uint32_t events)
{
	struct session *s = arg;

	(void)events;
	s->out_timer = NULL;
	uvfio_dbg_rl("pid %d: reply not read in %d ms, dropping the channel", (int)s->ctx.pid,
		     REPLY_TIMEOUT_MS);
	session_free(s);
}

/* Where a reply's payload is best built: straight in the slot when the
 * request came from it. */
static uint8_t *reply_buf(struct session *s)
{
	return s->from_slot ? uvfio_slot_data(s->sc.slot) : out_buf;
}

static int send_sock_reply(struct session *s, const struct uvfio_rep *rep,
			   const void *payload, int fd);

/* Answers the request taken from the slot.  A reply that passes a
 * descriptor goes on the socket; the slot says so. */
static int send_slot_reply(struct session *s, const struct uvfio_rep *rep, const void *payload,
			   int fd)
{
	struct uvfio_slot *slot = s->sc.slot;
	int ret = 0;

	s->from_slot = false;
	slot->rep_flags = 0;
	if (fd >= 0) {
		ret = send_sock_reply(s, rep, payload, fd);
		if (!ret)
			slot->rep_flags = UVFIO_SLOT_REP_SOCKET;
		else
			slot->rep = (struct uvfio_rep){ .ret = -EIO };
	} else {
		slot->rep = *rep;
		if (rep->len && payload != uvfio_slot_data(slot))
			memcpy(uvfio_slot_data(slot), payload, rep->len);
	}
	uvfio_slot_complete(slot, s->slot_seq);
	return ret;
}

static int send_reply(struct session *s, const struct uvfio_rep *rep, const void *payload,
		      int fd)
{
	if (s->from_slot)
		return send_slot_reply(s, rep, payload, fd);
	return send_sock_reply(s, rep, payload, fd);
}

/* Sends a reply without ever waiting for the client: when its socket is full
 * the reply (and a dup of fd) waits for it to read.  0 or -errno. */
static int send_sock_reply(struct session *s, const struct uvfio_rep *rep,
			   const void *payload, int fd)
{
	struct pending_reply *p;
	int ret = uvfio_chan_reply(s->sock, rep, payload, fd);

	if (ret != -EAGAIN)
		return ret;
	p = malloc(sizeof(*p) + rep->len);
	if (!p)
		return -ENOMEM;
	p->rep = *rep;
	if (rep->len)
		memcpy(p->payload, payload, rep->len);
	p->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd >= 0 && p->fd < 0) {
		free(p);
		return -EMFILE;
	}
	s->out = p;
	s->out_timer = uvfio_timer_add(REPLY_TIMEOUT_MS, out_timeout, s);
	uvfio_loop_modify(s->sock, EPOLLOUT);
	update_blocked(s);
	return 0;
}

static int reply(struct session *s, long ret, const void *payload, uint32_t len,
		 struct vfio_file *f, int fd)
{
	struct uvfio_rep rep = { .ret = ret, .len = len };

	if (f) {
		rep.token = f->token;
		rep.type = f->ops->type;
	}
	return send_reply(s, &rep, payload, fd);
}

/* Hands a new file to the client; if it cannot be delivered, the file is
 * released as if the client had closed it at once. */
static void reply_new_file(struct session *s, long ret, struct vfio_file *f)
{
	int err = vfio_file_charge(f, s->ctx.uid);

	if (err) {
		vfio_file_abort(f);
		reply(s, err, NULL, 0, NULL, -1);
		return;
	}
	if (reply(s, ret, NULL, 0, f, f->peer_sock) < 0) {
		vfio_file_abort(f);
		return;
	}
	vfio_file_handed_over(f);
}

/* The N of a node name: a non-empty run of digits that fits an int. */
static int node_number(const char *p)
{
	char *end;
	long id;

	if (*p < '0' || *p > '9')
		return -ENOENT;
	id = strtol(p, &end, 10);
	if (*end || id < 0 || id > 0x7fffffff)
		return -ENOENT;
	return (int)id;
}

int session_open_node(const char *path, struct vfio_uctx *ctx, struct vfio_file **out)
{
	static const char cdev_prefix[] = "/dev/vfio/devices/vfio", vfio_prefix[] = "/dev/vfio/";
	int id;

	if (!strcmp(path, "/dev/vfio/vfio"))
		return vfio_container_open(ctx, out);
	if (!strcmp(path, "/dev/iommu"))
		return iommufd_fops_open(ctx, out);
	if (!strncmp(path, cdev_prefix, sizeof(cdev_prefix) - 1)) {
		id = node_number(path + sizeof(cdev_prefix) - 1);
		return id < 0 ? id : vfio_device_cdev_open(id, ctx, out);
	}
	if (strncmp(path, vfio_prefix, sizeof(vfio_prefix) - 1))
		return -ENOENT;
	id = node_number(path + sizeof(vfio_prefix) - 1);
	return id < 0 ? id : vfio_group_open(id, ctx, out);
}

static void do_open(struct session *s, struct uvfio_inmsg *m)
{
	char path[256];
	struct vfio_file *f = NULL;
	int ret;

	if (m->req.len == 0 || m->req.len >= sizeof(path)) {
		reply(s, -ENOENT, NULL, 0, NULL, -1);
		return;
	}
	memcpy(path, m->payload, m->req.len);
	path[m->req.len] = 0;
	ret = session_open_node(path, &s->ctx, &f);
	if (ret) {
		reply(s, ret, NULL, 0, NULL, -1);
		return;
	}
	reply_new_file(s, 0, f);
}

static void do_learn(struct session *s, struct uvfio_inmsg *m)
{
	struct vfio_file *f = m->nfds == 1 ? vfio_file_from_fd(m->fds[0]) : NULL;

	reply(s, f ? 0 : -EBADF, NULL, 0, f, -1);
}

static void do_ioctl(struct session *s, struct uvfio_inmsg *m, struct vfio_file *f)
{
	struct vfio_uarg ua = {
		.ctx = &s->ctx, .value = m->req.arg1,
		.attached = m->fds, .nattached = m->nfds,
	};
	struct uvfio_ioctl_wb wb = { 0 };
	int files[2 * UVFIO_MAX_FDS];
	long ret;

	if (uvfio_ioctl_decode(m->payload, m->req.len, m->nfds, &ua.msg)) {
		reply(s, -EPROTO, NULL, 0, NULL, -1);
		return;
	}
	/* backing files named by key: a miss asks the client to resend */
	ret = uarg_resolve_files(&ua, files);
	if (ret) {
		reply(s, ret, NULL, 0, NULL, -1);
		return;
	}
	/* Write-back buffer: starts as the user's bytes, handlers patch it. */
	ua.wb = out_buf + sizeof(wb);
	if (ua.msg.arg_len > sizeof(out_buf) - sizeof(wb)) {
		reply(s, -EPROTO, NULL, 0, NULL, -1);
		return;
	}
	memcpy(ua.wb, ua.msg.arg, ua.msg.arg_len);

	ret = f->ops->ioctl(f, (unsigned int)m->req.arg0, &ua);

	if (ua.wb_hi > ua.wb_lo) {
		wb.off = ua.wb_lo;
		wb.len = ua.wb_hi - ua.wb_lo;
		memmove(out_buf + sizeof(wb), ua.wb + wb.off, wb.len);
	}
	memcpy(out_buf, &wb, sizeof(wb));
	if (ua.new_file) {
		struct uvfio_rep rep = {
			.ret = ua.new_file_arg ? UVFIO_RET_FD_ARG : UVFIO_RET_FD,
			.len = (uint32_t)(sizeof(wb) + wb.len),
			.token = ua.new_file->token,
			.type = ua.new_file->ops->type | ua.new_file_arg << 16,
		};

		ret = vfio_file_charge(ua.new_file, s->ctx.uid);
		if (ret) {
			vfio_file_abort(ua.new_file);
			reply(s, ret, NULL, 0, NULL, -1);
		} else if (send_reply(s, &rep, out_buf, ua.new_file->peer_sock) < 0) {
			vfio_file_abort(ua.new_file);
		} else {
			vfio_file_handed_over(ua.new_file);
		}
		return;
	}
	reply(s, ret, out_buf, (uint32_t)(sizeof(wb) + wb.len), NULL, -1);
}

static void do_rw(struct session *s, struct uvfio_inmsg *m, struct vfio_file *f)
{
	bool write = m->req.flags & UVFIO_RW_WRITE;
	uint64_t off = m->req.arg0, count = m->req.arg1;
	uint64_t *ppos = (m->req.flags & UVFIO_RW_USE_POS) ? &f->pos : &off;
	ssize_t ret;

	if (count > UVFIO_RW_CHUNK || (write && m->req.len != count)) {
		reply(s, -EPROTO, NULL, 0, NULL, -1);
		return;
	}
	if (write) {
		struct uvfio_rw_posted window;
		struct uvfio_rep rep = { 0 };

		rep.ret = f->ops->write(f, m->payload, count, ppos);
		if (rep.ret == (int64_t)count && (m->req.flags & UVFIO_RW_ASK_POSTED) &&
		    ppos == &off && f->ops->write_posted &&
		    f->ops->write_posted(f, m->req.arg0, count, &window.start, &window.end)) {
			rep.type = UVFIO_RW_REP_POSTED;
			rep.len = sizeof(window);
		}
		send_reply(s, &rep, &window, -1);
		return;
	}
	ret = f->ops->read(f, reply_buf(s), count, ppos);
	reply(s, ret, reply_buf(s), ret > 0 ? (uint32_t)ret : 0, NULL, -1);
}

static void do_mmap(struct session *s, struct uvfio_inmsg *m, struct vfio_file *f)
{
	struct vfio_mmap_req req = {
		.offset = m->req.arg0, .length = m->req.arg1, .flags = m->req.flags, .fd = -1,
	};
	int ret = f->ops->mmap(f, &req);

	if (ret) {
		reply(s, ret, NULL, 0, NULL, -1);
		return;
	}
	reply(s, 0, &req.out, sizeof(req.out), NULL, req.fd);
}

/* The client's shim names its program image and, if it could open it, hands
 * over its own /proc/self/mem: from then on this session's DMA mappings reach
 * that address space and nothing else.  Without a checked descriptor the
 * session keeps an mm that reaches no memory. */
/* The client asked for a shared call slot and gave the eventfd it kicks us
 * with: the slot's memfd, or -errno (the client then uses the socket). */
static int slot_setup(struct session *s, int kick)
{
	int memfd = uvfio_slot_create(&s->sc.slot);
	int err;

	if (memfd < 0) {
		close(kick);
		return memfd;
	}
	s->sc.kick = kick;
	s->sc.blocked = false;
	err = slot_client_add(&s->sc);
	if (err) {
		close(kick);
		close(memfd);
		uvfio_slot_destroy(s->sc.slot);
		s->sc.slot = NULL;
		return err;
	}
	return memfd;
}

static void do_hello(struct session *s, struct uvfio_inmsg *m)
{
	bool want_slot = m->req.flags & UVFIO_HELLO_SLOT;
	unsigned int nmem = m->nfds - (want_slot ? 1 : 0);
	struct uvfio_hello hello;
	struct vfio_mm *mm;
	int memfd, slotfd = -1;

	if (s->hello || m->req.len != sizeof(hello) || (want_slot && !m->nfds) || nmem > 1) {
		reply(s, -EINVAL, NULL, 0, NULL, -1);
		return;
	}
	memcpy(&hello, m->payload, sizeof(hello));
	memfd = vfio_mm_open_image(s->ctx.pid, s->ctx.mm->pidfd, hello.image, hello.image_addr,
				   nmem ? m->fds[0] : -1);
	if (want_slot)
		slotfd = slot_setup(s, m->fds[nmem]);
	m->nfds = 0;		/* taken */
	mm = vfio_mm_attach(s->ctx.pid, s->ctx.uid, fcntl(s->ctx.mm->pidfd, F_DUPFD_CLOEXEC, 0),
			    hello.image, memfd < 0 ? -1 : memfd);
	if (!mm) {
		reply(s, -ENOMEM, NULL, 0, NULL, -1);
		return;
	}
	if (memfd < 0)
		uvfio_dbg("pid %d: no access to its memory: %s", (int)s->ctx.pid,
			  strerror(-memfd));
	vfio_mm_detach(s->ctx.mm);
	s->ctx.mm = mm;
	s->hello = true;
	reply(s, 0, NULL, 0, NULL, slotfd);
	if (slotfd >= 0)
		close(slotfd);
}

static void do_control(struct session *s, struct uvfio_inmsg *m)
{
	char cmd[512];

	if (m->req.len >= sizeof(cmd)) {
		reply(s, -E2BIG, NULL, 0, NULL, -1);
		return;
	}
	memcpy(cmd, m->payload, m->req.len);
	cmd[m->req.len] = 0;
	s->waiting = true;
	update_blocked(s);
	control_run(s, &s->ctx, cmd);
}

void session_complete_control(struct session *s, long ret, const char *text)
{
	s->waiting = false;
	update_blocked(s);
	if (s->dead) {
		session_free(s);
		return;
	}
	reply(s, ret, text, text ? (uint32_t)strlen(text) : 0, NULL, -1);
}

/* Performs one posted write; a bad one is dropped, as a device drops a
 * write it cannot take. */
static void perform_posted(const struct uvfio_posted *p)
{
	struct vfio_file *f = vfio_file_lookup_token(p->file);
	uint64_t off = p->offset, start, end;

	if (!f || !f->ops->write_posted || !f->ops->write_posted(f, off, p->len, &start, &end))
		return;
	vfio_file_get(f);
	f->ops->write(f, p->data, p->len, &off);
	vfio_file_put(f);
}

/* Performs the writes the client queued in its slot, in order.  A ring
 * index the client moved more than a ring ahead is a lie: nothing of it is
 * performed. */
static bool drain_posted(struct session *s)
{
	struct uvfio_slot *slot = s->sc.slot;
	uint32_t head = atomic_load_explicit(&slot->c.post_head, memory_order_acquire);
	uint32_t tail = s->sc.post_tail;

	if (head == tail)
		return false;
	if (head - tail > UVFIO_SLOT_POSTED)
		tail = head;
	while (tail != head) {
		struct uvfio_posted p;

		memcpy(&p, &slot->posted[tail % UVFIO_SLOT_POSTED], sizeof(p));
		atomic_signal_fence(memory_order_seq_cst);	/* use only the copy */
		tail++;
		perform_posted(&p);
	}
	s->sc.post_tail = tail;
	atomic_store_explicit(&slot->d.post_tail, tail, memory_order_release);
	return true;
}

/* Writes posted by any thread are performed before any later call (PCIe
 * orders posted writes before later reads), whoever makes it: a process that
 * learns of another's write (it exited, say) sees it too.  At most a ring
 * per slot. */
static void drain_all(void)
{
	struct session *s;

	LIST_FOREACH(s, &sessions, next)
		if (s->sc.slot)
			drain_posted(s);
}

static void handle(struct session *s, struct uvfio_inmsg *m)
{
	struct vfio_file *f = NULL;

	drain_all();
	switch (m->req.op) {
	case UVFIO_OP_HELLO:
		do_hello(s, m);
		return;
	case UVFIO_OP_OPEN:
		do_open(s, m);
		return;
	case UVFIO_OP_LEARN:
		do_learn(s, m);
		return;
	case UVFIO_OP_CONTROL:
		do_control(s, m);
		return;
	case UVFIO_OP_SYNC:
		/* the posted writes were performed above */
		reply(s, 0, NULL, 0, NULL, -1);
		return;
	case UVFIO_OP_FORGET:
		vfio_mm_forget_files(s->ctx.mm, m->payload, m->req.len);
		reply(s, 0, NULL, 0, NULL, -1);
		return;
	case UVFIO_OP_IOCTL:
	case UVFIO_OP_RW:
	case UVFIO_OP_MMAP:
	case UVFIO_OP_RELEASE_SYNC:
		f = vfio_file_lookup_token(m->req.file);
		break;
	default:
		reply(s, -EOPNOTSUPP, NULL, 0, NULL, -1);
		return;
	}
	if (m->req.op == UVFIO_OP_RELEASE_SYNC) {
		if (f)
			vfio_file_reap(f);
		reply(s, 0, NULL, 0, NULL, -1);
		return;
	}
	/* A call on a file the client already let go of: like a closed fd. */
	if (!f) {
		reply(s, -EBADF, NULL, 0, NULL, -1);
		return;
	}
	vfio_file_get(f);
	if (m->req.op == UVFIO_OP_IOCTL)
		do_ioctl(s, m, f);
	else if (m->req.op == UVFIO_OP_RW)
		do_rw(s, m, f);
	else
		do_mmap(s, m, f);
	vfio_file_put(f);
}

bool session_slot_serve(struct slot_client *sc)
{
	struct session *s = container_of(sc, struct session, sc);
	struct uvfio_slot *slot = sc->slot;
	struct uvfio_inmsg m = { .nfds = 0 };
	bool work = drain_posted(s);
	uint32_t seq;

	if (sc->blocked)
		return work;
	seq = atomic_load_explicit(&slot->c.req_seq, memory_order_acquire);
	if (seq == sc->seen)
		return work;
	sc->seen = seq;
	s->slot_seq = seq;
	s->from_slot = true;
	/* Copy, then look only at the copy: the client may change the slot
	 * at any time. */
	memcpy(&m.req, &slot->req, sizeof(m.req));
	atomic_signal_fence(memory_order_seq_cst);
	if (m.req.magic != UVFIO_WIRE_MAGIC || m.req.len > sizeof(in_buf) ||
	    m.req.op == UVFIO_OP_HELLO || m.req.op == UVFIO_OP_CONTROL) {
		reply(s, -EPROTO, NULL, 0, NULL, -1);
		return true;
	}
	memcpy(in_buf, uvfio_slot_data(slot), m.req.len);
	m.payload = in_buf;
	handle(s, &m);
	/* every path replies; should one not, the client must not hang */
	if (s->from_slot)
		reply(s, -EIO, NULL, 0, NULL, -1);
	return true;
}

static void session_event(void *arg, uint32_t events)
{
	struct session *s = arg;
	struct uvfio_inmsg m;
	int ret;

	if (s->out) {
		ret = uvfio_chan_reply(s->sock, &s->out->rep, s->out->payload, s->out->fd);
		if (ret == -EAGAIN)
			return;
		pending_free(s);
		if (ret < 0 || uvfio_loop_modify(s->sock, EPOLLIN) < 0) {
			session_free(s);
			return;
		}
	}
	(void)events;
	/* A few requests per wake-up: a client that pipelines many waits its
	 * turn behind the others (the watch is level-triggered). */
	for (int budget = SESSION_BUDGET; budget; budget--) {
		/* A control command in flight, or a reply not taken yet: the
		 * next request waits. */
		if (s->waiting || s->out)
			return;
		ret = uvfio_chan_recv(s->sock, &m, in_buf, sizeof(in_buf));
		if (ret == -EAGAIN)
			return;
		if (ret <= 0) {
			if (ret < 0)
				uvfio_dbg_rl("pid %d: dropping channel: %s", (int)s->ctx.pid,
					     strerror(-ret));
			if (s->waiting) {
				uvfio_loop_unwatch(s->sock);
				s->dead = true;
			} else {
				session_free(s);
			}
			return;
		}
		if (s->refuse) {
			reply(s, s->refuse, NULL, 0, NULL, -1);
			uvfio_inmsg_close_fds(&m);
			session_free(s);
			return;
		}
		handle(s, &m);
		uvfio_inmsg_close_fds(&m);
	}
}

/* The peer process as it was at connect (SO_PEERPIDFD), or by its pid. */
static int peer_pidfd(int fd, pid_t pid)
{
	int pidfd;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
		return pidfd;
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int session_adopt(int fd, const struct ucred *cred)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	LIST_INSERT_HEAD(&sessions, s, next);
	s->sock = fd;
	s->ctx.pid = cred->pid;
	s->ctx.uid = cred->uid;
	s->ctx.gid = cred->gid;
	s->refuse = vfio_user_charge(cred->uid, VFIO_USER_CONNECTIONS);
	s->charged = !s->refuse;
	/* until the client names its address space, none is reachable */
	s->ctx.mm = vfio_mm_attach(cred->pid, cred->uid, peer_pidfd(fd, cred->pid), NULL, -1);
	if (!s->ctx.mm || uvfio_loop_watch(fd, EPOLLIN, session_event, s) < 0) {
		s->sock = -1;
		session_free(s);
		return -ENOMEM;
	}
	return 0;
}

static void accept_event(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    session_adopt(fd, &cred) < 0)
			close(fd);
	}
}

int session_listen(int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t mask;
	int ret;

	/* bind() needs a path: name the directory by our descriptor of it,
	 * so no component of the path can be swapped under us. */
	ret = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	if (ret < 0 || ret >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		return -errno;
	/* A stale socket goes; unlinkat removes a symlink, never its target. */
	ret = unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	/* The node takes the socket's own mode less the umask: 0666 (the
	 * container node is open to all) with no chmod of a path after. */
	mask = umask(0);
	if (!ret && (fchmod(listen_fd, 0666) < 0 ||
		     bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0))
		ret = -errno;
	umask(mask);
	if (!ret && listen(listen_fd, 128) < 0)
		ret = -errno;
	if (ret) {
		close(listen_fd);
		listen_fd = -1;
		return ret;
	}
	snprintf(listen_path, sizeof(listen_path), "%s", sa.sun_path);
	return uvfio_loop_watch(listen_fd, EPOLLIN, accept_event, NULL);
}

void session_shutdown(void)
{
	while (!LIST_EMPTY(&sessions))
		session_free(LIST_FIRST(&sessions));
	if (listen_fd < 0)
		return;
	uvfio_loop_unwatch(listen_fd);
	close(listen_fd);
	unlink(listen_path);
	listen_fd = -1;
}
