/*
 * gw_tier.c - the tier qualification rule (gw_tier.h). Pure; gateway/lua/commit.lua's tier block
 * is the same rule in Lua (tests/unit/test_gw_tier.c sweeps this one, tests/it/test_tiers.sh
 * checks both agree on the wire).
 */
#include "gw_tier.h"

#include <errno.h>
#include <string.h>

#include "gw_days.h"

static const char *const BASES[] = {"lifetime", "points", "spend"};

int gw_tier_basis_parse(const char *s)
{
    for (int i = 0; s && i < (int)(sizeof(BASES) / sizeof(BASES[0])); i++)
        if (strcmp(s, BASES[i]) == 0)
            return i;
    return -1;
}

const char *gw_tier_basis_name(int basis)
{
    return basis >= 0 && basis < (int)(sizeof(BASES) / sizeof(BASES[0])) ? BASES[basis] : NULL;
}

int64_t gw_tier_threshold(const struct gw_loyalty *t, unsigned i)
{
    int64_t m = t->tiers[i].min_points;

    return t->tier_basis == GW_TIER_SPEND ? m * 1000 : m;
}

unsigned gw_tier_for_value(const struct gw_loyalty *t, int64_t value)
{
    unsigned best = 0;

    for (unsigned i = 1; i < t->n_tiers; i++)
        if (value >= gw_tier_threshold(t, i))
            best = i;
    return best;
}

int64_t gw_tier_value(const int64_t *months, unsigned window)
{
    int64_t sum = 0;

    for (unsigned i = 0; i < window; i++)
        sum += months[i];
    return sum;
}

/* The first day of the month `k` months after today's month. */
static int32_t month_start(int32_t today, int32_t k)
{
    int32_t ym = gw_days_month_add(today / 100, k);

    return ym ? ym * 100 + 1 : 0;
}

int gw_tier_review(const struct gw_loyalty *t, const struct gw_tier_state *st,
                   const int64_t *months, size_t n, int64_t life, int32_t today,
                   struct gw_tier_decision *out)
{
    unsigned w;

    if (!t || !st || !out)
        return -EINVAL;
    w = t->tier_window_months;
    if (!gw_days_valid(today) || t->n_tiers < 1 ||
        st->tier >= t->n_tiers || w < 1 || w > GW_TIER_WINDOW_MAX ||
        (st->grace != 0 && !gw_days_valid(st->grace)))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (t->tier_basis == GW_TIER_LIFETIME) {
        /* the releases before: by lifetime points, never down */
        unsigned q = gw_tier_for_value(t, life);
        out->tier = q > st->tier ? q : st->tier;
        return 0;
    }
    if (!months || n < w)
        return -EINVAL;
    unsigned q = gw_tier_for_value(t, gw_tier_value(months, w));
    if (q >= st->tier) {
        out->tier = q;
    } else {
        int32_t since = st->grace ? st->grace : today;
        int32_t end = gw_days_add(since, (int32_t)t->tier_grace_days);
        if (since > today || end <= today) {
            out->tier = q; /* the grace is over (or its day is in the future: stored badly) */
        } else {
            out->tier = st->tier;
            out->grace = since;
            out->review = end;
            return 0;
        }
    }
    if (out->tier == 0)
        return 0; /* the entry tier cannot fall */
    /* With no new event the value only falls when a month leaves the window: on the first of
     * month k (k = 1..w) months[w-k..w-1] have left. The first k at which it drops below the
     * tier held is the next review; by k = w every month has left (value 0 < threshold). */
    int64_t min = gw_tier_threshold(t, out->tier);
    int64_t sum = gw_tier_value(months, w);
    for (unsigned k = 1; k <= w; k++) {
        sum -= months[w - k];
        if (sum < min) {
            out->review = month_start(today, (int32_t)k);
            return 0;
        }
    }
    out->review = month_start(today, (int32_t)w); /* unreachable when min > 0 */
    return 0;
}
