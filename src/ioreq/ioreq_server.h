/* SPDX-License-Identifier: MIT */
/*
 * IOREQ servers of one VM (DESIGN I1-I10): creation with shared request
 * slots and a buffered ring in a memfd, I/O ranges per kind, enable state,
 * destruction. vCPUs pick a server (I8) from an immutable view published by
 * RCU, holding a reference while they wait, so a server can be destroyed
 * (I5) while a vCPU waits on it: the vCPU gets the default answer (I9).
 */
#ifndef IOREQVM_IOREQ_SERVER_H
#define IOREQVM_IOREQ_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ioreqvm/ctl_proto.h"
#include "ioreqvm/ioreq_abi.h"
#include "util/rangeset.h"

struct vm;
struct vcpu;

#define IOREQ_NR_RANGE_KINDS 3
#define IOREQ_MAX_RANGES 256 /* per server and kind */
#define IOREQ_DEFAULT_MAX_SERVERS 8
#define IOREQ_MAX_SERVERS 64

struct ioreq_server {
	uint16_t id;
	const void *owner; /* the control connection that created it */
	int owner_pid;
	bool bufioreq;
	atomic_bool enabled;
	atomic_bool dead;
	atomic_int refs;
	unsigned nr_vcpus;
	int shm_fd, evt_fd;
	uint8_t *shm;
	struct ioreqvm_ioreq *slots;
	struct ioreqvm_buffered_iopage *buf;
	struct ioreqvm_notify *notify;
	pthread_spinlock_t buf_lock; /* vCPUs producing into the buffered ring */
	uint32_t buf_rp_seen;     /* read_pointer last read (under buf_lock) */
	/* Per kind, under ioreq_servers.lock; val.tag: IOREQVM_IO_RANGE_BUFFERED or 0. */
	struct rangeset ranges[IOREQ_NR_RANGE_KINDS];
	_Atomic uint64_t nr_requests, nr_buffered, nr_defaulted;
	_Atomic uint64_t nr_sleeps; /* requests a vCPU had to sleep for */
};

/* What vCPUs search: enabled servers and copies of their ranges. */
struct ioreq_view {
	unsigned nr;
	struct {
		struct ioreq_server *s;
		struct rangeset ranges[IOREQ_NR_RANGE_KINDS]; /* copies of s->ranges */
	} srv[IOREQ_MAX_SERVERS];
};

struct p2m;

struct ioreq_servers {
	pthread_mutex_t lock; /* writers */
	struct p2m *p2m;      /* claims live there (C4, C5) */
	unsigned max;
	unsigned nr_vcpus;
	struct ioreq_server *table[IOREQ_MAX_SERVERS];
	struct ioreq_view *view; /* RCU */
	uint16_t next_id;
};

int ioreq_servers_init(struct ioreq_servers *ss, struct p2m *p2m, unsigned max_servers,
		       unsigned nr_vcpus);
void ioreq_servers_destroy(struct ioreq_servers *ss);

/* The control operations. 0 or -errno with a message; @owner is the caller. */
int ioreq_server_create(struct ioreq_servers *ss, const void *owner, int owner_pid, bool bufioreq,
			uint16_t *id, char *err, size_t errlen);
int ioreq_server_destroy(struct ioreq_servers *ss, const void *owner, uint16_t id, char *err,
			 size_t errlen);
int ioreq_server_info(struct ioreq_servers *ss, const void *owner, uint16_t id,
		      struct ioreqvm_op_info *info, int *shm_fd, int *evt_fd, char *err,
		      size_t errlen);
int ioreq_server_map_range(struct ioreq_servers *ss, const void *owner, uint16_t id,
			   uint32_t kind, uint64_t start, uint64_t end, uint32_t flags, char *err,
			   size_t errlen);
int ioreq_server_unmap_range(struct ioreq_servers *ss, const void *owner, uint16_t id,
			     uint32_t kind, uint64_t start, uint64_t end, char *err, size_t errlen);
int ioreq_server_set_state(struct ioreq_servers *ss, const void *owner, uint16_t id,
			   bool enabled, char *err, size_t errlen);
/*
 * map_mem_type_to_ioreq_server (DESIGN C1-C3): claim ioreq_server @type
 * for the server @id of @owner with @flags, or release it (flags 0).
 */
int ioreq_server_claim(struct ioreq_servers *ss, const void *owner, uint16_t id, uint32_t type,
		       uint32_t flags, char *err, size_t errlen);
/* Destroy every server of @owner (its connection closed). */
void ioreq_servers_drop_owner(struct ioreq_servers *ss, const void *owner);
/*
 * The ioreq_server types whose claim belongs to a server of @owner: bit t
 * set for type t, as p2m_set_mem_type takes it (R5).
 */
uint32_t ioreq_servers_owned_types(struct ioreq_servers *ss, const void *owner);

/* Reports for ioreqctl. */
void ioreq_servers_list(struct ioreq_servers *ss, struct ioreqvm_op_server_list *out);
int ioreq_server_ranges(struct ioreq_servers *ss, uint16_t id, struct ioreqvm_op_range_list *out);

/*
 * vCPU side: the enabled server whose range of @kind holds all of
 * [addr, addr + len), with a reference the caller drops with
 * ioreq_server_put(); NULL if none. *range_flags gets that range's flags.
 */
struct ioreq_server *ioreq_select(struct ioreq_servers *ss, uint32_t kind, uint64_t addr,
				  uint64_t len, uint32_t *range_flags);
/*
 * The same without a reference, for a caller inside urcu_bp_read_lock():
 * the server stays valid until that read section ends (destroy publishes a
 * view without it and waits for a grace period before dropping the table's
 * reference).
 */
struct ioreq_server *ioreq_select_rcu(struct ioreq_servers *ss, uint32_t kind, uint64_t addr,
				      uint64_t len, uint32_t *range_flags);
void ioreq_server_put(struct ioreq_server *s);
/* The enabled server @id, with a reference; NULL if none. vCPU side. */
struct ioreq_server *ioreq_server_get(struct ioreq_servers *ss, uint16_t id);

#endif
