/*
 * test_cat_catalog.c - the gift catalogue (catalog/cat_catalog.c) and voucher pools
 * (catalog/cat_voucher.c): the shipped deploy/ files validate; every validation error names its
 * JSON path (or the line of a syntax error); the refcounted swap keeps the price a redemption was
 * shown; the price-integrity guard; the per-item kill switch across swaps; voucher CSV errors with
 * line numbers, duplicates refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "gw_core.h"

#define DEPLOY LGW_VECTORS "/../../deploy"

static const char *const tiers[] = {"standard", "silver", "gold"};
static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 3};
static char err[512];

/* ---------------------------------------------------------------- building test catalogues */

/* One valid item; %s is its id, %d its price. */
static const char item_fmt[] =
    "{\"id\": \"%s\", \"category\": \"data\",\n"
    " \"names\": {\"ar\": \"1 جيغا\", \"fr\": \"1 Go\", \"en\": \"1 GB\", \"fa\": \"۱ گیگ\"},\n"
    " \"descriptions\": {\"ar\": \"وصف\", \"fr\": \"desc\", \"en\": \"desc\", \"fa\": \"شرح\"},\n"
    " \"price\": %d, \"tier\": \"standard\", \"stock_per_day\": 10, \"limit_per_day\": 1,\n"
    " \"valid_from\": \"2026-11-01\", \"valid_to\": \"2027-12-31\", \"enabled\": true,\n"
    " \"fulfil\": {\"type\": \"provisioning\", \"kind\": \"data\", \"quantity\": 1024, "
    "\"unit\": \"MB\"}}";

/* Replaces the first `from` in s (of capacity cap) with `to`; fails the test when absent. */
static void replace(char *s, size_t cap, const char *from, const char *to)
{
    char *p = strstr(s, from);
    size_t fl = strlen(from), tl = strlen(to), rest;

    if (!p)
        fail_msg("\"%s\" not in the test catalogue", from);
    rest = strlen(p + fl);
    assert_true((size_t)(p - s) + tl + rest < cap);
    memmove(p + tl, p + fl, rest + 1);
    memcpy(p, to, tl);
}

/* A catalogue "v1" of four items ITEM_0..ITEM_3 (prices 100..400) where the last item has `from`
 * replaced by `to` (both NULL: unchanged). Returns a static buffer. */
static const char *catalogue(const char *version, const char *from, const char *to)
{
    static char text[16384];
    char item[2048];
    size_t n;

    n = (size_t)snprintf(text, sizeof(text), "{\"version\": \"%s\", \"items\": [\n", version);
    for (int i = 0; i < 4; i++) {
        char id[16];

        snprintf(id, sizeof(id), "ITEM_%d", i);
        snprintf(item, sizeof(item), item_fmt, id, 100 * (i + 1));
        if (i == 3 && from)
            replace(item, sizeof(item), from, to);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s\n", item, i < 3 ? "," : "");
    }
    snprintf(text + n, sizeof(text) - n, "]}\n");
    return text;
}

static struct cat_catalog *parse_ok(const char *text)
{
    struct cat_catalog *c = NULL;

    if (cat_catalog_parse(text, strlen(text), &opts, &c, err, sizeof(err)) != 0)
        fail_msg("parse failed: %s", err);
    return c;
}

static void expect_error(const char *from, const char *to, const char *want)
{
    struct cat_catalog *c = (struct cat_catalog *)1;
    const char *text = catalogue("v1", from, to);
    int rc = cat_catalog_parse(text, strlen(text), &opts, &c, err, sizeof(err));

    if (rc != -EINVAL || strncmp(err, want, strlen(want)) != 0)
        fail_msg("replacing [%s] by [%s]: rc %d, error \"%s\", wanted \"%s...\"", from, to, rc, err,
                 want);
    assert_null(c);
}

/* ---------------------------------------------------------------- shipped files */

static void test_catalog__shipped_catalogue__validates(void **state)
{
    struct cat_catalog *c = NULL;
    const struct cat_item *it;

    (void)state;
    if (cat_catalog_load_file(DEPLOY "/catalog.json", &opts, &c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(cat_catalog_version(c), "sample.1");
    assert_int_equal(cat_catalog_count(c), 6);
    it = cat_catalog_find(c, "DATA_1GB");
    assert_non_null(it);
    assert_int_equal(it->price, 500);
    assert_int_equal(it->category, CAT_CATEGORY_DATA);
    assert_int_equal(it->fulfil.type, CAT_FULFIL_PROVISIONING);
    assert_int_equal(it->fulfil.quantity, 1024);
    assert_string_equal(it->fulfil.unit, "MB");
    assert_int_equal(it->stock_per_day, 1000);
    assert_int_equal(it->limit_per_day, 1);
    /* The sample has no validity dates, so it never goes stale (validity is tested with the
     * catalogues built in this file). */
    for (size_t i = 0; i < cat_catalog_count(c); i++) {
        assert_int_equal(cat_catalog_item_at(c, i)->valid_from, 0);
        assert_int_equal(cat_catalog_item_at(c, i)->valid_to, 0);
    }
    assert_string_equal(it->name[CAT_LANG_FR], "1 Go Internet");
    assert_string_equal(it->name[CAT_LANG_FA], "۱ گیگابایت اینترنت");
    assert_int_equal(cat_catalog_find(c, "DATA_5GB")->price, 2000);
    it = cat_catalog_find(c, "VOUCHER_MARJANE_100");
    assert_non_null(it);
    assert_int_equal(it->fulfil.type, CAT_FULFIL_VOUCHER);
    assert_string_equal(it->fulfil.pool, "MARJANE100");
    it = cat_catalog_find(c, "CHARITY_FOOD_BANK");
    assert_non_null(it);
    assert_string_equal(it->fulfil.cause, "FOOD_BANK");
    assert_int_equal(it->stock_per_day, 0); /* unlimited */
    assert_int_equal(cat_catalog_find(c, "VOICE_60MIN")->fulfil.quantity, 60);
    assert_int_equal(cat_catalog_find(c, "SMS_100")->category, CAT_CATEGORY_SMS);
    assert_null(cat_catalog_find(c, "DATA_2GB"));
    assert_string_equal(cat_catalog_item_at(c, 0)->id, "DATA_1GB"); /* file order */
    assert_null(cat_catalog_item_at(c, 6));
    cat_catalog_unref(c);
}

static void test_catalog__shipped_vouchers__validate(void **state)
{
    struct cat_voucher_pool *p = NULL;

    (void)state;
    /* loads as the gateway loads it today (its codes carry no expiry: the sample never expires) */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int32_t today = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    if (cat_voucher_pool_load_file(DEPLOY "/vouchers-sample.csv", "MARJANE100", today, &p, err,
                                   sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(p->name, "MARJANE100");
    assert_int_equal(p->n_codes, 8);
    assert_string_equal(p->codes[0].code, "MJN-7Q4K-2WXD-93FA");
    assert_int_equal(p->codes[0].expiry, 0);
    cat_voucher_pool_free(p);
}

/* ---------------------------------------------------------------- validation errors */

static void test_catalog__errors__name_the_json_path(void **state)
{
    (void)state;
    /* the unchanged template is valid */
    cat_catalog_unref(parse_ok(catalogue("v1", NULL, NULL)));

    expect_error("\"price\": 400", "\"price\": 0", "items[3].price: must be a positive integer");
    expect_error("\"price\": 400", "\"price\": -5", "items[3].price: must be a positive integer");
    expect_error("\"price\": 400", "\"price\": 4.5", "items[3].price: must be a positive integer");
    expect_error("\"price\": 400", "\"price\": \"400\"",
                 "items[3].price: must be a positive integer");
    expect_error("\"price\": 400", "\"price\": 9007199254740993",
                 "items[3].price: must be at most");
    expect_error("\"price\": 400, ", "", "items[3].price: required");
    expect_error("\"price\": 400", "\"price\": 400, \"colour\": \"red\"",
                 "items[3].colour: unknown key");
    expect_error("\"id\": \"ITEM_3\"", "\"id\": \"ITEM 3\"", "items[3].id: letters, digits");
    expect_error("\"id\": \"ITEM_3\"", "\"id\": \"\"", "items[3].id: must not be empty");
    expect_error("\"id\": \"ITEM_3\", ", "", "items[3].id: required");
    expect_error("\"category\": \"data\"", "\"category\": \"gift\"",
                 "items[3].category: must be data, voice, sms, voucher or charity");
    expect_error(", \"fa\": \"۱ گیگ\"", "", "items[3].names.fa: required");
    expect_error("\"fa\": \"شرح\"", "\"fa\": \"شرح\", \"de\": \"x\"",
                 "items[3].descriptions.de: unknown key");
    expect_error("\"en\": \"1 GB\"", "\"en\": \"\"", "items[3].names.en: must not be empty");
    expect_error("\"en\": \"1 GB\"", "\"en\": \"1\\nGB\"",
                 "items[3].names.en: must not contain control characters");
    expect_error("\"en\": \"1 GB\"",
                 "\"en\": \"1234567890123456789012345678901234567890123456789012345678901\"",
                 "items[3].names.en: longer than 60 characters");
    expect_error("\"tier\": \"standard\"", "\"tier\": \"platinum\"",
                 "items[3].tier: no loyalty tier \"platinum\"");
    expect_error("\"stock_per_day\": 10", "\"stock_per_day\": 0",
                 "items[3].stock_per_day: must be a positive integer (leave it out for no limit)");
    expect_error("\"limit_per_day\": 1", "\"limit_per_day\": null",
                 "items[3].limit_per_day: must be a positive integer");
    expect_error("\"valid_from\": \"2026-11-01\"", "\"valid_from\": \"2026-02-30\"",
                 "items[3].valid_from: must be a date YYYY-MM-DD");
    expect_error("\"valid_to\": \"2027-12-31\"", "\"valid_to\": \"2026-10-31\"",
                 "items[3].valid_to: is before valid_from");
    expect_error("\"enabled\": true", "\"enabled\": \"yes\"",
                 "items[3].enabled: must be true or false");
    expect_error("\"unit\": \"MB\"", "\"unit\": \"min\"",
                 "items[3].fulfil.unit: data is provisioned in MB or GB");
    expect_error("\"quantity\": 1024", "\"quantity\": 0",
                 "items[3].fulfil.quantity: must be a positive integer");
    expect_error("\"type\": \"provisioning\"", "\"type\": \"courier\"",
                 "items[3].fulfil.type: must be provisioning, voucher or charity");
    expect_error("\"unit\": \"MB\"", "\"unit\": \"MB\", \"pool\": \"X\"",
                 "items[3].fulfil.pool: unknown key");
    expect_error("\"category\": \"data\"", "\"category\": \"voucher\"",
                 "items[3].fulfil: does not fit category voucher");
    expect_error("\"kind\": \"data\"", "\"kind\": \"voice\"",
                 "items[3].fulfil.unit: voice is provisioned in min or sec");
}

static void test_catalog__fulfil_and_top_level_errors(void **state)
{
    struct cat_catalog *c = NULL;
    const char *t;

    (void)state;
    expect_error("\"category\": \"data\"", "\"category\": \"voucher\"",
                 "items[3].fulfil: does not fit category voucher (needs type voucher)");
    t = "{\"version\": \"v1\", \"items\": [{\"id\": \"V\", \"category\": \"voucher\", "
        "\"names\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"}, "
        "\"descriptions\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"}, "
        "\"price\": 4000, \"tier\": \"silver\", \"fulfil\": {\"type\": \"voucher\", "
        "\"pool\": \"A B\"}}]}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "items[0].fulfil.pool: letters, digits, \"_\", \"-\" and \".\" only");

    t = "{\"items\": []}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "version: required");
    t = "{\"version\": \"v1\", \"items\": []}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "items: must be a non-empty array");
    t = "{\"version\": \"v1\", \"versoin\": \"v2\", \"items\": []}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "versoin: unknown key");
    t = "[1, 2]";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "(root): must be an object");
    t = "{\"version\": \"v 1\", \"items\": []}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "version: letters, digits"));
    assert_null(c);
}

static void test_catalog__duplicate_id__refused_naming_both(void **state)
{
    (void)state;
    expect_error("\"id\": \"ITEM_3\"", "\"id\": \"ITEM_1\"",
                 "items[3].id: duplicate id \"ITEM_1\" (also items[1])");
}

static void test_catalog__syntax_errors__give_the_line(void **state)
{
    struct cat_catalog *c = NULL;
    const char *t = "{\n  \"version\": \"v1\",\n  \"items\": [\n    {\"id\": \"A\",}\n  ]\n}\n";

    (void)state;
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 4"));
    /* duplicate keys are refused too, with their line */
    t = "{\n\"version\": \"v1\",\n\"version\": \"v2\",\n\"items\": []}";
    assert_int_equal(cat_catalog_parse(t, strlen(t), &opts, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "duplicate"));
}

static void test_catalog__load_file__errors_start_with_the_path(void **state)
{
    char path[] = "/tmp/cat_catalog_XXXXXX";
    struct cat_catalog *c = NULL;
    const char *t = catalogue("v1", "\"price\": 400", "\"price\": 0");
    int fd = mkstemp(path);
    char want[128];

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    assert_int_equal(cat_catalog_load_file(path, &opts, &c, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s: items[3].price: must be a positive integer", path);
    assert_string_equal(err, want);
    unlink(path);
    assert_int_equal(cat_catalog_load_file(path, &opts, &c, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, path));
}

static void test_catalog__comments_and_optional_keys__accepted(void **state)
{
    struct cat_catalog *c;
    const struct cat_item *it;
    const char *t =
        "{\"//\": \"note\", \"version\": \"v1\", \"items\": [{\"//why\": \"x\", "
        "\"id\": \"D\", \"category\": \"charity\", "
        "\"names\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"}, "
        "\"descriptions\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"}, "
        "\"price\": 200, \"tier\": \"standard\", "
        "\"fulfil\": {\"type\": \"charity\", \"cause\": \"FOOD_BANK\"}}]}";

    (void)state;
    c = parse_ok(t);
    it = cat_catalog_find(c, "D");
    assert_non_null(it);
    assert_true(it->enabled);
    assert_int_equal(it->stock_per_day, 0);
    assert_int_equal(it->limit_per_day, 0);
    assert_int_equal(it->valid_from, 0);
    assert_int_equal(it->valid_to, 0);
    assert_string_equal(cat_category_name(it->category), "charity");
    assert_string_equal(cat_fulfil_type_name(it->fulfil.type), "charity");
    assert_string_equal(cat_lang_name(CAT_LANG_FA), "fa");
    cat_catalog_unref(c);
}

/* ---------------------------------------------------------------- versions and guards */

/* Captures error lines: a refused debit must raise an alert, not just return a code. */
static char alert[512];

static void capture(void *arg, enum gw_log_level level, const char *category, const char *line)
{
    (void)arg;
    if (level == GW_LOG_ERROR && strcmp(category, "catalog") == 0)
        snprintf(alert, sizeof(alert), "%s", line);
}

static void test_catalog__swap__inflight_redemption_keeps_the_price_it_was_shown(void **state)
{
    struct cat_store *s = cat_store_new();
    struct cat_catalog *shown, *now;

    (void)state;
    assert_non_null(s);
    assert_null(cat_store_current(s));
    assert_int_equal(cat_catalog_swap(s, parse_ok(catalogue("v1", NULL, NULL))), 0);
    /* the menu shows ITEM_3 at 400 and keeps the version it showed */
    shown = cat_store_current(s);
    assert_int_equal(cat_catalog_find(shown, "ITEM_3")->price, 400);
    /* staff publish v2: ITEM_3 now costs 450 */
    assert_int_equal(
        cat_catalog_swap(s, parse_ok(catalogue("v2", "\"price\": 400", "\"price\": 450"))), 0);
    assert_int_equal(cat_store_versions_alive(s), 2);
    /* the redemption in flight still debits 400, and the guard agrees */
    assert_int_equal(cat_catalog_find(shown, "ITEM_3")->price, 400);
    gw_log_set_sink(capture, NULL);
    alert[0] = '\0';
    assert_int_equal(cat_price_check(shown, "ITEM_3", 400), 0);
    assert_string_equal(alert, "");
    assert_int_equal(cat_price_check(shown, "ITEM_3", 450), -EPERM);
    gw_log_set_sink(NULL, NULL);
    assert_non_null(strstr(alert, "price integrity: item ITEM_3 version v1 costs 400 but the "
                                  "debit is 450"));
    assert_int_equal(cat_store_price_check(s, "v1", "ITEM_3", 400), 0);
    assert_int_equal(cat_store_price_check(s, "v1", "ITEM_3", 450), -EPERM);
    /* new menus see v2 */
    now = cat_store_current(s);
    assert_string_equal(cat_catalog_version(now), "v2");
    assert_int_equal(cat_price_check(now, "ITEM_3", 450), 0);
    assert_int_equal(cat_store_price_check(s, "v2", "ITEM_3", 400), -EPERM);
    cat_catalog_unref(now);
    /* the redemption ends: v1 goes */
    cat_catalog_unref(shown);
    assert_int_equal(cat_store_versions_alive(s), 1);
    assert_null(cat_store_find_version(s, "v1"));
    assert_int_equal(cat_store_price_check(s, "v1", "ITEM_3", 400), -ENOENT);
    /* unknown items fail the guard */
    assert_int_equal(cat_store_price_check(s, "v2", "NOPE", 400), -ENOENT);
    assert_int_equal(cat_price_check(NULL, "ITEM_3", 400), -ENOENT);
    cat_store_free(s);
}

static void test_catalog__swap__same_version_needs_same_content(void **state)
{
    struct cat_store *s = cat_store_new();
    struct cat_catalog *cur;

    (void)state;
    assert_int_equal(cat_catalog_swap(s, parse_ok(catalogue("v1", NULL, NULL))), 0);
    /* reload of the unchanged file */
    assert_int_equal(cat_catalog_swap(s, parse_ok(catalogue("v1", NULL, NULL))), -EALREADY);
    /* edited without bumping the version */
    assert_int_equal(
        cat_catalog_swap(s, parse_ok(catalogue("v1", "\"price\": 400", "\"price\": 1"))), -EEXIST);
    cur = cat_store_current(s);
    assert_int_equal(cat_catalog_find(cur, "ITEM_3")->price, 400);
    assert_int_equal(cat_store_versions_alive(s), 1);
    cat_catalog_unref(cur);
    assert_int_equal(cat_catalog_swap(s, NULL), -EINVAL);
    cat_store_free(s);
}

static void test_catalog__store_freed_first__held_version_still_valid(void **state)
{
    struct cat_store *s = cat_store_new();
    struct cat_catalog *held;

    (void)state;
    assert_int_equal(cat_catalog_swap(s, parse_ok(catalogue("v1", NULL, NULL))), 0);
    held = cat_store_current(s);
    cat_store_free(s);
    /* shutdown order: the store goes before the last redemption */
    assert_int_equal(cat_price_check(held, "ITEM_0", 100), 0);
    cat_catalog_unref(held);
    cat_store_free(NULL);
    cat_catalog_unref(NULL);
}

static void test_catalog__kill_switch__blocks_until_revived_across_swaps(void **state)
{
    struct cat_store *s = cat_store_new();
    struct cat_catalog *c;

    (void)state;
    assert_int_equal(cat_catalog_swap(s, parse_ok(catalogue("v1", NULL, NULL))), 0);
    c = cat_store_current(s);
    assert_int_equal(cat_item_check(s, c, "ITEM_2", 20261125), CAT_ITEM_OK);
    assert_int_equal(cat_item_kill(s, "ITEM_2"), 0);
    assert_int_equal(cat_item_kill(s, "ITEM_2"), 0); /* idempotent */
    assert_true(cat_item_killed(s, "ITEM_2"));
    assert_int_equal(cat_item_check(s, c, "ITEM_2", 20261125), CAT_ITEM_KILLED);
    assert_int_equal(cat_item_check(s, c, "ITEM_1", 20261125), CAT_ITEM_OK);
    cat_catalog_unref(c);
    /* a new version does not bring a killed item back */
    assert_int_equal(
        cat_catalog_swap(s, parse_ok(catalogue("v2", "\"price\": 400", "\"price\": 450"))), 0);
    c = cat_store_current(s);
    assert_int_equal(cat_item_check(s, c, "ITEM_2", 20261125), CAT_ITEM_KILLED);
    assert_int_equal(cat_item_revive(s, "ITEM_2"), 0);
    assert_int_equal(cat_item_revive(s, "ITEM_2"), -ENOENT);
    assert_int_equal(cat_item_check(s, c, "ITEM_2", 20261125), CAT_ITEM_OK);
    assert_int_equal(cat_item_kill(s, "bad id"), -EINVAL);
    assert_int_equal(cat_item_kill(s, NULL), -EINVAL);
    /* the other reasons, checked in order */
    assert_int_equal(cat_item_check(s, c, "NOPE", 20261125), CAT_ITEM_UNKNOWN);
    assert_int_equal(cat_item_check(s, c, "ITEM_0", 20261031), CAT_ITEM_NOT_YET);
    assert_int_equal(cat_item_check(s, c, "ITEM_0", 20261101), CAT_ITEM_OK);
    assert_int_equal(cat_item_check(s, c, "ITEM_0", 20271231), CAT_ITEM_OK);
    assert_int_equal(cat_item_check(s, c, "ITEM_0", 20280101), CAT_ITEM_EXPIRED);
    assert_int_equal(cat_item_check(NULL, c, "ITEM_0", 20261125), CAT_ITEM_OK);
    assert_string_equal(cat_item_state_name(CAT_ITEM_KILLED), "killed");
    cat_catalog_unref(c);
    /* "enabled": false in the file */
    c = parse_ok(catalogue("v3", "\"enabled\": true", "\"enabled\": false"));
    assert_int_equal(cat_item_check(s, c, "ITEM_3", 20261125), CAT_ITEM_DISABLED);
    cat_catalog_unref(c);
    cat_store_free(s);
}

static void test_catalog__tier_order(void **state)
{
    (void)state;
    assert_true(cat_tier_meets("standard", "standard", tiers, 3));
    assert_true(cat_tier_meets("silver", "gold", tiers, 3));
    assert_false(cat_tier_meets("gold", "silver", tiers, 3));
    assert_false(cat_tier_meets("silver", "diamond", tiers, 3));
    assert_false(cat_tier_meets("diamond", "gold", tiers, 3));
}

/* ---------------------------------------------------------------- voucher CSV */

static void expect_pool_error(const char *csv, int32_t today, int want_rc, const char *want)
{
    struct cat_voucher_pool *p = (struct cat_voucher_pool *)1;
    int rc = cat_voucher_pool_parse(csv, strlen(csv), "POOL", today, &p, err, sizeof(err));

    if (rc != want_rc || strcmp(err, want) != 0)
        fail_msg("rc %d, error \"%s\", wanted \"%s\"", rc, err, want);
    assert_null(p);
}

static void test_vouchers__csv_forms__accepted(void **state)
{
    struct cat_voucher_pool *p = NULL;
    const char *csv = "\xef\xbb\xbf"
                      "Code,Expiry\r\n"
                      "# partner batch 12\r\n"
                      "ABCD-1234,2027-06-30\r\n"
                      "\r\n"
                      "  abcd-1234 , \r\n" /* padded, lower case is another code, no expiry */
                      "ZZZZ9999\r\n"
                      "LAST-0001,2027-01-31"; /* no final newline */

    (void)state;
    assert_int_equal(
        cat_voucher_pool_parse(csv, strlen(csv), "POOL", 20261125, &p, err, sizeof(err)), 0);
    assert_int_equal(p->n_codes, 4);
    assert_string_equal(p->codes[0].code, "ABCD-1234");
    assert_int_equal(p->codes[0].expiry, 20270630);
    assert_string_equal(p->codes[1].code, "abcd-1234");
    assert_int_equal(p->codes[1].expiry, 0);
    assert_string_equal(p->codes[2].code, "ZZZZ9999");
    assert_string_equal(p->codes[3].code, "LAST-0001");
    cat_voucher_pool_free(p);
    cat_voucher_pool_free(NULL);
}

static void test_vouchers__errors__give_the_line(void **state)
{
    (void)state;
    expect_pool_error("code\nAAAA-1\nBBBB-2\nCCCC-3\nBBBB-2\nAAAA-1\n", 0, -EINVAL,
                      "line 5: duplicate code (first on line 3)");
    expect_pool_error("AAAA-1\nBB B-2\n", 0, -EINVAL,
                      "line 2: a code has only letters, digits and \"-\" (column 3)");
    expect_pool_error("AAAA-1\nBBBB_2\n", 0, -EINVAL,
                      "line 2: a code has only letters, digits and \"-\" (column 5)");
    expect_pool_error("AAAA-1\n\"BBBB-2\"\n", 0, -EINVAL,
                      "line 2: a code has only letters, digits and \"-\" (column 1)");
    expect_pool_error("AAAA-1\nABC\n", 0, -EINVAL, "line 2: a code has 4 to 64 characters");
    expect_pool_error("AAAA-1,2027-02-30\n", 0, -EINVAL,
                      "line 1: expiry must be a date YYYY-MM-DD");
    expect_pool_error("AAAA-1,30/06/2027\n", 0, -EINVAL,
                      "line 1: expiry must be a date YYYY-MM-DD");
    expect_pool_error("AAAA-1,2027-06-30,100\n", 0, -EINVAL,
                      "line 1: expected code[,expiry], found more fields");
    expect_pool_error("AAAA-1,2026-11-24\n", 20261125, -EINVAL,
                      "line 1: code expired on 2026-11-24");
    expect_pool_error("code,expiry\n# nothing yet\n", 0, -EINVAL, "no codes");
    expect_pool_error("", 0, -EINVAL, "no codes");
    {
        static const char nul[] = "AAAA-1\n\0BBBB-2\n";
        struct cat_voucher_pool *p = NULL;

        assert_int_equal(
            cat_voucher_pool_parse(nul, sizeof(nul) - 1, "POOL", 0, &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "not a text file (NUL byte)");
        assert_int_equal(cat_voucher_pool_parse("AAAA-1", 6, "BAD POOL", 0, &p, err, sizeof(err)),
                         -EINVAL);
    }
    {
        char line[400];

        memset(line, 'A', 300);
        line[300] = '\0';
        expect_pool_error(line, 0, -EINVAL, "line 1: longer than 256 bytes");
    }
}

static void test_vouchers__load_file__errors_start_with_the_path(void **state)
{
    char path[] = "/tmp/cat_pool_XXXXXX";
    struct cat_voucher_pool *p = NULL;
    const char *csv = "AAAA-1\nAAAA-1\n";
    int fd = mkstemp(path);
    char want[128];

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    assert_int_equal(cat_voucher_pool_load_file(path, "POOL", 0, &p, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s: line 2: duplicate code (first on line 1)", path);
    assert_string_equal(err, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog__shipped_catalogue__validates),
        cmocka_unit_test(test_catalog__shipped_vouchers__validate),
        cmocka_unit_test(test_catalog__errors__name_the_json_path),
        cmocka_unit_test(test_catalog__fulfil_and_top_level_errors),
        cmocka_unit_test(test_catalog__duplicate_id__refused_naming_both),
        cmocka_unit_test(test_catalog__syntax_errors__give_the_line),
        cmocka_unit_test(test_catalog__load_file__errors_start_with_the_path),
        cmocka_unit_test(test_catalog__comments_and_optional_keys__accepted),
        cmocka_unit_test(test_catalog__swap__inflight_redemption_keeps_the_price_it_was_shown),
        cmocka_unit_test(test_catalog__swap__same_version_needs_same_content),
        cmocka_unit_test(test_catalog__store_freed_first__held_version_still_valid),
        cmocka_unit_test(test_catalog__kill_switch__blocks_until_revived_across_swaps),
        cmocka_unit_test(test_catalog__tier_order),
        cmocka_unit_test(test_vouchers__csv_forms__accepted),
        cmocka_unit_test(test_vouchers__errors__give_the_line),
        cmocka_unit_test(test_vouchers__load_file__errors_start_with_the_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
