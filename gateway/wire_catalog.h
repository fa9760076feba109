/*
 * wire_catalog.h - the adapter between the catalogue module (catalog/catalog.h) and the USSD
 * transport (gw_ussd.h, ussd.h), owned by the redemption engineer (issue 4). Part of the
 * loyaltygw program only (wire_*.c): it is the one place that sees both gateway and catalog.
 *
 * It owns the catalogue store, the gift-day calendar, the redemption module and:
 *   - the USSD catalogue provider (struct ussd_catalog_ops): categories, items numbered 1..999
 *     for *555*2*<n># (the item's 1-based position in the catalogue file, so a number stays put
 *     while items are disabled or killed; append new items at the end to keep numbers stable),
 *     price, stock and the redeem window with the next opening in local time per language;
 *   - the stock cache: the USSD ops are synchronous but stock lives in Redis, so a 1 s timer
 *     reads every stocked item's count for the current (or next) gift day and the menus show
 *     that value - at most about a second old; the reserve script is the real arbiter;
 *   - the redeem hook (struct gw_ussd_ops) that turns a confirmation into cat_redeem_confirm,
 *     with the rid derived from the USSD session key, the item and the gift day;
 *   - voucher pools: <vouchers_dir>/<POOL>.csv for every pool the catalogue names, pushed to
 *     Redis (idempotently) once connected, retried every 5 s until it worked.
 */
#ifndef WIRE_CATALOG_H
#define WIRE_CATALOG_H

#include <stddef.h>

#include "catalog.h"
#include "gw_config.h"
#include "gw_ussd.h"
#include "ussd.h"

struct event_base;
struct gw_redis;
struct wire_catalog;

/* Loads cfg->catalog (files relative to config_path's folder; config_path may be NULL). Returns
 * NULL with err set when a file is invalid, or when cfg->catalog.file is "" (err "" then: the
 * catalogue is off). base and redis are borrowed. Starts the sweeper and the stock cache. */
struct wire_catalog *wire_catalog_new(struct event_base *base, struct gw_redis *redis,
                                      const struct gw_config *cfg, const char *config_path,
                                      char *err, size_t errlen);

/* SIGHUP: reloads the catalogue (atomic version switch; in-flight redemptions keep theirs) and
 * the calendar. On error everything stays as it was and err says why. Returns 0 or < 0. */
int wire_catalog_reload(struct wire_catalog *w, const struct gw_config *cfg,
                        const char *config_path, char *err, size_t errlen);

/* The staff console's documents (wire_cfgdocs.c), from text read out of Redis: the catalogue
 * (validated with the loyalty table's tiers, then the same atomic switch as a reload; 0 also when
 * it equals the current one) and the gift-day calendar. On error nothing changes and err says
 * why. Returns 0 or < 0 (-EINVAL invalid, -EEXIST version reused with other items, -ENOMEM). */
int wire_catalog_swap_from_buffer(struct wire_catalog *w, const struct gw_config *cfg,
                                  const char *text, size_t len, char *err, size_t errlen);
int wire_catalog_set_calendar_from_buffer(struct wire_catalog *w, const char *text, size_t len,
                                          char *err, size_t errlen);

/* The USSD catalogue provider and the redemption hook, with w as their arg. */
extern const struct ussd_catalog_ops wire_catalog_ussd_ops;
void wire_catalog_redeem_ops(struct wire_catalog *w, struct gw_ussd_ops *out);

/* The redemption module (for the fulfilment worker's store ops). */
struct cat_redeem *wire_catalog_redeem(struct wire_catalog *w);
/* The catalogue store (the fulfilment worker names items in its SMS from it). NULL for NULL. */
struct cat_store *wire_catalog_store(struct wire_catalog *w);

/* The gift-day calendar in force (reloaded on SIGHUP and by the console: read it again at each
 * use, never keep it). NULL for NULL. */
const struct cat_calendar *wire_catalog_calendar(const struct wire_catalog *w);
/* Instant t as the menus show an opening, "Wed 09/12 10:15", in the calendar's zone and language
 * lang ("ar", "fr", "en", "fa"; another: English). Always NUL-terminates out. */
void wire_catalog_format_local(const struct wire_catalog *w, int64_t t, const char *lang,
                               char *out, size_t cap);

/* The what-if journal (gw_journal.h): every granted redemption is appended to it (best effort),
 * for the catalogue's what-if. j is borrowed and must outlive the module; NULL turns it off. */
struct gw_journal;
void wire_catalog_set_journal(struct wire_catalog *w, struct gw_journal *j);

/* Free after gw_redis_free (in-flight redemptions end with -ECANCELED first). NULL: no-op. */
void wire_catalog_free(struct wire_catalog *w);

#endif
