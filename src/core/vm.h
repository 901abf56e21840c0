/* SPDX-License-Identifier: MIT */
/*
 * One virtual machine: its backend, guest RAM, vCPUs, in-VMM devices and the
 * stop protocol (first stop request wins, every vCPU is kicked out, main
 * joins them). Knows nothing of KVM: it talks to struct cpu_backend_ops.
 */
#ifndef IOREQVM_VM_H
#define IOREQVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/iomap.h"
#include "core/dirty_vram.h"
#include "cpu/backend.h"
#include "mem/guest_ram.h"
#include "ioreq/ioreq_server.h"
#include "p2m/p2m.h"

#define VM_MAX_VCPUS 64

struct vcpu {
	struct vm *vm;
	unsigned id;
	void *be; /* backend state */
	pthread_t thread;
	bool thread_started;
	atomic_bool in_guest; /* inside backend->vcpu_run (K3 pause protocol) */
	/* Written by this vCPU's thread only (vcpu_count), read by anyone. */
	_Atomic uint64_t nr_exits;
	_Atomic uint64_t nr_mmio_exits; /* every trapped MMIO access */
};

/*
 * Count on a counter that only the calling vCPU's thread writes: a plain
 * add, where a relaxed fetch_add is still a locked instruction on x86.
 */
static inline void vcpu_count(_Atomic uint64_t *counter)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

struct vm_config {
	uint64_t memory;
	unsigned nr_vcpus;
	const char *accel;      /* "kvm", "tcg", "auto" */
	const char *accel_device; /* NULL: the backend's default node */
	int console_fd;         /* where the UART transmits */
	unsigned max_servers;   /* IOREQ servers allowed (I1); 0: the default */
	bool builtin_uart;      /* in-VMM COM1 (tests, benchmarks); else a device model */
};

struct vm {
	const struct cpu_backend_ops *ops;
	void *be; /* backend state */
	struct vm_config cfg;
	struct guest_ram ram;
	unsigned nr_vcpus;
	struct vcpu *vcpus;

	struct p2m p2m;
	bool p2m_ready;
	struct dirty_vram dirty; /* track_dirty_vram's range and notes */
	struct ioreq_servers servers;
	bool servers_ready;

	/* K3: vCPUs stay out of guest code while hold is set. */
	atomic_bool hold;
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	pthread_cond_t left_cond; /* a vCPU left guest code while hold was set */

	struct iomap iomap[IO_SPACE_COUNT];
	void **dev_state; /* one per builtin_devices[] entry */

	_Atomic uint64_t unbacked_reads[IO_SPACE_COUNT];
	_Atomic uint64_t unbacked_writes[IO_SPACE_COUNT];
	_Atomic uint64_t ro_writes_dropped; /* M2 */
	/* Tests: called for every trapped access to RAM, before it is served. */
	void (*ram_access_hook)(void *ctx, struct vcpu *vcpu, const struct io_access *a,
				uint32_t type);
	void *ram_access_hook_ctx;

	/* Xen compatibility (DESIGN X1, X5): what XEN_INFO answers; set by main. */
	struct {
		uint32_t domid;
		uint8_t uuid[16];
		char xenstore_path[108]; /* "" without a xenstore */
	} xen;

	atomic_bool stopping;
	int exit_status;
	int stop_efd; /* eventfd, readable once vm_stop() ran */
};

/* Build the VM (backend, RAM, devices, vCPUs). 0 or -errno, message in err. */
int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen);
/* Start every vCPU thread. */
int vm_start(struct vm *vm, char *err, size_t errlen);
/*
 * Ask the VM to stop with @status; the first request wins. Safe from any
 * thread, including vCPU threads and signal-driven main loops.
 */
void vm_stop(struct vm *vm, int status);
/*
 * The guest asked for a reset (keyboard controller pulse, port 0xcf9, a
 * backend's reset exit): ioreqvm does not reboot guests, so it says so and
 * stops the VM with VM_EXIT_RESET. Returns IO_STOP for the exit path.
 */
enum io_result vm_reset_requested(struct vcpu *vcpu);
/* The guest powered off (ACPI sleep, a backend's exit): stop with VM_EXIT_POWEROFF. IO_STOP. */
enum io_result vm_poweroff_requested(struct vcpu *vcpu);
/* Kick and join all vCPU threads (after vm_stop). */
void vm_join(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * K3: stop every vCPU from running guest code and wait until none does
 * (vCPUs busy in user space, e.g. waiting for a device model, are not
 * waited for: they park before re-entering). Not from a signal handler.
 */
void vm_pause_vcpus(struct vm *vm);
void vm_resume_vcpus(struct vm *vm);
/* The slow halves of the two below: a pause is under way, or the VM stops. */
bool vm_vcpu_enter_guest_held(struct vcpu *vcpu);
void vm_vcpu_left_guest_held(struct vcpu *vcpu);

/*
 * vCPU side: park while held. Returns false if the VM is stopping. Inline:
 * tcg enters and leaves around every wait for a device model (K13).
 * Dekker with vm_pause_vcpus: store in_guest, then load hold.
 */
static inline bool vm_vcpu_enter_guest(struct vcpu *vcpu)
{
	atomic_store(&vcpu->in_guest, true);
	if (!atomic_load(&vcpu->vm->hold) && !atomic_load(&vcpu->vm->stopping))
		return true;
	return vm_vcpu_enter_guest_held(vcpu);
}

static inline void vm_vcpu_leave_guest(struct vcpu *vcpu)
{
	atomic_store(&vcpu->in_guest, false);
	if (atomic_load(&vcpu->vm->hold))
		vm_vcpu_left_guest_held(vcpu);
}

/* Print a vCPU's registers on stderr, one block, for fault reports. */
void vm_dump_vcpu(struct vcpu *vcpu);
/* Trapped MMIO accesses of every vCPU so far (P4 counts them). */
uint64_t vm_mmio_exits(struct vm *vm);

#endif
