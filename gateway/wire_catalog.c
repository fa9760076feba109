/*
 * wire_catalog.c - catalogue <-> USSD adapter of loyaltygw (see wire_catalog.h). Owned by the
 * redemption engineer (issue 4).
 *
 * Ownership: struct wire_catalog owns the store (and through it the catalogue versions), the
 * calendar, the redemption module, its two timers and the stock cache. A redeem hook call owns a
 * small struct hook_ctx until cat_redeem_confirm's callback, which calls the transport's done()
 * and frees it; the ctx holds no pointer to w (free order: gw_redis first, see main.c).
 */
#include "wire_catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_journal.h"
#include "gw_redis.h"

#define LOG_CAT "catalog"
#define UNLIMITED_STOCK 999999 /* what the menu shows for an item without a daily stock */
#define POOL_RETRY_S 5

struct stock_slot {
    int64_t left; /* -1: not read yet (the menu then shows stock_per_day) */
    int32_t day;  /* gift day the value belongs to */
};

struct wire_catalog {
    struct event_base *base;
    struct gw_redis *redis;
    struct cat_store *store;
    struct cat_calendar *cal;
    struct cat_redeem *redeem;
    char dir[512];          /* the config file's folder, for relative names */
    char vouchers_dir[512]; /* resolved */
    struct event *ev_stock, *ev_pools;
    /* Stock cache by item position in the current version; version names which one. */
    char cache_version[CAT_ID_MAX];
    struct stock_slot cache[CAT_MAX_ITEMS];
    unsigned pools_pending; /* pool loads in flight; pools are retried until all succeeded */
    bool pools_loaded;
    uint64_t cache_gen; /* bumped on a swap: replies of an older generation are dropped */
    struct gw_journal *journal; /* the what-if journal (granted redemptions), NULL = off */
};

/* ---------------------------------------------------------------- helpers */

/* A path that does not fit is emptied, never truncated into another file's name: loading ""
 * then fails with a clear error. */
static void resolve(const char *dir, const char *name, char *out, size_t cap)
{
    int n;

    if (name[0] == '\0' || name[0] == '/' || dir[0] == '\0')
        n = snprintf(out, cap, "%s", name);
    else
        n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0';
}

static enum cat_lang lang_of(const char *code)
{
    for (int l = 0; l < CAT_LANG__COUNT; l++)
        if (code && strcmp(code, cat_lang_name((enum cat_lang)l)) == 0)
            return (enum cat_lang)l;
    return CAT_LANG_EN;
}

static int64_t now_s(void)
{
    return gw_clock_now_ms() / 1000;
}

static int load_catalog(struct wire_catalog *w, const struct gw_config *cfg, char *path, char *err,
                        size_t errlen, struct cat_catalog **out)
{
    const char *tiers[GW_MAX_TIERS];
    struct cat_load_opts opts = {.tiers = tiers, .n_tiers = cfg->loyalty.n_tiers};

    for (unsigned i = 0; i < cfg->loyalty.n_tiers && i < GW_MAX_TIERS; i++)
        tiers[i] = cfg->loyalty.tiers[i].name;
    resolve(w->dir, cfg->catalog.file, path, 512);
    return cat_catalog_load_file(path, &opts, out, err, errlen);
}

static void fill_redeem_config(const struct gw_config *cfg, struct cat_redeem_config *rc)
{
    cat_redeem_config_defaults(rc);
    rc->reservation_timeout_s = cfg->catalog.reservation_timeout_s;
    rc->sweep_interval_ms = cfg->catalog.sweep_interval_ms;
    rc->history_len = cfg->ledger.history_len;
    rc->validity_days = cfg->loyalty.points_validity_days;
    rc->validity_months = cfg->loyalty.points_validity_months;
    rc->perk_share_pct = cfg->catalog.perk_share_pct;
    rc->perk_per_day = cfg->catalog.perk_per_day;
    rc->n_tiers = 0;
    for (unsigned i = 0; i < cfg->loyalty.n_tiers && i < 8; i++)
        snprintf(rc->tiers[rc->n_tiers++], CAT_NAME_MAX, "%s", cfg->loyalty.tiers[i].name);
    /* "gold,platinum" (validated by gw_config.c) */
    rc->n_gift_tiers = 0;
    const char *p = cfg->catalog.gift_tiers;
    while (*p && rc->n_gift_tiers < CAT_CAL_MAX_PREMIUM_TIERS) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < CAT_NAME_MAX) {
            memcpy(rc->gift_tiers[rc->n_gift_tiers], p, n);
            rc->gift_tiers[rc->n_gift_tiers++][n] = '\0';
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

/* The gift day stock counts against now: the open window's, else the next one's. */
static int32_t stock_day(const struct wire_catalog *w, int64_t now)
{
    struct cat_gift_status st;

    if (!w->cal || cat_calendar_status(w->cal, now, NULL, &st) < 0)
        return 0;
    if (st.open)
        return st.current.gift_day;
    return st.has_next ? st.next.gift_day : 0;
}

/* ---------------------------------------------------------------- stock cache */

struct stock_req {
    struct wire_catalog *w;
    uint64_t gen;
    unsigned idx;
    int32_t day;
};

static void on_stock(void *arg, int err, const struct redisReply *reply)
{
    struct stock_req *q = arg;
    struct wire_catalog *w = q->w;

    /* -ECANCELED: the client is being freed, w may be gone with it. */
    if (err == 0 && q->gen == w->cache_gen && q->idx < CAT_MAX_ITEMS) {
        if (reply->type == REDIS_REPLY_NIL) {
            w->cache[q->idx].left = -1; /* untouched today: the full daily stock */
            w->cache[q->idx].day = q->day;
        } else if (reply->type == REDIS_REPLY_STRING && reply->len < 24) {
            char buf[24];
            memcpy(buf, reply->str, reply->len);
            buf[reply->len] = '\0';
            w->cache[q->idx].left = strtoll(buf, NULL, 10);
            w->cache[q->idx].day = q->day;
        }
    }
    free(q);
}

static void on_stock_timer(evutil_socket_t fd, short what, void *arg)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c;
    char key[CAT_ID_MAX + 24];

    (void)fd;
    (void)what;
    if (!gw_redis_is_connected(w->redis) || !(c = cat_store_current(w->store)))
        return;
    if (strcmp(w->cache_version, cat_catalog_version(c)) != 0) {
        snprintf(w->cache_version, sizeof(w->cache_version), "%s", cat_catalog_version(c));
        for (unsigned i = 0; i < CAT_MAX_ITEMS; i++)
            w->cache[i] = (struct stock_slot){.left = -1, .day = 0};
        w->cache_gen++;
    }
    int32_t day = stock_day(w, now_s());
    for (size_t i = 0; day && i < cat_catalog_count(c) && i < CAT_MAX_ITEMS; i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        if (it->stock_per_day <= 0 || !it->enabled)
            continue;
        struct stock_req *q = malloc(sizeof(*q));
        if (!q)
            break;
        *q = (struct stock_req){.w = w, .gen = w->cache_gen, .idx = (unsigned)i, .day = day};
        snprintf(key, sizeof(key), "cat:{%s}:s:%08" PRId32, it->id, day);
        const char *argv[] = {"GET", key};
        size_t len[] = {3, strlen(key)};
        if (gw_redis_command(w->redis, 2, argv, len, on_stock, q) < 0) {
            free(q);
            break;
        }
    }
    cat_catalog_unref(c);
}

static int64_t cached_stock(const struct wire_catalog *w, const struct cat_catalog *c, size_t i,
                            const struct cat_item *it)
{
    if (it->stock_per_day <= 0)
        return UNLIMITED_STOCK;
    if (i < CAT_MAX_ITEMS && strcmp(w->cache_version, cat_catalog_version(c)) == 0 &&
        w->cache[i].left >= 0 && w->cache[i].day == stock_day(w, now_s()))
        return w->cache[i].left;
    return it->stock_per_day;
}

/* ---------------------------------------------------------------- voucher pools */

static void on_pool_loaded(void *arg, int err, size_t added)
{
    struct wire_catalog *w = arg;

    if (err == -ECANCELED)
        return;
    w->pools_pending--;
    if (err < 0) {
        GW_LOGE(LOG_CAT, "voucher pool load failed: %s (retrying)", strerror(-err));
        w->pools_loaded = false;
    } else if (added)
        GW_LOGN(LOG_CAT, "voucher pool: %zu new codes loaded", added);
}

static void on_pools_timer(evutil_socket_t fd, short what, void *arg)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c;
    char path[700], err[256];

    (void)fd;
    (void)what;
    if (w->pools_pending || !gw_redis_is_connected(w->redis) || !w->vouchers_dir[0])
        return;
    if (w->pools_loaded)
        return;
    if (!(c = cat_store_current(w->store)))
        return;
    w->pools_loaded = true; /* a failure below or in a callback clears it: retried */
    int32_t today = cat_tz_local_date(cat_calendar_tz(w->cal), now_s());
    for (size_t i = 0; i < cat_catalog_count(c); i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        bool seen = false;
        if (it->fulfil.type != CAT_FULFIL_VOUCHER)
            continue;
        for (size_t j = 0; j < i && !seen; j++) {
            const struct cat_item *o = cat_catalog_item_at(c, j);
            seen = o->fulfil.type == CAT_FULFIL_VOUCHER &&
                   strcmp(o->fulfil.pool, it->fulfil.pool) == 0;
        }
        if (seen)
            continue;
        struct cat_voucher_pool *p = NULL;
        snprintf(path, sizeof(path), "%s/%s.csv", w->vouchers_dir, it->fulfil.pool);
        int rc = cat_voucher_pool_load_file(path, it->fulfil.pool, today, &p, err, sizeof(err));
        if (rc < 0) {
            GW_LOGE(LOG_CAT, "voucher pool %s: %s", it->fulfil.pool, err);
            continue; /* a bad file is not retried every 5 s: fix it and SIGHUP */
        }
        if (cat_redeem_pool_load(w->redeem, p, on_pool_loaded, w) == 0)
            w->pools_pending++;
        else
            w->pools_loaded = false;
        cat_voucher_pool_free(p);
    }
    cat_catalog_unref(c);
}

/* ---------------------------------------------------------------- life */

struct wire_catalog *wire_catalog_new(struct event_base *base, struct gw_redis *redis,
                                      const struct gw_config *cfg, const char *config_path,
                                      char *err, size_t errlen)
{
    struct wire_catalog *w;
    struct cat_catalog *cat = NULL;
    struct cat_redeem_config rc;
    char path[512], tmp[512];
    int e;

    if (err && errlen)
        err[0] = '\0';
    if (!cfg->catalog.file[0])
        return NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->base = base;
    w->redis = redis;
    if (config_path) {
        snprintf(tmp, sizeof(tmp), "%s", config_path);
        snprintf(w->dir, sizeof(w->dir), "%s", dirname(tmp));
    }
    resolve(w->dir, cfg->catalog.vouchers_dir, w->vouchers_dir, sizeof(w->vouchers_dir));
    if (!(w->store = cat_store_new()))
        goto fail;
    if (load_catalog(w, cfg, path, err, errlen, &cat) < 0)
        goto fail;
    cat_catalog_swap(w->store, cat);
    if (!cfg->catalog.giftdays_file[0]) {
        snprintf(err, errlen, "catalog.giftdays_file: required with catalog.file");
        goto fail;
    }
    resolve(w->dir, cfg->catalog.giftdays_file, path, sizeof(path));
    if ((e = cat_calendar_load_file(path, &w->cal, err, errlen)) < 0)
        goto fail;
    fill_redeem_config(cfg, &rc);
    if (!(w->redeem = cat_redeem_new(base, redis, w->store, w->cal, &rc))) {
        snprintf(err, errlen, "redemption: out of memory");
        goto fail;
    }
    struct timeval one = {.tv_sec = 1}, pools = {.tv_sec = POOL_RETRY_S};
    w->ev_stock = event_new(base, -1, EV_PERSIST, on_stock_timer, w);
    w->ev_pools = event_new(base, -1, EV_PERSIST, on_pools_timer, w);
    if (!w->ev_stock || !w->ev_pools || cat_redeem_start_sweeper(w->redeem) < 0) {
        snprintf(err, errlen, "catalog: out of memory");
        goto fail;
    }
    event_add(w->ev_stock, &one);
    event_add(w->ev_pools, &pools);
    event_active(w->ev_pools, EV_TIMEOUT, 0);
    GW_LOGN(LOG_CAT, "catalogue %s (%zu items), gift days in %s, reservations swept after %u s",
            cat_catalog_version(cat), cat_catalog_count(cat), cat_tz_name(cat_calendar_tz(w->cal)),
            rc.reservation_timeout_s);
    return w;
fail:
    if (err && errlen && !err[0])
        snprintf(err, errlen, "catalog: out of memory");
    wire_catalog_free(w);
    return NULL;
}

int wire_catalog_reload(struct wire_catalog *w, const struct gw_config *cfg,
                        const char *config_path, char *err, size_t errlen)
{
    struct cat_catalog *cat = NULL;
    struct cat_calendar *cal = NULL;
    struct cat_redeem_config rc;
    char path[512];
    int e;

    (void)config_path; /* relative names keep the folder of the start-up config */
    if ((e = load_catalog(w, cfg, path, err, errlen, &cat)) < 0)
        return e;
    resolve(w->dir, cfg->catalog.giftdays_file, path, sizeof(path));
    if ((e = cat_calendar_load_file(path, &cal, err, errlen)) < 0) {
        cat_catalog_unref(cat);
        return e;
    }
    e = cat_catalog_swap(w->store, cat); /* takes the reference, even on -EALREADY/-EEXIST */
    if (e == -EEXIST) {
        snprintf(err, errlen, "%s: version already used with other items: bump \"version\"", path);
        cat_calendar_free(cal);
        return e;
    }
    /* The calendar is plain data read synchronously: redemptions in flight already took their
     * gift day, so swapping the pointer between two loop callbacks is atomic enough. */
    cat_redeem_set_calendar(w->redeem, cal);
    cat_calendar_free(w->cal);
    w->cal = cal;
    fill_redeem_config(cfg, &rc);
    cat_redeem_set_config(w->redeem, &rc);
    w->pools_loaded = false; /* new pools or codes: pushed again (idempotent) */
    return 0;
}

/* The staff console's documents (wire_cfgdocs.c): the same validation and the same switch as a
 * file reload, from text read out of Redis. */
int wire_catalog_swap_from_buffer(struct wire_catalog *w, const struct gw_config *cfg,
                                  const char *text, size_t len, char *err, size_t errlen)
{
    const char *tiers[GW_MAX_TIERS];
    struct cat_load_opts opts = {.tiers = tiers, .n_tiers = cfg->loyalty.n_tiers};
    struct cat_catalog *cat = NULL;
    int e;

    for (unsigned i = 0; i < cfg->loyalty.n_tiers && i < GW_MAX_TIERS; i++)
        tiers[i] = cfg->loyalty.tiers[i].name;
    if ((e = cat_catalog_parse(text, len, &opts, &cat, err, errlen)) < 0)
        return e;
    e = cat_catalog_swap(w->store, cat); /* takes the reference */
    if (e == -EEXIST) {
        snprintf(err, errlen, "version already used with other items: bump \"version\"");
        return e;
    }
    w->pools_loaded = false; /* the document may name new pools */
    return e == -EALREADY ? 0 : e;
}

int wire_catalog_set_calendar_from_buffer(struct wire_catalog *w, const char *text, size_t len,
                                          char *err, size_t errlen)
{
    struct cat_calendar_config *cc = malloc(sizeof(*cc)); /* ~10 KiB: not on the stack */
    struct cat_calendar *cal = NULL;
    int e;

    if (!cc)
        return -ENOMEM;
    e = cat_calendar_config_parse(text, len, cc, err, errlen);
    if (e == 0)
        e = cat_calendar_new(cc, NULL, &cal, err, errlen);
    free(cc);
    if (e < 0)
        return e;
    /* as in wire_catalog_reload: plain data, swapped between two loop callbacks */
    cat_redeem_set_calendar(w->redeem, cal);
    cat_calendar_free(w->cal);
    w->cal = cal;
    return 0;
}

struct cat_redeem *wire_catalog_redeem(struct wire_catalog *w)
{
    return w ? w->redeem : NULL;
}

struct cat_store *wire_catalog_store(struct wire_catalog *w)
{
    return w ? w->store : NULL;
}

void wire_catalog_free(struct wire_catalog *w)
{
    if (!w)
        return;
    if (w->ev_stock)
        event_free(w->ev_stock);
    if (w->ev_pools)
        event_free(w->ev_pools);
    cat_redeem_free(w->redeem);
    cat_calendar_free(w->cal);
    cat_store_free(w->store);
    free(w);
}

/* ---------------------------------------------------------------- USSD catalogue provider */

/* Category names per language, in enum cat_category order (ids are the enum + 1). */
static const char *const category_names[CAT_CATEGORY__COUNT][CAT_LANG__COUNT] = {
    [CAT_CATEGORY_DATA] = {"إنترنت", "Internet", "Data", "اینترنت"},
    [CAT_CATEGORY_VOICE] = {"مكالمات", "Appels", "Calls", "مکالمه"},
    [CAT_CATEGORY_SMS] = {"رسائل", "SMS", "SMS", "پیامک"},
    [CAT_CATEGORY_VOUCHER] = {"قسائم", "Bons d'achat", "Vouchers", "کارت هدیه"},
    [CAT_CATEGORY_CHARITY] = {"تبرع", "Dons", "Charity", "خیریه"},
};

/* Whether item i is offered today (enabled, not killed, within its validity). */
static bool offered(const struct wire_catalog *w, const struct cat_catalog *c,
                    const struct cat_item *it)
{
    int32_t today = cat_tz_local_date(cat_calendar_tz(w->cal), now_s());
    return cat_item_check(w->store, c, it->id, today) == CAT_ITEM_OK;
}

static void fill_item(const struct wire_catalog *w, const struct cat_catalog *c, size_t i,
                      const struct cat_item *it, enum cat_lang l, struct ussd_item *out)
{
    memset(out, 0, sizeof(*out));
    out->id = (uint32_t)(i + 1);
    out->category_id = (uint32_t)it->category + 1;
    /* Names are validated UTF-8; a name longer than the field is cut on a character boundary. */
    size_t n = strnlen(it->name[l], sizeof(out->name) - 1);
    while (n > 0 && n < strlen(it->name[l]) && ((unsigned char)it->name[l][n] & 0xC0) == 0x80)
        n--;
    memcpy(out->name, it->name[l], n);
    out->name[n] = '\0';
    out->price = it->price;
    out->stock = cached_stock(w, c, i, it);
    if (out->stock < 0)
        out->stock = 0;
    out->own_window = it->draw.on; /* registration and claims follow the draw (cat_draw_run.c) */
    /* what the confirmation screen will name: the exact version and item (ids and versions are
     * validated [A-Za-z0-9_.-] by the catalogue loader, so they fit the session record) */
    snprintf(out->version, sizeof(out->version), "%s", cat_catalog_version(c));
    snprintf(out->ref, sizeof(out->ref), "%s", it->id);
}

static int op_categories(void *arg, const char *lang, struct ussd_category *out, size_t max,
                         size_t *n)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c = cat_store_current(w->store);
    enum cat_lang l = lang_of(lang);
    bool has[CAT_CATEGORY__COUNT] = {false};

    if (!c)
        return -ENOENT;
    for (size_t i = 0; i < cat_catalog_count(c); i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        if (offered(w, c, it))
            has[it->category] = true;
    }
    *n = 0;
    for (int k = 0; k < CAT_CATEGORY__COUNT && *n < max; k++) {
        if (!has[k])
            continue;
        out[*n].id = (uint32_t)k + 1;
        snprintf(out[*n].name, sizeof(out[*n].name), "%s", category_names[k][l]);
        (*n)++;
    }
    cat_catalog_unref(c);
    return 0;
}

static int op_items(void *arg, const char *lang, uint32_t category_id, struct ussd_item *out,
                    size_t max, size_t *n)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c = cat_store_current(w->store);

    if (!c)
        return -ENOENT;
    *n = 0;
    for (size_t i = 0; i < cat_catalog_count(c) && i < USSD_ITEM_ID_MAX && *n < max; i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        if ((uint32_t)it->category + 1 != category_id || !offered(w, c, it))
            continue;
        fill_item(w, c, i, it, lang_of(lang), &out[(*n)++]);
    }
    cat_catalog_unref(c);
    return 0;
}

static int op_item(void *arg, const char *lang, uint32_t item_id, struct ussd_item *out)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c = cat_store_current(w->store);
    int rc = -ENOENT;

    if (!c)
        return -ENOENT;
    if (item_id >= 1 && item_id <= cat_catalog_count(c) && item_id <= USSD_ITEM_ID_MAX) {
        const struct cat_item *it = cat_catalog_item_at(c, item_id - 1);
        if (offered(w, c, it)) {
            fill_item(w, c, item_id - 1, it, lang_of(lang), out);
            rc = 0;
        } else if (cat_item_killed(w->store, it->id))
            rc = -EAGAIN; /* stopped for now (the breaker or staff): the "frozen" screen */
    }
    cat_catalog_unref(c);
    return rc;
}

static const char *const weekdays[CAT_LANG__COUNT][7] = {
    {"الأحد", "الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"},
    {"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
    {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
    {"یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه"},
};

/* "Wed 02/12 00:00" in the calendar's zone and the dialogue's language. */
static void format_opening(const struct wire_catalog *w, int64_t t, enum cat_lang l, char *out,
                           size_t cap)
{
    struct cat_tm tm;

    if (cat_tz_localtime(cat_calendar_tz(w->cal), t, &tm) < 0) {
        snprintf(out, cap, "%s", "");
        return;
    }
    snprintf(out, cap, "%s %02d/%02d %02d:%02d", weekdays[l][tm.wday % 7], tm.day, tm.mon, tm.hour,
             tm.min);
}

const struct cat_calendar *wire_catalog_calendar(const struct wire_catalog *w)
{
    return w ? w->cal : NULL;
}

void wire_catalog_format_local(const struct wire_catalog *w, int64_t t, const char *lang,
                               char *out, size_t cap)
{
    format_opening(w, t, lang_of(lang), out, cap);
}

static int op_redeem_window(void *arg, const char *lang, const char *tier, bool pass, bool *open,
                            char *next, size_t cap)
{
    struct wire_catalog *w = arg;
    struct cat_gift_status st;
    int64_t now = now_s();
    int rc = cat_calendar_status(w->cal, now, NULL, &st);

    if (rc < 0)
        return rc;
    /* The premium tiers' earlier opening, for their members and for a make-good priority pass
     * (the debit script, catalog/lua/sub.lua, checks the same from the wallet) */
    const struct cat_calendar_config *cc = cat_calendar_config(w->cal);
    if (!st.open && cc->n_premium_tiers > 0 &&
        (pass || (tier && tier[0] && cat_calendar_is_premium(w->cal, tier))) &&
        cat_calendar_is_open(w->cal, now, cc->premium_tiers[0], NULL) == 1)
        st.open = true;
    *open = st.open;
    if (cap)
        next[0] = '\0';
    if (!st.open && st.has_next)
        format_opening(w, st.next.start, lang_of(lang), next, cap);
    return 0;
}

const struct ussd_catalog_ops wire_catalog_ussd_ops = {
    .categories = op_categories,
    .items = op_items,
    .item = op_item,
    .redeem_window = op_redeem_window,
};

/* ---------------------------------------------------------------- the redeem hook */

void wire_catalog_set_journal(struct wire_catalog *w, struct gw_journal *j)
{
    if (w)
        w->journal = j;
}

/* The menu file's outcome names (ussd.h USSD_OUTCOMES) for the redemption module's outcomes: the
 * texts themselves are marketing's, in deploy/ussd-menus.json. */
static const char *outcome_name(enum cat_redeem_outcome o)
{
    switch (o) {
    case CAT_REDEEM_GRANTED:
        return USSD_OUTCOME_GRANTED;
    case CAT_REDEEM_DUPLICATE: /* a repeated confirmation: shown what the first one got */
        return GW_USSD_OUTCOME_DUPLICATE;
    case CAT_REDEEM_CLOSED:
        return "closed";
    case CAT_REDEEM_OUT_OF_STOCK:
    case CAT_REDEEM_NO_CODE: /* the voucher pool is empty: out of stock for the subscriber */
        return "out_of_stock";
    case CAT_REDEEM_BALANCE:
    case CAT_REDEEM_NEGATIVE:
        return "balance";
    case CAT_REDEEM_LIMIT:
        return "limit";
    case CAT_REDEEM_TIER:
        return "tier";
    case CAT_REDEEM_BLOCKED:
        return "blocked";
    case CAT_REDEEM_PRICE_MISMATCH:
        return "price_changed";
    case CAT_REDEEM_GIFT_REFUSED:
        return "gift_refused";
    case CAT_REDEEM_ABANDONED:
        return "expired";
    case CAT_REDEEM_NOT_RELEASED: /* staggered opening: {slot} says when (hook_ctx.slot) */
        return "not_released";
    case CAT_REDEEM_DRAW_REGISTERED:
        return "draw_registered";
    case CAT_REDEEM_DRAW_WON:
        return "draw_won";
    case CAT_REDEEM_DRAW_WAITING:
        return "draw_waiting";
    case CAT_REDEEM_DRAW_LOST:
        return "draw_lost";
    case CAT_REDEEM_DRAW_CLOSED:
        return "draw_closed";
    case CAT_REDEEM_UNAVAILABLE:
    case CAT_REDEEM__COUNT:
        break;
    }
    return "unavailable";
}

#define REDEEM_TRIES 2 /* a confirm step that timed out is retried once with the same rid */

struct hook_ctx {
    struct wire_catalog *w; /* used only to retry after -ETIMEDOUT: the module is alive then
                             * (teardown fails requests with -ECANCELED, never -ETIMEDOUT) */
    gw_ussd_redeem_cb done;
    void *cb_arg;
    unsigned tries;
    char msisdn[CAT_RID_MAX];
    char to[CAT_RID_MAX];
    char version[CAT_ID_MAX];
    char item[CAT_ID_MAX];
    int64_t price;
    char rid[CAT_RID_MAX];
    char lang[8];
    char tier[CAT_NAME_MAX];
    int64_t now;
    bool perk; /* the premium perk's unit (gw_ussd_redeem_req.perk) */
};

static int redeem_start(struct hook_ctx *h);

static void on_redeemed(void *arg, int err, const struct cat_redeem_result *res)
{
    struct hook_ctx *h = arg;
    char mask[GW_MASK_LEN];

    /* Redis did not answer in time: the steps are idempotent by rid, so asking again settles
     * whatever was half-done (or finds it done) - a timeout retry never redeems twice. */
    if (err == -ETIMEDOUT && h->tries < REDEEM_TRIES && redeem_start(h) == 0)
        return;
    /* -EINPROGRESS (paid, a later step failed) is not retried: the redemption went through and
     * its sweeper finishes it; the screen says "processing" at once (gw_ussd.c). */
    if (err == 0)
        GW_LOGI(LOG_CAT, "redeem{%s} %s%s: %s", gw_mask_msisdn(h->msisdn, mask), h->item,
                h->to[0] ? " as a gift" : "", cat_redeem_outcome_name(res->outcome));
    if (err == 0 && res->outcome == CAT_REDEEM_GRANTED && h->w->journal && res->balance >= 0 &&
        strlen(h->msisdn) <= GW_MSISDN_MAX) {
        /* the catalogue's what-if replays what was paid (gw_journal.h, version 2) */
        struct gw_journal_redeem jr = {.commit_ms = gw_clock_now_ms(), .price = res->price,
                                       .balance = res->balance};
        memcpy(jr.msisdn, h->msisdn, strlen(h->msisdn));
        snprintf(jr.item, sizeof(jr.item), "%s", h->item);
        (void)gw_journal_append_redeem(h->w->journal, &jr); /* best effort, counted */
    }
    gw_ussd_redeem_cb done = h->done;
    void *cb_arg = h->cb_arg;
    const char *outcome = err == 0 ? outcome_name(res->outcome) : NULL;
    if (err == 0 && h->perk && res->outcome == CAT_REDEEM_LIMIT)
        outcome = "perk_limit"; /* the perks of the gift day, not the item's limit */
    char slot[48] = "";
    /* the slot the item script compared, in the programme's zone and the dialogue's language */
    if (err == 0 && res->next_open > 0 &&
        (res->outcome == CAT_REDEEM_NOT_RELEASED || res->outcome == CAT_REDEEM_DRAW_REGISTERED ||
         res->outcome == CAT_REDEEM_DRAW_WON))
        format_opening(h->w, res->next_open, lang_of(h->lang), slot, sizeof(slot));
    if (err == 0 && res->outcome == CAT_REDEEM_DRAW_WAITING && res->position > 0)
        snprintf(slot, sizeof(slot), "%" PRId64, res->position);
    free(h);
    done(cb_arg, err, outcome, slot);
}

static int redeem_start(struct hook_ctx *h)
{
    struct cat_redeem_request rq = {
        .msisdn = h->msisdn,
        .beneficiary = h->to,
        .version = h->version,
        .item_id = h->item,
        .price = h->price,
        .rid = h->rid,
        .now = h->now,
        .tier = h->tier,
        .perk = h->perk,
    };
    h->tries++;
    return cat_redeem_confirm(h->w->redeem, &rq, on_redeemed, h);
}

/*
 * The redemption the confirmation screen asked for. Which catalogue version: the one the screen
 * showed when this process still has it (a redemption in flight keeps its version); else - the
 * catalogue was reloaded between the screens - the current one, with the price the screen
 * showed: cat_redeem_confirm's price-integrity guard then refuses (and alerts) when the reload
 * changed the price, so nobody is charged a price they did not read. A screen that named no
 * version or price (a session stored by an older gateway) is refused the same way.
 *
 * The rid is derived once, here, from the session key + the dialogue's start + item + gift day
 * (cat_redeem_rid): a repeated confirmation, a retry or a second gateway derive the same one.
 */
static int hook_redeem(void *arg, const struct gw_ussd_redeem_req *req, gw_ussd_redeem_cb done,
                       void *cb_arg)
{
    struct wire_catalog *w = arg;
    struct cat_catalog *c = NULL;
    const struct cat_item *it = NULL;
    char source[USSD_KEY_MAX + 24];
    int rc = -ENOENT;

    if (!w || !req || !done || !req->msisdn || !req->session_key)
        return -EINVAL;
    struct hook_ctx *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->w = w;
    h->done = done;
    h->cb_arg = cb_arg;
    h->now = now_s();
    if (req->version && req->version[0])
        c = cat_store_find_version(w->store, req->version);
    if (!c)
        c = cat_store_current(w->store);
    if (!c)
        goto fail;
    if (req->item_ref && req->item_ref[0])
        it = cat_catalog_find(c, req->item_ref);
    else if (req->item_id >= 1 && req->item_id <= cat_catalog_count(c))
        it = cat_catalog_item_at(c, req->item_id - 1);
    if (!it) {
        /* the item left the catalogue between the screens: cat_redeem_confirm says unavailable */
        snprintf(h->item, sizeof(h->item), "%s",
                 req->item_ref && req->item_ref[0] ? req->item_ref : "GONE");
    } else
        snprintf(h->item, sizeof(h->item), "%s", it->id);
    snprintf(h->msisdn, sizeof(h->msisdn), "%s", req->msisdn);
    snprintf(h->to, sizeof(h->to), "%s", req->beneficiary ? req->beneficiary : "");
    snprintf(h->lang, sizeof(h->lang), "%s", req->lang ? req->lang : "");
    snprintf(h->tier, sizeof(h->tier), "%s", req->tier ? req->tier : "");
    snprintf(h->version, sizeof(h->version), "%s", cat_catalog_version(c));
    h->price = req->price > 0 ? req->price : 0;
    h->perk = req->perk;
    if (h->price == 0 && !req->perk) { /* (a perk's unit may cost 0: catalog.perk_share_pct) */
        /* no price shown is known: let the guard refuse, as a changed price */
        h->price = it ? it->price + 1 : 1;
    }
    /* the perk's unit is a redemption of its own in the same dialogue */
    snprintf(source, sizeof(source), "%s@%" PRId64 "%s", req->session_key, req->started_ms,
             req->perk ? "+perk" : "");
    /* The gift day exactly as cat_redeem_confirm finds it (the window open now, for everyone or
     * for the premium tiers' earlier opening; else today), so the rid it checks is the one its
     * own derivation would give - and a retry keeps it even across midnight. */
    struct cat_gift_window win = {0};
    const struct cat_calendar_config *cc = cat_calendar_config(w->cal);
    if (cat_calendar_is_open(w->cal, h->now, NULL, &win) == 0 && cc->n_premium_tiers > 0)
        (void)cat_calendar_is_open(w->cal, h->now, cc->premium_tiers[0], &win);
    int32_t day = win.gift_day ? win.gift_day : cat_tz_local_date(cat_calendar_tz(w->cal), h->now);
    rc = cat_redeem_rid(h->msisdn, h->item, day, source, h->rid, sizeof(h->rid));
    if (rc == 0)
        rc = redeem_start(h);
fail:
    cat_catalog_unref(c);
    if (rc < 0)
        free(h);
    return rc;
}

void wire_catalog_redeem_ops(struct wire_catalog *w, struct gw_ussd_ops *out)
{
    memset(out, 0, sizeof(*out));
    out->redeem = hook_redeem;
    out->arg = w;
}
