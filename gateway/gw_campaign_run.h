/*
 * gw_campaign_run.h - applies the campaigns document (gw_campaign.h) in the daemon: the bonuses
 * due on an event (welcome, tenure anniversaries, win-back), and the daily win-back offer pass.
 * Redis side: lua/campaign.lua; decisions: docs/campaigns.md.
 *
 * On events: the ingest calls gw_campaign_run_event after an earning event's commit (credited or
 * duplicate) and answers the SMSC only when it completed: a crash in between is mended by the
 * redelivery, and every rule pays once by its marker in the wallet.
 *
 * Win-back offers: each TOPUP puts the subscriber in the due set of the day it would lapse,
 * lg:cw:{tag}:<day + lapse_days> (per slot, the subscriber's slot tag; moved by the next TOPUP).
 * A pass (every pass_interval_s, never in quiet hours) reads the sets of today and the catch-up
 * days before (at least one), slot by slot, offers to those who qualify (campaign.lua OFFER:
 * enough recharges, still lapsed, one offer per lapse), sends the offer SMS to those who
 * consented (the audience bc:{bc}:optin, read just before the send) through gw_sms (the link's
 * TPS bucket), and deletes a past day's set once every member was handled. Today's set stays
 * for the day's next passes (a lapse later in the day is "recent" until then); a member with a
 * final answer leaves it. Never a scan of all subscribers.
 *
 * Ownership: the runner owns its document copy and its pass; free it after gw_redis_free (whose
 * cancellations end the requests in flight) and after the SMPP link (SMS callbacks).
 */
#ifndef GW_CAMPAIGN_RUN_H
#define GW_CAMPAIGN_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_campaign.h"

struct event_base;
struct gw_redis;
struct gw_sms;
struct gw_campaign_run;

#define GW_CAMP_KEY_DOC "cfg:{adm}:campaigns"
#define GW_CAMP_KEY_BUDGET "lg:cb:{cmp}"

struct gw_campaign_run_config {
    bool enabled;              /* campaigns.enabled: apply the document (default false) */
    uint32_t pass_interval_s;  /* the win-back offer pass (3600) */
    uint32_t catchup_days;     /* due sets of earlier days still read (7) */
    uint32_t quiet_start_hour; /* local hour from which no offer pass runs (21) */
    uint32_t quiet_end_hour;   /* ... until this hour (9); equal = never quiet */
    /* the sweep of retired campaigns' markers (gw_campaign_marks.h) */
    uint32_t marker_sweep_interval_ms; /* a page each (1000) */
    uint32_t marker_sweep_batch;       /* wallets a page, about: SCAN COUNT (500) */
    uint32_t marker_sweep_grace_s;     /* an id retired is swept this long after (3600) */
    uint32_t marker_sweep_lease_ms;    /* the sweeping gateway's lease (30000) */
    bool cluster; /* not a key: set by the daemon with redis.cluster_nodes (two-step bonuses) */
    char owner[64]; /* not a key: this process in leases ("host:pid"), set by the daemon */
};
void gw_campaign_run_config_defaults(struct gw_campaign_run_config *cfg);

#define GW_CAMPAIGN_COUNTERS(X)                                                                    \
    X(events, "events the rules looked at")                                                        \
    X(grants, "bonuses credited")                                                                  \
    X(points, "points credited by bonuses")                                                        \
    X(budget_stops, "bonuses refused: the campaign's budget is spent")                             \
    X(passes, "win-back offer passes completed")                                                   \
    X(offers, "win-back offers made")                                                              \
    X(offer_sms, "offer SMS the SMSC accepted")                                                    \
    X(offer_sms_skipped, "offers without SMS: no consent or no text")                              \
    X(birthday_passes, "birthday passes completed")                                                \
    X(birthdays, "birthday bonuses credited")                                                      \
    X(birthday_sms, "birthday greetings the SMSC accepted")                                        \
    X(birthday_sms_skipped, "birthday bonuses without greeting: no consent or no text")            \
    X(referrals, "referrals recorded (a member referred a number)")                                \
    X(referrals_refused, "referrals refused with a screen (self, loop, member, taken, cap...)")     \
    X(referrals_paid, "referrers credited on their referee's first qualifying recharge")           \
    X(swept, "cluster: reservations settled by the sweeper (their event never came back)")         \
    X(marker_passes, "retired markers: sweep passes completed")                                    \
    X(marker_wallets, "retired markers: wallets swept (pages saved)")                              \
    X(markers_deleted, "retired markers: markers c:<id> of retired campaigns deleted")             \
    X(marker_busy, "retired markers: pages not begun, another gateway holds the sweep's lease")    \
    X(marker_errors, "retired markers: pages not saved (a Redis error: swept again)")              \
    X(errors, "Redis errors")

struct gw_campaign_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_CAMPAIGN_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
};

/* base, redis are borrowed; sms may be NULL (offers are made, no SMS); fallback_lang: the SMS
 * language for a wallet without one (copied). history_len: the ledger's. NULL on ENOMEM. */
struct gw_campaign_run *gw_campaign_run_new(struct event_base *base, struct gw_redis *redis,
                                            struct gw_sms *sms,
                                            const struct gw_campaign_run_config *cfg,
                                            uint32_t history_len, const char *fallback_lang);
/* The wire_cfgdocs hook: text is a new version of the document; parsed, validated and switched
 * in (0), or refused (-EINVAL with err; the one in force stays). arg: the runner. */
int gw_campaign_run_set_doc(void *arg, const char *text, size_t len, char *err, size_t errlen);
/* Starts the offer pass timer. 0 or -errno. */
int gw_campaign_run_start(struct gw_campaign_run *r);

/* The rules for one committed earning event of msisdn (kind "TOPUP"...; day: its local day).
 * Returns 0: done(ctx, err) fires once (err < 0: the bonuses were not applied; the event should be
 * answered so that it is redelivered); 1: nothing to do (done never fires); < 0: not sent (done
 * never fires). */
typedef void (*gw_campaign_done_cb)(void *ctx, int err);
int gw_campaign_run_event(struct gw_campaign_run *r, const char *msisdn, const char *kind,
                          const char *ref, int32_t day, int64_t amount_milli, int64_t now,
                          gw_campaign_done_cb done, void *ctx);

/* Referral (issue 10 section 1; lua/referral.lua): referrer refers referee (an MSISDN from
 * gw_referral_number) under the referral campaign active today. 0 and done fires later with
 * err 0 and the outcome's name (gw_referral_outcome_name: "ok", "self", "loop", "member",
 * "taken", "cap", "blocked") or err < 0; -ENOENT when no referral campaign runs today (done
 * never fires); -errno. The referee's bonus and the referrer's are paid on the referee's first
 * qualifying TOPUP by gw_campaign_run_event (campaign.lua EVENT, then REFPAY), exactly once. */
typedef void (*gw_campaign_refer_cb)(void *ctx, int err, const char *outcome);
/* A referral new to Redis (not the same one again) is appended to journal (gw_journal.h, format
 * version 3: the campaigns' what-if replays it) after referral.lua said "ok". NULL: none. */
struct gw_journal;
void gw_campaign_run_set_journal(struct gw_campaign_run *r, struct gw_journal *journal);
int gw_campaign_run_refer(struct gw_campaign_run *r, const char *referrer, const char *referee,
                          gw_campaign_refer_cb done, void *ctx);

/* Whether local hour of now is in the quiet hours of cfg (no offer or greeting is sent). */
bool gw_campaign_quiet(const struct gw_campaign_run_config *cfg, int64_t now);

/* The campaign.lua EVENT call for one committed earning event under doc (the arguments the
 * daemon sends, built in one place: the what-if replays the same script with them, ctl_whatif).
 * Keys: the wallet, its history, the budgets, the win-back due set (a TOPUP while a win-back
 * runs), the slot's aggregates. Returns 0 (q filled: argv/len point into q), 1 (no campaign runs
 * on day and nothing to index: no call), or -EINVAL. */
#define GW_CAMP_EVENT_ARGS (14 + 7 * GW_CAMP_MAX) /* 6 keys, 8 + 7 x N arguments */
struct gw_camp_event_call {
    const char *argv[GW_CAMP_EVENT_ARGS];
    size_t len[GW_CAMP_EVENT_ARGS];
    int argc, nkeys;
    char bufs[GW_CAMP_EVENT_ARGS][48];
    char tiers[GW_CAMP_MAX][400];
    char kw[40], kh[40], kd[64], tag[16], kag[2][48];
};
int gw_campaign_event_call(const struct gw_campaigns *doc, const char *msisdn, const char *kind,
                           const char *ref, int32_t day, int64_t amount_milli, int64_t now,
                           uint32_t history_len, struct gw_camp_event_call *q);

void gw_campaign_run_get_stats(const struct gw_campaign_run *r, struct gw_campaign_stats *out);
void gw_campaign_stats_json(const struct gw_campaign_stats *st, FILE *out);
/* Before gw_redis_free: no new request. NULL is a no-op. */
void gw_campaign_run_detach(struct gw_campaign_run *r);
/* After gw_redis_free and the SMPP link. NULL is a no-op. */
void gw_campaign_run_free(struct gw_campaign_run *r);

/* The script, for loyaltyctl's preview. */
extern const char gw_lua_campaign[];
extern const size_t gw_lua_campaign_len;
extern const char gw_lua_referral[];
extern const size_t gw_lua_referral_len;

#endif
