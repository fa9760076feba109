/*
 * gw_expiry.h - points that really expire (issue 9 section 2): the daily expiry job, the
 * warnings before it, and the pure logic both need. Owner: the expiry engineer.
 *
 * Where the work list lives (docs/data-model.md section 6): lg:xd:{tag}:<YYYYMMDD>, one set per
 * Redis Cluster slot and local day, holding the MSISDNs whose NEXT ACTION falls on that day: the
 * expiry of their oldest lot or a warning before one. Each wallet with lots is in exactly one such
 * set, recorded in its field "xd". commit.lua puts a subscriber there when it creates a lot that
 * needs action earlier than "xd" (or there is no "xd"); the job moves it on after each visit.
 * So a day's work is what is due that day, never a scan of all subscribers.
 *
 * The job (one per gateway, several gateways at once): a pass walks the 16,384 slots from a
 * random start; a slot with a due set for any day from the last completed day to today is
 * claimed (lg:xc:{tag}, SET NX PX, renewed per batch, released at the end) and its sets are
 * walked with SSCAN; every member gets expire.lua RUN (idempotent: a lot deleted cannot expire
 * twice, a warning level marked cannot be sent twice) then REINDEX (moves it to its next action
 * day; "changed" when a commit added a lot meanwhile: RUN again). The progress is the sets
 * themselves (a member leaves its set once handled), so a restart - or another gateway taking
 * an expired claim - resumes where the work stopped. A pass in which every slot was handled
 * records today - 1 in lg:xj:done, so later passes look at fewer days.
 *
 * Dates: today is the local day (gw_local_day) of the injected clock (gw_clock_now_ms), so tests
 * move it; the cut-offs RUN compares lot days with come from core/gw_days.c. No pass runs in
 * quiet hours (local), so neither expiry nor warnings happen at night; redemption never spends
 * expired points whatever the job's progress (catalog/lua/sub.lua gets the same cut-off).
 *
 * Warnings: at the configured levels (days before the last valid day, "30,7"), each lot at most
 * once per level (marked in the wallet as "xw:<lot day>" before the SMS goes), one SMS per
 * subscriber and visit, through ops->warn (the gateway's wiring formats it in the subscriber's
 * language and sends it through the SMPP link's TPS bucket). Not sent to a blocked wallet, nor,
 * with require_optin, to a subscriber outside the opt-in set bc:{bc}:optin (loyaltyctl optout).
 *
 * Ownership: the job owns its visits; free it only after gw_redis_free (which fails every
 * request in flight, so no callback can find it gone) - as for cat_redeem.
 */
#ifndef GW_EXPIRY_H
#define GW_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_days.h"

struct event_base;
struct gw_redis;
struct gw_expiry;

#define GW_EXPIRY_LEVELS_MAX 4

struct gw_expiry_config {
    bool enabled;              /* run the job in this gateway (default false) */
    char warn_days[32];        /* warning levels, days ahead, descending: "30,7" ("" = none) */
    uint32_t quiet_start_hour; /* local hour from which no pass runs (21) */
    uint32_t quiet_end_hour;   /* local hour from which passes run again (9); equal = never quiet */
    uint32_t pass_interval_s;  /* a pass starts this long after the previous one ended (900) */
    uint32_t catchup_days;     /* days looked back when no pass ever completed (60) */
    uint32_t lease_ms;         /* a slot's claim (30000) */
    uint32_t batch;            /* SSCAN COUNT and subscribers handled at once (64) */
    bool require_optin;        /* warn only members of bc:{bc}:optin (default true) */
};
void gw_expiry_config_defaults(struct gw_expiry_config *cfg);

/* "30,7" -> {30, 7}: 0..GW_EXPIRY_LEVELS_MAX levels, each 1..365, strictly descending. Returns
 * the number of levels, or -EINVAL. */
int gw_expiry_parse_levels(const char *s, uint32_t *out, size_t cap);

/* The next day a subscriber needs a visit (pure; the job's REINDEX step): over its lots
 * (days[i], marks[i] = the smallest warning level already sent for it, 0 none), the earliest of
 * each lot's expiry day (last valid day + 1) and of its warning days not yet due and not yet
 * sent; always > today. 0 when there is no lot or nothing ever expires. */
int32_t gw_expiry_next_action(const struct gw_validity *v, const uint32_t *levels, size_t nlevels,
                              int32_t today, const int32_t *days, const uint32_t *marks, size_t n);

/* The due day commit.lua indexes a new lot under: its first action (first warning or its
 * expiry), never before today. 0 when the lot never expires. */
int32_t gw_expiry_lot_due(const struct gw_validity *v, const uint32_t *levels, size_t nlevels,
                          int32_t today, int32_t lot);

/* A warning to send. */
struct gw_expiry_warning {
    char msisdn[16];
    char lang[4];     /* the wallet's language, "" unknown */
    int64_t points;   /* points newly in a warning window */
    int32_t last_day; /* the last day the earliest of them may be spent (YYYYMMDD) */
    uint32_t level;   /* the warning level (days ahead) */
};

/* done(ctx, err) fires exactly once when warn returned 0 (err 0 = the SMSC took it). */
typedef void (*gw_expiry_done_cb)(void *ctx, int err);
struct gw_expiry_ops {
    int (*warn)(void *arg, const struct gw_expiry_warning *w, gw_expiry_done_cb done, void *ctx);
    void *arg;
};

struct gw_expiry_params {
    struct gw_validity validity; /* the programme's (loyalty.points_validity_days/months) */
    uint32_t history_len;        /* history entries kept (ledger.history_len) */
};

#define GW_EXPIRY_COUNTERS(X)                                                                      \
    X(passes, "passes completed")                                                                  \
    X(slots_claimed, "slots claimed and worked")                                                   \
    X(slots_busy, "slots skipped: another gateway held the claim")                                 \
    X(visits, "subscribers visited (expire.lua RUN)")                                              \
    X(reruns, "visits run again because the lots changed meanwhile")                               \
    X(expired_points, "points expired")                                                            \
    X(expired_wallets, "visits that expired points")                                               \
    X(warnings, "warnings handed to the SMS side")                                                 \
    X(warnings_sent, "warnings the SMSC accepted")                                                 \
    X(warnings_failed, "warnings not sent (refused, failed)")                                      \
    X(warnings_skipped, "warnings not sent: blocked or not opted in")                              \
    X(warnings_declined, "warnings not sent: the subscriber turned them off (consent alerts 0)")  \
    X(errors, "Redis errors (the member stays in its set; retried by the next pass)")

struct gw_expiry_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_EXPIRY_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
    int32_t last_done; /* the last day recorded complete, 0 unknown */
    bool running;      /* a pass is under way */
};

/* base, redis are borrowed; cfg, params, ops are copied; owner names this gateway in claims
 * (1..63 bytes). Registers expire.lua with redis. NULL on bad arguments (levels) or ENOMEM. */
struct gw_expiry *gw_expiry_new(struct event_base *base, struct gw_redis *redis,
                                const struct gw_expiry_config *cfg,
                                const struct gw_expiry_params *params,
                                const struct gw_expiry_ops *ops, const char *owner);
/* The same walk for another per-day due index (gw_tier_job.h): the sets lg:<idx>:{tag}:<day>,
 * claims lg:<claim>:{tag}, progress in done_key; each member is handed to visit (msisdn, its
 * slot tag, the day of the set it is in, today, now), which returns 0 and calls done(ctx) exactly
 * once when it is finished with it - after moving it out of that set, or leaving it there to be
 * retried - or returns < 0 (counted as an error; done never fires). The strings of walk must
 * outlive the job (literals). ops and params as above (unused by such a walk but the quiet
 * hours, interval, lease and batch of cfg). */
typedef void (*gw_walk_done_cb)(void *ctx);
struct gw_walk_ops {
    const char *idx, *claim, *done_key; /* "xd", "xc", "lg:xj:done" for the expiry job */
    int (*visit)(void *arg, const char *msisdn, const char *tag, int32_t set_day, int32_t today,
                 int64_t now, gw_walk_done_cb done, void *ctx);
    void *arg;
};
struct gw_expiry *gw_expiry_new_walk(struct event_base *base, struct gw_redis *redis,
                                     const struct gw_expiry_config *cfg,
                                     const struct gw_expiry_params *params,
                                     const struct gw_expiry_ops *ops,
                                     const struct gw_walk_ops *walk, const char *owner);
/* Passes every pass_interval_s (the first at once). 0 or -EALREADY. */
int gw_expiry_start(struct gw_expiry *x);
/* One pass now (tools, tests). done(arg) fires once when it ends (NULL allowed). -EBUSY when a
 * pass is under way. */
int gw_expiry_pass(struct gw_expiry *x, void (*done)(void *arg), void *arg);
/* New validity or history length (SIGHUP). */
void gw_expiry_set_params(struct gw_expiry *x, const struct gw_expiry_params *params);
void gw_expiry_get_stats(const struct gw_expiry *x, struct gw_expiry_stats *out);
void gw_expiry_stats_json(const struct gw_expiry_stats *st, FILE *out);
/* Teardown, before gw_redis_free: no new request from now on (the chains in flight end with
 * errors). NULL is a no-op. */
void gw_expiry_detach(struct gw_expiry *x);
/* Stops the timer and frees; call after gw_redis_free and after the SMPP link is freed (a
 * warning in flight calls back into the job). NULL is a no-op. */
void gw_expiry_free(struct gw_expiry *x);

#endif
