/* SPDX-License-Identifier: MIT */
/* libioreq: the VM's guest RAM memfd (handed out, or mapped) and translating addresses. */
#include "libioreq_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct libioreq_guest_memory {
	uint8_t *base;
	uint64_t size;
	struct ioreqvm_op_guest_memory layout;
};

int libioreq_guest_memory_fd(struct libioreq *x, struct ioreqvm_op_guest_memory *layout, int *fd)
{
	struct ioreqvm_op_guest_memory g;
	int got = -1;
	int rc = client_call(x, IOREQVM_OP_MAP_GUEST_MEMORY, NULL, 0, &g, sizeof(g), &got, 1);
	if (rc)
		return rc;
	if (got < 0)
		return client_fail(x, -EPROTO, "guest memory without its memfd");
	if (g.nr_regions < 1 || g.nr_regions > 2) {
		close(got);
		return client_fail(x, -EPROTO, "guest memory with %u regions", g.nr_regions);
	}
	for (unsigned i = 0; i < g.nr_regions; i++) {
		if (g.region[i].offset > g.memfd_size || g.region[i].size > g.memfd_size - g.region[i].offset) {
			close(got);
			return client_fail(x, -EPROTO, "guest memory region %u outside the memfd", i);
		}
	}
	*layout = g;
	*fd = got;
	return 0;
}

int libioreq_map_guest_memory(struct libioreq *x, struct libioreq_guest_memory **out)
{
	struct ioreqvm_op_guest_memory g;
	int fd = -1;
	int rc = libioreq_guest_memory_fd(x, &g, &fd);
	if (rc)
		return rc;
	struct libioreq_guest_memory *m = calloc(1, sizeof(*m));
	void *p = mmap(NULL, g.memfd_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (!m || p == MAP_FAILED) {
		rc = p == MAP_FAILED ? -errno : -ENOMEM;
		if (p != MAP_FAILED)
			munmap(p, g.memfd_size);
		free(m);
		return client_fail(x, rc, "mapping guest memory: %s", strerror(-rc));
	}
	m->base = p;
	m->size = g.memfd_size;
	m->layout = g;
	*out = m;
	return 0;
}

void *libioreq_guest_ptr(struct libioreq_guest_memory *m, uint64_t gpa, uint64_t len)
{
	if (!len)
		return NULL;
	for (unsigned i = 0; i < m->layout.nr_regions; i++) {
		uint64_t g = m->layout.region[i].gpa, sz = m->layout.region[i].size;
		if (gpa >= g && gpa - g < sz && len <= sz - (gpa - g))
			return m->base + m->layout.region[i].offset + (gpa - g);
	}
	return NULL;
}

void libioreq_unmap_guest_memory(struct libioreq_guest_memory *m)
{
	if (!m)
		return;
	munmap(m->base, m->size);
	free(m);
}
