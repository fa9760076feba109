/*
 * adm_campaign.c - the reminder broadcast from the staff console (issue 5 part 4): campaigns
 * (create, read with their progress, list, cancel) and the subscribers' opt-in. The campaign is
 * run by a gateway (gateway/gw_broadcast.h); this file only writes its definition and reads the
 * progress the runner publishes, through the same script (gateway/lua/broadcast.lua).
 * Owner: the broadcast engineer.
 *
 *   POST /api/campaigns {id, texts: {lang: text}, default_lang?, send_at, zone?}  marketing
 *        send_at: "next_opening" | "now" | unix seconds | "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM)"
 *                 | "YYYY-MM-DDTHH:MM[:SS]" with zone (IANA): a local time in that zone
 *   GET  /api/campaigns[?zone=IANA]     the newest 50 ids with their state and figures   all
 *   GET  /api/campaigns/{id}[?zone=]    definition and progress                          all
 *        with zone: send_at_local "YYYY-MM-DD HH:MM" in that zone
 *   POST /api/campaigns/{id}/cancel                                                      marketing
 *   POST /api/subscribers/{msisdn}/optin, /optout                                         care
 *   GET  /api/subscribers/{msisdn}/optin (with the consent record, GW_CONSENT_KEY_FMT)    care
 *   POST /api/subscribers/{msisdn}/alerts/on, /alerts/off (the expiry warnings' switch)  care
 *
 * Creation answers each text's coding (GSM-7 or UCS-2), length in septets / UCS-2 units and SMS
 * parts, so marketing sees the cost before it goes out. The definition is written by the
 * script's "create" op on slot {bc}; the audit record goes to adm:{adm}:audit right after (like
 * subscriber changes). Re-sending the same definition (a retry after a 503) answers 200 and
 * writes the record again, marked "replay"; another definition under the same id is 409.
 *
 * Local times (the console's "at a chosen time", in the programme's zone) are converted here with
 * the system's tzdata through the catalog library, the rules the gateways and the calendar use:
 * a browser's own zone database can disagree (Chromium 156's ICU puts Casablanca at +00 in
 * December 2026 where tzdata 2025c says +01), and an hour off is a reminder at the wrong time.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adm_priv.h"
#include "catalog.h"
#include "gw_broadcast.h"
#include "gw_core.h"

#define SEND_AT_PAST_S 300 /* a send_at further in the past is a typo, not "now" */
#define LIST_MAX 50

/* EVAL of broadcast.lua (not registered with the server: campaigns are created rarely, and the
 * gateway library owns the script). */
static void bc_eval(struct adm_req *r, adm_step step, const char *id, int nargs,
                    const char *const *args)
{
    char keys[GW_BC_NKEYS][GW_BC_KEY_MAX];
    const char *argv[3 + GW_BC_NKEYS + 12];
    int argc = 0;

    gw_broadcast_keys(id, keys);
    argv[argc++] = "EVAL";
    argv[argc++] = gw_lua_broadcast;
    argv[argc++] = "10";
    for (int i = 0; i < GW_BC_NKEYS; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs && i < 12; i++)
        argv[argc++] = args[i];
    adm_redis(r, step, argc, argv);
}

static const char *coding_name(enum smpp_text_coding c)
{
    return c == SMPP_TEXT_GSM7 ? "GSM-7" : "UCS-2";
}

/* The zone named by the request (cfg.zoneinfo_dir, else the system's). NULL when the name is
 * not an installed IANA zone. The caller frees it with cat_tz_free. */
static struct cat_tz *load_zone(struct adm_req *r, const char *name)
{
    struct cat_tz *tz = NULL;
    int rc = r->srv->cfg.zoneinfo_dir[0] ? cat_tz_load_dir(r->srv->cfg.zoneinfo_dir, name, &tz)
                                         : cat_tz_load(name, &tz);
    return rc < 0 ? NULL : tz;
}

/* ?zone=: send_at_local for o, or a 400 answered (then false). */
static bool add_local(struct adm_req *r, json_t *campaigns, json_t *one)
{
    const char *zone = adm_query(r, "zone");
    struct cat_tz *tz;
    char buf[32];

    if (!zone)
        return true;
    tz = load_zone(r, zone);
    if (!tz) {
        adm_reply_error(r, 400, "zone", "zone: not an installed IANA time zone");
        return false;
    }
    for (size_t i = 0; i < (campaigns ? json_array_size(campaigns) : 1); i++) {
        json_t *o = campaigns ? json_array_get(campaigns, i) : one;
        json_t *at = json_object_get(o, "send_at");
        if (json_is_integer(at))
            json_object_set_new(
                o, "send_at_local",
                json_string(cat_tz_format_local(tz, json_integer_value(at), buf, sizeof(buf))));
    }
    cat_tz_free(tz);
    return true;
}

/* ---------------------------------------------------------------- create */

static void create_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record not written: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL,
                        "the campaign is created but its audit record is not: send the same "
                        "request again");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, r->n1 ? 200 : 201, o);
}

static void create_done(struct adm_req *r, const struct redisReply *reply)
{
    const char *id = json_string_value(json_object_get(r->body, "id"));

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "campaign create refused: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 500, NULL, "the store refused the campaign");
        return;
    }
    if (strcmp(reply->element[0]->str, "exists") == 0) {
        /* the same definition again is a retry; anything else is another campaign's id */
        bool same = reply->elements == 5;
        const char *mine[] = {r->text, json_string_value(json_object_get(r->j2, "default_lang")),
                              json_string_value(json_object_get(r->j2, "when")), r->s1};
        /* a "next_opening" send_at is filled in by the gateway that resolves it; "now" is a
         * different second on a retry */
        size_t cmp = strcmp(mine[2] ? mine[2] : "", "next_opening") == 0 || r->n2 ? 3 : 4;
        for (size_t i = 0; same && i < cmp; i++)
            same = reply->element[1 + i]->type == REDIS_REPLY_STRING && mine[i] &&
                   strcmp(reply->element[1 + i]->str, mine[i]) == 0;
        if (!same) {
            adm_reply_error(r, 409, "id", "campaign \"%s\" exists with another definition", id);
            return;
        }
        r->n1 = 1; /* replay */
    }
    char *after = json_dumps(r->j2, JSON_COMPACT);
    gw_log(GW_LOG_NOTICE, ADM_LOG, "campaign %s %s by %s", id, r->n1 ? "re-sent" : "created",
           r->user);
    adm_audit_append(r, create_audited, r->route->what, id, "{}", after ? after : "{}",
                     r->n1 ? "replay" : "");
    free(after);
}

void adm_h_campaign_create(struct adm_req *r)
{
    static const char *const keys[] = {"id", "texts", "default_lang", "send_at", "zone", NULL};
    json_t *jid, *jtexts, *jdl, *jat, *jzone, *info, *v;
    const char *id, *dl = NULL, *lang, *why = NULL;
    char send_at[24] = "", now_ms[24];
    int64_t now = adm_now_ms() / 1000, at = 0;
    size_t n = 0;

    if (!r->body || !adm_body_keys_ok(r, keys))
        return;
    jid = json_object_get(r->body, "id");
    if (!json_is_string(jid) || !gw_campaign_id_valid(json_string_value(jid))) {
        adm_reply_error(r, 400, "id", "id: 1-%d of a-z 0-9 - _, starting with a letter or digit",
                        GW_BC_ID_MAX);
        return;
    }
    id = json_string_value(jid);
    jtexts = json_object_get(r->body, "texts");
    if (!json_is_object(jtexts) || json_object_size(jtexts) == 0 ||
        json_object_size(jtexts) > GW_BC_LANGS_MAX) {
        adm_reply_error(r, 400, "texts", "texts: an object of 1-%d language: text",
                        GW_BC_LANGS_MAX);
        return;
    }
    info = json_object();
    json_object_foreach (jtexts, lang, v) {
        struct gw_campaign_text_info ti;
        char field[32];
        snprintf(field, sizeof(field), "texts.%.8s", lang);
        if (!gw_campaign_lang_valid(lang)) {
            json_decref(info);
            adm_reply_error(r, 400, "texts", "texts: \"%.16s\" is not a language code (fr, ar)",
                            lang);
            return;
        }
        if (!json_is_string(v) ||
            gw_campaign_text_check(json_string_value(v), json_string_length(v), NULL, &ti, &why) <
                0) {
            json_decref(info);
            adm_reply_error(r, 422, field, "%s: %s", field, why ? why : "a string is needed");
            return;
        }
        json_object_set_new(info, lang,
                            json_pack("{s:s, s:I, s:I}", "coding", coding_name(ti.coding), "units",
                                      (json_int_t)ti.units, "parts", (json_int_t)ti.parts));
        n++;
    }
    jdl = json_object_get(r->body, "default_lang");
    if (jdl) {
        dl = json_string_value(jdl);
        if (!dl || !json_is_string(json_object_get(jtexts, dl))) {
            json_decref(info);
            adm_reply_error(r, 400, "default_lang", "default_lang: one of the texts' languages");
            return;
        }
    } else if (n == 1) {
        void *it = json_object_iter(jtexts);
        dl = json_object_iter_key(it);
    } else {
        json_decref(info);
        adm_reply_error(r, 400, "default_lang",
                        "default_lang: required with several texts (for subscribers whose "
                        "language has no text)");
        return;
    }
    jat = json_object_get(r->body, "send_at");
    jzone = json_object_get(r->body, "zone");
    const char *when = "at";
    if (jzone) {
        /* a local wall-clock time in the named zone, converted with the system's tzdata */
        struct cat_tz *tz = json_is_string(jzone) ? load_zone(r, json_string_value(jzone)) : NULL;
        bool known = tz != NULL;
        int rc = tz && json_is_string(jat) ? adm_time_parse_local(json_string_value(jat), tz, &at)
                                           : -EINVAL;
        cat_tz_free(tz);
        if (!known || rc < 0) {
            json_decref(info);
            if (!known)
                adm_reply_error(r, 400, "zone", "zone: not an installed IANA time zone");
            else if (rc == -ENOENT)
                adm_reply_error(r, 400, "send_at",
                                "send_at: %.32s does not exist in %.64s (the clocks skip it)",
                                json_string_value(jat), json_string_value(jzone));
            else
                adm_reply_error(r, 400, "send_at",
                                "send_at: \"YYYY-MM-DDTHH:MM[:SS]\", a local time, with zone");
            return;
        }
    } else if (json_is_string(jat) && strcmp(json_string_value(jat), "next_opening") == 0) {
        when = "next_opening";
    } else if (json_is_string(jat) && strcmp(json_string_value(jat), "now") == 0) {
        at = now;
        r->n2 = 1;
    } else if (json_is_integer(jat)) {
        at = (int64_t)json_integer_value(jat);
    } else if (!json_is_string(jat) || adm_time_parse(json_string_value(jat), &at) < 0) {
        json_decref(info);
        adm_reply_error(r, 400, "send_at",
                        "send_at: \"next_opening\", \"now\", unix seconds or "
                        "\"YYYY-MM-DDTHH:MM[:SS]\" with Z or +HH:MM");
        return;
    }
    if (strcmp(when, "at") == 0) {
        if (at < now - SEND_AT_PAST_S || at > now + 400LL * 86400) {
            json_decref(info);
            adm_reply_error(r, 400, "send_at", "send_at: from now to 400 days ahead");
            return;
        }
        snprintf(send_at, sizeof(send_at), "%" PRId64, at);
    }
    /* r->text: the texts as stored (compact, sorted keys: a retry compares equal) */
    r->text = json_dumps(jtexts, JSON_COMPACT | JSON_SORT_KEYS);
    if (!r->text) {
        json_decref(info);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    snprintf(r->s1, sizeof(r->s1), "%s", send_at);
    /* j2: the definition for the audit record; j1: the answer */
    r->j2 = json_pack("{s:s, s:O, s:s, s:s, s:s}", "id", id, "texts", jtexts, "default_lang", dl,
                      "when", when, "send_at", send_at);
    r->j1 = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "state", "scheduled", "when", when,
                      "default_lang", dl, "texts", info);
    if (!r->j1 || !r->j2) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    if (send_at[0])
        json_object_set_new(r->j1, "send_at", json_integer(at));
    else
        json_object_set_new(r->j1, "send_at", json_null());
    snprintf(now_ms, sizeof(now_ms), "%" PRId64, adm_now_ms());
    const char *args[] = {"create", "", id, r->text, dl, when, send_at, now_ms, r->user};
    bc_eval(r, create_done, id, 9, args);
}

/* ---------------------------------------------------------------- read */

static json_t *campaign_json(const struct redisReply *h)
{
    static const char *const ints[] = {"total",       "sent",       "failed",     "skipped",
                                       "unknown",     "cursor",     "created_ms", "started_ms",
                                       "finished_ms", "updated_ms", "send_at",    NULL};
    json_t *o = json_object();

    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
        bool is_int = false;
        if (!k || !v || strcmp(k, "build_cursor") == 0)
            continue;
        for (size_t j = 0; ints[j]; j++)
            is_int = is_int || strcmp(k, ints[j]) == 0;
        if (is_int)
            json_object_set_new(o, k, json_integer(strtoll(v, NULL, 10)));
        else if (strcmp(k, "rate") == 0)
            json_object_set_new(o, k, json_real(strtod(v, NULL)));
        else if (strcmp(k, "texts") == 0)
            json_object_set_new(o, k, json_loads(v, 0, NULL));
        else
            json_object_set_new(o, k, json_string(v));
    }
    json_int_t total = json_integer_value(json_object_get(o, "total"));
    json_int_t fin = json_integer_value(json_object_get(o, "sent")) +
                     json_integer_value(json_object_get(o, "failed")) +
                     json_integer_value(json_object_get(o, "skipped")) +
                     json_integer_value(json_object_get(o, "unknown"));
    const char *state = json_string_value(json_object_get(o, "state"));
    /* the progress figure of the console: recipients with a final outcome */
    double pct = total > 0                               ? 100.0 * (double)fin / (double)total
                 : (state && strcmp(state, "done") == 0) ? 100.0
                                                         : 0.0;
    json_object_set_new(o, "progress_pct", json_real(pct));
    return o;
}

static void got_campaign(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->elements == 0) {
        adm_reply_error(r, 404, "id", "no campaign \"%s\"", r->arg);
        return;
    }
    json_t *o = campaign_json(reply);
    if (!add_local(r, NULL, o)) {
        json_decref(o);
        return;
    }
    adm_reply_json(r, 200, o);
}

void adm_h_campaign_get(struct adm_req *r)
{
    char key[GW_BC_KEY_MAX];

    if (!gw_campaign_id_valid(r->arg)) {
        adm_reply_error(r, 404, "id", "no campaign \"%.64s\"", r->arg);
        return;
    }
    snprintf(key, sizeof(key), "%s%.32s", GW_BC_KEY_CAMPAIGN, r->arg);
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, got_campaign, 2, argv);
}

/* The list: ids first, then one HGETALL per campaign, one at a time (n2 = next index). */
static void list_next(struct adm_req *r);

static void list_one(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
        json_array_append_new(json_object_get(r->j1, "campaigns"), campaign_json(reply));
    r->n2++;
    list_next(r);
}

static void list_next(struct adm_req *r)
{
    char key[GW_BC_KEY_MAX];

    if (r->n2 >= (int64_t)json_array_size(r->j2)) {
        if (!add_local(r, json_object_get(r->j1, "campaigns"), NULL))
            return;
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o);
        return;
    }
    snprintf(key, sizeof(key), "%s%s", GW_BC_KEY_CAMPAIGN,
             json_string_value(json_array_get(r->j2, (size_t)r->n2)));
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, list_one, 2, argv);
}

static void list_ids(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->j2 = json_array();
    r->j1 = json_pack("{s:[]}", "campaigns");
    for (size_t i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_STRING &&
            gw_campaign_id_valid(reply->element[i]->str))
            json_array_append_new(r->j2, json_string(reply->element[i]->str));
    }
    r->n2 = 0;
    list_next(r);
}

void adm_h_campaign_list(struct adm_req *r)
{
    char last[16];

    snprintf(last, sizeof(last), "%d", LIST_MAX - 1);
    const char *argv[] = {"ZREVRANGE", GW_BC_KEY_ALL, "0", last};
    adm_redis(r, list_ids, 4, argv);
}

/* ---------------------------------------------------------------- cancel */

static void cancel_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the campaign is cancelled but its audit record is not");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

static void cancel_done(struct adm_req *r, const struct redisReply *reply)
{
    char before[64];

    if (reply->type == REDIS_REPLY_NIL) {
        adm_reply_error(r, 404, "id", "no campaign \"%s\"", r->arg);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    bool running = strcmp(reply->str, "scheduled") == 0 || strcmp(reply->str, "building") == 0 ||
                   strcmp(reply->str, "sending") == 0;
    if (!running) {
        adm_reply_error(r, 409, "state", "campaign \"%s\" is %s already", r->arg, reply->str);
        return;
    }
    r->j1 = json_pack("{s:s, s:s, s:s}", "id", r->arg, "state", "cancelled", "was", reply->str);
    snprintf(before, sizeof(before), "{\"state\":\"%s\"}", reply->str);
    gw_log(GW_LOG_NOTICE, ADM_LOG, "campaign %s cancelled by %s", r->arg, r->user);
    adm_audit_append(r, cancel_audited, r->route->what, r->arg, before, "{\"state\":\"cancelled\"}",
                     NULL);
}

void adm_h_campaign_cancel(struct adm_req *r)
{
    if (!gw_campaign_id_valid(r->arg)) {
        adm_reply_error(r, 404, "id", "no campaign \"%.64s\"", r->arg);
        return;
    }
    const char *args[] = {"cancel", ""};
    bc_eval(r, cancel_done, r->arg, 2, args);
}

/* ---------------------------------------------------------------- opt-in */

static void optin_recorded(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL,
                        "the change is applied and audited but its consent record "
                        "is not");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

/* The consent record (GW_CONSENT_KEY_FMT): what the subscriber's choice is, when, through which
 * channel and by whom, next to the audit trail (which holds every staff change). */
static void optin_audited(struct adm_req *r, const struct redisReply *reply)
{
    char key[96], at[24];

    if (reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the change is applied but its audit record is not");
        return;
    }
    snprintf(key, sizeof(key), GW_CONSENT_KEY_FMT, r->arg);
    snprintf(at, sizeof(at), "%lld", (long long)gw_clock_now_ms());
    const char *argv[] = {"HSET",    key,  "optin", r->n1 == 1 ? "1" : "0", "at", at, "channel",
                          "console", "by", r->user};
    adm_redis(r, optin_recorded, 10, argv);
}

static void optin_done(struct adm_req *r, const struct redisReply *reply)
{
    bool in = r->n1 == 1;

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->j1 =
        json_pack("{s:s, s:b, s:b}", "msisdn", r->arg, "optin", in, "changed", reply->integer == 1);
    if (reply->integer != 1) {
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o); /* nothing changed: nothing to record */
        return;
    }
    char masked[GW_MASK_LEN];
    gw_log(GW_LOG_NOTICE, ADM_LOG, "%s %s by %s", in ? "opt-in" : "opt-out",
           gw_mask_msisdn(r->arg, masked), r->user);
    adm_audit_append(r, optin_audited, r->route->what, r->arg,
                     in ? "{\"optin\":false}" : "{\"optin\":true}",
                     in ? "{\"optin\":true}" : "{\"optin\":false}", NULL);
}

static void optin_set(struct adm_req *r, bool in)
{
    static const char *const keys[] = {NULL};

    if (!adm_msisdn_valid(r->arg)) {
        adm_reply_error(r, 400, "msisdn", "msisdn: 8-15 digits");
        return;
    }
    if (r->body && !adm_body_keys_ok(r, keys))
        return;
    r->n1 = in;
    const char *argv[] = {in ? "SADD" : "SREM", GW_BC_KEY_OPTIN, r->arg};
    adm_redis(r, optin_done, 3, argv);
}

void adm_h_sub_optin(struct adm_req *r)
{
    optin_set(r, true);
}

void adm_h_sub_optout(struct adm_req *r)
{
    optin_set(r, false);
}

/* POST /api/subscribers/{msisdn}/alerts/on|off: the points-expiry warnings' own switch, the
 * consent record's "alerts" (absent = on), read by the expiry job before each warning. The
 * previous value is read first so the audit holds before and after and an unchanged switch is
 * not recorded again. */
static void alerts_recorded(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the change is audited but not applied: try again");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

static void alerts_audited(struct adm_req *r, const struct redisReply *reply)
{
    char key[96], at[24];

    if (reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the change is not applied: its audit record is not written");
        return;
    }
    snprintf(key, sizeof(key), GW_CONSENT_KEY_FMT, r->arg);
    snprintf(at, sizeof(at), "%lld", (long long)gw_clock_now_ms());
    const char *argv[] = {"HSET",           key,       "alerts",    r->n1 == 1 ? "1" : "0",
                          "alerts_at",      at,        "alerts_channel", "console",
                          "alerts_by",      r->user};
    adm_redis(r, alerts_recorded, 10, argv);
}

static void alerts_read(struct adm_req *r, const struct redisReply *reply)
{
    bool on = r->n1 == 1;

    if (reply->type != REDIS_REPLY_NIL && reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    bool was = reply->type == REDIS_REPLY_NIL || strcmp(reply->str, "0") != 0;
    r->j1 = json_pack("{s:s, s:b, s:b}", "msisdn", r->arg, "alerts", on, "changed", was != on);
    if (was == on) {
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o); /* nothing changed: nothing to record */
        return;
    }
    char masked[GW_MASK_LEN];
    gw_log(GW_LOG_NOTICE, ADM_LOG, "expiry warnings %s for %s by %s", on ? "on" : "off",
           gw_mask_msisdn(r->arg, masked), r->user);
    adm_audit_append(r, alerts_audited, r->route->what, r->arg,
                     on ? "{\"alerts\":false}" : "{\"alerts\":true}",
                     on ? "{\"alerts\":true}" : "{\"alerts\":false}", NULL);
}

static void alerts_set(struct adm_req *r, bool on)
{
    static const char *const keys[] = {NULL};
    char key[96];

    if (!adm_msisdn_valid(r->arg)) {
        adm_reply_error(r, 400, "msisdn", "msisdn: 8-15 digits");
        return;
    }
    if (r->body && !adm_body_keys_ok(r, keys))
        return;
    r->n1 = on;
    snprintf(key, sizeof(key), GW_CONSENT_KEY_FMT, r->arg);
    const char *argv[] = {"HGET", key, "alerts"};
    adm_redis(r, alerts_read, 3, argv);
}

void adm_h_sub_alerts_on(struct adm_req *r)
{
    alerts_set(r, true);
}

void adm_h_sub_alerts_off(struct adm_req *r)
{
    alerts_set(r, false);
}

/* GET /api/subscribers/{msisdn}/optin: {msisdn, optin, alerts, record: {optin, at_ms, channel,
 * by, alerts, alerts_at_ms, alerts_channel, alerts_by} | null} (record fields present when set) */
static void optin_record_read(struct adm_req *r, const struct redisReply *reply)
{
    json_t *rec = json_null();
    bool alerts = true;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->elements > 0)
        rec = json_object();
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        /* untrusted store: known fields only, numbers checked, strings bounded */
        if (strcmp(k->str, "optin") == 0 || strcmp(k->str, "alerts") == 0) {
            json_object_set_new(rec, k->str, json_boolean(strcmp(v->str, "1") == 0));
            if (strcmp(k->str, "alerts") == 0)
                alerts = strcmp(v->str, "0") != 0;
        } else if (strcmp(k->str, "at") == 0 || strcmp(k->str, "alerts_at") == 0) {
            char *end;
            long long ms = strtoll(v->str, &end, 10);
            if (*end == '\0' && ms > 0)
                json_object_set_new(rec, strcmp(k->str, "at") == 0 ? "at_ms" : "alerts_at_ms",
                                    json_integer(ms));
        } else if ((strcmp(k->str, "channel") == 0 || strcmp(k->str, "by") == 0 ||
                    strcmp(k->str, "alerts_channel") == 0 || strcmp(k->str, "alerts_by") == 0) &&
                   v->len < 80) {
            json_object_set_new(rec, k->str, json_stringn_nocheck(v->str, v->len));
        }
    }
    adm_reply_json(r, 200,
                   json_pack("{s:s, s:b, s:b, s:o}", "msisdn", r->arg, "optin", r->n1 == 1,
                             "alerts", alerts, "record", rec));
}

static void optin_member_read(struct adm_req *r, const struct redisReply *reply)
{
    char key[96];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->n1 = reply->integer;
    snprintf(key, sizeof(key), GW_CONSENT_KEY_FMT, r->arg);
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, optin_record_read, 2, argv);
}

void adm_h_sub_optin_get(struct adm_req *r)
{
    if (!adm_msisdn_valid(r->arg)) {
        adm_reply_error(r, 400, "msisdn", "msisdn: 8-15 digits");
        return;
    }
    const char *argv[] = {"SISMEMBER", GW_BC_KEY_OPTIN, r->arg};
    adm_redis(r, optin_member_read, 3, argv);
}
