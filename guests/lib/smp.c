/* SPDX-License-Identifier: MIT */
/*
 * SMP: the Intel MP table (floating pointer + processor entries), the
 * xAPIC (ID, ICR at 0xFEE00300/310) and AP start-up with INIT/SIPI/SIPI
 * through the real-mode trampoline (at the page of the SIPI vector), one
 * AP at a time; an AP that already ran can be started again the same way.
 */
#include "guest.h"
#include "kit.h"

#define LAPIC 0xFEE00000u
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xF0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define ICR_INIT 0x00004500u /* INIT, level assert */
#define ICR_SIPI 0x00004600u /* start-up; low byte = vector */
#define MP_SIG 0x5F504D5Fu   /* "_MP_" */
#define PCMP_SIG 0x504D4350u /* "PCMP" */

struct mp_fp {
	uint32_t sig, physptr;
	uint8_t length, rev, checksum, feature[5];
} __attribute__((packed));

struct mp_cfg {
	uint32_t sig;
	uint16_t base_len;
	uint8_t rev, checksum;
	char oem[8], product[12];
	uint32_t oem_ptr;
	uint16_t oem_size, entry_count;
	uint32_t lapic;
	uint16_t ext_len;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

static uint8_t sum(const uint8_t *p, unsigned n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static const struct mp_fp *scan(uintptr_t base, uintptr_t len)
{
	for (uintptr_t p = base; p < base + len; p += 16)
		if (*(const volatile uint32_t *)p == MP_SIG && !sum((const uint8_t *)p, 16))
			return (const struct mp_fp *)p;
	return 0;
}

static const struct mp_fp *find_mp(void)
{
	const struct mp_fp *fp = scan(0xF0000, 0x10000);
	uintptr_t ebda = (uintptr_t)*(volatile uint16_t *)0x40E << 4;
	uintptr_t basekib = *(volatile uint16_t *)0x413;

	if (!fp && ebda >= 0x80000 && ebda < 0xA0000)
		fp = scan(ebda, 1024);
	if (!fp)
		fp = scan(basekib >= 512 && basekib <= 640 ? basekib * 1024 - 1024 : 0x9FC00, 1024);
	return fp;
}

int guest_mp_cpus(struct guest_mp_cpu *cpus, int max)
{
	const struct mp_fp *fp = find_mp();
	int n = 0;

	if (!fp)
		return -1;
	if (!fp->physptr) { /* default configuration: two CPUs */
		if (!fp->feature[0])
			return -1;
		for (; n < 2 && n < max; n++)
			cpus[n] = (struct guest_mp_cpu){ (uint8_t)n, (uint8_t)(n ? 1 : 3) };
		return 2;
	}
	const struct mp_cfg *cfg = (const struct mp_cfg *)(uintptr_t)fp->physptr;
	if (cfg->sig != PCMP_SIG || sum((const uint8_t *)cfg, cfg->base_len))
		return -1;
	const uint8_t *e = (const uint8_t *)(cfg + 1);
	const uint8_t *end = (const uint8_t *)cfg + cfg->base_len;
	for (unsigned i = 0; i < cfg->entry_count && e < end; i++) {
		if (e[0] == 0) { /* processor: type, apic id, version, flags */
			if ((e[3] & 1) && n < max)
				cpus[n++] = (struct guest_mp_cpu){ e[1], e[3] };
			e += 20;
		} else {
			e += 8;
		}
	}
	return n;
}

static uint32_t lapic_read(unsigned reg) { return guest_read32(LAPIC + reg); }
static void lapic_write(unsigned reg, uint32_t v) { guest_write32(LAPIC + reg, v); }

uint32_t guest_lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

static void delay(unsigned n)
{
	while (n--)
		guest_pause();
}

static void send_ipi(uint32_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	for (unsigned i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & ICR_BUSY); i++)
		guest_pause();
}

volatile uint64_t kit_ap_stack;
static volatile unsigned ap_index, ap_started;
static void (*ap_entry)(unsigned);
static uint32_t apic_ids[KIT_MAX_CPUS];
static unsigned ap_count; /* CPUs guest_smp_start() brought up, BSP included */
static volatile unsigned ap_starts[KIT_MAX_CPUS];
static volatile uint16_t ap_real_cs[KIT_MAX_CPUS];

/*
 * Where the trampoline's copy is: the page of the SIPI vector. Volatile so
 * that the compiler never sees a constant 0 (a null pointer to it) when
 * vector 0 puts the copy at linear address 0.
 */
static volatile uintptr_t tramp_base = TRAMP_BASE;

/* The trampoline's copy of kit_tramp_cs. */
static volatile uint16_t *tramp_cs(void)
{
	return (volatile uint16_t *)(tramp_base + ((char *)kit_tramp_cs - kit_tramp_start));
}

/* Copies the trampoline to tramp_base and points its far jump at the copy. */
static void copy_tramp(void)
{
	uintptr_t base = tramp_base;
	volatile uint8_t *d = (volatile uint8_t *)base;
	for (size_t i = 0; i < (size_t)(kit_tramp_end - kit_tramp_start); i++)
		d[i] = (uint8_t)kit_tramp_start[i];
	*(volatile uint32_t *)(base + (uintptr_t)((char *)kit_tramp_pm_ptr - kit_tramp_start)) =
		(uint32_t)(base + (uintptr_t)(kit_tramp_pm - kit_tramp_start));
}

void guest_smp_set_sipi_vector(uint8_t vector)
{
	tramp_base = (uintptr_t)vector << 12;
	copy_tramp();
}

/* Waits up to ~ticks TSC ticks (and a bounded number of polls). */
static bool wait_started(uint64_t ticks)
{
	uint64_t t0 = guest_rdtsc();

	for (unsigned i = 0; i < 50000000; i++) {
		if (__atomic_load_n(&ap_started, __ATOMIC_ACQUIRE))
			return true;
		if (guest_rdtsc() - t0 > ticks)
			break;
		guest_pause();
	}
	return __atomic_load_n(&ap_started, __ATOMIC_ACQUIRE);
}

void kit_ap_start(void)
{
	unsigned i = ap_index;

	kit_cpu_init(i);
	ap_real_cs[i] = *tramp_cs();
	*tramp_cs() = 0;
	ap_starts[i]++;
	__atomic_store_n(&ap_started, 1, __ATOMIC_RELEASE);
	ap_entry(i);
	for (;;)
		__asm__ volatile("cli; hlt");
}

uint32_t guest_cpu_apic_id(unsigned i)
{
	return i < KIT_MAX_CPUS ? apic_ids[i] : 0xffffffffu;
}

/* INIT, SIPI and if needed a second SIPI to @id, which becomes CPU @index. */
static bool start_ap(uint32_t id, unsigned index)
{
	kit_ap_stack = (uintptr_t)kit_kstack[index] + KSTACK_SIZE;
	ap_index = index;
	__atomic_store_n(&ap_started, 0, __ATOMIC_RELEASE);
	send_ipi(id, ICR_INIT);
	delay(100); /* hardware wants 10 ms; a VM needs none */
	send_ipi(id, ICR_SIPI | (uint32_t)(tramp_base >> 12));
	if (!wait_started(20000000)) {
		send_ipi(id, ICR_SIPI | (uint32_t)(tramp_base >> 12));
		if (!wait_started(10000000000ull))
			return false;
	}
	return true;
}

int guest_smp_restart(unsigned index, void (*ap_main)(unsigned cpu_index))
{
	if (index == 0 || index >= ap_count)
		return -1;
	ap_entry = ap_main;
	if (!start_ap(apic_ids[index], index)) {
		guest_printf("smp: apic %u did not restart\n", apic_ids[index]);
		return -1;
	}
	return 0;
}

unsigned guest_ap_starts(unsigned index, uint16_t *real_mode_cs)
{
	if (index >= KIT_MAX_CPUS)
		return 0;
	if (real_mode_cs)
		*real_mode_cs = ap_real_cs[index];
	return ap_starts[index];
}

int guest_smp_start(void (*ap_main)(unsigned cpu_index))
{
	struct guest_mp_cpu cpus[64];
	int total = guest_mp_cpus(cpus, 64);
	unsigned n = 1;

	if (total < 0)
		return -1;
	copy_tramp();
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1FF); /* enable, vector 0xFF */
	apic_ids[0] = guest_lapic_id();
	ap_entry = ap_main;
	for (int c = 0; c < total && c < 64; c++) {
		uint32_t id = cpus[c].apic_id;
		if (id == apic_ids[0])
			continue;
		if (n >= KIT_MAX_CPUS) {
			guest_printf("smp: apic %u skipped (max %u cpus)\n", id, KIT_MAX_CPUS);
			continue;
		}
		if (!start_ap(id, n)) {
			guest_printf("smp: apic %u did not start\n", id);
			continue;
		}
		apic_ids[n++] = id;
	}
	ap_count = n;
	return (int)n;
}
