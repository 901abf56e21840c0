/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm-uart16550: the COM1 16550 UART as a device-model process. main()
 * connects through libioreq, creates one IOREQ server for ports
 * BASE..BASE+7, serves it with uart_dm_io.c, writes transmitted bytes to
 * stdout and drives the ISA IRQ with set_isa_irq_level. With --input FILE
 * the file's bytes arrive as received data, as fast as the guest empties the
 * receive FIFO. Exits 0 when the VM goes away or on SIGINT/SIGTERM/SIGHUP,
 * 1 on a failure, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libioreq.h"
#include "uart_dm_io.h"

#ifndef IOREQVM_VERSION
#define IOREQVM_VERSION "unknown"
#endif

#define PROG "ioreqvm-uart16550"
#define DEFAULT_BASE 0x3f8
#define DEFAULT_IRQ 4

struct dm {
	struct libioreq *x;
	struct uart_dm uart;
	uint8_t irq;
	int out_fd;
	bool irq_failed; /* reported once */
	bool out_failed;
	uint8_t *input;  /* --input: bytes still to receive */
	size_t input_len, input_pos;
};

static volatile bool stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = true;
}

/* Transmit: one unbuffered write per byte, so output is never held back. */
static void dm_tx(void *opaque, uint8_t byte)
{
	struct dm *d = opaque;
	for (;;) {
		ssize_t w = write(d->out_fd, &byte, 1);
		if (w == 1)
			return;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A non-blocking stdout (shared with a terminal): wait, a little. */
			struct pollfd p = { .fd = d->out_fd, .events = POLLOUT };
			if (poll(&p, 1, 100) > 0)
				continue;
		}
		if (!d->out_failed) {
			fprintf(stderr, PROG ": writing guest output: %s; dropping it\n",
				w < 0 ? strerror(errno) : "short write");
			d->out_failed = true;
		}
		return;
	}
}

/*
 * Interrupt line changes are sent while the vCPU still waits for this
 * request, so the guest sees them as it would with the in-VMM UART.
 */
static void dm_irq(void *opaque, bool level)
{
	struct dm *d = opaque;
	int rc = libioreq_set_isa_irq_level(d->x, d->irq, level ? 1 : 0);
	if (rc < 0 && rc != -EPIPE && !d->irq_failed) {
		fprintf(stderr, PROG ": set_isa_irq_level(%u, %d): %s\n", d->irq, level,
			libioreq_error(d->x));
		d->irq_failed = true;
	}
}

static void dm_handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *req)
{
	struct dm *d = opaque;
	(void)vcpu;
	uart_dm_access(&d->uart, req);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--socket PATH] [--port BASE] [--irq N]\n"
"\n"
"The 16550A UART (COM1) of an ioreqvm VM, as a separate device-model process.\n"
"Serves ports BASE..BASE+7 through an IOREQ server, writes what the guest\n"
"transmits to stdout, and drives ISA IRQ N. Runs until the VM goes away.\n"
"\n"
"  --socket PATH  the VM's control socket (ioreqvm -v prints it); default:\n"
"                 the socket inherited from ioreqvm ($IOREQVM_FD), else\n"
"                 $IOREQVM_SOCKET\n"
"  --port BASE    first I/O port, decimal or 0x hex (default 0x3f8)\n"
"  --irq N        ISA IRQ 0-15 (default 4)\n"
"  --input FILE   the guest receives FILE's bytes (up to 1 MiB), as fast as\n"
"                 it empties the receive FIFO\n"
"  --help         this text\n"
"  --version      print the version\n"
"\n"
"Exit status: 0 when the VM went away or on SIGINT/SIGTERM/SIGHUP,\n"
"1 on a failure (message on stderr), 2 on bad usage.\n");
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

struct opts {
	const char *socket;
	const char *input;
	uint16_t base;
	uint8_t irq;
};

/* 0: run; 1: done (help/version printed); 2: bad usage (message printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "irq", required_argument, NULL, 'i' },
		{ "input", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct opts){ .base = DEFAULT_BASE, .irq = DEFAULT_IRQ };
	opterr = 0;
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg) {
				fprintf(stderr, PROG ": --socket: empty path\n");
				return 2;
			}
			o->socket = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, 0x10000 - UART_NR_REGS, &v)) {
				fprintf(stderr, PROG ": --port '%s': expected a port from 0 to 0x%x\n",
					optarg, 0x10000 - UART_NR_REGS);
				return 2;
			}
			o->base = (uint16_t)v;
			break;
		case 'i':
			if (parse_ulong(optarg, 15, &v)) {
				fprintf(stderr, PROG ": --irq '%s': expected an ISA IRQ from 0 to 15\n",
					optarg);
				return 2;
			}
			o->irq = (uint8_t)v;
			break;
		case 'I':
			o->input = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf(PROG " " IOREQVM_VERSION "\n");
			return 1;
		case ':':
			fprintf(stderr, PROG ": option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (!o->socket && !getenv("IOREQVM_FD") && !getenv("IOREQVM_SOCKET")) {
		fprintf(stderr, PROG ": no VM to serve: pass --socket PATH (ioreqvm -v prints "
				"its socket path) or set IOREQVM_SOCKET\n");
		return 2;
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed stdout must not kill the model: write() reports EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
}

/* Report a failed libioreq call on @x and return exit status 1. */
static int fail(struct dm *d, const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, libioreq_error(d->x));
	return 1;
}

static int serve(struct dm *d, const struct opts *o)
{
	char what[96];
	uint16_t id;
	int rc = libioreq_create_ioreq_server(d->x, false, &id);
	if (rc < 0)
		return fail(d, "create_ioreq_server");
	rc = libioreq_map_io_range_to_ioreq_server(d->x, id, IOREQVM_IO_RANGE_PORT, o->base,
						   o->base + UART_NR_REGS - 1, 0);
	if (rc < 0) {
		snprintf(what, sizeof(what), "map ports 0x%x-0x%x", o->base,
			 o->base + UART_NR_REGS - 1);
		return fail(d, what);
	}
	struct libioreq_server *srv;
	rc = libioreq_server_open(d->x, id, dm_handle, d, &srv);
	if (rc < 0)
		return fail(d, "open server");
	int status = 1;
	if (libioreq_set_ioreq_server_state(d->x, id, true) < 0) {
		fail(d, "enable server");
		goto out;
	}
	if (libioreq_dm_ready(d->x) < 0) {
		fail(d, "dm_ready");
		goto out;
	}
	do {
		/* Received data: fill the FIFO as far as it has room. */
		while (d->input_pos < d->input_len &&
		       uart16550_regs_receive(&d->uart.regs, d->input[d->input_pos]))
			d->input_pos++;
		rc = libioreq_server_run_for(srv, &stop_requested,
					     d->input_pos < d->input_len ? 2 : 0);
	} while (rc == 0 && !stop_requested);
	if (rc == 0 || rc == -EPIPE) {
		status = 0; /* stopped by a signal, or the VM went away */
	} else {
		fprintf(stderr, PROG ": serving requests: %s\n", libioreq_error(d->x));
	}
out:
	libioreq_server_close(srv);
	return status;
}

/* --input: the whole file, read before the guest runs. */
static int read_input(struct dm *d, const char *path)
{
	enum { INPUT_MAX = 1 << 20 };
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, PROG ": --input %s: %s\n", path, strerror(errno));
		return -1;
	}
	d->input = malloc(INPUT_MAX);
	d->input_len = d->input ? fread(d->input, 1, INPUT_MAX, f) : 0;
	bool more = d->input && fgetc(f) != EOF;
	fclose(f);
	if (!d->input || more) {
		fprintf(stderr, PROG ": --input %s: %s\n", path,
			d->input ? "larger than 1 MiB" : "out of memory");
		free(d->input);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;

	install_signals();
	struct dm d = { .irq = o.irq, .out_fd = STDOUT_FILENO };
	uart_dm_init(&d.uart, o.base, dm_tx, dm_irq, &d);
	if (o.input && read_input(&d, o.input))
		return 1;

	rc = libioreq_connect(o.socket, &d.x);
	if (rc < 0) {
		const char *where = o.socket ? o.socket
			: getenv("IOREQVM_FD") ? "the inherited socket ($IOREQVM_FD)"
					       : getenv("IOREQVM_SOCKET");
		fprintf(stderr, PROG ": cannot connect to %s: %s\n", where,
			d.x ? libioreq_error(d.x) : strerror(-rc));
		if (d.x)
			libioreq_close(d.x);
		return 1;
	}
	int status = serve(&d, &o);
	libioreq_close(d.x);
	free(d.input);
	return status;
}
