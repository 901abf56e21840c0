/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm-uart16550: the COM1 16550 UART as a device-model process, and the
 * VM's console. main() connects through libioreq, creates one IOREQ server
 * for ports BASE..BASE+7, serves it with uart_dm_io.c and drives the ISA
 * IRQ with set_isa_irq_level. What the guest transmits goes to stdout
 * through console_out.c, never dropped (a slow output holds the guest
 * back): written before the guest's write completes, or with --posted the
 * register writes are posted (I7: the guest does not wait for them, and a
 * later read still sees them, as posted writes are served first) and the
 * output is batched by a writer thread; with --input, what the
 * source gives arrives as received data through console_in.c, as fast as
 * the guest empties the receive FIFO (a terminal raw, with Ctrl-A x asking
 * ioreqvm to stop the VM). Exits 0 when the VM goes away or on
 * SIGINT/SIGTERM/SIGHUP, 1 on a failure, 2 on bad usage; a terminal is
 * put back as it was on each of these, and on SIGQUIT, SIGABRT and
 * crashes.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console_in.h"
#include "console_out.h"
#include "console_tty.h"
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
	struct libioreq_server *srv;
	struct uart_dm uart;
	uint8_t irq;
	bool irq_failed; /* reported once */
	uint64_t rx_on_ns; /* when the guest last turned its receive interrupt on */
	struct console_out out;
	struct console_in in;
};

/* Static: a signal handler reaches it, and an abandoned writer may outlive main. */
static struct dm the_dm;
static volatile bool stop_requested;
/* run_for's flag: a stop, input or a quit to act on (set, then wake). */
static volatile bool wake_requested;
static struct libioreq_server *volatile wake_srv;

static void on_stop_signal(int sig)
{
	(void)sig;
	console_tty_restore();
	stop_requested = true;
	wake_requested = true;
	if (wake_srv)
		libioreq_server_wake(wake_srv);
}

/* A crash or SIGQUIT/SIGABRT: the terminal first, then the default action. */
static void on_fatal_signal(int sig)
{
	console_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The reader thread has bytes (or a quit) for the serving thread. */
static void wake_server(void *opaque)
{
	struct dm *d = opaque;
	wake_requested = true;
	libioreq_server_wake(d->srv);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Until the guest listens, input waits here, not in the FIFO: drivers
 * clear the FIFO and read RBR blind while they set up, which would eat it.
 * Listening: the receive interrupt is on (IER bit 0) and the guest touched
 * another register since turning it on (uart_dm_rx_confirmed: not a driver
 * probing IER, as Linux's 8250 does at boot with 0x0f and then clears the
 * FIFO), or it has been on for RX_SETTLE_NS (a guest that turns it on and
 * waits for the interrupt touches nothing). While a driver turns the
 * interrupt off to throttle, input waits too. A guest that polls LSR with
 * the interrupt off gets no input (see --help).
 */
#define RX_SETTLE_NS (50 * 1000 * 1000ULL)

/* ns until the gate opens by time; 0 if open (or the interrupt is off). */
static uint64_t rx_settle_left(struct dm *d)
{
	if (!(d->uart.regs.ier & UART_IER_RDI) || uart_dm_rx_confirmed(&d->uart))
		return 0;
	uint64_t on_for = now_ns() - d->rx_on_ns;
	return on_for >= RX_SETTLE_NS ? 0 : RX_SETTLE_NS - on_for;
}

/* Received data: fill the FIFO from the console input as far as it has room. */
static void feed_fifo(struct dm *d)
{
	struct uart16550_regs *r = &d->uart.regs;
	if (r->mcr & UART_MCR_LOOP)
		return; /* loopback: the receiver hears the transmitter only */
	if (!(r->ier & UART_IER_RDI) || rx_settle_left(d))
		return;
	uint8_t b[UART_FIFO_SIZE];
	size_t n = console_in_take(&d->in, b, UART_FIFO_SIZE - r->rx_count);
	for (size_t i = 0; i < n; i++)
		uart16550_regs_receive(r, b[i]);
}

/* Transmit: out, or into the output buffer (--posted); waits while stdout is slow. */
static void dm_tx(void *opaque, uint8_t byte)
{
	struct dm *d = opaque;
	console_out_byte(&d->out, byte);
}

/*
 * Interrupt line changes: for a read, sent while the vCPU still waits for
 * it, so the guest sees them as it would with the in-VMM UART; for a posted
 * write, a little after the guest wrote (an interrupt is asynchronous on
 * hardware too), and always before the guest's next read of the UART.
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
	uint64_t epoch = d->uart.rx_epoch;
	uart_dm_access(&d->uart, req);
	if (d->uart.rx_epoch != epoch) {
		/* The receive interrupt was just turned on: the serving loop
		 * comes back when the gate opens by time (see rx_settle_left). */
		d->rx_on_ns = now_ns();
		wake_requested = true;
	}
	feed_fifo(d); /* a read of RBR makes room: refill at once */
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--socket PATH] [--port BASE] [--irq N] [--input FILE|-]\n"
"       [--no-output] [--posted]\n"
"\n"
"The 16550A UART (COM1) of an ioreqvm VM, as a separate device-model process:\n"
"the VM's console. Serves ports BASE..BASE+7 through an IOREQ server, writes\n"
"what the guest transmits to stdout, and drives ISA IRQ N. Runs until the VM\n"
"goes away. `ioreqvm run` starts it with --input - (or, with --console none,\n"
"--no-output and no input).\n"
"\n"
"  --socket PATH  the VM's control socket (ioreqvm -v prints it); default:\n"
"                 the socket inherited from ioreqvm ($IOREQVM_FD), else\n"
"                 $IOREQVM_SOCKET\n"
"  --port BASE    first I/O port, decimal or 0x hex (default 0x3f8)\n"
"  --irq N        ISA IRQ 0-15 (default 4)\n"
"  --input FILE   the guest receives what FILE gives (- is stdin), as fast as\n"
"                 it empties the receive FIFO, streamed: a pipe or a file of\n"
"                 any size; at EOF input ends and the guest runs on. A terminal\n"
"                 (this process's, in the foreground) is set raw while the\n"
"                 model runs, and put back on every exit: keys go to the\n"
"                 guest (Ctrl-C too) except the escape Ctrl-A: Ctrl-A x stops\n"
"                 the VM (ioreqvm exits 12), Ctrl-A Ctrl-A sends Ctrl-A,\n"
"                 Ctrl-A h shows the keys. A terminal this process does not\n"
"                 control (a background job) gives no input. Input waits\n"
"                 until the guest listens: the receive interrupt (IER bit\n"
"                 0) on and another register touched since (or 50 ms\n"
"                 passed), as a driver does once a program opens the\n"
"                 port: bytes sent earlier are not lost to its setup\n"
"  --no-output    discard what the guest transmits\n"
"  --posted       the guest's writes to the UART are posted (it does not wait\n"
"                 for this process) and output is written in batches: a guest\n"
"                 printing fast runs many times faster, but lines other\n"
"                 processes print to the same stdout (another model's log)\n"
"                 may come before guest output sent earlier. Default: each\n"
"                 byte is out before the guest's write completes, in order\n"
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
	bool no_output;
	bool posted;
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
		{ "no-output", no_argument, NULL, 'O' },
		{ "posted", no_argument, NULL, 'P' },
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
			if (!*optarg) {
				fprintf(stderr, PROG ": --input: empty path (- is stdin)\n");
				return 2;
			}
			o->input = optarg;
			break;
		case 'O':
			o->no_output = true;
			break;
		case 'P':
			o->posted = true;
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
	struct sigaction fatal = { .sa_handler = on_fatal_signal };
	sigemptyset(&fatal.sa_mask);
	static const int fatal_sigs[] = { SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
		sigaction(fatal_sigs[i], &fatal, NULL);
	/* A closed stdout must not kill the model: write() reports EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
}

/* Report a failed libioreq call on @x and return exit status 1. */
static int fail(struct dm *d, const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, libioreq_error(d->x));
	return 1;
}

/* Ctrl-A x: ask ioreqvm to stop the VM, once; serving goes on until it does. */
static void quit_once(struct dm *d, bool *sent)
{
	if (*sent || !console_in_quit_requested(&d->in))
		return;
	*sent = true;
	console_tty_restore(); /* the person gets the terminal back at once */
	fprintf(stderr, "\n" PROG ": Ctrl-A x: stopping the VM\n");
	int rc = libioreq_shutdown(d->x, IOREQVM_SHUTDOWN_QUIT);
	if (rc < 0 && rc != -EPIPE) {
		fprintf(stderr, PROG ": shutdown: %s\n", libioreq_error(d->x));
		stop_requested = true; /* at least the console ends */
	}
}

static int serve(struct dm *d, const struct opts *o)
{
	char what[96];
	uint16_t id;
	int rc = libioreq_create_ioreq_server(d->x, o->posted, &id);
	if (rc < 0)
		return fail(d, "create_ioreq_server");
	/* --posted (I7): transmitting never waits for this process. */
	rc = libioreq_map_io_range_to_ioreq_server(d->x, id, IOREQVM_IO_RANGE_PORT, o->base,
						   o->base + UART_NR_REGS - 1,
						   o->posted ? IOREQVM_IO_RANGE_BUFFERED : 0);
	if (rc < 0) {
		snprintf(what, sizeof(what), "map ports 0x%x-0x%x", o->base,
			 o->base + UART_NR_REGS - 1);
		return fail(d, what);
	}
	rc = libioreq_server_open(d->x, id, dm_handle, d, &d->srv);
	if (rc < 0)
		return fail(d, "open server");
	wake_srv = d->srv;
	int status = 1;
	if (libioreq_set_ioreq_server_state(d->x, id, true) < 0) {
		fail(d, "enable server");
		goto out;
	}
	rc = console_in_start(&d->in, wake_server, d);
	if (rc < 0) {
		fprintf(stderr, PROG ": starting the input thread: %s\n", strerror(-rc));
		goto out;
	}
	if (libioreq_dm_ready(d->x) < 0) {
		fail(d, "dm_ready");
		goto out;
	}
	bool quit_sent = false;
	do {
		/* Cleared before looking: input arriving after the look sets it again. */
		wake_requested = stop_requested;
		feed_fifo(d);
		quit_once(d, &quit_sent);
		/* Input waiting for the receive gate to open by time: come back then. */
		uint64_t left = atomic_load(&d->in.available) ? rx_settle_left(d) : 0;
		rc = libioreq_server_run_for(d->srv, &wake_requested,
					     left ? (unsigned)(left / 1000000u) + 1 : 0);
	} while (rc == 0 && !stop_requested);
	if (rc == 0 || rc == -EPIPE) {
		status = 0; /* stopped by a signal, or the VM went away */
	} else {
		fprintf(stderr, PROG ": serving requests: %s\n", libioreq_error(d->x));
	}
out:
	console_in_close(&d->in);
	wake_srv = NULL;
	libioreq_server_close(d->srv);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;

	install_signals();
	struct dm *d = &the_dm;
	d->irq = o.irq;
	uart_dm_init(&d->uart, o.base, dm_tx, dm_irq, d);
	char err[256];
	rc = console_out_start(&d->out, o.no_output ? -1 : STDOUT_FILENO, o.posted, &stop_requested);
	if (rc < 0) {
		fprintf(stderr, PROG ": starting the output thread: %s\n", strerror(-rc));
		return 1;
	}
	if (console_in_open(&d->in, o.input, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}

	rc = libioreq_connect(o.socket, &d->x);
	if (rc < 0) {
		const char *where = o.socket ? o.socket
			: getenv("IOREQVM_FD") ? "the inherited socket ($IOREQVM_FD)"
					       : getenv("IOREQVM_SOCKET");
		fprintf(stderr, PROG ": cannot connect to %s: %s\n", where,
			d->x ? libioreq_error(d->x) : strerror(-rc));
		if (d->x)
			libioreq_close(d->x);
		console_in_close(&d->in);
		return 1;
	}
	int status = serve(d, &o);
	console_out_close(&d->out); /* everything the guest sent, before exiting */
	libioreq_close(d->x);
	return status;
}
