/*
 * test_config.c - loyaltygw's configuration (gateway/gw_config.c): the two deploy files load and
 * validate, errors name the file, the key's path and the bound, the loyalty table may live in its
 * own file, date-only ranges are whole local days in Africa/Casablanca, and --print-config output
 * loads back to the same configuration. Scratch files live in a mkdtemp directory.
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

#include "gw_config.h"
#include "gw_zone.h"

#define DEPLOY_DIR LGW_VECTORS "/../../deploy"

static char tmpdir[64];
static struct gw_config cfg;
static char err[512];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    gw_config_defaults(&cfg);
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    /* only our own mkdtemp directory, whose name we built */
    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to tmpdir/name; returns the path in a static buffer (one at a time). */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

static int load_text(const char *text)
{
    char path[256];

    snprintf(path, sizeof(path), "%s", write_file("gw.json", text));
    return gw_config_load(path, &cfg, err, sizeof(err));
}

static void assert_load_fails(const char *text, const char *reason)
{
    int rc = load_text(text);

    if (rc == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(err, reason))
        fail_msg("reason '%s' lacks '%s'", err, reason);
    /* every load error starts with the file it is about */
    if (!strstr(err, tmpdir))
        fail_msg("reason '%s' names no file", err);
}

/* ---------------------------------------------------------------- the deploy files */

static void test_config__deploy_files__load_and_validate(void **state)
{
    const struct gw_loyalty *t = &cfg.loyalty;

    (void)state;
    assert_int_equal(gw_config_load(DEPLOY_DIR "/loyaltygw.json", &cfg, err, sizeof(err)), 0);
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), 0);

    assert_string_equal(cfg.smpp.name, "SMSC1");
    assert_string_equal(cfg.smpp.host, "127.0.0.1");
    assert_int_equal(cfg.smpp.port, 2775);
    assert_string_equal(cfg.smpp.bind.system_id, "loyalty");
    assert_string_equal(cfg.smpp.bind.password, "secret");
    assert_int_equal(cfg.smpp.mode, SMPP_BIND_TRX);
    assert_true(cfg.smpp.tps == 50.0);
    assert_string_equal(cfg.redis.host, "127.0.0.1");
    assert_int_equal(cfg.redis.port, 6379);
    assert_int_equal(cfg.events.n_senders, 1);
    assert_string_equal(cfg.events.senders[0], "LOYALTY");
    assert_string_equal(cfg.events.limits.country_prefixes[0], "212");
    assert_int_equal(cfg.events.limits.max_amount_milli, 100000000);
    assert_int_equal(cfg.events.limits.max_age_s, 30 * 86400);
    assert_int_equal(cfg.ledger.ref_retention_days, 31);

    assert_string_equal(t->timezone, "Africa/Casablanca");
    assert_int_equal(t->rate[GW_EV_TOPUP].points, 1);
    assert_int_equal(t->rate[GW_EV_TOPUP].per, 10);
    assert_int_equal(t->rate[GW_EV_BILL].per, 20);
    assert_int_equal(t->rate[GW_EV_USAGE].per, 50);
    /* the shipped table has no dated seasons or promotions (they would go stale): its comments
     * show the syntax; date ranges are tested with tables written here */
    assert_int_equal(t->n_seasons, 0);
    assert_int_equal(t->n_promos, 0);
    assert_int_equal(t->n_tiers, 3);
    assert_string_equal(t->tiers[1].name, "silver");
    assert_int_equal(t->tiers[1].min_points, 1000);
    assert_int_equal(t->tiers[1].pct, 110);
    assert_int_equal(t->tiers[2].min_points, 5000);
    assert_int_equal(t->tiers[2].pct, 125);
    assert_int_equal(t->daily_cap, 500);
}

/* The spec's example event, dated now, under the shipped table: 5 points; with a voucher promotion
 * staff add around now (the shipped table has none), x120%. */
static void test_config__deploy_table__spec_example_earns_voucher_promo(void **state)
{
    struct gw_event ev;
    struct gw_earn earn;
    char text[200], at[32];
    time_t now = time(NULL);
    struct tm tm;

    (void)state;
    gmtime_r(&now, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(text, sizeof(text),
             "TOPUP ref=OCS-1-0000001 msisdn=212612345678 amount=50.00 currency=MAD at=%s "
             "channel=voucher",
             at);
    assert_int_equal(gw_config_load(DEPLOY_DIR "/loyaltygw.json", &cfg, err, sizeof(err)), 0);
    assert_int_equal(gw_event_parse(&cfg.events.format, &cfg.events.limits, text, strlen(text),
                                    (int64_t)now + 60, &ev, err, sizeof(err)),
                     0);
    assert_int_equal(gw_loyalty_earn(&cfg.loyalty, &ev, &earn), 0);
    assert_int_equal(earn.milli, 5000);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD");

    struct gw_window *p = &cfg.loyalty.promos[cfg.loyalty.n_promos++];
    *p = (struct gw_window){.name = "voucher-boost",
                            .from = (int64_t)now - 86400,
                            .to = (int64_t)now + 86400,
                            .pct = 120,
                            .kinds = 1u << GW_EV_TOPUP,
                            .channel = "voucher"};
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), 0);
    assert_int_equal(gw_loyalty_earn(&cfg.loyalty, &ev, &earn), 0);
    assert_int_equal(earn.milli, 6000); /* 5 points x120% */
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; promo voucher-boost x120%");
}

static int validate(void)
{
    return gw_config_validate(&cfg, err, sizeof(err));
}

static void test_config__defaults__validate(void **state)
{
    (void)state;
    assert_int_equal(validate(), 0);
    assert_string_equal(cfg.smpp.bind.system_id, "loyalty");
    assert_string_equal(cfg.log.level, "info");
    assert_int_equal(cfg.metrics.interval_s, 10);
    assert_string_equal(cfg.metrics.stats_file, "");
    assert_string_equal(cfg.events.senders[0], "LOYALTY");
    assert_string_equal(cfg.loyalty.timezone, "UTC");
    assert_int_equal(cfg.smpp.port, 2775);
    assert_int_equal(cfg.redis.port, 6379);
}

static void test_config__print__masks_password_and_loads_back(void **state)
{
    struct gw_config again;
    char path[256], *text = NULL;
    size_t size = 0;
    FILE *f;

    (void)state;
    assert_int_equal(gw_config_load(DEPLOY_DIR "/loyaltygw.json", &cfg, err, sizeof(err)), 0);
    f = open_memstream(&text, &size);
    assert_non_null(f);
    gw_config_print(&cfg, f);
    fclose(f);
    assert_non_null(strstr(text, "\"password\": \"***\""));
    assert_null(strstr(text, "secret"));
    assert_null(strstr(text, "change-me")); /* provisioning.token */
    assert_non_null(strstr(text, "\"max_amount\": \"100000\""));

    snprintf(path, sizeof(path), "%s", write_file("printed.json", text));
    free(text);
    assert_int_equal(gw_config_load(path, &again, err, sizeof(err)), 0);
    snprintf(again.smpp.bind.password, sizeof(again.smpp.bind.password), "secret");
    /* the provisioning token is a secret too: printed masked (checked above) */
    snprintf(again.provisioning.token, sizeof(again.provisioning.token), "%s",
             cfg.provisioning.token);
    assert_memory_equal(&again, &cfg, sizeof(cfg));
}

/* ---------------------------------------------------------------- unknown keys */

static void test_config__unknown_key__error_names_path(void **state)
{
    (void)state;
    assert_load_fails("{\"smpp\": {\"windw\": 5}}", "gw.json: smpp.windw: unknown key");
    assert_load_fails("{\"smtp\": {}}", "gw.json: smtp: unknown key");
    assert_load_fails("{\"loyalty\": {\"seasons\": [{\"name\": \"s\", \"from\": \"2026-07-01\", "
                      "\"to\": \"2026-07-02\", \"multiplier_pct\": 150, \"colour\": \"red\"}]}}",
                      "loyalty.seasons[0].colour: unknown key");
    assert_load_fails("{\"loyalty\": {\"rates\": {\"TOPUP\": {\"points\": 1, \"pts\": 2}}}}",
                      "loyalty.rates.TOPUP.pts: unknown key");
    assert_load_fails("{\"loyalty\": {\"rates\": {\"REFUND\": {}}}}",
                      "loyalty.rates.REFUND: unknown key");
    assert_load_fails("{\"events\": {\"key_names\": {\"txid\": \"x\"}}}",
                      "events.key_names.txid: unknown key");
}

static void test_config__comment_keys__ignored(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"//\": \"top\", \"smpp\": {\"//window\": 7, \"window\": 3}, "
                               "\"//loyalty\": {\"anything\": true}}"),
                     0);
    assert_int_equal(cfg.smpp.window, 3);
}

/* ---------------------------------------------------------------- types and bounds */

static void test_config__type_errors__name_path(void **state)
{
    (void)state;
    assert_load_fails("{\"smpp\": {\"window\": \"10\"}}", "smpp.window: expected an integer");
    assert_load_fails("{\"smpp\": {\"window\": 1.5}}", "smpp.window: expected an integer");
    assert_load_fails("{\"smpp\": {\"host\": 7}}", "smpp.host: expected a string");
    assert_load_fails("{\"smpp\": {\"tps\": \"fast\"}}", "smpp.tps: expected a number");
    assert_load_fails("{\"smpp\": {\"bind_mode\": \"rx\"}}",
                      "smpp.bind_mode: expected one of \"trx\", \"tx_rx\"");
    assert_load_fails("{\"smpp\": []}", "gw.json: smpp: expected an object");
    assert_load_fails("{\"events\": {\"senders\": \"LOYALTY\"}}",
                      "events.senders: expected an array");
    assert_load_fails("{\"events\": {\"senders\": [\"LOYALTY\", 5]}}",
                      "events.senders[1]: expected a source_addr");
    assert_load_fails("[1, 2]", "(top level): expected an object");
}

static void test_config__bounds_errors__name_path_and_bound(void **state)
{
    (void)state;
    assert_load_fails("{\"smpp\": {\"window\": 0}}",
                      "gw.json: smpp.window: 0 is below the minimum 1");
    assert_load_fails("{\"smpp\": {\"port\": 70000}}",
                      "smpp.port: 70000 is above the maximum 65535");
    assert_load_fails("{\"smpp\": {\"tps\": -1}}", "smpp.tps: -1 is below the minimum 0");
    assert_load_fails("{\"smpp\": {\"system_id\": \"loyalty-gateway-1\"}}",
                      "smpp.system_id: 17 characters, more than the maximum 15");
    assert_load_fails("{\"smpp\": {\"password\": \"\"}, \"smpp\": {}}", "duplicate object key");
    assert_load_fails("{\"smpp\": {\"host\": \"\"}}", "smpp.host: must not be empty");
    assert_load_fails("{\"events\": {\"max_age_days\": 0}}",
                      "events.max_age_days: 0 is below the minimum 1");
    assert_load_fails("{\"loyalty\": {\"daily_cap\": -1}}",
                      "loyalty.daily_cap: -1 is below the minimum 0");
    assert_load_fails("{\"loyalty\": {\"tiers\": [{\"name\": \"a\", \"min_points\": 0, "
                      "\"multiplier_pct\": 0}]}}",
                      "loyalty.tiers[0].multiplier_pct: 0 is below the minimum 1");
    assert_load_fails("{\"smpp\": {\"name\": \"bad\\u0007name\"}}",
                      "smpp.name: control or non-ASCII");
    assert_load_fails("{\"transfers\": {\"max_wrong_pins\": 0}}",
                      "transfers.max_wrong_pins: 0 is below the minimum 1");
    assert_int_equal(load_text("{\"transfers\": {\"min_points\": 500, \"max_points\": 100}}"), 0);
    assert_int_equal(validate(), -EINVAL); /* cross-field rules: gw_config_validate */
    assert_non_null(strstr(err, "transfers: min_points must be >= 1 and <= max_points"));
    assert_int_equal(load_text("{\"transfers\": {\"min_points\": 50, \"lock_s\": 3600}}"), 0);
    assert_int_equal(cfg.transfers.min_points, 50);
    assert_int_equal(cfg.transfers.lock_s, 3600);
    assert_int_equal(cfg.transfers.max_wrong_pins, 3);
    /* tiers that move (gw_tier.h): the window the wallet keeps, a grace of at most a year */
    assert_load_fails("{\"loyalty\": {\"tier_window_months\": 13}}",
                      "loyalty.tier_window_months: 13 is above the maximum 12");
    assert_load_fails("{\"loyalty\": {\"tier_window_months\": 0}}",
                      "loyalty.tier_window_months: 0 is below the minimum 1");
    assert_load_fails("{\"loyalty\": {\"tier_grace_days\": 366}}",
                      "loyalty.tier_grace_days: 366 is above the maximum 365");
    assert_load_fails("{\"loyalty\": {\"tier_basis\": \"rolling\"}}", "loyalty.tier_basis");
}

static void test_config__string_checks(void **state)
{
    (void)state;
    assert_load_fails("{\"events\": {\"currency\": \"mad\"}}",
                      "events.currency: \"mad\": an ISO 4217 code");
    assert_load_fails("{\"log\": {\"level\": \"loud\"}}", "log.level: \"loud\": one of debug");
    assert_load_fails("{\"events\": {\"country_prefixes\": [\"+212\"]}}",
                      "events.country_prefixes[0]: expected a country prefix");
    assert_load_fails("{\"loyalty\": {\"promotions\": [{\"name\": \"p\", \"from\": "
                      "\"2026-07-01\", \"to\": \"2026-07-02\", \"multiplier_pct\": 150, "
                      "\"channel\": \"cash\"}]}}",
                      "loyalty.promotions[0].channel: \"cash\": one of voucher");
}

static void test_config__max_amount_forms(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"events\": {\"max_amount\": \"2500.5\"}}"), 0);
    assert_int_equal(cfg.events.limits.max_amount_milli, 2500500);
    assert_int_equal(load_text("{\"events\": {\"max_amount\": 5000}}"), 0);
    assert_int_equal(cfg.events.limits.max_amount_milli, 5000000);
    assert_load_fails("{\"events\": {\"max_amount\": 100.5}}",
                      "events.max_amount: write a fractional amount as a string");
    assert_load_fails("{\"events\": {\"max_amount\": \"1e5\"}}",
                      "events.max_amount: exponent not allowed");
    assert_load_fails("{\"events\": {\"max_amount\": \"0\"}}",
                      "events.max_amount: must be greater than 0");
    assert_load_fails("{\"events\": {\"max_amount\": 0}}",
                      "events.max_amount: must be greater than 0");
    assert_load_fails("{\"events\": {\"max_amount\": \"99999999999\"}}",
                      "events.max_amount: above the maximum 1000000000");
}

static void test_config__names_overrides(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"events\": {\"kind_names\": {\"TOPUP\": \"RECHARGE\"}, "
                               "\"key_names\": {\"ref\": \"txid\"}}}"),
                     0);
    assert_string_equal(cfg.events.format.kind_names[GW_EV_TOPUP], "RECHARGE");
    assert_string_equal(cfg.events.format.kind_names[GW_EV_BILL], "BILL");
    assert_string_equal(cfg.events.format.key_names[GW_F_REF], "txid");
    assert_int_equal(validate(), 0);
    assert_int_equal(load_text("{\"events\": {\"key_names\": {\"orig\": \"ref\"}}}"), 0);
    assert_int_equal(validate(), -EINVAL);
    assert_string_equal(err, "events: key_names.orig: same name as ref");
}

/* ---------------------------------------------------------------- files */

static void test_config__syntax_error__names_line(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\n  \"smpp\": {\n    \"window\": 10,\n  }\n}\n"), -EINVAL);
    assert_non_null(strstr(err, "gw.json:4:"));
}

static void test_config__missing_file__enoent(void **state)
{
    char path[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/nope.json", tmpdir);
    assert_int_equal(gw_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "nope.json"));
}

static void test_config__failed_load__leaves_cfg_untouched(void **state)
{
    struct gw_config before;

    (void)state;
    cfg.smpp.window = 77;
    memcpy(&before, &cfg, sizeof(cfg));
    assert_int_not_equal(load_text("{\"smpp\": {\"window\": 5, \"port\": 0}}"), 0);
    assert_memory_equal(&before, &cfg, sizeof(cfg));
}

/* gw_config_load_text (the fuzz target's loader): the file's text in memory loads to the same
 * configuration, errors name the path given; defaults are a fresh copy at every call */
static void test_config__text__same_as_file(void **state)
{
    static struct gw_config from_text;
    static char text[64 * 1024];
    FILE *f = fopen(DEPLOY_DIR "/loyaltygw.json", "r");
    size_t n;

    (void)state;
    assert_non_null(f);
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_int_equal(gw_config_load(DEPLOY_DIR "/loyaltygw.json", &cfg, err, sizeof(err)), 0);
    gw_config_defaults(&from_text);
    assert_int_equal(gw_config_load_text(DEPLOY_DIR "/loyaltygw.json", text, n, &from_text, err,
                                         sizeof(err)), 0);
    assert_memory_equal(&from_text, &cfg, sizeof(cfg));
    assert_int_equal(gw_config_load_text("etc/gw.json", "{\"smpp\": ", 10, &cfg, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "etc/gw.json:1:"));
    from_text.smpp.port = 1;
    gw_config_defaults(&cfg);
    gw_config_defaults(&from_text);
    assert_memory_equal(&from_text, &cfg, sizeof(cfg));
    assert_int_equal(cfg.smpp.port, 2775);
}

static void test_config__separate_loyalty_file__loaded_relative(void **state)
{
    char main_path[256];

    (void)state;
    write_file("table.json", "{\"timezone\": \"Africa/Casablanca\", \"daily_cap\": 42, "
                             "\"rates\": {\"BILL\": {\"points\": 2, \"per\": 25}}}");
    snprintf(main_path, sizeof(main_path), "%s",
             write_file("main.json", "{\"loyalty\": \"table.json\"}"));
    assert_int_equal(gw_config_load(main_path, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.loyalty.daily_cap, 42);
    assert_string_equal(cfg.loyalty.timezone, "Africa/Casablanca");
    assert_int_equal(cfg.loyalty.rate[GW_EV_BILL].points, 2);
    assert_int_equal(cfg.loyalty.rate[GW_EV_BILL].per, 25);
    /* kinds not named keep their defaults */
    assert_int_equal(cfg.loyalty.rate[GW_EV_TOPUP].per, 10);
}

static void test_config__error_in_loyalty_file__names_that_file(void **state)
{
    char main_path[256];

    (void)state;
    write_file("table.json", "{\"daily_cap\": 5, \"tierz\": []}");
    snprintf(main_path, sizeof(main_path), "%s",
             write_file("main.json", "{\"loyalty\": \"table.json\"}"));
    assert_int_equal(gw_config_load(main_path, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "table.json: loyalty.tierz: unknown key"));
    write_file("main.json", "{\"loyalty\": \"absent.json\"}");
    assert_int_equal(gw_config_load(main_path, &cfg, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "absent.json"));
}

/* ---------------------------------------------------------------- dates and zones */

#define WINDOW_JSON(tz, from, to)                                                                  \
    "{\"loyalty\": {\"seasons\": [{\"name\": \"s\", \"from\": \"" from "\", \"to\": \"" to         \
    "\", \"multiplier_pct\": 150}], \"timezone\": \"" tz "\"}}"

static void test_config__date_only_range__whole_local_days_in_casablanca(void **state)
{
    (void)state;
    /* timezone written after the seasons: still applied first */
    assert_int_equal(load_text(WINDOW_JSON("Africa/Casablanca", "2026-07-01", "2026-07-01")), 0);
    /* one whole local day at +01: 2026-06-30T23:00Z .. 2026-07-01T23:00Z */
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1782860400));
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1782860400) + 86400);
    /* across a month end: "to" 31 December means up to 1 January 00:00 local */
    assert_int_equal(load_text(WINDOW_JSON("Africa/Casablanca", "2026-12-01", "2026-12-31")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1798758000)); /* 2026-12-31T23:00Z */
    /* the day Morocco leaves +01 for Ramadan (2027-02-07, 03:00 -> 02:00) lasts 25 hours */
    assert_int_equal(load_text(WINDOW_JSON("Africa/Casablanca", "2027-02-07", "2027-02-07")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].to - cfg.loyalty.seasons[0].from, 25 * 3600);
    /* the same dates in UTC */
    assert_int_equal(load_text(WINDOW_JSON("UTC", "2026-07-01", "2026-07-01")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1782864000));
}

static void test_config__local_time_and_rfc3339_bounds(void **state)
{
    (void)state;
    assert_int_equal(
        load_text(WINDOW_JSON("Africa/Casablanca", "2026-11-27T18:00", "2026-11-29T23:59:59")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1795798800)); /* 17:00Z */
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1795993199));   /* exclusive, as given */
    assert_int_equal(load_text(WINDOW_JSON("Africa/Casablanca", "2026-11-27T18:00:00+01:00",
                                           "2026-11-30T00:00:00Z")),
                     0);
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1795798800));
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1795996800));
}

/* Regression (found by test_date_sweeps): a local time the clocks skip was read by mktime() as
 * the hour before the jump. Casablanca leaves Ramadan's +00 on 2026-03-22 at 02:00 -> 03:00:
 * "02:30" does not exist there and starts at the jump, 02:00Z, as in the gift-day calendar. A
 * repeated time (Ramadan starts 2026-02-15, 03:00 -> 02:00) is its earlier instant as a start and
 * its later one as an end. The instants are the point of this case. */
static void test_config__local_time_in_gap_or_overlap__calendar_policy(void **state)
{
    (void)state;
    assert_int_equal(
        load_text(WINDOW_JSON("Africa/Casablanca", "2026-03-22T02:30", "2026-03-22T02:45")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1774144800));
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1774144800));
    assert_int_equal(
        load_text(WINDOW_JSON("Africa/Casablanca", "2026-02-15T02:30", "2026-02-15T02:30")), 0);
    assert_int_equal(cfg.loyalty.seasons[0].from, INT64_C(1771119000)); /* 01:30Z, at +01 */
    assert_int_equal(cfg.loyalty.seasons[0].to, INT64_C(1771122600));   /* 02:30Z, at +00 */
}

static void test_config__bad_dates__rejected(void **state)
{
    (void)state;
    assert_load_fails(WINDOW_JSON("UTC", "2026-02-29", "2026-03-01"),
                      "loyalty.seasons[0].from: \"2026-02-29\" is not YYYY-MM-DD");
    assert_load_fails(WINDOW_JSON("UTC", "2026-07-01", "01/08/2026"),
                      "loyalty.seasons[0].to: \"01/08/2026\" is not");
    assert_load_fails(WINDOW_JSON("UTC", "2026-07-01T25:00", "2026-07-02"),
                      "loyalty.seasons[0].from:");
    assert_load_fails("{\"loyalty\": {\"seasons\": [{\"name\": \"s\", \"from\": \"2026-07-01\", "
                      "\"multiplier_pct\": 150}]}}",
                      "loyalty.seasons[0].to: missing");
}

static void test_config__timezone_checks(void **state)
{
    (void)state;
    assert_load_fails("{\"loyalty\": {\"timezone\": \"Mars/Olympus_Mons\"}}",
                      "loyalty.timezone: \"Mars/Olympus_Mons\": no such zone");
    assert_load_fails("{\"loyalty\": {\"timezone\": \"../../etc/passwd\"}}",
                      "loyalty.timezone: \"../../etc/passwd\": an IANA zone name");
    assert_load_fails("{\"loyalty\": {\"timezone\": \"/etc/localtime\"}}", "not a path");
    assert_load_fails("{\"loyalty\": {\"timezone\": \"Africa\"}}", "no such zone");
    assert_load_fails("{\"loyalty\": {\"timezone\": \"zone.tab\"}}", "an IANA zone name");
    if (access("/usr/share/zoneinfo/leapseconds", R_OK) == 0)
        assert_load_fails("{\"loyalty\": {\"timezone\": \"leapseconds\"}}",
                          "not a compiled zone file");
}

/* The zone becomes the programme zone; the process TZ is neither read nor written. */
static void test_config__apply_timezone__sets_local_days(void **state)
{
    (void)state;
    unsetenv("TZ");
    snprintf(cfg.loyalty.timezone, sizeof(cfg.loyalty.timezone), "Africa/Casablanca");
    assert_int_equal(gw_config_apply_timezone(&cfg), 0);
    assert_null(getenv("TZ"));
    assert_int_equal(gw_local_day(INT64_C(1782948600)), 20260702); /* 2026-07-01T23:30Z */
    /* an unknown zone is refused and the one in force stays */
    snprintf(cfg.loyalty.timezone, sizeof(cfg.loyalty.timezone), "No/Where");
    assert_int_equal(gw_config_apply_timezone(&cfg), -EINVAL);
    assert_int_equal(gw_local_day(INT64_C(1782948600)), 20260702);
    assert_string_equal(cat_tz_name(gw_zone()), "Africa/Casablanca");
}

/* ---------------------------------------------------------------- cross-key validation */

static void assert_invalid(const char *reason)
{
    int rc = validate();

    if (rc != -EINVAL)
        fail_msg("validated; expected '%s'", reason);
    if (!strstr(err, reason))
        fail_msg("reason '%s' lacks '%s'", err, reason);
}

static void test_config__validate__retention_shorter_than_max_age(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"ledger\": {\"ref_retention_days\": 30}}"), 0);
    assert_invalid("ledger.ref_retention_days: 30 days is less than events.max_age_days (30) + 1");
    assert_int_equal(load_text("{\"ledger\": {\"ref_retention_days\": 8}, "
                               "\"events\": {\"max_age_days\": 7}}"),
                     0);
    assert_int_equal(validate(), 0);
}

static void test_config__validate__tiers(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"loyalty\": {\"tiers\": [{\"name\": \"a\", \"min_points\": 10, "
                               "\"multiplier_pct\": 100}]}}"),
                     0);
    assert_invalid("loyalty.tiers[0].min_points: the first tier starts at 0 points");
    assert_int_equal(load_text("{\"loyalty\": {\"tiers\": ["
                               "{\"name\": \"a\", \"min_points\": 0, \"multiplier_pct\": 100},"
                               "{\"name\": \"b\", \"min_points\": 500, \"multiplier_pct\": 110},"
                               "{\"name\": \"c\", \"min_points\": 500, \"multiplier_pct\": 120}"
                               "]}}"),
                     0);
    assert_invalid("loyalty.tiers[2]: min_points 500 must be above the previous tier's 500");
    assert_load_fails("{\"loyalty\": {\"tiers\": []}}", "loyalty.tiers: at least one tier");
}

static void test_config__validate__window_from_not_before_to(void **state)
{
    (void)state;
    assert_int_equal(load_text(WINDOW_JSON("UTC", "2026-08-01", "2026-07-01")), 0);
    assert_invalid("loyalty.seasons[0]: from must be before to");
}

static void test_config__validate__channel_promo_without_topup(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"loyalty\": {\"promotions\": [{\"name\": \"p\", \"from\": "
                               "\"2026-07-01\", \"to\": \"2026-07-02\", \"multiplier_pct\": 150, "
                               "\"kinds\": [\"BILL\"], \"channel\": \"card\"}]}}"),
                     0);
    assert_invalid("loyalty.promotions[0]: only TOPUP events have a channel");
}

static void test_config__validate__reconnect_min_above_max(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"redis\": {\"reconnect_min_ms\": 6000, "
                               "\"reconnect_max_ms\": 5000}}"),
                     0);
    assert_invalid("redis.reconnect_min_ms: 6000 is above redis.reconnect_max_ms 5000");
    assert_int_equal(load_text("{\"smpp\": {\"reconnect_min_ms\": 9000, "
                               "\"reconnect_max_ms\": 8000}}"),
                     0);
    assert_invalid("smpp.reconnect_min_ms: 9000 is above");
}

static void test_config__validate__module_default_out_of_bounds(void **state)
{
    (void)state;
    cfg.smpp.window = 0; /* as a drifting smpp_esme_config_defaults() would */
    assert_invalid("smpp.window: 0 is below the minimum 1");
    gw_config_defaults(&cfg);
    cfg.smpp.bind.system_id[0] = '\0';
    assert_invalid("smpp.system_id: must not be empty");
}

static void test_config__validate__earning_beyond_ledger_bound(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"events\": {\"max_amount\": \"1000000000\"}, \"loyalty\": "
                               "{\"rates\": {\"USAGE\": {\"points\": 1000000, \"per\": 1}}}}"),
                     0);
    assert_invalid("loyalty.rates.USAGE: an event of events.max_amount could earn more than");
}

static void test_config__validate__redis_needs_an_address(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"redis\": {\"host\": \"\"}}"), 0);
    assert_invalid("redis.host: set redis.host or redis.unix_socket");
    assert_int_equal(load_text("{\"redis\": {\"host\": \"\", "
                               "\"unix_socket\": \"/run/redis/redis.sock\"}}"),
                     0);
    assert_int_equal(validate(), 0);
}

/* The loyalty table alone (the staff console's stored document): the deploy table loads over
 * the defaults, absent keys keep theirs, and the gateway's checks name the key. */
static void test_config__loyalty_document__parsed_and_checked(void **state)
{
    static char text[64 * 1024];
    struct gw_loyalty t;
    FILE *f = fopen(DEPLOY_DIR "/loyalty-table.json", "r");
    size_t n;

    (void)state;
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_int_equal(gw_config_loyalty_parse("doc", text, n, &cfg, &t, err, sizeof(err)), 0);
    assert_int_equal(t.n_tiers, 3);
    assert_string_equal(t.tiers[2].name, "gold");
    assert_int_equal(t.daily_cap, 500);

    const char *two = "{\"rates\": {\"TOPUP\": {\"points\": 3, \"per\": 10}}}";
    assert_int_equal(gw_config_loyalty_parse("doc", two, strlen(two), &cfg, &t, err, sizeof(err)),
                     0);
    assert_int_equal(t.n_tiers, cfg.loyalty.n_tiers); /* absent: the defaults */

    const char *bad =
        "{\"tiers\": [{\"name\": \"a\", \"min_points\": 5, \"multiplier_pct\": 100}]}";
    t.n_tiers = 99;
    assert_int_equal(gw_config_loyalty_parse("doc", bad, strlen(bad), &cfg, &t, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "loyalty.tiers[0].min_points"));
    assert_int_equal(t.n_tiers, 99); /* untouched on error */

    const char *unknown = "{\"ratez\": {}}";
    assert_int_equal(
        gw_config_loyalty_parse("doc", unknown, strlen(unknown), &cfg, &t, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "ratez"));

    const char *broken = "{\"rates\": ";
    assert_int_equal(
        gw_config_loyalty_parse("doc", broken, strlen(broken), &cfg, &t, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "doc:1:"));
}

/* ---------------------------------------------------------------- Redis credentials, Sentinel */

static void test_config__redis_password__from_file_env_never_printed(void **state)
{
    char text[512], *out = NULL;
    size_t size = 0;
    FILE *f;

    (void)state;
    unsetenv("LGW_REDIS_PASSWORD");
    write_file("redis.pass", "s3cret-from-file\nignored second line\n");
    /* relative to the config file's folder, and the file wins over redis.password whatever the
     * order of the keys */
    assert_int_equal(load_text("{\"redis\": {\"password_file\": \"redis.pass\", \"username\": "
                               "\"loyaltygw\", \"password\": \"in-the-json\"}}"),
                     0);
    assert_string_equal(cfg.redis.password, "s3cret-from-file");
    assert_string_equal(cfg.redis.username, "loyaltygw");
    assert_int_equal(validate(), 0);
    f = open_memstream(&out, &size);
    assert_non_null(f);
    gw_config_print(&cfg, f);
    fclose(f);
    assert_null(strstr(out, "s3cret"));
    assert_non_null(strstr(out, "\"password\": \"***\""));
    assert_non_null(strstr(out, "\"password_file\": \"redis.pass\""));
    free(out);

    /* the environment wins over the file */
    setenv("LGW_REDIS_PASSWORD", "from-the-env", 1);
    assert_int_equal(load_text("{\"redis\": {\"password_file\": \"redis.pass\"}}"), 0);
    assert_string_equal(cfg.redis.password, "from-the-env");
    unsetenv("LGW_REDIS_PASSWORD");

    snprintf(text, sizeof(text), "{\"redis\": {\"password_file\": \"%s/absent.pass\"}}", tmpdir);
    assert_load_fails(text, "redis.password_file");
    write_file("empty.pass", "\n");
    assert_load_fails("{\"redis\": {\"password_file\": \"empty.pass\"}}",
                      "redis.password_file: ");
    /* a message about the file never quotes its content */
    write_file("long.pass", "x");
    assert_int_equal(load_text("{\"redis\": {\"password_file\": \"long.pass\"}}"), 0);
    assert_string_equal(cfg.redis.password, "x");
}

static void test_config__redis_sentinel__keys_and_validation(void **state)
{
    (void)state;
    unsetenv("LGW_REDIS_PASSWORD");
    assert_int_equal(load_text("{\"redis\": {\"sentinels\": [\"127.0.0.1:26379\", "
                               "\"[::1]:26380\"], \"master_name\": \"loyalty\"}}"),
                     0);
    assert_int_equal(cfg.redis.n_sentinels, 2);
    assert_string_equal(cfg.redis.sentinels[1], "[::1]:26380");
    assert_string_equal(cfg.redis.master_name, "loyalty");
    assert_int_equal(validate(), 0);

    assert_load_fails("{\"redis\": {\"sentinels\": [\"nowhere\"]}}",
                      "redis.sentinels[0]: expected \"host:port\"");
    assert_int_equal(load_text("{\"redis\": {\"sentinels\": [\"127.0.0.1:26379\"]}}"), 0);
    assert_int_equal(validate(), -EINVAL);
    assert_non_null(strstr(err, "redis.master_name: required with redis.sentinels"));
    assert_int_equal(load_text("{\"redis\": {\"sentinels\": [\"127.0.0.1:26379\"], "
                               "\"master_name\": \"m\", \"cluster_nodes\": [\"127.0.0.1:7000\"]}}"),
                     0);
    assert_int_equal(validate(), -EINVAL);
    assert_non_null(strstr(err, "redis.sentinels: not with redis.cluster_nodes"));
    assert_int_equal(load_text("{\"redis\": {\"username\": \"loyaltygw\"}}"), 0);
    assert_int_equal(validate(), -EINVAL);
    assert_non_null(strstr(err, "redis.username: needs a password"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_config__deploy_files__load_and_validate),
        T(test_config__deploy_table__spec_example_earns_voucher_promo),
        T(test_config__defaults__validate),
        T(test_config__print__masks_password_and_loads_back),
        T(test_config__unknown_key__error_names_path),
        T(test_config__comment_keys__ignored),
        T(test_config__type_errors__name_path),
        T(test_config__bounds_errors__name_path_and_bound),
        T(test_config__string_checks),
        T(test_config__max_amount_forms),
        T(test_config__names_overrides),
        T(test_config__syntax_error__names_line),
        T(test_config__missing_file__enoent),
        T(test_config__failed_load__leaves_cfg_untouched),
        T(test_config__text__same_as_file),
        T(test_config__separate_loyalty_file__loaded_relative),
        T(test_config__error_in_loyalty_file__names_that_file),
        T(test_config__date_only_range__whole_local_days_in_casablanca),
        T(test_config__local_time_and_rfc3339_bounds),
        T(test_config__local_time_in_gap_or_overlap__calendar_policy),
        T(test_config__bad_dates__rejected),
        T(test_config__timezone_checks),
        T(test_config__apply_timezone__sets_local_days),
        T(test_config__validate__retention_shorter_than_max_age),
        T(test_config__validate__tiers),
        T(test_config__validate__window_from_not_before_to),
        T(test_config__validate__channel_promo_without_topup),
        T(test_config__validate__reconnect_min_above_max),
        T(test_config__validate__module_default_out_of_bounds),
        T(test_config__validate__earning_beyond_ledger_bound),
        T(test_config__validate__redis_needs_an_address),
        T(test_config__loyalty_document__parsed_and_checked),
        T(test_config__redis_password__from_file_env_never_printed),
        T(test_config__redis_sentinel__keys_and_validation),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
