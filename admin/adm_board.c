/*
 * adm_board.c - GET /api/board: the live gift-day board of the staff console (redemptions per
 * minute, stock left per item, fulfilment failures), read-only, from the Redis keys the
 * redemption engine and the fulfilment worker write (catalog/cat_redeem.c, catalog/lua/item.lua,
 * catalog/cat_fulfil.c). Owner: the staff-console engineer.
 *
 * What each figure is, exactly (the console shows these words):
 *   per_minute   entries added to the fulfilment stream cat:fulfil per minute over the last
 *                BOARD_MINUTES minutes, by stream id time: redemptions granted (paid and queued
 *                for fulfilment). At most BOARD_RATE_MAX entries are read (then "capped").
 *   items[]      per catalogue item (the document in cfg:{adm}:catalog) for the gift day:
 *                stock left cat:{ITEM}:s:DAY (absent = nothing reserved yet: the full stock),
 *                reservations by state from cat:{ITEM}:r:DAY (r reserved, c paid, q queued,
 *                x released, f refunded after a failed fulfilment), the kill switch cat:{ITEM}:k.
 *   fulfilment   per consumer group of cat:fulfil: entries delivered and not yet acknowledged
 *                (being fulfilled or waiting for a retry); "refunded" = the items' f states.
 * The gift day is ?day=YYYYMMDD, else the window open now in the stored calendar, else today in
 * the calendar's zone (the loyalty table's zone when no calendar is stored).
 *
 * Shape: one Redis request at a time (adm_priv.h), items one after another (one script each on
 * the item's slot, so it runs on Redis Cluster too). Bounded: BOARD_ITEMS_MAX items, each
 * script reads at most BOARD_SCAN_MAX reservations.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "catalog.h"
#include "gw_core.h"
#include "gw_loyalty.h"

#define BOARD_MINUTES 15
#define BOARD_RATE_MAX 20000
#define BOARD_ITEMS_MAX 256
#define BOARD_SCAN_MAX "50000"

/* "YYYYMMDD" or "YYYY-MM-DD" -> YYYYMMDD, 0 when malformed. */
static int32_t parse_day(const char *s)
{
    int y, m, d;
    char tail;

    if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
        long v = strtol(s, NULL, 10);
        y = (int)(v / 10000);
        m = (int)(v / 100 % 100);
        d = (int)(v % 100);
    } else if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
               s[4] != '-' || s[7] != '-') {
        return 0;
    }
    if (y >= 2000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
        return y * 10000 + m * 100 + d;
    return 0;
}

static void day_text(int32_t day, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", (int)(day / 10000), (int)(day / 100 % 100),
             (int)(day % 100));
}

/* ---------------------------------------------------------------- steps, last first */

static void board_item(struct adm_req *r, const struct redisReply *reply);

static void board_next_item(struct adm_req *r)
{
    json_t *items = json_object_get(r->j1, "items");
    char ks[96], kr[96], kz[96], kk[96];

    if ((size_t)r->n1 >= json_array_size(items)) {
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o);
        return;
    }
    const char *id = json_string_value(json_object_get(json_array_get(items, (size_t)r->n1), "id"));
    snprintf(ks, sizeof(ks), "cat:{%s}:s:%08" PRId64, id, r->n2);
    snprintf(kr, sizeof(kr), "cat:{%s}:r:%08" PRId64, id, r->n2);
    snprintf(kz, sizeof(kz), "cat:{%s}:z", id);
    snprintf(kk, sizeof(kk), "cat:{%s}:k", id);
    const char *argv[] = {ks, kr, kz, kk, BOARD_SCAN_MAX};
    adm_script(r, board_item, ADM_S_BOARD_ITEM, 4, 5, argv);
}

static void board_item(struct adm_req *r, const struct redisReply *reply)
{
    static const char *const names[] = {"left",     "killed",  "reservations", "pending_queue",
                                        "reserved", "paid",    "queued",       "released",
                                        "refunded", "complete"};
    json_t *item = json_array_get(json_object_get(r->j1, "items"), (size_t)r->n1);

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 10) {
        GW_LOGE(ADM_LOG, "board_item: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    for (size_t i = 0; i < 10; i++) {
        long long v =
            reply->element[i]->type == REDIS_REPLY_INTEGER ? reply->element[i]->integer : 0;
        if (i == 1 || i == 9)
            json_object_set_new(item, names[i], json_boolean(v != 0));
        else
            json_object_set_new(item, names[i], json_integer(v));
    }
    /* Stock left: the key appears with the day's first reservation; before, the full stock. */
    json_t *stock = json_object_get(item, "stock_per_day");
    json_t *left = json_object_get(item, "left");
    if (json_integer_value(left) < 0)
        json_object_set_new(item, "left",
                            json_integer_value(stock) > 0 ? json_copy(stock) : json_null());
    if (json_integer_value(stock) == 0)
        json_object_set_new(item, "left", json_null()); /* unlimited */
    json_t *fulfil = json_object_get(r->j1, "fulfilment");
    json_object_set_new(fulfil, "refunded",
                        json_integer(json_integer_value(json_object_get(fulfil, "refunded")) +
                                     reply->element[8]->integer));
    r->n1++;
    board_next_item(r);
}

static void board_groups(struct adm_req *r, const struct redisReply *reply)
{
    json_t *fulfil = json_object_get(r->j1, "fulfilment");
    json_t *groups = json_array();
    long long pending = 0;

    /* An error ("no such key") means no redemption was ever queued: no groups, nothing pending. */
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const struct redisReply *g = reply->element[i];
            const char *name = NULL;
            long long p = 0, consumers = 0;
            if (g->type != REDIS_REPLY_ARRAY)
                continue;
            for (size_t k = 0; k + 1 < g->elements; k += 2) {
                const struct redisReply *key = g->element[k], *v = g->element[k + 1];
                if (key->type != REDIS_REPLY_STRING)
                    continue;
                if (strcmp(key->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
                    name = v->str;
                else if (strcmp(key->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                    p = v->integer;
                else if (strcmp(key->str, "consumers") == 0 && v->type == REDIS_REPLY_INTEGER)
                    consumers = v->integer;
            }
            if (!name)
                continue;
            pending += p;
            json_array_append_new(groups,
                                  json_pack("{s:s, s:I, s:I}", "group", name, "pending",
                                            (json_int_t)p, "consumers", (json_int_t)consumers));
        }
    }
    json_object_set_new(fulfil, "groups", groups);
    json_object_set_new(fulfil, "pending", json_integer(pending));
    json_object_set_new(fulfil, "stream_exists", json_boolean(reply->type == REDIS_REPLY_ARRAY));
    r->n1 = 0;
    board_next_item(r);
}

static void board_rate(struct adm_req *r, const struct redisReply *reply)
{
    int64_t counts[BOARD_MINUTES] = {0};
    int64_t first = r->n1; /* the first minute's start, unix ms */
    json_t *list = json_array();

    if (reply->type != REDIS_REPLY_ARRAY) {
        json_decref(list);
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    size_t n = reply->elements > BOARD_RATE_MAX ? BOARD_RATE_MAX : reply->elements;
    for (size_t i = 0; i < n; i++) {
        const struct redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        int64_t ms = strtoll(e->element[0]->str, NULL, 10); /* "<ms>-<seq>" */
        int64_t m = (ms - first) / 60000;
        if (ms >= first && m < BOARD_MINUTES)
            counts[m]++;
    }
    for (int m = 0; m < BOARD_MINUTES; m++)
        json_array_append_new(list,
                              json_pack("{s:I, s:I}", "minute", (json_int_t)(first + m * 60000),
                                        "count", (json_int_t)counts[m]));
    json_object_set_new(r->j1, "per_minute", list);
    json_object_set_new(r->j1, "per_minute_capped", json_boolean(reply->elements > BOARD_RATE_MAX));
    const char *argv[] = {"XINFO", "GROUPS", CAT_FULFIL_STREAM};
    adm_redis(r, board_groups, 3, argv);
}

int32_t adm_gift_day_now(const struct adm_server *srv, const struct redisReply *reply, bool *open,
                         char *zone, size_t zonelen)
{
    int64_t now = adm_now_ms() / 1000;
    int32_t day = 0;

    *open = false;
    if (zonelen)
        zone[0] = '\0';
    if (reply->type == REDIS_REPLY_STRING) {
        struct cat_calendar_config *cfg = malloc(sizeof(*cfg));
        struct cat_calendar *cal = NULL;
        char err[256];
        if (cfg && cat_calendar_config_parse(reply->str, reply->len, cfg, err, sizeof(err)) == 0 &&
            cat_calendar_new(cfg, srv->cfg.zoneinfo_dir[0] ? srv->cfg.zoneinfo_dir : NULL, &cal,
                             err, sizeof(err)) == 0) {
            struct cat_gift_window w;
            /* A premium tier sees the earliest opening: the board is live from then on. */
            const char *tier = cfg->n_premium_tiers ? cfg->premium_tiers[0] : NULL;
            if (cat_calendar_is_open(cal, now, tier, &w) == 1) {
                *open = true;
                day = w.gift_day;
            } else
                day = cat_tz_local_date(cat_calendar_tz(cal), now);
            if (zonelen)
                snprintf(zone, zonelen, "%s", cat_tz_name(cat_calendar_tz(cal)));
        }
        cat_calendar_free(cal);
        free(cfg);
    }
    return day ? day : gw_local_day(now);
}

static void board_calendar(struct adm_req *r, const struct redisReply *reply)
{
    bool open = false;
    char zone[64] = "";
    int32_t today = adm_gift_day_now(r->srv, reply, &open, zone, sizeof(zone));

    if (!r->n2)
        r->n2 = today;
    char day[16];
    day_text((int32_t)r->n2, day, sizeof(day));
    json_object_set_new(r->j1, "day", json_string(day));
    json_object_set_new(r->j1, "open_now", json_boolean(open));
    json_object_set_new(r->j1, "timezone", zone[0] ? json_string(zone) : json_null());

    /* The last BOARD_MINUTES whole minutes, the current one last. */
    int64_t now_ms = adm_now_ms();
    r->n1 = (now_ms / 60000 - (BOARD_MINUTES - 1)) * 60000;
    char start[32], cnt[24];
    snprintf(start, sizeof(start), "%" PRId64, r->n1);
    snprintf(cnt, sizeof(cnt), "%d", BOARD_RATE_MAX + 1);
    const char *argv[] = {"XRANGE", CAT_FULFIL_STREAM, start, "+", "COUNT", cnt};
    adm_redis(r, board_rate, 6, argv);
}

static void board_catalog(struct adm_req *r, const struct redisReply *reply)
{
    json_t *items = json_array();
    json_t *doc = NULL;

    if (reply->type == REDIS_REPLY_STRING)
        doc = json_loadb(reply->str, reply->len, 0, NULL);
    json_t *src = json_object_get(doc, "items");
    size_t i;
    json_t *it;
    json_array_foreach (src, i, it) {
        const char *id = json_string_value(json_object_get(it, "id"));
        if (!adm_item_id_valid(id) || json_array_size(items) >= BOARD_ITEMS_MAX)
            continue;
        json_t *names = json_object_get(it, "names");
        json_t *en = json_object_get(it, "enabled");
        json_array_append_new(
            items, json_pack("{s:s, s:O, s:I, s:b}", "id", id, "names", names ? names : json_null(),
                             "stock_per_day",
                             (json_int_t)json_integer_value(json_object_get(it, "stock_per_day")),
                             "enabled", !en || json_is_true(en)));
    }
    r->j1 = json_pack("{s:o, s:o, s:I, s:{s:I}}", "catalog",
                      json_string(doc ? "stored" : "not stored"), "items", items, "generated_at",
                      (json_int_t)adm_now_ms(), "fulfilment", "refunded", (json_int_t)0);
    json_decref(doc);
    const char *argv[] = {"HGET", ADM_KEY_GIFTDAYS, "doc"};
    adm_redis(r, board_calendar, 3, argv);
}

void adm_h_board(struct adm_req *r)
{
    const char *d = adm_query(r, "day");

    r->n2 = 0;
    if (d && !(r->n2 = parse_day(d))) {
        adm_reply_error(r, 400, "day", "day must be YYYY-MM-DD or YYYYMMDD");
        return;
    }
    const char *argv[] = {"HGET", ADM_KEY_CATALOG, "doc"};
    adm_redis(r, board_catalog, 3, argv);
}
