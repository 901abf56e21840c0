/* SPDX-License-Identifier: MIT */
/*
 * libioreqvm-xen: the shared connection, its lock, the domid and the
 * model's readiness (see ioreqvm_xen.h). The servers' shared memory and
 * the guest RAM memfd are in shared_vm.c; the Xen API itself lives in one
 * file per library (devicemodel.c, foreignmemory.c, evtchn*.c).
 */
#include "ioreqvm_xen.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct libioreq *conn;
static _Thread_local char error[256];

void ioreqvm_xen_set_error(const char *msg)
{
	snprintf(error, sizeof(error), "%s", msg);
}

const char *ioreqvm_xen_error(void)
{
	return error;
}

/* With conn_lock held. */
static int connect_locked(void)
{
	if (conn)
		return 0;
	int rc = libioreq_connect(NULL, &conn);
	if (rc) {
		conn = NULL;
		ioreqvm_xen_set_error(libioreq_error(NULL));
	}
	return rc;
}

int ioreqvm_xen_connect(void)
{
	pthread_mutex_lock(&conn_lock);
	int rc = connect_locked();
	pthread_mutex_unlock(&conn_lock);
	return rc;
}

int ioreqvm_xen_lock(struct libioreq **out)
{
	pthread_mutex_lock(&conn_lock);
	int rc = connect_locked();
	if (rc) {
		pthread_mutex_unlock(&conn_lock);
		return rc;
	}
	*out = conn;
	return 0;
}

void ioreqvm_xen_unlock(void)
{
	pthread_mutex_unlock(&conn_lock);
}

static uint32_t domid = 1;
static pthread_once_t domid_once = PTHREAD_ONCE_INIT;

static void domid_read(void)
{
	const char *s = getenv("IOREQVM_XEN_DOMID");
	if (!s || !*s)
		return;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	/* 0x7FF0 and up are Xen's reserved ids (DOMID_FIRST_RESERVED). */
	if (!*end && v < 0x7FF0)
		domid = (uint32_t)v;
	else
		fprintf(stderr, "ioreqvm-xen: IOREQVM_XEN_DOMID=%s is not a domid; using 1\n", s);
}

uint32_t ioreqvm_xen_domid(void)
{
	pthread_once(&domid_once, domid_read);
	return domid;
}

int ioreqvm_xen_server_check(struct libioreq *x, uint16_t id, bool *has_bufioreq)
{
	struct ioreqvm_op_server_list *l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc = libioreq_list_servers(x, l);
	if (rc) {
		ioreqvm_xen_set_error(libioreq_error(x));
		free(l);
		return rc;
	}
	rc = -ENOENT;
	uint32_t nr = l->nr < IOREQVM_MAX_SERVERS_LISTED ? l->nr : IOREQVM_MAX_SERVERS_LISTED;
	for (uint32_t i = 0; i < nr; i++) {
		if (l->server[i].id != id)
			continue;
		/* One connection per process: another pid is another connection. */
		rc = l->server[i].owner_pid == (int32_t)getpid() ? 0 : -EPERM;
		*has_bufioreq = l->server[i].has_bufioreq;
		break;
	}
	if (rc)
		snprintf(error, sizeof(error), "IOREQ server %u: %s", id,
			 rc == -ENOENT ? "no such server" : "owned by another process");
	free(l);
	return rc;
}

int ioreqvm_xen_ready(void)
{
	static bool done; /* under conn_lock */
	struct libioreq *x;
	int rc = ioreqvm_xen_lock(&x);
	if (rc)
		return rc;
	if (!done) {
		rc = libioreq_dm_ready(x);
		if (rc)
			ioreqvm_xen_set_error(libioreq_error(x));
		else
			done = true;
	}
	ioreqvm_xen_unlock();
	return rc;
}
