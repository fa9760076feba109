/*
 * test_adm_suggest.c - the pure parts of the console's suggestion inbox (admin/adm_suggest.c):
 * the list's filters, a mark's body, the weekly counters folded for the chart, and the CSV cell
 * an idea becomes (quotes, formula injection). Owner: the suggestion-box engineer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "adm_suggest.h"

static void test_sg__filters__valid_and_refused(void **state)
{
    struct adm_sg_filter f;
    const char *field = NULL;

    (void)state;
    assert_int_equal(0, adm_sg_filter_parse(NULL, NULL, NULL, NULL, &f, &field));
    assert_true(adm_sg_filter_match(&f, 0, "fr", "", false));
    assert_int_equal(0, adm_sg_filter_parse("4", "ar", "wifi", "false", &f, &field));
    assert_true(adm_sg_filter_match(&f, 4, "ar", "wifi", false));
    assert_false(adm_sg_filter_match(&f, 5, "ar", "wifi", false));
    assert_false(adm_sg_filter_match(&f, 4, "fr", "wifi", false));
    assert_false(adm_sg_filter_match(&f, 4, "ar", "", false));
    assert_false(adm_sg_filter_match(&f, 4, "ar", "wifi", true));
    assert_int_equal(-EINVAL, adm_sg_filter_parse("6", NULL, NULL, NULL, &f, &field));
    assert_string_equal(field, "rating");
    assert_int_equal(-EINVAL, adm_sg_filter_parse(NULL, "AR", NULL, NULL, &f, &field));
    assert_string_equal(field, "lang");
    assert_int_equal(-EINVAL, adm_sg_filter_parse(NULL, NULL, "a b", NULL, &f, &field));
    assert_string_equal(field, "tag");
    assert_int_equal(-EINVAL, adm_sg_filter_parse(NULL, NULL, NULL, "maybe", &f, &field));
    assert_string_equal(field, "handled");
}

static int mark(const char *text, char *tag, bool *has_tag, bool *has_h, bool *h,
                const char **field)
{
    static char copy[64]; /* *field may be a key of the body: kept past its json_decref */
    const char *msg;
    json_t *j = json_loads(text, 0, NULL);
    int rc = adm_sg_mark_parse(j, has_tag, tag, ADM_SG_TAG_MAX + 1, has_h, h, field, &msg);
    if (rc != 0 && *field) {
        snprintf(copy, sizeof(copy), "%s", *field);
        *field = copy;
    }
    json_decref(j);
    return rc;
}

static void test_sg__mark_body__tag_handled_and_junk(void **state)
{
    char tag[ADM_SG_TAG_MAX + 1];
    bool has_tag, has_h, h = false;
    const char *field;

    (void)state;
    assert_int_equal(0, mark("{\"tag\": \"network\", \"handled\": true}", tag, &has_tag, &has_h,
                             &h, &field));
    assert_true(has_tag && has_h && h);
    assert_string_equal(tag, "network");
    assert_int_equal(0, mark("{\"tag\": \"\"}", tag, &has_tag, &has_h, &h, &field));
    assert_true(has_tag && !has_h);
    assert_string_equal(tag, "");
    assert_int_equal(-EINVAL, mark("{}", tag, &has_tag, &has_h, &h, &field));
    assert_int_equal(-EINVAL, mark("{\"tag\": \"<script>\"}", tag, &has_tag, &has_h, &h, &field));
    assert_string_equal(field, "tag");
    assert_int_equal(-EINVAL, mark("{\"tag\": \"aaaaaaaaaaaaaaaaaaaaaaaaa\"}", tag, &has_tag,
                                   &has_h, &h, &field)); /* 25 */
    assert_int_equal(-EINVAL, mark("{\"handled\": \"yes\"}", tag, &has_tag, &has_h, &h, &field));
    assert_string_equal(field, "handled");
    assert_int_equal(-EINVAL, mark("{\"handled\": true, \"msisdn\": \"1\"}", tag, &has_tag,
                                   &has_h, &h, &field));
    assert_string_equal(field, "msisdn");
    assert_int_equal(-EINVAL, mark("[1]", tag, &has_tag, &has_h, &h, &field));
}

static void test_sg__weeks__merged_sorted_and_junk_ignored(void **state)
{
    struct adm_sg_week w[3];
    size_t n = 0;

    (void)state;
    assert_int_equal(0, adm_sg_week_add(w, &n, 3, "20261207:n", "4"));
    assert_int_equal(0, adm_sg_week_add(w, &n, 3, "20261130:n", "2"));
    assert_int_equal(0, adm_sg_week_add(w, &n, 3, "20261207:rn", "2"));
    assert_int_equal(0, adm_sg_week_add(w, &n, 3, "20261207:rs", "9"));
    assert_int_equal(-EINVAL, adm_sg_week_add(w, &n, 3, "20261207:x", "1"));
    assert_int_equal(-EINVAL, adm_sg_week_add(w, &n, 3, "2026120:n", "1"));
    assert_int_equal(-EINVAL, adm_sg_week_add(w, &n, 3, "20261207:n", "-1"));
    assert_int_equal(-EINVAL, adm_sg_week_add(w, &n, 3, "20261207:n", "1x"));
    assert_int_equal(n, 2);
    assert_int_equal(w[0].week, 20261130);
    assert_int_equal(w[0].count, 2);
    assert_int_equal(w[0].ratings, 0);
    assert_int_equal(w[1].week, 20261207);
    assert_int_equal(w[1].count, 4);
    assert_int_equal(w[1].ratings, 2);
    assert_int_equal(w[1].rating_sum, 9);
    assert_int_equal(0, adm_sg_week_add(w, &n, 3, "20261123:n", "1"));
    assert_int_equal(-ENOSPC, adm_sg_week_add(w, &n, 3, "20261214:n", "1"));
    assert_int_equal(w[0].week, 20261123);
}

static char *cell(const char *text)
{
    struct evbuffer *b = evbuffer_new();
    size_t n;
    char *out;

    assert_int_equal(0, adm_csv_text(b, text));
    n = evbuffer_get_length(b);
    out = calloc(1, n + 1);
    evbuffer_remove(b, out, n);
    evbuffer_free(b);
    return out;
}

static void test_sg__csv_cell__quotes_and_formula_guard(void **state)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        {"plus de data, svp", "\"plus de data, svp\""},
        {"il a dit \"non\"", "\"il a dit \"\"non\"\"\""},
        {"=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
        {"+33 1 23", "\"'+33 1 23\""},
        {"-1", "\"'-1\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"هدايا أكثر", "\"هدايا أكثر\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *c = cell(v[i].in);
        assert_string_equal(c, v[i].want);
        free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sg__filters__valid_and_refused),
        cmocka_unit_test(test_sg__mark_body__tag_handled_and_junk),
        cmocka_unit_test(test_sg__weeks__merged_sorted_and_junk_ignored),
        cmocka_unit_test(test_sg__csv_cell__quotes_and_formula_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
