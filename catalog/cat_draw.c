/*
 * cat_draw.c - the seeded, reproducible, weighted draw order (catalog.h, "The draw"). Integer
 * arithmetic only, so the order is the same on every machine and with every libm: the audit can
 * be re-run years later by anyone with the seed and the registrations.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
