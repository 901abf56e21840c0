/* SPDX-License-Identifier: MIT */
/*
 * Boot glue: reads the kernel and initrd files (bounded), hands them to the
 * Linux loader when the kernel carries a bzImage setup header (never by file
 * name), else to the Multiboot loader; writes the MP table and the ACPI
 * tables for the vCPU count and sets vCPU 0's entry state. APs wait for
 * INIT/SIPI from the guest.
 */
#include "core/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vm.h"
#include "loader/bzimage.h"
#include "loader/linux_boot.h"
#include "loader/mptable.h"
#include "loader/multiboot.h"
#include "platform/acpi.h"

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

static int load_linux(struct vm *vm, const struct boot_files *files, const void *kernel,
		      size_t kernel_size, const void *initrd, size_t initrd_size,
		      struct vcpu_boot_state *bs, char *err, size_t errlen)
{
	struct linux_boot_args args = {
		.kernel = kernel, .kernel_size = kernel_size, .cmdline = files->cmdline,
		.initrd = initrd, .initrd_size = initrd_size, .acpi_rsdp = ACPI_RSDP_ADDR,
	};
	struct linux_entry e;
	int rc = linux_load(&vm->ram, &args, &e, err, errlen);
	if (!rc)
		*bs = (struct vcpu_boot_state){ .mode = VCPU_BOOT_LONG64, .rip = e.rip,
						.rsi = e.rsi, .rsp = e.rsp, .cr3 = e.cr3,
						.gdt_base = e.gdt_base, .gdt_limit = e.gdt_limit };
	return rc;
}

int boot_guest(struct vm *vm, const struct boot_files *files, char *err, size_t errlen)
{
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
		rc = load_linux(vm, files, kernel, kernel_size, initrd, initrd_size, &bs, err,
				errlen);
	else
		rc = load_multiboot(vm, files, kernel, kernel_size, initrd, initrd_size, &bs, err,
				    errlen);
	if (rc)
		goto out;
	rc = mptable_write(&vm->ram, vm->nr_vcpus, why, sizeof(why));
	if (!rc)
		rc = acpi_write(&vm->ram, vm->nr_vcpus, why, sizeof(why));
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
