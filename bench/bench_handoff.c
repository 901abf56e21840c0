/* SPDX-License-Identifier: MIT */
/*
 * P2 benchmark: one request handed from a vCPU thread to a device-model
 * process and back, without a CPU backend in the loop. A synthetic vCPU
 * thread calls the real exit path (io_dispatch on a built VM whose vCPUs
 * never run) for a port served by a real testdm process over libioreq; the
 * baselines, measured in the same run, are two processes doing a bare
 * shared-memory ping-pong (spinning), a futex ping-pong and an eventfd
 * ping-pong (both sides blocking), and a UNIX-socket request/response (the
 * way vfio-user forwards each access). Busy: requests back to back; idle:
 * requests 1 ms apart, so every sleeper has gone to sleep.
 * Usage: bench_handoff TESTDM [BACKEND] -> a Markdown table on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/dm_spawn.h"
#include "core/io_dispatch.h"
#include "core/vm.h"
#include "ctl/ctl_server.h"

#define BUSY_N 20000
#define IDLE_N 300
#define IDLE_GAP_US 1000

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void gap(void)
{
	struct timespec ts = { 0, IDLE_GAP_US * 1000L };
	nanosleep(&ts, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, p10, p90; /* ns */
};

static struct stat3 summarize(uint64_t *t, unsigned n)
{
	qsort(t, n, sizeof(*t), cmp_u64);
	return (struct stat3){ (double)t[n / 2], (double)t[n / 10], (double)t[n * 9 / 10] };
}

/* ---- baselines between two processes --------------------------------- */

struct shm {
	_Atomic uint32_t req, rep; /* each its own cache line below */
	char pad[56];
	_Atomic uint32_t rep2;
};

enum kind { SPIN, FUTEX, EVENTFD, SOCKET };

static void futex_wait_ne(_Atomic uint32_t *w, uint32_t v)
{
	while (atomic_load(w) == v)
		syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static struct stat3 pingpong(enum kind k, unsigned n, bool idle)
{
	struct shm *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int e1 = eventfd(0, 0), e2 = eventfd(0, 0), sv[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	memset(s, 0, sizeof(*s));
	pid_t pid = fork();
	if (pid == 0) {
		for (uint32_t i = 1; i <= n; i++) {
			uint64_t v;
			char buf[64];
			switch (k) {
			case SPIN:
				while (atomic_load(&s->req) != i)
					__builtin_ia32_pause();
				atomic_store(&s->rep2, i);
				break;
			case FUTEX:
				futex_wait_ne(&s->req, i - 1);
				atomic_store(&s->rep2, i);
				futex_wake(&s->rep2);
				break;
			case EVENTFD:
				if (read(e1, &v, 8) != 8 || write(e2, &v, 8) != 8)
					_exit(1);
				break;
			case SOCKET:
				if (recv(sv[1], buf, 32, 0) != 32 || send(sv[1], buf, 32, 0) != 32)
					_exit(1);
				break;
			}
		}
		_exit(0);
	}
	uint64_t *t = calloc(n, sizeof(*t));
	for (uint32_t i = 1; i <= n; i++) {
		if (idle)
			gap();
		uint64_t t0 = now_ns(), v = 1;
		char buf[32] = { 0 };
		switch (k) {
		case SPIN:
			atomic_store(&s->req, i);
			while (atomic_load(&s->rep2) != i)
				__builtin_ia32_pause();
			break;
		case FUTEX:
			atomic_store(&s->req, i);
			futex_wake(&s->req);
			futex_wait_ne(&s->rep2, i - 1);
			break;
		case EVENTFD:
			if (write(e1, &v, 8) != 8 || read(e2, &v, 8) != 8)
				abort();
			break;
		case SOCKET:
			if (send(sv[0], buf, 32, 0) != 32 || recv(sv[0], buf, 32, 0) != 32)
				abort();
			break;
		}
		t[i - 1] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	struct stat3 r = summarize(t, n);
	free(t);
	close(e1);
	close(e2);
	close(sv[0]);
	close(sv[1]);
	munmap(s, 4096);
	return r;
}

/* ---- the real path ----------------------------------------------------- */

static struct stat3 real_path(struct vm *vm, unsigned n, bool idle)
{
	uint64_t *t = calloc(n, sizeof(*t));
	struct vcpu *v = &vm->vcpus[0];
	for (unsigned i = 0; i < n; i++) {
		if (idle)
			gap();
		struct io_access a = { .space = IO_SPACE_PIO, .addr = 0x510, .size = 4,
				       .is_write = (i & 1) == 0, .data = i };
		uint64_t t0 = now_ns();
		io_dispatch(v, &a, IO_FROM_EXIT);
		t[i] = now_ns() - t0;
	}
	struct stat3 r = summarize(t, n);
	free(t);
	return r;
}

static void row(const char *what, struct stat3 s, double ref, const char *refname)
{
	printf("| %s | %.0f ns | %.0f-%.0f ns |", what, s.med, s.p10, s.p90);
	if (ref > 0)
		printf(" %.2fx %s |\n", s.med / ref, refname);
	else
		printf(" |\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_handoff TESTDM [BACKEND]\n");
		return 2;
	}
	char err[512], cmd[600], sock[108];
	struct vm vm;
	struct vm_config cfg = { .memory = 64 << 20, .nr_vcpus = 1,
				 .accel = argc > 2 ? argv[2] : "auto", .console_fd = 2 };
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_handoff: %s\n", err);
		return 1;
	}
	struct ctl_server cs;
	snprintf(sock, sizeof(sock), "/tmp/bench-handoff-%d.sock", (int)getpid());
	struct dm_child dm;
	snprintf(cmd, sizeof(cmd), "%s --port 0x510:0x513", argv[1]);
	if (ctl_server_start(&cs, &vm, sock, err, sizeof(err)) ||
	    dm_spawn(&cs, cmd, sock, NULL, &dm, 10000, err, sizeof(err))) {
		fprintf(stderr, "bench_handoff: %s\n", err);
		return 1;
	}
	struct stat3 spin_b = pingpong(SPIN, BUSY_N, false);
	struct stat3 real_b = real_path(&vm, BUSY_N, false);
	struct stat3 sock_b = pingpong(SOCKET, BUSY_N, false);
	struct stat3 futex_i = pingpong(FUTEX, IDLE_N, true);
	struct stat3 efd_i = pingpong(EVENTFD, IDLE_N, true);
	struct stat3 real_i = real_path(&vm, IDLE_N, true);
	struct stat3 sock_i = pingpong(SOCKET, IDLE_N, true);

	printf("| round trip | median | p10-p90 | vs baseline |\n|---|---|---|---|\n");
	row("busy: bare shared-memory ping-pong (2 processes, spinning)", spin_b, 0, "");
	row("busy: ioreqvm exit path -> testdm -> back", real_b, spin_b.med, "spin ping-pong (P2: <= 2x)");
	row("busy: UNIX socket request/response (vfio-user style)", sock_b, spin_b.med, "spin ping-pong");
	row("idle: bare futex ping-pong (both sides block)", futex_i, 0, "");
	row("idle: bare eventfd ping-pong (both sides block)", efd_i, 0, "");
	double wake = futex_i.med < efd_i.med ? futex_i.med : efd_i.med;
	row("idle: ioreqvm exit path -> testdm -> back", real_i, wake, "best bare wake-up ping-pong (P2: <= 1.2x)");
	row("idle: UNIX socket request/response", sock_i, wake, "best bare wake-up ping-pong");

	ctl_server_stop(&cs);
	dm_reap(&dm, 2000);
	vm_destroy(&vm);
	return 0;
}
