/*
 * gw_loyalty.c - what an event earns under the loyalty table, and why (the rule text stored in
 * the subscriber's history). Pure integer arithmetic: amounts in thousandths, multipliers in
 * percent, one floor at the very end so that x150% of 1.5 points is 2.25, not 1 x 1.5.
 * No allocation; the caller owns the table and the result.
 */
#include "gw_loyalty.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gw_zone.h"

#define EARNING_KINDS                                                                              \
    ((UINT32_C(1) << GW_EV_TOPUP) | (UINT32_C(1) << GW_EV_BILL) | (UINT32_C(1) << GW_EV_USAGE))

void gw_loyalty_default(struct gw_loyalty *t)
{
    memset(t, 0, sizeof(*t));
    t->rate[GW_EV_TOPUP] = (struct gw_rate){.points = 1, .per = 10};
    t->rate[GW_EV_BILL] = (struct gw_rate){.points = 1, .per = 20};
    t->rate[GW_EV_USAGE] = (struct gw_rate){.points = 1, .per = 50};
    t->rate[GW_EV_REVERSAL] = (struct gw_rate){.points = 0, .per = 1};
    snprintf(t->tiers[0].name, sizeof(t->tiers[0].name), "standard");
    t->tiers[0].min_points = 0;
    t->tiers[0].pct = 100;
    t->n_tiers = 1;
    t->tier_basis = GW_TIER_LIFETIME;
    t->tier_window_months = 12;
    t->tier_grace_days = 30;
    t->daily_cap = 0;
    snprintf(t->timezone, sizeof(t->timezone), "UTC");
}

/* A window applies to ev when ev's time is in [from, to) and its kind is one the window names
 * (none named = every earning kind). */
static bool window_matches(const struct gw_window *w, const struct gw_event *ev)
{
    uint32_t kinds = w->kinds ? w->kinds : EARNING_KINDS;

    return ev->at >= w->from && ev->at < w->to && (kinds & (UINT32_C(1) << ev->kind));
}

static unsigned __int128 gcd128(unsigned __int128 a, unsigned __int128 b)
{
    while (b) {
        unsigned __int128 t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

int gw_frac_credit(int64_t whole, int64_t fnum, int64_t fden, int32_t pct, int64_t *rn,
                   int64_t *rd, int64_t *points)
{
    if (whole < 0 || whole > GW_EARN_MILLI_MAX / 1000 || fden < 1 || fden > GW_FRAC_DEN_MAX ||
        fnum < 0 || fnum >= fden || pct < 0 || pct > 10000 || *rd < 1 ||
        *rd > GW_REM_DEN_MAX || *rn < 0 || *rn >= *rd)
        return -EINVAL;
    /* In units of 1 / (100 fden): the earning times pct / 100 is pts + f / den. */
    int64_t wp = whole * pct;
    int64_t pts = wp / 100;
    int64_t den = 100 * fden;
    int64_t f = (wp % 100) * fden + fnum * pct;
    pts += f / den;
    f %= den;
    int64_t carried = *rn, l;
    unsigned __int128 l128 = (unsigned __int128)(*rd / gcd64(*rd, den)) * (unsigned __int128)den;
    if (l128 > (unsigned __int128)GW_REM_DEN_MAX) {
        /* No common denominator within bounds (a table mixing unusual rates): the carried
         * fraction (< 1 point) is dropped and the new one starts over. */
        carried = 0;
        *rd = den;
        l = den;
    } else {
        l = (int64_t)l128;
    }
    int64_t total = carried * (l / *rd) + f * (l / den);
    pts += total / l;
    total %= l;
    int64_t g = gcd64(total, l);
    *rn = total / g;
    *rd = total ? l / g : 1;
    *points = pts;
    return 0;
}

int gw_loyalty_earn(const struct gw_loyalty *t, const struct gw_event *ev, struct gw_earn *out)
{
    const struct gw_window *season = NULL, *promo = NULL;
    const struct gw_rate *rate;
    const char *kind = gw_event_kind_name(ev->kind);
    unsigned __int128 num, den;
    size_t used;

    memset(out, 0, sizeof(*out));
    out->season_pct = 100;
    out->promo_pct = 100;
    if (ev->kind == GW_EV_REVERSAL) {
        snprintf(out->rule, sizeof(out->rule), "reversal");
        return 0;
    }
    if ((unsigned)ev->kind >= GW_EV__COUNT)
        return -EINVAL;
    rate = &t->rate[ev->kind];
    if (rate->points < 0 || rate->per <= 0 || ev->amount_milli < 0)
        return -EINVAL;

    for (unsigned i = 0; i < t->n_seasons && i < GW_MAX_SEASONS; i++) {
        if (window_matches(&t->seasons[i], ev)) {
            season = &t->seasons[i];
            break;
        }
    }
    /* Promotions do not stack: the subscriber gets the best one that matches. A channel promo
     * matches only a TOPUP made through that channel (other kinds carry no channel). */
    for (unsigned i = 0; i < t->n_promos && i < GW_MAX_PROMOS; i++) {
        const struct gw_window *w = &t->promos[i];

        if (!window_matches(w, ev))
            continue;
        if (w->channel[0] && strcmp(w->channel, ev->channel) != 0)
            continue;
        if (!promo || w->pct > promo->pct)
            promo = w;
    }
    if (season)
        out->season_pct = season->pct;
    if (promo)
        out->promo_pct = promo->pct;
    if (out->season_pct <= 0 || out->promo_pct <= 0)
        return -EINVAL;

    /*
     * milli = amount_milli * points / per * season/100 * promo/100, floored once:
     * amount_milli thousandths of a unit times points-per-unit is already in milli-points.
     * The numerator fits 128 bits for sane tables, but a hostile or mistaken table must give
     * -ERANGE, not a wrapped number, so every product is checked. The result is bounded by
     * GW_EARN_MILLI_MAX so that the ledger's Lua (doubles) stays exact after the tier multiplier.
     */
    if (__builtin_mul_overflow((unsigned __int128)ev->amount_milli, (unsigned __int128)rate->points,
                               &num) ||
        __builtin_mul_overflow(num, (unsigned __int128)out->season_pct, &num) ||
        __builtin_mul_overflow(num, (unsigned __int128)out->promo_pct, &num))
        return -ERANGE;
    /* points = num / den exactly; milli-points = 1000 num / den (num is in thousandths). */
    den = (unsigned __int128)rate->per * 10000000u;
    if (num / den > (unsigned __int128)(GW_EARN_MILLI_MAX / 1000) ||
        num * 1000u / den > (unsigned __int128)GW_EARN_MILLI_MAX)
        return -ERANGE;
    out->milli = (int64_t)(num * 1000u / den);
    out->whole = (int64_t)(num / den);
    num %= den;
    unsigned __int128 g = gcd128(num, den);
    num /= g;
    den /= g;
    if (den > (unsigned __int128)GW_FRAC_DEN_MAX) {
        num = num * (unsigned __int128)GW_FRAC_DEN_MAX / den; /* num < den < 2^64: no overflow */
        den = (unsigned __int128)GW_FRAC_DEN_MAX;
    }
    out->frac_num = (int64_t)num;
    out->frac_den = (int64_t)den;

    used = (size_t)snprintf(out->rule, sizeof(out->rule), "%s %" PRId64 "pt/%" PRId64 "%s", kind,
                            rate->points, rate->per, ev->currency);
    if (season && used < sizeof(out->rule))
        used += (size_t)snprintf(out->rule + used, sizeof(out->rule) - used,
                                 "; season %s x%" PRId32 "%%", season->name, season->pct);
    if (promo && used < sizeof(out->rule))
        snprintf(out->rule + used, sizeof(out->rule) - used, "; promo %s x%" PRId32 "%%",
                 promo->name, promo->pct);
    return 0;
}

int32_t gw_local_day(int64_t t)
{
    return gw_zone_local_day(t);
}
