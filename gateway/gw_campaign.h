/*
 * gw_campaign.h - the programme's automatic campaign rules (issue 10 section 1): the campaigns
 * document and the pure logic around it. The runner that applies them is gw_campaign_run.h; the
 * Redis side is lua/campaign.lua; docs/campaigns.md has the decisions.
 *
 * The document is data, stored by the staff console like the catalogue (cfg:{adm}:campaigns, a
 * versioned hash {doc, version, at, by} written by cfg_put.lua with its audit record) and followed
 * by every gateway (wire_cfgdocs.c). It is validated by gw_campaigns_parse, the one parser both
 * sides use:
 *
 *   {"version": "v7",
 *    "campaigns": [
 *      {"id": "welcome", "rule": "welcome", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD",
 *       "budget": 500000, "points": 50, "tiers": {"gold": 80}, "label": "welcome bonus"},
 *      {"id": "tenure", "rule": "tenure", "years": [1, 3, 5], "points": 100, ...},
 *      {"id": "winback", "rule": "winback", "min_recharges": 3, "lapse_days": 70,
 *       "valid_days": 14, "points": 50, "texts": {"fr": "... {points} ... {date}", ...}},
 *      {"id": "bday", "rule": "birthday", "points": 30, "texts": {"en": "... {points} ...", ...}},
 *      {"id": "ref", "rule": "referral", "points": 20, "valid_days": 30, "max_per_month": 5,
 *       "min_amount": 10}],
 *    "retired": [{"id": "summer", "day": "YYYY-MM-DD"}]}
 *
 * start/end are local days of the programme's zone, both included; budget is in points, a hard
 * stop (the credit and the budget's count move in one script); "tiers" gives a tier's own points
 * (per-tier variants), other tiers get "points". "retired" (optional) lists the ids of campaigns
 * removed from the document and the local day each was removed: such an id is refused for a new
 * campaign for ever (its markers c:<id> are deleted from the wallets by the gateways; a campaign
 * paused by its dates stays in "campaigns" and keeps its markers). The console and loyaltyctl add
 * removed ids themselves (gw_campaigns_retire). Ownership: plain structs, no allocation.
 */
#ifndef GW_CAMPAIGN_H
#define GW_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_CAMP_MAX 16       /* campaigns in one document */
#define GW_CAMP_ID_MAX 24    /* [a-z0-9_-], starting with a letter or digit */
#define GW_CAMP_TIERS_MAX 8  /* per-tier variants of one campaign */
#define GW_CAMP_YEARS_MAX 8  /* tenure anniversaries of one campaign */
#define GW_CAMP_LABEL_MAX 64 /* the "why these points" of the history line */
#define GW_CAMP_TEXT_MAX 480 /* bytes of one offer SMS text (UTF-8) */
#define GW_CAMP_LANGS 4      /* ar, fr, en, fa */
#define GW_CAMP_POINTS_MAX 1000000
#define GW_CAMP_BUDGET_MAX 1000000000000LL
#define GW_CAMP_RETIRED_MAX 256 /* retired ids one document keeps (for ever: never reused) */

enum gw_camp_rule {
    GW_CAMP_WELCOME = 0,
    GW_CAMP_TENURE,
    GW_CAMP_WINBACK,
    GW_CAMP_BIRTHDAY, /* paid by the daily birthday pass, not on events (gw_campaign_bday.c) */
    GW_CAMP_REFERRAL, /* both sides on the referee's first qualifying TOPUP (docs/campaigns.md) */
    GW_CAMP__RULES
};

struct gw_camp_tier {
    char name[32];
    int64_t points;
};

struct gw_camp {
    char id[GW_CAMP_ID_MAX + 1];
    enum gw_camp_rule rule;
    int32_t start, end; /* local days YYYYMMDD, both included */
    int64_t budget;     /* points; the hard stop */
    int64_t points;     /* the default variant */
    struct gw_camp_tier tiers[GW_CAMP_TIERS_MAX];
    size_t n_tiers;
    char label[GW_CAMP_LABEL_MAX + 1];
    /* tenure */
    uint32_t years[GW_CAMP_YEARS_MAX]; /* ascending */
    size_t n_years;
    /* winback; referral: valid_days is D, the days a referral waits for the first recharge */
    uint32_t min_recharges, lapse_days, valid_days;
    /* referral: K referrals a member may make a local month, the qualifying recharge's minimum */
    uint32_t max_per_month;
    int64_t min_amount_milli;
    /* winback: the offer SMS; birthday: the greeting SMS ({points}) */
    char texts[GW_CAMP_LANGS][GW_CAMP_TEXT_MAX + 1]; /* by gw_camp_lang index; "" none */
};

/* A campaign removed from the document: its id is never used again, and the gateways delete its
 * markers c:<id> from the wallets (gw_campaign_marks.h). */
struct gw_camp_retired {
    char id[GW_CAMP_ID_MAX + 1];
    int32_t day; /* the local day it was removed, YYYYMMDD */
};

struct gw_campaigns {
    char version[64];
    struct gw_camp c[GW_CAMP_MAX];
    size_t n;
    struct gw_camp_retired retired[GW_CAMP_RETIRED_MAX]; /* in the order they were retired */
    size_t n_retired;
};

/* The languages offer texts exist in, in this order: "ar", "fr", "en", "fa". */
extern const char *const gw_camp_langs[GW_CAMP_LANGS];
const char *gw_camp_rule_name(enum gw_camp_rule r);

/* Parses and validates the document (len bytes of JSON). Returns 0 with *out filled, or -EINVAL
 * with a reason naming the path ("campaigns[1].budget: ...") in err, or -ENOMEM. Every field is
 * checked: unknown rules and keys are refused (a typo must not switch a rule off silently). */
int gw_campaigns_parse(const char *text, size_t len, struct gw_campaigns *out, char *err,
                       size_t errlen);

/* The document to store when text (len bytes, a document gw_campaigns_parse accepts) replaces
 * stored (slen bytes; NULL or not JSON: none stored): text, with a "retired" list holding every
 * entry of stored's list and of text's own (the earliest day wins), and every id of stored's
 * campaigns that text no longer has, retired on today (YYYYMMDD). So a retirement is never
 * forgotten, whatever the editor sent. Returns 0 with *out = NULL (text is already that
 * document: store it as sent) or *out = the new text (malloc'd, the caller frees it); -EINVAL with
 * err naming the id when a campaign of text uses a retired id (or the list would pass
 * GW_CAMP_RETIRED_MAX); -ENOMEM. */
int gw_campaigns_retire(const char *stored, size_t slen, const char *text, size_t len, int32_t today,
                        char **out, char *err, size_t errlen);

/* Whether c runs on local day today (YYYYMMDD). */
bool gw_camp_active(const struct gw_camp *c, int32_t today);
/* The points c gives a member of tier ("" or NULL: the default). */
int64_t gw_camp_points(const struct gw_camp *c, const char *tier);
/* "gold=80,silver=60" for the script (tier variants), into out. 0 or -ENOSPC. */
int gw_camp_tiers_arg(const struct gw_camp *c, char *out, size_t cap);

/* The offer SMS of a win-back campaign (or a birthday's greeting) in lang (else fallback, else the first text present), with
 * {points} and {date} (dd/mm/yyyy of until) replaced. 0, -ENOENT (no text) or -ENOSPC. */
int gw_camp_offer_text(const struct gw_camp *c, const char *lang, const char *fallback,
                       int64_t points, int32_t until, char *out, size_t cap);

/* Whether a wallet is due a win-back offer at now (unix s): the test campaign.lua OFFER makes, for
 * the previews (loyaltyctl, the console). exists: the wallet exists; rc, rl: its recharge count
 * and last recharge (rl < 0 none); offered_rl: the "rl when offered" of its open or used offer
 * (-1 none). */
bool gw_camp_winback_due(const struct gw_camp *c, int64_t now, bool exists, bool blocked,
                         int64_t rc, int64_t rl, int64_t offered_rl);

#endif
