/*
 * adm_lists.c - the paged list endpoints over Redis streams, newest first: the dead letters the
 * gateways wrote (two streams, lg:dlq:event and lg:dlq:pdu, read and merged by id; each item says
 * its "stream") and the audit trail (adm:{adm}:audit). JSON by default, CSV with ?format=csv.
 * Pages: ?count=N (1..page_max, default 50) and ?before=<id>, the "next" of the previous page.
 * Dead letters hold subscribers' numbers: masked for roles without subscriber data (marketing).
 * Owner: the staff-console engineer.
 */
#include <event2/buffer.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"

struct list_kind {
    const char *key;
    const char *csv_name;
    const char *const *fields;      /* the fields shown, in order ("id" is the stream id) */
    const char *const *json_fields; /* fields holding JSON text (audit before/after), NULL-ended */
};

/* "stream" is not stored: it says which of the two streams the dead letter is in. */
static const char *const dlq_fields[] = {"at", "stream", "source", "reason", "raw", NULL};
static const char *const audit_fields[] = {"at",     "who",    "role",  "ip",  "what",
                                           "target", "before", "after", "req", NULL};
static const char *const audit_json[] = {"before", "after", NULL};

static const struct list_kind audit_kind = {ADM_KEY_AUDIT, "audit.csv", audit_fields, audit_json};

/* Fields of a dead letter that may hold a subscriber's number: the raw event or PDU, the reason. */
static const char *const dlq_private[] = {"raw", "reason", NULL};

static const char *entry_field(const struct redisReply *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0 &&
            kv->element[i + 1]->type == REDIS_REPLY_STRING)
            return kv->element[i + 1]->str;
    }
    return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

/* The value shown for one field of a dead letter: as stored, or, for a role that may not see
 * subscriber data, a masked heap copy returned in *tmp too (the caller frees *tmp; NULL when
 * nothing was copied). */
static const char *shown(struct adm_req *r, const char *name, const char *v, char **tmp)
{
    *tmp = NULL;
    if (!v || (r->role & ADM_ROLES_SUBSCRIBER_DATA) || !in_list(dlq_private, name))
        return v;
    *tmp = strdup(v);
    if (!*tmp)
        return "";
    adm_mask_numbers(*tmp);
    return *tmp;
}

static void list_reply(struct adm_req *r, const struct redisReply *reply)
{
    const struct list_kind *k = &audit_kind; /* dead letters: dlq_reply */
    size_t n;
    json_t *items;
    struct evbuffer *csv = NULL;

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    /* One more than asked was read: its presence says whether there is a next page. */
    n = reply->elements > (size_t)r->n1 ? (size_t)r->n1 : reply->elements;
    if (r->csv) {
        csv = evbuffer_new();
        if (!csv) {
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
        evbuffer_add_printf(csv, "id");
        for (size_t f = 0; k->fields[f]; f++)
            evbuffer_add_printf(csv, ",%s", k->fields[f]);
        evbuffer_add(csv, "\r\n", 2);
    }
    items = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        const char *id = e->element[0]->str;
        if (csv) {
            adm_csv_text(csv, id);
            for (size_t f = 0; k->fields[f]; f++) {
                evbuffer_add(csv, ",", 1);
                adm_csv_text(csv, entry_field(e->element[1], k->fields[f]));
            }
            evbuffer_add(csv, "\r\n", 2);
            continue;
        }
        json_t *o = json_pack("{s:s}", "id", id);
        for (size_t f = 0; k->fields[f]; f++) {
            const char *v = entry_field(e->element[1], k->fields[f]);
            json_t *jv = NULL;
            if (!v) {
                jv = json_null();
            } else if (strcmp(k->fields[f], "at") == 0) {
                jv = json_integer(strtoll(v, NULL, 10));
            } else if (in_list(k->json_fields, k->fields[f])) {
                jv = json_loads(v, JSON_DECODE_ANY, NULL);
            }
            json_object_set_new(o, k->fields[f], jv ? jv : json_string(v));
        }
        json_array_append_new(items, o);
    }
    if (csv) {
        json_decref(items);
        adm_reply_csv(r, csv, k->csv_name);
        return;
    }
    json_t *next = json_null();
    if (reply->elements > n && n > 0 && reply->element[n - 1]->type == REDIS_REPLY_ARRAY &&
        reply->element[n - 1]->elements == 2 &&
        reply->element[n - 1]->element[0]->type == REDIS_REPLY_STRING)
        next = json_string(reply->element[n - 1]->element[0]->str);
    adm_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

static void list_audit(struct adm_req *r)
{
    long count;
    const char *before;
    char end[48], cnt[24];

    if (adm_page_args(r, &count, &before) < 0)
        return;
    r->n1 = count;
    /* "(" makes the end exclusive (Redis >= 6.2): the page starts after the last one shown. */
    if (before)
        snprintf(end, sizeof(end), "(%s", before);
    else
        snprintf(end, sizeof(end), "+");
    snprintf(cnt, sizeof(cnt), "%ld", count + 1);
    const char *argv[] = {"XREVRANGE", audit_kind.key, end, "-", "COUNT", cnt};
    adm_redis(r, list_reply, 6, argv);
}

/* ---------------------------------------------------------------- dead letters: two streams */

/* Appends the entries of one XREVRANGE reply to r->j1 as objects (masked as the role needs). */
static void dlq_collect(struct adm_req *r, const struct redisReply *reply, const char *stream)
{
    for (size_t i = 0; i < reply->elements; i++) {
        const struct redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        json_t *o = json_pack("{s:s}", "id", e->element[0]->str);
        for (size_t f = 0; dlq_fields[f]; f++) {
            char *tmp;
            const char *name = dlq_fields[f];
            const char *v = shown(r, name, entry_field(e->element[1], name), &tmp);
            json_t *jv;
            if (strcmp(name, "stream") == 0)
                jv = json_string(stream);
            else if (!v)
                jv = json_null();
            else if (strcmp(name, "at") == 0)
                jv = json_integer(strtoll(v, NULL, 10));
            else
                jv = json_string(v);
            json_object_set_new(o, name, jv);
            free(tmp);
        }
        json_array_append_new(r->j1, o);
    }
}

/* A stream id "ms-seq" as a pair of numbers (both validated as digits by Redis or the caller). */
static void id_parse(const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end;

    *ms = strtoull(id, &end, 10);
    *seq = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
}

static int id_cmp(const char *a, const char *b)
{
    uint64_t am, as, bm, bs;

    id_parse(a, &am, &as);
    id_parse(b, &bm, &bs);
    if (am != bm)
        return am < bm ? -1 : 1;
    return as < bs ? -1 : as > bs;
}

static const char *item_id(const json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    return id ? id : "0-0";
}

/* Newest first; equal ids (one in each stream: ids are per stream) events first. */
static int cmp_newest(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int c = id_cmp(item_id(b), item_id(a));

    if (c)
        return c;
    return strcmp(json_string_value(json_object_get(a, "stream")),
                  json_string_value(json_object_get(b, "stream")));
}

static void dlq_reply(struct adm_req *r)
{
    size_t total = json_array_size(r->j1), page;
    json_t **v = calloc(total ? total : 1, sizeof(*v));
    json_t *items = json_array(), *next;

    if (!v || !items) {
        free(v);
        json_decref(items);
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < total; i++)
        v[i] = json_array_get(r->j1, i);
    qsort(v, total, sizeof(*v), cmp_newest);
    /* count items; one more when the next one has the same id (the other stream's): the next
     * page starts strictly before that id, so a tie cut here would be skipped. */
    page = total < (size_t)r->n1 ? total : (size_t)r->n1;
    while (page > 0 && page < total && strcmp(item_id(v[page]), item_id(v[page - 1])) == 0)
        page++;
    for (size_t i = 0; i < page; i++)
        json_array_append(items, v[i]);
    next = page < total && page > 0 ? json_string(item_id(v[page - 1])) : json_null();
    free(v);
    if (r->csv) {
        struct evbuffer *csv = evbuffer_new();
        size_t i;
        json_t *o;
        if (!csv) {
            json_decref(items);
            json_decref(next);
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
        evbuffer_add_printf(csv, "id");
        for (size_t f = 0; dlq_fields[f]; f++)
            evbuffer_add_printf(csv, ",%s", dlq_fields[f]);
        evbuffer_add(csv, "\r\n", 2);
        json_array_foreach (items, i, o) {
            adm_csv_text(csv, item_id(o));
            for (size_t f = 0; dlq_fields[f]; f++) {
                json_t *jv = json_object_get(o, dlq_fields[f]);
                evbuffer_add(csv, ",", 1);
                if (json_is_integer(jv))
                    adm_csv_int(csv, json_integer_value(jv));
                else
                    adm_csv_text(csv, json_string_value(jv));
            }
            evbuffer_add(csv, "\r\n", 2);
        }
        json_decref(items);
        json_decref(next);
        adm_reply_csv(r, csv, "deadletters.csv");
        return;
    }
    adm_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

static void dlq_pdu_read(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    dlq_collect(r, reply, "pdu");
    dlq_reply(r);
}

static void dlq_event_read(struct adm_req *r, const struct redisReply *reply)
{
    char cnt[24];

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    dlq_collect(r, reply, "event");
    snprintf(cnt, sizeof(cnt), "%" PRId64, r->n1 + 1);
    const char *argv[] = {"XREVRANGE", ADM_DLQ_KEY_PDU, r->s1, "-", "COUNT", cnt};
    adm_redis(r, dlq_pdu_read, 6, argv);
}

void adm_h_deadletters(struct adm_req *r)
{
    long count;
    const char *before;
    char cnt[24];

    if (adm_page_args(r, &count, &before) < 0)
        return;
    r->n1 = count;
    r->j1 = json_array();
    if (!r->j1) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    /* The same window on both streams: count + 1 newest before the cursor from each. */
    if (before)
        snprintf(r->s1, sizeof(r->s1), "(%s", before);
    else
        snprintf(r->s1, sizeof(r->s1), "+");
    snprintf(cnt, sizeof(cnt), "%ld", count + 1);
    const char *argv[] = {"XREVRANGE", ADM_DLQ_KEY_EVENT, r->s1, "-", "COUNT", cnt};
    adm_redis(r, dlq_event_read, 6, argv);
}

void adm_h_audit(struct adm_req *r)
{
    list_audit(r);
}
