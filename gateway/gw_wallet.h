/*
 * gw_wallet.h - a read-only view of one subscriber's wallet for the USSD menus and the balance
 * SMS: parsed from HGETALL lg:{M}:w and LRANGE lg:{M}:h 0 4 (formats of gw_ledger.h and
 * lua/commit.lua), and served to the dialogue engine through struct ussd_subscriber_ops, whose
 * getters are synchronous: the transport prefetches, then the engine reads this view.
 * Owner: the USSD-wiring engineer (issue 3).
 *
 * Points expiring next: points earned on local day D live in the lot of D (field L, gw_lots.h; a
 * field "l:D" of the release before is added); with a validity of M months
 * (loyalty.points_validity_months) they expire on D + M months, the day clamped to the month's
 * last day (31 Jan + 1 month = 28/29 Feb). The next expiry is the earliest such date that is
 * today or later; its points are the sum of the lots that expire that day
 * (several days can clamp to one). Lots already past their date are not counted (expiring them is
 * a sweeper's job, not the menu's). M = 0: nothing expires.
 *
 * Everything read from Redis is untrusted: bad fields are ignored, texts are sanitised.
 * Pure data, no allocation: struct gw_wallet_view is a plain value the caller owns.
 */
#ifndef GW_WALLET_H
#define GW_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ussd.h"

struct redisReply;

#define GW_WALLET_HISTORY_RAW 256 /* bytes kept of one raw history entry */

struct gw_wallet_view {
    bool exists;              /* the wallet hash has a balance (the subscriber is enrolled) */
    int64_t balance;          /* points; 0 when not enrolled */
    char tier[32];            /* "" when unknown */
    char lang[USSD_LANG_MAX]; /* saved preference, "" for none */
    int64_t expiring_points;  /* 0: nothing expires */
    int32_t expiring_day;     /* YYYYMMDD of the next expiry */
    int32_t pass_until;       /* make-good priority pass (field pp): last local day valid, 0 none */
    size_t n_history;
    char history[USSD_HISTORY_MAX][GW_WALLET_HISTORY_RAW]; /* raw "at|KIND|ref|+pts|bal|note" */
};

/*
 * Fills *v from the replies (either may be NULL or of an unexpected type: then that part is
 * empty). validity_months as above; today = local day YYYYMMDD (gw_local_day()).
 */
void gw_wallet_view_parse(struct gw_wallet_view *v, const struct redisReply *hgetall,
                          const struct redisReply *lrange, uint32_t validity_months, int32_t today);

/* The same with the programme's validity in days or months (core/gw_days.h); NULL is not
 * allowed. The "expire on" date is the last valid day, as the expiry job uses it. */
struct gw_validity;
void gw_wallet_view_parse_validity(struct gw_wallet_view *v, const struct redisReply *hgetall,
                                   const struct redisReply *lrange,
                                   const struct gw_validity *validity, int32_t today);

/* D + months, clamped to the month's last day (YYYYMMDD in, YYYYMMDD out); 0 for a bad day. */
int32_t gw_wallet_add_months(int32_t day, uint32_t months);

/* Merges the packed history E (the wallet's field, gw_hist.h; only its newest USSD_HISTORY_MAX
 * records matter) into v->history, which holds the raw lines of the list of the release before
 * (newest first): the newest USSD_HISTORY_MAX of both, newest first. Untrusted bytes: a field
 * whose length is not a multiple of 16 is ignored. gw_wallet_view_parse* call it. */
void gw_wallet_view_merge_e(struct gw_wallet_view *v, const void *e, size_t elen);

/* One raw history entry as a screen line: "12/05 +50 Top-up" with the reason in lang (TOPUP,
 * BILL, USAGE, REVERSAL, REDEEM are translated for ar/fr/en/fa; other kinds are shown as they are,
 * sanitised). Returns 0, or -EINVAL for an entry that does not parse (then it is skipped). */
int gw_wallet_history_line(const char *raw, const char *lang, char *out, size_t cap);

/* The engine's subscriber getters over a struct gw_wallet_view (pass the view as arg). */
extern const struct ussd_subscriber_ops gw_wallet_ussd_ops;

#endif
