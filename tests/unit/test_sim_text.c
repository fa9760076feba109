/*
 * test_sim_text.c - smsc-sim's wire-text converter (GSM 03.38 / UCS-2BE / Latin-1 -> UTF-8, and
 * ASCII -> GSM for the USSD answers) and the summary's latency percentile. Compiled from the
 * simulator's pure sources directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smpp/sim/sim_text.c"

#include <errno.h>
#include <string.h>

static void test_gsm__basic_and_extension__utf8(void **state)
{
    /* "@£$" "Δ" "_" "¤" "¡" "ÄÖÑÜ§" "¿" "äöñüà" "€" "[" "]" */
    static const uint8_t in[] = {0x00, 0x01, 0x02, 0x10, 0x11, 0x24, 0x40, 0x5B, 0x5C, 0x5D,
                                 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F, 0x1B, 0x65,
                                 0x1B, 0x3C, 0x1B, 0x3E, 'A',  'z',  '0',  '\n'};
    char out[128];
    bool printable;

    (void)state;
    sim_text_to_utf8(0, in, sizeof(in), out, sizeof(out), &printable);
    assert_string_equal(out, "@£$Δ_¤¡ÄÖÑÜ§¿äöñüà€[]Az0\n");
    assert_true(printable);
}

static void test_gsm__octet_over_7f_or_trailing_escape__replacement_not_printable(void **state)
{
    static const uint8_t hi[] = {'a', 0x80};
    static const uint8_t esc[] = {'a', 0x1B};
    char out[32];
    bool printable = true;

    (void)state;
    sim_text_to_utf8(0, hi, sizeof(hi), out, sizeof(out), &printable);
    assert_string_equal(out, "a\xEF\xBF\xBD");
    assert_false(printable);
    sim_text_to_utf8(0, esc, sizeof(esc), out, sizeof(out), &printable);
    assert_string_equal(out, "a\xEF\xBF\xBD");
    assert_false(printable);
}

static void test_ucs2__arabic_and_surrogate_pair__utf8(void **state)
{
    /* "مرحبا" then U+1F600 as a surrogate pair */
    static const uint8_t in[] = {0x06, 0x45, 0x06, 0x31, 0x06, 0x2D, 0x06,
                                 0x28, 0x06, 0x27, 0xD8, 0x3D, 0xDE, 0x00};
    char out[64];
    bool printable;

    (void)state;
    assert_int_equal(sim_text_to_utf8(8, in, sizeof(in), out, sizeof(out), &printable),
                     strlen("مرحبا\xF0\x9F\x98\x80"));
    assert_string_equal(out, "مرحبا\xF0\x9F\x98\x80");
    assert_true(printable);
}

static void test_ucs2__lone_surrogate_or_odd_length__replacement(void **state)
{
    static const uint8_t lone[] = {0xDC, 0x00, 0x00, 0x41};
    static const uint8_t odd[] = {0x00, 0x41, 0x00};
    char out[32];
    bool printable = true;

    (void)state;
    sim_text_to_utf8(8, lone, sizeof(lone), out, sizeof(out), &printable);
    assert_string_equal(out, "\xEF\xBF\xBD"
                             "A");
    assert_false(printable);
    sim_text_to_utf8(8, odd, sizeof(odd), out, sizeof(out), &printable);
    assert_string_equal(out, "A\xEF\xBF\xBD");
    assert_false(printable);
}

static void test_utf8_out__small_buffer__never_cuts_a_character(void **state)
{
    static const uint8_t in[] = {0x06, 0x45, 0x06, 0x31, 0x06, 0x2D};
    char out[4];
    bool printable = true;

    (void)state;
    /* each Arabic letter is 2 bytes: one fits with the NUL, the second does not */
    assert_int_equal(sim_text_to_utf8(8, in, sizeof(in), out, sizeof(out), &printable), 2);
    assert_string_equal(out, "م");
    assert_false(printable); /* truncated */
    assert_int_equal(sim_text_to_utf8(8, in, sizeof(in), out, 0, &printable), 0);
}

static void test_control_chars__not_printable(void **state)
{
    static const uint8_t in[] = {'o', 'k', 0x07};
    char out[16];
    bool printable = true;

    (void)state;
    sim_text_to_utf8(1, in, sizeof(in), out, sizeof(out), &printable);
    assert_false(printable);
    sim_text_to_utf8(3, (const uint8_t *)"caf\xE9", 4, out, sizeof(out), &printable);
    assert_string_equal(out, "café");
    assert_true(printable);
}

static void test_ascii_to_gsm__remaps_and_escapes(void **state)
{
    uint8_t out[16];
    uint8_t small[2];

    (void)state;
    assert_int_equal(sim_ascii_to_gsm("1*@_{", out, sizeof(out)), 6);
    assert_memory_equal(out, "\x31\x2A\x00\x11\x1B\x28", 6);
    assert_int_equal(sim_ascii_to_gsm("`", out, sizeof(out)), 1);
    assert_int_equal(out[0], '?'); /* no grave accent in GSM 03.38 */
    assert_int_equal(sim_ascii_to_gsm("a{", small, sizeof(small)), -ENOSPC);
    assert_int_equal(sim_ascii_to_gsm("", out, sizeof(out)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gsm__basic_and_extension__utf8),
        cmocka_unit_test(test_gsm__octet_over_7f_or_trailing_escape__replacement_not_printable),
        cmocka_unit_test(test_ucs2__arabic_and_surrogate_pair__utf8),
        cmocka_unit_test(test_ucs2__lone_surrogate_or_odd_length__replacement),
        cmocka_unit_test(test_utf8_out__small_buffer__never_cuts_a_character),
        cmocka_unit_test(test_control_chars__not_printable),
        cmocka_unit_test(test_ascii_to_gsm__remaps_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
