/*
 * cat_draw.c - the seeded, reproducible, weighted draw order (catalog.h, "The draw"). Integer
 * arithmetic only, so the order is the same on every machine and with every libm: the audit can
 * be re-run years later by anyone with the seed and the registrations.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_priv.h"
#include "catalog.h"

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *b = (const unsigned char *)s; *b; b++) {
        h ^= *b;
        h *= 1099511628211ull;
    }
    return h;
}

/* SplitMix64's finaliser: every input bit reaches every output bit (FNV alone does not). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t cat_draw_key(const char *seed, const char *msisdn, uint32_t weight)
{
    uint64_t best = 0;

    if (!seed || !msisdn)
        return 0;
    /* "seed|msisdn|" then j: the separators keep ("1", "23") and ("12", "3") apart */
    uint64_t base = fnv1a(fnv1a(fnv1a(fnv1a(14695981039346656037ull, seed), "|"), msisdn), "|");
    for (uint32_t j = 1; j <= weight; j++) {
        char num[12];
        int n = 0;
        for (uint32_t v = j; v; v /= 10)
            num[n++] = (char)('0' + v % 10);
        uint64_t h = base;
        while (n > 0) {
            h ^= (unsigned char)num[--n];
            h *= 1099511628211ull;
        }
        h = mix64(h);
        if (h > best)
            best = h;
    }
    return best;
}

static int by_key(const void *a, const void *b)
{
    const struct cat_draw_entry *x = a, *y = b;

    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return strcmp(x->msisdn, y->msisdn);
}

int cat_draw_order(const char *seed, struct cat_draw_entry *e, size_t n)
{
    int in = 0;

    if (!seed || (n && !e))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (e[i].weight > CAT_DRAW_WEIGHT_MAX)
            return -EINVAL;
        e[i].msisdn[sizeof(e[i].msisdn) - 1] = '\0';
        e[i].key = cat_draw_key(seed, e[i].msisdn, e[i].weight);
        in += e[i].weight > 0;
    }
    if (n > 1)
        qsort(e, n, sizeof(*e), by_key);
    return in;
}

uint32_t cat_draw_weight(const struct cat_item *it, const char *tier, int64_t since, int64_t now)
{
    uint64_t w = 1;

    for (unsigned k = 0; it && tier && k < it->draw.n_weights; k++)
        if (strcmp(it->draw.weight_tiers[k], tier) == 0)
            w = it->draw.weights[k];
    if (it && it->draw.tenure_per_year && since > 0 && now > since)
        w += (uint64_t)((now - since) / (365 * 86400)) * it->draw.tenure_per_year;
    return w > CAT_DRAW_WEIGHT_MAX ? CAT_DRAW_WEIGHT_MAX : (uint32_t)w;
}

uint64_t cat_draw_digest(const struct cat_draw_entry *e, size_t winners)
{
    uint64_t digest = 14695981039346656037ull;

    for (size_t i = 0; e && i < winners; i++) {
        for (const char *p = e[i].msisdn; *p; p++)
            digest = (digest ^ (unsigned char)*p) * 1099511628211ull;
        digest = (digest ^ '\n') * 1099511628211ull;
    }
    return digest;
}

int cat_draw_audit_json(const char *seed, size_t registered, const struct cat_draw_entry *e,
                        size_t winners, char *out, size_t cap)
{
    size_t off;
    int n;

    if (!seed || !out || strpbrk(seed, "\"\\"))
        return -EINVAL;
    n = snprintf(out, cap,
                 "{\"seed\":\"%s\",\"registered\":%zu,\"winners\":%zu,\"digest\":\"%016" PRIx64
                 "\",\"first\":[",
                 seed, registered, winners, cat_draw_digest(e, winners));
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    off = (size_t)n;
    for (size_t i = 0; i < winners && i < CAT_DRAW_AUDIT_FIRST; i++) {
        n = snprintf(out + off, cap - off, "%s\"%s\"", i ? "," : "", e[i].msisdn);
        if (n < 0 || (size_t)n >= cap - off)
            return -ENOSPC;
        off += (size_t)n;
    }
    if (off + 3 > cap)
        return -ENOSPC;
    memcpy(out + off, "]}", 3);
    return (int)off + 2;
}

static int draw_hours(struct cat_jctx *c, json_t *obj, const char *p, const char *key, int64_t max,
                      int32_t *out)
{
    json_t *v = json_object_get(obj, key);
    char q[CAT_PATH_LEN];

    cat_jpath_key(q, sizeof(q), p, key);
    if (!v)
        return cat_jfail(c, q, "required");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return cat_jfail(c, q, "must be a whole number of hours from 1 to %" PRId64, max);
    *out = (int32_t)json_integer_value(v);
    return 0;
}

int cat_draw_parse(struct cat_jctx *c, json_t *obj, const char *p, const struct cat_load_opts *opts,
                   struct cat_item *it)
{
    static const char *const keys[] = {"mode",    "register_hours",  "claim_hours",
                                       "weights", "tenure_per_year", NULL};
    struct cat_draw_cfg *d = &it->draw;
    char q[CAT_PATH_LEN], e[CAT_PATH_LEN];
    const char *tier;
    json_t *w, *v;
    int rc;

    memset(d, 0, sizeof(*d));
    if ((rc = cat_jkeys(c, obj, p, keys)) < 0 ||
        (rc = draw_hours(c, obj, p, "register_hours", CAT_DRAW_REGISTER_HOURS_MAX,
                         &d->register_hours)) < 0 ||
        (rc = draw_hours(c, obj, p, "claim_hours", CAT_DRAW_CLAIM_HOURS_MAX, &d->claim_hours)) < 0)
        return rc;
    if (it->stock_per_day <= 0)
        return cat_jfail(c, p, "a draw needs stock_per_day (the units drawn each gift day)");
    w = json_object_get(obj, "weights");
    cat_jpath_key(q, sizeof(q), p, "weights");
    if (w && (!json_is_object(w) || json_object_size(w) > 8))
        return cat_jfail(c, q, "must be an object of at most 8 tiers: {\"gold\": 3}");
    json_object_foreach (w, tier, v) {
        bool known = !opts || opts->n_tiers == 0;
        if (cat_jcomment(tier))
            continue;
        cat_jpath_key(e, sizeof(e), q, tier);
        for (unsigned k = 0; !known && k < opts->n_tiers; k++)
            known = strcmp(opts->tiers[k], tier) == 0;
        if (!cat_name_ok(tier) || strlen(tier) >= CAT_NAME_MAX || !known)
            return cat_jfail(c, e, "no loyalty tier \"%.40s\"", tier);
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > CAT_DRAW_WEIGHT_MAX)
            return cat_jfail(c, e, "must be a weight from 1 to %d", CAT_DRAW_WEIGHT_MAX);
        cat_copy(d->weight_tiers[d->n_weights], CAT_NAME_MAX, tier);
        d->weights[d->n_weights++] = (uint32_t)json_integer_value(v);
    }
    v = json_object_get(obj, "tenure_per_year");
    if (v) {
        cat_jpath_key(q, sizeof(q), p, "tenure_per_year");
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > CAT_DRAW_WEIGHT_MAX)
            return cat_jfail(c, q, "must be a weight from 1 to %d added per year of membership",
                             CAT_DRAW_WEIGHT_MAX);
        d->tenure_per_year = (uint32_t)json_integer_value(v);
    }
    d->on = true;
    return 0;
}
