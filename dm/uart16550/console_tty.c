/* SPDX-License-Identifier: MIT */
/*
 * Raw mode and its undoing (see console_tty.h). The saved state lives in
 * statics so a signal handler can restore it: tcsetattr() is
 * async-signal-safe, and nothing here allocates or locks.
 */
#include "console_tty.h"

#include <errno.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static volatile sig_atomic_t saved_fd = -1;

bool console_tty_ours(int fd)
{
	if (!isatty(fd))
		return false;
	pid_t fg = tcgetpgrp(fd); /* -1 (ENOTTY) unless it is our controlling terminal */
	return fg >= 0 && fg == getpgrp();
}

int console_tty_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	saved = t;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON |
				 IXOFF);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	saved_fd = fd; /* before the change: a signal between the two restores */
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		saved_fd = -1;
		return -e;
	}
	return 0;
}

void console_tty_restore(void)
{
	int fd = saved_fd;
	if (fd < 0)
		return;
	int e = errno; /* signal handlers must leave errno as they found it */
	tcsetattr(fd, TCSANOW, &saved);
	errno = e;
}
