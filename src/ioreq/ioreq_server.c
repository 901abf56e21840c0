/* SPDX-License-Identifier: MIT */
/*
 * IOREQ server bookkeeping. Writers (the control thread) hold the lock,
 * change the table or a server's range sets, then publish a fresh view for
 * the vCPUs and free the old one after an RCU grace period. A server lives
 * while the table or a waiting vCPU holds a reference; destroying one marks
 * it dead and wakes every vCPU sleeping on its slots.
 */
#include "ioreq/ioreq_server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>

#include "p2m/p2m.h"

static const char *const kind_name[IOREQ_NR_RANGE_KINDS] = { "port", "memory", "pci" };

static void free_view(struct ioreq_view *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->nr; i++)
		for (unsigned k = 0; k < IOREQ_NR_RANGE_KINDS; k++)
			rangeset_free(&v->srv[i].ranges[k]);
	free(v);
}

/* Build and publish the view of enabled servers; caller holds the lock. */
static int publish(struct ioreq_servers *ss)
{
	struct ioreq_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = ss->table[i];
		if (!s || !atomic_load(&s->enabled))
			continue;
		unsigned j = v->nr++;
		v->srv[j].s = s;
		for (unsigned k = 0; k < IOREQ_NR_RANGE_KINDS; k++) {
			if (rangeset_copy(&v->srv[j].ranges[k], &s->ranges[k])) {
				free_view(v);
				return -ENOMEM;
			}
		}
	}
	struct ioreq_view *old = ss->view;
	rcu_assign_pointer(ss->view, v);
	urcu_bp_synchronize_rcu();
	free_view(old);
	return 0;
}

int ioreq_servers_init(struct ioreq_servers *ss, struct p2m *p2m, unsigned max_servers,
		       unsigned nr_vcpus)
{
	memset(ss, 0, sizeof(*ss));
	ss->p2m = p2m;
	if (!max_servers || max_servers > IOREQ_MAX_SERVERS || nr_vcpus > IOREQVM_MAX_VCPUS)
		return -EINVAL;
	pthread_mutex_init(&ss->lock, NULL);
	ss->max = max_servers;
	ss->nr_vcpus = nr_vcpus;
	ss->next_id = 1;
	pthread_mutex_lock(&ss->lock);
	int rc = publish(ss);
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static void server_free(struct ioreq_server *s)
{
	if (s->shm)
		munmap(s->shm, IOREQVM_SHM_SIZE);
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	if (s->evt_fd >= 0)
		close(s->evt_fd);
	for (unsigned k = 0; k < IOREQ_NR_RANGE_KINDS; k++)
		rangeset_free(&s->ranges[k]);
	pthread_spin_destroy(&s->buf_lock);
	free(s);
}

void ioreq_server_put(struct ioreq_server *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		server_free(s);
}

/* Wake every vCPU that may sleep on one of the server's slots. */
static void wake_all(struct ioreq_server *s)
{
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		syscall(SYS_futex, (uint8_t *)&s->slots[i] + IOREQVM_IOREQ_STATE_WORD, FUTEX_WAKE,
			INT32_MAX, NULL, NULL, 0);
}

void ioreq_servers_destroy(struct ioreq_servers *ss)
{
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = ss->table[i];
		if (!s)
			continue;
		ss->table[i] = NULL;
		atomic_store(&s->dead, true);
		ioreq_server_put(s);
	}
	free_view(ss->view);
	ss->view = NULL;
	pthread_mutex_destroy(&ss->lock);
}

static struct ioreq_server *find(struct ioreq_servers *ss, const void *owner, uint16_t id,
				 int *rc, char *err, size_t errlen)
{
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = ss->table[i];
		if (!s || s->id != id)
			continue;
		if (s->owner != owner) {
			snprintf(err, errlen, "IOREQ server %u belongs to another connection", id);
			*rc = -EPERM;
			return NULL;
		}
		return s;
	}
	snprintf(err, errlen, "no IOREQ server %u", id);
	*rc = -ENOENT;
	return NULL;
}

static bool id_live(const struct ioreq_servers *ss, uint16_t id)
{
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++)
		if (ss->table[i] && ss->table[i]->id == id)
			return true;
	return false;
}

/*
 * The next id in 1..0xfffe, round robin so a stale id of a dead model finds
 * nothing for a long while, and never the id of a live server: claims and
 * lookups name a server by id, so two live servers must never share one.
 * At most IOREQ_MAX_SERVERS ids are live, so this ends. Caller holds the lock.
 */
static uint16_t next_free_id(struct ioreq_servers *ss)
{
	for (;;) {
		uint16_t id = ss->next_id++;
		if (ss->next_id == 0 || ss->next_id == 0xffff)
			ss->next_id = 1;
		if (!id_live(ss, id))
			return id;
	}
}

/*
 * X2: every slot's vp_eport holds its vCPU's event-channel port, as Xen
 * writes it when it adds a vCPU and when it enables the server. The model
 * may change it (the memory is shared); ioreq_send then refuses to send.
 */
static void set_vp_eports(struct ioreq_server *s)
{
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		__atomic_store_n(&s->slots[v].vp_eport, IOREQVM_VCPU_EVTCHN(s->id, v),
				 __ATOMIC_RELAXED);
}

int ioreq_server_create(struct ioreq_servers *ss, const void *owner, int owner_pid, bool bufioreq,
			uint16_t *id, char *err, size_t errlen)
{
	pthread_mutex_lock(&ss->lock);
	int rc = 0;
	unsigned slot = IOREQ_MAX_SERVERS, count = 0;
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		if (ss->table[i])
			count++;
		else if (slot == IOREQ_MAX_SERVERS)
			slot = i;
	}
	if (count >= ss->max) {
		snprintf(err, errlen, "the VM already has %u IOREQ servers, its limit (I1)", ss->max);
		rc = -ENOSPC;
		goto out;
	}
	struct ioreq_server *s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	s->shm_fd = s->evt_fd = -1;
	for (unsigned k = 0; k < IOREQ_NR_RANGE_KINDS; k++)
		rangeset_init(&s->ranges[k], IOREQ_MAX_RANGES, 0);
	pthread_spin_init(&s->buf_lock, PTHREAD_PROCESS_PRIVATE);
	s->owner = owner;
	s->owner_pid = owner_pid;
	s->bufioreq = bufioreq;
	s->nr_vcpus = ss->nr_vcpus;
	atomic_init(&s->refs, 1);
	s->shm_fd = memfd_create("ioreqvm-ioreq-server", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->shm_fd < 0 || ftruncate(s->shm_fd, IOREQVM_SHM_SIZE) < 0 ||
	    fcntl(s->shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "request slots memfd: %s", strerror(errno));
		server_free(s);
		goto out;
	}
	void *p = mmap(NULL, IOREQVM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->shm_fd, 0);
	s->evt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p == MAP_FAILED || s->evt_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "request slots: %s", strerror(errno));
		if (p != MAP_FAILED)
			s->shm = p;
		server_free(s);
		goto out;
	}
	s->shm = p;
	s->slots = (struct ioreqvm_ioreq *)(s->shm + IOREQVM_SHM_IOREQ_OFFSET);
	s->buf = (struct ioreqvm_buffered_iopage *)(s->shm + IOREQVM_SHM_BUFIOREQ_OFFSET);
	s->notify = (struct ioreqvm_notify *)(s->shm + IOREQVM_SHM_NOTIFY_OFFSET);
	s->notify->vmm_features = IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER;
	s->id = next_free_id(ss);
	set_vp_eports(s);
	ss->table[slot] = s;
	*id = s->id;
out:
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

/* Remove from the table; the caller publishes, then calls finish_destroy(). */
static struct ioreq_server *unlink_server(struct ioreq_servers *ss, struct ioreq_server *s)
{
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++)
		if (ss->table[i] == s)
			ss->table[i] = NULL;
	return s;
}

static void finish_destroy(struct ioreq_servers *ss, struct ioreq_server *s)
{
	/* C4: its claimed pages become ram_rw before destroy returns. */
	p2m_release_server(ss->p2m, s->id);
	/* No vCPU can pick it now (published); those waiting get defaults. */
	atomic_store(&s->dead, true);
	wake_all(s);
	/* A model asleep on its doorbell looks at its connection when woken. */
	__atomic_fetch_add(&s->notify->dm_doorbell, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &s->notify->dm_doorbell, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	ioreq_server_put(s);
}

int ioreq_server_destroy(struct ioreq_servers *ss, const void *owner, uint16_t id, char *err,
			 size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	if (s) {
		unlink_server(ss, s);
		publish(ss);
	}
	pthread_mutex_unlock(&ss->lock);
	if (s)
		finish_destroy(ss, s);
	return rc;
}

void ioreq_servers_drop_owner(struct ioreq_servers *ss, const void *owner)
{
	struct ioreq_server *gone[IOREQ_MAX_SERVERS];
	unsigned n = 0;
	pthread_mutex_lock(&ss->lock);
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = ss->table[i];
		if (s && s->owner == owner)
			gone[n++] = unlink_server(ss, s);
	}
	if (n)
		publish(ss);
	pthread_mutex_unlock(&ss->lock);
	for (unsigned i = 0; i < n; i++)
		finish_destroy(ss, gone[i]);
}

uint32_t ioreq_servers_owned_types(struct ioreq_servers *ss, const void *owner)
{
	uint32_t owned = 0;
	pthread_mutex_lock(&ss->lock);
	for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
		struct p2m_claim c = p2m_claim_peek(ss->p2m, t);
		for (unsigned i = 0; c.flags && i < IOREQ_MAX_SERVERS; i++) {
			struct ioreq_server *s = ss->table[i];
			if (s && s->id == c.server && s->owner == owner)
				owned |= 1u << t;
		}
	}
	pthread_mutex_unlock(&ss->lock);
	return owned;
}

int ioreq_server_info(struct ioreq_servers *ss, const void *owner, uint16_t id,
		      struct ioreqvm_op_info *info, int *shm_fd, int *evt_fd, char *err,
		      size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	if (s) {
		*info = (struct ioreqvm_op_info){
			.nr_vcpus = s->nr_vcpus, .has_bufioreq = s->bufioreq,
			.shm_size = IOREQVM_SHM_SIZE };
		*shm_fd = s->shm_fd;
		*evt_fd = s->evt_fd;
	}
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static int check_kind_bounds(uint32_t kind, uint64_t start, uint64_t end, char *err,
			     size_t errlen)
{
	if (kind >= IOREQ_NR_RANGE_KINDS) {
		snprintf(err, errlen, "unknown range type %" PRIu32 " (0 port, 1 memory, 2 pci)", kind);
		return -EINVAL;
	}
	if (start > end) {
		snprintf(err, errlen, "%s range start 0x%" PRIx64 " is above its end 0x%" PRIx64,
			 kind_name[kind], start, end);
		return -EINVAL;
	}
	if (kind == IOREQVM_IO_RANGE_PORT && end > 0xffff) {
		snprintf(err, errlen, "port range end 0x%" PRIx64 " is above 0xffff", end);
		return -EINVAL;
	}
	if (kind == IOREQVM_IO_RANGE_PCI && end > 0xffffffffULL) {
		snprintf(err, errlen, "pci range end 0x%" PRIx64 " is not an SBDF", end);
		return -EINVAL;
	}
	return 0;
}

int ioreq_server_map_range(struct ioreq_servers *ss, const void *owner, uint16_t id,
			   uint32_t kind, uint64_t start, uint64_t end, uint32_t flags, char *err,
			   size_t errlen)
{
	int rc = check_kind_bounds(kind, start, end, err, errlen);
	if (rc)
		return rc;
	if (flags & ~IOREQVM_IO_RANGE_BUFFERED) {
		snprintf(err, errlen, "unknown range flags 0x%" PRIx32, flags);
		return -EINVAL;
	}
	if ((flags & IOREQVM_IO_RANGE_BUFFERED) && kind == IOREQVM_IO_RANGE_PCI) {
		snprintf(err, errlen, "pci config ranges cannot be buffered");
		return -EINVAL;
	}
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	if (!s)
		goto out;
	if ((flags & IOREQVM_IO_RANGE_BUFFERED) && !s->bufioreq) {
		snprintf(err, errlen, "server %u has no buffered ring for a buffered range", id);
		rc = -EINVAL;
		goto out;
	}
	struct rangeset *rs = &s->ranges[kind];
	rc = rangeset_add(rs, start, end, (struct rangeset_val){ .tag = flags });
	if (rc == -EEXIST) {
		const struct rangeset_range *o = rangeset_overlap(rs, start, end);
		snprintf(err, errlen, "%s range [0x%" PRIx64 ", 0x%" PRIx64 "] overlaps [0x%" PRIx64
			 ", 0x%" PRIx64 "] of server %u", kind_name[kind], start, end, o->start,
			 o->last, id);
	} else if (rc == -ENOSPC) {
		snprintf(err, errlen, "server %u has %d %s ranges, the limit", id, IOREQ_MAX_RANGES,
			 kind_name[kind]);
	}
	if (!rc)
		rc = publish(ss);
out:
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

int ioreq_server_unmap_range(struct ioreq_servers *ss, const void *owner, uint16_t id,
			     uint32_t kind, uint64_t start, uint64_t end, char *err, size_t errlen)
{
	int rc = check_kind_bounds(kind, start, end, err, errlen);
	if (rc)
		return rc;
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	if (!s)
		goto out;
	rc = rangeset_remove(&s->ranges[kind], start, end);
	if (rc)
		snprintf(err, errlen, "server %u has no %s range [0x%" PRIx64 ", 0x%" PRIx64 "]", id,
			 kind_name[kind], start, end);
	else
		rc = publish(ss);
out:
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

int ioreq_server_set_state(struct ioreq_servers *ss, const void *owner, uint16_t id,
			   bool enabled, char *err, size_t errlen)
{
	int rc = 0;
	bool was = false;
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	if (s) {
		was = atomic_load(&s->enabled);
		if (enabled && !was)
			set_vp_eports(s); /* before a vCPU can pick it (publish) */
		atomic_store(&s->enabled, enabled);
		rc = publish(ss);
	}
	pthread_mutex_unlock(&ss->lock);
	/* C5: its claims forward only while it is enabled. */
	if (s && !rc)
		rc = p2m_set_server_enabled(ss->p2m, id, enabled);
	if (s && rc && enabled && !was) {
		/*
		 * All or nothing: an enable the P2M refuses (-ENOSPC, K4) leaves
		 * the server disabled for its ranges and every claim disarmed.
		 * Disabling cannot fail for want of mappings (the release budget).
		 * One control thread runs every op, so s is still in the table.
		 */
		snprintf(err, errlen, "enabling server %u: %s; it stays disabled", id,
			 rc == -ENOSPC ? "arming its claimed pages needs more mappings than the "
			 "backend allows (K4)" : strerror(-rc));
		pthread_mutex_lock(&ss->lock);
		atomic_store(&s->enabled, false);
		publish(ss);
		pthread_mutex_unlock(&ss->lock);
		p2m_set_server_enabled(ss->p2m, id, false);
	}
	return rc;
}

void ioreq_servers_list(struct ioreq_servers *ss, struct ioreqvm_op_server_list *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ss->lock);
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS && out->nr < IOREQVM_MAX_SERVERS_LISTED; i++) {
		struct ioreq_server *s = ss->table[i];
		if (!s)
			continue;
		unsigned j = out->nr++;
		out->server[j].id = s->id;
		out->server[j].enabled = atomic_load(&s->enabled);
		out->server[j].has_bufioreq = s->bufioreq;
		out->server[j].nr_ranges = (uint32_t)(rangeset_count(&s->ranges[0]) +
						      rangeset_count(&s->ranges[1]) +
						      rangeset_count(&s->ranges[2]));
		out->server[j].requests = s->nr_requests;
		out->server[j].buffered = s->nr_buffered;
		out->server[j].defaulted = s->nr_defaulted;
		out->server[j].sleeps = s->nr_sleeps > UINT32_MAX ? UINT32_MAX : (uint32_t)s->nr_sleeps;
		out->server[j].owner_pid = s->owner_pid;
		for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
			struct p2m_claim c = p2m_claim_peek(ss->p2m, t);
			if (!c.flags || c.server != s->id)
				continue;
			if (!out->server[j].claimed_types)
				out->server[j].claim_flags = c.flags;
			out->server[j].claimed_types |= 1u << t;
		}
	}
	pthread_mutex_unlock(&ss->lock);
}

int ioreq_server_ranges(struct ioreq_servers *ss, uint16_t id, struct ioreqvm_op_range_list *out)
{
	memset(out, 0, sizeof(*out));
	int rc = -ENOENT;
	pthread_mutex_lock(&ss->lock);
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = ss->table[i];
		if (!s || s->id != id)
			continue;
		rc = 0;
		for (unsigned k = 0; k < IOREQ_NR_RANGE_KINDS; k++) {
			rangeset_for_each(r, &s->ranges[k]) {
				out->total++;
				if (out->nr == IOREQVM_MAX_RANGES_LISTED)
					continue;
				out->range[out->nr].type = k;
				out->range[out->nr].flags = r->val.tag;
				out->range[out->nr].start = r->start;
				out->range[out->nr].end = r->last;
				out->nr++;
			}
		}
	}
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

struct ioreq_server *ioreq_select_rcu(struct ioreq_servers *ss, uint32_t kind, uint64_t addr,
				      uint64_t len, uint32_t *range_flags)
{
	struct ioreq_view *v = rcu_dereference(ss->view);
	for (unsigned i = 0; v && i < v->nr; i++) {
		const struct rangeset_range *r = rangeset_find(&v->srv[i].ranges[kind], addr, len);
		if (r) {
			*range_flags = r->val.tag;
			return v->srv[i].s;
		}
	}
	return NULL;
}

struct ioreq_server *ioreq_select(struct ioreq_servers *ss, uint32_t kind, uint64_t addr,
				  uint64_t len, uint32_t *range_flags)
{
	urcu_bp_read_lock();
	struct ioreq_server *found = ioreq_select_rcu(ss, kind, addr, len, range_flags);
	if (found)
		atomic_fetch_add(&found->refs, 1);
	urcu_bp_read_unlock();
	return found;
}

struct ioreq_server *ioreq_server_get(struct ioreq_servers *ss, uint16_t id)
{
	struct ioreq_server *found = NULL;
	urcu_bp_read_lock();
	struct ioreq_view *v = rcu_dereference(ss->view);
	for (unsigned i = 0; v && i < v->nr; i++) {
		if (v->srv[i].s->id == id) {
			found = v->srv[i].s;
			atomic_fetch_add(&found->refs, 1);
			break;
		}
	}
	urcu_bp_read_unlock();
	return found;
}

int ioreq_server_claim(struct ioreq_servers *ss, const void *owner, uint16_t id, uint32_t type,
		       uint32_t flags, char *err, size_t errlen)
{
	if (!ioreqvm_mem_type_is_ioreq(type)) {
		snprintf(err, errlen, "only ioreq_server types (4-11) can be claimed, not %u (C1)", type);
		return -EINVAL;
	}
	if (flags & ~(IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE)) {
		snprintf(err, errlen, "claim flags 0x%x: only READ (1) and WRITE (2) (C2)", flags);
		return -EINVAL;
	}
	int rc = 0;
	pthread_mutex_lock(&ss->lock);
	struct ioreq_server *s = find(ss, owner, id, &rc, err, errlen);
	bool enabled = s && atomic_load(&s->enabled);
	pthread_mutex_unlock(&ss->lock);
	if (!s)
		return rc;
	/* One control thread runs every op, so the claim cannot change under us. */
	struct p2m_claim cur = p2m_get_claim(ss->p2m, type);
	if (cur.flags && cur.server != id) {
		if (!flags) {
			snprintf(err, errlen, "%s is claimed by server %u, not %u: only the owner "
				 "releases it (C3)", p2m_type_name(type), cur.server, id);
			return -EINVAL;
		}
		snprintf(err, errlen, "%s is already claimed by server %u (C3)", p2m_type_name(type),
			 cur.server);
		return -EBUSY;
	}
	if (!cur.flags && !flags) {
		snprintf(err, errlen, "%s is not claimed: nothing to release (C3)", p2m_type_name(type));
		return -EINVAL;
	}
	struct p2m_claim c = { .server = id, .flags = flags, .enabled = enabled };
	return p2m_set_claim(ss->p2m, type, &c, err, errlen);
}
