/*
 * gw_config.h - loyaltygw's configuration: one JSON file (jansson), every scalar key declared once
 * in a table with its type, bounds and default (Redis's config.c pattern), unknown keys are errors
 * that name the key's path. The loyalty table (rates, seasons, promotions, tiers, cap) is the
 * "loyalty" object, or a string naming a separate JSON file that marketing owns.
 *
 * Example: deploy/loyaltygw.json. Reference of every key: `loyaltygw --print-config`.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdio.h>

#include "gw_event.h"
#include "gw_ledger.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "smpp.h"

#define GW_MAX_SENDERS 8

struct gw_config {
    struct smpp_esme_config smpp;
    struct gw_redis_config redis;
    struct {
        char senders[GW_MAX_SENDERS][21]; /* source_addr values that mark an event */
        unsigned n_senders;
        struct gw_event_limits limits;
        struct gw_event_format format;    /* kind and key names (a carrier's own vocabulary) */
    } events;
    struct gw_ledger_config ledger;
    struct gw_loyalty loyalty;
    struct {
        char level[16];
    } log;
    struct {
        char stats_file[256]; /* counters written here every interval ("" = off) */
        unsigned interval_s;  /* default 10 */
    } metrics;
};

/* All defaults (a working local set-up: SMSC 127.0.0.1:2775, Redis 127.0.0.1:6379). */
void gw_config_defaults(struct gw_config *cfg);

/* Loads path over the defaults. Returns 0, or -EINVAL / -ENOENT with one line in err naming the
 * file, the key path and the problem ("loyaltygw.json: smpp.window: 0 is below the minimum 1").
 * Starts from gw_config_defaults() itself; cfg is written only on success. Keys starting with
 * "//" are comments, ignored at any level. A "loyalty" string names a file relative to path's
 * folder. Dates in the loyalty table are converted under its timezone (TZ switched for the call
 * and restored: call while the process has one thread). */
int gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen);

/* Cross-key checks (retention >= max age + 1 day, tiers ascending, ...). Same error style. */
int gw_config_validate(const struct gw_config *cfg, char *err, size_t errlen);

/* Sets the process time zone from cfg->loyalty.timezone (TZ + tzset). -EINVAL if unknown. */
int gw_config_apply_timezone(const struct gw_config *cfg);

/* Writes the effective configuration as JSON (passwords masked). */
void gw_config_print(const struct gw_config *cfg, FILE *out);

#endif
