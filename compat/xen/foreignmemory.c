/* SPDX-License-Identifier: MIT */
/*
 * libxenforeignmemory.so.1 for ioreqvm (DESIGN X1, X3): Xen's
 * <xenforeignmemory.h> over the process's one connection (ioreqvm_xen.h:
 * where it comes from, the domid, thread safety). Symbol versions as
 * Debian 12's (libxenforeignmemory.map). Errors as Xen's library on Linux:
 * NULL or -1 with errno; ESRCH for a domid other than the VM's, EPERM for
 * one the handle was not restricted to.
 *
 * Guest frames (map, map2, unmap): every call maps the guest RAM memfd
 * (what ioreqvm gives models) afresh at the frames asked for, so mappings
 * are independent of each other and the caller may release one with
 * munmap(2) as well as with unmap. Which frames have RAM, and where, comes
 * from ioreqvm (RAM_RUNS, ioreqvm_xen.h), RAM populated later included
 * (X4). A frame that is not guest RAM (a hole, mmio_dm, one given back,
 * beyond guest-physical space) is not mapped: its err[] entry is
 * -EINVAL (negative, as Linux's privcmd fills it and Xen's map2 reads it),
 * the error Xen gives for a frame without a page, and the page stays
 * inaccessible (touching it faults). With err NULL any such frame fails the
 * whole call, errno EINVAL. map2's flags are mmap's: MAP_FIXED and
 * MAP_FIXED_NOREPLACE place the mapping at addr; MAP_POPULATE, MAP_LOCKED,
 * MAP_NONBLOCK and MAP_NORESERVE apply to the RAM pages; MAP_PRIVATE is
 * refused (EINVAL), as Xen's library asks mmap for MAP_SHARED; other
 * flags are ignored.
 *
 * Resources (map_resource, unmap_resource, resource_size): the IOREQ
 * server's pages (XENMEM_resource_ioreq_server) in Xen's frame order:
 * frame 0 the buffered ring (ENOENT if the server has none), frame 1 + n
 * ioreq page n. ioreqvm's slots fit in one page (64 vCPUs at most), so
 * frames 2 and up are EINVAL and the resource is 2 frames, as Xen counts
 * (one for the ring, one per 128 vCPUs). The pages are the server's shared
 * memory itself: what the model writes there ioreqvm sees. Unknown server:
 * ENOENT; another process's: EPERM. Other resource types (grant tables,
 * vmtrace buffers: an ioreqvm guest has neither): EOPNOTSUPP, what Xen's
 * library reports where the platform cannot map a resource.
 *
 * restrict: as Linux's privcmd, a restricted handle serves only that
 * domain (EPERM for others); restricting again to another domain: EINVAL.
 *
 * Every function of the library is implemented; none returns ENOSYS.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenforeignmemory.h>
#include <xen/memory.h>

#include "ioreqvm_xen.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
/* Frames of an IOREQ server resource: the ring's, then one ioreq page. */
#define IOREQ_RESOURCE_FRAMES 2

struct xenforeignmemory_handle {
	domid_t restricted; /* DOMID_INVALID until xenforeignmemory_restrict */
};

struct xenforeignmemory_resource_handle {
	void *addr;
	unsigned long nr_frames;
};

static void *fail_null(int err)
{
	errno = err;
	return NULL;
}

/* 0 if @fmem may act on @domid, else the errno (restricted: EPERM; not the VM's: ESRCH). */
static int domain_check(const xenforeignmemory_handle *fmem, uint32_t domid)
{
	if (!fmem)
		return EBADF;
	if (fmem->restricted != DOMID_INVALID && domid != fmem->restricted)
		return EPERM;
	if (domid != ioreqvm_xen_domid())
		return ESRCH;
	return 0;
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned open_flags)
{
	int rc = ioreqvm_xen_connect();
	if (rc)
		return fail_null(-rc);
	xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));
	if (!fmem)
		return fail_null(ENOMEM);
	fmem->restricted = DOMID_INVALID;
	return fmem;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	free(fmem); /* mappings made through it stay, as privcmd's outlive its fd */
	return 0;
}

int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	if (!fmem) {
		errno = EBADF;
		return -1;
	}
	if (fmem->restricted != DOMID_INVALID && fmem->restricted != domid) {
		errno = EINVAL;
		return -1;
	}
	fmem->restricted = domid;
	return 0;
}

/*
 * Map @num frames at @addr (placement as mmap's @flags) with per-frame
 * results in @err (0 or -errno); the address, or NULL with errno.
 */
static void *map_frames(xenforeignmemory_handle *fmem, uint32_t dom, void *addr, int prot,
			int flags, size_t num, const xen_pfn_t arr[], int err[])
{
	int e = domain_check(fmem, dom);
	if (e)
		return fail_null(e);
	if (!num || !arr || (flags & MAP_PRIVATE))
		return fail_null(EINVAL);
	if (num > (SIZE_MAX >> PAGE_SHIFT) || num > SIZE_MAX / sizeof(int64_t))
		return fail_null(ENOMEM);
	int ram_fd;
	int64_t *off = malloc(num * sizeof(*off));
	_Static_assert(sizeof(xen_pfn_t) == sizeof(uint64_t), "xen_pfn_t is 64 bits on x86_64");
	int rc = off ? ioreqvm_xen_ram((const uint64_t *)arr, num, off, &ram_fd) : -ENOMEM;
	if (rc) {
		free(off);
		return fail_null(-rc);
	}
	size_t len = num << PAGE_SHIFT;
	int place = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	/* The whole range first, inaccessible: frames that fail stay so. */
	uint8_t *base = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | place,
			     -1, 0);
	if (base == MAP_FAILED) {
		free(off);
		return NULL;
	}
	/* What else mmap's flags may ask of the RAM pages; the rest means nothing here. */
	int page_flags = (flags & (MAP_POPULATE | MAP_LOCKED | MAP_NONBLOCK | MAP_NORESERVE)) |
			 MAP_SHARED | MAP_FIXED;
	for (size_t i = 0; i < num;) {
		if (off[i] < 0) {
			err[i++] = -EINVAL;
			continue;
		}
		/* One mmap for a run of frames that follow each other in the memfd. */
		size_t n = 1;
		while (i + n < num && off[i + n] == off[i] + (int64_t)(n << PAGE_SHIFT))
			n++;
		if (mmap(base + (i << PAGE_SHIFT), n << PAGE_SHIFT, prot, page_flags, ram_fd,
			 (off_t)off[i]) == MAP_FAILED) {
			int saved = errno;
			munmap(base, len);
			free(off);
			return fail_null(saved);
		}
		for (size_t k = 0; k < n; k++)
			err[i + k] = 0;
		i += n;
	}
	free(off);
	return base;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr, int prot,
			    int flags, size_t pages, const xen_pfn_t arr[], int err[])
{
	if (err)
		return map_frames(fmem, dom, addr, prot, flags, pages, arr, err);
	/* No err[]: all frames or nothing, errno of the first that failed. */
	int *own = pages && pages <= SIZE_MAX / sizeof(int) ? malloc(pages * sizeof(int)) : NULL;
	if (!own)
		return fail_null(pages ? ENOMEM : EINVAL);
	void *p = map_frames(fmem, dom, addr, prot, flags, pages, arr, own);
	for (size_t i = 0; p && i < pages; i++) {
		if (own[i]) {
			munmap(p, pages << PAGE_SHIFT);
			p = NULL;
			errno = -own[i];
		}
	}
	int saved = errno;
	free(own);
	errno = saved;
	return p;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[])
{
	return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	if (pages > (SIZE_MAX >> PAGE_SHIFT)) {
		errno = EINVAL;
		return -1;
	}
	return munmap(addr, pages << PAGE_SHIFT);
}

/* Where frame @frame of server @s's resource sits in its memfd; 0 or the errno. */
static int resource_frame(const struct ioreqvm_xen_server *s, unsigned long frame, off_t *off)
{
	if (frame == XENMEM_resource_ioreq_server_frame_bufioreq) {
		if (!s->bufioreq)
			return ENOENT;
		*off = IOREQVM_SHM_BUFIOREQ_OFFSET;
		return 0;
	}
	if (frame == XENMEM_resource_ioreq_server_frame_ioreq(0)) {
		*off = IOREQVM_SHM_IOREQ_OFFSET;
		return 0;
	}
	return EINVAL;
}

xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
	xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
	unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
	/* Xen's library takes POSIX flags only; it adds MAP_SHARED itself. */
	if ((flags & ~(MAP_SHARED | MAP_PRIVATE)) || (flags & MAP_PRIVATE) || !paddr)
		return fail_null(EINVAL);
	int e = domain_check(fmem, domid);
	if (e)
		return fail_null(e);
	if (type != XENMEM_resource_ioreq_server)
		return fail_null(EOPNOTSUPP);
	/* As Xen: a 16-bit server id, frame and count within 32 bits. */
	if (id > UINT16_MAX || !nr_frames || (frame >> 32) || ((frame + nr_frames) >> 32) ||
	    frame + nr_frames < frame)
		return fail_null(EINVAL);
	struct ioreqvm_xen_server *s;
	int rc = ioreqvm_xen_server_get((uint16_t)id, &s);
	if (rc)
		return fail_null(-rc);
	off_t off[IOREQ_RESOURCE_FRAMES];
	for (unsigned long i = 0; i < nr_frames; i++) {
		e = i < IOREQ_RESOURCE_FRAMES ? resource_frame(s, frame + i, &off[i]) : EINVAL;
		if (e) {
			ioreqvm_xen_server_put(s);
			return fail_null(e);
		}
	}
	xenforeignmemory_resource_handle *fres = calloc(1, sizeof(*fres));
	size_t len = nr_frames << PAGE_SHIFT;
	uint8_t *base = fres ? mmap(*paddr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			     : MAP_FAILED;
	e = !fres ? ENOMEM : base == MAP_FAILED ? errno : 0;
	for (unsigned long i = 0; !e && i < nr_frames; i++)
		if (mmap(base + (i << PAGE_SHIFT), PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, s->shm_fd,
			 off[i]) == MAP_FAILED)
			e = errno;
	ioreqvm_xen_server_put(s); /* the mapping keeps the memory */
	if (e) {
		if (base != MAP_FAILED)
			munmap(base, len);
		free(fres);
		return fail_null(e);
	}
	fres->addr = base;
	fres->nr_frames = nr_frames;
	*paddr = base;
	return fres;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
				    xenforeignmemory_resource_handle *fres)
{
	if (!fres)
		return 0;
	int rc = munmap(fres->addr, fres->nr_frames << PAGE_SHIFT);
	int saved = errno;
	free(fres);
	errno = saved;
	return rc;
}

int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid,
				   unsigned int type, unsigned int id, size_t *size)
{
	int e = domain_check(fmem, domid);
	if (!e && type != XENMEM_resource_ioreq_server)
		e = EOPNOTSUPP;
	if (!e && !size)
		e = EINVAL;
	if (e) {
		errno = e;
		return -1;
	}
	/* Per domain, whatever the id, as Xen answers it. */
	*size = (size_t)IOREQ_RESOURCE_FRAMES << PAGE_SHIFT;
	return 0;
}
