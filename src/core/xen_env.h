/* SPDX-License-Identifier: MIT */
/*
 * `ioreqvm xen-env [--socket PATH] [--] CMD [ARGS...]`: run a Xen device
 * model by hand against a running VM (issue 20). Which VM: the control
 * socket --socket names, else $IOREQVM_SOCKET, else the only live
 * ioreqvm-*.sock in the default directory ($XDG_RUNTIME_DIR, else /run for
 * root, /tmp otherwise: where `ioreqvm run` puts it); none or several is an
 * error that lists what it found. The VM is asked (XEN_INFO) for its domid
 * and xenstore socket; CMD then runs in place of this process with the
 * environment of xen_launch.h, IOREQVM_SOCKET set and IOREQVM_FD unset.
 * Returns only on failure: 1 (no VM, or it did not answer) or 127 (CMD
 * could not be run), with a message on stderr.
 */
#ifndef IOREQVM_XEN_ENV_H
#define IOREQVM_XEN_ENV_H

struct cli_opts;

int xen_env_main(const struct cli_opts *o);

#endif
