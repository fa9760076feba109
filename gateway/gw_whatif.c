/*
 * gw_whatif.c - the what-if replay (gw_whatif.h): two open-addressing tables, subscribers by
 * MSISDN and earnings by (MSISDN, ref), both owned by struct gw_whatif and grown by doubling.
 * The per-event work mirrors gateway/lua/commit.lua step by step; where the replay cannot see
 * what the ledger sees (redemptions lowering a day's lot), the comment says so.
 */
#include "gw_whatif.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One subscriber on one side: the wallet fields commit.lua reads for an earning. */
struct wallet {
    int64_t life, rn, rd, net;
    int64_t cpts;      /* points credited on local day cday */
    int32_t cday;
    int32_t lday[2];   /* the two days before cday and what they earned (late events) */
    int64_t lpts[2];
};

struct sub {
    uint64_t key; /* 0 = free slot */
    struct wallet s[2];
};

/* What an event earned on each side, for a later reversal; base < 0: already reversed. */
struct earned {
    uint64_t key; /* 0 = free slot */
    int64_t pts[2];
};

struct gw_whatif {
    struct gw_loyalty t[2]; /* 0 = baseline, 1 = draft */
    char currency[4];
    struct sub *subs;
    size_t n_subs, cap_subs;
    struct earned *refs;
    size_t n_refs, cap_refs;
    uint64_t events;
    int64_t recorded;
    int64_t issued[2], reversed[2], capped[2];
    uint64_t refused[2];
    /* local day by 15-minute slot of the event time: every zone's offset is a multiple of it */
    int64_t day_slot[1024];
    int32_t day_val[1024];
};

/* 64-bit FNV-1a, then a final mix; never 0 (0 marks a free slot). */
static uint64_t hash_bytes(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h ? h : 1;
}

/* An MSISDN of <= 15 digits is its own key: the digits plus its length (leading zeros). */
static uint64_t msisdn_key(const char *m)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; m[n]; n++)
        v = v * 10 + (uint64_t)(m[n] - '0');
    return (v << 4 | n) + 1;
}

static void key_msisdn(uint64_t key, char *out)
{
    uint64_t v = (key - 1) >> 4;
    size_t n = (size_t)((key - 1) & 15);

    out[n] = '\0';
    while (n > 0) {
        out[--n] = (char)('0' + v % 10);
        v /= 10;
    }
}

unsigned gw_whatif_tier(const struct gw_loyalty *t, int64_t life)
{
    unsigned k = 0;

    for (unsigned i = 1; i < t->n_tiers && i < GW_MAX_TIERS; i++) {
        if (life >= t->tiers[i].min_points)
            k = i;
    }
    return k;
}

struct gw_whatif *gw_whatif_new(const struct gw_loyalty *base, const struct gw_loyalty *draft,
                                const char *currency)
{
    struct gw_whatif *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->t[0] = *base;
    w->t[1] = *draft;
    snprintf(w->currency, sizeof(w->currency), "%s", currency ? currency : "");
    w->cap_subs = 256;
    w->cap_refs = 1024;
    w->subs = calloc(w->cap_subs, sizeof(*w->subs));
    w->refs = calloc(w->cap_refs, sizeof(*w->refs));
    for (size_t i = 0; i < sizeof(w->day_slot) / sizeof(w->day_slot[0]); i++)
        w->day_slot[i] = -1;
    if (!w->subs || !w->refs) {
        gw_whatif_free(w);
        return NULL;
    }
    return w;
}

void gw_whatif_free(struct gw_whatif *w)
{
    if (!w)
        return;
    free(w->subs);
    free(w->refs);
    free(w);
}

/* Doubles a table (elem bytes per slot, key first) and re-inserts by hash. */
static int grow(void **tab, size_t *cap, size_t elem)
{
    size_t ncap = *cap * 2;
    char *n = calloc(ncap, elem), *o = *tab;

    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < *cap; i++) {
        uint64_t key;
        memcpy(&key, o + i * elem, sizeof(key));
        if (!key)
            continue;
        size_t j = mix(key) & (ncap - 1);
        for (;; j = (j + 1) & (ncap - 1)) {
            uint64_t k2;
            memcpy(&k2, n + j * elem, sizeof(k2));
            if (!k2)
                break;
        }
        memcpy(n + j * elem, o + i * elem, elem);
    }
    free(o);
    *tab = n;
    *cap = ncap;
    return 0;
}

static struct sub *sub_get(struct gw_whatif *w, const char *msisdn)
{
    uint64_t key = msisdn_key(msisdn);

    if ((w->n_subs + 1) * 2 > w->cap_subs &&
        grow((void **)&w->subs, &w->cap_subs, sizeof(*w->subs)) < 0)
        return NULL;
    size_t i = mix(key) & (w->cap_subs - 1);
    for (; w->subs[i].key; i = (i + 1) & (w->cap_subs - 1)) {
        if (w->subs[i].key == key)
            return &w->subs[i];
    }
    struct sub *s = &w->subs[i];
    s->key = key;
    for (int k = 0; k < 2; k++)
        s->s[k].rd = 1; /* a fresh wallet: rn = 0, rd = 1 */
    w->n_subs++;
    return s;
}

/* The record of (msisdn, ref); create: a free one is claimed (NULL only on ENOMEM). */
static struct earned *ref_get(struct gw_whatif *w, const char *msisdn, const char *ref,
                              bool create)
{
    uint64_t key = mix(hash_bytes(hash_bytes(UINT64_C(0xcbf29ce484222325), msisdn) ^ '|', ref));

    if (create && (w->n_refs + 1) * 2 > w->cap_refs &&
        grow((void **)&w->refs, &w->cap_refs, sizeof(*w->refs)) < 0)
        return NULL;
    size_t i = mix(key) & (w->cap_refs - 1);
    for (; w->refs[i].key; i = (i + 1) & (w->cap_refs - 1)) {
        if (w->refs[i].key == key)
            return &w->refs[i];
    }
    if (!create)
        return NULL;
    w->refs[i].key = key;
    w->n_refs++;
    return &w->refs[i];
}

static int32_t local_day(struct gw_whatif *w, int64_t at)
{
    int64_t slot = at / 900;
    size_t i = (size_t)slot & (sizeof(w->day_slot) / sizeof(w->day_slot[0]) - 1);

    if (w->day_slot[i] != slot) {
        w->day_slot[i] = slot;
        w->day_val[i] = gw_local_day(slot * 900);
    }
    return w->day_val[i];
}

/* commit.lua's earning on one side: tier multiplier and exact remainder (gw_frac_credit), then
 * the daily cap by the event's local day. Returns the points credited. */
static int64_t side_earn(struct gw_whatif *w, int k, struct wallet *s, const struct gw_earn *e,
                         int32_t day)
{
    const struct gw_loyalty *t = &w->t[k];
    int64_t points = 0, used = 0, credited;
    bool newday = true;

    if (gw_frac_credit(e->whole, e->frac_num, e->frac_den,
                       t->tiers[gw_whatif_tier(t, s->life)].pct, &s->rn, &s->rd, &points) < 0) {
        w->refused[k]++;
        return 0;
    }
    if (day == s->cday) {
        used = s->cpts;
    } else if (day < s->cday) {
        /* the ledger reads the day's lot, which redemptions may since have lowered; the replay
         * knows what that day earned */
        newday = false;
        for (int i = 0; i < 2; i++) {
            if (s->lday[i] == day)
                used = s->lpts[i];
        }
    }
    credited = points;
    if (t->daily_cap > 0) {
        int64_t room = t->daily_cap - used;
        if (room < 0)
            room = 0;
        if (credited > room)
            credited = room;
        w->capped[k] += points - credited;
    }
    if (newday) {
        if (day > s->cday) {
            s->lday[1] = s->lday[0];
            s->lpts[1] = s->lpts[0];
            s->lday[0] = s->cday;
            s->lpts[0] = s->cpts;
            s->cpts = 0;
            s->cday = day;
        }
        s->cpts += credited;
    } else {
        for (int i = 0; i < 2; i++) {
            if (s->lday[i] == day)
                s->lpts[i] += credited;
        }
    }
    s->life += credited;
    s->net += credited;
    w->issued[k] += credited;
    return credited;
}

/* commit.lua's reversal: exactly what the original earned comes back; lifetime floors at 0. */
static void side_reverse(struct gw_whatif *w, int k, struct wallet *s, int64_t pts)
{
    s->net -= pts;
    s->life = s->life > pts ? s->life - pts : 0;
    w->reversed[k] += pts;
}

int gw_whatif_feed(struct gw_whatif *w, const struct gw_journal_rec *r)
{
    struct sub *s = sub_get(w, r->msisdn);
    struct earned *e;

    if (!s)
        return -ENOMEM;
    w->events++;
    if (r->outcome == GW_JOURNAL_CREDITED) {
        struct gw_event ev;
        int32_t day = local_day(w, r->at);

        w->recorded += r->points;
        gw_journal_rec_event(r, w->currency, &ev);
        e = ref_get(w, r->msisdn, r->ref, true);
        if (!e)
            return -ENOMEM;
        for (int k = 0; k < 2; k++) {
            struct gw_earn earn;

            e->pts[k] = 0;
            if (gw_loyalty_earn(&w->t[k], &ev, &earn) < 0) {
                w->refused[k]++;
                continue;
            }
            e->pts[k] = side_earn(w, k, &s->s[k], &earn, day);
        }
    } else if (r->outcome == GW_JOURNAL_REVERSED) {
        w->recorded -= r->points;
        e = ref_get(w, r->msisdn, r->orig, false);
        for (int k = 0; k < 2; k++) {
            /* an original before the window: each side takes back what the ledger did */
            int64_t pts = e ? e->pts[k] : r->points;
            if (pts > 0)
                side_reverse(w, k, &s->s[k], pts);
        }
        if (e)
            e->pts[0] = e->pts[1] = 0; /* reversed: a second reversal takes nothing */
    }
    /* voided originals and reversals without effect change nothing, on either side */
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* true if change a ranks before b: larger |draft - base|, then the smaller MSISDN key */
static bool ranks_before(int64_t da, uint64_t ka, int64_t db, uint64_t kb)
{
    return da != db ? da > db : ka < kb;
}

int gw_whatif_spread(const struct gw_loyalty *t, const struct gw_whatif_holding *h, size_t n,
                     struct gw_whatif_side *out)
{
    int64_t *net = malloc((n ? n : 1) * sizeof(*net));
    int64_t total = 0, top = 0;

    if (!net)
        return -ENOMEM;
    memset(out->members, 0, sizeof(out->members));
    for (size_t i = 0; i < n; i++) {
        out->members[gw_whatif_tier(t, h[i].life)]++;
        net[i] = h[i].net > 0 ? h[i].net : 0;
        total += net[i];
    }
    qsort(net, n, sizeof(*net), cmp_desc);
    /* the top 20 %: ceil(n / 5) subscribers */
    for (size_t i = 0; i < (n + 4) / 5; i++)
        top += net[i];
    out->top20_bp = total > 0 ? (uint32_t)((__int128)top * 10000 / total) : 0;
    free(net);
    return 0;
}

int gw_whatif_result(const struct gw_whatif *w, struct gw_whatif_result *out)
{
    struct gw_whatif_holding *h = malloc((w->n_subs ? w->n_subs : 1) * sizeof(*h));
    uint64_t top_key[GW_WHATIF_TOP];

    if (!h)
        return -ENOMEM;
    memset(out, 0, sizeof(*out));
    out->events = w->events;
    out->subscribers = w->n_subs;
    out->recorded = w->recorded;
    for (int k = 0; k < 2; k++) {
        struct gw_whatif_side *side = k ? &out->draft : &out->base;
        size_t n = 0;

        side->issued = w->issued[k];
        side->reversed = w->reversed[k];
        side->capped = w->capped[k];
        side->refused = w->refused[k];
        for (size_t i = 0; i < w->cap_subs; i++) {
            const struct sub *s = &w->subs[i];
            if (s->key)
                h[n++] = (struct gw_whatif_holding){s->s[k].life, s->s[k].net};
        }
        if (gw_whatif_spread(&w->t[k], h, n, side) < 0) {
            free(h);
            return -ENOMEM;
        }
    }
    free(h);
    for (size_t i = 0; i < w->cap_subs; i++) {
        const struct sub *s = &w->subs[i];
        int64_t d;
        unsigned pos;

        if (!s->key)
            continue;
        d = abs64(s->s[1].net - s->s[0].net);
        if (d == 0)
            continue;
        pos = out->n_top;
        while (pos > 0 && ranks_before(d, s->key,
                                       abs64(out->top[pos - 1].draft - out->top[pos - 1].base),
                                       top_key[pos - 1]))
            pos--;
        if (pos >= GW_WHATIF_TOP)
            continue;
        if (out->n_top < GW_WHATIF_TOP)
            out->n_top++;
        memmove(&out->top[pos + 1], &out->top[pos], (out->n_top - 1 - pos) * sizeof(out->top[0]));
        memmove(&top_key[pos + 1], &top_key[pos], (out->n_top - 1 - pos) * sizeof(top_key[0]));
        key_msisdn(s->key, out->top[pos].msisdn);
        out->top[pos].base = s->s[0].net;
        out->top[pos].draft = s->s[1].net;
        top_key[pos] = s->key;
    }
    return 0;
}

void gw_whatif_top_offer(struct gw_whatif_change *top, unsigned *n, unsigned cap,
                         const char *msisdn, int64_t base, int64_t draft)
{
    int64_t d = abs64(draft - base);
    unsigned pos = *n;

    if (d == 0 || cap == 0)
        return;
    while (pos > 0) {
        int64_t e = abs64(top[pos - 1].draft - top[pos - 1].base);
        if (e > d || (e == d && strcmp(top[pos - 1].msisdn, msisdn) < 0))
            break;
        pos--;
    }
    if (pos >= cap)
        return;
    if (*n < cap)
        (*n)++;
    memmove(&top[pos + 1], &top[pos], (*n - 1 - pos) * sizeof(top[0]));
    snprintf(top[pos].msisdn, sizeof(top[pos].msisdn), "%s", msisdn);
    top[pos].base = base;
    top[pos].draft = draft;
}

const char *gw_whatif_tier_of(struct gw_whatif *w, const char *msisdn, int side)
{
    struct sub *s = side == 0 || side == 1 ? sub_get(w, msisdn) : NULL;

    return s ? w->t[side].tiers[gw_whatif_tier(&w->t[side], s->s[side].life)].name : "";
}

/* The slot of msisdn's subscriber, or NULL. */
static const struct sub *sub_find(const struct gw_whatif *w, const char *msisdn)
{
    uint64_t key = msisdn_key(msisdn);

    for (size_t i = mix(key) & (w->cap_subs - 1); w->subs[i].key;
         i = (i + 1) & (w->cap_subs - 1)) {
        if (w->subs[i].key == key)
            return &w->subs[i];
    }
    return NULL;
}

int gw_whatif_holding_of(const struct gw_whatif *w, const char *msisdn, int side,
                         struct gw_whatif_holding *out)
{
    const struct sub *s;

    if (side != 0 && side != 1)
        return -EINVAL;
    if (!(s = sub_find(w, msisdn)))
        return -ENOENT;
    *out = (struct gw_whatif_holding){s->s[side].life, s->s[side].net};
    return 0;
}

int gw_whatif_next(const struct gw_whatif *w, size_t *pos, char *msisdn,
                   struct gw_whatif_holding h[2])
{
    for (; *pos < w->cap_subs; (*pos)++) {
        const struct sub *s = &w->subs[*pos];
        if (!s->key)
            continue;
        key_msisdn(s->key, msisdn);
        for (int k = 0; k < 2; k++)
            h[k] = (struct gw_whatif_holding){s->s[k].life, s->s[k].net};
        (*pos)++;
        return 1;
    }
    return 0;
}
