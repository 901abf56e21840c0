/* SPDX-License-Identifier: MIT */
/*
 * Boot glue: reads the kernel and initrd files (bounded), hands them to the
 * Linux loader when the kernel carries a bzImage setup header (never by file
 * name), its payload decompressed here first unless told not to or the
 * format is not one this build decompresses, else to the Multiboot loader; writes the MP table and the ACPI
 * tables for the vCPU count and sets vCPU 0's entry state. APs wait for
 * INIT/SIPI from the guest.
 */
#include "core/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/vm.h"
#include "core/log.h"
#include "loader/bzimage.h"
#include "loader/kernel_payload.h"
#include "loader/linux_boot.h"
#include "loader/mptable.h"
#include "loader/multiboot.h"
#include "platform/acpi.h"
#include "platform/smbios.h"

/* Larger files cannot fit below 4 GiB anyway. */
#define BOOT_FILE_MAX (3ULL << 30)

static int read_file(const char *path, void **data, size_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > BOOT_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes, larger than guest RAM below 4 GiB can hold",
			 path, (long long)st.st_size);
		goto out;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory reading %zu bytes", path, n);
		goto out;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: read failed after %zu of %zu bytes", path, got, n);
			free(buf);
			goto out;
		}
		got += (size_t)r;
	}
	*data = buf;
	*size = n;
out:
	close(fd);
	return rc;
}

static int load_multiboot(struct vm *vm, const struct boot_files *files, const void *kernel,
			  size_t kernel_size, const void *initrd, size_t initrd_size,
			  struct vcpu_boot_state *bs, char *err, size_t errlen)
{
	struct boot_params bp = {
		.kernel = kernel, .kernel_size = kernel_size, .kernel_name = files->kernel,
		.cmdline = files->cmdline,
		.initrd = initrd, .initrd_size = initrd_size, .initrd_name = files->initrd,
	};
	struct boot_entry entry;
	int rc = multiboot_load(&vm->ram, &bp, &entry, err, errlen);
	if (!rc)
		*bs = (struct vcpu_boot_state){ .mode = VCPU_BOOT_PROTECTED32, .eip = entry.eip,
						.eax = entry.eax, .ebx = entry.ebx };
	return rc;
}

/* Time since @t0 in ms. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

__attribute__((format(printf, 3, 4)))
static void note(struct boot_report *rep, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->note, sizeof(rep->note), fmt, ap);
	va_end(ap);
	rep->note_level = level;
}

/*
 * --kernel-decompress host: the payload decompressed into *@vmlinux (NULL
 * when the guest is to do it, with the reason in @rep), or an error for a
 * payload of a known format that does not decompress.
 */
static int decompress_on_host(const struct boot_files *files, const void *kernel,
			      size_t kernel_size, uint64_t max_out, uint8_t **vmlinux,
			      size_t *vmlinux_size, struct boot_report *rep, char *err, size_t errlen)
{
	*vmlinux = NULL;
	struct bzimage_info bz;
	/* A header linux_load refuses is reported by it, with the guest path's words. */
	if (bzimage_parse(kernel, kernel_size, &bz, NULL, 0))
		return 0;
	if (bz.payload_length == 0) {
		note(rep, LOG_INFO, "kernel: bzImage has no compressed payload (payload_length 0): "
		     "entered at its 64-bit entry");
		return 0;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum kpayload_format fmt;
	char why[256];
	int rc = kpayload_decompress(kernel, kernel_size, &bz, max_out, vmlinux, vmlinux_size,
				     &fmt, why, sizeof(why));
	if (rc == -ENOTSUP) {
		note(rep, LOG_ERR, "%s; the kernel decompresses itself in the guest (slow on tcg; "
		     "--kernel-decompress guest says this is wanted)", why);
		return 0;
	}
	if (rc) {
		snprintf(err, errlen, "%s (%s; --kernel-decompress guest lets the kernel's own "
			 "decompressor try)", why, files->kernel);
		return rc;
	}
	note(rep, LOG_INFO, "kernel: %s payload decompressed on the host: %zu bytes in %.0f ms",
	     kpayload_name(fmt), *vmlinux_size, ms_since(&t0));
	return 0;
}

static int load_linux(struct vm *vm, const struct boot_files *files, const void *kernel,
		      size_t kernel_size, const void *initrd, size_t initrd_size,
		      struct vcpu_boot_state *bs, struct boot_report *rep, char *err,
		      size_t errlen)
{
	uint8_t *vmlinux = NULL;
	size_t vmlinux_size = 0;
	if (files->decompress == BOOT_DECOMPRESS_HOST) {
		int rc = decompress_on_host(files, kernel, kernel_size, vm->ram.size, &vmlinux,
					    &vmlinux_size, rep, err, errlen);
		if (rc)
			return rc;
	} else {
		note(rep, LOG_INFO, "kernel: decompressed by the guest (--kernel-decompress guest)");
	}
	struct linux_boot_args args = {
		.kernel = kernel, .kernel_size = kernel_size, .cmdline = files->cmdline,
		.initrd = initrd, .initrd_size = initrd_size, .acpi_rsdp = ACPI_RSDP_ADDR,
		.vmlinux = vmlinux, .vmlinux_size = vmlinux_size,
	};
	struct linux_entry e;
	int rc = linux_load(&vm->ram, &args, &e, err, errlen);
	free(vmlinux);
	if (!rc)
		*bs = (struct vcpu_boot_state){ .mode = VCPU_BOOT_LONG64, .rip = e.rip,
						.rsi = e.rsi, .rsp = e.rsp, .cr3 = e.cr3,
						.gdt_base = e.gdt_base, .gdt_limit = e.gdt_limit };
	return rc;
}

int boot_guest(struct vm *vm, const struct boot_files *files, struct boot_report *rep,
	       char *err, size_t errlen)
{
	struct boot_report scratch;
	if (!rep)
		rep = &scratch;
	rep->note[0] = '\0';
	rep->note_level = LOG_INFO;
	void *kernel = NULL, *initrd = NULL;
	size_t kernel_size = 0, initrd_size = 0;
	char why[512];
	int rc = read_file(files->kernel, &kernel, &kernel_size, err, errlen);
	if (rc)
		return rc;
	if (files->initrd) {
		rc = read_file(files->initrd, &initrd, &initrd_size, err, errlen);
		if (rc)
			goto out;
	}
	struct vcpu_boot_state bs;
	if (bzimage_detect(kernel, kernel_size))
		rc = load_linux(vm, files, kernel, kernel_size, initrd, initrd_size, &bs, rep, err,
				errlen);
	else
		rc = load_multiboot(vm, files, kernel, kernel_size, initrd, initrd_size, &bs, err,
				    errlen);
	if (rc)
		goto out;
	rc = mptable_write(&vm->ram, vm->nr_vcpus, why, sizeof(why));
	if (!rc)
		rc = acpi_write(&vm->ram, vm->nr_vcpus, why, sizeof(why));
	if (!rc)
		rc = smbios_write(&vm->ram, IOREQVM_VERSION, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "platform tables: %s", why);
		goto out;
	}
	rc = vm->ops->vcpu_set_boot_state(&vm->vcpus[0], &bs);
	if (rc)
		snprintf(err, errlen, "setting vCPU 0 entry state: %s", strerror(-rc));
out:
	free(kernel);
	free(initrd);
	return rc;
}
