// SPDX-License-Identifier: MIT
/*
 * DMA mappings are bound to the address space that made them, not to its
 * pid.  An unprivileged user maps private memory for edu's DMA, forks a
 * child that keeps the device, and execs a setuid-root program that puts a
 * secret at the same address.  The child then has the device read and
 * write that IOVA: both must fault, the secret must neither leave the
 * program nor change (secret_holder checks, and gives the verdict).
 *
 * Needs root (to drop to nobody and to make the helper setuid): skipped,
 * exit 77, otherwise.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vfio_util.h"

#define SECRET_ADDR	0x6f0000000000ull
#define SECRET_IOVA	0x1000000ull
#define OWN_IOVA	0x2000000ull

/* The child: the device reaches its own memory, never the exec'd program's.
 * The device buffer holds what the parent mapped ('A'). */
static int child_probe(int container, int dev, int ready)
{
	uint8_t *own = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	char c;

	REQUIRE(read(ready, &c, 1) == 1, "the program did not start");
	/* write into what was the parent's memory: the program's secret is there */
	edu_dma(dev, EDU_BUF, SECRET_IOVA, 4096, 1);
	/* read it, and bring it into our own memory to look */
	edu_dma(dev, SECRET_IOVA, EDU_BUF, 4096, 0);
	memset(own, 'X', 4096);
	CHECK_OK(map_dma(container, own, OWN_IOVA, 4096,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	edu_dma(dev, EDU_BUF, OWN_IOVA, 4096, 1);
	CHECK(!memmem(own, 4096, "SECRET", 6), "the device read the setuid program's memory");
	CHECK(own[0] == 'A' && own[4095] == 'A', "the faulting read left the device's buffer as "
	      "it was: %#x", own[0]);
	return harness_done("exec-memory (child)");
}

int main(int argc, char **argv)
{
	char helper[] = "/tmp/uvfio-secret-XXXXXX", addr[32], pid[16];
	struct vfio_setup s;
	int pipefd[2], in, out;
	uint8_t *buf, copy[8192];
	ssize_t n;
	pid_t child;

	if (argc != 2)
		return 2;
	if (geteuid() != 0) {
		printf("SKIP: needs root to make a setuid helper and drop to nobody\n");
		return 77;
	}
	/* a setuid-root copy of the helper, where exec honours setuid */
	in = open(argv[1], O_RDONLY);
	out = mkstemp(helper);
	REQUIRE(in >= 0 && out >= 0, "helper copy: %s", strerror(errno));
	while ((n = read(in, copy, sizeof(copy))) > 0)
		REQUIRE(write(out, copy, (size_t)n) == n, "helper copy");
	close(in);
	REQUIRE(fchown(out, 0, 0) == 0 && fchmod(out, 04755) == 0, "setuid helper");
	close(out);

	setup_device(&s, EDU_GROUP, EDU_BDF, VFIO_TYPE1v2_IOMMU);
	enable_device(s.device);
	/* from here on an unprivileged user */
	REQUIRE(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0,
		"drop to nobody");
	buf = mmap((void *)SECRET_ADDR, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	REQUIRE(buf == (void *)SECRET_ADDR, "map at %#llx", SECRET_ADDR);
	memset(buf, 'A', 4096);
	REQUIRE(map_dma(s.container, buf, SECRET_IOVA, 4096,
			VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) == 0,
		"MAP_DMA: %s", strerror(errno));
	/* the mapping works while this program lives: the device buffer gets 'A' */
	edu_dma(s.device, SECRET_IOVA, EDU_BUF, 4096, 0);
	REQUIRE(pipe(pipefd) == 0, "pipe");
	child = fork();
	REQUIRE(child >= 0, "fork");
	if (!child) {
		close(pipefd[1]);
		int failed = child_probe(s.container, s.device, pipefd[0]);

		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	close(pipefd[0]);
	REQUIRE(dup2(pipefd[1], 3) == 3, "fd 3");
	snprintf(addr, sizeof(addr), "%#llx", SECRET_ADDR);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	unsetenv("LD_PRELOAD");
	execl(helper, helper, addr, pid, (char *)NULL);
	fprintf(stderr, "exec %s: %s\n", helper, strerror(errno));
	return 1;
}
