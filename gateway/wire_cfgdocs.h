/*
 * wire_cfgdocs.h - loyaltygw follows the staff console (issue 5): marketing's catalogue and
 * gift-day calendar, stored by loyalty-admin as versioned documents in Redis (cfg:{adm}:catalog,
 * cfg:{adm}:giftdays: hashes {doc, version, at, by}, admin/adm_config.c), and the per-item kill
 * switches cat:{ITEM}:k it sets. Part of the loyaltygw program only (wire_*.c). Owner: the
 * staff-console engineer.
 *
 * Every catalog.docs_poll_ms (and at start-up, as soon as Redis answers) one round (the loyalty
 * table cfg:{adm}:loyalty too, once wire_cfgdocs_on_loyalty set who applies it):
 *   - HGET <doc> version for each document (cheap: the document itself is read only when its
 *     version differs from the one loaded); a different version is read with HMGET doc version,
 *     validated by the catalog library through wire_catalog (cat_catalog_parse with the loyalty
 *     table's tiers / cat_calendar_config_parse + cat_calendar_new) and switched in atomically.
 *     An invalid document is logged once with the library's reason and never loaded: the
 *     previous catalogue / calendar stays. No document stored (version absent): the files of
 *     catalog.file / catalog.giftdays_file stay in force - they are the bootstrap.
 *     (catalog.follow_redis_docs false: this part is off, the files rule.)
 *   - EXISTS cat:{ITEM}:k for every item of the current catalogue, mirrored into the store's
 *     in-memory kill switches (cat_item_kill / cat_item_revive), so the menus hide a stopped item
 *     within one poll. The reserve script checks the key itself, so redemptions of a stopped item
 *     are refused at once on every gateway, whatever the mirror says.
 * One round at a time; each request has gw_redis's deadline; a failed round is simply retried at
 * the next tick.
 *
 * Ownership: struct wire_cfgdocs owns its timer and, per round, a struct that its requests share
 * (freed by the last callback). Free it after gw_redis_free (which ends the requests in flight
 * with -ECANCELED; their callbacks then touch nothing but the round) and before the wire_catalog
 * it feeds.
 */
#ifndef WIRE_CFGDOCS_H
#define WIRE_CFGDOCS_H

#include <stddef.h>

struct event_base;
struct gw_config;
struct gw_redis;
struct wire_catalog;
struct wire_cfgdocs;

#define WIRE_CFGDOCS_KEY_CATALOG "cfg:{adm}:catalog"
#define WIRE_CFGDOCS_KEY_GIFTDAYS "cfg:{adm}:giftdays"
#define WIRE_CFGDOCS_KEY_LOYALTY "cfg:{adm}:loyalty"
#define WIRE_CFGDOCS_KEY_MENUS "cfg:{adm}:menus"
#define WIRE_CFGDOCS_KEY_CAMPAIGNS "cfg:{adm}:campaigns"
/* hash: "<host>/<pid>" -> "<unix ms> catalog=V giftdays=V loyalty=V menus=V", the versions each
 * running gateway uses (0 = its file's), rewritten every round: the console shows them */
#define WIRE_CFGDOCS_KEY_SEEN "cfg:{adm}:seen"

/* base, redis, cat and cfg are borrowed and must outlive the module (cfg is read at each load:
 * the loyalty tiers, which SIGHUP may change). cat may be NULL (a gateway without a catalogue that
 * still needs the calendar, for the reminder broadcast): then only the calendar is followed, for
 * the hook below. Starts polling. NULL on ENOMEM or bad args. */
struct wire_cfgdocs *wire_cfgdocs_new(struct event_base *base, struct gw_redis *redis,
                                      struct wire_catalog *cat, const struct gw_config *cfg);

/* Another reader of the stored calendar (the reminder broadcast's "next opening"), called with
 * each new version's text after the catalogue side took it (or alone when there is no
 * catalogue); returns 0 or a negative errno with err set (the version is then refused, logged
 * once). One hook; fn NULL removes it. arg is borrowed and must outlive the module. */
typedef int (*wire_cfgdocs_calendar_fn)(void *arg, const char *text, size_t len, char *err,
                                        size_t errlen);
void wire_cfgdocs_on_calendar(struct wire_cfgdocs *d, wire_cfgdocs_calendar_fn fn, void *arg);

/* The loyalty table the console edits (cfg:{adm}:loyalty, issue 12): followed only once a hook is
 * set; fn gets each new version's text, checks it (the gateway's own parser) and switches it in,
 * or returns a negative errno with err set (the version is refused, logged once, the table in
 * force stays). Same shape and contract as the calendar hook. */
typedef wire_cfgdocs_calendar_fn wire_cfgdocs_doc_fn;
void wire_cfgdocs_on_loyalty(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg);
/* The USSD menus and SMS texts (cfg:{adm}:menus, the format of ussd.menus_file): the same, for a
 * gateway with USSD on. */
void wire_cfgdocs_on_menus(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg);

/* The campaigns document (cfg:{adm}:campaigns, gw_campaign.h): the same, for a gateway with
 * campaigns.enabled. */
void wire_cfgdocs_on_campaigns(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg);

/* Called once, after the first round that completed without a transport error: every stored
 * document followed was read and applied (or refused, logged), so what the gateway uses from then
 * on is the stored version, not its files'. The daemon opens its SMPP link only then (an event
 * waiting at the SMSC would otherwise be credited by the configuration's table). fn NULL removes
 * it; arg is borrowed and must outlive the module. */
typedef void (*wire_cfgdocs_ready_fn)(void *arg);
void wire_cfgdocs_on_ready(struct wire_cfgdocs *d, wire_cfgdocs_ready_fn fn, void *arg);

/* A round now (Redis just connected: no need to wait for the retry timer), unless one is in
 * flight. */
void wire_cfgdocs_kick(struct wire_cfgdocs *d);

/* After a SIGHUP reloaded the files: forget what was loaded so that the stored documents are
 * read and applied again at once (they take precedence over the files). */
void wire_cfgdocs_resync(struct wire_cfgdocs *d);

/* NULL is a no-op. See the ownership note above for the order. */
void wire_cfgdocs_free(struct wire_cfgdocs *d);

#endif
