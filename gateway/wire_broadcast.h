/*
 * wire_broadcast.h - the adapter that runs the gift-day reminder broadcast (gw_broadcast.h)
 * inside loyaltygw: it gives the runner "the next gift-day opening" from the calendar file the
 * gateway redeems by (catalog.giftdays_file, read with catalog/catalog.h), so "remind at the
 * opening" and "redeem from the opening" can never disagree.
 * Owner: the broadcast engineer (issue 5 part 4). Part of the loyaltygw program only (wire_*.c).
 *
 * The calendar is the stored document the console edits (cfg:{adm}:giftdays), the one every
 * reader uses (issue 12 §1): wire_cfgdocs hands each new version to wire_broadcast_set_calendar.
 * While the store holds none, the file is the bootstrap: read again each time a campaign for
 * "the next opening" is resolved (once per campaign, by the first gateway that sees it).
 */
#ifndef WIRE_BROADCAST_H
#define WIRE_BROADCAST_H

#include <stddef.h>

#include "gw_broadcast.h"
#include "gw_config.h"

struct event_base;
struct gw_redis;
struct gw_sms;
struct wire_broadcast;

/* NULL with err set when broadcast.enabled is false (err "") or sms is NULL (no SMS side:
 * ussd.menus_file ""), or on ENOMEM. Starts the runner. base, redis, sms and cfg are borrowed;
 * config_path (may be NULL) locates relative file names. */
struct wire_broadcast *wire_broadcast_new(struct event_base *base, struct gw_redis *redis,
                                          struct gw_sms *sms, const struct gw_config *cfg,
                                          const char *config_path, char *err, size_t errlen);
/* A new version of the stored calendar (a wire_cfgdocs_calendar_fn; arg is the wire_broadcast):
 * validated, then used for every "next opening" from now on. Returns 0 or a negative errno with
 * err set (the previous calendar stays). */
int wire_broadcast_set_calendar(void *arg, const char *text, size_t len, char *err, size_t errlen);
/* The runner (for stop, detach and stats). NULL-safe: NULL for NULL. */
struct gw_broadcast *wire_broadcast_runner(struct wire_broadcast *w);
/* After smpp_esme_free. NULL is a no-op. */
void wire_broadcast_free(struct wire_broadcast *w);

#endif
