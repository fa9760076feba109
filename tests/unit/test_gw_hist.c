/*
 * test_gw_hist.c - the wallet's packed history E (gateway/gw_hist.c): big-endian records as
 * commit.lua's struct.pack('>c6I2BBi4I2') writes them, newest first, the raw line the screens
 * format, the merge with the history list of the release before, untrusted bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gw_days.h"
#include "gw_hist.h"

/* One record as commit.lua packs it. */

/* The test's days: a base day taken from the real clock (a few days ago) and the days after it,
 * so no literal date goes stale; DAY(k) is YYYYMMDD of base + k. */
static int32_t DAY(int k)
{
    static int32_t base;
    if (!base)
        base = gw_days_from_number((int32_t)(time(NULL) / 86400) - 10);
    return gw_days_add(base, k);
}

static void pack(uint8_t *p, uint8_t d0, int32_t ymd, uint8_t kind, char st, int32_t pts,
                 uint16_t rule)
{
    int32_t dn = gw_days_number(ymd);
    uint32_t u = (uint32_t)pts;

    memset(p, d0, 6);
    p[6] = (uint8_t)(dn >> 8);
    p[7] = (uint8_t)dn;
    p[8] = kind;
    p[9] = (uint8_t)st;
    p[10] = (uint8_t)(u >> 24);
    p[11] = (uint8_t)(u >> 16);
    p[12] = (uint8_t)(u >> 8);
    p[13] = (uint8_t)u;
    p[14] = (uint8_t)(rule >> 8);
    p[15] = (uint8_t)rule;
}

static const char *rules(void *arg, uint16_t id)
{
    (void)arg;
    return id == 7 ? "TOPUP 1pt/10MAD" : id == 300 ? "BILL 1pt/20MAD; tier gold x150%" : NULL;
}

static void test_hist__get__newest_first_big_endian(void **state)
{
    uint8_t e[3 * GW_HIST_REC];
    struct gw_hist_rec r;

    (void)state;
    pack(e, 0xa1, DAY(0), GW_HIST_TOPUP, 'c', 5, 7);
    pack(e + 16, 0xb2, DAY(2), GW_HIST_REVERSAL, 'x', -70000, 0);
    pack(e + 32, 0xc3, DAY(4), GW_HIST_BILL, 'c', 123456, 300);
    assert_int_equal(3, gw_hist_count(sizeof(e)));
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 0, &r));
    assert_int_equal(DAY(4), r.day);
    assert_int_equal(GW_HIST_BILL, r.kind);
    assert_int_equal(123456, r.points);
    assert_int_equal(300, r.rule);
    assert_int_equal(0xc3, r.dig[5]);
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 1, &r));
    assert_int_equal(-70000, r.points);
    assert_int_equal('x', r.st);
    assert_string_equal("REVERSAL", gw_hist_kind_name(r.kind));
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 2, &r));
    assert_int_equal(DAY(0), r.day);
    assert_int_equal(-EINVAL, gw_hist_get(e, sizeof(e), 3, &r));
}

static void test_hist__garbage__bad_length_and_kind(void **state)
{
    uint8_t e[2 * GW_HIST_REC];
    struct gw_hist_rec r;
    char line[128];
    char out[4][128];

    (void)state;
    pack(e, 1, DAY(0), 200, 'c', 1, 0);
    pack(e + 16, 1, DAY(0), GW_HIST_TOPUP, 'c', 1, 0);
    assert_int_equal(0, gw_hist_count(17));
    assert_int_equal(-EINVAL, gw_hist_get(e, 17, 0, &r));
    assert_int_equal(0, gw_hist_merge(e, 31, NULL, 0, NULL, NULL, 0, rules, NULL, out[0], 128, 4));
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 1, &r));
    assert_string_equal("OTHER", gw_hist_kind_name(r.kind));
    /* a rule text with control characters is cleaned */
    assert_int_equal(0, gw_hist_line(&r, "a\nb|c", NULL, line, sizeof(line)));
    assert_non_null(strstr(line, "|OTHER|#010101010101|+1||a?b|c"));
    assert_int_equal(-ENOSPC, gw_hist_line(&r, "x", NULL, line, 10));
}

static void test_hist__line__rule_text_and_states(void **state)
{
    uint8_t e[3 * GW_HIST_REC];
    char out[3][160];

    (void)state;
    pack(e, 0xab, DAY(0), GW_HIST_TOPUP, 'v', 0, 7);
    pack(e + 16, 0xab, DAY(1), GW_HIST_REVERSAL, 'x', 0, 0);
    pack(e + 32, 0xab, DAY(2), GW_HIST_BILL, 'c', 15, 300);
    assert_int_equal(
        3, gw_hist_merge(e, sizeof(e), NULL, 0, NULL, NULL, 0, rules, NULL, out[0], 160, 3));
    int64_t noon = (int64_t)gw_days_number(DAY(2)) * 86400 + 43200;
    char want[160];
    snprintf(want, sizeof(want), "%lld|BILL|#abababababab|+15||BILL 1pt/20MAD; tier gold x150%%",
             (long long)noon);
    assert_string_equal(want, out[0]);
    assert_non_null(strstr(out[1], "|REVERSAL|#abababababab|+0||no effect"));
    assert_non_null(strstr(out[2], "|TOPUP|#abababababab|+0||TOPUP 1pt/10MAD; reversed before"));
}

static void test_hist__merge__legacy_list_by_time_bounded(void **state)
{
    uint8_t e[2 * GW_HIST_REC];
    char out[3][160];
    int64_t d1 = (int64_t)gw_days_number(DAY(0)) * 86400, d3 = d1 + 2 * 86400;
    char l0[64], l1[64];

    (void)state;
    pack(e, 1, DAY(1), GW_HIST_TOPUP, 'c', 10, 7);
    pack(e + 16, 2, DAY(3), GW_HIST_TOPUP, 'c', 20, 7);
    /* legacy list, newest first: a redemption on the 3rd, a credit on the 1st, and garbage */
    snprintf(l0, sizeof(l0), "%lld|REDEEM|rid|-5|25|gift", (long long)(d3 + 600));
    snprintf(l1, sizeof(l1), "%lld|TOPUP|old|+20|30|TOPUP 1/10 MAD", (long long)(d1 + 600));
    const char *legacy[] = {l0, "garbage", l1};
    const size_t len[] = {strlen(l0), 7, strlen(l1)};
    size_t n = gw_hist_merge(e, sizeof(e), NULL, 0, legacy, len, 3, rules, NULL, out[0], 160, 3);
    assert_int_equal(3, n);
    assert_non_null(strstr(out[0], "|+20||TOPUP 1pt/10MAD"));
    assert_string_equal(l0, out[1]);
    assert_non_null(strstr(out[2], "|+10||TOPUP 1pt/10MAD"));
    /* the same day: the list's line first (redemptions and staff still write the list) */
    snprintf(l0, sizeof(l0), "%lld|ADJUST|adm|-1|29|staff", (long long)(d3 + 86400 + 60));
    const char *same[] = {l0};
    const size_t slen[] = {strlen(l0)};
    assert_int_equal(
        2, gw_hist_merge(e, sizeof(e), NULL, 0, same, slen, 1, rules, NULL, out[0], 160, 2));
    assert_string_equal(l0, out[0]);
    assert_non_null(strstr(out[1], "|+20||TOPUP 1pt/10MAD"));
    uint16_t ids[4];
    assert_int_equal(1, gw_hist_rule_ids(e, sizeof(e), 4, ids));
    assert_int_equal(7, ids[0]);
}

/* A placeholder (a ref a REVERSAL named before it arrived, state p) is a remembered ref, not a
 * movement: the merge skips it; a reversed original (r) still shows its credit. */
static void test_hist__merge__placeholder_skipped(void **state)
{
    uint8_t e[3 * GW_HIST_REC];
    char out[3][160];

    (void)state;
    pack(e, 1, DAY(1), GW_HIST_TOPUP, 'r', 10, 7);
    pack(e + 16, 2, DAY(2), GW_HIST_OTHER, 'p', 0, 0);
    pack(e + 32, 3, DAY(2), GW_HIST_REVERSAL, 'x', -10, 0);
    size_t n = gw_hist_merge(e, sizeof(e), NULL, 0, NULL, NULL, 0, rules, NULL, out[0], 160, 3);
    assert_int_equal(2, n);
    assert_non_null(strstr(out[0], "|REVERSAL|#030303030303|-10||"));
    assert_non_null(strstr(out[1], "|TOPUP|#010101010101|+10||TOPUP 1pt/10MAD"));
    /* the screen's bound counts movements shown, not records */
    assert_int_equal(
        1, gw_hist_merge(e, sizeof(e), NULL, 0, NULL, NULL, 0, rules, NULL, out[0], 160, 1));
    assert_non_null(strstr(out[0], "|REVERSAL|"));
}

/* One entry of the note field N as core/lua/wallet_hist.lua writes it. */
static size_t note(uint8_t *p, uint8_t d0, uint8_t kind, const char *text)
{
    size_t n = strlen(text);
    memset(p, d0, 6);
    p[6] = kind;
    p[7] = (uint8_t)n;
    memcpy(p + 8, text, n);
    return 8 + n;
}

static const char *gift_rules(void *arg, uint16_t id)
{
    (void)arg;
    return id == 9 ? "gift DATA_1GB (catalogue v3)" : id == 10 ? "refund DATA_1GB" : NULL;
}

/* The movements that are not events: the text by its id in lg:rules, the per-member rest from N
 * keyed by digest and kind (a redemption and its refund share the rid's digest), the same raw
 * lines as the history list wrote them, without the balance. */
static void test_hist__notes__redeem_refund_lines_as_the_list(void **state)
{
    uint8_t e[4 * GW_HIST_REC], n[128];
    char out[4][200], more[64];
    size_t nl = 0;
    struct gw_hist_rec r;

    (void)state;
    pack(e, 0x11, DAY(1), GW_HIST_REDEEM, 'x', -500, 9);
    pack(e + 16, 0x22, DAY(2), GW_HIST_REDEEM, 'x', -500, 9);
    pack(e + 32, 0x22, DAY(3), GW_HIST_REFUND, 'x', 500, 10);
    pack(e + 48, 0x33, DAY(3), GW_HIST_REDEEM, 'x', 0, 0); /* a perk priced 0, no id */
    nl += note(n + nl, 0x22, GW_HIST_REDEEM, " for ...5678");
    nl += note(n + nl, 0x22, GW_HIST_REFUND, ": http 422: not\teligible");
    nl += note(n + nl, 0x33, GW_HIST_REDEEM, "gift X (catalogue v3) for ...0001");
    assert_int_equal(
        4, gw_hist_merge(e, sizeof(e), n, nl, NULL, NULL, 0, gift_rules, NULL, out[0], 200, 4));
    assert_non_null(strstr(out[0], "|REDEEM|#333333333333|-0||gift X (catalogue v3) for ...0001"));
    assert_non_null(
        strstr(out[1], "|REFUND|#222222222222|+500||refund DATA_1GB: http 422: not?eligible"));
    assert_non_null(
        strstr(out[2], "|REDEEM|#222222222222|-500||gift DATA_1GB (catalogue v3) for ...5678"));
    char want[120];
    snprintf(want, sizeof(want), "%lld|REDEEM|#111111111111|-500||gift DATA_1GB (catalogue v3)",
             (long long)gw_days_number(DAY(1)) * 86400 + 43200);
    assert_string_equal(want, out[3]);
    /* the kinds the list wrote, by name */
    assert_string_equal("BONUS", gw_hist_kind_name(GW_HIST_BONUS));
    assert_string_equal("XFER", gw_hist_kind_name(GW_HIST_XFER));
    assert_string_equal("BLOCK", gw_hist_kind_name(GW_HIST_BLOCK));
    assert_string_equal("UNBLOCK", gw_hist_kind_name(GW_HIST_UNBLOCK));
    /* no entry; a malformed N (a length past its end) is read up to the damage only */
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 3, &r));
    assert_int_equal(-ENOENT, gw_hist_note(n, nl, &r, more, sizeof(more)));
    assert_int_equal(-ENOENT, gw_hist_note(NULL, 0, &r, more, sizeof(more)));
    n[7] = 200;
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 1, &r));
    assert_int_equal(-EINVAL, gw_hist_note(n, nl, &r, more, sizeof(more)));
    n[7] = 0;
    assert_int_equal(-EINVAL, gw_hist_note(n, nl, &r, more, sizeof(more)));
    /* a note longer than the caller's buffer is cut */
    n[7] = 12;
    assert_int_equal(0, gw_hist_get(e, sizeof(e), 2, &r));
    assert_int_equal(5, gw_hist_note(n, nl, &r, more, 6));
    assert_string_equal(" for ", more);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist__get__newest_first_big_endian),
        cmocka_unit_test(test_hist__garbage__bad_length_and_kind),
        cmocka_unit_test(test_hist__line__rule_text_and_states),
        cmocka_unit_test(test_hist__merge__legacy_list_by_time_bounded),
        cmocka_unit_test(test_hist__merge__placeholder_skipped),
        cmocka_unit_test(test_hist__notes__redeem_refund_lines_as_the_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
