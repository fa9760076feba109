/*
 * cat_prov.c - the default provisioning adapter: shared/spec/provisioning.md over gw_http (owned by
 * the fulfilment engineer). One POST per grant:
 *
 *     POST {base_url}/v1/grants
 *     Authorization: Bearer {token}
 *     Idempotency-Key: {redemption_id}
 *     Content-Type: application/json
 *     {"redemption_id": ..., "msisdn": ..., "beneficiary": ..., "item": ..., "kind": ...,
 *      "quantity": ..., "unit": ...}
 *
 * and the spec's outcome table in cat_prov_http_classify(). Ownership: struct cat_prov_http holds
 * the URL and the header texts; each call allocates a small context (callback + arg) freed in the
 * gw_http callback, so a call in flight never points at the adapter.
 */
#include "cat_fulfil.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_core.h"
#include "gw_http.h"

#define LOG_CAT "prov"
#define GRANTS_PATH "/v1/grants"

struct cat_prov_http {
    struct gw_http *http;
    struct cat_prov_http_config cfg;
    char url[sizeof(((struct cat_prov_http_config *)0)->base_url) + sizeof(GRANTS_PATH)];
    char auth[sizeof(((struct cat_prov_http_config *)0)->token) + 8];
};

struct prov_call {
    cat_prov_cb cb;
    void *arg;
};

const char *cat_prov_outcome_name(enum cat_prov_outcome o)
{
    switch (o) {
    case CAT_PROV_GRANTED:
        return "granted";
    case CAT_PROV_ALREADY:
        return "already";
    case CAT_PROV_PERMANENT:
        return "permanent";
    case CAT_PROV_TEMPORARY:
        return "temporary";
    }
    return "?";
}

void cat_prov_http_config_defaults(struct cat_prov_http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timeout_ms = 5000;
    cfg->connect_timeout_ms = 2000;
}

/* ---------------------------------------------------------------- validation */

static bool digits_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;

    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* rids, item ids, kinds, units, references: they go into a header, a JSON body and logs */
static bool word_ok(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == ':' || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool grant_ok(const struct cat_prov_grant *g)
{
    return g && word_ok(g->redemption_id, CAT_RID_MAX - 1) && digits_ok(g->msisdn, 5, 20) &&
           (!g->beneficiary || !g->beneficiary[0] || digits_ok(g->beneficiary, 5, 20)) &&
           word_ok(g->item, CAT_ID_MAX - 1) && word_ok(g->kind, 15) && word_ok(g->unit, 7) &&
           g->quantity > 0 && g->quantity <= CAT_POINTS_MAX;
}

/* Copies untrusted text for a reason or a log: printable ASCII only ('|' too is replaced, it
 * separates fields in the store's records), bounded. */
static void clean_copy(char *dst, size_t cap, const char *src, size_t len)
{
    size_t o = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c >= 0x20 && c < 0x7f && c != '|') ? (char)c : '?';
    }
    dst[o] = '\0';
}

/* ---------------------------------------------------------------- the contract */

int cat_prov_http_body(const struct cat_prov_grant *g, char **json_out)
{
    json_t *o;
    char *s;

    *json_out = NULL;
    if (!grant_ok(g))
        return -EINVAL;
    /* The spec's example names the beneficiary even for a gift to oneself: it is who receives. */
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "redemption_id", g->redemption_id,
                  "msisdn", g->msisdn, "beneficiary",
                  g->beneficiary && g->beneficiary[0] ? g->beneficiary : g->msisdn, "item", g->item,
                  "kind", g->kind, "quantity", (json_int_t)g->quantity, "unit", g->unit);
    if (!o)
        return -ENOMEM;
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return -ENOMEM;
    *json_out = s;
    return 0;
}

/* Reads "reference" (and checks "status") from a 200/201/409 body. A body we cannot read does
 * not turn a grant into a failure: the HTTP status is the provider's statement. */
static void read_reference(const char *body, size_t len, struct cat_prov_result *out)
{
    json_t *root, *ref, *st;

    if (!body || len == 0)
        return;
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    ref = json_object_get(root, "reference");
    if (json_is_string(ref) && word_ok(json_string_value(ref), CAT_REF_MAX - 1))
        snprintf(out->reference, sizeof(out->reference), "%s", json_string_value(ref));
    st = json_object_get(root, "status");
    if (json_is_string(st) && strcmp(json_string_value(st), "granted") != 0) {
        /* the provider's word goes to logs and the refund record: printable, no '|' (fuzzing
         * found control characters and DEL copied through) */
        char word[41];

        clean_copy(word, sizeof(word), json_string_value(st), json_string_length(st));
        snprintf(out->reason, sizeof(out->reason), "status \"%s\" with http %ld", word,
                 out->http_status);
    }
    json_decref(root);
}

/* "http 422: <message>" from a refusal body: its "message" or "error" member when it is JSON,
 * else the start of the text. */
static void refusal_reason(long status, const char *body, size_t len, struct cat_prov_result *out)
{
    char excerpt[96] = "";
    json_t *root = NULL, *m = NULL;

    if (body && len) {
        root = json_loadb(body, len, 0, NULL);
        if (json_is_object(root)) {
            m = json_object_get(root, "message");
            if (!json_is_string(m))
                m = json_object_get(root, "error");
        }
        if (json_is_string(m))
            clean_copy(excerpt, sizeof(excerpt), json_string_value(m), json_string_length(m));
        else
            clean_copy(excerpt, sizeof(excerpt), body, len);
        json_decref(root);
    }
    snprintf(out->reason, sizeof(out->reason), "http %ld%s%s", status, excerpt[0] ? ": " : "",
             excerpt);
}

static const char *transport_reason(int err)
{
    switch (err) {
    case -ETIMEDOUT:
        return "timeout";
    case -ECONNREFUSED:
        return "connection refused";
    case -EHOSTUNREACH:
        return "host unreachable";
    case -ECONNRESET:
        return "connection closed without an answer";
    case -EMSGSIZE:
        return "answer too large";
    case -ECANCELED:
        return "cancelled (shutting down)";
    default:
        return "transport error";
    }
}

void cat_prov_http_classify(int err, long status, const char *body, size_t body_len,
                            struct cat_prov_result *out)
{
    memset(out, 0, sizeof(*out));
    out->err = err;
    if (err < 0) {
        /* provisioning.md: timeout, connection refused -> temporary; so is every other way of
         * not getting an answer (the grant may or may not have happened: the retry carries the
         * same Idempotency-Key) */
        out->outcome = CAT_PROV_TEMPORARY;
        snprintf(out->reason, sizeof(out->reason), "%s", transport_reason(err));
        return;
    }
    out->http_status = status;
    if (status == 200 || status == 201) {
        out->outcome = CAT_PROV_GRANTED;
        read_reference(body, body_len, out);
    } else if (status == 409) {
        out->outcome = CAT_PROV_ALREADY;
        read_reference(body, body_len, out);
    } else if (status == 400 || status == 404 || status == 422) {
        out->outcome = CAT_PROV_PERMANENT;
        refusal_reason(status, body, body_len, out);
    } else {
        /* 5xx per the spec; and every status it does not list (401/403 a wrong token, 429, a
         * proxy's 3xx): refunding everybody for our own misconfiguration would be worse than
         * retrying until the deadline with the same Idempotency-Key */
        out->outcome = CAT_PROV_TEMPORARY;
        if (status >= 500 && status <= 599)
            snprintf(out->reason, sizeof(out->reason), "http %ld", status);
        else
            refusal_reason(status, body, body_len, out);
    }
}

/* ---------------------------------------------------------------- the adapter */

static void on_answer(void *arg, int err, const struct gw_http_response *resp)
{
    struct prov_call *c = arg;
    struct cat_prov_result res;

    cat_prov_http_classify(err, resp ? resp->status : 0, resp ? resp->body : NULL,
                           resp ? resp->body_len : 0, &res);
    if (res.outcome != CAT_PROV_GRANTED && res.outcome != CAT_PROV_ALREADY)
        GW_LOGD(LOG_CAT, "grant answer: %s (%s)", cat_prov_outcome_name(res.outcome), res.reason);
    c->cb(c->arg, &res);
    free(c);
}

static int http_grant(void *impl, const struct cat_prov_grant *g, cat_prov_cb cb, void *arg)
{
    struct cat_prov_http *p = impl;
    struct gw_http_header hdrs[5];
    struct gw_http_request req;
    struct prov_call *c = NULL;
    char *body = NULL;
    size_t n = 0;
    int rc;

    if (!p || !cb)
        return -EINVAL;
    rc = cat_prov_http_body(g, &body);
    if (rc < 0)
        return rc;
    c = malloc(sizeof(*c));
    if (!c) {
        rc = -ENOMEM;
        goto out;
    }
    c->cb = cb;
    c->arg = arg;
    if (p->auth[0])
        hdrs[n++] = (struct gw_http_header){"Authorization", p->auth};
    hdrs[n++] = (struct gw_http_header){"Idempotency-Key", g->redemption_id};
    hdrs[n++] = (struct gw_http_header){"Content-Type", "application/json"};
    hdrs[n++] = (struct gw_http_header){"Accept", "application/json"};
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = p->url;
    req.headers = hdrs;
    req.n_headers = n;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = p->cfg.timeout_ms;
    req.connect_timeout_ms = p->cfg.connect_timeout_ms;
    rc = gw_http_request(p->http, &req, on_answer, c);
    if (rc == 0)
        c = NULL; /* owned by the call now */
out:
    free(c);
    free(body);
    return rc;
}

/* ---------------------------------------------------------------- transport and token checks */

static bool host_is_loopback(const char *host, size_t n)
{
    if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
        return true;
    if (n == 5 && strncmp(host, "[::1]", 5) == 0)
        return true;
    /* 127.0.0.0/8, dotted digits only (a name like 127.evil.example is not an address) */
    if (n < 9 || strncmp(host, "127.", 4) != 0)
        return false;
    for (size_t i = 4; i < n; i++) {
        if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
            return false;
    }
    return true;
}

int cat_prov_url_check(const char *base_url, bool insecure_test_mode, char *why, size_t whylen)
{
    const char *host;
    size_t n;

    if (!base_url || !base_url[0]) {
        snprintf(why, whylen, "required (https://host[:port][/prefix])");
        return -EINVAL;
    }
    if (strncmp(base_url, "https://", 8) == 0)
        return 0;
    if (strncmp(base_url, "http://", 7) != 0) {
        snprintf(why, whylen, "an https:// URL");
        return -EINVAL;
    }
    host = base_url + 7;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        n = end ? (size_t)(end - host) + 1 : strlen(host);
    } else {
        n = strcspn(host, ":/");
    }
    if (!insecure_test_mode || !host_is_loopback(host, n)) {
        snprintf(why, whylen,
                 "https:// required: over http:// the bearer token crosses the network in clear "
                 "(http:// is accepted only to a loopback host with "
                 "provisioning.insecure_test_mode: true, for tests)");
        return -EINVAL;
    }
    return 0;
}

int cat_prov_token_check(const char *token, bool insecure_test_mode, char *why, size_t whylen)
{
    /* what example configs ship: never a carrier's real token */
    static const char *const placeholders[] = {"change-me", "changeme", "change_me",
                                               "CHANGE-ME", "CHANGEME", "token",
                                               "secret",    "xxx",      "placeholder"};
    const char *t = token ? token : "";

    if (insecure_test_mode)
        return 0;
    if (!t[0]) {
        snprintf(why, whylen, "required: the bearer token the carrier gave us");
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++) {
        if (strcasecmp(t, placeholders[i]) == 0) {
            snprintf(why, whylen,
                     "\"%s\" is the shipped placeholder: set the token the carrier gave us", t);
            return -EINVAL;
        }
    }
    return 0;
}

const struct cat_prov_ops cat_prov_http_ops = {
    .name = "http-v1",
    .grant = http_grant,
};

struct cat_prov_http *cat_prov_http_new(struct gw_http *http,
                                        const struct cat_prov_http_config *cfg)
{
    struct cat_prov_http *p;
    size_t blen;

    if (!http || !cfg)
        return NULL;
    blen = strnlen(cfg->base_url, sizeof(cfg->base_url));
    if (blen == 0 || blen == sizeof(cfg->base_url) ||
        strnlen(cfg->token, sizeof(cfg->token)) == sizeof(cfg->token))
        return NULL;
    char why[256];
    if (cat_prov_url_check(cfg->base_url, cfg->insecure_test_mode, why, sizeof(why)) < 0 ||
        cat_prov_token_check(cfg->token, cfg->insecure_test_mode, why, sizeof(why)) < 0) {
        GW_LOGE(LOG_CAT, "provisioning refused: %s", why);
        return NULL;
    }
    if (cfg->insecure_test_mode)
        GW_LOGE(LOG_CAT,
                "WARNING: provisioning.insecure_test_mode is ON: http:// to loopback and "
                "placeholder tokens are accepted. Tests and demos only, never production.");
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->http = http;
    p->cfg = *cfg;
    if (p->cfg.timeout_ms == 0)
        p->cfg.timeout_ms = 5000;
    /* "http://host/" and "http://host" both give "http://host/v1/grants" */
    while (blen > 0 && p->cfg.base_url[blen - 1] == '/')
        blen--;
    snprintf(p->url, sizeof(p->url), "%.*s%s", (int)blen, p->cfg.base_url, GRANTS_PATH);
    if (p->cfg.token[0])
        snprintf(p->auth, sizeof(p->auth), "Bearer %s", p->cfg.token);
    return p;
}

void cat_prov_http_free(struct cat_prov_http *p)
{
    free(p);
}
