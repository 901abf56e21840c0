/* SPDX-License-Identifier: MIT */
/*
 * `ioreqvm xen-env` (see xen_env.h): finding the VM's control socket,
 * asking it XEN_INFO over the control protocol (one request, one reply),
 * and exec'ing the model with its environment.
 */
#include "core/xen_env.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/xen_launch.h"
#include "ctl/ctl_server.h"
#include "ioreqvm/ctl_proto.h"

#define PROG "ioreqvm xen-env"

/* A connected control socket at @path, or -1 (errno set). */
static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

/* The only live ioreqvm-*.sock in the default directory, into @out. 0 or -1 (said why). */
static int find_default(char *out, size_t len)
{
	char probe[108], dflt[108];
	ctl_default_path(dflt, sizeof(dflt)); /* DIR/ioreqvm-PID.sock: DIR is what we want */
	char *slash = strrchr(dflt, '/');
	*slash = 0;
	DIR *d = opendir(dflt);
	if (!d) {
		fprintf(stderr, PROG ": %s: %s; name the VM with --socket PATH\n", dflt, strerror(errno));
		return -1;
	}
	unsigned found = 0;
	char list[1024] = "";
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat st;
		if (strncmp(e->d_name, "ioreqvm-", 8) || n < 13 || strcmp(e->d_name + n - 5, ".sock") ||
		    (size_t)snprintf(probe, sizeof(probe), "%s/%s", dflt, e->d_name) >= sizeof(probe) ||
		    lstat(probe, &st) || !S_ISSOCK(st.st_mode))
			continue;
		int fd = ctl_connect(probe);
		if (fd < 0)
			continue; /* a dead VM's socket */
		close(fd);
		if (!found++)
			snprintf(out, len, "%s", probe);
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "  %s\n", probe);
	}
	closedir(d);
	if (found == 1)
		return 0;
	if (!found)
		fprintf(stderr, PROG ": no running VM has a control socket in %s; name it with "
			"--socket PATH (ioreqvm -v prints it)\n", dflt);
	else
		fprintf(stderr, PROG ": %u running VMs in %s; name one with --socket PATH:\n%s", found,
			dflt, list);
	return -1;
}

/* XEN_INFO of the VM at @path. 0 or -1 (said why). */
static int ask(const char *path, struct ioreqvm_op_xen_info *info)
{
	int fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, PROG ": connecting to %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = IOREQVM_OP_XEN_INFO, .seq = 1 };
	struct {
		struct ioreqvm_ctl_rep h;
		struct ioreqvm_op_xen_info info;
	} rep;
	ssize_t n = send(fd, &h, sizeof(h), MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(h))
		n = recv(fd, &rep, sizeof(rep), 0);
	close(fd);
	if (n < (ssize_t)sizeof(rep.h) || rep.h.magic != IOREQVM_CTL_MAGIC) {
		fprintf(stderr, PROG ": %s did not answer as an ioreqvm VM\n", path);
		return -1;
	}
	rep.h.msg[sizeof(rep.h.msg) - 1] = 0;
	if (rep.h.result < 0 || n != (ssize_t)sizeof(rep) || rep.h.len != sizeof(rep.info)) {
		fprintf(stderr, PROG ": the VM at %s refused XEN_INFO: %s\n", path,
			rep.h.result < 0 ? rep.h.msg : "short reply");
		return -1;
	}
	*info = rep.info;
	info->xenstore_path[sizeof(info->xenstore_path) - 1] = 0;
	return 0;
}

int xen_env_main(const struct cli_opts *o)
{
	char sock[108], compat[4096], err[512];
	const char *given = o->socket ? o->socket : getenv("IOREQVM_SOCKET");
	if (given && *given)
		snprintf(sock, sizeof(sock), "%s", given);
	else if (find_default(sock, sizeof(sock)))
		return 1;
	struct ioreqvm_op_xen_info info;
	if (ask(sock, &info))
		return 1;
	if (!info.xenstore_path[0]) {
		fprintf(stderr, PROG ": the VM at %s has no xenstore\n", sock);
		return 1;
	}
	if (xen_compat_dir(compat, sizeof(compat), err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	char *vars[XEN_MODEL_ENV_VARS + 1];
	if (xen_model_env(compat, info.xenstore_path, info.domid, vars)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < XEN_MODEL_ENV_VARS; i++)
		putenv(vars[i]); /* the environment keeps them: exec follows */
	setenv("IOREQVM_SOCKET", sock, 1);
	unsetenv("IOREQVM_FD");
	execvp(o->xen_env_cmd[0], o->xen_env_cmd);
	fprintf(stderr, PROG ": %s: %s\n", o->xen_env_cmd[0], strerror(errno));
	return 127;
}
