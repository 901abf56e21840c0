/* SPDX-License-Identifier: MIT */
/*
 * The host's side of the console guest's pattern (guests/console_abi.h):
 *   console_pattern gen N          writes the first N bytes to stdout;
 *   console_pattern check N FILE   checks that FILE (the guest's serial
 *                                  output of "flood N") holds the line
 *                                  "console: flood N bytes", then exactly
 *                                  the N bytes, then "console: flood done",
 *                                  and says where the first difference is.
 * Exit status 0 when it holds, 1 when not (with the reason), 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guests/console_abi.h"

static int gen(uint64_t n)
{
	char buf[65536];
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;
		while (k < sizeof(buf) && i < n)
			buf[k++] = console_pattern_byte(i++);
		if (fwrite(buf, 1, k, stdout) != k)
			return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

static int check(uint64_t n, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	char head[64];
	int hl = snprintf(head, sizeof(head), "console: flood %" PRIu64 " bytes\n", n);
	/* Find the header line: the guest prints nothing else before it. */
	char line[256];
	uint64_t skipped = 0;
	for (;;) {
		if (!fgets(line, sizeof(line), f)) {
			printf("no line \"%.*s\" in %s\n", hl - 1, head, path);
			fclose(f);
			return 1;
		}
		if (!strcmp(line, head))
			break;
		skipped++;
	}
	uint64_t i = 0;
	int c = 0;
	for (; i < n && (c = getc(f)) != EOF; i++) {
		char want = console_pattern_byte(i);
		if (c != (unsigned char)want) {
			printf("byte %" PRIu64 " of the pattern (line %" PRIu64 ", column %" PRIu64
			       ") is 0x%02x, want 0x%02x\n", i, i / CONSOLE_PATTERN_LINE,
			       i % CONSOLE_PATTERN_LINE, c, (unsigned char)want);
			fclose(f);
			return 1;
		}
	}
	if (i < n) {
		printf("the output ends after %" PRIu64 " of %" PRIu64 " pattern bytes\n", i, n);
		fclose(f);
		return 1;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, "console: flood done\n")) {
		printf("after the %" PRIu64 " pattern bytes: \"%s\", want \"console: flood done\"\n",
		       n, line);
		fclose(f);
		return 1;
	}
	fclose(f);
	printf("all %" PRIu64 " bytes as sent (%" PRIu64 " lines before the pattern)\n", n,
	       skipped);
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	uint64_t n = argc >= 3 ? strtoull(argv[2], &end, 10) : 0;
	if (argc == 3 && !strcmp(argv[1], "gen") && !*end)
		return gen(n);
	if (argc == 4 && !strcmp(argv[1], "check") && !*end)
		return check(n, argv[3]);
	fprintf(stderr, "usage: console_pattern gen N | check N FILE\n");
	return 2;
}
