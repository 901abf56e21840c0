/* SPDX-License-Identifier: MIT */
/*
 * libxenevtchn's event semantics (DESIGN X2; compat/xen/evtchn.c and
 * evtchn_events.c, built into this test) with this test as ioreqvm: fake
 * IOREQ servers whose shared memory and event fd the test owns, requests
 * published in a slot as ioreq_send does (req_seq, READY, a write of the
 * event fd), posted writes as try_post does; the connection is a
 * socketpair the test can close. What a model sees is checked through the
 * library's calls and poll() on its fd:
 *  - a vCPU's port fires once per request, masked until unmask; a request
 *    arriving while masked fires at the unmask, never before (the fd stays
 *    unreadable); a request waiting at bind time fires at once;
 *  - the ring's port fires for posted writes, and again for posts made
 *    while it was masked;
 *  - two handles with ports of one server: each fd readable only for its
 *    own ports; fdopen of a handle's fd shares its ports;
 *  - pending() blocks until an event, O_NONBLOCK gives EAGAIN;
 *  - notify on a vCPU's port wakes the vCPU sleeping on its slot;
 *  - the connection closing fires VIRQ_DOM_EXC;
 *  - errors as Linux's evtchn driver and Xen give them.
 * Deterministic where it can be: the test runs the library's look at the
 * servers itself (evtchn_service) before asserting an fd is not readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "evtchn_priv.h"

#define DOMID 1
#define NR_VCPUS 2

/* ---- the fakes of ioreqvm_xen.h the library calls -------------------------- */

struct libioreq {
	int fd;
};
static struct libioreq conn = { .fd = -1 };
static int conn_peer = -1;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned ready_calls;

#define NR_FAKE 3
static struct ioreqvm_xen_server fake[NR_FAKE]; /* ids 1 (no ring), 2 (ring), 3 (ring) */

int ioreqvm_xen_connect(void)
{
	return 0;
}

int ioreqvm_xen_lock(struct libioreq **out)
{
	pthread_mutex_lock(&conn_lock);
	*out = &conn;
	return 0;
}

void ioreqvm_xen_unlock(void)
{
	pthread_mutex_unlock(&conn_lock);
}

uint32_t ioreqvm_xen_domid(void)
{
	return DOMID;
}

int ioreqvm_xen_ready(void)
{
	__atomic_fetch_add(&ready_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

int libioreq_connection_fd(const struct libioreq *x)
{
	return x->fd;
}

int ioreqvm_xen_server_get(uint16_t id, struct ioreqvm_xen_server **out)
{
	if (id < 1 || id > NR_FAKE)
		return -ENOENT;
	*out = &fake[id - 1];
	__atomic_fetch_add(&fake[id - 1].refs, 1, __ATOMIC_RELAXED);
	return 0;
}

void ioreqvm_xen_server_hold(struct ioreqvm_xen_server *s)
{
	__atomic_fetch_add(&s->refs, 1, __ATOMIC_RELAXED);
}

void ioreqvm_xen_server_put(struct ioreqvm_xen_server *s)
{
	__atomic_fetch_sub(&s->refs, 1, __ATOMIC_RELAXED);
}

/* ---- this test as ioreqvm ---------------------------------------------------- */

static void make_server(struct ioreqvm_xen_server *s, uint16_t id, bool ring)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->bufioreq = ring;
	s->nr_vcpus = NR_VCPUS;
	s->shm_fd = -1;
	s->evt_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(s->evt_fd >= 0);
	s->shm = mmap(NULL, IOREQVM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s->shm != MAP_FAILED);
	s->slots = (struct ioreqvm_ioreq *)(s->shm + IOREQVM_SHM_IOREQ_OFFSET);
	s->buf = (struct ioreqvm_buffered_iopage *)(s->shm + IOREQVM_SHM_BUFIOREQ_OFFSET);
	s->notify = (struct ioreqvm_notify *)(s->shm + IOREQVM_SHM_NOTIFY_OFFSET);
	for (unsigned v = 0; v < NR_VCPUS; v++)
		s->slots[v].vp_eport = IOREQVM_VCPU_EVTCHN(id, v);
}

static int setup(void **state)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	conn.fd = sv[0];
	conn_peer = sv[1];
	make_server(&fake[0], 1, false);
	make_server(&fake[1], 2, true);
	make_server(&fake[2], 3, true);
	return 0;
}

static uint32_t seq_counter;

/* A request in vCPU @v's slot, as ioreq_send publishes it, then the event fd written. */
static void vmm_request(struct ioreqvm_xen_server *s, unsigned v, uint64_t addr)
{
	struct ioreqvm_ioreq *slot = &s->slots[v];
	slot->addr = addr;
	slot->size = 4;
	slot->count = 1;
	__atomic_store_n(&s->notify->vcpu[v].req_seq, ++seq_counter, __ATOMIC_RELAXED);
	ioreqvm_ioreq_publish(slot, IOREQVM_STATE_IOREQ_READY, IOREQVM_IOREQ_READ);
	uint64_t one = 1;
	assert_int_equal(write(s->evt_fd, &one, sizeof(one)), sizeof(one));
}

/* The model's answer, as a Xen model writes it, and ioreqvm taking it (state back to NONE). */
static void model_answer(struct ioreqvm_xen_server *s, unsigned v)
{
	ioreqvm_ioreq_set_state(&s->slots[v], IOREQVM_STATE_IORESP_READY);
}

static void vmm_take(struct ioreqvm_xen_server *s, unsigned v)
{
	assert_int_equal(ioreqvm_ioreq_state(&s->slots[v]), IOREQVM_STATE_IORESP_READY);
	ioreqvm_ioreq_set_state(&s->slots[v], IOREQVM_STATE_IOREQ_NONE);
}

/* A posted write, as try_post appends it. */
static void vmm_post(struct ioreqvm_xen_server *s, uint32_t data)
{
	uint32_t wp = s->buf->write_pointer;
	s->buf->buf_ioreq[wp % IOREQVM_BUF_SLOTS] = (struct ioreqvm_buf_ioreq){
		.type = IOREQVM_IOREQ_TYPE_PIO, .size = 2, .addr = 0x520, .data = data };
	__atomic_store_n(&s->buf->write_pointer, wp + 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	assert_int_equal(write(s->evt_fd, &one, sizeof(one)), sizeof(one));
}

/* The library looks now (what its helper thread does when woken). */
static void look(void)
{
	pthread_mutex_lock(&evtchn_lock);
	evtchn_service();
	pthread_mutex_unlock(&evtchn_lock);
}

static bool readable(xenevtchn_handle *h, int timeout_ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(h), .events = POLLIN };
	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static xenevtchn_handle *open_nonblocking(void)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	assert_non_null(h);
	int fd = xenevtchn_fd(h);
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	return h;
}

/* ---- tests ------------------------------------------------------------------- */

/*
 * X2: a vCPU's port fires once per request (the helper thread wakes on the
 * event fd); firing masks it: the next request, while masked, leaves the
 * fd unreadable and fires at the unmask. The fd is readable exactly while
 * a fired port waits.
 */
static void test_x2_vcpu_port_once_per_request_masked_until_unmask(void **state)
{
	struct ioreqvm_xen_server *s = &fake[0];
	xenevtchn_handle *h = open_nonblocking();
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 0));
	assert_true(p >= 1);
	look();
	assert_false(readable(h, 0));
	assert_int_equal(xenevtchn_pending(h), -1);
	assert_int_equal(errno, EAGAIN);

	vmm_request(s, 0, 0x510);
	assert_true(readable(h, 10000)); /* the helper thread's doing */
	assert_int_equal(xenevtchn_pending(h), p);
	assert_false(readable(h, 0));
	look();
	assert_false(readable(h, 0)); /* once per request */

	/* Answered, notified, taken; a new request while the port is still masked. */
	model_answer(s, 0);
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)p), 0);
	vmm_take(s, 0);
	vmm_request(s, 0, 0x514);
	look();
	assert_false(readable(h, 0));
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)p), 0);
	assert_true(readable(h, 0)); /* pending while masked: fires at the unmask */
	assert_int_equal(xenevtchn_pending(h), p);
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)p), 0);
	look();
	assert_false(readable(h, 0)); /* nothing new */
	model_answer(s, 0);
	vmm_take(s, 0);
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)p), 0);
	xenevtchn_close(h);
}

/* X2: a request already waiting when its port is bound fires at once. */
static void test_x2_request_waiting_at_bind_fires(void **state)
{
	struct ioreqvm_xen_server *s = &fake[0];
	vmm_request(s, 1, 0x518);
	xenevtchn_handle *h = open_nonblocking();
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 1));
	assert_true(p >= 1);
	assert_true(readable(h, 0));
	assert_int_equal(xenevtchn_pending(h), p);
	model_answer(s, 1);
	vmm_take(s, 1);
	xenevtchn_close(h);
}

/*
 * X2: the ring's port fires for posted writes; posts while it is masked
 * (the model drains, then unmasks, as QEMU) fire it again at the unmask.
 */
static void test_x2_ring_port_fires_for_posts(void **state)
{
	struct ioreqvm_xen_server *s = &fake[1];
	xenevtchn_handle *h = open_nonblocking();
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_BUF_EVTCHN(2));
	assert_true(p >= 1);
	assert_false(readable(h, 0));
	vmm_post(s, 1);
	vmm_post(s, 2);
	assert_true(readable(h, 10000));
	assert_int_equal(xenevtchn_pending(h), p);
	/* The model drains; meanwhile another post; then it unmasks. */
	s->buf->read_pointer = s->buf->write_pointer;
	vmm_post(s, 3);
	look();
	assert_false(readable(h, 0));
	xenevtchn_unmask(h, (evtchn_port_t)p);
	assert_true(readable(h, 0));
	assert_int_equal(xenevtchn_pending(h), p);
	s->buf->read_pointer = s->buf->write_pointer;
	xenevtchn_unmask(h, (evtchn_port_t)p);
	look();
	assert_false(readable(h, 0));
	/* Posts already in the ring when the port is bound fire it at once. */
	xenevtchn_close(h);
	vmm_post(s, 4);
	h = open_nonblocking();
	p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_BUF_EVTCHN(2));
	assert_true(readable(h, 0));
	assert_int_equal(xenevtchn_pending(h), p);
	s->buf->read_pointer = s->buf->write_pointer;
	xenevtchn_close(h);
}

/*
 * X2: two handles with ports of one server: each fd turns readable only
 * for its own port; a handle made by fdopen of one's fd shares its ports.
 */
static void test_x2_two_handles_each_only_its_ports(void **state)
{
	struct ioreqvm_xen_server *s = &fake[2];
	xenevtchn_handle *a = open_nonblocking(), *b = open_nonblocking();
	xenevtchn_port_or_error_t pa = xenevtchn_bind_interdomain(a, DOMID, IOREQVM_VCPU_EVTCHN(3, 0));
	xenevtchn_port_or_error_t pb = xenevtchn_bind_interdomain(b, DOMID, IOREQVM_VCPU_EVTCHN(3, 1));
	assert_true(pa >= 1 && pb >= 1 && pa != pb);
	vmm_request(s, 1, 0x520);
	assert_true(readable(b, 10000));
	look();
	assert_false(readable(a, 0));
	assert_int_equal(xenevtchn_pending(a), -1);
	assert_int_equal(errno, EAGAIN);
	xenevtchn_handle *b2 = xenevtchn_fdopen(NULL, xenevtchn_fd(b), 0);
	assert_non_null(b2);
	assert_int_equal(xenevtchn_pending(b2), pb); /* the same queue */
	assert_false(readable(b, 0));
	model_answer(s, 1);
	assert_int_equal(xenevtchn_notify(b2, (evtchn_port_t)pb), 0);
	assert_int_equal(xenevtchn_notify(a, (evtchn_port_t)pb), -1); /* not a's port */
	assert_int_equal(errno, ENOTCONN);
	vmm_take(s, 1);
	assert_int_equal(xenevtchn_close(b2), 0); /* b keeps the file */
	assert_int_equal(xenevtchn_unmask(b, (evtchn_port_t)pb), 0);
	vmm_request(s, 0, 0x524);
	assert_true(readable(a, 10000));
	look();
	assert_false(readable(b, 0));
	assert_int_equal(xenevtchn_pending(a), pa);
	model_answer(s, 0);
	vmm_take(s, 0);
	xenevtchn_close(a);
	xenevtchn_close(b);
	/* Closing unbound them: the remote ports bind again. */
	xenevtchn_handle *c = xenevtchn_open(NULL, 0);
	assert_true(xenevtchn_bind_interdomain(c, DOMID, IOREQVM_VCPU_EVTCHN(3, 0)) >= 1);
	assert_true(xenevtchn_bind_interdomain(c, DOMID, IOREQVM_VCPU_EVTCHN(3, 1)) >= 1);
	xenevtchn_close(c);
}

struct blocked {
	xenevtchn_handle *h;
	xenevtchn_port_or_error_t got;
	atomic_bool done;
};

static void *pend(void *arg)
{
	struct blocked *w = arg;
	w->got = xenevtchn_pending(w->h);
	atomic_store(&w->done, true);
	return NULL;
}

/* pending() blocks while nothing fired (a blocking fd), and returns the port when a request comes. */
static void test_x2_pending_blocks_until_a_request(void **state)
{
	struct ioreqvm_xen_server *s = &fake[0];
	struct blocked w = { .h = xenevtchn_open(NULL, 0) };
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(w.h, DOMID, IOREQVM_VCPU_EVTCHN(1, 0));
	assert_true(p >= 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, pend, &w), 0);
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	assert_false(atomic_load(&w.done)); /* nothing fired: still waiting */
	vmm_request(s, 0, 0x510);
	pthread_join(t, NULL);
	assert_int_equal(w.got, p);
	model_answer(s, 0);
	vmm_take(s, 0);
	xenevtchn_close(w.h);
}

struct sleeper {
	struct ioreqvm_xen_server *s;
	atomic_bool woken;
};

/* A vCPU waiting for its answer as ioreq_send does: vcpu_sleeping, then FUTEX_WAIT on the state word. */
static void *vcpu_sleep(void *arg)
{
	struct sleeper *z = arg;
	struct ioreqvm_ioreq *slot = &z->s->slots[1];
	uint32_t *word = (uint32_t *)((uint8_t *)slot + IOREQVM_IOREQ_STATE_WORD);
	__atomic_store_n(&z->s->notify->vcpu[1].vcpu_sleeping, 1, __ATOMIC_SEQ_CST);
	while (ioreqvm_ioreq_state(slot) != IOREQVM_STATE_IORESP_READY) {
		uint32_t w = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		if (ioreqvm_ioreq_state(slot) == IOREQVM_STATE_IORESP_READY)
			break;
		struct timespec ts = { 30, 0 }; /* a guard only: notify must wake it */
		syscall(SYS_futex, word, FUTEX_WAIT, w, &ts, NULL, 0);
	}
	__atomic_store_n(&z->s->notify->vcpu[1].vcpu_sleeping, 0, __ATOMIC_RELAXED);
	atomic_store(&z->woken, true);
	return NULL;
}

/* X2: notify on a vCPU's port wakes the vCPU sleeping for its answer. */
static void test_x2_notify_wakes_sleeping_vcpu(void **state)
{
	struct ioreqvm_xen_server *s = &fake[0];
	xenevtchn_handle *h = open_nonblocking();
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 1));
	assert_true(p >= 1);
	vmm_request(s, 1, 0x510);
	struct sleeper z = { .s = s };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, vcpu_sleep, &z), 0);
	while (!__atomic_load_n(&s->notify->vcpu[1].vcpu_sleeping, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_true(readable(h, 10000));
	assert_int_equal(xenevtchn_pending(h), p);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	model_answer(s, 1);
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)p), 0);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(atomic_load(&z.woken));
	assert_true(t1.tv_sec - t0.tv_sec < 20); /* woken by notify, not by the 30 s guard */
	vmm_take(s, 1);
	xenevtchn_close(h);
}

/* Errors as Linux's evtchn driver and Xen give them (the notes at the top of evtchn.c). */
static void test_x2_errors(void **state)
{
	errno = 0;
	assert_null(xenevtchn_open(NULL, 0x100));
	assert_int_equal(errno, EINVAL);
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	assert_non_null(h);
#define FAILS(call, e) do { errno = 0; assert_int_equal((call), -1); assert_int_equal(errno, (e)); } while (0)
	FAILS(xenevtchn_bind_interdomain(h, DOMID + 1, IOREQVM_VCPU_EVTCHN(1, 0)), ESRCH);
	FAILS(xenevtchn_bind_interdomain(h, DOMID, 0), EINVAL);
	FAILS(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(9, 0)), EINVAL); /* no server 9 */
	FAILS(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, NR_VCPUS)), EINVAL);
	FAILS(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_BUF_EVTCHN(1)), EINVAL); /* no ring */
	FAILS(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 0) + 0x41), EINVAL);
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 0));
	assert_true(p >= 1);
	FAILS(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 0)), EINVAL); /* bound */
	FAILS(xenevtchn_unbind(h, EVTCHN_MAX_PORTS), EINVAL);
	FAILS(xenevtchn_unbind(h, (evtchn_port_t)p + 100), ENOTCONN);
	FAILS(xenevtchn_notify(h, (evtchn_port_t)p + 100), ENOTCONN);
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)p + 100), 0); /* ignored, as Linux */
	FAILS(xenevtchn_bind_virq(h, NR_VIRQS), EINVAL);
	xenevtchn_port_or_error_t v = xenevtchn_bind_virq(h, VIRQ_DEBUG);
	assert_true(v >= 1 && v != p);
	FAILS(xenevtchn_bind_virq(h, VIRQ_DEBUG), EEXIST);
	FAILS(xenevtchn_notify(h, (evtchn_port_t)v), EINVAL);
	FAILS(xenevtchn_bind_unbound_port(h, DOMID + 1), ESRCH);
	xenevtchn_port_or_error_t u = xenevtchn_bind_unbound_port(h, DOMID);
	assert_true(u >= 1);
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)u), 0);
	/* Local ports: the lowest free, reused after unbind. */
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)v), 0);
	assert_int_equal(xenevtchn_bind_virq(h, VIRQ_DEBUG), v);
	FAILS(xenevtchn_restrict(h, 0), EINVAL);
	FAILS(xenevtchn_restrict(h, DOMID_FIRST_RESERVED), EINVAL);
	assert_int_equal(xenevtchn_restrict(h, DOMID), 0);
	FAILS(xenevtchn_restrict(h, DOMID), EACCES);
	FAILS(xenevtchn_bind_virq(h, VIRQ_CONSOLE), EACCES);
	FAILS(xenevtchn_bind_unbound_port(h, DOMID), EACCES);
	FAILS(xenevtchn_bind_interdomain(h, DOMID + 1, IOREQVM_VCPU_EVTCHN(1, 1)), EACCES);
	assert_true(xenevtchn_bind_interdomain(h, DOMID, IOREQVM_VCPU_EVTCHN(1, 1)) >= 1);
	errno = 0;
	assert_null(xenevtchn_fdopen(NULL, xenevtchn_fd(h), 1));
	assert_int_equal(errno, EINVAL);
	int other = eventfd(0, EFD_CLOEXEC);
	assert_null(xenevtchn_fdopen(NULL, other, 0));
	assert_int_equal(errno, EBADF);
	int dup_fd = dup(xenevtchn_fd(h));
	xenevtchn_handle *d = xenevtchn_fdopen(NULL, dup_fd, 0); /* the same file, dup'd */
	assert_non_null(d);
	assert_int_equal(xenevtchn_notify(d, (evtchn_port_t)u), 0);
	xenevtchn_close(d);
	close(dup_fd);
	close(other);
	xenevtchn_close(h);
	assert_true(ready_calls > 0); /* xenevtchn_fd told ioreqvm the model is ready */
}

/* The connection to ioreqvm closing (the VM gone) fires VIRQ_DOM_EXC. Last: it closes it. */
static void test_x2_vm_gone_fires_virq_dom_exc(void **state)
{
	xenevtchn_handle *h = open_nonblocking();
	xenevtchn_port_or_error_t p = xenevtchn_bind_virq(h, VIRQ_DOM_EXC);
	assert_true(p >= 1);
	assert_false(readable(h, 0));
	close(conn_peer);
	assert_true(readable(h, 10000));
	assert_int_equal(xenevtchn_pending(h), p);
	xenevtchn_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x2_vcpu_port_once_per_request_masked_until_unmask),
		cmocka_unit_test(test_x2_request_waiting_at_bind_fires),
		cmocka_unit_test(test_x2_ring_port_fires_for_posts),
		cmocka_unit_test(test_x2_two_handles_each_only_its_ports),
		cmocka_unit_test(test_x2_pending_blocks_until_a_request),
		cmocka_unit_test(test_x2_notify_wakes_sleeping_vcpu),
		cmocka_unit_test(test_x2_errors),
		cmocka_unit_test(test_x2_vm_gone_fires_virq_dom_exc),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
