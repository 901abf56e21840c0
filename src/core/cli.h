/* SPDX-License-Identifier: MIT */
/* Command line of `ioreqvm`: parsing and validation only, no side effects. */
#ifndef IOREQVM_CLI_H
#define IOREQVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_DEFAULT_MEMORY (256ULL << 20)
#define CLI_MAX_CPUS 64
/* Longest --device-model command: paths of a build tree plus options fit. */
#define CLI_DM_CMD_MAX 4096

enum cli_action {
	CLI_RUN,
	CLI_HELP,
	CLI_VERSION,
};

struct cli_opts {
	enum cli_action action;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *socket;
	const char *accel;        /* kvm, tcg, auto */
	const char *accel_device; /* override of /dev/kvm, for tests */
	const char *device_models[16]; /* --device-model CMD, in order */
	unsigned nr_device_models;
	unsigned max_servers;     /* 0: the default */
	bool no_default_devices;  /* do not start the UART device model */
	bool console_none;        /* --console none: the UART model without stdin/stdout */
	bool kernel_decompress_guest; /* --kernel-decompress guest (default host) */
	uint64_t memory;          /* bytes */
	unsigned cpus;
	int verbose;
};

/*
 * A size: digits with an optional binary suffix K, M, G or T (KiB...), or B
 * for bytes; no suffix means MiB, as QEMU's -m. 0, -EINVAL (syntax) or
 * -ERANGE (overflow).
 */
int cli_parse_size(const char *s, uint64_t *out);

/*
 * Parse argv. 0 with *opts filled, or -EINVAL with one line in err naming
 * the offending option. Does not touch files or devices.
 */
int cli_parse(int argc, char **argv, struct cli_opts *opts, char *err, size_t errlen);

void cli_usage(FILE *f);

#endif
