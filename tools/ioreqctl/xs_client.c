/* SPDX-License-Identifier: MIT */
/* ioreqctl's xenstore client (see xs_client.h). */
#include "xs_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioreqvm/xs_wire.h"

int xsc_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int full(int fd, void *buf, size_t len, int (*io)(int, void *, size_t))
{
	for (size_t done = 0; done < len;) {
		int n = io(fd, (uint8_t *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

static int do_read(int fd, void *buf, size_t len)
{
	return (int)read(fd, buf, len);
}

static int do_write(int fd, void *buf, size_t len)
{
	return (int)send(fd, buf, len, MSG_NOSIGNAL);
}

int xsc_call(int fd, uint32_t type, const void *payload, size_t len, char **out,
	     uint32_t *out_len)
{
	static uint32_t req_id;
	if (len > IOREQVM_XS_PAYLOAD_MAX)
		return -E2BIG;
	struct ioreqvm_xs_msg h = { .type = type, .req_id = ++req_id, .len = (uint32_t)len };
	int rc = full(fd, &h, sizeof(h), do_write);
	if (!rc && len)
		rc = full(fd, (void *)payload, len, do_write);
	if (!rc)
		rc = full(fd, &h, sizeof(h), do_read);
	if (rc)
		return rc;
	if (h.len > IOREQVM_XS_PAYLOAD_MAX || h.req_id != req_id)
		return -EPROTO;
	char *p = malloc(h.len + 1);
	if (!p)
		return -ENOMEM;
	rc = full(fd, p, h.len, do_read);
	if (rc) {
		free(p);
		return rc;
	}
	p[h.len] = 0;
	if (h.type == IOREQVM_XS_ERROR) {
		static const struct ioreqvm_xs_error names[] = { IOREQVM_XS_ERRORS };
		rc = -EINVAL;
		for (unsigned i = 0; i < IOREQVM_XS_NR_ERRORS; i++)
			if (!strcmp(p, names[i].name))
				rc = -names[i].err;
		free(p);
		return rc;
	}
	if (h.type != type) {
		free(p);
		return -EPROTO;
	}
	*out = p;
	if (out_len)
		*out_len = h.len;
	return 0;
}
