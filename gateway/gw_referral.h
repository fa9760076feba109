/*
 * gw_referral.h - the referral rule's pure decisions (issue 10 section 1, "Referral"): whether a
 * member may refer a number, and whether a referee's recharge qualifies the referral. The gateway
 * parses the typed number with gw_referral_number (gw_ussd.c) and the Redis side applies the same
 * decisions atomically, in the same order: lua/referral.lua (the refusals) and lua/campaign.lua
 * EVENT (the qualifying recharge); docs/campaigns.md, "Referral". Keep the two in step: this file
 * is the unit-tested table of every refusal.
 *
 * Refusals, each with its own screen: a number that is not one (country code + 8-15 digits, as the
 * premium gift's beneficiary), the member's own number, a number that already is a member, a
 * number already referred by someone else (the first referral stands until it lapses), a loop (the
 * referee is in the referrer's chain of "referred by", A->B->A and longer), more than K referrals
 * in the referrer's current local month, and a blocked referrer.
 */
#ifndef GW_REFERRAL_H
#define GW_REFERRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_REF_CHAIN_MAX 4 /* "referred by" links followed for loops (A->B->C->D->A) */

enum gw_ref_outcome {
    GW_REF_OK = 0,
    GW_REF_BAD_NUMBER, /* not country code + 8-15 digits */
    GW_REF_SELF,       /* the member's own number */
    GW_REF_MEMBER,     /* the referee already is a member (has a wallet) */
    GW_REF_TAKEN,      /* the referee was referred by another member, not lapsed */
    GW_REF_LOOP,       /* the referee referred the referrer (directly or up the chain) */
    GW_REF_CAP,        /* K referrals already this month */
    GW_REF_BLOCKED,    /* the referrer is blocked */
    GW_REF__OUTCOMES
};

/* What the Redis side knows when a member refers a number. */
struct gw_ref_facts {
    char referrer[16];
    bool referrer_blocked;
    uint32_t referrer_month_count; /* referrals made in the current local month */
    /* the referrer's chain of "referred by": chain[0] referred the referrer, chain[1] referred
     * chain[0]...; n_chain entries known ("" = none further) */
    char chain[GW_REF_CHAIN_MAX][16];
    size_t n_chain;
    bool referee_member;          /* the referee has a wallet */
    bool referee_pending;         /* referred already, not lapsed */
    char referee_pending_by[16];  /* ... by whom ("" unknown) */
};

/* The referee's number typed on the handset (len bytes: "212612345678", spaces and a leading "+"
 * or "00" tolerated) as an MSISDN into out (16 bytes). 0, or -EINVAL. */
int gw_referral_number(const char *in, size_t len, char out[16]);

/* Whether the referrer may refer referee (an MSISDN from gw_referral_number) with at most
 * max_per_month referrals a local month. Checked in this order (the first refusal found is the
 * screen shown): number, blocked, self, loop, member, taken, cap (a loop before member: the
 * referrer's own referrer is a member by then, and "loop" is the screen that says why); a repeat of the same referral by the same referrer is GW_REF_OK (the
 * Redis step is idempotent, it counts once). */
enum gw_ref_outcome gw_referral_decide(const struct gw_ref_facts *f, const char *referee,
                                       uint32_t max_per_month);

/* Whether a referee's recharge qualifies: its first qualifying recharge (first_recharge), at least
 * min_amount_milli, at recharge_at no later than valid_days local days after the referral's day
 * (referred_day, recharge_day YYYYMMDD local days). */
bool gw_referral_qualifies(int32_t referred_day, uint32_t valid_days, int32_t recharge_day,
                           bool first_recharge, int64_t amount_milli, int64_t min_amount_milli);

/* "ok", "bad_number", "self", "member", "taken", "loop", "cap", "blocked": the outcome's name,
 * which is also the key of its screen in the USSD menus. */
const char *gw_referral_outcome_name(enum gw_ref_outcome o);

#endif
