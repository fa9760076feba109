/*
 * test_sim_answer.c - how smsc-sim's subscribers (--phone, --ussd-load, --ussd) put what they
 * type on the wire: GSM-7 when every character is in GSM 03.38 (extension characters escaped),
 * else UCS-2BE (Persian and Arabic-Indic digits, Arabic letters, emoji as a surrogate pair),
 * invalid UTF-8 as U+FFFD; and the USSD deliver_sm they build (its_session_info, ops, addresses)
 * plus the --ussd-inputs splitter. Compiled from sim_text.c and sim_ussd.c directly; the two
 * delivery hooks sim_ussd.c calls are stubbed (no loop, no sockets here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smpp/sim/sim_text.c"
#include "../../smpp/sim/sim_ussd.c"

#include <errno.h>
#include <string.h>

/* sim_ussd.c's links to the delivery side, unused by the pure functions under test */
int sim_send_ussd(struct sim *sim, const struct smpp_sm *sm)
{
    (void)sim;
    (void)sm;
    return -EAGAIN;
}

int64_t sim_now_ms(void)
{
    return 0;
}

static void encode(const char *utf8, uint8_t *out, size_t cap, size_t *len, uint8_t *dc)
{
    assert_int_equal(sim_utf8_to_wire(utf8, strlen(utf8), out, cap, len, dc), 0);
}

static void test_answer__ascii_digits__gsm7_one_octet_each(void **state)
{
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("00", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "00", 2);
    encode("*555*2*17#", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 0);
    assert_int_equal(n, 10);
    assert_memory_equal(out, "*555*2*17#", 10);
}

static void test_answer__gsm_remaps_and_extension__escaped(void **state)
{
    /* '@' is septet 0, '_' 0x11, '€' and '[' are escapes, 'é' is basic 0x05 */
    static const uint8_t want[] = {0x00, 0x11, 0x1B, 0x65, 0x1B, 0x3C, 0x05, 'a'};
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("@_€[éa", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 0);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
}

static void test_answer__persian_digits__ucs2(void **state)
{
    /* "۱۲" = U+06F1 U+06F2: not GSM, so the whole answer goes as UCS-2 */
    static const uint8_t want[] = {0x06, 0xF1, 0x06, 0xF2};
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("۱۲", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 8);
    assert_int_equal(n, 4);
    assert_memory_equal(out, want, 4);
}

static void test_answer__mixed_latin_and_arabic__all_ucs2(void **state)
{
    /* one character outside GSM turns the whole text to UCS-2, the ASCII too */
    static const uint8_t want[] = {0x00, '1', 0x00, ' ', 0x06, 0x45};
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("1 م", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 8);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
}

static void test_answer__emoji__surrogate_pair(void **state)
{
    /* U+1F600 -> D83D DE00 */
    static const uint8_t want[] = {0xD8, 0x3D, 0xDE, 0x00};
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("\xF0\x9F\x98\x80", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 8);
    assert_memory_equal(out, want, 4);
    assert_int_equal(n, 4);
}

static void test_answer__invalid_utf8__replacement_in_ucs2(void **state)
{
    /* a lone continuation byte, a truncated sequence, an overlong '/' and an encoded surrogate */
    static const char in[] = "\x80"
                             "1"
                             "\xE0\x80"
                             "\xC0\xAF"
                             "\xED\xA0\x80";
    uint8_t out[64], dc = 99;
    size_t n = 0;

    (void)state;
    encode(in, out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 8);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0xFD);
    assert_int_equal(out[2], 0x00);
    assert_int_equal(out[3], '1');
    for (size_t i = 4; i < n; i += 2) {
        assert_int_equal(out[i], 0xFF);
        assert_int_equal(out[i + 1], 0xFD);
    }
}

static void test_answer__escape_char_and_control__not_gsm(void **state)
{
    /* U+001B is the GSM escape septet, not a character: it must not go out as 0x1B */
    uint8_t out[16], dc = 99;
    size_t n = 0;

    (void)state;
    encode("\x1B", out, sizeof(out), &n, &dc);
    assert_int_equal(dc, 8);
    assert_int_equal(n, 2);
    assert_int_equal(out[1], 0x1B);
}

static void test_answer__too_long__enospc_and_empty_ok(void **state)
{
    uint8_t out[4], dc = 99;
    size_t n = 7;

    (void)state;
    assert_int_equal(sim_utf8_to_wire("12345", 5, out, sizeof(out), &n, &dc), -ENOSPC);
    /* an escape pair needs two octets: it never goes half */
    assert_int_equal(sim_utf8_to_wire("123€", strlen("123€"), out, sizeof(out), &n, &dc), -ENOSPC);
    assert_int_equal(sim_utf8_to_wire("", 0, out, sizeof(out), &n, &dc), 0);
    assert_int_equal(n, 0);
    assert_int_equal(dc, 0);
    assert_int_equal(sim_utf8_to_wire(NULL, 0, out, sizeof(out), &n, &dc), -EINVAL);
}

static void test_answer__round_trip_through_the_decoder(void **state)
{
    static const char *const texts[] = {"1", "00", "€{}|", "سلام ۱۲۳", "Français ç", "اَ"};
    uint8_t wire[64], dc;
    size_t n;
    char back[128];

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        encode(texts[i], wire, sizeof(wire), &n, &dc);
        sim_text_to_utf8(dc, wire, n, back, sizeof(back), NULL);
        assert_string_equal(back, texts[i]);
    }
}

static void test_ussd_build__fields_and_session_info(void **state)
{
    struct smpp_sm sm;

    (void)state;
    assert_int_equal(sim_ussd_build(&sm, "212612345678", "555", 18, "۱", 7, 3, false), 0);
    assert_string_equal(sm.service_type, "USSD");
    assert_string_equal(sm.src_addr, "212612345678");
    assert_string_equal(sm.dst_addr, "555");
    assert_int_equal(sm.src_ton, 1);
    assert_true(sm.has_ussd_op);
    assert_int_equal(sm.ussd_op, 18);
    assert_true(sm.has_its_session);
    assert_int_equal(sm.its_session, 7 << 8 | 3 << 1); /* session high, seq<<1|end low */
    assert_int_equal(sm.data_coding, 8);
    assert_int_equal(sm.text_len, 2);
    /* the end bit, and a sequence counter that wraps within 7 bits */
    assert_int_equal(sim_ussd_build(&sm, "2126", "*555#", 129, "", 255, 130, true), 0);
    assert_int_equal(sm.its_session, 255 << 8 | (130 & 0x7F) << 1 | 1);
    assert_int_equal(sm.text_len, 0);
    assert_int_equal(sm.data_coding, 0);
}

static void test_ussd_build__address_too_long__einval(void **state)
{
    struct smpp_sm sm;

    (void)state;
    assert_int_equal(sim_ussd_build(&sm, "123456789012345678901", "555", 1, "*555#", 1, 0, false),
                     -EINVAL);
    assert_int_equal(sim_ussd_build(&sm, "2126", "*555*2*123456789012345#", 1, "x", 1, 0, false),
                     -EINVAL);
}

static void test_split_inputs__items_empty_and_limit(void **state)
{
    char buf[64];
    const char *items[4];

    (void)state;
    snprintf(buf, sizeof(buf), "1,,00");
    assert_int_equal(sim_ussd_split_inputs(buf, items, 4), 3);
    assert_string_equal(items[0], "1");
    assert_string_equal(items[1], "");
    assert_string_equal(items[2], "00");
    snprintf(buf, sizeof(buf), "%s", "");
    assert_int_equal(sim_ussd_split_inputs(buf, items, 4), 0);
    snprintf(buf, sizeof(buf), "1,2,3,4,5");
    assert_int_equal(sim_ussd_split_inputs(buf, items, 4), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer__ascii_digits__gsm7_one_octet_each),
        cmocka_unit_test(test_answer__gsm_remaps_and_extension__escaped),
        cmocka_unit_test(test_answer__persian_digits__ucs2),
        cmocka_unit_test(test_answer__mixed_latin_and_arabic__all_ucs2),
        cmocka_unit_test(test_answer__emoji__surrogate_pair),
        cmocka_unit_test(test_answer__invalid_utf8__replacement_in_ucs2),
        cmocka_unit_test(test_answer__escape_char_and_control__not_gsm),
        cmocka_unit_test(test_answer__too_long__enospc_and_empty_ok),
        cmocka_unit_test(test_answer__round_trip_through_the_decoder),
        cmocka_unit_test(test_ussd_build__fields_and_session_info),
        cmocka_unit_test(test_ussd_build__address_too_long__einval),
        cmocka_unit_test(test_split_inputs__items_empty_and_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
