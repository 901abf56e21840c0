/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: creates the memfd (K1), maps it and answers gpa -> host pointer
 * and gpa -> memfd offset questions. Layout policy (PCI hole below 4 GiB,
 * the populate pool) lives here and nowhere else.
 */
#include "guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guest_ram_layout(struct guest_ram *ram, uint64_t size)
{
	memset(ram, 0, sizeof(*ram));
	ram->memfd = -1;
	if (size < GUEST_RAM_MIN || size > GUEST_RAM_MAX || (size & (GUEST_PAGE_SIZE - 1)))
		return -EINVAL;
	ram->ram_size = size;
	uint64_t low = size < GUEST_PCI_HOLE_START ? size : GUEST_PCI_HOLE_START;
	ram->region[0] = (struct guest_ram_region){ .gpa = 0, .size = low, .offset = 0 };
	ram->nr_regions = 1;
	ram->pool = (struct guest_ram_region){ .gpa = low, .size = GUEST_HOLE_RAM_END - low,
					       .offset = low };
	if (size > low) {
		ram->region[1] = (struct guest_ram_region){
			.gpa = GUEST_PCI_HOLE_END, .size = size - low, .offset = GUEST_HOLE_RAM_END };
		ram->nr_regions = 2;
	}
	ram->size = GUEST_HOLE_RAM_END + (size - low);
	return 0;
}

int guest_ram_create(struct guest_ram *ram, uint64_t size)
{
	int rc = guest_ram_layout(ram, size);
	if (rc)
		return rc;
	ram->memfd = memfd_create("ioreqvm-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ram->memfd < 0)
		return -errno;
	/*
	 * Device models get this fd (MAP_GUEST_MEMORY): with F_SEAL_SEAL no
	 * model can add a seal (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE) that would
	 * stop every later model from mapping guest RAM writable (DESIGN R2).
	 */
	if (ftruncate(ram->memfd, (off_t)ram->size) < 0 ||
	    fcntl(ram->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		goto fail;
	}
	void *p = mmap(NULL, ram->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       ram->memfd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	ram->host = p;
	return 0;
fail:
	close(ram->memfd);
	ram->memfd = -1;
	return rc;
}

void guest_ram_destroy(struct guest_ram *ram)
{
	if (ram->host)
		munmap(ram->host, ram->size);
	if (ram->memfd >= 0)
		close(ram->memfd);
	ram->host = NULL;
	ram->memfd = -1;
}

void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	if (len == 0 || !ram->host)
		return NULL;
	for (unsigned i = 0; i < ram->nr_regions; i++) {
		const struct guest_ram_region *r = &ram->region[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return ram->host + r->offset + (gpa - r->gpa);
	}
	return NULL;
}

int64_t guest_ram_backing(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	if (!ram->nr_regions || !len)
		return -1;
	/* Below the I/O APIC the offset is the address (low RAM, then the pool). */
	if (gpa < GUEST_HOLE_RAM_END && len <= GUEST_HOLE_RAM_END - gpa)
		return (int64_t)gpa;
	if (ram->nr_regions > 1) {
		const struct guest_ram_region *r = &ram->region[1];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return (int64_t)(r->offset + (gpa - r->gpa));
	}
	return -1;
}

uint64_t guest_ram_end(const struct guest_ram *ram)
{
	if (!ram->nr_regions)
		return 0;
	const struct guest_ram_region *r = &ram->region[ram->nr_regions - 1];
	return r->gpa + r->size;
}
