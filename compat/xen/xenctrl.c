/* SPDX-License-Identifier: MIT */
/*
 * libxenctrl.so.4.17 for ioreqvm (DESIGN X1, X4, X5): the part of Xen's
 * <xenctrl.h> device models use, over the process's one connection
 * (ioreqvm_xen.h: where it comes from, the domid, thread safety). Symbol
 * versions as Debian 12's (libxenctrl.map: every function it exports, in
 * VERS_4.17.0). Errors as Xen's library: -1 (NULL for a handle) and errno;
 * xc_get_last_error() has the reason.
 *
 * Implemented:
 *  - xc_interface_open, xc_interface_close (the logger is kept for
 *    xc_report*; the connection outlives the handle, as the other
 *    libraries' do);
 *  - xc_domain_getinfo, xc_domain_getinfolist (X5): the VM is the only
 *    domain. Asked from a domid at or below the VM's, they describe it (as
 *    Xen's enumerate "from first_domid on": callers check info.domid);
 *    above it, getinfo fails with ESRCH and getinfolist finds 0 domains.
 *    hvm (and XEN_DOMINF_hvm_guest), running, hap, domid, nr_pages (the
 *    frames with RAM), max_memkb / max_pages (what populate may reach),
 *    nr_online_vcpus, max_vcpu_id, handle (the VM's UUID, as in xenstore),
 *    gpaddr_bits (the guest-physical space); cpu_time is 0 (ioreqvm does
 *    not account it), shared_info_frame 0 (an HVM guest's is its own);
 *  - xc_domain_populate_physmap(_exact), xc_domain_decrease_reservation
 *    (_exact) (X4): extents of 2^extent_order frames (aligned) at the
 *    frames given, all or nothing (POPULATE_PHYSMAP, DECREASE_RESERVATION
 *    in ioreqvm/ctl_proto.h: which frames, the limit, the errnos). Where
 *    Xen's non-exact calls return how many extents were done, these return
 *    all of them or -1 with errno (nothing done). mem_flags: the address
 *    width and NUMA node hints are accepted and mean nothing here (guest
 *    RAM is one memfd); XENMEMF_populate_on_demand and XENMEMF_vnode:
 *    EINVAL. Extents whose frames coalesce into more than
 *    IOREQVM_PHYSMAP_MAX_RANGES runs: E2BIG;
 *  - xc_get_last_error, xc_clear_last_error, xc_error_code_to_desc,
 *    xc_strerror; the xc_report* and progress calls (to the logger given
 *    to xc_interface_open, if any);
 *  - pure helpers Debian's library exports: xc_cpumap_setcpu, _clearcpu,
 *    _testcpu, xc_ffs8/16/32/64, bitmap_64_to_byte, bitmap_byte_to_64,
 *    read_exact, write_exact, writev_exact, discard_file_cache; frees of
 *    what the stubs below never allocate (xc__hypercall_buffer_free,
 *    _free_pages, xc_hypercall_buffer_array_destroy,
 *    xc__hypercall_bounce_post: nothing to do), xc_cpupool_infofree.
 *
 * Every other function (xenctrl_enosys.c, 356 of them) fails with -1 or
 * NULL and errno ENOSYS, never pretending: they are hypercalls of a Xen
 * host that ioreqvm's model has no counterpart for (scheduling, CPU pools,
 * physical CPUs and NUMA, the physical memory map, grant tables, vm_event,
 * altp2m, memory sharing and paging, save/restore and live migration,
 * PV domains and page-table pinning, the hypercall buffers those use, the
 * xc_evtchn / xc_gnttab / xc_map_foreign compatibility wrappers: a model
 * uses libxenevtchn and libxenforeignmemory, which ioreqvm has), or domain
 * control a device model does not do (creating, pausing, destroying
 * domains, HVM parameters and context, vCPU affinity and context, IRQ and
 * PCI pass-through, TSC modes, CPUID and MSR policies).
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xenctrl.h>

#include "ioreqvm_xen.h"
#include "xenctrl_enosys.h"

/* Declared in Xen's private headers only, exported by Debian's library all the same. */
void bitmap_64_to_byte(uint8_t *bp, const uint64_t *lp, int nbits);
void bitmap_byte_to_64(uint64_t *lp, const uint8_t *bp, int nbits);
int read_exact(int fd, void *data, size_t size);
int write_exact(int fd, const void *data, size_t size);
int writev_exact(int fd, const struct iovec *iov, int iovcnt);
void discard_file_cache(xc_interface *xch, int fd, int flush);
int xc_ffs8(uint8_t x);
int xc_ffs16(uint16_t x);
int xc_ffs32(uint32_t x);
int xc_ffs64(uint64_t x);
void xc__hypercall_bounce_post(xc_interface *xch, void *bounce);
void xc_report_error(xc_interface *xch, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code,
		const char *fmt, va_list args) __attribute__((format(printf, 5, 0)));
void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void xc_set_progress_prefix(xc_interface *xch, const char *doing);
void xc_report_progress_single(xc_interface *xch, const char *doing);
void xc_report_progress_step(xc_interface *xch, unsigned long done, unsigned long total);

struct xc_interface_core {
	xentoollog_logger *logger;
	const char *progress; /* xc_set_progress_prefix's */
};

/*
 * Xen's library exports this buffer for DECLARE_HYPERCALL_BUFFER_NULL,
 * initialised so. A program may copy it into its own image (a copy
 * relocation): its size must stay Xen's, so AddressSanitizer builds leave
 * it without red zones.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XC_NO_REDZONE __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef XC_NO_REDZONE
#define XC_NO_REDZONE
#endif
XC_NO_REDZONE xc_hypercall_buffer_t XC__HYPERCALL_BUFFER_NAME(HYPERCALL_BUFFER_NULL) = {
	.hbuf = NULL, .param_shadow = NULL, HYPERCALL_BUFFER_INIT_NO_BOUNCE
};

/* ---- errors ----------------------------------------------------------------- */

static _Thread_local xc_error last_error;

static void set_last(enum xc_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_last(enum xc_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	last_error.code = code;
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	va_end(ap);
}

/* A failure: errno @err, the last error saying why (@why, else strerror). -1. */
static int fail_why(int err, const char *what, const char *why)
{
	set_last(err == EINVAL ? XC_INVALID_PARAM : XC_INTERNAL_ERROR, "%s: %s", what,
		 why ? why : strerror(err));
	errno = err;
	return -1;
}

static int fail(int err, const char *what)
{
	return fail_why(err, what, NULL);
}

/* A failure ioreqvm or libioreq explained (ioreqvm_xen_error). */
static int fail_vm(int err, const char *what)
{
	return fail_why(err, what, ioreqvm_xen_error());
}

long ioreqvm_xenctrl_enosys(const char *what)
{
	set_last(XC_INTERNAL_ERROR, "%s: not supported by ioreqvm (see libxenctrl's notes)", what);
	errno = ENOSYS;
	return -1;
}

const xc_error *xc_get_last_error(xc_interface *xch)
{
	return &last_error;
}

void xc_clear_last_error(xc_interface *xch)
{
	last_error.code = XC_ERROR_NONE;
	last_error.message[0] = 0;
}

const char *xc_error_code_to_desc(int code)
{
	switch (code) {
	case XC_ERROR_NONE: return "No error details";
	case XC_INTERNAL_ERROR: return "Internal error";
	case XC_INVALID_KERNEL: return "Invalid kernel";
	case XC_INVALID_PARAM: return "Invalid configuration";
	case XC_OUT_OF_MEMORY: return "Out of memory";
	default: return "Unknown error code";
	}
}

const char *xc_strerror(xc_interface *xch, int errcode)
{
	static _Thread_local char buf[128];
	return strerror_r(errcode, buf, sizeof(buf));
}

void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code,
		const char *fmt, va_list args)
{
	va_list copy;
	va_copy(copy, args);
	if (level >= XTL_ERROR) {
		last_error.code = (enum xc_error_code)code;
		vsnprintf(last_error.message, sizeof(last_error.message), fmt, copy);
	}
	va_end(copy);
	if (!lg && xch)
		lg = xch->logger;
	if (lg && lg->vmessage)
		lg->vmessage(lg, level, -1, "xc", fmt, args);
}

void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	xc_reportv(xch, lg, level, code, fmt, ap);
	va_end(ap);
}

void xc_report_error(xc_interface *xch, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	xc_reportv(xch, NULL, XTL_ERROR, code, fmt, ap);
	va_end(ap);
}

void xc_set_progress_prefix(xc_interface *xch, const char *doing)
{
	if (xch)
		xch->progress = doing;
}

void xc_report_progress_single(xc_interface *xch, const char *doing)
{
	if (xch && xch->logger && xch->logger->progress)
		xch->logger->progress(xch->logger, "xc", doing, 0, 0, 0);
}

void xc_report_progress_step(xc_interface *xch, unsigned long done, unsigned long total)
{
	if (xch && xch->logger && xch->logger->progress)
		xch->logger->progress(xch->logger, "xc", xch->progress ? xch->progress : "",
				      total ? (int)(done * 100 / total) : 0, done, total);
}

/* ---- the handle ------------------------------------------------------------------ */

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	int rc = ioreqvm_xen_connect();
	if (rc) {
		fail_vm(-rc, "xc_interface_open");
		return NULL;
	}
	xc_interface *xch = calloc(1, sizeof(*xch));
	if (!xch) {
		fail(ENOMEM, "xc_interface_open");
		return NULL;
	}
	xch->logger = logger;
	return xch;
}

int xc_interface_close(xc_interface *xch)
{
	free(xch); /* the connection stays: servers and claims outlive the handle, as Xen's */
	return 0;
}

/* ---- domains (X5) ----------------------------------------------------------------- */

struct vm_facts {
	struct ioreqvm_op_xen_info xen;
	struct ioreqvm_op_vm_info vm;
};

static int ask(struct vm_facts *f)
{
	struct libioreq *x;
	int rc = ioreqvm_xen_lock(&x);
	if (rc)
		return rc;
	rc = libioreq_xen_info(x, &f->xen);
	if (!rc)
		rc = libioreq_vm_info(x, &f->vm);
	if (rc)
		ioreqvm_xen_set_error(libioreq_error(x));
	ioreqvm_xen_unlock();
	return rc;
}

/* Bits of a guest-physical address for @nr_pages frames. */
static uint8_t address_bits(uint64_t nr_pages)
{
	uint8_t bits = 12;
	while (bits < 63 && (1ULL << (bits - 12)) < nr_pages)
		bits++;
	return bits;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
		      xc_dominfo_t *info)
{
	struct vm_facts f;
	if (!xch || !info)
		return fail(EINVAL, "xc_domain_getinfo");
	memset(info, 0, max_doms * sizeof(*info));
	if (!max_doms)
		return 0;
	if (first_domid > ioreqvm_xen_domid())
		return fail(ESRCH, "xc_domain_getinfo: no domain from that domid on");
	int rc = ask(&f);
	if (rc)
		return fail_vm(-rc, "xc_domain_getinfo");
	info->domid = f.xen.domid;
	info->hvm = 1;
	info->running = 1;
	info->hap = 1;
	info->nr_pages = f.xen.ram_pages;
	info->max_memkb = f.xen.max_ram_pages << 2;
	info->nr_online_vcpus = f.xen.nr_vcpus;
	info->max_vcpu_id = f.xen.nr_vcpus - 1;
	memcpy(info->handle, f.xen.uuid, sizeof(info->handle));
	info->gpaddr_bits = address_bits(f.vm.nr_pages);
	return 1;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
			  xc_domaininfo_t *info)
{
	struct vm_facts f;
	if (!xch || (max_domains && !info))
		return fail(EINVAL, "xc_domain_getinfolist");
	if (!max_domains || first_domain > ioreqvm_xen_domid())
		return 0;
	int rc = ask(&f);
	if (rc)
		return fail_vm(-rc, "xc_domain_getinfolist");
	memset(info, 0, sizeof(*info));
	info->domain = (domid_t)f.xen.domid;
	info->flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_running | XEN_DOMINF_hap;
	info->tot_pages = f.xen.ram_pages;
	info->max_pages = f.xen.max_ram_pages;
	info->nr_online_vcpus = f.xen.nr_vcpus;
	info->max_vcpu_id = f.xen.nr_vcpus - 1;
	memcpy(info->handle, f.xen.uuid, sizeof(info->handle));
	info->gpaddr_bits = address_bits(f.vm.nr_pages);
	return 1;
}

/* ---- adding and removing RAM (X4) --------------------------------------------------- */

static int cmp_pfn(const void *a, const void *b)
{
	xen_pfn_t x = *(const xen_pfn_t *)a, y = *(const xen_pfn_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Extents to the op's sorted, coalesced ranges: 0, or the errno (EINVAL:
 * misaligned, overlapping or out-of-range extents; E2BIG: too many runs).
 */
static int to_ranges(unsigned long nr, unsigned order, const xen_pfn_t *ext,
		     struct ioreqvm_op_physmap *op)
{
	if (order > 30)
		return EINVAL; /* an extent past any guest-physical space */
	xen_pfn_t *s = malloc(nr * sizeof(*s));
	if (!s)
		return ENOMEM;
	memcpy(s, ext, nr * sizeof(*s));
	qsort(s, nr, sizeof(*s), cmp_pfn);
	uint64_t n = 1ULL << order;
	int err = 0;
	memset(op, 0, sizeof(*op));
	for (unsigned long i = 0; i < nr && !err; i++) {
		if ((s[i] & (n - 1)) || s[i] > UINT64_MAX - n) {
			err = EINVAL; /* Xen wants each extent aligned to its size */
			break;
		}
		if (op->nr_ranges) {
			__typeof__(op->range[0]) *last = &op->range[op->nr_ranges - 1];
			if (s[i] < last->first_pfn + last->nr) {
				err = EINVAL; /* a frame given twice */
				break;
			}
			if (s[i] == last->first_pfn + last->nr) {
				last->nr += n;
				continue;
			}
		}
		if (op->nr_ranges == IOREQVM_PHYSMAP_MAX_RANGES)
			err = E2BIG;
		else
			op->range[op->nr_ranges++] = (__typeof__(op->range[0])){ s[i], n };
	}
	free(s);
	return err;
}

static int physmap(uint32_t domid, unsigned long nr, unsigned order, unsigned mem_flags,
		   const xen_pfn_t *ext, bool populate)
{
	const char *what = populate ? "populate_physmap" : "decrease_reservation";
	if (domid != ioreqvm_xen_domid())
		return fail(ESRCH, what);
	if (!nr)
		return 0;
	if (!ext || nr > SIZE_MAX / sizeof(*ext) ||
	    (mem_flags & (XENMEMF_populate_on_demand | XENMEMF_vnode)))
		return fail(EINVAL, what);
	struct ioreqvm_op_physmap *op = malloc(sizeof(*op));
	if (!op)
		return fail(ENOMEM, what);
	int err = to_ranges(nr, order, ext, op);
	if (err) {
		free(op);
		return fail_why(err, what, err == E2BIG ? "the frames make more runs than one call takes"
					   : err == ENOMEM ? NULL
					   : "extents misaligned, repeated or out of range");
	}
	struct libioreq *x;
	int rc = ioreqvm_xen_lock(&x);
	if (!rc) {
		rc = populate ? libioreq_populate_physmap(x, op) : libioreq_decrease_reservation(x, op);
		if (rc)
			ioreqvm_xen_set_error(libioreq_error(x));
		ioreqvm_xen_unlock();
	}
	free(op);
	if (rc)
		return fail_vm(-rc, what);
	ioreqvm_xen_ram_changed(); /* foreign maps see the new layout */
	return 0;
}

int xc_domain_populate_physmap(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
			       unsigned int extent_order, unsigned int mem_flags,
			       xen_pfn_t *extent_start)
{
	int rc = physmap(domid, nr_extents, extent_order, mem_flags, extent_start, true);
	return rc ? rc : (int)nr_extents;
}

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
				     unsigned int extent_order, unsigned int mem_flags,
				     xen_pfn_t *extent_start)
{
	return physmap(domid, nr_extents, extent_order, mem_flags, extent_start, true);
}

int xc_domain_decrease_reservation(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
				   unsigned int extent_order, xen_pfn_t *extent_start)
{
	int rc = physmap(domid, nr_extents, extent_order, 0, extent_start, false);
	return rc ? rc : (int)nr_extents;
}

int xc_domain_decrease_reservation_exact(xc_interface *xch, uint32_t domid,
					 unsigned long nr_extents, unsigned int extent_order,
					 xen_pfn_t *extent_start)
{
	return physmap(domid, nr_extents, extent_order, 0, extent_start, false);
}

/* ---- helpers Debian's library exports ------------------------------------------------- */

void xc__hypercall_buffer_free(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	/* xc__hypercall_buffer_alloc never gives one (ENOSYS): nothing to free. */
}

void xc__hypercall_buffer_free_pages(xc_interface *xch, xc_hypercall_buffer_t *b, int nr_pages)
{
}

void xc_hypercall_buffer_array_destroy(xc_interface *xch, xc_hypercall_buffer_array_t *array)
{
	/* xc_hypercall_buffer_array_create never gives one (ENOSYS). */
}

void xc__hypercall_bounce_post(xc_interface *xch, void *bounce)
{
	/* xc__hypercall_bounce_pre never succeeds (ENOSYS): nothing to copy back. */
}

void xc_cpupool_infofree(xc_interface *xch, xc_cpupoolinfo_t *info)
{
	free(info);
}

void xc_cpumap_setcpu(int cpu, xc_cpumap_t map)
{
	map[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
}

void xc_cpumap_clearcpu(int cpu, xc_cpumap_t map)
{
	map[cpu / 8] &= (uint8_t)~(1u << (cpu % 8));
}

int xc_cpumap_testcpu(int cpu, xc_cpumap_t map)
{
	return (map[cpu / 8] >> (cpu % 8)) & 1;
}

int xc_ffs8(uint8_t x)
{
	return __builtin_ffs(x);
}

int xc_ffs16(uint16_t x)
{
	return __builtin_ffs(x);
}

int xc_ffs32(uint32_t x)
{
	return __builtin_ffs((int)x);
}

int xc_ffs64(uint64_t x)
{
	return __builtin_ffsll((long long)x);
}

void bitmap_64_to_byte(uint8_t *bp, const uint64_t *lp, int nbits)
{
	for (int i = 0; nbits > 0; i++, nbits -= 8)
		bp[i] = (uint8_t)(lp[i / 8] >> (8 * (i % 8)));
}

void bitmap_byte_to_64(uint64_t *lp, const uint8_t *bp, int nbits)
{
	for (int i = 0; nbits > 0; i++, nbits -= 8) {
		if (i % 8 == 0)
			lp[i / 8] = 0;
		lp[i / 8] |= (uint64_t)bp[i] << (8 * (i % 8));
	}
}

int read_exact(int fd, void *data, size_t size)
{
	for (size_t done = 0; done < size;) {
		ssize_t n = read(fd, (uint8_t *)data + done, size - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (!n)
				errno = 0; /* end of file, as Xen's */
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int write_exact(int fd, const void *data, size_t size)
{
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, (const uint8_t *)data + done, size - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int writev_exact(int fd, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (write_exact(fd, iov[i].iov_base, iov[i].iov_len))
			return -1;
	return 0;
}

void discard_file_cache(xc_interface *xch, int fd, int flush)
{
	int saved = errno;
	if (flush)
		fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	errno = saved;
}
