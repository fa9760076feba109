/*
 * adm_subscriber.c - customer care's endpoints on one subscriber: the wallet with its lots, tier
 * and history (the rule behind each credit is the history note commit.lua wrote), a points
 * adjustment with a mandatory reason (adjust.lua, idempotent by the client's request id), and
 * block/unblock (block.lua: wallet field "blocked", which redemption honours).
 * Owner: the staff-console engineer.
 *
 * The change runs on the subscriber's slot; its audit record goes to adm:{adm}:audit afterwards (a
 * different slot on Redis Cluster, so not in the same script). If that second write fails the
 * client gets 503 and retries with the same request id: the script answers "replay" without a
 * second effect and the audit record is written then (marked "replay").
 */
#include <errno.h>
#include <event2/buffer.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_core.h"
#include "gw_hist.h"
#include "gw_lots.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_wallet.h"

#define ADJUST_MAX 1000000000LL /* points per adjustment (adjust.lua's bound) */
#define REASON_MAX 200

/* The MSISDN was validated (8-15 digits) before: the keys always fit. A key that would not is
 * emptied rather than truncated, so it can never name another subscriber's data. */
static void wallet_keys(const char *msisdn, char *w, char *rf, char *h, size_t len)
{
    if (snprintf(w, len, "lg:{%s}:w", msisdn) >= (int)len)
        w[0] = '\0';
    if (rf && snprintf(rf, len, "lg:{%s}:r", msisdn) >= (int)len)
        rf[0] = '\0';
    if (snprintf(h, len, "lg:{%s}:h", msisdn) >= (int)len)
        h[0] = '\0';
}

static bool check_msisdn(struct adm_req *r)
{
    if (!adm_msisdn_valid(r->arg)) {
        adm_reply_error(r, 400, "msisdn", "an MSISDN is 8 to 15 digits, country code first");
        return false;
    }
    return true;
}

/* A reason staff type: 1..200 bytes of valid UTF-8 without control characters (it is stored in a
 * '|'-separated history line and shown in terminals). */
static bool reason_ok(const char *s, bool required)
{
    size_t n = strlen(s);

    if (n > REASON_MAX || (required && n < 3))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true; /* jansson only hands out valid UTF-8 */
}

/* ---------------------------------------------------------------- GET /api/subscribers/{m} */

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static int cmp_lot(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "date"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "date"));
    return strcmp(x ? x : "", y ? y : "");
}

/* One lot into the console's list: "YYYY-MM-DD", the local day the points were earned, and its
 * expiry (earning day + loyalty.points_validity_months, gw_wallet.h; 0 = never: null). A day
 * already listed (a lot in L and in a field of the release before) adds up. The undated lot
 * (gw_lots.h: folded while points never expire) has date "" and no expiry. */
static void lot_add(json_t *lots, const struct gw_lot *lot, uint32_t months)
{
    char date[16] = "", expires[16] = "";
    bool undated = lot->day == GW_LOT_UNDATED;
    int32_t exp = months && !undated ? gw_wallet_add_months(lot->day, months) : 0;
    size_t i;
    json_t *o;

    if (!undated)
        snprintf(date, sizeof(date), "%04d-%02d-%02d", (int)(lot->day / 10000),
                 (int)(lot->day / 100 % 100), (int)(lot->day % 100));
    json_array_foreach(lots, i, o) {
        json_t *p = json_object_get(o, "points");
        const char *od = json_string_value(json_object_get(o, "date"));
        if (od && strcmp(od, date) == 0) {
            json_integer_set(p, json_integer_value(p) + lot->points);
            return;
        }
    }
    if (exp > 0)
        snprintf(expires, sizeof(expires), "%04d-%02d-%02d", (int)(exp / 10000),
                 (int)(exp / 100 % 100), (int)(exp % 100));
    json_array_append_new(lots, json_pack("{s:s, s:I, s:o}", "date", date, "points",
                                          (json_int_t)lot->points, "expires",
                                          expires[0] ? json_string(expires) : json_null()));
}

/* The redemption records the redemption engine keeps per subscriber (catalog/lua/sub.lua, hash
 * lg:{M}:g): rid -> "state|ts|item|price|day|version|to|code|ref|reason", state P paid, Q queued,
 * F fulfilled, R refunded, T tombstone (abandoned before the debit). Other fields of the hash
 * ("n:<item>:<day>" counters) are skipped. Newest first, at most REDEMPTIONS_MAX. */
#define REDEMPTIONS_MAX 200
static int cmp_at_desc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "at"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "at"));
    return x < y ? 1 : x > y ? -1 : 0;
}

static const char *redemption_state(char c)
{
    switch (c) {
    case 'P':
        return "paid";
    case 'Q':
        return "queued";
    case 'F':
        return "fulfilled";
    case 'R':
        return "refunded";
    case 'T':
        return "abandoned";
    }
    return "unknown";
}

static void sub_redemptions(struct adm_req *r, const struct redisReply *reply)
{
    json_t *list = json_array();
    size_t n = 0;

    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
        char *f[10] = {0}, *line, *p;
        int nf = 0;
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            strncmp(k->str, "n:", 2) == 0 || !(line = strndup(v->str, v->len)))
            continue;
        for (p = line; nf < 10; nf++) {
            f[nf] = p;
            p = strchr(p, '|');
            if (!p)
                break;
            *p++ = '\0';
        }
        if (nf == 9 && strlen(f[0]) == 1) {
            json_t *o = json_pack(
                "{s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:b}", "rid", k->str, "state",
                redemption_state(f[0][0]), "at", (json_int_t)strtoll(f[1], NULL, 10), "item", f[2],
                "price", (json_int_t)strtoll(f[3], NULL, 10), "gift_day", f[4], "beneficiary", f[6],
                "reference", f[8], "reason", f[9], "voucher", f[7][0] != '\0');
            if (o) {
                json_array_append_new(list, o);
                n++;
            }
        }
        free(line);
    }
    if (n > 1) {
        json_t **v = malloc(n * sizeof(*v));
        if (v) {
            for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(list, i));
            qsort(v, n, sizeof(*v), cmp_at_desc);
            json_array_clear(list);
            for (size_t i = 0; i < n && i < REDEMPTIONS_MAX; i++)
                json_array_append(list, v[i]);
            for (size_t i = 0; i < n; i++)
                json_decref(v[i]);
            free(v);
        }
    }
    json_object_set_new(r->j1, "redemptions", list);
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

/* The history: the wallet's packed field E (gw_hist.h; kept by sub_wallet in r->text, r->n1
 * bytes, then its notes N, r->n3 bytes) merged with the list lg:{M}:h of the release before (sub_history keeps its lines in
 * r->j2), the rule texts from the dictionary lg:rules (HMGET, sub_rules). */
static const char *rule_text(void *arg, uint16_t id)
{
    const struct redisReply *rules = arg; /* pairs (id, text): sub_rules */

    for (size_t i = 0; rules && i + 1 < rules->elements; i += 2) {
        const struct redisReply *k = rules->element[i], *v = rules->element[i + 1];
        if (k->type == REDIS_REPLY_INTEGER && k->integer == id && v->type == REDIS_REPLY_STRING)
            return v->str;
    }
    return NULL;
}

static void sub_history_out(struct adm_req *r, const struct redisReply *rules)
{
    json_t *hist = json_array();
    struct evbuffer *csv = r->csv ? evbuffer_new() : NULL;
    size_t nl = json_array_size(r->j2), ne = gw_hist_count((size_t)r->n1), cap = 512;
    const char **legacy = calloc(nl + 1, sizeof(*legacy));
    size_t *llen = calloc(nl + 1, sizeof(*llen));
    char *lines = malloc((ne + nl + 1) * cap);

    if (!legacy || !llen || !lines || (r->csv && !csv)) {
        json_decref(hist);
        if (csv)
            evbuffer_free(csv);
        free(legacy);
        free(llen);
        free(lines);
        adm_reply_error(r, 503, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < nl; i++) {
        legacy[i] = json_string_value(json_array_get(r->j2, i));
        llen[i] = legacy[i] ? strlen(legacy[i]) : 0;
        if (!legacy[i])
            legacy[i] = "";
    }
    size_t n =
        gw_hist_merge(r->text, (size_t)r->n1, r->text ? r->text + r->n1 : NULL, (size_t)r->n3,
                      legacy, llen, nl, rule_text, (void *)rules, lines, cap, ne + nl);
    if (csv)
        evbuffer_add_printf(csv, "at,kind,ref,points,balance,rule\r\n");
    for (size_t i = 0; i < n; i++) {
        struct adm_history_entry h;
        char *line = lines + i * cap;

        if (adm_history_parse(line, &h) != 0)
            continue;
        bool nobal = h.balance == ADM_BALANCE_NONE;
        if (csv) {
            adm_csv_int(csv, h.at);
            evbuffer_add(csv, ",", 1);
            adm_csv_text(csv, h.kind);
            evbuffer_add(csv, ",", 1);
            adm_csv_text(csv, h.ref);
            evbuffer_add(csv, ",", 1);
            adm_csv_int(csv, h.points);
            evbuffer_add(csv, ",", 1);
            if (!nobal)
                adm_csv_int(csv, h.balance);
            evbuffer_add(csv, ",", 1);
            adm_csv_text(csv, h.note);
            evbuffer_add(csv, "\r\n", 2);
        } else {
            json_array_append_new(
                hist, json_pack("{s:I, s:s, s:s, s:I, s:o, s:s}", "at", (json_int_t)h.at, "kind",
                                h.kind, "ref", h.ref, "points", (json_int_t)h.points, "balance",
                                nobal ? json_null() : json_integer((json_int_t)h.balance), "rule",
                                h.note));
        }
    }
    free(legacy);
    free(llen);
    free(lines);
    if (csv) {
        char name[96];
        json_decref(hist);
        snprintf(name, sizeof(name), "history-%s.csv", r->arg);
        adm_reply_csv(r, csv, name);
        return;
    }
    json_object_set_new(r->j1, "history", hist);
    char g[96];
    snprintf(g, sizeof(g), "lg:{%s}:g", r->arg);
    const char *argv[] = {"HGETALL", g};
    adm_redis(r, sub_redemptions, 2, argv);
}

/* The HMGET lg:rules reply, turned into pairs (id, text) for rule_text. */
static void sub_rules(struct adm_req *r, const struct redisReply *reply)
{
    uint16_t ids[64];
    size_t n = gw_hist_rule_ids(r->text, (size_t)r->n1, (size_t)r->n2, ids);
    struct redisReply pairs, *el[128], idr[64];

    memset(&pairs, 0, sizeof(pairs));
    pairs.type = REDIS_REPLY_ARRAY;
    pairs.element = el;
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < n && i < reply->elements; i++) {
        memset(&idr[i], 0, sizeof(idr[i]));
        idr[i].type = REDIS_REPLY_INTEGER;
        idr[i].integer = ids[i];
        el[pairs.elements++] = &idr[i];
        el[pairs.elements++] = reply->element[i];
    }
    sub_history_out(r, &pairs);
}

static void sub_history(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->j2 = json_array();
    for (size_t i = 0; r->j2 && i < reply->elements; i++) {
        const struct redisReply *e = reply->element[i];
        if (e->type == REDIS_REPLY_STRING)
            json_array_append_new(r->j2, json_stringn_nocheck(e->str, e->len));
    }
    /* the rule texts of the records of E, at most 64 distinct ones per HMGET (older records
     * beyond them show their kind and points) */
    uint16_t ids[64];
    r->n2 = (int64_t)gw_hist_count((size_t)r->n1);
    if (r->n2 > 64)
        r->n2 = 64;
    size_t n = gw_hist_rule_ids(r->text, (size_t)r->n1, (size_t)r->n2, ids);
    if (n == 0) {
        sub_history_out(r, NULL);
        return;
    }
    const char *argv[2 + 64];
    char num[64][8];
    argv[0] = "HMGET";
    argv[1] = GW_HIST_RULES;
    for (size_t i = 0; i < n; i++) {
        snprintf(num[i], sizeof(num[i]), "%u", (unsigned)ids[i]);
        argv[2 + i] = num[i];
    }
    adm_redis(r, sub_rules, (int)(2 + n), argv);
}

static void sub_wallet(struct adm_req *r, const struct redisReply *reply)
{
    char w[48], h[48];
    const char *bal = NULL, *life = NULL, *tier = NULL, *since = NULL, *blocked = NULL;
    const char *hold = NULL; /* points held by the velocity caps (commit.lua) */
    const struct redisReply *e = NULL, *notes = NULL; /* the packed history E, its notes N */
    json_t *lots = json_array();

    if (reply->type != REDIS_REPLY_ARRAY) {
        json_decref(lots);
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->elements == 0) {
        json_decref(lots);
        adm_reply_error(r, 404, "msisdn", "subscriber not enrolled (no event seen)");
        return;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *k = reply->element[i]->str, *v = reply->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (strcmp(k, "bal") == 0)
            bal = v;
        else if (strcmp(k, "life") == 0)
            life = v;
        else if (strcmp(k, "tier") == 0)
            tier = v;
        else if (strcmp(k, "since") == 0)
            since = v;
        else if (strcmp(k, "blocked") == 0)
            blocked = v;
        else if (strcmp(k, "hold") == 0)
            hold = v;
        else if (strcmp(k, "E") == 0)
            e = reply->element[i + 1];
        else if (strcmp(k, "N") == 0)
            notes = reply->element[i + 1];
        else if (strcmp(k, "L") == 0) {
            /* the packed lots (gw_lots.h); a malformed field shows no lot */
            const char *l = reply->element[i + 1]->str;
            size_t len = reply->element[i + 1]->len, pos = 0;
            struct gw_lot lot;
            if (gw_lots_valid(l, len))
                while (gw_lots_next(l, len, &pos, &lot))
                    lot_add(lots, &lot, r->srv->cfg.points_validity_months);
        } else {
            /* a lot field "l:YYYYMMDD" of the release before */
            struct gw_lot lot;
            if (gw_lots_old_field(k, strlen(k), v, strlen(v), &lot))
                lot_add(lots, &lot, r->srv->cfg.points_validity_months);
        }
    }
    /* E then N (binary), kept for sub_history_out: r->n1 bytes of E, r->n3 of N */
    size_t elen = e ? e->len : 0, nlen = notes ? notes->len : 0;
    if (elen + nlen > 0 && !r->text && (r->text = malloc(elen + nlen + 1))) {
        if (elen)
            memcpy(r->text, e->str, elen);
        if (nlen)
            memcpy(r->text + elen, notes->str, nlen);
        r->n1 = (int64_t)elen;
        r->n3 = (int64_t)nlen;
    }
    if (json_array_size(lots) > 1) {
        size_t n = json_array_size(lots);
        json_t **v = malloc(n * sizeof(*v));
        if (v) {
            for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(lots, i));
            qsort(v, n, sizeof(*v), cmp_lot);
            json_array_clear(lots);
            for (size_t i = 0; i < n; i++)
                json_array_append_new(lots, v[i]);
            free(v);
        }
    }
    r->j1 = json_pack("{s:s, s:b, s:I, s:I, s:I, s:s, s:I, s:b, s:o}", "msisdn", r->arg,
                      "enrolled", 1, "balance", (json_int_t)num(bal), "lifetime",
                      (json_int_t)num(life), "held", (json_int_t)num(hold), "tier",
                      tier ? tier : "", "since", (json_int_t)num(since), "blocked",
                      blocked && strcmp(blocked, "1") == 0, "lots", lots);
    wallet_keys(r->arg, w, NULL, h, sizeof(w));
    const char *argv[] = {"LRANGE", h, "0", "-1"};
    adm_redis(r, sub_history, 4, argv);
}

void adm_h_sub_get(struct adm_req *r)
{
    char w[48], h[48];

    if (!check_msisdn(r))
        return;
    wallet_keys(r->arg, w, NULL, h, sizeof(w));
    const char *argv[] = {"HGETALL", w};
    adm_redis(r, sub_wallet, 2, argv);
}

/* ---------------------------------------------------------------- adjust */

static void adjust_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record not written: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL,
                        "the adjustment is applied but its audit record is not: retry with the "
                        "same request_id");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

static void adjust_done(struct adm_req *r, const struct redisReply *reply)
{
    const char *rid = json_string_value(json_object_get(r->body, "request_id"));
    const char *reason = json_string_value(json_object_get(r->body, "reason"));

    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "LGWNOWALLET ", 12) == 0) {
            adm_reply_error(r, 404, "msisdn", "subscriber not enrolled (no event seen)");
        } else if (strncmp(reply->str, "LGWFUNDS ", 9) == 0) {
            adm_reply_error(r, 422, "points", "the balance (%s) cannot go below zero",
                            reply->str + 9);
        } else if (strncmp(reply->str, "LGWBOUND ", 9) == 0) {
            adm_reply_error(r, 422, "points", "the balance (%s) would pass the ledger's bound",
                            reply->str + 9);
        } else if (strncmp(reply->str, "LGWREUSED ", 10) == 0) {
            adm_reply_error(r, 409, "request_id",
                            "this request_id was used for a different adjustment");
        } else {
            GW_LOGE(ADM_LOG, "adjust refused: %.200s", reply->str);
            adm_reply_error(r, 500, NULL, "the store refused the adjustment: %.100s", reply->str);
        }
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    for (size_t i = 0; i < 4; i++) {
        if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
            adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
            return;
        }
    }
    bool replay = reply->element[0]->integer == 1;
    long long pts = reply->element[1]->integer, before = reply->element[2]->integer,
              after = reply->element[3]->integer;
    r->j1 = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "status", replay ? "duplicate" : "applied",
                      "msisdn", r->arg, "points", (json_int_t)pts, "balance_before",
                      (json_int_t)before, "balance", (json_int_t)after, "request_id", rid);
    json_t *jb = json_pack("{s:I}", "balance", (json_int_t)before);
    json_t *ja = json_pack("{s:I, s:I, s:s, s:b}", "balance", (json_int_t)after, "points",
                           (json_int_t)pts, "reason", reason, "replay", replay);
    char *sb = json_dumps(jb, JSON_COMPACT), *sa = json_dumps(ja, JSON_COMPACT);
    json_decref(jb);
    json_decref(ja);
    if (!sb || !sa) {
        free(sb);
        free(sa);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    char masked[GW_MASK_LEN];
    gw_log(GW_LOG_NOTICE, ADM_LOG, "adjust %s by %s: %+lld points%s",
           gw_mask_msisdn(r->arg, masked), r->user, pts, replay ? " (replay)" : "");
    /* adm_audit_append copies its arguments into the command before it returns. */
    adm_audit_append(r, adjust_audited, "subscriber.adjust", r->arg, sb, sa, rid);
    free(sb);
    free(sa);
}

void adm_h_sub_adjust(struct adm_req *r)
{
    static const char *const keys[] = {"points", "reason", "request_id", NULL};
    json_t *p, *reason, *rid;
    char w[48], rf[48], h[48], pts[24], now_s[24], day[16], ret[16], hlen[16];

    if (!check_msisdn(r))
        return;
    if (!r->body) {
        adm_reply_error(r, 400, "body",
                        "send {\"points\": ..., \"reason\": ..., \"request_id\": ...}");
        return;
    }
    if (!adm_body_keys_ok(r, keys))
        return;
    p = json_object_get(r->body, "points");
    reason = json_object_get(r->body, "reason");
    rid = json_object_get(r->body, "request_id");
    if (!json_is_integer(p) || json_integer_value(p) == 0 || json_integer_value(p) > ADJUST_MAX ||
        json_integer_value(p) < -ADJUST_MAX) {
        adm_reply_error(r, 400, "points", "points must be a non-zero integer within +-%lld",
                        ADJUST_MAX);
        return;
    }
    if (!json_is_string(reason) || !reason_ok(json_string_value(reason), true)) {
        adm_reply_error(r, 400, "reason",
                        "a reason is required: 3 to %d characters, no control characters",
                        REASON_MAX);
        return;
    }
    if (!json_is_string(rid) || !adm_request_id_valid(json_string_value(rid))) {
        adm_reply_error(r, 400, "request_id",
                        "request_id must be 1-64 of A-Z a-z 0-9 . _ : - (one per adjustment)");
        return;
    }
    int64_t now = adm_now_ms() / 1000;
    wallet_keys(r->arg, w, rf, h, sizeof(w));
    snprintf(pts, sizeof(pts), "%" JSON_INTEGER_FORMAT, json_integer_value(p));
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    /* The lot of a credit is today's local day in the loyalty table's zone (the process TZ, set
     * from the gateway's configuration at start-up), as for earned points. */
    snprintf(day, sizeof(day), "%08" PRId32, gw_local_day(now));
    snprintf(ret, sizeof(ret), "%" PRIu32, r->srv->cfg.ref_retention_days * 86400u);
    snprintf(hlen, sizeof(hlen), "%" PRIu32, r->srv->cfg.history_len);
    /* the slot's aggregates (docs/data-model.md 6): the day's adj+/adj- and the running totals */
    char tag[GW_SLOT_TAG_MAX], agd[48], agt[40];
    if (gw_slot_tag_of(r->arg, tag) < 0) {
        adm_reply_error(r, 400, "msisdn", "not a valid MSISDN");
        return;
    }
    snprintf(agd, sizeof(agd), "lg:ag:%s:%s", tag, day);
    snprintf(agt, sizeof(agt), "lg:ag:%s:tot", tag);
    const char *argv[] = {w,       rf,    h,        agd, agt, json_string_value(rid),
                          pts,     r->user, json_string_value(reason), now_s, day, ret, hlen};
    adm_script(r, adjust_done, ADM_S_ADJUST, 5, 13, argv);
}

/* ---------------------------------------------------------------- block / unblock */

static void block_done(struct adm_req *r, const struct redisReply *reply)
{
    const char *reason = json_string_value(json_object_get(r->body, "reason"));

    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "LGWNOWALLET ", 12) == 0) {
        adm_reply_error(r, 404, "msisdn", "subscriber not enrolled (no event seen)");
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "block refused: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 500, NULL, "the store refused the change");
        return;
    }
    long long before = reply->element[0]->integer, after = reply->element[1]->integer;
    r->j1 = json_pack("{s:s, s:b, s:b}", "msisdn", r->arg, "blocked", after == 1, "changed",
                      before != after);
    if (before == after) {
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o); /* nothing changed: nothing to record */
        return;
    }
    char masked[GW_MASK_LEN];
    gw_log(GW_LOG_NOTICE, ADM_LOG, "%s %s by %s", after ? "block" : "unblock",
           gw_mask_msisdn(r->arg, masked), r->user);
    /* Both records are built by jansson and passed whole: a reason of REASON_MAX bytes of
     * quotes (each escaped to two) or of Arabic text must reach the audit record intact, never be
     * cut in a fixed buffer into invalid JSON. */
    json_t *ja = json_pack("{s:b, s:s}", "blocked", after == 1, "reason", reason ? reason : "");
    json_t *jb = json_pack("{s:b}", "blocked", before == 1);
    char *sa = ja ? json_dumps(ja, JSON_COMPACT) : NULL;
    char *sb = jb ? json_dumps(jb, JSON_COMPACT) : NULL;
    json_decref(ja);
    json_decref(jb);
    if (!sa || !sb) {
        free(sa);
        free(sb);
        json_decref(r->j1);
        r->j1 = NULL;
        adm_reply_error(r, 500, NULL, "out of memory: the change is made but not audited");
        return;
    }
    /* adm_audit_append formats the command at once: the texts may go right after (r may not). */
    adm_audit_append(r, adm_reply_j1_audited, r->route->what, r->arg, sb, sa, NULL);
    free(sa);
    free(sb);
}

static void block_set(struct adm_req *r, bool block)
{
    static const char *const keys[] = {"reason", NULL};
    const char *reason = "";
    char w[48], h[48], now_s[24], hlen[16], day[16];
    int64_t now = adm_now_ms() / 1000;

    if (!check_msisdn(r))
        return;
    if (r->body) {
        if (!adm_body_keys_ok(r, keys))
            return;
        json_t *jr = json_object_get(r->body, "reason");
        if (jr && (!json_is_string(jr) || !reason_ok(json_string_value(jr), false))) {
            adm_reply_error(r, 400, "reason", "reason: up to %d characters, no control characters",
                            REASON_MAX);
            return;
        }
        reason = jr ? json_string_value(jr) : "";
    }
    wallet_keys(r->arg, w, NULL, h, sizeof(w));
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    snprintf(hlen, sizeof(hlen), "%" PRIu32, r->srv->cfg.history_len);
    snprintf(day, sizeof(day), "%08" PRId32, gw_local_day(now)); /* the history record's day */
    const char *argv[] = {w, h, block ? "1" : "0", r->user, reason, now_s, hlen, day};
    adm_script(r, block_done, ADM_S_BLOCK, 2, 8, argv);
}

void adm_h_sub_block(struct adm_req *r)
{
    block_set(r, true);
}

void adm_h_sub_unblock(struct adm_req *r)
{
    block_set(r, false);
}
