// SPDX-License-Identifier: MIT
/*
 * One call channel per thread, so concurrent threads and forked children
 * never read each other's replies.  A channel is connected on the thread's
 * first call, closed by a TLS destructor when the thread exits, and dropped
 * in a fork child (the child reconnects as a process of its own).
 *
 * A thread may also call from a signal handler (a trapped register access,
 * src/shim/mmio.c): channels are allocated with mmap, not malloc, and a call
 * made while the thread is already inside one of its own (the handler
 * interrupted it) uses a connection of its own instead.
 *
 * Channel descriptors are entered in the fd table as SHIM_FD_CHANNEL: a
 * program that closes or dup2()s over "all its descriptors" then only makes
 * the owning thread reconnect, instead of sending requests into whatever file
 * reuses the number.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

/* Where the daemon said writes to a device file may be posted. */
struct post_window {
	uint64_t token, start, end;
	unsigned int gen;		/* post_gen when it was asked */
};

#define POST_WINDOWS	8

struct shim_chan {
	_Atomic int fd;			/* -1: connect on next use */
	_Atomic int kick;		/* the slot's eventfd; -1: none or lost */
	struct uvfio_slot *slot;	/* the shared call slot, if any */
	uint8_t *buf;			/* request + reply scratch, on demand */
	struct post_window windows[POST_WINDOWS];
	unsigned int next_window;
	LIST_ENTRY(shim_chan) link;
};

#define BUF_HALF	UVFIO_MAX_PAYLOAD

static LIST_HEAD(, shim_chan) chans = LIST_HEAD_INITIALIZER(chans);
static pthread_mutex_t chans_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t chan_once = PTHREAD_ONCE_INIT;
static pthread_key_t chan_key;
static __thread struct shim_chan *my_chan;
/* Non-zero while this thread is inside the channel code. */
static __thread volatile unsigned int chan_busy;

/*
 * The name of this program image: random, made anew in a fork child (and
 * by exec, which loads the shim afresh).  The daemon shares one address
 * space among the connections that name the same image of the same pid.
 */
static uint8_t image[UVFIO_IMAGE_LEN];
static _Atomic bool image_set;
static pthread_mutex_t image_lock = PTHREAD_MUTEX_INITIALIZER;

static void image_new(void)
{
	size_t got = 0;

	/* Unique, not secret: a client can only name images of its own pid. */
	while (got < sizeof(image)) {
		ssize_t n = getrandom(image + got, sizeof(image) - got, 0);

		if (n > 0) {
			got += (size_t)n;
		} else if (errno != EINTR) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			memcpy(image, &ts, sizeof(ts) < sizeof(image) ? sizeof(ts) : sizeof(image));
			break;
		}
	}
	atomic_store(&image_set, true);
}

static void close_ours(int fd)
{
	if (fd < 0)
		return;
	shim_fd_take(fd);
	REAL(close)(fd);
}

/* The slot is mapped MADV_DONTFORK: a fork child must not reach the daemon
 * through its parent's slot, and has none to unmap. */
static int slot_map(struct shim_chan *ch, int memfd)
{
	void *p = REAL(mmap)(NULL, UVFIO_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (madvise(p, UVFIO_SLOT_SIZE, MADV_DONTFORK) < 0) {
		int err = -errno;

		REAL(munmap)(p, UVFIO_SLOT_SIZE);
		return err;
	}
	ch->slot = p;
	return 0;
}

static void slot_unmap(struct shim_chan *ch, bool mapped)
{
	if (ch->slot && mapped)
		REAL(munmap)(ch->slot, UVFIO_SLOT_SIZE);
	ch->slot = NULL;
}

/* Caller holds chans_lock.  @mapped: false in a fork child. */
static void chan_disconnect(struct shim_chan *ch, bool mapped)
{
	close_ours(atomic_exchange(&ch->fd, -1));
	close_ours(atomic_exchange(&ch->kick, -1));
	slot_unmap(ch, mapped);
}

static void chan_free(struct shim_chan *ch, bool mapped)
{
	LIST_REMOVE(ch, link);
	chan_disconnect(ch, mapped);
	if (ch->buf)
		REAL(munmap)(ch->buf, 2 * BUF_HALF);
	REAL(munmap)(ch, sizeof(*ch));
}

static void chan_thread_exit(void *p)
{
	pthread_mutex_lock(&chans_lock);
	chan_free(p, true);
	pthread_mutex_unlock(&chans_lock);
	my_chan = NULL;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&chans_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&chans_lock);
}

/* The child holds copies of every thread's channel; only the forking
 * thread survives, and even its channel is the parent's stream.  Its address
 * space is a new one: a new image name. */
static void atfork_child(void)
{
	if (atomic_load(&image_set))
		image_new();
	struct shim_chan *ch = LIST_FIRST(&chans), *next;

	for (; ch; ch = next) {
		next = LIST_NEXT(ch, link);
		if (ch == my_chan)
			chan_disconnect(ch, false);
		else
			chan_free(ch, false);
	}
	pthread_mutex_unlock(&chans_lock);
}

static void chan_setup(void)
{
	pthread_key_create(&chan_key, chan_thread_exit);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}


/*
 * Names our address space to the daemon: the image, where it lies in our
 * memory, and our own /proc/self/mem, which reaches this address space and
 * no other, so the daemon needs no ptrace rights over us and loses access
 * when we exec or exit.  A process that changed its credentials cannot open
 * its own /proc/self/mem (it is no longer dumpable); then a daemon that may
 * opens it and proves it reached this image by finding the name there.
 */
static int chan_hello(int chan, struct shim_chan *ch, int kick)
{
	struct uvfio_hello hello = { .image_addr = (uintptr_t)image };
	struct uvfio_call c = {
		.req = { .op = UVFIO_OP_HELLO, .len = sizeof(hello) },
		.payload = &hello,
		.rfd_cloexec = 1,
	};
	int fds[2], mem, err;

	if (!atomic_load(&image_set)) {
		pthread_mutex_lock(&image_lock);
		if (!atomic_load(&image_set))
			image_new();
		pthread_mutex_unlock(&image_lock);
	}
	memcpy(hello.image, image, sizeof(hello.image));
	mem = REAL(open)("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (mem >= 0)
		fds[c.nfds++] = mem;
	if (kick >= 0) {
		fds[c.nfds++] = kick;
		c.req.flags = UVFIO_HELLO_SLOT;
	}
	c.fds = fds;
	err = uvfio_chan_call(chan, &c);
	if (mem >= 0)
		REAL(close)(mem);
	if (!err && c.rfd >= 0) {
		/* no slot (none asked, or the daemon had none): the socket */
		if (c.rep.ret == 0 && kick >= 0)
			slot_map(ch, c.rfd);
		REAL(close)(c.rfd);
	}
	/* over the user's connection limit: the daemon says so and hangs up */
	if (!err && c.rep.ret == -EMFILE)
		return -EMFILE;
	return err;
}

/* Moves a channel descriptor above the program's and enters it in the fd
 * table; the descriptor (perhaps renumbered) or -errno (closed). */
static int chan_fd_install(int fd, struct shim_chan *ch)
{
	struct shim_fd ent = { .type = SHIM_FD_CHANNEL, .minor = -1, .token = (uintptr_t)ch };
	int high = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, SHIM_FD_HIGH);
	int err;

	if (high >= 0) {
		REAL(close)(fd);
		fd = high;
	}
	err = shim_fd_set(fd, &ent);
	if (err) {
		REAL(close)(fd);
		return err;
	}
	return fd;
}

/* Connects, names our address space and, unless UVFIO_SLOT=0, sets up the
 * shared call slot.  Whatever was left of an earlier connection goes. */
static int chan_connect(struct shim_chan *ch)
{
	int fd, kick = -1, err;

	pthread_mutex_lock(&chans_lock);
	chan_disconnect(ch, true);
	pthread_mutex_unlock(&chans_lock);
	fd = uvfio_chan_connect(shim_env()->sock);
	if (fd < 0)
		return fd;
	if (shim_env()->slot)
		kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = chan_hello(fd, ch, kick);
	if (!err && kick >= 0 && ch->slot) {
		kick = chan_fd_install(kick, ch);
		if (kick < 0)
			err = kick;
	} else if (kick >= 0) {
		REAL(close)(kick);
		kick = -1;
	}
	if (!err) {
		fd = chan_fd_install(fd, ch);
		err = fd < 0 ? fd : 0;
	} else {
		REAL(close)(fd);
	}
	if (err) {
		pthread_mutex_lock(&chans_lock);
		close_ours(kick);
		slot_unmap(ch, true);
		pthread_mutex_unlock(&chans_lock);
		return err;
	}
	atomic_store(&ch->kick, kick);
	atomic_store(&ch->fd, fd);
	return 0;
}

/* Usable as it is: connected, and its slot's eventfd not closed under us. */
static bool chan_ok(struct shim_chan *ch)
{
	return atomic_load(&ch->fd) >= 0 && (!ch->slot || atomic_load(&ch->kick) >= 0);
}

struct shim_chan *shim_chan_get(int *err)
{
	struct shim_chan *ch = my_chan;

	if (!shim_active()) {
		*err = -ENODEV;
		return NULL;
	}
	pthread_once(&chan_once, chan_setup);
	chan_busy++;
	if (!ch) {
		ch = REAL(mmap)(NULL, sizeof(*ch), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ch == MAP_FAILED) {
			chan_busy--;
			*err = -ENOMEM;
			return NULL;
		}
		atomic_init(&ch->fd, -1);
		atomic_init(&ch->kick, -1);
		pthread_mutex_lock(&chans_lock);
		LIST_INSERT_HEAD(&chans, ch, link);
		pthread_mutex_unlock(&chans_lock);
		pthread_setspecific(chan_key, ch);
		my_chan = ch;
	}
	*err = chan_ok(ch) ? 0 : chan_connect(ch);
	chan_busy--;
	return *err ? NULL : ch;
}

bool shim_chan_busy(void)
{
	return chan_busy != 0;
}

static struct uvfio_slot_chan slot_chan(struct shim_chan *ch)
{
	return (struct uvfio_slot_chan){
		.sock = atomic_load(&ch->fd), .kick = atomic_load(&ch->kick),
		.slot = ch->slot, .copy = shim_copy_safe,
	};
}

int shim_chan_call(struct shim_chan *ch, struct uvfio_call *call)
{
	int err = 0;

	chan_busy++;
	if (!chan_ok(ch))
		err = chan_connect(ch);
	if (!err) {
		struct uvfio_slot_chan sc = slot_chan(ch);

		call->rfd = -1;
		err = uvfio_slot_call(&sc, call);
	}
	/* EFAULT: the user's buffer was bad; the message went whole or not at
	 * all, so the stream is still in step.  Anything else: start over. */
	if (err && err != -EFAULT) {
		pthread_mutex_lock(&chans_lock);
		chan_disconnect(ch, true);
		pthread_mutex_unlock(&chans_lock);
	}
	chan_busy--;
	return err;
}

static uint8_t *chan_buf(struct shim_chan *ch)
{
	if (!ch->buf) {
		void *p = REAL(mmap)(NULL, 2 * BUF_HALF, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		ch->buf = p;
	}
	return ch->buf;
}

void *shim_chan_reqbuf(struct shim_chan *ch, size_t *cap)
{
	uint8_t *b = chan_buf(ch);

	*cap = b ? BUF_HALF : 0;
	return b;
}

void *shim_chan_repbuf(struct shim_chan *ch, size_t *cap)
{
	uint8_t *b = chan_buf(ch);

	*cap = b ? BUF_HALF : 0;
	return b ? b + BUF_HALF : NULL;
}

void shim_chan_lost(int fd, const struct shim_fd *ent)
{
	struct shim_chan *ch;

	pthread_mutex_lock(&chans_lock);
	LIST_FOREACH(ch, &chans, link) {
		if ((uintptr_t)ch == ent->token) {
			/* The program closes the descriptor itself; the owner
			 * reconnects on its next call. */
			int sock = fd, kick = fd;

			atomic_compare_exchange_strong(&ch->fd, &sock, -1);
			atomic_compare_exchange_strong(&ch->kick, &kick, -1);
			break;
		}
	}
	pthread_mutex_unlock(&chans_lock);
}

/* ---- posted writes ---- */

/* Set by every post, cleared by a fence that found nothing queued. */
static atomic_bool posted_since_fence;
/* Bumped whenever this process may have changed whether a device decodes
 * memory (a config write, a reset): windows asked for before are void, so
 * the next write is made synchronously and fails as vfio-pci fails it. */
static atomic_uint post_gen;

unsigned int shim_chan_posted_gen(void)
{
	return atomic_load(&post_gen);
}

void shim_chan_posted_forget(void)
{
	atomic_fetch_add(&post_gen, 1);
}

void shim_chan_learn_posted(struct shim_chan *ch, uint64_t token, uint64_t start, uint64_t end,
			    unsigned int gen)
{
	struct post_window *w;

	for (unsigned int i = 0; i < POST_WINDOWS; i++) {
		w = &ch->windows[i];
		if (w->token == token && w->start == start && w->end == end) {
			w->gen = gen;
			return;
		}
	}
	w = &ch->windows[ch->next_window++ % POST_WINDOWS];
	*w = (struct post_window){ .token = token, .start = start, .end = end, .gen = gen };
}

bool shim_chan_post(struct shim_chan *ch, uint64_t token, uint64_t off, uint64_t data,
		    uint32_t len)
{
	unsigned int i, gen = atomic_load(&post_gen);
	bool posted = false;

	for (i = 0; i < POST_WINDOWS; i++) {
		const struct post_window *w = &ch->windows[i];

		if (w->token == token && w->gen == gen && off >= w->start && off < w->end &&
		    len <= w->end - off)
			break;
	}
	if (i == POST_WINDOWS)
		return false;
	/* A handler that interrupted this thread inside the channel code
	 * must not write to the ring under it. */
	if (chan_busy++ == 0 && ch->slot && chan_ok(ch)) {
		struct uvfio_slot_chan sc = slot_chan(ch);

		posted = uvfio_slot_post(&sc, token, off, &data, len);
		/* after the write is in the ring: a fence that cleared the
		 * flag before either sees the write or the flag */
		if (posted)
			atomic_store(&posted_since_fence, true);
	}
	chan_busy--;
	return posted;
}

bool shim_chan_posted_pending(void)
{
	struct shim_chan *ch;
	bool pending = false;

	if (!atomic_load_explicit(&posted_since_fence, memory_order_relaxed) ||
	    !atomic_exchange(&posted_since_fence, false))
		return false;
	pthread_mutex_lock(&chans_lock);
	LIST_FOREACH(ch, &chans, link) {
		struct uvfio_slot_chan sc = { .slot = ch->slot };

		if (uvfio_slot_posted_pending(&sc)) {
			pending = true;
			break;
		}
	}
	pthread_mutex_unlock(&chans_lock);
	return pending;
}
