/*
 * adm_server.c - the admin HTTP server: libevent's evhttp on the admin's own loop, the route
 * table (method, path pattern, roles allowed), bearer-token authentication against sessions in
 * Redis, the body limit, JSON parsing, the security headers and the one-reply-per-request helpers.
 * Owner: the staff-console engineer.
 *
 * Order of checks for every request, cheapest and least revealing first: route (404/405), body
 * size (413), token and session (401), role (403), query string and JSON body (400), then the
 * handler, which validates its own fields (400/422) before it changes anything.
 *
 * Ownership: the server owns its struct adm_req objects; each is freed by its single reply
 * (adm_reply_*). libevent owns the evhttp_request: a reply sent after the client went away is
 * fine (evhttp frees a detached request in evhttp_send_reply).
 */
#include <crypt.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adm_priv.h"
#include "gw_core.h"
#include "gw_redis.h"

extern const size_t adm_lua_adjust_len, adm_lua_block_len, adm_lua_cfg_put_len,
    adm_lua_login_rl_len, adm_lua_board_item_len, adm_lua_stock_move_len,
    adm_lua_login_acct_len, adm_lua_pass_len, adm_lua_hold_len;

/* Bodies larger than this are refused by libevent itself (its own 413, from the Content-Length,
 * before a byte of the body is buffered; a chunked body is cut there); between cfg.max_body and
 * this, the server answers a JSON 413. What one connection can make the process hold is bounded
 * by it (measured: tests/bench/console_flood.sh), and the connections by cfg.max_conns. */
#define ADM_HARD_BODY_FACTOR 2
#define ADM_MAX_HEADERS (16 * 1024)

/* Routes: public (roles 0) only for login. Reads are open to every role except subscriber data
 * (care and auditors: privacy) and the audit trail (auditors: separation of duties). */
static const struct adm_route routes[] = {
    {EVHTTP_REQ_POST, "/api/login", 0, adm_h_login, NULL},
    /* for Prometheus, load balancers and systemd (adm_metrics.c): loopback only, nginx does not
     * forward them (deploy/nginx/loyalty-admin.conf) */
    {EVHTTP_REQ_GET, "/metrics", 0, adm_h_metrics, NULL},
    {EVHTTP_REQ_GET, "/health", 0, adm_h_health, NULL},
    {EVHTTP_REQ_GET, "/ready", 0, adm_h_ready, NULL},
    {EVHTTP_REQ_POST, "/api/logout", ADM_ROLES_ALL | ADM_ROLE_ADMIN, adm_h_logout, NULL},
    {EVHTTP_REQ_GET, "/api/me", ADM_ROLES_ALL | ADM_ROLE_ADMIN, adm_h_me, NULL},
    /* Staff sessions (adm_sessions.c): the admin role only, which sees no subscriber data. */
    {EVHTTP_REQ_GET, "/api/users/*/sessions", ADM_ROLE_ADMIN, adm_h_sessions_list, NULL},
    {EVHTTP_REQ_POST, "/api/users/*/sessions/revoke", ADM_ROLE_ADMIN, adm_h_sessions_revoke_user,
     "sessions.revoke"},
    {EVHTTP_REQ_POST, "/api/sessions/*/revoke", ADM_ROLE_ADMIN, adm_h_session_revoke,
     "session.revoke"},
    {EVHTTP_REQ_GET, "/api/subscribers/*", ADM_ROLES_SUBSCRIBER_DATA, adm_h_sub_get, NULL},
    {EVHTTP_REQ_POST, "/api/subscribers/*/adjust", ADM_ROLE_CARE, adm_h_sub_adjust,
     "subscriber.adjust"},
    {EVHTTP_REQ_POST, "/api/subscribers/*/block", ADM_ROLE_CARE, adm_h_sub_block,
     "subscriber.block"},
    {EVHTTP_REQ_POST, "/api/subscribers/*/unblock", ADM_ROLE_CARE, adm_h_sub_unblock,
     "subscriber.unblock"},
    /* points held by the velocity caps (adm_hold.c): release or cancel */
    {EVHTTP_REQ_POST, "/api/subscribers/*/hold", ADM_ROLE_CARE, adm_h_sub_hold, "subscriber.hold"},
    /* make-good (adm_makegood.c): the gift day's failed sessions, one audited grant */
    {EVHTTP_REQ_GET, "/api/makegood/*", ADM_ROLE_MARKETING | ADM_ROLES_SUBSCRIBER_DATA,
     adm_h_makegood_get, NULL},
    {EVHTTP_REQ_POST, "/api/makegood/*/grant", ADM_ROLE_CARE, adm_h_makegood_grant,
     "makegood.grant"},
    /* The draw page (adm_draw.c, issue 12 s3): read only for every role, the winners' MSISDNs
     * masked for roles without subscriber data */
    {EVHTTP_REQ_GET, "/api/draws/*", ADM_ROLES_ALL, adm_h_draw_get, NULL},
    {EVHTTP_REQ_GET, "/api/deadletters", ADM_ROLES_ALL, adm_h_deadletters, NULL},
    {EVHTTP_REQ_GET, "/api/giftdays", ADM_ROLES_ALL, adm_h_giftdays_get, NULL},
    {EVHTTP_REQ_PUT, "/api/giftdays", ADM_ROLE_MARKETING, adm_h_giftdays_put, "giftdays.put"},
    {EVHTTP_REQ_GET, "/api/giftdays/preview", ADM_ROLES_ALL, adm_h_giftdays_preview, NULL},
    {EVHTTP_REQ_GET, "/api/menus", ADM_ROLES_ALL, adm_h_menus_get, NULL},
    {EVHTTP_REQ_PUT, "/api/menus", ADM_ROLE_MARKETING, adm_h_menus_put, "menus.put"},
    {EVHTTP_REQ_GET, "/api/loyalty", ADM_ROLES_ALL, adm_h_loyalty_get, NULL},
    {EVHTTP_REQ_PUT, "/api/loyalty", ADM_ROLE_MARKETING, adm_h_loyalty_put, "loyalty.put"},
    /* The campaign rules (issue 10 §1): the document is marketing's, its figures hold no
     * subscriber identity */
    {EVHTTP_REQ_GET, "/api/campaign-rules", ADM_ROLES_ALL, adm_h_rules_get, NULL},
    {EVHTTP_REQ_PUT, "/api/campaign-rules", ADM_ROLE_MARKETING, adm_h_rules_put,
     "campaigns.put"},
    {EVHTTP_REQ_GET, "/api/campaign-rules/figures", ADM_ROLES_ALL, adm_h_rules_figures, NULL},
    /* What-if before publishing (adm_whatif.c): the draft is marketing's; MSISDNs come masked */
    {EVHTTP_REQ_POST, "/api/whatif", ADM_ROLE_MARKETING, adm_h_whatif_start, NULL},
    {EVHTTP_REQ_GET, "/api/whatif/*", ADM_ROLE_MARKETING | ADM_ROLE_AUDITOR, adm_h_whatif_get, NULL},
    {EVHTTP_REQ_GET, "/api/catalog", ADM_ROLES_ALL, adm_h_catalog_get, NULL},
    {EVHTTP_REQ_PUT, "/api/catalog", ADM_ROLE_MARKETING, adm_h_catalog_put, "catalog.put"},
    {EVHTTP_REQ_PATCH, "/api/catalog/items/*", ADM_ROLE_MARKETING, adm_h_catalog_item_patch,
     "catalog.item.patch"},
    {EVHTTP_REQ_GET, "/api/audit", ADM_ROLE_AUDITOR, adm_h_audit, NULL},
    /* The console's live gift-day board and reports (adm_board.c, adm_reports.c): no subscriber
     * identity in either, so marketing reads them; the wallet scan is not for care. */
    {EVHTTP_REQ_GET, "/api/board", ADM_ROLES_ALL, adm_h_board, NULL},
    {EVHTTP_REQ_GET, "/api/reports/wallets", ADM_ROLE_MARKETING | ADM_ROLE_AUDITOR, adm_h_reports,
     NULL},
    /* the same reports from the ledger's per-slot aggregates (adm_reports_agg.c): carrier scale */
    {EVHTTP_REQ_GET, "/api/reports/aggregates", ADM_ROLE_MARKETING | ADM_ROLE_AUDITOR,
     adm_h_reports_agg, NULL},
    /* The reminder broadcast (adm_campaign.c): campaigns are marketing's; the figures hold no
     * subscriber identity. Opt-in is a subscriber's choice that care records. */
    {EVHTTP_REQ_POST, "/api/campaigns", ADM_ROLE_MARKETING, adm_h_campaign_create,
     "campaign.create"},
    {EVHTTP_REQ_GET, "/api/campaigns", ADM_ROLES_ALL, adm_h_campaign_list, NULL},
    {EVHTTP_REQ_GET, "/api/campaigns/*", ADM_ROLES_ALL, adm_h_campaign_get, NULL},
    {EVHTTP_REQ_POST, "/api/campaigns/*/cancel", ADM_ROLE_MARKETING, adm_h_campaign_cancel,
     "campaign.cancel"},
    {EVHTTP_REQ_POST, "/api/subscribers/*/optin", ADM_ROLE_CARE, adm_h_sub_optin,
     "subscriber.optin"},
    {EVHTTP_REQ_POST, "/api/subscribers/*/optout", ADM_ROLE_CARE, adm_h_sub_optout,
     "subscriber.optout"},
    {EVHTTP_REQ_GET, "/api/subscribers/*/optin", ADM_ROLE_CARE, adm_h_sub_optin_get, NULL},
    /* the points-expiry warnings' own switch (a service message: STOP leaves it on) */
    {EVHTTP_REQ_POST, "/api/subscribers/*/alerts/on", ADM_ROLE_CARE, adm_h_sub_alerts_on,
     "subscriber.alerts_on"},
    {EVHTTP_REQ_POST, "/api/subscribers/*/alerts/off", ADM_ROLE_CARE, adm_h_sub_alerts_off,
     "subscriber.alerts_off"},
    /* The suggestion box (adm_suggest.c): every reader sees the ideas, the MSISDN masked for
     * roles without subscriber data; marketing and care tag them and mark them handled */
    {EVHTTP_REQ_GET, "/api/suggestions", ADM_ROLES_ALL, adm_h_suggest_list, NULL},
    {EVHTTP_REQ_GET, "/api/suggestions/weeks", ADM_ROLES_ALL, adm_h_suggest_weeks, NULL},
    {EVHTTP_REQ_POST, "/api/suggestions/*/mark", ADM_ROLE_MARKETING | ADM_ROLE_CARE,
     adm_h_suggest_mark, "suggestion.mark"},
};

void adm_config_defaults(struct adm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8081;
    cfg->session_ttl_s = 3600;
    cfg->login_per_min = 10;
    cfg->account_fails = 5;
    cfg->account_window_s = 900;
    cfg->account_lock_s = 900;
    cfg->max_body = 64 * 1024;
    cfg->preauth_body = 4096;
    cfg->max_conns = 64;
    cfg->request_timeout_s = 10;
    cfg->history_len = 50;
    cfg->ref_retention_days = 31;
    cfg->page_max = 500;
    snprintf(cfg->tiers[0], sizeof(cfg->tiers[0]), "standard");
    cfg->n_tiers = 1;
    snprintf(cfg->whatif_ctl, sizeof(cfg->whatif_ctl), "loyaltyctl");
}

enum adm_role adm_role_parse(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "marketing") == 0)
        return ADM_ROLE_MARKETING;
    if (strcmp(name, "care") == 0)
        return ADM_ROLE_CARE;
    if (strcmp(name, "auditor") == 0)
        return ADM_ROLE_AUDITOR;
    if (strcmp(name, "admin") == 0)
        return ADM_ROLE_ADMIN;
    return 0;
}

const char *adm_role_name(enum adm_role role)
{
    switch (role) {
    case ADM_ROLE_MARKETING:
        return "marketing";
    case ADM_ROLE_CARE:
        return "care";
    case ADM_ROLE_AUDITOR:
        return "auditor";
    case ADM_ROLE_ADMIN:
        return "admin";
    }
    return "?";
}

int64_t adm_now_ms(void)
{
    return gw_clock_now_ms();
}

/* ---------------------------------------------------------------- replies */

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    }
    return "Status";
}

/* The console is served by this process later (issue 5 part 2): the API answers are data that no
 * browser should sniff, frame, cache or leak through a referrer. */
static void add_security_headers(struct evkeyvalq *h)
{
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Cache-Control", "no-store");
}

static void conn_arm(struct adm_conn *c);

static void req_free(struct adm_req *r)
{
    if (!r)
        return;
    if (r->conn) {
        /* Answered: the clock for the connection's next request starts now. */
        r->conn->req = NULL;
        conn_arm(r->conn);
    }
    evhttp_clear_headers(&r->query);
    json_decref(r->body);
    json_decref(r->j1);
    json_decref(r->j2);
    free(r->text);
    r->srv->in_flight--;
    free(r);
}

static void log_request(struct adm_req *r, int status)
{
    char masked[GW_MASK_LEN];
    const char *arg = r->arg;

    /* MSISDNs appear in paths: logs show their last four digits only (STYLE.md). */
    if (adm_msisdn_valid(r->arg))
        arg = gw_mask_msisdn(r->arg, masked);
    gw_log(status >= 500 ? GW_LOG_ERROR : GW_LOG_INFO, ADM_LOG, "%s %s %s%s%s -> %d", r->ip,
           r->user[0] ? r->user : "-", r->route ? r->route->pattern : "?", arg[0] ? " " : "", arg,
           status);
}

static void send_buffer(struct adm_req *r, int status, const char *ctype, struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->http);

    evhttp_add_header(h, "Content-Type", ctype);
    add_security_headers(h);
    if (status >= 100 && status < ADM_STATUS_MAX)
        r->srv->replies[status]++;
    if (r->route && adm_obs_path(r->route->pattern) && status < 500)
        GW_LOGD(ADM_LOG, "%s %s -> %d", r->ip, r->route->pattern, status); /* every scrape */
    else
        log_request(r, status);
    evhttp_send_reply(r->http, status, status_text(status), body);
    req_free(r);
}

void adm_reply_json(struct adm_req *r, int status, json_t *obj)
{
    struct evbuffer *buf;
    char *text;

    if (r->prom) { /* GET /metrics ran the board: the exposition instead of JSON */
        adm_metrics_reply(r, status, obj);
        return;
    }
    buf = evbuffer_new();
    if (!obj)
        obj = json_object();
    /* UTF-8 stays as it is (names are Arabic and Persian); the output is ASCII-safe JSON. */
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!buf || !text) {
        free(text);
        if (buf)
            evbuffer_free(buf);
        evhttp_send_error(r->http, 500, NULL);
        req_free(r);
        return;
    }
    evbuffer_add(buf, text, strlen(text));
    evbuffer_add(buf, "\n", 1);
    free(text);
    send_buffer(r, status, "application/json; charset=utf-8", buf);
    evbuffer_free(buf);
}

void adm_reply_error(struct adm_req *r, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *o;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    if (field)
        json_object_set_new(o, "field", json_string(field));
    if (status == 401)
        evhttp_add_header(evhttp_request_get_output_headers(r->http), "WWW-Authenticate", "Bearer");
    adm_reply_json(r, status, o);
}

void adm_reply_text(struct adm_req *r, int status, const char *ctype, struct evbuffer *body)
{
    send_buffer(r, status, ctype, body);
}

void adm_reply_csv(struct adm_req *r, struct evbuffer *csv, const char *filename)
{
    char disp[128];

    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename);
    evhttp_add_header(evhttp_request_get_output_headers(r->http), "Content-Disposition", disp);
    send_buffer(r, 200, "text/csv; charset=utf-8", csv);
    evbuffer_free(csv);
}

/* ---------------------------------------------------------------- Redis */

const char *adm_reply_err_text(const struct redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply";
}

void adm_reply_j1_audited(struct adm_req *r, const struct redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(ADM_LOG, "audit record not written: %.200s", adm_reply_err_text(reply));
        adm_reply_error(r, 503, NULL, "the change is applied but its audit record is not");
        return;
    }
    json_t *o = r->j1;
    r->j1 = NULL;
    adm_reply_json(r, 200, o);
}

static void on_redis_reply(void *arg, int err, const struct redisReply *reply)
{
    struct adm_req *r = arg;
    adm_step step = r->next;

    r->next = NULL;
    if (err < 0) {
        adm_reply_error(r, 503, NULL,
                        "the store did not answer (%s); retry: changes are "
                        "idempotent (request id, version)",
                        strerror(-err));
        return;
    }
    step(r, reply);
}

void adm_redis_len(struct adm_req *r, adm_step step, int argc, const char **argv,
                   const size_t *argvlen)
{
    size_t lens[32];
    int rc;

    if (argc > 32) {
        adm_reply_error(r, 500, NULL, "internal error");
        return;
    }
    for (int i = 0; i < argc; i++)
        lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    r->next = step;
    rc = gw_redis_command(r->srv->redis, argc, argv, lens, on_redis_reply, r);
    if (rc < 0) {
        r->next = NULL;
        adm_reply_error(r, 503, NULL, "the store is unavailable (%s)", strerror(-rc));
    }
}

void adm_redis(struct adm_req *r, adm_step step, int argc, const char **argv)
{
    adm_redis_len(r, step, argc, argv, NULL);
}

void adm_script(struct adm_req *r, adm_step step, enum adm_script s, int nkeys, int argc,
                const char **argv)
{
    size_t lens[32];
    int rc;

    if (argc > 32) {
        adm_reply_error(r, 500, NULL, "internal error");
        return;
    }
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    r->next = step;
    rc = gw_redis_script_run(r->srv->redis, r->srv->script[s], nkeys, argc, argv, lens,
                             on_redis_reply, r);
    if (rc < 0) {
        r->next = NULL;
        adm_reply_error(r, 503, NULL, "the store is unavailable (%s)", strerror(-rc));
    }
}

void adm_audit_append(struct adm_req *r, adm_step step, const char *what, const char *target,
                      const char *before, const char *after, const char *req_id)
{
    char at[24];

    snprintf(at, sizeof(at), "%" PRId64, adm_now_ms());
    const char *argv[] = {"XADD",
                          ADM_KEY_AUDIT,
                          "*",
                          "at",
                          at,
                          "who",
                          r->user,
                          "role",
                          adm_role_name(r->role),
                          "ip",
                          r->ip,
                          "what",
                          what,
                          "target",
                          target,
                          "before",
                          before,
                          "after",
                          after,
                          "req",
                          req_id ? req_id : ""};
    adm_redis(r, step, (int)(sizeof(argv) / sizeof(argv[0])), argv);
}

/* ---------------------------------------------------------------- helpers */

const char *adm_query(struct adm_req *r, const char *name)
{
    return evhttp_find_header(&r->query, name);
}

bool adm_stream_id_valid(const char *s)
{
    size_t i = 0, digits = 0;

    if (!s)
        return false;
    while (s[i] >= '0' && s[i] <= '9' && digits < 20) {
        i++;
        digits++;
    }
    if (digits == 0 || s[i] != '-')
        return false;
    i++;
    digits = 0;
    while (s[i] >= '0' && s[i] <= '9' && digits < 20) {
        i++;
        digits++;
    }
    return digits > 0 && s[i] == '\0';
}

int adm_page_args(struct adm_req *r, long *count, const char **before)
{
    const char *c = adm_query(r, "count"), *b = adm_query(r, "before");
    char *end;

    *count = 50;
    *before = NULL;
    if (c) {
        errno = 0;
        long v = strtol(c, &end, 10);
        if (errno || end == c || *end || v < 1 || v > (long)r->srv->cfg.page_max) {
            adm_reply_error(r, 400, "count", "count must be an integer from 1 to %u",
                            r->srv->cfg.page_max);
            return -EINVAL;
        }
        *count = v;
    }
    if (b) {
        if (!adm_stream_id_valid(b)) {
            adm_reply_error(r, 400, "before", "before must be an id from a previous page");
            return -EINVAL;
        }
        *before = b;
    }
    return 0;
}

bool adm_body_keys_ok(struct adm_req *r, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach (r->body, key, v) {
        bool known = strncmp(key, "//", 2) == 0;
        for (size_t i = 0; !known && allowed[i]; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            char field[64];
            gw_escape(key, strlen(key), field, sizeof(field));
            adm_reply_error(r, 400, field, "unknown key");
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- routing */

static bool seg_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Matches path against pattern; '*' takes one segment of [A-Za-z0-9._-] (no percent-escapes:
 * no identifier we serve needs one), copied into arg. */
static bool route_match(const char *pattern, const char *path, char *arg, size_t arglen)
{
    const char *p = pattern, *s = path;

    while (*p && *s) {
        if (*p == '*') {
            size_t n = 0;
            while (s[n] && s[n] != '/') {
                if (!seg_char_ok(s[n]))
                    return false;
                n++;
            }
            if (n == 0 || n >= arglen)
                return false;
            memcpy(arg, s, n);
            arg[n] = '\0';
            p++;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

const struct adm_route *adm_route_find(enum evhttp_cmd_type method, const char *path, char *arg,
                                       size_t arglen, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++) {
        char arg_buf[sizeof(((struct adm_req *)0)->arg)] = "";

        if (!route_match(routes[i].pattern, path, arg_buf, sizeof(arg_buf)))
            continue;
        *path_known = true;
        if (routes[i].method == method) {
            snprintf(arg, arglen, "%s", arg_buf);
            return &routes[i];
        }
    }
    return NULL;
}

static bool method_has_body(enum evhttp_cmd_type m)
{
    return m == EVHTTP_REQ_POST || m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH;
}

int adm_body_parse(const char *content_type, const char *data, size_t len, json_t **out,
                   const char **field, char *msg, size_t msglen)
{
    json_error_t jerr;

    *out = NULL;
    if (!content_type || strncasecmp(content_type, "application/json", 16) != 0) {
        *field = "Content-Type";
        snprintf(msg, msglen, "the body must be application/json");
        return 415;
    }
    *field = "body";
    /* Duplicate keys are refused: with two "points" keys, which one was meant is a guess. */
    *out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out) {
        snprintf(msg, msglen, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return 400;
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        snprintf(msg, msglen, "the body must be a JSON object");
        return 400;
    }
    *field = NULL;
    return 0;
}

/* Query string and JSON body, once the caller is known to be allowed. */
static void dispatch(struct adm_req *r)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->http);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evbuffer *in = evhttp_request_get_input_buffer(r->http);
    size_t len = evbuffer_get_length(in);

    if (q && evhttp_parse_query_str(q, &r->query) < 0) {
        adm_reply_error(r, 400, "query", "malformed query string");
        return;
    }
    const char *fmt = adm_query(r, "format");
    if (fmt) {
        if (strcmp(fmt, "csv") == 0) {
            r->csv = true;
        } else if (strcmp(fmt, "json") != 0) {
            adm_reply_error(r, 400, "format", "format must be json or csv");
            return;
        }
    }
    if (method_has_body(r->route->method) && len > 0) {
        const char *ct =
            evhttp_find_header(evhttp_request_get_input_headers(r->http), "Content-Type");
        const char *data = (const char *)evbuffer_pullup(in, -1);
        const char *field = NULL;
        char msg[256];
        int status;

        if (!data) {
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
        status = adm_body_parse(ct, data, len, &r->body, &field, msg, sizeof(msg));
        if (status != 0) {
            adm_reply_error(r, status, field, "%s", msg);
            return;
        }
    }
    r->route->fn(r);
}

/* HMGET adm:user:<name> role sgen disabled */
static void step_role(struct adm_req *r, const struct redisReply *reply)
{
    const struct redisReply *role, *sgen, *disabled;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        /* The account was removed (or never had a role) after the session began. */
        adm_reply_error(r, 401, "Authorization", "invalid or expired session");
        return;
    }
    role = reply->element[0];
    sgen = reply->element[1];
    disabled = reply->element[2];
    /* A password reset, a disable or "revoke all" bumped sgen: sessions made before are over. */
    if (disabled->type == REDIS_REPLY_STRING ||
        (sgen->type == REDIS_REPLY_STRING ? strtoll(sgen->str, NULL, 10) : 0) != r->n2) {
        adm_reply_error(r, 401, "Authorization", "invalid or expired session");
        return;
    }
    r->n2 = 0;
    r->role = adm_role_parse(role->str);
    if (!r->role) {
        adm_reply_error(r, 401, "Authorization", "the account has no valid role");
        return;
    }
    if (!(r->route->roles & (unsigned)r->role)) {
        adm_reply_error(r, 403, NULL, "the %s role may not do this", adm_role_name(r->role));
        return;
    }
    dispatch(r);
}

/* GET adm:sess:<sid>: "<sgen> <user>" */
static void step_session(struct adm_req *r, const struct redisReply *reply)
{
    char key[sizeof(ADM_KEY_USER) + ADM_USER_MAX];
    const char *sp;
    char *end;
    long long gen;

    if (reply->type != REDIS_REPLY_STRING || !(sp = strchr(reply->str, ' ')) ||
        !adm_user_name_valid(sp + 1)) {
        adm_reply_error(r, 401, "Authorization", "invalid or expired session");
        return;
    }
    errno = 0;
    gen = strtoll(reply->str, &end, 10);
    if (errno || end != sp || gen < 0) {
        adm_reply_error(r, 401, "Authorization", "invalid or expired session");
        return;
    }
    r->n2 = gen; /* checked against the account's sgen in step_role */
    snprintf(r->user, sizeof(r->user), "%s", sp + 1);
    snprintf(key, sizeof(key), ADM_KEY_USER "%s", r->user);
    /* The role, the session generation and the disabled flag are read on every request, so a
     * changed, reset, disabled or removed account takes effect at once. */
    const char *argv[] = {"HMGET", key, "role", "sgen", "disabled"};
    adm_redis(r, step_role, 5, argv);
}

static void authenticate(struct adm_req *r)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->http), "Authorization");
    char key[sizeof(ADM_KEY_SESS) + sizeof(r->token)];

    if (!h) {
        adm_reply_error(r, 401, "Authorization", "log in first: Authorization: Bearer <token>");
        return;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0 || !adm_token_valid(h + 7)) {
        adm_reply_error(r, 401, "Authorization", "malformed bearer token");
        return;
    }
    snprintf(r->token, sizeof(r->token), "%s", h + 7);
    if (adm_session_id(r->token, r->sid, sizeof(r->sid)) < 0) {
        adm_reply_error(r, 500, NULL, "internal error");
        return;
    }
    snprintf(key, sizeof(key), ADM_KEY_SESS "%s", r->sid);
    const char *argv[] = {"GET", key};
    adm_redis(r, step_session, 2, argv);
}

/* ---------------------------------------------------------------- connections */

static const char over_cap_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Retry-After: 1\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Length: 45\r\n\r\n"
    "{\"error\":\"too many connections; retry soon\"}\n";
static const char timeout_reply[] =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Connection: close\r\nCache-Control: no-store\r\nContent-Length: 47\r\n\r\n"
    "{\"error\":\"the request did not arrive in time\"}\n";

static bool conn_alive(const struct adm_conn *c)
{
    struct stat st;

    return c->fd >= 0 && fstat(c->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == c->ino;
}

/* bev_alive: evhttp still holds the connection's bufferevent (so its input still calls the
 * guard, which must stop now); false once evhttp has freed it, with its buffers. */
static void conn_free(struct adm_conn *c, bool bev_alive)
{
    if (bev_alive && c->in_cb)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    if (c->req)
        c->req->conn = NULL;
    TAILQ_REMOVE(&c->srv->conn_list, c, link);
    c->srv->conns--;
    event_free(c->deadline);
    free(c);
}

/* Counts the connections still open, forgetting those evhttp has closed since. */
static unsigned conns_reap(struct adm_server *s)
{
    struct adm_conn *c, *next;

    for (c = TAILQ_FIRST(&s->conn_list); c; c = next) {
        next = TAILQ_NEXT(c, link);
        if (c->fd >= 0 && !conn_alive(c))
            conn_free(c, false);
    }
    return s->conns;
}

/* Ends a connection evhttp owns without touching evhttp: a short answer straight on the socket
 * (best effort, never blocks), then shutdown(2). evhttp sees the end of the stream at its next
 * read and frees the connection itself. */
static void conn_close(struct adm_conn *c, const char *reply, size_t len)
{
    (void)!send(c->fd, reply, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(c->fd, SHUT_RDWR);
}

static void on_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct adm_conn *c = arg;
    struct stat st;

    (void)fd;
    (void)what;
    if (c->fd < 0) {
        /* First run, just after accept: evhttp has attached the socket by now. */
        c->fd = bufferevent_getfd(c->bev);
        if (c->fd < 0) {
            /* evhttp could not set the connection up (out of memory): no byte will come */
            conn_free(c, false);
            return;
        }
        if (fstat(c->fd, &st) < 0) {
            conn_free(c, true);
            return;
        }
        c->ino = st.st_ino;
        if (c->over_cap) {
            /* Over the cap: 503 before evhttp has buffered anything of it. */
            c->srv->conns_refused++;
            gw_log(GW_LOG_NOTICE, ADM_LOG, "connection refused: %u open (--max-conns)",
                   c->srv->cfg.max_conns);
            conn_close(c, over_cap_reply, sizeof(over_cap_reply) - 1);
            conn_free(c, true);
            return;
        }
        conn_arm(c);
        return;
    }
    if (!conn_alive(c)) {
        conn_free(c, false);
        return;
    }
    if (c->closing) {
        conn_arm(c); /* refused by the guard: forgotten once evhttp has closed it */
        return;
    }
    if (c->req)
        return; /* waiting for our own answer (Redis): not the client's delay */
    c->srv->conns_timed_out++;
    gw_log(GW_LOG_NOTICE, ADM_LOG, "connection closed: no whole request within %" PRIu32 " s",
           c->srv->cfg.request_timeout_s);
    conn_close(c, timeout_reply, sizeof(timeout_reply) - 1);
    conn_free(c, true);
}

static void conn_arm(struct adm_conn *c)
{
    struct timeval tv = {(time_t)c->srv->cfg.request_timeout_s, 0};

    event_add(c->deadline, &tv);
}

/* The pre-auth guard on the connection's input (adm_preauth_feed): runs as bytes arrive, before
 * evhttp's read callback parses them, so a request without a token that announces a body over
 * cfg.preauth_body is answered 413 and closed before any of its body is buffered. */
static void conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct adm_conn *c = arg;
    struct evbuffer_ptr pos;
    size_t total = evbuffer_get_length(buf), left;
    char chunk[4096];
    int rc = 0;

    if (info->n_added == 0 || c->closing || info->n_added > total)
        return;
    left = info->n_added;
    if (evbuffer_ptr_set(buf, &pos, total - left, EVBUFFER_PTR_SET) < 0)
        return;
    while (left > 0 && rc == 0) {
        ev_ssize_t n =
            evbuffer_copyout_from(buf, &pos, chunk, left < sizeof(chunk) ? left : sizeof(chunk));
        if (n <= 0)
            break;
        rc = adm_preauth_feed(&c->pa, chunk, (size_t)n, c->srv->cfg.preauth_body);
        left -= (size_t)n;
        evbuffer_ptr_set(buf, &pos, (size_t)n, EVBUFFER_PTR_ADD);
    }
    if (rc == 0)
        return;
    char reply[512], body[160];
    int blen = snprintf(body, sizeof(body),
                        "{\"error\":\"a request without a session may carry at most %" PRIu32
                        " bytes of body\",\"field\":\"body\"}\n",
                        c->srv->cfg.preauth_body);
    int rlen = snprintf(reply, sizeof(reply),
                        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json; "
                        "charset=utf-8\r\nConnection: close\r\nCache-Control: no-store\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        blen, body);
    c->srv->preauth_refused++;
    gw_log(GW_LOG_NOTICE, ADM_LOG, "request without a session refused: body over %" PRIu32 " bytes",
           c->srv->cfg.preauth_body);
    c->closing = true;
    evbuffer_remove_cb_entry(buf, c->in_cb); /* safe inside its own run: libevent kept the next */
    c->in_cb = NULL;
    evbuffer_drain(buf, total); /* evhttp never sees this request */
    if (c->fd < 0)
        c->fd = bufferevent_getfd(c->bev);
    if (c->fd >= 0 && rlen > 0 && (size_t)rlen < sizeof(reply))
        conn_close(c, reply, (size_t)rlen);
}

/* evhttp's bevcb: called once per accepted connection, before its socket is attached and before
 * a byte is read. The bufferevent is an ordinary socket one; the connection is counted and looked
 * at again once the socket is attached (the deadline event, made active now, runs in this same
 * turn of the loop, before any read). NULL (out of memory) lets evhttp make its own. */
static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
    struct adm_server *s = arg;
    struct adm_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->srv = s;
    c->fd = -1;
    c->deadline = evtimer_new(base, on_conn_deadline, c);
    c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->deadline || !c->bev) {
        if (c->bev)
            bufferevent_free(c->bev);
        if (c->deadline)
            event_free(c->deadline);
        free(c);
        return NULL;
    }
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev), conn_input_cb, c);
    if (!c->in_cb) {
        bufferevent_free(c->bev);
        event_free(c->deadline);
        free(c);
        return NULL;
    }
    c->over_cap = conns_reap(s) >= s->cfg.max_conns;
    TAILQ_INSERT_TAIL(&s->conn_list, c, link);
    s->conns++;
    event_active(c->deadline, EV_TIMEOUT, 0);
    return c->bev;
}

static struct adm_conn *conn_of(struct adm_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    struct adm_conn *c;

    TAILQ_FOREACH(c, &s->conn_list, link)
    {
        if (c->fd == fd && fd >= 0 && conn_alive(c))
            return c;
    }
    return NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct adm_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    struct adm_req *r;
    bool path_known = false;
    char *peer = NULL;
    ev_uint16_t peer_port = 0;

    /* The console's pages, scripts and dictionaries: no session, no Redis (adm_static.c). */
    if (!adm_obs_path(path) && adm_static_wants(s, method, path)) {
        struct adm_conn *c = conn_of(s, req);
        if (c)
            conn_arm(c); /* answered at once: the next request's clock starts */
        adm_static_serve(s, req, path);
        return;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        evhttp_send_error(req, 503, NULL);
        return;
    }
    r->srv = s;
    r->http = req;
    TAILQ_INIT(&r->query);
    s->in_flight++;
    r->conn = conn_of(s, req);
    if (r->conn) {
        r->conn->req = r;
        event_del(r->conn->deadline); /* the request is whole: our turn now */
    }
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &peer_port);
    snprintf(r->ip, sizeof(r->ip), "%s", peer ? peer : "?");

    r->route = adm_route_find(method, path, r->arg, sizeof(r->arg), &path_known);
    if (!r->route) {
        if (path_known)
            adm_reply_error(r, 405, NULL, "method not allowed here");
        else
            adm_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > s->cfg.max_body) {
        adm_reply_error(r, 413, "body", "the body is larger than %u bytes", s->cfg.max_body);
        return;
    }
    if (r->route->roles == 0)
        dispatch(r);
    else
        authenticate(r);
}

/* ---------------------------------------------------------------- life cycle */

struct adm_server *adm_server_new(struct event_base *base, struct gw_redis *redis,
                                  const struct adm_config *cfg, char *err, size_t errlen)
{
    struct adm_server *s = calloc(1, sizeof(*s));
    static const struct {
        const char *body;
        const size_t *len;
    } scripts[ADM_S__COUNT] = {
        [ADM_S_ADJUST] = {adm_lua_adjust, &adm_lua_adjust_len},
        [ADM_S_BLOCK] = {adm_lua_block, &adm_lua_block_len},
        [ADM_S_CFG_PUT] = {adm_lua_cfg_put, &adm_lua_cfg_put_len},
        [ADM_S_LOGIN_RL] = {adm_lua_login_rl, &adm_lua_login_rl_len},
        [ADM_S_BOARD_ITEM] = {adm_lua_board_item, &adm_lua_board_item_len},
        [ADM_S_STOCK_MOVE] = {adm_lua_stock_move, &adm_lua_stock_move_len},
        [ADM_S_LOGIN_ACCT] = {adm_lua_login_acct, &adm_lua_login_acct_len},
        [ADM_S_PASS] = {adm_lua_pass, &adm_lua_pass_len},
        [ADM_S_HOLD] = {adm_lua_hold, &adm_lua_hold_len},
    };
    char dummy_pw[2 * ADM_TOKEN_BYTES + 1];

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->redis = redis;
    s->cfg = *cfg;
    s->static_fd = -1;
    TAILQ_INIT(&s->conn_list);
    if (cfg->static_dir[0] && adm_static_open_dir(s, cfg->static_dir) < 0) {
        snprintf(err, errlen, "--static %s: %s", cfg->static_dir, strerror(errno));
        goto fail;
    }
    snprintf(err, errlen, "cannot start the password worker thread");
    if (adm_crypt_new(base, &s->crypt) < 0)
        goto fail;
    for (int i = 0; i < ADM_S__COUNT; i++) {
        s->script[i] = gw_redis_script_add(redis, scripts[i].body, *scripts[i].len);
        if (s->script[i] < 0)
            goto fail;
    }
    /* Unknown users are checked against this hash of a random password: the answer takes as
     * long as for a real user, so timing does not reveal which names exist. */
    if (adm_token_new(dummy_pw, sizeof(dummy_pw)) < 0 ||
        adm_password_hash(dummy_pw, s->dummy_hash, sizeof(s->dummy_hash)) < 0) {
        snprintf(err, errlen, "cannot create a yescrypt hash (libcrypt without yescrypt?)");
        goto fail;
    }
    snprintf(err, errlen, "out of memory");
    s->http = evhttp_new(base);
    if (!s->http)
        goto fail;
    evhttp_set_max_body_size(s->http, (ev_ssize_t)cfg->max_body * ADM_HARD_BODY_FACTOR);
    evhttp_set_max_headers_size(s->http, ADM_MAX_HEADERS);
    /* Idle reads or writes longer than this drop the connection; a client that trickles a byte
     * at a time is cut by the connection's own deadline (request_timeout_s, on_conn_deadline). */
    evhttp_set_timeout(s->http, 30);
    evhttp_set_bevcb(s->http, on_new_conn, s);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(s->http, on_request, s);
    s->sock = evhttp_bind_socket_with_handle(s->http, cfg->listen_host, cfg->listen_port);
    if (!s->sock) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", cfg->listen_host, cfg->listen_port,
                 strerror(errno));
        goto fail;
    }
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        evutil_socket_t fd = evhttp_bound_socket_get_fd(s->sock);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            else if (ss.ss_family == AF_INET6)
                s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    return s;
fail:
    adm_server_free(s);
    return NULL;
}

uint16_t adm_server_port(const struct adm_server *s)
{
    return s->port;
}

void adm_server_stop_listening(struct adm_server *s)
{
    if (s && s->sock) {
        evhttp_del_accept_socket(s->http, s->sock);
        s->sock = NULL;
    }
}

unsigned adm_server_in_flight(const struct adm_server *s)
{
    return s->in_flight;
}

void adm_server_set_gateway_config(struct adm_server *s, const struct gw_config *gcfg)
{
    if (s)
        s->gw = gcfg;
}

void adm_server_free(struct adm_server *s)
{
    if (!s)
        return;
    adm_crypt_free(s->crypt); /* logins still being checked are answered 503 before evhttp goes */
    s->crypt = NULL;
    if (s->http)
        evhttp_free(s->http);
    while (!TAILQ_EMPTY(&s->conn_list))
        conn_free(TAILQ_FIRST(&s->conn_list), false); /* evhttp_free freed their bufferevents */
    if (s->static_fd >= 0)
        close(s->static_fd);
    adm_seed_free(s);
    adm_whatif_free(s);
    free(s);
}
