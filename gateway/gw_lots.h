/*
 * gw_lots.h - the wallet's lots as the packed field L (docs/data-model.md, section 1), written
 * by the shared Lua prelude core/lua/wallet_lots.lua: one record per lot, days strictly
 * ascending, each record
 *   u16 big-endian local day as days since 1970-01-01
 *   unsigned LEB128 varint of its points (> 0, below 2^53; gw_varint.h)
 * A typical lot (1..127 points) takes 3 bytes. Day number 0 is the undated lot (first when
 * present): points folded while points never expire, or not yet dated under a validity set
 * later; readers show it with no date and no expiry (GW_LOT_UNDATED). The wallets of the release before hold lots as
 * fields "l:YYYYMMDD" = points: readers take both (gw_lots_old_field) and add them up per day.
 *
 * Everything read from Redis is untrusted: a field L that is not well formed (truncated, a
 * varint too long or too large, zero points, days not strictly ascending) is refused whole by
 * gw_lots_valid, and readers ignore it (the scripts refuse the wallet: LGWDATA lots). Pure, no
 * allocation.
 */
#ifndef GW_LOTS_H
#define GW_LOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_varint.h"

#define GW_LOTS_REC_MAX (2 + GW_VARINT_MAX) /* bytes of one record of L at most */

#define GW_LOT_UNDATED 0 /* the day of the undated lot */

struct gw_lot {
    int32_t day;    /* YYYYMMDD, local; GW_LOT_UNDATED for the undated lot */
    int64_t points; /* > 0 */
};

/* Whether L (len bytes; NULL with 0 = none) is well formed. */
bool gw_lots_valid(const void *l, size_t len);

/* The lots of a well-formed L, oldest first: start with *pos = 0; 1 with *out filled and *pos
 * advanced, 0 at the end (or at a malformed record: check gw_lots_valid first). */
int gw_lots_next(const void *l, size_t len, size_t *pos, struct gw_lot *out);

/* The record of a lot (day YYYYMMDD within L's range after 1970-01-01, or GW_LOT_UNDATED;
 * points > 0 and below 2^53) appended at
 * *len of out (cap bytes): 0 and *len advanced, -EINVAL (out of range), -ENOSPC. The caller
 * appends them oldest first (what the Lua codec writes; tests build L with it). */
int gw_lots_put(void *out, size_t cap, size_t *len, int32_t day, int64_t points);

/* A field of the release before: 1 when key (klen bytes) is "l:YYYYMMDD" with a real day and
 * val an integer > 0 (then *out is the lot), else 0 (not a lot field, or one to ignore). */
int gw_lots_old_field(const char *key, size_t klen, const char *val, size_t vlen,
                      struct gw_lot *out);

#endif
