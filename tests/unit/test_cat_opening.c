/*
 * test_cat_opening.c - the staggered gift-day opening (issue 12 section 3): the item's "opening"
 * in the catalogue validates with errors naming the JSON path; cat_cohort() is the one cohort
 * function (stable, in range, spread evenly over a realistic MSISDN population); the release
 * times of cat_cohort_release() swept minute by minute with the injected clock over a real
 * calendar window: nobody before the opening, cohort k from opening + k * minutes / cohorts,
 * everybody by the end of the period, never a member released and then held back; the stock
 * held back for the cohorts not yet in (cat_cohort_held_back) at every step; tier cohorts
 * ("by": "tier"): validated against the loyalty table, one cohort per tier listed in order and
 * everyone else last, whatever the MSISDN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog.h"

static char err[512];

/* One item; %s is the "opening" member (with its leading comma) or "". */
static const char cat_fmt[] =
    "{\"version\": \"v1\", \"items\": [{\"id\": \"RUSH\", \"category\": \"data\",\n"
    " \"names\": {\"ar\": \"1 جيغا\", \"fr\": \"1 Go\", \"en\": \"1 GB\", \"fa\": \"۱ گیگ\"},\n"
    " \"descriptions\": {\"ar\": \"وصف\", \"fr\": \"desc\", \"en\": \"desc\", \"fa\": \"شرح\"},\n"
    " \"price\": 100, \"tier\": \"standard\", \"stock_per_day\": 10,\n"
    " \"fulfil\": {\"type\": \"provisioning\", \"kind\": \"data\", \"quantity\": 1024, "
    "\"unit\": \"MB\"}%s}]}\n";

static int parse(const char *opening, struct cat_catalog **out)
{
    char text[2048];

    snprintf(text, sizeof(text), cat_fmt, opening);
    *out = NULL;
    return cat_catalog_parse(text, strlen(text), NULL, out, err, sizeof(err));
}

static void expect_error(const char *opening, const char *want)
{
    struct cat_catalog *c;

    if (parse(opening, &c) != -EINVAL || strncmp(err, want, strlen(want)) != 0)
        fail_msg("opening [%s]: error \"%s\", wanted \"%s...\"", opening, err, want);
    assert_null(c);
}

static void test_opening__catalogue__validated(void **state)
{
    struct cat_catalog *c;
    const struct cat_item *it;

    (void)state;
    assert_int_equal(parse("", &c), 0);
    it = cat_catalog_find(c, "RUSH");
    assert_non_null(it);
    assert_int_equal(it->cohorts, 0); /* absent: first come first served */
    cat_catalog_unref(c);

    assert_int_equal(parse(", \"opening\": {\"mode\": \"fcfs\"}", &c), 0);
    assert_int_equal(cat_catalog_find(c, "RUSH")->cohorts, 0);
    cat_catalog_unref(c);

    assert_int_equal(
        parse(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4, \"minutes\": 60}", &c), 0);
    it = cat_catalog_find(c, "RUSH");
    assert_int_equal(it->cohorts, 4);
    assert_int_equal(it->opening_minutes, 60);
    cat_catalog_unref(c);

    expect_error(", \"opening\": 4", "items[0].opening: must be an object");
    expect_error(", \"opening\": {}", "items[0].opening.mode: required");
    expect_error(", \"opening\": {\"mode\": \"lottery\"}",
                 "items[0].opening.mode: must be fcfs, staggered or draw");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"minutes\": 60}",
                 "items[0].opening.cohorts: required");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4}",
                 "items[0].opening.minutes: required");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 1, \"minutes\": 60}",
                 "items[0].opening.cohorts: must be at least 2");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 65, \"minutes\": 60}",
                 "items[0].opening.cohorts: must be at most 64");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4, \"minutes\": 0}",
                 "items[0].opening.minutes: must be a positive integer");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4, \"minutes\": 1441}",
                 "items[0].opening.minutes: must be at most 1440");
    expect_error(", \"opening\": {\"mode\": \"fcfs\", \"cohorts\": 4}",
                 "items[0].opening: cohorts, minutes, by and tiers are for mode staggered only");
    expect_error(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4, \"minutes\": 60, "
                 "\"tiers\": 1}",
                 "items[0].opening");
}

static void msisdn_of(unsigned i, char *out, size_t cap)
{
    snprintf(out, cap, "2126%08u", 10000000u + i * 7919u % 90000000u);
}

static void test_tier_cohorts__validated_ordered_everyone_else_last(void **state)
{
    static const char *const tiers[] = {"standard", "silver", "gold"};
    static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 3};
    static const char by_tier[] = ", \"opening\": {\"mode\": \"staggered\", \"by\": \"tier\", "
                                  "\"tiers\": [\"gold\", \"silver\"], \"minutes\": 90}";
    char text[2048];
    struct cat_catalog *c = NULL;
    const struct cat_item *it;

    (void)state;
    snprintf(text, sizeof(text), cat_fmt, by_tier);
    assert_int_equal(cat_catalog_parse(text, strlen(text), &opts, &c, err, sizeof(err)), 0);
    it = cat_catalog_find(c, "RUSH");
    assert_int_equal(it->cohorts, 3); /* gold, silver, everyone else */
    assert_int_equal(it->n_cohort_tiers, 2);
    /* gold at the opening, silver 30 minutes later, everyone else 60 minutes later, whatever
     * the MSISDN hashes to */
    for (int i = 0; i < 50; i++) {
        char m[16];
        snprintf(m, sizeof(m), "2126123%05d", i);
        assert_int_equal(cat_cohort_release_tier(it, m, "gold", 1000), 1000);
        assert_int_equal(cat_cohort_release_tier(it, m, "silver", 1000), 1000 + 30 * 60);
        assert_int_equal(cat_cohort_release_tier(it, m, "standard", 1000), 1000 + 60 * 60);
        assert_int_equal(cat_cohort_release_tier(it, m, NULL, 1000), 1000 + 60 * 60);
        assert_int_equal(cat_cohort_release(it, m, 1000), 1000 + 60 * 60); /* tier unknown */
    }
    /* the stock comes in the same three tranches */
    assert_int_equal(cat_cohort_held_back(it, 1000, 999), 10);
    assert_int_equal(cat_cohort_held_back(it, 1000, 1000), 10 - 10 / 3);
    assert_int_equal(cat_cohort_held_back(it, 1000, 1000 + 60 * 60), 0);
    cat_catalog_unref(c);

    static const struct {
        const char *opening, *want;
    } bad[] = {
        {", \"opening\": {\"mode\": \"staggered\", \"by\": \"tier\", \"tiers\": [\"platinum\"], "
         "\"minutes\": 60}",
         "items[0].opening.tiers[0]: no loyalty tier \"platinum\""},
        {", \"opening\": {\"mode\": \"staggered\", \"by\": \"tier\", \"tiers\": [\"gold\", "
         "\"gold\"], \"minutes\": 60}",
         "items[0].opening.tiers[1]: \"gold\" is listed twice"},
        {", \"opening\": {\"mode\": \"staggered\", \"by\": \"tier\", \"tiers\": [], "
         "\"minutes\": 60}",
         "items[0].opening.tiers: must be an array of 1 to 8 tier names"},
        {", \"opening\": {\"mode\": \"staggered\", \"by\": \"tier\", \"tiers\": [\"gold\"], "
         "\"cohorts\": 2, \"minutes\": 60}",
         "items[0].opening.cohorts: not with by tier"},
        {", \"opening\": {\"mode\": \"staggered\", \"by\": \"age\", \"minutes\": 60}",
         "items[0].opening.by: must be hash or tier"},
        {", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 2, \"tiers\": [\"gold\"], "
         "\"minutes\": 60}",
         "items[0].opening.tiers: only with by tier"},
        {", \"opening\": {\"mode\": \"fcfs\", \"tiers\": [\"gold\"]}",
         "items[0].opening: cohorts, minutes, by and tiers are for mode staggered only"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), cat_fmt, bad[i].opening);
        c = NULL;
        if (cat_catalog_parse(text, strlen(text), &opts, &c, err, sizeof(err)) != -EINVAL ||
            strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("opening [%s]: error \"%s\", wanted \"%s...\"", bad[i].opening, err,
                     bad[i].want);
        assert_null(c);
    }
}

static void test_cohort__stable_in_range_and_even(void **state)
{
    unsigned count[8] = {0};
    char m[16];

    (void)state;
    /* FNV-1a 32 of the digits then fmix32 is 0x31b2b1a0 (computed with a Python reference): a
     * fixed value, so every process and version agrees */
    assert_int_equal(cat_cohort("212600000001", 1000003), 0x31b2b1a0u * 1000003ull >> 32);
    assert_int_equal(cat_cohort("212600000001", 4), 0); /* 0x31b2b1a0 >> 30 */
    /* consecutive numbers do not share a cohort (plain FNV's high bits barely see the last
     * digit): 2126900000{00..19} in 4 cohorts, from the same reference */
    static const unsigned seq[20] = {2, 1, 3, 0, 0, 0, 1, 0, 2, 3, 1, 3, 3, 3, 2, 2, 1, 2, 0, 2};
    for (unsigned i = 0; i < 20; i++) {
        snprintf(m, sizeof(m), "2126900%05u", i);
        assert_int_equal(cat_cohort(m, 4), seq[i]);
    }
    assert_int_equal(cat_cohort("212600000001", 0), 0);
    assert_int_equal(cat_cohort("212600000001", 1), 0);
    assert_int_equal(cat_cohort(NULL, 4), 0);
    for (unsigned i = 0; i < 40000; i++) {
        msisdn_of(i, m, sizeof(m));
        unsigned k = cat_cohort(m, 8);
        assert_true(k < 8);
        assert_int_equal(cat_cohort(m, 8), k);
        count[k]++;
    }
    /* 5000 expected per cohort: within 10 % (a binomial's sigma is ~66) */
    for (unsigned k = 0; k < 8; k++)
        assert_in_range(count[k], 4500, 5500);
}

/* Over a real calendar window (the Wednesday default, in Casablanca, the next one after the test's
 * now), minute by minute from an hour before the opening to an hour after the period, with the
 * injected "now": a member is released exactly when now >= their slot, cohorts are released in
 * order at their offsets, nobody before the opening and everybody once the period is over. */
static void test_release__swept_over_the_window(void **state)
{
    struct cat_calendar_config cfg;
    struct cat_calendar *cal = NULL;
    struct cat_catalog *c;
    int64_t start = 0;
    enum { MEMBERS = 2000 };
    char m[MEMBERS][16];

    (void)state;
    cat_calendar_config_defaults(&cfg);
    snprintf(cfg.timezone, sizeof(cfg.timezone), "Africa/Casablanca");
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), 0);
    /* the next Wednesday opening after the test's now (any opening will do) */
    assert_int_equal(cat_calendar_next_open(cal, (int64_t)time(NULL), NULL, &start, NULL, NULL), 0);
    assert_int_equal(
        parse(", \"opening\": {\"mode\": \"staggered\", \"cohorts\": 4, \"minutes\": 60}", &c), 0);
    const struct cat_item *it = cat_catalog_find(c, "RUSH");
    for (unsigned i = 0; i < MEMBERS; i++)
        msisdn_of(i, m[i], sizeof(m[i]));

    bool was[MEMBERS] = {false};
    for (int64_t now = start - 3600; now <= start + 2 * 3600; now += 60) {
        unsigned released = 0, by_cohort[4] = {0};
        for (unsigned i = 0; i < MEMBERS; i++) {
            int64_t slot = cat_cohort_release(it, m[i], start);
            unsigned k = cat_cohort(m[i], 4);
            assert_int_equal(slot, start + (int64_t)k * 15 * 60);
            bool is = now >= slot;
            assert_false(was[i] && !is); /* never held back again */
            was[i] = is;
            released += is;
            by_cohort[k] += is;
        }
        int64_t open_cohorts = now < start ? 0 : (now - start) / (15 * 60) + 1;
        if (open_cohorts > 4)
            open_cohorts = 4;
        for (unsigned k = 0; k < 4; k++) {
            if ((int64_t)k < open_cohorts)
                assert_true(by_cohort[k] > 0);
            else
                assert_int_equal(by_cohort[k], 0);
        }
        /* the stock (10) comes in tranches with the cohorts: 10 - 10 * released / 4 held */
        assert_int_equal(cat_cohort_held_back(it, start, now), 10 - 10 * open_cohorts / 4);
        if (now < start)
            assert_int_equal(released, 0);
        if (now >= start + 45 * 60)
            assert_int_equal(released, MEMBERS);
    }
    /* first come first served: everyone at the opening */
    struct cat_item fcfs = *it;
    fcfs.cohorts = 0;
    assert_int_equal(cat_cohort_release(&fcfs, m[0], start), start);
    assert_int_equal(cat_cohort_held_back(&fcfs, start, start - 60), 0);
    struct cat_item unlimited = *it;
    unlimited.stock_per_day = 0;
    assert_int_equal(cat_cohort_held_back(&unlimited, start, start + 60), 0);
    cat_catalog_unref(c);
    cat_calendar_free(cal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opening__catalogue__validated),
        cmocka_unit_test(test_cohort__stable_in_range_and_even),
        cmocka_unit_test(test_tier_cohorts__validated_ordered_everyone_else_last),
        cmocka_unit_test(test_release__swept_over_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
