/*
 * gw_lots.h - the wallet's lots as the packed field L (docs/data-model.md, section 1): 5-byte
 * records, oldest first, written by the shared Lua prelude core/lua/wallet_lots.lua with
 * struct.pack('>I2I3'): the lot's local day as days since 1970-01-01 (u16) and its points (u24,
 * > 0). A lot above 2^24 - 1 points takes several records of the same day, all but the last
 * full. The wallets of the release before hold lots as fields "l:YYYYMMDD" = points: readers
 * take both (gw_lots_old_field) and add them up per day.
 *
 * Everything read from Redis is untrusted: a field L that is not well formed (length not a
 * multiple of 5, a zero record, days out of order, a repeated day after a record that is not
 * full) is refused whole by gw_lots_valid, and readers ignore it (the scripts refuse the wallet:
 * LGWDATA lots). Pure, no allocation.
 */
#ifndef GW_LOTS_H
#define GW_LOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_LOTS_REC 5            /* bytes of one record of L */
#define GW_LOTS_FULL 16777215LL /* the points of a full record (u24) */

struct gw_lot {
    int32_t day;    /* YYYYMMDD, local */
    int64_t points; /* > 0 */
};

/* Whether L (len bytes; NULL with 0 = none) is well formed. */
bool gw_lots_valid(const void *l, size_t len);

/* The lots of a well-formed L, oldest first, the records of one day merged: start with
 * *pos = 0; 1 with *out filled and *pos advanced, 0 at the end (or at a malformed record: check
 * gw_lots_valid first). */
int gw_lots_next(const void *l, size_t len, size_t *pos, struct gw_lot *out);

/* A field of the release before: 1 when key (klen bytes) is "l:YYYYMMDD" with a real day and
 * val an integer > 0 (then *out is the lot), else 0 (not a lot field, or one to ignore). */
int gw_lots_old_field(const char *key, size_t klen, const char *val, size_t vlen,
                      struct gw_lot *out);

#endif
