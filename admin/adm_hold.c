/*
 * adm_hold.c - points held by the velocity caps (issue 10 section 5; gateway/lua/commit.lua):
 * care releases them (credited as earned today) or cancels them, with a reason, audited.
 *
 *   POST /api/subscribers/<msisdn>/hold  {"action": "release" | "cancel", "reason": "..."}
 *        -> {msisdn, action, points, balance}   points 0: nothing was held (a retry)
 *
 * One script (admin/lua/hold.lua) consumes the whole hold in the subscriber's slot, so a second
 * click or agent finds nothing held and changes nothing; one audit record per action that moved
 * points. Owner: the fraud brakes engineer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "adm_priv.h"
#include "gw_core.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define HOLD_REASON_MAX 200

static void hold_done(struct adm_req *r, const struct redisReply *reply)
{
    const char *action = json_string_value(json_object_get(r->body, "action"));
    const char *reason = json_string_value(json_object_get(r->body, "reason"));

    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "LGWNOWALLET", 11) == 0) {
        adm_reply_error(r, 404, "msisdn", "subscriber not enrolled (no event seen)");
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[1]->type != REDIS_REPLY_INTEGER ||
        reply->element[2]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "hold %s refused: %.200s", action, adm_reply_err_text(reply));
        adm_reply_error(r, 500, NULL, "the store refused the change");
        return;
    }
    long long pts = reply->element[2]->integer, bal = reply->element[1]->integer;
    r->j1 = json_pack("{s:s, s:s, s:I, s:I}", "msisdn", r->arg, "action", action, "points",
                      (json_int_t)pts, "balance", (json_int_t)bal);
    if (pts == 0) { /* nothing held (a retry): nothing to audit */
        json_t *o = r->j1;
        r->j1 = NULL;
        adm_reply_json(r, 200, o);
        return;
    }
    char before[64];
    snprintf(before, sizeof(before), "{\"held\":%lld}", pts);
    json_t *a = json_pack("{s:s, s:I, s:s}", "action", action, "points", (json_int_t)pts,
                          "reason", reason);
    /* the whole document (a reason of 200 characters escaped is longer than any fixed buffer);
     * the command is formatted before adm_audit_append returns */
    char *as = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    adm_audit_append(r, adm_reply_j1_audited, "subscriber.hold", r->arg, before, as ? as : "{}",
                     "");
    free(as);
}

void adm_h_sub_hold(struct adm_req *r)
{
    static const char *const keys[] = {"action", "reason", NULL};

    if (!adm_msisdn_valid(r->arg)) {
        adm_reply_error(r, 400, "msisdn", "not a valid MSISDN");
        return;
    }
    if (!r->body) {
        adm_reply_error(r, 400, "body", "send {\"action\": \"release\"|\"cancel\", \"reason\": ...}");
        return;
    }
    if (!adm_body_keys_ok(r, keys))
        return;
    const char *action = json_string_value(json_object_get(r->body, "action"));
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    if (!action || (strcmp(action, "release") != 0 && strcmp(action, "cancel") != 0)) {
        adm_reply_error(r, 400, "action", "action is release or cancel");
        return;
    }
    size_t n = reason ? strlen(reason) : 0;
    bool reason_ok = n >= 3 && n <= HOLD_REASON_MAX;
    for (size_t i = 0; reason_ok && i < n; i++)
        reason_ok = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!reason_ok) {
        adm_reply_error(r, 400, "reason",
                        "a reason is required: 3 to %d characters, no control characters",
                        HOLD_REASON_MAX);
        return;
    }
    char w[sizeof(r->arg) + 8], day[16], tag[GW_SLOT_TAG_MAX], agd[48], agt[40];
    snprintf(w, sizeof(w), "lg:{%s}:w", r->arg);
    snprintf(day, sizeof(day), "%08" PRId32, gw_local_day(adm_now_ms() / 1000));
    if (gw_slot_tag_of(r->arg, tag) < 0) {
        adm_reply_error(r, 400, "msisdn", "not a valid MSISDN");
        return;
    }
    snprintf(agd, sizeof(agd), "lg:ag:%s:%s", tag, day);
    snprintf(agt, sizeof(agt), "lg:ag:%s:tot", tag);
    const char *argv[] = {w, agd, agt, strcmp(action, "release") == 0 ? "RELEASE" : "CANCEL", day};
    adm_script(r, hold_done, ADM_S_HOLD, 3, 5, argv);
}
