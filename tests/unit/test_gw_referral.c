/*
 * test_gw_referral.c - the referral rule's pure decisions (gateway/gw_referral.c): the number
 * typed on the handset, every refusal (self, member, taken, loops of 2 and 4, the monthly cap, a
 * blocked referrer), a repeated referral, and the qualifying recharge's window across month and
 * year ends and 29 February, with days computed from this year (no literal dates).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gw_days.h"
#include "gw_referral.h"

#define A "212600000001"
#define B "212600000002"
#define C "212600000003"
#define D "212600000004"

static struct gw_ref_facts facts(void)
{
    struct gw_ref_facts f;

    memset(&f, 0, sizeof(f));
    snprintf(f.referrer, sizeof(f.referrer), "%s", A);
    return f;
}

static void test_referral_number__handset_forms__normalised_or_refused(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(gw_referral_number("212612345678", 12, out), 0);
    assert_string_equal(out, "212612345678");
    assert_int_equal(gw_referral_number("+212 612 345 678", 16, out), 0);
    assert_string_equal(out, "212612345678");
    assert_int_equal(gw_referral_number("00212612345678", 14, out), 0);
    assert_string_equal(out, "212612345678");
    assert_int_equal(gw_referral_number("0612345678", 10, out), -EINVAL); /* national: no guess */
    assert_int_equal(gw_referral_number("1234567", 7, out), -EINVAL);
    assert_int_equal(gw_referral_number("2126123456789012", 16, out), -EINVAL);
    assert_int_equal(gw_referral_number("21261234567a", 12, out), -EINVAL);
    assert_int_equal(gw_referral_number("", 0, out), -EINVAL);
    /* never reads past len */
    assert_int_equal(gw_referral_number("212612345678999", 12, out), 0);
    assert_string_equal(out, "212612345678");
}

static void test_referral_decide__each_refusal__its_own_outcome(void **state)
{
    struct gw_ref_facts f = facts();

    (void)state;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_OK);
    assert_int_equal(gw_referral_decide(&f, "0612", 5), GW_REF_BAD_NUMBER);
    assert_int_equal(gw_referral_decide(&f, A, 5), GW_REF_SELF);
    f.referee_member = true;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_MEMBER);
    f = facts();
    f.referee_pending = true;
    snprintf(f.referee_pending_by, sizeof(f.referee_pending_by), "%s", C);
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_TAKEN);
    snprintf(f.referee_pending_by, sizeof(f.referee_pending_by), "%s", A);
    f.referrer_month_count = 5;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_OK); /* the same referral: counted once */
    f = facts();
    f.referrer_month_count = 5;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_CAP);
    f.referrer_month_count = 4;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_OK);
    f.referrer_blocked = true;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_BLOCKED);
    assert_int_equal(gw_referral_decide(&f, A, 5), GW_REF_BLOCKED); /* blocked first */
    assert_string_equal(gw_referral_outcome_name(GW_REF_LOOP), "loop");
    assert_string_equal(gw_referral_outcome_name(GW_REF__OUTCOMES), "?");
}

static void test_referral_decide__loops__refused_up_the_chain(void **state)
{
    struct gw_ref_facts f = facts();

    (void)state;
    /* B referred A: A may not refer B (A->B->A) */
    snprintf(f.chain[0], sizeof(f.chain[0]), "%s", B);
    f.n_chain = 1;
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_LOOP);
    assert_int_equal(gw_referral_decide(&f, C, 5), GW_REF_OK);
    f.referee_member = true; /* B is a member by now: the screen still says "loop" */
    assert_int_equal(gw_referral_decide(&f, B, 5), GW_REF_LOOP);
    f.referee_member = false;
    /* D referred C who referred B who referred A: A may not refer D */
    snprintf(f.chain[1], sizeof(f.chain[1]), "%s", C);
    snprintf(f.chain[2], sizeof(f.chain[2]), "%s", D);
    f.n_chain = 3;
    assert_int_equal(gw_referral_decide(&f, D, 5), GW_REF_LOOP);
    assert_int_equal(gw_referral_decide(&f, C, 5), GW_REF_LOOP);
    assert_int_equal(gw_referral_decide(&f, "212600000005", 5), GW_REF_OK);
}

static void test_referral_qualifies__window_across_year_and_29_february(void **state)
{
    time_t now = time(NULL);
    struct tm tm;
    int32_t y, leap;

    (void)state;
    gmtime_r(&now, &tm);
    y = tm.tm_year + 1900;
    for (leap = y; !((leap % 4 == 0 && leap % 100 != 0) || leap % 400 == 0); leap++)
        ;
    /* referred on 20 December, 30 days: through 19 January of the next year */
    int32_t dec20 = y * 10000 + 1220, jan19 = (y + 1) * 10000 + 119, jan20 = (y + 1) * 10000 + 120;
    assert_true(gw_referral_qualifies(dec20, 30, jan19, true, 50000, 50000));
    assert_false(gw_referral_qualifies(dec20, 30, jan20, true, 50000, 50000));
    assert_false(gw_referral_qualifies(dec20, 30, jan19, false, 50000, 50000)); /* not the first */
    assert_false(gw_referral_qualifies(dec20, 30, jan19, true, 49999, 50000));  /* too small */
    assert_false(gw_referral_qualifies(dec20, 30, gw_days_add(dec20, -1), true, 50000, 50000));
    assert_true(gw_referral_qualifies(dec20, 0, dec20, true, 50000, 50000)); /* the same day */
    /* 1 day after 28 February of a leap year is 29 February */
    assert_true(gw_referral_qualifies(leap * 10000 + 228, 1, leap * 10000 + 229, true, 1, 1));
    assert_false(gw_referral_qualifies(leap * 10000 + 228, 1, leap * 10000 + 301, true, 1, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_referral_number__handset_forms__normalised_or_refused),
        cmocka_unit_test(test_referral_decide__each_refusal__its_own_outcome),
        cmocka_unit_test(test_referral_decide__loops__refused_up_the_chain),
        cmocka_unit_test(test_referral_qualifies__window_across_year_and_29_february),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
