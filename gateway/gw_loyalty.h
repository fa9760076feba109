/*
 * gw_loyalty.h - the loyalty table marketing controls, and the pure function that says how many
 * points an event earns and which rule produced them. No I/O: the parts that depend on the
 * subscriber's state (tier multiplier, fractional remainder, daily cap) are applied atomically in
 * Redis by the ledger, from the numbers and rule text computed here.
 *
 * Arithmetic is integer only: amounts in thousandths of a currency unit, points in thousandths
 * ("milli-points"), multipliers in percent. Earned milli-points are floored once, at the end.
 */
#ifndef GW_LOYALTY_H
#define GW_LOYALTY_H

#include <stdint.h>

#include "gw_event.h"

#define GW_NAME_MAX 32
#define GW_MAX_SEASONS 32
#define GW_MAX_PROMOS 32
#define GW_MAX_TIERS 8

/* The most one event may earn, in milli-points before the tier multiplier (10^8 points). The
 * ledger's Lua multiplies it by the tier percent (<= 10000): the product stays below 2^53, where
 * Lua's doubles are exact. gw_loyalty_earn refuses more (-ERANGE) and gw_config_validate refuses
 * a table whose largest event could. */
#define GW_EARN_MILLI_MAX INT64_C(100000000000)

/* `points` points for every `per` currency units (1 per 10 MAD: points=1, per=10). */
struct gw_rate {
    int64_t points; /* 0 = this kind earns nothing */
    int64_t per;    /* > 0 */
};

/* A multiplier over a time range [from, to) in unix seconds, for some event kinds. */
struct gw_window {
    char name[GW_NAME_MAX];
    int64_t from, to;
    int32_t pct;        /* 150 = x1.5 */
    uint32_t kinds;     /* bit per enum gw_event_kind; 0 = all earning kinds */
    char channel[16];   /* promotions only: limit to one TOPUP channel, "" = any */
};

/* What a tier's threshold is compared with (gw_tier.h). */
enum gw_tier_basis {
    GW_TIER_LIFETIME = 0, /* lifetime points; tiers never fall (the releases before) */
    GW_TIER_POINTS,       /* points earned over the last tier_window_months local months */
    GW_TIER_SPEND,        /* recharge spend over them, thresholds in whole currency units */
};

struct gw_tier {
    char name[GW_NAME_MAX];
    int64_t min_points; /* the threshold of tier_basis: points, or whole currency units (spend) */
    int32_t pct;        /* earning multiplier for members of this tier */
};

struct gw_loyalty {
    struct gw_rate rate[GW_EV__COUNT];   /* REVERSAL's entry is unused */
    struct gw_window seasons[GW_MAX_SEASONS];
    unsigned n_seasons;
    struct gw_window promos[GW_MAX_PROMOS];
    unsigned n_promos;
    struct gw_tier tiers[GW_MAX_TIERS];  /* ascending min_points; tiers[0].min_points == 0 */
    unsigned n_tiers;
    /* How tiers qualify (gw_tier.h): enum gw_tier_basis, the months of the rolling window
     * (1..12) and the days below a threshold before falling (0..365). */
    int32_t tier_basis;
    uint32_t tier_window_months;
    uint32_t tier_grace_days;
    int64_t daily_cap;                   /* points per subscriber per local day; 0 = no cap */
    char timezone[64];                   /* IANA zone for local days and date-only ranges */
    /* Points earned on local day D expire on D + this many months (clamped to the month's last
     * day); 0 = points never expire. Read by the USSD/SMS balance ("expiring next"). */
    uint32_t points_validity_months;
    /* Or this many days (D + days); wins over the months when > 0 (core/gw_days.h). */
    uint32_t points_validity_days;
};

/* The largest denominator of an earning's fraction (gw_earn.frac_den). The ledger multiplies it
 * by 100 (the tier percent) and keeps a subscriber's carried fraction over at most 10^13, so that
 * every product in its Lua stays below 2^53 (docs/data-model.md, "The exact remainder"). */
#define GW_FRAC_DEN_MAX INT64_C(100000000000)
/* The largest denominator of a carried fraction (rd in the wallet). */
#define GW_REM_DEN_MAX INT64_C(10000000000000)

struct gw_earn {
    int64_t milli;   /* milli-points before the tier multiplier, remainder and cap (floored) */
    /* The exact earning before the tier multiplier: whole + frac_num / frac_den points, the
     * fraction in lowest terms, 0 <= frac_num < frac_den <= GW_FRAC_DEN_MAX (a table whose
     * fraction needs more is cut to that denominator: < 10^-11 point per event). */
    int64_t whole, frac_num, frac_den;
    int32_t season_pct, promo_pct; /* 100 when none applied */
    char rule[160];  /* why: "TOPUP 1/10 MAD; season summer x150%; promo weekend x200%" */
};

/* A table with the spec's sensible defaults: TOPUP 1 per 10, BILL 1 per 20, USAGE 1 per 50,
 * no seasons or promotions, one tier "standard" at 100%, no cap, zone "UTC". */
void gw_loyalty_default(struct gw_loyalty *t);

/* Computes what ev earns by its event time. REVERSAL earns 0 with rule "reversal". Seasons: the
 * first matching window applies; promotions: the best matching window applies (they do not
 * stack); season and promotion multiply. Returns 0, or -ERANGE if the result would overflow or
 * exceed GW_EARN_MILLI_MAX, or -EINVAL for a table the validator would refuse (per <= 0, ...). */
int gw_loyalty_earn(const struct gw_loyalty *t, const struct gw_event *ev, struct gw_earn *out);

/*
 * The ledger's exact credit (the same arithmetic as gateway/lua/commit.lua, which is what runs;
 * this C twin is what the property tests prove): adds an earning (whole + fnum/fden points, as in
 * struct gw_earn) times pct/100 to the carried fraction *rn / *rd and returns the whole points
 * that come out in *points; *rn / *rd is the new fraction in lowest terms (*rn == 0 -> *rd == 1).
 * A fresh wallet has rn = 0, rd = 1. When the common denominator of the carried fraction and the
 * new one would exceed GW_REM_DEN_MAX (only tables that mix unusual rates: never with rates of
 * the form 1 per N <= 10000 and % multipliers), the carried fraction (< 1 point) is dropped. Returns 0 or -EINVAL for
 * arguments out of the bounds above (whole > GW_EARN_MILLI_MAX / 1000, pct > 10000, ...).
 */
int gw_frac_credit(int64_t whole, int64_t fnum, int64_t fden, int32_t pct, int64_t *rn,
                   int64_t *rd, int64_t *points);

/* Local calendar day of unix time t in the table's zone, as YYYYMMDD (for the daily cap and lots):
 * gw_zone_local_day, the programme zone being loaded at start-up (gw_config_apply_timezone). */
int32_t gw_local_day(int64_t t);

#endif
