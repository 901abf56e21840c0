/* SPDX-License-Identifier: MIT */
/*
 * Process exit statuses of `ioreqvm run`. Odd statuses belong to the guest
 * (isa-debug-exit: a write of V to port 0xf4 gives (V << 1) | 1); the VMM's
 * own outcomes are even, so the two never collide. Documented in README and
 * --help; keep the three in step.
 */
#ifndef IOREQVM_EXIT_STATUS_H
#define IOREQVM_EXIT_STATUS_H

enum vm_exit_status {
	VM_EXIT_POWEROFF = 0,     /* powered off: PM1a SLP_TYP S5 | SLP_EN (0x604), a model's poweroff */
	VM_EXIT_USAGE = 2,        /* bad command line */
	VM_EXIT_SETUP = 4,        /* could not build the VM: kernel, memory, backend */
	VM_EXIT_TRIPLE_FAULT = 6, /* guest triple fault (shutdown): registers printed */
	VM_EXIT_INTERNAL = 8,     /* emulation failure or backend error: registers printed */
	VM_EXIT_RESET = 10,       /* reset asked for (0xcf9, 0x64, a model's reboot); no restart */
	VM_EXIT_QUIT = 12,        /* stopped by a person: the console's Ctrl-A x (a model's quit) */
	VM_EXIT_SIGNAL_BASE = 128 /* killed by signal N: 128 + N, as a shell reports */
};

/* Status for a write of @value to the debug-exit port, as QEMU computes it. */
static inline int vm_exit_status_debug(unsigned long value)
{
	return (int)(((value << 1) | 1) & 0xff);
}

#endif
