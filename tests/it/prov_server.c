/*
 * prov_server.c - the carrier's provisioning API, played by us for the fulfilment tests (libevent
 * evhttp). Implements POST /v1/grants of shared/spec/provisioning.md: a bearer token check, the
 * body checked field by field, idempotency by the Idempotency-Key (a key granted once answers 409
 * ever after), and failure injection. Owned by the fulfilment engineer.
 *
 *   prov_server --listen 127.0.0.1:0 --port-file F --record FILE [--token T] [--rule RULE]...
 *
 * --record FILE  one JSON line per request: {"n", "key", "msisdn", "item", "action", "status",
 *                "granted"} where granted is true when this request made the grant. The file is
 *                read back at start, so a restarted server (the "refused" case) keeps the grants
 *                it made: the test counts grants per key from it.
 * --rule MATCH:ACTION[:TIMES]  (first rule that matches and has uses left wins; default: grant)
 *     MATCH   n=<request number> | key=<rid> | msisdn=<digits> | item=<id> | *
 *     ACTION  grant | 400 | 404 | 422 | 500 | 503 | 409 | timeout | slow=<ms>
 *             409:     grants (if not yet) and answers 409, as a provider does for a key granted
 *                      by an attempt whose answer was lost
 *             timeout: grants (if not yet) and never answers: the worst case for the client
 *             slow=MS: handles the grant now and answers after MS milliseconds
 *     TIMES   how many requests of each key the rule applies to (default: all)
 * Test endpoints for the HTTP client's tests: /test/echo (answers the body, X-Echo-Method and
 * every X-Test-* header back), /test/big?bytes=N, /test/slow?ms=N, /test/status?code=N,
 * /test/hang (never answers).
 *
 * SIGTERM/SIGINT: exit 0. Pending deferred answers are tied to their connection: if the client
 * goes away first (its own timeout), the answer is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#define MAX_RULES 64
#define MAX_BODY 65536

enum action { A_GRANT = 0, A_STATUS, A_409, A_TIMEOUT, A_SLOW };

struct rule {
    char field[16]; /* n, key, msisdn, item, * */
    char value[128];
    enum action action;
    int status;   /* A_STATUS */
    int delay_ms; /* A_SLOW */
    long times;   /* per key; 0 = unlimited */
    char text[64];
};

struct deferred {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct event *timer;
    int status;
    char *body;
    bool hang;
};

static struct {
    struct event_base *base;
    struct evhttp *http;
    char token[256];
    FILE *record;
    struct rule rules[MAX_RULES];
    int n_rules;
    json_t *granted;  /* key -> reference */
    json_t *uses;     /* "rule#key" -> count */
    long n;           /* requests this run */
    long grants_made; /* this run */
} S;

/* ---------------------------------------------------------------- deferred answers */

static void deferred_free(struct deferred *d)
{
    if (d->evcon)
        evhttp_connection_set_closecb(d->evcon, NULL, NULL);
    if (d->timer)
        event_free(d->timer);
    free(d->body);
    free(d);
}

static void on_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct deferred *d = arg;

    (void)evcon;
    d->evcon = NULL; /* the connection (and the request) are being freed by libevent */
    deferred_free(d);
}

static void send_json(struct evhttp_request *req, int status, const char *body)
{
    struct evbuffer *b = evbuffer_new();

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    if (body)
        evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, status, status < 300 ? "OK" : "Injected", b);
    evbuffer_free(b);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    struct deferred *d = arg;

    (void)fd;
    (void)what;
    send_json(d->req, d->status, d->body);
    deferred_free(d);
}

static void defer_answer(struct evhttp_request *req, int status, const char *body, int delay_ms,
                         bool hang)
{
    struct deferred *d = calloc(1, sizeof(*d));
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};

    if (!d) {
        send_json(req, 500, NULL);
        return;
    }
    d->req = req;
    d->evcon = evhttp_request_get_connection(req);
    d->status = status;
    d->body = body ? strdup(body) : NULL;
    d->hang = hang;
    evhttp_connection_set_closecb(d->evcon, on_conn_closed, d);
    if (!hang) {
        d->timer = evtimer_new(S.base, on_deferred, d);
        evtimer_add(d->timer, &tv);
    }
}

/* ---------------------------------------------------------------- rules */

static int parse_rule(const char *spec, struct rule *r)
{
    char buf[256], *match, *action, *times, *eq;

    memset(r, 0, sizeof(*r));
    if (strlen(spec) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", spec);
    snprintf(r->text, sizeof(r->text), "%s", spec);
    match = buf;
    action = strchr(match, ':');
    if (!action)
        return -1;
    *action++ = '\0';
    times = strchr(action, ':');
    if (times) {
        *times++ = '\0';
        r->times = strtol(times, NULL, 10);
    }
    if (strcmp(match, "*") == 0) {
        snprintf(r->field, sizeof(r->field), "*");
    } else {
        eq = strchr(match, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        if (strcmp(match, "n") && strcmp(match, "key") && strcmp(match, "msisdn") &&
            strcmp(match, "item"))
            return -1;
        snprintf(r->field, sizeof(r->field), "%.15s", match);
        snprintf(r->value, sizeof(r->value), "%.127s", eq + 1);
    }
    if (strcmp(action, "grant") == 0)
        r->action = A_GRANT;
    else if (strcmp(action, "409") == 0)
        r->action = A_409;
    else if (strcmp(action, "timeout") == 0)
        r->action = A_TIMEOUT;
    else if (strncmp(action, "slow=", 5) == 0) {
        r->action = A_SLOW;
        r->delay_ms = atoi(action + 5);
    } else {
        r->action = A_STATUS;
        r->status = atoi(action);
        if (r->status < 200 || r->status > 599)
            return -1;
    }
    return 0;
}

static const struct rule *match_rule(const char *key, const char *msisdn, const char *item)
{
    char nbuf[24];

    snprintf(nbuf, sizeof(nbuf), "%ld", S.n);
    for (int i = 0; i < S.n_rules; i++) {
        struct rule *r = &S.rules[i];
        const char *have = strcmp(r->field, "n") == 0        ? nbuf
                           : strcmp(r->field, "key") == 0    ? key
                           : strcmp(r->field, "msisdn") == 0 ? msisdn
                           : strcmp(r->field, "item") == 0   ? item
                                                             : NULL;
        char ukey[300];
        json_int_t used;

        if (strcmp(r->field, "*") != 0 && (!have || strcmp(have, r->value) != 0))
            continue;
        snprintf(ukey, sizeof(ukey), "%d#%s", i, key);
        used = json_integer_value(json_object_get(S.uses, ukey));
        if (r->times > 0 && used >= r->times)
            continue;
        json_object_set_new(S.uses, ukey, json_integer(used + 1));
        return r;
    }
    return NULL;
}

/* ---------------------------------------------------------------- records */

static void record(const char *key, const char *msisdn, const char *item, const char *action,
                   int status, bool granted)
{
    json_t *o;
    char *s;

    if (!S.record)
        return;
    o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:b}", "n", (json_int_t)S.n, "key",
                  key ? key : "", "msisdn", msisdn ? msisdn : "", "item", item ? item : "",
                  "action", action, "status", status, "granted", granted);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s) {
        fprintf(S.record, "%s\n", s);
        fflush(S.record);
    }
    free(s);
    json_decref(o);
}

static int load_records(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];

    if (!f)
        return errno == ENOENT ? 0 : -1;
    while (fgets(line, sizeof(line), f)) {
        json_t *o = json_loads(line, 0, NULL);
        const char *key = json_string_value(json_object_get(o, "key"));

        if (key && json_is_true(json_object_get(o, "granted")))
            json_object_set_new(S.granted, key, json_string("restored"));
        json_decref(o);
    }
    fclose(f);
    return 0;
}

/* ---------------------------------------------------------------- /v1/grants */

static const char *body_text(struct evhttp_request *req, char *buf, size_t cap)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);

    if (len >= cap)
        return NULL;
    evbuffer_copyout(in, buf, len);
    buf[len] = '\0';
    return buf;
}

static void on_grants(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *auth = evhttp_find_header(h, "Authorization");
    const char *idem = evhttp_find_header(h, "Idempotency-Key");
    const char *ctype = evhttp_find_header(h, "Content-Type");
    static char body[MAX_BODY];
    const char *key = NULL, *msisdn = NULL, *item = NULL, *kind = NULL, *unit = NULL,
               *benef = NULL, *rid = NULL;
    json_int_t qty = 0;
    json_t *o = NULL;
    const struct rule *r;
    char expect[300], ans[256], ref[32];
    bool already, granted = false;
    int status;

    S.n++;
    snprintf(expect, sizeof(expect), "Bearer %s", S.token);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        record(idem, NULL, NULL, "bad-method", 405, false);
        send_json(req, 405, "{\"message\":\"POST only\"}");
        return;
    }
    if (S.token[0] && (!auth || strcmp(auth, expect) != 0)) {
        record(idem, NULL, NULL, "unauthorized", 401, false);
        send_json(req, 401, "{\"message\":\"bad token\"}");
        return;
    }
    if (!body_text(req, body, sizeof(body)) || !ctype ||
        strncasecmp(ctype, "application/json", 16) != 0 ||
        !(o = json_loads(body, JSON_REJECT_DUPLICATES, NULL)) ||
        json_unpack(o, "{s:s, s:s, s:s, s:s, s:s, s:I, s:s !}", "redemption_id", &rid, "msisdn",
                    &msisdn, "beneficiary", &benef, "item", &item, "kind", &kind, "quantity",
                    &qty, "unit", &unit) != 0 ||
        !idem || strcmp(idem, rid) != 0 || qty <= 0) {
        record(idem, NULL, NULL, "bad-request", 400, false);
        send_json(req, 400, "{\"message\":\"malformed grant request\"}");
        json_decref(o);
        return;
    }
    key = rid;
    already = json_object_get(S.granted, key) != NULL;
    r = match_rule(key, msisdn, item);
    if (r && r->action == A_STATUS) {
        status = r->status;
        snprintf(ans, sizeof(ans), "{\"message\":\"injected %d\"}", status);
        record(key, msisdn, item, r->text, status, false);
        send_json(req, status, ans);
        json_decref(o);
        return;
    }
    /* grant, 409, timeout, slow: the provider does the grant (once per key) */
    if (!already) {
        snprintf(ref, sizeof(ref), "G%ld-%ld", (long)S.grants_made + 1, S.n);
        json_object_set_new(S.granted, key, json_string(ref));
        S.grants_made++;
        granted = true;
    }
    snprintf(ref, sizeof(ref), "%s", json_string_value(json_object_get(S.granted, key)));
    if (already || (r && r->action == A_409)) {
        status = 409;
        snprintf(ans, sizeof(ans), "{\"status\":\"already_granted\",\"reference\":\"%s\"}", ref);
    } else {
        status = 201;
        snprintf(ans, sizeof(ans), "{\"status\":\"granted\",\"reference\":\"%s\"}", ref);
    }
    record(key, msisdn, item, r ? r->text : (already ? "already" : "grant"),
           r && r->action == A_TIMEOUT ? 0 : status, granted);
    if (r && r->action == A_TIMEOUT)
        defer_answer(req, status, NULL, 0, true);
    else if (r && r->action == A_SLOW)
        defer_answer(req, status, ans, r->delay_ms, false);
    else
        send_json(req, status, ans);
    json_decref(o);
}

/* ---------------------------------------------------------------- /test/... */

static long query_long(struct evhttp_request *req, const char *name, long def)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    struct evkeyvalq params;
    const char *v;
    long x = def;

    if (!q)
        return def;
    TAILQ_INIT(&params);
    if (evhttp_parse_query_str(q, &params) == 0 && (v = evhttp_find_header(&params, name)))
        x = strtol(v, NULL, 10);
    evhttp_clear_headers(&params);
    return x;
}

static void on_test(struct evhttp_request *req, const char *path)
{
    struct evbuffer *b = evbuffer_new();
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);

    if (strcmp(path, "/test/echo") == 0) {
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        struct evkeyval *kv;
        static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE",
                                              "OPTIONS", "TRACE", "CONNECT", "PATCH"};
        enum evhttp_cmd_type c = evhttp_request_get_command(req);
        const char *m = "?";

        for (unsigned i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            if (c == (enum evhttp_cmd_type)(1 << i))
                m = methods[i];
        }
        evhttp_add_header(out, "X-Echo-Method", m);
        TAILQ_FOREACH(kv, in, next)
        {
            if (strncasecmp(kv->key, "X-Test-", 7) == 0)
                evhttp_add_header(out, kv->key, kv->value);
        }
        evbuffer_add_buffer(b, evhttp_request_get_input_buffer(req));
        evhttp_send_reply(req, 200, "OK", b);
    } else if (strcmp(path, "/test/big") == 0) {
        long n = query_long(req, "bytes", 1000);
        for (long i = 0; i < n; i++)
            evbuffer_add(b, "x", 1);
        evhttp_send_reply(req, 200, "OK", b);
    } else if (strcmp(path, "/test/slow") == 0) {
        defer_answer(req, 200, "{\"slow\":true}", (int)query_long(req, "ms", 1000), false);
    } else if (strcmp(path, "/test/status") == 0) {
        evbuffer_add_printf(b, "status %ld", query_long(req, "code", 200));
        evhttp_send_reply(req, (int)query_long(req, "code", 200), "Test", b);
    } else if (strcmp(path, "/test/hang") == 0) {
        defer_answer(req, 200, NULL, 0, true);
    } else {
        evhttp_send_reply(req, 404, "Not Found", b);
    }
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;

    (void)arg;
    if (path && strcmp(path, "/v1/grants") == 0)
        on_grants(req);
    else if (path && strncmp(path, "/test/", 6) == 0)
        on_test(req, path);
    else
        send_json(req, 404, "{\"message\":\"no such endpoint\"}");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopexit(S.base, NULL);
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0", *port_file = NULL, *record_path = NULL;
    struct evhttp_bound_socket *bs;
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    struct event *ev_term, *ev_int;
    char host[64];
    const char *colon;
    int port;

    signal(SIGPIPE, SIG_IGN);
    S.granted = json_object();
    S.uses = json_object();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--listen") == 0 && v)
            listen = argv[++i];
        else if (strcmp(a, "--port-file") == 0 && v)
            port_file = argv[++i];
        else if (strcmp(a, "--record") == 0 && v)
            record_path = argv[++i];
        else if (strcmp(a, "--token") == 0 && v)
            snprintf(S.token, sizeof(S.token), "%s", argv[++i]);
        else if (strcmp(a, "--rule") == 0 && v && S.n_rules < MAX_RULES) {
            if (parse_rule(argv[++i], &S.rules[S.n_rules]) < 0) {
                fprintf(stderr, "prov_server: bad rule \"%s\"\n", argv[i]);
                return 2;
            }
            S.n_rules++;
        } else {
            fprintf(stderr,
                    "usage: prov_server [--listen HOST:PORT] [--port-file F] [--record FILE]\n"
                    "                   [--token T] [--rule MATCH:ACTION[:TIMES]]...\n");
            return strcmp(a, "--help") == 0 ? 0 : 2;
        }
    }
    colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
        fprintf(stderr, "prov_server: --listen HOST:PORT\n");
        return 2;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    port = atoi(colon + 1);
    if (record_path) {
        if (load_records(record_path) < 0) {
            fprintf(stderr, "prov_server: cannot read %s\n", record_path);
            return 1;
        }
        S.record = fopen(record_path, "a");
        if (!S.record) {
            fprintf(stderr, "prov_server: cannot open %s\n", record_path);
            return 1;
        }
    }
    S.base = event_base_new();
    S.http = evhttp_new(S.base);
    if (!S.base || !S.http)
        return 1;
    evhttp_set_allowed_methods(S.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                           EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(S.http, on_request, NULL);
    bs = evhttp_bind_socket_with_handle(S.http, host, (uint16_t)port);
    if (!bs) {
        fprintf(stderr, "prov_server: cannot listen on %s\n", listen);
        return 1;
    }
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &slen) < 0)
        return 1;
    if (port_file) {
        char tmp[512];
        FILE *f;

        /* write then rename: the test waits for a non-empty file */
        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        f = fopen(tmp, "w");
        if (!f)
            return 1;
        fprintf(f, "%u\n", ntohs(sin.sin_port));
        fclose(f);
        rename(tmp, port_file);
    }
    fprintf(stderr, "prov_server: listening on %s:%u, %d rule(s), %zu grant(s) restored\n", host,
            ntohs(sin.sin_port), S.n_rules, json_object_size(S.granted));
    ev_term = evsignal_new(S.base, SIGTERM, on_signal, NULL);
    ev_int = evsignal_new(S.base, SIGINT, on_signal, NULL);
    event_add(ev_term, NULL);
    event_add(ev_int, NULL);
    event_base_dispatch(S.base);
    fprintf(stderr, "prov_server: %ld request(s), %ld grant(s) this run\n", S.n, S.grants_made);
    evhttp_free(S.http);
    event_free(ev_term);
    event_free(ev_int);
    event_base_free(S.base);
    if (S.record)
        fclose(S.record);
    json_decref(S.granted);
    json_decref(S.uses);
    return 0;
}
