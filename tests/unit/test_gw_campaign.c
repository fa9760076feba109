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
#include <stdlib.h>
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

/* "retired": read with its days; an id in it is refused for a campaign, named with its day */
static void test_campaigns__retired_ids__listed_and_never_reused(void **state)
{
    static const char ok[] =
        "{\"version\": \"v\", \"campaigns\": [], \"retired\": [{\"id\": \"summer\", \"day\": "
        "\"2026-08-31\"}, {\"id\": \"w1\", \"day\": \"2026-01-02\"}]}";
    char err[256];

    (void)state;
    assert_int_equal(gw_campaigns_parse(ok, strlen(ok), &doc, err, sizeof(err)), 0);
    assert_int_equal(doc.n_retired, 2);
    assert_string_equal(doc.retired[0].id, "summer");
    assert_int_equal(doc.retired[0].day, 20260831);
    assert_int_equal(doc.retired[1].day, 20260102);
    expect_refused("{\"version\": \"v\", \"campaigns\": [{" BASE
                   "\"rule\": \"welcome\", \"points\": 5}], \"retired\": [{\"id\": \"a\", "
                   "\"day\": \"2026-01-02\"}]}",
                   "campaigns[0].id: \"a\" is retired");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"retired\": [{\"id\": \"a\", "
                   "\"day\": \"2026-01-02\"}, {\"id\": \"a\", \"day\": \"2026-01-03\"}]}",
                   "retired[1]: id listed twice");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"retired\": [{\"id\": \"a\"}]}",
                   "retired[0].day");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"retired\": [{\"id\": \"a\", "
                   "\"day\": \"2026-01-02\", \"why\": \"x\"}]}",
                   "retired[0].why: unknown key");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"retired\": {}}", "retired");
    expect_refused("{\"version\": \"v\", \"campaigns\": [], \"retired\": [{\"id\": \"A\", "
                   "\"day\": \"2026-01-02\"}]}",
                   "retired[0].id");
    assert_int_equal(doc.n_retired, 0);
}

#define CAMP(id) "{\"id\": \"" id "\", \"rule\": \"welcome\", " BASE_DAYS "\"points\": 5}"
#define BASE_DAYS "\"start\": \"2026-01-01\", \"end\": \"2026-12-31\", \"budget\": 10, "

/* What the console stores when a document replaces another: removed ids join "retired" with the
 * day, the stored list is kept whatever the editor sent, and a retired id is refused. */
static void test_campaigns_retire__removed_ids__kept_for_ever(void **state)
{
    static const char v1[] = "{\"version\": \"1\", \"campaigns\": [" CAMP("welcome") ","
                             CAMP("spring") "]}";
    static const char v2[] = "{\"version\": \"2\", \"campaigns\": [" CAMP("spring") "]}";
    static const char v3[] = "{\"version\": \"3\", \"campaigns\": [" CAMP("spring") ","
                             CAMP("autumn") "]}";
    static const char v4[] = "{\"version\": \"4\", \"campaigns\": [" CAMP("welcome") "]}";
    char err[320], *out = NULL, *out2 = NULL;

    (void)state;
    /* nothing stored, or nothing removed: stored as sent */
    assert_int_equal(gw_campaigns_retire(NULL, 0, v1, strlen(v1), 20261208, &out, err,
                                         sizeof(err)), 0);
    assert_null(out);
    assert_int_equal(gw_campaigns_retire(v1, strlen(v1), v1, strlen(v1), 20261208, &out, err,
                                         sizeof(err)), 0);
    assert_null(out);
    /* welcome removed: retired today */
    assert_int_equal(gw_campaigns_retire(v1, strlen(v1), v2, strlen(v2), 20261208, &out, err,
                                         sizeof(err)), 0);
    assert_non_null(out);
    assert_int_equal(gw_campaigns_parse(out, strlen(out), &doc, err, sizeof(err)), 0);
    assert_int_equal(doc.n, 1);
    assert_int_equal(doc.n_retired, 1);
    assert_string_equal(doc.retired[0].id, "welcome");
    assert_int_equal(doc.retired[0].day, 20261208);
    /* the editor sends a document without the list: it stays, with its day */
    assert_int_equal(gw_campaigns_retire(out, strlen(out), v3, strlen(v3), 20261215, &out2, err,
                                         sizeof(err)), 0);
    assert_non_null(out2);
    assert_int_equal(gw_campaigns_parse(out2, strlen(out2), &doc, err, sizeof(err)), 0);
    assert_int_equal(doc.n, 2);
    assert_int_equal(doc.n_retired, 1);
    assert_int_equal(doc.retired[0].day, 20261208);
    /* the same document again: as sent */
    char *same = NULL;
    assert_int_equal(gw_campaigns_retire(out2, strlen(out2), out2, strlen(out2), 20261216, &same,
                                         err, sizeof(err)), 0);
    assert_null(same);
    /* welcome again: refused, naming the id and its day (spring and autumn retired meanwhile) */
    assert_int_equal(gw_campaigns_retire(out2, strlen(out2), v4, strlen(v4), 20261216, &same,
                                         err, sizeof(err)), -EINVAL);
    assert_null(same);
    if (!strstr(err, "campaigns[0].id: \"welcome\" was retired on 2026-12-08"))
        fail_msg("error \"%s\"", err);
    free(out);
    free(out2);
}

/* The list is bounded: a retirement past GW_CAMP_RETIRED_MAX is refused, naming the list */
static void test_campaigns_retire__list_full__refused(void **state)
{
    static char stored[GW_CAMP_RETIRED_MAX * 48 + 256];
    static const char next[] = "{\"version\": \"2\", \"campaigns\": []}";
    char err[320], *out = NULL;
    size_t at;

    (void)state;
    at = (size_t)snprintf(stored, sizeof(stored),
                          "{\"version\": \"1\", \"campaigns\": [" CAMP("last") "], \"retired\": [");
    for (int i = 0; i < GW_CAMP_RETIRED_MAX; i++)
        at += (size_t)snprintf(stored + at, sizeof(stored) - at,
                               "%s{\"id\": \"r%d\", \"day\": \"2026-01-02\"}", i ? "," : "", i);
    snprintf(stored + at, sizeof(stored) - at, "]}");
    assert_int_equal(gw_campaigns_parse(stored, strlen(stored), &doc, err, sizeof(err)), 0);
    assert_int_equal(doc.n_retired, GW_CAMP_RETIRED_MAX);
    assert_int_equal(gw_campaigns_retire(stored, strlen(stored), next, strlen(next), 20261208,
                                         &out, err, sizeof(err)),
                     -EINVAL);
    assert_null(out);
    if (!strstr(err, "retired: more than 256"))
        fail_msg("error \"%s\"", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaigns__valid_document__three_rules),
        cmocka_unit_test(test_campaigns__tier_variant__own_points),
        cmocka_unit_test(test_campaigns__bad_documents__refused_with_path),
        cmocka_unit_test(test_offer_text__language_and_placeholders),
        cmocka_unit_test(test_campaigns__retired_ids__listed_and_never_reused),
        cmocka_unit_test(test_campaigns_retire__removed_ids__kept_for_ever),
        cmocka_unit_test(test_campaigns_retire__list_full__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
