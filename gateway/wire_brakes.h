/*
 * wire_brakes.h - the fraud brakes on redemption (issue 10 section 5), part of the loyaltygw
 * program: it wraps the USSD redeem hook (struct gw_ussd_ops of wire_catalog.c) with
 *   - the velocity caps per MSISDN (brakes.redeem_per_hour / redeem_per_day): lua/velocity.lua
 *     counts and checks in one atomic step on the subscriber's slot before the redemption runs,
 *     and gives the count back when the redemption is refused further on; over a cap the
 *     subscriber gets the "velocity" screen;
 *   - the redemption-rate breaker (gw_breaker.h, brakes.breaker): every granted redemption is
 *     observed per item and for all items; a trip freezes the item through its kill switch
 *     cat:{ITEM}:k (item.lua refuses it on every gateway at once; each gateway's menus hide it
 *     at its next poll, wire_cfgdocs.c), logs an ALARM, counts it and writes an audit record
 *     (adm:{adm}:audit, who "breaker"). Staff resume the item (console or `loyaltyctl item ID
 *     resume`, audited), which deletes the key; the breaker then starts counting it again;
 *   - the "frozen" screen: a redemption refused as unavailable while the item's kill switch is
 *     on says "temporarily unavailable" instead of "not available any more";
 *   - make-good's record: a redemption that failed on a gift day through our fault (store down
 *     or slow, or paid then unfinished), or a dialogue step the store failed before the
 *     confirmation (gw_ussd_ops.store_failed), is remembered per gift day in lg:mg:{mg}:<day>;
 *     while Redis is down the records wait in memory and are sent again.
 * Each gateway counts the redemptions it handles: behind a balancer each one sees its share of
 * an item's rate and of its baseline, so the multiple holds; the freeze is shared (Redis).
 *
 * Ownership: base, redis, cat and cfg are borrowed and must outlive the struct. A redemption in
 * flight owns a small context that holds no pointer to the module past gw_redis teardown (free
 * gw_redis first, as main.c does).
 */
#ifndef WIRE_BRAKES_H
#define WIRE_BRAKES_H

#include <stdint.h>

struct event_base;
struct gw_redis;
struct gw_config;
struct gw_ussd_ops;
struct wire_catalog;
struct wire_brakes;

#define WIRE_BRAKES_COUNTERS(X)                                                                    \
    X(redeem_seen, "redemptions that went through the brakes")                                     \
    X(velocity_refused, "redemptions refused by a velocity cap (the 'velocity' screen)")           \
    X(velocity_given_back, "counts given back after a redemption was refused further on")          \
    X(frozen_shown, "redemptions of a frozen item answered 'temporarily unavailable'")             \
    X(breaker_trips_item, "items whose redemption rate tripped the breaker")                       \
    X(breaker_trips_global, "trips of the breaker on all items together")                          \
    X(breaker_freezes, "kill switches set by the breaker (cat:{ITEM}:k)")                          \
    X(breaker_freeze_failed, "freezes the breaker could not write to Redis")                       \
    X(makegood_recorded, "gift-day redemptions failed through our fault, recorded (lg:mg:*)")      \
    X(makegood_queued, "make-good records kept to send again (Redis failed): retried every 2 s")  \
    X(makegood_unrecorded, "make-good records lost (the waiting list full, or the gateway stopped)")

struct wire_brakes_stats {
#define WIRE_BRAKES_FIELD(name, help) uint64_t name;
    WIRE_BRAKES_COUNTERS(WIRE_BRAKES_FIELD)
#undef WIRE_BRAKES_FIELD
};

/* NULL on ENOMEM or bad arguments. Registers velocity.lua with redis. */
struct wire_brakes *wire_brakes_new(struct event_base *base, struct gw_redis *redis,
                                    struct wire_catalog *cat, const struct gw_config *cfg);
/* Wraps ops (the catalogue's redeem hook): *ops is saved and replaced by the brakes' hook. */
void wire_brakes_wrap(struct wire_brakes *b, struct gw_ussd_ops *ops);
void wire_brakes_get_stats(const struct wire_brakes *b, struct wire_brakes_stats *out);
/* Free after gw_redis_free. NULL is a no-op. */
void wire_brakes_free(struct wire_brakes *b);

#endif
