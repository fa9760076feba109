/*
 * test_sim_sms.c - the handset side of SMS in smsc-sim's --phone: user data headers (8- and
 * 16-bit concatenation references, other IEs skipped, hostile lengths refused, invalid
 * concatenation IEs ignored) and the reassembly of concatenated parts (any arrival order,
 * repeated parts, messages interleaved, the oldest pushed out when every slot is busy). Compiled
 * from sim_sms.c directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smpp/sim/sim_sms.c"

#include <errno.h>
#include <string.h>

static void test_udh__concat8__ref_total_seq(void **state)
{
    static const uint8_t d[] = {0x05, 0x00, 0x03, 0xA7, 0x03, 0x02, 'h', 'i'};
    struct sim_udh u;

    (void)state;
    assert_int_equal(sim_udh_parse(d, sizeof(d), &u), 0);
    assert_int_equal(u.len, 6);
    assert_true(u.concat);
    assert_int_equal(u.ref, 0xA7);
    assert_int_equal(u.total, 3);
    assert_int_equal(u.seq, 2);
}

static void test_udh__concat16_after_other_ie__found(void **state)
{
    /* a port-addressing IE (0x05, 4 octets) first, then the 16-bit concatenation IE */
    static const uint8_t d[] = {0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0,
                                0x08, 0x04, 0x12, 0x34, 0x02, 0x01, 'x'};
    struct sim_udh u;

    (void)state;
    assert_int_equal(sim_udh_parse(d, sizeof(d), &u), 0);
    assert_int_equal(u.len, 13);
    assert_true(u.concat);
    assert_int_equal(u.ref, 0x1234);
    assert_int_equal(u.total, 2);
    assert_int_equal(u.seq, 1);
}

static void test_udh__lengths_past_the_data__ebadmsg(void **state)
{
    static const uint8_t udhl_long[] = {0x09, 0x00, 0x03, 0x01, 0x02, 0x01};
    static const uint8_t ie_long[] = {0x05, 0x00, 0x07, 0x01, 0x02, 0x01, 'a'};
    static const uint8_t ie_cut[] = {0x01, 0x00, 'a'};
    struct sim_udh u;

    (void)state;
    assert_int_equal(sim_udh_parse(udhl_long, sizeof(udhl_long), &u), -EBADMSG);
    assert_int_equal(sim_udh_parse(ie_long, sizeof(ie_long), &u), -EBADMSG);
    assert_int_equal(sim_udh_parse(ie_cut, sizeof(ie_cut), &u), -EBADMSG);
    assert_int_equal(sim_udh_parse(ie_cut, 0, &u), -EBADMSG);
}

static void test_udh__seq_zero_or_beyond_total__ignored(void **state)
{
    static const uint8_t seq0[] = {0x05, 0x00, 0x03, 0x01, 0x02, 0x00, 'a'};
    static const uint8_t seq3of2[] = {0x05, 0x00, 0x03, 0x01, 0x02, 0x03, 'a'};
    static const uint8_t total0[] = {0x05, 0x00, 0x03, 0x01, 0x00, 0x00, 'a'};
    static const uint8_t wrong_iel[] = {0x04, 0x00, 0x02, 0x01, 0x02, 'a'};
    struct sim_udh u;

    (void)state;
    assert_int_equal(sim_udh_parse(seq0, sizeof(seq0), &u), 0);
    assert_false(u.concat);
    assert_int_equal(u.len, 6); /* the text still starts after the header */
    assert_int_equal(sim_udh_parse(seq3of2, sizeof(seq3of2), &u), 0);
    assert_false(u.concat);
    assert_int_equal(sim_udh_parse(total0, sizeof(total0), &u), 0);
    assert_false(u.concat);
    assert_int_equal(sim_udh_parse(wrong_iel, sizeof(wrong_iel), &u), 0);
    assert_false(u.concat);
}

static struct sim_udh part(uint16_t ref, uint8_t total, uint8_t seq)
{
    struct sim_udh u = {.len = 6, .concat = true, .ref = ref, .total = total, .seq = seq};
    return u;
}

static int add(struct sim_concat *c, const char *from, uint16_t ref, uint8_t total, uint8_t seq,
               const char *text, char *out, size_t *n)
{
    struct sim_udh u = part(ref, total, seq);
    uint8_t dc = 0xEE;
    int rc = sim_concat_add(c, from, &u, 0, (const uint8_t *)text, strlen(text), (uint8_t *)out,
                            256, n, &dc);

    if (rc == 1) {
        out[*n] = '\0';
        assert_int_equal(dc, 0);
    }
    return rc;
}

static void test_concat__reverse_order__joined_in_seq_order(void **state)
{
    static struct sim_concat c;
    char out[257];
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(add(&c, "555", 9, 3, 3, "three", out, &n), 0);
    assert_int_equal(add(&c, "555", 9, 3, 2, "two ", out, &n), 0);
    assert_int_equal(add(&c, "555", 9, 3, 1, "one ", out, &n), 1);
    assert_string_equal(out, "one two three");
    assert_int_equal(n, 13);
    /* the slot is free again: the same reference starts a new message */
    assert_int_equal(add(&c, "555", 9, 2, 1, "a", out, &n), 0);
    sim_concat_free(&c);
}

static void test_concat__repeated_part__replaces_not_counts(void **state)
{
    static struct sim_concat c;
    char out[257];
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(add(&c, "555", 1, 2, 1, "old ", out, &n), 0);
    assert_int_equal(add(&c, "555", 1, 2, 1, "new ", out, &n), 0); /* still one missing */
    assert_int_equal(add(&c, "555", 1, 2, 2, "end", out, &n), 1);
    assert_string_equal(out, "new end");
    sim_concat_free(&c);
}

static void test_concat__interleaved_messages_and_senders__kept_apart(void **state)
{
    static struct sim_concat c;
    char out[257];
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(add(&c, "555", 1, 2, 1, "A1", out, &n), 0);
    assert_int_equal(add(&c, "556", 1, 2, 2, "X2", out, &n), 0); /* same ref, other sender */
    assert_int_equal(add(&c, "555", 2, 2, 2, "B2", out, &n), 0);
    assert_int_equal(add(&c, "555", 1, 3, 1, "C1", out, &n), 0); /* same ref, other total */
    assert_int_equal(add(&c, "555", 2, 2, 1, "B1", out, &n), 1);
    assert_string_equal(out, "B1B2");
    assert_int_equal(add(&c, "555", 1, 2, 2, "A2", out, &n), 1);
    assert_string_equal(out, "A1A2");
    assert_int_equal(add(&c, "556", 1, 2, 1, "X1", out, &n), 1);
    assert_string_equal(out, "X1X2");
    sim_concat_free(&c);
}

static void test_concat__every_slot_busy__oldest_dropped(void **state)
{
    static struct sim_concat c;
    char out[257];
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (uint16_t r = 0; r < SIM_CONCAT_SLOTS + 1; r++)
        assert_int_equal(add(&c, "555", r, 2, 1, "x", out, &n), 0);
    assert_int_equal(c.dropped, 1);
    /* ref 0 was the oldest: its second part now starts a fresh message */
    assert_int_equal(add(&c, "555", 0, 2, 2, "y", out, &n), 0);
    assert_int_equal(c.dropped, 2);
    /* ref 16 (the newest) is still whole */
    assert_int_equal(add(&c, "555", SIM_CONCAT_SLOTS, 2, 2, "z", out, &n), 1);
    assert_string_equal(out, "xz");
    sim_concat_free(&c);
}

static void test_concat__ucs2_part_one_decides_coding(void **state)
{
    static struct sim_concat c;
    static const uint8_t p1[] = {0x06, 0x45}, p2[] = {0x06, 0x44};
    struct sim_udh u1 = part(4, 2, 1), u2 = part(4, 2, 2);
    uint8_t out[8], dc = 0;
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sim_concat_add(&c, "555", &u2, 0, p2, 2, out, sizeof(out), &n, &dc), 0);
    assert_int_equal(sim_concat_add(&c, "555", &u1, 8, p1, 2, out, sizeof(out), &n, &dc), 1);
    assert_int_equal(dc, 8);
    assert_int_equal(n, 4);
    assert_int_equal(out[1], 0x45);
    assert_int_equal(out[3], 0x44);
    sim_concat_free(&c);
}

static void test_concat__output_too_small__enospc_and_slot_freed(void **state)
{
    static struct sim_concat c;
    struct sim_udh u1 = part(5, 2, 1), u2 = part(5, 2, 2), bad = part(5, 2, 3);
    uint8_t out[3], dc = 0;
    size_t n = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sim_concat_add(&c, "555", &u1, 0, (const uint8_t *)"ab", 2, out, 3, &n, &dc),
                     0);
    assert_int_equal(sim_concat_add(&c, "555", &u2, 0, (const uint8_t *)"cd", 2, out, 3, &n, &dc),
                     -ENOSPC);
    for (size_t i = 0; i < SIM_CONCAT_SLOTS; i++)
        assert_false(c.slot[i].used);
    bad.concat = true;
    assert_int_equal(sim_concat_add(&c, "555", &bad, 0, (const uint8_t *)"x", 1, out, 3, &n, &dc),
                     -EINVAL);
    sim_concat_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udh__concat8__ref_total_seq),
        cmocka_unit_test(test_udh__concat16_after_other_ie__found),
        cmocka_unit_test(test_udh__lengths_past_the_data__ebadmsg),
        cmocka_unit_test(test_udh__seq_zero_or_beyond_total__ignored),
        cmocka_unit_test(test_concat__reverse_order__joined_in_seq_order),
        cmocka_unit_test(test_concat__repeated_part__replaces_not_counts),
        cmocka_unit_test(test_concat__interleaved_messages_and_senders__kept_apart),
        cmocka_unit_test(test_concat__every_slot_busy__oldest_dropped),
        cmocka_unit_test(test_concat__ucs2_part_one_decides_coding),
        cmocka_unit_test(test_concat__output_too_small__enospc_and_slot_freed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
