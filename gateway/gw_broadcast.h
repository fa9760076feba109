/*
 * gw_broadcast.h - the gift-day reminder broadcast (issue 5 part 4): an SMS to every opted-in
 * subscriber at a chosen time or at the next gift-day opening, paced by the SMPP link's TPS
 * bucket, resumable after a restart without sending anyone the reminder twice.
 * Owner: the broadcast engineer. README "Reminder broadcast" has the decisions; in short:
 *
 *   - Opt-in: membership of the set bc:{bc}:optin (loyalty-admin /optin, loyaltyctl optin); the
 *     wallet's "blocked" and the set are read again just before each send, so an opt-out or a
 *     block after the list was built still counts.
 *   - A campaign: {id, texts per language, default_lang, send_at | next_opening}, created by
 *     loyalty-admin (POST /api/campaigns) or loyaltyctl, kept in the hash bc:{bc}:c:<id> that also
 *     holds the progress (total, sent, failed, skipped, unknown, rate, cursor).
 *   - One runner at a time across gateways: the lease bc:{bc}:lease (SET NX PX, renewed every
 *     second with the progress write); a recipient can be claimed only under the lease.
 *   - The recipients are listed once (bc:{bc}:q:<id>, from a snapshot of the opt-in set, one
 *     atomic batch at a time) and walked by index with a cursor.
 *   - Per recipient: claim (in-flight bit) -> submit_sm through gw_sms -> mark on the answer
 *     (final bit + counter, one script). ESME_ROK = sent; an SMSC error = failed (not retried); a
 *     submit that certainly never left (refused by our link, cancelled in its queue at shutdown)
 *     is unclaimed and sent later. A submit without an answer (response timeout, link lost) may
 *     or may not have reached the SMSC: it stays claimed and counts "unknown" - not resent unless
 *     broadcast.resend_unknown. The same holds for a claim found by the next run (the process
 *     died between the claim and the mark). So: exactly once for every recipient with an answer,
 *     at most once for the others by default (a reminder missed beats a reminder twice), at
 *     least once with resend_unknown.
 *   - Never more than broadcast.max_in_flight messages (<= smpp.window) handed to the link, so
 *     USSD screens and balance SMS are not stuck behind 10,000 queued reminders.
 *
 * Keys and the script: gateway/lua/broadcast.lua. Callback contract as everywhere: stop's done
 * fires exactly once, from the loop.
 */
#ifndef GW_BROADCAST_H
#define GW_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smpp_text.h"

struct event_base;
struct gw_redis;
struct gw_sms;
struct gw_broadcast;

#define GW_BC_ID_MAX 32     /* campaign ids: [a-z0-9_-], 1..32, starting with a letter/digit */
#define GW_BC_LANGS_MAX 8   /* texts in one campaign */
#define GW_BC_TEXT_MAX 1400 /* bytes of one text (8 parts of UCS-2 need 1072 bytes of BMP) */
#define GW_BC_MAX_PARTS 8   /* = GW_SMS_MAX_PARTS */
#define GW_BC_KEY_MAX 64
#define GW_BC_KEY_LEASE "bc:{bc}:lease"
#define GW_BC_KEY_ACTIVE "bc:{bc}:active"
#define GW_BC_KEY_ALL "bc:{bc}:all"
#define GW_BC_KEY_OPTIN "bc:{bc}:optin"
/* The consent record behind it, one hash per subscriber on the subscriber's slot (issue 10):
 * optin 0|1, at (unix ms), channel sms|console|ctl, by (subscriber, a staff user, cli:<user>).
 * Written by gw_sms.c (STOP/START by SMS), loyalty-admin and loyaltyctl optin/optout. */
#define GW_CONSENT_KEY_FMT "lg:{%s}:consent"
#define GW_BC_KEY_CAMPAIGN "bc:{bc}:c:" /* + id */

struct gw_broadcast_config {
    bool enabled;            /* run campaigns in this gateway (default false) */
    uint32_t poll_ms;        /* how often an idle runner looks for a due campaign (1000) */
    uint32_t lease_ms;       /* lease lifetime; renewed every second (15000) */
    uint32_t max_in_flight;  /* messages handed to the link at once (8), <= smpp.window */
    uint32_t build_batch;    /* SSCAN COUNT of one build step (1000) */
    uint32_t progress_log_s; /* a progress line in the log this often (10) */
    uint32_t keep_days;      /* recipient list and bitmaps kept after the end (30) */
    bool resend_unknown;     /* resend recipients whose submit got no answer (false) */
    /* issue 12: the day-before SMS telling each member their slot in a staggered opening,
     * planned by the gateway (gw_broadcast_hooks.plan, gateway/wire_opening.c) */
    bool slot_sms;          /* plan it (false) */
    uint32_t slot_sms_hour; /* local hour of the day before the gift day it starts at (10) */
};
void gw_broadcast_config_defaults(struct gw_broadcast_config *cfg);

/* "At the next gift-day opening": the first regular opening strictly after after_s (unix s).
 * Returns 0 with *start_s, or < 0 (no calendar, nothing opens within the horizon). */
typedef int (*gw_broadcast_next_open_fn)(void *arg, int64_t after_s, int64_t *start_s);

#define GW_BROADCAST_COUNTERS(X)                                                                   \
    X(campaigns_run, "campaigns this process started or resumed")                                  \
    X(campaigns_done, "campaigns this process finished")                                           \
    X(sent, "reminders accepted by the SMSC")                                                      \
    X(failed, "reminders the SMSC refused")                                                        \
    X(skipped, "recipients no longer opted in, or blocked")                                        \
    X(unknown, "submits without an answer (not resent by default)")                                \
    X(already, "recipients found final on resume")                                                 \
    X(unclaimed, "claims given back: certainly not sent, sent later")                              \
    X(redis_errors, "broadcast store requests that failed")                                        \
    X(lease_lost, "times the lease was lost while running")                                        \
    X(planned, "campaigns the gateway planned (the day-before slot SMS)")                          \
    X(quiet_pauses, "times a campaign paused for the quiet hours")                                 \
    X(expired, "campaigns cancelled at their until (the opening came first)")

struct gw_broadcast_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_BROADCAST_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
    uint32_t in_flight;
    char campaign[GW_BC_ID_MAX + 1]; /* the campaign running here, "" */
};

/*
 * Campaigns the gateway plans itself (issue 12: the day-before slot SMS). A campaign hash may
 * carry, besides what loyalty-admin writes:
 *   opening  unix s: its texts hold "{slot}", expanded per recipient by expand() (with the
 *            member's tier, read with their language: tier cohorts);
 *   quiet    "1": no recipient is started while quiet() says it is the quiet hours;
 *   until    unix s: the campaign is cancelled once the clock reaches it (recipients not reached
 *            by then are not sent: the slot is of no use after the opening).
 * plan() is asked at most once a minute while the runner is idle whether a campaign should exist
 * now (returns 1 and fills *out, 0 none, < 0 error); the runner creates it - idempotent by id
 * (broadcast.lua 'create' answers 'exists' for a known id), so every gateway may plan and each
 * member gets it once per gift day (the campaign's bitmaps). expand() writes the text for one
 * recipient (its length; 0 = nothing to tell, the recipient is skipped; < 0 error, skipped too).
 */
struct gw_broadcast_plan {
    char id[GW_BC_ID_MAX + 1];
    char texts[4 * GW_BC_TEXT_MAX]; /* JSON object: language -> text */
    char default_lang[8];
    int64_t send_at, opening, until;
    bool quiet;
};
struct gw_broadcast_hooks {
    int (*plan)(void *arg, int64_t now_s, struct gw_broadcast_plan *out);
    int (*expand)(void *arg, int64_t opening, const char *msisdn, const char *tier,
                  const char *lang, const char *tpl, char *out, size_t cap);
    bool (*quiet)(void *arg, int64_t now_s);
    void *arg;
};
/* Copied; may be called before or after start. */
void gw_broadcast_set_hooks(struct gw_broadcast *b, const struct gw_broadcast_hooks *hooks);

/* redis and sms are borrowed and must outlive the runner's requests (see gw_broadcast_detach).
 * next_open may be NULL (then "next_opening" campaigns wait, with an error in the log). cfg is
 * copied. NULL on ENOMEM. */
struct gw_broadcast *gw_broadcast_new(struct event_base *base, struct gw_redis *redis,
                                      struct gw_sms *sms, const struct gw_broadcast_config *cfg,
                                      gw_broadcast_next_open_fn next_open, void *next_open_arg);
/* Starts polling for due campaigns. 0 or -errno. */
int gw_broadcast_start(struct gw_broadcast *b);
/* SIGTERM: claims nothing more; gives back the claims not yet submitted; waits for the answers
 * of what was submitted and for their marks; releases the lease; then done(arg) fires once, from
 * the loop. Call before smpp_esme_stop() (whose cancellations are then given back as unsent).
 * done may be NULL. A second call replaces done. */
void gw_broadcast_stop(struct gw_broadcast *b, void (*done)(void *arg), void *arg);
/* Whether stop has finished (nothing in flight, lease released or given up). */
bool gw_broadcast_is_stopped(const struct gw_broadcast *b);
/* Before gw_redis_free: issues no Redis request any more. NULL is a no-op. */
void gw_broadcast_detach(struct gw_broadcast *b);
void gw_broadcast_get_stats(const struct gw_broadcast *b, struct gw_broadcast_stats *out);
void gw_broadcast_stats_json(const struct gw_broadcast_stats *st, FILE *out);
/* After smpp_esme_free (whose failed submits call back into the runner). NULL is a no-op. */
void gw_broadcast_free(struct gw_broadcast *b);

/* ---------------------------------------------------------------- shared with admin and ctl */

/* The script (gateway/lua/broadcast.lua) and its ten keys for campaign id ("" when none). */
extern const char gw_lua_broadcast[];
extern const size_t gw_lua_broadcast_len;
#define GW_BC_NKEYS 10
void gw_broadcast_keys(const char *id, char keys[GW_BC_NKEYS][GW_BC_KEY_MAX]);

bool gw_campaign_id_valid(const char *id);
/* Language codes of campaign texts: 2..3 lowercase ASCII letters ("fr", "ar", "fil"). */
bool gw_campaign_lang_valid(const char *lang);

/* How one text goes on the air. */
struct gw_campaign_text_info {
    enum smpp_text_coding coding; /* GSM7 or UCS2 */
    size_t units;                 /* septets (extension characters count two) or UCS-2 units */
    size_t parts;                 /* SMS (1 without UDH, else concatenated parts) */
};
/* Validates one text (1..GW_BC_TEXT_MAX bytes of valid UTF-8 without NUL or other C0 controls
 * than LF/CR, at most GW_BC_MAX_PARTS parts) and fills info. Returns 0, or -EINVAL with a static
 * reason in *why. opts may be NULL (defaults). */
int gw_campaign_text_check(const char *utf8, size_t len, const struct smpp_text_opts *opts,
                           struct gw_campaign_text_info *info, const char **why);

#endif
