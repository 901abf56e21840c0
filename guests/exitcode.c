/* SPDX-License-Identifier: MIT */
/*
 * exitcode: ends the VM the way its command line says, to test ioreqvm's
 * exit statuses: "exit=N" writes N to the debug-exit port (status
 * (N << 1) | 1), "poweroff" writes SLP_EN to ACPI PM1a control (status 0).
 */
#include "guest.h"

static bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

int guest_main(void)
{
	const char *cmd = guest_cmdline_arg();
	if (starts_with(cmd, "exit=")) {
		unsigned v = 0;
		for (const char *p = cmd + 5; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (unsigned)(*p - '0');
		guest_printf("exitcode: exit %u\n", v);
		guest_exit(v);
	}
	if (starts_with(cmd, "poweroff")) {
		guest_printf("exitcode: power off\n");
		guest_outw(0x604, 1u << 13);
		guest_printf("exitcode: still running after power off\n");
		return GUEST_EXIT_FAIL + 1;
	}
	guest_printf("exitcode: command line must be exit=N or poweroff\n");
	return GUEST_EXIT_FAIL;
}
