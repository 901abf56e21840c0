/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 loader: finds the header, reads the a.out kludge fields (ELF
 * parsing is in multiboot_elf.c), checks the plan against guest RAM and the
 * reserved low areas, then writes kernel, module and Multiboot info exactly
 * where QEMU's -kernel puts them. CPU state at entry is the backend's job.
 */
#include "loader/multiboot.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "loader/mptable.h"
#include "loader/multiboot_priv.h"

#define MB_HEADER_MIN 12U   /* magic, flags, checksum */
#define MB_HEADER_KLUDGE 32U /* + header/load/load_end/bss_end/entry addr */
#define MB_STRING_MAX 0x1000000U /* 16 MiB: any longer cmdline is a mistake */
#define MB_PAGE 0x1000ULL

struct mb_header {
	uint32_t offset; /* file offset of the magic */
	uint32_t flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Low areas no image byte may land in. Order: most specific first. */
static const struct {
	uint64_t start, end;
	const char *name;
} mb_reserved[] = {
	{ 0, MB_PAGE, "page 0 (real-mode IVT and BIOS data)" },
	{ MULTIBOOT_INFO_AREA_START, MULTIBOOT_INFO_AREA_END, "the Multiboot info area" },
	{ GUEST_LOW_MEM_END, GUEST_LEGACY_HOLE_START, "the EBDA" },
	{ MPTABLE_START, MPTABLE_START + MPTABLE_MAX_SIZE, "the MP table" },
	{ GUEST_LEGACY_HOLE_START, GUEST_LEGACY_HOLE_END, "the legacy hole" },
};

static uint32_t mb_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t mb_align_page(uint64_t x)
{
	return (x + MB_PAGE - 1) & ~(MB_PAGE - 1);
}

/* End of the RAM region that starts at 0 (low RAM, below the PCI hole). */
static uint64_t mb_low_ram_end(const struct guest_ram *ram)
{
	for (unsigned i = 0; i < ram->nr_regions && i < GUEST_RAM_MAX_REGIONS; i++)
		if (ram->region[i].gpa == 0)
			return ram->region[i].size;
	return 0;
}

static int mb_find_header(const uint8_t *img, size_t size, struct mb_header *h, char *err,
			  size_t errlen)
{
	long bad = -1;
	for (size_t i = 0; i < MULTIBOOT_SEARCH_END && i + MB_HEADER_MIN <= size; i += 4) {
		uint32_t magic = mb_le32(img + i);
		if (magic != MULTIBOOT_HEADER_MAGIC)
			continue;
		uint32_t flags = mb_le32(img + i + 4);
		if ((uint32_t)(magic + flags + mb_le32(img + i + 8)) != 0) {
			if (bad < 0)
				bad = (long)i;
			continue;
		}
		*h = (struct mb_header){ .offset = (uint32_t)i, .flags = flags };
		if (!(flags & MULTIBOOT_HDR_AOUT_KLUDGE))
			return 0;
		if (size - i < MB_HEADER_KLUDGE)
			return mb_fail(err, errlen, -ENOEXEC,
				       "kernel: Multiboot header at offset 0x%zx is cut off: its a.out "
				       "kludge fields end past the end of file (size 0x%zx)", i, size);
		h->header_addr = mb_le32(img + i + 12);
		h->load_addr = mb_le32(img + i + 16);
		h->load_end_addr = mb_le32(img + i + 20);
		h->bss_end_addr = mb_le32(img + i + 24);
		h->entry_addr = mb_le32(img + i + 28);
		return 0;
	}
	if (bad >= 0)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: Multiboot header at offset 0x%lx has a bad checksum", bad);
	return mb_fail(err, errlen, -ENOEXEC,
		       "kernel: no Multiboot header (magic 0x%08X) in the first %u bytes",
		       MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH_END);
}

/* a.out kludge (header flag 16): one segment, as QEMU reads the fields. */
static int mb_kludge_parse(const struct mb_header *h, size_t size, struct mb_plan *plan,
			   char *err, size_t errlen)
{
	if (h->header_addr < h->load_addr)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: a.out kludge: header_addr 0x%x is below load_addr 0x%x",
			       h->header_addr, h->load_addr);
	uint32_t delta = h->header_addr - h->load_addr;
	if (delta > h->offset)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: a.out kludge: header_addr 0x%x does not match the header's "
			       "file offset 0x%x: load_addr 0x%x would be before the start of file",
			       h->header_addr, h->offset, h->load_addr);
	uint64_t text = h->offset - delta;
	uint64_t load_size;
	if (h->load_end_addr) {
		if (h->load_end_addr < h->load_addr)
			return mb_fail(err, errlen, -ENOEXEC,
				       "kernel: a.out kludge: load_end_addr 0x%x is below load_addr 0x%x",
				       h->load_end_addr, h->load_addr);
		load_size = h->load_end_addr - h->load_addr;
		if (load_size > size - text)
			return mb_fail(err, errlen, -ENOEXEC,
				       "kernel: a.out kludge: load_end_addr 0x%x needs file bytes "
				       "[0x%llx, 0x%llx) past end of file (size 0x%zx)",
				       h->load_end_addr, (unsigned long long)text,
				       (unsigned long long)(text + load_size), size);
	} else {
		load_size = size - text;
	}
	uint64_t load_end = (uint64_t)h->load_addr + load_size;
	if (load_end > MB_4G)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: a.out kludge: image [0x%x, 0x%llx) extends above 4 GiB",
			       h->load_addr, (unsigned long long)load_end);
	uint64_t memsz = load_size;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < load_end)
			return mb_fail(err, errlen, -ENOEXEC,
				       "kernel: a.out kludge: bss_end_addr 0x%x is below the end of the "
				       "loaded image 0x%llx", h->bss_end_addr,
				       (unsigned long long)load_end);
		memsz = h->bss_end_addr - h->load_addr;
	}
	if (memsz == 0)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: a.out kludge: image is empty (nothing to load, no bss)");
	plan->kludge = true;
	plan->entry = h->entry_addr;
	plan->nr_segs = 1;
	plan->seg[0] = (struct mb_segment){ .gpa = h->load_addr, .memsz = memsz,
					    .filesz = load_size, .offset = text, .phdr = 0 };
	return 0;
}

/*
 * [start, start+len) (below 4 GiB, no overflow) must be guest RAM and miss
 * the reserved low areas. @label names the object, e.g. "kernel: program
 * header 2: segment". A len of 0 only needs start inside RAM.
 */
static int mb_check_range(const struct guest_ram *ram, const char *label, uint64_t start,
			  uint64_t len, int reserved_rc, char *err, size_t errlen)
{
	uint64_t end = start + len;
	for (size_t i = 0; i < sizeof(mb_reserved) / sizeof(mb_reserved[0]); i++) {
		if (start < mb_reserved[i].end && mb_reserved[i].start < end)
			return mb_fail(err, errlen, reserved_rc,
				       "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", label,
				       (unsigned long long)start, (unsigned long long)end,
				       mb_reserved[i].name, (unsigned long long)mb_reserved[i].start,
				       (unsigned long long)mb_reserved[i].end);
	}
	uint64_t ram_end = mb_low_ram_end(ram);
	if (len ? !guest_ram_ptr(ram, start, len) : start > ram_end)
		return mb_fail(err, errlen, -ENOMEM,
			       "%s [0x%llx, 0x%llx) extends past guest RAM end 0x%llx", label,
			       (unsigned long long)start, (unsigned long long)end,
			       (unsigned long long)ram_end);
	return 0;
}

static int mb_check_plan(const struct guest_ram *ram, struct mb_plan *plan, char *err,
			 size_t errlen)
{
	char label[64];
	for (unsigned i = 0; i < plan->nr_segs; i++) {
		const struct mb_segment *s = &plan->seg[i];
		if (plan->kludge)
			snprintf(label, sizeof(label), "kernel: a.out kludge: image");
		else
			snprintf(label, sizeof(label), "kernel: program header %u: segment", s->phdr);
		int rc = mb_check_range(ram, label, s->gpa, s->memsz, -ENOEXEC, err, errlen);
		if (rc)
			return rc;
	}
	/* Sort by address (few segments: insertion sort), then look for overlap. */
	for (unsigned i = 1; i < plan->nr_segs; i++) {
		struct mb_segment s = plan->seg[i];
		unsigned j = i;
		for (; j > 0 && plan->seg[j - 1].gpa > s.gpa; j--)
			plan->seg[j] = plan->seg[j - 1];
		plan->seg[j] = s;
	}
	for (unsigned i = 1; i < plan->nr_segs; i++) {
		const struct mb_segment *a = &plan->seg[i - 1], *b = &plan->seg[i];
		if (b->gpa < a->gpa + a->memsz)
			return mb_fail(err, errlen, -ENOEXEC,
				       "kernel: program headers %u and %u overlap: [0x%llx, 0x%llx) "
				       "and [0x%llx, 0x%llx)", a->phdr, b->phdr,
				       (unsigned long long)a->gpa,
				       (unsigned long long)(a->gpa + a->memsz),
				       (unsigned long long)b->gpa,
				       (unsigned long long)(b->gpa + b->memsz));
	}
	return 0;
}

/* Where the info strings and the module go; see multiboot.h. */
struct mb_layout {
	const char *kname, *kcmd, *mname;
	size_t kname_len, kcmd_len, mname_len;
	bool has_mod;
	uint64_t info_start; /* module list, then module cmdline, kernel cmdline, loader name */
	uint64_t info_size;
	uint64_t mod_start, mod_size;
};

static int mb_place(const struct guest_ram *ram, const struct boot_params *bp,
		    const struct mb_plan *plan, struct mb_layout *l, char *err, size_t errlen)
{
	uint64_t kernel_end = 0;
	for (unsigned i = 0; i < plan->nr_segs; i++)
		if (plan->seg[i].gpa + plan->seg[i].memsz > kernel_end)
			kernel_end = plan->seg[i].gpa + plan->seg[i].memsz;

	l->kname = bp->kernel_name ? bp->kernel_name : "";
	l->kcmd = bp->cmdline ? bp->cmdline : "";
	l->mname = bp->initrd_name ? bp->initrd_name : "";
	l->has_mod = bp->initrd != NULL;
	l->kname_len = strnlen(l->kname, MB_STRING_MAX + 1);
	l->kcmd_len = strnlen(l->kcmd, MB_STRING_MAX + 1);
	l->mname_len = l->has_mod ? strnlen(l->mname, MB_STRING_MAX + 1) : 0;
	if (l->kname_len + l->kcmd_len + l->mname_len > MB_STRING_MAX)
		return mb_fail(err, errlen, -E2BIG,
			       "multiboot: kernel name, cmdline and module name exceed %u bytes",
			       MB_STRING_MAX);
	if (bp->initrd_size > UINT32_MAX)
		return mb_fail(err, errlen, -E2BIG,
			       "initrd: size 0x%zx does not fit Multiboot's 32-bit module fields",
			       bp->initrd_size);

	l->info_start = mb_align_page(kernel_end);
	l->info_size = (l->has_mod ? sizeof(struct multiboot_mod) + l->mname_len + 1 : 0) +
		       l->kname_len + 1 + l->kcmd_len + 1 + sizeof(MULTIBOOT_LOADER_NAME);
	l->mod_start = mb_align_page(l->info_start + l->info_size);
	l->mod_size = l->has_mod ? bp->initrd_size : 0;

	int rc = mb_check_range(ram, "multiboot: info after the kernel", l->info_start,
				l->info_size, -ENOMEM, err, errlen);
	if (rc)
		return rc;
	if (l->has_mod)
		rc = mb_check_range(ram, "initrd: module", l->mod_start, l->mod_size, -ENOMEM,
				    err, errlen);
	return rc;
}

static void *mb_ptr(struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(ram, gpa, len); /* checked non-NULL by mb_check_range */
}

/* Copy @len bytes (may be 0) to @gpa; returns the next gpa. */
static uint64_t mb_put(struct guest_ram *ram, uint64_t gpa, const void *src, size_t len)
{
	if (len)
		memcpy(mb_ptr(ram, gpa, len), src, len);
	return gpa + len;
}

static void mb_write_info(struct guest_ram *ram, const struct mb_layout *l, uint32_t *cmdline,
			  uint32_t *loader)
{
	uint64_t p = l->info_start;
	uint64_t strings = p + (l->has_mod ? sizeof(struct multiboot_mod) : 0);
	if (l->has_mod) {
		struct multiboot_mod mod = {
			.mod_start = (uint32_t)l->mod_start,
			.mod_end = (uint32_t)(l->mod_start + l->mod_size),
			.cmdline = (uint32_t)strings,
		};
		mb_put(ram, p, &mod, sizeof(mod));
		strings = mb_put(ram, strings, l->mname, l->mname_len + 1);
	}
	*cmdline = (uint32_t)strings;
	strings = mb_put(ram, strings, l->kname, l->kname_len);
	strings = mb_put(ram, strings, " ", 1);
	strings = mb_put(ram, strings, l->kcmd, l->kcmd_len + 1);
	*loader = (uint32_t)strings;
	mb_put(ram, strings, MULTIBOOT_LOADER_NAME, sizeof(MULTIBOOT_LOADER_NAME));
}

static uint32_t mb_write_mmap(struct guest_ram *ram)
{
	uint64_t low_end = mb_low_ram_end(ram);
	struct multiboot_mmap_entry e[4] = {
		{ 20, 0, GUEST_LOW_MEM_END, MULTIBOOT_MMAP_RAM },
		{ 20, GUEST_LOW_MEM_END, GUEST_LEGACY_HOLE_END - GUEST_LOW_MEM_END,
		  MULTIBOOT_MMAP_RESERVED },
		{ 20, GUEST_LEGACY_HOLE_END, low_end - GUEST_LEGACY_HOLE_END, MULTIBOOT_MMAP_RAM },
	};
	unsigned n = 3;
	for (unsigned i = 0; i < ram->nr_regions; i++)
		if (ram->region[i].gpa >= MB_4G)
			e[n++] = (struct multiboot_mmap_entry){ 20, ram->region[i].gpa,
								ram->region[i].size,
								MULTIBOOT_MMAP_RAM };
	mb_put(ram, MULTIBOOT_MMAP_ADDR, e, n * sizeof(e[0]));
	return n * (uint32_t)sizeof(e[0]);
}

int multiboot_load(struct guest_ram *ram, const struct boot_params *bp, struct boot_entry *out,
		   char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!ram || !ram->host || !bp || !out)
		return mb_fail(err, errlen, -EINVAL, "multiboot: missing guest RAM, parameters or output");
	if ((!bp->kernel && bp->kernel_size) || (!bp->initrd && bp->initrd_size))
		return mb_fail(err, errlen, -EINVAL, "multiboot: NULL kernel or initrd buffer with a size");
	if (mb_low_ram_end(ram) < GUEST_LEGACY_HOLE_END + MB_PAGE)
		return mb_fail(err, errlen, -EINVAL, "multiboot: guest RAM has no low region above 1 MiB");
	if (bp->kernel_size == 0)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: file is empty");

	const uint8_t *img = bp->kernel;
	size_t size = bp->kernel_size;
	struct mb_header h = { 0 };
	int rc = mb_find_header(img, size, &h, err, errlen);
	if (rc)
		return rc;
	uint32_t unknown = h.flags & MULTIBOOT_HDR_REQUIRED_MASK &
			   ~(MULTIBOOT_HDR_PAGE_ALIGN | MULTIBOOT_HDR_MEMORY_INFO |
			     MULTIBOOT_HDR_VIDEO_MODE);
	if (unknown)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: Multiboot header flags 0x%08x require unsupported features "
			       "(bits 0x%04x)", h.flags, unknown);

	struct mb_plan plan = { 0 };
	if (h.flags & MULTIBOOT_HDR_AOUT_KLUDGE)
		rc = mb_kludge_parse(&h, size, &plan, err, errlen);
	else
		rc = mb_elf_parse(img, size, &plan, err, errlen);
	if (rc)
		return rc;
	rc = mb_check_plan(ram, &plan, err, errlen);
	if (rc)
		return rc;
	struct mb_layout l = { 0 };
	rc = mb_place(ram, bp, &plan, &l, err, errlen);
	if (rc)
		return rc;

	/* Everything checked: from here on nothing fails. */
	for (unsigned i = 0; i < plan.nr_segs; i++) {
		const struct mb_segment *s = &plan.seg[i];
		uint8_t *dst = mb_ptr(ram, s->gpa, s->memsz);
		memcpy(dst, img + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	struct multiboot_info mbi = {
		.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV | MULTIBOOT_INFO_CMDLINE |
			 MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME,
		.mem_lower = MULTIBOOT_MEM_LOWER_KB,
		.mem_upper = (uint32_t)((mb_low_ram_end(ram) - GUEST_LEGACY_HOLE_END) >> 10),
		.boot_device = MULTIBOOT_BOOT_DEVICE,
		.mods_count = l.has_mod ? 1 : 0,
		.mods_addr = (uint32_t)l.info_start,
		.mmap_addr = MULTIBOOT_MMAP_ADDR,
	};
	memset(mb_ptr(ram, MULTIBOOT_INFO_AREA_START,
		      MULTIBOOT_INFO_AREA_END - MULTIBOOT_INFO_AREA_START),
	       0, MULTIBOOT_INFO_AREA_END - MULTIBOOT_INFO_AREA_START);
	mb_write_info(ram, &l, &mbi.cmdline, &mbi.boot_loader_name);
	if (l.has_mod)
		mb_put(ram, l.mod_start, bp->initrd, l.mod_size);
	mbi.mmap_length = mb_write_mmap(ram);
	mb_put(ram, MULTIBOOT_INFO_ADDR, &mbi, sizeof(mbi));

	*out = (struct boot_entry){ .eip = (uint32_t)plan.entry,
				    .eax = MULTIBOOT_BOOTLOADER_MAGIC,
				    .ebx = MULTIBOOT_INFO_ADDR };
	return 0;
}
