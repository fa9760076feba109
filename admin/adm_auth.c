/*
 * adm_auth.c - staff accounts and sessions: password hashes with crypt(3) yescrypt (libxcrypt's
 * crypt_gensalt_ra + crypt_r), login with a per-IP rate limit and a per-account lock (N failures
 * of one account in a window lock its logins for a while, audited: login_acct.lua), sessions as
 * random tokens kept in Redis with a TTL, logout and "who am I". Owner: the staff-console
 * engineer.
 *
 * Tokens are 32 random bytes (getrandom), given to the client only: Redis keeps their SHA-256
 * (adm:sess:<sid>, admin.h), so a dump of Redis gives no session. The session holds the user name
 * and the account's session generation (sgen): the role, sgen and the disabled flag are read from
 * the account on every request (adm_server.c), so removing, resetting or disabling an account, or
 * changing its role, takes effect at once. Listing and revoking: adm_sessions.c.
 */
#include <crypt.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"
#include "gw_core.h"

#define RATE_WINDOW_S 60

static bool password_ok(const char *pw)
{
    size_t n = pw ? strlen(pw) : 0;

    if (n < ADM_PASSWORD_MIN || n > ADM_PASSWORD_MAX)
        return false;
    return strchr(pw, '\n') == NULL && strchr(pw, '\r') == NULL;
}

int adm_password_hash(const char *password, char *out, size_t outlen)
{
    struct crypt_data *cd;
    char *salt;
    const char *h;
    int rc = 0;

    if (!password_ok(password))
        return -EINVAL;
    /* "$y$" = yescrypt, Debian 12's default for /etc/shadow; count 0 = libxcrypt's default cost.
     * NULL random bytes: libxcrypt draws the salt from the kernel itself. */
    salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
    if (!salt)
        return errno == EINVAL ? -ENOSYS : -ENOMEM;
    cd = calloc(1, sizeof(*cd));
    if (!cd) {
        free(salt);
        return -ENOMEM;
    }
    h = crypt_r(password, salt, cd);
    if (!h || h[0] != '$') {
        rc = -ENOSYS;
    } else if (strlen(h) >= outlen) {
        rc = -ENOSPC;
    } else {
        memcpy(out, h, strlen(h) + 1);
    }
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    free(salt);
    return rc;
}

static bool hash_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    /* Constant time over the stored hash's length. */
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

bool adm_password_verify(const char *password, const char *hash)
{
    struct crypt_data *cd;
    const char *h;
    bool ok;

    if (!password || !hash || hash[0] != '$' || strlen(password) > ADM_PASSWORD_MAX)
        return false;
    cd = calloc(1, sizeof(*cd));
    if (!cd)
        return false;
    h = crypt_r(password, hash, cd);
    ok = h && h[0] == '$' && hash_equal(h, hash);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok;
}

/* ---------------------------------------------------------------- POST /api/login */

static void login_failed_counted(struct adm_req *r, const struct redisReply *reply);
static void login_acct_cleared(struct adm_req *r, const struct redisReply *reply);
static void login_user(struct adm_req *r, const struct redisReply *reply);

/* Runs login_acct.lua for r->user (validated: [a-z0-9._-]) with op check|fail|ok. */
static void acct_script(struct adm_req *r, adm_step step, const char *op)
{
    char kn[sizeof(ADM_KEY_ACCT_FAILS) + ADM_USER_MAX],
        kl[sizeof(ADM_KEY_ACCT_LOCK) + ADM_USER_MAX];
    char fails[16], window[16], lock[16];
    const struct adm_config *c = &r->srv->cfg;

    snprintf(kn, sizeof(kn), ADM_KEY_ACCT_FAILS, r->user);
    snprintf(kl, sizeof(kl), ADM_KEY_ACCT_LOCK, r->user);
    snprintf(fails, sizeof(fails), "%" PRIu32, c->account_fails);
    snprintf(window, sizeof(window), "%" PRIu32, c->account_window_s);
    snprintf(lock, sizeof(lock), "%" PRIu32, c->account_lock_s);
    const char *argv[] = {kn, kl, op, fails, window, lock};
    adm_script(r, step, ADM_S_LOGIN_ACCT, 2, 6, argv);
}

static void account_locked_reply(struct adm_req *r, long long secs)
{
    char retry[24];

    snprintf(retry, sizeof(retry), "%lld", secs > 0 ? secs : 1);
    evhttp_add_header(evhttp_request_get_output_headers(r->http), "Retry-After", retry);
    r->user[0] = '\0';
    adm_reply_error(r, 429, NULL,
                    "too many failed logins for this account; its logins are locked, retry in "
                    "%s s",
                    retry);
}

static void lock_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING)
        GW_LOGE(ADM_LOG, "account lock not audited: %.200s", adm_reply_err_text(reply));
    /* The failure that locked the account is answered like any wrong password. */
    r->user[0] = '\0';
    adm_reply_error(r, 401, NULL, "wrong user name or password");
}

static void login_failed_counted(struct adm_req *r, const struct redisReply *reply)
{
    char target[ADM_USER_MAX + 1], after[96];

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "account login count: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->element[0]->integer != 1) {
        r->user[0] = '\0';
        adm_reply_error(r, 401, NULL, "wrong user name or password");
        return;
    }
    /* This failure locked the account: a record in the audit trail, by nobody (the caller is
     * not authenticated), from the caller's address, on the account. */
    gw_log(GW_LOG_NOTICE, ADM_LOG,
           "account %s locked for %" PRIu32 " s after %lld failed logins "
           "(last from %s)",
           r->user, r->srv->cfg.account_lock_s, reply->element[1]->integer, r->ip);
    snprintf(target, sizeof(target), "%s", r->user);
    snprintf(after, sizeof(after), "{\"locked_s\":%" PRIu32 ",\"failures\":%lld}",
             r->srv->cfg.account_lock_s, reply->element[1]->integer);
    r->user[0] = '\0';
    adm_audit_append(r, lock_audited, "account.locked", target, "{}", after, NULL);
}

static void login_acct_checked(struct adm_req *r, const struct redisReply *reply)
{
    char key[sizeof(ADM_KEY_USER) + ADM_USER_MAX];

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "account login lock: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->element[0]->integer > 0) {
        /* No password is checked while locked: guessing goes nowhere, and costs no yescrypt. */
        gw_log(GW_LOG_NOTICE, ADM_LOG, "login for locked account %s from %s", r->user, r->ip);
        account_locked_reply(r, reply->element[0]->integer);
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USER "%s", r->user);
    const char *argv[] = {"HGETALL", key};
    adm_redis(r, login_user, 2, argv);
}

/* What login_user learnt from the account, kept in r->n2 while the password is checked */
#define LOGIN_ROLE_MASK 0xff
#define LOGIN_KNOWN 0x100    /* the account exists, with a hash and a valid role */
#define LOGIN_DISABLED 0x200 /* the account is disabled */

static void login_verified(struct adm_req *r, int result, void *arg);

static void login_user(struct adm_req *r, const struct redisReply *reply)
{
    const char *hash = NULL, *role = NULL;
    const char *pw = json_string_value(json_object_get(r->body, "password"));
    long long gen = 0;
    bool disabled = false;

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            const struct redisReply *k = reply->element[i], *v = reply->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(k->str, "hash") == 0)
                hash = v->str;
            else if (strcmp(k->str, "role") == 0)
                role = v->str;
            else if (strcmp(k->str, "sgen") == 0)
                gen = strtoll(v->str, NULL, 10);
            else if (strcmp(k->str, "disabled") == 0)
                disabled = true;
        }
    }
    enum adm_role rl = role ? adm_role_parse(role) : 0;
    r->n1 = gen < 0 ? 0 : gen; /* the account's session generation, for the session */
    r->n2 = (int64_t)(rl & LOGIN_ROLE_MASK) | (hash && rl ? LOGIN_KNOWN : 0) |
            (disabled ? LOGIN_DISABLED : 0);
    /* An unknown user costs the same yescrypt run as a known one (the dummy hash); the run is
     * on the worker thread (adm_crypt.c), the loop serves the others meanwhile. */
    int rc = adm_crypt_verify(r->srv->crypt, r, pw ? pw : "", hash ? hash : r->srv->dummy_hash,
                              login_verified, NULL);
    if (rc < 0) {
        GW_LOGE(ADM_LOG, "login for %s from %s: password check not started: %s", r->user, r->ip,
                strerror(-rc));
        r->user[0] = '\0';
        adm_reply_error(r, 503, NULL, "too many logins at once: try again in a moment");
    }
}

static void login_verified(struct adm_req *r, int result, void *arg)
{
    (void)arg;
    if (result < 0) {
        r->user[0] = '\0';
        adm_reply_error(r, 503, NULL, "the console is stopping: try again in a moment");
        return;
    }
    bool ok = result == 1 && (r->n2 & LOGIN_KNOWN);
    bool disabled = (r->n2 & LOGIN_DISABLED) != 0;
    if (!ok) {
        gw_log(GW_LOG_NOTICE, ADM_LOG, "login refused for %s from %s", r->user, r->ip);
        acct_script(r, login_failed_counted, "fail");
        return;
    }
    if (disabled) {
        /* Said only to whoever knows the password: no probing of which accounts exist. */
        gw_log(GW_LOG_NOTICE, ADM_LOG, "login refused for %s from %s: disabled", r->user, r->ip);
        r->user[0] = '\0';
        adm_reply_error(r, 403, NULL, "this account is disabled");
        return;
    }
    r->role = (enum adm_role)(r->n2 & LOGIN_ROLE_MASK);
    acct_script(r, login_acct_cleared, "ok");
}

/* A good password clears the account's failure count, then the session is stored. */
static void login_acct_cleared(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY) {
        GW_LOGE(ADM_LOG, "account login count: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (adm_token_new(r->token, sizeof(r->token)) < 0) {
        adm_reply_error(r, 503, NULL, "no randomness for a token");
        return;
    }
    if (adm_session_id(r->token, r->sid, sizeof(r->sid)) < 0) {
        adm_reply_error(r, 500, NULL, "internal error");
        return;
    }
    adm_session_store(r, r->n1);
}

static void login_rate(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        GW_LOGE(ADM_LOG, "login rate limit: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    if (reply->element[0]->integer > (long long)r->srv->cfg.login_per_min) {
        char retry[24];
        long long ttl = reply->element[1]->type == REDIS_REPLY_INTEGER ? reply->element[1]->integer
                                                                       : RATE_WINDOW_S;
        snprintf(retry, sizeof(retry), "%lld", ttl > 0 ? ttl : 1);
        evhttp_add_header(evhttp_request_get_output_headers(r->http), "Retry-After", retry);
        gw_log(GW_LOG_NOTICE, ADM_LOG, "login rate limit reached for %s", r->ip);
        r->user[0] = '\0';
        adm_reply_error(r, 429, NULL, "too many login attempts; retry in %s s", retry);
        return;
    }
    acct_script(r, login_acct_checked, "check");
}

void adm_h_login(struct adm_req *r)
{
    json_t *u = json_object_get(r->body, "user"), *p = json_object_get(r->body, "password");
    char key[sizeof(ADM_KEY_RATE) + INET6_ADDRSTRLEN], window[8];

    if (!r->body) {
        adm_reply_error(r, 400, "body", "send {\"user\": ..., \"password\": ...}");
        return;
    }
    if (!json_is_string(u) || !adm_user_name_valid(json_string_value(u))) {
        adm_reply_error(r, 400, "user", "user must be a user name");
        return;
    }
    if (!json_is_string(p) || json_string_length(p) == 0 ||
        json_string_length(p) > ADM_PASSWORD_MAX) {
        adm_reply_error(r, 400, "password", "password must be a non-empty string");
        return;
    }
    snprintf(r->user, sizeof(r->user), "%s", json_string_value(u));
    snprintf(key, sizeof(key), ADM_KEY_RATE "%s", r->ip);
    snprintf(window, sizeof(window), "%d", RATE_WINDOW_S);
    const char *argv[] = {key, window};
    adm_script(r, login_rate, ADM_S_LOGIN_RL, 1, 2, argv);
}

/* ---------------------------------------------------------------- logout, me */

static void logout_done(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    gw_log(GW_LOG_INFO, ADM_LOG, "logout %s", r->user);
    adm_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static void logout_index(struct adm_req *r, const struct redisReply *reply)
{
    char key[sizeof(ADM_KEY_USESS) + ADM_USER_MAX];

    if (reply->type != REDIS_REPLY_INTEGER) {
        adm_reply_error(r, 503, NULL, "the store gave an unexpected answer");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_USESS "%s", r->user);
    const char *argv[] = {"HDEL", key, r->sid};
    adm_redis(r, logout_done, 3, argv);
}

void adm_h_logout(struct adm_req *r)
{
    char key[sizeof(ADM_KEY_SESS) + sizeof(r->sid)];

    snprintf(key, sizeof(key), ADM_KEY_SESS "%s", r->sid);
    const char *argv[] = {"DEL", key};
    adm_redis(r, logout_index, 2, argv);
}

static void me_ttl(struct adm_req *r, const struct redisReply *reply)
{
    long long ttl = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;

    adm_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:I}", "user", r->user, "role", adm_role_name(r->role),
                             "expires_in", (json_int_t)(ttl > 0 ? ttl : 0)));
}

void adm_h_me(struct adm_req *r)
{
    char key[sizeof(ADM_KEY_SESS) + sizeof(r->sid)];

    snprintf(key, sizeof(key), ADM_KEY_SESS "%s", r->sid);
    const char *argv[] = {"TTL", key};
    adm_redis(r, me_ttl, 2, argv);
}
