/*
 * test_cat_prov.c - the provisioning adapter's contract (catalog/cat_prov.c, shared/spec/
 * provisioning.md) without a network: the request body, and the outcome table for every answer
 * the spec lists plus the ones it does not (untrusted bodies included). The adapter over a real
 * HTTP server is exercised by tests/it/test_fulfil.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_fulfil.h"
#include "gw_config.h"
#include "gw_http.h"

static const struct cat_prov_grant grant = {
    .redemption_id = "212612345678:DATA_1GB:20261125:00ab12cd34ef5678",
    .msisdn = "212612345678",
    .beneficiary = "212698765432",
    .item = "DATA_1GB",
    .kind = "data",
    .quantity = 1024,
    .unit = "MB",
};

static struct cat_prov_result classify(int err, long status, const char *body)
{
    struct cat_prov_result r;

    cat_prov_http_classify(err, status, body, body ? strlen(body) : 0, &r);
    return r;
}

static void test_prov__body__carries_every_field_of_the_spec(void **state)
{
    char *s = NULL;
    json_t *o;

    (void)state;
    assert_int_equal(cat_prov_http_body(&grant, &s), 0);
    o = json_loads(s, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "redemption_id")),
                        grant.redemption_id);
    assert_string_equal(json_string_value(json_object_get(o, "msisdn")), "212612345678");
    assert_string_equal(json_string_value(json_object_get(o, "beneficiary")), "212698765432");
    assert_string_equal(json_string_value(json_object_get(o, "item")), "DATA_1GB");
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "data");
    assert_int_equal(json_integer_value(json_object_get(o, "quantity")), 1024);
    assert_string_equal(json_string_value(json_object_get(o, "unit")), "MB");
    assert_int_equal(json_object_size(o), 7);
    json_decref(o);
    free(s);
}

static void test_prov__body__gift_to_self_names_the_subscriber_as_beneficiary(void **state)
{
    struct cat_prov_grant g = grant;
    char *s = NULL;
    json_t *o;

    (void)state;
    g.beneficiary = "";
    assert_int_equal(cat_prov_http_body(&g, &s), 0);
    o = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "beneficiary")), "212612345678");
    json_decref(o);
    free(s);
}

static void test_prov__body__bad_fields_refused(void **state)
{
    struct cat_prov_grant g;
    char *s = (char *)"untouched";

    (void)state;
    g = grant;
    g.redemption_id = "abc\r\nX-Injected: 1"; /* would become a header */
    assert_int_equal(cat_prov_http_body(&g, &s), -EINVAL);
    assert_null(s);
    g = grant;
    g.msisdn = "2126123456a8";
    assert_int_equal(cat_prov_http_body(&g, &s), -EINVAL);
    g = grant;
    g.beneficiary = "+212698765432";
    assert_int_equal(cat_prov_http_body(&g, &s), -EINVAL);
    g = grant;
    g.quantity = 0;
    assert_int_equal(cat_prov_http_body(&g, &s), -EINVAL);
    g = grant;
    g.unit = "\"MB\"";
    assert_int_equal(cat_prov_http_body(&g, &s), -EINVAL);
    assert_int_equal(cat_prov_http_body(NULL, &s), -EINVAL);
}

static void test_prov__200_and_201__granted_with_the_reference(void **state)
{
    struct cat_prov_result r;

    (void)state;
    r = classify(0, 200, "{\"status\":\"granted\",\"reference\":\"PRV-123.a:b_c\"}");
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    assert_string_equal(r.reference, "PRV-123.a:b_c");
    assert_int_equal(r.http_status, 200);
    r = classify(0, 201, "{\"status\":\"granted\",\"reference\":\"R1\"}");
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    assert_string_equal(r.reference, "R1");
}

static void test_prov__granted_with_unreadable_body__still_granted_without_reference(void **state)
{
    struct cat_prov_result r;

    (void)state;
    /* the status code is the provider's statement; a bad body must not cause a refund */
    r = classify(0, 201, "<html>ok</html>");
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    assert_string_equal(r.reference, "");
    r = classify(0, 200, NULL);
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    /* a reference that could forge a log line or a record field is dropped */
    r = classify(0, 200, "{\"status\":\"granted\",\"reference\":\"a|b\\nc\"}");
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    assert_string_equal(r.reference, "");
    r = classify(0, 200,
                 "{\"reference\":\"0123456789012345678901234567890123456789012345678901234567890"
                 "123456789\"}");
    assert_string_equal(r.reference, "");
}

static void test_prov__409__already_granted_is_delivered(void **state)
{
    struct cat_prov_result r;

    (void)state;
    r = classify(0, 409, "{\"status\":\"already_granted\",\"reference\":\"G7\"}");
    assert_int_equal(r.outcome, CAT_PROV_ALREADY);
    assert_string_equal(r.reference, "G7");
    r = classify(0, 409, "");
    assert_int_equal(r.outcome, CAT_PROV_ALREADY);
}

/* Found by tests/fuzz/fuzz_prov_response (seed regress_status_del): the provider's "status" word
 * was copied raw into the reason, which goes to logs and the '|'-separated refund record. */
static void test_prov__hostile_status_word__reason_printable_without_separator(void **state)
{
    struct cat_prov_result r;

    (void)state;
    r = classify(0, 409, "{\"status\":\"al\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f"
                         "eady\",\"reference\":\"PRV-123\"}");
    assert_int_equal(r.outcome, CAT_PROV_ALREADY);
    assert_string_equal(r.reference, "PRV-123");
    assert_string_equal(r.reason, "status \"al???????????eady\" with http 409");
    r = classify(0, 200, "{\"status\":\"ok\\n|x|\\u0001\",\"reference\":\"R1\"}");
    assert_int_equal(r.outcome, CAT_PROV_GRANTED);
    assert_string_equal(r.reason, "status \"ok??x??\" with http 200");
}

static void test_prov__400_404_422__permanent_with_the_reason(void **state)
{
    static const long codes[] = {400, 404, 422};
    struct cat_prov_result r;

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        r = classify(0, codes[i], "{\"message\":\"subscriber barred\"}");
        assert_int_equal(r.outcome, CAT_PROV_PERMANENT);
        assert_int_equal(r.http_status, codes[i]);
    }
    assert_string_equal(r.reason, "http 422: subscriber barred");
    r = classify(0, 400, "{\"error\":\"bad unit\"}");
    assert_string_equal(r.reason, "http 400: bad unit");
    /* untrusted text: control characters and '|' never reach the record */
    r = classify(0, 404, "no\nsuch|thing");
    assert_string_equal(r.reason, "http 404: no?such?thing");
}

static void test_prov__5xx__temporary(void **state)
{
    (void)state;
    for (long s = 500; s <= 504; s++) {
        struct cat_prov_result r = classify(0, s, "oops");
        assert_int_equal(r.outcome, CAT_PROV_TEMPORARY);
    }
    assert_string_equal(classify(0, 503, "").reason, "http 503");
}

static void test_prov__timeout_refused_and_other_transport_errors__temporary(void **state)
{
    static const int errs[] = {-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -ECONNRESET,
                               -EMSGSIZE,  -ECANCELED,    -EIO};
    struct cat_prov_result r;

    (void)state;
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        r = classify(errs[i], 0, NULL);
        assert_int_equal(r.outcome, CAT_PROV_TEMPORARY);
        assert_int_equal(r.err, errs[i]);
        assert_int_equal(r.http_status, 0);
    }
    assert_string_equal(classify(-ETIMEDOUT, 0, NULL).reason, "timeout");
    assert_string_equal(classify(-ECONNREFUSED, 0, NULL).reason, "connection refused");
}

static void test_prov__unlisted_statuses__temporary_not_refunded(void **state)
{
    static const long codes[] = {202, 301, 401, 403, 408, 429, 418};

    (void)state;
    /* a wrong token (401/403) is our misconfiguration: retrying until the deadline with the same
     * Idempotency-Key is better than refunding every subscriber */
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_int_equal(classify(0, codes[i], "{}").outcome, CAT_PROV_TEMPORARY);
}

static void test_prov__adapter__bad_base_url_refused(void **state)
{
    struct cat_prov_http_config cfg;

    (void)state;
    cat_prov_http_config_defaults(&cfg);
    assert_int_equal(cfg.timeout_ms, 5000);
    assert_null(cat_prov_http_new((struct gw_http *)&cfg, &cfg)); /* empty base_url */
    assert_null(cat_prov_http_new(NULL, &cfg));
}

static void test_prov__transport__https_only_http_to_loopback_in_test_mode(void **state)
{
    char why[256];

    (void)state;
    assert_int_equal(cat_prov_url_check("https://prov.carrier.example", false, why, 256), 0);
    assert_int_equal(cat_prov_url_check("https://10.0.0.5:8443/api", false, why, 256), 0);
    /* plain http to anywhere: refused, test mode or not, unless the host is loopback */
    assert_int_equal(cat_prov_url_check("http://prov.carrier.example", false, why, 256), -EINVAL);
    assert_non_null(strstr(why, "https:// required"));
    assert_int_equal(cat_prov_url_check("http://prov.carrier.example", true, why, 256), -EINVAL);
    assert_int_equal(cat_prov_url_check("http://10.0.0.5:8080", true, why, 256), -EINVAL);
    assert_int_equal(cat_prov_url_check("http://127.evil.example", true, why, 256), -EINVAL);
    assert_int_equal(cat_prov_url_check("http://127.0.0.1.evil.example", true, why, 256), -EINVAL);
    /* loopback over http: only in the explicit test mode */
    assert_int_equal(cat_prov_url_check("http://127.0.0.1:8080", false, why, 256), -EINVAL);
    assert_non_null(strstr(why, "insecure_test_mode"));
    assert_int_equal(cat_prov_url_check("http://127.0.0.1:8080", true, why, 256), 0);
    assert_int_equal(cat_prov_url_check("http://localhost:1/x", true, why, 256), 0);
    assert_int_equal(cat_prov_url_check("http://[::1]:8080", true, why, 256), 0);
    assert_int_equal(cat_prov_url_check("ftp://127.0.0.1", true, why, 256), -EINVAL);
    assert_int_equal(cat_prov_url_check("", true, why, 256), -EINVAL);
}

static void test_prov__token__placeholder_or_empty_refused_outside_test_mode(void **state)
{
    char why[256];

    (void)state;
    assert_int_equal(cat_prov_token_check("change-me", false, why, 256), -EINVAL);
    assert_non_null(strstr(why, "placeholder"));
    assert_int_equal(cat_prov_token_check("CHANGE-ME", false, why, 256), -EINVAL);
    assert_int_equal(cat_prov_token_check("Change-Me", false, why, 256), -EINVAL);
    assert_int_equal(cat_prov_token_check("", false, why, 256), -EINVAL);
    assert_int_equal(cat_prov_token_check(NULL, false, why, 256), -EINVAL);
    assert_int_equal(cat_prov_token_check("k7Jq2vN9-real-carrier-token", false, why, 256), 0);
    assert_int_equal(cat_prov_token_check("change-me", true, why, 256), 0);
}

static void test_prov__adapter__refuses_plain_http_and_placeholder(void **state)
{
    struct cat_prov_http_config cfg;
    struct gw_http *fake = (struct gw_http *)&cfg; /* never dereferenced when refused */
    struct cat_prov_http *p;

    (void)state;
    cat_prov_http_config_defaults(&cfg);
    assert_false(cfg.insecure_test_mode);
    snprintf(cfg.token, sizeof(cfg.token), "k7Jq2vN9-real-carrier-token");
    snprintf(cfg.base_url, sizeof(cfg.base_url), "http://prov.carrier.example");
    assert_null(cat_prov_http_new(fake, &cfg));
    snprintf(cfg.base_url, sizeof(cfg.base_url), "http://127.0.0.1:8080");
    assert_null(cat_prov_http_new(fake, &cfg));
    snprintf(cfg.base_url, sizeof(cfg.base_url), "https://prov.carrier.example");
    snprintf(cfg.token, sizeof(cfg.token), "change-me");
    assert_null(cat_prov_http_new(fake, &cfg));
    snprintf(cfg.token, sizeof(cfg.token), "k7Jq2vN9-real-carrier-token");
    p = cat_prov_http_new(fake, &cfg);
    assert_non_null(p);
    cat_prov_http_free(p);
    /* the tests' way: loopback http and any token, explicitly */
    cfg.insecure_test_mode = true;
    snprintf(cfg.base_url, sizeof(cfg.base_url), "http://127.0.0.1:8080");
    snprintf(cfg.token, sizeof(cfg.token), "change-me");
    p = cat_prov_http_new(fake, &cfg);
    assert_non_null(p);
    cat_prov_http_free(p);
}

static void test_config__provisioning_section__defaults_and_cross_checks(void **state)
{
    static struct gw_config cfg;
    char err[256];

    (void)state;
    gw_config_defaults(&cfg);
    assert_false(cfg.provisioning.enabled);
    assert_int_equal(cfg.provisioning.timeout_ms, 5000);
    assert_string_equal(cfg.provisioning.group, "fulfil");
    assert_string_equal(cfg.provisioning.sms_lang, "en");
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), 0);
    /* a worker needs somewhere to call */
    cfg.provisioning.enabled = true;
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "provisioning.base_url"));
    snprintf(cfg.provisioning.base_url, sizeof(cfg.provisioning.base_url), "http://127.0.0.1:1");
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), 0);
    /* a claim must not steal an entry whose call may still be running */
    cfg.provisioning.claim_idle_ms = 9000;
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "provisioning.claim_idle_ms"));
    cfg.provisioning.claim_idle_ms = 10000;
    cfg.provisioning.retry_min_ms = cfg.provisioning.retry_max_ms + 1;
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "provisioning.retry_min_ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prov__body__carries_every_field_of_the_spec),
        cmocka_unit_test(test_prov__body__gift_to_self_names_the_subscriber_as_beneficiary),
        cmocka_unit_test(test_prov__body__bad_fields_refused),
        cmocka_unit_test(test_prov__200_and_201__granted_with_the_reference),
        cmocka_unit_test(test_prov__granted_with_unreadable_body__still_granted_without_reference),
        cmocka_unit_test(test_prov__409__already_granted_is_delivered),
        cmocka_unit_test(test_prov__hostile_status_word__reason_printable_without_separator),
        cmocka_unit_test(test_prov__400_404_422__permanent_with_the_reason),
        cmocka_unit_test(test_prov__5xx__temporary),
        cmocka_unit_test(test_prov__timeout_refused_and_other_transport_errors__temporary),
        cmocka_unit_test(test_prov__unlisted_statuses__temporary_not_refunded),
        cmocka_unit_test(test_prov__adapter__bad_base_url_refused),
        cmocka_unit_test(test_prov__transport__https_only_http_to_loopback_in_test_mode),
        cmocka_unit_test(test_prov__token__placeholder_or_empty_refused_outside_test_mode),
        cmocka_unit_test(test_prov__adapter__refuses_plain_http_and_placeholder),
        cmocka_unit_test(test_config__provisioning_section__defaults_and_cross_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
