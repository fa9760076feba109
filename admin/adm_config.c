/*
 * adm_config.c - marketing's configuration documents in Redis: the gift-day calendar
 * (cfg:{adm}:giftdays) and the catalogue (cfg:{adm}:catalog). Each is a hash {doc, version, at,
 * by}: the JSON text staff edit, a version counter for optimistic concurrency, and who changed it
 * when. Owner: the staff-console engineer.
 *
 * A write is validated with the catalog library (cat_calendar_config_parse + cat_calendar_new,
 * cat_catalog_parse with the loyalty table's tiers) before anything is written, then cfg_put.lua
 * compares the editor's base version with the stored one and writes the document, the new
 * version and the audit record in one script. A stale base version is 409 and changes nothing.
 * Gateways load these documents (gateway/wire_cfgdocs.c watches the version field); stopping an
 * item also sets the shared kill switch cat:{ITEM}:k (see kill_key_write).
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
#include "gw_campaign.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_loyalty.h"
#include "ussd.h"

#define PREVIEW_OPENINGS 8
#define STOCK_MAX 1000000000LL
#define LIMIT_MAX 1000000LL

/* ---------------------------------------------------------------- shared */

struct stored_doc {
    const char *doc; /* NULL when none is stored */
    int64_t version, at;
    const char *by;
};

/* HMGET doc version at by -> stored_doc (pointers into reply). false on an unexpected reply. */
static bool read_stored(const struct redisReply *reply, struct stored_doc *d)
{
    memset(d, 0, sizeof(*d));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
        return false;
    const struct redisReply *const *e = (const struct redisReply *const *)reply->element;
    if (e[0]->type == REDIS_REPLY_STRING)
        d->doc = e[0]->str;
    if (e[1]->type == REDIS_REPLY_STRING)
        d->version = strtoll(e[1]->str, NULL, 10);
    if (e[2]->type == REDIS_REPLY_STRING)
        d->at = strtoll(e[2]->str, NULL, 10);
    if (e[3]->type == REDIS_REPLY_STRING)
        d->by = e[3]->str;
    return true;
}

static void hmget_doc(struct adm_req *r, const char *key, adm_step step)
{
    const char *argv[] = {"HMGET", key, "doc", "version", "at", "by"};
    adm_redis(r, step, 6, argv);
}

/* A catalog-library error "items[3].price: reason" -> 422 with field "document.items[3].price". */
static void reply_invalid(struct adm_req *r, const char *err)
{
    char field[128];
    const char *colon = strstr(err, ": ");

    if (colon && (size_t)(colon - err) < sizeof(field) - 10)
        snprintf(field, sizeof(field), "document.%.*s", (int)(colon - err), err);
    else
        snprintf(field, sizeof(field), "document");
    adm_reply_error(r, 422, field, "%s", err);
}

/*
 * What each running gateway uses: cfg:{adm}:seen (gateway/wire_cfgdocs.c), one field per gateway
 * process "<host>/<pid>" -> "<unix ms> catalog=V giftdays=V loyalty=V", rewritten at every poll.
 * A field older than three polls (catalog.docs_poll_ms) and a second is a gateway that stopped:
 * not shown. r->s1 names the document ("catalog", "giftdays", "loyalty"); r->j1 is the answer
 * being built.
 */
static int64_t seen_max_age_ms(const struct adm_server *srv)
{
    return (srv->gw ? 3 * (int64_t)srv->gw->catalog.docs_poll_ms : 6000) + 1000;
}

static void reply_seen(struct adm_req *r, const struct redisReply *reply)
{
    json_t *list = json_array();
    json_int_t stored = json_integer_value(json_object_get(r->j1, "version"));
    bool all = true;
    char pat[40];
    int64_t now = adm_now_ms();

    snprintf(pat, sizeof(pat), " %.30s=", r->s1);
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || k->len > 96)
            continue;
        long long at = strtoll(v->str, NULL, 10), ver;
        const char *p = strstr(v->str, pat);
        if (!p || at <= 0 || now - at > seen_max_age_ms(r->srv) ||
            sscanf(p + strlen(pat), "%lld", &ver) != 1)
            continue;
        all = all && ver == stored;
        json_array_append_new(list, json_pack("{s:s%, s:I, s:I}", "id", k->str, k->len, "version",
                                              (json_int_t)ver, "seen_at", (json_int_t)at));
    }
    json_object_set_new(r->j1, "gateways", list);
    json_object_set_new(r->j1, "in_force_everywhere", json_boolean(all && json_array_size(list)));
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

static void reply_doc(struct adm_req *r, const struct redisReply *reply)
{
    struct stored_doc d;
    json_t *doc = NULL;

    if (!read_stored(reply, &d)) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (d.doc) {
        doc = json_loads(d.doc, 0, NULL);
        if (!doc) {
            GW_LOGE(ADM_LOG, "stored document is not JSON");
            adm_reply_error(r, 500, NULL, "the stored document is not JSON");
            return;
        }
    }
    r->j1 = json_pack("{s:I, s:o, s:I, s:s}", "version", (json_int_t)d.version, "document",
                      doc ? doc : json_null(), "updated_at", (json_int_t)d.at, "updated_by",
                      d.by ? d.by : "");
    const char *argv[] = {"HGETALL", ADM_KEY_SEEN};
    adm_redis(r, reply_seen, 2, argv);
}

/* GET of a document with the versions the running gateways use. */
static void doc_get(struct adm_req *r, const char *key, const char *name)
{
    snprintf(r->s1, sizeof(r->s1), "%s", name);
    hmget_doc(r, key, reply_doc);
}

/* {"version": N, "document": {...}}: checks the shape, keeps the document's text in r->text and
 * the base version in r->n1. false when it replied. */
static bool read_put_body(struct adm_req *r)
{
    static const char *const keys[] = {"version", "document", NULL};
    json_t *v, *doc;

    if (!r->body) {
        adm_reply_error(r, 400, "body", "send {\"version\": N, \"document\": {...}}");
        return false;
    }
    if (!adm_body_keys_ok(r, keys))
        return false;
    v = json_object_get(r->body, "version");
    doc = json_object_get(r->body, "document");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        adm_reply_error(r, 400, "version",
                        "version must be the version you started from (0 when none is stored)");
        return false;
    }
    if (!json_is_object(doc)) {
        adm_reply_error(r, 400, "document", "document must be a JSON object");
        return false;
    }
    r->n1 = json_integer_value(v);
    r->text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!r->text) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return false;
    }
    return true;
}

static void reply_stale(struct adm_req *r, int64_t current)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "error",
                          "the document changed since you loaded it: reload and edit again",
                          "field", "version", "current_version", (json_int_t)current);
    adm_reply_json(r, 409, o);
}

/*
 * The kill switch shared by every gateway: cat:{ITEM}:k (exists = killed), which the reserve step
 * (catalog/lua/item.lua) checks on the item's own slot, so a stop takes effect on every gateway at
 * once, before any of them reloads the catalogue. A PATCH with "kill" first writes the document
 * and its audit record (cfg_put.lua: the record's "after" carries "kill"), then sets or deletes
 * the key with one single-key command on the item's slot: the audit slot {adm} and the item's
 * slot differ on a cluster, so the two cannot be one script. If the key write fails the client
 * gets 503 and sends the same request again (the key write is idempotent; the document gets one
 * more version with the same items). Only "kill" touches the key: "enabled" edits the document.
 */
enum { KILL_NONE = 0, KILL_SET = 1, KILL_CLEAR = 2 }; /* r->n2 of a PATCH */

static void kill_key_done(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(ADM_LOG, "kill switch of %s: %.200s", r->arg, adm_reply_err_text(reply));
        adm_reply_error(r, 503, "kill",
                        "the catalogue changed (version %" PRId64 ") but the shared kill switch "
                        "could not be %s: send the same request again",
                        r->n1, r->n2 == KILL_SET ? "set" : "cleared");
        return;
    }
    gw_log(GW_LOG_NOTICE, ADM_LOG, "kill switch of %s %s by %s", r->arg,
           r->n2 == KILL_SET ? "set" : "cleared", r->user);
    adm_reply_json(
        r, 200, json_pack("{s:I, s:b}", "version", (json_int_t)r->n1, "kill", r->n2 == KILL_SET));
}

static void kill_key_write(struct adm_req *r, int64_t version)
{
    char key[sizeof(r->arg) + 16], val[ADM_USER_MAX + 32];

    r->n1 = version;
    /* r->arg matched an item id of the stored (validated) catalogue: [A-Za-z0-9_.-], < 32 */
    snprintf(key, sizeof(key), "cat:{%s}:k", r->arg);
    snprintf(val, sizeof(val), "%s@%" PRId64, r->user, adm_now_ms());
    if (r->n2 == KILL_SET) {
        const char *argv[] = {"SET", key, val};
        adm_redis(r, kill_key_done, 3, argv);
    } else {
        const char *argv[] = {"DEL", key};
        adm_redis(r, kill_key_done, 2, argv);
    }
}

/*
 * A stock change reaches the gift day under way (issue 12 §1): after the document and its record,
 * stock_move.lua moves the day's "left" by the difference on the item's slot (one script: a
 * reservation never sees half of it), then the move gets its own audit record
 * ("catalog.item.left": the day, left before and after). The day is the board's
 * (adm_gift_day_now), so the board shows the moved figure. A failure after the document was
 * written is 503: the client sends the same request again (the move is idempotent by
 * cat:{ITEM}:b:DAY; see the README for the one case it cannot recover).
 */
static void stock_done(struct adm_req *r)
{
    json_int_t version = json_integer_value(json_object_get(r->j1, "version"));
    json_t *left = json_object_get(r->j1, "left");

    if (r->n2 != KILL_NONE) {
        kill_key_write(r, version);
        return;
    }
    adm_reply_json(r, 200, json_pack("{s:I, s:O}", "version", version, "left", left));
}

static void stock_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit of the stock move of %s: %.200s", r->arg,
                adm_reply_err_text(reply));
        adm_reply_error(r, 503, "stock_per_day",
                        "the stock left moved but its audit record was not written: send the "
                        "same request again");
        return;
    }
    stock_done(r);
}

static void stock_moved(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER ||
        reply->element[2]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "stock_move %s: %.200s", r->arg, adm_reply_err_text(reply));
        adm_reply_error(r, 503, "stock_per_day",
                        "the catalogue changed but the stock left of the gift day under way did "
                        "not move: send the same request again");
        return;
    }
    long long was = reply->element[1]->integer, now = reply->element[2]->integer;
    json_t *left = json_object_get(r->j1, "left");
    json_object_set_new(left, "before", was < 0 ? json_null() : json_integer(was));
    json_object_set_new(left, "after", now < 0 ? json_null() : json_integer(now));
    json_object_set_new(left, "moved", json_boolean(reply->element[0]->integer == 1));
    if (reply->element[0]->integer != 1) {
        stock_done(r);
        return;
    }
    gw_log(GW_LOG_NOTICE, ADM_LOG, "%s: stock left of %s moved %lld -> %lld by %s", r->arg,
           json_string_value(json_object_get(left, "day")), was, now, r->user);
    json_t *b = json_pack("{s:O, s:I, s:O}", "day", json_object_get(left, "day"), "left",
                          (json_int_t)was, "stock_per_day", json_object_get(r->j1, "old"));
    json_t *a = json_pack("{s:O, s:I, s:O}", "day", json_object_get(left, "day"), "left",
                          (json_int_t)now, "stock_per_day", json_object_get(r->j1, "new"));
    char *bt = b ? json_dumps(b, JSON_COMPACT) : NULL, *at = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(b);
    json_decref(a);
    if (!bt || !at) {
        free(bt);
        free(at);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    adm_audit_append(r, stock_audited, "catalog.item.left", r->arg, bt, at, "");
    free(bt);
    free(at);
}

static void stock_day(struct adm_req *r, const struct redisReply *reply)
{
    bool open;
    char ks[128], kb[128], old[24], new[24], day[16];
    int32_t d = adm_gift_day_now(r->srv, reply, &open, NULL, 0);

    snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100),
             (int)(d % 100));
    json_object_set_new(r->j1, "left", json_pack("{s:s, s:b}", "day", day, "open_now", open));
    /* r->arg is an item id of the stored, validated catalogue: [A-Za-z0-9_.-], < 32 */
    snprintf(ks, sizeof(ks), "cat:{%s}:s:%08d", r->arg, (int)d);
    snprintf(kb, sizeof(kb), "cat:{%s}:b:%08d", r->arg, (int)d);
    snprintf(old, sizeof(old), "%lld",
             (long long)json_integer_value(json_object_get(r->j1, "old")));
    snprintf(new, sizeof(new), "%lld",
             (long long)json_integer_value(json_object_get(r->j1, "new")));
    const char *argv[] = {ks, kb, old, new};
    adm_script(r, stock_moved, ADM_S_STOCK_MOVE, 2, 4, argv);
}

static void stock_move_start(struct adm_req *r)
{
    const char *argv[] = {"HGET", ADM_KEY_GIFTDAYS, "doc"};
    adm_redis(r, stock_day, 3, argv);
}

static void put_done(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "cfg_put: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 500, NULL, "the store refused the change");
        return;
    }
    if (reply->element[0]->integer == 1) {
        reply_stale(r, reply->element[1]->integer);
        return;
    }
    gw_log(GW_LOG_NOTICE, ADM_LOG, "%s by %s -> version %lld", r->route->what, r->user,
           reply->element[1]->integer);
    if (r->j1 && strcmp(r->route->what, "catalog.item.patch") == 0) {
        json_object_set_new(r->j1, "version", json_integer(reply->element[1]->integer));
        stock_move_start(r);
        return;
    }
    if (r->n2 != KILL_NONE) {
        kill_key_write(r, reply->element[1]->integer);
        return;
    }
    adm_reply_json(r, 200, json_pack("{s:I}", "version", (json_int_t)reply->element[1]->integer));
}

/* Writes r->text as the new document under base version r->n1, with the audit record. */
static void put_write(struct adm_req *r, const char *key, const char *target, const char *before,
                      const char *after)
{
    char base[24], now[24];

    snprintf(base, sizeof(base), "%" PRId64, r->n1);
    snprintf(now, sizeof(now), "%" PRId64, adm_now_ms());
    const char *argv[] = {key, ADM_KEY_AUDIT,  base,   r->text, r->user, adm_role_name(r->role),
                          now, r->route->what, target, before,  after,   r->ip};
    adm_script(r, put_done, ADM_S_CFG_PUT, 2, 12, argv);
}

static const char *zoneinfo(const struct adm_req *r)
{
    return r->srv->cfg.zoneinfo_dir[0] ? r->srv->cfg.zoneinfo_dir : NULL;
}

/* ---------------------------------------------------------------- validation */

static int catalog_parse_srv(const struct adm_server *srv, const char *text, size_t len,
                             struct cat_catalog **out, char *err, size_t errlen)
{
    const char *tiers[ADM_MAX_TIERS];
    struct cat_load_opts opts = {.tiers = tiers, .n_tiers = srv->cfg.n_tiers};

    for (unsigned i = 0; i < srv->cfg.n_tiers; i++)
        tiers[i] = srv->cfg.tiers[i];
    return cat_catalog_parse(text, len, &opts, out, err, errlen);
}

/* The loyalty table with the gateway's own parser and checks (gw_config_loyalty_parse: the same
 * code that reads the file at start and on SIGHUP), against the gateway's other sections. The zone
 * cannot change here: the gateways count days, caps and lots in the zone they started with. */
static int loyalty_check(const struct adm_server *srv, const char *text, size_t len, char *err,
                         size_t errlen)
{
    struct gw_loyalty *t;
    int rc;

    if (!srv->gw) {
        snprintf(err, errlen, "loyalty: the gateway's configuration is not known to this console");
        return -EINVAL;
    }
    if (!(t = malloc(sizeof(*t)))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = gw_config_loyalty_parse("", text, len, srv->gw, t, err, errlen);
    if (rc == 0 && strcmp(t->timezone, srv->gw->loyalty.timezone) != 0) {
        snprintf(err, errlen,
                 "timezone: the gateways count days in %s; another zone needs a new configuration "
                 "file and a restart",
                 srv->gw->loyalty.timezone);
        rc = -EINVAL;
    }
    free(t);
    /* the parser names paths from the configuration's root: "loyalty.tiers[1]..." */
    if (rc < 0 && strncmp(err, "loyalty.", 8) == 0)
        memmove(err, err + 8, strlen(err + 8) + 1);
    return rc;
}

int adm_doc_check(const struct adm_server *srv, enum adm_doc doc, const char *text, size_t len,
                  char *err, size_t errlen)
{
    struct cat_calendar_config *cfg;
    struct cat_calendar *cal = NULL;
    struct cat_catalog *c = NULL;
    int rc;

    switch (doc) {
    case ADM_DOC_GIFTDAYS:
        if (!(cfg = malloc(sizeof(*cfg)))) { /* ~10 KiB: not on the stack */
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        rc = cat_calendar_config_parse(text, len, cfg, err, errlen);
        if (rc == 0)
            rc = cat_calendar_new(cfg, srv->cfg.zoneinfo_dir[0] ? srv->cfg.zoneinfo_dir : NULL,
                                  &cal, err, errlen);
        cat_calendar_free(cal);
        free(cfg);
        return rc;
    case ADM_DOC_CATALOG:
        rc = catalog_parse_srv(srv, text, len, &c, err, errlen);
        cat_catalog_unref(c);
        return rc;
    case ADM_DOC_LOYALTY:
        return loyalty_check(srv, text, len, err, errlen);
    case ADM_DOC_MENUS: {
        /* the gateway's own loader (ussd/ussd_menu.c): errors "menus.fr.points.text: ..." */
        struct ussd_menus *m = NULL;
        rc = ussd_menus_load_buffer(text, len, "", &m, err, errlen);
        ussd_menus_free(m);
        if (rc < 0 && strncmp(err, ": ", 2) == 0)
            memmove(err, err + 2, strlen(err + 2) + 1);
        return rc;
    }
    case ADM_DOC_CAMPAIGNS: {
        struct gw_campaigns *cd = malloc(sizeof(*cd)); /* ~60 KiB: not on the stack */
        if (!cd) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        rc = gw_campaigns_parse(text, len, cd, err, errlen);
        free(cd);
        return rc;
    }
    default:
        snprintf(err, errlen, "unknown document");
        return -EINVAL;
    }
}

/* ---------------------------------------------------------------- gift days */

void adm_h_giftdays_get(struct adm_req *r)
{
    doc_get(r, ADM_KEY_GIFTDAYS, "giftdays");
}

/* ---------------------------------------------------------------- the loyalty table */

void adm_h_loyalty_get(struct adm_req *r)
{
    doc_get(r, ADM_KEY_LOYALTY, "loyalty");
}

/*
 * PUT of a whole document (calendar, loyalty table): checked with its readers' library, then
 * written under the editor's base version. r->n2 holds the enum adm_doc between the steps.
 */
static const char *const put_key[ADM_DOC__COUNT] = {ADM_KEY_GIFTDAYS, ADM_KEY_CATALOG,
                                                    ADM_KEY_LOYALTY, ADM_KEY_MENUS,
                                                    ADM_KEY_CAMPAIGNS};
static const char *const put_target[ADM_DOC__COUNT] = {"giftdays", "catalog", "loyalty", "menus",
                                                       "campaigns"};

/* The campaigns document keeps the ids of the campaigns removed from it ("retired", with the day:
 * gw_campaigns_retire), against the stored one the version check just compared with: an id
 * removed is never used again, and its markers are swept from the wallets (docs/campaigns.md).
 * false when the answer was sent (a retired id reused: 422 naming it). */
static bool campaigns_retire(struct adm_req *r, const char *stored)
{
    char err[320], *merged = NULL;
    int rc = gw_campaigns_retire(stored, stored ? strlen(stored) : 0, r->text, strlen(r->text),
                                 gw_local_day(adm_now_ms() / 1000), &merged, err, sizeof(err));

    if (rc == 0 && merged)
        rc = adm_doc_check(r->srv, ADM_DOC_CAMPAIGNS, merged, strlen(merged), err, sizeof(err));
    if (rc == -ENOMEM)
        adm_reply_error(r, 500, NULL, "out of memory");
    else if (rc < 0)
        reply_invalid(r, err);
    if (rc < 0) {
        free(merged);
        return false;
    }
    if (merged) {
        free(r->text);
        r->text = merged;
    }
    return true;
}

static void doc_put_current(struct adm_req *r, const struct redisReply *reply)
{
    struct stored_doc d;

    if (!read_stored(reply, &d)) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (d.version != r->n1) {
        reply_stale(r, d.version);
        return;
    }
    enum adm_doc k = (enum adm_doc)r->n2;
    r->n2 = KILL_NONE; /* put_done reads r->n2 as a PATCH's kill switch */
    if (k == ADM_DOC_CAMPAIGNS && !campaigns_retire(r, d.doc))
        return;
    /* cfg_put.lua checks the version again, atomically: this early answer only saves a write. */
    put_write(r, put_key[k], put_target[k], d.doc ? d.doc : "null", r->text);
}

static void doc_put(struct adm_req *r, enum adm_doc doc)
{
    char err[256];
    int rc;

    if (!read_put_body(r))
        return;
    rc = adm_doc_check(r->srv, doc, r->text, strlen(r->text), err, sizeof(err));
    if (rc == -ENOMEM) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    if (rc < 0) {
        reply_invalid(r, err);
        return;
    }
    r->n2 = doc;
    hmget_doc(r, put_key[doc], doc_put_current);
}

void adm_h_loyalty_put(struct adm_req *r)
{
    doc_put(r, ADM_DOC_LOYALTY);
}

void adm_h_menus_get(struct adm_req *r)
{
    doc_get(r, ADM_KEY_MENUS, "menus");
}

void adm_h_menus_put(struct adm_req *r)
{
    doc_put(r, ADM_DOC_MENUS);
}

/* The campaign rules (issue 10 §1): validated with the gateways' own parser */
void adm_h_rules_get(struct adm_req *r)
{
    doc_get(r, ADM_KEY_CAMPAIGNS, "campaigns");
}

void adm_h_rules_put(struct adm_req *r)
{
    doc_put(r, ADM_DOC_CAMPAIGNS);
}

void adm_h_giftdays_put(struct adm_req *r)
{
    doc_put(r, ADM_DOC_GIFTDAYS);
}

static void iso_utc(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "?");
}

static void preview_doc(struct adm_req *r, const struct redisReply *reply)
{
    struct cat_calendar_config *cfg;
    struct cat_calendar *cal = NULL;
    const char *tier = adm_query(r, "tier");
    char err[256];
    int rc;

    if (reply->type == REDIS_REPLY_NIL) {
        adm_reply_error(r, 404, NULL, "no gift-day calendar is stored yet: PUT /api/giftdays");
        return;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    cfg = malloc(sizeof(*cfg));
    if (!cfg) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    rc = cat_calendar_config_parse(reply->str, reply->len, cfg, err, sizeof(err));
    if (rc == 0)
        rc = cat_calendar_new(cfg, zoneinfo(r), &cal, err, sizeof(err));
    free(cfg);
    if (rc < 0) {
        GW_LOGE(ADM_LOG, "stored calendar invalid: %s", err);
        adm_reply_error(r, 500, NULL, "the stored calendar is invalid: %s", err);
        return;
    }
    const struct cat_tz *tz = cat_calendar_tz(cal);
    json_t *list = json_array();
    int64_t t = adm_now_ms() / 1000;
    struct cat_gift_window now_w;
    /* A window open now comes first (next_open only finds windows starting after t); the
     * search then goes on from its start, which finds the openings after it. */
    bool open_now = cat_calendar_is_open(cal, t, tier, &now_w) == 1;
    for (int i = 0; i < PREVIEW_OPENINGS; i++) {
        struct cat_gift_window w;
        int64_t start, end;
        char ls[32], le[32], us[32], ue[32], day[16];
        if (i == 0 && open_now) {
            w = now_w;
            start = w.start;
            end = w.end;
        } else if (cat_calendar_next_open(cal, t, tier, &start, &end, &w) < 0)
            break;
        cat_tz_format_local(tz, start, ls, sizeof(ls));
        cat_tz_format_local(tz, end, le, sizeof(le));
        iso_utc(start, us, sizeof(us));
        iso_utc(end, ue, sizeof(ue));
        snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)(w.gift_day / 10000),
                 (int)(w.gift_day / 100 % 100), (int)(w.gift_day % 100));
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "gift_day", day,
                                        "opens_local", ls, "closes_local", le, "opens", us,
                                        "closes", ue, "name", w.name, "special", w.special));
        json_object_set_new(json_array_get(list, json_array_size(list) - 1), "open_now",
                            json_boolean(i == 0 && open_now));
        t = start;
    }
    json_t *o = json_pack("{s:s, s:s, s:o}", "timezone", cat_tz_name(tz), "tier", tier ? tier : "",
                          "openings", list);
    cat_calendar_free(cal);
    adm_reply_json(r, 200, o);
}

void adm_h_giftdays_preview(struct adm_req *r)
{
    const char *tier = adm_query(r, "tier");

    if (tier && (strlen(tier) == 0 || strlen(tier) >= CAT_NAME_MAX ||
                 strspn(tier, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                     strlen(tier))) {
        adm_reply_error(r, 400, "tier", "tier must be a tier name");
        return;
    }
    const char *argv[] = {"HGET", ADM_KEY_GIFTDAYS, "doc"};
    adm_redis(r, preview_doc, 3, argv);
}

/* ---------------------------------------------------------------- catalogue */

static int catalog_parse(struct adm_req *r, const char *text, struct cat_catalog **out, char *err,
                         size_t errlen)
{
    return catalog_parse_srv(r->srv, text, strlen(text), out, err, errlen);
}

void adm_h_catalog_get(struct adm_req *r)
{
    doc_get(r, ADM_KEY_CATALOG, "catalog");
}

static void catalog_put_current(struct adm_req *r, const struct redisReply *reply)
{
    struct stored_doc d;
    struct cat_catalog *cur = NULL, *next = NULL;
    char err[256];

    if (!read_stored(reply, &d)) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (d.version != r->n1) {
        reply_stale(r, d.version);
        return;
    }
    /* A version string names one content (cat_catalog_swap refuses a reused one with other
     * items): catch it here, where staff can fix it, not in every gateway later. */
    if (d.doc && catalog_parse(r, d.doc, &cur, err, sizeof(err)) == 0 &&
        catalog_parse(r, r->text, &next, err, sizeof(err)) == 0 &&
        strcmp(cat_catalog_version(cur), cat_catalog_version(next)) == 0 &&
        !cat_catalog_same_items(cur, next)) {
        cat_catalog_unref(cur);
        cat_catalog_unref(next);
        adm_reply_error(r, 422, "document.version",
                        "the items changed: give the catalogue a new version string");
        return;
    }
    cat_catalog_unref(cur);
    cat_catalog_unref(next);
    put_write(r, ADM_KEY_CATALOG, "catalog", d.doc ? d.doc : "null", r->text);
}

/*
 * The tiers a catalogue is checked against are those every gateway uses: the stored loyalty
 * table's once one is stored (read just before each catalogue write, so another console's edit
 * counts too), else the configuration's. reply: HGET cfg:{adm}:loyalty doc.
 */
void adm_tiers_refresh(struct adm_server *srv, const struct redisReply *reply)
{
    struct gw_loyalty *t;
    char err[256];

    if (reply->type != REDIS_REPLY_STRING || !srv->gw || !(t = malloc(sizeof(*t))))
        return;
    if (gw_config_loyalty_parse("", reply->str, reply->len, srv->gw, t, err, sizeof(err)) == 0) {
        srv->cfg.n_tiers = t->n_tiers < ADM_MAX_TIERS ? t->n_tiers : ADM_MAX_TIERS;
        for (unsigned i = 0; i < srv->cfg.n_tiers; i++)
            snprintf(srv->cfg.tiers[i], sizeof(srv->cfg.tiers[i]), "%s", t->tiers[i].name);
    } else
        GW_LOGE(ADM_LOG, "stored loyalty table unreadable, tiers unchanged: %s", err);
    free(t);
}

static void loyalty_doc_then(struct adm_req *r, adm_step step)
{
    const char *argv[] = {"HGET", ADM_KEY_LOYALTY, "doc"};
    adm_redis(r, step, 3, argv);
}

static void catalog_put_tiers(struct adm_req *r, const struct redisReply *reply)
{
    char err[256];

    adm_tiers_refresh(r->srv, reply);
    if (adm_doc_check(r->srv, ADM_DOC_CATALOG, r->text, strlen(r->text), err, sizeof(err)) < 0) {
        reply_invalid(r, err);
        return;
    }
    hmget_doc(r, ADM_KEY_CATALOG, catalog_put_current);
}

void adm_h_catalog_put(struct adm_req *r)
{
    if (!read_put_body(r))
        return;
    loyalty_doc_then(r, catalog_put_tiers);
}

static void item_patch_current(struct adm_req *r, const struct redisReply *reply)
{
    struct stored_doc d;
    struct cat_catalog *c = NULL;
    json_t *doc, *items, *item = NULL;
    char err[256], ver[64];
    size_t i;

    if (!read_stored(reply, &d)) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (!d.doc) {
        adm_reply_error(r, 404, NULL, "no catalogue is stored yet: PUT /api/catalog");
        return;
    }
    if (r->n1 >= 0 && d.version != r->n1) {
        reply_stale(r, d.version);
        return;
    }
    doc = json_loads(d.doc, 0, NULL);
    r->j2 = doc;
    items = json_object_get(doc, "items");
    json_array_foreach (items, i, item) {
        const char *id = json_string_value(json_object_get(item, "id"));
        if (id && strcmp(id, r->arg) == 0)
            break;
        item = NULL;
    }
    if (!item) {
        adm_reply_error(r, 404, "id", "no item with this id in the catalogue");
        return;
    }
    char *before = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
    /* The changes, checked in adm_h_catalog_item_patch. 0 = unlimited = the key absent. */
    json_t *v;
    if ((v = json_object_get(r->body, "stock_per_day"))) {
        /* the gift day under way follows: stock_moved() after the document is written (the
         * same figure again moves nothing, and says so) */
        r->j1 = json_pack("{s:I, s:I}", "old",
                          json_integer_value(json_object_get(item, "stock_per_day")), "new",
                          json_integer_value(v));
        if (json_integer_value(v) == 0)
            json_object_del(item, "stock_per_day");
        else
            json_object_set(item, "stock_per_day", v);
    }
    if ((v = json_object_get(r->body, "limit_per_day"))) {
        if (json_integer_value(v) == 0)
            json_object_del(item, "limit_per_day");
        else
            json_object_set(item, "limit_per_day", v);
    }
    if ((v = json_object_get(r->body, "enabled")))
        json_object_set_new(item, "enabled", json_boolean(json_is_true(v)));
    if ((v = json_object_get(r->body, "kill")))
        json_object_set_new(item, "enabled", json_boolean(!json_is_true(v)));
    /* the audit record's "after": the item, plus the kill switch when this request moves it */
    json_t *rec = json_deep_copy(item);
    if (rec && v)
        json_object_set_new(rec, "kill", json_boolean(json_is_true(v)));
    r->n2 = v ? (json_is_true(v) ? KILL_SET : KILL_CLEAR) : KILL_NONE;
    char *after = rec ? json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(rec);
    /* The items changed, so the catalogue needs a new version string (cat_catalog_swap): the
     * local date and the next document version, e.g. "2026-11-25.a7". */
    int32_t day = gw_local_day(adm_now_ms() / 1000);
    snprintf(ver, sizeof(ver), "%04d-%02d-%02d.a%" PRId64, (int)(day / 10000),
             (int)(day / 100 % 100), (int)(day % 100), d.version + 1);
    json_object_set_new(doc, "version", json_string(ver));
    free(r->text);
    r->text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!before || !after || !r->text) {
        free(before);
        free(after);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    if (catalog_parse(r, r->text, &c, err, sizeof(err)) < 0) {
        free(before);
        free(after);
        reply_invalid(r, err);
        return;
    }
    cat_catalog_unref(c);
    r->n1 = d.version;
    put_write(r, ADM_KEY_CATALOG, r->arg, before, after);
    free(before);
    free(after);
}

static void item_patch_tiers(struct adm_req *r, const struct redisReply *reply)
{
    adm_tiers_refresh(r->srv, reply);
    hmget_doc(r, ADM_KEY_CATALOG, item_patch_current);
}

void adm_h_catalog_item_patch(struct adm_req *r)
{
    static const char *const keys[] = {"version", "stock_per_day", "limit_per_day",
                                       "enabled", "kill",          NULL};
    json_t *v;
    int changes = 0;

    if (!r->body) {
        adm_reply_error(
            r, 400, "body",
            "send {\"version\": N, \"stock_per_day\"|\"limit_per_day\"|\"enabled\": ...}");
        return;
    }
    if (!adm_body_keys_ok(r, keys))
        return;
    r->n1 = -1; /* no base version given: the one read just before the write */
    if ((v = json_object_get(r->body, "version"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            adm_reply_error(r, 400, "version", "version must be the version you started from");
            return;
        }
        r->n1 = json_integer_value(v);
    }
    if ((v = json_object_get(r->body, "stock_per_day"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > STOCK_MAX) {
            adm_reply_error(r, 400, "stock_per_day",
                            "stock_per_day must be an integer from 0 (unlimited) to %lld",
                            STOCK_MAX);
            return;
        }
        changes++;
    }
    if ((v = json_object_get(r->body, "limit_per_day"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > LIMIT_MAX) {
            adm_reply_error(r, 400, "limit_per_day",
                            "limit_per_day must be an integer from 0 (unlimited) to %lld",
                            LIMIT_MAX);
            return;
        }
        changes++;
    }
    json_t *en = json_object_get(r->body, "enabled"), *kill = json_object_get(r->body, "kill");
    if (en && !json_is_boolean(en)) {
        adm_reply_error(r, 400, "enabled", "enabled must be true or false");
        return;
    }
    if (kill && !json_is_boolean(kill)) {
        adm_reply_error(r, 400, "kill", "kill must be true or false");
        return;
    }
    if (en && kill && json_is_true(en) == json_is_true(kill)) {
        adm_reply_error(r, 400, "kill", "kill and enabled contradict each other");
        return;
    }
    changes += (en != NULL) + (kill != NULL);
    if (changes == 0) {
        adm_reply_error(r, 400, "body", "nothing to change");
        return;
    }
    loyalty_doc_then(r, item_patch_tiers);
}
