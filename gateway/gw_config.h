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

#include "gw_broadcast.h"
#include "gw_campaign_run.h"
#include "gw_event.h"
#include "gw_expiry.h"
#include "gw_ledger.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_transfer.h"
#include "smpp.h"
#include "ussd.h"

#define GW_MAX_SENDERS 8
#define GW_SMS_KEYWORDS_MAX 8  /* MO SMS keywords that ask for the balance */
#define GW_SMS_KEYWORD_MAX 48  /* bytes of one keyword (UTF-8), NUL included */
#define GW_SUGGEST_TEXT_CAP 1024 /* largest suggestions.text_max (gw_suggest.h) */

struct gw_config {
    struct smpp_esme_config smpp;
    struct gw_redis_config redis;
    /* redis.password_file: read at load into redis.password (which LGW_REDIS_PASSWORD, when set
     * in the environment, overrides); the password itself is never printed or logged. */
    char redis_password_file[256];
    struct {
        char senders[GW_MAX_SENDERS][21]; /* source_addr values that mark an event */
        unsigned n_senders;
        struct gw_event_limits limits;
        struct gw_event_format format;    /* kind and key names (a carrier's own vocabulary) */
    } events;
    struct gw_ledger_config ledger;
    /* points transfers (issue 10 §4; gw_transfer.h); history_len comes from ledger */
    struct gw_transfer_config transfers;
    struct gw_loyalty loyalty;
    /* USSD (issue 3): the carrier's variations (ussd.h) and the menu file. menus_file is
     * resolved against the config file's folder at load; "" = USSD off (answered ROK, dropped). */
    struct ussd_config ussd;
    char ussd_menus_file[512];
    /* SMS side: MO keywords sent to short_code get the balance by SMS (gw_sms.h) */
    struct {
        char short_code[21];
        char keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_keywords;
        /* consent (issue 10 section 3): opt out of / back into marketing SMS */
        char stop_keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_stop_keywords;
        char start_keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_start_keywords;
        /* the separate switch of the points-expiry warnings (service, not marketing SMS) */
        char alerts_off_keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_alerts_off_keywords;
        char alerts_on_keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_alerts_on_keywords;
        /* the suggestion box (issue 10 section 2): the first word of an idea (gw_suggest.h) */
        char suggest_keywords[GW_SMS_KEYWORDS_MAX][GW_SMS_KEYWORD_MAX];
        unsigned n_suggest_keywords;
    } sms;
    /* The suggestion box's store (gw_suggest.h; docs/data-model.md "Suggestions") */
    struct {
        uint32_t retention_days; /* entries older than this are trimmed (90) */
        uint32_t max_entries;    /* and the stream never holds more than about this (100000) */
        uint32_t per_day;        /* ideas + ratings kept per member and local day (5) */
        uint32_t text_max;       /* bytes of an idea's text kept, cut on a character (480) */
    } suggestions;
    /* Gift fulfilment (issue 4): the carrier's provisioning API (shared/spec/provisioning.md) and
     * the worker on the fulfilment stream (catalog/cat_fulfil.h). */
    struct {
        bool enabled;                /* run the worker inside loyaltygw (default false) */
        char base_url[256];          /* "http://127.0.0.1:8080": POST {base_url}/v1/grants */
        char token[256];             /* Authorization: Bearer (secret) */
        bool insecure_test_mode;     /* tests/demos: http:// to loopback, placeholder token */
        uint32_t connect_timeout_ms; /* default 2000 */
        uint32_t timeout_ms;         /* deadline of one call, default 5000 */
        uint32_t retry_min_ms;       /* first back-off after a temporary failure, default 2000 */
        uint32_t retry_max_ms;       /* back-off ceiling, default 300000 */
        uint32_t retry_deadline_s;   /* temporary failures for this long become permanent */
        uint32_t claim_idle_ms;      /* entries idle this long in another consumer are taken */
        uint32_t max_in_flight;      /* provisioning calls at once, default 32 */
        char group[64];              /* consumer group on the stream, default "fulfil" */
        char consumer[64];           /* this worker's name in the group ("" = host name) */
        char sms_lang[4]; /* en | fr: the built-in SMS texts' language for a recipient whose
                           * language they lack (used when the menu file has no gift texts) */
    } provisioning;
    /* Catalogue, gift days and redemption (issue 4: catalog/catalog.h, gateway/wire_catalog.c).
     * File names are relative to the config file's folder (resolved by wire_catalog.c);
     * file "" = no catalogue (the gift menus say "unavailable"). */
    struct {
        char file[512];                 /* the catalogue JSON (deploy/catalog.json) */
        char giftdays_file[512];        /* the gift-day calendar (deploy/giftdays.json) */
        char vouchers_dir[512];         /* <POOL>.csv per voucher pool; "" = none */
        uint32_t reservation_timeout_s; /* the sweeper settles older reservations (30) */
        uint32_t sweep_interval_ms;     /* sweeper period (1000) */
        char gift_tiers[128];           /* tiers that may gift to another number: "gold,platinum" */
        uint32_t perk_share_pct; /* the premium perk's unit costs this % of the price (0: free) */
        uint32_t perk_per_day;   /* perks per member and gift day; 0 (default) = no perk offered */
        /* The staff console's documents cfg:{adm}:catalog / cfg:{adm}:giftdays win over the files
         * once stored (gateway/wire_cfgdocs.c); their version is polled every docs_poll_ms. */
        bool follow_redis_docs; /* default true */
        uint32_t docs_poll_ms;  /* default 2000 */
    } catalog;
    /* The gift-day reminder broadcast (gw_broadcast.h; needs ussd.menus_file for the SMS side) */
    struct gw_broadcast_config broadcast;
    /* Points that really expire: the expiry job and its warnings (gw_expiry.h) */
    struct gw_expiry_config expiry;
    /* The campaign rules: bonuses on events, win-back offers (gw_campaign_run.h) */
    struct gw_campaign_run_config campaigns;
    /* The event journal (gw_journal.h): every committed event as one line in a day file on
     * this host's disk, for `loyaltyctl whatif` (issue 12 section 2). dir "" = off. */
    struct {
        char dir[512];      /* absolute path, e.g. /var/lib/loyaltygw/journal */
        uint32_t keep_days; /* day files kept (today included), default 35 */
    } journal;
    /* Fraud brakes (issue 10 section 5; gateway/wire_brakes.c): the velocity caps per MSISDN on
     * redemptions and the redemption-rate breaker (gw_breaker.h). 0 = that cap off. */
    struct {
        uint32_t redeem_per_hour, redeem_per_day; /* redemptions per MSISDN (0 = no cap) */
        /* earning events and the points they earn per MSISDN, per clock hour and local day:
         * over a cap the event is committed and its points held (commit.lua; 0 = no cap) */
        uint32_t events_per_hour, events_per_day, points_per_hour, points_per_day;
        bool breaker;                             /* the breaker freezes items (default false) */
        uint32_t breaker_window_s, breaker_half_life_s, breaker_multiple_pct, breaker_min_count;
        uint32_t breaker_floor_milli; /* gw_breaker_config's fields */
    } brakes;
    struct {
        char level[16];
        char format[8];  /* "text" (default) or "json": one JSON object per line (gw_core.h) */
        char output[12]; /* "stderr" (default), "syslog" or "journal" */
    } log;
    struct {
        char stats_file[256]; /* counters written here every interval ("" = off) */
        unsigned interval_s;  /* default 10 */
        /* GET /metrics, /health, /ready (core/gw_metrics.h): "host:port", "" = off */
        char listen[280];
        /* /ready: the Redis write probe's period; ready only if the last probe is younger than
         * 3 periods and succeeded (gateway/wire_metrics.c) */
        unsigned ready_probe_ms;
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

/* gw_config_load with the main file's text in memory (len bytes, no NUL needed): path names it
 * in messages, and its folder is where a "loyalty" file name is looked up. */
int gw_config_load_text(const char *path, const char *text, size_t len, struct gw_config *cfg,
                        char *err, size_t errlen);

/* The loyalty table alone, from a JSON text (the staff console's stored document
 * cfg:{adm}:loyalty, issue 12): parsed like the "loyalty" object of the configuration file over
 * its defaults, then checked with gw_config_validate together with base's other sections.
 * *out is written only on success. Returns 0, or -EINVAL / -ENOMEM with one line in err
 * ("loyalty.tiers[1].min_points: ...", name = the document's name in messages). */
int gw_config_loyalty_parse(const char *name, const char *text, size_t len,
                            const struct gw_config *base, struct gw_loyalty *out, char *err,
                            size_t errlen);

/* Cross-key checks (retention >= max age + 1 day, tiers ascending, ...). Same error style. */
int gw_config_validate(const struct gw_config *cfg, char *err, size_t errlen);

/* Loads cfg->loyalty.timezone as the programme zone (gw_zone_load; the process TZ is not read
 * nor set). Returns 0, or -EINVAL for an unknown or unreadable zone (the zone in force stays). */
int gw_config_apply_timezone(const struct gw_config *cfg);

/* Writes the effective configuration as JSON (passwords masked). */
void gw_config_print(const struct gw_config *cfg, FILE *out);

/* Writes the configuration reference (Markdown: every key of the table with its type, bounds,
 * default and meaning) - docs/configuration.md is this output, checked by a test. */
void gw_config_print_reference(FILE *out);
/* The meaning of a key ("smpp.window") or of a section ("smpp") for the reference, NULL when
 * none is written yet (gateway/gw_config_doc.c). */
const char *gw_config_key_doc(const char *name);

#endif
