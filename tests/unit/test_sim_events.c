/*
 * test_sim_events.c - the pure parts of smsc-sim: the --events file reader, the deterministic
 * generator, --inject-hex decoding, and the latency percentile of the summary. The simulator is
 * an executable, not a library, so its pure source files are compiled into this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smpp/sim/sim_events.c"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static FILE *file_of(const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");

    assert_non_null(f);
    return f;
}

static void test_events__comments_blanks_crlf__skipped_text_verbatim(void **state)
{
    struct sim_events evs = {0};
    char err[128] = "";
    FILE *f = file_of("# header\n"
                      "TOPUP ref=A1 msisdn=212612345678\r\n"
                      "\n"
                      "   \t\n"
                      "  # indented comment\n"
                      "  BAD  two  spaces  \n"
                      "REVERSAL ref=A2 orig=A1");

    (void)state;
    assert_int_equal(sim_events_read(&evs, f, err, sizeof(err)), 0);
    fclose(f);
    assert_int_equal(evs.n, 3);
    assert_string_equal(evs.v[0].text, "TOPUP ref=A1 msisdn=212612345678");
    assert_int_equal(evs.v[0].line, 2);
    /* only the line terminator goes: leading and inner blanks are the carrier's text */
    assert_string_equal(evs.v[1].text, "  BAD  two  spaces  ");
    assert_int_equal(evs.v[1].line, 6);
    assert_string_equal(evs.v[2].text, "REVERSAL ref=A2 orig=A1");
    assert_int_equal(evs.v[2].len, strlen("REVERSAL ref=A2 orig=A1"));
    assert_int_equal(evs.v[2].next, SIM_NONE);
    assert_int_equal(evs.v[2].state, SIM_EV_NEW);
    sim_events_free(&evs);
}

static void test_events__line_over_1024__refused_with_line_number(void **state)
{
    static char text[1200 + 16];
    struct sim_events evs = {0};
    char err[128] = "";
    FILE *f;

    (void)state;
    memcpy(text, "TOPUP ok\n", 9);
    memset(text + 9, 'x', 1100);
    text[9 + 1100] = '\n';
    text[9 + 1101] = '\0';
    f = file_of(text);
    assert_int_equal(sim_events_read(&evs, f, err, sizeof(err)), -EINVAL);
    fclose(f);
    assert_non_null(strstr(err, "line 2"));
    sim_events_free(&evs);
}

static void test_events__exactly_1024__accepted(void **state)
{
    static char text[1024 + 2];
    struct sim_events evs = {0};
    char err[128] = "";
    FILE *f;

    (void)state;
    memset(text, 'y', 1024);
    text[1024] = '\n';
    f = file_of(text);
    assert_int_equal(sim_events_read(&evs, f, err, sizeof(err)), 0);
    fclose(f);
    assert_int_equal(evs.n, 1);
    assert_int_equal(evs.v[0].len, 1024);
    sim_events_free(&evs);
}

static struct sim_gen_params gen_params(uint32_t n, uint64_t seed, uint32_t dup_rate)
{
    struct sim_gen_params p = {
        .n = n,
        .subscribers = 50,
        .seed = seed,
        .ref_prefix = "T",
        .at = "2026-11-25T10:00:00Z",
        .dup_rate = dup_rate,
    };
    return p;
}

static void test_generate__same_seed__same_events(void **state)
{
    struct sim_events a = {0}, b = {0}, c = {0};
    struct sim_gen_params p = gen_params(500, 42, 10);
    char err[128];

    (void)state;
    assert_int_equal(sim_events_generate(&a, &p, err, sizeof(err)), 0);
    assert_int_equal(sim_events_generate(&b, &p, err, sizeof(err)), 0);
    p.seed = 43;
    assert_int_equal(sim_events_generate(&c, &p, err, sizeof(err)), 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        assert_string_equal(a.v[i].text, b.v[i].text);
    assert_int_equal(a.amount_minor_total, b.amount_minor_total);
    assert_true(a.amount_minor_total != c.amount_minor_total);
    sim_events_free(&a);
    sim_events_free(&b);
    sim_events_free(&c);
}

static void test_generate__fields__refs_numbered_amounts_in_range(void **state)
{
    struct sim_events evs = {0};
    struct sim_gen_params p = gen_params(300, 7, 0);
    char err[128], ref[32];
    int64_t total = 0;

    (void)state;
    assert_int_equal(sim_events_generate(&evs, &p, err, sizeof(err)), 0);
    assert_int_equal(evs.n, 300);
    assert_int_equal(evs.generated, 300);
    assert_int_equal(evs.duplicates, 0);
    for (size_t i = 0; i < evs.n; i++) {
        unsigned units, cents, sub;
        const char *m = strstr(evs.v[i].text, " amount=");
        const char *s = strstr(evs.v[i].text, " msisdn=2126");

        snprintf(ref, sizeof(ref), "ref=T-%09zu ", i + 1);
        assert_non_null(strstr(evs.v[i].text, ref));
        assert_true(strncmp(evs.v[i].text, "TOPUP ", 6) == 0);
        assert_non_null(strstr(evs.v[i].text, " currency=MAD at=2026-11-25T10:00:00Z channel="));
        assert_non_null(m);
        assert_int_equal(sscanf(m, " amount=%u.%2u", &units, &cents), 2);
        assert_in_range(units * 100 + cents, 500, 20000);
        total += units * 100 + cents;
        assert_non_null(s);
        assert_int_equal(strspn(s + 8, "0123456789"), 12); /* 2126 + 8 digits */
        assert_int_equal(sscanf(s, " msisdn=2126%8u", &sub), 1);
        assert_in_range(sub, 1, 50);
    }
    assert_int_equal(evs.amount_minor_total, total);
    sim_events_free(&evs);
}

static void test_generate__dup_rate__resends_earlier_refs_verbatim(void **state)
{
    struct sim_events evs = {0};
    struct sim_gen_params p = gen_params(1000, 3, 20);
    char err[128];
    size_t dups = 0;

    (void)state;
    assert_int_equal(sim_events_generate(&evs, &p, err, sizeof(err)), 0);
    assert_int_equal(evs.generated, 1000);
    assert_int_equal(evs.n, 1000 + evs.duplicates);
    /* about 20 %: a broken draw would give 0 or everything */
    assert_in_range(evs.duplicates, 120, 280);
    /* every duplicate repeats a text seen before it; unique refs stay 1..1000 in order */
    for (size_t i = 0, next_ref = 1; i < evs.n; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "ref=T-%09zu ", next_ref);
        if (strstr(evs.v[i].text, ref)) {
            next_ref++;
            continue;
        }
        dups++;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(evs.v[k].text, evs.v[i].text) == 0;
        assert_true(seen);
    }
    assert_int_equal(dups, evs.duplicates);
    sim_events_free(&evs);
}

static void test_generate__bad_params__refused(void **state)
{
    struct sim_events evs = {0};
    struct sim_gen_params p = gen_params(10, 1, 0);
    char err[128];

    (void)state;
    p.at = "yesterday";
    assert_int_equal(sim_events_generate(&evs, &p, err, sizeof(err)), -EINVAL);
    p = gen_params(10, 1, 0);
    p.ref_prefix = "has space";
    assert_int_equal(sim_events_generate(&evs, &p, err, sizeof(err)), -EINVAL);
    p = gen_params(10, 1, 0);
    p.subscribers = 0;
    assert_int_equal(sim_events_generate(&evs, &p, err, sizeof(err)), -EINVAL);
    assert_int_equal(evs.n, 0);
    sim_events_free(&evs);
}

static void test_rfc3339__shapes(void **state)
{
    char buf[32];

    (void)state;
    assert_true(sim_rfc3339_valid("2026-11-25T10:15:00Z"));
    assert_true(sim_rfc3339_valid("2026-11-25T10:15:00.123+01:00"));
    assert_true(sim_rfc3339_valid("2026-11-25t10:15:00-05:30"));
    assert_false(sim_rfc3339_valid("2026-11-25 10:15:00Z"));
    assert_false(sim_rfc3339_valid("2026-11-25T10:15:00"));
    assert_false(sim_rfc3339_valid("2026-11-25T10:15:00+0100"));
    assert_false(sim_rfc3339_valid("2026-11-25T10:15:00.Z"));
    assert_false(sim_rfc3339_valid("now"));
    sim_rfc3339_format(1795601700, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-25T10:15:00Z");
    assert_true(sim_rfc3339_valid(buf));
}

static void test_hex__spaces_ok__odd_or_junk_refused(void **state)
{
    uint8_t out[8];
    size_t len = 0;

    (void)state;
    assert_int_equal(sim_hex_decode("00 0a\tFF 7f", out, sizeof(out), &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0x0a);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(out[3], 0x7f);
    assert_int_equal(sim_hex_decode("abc", out, sizeof(out), &len), -EINVAL);
    assert_int_equal(sim_hex_decode("zz", out, sizeof(out), &len), -EINVAL);
    assert_int_equal(sim_hex_decode("000102030405060708", out, sizeof(out), &len), -ENOSPC);
}

static void test_inject_file__lines_numbered_as_in_file(void **state)
{
    char path[] = "/tmp/test_sim_inject.XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    struct sim_inject_item *items = NULL;
    size_t n = 0;
    char err[128];

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("# first a comment\n00000010 00000015 00000000 00000001\n\n0000001080000015\n", f);
    fclose(f);
    assert_int_equal(sim_inject_load(path, &items, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_int_equal(items[0].line, 2);
    assert_int_equal(items[0].len, 16);
    assert_int_equal(items[0].pdu[3], 0x10);
    assert_int_equal(items[1].line, 4);
    assert_int_equal(items[1].len, 8);
    sim_inject_free(items, n);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("0000\nnot hex\n", f);
    fclose(f);
    assert_int_equal(sim_inject_load(path, &items, &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 2"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events__comments_blanks_crlf__skipped_text_verbatim),
        cmocka_unit_test(test_events__line_over_1024__refused_with_line_number),
        cmocka_unit_test(test_events__exactly_1024__accepted),
        cmocka_unit_test(test_generate__same_seed__same_events),
        cmocka_unit_test(test_generate__fields__refs_numbered_amounts_in_range),
        cmocka_unit_test(test_generate__dup_rate__resends_earlier_refs_verbatim),
        cmocka_unit_test(test_generate__bad_params__refused),
        cmocka_unit_test(test_rfc3339__shapes),
        cmocka_unit_test(test_hex__spaces_ok__odd_or_junk_refused),
        cmocka_unit_test(test_inject_file__lines_numbered_as_in_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
