/* SPDX-License-Identifier: MIT */
/* The store's first keys and `--xenstore KEY=VALUE` (see xs_seed.h). */
#include "xenstore/xs_seed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "xenstore/xs_proto.h"

static int put(struct xs_service *s, const char *path, const char *value)
{
	return xs_service_write(s, path, value, strlen(value));
}

int xs_seed_defaults(struct xs_service *s, const struct xs_seed_vm *vm)
{
	char home[48], path[160], v[64], uuid[37];
	unsigned d = vm->domid;
	xs_uuid_str(vm->uuid, uuid);
	snprintf(home, sizeof(home), "/local/domain/%u", d);
	char owner[8];
	int n = snprintf(owner, sizeof(owner), "n%u", d);
	int rc = put(s, "/local/domain/0/name", "Domain-0");
	rc = rc ? rc : put(s, "/local/domain/0/domid", "0");
	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", d);
	rc = rc ? rc : put(s, path, "");
	/* The domain's home first, with its owner: what is written below inherits it. */
	rc = rc ? rc : put(s, home, "");
	rc = rc ? rc : xs_service_set_perms(s, home, owner, (size_t)n + 1);
	snprintf(path, sizeof(path), "%s/name", home);
	rc = rc ? rc : put(s, path, vm->name);
	snprintf(path, sizeof(path), "%s/domid", home);
	snprintf(v, sizeof(v), "%u", d);
	rc = rc ? rc : put(s, path, v);
	snprintf(path, sizeof(path), "%s/vm", home);
	snprintf(v, sizeof(v), "/vm/%s", uuid);
	rc = rc ? rc : put(s, path, v);
	snprintf(path, sizeof(path), "/vm/%s/uuid", uuid);
	rc = rc ? rc : put(s, path, uuid);
	snprintf(path, sizeof(path), "/vm/%s/name", uuid);
	rc = rc ? rc : put(s, path, vm->name);
	for (unsigned i = 0; !rc && i < vm->nr_vcpus; i++) {
		snprintf(path, sizeof(path), "%s/cpu/%u/availability", home, i);
		rc = put(s, path, "online");
	}
	snprintf(v, sizeof(v), "%" PRIu64, vm->ram_kib);
	snprintf(path, sizeof(path), "%s/memory/static-max", home);
	rc = rc ? rc : put(s, path, v);
	snprintf(path, sizeof(path), "%s/memory/target", home);
	rc = rc ? rc : put(s, path, v);
	return rc;
}

int xs_seed_parse(const char *arg, uint32_t domid, char *path, const char **value, char *err,
		  size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(err, errlen, "--xenstore '%s': expected KEY=VALUE", arg);
		return -EINVAL;
	}
	size_t klen = (size_t)(eq - arg);
	size_t prefix = arg[0] == '/' ? 0 : (size_t)snprintf(path, IOREQVM_XS_ABS_PATH_MAX + 1,
							       "/local/domain/%" PRIu32 "/", domid);
	if (prefix + klen > IOREQVM_XS_ABS_PATH_MAX) {
		snprintf(err, errlen, "--xenstore: key longer than %d bytes", IOREQVM_XS_ABS_PATH_MAX);
		return -EINVAL;
	}
	memcpy(path + prefix, arg, klen);
	path[prefix + klen] = 0;
	if (xs_path_valid(path)) {
		snprintf(err, errlen, "--xenstore '%.*s': not a xenstore path (letters, digits and "
			 "-/_@, no empty component)", (int)(klen < 200 ? klen : 200), arg);
		return -EINVAL;
	}
	if (strlen(eq + 1) > XS_MAX_VALUE) {
		snprintf(err, errlen, "--xenstore: value of %.*s longer than %d bytes",
			 (int)(klen < 200 ? klen : 200), arg, XS_MAX_VALUE);
		return -EINVAL;
	}
	*value = eq + 1;
	return 0;
}

int xs_seed_apply(struct xs_service *s, const char *arg, uint32_t domid, char *err,
		  size_t errlen)
{
	char path[IOREQVM_XS_ABS_PATH_MAX + 1];
	const char *value;
	int rc = xs_seed_parse(arg, domid, path, &value, err, errlen);
	if (rc)
		return rc;
	rc = put(s, path, value);
	if (rc)
		snprintf(err, errlen, "--xenstore %s: %s", path, strerror(-rc));
	return rc;
}

void xs_uuid_new(uint8_t uuid[16])
{
	if (getrandom(uuid, 16, 0) != 16) {
		/* No entropy source: still unique enough for one host's VMs. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t a = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		uint64_t b = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ a;
		memcpy(uuid, &a, 8);
		memcpy(uuid + 8, &b, 8);
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void xs_uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}
