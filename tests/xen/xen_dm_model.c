/* SPDX-License-Identifier: MIT */
/*
 * A device model written against Xen's headers (<xendevicemodel.h>,
 * <xenforeignmemory.h>, <xenevtchn.h>, <xenctrl.h>, <xenstore.h>,
 * <xen/hvm/ioreq.h>) and linked against Debian's libraries of those names
 * (run_xen_dm.sh checks both with readelf), run on ioreqvm with compat/xen/
 * first on LD_LIBRARY_PATH; Debian's own libxenstore talks to the VM's
 * xenstore.
 *
 * First it runs calls and their errors, one log line each ("NAME ok" or
 * "NAME FAIL ..."), some from four threads at once. Then it serves as a Xen
 * device model does (QEMU's xen-hvm is the pattern): its IOREQ server's
 * pages mapped with xenforeignmemory_map_resource (frame 0 the buffered
 * page, frame 1 the ioreq page), each vCPU's port (the slot's vp_eport) and
 * the ring's port bound with xenevtchn_bind_interdomain, waited for with
 * poll() on xenevtchn_fd, then xenevtchn_pending, xenevtchn_unmask; a
 * request is answered in its slot (IORESP_READY) and its port notified;
 * posted writes are read from the buffered page, before any request. It
 * stops when the VM goes away (VIRQ_DOM_EXC), and exits 0 if every check
 * held.
 *
 * What it serves (each request logged as "vcpu V type T dir D addr A size
 * S data X", V -1 for a posted write):
 *  --port A:B     ports: writes kept, unwritten ports read testdm_pattern()
 *  --mmio A:B     guest-physical bytes, read as testdm_pattern()
 *  --sum-port P, --sum-mmio A
 *                 writes there fold into one checksum a read returns
 *                 (testdm_fold, in arrival order: the ioreq guest's
 *                 "buffered" mode)
 *  --posted       the server has a ring and its port and MMIO ranges take
 *                 posted writes. Xen's API has no call for that (its
 *                 hypervisor picks what it posts); ioreqvm's is a range flag,
 *                 which this model sets through libioreq on the Xen
 *                 libraries' connection (dlsym): its one step outside Xen.
 *  --threads      each vCPU's port on a handle of its own, served by a
 *                 thread of its own blocked in pending() (the main handle
 *                 keeps the ring's port and VIRQ_DOM_EXC)
 *  --quiet        no log line per request (bench/xen_round_trip.sh)
 *  --cmd-port P   a 32-bit write carries the frame of a 64 KiB command
 *                 buffer (guests/xencmd_abi.h): its 16 frames mapped with
 *                 xenforeignmemory_map for that request, the words worked on
 *                 in place, the mapping released (munmap and
 *                 xenforeignmemory_unmap in turn); a read gives the status.
 *  --populate-port P
 *                 a 32-bit write at P populates 16 frames at the frame it
 *                 carries (xc_domain_populate_physmap_exact), at P+4 gives
 *                 them back (xc_domain_decrease_reservation_exact); a read
 *                 of either gives the status (0 or the errno)
 *  --go-port P    a read of P is answered 1 only once the xenstore key
 *                 /local/domain/D/ioreqvm-test/go reads "1" (a watch on it;
 *                 the host writes it with ioreqctl)
 *  --hang-port P  a read of P is never answered: "hang: pid N" is logged
 *                 and the test kills the model (I5)
 *  --shutdown-port P, --dirty-port P, --irq-port P, --claim-port P
 *                 xendevicemodel_shutdown, track_dirty_vram (and
 *                 modified_memory), set_isa_irq_level, and a claimed
 *                 ioreq_server page, as guests/xencmd_abi.h describes
 *  --pci D        PCI device 00:D.0's configuration space (map_pcidev);
 *                 MMIO and PCI config writes are kept (byte by byte) and
 *                 read back, unwritten bytes read testdm_pattern()
 *  --xenstore     at start, through libxenstore: read the seeded key
 *                 /local/domain/D/ioreqvm-test/greeting, write
 *                 /local/domain/0/device-model/D/state = "running" and
 *                 /local/domain/D/ioreqvm-test/reply, and check watches,
 *                 transactions, directories and permissions; then log
 *                 "xenstore written"
 *  --domid D      the domain served (default 1)
 *  --checks-only  run the checks, log which libxenctrl was loaded, exit
 *                 (no serving: the model attached by hand with ioreqvm
 *                 xen-env)
 * Always: libxenctrl's domain info (X5) and populate refusals.
 * Usage: xen_dm_model --log FILE [options above]
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>
#include <xen/sched.h>

#include "ioreqvm/ctl_proto.h" /* the range flag --posted sets and the dirty-tracking limit, nothing else */
#include "testdm_pattern.h"
#include "xencmd_abi.h"

/* The domain served: --domid (default 1, ioreqvm's default). */
static uint32_t domid = 1;
#define NR_PORTS 64
#define MAX_VCPUS 64
#define PAGE 4096
#define SCRATCH_PFN 0xB00 /* 11 MiB: guest RAM no test guest uses; zeroed again after */

static FILE *logfile;
static unsigned failures;

static struct {
	uint64_t port_lo, port_hi, mmio_lo, mmio_hi, sum_port, sum_mmio, cmd_port;
	uint64_t populate_port, go_port, hang_port;
	uint64_t shutdown_port, dirty_port, irq_port, claim_port, pci_dev;
	bool has_pci;
	bool has_ports, has_mmio, posted, threads, quiet, xenstore, checks_only;
} opt;

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(logfile, fmt, ap);
	va_end(ap);
	fputc('\n', logfile);
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
/* A condition that must hold. */
#define EXPECT(name, cond) check(name, (cond) ? 0 : -1, (cond) ? 0 : EIO, 0)

static xendevicemodel_handle *dmod;
static xenforeignmemory_handle *fmem;
static xenevtchn_handle *xce;
static xc_interface *xch;
static struct xs_handle *xsh;
static xen_domain_handle_t vm_uuid; /* from xc_domain_getinfo, checked against xenstore */

/* ---- DM ops and their errors ---------------------------------------------- */

static ioservid_t sid; /* the server that serves the guest */

/* Four threads on one handle: map, unmap and ask at once (the connection's lock). */
static void *hammer(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg, bad = 0, vcpus;
	for (unsigned n = 0; n < 250; n++) {
		uint16_t p = (uint16_t)(0x600 + i);
		bad += xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, p, p) != 0;
		bad += xendevicemodel_nr_vcpus(dmod, domid, &vcpus) != 0;
		bad += xendevicemodel_unmap_io_range_from_ioreq_server(dmod, domid, sid, 0, p, p) != 0;
	}
	return (void *)(uintptr_t)bad;
}

static void dm_op_checks(void)
{
	unsigned vcpus = 0;
	ioservid_t s;
	CHECK("nr_vcpus", xendevicemodel_nr_vcpus(dmod, domid, &vcpus), 0);
	say("nr_vcpus %u", vcpus);
	CHECK("other_domid_esrch", xendevicemodel_nr_vcpus(dmod, domid + 1, &vcpus), ESRCH);
	CHECK("create_ioreq_server", xendevicemodel_create_ioreq_server(dmod, domid, HVM_IOREQSRV_BUFIOREQ_OFF, &s), 0);
	CHECK("create_bad_bufioreq_einval", xendevicemodel_create_ioreq_server(dmod, domid, 3, &s), EINVAL);
	evtchn_port_t bport = 1;
	CHECK("get_ioreq_server_info", xendevicemodel_get_ioreq_server_info(dmod, domid, s, NULL, NULL, &bport), 0);
	say("bufioreq_port %u", bport);
	xen_pfn_t gfn;
	CHECK("get_info_legacy_gfn_enosys", xendevicemodel_get_ioreq_server_info(dmod, domid, s, &gfn, NULL, NULL), ENOSYS);
	CHECK("get_info_unknown_server_enoent", xendevicemodel_get_ioreq_server_info(dmod, domid, (ioservid_t)(s + 100), NULL, NULL, NULL), ENOENT);

	CHECK("map_io_range", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, s, 0, 0x700, 0x70f), 0);
	CHECK("map_io_range_overlap_eexist", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, s, 0, 0x700, 0x700), EEXIST);
	CHECK("map_mmio_range", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, s, 1, 0xE0100000, 0xE0100FFF), 0);
	CHECK("unmap_mmio_range", xendevicemodel_unmap_io_range_from_ioreq_server(dmod, domid, s, 1, 0xE0100000, 0xE0100FFF), 0);
	CHECK("unmap_mmio_range_again_enoent", xendevicemodel_unmap_io_range_from_ioreq_server(dmod, domid, s, 1, 0xE0100000, 0xE0100FFF), ENOENT);
	CHECK("map_pcidev", xendevicemodel_map_pcidev_to_ioreq_server(dmod, domid, s, 0, 0, 0x1e, 7), 0);
	CHECK("unmap_pcidev", xendevicemodel_unmap_pcidev_from_ioreq_server(dmod, domid, s, 0, 0, 0x1e, 7), 0);
	CHECK("map_pcidev_bad_device_einval", xendevicemodel_map_pcidev_to_ioreq_server(dmod, domid, s, 0, 0, 0x20, 0), EINVAL);

	/* A page of the PCI hole becomes mmio_dm; type 4 claimed, then released (flags 0). */
	CHECK("set_mem_type_hole_to_mmio_dm", xendevicemodel_set_mem_type(dmod, domid, HVMMEM_mmio_dm, 0xE0200, 1), 0);
	CHECK("set_mem_type_unused_einval", xendevicemodel_set_mem_type(dmod, domid, HVMMEM_unused, 0x200, 1), EINVAL);
	CHECK("claim_ioreq_server_type", xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, s, HVMMEM_ioreq_server, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE), 0);
	CHECK("release_ioreq_server_type", xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, s, HVMMEM_ioreq_server, 0), 0);
	CHECK("release_again_einval", xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, s, HVMMEM_ioreq_server, 0), EINVAL);
	CHECK("claim_ram_rw_einval", xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, s, HVMMEM_ram_rw, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE), EINVAL);

	CHECK("set_isa_irq_level", xendevicemodel_set_isa_irq_level(dmod, domid, 5, 0), 0);
	CHECK("set_pci_intx_level", xendevicemodel_set_pci_intx_level(dmod, domid, 0, 0, 0x1e, 0, 0), 0);
	CHECK("modified_memory", xendevicemodel_modified_memory(dmod, domid, 0x100, 1), 0);
	struct xen_dm_op_modified_memory_extent ext[2] = { { .nr = 1, .first_pfn = 0x100 },
							   { .nr = 2, .first_pfn = 0x200 } };
	CHECK("modified_memory_bulk", xendevicemodel_modified_memory_bulk(dmod, domid, ext, 2), 0);
	ext[1].pad = 1;
	CHECK("modified_memory_bulk_pad_einval", xendevicemodel_modified_memory_bulk(dmod, domid, ext, 2), EINVAL);
	unsigned long bitmap[2] = { 0, 0 };
	CHECK("track_dirty_vram_other_domid_esrch", xendevicemodel_track_dirty_vram(dmod, domid + 1, 0xa0, 1, bitmap), ESRCH);
	CHECK("track_dirty_vram_past_limit_einval", xendevicemodel_track_dirty_vram(dmod, domid, 0x100, IOREQVM_DIRTY_MAX_PAGES + 1, bitmap), EINVAL);
	CHECK("track_dirty_vram_past_space_einval", xendevicemodel_track_dirty_vram(dmod, domid, (uint64_t)1 << 40, 1, bitmap), EINVAL);
	CHECK("track_dirty_vram_stop_when_off", xendevicemodel_track_dirty_vram(dmod, domid, 0, 0, NULL), 0);
	CHECK("shutdown_other_domid_esrch", xendevicemodel_shutdown(dmod, domid + 1, SHUTDOWN_poweroff), ESRCH);
	CHECK("shutdown_crash_eopnotsupp", xendevicemodel_shutdown(dmod, domid, SHUTDOWN_crash), EOPNOTSUPP);
	CHECK("shutdown_unknown_reason_einval", xendevicemodel_shutdown(dmod, domid, SHUTDOWN_MAX + 1), EINVAL);
	CHECK("pin_memory_cacheattr_enosys", xendevicemodel_pin_memory_cacheattr(dmod, domid, 0, 0, 0), ENOSYS);

	/* A server with a ring: its port (X2) is no vCPU's and binds. */
	ioservid_t other;
	CHECK("create_second_server", xendevicemodel_create_ioreq_server(dmod, domid, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &other), 0);
	evtchn_port_t ring_port = 0;
	CHECK("get_info_ring_port", xendevicemodel_get_ioreq_server_info(dmod, domid, other, NULL, NULL, &ring_port), 0);
	EXPECT("ring_port_nonzero", ring_port != 0);
	xenevtchn_port_or_error_t lp = xenevtchn_bind_interdomain(xce, domid, ring_port);
	check("bind_ring_port", lp < 0 ? -1 : 0, errno, 0);
	CHECK("bind_ring_port_again_einval", xenevtchn_bind_interdomain(xce, domid, ring_port), EINVAL);
	if (lp >= 0)
		CHECK("unbind_ring_port", xenevtchn_unbind(xce, (evtchn_port_t)lp), 0);
	/* Its two frames in one mapping: the ring (empty) first, then the ioreq page. */
	void *addr = NULL;
	xenforeignmemory_resource_handle *res = xenforeignmemory_map_resource(
		fmem, domid, XENMEM_resource_ioreq_server, other, 0, 2, &addr, PROT_READ | PROT_WRITE, 0);
	check("map_resource_ring_and_ioreq_page", res ? 0 : -1, errno, 0);
	if (res) {
		const buffered_iopage_t *ring = addr;
		EXPECT("ring_page_empty", ring->read_pointer == 0 && ring->write_pointer == 0);
		CHECK("unmap_resource", xenforeignmemory_unmap_resource(fmem, res), 0);
	}
	CHECK("destroy_second_server", xendevicemodel_destroy_ioreq_server(dmod, domid, other), 0);
	CHECK("destroy_again_enoent", xendevicemodel_destroy_ioreq_server(dmod, domid, other), ENOENT);
	CHECK("bind_port_of_destroyed_server_einval", xenevtchn_bind_interdomain(xce, domid, ring_port), EINVAL);

	/* Resources of the first server (no ring). */
	size_t size = 0;
	CHECK("resource_size", xenforeignmemory_resource_size(fmem, domid, XENMEM_resource_ioreq_server, s, &size), 0);
	EXPECT("resource_size_two_frames", size == 2 * PAGE);
	CHECK("resource_size_other_domid_esrch", xenforeignmemory_resource_size(fmem, domid + 1, XENMEM_resource_ioreq_server, s, &size), ESRCH);
	CHECK("resource_size_grant_table_eopnotsupp", xenforeignmemory_resource_size(fmem, domid, XENMEM_resource_grant_table, 0, &size), EOPNOTSUPP);
	addr = NULL;
	errno = 0;
	res = xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, s, 0, 1, &addr, PROT_READ | PROT_WRITE, 0);
	check("map_resource_ring_frame_without_ring_enoent", res ? 0 : -1, errno, ENOENT);
	res = xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, s, 2, 1, &addr, PROT_READ | PROT_WRITE, 0);
	check("map_resource_frame_2_einval", res ? 0 : -1, errno, EINVAL);
	res = xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, (ioservid_t)(s + 100), 1, 1, &addr, PROT_READ | PROT_WRITE, 0);
	check("map_resource_unknown_server_enoent", res ? 0 : -1, errno, ENOENT);
	res = xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, s, 1, 1, &addr, PROT_READ | PROT_WRITE, MAP_FIXED);
	check("map_resource_non_posix_flags_einval", res ? 0 : -1, errno, EINVAL);
	res = xenforeignmemory_map_resource(fmem, domid + 1, XENMEM_resource_ioreq_server, s, 1, 1, &addr, PROT_READ | PROT_WRITE, 0);
	check("map_resource_other_domid_esrch", res ? 0 : -1, errno, ESRCH);
	CHECK("destroy_first_server", xendevicemodel_destroy_ioreq_server(dmod, domid, s), 0);
}

/* ---- guest frames ----------------------------------------------------------- */

static void map_checks(void)
{
	/* RAM, the PCI hole, past guest-physical space: per-frame errors. */
	xen_pfn_t arr[3] = { SCRATCH_PFN, 0xE0000, (xen_pfn_t)1 << 40 };
	int err[3] = { 1, 1, 1 };
	uint8_t *a = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, 3, arr, err);
	check("map_with_per_frame_errors", a ? 0 : -1, errno, 0);
	say("map errors %d %d %d", err[0], err[1], err[2]);
	EXPECT("map_errors_ram_0_others_einval", err[0] == 0 && err[1] == -EINVAL && err[2] == -EINVAL);
	errno = 0;
	void *none = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, 3, arr, NULL);
	check("map_without_err_all_or_nothing_einval", none ? 0 : -1, errno, EINVAL);
	errno = 0;
	none = xenforeignmemory_map(fmem, domid + 1, PROT_READ, 1, arr, err);
	check("map_other_domid_esrch", none ? 0 : -1, errno, ESRCH);

	/* A fresh mapping per call, of the same RAM. */
	uint8_t *b = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, 1, arr, NULL);
	check("map_again", b ? 0 : -1, errno, 0);
	if (a && b) {
		EXPECT("map_fresh_mapping_each_call", a != b);
		memcpy(a, "ioreqvm", 8);
		EXPECT("map_both_see_one_ram", memcmp(b, "ioreqvm", 8) == 0);
		/* The caller may release a mapping with munmap; the other stays. */
		CHECK("munmap_a_mapping", munmap(a, 3 * PAGE), 0);
		EXPECT("other_mapping_still_there", memcmp(b, "ioreqvm", 8) == 0);
		memset(b, 0, PAGE);
		a = NULL;
	}
	if (b)
		CHECK("unmap", xenforeignmemory_unmap(fmem, b, 1), 0);
	if (a)
		munmap(a, 3 * PAGE);

	xenforeignmemory_handle *r = xenforeignmemory_open(NULL, 0);
	check("foreignmemory_second_handle", r ? 0 : -1, errno, 0);
	if (r) {
		CHECK("foreignmemory_restrict", xenforeignmemory_restrict(r, domid), 0);
		errno = 0;
		none = xenforeignmemory_map(r, domid + 2, PROT_READ, 1, arr, err);
		check("restricted_map_other_domid_eperm", none ? 0 : -1, errno, EPERM);
		CHECK("restrict_other_einval", xenforeignmemory_restrict(r, domid + 2), EINVAL);
		CHECK("foreignmemory_close", xenforeignmemory_close(r), 0);
	}
}

/* ---- libxenctrl (X4, X5) ------------------------------------------------------ */

static void xenctrl_checks(void)
{
	xch = xc_interface_open(NULL, NULL, 0);
	check("xc_interface_open", xch ? 0 : -1, errno, 0);
	if (!xch)
		return;
	unsigned vcpus = 0;
	xendevicemodel_nr_vcpus(dmod, domid, &vcpus);
	xc_dominfo_t info;
	memset(&info, 0xff, sizeof(info));
	int n = xc_domain_getinfo(xch, domid, 1, &info);
	check("xc_domain_getinfo", n == 1 ? 0 : -1, errno, 0);
	say("domain %u hvm %u max_vcpu_id %u nr_pages %lu max_memkb %lu", info.domid, info.hvm,
	    info.max_vcpu_id, info.nr_pages, info.max_memkb);
	EXPECT("getinfo_is_this_hvm_domain", n == 1 && info.domid == domid && info.hvm &&
		!info.dying && !info.shutdown && info.max_vcpu_id + 1 == vcpus && info.nr_pages > 0 &&
		info.max_memkb >= info.nr_pages * 4);
	memcpy(vm_uuid, info.handle, sizeof(vm_uuid));
	/* As Xen's: from a lower domid on, the next domain (the VM); above it, none. */
	n = xc_domain_getinfo(xch, 0, 1, &info);
	EXPECT("getinfo_from_domid_0_finds_the_vm", n == 1 && info.domid == domid);
	CHECK("getinfo_other_domid_esrch", xc_domain_getinfo(xch, domid + 1, 1, &info), ESRCH);
	CHECK("xc_domain_pause_enosys", xc_domain_pause(xch, domid), ENOSYS);
	xen_pfn_t f[2] = { 0xD0001, 0xD0000 };
	CHECK("populate_other_domid_esrch", xc_domain_populate_physmap_exact(xch, domid + 1, 1, 0, 0, f), ESRCH);
	CHECK("populate_misaligned_extent_einval", xc_domain_populate_physmap_exact(xch, domid, 1, 1, 0, f), EINVAL);
	CHECK("populate_boot_ram_eexist", xc_domain_populate_physmap_exact(xch, domid, 1, 0, 0, (xen_pfn_t[]){ 0x100 }), EEXIST);
	CHECK("decrease_hole_einval", xc_domain_decrease_reservation_exact(xch, domid, 2, 0, f), EINVAL);
	/* Two frames populated, mapped, given back: all or nothing, the map follows. */
	CHECK("populate_two_frames", xc_domain_populate_physmap_exact(xch, domid, 2, 0, 0, f), 0);
	int err[2] = { 1, 1 };
	uint8_t *p = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, 2, f, err);
	EXPECT("populated_frames_mappable_and_zero", p && !err[0] && !err[1] && p[0] == 0 && p[4095] == 0);
	if (p)
		xenforeignmemory_unmap(fmem, p, 2);
	CHECK("decrease_two_frames", xc_domain_decrease_reservation_exact(xch, domid, 2, 0, f), 0);
	p = xenforeignmemory_map(fmem, domid, PROT_READ, 2, f, err);
	EXPECT("given_back_frames_not_mappable", p && err[0] == -EINVAL && err[1] == -EINVAL);
	if (p)
		xenforeignmemory_unmap(fmem, p, 2);
}

/* ---- xenstore, through Debian's libxenstore ------------------------------------ */

static char *xs_get(xs_transaction_t t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xs_get(xs_transaction_t t, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	unsigned len;
	return xs_read(xsh, t, path, &len);
}

static bool xs_put(xs_transaction_t t, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool xs_put(xs_transaction_t t, const char *value, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_write(xsh, t, path, value, (unsigned)strlen(value));
}

static void xenstore_checks(void)
{
	xsh = xs_open(0);
	check("xs_open", xsh ? 0 : -1, errno, 0);
	if (!xsh)
		return;
	char *greeting = xs_get(XBT_NULL, "/local/domain/%u/ioreqvm-test/greeting", domid);
	check("xenstore_read_seeded_key", greeting ? 0 : -1, errno, 0);
	say("xenstore greeting %s", greeting ? greeting : "(none)");
	char *home = xs_get_domain_path(xsh, domid), want[64];
	snprintf(want, sizeof(want), "/local/domain/%u", domid);
	EXPECT("xenstore_domain_path", home && !strcmp(home, want));
	free(home);
	/* The toolstack's keys agree with libxenctrl's view of the domain (X5). */
	char *vm = xs_get(XBT_NULL, "/local/domain/%u/vm", domid), uuid[40];
	char *vm_uuid_key = vm ? xs_get(XBT_NULL, "%s/uuid", vm) : NULL;
	const uint8_t *u = vm_uuid;
	snprintf(uuid, sizeof(uuid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
	EXPECT("xenstore_vm_uuid_is_getinfo_handle", vm_uuid_key && !strcmp(vm_uuid_key, uuid));
	free(vm_uuid_key);
	free(vm);
	char *cpu0 = xs_get(XBT_NULL, "/local/domain/%u/cpu/0/availability", domid);
	EXPECT("xenstore_vcpu_key", cpu0 && !strcmp(cpu0, "online"));
	free(cpu0);
	/* What a device model writes: its state, as QEMU does, and a reply of ours. */
	char reply[300];
	snprintf(reply, sizeof(reply), "model saw %s", greeting ? greeting : "nothing");
	free(greeting);
	CHECK("xenstore_write_dm_state", xs_put(XBT_NULL, "running", "/local/domain/0/device-model/%u/state", domid) ? 0 : -1, 0);
	CHECK("xenstore_write_reply", xs_put(XBT_NULL, reply, "/local/domain/%u/ioreqvm-test/reply", domid) ? 0 : -1, 0);
	/* A transaction committed, one aborted. */
	xs_transaction_t t = xs_transaction_start(xsh);
	check("xenstore_transaction_start", t != XBT_NULL ? 0 : -1, errno, 0);
	CHECK("xenstore_write_in_transaction", xs_put(t, "yes", "/local/domain/%u/ioreqvm-test/committed", domid) ? 0 : -1, 0);
	CHECK("xenstore_commit", xs_transaction_end(xsh, t, false) ? 0 : -1, 0);
	char *c = xs_get(XBT_NULL, "/local/domain/%u/ioreqvm-test/committed", domid);
	EXPECT("xenstore_committed_visible", c && !strcmp(c, "yes"));
	free(c);
	t = xs_transaction_start(xsh);
	xs_put(t, "no", "/local/domain/%u/ioreqvm-test/aborted", domid);
	CHECK("xenstore_abort", xs_transaction_end(xsh, t, true) ? 0 : -1, 0);
	errno = 0;
	c = xs_get(XBT_NULL, "/local/domain/%u/ioreqvm-test/aborted", domid);
	check("xenstore_aborted_gone_enoent", c ? 0 : -1, errno, ENOENT);
	free(c);
	/* The directory holds what was written; permissions answer. */
	unsigned n = 0;
	snprintf(want, sizeof(want), "/local/domain/%u/ioreqvm-test", domid);
	char **d = xs_directory(xsh, XBT_NULL, want, &n);
	EXPECT("xenstore_directory", d && n == 3);
	free(d);
	struct xs_permissions *perms = xs_get_permissions(xsh, XBT_NULL, want, &n);
	EXPECT("xenstore_permissions_owner_is_domain", perms && n >= 1 && perms[0].id == domid);
	free(perms);
	/* The watch the go port waits on: its first event comes at once. */
	snprintf(want, sizeof(want), "/local/domain/%u/ioreqvm-test/go", domid);
	CHECK("xenstore_watch_go", xs_watch(xsh, want, "go") ? 0 : -1, 0);
	char **ev = xs_read_watch(xsh, &n);
	EXPECT("xenstore_first_watch_event", ev && n >= 2 && !strcmp(ev[XS_WATCH_PATH], want) &&
		!strcmp(ev[XS_WATCH_TOKEN], "go"));
	free(ev);
	say("xenstore written");
}

/* ---- event channels: errors that need no fd ----------------------------------- */

static void evtchn_checks(void)
{
	errno = 0;
	xenevtchn_handle *bad = xenevtchn_open(NULL, 0x100);
	check("evtchn_open_bad_flags_einval", bad ? 0 : -1, errno, EINVAL);
	CHECK("bind_interdomain_other_domid_esrch", xenevtchn_bind_interdomain(xce, domid + 1, 1000), ESRCH);
	CHECK("bind_interdomain_port_0_einval", xenevtchn_bind_interdomain(xce, domid, 0), EINVAL);
	CHECK("unbind_unbound_enotconn", xenevtchn_unbind(xce, 4000), ENOTCONN);
	CHECK("notify_unbound_enotconn", xenevtchn_notify(xce, 4000), ENOTCONN);
	CHECK("bind_virq_out_of_range_einval", xenevtchn_bind_virq(xce, NR_VIRQS), EINVAL);
	xenevtchn_port_or_error_t u = xenevtchn_bind_virq(xce, VIRQ_DEBUG);
	check("bind_virq", u < 0 ? -1 : 0, errno, 0);
	CHECK("bind_virq_again_eexist", xenevtchn_bind_virq(xce, VIRQ_DEBUG), EEXIST);
	if (u >= 0) {
		CHECK("notify_virq_einval", xenevtchn_notify(xce, (evtchn_port_t)u), EINVAL);
		CHECK("unbind_virq", xenevtchn_unbind(xce, (evtchn_port_t)u), 0);
	}
	CHECK("bind_unbound_port_other_domid_esrch", xenevtchn_bind_unbound_port(xce, domid + 1), ESRCH);
	u = xenevtchn_bind_unbound_port(xce, domid);
	check("bind_unbound_port", u < 0 ? -1 : 0, errno, 0);
	if (u >= 0) {
		CHECK("notify_unbound_port", xenevtchn_notify(xce, (evtchn_port_t)u), 0);
		CHECK("unbind_unbound_port", xenevtchn_unbind(xce, (evtchn_port_t)u), 0);
		CHECK("unbind_again_enotconn", xenevtchn_unbind(xce, (evtchn_port_t)u), ENOTCONN);
	}
	xenevtchn_handle *r = xenevtchn_open(NULL, 0);
	check("evtchn_second_handle", r ? 0 : -1, errno, 0);
	if (r) {
		CHECK("evtchn_restrict_dom0_einval", xenevtchn_restrict(r, 0), EINVAL);
		CHECK("evtchn_restrict", xenevtchn_restrict(r, domid), 0);
		CHECK("evtchn_restrict_again_eacces", xenevtchn_restrict(r, domid), EACCES);
		CHECK("restricted_bind_virq_eacces", xenevtchn_bind_virq(r, VIRQ_DEBUG), EACCES);
		CHECK("restricted_bind_unbound_eacces", xenevtchn_bind_unbound_port(r, domid), EACCES);
		CHECK("restricted_bind_other_domid_eacces", xenevtchn_bind_interdomain(r, domid + 1, 1000), EACCES);
		CHECK("evtchn_close", xenevtchn_close(r), 0);
	}
}

/* ---- serving ---------------------------------------------------------------- */

static xenforeignmemory_resource_handle *serving_pages;
static shared_iopage_t *ioreq_page;
static buffered_iopage_t *buf_page;
static unsigned nr_vcpus;
static evtchn_port_t vcpu_port[MAX_VCPUS];
static xenevtchn_port_or_error_t ring_port = -1, dom_exc_port = -1;
static uint64_t written[NR_PORTS];
static bool was_written[NR_PORTS];
static uint64_t sum;
static uint32_t cmd_status = XENCMD_NONE;
static unsigned cmd_count, spurious, ring_fired, empty_reads;
/* One lock around handle() and the log: --threads serves vCPUs from several threads. */
static pthread_mutex_t serve_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t run_command(uint32_t pfn)
{
	xen_pfn_t arr[XENCMD_PAGES];
	int err[XENCMD_PAGES];
	for (unsigned i = 0; i < XENCMD_PAGES; i++)
		arr[i] = (xen_pfn_t)pfn + i;
	uint8_t *p = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, XENCMD_PAGES, arr, err);
	if (!p)
		return (uint32_t)errno;
	uint32_t status = XENCMD_OK;
	for (unsigned i = 0; i < XENCMD_PAGES && !status; i++)
		status = (uint32_t)-err[i]; /* the first frame that is not RAM */
	struct xencmd_header *h = (struct xencmd_header *)p;
	if (!status && (h->magic != XENCMD_MAGIC || h->nr_words > XENCMD_MAX_WORDS))
		status = XENCMD_BAD_MAGIC;
	if (!status) {
		uint64_t *w = (uint64_t *)(h + 1), s = 0;
		for (uint64_t i = 0; i < h->nr_words; i++) {
			s = testdm_fold(s, w[i]);
			w[i] = xencmd_work(w[i], i, h->seed);
		}
		h->sum = s;
		h->done = h->nr_words;
		xendevicemodel_modified_memory(dmod, domid, pfn, XENCMD_PAGES);
	}
	/* Either way of releasing it works: a fresh mapping was made for this request. */
	int rc = cmd_count++ % 2 ? munmap(p, XENCMD_BUF_SIZE) : xenforeignmemory_unmap(fmem, p, XENCMD_PAGES);
	if (rc)
		say("command FAIL: releasing the mapping: %s", strerror(errno)), failures++;
	say("command %u pfn 0x%x status %u", cmd_count, pfn, status);
	return status;
}

/* --populate-port: 16 frames at @pfn populated, or given back; the status. */
static uint32_t physmap_command(uint32_t pfn, bool populate)
{
	xen_pfn_t arr[XENCMD_PAGES];
	for (unsigned i = 0; i < XENCMD_PAGES; i++)
		arr[i] = (xen_pfn_t)pfn + i;
	errno = 0;
	int rc = !xch ? -1
	       : populate ? xc_domain_populate_physmap_exact(xch, domid, XENCMD_PAGES, 0, 0, arr)
			  : xc_domain_decrease_reservation_exact(xch, domid, XENCMD_PAGES, 0, arr);
	uint32_t status = rc ? (uint32_t)(errno ? errno : EIO) : 0;
	say("%s pfn 0x%x status %u", populate ? "populate" : "decrease", pfn, status);
	return status;
}

static uint32_t physmap_status = XENCMD_NONE;
static uint32_t shutdown_status = XENCMD_NONE, dirty_status = XENCMD_NONE, irq_status = XENCMD_NONE;
static uint32_t dirty_bitmap, claim_writes;

/* --dirty-port: track_dirty_vram over @v frames, or modified_memory on one. */
static void dirty_command(uint32_t v)
{
	unsigned long bits[1] = { 0 };
	errno = 0;
	int rc;
	if (v & XENCMD_DIRTY_MODIFIED) {
		rc = xendevicemodel_modified_memory(dmod, domid, XENCMD_DIRTY_PFN + (v & 31), 1);
	} else if (v == XENCMD_DIRTY_SPLIT) {
		rc = xendevicemodel_set_mem_type(dmod, domid, HVMMEM_ram_ro, XENCMD_DIRTY_PFN + 40, 1);
		if (!rc)
			rc = xendevicemodel_set_mem_type(dmod, domid, HVMMEM_ram_rw, XENCMD_DIRTY_PFN + 40, 1);
		dirty_status = rc ? (uint32_t)(errno ? errno : EIO) : 0;
		say("split 0x%x status %u", XENCMD_DIRTY_PFN + 40, dirty_status);
		return;
	}
	else if (v <= 32)
		rc = xendevicemodel_track_dirty_vram(dmod, domid, XENCMD_DIRTY_PFN, v, v ? bits : NULL);
	else
		rc = -1, errno = E2BIG;
	dirty_status = rc ? (uint32_t)(errno ? errno : EIO) : 0;
	if (!(v & XENCMD_DIRTY_MODIFIED) && !rc)
		dirty_bitmap = (uint32_t)bits[0];
	say("%s 0x%x status %u bitmap 0x%08x", v & XENCMD_DIRTY_MODIFIED ? "modified_memory" : "track_dirty_vram",
	    v, dirty_status, dirty_bitmap);
}

/* --claim-port: writes to HVMMEM_ioreq_server pages claimed (and the frame given that type), or released. */
static int claim(bool on)
{
	errno = 0;
	int rc = xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, sid, HVMMEM_ioreq_server,
							     on ? XEN_DMOP_IOREQ_MEM_ACCESS_WRITE : 0);
	if (!rc && on)
		rc = xendevicemodel_set_mem_type(dmod, domid, HVMMEM_ioreq_server, XENCMD_CLAIM_PFN, 1);
	say("%s: %s", on ? "claim" : "release", rc ? strerror(errno) : "ok");
	return rc;
}

/* A claimed write: the value plus XENCMD_CLAIM_ADD goes into the page, through a mapping of it. */
static void claimed_write(uint64_t addr, unsigned size, uint64_t data)
{
	xen_pfn_t pfn = addr >> 12;
	int err = 0;
	uint8_t *p = xenforeignmemory_map(fmem, domid, PROT_READ | PROT_WRITE, 1, &pfn, &err);
	if (!p || err || (addr & 0xfff) + size > PAGE) {
		say("claimed write FAIL: cannot map frame 0x%" PRIx64 ": %s", (uint64_t)pfn, strerror(p ? -err : errno));
		failures++;
	} else {
		uint64_t v = data + XENCMD_CLAIM_ADD;
		memcpy(p + (addr & 0xfff), &v, size);
	}
	if (p)
		xenforeignmemory_unmap(fmem, p, 1);
	claim_writes++;
}

/* MMIO and PCI config bytes written (--mmio, --pci): kept one by one. */
#define STORE_MAX 1024
static struct {
	uint8_t type, value;
	uint64_t addr;
} store[STORE_MAX];
static unsigned nr_store;

static int store_find(uint8_t type, uint64_t addr)
{
	for (unsigned i = 0; i < nr_store; i++)
		if (store[i].type == type && store[i].addr == addr)
			return (int)i;
	return -1;
}

static void store_access(ioreq_t *r, bool write, uint64_t mask)
{
	uint64_t pattern = testdm_pattern(r->addr, 0), v = 0;
	for (unsigned i = 0; i < r->size && i < 8; i++) {
		int k = store_find(r->type, r->addr + i);
		if (write) {
			if (k < 0 && nr_store < STORE_MAX)
				k = (int)nr_store++;
			if (k >= 0)
				store[k].type = r->type, store[k].addr = r->addr + i,
				store[k].value = (uint8_t)(r->data >> (8 * i));
		} else {
			uint64_t b = k >= 0 ? store[k].value : (uint8_t)(pattern >> (8 * i));
			v |= b << (8 * i);
		}
	}
	if (!write)
		r->data = v & mask;
}
static bool go; /* the host wrote "1" to .../ioreqvm-test/go */
static int go_waiting = -1; /* the vCPU whose read of the go port waits, or -1 */

/*
 * One request or posted write (@vcpu -1); false if it is not answered now
 * (the go port before the host said go, the hang port: never).
 */
static bool handle(ioreq_t *r, int vcpu)
{
	uint64_t mask = r->size >= 8 ? ~0ULL : (1ULL << (8 * r->size)) - 1;
	bool write = r->dir == IOREQ_WRITE;
	if (r->type == IOREQ_TYPE_PIO && opt.hang_port && r->addr == opt.hang_port) {
		say("hang: pid %d holds vCPU %d's request and waits to be killed", (int)getpid(), vcpu);
		return false;
	}
	if (r->type == IOREQ_TYPE_PIO && opt.go_port && r->addr == opt.go_port && !write) {
		if (!go) {
			go_waiting = vcpu;
			say("go: vCPU %d waits for the host", vcpu);
			return false;
		}
		r->data = 1;
	} else if (r->type == IOREQ_TYPE_PIO && opt.populate_port &&
		   (r->addr == opt.populate_port || r->addr == opt.populate_port + 4)) {
		if (write)
			physmap_status = r->size == 4 ? physmap_command((uint32_t)r->data,
									r->addr == opt.populate_port)
						      : EINVAL;
		else
			r->data = physmap_status & mask;
	} else if (r->type == IOREQ_TYPE_PIO && opt.shutdown_port && r->addr == opt.shutdown_port) {
		if (write) {
			errno = 0;
			int rc = xendevicemodel_shutdown(dmod, domid, (unsigned)r->data);
			shutdown_status = rc ? (uint32_t)(errno ? errno : EIO) : 0;
			say("shutdown reason %u status %u", (unsigned)r->data, shutdown_status);
		} else {
			r->data = shutdown_status & mask;
		}
	} else if (r->type == IOREQ_TYPE_PIO && opt.dirty_port &&
		   (r->addr == opt.dirty_port || r->addr == opt.dirty_port + 4)) {
		if (write && r->addr == opt.dirty_port)
			dirty_command((uint32_t)r->data);
		else if (!write)
			r->data = (r->addr == opt.dirty_port ? dirty_bitmap : dirty_status) & mask;
	} else if (r->type == IOREQ_TYPE_PIO && opt.irq_port && r->addr == opt.irq_port) {
		if (write) {
			errno = 0;
			int rc = xendevicemodel_set_isa_irq_level(dmod, domid, XENCMD_IRQ, (unsigned)r->data);
			irq_status = rc ? (uint32_t)(errno ? errno : EIO) : 0;
			say("isa irq %u level %u status %u", XENCMD_IRQ, (unsigned)r->data, irq_status);
		} else {
			r->data = irq_status & mask;
		}
	} else if (r->type == IOREQ_TYPE_PIO && opt.claim_port && r->addr == opt.claim_port) {
		if (write)
			claim(r->data != 0);
		else
			r->data = claim_writes & mask;
	} else if (r->type == IOREQ_TYPE_COPY && opt.claim_port && r->addr >> 12 == XENCMD_CLAIM_PFN) {
		if (write)
			claimed_write(r->addr, r->size, r->data & mask);
		else
			r->data = ~0ULL & mask; /* reads are not claimed: never here */
	} else if (r->type == IOREQ_TYPE_PIO && opt.cmd_port && r->addr == opt.cmd_port) {
		if (write)
			cmd_status = r->size == 4 ? run_command((uint32_t)r->data) : EINVAL;
		else
			r->data = cmd_status & mask;
	} else if ((r->type == IOREQ_TYPE_PIO && opt.sum_port && r->addr == opt.sum_port) ||
		   (r->type == IOREQ_TYPE_COPY && opt.sum_mmio && r->addr == opt.sum_mmio)) {
		if (write)
			sum = testdm_fold(sum, r->data & mask);
		else
			r->data = sum & mask;
	} else if (r->type == IOREQ_TYPE_PIO) {
		unsigned i = (unsigned)(r->addr - opt.port_lo) % NR_PORTS;
		if (write) {
			written[i] = r->data & mask;
			was_written[i] = true;
		} else {
			r->data = (was_written[i] ? written[i] : testdm_pattern(r->addr, 0)) & mask;
		}
	} else {
		store_access(r, write, mask);
	}
	if (!opt.quiet)
		say("vcpu %d type %u dir %s addr 0x%" PRIx64 " size %u data 0x%" PRIx64, vcpu, r->type,
		    write ? "write" : "read", (uint64_t)r->addr, r->size, (uint64_t)r->data);
	return true;
}

/* Posted writes, oldest first, as QEMU's handle_buffered_iopage reads them. */
static void drain_ring(void)
{
	while (buf_page) {
		uint32_t rp = buf_page->read_pointer;
		uint32_t wp = __atomic_load_n(&buf_page->write_pointer, __ATOMIC_ACQUIRE);
		if (rp == wp)
			return;
		const buf_ioreq_t *b = &buf_page->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
		ioreq_t r = { .addr = b->addr, .data = b->data, .count = 1, .size = 1u << b->size,
			      .dir = b->dir, .type = b->type };
		unsigned slots = r.size == 8 ? 2 : 1;
		if (slots == 2) {
			if (wp - rp < 2)
				return; /* not a state ioreqvm leaves */
			r.data |= (uint64_t)buf_page->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM].data << 32;
		}
		handle(&r, -1);
		__atomic_store_n(&buf_page->read_pointer, rp + slots, __ATOMIC_RELEASE);
	}
}

/*
 * A request is waiting in vCPU @v's slot (its port fired): answer it there,
 * then notify @port on @h.
 */
static void answer_vcpu(xenevtchn_handle *h, unsigned v);

static void serve_vcpu(xenevtchn_handle *h, unsigned v)
{
	ioreq_t *slot = &ioreq_page->vcpu_ioreq[v];
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	pthread_mutex_lock(&serve_lock);
	if (slot->state != STATE_IOREQ_READY) {
		spurious++;
		pthread_mutex_unlock(&serve_lock);
		return;
	}
	slot->state = STATE_IOREQ_INPROCESS;
	drain_ring(); /* writes posted before this request come first */
	ioreq_t r = *slot;
	bool now = handle(&r, (int)v);
	if (r.dir == IOREQ_READ)
		slot->data = r.data;
	pthread_mutex_unlock(&serve_lock);
	if (!now)
		return; /* answered later (answer_vcpu), or never */
	answer_vcpu(h, v);
}

/* vCPU @v's request is answered in its slot: IORESP_READY, and its port notified on @h. */
static void answer_vcpu(xenevtchn_handle *h, unsigned v)
{
	ioreq_t *slot = &ioreq_page->vcpu_ioreq[v];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->state = STATE_IORESP_READY;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (xenevtchn_notify(h, vcpu_port[v])) {
		pthread_mutex_lock(&serve_lock);
		say("notify FAIL: %s", strerror(errno));
		failures++;
		pthread_mutex_unlock(&serve_lock);
	}
}

/*
 * Watch events (xenstore): the go key, read again; once it says "1", a
 * vCPU waiting on the go port gets its answer.
 */
static void xenstore_events(void)
{
	char **ev;
	while ((ev = xs_check_watch(xsh))) {
		free(ev);
		char *v = xs_get(XBT_NULL, "/local/domain/%u/ioreqvm-test/go", domid);
		pthread_mutex_lock(&serve_lock);
		if (v && !strcmp(v, "1") && !go) {
			go = true;
			say("go: the host said go");
			if (go_waiting >= 0) {
				ioreq_page->vcpu_ioreq[go_waiting].data = 1;
				unsigned w = (unsigned)go_waiting;
				go_waiting = -1;
				pthread_mutex_unlock(&serve_lock);
				answer_vcpu(xce, w);
				pthread_mutex_lock(&serve_lock);
			}
		}
		pthread_mutex_unlock(&serve_lock);
		free(v);
	}
}

/*
 * Until the VM goes away: 0, or -1 if waiting failed. Waits with poll(), as
 * QEMU does, on an fd made O_NONBLOCK: a pending() that finds nothing after
 * poll() said readable would have blocked there (a readable fd without a
 * fired port) and is counted. Ports as QEMU handles them: a vCPU's unmasked
 * before its request is served, the ring's only after the ring is drained
 * (posts meanwhile fire it again at the unmask).
 */
static int serve(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = xsh ? xs_fileno(xsh) : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("poll FAIL: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents & POLLIN)
			xenstore_events();
		if (!(p[0].revents & POLLIN))
			continue;
		xenevtchn_port_or_error_t port = xenevtchn_pending(xce);
		if (port < 0 && errno == EAGAIN) {
			empty_reads++;
			continue;
		}
		if (port < 0) {
			say("pending FAIL: %s", strerror(errno));
			return -1;
		}
		if (port == dom_exc_port) {
			pthread_mutex_lock(&serve_lock);
			say("VIRQ_DOM_EXC: the domain is gone; %u spurious events", spurious);
			say("ring port fired %u times", ring_fired);
			if (empty_reads)
				say("pending FAIL: %u times nothing pending on a readable fd", empty_reads), failures++;
			pthread_mutex_unlock(&serve_lock);
			return 0;
		}
		if (port == ring_port) {
			pthread_mutex_lock(&serve_lock);
			ring_fired++;
			drain_ring();
			pthread_mutex_unlock(&serve_lock);
			xenevtchn_unmask(xce, (evtchn_port_t)port);
			continue;
		}
		xenevtchn_unmask(xce, (evtchn_port_t)port);
		unsigned v = 0;
		while (v < nr_vcpus && vcpu_port[v] != (evtchn_port_t)port)
			v++;
		if (v == nr_vcpus) {
			pthread_mutex_lock(&serve_lock);
			say("pending FAIL: port %d is none of ours", port);
			failures++;
			pthread_mutex_unlock(&serve_lock);
			continue;
		}
		serve_vcpu(xce, v);
	}
}

/*
 * --threads: vCPU @v's port on a handle of its own, served by a thread of
 * its own that blocks in pending() (no poll) and unmasks after notifying,
 * the order <xenevtchn.h> suggests. Another handle's port there is a failure.
 */
static xenevtchn_handle *vcpu_handle[MAX_VCPUS];

static void *vcpu_thread(void *arg)
{
	unsigned v = (unsigned)(uintptr_t)arg;
	xenevtchn_handle *h = vcpu_handle[v];
	for (;;) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(h);
		if (port < 0 && errno == EINTR)
			continue;
		if (port != (xenevtchn_port_or_error_t)vcpu_port[v]) {
			pthread_mutex_lock(&serve_lock);
			say("pending FAIL: vCPU %u's handle gave port %d (%s)", v, port,
			    port < 0 ? strerror(errno) : "not its port");
			failures++;
			pthread_mutex_unlock(&serve_lock);
			return NULL;
		}
		serve_vcpu(h, v);
		xenevtchn_unmask(h, (evtchn_port_t)port);
	}
	return NULL;
}

/* --posted: ioreqvm's buffered-range flag through libioreq (see the top). */
static int map_posted(uint32_t type, uint64_t start, uint64_t end)
{
	int (*lock)(void **) = (int (*)(void **))dlsym(RTLD_DEFAULT, "ioreqvm_xen_lock");
	void (*unlock)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "ioreqvm_xen_unlock");
	int (*map)(void *, uint16_t, uint32_t, uint64_t, uint64_t, uint32_t) =
		(int (*)(void *, uint16_t, uint32_t, uint64_t, uint64_t, uint32_t))dlsym(
			RTLD_DEFAULT, "libioreq_map_io_range_to_ioreq_server");
	void *x;
	if (!lock || !unlock || !map) {
		errno = ENOSYS; /* not ioreqvm's libraries */
		return -1;
	}
	int rc = lock(&x);
	if (!rc) {
		rc = map(x, sid, type, start, end, IOREQVM_IO_RANGE_BUFFERED);
		unlock();
	}
	if (rc)
		errno = -rc;
	return rc ? -1 : 0;
}

/* The server the guest talks to: ranges, pages, ports. */
static int serve_setup(void)
{
	CHECK("serving_server", xendevicemodel_create_ioreq_server(dmod, domid, opt.posted ? HVM_IOREQSRV_BUFIOREQ_ATOMIC : HVM_IOREQSRV_BUFIOREQ_OFF, &sid), 0);
	if (opt.has_ports && opt.posted)
		CHECK("map_posted_ports", map_posted(IOREQVM_IO_RANGE_PORT, opt.port_lo, opt.port_hi), 0);
	else if (opt.has_ports)
		CHECK("map_ports", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.port_lo, opt.port_hi), 0);
	if (opt.has_mmio && opt.posted)
		CHECK("map_posted_mmio", map_posted(IOREQVM_IO_RANGE_MEMORY, opt.mmio_lo, opt.mmio_hi), 0);
	else if (opt.has_mmio)
		CHECK("map_mmio", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 1, opt.mmio_lo, opt.mmio_hi), 0);
	/* A range holds an access only whole (I8): the port's 4 bytes. */
	if (opt.cmd_port)
		CHECK("map_cmd_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.cmd_port, opt.cmd_port + 3), 0);
	if (opt.populate_port)
		CHECK("map_populate_ports", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.populate_port, opt.populate_port + 7), 0);
	if (opt.go_port)
		CHECK("map_go_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.go_port, opt.go_port + 3), 0);
	if (opt.hang_port)
		CHECK("map_hang_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.hang_port, opt.hang_port + 3), 0);
	if (opt.shutdown_port)
		CHECK("map_shutdown_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.shutdown_port, opt.shutdown_port + 3), 0);
	if (opt.dirty_port)
		CHECK("map_dirty_ports", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.dirty_port, opt.dirty_port + 7), 0);
	if (opt.irq_port)
		CHECK("map_irq_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.irq_port, opt.irq_port + 3), 0);
	if (opt.claim_port) {
		CHECK("map_claim_port", xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, sid, 0, opt.claim_port, opt.claim_port + 3), 0);
		CHECK("claim_writes_of_a_frame", claim(true), 0);
	}
	if (opt.has_pci)
		CHECK("map_pci_device", xendevicemodel_map_pcidev_to_ioreq_server(dmod, domid, sid, 0, 0, (uint8_t)opt.pci_dev, 0), 0);
	CHECK("nr_vcpus_to_serve", xendevicemodel_nr_vcpus(dmod, domid, &nr_vcpus), 0);
	if (nr_vcpus > MAX_VCPUS)
		return -1;

	/* Xen's frame order: the ring's page, then the ioreq page; one mapping. */
	void *addr = NULL;
	unsigned long first = opt.posted ? XENMEM_resource_ioreq_server_frame_bufioreq
					 : XENMEM_resource_ioreq_server_frame_ioreq(0);
	errno = 0;
	xenforeignmemory_resource_handle *res = xenforeignmemory_map_resource(
		fmem, domid, XENMEM_resource_ioreq_server, sid, first, opt.posted ? 2 : 1, &addr,
		PROT_READ | PROT_WRITE, 0);
	check("map_resource_ioreq_pages", res ? 0 : -1, errno, 0);
	if (!res)
		return -1;
	serving_pages = res;
	buf_page = opt.posted ? addr : NULL;
	ioreq_page = (shared_iopage_t *)((uint8_t *)addr + (opt.posted ? PAGE : 0));

	CHECK("set_ioreq_server_state", xendevicemodel_set_ioreq_server_state(dmod, domid, sid, 1), 0);
	/* As QEMU: each vCPU's port from its slot, the ring's from the server info. */
	for (unsigned v = 0; v < nr_vcpus; v++) {
		evtchn_port_t remote = ioreq_page->vcpu_ioreq[v].vp_eport;
		vcpu_handle[v] = opt.threads ? xenevtchn_open(NULL, 0) : xce;
		if (!vcpu_handle[v]) {
			say("vcpu %u's handle FAIL: %s", v, strerror(errno));
			failures++;
			return -1;
		}
		xenevtchn_port_or_error_t lp = xenevtchn_bind_interdomain(vcpu_handle[v], domid, remote);
		if (lp < 0) {
			say("bind vcpu %u's port %u FAIL: %s", v, remote, strerror(errno));
			failures++;
			return -1;
		}
		vcpu_port[v] = (evtchn_port_t)lp;
		say("vcpu %u port %u bound as %d", v, remote, lp);
	}
	if (opt.posted) {
		evtchn_port_t remote = 0;
		CHECK("get_info_serving_ring_port", xendevicemodel_get_ioreq_server_info(dmod, domid, sid, NULL, NULL, &remote), 0);
		ring_port = xenevtchn_bind_interdomain(xce, domid, remote);
		check("bind_serving_ring_port", ring_port < 0 ? -1 : 0, errno, 0);
	}
	dom_exc_port = xenevtchn_bind_virq(xce, VIRQ_DOM_EXC);
	check("bind_virq_dom_exc", dom_exc_port < 0 ? -1 : 0, errno, 0);
	return 0;
}

/* Once the model is ready (xenevtchn_fd asked): the checks that need an fd. */
static void fd_checks(int fd)
{
	errno = 0;
	xenevtchn_handle *h = xenevtchn_fdopen(NULL, fd, 1);
	check("fdopen_flags_einval", h ? 0 : -1, errno, EINVAL);
	h = xenevtchn_fdopen(NULL, 0, 0);
	check("fdopen_foreign_fd_ebadf", h ? 0 : -1, errno, EBADF);
	h = xenevtchn_fdopen(NULL, fd, 0);
	check("fdopen_our_fd", h ? 0 : -1, errno, 0);
	if (h)
		CHECK("fdopen_close", xenevtchn_close(h), 0); /* the first handle keeps the file */
	xenevtchn_handle *q = xenevtchn_open(NULL, 0);
	if (q) {
		int qfd = xenevtchn_fd(q);
		fcntl(qfd, F_SETFL, fcntl(qfd, F_GETFL) | O_NONBLOCK);
		CHECK("pending_nonblocking_nothing_eagain", xenevtchn_pending(q), EAGAIN);
		xenevtchn_close(q);
	}
}

static bool parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char *end;
	*lo = strtoull(s, &end, 0);
	if (*end != ':')
		return false;
	*hi = strtoull(end + 1, &end, 0);
	return !*end && *lo <= *hi;
}

int main(int argc, char **argv)
{
	const char *logpath = NULL;
	bool ok = true;
	for (int i = 1; i < argc && ok; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--posted") || !strcmp(a, "--threads") || !strcmp(a, "--quiet") ||
		    !strcmp(a, "--xenstore") || !strcmp(a, "--checks-only")) {
			*(a[2] == 'p' ? &opt.posted : a[2] == 't' ? &opt.threads : a[2] == 'q' ? &opt.quiet
			  : a[2] == 'x' ? &opt.xenstore : &opt.checks_only) = true;
			continue;
		}
		ok = v != NULL;
		i++;
		if (!ok)
			break;
		if (!strcmp(a, "--log"))
			logpath = v;
		else if (!strcmp(a, "--port"))
			ok = opt.has_ports = parse_range(v, &opt.port_lo, &opt.port_hi);
		else if (!strcmp(a, "--mmio"))
			ok = opt.has_mmio = parse_range(v, &opt.mmio_lo, &opt.mmio_hi);
		else if (!strcmp(a, "--sum-port"))
			opt.sum_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--sum-mmio"))
			opt.sum_mmio = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--cmd-port"))
			opt.cmd_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--populate-port"))
			opt.populate_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--go-port"))
			opt.go_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--hang-port"))
			opt.hang_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--shutdown-port"))
			opt.shutdown_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--dirty-port"))
			opt.dirty_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--irq-port"))
			opt.irq_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--claim-port"))
			opt.claim_port = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--pci"))
			opt.has_pci = true, opt.pci_dev = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--domid"))
			domid = (uint32_t)strtoul(v, NULL, 0);
		else
			ok = false;
	}
	if (!ok || !logpath || (opt.has_ports && (opt.port_hi > 0xffff || opt.port_hi - opt.port_lo >= NR_PORTS)) ||
	    opt.cmd_port > 0xfffc || opt.populate_port > 0xfff8 || opt.go_port > 0xfffc ||
	    opt.hang_port > 0xfffc || opt.shutdown_port > 0xfffc || opt.dirty_port > 0xfff8 ||
	    opt.irq_port > 0xfffc || opt.claim_port > 0xfffc || opt.pci_dev > 0x1f || (opt.go_port && !opt.xenstore) || !domid || domid >= 0x7ff0) {
		fprintf(stderr, "usage: xen_dm_model --log FILE [--port A:B] [--mmio A:B] [--sum-port P]\n"
				"       [--sum-mmio A] [--posted] [--cmd-port P] [--threads] [--quiet]\n"
				"       [--populate-port P] [--go-port P (with --xenstore)] [--hang-port P]\n"
				"       [--shutdown-port P] [--dirty-port P] [--irq-port P] [--claim-port P]\n"
				"       [--pci D] [--xenstore] [--domid D] [--checks-only]\n"
				"       (at most %d ports)\n",
			NR_PORTS);
		return 2;
	}
	logfile = fopen(logpath, "w");
	if (!logfile)
		return 2;
	setvbuf(logfile, NULL, _IOLBF, 0); /* the test reads it while the model runs */

	dmod = xendevicemodel_open(NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!dmod || !fmem || !xce) {
		say("open FAIL: %s", strerror(errno));
		return 1;
	}
	dm_op_checks();
	map_checks();
	evtchn_checks();
	xenctrl_checks();
	if (opt.xenstore)
		xenstore_checks();
	if (opt.checks_only) {
		/* Which libxenctrl the loader gave us: ioreqvm's, found through xen-env's path. */
		Dl_info where;
		if (dladdr((void *)xc_interface_open, &where) && where.dli_fname)
			say("libxenctrl from %s", where.dli_fname);
		say("checks: %u failures", failures);
		fclose(logfile);
		return failures ? 1 : 0;
	}
	if (serve_setup()) {
		say("setup FAIL");
		return 1;
	}
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
	unsigned vcpus;
	CHECK("restrict", xendevicemodel_restrict(dmod, domid), 0);
	CHECK("restricted_other_domid_eperm", xendevicemodel_nr_vcpus(dmod, domid + 1, &vcpus), EPERM);
	CHECK("restrict_other_einval", xendevicemodel_restrict(dmod, domid + 1), EINVAL);

	/* Asking for the fd says "ready": the VM starts now. */
	int fd = xenevtchn_fd(xce);
	fd_checks(fd);
	say("checks: %u failures", failures);
	fflush(logfile);
	for (unsigned v = 0; opt.threads && v < nr_vcpus; v++) {
		pthread_t t;
		if (pthread_create(&t, NULL, vcpu_thread, (void *)(uintptr_t)v) == 0)
			pthread_detach(t);
		else
			say("thread FAIL"), failures++;
	}
	int rc = serve(fd);
	pthread_mutex_lock(&serve_lock); /* the vCPU threads are done writing the log */
	say("served %u commands; %u failures", cmd_count, failures);
	fclose(logfile);
	xenforeignmemory_unmap_resource(fmem, serving_pages);
	/* The vCPU threads may still wait in pending(): no close of their handles. */
	return rc == 0 && !failures ? 0 : 1;
}
