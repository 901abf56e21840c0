/* SPDX-License-Identifier: MIT */
/* A Xen device model's library directory and environment (see xen_launch.h). */
#include "core/xen_launch.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IOREQVM_XEN_LIBDIR_REL
#define IOREQVM_XEN_LIBDIR_REL "../lib/ioreqvm/xen"
#endif

int xen_compat_dir(char *out, size_t len, char *err, size_t errlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "cannot tell where the ioreqvm executable is");
		return -ENOENT;
	}
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	const char *candidates[2] = { "../compat/xen", IOREQVM_XEN_LIBDIR_REL };
	for (unsigned i = 0; i < 2; i++) {
		char dir[PATH_MAX + 64], lib[PATH_MAX + 96], real[PATH_MAX];
		if (candidates[i][0] == '/')
			snprintf(dir, sizeof(dir), "%s", candidates[i]);
		else
			snprintf(dir, sizeof(dir), "%s/%s", exe, candidates[i]);
		snprintf(lib, sizeof(lib), "%s/libxendevicemodel.so.1", dir);
		if (access(lib, R_OK) || !realpath(dir, real) || strlen(real) >= len)
			continue;
		memcpy(out, real, strlen(real) + 1);
		return 0;
	}
	snprintf(err, errlen, "ioreqvm's Xen-compatible libraries (libxendevicemodel.so.1 ...) are "
		 "neither in %s/../compat/xen (build tree) nor in %s/%s (installed)", exe, exe,
		 IOREQVM_XEN_LIBDIR_REL);
	return -ENOENT;
}

int xen_model_env(const char *compat_dir, const char *xenstore_path, uint32_t domid,
		  char *vars[XEN_MODEL_ENV_VARS + 1])
{
	const char *old = getenv("LD_LIBRARY_PATH");
	memset(vars, 0, (XEN_MODEL_ENV_VARS + 1) * sizeof(*vars));
	int ok = old && *old ? asprintf(&vars[0], "LD_LIBRARY_PATH=%s:%s", compat_dir, old)
			     : asprintf(&vars[0], "LD_LIBRARY_PATH=%s", compat_dir);
	if (ok < 0)
		vars[0] = NULL;
	if (asprintf(&vars[1], "XENSTORED_PATH=%s", xenstore_path) < 0)
		vars[1] = NULL;
	if (asprintf(&vars[2], "IOREQVM_XEN_DOMID=%" PRIu32, domid) < 0)
		vars[2] = NULL;
	if (!vars[0] || !vars[1] || !vars[2]) {
		xen_model_env_free(vars);
		return -ENOMEM;
	}
	return 0;
}

void xen_model_env_free(char *vars[XEN_MODEL_ENV_VARS + 1])
{
	for (unsigned i = 0; i < XEN_MODEL_ENV_VARS; i++) {
		free(vars[i]);
		vars[i] = NULL;
	}
}
