/*
 * test_gw_metrics.c - the Prometheus text writer and the histograms of core/gw_metrics: exact
 * lines for families, samples and histograms; label values escaped (backslash, quote, newline)
 * so data cannot break a line or forge a series; names and label names outside the grammar
 * refused with nothing written; histogram buckets cumulative with +Inf = count; NaN and negative
 * observations counted as 0; listen addresses parsed (IPv4, [IPv6], errors).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "gw_metrics.h"

/* The buffer's text (NUL-terminated, freed by the caller), the buffer drained. */
static char *take(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);

    assert_non_null(s);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void test_prom__family_and_samples__exact_lines(void **state)
{
    struct evbuffer *b = evbuffer_new();
    char *s;

    (void)state;
    assert_int_equal(gw_prom_family(b, "lg_events_total", GW_PROM_COUNTER, "events\nby \\ outcome"),
                     0);
    assert_int_equal(gw_prom_sample_u64(b, "lg_events_total",
                                        (const char *const[]){"outcome", "ok", "smsc", "S1", NULL},
                                        UINT64_C(18446744073709551615)),
                     0);
    assert_int_equal(gw_prom_sample(b, "lg_up", NULL, 1), 0);
    assert_int_equal(gw_prom_sample(b, "lg_ratio", NULL, 0.25), 0);
    assert_int_equal(gw_prom_sample(b, "lg_inf", NULL, INFINITY), 0);
    s = take(b);
    assert_string_equal(s, "# HELP lg_events_total events\\nby \\\\ outcome\n"
                           "# TYPE lg_events_total counter\n"
                           "lg_events_total{outcome=\"ok\",smsc=\"S1\"} 18446744073709551615\n"
                           "lg_up 1\n"
                           "lg_ratio 0.25\n"
                           "lg_inf +Inf\n");
    free(s);
    evbuffer_free(b);
}

static void test_prom__hostile_label_value__escaped_on_one_line(void **state)
{
    struct evbuffer *b = evbuffer_new();
    char *s;

    (void)state;
    gw_prom_sample_u64(b, "lg_x", (const char *const[]){"item", "a\"b\\c\nlg_forged 1", NULL}, 7);
    s = take(b);
    assert_string_equal(s, "lg_x{item=\"a\\\"b\\\\c\\nlg_forged 1\"} 7\n");
    free(s);
    evbuffer_free(b);
}

static void test_prom__bad_names__refused_nothing_written(void **state)
{
    struct evbuffer *b = evbuffer_new();

    (void)state;
    assert_int_equal(gw_prom_family(b, "1abc", GW_PROM_GAUGE, "x"), -EINVAL);
    assert_int_equal(gw_prom_family(b, "a-b", GW_PROM_GAUGE, "x"), -EINVAL);
    assert_int_equal(gw_prom_sample(b, "", NULL, 1), -EINVAL);
    assert_int_equal(gw_prom_sample(b, "ok", (const char *const[]){"bad-label", "v", NULL}, 1),
                     -EINVAL);
    assert_int_equal(gw_prom_sample(b, "ok", (const char *const[]){"__reserved", "v", NULL}, 1),
                     -EINVAL);
    assert_int_equal(gw_prom_sample(b, "ok", (const char *const[]){"a:b", "v", NULL}, 1), -EINVAL);
    assert_int_equal(evbuffer_get_length(b), 0);
    /* colons are allowed in metric names (recording rules), not in label names */
    assert_int_equal(gw_prom_sample(b, "job:lg_x:rate5m", NULL, 1), 0);
    evbuffer_free(b);
}

static void test_histo__observations__cumulative_buckets_inf_equals_count(void **state)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    struct gw_histo h;
    struct evbuffer *b = evbuffer_new();
    char *s;

    (void)state;
    gw_histo_init(&h, bounds, 3);
    gw_histo_observe(&h, 0.0005); /* <= 0.001 */
    gw_histo_observe(&h, 0.001);  /* on the bound: le is inclusive */
    gw_histo_observe(&h, 0.05);
    gw_histo_observe(&h, 2);   /* above every bound */
    gw_histo_observe(&h, -1);  /* a clock step: counted as 0 */
    gw_histo_observe(&h, NAN); /* never poisons the sum */
    gw_prom_histo(b, "lg_lat_seconds", (const char *const[]){"smsc", "S1", NULL}, &h);
    s = take(b);
    assert_string_equal(s, "lg_lat_seconds_bucket{smsc=\"S1\",le=\"0.001\"} 4\n"
                           "lg_lat_seconds_bucket{smsc=\"S1\",le=\"0.01\"} 4\n"
                           "lg_lat_seconds_bucket{smsc=\"S1\",le=\"0.1\"} 5\n"
                           "lg_lat_seconds_bucket{smsc=\"S1\",le=\"+Inf\"} 6\n"
                           "lg_lat_seconds_sum{smsc=\"S1\"} 2.0514999999999999\n"
                           "lg_lat_seconds_count{smsc=\"S1\"} 6\n");
    free(s);
    evbuffer_free(b);
}

static void test_histo__default_bounds__ascending_and_fit(void **state)
{
    (void)state;
    assert_true(gw_histo_latency_n <= GW_HISTO_MAX_BUCKETS);
    for (unsigned i = 1; i < gw_histo_latency_n; i++)
        assert_true(gw_histo_latency_bounds[i] > gw_histo_latency_bounds[i - 1]);
}

static void test_listen__forms__parsed_or_refused(void **state)
{
    char host[64];
    uint16_t port;

    (void)state;
    assert_int_equal(gw_obs_parse_listen("127.0.0.1:9464", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(gw_obs_parse_listen("[::1]:0", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(gw_obs_parse_listen("localhost:65535", host, sizeof(host), &port), 0);
    assert_int_equal(gw_obs_parse_listen("127.0.0.1", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen("127.0.0.1:65536", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen("127.0.0.1:-1", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen("127.0.0.1:94x", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen(":9464", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen("[::1:9464", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(gw_obs_parse_listen("", host, sizeof(host), &port), -EINVAL);
    assert_int_equal(
        gw_obs_parse_listen("averyveryverylonghostnamethatdoesnotfitinto16:1", host, 16, &port),
        -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prom__family_and_samples__exact_lines),
        cmocka_unit_test(test_prom__hostile_label_value__escaped_on_one_line),
        cmocka_unit_test(test_prom__bad_names__refused_nothing_written),
        cmocka_unit_test(test_histo__observations__cumulative_buckets_inf_equals_count),
        cmocka_unit_test(test_histo__default_bounds__ascending_and_fit),
        cmocka_unit_test(test_listen__forms__parsed_or_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
