/* SPDX-License-Identifier: MIT */
/*
 * What the store holds when the VM starts (DESIGN X1, issue 20): the keys a
 * Xen toolstack writes for an HVM domain and its device model, then the
 * user's `--xenstore KEY=VALUE` ones (which may override them). For the
 * VM's domain D (--domid, default 1), UUID U and N vCPUs:
 *   /local/domain/0/name = "Domain-0", /local/domain/0/domid = "0"
 *   /local/domain/0/device-model/D       (empty: the device model's place)
 *   /local/domain/D/name = NAME, /local/domain/D/domid = "D"
 *   /local/domain/D/vm = "/vm/U", /vm/U/uuid = "U", /vm/U/name = NAME
 *   /local/domain/D/cpu/I/availability = "online" for each vCPU I
 *   /local/domain/D/memory/static-max, memory/target = RAM in KiB
 * /local/domain/D and what is below it is owned by D ("nD"), the rest by
 * dom0 ("n0"). A KEY not starting with '/' is below /local/domain/D.
 */
#ifndef IOREQVM_XS_SEED_H
#define IOREQVM_XS_SEED_H

#include <stddef.h>
#include <stdint.h>

struct xs_service;

struct xs_seed_vm {
	uint32_t domid;
	const char *name;
	const uint8_t *uuid; /* 16 bytes */
	unsigned nr_vcpus;
	uint64_t ram_kib;
};

/* The default keys. 0 or -errno (a limit: the store starts small). */
int xs_seed_defaults(struct xs_service *s, const struct xs_seed_vm *vm);
/*
 * One `--xenstore KEY=VALUE`: the absolute path of KEY for domain @domid
 * into @path (IOREQVM_XS_ABS_PATH_MAX + 1 bytes) and where VALUE starts;
 * 0, or -EINVAL with a message (no '=', a bad path, a value past
 * XS_MAX_VALUE). Checks only: the command line uses it.
 */
int xs_seed_parse(const char *arg, uint32_t domid, char *path, const char **value, char *err,
		  size_t errlen);
/* Write a parsed `--xenstore` seed. 0 or -errno with a message. */
int xs_seed_apply(struct xs_service *s, const char *arg, uint32_t domid, char *err,
		  size_t errlen);
/* A fresh random (version 4) UUID, and its text form (37 bytes with the NUL). */
void xs_uuid_new(uint8_t uuid[16]);
void xs_uuid_str(const uint8_t uuid[16], char out[37]);

#endif
