/*
 * ctl_whatif_state.h - the campaigns' what-if starts from the members' real state at the
 * window's start (issue 12 section 2): a first pass over the window's journal lists the members
 * with an event there who were not enrolled in it, and counts their credited recharges; their
 * live wallets are read with one pipelined read-only HMGET each (only the fields the campaign
 * rules read: since rc rl wo blocked E and c:<id> of the campaigns of both documents; never a
 * scan), from the configuration's Redis or a replica (--state-redis); and rolled back to the
 * window's start:
 *   rc   the wallet's minus the window's credited recharges;
 *   rl   the wallet's when none; else the day of the last TOPUP record before the window in the
 *        wallet's movements (field E, which keeps at least the last history_len movements) -
 *        "unknown" (counted, no win-back offer) when E no longer has it;
 *   c:<id> of a tenure rule: lowered to the last anniversary completed before the window;
 *        win-back markers of the window dropped (the rules do not read them); others kept;
 *   wo   kept when made before the window for the same rl, else dropped (the replay makes it).
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

#endif
