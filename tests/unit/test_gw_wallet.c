/*
 * test_gw_wallet.c - the wallet view behind the USSD "my points"/"history" screens and the
 * balance SMS (gateway/gw_wallet.c), and the MO keyword match of gateway/gw_sms.c: month
 * arithmetic for points expiry (clamped to month ends), which lot expires next (lots past their
 * date skipped, lots clamping to one day summed), untrusted Redis replies ignored or sanitised,
 * history lines localised. Owner: the USSD-wiring engineer (issue 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "gw_config.h"
#include "gw_days.h"
#include "gw_hist.h"
#include "gw_lots.h"
#include "gw_sms.h"
#include "gw_wallet.h"
#include "gw_zone.h"

/* ---------------------------------------------------------------- fake replies */

static redisReply str_reply[64];
static redisReply *str_ptrs[64];
static redisReply arr_reply;

/* An array reply of the given strings (NULL-terminated), built in static storage. */
static const redisReply *array_of(const char *const *items)
{
    size_t n = 0;

    memset(&arr_reply, 0, sizeof(arr_reply));
    for (; items[n]; n++) {
        memset(&str_reply[n], 0, sizeof(str_reply[n]));
        str_reply[n].type = REDIS_REPLY_STRING;
        str_reply[n].str = (char *)items[n];
        str_reply[n].len = strlen(items[n]);
        str_ptrs[n] = &str_reply[n];
    }
    arr_reply.type = REDIS_REPLY_ARRAY;
    arr_reply.elements = n;
    arr_reply.element = str_ptrs;
    return &arr_reply;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0); /* the history's dates */
    return 0;
}

/* ---------------------------------------------------------------- months */

static void test_wallet__add_months__clamps_to_month_end(void **state)
{
    (void)state;
    assert_int_equal(gw_wallet_add_months(20260105, 12), 20270105);
    assert_int_equal(gw_wallet_add_months(20260131, 1), 20260228);
    assert_int_equal(gw_wallet_add_months(20240131, 1), 20240229); /* leap year */
    assert_int_equal(gw_wallet_add_months(20261215, 1), 20270115); /* over the year end */
    assert_int_equal(gw_wallet_add_months(20260331, 11), 20270228);
    assert_int_equal(gw_wallet_add_months(20260105, 0), 20260105);
    assert_int_equal(gw_wallet_add_months(20260230, 1), 0); /* no such day */
    assert_int_equal(gw_wallet_add_months(2026010, 1), 0);
}

/* ---------------------------------------------------------------- the view */

static void test_wallet__view__next_expiry_sums_lots_of_that_day(void **state)
{
    struct gw_wallet_view v;
    static const char *const w[] = {
        "bal",        "1234", "tier",       "gold", "lang", "ar",
        "life",       "5000", "l:20250101", "999", /* expired 2026-01-01 (before today): skipped */
        "l:20260129", "10",                        /* +1 month = 2026-02-28 */
        "l:20260131", "20",                        /* +1 month = 2026-02-28 too: summed */
        "l:20260301", "40",                        /* later */
        "l:20260201", "-5",                        /* negative lot: skipped */
        "l:2026XX01", "7",                         /* not a day: skipped */
        NULL};

    (void)state;
    gw_wallet_view_parse(&v, array_of(w), NULL, 1, 20260210);
    assert_true(v.exists);
    assert_int_equal(v.balance, 1234);
    assert_string_equal(v.tier, "gold");
    assert_string_equal(v.lang, "ar");
    assert_int_equal(v.expiring_day, 20260228);
    assert_int_equal(v.expiring_points, 30);

    /* validity 0: nothing ever expires */
    gw_wallet_view_parse(&v, array_of(w), NULL, 0, 20260210);
    assert_int_equal(v.expiring_points, 0);
}

/* The lots packed in L (gw_lots.h, u16 day + varint records) and a lot field of the release before on the
 * same wallet: the USSD "N points expire on" line reads both and adds them up. */
static void test_wallet__view__next_expiry_from_packed_lots(void **state)
{
    struct gw_wallet_view v;
    static const char *const w[] = {"bal", "100", "L", "", "l:20260131", "5", NULL};
    const int32_t days[3] = {20260129, 20260301, 20260302};
    const uint32_t pts[3] = {10, 40, 70000};
    char l[3 * GW_LOTS_REC_MAX];
    size_t len = 0;
    int64_t n = 0;
    char date[32];

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gw_lots_put(l, sizeof(l), &len, days[i], pts[i]), 0);
    array_of(w);
    str_reply[3].str = l;
    str_reply[3].len = len;
    gw_wallet_view_parse(&v, &arr_reply, NULL, 1, 20260210);
    assert_int_equal(v.expiring_day, 20260228); /* 29 and 31 January + 1 month */
    assert_int_equal(v.expiring_points, 15);    /* 10 in L + 5 in the old field */
    assert_int_equal(gw_wallet_ussd_ops.expiring(&v, "en", &n, date, sizeof(date)), 0);
    assert_int_equal(n, 15);
    gw_wallet_view_parse(&v, &arr_reply, NULL, 1, 20260401);
    assert_int_equal(v.expiring_day, 20260401);
    assert_int_equal(v.expiring_points, 40);

    /* a malformed L (not a whole record) is ignored; the old field still counts */
    str_reply[3].len = sizeof(l) - 1;
    gw_wallet_view_parse(&v, &arr_reply, NULL, 1, 20260210);
    assert_int_equal(v.expiring_points, 5);
}

/* A validity in days (loyalty.points_validity_days): the date is the lot's last valid day, the
 * one the expiry job keeps it through (core/gw_days.h). */
static void test_wallet__view__validity_in_days(void **state)
{
    struct gw_wallet_view v;
    static const char *const w[] = {"bal",        "60", "l:20251201",
                                    "10",               /* last day 2026-01-30 */
                                    "l:20251215", "20", /* last day 2026-02-13 */
                                    "l:20260110", "30", NULL};
    const struct gw_validity sixty = {60, 0};

    (void)state;
    gw_wallet_view_parse_validity(&v, array_of(w), NULL, &sixty, 20260210);
    assert_int_equal(v.expiring_day, 20260213); /* the first lot is past: skipped */
    assert_int_equal(v.expiring_points, 20);
    gw_wallet_view_parse_validity(&v, array_of(w), NULL, &sixty, 20260213); /* still that day */
    assert_int_equal(v.expiring_day, 20260213);
    gw_wallet_view_parse_validity(&v, array_of(w), NULL, &sixty, 20260214);
    assert_int_equal(v.expiring_day, 20260311);
    assert_int_equal(v.expiring_points, 30);
}

static void test_wallet__view__untrusted_fields_ignored(void **state)
{
    struct gw_wallet_view v;
    static const char *const w[] = {"bal",  "12x",     "tier", "gold\n1 Fake option",
                                    "lang", "english", NULL};
    int64_t pts = -1;
    char date[32] = "x", tier[64];

    (void)state;
    gw_wallet_view_parse(&v, array_of(w), NULL, 12, 20260210);
    assert_false(v.exists); /* a balance that does not parse is not a balance */
    assert_int_equal(v.balance, 0);
    assert_string_equal(v.tier, "gold1 Fake option"); /* no line break survives */
    assert_string_equal(v.lang, "");
    assert_int_equal(gw_wallet_ussd_ops.expiring(&v, "fr", &pts, date, sizeof(date)), 0);
    assert_int_equal(pts, 0);
    assert_int_equal(gw_wallet_ussd_ops.tier(&v, "fr", tier, sizeof(tier)), 0);
    assert_string_equal(tier, "gold1 Fake option");

    /* not an array (a wrong type at the key): an empty view */
    redisReply wrong = {.type = REDIS_REPLY_STRING, .str = "bal", .len = 3};
    gw_wallet_view_parse(&v, &wrong, &wrong, 12, 20260210);
    assert_false(v.exists);
    assert_int_equal(v.n_history, 0);
}

static void test_wallet__ops__expiring_date_text(void **state)
{
    struct gw_wallet_view v;
    static const char *const w[] = {"bal", "50", "l:20260105", "300", NULL};
    int64_t pts = 0;
    char date[32];

    (void)state;
    gw_wallet_view_parse(&v, array_of(w), NULL, 12, 20260210);
    assert_int_equal(gw_wallet_ussd_ops.expiring(&v, "fa", &pts, date, sizeof(date)), 0);
    assert_int_equal(pts, 300);
    assert_string_equal(date, "05/01/2027");
}

/* ---------------------------------------------------------------- history */

static void test_wallet__history_line__localised_reason(void **state)
{
    char out[USSD_HISTORY_LINE_MAX];
    /* 2026-01-05 12:00 UTC = 13:00 in Casablanca */
    const char *raw = "1767614400|TOPUP|OCS-1|+300|300|TOPUP 1/10 MAD; enrolled";

    (void)state;
    assert_int_equal(gw_wallet_history_line(raw, "fr", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +300 Recharge");
    assert_int_equal(gw_wallet_history_line(raw, "en", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +300 Top-up");
    assert_int_equal(gw_wallet_history_line(raw, "ar", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +300 تعبئة");
    assert_int_equal(
        gw_wallet_history_line("1767614400|REVERSAL|x|-4|1|reversal of y", "fa", out, sizeof(out)),
        0);
    assert_string_equal(out, "05/01 -4 ابطال");
    /* a kind the table does not know: shown as the ledger wrote it, sanitised */
    assert_int_equal(
        gw_wallet_history_line("1767614400|BONUS\x1b[2J|x|+9|1|n", "fr", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +9 BONUSJ"); /* ESC, [ and 2 dropped */
    /* points held by a velocity cap (gw_hist.h): marked, in the language */
    const char *held = "1767614400|TOPUP|#0a0b0c0d0e0f|+10||TOPUP 1/10 MAD; " GW_HIST_NOTE_HELD;
    assert_int_equal(gw_wallet_history_line(held, "en", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +10 Top-up (held)");
    assert_int_equal(gw_wallet_history_line(held, "fr", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +10 Recharge (retenus)");
    /* an unknown language keeps the kind */
    assert_int_equal(gw_wallet_history_line(raw, "de", out, sizeof(out)), 0);
    assert_string_equal(out, "05/01 +300 TOPUP");
}

static void test_wallet__history_line__garbage_refused(void **state)
{
    char out[USSD_HISTORY_LINE_MAX];

    (void)state;
    assert_int_equal(gw_wallet_history_line("", "fr", out, sizeof(out)), -EINVAL);
    assert_int_equal(gw_wallet_history_line("abc|TOPUP|r|+1|1|n", "fr", out, sizeof(out)), -EINVAL);
    assert_int_equal(gw_wallet_history_line("1767614400|TOPUP|r|+1", "fr", out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(gw_wallet_history_line("1767614400|||+1|1|n", "fr", out, sizeof(out)),
                     -EINVAL);
}

static void test_wallet__history_op__skips_bad_entries(void **state)
{
    struct gw_wallet_view v;
    static const char *const h[] = {"1767614400|BILL|r2|+20|320|BILL", "junk",
                                    "1767614400|TOPUP|r1|+300|300|TOPUP", NULL};
    char lines[USSD_HISTORY_MAX][USSD_HISTORY_LINE_MAX];
    size_t n = 0;

    (void)state;
    gw_wallet_view_parse(&v, NULL, array_of(h), 0, 0);
    assert_int_equal(v.n_history, 3);
    assert_int_equal(gw_wallet_ussd_ops.history(&v, "en", lines, USSD_HISTORY_MAX, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0], "05/01 +20 Bill");
    assert_string_equal(lines[1], "05/01 +300 Top-up");
}

/* ---------------------------------------------------------------- MO keywords */

static void test_sms__keywords__trimmed_and_case_insensitive(void **state)
{
    struct gw_config *cfg = malloc(sizeof(*cfg));

    (void)state;
    assert_non_null(cfg);
    gw_config_defaults(cfg);
#define KW(s) gw_sms_is_keyword(cfg, s, strlen(s))
    assert_true(KW("BAL"));
    assert_true(KW("bal"));
    assert_true(KW("  Solde \r\n"));
    assert_true(KW("رصيد"));
    assert_true(KW(" امتیاز"));
    assert_false(KW("BALANCE"));
    assert_false(KW("BA"));
    assert_false(KW(""));
    assert_false(KW("   "));
    assert_false(KW("SOLDE SVP"));
#undef KW
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallet__add_months__clamps_to_month_end),
        cmocka_unit_test(test_wallet__view__next_expiry_sums_lots_of_that_day),
        cmocka_unit_test(test_wallet__view__next_expiry_from_packed_lots),
        cmocka_unit_test(test_wallet__view__validity_in_days),
        cmocka_unit_test(test_wallet__view__untrusted_fields_ignored),
        cmocka_unit_test(test_wallet__ops__expiring_date_text),
        cmocka_unit_test(test_wallet__history_line__localised_reason),
        cmocka_unit_test(test_wallet__history_line__garbage_refused),
        cmocka_unit_test(test_wallet__history_op__skips_bad_entries),
        cmocka_unit_test(test_sms__keywords__trimmed_and_case_insensitive),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
