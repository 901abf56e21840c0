/* SPDX-License-Identifier: MIT */
/*
 * wp-monitor: intercept guest writes to chosen pages from another process
 * (the seed's use case: page-table shadowing, integrity monitoring). It
 * claims an ioreq_server memory type for WRITE, gives the watched pages
 * that type, and for every guest write prints address, size, old and new
 * value and applies its policy: allow (write it through), deny (drop it)
 * or log (write it through, reported as observed only). Reads never exit.
 * Pages come from --watch, or from the guest itself through the announce
 * port (--announced), where the guest may also release what it announced.
 * Live counters on stderr, a summary at exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libioreq.h"
#include "wp_policy.h"

static volatile sig_atomic_t stop_requested;
static volatile bool stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	stop_flag = true;
}

static struct wp_state st;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: wp-monitor [--socket PATH] [--type N] [--policy allow|deny|log]\n"
"                  [--watch GPA:LEN[:POLICY]]... [--announced] [--quiet]\n"
"Intercept guest writes to chosen pages of a running ioreqvm VM.\n"
"  --socket PATH     the VM's control socket (else $IOREQVM_FD, $IOREQVM_SOCKET)\n"
"  --type N          ioreq_server type to claim, 4..11 (default 4)\n"
"  --policy P        default policy: allow (write through), deny (drop),\n"
"                    log (write through, reported as observed) (default allow)\n"
"  --watch A:L[:P]   watch guest-physical bytes [A, A+L), rounded out to pages\n"
"  --announced       also watch what the guest announces on ports 0x%x-0x%x\n"
"                    (write the first page frame to 0x%x, then the page count\n"
"                    to 0x%x; a read of 0x%x says 1 if it was accepted; a\n"
"                    count of 0 releases a range the guest announced)\n"
"  --quiet           counters only, no line per write\n",
		WP_ANNOUNCE_PORT, WP_ANNOUNCE_PORT + 7, WP_ANNOUNCE_PORT, WP_ANNOUNCE_PORT + 4,
		WP_ANNOUNCE_PORT + 4);
}

static int parse_watch(const char *s, enum wp_policy def)
{
	char *end;
	uint64_t a = strtoull(s, &end, 0);
	if (*end != ':')
		return -1;
	uint64_t len = strtoull(end + 1, &end, 0);
	enum wp_policy p = def;
	if (*end == ':' && wp_policy_parse(end + 1, &p))
		return -1;
	else if (*end && *end != ':')
		return -1;
	if (!len || a + len < a)
		return -1;
	return wp_add_range(&st, a & ~0xfffULL, (a + len + 0xfff) & ~0xfffULL, p, false);
}

static void print_counters(FILE *f, const char *prefix)
{
	fprintf(f, "wp-monitor: %s%" PRIu64 " writes: %" PRIu64 " allowed, %" PRIu64 " denied, %"
		PRIu64 " logged; %" PRIu64 " pages watched\n", prefix, st.writes, st.allowed,
		st.denied, st.logged, st.pages);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "type", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' }, { "watch", required_argument, NULL, 'w' },
		{ "announced", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	const char *watches[WP_MAX_RANGES];
	unsigned nr_watches = 0;
	wp_state_init(&st, stdout);
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 't': {
			char *end;
			unsigned long t = strtoul(optarg, &end, 0);
			if (*end || !ioreqvm_mem_type_is_ioreq((unsigned)t)) {
				fprintf(stderr, "wp-monitor: --type %s: an ioreq_server type, 4..11\n", optarg);
				return 2;
			}
			st.type = (uint16_t)t;
			break;
		}
		case 'p':
			if (wp_policy_parse(optarg, &st.default_policy)) {
				fprintf(stderr, "wp-monitor: --policy %s: allow, deny or log\n", optarg);
				return 2;
			}
			break;
		case 'w':
			if (nr_watches == WP_MAX_RANGES) {
				fprintf(stderr, "wp-monitor: at most %d --watch ranges\n", WP_MAX_RANGES);
				return 2;
			}
			watches[nr_watches++] = optarg;
			break;
		case 'a': st.announced = true; break;
		case 'q': st.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wp-monitor: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	for (unsigned i = 0; i < nr_watches; i++) {
		if (parse_watch(watches[i], st.default_policy)) {
			fprintf(stderr, "wp-monitor: --watch %s: expected GPA:LEN[:allow|deny|log]\n",
				watches[i]);
			return 2;
		}
	}
	if (!nr_watches && !st.announced) {
		fprintf(stderr, "wp-monitor: nothing to watch: give --watch or --announced\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = wp_attach(&st, sock);
	if (rc) {
		fprintf(stderr, "wp-monitor: %s\n", st.x ? libioreq_error(st.x) : libioreq_error(NULL));
		return 1;
	}
	/* Serve, with a counter line on stderr at most once a second. */
	uint64_t shown = 0;
	time_t last = time(NULL);
	for (;;) {
		rc = libioreq_server_run_for(st.srv, &stop_flag, 1000);
		if (rc < 0 || stop_requested)
			break;
		if (st.writes != shown && time(NULL) != last) {
			print_counters(stderr, "");
			shown = st.writes;
			last = time(NULL);
		}
	}
	print_counters(stderr, rc == -EPIPE ? "VM gone; " : "stopping; ");
	wp_detach(&st);
	return rc < 0 && rc != -EPIPE ? 1 : 0;
}
