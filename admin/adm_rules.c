/*
 * adm_rules.c - the campaign rules' figures for the console (issue 10 section 1): for each campaign
 * of the stored document, its budget, what was spent and is left, the bonuses paid and refused by
 * the hard stop, and the win-back funnel (offered, came back, points spent). No subscriber
 * identity: every role reads it. The document itself is GET/PUT /api/campaign-rules (adm_config.c).
 *
 *   GET /api/campaign-rules/figures
 *     {"version": "...", "stored_version": N, "campaigns": [{id, rule, start, end, budget, spent,
 *      left, grants, budget_stops, offered?, came_back?}]}
 *
 * Two reads: HMGET cfg:{adm}:campaigns doc version, then HGETALL lg:cb:{cmp} (the counters
 * campaign.lua moves with each credit). r->j1 holds the answer being built.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_campaign.h"
#include "gw_campaign_run.h"

static const char *const COUNTERS[] = {"spent", "n", "stop", "offered", "back"};
#define NCOUNTERS (sizeof(COUNTERS) / sizeof(COUNTERS[0]))

static void day_text(int32_t ymd, char *out, size_t cap)
{
    snprintf(out, cap, "%04d-%02d-%02d", (int)(ymd / 10000), (int)(ymd / 100 % 100),
             (int)(ymd % 100));
}

static void figures_counters(struct adm_req *r, const struct redisReply *reply)
{
    json_t *arr = json_object_get(r->j1, "campaigns");
    size_t i;
    json_t *o;

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        size_t il = strlen(id);
        int64_t f[NCOUNTERS] = {0};
        for (size_t j = 0; j + 1 < reply->elements; j += 2) {
            const struct redisReply *k = reply->element[j], *v = reply->element[j + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
                strncmp(k->str, id, il) != 0 || k->str[il] != ':')
                continue;
            for (size_t x = 0; x < NCOUNTERS; x++)
                if (strcmp(k->str + il + 1, COUNTERS[x]) == 0)
                    f[x] = strtoll(v->str, NULL, 10);
        }
        json_int_t budget = json_integer_value(json_object_get(o, "budget"));
        json_object_set_new(o, "spent", json_integer(f[0]));
        json_object_set_new(o, "left", json_integer(budget - f[0]));
        json_object_set_new(o, "grants", json_integer(f[1]));
        json_object_set_new(o, "budget_stops", json_integer(f[2]));
        if (strcmp(json_string_value(json_object_get(o, "rule")), "winback") == 0) {
            json_object_set_new(o, "offered", json_integer(f[3]));
            json_object_set_new(o, "came_back", json_integer(f[4]));
        }
    }
    json_t *out = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, out);
}

static void figures_doc(struct adm_req *r, const struct redisReply *reply)
{
    struct gw_campaigns *doc;
    char err[256], d1[16], d2[16];

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->element[0]->type != REDIS_REPLY_STRING) {
        adm_reply_error(r, 404, NULL, "no campaign rules are stored yet: PUT /api/campaign-rules");
        return;
    }
    if (!(doc = malloc(sizeof(*doc)))) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    if (gw_campaigns_parse(reply->element[0]->str, reply->element[0]->len, doc, err,
                           sizeof(err)) < 0) {
        free(doc);
        adm_reply_error(r, 500, NULL, "the stored campaign rules are invalid: %s", err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < doc->n; i++) {
        const struct gw_camp *c = &doc->c[i];
        day_text(c->start, d1, sizeof(d1));
        day_text(c->end, d2, sizeof(d2));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", c->id,
                                             "rule", gw_camp_rule_name(c->rule), "start", d1,
                                             "end", d2, "budget", (json_int_t)c->budget,
                                             "points", (json_int_t)c->points));
    }
    long long sv = reply->element[1]->type == REDIS_REPLY_STRING
                       ? strtoll(reply->element[1]->str, NULL, 10)
                       : 0;
    r->j1 = json_pack("{s:s, s:I, s:o}", "version", doc->version, "stored_version",
                      (json_int_t)sv, "campaigns", arr);
    free(doc);
    const char *argv[] = {"HGETALL", GW_CAMP_KEY_BUDGET};
    adm_redis(r, figures_counters, 2, argv);
}

void adm_h_rules_figures(struct adm_req *r)
{
    const char *argv[] = {"HMGET", ADM_KEY_CAMPAIGNS, "doc", "version"};
    adm_redis(r, figures_doc, 4, argv);
}
