/* SPDX-License-Identifier: MIT */
/*
 * ioreqctl: look at and poke a running ioreqvm VM over libioreq. One
 * connection per invocation, one subcommand: info, servers, ranges,
 * get-mem-type, set-mem-type, shutdown, xen-info, and the VM's xenstore
 * (its socket from XEN_INFO, spoken to by xs_client.c): xenstore-ls,
 * xenstore-read, xenstore-write. Parsing and printing only; every rule is
 * the VMM's. Exit status: 0 done, 1 the VMM or the connection failed, 2 bad
 * usage.
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioreqvm/xs_wire.h"
#include "libioreq.h"
#include "xs_client.h"

#ifndef IOREQVM_VERSION
#define IOREQVM_VERSION "unknown"
#endif

#define PROG "ioreqctl"
#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char *const mem_type_names[IOREQVM_MEM_NR_TYPES] = {
	[IOREQVM_MEM_RAM_RW] = "ram_rw",
	[IOREQVM_MEM_RAM_RO] = "ram_ro",
	[IOREQVM_MEM_MMIO_DM] = "mmio_dm",
	[IOREQVM_MEM_UNUSED] = "unused",
	[IOREQVM_MEM_IOREQ_SERVER] = "ioreq_server",
	[IOREQVM_MEM_IOREQ_SERVER1] = "ioreq_server1",
	[IOREQVM_MEM_IOREQ_SERVER2] = "ioreq_server2",
	[IOREQVM_MEM_IOREQ_SERVER3] = "ioreq_server3",
	[IOREQVM_MEM_IOREQ_SERVER4] = "ioreq_server4",
	[IOREQVM_MEM_IOREQ_SERVER5] = "ioreq_server5",
	[IOREQVM_MEM_IOREQ_SERVER6] = "ioreq_server6",
	[IOREQVM_MEM_IOREQ_SERVER7] = "ioreq_server7",
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--socket PATH] COMMAND [ARGS]\n"
"\n"
"Shows and changes the state of a running ioreqvm VM.\n"
"\n"
"Commands:\n"
"  info                          backend, vCPUs, RAM, mappings, counters\n"
"  servers                       IOREQ servers: state, owner, ranges, requests\n"
"                                (posted, defaulted, and how many a vCPU slept\n"
"                                for), claims\n"
"  ranges ID                     the I/O ranges of server ID\n"
"  get-mem-type PFN              the memory type of guest frame PFN\n"
"  set-mem-type TYPE FIRST_PFN NR\n"
"                                set NR frames from FIRST_PFN to TYPE (all or nothing)\n"
"  shutdown REASON               stop the VM: poweroff (ioreqvm exits 0), reboot\n"
"                                (10: it does not restart guests), quit (12), or\n"
"                                a number (Xen's SHUTDOWN_* codes; the VM judges)\n"
"  xen-info                      what Xen's libraries see: domid, UUID, RAM frames,\n"
"                                the xenstore socket\n"
"  xenstore-ls PATH              the VM's xenstore from PATH down: one line per key,\n"
"                                PATH = \"VALUE\" (bytes outside printable ASCII as\n"
"                                \\xNN)\n"
"  xenstore-read KEY             the value of KEY, as it is, with a newline\n"
"  xenstore-write KEY VALUE      set KEY (made with its parents if missing)\n"
"\n"
"Numbers are decimal or 0x hex. TYPE is a name or its number:\n"
"  ram_rw (0), ram_ro (1), mmio_dm (2), unused (3), ioreq_server (4),\n"
"  ioreq_server1 .. ioreq_server7 (5-11).\n"
"ioreq_server types can only be set while claimed, and a claim dies with the\n"
"connection that made it: from this one-shot tool, use ram_rw, ram_ro, mmio_dm.\n"
"xenstore KEYs are absolute (/local/domain/1/name) or relative to /local/domain/0\n"
"(a socket client's home, as with xenstored).\n"
"\n"
"Options:\n"
"  --socket PATH  the VM's control socket (ioreqvm -v prints it);\n"
"                 default: $IOREQVM_SOCKET\n"
"  --help         this text\n"
"  --version      print the version\n"
"\n"
"Exit status: 0 done, 1 the VM refused or could not be reached, 2 bad usage.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const char *mem_type_name(unsigned t, char *buf, size_t len)
{
	if (t < IOREQVM_MEM_NR_TYPES)
		return mem_type_names[t];
	snprintf(buf, len, "unknown(%u)", t);
	return buf;
}

/* A name from memtype.h, or any 16-bit number (the VMM judges it). */
static int parse_mem_type(const char *s, uint16_t *out)
{
	for (unsigned t = 0; t < IOREQVM_MEM_NR_TYPES; t++) {
		if (!strcmp(s, mem_type_names[t])) {
			*out = (uint16_t)t;
			return 0;
		}
	}
	uint64_t v;
	if (parse_u64(s, UINT16_MAX, &v))
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* A command's arguments, parsed (and checked) before connecting. */
struct cmd_args {
	uint64_t id, pfn, nr;
	uint16_t type;
	uint32_t reason;
	const char *key, *value;
};

static int vm_failed(struct libioreq *x, const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, libioreq_error(x));
	return EXIT_FAIL;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_info(struct libioreq *x, const struct cmd_args *a)
{
	struct ioreqvm_op_vm_info vi;
	memset(&vi, 0, sizeof(vi));
	if (libioreq_vm_info(x, &vi) < 0)
		return vm_failed(x, "vm_info");
	char backend[sizeof(vi.backend) + 1];
	memcpy(backend, vi.backend, sizeof(vi.backend));
	backend[sizeof(vi.backend)] = '\0';
	printf("backend:            %s\n", backend);
	printf("protocol version:   %" PRIu32 "\n", vi.version);
	printf("vcpus:              %" PRIu32 "\n", vi.nr_vcpus);
	printf("ram:                %" PRIu64 " MiB (%" PRIu64 " bytes)\n", vi.ram_size >> 20,
	       vi.ram_size);
	printf("guest frames:       %" PRIu64 "\n", vi.nr_pages);
	printf("max servers:        %" PRIu32 "\n", vi.max_servers);
	printf("mappings:           %" PRIu32 " of %" PRIu32 "\n", vi.mappings_used,
	       vi.mappings_limit);
	printf("p2m runs:           %" PRIu64 "\n", vi.p2m_runs);
	printf("unbacked reads:     ports %" PRIu64 ", mmio %" PRIu64 "\n", vi.unbacked_reads[0],
	       vi.unbacked_reads[1]);
	printf("unbacked writes:    ports %" PRIu64 ", mmio %" PRIu64 "\n", vi.unbacked_writes[0],
	       vi.unbacked_writes[1]);
	printf("ram_ro writes dropped: %" PRIu64 "\n", vi.ro_writes_dropped);
	return 0;
}

static void print_claims(uint32_t types, uint32_t flags)
{
	if (!(types & ((1u << IOREQVM_MEM_NR_TYPES) - 1))) {
		printf("-");
		return;
	}
	bool first = true;
	char buf[24];
	for (unsigned t = 0; t < IOREQVM_MEM_NR_TYPES; t++) {
		if (!(types & (1u << t)))
			continue;
		printf("%s%s", first ? "" : ",", mem_type_name(t, buf, sizeof(buf)));
		/* The reply carries the flags of the lowest claimed type only. */
		if (first)
			printf(":%s%s", (flags & IOREQVM_MEM_ACCESS_READ) ? "r" : "",
			       (flags & IOREQVM_MEM_ACCESS_WRITE) ? "w" : "");
		first = false;
	}
}

static int cmd_servers(struct libioreq *x, const struct cmd_args *a)
{
	struct ioreqvm_op_server_list *l = calloc(1, sizeof(*l));
	if (!l) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	if (libioreq_list_servers(x, l) < 0) {
		free(l);
		return vm_failed(x, "list_servers");
	}
	uint32_t nr = l->nr < IOREQVM_MAX_SERVERS_LISTED ? l->nr : IOREQVM_MAX_SERVERS_LISTED;
	printf("%-5s %-8s %-8s %-8s %-6s %-10s %-10s %-10s %-10s %s\n", "ID", "STATE", "BUFIOREQ",
	       "PID", "RANGES", "REQUESTS", "BUFFERED", "DEFAULTED", "SLEEPS", "CLAIMS");
	for (uint32_t i = 0; i < nr; i++) {
		const __typeof__(l->server[0]) *s = &l->server[i];
		printf("%-5u %-8s %-8s %-8" PRId32 " %-6" PRIu32 " %-10" PRIu64 " %-10" PRIu64
		       " %-10" PRIu64 " %-10" PRIu32 " ",
		       s->id, s->enabled ? "enabled" : "disabled", s->has_bufioreq ? "yes" : "no",
		       s->owner_pid, s->nr_ranges, s->requests, s->buffered, s->defaulted, s->sleeps);
		print_claims(s->claimed_types, s->claim_flags);
		printf("\n");
	}
	if (l->nr > nr)
		printf("(%" PRIu32 " servers, %" PRIu32 " shown)\n", l->nr, nr);
	free(l);
	return 0;
}

static const char *range_kind(uint32_t type)
{
	switch (type) {
	case IOREQVM_IO_RANGE_PORT: return "port";
	case IOREQVM_IO_RANGE_MEMORY: return "memory";
	case IOREQVM_IO_RANGE_PCI: return "pci";
	default: return "unknown";
	}
}

static void format_bound(uint32_t type, uint64_t v, char *buf, size_t len)
{
	if (type == IOREQVM_IO_RANGE_PCI)
		snprintf(buf, len, "%04x:%02x:%02x.%u", (unsigned)((v >> 16) & 0xffff),
			 (unsigned)((v >> 8) & 0xff), (unsigned)((v >> 3) & 0x1f), (unsigned)(v & 7));
	else
		snprintf(buf, len, "%#" PRIx64, v);
}

static int cmd_ranges(struct libioreq *x, const struct cmd_args *a)
{
	struct ioreqvm_op_range_list *l = calloc(1, sizeof(*l));
	if (!l) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	if (libioreq_list_ranges(x, (uint16_t)a->id, l) < 0) {
		free(l);
		return vm_failed(x, "list_ranges");
	}
	uint32_t nr = l->nr < IOREQVM_MAX_RANGES_LISTED ? l->nr : IOREQVM_MAX_RANGES_LISTED;
	printf("%-7s %-18s %-18s %s\n", "TYPE", "START", "END", "FLAGS");
	for (uint32_t i = 0; i < nr; i++) {
		char lo[32], hi[32];
		format_bound(l->range[i].type, l->range[i].start, lo, sizeof(lo));
		format_bound(l->range[i].type, l->range[i].end, hi, sizeof(hi));
		printf("%-7s %-18s %-18s %s\n", range_kind(l->range[i].type), lo, hi,
		       (l->range[i].flags & IOREQVM_IO_RANGE_BUFFERED) ? "buffered" : "-");
	}
	if (l->total > nr)
		printf("(%" PRIu32 " ranges, %" PRIu32 " shown)\n", l->total, nr);
	free(l);
	return 0;
}

static int cmd_get_mem_type(struct libioreq *x, const struct cmd_args *a)
{
	uint16_t t;
	if (libioreq_get_mem_type(x, a->pfn, &t) < 0)
		return vm_failed(x, "get_mem_type");
	char buf[24];
	printf("%s\n", mem_type_name(t, buf, sizeof(buf)));
	return 0;
}

static int cmd_set_mem_type(struct libioreq *x, const struct cmd_args *a)
{
	if (libioreq_set_mem_type(x, a->type, a->pfn, (uint32_t)a->nr) < 0)
		return vm_failed(x, "set_mem_type");
	return 0;
}

static int cmd_shutdown(struct libioreq *x, const struct cmd_args *a)
{
	if (libioreq_shutdown(x, a->reason) < 0)
		return vm_failed(x, "shutdown");
	return 0;
}

static int cmd_xen_info(struct libioreq *x, const struct cmd_args *a)
{
	struct ioreqvm_op_xen_info xi;
	if (libioreq_xen_info(x, &xi) < 0)
		return vm_failed(x, "xen_info");
	const uint8_t *u = xi.uuid;
	printf("domid:              %" PRIu32 "\n", xi.domid);
	printf("uuid:               %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
	       "%02x%02x\n", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	       u[11], u[12], u[13], u[14], u[15]);
	printf("vcpus:              %" PRIu32 "\n", xi.nr_vcpus);
	printf("ram frames:         %" PRIu64 " (populate may reach %" PRIu64 ")\n", xi.ram_pages,
	       xi.max_ram_pages);
	printf("xenstore socket:    %s\n", xi.xenstore_path[0] ? xi.xenstore_path : "-");
	return 0;
}

/* A connection to the VM's xenstore, or -1 with the reason printed. */
static int xenstore_open(struct libioreq *x)
{
	struct ioreqvm_op_xen_info xi;
	if (libioreq_xen_info(x, &xi) < 0) {
		vm_failed(x, "xen_info");
		return -1;
	}
	if (!xi.xenstore_path[0]) {
		fprintf(stderr, PROG ": the VM has no xenstore\n");
		return -1;
	}
	int fd = xsc_open(xi.xenstore_path);
	if (fd < 0)
		fprintf(stderr, PROG ": xenstore %s: %s\n", xi.xenstore_path, strerror(-fd));
	return fd;
}

static int xs_failed(const char *what, const char *key, int rc)
{
	fprintf(stderr, PROG ": %s %s: %s\n", what, key, strerror(-rc));
	return EXIT_FAIL;
}

/* @len bytes of @v as text: printable ASCII as is, '"' and '\\' escaped, the rest \xNN. */
static void print_value(const char *v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

/* @path's children, each NUL-terminated, in *names (DIRECTORY, paged past 4 KiB). */
static int xs_children(int fd, const char *path, char **names, uint32_t *len)
{
	int rc = xsc_call(fd, IOREQVM_XS_DIRECTORY, path, strlen(path) + 1, names, len);
	if (rc != -E2BIG)
		return rc;
	char *all = NULL, *gen = NULL;
	uint32_t have = 0;
	for (;;) {
		char req[IOREQVM_XS_PAYLOAD_MAX];
		int n = snprintf(req, sizeof(req), "%s%c%" PRIu32, path, 0, have);
		char *part;
		uint32_t plen;
		rc = xsc_call(fd, IOREQVM_XS_DIRECTORY_PART, req, (size_t)n + 1, &part, &plen);
		if (rc)
			break;
		size_t gl = strlen(part) + 1;
		if (gen && strcmp(gen, part)) { /* it changed meanwhile: again */
			free(part);
			free(gen);
			gen = NULL;
			have = 0;
			continue;
		}
		if (!gen)
			gen = strdup(part);
		char *grown = realloc(all, have + plen - gl + 1);
		if (!gen || !grown) {
			free(part);
			rc = -ENOMEM;
			break;
		}
		all = grown;
		memcpy(all + have, part + gl, plen - gl);
		have += plen - (uint32_t)gl;
		free(part);
		if (have <= 1 || all[have - 2] == 0)
			break; /* the list ends with two NULs */
	}
	free(gen);
	if (rc) {
		free(all);
		return rc;
	}
	*names = all;
	*len = have ? have - 1 : 0;
	return 0;
}

static int ls(int fd, const char *path, unsigned depth)
{
	char *v, *names;
	uint32_t vlen, nlen;
	int rc = xsc_call(fd, IOREQVM_XS_READ, path, strlen(path) + 1, &v, &vlen);
	if (rc)
		return xs_failed("xenstore-ls: read", path, rc);
	printf("%s = \"", path);
	print_value(v, vlen);
	printf("\"\n");
	free(v);
	if (depth > 64) /* the store allows no deeper paths */
		return 0;
	rc = xs_children(fd, path, &names, &nlen);
	if (rc)
		return xs_failed("xenstore-ls: directory", path, rc);
	int status = 0;
	for (uint32_t off = 0; off < nlen && !status; off += (uint32_t)strlen(names + off) + 1) {
		char child[IOREQVM_XS_ABS_PATH_MAX + 2];
		snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", names + off);
		status = ls(fd, child, depth + 1);
	}
	free(names);
	return status;
}

static int cmd_xenstore_ls(struct libioreq *x, const struct cmd_args *a)
{
	int fd = xenstore_open(x);
	if (fd < 0)
		return EXIT_FAIL;
	int rc = ls(fd, a->key, 0);
	close(fd);
	return rc;
}

static int cmd_xenstore_read(struct libioreq *x, const struct cmd_args *a)
{
	int fd = xenstore_open(x);
	if (fd < 0)
		return EXIT_FAIL;
	char *v;
	uint32_t len;
	int rc = xsc_call(fd, IOREQVM_XS_READ, a->key, strlen(a->key) + 1, &v, &len);
	close(fd);
	if (rc)
		return xs_failed("xenstore-read", a->key, rc);
	fwrite(v, 1, len, stdout);
	putchar('\n');
	free(v);
	return 0;
}

static int cmd_xenstore_write(struct libioreq *x, const struct cmd_args *a)
{
	int fd = xenstore_open(x);
	if (fd < 0)
		return EXIT_FAIL;
	size_t kl = strlen(a->key) + 1, vl = strlen(a->value);
	char *req = malloc(kl + vl);
	char *ok = NULL;
	int rc = -ENOMEM;
	if (req) {
		memcpy(req, a->key, kl);
		memcpy(req + kl, a->value, vl);
		rc = xsc_call(fd, IOREQVM_XS_WRITE, req, kl + vl, &ok, NULL);
	}
	free(req);
	free(ok);
	close(fd);
	return rc ? xs_failed("xenstore-write", a->key, rc) : 0;
}

/* ---- argument parsing: 0, or EXIT_USAGE with the message printed ------------ */

static int parse_none(char **args, struct cmd_args *a)
{
	return 0;
}

static int parse_ranges(char **args, struct cmd_args *a)
{
	if (parse_u64(args[0], UINT16_MAX, &a->id))
		return usage_error("ranges: bad server id '%s' (expected 0-65535)", args[0]);
	return 0;
}

static int parse_get_mem_type(char **args, struct cmd_args *a)
{
	if (parse_u64(args[0], UINT64_MAX, &a->pfn))
		return usage_error("get-mem-type: bad frame number '%s'", args[0]);
	return 0;
}

static int parse_set_mem_type(char **args, struct cmd_args *a)
{
	if (parse_mem_type(args[0], &a->type))
		return usage_error("set-mem-type: unknown type '%s'", args[0]);
	if (parse_u64(args[1], UINT64_MAX, &a->pfn))
		return usage_error("set-mem-type: bad first frame '%s'", args[1]);
	if (parse_u64(args[2], UINT32_MAX, &a->nr))
		return usage_error("set-mem-type: bad frame count '%s' (at most 0xffffffff)",
				   args[2]);
	return 0;
}

/* A xenstore key: a non-empty path short enough for one message (the store checks the rest). */
static int parse_key(const char *cmd, const char *s, struct cmd_args *a)
{
	if (!*s || strlen(s) > IOREQVM_XS_ABS_PATH_MAX) {
		fprintf(stderr, PROG ": %s: key empty or longer than %d bytes (see --help)\n", cmd,
			IOREQVM_XS_ABS_PATH_MAX);
		return EXIT_USAGE;
	}
	a->key = s;
	return 0;
}

static int parse_xenstore_key(char **args, struct cmd_args *a)
{
	return parse_key("xenstore", args[0], a);
}

static int parse_xenstore_write(char **args, struct cmd_args *a)
{
	int rc = parse_key("xenstore-write", args[0], a);
	if (rc)
		return rc;
	if (strlen(args[0]) + 1 + strlen(args[1]) > IOREQVM_XS_PAYLOAD_MAX)
		return usage_error("xenstore-write: key and value longer than one message%s", "");
	a->value = args[1];
	return 0;
}

static int parse_shutdown(char **args, struct cmd_args *a)
{
	static const struct { const char *name; uint32_t reason; } reasons[] = {
		{ "poweroff", IOREQVM_SHUTDOWN_POWEROFF },
		{ "reboot", IOREQVM_SHUTDOWN_REBOOT },
		{ "quit", IOREQVM_SHUTDOWN_QUIT },
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (!strcmp(args[0], reasons[i].name)) {
			a->reason = reasons[i].reason;
			return 0;
		}
	}
	uint64_t v;
	if (parse_u64(args[0], UINT32_MAX, &v))
		return usage_error("shutdown: unknown reason '%s' (poweroff, reboot, quit or "
				   "a number)", args[0]);
	a->reason = (uint32_t)v;
	return 0;
}

static const struct command {
	const char *name;
	int nargs;
	const char *args; /* for the usage message */
	int (*parse)(char **args, struct cmd_args *a);
	int (*run)(struct libioreq *x, const struct cmd_args *a);
} commands[] = {
	{ "info", 0, "", parse_none, cmd_info },
	{ "servers", 0, "", parse_none, cmd_servers },
	{ "ranges", 1, " ID", parse_ranges, cmd_ranges },
	{ "get-mem-type", 1, " PFN", parse_get_mem_type, cmd_get_mem_type },
	{ "set-mem-type", 3, " TYPE FIRST_PFN NR", parse_set_mem_type, cmd_set_mem_type },
	{ "shutdown", 1, " REASON", parse_shutdown, cmd_shutdown },
	{ "xen-info", 0, "", parse_none, cmd_xen_info },
	{ "xenstore-ls", 1, " PATH", parse_xenstore_key, cmd_xenstore_ls },
	{ "xenstore-read", 1, " KEY", parse_xenstore_key, cmd_xenstore_read },
	{ "xenstore-write", 2, " KEY VALUE", parse_xenstore_write, cmd_xenstore_write },
};

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = NULL;
	opterr = 0;
	int c;
	/* '+': options end at the command, so its arguments are never taken for options. */
	while ((c = getopt_long(argc, argv, "+:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return usage_error("--socket: empty path%s", "");
			socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " IOREQVM_VERSION "\n");
			return 0;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given%s", "");
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	char **args = &argv[optind + 1];
	int nargs = argc - optind - 1;
	if (nargs != cmd->nargs) {
		fprintf(stderr, PROG ": usage: " PROG " [--socket PATH] %s%s\n", cmd->name,
			cmd->args);
		return EXIT_USAGE;
	}
	struct cmd_args a = { 0 };
	int rc = cmd->parse(args, &a);
	if (rc)
		return rc;

	if (!socket_path)
		socket_path = getenv("IOREQVM_SOCKET");
	if (!socket_path || !*socket_path) {
		fprintf(stderr, PROG ": which VM? pass --socket PATH or set IOREQVM_SOCKET "
				"(ioreqvm prints its socket path with -v)\n");
		return EXIT_USAGE;
	}
	struct libioreq *x = NULL;
	rc = libioreq_connect(socket_path, &x);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot connect to %s: %s\n", socket_path,
			x ? libioreq_error(x) : strerror(-rc));
		if (x)
			libioreq_close(x);
		return EXIT_FAIL;
	}
	rc = cmd->run(x, &a);
	libioreq_close(x);
	return rc;
}
