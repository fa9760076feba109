/*
 * test_gw_log.c - log.format "json": every line is one valid JSON object (parsed back with
 * jansson) with ts, level, cat and msg; quotes, backslashes, control characters and bytes that
 * are not UTF-8 are escaped, never cut a line or break the JSON; a masked MSISDN stays masked;
 * a line cut to its buffer is still valid JSON. Also through the real path (gw_log to stderr,
 * captured with a pipe) and the refusal of unknown formats and outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gw_core.h"

/* 2026-12-07T01:02:03.456Z */
#define AT_MS INT64_C(1796605323456)

static json_t *parse_line(const char *line)
{
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);

    if (!j)
        fail_msg("not JSON (%s): %s", err.text, line);
    assert_true(json_is_object(j));
    return j;
}

static const char *field(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_log_json__plain_message__has_the_four_fields(void **state)
{
    char line[512];
    json_t *j;

    (void)state;
    gw_log_format_json(line, sizeof(line), AT_MS, GW_LOG_NOTICE, "ingest", "events=25");
    assert_null(strchr(line, '\n'));
    j = parse_line(line);
    assert_string_equal(field(j, "ts"), "2026-12-07T01:02:03.456Z");
    assert_string_equal(field(j, "level"), "NOTICE");
    assert_string_equal(field(j, "cat"), "ingest");
    assert_string_equal(field(j, "msg"), "events=25");
    assert_int_equal(json_object_size(j), 4);
    json_decref(j);
}

static void test_log_json__quotes_backslashes_controls__escaped_and_round_trip(void **state)
{
    const char *msg = "reason \"quoted\" path C:\\x tab\there nl\nbell\a end";
    char line[512];
    json_t *j;

    (void)state;
    gw_log_format_json(line, sizeof(line), AT_MS, GW_LOG_ERROR, "adm\"in", msg);
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\t'));
    j = parse_line(line);
    assert_string_equal(field(j, "msg"), msg);
    assert_string_equal(field(j, "cat"), "adm\"in");
    json_decref(j);
}

static void test_log_json__invalid_utf8__replaced_valid_utf8_kept(void **state)
{
    /* Arabic and Persian text kept; a lone continuation byte, a truncated sequence, an overlong
     * '/' and a UTF-16 surrogate encoded in UTF-8 each become U+FFFD */
    const char *msg = "نقاطي \x80 x\xe2\x82 y\xc0\xaf z\xed\xa0\x80 امتیاز";
    char line[512];
    json_t *j;

    (void)state;
    gw_log_format_json(line, sizeof(line), AT_MS, GW_LOG_INFO, "ussd", msg);
    j = parse_line(line);
    assert_string_equal(field(j, "msg"),
                        "نقاطي \xef\xbf\xbd x\xef\xbf\xbd\xef\xbf\xbd y\xef\xbf\xbd\xef\xbf\xbd "
                        "z\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd امتیاز");
    json_decref(j);
}

static void test_log_json__masked_msisdn__stays_masked(void **state)
{
    char mask[GW_MASK_LEN], msg[128], line[512];
    json_t *j;

    (void)state;
    snprintf(msg, sizeof(msg), "event{%s} TOPUP ref=OCS-1 +5 pts",
             gw_mask_msisdn("212612345678", mask));
    gw_log_format_json(line, sizeof(line), AT_MS, GW_LOG_INFO, "ingest", msg);
    assert_null(strstr(line, "212612345678"));
    assert_null(strstr(line, "2126123"));
    j = parse_line(line);
    assert_string_equal(field(j, "msg"), "event{\xe2\x80\xa6"
                                         "5678} TOPUP ref=OCS-1 +5 pts");
    json_decref(j);
}

static void test_log_json__small_buffer__cut_at_a_character_still_valid(void **state)
{
    char msg[600], line[160];
    json_t *j;

    (void)state;
    /* 2-byte characters and escapes: the cut must fall between characters and escapes */
    for (size_t i = 0; i + 2 < sizeof(msg); i += 2)
        memcpy(msg + i, (i / 2) % 3 == 0 ? "\"\"" : "\xd8\xb1", 2);
    msg[sizeof(msg) - 2] = '\0';
    for (size_t cap = 96; cap <= sizeof(line); cap++) {
        size_t n = gw_log_format_json(line, cap, AT_MS, GW_LOG_DEBUG, "t", msg);
        assert_true(n < cap);
        assert_int_equal(strlen(line), n);
        j = parse_line(line);
        json_decref(j);
    }
}

static void test_log_json__through_gw_log__one_line_per_event(void **state)
{
    int fds[2], saved;
    char buf[4096], mask[GW_MASK_LEN];
    ssize_t n;
    json_t *j;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    saved = dup(2);
    assert_int_equal(dup2(fds[1], 2), 2);
    assert_int_equal(gw_log_configure("json", "stderr", "test"), 0);
    gw_log(GW_LOG_NOTICE, "ingest", "event{%s} line one\nforged \"line\"",
           gw_mask_msisdn("212600000042", mask));
    gw_log(GW_LOG_INFO, "smpp", "second");
    fflush(stderr);
    assert_int_equal(gw_log_configure("text", "stderr", NULL), 0);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    *nl = '\0';
    j = parse_line(buf);
    /* gw_logv replaces control characters before any format: one event, one line */
    assert_string_equal(field(j, "msg"), "event{\xe2\x80\xa6"
                                         "0042} line one?forged \"line\"");
    assert_string_equal(field(j, "level"), "NOTICE");
    json_decref(j);
    char *second = nl + 1;
    nl = strchr(second, '\n');
    assert_non_null(nl);
    *nl = '\0';
    j = parse_line(second);
    assert_string_equal(field(j, "cat"), "smpp");
    json_decref(j);
    assert_string_equal(nl + 1, "");
    assert_null(strstr(buf, "212600000042"));
}

static void test_log_configure__unknown_values__refused(void **state)
{
    (void)state;
    assert_int_equal(gw_log_configure("xml", "stderr", NULL), -EINVAL);
    assert_int_equal(gw_log_configure("json", "file", NULL), -EINVAL);
    assert_int_equal(gw_log_configure("text", "stderr", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_json__plain_message__has_the_four_fields),
        cmocka_unit_test(test_log_json__quotes_backslashes_controls__escaped_and_round_trip),
        cmocka_unit_test(test_log_json__invalid_utf8__replaced_valid_utf8_kept),
        cmocka_unit_test(test_log_json__masked_msisdn__stays_masked),
        cmocka_unit_test(test_log_json__small_buffer__cut_at_a_character_still_valid),
        cmocka_unit_test(test_log_json__through_gw_log__one_line_per_event),
        cmocka_unit_test(test_log_configure__unknown_values__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
