/* SPDX-License-Identifier: MIT */
/* The list of built-in CPU backends and the --accel choice among them (K0). */
#include "cpu/backend.h"

#include <stdio.h>
#include <string.h>

extern const struct cpu_backend_ops kvm_backend_ops;
extern const struct cpu_backend_ops tcg_backend_ops;

const struct cpu_backend_ops *const cpu_backends[] = {
	&kvm_backend_ops,
	&tcg_backend_ops,
	NULL,
};

const struct cpu_backend_ops *cpu_backend_select(const char *name, const char *device,
						 char *err, size_t errlen)
{
	if (!name || !strcmp(name, "auto")) {
		char why[256] = "";
		for (size_t i = 0; cpu_backends[i]; i++) {
			if (cpu_backends[i]->probe(device, why, sizeof(why)) == 0)
				return cpu_backends[i];
		}
		snprintf(err, errlen, "no CPU backend can run here: %s", why);
		return NULL;
	}
	for (size_t i = 0; cpu_backends[i]; i++) {
		if (strcmp(cpu_backends[i]->name, name))
			continue;
		if (cpu_backends[i]->probe(device, err, errlen))
			return NULL;
		return cpu_backends[i];
	}
	snprintf(err, errlen, "--accel %s: unknown accelerator (use kvm, tcg or auto)", name);
	return NULL;
}
