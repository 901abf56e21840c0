/* SPDX-License-Identifier: MIT */
/*
 * libioreq: the device-model side of ioreqvm. Connect to a VM's control
 * socket, run Xen's DM operations (named as in xendevicemodel), map guest
 * memory, and serve IOREQs: a pollable fd plus a dispatch call for event
 * loops, or a simple blocking loop.
 *
 * Conventions: every call returns 0 (or a count) on success and a negative
 * errno on failure; libioreq_error() then has a one-line explanation, most
 * often the VMM's own. A struct libioreq (a connection) may be used from
 * one thread at a time; a served server's dispatch may run in another
 * thread than the connection's calls. Servers, ranges and claims belong to
 * the connection that made them and die with it. ABI: stable from 1.0;
 * 1.1 adds libioreq_server_fds and libioreq_guest_memory_fd; 1.2 adds
 * libioreq_shutdown and libioreq_server_wake; 1.3 adds libioreq_xen_info,
 * libioreq_populate_physmap, libioreq_decrease_reservation and
 * libioreq_ram_runs; 1.4 adds libioreq_track_dirty_vram.
 *
 * Limits (DESIGN R4), each with its errno:
 *  - 64 control connections per VM: the 65th connect gets -EMFILE
 *    ("too many control connections");
 *  - IOREQ servers: --max-servers (default 8, at most 64): -ENOSPC;
 *  - 256 ranges per server and kind (port, memory, pci): -ENOSPC;
 *  - backend mappings (ioreqctl info shows the limit and the count):
 *    set_mem_type and claims past them get -ENOSPC;
 *  - one request in flight per connection is read at a time; a connection
 *    that leaves 32 replies unread is dropped (with its servers and
 *    claims), and one that sends file descriptors gets -EINVAL.
 */
#ifndef LIBIOREQ_H
#define LIBIOREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioreqvm/ctl_proto.h"
#include "ioreqvm/ioreq_abi.h"
#include "ioreqvm/memtype.h"

#ifdef __cplusplus
extern "C" {
#endif

struct libioreq;
struct libioreq_server;
struct libioreq_guest_memory;

/*
 * Connect. @path: the VM's control socket; NULL means $IOREQVM_FD (an
 * inherited socket, set for device models that ioreqvm starts), else
 * $IOREQVM_SOCKET. Blocks until connected. 0, -ENOENT (no such socket),
 * -EACCES (not allowed: the VM runs as another user), -EMFILE (the VM has
 * 64 connections, its limit), -EPROTO; libioreq_error(NULL) says which.
 */
int libioreq_connect(const char *path, struct libioreq **out);
void libioreq_close(struct libioreq *x);
/* The connection's socket, for event loops: POLLHUP when the VM goes away. */
int libioreq_connection_fd(const struct libioreq *x);
/*
 * Explanation of the last failure on @x (never NULL); with @x NULL, of the
 * last failed libioreq_connect() on this thread.
 */
const char *libioreq_error(const struct libioreq *x);

/* VM facts and counters (backend, vCPUs, RAM, mappings, unbacked accesses). */
int libioreq_vm_info(struct libioreq *x, struct ioreqvm_op_vm_info *info);
/* Every IOREQ server of the VM (any connection's): ids, state, counters. */
int libioreq_list_servers(struct libioreq *x, struct ioreqvm_op_server_list *out);
/* The ranges of server @id (the first IOREQVM_MAX_RANGES_LISTED; out->total has all). */
int libioreq_list_ranges(struct libioreq *x, uint16_t id, struct ioreqvm_op_range_list *out);
/* Tell ioreqvm this device model is ready (needed by models it started). */
int libioreq_dm_ready(struct libioreq *x);
/*
 * Stop the VM (Xen's xendevicemodel_shutdown without the domid: the VM is
 * the connection's). @reason: IOREQVM_SHUTDOWN_POWEROFF (ioreqvm exits 0,
 * as after an ACPI power-off), _REBOOT (10, as after a guest's reset
 * request: ioreqvm does not restart guests) or _QUIT (12: a person asked,
 * e.g. the console's Ctrl-A x). Returns once the stop is under way; the
 * connection then closes as for any end of the VM. -EINVAL another reason.
 */
int libioreq_shutdown(struct libioreq *x, uint32_t reason);

/* ---- IOREQ servers (Xen DM ops of the same names) ---------------------- */

/* Create a server, with a buffered ring if @bufioreq. -ENOSPC past the VM's limit. */
int libioreq_create_ioreq_server(struct libioreq *x, bool bufioreq, uint16_t *id);
/*
 * Destroy: its ranges and claims are released (never refused for want of
 * mappings: see the release budget at libioreq_set_mem_type); requests in
 * flight get defaults.
 */
int libioreq_destroy_ioreq_server(struct libioreq *x, uint16_t id);
/*
 * Map [start, end] (inclusive) of kind IOREQVM_IO_RANGE_PORT / _MEMORY / _PCI
 * (PCI bounds from IOREQVM_PCI_SBDF). @flags: IOREQVM_IO_RANGE_BUFFERED lets
 * small writes be posted through the buffered ring (I7). -EEXIST if it
 * overlaps a range of the same kind of this server; -ENOENT unknown server;
 * -EPERM a server of another connection.
 */
int libioreq_map_io_range_to_ioreq_server(struct libioreq *x, uint16_t id, uint32_t type,
					  uint64_t start, uint64_t end, uint32_t flags);
/* Remove a range mapped with exactly these bounds. -ENOENT if none. */
int libioreq_unmap_io_range_from_ioreq_server(struct libioreq *x, uint16_t id, uint32_t type,
					      uint64_t start, uint64_t end);
/*
 * Enable or disable: a disabled server receives nothing (I4), and its
 * claimed pages behave as ram_rw. Disabling always works; enabling a server
 * with claimed pages can fail with -ENOSPC (the release budget, below).
 */
int libioreq_set_ioreq_server_state(struct libioreq *x, uint16_t id, bool enabled);
/*
 * Claim (flags READ/WRITE) or release (flags 0) an ioreq_server memory type
 * (C1-C4). A release always works: every page of the type is ram_rw when it
 * returns. A flag change of a type with pages can fail with -ENOSPC (the
 * release budget, below). -EBUSY another server's claim, -EINVAL releasing
 * a type this server does not hold, -ENOENT / -EPERM as for any server op.
 */
int libioreq_map_mem_type_to_ioreq_server(struct libioreq *x, uint16_t id, uint16_t type,
					  uint32_t flags);

/* ---- memory types and interrupts --------------------------------------- */

/*
 * set_mem_type(type, first_pfn, nr): all or nothing (S1-S4). Pages of a
 * claimed ioreq_server type change type only through the claim's owner,
 * and only the owner sets pages to it (R5): for any other connection
 * -EPERM, the message naming the owning server. -EINVAL a rule broken
 * (the message names it and the page), or RAM populated in the PCI hole
 * (X4), which stays ram_rw.
 * -ENOSPC: the backend's mapping limit, or the release budget: ioreqvm
 * keeps mappings in use + 2 x (runs of claimed pages whose owner is
 * enabled) within the limit, so that releasing any claim, destroying or
 * disabling its server or losing its connection never needs more mappings
 * than exist (a released run may split a read-only mapping in three).
 * `ioreqctl info` shows the mappings in use and the limit.
 */
int libioreq_set_mem_type(struct libioreq *x, uint16_t type, uint64_t first_pfn, uint32_t nr);
int libioreq_get_mem_type(struct libioreq *x, uint64_t pfn, uint16_t *type);
/*
 * ISA IRQ 0-15's line. Called from a libioreq_server_run/dispatch handler
 * while it answers a vCPU's synchronous request, the change travels with
 * the answer (ioreq_abi.h, IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER): ioreqvm
 * sets the line before that vCPU runs on, with no control-socket round
 * trip; returns 0. Elsewhere (or a second change of the same line in one
 * answer, or an ioreqvm without the feature) it is a control call.
 */
int libioreq_set_isa_irq_level(struct libioreq *x, uint8_t isa_irq, uint8_t level);
int libioreq_set_pci_intx_level(struct libioreq *x, uint16_t domain, uint8_t bus,
				uint8_t device, uint8_t intx, uint8_t level);
int libioreq_inject_msi(struct libioreq *x, uint64_t addr, uint32_t data);
/*
 * Xen's track_dirty_vram (ctl_proto.h, TRACK_DIRTY_VRAM, has the rules):
 * @bitmap gets ceil(@nr / 64) words, bit i for frame first_pfn + i: every
 * frame on the first call for a range, then the frames written since the
 * call before; @nr 0 stops tracking (@bitmap unused). -EINVAL past
 * IOREQVM_DIRTY_MAX_PAGES or guest-physical space, -EOPNOTSUPP without a
 * backend log.
 */
int libioreq_track_dirty_vram(struct libioreq *x, uint64_t first_pfn, uint32_t nr,
			      uint64_t *bitmap);
/*
 * Tell ioreqvm the model wrote guest pages itself (needed on tcg, K8; and
 * they count as written for track_dirty_vram, as in Xen).
 */
int libioreq_modified_memory(struct libioreq *x, uint64_t first_pfn, uint64_t nr);

/* ---- guest memory ------------------------------------------------------- */

/* Map all of guest RAM (the VM's memfd) into this process. */
int libioreq_map_guest_memory(struct libioreq *x, struct libioreq_guest_memory **out);
/* Host pointer for [gpa, gpa + len) if it is RAM in one region, else NULL. */
void *libioreq_guest_ptr(struct libioreq_guest_memory *m, uint64_t gpa, uint64_t len);
void libioreq_unmap_guest_memory(struct libioreq_guest_memory *m);

/* ---- serving requests --------------------------------------------------- */

/*
 * Called once per request. For a read (req->dir == IOREQVM_IOREQ_READ) set
 * req->data (the low req->size bytes count). @vcpu is the requesting vCPU,
 * or ~0u for a posted (buffered) write. Buffered (posted) writes come
 * through the same handler, in order, before any later synchronous request.
 * Runs on the thread that calls dispatch/run; must not block for long: the
 * vCPU waits for it.
 */
typedef void (*libioreq_handler_fn)(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *req);

/* Map server @id's request slots and event fd. The server must be ours. */
int libioreq_server_open(struct libioreq *x, uint16_t id, libioreq_handler_fn fn, void *opaque,
			 struct libioreq_server **out);
void libioreq_server_close(struct libioreq_server *s);
/*
 * For event loops: becomes readable when requests may be pending; poll it,
 * then libioreq_server_dispatch() (which also drains it). Calling it tells
 * ioreqvm to ring the fd for every request (no spinning on either side);
 * do not mix with libioreq_server_run().
 */
int libioreq_server_fd(struct libioreq_server *s);
/* Serve every pending request, buffered first. Never blocks. Returns the count or -errno. */
int libioreq_server_dispatch(struct libioreq_server *s);
/*
 * Serve until *stop becomes true (checked at least every 100 ms; a
 * volatile sig_atomic_t-sized flag a signal handler may set) or the VM
 * goes away (-EPIPE): spins briefly after each request, then sleeps on the
 * event fd. Returns 0 when stopped.
 */
int libioreq_server_run(struct libioreq_server *s, volatile bool *stop);
/* The same, returning 0 after @timeout_ms too (0: no timeout). */
int libioreq_server_run_for(struct libioreq_server *s, volatile bool *stop, unsigned timeout_ms);
/*
 * Make a libioreq_server_run() or _run_for() on @s look at its *stop now
 * instead of at its next 100 ms check (it may be asleep waiting for
 * requests): set the flag first, then call this. For another thread of the
 * model (e.g. one that reads input for the device) or a signal handler:
 * async-signal-safe. In the event-loop API it makes libioreq_server_fd()
 * readable.
 */
void libioreq_server_wake(struct libioreq_server *s);

/* ---- for libraries that map and wait themselves (compat/xen/) -------- (1.1)
 * The raw objects behind libioreq_server_open() and libioreq_map_guest_memory():
 * the caller owns the fds returned, maps them as it likes and follows the
 * protocol of ioreqvm/ioreq_abi.h itself.
 */

/*
 * Server @id's request-slot memfd (*shm_fd, info->shm_size bytes laid out
 * as IOREQVM_SHM_*) and its event fd (*evt_fd, an eventfd ioreqvm writes
 * when the notification words say so), with its vCPU count and ring flag.
 * The server must be ours. Every call hands out new fds.
 */
int libioreq_server_fds(struct libioreq *x, uint16_t id, struct ioreqvm_op_info *info,
			int *shm_fd, int *evt_fd);
/* The guest RAM memfd (*fd) and where its regions sit (*layout), checked. */
int libioreq_guest_memory_fd(struct libioreq *x, struct ioreqvm_op_guest_memory *layout, int *fd);

/* ---- for Xen's libraries (compat/xen/) -------------------------------- (1.3) */

/* The VM as Xen's libraries report it: domid, vCPUs, RAM frames, UUID, xenstore socket. */
int libioreq_xen_info(struct libioreq *x, struct ioreqvm_op_xen_info *info);
/*
 * Add RAM at, or take it from, the ranges of @req (ctl_proto.h: struct
 * ioreqvm_op_physmap), all or nothing (DESIGN X4): -EINVAL a frame that
 * cannot change (the message names it), -EEXIST populating a frame with
 * RAM, -ENOSPC past IOREQVM_POPULATE_MAX_PAGES more frames or the
 * backend's mappings. Frames populated in the PCI hole stay ram_rw.
 */
int libioreq_populate_physmap(struct libioreq *x, const struct ioreqvm_op_physmap *req);
int libioreq_decrease_reservation(struct libioreq *x, const struct ioreqvm_op_physmap *req);
/* Where the RAM frames from @first_pfn on are in the RAM memfd (ctl_proto.h: RAM_RUNS). */
int libioreq_ram_runs(struct libioreq *x, uint64_t first_pfn, struct ioreqvm_op_ram_runs *out);

/*
 * Write-through helper for claimed-page writes (C6): store the request's
 * value into guest memory. 0, or -EFAULT if the address is not RAM.
 */
int libioreq_write_through(struct libioreq_guest_memory *m, const struct ioreqvm_ioreq *req);

#ifdef __cplusplus
}
#endif

#endif
