/*
 * wire_draw.h - the gateway's draw job (issue 12 s3): every WIRE_DRAW_PERIOD_MS a round of
 * cat_draw_tick with the gateway's clock - the draw of each item opened by draw at its gift day's
 * regular opening (exactly once over every gateway: the publish script refuses a second one, and
 * a restarted gateway finds it published), the roll-down of unclaimed units - plus what only the
 * gateway can do: the SMS to each member offered a unit ("you won ... claim by ...", in their
 * saved language, through gw_sms; from the draw's outbox, at least once: catalog.h
 * CAT_DRAW_SMS_*; none to a blocked wallet) and the staff audit record of the draw
 * (adm:{adm}:audit, "draw.run": seed, registered, winners, digest, the first winners - the same
 * record as "loyaltyctl draw ... publish", so loyalty-admin's audit page shows it and anyone
 * re-runs it). Part of the loyaltygw program (wire_*.c): it sees the catalogue wiring and the SMS
 * side.
 */
#ifndef WIRE_DRAW_H
#define WIRE_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "gw_config.h"

#define WIRE_DRAW_PERIOD_MS 5000

struct event_base;
struct gw_redis;
struct gw_sms;
struct wire_catalog;
struct wire_draw;

/* The winner's SMS of language lang (ar fr en fa; another: en): item name, deadline (local time
 * as the menus show it) and the service code. Returns the length or -ENOSPC. */
int wire_draw_sms_text(const char *lang, const char *item, const char *deadline,
                       const char *service_code, char *out, size_t cap);

/* base, redis, cat and sms (may be NULL: no SMS, logged) are borrowed and must outlive the job;
 * cfg is copied (the service code). Starts the timer. NULL on ENOMEM. */
struct wire_draw *wire_draw_new(struct event_base *base, struct gw_redis *redis,
                                struct wire_catalog *cat, struct gw_sms *sms,
                                const struct gw_config *cfg);
/* One round now (unix s; tests): cb(arg, err) when the round and its SMS and audit writes are
 * answered. Returns 0 or < 0 (-EBUSY a round is running; cb never fires). */
int wire_draw_round(struct wire_draw *d, int64_t now, void (*cb)(void *arg, int err), void *arg);
/* What this process did since it started. */
struct wire_draw_stats {
    uint64_t rounds, published, offers, sms_sent, sms_failed, sms_skipped;
};
void wire_draw_get_stats(const struct wire_draw *d, struct wire_draw_stats *out);
/* Stops the timer; free after gw_redis_free (requests in flight ended). NULL is a no-op. */
void wire_draw_free(struct wire_draw *d);

#endif
