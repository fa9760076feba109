/*
 * wire_fulfil.h - the adapter that runs gift fulfilment inside loyaltygw (owned by the fulfilment
 * engineer; part of the loyaltygw program only, like every wire_*.c). It owns the HTTP client
 * (gw_http), the provisioning adapter (cat_prov_http, from the "provisioning" config section)
 * and the worker (cat_fulfil_worker), and binds the worker's ops to the redemption store
 * (cat_redeem_mark_fulfilled / _refund / _charity_add), to the SMS sender (gw_sms_send) and to the
 * texts: the gift texts of the menu file's "sms" section (ussd_menus_sms_text), in the recipient's
 * saved language (the worker reads it) or the menu file's default, with the item's name in that
 * language from the catalogue. A menu file without gift texts: the worker's built-in English /
 * French texts, provisioning.sms_lang for recipients in other languages.
 *
 * Decision: the worker runs inside loyaltygw (provisioning.enabled), not as a process of its own.
 * It is asynchronous on the same loop (no call blocks the SMPP link), and several gateways share
 * the consumer group: each needs a distinct provisioning.consumer (default: the host name), and
 * entries of a gateway that died are taken over after provisioning.claim_idle_ms.
 */
#ifndef WIRE_FULFIL_H
#define WIRE_FULFIL_H

#include <stddef.h>
#include <stdio.h>

#include "gw_config.h"

struct event_base;
struct gw_redis;
struct gw_sms;
struct ussd_menus;
struct cat_redeem;
struct cat_store;
struct wire_fulfil;

/* Builds and starts the worker. redeem is required (the store transitions); sms, menus and
 * catalog may be NULL (no SMS; built-in texts; items named by id). All borrowed; menus is the
 * owner's pointer, read at each SMS so a menu reload (SIGHUP) applies at once. NULL with err set
 * on a bad configuration. */
struct wire_fulfil *wire_fulfil_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_config *cfg, struct cat_redeem *redeem,
                                    struct gw_sms *sms, struct ussd_menus *const *menus,
                                    struct cat_store *catalog, char *err, size_t errlen);
/* Stops taking work (SIGTERM, and before gw_redis_free). NULL is a no-op. */
void wire_fulfil_stop(struct wire_fulfil *w);
/* After gw_redis_free: frees the HTTP client (cancelling calls in flight: their entries stay
 * pending for the next start), the adapter and the worker. NULL is a no-op. */
void wire_fulfil_free(struct wire_fulfil *w);
/* The worker's and the HTTP client's counters (w NULL: zeros). */
struct cat_fulfil_stats;
struct gw_http_stats;
void wire_fulfil_get_stats(const struct wire_fulfil *w, struct cat_fulfil_stats *fs,
                           struct gw_http_stats *hs);
/* The worker's and the HTTP client's counters as one JSON object. */
void wire_fulfil_stats_json(const struct wire_fulfil *w, FILE *out);

#endif
