// SPDX-License-Identifier: MIT
/*
 * secret_holder ADDR CHILD: what test_exec_memory execs into, setuid root.
 * Puts a secret at ADDR (where the program before the exec had DMA-mapped
 * memory), says so on fd 3, waits for CHILD (which tries to reach ADDR
 * through the device), and exits with CHILD's verdict, failing as well if
 * the secret changed.  No preload shim: a plain program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char secret[] = "SECRET of a setuid-root program";

int main(int argc, char **argv)
{
	void *addr;
	pid_t child;
	int status = 0;
	char *p;

	if (argc != 3)
		return 2;
	unlink(argv[0]);	/* the test's temporary setuid copy */
	addr = (void *)(uintptr_t)strtoull(argv[1], NULL, 0);
	child = (pid_t)atoi(argv[2]);
	p = mmap(addr, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != addr) {
		fprintf(stderr, "secret_holder: cannot map %p\n", addr);
		return 2;
	}
	memcpy(p, secret, sizeof(secret));
	if (write(3, "r", 1) != 1)
		return 2;
	close(3);
	if (waitpid(child, &status, 0) != child)
		return 2;
	if (memcmp(p, secret, sizeof(secret))) {
		fprintf(stderr, "FAIL: the device wrote into the setuid program\n");
		return 1;
	}
	printf("secret_holder (euid %d): secret intact\n", (int)geteuid());
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
