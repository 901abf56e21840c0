/* SPDX-License-Identifier: MIT */
/*
 * exitcode: ends the VM the way its command line says, to test ioreqvm's
 * exit statuses (DESIGN L4):
 *  "exit=N"        writes N to the debug-exit port (status (N << 1) | 1);
 *  "poweroff"      writes SLP_EN to ACPI PM1a control (status 0);
 *  "poweroff-acpi" powers off as Linux's ACPI code does: reads PM1a
 *                  control (SCI_EN must be set), writes SLP_TYP S5 alone,
 *                  then SLP_TYP S5 with SLP_EN, 16 bits each (status 0);
 *  "poweroff-byte" writes SLP_EN in the high byte of PM1a control alone
 *                  (an 8-bit write to 0x605; status 0);
 *  "sleep-s3"      asks for sleep type 1 (not offered): the guest must wake
 *                  at once with WAK_STS set in PM1 status, clear it by
 *                  writing 1, and then exits through the debug port;
 *  "reset-kbc"     pulses reset through the keyboard controller as Linux
 *                  does (waits until its input buffer is empty, 0xfe to
 *                  port 0x64; status 10);
 *  "reset-cf9"     resets through port 0xcf9 as Linux does (0x02, then
 *                  0x06; status 10).
 * Between two writes of which only the second may end the VM it prints a
 * line, so the test sees the first did not.
 * A mode whose write must end the VM prints "still running" and fails if
 * it did not.
 */
#include "guest.h"

#define PM1A_STS 0x600
#define PM1A_CNT 0x604
#define SLP_EN (1u << 13)
#define SCI_EN 1u
#define WAK_STS (1u << 15)
#define SLP_TYP(t) ((uint16_t)((t) << 10))

static bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

static int still_running(const char *what)
{
	guest_printf("exitcode: still running after %s\n", what);
	return GUEST_EXIT_FAIL + 1;
}

static int poweroff_acpi(void)
{
	uint16_t cnt = guest_inw(PM1A_CNT);
	guest_printf("exitcode: PM1a control reads %#x\n", cnt);
	if (!(cnt & SCI_EN)) {
		guest_printf("exitcode: SCI_EN clear: not in ACPI mode\n");
		return GUEST_EXIT_FAIL + 2;
	}
	cnt &= (uint16_t)~(SLP_TYP(7) | SLP_EN);
	guest_printf("exitcode: power off through ACPI (S5)\n");
	guest_outw(PM1A_CNT, cnt | SLP_TYP(0));
	guest_printf("exitcode: SLP_TYP S5 written, SLP_EN next\n"); /* not off yet */
	guest_outw(PM1A_CNT, cnt | SLP_TYP(0) | SLP_EN);
	return still_running("SLP_TYP S5 | SLP_EN");
}

static int sleep_s3(void)
{
	guest_outw(PM1A_STS, 0xffff); /* clear every status bit */
	uint16_t sts = guest_inw(PM1A_STS);
	guest_printf("exitcode: asking for sleep type 1\n");
	guest_outw(PM1A_CNT, SLP_TYP(1));
	guest_outw(PM1A_CNT, SLP_TYP(1) | SLP_EN);
	uint16_t woke = guest_inw(PM1A_STS);
	uint16_t cnt = guest_inw(PM1A_CNT);
	guest_outw(PM1A_STS, WAK_STS);
	uint16_t cleared = guest_inw(PM1A_STS);
	guest_printf("exitcode: PM1 status %#x before, %#x after the sleep, %#x after clearing; "
		     "control %#x\n", sts, woke, cleared, cnt);
	bool ok = sts == 0 && woke == WAK_STS && cleared == 0 && cnt == (SLP_TYP(1) | SCI_EN);
	guest_printf("exitcode: sleep type 1 refused, woken %s\n", ok ? "ok" : "FAILED");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL + 3;
}

static int reset_kbc(void)
{
	for (int i = 0; i < 0x10000 && (guest_inb(0x64) & 0x02); i++)
		guest_pause(); /* input buffer full: wait, as Linux's kb_wait() */
	guest_printf("exitcode: reset through the keyboard controller\n");
	guest_outb(0x64, 0xfe);
	return still_running("the keyboard controller's reset pulse");
}

static int reset_cf9(void)
{
	uint8_t cf9 = guest_inb(0xcf9) & (uint8_t)~0x06;
	guest_printf("exitcode: reset through port 0xcf9\n");
	guest_outb(0xcf9, cf9 | 0x02); /* select a hard reset: not one yet */
	guest_printf("exitcode: 0x02 written, 0x06 next\n");
	guest_outb(0xcf9, cf9 | 0x06);
	return still_running("0x06 to port 0xcf9");
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
	if (guest_cmdline_is("poweroff")) {
		guest_printf("exitcode: power off\n");
		guest_outw(PM1A_CNT, SLP_EN);
		return still_running("power off");
	}
	if (guest_cmdline_is("poweroff-acpi"))
		return poweroff_acpi();
	if (guest_cmdline_is("poweroff-byte")) {
		guest_printf("exitcode: power off by a byte write\n");
		guest_outb(PM1A_CNT + 1, SLP_EN >> 8);
		return still_running("SLP_EN by a byte write");
	}
	if (guest_cmdline_is("sleep-s3"))
		return sleep_s3();
	if (guest_cmdline_is("reset-kbc"))
		return reset_kbc();
	if (guest_cmdline_is("reset-cf9"))
		return reset_cf9();
	guest_printf("exitcode: command line must be exit=N, poweroff, poweroff-acpi, "
		     "poweroff-byte, sleep-s3, reset-kbc or reset-cf9\n");
	return GUEST_EXIT_FAIL;
}
