/*
 * test_sim_summary.c - smsc-sim's summary: the JSON keys the integration tests and benchmarks
 * read, the inject outcomes, and the nearest-rank latency percentiles. Compiled from the
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile__nearest_rank),
        cmocka_unit_test(test_summary__counters_inject_latency__in_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
