/*
 * gw_tier.h - tiers that move (issue 9 section 3): the pure qualification rule. No I/O.
 *
 * A subscriber qualifies for the highest tier whose threshold its qualifying value reaches:
 *   lifetime  the lifetime points (the wallet's "life"; tiers never fall - the behaviour of the
 *             releases before, and the default, so an old table keeps its meaning);
 *   points    the points earned over the last W local months, this one included (the wallet's
 *             activity months, its packed field M (gw_months.h), W = window_months <= 12);
 *   spend     the recharge spend over the same months, thresholds in whole currency units
 *             (the activity counts thousandths).
 * Rising is immediate. Falling waits grace_days below the threshold: the first day found below is
 * recorded (the wallet's "tg"); if the value climbs back the grace is cleared; once grace_days
 * have passed since it, the subscriber falls to the tier its value then reaches (in one step).
 *
 * gateway/lua/commit.lua applies the same rule as each event arrives (same atomic step as the
 * credit); the daily job (gw_tier_job.c) applies THIS function to subscribers whose review day
 * came (the per-slot due index lg:td:{tag}:<YYYYMMDD>, docs/data-model.md): the review day is
 * the first day the value may fall below the current tier without any new event (a month
 * leaving the window) or the end of the grace.
 */
#ifndef GW_TIER_H
#define GW_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_loyalty.h"

#define GW_TIER_WINDOW_MAX 12 /* the wallet keeps 12 activity months */

/* The value of the current window: months[i] is the activity of month (today's month - i),
 * i = 0..window-1 (earned points or spend in thousandths, as the basis says). */
struct gw_tier_state {
    unsigned tier;  /* index in the table of the tier held now */
    int32_t grace;  /* the first day found below it (YYYYMMDD), 0 = not in grace */
};

struct gw_tier_decision {
    unsigned tier;      /* the tier held after the review */
    int32_t grace;      /* the grace start after it, 0 none */
    int32_t review;     /* the next day a review is needed without events, 0 never */
};

/* The threshold of tier i in the units of the basis (spend: thousandths). */
int64_t gw_tier_threshold(const struct gw_loyalty *t, unsigned i);

/* The highest tier whose threshold value reaches. */
unsigned gw_tier_for_value(const struct gw_loyalty *t, int64_t value);

/* The qualifying value on today's month: the sum of months[0..window-1] (lifetime basis: the
 * caller passes life in months[0] and window 1). */
int64_t gw_tier_value(const int64_t *months, unsigned window);

/* Reviews a subscriber on day today (YYYYMMDD): st is the stored state, months[0..n) the
 * activity of today's month and the n-1 before it (n >= the table's window; missing months 0),
 * life the lifetime points (lifetime basis). Fills *out. Returns 0, or -EINVAL (bad day, tier
 * index out of the table, n too small). */
int gw_tier_review(const struct gw_loyalty *t, const struct gw_tier_state *st,
                   const int64_t *months, size_t n, int64_t life, int32_t today,
                   struct gw_tier_decision *out);

/* "lifetime" / "points" / "spend" <-> enum gw_tier_basis; -1 / NULL when unknown. */
int gw_tier_basis_parse(const char *s);
const char *gw_tier_basis_name(int basis);

#endif
