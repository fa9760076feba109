/*
 * adm_lists.c - the paged list endpoints over Redis streams, newest first: the dead letters the
 * gateways wrote (lg:dlq, for staff review) and the audit trail (adm:{adm}:audit). JSON by default,
 * CSV with ?format=csv. Pages: ?count=N (1..page_max, default 50) and ?before=<id>, the "next"
 * of the previous page. Owner: the staff-console engineer.
 */
#include <event2/buffer.h>
#include <hiredis/hiredis.h>
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

static const char *const dlq_fields[] = {"at", "source", "reason", "raw", NULL};
static const char *const audit_fields[] = {"at",     "who",    "role",  "ip",  "what",
                                           "target", "before", "after", "req", NULL};
static const char *const audit_json[] = {"before", "after", NULL};
static const char *const none[] = {NULL};

static const struct list_kind dlq_kind = {ADM_DLQ_KEY, "deadletters.csv", dlq_fields, none};
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

/* The value shown for one field: as stored, or, for a role that may not see subscriber data, a
 * masked heap copy returned in *tmp too (the caller frees *tmp; NULL when nothing was copied). */
static const char *shown(struct adm_req *r, const struct list_kind *k, const char *name,
                         const char *v, char **tmp)
{
    *tmp = NULL;
    if (!v || k != &dlq_kind || (r->role & ADM_ROLES_SUBSCRIBER_DATA) ||
        !in_list(dlq_private, name))
        return v;
    *tmp = strdup(v);
    if (!*tmp)
        return "";
    adm_mask_numbers(*tmp);
    return *tmp;
}

static void list_reply(struct adm_req *r, const struct redisReply *reply)
{
    const struct list_kind *k = r->n2 ? &audit_kind : &dlq_kind;
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
                char *tmp;
                evbuffer_add(csv, ",", 1);
                adm_csv_text(
                    csv, shown(r, k, k->fields[f], entry_field(e->element[1], k->fields[f]), &tmp));
                free(tmp);
            }
            evbuffer_add(csv, "\r\n", 2);
            continue;
        }
        json_t *o = json_pack("{s:s}", "id", id);
        for (size_t f = 0; k->fields[f]; f++) {
            char *tmp;
            const char *v =
                shown(r, k, k->fields[f], entry_field(e->element[1], k->fields[f]), &tmp);
            json_t *jv = NULL;
            if (!v) {
                jv = json_null();
            } else if (strcmp(k->fields[f], "at") == 0) {
                jv = json_integer(strtoll(v, NULL, 10));
            } else if (in_list(k->json_fields, k->fields[f])) {
                jv = json_loads(v, JSON_DECODE_ANY, NULL);
            }
            json_object_set_new(o, k->fields[f], jv ? jv : json_string(v));
            free(tmp);
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

static void list_stream(struct adm_req *r, bool audit)
{
    long count;
    const char *before;
    char end[48], cnt[24];

    if (adm_page_args(r, &count, &before) < 0)
        return;
    r->n1 = count;
    r->n2 = audit;
    /* "(" makes the end exclusive (Redis >= 6.2): the page starts after the last one shown. */
    if (before)
        snprintf(end, sizeof(end), "(%s", before);
    else
        snprintf(end, sizeof(end), "+");
    snprintf(cnt, sizeof(cnt), "%ld", count + 1);
    const char *argv[] = {"XREVRANGE", audit ? audit_kind.key : dlq_kind.key, end, "-", "COUNT",
                          cnt};
    adm_redis(r, list_reply, 6, argv);
}

void adm_h_deadletters(struct adm_req *r)
{
    list_stream(r, false);
}

void adm_h_audit(struct adm_req *r)
{
    list_stream(r, true);
}
