/*
 * gw_campaign_cl.h - the campaign bonuses on a Redis Cluster (docs/campaigns.md "Redis Cluster").
 *
 * On one Redis a bonus is one script (campaign.lua EVENT/BDAY: the budget lg:cb:{cmp} and the
 * wallet together). On a cluster they are two slots, so the same call runs as steps, ordered like
 * the ref index (docs/data-model.md 4) so that a crash anywhere never overspends the budget and
 * never pays a bonus twice:
 *   PLAN     campaign.lua on the wallet's slot, read only: the grants due (id, rule, reservation
 *            key, points);
 *   RESERVE  campaign_budget.lua on {cmp}: each grant's points counted within the hard stop, or
 *            refused, idempotent per (campaign, member, key);
 *   PAY      campaign.lua on the wallet's slot with the reservations' outcomes: credited once by
 *            the wallet's marker; a reservation the rules no longer grant is settled unpaid there
 *            ("void") before it is given back;
 *   SETTLE   campaign_budget.lua: the reservation records go, the voided ones' points come back.
 * A reservation left by a crash is found by the redelivered event (the event is answered only
 * after PAY) or, if the event never comes back, by the sweeper: campaign.lua VOID on the wallet's
 * slot (settled already: "done"; else settled unpaid: "void"), then SETTLE.
 */
#ifndef GW_CAMPAIGN_CL_H
#define GW_CAMPAIGN_CL_H

#include <stddef.h>
#include <stdint.h>

#include "gw_redis.h"

#define GW_CAMP_KEY_RESV "lg:cr:{cmp}"  /* reservations in flight (hash) */
#define GW_CAMP_KEY_RESVQ "lg:cq:{cmp}" /* ... and their age (zset), the sweeper's list */
#define GW_CAMP_RESERVE_TIMEOUT_S 600   /* a reservation older than this is swept */

struct gw_camp_cl {
    struct gw_redis *redis;
    int script;     /* lua/campaign.lua */
    int bscript;    /* lua/campaign_budget.lua */
    int ref_script; /* lua/referral.lua */
    /* tests (tests/it/it_campaign.c): called once the reservations answered, before PAY */
    void (*after_reserve)(void *arg, const char *msisdn);
    void *hook_arg;
};

/* Runs the one-Redis call of campaign.lua EVENT or BDAY (its argv: KEYS 1 wallet, 2 history, 3 the
 * budget lg:cb:{cmp}, then the others; the arguments as gw_campaign_event_call builds them) as the
 * cluster's steps. cb gets PAY's reply (the shape of the one-Redis reply, with {id, rkey,
 * "void"|"done"} entries for reservations no longer granted), or err < 0 and no reply (a grant
 * decided after the plan answers -EAGAIN: the redelivery plans again). 0, or -errno (cb never
 * runs). The strings are copied. */
int gw_camp_cl_bonus(const struct gw_camp_cl *s, int nkeys, int argc, const char **argv,
                     const size_t *len, gw_redis_cb cb, void *arg);

/* One pass of the reservations' sweeper: up to 64 reservations older than now - timeout_s are
 * voided on their wallet's slot and settled. done(arg, swept, given back) fires once (swept < 0:
 * an error). 0 or -errno (done never fires). */
int gw_camp_cl_sweep(const struct gw_camp_cl *s, int64_t now, uint32_t timeout_s,
                     void (*done)(void *arg, int swept, int given), void *arg);

/* A referral on a cluster (referral.lua REFA on the referrer's slot, REFB on the referee's, REFN
 * the referrer's month count): the outcomes of gw_referral_outcome_name, or "again" (the same
 * referral again: the subscriber reads "ok"); done(arg, 0, outcome) or err < 0. 0 or -errno
 * (done never fires). */
int gw_camp_cl_refer(const struct gw_camp_cl *s, const char *referrer, const char *referee,
                     int32_t day, uint32_t max_per_month, uint32_t ttl_s,
                     void (*done)(void *arg, int err, const char *outcome), void *arg);
/* The referrer's half on a cluster: argv is the one-Redis REFPAY call (12 strings: A's wallet,
 * history, B's record, A's aggregates, "REFPAY", now, day, id, points, label, history length);
 * campaign.lua REFCREDIT on A's slot (once, by A's rp), then REFDONE on B's (record "paid").
 * done(arg, 0, "paid"|"done"|"skipped") or err < 0. 0 or -errno (done never fires). */
int gw_camp_cl_refpay(const struct gw_camp_cl *s, const char *const argv[12], const char *referee,
                      void (*done)(void *arg, int err, const char *outcome), void *arg);

extern const char gw_lua_campaign_budget[];
extern const size_t gw_lua_campaign_budget_len;

#endif
