/* SPDX-License-Identifier: MIT */
/*
 * getopt_long parsing of `ioreqvm [run] OPTIONS` and `ioreqvm xen-env`, size
 * and count parsing, and the --help text. Everything is checked here so
 * main only acts.
 */
#include "core/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "mem/guest_ram.h"
#include "ioreqvm/xs_wire.h"
#include "xenstore/xs_seed.h"

int cli_parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	unsigned shift = 20;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B': shift = 0; break;
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		end++;
		/* Accept "256MiB" and "256MB" spellings too (both binary). */
		if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

enum {
	OPT_ACCEL_DEVICE = 0x100,
	OPT_DEVICE_MODEL,
	OPT_MAX_SERVERS,
	OPT_NO_DEFAULTS,
	OPT_CONSOLE,
	OPT_KERNEL_DECOMPRESS,
	OPT_XEN_DEVICE_MODEL,
	OPT_XENSTORE,
	OPT_DOMID,
};

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "kernel-decompress", required_argument, NULL, OPT_KERNEL_DECOMPRESS },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'n' },
	{ "socket", required_argument, NULL, 's' },
	{ "accel", required_argument, NULL, 'a' },
	{ "accel-device", required_argument, NULL, OPT_ACCEL_DEVICE },
	{ "device-model", required_argument, NULL, 'd' },
	{ "max-servers", required_argument, NULL, OPT_MAX_SERVERS },
	{ "no-default-devices", no_argument, NULL, OPT_NO_DEFAULTS },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "xen-device-model", required_argument, NULL, OPT_XEN_DEVICE_MODEL },
	{ "xenstore", required_argument, NULL, OPT_XENSTORE },
	{ "domid", required_argument, NULL, OPT_DOMID },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define FAIL(...)                                  \
	do {                                       \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                    \
	} while (0)

/* A model command: not empty, not too long, room for it. */
static int add_model(const char *opt, const char *cmd, const char **list, unsigned *nr, char *err,
		     size_t errlen)
{
	if (*nr == CLI_MAX_DMS)
		FAIL("%s: at most %d device models", opt, CLI_MAX_DMS);
	if (!*cmd)
		FAIL("%s: command is empty", opt);
	if (strlen(cmd) > CLI_DM_CMD_MAX)
		FAIL("%s: command is %zu bytes, longer than %d", opt, strlen(cmd), CLI_DM_CMD_MAX);
	list[(*nr)++] = cmd;
	return 0;
}

static const struct option xen_env_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* ioreqvm xen-env [--socket PATH] [--] CMD [ARGS...] */
static int parse_xen_env(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	o->action = CLI_XEN_ENV;
	/*
	 * Parsed from "xen-env" on, with getopt fully reset (optind 0), so that
	 * '+' holds: CMD's own options are CMD's, whatever was parsed before.
	 */
	char **av = argv + 1;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc - 1, av, "+:s:h", xen_env_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg || strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				FAIL("xen-env --socket '%s': path empty or longer than %zu bytes", optarg,
				     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			o->socket = optarg;
			break;
		case 'h': o->action = CLI_HELP; return 0;
		case ':': FAIL("xen-env: option %s needs a value", av[optind - 1]);
		default: FAIL("xen-env: unknown option '%s' (see --help)", av[optind - 1]);
		}
	}
	if (optind >= argc - 1)
		FAIL("xen-env: no command to run (ioreqvm xen-env [--socket PATH] -- CMD [ARGS])");
	o->xen_env_cmd = &av[optind];
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	*o = (struct cli_opts){ .action = CLI_RUN, .memory = CLI_DEFAULT_MEMORY, .cpus = 1,
				.accel = "auto", .domid = CLI_DEFAULT_DOMID };
	int first = 1;
	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "xen-env"))
			return parse_xen_env(argc, argv, o, err, errlen);
		if (strcmp(argv[1], "run"))
			FAIL("unknown command '%s' (the commands are 'run' and 'xen-env'; see --help)",
			     argv[1]);
		first = 2;
	}
	/* getopt keeps global state: reset it so tests can parse repeatedly. */
	optind = first;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":k:i:c:m:n:s:a:d:vhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case OPT_KERNEL_DECOMPRESS:
			if (strcmp(optarg, "host") && strcmp(optarg, "guest"))
				FAIL("--kernel-decompress '%s': expected host or guest", optarg);
			o->kernel_decompress_guest = !strcmp(optarg, "guest");
			break;
		case 'm': {
			int rc = cli_parse_size(optarg, &o->memory);
			if (rc)
				FAIL("--memory '%s': expected a size such as 256M or 2G", optarg);
			if (o->memory < GUEST_RAM_MIN || o->memory > GUEST_RAM_MAX)
				FAIL("--memory '%s': must be between 2M and 1T", optarg);
			if (o->memory & (GUEST_PAGE_SIZE - 1))
				FAIL("--memory '%s': must be a multiple of 4K", optarg);
			break;
		}
		case 'n':
			if (parse_uint(optarg, 1, CLI_MAX_CPUS, &o->cpus))
				FAIL("--cpus '%s': expected a number from 1 to %d", optarg, CLI_MAX_CPUS);
			break;
		case 's':
			if (!*optarg || strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				FAIL("--socket '%s': path empty or longer than %zu bytes", optarg,
				     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			o->socket = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "kvm") && strcmp(optarg, "tcg") && strcmp(optarg, "auto"))
				FAIL("--accel '%s': expected kvm, tcg or auto", optarg);
			o->accel = optarg;
			break;
		case OPT_ACCEL_DEVICE: o->accel_device = optarg; break;
		case 'd':
			if (add_model("--device-model", optarg, o->device_models,
				      &o->nr_device_models, err, errlen))
				return -EINVAL;
			break;
		case OPT_XEN_DEVICE_MODEL:
			if (add_model("--xen-device-model", optarg, o->xen_device_models,
				      &o->nr_xen_device_models, err, errlen))
				return -EINVAL;
			break;
		case OPT_XENSTORE:
			if (o->nr_xenstore == CLI_MAX_XENSTORE)
				FAIL("--xenstore: at most %d keys", CLI_MAX_XENSTORE);
			o->xenstore[o->nr_xenstore++] = optarg;
			break;
		case OPT_DOMID:
			if (parse_uint(optarg, 1, CLI_MAX_DOMID, &o->domid))
				FAIL("--domid '%s': expected a number from 1 to %d (0 is dom0, the "
				     "device models' own)", optarg, CLI_MAX_DOMID);
			break;
		case OPT_NO_DEFAULTS: o->no_default_devices = true; break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strcmp(optarg, "none"))
				FAIL("--console '%s': expected stdio or none", optarg);
			o->console_none = !strcmp(optarg, "none");
			break;
		case OPT_MAX_SERVERS:
			if (parse_uint(optarg, 1, 64, &o->max_servers))
				FAIL("--max-servers '%s': expected a number from 1 to 64", optarg);
			break;
		case 'v': o->verbose++; break;
		case 'h': o->action = CLI_HELP; return 0;
		case 'V': o->action = CLI_VERSION; return 0;
		case ':': FAIL("option %s needs a value", argv[optind - 1]);
		default: FAIL("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		FAIL("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->kernel)
		FAIL("--kernel FILE is required (see --help)");
	/* Seeds are checked once the domid, which relative keys live under, is known. */
	for (unsigned i = 0; i < o->nr_xenstore; i++) {
		char path[IOREQVM_XS_ABS_PATH_MAX + 1];
		const char *value;
		if (xs_seed_parse(o->xenstore[i], o->domid, path, &value, err, errlen))
			return -EINVAL;
	}
	return 0;
}

void cli_usage(FILE *f)
{
	fprintf(f,
"Usage: ioreqvm [run] --kernel FILE [OPTIONS]\n"
"       ioreqvm xen-env [--socket PATH] [--] CMD [ARGS...]\n"
"\n"
"Run one virtual machine booting a Multiboot v1 kernel (ELF32, ELF64 or a.out\n"
"kludge) or a Linux bzImage (64-bit boot protocol, 2.12 or later), told apart\n"
"by the file's header. Device models run as separate processes over the\n"
"control socket; by default ioreqvm starts one: a 16550 UART on COM1\n"
"(0x3f8, IRQ 4), the console: what the guest prints goes to stdout, what\n"
"stdin gives goes to the guest (see --console).\n"
"\n"
"Options:\n"
"  -k, --kernel FILE      Multiboot kernel or Linux bzImage to boot (required)\n"
"  -i, --initrd FILE      Multiboot module 0, or the Linux initrd\n"
"  -c, --cmdline STR      kernel command line\n"
"      --kernel-decompress host|guest\n"
"                         who decompresses a bzImage's kernel (default\n"
"                         host): host = ioreqvm, for xz, gzip, zstd and lz4\n"
"                         payloads (the vmlinux's segments are loaded at\n"
"                         their physical addresses and entered at\n"
"                         startup_64; no KASLR); other formats fall back to\n"
"                         guest, with a message. guest = the kernel's own\n"
"                         decompressor (KASLR as the kernel decides; slow\n"
"                         on tcg)\n"
"  -m, --memory SIZE      guest RAM, e.g. 256M, 2G; a bare number is MiB\n"
"                         (default 256M; above 3G the rest starts at 4G)\n"
"  -n, --cpus N           vCPUs, 1..%d (default 1); the guest starts APs\n"
"                         with INIT/SIPI; an MP table at 0xf0000 and ACPI\n"
"                         tables from 0xe0000 list them\n"
"  -s, --socket PATH      control socket for device models (default:\n"
"                         $XDG_RUNTIME_DIR, /run or /tmp/ioreqvm-PID.sock;\n"
"                         shown with -v); owner-only, same user or root\n"
"  -d, --device-model CMD start CMD as a device model before the guest runs:\n"
"                         /bin/sh runs `exec CMD` (CMD up to 4096 bytes;\n"
"                         set variables with `env VAR=value PROG`); it\n"
"                         gets the VM's control connection as $IOREQVM_FD\n"
"                         and must send DM_READY (libioreq_dm_ready)\n"
"                         within 10 s; repeatable (up to 16)\n"
"      --xen-device-model CMD  start CMD, a device model built for Xen's\n"
"                         libraries, as --device-model does, after those:\n"
"                         ioreqvm's Xen-compatible libraries first on its\n"
"                         LD_LIBRARY_PATH, XENSTORED_PATH set to the VM's\n"
"                         xenstore; ready when it first asks for its event\n"
"                         channel fd (xenevtchn_fd); repeatable (up to 16)\n"
"      --domid N          the domain id the VM answers to in Xen's calls and\n"
"                         xenstore, 1..32751 (default 1); any other: ESRCH\n"
"      --xenstore KEY=VALUE  a xenstore key the VM starts with; KEY below\n"
"                         /local/domain/DOMID unless it starts with '/';\n"
"                         repeatable (up to 64); name, domid, vm, uuid,\n"
"                         vCPU and memory keys are there by default\n"
"      --max-servers N    IOREQ servers the VM allows, 1..64 (default 8)\n"
"      --no-default-devices  do not start the default device model (the\n"
"                         COM1 UART, ioreqvm-uart16550: no console)\n"
"      --console stdio|none  the COM1 console (default stdio): the guest's\n"
"                         output to stdout, stdin to the guest's receiver\n"
"                         (paced by it, nothing dropped; a pipe or file\n"
"                         streams until EOF, which only ends input; input\n"
"                         waits until the guest listens: the UART's receive\n"
"                         interrupt on). A terminal is raw while ioreqvm runs\n"
"                         and put back on every exit: keys go to the guest,\n"
"                         Ctrl-C too; Ctrl-A x quits (status 12), Ctrl-A\n"
"                         Ctrl-A sends Ctrl-A, Ctrl-A h lists the keys.\n"
"                         none: COM1 is still there, its output discarded\n"
"                         and stdin untouched (for a log of it instead:\n"
"                         --no-default-devices --device-model\n"
"                         \"/path/to/ioreqvm-uart16550 >com1.log\")\n"
"  -a, --accel NAME       CPU backend: kvm, tcg or auto (default auto:\n"
"                         kvm when /dev/kvm works, else tcg: a software\n"
"                         CPU on libunicorn 2.1, see --version)\n"
"      --accel-device PATH  device node instead of /dev/kvm (for tests)\n"
"  -v, --verbose          report the backend and unbacked accesses;\n"
"                         twice for more\n"
"  -h, --help             this text\n"
"  -V, --version          version\n"
"\n"
"xen-env runs CMD, a Xen device model started by hand, against a running VM:\n"
"with ioreqvm's Xen-compatible libraries first on LD_LIBRARY_PATH and\n"
"IOREQVM_SOCKET, XENSTORED_PATH and IOREQVM_XEN_DOMID set for that VM. The\n"
"VM is the one whose control socket --socket names, else $IOREQVM_SOCKET,\n"
"else the only live ioreqvm-*.sock in $XDG_RUNTIME_DIR (or /run for root,\n"
"/tmp otherwise); with none or several, it says so and runs nothing.\n"
"\n"
"Exit status:\n"
"  (V<<1)|1  the guest wrote V to port 0xf4 (QEMU isa-debug-exit); odd\n"
"  0         the guest powered off (ACPI PM1a control, port 0x604:\n"
"            SLP_TYP S5 with SLP_EN), or a device model asked for it\n"
"  2         bad command line\n"
"  4         the VM could not be set up (kernel or initrd file or image,\n"
"            memory, backend)\n"
"  6         the guest triple-faulted (registers on stderr)\n"
"  8         internal error: emulation failure or backend error\n"
"            (registers on stderr)\n"
"  10        the guest asked for a reset (port 0xcf9, keyboard controller\n"
"            0x64 <- 0xfe), or a device model did; ioreqvm does not restart\n"
"            guests (a triple fault, which resets a PC too, is 6)\n"
"  12        stopped from the console (Ctrl-A x), or a device model's quit\n"
"  128+N     ioreqvm was stopped by signal N\n",
		CLI_MAX_CPUS);
}
