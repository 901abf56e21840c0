/* SPDX-License-Identifier: MIT */
/* In-process VM harness: VM + boot + serial capture + timed wait. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/boot.h"
#include "core/exit_status.h"

void harness_args(int argc, char **argv, const char **backend, const char **image)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BACKEND GUEST-IMAGE\n", argv[0]);
		exit(2);
	}
	*backend = argv[1];
	*image = argv[2];
	struct stat st;
	if (!strcmp(*backend, "kvm") && stat("/dev/kvm", &st) != 0) {
		fprintf(stderr, "SKIPPED: kvm variant: /dev/kvm is missing on this machine\n");
		exit(77);
	}
}

static void *reader_main(void *arg)
{
	struct harness *h = arg;
	char buf[4096];
	for (;;) {
		ssize_t n = read(h->pipe[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stderr); /* visible in the test log */
		pthread_mutex_lock(&h->out_lock);
		size_t room = sizeof(h->out) - 1 - h->out_len;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(h->out + h->out_len, buf, k);
		h->out_len += k;
		pthread_mutex_unlock(&h->out_lock);
	}
	return NULL;
}

int harness_create(struct harness *h, const char *backend, const char *kernel,
		   const char *cmdline, unsigned cpus, uint64_t memory)
{
	char err[512];
	memset(h, 0, sizeof(*h));
	h->pipe[0] = h->pipe[1] = -1;
	pthread_mutex_init(&h->out_lock, NULL);
	if (pipe2(h->pipe, O_CLOEXEC) < 0)
		return -errno;
	struct vm_config cfg = {
		.memory = memory, .nr_vcpus = cpus, .accel = backend, .console_fd = h->pipe[1],
		.builtin_uart = true };
	int rc = vm_create(&h->vm, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "harness: %s\n", err);
		return rc;
	}
	if (pthread_create(&h->reader, NULL, reader_main, h) == 0)
		h->reader_started = true;
	struct boot_files files = { .kernel = kernel, .cmdline = cmdline };
	rc = boot_guest(&h->vm, &files, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "harness: %s\n", err);
	return rc;
}

void *harness_ram(struct harness *h, uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(&h->vm.ram, gpa, len);
}

int harness_start(struct harness *h)
{
	char err[256];
	int rc = vm_start(&h->vm, err, sizeof(err));
	if (rc)
		fprintf(stderr, "harness: %s\n", err);
	h->started = true;
	return rc;
}

int harness_wait(struct harness *h, unsigned timeout_ms)
{
	struct pollfd p = { .fd = h->vm.stop_efd, .events = POLLIN };
	while (!atomic_load(&h->vm.stopping)) {
		int n = poll(&p, 1, (int)timeout_ms);
		if (n == 0) {
			vm_stop(&h->vm, VM_EXIT_INTERNAL);
			vm_join(&h->vm);
			return -ETIMEDOUT;
		}
	}
	vm_join(&h->vm);
	h->status = h->vm.exit_status;
	return h->status;
}

void harness_output(struct harness *h, char *buf, size_t len)
{
	pthread_mutex_lock(&h->out_lock);
	size_t k = h->out_len < len - 1 ? h->out_len : len - 1;
	memcpy(buf, h->out, k);
	buf[k] = 0;
	pthread_mutex_unlock(&h->out_lock);
}

void harness_destroy(struct harness *h)
{
	if (h->started && !atomic_load(&h->vm.stopping)) {
		vm_stop(&h->vm, VM_EXIT_INTERNAL);
		vm_join(&h->vm);
	}
	vm_destroy(&h->vm);
	if (h->pipe[1] >= 0)
		close(h->pipe[1]);
	if (h->reader_started)
		pthread_join(h->reader, NULL);
	if (h->pipe[0] >= 0)
		close(h->pipe[0]);
	pthread_mutex_destroy(&h->out_lock);
}
