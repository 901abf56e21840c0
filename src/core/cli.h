/* SPDX-License-Identifier: MIT */
/*
 * Command line of `ioreqvm`: `run` (the default) and `xen-env`; parsing and
 * validation only, no side effects.
 */
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
/* Models of each kind (--device-model, --xen-device-model). */
#define CLI_MAX_DMS 16
/* --xenstore KEY=VALUE seeds. */
#define CLI_MAX_XENSTORE 64
/* --domid: 1 up to Xen's last ordinary domid (0x7FF0 and up are reserved). */
#define CLI_DEFAULT_DOMID 1
#define CLI_MAX_DOMID 0x7FEF

enum cli_action {
	CLI_RUN,
	CLI_HELP,
	CLI_VERSION,
	CLI_XEN_ENV, /* ioreqvm xen-env [--socket PATH] -- CMD [ARGS] */
};

struct cli_opts {
	enum cli_action action;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *socket;
	const char *accel;        /* kvm, tcg, auto */
	const char *accel_device; /* override of /dev/kvm, for tests */
	const char *device_models[CLI_MAX_DMS]; /* --device-model CMD, in order */
	unsigned nr_device_models;
	const char *xen_device_models[CLI_MAX_DMS]; /* --xen-device-model CMD, in order */
	unsigned nr_xen_device_models;
	const char *xenstore[CLI_MAX_XENSTORE]; /* --xenstore KEY=VALUE, in order */
	unsigned nr_xenstore;
	unsigned domid;           /* --domid (X5) */
	char **xen_env_cmd;       /* xen-env: the command and its arguments (NULL-terminated) */
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
