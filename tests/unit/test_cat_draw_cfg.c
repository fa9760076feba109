/*
 * test_cat_draw_cfg.c - the draw's catalogue settings and published record (catalog/cat_draw.c):
 * "opening": {"mode": "draw", ...} parsed and its mistakes named by path, the tier weights, the
 * audit record (seed, entrants, winners, digest, the first winners) with a fixed digest vector,
 * and the waiting list's order: the draw order of the others does not move when one more member
 * registers (the roll-down walks that order, lua/draw.lua), so a published draw is re-run exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"

static const char *const tiers[] = {"standard", "silver", "gold"};
static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 3};
static char err[512];

/* A catalogue of one item with `opening` (JSON) and `stock` ("" = none). */
static int parse(const char *opening, const char *stock, struct cat_catalog **c)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"version\": \"v1\", \"items\": [{\"id\": \"DRAWN\", \"category\": \"data\",\n"
             " \"names\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"},\n"
             " \"descriptions\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"},\n"
             " \"price\": 500, \"tier\": \"standard\", %s \"opening\": %s,\n"
             " \"fulfil\": {\"type\": \"provisioning\", \"kind\": \"data\", \"quantity\": 1,"
             " \"unit\": \"GB\"}}]}",
             stock, opening);
    *c = NULL;
    return cat_catalog_parse(text, strlen(text), &opts, c, err, sizeof(err));
}

static void expect_error(const char *opening, const char *stock, const char *want)
{
    struct cat_catalog *c;
    if (parse(opening, stock, &c) != -EINVAL || !strstr(err, want))
        fail_msg("%s: error \"%s\", wanted \"%s\"", opening, err, want);
    assert_null(c);
}

static void test_draw_cfg__parsed__hours_and_weights(void **state)
{
    struct cat_catalog *c;

    (void)state;
    assert_int_equal(parse("{\"mode\": \"draw\", \"register_hours\": 48, \"claim_hours\": 2,"
                           " \"weights\": {\"gold\": 3, \"silver\": 2}}",
                           "\"stock_per_day\": 5,", &c),
                     0);
    const struct cat_item *it = cat_catalog_find(c, "DRAWN");
    assert_true(it->draw.on);
    assert_int_equal(it->draw.register_hours, 48);
    assert_int_equal(it->draw.claim_hours, 2);
    assert_int_equal(it->cohorts, 0); /* not staggered */
    assert_int_equal(cat_draw_weight(it, "gold", 0, 0), 3);
    assert_int_equal(cat_draw_weight(it, "silver", 0, 0), 2);
    assert_int_equal(cat_draw_weight(it, "standard", 0, 0), 1);
    assert_int_equal(cat_draw_weight(it, NULL, 0, 0), 1);
    assert_int_equal(cat_draw_weight(it, "gold", 1000, 1000 + 5 * 365 * 86400), 3); /* no tenure */
    cat_catalog_unref(c);
    /* tenure: +2 per full year of membership, on top of the tier's weight, capped */
    assert_int_equal(parse("{\"mode\": \"draw\", \"register_hours\": 48, \"claim_hours\": 2,"
                           " \"weights\": {\"gold\": 3}, \"tenure_per_year\": 2}",
                           "\"stock_per_day\": 5,", &c),
                     0);
    it = cat_catalog_find(c, "DRAWN");
    const int64_t year = 365 * 86400, now = 80 * year; /* any instant */
    assert_int_equal(cat_draw_weight(it, "standard", now - year + 1, now), 1);
    assert_int_equal(cat_draw_weight(it, "standard", now - year, now), 3);
    assert_int_equal(cat_draw_weight(it, "gold", now - 3 * year - 5, now), 9);
    assert_int_equal(cat_draw_weight(it, "gold", 0, now), 3); /* enrolment unknown */
    assert_int_equal(cat_draw_weight(it, "gold", 1, now), CAT_DRAW_WEIGHT_MAX);
    cat_catalog_unref(c);
    /* fcfs items are not drawn */
    assert_int_equal(parse("{\"mode\": \"fcfs\"}", "\"stock_per_day\": 5,", &c), 0);
    assert_false(cat_catalog_find(c, "DRAWN")->draw.on);
    cat_catalog_unref(c);
}

static void test_draw_cfg__mistakes__each_named_by_path(void **state)
{
    (void)state;
    expect_error("{\"mode\": \"draw\", \"claim_hours\": 2}", "\"stock_per_day\": 5,",
                 "items[0].opening.register_hours: required");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 0}",
                 "\"stock_per_day\": 5,", "items[0].opening.claim_hours: must be a whole number");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 200}",
                 "\"stock_per_day\": 5,", "items[0].opening.claim_hours: must be a whole number");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 2}", "",
                 "items[0].opening: a draw needs stock_per_day");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 2,"
                 " \"weights\": {\"platinum\": 3}}",
                 "\"stock_per_day\": 5,", "items[0].opening.weights.platinum: no loyalty tier");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 2,"
                 " \"weights\": {\"gold\": 0}}",
                 "\"stock_per_day\": 5,", "items[0].opening.weights.gold: must be a weight");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 2, \"cohorts\": 4}",
                 "\"stock_per_day\": 5,", "items[0].opening.cohorts: unknown key");
    expect_error("{\"mode\": \"draw\", \"register_hours\": 24, \"claim_hours\": 2,"
                 " \"tenure_per_year\": \"1\"}",
                 "\"stock_per_day\": 5,", "items[0].opening.tenure_per_year: must be a weight");
    expect_error("{\"mode\": \"lottery\"}", "\"stock_per_day\": 5,",
                 "must be fcfs, staggered or draw");
}

static void test_draw_cfg__audit_record__digest_and_first_winners(void **state)
{
    struct cat_draw_entry e[25];
    char out[1600];

    (void)state;
    memset(e, 0, sizeof(e));
    for (int i = 0; i < 25; i++)
        snprintf(e[i].msisdn, sizeof(e[i].msisdn), "2126127%05d", i);
    /* FNV-1a 64 over "msisdn\n" of each winner in order (published digests stay checkable) */
    uint64_t h = 14695981039346656037ull;
    for (const char *p = "212612700000\n212612700001\n"; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    assert_true(cat_draw_digest(e, 2) == h);
    assert_true(cat_draw_digest(e, 2) != cat_draw_digest(e, 3));
    int n = cat_draw_audit_json("S-1", 40, e, 25, out, sizeof(out));
    assert_true(n > 0 && (size_t)n == strlen(out));
    char want[128];
    snprintf(want, sizeof(want),
             "{\"seed\":\"S-1\",\"registered\":40,\"winners\":25,\"digest\":\"%016llx\"",
             (unsigned long long)cat_draw_digest(e, 25));
    assert_memory_equal(out, want, strlen(want));
    assert_non_null(strstr(out, "\"212612700019\"]}")); /* the first 20 named, then the end */
    assert_null(strstr(out, "212612700020"));
    assert_int_equal(cat_draw_audit_json("S-1", 40, e, 25, out, 60), -ENOSPC);
    assert_int_equal(cat_draw_audit_json("S\"1", 40, e, 25, out, sizeof(out)), -EINVAL);
}

/* The waiting list is the draw order: one more registration never reorders the others. */
static void test_draw_cfg__one_more_registration__others_keep_their_order(void **state)
{
    static struct cat_draw_entry a[100], b[101];

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    for (int i = 0; i < 100; i++) {
        snprintf(a[i].msisdn, sizeof(a[i].msisdn), "2126128%05d", i);
        a[i].weight = 1 + (uint32_t)(i % 3);
        b[i] = a[i];
    }
    snprintf(b[100].msisdn, sizeof(b[100].msisdn), "212612899999");
    b[100].weight = 2;
    assert_int_equal(cat_draw_order("seed-roll", a, 100), 100);
    assert_int_equal(cat_draw_order("seed-roll", b, 101), 101);
    size_t j = 0;
    for (size_t i = 0; i < 101; i++) {
        if (strcmp(b[i].msisdn, "212612899999") == 0)
            continue;
        assert_string_equal(b[i].msisdn, a[j].msisdn);
        j++;
    }
    assert_int_equal(j, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draw_cfg__parsed__hours_and_weights),
        cmocka_unit_test(test_draw_cfg__mistakes__each_named_by_path),
        cmocka_unit_test(test_draw_cfg__audit_record__digest_and_first_winners),
        cmocka_unit_test(test_draw_cfg__one_more_registration__others_keep_their_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
