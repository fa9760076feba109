/*
 * gw_breaker.h - the redemption-rate breaker's arithmetic (issue 10 §5), pure: no I/O, no clock
 * (the caller passes now), no floating point. One struct gw_breaker_rate per item (and one for
 * all items together, the global breaker), owned by the caller.
 *
 * A rate is counted in fixed windows of window_s. When a window closes, its count updates the
 * baseline, an exponentially weighted mean with a half-life of half_life_s (idle windows count as
 * 0, so a quiet item's baseline decays). The breaker trips as soon as the count of the current,
 * still open window exceeds multiple_pct % of the baseline (and at least min_count): a menu that
 * sells a 10,000 package for 1 point is caught within the window in which it starts, not at its
 * end. The baseline never drops below floor_milli, so a new or quiet item needs a real burst.
 *
 * Wired in gateway/wire_brakes.c: each granted redemption is observed, a trip freezes the item
 * (docs/loyalty-and-events.md "Fraud brakes").
 */
#ifndef GW_BREAKER_H
#define GW_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

struct gw_breaker_config {
    uint32_t window_s;     /* counting window (default 60) */
    uint32_t half_life_s;  /* baseline's half-life (default 3600) */
    uint32_t multiple_pct; /* trip above this % of the baseline per window (default 500: x5) */
    uint32_t min_count;    /* never trip below this many in a window (default 20) */
    int64_t floor_milli;   /* smallest baseline, thousandths per window (default 2000: 2) */
};
void gw_breaker_config_defaults(struct gw_breaker_config *cfg);
/* 0 or -EINVAL (a zero window or half-life, a multiple <= 100 %, a negative floor). */
int gw_breaker_config_check(const struct gw_breaker_config *cfg);

struct gw_breaker_rate {
    int64_t window_start;  /* unix s of the open window; 0 = nothing seen yet */
    uint32_t count;        /* redemptions in the open window */
    int64_t baseline_milli;/* thousandths of redemptions per window */
    bool tripped;          /* latched until gw_breaker_reset */
};

/* Counts n redemptions at now (unix s, never earlier than the previous call's; an earlier now is
 * counted in the open window). Returns true when this call trips the breaker (once: later calls
 * return false while it stays tripped). */
bool gw_breaker_observe(const struct gw_breaker_config *cfg, struct gw_breaker_rate *r,
                        int64_t now, uint32_t n);
/* The count of a window at which the breaker trips, for the current baseline. */
uint32_t gw_breaker_threshold(const struct gw_breaker_config *cfg,
                              const struct gw_breaker_rate *r);
/* The baseline an item is expected to sell at, in thousandths per window: units (e.g. a gift
 * day's stock) spread over open_s seconds (its opening). 0 when units or open_s is <= 0. */
int64_t gw_breaker_expected_milli(const struct gw_breaker_config *cfg, int64_t units,
                                  int64_t open_s);
/* Starts a rate not observed yet (window_start 0) at expected_milli (never below the floor), so
 * an item's first gift-day rush at the rate its stock allows is not a jump. A rate already
 * observed keeps its own baseline. */
void gw_breaker_seed(const struct gw_breaker_config *cfg, struct gw_breaker_rate *r,
                     int64_t expected_milli);
/* Staff cleared the item (the price is fixed): un-trips, keeps the baseline. */
void gw_breaker_reset(struct gw_breaker_rate *r);

#endif
