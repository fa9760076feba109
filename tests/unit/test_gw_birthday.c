/*
 * test_gw_birthday.c - the birthday rule's pure parts (gateway/gw_birthday.c): the carrier CSV
 * line parser (BOM, CRLF, header, comments, ';', refusals with the line number) and the day a
 * birthday is celebrated, 29 February included. Every date is computed from this year (the real
 * clock's): the leap year at or before it and a year without 29 February.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gw_birthday.h"
#include "gw_days.h"

static int32_t this_year, leap_year, plain_year, today;

static bool is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int setup(void **state)
{
    time_t t = time(NULL);
    struct tm tm;

    (void)state;
    gmtime_r(&t, &tm);
    this_year = tm.tm_year + 1900;
    today = this_year * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    leap_year = this_year - 1; /* strictly before this year: its 29 February is in the past */
    while (!is_leap(leap_year))
        leap_year--;
    plain_year = leap_year + 1; /* the year after a leap year never has 29 February */
    return 0;
}

static const char *ymd_text(int32_t ymd, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04d-%02d-%02d", (int)(ymd / 10000), (int)(ymd / 100 % 100),
             (int)(ymd % 100));
    return buf;
}

static void test_birthday__29_february__celebrated_28_february_without_one(void **state)
{
    int32_t born = (leap_year - 28) * 10000 + 229; /* 28 years before a leap year: a leap year */

    (void)state;
    while (!is_leap(born / 10000)) /* 2100 is not one: go further back */
        born -= 10000;
    assert_int_equal(gw_birthday_in_year(born, plain_year), plain_year * 10000 + 228);
    assert_int_equal(gw_birthday_in_year(born, leap_year), leap_year * 10000 + 229);
    assert_true(gw_birthday_is_today(born, plain_year * 10000 + 228));
    assert_false(gw_birthday_is_today(born, plain_year * 10000 + 301));
    assert_true(gw_birthday_is_today(born, leap_year * 10000 + 229));
    assert_false(gw_birthday_is_today(born, leap_year * 10000 + 228)); /* not twice */
    /* an ordinary day is the same every year */
    int32_t other = (this_year - 20) * 10000 + 715;
    assert_int_equal(gw_birthday_in_year(other, plain_year), plain_year * 10000 + 715);
    assert_int_equal(gw_birthday_in_year(plain_year * 10000 + 229, leap_year), 0); /* no such date */
}

/* Every day of year y, from gw_days arithmetic (1 January + k). */
static int days_of_year(int32_t y, int32_t *out)
{
    int n = 0;

    for (int32_t d = y * 10000 + 101; d / 10000 == y; d = gw_days_add(d, 1))
        out[n++] = d;
    return n;
}

/* A sweep of years around this one, plus the next century year without 29 February (2100 for
 * this century): every birth month-day is celebrated on exactly one day of each year, that day's
 * index sets (gw_birthday_sets_of_day) hold it, and no other day's do. */
static void test_birthday__sweep_of_years__one_day_each_and_its_index(void **state)
{
    int32_t years[20], days[366];
    int ny = 0;

    (void)state;
    for (int32_t y = this_year - 9; y <= this_year + 9; y++)
        years[ny++] = y;
    int32_t century = (this_year / 100 + 1) * 100;
    while (century % 400 == 0)
        century += 100;
    years[ny++] = century;
    for (int i = 0; i < ny; i++) {
        int32_t y = years[i];
        int nd = days_of_year(y, days);
        assert_int_equal(nd, is_leap(y) ? 366 : 365);
        /* births on every day of a leap year (so 29 February is one of them) */
        for (int b = 0; b < 366; b++) {
            int32_t born = gw_days_add(leap_year * 10000 + 101, b);
            int hits = 0, in_sets = 0;
            for (int k = 0; k < nd; k++) {
                int32_t mmdd[2];
                int n = gw_birthday_sets_of_day(days[k], mmdd);
                bool listed = false;
                assert_true(n == 1 || n == 2);
                for (int j = 0; j < n; j++)
                    listed = listed || mmdd[j] == born % 10000;
                if (gw_birthday_is_today(born, days[k])) {
                    hits++;
                    assert_true(listed); /* the pass of that day reads its set */
                }
                in_sets += listed;
            }
            if (hits != 1 || in_sets != 1)
                fail_msg("born %d, year %d: celebrated %d times, in %d days' sets", (int)born,
                         (int)y, hits, in_sets);
        }
    }
    int32_t mmdd[2];
    assert_int_equal(gw_birthday_sets_of_day(plain_year * 10000 + 228, mmdd), 2);
    assert_int_equal(mmdd[1], 229);
    assert_int_equal(gw_birthday_sets_of_day(leap_year * 10000 + 228, mmdd), 1);
    assert_int_equal(gw_birthday_sets_of_day(plain_year * 10000 + 229, mmdd), 0);
}

static enum gw_bd_line parse(const char *line, unsigned no, char *m, int32_t *d, char *err)
{
    return gw_birthday_csv_line(line, strlen(line), no, today, m, d, err, 128);
}

static void test_birthday_csv__good_lines__records_and_skips(void **state)
{
    char m[16], err[128], line[96], ds[16];
    int32_t d = 0, born = (this_year - 30) * 10000 + 1107;

    (void)state;
    snprintf(line, sizeof(line), "212612345678,%s", ymd_text(born, ds, sizeof(ds)));
    assert_int_equal(parse(line, 2, m, &d, err), GW_BD_RECORD);
    assert_string_equal(m, "212612345678");
    assert_int_equal(d, born);
    snprintf(line, sizeof(line), "\xef\xbb\xbf 212612345679 ; %s \r", ymd_text(born, ds, sizeof(ds)));
    assert_int_equal(parse(line, 1, m, &d, err), GW_BD_RECORD); /* BOM, spaces, ';', CRLF */
    assert_string_equal(m, "212612345679");
    assert_int_equal(parse("msisdn,birth_date", 1, m, &d, err), GW_BD_SKIP);
    assert_int_equal(parse("# from the CRM", 3, m, &d, err), GW_BD_SKIP);
    assert_int_equal(parse("  \r", 4, m, &d, err), GW_BD_SKIP);
    /* 29 February of a leap year is a birth date */
    snprintf(line, sizeof(line), "212612345670,%s", ymd_text(leap_year * 10000 + 229, ds, 16));
    assert_int_equal(parse(line, 5, m, &d, err), GW_BD_RECORD);
}

static void expect_bad(const char *line, unsigned no, const char *want)
{
    char m[16], err[128];
    int32_t d;

    assert_int_equal(parse(line, no, m, &d, err), GW_BD_BAD);
    if (!strstr(err, want))
        fail_msg("\"%s\": error \"%s\" does not say \"%s\"", line, err, want);
}

static void test_birthday_csv__bad_lines__refused_with_line_number(void **state)
{
    char line[96], ds[16];

    (void)state;
    expect_bad("212612345678", 7, "line 7: expected MSISDN,YYYY-MM-DD");
    expect_bad("21261234567a,x", 8, "line 8: the MSISDN");
    expect_bad("1234567,x", 8, "the MSISDN must be 8-15 digits");
    expect_bad("212612345678,1/2/3", 9, "the date must be YYYY-MM-DD");
    snprintf(line, sizeof(line), "212612345678,%04d-02-29", (int)plain_year);
    expect_bad(line, 10, "line 10: no such date");
    snprintf(line, sizeof(line), "212612345678,%s", ymd_text((this_year + 1) * 10000 + 101, ds, 16));
    expect_bad(line, 11, "in the future");
    snprintf(line, sizeof(line), "212612345678,%s", ymd_text((this_year - 121) * 10000 + 101, ds, 16));
    expect_bad(line, 12, "120 years");
    expect_bad("msisdn,birth_date", 2, "line 2: the MSISDN"); /* a header only on line 1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_birthday__29_february__celebrated_28_february_without_one),
        cmocka_unit_test(test_birthday__sweep_of_years__one_day_each_and_its_index),
        cmocka_unit_test(test_birthday_csv__good_lines__records_and_skips),
        cmocka_unit_test(test_birthday_csv__bad_lines__refused_with_line_number),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
