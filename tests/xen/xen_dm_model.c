/* SPDX-License-Identifier: MIT */
/*
 * A device model written against Xen's <xendevicemodel.h> and linked against
 * Debian's libxendevicemodel.so.1 (run_xen_dm.sh checks both with readelf),
 * run on ioreqvm with compat/xen/ first on LD_LIBRARY_PATH. It runs the DM
 * ops and their errors (one log line each, "NAME ok" or "NAME FAIL ..."),
 * some from four threads at once, then serves ports A..B as testdm does for
 * the ioreq guest's "pio" mode: writes are kept, unwritten ports answer
 * testdm_pattern(). Serving goes through libioreq's request slots by the
 * bridge ioreqvm_xen_serve() (found with dlsym: the binary needs no ioreqvm
 * library), until libxenevtchn and libxenforeignmemory exist.
 * Usage: xen_dm_model --port A:B --log FILE
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xendevicemodel.h>

#include "ioreqvm_xen.h" /* the bridge's type only; never linked */
#include "testdm_pattern.h"

#define DOMID 1
#define NR_PORTS 64

static FILE *logfile;
static unsigned failures;
static uint16_t port_lo, port_hi;
static uint64_t written[NR_PORTS];
static bool was_written[NR_PORTS];

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(logfile, fmt, ap);
	va_end(ap);
	fputc('\n', logfile);
	fflush(logfile);
}

/* @rc from a call that must succeed (want 0) or fail with errno @want. */
static void check(const char *name, int rc, int err, int want)
{
	if ((want == 0 && rc == 0) || (want != 0 && rc == -1 && err == want)) {
		say("%s ok", name);
		return;
	}
	say("%s FAIL: rc %d errno %d (%s), want %s", name, rc, err, strerror(err),
	    want ? strerror(want) : "success");
	failures++;
}
#define CHECK(name, call, want) do { errno = 0; int rc_ = (call); check(name, rc_, errno, want); } while (0)

static xendevicemodel_handle *shared;
static ioservid_t sid;

/* Four threads on one handle: map, unmap and ask at once (the connection's lock). */
static void *hammer(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg, bad = 0, vcpus;
	for (unsigned n = 0; n < 250; n++) {
		uint16_t p = (uint16_t)(0x600 + i);
		bad += xendevicemodel_map_io_range_to_ioreq_server(shared, DOMID, sid, 0, p, p) != 0;
		bad += xendevicemodel_nr_vcpus(shared, DOMID, &vcpus) != 0;
		bad += xendevicemodel_unmap_io_range_from_ioreq_server(shared, DOMID, sid, 0, p, p) != 0;
	}
	return (void *)(uintptr_t)bad;
}

static void handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *r)
{
	uint64_t mask = r->size >= 8 ? ~0ULL : (1ULL << (8 * r->size)) - 1;
	unsigned i = (unsigned)(r->addr - port_lo) % NR_PORTS;
	if (r->dir == IOREQVM_IOREQ_WRITE) {
		written[i] = r->data & mask;
		was_written[i] = true;
	} else {
		r->data = (was_written[i] ? written[i] : testdm_pattern(r->addr, 0)) & mask;
	}
	say("vcpu %u type %u dir %s addr 0x%" PRIx64 " size %u data 0x%" PRIx64, vcpu, r->type,
	    r->dir == IOREQVM_IOREQ_WRITE ? "write" : "read", (uint64_t)r->addr, r->size,
	    (uint64_t)r->data);
}

int main(int argc, char **argv)
{
	unsigned lo = 0, hi = 0;
	const char *logpath = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port") && sscanf(argv[i + 1], "%x:%x", &lo, &hi) == 2)
			continue;
		if (!strcmp(argv[i], "--log")) {
			logpath = argv[i + 1];
			continue;
		}
		lo = hi = 0;
		break;
	}
	if (!logpath || hi < lo || hi > 0xffff || hi - lo >= NR_PORTS || argc != 5) {
		fprintf(stderr, "usage: xen_dm_model --port A:B --log FILE (at most %d ports)\n", NR_PORTS);
		return 2;
	}
	port_lo = (uint16_t)lo;
	port_hi = (uint16_t)hi;
	logfile = fopen(logpath, "w");
	if (!logfile)
		return 2;

	xendevicemodel_handle *dmod = xendevicemodel_open(NULL, 0);
	if (!dmod) {
		say("open FAIL: %s", strerror(errno));
		return 1;
	}
	shared = dmod;
	unsigned vcpus = 0;
	CHECK("nr_vcpus", xendevicemodel_nr_vcpus(dmod, DOMID, &vcpus), 0);
	say("nr_vcpus %u", vcpus);
	CHECK("other_domid_esrch", xendevicemodel_nr_vcpus(dmod, DOMID + 1, &vcpus), ESRCH);
	CHECK("create_ioreq_server", xendevicemodel_create_ioreq_server(dmod, DOMID, HVM_IOREQSRV_BUFIOREQ_OFF, &sid), 0);
	CHECK("create_bad_bufioreq_einval", xendevicemodel_create_ioreq_server(dmod, DOMID, 3, &sid), EINVAL);
	evtchn_port_t bport = 1;
	CHECK("get_ioreq_server_info", xendevicemodel_get_ioreq_server_info(dmod, DOMID, sid, NULL, NULL, &bport), 0);
	say("bufioreq_port %u", bport);
	xen_pfn_t gfn;
	CHECK("get_info_legacy_gfn_enosys", xendevicemodel_get_ioreq_server_info(dmod, DOMID, sid, &gfn, NULL, NULL), ENOSYS);
	CHECK("get_info_unknown_server_enoent", xendevicemodel_get_ioreq_server_info(dmod, DOMID, (ioservid_t)(sid + 100), NULL, NULL, NULL), ENOENT);

	CHECK("map_io_range", xendevicemodel_map_io_range_to_ioreq_server(dmod, DOMID, sid, 0, port_lo, port_hi), 0);
	CHECK("map_io_range_overlap_eexist", xendevicemodel_map_io_range_to_ioreq_server(dmod, DOMID, sid, 0, port_lo, port_lo), EEXIST);
	CHECK("map_mmio_range", xendevicemodel_map_io_range_to_ioreq_server(dmod, DOMID, sid, 1, 0xE0100000, 0xE0100FFF), 0);
	CHECK("unmap_mmio_range", xendevicemodel_unmap_io_range_from_ioreq_server(dmod, DOMID, sid, 1, 0xE0100000, 0xE0100FFF), 0);
	CHECK("unmap_mmio_range_again_enoent", xendevicemodel_unmap_io_range_from_ioreq_server(dmod, DOMID, sid, 1, 0xE0100000, 0xE0100FFF), ENOENT);
	CHECK("map_pcidev", xendevicemodel_map_pcidev_to_ioreq_server(dmod, DOMID, sid, 0, 0, 0x1e, 7), 0);
	CHECK("unmap_pcidev", xendevicemodel_unmap_pcidev_from_ioreq_server(dmod, DOMID, sid, 0, 0, 0x1e, 7), 0);
	CHECK("map_pcidev_bad_device_einval", xendevicemodel_map_pcidev_to_ioreq_server(dmod, DOMID, sid, 0, 0, 0x20, 0), EINVAL);

	/* A page of the PCI hole becomes mmio_dm; type 4 claimed, then released (flags 0). */
	CHECK("set_mem_type_hole_to_mmio_dm", xendevicemodel_set_mem_type(dmod, DOMID, HVMMEM_mmio_dm, 0xE0200, 1), 0);
	CHECK("set_mem_type_unused_einval", xendevicemodel_set_mem_type(dmod, DOMID, HVMMEM_unused, 0x200, 1), EINVAL);
	CHECK("claim_ioreq_server_type", xendevicemodel_map_mem_type_to_ioreq_server(dmod, DOMID, sid, HVMMEM_ioreq_server, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE), 0);
	CHECK("release_ioreq_server_type", xendevicemodel_map_mem_type_to_ioreq_server(dmod, DOMID, sid, HVMMEM_ioreq_server, 0), 0);
	CHECK("release_again_einval", xendevicemodel_map_mem_type_to_ioreq_server(dmod, DOMID, sid, HVMMEM_ioreq_server, 0), EINVAL);
	CHECK("claim_ram_rw_einval", xendevicemodel_map_mem_type_to_ioreq_server(dmod, DOMID, sid, HVMMEM_ram_rw, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE), EINVAL);

	CHECK("set_isa_irq_level", xendevicemodel_set_isa_irq_level(dmod, DOMID, 5, 0), 0);
	CHECK("set_pci_intx_level", xendevicemodel_set_pci_intx_level(dmod, DOMID, 0, 0, 0x1e, 0, 0), 0);
	CHECK("modified_memory", xendevicemodel_modified_memory(dmod, DOMID, 0x100, 1), 0);
	struct xen_dm_op_modified_memory_extent ext[2] = { { .nr = 1, .first_pfn = 0x100 },
							   { .nr = 2, .first_pfn = 0x200 } };
	CHECK("modified_memory_bulk", xendevicemodel_modified_memory_bulk(dmod, DOMID, ext, 2), 0);
	ext[1].pad = 1;
	CHECK("modified_memory_bulk_pad_einval", xendevicemodel_modified_memory_bulk(dmod, DOMID, ext, 2), EINVAL);
	unsigned long bitmap = 0;
	CHECK("track_dirty_vram_enosys", xendevicemodel_track_dirty_vram(dmod, DOMID, 0xa0, 1, &bitmap), ENOSYS);
	CHECK("shutdown_enosys", xendevicemodel_shutdown(dmod, DOMID, 0), ENOSYS);
	CHECK("pin_memory_cacheattr_enosys", xendevicemodel_pin_memory_cacheattr(dmod, DOMID, 0, 0, 0), ENOSYS);

	ioservid_t other;
	CHECK("create_second_server", xendevicemodel_create_ioreq_server(dmod, DOMID, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &other), 0);
	CHECK("get_info_ring_port_enosys", xendevicemodel_get_ioreq_server_info(dmod, DOMID, other, NULL, NULL, &bport), ENOSYS);
	CHECK("destroy_second_server", xendevicemodel_destroy_ioreq_server(dmod, DOMID, other), 0);
	CHECK("destroy_again_enoent", xendevicemodel_destroy_ioreq_server(dmod, DOMID, other), ENOENT);

	pthread_t th[4];
	unsigned bad = 0;
	for (unsigned i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (unsigned)(uintptr_t)r;
	}
	check("four_threads_750_ops_each", bad ? -1 : 0, bad ? EIO : 0, 0);

	CHECK("restrict", xendevicemodel_restrict(dmod, DOMID), 0);
	CHECK("restricted_other_domid_eperm", xendevicemodel_nr_vcpus(dmod, DOMID + 1, &vcpus), EPERM);
	CHECK("restrict_other_einval", xendevicemodel_restrict(dmod, DOMID + 1), EINVAL);
	CHECK("set_ioreq_server_state", xendevicemodel_set_ioreq_server_state(dmod, DOMID, sid, 1), 0);
	say("checks: %u failures", failures);

	int (*serve)(uint16_t, libioreq_handler_fn, void *, volatile bool *) =
		(int (*)(uint16_t, libioreq_handler_fn, void *, volatile bool *))dlsym(RTLD_DEFAULT, "ioreqvm_xen_serve");
	if (!serve) {
		say("serve FAIL: ioreqvm_xen_serve not found: not ioreqvm's libxendevicemodel");
		return 1;
	}
	volatile bool stop = false;
	int rc = serve(sid, handle, NULL, &stop);
	say("serve ended: %s", strerror(-rc));
	xendevicemodel_close(dmod);
	fclose(logfile);
	return rc == -EPIPE && !failures ? 0 : 1;
}
