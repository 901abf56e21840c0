/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between ioreqvm and device models: one request, one
 * reply, over an AF_UNIX SOCK_SEQPACKET socket (a message is a record, so
 * framing is the socket's). Every message starts with a versioned header;
 * payloads are fixed-size structs per op, padding must be zero. Ops carry
 * Xen's XEN_DMOP_* numbers where Xen has the op, and ioreqvm's own numbers
 * from 0x100. File descriptors travel only in replies, with SCM_RIGHTS.
 * libioreq speaks this; device models need not. Stable ABI (version 1):
 * ops are only ever added (0x106-0x109 for the Xen libraries: XEN_INFO,
 * POPULATE_PHYSMAP, DECREASE_RESERVATION, RAM_RUNS; then Xen's 7,
 * TRACK_DIRTY_VRAM). Every request is
 * checked before it runs (ctl_ops.c): its exact payload size, pad and
 * unused fields zero, every count and range within the bounds given here.
 */
#ifndef IOREQVM_CTL_PROTO_H
#define IOREQVM_CTL_PROTO_H

#include <stdint.h>

#define IOREQVM_CTL_MAGIC 0x51524f49u /* "IORQ" */
#define IOREQVM_CTL_VERSION 1
#define IOREQVM_CTL_MAX_PAYLOAD 4096
#define IOREQVM_CTL_MAX_FDS 4

struct ioreqvm_ctl_req {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t seq; /* echoed in the reply */
	uint32_t len; /* payload bytes after this header */
};

struct ioreqvm_ctl_rep {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t seq;
	uint32_t len;   /* payload bytes after this header */
	int32_t result; /* 0 or a negative errno */
	uint32_t nr_fds;
	char msg[128];  /* NUL-terminated; says why when result < 0 */
};

enum ioreqvm_ctl_op {
	IOREQVM_OP_CREATE_IOREQ_SERVER = 1,
	IOREQVM_OP_GET_IOREQ_SERVER_INFO = 2,
	IOREQVM_OP_MAP_IO_RANGE = 3,
	IOREQVM_OP_UNMAP_IO_RANGE = 4,
	IOREQVM_OP_SET_IOREQ_SERVER_STATE = 5,
	IOREQVM_OP_DESTROY_IOREQ_SERVER = 6,
	IOREQVM_OP_TRACK_DIRTY_VRAM = 7,         /* Xen's XEN_DMOP_track_dirty_vram */
	IOREQVM_OP_SET_PCI_INTX_LEVEL = 8,
	IOREQVM_OP_SET_ISA_IRQ_LEVEL = 9,
	IOREQVM_OP_MODIFIED_MEMORY = 11,
	IOREQVM_OP_SET_MEM_TYPE = 12,
	IOREQVM_OP_INJECT_MSI = 14,
	IOREQVM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER = 15,
	IOREQVM_OP_REMOTE_SHUTDOWN = 16,
	IOREQVM_OP_VM_INFO = 0x100,
	IOREQVM_OP_GET_MEM_TYPE = 0x101,
	IOREQVM_OP_MAP_GUEST_MEMORY = 0x102,
	IOREQVM_OP_LIST_SERVERS = 0x103,
	IOREQVM_OP_LIST_RANGES = 0x104,
	IOREQVM_OP_DM_READY = 0x105,
	IOREQVM_OP_XEN_INFO = 0x106,             /* X1, X5 */
	IOREQVM_OP_POPULATE_PHYSMAP = 0x107,     /* X4 */
	IOREQVM_OP_DECREASE_RESERVATION = 0x108, /* X4 */
	IOREQVM_OP_RAM_RUNS = 0x109,             /* X3, X4 */
};

/* Range kinds: Xen's XEN_DMOP_IO_RANGE_*. */
#define IOREQVM_IO_RANGE_PORT 0
#define IOREQVM_IO_RANGE_MEMORY 1
#define IOREQVM_IO_RANGE_PCI 2
/* Range flag (beyond Xen): writes of at most 8 bytes may be posted (I7). */
#define IOREQVM_IO_RANGE_BUFFERED (1u << 0)
/* PCI ranges: start/end as Xen's XEN_DMOP_PCI_SBDF. */
#define IOREQVM_PCI_SBDF(s, b, d, f) \
	((((uint64_t)(s) & 0xffff) << 16) | (((b) & 0xff) << 8) | (((d) & 0x1f) << 3) | ((f) & 7))

struct ioreqvm_op_create {     /* reply: struct ioreqvm_op_server_id */
	uint8_t handle_bufioreq;   /* 1: also a buffered ring */
	uint8_t pad[3];
};

struct ioreqvm_op_server_id {  /* destroy; create's reply */
	uint16_t id;
	uint16_t pad;
};

struct ioreqvm_op_get_info {   /* reply: ioreqvm_op_info + fds: shm memfd, eventfd */
	uint16_t id;
	uint16_t flags;            /* 0 */
};

struct ioreqvm_op_info {
	uint32_t nr_vcpus;         /* slots in the ioreq page */
	uint32_t has_bufioreq;
	uint64_t shm_size;         /* IOREQVM_SHM_SIZE */
};

struct ioreqvm_op_range {
	uint16_t id;
	uint16_t flags;            /* IOREQVM_IO_RANGE_BUFFERED (map only) */
	uint32_t type;             /* IOREQVM_IO_RANGE_* */
	uint64_t start, end;       /* inclusive */
};

struct ioreqvm_op_set_state {
	uint16_t id;
	uint8_t enabled;
	uint8_t pad;
};

struct ioreqvm_op_isa_irq {
	uint8_t isa_irq;           /* 0-15 */
	uint8_t level;             /* 0 or 1 */
	uint16_t pad;
};

struct ioreqvm_op_pci_intx {
	uint16_t domain;
	uint8_t bus, device, intx, level;
	uint16_t pad;
};

struct ioreqvm_op_msi {
	uint32_t data;
	uint32_t pad;
	uint64_t addr;             /* 0xfeexxxxx */
};

struct ioreqvm_op_set_mem_type {   /* Xen's xen_dm_op_set_mem_type */
	uint32_t nr;
	uint16_t mem_type;
	uint16_t pad;
	uint64_t first_pfn;
};

struct ioreqvm_op_get_mem_type {   /* reply: ioreqvm_op_mem_type */
	uint64_t pfn;
};

struct ioreqvm_op_mem_type {
	uint16_t mem_type;
	uint16_t pad[3];
};

struct ioreqvm_op_map_mem_type {   /* Xen's xen_dm_op_map_mem_type_to_ioreq_server */
	uint16_t id;
	uint16_t type;
	uint32_t flags;
	uint64_t opaque;               /* 0 */
};

/*
 * REMOTE_SHUTDOWN: stop the VM of this connection (the only VM a connection
 * can reach) as Xen's XEN_DMOP_remote_shutdown, with Xen's reason codes
 * where Xen has them; ioreqvm exits with the status the README gives for
 * each (0, 10, 12). Any other reason: EINVAL.
 */
#define IOREQVM_SHUTDOWN_POWEROFF 0   /* Xen's SHUTDOWN_poweroff: as an ACPI power-off */
#define IOREQVM_SHUTDOWN_REBOOT 1     /* Xen's SHUTDOWN_reboot: as a guest's reset request */
#define IOREQVM_SHUTDOWN_QUIT 0x100   /* beyond Xen: a person asked (the console's Ctrl-A x) */

struct ioreqvm_op_remote_shutdown { /* Xen's xen_dm_op_remote_shutdown */
	uint32_t reason;
};

/*
 * TRACK_DIRTY_VRAM (Xen's XEN_DMOP_track_dirty_vram, one range per VM as
 * Xen's): which guest frames of [first_pfn, first_pfn + nr) the guest
 * wrote. Reply: the bitmap, bit i (of 64-bit word i / 64) for frame
 * first_pfn + i, ceil(nr / 64) words. As Xen's hap_track_dirty_vram:
 *  - a call naming another range than the one tracked (the first call
 *    included) starts tracking that range and reports every frame dirty
 *    (nothing is known about the time before);
 *  - a call naming the tracked range reports exactly the frames written
 *    since the call before: by the guest's own stores (KVM's dirty log on
 *    kvm, write protection on tcg), by trapped writes the VMM served into
 *    RAM, and the frames a model reported with MODIFIED_MEMORY. Writes a
 *    model makes through its own mapping and does not report are not
 *    seen (Xen's library has the same rule: modified_memory);
 *  - nr 0 stops tracking (first_pfn ignored); no reply payload.
 * Frames without RAM, or whose writes go to a device model, are never
 * reported after the first call. nr > IOREQVM_DIRTY_MAX_PAGES (Xen: 1 GiB;
 * here the reply's 4 KiB bitmap, 128 MiB of frames), a range past
 * guest-physical space, or pad nonzero: EINVAL. A backend that cannot
 * log: EOPNOTSUPP.
 */
#define IOREQVM_DIRTY_MAX_PAGES (IOREQVM_CTL_MAX_PAYLOAD * 8)
struct ioreqvm_op_track_dirty_vram { /* Xen's xen_dm_op_track_dirty_vram */
	uint32_t nr;
	uint32_t pad;
	uint64_t first_pfn;
};

struct ioreqvm_op_modified_memory {
	uint64_t first_pfn;
	uint64_t nr;
};

struct ioreqvm_op_vm_info {        /* VM_INFO reply; request has no payload */
	uint32_t version;
	uint32_t nr_vcpus;
	uint64_t ram_size;
	uint64_t nr_pages;             /* guest-physical space */
	char backend[16];
	uint32_t max_servers;
	uint32_t mappings_used, mappings_limit;
	uint32_t pad;
	uint64_t unbacked_reads[2], unbacked_writes[2]; /* [0] ports, [1] MMIO */
	uint64_t ro_writes_dropped;
	uint64_t p2m_runs;
	uint64_t mmio_exits;           /* every trapped guest-physical access */
};

/*
 * MAP_GUEST_MEMORY reply + fd: the RAM memfd and where the boot RAM's two
 * regions sit in it. The memfd also backs frames populated later (X4): its
 * size covers them; RAM_RUNS tells which frames have RAM now.
 */
struct ioreqvm_op_guest_memory {
	uint32_t nr_regions;
	uint32_t pad;
	uint64_t memfd_size;
	struct {
		uint64_t gpa, size, offset;
	} region[2];
};

#define IOREQVM_MAX_SERVERS_LISTED 32
struct ioreqvm_op_server_list {    /* LIST_SERVERS reply */
	uint32_t nr;
	uint32_t pad;
	struct {
		uint16_t id;
		uint8_t enabled, has_bufioreq;
		uint32_t nr_ranges;
		uint32_t claimed_types;    /* bit t: memory type t claimed by this server */
		uint32_t claim_flags;      /* IOREQVM_MEM_ACCESS_* of its lowest claimed type */
		uint64_t requests, buffered, defaulted;
		int32_t owner_pid;
		uint32_t sleeps;           /* requests a vCPU slept for (saturates; was pad, 0) */
	} server[IOREQVM_MAX_SERVERS_LISTED];
};

#define IOREQVM_MAX_RANGES_LISTED 64
struct ioreqvm_op_range_list {     /* LIST_RANGES reply; request: server_id */
	uint32_t nr;
	uint32_t total;
	struct {
		uint32_t type, flags;
		uint64_t start, end;
	} range[IOREQVM_MAX_RANGES_LISTED];
};

/*
 * XEN_INFO reply (request: no payload): what Xen's libraries answer for the
 * VM's domain. ram_pages counts the guest frames that have RAM now;
 * populate may bring it up to max_ram_pages (the boot RAM plus
 * IOREQVM_POPULATE_MAX_PAGES). xenstore_path is the VM's xenstore socket,
 * NUL-terminated ("" if it has none).
 */
struct ioreqvm_op_xen_info {
	uint32_t domid;
	uint32_t nr_vcpus;
	uint64_t ram_pages;
	uint64_t max_ram_pages;
	uint8_t uuid[16];
	char xenstore_path[108];
	uint32_t pad;
};

/*
 * POPULATE_PHYSMAP and DECREASE_RESERVATION (DESIGN X4): RAM added at, or
 * taken from, nr_ranges ranges of guest frames, all or nothing: every
 * range is checked before any changes. Ranges: nr >= 1, sorted by
 * first_pfn, disjoint, inside guest-physical space; flags and the entries
 * past nr_ranges zero.
 *  - populate: every frame must be a hole (mmio_dm) that RAM can back:
 *    the boot RAM's frames (holes only after a decrease, or the legacy VGA
 *    window) or the PCI hole below the I/O APIC, 0xC0000-0xFEBFF; else
 *    EINVAL, or EEXIST for a frame that has RAM already. The frames become
 *    ram_rw over fresh (zeroed) memory of the RAM memfd, mappable by models
 *    (RAM_RUNS says where). Past IOREQVM_POPULATE_MAX_PAGES more frames
 *    than the VM booted with: ENOSPC; past the backend's mappings: ENOSPC.
 *    Frames populated in the PCI hole stay ram_rw (SET_MEM_TYPE to another
 *    type: EINVAL); boot RAM's frames populated again may change type.
 *  - decrease: every frame must be ram_rw or ram_ro (EINVAL otherwise: a
 *    hole, or an ioreq_server type, which must go back to ram_rw first);
 *    the frames become holes (mmio_dm: accesses go to device models or get
 *    the default) and their memory is released.
 * No reply payload.
 */
#define IOREQVM_PHYSMAP_MAX_RANGES 255
#define IOREQVM_POPULATE_MAX_PAGES 65536 /* 256 MiB */
struct ioreqvm_op_physmap {
	uint32_t nr_ranges;
	uint32_t flags; /* 0 */
	struct {
		uint64_t first_pfn, nr;
	} range[IOREQVM_PHYSMAP_MAX_RANGES];
};

/*
 * RAM_RUNS: where the guest frames with RAM are in the RAM memfd
 * (MAP_GUEST_MEMORY's), from first_pfn on: up to IOREQVM_MAX_RAM_RUNS runs
 * of frames whose pages follow each other in the memfd, in order; next_pfn
 * is where to ask again (nr_pages when none are left). generation changes
 * with every populate and decrease: a caller that sees it change between
 * two asks starts again.
 */
struct ioreqvm_op_ram_runs_req {
	uint64_t first_pfn;
};

#define IOREQVM_MAX_RAM_RUNS 160
struct ioreqvm_op_ram_runs {
	uint32_t nr;
	uint32_t pad;
	uint64_t next_pfn;
	uint64_t generation;
	uint64_t nr_pages; /* guest-physical space */
	struct {
		uint64_t first_pfn, nr, offset;
	} run[IOREQVM_MAX_RAM_RUNS];
};

#endif
