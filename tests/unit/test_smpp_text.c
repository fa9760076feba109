/*
 * test_smpp_text.c - UTF-8 <-> GSM 03.38 / UCS-2 / Latin-1 and SMS segmentation (smpp_text.c).
 *
 * Expected GSM values come from 3GPP TS 23.038 6.2.1 / 6.2.1.1, written out here independently of
 * the tables in the implementation. Wire buffers are heap copies of exact size so that ASan sees
 * any read past the end of untrusted input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smpp.h" /* includes smpp_text.h, as every user of the smpp library does */

/* The basic table in septet order (0x00..0x7F), ESC (0x1B) left out. */
static const char gsm7_basic_utf8[] = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"
                                      "ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                                      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
                                      "¿abcdefghijklmnopqrstuvwxyzäöñüà";

/* Persian: "امتیاز" (points) with PERSIAN YEH U+06CC, and "کارت" (card) with KEHEH U+06A9. */
#define FA_POINTS "\u0627\u0645\u062A\u06CC\u0627\u0632"
#define FA_CARD "\u06A9\u0627\u0631\u062A"
/* Arabic: "نقاطك" (your points) with ARABIC KAF U+0643. */
#define AR_POINTS "\u0646\u0642\u0627\u0637\u0643"
#define EMOJI "\U0001F600"

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Decodes wire bytes (from an exact-size heap copy) and returns a heap string. */
static char *decode(const void *wire, size_t n, uint8_t dcs, const struct smpp_text_opts *o)
{
    uint8_t *in = dup_bytes(wire, n);
    size_t cap = n * 4 + 4, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(smpp_text_decode(in, n, dcs, o, out, cap, &len), 0);
    assert_int_equal(strlen(out), len);
    free(in);
    return out;
}

static void assert_round_trip(const char *utf8, enum smpp_text_coding c,
                              const struct smpp_text_opts *o)
{
    uint8_t wire[1024];
    size_t n = 0;
    assert_int_equal(smpp_text_encode(utf8, strlen(utf8), c, o, wire, sizeof(wire), &n), 0);
    char *back = decode(wire, n, smpp_text_data_coding(c, o), o);
    assert_string_equal(back, utf8);
    free(back);
}

/* ---------------------------------------------------------------- GSM-7 */

static void test_text__extension_chars__count_two_and_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *utf8;
        uint8_t septet;
    } ext[] = {
        {"\f", 0x0A}, {"^", 0x14}, {"{", 0x28}, {"}", 0x29}, {"\\", 0x2F},
        {"[", 0x3C},  {"~", 0x3D}, {"]", 0x3E}, {"|", 0x40}, {"€", 0x65},
    };
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        const char *s = ext[i].utf8;
        uint8_t wire[4];
        size_t n = 0;
        assert_int_equal(smpp_text_gsm7_len(s, strlen(s)), 2);
        assert_int_equal(smpp_text_choose(s, strlen(s), NULL, NULL), SMPP_TEXT_GSM7);
        assert_int_equal(
            smpp_text_encode(s, strlen(s), SMPP_TEXT_GSM7, NULL, wire, sizeof(wire), &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(wire[0], 0x1B);
        assert_int_equal(wire[1], ext[i].septet);
        assert_round_trip(s, SMPP_TEXT_GSM7, NULL);
    }
    const char *all = "€[]{}^~|\\\f";
    assert_int_equal(smpp_text_gsm7_len(all, strlen(all)), 20);
    assert_round_trip(all, SMPP_TEXT_GSM7, NULL);
    assert_int_equal(smpp_text_gsm7_len("a€b", strlen("a€b")), 4);
}

static void test_text__basic_table__round_trips(void **state)
{
    (void)state;
    uint8_t expect[127], wire[256];
    size_t n = 0, k = 0;

    for (unsigned s = 0; s < 128; s++)
        if (s != 0x1B)
            expect[k++] = (uint8_t)s;
    assert_int_equal(smpp_text_gsm7_len(gsm7_basic_utf8, strlen(gsm7_basic_utf8)), 127);
    assert_int_equal(smpp_text_encode(gsm7_basic_utf8, strlen(gsm7_basic_utf8), SMPP_TEXT_GSM7,
                                      NULL, wire, sizeof(wire), &n),
                     0);
    assert_int_equal(n, 127);
    assert_memory_equal(wire, expect, 127);

    char *back = decode(expect, sizeof(expect), 0x00, NULL);
    assert_string_equal(back, gsm7_basic_utf8);
    free(back);
    back = decode(expect, sizeof(expect), 0x01, NULL); /* some gateways label GSM as 1 */
    assert_string_equal(back, gsm7_basic_utf8);
    free(back);

    /* Characters that look like ASCII but are not where ASCII has them. */
    assert_int_equal(smpp_text_gsm7_cost('@'), 1);
    assert_int_equal(smpp_text_gsm7_cost('$'), 1);
    assert_int_equal(smpp_text_gsm7_cost('`'), -1);
    assert_int_equal(smpp_text_gsm7_cost(0x00E7), -1); /* ç: only Ç is in the table */
    assert_int_equal(smpp_text_gsm7_cost(0x00A0), -1); /* ESC is not NBSP */
    assert_int_equal(smpp_text_gsm7_len("`", 1), -1);
}

/* Every code point costs what the two tables say, and nothing else is GSM-7: the encoder's
 * reverse lookup agrees with the spec's tables on the whole of Unicode, and each character of the
 * basic table encodes alone to its own septet. */
static void test_text__every_code_point__cost_and_septet_match_the_tables(void **state)
{
    (void)state;
    static const char ext_utf8[] = "\f^{}\\[~]|€";
    static const uint8_t ext_sept[] = {0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65};
    static int8_t expect[0x110000];
    uint8_t wire[4];
    size_t i = 0, adv, n, k = 0;

    memset(expect, -1, sizeof(expect));
    for (unsigned s = 0; s < 128; s++) {
        if (s == 0x1B)
            continue;
        uint32_t cp = smpp_text_utf8_next(gsm7_basic_utf8 + i, strlen(gsm7_basic_utf8 + i), &adv);
        expect[cp] = 1;
        assert_int_equal(smpp_text_encode(gsm7_basic_utf8 + i, adv, SMPP_TEXT_GSM7, NULL, wire,
                                          sizeof(wire), &n),
                         0);
        assert_int_equal(n, 1);
        assert_int_equal(wire[0], s);
        i += adv;
    }
    for (i = 0; ext_utf8[i]; i += adv, k++) {
        uint32_t cp = smpp_text_utf8_next(ext_utf8 + i, strlen(ext_utf8 + i), &adv);
        expect[cp] = 2;
        assert_int_equal(smpp_text_encode(ext_utf8 + i, adv, SMPP_TEXT_GSM7, NULL, wire,
                                          sizeof(wire), &n),
                         0);
        assert_int_equal(n, 2);
        assert_int_equal(wire[0], 0x1B);
        assert_int_equal(wire[1], ext_sept[k]);
    }
    assert_int_equal(k, sizeof(ext_sept));
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        if (smpp_text_gsm7_cost(cp) != expect[cp])
            fail_msg("U+%04X costs %d, the tables say %d", (unsigned)cp, smpp_text_gsm7_cost(cp),
                     expect[cp]);
}

static void test_text__gsm7_decode__escape_edge_cases(void **state)
{
    (void)state;
    char *s;

    s = decode("\x1b", 1, 0, NULL); /* lone final escape */
    assert_string_equal(s, " ");
    free(s);
    s = decode("\x1b\x1b", 2, 0, NULL); /* SS2: reserved, shown as space */
    assert_string_equal(s, " ");
    free(s);
    s = decode("\x1b\x41", 2, 0, NULL); /* unknown extension: basic-table character */
    assert_string_equal(s, "A");
    free(s);
    s = decode("A\x80\xff", 3, 0, NULL); /* not septets */
    assert_string_equal(s, "A\uFFFD\uFFFD");
    free(s);
    s = decode("\x1b\x65\x1b", 3, 0, NULL);
    assert_string_equal(s, "€ ");
    free(s);
}

/* ---------------------------------------------------------------- coding choice */

static void test_text__choose__gsm7_or_ucs2_with_configured_dcs(void **state)
{
    (void)state;
    struct smpp_text_opts o;
    uint8_t dcs = 0xAA;

    assert_int_equal(smpp_text_choose("Hello [1]", 9, NULL, &dcs), SMPP_TEXT_GSM7);
    assert_int_equal(dcs, 0x00);
    assert_int_equal(smpp_text_choose(AR_POINTS, strlen(AR_POINTS), NULL, &dcs), SMPP_TEXT_UCS2);
    assert_int_equal(dcs, 0x08);
    assert_int_equal(smpp_text_choose("", 0, NULL, &dcs), SMPP_TEXT_GSM7);

    smpp_text_opts_defaults(&o);
    o.dcs_gsm7 = 0xF0;
    o.dcs_ucs2 = 0x18;
    assert_int_equal(smpp_text_choose("Hi", 2, &o, &dcs), SMPP_TEXT_GSM7);
    assert_int_equal(dcs, 0xF0);
    assert_int_equal(smpp_text_choose(FA_POINTS, strlen(FA_POINTS), &o, &dcs), SMPP_TEXT_UCS2);
    assert_int_equal(dcs, 0x18);
    o.dcs_gsm7 = 0x01;
    assert_int_equal(smpp_text_data_coding(SMPP_TEXT_GSM7, &o), 0x01);

    /* Reading data_coding */
    assert_int_equal(smpp_text_coding_from_dcs(0x00, NULL), SMPP_TEXT_GSM7);
    assert_int_equal(smpp_text_coding_from_dcs(0x01, NULL), SMPP_TEXT_GSM7);
    assert_int_equal(smpp_text_coding_from_dcs(0x08, NULL), SMPP_TEXT_UCS2);
    assert_int_equal(smpp_text_coding_from_dcs(0x03, NULL), SMPP_TEXT_LATIN1);
    assert_int_equal(smpp_text_coding_from_dcs(0x04, NULL), SMPP_TEXT_LATIN1);
    assert_int_equal(smpp_text_coding_from_dcs(0x02, NULL), SMPP_TEXT_LATIN1);
    assert_int_equal(smpp_text_coding_from_dcs(0xF0, NULL), SMPP_TEXT_GSM7);
    assert_int_equal(smpp_text_coding_from_dcs(0xF4, NULL), SMPP_TEXT_LATIN1);
    assert_int_equal(smpp_text_coding_from_dcs(0x18, NULL), SMPP_TEXT_UCS2);
    assert_int_equal(smpp_text_coding_from_dcs(0x11, NULL), SMPP_TEXT_GSM7);
    assert_int_equal(smpp_text_coding_from_dcs(0x18, &o), SMPP_TEXT_UCS2);
    assert_int_equal(smpp_text_coding_from_dcs(0x99, NULL), SMPP_TEXT_LATIN1);
}

static void test_text__arabic_and_persian__ucs2_round_trip_in_logical_order(void **state)
{
    (void)state;
    const char *fa = FA_POINTS " " FA_CARD;
    uint8_t wire[64];
    size_t n = 0;

    assert_int_equal(smpp_text_gsm7_len(AR_POINTS, strlen(AR_POINTS)), -1);
    assert_int_equal(smpp_text_ucs2_len(AR_POINTS, strlen(AR_POINTS), NULL), 5);
    assert_int_equal(smpp_text_encode(AR_POINTS, strlen(AR_POINTS), SMPP_TEXT_UCS2, NULL, wire,
                                      sizeof(wire), &n),
                     0);
    static const uint8_t ar_wire[] = {0x06, 0x46, 0x06, 0x42, 0x06, 0x27, 0x06, 0x37, 0x06, 0x43};
    assert_int_equal(n, sizeof(ar_wire));
    assert_memory_equal(wire, ar_wire, n); /* logical order: first letter first */
    assert_round_trip(AR_POINTS, SMPP_TEXT_UCS2, NULL);

    assert_int_equal(smpp_text_choose(fa, strlen(fa), NULL, NULL), SMPP_TEXT_UCS2);
    assert_int_equal(smpp_text_ucs2_len(fa, strlen(fa), NULL), 11);
    assert_int_equal(smpp_text_encode(fa, strlen(fa), SMPP_TEXT_UCS2, NULL, wire, sizeof(wire), &n),
                     0);
    assert_int_equal(n, 22);
    assert_int_equal(wire[6], 0x06); /* ی PERSIAN YEH, not the Arabic U+064A */
    assert_int_equal(wire[7], 0xCC);
    assert_int_equal(wire[14], 0x06); /* ک KEHEH, not the Arabic kaf U+0643 */
    assert_int_equal(wire[15], 0xA9);
    assert_round_trip(fa, SMPP_TEXT_UCS2, NULL);
    assert_round_trip("1 " AR_POINTS " 250 €", SMPP_TEXT_UCS2, NULL);
}

/* ---------------------------------------------------------------- UCS-2 and non-BMP */

static void test_text__emoji__replacement_or_surrogates(void **state)
{
    (void)state;
    const char *s = "Hi " EMOJI;
    struct smpp_text_opts o;
    uint8_t wire[16];
    size_t n = 0;

    assert_int_equal(smpp_text_choose(s, strlen(s), NULL, NULL), SMPP_TEXT_UCS2);
    assert_int_equal(smpp_text_ucs2_len(s, strlen(s), NULL), 4);
    assert_int_equal(smpp_text_encode(s, strlen(s), SMPP_TEXT_UCS2, NULL, wire, sizeof(wire), &n),
                     0);
    static const uint8_t q[] = {0, 'H', 0, 'i', 0, ' ', 0, '?'};
    assert_int_equal(n, sizeof(q));
    assert_memory_equal(wire, q, n);

    smpp_text_opts_defaults(&o);
    o.ucs2_replacement = 0xFFFD;
    assert_int_equal(smpp_text_encode(s, strlen(s), SMPP_TEXT_UCS2, &o, wire, sizeof(wire), &n), 0);
    assert_int_equal(n, 8);
    assert_int_equal(wire[6], 0xFF);
    assert_int_equal(wire[7], 0xFD);
    o.ucs2_replacement = 0xD800; /* a surrogate is no replacement: '?' is used */
    assert_int_equal(smpp_text_encode(s, strlen(s), SMPP_TEXT_UCS2, &o, wire, sizeof(wire), &n), 0);
    assert_int_equal(wire[7], '?');

    smpp_text_opts_defaults(&o);
    o.ucs2_surrogates = true;
    assert_int_equal(smpp_text_ucs2_len(s, strlen(s), &o), 5);
    assert_int_equal(smpp_text_encode(s, strlen(s), SMPP_TEXT_UCS2, &o, wire, sizeof(wire), &n), 0);
    assert_int_equal(n, 10);
    static const uint8_t pair[] = {0xD8, 0x3D, 0xDE, 0x00};
    assert_memory_equal(wire + 6, pair, 4);
    assert_round_trip(s, SMPP_TEXT_UCS2, &o);
    /* a pair never gets halved by the output bound */
    assert_int_equal(smpp_text_encode(s, strlen(s), SMPP_TEXT_UCS2, &o, wire, 8, &n), -ENOSPC);
    assert_int_equal(n, 6);
}

static void test_text__ucs2_decode__odd_length_and_lone_surrogates_are_safe(void **state)
{
    (void)state;
    char *s;

    s = decode("\x00\x41\x00", 3, 8, NULL);
    assert_string_equal(s, "A\uFFFD");
    free(s);
    s = decode("\x41", 1, 8, NULL);
    assert_string_equal(s, "\uFFFD");
    free(s);
    s = decode("", 0, 8, NULL);
    assert_string_equal(s, "");
    free(s);
    s = decode("\xd8\x00\x00\x41", 4, 8, NULL); /* high surrogate without its low half */
    assert_string_equal(s, "\uFFFDA");
    free(s);
    s = decode("\xdc\x00", 2, 8, NULL); /* lone low surrogate */
    assert_string_equal(s, "\uFFFD");
    free(s);
    s = decode("\xd8\x3d", 2, 8, NULL); /* high surrogate at the end */
    assert_string_equal(s, "\uFFFD");
    free(s);
    s = decode("\xd8\x3d\xde", 3, 8, NULL); /* high surrogate, then an odd octet */
    assert_string_equal(s, "\uFFFD\uFFFD");
    free(s);
    s = decode("\xd8\x3d\xde\x00", 4, 8, NULL); /* a valid pair is always joined */
    assert_string_equal(s, EMOJI);
    free(s);
    s = decode("\x00\x00\x00\x41", 4, 8, NULL); /* NUL never reaches a C string */
    assert_string_equal(s, "\uFFFDA");
    free(s);
}

static void test_text__decode__latin1_and_bounds(void **state)
{
    (void)state;
    char out[8];
    size_t n = 99;
    char *s;

    s = decode("caf\xe9", 4, 3, NULL);
    assert_string_equal(s, "café");
    free(s);
    s = decode("\x01\xff", 2, 4, NULL);
    assert_string_equal(s, "\x01ÿ");
    free(s);

    /* Truncation stops on a character boundary and still terminates the string. */
    uint8_t *ar = dup_bytes("\x06\x46\x06\x42\x06\x27\x06\x37", 8);
    assert_int_equal(smpp_text_decode(ar, 8, 8, NULL, out, 6, &n), -ENOSPC);
    assert_int_equal(n, 4);
    assert_string_equal(out, "\u0646\u0642");
    assert_int_equal(smpp_text_decode(ar, 8, 8, NULL, out, 1, &n), -ENOSPC);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    assert_int_equal(smpp_text_decode(ar, 8, 8, NULL, out, 0, &n), -EINVAL);
    free(ar);
}

/* ---------------------------------------------------------------- untrusted UTF-8 */

static void test_text__invalid_utf8__becomes_replacement(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* after UTF-8 -> UCS-2 -> UTF-8 */
    } cases[] = {
        {"a\x80"
         "b",
         "a\uFFFDb"},                                     /* stray continuation */
        {"\xc0\xaf", "\uFFFD\uFFFD"},                     /* overlong '/' */
        {"\xe0\x80\xaf", "\uFFFD\uFFFD\uFFFD"},           /* overlong, 3 bytes */
        {"\xf0\x80\x80\xaf", "\uFFFD\uFFFD\uFFFD\uFFFD"}, /* overlong, 4 bytes */
        {"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},           /* UTF-8 encoded surrogate */
        {"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"}, /* above U+10FFFF */
        {"\xe2\x82", "\uFFFD"},                           /* truncated € */
        {"\xe2\x82"
         "x",
         "\uFFFDx"},                                                /* truncated, then a char */
        {"\xf8\x88\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"}, /* old 5-byte form */
        {"\xfe\xff", "\uFFFD\uFFFD"},
        {"\xc3\xa9", "é"}, /* valid stays valid */
        {"\xef\xbf\xbf", "\uFFFF"},
        {"\xf4\x8f\xbf\xbf", "?"}, /* U+10FFFF valid, non-BMP -> replacement */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].in);
        char *in = (char *)dup_bytes(cases[i].in, len); /* exact size: ASan sees over-reads */
        uint8_t wire[64];
        size_t n = 0;
        assert_int_equal(smpp_text_encode(in, len, SMPP_TEXT_UCS2, NULL, wire, sizeof(wire), &n),
                         0);
        char *back = decode(wire, n, 8, NULL);
        assert_string_equal(back, cases[i].out);
        free(back);
        if (strstr(cases[i].out, "\uFFFD")) {
            assert_int_equal(smpp_text_gsm7_len(in, len), -1);
            assert_int_equal(smpp_text_choose(in, len, NULL, NULL), SMPP_TEXT_UCS2);
            assert_int_equal(
                smpp_text_encode(in, len, SMPP_TEXT_GSM7, NULL, wire, sizeof(wire), &n), -EILSEQ);
        }
        free(in);
    }
    size_t adv = 0;
    assert_int_equal(smpp_text_utf8_next("\xe2\x82\xac", 2, &adv), SMPP_TEXT_REPLACEMENT);
    assert_int_equal(adv, 2);
    assert_int_equal(smpp_text_utf8_next("\xe2\x82\xac", 3, &adv), 0x20AC);
    assert_int_equal(adv, 3);
}

/* ---------------------------------------------------------------- encode bounds */

static void test_text__encode__bounds_never_split_an_escape_pair(void **state)
{
    (void)state;
    uint8_t wire[4];
    size_t n = 99;

    assert_int_equal(smpp_text_encode("a€", strlen("a€"), SMPP_TEXT_GSM7, NULL, wire, 2, &n),
                     -ENOSPC);
    assert_int_equal(n, 1);
    assert_int_equal(wire[0], 'a');
    assert_int_equal(smpp_text_encode("a€", strlen("a€"), SMPP_TEXT_GSM7, NULL, wire, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(smpp_text_encode("ab", 2, SMPP_TEXT_UCS2, NULL, wire, 3, &n), -ENOSPC);
    assert_int_equal(n, 2);
    assert_int_equal(smpp_text_encode("", 0, SMPP_TEXT_GSM7, NULL, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(smpp_text_encode("ب", strlen("ب"), SMPP_TEXT_GSM7, NULL, wire, 4, &n),
                     -EILSEQ);
    assert_int_equal(smpp_text_encode("é", strlen("é"), SMPP_TEXT_LATIN1, NULL, wire, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(wire[0], 0xE9);
    assert_int_equal(smpp_text_encode("x", 1, (enum smpp_text_coding)7, NULL, wire, 4, &n),
                     -EINVAL);
}

/* ---------------------------------------------------------------- SMS */

static char *repeat(const char *unit, size_t times, const char *tail)
{
    size_t ul = strlen(unit), tl = tail ? strlen(tail) : 0;
    char *s = malloc(ul * times + tl + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    if (tl)
        memcpy(s + ul * times, tail, tl);
    s[ul * times + tl] = '\0';
    return s;
}

static void assert_udh(const struct smpp_text_sms_part *p, uint8_t ref, uint8_t total, uint8_t seq)
{
    const uint8_t udh[6] = {0x05, 0x00, 0x03, ref, total, seq};
    assert_int_equal(p->esm_class, SMPP_ESM_UDHI);
    assert_memory_equal(p->data, udh, 6);
}

static void test_sms__gsm7_160_is_one_part_161_is_two(void **state)
{
    (void)state;
    struct smpp_text_sms_part parts[4];
    size_t n = 0;
    char *s = repeat("a", 160, NULL);

    assert_int_equal(smpp_text_sms_split(s, 160, NULL, 7, parts, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(parts[0].esm_class, 0);
    assert_int_equal(parts[0].len, 160);
    assert_int_equal(parts[0].units, 160);
    assert_int_equal(parts[0].data_coding, 0);
    assert_int_equal(parts[0].data[0], 'a');
    free(s);

    s = repeat("a", 161, NULL);
    assert_int_equal(smpp_text_sms_split(s, 161, NULL, 7, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_udh(&parts[0], 7, 2, 1);
    assert_udh(&parts[1], 7, 2, 2);
    assert_int_equal(parts[0].units, 153);
    assert_int_equal(parts[0].len, 6 + 153);
    assert_int_equal(parts[1].units, 8);
    assert_int_equal(parts[1].len, 6 + 8);
    free(s);

    /* 159 + one extension character = 161 septets: two parts */
    s = repeat("a", 159, "€");
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 0xFE, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_udh(&parts[1], 0xFE, 2, 2);
    free(s);
}

static void test_sms__ucs2_70_is_one_part_71_is_two(void **state)
{
    (void)state;
    struct smpp_text_sms_part parts[4];
    size_t n = 0;
    char *s = repeat("\u0628", 70, NULL); /* ب */

    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 1, parts, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(parts[0].esm_class, 0);
    assert_int_equal(parts[0].len, 140);
    assert_int_equal(parts[0].data_coding, 8);
    assert_int_equal(parts[0].data[0], 0x06);
    assert_int_equal(parts[0].data[1], 0x28);
    free(s);

    s = repeat("\u0628", 71, NULL);
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 1, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_udh(&parts[0], 1, 2, 1);
    assert_udh(&parts[1], 1, 2, 2);
    assert_int_equal(parts[0].len, 6 + 134);
    assert_int_equal(parts[0].units, 67);
    assert_int_equal(parts[1].len, 6 + 8);
    assert_int_equal(parts[1].data_coding, 8);
    free(s);
}

static void test_sms__escape_pair_at_153__moves_to_next_part(void **state)
{
    (void)state;
    struct smpp_text_sms_part parts[4];
    size_t n = 0;
    char *s = repeat("a", 152, "€bbbbbbbbbb"); /* € would occupy septets 153 and 154 */

    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 9, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].units, 152);
    assert_int_equal(parts[0].len, 6 + 152);
    assert_int_equal(parts[0].data[6 + 151], 'a');
    assert_int_equal(parts[1].data[6], 0x1B);
    assert_int_equal(parts[1].data[7], 0x65);
    assert_int_equal(parts[1].units, 12);
    free(s);

    /* One septet earlier the pair fits exactly at 152-153. */
    s = repeat("a", 151, "€bbbbbbbbbb");
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 9, parts, 4, &n), 0);
    assert_int_equal(parts[0].units, 153);
    assert_int_equal(parts[0].data[6 + 151], 0x1B);
    assert_int_equal(parts[0].data[6 + 152], 0x65);
    free(s);

    /* Reassembling the parts gives the original text back. */
    s = repeat("x€", 200, NULL);
    struct smpp_text_sms_part many[8];
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 3, many, 8, &n), 0);
    assert_int_equal(n, 4); /* 600 septets / 153 */
    size_t total = 0;
    char *joined = malloc(strlen(s) + 1);
    assert_non_null(joined);
    for (size_t i = 0; i < n; i++) {
        assert_udh(&many[i], 3, 4, (uint8_t)(i + 1));
        assert_true(many[i].units <= 153);
        char *t = decode(many[i].data + 6, many[i].len - 6u, 0, NULL);
        memcpy(joined + total, t, strlen(t));
        total += strlen(t);
        free(t);
    }
    joined[total] = '\0';
    assert_string_equal(joined, s);
    free(joined);
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 3, many, 3, &n), -E2BIG);
    free(s);
}

static void test_sms__surrogate_pair_at_67__moves_to_next_part(void **state)
{
    (void)state;
    struct smpp_text_sms_part parts[4];
    struct smpp_text_opts o;
    size_t n = 0;
    char *s = repeat("\u0628", 66, EMOJI "\u0628\u0628\u0628\u0628\u0628");

    smpp_text_opts_defaults(&o);
    o.ucs2_surrogates = true;
    assert_int_equal(smpp_text_sms_split(s, strlen(s), &o, 4, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].units, 66);
    assert_int_equal(parts[1].data[6], 0xD8);
    assert_int_equal(parts[1].units, 7);
    /* Without surrogates the emoji is one '?' unit and fits part one. */
    assert_int_equal(smpp_text_sms_split(s, strlen(s), NULL, 4, parts, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].units, 67);
    assert_int_equal(parts[0].data[6 + 133], '?');
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text__extension_chars__count_two_and_round_trip),
        cmocka_unit_test(test_text__basic_table__round_trips),
        cmocka_unit_test(test_text__every_code_point__cost_and_septet_match_the_tables),
        cmocka_unit_test(test_text__gsm7_decode__escape_edge_cases),
        cmocka_unit_test(test_text__choose__gsm7_or_ucs2_with_configured_dcs),
        cmocka_unit_test(test_text__arabic_and_persian__ucs2_round_trip_in_logical_order),
        cmocka_unit_test(test_text__emoji__replacement_or_surrogates),
        cmocka_unit_test(test_text__ucs2_decode__odd_length_and_lone_surrogates_are_safe),
        cmocka_unit_test(test_text__decode__latin1_and_bounds),
        cmocka_unit_test(test_text__invalid_utf8__becomes_replacement),
        cmocka_unit_test(test_text__encode__bounds_never_split_an_escape_pair),
        cmocka_unit_test(test_sms__gsm7_160_is_one_part_161_is_two),
        cmocka_unit_test(test_sms__ucs2_70_is_one_part_71_is_two),
        cmocka_unit_test(test_sms__escape_pair_at_153__moves_to_next_part),
        cmocka_unit_test(test_sms__surrogate_pair_at_67__moves_to_next_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
