// SPDX-License-Identifier: MIT
/*
 * ioctls by command.  Each input gets a fresh set of open files, made the
 * way a driver makes them (container + groups 10 and 11 + type1v2; the
 * device files of 0000:10:00.0 edu and 0000:10:01.0 ramdev; an iommufd with
 * an IOAS; the cdev of 0000:10:04.0 ioat bound to it and attached), then a
 * sequence of fuzzed operations on them through the wire path, encoded as the
 * shim encodes them.
 *
 * Input: operations of [file:u8][cmd:u8][mode:u8][len:u16 LE][len bytes].
 *   file  which open file (mod the set above)
 *   cmd   an ioctl of the list below, or a region read, write or mmap
 *   mode  bits 0-1: codec flags (ARG_FAULT, TAIL_NONZERO)
 *         bits 2-3: what backs the memory a MAP_DMA/IOAS_MAP names: none,
 *                   process memory, the attached memfd, a hole
 *         bit 4:    the first 8 bytes are ioctl()'s raw value (arg1)
 *         bits 5-7: read/write: bit 5 uses f_pos; mmap: UVFIO_MMAP_* flags
 *   bytes the argument; for read/write/mmap: offset:u64, then count:u32
 *         (read) or the data (write) or length:u64 (mmap)
 * Descriptor numbers 100..107 in an argument name the attached pool below;
 * 99 names a closed descriptor.
 */
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_daemon.h"
#include "transport/ioctl_codec.h"
#include "uvfio/vfio_cdev.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_CONTAINER, F_GROUP10, F_GROUP11, F_EDU, F_RAMDEV, F_IOMMUFD, F_CDEV, NR_FILES };

struct ofile {
	uint64_t token;
	int fd;
};

static const unsigned long cmds[] = {
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER,
	VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET, VFIO_DEVICE_IOEVENTFD,
	VFIO_DEVICE_FEATURE, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
	VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA,
	VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_DIRTY_PAGES,
	IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_ALLOW_IOVAS,
	IOMMU_IOAS_MAP, IOMMU_IOAS_MAP_FILE, IOMMU_IOAS_COPY, IOMMU_IOAS_UNMAP, IOMMU_OPTION,
	IOMMU_VFIO_IOAS, IOMMU_HWPT_ALLOC, IOMMU_GET_HW_INFO, IOMMU_HWPT_SET_DIRTY_TRACKING,
	IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_INVALIDATE, IOMMU_FAULT_QUEUE_ALLOC,
	IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC,
};
#define NR_CMDS		(sizeof(cmds) / sizeof(cmds[0]))
#define CMD_READ	NR_CMDS
#define CMD_WRITE	(NR_CMDS + 1)
#define CMD_MMAP	(NR_CMDS + 2)

enum { P_EVENTFD0, P_EVENTFD1, P_CONTAINER, P_IOMMUFD, P_MEMFD, P_GROUP10, P_EDU, P_GROUP11,
       NR_POOL };
#define POOL_FD_BASE	100
#define CLOSED_FD	99
#define MEMFD_SIZE	(256 * 1024)

static struct ofile files[NR_FILES];
static int trace;		/* UVFIO_FUZZ_TRACE=1: print each operation's result */
static int pool[NR_POOL];
static uint8_t rbuf[UVFIO_MAX_PAYLOAD];
static uint8_t enc[UVFIO_MAX_PAYLOAD];
static char cdev_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_daemon_init();
	trace = getenv("UVFIO_FUZZ_TRACE") != NULL;
	return 0;
}

static int64_t call(int sock, struct uvfio_req *req, const void *payload, const int *fds,
		    unsigned int nfds, struct ofile *out)
{
	struct uvfio_rep rep;
	int rfd;
	int64_t ret = fz_call(sock, req, payload, fds, nfds, &rep, rbuf, sizeof(rbuf), &rfd);

	if (out) {
		out->token = rfd >= 0 ? rep.token : 0;
		out->fd = rfd;
	}
	return ret;
}

static int64_t do_open(int sock, const char *path, struct ofile *out)
{
	struct uvfio_req req = { .op = UVFIO_OP_OPEN, .len = (uint32_t)strlen(path),
				 .arg0 = 2 /* O_RDWR */ };

	return call(sock, &req, path, NULL, 0, out);
}

/* An ioctl as the shim sends it, with the descriptor pool attached. */
static int64_t do_ioctl(int sock, const struct ofile *f, unsigned long cmd, uint64_t value,
			uint32_t flags, const struct uvfio_mem_seg *segs, uint32_t nsegs,
			const void *arg, uint32_t len, struct ofile *out)
{
	struct uvfio_ioctl_fd fds[NR_POOL + 1];
	struct uvfio_req req = { .op = UVFIO_OP_IOCTL, .file = f->token, .arg0 = cmd,
				 .arg1 = value };
	size_t size = uvfio_ioctl_encoded_size(NR_POOL + 1, 0, nsegs, len);

	if (size > 8192)
		return -1;
	for (int i = 0; i < NR_POOL; i++)
		fds[i] = (struct uvfio_ioctl_fd){ .user_fd = POOL_FD_BASE + i, .attached = i };
	fds[NR_POOL] = (struct uvfio_ioctl_fd){ .user_fd = CLOSED_FD, .attached = -1 };
	uvfio_ioctl_encode(enc, flags, fds, NR_POOL + 1, NULL, 0, segs, nsegs, arg, len);
	req.len = (uint32_t)size;
	return call(sock, &req, enc, pool, NR_POOL, out);
}

/* The cdev of 0000:10:04.0, found as a program finds it: `uvfio ls`. */
static void find_cdev(int sock)
{
	struct uvfio_req req = { .op = UVFIO_OP_CONTROL, .len = 2 };
	struct uvfio_rep rep;
	int rfd, n;
	char *line;

	if (fz_call(sock, &req, "ls", NULL, 0, &rep, rbuf, sizeof(rbuf) - 1, &rfd) < 0)
		abort();
	rbuf[rep.len < sizeof(rbuf) ? rep.len : sizeof(rbuf) - 1] = 0;
	line = strstr((char *)rbuf, "0000:10:04.0");
	/* DEVICE ID MODEL GROUP DRIVER CDEV STATE */
	if (!line || sscanf(line, "%*s %*s %*s %*d %*s vfio%d", &n) != 1) {
		fprintf(stderr, "fuzz: no cdev for 0000:10:04.0 in:\n%s\n", (char *)rbuf);
		abort();
	}
	snprintf(cdev_path, sizeof(cdev_path), "/dev/vfio/devices/vfio%d", n);
}

static void must(int64_t ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "fuzz: setting up %s: %lld\n", what, (long long)ret);
		abort();
	}
}

static void setup(int sock)
{
	int32_t v;
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind),
						 .iommufd = POOL_FD_BASE + P_IOMMUFD };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	if (!cdev_path[0])
		find_cdev(sock);
	must(do_open(sock, "/dev/vfio/vfio", &files[F_CONTAINER]), "container");
	must(do_open(sock, "/dev/vfio/10", &files[F_GROUP10]), "group 10");
	must(do_open(sock, "/dev/vfio/11", &files[F_GROUP11]), "group 11");
	must(do_open(sock, "/dev/iommu", &files[F_IOMMUFD]), "iommufd");
	must(do_open(sock, cdev_path, &files[F_CDEV]), "cdev");

	pool[P_EVENTFD0] = eventfd(0, EFD_CLOEXEC);
	pool[P_EVENTFD1] = eventfd(0, EFD_CLOEXEC);
	pool[P_MEMFD] = memfd_create("fuzz", MFD_CLOEXEC);
	if (pool[P_MEMFD] < 0 || ftruncate(pool[P_MEMFD], MEMFD_SIZE) < 0)
		abort();
	pool[P_CONTAINER] = files[F_CONTAINER].fd;
	pool[P_IOMMUFD] = files[F_IOMMUFD].fd;
	pool[P_GROUP10] = files[F_GROUP10].fd;
	pool[P_GROUP11] = files[F_GROUP11].fd;
	pool[P_EDU] = pool[P_EVENTFD0];	/* until the edu device is open */

	v = POOL_FD_BASE + P_CONTAINER;
	must(do_ioctl(sock, &files[F_GROUP10], VFIO_GROUP_SET_CONTAINER, 0, 0, NULL, 0,
		      &v, sizeof(v), NULL), "SET_CONTAINER 10");
	must(do_ioctl(sock, &files[F_GROUP11], VFIO_GROUP_SET_CONTAINER, 0, 0, NULL, 0,
		      &v, sizeof(v), NULL), "SET_CONTAINER 11");
	must(do_ioctl(sock, &files[F_CONTAINER], VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU, 0, NULL, 0,
		      NULL, 0, NULL), "SET_IOMMU");
	must(do_ioctl(sock, &files[F_GROUP10], VFIO_GROUP_GET_DEVICE_FD, 0, 0, NULL, 0,
		      "0000:10:00.0", 13, &files[F_EDU]), "edu");
	/* The pool must be complete before the first fuzzed call: the edu fd
	 * stands in for "a descriptor of ours that is not the right kind". */
	pool[P_EDU] = files[F_EDU].fd;
	must(do_ioctl(sock, &files[F_GROUP11], VFIO_GROUP_GET_DEVICE_FD, 0, 0, NULL, 0,
		      "0000:10:01.0", 13, &files[F_RAMDEV]), "ramdev");
	must(do_ioctl(sock, &files[F_CDEV], VFIO_DEVICE_BIND_IOMMUFD, 0, 0, NULL, 0, &bind,
		      sizeof(bind), NULL), "BIND_IOMMUFD");
	/* The IOAS id comes back in the write-back: [wb][bytes at wb.off]. */
	{
		struct uvfio_ioctl_wb wb;

		must(do_ioctl(sock, &files[F_IOMMUFD], IOMMU_IOAS_ALLOC, 0, 0, NULL, 0, &ia,
			      sizeof(ia), NULL), "IOAS_ALLOC");
		memcpy(&wb, rbuf, sizeof(wb));
		if (wb.off > offsetof(struct iommu_ioas_alloc, out_ioas_id) ||
		    wb.off + wb.len < sizeof(ia))
			abort();
		memcpy(&at.pt_id, rbuf + sizeof(wb) +
		       offsetof(struct iommu_ioas_alloc, out_ioas_id) - wb.off, sizeof(at.pt_id));
	}
	must(do_ioctl(sock, &files[F_CDEV], VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0, 0, NULL, 0, &at,
		      sizeof(at), NULL), "ATTACH_IOMMUFD_PT");
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* What backs the memory a mapping ioctl names, as the shim describes it. */
static uint32_t describe(unsigned long cmd, unsigned int how, const uint8_t *arg, uint32_t len,
			 struct uvfio_mem_seg *seg)
{
	size_t va_off, len_off;

	if (cmd == VFIO_IOMMU_MAP_DMA) {
		va_off = offsetof(struct vfio_iommu_type1_dma_map, vaddr);
		len_off = offsetof(struct vfio_iommu_type1_dma_map, size);
	} else if (cmd == IOMMU_IOAS_MAP) {
		va_off = offsetof(struct iommu_ioas_map, user_va);
		len_off = offsetof(struct iommu_ioas_map, length);
	} else {
		return 0;
	}
	if (!how || len < va_off + 8 || len < len_off + 8)
		return 0;
	*seg = (struct uvfio_mem_seg){
		.vaddr = get_u64(arg + va_off), .len = get_u64(arg + len_off), .attached = -1,
		.flags = UVFIO_SEG_PROT_READ | UVFIO_SEG_PROT_WRITE,
	};
	if (!seg->len || seg->vaddr + seg->len < seg->vaddr)
		return 0;
	if (how == 2) {
		seg->attached = P_MEMFD;
		seg->flags |= UVFIO_SEG_SHARED;
	} else if (how == 3) {
		seg->flags = UVFIO_SEG_HOLE;
	}
	return 1;
}

static void one_op(int sock, uint8_t fsel, uint8_t csel, uint8_t mode, const uint8_t *arg,
		   uint32_t len)
{
	const struct ofile *f = &files[fsel % NR_FILES];
	unsigned int c = csel % (NR_CMDS + 3);
	struct uvfio_req req = { .file = f->token };
	struct ofile out;
	int64_t ret;

	if (c == CMD_READ || c == CMD_WRITE || c == CMD_MMAP) {
		if (len < 8)
			return;
		req.arg0 = get_u64(arg);
		arg += 8;
		len -= 8;
		if (c == CMD_MMAP) {
			req.op = UVFIO_OP_MMAP;
			req.arg1 = len >= 8 ? get_u64(arg) : 4096;
			req.flags = mode >> 5;
		} else if (c == CMD_READ) {
			uint32_t count = 0;

			memcpy(&count, arg, len < 4 ? len : 4);
			req.op = UVFIO_OP_RW;
			req.arg1 = count % (UVFIO_RW_CHUNK + 2);
			req.flags = (mode & 0x20) ? UVFIO_RW_USE_POS : 0;
		} else {
			req.op = UVFIO_OP_RW;
			req.arg1 = len;
			req.len = len;
			req.flags = UVFIO_RW_WRITE | ((mode & 0x20) ? UVFIO_RW_USE_POS : 0);
		}
		ret = call(sock, &req, arg, NULL, 0, &out);
		if (trace)
			fprintf(stderr, "file %u op %u: %lld\n", fsel % NR_FILES, c, (long long)ret);
		return;
	}

	uint64_t value = 0x10000;	/* a user pointer, never dereferenced */
	struct uvfio_mem_seg seg;
	uint32_t nsegs;

	if ((mode & 0x10) && len >= 8) {
		value = get_u64(arg);
		arg += 8;
		len -= 8;
	}
	nsegs = describe(cmds[c], (mode >> 2) & 3, arg, len, &seg);
	ret = do_ioctl(sock, f, cmds[c], value, mode & 3, &seg, nsegs, arg, len, &out);
	if (trace)
		fprintf(stderr, "file %u ioctl %#lx: %lld\n", fsel % NR_FILES, cmds[c], (long long)ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sock = fz_session();

	setup(sock);
	while (size >= 5) {
		uint32_t len = (uint32_t)data[3] | (uint32_t)data[4] << 8;

		if (len > size - 5)
			len = (uint32_t)(size - 5);
		one_op(sock, data[0], data[1], data[2], data + 5, len);
		data += 5 + len;
		size -= 5 + len;
	}
	close(pool[P_EVENTFD0]);
	close(pool[P_EVENTFD1]);
	close(pool[P_MEMFD]);
	fz_end(sock);
	return 0;
}
