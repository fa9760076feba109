/*
 * gw_lots.c - decoding the wallet's packed lots L and the lot fields of the release before
 * (gw_lots.h; layout in docs/data-model.md, section 1).
 */
#include "gw_lots.h"

#include "gw_days.h"

/* A record of L: days since 1970-01-01 and points, big-endian as struct.pack('>I2I3') */
static void rec(const uint8_t *p, int32_t *dn, int64_t *pts)
{
    *dn = (int32_t)((uint32_t)p[0] << 8 | p[1]);
    *pts = (int64_t)((uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
}

bool gw_lots_valid(const void *l, size_t len)
{
    const uint8_t *p = l;
    int32_t pz = -1, z;
    int64_t pv = 0, v;

    if (len % GW_LOTS_REC != 0 || (len > 0 && !l))
        return false;
    for (size_t i = 0; i < len; i += GW_LOTS_REC) {
        rec(p + i, &z, &v);
        if (v == 0 || z < pz || (z == pz && pv != GW_LOTS_FULL))
            return false;
        pz = z;
        pv = v;
    }
    return true;
}

int gw_lots_next(const void *l, size_t len, size_t *pos, struct gw_lot *out)
{
    const uint8_t *p = l;
    int32_t z, z2;
    int64_t v, v2, last;

    if (!l || !pos || !out || len % GW_LOTS_REC != 0 || *pos + GW_LOTS_REC > len)
        return 0;
    rec(p + *pos, &z, &v);
    *pos += GW_LOTS_REC;
    /* a lot above GW_LOTS_FULL: the records of the same day that follow a full one */
    last = v;
    while (last == GW_LOTS_FULL && *pos + GW_LOTS_REC <= len) {
        rec(p + *pos, &z2, &v2);
        if (z2 != z)
            break;
        v += v2;
        last = v2;
        *pos += GW_LOTS_REC;
    }
    out->day = gw_days_from_number(z);
    out->points = v;
    return out->day != 0 && v > 0;
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
