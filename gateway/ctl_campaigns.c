/*
 * ctl_campaigns.c - loyaltyctl campaign-rules (ctl_campaigns.h). Synchronous hiredis, pipelined
 * per slot: the preview reads the win-back due sets of the 16,384 slot tags for the days asked
 * (8 days: 131,072 SMEMBERS, answered in a few seconds on one Redis) and the few wallets in them.
 */
#include "ctl_campaigns.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_birthday.h"
#include "gw_campaign.h"
#include "gw_campaign_bday.h"
#include "gw_campaign_run.h"
#include "gw_days.h"
#include "gw_expiry.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define DAYS_MAX 31

void ctl_campaigns_usage(FILE *out)
{
    fprintf(out, "  campaign-rules [--at UNIX] [--days N] [--json]\n"
                 "                the stored campaigns document, each campaign's budget and\n"
                 "                figures, and the win-back preview: who would be offered at --at\n"
                 "                (default now; the due sets of that day and N days before,\n"
                 "                default 7) and what their bonus would cost; the birthday\n"
                 "                preview: the birthdays of that day not paid yet, and their cost\n");
}

static int64_t field_int(const redisReply *r, int64_t dflt)
{
    if (!r || r->type != REDIS_REPLY_STRING)
        return dflt;
    char *end;
    long long v = strtoll(r->str, &end, 10);
    return *end ? dflt : v;
}

struct preview {
    int64_t due, offered_before, cost;
};

/* One member of a due set: the wallet's fields the offer looks at. */
static void preview_member(redisContext *c, const struct gw_camp *cp, const char *m, int64_t at,
                           struct preview *p)
{
    redisReply *w = redisCommand(c, "HMGET lg:{%s}:w bal rc rl wo blocked tier", m);

    if (w && w->type == REDIS_REPLY_ARRAY && w->elements == 6) {
        int64_t orl = -1;
        if (w->element[3]->type == REDIS_REPLY_STRING) {
            const char *last = strrchr(w->element[3]->str, ',');
            orl = last ? strtoll(last + 1, NULL, 10) : -1;
        }
        bool exists = w->element[0]->type == REDIS_REPLY_STRING;
        bool blocked = field_int(w->element[4], 0) == 1;
        if (gw_camp_winback_due(cp, at, exists, blocked, field_int(w->element[1], 0),
                                field_int(w->element[2], -1), orl)) {
            p->due++;
            p->cost += gw_camp_points(cp, w->element[5]->type == REDIS_REPLY_STRING
                                              ? w->element[5]->str
                                              : NULL);
        } else if (exists && orl >= 0 && orl == field_int(w->element[2], -1))
            p->offered_before++;
    }
    freeReplyObject(w);
}

static int preview_winback(redisContext *c, const struct gw_camp *cp, int64_t at, int days,
                           struct preview *p)
{
    int32_t today = gw_local_day(at);
    char tag[GW_SLOT_TAG_MAX];

    for (unsigned s = 0; s < GW_SLOTS; s++) {
        gw_slot_tag(s, tag);
        for (int k = days; k >= 0; k--)
            redisAppendCommand(c, "SMEMBERS lg:cw:%s:%08" PRId32, tag, gw_days_add(today, -k));
        /* every pipelined reply first: a command sent meanwhile would read one of them */
        redisReply *rs[DAYS_MAX + 1] = {0};
        int got = 0, rc = 0;
        for (int k = days; k >= 0; k--, got++)
            if (redisGetReply(c, (void **)&rs[got]) != REDIS_OK || !rs[got]) {
                rc = -EIO;
                break;
            }
        for (int j = 0; j < got; j++) {
            const redisReply *r = rs[j];
            for (size_t i = 0; rc == 0 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
                if (r->element[i]->type == REDIS_REPLY_STRING && r->element[i]->len < 16)
                    preview_member(c, cp, r->element[i]->str, at, p);
            freeReplyObject(rs[j]);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The birthday preview: the members of the month-day sets of the day at (gw_birthday_sets_of_day)
 * whose birth date is celebrated that day and who were not paid that year (the BDAY script's test). */
static int preview_birthday(redisContext *c, const struct gw_camp *cp, int64_t at,
                            struct preview *p)
{
    int32_t day = gw_local_day(at), mmdd[2];
    int n = gw_birthday_sets_of_day(day, mmdd);
    char tag[GW_SLOT_TAG_MAX], year[8];

    snprintf(year, sizeof(year), "%04d", (int)(day / 10000));
    for (unsigned s = 0; s < GW_SLOTS; s++) {
        gw_slot_tag(s, tag);
        for (int j = 0; j < n; j++)
            redisAppendCommand(c, "SMEMBERS " GW_BDAY_KEY_FMT, tag, (int)mmdd[j]);
        redisReply *rs[2] = {0};
        int got = 0, rc = 0;
        for (; got < n; got++)
            if (redisGetReply(c, (void **)&rs[got]) != REDIS_OK || !rs[got]) {
                rc = -EIO;
                break;
            }
        for (int j = 0; j < got; j++) {
            const redisReply *r = rs[j];
            for (size_t i = 0; rc == 0 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
                if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len >= 16)
                    continue;
                redisReply *w = redisCommand(c, "HMGET lg:{%s}:w bd blocked tier c:%s",
                                             r->element[i]->str, cp->id);
                if (w && w->type == REDIS_REPLY_ARRAY && w->elements == 4 &&
                    gw_birthday_is_today((int32_t)field_int(w->element[0], 0), day) &&
                    field_int(w->element[1], 0) != 1 &&
                    !(w->element[3]->type == REDIS_REPLY_STRING &&
                      strcmp(w->element[3]->str, year) == 0)) {
                    p->due++;
                    p->cost += gw_camp_points(cp, w->element[2]->type == REDIS_REPLY_STRING
                                                      ? w->element[2]->str
                                                      : NULL);
                }
                freeReplyObject(w);
            }
            freeReplyObject(rs[j]);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int ctl_campaign_rules(redisContext *c, int argc, char **argv, FILE *out)
{
    int64_t at = (int64_t)time(NULL);
    int days = 7;
    bool as_json = false;
    struct gw_campaigns *doc = NULL;
    redisReply *d = NULL, *b = NULL;
    json_t *root = NULL, *arr;
    char err[256];
    int rc = 1;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc)
            days = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else {
            ctl_campaigns_usage(stderr);
            return 2;
        }
    }
    if (days < 0 || days > DAYS_MAX || at <= 0) {
        fprintf(stderr, "loyaltyctl: --days 0..31, --at a unix time\n");
        return 2;
    }
    d = redisCommand(c, "HMGET %s doc version", GW_CAMP_KEY_DOC);
    b = redisCommand(c, "HGETALL %s", GW_CAMP_KEY_BUDGET);
    if (!d || !b || d->type != REDIS_REPLY_ARRAY || d->elements != 2 ||
        b->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "loyaltyctl: %s\n", c->err ? c->errstr : "unexpected reply");
        goto out;
    }
    if (d->element[0]->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "loyaltyctl: no campaigns document stored (%s)\n", GW_CAMP_KEY_DOC);
        goto out;
    }
    if (!(doc = malloc(sizeof(*doc))) ||
        gw_campaigns_parse(d->element[0]->str, d->element[0]->len, doc, err, sizeof(err)) < 0) {
        fprintf(stderr, "loyaltyctl: the stored document is invalid: %s\n", doc ? err : "memory");
        goto out;
    }
    root = json_pack("{s:s, s:I, s:I}", "version", doc->version, "stored_version",
                     (json_int_t)field_int(d->element[1], 0), "at", (json_int_t)at);
    arr = json_array();
    json_object_set_new(root, "campaigns", arr);
    int32_t today = gw_local_day(at);
    for (size_t i = 0; i < doc->n; i++) {
        const struct gw_camp *cp = &doc->c[i];
        int64_t f[5] = {0}; /* spent n stop offered back */
        static const char *const names[5] = {"spent", "n", "stop", "offered", "back"};
        for (size_t j = 0; j + 1 < b->elements; j += 2) {
            const char *k = b->element[j]->str;
            size_t il = strlen(cp->id);
            if (b->element[j]->type != REDIS_REPLY_STRING || strncmp(k, cp->id, il) != 0 ||
                k[il] != ':')
                continue;
            for (int x = 0; x < 5; x++)
                if (strcmp(k + il + 1, names[x]) == 0)
                    f[x] = field_int(b->element[j + 1], 0);
        }
        json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "id", cp->id, "rule",
                              gw_camp_rule_name(cp->rule), "active", gw_camp_active(cp, today),
                              "budget", (json_int_t)cp->budget, "spent", (json_int_t)f[0], "left",
                              (json_int_t)(cp->budget - f[0]), "grants", (json_int_t)f[1],
                              "budget_stops", (json_int_t)f[2]);
        if (cp->rule == GW_CAMP_WINBACK) {
            struct preview p = {0};
            if (gw_camp_active(cp, today) && preview_winback(c, cp, at, days, &p) < 0) {
                fprintf(stderr, "loyaltyctl: %s\n", c->err ? c->errstr : "read error");
                json_decref(o);
                goto out;
            }
            json_object_set_new(o, "offered", json_integer(f[3]));
            json_object_set_new(o, "came_back", json_integer(f[4]));
            json_object_set_new(o, "preview_due", json_integer(p.due));
            json_object_set_new(o, "preview_cost", json_integer(p.cost));
        }
        if (cp->rule == GW_CAMP_BIRTHDAY) {
            struct preview p = {0};
            if (gw_camp_active(cp, today) && preview_birthday(c, cp, at, &p) < 0) {
                fprintf(stderr, "loyaltyctl: %s\n", c->err ? c->errstr : "read error");
                json_decref(o);
                goto out;
            }
            json_object_set_new(o, "preview_due", json_integer(p.due));
            json_object_set_new(o, "preview_cost", json_integer(p.cost));
        }
        json_array_append_new(arr, o);
    }
    if (as_json) {
        char *s = json_dumps(root, JSON_COMPACT);
        if (s)
            fprintf(out, "%s\n", s);
        free(s);
    } else {
        size_t i;
        json_t *o;
        fprintf(out, "campaigns \"%s\" (stored version %" PRId64 ")\n", doc->version,
                field_int(d->element[1], 0));
        json_array_foreach(arr, i, o)
        {
            fprintf(out, "%-12s %-8s %-8s budget %" JSON_INTEGER_FORMAT " spent %" JSON_INTEGER_FORMAT
                         " left %" JSON_INTEGER_FORMAT " grants %" JSON_INTEGER_FORMAT
                         " stopped %" JSON_INTEGER_FORMAT "\n",
                    json_string_value(json_object_get(o, "id")),
                    json_string_value(json_object_get(o, "rule")),
                    json_is_true(json_object_get(o, "active")) ? "active" : "inactive",
                    json_integer_value(json_object_get(o, "budget")),
                    json_integer_value(json_object_get(o, "spent")),
                    json_integer_value(json_object_get(o, "left")),
                    json_integer_value(json_object_get(o, "grants")),
                    json_integer_value(json_object_get(o, "budget_stops")));
            if (json_object_get(o, "preview_due") && !json_object_get(o, "offered"))
                fprintf(out, "             birthdays at --at: %" JSON_INTEGER_FORMAT
                             " to pay, cost %" JSON_INTEGER_FORMAT " points\n",
                        json_integer_value(json_object_get(o, "preview_due")),
                        json_integer_value(json_object_get(o, "preview_cost")));
            else if (json_object_get(o, "preview_due"))
                fprintf(out, "             offered %" JSON_INTEGER_FORMAT " came back %" JSON_INTEGER_FORMAT
                             "; would be offered now: %" JSON_INTEGER_FORMAT
                             ", cost if all come back %" JSON_INTEGER_FORMAT " points\n",
                        json_integer_value(json_object_get(o, "offered")),
                        json_integer_value(json_object_get(o, "came_back")),
                        json_integer_value(json_object_get(o, "preview_due")),
                        json_integer_value(json_object_get(o, "preview_cost")));
        }
    }
    rc = 0;
out:
    json_decref(root);
    free(doc);
    freeReplyObject(d);
    freeReplyObject(b);
    return rc;
}
