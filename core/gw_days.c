/*
 * gw_days.c - calendar arithmetic on YYYYMMDD local days (gw_days.h). No time zones here: the
 * callers turn instants into local days (gw_local_day) and only then do arithmetic.
 */
#include "gw_days.h"

static bool is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int32_t month_len(int32_t y, int32_t m)
{
    static const int8_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

bool gw_days_valid(int32_t ymd)
{
    int32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    return ymd > 0 && y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= month_len(y, m);
}

/* days_from_civil: shift the year to start in March so the leap day is the year's last. */
int32_t gw_days_number(int32_t ymd)
{
    if (!gw_days_valid(ymd))
        return -1;
    int32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    y -= m <= 2;
    int32_t era = y / 400; /* y >= 1969: no negative eras */
    int32_t yoe = y - era * 400;
    int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int32_t gw_days_from_number(int32_t n)
{
    if (n < 0 || n > 2932896) /* 9999-12-31 */
        return 0;
    int32_t z = n + 719468;
    int32_t era = z / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    int32_t d = doy - (153 * mp + 2) / 5 + 1;
    int32_t m = mp < 10 ? mp + 3 : mp - 9;
    int32_t y = yoe + era * 400 + (m <= 2);
    return y * 10000 + m * 100 + d;
}

int32_t gw_days_add(int32_t ymd, int32_t n)
{
    int32_t k = gw_days_number(ymd);

    if (k < 0 || (n > 0 && k > INT32_MAX - n))
        return 0;
    return gw_days_from_number(k + n);
}

int32_t gw_days_month_add(int32_t yyyymm, int32_t n)
{
    int32_t y = yyyymm / 100, m = yyyymm % 100;

    if (y < 1970 || y > 9999 || m < 1 || m > 12 || n > 120000 || n < -120000)
        return 0;
    int32_t idx = y * 12 + (m - 1) + n; /* months since year 0 */
    y = idx / 12;
    m = idx % 12 + 1;
    if (y < 1970 || y > 9999)
        return 0;
    return y * 100 + m;
}

int32_t gw_days_add_months(int32_t ymd, int32_t n)
{
    if (!gw_days_valid(ymd))
        return 0;
    int32_t ym = gw_days_month_add(ymd / 100, n);
    if (ym == 0)
        return 0;
    int32_t d = ymd % 100, len = month_len(ym / 100, ym % 100);
    return ym * 100 + (d > len ? len : d);
}

int32_t gw_validity_last_day(const struct gw_validity *v, int32_t lot)
{
    if (v->days > 0)
        return gw_days_add(lot, (int32_t)v->days);
    if (v->months > 0)
        return gw_days_add_months(lot, (int32_t)v->months);
    return 0;
}

int32_t gw_validity_cutoff(const struct gw_validity *v, int32_t today)
{
    if (gw_validity_never(v) || !gw_days_valid(today))
        return 0;
    if (v->days > 0)
        return gw_days_add(today, -(int32_t)v->days - 1);
    /* today - N months is within a few days of the answer (clamping makes several lot days
     * share one last day); walk to the exact boundary. L is non-decreasing in the lot day. */
    int32_t c = gw_days_add_months(today, -(int32_t)v->months);
    if (c == 0)
        return 0;
    while (c != 0) {
        int32_t l = gw_validity_last_day(v, c);
        if (l != 0 && l < today)
            break;
        c = gw_days_add(c, -1);
    }
    for (;;) {
        int32_t next = gw_days_add(c, 1);
        int32_t l = next ? gw_validity_last_day(v, next) : 0;
        if (l == 0 || l >= today)
            return c;
        c = next;
    }
}

int32_t gw_validity_warn_day(const struct gw_validity *v, int32_t lot, uint32_t w)
{
    int32_t l = gw_validity_last_day(v, lot);

    if (l == 0 || w > 3650)
        return 0;
    return gw_days_add(l, 1 - (int32_t)w);
}
