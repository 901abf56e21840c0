/* SPDX-License-Identifier: MIT */
/*
 * What testdm answers for addresses never written, and how it folds posted
 * writes into a checksum. Shared with the ioreq test guest, which computes
 * the same values to check what it reads.
 */
#ifndef TESTDM_PATTERN_H
#define TESTDM_PATTERN_H

#include <stdint.h>

static inline uint64_t testdm_pattern(uint64_t addr, uint64_t tag)
{
	uint64_t x = (addr + 1) * 0x9E3779B97F4A7C15ULL ^ (tag * 0xD1B54A32D192ED03ULL);
	return x ^ (x >> 29);
}

/* Order-sensitive: a lost, doubled or reordered write changes the result. */
static inline uint64_t testdm_fold(uint64_t sum, uint64_t value)
{
	return (sum * 31 + value + 1) * 0x100000001B3ULL;
}

/*
 * testdm --mark GPA: 8-byte words in guest RAM the model keeps up to date,
 * so a guest can see what the model is doing while one of its vCPUs waits.
 */
enum {
	TESTDM_MARK_SLEEPS_BEGUN = 0,    /* delayed requests received (before sleeping) */
	TESTDM_MARK_SLEEPS_ANSWERED = 1, /* delayed requests about to be answered */
	TESTDM_MARK_CYCLE_STEP = 2,      /* last step of the control port's cycle done (1..8) */
	TESTDM_MARK_FLIPS = 3,           /* type changes made by the control port's flip */
	TESTDM_MARK_FLIP_DONE = 4,       /* 1 once the flip has finished (or failed) */
	TESTDM_MARK_WORDS = 5,
};
/* Steps of the cycle: claim W, set type, claim R|W, set ram_rw, set type,
 * release, claim W, set type (it ends with the pages claimed for WRITE). */
#define TESTDM_CYCLE_STEPS 8
/* Forwarded 8-byte writes to the first TESTDM_SLOTS words of --pages are counted per word. */
#define TESTDM_SLOTS 64

#endif
