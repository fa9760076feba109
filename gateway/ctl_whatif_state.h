/*
 * ctl_whatif_state.h - the campaigns' what-if starts from the members' real state at the
 * window's start (issue 12 section 2): a first pass over the window's journal lists the members
 * with an event there who were not enrolled in it, and counts their credited recharges; their
 * live wallets are read with one pipelined read-only HMGET each (only the fields the campaign
 * rules read: since rc rl wo blocked E bd and c:<id> of the campaigns of both documents; never a
 * scan), from the configuration's Redis or a replica (--state-redis); and rolled back to the
 * window's start:
 *   rc   the wallet's minus the window's credited recharges;
 *   rl   the wallet's when none; else the day of the last TOPUP record before the window in the
 *        wallet's movements (field E, which keeps at least the last history_len movements) -
 *        "unknown" (counted, no win-back offer) when E no longer has it;
 *   c:<id> of a tenure rule: lowered to the last anniversary completed before the window;
 *        win-back markers of the window dropped (the rules do not read them); others kept;
 *   wo   kept when made before the window for the same rl, else dropped (the replay makes it);
 *   c:<id> of a birthday rule (the year paid): dropped when that year's birthday is in the window
 *        (the pass is replayed: ctl_whatif_camp.c bday_due).
 * A member enrolled in the window without its J line (a version-1 journal) keeps no marker.
 * Not rolled back: blocked (as now), a wallet deleted since (not read: counted "gone").
 */
#ifndef CTL_WHATIF_STATE_H
#define CTL_WHATIF_STATE_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_whatif_camp.h"

struct ctl_whatif_state_stats {
    uint64_t members;    /* members of the window not enrolled in it */
    uint64_t read;       /* wallets read and seeded */
    uint64_t gone;       /* no wallet now (or not readable here) */
    uint64_t rl_unknown; /* the last recharge before the window no longer in E */
    uint64_t bytes;      /* reply bytes read */
    int64_t ms;          /* wall time of the first pass and the reads */
};

/* paths: the window's journal files (n); first: the window's first local day; doc: both sides.
 * rc: a connection to the programme's Redis (or a replica). 0 or < 0 with err. */
int ctl_whatif_state_load(struct ctl_whatif_camp *camp, redisContext *rc, char *const *paths,
                          size_t n, int32_t first, const struct gw_campaigns *doc[2],
                          struct ctl_whatif_state_stats *st, char *err, size_t errlen);

/* The campaigns' budgets at the window's start: for each campaign id of both documents, the live
 * lg:cb:{cmp} <id>:spent (one HGETALL, read-only) minus what the ledger booked for that id in
 * the window - the aggregates' iss:BONUS:<id> of every slot's lg:ag:{tag}:<day>, day in
 * [first, last] (pipelined HMGETs, one per slot and day) - seeded as <id>:spent in both scratch
 * stores (ctl_whatif_camp_budget; an id only in the draft starts at 0). Not read when the window
 * is longer than the aggregates live (AGG_DAYS): *read = false, the budgets start at 0. */
#define CTL_WHATIF_AGG_DAYS 69 /* the day hashes live 70 days (commit.lua AG_DAY_TTL) */
struct ctl_whatif_budget_stats {
    bool read;         /* the live budgets were read */
    uint64_t campaigns; /* ids with a spent figure before the window */
    uint64_t commands;  /* HMGETs of the aggregates */
    int64_t ms;
};
int ctl_whatif_budget_load(struct ctl_whatif_camp *camp, redisContext *rc, int32_t first,
                           int32_t last, const struct gw_campaigns *doc[2],
                           struct ctl_whatif_budget_stats *st, char *err, size_t errlen);

#endif
