/* SPDX-License-Identifier: MIT */
/*
 * libioreqvm-xen: what the Xen libraries of one process share of the VM
 * besides the connection (see ioreqvm_xen.h): each IOREQ server's request
 * slots, ring and notification words, mapped once, with its event fd; and
 * the guest RAM memfd with its layout. One mutex (taken before the
 * connection's, never after) guards both caches.
 */
#include "ioreqvm_xen.h"

#include <errno.h>
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

int ioreqvm_xen_guest_memory(int *fd, struct ioreqvm_op_guest_memory *layout)
{
	static int ram_fd = -1; /* under cache_lock */
	static struct ioreqvm_op_guest_memory ram_layout;
	int rc = 0;
	pthread_mutex_lock(&cache_lock);
	if (ram_fd < 0) {
		struct libioreq *x;
		rc = ioreqvm_xen_lock(&x);
		if (!rc) {
			rc = libioreq_guest_memory_fd(x, &ram_layout, &ram_fd);
			if (rc) {
				ram_fd = -1;
				ioreqvm_xen_set_error(libioreq_error(x));
			}
			ioreqvm_xen_unlock();
		}
	}
	if (!rc) {
		*fd = ram_fd;
		*layout = ram_layout;
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}
