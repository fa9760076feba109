/*
 * adm_sessions.c - staff sessions in Redis (admin.h "Redis keys"): storing one at login, listing a
 * user's sessions, revoking one, revoking all of a user's. Only the SHA-256 of a token (the
 * session id) is ever stored or shown, so neither Redis nor this API hands out a usable token.
 *
 * Revoking all bumps the account's session generation (sgen): every session carries the sgen it
 * was made under and adm_server.c compares it on each request, so they end at once, with one
 * atomic write, whatever their number (and with Redis Cluster, where the session keys live on
 * many slots). The same happens on a password reset and a disable (loyalty-admin --add-user,
 * --disable-user in main.c). The admin role alone may call these; each revocation is audited.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_core.h"

/* ---------------------------------------------------------------- storing (login) */

static void store_done(struct adm_req *r, const struct redisReply *reply)
{
    json_t *o;

    if (reply->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "session index not kept: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the session could not be stored");
        return;
    }
    gw_log(GW_LOG_NOTICE, ADM_LOG, "login %s (%s) from %s, session %.12s", r->user,
           adm_role_name(r->role), r->ip, r->sid);
    o = json_pack("{s:s, s:s, s:s, s:I}", "token", r->token, "user", r->user, "role",
                  adm_role_name(r->role), "expires_in", (json_int_t)r->srv->cfg.session_ttl_s);
    adm_reply_json(r, 200, o);
}

static void store_indexed(struct adm_req *r, const struct redisReply *reply)
{
    char key[128], ttl[16];

    if (reply->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "session index not kept: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the session could not be stored");
        return;
    }
    /* The index lives as long as the newest session: older entries are skipped when listed. */
    snprintf(key, sizeof(key), ADM_KEY_USESS "%.64s", r->user);
    snprintf(ttl, sizeof(ttl), "%" PRIu32, r->srv->cfg.session_ttl_s);
    const char *argv[] = {"EXPIRE", key, ttl};
    adm_redis(r, store_done, 3, argv);
}

static void store_set(struct adm_req *r, const struct redisReply *reply)
{
    char key[128], entry[96];
    int64_t now = adm_now_ms();

    if (reply->type != REDIS_REPLY_STATUS) {
        GW_LOGE(ADM_LOG, "session not stored: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the session could not be stored");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USESS "%.64s", r->user);
    snprintf(entry, sizeof(entry), "%" PRId64 " %" PRId64 " %s", now,
             now + (int64_t)r->srv->cfg.session_ttl_s * 1000, r->ip);
    const char *argv[] = {"HSET", key, r->sid, entry};
    adm_redis(r, store_indexed, 4, argv);
}

void adm_session_store(struct adm_req *r, long long gen)
{
    char key[128], val[32 + ADM_USER_MAX], ttl[16];

    snprintf(key, sizeof(key), ADM_KEY_SESS "%.64s", r->sid);
    snprintf(val, sizeof(val), "%lld %s", gen, r->user);
    snprintf(ttl, sizeof(ttl), "%" PRIu32, r->srv->cfg.session_ttl_s);
    const char *argv[] = {"SET", key, val, "EX", ttl};
    adm_redis(r, store_set, 5, argv);
}

/* ---------------------------------------------------------------- GET /api/users/NAME/sessions */

static void list_done(struct adm_req *r, const struct redisReply *reply)
{
    json_t *arr;
    int64_t now = adm_now_ms();

    if (reply->type != REDIS_REPLY_ARRAY) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    arr = json_array();
    for (size_t i = 0; arr && i + 1 < reply->elements; i += 2) {
        const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
        long long at, exp;
        char ip[INET6_ADDRSTRLEN];

        /* Entries are ours, but Redis content is checked like any input. */
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            !adm_token_valid(k->str) || v->len > 100 ||
            sscanf(v->str, "%lld %lld %45s", &at, &exp, ip) != 3 || exp <= now)
            continue;
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s, s:b}", "id", k->str,
                                             "created_ms", (json_int_t)at, "expires_ms",
                                             (json_int_t)exp, "ip", ip, "current",
                                             strcmp(k->str, r->sid) == 0));
    }
    if (!arr) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    /* Sessions revoked by a generation bump are gone from the index (revoke_user deletes it);
     * one revoked singly is removed from it too, so what is listed is what is live (within
     * the session lifetime). */
    adm_reply_json(r, 200, json_pack("{s:s, s:o}", "user", r->arg, "sessions", arr));
}

void adm_h_sessions_list(struct adm_req *r)
{
    char key[128];

    if (!adm_user_name_valid(r->arg)) {
        adm_reply_error(r, 400, "user", "not a user name");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USESS "%.64s", r->arg);
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, list_done, 2, argv);
}

/* ---------------------------------------------------------------- revoke all of a user's */

static void revoke_user_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record of %s not written: %.200s", r->route->what,
                adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the sessions are revoked but the audit record is not");
        return;
    }
    adm_reply_json(r, 200, json_pack("{s:s, s:b}", "user", r->arg, "revoked", 1));
}

static void revoke_user_index(struct adm_req *r, const struct redisReply *reply)
{
    char after[48];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    snprintf(after, sizeof(after), "{\"session_generation\":%" PRId64 "}", r->n1);
    gw_log(GW_LOG_NOTICE, ADM_LOG, "every session of %s revoked by %s", r->arg, r->user);
    adm_audit_append(r, revoke_user_audited, r->route->what, r->arg, "{}", after, NULL);
}

static void revoke_user_bumped(struct adm_req *r, const struct redisReply *reply)
{
    char key[128];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    r->n1 = reply->integer;
    snprintf(key, sizeof(key), ADM_KEY_USESS "%.64s", r->arg);
    const char *argv[] = {"DEL", key};
    adm_redis(r, revoke_user_index, 2, argv);
}

static void revoke_user_exists(struct adm_req *r, const struct redisReply *reply)
{
    char key[128];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->integer != 1) {
        adm_reply_error(r, 404, "user", "no such user");
        return;
    }
    /* HINCRBY on an account known to exist (a removed one would be re-created as a bare hash
     * without role, which cannot log in: harmless, but checked first anyway). */
    snprintf(key, sizeof(key), ADM_KEY_USER "%.64s", r->arg);
    const char *argv[] = {"HINCRBY", key, "sgen", "1"};
    adm_redis(r, revoke_user_bumped, 4, argv);
}

void adm_h_sessions_revoke_user(struct adm_req *r)
{
    char key[128];

    if (!adm_user_name_valid(r->arg)) {
        adm_reply_error(r, 400, "user", "not a user name");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USER "%.64s", r->arg);
    const char *argv[] = {"HEXISTS", key, "role"};
    adm_redis(r, revoke_user_exists, 3, argv);
}

/* ---------------------------------------------------------------- revoke one */

static void revoke_one_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record of %s not written: %.200s", r->route->what,
                adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the session is revoked but the audit record is not");
        return;
    }
    adm_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "id", r->arg, "user", r->s1, "revoked", 1));
}

static void revoke_one_index(struct adm_req *r, const struct redisReply *reply)
{
    char target[ADM_USER_MAX + 16];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    /* The audit names the user and a prefix of the id: enough to match the listing. */
    snprintf(target, sizeof(target), "%.32s/%.12s", r->s1, r->arg);
    gw_log(GW_LOG_NOTICE, ADM_LOG, "session %.12s of %s revoked by %s", r->arg, r->s1, r->user);
    adm_audit_append(r, revoke_one_audited, r->route->what, target, "{\"session\":\"live\"}",
                     "{\"session\":\"revoked\"}", NULL);
}

static void revoke_one_deleted(struct adm_req *r, const struct redisReply *reply)
{
    char key[128];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USESS "%.64s", r->s1);
    const char *argv[] = {"HDEL", key, r->arg};
    adm_redis(r, revoke_one_index, 3, argv);
}

static void revoke_one_found(struct adm_req *r, const struct redisReply *reply)
{
    char key[128];
    const char *sp;

    if (reply->type != REDIS_REPLY_STRING || !(sp = strchr(reply->str, ' ')) ||
        !adm_user_name_valid(sp + 1)) {
        adm_reply_error(r, 404, "id", "no such session (expired, revoked or never made)");
        return;
    }
    snprintf(r->s1, sizeof(r->s1), "%s", sp + 1);
    snprintf(key, sizeof(key), ADM_KEY_SESS "%.64s", r->arg);
    const char *argv[] = {"DEL", key};
    adm_redis(r, revoke_one_deleted, 2, argv);
}

void adm_h_session_revoke(struct adm_req *r)
{
    char key[128];

    if (!adm_token_valid(r->arg)) {
        adm_reply_error(r, 400, "id", "a session id is 64 hex characters");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_SESS "%.64s", r->arg);
    const char *argv[] = {"GET", key};
    adm_redis(r, revoke_one_found, 2, argv);
}
