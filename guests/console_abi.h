/* SPDX-License-Identifier: MIT */
/*
 * What the console guest (guests/console.c) and the host's checker
 * (tests/integration/console_pattern.c) agree on: byte i of the stream the
 * guest prints in "flood" mode and expects in "read" mode. Lines of 64
 * bytes: the line number in 8 hex digits, a space, 54 letters that depend
 * on line and column, a newline; so a lost, doubled or shifted byte shows
 * in the line it hits and in every check after it.
 */
#ifndef CONSOLE_ABI_H
#define CONSOLE_ABI_H

#include <stdint.h>

#define CONSOLE_PATTERN_LINE 64

static inline char console_pattern_byte(uint64_t i)
{
	uint64_t line = i / CONSOLE_PATTERN_LINE;
	unsigned col = (unsigned)(i % CONSOLE_PATTERN_LINE);
	if (col < 8)
		return "0123456789abcdef"[(line >> (4 * (7 - col))) & 0xf];
	if (col == 8)
		return ' ';
	if (col == CONSOLE_PATTERN_LINE - 1)
		return '\n';
	return (char)('a' + (line * 7 + col * 3) % 26);
}

#endif
