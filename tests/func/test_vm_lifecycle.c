/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle with real guests on a real backend (argv: BACKEND IMAGE, the
 * smp guest): building, running and tearing down a VM leaves no file
 * descriptor and no thread behind (ASan checks memory), with 1 and 4
 * vCPUs, and a VM stopped from outside while its guest runs tears down too.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/exit_status.h"
#include "harness.h"

static const char *backend, *image;

/* vCPUs for the SMP runs, on every backend (tcg since issue 11). */
static unsigned smp_cpus(void)
{
	return 4;
}

static unsigned count_dir(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	unsigned n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void run_once(unsigned cpus, bool stop_early)
{
	struct harness h;
	assert_int_equal(harness_create(&h, backend, image, "", cpus, 64 << 20), 0);
	assert_int_equal(harness_start(&h), 0);
	if (stop_early)
		vm_stop(&h.vm, VM_EXIT_SIGNAL_BASE + 15);
	int st = harness_wait(&h, 60000);
	/* The first stop wins: a fast backend's guest may finish first. */
	if (!stop_early || st != 1)
		assert_int_equal(st, stop_early ? VM_EXIT_SIGNAL_BASE + 15 : 1);
	harness_destroy(&h);
}

static void test_vm_teardown_leaks_no_fds_or_threads(void **state)
{
	run_once(1, false); /* warm up lazily created process state */
	unsigned fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
	for (int i = 0; i < 3; i++) {
		run_once(1, false);
		run_once(smp_cpus(), false);
	}
	assert_int_equal(count_dir("/proc/self/fd"), fds);
	assert_int_equal(count_dir("/proc/self/task"), threads);
}

static void test_vm_stopped_from_outside_tears_down(void **state)
{
	unsigned fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
	for (int i = 0; i < 3; i++)
		run_once(smp_cpus(), true);
	assert_int_equal(count_dir("/proc/self/fd"), fds);
	assert_int_equal(count_dir("/proc/self/task"), threads);
}

int main(int argc, char **argv)
{
	harness_args(argc, argv, &backend, &image);
	fprintf(stderr, "backend: %s\n", backend);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_teardown_leaks_no_fds_or_threads),
		cmocka_unit_test(test_vm_stopped_from_outside_tears_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
