/*
 * gw_months.h - the wallet's activity months as its packed field M (docs/data-model.md, section
 * 1): what the rolling tiers sum. Written by lua/commit.lua and lua/tier.lua with the shared Lua
 * of core/lua/wallet_months.lua; this is the C reader (the daily tier review, gw_tier_job.c).
 *
 * M: one record per local month, months strictly ascending, each record
 *   u16 big-endian month index (year - 1970) * 12 + month - 1
 *   zigzag LEB128 varint of the points earned (a reversal may leave a month below 0)
 *   unsigned LEB128 varint of the currency spent in thousandths
 * A varint has at most GW_MONTHS_VARINT_MAX bytes and a value below 2^53 (what a Lua number
 * holds exactly). The fields m:YYYYMM = "earned,spend" of the releases before are summed with
 * M's record of the same month by every reader (gw_months_old parses one).
 *
 * M is stored data, checked anyway: truncated input, a varint too long or too large, months not
 * ascending: -EINVAL, and the reader reports it instead of guessing. Pure, no allocation.
 */
#ifndef GW_MONTHS_H
#define GW_MONTHS_H

#include <stddef.h>
#include <stdint.h>

#include "gw_varint.h"

#define GW_MONTHS_VARINT_MAX GW_VARINT_MAX
#define GW_MONTHS_VALUE_MAX GW_VARINT_VALUE_MAX /* exclusive: every varint's value is below */
#define GW_MONTHS_REC_MAX (2 + 2 * GW_MONTHS_VARINT_MAX) /* bytes of one record at most */

struct gw_month {
    int32_t ym;     /* YYYYMM */
    int64_t earned; /* points, may be < 0 */
    int64_t spend;  /* thousandths, >= 0 */
};

/* YYYYMM <-> month index (months since 1970-01); -1 for a month outside 1970-01 .. index 65535. */
int32_t gw_month_index(int32_t yyyymm);
int32_t gw_month_ym(uint16_t index);

/* The record at *pos of M (len bytes): 1 and *out filled, *pos after it; 0 at the end; -EINVAL
 * when unreadable. prev is the previous record's month (0 for the first): a month not after it
 * is unreadable too. */
int gw_months_next(const void *m, size_t len, size_t *pos, int32_t prev, struct gw_month *out);

/* All the records of M into out[0..max): their number, -EINVAL when unreadable, -ENOSPC when
 * there are more than max. */
int gw_months_decode(const void *m, size_t len, struct gw_month *out, size_t max);

/* Adds to months[i] the earned points (spend = 0) or the spend (spend = 1) of the month i months
 * before yyyymm, i = 0..n-1, from M. 0 or -EINVAL (unreadable M: months unchanged). */
int gw_months_window(const void *m, size_t len, int32_t yyyymm, int spend, int64_t *months,
                     size_t n);

/* Records (ascending months, values within the bounds) -> M in out (cap bytes): the number of
 * bytes, or -EINVAL (a month out of range or not ascending, a value out of bounds), -ENOSPC. */
int gw_months_encode(const struct gw_month *recs, size_t n, void *out, size_t cap);

/* A field of the releases before, "earned,spend" (len bytes, not NUL-terminated): 0 and both
 * filled, or -EINVAL (both 0). */
int gw_months_old(const char *s, size_t len, int64_t *earned, int64_t *spend);

#endif
