/*
 * test_whatif_cat.c - the catalogue's what-if (gateway/gw_whatif_cat.c) and the journal's
 * redemption lines (format version 2, gateway/gw_journal.c), each replay checked against a
 * direct recomputation: a draft at twice the prices costs exactly twice, refusals are the
 * redemptions whose balance before the debit is below the new price, a member refused once keeps
 * the points for the next one, an item the draft does not hold is counted apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "gw_journal.h"
#include "gw_whatif_cat.h"

static const char *const tiers[] = {"standard", "gold"};
static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 2};

/* A catalogue of items A (price pa) and B (price pb); pb 0: no B. */
static struct cat_catalog *catalogue(int pa, int pb)
{
    static const char item[] =
        "{\"id\": \"%s\", \"category\": \"sms\", \"names\": {\"ar\": \"a\", \"fr\": \"a\", "
        "\"en\": \"a\", \"fa\": \"a\"}, \"descriptions\": {\"ar\": \"d\", \"fr\": \"d\", \"en\": "
        "\"d\", \"fa\": \"d\"}, \"price\": %d, \"tier\": \"standard\", \"fulfil\": {\"type\": "
        "\"provisioning\", \"kind\": \"sms\", \"quantity\": 10, \"unit\": \"sms\"}}";
    char a[1024], b[1024], text[4096], err[256];
    struct cat_catalog *c = NULL;

    snprintf(a, sizeof(a), item, "A", pa);
    snprintf(b, sizeof(b), item, "B", pb);
    snprintf(text, sizeof(text), "{\"version\": \"t\", \"items\": [%s%s%s]}", a, pb ? "," : "",
             pb ? b : "");
    if (cat_catalog_parse(text, strlen(text), &opts, &c, err, sizeof(err)) != 0)
        fail_msg("test catalogue: %s", err);
    return c;
}

static struct gw_journal_redeem red(const char *msisdn, const char *item, int64_t price,
                                    int64_t balance_after)
{
    struct gw_journal_redeem r = {.commit_ms = 1000, .price = price, .balance = balance_after};
    snprintf(r.msisdn, sizeof(r.msisdn), "%s", msisdn);
    snprintf(r.item, sizeof(r.item), "%s", item);
    return r;
}

static void test_journal__redeem_line__round_trip_and_refusals(void **state)
{
    struct gw_journal_redeem r = red("212612345678", "DATA_1GB", 500, 4500), back;
    char buf[GW_JOURNAL_LINE_MAX];
    static const char *const bad[] = {
        "", "1 D 2126 A 5", "1 D 2126 A 5 0 x", "1 T 2126 A 5 0", "1 D 21x6 A 5 0",
        "1 D 2126 A 0 0", "1 D 2126 A! 5 0", "1 D 2126 A -5 0", "1  D 2126 A 5 0",
        "1 D 2126 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 5 0", "1 D 2126 A 5 1000000000000000000",
        "1 D 1234567890123456 A 5 0",
    };
    int n;

    (void)state;
    n = gw_journal_redeem_format(&r, buf, sizeof(buf));
    assert_true(n > 0);
    assert_string_equal(buf, "1000 D 212612345678 DATA_1GB 500 4500\n");
    /* bytes per redemption: the line itself (an event line is ~65-90) */
    assert_int_equal(n, 38);
    assert_int_equal(gw_journal_redeem_parse(buf, (size_t)n, &back), 0);
    assert_memory_equal(&r, &back, sizeof(r));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gw_journal_redeem_parse(bad[i], strlen(bad[i]), &back) != -EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    /* the event parser refuses redemption lines and the other way round: one reader for both */
    struct gw_journal_rec ev;
    assert_int_equal(gw_journal_parse(buf, (size_t)n, &ev), -EINVAL);
    assert_int_equal(gw_journal_redeem_parse("1 T 212612345678 10 5000 - R1 - c 0", 35, &back),
                     -EINVAL);
    assert_int_equal(gw_journal_header_parse("#lj 2\n", 6), 2);
    assert_int_equal(gw_journal_header_parse("#lj x\n", 6), -EINVAL);
    assert_int_equal(gw_journal_header_parse("#lj 0", 5), -EINVAL);
    r.price = 0;
    assert_int_equal(gw_journal_redeem_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void test_journal__enrol_line__round_trip_and_refusals(void **state)
{
    struct gw_journal_enrol e = {.commit_ms = 1000, .since = 259200}, back;
    char buf[GW_JOURNAL_LINE_MAX];
    static const char *const bad[] = {"", "1 J 2126", "1 J 2126 5 6", "1 K 2126 5", "1 J 21x6 5",
                                      "1 J 2126 -5", "1 J 2126 100000000001", "1 J  2126 5"};
    int n;

    (void)state;
    strcpy(e.msisdn, "212612345678");
    n = gw_journal_enrol_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "1000 J 212612345678 259200\n");
    assert_int_equal(gw_journal_enrol_parse(buf, (size_t)n, &back), 0);
    assert_memory_equal(&e, &back, sizeof(e));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gw_journal_enrol_parse(bad[i], strlen(bad[i]), &back) != -EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    struct gw_journal_redeem r;
    assert_int_equal(gw_journal_redeem_parse(buf, (size_t)n, &r), -EINVAL);
}

static struct gw_whatif_cat_result replay(struct cat_catalog *draft,
                                          const struct gw_journal_redeem *rs, size_t n)
{
    struct gw_whatif_cat *w = gw_whatif_cat_new(draft);
    struct gw_whatif_cat_result res;

    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gw_whatif_cat_feed(w, &rs[i]), 0);
    gw_whatif_cat_result(w, &res);
    gw_whatif_cat_free(w);
    cat_catalog_unref(draft);
    return res;
}

static void test_whatif_cat__same_prices__no_change(void **state)
{
    struct gw_journal_redeem rs[] = {red("1", "A", 100, 0), red("2", "B", 250, 10),
                                     red("1", "B", 250, 5)};
    (void)state;
    struct gw_whatif_cat_result res = replay(catalogue(100, 250), rs, 3);
    assert_int_equal(res.redemptions, 3);
    assert_int_equal(res.members, 2);
    assert_int_equal(res.spent, 600);
    assert_int_equal(res.cost_draft, 600);
    assert_int_equal(res.spent_draft, 600);
    assert_int_equal(res.refused, 0);
}

static void test_whatif_cat__prices_doubled__twice_the_cost_refusals_by_balance(void **state)
{
    /* balance before = after + price: 100+0=100 (<200 refused), 100+150=250 (>=200 ok),
     * 250+250=500 (=500 ok), 250+100=350 (<500 refused) */
    struct gw_journal_redeem rs[] = {red("1", "A", 100, 0), red("2", "A", 100, 150),
                                     red("3", "B", 250, 250), red("4", "B", 250, 100)};
    (void)state;
    struct gw_whatif_cat_result res = replay(catalogue(200, 500), rs, 4);
    assert_int_equal(res.spent, 700);
    assert_int_equal(res.cost_draft, 1400); /* exactly twice */
    assert_int_equal(res.refused, 2);
    assert_int_equal(res.spent_draft, 200 + 500);
    assert_int_equal(res.n_items, 2);
    assert_string_equal(res.items[0].id, "B"); /* the larger change first */
    assert_int_equal(res.items[0].price_draft, 500);
    assert_int_equal(res.items[0].refused, 1);
}

static void test_whatif_cat__refused_once__keeps_the_points_for_the_next(void **state)
{
    /* member 1: 150 before the first (A at 100), 50 left; then B at 100 with 0 left.
     * Draft A 200, B 100: the first is refused (150 < 200), so 150 before the second -> paid. */
    struct gw_journal_redeem rs[] = {red("1", "A", 100, 50), red("1", "B", 50, 0)};
    (void)state;
    struct gw_whatif_cat_result res = replay(catalogue(200, 100), rs, 2);
    assert_int_equal(res.refused, 1);
    assert_int_equal(res.spent_draft, 100);
    /* and a cheaper first one leaves more for the next: A 60 -> 40 kept, B at 130 needs 130 of
     * 0 + 50 + 40 = 90: refused */
    struct gw_journal_redeem rs2[] = {red("1", "A", 100, 50), red("1", "B", 50, 0)};
    res = replay(catalogue(60, 130), rs2, 2);
    assert_int_equal(res.refused, 1);
    assert_int_equal(res.spent_draft, 60);
}

static void test_whatif_cat__item_not_in_draft__counted_apart(void **state)
{
    struct gw_journal_redeem rs[] = {red("1", "A", 100, 0), red("2", "B", 250, 0)};
    (void)state;
    struct gw_whatif_cat_result res = replay(catalogue(100, 0), rs, 2);
    assert_int_equal(res.gone, 1);
    assert_int_equal(res.cost_draft, 100);
    assert_int_equal(res.refused, 0);
}

static void test_whatif_cat__top_changes__largest_spending_change_first_then_by_number(void **state)
{
    /* prices doubled (A 100 -> 200, B 250 -> 500): "3" pays 500 (+250), "4" is refused (-250),
     * "1" is refused (-100), "2" pays 200 (+100) */
    struct gw_journal_redeem rs[] = {red("1", "A", 100, 0), red("2", "A", 100, 150),
                                     red("4", "B", 250, 100), red("3", "B", 250, 250)};
    (void)state;
    struct gw_whatif_cat_result res = replay(catalogue(200, 500), rs, 4);
    static const struct {
        const char *m;
        int64_t base, draft;
    } want[] = {{"3", 250, 500}, {"4", 250, 0}, {"1", 100, 0}, {"2", 100, 200}};
    assert_int_equal(res.n_top, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_string_equal(res.top[i].msisdn, want[i].m);
        assert_int_equal(res.top[i].base, want[i].base);
        assert_int_equal(res.top[i].draft, want[i].draft);
    }
    /* the same prices: nobody's spending changes, nobody listed */
    struct gw_journal_redeem same[] = {red("1", "A", 100, 0), red("2", "B", 250, 10)};
    res = replay(catalogue(100, 250), same, 2);
    assert_int_equal(res.n_top, 0);
    /* twelve members, member k paid 300 - 10 k for A, 200 in the draft: changes |10 k - 100|,
     * 90 (k 1) down to 10 (k 9), 0 (k 10: not listed), 10 (k 11), 20 (k 12); the ten largest:
     * k 1..7, then 20 for "08" and "12" (by number), then 10 for "09" (before "11") */
    struct gw_journal_redeem many[12];
    for (int k = 1; k <= 12; k++) {
        char m[8];
        snprintf(m, sizeof(m), "%02d", k);
        many[k - 1] = red(m, "A", 300 - 10 * k, 100000);
    }
    res = replay(catalogue(200, 0), many, 12);
    static const char *const order[] = {"01", "02", "03", "04", "05", "06", "07", "08", "12", "09"};
    assert_int_equal(res.n_top, GW_WHATIF_CAT_TOP);
    for (unsigned i = 0; i < GW_WHATIF_CAT_TOP; i++)
        assert_string_equal(res.top[i].msisdn, order[i]);
    assert_int_equal(res.top[0].base, 290);
    assert_int_equal(res.top[0].draft, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal__redeem_line__round_trip_and_refusals),
        cmocka_unit_test(test_journal__enrol_line__round_trip_and_refusals),
        cmocka_unit_test(test_whatif_cat__same_prices__no_change),
        cmocka_unit_test(test_whatif_cat__prices_doubled__twice_the_cost_refusals_by_balance),
        cmocka_unit_test(test_whatif_cat__refused_once__keeps_the_points_for_the_next),
        cmocka_unit_test(test_whatif_cat__item_not_in_draft__counted_apart),
        cmocka_unit_test(test_whatif_cat__top_changes__largest_spending_change_first_then_by_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
