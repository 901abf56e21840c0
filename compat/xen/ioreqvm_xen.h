/* SPDX-License-Identifier: MIT */
/*
 * libioreqvm-xen: the one libioreq connection a process's Xen-compatible
 * libraries share (DESIGN X1), its lock, and the domain they answer for.
 * Private to compat/xen/: the Xen libraries call it; Xen device models never
 * see it. Also what those libraries share besides the connection: the
 * IOREQ servers' shared memory and event fds, and the guest RAM memfd.
 *
 * Where the connection comes from (the first xen*_open() makes it; it then
 * lives until the process exits, since servers die with their connection
 * and Xen's outlive a closed handle):
 *  - $IOREQVM_FD: the control connection ioreqvm passes to a device model
 *    it started (ioreqvm run --device-model CMD);
 *  - else $IOREQVM_SOCKET: the path of a VM's control socket
 *    (`ioreqvm run --socket PATH`, or the path it logs at start).
 * The domain: $IOREQVM_XEN_DOMID (decimal, default 1) is the domid this VM
 * answers to; any other domid gets ESRCH (X5).
 *
 * Thread safety: every call here may be made from any thread; one mutex
 * serialises the connection (libioreq allows one caller at a time), and
 * one more guards the shared servers and guest memory (taken before the
 * connection's, never while holding it; libxenevtchn's own lock comes
 * before both).
 * Errors: 0 or a negative errno, as libioreq (STYLE 12); the Xen libraries
 * turn them into -1 and errno.
 */
#ifndef IOREQVM_XEN_H
#define IOREQVM_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libioreq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connect now if not connected yet (no lock held on return). 0 or -errno. */
int ioreqvm_xen_connect(void);
/*
 * Take the lock and return the connection in *out (connecting first if
 * needed); 0, or -errno with the lock not held. Release with
 * ioreqvm_xen_unlock().
 */
int ioreqvm_xen_lock(struct libioreq **out);
void ioreqvm_xen_unlock(void);
/* The domid this VM answers to ($IOREQVM_XEN_DOMID, default 1). */
uint32_t ioreqvm_xen_domid(void);
/*
 * Why the last failure happened (libioreq's or the VMM's one-line
 * explanation); a thread's own copy, never NULL.
 */
const char *ioreqvm_xen_error(void);
/* Record @msg as this thread's last failure. */
void ioreqvm_xen_set_error(const char *msg);
/*
 * Server @id as the caller sees it: -ENOENT if the VM has no such server,
 * -EPERM if another process owns it; else 0 and *has_bufioreq. Call with
 * the lock held.
 */
int ioreqvm_xen_server_check(struct libioreq *x, uint16_t id, bool *has_bufioreq);

/*
 * Tell ioreqvm the model is ready (libioreq_dm_ready), once per process:
 * libxenevtchn does when the model first asks for its event-channel fd,
 * the point a Xen device model starts waiting for requests.
 */
int ioreqvm_xen_ready(void);

/*
 * One IOREQ server of ours as the Xen libraries see it (shared by them, one
 * per server and process): its request-slot memfd mapped once, and its
 * event fd. The slots, the ring and the notification words are shared with
 * ioreqvm (ioreqvm/ioreq_abi.h): read them with atomics. Getting one the
 * first time sets the notification word so that ioreqvm writes evt_fd for
 * every request and every posted write (IOREQVM_DM_SLEEPS_ON_FD, for good):
 * libxenevtchn waits on it.
 */
struct ioreqvm_xen_server {
	uint16_t id;
	bool bufioreq;
	unsigned nr_vcpus;
	int shm_fd; /* for fresh mappings (xenforeignmemory_map_resource) */
	int evt_fd; /* nonblocking */
	struct ioreqvm_ioreq *slots;
	struct ioreqvm_buffered_iopage *buf;
	struct ioreqvm_notify *notify;
	/* private to shared_vm.c */
	uint8_t *shm;
	unsigned refs;
	struct ioreqvm_xen_server *next;
};
/*
 * Server @id with a reference: 0, or -ENOENT (no such server in the VM),
 * -EPERM (another process's), another -errno. Asks ioreqvm every time
 * whether the server still exists. Release with ioreqvm_xen_server_put().
 */
int ioreqvm_xen_server_get(uint16_t id, struct ioreqvm_xen_server **out);
/* Another reference to @s, which the caller holds one of. */
void ioreqvm_xen_server_hold(struct ioreqvm_xen_server *s);
void ioreqvm_xen_server_put(struct ioreqvm_xen_server *s);
/* Server @id was destroyed: the next get fetches a fresh one. */
void ioreqvm_xen_server_forget(uint16_t id);

/*
 * Where the pages of guest frames @pfns[0..n) are in the guest RAM memfd:
 * offs[i] is the offset, or -1 for a frame without RAM (a hole, the PCI
 * hole's devices, past guest-physical space); *fd is the memfd (fetched
 * once per process and owned here: map it, never close it). Answered from
 * the process's copy of the RAM layout, fetched (RAM_RUNS) at first use,
 * again after ioreqvm_xen_ram_changed(), and again once in a call that
 * finds a frame without RAM, in case another process populated it. A frame
 * another process gave back stays in the copy until then: mapping it maps
 * memory the guest no longer has. 0 or -errno.
 */
int ioreqvm_xen_ram(const uint64_t *pfns, size_t n, int64_t *offs, int *fd);
/* This process populated or gave back guest RAM: the next lookup fetches the layout. */
void ioreqvm_xen_ram_changed(void);

#ifdef __cplusplus
}
#endif

#endif
