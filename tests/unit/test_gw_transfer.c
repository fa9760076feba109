/*
 * test_gw_transfer.c - the pure parts of points transfer (gateway/gw_transfer.c): which PINs a
 * subscriber may choose, the salted PIN hash (a known SHA-256 vector, salts differ, the PIN
 * never appears in the stored text), transfer ids and their parse of untrusted pending entries,
 * and the configuration's bounds. The lockout and the caps are counted atomically in
 * lua/transfer.lua and are tested against a real Redis in tests/it/test_transfer.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gw_transfer.h"

static void test_pin__trivial_pins__refused(void **state)
{
    (void)state;
    assert_true(gw_transfer_pin_acceptable("2580", 4));
    assert_true(gw_transfer_pin_acceptable("1357", 4));
    assert_true(gw_transfer_pin_acceptable("1123", 4));
    assert_false(gw_transfer_pin_acceptable("0000", 4));
    assert_false(gw_transfer_pin_acceptable("1234", 4));
    assert_false(gw_transfer_pin_acceptable("6789", 4));
    assert_false(gw_transfer_pin_acceptable("9876", 4));
    assert_false(gw_transfer_pin_acceptable("123", 3));
    assert_false(gw_transfer_pin_acceptable("12a4", 4));
    assert_false(gw_transfer_pin_acceptable("25801", 5));
    assert_false(gw_transfer_pin_acceptable(NULL, 4));
}

static void test_pin_hash__known_vector__and_salt_matters(void **state)
{
    char h1[GW_PIN_HASH_HEX + 1], h2[GW_PIN_HASH_HEX + 1];
    const char *salt = "00112233445566778899aabbccddeeff";

    (void)state;
    assert_int_equal(gw_transfer_pin_hash(salt, "212600000001", "2580", 4, h1), 0);
    /* printf '00112233445566778899aabbccddeeff:212600000001:2580' | sha256sum */
    assert_string_equal(h1, "e1533c2146f315fb157be15e52cbe5b723e10fc0dddccb25c7aee829e97f5d8d");
    assert_int_equal(strlen(h1), GW_PIN_HASH_HEX);
    assert_int_equal(gw_transfer_pin_hash("ffeeddccbbaa99887766554433221100", "212600000001",
                                          "2580", 4, h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(gw_transfer_pin_hash(salt, "212600000002", "2580", 4, h2), 0);
    assert_string_not_equal(h1, h2);
    assert_null(strstr(h1, "2580"));
}

static void test_pin_hash__bad_input__einval(void **state)
{
    char h[GW_PIN_HASH_HEX + 1];
    (void)state;
    assert_int_equal(gw_transfer_pin_hash("0011", "212600000001", "2580", 4, h), -22);
    assert_int_equal(gw_transfer_pin_hash("00112233445566778899aabbccddeezz", "212600000001",
                                          "2580", 4, h), -22);
    assert_int_equal(gw_transfer_pin_hash("00112233445566778899aabbccddeeff", "21260000000a",
                                          "2580", 4, h), -22);
    assert_int_equal(gw_transfer_pin_hash("00112233445566778899aabbccddeeff", "212600000001",
                                          "25x0", 4, h), -22);
    /* a typed PIN is checked even when it would not be accepted as a new one */
    assert_int_equal(gw_transfer_pin_hash("00112233445566778899aabbccddeeff", "212600000001",
                                          "1234", 4, h), 0);
}

static void test_salt__random_hex__differs(void **state)
{
    char a[GW_PIN_SALT_HEX + 1], b[GW_PIN_SALT_HEX + 1];
    (void)state;
    assert_int_equal(gw_transfer_pin_salt(a), 0);
    assert_int_equal(gw_transfer_pin_salt(b), 0);
    assert_int_equal(strlen(a), GW_PIN_SALT_HEX);
    assert_int_equal(strspn(a, "0123456789abcdef"), GW_PIN_SALT_HEX);
    assert_string_not_equal(a, b);
}

static void test_tid__roundtrip__and_hostile_entries_refused(void **state)
{
    char tid[GW_TID_MAX], from[16], to[16];
    int64_t pts = 0;

    (void)state;
    assert_int_equal(gw_transfer_tid("212600000001", "212600000002", 150, "s9-ab_C", tid), 0);
    assert_string_equal(tid, "212600000001:212600000002:150:s9-ab_C");
    assert_int_equal(gw_transfer_tid_parse(tid, strlen(tid), from, to, &pts), 0);
    assert_string_equal(from, "212600000001");
    assert_string_equal(to, "212600000002");
    assert_int_equal(pts, 150);

    assert_int_equal(gw_transfer_tid("212600000001", "212600000001", 1, "t", tid), -22);
    assert_int_equal(gw_transfer_tid("212600000001", "212600000002", 0, "t", tid), -22);
    assert_int_equal(gw_transfer_tid("212600000001", "212600000002", 1, "a:b", tid), -22);
    assert_int_equal(gw_transfer_tid("212600000001", "212600000002", 1, "", tid), -22);

    static const char *const bad[] = {
        "", ":::", "212600000001:212600000002:150", "212600000001:212600000002:0150:t",
        "212600000001:212600000001:150:t", "212600000001:212600000002:150:t:x",
        "212600000001:212600000002:-5:t", "2126000000011111:212600000002:5:t",
        "212600000001::212600000002:5:t", "212600000001:212600000002:5:t t",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_transfer_tid_parse(bad[i], strlen(bad[i]), from, to, &pts), -22);
    assert_int_equal(gw_transfer_tid_parse("212600000001:2\0:5:t", 19, from, to, &pts), -22);
}

static void test_config__defaults_pass__bounds_refused(void **state)
{
    struct gw_transfer_config c;
    char err[128];

    (void)state;
    gw_transfer_config_defaults(&c);
    assert_int_equal(gw_transfer_config_check(&c, err, sizeof(err)), 0);
    assert_int_equal(c.max_wrong_pins, 3);
    c.min_points = c.max_points + 1;
    assert_int_equal(gw_transfer_config_check(&c, err, sizeof(err)), -22);
    assert_non_null(strstr(err, "min_points"));
    gw_transfer_config_defaults(&c);
    c.max_wrong_pins = 0;
    assert_int_equal(gw_transfer_config_check(&c, err, sizeof(err)), -22);
    gw_transfer_config_defaults(&c);
    c.day_cap = -1;
    assert_int_equal(gw_transfer_config_check(&c, err, sizeof(err)), -22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin__trivial_pins__refused),
        cmocka_unit_test(test_pin_hash__known_vector__and_salt_matters),
        cmocka_unit_test(test_pin_hash__bad_input__einval),
        cmocka_unit_test(test_salt__random_hex__differs),
        cmocka_unit_test(test_tid__roundtrip__and_hostile_entries_refused),
        cmocka_unit_test(test_config__defaults_pass__bounds_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
