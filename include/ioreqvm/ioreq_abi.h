/* SPDX-License-Identifier: MIT */
/*
 * The memory an IOREQ server shares with ioreqvm (DESIGN I2, I6, I7): one
 * memfd per server holding Xen's shared_iopage (one ioreq_t per vCPU), Xen's
 * buffered_iopage, and ioreqvm's notification words. ioreq_t and the
 * buffered ring have exactly Xen's layout and values (<xen/hvm/ioreq.h>,
 * checked by tests/unit/test_abi_xen.c); the notification page is ours.
 * Everything in this memory is written by both processes: each side treats
 * what the other wrote as untrusted. Stable ABI.
 */
#ifndef IOREQVM_IOREQ_ABI_H
#define IOREQVM_IOREQ_ABI_H

#include <stddef.h>
#include <stdint.h>

#define IOREQVM_IOREQ_READ 1
#define IOREQVM_IOREQ_WRITE 0

#define IOREQVM_STATE_IOREQ_NONE 0
#define IOREQVM_STATE_IOREQ_READY 1
#define IOREQVM_STATE_IOREQ_INPROCESS 2
#define IOREQVM_STATE_IORESP_READY 3

#define IOREQVM_IOREQ_TYPE_PIO 0
#define IOREQVM_IOREQ_TYPE_COPY 1
#define IOREQVM_IOREQ_TYPE_PCI_CONFIG 2

/* Xen's struct ioreq, 32 bytes. */
struct ioreqvm_ioreq {
	uint64_t addr;     /* port, guest-physical address, or PCI (sbdf << 32 | reg) */
	uint64_t data;     /* value written, or value to return for a read */
	uint32_t count;    /* always 1 from ioreqvm */
	uint32_t size;     /* 1, 2, 4 or 8 */
	uint32_t vp_eport; /* the vCPU's event-channel port (X2): IOREQVM_VCPU_EVTCHN */
	uint16_t _pad0;
	uint8_t state : 4;
	uint8_t data_is_ptr : 1; /* always 0 from ioreqvm */
	uint8_t dir : 1;         /* IOREQVM_IOREQ_READ / _WRITE */
	uint8_t df : 1;
	uint8_t _pad1 : 1;
	uint8_t type; /* IOREQVM_IOREQ_TYPE_* */
};

/*
 * Event-channel ports (DESIGN X2), fixed numbers as Xen's remote ports of
 * a server: vCPU @v's (written into its slot's vp_eport at create, at
 * enable and with every request; a request is not sent while the slot
 * holds another value, as Xen refuses it) and the buffered ring's (Xen's
 * bufioreq_port). Server ids are 1..0xfffe, so ports fit in 23 bits and
 * port 0 (Xen's invalid port) is nobody's.
 */
#define IOREQVM_EVTCHN_BUF_INDEX 64 /* after the vCPU ports (IOREQVM_MAX_VCPUS) */
#define IOREQVM_VCPU_EVTCHN(id, v) (((uint32_t)(id) << 7) | (uint32_t)(v))
#define IOREQVM_BUF_EVTCHN(id) (((uint32_t)(id) << 7) | IOREQVM_EVTCHN_BUF_INDEX)
/* The server and the index (vCPU, or IOREQVM_EVTCHN_BUF_INDEX) of a port. */
#define IOREQVM_EVTCHN_SERVER(port) ((uint32_t)(port) >> 7)
#define IOREQVM_EVTCHN_INDEX(port) ((uint32_t)(port) & 0x7f)

/* Byte offset of the state/flags byte: accessed atomically as a whole byte. */
#define IOREQVM_IOREQ_STATE_BYTE 30
/* The 32-bit word holding the state byte: the futex a waiting vCPU sleeps on. */
#define IOREQVM_IOREQ_STATE_WORD 28

_Static_assert(sizeof(struct ioreqvm_ioreq) == 32, "ioreq_t is 32 bytes");
_Static_assert(__builtin_offsetof(struct ioreqvm_ioreq, type) == IOREQVM_IOREQ_STATE_BYTE + 1,
	       "the state byte sits just before type");

/* Xen's buffered ring: posted writes, read_pointer advanced by the server. */
#define IOREQVM_BUF_SLOTS 511
struct ioreqvm_buf_ioreq {
	uint8_t type;
	uint8_t pad : 1;
	uint8_t dir : 1;
	uint8_t size : 2;   /* 0: 1 byte, 1: 2, 2: 4, 3: 8 (8 takes two slots) */
	uint32_t addr : 20; /* port, or guest-physical address below 1 MiB */
	uint32_t data;      /* for 8 bytes: low half here, high half in the next slot */
};

struct ioreqvm_buffered_iopage {
	uint32_t read_pointer;  /* server: slots consumed (free-running) */
	uint32_t write_pointer; /* ioreqvm: slots produced (free-running) */
	struct ioreqvm_buf_ioreq buf_ioreq[IOREQVM_BUF_SLOTS];
};

/*
 * Notification words (ours). Each side spins on the slot state first and
 * blocks only after setting its "sleeping" word, then re-checking:
 *  - ioreqvm rings the server only while dm_sleeping is set: with a write
 *    to the server's eventfd when it is IOREQVM_DM_SLEEPS_ON_FD, with a
 *    FUTEX_WAKE on dm_doorbell (after bumping it) when it is
 *    IOREQVM_DM_SLEEPS_ON_FUTEX (a model in its own blocking loop), and
 *    then only once per sleep: the ringer swaps dm_sleeping from
 *    IOREQVM_DM_SLEEPS_ON_FUTEX to 0 first (requests posted while the
 *    woken model is still being scheduled ring nobody);
 *  - the server futex-wakes a slot's IOREQVM_IOREQ_STATE_WORD only while
 *    that vCPU's vcpu_sleeping is set.
 * So the busy path makes no system call on either side.
 * vcpu[v].req_seq changes with every request ioreqvm publishes in slot v
 * (written before the READY store, never 0 once a request was sent): a
 * model that looks at the slots from outside its request loop (the Xen
 * event-channel emulation of compat/xen/) tells a new request from one it
 * has seen by it. Older ioreqvm left the word 0.
 *
 * ISA interrupt lines with the answer: where vmm_features has
 * IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER, a model serving vCPU v's synchronous
 * request may set ISA IRQ lines by writing vcpu[v].isa_irq_lines before it
 * publishes IORESP_READY: bit i (0-15) says IRQ i's line is given, bit
 * 16 + i its level. ioreqvm takes the word (and clears it) when it reads
 * the answer, and sets those lines, IRQ 0 first, before the vCPU runs on:
 * as if the model had called set_isa_irq_level for each, without a round
 * trip on the control socket (a UART changes its line on most register
 * accesses). Two changes of one line in one answer cannot be carried (a
 * pulse would vanish): libioreq sends such changes on the socket instead.
 * The word is the model's: any value is a set of line levels, what the
 * control op allows any model; written outside a request, it is taken with
 * the server's next answer.
 */
#define IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER 1u
#define IOREQVM_MAX_VCPUS 64
_Static_assert(IOREQVM_EVTCHN_BUF_INDEX >= IOREQVM_MAX_VCPUS, "vCPU ports below the ring's");
#define IOREQVM_DM_SLEEPS_ON_FD 1
#define IOREQVM_DM_SLEEPS_ON_FUTEX 2
struct ioreqvm_notify {
	uint32_t dm_sleeping;
	uint32_t dm_doorbell; /* futex word, bumped by ioreqvm for a futex sleeper
			       * (and by the model's own threads to wake it) */
	uint32_t vmm_features; /* IOREQVM_NOTIFY_F_*, written by ioreqvm at create */
	uint32_t _pad[13];
	struct {
		uint32_t vcpu_sleeping;
		uint32_t req_seq;
		uint32_t isa_irq_lines; /* the model's, taken with its answer */
		uint32_t _pad[13];
	} vcpu[IOREQVM_MAX_VCPUS];
};

/* Layout of the server's memfd. */
#define IOREQVM_SHM_IOREQ_OFFSET 0x0000    /* struct ioreqvm_ioreq[nr_vcpus] */
#define IOREQVM_SHM_BUFIOREQ_OFFSET 0x1000 /* struct ioreqvm_buffered_iopage */
#define IOREQVM_SHM_NOTIFY_OFFSET 0x2000   /* struct ioreqvm_notify */
#define IOREQVM_SHM_SIZE 0x4000

static inline uint8_t ioreqvm_ioreq_state(const struct ioreqvm_ioreq *r)
{
	return __atomic_load_n((const uint8_t *)r + IOREQVM_IOREQ_STATE_BYTE, __ATOMIC_ACQUIRE) & 0xf;
}

/*
 * The state byte as a whole (state bits 0-3, data_is_ptr bit 4, dir bit 5,
 * df bit 6, as the bit-fields above lay it out on x86; test_abi_xen checks
 * it against Xen's ioreq_t): @state with direction @dir, data_is_ptr and
 * df clear.
 */
static inline uint8_t ioreqvm_ioreq_state_byte(uint8_t state, uint8_t dir)
{
	return (uint8_t)((state & 0xf) | (dir & 1) << 5);
}

/* Publish a filled request: the whole state byte in one release store. */
static inline void ioreqvm_ioreq_publish(struct ioreqvm_ioreq *r, uint8_t state, uint8_t dir)
{
	__atomic_store_n((uint8_t *)r + IOREQVM_IOREQ_STATE_BYTE, ioreqvm_ioreq_state_byte(state, dir),
			 __ATOMIC_RELEASE);
}

/* Set the state, keeping the other bits of its byte; release ordering. */
static inline void ioreqvm_ioreq_set_state(struct ioreqvm_ioreq *r, uint8_t state)
{
	uint8_t *b = (uint8_t *)r + IOREQVM_IOREQ_STATE_BYTE;
	uint8_t v = (uint8_t)((__atomic_load_n(b, __ATOMIC_RELAXED) & 0xf0) | (state & 0xf));
	__atomic_store_n(b, v, __ATOMIC_RELEASE);
}

#endif
