/*
 * gw_zone.c - the programme zone (gw_zone.h): one cat_tz published through an atomic pointer,
 * the zones it replaced kept on a list (never freed: a thread may still be answering with one),
 * and a per-thread memory of the last offset span.
 */
#include "gw_zone.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "gw_days.h"

#define DAY INT64_C(86400)

/* UTC as a TZif version 1 image: a header with one type (offset 0, abbreviation "UTC"). */
static const unsigned char utc_tzif[54] = {
    'T', 'Z', 'i', 'f', [39] = 1, [43] = 4, [50] = 'U', 'T', 'C', 0,
};

static _Atomic(const struct cat_tz *) current;
static pthread_once_t utc_once = PTHREAD_ONCE_INIT;
static struct cat_tz *utc_zone;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

struct retired {
    struct cat_tz *tz;
    struct retired *next;
};
static struct retired *retired; /* under load_lock; reachable, so never a leak report */

/* The offset span this thread last used; keyed by the zone, which is never freed, so an address
 * cannot come back for another zone. */
static _Thread_local struct {
    const struct cat_tz *tz;
    int64_t from, until;
    int32_t off;
} span;

static void utc_init(void)
{
    /* cannot fail but for memory at start-up: a gateway without any zone must not run */
    if (cat_tz_parse(utc_tzif, sizeof(utc_tzif), "UTC", &utc_zone) < 0)
        abort();
}

const struct cat_tz *gw_zone(void)
{
    const struct cat_tz *tz = atomic_load_explicit(&current, memory_order_acquire);

    if (tz)
        return tz;
    pthread_once(&utc_once, utc_init);
    return utc_zone;
}

int gw_zone_load(const char *name)
{
    struct cat_tz *tz = NULL;
    struct retired *r;
    int rc = cat_tz_load(name, &tz);

    if (rc < 0)
        return rc;
    pthread_mutex_lock(&load_lock);
    const struct cat_tz *old = atomic_load_explicit(&current, memory_order_acquire);
    if (old && cat_tz_same(old, tz)) {
        cat_tz_free(tz); /* a reload of unchanged rules */
        goto out;
    }
    if (old) {
        r = malloc(sizeof(*r));
        if (!r) {
            cat_tz_free(tz);
            rc = -ENOMEM;
            goto out;
        }
        r->tz = (struct cat_tz *)old; /* ours: installed by this function */
        r->next = retired;
        retired = r;
    }
    atomic_store_explicit(&current, tz, memory_order_release);
out:
    pthread_mutex_unlock(&load_lock);
    return rc;
}

int32_t gw_zone_utc_offset(int64_t t)
{
    const struct cat_tz *tz = gw_zone();

    if (span.tz == tz && t >= span.from && t < span.until)
        return span.off;
    span.off = cat_tz_utc_offset_span(tz, t, &span.from, &span.until);
    span.tz = tz;
    return span.off;
}

/* Days since 1970-01-01 of the local wall clock at t, and the seconds into that day. */
static int64_t local_days(int64_t t, int64_t *sod)
{
    int64_t local = t + gw_zone_utc_offset(t);
    int64_t days = local / DAY;

    if (local % DAY < 0)
        days--;
    if (sod)
        *sod = local - days * DAY;
    return days;
}

int32_t gw_zone_local_day(int64_t t)
{
    int64_t days = local_days(t, NULL);

    if (days < 0 || days > INT32_MAX)
        return 0;
    return gw_days_from_number((int32_t)days);
}

int gw_zone_localtime(int64_t t, struct cat_tm *out)
{
    int64_t sod, days = local_days(t, &sod);
    int32_t ymd = days < 0 || days > INT32_MAX ? 0 : gw_days_from_number((int32_t)days);

    if (ymd == 0)
        return -ERANGE;
    out->year = ymd / 10000;
    out->mon = ymd / 100 % 100;
    out->day = ymd % 100;
    out->hour = (int)(sod / 3600);
    out->min = (int)(sod / 60 % 60);
    out->sec = (int)(sod % 60);
    out->wday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
    out->utc_offset = gw_zone_utc_offset(t);
    return 0;
}

int gw_zone_to_utc(int32_t ymd, int32_t sec, enum cat_tz_pick pick, int64_t *out)
{
    if (!gw_days_valid(ymd) || sec < 0 || sec >= DAY)
        return -EINVAL;
    return cat_tz_local_to_utc(gw_zone(), ymd / 10000, ymd / 100 % 100, ymd % 100, sec / 3600,
                               sec / 60 % 60, sec % 60, pick, out, NULL);
}

int64_t gw_zone_day_start(int32_t ymd)
{
    int64_t t;

    return gw_zone_to_utc(ymd, 0, CAT_TZ_EARLIER, &t) < 0 ? -1 : t;
}
