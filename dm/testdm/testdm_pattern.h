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

#endif
