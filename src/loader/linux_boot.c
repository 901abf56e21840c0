/* SPDX-License-Identifier: MIT */
/*
 * Linux loader (see linux_boot.h): checks the bzImage, the command line and
 * where kernel and initrd go against guest RAM, then writes the kernel,
 * initrd, command line, boot_params, identity page tables and GDT, and
 * says how to enter. Nothing is written before every check has passed.
 */
#include "loader/linux_boot.h"
#include "util/le_bytes.h"
#include "util/err_fmt.h"

#include "loader/vmlinux_elf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LB_1M 0x100000ULL
#define LB_PAGE 0x1000ULL
#define LB_2M 0x200000ULL
#define LB_PTE_P 0x1ULL
#define LB_PTE_RW 0x2ULL
#define LB_PTE_PS 0x80ULL

#define lb_fail(err, errlen, rc, fmt, ...) \
	err_fmt(err, errlen, rc, "" fmt, ##__VA_ARGS__)

void linux_zero_page(uint8_t zp[LINUX_ZERO_PAGE_SIZE], const struct linux_zero_page_args *a)
{
	memset(zp, 0, LINUX_ZERO_PAGE_SIZE);
	memcpy(zp + BZ_SETUP_SECTS, a->image + BZ_SETUP_SECTS, a->bz->header_end - BZ_SETUP_SECTS);
	zp[BZ_TYPE_OF_LOADER] = LINUX_TYPE_OF_LOADER;
	put32(zp + BZ_CODE32_START, (uint32_t)a->bz->load_addr);
	put32(zp + BZ_CMD_LINE_PTR, (uint32_t)a->cmdline_addr);
	put32(zp + BZ_RAMDISK_IMAGE, (uint32_t)a->initrd_addr);
	put32(zp + BZ_RAMDISK_SIZE, (uint32_t)a->initrd_size);
	put32(zp + BZ_HARDWARE_SUBARCH, 0);
	put64(zp + BZ_SETUP_DATA, 0);
	put64(zp + BP_ACPI_RSDP_ADDR, a->acpi_rsdp);
	unsigned n = a->nr_e820 < BP_E820_MAX ? a->nr_e820 : BP_E820_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
		put64(e, a->e820[i].addr);
		put64(e + 8, a->e820[i].size);
		put32(e + 16, a->e820[i].type);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
}

/* End of the RAM region that starts at 0 (below the PCI hole). */
static uint64_t low_ram_end(const struct guest_ram *ram)
{
	for (unsigned i = 0; i < ram->nr_regions && i < GUEST_RAM_MAX_REGIONS; i++)
		if (ram->region[i].gpa == 0)
			return ram->region[i].size;
	return 0;
}

static void write_page_tables(struct guest_ram *ram)
{
	uint8_t *pml4 = guest_ram_ptr(ram, LINUX_PML4, LB_PAGE);
	uint8_t *pdpt = guest_ram_ptr(ram, LINUX_PDPT, LB_PAGE);
	uint8_t *pd = guest_ram_ptr(ram, LINUX_PD, LINUX_PD_COUNT * LB_PAGE);
	memset(pml4, 0, LB_PAGE);
	memset(pdpt, 0, LB_PAGE);
	put64(pml4, LINUX_PDPT | LB_PTE_P | LB_PTE_RW);
	for (unsigned i = 0; i < LINUX_PD_COUNT; i++) {
		put64(pdpt + 8 * i, (LINUX_PD + i * LB_PAGE) | LB_PTE_P | LB_PTE_RW);
		for (unsigned j = 0; j < 512; j++) {
			uint64_t phys = ((uint64_t)i << 30) + (uint64_t)j * LB_2M;
			put64(pd + i * LB_PAGE + 8 * j, phys | LB_PTE_P | LB_PTE_RW | LB_PTE_PS);
		}
	}
}

static void write_gdt(struct guest_ram *ram)
{
	uint8_t *gdt = guest_ram_ptr(ram, LINUX_GDT, LINUX_GDT_LIMIT + 1);
	memset(gdt, 0, LINUX_GDT_LIMIT + 1);
	put64(gdt + LINUX_BOOT_CS, LINUX_GDT_CODE64);
	put64(gdt + LINUX_BOOT_DS, LINUX_GDT_DATA);
}

/* Where the initrd goes, or -ENOMEM: see linux_load. */
static int place_initrd(uint64_t low_end, const struct bzimage_info *bz, uint64_t size,
			uint64_t *addr, char *err, size_t errlen)
{
	uint64_t kernel_end = bz->load_addr + bz->mem_size;
	uint64_t limit = (uint64_t)bz->initrd_addr_max + 1;
	if (limit > low_end)
		limit = low_end;
	uint64_t start = limit > size ? (limit - size) & ~(LB_PAGE - 1) : 0;
	if (size > limit || start < kernel_end)
		return lb_fail(err, errlen, -ENOMEM,
			       "initrd: %llu bytes do not fit in guest RAM between the kernel's end "
			       "0x%llx and 0x%llx (the lower of RAM's end below 4 GiB and the kernel's "
			       "initrd_addr_max + 1); give the guest more --memory",
			       (unsigned long long)size, (unsigned long long)kernel_end,
			       (unsigned long long)limit);
	*addr = start;
	return 0;
}

int linux_load(struct guest_ram *ram, const struct linux_boot_args *a, struct linux_entry *out,
	       char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!ram || !ram->host || !a || !out || (!a->kernel && a->kernel_size) ||
	    (!a->initrd && a->initrd_size))
		return lb_fail(err, errlen, -EINVAL, "linux: missing guest RAM, parameters or output");
	struct e820_entry e820[PLATFORM_E820_MAX];
	unsigned nr_e820 = platform_e820(ram, e820);
	uint64_t low_end = low_ram_end(ram);
	if (!nr_e820 || !guest_ram_ptr(ram, 0, LINUX_CMDLINE + LINUX_CMDLINE_MAX))
		return lb_fail(err, errlen, -EINVAL, "linux: guest RAM has no low region above 1 MiB");

	struct bzimage_info bz;
	int rc = bzimage_parse(a->kernel, a->kernel_size, &bz, err, errlen);
	if (rc)
		return rc;
	const char *cmdline = a->cmdline ? a->cmdline : "";
	size_t cmdline_len = strnlen(cmdline, LINUX_CMDLINE_MAX);
	uint64_t cmdline_max = bz.cmdline_size < LINUX_CMDLINE_MAX - 1 ? bz.cmdline_size
								       : LINUX_CMDLINE_MAX - 1;
	if (cmdline_len > cmdline_max)
		return lb_fail(err, errlen, -E2BIG,
			       "kernel command line: %zu%s bytes, longer than the %llu the kernel "
			       "takes (cmdline_size)", cmdline_len,
			       cmdline_len == LINUX_CMDLINE_MAX ? " or more" : "",
			       (unsigned long long)cmdline_max);
	struct vmlinux_info vi;
	if (a->vmlinux) {
		rc = vmlinux_parse(a->vmlinux, a->vmlinux_size, &vi, err, errlen);
		if (rc)
			return rc;
		if (vi.min_paddr < bz.pref_address)
			return lb_fail(err, errlen, -ENOEXEC,
				       "kernel: vmlinux: segment at 0x%llx lies below the bzImage's "
				       "pref_address 0x%llx (where the kernel is linked to run)",
				       (unsigned long long)vi.min_paddr,
				       (unsigned long long)bz.pref_address);
		/* pref_address <= min_paddr < end_paddr <= 4 GiB: no overflow below. */
		if (vi.end_paddr - bz.pref_address > bz.mem_size)
			bz.mem_size = vi.end_paddr - bz.pref_address;
	}
	if (bz.mem_size > low_end || bz.load_addr > low_end - bz.mem_size ||
	    !guest_ram_ptr(ram, bz.load_addr, bz.mem_size))
		return lb_fail(err, errlen, -ENOMEM,
			       "kernel: bzImage needs guest RAM [0x%llx, 0x%llx) (its load address "
			       "and init_size%s), but RAM below 4 GiB ends at 0x%llx; give --memory "
			       "%lluM or more", (unsigned long long)bz.load_addr,
			       (unsigned long long)(bz.load_addr + bz.mem_size),
			       a->vmlinux ? " or its vmlinux's span" : "", (unsigned long long)low_end,
			       (unsigned long long)((bz.load_addr + bz.mem_size + LB_1M - 1) >> 20));
	uint64_t initrd_addr = 0, initrd_size = a->initrd ? a->initrd_size : 0;
	if (initrd_size) {
		rc = place_initrd(low_end, &bz, initrd_size, &initrd_addr, err, errlen);
		if (rc)
			return rc;
	}

	/* Everything checked: from here on nothing fails. */
	const uint8_t *img = a->kernel;
	uint8_t *kernel = guest_ram_ptr(ram, bz.load_addr, bz.mem_size);
	uint64_t rip = bz.load_addr + BZ_ENTRY64_OFFSET;
	if (a->vmlinux) {
		memset(kernel, 0, bz.mem_size);
		for (unsigned i = 0; i < vi.nr_seg; i++)
			memcpy(kernel + (vi.seg[i].paddr - bz.pref_address),
			       (const uint8_t *)a->vmlinux + vi.seg[i].offset, vi.seg[i].filesz);
		rip = bz.load_addr + (vi.entry - bz.pref_address);
	} else {
		memcpy(kernel, img + bz.setup_size, bz.pm_size);
		memset(kernel + bz.pm_size, 0, bz.mem_size - bz.pm_size);
	}
	if (initrd_size)
		memcpy(guest_ram_ptr(ram, initrd_addr, initrd_size), a->initrd, initrd_size);
	char *cl = guest_ram_ptr(ram, LINUX_CMDLINE, LINUX_CMDLINE_MAX);
	memset(cl, 0, LINUX_CMDLINE_MAX);
	memcpy(cl, cmdline, cmdline_len);
	write_page_tables(ram);
	write_gdt(ram);
	struct linux_zero_page_args zpa = {
		.image = img, .bz = &bz, .cmdline_addr = LINUX_CMDLINE,
		.initrd_addr = initrd_addr, .initrd_size = initrd_size,
		.acpi_rsdp = a->acpi_rsdp, .e820 = e820, .nr_e820 = nr_e820,
	};
	linux_zero_page(guest_ram_ptr(ram, LINUX_ZERO_PAGE, LINUX_ZERO_PAGE_SIZE), &zpa);

	*out = (struct linux_entry){
		.rip = rip,
		.rsi = LINUX_ZERO_PAGE,
		.rsp = LINUX_STACK_TOP,
		.cr3 = LINUX_PML4,
		.gdt_base = LINUX_GDT,
		.gdt_limit = LINUX_GDT_LIMIT,
		.kernel_addr = bz.load_addr,
		.kernel_mem = bz.mem_size,
		.initrd_addr = initrd_addr,
		.initrd_size = initrd_size,
	};
	return 0;
}
