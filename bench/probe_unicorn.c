/* SPDX-License-Identifier: MIT */
/*
 * Probes of the libunicorn this tree is built against, for the DESIGN K
 * rules the tcg backend's workarounds rest on (raw libunicorn, no ioreqvm
 * code). Each prints one line: what was measured and the figure.
 *   K4  regions one engine holds before libunicorn gives up (in a child:
 *       2.0.1 aborted the process at ~4094)
 *   K7  two engines on two threads doing LOCK INC on one shared page: lost
 *       increments (engines running at once are not atomic to each other)
 *   K8  code changed by the host after it was translated: does the engine
 *       run the stale code, and does uc_ctl_remove_cache (by the address
 *       the code runs at, identity-mapped here) drop it
 * Usage: probe_unicorn
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#define PAGE 4096ULL

/* K4: map one-page regions with a gap between them until a map fails or the process dies. */
static void probe_regions(void)
{
	int fd[2];
	if (pipe(fd))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		uc_engine *uc;
		close(fd[0]);
		if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
			_exit(2);
		for (uint32_t n = 0; n < 100000; n++) {
			if (uc_mem_map(uc, (uint64_t)n * 2 * PAGE, PAGE, UC_PROT_ALL))
				_exit(0);
			if (write(fd[1], &n, sizeof(n)) != sizeof(n))
				_exit(3);
		}
		_exit(0);
	}
	close(fd[1]);
	uint32_t n, last = 0;
	while (read(fd[0], &n, sizeof(n)) == sizeof(n))
		last = n + 1;
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	printf("K4: %u regions mapped, then %s\n", last,
	       WIFSIGNALED(st) ? "the process was killed by a signal (abort)"
			       : "uc_mem_map refused (no abort)");
}

/* K7: LOCK INC [0x2000] in a loop, ECX times; code at 0x1000, data shared. */
static const uint8_t lock_loop[] = {
	0xf0, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, /* lock incl 0x2000 */
	0xff, 0xc9,                                     /* dec ecx */
	0x75, 0xf4,                                     /* jnz -12 */
	0xf4,                                           /* hlt */
};
#define ITERS 2000000u

struct runner {
	uint8_t *code, *data;
};

static void *run_lock_loop(void *arg)
{
	struct runner *r = arg;
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return NULL;
	uc_mem_map_ptr(uc, 0x1000, PAGE, UC_PROT_ALL, r->code);
	uc_mem_map_ptr(uc, 0x2000, PAGE, UC_PROT_ALL, r->data);
	uint64_t ecx = ITERS;
	uc_reg_write(uc, UC_X86_REG_RCX, &ecx);
	uc_emu_start(uc, 0x1000, 0x1000 + sizeof(lock_loop) - 1, 0, 0);
	uc_close(uc);
	return NULL;
}

static void probe_atomics(void)
{
	uint8_t *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *data = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(code, lock_loop, sizeof(lock_loop));
	struct runner r = { code, data };
	pthread_t a, b;
	pthread_create(&a, NULL, run_lock_loop, &r);
	pthread_create(&b, NULL, run_lock_loop, &r);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	uint32_t got;
	memcpy(&got, data, 4);
	printf("K7: two engines at once, %u LOCK INCs each: counter %u, %u lost\n", ITERS, got,
	       2 * ITERS - got);
}

/*
 * K8: mov eax, imm32; jmp 0x1800, with "until" 0x1800: the block that
 * holds the immediate is not the one libunicorn drops at "until" (it
 * retranslates the block at until - 1 on every start). Run, patch the
 * immediate from the host, run again; then drop the code and run again.
 */
static void probe_stale_code(void)
{
	uint8_t code[] = { 0xb8, 0x11, 0x00, 0x00, 0x00, 0xe9, 0xf6, 0x07, 0x00, 0x00 };
	uint8_t *mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(mem, code, sizeof(code));
	mem[0x800] = 0xf4; /* hlt, never reached */
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	uc_mem_map_ptr(uc, 0x1000, PAGE, UC_PROT_ALL, mem);
	uint64_t rax[3];
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[0]);
	mem[1] = 0x22; /* the host changes the code */
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[1]);
	uc_ctl_remove_cache(uc, 0x1000, 0x100a);
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[2]);
	uc_close(uc);
	printf("K8: eax 0x%llx, after a host write 0x%llx (%s), after remove_cache 0x%llx (%s)\n",
	       (unsigned long long)rax[0], (unsigned long long)rax[1],
	       rax[1] == 0x11 ? "stale" : "new", (unsigned long long)rax[2],
	       rax[2] == 0x22 ? "new" : "still stale");
}

int main(void)
{
	unsigned major, minor, v = uc_version(&major, &minor);
	printf("libunicorn %u.%u.%u\n", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
	fflush(stdout);
	probe_stale_code();
	probe_atomics();
	fflush(stdout);
	probe_regions();
	return 0;
}
