/*
 * gw_lots.c - decoding the wallet's packed lots L and the lot fields of the release before
 * (gw_lots.h; layout in docs/data-model.md, section 1).
 */
#include "gw_lots.h"

#include "gw_days.h"

/* The record at *pos of L: 0 with day number *dn, points *pts and *pos after it; -EINVAL when
 * truncated, its varint unreadable or its points 0 (*pos unchanged). */
static int rec(const uint8_t *p, size_t len, size_t *pos, int32_t *dn, int64_t *pts)
{
    uint64_t v;
    size_t at = *pos + 2;

    if (len - *pos < 2 || gw_varint_get(p, len, &at, &v) < 0 || v == 0)
        return -EINVAL;
    *dn = (int32_t)((uint32_t)p[*pos] << 8 | p[*pos + 1]);
    *pts = (int64_t)v;
    *pos = at;
    return 0;
}

bool gw_lots_valid(const void *l, size_t len)
{
    const uint8_t *p = l;
    int32_t pz = -1, z;
    int64_t v;
    size_t pos = 0;

    if (len > 0 && !l)
        return false;
    while (pos < len) {
        if (rec(p, len, &pos, &z, &v) < 0 || z <= pz)
            return false;
        pz = z;
    }
    return true;
}

int gw_lots_next(const void *l, size_t len, size_t *pos, struct gw_lot *out)
{
    int32_t z;
    int64_t v;

    if (!l || !pos || !out || *pos >= len || rec(l, len, pos, &z, &v) < 0)
        return 0;
    out->day = z == 0 ? GW_LOT_UNDATED : gw_days_from_number(z);
    out->points = v;
    return z == 0 || out->day != 0;
}

int gw_lots_put(void *out, size_t cap, size_t *len, int32_t day, int64_t points)
{
    uint8_t *p = out;
    /* -1 for a day that is not one; 1970-01-01 would read back as the undated lot */
    int32_t z = day == GW_LOT_UNDATED ? 0 : gw_days_number(day);

    if (z < 0 || (z == 0 && day != GW_LOT_UNDATED) || z > UINT16_MAX || points <= 0 || points >= GW_VARINT_VALUE_MAX)
        return -EINVAL;
    if (cap < 2 || *len > cap - 2)
        return -ENOSPC;
    size_t at = *len + 2;
    if (gw_varint_put(p, cap, &at, (uint64_t)points) < 0)
        return -ENOSPC;
    p[*len] = (uint8_t)(z >> 8);
    p[*len + 1] = (uint8_t)z;
    *len = at;
    return 0;
}

int gw_lots_old_field(const char *key, size_t klen, const char *val, size_t vlen,
                      struct gw_lot *out)
{
    int32_t day = 0;
    int64_t v = 0;

    if (!key || !val || klen != 10 || key[0] != 'l' || key[1] != ':' || vlen == 0 || vlen > 16)
        return 0;
    for (size_t i = 2; i < 10; i++) {
        if (key[i] < '0' || key[i] > '9')
            return 0;
        day = day * 10 + (key[i] - '0');
    }
    for (size_t i = 0; i < vlen; i++) {
        if (val[i] < '0' || val[i] > '9')
            return 0; /* negative or not a number: not a lot to show */
        v = v * 10 + (val[i] - '0');
    }
    if (!gw_days_valid(day) || v <= 0)
        return 0;
    out->day = day;
    out->points = v;
    return 1;
}
