/* SPDX-License-Identifier: MIT */
/*
 * The terminal as ioreqvm found it. The console device model sets the
 * terminal raw and puts it back itself; this is the fallback for when it
 * cannot (killed with SIGKILL): ioreqvm saves the state at start and puts
 * it back when the console model dies while the VM runs, and when it exits.
 */
#ifndef IOREQVM_TERM_GUARD_H
#define IOREQVM_TERM_GUARD_H

#include <stdbool.h>
#include <termios.h>

struct term_guard {
	bool saved;
	int fd;
	struct termios state;
};

/* Save @fd's state if it is our controlling terminal with us in the foreground. */
void term_guard_save(struct term_guard *g, int fd);
/* Put the saved state back (while we are still in the foreground). */
void term_guard_restore(const struct term_guard *g);

#endif
