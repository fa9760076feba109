/*
 * gw_varint.h - the unsigned LEB128 varints of the wallet's packed fields, M (gw_months.h) and
 * L (gw_lots.h); the Lua side is core/lua/varint.lua. Seven bits a byte, least significant
 * first, the high bit set on every byte but the last. A value stays below 2^53 (exact as a Lua
 * number), so it takes GW_VARINT_MAX bytes at most. Pure, no allocation.
 */
#ifndef GW_VARINT_H
#define GW_VARINT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define GW_VARINT_MAX 8                             /* bytes of one varint at most */
#define GW_VARINT_VALUE_MAX ((int64_t)1 << 53)      /* exclusive: every value is below */

/* The varint at *pos of p (len bytes): 0, *v and *pos after it; -EINVAL when truncated, over
 * GW_VARINT_MAX bytes or not below GW_VARINT_VALUE_MAX (*pos then undefined). */
static inline int gw_varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;

    for (unsigned k = 0; k < GW_VARINT_MAX; k++) {
        if (*pos >= len)
            return -EINVAL;
        uint8_t b = p[(*pos)++];
        r |= (uint64_t)(b & 0x7f) << (7 * k);
        if (!(b & 0x80)) {
            if (r >= (uint64_t)GW_VARINT_VALUE_MAX)
                return -EINVAL;
            *v = r;
            return 0;
        }
    }
    return -EINVAL;
}

/* v as a varint at *pos of p (cap bytes): 0 and *pos after it, or -ENOSPC. */
static inline int gw_varint_put(uint8_t *p, size_t cap, size_t *pos, uint64_t v)
{
    do {
        if (*pos >= cap)
            return -ENOSPC;
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[(*pos)++] = (uint8_t)(v ? b | 0x80 : b);
    } while (v);
    return 0;
}

#endif
