/*
 * ctl_whatif_camp.h - the campaigns' side of `loyaltyctl whatif` (issue 12 section 2): replays
 * the journal's earning events under the campaigns document in force and a draft, with the
 * product's own rules - gateway/lua/campaign.lua, run by two private redis-servers this process
 * starts and stops (one per side, so the two sides use the two cores; a scratch store in a private
 * folder, nothing persisted, never the programme's Redis), with the arguments the daemon builds
 * (gw_campaign_event_call).
 *
 * The wallets of the scratch stores: a member whose enrolment is in the journal (a "J" line,
 * format version 2) gets one at that moment (bal 0, since = the enrolment); a member enrolled
 * before the window gets one at the window's start from ctl_whatif_camp_member (its state then:
 * ctl_whatif_state.h). Before each event the member's tier on each side comes from the loyalty
 * replay (gw_whatif_tier_of).
 *
 * Win-back: each credited TOPUP moves the member's recharge count and last recharge (rc, rl, as
 * commit.lua does); the daily offer pass is modelled per member: the due day is the last
 * recharge's day + the lapse of the win-back active that day (the set the TOPUP indexed), the
 * pass of that day (its first run after the quiet hours, campaigns.quiet_end_hour) asks
 * campaign.lua OFFER with that moment as "now", and campaign.lua EVENT pays the bonus on the next
 * recharge while the offer is valid. Members with no event after their due day are offered at the
 * end of the replay (the funnel's "offered").
 *
 * Birthday: the daily pass is modelled per member read from its wallet (its birth date bd): each
 * day of the window on which it is celebrated (gw_birthday_in_year), at that day's first run
 * after the quiet hours, campaign.lua BDAY with gw_campaign_bday.c's arguments; the script
 * decides.
 *
 * Referral (ctl_whatif_ref.c): each referral the gateway accepted ("F" line, format version 3)
 * runs lua/referral.lua REFER on both sides under that side's referral campaign of the day (none:
 * not recorded there), so the draft's max_per_month refuses what production's did not; the
 * referrer gets a bare wallet (bal 0) when the replay has none. The referee's first recharge runs
 * campaign.lua EVENT (its rc written first: the rule pays on rc 1 only, within valid_days, from
 * min_amount, within the budget, for both sides), then REFPAY on the referrer's wallet, as the
 * daemon does. Not replayed: referrals made before the window (their records, the month's count
 * before the window: the count starts at 0), a referral refused in production that a draft would
 * have accepted (not journaled).
 *
 * Calls that cannot change anything are not sent (counted in "skipped"): a member's welcome rules
 * are settled by the first call that carries them (the enrolment day and the rule's start never
 * change, the marker only by the script); a tenure rule can only pay when an anniversary (+-1 day)
 * passed since the member's last call; win-back only on the TOPUP after an offer; referral on a
 * referee's first recharge (always sent). The script decides every call that is sent;
 * LGW_WHATIF_CALL_ALL=1 sends every call (the tests compare both).
 *
 * Ownership: ctl_whatif_camp_start / _stop (kills and reaps the servers it started, removes its
 * folder).
 */
#ifndef CTL_WHATIF_CAMP_H
#define CTL_WHATIF_CAMP_H

#include <jansson.h>
#include <stdint.h>

#include "gw_campaign.h"
#include "gw_campaign_run.h"
#include "gw_journal.h"
#include "gw_loyalty.h"

struct ctl_whatif_camp;

/* doc[0] in force, doc[1] draft (copied). redis_server: the binary (PATH is searched). run: the
 * quiet hours of the offer pass. NULL with err set on failure. */
struct ctl_whatif_camp *ctl_whatif_camp_start(const char *redis_server,
                                              const struct gw_campaigns *doc[2],
                                              const struct gw_campaign_run_config *run,
                                              uint32_t history_len, char *err, size_t errlen);
/* An enrolment of the journal. 0 or < 0 (the scratch store failed). */
int ctl_whatif_camp_enrol(struct ctl_whatif_camp *c, const struct gw_journal_enrol *e);

/* A referral of the journal (format version 3), in time order with the events. 0 or < 0. */
int ctl_whatif_camp_refer(struct ctl_whatif_camp *c, const struct gw_journal_refer *f);

/* A member enrolled before the window, as it stood at the window's start (ctl_whatif_state.c). */
#define CTL_WHATIF_MARKS 32
struct ctl_whatif_member {
    char msisdn[GW_MSISDN_MAX + 1];
    int64_t since;            /* the wallet's "since" (unix s) */
    uint32_t rc;              /* recharges counted (rc) */
    int64_t rl;               /* the last recharge (unix s), 0 none or unknown */
    char wo[64];              /* an open win-back offer "<id>,<until>,<rl>", "" none */
    bool blocked;
    int32_t bd;               /* the birth date (bd, YYYYMMDD), 0 none */
    int32_t bd_from;          /* the first day whose birthday pass is replayed (the window's) */
    size_t nmarks;            /* c:<id> markers */
    struct {
        char id[GW_CAMP_ID_MAX + 1];
        char v[16];
    } marks[CTL_WHATIF_MARKS];
};
int ctl_whatif_camp_member(struct ctl_whatif_camp *c, const struct ctl_whatif_member *m);

/* A campaign's budget already spent at the window's start (ctl_whatif_budget_load): seeded as
 * <id>:spent on each side whose document holds the id; the result's "spent" is the window's,
 * "spent_before" this. */
int ctl_whatif_camp_budget(struct ctl_whatif_camp *c, const char *id, int64_t spent);

/* An event of the journal, after the loyalty replay took it; tier[k]: the member's tier on side
 * k. 0 or < 0. */
int ctl_whatif_camp_event(struct ctl_whatif_camp *c, const struct gw_journal_rec *r,
                          const char *const tier[2]);
#define CTL_WHATIF_CAMP_TOP 10
/* {"base": SIDE, "draft": SIDE, members, skipped, top_changes: [{msisdn, base, draft}]: the
 * CTL_WHATIF_CAMP_TOP members (referrers included) whose bonus points change most, largest
 * first}, SIDE = {issued, grants, stops, offers,
 * campaigns: [{id, rule, budget, spent, grants, stops, stop_reached, offered, back}],
 * referrals: {recorded, paid, refused: {outcome: n}, no_campaign}} (a referral paid is two
 * grants of the side, the referee's and the referrer's, and one of its campaign); NULL on
 * failure. Makes the offers still due by `end` (unix s) first. */
json_t *ctl_whatif_camp_result(struct ctl_whatif_camp *c, int64_t end);
/* Members per tier and the top-20 % share under the campaigns, each side (issue 12 section 2),
 * added to result (ctl_whatif_camp_result's) as base/draft "tiers" {name: members} and
 * "top20_share" (0..1), and "holders": how many members they count. The model: the production
 * ledger adds a bonus to the balance and to the lifetime points, so each member's end state on
 * side k is its window on the loyalty replay's side k (gw_whatif_holding_of: lifetime points and
 * net points; side 0 is the ledger's own arithmetic, so it is what happened) plus the bonus
 * points side k's campaigns granted it here; the in force side's bonuses are the replay of what
 * was paid, so the draft side is "as happened + draft bonus - bonus paid". Counted: the loyalty
 * replay's subscribers and the members granted a bonus on either side (a referrer without an
 * event). Then gw_whatif_spread with side k's table: the table what-if's rule, the same code.
 * Not modelled: a draft bonus that lifts a member into a tier changes neither its later
 * earnings' multiplier nor a later bonus's tier (the end state is adjusted, not replayed).
 * w: the loyalty replay the events went through; t[k]: its tables. 0 or -ENOMEM. */
struct gw_whatif;
int ctl_whatif_camp_spread(struct ctl_whatif_camp *c, const struct gw_whatif *w,
                           const struct gw_loyalty *const t[2], json_t *result);
/* The referral rows of the text output, base and draft side by side (SIDE objects above). */
void ctl_whatif_camp_text_ref(const json_t *base, const json_t *draft);
void ctl_whatif_camp_stop(struct ctl_whatif_camp *c);

#endif
