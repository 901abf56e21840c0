/* SPDX-License-Identifier: MIT */
/*
 * Hostile peers on the control socket (issue 15; DESIGN R1, R2, R4, R5),
 * through the real socket of a real VM (argv: BACKEND IMAGE):
 *  - a client that never reads its replies: others are still answered, it
 *    is dropped with its servers, and stopping the control plane returns;
 *  - a long change held on the worker: other connections are answered;
 *  - server ids: 65534 create/destroy cycles never hand out a live id, and
 *    the attacker's disconnect leaves the victim's claim alone;
 *  - the guest-RAM memfd takes no new seal, so every model can map RAM;
 *  - a zero-length message is refused and the connection kept; the 65th
 *    connection learns why it was refused (EMFILE, too many connections).
 * A guest runs all along (the p2m guest hammering a page at CPL3).
 * Every wait on the VMM has a deadline: a hang fails the test, never stalls it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/ctl_server.h"
#include "harness.h"
#include "libioreq.h"
#include "p2m/p2m.h"

static const char *backend, *image;
static struct harness h;
static struct ctl_server cs;
static bool cs_started;
static char path[108];

static int setup(void **state)
{
	char err[256];
	snprintf(path, sizeof(path), "/tmp/ioreqvm-hostile-%d.sock", (int)getpid());
	/* The p2m guest hammers frame 0x601 at CPL3 all along. */
	if (harness_create(&h, backend, image, "hammer", 1, 64 << 20) || harness_start(&h))
		return -1;
	if (ctl_server_start(&cs, &h.vm, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	cs_started = true;
	return 0;
}

static int teardown(void **state)
{
	if (cs_started)
		ctl_server_stop(&cs);
	harness_destroy(&h);
	return 0;
}

static int raw_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Every read below has a deadline: a VMM that stopped answering fails. */
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static struct ioreqvm_ctl_req req_of(uint16_t op, uint32_t len, uint32_t seq)
{
	return (struct ioreqvm_ctl_req){ .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
					 .op = op, .seq = seq, .len = len };
}

/* Send a request with @len payload bytes; receive its reply (up to 1 fd). */
static int32_t raw_call(int fd, uint16_t op, const void *payload, uint32_t len, void *out,
			size_t out_len, int *rfd, char *msg)
{
	uint8_t m[sizeof(struct ioreqvm_ctl_req) + 64];
	struct ioreqvm_ctl_req h0 = req_of(op, len, 7);
	memcpy(m, &h0, sizeof(h0));
	if (len)
		memcpy(m + sizeof(h0), payload, len);
	assert_int_equal(send(fd, m, sizeof(h0) + len, 0), (ssize_t)(sizeof(h0) + len));
	static uint8_t buf[sizeof(struct ioreqvm_ctl_rep) + IOREQVM_CTL_MAX_PAYLOAD];
	union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int) * 4)]; } cb;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	assert_true(n >= (ssize_t)sizeof(struct ioreqvm_ctl_rep)); /* no timeout, no EOF */
	struct ioreqvm_ctl_rep r;
	memcpy(&r, buf, sizeof(r));
	assert_int_equal(r.magic, IOREQVM_CTL_MAGIC);
	if (msg)
		snprintf(msg, 128, "%s", r.msg);
	if (out)
		memcpy(out, buf + sizeof(r), out_len < r.len ? out_len : r.len);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (rfd)
		*rfd = -1;
	if (cm && cm->cmsg_type == SCM_RIGHTS) {
		int got;
		memcpy(&got, CMSG_DATA(cm), sizeof(int));
		if (rfd)
			*rfd = got;
		else
			close(got);
	}
	return r.result;
}

static bool server_listed(uint16_t id)
{
	struct ioreqvm_op_server_list l;
	ioreq_servers_list(&h.vm.servers, &l);
	for (unsigned i = 0; i < l.nr; i++)
		if (l.server[i].id == id)
			return true;
	return false;
}

/*
 * Issue 15 item 1 (R1, R2): a client sends 300 LIST_SERVERS and reads
 * nothing. Another connection is answered all along; the reader-less one
 * is dropped once it leaves more replies unread than the limit, and its
 * server goes with it. (On e7e7b56 the control thread blocked in sendmsg:
 * the second connection got no answer and stop never returned.)
 */
static void test_r1_client_that_never_reads_is_dropped_others_answered(void **state)
{
	int stuck = raw_connect();
	uint8_t id_rep[8];
	struct ioreqvm_op_create cr = { 0 };
	assert_int_equal(raw_call(stuck, IOREQVM_OP_CREATE_IOREQ_SERVER, &cr, sizeof(cr), id_rep,
				  sizeof(id_rep), NULL, NULL), 0);
	uint16_t stuck_id = ((struct ioreqvm_op_server_id *)id_rep)->id;
	assert_true(server_listed(stuck_id));
	fcntl(stuck, F_SETFL, O_NONBLOCK);
	struct ioreqvm_ctl_req l = req_of(IOREQVM_OP_LIST_SERVERS, 0, 1);
	unsigned sent = 0;
	for (unsigned i = 0; i < 300; i++) {
		if (send(stuck, &l, sizeof(l), MSG_NOSIGNAL) != (ssize_t)sizeof(l))
			break; /* our send buffer is full, or we were dropped */
		sent++;
		/* Another connection is answered while the stuck one piles up. */
		if (i % 50 == 49) {
			struct libioreq *other;
			assert_int_equal(libioreq_connect(path, &other), 0);
			struct ioreqvm_op_vm_info info;
			assert_int_equal(libioreq_vm_info(other, &info), 0);
			libioreq_close(other);
		}
	}
	fprintf(stderr, "sent %u unread requests\n", sent);
	assert_true(sent > CTL_MAX_QUEUED_REPLIES);
	/* Dropped, with its server (I5): poll the server table, 10 s at most. */
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; i++) {
		gone = !server_listed(stuck_id);
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
	/* The socket says so too: after the replies it got, a hang-up. */
	struct pollfd p = { .fd = stuck, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & (POLLHUP | POLLIN));
	close(stuck);
	struct libioreq *other;
	assert_int_equal(libioreq_connect(path, &other), 0);
	libioreq_close(other);
}

/*
 * Issue 15 item 1, the stop: with a client that reads nothing connected
 * (and under its limit), ctl_server_stop returns. A thread does the stop
 * so that a hang fails the test by its deadline.
 */
static void *stop_thread(void *arg)
{
	ctl_server_stop(&cs);
	*(volatile bool *)arg = true;
	return NULL;
}

static void test_r1_stop_returns_with_a_stuck_client(void **state)
{
	int stuck = raw_connect();
	fcntl(stuck, F_SETFL, O_NONBLOCK);
	struct ioreqvm_ctl_req l = req_of(IOREQVM_OP_LIST_SERVERS, 0, 1);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(send(stuck, &l, sizeof(l), MSG_NOSIGNAL), (ssize_t)sizeof(l));
	usleep(100000);
	volatile bool done = false;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stop_thread, (void *)&done), 0);
	for (int i = 0; i < 300 && !done; i++)
		usleep(10000);
	assert_true(done); /* within 3 s */
	pthread_join(t, NULL);
	close(stuck);
	char err[256];
	assert_int_equal(ctl_server_start(&cs, &h.vm, path, err, sizeof(err)), 0);
}

/*
 * Issue 15 item 5 (R1): while the worker is held inside a change (here: the
 * P2M writer lock taken by the test, as a change over 20000 runs holds it),
 * other connections are answered: info, server lists, type lookups. The
 * held request is answered once the lock is free.
 */
static void test_r1_long_change_other_connections_answered(void **state)
{
	int a = raw_connect(), b = raw_connect(); /* b's reads time out after 10 s */
	pthread_mutex_lock(&h.vm.p2m.lock);
	struct { struct ioreqvm_ctl_req h; struct ioreqvm_op_set_mem_type r; } m = {
		.h = req_of(IOREQVM_OP_SET_MEM_TYPE, sizeof(struct ioreqvm_op_set_mem_type), 9),
		.r = { .mem_type = IOREQVM_MEM_RAM_RO, .first_pfn = 0x3000, .nr = 2 },
	};
	assert_int_equal(send(a, &m, sizeof(m), 0), (ssize_t)sizeof(m));
	usleep(50000); /* the worker now waits for the lock */
	struct ioreqvm_op_vm_info info;
	struct ioreqvm_op_server_list sl;
	struct ioreqvm_op_get_mem_type gq = { .pfn = 0x3000 };
	struct ioreqvm_op_mem_type t;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(raw_call(b, IOREQVM_OP_VM_INFO, NULL, 0, &info, sizeof(info), NULL,
					  NULL), 0);
		assert_int_equal(info.nr_vcpus, 1);
		assert_int_equal(raw_call(b, IOREQVM_OP_LIST_SERVERS, NULL, 0, &sl, sizeof(sl), NULL,
					  NULL), 0);
		assert_int_equal(raw_call(b, IOREQVM_OP_GET_MEM_TYPE, &gq, sizeof(gq), &t, sizeof(t),
					  NULL, NULL), 0);
		assert_int_equal(t.mem_type, IOREQVM_MEM_RAM_RW); /* not changed yet */
	}
	struct pollfd p = { .fd = a, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0); /* the held request has no answer yet */
	pthread_mutex_unlock(&h.vm.p2m.lock);
	struct ioreqvm_ctl_rep r;
	assert_int_equal(recv(a, &r, sizeof(r), 0), (ssize_t)sizeof(r));
	assert_int_equal(r.result, 0);
	assert_int_equal(r.seq, 9);
	gq.pfn = 0x3001;
	assert_int_equal(raw_call(b, IOREQVM_OP_GET_MEM_TYPE, &gq, sizeof(gq), &t, sizeof(t), NULL,
				  NULL), 0);
	assert_int_equal(t.mem_type, IOREQVM_MEM_RAM_RO);
	m.r.mem_type = IOREQVM_MEM_RAM_RW;
	assert_int_equal(raw_call(a, IOREQVM_OP_SET_MEM_TYPE, &m.r, sizeof(m.r), NULL, 0, NULL,
				  NULL), 0);
	close(b);
	close(a);
}

/*
 * Issue 15 item 4 (R5, C3): a victim holds server V with a claim on type 4
 * over one page. An attacker creates and destroys servers 65534 times (the
 * whole id space, so ids wrap): no id it gets is ever a live server's, the
 * server table never lists two servers with one id, and when the attacker
 * disconnects the victim's claim and page type stay.
 */
static void test_r5_ids_wrap_never_to_a_live_server(void **state)
{
	struct libioreq *victim, *att;
	assert_int_equal(libioreq_connect(path, &victim), 0);
	assert_int_equal(libioreq_connect(path, &att), 0);
	uint16_t v;
	assert_int_equal(libioreq_create_ioreq_server(victim, false, &v), 0);
	assert_int_equal(libioreq_set_ioreq_server_state(victim, v, true), 0);
	assert_int_equal(libioreq_map_mem_type_to_ioreq_server(victim, v, IOREQVM_MEM_IOREQ_SERVER,
							       IOREQVM_MEM_ACCESS_WRITE), 0);
	assert_int_equal(libioreq_set_mem_type(victim, IOREQVM_MEM_IOREQ_SERVER, 0x3100, 1), 0);
	uint16_t keep;
	assert_int_equal(libioreq_create_ioreq_server(att, false, &keep), 0);
	unsigned wrapped = 0;
	uint16_t prev = keep;
	for (unsigned i = 0; i < 65534; i++) {
		uint16_t id;
		assert_int_equal(libioreq_create_ioreq_server(att, false, &id), 0);
		assert_int_not_equal(id, v);
		assert_int_not_equal(id, keep);
		assert_int_not_equal(id, 0);
		assert_int_not_equal(id, 0xffff);
		if (id < prev)
			wrapped++;
		prev = id;
		assert_int_equal(libioreq_destroy_ioreq_server(att, id), 0);
	}
	assert_true(wrapped >= 1);
	struct ioreqvm_op_server_list l;
	assert_int_equal(libioreq_list_servers(victim, &l), 0);
	for (unsigned i = 0; i < l.nr; i++)
		for (unsigned j = i + 1; j < l.nr; j++)
			assert_int_not_equal(l.server[i].id, l.server[j].id);
	libioreq_close(att);
	for (int i = 0; i < 500 && server_listed(keep); i++)
		usleep(10000);
	assert_false(server_listed(keep));
	/* The victim's claim and page are untouched by the attacker's end. */
	struct p2m_claim c = p2m_get_claim(&h.vm.p2m, IOREQVM_MEM_IOREQ_SERVER);
	assert_int_equal(c.server, v);
	assert_int_equal(c.flags, IOREQVM_MEM_ACCESS_WRITE);
	uint16_t t;
	assert_int_equal(libioreq_get_mem_type(victim, 0x3100, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_IOREQ_SERVER);
	libioreq_close(victim);
	for (int i = 0; i < 500 && server_listed(v); i++)
		usleep(10000);
	assert_int_equal(p2m_get_claim(&h.vm.p2m, IOREQVM_MEM_IOREQ_SERVER).flags, 0);
}

/*
 * Issue 15 item 6 (R2): the guest-RAM memfd a model receives takes no new
 * seal (F_SEAL_FUTURE_WRITE would stop every later model from mapping RAM
 * writable); a second model then maps RAM and sees the first one's write.
 */
static void test_r2_guest_memory_fd_cannot_be_sealed(void **state)
{
	int a = raw_connect();
	int memfd = -1;
	struct ioreqvm_op_guest_memory g;
	assert_int_equal(raw_call(a, IOREQVM_OP_MAP_GUEST_MEMORY, NULL, 0, &g, sizeof(g), &memfd,
				  NULL), 0);
	assert_true(memfd >= 0);
	assert_int_equal(fcntl(memfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_true(fcntl(memfd, F_GET_SEALS) & F_SEAL_SEAL);
	volatile uint64_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0x3200000);
	assert_true(p != MAP_FAILED);
	*p = 0x5ea15ea1;
	munmap((void *)p, 4096);
	close(memfd);
	close(a);
	struct libioreq *b;
	struct libioreq_guest_memory *m;
	assert_int_equal(libioreq_connect(path, &b), 0);
	assert_int_equal(libioreq_map_guest_memory(b, &m), 0);
	volatile uint64_t *q = libioreq_guest_ptr(m, 0x3200000, 8);
	assert_non_null(q);
	assert_int_equal(*q, 0x5ea15ea1);
	*q = 0;
	libioreq_unmap_guest_memory(m);
	libioreq_close(b);
}

/*
 * Issue 15 item 8 (R1, R4): a zero-length message is a bad message: an
 * error reply and the connection kept (it was taken for end-of-file). The
 * 65th connection is refused with the VMM's reason, EMFILE.
 */
static void test_r1_empty_message_refused_connection_kept(void **state)
{
	int a = raw_connect();
	assert_int_equal(send(a, "", 0, 0), 0);
	struct ioreqvm_ctl_rep r;
	assert_int_equal(recv(a, &r, sizeof(r), 0), (ssize_t)sizeof(r));
	assert_int_equal(r.result, -EINVAL);
	assert_non_null(strstr(r.msg, "empty message"));
	struct ioreqvm_op_vm_info info;
	assert_int_equal(raw_call(a, IOREQVM_OP_VM_INFO, NULL, 0, &info, sizeof(info), NULL, NULL), 0);
	assert_int_equal(info.nr_vcpus, 1);
	close(a);
}

static void test_r4_connection_limit_says_why(void **state)
{
	int fds[CTL_MAX_CONNS];
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		fds[i] = raw_connect();
		struct ioreqvm_op_vm_info info; /* accepted and served */
		assert_int_equal(raw_call(fds[i], IOREQVM_OP_VM_INFO, NULL, 0, &info, sizeof(info),
					  NULL, NULL), 0);
	}
	struct libioreq *x = NULL;
	int crc = libioreq_connect(path, &x);
	fprintf(stderr, "65th connect: %d: %s\n", crc, libioreq_error(NULL));
	assert_int_equal(crc, -EMFILE);
	assert_non_null(strstr(libioreq_error(NULL), "too many control connections"));
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
		close(fds[i]);
	/* Room again once they are gone. */
	int rc = -1;
	for (int i = 0; i < 500 && rc; i++) {
		rc = libioreq_connect(path, &x);
		if (rc)
			usleep(10000);
	}
	assert_int_equal(rc, 0);
	libioreq_close(x);
}

int main(int argc, char **argv)
{
	harness_args(argc, argv, &backend, &image);
	fprintf(stderr, "backend: %s\n", backend);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r1_client_that_never_reads_is_dropped_others_answered),
		cmocka_unit_test(test_r1_stop_returns_with_a_stuck_client),
		cmocka_unit_test(test_r1_long_change_other_connections_answered),
		cmocka_unit_test(test_r5_ids_wrap_never_to_a_live_server),
		cmocka_unit_test(test_r2_guest_memory_fd_cannot_be_sealed),
		cmocka_unit_test(test_r1_empty_message_refused_connection_kept),
		cmocka_unit_test(test_r4_connection_limit_says_why),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
