/* SPDX-License-Identifier: MIT */
/* What the claims guest and tests/func/test_claims.c agree on. */
#ifndef CLAIMS_ABI_H
#define CLAIMS_ABI_H

#define CLAIMS_PAGE 0x800000ULL    /* first watched page (testdm --pages CLAIMS_PAGE:2) */
#define CLAIMS_MAILBOX 0x900000ULL /* ram_rw words: [0] flag, [1] v_after, [2] stop, [3] last */
#define CLAIMS_CTL_PORT 0x5e0      /* testdm A's control port; B's is +4; model i of 8: 0x5c0 + 4 i */
#define CLAIMS_BEFORE 0x1111111111111111ULL

/* testdm control commands (cmd << 24 | arg). */
#define CLAIMS_CTL(cmd, arg) (((uint32_t)(cmd) << 24) | (uint32_t)(arg))
#define CLAIMS_CLAIM(type, flags) CLAIMS_CTL(1, (type) | ((flags) << 8))
#define CLAIMS_SET_TYPE(type) CLAIMS_CTL(2, (type))
#define CLAIMS_WRITE_THROUGH(on) CLAIMS_CTL(3, (on))
#define CLAIMS_STATS CLAIMS_CTL(5, 0)
/* Issue 11 (K13): claims and type changes inside one pending request; the flip thread; counters. */
#define CLAIMS_CYCLE(type, wait_ms) CLAIMS_CTL(6, (type) | ((wait_ms) << 8))
#define CLAIMS_FLIP(n, type) CLAIMS_CTL(7, (n) | ((type) << 16))
#define CLAIMS_QUERY(what, index) CLAIMS_CTL(8, (index) | ((what) << 8))
#define CLAIMS_PATCH(offset, byte) CLAIMS_CTL(9, (byte) | ((offset) << 8))
#define CLAIMS_Q_COUNT 0     /* forwarded 8-byte writes to word index of the page */
#define CLAIMS_Q_FOLD_LO 1   /* testdm_fold of their values in arrival order */
#define CLAIMS_Q_FOLD_HI 2
#define CLAIMS_Q_NOT_ABOVE 3 /* values not above the previous one */
#define CLAIMS_Q_FLIPS 4
#define CLAIMS_Q_STALLS 5
#define CLAIMS_Q_FLIP_ERROR 6
#define CLAIMS_MARKS 0x900100ULL   /* testdm --mark (words: testdm_pattern.h TESTDM_MARK_*) */

#endif
