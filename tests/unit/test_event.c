/*
 * test_event.c - the carrier event parser (gateway/gw_event.c) against ../shared/spec/events.md:
 * every field rule, both spec examples, and hostile input. The clock is fixed: NOW is
 * 2026-11-25T12:00:00Z, so age and future limits are exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_event.h"

#define NOW INT64_C(1795608000)     /* 2026-11-25T12:00:00Z */
#define AT_SPEC INT64_C(1795601700) /* 2026-11-25T10:15:00Z */

static const char spec_topup[] = "TOPUP ref=OCS-20261125-0000001 msisdn=212612345678 amount=50.00 "
                                 "currency=MAD at=2026-11-25T10:15:00Z channel=voucher";
static const char spec_reversal[] = "REVERSAL ref=OCS-20261125-0000077 msisdn=212612345678 "
                                    "orig=OCS-20261125-0000001 at=2026-11-25T11:00:00Z";

struct fixture {
    struct gw_event_format fmt;
    struct gw_event_limits lim;
    struct gw_event ev;
    char err[256];
};

static struct fixture fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    gw_event_format_default(&fx.fmt);
    gw_event_limits_default(&fx.lim);
    return 0;
}

static int parse_n(const void *text, size_t len)
{
    return gw_event_parse(&fx.fmt, &fx.lim, text, len, NOW, &fx.ev, fx.err, sizeof(fx.err));
}

static int parse(const char *text)
{
    return parse_n(text, strlen(text));
}

/* printf into a static buffer: tests build texts from a base and one changed field */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
    static char buf[4096];
    va_list ap;

    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

#define TOPUP_AMOUNT(a)                                                                            \
    fmt("TOPUP ref=R1 msisdn=212612345678 amount=%s currency=MAD "                                 \
        "at=2026-11-25T10:15:00Z",                                                                 \
        a)
#define TOPUP_AT(a) fmt("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD at=%s", a)

static void assert_accepted(const char *text)
{
    int rc = parse(text);

    if (rc != 0)
        fail_msg("rejected '%s': %s", text, fx.err);
}

static void assert_rejected(const char *text, const char *reason)
{
    int rc = parse(text);

    if (rc != -EINVAL)
        fail_msg("accepted '%s'", text);
    if (!strstr(fx.err, reason))
        fail_msg("'%s': reason '%s' lacks '%s'", text, fx.err, reason);
}

/* ---------------------------------------------------------------- the spec's examples */

static void test_event__spec_topup_example__accepted(void **state)
{
    (void)state;
    assert_accepted(spec_topup);
    assert_int_equal(fx.ev.kind, GW_EV_TOPUP);
    assert_string_equal(fx.ev.ref, "OCS-20261125-0000001");
    assert_string_equal(fx.ev.msisdn, "212612345678");
    assert_int_equal(fx.ev.amount_milli, 50000);
    assert_string_equal(fx.ev.currency, "MAD");
    assert_int_equal(fx.ev.at, AT_SPEC);
    assert_string_equal(fx.ev.channel, "voucher");
    assert_string_equal(fx.ev.period, "");
    assert_string_equal(fx.ev.orig, "");
    assert_int_equal(fx.ev.n_unknown, 0);
    assert_string_equal(fx.err, "");
}

static void test_event__spec_reversal_example__accepted(void **state)
{
    (void)state;
    assert_accepted(spec_reversal);
    assert_int_equal(fx.ev.kind, GW_EV_REVERSAL);
    assert_string_equal(fx.ev.ref, "OCS-20261125-0000077");
    assert_string_equal(fx.ev.orig, "OCS-20261125-0000001");
    assert_int_equal(fx.ev.amount_milli, 0);
    assert_string_equal(fx.ev.currency, "");
    assert_int_equal(fx.ev.at, AT_SPEC + 45 * 60);
}

static void test_event__bill_and_usage_with_period__accepted(void **state)
{
    (void)state;
    assert_accepted("BILL ref=B-1 msisdn=212612345678 amount=349.99 currency=MAD "
                    "at=2026-11-25T09:00:00Z period=2026-10");
    assert_int_equal(fx.ev.kind, GW_EV_BILL);
    assert_int_equal(fx.ev.amount_milli, 349990);
    assert_string_equal(fx.ev.period, "2026-10");
    assert_accepted("USAGE period=2026-10 at=2026-11-25T09:00:00Z currency=MAD amount=120 "
                    "msisdn=212612345678 ref=U-1");
    assert_int_equal(fx.ev.kind, GW_EV_USAGE);
    assert_int_equal(fx.ev.amount_milli, 120000);
}

/* ---------------------------------------------------------------- required keys */

static void test_event__each_required_key_missing__rejected_naming_it(void **state)
{
    static const struct {
        const char *kind;
        const char *keys[6];
        const char *values[6];
    } cases[] = {
        {"TOPUP",
         {"ref", "msisdn", "amount", "currency", "at"},
         {"R1", "212612345678", "10", "MAD", "2026-11-25T10:15:00Z"}},
        {"BILL",
         {"ref", "msisdn", "amount", "currency", "at", "period"},
         {"R1", "212612345678", "10", "MAD", "2026-11-25T10:15:00Z", "2026-10"}},
        {"USAGE",
         {"ref", "msisdn", "amount", "currency", "at", "period"},
         {"R1", "212612345678", "10", "MAD", "2026-11-25T10:15:00Z", "2026-10"}},
        {"REVERSAL",
         {"ref", "msisdn", "orig", "at"},
         {"R1", "212612345678", "R0", "2026-11-25T10:15:00Z"}},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t nkeys = 0;

        while (nkeys < 6 && cases[c].keys[nkeys])
            nkeys++;
        for (size_t skip = 0; skip <= nkeys; skip++) {
            char text[512], want[64];
            size_t used = (size_t)snprintf(text, sizeof(text), "%s", cases[c].kind);

            for (size_t i = 0; i < nkeys; i++) {
                if (i != skip)
                    used += (size_t)snprintf(text + used, sizeof(text) - used, " %s=%s",
                                             cases[c].keys[i], cases[c].values[i]);
            }
            if (skip == nkeys) {
                assert_accepted(text); /* all present */
                continue;
            }
            snprintf(want, sizeof(want), "%s: missing", cases[c].keys[skip]);
            assert_rejected(text, want);
        }
    }
}

/* ---------------------------------------------------------------- ref / orig */

static void test_event__ref_64_chars_and_full_charset__accepted(void **state)
{
    char ref[65];

    (void)state;
    memset(ref, 'a', 64);
    ref[64] = '\0';
    memcpy(ref, "Az09._:-", 8);
    assert_accepted(fmt("TOPUP ref=%s msisdn=212612345678 amount=1 currency=MAD "
                        "at=2026-11-25T10:15:00Z",
                        ref));
    assert_string_equal(fx.ev.ref, ref);
}

static void test_event__ref_65_chars__rejected(void **state)
{
    char ref[66];

    (void)state;
    memset(ref, 'a', 65);
    ref[65] = '\0';
    assert_rejected(fmt("TOPUP ref=%s msisdn=212612345678 amount=1 currency=MAD "
                        "at=2026-11-25T10:15:00Z",
                        ref),
                    "ref: 65 characters");
}

static void test_event__ref_bad_character__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref=a/b msisdn=212612345678 amount=1 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "ref: character '/' not allowed");
    assert_rejected("TOPUP ref=a=b msisdn=212612345678 amount=1 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "ref: character '=' not allowed");
    assert_rejected("REVERSAL ref=R2 msisdn=212612345678 orig=x* at=2026-11-25T10:15:00Z",
                    "orig: character '*'");
}

static void test_event__ref_given_twice__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref=A ref=A msisdn=212612345678 amount=1 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "ref: given twice");
    assert_rejected("TOPUP ref=A msisdn=212612345678 amount=1 amount=2 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "amount: given twice");
}

/* ---------------------------------------------------------------- msisdn */

#define TOPUP_MSISDN(m)                                                                            \
    fmt("TOPUP ref=R1 msisdn=%s amount=10 currency=MAD "                                           \
        "at=2026-11-25T10:15:00Z",                                                                 \
        m)

static void test_event__msisdn_8_and_15_digits__accepted(void **state)
{
    (void)state;
    assert_accepted(TOPUP_MSISDN("21261234"));
    assert_string_equal(fx.ev.msisdn, "21261234");
    assert_accepted(TOPUP_MSISDN("212612345678901"));
    assert_string_equal(fx.ev.msisdn, "212612345678901");
}

static void test_event__msisdn_7_or_16_digits__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_MSISDN("2126123"), "msisdn: 7 digits");
    assert_rejected(TOPUP_MSISDN("2126123456789012"), "msisdn: 16 digits");
}

static void test_event__msisdn_plus_or_separator__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_MSISDN("+212612345678"), "msisdn: digits only");
    assert_rejected(TOPUP_MSISDN("212-612345678"), "msisdn: digits only");
}

static void test_event__msisdn_foreign_prefix__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_MSISDN("33612345678"), "msisdn: does not start with a configured");
}

static void test_event__msisdn_second_configured_prefix__accepted(void **state)
{
    (void)state;
    snprintf(fx.lim.country_prefixes[1], sizeof(fx.lim.country_prefixes[1]), "33");
    fx.lim.n_prefixes = 2;
    assert_accepted(TOPUP_MSISDN("33612345678"));
    assert_rejected(TOPUP_MSISDN("34612345678"), "msisdn:");
}

/* ---------------------------------------------------------------- amount */

static void test_event__amount_forms__parsed_to_thousandths(void **state)
{
    static const struct {
        const char *text;
        int64_t milli;
    } ok[] = {
        {"50", 50000},
        {"50.00", 50000},
        {"50.5", 50500},
        {"0.005", 5},
        {"0.1", 100},
        {"0050", 50000},
        {"99999.999", 99999999},
        {"100000", 100000000},
        {"100000.000", 100000000},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_accepted(TOPUP_AMOUNT(ok[i].text));
        assert_int_equal(fx.ev.amount_milli, ok[i].milli);
    }
}

static void test_event__amount_4_decimals__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_AMOUNT("50.0001"), "amount: more than 3 fraction digits");
    assert_rejected(TOPUP_AMOUNT("50.0000"), "amount: more than 3 fraction digits");
}

static void test_event__amount_zero__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_AMOUNT("0"), "amount: must be greater than 0");
    assert_rejected(TOPUP_AMOUNT("0.000"), "amount: must be greater than 0");
}

static void test_event__amount_sign__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_AMOUNT("-5"), "amount: sign not allowed");
    assert_rejected(TOPUP_AMOUNT("+5"), "amount: sign not allowed");
}

static void test_event__amount_exponent__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_AMOUNT("1e3"), "amount: exponent not allowed");
    assert_rejected(TOPUP_AMOUNT("1.5E2"), "amount: exponent not allowed");
}

static void test_event__amount_malformed__rejected(void **state)
{
    static const char *const bad[] = {".5",   "5.",  "1,5", "1.2.3", "0x10",
                                      "5MAD", "inf", "NaN", "1 000"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *text = TOPUP_AMOUNT(bad[i]);

        assert_int_equal(parse(text), -EINVAL);
        if (strncmp(fx.err, "amount:", 7) != 0 && strncmp(fx.err, "event:", 6) != 0)
            fail_msg("'%s': unexpected reason '%s'", bad[i], fx.err);
    }
}

static void test_event__amount_above_maximum__rejected(void **state)
{
    (void)state;
    assert_rejected(TOPUP_AMOUNT("100000.001"), "amount: above the maximum 100000");
    /* far beyond int64: must say "above the maximum", not overflow into something small */
    assert_rejected(TOPUP_AMOUNT("99999999999999999999999999999999999999"),
                    "amount: above the maximum");
    assert_rejected(TOPUP_AMOUNT("18446744073709551616.5"), "amount: above the maximum");
    fx.lim.max_amount_milli = 1500;
    assert_rejected(TOPUP_AMOUNT("1.501"), "amount: above the maximum 1.5");
    assert_accepted(TOPUP_AMOUNT("1.500"));
}

static void test_event__amount_many_leading_zeros__no_overflow(void **state)
{
    char amount[300];

    (void)state;
    memset(amount, '0', 250);
    snprintf(amount + 250, sizeof(amount) - 250, "7.25");
    assert_accepted(TOPUP_AMOUNT(amount));
    assert_int_equal(fx.ev.amount_milli, 7250);
}

static void test_event__amount_near_int64_max__exact(void **state)
{
    int64_t out = 0;
    const char *reason = NULL;

    (void)state;
    assert_int_equal(gw_parse_amount_milli("9223372036854775.807", 20, INT64_MAX, &out, &reason),
                     0);
    assert_true(out == INT64_MAX);
    assert_int_equal(gw_parse_amount_milli("9223372036854775.808", 20, INT64_MAX, &out, &reason),
                     -ERANGE);
    assert_int_equal(gw_parse_amount_milli("9223372036854776", 16, INT64_MAX, &out, &reason),
                     -ERANGE);
}

/* ---------------------------------------------------------------- currency */

static void test_event__currency_other_than_configured__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=EUR "
                    "at=2026-11-25T10:15:00Z",
                    "currency: 'EUR' is not the configured MAD");
    assert_rejected("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=mad "
                    "at=2026-11-25T10:15:00Z",
                    "currency:");
    assert_rejected("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MADX "
                    "at=2026-11-25T10:15:00Z",
                    "currency:");
}

/* ---------------------------------------------------------------- at */

static void test_event__at_offsets__converted_to_utc(void **state)
{
    (void)state;
    assert_accepted(TOPUP_AT("2026-11-25T11:15:00+01:00"));
    assert_int_equal(fx.ev.at, AT_SPEC);
    assert_accepted(TOPUP_AT("2026-11-25T04:45:00-05:30"));
    assert_int_equal(fx.ev.at, AT_SPEC);
    assert_accepted(TOPUP_AT("2026-11-25T10:15:00-00:00"));
    assert_int_equal(fx.ev.at, AT_SPEC);
    /* crossing midnight backwards through an offset */
    assert_accepted(TOPUP_AT("2026-11-26T00:15:00+14:00"));
    assert_int_equal(fx.ev.at, AT_SPEC);
}

static void test_event__at_fraction_and_lowercase__accepted(void **state)
{
    (void)state;
    assert_accepted(TOPUP_AT("2026-11-25T10:15:00.999Z"));
    assert_int_equal(fx.ev.at, AT_SPEC);
    assert_accepted(TOPUP_AT("2026-11-25t10:15:00.123456789z"));
    assert_int_equal(fx.ev.at, AT_SPEC);
}

static void test_event__at_without_zone_or_malformed__rejected(void **state)
{
    static const char *const bad[] = {
        "2026-11-25T10:15:00",
        "2026-11-25",
        "2026-11-25T10:15Z",
        "2026-11-25T10:15:00+0100",
        "2026-11-25T10:15:00+1",
        "2026-11-25T10:15:00.Z",
        "2026-11-25T10:15:00.1234567890Z",
        "2026/11/25T10:15:00Z",
        "2026-11-25X10:15:00Z",
        "1795601700",
        "2026-11-25T10:15:00+24:00",
        "2026-11-25T10:15:00+01:60",
        "2026-11-25T10:15:00ZZ",
        "+2026-11-25T10:15:00Z",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_rejected(TOPUP_AT(bad[i]), "at: not an RFC 3339 time");
}

static void test_event__at_field_ranges__checked(void **state)
{
    static const char *const bad[] = {
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-00T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:60:00Z",
        "2026-11-25T10:15:61Z",
    };
    int64_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_parse_rfc3339(bad[i], strlen(bad[i]), &t), -EINVAL);
    /* a leap second is valid RFC 3339 and lands on the next minute's :00 */
    assert_int_equal(gw_parse_rfc3339("2016-12-31T23:59:60Z", 20, &t), 0);
    assert_int_equal(t, 1483228800);
}

static void test_event__at_leap_days(void **state)
{
    int64_t t;

    (void)state;
    assert_int_equal(gw_parse_rfc3339("2024-02-29T00:00:00Z", 20, &t), 0);
    assert_int_equal(t, 1709164800);
    assert_int_equal(gw_parse_rfc3339("2000-02-29T00:00:00Z", 20, &t), 0);
    assert_int_equal(t, 951782400);
    assert_int_equal(gw_parse_rfc3339("2025-02-29T00:00:00Z", 20, &t), -EINVAL);
    assert_int_equal(gw_parse_rfc3339("2100-02-29T00:00:00Z", 20, &t), -EINVAL);
    assert_int_equal(gw_parse_rfc3339("1900-02-29T00:00:00Z", 20, &t), -EINVAL);
    /* day after a leap day */
    assert_int_equal(gw_parse_rfc3339("2024-03-01T00:00:00Z", 20, &t), 0);
    assert_int_equal(t, 1709164800 + 86400);
}

static void test_event__at_matches_timegm_over_centuries(void **state)
{
    (void)state;
    /* our days-from-civil against glibc's timegm (TZ-independent), every 7th day + odd times */
    for (int64_t t = -2208988800; t < 7258118400; t += 7 * 86400 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        char s[32];
        int64_t got;

        gmtime_r(&tt, &tm);
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
        assert_int_equal(gw_parse_rfc3339(s, strlen(s), &got), 0);
        if (got != t)
            fail_msg("%s: got %lld want %lld", s, (long long)got, (long long)t);
    }
}

static void test_event__at_too_old__rejected(void **state)
{
    (void)state;
    /* exactly max age (30 days) is still accepted; one second more is not */
    assert_accepted(TOPUP_AT("2026-10-26T12:00:00Z"));
    assert_rejected(TOPUP_AT("2026-10-26T11:59:59Z"), "at: 2592001 s old");
    fx.lim.max_age_s = 3600;
    assert_rejected(TOPUP_AT("2026-11-25T10:15:00Z"), "older than the maximum 3600 s");
}

static void test_event__at_too_far_in_future__rejected(void **state)
{
    (void)state;
    assert_accepted(TOPUP_AT("2026-11-25T12:05:00Z"));
    assert_rejected(TOPUP_AT("2026-11-25T12:05:01Z"), "at: 301 s in the future");
    assert_rejected(TOPUP_AT("9999-12-31T23:59:59Z"), "at:");
    assert_rejected(TOPUP_AT("0000-01-01T00:00:00Z"), "at:");
}

/* ---------------------------------------------------------------- period, orig, channel */

#define BILL_PERIOD(p)                                                                             \
    fmt("BILL ref=B1 msisdn=212612345678 amount=10 currency=MAD "                                  \
        "at=2026-11-25T10:15:00Z period=%s",                                                       \
        p)

static void test_event__period_malformed__rejected(void **state)
{
    static const char *const bad[] = {"2026-13", "2026-00",    "2026-1", "2026/10",
                                      "202610",  "2026-10-01", "26-10"};

    (void)state;
    assert_accepted(BILL_PERIOD("2026-12"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_rejected(BILL_PERIOD(bad[i]), "period: expected YYYY-MM");
}

#define TOPUP_CHANNEL(c)                                                                           \
    fmt("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD "                                 \
        "at=2026-11-25T10:15:00Z channel=%s",                                                      \
        c)

static void test_event__channel_values(void **state)
{
    static const char *const ok[] = {"voucher", "card", "bank", "wallet", "transfer"};

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_accepted(TOPUP_CHANNEL(ok[i]));
        assert_string_equal(fx.ev.channel, ok[i]);
    }
    assert_rejected(TOPUP_CHANNEL("cash"), "channel: unknown 'cash'");
    assert_rejected(TOPUP_CHANNEL("Voucher"), "channel: unknown");
    /* channel is optional */
    assert_accepted("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z");
    assert_string_equal(fx.ev.channel, "");
}

/* ---------------------------------------------------------------- unknown keys */

static void test_event__unknown_keys__counted_not_fatal(void **state)
{
    (void)state;
    assert_accepted("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z operator=iam balance_after=12.5 x=");
    assert_int_equal(fx.ev.n_unknown, 3);
}

static void test_event__other_kinds_keys__kept_as_unknown(void **state)
{
    (void)state;
    /* amount/currency in a REVERSAL, channel/period where they don't belong: not validated */
    assert_accepted("REVERSAL ref=R2 msisdn=212612345678 orig=R1 at=2026-11-25T10:15:00Z "
                    "amount=-5 currency=EUR");
    assert_int_equal(fx.ev.n_unknown, 2);
    assert_int_equal(fx.ev.amount_milli, 0);
    assert_string_equal(fx.ev.currency, "");
    assert_accepted("BILL ref=B1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z period=2026-10 channel=nonsense orig=zz");
    assert_int_equal(fx.ev.n_unknown, 2);
    assert_string_equal(fx.ev.channel, "");
}

static void test_event__unknown_key_given_twice__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z op=a op=b",
                    "op: given twice");
    assert_rejected("REVERSAL ref=R2 msisdn=212612345678 orig=R1 at=2026-11-25T10:15:00Z "
                    "amount=1 amount=2",
                    "amount: given twice");
}

/* ---------------------------------------------------------------- layout and hostile bytes */

static void test_event__runs_of_spaces_and_line_end__accepted(void **state)
{
    (void)state;
    assert_accepted("   TOPUP    ref=R1  msisdn=212612345678     amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z    ");
    assert_accepted("TOPUP ref=R1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z\r\n");
}

static void test_event__tab_separator__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP\tref=R1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "event: control character 0x09 at offset 5");
}

static void test_event__text_2000_bytes__rejected(void **state)
{
    char text[2000];

    (void)state;
    memset(text, 'A', sizeof(text));
    assert_int_equal(parse_n(text, sizeof(text)), -EINVAL);
    assert_string_equal(fx.err, "event: 2000 bytes, more than the maximum 1024");
}

static void test_event__text_of_exactly_1024_bytes__parsed(void **state)
{
    char text[GW_EVENT_TEXT_MAX];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s note=", spec_topup);

    (void)state;
    memset(text + n, 'x', sizeof(text) - n);
    assert_int_equal(parse_n(text, sizeof(text)), 0);
    assert_int_equal(fx.ev.n_unknown, 1);
}

static void test_event__nul_byte__rejected(void **state)
{
    char text[sizeof(spec_topup)];

    (void)state;
    memcpy(text, spec_topup, sizeof(text));
    text[20] = '\0';
    /* the parser never stops at a NUL: the text is a length-delimited buffer */
    assert_int_equal(parse_n(text, sizeof(text) - 1), -EINVAL);
    assert_string_equal(fx.err, "event: NUL byte at offset 20");
    assert_int_equal(parse_n(spec_topup, sizeof(spec_topup)), -EINVAL); /* trailing NUL */
}

static void test_event__utf8_and_garbage__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref=R\xc3\xa9 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "event: non-ASCII byte 0xC3 at offset 11");
    assert_rejected("\xef\xbb\xbfTOPUP ref=R1", "non-ASCII byte 0xEF at offset 0");
    assert_rejected("TOPUP ref=R1\x7f", "control character 0x7F");
    assert_rejected("TOPUP ref=R1\x1b[2J", "control character 0x1B");
}

static void test_event__empty_or_blank__rejected(void **state)
{
    (void)state;
    assert_int_equal(parse_n("", 0), -EINVAL);
    assert_string_equal(fx.err, "event: empty");
    assert_int_equal(parse_n(NULL, 0), -EINVAL);
    assert_rejected("     ", "event: empty");
    assert_rejected("\r\n", "event: empty");
}

static void test_event__unknown_kind__rejected(void **state)
{
    (void)state;
    assert_rejected("topup ref=R1", "kind: unknown 'topup'");
    assert_rejected("REFUND ref=R1", "kind: unknown 'REFUND'");
    assert_rejected("ref=R1 TOPUP", "kind: unknown 'ref=R1'");
    assert_rejected("TOPUPTOPUPTOPUPTOPUPTOPUPTOPUPTOPUP",
                    "kind: unknown 'TOPUPTOPUPTOPUPTOPUPTOPU'");
}

static void test_event__malformed_tokens__rejected(void **state)
{
    (void)state;
    assert_rejected("TOPUP ref", "event: 'ref' is not key=value");
    assert_rejected("TOPUP =R1", "event: '=R1' has no key");
    assert_rejected("TOPUP Ref=R1", "event: key 'Ref' is not lowercase ASCII");
    assert_rejected("TOPUP re-f=R1", "event: key 're-f' is not lowercase ASCII");
    assert_rejected("TOPUP ref= msisdn=212612345678", "ref: empty value");
    assert_rejected("TOPUP ref==", "ref: character '='");
}

static void test_event__small_error_buffer__terminated(void **state)
{
    char err[8];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(gw_event_parse(&fx.fmt, &fx.lim, "TOPUP", 5, NOW, &fx.ev, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(err[7], '\0');
    assert_string_equal(err, "ref: mi");
    /* no buffer at all is fine too */
    assert_int_equal(gw_event_parse(&fx.fmt, &fx.lim, "TOPUP", 5, NOW, &fx.ev, NULL, 0), -EINVAL);
}

static void test_event__random_bytes__never_crash(void **state)
{
    static const char alphabet[] = "TOPUPBILLREVERSAL ref=msisdn amount.currency at:-+Z0123456789"
                                   "\x00\x80\xff\t\r\n=";
    uint8_t buf[1100];
    unsigned seed = 12345;

    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
        bool spec_based = iter % 2;

        if (spec_based) {
            /* mutate a valid event: more likely to get deep into the validators */
            len = sizeof(spec_topup) - 1;
            memcpy(buf, spec_topup, len);
            for (int m = 0; m < 3; m++)
                buf[rand_r(&seed) % len] =
                    (uint8_t)alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        } else {
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(rand_r(&seed) & 0xff);
        }
        fx.err[0] = 'x';
        int rc = parse_n(buf, len);

        assert_true(rc == 0 || rc == -EINVAL);
        assert_true(memchr(fx.err, '\0', sizeof(fx.err)) != NULL);
        if (rc < 0)
            assert_true(fx.err[0] != '\0');
    }
}

/* ---------------------------------------------------------------- a carrier's own vocabulary */

static void test_event__carrier_vocabulary__parsed(void **state)
{
    (void)state;
    snprintf(fx.fmt.kind_names[GW_EV_TOPUP], sizeof(fx.fmt.kind_names[0]), "RECHARGE");
    snprintf(fx.fmt.key_names[GW_F_REF], sizeof(fx.fmt.key_names[0]), "txid");
    snprintf(fx.fmt.key_names[GW_F_MSISDN], sizeof(fx.fmt.key_names[0]), "msisdn");
    assert_int_equal(gw_event_format_check(&fx.fmt, fx.err, sizeof(fx.err)), 0);
    assert_accepted("RECHARGE txid=T1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z");
    assert_int_equal(fx.ev.kind, GW_EV_TOPUP);
    assert_string_equal(fx.ev.ref, "T1");
    /* the spec's names are now unknown: ref is kept, txid is missing */
    assert_rejected("RECHARGE ref=T1 msisdn=212612345678 amount=10 currency=MAD "
                    "at=2026-11-25T10:15:00Z",
                    "txid: missing");
    assert_rejected("TOPUP txid=T1", "kind: unknown 'TOPUP'");
}

static void test_event__format_check__rejects_clashes_and_bad_names(void **state)
{
    char err[128];

    (void)state;
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), 0);
    snprintf(fx.fmt.key_names[GW_F_ORIG], sizeof(fx.fmt.key_names[0]), "ref");
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "key_names.orig: same name as ref");
    gw_event_format_default(&fx.fmt);
    snprintf(fx.fmt.key_names[GW_F_AT], sizeof(fx.fmt.key_names[0]), "When");
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "key_names.at: lowercase ASCII [a-z0-9_] only");
    gw_event_format_default(&fx.fmt);
    snprintf(fx.fmt.kind_names[GW_EV_BILL], sizeof(fx.fmt.kind_names[0]), "TOPUP");
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "kind_names.BILL: same name as TOPUP");
    gw_event_format_default(&fx.fmt);
    fx.fmt.kind_names[GW_EV_USAGE][0] = '\0';
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "kind_names.USAGE: 1 to 15 characters");
}

/* ---------------------------------------------------------------- SIMSWAP (our extension) */

static void test_event__simswap__parsed_with_its_validation(void **state)
{
    (void)state;
    assert_accepted("SIMSWAP ref=SW-20261125-1 msisdn=212612345678 at=2026-11-25T10:15:00Z");
    assert_int_equal(fx.ev.kind, GW_EV_SIMSWAP);
    assert_string_equal(fx.ev.ref, "SW-20261125-1");
    assert_string_equal(fx.ev.msisdn, "212612345678");
    assert_int_equal(fx.ev.at, AT_SPEC);
    assert_int_equal(fx.ev.amount_milli, 0);
    assert_string_equal(fx.ev.currency, "");
    assert_string_equal(gw_event_kind_name(GW_EV_SIMSWAP), "SIMSWAP");
    /* another kind's key is kept as unknown, not interpreted */
    assert_accepted("SIMSWAP ref=SW-2 msisdn=212612345678 at=2026-11-25T10:15:00Z amount=5");
    assert_int_equal(fx.ev.n_unknown, 1);
    assert_int_equal(fx.ev.amount_milli, 0);
    assert_rejected("SIMSWAP msisdn=212612345678 at=2026-11-25T10:15:00Z",
                    "ref: missing (required for SIMSWAP)");
    assert_rejected("SIMSWAP ref=SW-3 at=2026-11-25T10:15:00Z", "msisdn: missing");
    assert_rejected("SIMSWAP ref=SW-3 msisdn=212612345678", "at: missing");
    assert_rejected("SIMSWAP ref=SW-3 msisdn=33612345678 at=2026-11-25T10:15:00Z", "msisdn");
    assert_rejected("SIMSWAP ref=SW-3 msisdn=212612345678 at=2026-11-25T10:15:00Z ref=SW-4",
                    "given twice");
    assert_rejected("simswap ref=SW-3 msisdn=212612345678 at=2026-11-25T10:15:00Z", "kind");
}

static void test_event__simswap__name_cannot_be_taken_by_a_carrier_kind(void **state)
{
    char err[128];

    (void)state;
    snprintf(fx.fmt.kind_names[GW_EV_TOPUP], sizeof(fx.fmt.kind_names[0]), "SIMSWAP");
    assert_int_equal(gw_event_format_check(&fx.fmt, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "kind_names.TOPUP: SIMSWAP is taken by the SIM swap notice");
}

/* ---------------------------------------------------------------- helpers */

static void test_event__helpers(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(gw_milli_to_text(100000000, buf, sizeof(buf)), "100000");
    assert_string_equal(gw_milli_to_text(5, buf, sizeof(buf)), "0.005");
    assert_string_equal(gw_milli_to_text(50500, buf, sizeof(buf)), "50.5");
    assert_string_equal(gw_milli_to_text(-1250, buf, sizeof(buf)), "-1.25");
    assert_string_equal(gw_milli_to_text(INT64_MIN, buf, sizeof(buf)), "-9223372036854775.808");
    assert_string_equal(gw_event_kind_name(GW_EV_REVERSAL), "REVERSAL");
    assert_string_equal(gw_event_kind_name((enum gw_event_kind)42), "?");
    assert_int_equal(gw_event_kind_from_name("BILL"), GW_EV_BILL);
    assert_int_equal(gw_event_kind_from_name("bill"), -EINVAL);
    assert_true(gw_event_channel_known("wallet"));
    assert_false(gw_event_channel_known("cash"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
        T(test_event__spec_topup_example__accepted),
        T(test_event__spec_reversal_example__accepted),
        T(test_event__simswap__parsed_with_its_validation),
        T(test_event__simswap__name_cannot_be_taken_by_a_carrier_kind),
        T(test_event__bill_and_usage_with_period__accepted),
        T(test_event__each_required_key_missing__rejected_naming_it),
        T(test_event__ref_64_chars_and_full_charset__accepted),
        T(test_event__ref_65_chars__rejected),
        T(test_event__ref_bad_character__rejected),
        T(test_event__ref_given_twice__rejected),
        T(test_event__msisdn_8_and_15_digits__accepted),
        T(test_event__msisdn_7_or_16_digits__rejected),
        T(test_event__msisdn_plus_or_separator__rejected),
        T(test_event__msisdn_foreign_prefix__rejected),
        T(test_event__msisdn_second_configured_prefix__accepted),
        T(test_event__amount_forms__parsed_to_thousandths),
        T(test_event__amount_4_decimals__rejected),
        T(test_event__amount_zero__rejected),
        T(test_event__amount_sign__rejected),
        T(test_event__amount_exponent__rejected),
        T(test_event__amount_malformed__rejected),
        T(test_event__amount_above_maximum__rejected),
        T(test_event__amount_many_leading_zeros__no_overflow),
        T(test_event__amount_near_int64_max__exact),
        T(test_event__currency_other_than_configured__rejected),
        T(test_event__at_offsets__converted_to_utc),
        T(test_event__at_fraction_and_lowercase__accepted),
        T(test_event__at_without_zone_or_malformed__rejected),
        T(test_event__at_field_ranges__checked),
        T(test_event__at_leap_days),
        T(test_event__at_matches_timegm_over_centuries),
        T(test_event__at_too_old__rejected),
        T(test_event__at_too_far_in_future__rejected),
        T(test_event__period_malformed__rejected),
        T(test_event__channel_values),
        T(test_event__unknown_keys__counted_not_fatal),
        T(test_event__other_kinds_keys__kept_as_unknown),
        T(test_event__unknown_key_given_twice__rejected),
        T(test_event__runs_of_spaces_and_line_end__accepted),
        T(test_event__tab_separator__rejected),
        T(test_event__text_2000_bytes__rejected),
        T(test_event__text_of_exactly_1024_bytes__parsed),
        T(test_event__nul_byte__rejected),
        T(test_event__utf8_and_garbage__rejected),
        T(test_event__empty_or_blank__rejected),
        T(test_event__unknown_kind__rejected),
        T(test_event__malformed_tokens__rejected),
        T(test_event__small_error_buffer__terminated),
        T(test_event__random_bytes__never_crash),
        T(test_event__carrier_vocabulary__parsed),
        T(test_event__format_check__rejects_clashes_and_bad_names),
        T(test_event__helpers),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
