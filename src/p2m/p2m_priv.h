/* SPDX-License-Identifier: MIT */
/*
 * Private to src/p2m/: what p2m.c (types and claims) shares with
 * p2m_physmap.c (populate and decrease, X4). Callers hold the writer lock.
 */
#ifndef IOREQVM_P2M_PRIV_H
#define IOREQVM_P2M_PRIV_H

#include "p2m/p2m.h"

/* Runs of the armed ioreq_server types among @runs (the release budget's count). */
uint64_t p2m_armed_runs(const uint64_t *runs, const struct p2m_claim *claims);
/*
 * The release budget (p2m.h): a change leaving @maps mappings and @armed
 * armed runs must leave room to turn every armed run RW. 0 or -ENOSPC with
 * a message.
 */
int p2m_check_budget(const struct p2m *p, uint64_t maps, uint64_t armed, char *err,
		     size_t errlen);
/* The snapshot p2m_get_stats answers from. */
void p2m_publish_stats(struct p2m *p);
/* runmap_foreach visitor: adds the frames of non-mmio_dm runs to *(uint64_t *)ctx. */
int p2m_count_ram(void *ctx, uint64_t a, uint64_t b, uint8_t v);

#endif
