/* SPDX-License-Identifier: MIT */
/*
 * libioreqvm-xen: the one libioreq connection a process's Xen-compatible
 * libraries share (DESIGN X1), its lock, and the domain they answer for.
 * Private to compat/xen/: the Xen libraries call it; Xen device models never
 * see it (except the bridge at the end, for this slice's tests).
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
 * serialises the connection (libioreq allows one caller at a time).
 * Errors: 0 or a negative errno, as libioreq (STYLE 12); the Xen libraries
 * turn them into -1 and errno.
 */
#ifndef IOREQVM_XEN_H
#define IOREQVM_XEN_H

#include <stdbool.h>
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
 * Bridge until libxenforeignmemory and libxenevtchn exist (issue 20's later
 * slices): serve server @id's request slots through libioreq on the shared
 * connection: opens them, tells ioreqvm the model is ready (as asking for
 * the event-channel fd will), then runs libioreq_server_run() until *stop or
 * the VM goes away (-EPIPE). Blocks; call it from the serving thread.
 */
int ioreqvm_xen_serve(uint16_t id, libioreq_handler_fn fn, void *opaque, volatile bool *stop);

#ifdef __cplusplus
}
#endif

#endif
