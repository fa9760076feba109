/*
 * gw_whatif_cat.h - the catalogue side of "what-if before publishing" (issue 12 section 2):
 * replays the granted redemptions of the journal (gw_journal.h, format version 2) under a draft
 * catalogue and says what they would have cost at its prices and how many the members could no
 * longer afford. The draft is a catalogue version parsed by the catalog library's own parser
 * (cat_catalog_parse: the checks every reader applies); the price is the item's price in it.
 *
 * The rule is the debit's (catalog/lua/sub.lua DEBIT): refused when the balance before the debit
 * is below the price. The balance before a journaled debit is its balance after plus the price
 * paid; a member whose earlier redemption of the window was refused (or cheaper) under the draft
 * keeps the difference for the later ones (and one that cost more has less). Earnings under a
 * draft loyalty table do not move these balances (the two replays are side by side, not chained).
 *
 * Per member, the points spent on each side: the GW_WHATIF_CAT_TOP members whose spending
 * changes most are listed (a redemption refused or of an item the draft drops spends nothing).
 *
 * Pure logic, no I/O. One owner: gw_whatif_cat_new / _free. Memory: about 56 bytes per
 * subscriber who redeemed in the window.
 */
#ifndef GW_WHATIF_CAT_H
#define GW_WHATIF_CAT_H

#include <stdint.h>

#include "gw_journal.h"
#include "gw_whatif.h"

struct cat_catalog;

#define GW_WHATIF_CAT_ITEMS 32 /* per-item lines of the result, largest change first */
#define GW_WHATIF_CAT_TOP 10   /* members whose spending changes most */

struct gw_whatif_cat_item {
    char id[GW_JOURNAL_ITEM_MAX + 1];
    uint64_t count;            /* redemptions of the window */
    int64_t price_base;        /* the last price paid (the catalogue in force) */
    int64_t price_draft;       /* in the draft; 0 = not in the draft */
    uint64_t refused;          /* could not afford it at the draft price */
};

struct gw_whatif_cat_result {
    uint64_t redemptions;      /* granted redemptions of the window */
    uint64_t members;          /* distinct MSISDNs who redeemed */
    int64_t spent;             /* points the ledger debited for them */
    int64_t cost_draft;        /* the same redemptions at the draft prices (all of them) */
    int64_t spent_draft;       /* of those, what the members could still afford */
    uint64_t refused;          /* redemptions refused under the draft: balance < draft price */
    uint64_t gone;             /* redemptions of items the draft does not hold (not counted in
                                * cost_draft / spent_draft / refused) */
    struct gw_whatif_cat_item items[GW_WHATIF_CAT_ITEMS];
    unsigned n_items;
    /* points spent in the window on each side, largest |draft - base| first, then by number;
     * none that do not change (gw_whatif_top_offer) */
    struct gw_whatif_change top[GW_WHATIF_CAT_TOP];
    unsigned n_top;
};

struct gw_whatif_cat;

/* draft: a reference is taken (released by _free). NULL on ENOMEM or a NULL draft. */
struct gw_whatif_cat *gw_whatif_cat_new(struct cat_catalog *draft);
void gw_whatif_cat_free(struct gw_whatif_cat *w);
/* One granted redemption, in journal order. 0 or -ENOMEM. */
int gw_whatif_cat_feed(struct gw_whatif_cat *w, const struct gw_journal_redeem *r);
/* The figures so far. */
void gw_whatif_cat_result(const struct gw_whatif_cat *w, struct gw_whatif_cat_result *out);

#endif
