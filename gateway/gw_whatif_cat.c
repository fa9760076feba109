/*
 * gw_whatif_cat.c - the catalogue's what-if (gw_whatif_cat.h). Members by MSISDN in an
 * open-addressing table grown by doubling, owned by struct gw_whatif_cat; items in a small array
 * (a catalogue holds at most CAT_MAX_ITEMS; ids not in it are kept up to GW_WHATIF_CAT_ITEMS * 4).
 */
#include "gw_whatif_cat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

#define ITEMS_MAX (GW_WHATIF_CAT_ITEMS * 4)

struct member {
    char msisdn[GW_MSISDN_MAX + 1]; /* "" = free slot */
    int64_t delta; /* points the member keeps (+) or lacks (-) under the draft so far */
    int64_t spent[2]; /* points spent in the window: [0] as journaled, [1] under the draft */
};

struct gw_whatif_cat {
    struct cat_catalog *draft;
    struct member *m;
    size_t cap, used;
    struct gw_whatif_cat_item items[ITEMS_MAX];
    unsigned n_items;
    struct gw_whatif_cat_result sum;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct member *slot(struct member *m, size_t cap, const char *msisdn)
{
    size_t i = (size_t)hash(msisdn) & (cap - 1);
    while (m[i].msisdn[0] && strcmp(m[i].msisdn, msisdn) != 0)
        i = (i + 1) & (cap - 1);
    return &m[i];
}

static int grow(struct gw_whatif_cat *w)
{
    size_t cap = w->cap ? w->cap * 2 : 1024;
    struct member *m = calloc(cap, sizeof(*m));

    if (!m)
        return -ENOMEM;
    for (size_t i = 0; i < w->cap; i++) {
        if (w->m[i].msisdn[0])
            *slot(m, cap, w->m[i].msisdn) = w->m[i];
    }
    free(w->m);
    w->m = m;
    w->cap = cap;
    return 0;
}

struct gw_whatif_cat *gw_whatif_cat_new(struct cat_catalog *draft)
{
    struct gw_whatif_cat *w;

    if (!draft || !(w = calloc(1, sizeof(*w))))
        return NULL;
    w->draft = cat_catalog_ref(draft);
    if (grow(w) < 0) {
        gw_whatif_cat_free(w);
        return NULL;
    }
    return w;
}

void gw_whatif_cat_free(struct gw_whatif_cat *w)
{
    if (!w)
        return;
    cat_catalog_unref(w->draft);
    free(w->m);
    free(w);
}

static struct gw_whatif_cat_item *item_of(struct gw_whatif_cat *w, const char *id)
{
    for (unsigned i = 0; i < w->n_items; i++) {
        if (strcmp(w->items[i].id, id) == 0)
            return &w->items[i];
    }
    if (w->n_items == ITEMS_MAX)
        return NULL; /* more distinct ids than any catalogue holds: totals only */
    struct gw_whatif_cat_item *it = &w->items[w->n_items++];
    memcpy(it->id, id, sizeof(it->id));
    return it;
}

int gw_whatif_cat_feed(struct gw_whatif_cat *w, const struct gw_journal_redeem *r)
{
    struct member *m;

    if ((w->used + 1) * 2 > w->cap && grow(w) < 0)
        return -ENOMEM;
    m = slot(w->m, w->cap, r->msisdn);
    if (!m->msisdn[0]) {
        memcpy(m->msisdn, r->msisdn, sizeof(m->msisdn));
        w->used++;
        w->sum.members++;
    }
    const struct cat_item *ci = cat_catalog_find(w->draft, r->item);
    struct gw_whatif_cat_item *it = item_of(w, r->item);
    w->sum.redemptions++;
    w->sum.spent += r->price;
    m->spent[0] += r->price;
    if (it) {
        it->count++;
        it->price_base = r->price;
        it->price_draft = ci ? ci->price : 0;
    }
    if (!ci) {
        w->sum.gone++;
        return 0;
    }
    w->sum.cost_draft += ci->price;
    /* sub.lua DEBIT: refused when the balance is below the price */
    int64_t before = r->balance + r->price + m->delta;
    if (before < ci->price) {
        w->sum.refused++;
        if (it)
            it->refused++;
        m->delta += r->price; /* not debited under the draft: the member keeps what was paid */
        return 0;
    }
    w->sum.spent_draft += ci->price;
    m->spent[1] += ci->price;
    m->delta += r->price - ci->price;
    return 0;
}

static int by_change(const void *a, const void *b)
{
    const struct gw_whatif_cat_item *x = a, *y = b;
    int64_t dx = llabs((x->price_draft - x->price_base) * (int64_t)x->count),
            dy = llabs((y->price_draft - y->price_base) * (int64_t)y->count);

    if (dx != dy)
        return dx > dy ? -1 : 1;
    return strcmp(x->id, y->id);
}

void gw_whatif_cat_result(const struct gw_whatif_cat *w, struct gw_whatif_cat_result *out)
{
    struct gw_whatif_cat_item sorted[ITEMS_MAX];

    *out = w->sum;
    memcpy(sorted, w->items, sizeof(sorted[0]) * w->n_items);
    qsort(sorted, w->n_items, sizeof(sorted[0]), by_change);
    out->n_items = w->n_items < GW_WHATIF_CAT_ITEMS ? w->n_items : GW_WHATIF_CAT_ITEMS;
    memcpy(out->items, sorted, sizeof(sorted[0]) * out->n_items);
    for (size_t i = 0; i < w->cap; i++) {
        if (w->m[i].msisdn[0])
            gw_whatif_top_offer(out->top, &out->n_top, GW_WHATIF_CAT_TOP, w->m[i].msisdn,
                                w->m[i].spent[0], w->m[i].spent[1]);
    }
}
