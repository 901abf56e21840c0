/* SPDX-License-Identifier: MIT */
/*
 * KVM backend, vCPU half: creation with CPUID, the entry states (Multiboot
 * 32-bit, Linux 64-bit), KVM_RUN and the translation of kvm_run exits into
 * struct vcpu_exit, kicks (a signal plus immediate_exit, so a kick never
 * gets lost between the check and the ioctl), and register reads for fault
 * reports. Ends with the ops.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/vm.h"
#include "cpu/kvm/kvm_priv.h"
#include "cpu/kvm/kvm_vm.h"
#include "cpu/x86.h"

#define KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static int install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	return sigaction(KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static int kvm_vcpu_create(struct vcpu *vcpu)
{
	struct kvm_vm *k = vcpu->vm->be;
	struct kvm_vcpu *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	vcpu->be = c;
	int rc = install_kick_handler();
	if (rc)
		return rc;
	c->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, vcpu->id);
	if (c->fd < 0)
		return -errno;
	void *run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	c->run = run;
	return kvm_cpuid_set(k, c->fd, vcpu->id);
}

static void kvm_vcpu_destroy(struct vcpu *vcpu)
{
	struct kvm_vm *k = vcpu->vm->be;
	struct kvm_vcpu *c = vcpu->be;
	if (!c)
		return;
	if (c->run)
		munmap(c->run, (size_t)k->run_size);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	vcpu->be = NULL;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

static int kvm_vcpu_set_boot_state(struct vcpu *vcpu, const struct vcpu_boot_state *bs)
{
	struct kvm_vcpu *c = vcpu->be;
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	flat_segment(&s.cs, 0x10, 0xb); /* execute/read, accessed */
	flat_segment(&s.ds, 0x18, 0x3); /* read/write, accessed */
	s.es = s.fs = s.gs = s.ss = s.ds;
	struct kvm_regs r = { .rflags = 2 };
	if (bs->mode == VCPU_BOOT_LONG64) {
		s.cs.l = 1; /* 64-bit code: L set, D clear */
		s.cs.db = 0;
		s.gdt.base = bs->gdt_base;
		s.gdt.limit = bs->gdt_limit;
		s.cr3 = bs->cr3;
		s.cr4 = X86_CR4_PAE;
		s.cr0 = X86_CR0_PG | X86_CR0_ET | X86_CR0_PE;
		s.efer = X86_EFER_LMA | X86_EFER_LME;
		r.rip = bs->rip;
		r.rsi = bs->rsi;
		r.rsp = bs->rsp;
	} else {
		s.cr0 = 0x11; /* PE | ET: Multiboot's protected mode, paging off */
		s.cr4 = 0;
		s.efer = 0;
		r.rip = bs->eip;
		r.rax = bs->eax;
		r.rbx = bs->ebx;
	}
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	return ioctl(c->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

/* Hand out element c->pio_index of the current (string) port I/O exit. */
static void pio_element(struct kvm_vcpu *c, struct vcpu_exit *exit)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset + (size_t)c->pio_index * run->io.size;
	exit->kind = VCPU_EXIT_IO;
	exit->io = (struct io_access){
		.space = IO_SPACE_PIO,
		.addr = run->io.port,
		.size = run->io.size,
		.is_write = run->io.direction == KVM_EXIT_IO_OUT,
	};
	if (exit->io.is_write)
		memcpy(&exit->io.data, data, run->io.size);
	c->pending_read = !exit->io.is_write;
}

/* Deliver the exit path's answer to the previous read exit. */
static void complete_read(struct kvm_vcpu *c, const struct vcpu_exit *exit)
{
	struct kvm_run *run = c->run;
	if (run->exit_reason == KVM_EXIT_IO) {
		uint8_t *data = (uint8_t *)run + run->io.data_offset +
				(size_t)c->pio_index * run->io.size;
		memcpy(data, &exit->io.data, run->io.size);
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		memcpy(run->mmio.data, &exit->io.data, run->mmio.len);
	}
	c->pending_read = false;
}

static void internal(struct vcpu_exit *exit, const char *fmt, unsigned long long a,
		     unsigned long long b)
{
	exit->kind = VCPU_EXIT_INTERNAL;
	snprintf(exit->reason, sizeof(exit->reason), fmt, a, b);
}

static int kvm_vcpu_run(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	struct kvm_vcpu *c = vcpu->be;
	struct kvm_run *run = c->run;

	if (c->pending_read)
		complete_read(c, exit);
	/* More elements of a rep ins/outs: no need to enter the guest. */
	if (c->pio_count && ++c->pio_index < c->pio_count) {
		pio_element(c, exit);
		return 0;
	}
	c->pio_count = 0;

	if (ioctl(c->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			run->immediate_exit = 0;
			exit->kind = VCPU_EXIT_KICKED;
			return 0;
		}
		return -errno;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		c->pio_index = 0;
		c->pio_count = run->io.count;
		if (!c->pio_count || (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)) {
			internal(exit, "port I/O exit with size %llu count %llu", run->io.size,
				 run->io.count);
			return 0;
		}
		pio_element(c, exit);
		return 0;
	case KVM_EXIT_MMIO:
		if (run->mmio.len == 0 || run->mmio.len > 8) {
			internal(exit, "MMIO exit at 0x%llx with length %llu", run->mmio.phys_addr,
				 run->mmio.len);
			return 0;
		}
		exit->kind = VCPU_EXIT_IO;
		exit->io = (struct io_access){
			.space = IO_SPACE_MMIO,
			.addr = run->mmio.phys_addr,
			.size = (uint8_t)run->mmio.len,
			.is_write = run->mmio.is_write,
		};
		if (run->mmio.is_write)
			memcpy(&exit->io.data, run->mmio.data, run->mmio.len);
		c->pending_read = !run->mmio.is_write;
		return 0;
	case KVM_EXIT_INTR:
		exit->kind = VCPU_EXIT_KICKED;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		exit->kind = VCPU_EXIT_TRIPLE_FAULT;
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			exit->kind = VCPU_EXIT_POWEROFF;
			return 0;
		case KVM_SYSTEM_EVENT_RESET:
			exit->kind = VCPU_EXIT_RESET;
			return 0;
		default:
			internal(exit, "KVM system event %llu (flags 0x%llx)",
				 run->system_event.type, run->system_event.flags);
			return 0;
		}
	case KVM_EXIT_INTERNAL_ERROR:
		internal(exit, "KVM internal error, suberror %llu (%llu data words)",
			 run->internal.suberror, run->internal.ndata);
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			snprintf(exit->reason, sizeof(exit->reason),
				 "KVM could not emulate an instruction (suberror 1)");
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		internal(exit, "KVM entry failed, hardware reason 0x%llx on CPU %llu",
			 run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
		return 0;
	default:
		internal(exit, "unexpected KVM exit reason %llu (hardware reason 0x%llx)",
			 run->exit_reason, run->hw.hardware_exit_reason);
		return 0;
	}
}

static void kvm_vcpu_kick(struct vcpu *vcpu)
{
	struct kvm_vcpu *c = vcpu->be;
	__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, KICK_SIGNAL);
}

static int kvm_vcpu_get_regs(struct vcpu *vcpu, struct vcpu_regs *out)
{
	struct kvm_vcpu *c = vcpu->be;
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 || ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	*out = (struct vcpu_regs){
		.rax = r.rax, .rbx = r.rbx, .rcx = r.rcx, .rdx = r.rdx,
		.rsi = r.rsi, .rdi = r.rdi, .rsp = r.rsp, .rbp = r.rbp,
		.r8 = r.r8, .r9 = r.r9, .r10 = r.r10, .r11 = r.r11,
		.r12 = r.r12, .r13 = r.r13, .r14 = r.r14, .r15 = r.r15,
		.rip = r.rip, .rflags = r.rflags,
		.cr0 = s.cr0, .cr2 = s.cr2, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer,
		.cs = s.cs.selector, .ds = s.ds.selector, .ss = s.ss.selector,
		.cs_base = s.cs.base, .cpl = s.cs.dpl, .long_mode = (s.efer & X86_EFER_LMA) != 0,
	};
	return 0;
}

const struct cpu_backend_ops kvm_backend_ops = {
	.name = "kvm",
	.probe = kvm_probe,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.map = kvm_map,
	.unmap = kvm_unmap,
	.mapping_count = kvm_mapping_count,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_set_boot_state = kvm_vcpu_set_boot_state,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_get_regs = kvm_vcpu_get_regs,
	.irq_line = kvm_irq_line,
	.signal_msi = kvm_signal_msi,
	.dirty_log = kvm_dirty_log,
	.dirty_collect = kvm_dirty_collect,
};
