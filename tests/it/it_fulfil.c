/*
 * it_fulfil.c - integration driver for the HTTP client, the provisioning adapter and the
 * fulfilment worker (owned by the fulfilment engineer), run by tests/it/test_fulfil.sh against a
 * real redis-server and the real tests/it/prov_server.
 *
 *   it_fulfil http URL
 *       cmocka cases for gw_http against prov_server's /test endpoints at URL (headers in and out,
 *       deadline, refused connection, bounded answer, cancel-all on free, callback never inside the
 *       request call, 200 requests at once).
 *   it_fulfil worker --redis SOCK --url URL --token T --consumer NAME --sms FILE --stats FILE
 *                    [--timeout-ms N] [--retry-min-ms N] [--retry-max-ms N] [--deadline-s N]
 *                    [--claim-idle-ms N] [--in-flight N] [--until-idle] [--max-s N]
 *       runs the worker with the test store below and an SMS sink (one "to<TAB>text" line per SMS
 *       in FILE) until SIGTERM, or with --until-idle until the group has nothing pending and
 *       nothing undelivered (exit 0), or --max-s seconds have passed (exit 3).
 *
 * The test store stands for cat_redeem's transitions (same ops, same outcomes) with records the
 * script seeds: hash t:rec:<rid> {state queued|fulfilled|refunded, price, msisdn, item}; a refund
 * adds the price to t:bal:<msisdn> and one unit to t:stock:<item>; every applied transition counts
 * in the record (marks, refunds), so the script can prove nothing was applied twice.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "cat_fulfil.h"
#include "gw_core.h"
#include "gw_http.h"
#include "gw_redis.h"

/* ================================================================ gw_http cases */

static struct {
    struct event_base *base;
    struct gw_http *http;
    const char *url;
} H;

struct hcap {
    int calls;
    int err;
    long status;
    char body[256];
    size_t body_len;
    char method[16], xa[64], xb[64];
    size_t n_headers;
    bool in_call; /* set while gw_http_request() runs */
    bool fired_in_call;
};

static void hcap_cb(void *arg, int err, const struct gw_http_response *resp)
{
    struct hcap *c = arg;
    const char *v;

    c->calls++;
    c->err = err;
    if (c->in_call)
        c->fired_in_call = true;
    if (!resp)
        return;
    c->status = resp->status;
    c->body_len = resp->body_len;
    snprintf(c->body, sizeof(c->body), "%.*s", (int)resp->body_len, resp->body);
    c->n_headers = resp->n_headers;
    if ((v = gw_http_response_header(resp, "x-echo-method")))
        snprintf(c->method, sizeof(c->method), "%s", v);
    if ((v = gw_http_response_header(resp, "X-Test-A")))
        snprintf(c->xa, sizeof(c->xa), "%s", v);
    if ((v = gw_http_response_header(resp, "X-Test-B")))
        snprintf(c->xb, sizeof(c->xb), "%s", v);
}

static bool run_until(const int *calls, int want, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;

    while (*calls < want && gw_clock_mono_ms() < end)
        event_base_loop(H.base, EVLOOP_ONCE);
    return *calls >= want;
}

static int http_setup(void **state)
{
    (void)state;
    H.http = gw_http_new(H.base, NULL);
    return H.http ? 0 : -1;
}

static int http_teardown(void **state)
{
    (void)state;
    gw_http_free(H.http);
    H.http = NULL;
    return 0;
}

static int start(struct hcap *c, const char *method, const char *path, const char *body,
                 uint32_t timeout_ms)
{
    char url[512];
    struct gw_http_header hdrs[] = {{"X-Test-A", "alpha"}, {"X-Test-B", "b e t a"}};
    struct gw_http_request req = {
        .method = method,
        .url = url,
        .headers = hdrs,
        .n_headers = 2,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = timeout_ms,
    };
    int rc;

    snprintf(url, sizeof(url), "%s%s", H.url, path);
    c->in_call = true;
    rc = gw_http_request(H.http, &req, hcap_cb, c);
    c->in_call = false;
    return rc;
}

static void test_http__post__body_and_headers_travel_both_ways(void **state)
{
    struct hcap c = {0};

    (void)state;
    assert_int_equal(start(&c, "POST", "/test/echo", "{\"hello\":1}", 2000), 0);
    assert_true(run_until(&c.calls, 1, 3000));
    assert_int_equal(c.calls, 1);
    assert_false(c.fired_in_call);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "{\"hello\":1}");
    assert_string_equal(c.method, "POST");
    assert_string_equal(c.xa, "alpha");
    assert_string_equal(c.xb, "b e t a");
}

static void test_http__put_and_get__methods_as_asked(void **state)
{
    struct hcap a = {0}, b = {0};

    (void)state;
    assert_int_equal(start(&a, "PUT", "/test/echo", "x", 2000), 0);
    assert_int_equal(start(&b, NULL, "/test/echo", NULL, 2000), 0);
    assert_true(run_until(&a.calls, 1, 3000) && run_until(&b.calls, 1, 3000));
    assert_string_equal(a.method, "PUT");
    assert_string_equal(a.body, "x");
    assert_string_equal(b.method, "GET");
}

static void test_http__error_statuses__are_answers_not_errors(void **state)
{
    struct hcap c = {0};

    (void)state;
    assert_int_equal(start(&c, NULL, "/test/status?code=503", NULL, 2000), 0);
    assert_true(run_until(&c.calls, 1, 3000));
    assert_int_equal(c.err, 0);
    assert_int_equal(c.status, 503);
}

static void test_http__no_answer__deadline_fires_once(void **state)
{
    struct hcap c = {0};
    int64_t t0 = gw_clock_mono_ms();

    (void)state;
    assert_int_equal(start(&c, NULL, "/test/hang", NULL, 300), 0);
    assert_true(run_until(&c.calls, 1, 5000));
    assert_int_equal(c.err, -ETIMEDOUT);
    assert_true(gw_clock_mono_ms() - t0 >= 250);
    /* and never again */
    {
        struct hcap other = {0};
        assert_int_equal(start(&other, NULL, "/test/slow?ms=200", NULL, 2000), 0);
        assert_true(run_until(&other.calls, 1, 3000));
    }
    assert_int_equal(c.calls, 1);
}

static void test_http__closed_port__connection_refused(void **state)
{
    struct hcap c = {0};
    struct gw_http_request req = {.url = "http://127.0.0.1:1/", .timeout_ms = 2000};

    (void)state;
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), 0);
    assert_true(run_until(&c.calls, 1, 3000));
    assert_int_equal(c.err, -ECONNREFUSED);
}

static void test_http__answer_over_the_limit__emsgsize(void **state)
{
    struct gw_http_config cfg;
    struct gw_http *small;
    struct hcap c = {0}, ok = {0};
    char url[512];
    struct gw_http_request req = {.url = url, .timeout_ms = 3000};

    (void)state;
    gw_http_config_defaults(&cfg);
    cfg.max_response_bytes = 1000;
    small = gw_http_new(H.base, &cfg);
    assert_non_null(small);
    snprintf(url, sizeof(url), "%s/test/big?bytes=200000", H.url);
    assert_int_equal(gw_http_request(small, &req, hcap_cb, &c), 0);
    snprintf(url, sizeof(url), "%s/test/big?bytes=1000", H.url);
    assert_int_equal(gw_http_request(small, &req, hcap_cb, &ok), 0);
    assert_true(run_until(&c.calls, 1, 5000) && run_until(&ok.calls, 1, 5000));
    assert_int_equal(c.err, -EMSGSIZE);
    assert_int_equal(ok.err, 0);
    assert_int_equal(ok.body_len, 1000);
    gw_http_free(small);
}

static void test_http__free_with_requests_in_flight__each_cancelled_once(void **state)
{
    struct gw_http *h = gw_http_new(H.base, NULL);
    struct hcap c[5];
    char url[512];
    struct gw_http_request req = {.url = url, .timeout_ms = 10000};

    (void)state;
    memset(c, 0, sizeof(c));
    snprintf(url, sizeof(url), "%s/test/hang", H.url);
    for (int i = 0; i < 5; i++)
        assert_int_equal(gw_http_request(h, &req, hcap_cb, &c[i]), 0);
    /* let some of them connect and send */
    for (int i = 0; i < 20; i++)
        event_base_loop(H.base, EVLOOP_NONBLOCK);
    gw_http_free(h);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].err, -ECANCELED);
    }
    /* nothing fires later */
    for (int i = 0; i < 20; i++)
        event_base_loop(H.base, EVLOOP_NONBLOCK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c[i].calls, 1);
}

static void test_http__bad_requests__refused_and_callback_never_runs(void **state)
{
    struct hcap c = {0};
    struct gw_http_header inj[] = {{"X-Ok", "a\r\nX-Injected: 1"}};
    struct gw_http_header badname[] = {{"X Bad", "v"}};
    struct gw_http_request req = {.url = "ftp://127.0.0.1/", .timeout_ms = 1000};

    (void)state;
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    req.url = "http://127.0.0.1/ space";
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    req.url = H.url;
    req.timeout_ms = 0; /* every request has a deadline */
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    req.timeout_ms = 1000;
    req.headers = inj;
    req.n_headers = 1;
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    req.headers = badname;
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    req.headers = NULL;
    req.n_headers = 0;
    req.method = "BREW";
    assert_int_equal(gw_http_request(H.http, &req, hcap_cb, &c), -EINVAL);
    for (int i = 0; i < 10; i++)
        event_base_loop(H.base, EVLOOP_NONBLOCK);
    assert_int_equal(c.calls, 0);
}

static void test_http__200_at_once__each_answered_once(void **state)
{
    static struct hcap c[200];
    int total = 0;
    int64_t end = gw_clock_mono_ms() + 15000;

    (void)state;
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 200; i++)
        assert_int_equal(start(&c[i], "POST", "/test/echo", "ping", 10000), 0);
    while (gw_clock_mono_ms() < end) {
        total = 0;
        for (int i = 0; i < 200; i++)
            total += c[i].calls;
        if (total >= 200)
            break;
        event_base_loop(H.base, EVLOOP_ONCE);
    }
    for (int i = 0; i < 200; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].err, 0);
        assert_string_equal(c[i].body, "ping");
    }
}

/* Each answer starts the next request from inside its callback, with nothing else in flight: the
 * new request must not wait for a timer the client dropped when the previous one finished. */
struct chain {
    int done, err;
};

static void chain_cb(void *arg, int err, const struct gw_http_response *resp)
{
    struct chain *c = arg;

    (void)resp;
    if (err)
        c->err = err;
    if (++c->done < 20 && !err) {
        char url[512];
        struct gw_http_request req = {.url = url, .timeout_ms = 2000};

        snprintf(url, sizeof(url), "%s/test/status?code=200", H.url);
        if (gw_http_request(H.http, &req, chain_cb, c) < 0)
            c->err = -EIO;
    }
}

static void test_http__request_from_inside_a_callback__chain_completes(void **state)
{
    struct chain c = {0};
    char url[512];
    struct gw_http_request req = {.url = url, .timeout_ms = 2000};

    (void)state;
    snprintf(url, sizeof(url), "%s/test/status?code=200", H.url);
    assert_int_equal(gw_http_request(H.http, &req, chain_cb, &c), 0);
    assert_true(run_until(&c.done, 20, 10000));
    assert_int_equal(c.err, 0);
}

static int run_http(const char *url)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http__post__body_and_headers_travel_both_ways,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http__put_and_get__methods_as_asked, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(test_http__error_statuses__are_answers_not_errors,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http__no_answer__deadline_fires_once, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(test_http__closed_port__connection_refused, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(test_http__answer_over_the_limit__emsgsize, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(
            test_http__free_with_requests_in_flight__each_cancelled_once, http_setup,
            http_teardown),
        cmocka_unit_test_setup_teardown(
            test_http__bad_requests__refused_and_callback_never_runs, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http__200_at_once__each_answered_once, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(
            test_http__request_from_inside_a_callback__chain_completes, http_setup,
            http_teardown),
    };
    int rc;

    H.url = url;
    H.base = event_base_new();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    event_base_free(H.base);
    return rc;
}

/* ================================================================ the test store */

static const char lua_mark[] =
    "local st = redis.call('HGET', KEYS[1], 'state')\n"
    "if not st then return 3 end\n"
    "if st == 'fulfilled' then redis.call('HINCRBY', KEYS[1], 'mark_repeats', 1) return 1 end\n"
    "if st == 'refunded' then return 2 end\n"
    "redis.call('HSET', KEYS[1], 'state', 'fulfilled', 'reference', ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[1], 'marks', 1)\n"
    "return 0\n";
static const char lua_refund[] =
    "local st = redis.call('HGET', KEYS[1], 'state')\n"
    "if not st then return 3 end\n"
    "if st == 'refunded' then return 1 end\n"
    "if st == 'fulfilled' then return 2 end\n"
    "redis.call('HSET', KEYS[1], 'state', 'refunded', 'reason', ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[1], 'refunds', 1)\n"
    "local r = redis.call('HMGET', KEYS[1], 'price', 'msisdn', 'item')\n"
    "redis.call('INCRBY', 't:bal:' .. r[2], tonumber(r[1]))\n"
    "redis.call('INCRBY', 't:stock:' .. r[3], 1)\n"
    "return 0\n";
static const char lua_charity[] =
    "if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 1 end\n"
    "redis.call('HINCRBY', KEYS[1], 'total', ARGV[2])\n"
    "redis.call('HINCRBY', KEYS[1], 'count', 1)\n"
    "return 0\n";

struct tstore {
    struct gw_redis *redis;
    int s_mark, s_refund, s_charity;
};

struct tcall {
    cat_transition_cb cb;
    void *arg;
};

static void on_tstore(void *arg, int err, const struct redisReply *r)
{
    struct tcall *c = arg;

    if (err == 0 && (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer > 3))
        err = -EPROTO;
    c->cb(c->arg, err, err == 0 ? (enum cat_transition)r->integer : CAT_TR_UNKNOWN);
    free(c);
}

static int tstore_run(struct tstore *s, int script, int nkeys, int argc, const char **argv,
                      cat_transition_cb cb, void *arg)
{
    struct tcall *c = malloc(sizeof(*c));
    size_t lens[8];
    int rc;

    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->arg = arg;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    rc = gw_redis_script_run(s->redis, script, nkeys, argc, argv, lens, on_tstore, c);
    if (rc < 0)
        free(c);
    return rc;
}

static int ts_mark(void *ctx, const char *rid, const char *reference, int64_t now,
                   cat_transition_cb cb, void *arg)
{
    struct tstore *s = ctx;
    char key[160];
    const char *argv[2] = {key, reference ? reference : ""};

    (void)now;
    snprintf(key, sizeof(key), "t:rec:%s", rid);
    return tstore_run(s, s->s_mark, 1, 2, argv, cb, arg);
}

static int ts_refund(void *ctx, const char *rid, const char *reason, int64_t now,
                     cat_transition_cb cb, void *arg)
{
    struct tstore *s = ctx;
    char key[160];
    const char *argv[2] = {key, reason};

    (void)now;
    snprintf(key, sizeof(key), "t:rec:%s", rid);
    return tstore_run(s, s->s_refund, 1, 2, argv, cb, arg);
}

static int ts_charity(void *ctx, const char *rid, const char *cause, int64_t points, int64_t now,
                      cat_transition_cb cb, void *arg)
{
    struct tstore *s = ctx;
    char key[160], pts[32];
    const char *argv[4] = {key, "t:charity:done", rid, pts};

    (void)now;
    snprintf(key, sizeof(key), "t:charity:%s", cause);
    snprintf(pts, sizeof(pts), "%" PRId64, points);
    return tstore_run(s, s->s_charity, 2, 4, argv, cb, arg);
}

static const struct cat_fulfil_store_ops tstore_ops = {
    .mark_fulfilled = ts_mark,
    .refund = ts_refund,
    .charity_add = ts_charity,
};

/* ================================================================ worker mode */

static struct {
    struct event_base *base;
    FILE *sms;
    const char *redis_sock;
    const char *stream, *group;
    bool until_idle;
    int64_t end_ms;
    int exit_code;
    redisContext *check; /* synchronous connection for the idle check */
    struct cat_fulfil_worker *w;
} W;

static int sms_sink(void *arg, const char *to, const char *text)
{
    (void)arg;
    fprintf(W.sms, "%s\t%s\n", to, text);
    fflush(W.sms);
    return 0;
}

/* Idle: nothing pending in the group and everything in the stream delivered to it. */
static bool group_idle(void)
{
    redisReply *r;
    bool idle = false;
    char last_stream[64] = "", last_group[64] = "";
    long long pending = -1;

    if (!W.check) {
        struct gw_redis_config cc;
        char cerr[256];
        gw_redis_config_defaults(&cc);
        gw_redis_config_env(&cc); /* LGW_REDIS_USER / LGW_REDIS_PASSWORD (lib.sh ACL mode) */
        snprintf(cc.unix_socket, sizeof(cc.unix_socket), "%s", W.redis_sock);
        W.check = gw_redis_connect_sync(&cc, 2000, cerr, sizeof(cerr));
        if (!W.check)
            return false;
    }
    r = redisCommand(W.check, "XINFO STREAM %s", W.stream);
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            if (r->element[i]->str && strcmp(r->element[i]->str, "last-generated-id") == 0)
                snprintf(last_stream, sizeof(last_stream), "%s", r->element[i + 1]->str);
        }
    }
    freeReplyObject(r);
    r = redisCommand(W.check, "XINFO GROUPS %s", W.stream);
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t g = 0; g < r->elements; g++) {
            redisReply *e = r->element[g];
            bool ours = false;
            for (size_t i = 0; i + 1 < e->elements; i += 2) {
                if (strcmp(e->element[i]->str, "name") == 0)
                    ours = strcmp(e->element[i + 1]->str, W.group) == 0;
            }
            for (size_t i = 0; ours && i + 1 < e->elements; i += 2) {
                if (strcmp(e->element[i]->str, "pending") == 0)
                    pending = e->element[i + 1]->integer;
                if (strcmp(e->element[i]->str, "last-delivered-id") == 0)
                    snprintf(last_group, sizeof(last_group), "%s", e->element[i + 1]->str);
            }
        }
    }
    freeReplyObject(r);
    idle = pending == 0 && last_stream[0] && strcmp(last_stream, last_group) == 0;
    return idle;
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (W.until_idle && group_idle()) {
        W.exit_code = 0;
        event_base_loopexit(W.base, NULL);
        return;
    }
    if (W.end_ms && gw_clock_mono_ms() > W.end_ms) {
        fprintf(stderr, "it_fulfil: still busy after --max-s\n");
        W.exit_code = 3;
        event_base_loopexit(W.base, NULL);
    }
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    W.exit_code = 0;
    event_base_loopexit(W.base, NULL);
}

static void write_stats(const char *path)
{
    struct cat_fulfil_stats s;
    FILE *f;

    if (!path)
        return;
    cat_fulfil_worker_get_stats(W.w, &s);
    f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "{\"read\":%" PRIu64 ",\"claimed\":%" PRIu64 ",\"granted\":%" PRIu64
            ",\"already\":%" PRIu64 ",\"refunded\":%" PRIu64 ",\"permanent\":%" PRIu64
            ",\"temporary\":%" PRIu64 ",\"gave_up\":%" PRIu64 ",\"voucher\":%" PRIu64
            ",\"charity\":%" PRIu64 ",\"conflicts\":%" PRIu64 ",\"unknown\":%" PRIu64
            ",\"malformed\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"sms_sent\":%" PRIu64
            ",\"sms_failed\":%" PRIu64 ",\"store_errors\":%" PRIu64 ",\"redis_errors\":%" PRIu64
            ",\"held\":%" PRIu32 "}\n",
            s.read, s.claimed, s.granted, s.already, s.refunded, s.permanent, s.temporary,
            s.gave_up, s.voucher, s.charity, s.conflicts, s.unknown, s.malformed, s.acked,
            s.sms_sent, s.sms_failed, s.store_errors, s.redis_errors, s.held);
    fclose(f);
}

static int run_worker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"redis", required_argument, NULL, 'r'},     {"url", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 't'},     {"consumer", required_argument, NULL, 'c'},
        {"sms", required_argument, NULL, 's'},       {"stats", required_argument, NULL, 'S'},
        {"timeout-ms", required_argument, NULL, 'T'}, {"retry-min-ms", required_argument, NULL, 'm'},
        {"retry-max-ms", required_argument, NULL, 'M'}, {"deadline-s", required_argument, NULL, 'd'},
        {"claim-idle-ms", required_argument, NULL, 'i'}, {"in-flight", required_argument, NULL, 'f'},
        {"until-idle", no_argument, NULL, 'I'},      {"max-s", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    struct cat_fulfil_config cfg;
    struct cat_prov_http_config pcfg;
    struct gw_redis_config rcfg;
    struct cat_fulfil_deps deps;
    struct tstore ts = {0};
    struct gw_http *http;
    struct cat_prov_http *prov;
    struct event *check, *ev_term;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    const char *sms_path = NULL, *stats_path = NULL;
    int c;

    cat_fulfil_config_defaults(&cfg);
    cat_prov_http_config_defaults(&pcfg);
    gw_redis_config_defaults(&rcfg);
    gw_redis_config_env(&rcfg);
    cfg.poll_ms = 50;
    W.exit_code = 1;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            W.redis_sock = optarg;
            snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", optarg);
            break;
        case 'u':
            snprintf(pcfg.base_url, sizeof(pcfg.base_url), "%s", optarg);
            break;
        case 't':
            snprintf(pcfg.token, sizeof(pcfg.token), "%s", optarg);
            break;
        case 'c':
            snprintf(cfg.consumer, sizeof(cfg.consumer), "%s", optarg);
            break;
        case 's':
            sms_path = optarg;
            break;
        case 'S':
            stats_path = optarg;
            break;
        case 'T':
            pcfg.timeout_ms = (uint32_t)atoi(optarg);
            pcfg.connect_timeout_ms = pcfg.timeout_ms;
            break;
        case 'm':
            cfg.retry_min_ms = (uint32_t)atoi(optarg);
            break;
        case 'M':
            cfg.retry_max_ms = (uint32_t)atoi(optarg);
            break;
        case 'd':
            cfg.retry_deadline_s = (uint32_t)atoi(optarg);
            break;
        case 'i':
            cfg.claim_idle_ms = (uint32_t)atoi(optarg);
            break;
        case 'f':
            cfg.max_in_flight = (uint32_t)atoi(optarg);
            break;
        case 'I':
            W.until_idle = true;
            break;
        case 'x':
            W.end_ms = gw_clock_mono_ms() + (int64_t)atoi(optarg) * 1000;
            break;
        default:
            return 2;
        }
    }
    if (!W.redis_sock || !sms_path || !pcfg.base_url[0]) {
        fprintf(stderr, "it_fulfil worker: --redis, --url and --sms are required\n");
        return 2;
    }
    W.stream = cfg.stream;
    W.group = cfg.group;
    W.sms = fopen(sms_path, "a");
    if (!W.sms)
        return 1;
    W.base = event_base_new();
    ts.redis = gw_redis_new(W.base, &rcfg);
    http = gw_http_new(W.base, NULL);
    /* prov_server listens on loopback over plain http: the explicit test mode (issue 11) */
    pcfg.insecure_test_mode = true;
    prov = cat_prov_http_new(http, &pcfg);
    if (!ts.redis || !http || !prov)
        return 1;
    ts.s_mark = gw_redis_script_add(ts.redis, lua_mark, strlen(lua_mark));
    ts.s_refund = gw_redis_script_add(ts.redis, lua_refund, strlen(lua_refund));
    ts.s_charity = gw_redis_script_add(ts.redis, lua_charity, strlen(lua_charity));
    deps = (struct cat_fulfil_deps){
        .redis = ts.redis,
        .prov = &cat_prov_http_ops,
        .prov_impl = prov,
        .store = &tstore_ops,
        .store_ctx = &ts,
        .send_sms = sms_sink,
    };
    W.w = cat_fulfil_worker_new(W.base, &cfg, &deps);
    if (!W.w)
        return 1;
    gw_redis_start(ts.redis);
    cat_fulfil_worker_start(W.w);
    check = event_new(W.base, -1, EV_PERSIST, on_check, NULL);
    event_add(check, &tv);
    ev_term = evsignal_new(W.base, SIGTERM, on_term, NULL);
    event_add(ev_term, NULL);
    fprintf(stderr, "it_fulfil: worker %s started\n", cfg.consumer);
    event_base_dispatch(W.base);

    write_stats(stats_path);
    /* the documented order: stop, free the clients (their callbacks only release memory), then
     * the worker */
    cat_fulfil_worker_stop(W.w);
    gw_http_free(http);
    gw_redis_free(ts.redis);
    cat_prov_http_free(prov);
    cat_fulfil_worker_free(W.w);
    event_free(check);
    event_free(ev_term);
    event_base_free(W.base);
    if (W.check)
        redisFree(W.check);
    fclose(W.sms);
    return W.exit_code;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    gw_log_set_level(getenv("LGW_VERBOSE") ? GW_LOG_DEBUG : GW_LOG_INFO);
    if (argc >= 3 && strcmp(argv[1], "http") == 0) {
        gw_log_set_level(GW_LOG_ERROR);
        return run_http(argv[2]);
    }
    if (argc >= 2 && strcmp(argv[1], "worker") == 0)
        return run_worker(argc, argv);
    fprintf(stderr, "usage: it_fulfil http URL | it_fulfil worker --redis SOCK --url URL ...\n");
    return 2;
}
