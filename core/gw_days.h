/*
 * gw_days.h - calendar arithmetic on local days written YYYYMMDD (20261207), pure and
 * allocation-free: day numbers, adding days and months, and the points' validity (when a lot
 * earned on a day stops being spendable, which lots a given day expires, when to warn).
 *
 * The validity rule (docs/data-model.md, the lots of field L): points earned on local day D are
 * spendable through their last valid day L(D) = D + V, V being a number of days or of months
 * (D + N months clamped to the month's last day: 31 Jan + 1 month = 28/29 Feb). They expire at
 * the end of L(D): on day L(D) + 1 they are gone. This is the date the USSD balance shows as
 * "N points expire on <L(D)>". L is non-decreasing in D, so "the lots a day expires" is a prefix
 * of the lots sorted by day: every lot whose day is <= gw_validity_cutoff(v, today).
 *
 * Day numbers are days since 1970-01-01 (the civil-from-days arithmetic of H. Hinnant's
 * chrono-compatible algorithms); valid YYYYMMDD are 19700101..99991231. Functions return 0 for a
 * day that is not one, which never is a valid YYYYMMDD.
 */
#ifndef GW_DAYS_H
#define GW_DAYS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether ymd is a real calendar day in 1970..9999. */
bool gw_days_valid(int32_t ymd);
/* ymd -> days since 1970-01-01 (-1 for an invalid day); and back (0 when out of range). */
int32_t gw_days_number(int32_t ymd);
int32_t gw_days_from_number(int32_t n);
/* ymd + n days (n may be negative); 0 when the result leaves 1970..9999 or ymd is invalid. */
int32_t gw_days_add(int32_t ymd, int32_t n);
/* ymd + n months, the day clamped to the target month's last day; n may be negative. */
int32_t gw_days_add_months(int32_t ymd, int32_t n);
/* A month YYYYMM + n months (n may be negative): 202612 + 1 = 202701. 0 for a bad month. */
int32_t gw_days_month_add(int32_t yyyymm, int32_t n);

/* How long points stay spendable: days if days > 0, else months if months > 0, else forever. */
struct gw_validity {
    uint32_t days;   /* 0..3650 */
    uint32_t months; /* 0..120 */
};

static inline bool gw_validity_never(const struct gw_validity *v)
{
    return v->days == 0 && v->months == 0;
}

/* L(lot): the last day points earned on `lot` may be spent; 0 when they never expire (or lot
 * is invalid). */
int32_t gw_validity_last_day(const struct gw_validity *v, int32_t lot);
/* The greatest lot day whose points are expired on `today` (L(lot) < today): every lot dated
 * on or before it is expired, every later one is not. 0 when nothing can be expired (never, or
 * today too early). */
int32_t gw_validity_cutoff(const struct gw_validity *v, int32_t today);
/* The first day on which a warning "w days ahead" is due for a lot: the day from which
 * L(lot) - day < w, i.e. L(lot) - w + 1. 0 when the lot never expires. */
int32_t gw_validity_warn_day(const struct gw_validity *v, int32_t lot, uint32_t w);

#endif
