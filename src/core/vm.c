/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle: create (backend, RAM, mappings, devices, vCPUs), start,
 * stop (first request wins), join, destroy. Teardown runs in reverse and
 * tolerates a partly built VM, so every error path ends in vm_destroy().
 */
#include "core/vm.h"

#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/exit_status.h"
#include "core/log.h"
#include "cpu/vcpu_loop.h"
#include "dev/device.h"

static int target_map(void *ctx, uint64_t gpa, uint64_t size, uint64_t off,
		      enum mem_access access)
{
	struct vm *vm = ctx;
	return vm->ops->map(vm, gpa, size, off, access);
}

static int target_unmap(void *ctx, uint64_t gpa)
{
	struct vm *vm = ctx;
	return vm->ops->unmap(vm, gpa);
}

static void pause_cb(void *ctx)
{
	vm_pause_vcpus(ctx);
}

static void resume_cb(void *ctx)
{
	vm_resume_vcpus(ctx);
}

static int init_p2m(struct vm *vm, char *err, size_t errlen)
{
	unsigned used, limit;
	vm->ops->mapping_count(vm, &used, &limit);
	struct map_target target = {
		.ctx = vm, .map = target_map, .unmap = target_unmap, .limit = limit - used };
	struct p2m_pauser pauser = { .ctx = vm, .pause = pause_cb, .resume = resume_cb };
	int rc = p2m_init(&vm->p2m, &vm->ram, &target, &pauser);
	vm->p2m_ready = true;
	if (rc)
		snprintf(err, errlen, "mapping guest RAM into %s: %s", vm->ops->name, strerror(-rc));
	return rc;
}

static int create_devices(struct vm *vm, char *err, size_t errlen)
{
	size_t n = 0;
	while (builtin_devices[n])
		n++;
	vm->dev_state = calloc(n + 1, sizeof(*vm->dev_state));
	if (!vm->dev_state)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (builtin_devices[i] == &uart16550_device && !vm->cfg.builtin_uart)
			continue;
		int rc = builtin_devices[i]->create(vm, &vm->dev_state[i]);
		if (rc) {
			snprintf(err, errlen, "device %s: %s", builtin_devices[i]->name,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
	int rc;
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->ram.memfd = -1;
	vm->stop_efd = -1;
	pthread_mutex_init(&vm->hold_lock, NULL);
	pthread_cond_init(&vm->hold_cond, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->left_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VM_MAX_VCPUS) {
		snprintf(err, errlen, "--cpus must be 1..%d", VM_MAX_VCPUS);
		return -EINVAL;
	}
	vm->ops = cpu_backend_select(cfg->accel, cfg->accel_device, err, errlen);
	if (!vm->ops)
		return -ENODEV;
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return rc;
	}
	rc = guest_ram_create(&vm->ram, cfg->memory);
	if (rc) {
		snprintf(err, errlen, "guest RAM of %" PRIu64 " bytes: %s", cfg->memory,
			 strerror(-rc));
		return rc;
	}
	rc = vm->ops->vm_create(vm, err, errlen);
	if (rc)
		return rc;
	rc = init_p2m(vm, err, errlen);
	if (rc)
		return rc;
	rc = ioreq_servers_init(&vm->servers, &vm->p2m, cfg->max_servers ? cfg->max_servers
								 : IOREQ_DEFAULT_MAX_SERVERS,
				cfg->nr_vcpus);
	if (rc) {
		snprintf(err, errlen, "IOREQ servers: %s", strerror(-rc));
		return rc;
	}
	vm->servers_ready = true;
	rc = create_devices(vm, err, errlen);
	if (rc)
		return rc;
	vm->vcpus = calloc(cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		rc = vm->ops->vcpu_create(v);
		if (rc) {
			snprintf(err, errlen, "vCPU %u: %s", i, strerror(-rc));
			return rc;
		}
		vm->nr_vcpus++;
	}
	return 0;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (rc) {
			snprintf(err, errlen, "starting vCPU %u: %s", i, strerror(rc));
			return -rc;
		}
		v->thread_started = true;
	}
	return 0;
}

void vm_stop(struct vm *vm, int status)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&vm->stopping, &expected, true))
		return;
	vm->exit_status = status;
	pthread_mutex_lock(&vm->hold_lock);
	pthread_cond_broadcast(&vm->hold_cond); /* parked vCPUs see the stop */
	pthread_mutex_unlock(&vm->hold_lock);
	uint64_t one = 1;
	ssize_t w = write(vm->stop_efd, &one, sizeof(one));
	(void)w;
}

enum io_result vm_reset_requested(struct vcpu *vcpu)
{
	log_err("vCPU %u: guest requested a reset; ioreqvm does not reboot guests", vcpu->id);
	vm_stop(vcpu->vm, VM_EXIT_RESET);
	return IO_STOP;
}

enum io_result vm_poweroff_requested(struct vcpu *vcpu)
{
	log_info("vCPU %u: guest powered off", vcpu->id);
	vm_stop(vcpu->vm, VM_EXIT_POWEROFF);
	return IO_STOP;
}

void vm_join(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].thread_started)
			vm->ops->vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->thread_started)
			continue;
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vm->ops->vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	if (vm->dev_state) {
		for (size_t i = 0; builtin_devices[i]; i++)
			if (vm->dev_state[i] && builtin_devices[i]->destroy)
				builtin_devices[i]->destroy(vm->dev_state[i]);
		free(vm->dev_state);
		vm->dev_state = NULL;
	}
	for (int s = 0; s < IO_SPACE_COUNT; s++)
		iomap_free(&vm->iomap[s]);
	if (vm->servers_ready)
		ioreq_servers_destroy(&vm->servers);
	vm->servers_ready = false;
	if (vm->p2m_ready)
		p2m_destroy(&vm->p2m);
	vm->p2m_ready = false;
	if (vm->ops && vm->be)
		vm->ops->vm_destroy(vm);
	pthread_mutex_destroy(&vm->hold_lock);
	pthread_cond_destroy(&vm->hold_cond);
	pthread_cond_destroy(&vm->left_cond);
	guest_ram_destroy(&vm->ram);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	vm->stop_efd = -1;
}

void vm_pause_vcpus(struct vm *vm)
{
	atomic_store(&vm->hold, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (atomic_load(&v->in_guest))
			vm->ops->vcpu_kick(v);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		for (unsigned spins = 0; spins < 1000 && atomic_load(&v->in_guest); spins++)
			__builtin_ia32_pause();
		if (!atomic_load(&v->in_guest))
			continue;
		/*
		 * Sleep until it leaves (vm_vcpu_leave_guest signals while hold is
		 * set), re-kicking every millisecond in case a kick raced with its
		 * entry. Spinning with sched_yield here cost milliseconds a pause
		 * once more vCPU threads than cores were runnable: a yield gives the
		 * core away for a whole scheduler slice (BENCHMARKS.md, design
		 * measurements: pause-yield).
		 */
		pthread_mutex_lock(&vm->hold_lock);
		while (atomic_load(&v->in_guest)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_cond_timedwait(&vm->left_cond, &vm->hold_lock, &ts) == ETIMEDOUT)
				vm->ops->vcpu_kick(v);
		}
		pthread_mutex_unlock(&vm->hold_lock);
	}
}

void vm_resume_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->hold_lock);
	atomic_store(&vm->hold, false);
	pthread_cond_broadcast(&vm->hold_cond);
	pthread_mutex_unlock(&vm->hold_lock);
}

bool vm_vcpu_enter_guest_held(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	for (;;) {
		/* Dekker with vm_pause_vcpus: store in_guest, then load hold. */
		atomic_store(&vcpu->in_guest, true);
		if (!atomic_load(&vm->hold)) {
			if (!atomic_load(&vm->stopping))
				return true;
			atomic_store(&vcpu->in_guest, false); /* leaving for good */
			return false;
		}
		atomic_store(&vcpu->in_guest, false);
		pthread_mutex_lock(&vm->hold_lock);
		while (atomic_load(&vm->hold) && !atomic_load(&vm->stopping))
			pthread_cond_wait(&vm->hold_cond, &vm->hold_lock);
		pthread_mutex_unlock(&vm->hold_lock);
		if (atomic_load(&vm->stopping))
			return false;
	}
}

void vm_vcpu_left_guest_held(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	pthread_mutex_lock(&vm->hold_lock);
	pthread_cond_broadcast(&vm->left_cond);
	pthread_mutex_unlock(&vm->hold_lock);
}

uint64_t vm_mmio_exits(struct vm *vm)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		n += atomic_load_explicit(&vm->vcpus[i].nr_mmio_exits, memory_order_relaxed);
	return n;
}

void vm_dump_vcpu(struct vcpu *vcpu)
{
	struct vcpu_regs r;
	if (vcpu->vm->ops->vcpu_get_regs(vcpu, &r)) {
		log_err("vCPU %u: registers unavailable", vcpu->id);
		return;
	}
	log_err("vCPU %u registers (%s, CPL%u):", vcpu->id,
		r.long_mode ? "long mode" : (r.cr0 & 1) ? "protected mode" : "real mode", r.cpl);
	log_err("  rip %016" PRIx64 " rflags %016" PRIx64 " cs %04x ss %04x ds %04x",
		r.rip, r.rflags, r.cs, r.ss, r.ds);
	log_err("  rax %016" PRIx64 " rbx %016" PRIx64 " rcx %016" PRIx64 " rdx %016" PRIx64,
		r.rax, r.rbx, r.rcx, r.rdx);
	log_err("  rsi %016" PRIx64 " rdi %016" PRIx64 " rsp %016" PRIx64 " rbp %016" PRIx64,
		r.rsi, r.rdi, r.rsp, r.rbp);
	log_err("  r8  %016" PRIx64 " r9  %016" PRIx64 " r10 %016" PRIx64 " r11 %016" PRIx64,
		r.r8, r.r9, r.r10, r.r11);
	log_err("  r12 %016" PRIx64 " r13 %016" PRIx64 " r14 %016" PRIx64 " r15 %016" PRIx64,
		r.r12, r.r13, r.r14, r.r15);
	log_err("  cr0 %016" PRIx64 " cr2 %016" PRIx64 " cr3 %016" PRIx64 " cr4 %016" PRIx64
		" efer %" PRIx64, r.cr0, r.cr2, r.cr3, r.cr4, r.efer);
}
