/* SPDX-License-Identifier: MIT */
/*
 * A hostile control-socket peer for check_hostile.sh (issue 15; DESIGN R1).
 * Speaks the wire protocol by hand, as an attacker would:
 *   hostile_peer stuck SOCKET COUNT
 *     sends COUNT LIST_SERVERS requests (fewer if its socket takes no
 *     more), never reads a reply;
 *   hostile_peer linger SOCKET SECONDS
 *     sends a request carrying a loopback TCP socket with SO_LINGER
 *     SECONDS and unsent data, whose last close() blocks that long, and
 *     makes sure the VMM's reference is the last; prints the VMM's answer.
 * Each prints "ready" once its attack is in place, then waits to be killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioreqvm/ctl_proto.h"

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "hostile_peer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_vm(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return fd;
}

static _Noreturn void stuck(const char *path, unsigned count)
{
	int fd = connect_vm(path);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct ioreqvm_ctl_req r = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = IOREQVM_OP_LIST_SERVERS };
	unsigned n = 0;
	while (n < count && send(fd, &r, sizeof(r), MSG_NOSIGNAL) == (ssize_t)sizeof(r))
		r.seq = ++n;
	printf("ready: %u requests sent, no reply read\n", n);
	fflush(stdout);
	for (;;)
		pause();
}

/* A connected loopback TCP socket whose close() lingers @secs seconds. */
static int lingering_socket(int secs, int *keep)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int small = 4096;
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("tcp listener");
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("tcp connect");
	int s = accept(l, NULL, NULL); /* never read: the window closes */
	if (s < 0)
		die("accept");
	close(l);
	fcntl(c, F_SETFL, O_NONBLOCK);
	static char junk[65536];
	size_t queued = 0;
	ssize_t w;
	while ((w = send(c, junk, sizeof(junk), MSG_NOSIGNAL)) > 0)
		queued += (size_t)w;
	usleep(200000);
	while ((w = send(c, junk, sizeof(junk), MSG_NOSIGNAL)) > 0)
		queued += (size_t)w;
	struct linger lg = { .l_onoff = 1, .l_linger = secs };
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	fprintf(stderr, "hostile_peer: %zu bytes queued on a socket lingering %d s\n", queued, secs);
	*keep = s;
	return c;
}

struct closer {
	int fd;
	uint32_t go; /* futex word */
	volatile bool done;
};

/*
 * Started before the send and waiting on a futex at real-time priority
 * (where allowed), so the wake-up after sendmsg preempts at once and our
 * close follows within microseconds, while the VMM still has to be woken,
 * receive, and hand the fd to its reaper. (Spinning instead lost the race
 * on two cores with a busy vCPU: the spinner was not on a core.)
 */
static void *close_thread(void *arg)
{
	struct closer *c = arg;
	struct sched_param sp = { .sched_priority = 1 };
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp); /* best effort */
	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &c->go, FUTEX_WAIT, 0, NULL, NULL, 0);
	close(c->fd);
	c->done = true;
	return NULL;
}

/*
 * Whoever drops the last reference to the lingering socket lingers. We
 * send it, then drop ours from a thread of our own, released right after
 * sendmsg returns: the message in flight holds a reference until the VMM
 * takes it, so if our close returns at once, the VMM's reference is the
 * last one (the case under test). If it lingers, the VMM had already
 * received and let go of its copy (it won the race from sendmsg to close),
 * and we try again with a new socket (the thread is left to its linger).
 */
static _Noreturn void linger_fd(const char *path, int secs)
{
	for (int attempt = 1; attempt <= 16; attempt++) {
		int keep;
		int t = lingering_socket(secs, &keep);
		int fd = connect_vm(path);
		struct ioreqvm_ctl_req r = { .magic = IOREQVM_CTL_MAGIC,
					     .version = IOREQVM_CTL_VERSION,
					     .op = IOREQVM_OP_VM_INFO, .seq = 1 };
		union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int))]; } cb;
		struct iovec iov = { &r, sizeof(r) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
				    .msg_controllen = sizeof(cb.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &t, sizeof(int));
		static struct closer closers[16];
		struct closer *c = &closers[attempt - 1];
		c->fd = t;
		pthread_t th;
		if (pthread_create(&th, NULL, close_thread, c))
			die("pthread_create");
		pthread_detach(th);
		usleep(1000); /* the closer is asleep on go */
		if (sendmsg(fd, &m, 0) != (ssize_t)sizeof(r))
			die("sendmsg");
		__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &c->go, FUTEX_WAKE, 1, NULL, NULL, 0);
		struct ioreqvm_ctl_rep rep;
		if (recv(fd, &rep, sizeof(rep), 0) != (ssize_t)sizeof(rep))
			die("recv");
		rep.msg[sizeof(rep.msg) - 1] = 0;
		for (int i = 0; i < 50 && !c->done; i++)
			usleep(10000);
		if (!c->done) {
			fprintf(stderr, "hostile_peer: attempt %d: our own close lingers (the VMM "
				"closed its copy first); again\n", attempt);
			close(fd);
			continue;
		}
		printf("ready: answer %d: %s\n", rep.result, rep.msg);
		fflush(stdout);
		(void)keep; /* open: the peer never reads, the window stays shut */
		for (;;)
			pause();
	}
	fprintf(stderr, "hostile_peer: the VMM never held the last reference in 16 attempts\n");
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "stuck"))
		stuck(argv[2], (unsigned)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "linger"))
		linger_fd(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: hostile_peer stuck SOCKET COUNT | linger SOCKET SECONDS\n");
	return 2;
}
