/* SPDX-License-Identifier: MIT */
/*
 * Test guests with several modes: the command line's word after the kernel
 * file name picks one, each check prints one line, and the guest passes
 * only if every check held. Also the closed form the loop tests check
 * their CPL3 arithmetic against.
 */
#include "guest.h"

static const char *check_prefix = "guest";
static unsigned check_failures;

const char *guest_cmdline_arg(void)
{
	const char *s = guest_cmdline();
	while (*s && *s != ' ')
		s++; /* the kernel's file name, as QEMU passes it */
	while (*s == ' ')
		s++;
	return s;
}

bool guest_cmdline_is(const char *word)
{
	const char *s = guest_cmdline_arg();
	while (*word && *s == *word)
		s++, word++;
	return !*word && (!*s || *s == ' ');
}

void guest_check(bool ok, const char *what, uint64_t got, uint64_t want)
{
	check_failures += !ok;
	guest_printf("%s: %s %s (got %#llx, want %#llx)\n", check_prefix, what, ok ? "ok" : "FAILED",
		     (unsigned long long)got, (unsigned long long)want);
}

int guest_run_mode(const char *prefix, const struct guest_mode *modes)
{
	check_prefix = prefix;
	for (const struct guest_mode *m = modes; m->name; m++) {
		if (!guest_cmdline_is(m->name))
			continue;
		m->run();
		guest_printf("%s: %u failures\n", prefix, check_failures);
		return check_failures ? GUEST_EXIT_FAIL + 1 : GUEST_EXIT_PASS;
	}
	guest_printf("%s: unknown mode: %s\n", prefix, guest_cmdline_arg());
	return GUEST_EXIT_FAIL;
}

uint64_t guest_lcg_jump(uint64_t x, uint64_t n, uint64_t a, uint64_t c)
{
	uint64_t acc_a = 1, acc_c = 0;
	for (; n; n >>= 1) {
		if (n & 1) {
			acc_a *= a;
			acc_c = acc_c * a + c;
		}
		c *= a + 1;
		a *= a;
	}
	return acc_a * x + acc_c;
}
