/*
 * test_adm_util.c - the admin API's pure helpers (admin/adm_util.c, adm_auth.c): yescrypt password
 * hashes and their verification, session tokens, the validators that run before any Redis key is
 * built from client input, the history-line parser (the note may hold '|'), CSV cells with quoting
 * and the spreadsheet-formula guard, and role names. Owner: the staff-console engineer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

static void test_password__hash_then_verify__matches_only_itself(void **state)
{
    char h1[256], h2[256];

    (void)state;
    assert_int_equal(0, adm_password_hash("correct horse battery", h1, sizeof(h1)));
    assert_int_equal(0, strncmp(h1, "$y$", 3));
    assert_true(adm_password_verify("correct horse battery", h1));
    assert_false(adm_password_verify("correct horse batterz", h1));
    assert_false(adm_password_verify("", h1));
    /* a fresh salt each time */
    assert_int_equal(0, adm_password_hash("correct horse battery", h2, sizeof(h2)));
    assert_string_not_equal(h1, h2);
}

static void test_password__weak_or_odd__refused(void **state)
{
    char h[256];

    (void)state;
    assert_int_equal(-EINVAL, adm_password_hash("short", h, sizeof(h)));
    assert_int_equal(-EINVAL, adm_password_hash("two\nlines-password", h, sizeof(h)));
    assert_int_equal(-ENOSPC, adm_password_hash("long-enough-pass", h, 10));
    assert_false(adm_password_verify("anything-at-all", "not a hash"));
    assert_false(adm_password_verify("anything-at-all", "!"));
    assert_false(adm_password_verify("anything-at-all", ""));
}

static void test_token__64_hex__and_distinct(void **state)
{
    char a[65], b[65];

    (void)state;
    assert_int_equal(0, adm_token_new(a, sizeof(a)));
    assert_int_equal(0, adm_token_new(b, sizeof(b)));
    assert_int_equal(64, strlen(a));
    assert_true(adm_token_valid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(-ENOSPC, adm_token_new(a, 64));
    assert_false(adm_token_valid("abc"));
    a[10] = 'G';
    assert_false(adm_token_valid(a));
    assert_false(adm_token_valid(NULL));
}

/* Redis keeps the SHA-256 of a token, never the token (a leaked dump gives no session). */
static void test_session_id__sha256_of_token__not_the_token(void **state)
{
    char tok[65], id[65], id2[65];

    (void)state;
    memset(tok, 'a', 64);
    tok[64] = '\0';
    assert_int_equal(0, adm_session_id(tok, id, sizeof(id)));
    /* sha256sum of 64 'a': an independent implementation's answer */
    assert_string_equal(id, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    assert_true(adm_token_valid(id)); /* same shape: usable as a path segment */
    assert_int_equal(0, adm_token_new(tok, sizeof(tok)));
    assert_int_equal(0, adm_session_id(tok, id2, sizeof(id2)));
    assert_string_not_equal(id2, tok);
    assert_string_not_equal(id2, id);
    assert_int_equal(-EINVAL, adm_session_id("abc", id, sizeof(id)));
    assert_int_equal(-EINVAL, adm_session_id(NULL, id, sizeof(id)));
    assert_int_equal(-ENOSPC, adm_session_id(tok, id, 64));
}

static void test_validators__client_input(void **state)
{
    (void)state;
    assert_true(adm_user_name_valid("mia"));
    assert_true(adm_user_name_valid("care.agent-7"));
    assert_false(adm_user_name_valid(""));
    assert_false(adm_user_name_valid(".hidden"));
    assert_false(adm_user_name_valid("Mia"));
    assert_false(adm_user_name_valid("a:b"));
    assert_false(adm_user_name_valid("abcdefghijabcdefghijabcdefghijabc")); /* 33 */
    assert_true(adm_msisdn_valid("212612345678"));
    assert_false(adm_msisdn_valid("1234567"));
    assert_false(adm_msisdn_valid("2126123456789012"));
    assert_false(adm_msisdn_valid("21261234567a"));
    assert_true(adm_request_id_valid("case-1:2026.11"));
    assert_false(adm_request_id_valid(""));
    assert_false(adm_request_id_valid("a|b"));
    assert_false(adm_request_id_valid("a b"));
    assert_int_equal(ADM_ROLE_CARE, adm_role_parse("care"));
    assert_int_equal(0, adm_role_parse("root"));
    assert_string_equal("auditor", adm_role_name(ADM_ROLE_AUDITOR));
}

/* Regression (found by test_date_sweeps): the console's send_at checked the day against 31 only,
 * and timegm rolled "30 February" into March; a leap second 60 rolled into the next minute. */
static void test_send_time__day_past_month_end__refused(void **state)
{
    int64_t at;

    (void)state;
    assert_int_equal(adm_time_parse("2027-02-29T09:00Z", &at), -EINVAL);
    assert_int_equal(adm_time_parse("2026-04-31T09:00Z", &at), -EINVAL);
    assert_int_equal(adm_time_parse("2026-11-30T09:00:60Z", &at), -EINVAL);
    assert_int_equal(adm_time_parse("2026-11-30T09:00+1:00", &at), -EINVAL);
    assert_int_equal(adm_time_parse("2028-02-29T09:00Z", &at), 0);
    assert_int_equal(at % 86400, 9 * 3600);
}

static void test_history__note_with_bars__kept_whole(void **state)
{
    char line[] = "1000000000|TOPUP|OCS-1|+5|18|TOPUP 1/10 MAD; promo a|b";
    char adj[] = "1000000100|ADJUST|~adm:c1|-30|38|adjust by carl: x";
    char bad[] = "1000000000|TOPUP|OCS-1|five|18|note";
    struct adm_history_entry h;

    (void)state;
    assert_int_equal(0, adm_history_parse(line, &h));
    assert_int_equal(1000000000, h.at);
    assert_string_equal("TOPUP", h.kind);
    assert_string_equal("OCS-1", h.ref);
    assert_int_equal(5, h.points);
    assert_int_equal(18, h.balance);
    assert_string_equal("TOPUP 1/10 MAD; promo a|b", h.note);
    assert_int_equal(0, adm_history_parse(adj, &h));
    assert_int_equal(-30, h.points);
    assert_int_equal(-EINVAL, adm_history_parse(bad, &h));
}

static char *csv_of(const char *cell)
{
    struct evbuffer *b = evbuffer_new();
    size_t n;
    char *s;

    adm_csv_text(b, cell);
    n = evbuffer_get_length(b);
    s = calloc(1, n + 1);
    evbuffer_remove(b, s, n);
    evbuffer_free(b);
    return s;
}

static void test_csv__quotes_and_formula_guard(void **state)
{
    char *s;

    (void)state;
    s = csv_of("plain");
    assert_string_equal("\"plain\"", s);
    free(s);
    s = csv_of("say \"hi\", ok");
    assert_string_equal("\"say \"\"hi\"\", ok\"", s);
    free(s);
    s = csv_of("=HYPERLINK(\"x\")");
    assert_string_equal("\"'=HYPERLINK(\"\"x\"\")\"", s);
    free(s);
    s = csv_of("@SUM(A1)");
    assert_string_equal("\"'@SUM(A1)\"", s);
    free(s);
    s = csv_of(NULL);
    assert_string_equal("\"\"", s);
    free(s);
}

static void test_mask__numbers_in_dead_letters__last_four_only(void **state)
{
    char plain[] = "TOPUP|212612345678|50|r1";
    char ucs2[] = "\\x002\\x001\\x002\\x006\\x001\\x002\\x003\\x004\\x005\\x006";
    char both[] = "from 212600000001 to +212611112222; code 1234, ref 77001234";
    char none[] = "pdu refused with ESME_RINVCMDID: 0x00000109";

    (void)state;
    assert_int_equal(1, adm_mask_numbers(plain));
    assert_string_equal("TOPUP|********5678|50|r1", plain);
    /* escaped UCS-2 "2126123456": the digits between the \x00 escapes are one number */
    assert_int_equal(1, adm_mask_numbers(ucs2));
    assert_string_equal("\\x00*\\x00*\\x00*\\x00*\\x00*\\x00*\\x003\\x004\\x005\\x006", ucs2);
    assert_int_equal(3, adm_mask_numbers(both));
    assert_string_equal("from ********0001 to +********2222; code 1234, ref ****1234", both);
    assert_int_equal(0, adm_mask_numbers(none)); /* "00000109": eight digits after "0x" */
    assert_string_equal("pdu refused with ESME_RINVCMDID: 0x00000109", none);
    assert_int_equal(0, adm_mask_numbers(NULL));
}

/* Feeds text in pieces of `step` bytes (1 = byte by byte: a slow client's segments). */
static int feed(struct adm_preauth *p, const char *text, size_t step)
{
    size_t n = strlen(text);

    for (size_t i = 0; i < n; i += step) {
        int rc = adm_preauth_feed(p, text + i, n - i < step ? n - i : step, 4096);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void test_preauth__login_bodies_bounded_token_bodies_not(void **state)
{
    static const size_t steps[] = {1, 7, 100000};
    char big_auth[512], tok[2 * ADM_TOKEN_BYTES + 1];

    (void)state;
    assert_int_equal(0, adm_token_new(tok, sizeof(tok)));
    snprintf(big_auth, sizeof(big_auth),
             "PUT /api/catalog HTTP/1.1\r\nauthorization: bearer %s\r\n"
             "Content-Length: 60000\r\n\r\n",
             tok);
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        struct adm_preauth p = {0};
        size_t st = steps[k];
        /* a login of normal size, then (keep-alive) one with a 1 MiB body: refused from its head */
        assert_int_equal(0, feed(&p,
                                 "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                 "40\r\n\r\n{\"user\":\"mia\",\"password\":\"0123456789\"}",
                                 st));
        assert_int_equal(
            -EMSGSIZE, feed(&p, "POST /api/login HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n", st));
        /* a chunked body without a token: its size is unknown, refused */
        memset(&p, 0, sizeof(p));
        assert_int_equal(
            -EMSGSIZE,
            feed(&p, "POST /api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", st));
        /* a malformed token is no token */
        memset(&p, 0, sizeof(p));
        assert_int_equal(-EMSGSIZE, feed(&p,
                                         "PUT /api/catalog HTTP/1.1\r\nAuthorization: Bearer "
                                         "abc\r\nContent-Length: 60000\r\n\r\n",
                                         st));
        /* a well-formed token: the big body goes on to evhttp (its max body and the session check
         * apply), and the body's bytes are not mistaken for a head */
        memset(&p, 0, sizeof(p));
        assert_int_equal(0, feed(&p, big_auth, st));
        char *body = malloc(60001);
        assert_non_null(body);
        memset(body, 'x', 60000);
        body[60000] = '\0';
        assert_int_equal(0, feed(&p, body, st == 1 ? 1000 : st));
        free(body);
        /* ... then the next request on the connection is judged on its own */
        assert_int_equal(
            -EMSGSIZE,
            feed(&p, "\r\nPOST /api/login HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", st));
        /* an unparsable length is as large as can be */
        memset(&p, 0, sizeof(p));
        assert_int_equal(-EMSGSIZE,
                         feed(&p, "POST /api/login HTTP/1.1\r\nContent-Length: 12ab\r\n\r\n", st));
        /* GETs without a body, bare LF line ends */
        memset(&p, 0, sizeof(p));
        assert_int_equal(0, feed(&p, "GET / HTTP/1.1\nHost: x\n\nGET /app.js HTTP/1.1\n\n", st));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password__hash_then_verify__matches_only_itself),
        cmocka_unit_test(test_password__weak_or_odd__refused),
        cmocka_unit_test(test_token__64_hex__and_distinct),
        cmocka_unit_test(test_session_id__sha256_of_token__not_the_token),
        cmocka_unit_test(test_validators__client_input),
        cmocka_unit_test(test_send_time__day_past_month_end__refused),
        cmocka_unit_test(test_history__note_with_bars__kept_whole),
        cmocka_unit_test(test_csv__quotes_and_formula_guard),
        cmocka_unit_test(test_mask__numbers_in_dead_letters__last_four_only),
        cmocka_unit_test(test_preauth__login_bodies_bounded_token_bodies_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
