/*
 * gw_agg.h - the ledger's per-slot aggregates (docs/data-model.md section 6), the reader's side:
 * sums of the hashes lg:ag:{tag}:<YYYYMMDD> (a day's flows) and lg:ag:{tag}:tot (running totals),
 * the same totals recomputed from wallets (loyaltyctl agg-check), their comparison, and the share
 * of points held by the top 20 % computed from the balance histogram. Pure: no Redis here
 * (gateway/ctl_agg.c and admin/adm_reports.c do the reading). The writers are the ledger scripts
 * (block "aggregates" of commit.lua, expire.lua, catalog/lua/sub.lua, admin/lua/adjust.lua,
 * campaign.lua, transfer.lua).
 *
 * Ownership: the structs are plain values, no allocation; the caller owns them.
 */
#ifndef GW_AGG_H
#define GW_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Histogram buckets: index 0 = balance < 0 ("-"), 1 = balance 0 ("0"), k + 1 = balance in
 * [2^(k-1), 2^k) ("k", k = 1..41; the ledger bounds |balance| by 10^12 < 2^40). */
#define GW_AGG_BUCKETS 43
#define GW_AGG_TIERS 16
#define GW_AGG_NAME_MAX 40 /* a field name: "iss:<KIND>:<channel>", "t:<tier>" */
#define GW_AGG_FIELDS 160  /* distinct flow fields of a day range */

struct gw_agg_tot {
    int64_t liab;                /* sum of balances */
    int64_t neg;                 /* sum of the negative balances (<= 0) */
    int64_t h[GW_AGG_BUCKETS];   /* wallets per bucket */
    int64_t hs[GW_AGG_BUCKETS];  /* their balances' sum */
    unsigned ntiers;
    char tier[GW_AGG_TIERS][GW_AGG_NAME_MAX];
    int64_t members[GW_AGG_TIERS];
    unsigned unknown;            /* fields not understood (a newer writer): counted, not fatal */
};

/* A day range's flows: field name -> sum (iss:<KIND>:<ch>, iss:BONUS:<campaign>, red, rfd, rev,
 * exp, adj+, adj-, xfo, xfi, n:<KIND>), in the order first seen. */
struct gw_agg_flows {
    unsigned n;
    char name[GW_AGG_FIELDS][GW_AGG_NAME_MAX];
    int64_t v[GW_AGG_FIELDS];
    unsigned dropped; /* distinct names past GW_AGG_FIELDS */
};

/* The bucket index of a balance (see GW_AGG_BUCKETS); the same rule as the scripts' ag_bucket. */
unsigned gw_agg_bucket(int64_t bal);
/* The bucket's name in the hash ("-", "0", "1".."41"); out needs 4 bytes. */
void gw_agg_bucket_name(unsigned idx, char *out);

/* Adds one field of a lg:ag:{tag}:tot hash (value as text). Returns 0, or -EINVAL when the field
 * or value is not one of ours (t->unknown is then incremented). */
int gw_agg_tot_add_field(struct gw_agg_tot *t, const char *field, const char *value);
/* Adds one wallet (agg-check's recomputation): bal, and tier (NULL or "" = none). */
void gw_agg_tot_add_wallet(struct gw_agg_tot *t, int64_t bal, const char *tier);
/* Adds b into a (summing slots). */
void gw_agg_tot_merge(struct gw_agg_tot *a, const struct gw_agg_tot *b);
/* Wallets counted (sum of the histogram). */
int64_t gw_agg_tot_wallets(const struct gw_agg_tot *t);
/* Compares want (recomputed) with got (stored) field by field, absent = 0. Prints each
 * difference to out (when not NULL) as "<label> <field> stored <got> recomputed <want>".
 * Returns the number of differences. */
unsigned gw_agg_tot_diff(const struct gw_agg_tot *want, const struct gw_agg_tot *got,
                         const char *label, FILE *out);

/* Adds one field of a day hash. Returns 0, or -EINVAL on a value that is not an integer. */
int gw_agg_flows_add(struct gw_agg_flows *f, const char *field, const char *value);
/* The sum of a field (0 when absent); prefix_sum adds every field starting with prefix. */
int64_t gw_agg_flows_get(const struct gw_agg_flows *f, const char *field);
int64_t gw_agg_flows_prefix_sum(const struct gw_agg_flows *f, const char *prefix);

/* Share of the points held by the top 20 % of wallets (by balance), in millionths, from the
 * histogram: whole buckets from the top while they fit in the 20 %, then the bucket holding the
 * boundary pro rata (its wallets taken as holding its average). Denominator: the sum of the
 * positive balances; 0 when it is 0. top_pct: 1..100 (20 for the report). */
int64_t gw_agg_top_share_ppm(const struct gw_agg_tot *t, unsigned top_pct);

/* Points x point value (millionths of the currency unit per point) as "[-]U.UUUUUU" exactly.
 * Returns 0 or -ENOSPC. */
int gw_agg_money(int64_t points, uint32_t point_value_micro, char *out, size_t cap);

#endif
