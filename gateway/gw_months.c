/*
 * gw_months.c - the wallet's packed activity months M (gw_months.h). Pure.
 */
#include "gw_months.h"

#include "gw_varint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int32_t gw_month_index(int32_t yyyymm)
{
    int32_t y = yyyymm / 100, m = yyyymm % 100;

    if (y < 1970 || m < 1 || m > 12)
        return -1;
    int32_t i = (y - 1970) * 12 + m - 1;
    return i > UINT16_MAX ? -1 : i;
}

int32_t gw_month_ym(uint16_t index)
{
    return (1970 + index / 12) * 100 + index % 12 + 1;
}

int gw_months_next(const void *m, size_t len, size_t *pos, int32_t prev, struct gw_month *out)
{
    const uint8_t *p = m;
    uint64_t z, s;

    if (*pos >= len)
        return 0;
    if (len - *pos < 2)
        return -EINVAL;
    uint16_t i = (uint16_t)(p[*pos] << 8 | p[*pos + 1]);
    size_t at = *pos + 2;
    if (gw_varint_get(p, len, &at, &z) < 0 || gw_varint_get(p, len, &at, &s) < 0)
        return -EINVAL;
    int32_t ym = gw_month_ym(i);
    if (prev && ym <= prev)
        return -EINVAL;
    out->ym = ym;
    out->earned = (z & 1) ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
    out->spend = (int64_t)s;
    *pos = at;
    return 1;
}

int gw_months_decode(const void *m, size_t len, struct gw_month *out, size_t max)
{
    size_t pos = 0, n = 0;
    struct gw_month r;
    int32_t prev = 0;
    int rc;

    while ((rc = gw_months_next(m, len, &pos, prev, &r)) == 1) {
        if (n == max)
            return -ENOSPC;
        out[n++] = r;
        prev = r.ym;
    }
    return rc < 0 ? rc : (int)n;
}

int gw_months_window(const void *m, size_t len, int32_t yyyymm, int spend, int64_t *months,
                     size_t n)
{
    size_t pos = 0;
    struct gw_month r;
    int32_t prev = 0, last = gw_month_index(yyyymm);
    int rc;

    if (last < 0)
        return -EINVAL;
    /* checked whole first: an unreadable M changes nothing */
    while ((rc = gw_months_next(m, len, &pos, prev, &r)) == 1)
        prev = r.ym;
    if (rc < 0)
        return rc;
    pos = 0;
    prev = 0;
    while (gw_months_next(m, len, &pos, prev, &r) == 1) {
        int32_t back = last - gw_month_index(r.ym);
        if (back >= 0 && (size_t)back < n)
            months[back] += spend ? r.spend : r.earned;
        prev = r.ym;
    }
    return 0;
}

int gw_months_encode(const struct gw_month *recs, size_t n, void *out, size_t cap)
{
    uint8_t *p = out;
    size_t pos = 0;

    for (size_t k = 0; k < n; k++) {
        const struct gw_month *r = &recs[k];
        int32_t i = gw_month_index(r->ym);
        if (i < 0 || (k > 0 && r->ym <= recs[k - 1].ym) || r->spend < 0 ||
            r->spend >= GW_MONTHS_VALUE_MAX || r->earned >= GW_MONTHS_VALUE_MAX / 2 ||
            r->earned < -GW_MONTHS_VALUE_MAX / 2)
            return -EINVAL;
        uint64_t z =
            r->earned < 0 ? ((uint64_t)(-(r->earned + 1)) << 1) | 1 : (uint64_t)r->earned << 1;
        if (cap - pos < 2)
            return -ENOSPC;
        p[pos++] = (uint8_t)(i >> 8);
        p[pos++] = (uint8_t)i;
        if (gw_varint_put(p, cap, &pos, z) < 0 || gw_varint_put(p, cap, &pos, (uint64_t)r->spend) < 0)
            return -ENOSPC;
    }
    return (int)pos;
}

int gw_months_old(const char *s, size_t len, int64_t *earned, int64_t *spend)
{
    char buf[48], *end;

    *earned = *spend = 0;
    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9'))
        return -EINVAL;
    errno = 0;
    long long e = strtoll(buf, &end, 10);
    if (*end != ',' || end[1] < '0' || end[1] > '9')
        return -EINVAL;
    long long sp = strtoll(end + 1, &end, 10);
    if (*end != '\0' || errno)
        return -EINVAL;
    *earned = e;
    *spend = sp;
    return 0;
}
