/* SPDX-License-Identifier: MIT */
/*
 * ioreqvm's xenstore service (src/xenstore/, DESIGN X1, R1, R4, R5) driven
 * by Debian's own libxenstore.so.4, unmodified, through $XENSTORED_PATH:
 * read, write, directory (and its DIRECTORY_PART paging past 4 KiB),
 * mkdir, rm, watches with their first event, relative watches, events of
 * removals, transactions (isolation, commit, abort, EAGAIN on a conflict,
 * events at commit), permissions, domain paths, CONTROL, and every limit
 * with its errno. Raw-socket clients check what libxenstore cannot send:
 * a message whose strings are not NUL-terminated, RESET_WATCHES, an
 * unknown type, and a header past the payload bound (that client is
 * dropped, the others still served), and a client that never reads its
 * answers (dropped past the output bound). The socket is 0600 in a 0700
 * directory, and another user is refused even past those modes (R5).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "xenstore/xs_seed.h"
#include "xenstore/xs_server.h"

#define DOMID 7

static struct xs_server server;
static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xs-test-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(xs_server_init(&server, DOMID), 0);
	uint8_t uuid[16];
	xs_uuid_new(uuid);
	struct xs_seed_vm vm = { .domid = DOMID, .name = "testvm", .uuid = uuid, .nr_vcpus = 2,
				 .ram_kib = 65536 };
	assert_int_equal(xs_seed_defaults(&server.svc, &vm), 0);
	char err[256];
	assert_int_equal(xs_seed_apply(&server.svc, "greeting=hello", DOMID, err, sizeof(err)), 0);
	assert_int_equal(xs_seed_apply(&server.svc, "/abs/key=v", DOMID, err, sizeof(err)), 0);
	assert_int_equal(xs_server_start(&server, tmpdir, err, sizeof(err)), 0);
	setenv("XENSTORED_PATH", server.path, 1);
	return 0;
}

static int teardown(void **state)
{
	xs_server_stop(&server);
	rmdir(tmpdir);
	return 0;
}

static struct xs_handle *open_xs(void)
{
	struct xs_handle *h = xs_open(0);
	assert_non_null(h);
	return h;
}

/* Read @path as a string (NULL if it fails, errno set). */
static char *rd(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	unsigned len;
	return xs_read(h, t, path, &len);
}

static void expect_val(struct xs_handle *h, xs_transaction_t t, const char *path,
			 const char *want)
{
	char *v = rd(h, t, path);
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void expect_gone(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	errno = 0;
	char *v = rd(h, t, path);
	assert_null(v);
	assert_int_equal(errno, ENOENT);
}

static void test_xenstore_socket_0600_in_0700_dir_r5(void **state)
{
	struct stat st;
	assert_int_equal(stat(server.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(server.dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_xenstore_seeded_keys_and_read(void **state)
{
	struct xs_handle *h = open_xs();
	expect_val(h, XBT_NULL, "/local/domain/7/greeting", "hello");
	expect_val(h, XBT_NULL, "/abs/key", "v");
	expect_val(h, XBT_NULL, "/local/domain/7/name", "testvm");
	expect_val(h, XBT_NULL, "/local/domain/7/domid", "7");
	expect_val(h, XBT_NULL, "/local/domain/7/cpu/1/availability", "online");
	expect_val(h, XBT_NULL, "/local/domain/7/memory/target", "65536");
	expect_val(h, XBT_NULL, "/local/domain/0/name", "Domain-0");
	char *vm = rd(h, XBT_NULL, "/local/domain/7/vm");
	assert_non_null(vm);
	char path[128];
	snprintf(path, sizeof(path), "%s/uuid", vm);
	char *uuid = rd(h, XBT_NULL, path);
	assert_non_null(uuid);
	assert_int_equal(strlen(uuid), 36);
	assert_string_equal(vm + 4, uuid); /* "/vm/<uuid>" */
	free(uuid);
	free(vm);
	expect_gone(h, XBT_NULL, "/local/domain/7/nothing");
	/* The home of a domain's keys, and who is introduced. */
	char *dp = xs_get_domain_path(h, DOMID);
	assert_string_equal(dp, "/local/domain/7");
	free(dp);
	assert_true(xs_is_domain_introduced(h, DOMID));
	assert_true(xs_is_domain_introduced(h, 0));
	assert_false(xs_is_domain_introduced(h, 3));
	xs_close(h);
}

static void test_xenstore_write_mkdir_directory_rm(void **state)
{
	struct xs_handle *h = open_xs();
	assert_true(xs_write(h, XBT_NULL, "/t1/a/b/c", "val", 3));
	expect_val(h, XBT_NULL, "/t1/a/b/c", "val");
	expect_val(h, XBT_NULL, "/t1/a", ""); /* parents made, empty */
	assert_true(xs_write(h, XBT_NULL, "/t1/a/x", "1", 1));
	assert_true(xs_write(h, XBT_NULL, "/t1/a", "keep", 4));
	assert_true(xs_mkdir(h, XBT_NULL, "/t1/a"));
	expect_val(h, XBT_NULL, "/t1/a", "keep"); /* mkdir leaves a value */
	assert_true(xs_mkdir(h, XBT_NULL, "/t1/d/e"));
	expect_val(h, XBT_NULL, "/t1/d/e", "");
	unsigned n = 0;
	char **d = xs_directory(h, XBT_NULL, "/t1/a", &n);
	assert_non_null(d);
	assert_int_equal(n, 2);
	assert_string_equal(d[0], "b");
	assert_string_equal(d[1], "x");
	free(d);
	/* Binary values pass as they are. */
	const char bin[5] = { 1, 0, 2, 0, 3 };
	assert_true(xs_write(h, XBT_NULL, "/t1/bin", bin, 5));
	unsigned len = 0;
	char *v = xs_read(h, XBT_NULL, "/t1/bin", &len);
	assert_int_equal(len, 5);
	assert_memory_equal(v, bin, 5);
	free(v);
	/* rm takes the subtree; a missing node is fine if its parent exists. */
	assert_true(xs_rm(h, XBT_NULL, "/t1/a"));
	expect_gone(h, XBT_NULL, "/t1/a/b/c");
	expect_gone(h, XBT_NULL, "/t1/a");
	assert_true(xs_rm(h, XBT_NULL, "/t1/a"));
	errno = 0;
	assert_false(xs_rm(h, XBT_NULL, "/t1/a/b"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_false(xs_rm(h, XBT_NULL, "/"));
	assert_int_equal(errno, EINVAL);
	/* Relative paths are dom0's (a socket client's home). */
	assert_true(xs_write(h, XBT_NULL, "rel/key", "r", 1));
	expect_val(h, XBT_NULL, "/local/domain/0/rel/key", "r");
	assert_true(xs_rm(h, XBT_NULL, "/t1"));
	xs_close(h);
}

static void test_xenstore_directory_past_4k_pages(void **state)
{
	struct xs_handle *h = open_xs();
	char path[128];
	/* 300 children of 20-odd bytes: about 7 KiB of names, past one message. */
	for (unsigned i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/big/child-with-a-long-name-%04u", i);
		assert_true(xs_write(h, XBT_NULL, path, "", 0));
	}
	unsigned n = 0;
	char **d = xs_directory(h, XBT_NULL, "/big", &n);
	assert_non_null(d);
	assert_int_equal(n, 300);
	for (unsigned i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "child-with-a-long-name-%04u", i);
		assert_string_equal(d[i], path);
	}
	free(d);
	assert_true(xs_rm(h, XBT_NULL, "/big"));
	xs_close(h);
}

/* The next watch event: its path and token. */
static void next_event(struct xs_handle *h, const char *path, const char *token)
{
	unsigned num = 0;
	char **ev = xs_read_watch(h, &num);
	assert_non_null(ev);
	assert_true(num >= 2);
	assert_string_equal(ev[XS_WATCH_PATH], path);
	assert_string_equal(ev[XS_WATCH_TOKEN], token);
	free(ev);
}

static void no_event(struct xs_handle *h)
{
	usleep(50000); /* an event would have arrived by now */
	errno = 0;
	char **ev = xs_check_watch(h);
	if (ev)
		fail_msg("unexpected event %s %s", ev[0], ev[1]);
	assert_int_equal(errno, EAGAIN);
}

static void test_xenstore_watches_and_events(void **state)
{
	struct xs_handle *h = open_xs(), *w = open_xs();
	assert_true(xs_mkdir(h, XBT_NULL, "/wt/sub"));
	assert_true(xs_watch(w, "/wt", "tok"));
	next_event(w, "/wt", "tok"); /* the first event, at once */
	assert_true(xs_write(h, XBT_NULL, "/wt/sub/k", "1", 1));
	next_event(w, "/wt/sub/k", "tok");
	assert_true(xs_write(h, XBT_NULL, "/other", "1", 1));
	/* A watch below a removed node fires with its own path. */
	assert_true(xs_watch(w, "/wt/sub/k", "deep"));
	next_event(w, "/wt/sub/k", "deep");
	assert_true(xs_rm(h, XBT_NULL, "/wt/sub"));
	next_event(w, "/wt/sub", "tok");
	next_event(w, "/wt/sub/k", "deep");
	/* The same watch twice: EEXIST; unwatch of none: ENOENT. */
	errno = 0;
	assert_false(xs_watch(w, "/wt", "tok"));
	assert_int_equal(errno, EEXIST);
	assert_true(xs_unwatch(w, "/wt/sub/k", "deep"));
	errno = 0;
	assert_false(xs_unwatch(w, "/wt/sub/k", "deep"));
	assert_int_equal(errno, ENOENT);
	/* Relative watch, relative events. */
	assert_true(xs_watch(w, "dm/state", "rel"));
	next_event(w, "dm/state", "rel");
	assert_true(xs_write(h, XBT_NULL, "/local/domain/0/dm/state/x", "running", 7));
	next_event(w, "dm/state/x", "rel");
	/* Special watches fire once, at the start. */
	assert_true(xs_watch(w, "@releaseDomain", "rd"));
	next_event(w, "@releaseDomain", "rd");
	assert_true(xs_unwatch(w, "/wt", "tok"));
	assert_true(xs_unwatch(w, "dm/state", "rel"));
	assert_true(xs_write(h, XBT_NULL, "/wt/again", "1", 1));
	no_event(w);
	errno = 0;
	assert_false(xs_watch(w, "/bad//path", "t"));
	assert_int_equal(errno, EINVAL);
	xs_close(w);
	xs_close(h);
}

static void test_xenstore_transactions(void **state)
{
	struct xs_handle *h = open_xs(), *o = open_xs(), *w = open_xs();
	assert_true(xs_write(h, XBT_NULL, "/tx/base", "0", 1));
	assert_true(xs_watch(w, "/tx", "t"));
	next_event(w, "/tx", "t");
	/* Isolation, then commit: the events come at the commit. */
	xs_transaction_t t = xs_transaction_start(h);
	assert_int_not_equal(t, XBT_NULL);
	assert_true(xs_write(h, t, "/tx/in", "1", 1));
	expect_val(h, t, "/tx/in", "1");
	expect_gone(o, XBT_NULL, "/tx/in");
	no_event(w);
	assert_true(xs_transaction_end(h, t, false));
	expect_val(o, XBT_NULL, "/tx/in", "1");
	next_event(w, "/tx/in", "t");
	/* Abort: nothing happened. */
	t = xs_transaction_start(h);
	assert_true(xs_rm(h, t, "/tx/in"));
	expect_gone(h, t, "/tx/in");
	assert_true(xs_transaction_end(h, t, true));
	expect_val(o, XBT_NULL, "/tx/in", "1");
	no_event(w);
	/* Another write meanwhile: the commit gets EAGAIN and changes nothing. */
	t = xs_transaction_start(h);
	assert_true(xs_write(h, t, "/tx/base", "from-tx", 7));
	assert_true(xs_write(o, XBT_NULL, "/tx/other", "x", 1));
	next_event(w, "/tx/other", "t");
	errno = 0;
	assert_false(xs_transaction_end(h, t, false));
	assert_int_equal(errno, EAGAIN);
	expect_val(o, XBT_NULL, "/tx/base", "0");
	/* The transaction is gone after END, whatever its outcome. */
	errno = 0;
	assert_null(rd(h, t, "/tx/base"));
	assert_int_equal(errno, ENOENT);
	/* A read-only transaction commits. */
	t = xs_transaction_start(h);
	expect_val(h, t, "/tx/base", "0");
	assert_true(xs_transaction_end(h, t, false));
	assert_true(xs_rm(h, XBT_NULL, "/tx"));
	next_event(w, "/tx", "t");
	xs_close(w);
	xs_close(o);
	xs_close(h);
}

static void test_xenstore_permissions(void **state)
{
	struct xs_handle *h = open_xs();
	unsigned n = 0;
	struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, "/local/domain/7/name", &n);
	assert_non_null(p);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].id, 7); /* the domain owns its keys */
	assert_int_equal(p[0].perms, XS_PERM_NONE);
	free(p);
	assert_true(xs_write(h, XBT_NULL, "/perm/k", "1", 1));
	struct xs_permissions set[2] = { { .id = 0, .perms = XS_PERM_NONE },
					 { .id = 7, .perms = XS_PERM_READ | XS_PERM_WRITE } };
	assert_true(xs_set_permissions(h, XBT_NULL, "/perm/k", set, 2));
	p = xs_get_permissions(h, XBT_NULL, "/perm/k", &n);
	assert_non_null(p);
	assert_int_equal(n, 2);
	assert_int_equal(p[1].id, 7);
	assert_int_equal(p[1].perms, XS_PERM_READ | XS_PERM_WRITE);
	free(p);
	errno = 0;
	assert_false(xs_set_permissions(h, XBT_NULL, "/perm/none", set, 2));
	assert_int_equal(errno, ENOENT);
	assert_true(xs_rm(h, XBT_NULL, "/perm"));
	xs_close(h);
}

static void test_xenstore_control(void **state)
{
	struct xs_handle *h = open_xs();
	char *r = xs_control_command(h, "help", NULL, 0);
	assert_non_null(r);
	assert_non_null(strstr(r, "check"));
	free(r);
	r = xs_control_command(h, "check", NULL, 0);
	assert_non_null(r);
	assert_string_equal(r, "OK");
	free(r);
	r = xs_control_command(h, "print", "hello", 6);
	assert_non_null(r);
	free(r);
	errno = 0;
	assert_null(xs_control_command(h, "no-such-command", NULL, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_false(xs_release_domain(h, DOMID));
	assert_int_equal(errno, ENOSYS);
	xs_close(h);
}

/* R4: each limit answers its errno and changes nothing. */
static void test_xenstore_limits_r4(void **state)
{
	struct xs_handle *h = open_xs();
	static char big[XS_MAX_VALUE + 1];
	memset(big, 'v', sizeof(big));
	assert_true(xs_write(h, XBT_NULL, "/lim/ok", big, XS_MAX_VALUE));
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, "/lim/big", big, XS_MAX_VALUE + 1));
	assert_int_equal(errno, ENOSPC);
	expect_gone(h, XBT_NULL, "/lim/big");
	/* Paths: characters, empty components, depth, length. */
	const char *bad[] = { "/lim/a b", "/lim//x", "/lim/x/", "/lim/\x01", "" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_false(xs_write(h, XBT_NULL, bad[i], "1", 1));
		assert_int_equal(errno, EINVAL);
	}
	char deep[512] = "/lim";
	for (unsigned i = 0; i < XS_MAX_DEPTH; i++)
		strcat(deep, "/d");
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, deep, "1", 1));
	assert_int_equal(errno, EINVAL);
	static char longp[IOREQVM_XS_ABS_PATH_MAX + 16];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[IOREQVM_XS_ABS_PATH_MAX + 1] = 0;
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, longp, "1", 1));
	assert_int_equal(errno, EINVAL);
	/* Watches per client (on a client of their own: the fill below would fire them all). */
	struct xs_handle *w = open_xs();
	char tok[16];
	for (unsigned i = 0; i < XS_MAX_WATCHES; i++) {
		snprintf(tok, sizeof(tok), "w%u", i);
		assert_true(xs_watch(w, "/lim", tok));
	}
	errno = 0;
	assert_false(xs_watch(w, "/lim", "one-more"));
	assert_int_equal(errno, E2BIG);
	xs_close(w);
	/* Open transactions per client. */
	xs_transaction_t t[XS_MAX_CLIENT_TX];
	for (unsigned i = 0; i < XS_MAX_CLIENT_TX; i++)
		assert_int_not_equal(t[i] = xs_transaction_start(h), XBT_NULL);
	errno = 0;
	assert_int_equal(xs_transaction_start(h), XBT_NULL);
	assert_int_equal(errno, ENOSPC);
	for (unsigned i = 0; i < XS_MAX_CLIENT_TX; i++)
		assert_true(xs_transaction_end(h, t[i], true));
	/* Nodes: fill the tree to its bound, then one more fails whole. */
	uint32_t room = XS_MAX_NODES - server.svc.tree.nodes - 1; /* "/lim/n" itself */
	assert_true(xs_mkdir(h, XBT_NULL, "/lim/n"));
	char path[64];
	for (uint32_t i = 0; i < room; i++) {
		snprintf(path, sizeof(path), "/lim/n/%u", i);
		assert_true(xs_write(h, XBT_NULL, path, "", 0));
	}
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, "/lim/n/x", "", 0));
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_false(xs_write(h, XBT_NULL, "/lim/more/a/b", "", 0));
	assert_int_equal(errno, ENOSPC);
	expect_gone(h, XBT_NULL, "/lim/more");
	char *ok = xs_control_command(h, "check", NULL, 0); /* the accounting still matches */
	assert_non_null(ok);
	free(ok);
	assert_true(xs_rm(h, XBT_NULL, "/lim"));
	xs_close(h);
}

/* A raw client: connected to the socket, speaking the wire format itself. */
static int raw_open(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", server.path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
	struct ioreqvm_xs_msg h = { .type = type, .req_id = 42, .tx_id = tx, .len = len };
	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	if (len)
		assert_int_equal(write(fd, p, len), (ssize_t)len);
}

/* The next answer (events skipped): its type and payload (NUL added). */
static uint32_t raw_answer(int fd, char *buf, size_t cap)
{
	for (;;) {
		struct ioreqvm_xs_msg h;
		assert_int_equal(recv(fd, &h, sizeof(h), MSG_WAITALL), sizeof(h));
		assert_true(h.len < cap);
		if (h.len)
			assert_int_equal(recv(fd, buf, h.len, MSG_WAITALL), (ssize_t)h.len);
		buf[h.len] = 0;
		if (h.type == IOREQVM_XS_WATCH_EVENT)
			continue;
		assert_int_equal(h.req_id, 42);
		return h.type;
	}
}

static void test_xenstore_malformed_messages_r1(void **state)
{
	char buf[IOREQVM_XS_PAYLOAD_MAX + 1];
	int fd = raw_open();
	/* A path without its NUL. */
	raw_send(fd, IOREQVM_XS_READ, 0, "/local", 6);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	assert_string_equal(buf, "EINVAL");
	/* Two paths where one is expected. */
	raw_send(fd, IOREQVM_XS_READ, 0, "/a\0/b", 6);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	assert_string_equal(buf, "EINVAL");
	/* Unknown types, and ones only the server sends. */
	raw_send(fd, 99, 0, "", 0);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	raw_send(fd, IOREQVM_XS_WATCH_EVENT, 0, "/a", 3);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	/* A transaction that is not ours. */
	raw_send(fd, IOREQVM_XS_READ, 12345, "/local", 7);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	assert_string_equal(buf, "ENOENT");
	/* Bad permissions and domids. */
	raw_send(fd, IOREQVM_XS_SET_PERMS, 0, "/local\0x9", 9);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	assert_string_equal(buf, "EINVAL");
	raw_send(fd, IOREQVM_XS_GET_DOMAIN_PATH, 0, "70000", 6);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	/* RESET_WATCHES: answered OK, watches gone. */
	raw_send(fd, IOREQVM_XS_WATCH, 0, "/local\0tk", 10);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_WATCH);
	raw_send(fd, IOREQVM_XS_RESET_WATCHES, 0, "", 1);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_RESET_WATCHES);
	assert_string_equal(buf, "OK");
	raw_send(fd, IOREQVM_XS_UNWATCH, 0, "/local\0tk", 10);
	assert_int_equal(raw_answer(fd, buf, sizeof(buf)), IOREQVM_XS_ERROR);
	assert_string_equal(buf, "ENOENT");
	/* A header past the bound: dropped; another client is still served. */
	struct ioreqvm_xs_msg h = { .type = IOREQVM_XS_READ, .len = IOREQVM_XS_PAYLOAD_MAX + 1 };
	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	assert_int_equal(recv(fd, buf, 1, 0), 0); /* closed by the server */
	close(fd);
	struct xs_handle *x = open_xs();
	expect_val(x, XBT_NULL, "/local/domain/7/greeting", "hello");
	xs_close(x);
}

/* R5: another user reaches neither the directory nor, were it open, the service. */
static void test_xenstore_other_user_refused_r5(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "not root: cannot try another uid\n");
		return;
	}
	for (int open_perms = 0; open_perms < 2; open_perms++) {
		if (open_perms) { /* past the file modes: the peer check alone */
			assert_int_equal(chmod(tmpdir, 0755), 0);
			assert_int_equal(chmod(server.dir, 0755), 0);
			assert_int_equal(chmod(server.path, 0666), 0);
		}
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(3);
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", server.path);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(errno == EACCES ? 10 : 4);
			struct ioreqvm_xs_msg h = { .type = IOREQVM_XS_READ, .len = 7 };
			char buf[64];
			if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h) ||
			    send(fd, "/local", 7, MSG_NOSIGNAL) != 7)
				_exit(11); /* closed before the request went out: refused */
			_exit(recv(fd, buf, sizeof(buf), 0) <= 0 ? 11 : 5); /* closed, no answer */
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), open_perms ? 11 : 10);
	}
	assert_int_equal(chmod(tmpdir, 0700), 0);
	assert_int_equal(chmod(server.dir, 0700), 0);
	assert_int_equal(chmod(server.path, 0600), 0);
}

/* R1: a client that asks and never reads is dropped past the output bound; others go on. */
static void test_xenstore_client_not_reading_dropped_r1(void **state)
{
	struct xs_handle *h = open_xs();
	char path[128];
	for (unsigned i = 0; i < 100; i++) { /* a directory whose list is 3.7 KiB */
		snprintf(path, sizeof(path), "/slow/child-with-a-rather-long-name-%04u", i);
		assert_true(xs_write(h, XBT_NULL, path, "", 0));
	}
	int fd = raw_open();
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct timeval tv = { .tv_sec = 20 }; /* a failure, not a hang, if it is never dropped */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * 600 asks of 3.7 KiB answers: well past XS_MAX_QUEUED_BYTES and any
	 * socket buffer. The drop may come while they still go out (EPIPE).
	 */
	unsigned sent = 0;
	for (; sent < 600; sent++) {
		struct {
			struct ioreqvm_xs_msg h;
			char p[6];
		} __attribute__((packed)) m = { { .type = IOREQVM_XS_DIRECTORY, .len = 6 }, "/slow" };
		if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
			break;
	}
	assert_true(sent > 256); /* 256 answers fill the bound */
	expect_val(h, XBT_NULL, "/local/domain/7/greeting", "hello"); /* served meanwhile */
	/* Its socket ends once the answers queued before the drop are read. */
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	assert_true(total < 600 * 3700); /* not all of them: dropped on the way */
	close(fd);
	assert_true(xs_rm(h, XBT_NULL, "/slow"));
	xs_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xenstore_socket_0600_in_0700_dir_r5),
		cmocka_unit_test(test_xenstore_seeded_keys_and_read),
		cmocka_unit_test(test_xenstore_write_mkdir_directory_rm),
		cmocka_unit_test(test_xenstore_directory_past_4k_pages),
		cmocka_unit_test(test_xenstore_watches_and_events),
		cmocka_unit_test(test_xenstore_transactions),
		cmocka_unit_test(test_xenstore_permissions),
		cmocka_unit_test(test_xenstore_control),
		cmocka_unit_test(test_xenstore_limits_r4),
		cmocka_unit_test(test_xenstore_malformed_messages_r1),
		cmocka_unit_test(test_xenstore_other_user_refused_r5),
		cmocka_unit_test(test_xenstore_client_not_reading_dropped_r1),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
