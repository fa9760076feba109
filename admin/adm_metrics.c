/*
 * adm_metrics.c - loyalty-admin's GET /metrics, /health and /ready. Owner: the operations
 * engineer (issue 11).
 *
 * /metrics is the Prometheus text format: this process (API replies by status, requests in
 * flight, the Redis link) and the gift-day board of GET /api/board (adm_board.c: stock left and
 * reservations by state per item, whether the gift window is open, fulfilment backlog per
 * consumer group), so Grafana shows the stock left next to the gateways' rates. The board is
 * computed by the very same handler (r->prom makes adm_reply_json hand its answer here), so the
 * console and Prometheus cannot disagree. A board that cannot be read (Redis down) still gives
 * the process's families, with loyaltyadmin_board_up 0.
 *
 * None of these three needs a session: the process listens on loopback and the nginx site in
 * front of it does not forward them (deploy/nginx/loyalty-admin.conf).
 */
#include <event2/buffer.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_metrics.h"
#include "gw_redis.h"

#ifndef LGW_VERSION
#define LGW_VERSION "unknown"
#endif

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

bool adm_obs_path(const char *path)
{
    return path && (strcmp(path, "/metrics") == 0 || strcmp(path, "/health") == 0 ||
                    strcmp(path, "/ready") == 0);
}

static bool ready(const struct adm_server *s, char *why, size_t whylen)
{
    if (!gw_redis_is_connected(s->redis)) {
        snprintf(why, whylen, "Redis not connected");
        return false;
    }
    return true;
}

void adm_h_health(struct adm_req *r)
{
    struct evbuffer *b = evbuffer_new();

    if (b)
        evbuffer_add_printf(b, "alive\n");
    adm_reply_text(r, 200, "text/plain; charset=utf-8", b);
    if (b)
        evbuffer_free(b);
}

void adm_h_ready(struct adm_req *r)
{
    struct evbuffer *b = evbuffer_new();
    char why[120];
    bool ok = ready(r->srv, why, sizeof(why));

    if (b)
        evbuffer_add_printf(b, ok ? "ready\n" : "not ready: %s\n", why);
    adm_reply_text(r, ok ? 200 : 503, "text/plain; charset=utf-8", b);
    if (b)
        evbuffer_free(b);
}

void adm_h_metrics(struct adm_req *r)
{
    r->prom = true;
    adm_h_board(r);
}

static void write_process(const struct adm_server *s, struct evbuffer *o)
{
    struct gw_redis_stats rs;
    char code[8], why[120];

    gw_prom_family(o, "loyaltyadmin_build_info", GW_PROM_GAUGE, "always 1; the version as a label");
    gw_prom_sample_u64(o, "loyaltyadmin_build_info", L("version", LGW_VERSION), 1);
    gw_prom_family(o, "loyaltyadmin_ready", GW_PROM_GAUGE, "1 when GET /ready answers 200");
    gw_prom_sample_u64(o, "loyaltyadmin_ready", NULL, ready(s, why, sizeof(why)));
    gw_prom_family(o, "loyaltyadmin_http_replies_total", GW_PROM_COUNTER,
                   "API replies by HTTP status (the console's static files not included)");
    for (int st = 100; st < ADM_STATUS_MAX; st++) {
        if (!s->replies[st])
            continue;
        snprintf(code, sizeof(code), "%d", st);
        gw_prom_sample_u64(o, "loyaltyadmin_http_replies_total", L("code", code), s->replies[st]);
    }
    gw_prom_family(o, "loyaltyadmin_http_in_flight", GW_PROM_GAUGE,
                   "API requests being answered (this scrape included)");
    gw_prom_sample_u64(o, "loyaltyadmin_http_in_flight", NULL, s->in_flight);
    gw_redis_get_stats(s->redis, &rs);
    gw_prom_family(o, "loyaltyadmin_redis_up", GW_PROM_GAUGE, "1 when connected to Redis");
    gw_prom_sample_u64(o, "loyaltyadmin_redis_up", NULL, gw_redis_is_connected(s->redis));
    gw_prom_family(o, "loyaltyadmin_redis_errors_total", GW_PROM_COUNTER,
                   "failed Redis requests by kind");
    gw_prom_sample_u64(o, "loyaltyadmin_redis_errors_total", L("kind", "reply"), rs.errors_reply);
    gw_prom_sample_u64(o, "loyaltyadmin_redis_errors_total", L("kind", "timeout"), rs.timeouts);
    gw_prom_sample_u64(o, "loyaltyadmin_redis_errors_total", L("kind", "not_connected"),
                       rs.not_connected);
    gw_prom_family(o, "loyaltyadmin_redis_reconnects_total", GW_PROM_COUNTER,
                   "connections made after a lost one");
    gw_prom_sample_u64(o, "loyaltyadmin_redis_reconnects_total", NULL,
                       rs.connects > 0 ? rs.connects - 1 : 0);
    gw_prom_family(o, "loyaltyadmin_redis_disconnects_total", GW_PROM_COUNTER, "connections lost");
    gw_prom_sample_u64(o, "loyaltyadmin_redis_disconnects_total", NULL, rs.disconnects);
}

static json_int_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void write_board(json_t *b, struct evbuffer *o)
{
    static const char *const states[] = {"reserved", "paid", "queued", "released", "refunded"};
    const char *day = json_string_value(json_object_get(b, "day"));
    json_t *items = json_object_get(b, "items"), *it;
    size_t i;

    if (!day)
        day = "";
    gw_prom_family(o, "loyaltyadmin_giftday_open", GW_PROM_GAUGE,
                   "1 while the gift window of the board's day is open");
    gw_prom_sample_u64(o, "loyaltyadmin_giftday_open", L("day", day),
                       json_is_true(json_object_get(b, "open_now")));
    gw_prom_family(o, "loyaltyadmin_gift_stock_per_day", GW_PROM_GAUGE,
                   "the catalogue's daily stock per item (0 = unlimited)");
    json_array_foreach (items, i, it) {
        const char *id = json_string_value(json_object_get(it, "id"));
        gw_prom_sample_u64(o, "loyaltyadmin_gift_stock_per_day", L("day", day, "item", id),
                           (uint64_t)num(it, "stock_per_day"));
    }
    gw_prom_family(o, "loyaltyadmin_gift_stock_left", GW_PROM_GAUGE,
                   "stock left for the board's day per item (items with a limited stock)");
    json_array_foreach (items, i, it) {
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *left = json_object_get(it, "left");
        if (json_is_integer(left))
            gw_prom_sample(o, "loyaltyadmin_gift_stock_left", L("day", day, "item", id),
                           (double)json_integer_value(left));
    }
    gw_prom_family(o, "loyaltyadmin_gift_reservations", GW_PROM_GAUGE,
                   "reservations of the board's day per item by state");
    json_array_foreach (items, i, it) {
        const char *id = json_string_value(json_object_get(it, "id"));
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
            gw_prom_sample_u64(o, "loyaltyadmin_gift_reservations",
                               L("day", day, "item", id, "state", states[k]),
                               (uint64_t)num(it, states[k]));
    }
    gw_prom_family(o, "loyaltyadmin_gift_killed", GW_PROM_GAUGE,
                   "1 when the item's kill switch is on");
    json_array_foreach (items, i, it) {
        const char *id = json_string_value(json_object_get(it, "id"));
        gw_prom_sample_u64(o, "loyaltyadmin_gift_killed", L("item", id),
                           json_is_true(json_object_get(it, "killed")));
    }
    json_t *groups = json_object_get(json_object_get(b, "fulfilment"), "groups");
    gw_prom_family(o, "loyaltyadmin_fulfilment_pending", GW_PROM_GAUGE,
                   "fulfilment entries delivered to a consumer group and not acknowledged");
    json_array_foreach (groups, i, it) {
        const char *g = json_string_value(json_object_get(it, "group"));
        gw_prom_sample_u64(o, "loyaltyadmin_fulfilment_pending", L("group", g ? g : ""),
                           (uint64_t)num(it, "pending"));
    }
    json_t *minutes = json_object_get(b, "per_minute");
    json_int_t total = 0;
    json_array_foreach (minutes, i, it)
        total += num(it, "count");
    gw_prom_family(o, "loyaltyadmin_redemptions_queued_15m", GW_PROM_GAUGE,
                   "redemptions queued for fulfilment in the last 15 minutes (the board's rate)");
    gw_prom_sample_u64(o, "loyaltyadmin_redemptions_queued_15m", NULL, (uint64_t)total);
}

void adm_metrics_reply(struct adm_req *r, int status, json_t *obj)
{
    struct evbuffer *o = evbuffer_new();

    r->prom = false;
    if (!o) {
        json_decref(obj);
        adm_reply_error(r, 503, NULL, "out of memory");
        return;
    }
    write_process(r->srv, o);
    gw_prom_family(o, "loyaltyadmin_board_up", GW_PROM_GAUGE,
                   "1 when the gift-day board could be read for this scrape");
    gw_prom_sample_u64(o, "loyaltyadmin_board_up", NULL, status == 200);
    if (status == 200)
        write_board(obj, o);
    json_decref(obj);
    adm_reply_text(r, 200, PROM_CTYPE, o);
    evbuffer_free(o);
}
