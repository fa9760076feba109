/*
 * ctl_whatif_camp.h - the campaigns' side of `loyaltyctl whatif` (issue 12 section 2): replays
 * the journal's earning events under the campaigns document in force and a draft, with the
 * product's own rules - gateway/lua/campaign.lua, run by a private redis-server this process
 * starts and stops (a scratch store in a private folder, nothing persisted, never the
 * programme's Redis), with the arguments the daemon builds (gw_campaign_event_call).
 *
 * The wallets of the scratch store: a member whose enrolment is in the journal (a "J" line,
 * format version 2) gets one at that moment (bal 0, since = the enrolment), and its tier on each
 * side from the loyalty replay (gw_whatif_tier_of) before each event; members enrolled before the
 * window have no wallet there, so the script pays them nothing (welcome and tenure need "since";
 * their markers are unknown). Win-back offers come from the daily pass, which is not replayed:
 * win-back pays nothing on either side. Budgets start at 0 at the window's start.
 *
 * Ownership: ctl_whatif_camp_start / _stop (kills and reaps the server it started, removes its
 * folder).
 */
#ifndef CTL_WHATIF_CAMP_H
#define CTL_WHATIF_CAMP_H

#include <jansson.h>
#include <stdint.h>

#include "gw_campaign.h"
#include "gw_journal.h"

struct ctl_whatif_camp;

/* doc[0] in force, doc[1] draft (copied). redis_server: the binary (PATH is searched).
 * NULL with err set on failure. */
struct ctl_whatif_camp *ctl_whatif_camp_start(const char *redis_server,
                                              const struct gw_campaigns *doc[2],
                                              uint32_t history_len, char *err, size_t errlen);
/* An enrolment of the journal. 0 or < 0 (the scratch store failed). */
int ctl_whatif_camp_enrol(struct ctl_whatif_camp *c, const struct gw_journal_enrol *e);
/* An event of the journal, after the loyalty replay took it; tier[k]: the member's tier on side
 * k. 0 or < 0. */
int ctl_whatif_camp_event(struct ctl_whatif_camp *c, const struct gw_journal_rec *r,
                          const char *const tier[2]);
/* {"base": SIDE, "draft": SIDE}, SIDE = {issued, grants, stops, campaigns: [{id, rule, budget,
 * spent, grants, stops, stop_reached}]}; NULL on failure. */
json_t *ctl_whatif_camp_result(struct ctl_whatif_camp *c);
void ctl_whatif_camp_stop(struct ctl_whatif_camp *c);

#endif
