/*
 * cat_catalog.c - the gift catalogue: the JSON file staff edit (deploy/catalog.json), validated
 * strictly with errors naming the JSON path; immutable refcounted versions; the store that switches
 * versions atomically, keeps the old ones alive for redemptions in flight, and holds the per-item
 * kill switches; the price-integrity guard.
 *
 * Why versions are refcounted: a subscriber sees "1 GB - 500 pts" on a menu, then confirms a few
 * seconds later. If staff publish a new price in between, the debit must still be the 500 shown
 * (and checked against that version), so the menu takes a reference to the version it displayed
 * and the redemption drops it when done. The store itself holds one reference, on the current
 * version only.
 *
 * Ownership: cat_catalog_parse/_load_file return a version with one reference for the caller;
 * every string of every item is owned by the version. struct cat_store is owned by the gateway;
 * it links the versions it has seen while they are alive (weak links: a version's last unref
 * unlinks it) so cat_store_find_version() can find the version a redemption recorded.
 * Single-threaded (the event loop): refcounts are plain integers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_priv.h"
#include "catalog.h"
#include "gw_core.h"

#define CATALOG_FILE_MAX (4u << 20)
#define DAILY_MAX INT64_C(1000000000) /* stock and limits: far above any real day */
#define LOG_CAT "catalog"

struct cat_catalog {
    unsigned refs;
    char version[CAT_ID_MAX];
    struct cat_item *items; /* file order */
    size_t n_items;
    size_t *by_id;            /* indexes into items, sorted by id, for lookups */
    struct cat_store *store;  /* the store that lists this version while alive, or NULL */
    struct cat_catalog *next; /* in store->alive */
};

struct cat_store {
    struct cat_catalog *current; /* holds one reference */
    struct cat_catalog *alive;   /* every version swapped in and still referenced */
    unsigned n_alive;
    char killed[CAT_MAX_ITEMS][CAT_ID_MAX];
    unsigned n_killed;
};

/* NULL-terminated: also the allowed keys of "names" and "descriptions" (cat_jkeys) */
static const char *const lang_names[CAT_LANG__COUNT + 1] = {"ar", "fr", "en", "fa", NULL};
static const char *const category_names[CAT_CATEGORY__COUNT] = {"data", "voice", "sms", "voucher",
                                                                "charity"};
static const char *const fulfil_names[] = {"provisioning", "voucher", "charity"};

const char *cat_lang_name(enum cat_lang lang)
{
    return (unsigned)lang < CAT_LANG__COUNT ? lang_names[lang] : "?";
}

const char *cat_category_name(enum cat_category cat)
{
    return (unsigned)cat < CAT_CATEGORY__COUNT ? category_names[cat] : "?";
}

const char *cat_fulfil_type_name(enum cat_fulfil_type type)
{
    return (unsigned)type < CAT_ARRAY_LEN(fulfil_names) ? fulfil_names[type] : "?";
}

/* ---------------------------------------------------------------- versions */

static void catalog_destroy(struct cat_catalog *c)
{
    for (size_t i = 0; i < c->n_items; i++) {
        for (int l = 0; l < CAT_LANG__COUNT; l++) {
            free((char *)c->items[i].name[l]);
            free((char *)c->items[i].description[l]);
        }
    }
    free(c->items);
    free(c->by_id);
    free(c);
}

struct cat_catalog *cat_catalog_ref(struct cat_catalog *c)
{
    c->refs++;
    return c;
}

void cat_catalog_unref(struct cat_catalog *c)
{
    if (!c)
        return;
    if (--c->refs > 0)
        return;
    if (c->store) {
        struct cat_catalog **pp = &c->store->alive;

        while (*pp && *pp != c)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = c->next;
            c->store->n_alive--;
        }
        GW_LOGI(LOG_CAT, "catalogue version %s released", c->version);
    }
    catalog_destroy(c);
}

const char *cat_catalog_version(const struct cat_catalog *c)
{
    return c->version;
}

size_t cat_catalog_count(const struct cat_catalog *c)
{
    return c->n_items;
}

const struct cat_item *cat_catalog_item_at(const struct cat_catalog *c, size_t i)
{
    return i < c->n_items ? &c->items[i] : NULL;
}

const struct cat_item *cat_catalog_find(const struct cat_catalog *c, const char *id)
{
    size_t lo = 0, hi = c->n_items;

    if (!id)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->items[c->by_id[mid]].id, id);

        if (cmp == 0)
            return &c->items[c->by_id[mid]];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool item_eq(const struct cat_item *a, const struct cat_item *b)
{
    const struct cat_fulfil *fa = &a->fulfil, *fb = &b->fulfil;

    for (int l = 0; l < CAT_LANG__COUNT; l++) {
        if (!str_eq(a->name[l], b->name[l]) || !str_eq(a->description[l], b->description[l]))
            return false;
    }
    return str_eq(a->id, b->id) && a->category == b->category && a->price == b->price &&
           str_eq(a->tier, b->tier) && a->stock_per_day == b->stock_per_day &&
           a->limit_per_day == b->limit_per_day && a->valid_from == b->valid_from &&
           a->valid_to == b->valid_to && a->enabled == b->enabled && fa->type == fb->type &&
           str_eq(fa->kind, fb->kind) && fa->quantity == fb->quantity &&
           str_eq(fa->unit, fb->unit) && str_eq(fa->pool, fb->pool) &&
           str_eq(fa->cause, fb->cause) && a->cohorts == b->cohorts &&
           a->opening_minutes == b->opening_minutes && a->n_cohort_tiers == b->n_cohort_tiers &&
           memcmp(a->cohort_tiers, b->cohort_tiers, sizeof(a->cohort_tiers)) == 0 &&
           memcmp(&a->draw, &b->draw, sizeof(a->draw)) == 0;
}

bool cat_catalog_same_items(const struct cat_catalog *a, const struct cat_catalog *b)
{
    if (a->n_items != b->n_items)
        return false;
    for (size_t i = 0; i < a->n_items; i++) {
        if (!item_eq(&a->items[i], &b->items[i]))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- parsing */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    }
    return n;
}

static int enum_index(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    }
    return -1;
}

/* "names" / "descriptions": exactly the four languages, each a string. */
static int parse_texts(struct cat_jctx *c, json_t *item, const char *ipath, const char *key,
                       size_t max_chars, const char **out)
{
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];
    json_t *obj = json_object_get(item, key);
    int rc;

    cat_jpath_key(p, sizeof(p), ipath, key);
    if (!obj)
        return cat_jfail(c, p, "required (an object with ar, fr, en and fa)");
    if (!json_is_object(obj))
        return cat_jfail(c, p, "must be an object with ar, fr, en and fa");
    if ((rc = cat_jkeys(c, obj, p, lang_names)) < 0)
        return rc;
    for (int l = 0; l < CAT_LANG__COUNT; l++) {
        const char *s;

        if ((rc = cat_jstring(c, obj, p, lang_names[l], true, 0, &s)) < 0)
            return rc;
        if (utf8_chars(s) > max_chars)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, lang_names[l]),
                             "longer than %zu characters", max_chars);
        out[l] = strdup(s);
        if (!out[l])
            return -ENOMEM;
    }
    return 0;
}

static int parse_id(struct cat_jctx *c, json_t *obj, const char *path, const char *key,
                    bool required, char *dst, size_t dstlen)
{
    char p[CAT_PATH_LEN];
    const char *s;
    int rc;

    if ((rc = cat_jstring(c, obj, path, key, required, dstlen - 1, &s)) < 0)
        return rc;
    if (!s)
        return 0;
    if (!cat_name_ok(s))
        return cat_jfail(c, cat_jpath_key(p, sizeof(p), path, key),
                         "letters, digits, \"_\", \"-\" and \".\" only");
    cat_copy(dst, dstlen, s);
    return 0;
}

/* An optional positive integer up to max; absent leaves *out at 0. */
static int parse_count(struct cat_jctx *c, json_t *obj, const char *path, const char *key,
                       bool required, int64_t max, const char *absent_hint, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    char p[CAT_PATH_LEN];

    cat_jpath_key(p, sizeof(p), path, key);
    if (!v) {
        if (required)
            return cat_jfail(c, p, "required");
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return cat_jfail(c, p, "must be a positive integer%s", absent_hint);
    if (json_integer_value(v) > max)
        return cat_jfail(c, p, "must be at most %" PRId64, max);
    *out = json_integer_value(v);
    return 0;
}

static int parse_date_key(struct cat_jctx *c, json_t *obj, const char *path, const char *key,
                          int32_t *out)
{
    char p[CAT_PATH_LEN];
    const char *s;
    int rc;

    if ((rc = cat_jstring(c, obj, path, key, false, 10, &s)) < 0)
        return rc;
    if (s && cat_parse_date(s, out) < 0)
        return cat_jfail(c, cat_jpath_key(p, sizeof(p), path, key), "must be a date YYYY-MM-DD");
    return 0;
}

/* The units a provisioning kind can be asked in, for messages. */
static const char *units_of(const char *kind)
{
    if (strcmp(kind, "data") == 0)
        return "MB or GB";
    return strcmp(kind, "voice") == 0 ? "min or sec" : "sms";
}

/* What each category must be fulfilled with, for messages. */
static const char *const fit_hint[CAT_CATEGORY__COUNT] = {
    "type provisioning, kind data", "type provisioning, kind voice", "type provisioning, kind sms",
    "type voucher", "type charity"};

/* The units a provisioning kind can be asked in. */
static bool unit_fits(const char *kind, const char *unit)
{
    if (strcmp(kind, "data") == 0)
        return strcmp(unit, "MB") == 0 || strcmp(unit, "GB") == 0;
    if (strcmp(kind, "voice") == 0)
        return strcmp(unit, "min") == 0 || strcmp(unit, "sec") == 0;
    return strcmp(unit, "sms") == 0;
}

static int parse_fulfil(struct cat_jctx *c, json_t *item, const char *ipath, struct cat_item *it)
{
    static const char *const prov_keys[] = {"type", "kind", "quantity", "unit", NULL};
    static const char *const voucher_keys[] = {"type", "pool", NULL};
    static const char *const charity_keys[] = {"type", "cause", NULL};
    static const char *const kinds[] = {"data", "voice", "sms"};
    struct cat_fulfil *f = &it->fulfil;
    json_t *obj = json_object_get(item, "fulfil");
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];
    const char *type, *s;
    int idx, rc;

    cat_jpath_key(p, sizeof(p), ipath, "fulfil");
    if (!obj)
        return cat_jfail(c, p, "required");
    if (!json_is_object(obj))
        return cat_jfail(c, p, "must be an object");
    if ((rc = cat_jstring(c, obj, p, "type", true, 16, &type)) < 0)
        return rc;
    idx = enum_index(type, fulfil_names, CAT_ARRAY_LEN(fulfil_names));
    if (idx < 0)
        return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "type"),
                         "must be provisioning, voucher or charity");
    f->type = (enum cat_fulfil_type)idx;
    switch (f->type) {
    case CAT_FULFIL_PROVISIONING:
        if ((rc = cat_jkeys(c, obj, p, prov_keys)) < 0 ||
            (rc = cat_jstring(c, obj, p, "kind", true, sizeof(f->kind) - 1, &s)) < 0)
            return rc;
        if (enum_index(s, kinds, CAT_ARRAY_LEN(kinds)) < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "kind"),
                             "must be data, voice or sms");
        cat_copy(f->kind, sizeof(f->kind), s);
        if ((rc = parse_count(c, obj, p, "quantity", true, DAILY_MAX, "", &f->quantity)) < 0 ||
            (rc = cat_jstring(c, obj, p, "unit", true, sizeof(f->unit) - 1, &s)) < 0)
            return rc;
        if (!unit_fits(f->kind, s))
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "unit"), "%s is provisioned in %s",
                             f->kind, units_of(f->kind));
        cat_copy(f->unit, sizeof(f->unit), s);
        break;
    case CAT_FULFIL_VOUCHER:
        if ((rc = cat_jkeys(c, obj, p, voucher_keys)) < 0 ||
            (rc = parse_id(c, obj, p, "pool", true, f->pool, sizeof(f->pool))) < 0)
            return rc;
        break;
    case CAT_FULFIL_CHARITY:
        if ((rc = cat_jkeys(c, obj, p, charity_keys)) < 0 ||
            (rc = parse_id(c, obj, p, "cause", true, f->cause, sizeof(f->cause))) < 0)
            return rc;
        break;
    }
    /* A "data" gift fulfilled with a voucher is a typo, not a product: the category drives the
     * menu and reports, the fulfilment drives what the subscriber actually gets. */
    {
        bool fits;

        switch (it->category) {
        case CAT_CATEGORY_VOUCHER:
            fits = f->type == CAT_FULFIL_VOUCHER;
            break;
        case CAT_CATEGORY_CHARITY:
            fits = f->type == CAT_FULFIL_CHARITY;
            break;
        default:
            fits = f->type == CAT_FULFIL_PROVISIONING &&
                   strcmp(f->kind, category_names[it->category]) == 0;
            break;
        }
        if (!fits)
            return cat_jfail(c, p, "does not fit category %s (needs %s)",
                             category_names[it->category], fit_hint[it->category]);
    }
    return 0;
}

/* "tiers": ["gold", "silver"] of a staggered opening by tier: distinct tier names (the loyalty
 * table's when known), at most CAT_COHORT_TIERS_MAX. */
static int parse_cohort_tiers(struct cat_jctx *c, json_t *obj, const char *p,
                              const struct cat_load_opts *opts, struct cat_item *it)
{
    json_t *arr = json_object_get(obj, "tiers");
    char q[CAT_PATH_LEN], e[CAT_PATH_LEN];
    size_t i;
    json_t *v;

    cat_jpath_key(q, sizeof(q), p, "tiers");
    if (!json_is_array(arr) || json_array_size(arr) < 1 ||
        json_array_size(arr) > CAT_COHORT_TIERS_MAX)
        return cat_jfail(c, q, "must be an array of 1 to %d tier names", CAT_COHORT_TIERS_MAX);
    json_array_foreach (arr, i, v) {
        const char *t = json_string_value(v);
        bool known = !opts || opts->n_tiers == 0;
        cat_jpath_idx(e, sizeof(e), q, i);
        if (!t || !cat_name_ok(t) || strlen(t) >= CAT_NAME_MAX)
            return cat_jfail(c, e, "must be a tier name");
        for (unsigned k = 0; !known && k < opts->n_tiers; k++)
            known = strcmp(opts->tiers[k], t) == 0;
        if (!known)
            return cat_jfail(c, e, "no loyalty tier \"%s\"", t);
        for (unsigned k = 0; k < it->n_cohort_tiers; k++)
            if (strcmp(it->cohort_tiers[k], t) == 0)
                return cat_jfail(c, e, "\"%s\" is listed twice", t);
        cat_copy(it->cohort_tiers[it->n_cohort_tiers++], CAT_NAME_MAX, t);
    }
    return 0;
}

/* "opening": { "mode": "fcfs" } or { "mode": "staggered", "cohorts": N, "minutes": M } or, by
 * tier, { "mode": "staggered", "by": "tier", "tiers": ["gold", "silver"], "minutes": M }. */
static int parse_opening(struct cat_jctx *c, json_t *item, const char *ipath,
                         const struct cat_load_opts *opts, struct cat_item *it)
{
    static const char *const keys[] = {"mode", "cohorts", "minutes", "by", "tiers", NULL};
    const char *by = NULL;
    json_t *obj = json_object_get(item, "opening");
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];
    int64_t n = 0, m = 0;
    const char *mode;
    int rc;

    it->cohorts = 0;
    it->opening_minutes = 0;
    it->n_cohort_tiers = 0;
    memset(it->cohort_tiers, 0, sizeof(it->cohort_tiers));
    memset(&it->draw, 0, sizeof(it->draw));
    if (!obj)
        return 0;
    cat_jpath_key(p, sizeof(p), ipath, "opening");
    if (!json_is_object(obj))
        return cat_jfail(c, p, "must be an object");
    if ((rc = cat_jstring(c, obj, p, "mode", true, 16, &mode)) < 0)
        return rc;
    if (strcmp(mode, "draw") == 0) /* its own keys (cat_draw.c) */
        return cat_draw_parse(c, obj, p, opts, it);
    if ((rc = cat_jkeys(c, obj, p, keys)) < 0)
        return rc;
    if (strcmp(mode, "fcfs") == 0) {
        if (json_object_get(obj, "cohorts") || json_object_get(obj, "minutes") ||
            json_object_get(obj, "by") || json_object_get(obj, "tiers"))
            return cat_jfail(c, p, "cohorts, minutes, by and tiers are for mode staggered only");
        return 0;
    }
    if (strcmp(mode, "staggered") != 0)
        return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "mode"),
                         "must be fcfs, staggered or draw");
    if ((rc = cat_jstring(c, obj, p, "by", false, 8, &by)) < 0)
        return rc;
    if (by && strcmp(by, "tier") == 0) {
        if (json_object_get(obj, "cohorts"))
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "cohorts"),
                             "not with by tier (one cohort per tier listed, then everyone)");
        if ((rc = parse_count(c, obj, p, "minutes", true, 1440, "", &m)) < 0 ||
            (rc = parse_cohort_tiers(c, obj, p, opts, it)) < 0)
            return rc;
        it->cohorts = it->n_cohort_tiers + 1;
        it->opening_minutes = (int32_t)m;
        return 0;
    }
    if (by && strcmp(by, "hash") != 0)
        return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "by"), "must be hash or tier");
    if (json_object_get(obj, "tiers"))
        return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "tiers"), "only with by tier");
    if ((rc = parse_count(c, obj, p, "cohorts", true, CAT_COHORTS_MAX, "", &n)) < 0 ||
        (rc = parse_count(c, obj, p, "minutes", true, 1440, "", &m)) < 0)
        return rc;
    if (n < CAT_COHORTS_MIN)
        return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "cohorts"), "must be at least %d",
                         CAT_COHORTS_MIN);
    it->cohorts = (uint32_t)n;
    it->opening_minutes = (int32_t)m;
    return 0;
}

unsigned cat_cohort(const char *msisdn, unsigned n_cohorts)
{
    uint32_t h = 2166136261u; /* FNV-1a, 32 bits */

    if (!msisdn || n_cohorts < 2)
        return 0;
    for (const unsigned char *b = (const unsigned char *)msisdn; *b; b++) {
        h ^= *b;
        h *= 16777619u;
    }
    /* FNV alone mixes badly: its low bits depend only on the low bits of each digit, its high
     * bits barely on the last digit. MurmurHash3's finaliser spreads every input bit. */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (unsigned)(((uint64_t)h * n_cohorts) >> 32);
}

unsigned cat_cohort_member(const struct cat_item *it, const char *msisdn, const char *tier)
{
    if (!it || it->cohorts < 2)
        return 0;
    if (it->n_cohort_tiers == 0)
        return cat_cohort(msisdn, it->cohorts);
    for (unsigned k = 0; tier && k < it->n_cohort_tiers; k++)
        if (strcmp(it->cohort_tiers[k], tier) == 0)
            return k;
    return it->n_cohort_tiers; /* everyone else: the last cohort */
}

int64_t cat_cohort_release(const struct cat_item *it, const char *msisdn, int64_t opening)
{
    return cat_cohort_release_tier(it, msisdn, NULL, opening);
}

int64_t cat_cohort_release_tier(const struct cat_item *it, const char *msisdn, const char *tier,
                                int64_t opening)
{
    if (!it || it->cohorts < 2 || it->opening_minutes <= 0)
        return opening;
    int64_t k = cat_cohort_member(it, msisdn, tier);
    return opening + k * (int64_t)it->opening_minutes * 60 / it->cohorts;
}

int64_t cat_cohort_held_back(const struct cat_item *it, int64_t opening, int64_t now)
{
    int64_t released = 0;

    if (!it || it->cohorts < 2 || it->opening_minutes <= 0 || it->stock_per_day <= 0)
        return 0;
    for (int64_t k = 0; k < it->cohorts; k++) /* the same slots as cat_cohort_release */
        released += opening + k * (int64_t)it->opening_minutes * 60 / it->cohorts <= now;
    return it->stock_per_day - it->stock_per_day * released / it->cohorts;
}

static int parse_item(struct cat_jctx *c, json_t *v, const char *ipath,
                      const struct cat_load_opts *opts, struct cat_item *it)
{
    static const char *const keys[] = {"id",         "category", "names",         "descriptions",
                                       "price",      "tier",     "stock_per_day", "limit_per_day",
                                       "valid_from", "valid_to", "enabled",       "fulfil",
                                       "opening",    NULL};
    char p[CAT_PATH_LEN];
    const char *s;
    json_t *en;
    int idx, rc;

    if (!json_is_object(v))
        return cat_jfail(c, ipath, "must be an object");
    if ((rc = cat_jkeys(c, v, ipath, keys)) < 0 ||
        (rc = parse_id(c, v, ipath, "id", true, it->id, sizeof(it->id))) < 0 ||
        (rc = cat_jstring(c, v, ipath, "category", true, 16, &s)) < 0)
        return rc;
    idx = enum_index(s, category_names, CAT_CATEGORY__COUNT);
    if (idx < 0)
        return cat_jfail(c, cat_jpath_key(p, sizeof(p), ipath, "category"),
                         "must be data, voice, sms, voucher or charity");
    it->category = (enum cat_category)idx;
    if ((rc = parse_texts(c, v, ipath, "names", CAT_NAME_CHARS_MAX, it->name)) < 0 ||
        (rc = parse_texts(c, v, ipath, "descriptions", CAT_DESC_CHARS_MAX, it->description)) < 0 ||
        (rc = parse_count(c, v, ipath, "price", true, CAT_POINTS_MAX, "", &it->price)) < 0 ||
        (rc = parse_id(c, v, ipath, "tier", true, it->tier, sizeof(it->tier))) < 0)
        return rc;
    if (opts && opts->n_tiers) {
        bool known = false;

        for (unsigned i = 0; i < opts->n_tiers; i++)
            known = known || strcmp(opts->tiers[i], it->tier) == 0;
        if (!known)
            return cat_jfail(c, cat_jpath_key(p, sizeof(p), ipath, "tier"),
                             "no loyalty tier \"%s\"", it->tier);
    }
    if ((rc = parse_count(c, v, ipath, "stock_per_day", false, DAILY_MAX,
                          " (leave it out for no limit)", &it->stock_per_day)) < 0 ||
        (rc = parse_count(c, v, ipath, "limit_per_day", false, DAILY_MAX,
                          " (leave it out for no limit)", &it->limit_per_day)) < 0 ||
        (rc = parse_date_key(c, v, ipath, "valid_from", &it->valid_from)) < 0 ||
        (rc = parse_date_key(c, v, ipath, "valid_to", &it->valid_to)) < 0)
        return rc;
    if (it->valid_from && it->valid_to && it->valid_to < it->valid_from)
        return cat_jfail(c, cat_jpath_key(p, sizeof(p), ipath, "valid_to"), "is before valid_from");
    it->enabled = true;
    en = json_object_get(v, "enabled");
    if (en) {
        if (!json_is_boolean(en))
            return cat_jfail(c, cat_jpath_key(p, sizeof(p), ipath, "enabled"),
                             "must be true or false");
        it->enabled = json_is_true(en);
    }
    if ((rc = parse_opening(c, v, ipath, opts, it)) < 0)
        return rc;
    return parse_fulfil(c, v, ipath, it);
}

static int cmp_by_id(const void *a, const void *b, void *arg)
{
    const struct cat_item *items = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int cmp = strcmp(items[x].id, items[y].id);

    /* ties by file position, so the first duplicate reported is the earliest in the file */
    return cmp ? cmp : (x > y) - (x < y);
}

static int index_ids(struct cat_jctx *c, struct cat_catalog *cat)
{
    size_t dup = SIZE_MAX, first = 0;
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];

    cat->by_id = calloc(cat->n_items, sizeof(*cat->by_id));
    if (!cat->by_id)
        return -ENOMEM;
    for (size_t i = 0; i < cat->n_items; i++)
        cat->by_id[i] = i;
    qsort_r(cat->by_id, cat->n_items, sizeof(*cat->by_id), cmp_by_id, cat->items);
    for (size_t i = 1; i < cat->n_items; i++) {
        size_t a = cat->by_id[i - 1], b = cat->by_id[i];

        if (strcmp(cat->items[a].id, cat->items[b].id) == 0 && (dup == SIZE_MAX || b < dup)) {
            dup = b;
            first = a;
        }
    }
    if (dup == SIZE_MAX)
        return 0;
    cat_jpath_idx(q, sizeof(q), "items", dup);
    return cat_jfail(c, cat_jpath_key(p, sizeof(p), q, "id"),
                     "duplicate id \"%s\" (also items[%zu])", cat->items[dup].id, first);
}

static int catalog_parse(struct cat_jctx *c, const char *text, size_t len,
                         const struct cat_load_opts *opts, struct cat_catalog **out)
{
    static const char *const keys[] = {"version", "items", NULL};
    struct cat_catalog *cat = NULL;
    json_t *root, *items, *v;
    char p[CAT_PATH_LEN];
    size_t i;
    int rc;

    *out = NULL;
    root = cat_jparse(c, text, len);
    if (!root)
        return -EINVAL;
    if (!json_is_object(root)) {
        rc = cat_jfail(c, "(root)", "must be an object");
        goto out;
    }
    cat = calloc(1, sizeof(*cat));
    if (!cat) {
        rc = -ENOMEM;
        goto out;
    }
    cat->refs = 1;
    if ((rc = cat_jkeys(c, root, "", keys)) < 0 ||
        (rc = parse_id(c, root, "", "version", true, cat->version, sizeof(cat->version))) < 0)
        goto out;
    items = json_object_get(root, "items");
    if (!items) {
        rc = cat_jfail(c, "items", "required");
        goto out;
    }
    if (!json_is_array(items) || json_array_size(items) == 0) {
        rc = cat_jfail(c, "items", "must be a non-empty array");
        goto out;
    }
    if (json_array_size(items) > CAT_MAX_ITEMS) {
        rc = cat_jfail(c, "items", "at most %d items", CAT_MAX_ITEMS);
        goto out;
    }
    cat->items = calloc(json_array_size(items), sizeof(*cat->items));
    if (!cat->items) {
        rc = -ENOMEM;
        goto out;
    }
    json_array_foreach (items, i, v) {
        /* counted before parsing so a half-parsed item's strings are freed with the rest */
        cat->n_items++;
        rc = parse_item(c, v, cat_jpath_idx(p, sizeof(p), "items", i), opts, &cat->items[i]);
        if (rc < 0)
            goto out;
    }
    rc = index_ids(c, cat);
out:
    json_decref(root);
    if (rc < 0) {
        if (rc == -ENOMEM && c->err && c->errlen)
            snprintf(c->err, c->errlen, "%s%sout of memory", c->file ? c->file : "",
                     c->file ? ": " : "");
        if (cat)
            catalog_destroy(cat);
        return rc;
    }
    *out = cat;
    return 0;
}

int cat_catalog_parse(const char *text, size_t len, const struct cat_load_opts *opts,
                      struct cat_catalog **out, char *err, size_t errlen)
{
    struct cat_jctx c = {.file = NULL, .err = err, .errlen = errlen};

    return catalog_parse(&c, text, len, opts, out);
}

int cat_catalog_load_file(const char *path, const struct cat_load_opts *opts,
                          struct cat_catalog **out, char *err, size_t errlen)
{
    struct cat_jctx c = {.file = path, .err = err, .errlen = errlen};
    char *text = NULL;
    size_t len;
    int rc;

    *out = NULL;
    rc = cat_read_file(path, CATALOG_FILE_MAX, &text, &len);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    rc = catalog_parse(&c, text, len, opts, out);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------- the store */

struct cat_store *cat_store_new(void)
{
    return calloc(1, sizeof(struct cat_store));
}

void cat_store_free(struct cat_store *s)
{
    struct cat_catalog *c, *next;

    if (!s)
        return;
    /* Versions still held by redemptions outlive the store: detach them first, so that their
     * last unref (after this) does not touch freed memory. */
    for (c = s->alive; c; c = next) {
        next = c->next;
        c->store = NULL;
        c->next = NULL;
    }
    cat_catalog_unref(s->current);
    free(s);
}

int cat_catalog_swap(struct cat_store *s, struct cat_catalog *next)
{
    struct cat_catalog *old;

    if (!s || !next)
        return -EINVAL;
    if (next->store) {
        cat_catalog_unref(next);
        return -EINVAL; /* already swapped into a store */
    }
    for (struct cat_catalog *c = s->alive; c; c = c->next) {
        if (strcmp(c->version, next->version) != 0)
            continue;
        if (!cat_catalog_same_items(c, next)) {
            GW_LOGE(LOG_CAT,
                    "catalogue version %s refused: a different content with that "
                    "version is in use; bump \"version\"",
                    next->version);
            cat_catalog_unref(next);
            return -EEXIST;
        }
        if (c == s->current) {
            cat_catalog_unref(next);
            return -EALREADY;
        }
    }
    next->store = s;
    next->next = s->alive;
    s->alive = next;
    s->n_alive++;
    old = s->current;
    s->current = next;
    GW_LOGN(LOG_CAT, "catalogue version %s is current (%zu items; was %s)", next->version,
            next->n_items, old ? old->version : "none");
    /* The store's reference on the old version goes; redemptions that hold one keep it alive. */
    cat_catalog_unref(old);
    return 0;
}

struct cat_catalog *cat_store_current(struct cat_store *s)
{
    return s->current ? cat_catalog_ref(s->current) : NULL;
}

struct cat_catalog *cat_store_find_version(struct cat_store *s, const char *version)
{
    /* The current version first: after a rollback to identical content it may be listed twice. */
    if (s->current && version && strcmp(s->current->version, version) == 0)
        return cat_catalog_ref(s->current);
    for (struct cat_catalog *c = s->alive; c && version; c = c->next) {
        if (strcmp(c->version, version) == 0)
            return cat_catalog_ref(c);
    }
    return NULL;
}

unsigned cat_store_versions_alive(const struct cat_store *s)
{
    return s->n_alive;
}

/* ---------------------------------------------------------------- guards */

int cat_price_check(const struct cat_catalog *shown, const char *item_id, int64_t debit)
{
    char esc[80];
    const struct cat_item *it = shown ? cat_catalog_find(shown, item_id) : NULL;

    if (!it) {
        GW_LOGE(LOG_CAT, "price integrity: item %s not in catalogue version %s - debit refused",
                item_id ? gw_escape(item_id, strlen(item_id), esc, sizeof(esc)) : "(null)",
                shown ? shown->version : "(none)");
        return -ENOENT;
    }
    if (it->price != debit) {
        GW_LOGE(LOG_CAT,
                "price integrity: item %s version %s costs %" PRId64 " but the debit is %" PRId64
                " - refused",
                it->id, shown->version, it->price, debit);
        return -EPERM;
    }
    return 0;
}

int cat_store_price_check(struct cat_store *s, const char *version, const char *item_id,
                          int64_t debit)
{
    struct cat_catalog *c = cat_store_find_version(s, version);
    char esc[80];
    int rc;

    if (!c) {
        GW_LOGE(LOG_CAT, "price integrity: catalogue version %s is not alive - debit refused",
                version ? gw_escape(version, strlen(version), esc, sizeof(esc)) : "(null)");
        return -ENOENT;
    }
    rc = cat_price_check(c, item_id, debit);
    cat_catalog_unref(c);
    return rc;
}

static int killed_index(const struct cat_store *s, const char *id)
{
    for (unsigned i = 0; i < s->n_killed; i++) {
        if (strcmp(s->killed[i], id) == 0)
            return (int)i;
    }
    return -1;
}

int cat_item_kill(struct cat_store *s, const char *item_id)
{
    if (!item_id || strlen(item_id) >= CAT_ID_MAX || !cat_name_ok(item_id))
        return -EINVAL;
    if (killed_index(s, item_id) >= 0)
        return 0;
    if (s->n_killed >= CAT_MAX_ITEMS)
        return -ENOSPC;
    cat_copy(s->killed[s->n_killed++], CAT_ID_MAX, item_id);
    GW_LOGN(LOG_CAT, "item %s killed: no redemption until revived", item_id);
    return 0;
}

int cat_item_revive(struct cat_store *s, const char *item_id)
{
    int i = item_id ? killed_index(s, item_id) : -1;

    if (i < 0)
        return -ENOENT;
    /* order does not matter: move the last one into the hole */
    if ((unsigned)i != s->n_killed - 1)
        memcpy(s->killed[i], s->killed[s->n_killed - 1], CAT_ID_MAX);
    s->n_killed--;
    GW_LOGN(LOG_CAT, "item %s revived", item_id);
    return 0;
}

bool cat_item_killed(const struct cat_store *s, const char *item_id)
{
    return s && item_id && killed_index(s, item_id) >= 0;
}

const char *cat_item_state_name(enum cat_item_state st)
{
    static const char *const names[] = {"ok",     "unknown", "disabled",
                                        "killed", "not-yet", "expired"};

    return (unsigned)st < CAT_ARRAY_LEN(names) ? names[st] : "?";
}

enum cat_item_state cat_item_check(const struct cat_store *s, const struct cat_catalog *c,
                                   const char *item_id, int32_t today)
{
    const struct cat_item *it = c ? cat_catalog_find(c, item_id) : NULL;

    if (!it)
        return CAT_ITEM_UNKNOWN;
    if (!it->enabled)
        return CAT_ITEM_DISABLED;
    if (cat_item_killed(s, it->id))
        return CAT_ITEM_KILLED;
    if (it->valid_from && today < it->valid_from)
        return CAT_ITEM_NOT_YET;
    if (it->valid_to && today > it->valid_to)
        return CAT_ITEM_EXPIRED;
    return CAT_ITEM_OK;
}

bool cat_tier_meets(const char *required, const char *have, const char *const *tiers,
                    unsigned n_tiers)
{
    int r = -1, h = -1;

    if (!required || !have)
        return false;
    for (unsigned i = 0; i < n_tiers; i++) {
        if (strcmp(tiers[i], required) == 0)
            r = (int)i;
        if (strcmp(tiers[i], have) == 0)
            h = (int)i;
    }
    return r >= 0 && h >= r;
}
