/*
 * gw_ledger.h - the points ledger in Redis. One commit is one Lua script that validates before its
 * first write: dedup by ref, enrol on first event, tier multiplier, fractional remainder, daily
 * cap, credit into a lot dated by the event's local day, history entry with the rule, and the
 * ref's record for later reversal. REVERSAL takes back exactly what orig earned.
 *
 * Step 0, only when an event's rule text is not in the in-process cache (gw_rules.h): its id in
 * the rule dictionary lg:rules (core/lua/rule.lua, idempotent), one text per tier.
 * A commit is two steps, the carrier-wide ref index first (lua/refidx.lua: a ref committed for
 * another MSISDN is a conflict), then the subscriber's script (lua/commit.lua); a crash between
 * them is harmless (docs/data-model.md says why).
 *
 * Keys (hash tag = MSISDN, so one subscriber's keys share a Redis Cluster slot and every script
 * runs unchanged on a cluster; the full layout is docs/data-model.md):
 *   lg:{MSISDN}:w   hash  wallet: bal, life, rn/rd (the exact carried fraction), tier, since,
 *                         cp (daily cap), L (the lots, packed: gw_lots.h; "l:YYYYMMDD" of the
 *                         release before still read), rc, rl, M (activity months, packed:
 *                         gw_months.h; "m:YYYYMM" of the release before still read), R (the
 *                         refs remembered, packed; lg:{MSISDN}:r of older releases is still read),
 *                         E (the history: the last history_len movements, 16-byte records with
 *                         a rule id, gw_hist.h)
 *                         rolling tiers: tg (grace start), td (review day), tn (change to announce)
 *   lg:td:{tag}:D   set   rolling tiers: today's tier review set, where a commit that changes the
 *                         tier or the grace puts the subscriber (gw_tier_job.h)
 *   lg:rs:{bN}:P    string ref index: 13-byte records, 6 bytes of SHA-1(ref) and the MSISDN in 7,
 *                         bucket N, period P (as long as the retention); lg:ri:{bN}:P, the hash
 *                         of the release before, still read until it expires
 *   lg:rules        hash  the rule dictionary: "<id>" = text, "t:<text>" = id, "seq"
 *   lg:{MSISDN}:h   list  the history of the release before (and of redemption, staff adjustment
 *                         and block, which still write it): "at|KIND|ref|+points|balance|note";
 *                         commit.lua no longer writes (nor declares) it; readers merge it with E
 *   lg:dlq:event    stream dead letters of refused events: raw text (escaped), reason, source, time
 *   lg:dlq:pdu      stream the same for PDUs the link refused (source GW_DLQ_SOURCE_PDU); each
 *                          stream capped at dlq_maxlen on its own
 * See README "Data model" for the sizes measured at 20 million subscribers.
 */
#ifndef GW_LEDGER_H
#define GW_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_event.h"
#include "gw_loyalty.h"

struct gw_redis;

struct gw_ledger_config {
    uint32_t history_len;        /* entries kept per subscriber (default 50) */
    uint32_t ref_retention_days; /* >= events max age + 1 day, so every accepted redelivery is
                                    caught (default 31) */
    uint32_t dlq_maxlen;         /* dead letters kept per stream (approximate, default 100000) */
    uint32_t ref_index_buckets;  /* hashes per period of the ref index (default 4096) */
    uint32_t point_value_micro;  /* what a point is worth, millionths of events.currency: the
                                    liability in money of the aggregates' readers (0 = unset) */
    /* fraud brakes (issue 10 section 5): earning events and points earned per MSISDN per clock
     * hour and local day, counted in commit.lua's own step; over a cap the points are held
     * (GW_COMMIT_HELD). 0 = that cap off; all 0: nothing counted, nothing written */
    uint32_t vel_events_hour, vel_events_day, vel_points_hour, vel_points_day;
    bool single_node;            /* one Redis (not a cluster): the ref index is claimed inside
                                    the commit script, one step (set by main.c; default false:
                                    two steps, which work everywhere) */
};
void gw_ledger_config_defaults(struct gw_ledger_config *cfg);

enum gw_commit_outcome {
    GW_COMMIT_CREDITED = 0,   /* points (possibly 0 after cap/remainder) credited and recorded */
    GW_COMMIT_DUPLICATE,      /* ref already committed: no second effect */
    GW_COMMIT_REVERSED,       /* REVERSAL took back what orig earned */
    GW_COMMIT_REVERSAL_NOOP,  /* REVERSAL of an unknown or already reversed orig: recorded only */
    GW_COMMIT_VOIDED,         /* the original of an earlier REVERSAL: recorded, no credit */
    GW_COMMIT_CONFLICT,       /* ref already committed for another MSISDN (owner): nothing done */
    GW_COMMIT_HELD,           /* over a velocity cap: committed and recorded, its points (points)
                                 held in the wallet's hold, not credited */
};

struct gw_commit_result {
    enum gw_commit_outcome outcome;
    int64_t points;   /* credited (or taken back, as a positive number; held: the points held) */
    int64_t balance;  /* after the commit */
    int64_t capped;   /* points forfeited to the daily cap */
    char tier[32];
    int enrolled;     /* 1 if this event enrolled the subscriber */
    char owner[16];   /* GW_COMMIT_CONFLICT: the MSISDN the ref belongs to */
};

/* err 0 with res, or err < 0 with res NULL: the gw_redis errors (temporary), -EINVAL when a
 * script refused the arguments (nothing written), -EBADMSG when the stored wallet is unreadable
 * or a balance would leave its bounds (permanent: redelivery cannot help; nothing written), or
 * -EPROTO for another error reply (OOM, BUSY...) or an unexpected reply.
 * Exactly once per accepted call, from the loop. */
typedef void (*gw_ledger_cb)(void *arg, int err, const struct gw_commit_result *res);
typedef void (*gw_ledger_done_cb)(void *arg, int err);

struct gw_ledger;

/* redis must outlive the ledger; cfg and table are copied (the table can be swapped later). */
struct gw_ledger *gw_ledger_new(struct gw_redis *redis, const struct gw_ledger_config *cfg,
                                const struct gw_loyalty *table);
void gw_ledger_free(struct gw_ledger *l);
void gw_ledger_set_table(struct gw_ledger *l, const struct gw_loyalty *table);
/* Expiry (gw_expiry.h): a commit that credits points indexes the subscriber in the due set of the
 * new lot's first action (first of these warning levels, or its expiry) when that comes before
 * the day it is indexed under. levels as gw_expiry_parse_levels gives them (copied). */
void gw_ledger_set_expiry_levels(struct gw_ledger *l, const uint32_t *levels, size_t n);

/* Commits a validated event with what it earns (earn ignored for REVERSAL). now: unix seconds.
 * Returns 0 (cb fires once) or < 0 (cb never fires). */
int gw_ledger_commit(struct gw_ledger *l, const struct gw_event *ev, const struct gw_earn *earn,
                     int64_t now, gw_ledger_cb cb, void *arg);

/* commit.lua's keys and arguments for one event, exactly as gw_ledger_commit sends them (its
 * step 2; on a cluster also step 1's ref index keys and expiry for refidx.lua), built by
 * gw_ledger_commit_args into storage the struct owns: a bench can call the script raw with the
 * gateway's own arguments (tests/bench/bench_ledger.c). The rule ids (ARGV 13) are left blank:
 * gw_ledger_args_rules fills them. */
enum { GW_LEDGER_KEYS1_MAX = 16, GW_LEDGER_ARGS_MAX = 30 + 3 * GW_MAX_TIERS + GW_LEDGER_KEYS1_MAX };
struct gw_ledger_args {
    int argc, nkeys, rule_arg;
    const char *argv[GW_LEDGER_ARGS_MAX];
    size_t argvlen[GW_LEDGER_ARGS_MAX];
    char buf[2048];
    size_t used;
    /* step 1 (a cluster): the ref index keys and the current period key's expiry */
    int nk1;
    char keys1[GW_LEDGER_KEYS1_MAX][48], exp1[24];
};
/* Validates the event and builds a's arguments. Returns 0, -EINVAL (an event or table the ledger
 * refuses), -ERANGE (an earning too large) or -E2BIG. */
int gw_ledger_commit_args(const struct gw_ledger *l, const struct gw_event *ev,
                          const struct gw_earn *earn, int64_t now, struct gw_ledger_args *a);
/* Fills ARGV 13 with "id,id,..." (n ids, one per tier). */
void gw_ledger_args_rules(struct gw_ledger_args *a, const int *ids, int n);

/* The source of a PDU the link refused: its dead letter goes to lg:dlq:pdu, all others to
 * lg:dlq:event. */
#define GW_DLQ_SOURCE_PDU "smpp-pdu"
/* The hash tag of ref's bucket in the ref index, "{bN}" (the slot step 1 runs on), into out.
 * Returns 0, or -ENOSPC when cap is too small. */
int gw_ledger_ref_index_tag(const struct gw_ledger *l, const char *ref, char *out, size_t cap);

/* Appends a dead letter: the raw bytes (stored escaped and capped at 2 KiB), the reason, the
 * source ("smpp{SMSC1}" ...), the time (now: unix seconds as for commits; stored as "at" in unix
 * ms). cb(arg, 0) once Redis has it (cb may be NULL). Returns 0 or < 0 (cb never fires). */
int gw_ledger_deadletter(struct gw_ledger *l, const char *source, const void *raw, size_t len,
                         const char *reason, int64_t now, gw_ledger_done_cb cb, void *arg);

#endif
