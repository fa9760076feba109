/*
 * test_gw_campaign.c - the campaigns document (gateway/gw_campaign.c): a valid document with the
 * three rules, every refusal naming its path, the per-tier variants, the script's tier argument
 * and the win-back offer text in the subscriber's language with its placeholders.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gw_campaign.h"

static const char GOOD[] =
    "{\"version\": \"v1\", \"campaigns\": ["
    "{\"id\": \"welcome\", \"rule\": \"welcome\", \"start\": \"2026-01-01\", \"end\": "
    "\"2027-12-31\", \"budget\": 1000, \"points\": 50, \"tiers\": {\"gold\": 80}},"
    "{\"id\": \"tenure\", \"rule\": \"tenure\", \"start\": \"2026-01-01\", \"end\": "
    "\"2027-12-31\", \"budget\": 1000, \"points\": 100, \"years\": [1, 3, 5], \"label\": "
    "\"years with us\"},"
    "{\"id\": \"wb\", \"rule\": \"winback\", \"start\": \"2026-01-01\", \"end\": \"2027-12-31\", "
    "\"budget\": 5000, \"points\": 40, \"lapse_days\": 60, \"texts\": {\"fr\": \"Rechargez avant "
    "le {date}: +{points} points\", \"en\": \"Recharge by {date}: +{points} points\"}}]}";

static struct gw_campaigns doc;

static void test_campaigns__valid_document__three_rules(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(gw_campaigns_parse(GOOD, strlen(GOOD), &doc, err, sizeof(err)), 0);
    assert_string_equal(doc.version, "v1");
    assert_int_equal(doc.n, 3);
    assert_int_equal(doc.c[0].rule, GW_CAMP_WELCOME);
    assert_int_equal(doc.c[0].start, 20260101);
    assert_int_equal(doc.c[0].end, 20271231);
    assert_string_equal(doc.c[0].label, "welcome bonus");
    assert_int_equal(doc.c[1].n_years, 3);
    assert_int_equal(doc.c[1].years[2], 5);
    assert_string_equal(doc.c[1].label, "years with us");
    assert_int_equal(doc.c[2].lapse_days, 60);
    assert_int_equal(doc.c[2].min_recharges, 3); /* defaults */
    assert_int_equal(doc.c[2].valid_days, 14);
    assert_true(gw_camp_active(&doc.c[0], 20270615));
    assert_false(gw_camp_active(&doc.c[0], 20280101));
    assert_false(gw_camp_active(&doc.c[0], 20251231));
}

static void test_campaigns__tier_variant__own_points(void **state)
{
    char err[256], arg[64];

    (void)state;
    assert_int_equal(gw_campaigns_parse(GOOD, strlen(GOOD), &doc, err, sizeof(err)), 0);
    assert_int_equal(gw_camp_points(&doc.c[0], "gold"), 80);
    assert_int_equal(gw_camp_points(&doc.c[0], "standard"), 50);
    assert_int_equal(gw_camp_points(&doc.c[0], NULL), 50);
    assert_int_equal(gw_camp_tiers_arg(&doc.c[0], arg, sizeof(arg)), 0);
    assert_string_equal(arg, "gold=80");
    assert_int_equal(gw_camp_tiers_arg(&doc.c[0], arg, 4), -ENOSPC);
}

static void expect_refused(const char *text, const char *want)
{
    char err[256];

    assert_int_equal(gw_campaigns_parse(text, strlen(text), &doc, err, sizeof(err)), -EINVAL);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not name \"%s\"", err, want);
    assert_int_equal(doc.n, 0);
}

#define ONE(body) "{\"version\": \"v\", \"campaigns\": [{" body "}]}"
#define BASE "\"id\": \"a\", \"start\": \"2026-01-01\", \"end\": \"2026-12-31\", \"budget\": 10, "

static void test_campaigns__bad_documents__refused_with_path(void **state)
{
    (void)state;
    expect_refused("[]", "document");
    expect_refused("{\"campaigns\": []}", "version");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"x\": 1}", "x: unknown");
    expect_refused(ONE(BASE "\"rule\": \"lottery\", \"points\": 5"), "campaigns[0].rule");
    expect_refused(ONE(BASE "\"rule\": \"birthday\", \"points\": 5"), "campaigns[0].texts");
    expect_refused(ONE(BASE "\"rule\": \"birthday\", \"points\": 5, \"years\": [1], "
                            "\"texts\": {\"en\": \"x\"}"),
                   "campaigns[0].years: unknown key");
    expect_refused(ONE(BASE "\"rule\": \"welcome\""), "campaigns[0].points: missing");
    expect_refused(ONE(BASE "\"rule\": \"welcome\", \"points\": 0"), "campaigns[0].points");
    expect_refused(ONE(BASE "\"rule\": \"welcome\", \"points\": 5, \"years\": [1]"),
                   "campaigns[0].years: unknown key");
    expect_refused(ONE("\"id\": \"a\", \"rule\": \"welcome\", \"start\": \"2026-02-30\", "
                       "\"end\": \"2026-12-31\", \"budget\": 10, \"points\": 5"),
                   "campaigns[0].start");
    expect_refused(ONE("\"id\": \"a\", \"rule\": \"welcome\", \"start\": \"2026-02-03\", "
                       "\"end\": \"2026-02-02\", \"budget\": 10, \"points\": 5"),
                   "campaigns[0].end: before start");
    expect_refused(ONE(BASE "\"rule\": \"tenure\", \"points\": 5, \"years\": [3, 1]"),
                   "campaigns[0].years");
    expect_refused(ONE(BASE "\"rule\": \"winback\", \"points\": 5, \"texts\": {\"de\": \"x\"}"),
                   "campaigns[0].texts.de");
    expect_refused(ONE(BASE "\"rule\": \"welcome\", \"points\": 5, \"tiers\": {\"a,b\": 1}"),
                   "campaigns[0].tiers");
    expect_refused(ONE(BASE "\"rule\": \"welcome\", \"points\": 5, \"label\": \"a|b\\n\""),
                   "campaigns[0].label");
    expect_refused("{\"version\": \"v\", \"campaigns\": [{" BASE "\"rule\": \"welcome\", "
                   "\"points\": 5}, {" BASE "\"rule\": \"welcome\", \"points\": 5}]}",
                   "campaigns[1]: id used twice");
    expect_refused(ONE("\"id\": \"A B\", \"rule\": \"welcome\""), "campaigns[0].id");
}

static void test_offer_text__language_and_placeholders(void **state)
{
    char err[256], out[200];

    (void)state;
    assert_int_equal(gw_campaigns_parse(GOOD, strlen(GOOD), &doc, err, sizeof(err)), 0);
    assert_int_equal(gw_camp_offer_text(&doc.c[2], "en", "fr", 40, 20270105, out, sizeof(out)), 0);
    assert_string_equal(out, "Recharge by 05/01/2027: +40 points");
    /* no Arabic text: the fallback language */
    assert_int_equal(gw_camp_offer_text(&doc.c[2], "ar", "fr", 40, 20270105, out, sizeof(out)), 0);
    assert_string_equal(out, "Rechargez avant le 05/01/2027: +40 points");
    assert_int_equal(gw_camp_offer_text(&doc.c[2], "en", "fr", 40, 20270105, out, 10), -ENOSPC);
    assert_int_equal(gw_camp_offer_text(&doc.c[0], "en", "fr", 40, 20270105, out, sizeof(out)),
                     -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaigns__valid_document__three_rules),
        cmocka_unit_test(test_campaigns__tier_variant__own_points),
        cmocka_unit_test(test_campaigns__bad_documents__refused_with_path),
        cmocka_unit_test(test_offer_text__language_and_placeholders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
