/* SPDX-License-Identifier: MIT */
/*
 * Serving IOREQs: map a server's slots and event fd, then drain requests:
 * the buffered ring first (posted writes are older than any request still
 * waiting in a slot), then every READY slot. A completed slot is published
 * with a release store, and the vCPU is woken only if it said it sleeps.
 * Everything in the shared page is untrusted: sizes and types are checked
 * before a request reaches the handler.
 */
#include "libioreq_priv.h"

#include <errno.h>
#include <stdint.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SERVE_SPIN_NS 50000 /* spin this long for more work before sleeping */
#define SERVE_RING_LOOK_EVERY 128 /* spinning, look at the buffered ring this seldom */

struct libioreq_server {
	struct libioreq *x;
	uint16_t id;
	unsigned nr_vcpus;
	bool bufioreq;
	int evt_fd;
	uint8_t *shm;
	struct ioreqvm_ioreq *slots;
	struct ioreqvm_buffered_iopage *buf;
	struct ioreqvm_notify *notify;
	libioreq_handler_fn fn;
	void *opaque;
	bool fd_mode; /* libioreq_server_fd() was called: ioreqvm rings every time */
	bool irq_with_answer; /* ioreqvm takes ISA lines with the answer */
};

__thread struct answering libioreq_answering;

int answer_isa_irq(struct libioreq *x, uint8_t irq, uint8_t level)
{
	struct answering *a = &libioreq_answering;
	if (!a->word || a->x != x || irq > 15 || level > 1)
		return 1;
	uint32_t w = __atomic_load_n(a->word, __ATOMIC_RELAXED);
	if (!(w & (1u << irq))) {
		w |= (1u << irq) | ((uint32_t)level << (16 + irq));
		__atomic_store_n(a->word, w, __ATOMIC_RELAXED); /* published by the answer */
		return 0;
	}
	if (((w >> (16 + irq)) & 1) == level)
		return 0; /* already that level */
	/* A second change of one line: what the answer carries goes first, on the socket. */
	__atomic_store_n(a->word, 0, __ATOMIC_RELAXED);
	a->word = NULL;
	for (unsigned i = 0; i < 16; i++)
		if (w & (1u << i))
			(void)libioreq_set_isa_irq_level(x, (uint8_t)i, (uint8_t)((w >> (16 + i)) & 1));
	return 1;
}

int libioreq_server_fds(struct libioreq *x, uint16_t id, struct ioreqvm_op_info *info,
			int *shm_fd, int *evt_fd)
{
	struct ioreqvm_op_get_info req = { .id = id };
	int fds[2] = { -1, -1 };
	int rc = client_call(x, IOREQVM_OP_GET_IOREQ_SERVER_INFO, &req, sizeof(req), info,
			       sizeof(*info), fds, 2);
	if (rc)
		return rc;
	if (info->nr_vcpus > IOREQVM_MAX_VCPUS || info->shm_size != IOREQVM_SHM_SIZE ||
	    fds[0] < 0 || fds[1] < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return client_fail(x, -EPROTO, "server info out of range");
	}
	*shm_fd = fds[0];
	*evt_fd = fds[1];
	return 0;
}

int libioreq_server_open(struct libioreq *x, uint16_t id, libioreq_handler_fn fn, void *opaque,
			 struct libioreq_server **out)
{
	struct ioreqvm_op_info info;
	int fds[2] = { -1, -1 };
	int rc = libioreq_server_fds(x, id, &info, &fds[0], &fds[1]);
	if (rc)
		return rc;
	struct libioreq_server *s = calloc(1, sizeof(*s));
	void *p = mmap(NULL, IOREQVM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	if (!s || p == MAP_FAILED) {
		rc = p == MAP_FAILED ? -errno : -ENOMEM;
		if (p != MAP_FAILED)
			munmap(p, IOREQVM_SHM_SIZE);
		free(s);
		close(fds[1]);
		return client_fail(x, rc, "mapping server %u's slots: %s", id, strerror(-rc));
	}
	s->x = x;
	s->id = id;
	s->nr_vcpus = info.nr_vcpus;
	s->bufioreq = info.has_bufioreq;
	s->evt_fd = fds[1];
	s->shm = p;
	s->slots = (struct ioreqvm_ioreq *)(s->shm + IOREQVM_SHM_IOREQ_OFFSET);
	s->buf = (struct ioreqvm_buffered_iopage *)(s->shm + IOREQVM_SHM_BUFIOREQ_OFFSET);
	s->notify = (struct ioreqvm_notify *)(s->shm + IOREQVM_SHM_NOTIFY_OFFSET);
	s->fn = fn;
	s->opaque = opaque;
	s->irq_with_answer = __atomic_load_n(&s->notify->vmm_features, __ATOMIC_RELAXED) &
			     IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER;
	*out = s;
	return 0;
}

void libioreq_server_close(struct libioreq_server *s)
{
	if (!s)
		return;
	munmap(s->shm, IOREQVM_SHM_SIZE);
	close(s->evt_fd);
	free(s);
}

static bool work_pending(const struct libioreq_server *s);

int libioreq_server_fd(struct libioreq_server *s)
{
	/*
	 * A caller polling this fd does not spin: from now on ioreqvm rings the
	 * eventfd for every request.
	 */
	s->fd_mode = true;
	__atomic_store_n(&s->notify->dm_sleeping, IOREQVM_DM_SLEEPS_ON_FD, __ATOMIC_SEQ_CST);
	/*
	 * A request that came before the store above rang nobody (the model
	 * counted as awake): make the fd readable for it, or the caller polls
	 * forever while that vCPU waits (seen when the guest's first request
	 * beat the model's call here).
	 */
	if (work_pending(s)) {
		uint64_t one = 1;
		ssize_t w = write(s->evt_fd, &one, sizeof(one));
		(void)w; /* EAGAIN: already readable */
	}
	return s->evt_fd;
}

static int drain_buffered(struct libioreq_server *s)
{
	static const uint8_t sizes[4] = { 1, 2, 4, 8 };
	struct ioreqvm_buffered_iopage *b = s->buf;
	int n = 0;
	uint32_t rp = b->read_pointer, done = rp;
	uint32_t wp = __atomic_load_n(&b->write_pointer, __ATOMIC_ACQUIRE);
	if (wp - rp > IOREQVM_BUF_SLOTS)
		return 0; /* not a state ioreqvm produces */
	while (rp != wp) {
		struct ioreqvm_buf_ioreq e = b->buf_ioreq[rp % IOREQVM_BUF_SLOTS];
		struct ioreqvm_ioreq r = {
			.addr = e.addr, .data = e.data, .count = 1, .size = sizes[e.size],
			.state = IOREQVM_STATE_IOREQ_INPROCESS, .dir = IOREQVM_IOREQ_WRITE,
			.type = e.type,
		};
		rp++;
		if (r.size == 8) {
			if (rp == wp)
				break; /* the second half is not there yet */
			r.data |= (uint64_t)b->buf_ioreq[rp % IOREQVM_BUF_SLOTS].data << 32;
			rp++;
		}
		s->fn(s->opaque, (unsigned)-1, &r);
		n++;
		done = rp;
	}
	/* Once per batch: read_pointer shares the line ioreqvm writes on every post. */
	if (n)
		__atomic_store_n(&b->read_pointer, done, __ATOMIC_RELEASE);
	return n;
}

int libioreq_server_dispatch(struct libioreq_server *s)
{
	if (s->fd_mode) { /* consume the wake-ups first: a request after this rings again */
		uint64_t v;
		ssize_t r = read(s->evt_fd, &v, sizeof(v));
		(void)r;
	}
	int n = s->bufioreq ? drain_buffered(s) : 0;
	for (unsigned v = 0; v < s->nr_vcpus; v++) {
		struct ioreqvm_ioreq *slot = &s->slots[v];
		if (ioreqvm_ioreq_state(slot) != IOREQVM_STATE_IOREQ_READY)
			continue;
		/*
		 * Writes this vCPU posted before the request are visible now (the
		 * READY store released them): serve them first, in order (I7).
		 */
		if (s->bufioreq)
			n += drain_buffered(s);
		ioreqvm_ioreq_set_state(slot, IOREQVM_STATE_IOREQ_INPROCESS);
		struct ioreqvm_ioreq r = *slot;
		if (r.size == 1 || r.size == 2 || r.size == 4 || r.size == 8) {
			if (s->irq_with_answer)
				libioreq_answering = (struct answering){
					.x = s->x, .word = &s->notify->vcpu[v].isa_irq_lines };
			s->fn(s->opaque, v, &r);
			libioreq_answering.word = NULL;
			if (r.dir == IOREQVM_IOREQ_READ)
				slot->data = r.data;
		} else if (r.dir == IOREQVM_IOREQ_READ) {
			slot->data = ~0ULL; /* not a request ioreqvm sends */
		}
		ioreqvm_ioreq_set_state(slot, IOREQVM_STATE_IORESP_READY);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->notify->vcpu[v].vcpu_sleeping, __ATOMIC_RELAXED))
			syscall(SYS_futex, (uint8_t *)slot + IOREQVM_IOREQ_STATE_WORD, FUTEX_WAKE, 1,
				NULL, NULL, 0);
		n++;
	}
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool slot_pending(const struct libioreq_server *s)
{
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		if (ioreqvm_ioreq_state(&s->slots[v]) == IOREQVM_STATE_IOREQ_READY)
			return true;
	return false;
}

static bool work_pending(const struct libioreq_server *s)
{
	if (s->bufioreq &&
	    __atomic_load_n(&s->buf->write_pointer, __ATOMIC_ACQUIRE) != s->buf->read_pointer)
		return true;
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		if (ioreqvm_ioreq_state(&s->slots[v]) == IOREQVM_STATE_IOREQ_READY)
			return true;
	return false;
}

int libioreq_server_run(struct libioreq_server *s, volatile bool *stop)
{
	return libioreq_server_run_for(s, stop, 0);
}

int libioreq_server_run_for(struct libioreq_server *s, volatile bool *stop, unsigned timeout_ms)
{
	uint64_t end = timeout_ms ? now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
	while (!*stop && (!end || now_ns() < end)) {
		if (libioreq_server_dispatch(s))
			continue;
		/*
		 * Busy: more work usually follows soon; look without a system call.
		 * The slots every time (a vCPU waits on each), the buffered ring
		 * every SERVE_RING_LOOK_EVERY looks: its write_pointer shares a
		 * cache line with the entries the vCPU is posting, and reading it
		 * after every post pulled the line away from the poster each time
		 * (BENCHMARKS.md, design measurements: ring-look). Nobody
		 * waits on a posted write; a request still drains the ring first.
		 */
		uint64_t deadline = now_ns() + SERVE_SPIN_NS;
		bool found = false;
		for (unsigned i = 1; !found; i++) {
			found = (i % SERVE_RING_LOOK_EVERY) ? slot_pending(s) : work_pending(s);
			if (!(i & 63) && now_ns() > deadline)
				break;
			__builtin_ia32_pause();
		}
		if (found)
			continue;
		/*
		 * Sleep on a futex in shared memory (cheaper to wake than poll on the
		 * eventfd), checking the connection every 100 ms for a VM gone away.
		 */
		uint32_t bell = __atomic_load_n(&s->notify->dm_doorbell, __ATOMIC_ACQUIRE);
		__atomic_store_n(&s->notify->dm_sleeping, IOREQVM_DM_SLEEPS_ON_FUTEX, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/*
		 * *stop again after reading the bell: a libioreq_server_wake() that
		 * set it before that read is seen here, one after it changed the
		 * bell and the wait below returns at once.
		 */
		if (!work_pending(s) && !*stop) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			syscall(SYS_futex, &s->notify->dm_doorbell, FUTEX_WAIT, bell, &ts, NULL, 0);
			/* Woken without work (or timed out): has the VM gone away? */
			if (!work_pending(s)) {
				struct pollfd p = { .fd = s->x->fd, .events = POLLIN };
				if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
					__atomic_store_n(&s->notify->dm_sleeping, 0, __ATOMIC_RELAXED);
					return client_fail(s->x, -EPIPE, "ioreqvm went away");
				}
			}
		}
		__atomic_store_n(&s->notify->dm_sleeping, 0, __ATOMIC_RELAXED);
	}
	return 0;
}

void libioreq_server_wake(struct libioreq_server *s)
{
	/* The bell is the one ioreqvm rings; bumping it here only wakes us. */
	__atomic_fetch_add(&s->notify->dm_doorbell, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &s->notify->dm_doorbell, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	if (s->fd_mode) {
		uint64_t one = 1;
		ssize_t w = write(s->evt_fd, &one, sizeof(one));
		(void)w; /* EAGAIN: readable already */
	}
}

int libioreq_write_through(struct libioreq_guest_memory *m, const struct ioreqvm_ioreq *req)
{
	if (req->size != 1 && req->size != 2 && req->size != 4 && req->size != 8)
		return -EINVAL;
	void *p = libioreq_guest_ptr(m, req->addr, req->size);
	if (!p)
		return -EFAULT;
	memcpy(p, &req->data, req->size);
	return 0;
}
