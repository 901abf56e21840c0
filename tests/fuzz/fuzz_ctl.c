/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control protocol: the input is a sequence of
 * messages (a 2-byte length, then the bytes), each checked by
 * ctl_check_request() and, when it passes, run against a real VM (tcg
 * backend, vCPUs never started) as one connection would. Every op's
 * validation and the IOREQ-server, P2M and claim code behind it are
 * reached; the process must never crash, and a refusal always has a
 * negative errno and a message. The connection's servers are dropped after
 * each input, as when a device model goes away, and a stop (remote_shutdown)
 * is undone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/vm.h"
#include "ctl/ctl_ops.h"

static struct vm vm;
static int conn_token;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	struct vm_config cfg = { .memory = 64 << 20, .nr_vcpus = 1, .accel = "tcg",
				 .console_fd = 2, .max_servers = 4 };
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "fuzz_ctl: %s\n", err);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_reply rep;
	struct ctl_caller caller = { .conn = &conn_token, .pid = 1 };
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		const void *payload;
		memset(&rep, 0, sizeof(rep));
		const struct ctl_op_desc *d = ctl_check_request(data, len, false, 0, &payload, &rep);
		if (d) {
			ctl_run_op(&vm, &caller, d, payload, &rep);
			if (rep.result > 0 || (rep.result < 0 && !rep.msg[0]))
				abort(); /* every refusal says why */
			if (rep.len > sizeof(rep.payload) || rep.nr_fds > IOREQVM_CTL_MAX_FDS)
				abort();
		} else if (rep.result >= 0 || !rep.msg[0]) {
			abort();
		}
		data += len;
		size -= len;
	}
	ioreq_servers_drop_owner(&vm.servers, &conn_token);
	/* remote_shutdown stopped it: the next input starts from a running VM. */
	if (atomic_load(&vm.stopping)) {
		uint64_t v;
		ssize_t r = read(vm.stop_efd, &v, sizeof(v));
		(void)r;
		vm.exit_status = 0;
		atomic_store(&vm.stopping, false);
	}
	return 0;
}
