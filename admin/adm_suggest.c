/*
 * adm_suggest.c - the suggestion box's inbox (adm_suggest.h): the list (JSON or CSV), the
 * weekly counts and average rating, and the marks (tag, handled) staff put on an idea, audited.
 * Owner: the suggestion-box engineer (issue 10 section 2).
 *
 * The list reads the console's marks first (HGETALL sg:{sg}:meta: only marked entries, small),
 * then the stream newest first in batches of LIST_BATCH, keeping the entries that pass the
 * filters, until the page is full or LIST_MAX_BATCHES were read (the page then ends early with a
 * "next" to go on from). A mark is one small script on the slot {sg} (the entry must exist; the
 * marks are merged), then its audit record (another slot: a second command, as subscriber
 * changes do). Ideas are the members' own text: masked for roles without subscriber data like
 * dead letters (adm_mask_numbers), escaped by jansson for JSON and adm_csv_text for CSV.
 */
#include "adm_suggest.h"

#include <errno.h>
#include <event2/buffer.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_core.h"

#define SG_STREAM "sg:{sg}:in" /* = GW_SUGGEST_KEY_STREAM (gateway/gw_suggest.h) */
#define SG_WEEKS "sg:{sg}:wk"
#define SG_META "sg:{sg}:meta"
#define LIST_BATCH 200
#define LIST_MAX_BATCHES 10
#define WEEKS_MAX 600 /* 10 years of weeks: more than suggestions.retention_days allows */

/* KEYS[1] the stream, KEYS[2] the marks; ARGV[1] entry id, ARGV[2] '1' when a tag is given,
 * ARGV[3] the tag ('' removes it), ARGV[4] '1'/'0' handled or '' (unchanged), ARGV[5] who,
 * ARGV[6] when (ms). Reply {0} when the entry is gone, else {1, before JSON or '', after JSON}. */
static const char MARK_LUA[] =
    "if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return {0} end\n"
    "local before = redis.call('HGET', KEYS[2], ARGV[1]) or ''\n"
    "local m = {}\n"
    "if before ~= '' then m = cjson.decode(before) end\n"
    "if ARGV[2] == '1' then m.tag = ARGV[3] end\n"
    "if ARGV[4] ~= '' then m.handled = (ARGV[4] == '1') end\n"
    "m.by = ARGV[5]\n"
    "m.at = tonumber(ARGV[6])\n"
    "local after = cjson.encode(m)\n"
    "redis.call('HSET', KEYS[2], ARGV[1], after)\n"
    "return {1, before, after}\n";

/* ---------------------------------------------------------------- pure parts */

bool adm_sg_tag_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= ADM_SG_TAG_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int adm_sg_filter_parse(const char *rating, const char *lang, const char *tag,
                        const char *handled, struct adm_sg_filter *out, const char **field)
{
    memset(out, 0, sizeof(*out));
    out->handled = -1;
    if (rating && *rating) {
        if (strlen(rating) != 1 || rating[0] < '1' || rating[0] > '5') {
            *field = "rating";
            return -EINVAL;
        }
        out->rating = rating[0] - '0';
    }
    if (lang && *lang) {
        size_t n = strlen(lang);
        if (n < 2 || n > 3 || strspn(lang, "abcdefghijklmnopqrstuvwxyz") != n) {
            *field = "lang";
            return -EINVAL;
        }
        memcpy(out->lang, lang, n + 1);
    }
    if (tag && *tag) {
        if (!adm_sg_tag_valid(tag)) {
            *field = "tag";
            return -EINVAL;
        }
        snprintf(out->tag, sizeof(out->tag), "%s", tag);
    }
    if (handled && *handled) {
        if (strcmp(handled, "true") == 0 || strcmp(handled, "1") == 0)
            out->handled = 1;
        else if (strcmp(handled, "false") == 0 || strcmp(handled, "0") == 0)
            out->handled = 0;
        else {
            *field = "handled";
            return -EINVAL;
        }
    }
    return 0;
}

bool adm_sg_filter_match(const struct adm_sg_filter *f, int rating, const char *lang,
                         const char *tag, bool handled)
{
    if (f->rating && rating != f->rating)
        return false;
    if (f->lang[0] && (!lang || strcmp(lang, f->lang) != 0))
        return false;
    if (f->tag[0] && (!tag || strcmp(tag, f->tag) != 0))
        return false;
    return f->handled < 0 || (f->handled == 1) == handled;
}

int adm_sg_mark_parse(const json_t *body, bool *has_tag, char *tag, size_t taglen,
                      bool *has_handled, bool *handled, const char **field, const char **msg)
{
    const char *key;
    json_t *v;

    *has_tag = *has_handled = false;
    *field = NULL;
    if (!json_is_object(body)) {
        *msg = "expected a JSON object";
        return -EINVAL;
    }
    json_object_foreach ((json_t *)body, key, v) {
        if (strncmp(key, "//", 2) == 0)
            continue;
        if (strcmp(key, "tag") == 0) {
            const char *s = json_string_value(v);
            if (!s || (s[0] && !adm_sg_tag_valid(s)) || strlen(s) >= taglen) {
                *field = "tag";
                *msg = "a tag is 1 to 24 of a-z 0-9 _ - (\"\" removes it)";
                return -EINVAL;
            }
            snprintf(tag, taglen, "%s", s);
            *has_tag = true;
        } else if (strcmp(key, "handled") == 0) {
            if (!json_is_boolean(v)) {
                *field = "handled";
                *msg = "expected true or false";
                return -EINVAL;
            }
            *handled = json_is_true(v);
            *has_handled = true;
        } else {
            *field = key;
            *msg = "unknown key (tag, handled)";
            return -EINVAL;
        }
    }
    if (!*has_tag && !*has_handled) {
        *msg = "nothing to change: give tag and/or handled";
        return -EINVAL;
    }
    return 0;
}

int adm_sg_week_add(struct adm_sg_week *weeks, size_t *n, size_t cap, const char *field,
                    const char *value)
{
    char *end;
    long long week, v;
    size_t i;

    if (!field || !value)
        return -EINVAL;
    errno = 0;
    week = strtoll(field, &end, 10);
    if (errno || end - field != 8 || *end != ':' || week < 19700101 || week > 99991231)
        return -EINVAL;
    const char *kind = end + 1;
    if (strcmp(kind, "n") != 0 && strcmp(kind, "rn") != 0 && strcmp(kind, "rs") != 0)
        return -EINVAL;
    v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < 0)
        return -EINVAL;
    for (i = 0; i < *n && weeks[i].week < week; i++)
        ;
    if (i == *n || weeks[i].week != week) {
        if (*n >= cap)
            return -ENOSPC;
        memmove(&weeks[i + 1], &weeks[i], (*n - i) * sizeof(*weeks));
        memset(&weeks[i], 0, sizeof(*weeks));
        weeks[i].week = (int32_t)week;
        (*n)++;
    }
    if (kind[0] == 'n')
        weeks[i].count = v;
    else if (kind[1] == 'n')
        weeks[i].ratings = v;
    else
        weeks[i].rating_sum = v;
    return 0;
}

/* ---------------------------------------------------------------- the list */

struct list_ctx {
    struct adm_sg_filter f;
    long count;
    int batches;
    char from[48]; /* the exclusive end of the next XREVRANGE, "+" at first */
};

static const char *field_of(const struct redisReply *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0 &&
            kv->element[i + 1]->type == REDIS_REPLY_STRING)
            return kv->element[i + 1]->str;
    }
    return NULL;
}

/* A copy of v masked for roles without subscriber data (NULL stays NULL). */
static json_t *shown(const struct adm_req *r, const char *v)
{
    if (!v)
        return json_null();
    if (r->role & ADM_ROLES_SUBSCRIBER_DATA)
        return json_string(v);
    char *tmp = strdup(v);
    if (!tmp)
        return json_null();
    adm_mask_numbers(tmp);
    json_t *s = json_string(tmp);
    free(tmp);
    return s ? s : json_null();
}

static void list_batch(struct adm_req *r);

static void list_done(struct adm_req *r, const char *next)
{
    json_t *items = r->j1;

    r->j1 = NULL;
    if (!r->csv) {
        adm_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next",
                                         next ? json_string(next) : json_null()));
        return;
    }
    struct evbuffer *csv = evbuffer_new();
    static const char *const cols[] = {"id",   "at",  "msisdn", "lang",    "src", "rating",
                                       "item", "tag", "handled", "text", NULL};
    size_t i;
    json_t *o;

    if (!csv) {
        json_decref(items);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    for (size_t c = 0; cols[c]; c++)
        evbuffer_add_printf(csv, "%s%s", c ? "," : "", cols[c]);
    evbuffer_add(csv, "\r\n", 2);
    json_array_foreach (items, i, o) {
        for (size_t c = 0; cols[c]; c++) {
            json_t *v = json_object_get(o, cols[c]);
            if (c)
                evbuffer_add(csv, ",", 1);
            if (json_is_integer(v))
                adm_csv_int(csv, json_integer_value(v));
            else if (json_is_boolean(v))
                evbuffer_add_printf(csv, "%s", json_is_true(v) ? "true" : "false");
            else
                adm_csv_text(csv, json_string_value(v)); /* quoted, formula-guarded */
        }
        evbuffer_add(csv, "\r\n", 2);
    }
    json_decref(items);
    adm_reply_csv(r, csv, "suggestions.csv");
}

static void list_reply(struct adm_req *r, const struct redisReply *reply)
{
    struct list_ctx *c = (struct list_ctx *)r->text;
    const char *last = NULL;

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        const struct redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        const char *id = e->element[0]->str;
        const struct redisReply *kv = e->element[1];
        last = id;
        json_t *mark = json_object_get(r->j2, id);
        const char *tag = json_string_value(json_object_get(mark, "tag"));
        bool handled = json_is_true(json_object_get(mark, "handled"));
        const char *rs = field_of(kv, "r"), *lang = field_of(kv, "lang");
        int rating = rs && rs[0] >= '1' && rs[0] <= '5' && !rs[1] ? rs[0] - '0' : 0;
        if (!adm_sg_filter_match(&c->f, rating, lang, tag && tag[0] ? tag : "", handled))
            continue;
        const char *at = field_of(kv, "at"), *item = field_of(kv, "item");
        json_t *o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "id", id,
                              "at", (json_int_t)(at ? strtoll(at, NULL, 10) : 0), "msisdn",
                              shown(r, field_of(kv, "m")), "lang", lang ? lang : "", "src",
                              field_of(kv, "src") ? field_of(kv, "src") : "", "rating",
                              rating ? json_integer(rating) : json_null(), "item",
                              item ? json_integer(strtoll(item, NULL, 10)) : json_null(), "text",
                              shown(r, field_of(kv, "t")), "tag",
                              tag && tag[0] ? json_string(tag) : json_null(), "handled", handled);
        if (!o)
            continue;
        json_t *by = json_object_get(mark, "by"), *mat = json_object_get(mark, "at");
        if (json_is_string(by))
            json_object_set(o, "marked_by", by);
        if (json_is_integer(mat))
            json_object_set(o, "marked_at", mat);
        json_array_append_new(r->j1, o);
        if ((long)json_array_size(r->j1) >= c->count) {
            list_done(r, id);
            return;
        }
    }
    c->batches++;
    if (reply->elements < LIST_BATCH || !last) {
        list_done(r, NULL); /* the stream's oldest entry was read */
        return;
    }
    snprintf(c->from, sizeof(c->from), "(%s", last);
    if (c->batches >= LIST_MAX_BATCHES) {
        list_done(r, last); /* a short page: the client goes on from here */
        return;
    }
    list_batch(r);
}

static void list_batch(struct adm_req *r)
{
    struct list_ctx *c = (struct list_ctx *)r->text;
    char cnt[16];

    snprintf(cnt, sizeof(cnt), "%d", LIST_BATCH);
    const char *argv[] = {"XREVRANGE", SG_STREAM, c->from, "-", "COUNT", cnt};
    adm_redis(r, list_reply, 6, argv);
}

static void list_marks(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->j2 = json_object();
    for (size_t i = 0; r->j2 && i + 1 < reply->elements; i += 2) {
        const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        json_t *m = json_loadb(v->str, v->len, 0, NULL);
        if (json_is_object(m))
            json_object_set_new(r->j2, k->str, m);
        else
            json_decref(m);
    }
    r->j1 = json_array();
    list_batch(r);
}

void adm_h_suggest_list(struct adm_req *r)
{
    struct list_ctx *c;
    const char *field = NULL, *before;
    long count;

    if (adm_page_args(r, &count, &before) < 0)
        return;
    if (!(c = calloc(1, sizeof(*c)))) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    r->text = (char *)c; /* freed with the request */
    if (adm_sg_filter_parse(adm_query(r, "rating"), adm_query(r, "lang"), adm_query(r, "tag"),
                            adm_query(r, "handled"), &c->f, &field) < 0) {
        adm_reply_error(r, 400, field, "invalid filter %s", field);
        return;
    }
    /* a CSV export is the whole filtered list up to page_max rows */
    c->count = r->csv ? (long)r->srv->cfg.page_max : count;
    if (before)
        snprintf(c->from, sizeof(c->from), "(%s", before);
    else
        snprintf(c->from, sizeof(c->from), "+");
    const char *argv[] = {"HGETALL", SG_META};
    adm_redis(r, list_marks, 2, argv);
}

/* ---------------------------------------------------------------- weekly counts */

static void weeks_reply(struct adm_req *r, const struct redisReply *reply)
{
    struct adm_sg_week *w;
    size_t n = 0;

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (!(w = calloc(WEEKS_MAX, sizeof(*w)))) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
            adm_sg_week_add(w, &n, WEEKS_MAX, k->str, v->str);
    }
    json_t *weeks = json_array();
    for (size_t i = 0; i < n; i++) {
        char day[16];
        snprintf(day, sizeof(day), "%04d-%02d-%02d", (int)(w[i].week / 10000),
                 (int)(w[i].week / 100 % 100), (int)(w[i].week % 100));
        json_array_append_new(
            weeks, json_pack("{s:s, s:I, s:I, s:o}", "week", day, "count", (json_int_t)w[i].count,
                             "ratings", (json_int_t)w[i].ratings, "average",
                             w[i].ratings ? json_real((double)w[i].rating_sum / (double)w[i].ratings)
                                          : json_null()));
    }
    free(w);
    adm_reply_json(r, 200, json_pack("{s:o}", "weeks", weeks));
}

void adm_h_suggest_weeks(struct adm_req *r)
{
    const char *argv[] = {"HGETALL", SG_WEEKS};
    adm_redis(r, weeks_reply, 2, argv);
}

/* ---------------------------------------------------------------- marks */

static void mark_audited(struct adm_req *r, const struct redisReply *reply)
{
    json_t *after = r->j1;

    if (reply->type == REDIS_REPLY_ERROR)
        gw_log(GW_LOG_ERROR, ADM_LOG, "suggestion %s marked but not audited: %s", r->arg,
               adm_reply_err_text(reply));
    r->j1 = NULL;
    json_object_set_new(after, "id", json_string(r->arg));
    adm_reply_json(r, 200, after);
}

static void mark_done(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store refused the change: %s",
                        adm_reply_err_text(reply));
        return;
    }
    if (reply->element[0]->integer != 1 || reply->elements != 3) {
        adm_reply_error(r, 404, NULL, "no such suggestion (past the retention?)");
        return;
    }
    const struct redisReply *b = reply->element[1], *a = reply->element[2];
    r->j1 = a->type == REDIS_REPLY_STRING ? json_loadb(a->str, a->len, 0, NULL) : NULL;
    if (!json_is_object(r->j1)) {
        json_decref(r->j1);
        r->j1 = json_object();
    }
    char *after = json_dumps(r->j1, JSON_COMPACT | JSON_SORT_KEYS);
    const char *before = b->type == REDIS_REPLY_STRING && b->len ? b->str : "null";
    char *before_copy = strdup(before);
    adm_audit_append(r, mark_audited, "suggestion.mark", r->arg, before_copy ? before_copy : "null",
                     after ? after : "{}", NULL);
    free(before_copy);
    free(after);
}

void adm_h_suggest_mark(struct adm_req *r)
{
    char tag[ADM_SG_TAG_MAX + 1] = "", at[24];
    bool has_tag, has_handled, handled = false;
    const char *field, *msg;

    if (!adm_stream_id_valid(r->arg)) {
        adm_reply_error(r, 400, "id", "not a suggestion id");
        return;
    }
    if (adm_sg_mark_parse(r->body, &has_tag, tag, sizeof(tag), &has_handled, &handled, &field,
                          &msg) < 0) {
        adm_reply_error(r, 400, field, "%s", msg);
        return;
    }
    snprintf(at, sizeof(at), "%" PRId64, adm_now_ms());
    const char *argv[] = {"EVAL",        MARK_LUA, "2",     SG_STREAM,
                          SG_META,       r->arg,   has_tag ? "1" : "0",
                          tag,           has_handled ? (handled ? "1" : "0") : "",
                          r->user,       at};
    adm_redis(r, mark_done, (int)(sizeof(argv) / sizeof(argv[0])), argv);
}
