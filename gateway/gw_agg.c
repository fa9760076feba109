/*
 * gw_agg.c - the aggregates' arithmetic (gw_agg.h): bucket rule, field parsing, sums,
 * comparison, the top-20 % share from the histogram, money. Pure and allocation-free.
 */
#include "gw_agg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

unsigned gw_agg_bucket(int64_t bal)
{
    unsigned k = 0;

    if (bal < 0)
        return 0;
    while (bal >= 1 && k < GW_AGG_BUCKETS - 2) {
        bal /= 2;
        k++;
    }
    return k + 1;
}

void gw_agg_bucket_name(unsigned idx, char *out)
{
    if (idx == 0)
        snprintf(out, 4, "-");
    else
        snprintf(out, 4, "%u", (idx - 1) % 100u);
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* "-" -> 0, "k" -> k + 1 */
static int bucket_of_name(const char *s)
{
    int64_t k;

    if (strcmp(s, "-") == 0)
        return 0;
    if (parse_i64(s, &k) < 0 || k < 0 || k > GW_AGG_BUCKETS - 2)
        return -EINVAL;
    return (int)k + 1;
}

static int64_t *tier_slot(struct gw_agg_tot *t, const char *name)
{
    for (unsigned i = 0; i < t->ntiers; i++)
        if (strcmp(t->tier[i], name) == 0)
            return &t->members[i];
    if (t->ntiers >= GW_AGG_TIERS || strlen(name) >= GW_AGG_NAME_MAX)
        return NULL;
    snprintf(t->tier[t->ntiers], GW_AGG_NAME_MAX, "%s", name);
    t->members[t->ntiers] = 0;
    return &t->members[t->ntiers++];
}

int gw_agg_tot_add_field(struct gw_agg_tot *t, const char *field, const char *value)
{
    int64_t v, *slot = NULL;
    int b;

    if (parse_i64(value, &v) < 0)
        goto unknown;
    if (strcmp(field, "liab") == 0)
        slot = &t->liab;
    else if (strcmp(field, "neg") == 0)
        slot = &t->neg;
    else if (strncmp(field, "hs:", 3) == 0 && (b = bucket_of_name(field + 3)) >= 0)
        slot = &t->hs[b];
    else if (strncmp(field, "h:", 2) == 0 && (b = bucket_of_name(field + 2)) >= 0)
        slot = &t->h[b];
    else if (strncmp(field, "t:", 2) == 0 && field[2])
        slot = tier_slot(t, field + 2);
    if (!slot)
        goto unknown;
    *slot += v;
    return 0;
unknown:
    t->unknown++;
    return -EINVAL;
}

void gw_agg_tot_add_wallet(struct gw_agg_tot *t, int64_t bal, const char *tier)
{
    unsigned b = gw_agg_bucket(bal);

    t->liab += bal;
    if (bal < 0)
        t->neg += bal;
    t->h[b]++;
    t->hs[b] += bal;
    if (tier && *tier) {
        int64_t *m = tier_slot(t, tier);
        if (m)
            (*m)++;
        else
            t->unknown++;
    }
}

void gw_agg_tot_merge(struct gw_agg_tot *a, const struct gw_agg_tot *b)
{
    a->liab += b->liab;
    a->neg += b->neg;
    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++) {
        a->h[i] += b->h[i];
        a->hs[i] += b->hs[i];
    }
    for (unsigned i = 0; i < b->ntiers; i++) {
        int64_t *m = tier_slot(a, b->tier[i]);
        if (m)
            *m += b->members[i];
        else
            a->unknown++;
    }
    a->unknown += b->unknown;
}

int64_t gw_agg_tot_wallets(const struct gw_agg_tot *t)
{
    int64_t n = 0;

    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++)
        n += t->h[i];
    return n;
}

static int64_t tier_get(const struct gw_agg_tot *t, const char *name)
{
    for (unsigned i = 0; i < t->ntiers; i++)
        if (strcmp(t->tier[i], name) == 0)
            return t->members[i];
    return 0;
}

static unsigned diff1(const char *label, const char *field, int64_t want, int64_t got, FILE *out)
{
    if (want == got)
        return 0;
    if (out)
        fprintf(out, "%s %s stored %" PRId64 " recomputed %" PRId64 "\n", label, field, got, want);
    return 1;
}

unsigned gw_agg_tot_diff(const struct gw_agg_tot *want, const struct gw_agg_tot *got,
                         const char *label, FILE *out)
{
    unsigned n = 0;
    char f[GW_AGG_NAME_MAX + 4], b[4];

    n += diff1(label, "liab", want->liab, got->liab, out);
    n += diff1(label, "neg", want->neg, got->neg, out);
    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++) {
        gw_agg_bucket_name(i, b);
        snprintf(f, sizeof(f), "h:%s", b);
        n += diff1(label, f, want->h[i], got->h[i], out);
        snprintf(f, sizeof(f), "hs:%s", b);
        n += diff1(label, f, want->hs[i], got->hs[i], out);
    }
    /* every tier named on either side */
    for (unsigned i = 0; i < want->ntiers; i++) {
        snprintf(f, sizeof(f), "t:%s", want->tier[i]);
        n += diff1(label, f, want->members[i], tier_get(got, want->tier[i]), out);
    }
    for (unsigned i = 0; i < got->ntiers; i++) {
        bool seen = false;
        for (unsigned j = 0; j < want->ntiers && !seen; j++)
            seen = strcmp(want->tier[j], got->tier[i]) == 0;
        if (!seen) {
            snprintf(f, sizeof(f), "t:%s", got->tier[i]);
            n += diff1(label, f, 0, got->members[i], out);
        }
    }
    return n;
}

int gw_agg_flows_add(struct gw_agg_flows *f, const char *field, const char *value)
{
    int64_t v;

    if (parse_i64(value, &v) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < f->n; i++) {
        if (strcmp(f->name[i], field) == 0) {
            f->v[i] += v;
            return 0;
        }
    }
    if (f->n >= GW_AGG_FIELDS || strlen(field) >= GW_AGG_NAME_MAX) {
        f->dropped++;
        return 0;
    }
    snprintf(f->name[f->n], GW_AGG_NAME_MAX, "%s", field);
    f->v[f->n++] = v;
    return 0;
}

int64_t gw_agg_flows_get(const struct gw_agg_flows *f, const char *field)
{
    for (unsigned i = 0; i < f->n; i++)
        if (strcmp(f->name[i], field) == 0)
            return f->v[i];
    return 0;
}

int64_t gw_agg_flows_prefix_sum(const struct gw_agg_flows *f, const char *prefix)
{
    int64_t s = 0;
    size_t n = strlen(prefix);

    for (unsigned i = 0; i < f->n; i++)
        if (strncmp(f->name[i], prefix, n) == 0)
            s += f->v[i];
    return s;
}

int64_t gw_agg_top_share_ppm(const struct gw_agg_tot *t, unsigned top_pct)
{
    int64_t wallets = gw_agg_tot_wallets(t), total = 0;
    long double top = 0;

    if (top_pct < 1 || top_pct > 100 || wallets <= 0)
        return 0;
    for (unsigned i = 2; i < GW_AGG_BUCKETS; i++)
        total += t->hs[i];
    if (total <= 0)
        return 0;
    /* the top wallets: ceil(wallets x pct / 100), as the console counted them from balances */
    int64_t left = (wallets * (int64_t)top_pct + 99) / 100;
    for (unsigned i = GW_AGG_BUCKETS - 1; i >= 2 && left > 0; i--) {
        if (t->h[i] <= 0)
            continue;
        if (t->h[i] <= left) {
            top += (long double)t->hs[i];
            left -= t->h[i];
        } else {
            top += (long double)t->hs[i] * (long double)left / (long double)t->h[i];
            left = 0;
        }
    }
    /* wallets at 0 or below hold nothing: the rest of the 20 % adds 0 */
    return (int64_t)(top * 1000000.0L / (long double)total + 0.5L);
}

int gw_agg_money(int64_t points, uint32_t point_value_micro, char *out, size_t cap)
{
    /* |points| <= 10^12 per wallet; a sum of 20 M of them x 10^9 could pass 2^63: split */
    bool neg = points < 0;
    uint64_t p = neg ? (uint64_t)0 - (uint64_t)points : (uint64_t)points;
    uint64_t hi = (p / 1000000u) * point_value_micro; /* whole units from the millions */
    uint64_t lo = (p % 1000000u) * point_value_micro; /* < 10^6 x 2^32 */
    uint64_t units = hi + lo / 1000000u, micro = lo % 1000000u;
    int n = snprintf(out, cap, "%s%" PRIu64 ".%06" PRIu64, neg && (units || micro) ? "-" : "",
                     units, micro);

    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
