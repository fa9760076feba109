/*
 * cat_fulfil.h - gift fulfilment (issue 4 part 4; owned by the fulfilment engineer): the
 * provisioning adapters (cat_prov.c) and the worker on the fulfilment stream (cat_fulfil.c).
 *
 * A header of its own rather than a section of catalog.h: catalog.h is the catalogue's pure logic
 * and redemption, this part depends on the gateway's Redis and HTTP clients (gw_redis.h,
 * gw_http.h), and only programs that fulfil (loyaltygw, tests) include it.
 *
 * Provisioning adapters. "Another carrier's API is served by a new adapter" (shared/spec/
 * provisioning.md): the worker talks to struct cat_prov_ops; cat_prov_http_ops is the default
 * contract (POST {base_url}/v1/grants with an Idempotency-Key). An adapter turns a carrier's
 * answers into four outcomes: granted, already granted, permanent refusal, temporary failure.
 *
 * The worker. Reads the fulfilment stream (CAT_FULFIL_STREAM, fields in catalog.h) through a
 * consumer group, at least once:
 *   - per entry: a marker key cat:fulfil:m:<rid> remembers the decision in Redis before the store
 *     is changed ("F <reference>" fulfilled, "R <reason>" refund) and the retry schedule between
 *     attempts ("T <attempts> <first_ms> <next_ms>"), so a restarted worker resumes the schedule
 *     and never calls the provider again for a redemption it has decided (a refund followed by a
 *     late grant would give the gift and the points);
 *   - provisioning items: the adapter is called with the rid as Idempotency-Key; granted or 409 ->
 *     mark fulfilled + confirmation SMS (and the beneficiary's, naming the sender); permanent ->
 *     refund + restock + apology SMS + reason; temporary -> exponential back-off with jitter until
 *     retry_deadline_s from the first attempt, then permanent;
 *   - voucher items (the code was handed out at redemption): delivered by SMS only;
 *   - charity items: cat_redeem_charity_add (per-cause totals, once per rid), then fulfilled;
 *   - XACK only after the store transition is committed; a crash before it replays the entry,
 *     which finds its marker and repeats only idempotent steps.
 *   - on start the worker reads its own pending entries; every claim_idle_ms it takes over
 *     (XAUTOCLAIM) entries idle that long in any consumer (one that died mid-call).
 * The SMS go out when the store transition is applied by this call (CAT_TR_DONE), never on a
 * repeat (CAT_TR_ALREADY): a redemption queued twice, or replayed after a crash, does not text
 * twice; a crash (or a stop) between the commit and the SMS hook loses that SMS.
 *
 * SMS language: each recipient is written to in their own language. Before sending, the job reads
 * the recipient's saved language with one HGET lg:{MSISDN}:w lang (the field the USSD language
 * menu saves; the relative's own wallet for a gift), within the Redis client's deadline, one
 * recipient after the other (a job has one request outstanding). No field, a malformed one, an
 * error or a timeout: "" (the default language). The text comes from the sms_text hook (loyaltygw:
 * the menu file's "sms" section, gateway/wire_fulfil.c) with the item's names in the four
 * catalogue languages; without the hook, or when it has no text, from the built-in English and
 * French texts (cat_fulfil_sms_text) in the recipient's language when it is en or fr, else in
 * cfg.sms_lang.
 *
 * Threading: everything runs on the caller's libevent loop; nothing locks.
 */
#ifndef CAT_FULFIL_H
#define CAT_FULFIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

struct event_base;
struct gw_http;
struct gw_redis;

/* ================================================================ provisioning adapters */

enum cat_prov_outcome {
    CAT_PROV_GRANTED = 0, /* 200/201: delivered now */
    CAT_PROV_ALREADY,     /* 409: this Idempotency-Key was granted before: delivered */
    CAT_PROV_PERMANENT,   /* 400/404/422: refused for good */
    CAT_PROV_TEMPORARY,   /* 5xx, timeout, refused connection, anything unexpected */
};
const char *cat_prov_outcome_name(enum cat_prov_outcome o); /* "granted", "temporary", ... */

/* What to grant. Strings are borrowed for the duration of the grant() call only. */
struct cat_prov_grant {
    const char *redemption_id; /* the Idempotency-Key: [A-Za-z0-9:._-], < CAT_RID_MAX bytes */
    const char *msisdn;        /* the subscriber who redeemed: digits */
    const char *beneficiary;   /* who receives the gift: digits; NULL or "" = the subscriber */
    const char *item;          /* catalogue item id */
    const char *kind;          /* "data", "voice", "sms" */
    int64_t quantity;          /* > 0 */
    const char *unit;          /* "MB", "min", ... */
};

struct cat_prov_result {
    enum cat_prov_outcome outcome;
    long http_status;            /* 0 when there was no answer */
    int err;                     /* transport error (gw_http.h) or 0 */
    char reference[CAT_REF_MAX]; /* granted/already: the provider's reference, or "" */
    char reason[CAT_REASON_MAX]; /* why (for logs and the refund record): "http 422: ...",
                                  * "timeout", "connection refused"; printable ASCII */
};

/* Called exactly once per accepted grant(), from the loop; res is valid during the call. */
typedef void (*cat_prov_cb)(void *arg, const struct cat_prov_result *res);

struct cat_prov_ops {
    const char *name; /* "http-v1", for logs */
    /* Starts one grant. Returns 0 (cb runs once, later) or < 0 (-EINVAL for a grant the adapter
     * cannot express, -ENOBUFS/-ENOMEM/...: cb never runs). */
    int (*grant)(void *impl, const struct cat_prov_grant *g, cat_prov_cb cb, void *arg);
};

/* ---- the default adapter: shared/spec/provisioning.md over gw_http */

struct cat_prov_http_config {
    char base_url[256];          /* "http://host:port[/prefix]": "/v1/grants" is appended */
    char token[256];             /* Authorization: Bearer <token>; "" sends no Authorization */
    uint32_t timeout_ms;         /* deadline of one call (default 5000) */
    uint32_t connect_timeout_ms; /* (default 2000) */
    /* Tests and demos only: accepts http:// to a loopback host and a placeholder or empty token,
     * with a loud warning at start. Off (default): https:// only, a real token (issue 11). */
    bool insecure_test_mode;
};
void cat_prov_http_config_defaults(struct cat_prov_http_config *cfg);

/* The checks cat_prov_http_new makes, for the config loader's clear errors: base_url must be
 * https:// (http:// only to localhost / 127.x.x.x / [::1] in insecure_test_mode: the token would
 * cross the network in clear); token must not be empty nor the shipped placeholder ("change-me"
 * and the like) outside insecure_test_mode. 0, or -EINVAL with the reason in why. */
int cat_prov_url_check(const char *base_url, bool insecure_test_mode, char *why, size_t whylen);
int cat_prov_token_check(const char *token, bool insecure_test_mode, char *why, size_t whylen);

extern const struct cat_prov_ops cat_prov_http_ops;
struct cat_prov_http;
/* http is borrowed; cfg copied. NULL on a bad base_url or token (cat_prov_url_check,
 * cat_prov_token_check) or ENOMEM; logs a loud warning when cfg->insecure_test_mode is on. Requests
 * in flight hold no pointer to the adapter: free gw_http first (it fails them), then the adapter.
 */
struct cat_prov_http *cat_prov_http_new(struct gw_http *http,
                                        const struct cat_prov_http_config *cfg);
void cat_prov_http_free(struct cat_prov_http *p); /* NULL is a no-op */

/* The request body of the contract, as compact JSON (caller frees). 0, -EINVAL or -ENOMEM. */
int cat_prov_http_body(const struct cat_prov_grant *g, char **json_out);
/* The contract's outcome table: transport error err (0 when an answer came), HTTP status and
 * body (untrusted) -> outcome, reference and reason. Pure; the adapter and the tests use it. */
void cat_prov_http_classify(int err, long status, const char *body, size_t body_len,
                            struct cat_prov_result *out);

/* ================================================================ the worker */

/* The store transitions the worker needs: cat_redeem's (catalog.h) behind an ops struct so the
 * worker is tested alone. Each is idempotent by rid and follows the async contract (0: cb once;
 * < 0: cb never). `now` is unix seconds. */
struct cat_fulfil_store_ops {
    int (*mark_fulfilled)(void *ctx, const char *rid, const char *reference, int64_t now,
                          cat_transition_cb cb, void *arg);
    int (*refund)(void *ctx, const char *rid, const char *reason, int64_t now, cat_transition_cb cb,
                  void *arg);
    int (*charity_add)(void *ctx, const char *rid, const char *cause, int64_t points, int64_t now,
                       cat_transition_cb cb, void *arg);
};

/* Where the SMS go: queues one UTF-8 text to an MSISDN (splitting is the sender's job). Returns 0
 * when accepted, < 0 when not (logged and counted; the fulfilment itself is not undone). */
typedef int (*cat_fulfil_send_sms_fn)(void *arg, const char *to, const char *text);

/* The built-in texts' languages (the fallback when the sms_text hook has no text). */
enum cat_sms_lang { CAT_SMS_EN = 0, CAT_SMS_FR };

enum cat_sms_kind {
    CAT_SMS_CONFIRM = 0, /* to the subscriber: delivered (reference when there is one) */
    CAT_SMS_SENT_TO,     /* to the subscriber who gifted: delivered to <beneficiary> */
    CAT_SMS_GIFT_FROM,   /* to the beneficiary: <msisdn> sent you <item> */
    CAT_SMS_VOUCHER,     /* to whoever receives a voucher: the code */
    CAT_SMS_CHARITY,     /* thank-you for a donation */
    CAT_SMS_APOLOGY,     /* refunded */
};
/* The text's name in the menu file's "sms" section (ussd.h USSD_GIFT_SMS): "confirm",
 * "gift_sent", "gift_received", "voucher", "charity", "apology"; "" for an unknown kind. */
const char *cat_fulfil_sms_kind_name(enum cat_sms_kind kind);

/* What one SMS says, for the sms_text hook. Strings are borrowed for the call; "" when the kind
 * does not use them. */
struct cat_sms_fields {
    enum cat_sms_kind kind;
    const char *item;                  /* catalogue item id */
    const char *name[CAT_LANG__COUNT]; /* the item's name per catalogue language (enum cat_lang
                                        * order); the id where the catalogue has none */
    const char *reference;             /* CONFIRM: the provider's reference */
    const char *beneficiary;           /* SENT_TO: the relative's MSISDN */
    const char *sender;                /* GIFT_FROM: the gifting subscriber's MSISDN */
    const char *code;                  /* VOUCHER: the voucher code */
    const char *cause;                 /* CHARITY: the cause id */
    int64_t points;                    /* CHARITY, APOLOGY: the price in points */
};

/* Builds the text of one SMS for a recipient whose saved language is lang ("" when none or
 * unknown: the hook's default) into out[0..cap) (UTF-8, NUL-terminated). Synchronous. Returns the
 * length, or < 0 (-ENOENT: no such text, -ENOSPC, ...): the worker then uses its built-in text. */
typedef int (*cat_fulfil_sms_text_fn)(void *arg, const char *lang, const struct cat_sms_fields *f,
                                      char *out, size_t cap);

struct cat_fulfil_config {
    char stream[64];             /* default CAT_FULFIL_STREAM */
    char group[64];              /* default "fulfil" */
    char consumer[64];           /* default "fulfil-1"; stable across restarts of one worker */
    uint32_t retry_min_ms;       /* back-off after the first temporary failure (default 2000) */
    uint32_t retry_max_ms;       /* ceiling (default 300000) */
    uint32_t retry_deadline_s;   /* from the first attempt; then permanent (default 21600) */
    uint32_t claim_idle_ms;      /* XAUTOCLAIM entries idle this long (default 60000) */
    uint32_t max_in_flight;      /* provider calls at once (default 32) */
    uint32_t max_held;           /* entries held in memory, waiting included (default 1024) */
    uint32_t poll_ms;            /* stream poll period when idle (default 100) */
    uint32_t store_retry_max_ms; /* back-off ceiling when Redis/the store fails (default 10000) */
    uint32_t marker_ttl_s;       /* markers kept after the decision (default 90 days) */
    enum cat_sms_lang sms_lang;  /* built-in texts: language of a recipient not in en/fr */
};
void cat_fulfil_config_defaults(struct cat_fulfil_config *cfg);

/* What the worker uses, all borrowed and outliving it. */
struct cat_fulfil_deps {
    struct gw_redis *redis;
    const struct cat_prov_ops *prov;
    void *prov_impl;
    const struct cat_fulfil_store_ops *store;
    void *store_ctx;
    cat_fulfil_send_sms_fn send_sms; /* may be NULL: no SMS (and no language lookup) */
    void *sms_arg;
    cat_fulfil_sms_text_fn sms_text; /* may be NULL: the built-in texts */
    void *sms_text_arg;
    struct cat_store *catalog; /* may be NULL: SMS name items by id */
};

struct cat_fulfil_stats {
    uint64_t read, claimed, granted, already, refunded, permanent, temporary, gave_up;
    uint64_t voucher, charity, conflicts, unknown, malformed, acked, sms_sent, sms_failed;
    uint64_t store_errors, redis_errors;
    uint64_t lang_fallbacks; /* recipients whose language could not be read: default language */
    uint32_t held, in_flight;
};

struct cat_fulfil_worker;

/* Creates a stopped worker. cfg is copied. NULL on bad arguments or ENOMEM. */
struct cat_fulfil_worker *cat_fulfil_worker_new(struct event_base *base,
                                                const struct cat_fulfil_config *cfg,
                                                const struct cat_fulfil_deps *deps);
/* Starts: creates the consumer group if missing (whenever Redis answers), resumes this consumer's
 * pending entries, then polls. Returns 0 or -EALREADY. */
int cat_fulfil_worker_start(struct cat_fulfil_worker *w);
/* Stops taking work: no read, claim, call or write is started any more; entries not acked stay
 * pending in the group for the next start. Call before freeing gw_http and gw_redis (their
 * cancelled callbacks then only release memory). */
void cat_fulfil_worker_stop(struct cat_fulfil_worker *w);
/* After cat_fulfil_worker_stop() and after the Redis and HTTP clients were freed (no callback of
 * this worker may still be pending). NULL is a no-op. */
void cat_fulfil_worker_free(struct cat_fulfil_worker *w);
void cat_fulfil_worker_get_stats(const struct cat_fulfil_worker *w, struct cat_fulfil_stats *out);

/* ---- pure parts, exposed for the tests */

/* Back-off before attempt `attempt` + 1 after `attempt` failures (>= 1): d = min(max, min *
 * 2^(attempt-1)), then uniform in [d/2, d] ("equal jitter": never zero, never above the
 * ceiling). rng is an xorshift64 state (non-zero). */
uint32_t cat_fulfil_backoff_ms(uint32_t min_ms, uint32_t max_ms, unsigned attempt, uint64_t *rng);
/* When to try again after `attempts` failures, the first at first_ms, now now_ms: the back-off,
 * clamped to the deadline (first_ms + retry_deadline_s) so the last attempt happens at it; -1
 * when now_ms is at or past the deadline (give up: permanent). */
int64_t cat_fulfil_next_attempt(const struct cat_fulfil_config *cfg, unsigned attempts,
                                int64_t first_ms, int64_t now_ms, uint64_t *rng);

/* Builds one built-in SMS text (UTF-8) into out (always NUL-terminated; truncated when too small).
 * name: the item's name; other: reference, beneficiary, sender, code or cause depending on kind;
 * points: the price (charity, apology). Returns the length written. */
size_t cat_fulfil_sms_text(enum cat_sms_lang lang, enum cat_sms_kind kind, const char *name,
                           const char *other, int64_t points, char *out, size_t outlen);

#endif
