/* SPDX-License-Identifier: MIT */
/*
 * The vCPU side of the request path. Synchronous: fill the vCPU's slot,
 * publish READY, ring the server's eventfd only if it sleeps, spin on the
 * slot for a while, then sleep on the slot's state word (futex) after
 * telling the server so. Posted: append to the buffered ring under a
 * spinlock (several vCPUs may post; held for a few stores, never across a
 * wait, and released by a plain store where a mutex uses a locked
 * instruction), ring only if the server sleeps. A slot whose vp_eport the
 * model changed gets no request (X2, as Xen): the default answer. The server's
 * side of the shared memory is untrusted: only the state and data fields
 * are read back, with the ISA interrupt lines the model set while it
 * answered (ioreq_abi.h: any value is a set of line levels), and a bogus
 * ring pointer just means "full".
 */
#include "ioreq/ioreq_send.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>

#include "core/vm.h"

/*
 * Spin this long before sleeping: about a cross-process wake-up's cost on
 * the slow machines (DESIGN section 7), so a busy server never makes the
 * vCPU sleep and an idle one costs at most twice the wake-up.
 */
#define IOREQ_SPIN_NS 50000
/* ... but only while the server shows it took the request (INPROCESS) after this long. */
#define IOREQ_PICKUP_NS 5000
/* Sleep at most this long before re-checking for a dead server or a stop. */
#define IOREQ_WAIT_NS 50000000L

/* Ring the server's doorbell if it sleeps; true if it had to be woken. */
static bool ring_server(struct ioreq_server *s)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32_t how = __atomic_load_n(&s->notify->dm_sleeping, __ATOMIC_RELAXED);
	if (!how)
		return false;
	if (how == IOREQVM_DM_SLEEPS_ON_FUTEX) {
		/*
		 * One wake-up per sleep: posted writes arrive far faster than the
		 * woken model gets a core, and each ring was a system call
		 * (BENCHMARKS.md, design measurements: ring-once). The word is the
		 * model's (untrusted): a bogus value only costs it a wake-up.
		 */
		if (!__atomic_compare_exchange_n(&s->notify->dm_sleeping, &how, 0, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return true; /* another vCPU rang it, or it woke */
		__atomic_fetch_add(&s->notify->dm_doorbell, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &s->notify->dm_doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
		return true;
	}
	uint64_t one = 1;
	ssize_t w = write(s->evt_fd, &one, sizeof(one));
	(void)w; /* EAGAIN: the counter is already nonzero, the server will wake */
	return true;
}

/* PREFETCHW where the CPU has it (CPUID 0x80000001 ECX bit 8); elsewhere it may fault. */
static bool have_prefetchw;

__attribute__((constructor)) static void detect_prefetchw(void)
{
	unsigned a, b, c, d;
	have_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW);
}

/*
 * Another poster holds the ring for a few stores; if it was preempted there
 * (more vCPU threads than cores), give the core up rather than spin a slice.
 */
static void buf_lock(struct ioreq_server *s)
{
	for (unsigned i = 1; pthread_spin_trylock(&s->buf_lock); i++) {
		if (i % 1024 == 0)
			sched_yield();
		else
			__builtin_ia32_pause();
	}
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static bool try_post(struct ioreq_server *s, uint8_t type, uint64_t addr, const struct io_access *a)
{
	static const uint8_t size_code[9] = { 0, 0, 1, 0, 2, 0, 0, 0, 3 };
	unsigned need = a->size == 8 ? 2 : 1;
	bool ok = false;
	buf_lock(s);
	struct ioreqvm_buffered_iopage *b = s->buf;
	uint32_t wp = b->write_pointer; /* only we write it */
	/*
	 * The model writes read_pointer next to the write_pointer it polls:
	 * read it (a cache line from the model's core) only when the room seen
	 * last time is used up.
	 */
	uint32_t rp = s->buf_rp_seen, used = wp - rp;
	if (used > IOREQVM_BUF_SLOTS || IOREQVM_BUF_SLOTS - used < need) {
		rp = s->buf_rp_seen = __atomic_load_n(&b->read_pointer, __ATOMIC_ACQUIRE);
		used = wp - rp;
	}
	if (used <= IOREQVM_BUF_SLOTS && IOREQVM_BUF_SLOTS - used >= need) {
		for (unsigned i = 0; i < need; i++) {
			struct ioreqvm_buf_ioreq *slot = &b->buf_ioreq[(wp + i) % IOREQVM_BUF_SLOTS];
			struct ioreqvm_buf_ioreq e = {
				.type = type, .dir = IOREQVM_IOREQ_WRITE, .size = size_code[a->size],
				.addr = (uint32_t)addr & 0xfffff,
				.data = (uint32_t)(i ? a->data >> 32 : a->data),
			};
			*slot = e;
		}
		/*
		 * The model read these slots a lap ago: take the line for writing
		 * now, so the barrier in ring_server() does not wait for it when
		 * the post gets there (BENCHMARKS.md, design measurements: prefetchw).
		 */
		if (have_prefetchw)
			__asm__ volatile("prefetchw %0" ::"m"(b->buf_ioreq[(wp + 16) % IOREQVM_BUF_SLOTS]));
		__atomic_store_n(&b->write_pointer, wp + need, __ATOMIC_RELEASE);
		/* Under buf_lock: a plain add, not a locked one (a second full barrier). */
		atomic_store_explicit(&s->nr_buffered,
				      atomic_load_explicit(&s->nr_buffered, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		ok = true;
	}
	pthread_spin_unlock(&s->buf_lock);
	if (ok)
		ring_server(s);
	return ok;
}

/* I7: what may go through the ring: a write of at most 8 bytes below 1 MiB (20 address bits). */
static bool postable(const struct ioreq_server *s, uint8_t type, const struct io_access *a,
		     uint32_t range_flags)
{
	return (range_flags & IOREQVM_IO_RANGE_BUFFERED) && s->bufioreq && a->is_write &&
	       a->size <= 8 && (type == IOREQVM_IOREQ_TYPE_PIO || type == IOREQVM_IOREQ_TYPE_COPY) &&
	       a->addr < (1u << 20);
}

struct ioreq_server *ioreq_route(struct ioreq_servers *ss, uint32_t kind, uint8_t type,
				 const struct io_access *a, bool *posted)
{
	uint32_t flags = 0;
	*posted = false;
	urcu_bp_read_lock();
	struct ioreq_server *s = ioreq_select_rcu(ss, kind, a->addr, a->size, &flags);
	if (s && postable(s, type, a, flags) && try_post(s, type, a->addr, a)) {
		*posted = true;
		s = NULL;
	} else if (s) {
		atomic_fetch_add(&s->refs, 1); /* valid: inside the read section */
	}
	urcu_bp_read_unlock();
	return s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void futex_wait(void *word, uint32_t val, long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };
	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

/*
 * The ISA lines the model set while it answered (IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER),
 * set before the vCPU runs on, as set_isa_irq_level would.
 */
static void take_isa_irq_lines(struct ioreq_server *s, struct vcpu *vcpu)
{
	uint32_t *word = &s->notify->vcpu[vcpu->id].isa_irq_lines;
	if (!__atomic_load_n(word, __ATOMIC_RELAXED))
		return;
	uint32_t lines = __atomic_exchange_n(word, 0, __ATOMIC_ACQUIRE);
	for (unsigned irq = 0; irq < 16; irq++)
		if (lines & (1u << irq))
			vcpu->vm->ops->irq_line(vcpu->vm, irq, (lines >> (16 + irq)) & 1);
}

enum io_result ioreq_send(struct ioreq_server *s, struct vcpu *vcpu, uint8_t type,
			  uint64_t addr, struct io_access *a)
{
	struct ioreqvm_ioreq *slot = &s->slots[vcpu->id];
	uint32_t *word = (uint32_t *)((uint8_t *)slot + IOREQVM_IOREQ_STATE_WORD);
	uint32_t *sleeping = &s->notify->vcpu[vcpu->id].vcpu_sleeping;
	uint32_t port = IOREQVM_VCPU_EVTCHN(s->id, vcpu->id);
	if (__atomic_load_n(&slot->vp_eport, __ATOMIC_RELAXED) != port) {
		/* X2: the model changed the vCPU's port; Xen refuses to send then. */
		atomic_fetch_add_explicit(&s->nr_defaulted, 1, memory_order_relaxed);
		if (!a->is_write)
			a->data = ~0ULL;
		return IO_DONE;
	}
	slot->addr = addr;
	slot->data = a->is_write ? a->data & size_mask(a->size) : 0;
	slot->count = 1;
	slot->size = a->size;
	slot->vp_eport = port;
	slot->type = type;
	/* Tells a model's event-channel emulation this request from the last one. */
	uint32_t seq = (uint32_t)atomic_fetch_add_explicit(&s->nr_requests, 1,
							   memory_order_relaxed) + 1;
	__atomic_store_n(&s->notify->vcpu[vcpu->id].req_seq, seq ? seq : 1, __ATOMIC_RELAXED);
	/* One byte store: state READY with dir, and data_is_ptr and df clear. */
	ioreqvm_ioreq_publish(slot, IOREQVM_STATE_IOREQ_READY,
			      a->is_write ? IOREQVM_IOREQ_WRITE : IOREQVM_IOREQ_READ);
	/*
	 * A server that had to be woken answers after a wake-up at best: spinning
	 * for it only keeps this core from running it (BENCHMARKS.md, design
	 * measurements: spin-awake). Spin only for an awake server.
	 */
	bool woke_server = ring_server(s);

	struct vm *vm = vcpu->vm;
	enum io_result res = IO_DONE;
	bool answered = false;
	uint64_t start = now_ns(), deadline = start + IOREQ_SPIN_NS;
	bool spinning = !woke_server, blocked = false, slept = false;
	for (unsigned spin = 1;; spin++) {
		if (ioreqvm_ioreq_state(slot) == IOREQVM_STATE_IORESP_READY) {
			answered = true;
			break;
		}
		if (atomic_load(&s->dead))
			break;
		if (spinning) {
			if (spin & 63) {
				__builtin_ia32_pause();
				continue;
			}
			uint64_t now = now_ns();
			/*
			 * An awake server marks the request INPROCESS within a microsecond
			 * or two; still READY after IOREQ_PICKUP_NS means it is not getting
			 * a core (other spinners have them): sleep and give ours up.
			 */
			bool picked = ioreqvm_ioreq_state(slot) != IOREQVM_STATE_IOREQ_READY;
			if (now < deadline && (picked || now - start < IOREQ_PICKUP_NS)) {
				__builtin_ia32_pause();
				continue;
			}
			spinning = false;
		}
		if (atomic_load(&vm->stopping)) {
			res = IO_STOP;
			break;
		}
		long wait_ns = IOREQ_WAIT_NS;
		if (vm->ops->vcpu_block) {
			/* K13: the backend may let others run meanwhile, and bound our sleep. */
			uint64_t bound = vm->ops->vcpu_block(vcpu, now_ns() - start);
			if (bound && bound < (uint64_t)wait_ns)
				wait_ns = (long)bound;
			blocked = true;
		}
		if (!slept) {
			atomic_fetch_add_explicit(&s->nr_sleeps, 1, memory_order_relaxed);
			slept = true;
		}
		uint32_t w = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		__atomic_store_n(sleeping, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ioreqvm_ioreq_state(slot) != IOREQVM_STATE_IORESP_READY && !atomic_load(&s->dead))
			futex_wait(word, w, wait_ns);
		__atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
	}
	if (blocked)
		vm->ops->vcpu_unblock(vcpu);
	if (answered) {
		if (!a->is_write)
			a->data = __atomic_load_n(&slot->data, __ATOMIC_RELAXED) & size_mask(a->size);
		ioreqvm_ioreq_set_state(slot, IOREQVM_STATE_IOREQ_NONE);
		take_isa_irq_lines(s, vcpu);
	} else {
		/* Dead server (I5) or stopping VM: the default answer (I9). */
		atomic_fetch_add_explicit(&s->nr_defaulted, 1, memory_order_relaxed);
		if (!a->is_write)
			a->data = ~0ULL;
	}
	return res;
}
