/*
 * test_config_ussd.c - the ussd.*, sms.* and loyalty.points_validity_months keys of
 * gateway/gw_config.c: defaults of shared/spec/ussd.md, every vendor variation settable, the menu
 * file resolved against the config file's folder, errors naming the key.
 * Owner: the USSD-wiring engineer (issue 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_config.h"

static struct gw_config *cfg;
static char err[512];
static char dir[] = "/tmp/lgw-cfg-ussd.XXXXXX";

static int setup(void **state)
{
    (void)state;
    cfg = malloc(sizeof(*cfg));
    return cfg && mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char path[600];

    (void)state;
    snprintf(path, sizeof(path), "%s/c.json", dir);
    unlink(path);
    rmdir(dir);
    free(cfg);
    return 0;
}

/* Writes text as <dir>/c.json and loads it (then validates). */
static int load(const char *text)
{
    char path[600];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/c.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    rc = gw_config_load(path, cfg, err, sizeof(err));
    if (rc == 0)
        rc = gw_config_validate(cfg, err, sizeof(err));
    return rc;
}

static void test_config_ussd__defaults__spec_values(void **state)
{
    (void)state;
    gw_config_defaults(cfg);
    assert_string_equal(cfg->ussd.service_code, "555");
    assert_int_equal(cfg->ussd.end_method, USSD_END_BOTH);
    assert_int_equal(cfg->ussd.t_answer_ms, 60000);
    assert_int_equal(cfg->ussd.t_total_ms, 180000);
    assert_int_equal(cfg->ussd.gsm7_limit, 182);
    assert_int_equal(cfg->ussd.ucs2_limit, 80);
    assert_string_equal(cfg->ussd_menus_file, ""); /* USSD off unless configured */
    assert_string_equal(cfg->sms.short_code, "555");
    assert_int_equal(cfg->sms.n_keywords, 4);
    assert_string_equal(cfg->sms.keywords[2], "رصيد");
    assert_int_equal(cfg->loyalty.points_validity_months, 0);
    assert_int_equal(gw_config_validate(cfg, err, sizeof(err)), 0);
}

static void test_config_ussd__every_variation__settable(void **state)
{
    char want[600];

    (void)state;
    assert_int_equal(load("{\"ussd\": {\"service_code\": \"123\", \"dest_form\": \"star_hash\","
                          " \"end_method\": \"bit\", \"abort_op\": -1, \"key_mode\": \"umr\","
                          " \"t_answer_ms\": 2000, \"t_total_ms\": 5000, \"t_end_ms\": 1000,"
                          " \"gsm7_limit\": 160, \"ucs2_limit\": 70, \"bidi_marks\": true,"
                          " \"dcs_gsm7\": 240, \"dcs_ucs2\": 8, \"ucs2_surrogates\": true,"
                          " \"menus_file\": \"menus.json\"},"
                          " \"sms\": {\"short_code\": \"4545\", \"keywords\": [\"PTS\"]},"
                          " \"loyalty\": {\"points_validity_months\": 24}}"),
                     0);
    assert_string_equal(cfg->ussd.service_code, "123");
    assert_int_equal(cfg->ussd.dest_form, USSD_DEST_STAR_HASH);
    assert_int_equal(cfg->ussd.end_method, USSD_END_BIT);
    assert_int_equal(cfg->ussd.abort_op, -1);
    assert_int_equal(cfg->ussd.key_mode, USSD_KEY_UMR);
    assert_int_equal(cfg->ussd.t_answer_ms, 2000);
    assert_int_equal(cfg->ussd.t_total_ms, 5000);
    assert_true(cfg->ussd.bidi_marks);
    assert_int_equal(cfg->ussd.text.dcs_gsm7, 240);
    assert_true(cfg->ussd.text.ucs2_surrogates);
    snprintf(want, sizeof(want), "%s/menus.json", dir); /* relative to the config file */
    assert_string_equal(cfg->ussd_menus_file, want);
    assert_string_equal(cfg->sms.short_code, "4545");
    assert_int_equal(cfg->sms.n_keywords, 1);
    assert_int_equal(cfg->loyalty.points_validity_months, 24);
}

static void test_config_ussd__errors__name_the_key(void **state)
{
    (void)state;
    assert_int_equal(load("{\"ussd\": {\"end_method\": \"never\"}}"), -EINVAL);
    assert_non_null(strstr(err, "ussd.end_method: expected one of"));
    assert_int_equal(load("{\"ussd\": {\"service_code\": \"*555#\"}}"), -EINVAL);
    assert_non_null(strstr(err, "ussd.service_code:"));
    assert_int_equal(load("{\"ussd\": {\"t_answer_ms\": 9000, \"t_total_ms\": 5000}}"), -EINVAL);
    assert_non_null(strstr(err, "ussd: t_total_ms"));
    assert_int_equal(load("{\"ussd\": {\"abort_op\": 18}}"), -EINVAL);
    assert_non_null(strstr(err, "abort_op"));
    assert_int_equal(load("{\"ussd\": {\"gsm7_limit\": 5}}"), -EINVAL);
    assert_non_null(strstr(err, "ussd.gsm7_limit: 5 is below the minimum 57"));
    assert_int_equal(load("{\"sms\": {\"keywords\": [\" BAL\"]}}"), -EINVAL);
    assert_non_null(strstr(err, "sms.keywords[0]:"));
    assert_int_equal(load("{\"sms\": {\"keywords\": [\"BAL\\n\"]}}"), -EINVAL);
    assert_int_equal(load("{\"ussd\": {\"colour\": 1}}"), -EINVAL);
    assert_non_null(strstr(err, "ussd.colour: unknown key"));
    assert_int_equal(load("{\"loyalty\": {\"points_validity_months\": 121}}"), -EINVAL);
    assert_non_null(strstr(err, "loyalty.points_validity_months"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_ussd__defaults__spec_values),
        cmocka_unit_test(test_config_ussd__every_variation__settable),
        cmocka_unit_test(test_config_ussd__errors__name_the_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
