/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend interface: the only way code above src/cpu/ reaches KVM (or
 * the software CPU). No header outside src/cpu/<backend>/ includes
 * <linux/kvm.h> or unicorn.
 *
 * A backend never decides what an access means: it hands every trapped
 * access, whole, to the shared exit path (io_dispatch, core/io_dispatch.h),
 * which looks the page up in the P2M once and applies M, C and I rules. It
 * does so in one of two shapes:
 *  - from an exit (kvm): vcpu_run returns VCPU_EXIT_IO, the vCPU loop
 *    (vcpu_loop.c) calls io_dispatch(IO_FROM_EXIT) and a read's data goes
 *    back to the guest on the next vcpu_run;
 *  - from inside guest mode (tcg, K13): the engine cannot leave a memory or
 *    port callback, so the backend calls io_dispatch(IO_FROM_GUEST) in the
 *    callback; the exit path takes the vCPU out of guest mode (K3) around
 *    waits itself, and IO_STOP asks the backend to stop at its next chance.
 * Either way a backend may first serve its own platform devices, those KVM
 * keeps in the kernel (local APICs, I/O APIC, PIC, PIT), and nothing else.
 */
#ifndef IOREQVM_CPU_BACKEND_H
#define IOREQVM_CPU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Effective access of a run of guest pages (DESIGN K2). */
enum mem_access {
	MEM_ACCESS_NONE = 0, /* every access exits */
	MEM_ACCESS_RO = 1,   /* reads and fetches from memory, writes exit */
	MEM_ACCESS_RW = 2,   /* no exits */
};

enum io_space {
	IO_SPACE_PIO = 0,
	IO_SPACE_MMIO = 1,
	IO_SPACE_COUNT
};

/* One guest access, as the exit path sees it: one per guest instruction access. */
struct io_access {
	enum io_space space;
	uint64_t addr;   /* port or guest-physical address */
	uint8_t size;    /* 1, 2, 4 or 8 */
	bool is_write;
	uint64_t data;   /* write: value written; read: filled in by the exit path */
};

enum vcpu_exit_kind {
	VCPU_EXIT_IO,           /* an access to complete: see io */
	VCPU_EXIT_KICKED,       /* interrupted by vcpu_kick(); nothing to do */
	VCPU_EXIT_TRIPLE_FAULT, /* guest shut down by a triple fault */
	VCPU_EXIT_INTERNAL,     /* emulation failure / backend error: see reason */
	VCPU_EXIT_RESET,        /* guest-initiated reset seen by the backend */
	VCPU_EXIT_POWEROFF,     /* guest-initiated power-off seen by the backend */
};

struct vcpu_exit {
	enum vcpu_exit_kind kind;
	struct io_access io;
	char reason[160];
};

/* Register state for diagnostics and for setting entry state. */
struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint16_t cs, ds, ss;
	uint64_t cs_base;
	uint8_t cpl;
	bool long_mode;
};

enum vcpu_boot_mode {
	/* Multiboot: 32-bit protected mode, flat CS 0x10 / data 0x18, paging off. */
	VCPU_BOOT_PROTECTED32 = 0,
	/*
	 * Linux 64-bit boot protocol (L1): long mode, paging on with @cr3
	 * (identity tables), CR4.PAE, EFER.LME|LMA, GDTR @gdt_base/@gdt_limit,
	 * CS 0x10 (64-bit code), DS/ES/FS/GS/SS 0x18, interrupts off.
	 */
	VCPU_BOOT_LONG64 = 1,
};

/* vCPU 0's entry state; the zero-initialised form is PROTECTED32. */
struct vcpu_boot_state {
	enum vcpu_boot_mode mode;
	uint32_t eip, eax, ebx;             /* PROTECTED32 */
	uint64_t rip, rsi, rsp, cr3, gdt_base; /* LONG64 */
	uint16_t gdt_limit;
};

struct cpu_backend_ops {
	const char *name;
	/* Can this backend run here? 0, or -errno with a message in err. */
	int (*probe)(const char *device, char *err, size_t errlen);
	/* What it runs on, for --version (e.g. the engine library's version); optional. */
	void (*describe)(char *buf, size_t len);

	int (*vm_create)(struct vm *vm, char *err, size_t errlen);
	void (*vm_destroy)(struct vm *vm);

	/*
	 * Map [gpa, gpa + size) to host memory at @host_offset in guest RAM's
	 * memfd with @access, replacing nothing: the range must be unmapped.
	 * Only while no vCPU runs guest code (K3). 0, -ENOSPC past the
	 * backend's mapping limit, other -errno.
	 */
	int (*map)(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
		   enum mem_access access);
	/* Remove the mapping that starts at @gpa (exactly as created). */
	int (*unmap)(struct vm *vm, uint64_t gpa);
	/* Mappings in use and allowed (K4). */
	void (*mapping_count)(struct vm *vm, unsigned *used, unsigned *limit);

	int (*vcpu_create)(struct vcpu *vcpu);
	void (*vcpu_destroy)(struct vcpu *vcpu);
	int (*vcpu_set_boot_state)(struct vcpu *vcpu, const struct vcpu_boot_state *bs);
	/*
	 * Run until the next exit. For VCPU_EXIT_IO reads, the exit path fills
	 * io.data and the next vcpu_run delivers it to the guest. 0 or -errno.
	 */
	int (*vcpu_run)(struct vcpu *vcpu, struct vcpu_exit *exit);
	/* Make vcpu_run return VCPU_EXIT_KICKED soon; any thread. */
	void (*vcpu_kick)(struct vcpu *vcpu);
	/*
	 * The vCPU's thread, waiting in user space for a device model's answer
	 * for @waited_ns so far, is about to sleep; called before every sleep
	 * of that wait. Returns the longest it may sleep before calling again,
	 * 0 for no bound. Optional (NULL: kvm, whose vCPUs run independently):
	 * tcg holds the execution turn for a while, then lets the other vCPUs
	 * execute meanwhile (K13).
	 */
	uint64_t (*vcpu_block)(struct vcpu *vcpu, uint64_t waited_ns);
	/* The wait is over (answered, server gone, VM stopping); after vcpu_block only. */
	void (*vcpu_unblock)(struct vcpu *vcpu);
	int (*vcpu_get_regs)(struct vcpu *vcpu, struct vcpu_regs *regs);

	/* Drive an interrupt line (GSI) of the platform's interrupt controllers. */
	int (*irq_line)(struct vm *vm, unsigned gsi, bool level);
	/* Deliver an MSI (address 0xfeexxxxx, data); NULL if unsupported. */
	int (*signal_msi)(struct vm *vm, uint64_t addr, uint32_t data);
	/*
	 * Guest RAM [gpa, gpa + len) was written behind the CPU's back: by the
	 * exit path for vCPU @self (a trapped write served into RAM, or one a
	 * device model completed on a claimed page), or by a device model
	 * (@self NULL). Forget code translated from it (K8), in @self's engine
	 * at once. NULL when the backend executes from guest RAM directly (kvm).
	 */
	int (*code_changed)(struct vm *vm, struct vcpu *self, uint64_t gpa, uint64_t len);
	/*
	 * Dirty logging for track_dirty_vram (core/dirty_vram.c): log the
	 * guest's stores to RAM frames [first, first + nr), forgetting any
	 * range logged before; nr 0 stops logging. Called with the vCPUs out
	 * of guest code (K3) and the P2M's writer lock held (no map/unmap
	 * meanwhile). Optional: NULL, the backend cannot log (EOPNOTSUPP).
	 */
	int (*dirty_log)(struct vm *vm, uint64_t first, uint64_t nr);
	/*
	 * OR into @bits (bit i of word i / 64: frame first + i of the logged
	 * range) the frames the guest stored to since logging began or the
	 * last call, and forget them; any time, P2M lock held. NULL when every
	 * store to a logged frame traps and reaches the exit path, which notes
	 * it (tcg).
	 */
	int (*dirty_collect)(struct vm *vm, uint64_t *bits);
};

/* Backends built in, in "auto" preference order; NULL-terminated. */
extern const struct cpu_backend_ops *const cpu_backends[];

/*
 * Choose a backend by name ("kvm", "tcg", "auto"). @device overrides the
 * backend's device node (tests fake a missing /dev/kvm). Returns the ops or
 * NULL with a message in err.
 */
const struct cpu_backend_ops *cpu_backend_select(const char *name, const char *device,
						 char *err, size_t errlen);

#endif
