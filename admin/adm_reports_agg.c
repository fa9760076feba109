/*
 * adm_reports_agg.c - GET /api/reports/aggregates?from=YYYYMMDD&to=YYYYMMDD: the console's
 * reports from the ledger's per-slot aggregates (docs/data-model.md 6; gateway/gw_agg.h), in time
 * independent of the number of subscribers: (days + 1) x 16,384 HGETALLs of small hashes, sent
 * WAVE at a time on the shared client (a cluster routes each to its master), summed here.
 * Answers {from, to, days: {YYYY-MM-DD: {issued, redeemed, refunded, reversed, expired,
 * adjusted_plus, adjusted_minus, transferred_out, transferred_in, events: {KIND: n},
 * issued_by: {"KIND:channel": points; campaign bonuses "BONUS:<campaign id>"}}},
 * items: {id: {count, points}} (redemptions), wallets, liability, negative, tiers: {name: n}, tier_order, histogram: [{bucket, wallets,
 * points}], top20_ppm, currency, point_value_micro, dlq_waiting, complete: true}.
 *
 * Ownership: one struct agg_run per request, allocated here and freed when the last reply of the
 * last wave has arrived (the request r lives until it is answered, which only happens then).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_agg.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define AGG_MAX_DAYS 92
#define WAVE 1024

struct agg_arg {
    struct agg_run *run;
    int day; /* index into run->flows; -1: the running totals */
};

struct agg_run {
    struct adm_req *r;
    int32_t from, to;
    int ndays;
    unsigned next;   /* the next (key, slot) to send: key = next / GW_SLOTS - 1 (-1 = tot) */
    unsigned total;  /* (ndays + 1) x GW_SLOTS */
    unsigned pending;
    int err;
    struct gw_agg_tot tot;
    struct gw_agg_flows flows[AGG_MAX_DAYS];
    struct agg_arg args[WAVE];
};

static void agg_wave(struct agg_run *a);

static json_t *day_json(const struct gw_agg_flows *f)
{
    json_t *o = json_object(), *ev = json_object(), *by = json_object();

    json_object_set_new(o, "issued", json_integer(gw_agg_flows_prefix_sum(f, "iss:")));
    json_object_set_new(o, "redeemed", json_integer(gw_agg_flows_get(f, "red")));
    json_object_set_new(o, "refunded", json_integer(gw_agg_flows_get(f, "rfd")));
    json_object_set_new(o, "reversed", json_integer(gw_agg_flows_get(f, "rev")));
    json_object_set_new(o, "expired", json_integer(gw_agg_flows_get(f, "exp")));
    json_object_set_new(o, "adjusted_plus", json_integer(gw_agg_flows_get(f, "adj+")));
    json_object_set_new(o, "adjusted_minus", json_integer(gw_agg_flows_get(f, "adj-")));
    json_object_set_new(o, "transferred_out", json_integer(gw_agg_flows_get(f, "xfo")));
    json_object_set_new(o, "transferred_in", json_integer(gw_agg_flows_get(f, "xfi")));
    for (unsigned i = 0; i < f->n; i++) {
        if (strncmp(f->name[i], "n:", 2) == 0)
            json_object_set_new(ev, f->name[i] + 2, json_integer(f->v[i]));
        else if (strncmp(f->name[i], "iss:", 4) == 0)
            json_object_set_new(by, f->name[i] + 4, json_integer(f->v[i]));
    }
    json_object_set_new(o, "events", ev);
    json_object_set_new(o, "issued_by", by);
    return o;
}

/* redemptions per item over the range: ri:<item> (count) and rp:<item> (points) */
static json_t *items_json(const struct agg_run *a)
{
    json_t *items = json_object();

    for (int d = 0; d < a->ndays; d++) {
        const struct gw_agg_flows *f = &a->flows[d];
        for (unsigned i = 0; i < f->n; i++) {
            bool cnt = strncmp(f->name[i], "ri:", 3) == 0, pts = strncmp(f->name[i], "rp:", 3) == 0;
            if (!cnt && !pts)
                continue;
            json_t *it = json_object_get(items, f->name[i] + 3);
            if (!it) {
                it = json_pack("{s:I, s:I}", "count", (json_int_t)0, "points", (json_int_t)0);
                json_object_set_new(items, f->name[i] + 3, it);
            }
            const char *k = cnt ? "count" : "points";
            json_object_set_new(it, k, json_integer(json_integer_value(json_object_get(it, k)) +
                                                    f->v[i]));
        }
    }
    return items;
}

static void agg_reply(struct agg_run *a)
{
    struct adm_req *r = a->r;
    json_t *o = r->j1, *days = json_object(), *tiers = json_object(), *hist = json_array();
    char b[4], d[16];

    r->j1 = NULL;
    for (int i = 0; i < a->ndays; i++) {
        int32_t day = gw_days_add(a->from, i);
        snprintf(d, sizeof(d), "%04d-%02d-%02d", (int)(day / 10000), (int)(day / 100 % 100),
                 (int)(day % 100));
        json_object_set_new(days, d, day_json(&a->flows[i]));
    }
    for (unsigned i = 0; i < a->tot.ntiers; i++)
        json_object_set_new(tiers, a->tot.tier[i], json_integer(a->tot.members[i]));
    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++) {
        if (a->tot.h[i] == 0 && a->tot.hs[i] == 0)
            continue;
        gw_agg_bucket_name(i, b);
        json_array_append_new(hist, json_pack("{s:s, s:I, s:I}", "bucket", b, "wallets",
                                              (json_int_t)a->tot.h[i], "points",
                                              (json_int_t)a->tot.hs[i]));
    }
    json_object_set_new(o, "days", days);
    json_object_set_new(o, "tiers", tiers);
    json_object_set_new(o, "items", items_json(a));
    json_object_set_new(o, "histogram", hist);
    json_object_set_new(o, "wallets", json_integer(gw_agg_tot_wallets(&a->tot)));
    json_object_set_new(o, "liability", json_integer(a->tot.liab));
    json_object_set_new(o, "negative", json_integer(a->tot.neg));
    json_object_set_new(o, "top20_ppm", json_integer(gw_agg_top_share_ppm(&a->tot, 20)));
    json_object_set_new(o, "complete", json_true());
    free(a);
    adm_reply_json(r, 200, o);
}

static void agg_on_reply(void *arg, int err, const struct redisReply *reply)
{
    struct agg_arg *g = arg;
    struct agg_run *a = g->run;

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        if (!a->err)
            a->err = err < 0 ? err : -EPROTO;
    } else {
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            const char *f = reply->element[i]->str, *v = reply->element[i + 1]->str;
            if (g->day < 0)
                gw_agg_tot_add_field(&a->tot, f, v);
            else
                gw_agg_flows_add(&a->flows[g->day], f, v);
        }
    }
    if (--a->pending == 0)
        agg_wave(a);
}

/* Sends the next wave, or answers when every key was read. */
static void agg_wave(struct agg_run *a)
{
    char key[48], tag[GW_SLOT_TAG_MAX];

    if (a->err || a->next >= a->total) {
        struct adm_req *r = a->r;
        int e = a->err;
        if (!e) {
            agg_reply(a);
            return;
        }
        free(a);
        adm_reply_error(r, 503, NULL, "the store did not answer (%s); retry", strerror(-e));
        return;
    }
    unsigned n = 0;
    a->pending = 1; /* held while sending: a reply that fails at once must not end the wave */
    for (; a->next < a->total && n < WAVE; a->next++, n++) {
        int day = (int)(a->next / GW_SLOTS) - 1;
        unsigned slot = a->next % GW_SLOTS;
        gw_slot_tag(slot, tag);
        if (day < 0)
            snprintf(key, sizeof(key), "lg:ag:%s:tot", tag);
        else
            snprintf(key, sizeof(key), "lg:ag:%s:%08" PRId32, tag, gw_days_add(a->from, day));
        struct agg_arg *g = &a->args[n];
        g->run = a;
        g->day = day;
        const char *argv[] = {"HGETALL", key};
        size_t lens[] = {7, strlen(key)};
        a->pending++;
        if (gw_redis_command(a->r->srv->redis, 2, argv, lens, agg_on_reply, g) < 0) {
            a->pending--;
            a->err = -ENOTCONN;
            a->next = a->total;
            break;
        }
    }
    if (--a->pending == 0)
        agg_wave(a);
}

static int day_query(struct adm_req *r, const char *name, int32_t dflt, int32_t *out)
{
    const char *s = adm_query(r, name);
    char *end;

    if (!s) {
        *out = dflt;
        return 0;
    }
    long v = strtol(s, &end, 10);
    if (end == s || *end || !gw_days_valid((int32_t)v))
        return -EINVAL;
    *out = (int32_t)v;
    return 0;
}

/* the dead letters waiting (both streams), then the wave of HGETALLs */
static void agg_dlq_pdu(struct adm_req *r, const struct redisReply *reply)
{
    json_int_t n = json_integer_value(json_object_get(r->j1, "dlq_waiting"));
    n += reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    json_object_set_new(r->j1, "dlq_waiting", json_integer(n));
    struct agg_run *a = (struct agg_run *)(void *)r->text;
    r->text = NULL; /* the wave owns the run from here (freed before r is answered) */
    agg_wave(a);
}

static void agg_dlq(struct adm_req *r, const struct redisReply *reply)
{
    json_object_set_new(r->j1, "dlq_waiting",
                        json_integer(reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0));
    const char *argv[] = {"XLEN", ADM_DLQ_KEY_PDU};
    adm_redis(r, agg_dlq_pdu, 2, argv);
}

static void agg_tiers(struct adm_req *r, const struct redisReply *reply)
{
    adm_tiers_refresh(r->srv, reply);
    json_t *order = json_array();
    for (unsigned i = 0; i < r->srv->cfg.n_tiers; i++)
        json_array_append_new(order, json_string(r->srv->cfg.tiers[i]));
    json_object_set_new(r->j1, "tier_order", order);
    const char *argv[] = {"XLEN", ADM_DLQ_KEY_EVENT};
    adm_redis(r, agg_dlq, 2, argv);
}

void adm_h_reports_agg(struct adm_req *r)
{
    int32_t today = gw_local_day(adm_now_ms() / 1000), from, to;

    if (day_query(r, "to", today, &to) < 0 || day_query(r, "from", to, &from) < 0 || from > to ||
        gw_days_number(to) - gw_days_number(from) >= AGG_MAX_DAYS) {
        adm_reply_error(r, 400, "from", "from and to: local days YYYYMMDD, from <= to, at most %d "
                        "days", AGG_MAX_DAYS);
        return;
    }
    struct agg_run *a = calloc(1, sizeof(*a));
    r->j1 = json_pack("{s:I, s:I, s:s, s:I}", "from", (json_int_t)from, "to", (json_int_t)to,
                      "currency", r->srv->cfg.currency, "point_value_micro",
                      (json_int_t)r->srv->cfg.point_value_micro);
    if (!a || !r->j1) {
        free(a);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    a->r = r;
    a->from = from;
    a->to = to;
    a->ndays = gw_days_number(to) - gw_days_number(from) + 1;
    a->total = (unsigned)(a->ndays + 1) * GW_SLOTS;
    /* r->text holds the run between the first steps (adm_redis chains); the wave owns it after */
    r->text = (char *)(void *)a;
    const char *argv[] = {"HGET", ADM_KEY_LOYALTY, "doc"};
    adm_redis(r, agg_tiers, 3, argv);
}
