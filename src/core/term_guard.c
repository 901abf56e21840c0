/* SPDX-License-Identifier: MIT */
/* Saving and restoring the terminal's state (see term_guard.h). */
#include "core/term_guard.h"

#include <unistd.h>

/* Our controlling terminal, and our process group in its foreground. */
static bool ours(int fd)
{
	if (!isatty(fd))
		return false;
	pid_t fg = tcgetpgrp(fd);
	return fg >= 0 && fg == getpgrp();
}

void term_guard_save(struct term_guard *g, int fd)
{
	g->saved = ours(fd) && tcgetattr(fd, &g->state) == 0;
	g->fd = fd;
}

void term_guard_restore(const struct term_guard *g)
{
	/* Not from the background: that would stop us (SIGTTOU). */
	if (g->saved && ours(g->fd))
		tcsetattr(g->fd, TCSANOW, &g->state);
}
