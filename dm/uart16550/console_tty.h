/* SPDX-License-Identifier: MIT */
/*
 * The user's terminal, for the UART model's console: whether an fd is a
 * terminal this process may take (its controlling terminal, with this
 * process group in the foreground: never a terminal a background job or a
 * test harness merely inherited), raw mode while the console runs, and the
 * saved state put back from anywhere, signal handlers included. One
 * terminal per process.
 */
#ifndef IOREQVM_CONSOLE_TTY_H
#define IOREQVM_CONSOLE_TTY_H

#include <stdbool.h>

/* @fd is our controlling terminal and our process group is its foreground. */
bool console_tty_ours(int fd);
/*
 * Save @fd's state and make it raw as QEMU's stdio console does: no echo,
 * no line editing, no signals from keys (Ctrl-C is a byte for the guest),
 * no CR/LF translation or flow control on input, 8 bits; output processing
 * stays on, so a guest's "\n" still starts a new line. 0 or -errno.
 */
int console_tty_raw(int fd);
/* Put the saved state back (once raw: a no-op otherwise). Async-signal-safe. */
void console_tty_restore(void);

#endif
