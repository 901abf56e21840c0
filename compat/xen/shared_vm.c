/* SPDX-License-Identifier: MIT */
/*
 * libioreqvm-xen: what the Xen libraries of one process share of the VM
 * besides the connection (see ioreqvm_xen.h): each IOREQ server's request
 * slots, ring and notification words, mapped once, with its event fd; and
 * the guest RAM memfd with where the frames with RAM are in it (RAM_RUNS).
 * One mutex (taken before the connection's, never after) guards both
 * caches.
 */
#include "ioreqvm_xen.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ioreqvm_xen_server *servers; /* not forgotten, under cache_lock */

/* Fetch server @id's fds and map its shared memory. With cache_lock held. */
static int server_open(uint16_t id, struct ioreqvm_xen_server **out)
{
	struct libioreq *x;
	struct ioreqvm_op_info info;
	int shm_fd = -1, evt_fd = -1;
	int rc = ioreqvm_xen_lock(&x);
	if (rc)
		return rc;
	rc = libioreq_server_fds(x, id, &info, &shm_fd, &evt_fd);
	if (rc)
		ioreqvm_xen_set_error(libioreq_error(x));
	ioreqvm_xen_unlock();
	if (rc)
		return rc;
	struct ioreqvm_xen_server *s = calloc(1, sizeof(*s));
	void *p = s ? mmap(NULL, IOREQVM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0)
		    : MAP_FAILED;
	rc = !s ? -ENOMEM : p == MAP_FAILED ? -errno : 0;
	/* Our reads of the eventfd must never block (ioreqvm made it so; make sure). */
	int fl = rc ? 0 : fcntl(evt_fd, F_GETFL);
	if (!rc && (fl < 0 || fcntl(evt_fd, F_SETFL, fl | O_NONBLOCK) < 0))
		rc = -errno;
	if (rc) {
		if (p != MAP_FAILED)
			munmap(p, IOREQVM_SHM_SIZE);
		free(s);
		close(shm_fd);
		close(evt_fd);
		ioreqvm_xen_set_error("mapping an IOREQ server's shared memory failed");
		return rc;
	}
	s->id = id;
	s->bufioreq = info.has_bufioreq;
	s->nr_vcpus = info.nr_vcpus;
	s->shm_fd = shm_fd;
	s->evt_fd = evt_fd;
	s->shm = p;
	s->slots = (struct ioreqvm_ioreq *)(s->shm + IOREQVM_SHM_IOREQ_OFFSET);
	s->buf = (struct ioreqvm_buffered_iopage *)(s->shm + IOREQVM_SHM_BUFIOREQ_OFFSET);
	s->notify = (struct ioreqvm_notify *)(s->shm + IOREQVM_SHM_NOTIFY_OFFSET);
	/*
	 * From now on ioreqvm writes evt_fd for every request and posted write
	 * (no spinning on our side: an event channel is a wake-up per event).
	 */
	__atomic_store_n(&s->notify->dm_sleeping, IOREQVM_DM_SLEEPS_ON_FD, __ATOMIC_SEQ_CST);
	s->refs = 1; /* the cache's */
	*out = s;
	return 0;
}

static void server_free(struct ioreqvm_xen_server *s)
{
	munmap(s->shm, IOREQVM_SHM_SIZE);
	close(s->shm_fd);
	close(s->evt_fd);
	free(s);
}

int ioreqvm_xen_server_get(uint16_t id, struct ioreqvm_xen_server **out)
{
	struct libioreq *x;
	bool bufioreq;
	pthread_mutex_lock(&cache_lock);
	int rc = ioreqvm_xen_lock(&x);
	if (!rc) {
		rc = ioreqvm_xen_server_check(x, id, &bufioreq);
		ioreqvm_xen_unlock();
	}
	struct ioreqvm_xen_server *s = servers;
	while (!rc && s && s->id != id)
		s = s->next;
	if (!rc && !s) {
		rc = server_open(id, &s);
		if (!rc) {
			s->next = servers;
			servers = s;
		}
	}
	if (!rc) {
		s->refs++;
		*out = s;
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

void ioreqvm_xen_server_hold(struct ioreqvm_xen_server *s)
{
	pthread_mutex_lock(&cache_lock);
	s->refs++;
	pthread_mutex_unlock(&cache_lock);
}

void ioreqvm_xen_server_put(struct ioreqvm_xen_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&cache_lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&cache_lock);
	if (last)
		server_free(s);
}

void ioreqvm_xen_server_forget(uint16_t id)
{
	struct ioreqvm_xen_server *gone = NULL;
	pthread_mutex_lock(&cache_lock);
	for (struct ioreqvm_xen_server **p = &servers; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			gone = *p;
			*p = gone->next;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (gone)
		ioreqvm_xen_server_put(gone); /* the cache's reference */
}

/*
 * The guest RAM memfd, and where the frames with RAM are in it: fetched at
 * first use, the runs again after a populate or decrease of ours
 * (ioreqvm_xen_ram_changed) and when a frame looks like a hole (another
 * process may have populated it). Under cache_lock.
 */
static int ram_fd = -1;
static struct ram_run {
	uint64_t first, nr, offset;
} *ram_runs;
static size_t nr_ram_runs, cap_ram_runs;
static bool ram_runs_valid;

static int fetch_fd(void)
{
	if (ram_fd >= 0)
		return 0;
	struct libioreq *x;
	struct ioreqvm_op_guest_memory layout;
	int rc = ioreqvm_xen_lock(&x);
	if (rc)
		return rc;
	rc = libioreq_guest_memory_fd(x, &layout, &ram_fd);
	if (rc) {
		ram_fd = -1;
		ioreqvm_xen_set_error(libioreq_error(x));
	}
	ioreqvm_xen_unlock();
	return rc;
}

/* All the runs, page by page, again if a populate or decrease came between two pages. */
static int fetch_runs(void)
{
	struct ioreqvm_op_ram_runs *page = malloc(sizeof(*page));
	struct libioreq *x;
	if (!page)
		return -ENOMEM;
	int rc = ioreqvm_xen_lock(&x);
	for (unsigned attempt = 0; !rc; attempt++) {
		uint64_t pfn = 0, gen = 0;
		nr_ram_runs = 0;
		bool again = false;
		do {
			rc = libioreq_ram_runs(x, pfn, page);
			if (rc) {
				ioreqvm_xen_set_error(libioreq_error(x));
				break;
			}
			if (pfn && page->generation != gen) {
				again = true;
				break;
			}
			gen = page->generation;
			if (nr_ram_runs + page->nr > cap_ram_runs) {
				size_t cap = (nr_ram_runs + page->nr) * 2;
				struct ram_run *n = realloc(ram_runs, cap * sizeof(*n));
				if (!n) {
					rc = -ENOMEM;
					break;
				}
				ram_runs = n;
				cap_ram_runs = cap;
			}
			for (uint32_t i = 0; i < page->nr; i++)
				ram_runs[nr_ram_runs++] = (struct ram_run){ page->run[i].first_pfn,
									   page->run[i].nr,
									   page->run[i].offset };
			if (page->next_pfn <= pfn && page->next_pfn < page->nr_pages) {
				rc = -EPROTO; /* no progress: not what ioreqvm answers */
				break;
			}
			pfn = page->next_pfn;
		} while (pfn < page->nr_pages);
		if (rc || !again)
			break;
		if (attempt == 16) {
			rc = -EAGAIN; /* the RAM changes faster than it can be read */
			ioreqvm_xen_set_error("guest RAM kept changing while its layout was read");
		}
	}
	ioreqvm_xen_unlock();
	free(page);
	ram_runs_valid = !rc;
	return rc;
}

/* Offset of @pfn from the runs (sorted, disjoint), or -1. */
static int64_t lookup(uint64_t pfn)
{
	size_t lo = 0, hi = nr_ram_runs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ram_run *r = &ram_runs[mid];
		if (pfn < r->first)
			hi = mid;
		else if (pfn - r->first >= r->nr)
			lo = mid + 1;
		else
			return (int64_t)(r->offset + ((pfn - r->first) << 12));
	}
	return -1;
}

int ioreqvm_xen_ram(const uint64_t *pfns, size_t n, int64_t *offs, int *fd)
{
	pthread_mutex_lock(&cache_lock);
	int rc = fetch_fd();
	bool fresh = false;
	if (!rc && !ram_runs_valid) {
		rc = fetch_runs();
		fresh = true;
	}
	bool miss = false;
	for (size_t i = 0; !rc && i < n; i++)
		miss |= (offs[i] = lookup(pfns[i])) < 0;
	if (!rc && miss && !fresh) {
		rc = fetch_runs();
		for (size_t i = 0; !rc && i < n; i++)
			if (offs[i] < 0)
				offs[i] = lookup(pfns[i]);
	}
	if (!rc)
		*fd = ram_fd;
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

void ioreqvm_xen_ram_changed(void)
{
	pthread_mutex_lock(&cache_lock);
	ram_runs_valid = false;
	pthread_mutex_unlock(&cache_lock);
}
