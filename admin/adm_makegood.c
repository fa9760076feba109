/*
 * adm_makegood.c - make-good (issue 10 section 5): the gift day's redemptions that failed through
 * our fault, recorded by the gateways in lg:{mg}... (gateway/wire_brakes.c), listed for care and
 * the auditor, and one audited action that compensates every subscriber on the list.
 *
 *   GET  /api/makegood/<YYYYMMDD>        {day, count, items: [{msisdn, cause, at}]}
 *        (the MSISDN masked for roles without subscriber data: marketing sees the incident)
 *   POST /api/makegood/<YYYYMMDD>/grant  {"incident": "...", "points": N} or
 *                                        {"incident": "...", "pass": true}
 *        -> {day, incident, points | pass_until, applied, duplicate, failed}
 *
 * The priority pass (the other compensation): the member enters the gift days of the next
 * MG_PASS_DAYS local days at the premium tiers' earlier opening, like those tiers' members
 * (admin/lua/pass.lua writes the wallet's pp; catalog/lua/sub.lua and the USSD item screen honour
 * it), once per subscriber and incident like the points.
 *
 * A grant credits each subscriber through the ledger's staff adjustment (adjust.lua: a lot of
 * today, the history line, the slot's aggregates) with the request id "mg:<incident>:<M>", which
 * adjust.lua remembers like a ref: a re-run of the same grant (a retry, a double click, another
 * agent) finds every id and pays nobody twice ("duplicate"). The reason in the history and the
 * audit is "make-good <incident> <day>". One audit record for the whole action, after the last
 * subscriber, with the counts. The subscribers are credited one script at a time (one request in
 * flight per HTTP request, as everywhere in the console): a gift day's list is thousands at most.
 * Owner: the fraud brakes engineer.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define MG_POINTS_MAX 100000
#define MG_INCIDENT_MAX 32
#define MG_PASS_DAYS 7 /* a pass for next week: today and the 7 local days after it */

static bool day_ok(const char *s)
{
    if (strlen(s) != 8)
        return false;
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return s[0] != '0';
}

static bool incident_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > MG_INCIDENT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* HGETALL lg:mg:{mg}:<day> of r->arg (validated) */
static void read_list(struct adm_req *r, adm_step step)
{
    char key[sizeof("lg:mg:{mg}:") + sizeof(r->arg)];
    snprintf(key, sizeof(key), "lg:mg:{mg}:%s", r->arg);
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, step, 2, argv);
}

static bool list_ok(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- the list */

static void list_done(struct adm_req *r, const struct redisReply *reply)
{
    if (!list_ok(r, reply))
        return;
    json_t *items = json_array();
    for (size_t i = 0; items && i + 1 < reply->elements; i += 2) {
        const struct redisReply *m = reply->element[i], *v = reply->element[i + 1];
        char cause[24] = "";
        long long at = 0;
        if (m->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            !adm_msisdn_valid(m->str))
            continue;
        if (sscanf(v->str, "%23[a-z_],%lld", cause, &at) != 2)
            continue;
        char shown[sizeof(((struct adm_req *)0)->arg) + 32];
        snprintf(shown, sizeof(shown), "%s", m->str);
        if (!(r->role & ADM_ROLES_SUBSCRIBER_DATA))
            adm_mask_numbers(shown);
        json_array_append_new(items, json_pack("{s:s, s:s, s:I}", "msisdn", shown, "cause", cause,
                                               "at", (json_int_t)at));
    }
    if (!items) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    adm_reply_json(r, 200,
                   json_pack("{s:s, s:I, s:o}", "day", r->arg, "count",
                             (json_int_t)json_array_size(items), "items", items));
}

void adm_h_makegood_get(struct adm_req *r)
{
    if (!day_ok(r->arg)) {
        adm_reply_error(r, 400, "day", "the gift day is YYYYMMDD");
        return;
    }
    read_list(r, list_done);
}

/* ---------------------------------------------------------------- the grant */

/* r->j1: the MSISDNs to credit; r->n1: the next one; r->j2: {incident, points, applied,
 * duplicate, failed}. */
static void grant_next(struct adm_req *r);

static void count(struct adm_req *r, const char *what)
{
    json_t *v = json_object_get(r->j2, what);
    json_object_set_new(r->j2, what, json_integer(json_integer_value(v) + 1));
}

static void grant_one_done(struct adm_req *r, const struct redisReply *reply)
{
    char mask[GW_MASK_LEN];
    const char *m = json_string_value(json_array_get(r->j1, (size_t)r->n1));

    /* adjust.lua answers 4 elements, pass.lua 2: the first is 1 for a duplicate / 0 for a
     * pass already there */
    bool pass = json_object_get(r->j2, "pass_until") != NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == (pass ? 2u : 4u) &&
        reply->element[0]->type == REDIS_REPLY_INTEGER && pass)
        count(r, reply->element[0]->integer == 0 ? "duplicate" : "applied");
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 &&
             reply->element[0]->type == REDIS_REPLY_INTEGER)
        count(r, reply->element[0]->integer == 1 ? "duplicate" : "applied");
    else {
        /* not enrolled, or the id used for other points (LGWREUSED: the same incident granted
         * with another amount): nobody is paid twice; named in the log */
        count(r, "failed");
        gw_log(GW_LOG_NOTICE, ADM_LOG, "make-good %s: %s refused: %.120s", r->arg,
               gw_mask_msisdn(m ? m : "", mask), adm_reply_err_text(reply));
    }
    r->n1++;
    grant_next(r);
}

static void grant_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record not written: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL,
                        "the compensation is granted but its audit record is not: send the same "
                        "request again (nobody is paid twice)");
        return;
    }
    json_t *o = r->j2;
    r->j2 = NULL;
    json_object_set_new(o, "day", json_string(r->arg));
    adm_reply_json(r, 200, o);
}

static void grant_next(struct adm_req *r)
{
    json_t *pass_until = json_object_get(r->j2, "pass_until");
    if ((size_t)r->n1 >= json_array_size(r->j1)) {
        char *after = json_dumps(r->j2, JSON_COMPACT | JSON_SORT_KEYS);
        if (!after) {
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
        gw_log(GW_LOG_NOTICE, ADM_LOG, "make-good %s by %s: %s", r->arg, r->user, after);
        adm_audit_append(r, grant_audited, "makegood.grant", r->arg, "{}", after, "");
        free(after);
        return;
    }
    const char *m = json_string_value(json_array_get(r->j1, (size_t)r->n1));
    const char *incident = json_string_value(json_object_get(r->j2, "incident"));
    if (pass_until) {
        char wk[48], until[16];
        snprintf(wk, sizeof(wk), "lg:{%s}:w", m);
        snprintf(until, sizeof(until), "%08" JSON_INTEGER_FORMAT, json_integer_value(pass_until));
        const char *pargv[] = {wk, until, incident};
        adm_script(r, grant_one_done, ADM_S_PASS, 1, 3, pargv);
        return;
    }
    char w[48], rf[48], h[48], rid[80], pts[24], reason[96], now_s[24], day[16], ret[16], hlen[16],
        tag[GW_SLOT_TAG_MAX], agd[48], agt[40];
    int64_t now = adm_now_ms() / 1000;

    snprintf(w, sizeof(w), "lg:{%s}:w", m);
    snprintf(rf, sizeof(rf), "lg:{%s}:r", m);
    snprintf(h, sizeof(h), "lg:{%s}:h", m);
    snprintf(rid, sizeof(rid), "mg:%s:%s", incident, m);
    snprintf(pts, sizeof(pts), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(r->j2, "points")));
    snprintf(reason, sizeof(reason), "make-good %s %s", incident, r->arg);
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    snprintf(day, sizeof(day), "%08" PRId32, gw_local_day(now));
    snprintf(ret, sizeof(ret), "%" PRIu32, r->srv->cfg.ref_retention_days * 86400u);
    snprintf(hlen, sizeof(hlen), "%" PRIu32, r->srv->cfg.history_len);
    if (gw_slot_tag_of(m, tag) < 0) {
        count(r, "failed");
        r->n1++;
        grant_next(r);
        return;
    }
    snprintf(agd, sizeof(agd), "lg:ag:%s:%s", tag, day);
    snprintf(agt, sizeof(agt), "lg:ag:%s:tot", tag);
    const char *argv[] = {w, rf, h, agd, agt, rid, pts, r->user, reason, now_s, day, ret, hlen};
    adm_script(r, grant_one_done, ADM_S_ADJUST, 5, 13, argv);
}

static void grant_list(struct adm_req *r, const struct redisReply *reply)
{
    if (!list_ok(r, reply))
        return;
    r->j1 = json_array();
    for (size_t i = 0; r->j1 && i + 1 < reply->elements; i += 2) {
        const struct redisReply *m = reply->element[i];
        if (m->type == REDIS_REPLY_STRING && adm_msisdn_valid(m->str))
            json_array_append_new(r->j1, json_string(m->str));
    }
    if (!r->j1) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    r->n1 = 0;
    grant_next(r);
}

void adm_h_makegood_grant(struct adm_req *r)
{
    static const char *const keys[] = {"incident", "points", "pass", NULL};

    if (!day_ok(r->arg)) {
        adm_reply_error(r, 400, "day", "the gift day is YYYYMMDD");
        return;
    }
    if (!r->body) {
        adm_reply_error(r, 400, "body",
                        "send {\"incident\": ..., \"points\": ...} or {\"incident\": ..., "
                        "\"pass\": true}");
        return;
    }
    if (!adm_body_keys_ok(r, keys))
        return;
    json_t *inc = json_object_get(r->body, "incident"), *p = json_object_get(r->body, "points");
    if (!json_is_string(inc) || !incident_ok(json_string_value(inc))) {
        adm_reply_error(r, 400, "incident",
                        "incident names the outage: 1-%d of A-Z a-z 0-9 _ - (one per incident: "
                        "a grant is paid once per subscriber and incident)",
                        MG_INCIDENT_MAX);
        return;
    }
    json_t *pass = json_object_get(r->body, "pass");
    if (pass && (!json_is_true(pass) || p)) {
        adm_reply_error(r, 400, "pass",
                        "pass is true, and a grant is either points or a priority pass");
        return;
    }
    if (pass) {
        int32_t until = gw_days_add(gw_local_day(adm_now_ms() / 1000), MG_PASS_DAYS);
        r->j2 = json_pack("{s:O, s:I, s:i, s:i, s:i}", "incident", inc, "pass_until",
                          (json_int_t)until, "applied", 0, "duplicate", 0, "failed", 0);
    } else if (!json_is_integer(p) || json_integer_value(p) < 1 ||
               json_integer_value(p) > MG_POINTS_MAX) {
        adm_reply_error(r, 400, "points", "points must be an integer from 1 to %d", MG_POINTS_MAX);
        return;
    } else
        r->j2 = json_pack("{s:O, s:O, s:i, s:i, s:i}", "incident", inc, "points", p, "applied",
                          0, "duplicate", 0, "failed", 0);
    if (!r->j2) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    read_list(r, grant_list);
}
