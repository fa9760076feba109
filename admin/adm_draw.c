/*
 * adm_draw.c - the draw page's read (issue 12 s3): where the draw of an item opened by draw
 * stands on one gift day, from the draw's keys (catalog/lua/draw.lua, docs/data-model.md "Per
 * item: the draw"), for marketing, care and the auditor. Read only: the draw is the gateways'.
 *
 *   GET /api/draws/<ITEM>[?day=YYYYMMDD]   (no day: the item's last published draw)
 *     -> {item, day, registrations, drawn, seed, digest, at, entrants, winners, reached, open,
 *         offers: [{msisdn, rank, state: pending|claimed|expired, deadline, sms_queued}],
 *         rerun: "loyaltyctl draw ITEM DAY SEED WINNERS"}
 *   404 when the item never had a draw and no day is given.
 *
 * The MSISDNs are masked for roles without subscriber data (marketing), whole for care and the
 * auditor, as everywhere in the console. seed and digest let anyone re-run the draw with
 * loyaltyctl and compare. Steps, one Redis request each (the keys share the item's slot):
 * GET :cur (no day) -> HGETALL :m -> HLEN :reg -> HGETALL :w -> LRANGE :o 0 reached-1 ->
 * HKEYS :ob. Scratch: r->s1 the key prefix "cat:{ITEM}:dr:DAY:", r->j1 the reply, r->j2 the
 * offers by whole MSISDN (the same objects as r->j1's "offers"), r->n1 reached.
 * "expired" is an offer whose deadline passed unclaimed: its unit went down the waiting list
 * (or back to the stock when the list was exhausted); sms_queued: the winner's SMS still waits
 * in the draw's outbox (a gateway sends it at its next round).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "catalog.h"

#define KEY_CAP (sizeof(((struct adm_req *)0)->s1) + 8) /* the prefix r->s1 + ":what" */

static bool day_ok(const char *s)
{
    if (!s || strlen(s) != 8 || s[0] == '0')
        return false;
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void key_of(const struct adm_req *r, const char *what, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", r->s1, what);
}

/* The MSISDN as the role may see it: whole, or its last digits (adm_mask_numbers, as every page
 * of the console masks them). */
static json_t *shown(const struct adm_req *r, const char *msisdn)
{
    char tmp[24];
    if (r->role & ADM_ROLES_SUBSCRIBER_DATA)
        return json_string(msisdn);
    snprintf(tmp, sizeof(tmp), "%s", msisdn);
    adm_mask_numbers(tmp);
    return json_string(tmp);
}

static bool bad_reply(struct adm_req *r, const struct redisReply *reply, int type)
{
    if (reply->type == type)
        return false;
    adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
    return true;
}

static const char *field(const struct redisReply *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0 &&
            kv->element[i + 1]->type == REDIS_REPLY_STRING)
            return kv->element[i + 1]->str;
    return NULL;
}

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* ---------------------------------------------------------------- the steps, last first */

static void outbox_done(struct adm_req *r, const struct redisReply *reply)
{
    if (bad_reply(r, reply, REDIS_REPLY_ARRAY))
        return;
    for (size_t i = 0; i < reply->elements; i++) {
        const struct redisReply *m = reply->element[i];
        json_t *o = m->type == REDIS_REPLY_STRING ? json_object_get(r->j2, m->str) : NULL;
        if (o)
            json_object_set_new(o, "sms_queued", json_true());
    }
    adm_reply_json(r, 200, json_incref(r->j1));
}

/* The first `reached` of the draw order: the rank of each offer, in rank order. */
static void order_done(struct adm_req *r, const struct redisReply *reply)
{
    char key[KEY_CAP];

    if (bad_reply(r, reply, REDIS_REPLY_ARRAY))
        return;
    json_t *offers = json_object_get(r->j1, "offers");
    for (size_t i = 0; i < reply->elements; i++) {
        const struct redisReply *m = reply->element[i];
        json_t *o = m->type == REDIS_REPLY_STRING ? json_object_get(r->j2, m->str) : NULL;
        if (!o || json_object_get(o, "rank"))
            continue;
        json_object_set_new(o, "rank", json_integer((json_int_t)i + 1));
        json_array_append(offers, o);
    }
    key_of(r, "ob", key, sizeof(key));
    const char *argv[] = {"HKEYS", key};
    adm_redis(r, outbox_done, 2, argv);
}

static void offers_done(struct adm_req *r, const struct redisReply *reply)
{
    char key[KEY_CAP], stop[24];

    if (bad_reply(r, reply, REDIS_REPLY_ARRAY))
        return;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const struct redisReply *m = reply->element[i], *v = reply->element[i + 1];
        char st = 0;
        long long dl = 0;
        if (m->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            !adm_msisdn_valid(m->str) || sscanf(v->str, "%c,%lld", &st, &dl) != 2)
            continue;
        const char *state = st == 'c' ? "claimed" : st == 'x' ? "expired" : "pending";
        json_t *o = json_pack("{s:o, s:s, s:I, s:b}", "msisdn", shown(r, m->str), "state", state,
                              "deadline", (json_int_t)dl, "sms_queued", 0);
        if (!o || json_object_set_new(r->j2, m->str, o) < 0) {
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
    }
    key_of(r, "o", key, sizeof(key));
    snprintf(stop, sizeof(stop), "%" PRId64, r->n1 - 1);
    const char *argv[] = {"LRANGE", key, "0", stop};
    adm_redis(r, order_done, 4, argv);
}

static void regs_done(struct adm_req *r, const struct redisReply *reply)
{
    char key[KEY_CAP];

    if (bad_reply(r, reply, REDIS_REPLY_INTEGER))
        return;
    json_object_set_new(r->j1, "registrations", json_integer(reply->integer));
    if (!json_is_true(json_object_get(r->j1, "drawn"))) {
        adm_reply_json(r, 200, json_incref(r->j1));
        return;
    }
    key_of(r, "w", key, sizeof(key));
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, offers_done, 2, argv);
}

static void meta_done(struct adm_req *r, const struct redisReply *reply)
{
    char key[KEY_CAP], rerun[200];

    if (bad_reply(r, reply, REDIS_REPLY_ARRAY))
        return;
    const char *seed = field(reply, "seed"), *digest = field(reply, "digest");
    const char *day = json_string_value(json_object_get(r->j1, "day"));
    bool drawn = seed && digest;
    json_object_set_new(r->j1, "drawn", json_boolean(drawn));
    if (drawn) {
        int64_t winners = num(field(reply, "winners"));
        r->n1 = num(field(reply, "next"));
        if (r->n1 < 0)
            r->n1 = 0;
        snprintf(rerun, sizeof(rerun), "loyaltyctl draw %.40s %.8s %.64s %" PRId64,
                 json_string_value(json_object_get(r->j1, "item")), day, seed, winners);
        json_object_set_new(r->j1, "seed", json_string(seed));
        json_object_set_new(r->j1, "digest", json_string(digest));
        json_object_set_new(r->j1, "at", json_integer(num(field(reply, "at"))));
        json_object_set_new(r->j1, "entrants", json_integer(num(field(reply, "entrants"))));
        json_object_set_new(r->j1, "winners", json_integer(winners));
        json_object_set_new(r->j1, "reached", json_integer(r->n1));
        json_object_set_new(r->j1, "open", json_integer(num(field(reply, "open"))));
        json_object_set_new(r->j1, "rerun", json_string(rerun));
    }
    key_of(r, "reg", key, sizeof(key));
    const char *argv[] = {"HLEN", key};
    adm_redis(r, regs_done, 2, argv);
}

/* The day is known (validated): r->s1 and the reply's frame, then the draw's record. */
static void read_day(struct adm_req *r, const char *day)
{
    char key[KEY_CAP];

    snprintf(r->s1, sizeof(r->s1), "cat:{%s}:dr:%s:", r->arg, day);
    r->j1 = json_pack("{s:s, s:s, s:[]}", "item", r->arg, "day", day, "offers");
    r->j2 = json_object();
    if (!r->j1 || !r->j2) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    key_of(r, "m", key, sizeof(key));
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, meta_done, 2, argv);
}

static void cur_done(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type == REDIS_REPLY_NIL) {
        adm_reply_error(r, 404, "item", "no draw was published for this item");
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || !day_ok(reply->str)) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    char day[9];
    snprintf(day, sizeof(day), "%s", reply->str);
    read_day(r, day);
}

void adm_h_draw_get(struct adm_req *r)
{
    const char *day = adm_query(r, "day");
    char key[sizeof(r->arg) + 16];

    if (!adm_item_id_valid(r->arg)) {
        adm_reply_error(r, 400, "item", "the item id is [A-Za-z0-9._-], shorter than %d",
                        CAT_ID_MAX);
        return;
    }
    if (day && *day) {
        if (!day_ok(day)) {
            adm_reply_error(r, 400, "day", "the gift day is YYYYMMDD");
            return;
        }
        read_day(r, day);
        return;
    }
    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", r->arg);
    const char *argv[] = {"GET", key};
    adm_redis(r, cur_done, 2, argv);
}
