/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_xenstore into the directory given as its
 * argument: conversations of one to three clients in fuzz_xenstore's input
 * format (a client byte, a 2-byte length, the bytes of one read), covering
 * every message type, good and bad. The committed
 * tests/fuzz/corpus/xenstore/ was made with it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ioreqvm/xs_wire.h"
#include "seed_file.h"

static uint8_t buf[65536];
static size_t len;

/* One chunk: client @who sends message @type (tx @tx) with @plen payload bytes. */
static void msg(unsigned who, uint32_t type, uint32_t tx, const void *p, size_t plen)
{
	struct ioreqvm_xs_msg h = { .type = type, .req_id = (uint32_t)len, .tx_id = tx,
				    .len = (uint32_t)plen };
	size_t n = sizeof(h) + plen;
	buf[len++] = (uint8_t)who;
	buf[len++] = (uint8_t)n;
	buf[len++] = (uint8_t)(n >> 8);
	memcpy(buf + len, &h, sizeof(h));
	memcpy(buf + len + sizeof(h), p, plen);
	len += n;
}

/* A chunk of raw bytes (a message split across reads, or garbage). */
static void raw(unsigned who, const void *p, size_t n)
{
	buf[len++] = (uint8_t)who;
	buf[len++] = (uint8_t)n;
	buf[len++] = (uint8_t)(n >> 8);
	memcpy(buf + len, p, n);
	len += n;
}

#define S(x) x, sizeof(x) /* a string literal with its NUL */

static int put(const char *dir, const char *name)
{
	int rc = seed_file(dir, name, buf, len);
	len = 0;
	return rc;
}

int main(int argc, char **argv)
{
	const char *d = seed_dir(argc, argv);
	if (!d)
		return 2;
	int rc = 0;

	msg(0, IOREQVM_XS_READ, 0, S("/local/domain/1/name"));
	msg(0, IOREQVM_XS_DIRECTORY, 0, S("/local/domain/1"));
	msg(0, IOREQVM_XS_GET_PERMS, 0, S("/local/domain/1/vm"));
	msg(0, IOREQVM_XS_READ, 0, S("name"));
	rc |= put(d, "read_directory");

	msg(0, IOREQVM_XS_WRITE, 0, "/a/b/c\0value", 12);
	msg(0, IOREQVM_XS_MKDIR, 0, S("/a/d"));
	msg(0, IOREQVM_XS_SET_PERMS, 0, "/a/b\0n0\0r1", 11);
	msg(0, IOREQVM_XS_RM, 0, S("/a/b"));
	msg(0, IOREQVM_XS_RM, 0, S("/x/y"));
	rc |= put(d, "write_mkdir_rm_perms");

	msg(1, IOREQVM_XS_WATCH, 0, "/a\0tok", 7);
	msg(1, IOREQVM_XS_WATCH, 0, "rel/path\0t2", 12);
	msg(1, IOREQVM_XS_WATCH, 0, "@releaseDomain\0t3", 18);
	msg(0, IOREQVM_XS_WRITE, 0, "/a/x\0v", 6);
	msg(0, IOREQVM_XS_WRITE, 0, "/local/domain/0/rel/path/q\0v", 28);
	msg(0, IOREQVM_XS_RM, 0, S("/a"));
	msg(1, IOREQVM_XS_UNWATCH, 0, "/a\0tok", 7);
	msg(1, IOREQVM_XS_RESET_WATCHES, 0, S(""));
	rc |= put(d, "watches");

	msg(0, IOREQVM_XS_TRANSACTION_START, 0, S(""));
	msg(0, IOREQVM_XS_WRITE, 1, "/t/k\0in-tx", 10);
	msg(2, IOREQVM_XS_WATCH, 0, "/t\0w", 5);
	msg(0, IOREQVM_XS_READ, 1, S("/t/k"));
	msg(0, IOREQVM_XS_TRANSACTION_END, 1, S("T"));
	msg(0, IOREQVM_XS_TRANSACTION_START, 0, S(""));
	msg(1, IOREQVM_XS_WRITE, 0, "/t/other\0x", 10);
	msg(0, IOREQVM_XS_RM, 2, S("/t"));
	msg(0, IOREQVM_XS_TRANSACTION_END, 2, S("T"));
	msg(0, IOREQVM_XS_TRANSACTION_START, 0, S(""));
	msg(0, IOREQVM_XS_TRANSACTION_END, 3, S("F"));
	rc |= put(d, "transactions");

	for (unsigned i = 0; i < 40; i++) {
		char p[64];
		int n = snprintf(p, sizeof(p), "/many/child-with-a-long-name-%02u-xxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
		msg(0, IOREQVM_XS_WRITE, 0, p, (size_t)n + 1);
	}
	msg(0, IOREQVM_XS_DIRECTORY, 0, S("/many"));
	msg(0, IOREQVM_XS_DIRECTORY_PART, 0, "/many\0" "0", 8);
	msg(0, IOREQVM_XS_DIRECTORY_PART, 0, "/many\0" "1000", 11);
	rc |= put(d, "directory_part");

	msg(0, IOREQVM_XS_CONTROL, 0, S("help"));
	msg(0, IOREQVM_XS_CONTROL, 0, S("check"));
	msg(0, IOREQVM_XS_CONTROL, 0, "print\0hello", 12);
	msg(0, IOREQVM_XS_CONTROL, 0, S("memreport"));
	msg(0, IOREQVM_XS_GET_DOMAIN_PATH, 0, S("1"));
	msg(0, IOREQVM_XS_IS_DOMAIN_INTRODUCED, 0, S("5"));
	msg(0, IOREQVM_XS_INTRODUCE, 0, "2\0" "100\0" "3", 8);
	msg(0, IOREQVM_XS_RELEASE, 0, S("1"));
	rc |= put(d, "control_domains");

	msg(0, IOREQVM_XS_READ, 0, "/no/nul", 7);
	msg(0, IOREQVM_XS_WRITE, 0, "/a//b\0v", 7);
	msg(0, IOREQVM_XS_READ, 7, S("/x"));
	msg(0, 99, 0, "", 0);
	msg(0, IOREQVM_XS_WATCH_EVENT, 0, "/a\0t", 5);
	msg(0, IOREQVM_XS_DIRECTORY_PART, 0, "/local\0x", 9);
	msg(0, IOREQVM_XS_SET_PERMS, 0, "/local\0q7", 10);
	/* One message over three reads. */
	struct ioreqvm_xs_msg h = { .type = IOREQVM_XS_READ, .len = 7 };
	raw(1, &h, 10);
	raw(1, (uint8_t *)&h + 10, sizeof(h) - 10);
	raw(1, "/local", 7);
	/* A header past the bound: that client is dropped. */
	struct ioreqvm_xs_msg big = { .type = IOREQVM_XS_WRITE, .len = IOREQVM_XS_PAYLOAD_MAX + 1 };
	raw(2, &big, sizeof(big));
	rc |= put(d, "malformed");
	return rc;
}
