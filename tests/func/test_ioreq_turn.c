/* SPDX-License-Identifier: MIT */
/*
 * K13 and the turn hold of ioreq_send (argv: BACKEND TESTDM): a vCPU
 * waiting for a device model that takes 5 ms per request passes its
 * execution turn on (vcpu_block(true)), but only after it waited
 * IOREQ_TURN_HOLD_NS, and takes it back (vcpu_block(false)) before the
 * access completes with the model's answer. The backend's vcpu_block is
 * replaced by a recorder; the requests go through the real exit path to a
 * real testdm process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/dm_spawn.h"
#include "core/io_dispatch.h"
#include "core/vm.h"
#include "ctl/ctl_server.h"
#include "ioreq/ioreq_send.h"

#define MAX_CALLS 16

static const char *backend, *testdm;
static struct vm vm;
static struct cpu_backend_ops ops;
static struct ctl_server cs;
static struct dm_child dm;
static char path[108];

static struct {
	unsigned n;
	bool blocked[MAX_CALLS];
	uint64_t at_ns[MAX_CALLS];
} calls;
static uint64_t request_start;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record_block(struct vcpu *vcpu, bool blocked)
{
	if (calls.n < MAX_CALLS) {
		calls.blocked[calls.n] = blocked;
		calls.at_ns[calls.n] = now_ns() - request_start;
	}
	calls.n++;
}

static int setup(void **state)
{
	char err[512], cmd[600];
	struct vm_config cfg = { .memory = 64 << 20, .nr_vcpus = 1, .accel = backend,
				 .console_fd = 2 };
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	ops = *vm.ops;
	ops.vcpu_block = record_block;
	vm.ops = &ops;
	snprintf(path, sizeof(path), "/tmp/ioreqvm-turn-%d.sock", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s --port 0x510:0x513 --sleep-ms 5", testdm);
	if (ctl_server_start(&cs, &vm, path, err, sizeof(err)) ||
	    dm_spawn(&cs, cmd, path, &dm, 10000, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	ctl_server_stop(&cs);
	dm_reap(&dm, 2000);
	vm_destroy(&vm);
	return 0;
}

/* One access through the real exit path; the calls to vcpu_block it made. */
static enum io_result access_once(struct io_access *a)
{
	memset(&calls, 0, sizeof(calls));
	request_start = now_ns();
	return io_dispatch(&vm.vcpus[0], a);
}

static void test_slow_model_gets_the_turn_passed_after_the_hold(void **state)
{
	struct io_access w = { .space = IO_SPACE_PIO, .addr = 0x510, .size = 4, .is_write = true,
			       .data = 0x5eed1234 };
	assert_int_equal(access_once(&w), IO_DONE);
	/* Passed on once, after the hold (the model took 5 ms), and taken back. */
	assert_int_equal(calls.n, 2);
	assert_true(calls.blocked[0]);
	assert_false(calls.blocked[1]);
	assert_true(calls.at_ns[0] >= (uint64_t)IOREQ_TURN_HOLD_NS);
	assert_true(calls.at_ns[1] >= calls.at_ns[0]);

	struct io_access r = { .space = IO_SPACE_PIO, .addr = 0x510, .size = 4 };
	assert_int_equal(access_once(&r), IO_DONE);
	assert_int_equal(r.data, 0x5eed1234); /* the model's answer, after the wait */
	assert_int_equal(calls.n, 2);
	assert_true(calls.blocked[0] && !calls.blocked[1]);
	assert_true(calls.at_ns[0] >= (uint64_t)IOREQ_TURN_HOLD_NS);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BACKEND TESTDM\n", argv[0]);
		return 2;
	}
	backend = argv[1];
	testdm = argv[2];
	struct stat st;
	if (!strcmp(backend, "kvm") && stat("/dev/kvm", &st) != 0) {
		fprintf(stderr, "SKIPPED: kvm variant: /dev/kvm is missing on this machine\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_model_gets_the_turn_passed_after_the_hold),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
