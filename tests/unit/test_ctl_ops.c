/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the control-message check that runs before any op:
 * short, oversized, bad magic/version/length, unknown op, wrong payload
 * size, and file descriptors where none belong are each refused with the
 * right errno and a message; a good message of each op passes. And the
 * remote_shutdown op (L3, L4): it stops the caller's VM with the status
 * its reason documents, names no other VM, and refuses other reasons
 * (EINVAL with a message) without stopping anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/exit_status.h"
#include "core/vm.h"
#include "ctl/ctl_ops.h"

static uint8_t buf[sizeof(struct ioreqvm_ctl_req) + IOREQVM_CTL_MAX_PAYLOAD + 16];
static struct ctl_reply rep;

static size_t msg(uint16_t op, uint32_t payload_len)
{
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = op, .seq = 7, .len = payload_len };
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + payload_len;
}

static const struct ctl_op_desc *check(size_t len, bool trunc, unsigned fds)
{
	const void *payload = NULL;
	memset(&rep, 0, sizeof(rep));
	return ctl_check_request(buf, len, trunc, fds, &payload, &rep);
}

static void test_ctl_accepts_each_op_with_its_size(void **state)
{
	static const struct { uint16_t op; uint32_t size; } ok[] = {
		{ IOREQVM_OP_CREATE_IOREQ_SERVER, sizeof(struct ioreqvm_op_create) },
		{ IOREQVM_OP_GET_IOREQ_SERVER_INFO, sizeof(struct ioreqvm_op_get_info) },
		{ IOREQVM_OP_MAP_IO_RANGE, sizeof(struct ioreqvm_op_range) },
		{ IOREQVM_OP_UNMAP_IO_RANGE, sizeof(struct ioreqvm_op_range) },
		{ IOREQVM_OP_SET_IOREQ_SERVER_STATE, sizeof(struct ioreqvm_op_set_state) },
		{ IOREQVM_OP_DESTROY_IOREQ_SERVER, sizeof(struct ioreqvm_op_server_id) },
		{ IOREQVM_OP_SET_PCI_INTX_LEVEL, sizeof(struct ioreqvm_op_pci_intx) },
		{ IOREQVM_OP_SET_ISA_IRQ_LEVEL, sizeof(struct ioreqvm_op_isa_irq) },
		{ IOREQVM_OP_SET_MEM_TYPE, sizeof(struct ioreqvm_op_set_mem_type) },
		{ IOREQVM_OP_INJECT_MSI, sizeof(struct ioreqvm_op_msi) },
		{ IOREQVM_OP_GET_MEM_TYPE, sizeof(struct ioreqvm_op_get_mem_type) },
		{ IOREQVM_OP_VM_INFO, 0 },
		{ IOREQVM_OP_MAP_GUEST_MEMORY, 0 },
		{ IOREQVM_OP_LIST_SERVERS, 0 },
		{ IOREQVM_OP_DM_READY, 0 },
		{ IOREQVM_OP_XEN_INFO, 0 },
		{ IOREQVM_OP_POPULATE_PHYSMAP, sizeof(struct ioreqvm_op_physmap) },
		{ IOREQVM_OP_DECREASE_RESERVATION, sizeof(struct ioreqvm_op_physmap) },
		{ IOREQVM_OP_RAM_RUNS, sizeof(struct ioreqvm_op_ram_runs_req) },
		{ IOREQVM_OP_REMOTE_SHUTDOWN, sizeof(struct ioreqvm_op_remote_shutdown) },
		{ IOREQVM_OP_TRACK_DIRTY_VRAM, sizeof(struct ioreqvm_op_track_dirty_vram) },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct ctl_op_desc *d = check(msg(ok[i].op, ok[i].size), false, 0);
		assert_non_null(d);
		assert_int_equal(d->op, ok[i].op);
		assert_int_equal(rep.result, 0);
	}
}

static void test_ctl_refuses_short_message(void **state)
{
	msg(IOREQVM_OP_VM_INFO, 0);
	assert_null(check(sizeof(struct ioreqvm_ctl_req) - 1, false, 0));
	assert_int_equal(rep.result, -EINVAL);
	assert_non_null(strstr(rep.msg, "shorter"));
	assert_null(check(0, false, 0));
	assert_int_equal(rep.result, -EINVAL);
}

static void test_ctl_refuses_oversized_message(void **state)
{
	assert_null(check(msg(IOREQVM_OP_VM_INFO, IOREQVM_CTL_MAX_PAYLOAD + 1), false, 0));
	assert_int_equal(rep.result, -EINVAL);
	assert_non_null(strstr(rep.msg, "longer"));
	assert_null(check(msg(IOREQVM_OP_VM_INFO, 0), true, 0)); /* the socket truncated it */
	assert_int_equal(rep.result, -EINVAL);
}

static void test_ctl_refuses_bad_magic_version_length(void **state)
{
	size_t n = msg(IOREQVM_OP_VM_INFO, 0);
	buf[0] ^= 1;
	assert_null(check(n, false, 0));
	assert_non_null(strstr(rep.msg, "magic"));
	n = msg(IOREQVM_OP_VM_INFO, 0);
	((struct ioreqvm_ctl_req *)buf)->version = 2;
	assert_null(check(n, false, 0));
	assert_int_equal(rep.result, -EPROTONOSUPPORT);
	n = msg(IOREQVM_OP_VM_INFO, 8); /* header claims 8, 4 arrive */
	assert_null(check(n - 4, false, 0));
	assert_non_null(strstr(rep.msg, "arrived"));
}

static void test_ctl_refuses_unknown_op_and_wrong_size(void **state)
{
	assert_null(check(msg(0x7777, 0), false, 0));
	assert_int_equal(rep.result, -EOPNOTSUPP);
	assert_null(check(msg(10, 0), false, 0)); /* Xen's set_pci_link_route: not ours */
	assert_int_equal(rep.result, -EOPNOTSUPP);
	assert_null(check(msg(IOREQVM_OP_SET_MEM_TYPE, 8), false, 0));
	assert_int_equal(rep.result, -EINVAL);
	assert_non_null(strstr(rep.msg, "set_mem_type takes 16"));
	assert_null(check(msg(IOREQVM_OP_VM_INFO, 4), false, 0));
	assert_int_equal(rep.result, -EINVAL);
}

static void test_ctl_refuses_file_descriptors(void **state)
{
	assert_null(check(msg(IOREQVM_OP_VM_INFO, 0), false, 2));
	assert_int_equal(rep.result, -EINVAL);
	assert_non_null(strstr(rep.msg, "file descriptors"));
}

static void test_ctl_random_bytes_never_pass_unchecked(void **state)
{
	uint64_t x = 99;
	for (int i = 0; i < 20000; i++) {
		size_t len = 0;
		for (size_t j = 0; j < sizeof(buf); j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[j] = (uint8_t)x;
		}
		len = x % sizeof(buf);
		if (i & 1) /* half with a valid header prefix */
			memcpy(buf, &(struct ioreqvm_ctl_req){ .magic = IOREQVM_CTL_MAGIC,
							      .version = 1, .op = (uint16_t)(x >> 40) & 0x10f,
							      .len = (uint32_t)(len >= 16 ? len - 16 : 0) }, 16);
		const void *payload;
		memset(&rep, 0, sizeof(rep));
		const struct ctl_op_desc *d = ctl_check_request(buf, len, false, 0, &payload, &rep);
		if (d) {
			assert_int_equal(len, sizeof(struct ioreqvm_ctl_req) + d->req_size);
			assert_ptr_equal(payload, buf + sizeof(struct ioreqvm_ctl_req));
		} else {
			assert_true(rep.result < 0);
			assert_true(rep.msg[0] != 0);
		}
	}
}

/* What vm_stop() needs of a VM: its stop flag, status, eventfd and hold lock. */
static void stop_only_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->hold_lock, NULL);
	pthread_cond_init(&vm->hold_cond, NULL);
	vm->stop_efd = eventfd(0, EFD_NONBLOCK);
	assert_true(vm->stop_efd >= 0);
	vm->exit_status = -1;
}

static int32_t shutdown_op(struct vm *vm, uint32_t reason)
{
	size_t n = msg(IOREQVM_OP_REMOTE_SHUTDOWN, sizeof(struct ioreqvm_op_remote_shutdown));
	memcpy(buf + sizeof(struct ioreqvm_ctl_req), &reason, sizeof(reason));
	const void *payload = NULL;
	memset(&rep, 0, sizeof(rep));
	const struct ctl_op_desc *d = ctl_check_request(buf, n, false, 0, &payload, &rep);
	assert_non_null(d);
	struct ctl_caller caller = { .conn = &caller, .pid = 1234 };
	ctl_run_op(vm, &caller, d, payload, &rep);
	return rep.result;
}

static void test_ctl_remote_shutdown_stops_the_vm_with_its_status(void **state)
{
	static const struct { uint32_t reason; int status; } ok[] = {
		{ IOREQVM_SHUTDOWN_POWEROFF, VM_EXIT_POWEROFF },
		{ IOREQVM_SHUTDOWN_REBOOT, VM_EXIT_RESET },
		{ IOREQVM_SHUTDOWN_QUIT, VM_EXIT_QUIT },
	};
	assert_int_equal(VM_EXIT_POWEROFF, 0); /* the README's numbers */
	assert_int_equal(VM_EXIT_RESET, 10);
	assert_int_equal(VM_EXIT_QUIT, 12);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct vm vm;
		stop_only_vm(&vm);
		assert_int_equal(shutdown_op(&vm, ok[i].reason), 0);
		assert_true(atomic_load(&vm.stopping));
		assert_int_equal(vm.exit_status, ok[i].status);
		uint64_t v = 0;
		assert_int_equal(read(vm.stop_efd, &v, sizeof(v)), sizeof(v)); /* main wakes */
		/* A second request changes nothing: the first stop wins. */
		assert_int_equal(shutdown_op(&vm, IOREQVM_SHUTDOWN_QUIT), 0);
		assert_int_equal(vm.exit_status, ok[i].status);
		close(vm.stop_efd);
	}
}

static void test_ctl_remote_shutdown_refuses_other_reasons(void **state)
{
	/* Xen's suspend, crash, watchdog, soft_reset; and values nobody defines. */
	static const uint32_t bad[] = { 2, 3, 4, 5, 6, 0xff, 0x101, 0x10000, UINT32_MAX };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm vm;
		stop_only_vm(&vm);
		assert_int_equal(shutdown_op(&vm, bad[i]), -EINVAL);
		assert_non_null(strstr(rep.msg, "not supported"));
		assert_false(atomic_load(&vm.stopping));
		assert_int_equal(vm.exit_status, -1);
		close(vm.stop_efd);
	}
	/* No field names a VM or domain: a longer payload (say, a domid) is refused. */
	assert_null(check(msg(IOREQVM_OP_REMOTE_SHUTDOWN, 8), false, 0));
	assert_int_equal(rep.result, -EINVAL);
	assert_non_null(strstr(rep.msg, "remote_shutdown takes 4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_accepts_each_op_with_its_size),
		cmocka_unit_test(test_ctl_refuses_short_message),
		cmocka_unit_test(test_ctl_refuses_oversized_message),
		cmocka_unit_test(test_ctl_refuses_bad_magic_version_length),
		cmocka_unit_test(test_ctl_refuses_unknown_op_and_wrong_size),
		cmocka_unit_test(test_ctl_refuses_file_descriptors),
		cmocka_unit_test(test_ctl_random_bytes_never_pass_unchecked),
		cmocka_unit_test(test_ctl_remote_shutdown_stops_the_vm_with_its_status),
		cmocka_unit_test(test_ctl_remote_shutdown_refuses_other_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
