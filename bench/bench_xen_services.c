/* SPDX-License-Identifier: MIT */
/*
 * What a Xen device model pays for ioreqvm's xenstore and RAM population
 * (DESIGN X1, X4), through Debian's libxenstore and the libxenctrl on the
 * library path (ioreqvm's, with `ioreqvm xen-env`): per call, the mean over
 * a timed loop, after a warm-up. Prints one table row per operation.
 * Usage (bench/xen_services.sh runs it): bench_xen_services DOMID
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenctrl.h>
#include <xenstore.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void row(const char *what, unsigned n, double us)
{
	printf("| %s | %u | %.1f us |\n", what, n, us / n);
}

int main(int argc, char **argv)
{
	uint32_t domid = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1;
	struct xs_handle *xs = xs_open(0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	if (!xs || !xch) {
		fprintf(stderr, "bench_xen_services: xs_open or xc_interface_open failed\n");
		return 1;
	}
	char key[64];
	snprintf(key, sizeof(key), "/local/domain/%u/bench/key", domid);
	xs_write(xs, XBT_NULL, key, "value", 5);
	enum { N = 20000, NT = 5000, NP = 500 };
	unsigned len;
	for (unsigned i = 0; i < 1000; i++)
		free(xs_read(xs, XBT_NULL, key, &len));
	double t = now_us();
	for (unsigned i = 0; i < N; i++)
		free(xs_read(xs, XBT_NULL, key, &len));
	row("xs_read", N, now_us() - t);
	t = now_us();
	for (unsigned i = 0; i < N; i++)
		xs_write(xs, XBT_NULL, key, "value", 5);
	row("xs_write", N, now_us() - t);
	t = now_us();
	for (unsigned i = 0; i < NT; i++) {
		xs_transaction_t tx = xs_transaction_start(xs);
		xs_write(xs, tx, key, "tx", 2);
		xs_transaction_end(xs, tx, false);
	}
	row("transaction: start, write, commit", NT, now_us() - t);
	xen_pfn_t f[16];
	for (unsigned i = 0; i < 16; i++)
		f[i] = 0xD0000 + i;
	t = now_us();
	for (unsigned i = 0; i < NP; i++) {
		if (xc_domain_populate_physmap_exact(xch, domid, 16, 0, 0, f) ||
		    xc_domain_decrease_reservation_exact(xch, domid, 16, 0, f)) {
			perror("bench_xen_services: populate/decrease");
			return 1;
		}
	}
	row("populate + decrease 16 frames (64 KiB)", NP, now_us() - t);
	/* 65536 frames, the limit, as 256 extents of order 8 (1 MiB each). */
	xen_pfn_t big[256];
	for (unsigned i = 0; i < 256; i++)
		big[i] = 0xC0000 + (i << 8);
	t = now_us();
	int rc = xc_domain_populate_physmap_exact(xch, domid, 256, 8, 0, big);
	double tp = now_us() - t;
	t = now_us();
	rc |= xc_domain_decrease_reservation_exact(xch, domid, 256, 8, big);
	double td = now_us() - t;
	if (rc) {
		perror("bench_xen_services: 256 MiB");
		return 1;
	}
	row("populate 65536 frames (256 MiB, 256 extents of order 8)", 1, tp);
	row("decrease the same", 1, td);
	xs_rm(xs, XBT_NULL, key);
	xs_close(xs);
	xc_interface_close(xch);
	return 0;
}
