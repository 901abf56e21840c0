/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm test-guest kit: the one public header. A guest is one .c file
 * that defines guest_main(); the kit boots it from Multiboot v1 into 64-bit
 * long mode at CPL0 and passes guest_main()'s return value to guest_exit().
 *
 * Machine state when guest_main() runs (BSP, CPU index 0):
 *  - 64-bit mode, CPL0, interrupts off (IF=0; the kit never sets IF, and
 *    no interrupt controller is programmed), SSE/x87 unused.
 *  - Paging: identity map of the first 4 GiB with 2 MiB pages, all pages
 *    present, writable and user-accessible (U/S=1 at every level);
 *    0xC0000000-0xFFFFFFFF is uncached (PCD|PWT) so LAPIC 0xFEE00000, the
 *    I/O APIC and PCI-hole MMIO are reachable. Virtual == physical always.
 *  - COM1 16550 at 0x3f8 initialised (115200 8N1, no interrupts).
 *
 * Memory the kit uses (the VMM must keep these free / RAM):
 *  - 0x100000 (1 MiB): the image (.text, .data, .bss, about 0.5 MiB with
 *    per-CPU stacks: 8 KiB kernel, 4 KiB IST and 16 KiB user stack per CPU,
 *    GUEST_MAX_CPUS of each). The loader must zero .bss (ELF memsz).
 *  - 0x8000-0x80ff: AP real-mode trampoline, written by guest_smp_start()
 *    only (SIPI vector 0x08; another vector's page after
 *    guest_smp_set_sipi_vector()). The Multiboot info may live anywhere else.
 *  - reads the MP table (0xF0000-0xFFFFF, EBDA, last KiB of base memory)
 *    and the LAPIC at 0xFEE00000 (xAPIC MMIO).
 * GDT: 0x08 kernel code64, 0x10 kernel data, 0x18 code32, 0x20 user data
 * (DPL3), 0x28 user code64 (DPL3), 0x30/0x38 zero (spare, e.g. for a VMM's
 * call gate), 0x40 + 16*i: TSS of CPU i.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- exit ---------------------------------------------------------------
 * guest_exit(v) writes byte v to port 0xf4 (QEMU isa-debug-exit; ioreqvm
 * does the same): the VMM process exits with status (v << 1) | 1. If the
 * write does not stop the VM, the CPU halts forever with IF=0.
 * Values: v in 0..127 (status is 8 bits).
 */
#define GUEST_EXIT_PASS 0         /* all checks held: process status 1 */
#define GUEST_EXIT_FAIL 1         /* a check failed: status 3; guests use
				   * GUEST_EXIT_FAIL + n, n < 0x40, per check */
#define GUEST_EXIT_EXCEPTION 0x70 /* unhandled exception: status 0xe1 */
#define GUEST_EXIT_BAD_BOOT 0x71  /* EAX != 0x2BADB002 at entry: 0xe3 */

__attribute__((noreturn)) void guest_exit(unsigned value);

/* Defined by each guest; its return value goes to guest_exit(). */
int guest_main(void);

/* ---- serial (COM1, polled) ----------------------------------------------
 * Output is "\n"-terminated lines, no "\r". guest_printf() supports
 * %d %i %u %x %X %c %s %p %% with the l and ll modifiers (%ld %lu %lx
 * %llx ...), width, '0' padding and '-' (left justify). Each call holds an
 * output lock, so lines from different CPUs do not interleave. Port I/O:
 * never call these from CPL3 code (it faults there).
 */
void guest_putc(char c);
void guest_puts(const char *s); /* no newline added */
__attribute__((format(printf, 1, 2))) int guest_printf(const char *fmt, ...);
int guest_vprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated if n > 0); returns the length
 * the full output would have. Safe at CPL3 (touches memory only). */
__attribute__((format(printf, 3, 4))) int guest_snprintf(char *buf, size_t n, const char *fmt, ...);

/* ---- Multiboot v1 information -------------------------------------------- */
struct guest_mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB, valid if flags bit 0 */
	uint32_t boot_device;
	uint32_t cmdline; /* bit 2 */
	uint32_t mods_count, mods_addr; /* bit 3 */
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr; /* bit 6 */
} __attribute__((packed));

struct guest_mb_mmap { /* 'size' is the size of the rest (>= 20) */
	uint32_t size;
	uint64_t addr, len;
	uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

struct guest_mb_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

/* The loader's info structure (address from EBX at entry). */
const struct guest_mb_info *guest_mb_info(void);
/* Command line, "" if the loader gave none. */
const char *guest_cmdline(void);
/* The command line after its first word (the kernel's file name, as QEMU and ioreqvm pass it). */
const char *guest_cmdline_arg(void);
/* Is the word after the file name exactly @word? */
bool guest_cmdline_is(const char *word);

/* ---- guests with modes ---------------------------------------------------
 * guest_run_mode(prefix, modes) runs the mode the command line names and
 * returns GUEST_EXIT_PASS if every guest_check() held (GUEST_EXIT_FAIL + 1
 * if one failed, GUEST_EXIT_FAIL for an unknown mode). Each check prints
 * "<prefix>: <what> ok|FAILED (got G, want W)"; the end "<prefix>: N failures".
 */
struct guest_mode {
	const char *name;
	void (*run)(void);
};
int guest_run_mode(const char *prefix, const struct guest_mode *modes);
/* x after n steps of x = a x + c (mod 2^64), in O(log n): square-and-multiply. */
uint64_t guest_lcg_jump(uint64_t x, uint64_t n, uint64_t a, uint64_t c);
void guest_check(bool ok, const char *what, uint64_t got, uint64_t want);
/* mem_lower/mem_upper in KiB; returns false (and 0s) if not provided. */
bool guest_mem_kib(uint32_t *lower, uint32_t *upper);
/* Memory map: pass NULL for the first entry; NULL after the last. */
const struct guest_mb_mmap *guest_mmap_next(const struct guest_mb_mmap *prev);
/* Modules: count (0 if none) and the i-th (NULL if out of range). */
unsigned guest_module_count(void);
const struct guest_mb_module *guest_module(unsigned i);

/* ---- CPU: exceptions, handlers, CPL3 ------------------------------------ */
struct guest_frame { /* saved by the vector's stub, lowest address first */
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code; /* error_code 0 if the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss; /* the CPU's interrupt frame */
};
typedef void (*guest_handler_t)(struct guest_frame *f);

/*
 * Installs fn for vector (0..255; the IDT has a gate for each, interrupt
 * gates, DPL0 except vector 3, DPL3). NULL restores the default, which for every vector prints
 * vector, error code, RIP, CS, CR2 and exits GUEST_EXIT_EXCEPTION. When fn
 * returns, the (possibly modified) frame is restored and IRETQ resumes.
 * Vectors 2 (NMI), 8 (#DF) and 18 (#MC) run on the CPU's IST1 stack.
 * Handlers are global (all CPUs). Returns 0, or -1 for a bad vector.
 */
int guest_set_handler(unsigned vector, guest_handler_t fn);

/*
 * Runs fn(arg) at CPL3 (64-bit, user CS 0x2b / SS 0x23, IF=0) on this
 * CPU's 16 KiB user stack and returns its return value at CPL0. Entry is an
 * IRETQ. The return path: fn returns into a stub that executes `int3`
 * (#BP, vector 3, whose interrupt gate has DPL3); the CPU switches to
 * TSS.RSP0, which guest_run_user() pointed just below its own frame, and
 * the #BP entry, seeing that int3's address and CPL3, unwinds to the
 * caller (any other #BP is handled as usual). Not `int 0x80`: on kvm_pvm
 * `int n` at CPL3 raises #UD (measured), int3 is delivered as #BP. fn
 * must not do port I/O or call guest_printf (CPL3 port I/O faults); it may
 * use memory, MMIO and guest_snprintf. Faults at CPL3 go to the normal
 * handlers. Not reentrant on one CPU; each CPU may use it.
 */
long guest_run_user(long (*fn)(void *), void *arg);
/* The same with IF=1 at CPL3 (interrupts taken while fn runs; back at CPL0
 * through the int3 gate IF is 0 again). */
long guest_run_user_irq(long (*fn)(void *), void *arg);

/* Index of the calling CPU: 0 for the BSP, 1.. for APs in start order. */
unsigned guest_cpu_index(void);

static inline void guest_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void guest_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void guest_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t guest_inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t guest_inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t guest_inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* MMIO: one access of exactly the given width (a single MOV). */
static inline uint8_t guest_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t guest_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t guest_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t guest_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void guest_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void guest_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void guest_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void guest_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

static inline uint16_t guest_read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint64_t guest_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t guest_rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline void guest_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void guest_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- SMP ------------------------------------------------------------------ */
#define GUEST_MAX_CPUS 16

struct guest_mp_cpu {
	uint8_t apic_id;
	uint8_t flags; /* MP table: bit 0 enabled, bit 1 bootstrap processor */
};

/*
 * Finds the Intel MP floating pointer ("_MP_", 16-byte aligned, checksum
 * 0) in 0xF0000-0xFFFFF, the first KiB of the EBDA, then the last KiB of
 * base memory, and lists the enabled processor entries (at most max).
 * Returns their number, or -1 if there is no usable MP table. The MP
 * "default configuration" (no table) counts as 2 CPUs, APIC ids 0 and 1.
 */
int guest_mp_cpus(struct guest_mp_cpu *cpus, int max);

/* This CPU's local APIC id (xAPIC: 0xFEE00020 >> 24). */
uint32_t guest_lapic_id(void);

/*
 * Starts every enabled AP of the MP table, one after another: INIT, a
 * short delay, SIPI (vector 0x08: trampoline at 0x8000, real -> protected
 * -> long mode) and, if the AP has not yet checked in, a second SIPI. Each
 * AP gets CPU index 1, 2, ... (MP table order, the BSP skipped), its own
 * stacks, TSS and the shared IDT, then calls ap_main(index) at CPL0 with
 * IF=0; when ap_main returns the AP halts. Returns the number of CPUs
 * running (BSP included), or -1 without an MP table. An AP that does not
 * check in within a few seconds is reported and skipped. Call once.
 */
int guest_smp_start(void (*ap_main)(unsigned cpu_index));

/*
 * Starts CPU index i (an AP that guest_smp_start() started) again as
 * guest_smp_start() did: INIT (whatever the AP was running is abandoned,
 * its stacks are reused; INIT also resets its local APIC except the ID, as
 * on hardware), SIPI vector 0x08 and, if it has not checked in, a second
 * SIPI. It runs the trampoline from real mode, reloads its TSS and IDT and
 * calls ap_main(i) at CPL0 with IF=0. Returns 0 once the AP has checked in,
 * -1 if i is not such an AP or it did not check in within a few seconds.
 * BSP only, after guest_smp_start(), one call at a time.
 */
int guest_smp_restart(unsigned index, void (*ap_main)(unsigned cpu_index));

/*
 * The SIPI vector of later starts and restarts (default 0x08): the
 * trampoline is copied to vector << 12 now and by every later
 * guest_smp_start(). Vector 0 puts it at linear address 0 (over the
 * real-mode IVT, which the kit never uses), so the AP starts at 0000:0000.
 */
void guest_smp_set_sipi_vector(uint8_t vector);

/* How many times CPU index i came up through the AP trampoline (0 for the
 * BSP); if real_mode_cs is not NULL, the CS its trampoline code ran with in
 * real mode the last time (0x0800: SIPI vector 0x08), 0 if none. */
unsigned guest_ap_starts(unsigned index, uint16_t *real_mode_cs);

/* APIC id of CPU index i (valid after guest_smp_start; BSP: index 0). */
uint32_t guest_cpu_apic_id(unsigned i);

/* Spinlock: xchg to take, a plain store to release; spins with PAUSE. */
typedef struct { volatile uint32_t locked; } guest_spinlock_t;
#define GUEST_SPINLOCK_INIT { 0 }
static inline void guest_spin_lock(guest_spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			guest_pause();
}
static inline void guest_spin_unlock(guest_spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

/* Atomics (sequentially consistent, LOCK-prefixed). Return the new value
 * for add, the old one for xchg/cmpxchg (cmpxchg: true if swapped). */
static inline uint64_t guest_atomic_add(volatile uint64_t *p, uint64_t v) { return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t guest_atomic_inc(volatile uint64_t *p) { return guest_atomic_add(p, 1); }
static inline uint64_t guest_atomic_load(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void guest_atomic_store(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t guest_atomic_xchg(volatile uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline bool guest_atomic_cmpxchg(volatile uint64_t *p, uint64_t *expected, uint64_t v)
{
	return __atomic_compare_exchange_n(p, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* ---- freestanding string helpers (also used by GCC-generated code) ------ */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
