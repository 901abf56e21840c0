/* SPDX-License-Identifier: MIT */
/*
 * libioreq: connection and DM operations. Each call zeroes a request,
 * fills it, sends one message, receives one reply (with any fds) and copies
 * the answer out (STYLE 9). Serving requests lives in serve.c, guest memory
 * in guest_memory.c.
 */
#include "libioreq_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int client_fail(struct libioreq *x, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->error, sizeof(x->error), fmt, ap);
	va_end(ap);
	return rc;
}

/* Why the last libioreq_connect() on this thread failed. */
static _Thread_local char connect_error[256];

const char *libioreq_error(const struct libioreq *x)
{
	return x ? x->error : connect_error;
}

static int connect_fail(int rc, const char *what, const char *path)
{
	snprintf(connect_error, sizeof(connect_error), "%s%s%s: %s", what, path ? " " : "",
		 path ? path : "", strerror(-rc));
	return rc;
}

/* The VMM's refusal left in the socket after it closed; else @rc as it was. */
static int read_refusal(struct libioreq *x, int rc)
{
	struct ioreqvm_ctl_rep rh;
	ssize_t n = recv(x->fd, &rh, sizeof(rh), MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(rh) || rh.magic != IOREQVM_CTL_MAGIC || rh.result >= 0)
		return rc;
	rh.msg[sizeof(rh.msg) - 1] = 0;
	return client_fail(x, rh.result, "%s", rh.msg);
}

int libioreq_connect(const char *path, struct libioreq **out)
{
	struct libioreq *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->fd = -1;
	const char *inherited = path ? NULL : getenv("IOREQVM_FD");
	if (!path && inherited && *inherited) {
		char *end;
		long fd = strtol(inherited, &end, 10);
		if (*end || fd < 0 || fd > 65535 || fcntl(fd, F_GETFD) < 0) {
			free(x);
			return connect_fail(-EBADF, "IOREQVM_FD is not an open file descriptor:",
					    inherited);
		}
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		x->fd = (int)fd;
		*out = x;
		return 0;
	}
	if (!path)
		path = getenv("IOREQVM_SOCKET");
	if (!path || !*path) {
		free(x);
		snprintf(connect_error, sizeof(connect_error),
			 "no control socket: give a path, or set IOREQVM_SOCKET");
		return -ENOENT;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		free(x);
		return connect_fail(-ENAMETOOLONG, "control socket path", path);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	x->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		if (x->fd >= 0)
			close(x->fd);
		free(x);
		return connect_fail(rc, "connecting to", path);
	}
	/*
	 * A refused peer gets one error reply (the reason: another user, too
	 * many connections) and a closed socket: see it now. If the VMM closed
	 * before our request went out, its reply still waits to be read.
	 */
	struct ioreqvm_op_vm_info info;
	int rc = libioreq_vm_info(x, &info);
	if (rc == -EPIPE)
		rc = read_refusal(x, rc);
	if (rc) {
		snprintf(connect_error, sizeof(connect_error), "%s", x->error);
		close(x->fd);
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

int libioreq_connection_fd(const struct libioreq *x)
{
	return x->fd;
}

void libioreq_close(struct libioreq *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

int client_call(struct libioreq *x, uint16_t op, const void *req, uint32_t req_len,
		  void *rep, uint32_t rep_len, int *fds, unsigned max_fds)
{
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = op, .seq = ++x->seq, .len = req_len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)req, req_len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = req_len ? 2 : 1 };
	ssize_t n;
	do {
		n = sendmsg(x->fd, &m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return client_fail(x, -EPIPE, "sending to ioreqvm: %s", strerror(errno));

	static _Thread_local uint8_t buf[sizeof(struct ioreqvm_ctl_rep) + IOREQVM_CTL_MAX_PAYLOAD];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * IOREQVM_CTL_MAX_FDS)];
	} cbuf;
	struct iovec riov = { buf, sizeof(buf) };
	struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = cbuf.b,
			     .msg_controllen = sizeof(cbuf.b) };
	do {
		n = recvmsg(x->fd, &rm, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return client_fail(x, -EPIPE, "ioreqvm closed the connection");
	int got[IOREQVM_CTL_MAX_FDS];
	unsigned nr_got = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&rm); cm; cm = CMSG_NXTHDR(&rm, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nr_got < IOREQVM_CTL_MAX_FDS; i++)
			memcpy(&got[nr_got++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	struct ioreqvm_ctl_rep rh;
	int rc = 0;
	if ((size_t)n < sizeof(rh)) {
		rc = client_fail(x, -EPROTO, "short reply from ioreqvm (%zd bytes)", n);
		goto out;
	}
	memcpy(&rh, buf, sizeof(rh));
	rh.msg[sizeof(rh.msg) - 1] = 0;
	if (rh.magic != IOREQVM_CTL_MAGIC || rh.version != IOREQVM_CTL_VERSION) {
		rc = client_fail(x, -EPROTO, "reply with bad magic or version %u", rh.version);
		goto out;
	}
	if (rh.result < 0) {
		rc = client_fail(x, rh.result, "%s", rh.msg[0] ? rh.msg : strerror(-rh.result));
		goto out;
	}
	if (rh.seq != h.seq || rh.op != op || rh.len != (size_t)n - sizeof(rh) || rh.len != rep_len ||
	    rh.nr_fds != nr_got || nr_got > max_fds) {
		rc = client_fail(x, -EPROTO, "malformed reply to op %u", op);
		goto out;
	}
	if (rep_len)
		memcpy(rep, buf + sizeof(rh), rep_len);
	for (unsigned i = 0; i < nr_got; i++)
		fds[i] = got[i];
	nr_got = 0; /* handed over */
out:
	for (unsigned i = 0; i < nr_got; i++)
		close(got[i]);
	return rc;
}

int libioreq_vm_info(struct libioreq *x, struct ioreqvm_op_vm_info *info)
{
	return client_call(x, IOREQVM_OP_VM_INFO, NULL, 0, info, sizeof(*info), NULL, 0);
}

int libioreq_dm_ready(struct libioreq *x)
{
	return client_call(x, IOREQVM_OP_DM_READY, NULL, 0, NULL, 0, NULL, 0);
}

int libioreq_shutdown(struct libioreq *x, uint32_t reason)
{
	struct ioreqvm_op_remote_shutdown req = { .reason = reason };
	return client_call(x, IOREQVM_OP_REMOTE_SHUTDOWN, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_track_dirty_vram(struct libioreq *x, uint64_t first_pfn, uint32_t nr,
			      uint64_t *bitmap)
{
	struct ioreqvm_op_track_dirty_vram req = { .nr = nr, .first_pfn = first_pfn };
	if (nr > IOREQVM_DIRTY_MAX_PAGES)
		return client_fail(x, -EINVAL, "%u frames: at most %u are tracked", (unsigned)nr,
				   (unsigned)IOREQVM_DIRTY_MAX_PAGES);
	if (nr && !bitmap)
		return client_fail(x, -EFAULT, "no bitmap");
	return client_call(x, IOREQVM_OP_TRACK_DIRTY_VRAM, &req, sizeof(req), bitmap,
			   (nr + 63) / 64 * 8, NULL, 0);
}

int libioreq_create_ioreq_server(struct libioreq *x, bool bufioreq, uint16_t *id)
{
	struct ioreqvm_op_create req = { .handle_bufioreq = bufioreq };
	struct ioreqvm_op_server_id rep;
	int rc = client_call(x, IOREQVM_OP_CREATE_IOREQ_SERVER, &req, sizeof(req), &rep,
			       sizeof(rep), NULL, 0);
	if (!rc)
		*id = rep.id;
	return rc;
}

int libioreq_destroy_ioreq_server(struct libioreq *x, uint16_t id)
{
	struct ioreqvm_op_server_id req = { .id = id };
	return client_call(x, IOREQVM_OP_DESTROY_IOREQ_SERVER, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_map_io_range_to_ioreq_server(struct libioreq *x, uint16_t id, uint32_t type,
					  uint64_t start, uint64_t end, uint32_t flags)
{
	struct ioreqvm_op_range req = { .id = id, .flags = (uint16_t)flags, .type = type,
					.start = start, .end = end };
	if (flags > 0xffff)
		return client_fail(x, -EINVAL, "range flags 0x%x out of range", flags);
	return client_call(x, IOREQVM_OP_MAP_IO_RANGE, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_unmap_io_range_from_ioreq_server(struct libioreq *x, uint16_t id, uint32_t type,
					      uint64_t start, uint64_t end)
{
	struct ioreqvm_op_range req = { .id = id, .type = type, .start = start, .end = end };
	return client_call(x, IOREQVM_OP_UNMAP_IO_RANGE, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_set_ioreq_server_state(struct libioreq *x, uint16_t id, bool enabled)
{
	struct ioreqvm_op_set_state req = { .id = id, .enabled = enabled };
	return client_call(x, IOREQVM_OP_SET_IOREQ_SERVER_STATE, &req, sizeof(req), NULL, 0,
			     NULL, 0);
}

int libioreq_map_mem_type_to_ioreq_server(struct libioreq *x, uint16_t id, uint16_t type,
					  uint32_t flags)
{
	struct ioreqvm_op_map_mem_type req = { .id = id, .type = type, .flags = flags };
	return client_call(x, IOREQVM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER, &req, sizeof(req), NULL, 0,
			     NULL, 0);
}

int libioreq_set_mem_type(struct libioreq *x, uint16_t type, uint64_t first_pfn, uint32_t nr)
{
	struct ioreqvm_op_set_mem_type req = { .nr = nr, .mem_type = type, .first_pfn = first_pfn };
	return client_call(x, IOREQVM_OP_SET_MEM_TYPE, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_get_mem_type(struct libioreq *x, uint64_t pfn, uint16_t *type)
{
	struct ioreqvm_op_get_mem_type req = { .pfn = pfn };
	struct ioreqvm_op_mem_type rep;
	int rc = client_call(x, IOREQVM_OP_GET_MEM_TYPE, &req, sizeof(req), &rep, sizeof(rep),
			       NULL, 0);
	if (!rc)
		*type = rep.mem_type;
	return rc;
}

int libioreq_set_isa_irq_level(struct libioreq *x, uint8_t isa_irq, uint8_t level)
{
	if (!answer_isa_irq(x, isa_irq, level))
		return 0; /* travels with the answer the handler is making */
	struct ioreqvm_op_isa_irq req = { .isa_irq = isa_irq, .level = level };
	return client_call(x, IOREQVM_OP_SET_ISA_IRQ_LEVEL, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_set_pci_intx_level(struct libioreq *x, uint16_t domain, uint8_t bus,
				uint8_t device, uint8_t intx, uint8_t level)
{
	struct ioreqvm_op_pci_intx req = { .domain = domain, .bus = bus, .device = device,
					   .intx = intx, .level = level };
	return client_call(x, IOREQVM_OP_SET_PCI_INTX_LEVEL, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_inject_msi(struct libioreq *x, uint64_t addr, uint32_t data)
{
	struct ioreqvm_op_msi req = { .data = data, .addr = addr };
	return client_call(x, IOREQVM_OP_INJECT_MSI, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_modified_memory(struct libioreq *x, uint64_t first_pfn, uint64_t nr)
{
	struct ioreqvm_op_modified_memory req = { .first_pfn = first_pfn, .nr = nr };
	return client_call(x, IOREQVM_OP_MODIFIED_MEMORY, &req, sizeof(req), NULL, 0, NULL, 0);
}

int libioreq_list_servers(struct libioreq *x, struct ioreqvm_op_server_list *out)
{
	return client_call(x, IOREQVM_OP_LIST_SERVERS, NULL, 0, out, sizeof(*out), NULL, 0);
}

int libioreq_list_ranges(struct libioreq *x, uint16_t id, struct ioreqvm_op_range_list *out)
{
	struct ioreqvm_op_server_id req = { .id = id };
	return client_call(x, IOREQVM_OP_LIST_RANGES, &req, sizeof(req), out, sizeof(*out), NULL, 0);
}

int libioreq_xen_info(struct libioreq *x, struct ioreqvm_op_xen_info *info)
{
	int rc = client_call(x, IOREQVM_OP_XEN_INFO, NULL, 0, info, sizeof(*info), NULL, 0);
	if (!rc)
		info->xenstore_path[sizeof(info->xenstore_path) - 1] = 0;
	return rc;
}

int libioreq_populate_physmap(struct libioreq *x, const struct ioreqvm_op_physmap *req)
{
	return client_call(x, IOREQVM_OP_POPULATE_PHYSMAP, req, sizeof(*req), NULL, 0, NULL, 0);
}

int libioreq_decrease_reservation(struct libioreq *x, const struct ioreqvm_op_physmap *req)
{
	return client_call(x, IOREQVM_OP_DECREASE_RESERVATION, req, sizeof(*req), NULL, 0, NULL, 0);
}

int libioreq_ram_runs(struct libioreq *x, uint64_t first_pfn, struct ioreqvm_op_ram_runs *out)
{
	struct ioreqvm_op_ram_runs_req req = { .first_pfn = first_pfn };
	int rc = client_call(x, IOREQVM_OP_RAM_RUNS, &req, sizeof(req), out, sizeof(*out), NULL, 0);
	if (!rc && out->nr > IOREQVM_MAX_RAM_RUNS)
		return client_fail(x, -EPROTO, "RAM_RUNS reply with %u runs", out->nr);
	return rc;
}
