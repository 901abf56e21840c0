/* SPDX-License-Identifier: MIT */
/*
 * In-process VM harness for functional tests: builds a real VM on a named
 * backend, boots a real guest image, collects its serial output from a
 * pipe, and lets the test drive internal APIs (P2M, ...) while it runs.
 */
#ifndef IOREQVM_TEST_HARNESS_H
#define IOREQVM_TEST_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vm.h"

struct harness {
	struct vm vm;
	int pipe[2];
	pthread_t reader;
	bool reader_started, started;
	char out[65536];
	size_t out_len;
	pthread_mutex_t out_lock;
	int status;
};

/* The backend under test and the guest image, from argv; exits 77 if kvm is absent. */
void harness_args(int argc, char **argv, const char **backend, const char **image);

/* Create and boot (not start). 0 or -errno with the message printed. */
int harness_create(struct harness *h, const char *backend, const char *kernel,
		   const char *cmdline, unsigned cpus, uint64_t memory);
/* Host pointer to guest-physical @gpa (RAM). */
void *harness_ram(struct harness *h, uint64_t gpa, uint64_t len);
int harness_start(struct harness *h);
/* Wait for the VM to stop; returns its exit status, or -ETIMEDOUT. */
int harness_wait(struct harness *h, unsigned timeout_ms);
/* Guest output so far (NUL-terminated copy). */
void harness_output(struct harness *h, char *buf, size_t len);
void harness_destroy(struct harness *h);

#endif
