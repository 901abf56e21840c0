/* SPDX-License-Identifier: MIT */
/*
 * The shared exit path: every backend's vCPU thread runs this loop. It runs
 * the vCPU, hands the exit to one handler from a table, and stops when a
 * handler or another thread stopped the VM. Backend-neutral by design.
 */
#include "cpu/vcpu_loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "core/exit_status.h"
#include "core/io_dispatch.h"
#include "core/log.h"
#include "core/vm.h"

typedef enum io_result (*exit_handler_fn)(struct vcpu *vcpu, struct vcpu_exit *exit);

static enum io_result exit_io(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	return io_dispatch(vcpu, &exit->io, IO_FROM_EXIT);
}

static enum io_result exit_kicked(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	return IO_DONE;
}

static enum io_result exit_triple_fault(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	log_err("vCPU %u: guest triple fault (shutdown)", vcpu->id);
	vm_dump_vcpu(vcpu);
	vm_stop(vcpu->vm, VM_EXIT_TRIPLE_FAULT);
	return IO_STOP;
}

static enum io_result exit_internal(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	log_err("vCPU %u: internal error: %s", vcpu->id, exit->reason);
	vm_dump_vcpu(vcpu);
	vm_stop(vcpu->vm, VM_EXIT_INTERNAL);
	return IO_STOP;
}

static enum io_result exit_reset(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	return vm_reset_requested(vcpu);
}

static enum io_result exit_poweroff(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	return vm_poweroff_requested(vcpu);
}

static const exit_handler_fn exit_handlers[] = {
	[VCPU_EXIT_IO] = exit_io,
	[VCPU_EXIT_KICKED] = exit_kicked,
	[VCPU_EXIT_TRIPLE_FAULT] = exit_triple_fault,
	[VCPU_EXIT_INTERNAL] = exit_internal,
	[VCPU_EXIT_RESET] = exit_reset,
	[VCPU_EXIT_POWEROFF] = exit_poweroff,
};

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	/* The same exit struct across runs: a read's result travels back in it. */
	struct vcpu_exit exit;

	memset(&exit, 0, sizeof(exit));

	while (vm_vcpu_enter_guest(vcpu)) {
		int rc = vm->ops->vcpu_run(vcpu, &exit);
		vm_vcpu_leave_guest(vcpu);
		if (rc) {
			log_err("vCPU %u: %s run failed: %s", vcpu->id, vm->ops->name, strerror(-rc));
			vm_dump_vcpu(vcpu);
			vm_stop(vm, VM_EXIT_INTERNAL);
			break;
		}
		vcpu_count(&vcpu->nr_exits);
		if (exit_handlers[exit.kind](vcpu, &exit) == IO_STOP)
			break;
	}
	return NULL;
}
