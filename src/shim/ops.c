// SPDX-License-Identifier: MIT
/*
 * The daemon operations behind the interposed calls: each builds one request
 * (or a series of chunks), makes the round trip on the thread's channel and
 * turns the reply into what the kernel would have returned.  Descriptors the
 * daemon hands out are real kernel descriptors (sockets, memfds), registered
 * in the fd table before the program sees them.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


/* The channel broke: to the program this is an I/O error on the file,
 * unless its own buffer was at fault or its user has all the connections
 * it may. */
static int chan_errno(int err)
{
	return err == -EFAULT || err == -EMFILE ? err : -EIO;
}

static void close_quiet(int fd)
{
	int saved = errno;

	if (fd >= 0)
		REAL(close)(fd);
	errno = saved;
}

/* One round trip on the thread's channel: 0, or what the program sees of a
 * broken channel. */
static int call_daemon(struct uvfio_call *c)
{
	struct shim_chan *ch;
	int err;

	ch = shim_chan_get(&err);
	if (!ch)
		return chan_errno(err);
	err = shim_chan_call(ch, c);
	return err ? chan_errno(err) : 0;
}

static int register_fd(int fd, uint64_t token, uint32_t type, int minor)
{
	struct shim_fd ent = { .token = token, .type = type, .minor = minor };
	int err = shim_fd_set(fd, &ent);

	if (err) {
		close_quiet(fd);
		shim_op_release(token);
	}
	return err ? err : fd;
}

int shim_op_open(const char *path, int flags, int minor)
{
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_OPEN, .len = (uint32_t)strlen(path),
			 .arg0 = (uint32_t)flags },
		.payload = path,
		.rfd_cloexec = !!(flags & O_CLOEXEC),
	};
	int err = call_daemon(&c);

	if (err)
		return err;
	if (c.rep.ret < 0 || c.rfd < 0) {
		close_quiet(c.rfd);
		return c.rep.ret < 0 ? (int)c.rep.ret : -EIO;
	}
	return register_fd(c.rfd, c.rep.token, c.rep.type, minor);
}

int shim_op_learn(int fd, struct shim_fd *ent)
{
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_LEARN },
		.fds = &fd,
		.nfds = 1,
	};
	struct shim_chan *ch;
	int err;

	ch = shim_chan_get(&err);
	if (!ch || shim_chan_call(ch, &c))
		return 0;
	close_quiet(c.rfd);
	if (c.rep.ret != 0 || !c.rep.type)
		return 0;
	ent->token = c.rep.token;
	ent->type = c.rep.type;
	ent->minor = -1;
	return shim_fd_set(fd, ent) == 0;
}

void shim_op_release(uint64_t token)
{
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_RELEASE_SYNC, .file = token },
	};
	struct shim_chan *ch;
	int saved = errno, err;

	ch = shim_chan_get(&err);
	if (ch && !shim_chan_call(ch, &c))
		close_quiet(c.rfd);
	errno = saved;
}

/* A store the daemon said is posted (a PCIe memory write) is queued in the
 * slot and done: true with *ret.  False: the caller makes the call. */
static bool post_write(struct shim_chan *ch, const struct shim_fd *ent, const void *buf,
		       size_t count, int64_t off, ssize_t *ret)
{
	uint64_t data = 0;

	if ((count != 1 && count != 2 && count != 4 && count != 8) || (uint64_t)off % count)
		return false;
	if (shim_copy_safe(&data, buf, count)) {
		*ret = -EFAULT;
		return true;
	}
	if (!shim_chan_post(ch, ent->token, (uint64_t)off, data, (uint32_t)count))
		return false;
	*ret = (ssize_t)count;
	return true;
}

ssize_t shim_op_rw(const struct shim_fd *ent, void *buf, size_t count, int64_t off,
		   uint32_t flags)
{
	unsigned int gen = shim_chan_posted_gen();
	struct uvfio_rw_posted window;
	bool learned = false;
	struct shim_chan *ch;
	size_t done = 0;
	ssize_t err = 0;
	int cerr;

	ch = shim_chan_get(&cerr);
	if (!ch)
		return chan_errno(cerr);
	if (flags & UVFIO_RW_ASK_POSTED) {
		if (!shim_env()->posted || count > sizeof(uint64_t))
			flags &= ~UVFIO_RW_ASK_POSTED;
		else if (post_write(ch, ent, buf, count, off, &err))
			return err;
	}
	do {
		size_t n = count - done < UVFIO_RW_CHUNK ? count - done : UVFIO_RW_CHUNK;
		struct uvfio_call c = {
			.req = { .op = UVFIO_OP_RW, .flags = flags, .file = ent->token,
				 .arg0 = (uint64_t)off + done, .arg1 = n },
		};
		size_t got;

		/* Data goes straight between the program's buffer and the
		 * socket: a bad buffer fails the call with EFAULT. */
		if (flags & UVFIO_RW_WRITE) {
			c.payload = (uint8_t *)buf + done;
			c.req.len = (uint32_t)n;
			c.rbuf = &window;
			c.rbuf_cap = sizeof(window);
		} else {
			c.rbuf = (uint8_t *)buf + done;
			c.rbuf_cap = n;
		}
		cerr = shim_chan_call(ch, &c);
		if (cerr) {
			err = chan_errno(cerr);
			break;
		}
		close_quiet(c.rfd);
		if (c.rep.ret < 0) {
			err = c.rep.ret;
			break;
		}
		got = (size_t)c.rep.ret;
		if (!(flags & UVFIO_RW_WRITE) && got > c.rep.len)
			got = c.rep.len;
		if ((flags & UVFIO_RW_ASK_POSTED) && (c.rep.type & UVFIO_RW_REP_POSTED) &&
		    c.rep.len == sizeof(window)) {
			shim_chan_learn_posted(ch, ent->token, window.start, window.end, gen);
			learned = true;
		}
		if (got > n)
			got = n;
		done += got;
		if (got < n)
			break;
	} while (done < count);
	/* any other write (config space above all) may have turned memory
	 * decode off */
	if ((flags & UVFIO_RW_WRITE) && !learned)
		shim_chan_posted_forget();
	return done ? (ssize_t)done : err;
}

void shim_op_posted_fence(void)
{
	struct uvfio_call c = { .req = { .op = UVFIO_OP_SYNC } };
	int saved = errno;

	if (shim_chan_posted_pending() && call_daemon(&c) == 0)
		close_quiet(c.rfd);
	errno = saved;
}

/* One region access, safe in a signal handler: a handler that interrupted
 * this thread inside a call of its own must not interleave with it on the
 * thread's channel, so it makes its call on a connection of its own. */
ssize_t shim_op_rw_async(uint64_t token, void *buf, size_t count, int64_t off, bool write)
{
	struct shim_fd ent = { .token = token, .type = UVFIO_FILE_DEVICE };
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_RW, .file = token, .arg0 = (uint64_t)off,
			 .arg1 = count, .flags = write ? UVFIO_RW_WRITE : 0 },
	};
	int fd, err;

	/* a store is posted as a pwrite is */
	if (!shim_chan_busy())
		return shim_op_rw(&ent, buf, count, off,
				  write ? UVFIO_RW_WRITE | UVFIO_RW_ASK_POSTED : 0);
	if (write)
		shim_chan_posted_forget();
	if (write) {
		c.payload = buf;
		c.req.len = (uint32_t)count;
	} else {
		c.rbuf = buf;
		c.rbuf_cap = count;
	}
	fd = uvfio_chan_connect(shim_env()->sock);
	if (fd < 0)
		return -EIO;
	c.rfd = -1;
	err = uvfio_chan_call(fd, &c);
	REAL(close)(fd);
	if (err)
		return chan_errno(err);
	close_quiet(c.rfd);
	if (c.rep.ret < 0)
		return c.rep.ret;
	return c.rep.ret > (int64_t)count ? (ssize_t)count : (ssize_t)c.rep.ret;
}

/* The daemon's answer to an mmap of [off, off + len) of a device file: the
 * descriptor to map (or -errno) and where, in *mr. */
static int mmap_request(uint64_t token, int64_t off, size_t len, uint32_t flags,
			struct uvfio_mmap_reply *mr)
{
	struct uvfio_call c = {
		/* the kernel maps whole pages: vfio-pci checks the rounded length */
		.req = { .op = UVFIO_OP_MMAP, .file = token, .arg0 = (uint64_t)off,
			 .arg1 = (len + 4095) & ~(uint64_t)4095, .flags = flags },
		.rbuf = mr,
		.rbuf_cap = sizeof(*mr),
		.rfd_cloexec = 1,
	};
	int err = call_daemon(&c);

	if (err)
		return err;
	if (c.rep.ret < 0 || c.rfd < 0 || c.rep.len != sizeof(*mr) ||
	    mr->nr_traps > UVFIO_MMAP_MAX_TRAPS) {
		close_quiet(c.rfd);
		return c.rep.ret < 0 ? (int)c.rep.ret : -EIO;
	}
	return c.rfd;
}

void *shim_op_mmap(int fd, const struct shim_fd *ent, void *addr, size_t len, int prot,
		   int flags, int64_t off, int *err)
{
	uint32_t mflags = (prot & PROT_READ ? UVFIO_MMAP_READ : 0) |
			  (prot & PROT_WRITE ? UVFIO_MMAP_WRITE : 0) |
			  ((flags & MAP_TYPE) == MAP_SHARED ||
			   (flags & MAP_TYPE) == MAP_SHARED_VALIDATE ? UVFIO_MMAP_SHARED : 0);
	struct uvfio_mmap_reply mr;
	int mfd = mmap_request(ent->token, off, len, mflags, &mr);
	void *p;

	if (mfd < 0) {
		*err = mfd;
		return MAP_FAILED;
	}
	p = shim_mmio_map(fd, ent, addr, len, prot, flags, mfd, (uint64_t)off, &mr, err);
	close_quiet(mfd);
	return p;
}

int shim_op_bar_memory(uint64_t token, int64_t off, size_t len)
{
	struct uvfio_mmap_reply mr;

	return mmap_request(token, off, len, UVFIO_MMAP_SHARED, &mr);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* MAP_DMA names [vaddr, vaddr+size) of our memory: say what backs it, from
 * what we know of our mappings or else from the maps.  A zero or wrapping
 * size is left to the daemon to reject. */
static int describe_mem(const struct shim_ioctl_desc *d, const struct shim_ioctl_arg *a,
			struct shim_memdesc *md)
{
	uint64_t vaddr, size;
	int err;

	memset(md, 0, sizeof(*md));
	if (a->len < d->mem_va_off + sizeof(uint64_t) || a->len < d->mem_len_off + sizeof(uint64_t))
		return 0;
	vaddr = get_u64(a->bytes + d->mem_va_off);
	size = get_u64(a->bytes + d->mem_len_off);
	if (size == 0 || vaddr + size < vaddr)
		return 0;
	if (!shim_vma_describe(vaddr, size, md)) {
		err = shim_mem_describe(vaddr, size, md);
		if (err)
			return err;
		shim_vma_key_files(md);
	}
	shim_mmio_describe(md);
	return 0;
}

/* Stores the daemon's write-back into the argument; ret is the ioctl's
 * result so far, replaced by -EFAULT if the store fails. */
static long write_back(const struct uvfio_call *c, uint64_t arg, long ret)
{
	struct uvfio_ioctl_wb wb;

	if (c->rep.len < sizeof(wb))
		return ret;
	memcpy(&wb, c->rbuf, sizeof(wb));
	if (!wb.len)
		return ret;
	if (wb.len > c->rep.len - sizeof(wb))
		return -EIO;
	if (shim_copy_safe((void *)(uintptr_t)(arg + wb.off), (uint8_t *)c->rbuf + sizeof(wb),
			   wb.len))
		return -EFAULT;
	return ret;
}

/* Lays the call out in req: the descriptors the argument names, then those
 * of the memory description, whose segment and file indexes become indexes
 * of that list (files by key after the descriptors, ioctl_codec.h). */
static int encode_ioctl(struct uvfio_call *c, void *req, size_t reqcap,
			const struct shim_ioctl_arg *a, struct shim_memdesc *md, int *fds)
{
	uint32_t nfds = a->nattach + md->nfds, i;
	size_t size;

	if (nfds > UVFIO_MAX_FDS)
		return -E2BIG;
	size = uvfio_ioctl_encoded_size(a->nfds, md->nfiles, md->nsegs, a->len);
	if (size > reqcap)
		return -E2BIG;
	memcpy(fds, a->attach, a->nattach * sizeof(int));
	memcpy(fds + a->nattach, md->fds, md->nfds * sizeof(int));
	for (i = 0; i < md->nfiles; i++)
		if (md->files[i].attached >= 0)
			md->files[i].attached += (int32_t)a->nattach;
	for (i = 0; i < md->nsegs; i++) {
		int32_t *at = &md->segs[i].attached;

		if (*at >= SHIM_SEG_FILE(0))
			*at += (int32_t)nfds - SHIM_SEG_FILE(0);
		else if (*at >= 0)
			*at += (int32_t)a->nattach;
	}
	uvfio_ioctl_encode(req, a->flags, a->fds, a->nfds, md->files, md->nfiles, md->segs,
			   md->nsegs, a->bytes, a->len);
	c->req.len = (uint32_t)size;
	c->payload = req;
	c->fds = fds;
	c->nfds = nfds;
	return 0;
}

/*
 * Describes the memory the argument names, if any, and makes the call.  A
 * daemon that does not hold a file we named by key (it let it go, or another
 * address space of ours sent it) did nothing: the call is made again with
 * every file's descriptor, which it cannot refuse that way.
 */
static int ioctl_call(struct shim_chan *ch, struct uvfio_call *c, const struct shim_ioctl_desc *d,
		      struct shim_ioctl_arg *a)
{
	struct shim_memdesc md = { 0 };
	int fds[UVFIO_MAX_FDS];
	size_t reqcap;
	void *req = shim_chan_reqbuf(ch, &reqcap);
	int err;

	for (int attempt = 0;; attempt++) {
		err = d->mem_va_off ? describe_mem(d, a, &md) : 0;
		if (!err)
			err = encode_ioctl(c, req, reqcap, a, &md, fds);
		if (err)
			break;
		err = shim_chan_call(ch, c);
		if (err) {
			err = chan_errno(err);
			break;
		}
		if (c->rep.ret != UVFIO_RET_RESEND_FILES) {
			shim_vma_sent(&md, true);
			break;
		}
		close_quiet(c->rfd);
		shim_vma_sent(&md, false);
		shim_memdesc_release(&md);
		if (attempt)
			return -EIO;
		/* the argument was staged where the reply lands: take it back
		 * from the request */
		memcpy(a->bytes, (uint8_t *)req + c->req.len - a->len, a->len);
	}
	shim_memdesc_release(&md);
	return err;
}

long shim_op_ioctl(const struct shim_fd *ent, unsigned long cmd, unsigned long arg)
{
	const struct shim_ioctl_desc *d = shim_ioctl_lookup(cmd, ent->type);
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_IOCTL, .file = ent->token, .arg0 = cmd, .arg1 = arg },
		.rfd_cloexec = 1,
	};
	struct shim_ioctl_arg a;
	size_t reqcap, repcap;
	struct shim_chan *ch;
	long ret;
	int err;

	ch = shim_chan_get(&err);
	if (!ch)
		return chan_errno(err);
	c.rbuf = shim_chan_repbuf(ch, &repcap);
	c.rbuf_cap = repcap;
	if (!shim_chan_reqbuf(ch, &reqcap) || !c.rbuf)
		return -ENOMEM;
	/* The argument is staged in the reply buffer: it is encoded into the
	 * request before any reply arrives. */
	a.bytes = c.rbuf;
	err = shim_marshal_arg(d, arg, &a);
	if (!err)
		err = ioctl_call(ch, &c, d, &a);
	if (err)
		return err;

	if (c.rep.ret == UVFIO_RET_FD || c.rep.ret == UVFIO_RET_FD_ARG) {
		int32_t fd;

		if (c.rfd < 0)
			return -EIO;
		ret = write_back(&c, arg, 0);
		if (ret) {
			close_quiet(c.rfd);
			shim_op_release(c.rep.token);
			return ret;
		}
		fd = register_fd(c.rfd, c.rep.token, c.rep.type & 0xffff, -1);
		if (c.rep.ret == UVFIO_RET_FD || fd < 0)
			return fd;
		/* the number goes in the argument (a migration data_fd) */
		if (shim_user_write(arg + (c.rep.type >> 16), &fd, sizeof(fd))) {
			close(fd);
			return -EFAULT;
		}
		return 0;
	}
	close_quiet(c.rfd);
	/* Some failures still store a result (HOT_RESET_INFO's count with
	 * ENOSPC), so the write-back applies whatever ret is. */
	return write_back(&c, arg, (long)c.rep.ret);
}

void shim_op_forget(const struct uvfio_ioctl_file *keys, unsigned int n)
{
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_FORGET, .len = n * (uint32_t)sizeof(*keys) },
		.payload = keys,
	};
	int saved = errno;

	/* inside a call of this thread (a signal handler), the daemon keeps
	 * them until it needs the room or we go */
	if (!shim_chan_busy() && call_daemon(&c) == 0)
		close_quiet(c.rfd);
	errno = saved;
}
