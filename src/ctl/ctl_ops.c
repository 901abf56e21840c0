/* SPDX-License-Identifier: MIT */
/*
 * Control op table and handlers. Each handler validates every field (pad
 * fields must be zero), calls the owning subsystem, and fills a reply; the
 * subsystem writes the explanation of a refusal. Server ownership checks
 * (EPERM for another connection's server) live in the IOREQ-server layer.
 */
#include "ctl/ctl_ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/vm.h"

#define REPLY(rep, type) ((type *)(rep)->payload)

static int bad_pad(struct ctl_reply *rep)
{
	snprintf(rep->msg, sizeof(rep->msg), "padding fields must be zero");
	return -EINVAL;
}

static int op_create(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_create *r = req;
	if (r->pad[0] | r->pad[1] | r->pad[2])
		return bad_pad(rep);
	if (r->handle_bufioreq > 1) {
		snprintf(rep->msg, sizeof(rep->msg), "handle_bufioreq must be 0 or 1");
		return -EINVAL;
	}
	uint16_t id;
	int rc = ioreq_server_create(&vm->servers, c->conn, c->pid, r->handle_bufioreq, &id,
				     rep->msg, sizeof(rep->msg));
	if (!rc) {
		REPLY(rep, struct ioreqvm_op_server_id)->id = id;
		rep->len = sizeof(struct ioreqvm_op_server_id);
	}
	return rc;
}

static int op_destroy(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_server_id *r = req;
	if (r->pad)
		return bad_pad(rep);
	return ioreq_server_destroy(&vm->servers, c->conn, r->id, rep->msg, sizeof(rep->msg));
}

static int op_get_info(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_get_info *r = req;
	if (r->flags) {
		snprintf(rep->msg, sizeof(rep->msg), "flags must be 0");
		return -EINVAL;
	}
	int rc = ioreq_server_info(&vm->servers, c->conn, r->id,
				   REPLY(rep, struct ioreqvm_op_info), &rep->fds[0], &rep->fds[1],
				   rep->msg, sizeof(rep->msg));
	if (!rc) {
		rep->len = sizeof(struct ioreqvm_op_info);
		rep->nr_fds = 2;
	}
	return rc;
}

static int op_map_range(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_range *r = req;
	return ioreq_server_map_range(&vm->servers, c->conn, r->id, r->type, r->start, r->end,
				      r->flags, rep->msg, sizeof(rep->msg));
}

static int op_unmap_range(struct vm *vm, struct ctl_caller *c, const void *req,
			  struct ctl_reply *rep)
{
	const struct ioreqvm_op_range *r = req;
	if (r->flags)
		return bad_pad(rep);
	return ioreq_server_unmap_range(&vm->servers, c->conn, r->id, r->type, r->start, r->end,
					rep->msg, sizeof(rep->msg));
}

static int op_set_state(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_set_state *r = req;
	if (r->pad)
		return bad_pad(rep);
	if (r->enabled > 1) {
		snprintf(rep->msg, sizeof(rep->msg), "enabled must be 0 or 1");
		return -EINVAL;
	}
	return ioreq_server_set_state(&vm->servers, c->conn, r->id, r->enabled, rep->msg,
				      sizeof(rep->msg));
}

static int op_isa_irq(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_isa_irq *r = req;
	if (r->pad)
		return bad_pad(rep);
	if (r->isa_irq > 15 || r->level > 1) {
		snprintf(rep->msg, sizeof(rep->msg), "ISA IRQ %u level %u: IRQ 0-15, level 0 or 1",
			 r->isa_irq, r->level);
		return -EINVAL;
	}
	int rc = vm->ops->irq_line(vm, r->isa_irq, r->level);
	if (rc)
		snprintf(rep->msg, sizeof(rep->msg), "raising ISA IRQ %u: %s", r->isa_irq, strerror(-rc));
	return rc;
}

/*
 * PCI INTx to GSI: the in-kernel I/O APIC has pins 16-23 for PCI; device
 * and pin are swizzled onto them the way PCI bridges do.
 */
static int op_pci_intx(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_pci_intx *r = req;
	if (r->pad)
		return bad_pad(rep);
	if (r->domain || r->device > 31 || r->intx > 3 || r->level > 1) {
		snprintf(rep->msg, sizeof(rep->msg), "PCI INTx %04x:%02x:%02x INT%c level %u: "
			 "segment 0, device 0-31, INTA-INTD, level 0 or 1", r->domain, r->bus,
			 r->device, 'A' + (r->intx & 3), r->level);
		return -EINVAL;
	}
	unsigned gsi = 16 + ((r->device + r->intx) & 7);
	return vm->ops->irq_line(vm, gsi, r->level);
}

static int op_msi(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_msi *r = req;
	if (r->pad)
		return bad_pad(rep);
	if ((r->addr & 0xfff00000ULL) != 0xfee00000ULL || (r->addr >> 32)) {
		snprintf(rep->msg, sizeof(rep->msg), "MSI address 0x%" PRIx64 " is not 0xfeexxxxx",
			 r->addr);
		return -EINVAL;
	}
	if (!vm->ops->signal_msi) {
		snprintf(rep->msg, sizeof(rep->msg), "the %s backend cannot inject MSIs",
			 vm->ops->name);
		return -EOPNOTSUPP;
	}
	int rc = vm->ops->signal_msi(vm, r->addr, r->data);
	if (rc)
		snprintf(rep->msg, sizeof(rep->msg), "injecting MSI: %s", strerror(-rc));
	return rc;
}

static int op_set_mem_type(struct vm *vm, struct ctl_caller *c, const void *req,
			   struct ctl_reply *rep)
{
	const struct ioreqvm_op_set_mem_type *r = req;
	if (r->pad)
		return bad_pad(rep);
	/* R5: claimed pages change only through the claim's owner. */
	uint32_t owned = ioreq_servers_owned_types(&vm->servers, c->conn);
	return p2m_set_mem_type(&vm->p2m, r->mem_type, r->first_pfn, r->nr, owned, rep->msg,
				sizeof(rep->msg));
}

static int op_get_mem_type(struct vm *vm, struct ctl_caller *c, const void *req,
			   struct ctl_reply *rep)
{
	const struct ioreqvm_op_get_mem_type *r = req;
	uint32_t t;
	if (p2m_get_mem_type(&vm->p2m, r->pfn, &t)) {
		snprintf(rep->msg, sizeof(rep->msg), "pfn 0x%" PRIx64 " is outside guest-physical "
			 "space (%" PRIu64 " pages)", r->pfn, vm->p2m.nr_pages);
		return -EINVAL;
	}
	REPLY(rep, struct ioreqvm_op_mem_type)->mem_type = (uint16_t)t;
	rep->len = sizeof(struct ioreqvm_op_mem_type);
	return 0;
}

static int op_modified_memory(struct vm *vm, struct ctl_caller *c, const void *req,
			      struct ctl_reply *rep)
{
	const struct ioreqvm_op_modified_memory *r = req;
	if (!r->nr || r->first_pfn + r->nr < r->first_pfn || r->first_pfn + r->nr > vm->p2m.nr_pages) {
		snprintf(rep->msg, sizeof(rep->msg), "pfn range 0x%" PRIx64 "+0x%" PRIx64
			 " is empty or outside guest-physical space", r->first_pfn, r->nr);
		return -EINVAL;
	}
	/* Xen: frames a model modified are dirty for track_dirty_vram too. */
	dirty_vram_note(&vm->dirty, r->first_pfn * GUEST_PAGE_SIZE, r->nr * GUEST_PAGE_SIZE);
	/* K8: tcg forgets code translated from these pages; kvm runs RAM as it is. */
	if (vm->ops->code_changed)
		return vm->ops->code_changed(vm, NULL, r->first_pfn * GUEST_PAGE_SIZE,
					     r->nr * GUEST_PAGE_SIZE);
	return 0;
}

static int op_track_dirty_vram(struct vm *vm, struct ctl_caller *c, const void *req,
			       struct ctl_reply *rep)
{
	const struct ioreqvm_op_track_dirty_vram *r = req;
	if (r->pad)
		return bad_pad(rep);
	uint64_t *bitmap = (uint64_t *)(void *)rep->payload;
	int rc = dirty_vram_track(vm, r->first_pfn, r->nr, bitmap, rep->msg, sizeof(rep->msg));
	if (!rc)
		rep->len = (uint32_t)((r->nr + 63) / 64 * 8);
	return rc;
}

static int op_map_mem_type(struct vm *vm, struct ctl_caller *c, const void *req,
			   struct ctl_reply *rep)
{
	const struct ioreqvm_op_map_mem_type *r = req;
	if (r->opaque) {
		snprintf(rep->msg, sizeof(rep->msg), "opaque must be 0 (no continuations here)");
		return -EINVAL;
	}
	return ioreq_server_claim(&vm->servers, c->conn, r->id, r->type, r->flags, rep->msg,
				  sizeof(rep->msg));
}

/*
 * Stop the VM this connection belongs to (a connection reaches one VM, so
 * no other can be named). Xen's reasons where ioreqvm has the outcome, and
 * ioreqvm's own quit; the exit status is what the README documents.
 */
static int op_remote_shutdown(struct vm *vm, struct ctl_caller *c, const void *req,
			      struct ctl_reply *rep)
{
	const struct ioreqvm_op_remote_shutdown *r = req;
	int status;
	const char *what;
	switch (r->reason) {
	case IOREQVM_SHUTDOWN_POWEROFF:
		status = VM_EXIT_POWEROFF, what = "power off";
		break;
	case IOREQVM_SHUTDOWN_REBOOT:
		status = VM_EXIT_RESET, what = "reset (ioreqvm does not restart guests)";
		break;
	case IOREQVM_SHUTDOWN_QUIT:
		status = VM_EXIT_QUIT, what = "quit";
		break;
	default:
		snprintf(rep->msg, sizeof(rep->msg), "shutdown reason %" PRIu32 " not supported: "
			 "poweroff (0), reboot (1) or quit (0x100)", r->reason);
		return -EINVAL;
	}
	log_info("device model (pid %d) stops the VM: %s", (int)c->pid, what);
	vm_stop(vm, status);
	return 0;
}

static int op_vm_info(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	struct ioreqvm_op_vm_info *i = REPLY(rep, struct ioreqvm_op_vm_info);
	struct p2m_stats st;
	p2m_get_stats(&vm->p2m, &st);
	*i = (struct ioreqvm_op_vm_info){
		.version = IOREQVM_CTL_VERSION,
		.nr_vcpus = vm->nr_vcpus,
		.ram_size = vm->ram.ram_size,
		.nr_pages = vm->p2m.nr_pages,
		.max_servers = vm->servers.max,
		.mappings_used = st.mappings_used,
		.mappings_limit = st.mappings_limit,
		.unbacked_reads = { vm->unbacked_reads[0], vm->unbacked_reads[1] },
		.unbacked_writes = { vm->unbacked_writes[0], vm->unbacked_writes[1] },
		.ro_writes_dropped = vm->ro_writes_dropped,
		.p2m_runs = st.nr_runs,
		.mmio_exits = vm_mmio_exits(vm),
	};
	snprintf(i->backend, sizeof(i->backend), "%s", vm->ops->name);
	rep->len = sizeof(*i);
	return 0;
}

static int op_map_guest_memory(struct vm *vm, struct ctl_caller *c, const void *req,
			       struct ctl_reply *rep)
{
	struct ioreqvm_op_guest_memory *g = REPLY(rep, struct ioreqvm_op_guest_memory);
	memset(g, 0, sizeof(*g));
	g->nr_regions = vm->ram.nr_regions;
	g->memfd_size = vm->ram.size;
	for (unsigned i = 0; i < vm->ram.nr_regions; i++) {
		g->region[i].gpa = vm->ram.region[i].gpa;
		g->region[i].size = vm->ram.region[i].size;
		g->region[i].offset = vm->ram.region[i].offset;
	}
	rep->len = sizeof(*g);
	rep->fds[0] = vm->ram.memfd;
	rep->nr_fds = 1;
	return 0;
}

static int op_list_servers(struct vm *vm, struct ctl_caller *c, const void *req,
			   struct ctl_reply *rep)
{
	struct ioreqvm_op_server_list *l = REPLY(rep, struct ioreqvm_op_server_list);
	ioreq_servers_list(&vm->servers, l);
	rep->len = sizeof(*l);
	return 0;
}

static int op_list_ranges(struct vm *vm, struct ctl_caller *c, const void *req,
			  struct ctl_reply *rep)
{
	const struct ioreqvm_op_server_id *r = req;
	if (r->pad)
		return bad_pad(rep);
	int rc = ioreq_server_ranges(&vm->servers, r->id, REPLY(rep, struct ioreqvm_op_range_list));
	if (rc)
		snprintf(rep->msg, sizeof(rep->msg), "no IOREQ server %u", r->id);
	else
		rep->len = sizeof(struct ioreqvm_op_range_list);
	return rc;
}

static int op_dm_ready(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	c->ready = true;
	return 0;
}

static int op_xen_info(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	struct ioreqvm_op_xen_info *i = REPLY(rep, struct ioreqvm_op_xen_info);
	struct p2m_stats st;
	p2m_get_stats(&vm->p2m, &st);
	memset(i, 0, sizeof(*i));
	i->domid = vm->xen.domid;
	i->nr_vcpus = vm->nr_vcpus;
	i->ram_pages = st.ram_pages;
	i->max_ram_pages = st.max_ram_pages;
	memcpy(i->uuid, vm->xen.uuid, sizeof(i->uuid));
	snprintf(i->xenstore_path, sizeof(i->xenstore_path), "%s", vm->xen.xenstore_path);
	rep->len = sizeof(*i);
	return 0;
}

/* The ranges of a physmap op, checked for its framing: count, flags, unused entries zero. */
static int physmap_ranges(const struct ioreqvm_op_physmap *r, struct p2m_range *out,
			  struct ctl_reply *rep)
{
	if (r->flags)
		return bad_pad(rep);
	if (!r->nr_ranges || r->nr_ranges > IOREQVM_PHYSMAP_MAX_RANGES) {
		snprintf(rep->msg, sizeof(rep->msg), "nr_ranges %" PRIu32 ": 1 to %d", r->nr_ranges,
			 IOREQVM_PHYSMAP_MAX_RANGES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < IOREQVM_PHYSMAP_MAX_RANGES; i++) {
		if (i >= r->nr_ranges && (r->range[i].first_pfn | r->range[i].nr))
			return bad_pad(rep);
		if (i < r->nr_ranges)
			out[i] = (struct p2m_range){ r->range[i].first_pfn, r->range[i].nr };
	}
	return 0;
}

/* K8: tcg forgets code translated from frames whose memory changed under them. */
static void physmap_code_changed(struct vm *vm, const struct p2m_range *r, uint32_t n)
{
	for (uint32_t i = 0; vm->ops->code_changed && i < n; i++)
		vm->ops->code_changed(vm, NULL, r[i].first * GUEST_PAGE_SIZE, r[i].nr * GUEST_PAGE_SIZE);
}

static int op_populate(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_physmap *r = req;
	struct p2m_range ranges[IOREQVM_PHYSMAP_MAX_RANGES];
	int rc = physmap_ranges(r, ranges, rep);
	if (!rc)
		rc = p2m_populate(&vm->p2m, ranges, r->nr_ranges, rep->msg, sizeof(rep->msg));
	if (!rc)
		physmap_code_changed(vm, ranges, r->nr_ranges);
	return rc;
}

static int op_decrease(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_physmap *r = req;
	struct p2m_range ranges[IOREQVM_PHYSMAP_MAX_RANGES];
	int rc = physmap_ranges(r, ranges, rep);
	if (!rc)
		rc = p2m_decrease(&vm->p2m, ranges, r->nr_ranges, rep->msg, sizeof(rep->msg));
	if (!rc)
		physmap_code_changed(vm, ranges, r->nr_ranges);
	return rc;
}

static int op_ram_runs(struct vm *vm, struct ctl_caller *c, const void *req, struct ctl_reply *rep)
{
	const struct ioreqvm_op_ram_runs_req *r = req;
	struct ioreqvm_op_ram_runs *out = REPLY(rep, struct ioreqvm_op_ram_runs);
	struct p2m_ram_run runs[IOREQVM_MAX_RAM_RUNS];
	memset(out, 0, sizeof(*out));
	size_t n = p2m_ram_runs(&vm->p2m, r->first_pfn, runs, IOREQVM_MAX_RAM_RUNS, &out->next_pfn,
				&out->generation);
	out->nr = (uint32_t)n;
	out->nr_pages = vm->p2m.nr_pages;
	for (size_t i = 0; i < n; i++) {
		out->run[i].first_pfn = runs[i].first;
		out->run[i].nr = runs[i].nr;
		out->run[i].offset = runs[i].offset;
	}
	rep->len = sizeof(*out);
	return 0;
}

static const struct ctl_op_desc ops[] = {
	{ IOREQVM_OP_CREATE_IOREQ_SERVER, "create_ioreq_server", sizeof(struct ioreqvm_op_create), op_create, false },
	{ IOREQVM_OP_GET_IOREQ_SERVER_INFO, "get_ioreq_server_info", sizeof(struct ioreqvm_op_get_info), op_get_info, false },
	{ IOREQVM_OP_MAP_IO_RANGE, "map_io_range_to_ioreq_server", sizeof(struct ioreqvm_op_range), op_map_range, false },
	{ IOREQVM_OP_UNMAP_IO_RANGE, "unmap_io_range_from_ioreq_server", sizeof(struct ioreqvm_op_range), op_unmap_range, false },
	{ IOREQVM_OP_SET_IOREQ_SERVER_STATE, "set_ioreq_server_state", sizeof(struct ioreqvm_op_set_state), op_set_state, false },
	{ IOREQVM_OP_DESTROY_IOREQ_SERVER, "destroy_ioreq_server", sizeof(struct ioreqvm_op_server_id), op_destroy, false },
	{ IOREQVM_OP_TRACK_DIRTY_VRAM, "track_dirty_vram", sizeof(struct ioreqvm_op_track_dirty_vram), op_track_dirty_vram, false },
	{ IOREQVM_OP_SET_PCI_INTX_LEVEL, "set_pci_intx_level", sizeof(struct ioreqvm_op_pci_intx), op_pci_intx, true },
	{ IOREQVM_OP_SET_ISA_IRQ_LEVEL, "set_isa_irq_level", sizeof(struct ioreqvm_op_isa_irq), op_isa_irq, true },
	{ IOREQVM_OP_MODIFIED_MEMORY, "modified_memory", sizeof(struct ioreqvm_op_modified_memory), op_modified_memory, false },
	{ IOREQVM_OP_SET_MEM_TYPE, "set_mem_type", sizeof(struct ioreqvm_op_set_mem_type), op_set_mem_type, false },
	{ IOREQVM_OP_INJECT_MSI, "inject_msi", sizeof(struct ioreqvm_op_msi), op_msi, true },
	{ IOREQVM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER, "map_mem_type_to_ioreq_server", sizeof(struct ioreqvm_op_map_mem_type), op_map_mem_type, false },
	{ IOREQVM_OP_REMOTE_SHUTDOWN, "remote_shutdown", sizeof(struct ioreqvm_op_remote_shutdown), op_remote_shutdown, true },
	{ IOREQVM_OP_VM_INFO, "vm_info", 0, op_vm_info, true },
	{ IOREQVM_OP_GET_MEM_TYPE, "get_mem_type", sizeof(struct ioreqvm_op_get_mem_type), op_get_mem_type, true },
	{ IOREQVM_OP_MAP_GUEST_MEMORY, "map_guest_memory", 0, op_map_guest_memory, true },
	{ IOREQVM_OP_LIST_SERVERS, "list_servers", 0, op_list_servers, true },
	{ IOREQVM_OP_LIST_RANGES, "list_ranges", sizeof(struct ioreqvm_op_server_id), op_list_ranges, true },
	{ IOREQVM_OP_DM_READY, "dm_ready", 0, op_dm_ready, true },
	{ IOREQVM_OP_XEN_INFO, "xen_info", 0, op_xen_info, true },
	{ IOREQVM_OP_POPULATE_PHYSMAP, "populate_physmap", sizeof(struct ioreqvm_op_physmap), op_populate, false },
	{ IOREQVM_OP_DECREASE_RESERVATION, "decrease_reservation", sizeof(struct ioreqvm_op_physmap), op_decrease, false },
	{ IOREQVM_OP_RAM_RUNS, "ram_runs", sizeof(struct ioreqvm_op_ram_runs_req), op_ram_runs, false },
};

const struct ctl_op_desc *ctl_check_request(const void *buf, size_t len, bool truncated,
					    unsigned nr_fds, const void **payload,
					    struct ctl_reply *rep)
{
	struct ioreqvm_ctl_req h;
	rep->result = -EINVAL;
	if (nr_fds) {
		snprintf(rep->msg, sizeof(rep->msg), "requests carry no file descriptors (%u sent)",
			 nr_fds);
		return NULL;
	}
	if (truncated || len > sizeof(h) + IOREQVM_CTL_MAX_PAYLOAD) {
		snprintf(rep->msg, sizeof(rep->msg), "message longer than %zu bytes",
			 sizeof(h) + (size_t)IOREQVM_CTL_MAX_PAYLOAD);
		return NULL;
	}
	if (len < sizeof(h)) {
		snprintf(rep->msg, sizeof(rep->msg), "message of %zu bytes is shorter than the "
			 "%zu-byte header", len, sizeof(h));
		return NULL;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != IOREQVM_CTL_MAGIC) {
		snprintf(rep->msg, sizeof(rep->msg), "bad magic 0x%08" PRIx32, h.magic);
		return NULL;
	}
	if (h.version != IOREQVM_CTL_VERSION) {
		rep->result = -EPROTONOSUPPORT;
		snprintf(rep->msg, sizeof(rep->msg), "protocol version %u, this VMM speaks %u",
			 h.version, IOREQVM_CTL_VERSION);
		return NULL;
	}
	if (h.len != len - sizeof(h)) {
		snprintf(rep->msg, sizeof(rep->msg), "header says %" PRIu32 " payload bytes, "
			 "%zu arrived", h.len, len - sizeof(h));
		return NULL;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].op != h.op)
			continue;
		if (h.len != ops[i].req_size) {
			snprintf(rep->msg, sizeof(rep->msg), "%s takes %" PRIu32 " payload bytes, not %"
				 PRIu32, ops[i].name, ops[i].req_size, h.len);
			return NULL;
		}
		*payload = (const uint8_t *)buf + sizeof(h);
		rep->result = 0;
		return &ops[i];
	}
	rep->result = -EOPNOTSUPP;
	snprintf(rep->msg, sizeof(rep->msg), "unknown op %u", h.op);
	return NULL;
}

void ctl_run_op(struct vm *vm, struct ctl_caller *caller, const struct ctl_op_desc *d,
		const void *payload, struct ctl_reply *rep)
{
	/* Copy to an aligned buffer: payloads hold 64-bit fields. */
	uint64_t req[IOREQVM_CTL_MAX_PAYLOAD / 8];
	memcpy(req, payload, d->req_size);
	rep->len = 0;
	rep->nr_fds = 0;
	rep->msg[0] = 0;
	rep->result = d->fn(vm, caller, req, rep);
	if (rep->result) {
		rep->len = 0;
		rep->nr_fds = 0;
		if (!rep->msg[0])
			snprintf(rep->msg, sizeof(rep->msg), "%s: %s", d->name, strerror(-rep->result));
	}
}
