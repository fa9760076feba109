/*
 * gw_whatif.h - "what-if before publishing" (issue 12 section 2): replays journaled events
 * (gw_journal.h) under the table in force (the baseline) and under a draft, side by side, with
 * the ledger's own arithmetic: gw_loyalty_earn for what an event earns, gw_frac_credit (the C
 * twin of commit.lua, property-tested against it) for the tier multiplier and the exact
 * remainder, then commit.lua's daily cap and reversal rules, per subscriber in journal order.
 * Pure logic, no I/O: the caller reads the files (loyaltyctl whatif) and feeds the records.
 *
 * Every subscriber enters the replayed window as a fresh wallet (lifetime 0, no carried
 * fraction, standard tier): the journal holds what happened in the window, not the wallets
 * before it. With wallets created in the window the baseline is then exactly the ledger.
 * Both sides read local days in the process time zone (the table in force's).
 *
 * One owner: gw_whatif_new / gw_whatif_free. Memory: about 150 bytes per subscriber and 48 per
 * event in the window (a reversal needs what its original earned on each side).
 */
#ifndef GW_WHATIF_H
#define GW_WHATIF_H

#include <stdint.h>

#include "gw_journal.h"
#include "gw_loyalty.h"

#define GW_WHATIF_TOP 10

struct gw_whatif_side {
    int64_t issued;    /* points credited */
    int64_t reversed;  /* points taken back by reversals */
    int64_t capped;    /* points forfeited to the daily cap */
    uint64_t refused;  /* events the table refuses (gw_loyalty_earn < 0): earn nothing */
    uint64_t members[GW_MAX_TIERS]; /* subscribers of the window per tier at its end */
    /* share of the window's net points (issued - reversed, per subscriber, at least 0) that
     * the top 20 % of subscribers hold, in basis points (10000 = all) */
    uint32_t top20_bp;
};

struct gw_whatif_change {
    char msisdn[GW_MSISDN_MAX + 1];
    int64_t base, draft; /* net points of the window on each side */
};

struct gw_whatif_result {
    uint64_t events;        /* records fed */
    uint64_t subscribers;   /* distinct MSISDNs */
    int64_t recorded;       /* net points the ledger really credited (from the journal) */
    struct gw_whatif_side base, draft;
    struct gw_whatif_change top[GW_WHATIF_TOP]; /* largest |draft - base| first */
    unsigned n_top;
};

struct gw_whatif;

/* base and draft are copied; currency is the events' (for gw_loyalty_earn's rule text).
 * NULL on ENOMEM. */
struct gw_whatif *gw_whatif_new(const struct gw_loyalty *base, const struct gw_loyalty *draft,
                                const char *currency);
void gw_whatif_free(struct gw_whatif *w);

/* Replays one record (in journal order). Returns 0, or -ENOMEM (the replay is then unusable). */
int gw_whatif_feed(struct gw_whatif *w, const struct gw_journal_rec *r);

/* The figures so far (sorts per subscriber: O(n log n)). Returns 0 or -ENOMEM. */
int gw_whatif_result(const struct gw_whatif *w, struct gw_whatif_result *out);

/* Offers one subscriber's figures on both sides to a list of the largest changes top[0..*n)
 * of capacity cap (the campaigns' and the catalogue's what-if): kept when |draft - base| ranks
 * among them, larger first, equal changes by number (strcmp); no change is never kept. */
void gw_whatif_top_offer(struct gw_whatif_change *top, unsigned *n, unsigned cap,
                         const char *msisdn, int64_t base, int64_t draft);

/* What one subscriber holds at the end of the window on one side: the value the tier rule reads
 * (gw_whatif_tier: the window's lifetime points) and the net points of the window. */
struct gw_whatif_holding {
    int64_t life, net;
};

/* Members per tier (by life under t, gw_whatif_tier) and the top-20 % share (the net points,
 * each at least 0, of the ceil(n / 5) largest holders over all of them) of h[0..n), into
 * out->members and out->top20_bp (the rest of *out untouched). The table what-if's figures and
 * the campaigns' (ctl_whatif_camp_spread): one rule. Sorts a copy. Returns 0 or -ENOMEM. */
int gw_whatif_spread(const struct gw_loyalty *t, const struct gw_whatif_holding *h, size_t n,
                     struct gw_whatif_side *out);

/* msisdn's holding on side 0 / 1 after the records fed so far. Returns 0, or -ENOENT when it is
 * not a subscriber of the window (no record fed), -EINVAL on a bad side. Never adds one. */
int gw_whatif_holding_of(const struct gw_whatif *w, const char *msisdn, int side,
                         struct gw_whatif_holding *out);

/* Walks the subscribers of the window: *pos starts at 0; fills msisdn (GW_MSISDN_MAX + 1 bytes)
 * and h[0], h[1] (each side) and returns 1, or 0 when all were seen. */
int gw_whatif_next(const struct gw_whatif *w, size_t *pos, char *msisdn,
                   struct gw_whatif_holding h[2]);

/* The tier whose multiplier applies to a wallet of lifetime points life under t (index into
 * t->tiers): the rule of commit.lua today (by lifetime points). Rolling tiers change this one
 * function. */
unsigned gw_whatif_tier(const struct gw_loyalty *t, int64_t life);

/* The tier name of msisdn's wallet on side 0 (in force) or 1 (draft) after the records fed so
 * far (the campaigns' what-if: per-tier variants). "" on ENOMEM or a bad side. */
const char *gw_whatif_tier_of(struct gw_whatif *w, const char *msisdn, int side);

#endif
