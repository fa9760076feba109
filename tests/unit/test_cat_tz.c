/*
 * test_cat_tz.c - the TZif reader of catalog/cat_tz.c: zone-name validation, bad files, the exact
 * Casablanca Ramadan transitions of 2026 and 2027 (as `zdump -v Africa/Casablanca` prints them),
 * gap and overlap resolution, POSIX footer rules (built into small in-memory TZif images), and a
 * sweep against glibc's own reading of the same files (the test, unlike the library, may set TZ).
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"

#include "../test_clock.h"

#define utc tc_civil /* UTC instant of civil fields (tests/test_clock.h) */

static struct cat_tz *load(const char *name)
{
    struct cat_tz *tz = NULL;

    assert_int_equal(cat_tz_load(name, &tz), 0);
    assert_non_null(tz);
    return tz;
}

static void test_tz__names__validated(void **state)
{
    struct cat_tz *tz = (struct cat_tz *)1;

    (void)state;
    assert_int_equal(cat_tz_load("../../etc/passwd", &tz), -EINVAL);
    assert_null(tz);
    assert_int_equal(cat_tz_load("/etc/passwd", &tz), -EINVAL);
    assert_int_equal(cat_tz_load("Africa/../Europe/Paris", &tz), -EINVAL);
    assert_int_equal(cat_tz_load("", &tz), -EINVAL);
    assert_int_equal(cat_tz_load("Africa/Casa blanca", &tz), -EINVAL);
    assert_int_equal(cat_tz_load("Africa/Nowhere", &tz), -ENOENT);
    assert_int_equal(cat_tz_load("Africa", &tz), -ENOENT); /* a directory */
    /* "leapseconds" is a regular text file under zoneinfo, but not a zone */
    if (access("/usr/share/zoneinfo/leapseconds", R_OK) == 0)
        assert_int_equal(cat_tz_load("leapseconds", &tz), -EBADMSG);
    assert_int_equal(cat_tz_load("zone1970.tab", &tz), -EINVAL); /* not an IANA name */
    tz = load("Africa/Casablanca");
    assert_string_equal(cat_tz_name(tz), "Africa/Casablanca");
    cat_tz_free(tz);
    cat_tz_free(NULL);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_tz__bad_files__rejected(void **state)
{
    char dir[] = "/tmp/cat_tz_XXXXXX";
    char path[256];
    struct cat_tz *tz = NULL;
    FILE *f;
    unsigned char buf[8192];
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/Bad", dir);
    write_file(path, "NotTZif-at-all, just text\n", 26);
    assert_int_equal(cat_tz_load_dir(dir, "Bad", &tz), -EBADMSG);

    /* A real file cut in the middle of its 64-bit section. */
    f = fopen("/usr/share/zoneinfo/Africa/Casablanca", "rb");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(n > 1000);
    snprintf(path, sizeof(path), "%s/Cut", dir);
    write_file(path, buf, n - 200);
    assert_int_equal(cat_tz_load_dir(dir, "Cut", &tz), -EBADMSG);
    /* The whole file from the test's own directory loads. */
    snprintf(path, sizeof(path), "%s/Whole", dir);
    write_file(path, buf, n);
    assert_int_equal(cat_tz_load_dir(dir, "Whole", &tz), 0);
    cat_tz_free(tz);
    /* Leap-second zones count TAI seconds: refused. */
    if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0)
        assert_int_equal(cat_tz_load("right/UTC", &tz), -ENOTSUP);

    snprintf(path, sizeof(path), "%s/Bad", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Cut", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Whole", dir);
    unlink(path);
    rmdir(dir);
}

/* zdump -v Africa/Casablanca:
 *   Sun Feb 15 01:59:59 2026 UT = 02:59:59 +01   Sun Feb 15 02:00:00 2026 UT = 02:00:00 +00
 *   Sun Mar 22 01:59:59 2026 UT = 01:59:59 +00   Sun Mar 22 02:00:00 2026 UT = 03:00:00 +01
 *   Sun Feb  7 01:59:59 2027 UT = 02:59:59 +01   Sun Feb  7 02:00:00 2027 UT = 02:00:00 +00
 *   Sun Mar 14 01:59:59 2027 UT = 01:59:59 +00   Sun Mar 14 02:00:00 2027 UT = 03:00:00 +01 */
static void test_tz__casablanca__ramadan_transitions_to_the_second(void **state)
{
    struct cat_tz *tz = load("Africa/Casablanca");

    (void)state;
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 2, 15, 1, 59, 59)), 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 2, 15, 2, 0, 0)), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 3, 22, 1, 59, 59)), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 3, 22, 2, 0, 0)), 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2027, 2, 7, 1, 59, 59)), 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2027, 2, 7, 2, 0, 0)), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2027, 3, 14, 1, 59, 59)), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2027, 3, 14, 2, 0, 0)), 3600);
    /* after the table (2087): the footer "<+01>-1" */
    assert_int_equal(cat_tz_utc_offset(tz, utc(2095, 6, 1, 0, 0, 0)), 3600);
    /* absurd instants do not overflow */
    assert_int_equal(cat_tz_utc_offset(tz, INT64_MAX), 3600);
    (void)cat_tz_utc_offset(tz, INT64_MIN);
    cat_tz_free(tz);
}

static void test_tz__casablanca__local_to_utc_in_and_out_of_ramadan(void **state)
{
    struct cat_tz *tz = load("Africa/Casablanca");
    enum cat_tz_fold fold;
    int64_t t;

    (void)state;
    /* A Wednesday in Ramadan (UTC+0) and one before (UTC+1). */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 2, 18, 0, 0, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(t, utc(2026, 2, 18, 0, 0, 0));
    assert_int_equal(fold, CAT_TZ_UNIQUE);
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 2, 11, 0, 0, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(t, utc(2026, 2, 10, 23, 0, 0));
    /* 2026-02-15 02:30 local happens twice: 01:30Z (+01) and 02:30Z (+00). */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 2, 15, 2, 30, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_OVERLAP);
    assert_int_equal(t, utc(2026, 2, 15, 1, 30, 0));
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 2, 15, 2, 30, 0, CAT_TZ_LATER, &t, &fold), 0);
    assert_int_equal(t, utc(2026, 2, 15, 2, 30, 0));
    /* 2026-03-22 02:30 local never happens: the first valid instant after is the jump, 02:00Z. */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 3, 22, 2, 30, 0, CAT_TZ_LATER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_GAP);
    assert_int_equal(t, utc(2026, 3, 22, 2, 0, 0));
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 3, 22, 2, 0, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_GAP);
    assert_int_equal(t, utc(2026, 3, 22, 2, 0, 0));
    /* the edges of the gap exist */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 3, 22, 1, 59, 59, CAT_TZ_LATER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_UNIQUE);
    assert_int_equal(t, utc(2026, 3, 22, 1, 59, 59));
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 3, 22, 3, 0, 0, CAT_TZ_LATER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_UNIQUE);
    assert_int_equal(t, utc(2026, 3, 22, 2, 0, 0));
    /* 2027 */
    assert_int_equal(cat_tz_local_to_utc(tz, 2027, 2, 10, 0, 0, 0, CAT_TZ_EARLIER, &t, NULL), 0);
    assert_int_equal(t, utc(2027, 2, 10, 0, 0, 0));
    assert_int_equal(cat_tz_local_to_utc(tz, 2027, 3, 17, 0, 0, 0, CAT_TZ_EARLIER, &t, NULL), 0);
    assert_int_equal(t, utc(2027, 3, 16, 23, 0, 0));
    cat_tz_free(tz);
}

static void test_tz__paris__gap_and_overlap(void **state)
{
    struct cat_tz *tz = load("Europe/Paris");
    enum cat_tz_fold fold;
    int64_t t;

    (void)state;
    /* 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 3, 29, 2, 30, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_GAP);
    assert_int_equal(t, utc(2026, 3, 29, 1, 0, 0));
    /* 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z */
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 10, 25, 2, 30, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_OVERLAP);
    assert_int_equal(t, utc(2026, 10, 25, 0, 30, 0));
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 10, 25, 2, 30, 0, CAT_TZ_LATER, &t, &fold), 0);
    assert_int_equal(t, utc(2026, 10, 25, 1, 30, 0));
    /* beyond the table of a "slim" file: the footer's rule (2100: last Sundays of March/October) */
    assert_int_equal(cat_tz_local_to_utc(tz, 2100, 3, 28, 2, 30, 0, CAT_TZ_EARLIER, &t, &fold), 0);
    assert_int_equal(fold, CAT_TZ_GAP);
    assert_int_equal(t, utc(2100, 3, 28, 1, 0, 0));
    assert_int_equal(cat_tz_utc_offset(tz, utc(2100, 7, 1, 0, 0, 0)), 7200);
    cat_tz_free(tz);
}

static void test_tz__local_fields__validated(void **state)
{
    struct cat_tz *tz = load("UTC");
    int64_t t;

    (void)state;
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 2, 29, 0, 0, 0, 0, &t, NULL), -EINVAL);
    assert_int_equal(cat_tz_local_to_utc(tz, 2028, 2, 29, 0, 0, 0, 0, &t, NULL), 0);
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 1, 1, 24, 0, 0, 0, &t, NULL), -EINVAL);
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 13, 1, 0, 0, 0, 0, &t, NULL), -EINVAL);
    assert_int_equal(cat_tz_local_to_utc(tz, 0, 1, 1, 0, 0, 0, 0, &t, NULL), -EINVAL);
    assert_int_equal(cat_tz_local_to_utc(tz, 2026, 1, 1, 0, 0, 60, 0, &t, NULL), -EINVAL);
    cat_tz_free(tz);
}

static void test_tz__localtime_and_format(void **state)
{
    struct cat_tz *tz = load("Africa/Casablanca");
    struct cat_tm tm;
    char buf[32];

    (void)state;
    assert_int_equal(cat_tz_localtime(tz, utc(2026, 12, 1, 23, 0, 0), &tm), 0);
    assert_int_equal(tm.year, 2026);
    assert_int_equal(tm.mon, 12);
    assert_int_equal(tm.day, 2);
    assert_int_equal(tm.hour, 0);
    assert_int_equal(tm.wday, 3); /* Wednesday */
    assert_int_equal(tm.utc_offset, 3600);
    assert_string_equal(cat_tz_format_local(tz, utc(2026, 12, 1, 23, 0, 0), buf, sizeof(buf)),
                        "2026-12-02 00:00");
    assert_int_equal(cat_tz_local_date(tz, utc(2026, 12, 1, 22, 59, 59)), 20261201);
    assert_int_equal(cat_tz_local_date(tz, utc(2026, 12, 1, 23, 0, 0)), 20261202);
    assert_int_equal(cat_tz_localtime(tz, INT64_MAX, &tm), -ERANGE);
    /* truncation is bounded */
    assert_string_equal(cat_tz_format_local(tz, utc(2026, 12, 1, 23, 0, 0), buf, 5), "2026");
    cat_tz_free(tz);
}

/* ---------------------------------------------------------------- against glibc */

static int32_t glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    assert_non_null(localtime_r(&tt, &tm));
    return (int32_t)tm.tm_gmtoff;
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Every local time a zone shows maps back to the instant it came from (one of two in an
 * overlap), and our offsets agree with glibc's reading of the same file. */
static void sweep(const struct cat_tz *tz, int64_t from, int64_t to, int64_t step)
{
    for (int64_t t = from; t < to; t += step) {
        struct cat_tm tm;
        enum cat_tz_fold fold;
        int64_t e, l;
        int32_t ours = cat_tz_utc_offset(tz, t), theirs = glibc_offset(t);

        if (ours != theirs)
            fail_msg("%s at %lld: offset %d, glibc %d", cat_tz_name(tz), (long long)t, ours,
                     theirs);
        assert_int_equal(cat_tz_localtime(tz, t, &tm), 0);
        assert_int_equal(cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, tm.hour, tm.min, tm.sec,
                                             CAT_TZ_EARLIER, &e, &fold),
                         0);
        assert_int_equal(cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, tm.hour, tm.min, tm.sec,
                                             CAT_TZ_LATER, &l, NULL),
                         0);
        assert_int_not_equal(fold, CAT_TZ_GAP);
        if (e != t && l != t)
            fail_msg("%s at %lld: local time maps to %lld / %lld", cat_tz_name(tz), (long long)t,
                     (long long)e, (long long)l);
    }
}

static void test_tz__many_zones__agree_with_glibc(void **state)
{
    static const char *const zones[] = {
        "Africa/Casablanca", "Europe/Paris",        "America/New_York",
        "Australia/Sydney",  "Australia/Lord_Howe", "Asia/Tehran",
        "Asia/Kathmandu",    "Pacific/Chatham",     "America/Sao_Paulo",
        "Pacific/Apia",      "America/Nuuk",        "America/Santiago",
        "Asia/Jerusalem",    "Europe/Dublin",       "UTC",
    };
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        struct cat_tz *tz = NULL;

        if (cat_tz_load(zones[i], &tz) == -ENOENT)
            continue; /* not installed here */
        assert_non_null(tz);
        set_tz(zones[i]);
        /* an odd step visits every time of day; 1970..2110 covers table and footer */
        sweep(tz, utc(1970, 1, 1, 0, 0, 0), utc(2110, 1, 1, 0, 0, 0), 6 * 3600 + 7 * 60 + 13);
        cat_tz_free(tz);
    }
    if (saved) {
        set_tz(saved);
        free(saved);
    } else {
        unsetenv("TZ");
        tzset();
    }
}

/* ---------------------------------------------------------------- POSIX footers */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A version-2 TZif image with no transitions, one type (utoff) and the given footer. */
static size_t tzif_footer_only(unsigned char *buf, int32_t utoff, const char *footer)
{
    size_t n = 0;

    for (int section = 0; section < 2; section++) {
        memset(buf + n, 0, 44);
        memcpy(buf + n, "TZif2", 5);
        put32(buf + n + 36, 1); /* typecnt */
        put32(buf + n + 40, 4); /* charcnt */
        n += 44;
        put32(buf + n, (uint32_t)utoff);
        buf[n + 4] = 0;
        buf[n + 5] = 0;
        n += 6;
        memcpy(buf + n, "XXX", 4);
        n += 4;
    }
    buf[n++] = '\n';
    memcpy(buf + n, footer, strlen(footer));
    n += strlen(footer);
    buf[n++] = '\n';
    return n;
}

static void test_tz__posix_footers__agree_with_glibc(void **state)
{
    static const struct {
        const char *rule;
        int32_t std;
    } rules[] = {
        {"CET-1CEST,M3.5.0,M10.5.0/3", 3600},
        {"EST5EDT,M3.2.0,M11.1.0", -5 * 3600},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", 10 * 3600},    /* southern hemisphere */
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -2 * 3600}, /* negative rule time */
        {"IST-2IDT,M3.4.4/26,M10.5.0", 2 * 3600},       /* rule time past 24 h */
        {"IST-1GMT0,M10.5.0,M3.5.0/1", 3600},           /* negative DST (Dublin) */
        {"<+0330>-3:30", 12600},
        {"XXX3YYY,J60/1,300/2", -3 * 3600}, /* Julian and zero-based days */
        {"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 45900},
    };
    unsigned char buf[256];
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct cat_tz *tz = NULL;
        size_t n = tzif_footer_only(buf, rules[i].std, rules[i].rule);

        assert_int_equal(cat_tz_parse(buf, n, rules[i].rule, &tz), 0);
        set_tz(rules[i].rule);
        sweep(tz, utc(1999, 12, 1, 0, 0, 0), utc(2041, 1, 1, 0, 0, 0), 5 * 3600 + 11 * 60 + 7);
        cat_tz_free(tz);
    }
    if (saved) {
        set_tz(saved);
        free(saved);
    } else {
        unsetenv("TZ");
        tzset();
    }
}

/* RFC 8536 s3.3.1: "EST5EDT,0/0,J365/25" is daylight time all year. glibc leaves a few hours of
 * standard time after each UTC new year there; the RFC's reading is the one that holds. */
static void test_tz__posix_footer__permanent_dst(void **state)
{
    unsigned char buf[256];
    struct cat_tz *tz = NULL;
    size_t n = tzif_footer_only(buf, -5 * 3600, "EST5EDT,0/0,J365/25");

    (void)state;
    assert_int_equal(cat_tz_parse(buf, n, "perm", &tz), 0);
    for (int64_t t = utc(1999, 12, 1, 0, 0, 0); t < utc(2031, 1, 1, 0, 0, 0); t += 3 * 3600 + 7)
        assert_int_equal(cat_tz_utc_offset(tz, t), -4 * 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2001, 1, 1, 4, 59, 59)), -4 * 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2001, 1, 1, 5, 0, 0)), -4 * 3600);
    cat_tz_free(tz);
}

/* A footer with DST but no rule gets the US rule since 2007 (second Sunday of March, first of
 * November, 02:00), as glibc does for current years. */
static void test_tz__posix_footer__no_rule_uses_us_default(void **state)
{
    unsigned char buf[256];
    struct cat_tz *tz = NULL;
    size_t n = tzif_footer_only(buf, -5 * 3600, "AAA5BBB");

    (void)state;
    assert_int_equal(cat_tz_parse(buf, n, "us", &tz), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 3, 8, 6, 59, 59)), -5 * 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 3, 8, 7, 0, 0)), -4 * 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 11, 1, 5, 59, 59)), -4 * 3600);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2026, 11, 1, 6, 0, 0)), -5 * 3600);
    cat_tz_free(tz);
}

static void test_tz__bad_footers__rejected(void **state)
{
    static const char *const bad[] = {
        "CE-1",             /* abbreviation too short */
        "CET",              /* no offset */
        "CET-1CEST,M3.5.0", /* one rule */
        "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,J0,J300",
        "CET-1CEST,M3.5.0,M10.5.0/168",
        "<+01-1",
        "CET-25",
        "CET-1CEST,M3.5.0,M10.5.0x",
    };
    unsigned char buf[256];
    struct cat_tz *tz = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = tzif_footer_only(buf, 3600, bad[i]);

        if (cat_tz_parse(buf, n, "x", &tz) != -EBADMSG)
            fail_msg("footer \"%s\" accepted", bad[i]);
    }
    /* an empty footer is allowed (no rule: the last type holds) */
    assert_int_equal(cat_tz_parse(buf, tzif_footer_only(buf, 3600, ""), "x", &tz), 0);
    assert_int_equal(cat_tz_utc_offset(tz, utc(2050, 1, 1, 0, 0, 0)), 3600);
    cat_tz_free(tz);
    /* a missing footer terminator */
    {
        size_t n = tzif_footer_only(buf, 3600, "CET-1");

        assert_int_equal(cat_tz_parse(buf, n - 1, "x", &tz), -EBADMSG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz__names__validated),
        cmocka_unit_test(test_tz__bad_files__rejected),
        cmocka_unit_test(test_tz__casablanca__ramadan_transitions_to_the_second),
        cmocka_unit_test(test_tz__casablanca__local_to_utc_in_and_out_of_ramadan),
        cmocka_unit_test(test_tz__paris__gap_and_overlap),
        cmocka_unit_test(test_tz__local_fields__validated),
        cmocka_unit_test(test_tz__localtime_and_format),
        cmocka_unit_test(test_tz__many_zones__agree_with_glibc),
        cmocka_unit_test(test_tz__posix_footers__agree_with_glibc),
        cmocka_unit_test(test_tz__posix_footer__permanent_dst),
        cmocka_unit_test(test_tz__posix_footer__no_rule_uses_us_default),
        cmocka_unit_test(test_tz__bad_footers__rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
