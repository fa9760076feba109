/*
 * adm_reports.c - GET /api/reports/wallets?cursor=C&count=N: one page of the reports of the
 * staff console, computed from Redis by walking the wallets with SCAN in this (admin) process,
 * never in the gateways. Owner: the staff-console engineer.
 *
 * A page reads about N wallets (SCAN's COUNT is a hint, so a page may hold a few more; SCAN MATCH
 * lg:{*}:w, then per wallet HMGET bal life tier E - the packed history, gw_hist.h - and its
 * history list of the release before) and answers what can be added up
 * across pages: wallets, outstanding liability (the sum of balances), the balances themselves
 * (numbers only, no MSISDN: marketing may read reports, not subscribers), points issued / redeemed
 * / refunded per local day and redemptions per item from the history lines (the rule behind each
 * credit, gw_ledger.h), members per tier (the wallet's tier, one of the loyalty table's names, else
 * ""), the dead letters waiting (XLEN of
 * lg:dlq:event plus lg:dlq:pdu), and for the liability in money the currency
 * (events.currency) and what a point is worth (--point-value, millionths). The console fetches
 * pages until the cursor is "0" and merges them; it computes the top-20% share from the balances.
 *
 * Honest limits, shown by the console and the README: the history of a wallet keeps its last
 * ledger.history_len entries, so days older than that undercount; SCAN on Redis Cluster visits the
 * one master the client picks; every wallet costs two round trips. At carrier scale (20 million
 * wallets) these figures must come from daily aggregates the gateways write when they commit,
 * not from a scan: this endpoint is for a pilot and for checking those aggregates.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "catalog.h"
#include "gw_core.h"
#include "gw_hist.h"
#include "gw_loyalty.h"

#define REPORT_COUNT_DEFAULT 1000
#define REPORT_COUNT_MAX 10000
#define REPORT_SCAN_COUNT 500 /* keys per SCAN call, at most: a page holds < count + this */

static json_t *obj_child(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);

    if (!o) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

static void add_int(json_t *o, const char *key, int64_t v)
{
    json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + v));
}

/* ---------------------------------------------------------------- steps, last first */

static void rep_scan(struct adm_req *r);
static void rep_wallet(struct adm_req *r);

static void rep_history(struct adm_req *r, const struct redisReply *reply)
{
    json_t *days = obj_child(r->j1, "days"), *items = obj_child(r->j1, "items");
    struct gw_hist_rec rec;

    /* the records of E: credits (issued), reversals, expiries (counted as reversed, as the
     * list's "expired" lines were) */
    size_t elen = 0;
    if (r->text)
        memcpy(&elen, r->text, sizeof(elen));
    for (size_t i = 0; r->text && gw_hist_get(r->text + sizeof(size_t), elen, i, &rec) == 0; i++) {
        char day[16];
        snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)(rec.day / 10000),
                 (int)(rec.day / 100 % 100), (int)(rec.day % 100));
        if (rec.kind == GW_HIST_REDEEM) {
            add_int(obj_child(days, day), "redeemed", -(int64_t)rec.points);
            /* the item from the record's text "gift ITEM (catalogue V)" (rep_rules) */
            char id[8], item[CAT_ID_MAX];
            snprintf(id, sizeof(id), "%u", (unsigned)rec.rule);
            const char *t = json_string_value(json_object_get(obj_child(r->j1, "_rules"), id));
            const char *sp = t && strncmp(t, "gift ", 5) == 0 ? strchr(t + 5, ' ') : NULL;
            if (sp && sp - t - 5 > 0 && (size_t)(sp - t - 5) < sizeof(item)) {
                snprintf(item, sizeof(item), "%.*s", (int)(sp - t - 5), t + 5);
                json_t *it = obj_child(items, item);
                add_int(it, "count", 1);
                add_int(it, "points", -(int64_t)rec.points);
            }
        } else if (rec.kind == GW_HIST_REFUND) {
            add_int(obj_child(days, day), "refunded", rec.points);
        } else if (rec.points > 0)
            add_int(obj_child(days, day), "issued", rec.points);
        else if (rec.points < 0)
            add_int(obj_child(days, day), "reversed", -(int64_t)rec.points);
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const struct redisReply *e = reply->element[i];
            struct adm_history_entry h;
            char *line, day[16];
            if (e->type != REDIS_REPLY_STRING || !(line = strndup(e->str, e->len)))
                continue;
            if (adm_history_parse(line, &h) == 0) {
                int32_t d = gw_local_day(h.at);
                snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100),
                         (int)(d % 100));
                json_t *dd = obj_child(days, day);
                if (strcmp(h.kind, "REDEEM") == 0) {
                    add_int(dd, "redeemed", -h.points);
                    /* rid "<msisdn>:<item>:<day>:<tag>" (catalog.h) */
                    const char *a = strchr(h.ref, ':'), *b = a ? strchr(a + 1, ':') : NULL;
                    char item[CAT_ID_MAX];
                    if (b && b - a - 1 > 0 && (size_t)(b - a - 1) < sizeof(item)) {
                        snprintf(item, sizeof(item), "%.*s", (int)(b - a - 1), a + 1);
                        json_t *it = obj_child(items, item);
                        add_int(it, "count", 1);
                        add_int(it, "points", -h.points);
                    }
                } else if (strcmp(h.kind, "REFUND") == 0) {
                    add_int(dd, "refunded", h.points);
                } else if (h.points > 0) {
                    add_int(dd, "issued", h.points);
                } else if (h.points < 0) {
                    add_int(dd, "reversed", -h.points);
                }
            }
            free(line);
        }
    }
    r->n1++;
    rep_wallet(r);
}

/* The history list of the release before: key "lg:{M}:w" -> "lg:{M}:h" (same slot). */
static void rep_list(struct adm_req *r)
{
    const char *key = json_string_value(json_array_get(r->j2, (size_t)r->n1));
    char h[64];

    snprintf(h, sizeof(h), "%.*sh", (int)(strlen(key) - 1), key);
    const char *argv[] = {"LRANGE", h, "0", "-1"};
    adm_redis(r, rep_history, 4, argv);
}

/* The ids of the redemptions' records of E (r->text: its length, then its bytes) whose text
 * "_rules" does not hold yet (null: asked), in the order of the records: at most 64. */
static size_t rep_rule_ids(struct adm_req *r, char num[][8])
{
    json_t *seen = obj_child(r->j1, "_rules");
    struct gw_hist_rec rec;
    size_t n = 0, elen = 0;

    if (r->text)
        memcpy(&elen, r->text, sizeof(elen));
    for (size_t i = 0; r->text && n < 64 && gw_hist_get(r->text + sizeof(size_t), elen, i, &rec) == 0;
         i++) {
        snprintf(num[n], sizeof(num[n]), "%u", (unsigned)rec.rule);
        json_t *v = json_object_get(seen, num[n]);
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(num[j], num[n]) == 0;
        if (rec.kind == GW_HIST_REDEEM && rec.rule && !dup && (!v || json_is_null(v)))
            n++;
    }
    return n;
}

/* The HMGET lg:rules of the ids rep_balance asked (rep_rule_ids, the same order). */
static void rep_rules(struct adm_req *r, const struct redisReply *reply)
{
    json_t *seen = obj_child(r->j1, "_rules");
    char num[64][8];
    size_t n = rep_rule_ids(r, num);

    for (size_t i = 0; i < n; i++) {
        const struct redisReply *t =
            reply->type == REDIS_REPLY_ARRAY && i < reply->elements ? reply->element[i] : NULL;
        json_object_set_new(seen, num[i],
                            t && t->type == REDIS_REPLY_STRING ? json_stringn(t->str, t->len)
                                                               : json_string(""));
    }
    rep_list(r);
}

static void rep_balance(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        int64_t bal = strtoll(reply->element[0]->str, NULL, 10);
        int64_t life = reply->element[1]->type == REDIS_REPLY_STRING
                           ? strtoll(reply->element[1]->str, NULL, 10)
                           : 0;
        add_int(r->j1, "wallets", 1);
        add_int(r->j1, "liability", bal);
        add_int(r->j1, "lifetime", life);
        json_array_append_new(json_object_get(r->j1, "balances"), json_integer(bal));
        /* members per tier: a name of the loyalty table, else counted as "" (no tier yet) */
        const struct redisReply *tier = reply->element[2];
        const char *name = "";
        for (unsigned i = 0; tier->type == REDIS_REPLY_STRING && i < r->srv->cfg.n_tiers; i++)
            if (strcmp(tier->str, r->srv->cfg.tiers[i]) == 0)
                name = r->srv->cfg.tiers[i];
        add_int(json_object_get(r->j1, "tiers"), name, 1);
    } else {
        /* Gone between SCAN and HMGET (or not a wallet): skip, not an error. */
        r->n1++;
        rep_wallet(r);
        return;
    }
    /* the wallet's packed history E (gw_hist.h), counted with the list by rep_history */
    /* (in r->text: its length, then its bytes) */
    free(r->text);
    r->text = NULL;
    const struct redisReply *e = reply->element[3];
    if (e->type == REDIS_REPLY_STRING && gw_hist_count(e->len) > 0 &&
        (r->text = malloc(sizeof(size_t) + e->len))) {
        memcpy(r->text, &e->len, sizeof(size_t));
        memcpy(r->text + sizeof(size_t), e->str, e->len);
    }
    /* the texts of the redemptions' records not seen yet on this page (their items) */
    const char *argv[2 + 64];
    char num[64][8];
    size_t n = rep_rule_ids(r, num);
    if (n > 0) {
        argv[0] = "HMGET";
        argv[1] = GW_HIST_RULES;
        for (size_t i = 0; i < n; i++)
            argv[2 + i] = num[i];
        adm_redis(r, rep_rules, (int)(2 + n), argv);
        return;
    }
    rep_list(r);
}

/* The next wallet of the SCAN batch, or the next batch, or the answer. */
static void rep_wallet(struct adm_req *r)
{
    if ((size_t)r->n1 < json_array_size(r->j2)) {
        const char *key = json_string_value(json_array_get(r->j2, (size_t)r->n1));
        const char *argv[] = {"HMGET", key, "bal", "life", "tier", "E"};
        r->n2++;
        adm_redis(r, rep_balance, 6, argv);
        return;
    }
    if (strcmp(r->s1, "0") == 0 || r->n2 >= json_integer_value(json_object_get(r->j1, "count"))) {
        json_object_set_new(r->j1, "cursor", json_string(r->s1));
        json_object_set_new(r->j1, "done", json_boolean(strcmp(r->s1, "0") == 0));
        json_object_del(r->j1, "count");
        json_object_del(r->j1, "_rules");
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o);
        return;
    }
    rep_scan(r);
}

/* "lg:{<digits>}:w" with a valid MSISDN between the braces. */
static bool wallet_key_ok(const char *k, size_t len)
{
    char m[24];

    if (len < 4 + 8 + 3 || len > 4 + 15 + 3 || strncmp(k, "lg:{", 4) != 0 ||
        strcmp(k + len - 3, "}:w") != 0)
        return false;
    snprintf(m, sizeof(m), "%.*s", (int)(len - 7), k + 4);
    return adm_msisdn_valid(m);
}

static void rep_scanned(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    snprintf(r->s1, sizeof(r->s1), "%s", reply->element[0]->str);
    json_array_clear(r->j2);
    for (size_t i = 0; i < reply->element[1]->elements; i++) {
        const struct redisReply *k = reply->element[1]->element[i];
        if (k->type == REDIS_REPLY_STRING && wallet_key_ok(k->str, k->len))
            json_array_append_new(r->j2, json_stringn(k->str, k->len));
    }
    r->n1 = 0;
    rep_wallet(r);
}

static void rep_scan(struct adm_req *r)
{
    char cnt[24];
    int64_t want = json_integer_value(json_object_get(r->j1, "count")) - r->n2;

    /* SCAN's COUNT is a hint (it may return a few more): ask for what the page still needs. */
    snprintf(cnt, sizeof(cnt), "%" PRId64,
             want < 1                   ? 1
             : want > REPORT_SCAN_COUNT ? REPORT_SCAN_COUNT
                                        : want);
    const char *argv[] = {"SCAN", r->s1, "MATCH", "lg:{*}:w", "COUNT", cnt};
    adm_redis(r, rep_scanned, 6, argv);
}

static void rep_dlq_pdu(struct adm_req *r, const struct redisReply *reply)
{
    json_int_t n = json_integer_value(json_object_get(r->j1, "dlq_waiting"));

    n += reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    json_object_set_new(r->j1, "dlq_waiting", json_integer(n));
    rep_scan(r);
}

/* Dead letters waiting = both streams (events the ledger refused, PDUs the link refused). */
static void rep_dlq(struct adm_req *r, const struct redisReply *reply)
{
    json_object_set_new(r->j1, "dlq_waiting",
                        json_integer(reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0));
    const char *argv[] = {"XLEN", ADM_DLQ_KEY_PDU};
    adm_redis(r, rep_dlq_pdu, 2, argv);
}

/* members per tier count the tiers of the table in force (the stored one) */
static void rep_tiers(struct adm_req *r, const struct redisReply *reply)
{
    adm_tiers_refresh(r->srv, reply);
    json_t *order = json_array(); /* the table's tiers, lowest first: the page's order */
    for (unsigned i = 0; i < r->srv->cfg.n_tiers; i++)
        json_array_append_new(order, json_string(r->srv->cfg.tiers[i]));
    json_object_set_new(r->j1, "tier_order", order);
    const char *argv[] = {"XLEN", ADM_DLQ_KEY_EVENT};
    adm_redis(r, rep_dlq, 2, argv);
}

void adm_h_reports(struct adm_req *r)
{
    const char *c = adm_query(r, "cursor"), *n = adm_query(r, "count");
    long count = REPORT_COUNT_DEFAULT;

    if (c && (strlen(c) == 0 || strlen(c) > 20 || strspn(c, "0123456789") != strlen(c))) {
        adm_reply_error(r, 400, "cursor", "cursor must be the cursor of the previous page");
        return;
    }
    if (n) {
        char *end;
        errno = 0;
        count = strtol(n, &end, 10);
        if (errno || end == n || *end || count < 1 || count > REPORT_COUNT_MAX) {
            adm_reply_error(r, 400, "count", "count must be an integer from 1 to %d",
                            REPORT_COUNT_MAX);
            return;
        }
    }
    snprintf(r->s1, sizeof(r->s1), "%s", c ? c : "0");
    r->n2 = 0;
    r->j2 = json_array();
    r->j1 = json_pack(
        "{s:I, s:I, s:I, s:I, s:[], s:{}, s:{}, s:{}, s:I, s:s, s:I}", "count", (json_int_t)count,
        "wallets", (json_int_t)0, "liability", (json_int_t)0, "lifetime", (json_int_t)0, "balances",
        "days", "items", "tiers", "history_len", (json_int_t)r->srv->cfg.history_len, "currency",
        r->srv->cfg.currency, "point_value_micro", (json_int_t)r->srv->cfg.point_value_micro);
    if (!r->j1 || !r->j2) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    const char *argv[] = {"HGET", ADM_KEY_LOYALTY, "doc"};
    adm_redis(r, rep_tiers, 3, argv);
}
