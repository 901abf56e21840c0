/* SPDX-License-Identifier: MIT */
/* Starting and reaping device-model processes (see dm_spawn.h). */
#include "core/dm_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl_server.h"

/* Whether environment entry @e sets a variable that one of @vars ("NAME=value") sets too. */
static bool overridden(const char *e, const char *const *vars)
{
	for (; vars && *vars; vars++) {
		size_t n = strcspn(*vars, "=");
		if (!strncmp(e, *vars, n) && e[n] == '=')
			return true;
	}
	return false;
}

int dm_spawn(struct ctl_server *cs, const char *cmd, const char *socket_path,
	     const char *const *extra_env, struct dm_child *child, int ready_timeout_ms,
	     char *err, size_t errlen)
{
	int sv[2];
	child->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "device model '%s': socketpair: %s", cmd, strerror(errno));
		return -errno;
	}
	/* Everything the child needs is built here: after fork it only execs. */
	char *shcmd = NULL;
	if (asprintf(&shcmd, "exec %s", cmd) < 0)
		shcmd = NULL;
	int fd = fcntl(sv[1], F_DUPFD, 3); /* inheritable copy */
	extern char **environ;
	size_t n = 0, nx = 0;
	while (environ[n])
		n++;
	while (extra_env && extra_env[nx])
		nx++;
	char **envp = shcmd ? calloc(n + nx + 3, sizeof(*envp)) : NULL;
	char fdvar[32], sockvar[160];
	snprintf(fdvar, sizeof(fdvar), "IOREQVM_FD=%d", fd);
	snprintf(sockvar, sizeof(sockvar), "IOREQVM_SOCKET=%s", socket_path ? socket_path : "");
	size_t k = 0;
	for (size_t i = 0; envp && i < n; i++)
		if (strncmp(environ[i], "IOREQVM_FD=", 11) && strncmp(environ[i], "IOREQVM_SOCKET=", 15) &&
		    !overridden(environ[i], extra_env))
			envp[k++] = environ[i];
	if (envp) {
		envp[k++] = fdvar;
		envp[k++] = sockvar;
		for (size_t i = 0; i < nx; i++)
			envp[k++] = (char *)extra_env[i];
	}
	char *argv[] = { "sh", "-c", shcmd, NULL };
	pid_t pid = (fd < 0 || !envp) ? -1 : fork();
	if (pid < 0) {
		int e = fd < 0 || !envp ? ENOMEM : errno;
		free(envp);
		free(shcmd);
		if (fd >= 0)
			close(fd);
		close(sv[0]);
		close(sv[1]);
		snprintf(err, errlen, "device model '%s': cannot start: %s", cmd, strerror(e));
		return -e;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	free(envp);
	free(shcmd);
	close(fd);
	close(sv[1]);
	child->pid = pid;
	struct ctl_conn *conn = ctl_server_adopt(cs, sv[0], pid);
	if (!conn) {
		close(sv[0]);
		snprintf(err, errlen, "device model '%s': too many connections", cmd);
		dm_reap(child, 0);
		return -EMFILE;
	}
	int rc = ctl_server_wait_ready(cs, conn, ready_timeout_ms);
	if (rc) {
		int st = 0;
		bool exited = waitpid(pid, &st, WNOHANG) == pid;
		if (exited)
			child->pid = -1;
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "device model '%s' was not ready within %d ms", cmd,
				 ready_timeout_ms);
		else if (exited && WIFEXITED(st))
			snprintf(err, errlen, "device model '%s' exited with status %d before it was "
				 "ready", cmd, WEXITSTATUS(st));
		else
			snprintf(err, errlen, "device model '%s' closed its connection before it "
				 "was ready", cmd);
		dm_reap(child, 500);
		return rc;
	}
	return 0;
}

void dm_reap(struct dm_child *child, int grace_ms)
{
	if (child->pid <= 0)
		return;
	for (int waited = 0;; waited += 10) {
		int st;
		pid_t r = waitpid(child->pid, &st, WNOHANG);
		if (r == child->pid || (r < 0 && errno == ECHILD))
			break;
		if (waited >= grace_ms) {
			kill(child->pid, SIGKILL);
			waitpid(child->pid, &st, 0);
			break;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	child->pid = -1;
}
