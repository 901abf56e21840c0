/* SPDX-License-Identifier: MIT */
/*
 * What a Xen device model is started with (DESIGN X1, issue 20), by
 * `ioreqvm run --xen-device-model` and by `ioreqvm xen-env`:
 *  - LD_LIBRARY_PATH: ioreqvm's Xen-compatible libraries (compat/xen/)
 *    first, then whatever the variable held;
 *  - XENSTORED_PATH: the VM's xenstore socket (Debian's libxenstore reads it);
 *  - IOREQVM_XEN_DOMID: the domid the VM answers to.
 * The libraries are found from this ioreqvm executable's directory: in the
 * build tree at ../compat/xen, installed at IOREQVM_XEN_LIBDIR_REL (meson
 * makes it: bindir to libdir/ioreqvm/xen, or an absolute path); the first
 * that holds libxendevicemodel.so.1 wins.
 */
#ifndef IOREQVM_XEN_LAUNCH_H
#define IOREQVM_XEN_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#define XEN_MODEL_ENV_VARS 3

/* The compat/xen library directory. 0 or -ENOENT with a message. */
int xen_compat_dir(char *out, size_t len, char *err, size_t errlen);
/*
 * The three "NAME=value" strings (malloc'ed) of a Xen device model's
 * environment, NULL after them (@vars has XEN_MODEL_ENV_VARS + 1 entries).
 * 0 or -ENOMEM.
 */
int xen_model_env(const char *compat_dir, const char *xenstore_path, uint32_t domid,
		  char *vars[XEN_MODEL_ENV_VARS + 1]);
void xen_model_env_free(char *vars[XEN_MODEL_ENV_VARS + 1]);

#endif
