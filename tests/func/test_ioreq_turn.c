/* SPDX-License-Identifier: MIT */
/*
 * K13 and tcg's turn hold (argv: BACKEND TESTDM): a vCPU waiting for a
 * device model that takes 5 ms per request keeps its execution turn for
 * TCG_TURN_HOLD_NS of the wait (vcpu_block bounds its sleeps to that),
 * then passes it on, and takes it back (vcpu_unblock) before the access
 * completes with the model's answer. The backend's own vcpu_block and
 * vcpu_unblock run, wrapped by recorders that look at the turn after each
 * call; the requests go through the real exit path to a real testdm
 * process. On kvm, whose vCPUs never wait for each other, the wait calls
 * no backend op and the answer still arrives.
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
#include "cpu/tcg/tcg_priv.h"
#include "ctl/ctl_server.h"

#define MAX_CALLS 16

static const char *backend, *testdm;
static struct vm vm;
static struct cpu_backend_ops ops;
static struct ctl_server cs;
static struct dm_child dm;
static char path[108];

static struct {
	unsigned n;
	uint64_t waited_ns[MAX_CALLS], bound[MAX_CALLS], at_ns[MAX_CALLS];
	bool turn_after[MAX_CALLS]; /* the vCPU held the turn after the call */
	unsigned unblocks;
	bool turn_after_unblock;
} calls;
static uint64_t request_start;
static const struct cpu_backend_ops *real;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool holds_turn(struct vcpu *vcpu)
{
	struct tcg_vcpu *c = vcpu->be;
	return c->has_turn;
}

static uint64_t record_block(struct vcpu *vcpu, uint64_t waited_ns)
{
	uint64_t bound = real->vcpu_block(vcpu, waited_ns);
	if (calls.n < MAX_CALLS) {
		calls.waited_ns[calls.n] = waited_ns;
		calls.bound[calls.n] = bound;
		calls.at_ns[calls.n] = now_ns() - request_start;
		calls.turn_after[calls.n] = holds_turn(vcpu);
	}
	calls.n++;
	return bound;
}

static void record_unblock(struct vcpu *vcpu)
{
	real->vcpu_unblock(vcpu);
	calls.unblocks++;
	calls.turn_after_unblock = holds_turn(vcpu);
}

static int setup(void **state)
{
	char err[512], cmd[600];
	/* Two vCPUs, so tcg has someone to pass the turn to; this thread is vCPU 0. */
	struct vm_config cfg = { .memory = 64 << 20, .nr_vcpus = 2, .accel = backend,
				 .console_fd = 2 };
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	real = vm.ops;
	ops = *vm.ops;
	if (real->vcpu_block) {
		ops.vcpu_block = record_block;
		ops.vcpu_unblock = record_unblock;
	}
	vm.ops = &ops;
	snprintf(path, sizeof(path), "/tmp/ioreqvm-turn-%d.sock", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s --port 0x510:0x513 --sleep-ms 5", testdm);
	if (ctl_server_start(&cs, &vm, path, err, sizeof(err)) ||
	    dm_spawn(&cs, cmd, path, NULL, &dm, 10000, err, sizeof(err))) {
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

/* One access through the real exit path, as vCPU 0 holding its turn; the calls it made. */
static enum io_result access_once(struct io_access *a)
{
	memset(&calls, 0, sizeof(calls));
	struct vcpu *v = &vm.vcpus[0];
	if (real->vcpu_block) {
		struct tcg_vcpu *c = v->be;
		assert_true(tcg_turn_take(&c->t->turns, c, true));
		assert_true(holds_turn(v));
	}
	request_start = now_ns();
	return io_dispatch(v, a, IO_FROM_EXIT);
}

/* K13: held for the hold, passed once after it, taken back before the answer. */
static void check_turn_calls(void)
{
	if (!real->vcpu_block) {
		assert_int_equal(calls.n, 0); /* kvm: nothing to hold or pass */
		return;
	}
	assert_true(calls.n >= 2 && calls.n <= MAX_CALLS);
	unsigned passed = calls.n;
	for (unsigned i = 0; i < calls.n; i++) {
		if (calls.waited_ns[i] < TCG_TURN_HOLD_NS) {
			/* Within the hold: kept, and the sleep bounded to its end. */
			assert_true(calls.turn_after[i]);
			assert_int_equal(calls.bound[i], TCG_TURN_HOLD_NS - calls.waited_ns[i]);
		} else if (passed == calls.n) {
			passed = i;
		}
	}
	assert_true(passed < calls.n); /* the model took 5 ms: passed once past the hold */
	for (unsigned i = passed; i < calls.n; i++) {
		assert_false(calls.turn_after[i]);
		assert_int_equal(calls.bound[i], 0);
	}
	assert_true(calls.at_ns[passed] >= TCG_TURN_HOLD_NS);
	assert_int_equal(calls.unblocks, 1);
	assert_true(calls.turn_after_unblock);
}

static void test_slow_model_gets_the_turn_passed_after_the_hold(void **state)
{
	struct io_access w = { .space = IO_SPACE_PIO, .addr = 0x510, .size = 4, .is_write = true,
			       .data = 0x5eed1234 };
	assert_int_equal(access_once(&w), IO_DONE);
	check_turn_calls();

	struct io_access r = { .space = IO_SPACE_PIO, .addr = 0x510, .size = 4 };
	assert_int_equal(access_once(&r), IO_DONE);
	assert_int_equal(r.data, 0x5eed1234); /* the model's answer, after the wait */
	check_turn_calls();
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
