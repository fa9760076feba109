/*
 * test_sim_summary.c - smsc-sim's summary: the JSON keys the integration tests and benchmarks
 * read, the inject outcomes, the nearest-rank latency percentiles, the --ussd-load hop latency
 * and rate maths and its JSON object. Compiled from the
 * simulator's source directly, on a hand-filled struct sim (no loop, no sockets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smpp/sim/sim_summary.c"

#include <string.h>

static void test_percentile__nearest_rank(void **state)
{
    uint32_t v[100];

    (void)state;
    for (uint32_t i = 0; i < 100; i++)
        v[i] = i + 1;
    assert_int_equal(sim_percentile(v, 100, 50), 50);
    assert_int_equal(sim_percentile(v, 100, 99), 99);
    assert_int_equal(sim_percentile(v, 100, 100), 100);
    assert_int_equal(sim_percentile(v, 1, 50), 1);
    assert_int_equal(sim_percentile(v, 3, 50), 2);
    assert_int_equal(sim_percentile(v, 3, 99), 3);
    assert_int_equal(sim_percentile(v, 0, 50), 0);
    assert_int_equal(sim_percentile(v, 10, 0), 1);
}

static json_int_t jint(json_t *o, const char *path1, const char *path2)
{
    json_t *j = json_object_get(o, path1);

    if (path2)
        j = json_object_get(j, path2);
    assert_non_null(j);
    return json_integer_value(j);
}

static void test_summary__counters_inject_latency__in_json(void **state)
{
    static struct sim sim;
    static struct sim_event evs[3];
    uint8_t pdu[16] = {0};
    struct sim_inject_item inj[3];
    uint32_t lat[4] = {4000, 1000, 3000, 2000};
    json_t *o, *a;

    (void)state;
    memset(&sim, 0, sizeof(sim));
    memset(inj, 0, sizeof(inj));
    sim.events.v = evs;
    sim.events.n = 3;
    sim.n_final = 2;
    sim.st.sent = 5;
    sim.st.acked_rok = 2;
    sim.st.acked_tappn = 2;
    sim.st.final_rok = 2;
    sim.st.redelivered = 2;
    sim.st.unanswered = 1;
    sim.st.binds = 2;
    sim.st.disconnects = 1;
    sim.st.submits = 7;
    sim.st.generic_nacks_received = 1;
    inj[0] = (struct sim_inject_item){.pdu = pdu,
                                      .len = 16,
                                      .line = 1,
                                      .result = SIM_INJ_RESPONSE,
                                      .resp_cmd = SMPP_GENERIC_NACK,
                                      .resp_status = SMPP_RINVCMDID};
    inj[1] = (struct sim_inject_item){.line = 3, .result = SIM_INJ_CLOSED};
    inj[2] = (struct sim_inject_item){.line = 4,
                                      .result = SIM_INJ_RESPONSE,
                                      .resp_cmd = SMPP_GENERIC_NACK,
                                      .resp_status = SMPP_RINVCMDLEN,
                                      .closed_after = true};
    sim.inject = inj;
    sim.n_inject = 3;
    sim.lat_us = lat;
    sim.lat_n = 4;
    sim.first_send_ms = 1000;
    sim.last_final_ms = 1250;

    o = sim_summary_json(&sim, 400);
    assert_non_null(o);
    assert_int_equal(jint(o, "events", NULL), 3);
    assert_int_equal(jint(o, "sent", NULL), 5);
    assert_int_equal(jint(o, "acked", "ESME_ROK"), 2);
    assert_int_equal(jint(o, "acked", "ESME_RX_T_APPN"), 2);
    assert_int_equal(jint(o, "acked", "ESME_RX_P_APPN"), 0);
    assert_int_equal(jint(o, "acked", "other"), 0);
    assert_int_equal(jint(o, "final", "ESME_ROK"), 2);
    assert_int_equal(jint(o, "final", "ESME_RX_P_APPN"), 0);
    assert_int_equal(jint(o, "final", "other"), 0);
    assert_int_equal(jint(o, "redelivered", NULL), 2);
    assert_int_equal(jint(o, "unanswered", NULL), 1);
    assert_int_equal(jint(o, "gave_up", NULL), 0);
    assert_int_equal(jint(o, "unfinished", NULL), 1);
    assert_int_equal(jint(o, "binds", NULL), 2);
    assert_int_equal(jint(o, "disconnects", NULL), 1);
    assert_int_equal(jint(o, "submits", NULL), 7);
    assert_int_equal(jint(o, "generic_nacks_received", NULL), 1);
    assert_int_equal(jint(o, "elapsed_ms", NULL), 400);
    assert_int_equal(jint(o, "delivery_ms", NULL), 250);
    assert_null(json_object_get(o, "ussd")); /* only with --ussd */

    a = json_object_get(o, "inject");
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(jint(json_array_get(a, 0), "line", NULL), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "response_cmd")),
                        "generic_nack");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "status")),
                        "ESME_RINVCMDID");
    assert_null(json_object_get(json_array_get(a, 0), "closed"));
    assert_true(json_is_true(json_object_get(json_array_get(a, 1), "closed")));
    assert_true(json_is_true(json_object_get(json_array_get(a, 2), "closed")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "status")),
                        "ESME_RINVCMDLEN");

    /* 1, 2, 3, 4 ms: p50 is 2 (nearest rank), p99 and max 4 */
    a = json_object_get(o, "latency_ms");
    assert_true(json_real_value(json_object_get(a, "p50")) == 2.0);
    assert_true(json_real_value(json_object_get(a, "p99")) == 4.0);
    assert_true(json_real_value(json_object_get(a, "max")) == 4.0);
    /* the summary sorts a copy: the samples keep their arrival order */
    assert_int_equal(lat[0], 4000);
    json_decref(o);
}

static void test_lat_compute__unsorted_us__sorted_ms_nearest_rank(void **state)
{
    uint32_t v[200];
    struct sim_lat l;

    (void)state;
    /* 200 samples 1..200 ms in a scrambled order (a step coprime with 200) */
    for (uint32_t i = 0; i < 200; i++)
        v[i] = ((i * 77) % 200 + 1) * 1000;
    sim_lat_compute(v, 200, &l);
    assert_int_equal(l.n, 200);
    assert_true(l.p50 == 100.0); /* rank ceil(0.50 * 200) = 100 */
    assert_true(l.p99 == 198.0); /* rank ceil(0.99 * 200) = 198 */
    assert_true(l.max == 200.0);
    for (uint32_t i = 1; i < 200; i++)
        assert_true(v[i - 1] <= v[i]);
}

static void test_lat_compute__one_and_none__no_division_by_zero(void **state)
{
    uint32_t one = 1500;
    struct sim_lat l;

    (void)state;
    sim_lat_compute(&one, 1, &l);
    assert_true(l.p50 == 1.5 && l.p99 == 1.5 && l.max == 1.5);
    sim_lat_compute(NULL, 0, &l);
    assert_int_equal(l.n, 0);
    assert_true(l.p50 == 0 && l.p99 == 0 && l.max == 0);
}

static void test_lat_compute__one_outlier_in_100__p99_does_not_see_it(void **state)
{
    uint32_t v[100];
    struct sim_lat l;

    (void)state;
    for (int i = 0; i < 100; i++)
        v[i] = 300;
    v[42] = 9000000; /* 9 s: the max, but 1 % of the samples sits above p99 */
    sim_lat_compute(v, 100, &l);
    assert_true(l.p99 == 0.3);
    assert_true(l.max == 9000.0);
    v[7] = 8000000; /* a second one reaches p99 */
    sim_lat_compute(v, 100, &l);
    assert_true(l.p99 == 8000.0);
}

static void test_rate__count_over_window(void **state)
{
    (void)state;
    assert_true(sim_rate_per_s(2000, 1000000, 2000000) == 2000.0);
    assert_true(sim_rate_per_s(500, 0, 250000) == 2000.0);
    assert_true(sim_rate_per_s(10, 5, 5) == 0); /* empty window */
    assert_true(sim_rate_per_s(10, 9, 5) == 0);
    assert_true(sim_rate_per_s(0, 0, 1000) == 0);
}

static void test_u32_push__grows_and_keeps_order(void **state)
{
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;

    (void)state;
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(sim_u32_push(&v, &n, &cap, i * 3), 0);
    assert_int_equal(n, 5000);
    assert_true(cap >= 5000);
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(v[i], i * 3);
    free(v);
}

static void test_summary__ussd_load__counts_latency_rate(void **state)
{
    static struct sim sim;
    uint32_t lat[4] = {2000, 1000, 4000, 3000};
    json_t *o, *u, *e;

    (void)state;
    memset(&sim, 0, sizeof(sim));
    sim.load.on = true;
    sim.load.n = 10;
    sim.load.next_new = 10;
    sim.load.ends[SIM_END_PSSR] = 5;
    sim.load.ends[SIM_END_ENDBIT] = 1;
    sim.load.ends[SIM_END_INPUTS] = 1;
    sim.load.ends[SIM_END_ABORT] = 1;
    sim.load.ends[SIM_END_TIMEOUT] = 1;
    sim.load.ends[SIM_END_REFUSED] = 1;
    sim.load.hops = 4;
    sim.load.stray = 2;
    sim.load.open_max = 7;
    sim.load.open_sum = 30;
    sim.load.open_samples = 10;
    sim.load.lat_us = lat;
    sim.load.lat_n = 4;
    sim.load.first_us = 1000000;
    sim.load.last_us = 3000000;

    o = sim_summary_json(&sim, 5000);
    assert_non_null(o);
    u = json_object_get(o, "ussd_load");
    assert_non_null(u);
    assert_int_equal(jint(u, "dialogues", NULL), 10);
    assert_int_equal(jint(u, "ok", NULL), 8); /* pssr + endbit + inputs_exhausted + abort */
    assert_int_equal(jint(u, "failed", NULL), 1);
    assert_int_equal(jint(u, "timeouts", NULL), 1);
    e = json_object_get(u, "ended");
    assert_int_equal(jint(e, "pssr", NULL), 5);
    assert_int_equal(jint(e, "inputs_exhausted", NULL), 1);
    assert_int_equal(jint(e, "lost", NULL), 0);
    assert_int_equal(jint(u, "hops", NULL), 4);
    assert_int_equal(jint(u, "stray_submits", NULL), 2);
    assert_int_equal(jint(u, "open_max", NULL), 7);
    assert_true(json_real_value(json_object_get(u, "open_avg")) == 3.0);
    assert_int_equal(jint(u, "hop_window_ms", NULL), 2000);
    assert_true(json_real_value(json_object_get(u, "hops_per_s")) == 2.0);
    e = json_object_get(u, "hop_latency_ms");
    assert_true(json_real_value(json_object_get(e, "p50")) == 2.0);
    assert_true(json_real_value(json_object_get(e, "p99")) == 4.0);
    assert_int_equal(lat[0], 2000); /* a copy was sorted */
    assert_null(json_object_get(o, "phone"));
    json_decref(o);
}

static void test_dlg_end_name__record_names(void **state)
{
    (void)state;
    assert_string_equal(sim_dlg_end_name(SIM_END_PSSR), "pssr");
    assert_string_equal(sim_dlg_end_name(SIM_END_ENDBIT), "endbit");
    assert_string_equal(sim_dlg_end_name(SIM_END_TIMEOUT), "timeout");
    assert_string_equal(sim_dlg_end_name(SIM_END_INPUTS), "inputs_exhausted");
    assert_string_equal(sim_dlg_end_name(SIM_END__N), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile__nearest_rank),
        cmocka_unit_test(test_summary__counters_inject_latency__in_json),
        cmocka_unit_test(test_lat_compute__unsorted_us__sorted_ms_nearest_rank),
        cmocka_unit_test(test_lat_compute__one_and_none__no_division_by_zero),
        cmocka_unit_test(test_lat_compute__one_outlier_in_100__p99_does_not_see_it),
        cmocka_unit_test(test_rate__count_over_window),
        cmocka_unit_test(test_u32_push__grows_and_keeps_order),
        cmocka_unit_test(test_summary__ussd_load__counts_latency_rate),
        cmocka_unit_test(test_dlg_end_name__record_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
