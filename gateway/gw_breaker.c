/*
 * gw_breaker.c - the redemption-rate breaker's arithmetic (gw_breaker.h). Integers only: the
 * baseline is in thousandths of a redemption per window, the smoothing weight in parts per
 * million.
 */
#include "gw_breaker.h"

#include <errno.h>

#define PPM 1000000
#define IDLE_WINDOWS_MAX 4096 /* beyond this many idle windows the baseline is at its floor */

void gw_breaker_config_defaults(struct gw_breaker_config *cfg)
{
    *cfg = (struct gw_breaker_config){
        .window_s = 60,
        .half_life_s = 3600,
        .multiple_pct = 500,
        .min_count = 20,
        .floor_milli = 2000,
    };
}

int gw_breaker_config_check(const struct gw_breaker_config *c)
{
    if (!c || c->window_s == 0 || c->half_life_s == 0 || c->multiple_pct <= 100 ||
        c->multiple_pct > 100000 || c->floor_milli < 0 || c->floor_milli > INT64_C(1000000000000))
        return -EINVAL;
    return 0;
}

/* The weight a closed window gets: 1 - 2^(-window/half_life), in ppm. 2^(-x) for x = w/h is
 * computed by halving per whole half-life and a linear step within the last one (error < 6 %
 * of the weight, enough for a threshold that is a multiple of the baseline). */
static int64_t alpha_ppm(const struct gw_breaker_config *c)
{
    uint64_t w = c->window_s, h = c->half_life_s;
    int64_t keep = PPM; /* 2^(-w/h) in ppm */

    while (w >= h && keep > 0) {
        keep /= 2;
        w -= h;
    }
    /* within one half-life 2^(-f) is close to 1 - f/2 */
    keep -= (int64_t)((uint64_t)keep * w / (2 * h));
    int64_t a = PPM - keep;
    return a < 1 ? 1 : a;
}

static void close_window(const struct gw_breaker_config *c, struct gw_breaker_rate *r,
                         int64_t count)
{
    int64_t a = alpha_ppm(c);
    int64_t x = count * 1000;

    r->baseline_milli += (x - r->baseline_milli) * a / PPM;
    if (r->baseline_milli < c->floor_milli)
        r->baseline_milli = c->floor_milli;
}

uint32_t gw_breaker_threshold(const struct gw_breaker_config *c, const struct gw_breaker_rate *r)
{
    int64_t base = r->baseline_milli < c->floor_milli ? c->floor_milli : r->baseline_milli;
    /* trips when count * 1000 > base * multiple / 100, i.e. count > base * multiple / 100000 */
    int64_t t = base * c->multiple_pct / 100000 + 1;

    if (t < c->min_count)
        t = c->min_count;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

bool gw_breaker_observe(const struct gw_breaker_config *c, struct gw_breaker_rate *r, int64_t now,
                        uint32_t n)
{
    if (r->window_start == 0) {
        r->window_start = now - now % c->window_s;
        if (r->baseline_milli < c->floor_milli)
            r->baseline_milli = c->floor_milli;
    }
    if (now >= r->window_start + c->window_s) {
        int64_t windows = (now - r->window_start) / c->window_s;
        close_window(c, r, r->count);
        for (int64_t i = 1; i < windows && i < IDLE_WINDOWS_MAX; i++)
            close_window(c, r, 0);
        r->window_start += windows * c->window_s;
        r->count = 0;
    }
    r->count = r->count > UINT32_MAX - n ? UINT32_MAX : r->count + n;
    if (r->tripped || r->count < gw_breaker_threshold(c, r))
        return false;
    r->tripped = true;
    return true;
}

int64_t gw_breaker_expected_milli(const struct gw_breaker_config *c, int64_t units, int64_t open_s)
{
    if (units <= 0 || open_s <= 0)
        return 0;
    if (units > INT64_C(1000000000000))
        units = INT64_C(1000000000000);
    /* a window longer than the opening expects the whole stock in it, never more */
    if ((int64_t)c->window_s >= open_s)
        return units * 1000;
    /* units * window * 1000 < 10^12 * 86400 * 1000 < 2^63 */
    return units * (int64_t)c->window_s * 1000 / open_s;
}

void gw_breaker_seed(const struct gw_breaker_config *c, struct gw_breaker_rate *r,
                     int64_t expected_milli)
{
    if (r->window_start != 0)
        return;
    r->baseline_milli = expected_milli < c->floor_milli ? c->floor_milli : expected_milli;
}

void gw_breaker_reset(struct gw_breaker_rate *r)
{
    r->tripped = false;
    r->count = 0;
}
