/*
 * gw_tier_job.h - tiers that move, the daily part (issue 9 section 3): the tier review job and
 * the SMS that announces a change. The rule itself is gw_tier.h.
 *
 * Where the work list lives (docs/data-model.md): lg:td:{tag}:<YYYYMMDD>, one set per Redis
 * Cluster slot and local day, holding the MSISDNs whose tier needs a look that day: the day their
 * qualifying value may first fall below their tier with no new event (a month leaving the
 * window), the end of their grace, or - put there by commit.lua in the same atomic step as the
 * event - today, when an event changed their tier or started/ended a grace. Each such wallet
 * records its day in the field "td". Subscribers of the entry tier with no grace are in no set.
 * Only rolling bases index anything (loyalty.tier_basis lifetime: tiers never fall, no job).
 *
 * The walk is the expiry job's (gw_expiry_new_walk: slots from a random start, per-slot claims
 * lg:tc:{tag}, SSCAN of the day sets from the last complete day lg:tj:done to today, no pass in
 * quiet hours), so it is cluster-safe, incremental, restart-safe and safe on several gateways.
 * A visit reads the wallet (HMGET: tier, tg, life, the packed months M and the fields m:YYYYMM
 * of the releases before), decides with gw_tier_review (an unreadable M: reported, counted in
 * errors, the wallet left as is), then lua/tier.lua APPLY writes the tier and grace if nothing
 * changed since the read (else it reads again), moves the subscriber to its next review set and
 * takes the pending notice (tn). A notice is then sent as one SMS through ops->notify (the SMPP
 * link's TPS bucket), unless the subscriber opted out (lg:{M}:consent optin 0) or is blocked: at
 * most once per change, as the notice is taken before the SMS goes.
 *
 * Ownership: like gw_expiry (free after gw_redis_free and after the SMPP link).
 */
#ifndef GW_TIER_JOB_H
#define GW_TIER_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_expiry.h"
#include "gw_loyalty.h"

struct gw_tier_job;
struct gw_sms;
struct ussd_menus;

/* A change to announce. */
struct gw_tier_notice {
    char msisdn[16];
    char lang[4];              /* the wallet's language, "" unknown */
    char from[GW_NAME_MAX];    /* the tier before */
    char to[GW_NAME_MAX];      /* the tier now */
    bool up;                   /* to ranks above from in the table */
};

/* done(ctx, err) fires exactly once when notify returned 0 (err 0 = the SMSC took it). */
typedef void (*gw_tier_done_cb)(void *ctx, int err);
struct gw_tier_ops {
    int (*notify)(void *arg, const struct gw_tier_notice *n, gw_tier_done_cb done, void *ctx);
    void *arg;
};

#define GW_TIER_COUNTERS(X)                                                                        \
    X(reviews, "subscribers reviewed")                                                             \
    X(ups, "tiers raised by the review or announced after an event")                               \
    X(downs, "tiers lowered")                                                                      \
    X(graces, "graces started by the review")                                                      \
    X(reruns, "reviews read again: a commit came in between")                                      \
    X(errors, "Redis errors (the subscriber stays in its set: the next pass retries)")             \
    X(notices, "notices handed to the SMS side")                                                   \
    X(notices_sent, "notices the SMSC accepted")                                                   \
    X(notices_failed, "notices not sent (refused, failed, no SMS side)")                           \
    X(notices_skipped, "notices not sent: opted out or blocked")

struct gw_tier_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_TIER_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
};

/* The job (base, redis borrowed; cfg: the expiry job's pacing and quiet hours; table and ops
 * copied; owner names this gateway in claims). NULL on bad arguments or ENOMEM. */
struct gw_tier_job *gw_tier_job_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_expiry_config *cfg,
                                    const struct gw_loyalty *table, const struct gw_tier_ops *ops,
                                    const char *owner);
int gw_tier_job_start(struct gw_tier_job *j);
/* One pass now (tools, tests); done(arg) once when it ends. -EBUSY during a pass. */
int gw_tier_job_pass(struct gw_tier_job *j, void (*done)(void *arg), void *arg);
/* A new loyalty table (SIGHUP). */
void gw_tier_job_set_table(struct gw_tier_job *j, const struct gw_loyalty *table);
void gw_tier_job_get_stats(const struct gw_tier_job *j, struct gw_tier_stats *out);
void gw_tier_stats_json(const struct gw_tier_stats *st, FILE *out);
/* Teardown as gw_expiry_detach / gw_expiry_free. NULL is a no-op. */
void gw_tier_job_detach(struct gw_tier_job *j);
void gw_tier_job_free(struct gw_tier_job *j);

/* The SMS text of a notice into out[0..cap) (UTF-8), in its language (fallback, then English).
 * Returns the length, -ENOSPC or -EINVAL. */
int gw_tier_sms_text(const struct gw_tier_notice *n, const char *fallback, char *out, size_t cap);
/* ops sending through sms (borrowed), the fallback language from *menus (re-read each send). */
struct gw_tier_sms;
struct gw_tier_sms *gw_tier_sms_new(struct gw_sms *sms, struct ussd_menus *const *menus);
void gw_tier_sms_ops(struct gw_tier_sms *s, struct gw_tier_ops *out);
void gw_tier_sms_free(struct gw_tier_sms *s);

#endif
