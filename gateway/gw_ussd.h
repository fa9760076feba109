/*
 * gw_ussd.h - USSD dialogues over the real transport: the glue between the SMPP link (smpp.h),
 * Redis (gw_redis.h) and the pure USSD layer (ussd.h: menus, engine, session FSM, paginator).
 * Owner: the USSD-wiring engineer (issue 3). The catalogue module plugs in through
 * struct gw_ussd_ops (redeem) and struct ussd_catalog_ops (browse), both wired in main.c.
 *
 * One deliver_sm, one step (shared/spec/ussd.md "A dialogue"):
 *   1. gw_ingest answers ESME_ROK at once (never T_APPN for USSD) and calls gw_ussd_on_deliver;
 *   2. classify (open / answer / abort), build the session key, and read in ONE round trip:
 *      the session record (GET ussd:<msisdn>:s<n>), the wallet (HGETALL lg:{M}:w) and the last
 *      movements (LRANGE lg:{M}:h 0 4), each with the Redis client's deadline;
 *   3. run the session FSM (ussd_session_open/answer) over the engine;
 *   4. store the record back with a compare-and-set on its version (a tiny Lua script, see
 *      gw_ussd.c "Concurrency"), TTL = what remains of the dialogue (PX), so ANY gateway process
 *      bound to the same SMSC continues the dialogue; the last screen deletes it;
 *   5. send the screen with smpp_esme_submit (service_type USSD, ussd_service_op and
 *      its_session_info per ussd_outbound_fields, source = the service code);
 *   6. carry out the effect: SET_LANGUAGE (HSET lang in the wallet). REDEEM is different: an
 *      answer that confirms a redemption runs the hook (below) BEFORE step 3, and the step then
 *      runs with the outcome, so the screen ("redeemed" or the refusal) comes from the menus.
 * When Redis is down or slow the subscriber gets the menu file's "unavailable" text as a last
 * screen: the dialogue ends cleanly instead of hanging.
 *
 * Ownership: gw_ussd_new() borrows everything it is given (they must outlive it, menus through
 * the owner's pointer so that a SIGHUP reload is seen at the next step); gw_ussd_free() releases
 * the live sessions and in-flight steps. Teardown order: gw_ussd_detach() (no new Redis
 * requests), gw_redis_free(), smpp_esme_free(), gw_ussd_free().
 */
#ifndef GW_USSD_H
#define GW_USSD_H

#include <stdbool.h>
#include <stdint.h>

#include "gw_config.h"
#include "smpp.h"
#include "ussd.h"

struct event_base;
struct gw_redis;
struct gw_ussd;

/* ---------------------------------------------------------------- redemption hook */

/* What the subscriber confirmed on the confirmation screen. Valid only during the hook call:
 * copy what you keep. */
struct gw_ussd_redeem_req {
    const char *msisdn;      /* digits only, no '+' */
    const char *session_key; /* "ussd:<msisdn>:s<n>" (or :u<umr>, or none) */
    int64_t started_ms;      /* when the dialogue opened (wall clock ms, the stored record's t):
                              * with the key it names ONE dialogue - a repeated confirm PDU or a
                              * retry derives the same redemption id, while a new dialogue the
                              * same day that reuses the session number derives a new one */
    uint32_t item_id;        /* 1..999, the catalogue item number */
    const char *version;     /* catalogue version the confirmation screen showed ("" unknown) */
    const char *item_ref;    /* the item's id in that version ("" unknown) */
    int64_t price;           /* the price that screen showed (0 unknown) */
    const char *beneficiary; /* premium gifting: the relative's MSISDN (validated digits), or ""
                              * when the subscriber redeems for themself */
    const char *lang;        /* dialogue language ("fr") */
    const char *tier;        /* the subscriber's tier as the dialogue read it ("" unknown): the
                              * cohort of an item staggered by tier */
    bool perk;               /* the premium perk (issue 10 section 6): a second unit of the item
                              * just redeemed, for `beneficiary`, at catalog.perk_share_pct of
                              * the price (what `price` says); its per-day limit refused is
                              * reported as "perk_limit" */
};

/*
 * Result of a redemption: err 0 with outcome "granted" (USSD_OUTCOME_GRANTED) or one of the
 * USSD_OUTCOMES names of ussd.h ("out_of_stock", "closed", ...): the menu file's screen for it
 * is sent (the confirm node's "next", or "outcomes.<name>"). GW_USSD_OUTCOME_DUPLICATE: a
 * repeated confirmation of a redemption already granted; shown as "granted", counted apart.
 * err < 0 = failed (store down, timeout; the redemption may be half-way, its sweeper settles
 * it): the "unavailable" text is sent and outcome is NULL. slot: with "not_released", the
 * member's slot in local time in the dialogue's language (the {slot} placeholder), else NULL or
 * "". Must be called exactly once for every hook call that returned 0.
 */
typedef void (*gw_ussd_redeem_cb)(void *cb_arg, int err, const char *outcome, const char *slot);
#define GW_USSD_OUTCOME_DUPLICATE "duplicate"

struct gw_ussd_ops {
    /* Starts a redemption. Returns 0 (done fires exactly once, later, never from inside this
     * call) or < 0 (done never fires; the subscriber reads "unavailable"). NULL hook: redeeming
     * is not wired yet, the subscriber reads "unavailable". */
    int (*redeem)(void *arg, const struct gw_ussd_redeem_req *req, gw_ussd_redeem_cb done,
                  void *cb_arg);
    /* Optional (NULL: nothing): a dialogue step of msisdn failed because the store failed or
     * timed out (err) before any effect ran - nothing was charged; the subscriber reads the
     * "store_down" label. Make-good records it on a gift day (wire_brakes.c). */
    void (*store_failed)(void *arg, const char *msisdn, int err);
    void *arg;
};

/* ---------------------------------------------------------------- transfer hook */

/* A points transfer or a PIN change the subscriber typed (issue 10 section 4): the answer to a
 * "pin" or "pin_set" screen. Valid only during the hook call; the PINs must not be kept, logged
 * or stored (the caller wipes them after the call). */
struct gw_ussd_xfer_req {
    const char *msisdn;      /* the subscriber, digits */
    const char *session_key; /* with started_ms, names ONE dialogue: a repeated PIN answer of the */
    int64_t started_ms;      /* same dialogue derives the same transfer id (sent once) */
    bool set_pin;            /* a PIN change (pin, old_pin) rather than a transfer */
    const char *to;          /* transfer: the recipient (validated digits, not the sender) */
    int64_t points;          /* transfer: the amount the confirmation screen showed */
    const char *pin;         /* the PIN typed (transfer) or the new PIN (change): 4 digits */
    const char *old_pin;     /* change: the current PIN, "" when the subscriber typed none */
    const char *lang;        /* dialogue language ("fr"): the sender's SMS */
};

/* Result: err 0 with outcome USSD_XFER_OK or a USSD_XFER_OUTCOMES name, with its number n (< 0
 * none) and until (a lock's or a freeze's end in local time in the dialogue's language, NULL or
 * ""), shown by the menu file's screen for it; err < 0 = failed (store down, timeout: the sweeper
 * completes a transfer that was debited): the "unavailable" text is sent. Called exactly once for
 * every hook call that returned 0, never from inside it. */
typedef void (*gw_ussd_xfer_cb)(void *cb_arg, int err, const char *outcome, int64_t n,
                                const char *until);
typedef int (*gw_ussd_xfer_fn)(void *arg, const struct gw_ussd_xfer_req *req, gw_ussd_xfer_cb done,
                               void *cb_arg);

/* ---------------------------------------------------------------- the module */

#define GW_USSD_COUNTERS(X)                                                                        \
    X(in, "USSD deliver_sm handed over")                                                           \
    X(opened, "dialogues opened (PSSR indication)")                                                \
    X(answers, "answers (USSR confirm)")                                                           \
    X(aborts, "aborts from the network (end bit or vendor op)")                                    \
    X(unknown, "USSD PDUs with an op we do not handle")                                            \
    X(bad_msisdn, "USSD PDUs whose source_addr is not an MSISDN")                                  \
    X(screens, "screens submitted")                                                                \
    X(screens_failed, "screens the SMSC refused or that timed out")                                \
    X(ended, "dialogues ended by their last screen")                                               \
    X(expired, "dialogues expired (T_ANSWER / T_TOTAL)")                                           \
    X(no_session, "answers without a stored session (expired or unknown)")                         \
    X(cas_lost, "answers that lost a concurrent update (re-shown the current screen)")             \
    X(store_failed, "steps answered 'unavailable' because Redis failed")                           \
    X(lang_saved, "language preferences saved")                                                    \
    X(rated, "ratings handed to the suggestion box")                                               \
    X(redeem_requested, "redemptions handed to the redeem hook")                                   \
    X(redeem_granted, "redemptions granted (debited, stock taken, queued for fulfilment)")         \
    X(redeem_duplicate, "repeated confirmations of a granted redemption: its screen, nothing new") \
    X(redeem_refused, "redemptions refused with a reason shown to the subscriber")                 \
    X(redeem_failed, "redemptions that failed (store down or slow): 'unavailable' shown")          \
    X(redeem_processing,                                                                           \
      "redemptions paid but not finished (the sweeper will): 'processing' shown")                  \
    X(xfer_requested, "points transfers and PIN changes handed to the transfer hook")              \
    X(xfer_ok, "points transfers and PIN changes that went through")                               \
    X(xfer_refused, "points transfers and PIN changes refused with a reason shown")                \
    X(xfer_failed, "points transfers and PIN changes that failed (store down): 'unavailable'")

struct gw_ussd_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_USSD_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
    uint32_t live;      /* sessions with a timer in this process */
    uint32_t in_flight; /* steps waiting for Redis or the redeem hook */
};

/*
 * Creates the module. cfg (its ussd and loyalty parts), redis and *menus are borrowed; menus is
 * the address of the owner's pointer (reloads swap it). Returns NULL on ENOMEM.
 */
struct gw_ussd *gw_ussd_new(struct event_base *base, const struct gw_config *cfg,
                            struct gw_redis *redis, struct ussd_menus *const *menus);

/* The catalogue provider for the gift menus (NULL: "unavailable" screens). ops is borrowed. */
void gw_ussd_set_catalog(struct gw_ussd *u, const struct ussd_catalog_ops *ops, void *arg);
/* The redemption hook. ops is copied. */
void gw_ussd_set_ops(struct gw_ussd *u, const struct gw_ussd_ops *ops);
/* The suggestion box's hook (gw_suggest_rate): a rating node answered 1..5 (USSD_EFFECT_RATE),
 * called after the store won, once per answer. NULL: ratings are not kept. */
typedef void (*gw_ussd_rate_fn)(void *arg, const char *msisdn, const char *lang, unsigned rating,
                                const char *node, uint32_t item);
void gw_ussd_set_rate_hook(struct gw_ussd *u, gw_ussd_rate_fn fn, void *arg);

/* Referral (issue 10): *<code>*<shortcut>*<number># (the menu file's "referral" section) hands
 * the typed number, parsed (gw_referral_number; a bad one shows "bad_number" at once), to refer,
 * which returns 0 and calls done exactly once later with the outcome's name (the screen's key in
 * the menu file) or err < 0 ("unavailable"); < 0: done never fires, "unavailable". The dialogue
 * ends on the outcome's screen. NULL refer: the direct dial opens the root menu with the error
 * line, as any unknown shortcut. */
typedef void (*gw_ussd_refer_cb)(void *cb_arg, int err, const char *outcome);
typedef int (*gw_ussd_refer_fn)(void *arg, const char *msisdn, const char *referee,
                                gw_ussd_refer_cb done, void *cb_arg);
void gw_ussd_set_refer(struct gw_ussd *u, gw_ussd_refer_fn refer, void *arg);

/* The transfer hook (NULL: the PIN screens answer "unavailable"). */
void gw_ussd_set_transfer(struct gw_ussd *u, gw_ussd_xfer_fn fn, void *arg);

/* The gw_ingest hook for a USSD deliver_sm that was already answered ESME_ROK. sm is read during
 * the call only; replies go out through e. arg is the struct gw_ussd. */
void gw_ussd_on_deliver(void *arg, struct smpp_esme *e, const struct smpp_sm *sm);

/* Stops issuing Redis requests (teardown: call before gw_redis_free). */
void gw_ussd_detach(struct gw_ussd *u);

void gw_ussd_get_stats(const struct gw_ussd *u, struct gw_ussd_stats *out);
/* USSD hop latency: from a subscriber's deliver_sm to its screen handed to the SMPP link, in
 * seconds (one observation per screen sent). Owned by u. */
struct gw_histo;
const struct gw_histo *gw_ussd_hop_latency(const struct gw_ussd *u);
/* Writes the counters as one JSON object (no trailing newline). */
void gw_ussd_stats_json(const struct gw_ussd_stats *s, FILE *out);

/* Frees live sessions (their timers) and in-flight steps (their late callbacks are then dropped
 * by the Redis client's own cancellation, which must have happened: see the teardown order).
 * NULL is a no-op. */
void gw_ussd_free(struct gw_ussd *u);

#endif
