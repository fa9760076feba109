/*
 * gw_transfer.h - points transfer between members, protected by a PIN (issue 10 §4).
 *
 * The two wallets are on different Redis Cluster slots, so a transfer is three scripts of
 * lua/transfer.lua, each on one slot, the way a redemption is (catalog/cat_redeem.c):
 *   DEBIT  (sender's slot)    PIN, locks, caps and balance checked, points taken, the transfer
 *                             recorded "debited" and put in the slot's pending set lg:xq:{tag}
 *   CREDIT (recipient's slot) idempotent by the transfer id (tid): a second run adds nothing
 *   DONE   (sender's slot)    the record says "credited", the pending entry goes
 * A crash after DEBIT leaves the pending entry; the sweeper (gw_transfer_sweep) finds entries
 * older than pending_timeout_s and runs CREDIT and DONE again, so every debited transfer is
 * credited exactly once. The tid "<from>:<to>:<points>:<token>" carries all the sweeper needs;
 * the token is the caller's (a USSD session id...), so a retried confirm is the same transfer.
 *
 * PINs: 4 digits, never stored. Redis keeps a random 128-bit salt per subscriber and
 * SHA-256(salt ":" msisdn ":" PIN) in hex. Ten thousand PINs are no match for an offline search
 * whatever the hash, so the protection is the lockout: max_wrong_pins wrong PINs in a row lock
 * transfers and PIN changes for lock_s, counted atomically in the script.
 *
 * A SIM swap reported by the carrier (event SIMSWAP, gw_event.h) freezes the subscriber's
 * outgoing transfers for simswap_freeze_s (idempotent by the event's ref).
 *
 * Pure helpers (gw_transfer_pin_*, gw_transfer_tid*, gw_transfer_config_check) have no I/O;
 * struct gw_transfer lives on the loop and owns nothing but its sweeper timer.
 */
#ifndef GW_TRANSFER_H
#define GW_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct gw_redis;

#define GW_PIN_LEN 4
#define GW_PIN_SALT_HEX 32 /* 16 random bytes */
#define GW_PIN_HASH_HEX 64 /* SHA-256 */
#define GW_TID_MAX 80

struct gw_transfer_config {
    int64_t min_points;      /* smallest transfer (default 10) */
    int64_t max_points;      /* largest transfer (default 5000) */
    int64_t day_cap;         /* points a member may send per local day, 0 none (default 10000) */
    int64_t peer_cap;        /* ... to one recipient per local day, 0 none (default 5000) */
    uint32_t max_wrong_pins; /* wrong PINs in a row that lock transfers (default 3) */
    uint32_t lock_s;         /* how long (default 86400) */
    uint32_t simswap_freeze_s;   /* outgoing transfers frozen after a SIM swap (default 72 h) */
    uint32_t pending_timeout_s;  /* a debited transfer older than this is the sweeper's (10) */
    uint32_t sweep_interval_ms;  /* sweeper tick (default 1000) */
    uint32_t sweep_slots;        /* pending sets visited per tick (default 256: a pass of the
                                    16384 slots every 64 s, 256 cheap reads a second) */
    uint32_t history_len;        /* as the ledger's (default 50) */
    uint32_t retention_s;        /* transfer records kept (default 35 days) */
};
void gw_transfer_config_defaults(struct gw_transfer_config *cfg);
/* 0, or -EINVAL with a one-line reason in err (min > max, a zero, ...). */
int gw_transfer_config_check(const struct gw_transfer_config *cfg, char *err, size_t errlen);

/* A PIN a subscriber may choose: exactly 4 ASCII digits, not one digit four times and not a run
 * up or down ("1234", "9876"). */
bool gw_transfer_pin_acceptable(const char *pin, size_t len);
/* A fresh random salt, GW_PIN_SALT_HEX hex digits and a NUL into out. 0 or -errno. */
int gw_transfer_pin_salt(char out[GW_PIN_SALT_HEX + 1]);
/* SHA-256(salt ":" msisdn ":" pin) in lower-case hex into out. 0, or -EINVAL on a salt that is
 * not GW_PIN_SALT_HEX hex digits, an MSISDN that is not 1..15 digits or a PIN that is not 4
 * digits (a typed PIN is hashed even when it is not "acceptable": it is checked, not chosen). */
int gw_transfer_pin_hash(const char *salt, const char *msisdn, const char *pin, size_t pin_len,
                         char out[GW_PIN_HASH_HEX + 1]);

/* "<from>:<to>:<points>:<token>" into out (GW_TID_MAX bytes). 0, or -EINVAL (from == to, a
 * number not 1..15 digits, points < 1, a token not 1..24 of [A-Za-z0-9_-]). */
int gw_transfer_tid(const char *from, const char *to, int64_t points, const char *token,
                    char out[GW_TID_MAX]);
/* Splits a tid (from the pending set: untrusted) into its parts. 0 or -EINVAL. */
int gw_transfer_tid_parse(const char *tid, size_t len, char from[16], char to[16],
                          int64_t *points);

enum gw_transfer_outcome {
    GW_XFER_OK = 0,    /* debited and credited (or credited already: a retried confirm) */
    GW_XFER_PENDING,   /* debited; the credit failed and is the sweeper's now */
    GW_XFER_NOPIN,     /* no PIN set yet */
    GW_XFER_BADPIN,    /* wrong PIN; n = tries left before the lock */
    GW_XFER_LOCKED,    /* wrong PINs: locked until `until` */
    GW_XFER_FROZEN,    /* SIM swap: frozen until `until` */
    GW_XFER_MIN,       /* below the minimum (n) */
    GW_XFER_MAX,       /* above the maximum (n) */
    GW_XFER_DAYCAP,    /* over the sender's day cap (n = what is left today) */
    GW_XFER_PEERCAP,   /* over the cap towards this recipient (n = what is left) */
    GW_XFER_BALANCE,   /* not enough points (n = spendable) */
    GW_XFER_BLOCKED,   /* the sender's wallet is blocked */
    GW_XFER_NOT_MEMBER /* the recipient has no wallet */
};
const char *gw_transfer_outcome_name(enum gw_transfer_outcome o);

struct gw_transfer_result {
    enum gw_transfer_outcome outcome;
    int64_t n;       /* see the outcome */
    int64_t until;   /* LOCKED / FROZEN */
    int64_t balance; /* the sender's after OK / PENDING */
    char tid[GW_TID_MAX];
};

/* err 0 with res, or err < 0 (Redis unavailable or timed out: the transfer may or may not have
 * been debited; the sweeper completes it if it was) with res NULL. Exactly once per accepted
 * call, from the loop. */
typedef void (*gw_transfer_cb)(void *arg, int err, const struct gw_transfer_result *res);
/* PIN set/change: err < 0 as above; else outcome GW_XFER_OK, BADPIN (the old PIN), LOCKED or
 * FROZEN. */
typedef void (*gw_transfer_pin_cb)(void *arg, int err, const struct gw_transfer_result *res);

struct gw_transfer_sweep_stats {
    uint64_t passes;    /* full passes over the 16384 slots */
    uint64_t found;     /* pending transfers older than the timeout */
    uint64_t completed; /* credited (or found credited) and marked done by the sweeper */
    uint64_t failed;    /* a request failed: tried again next pass */
};

struct gw_transfer;

/* redis must outlive the module; cfg is copied. NULL on ENOMEM. */
struct gw_transfer *gw_transfer_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_transfer_config *cfg);
/* Stops the sweeper before the Redis client is freed: the answers gw_redis_free cancels then
 * start nothing new. NULL is a no-op. */
void gw_transfer_detach(struct gw_transfer *x);
/* Outstanding requests must have answered (gw_redis_free fails them) before this. */
void gw_transfer_free(struct gw_transfer *x);

/* Sends points from -> to with the typed PIN; token makes the transfer id (same token, same
 * transfer). today: the programme's local date YYYYMMDD (caps and the recipient's lot); cut: the
 * expiry cut-off (lots dated on or before it are not spent; 0 none); now: unix s. 0 (cb fires
 * once) or -EINVAL / -ENOMEM (cb never fires). */
int gw_transfer_send(struct gw_transfer *x, const char *from, const char *to, int64_t points,
                     const char *pin, size_t pin_len, const char *token, int32_t today,
                     int32_t cut, int64_t now, gw_transfer_cb cb, void *arg);
/* Sets the PIN (old_pin NULL when none is set yet, else it must be right). new_pin must be
 * gw_transfer_pin_acceptable (else -EINVAL). */
int gw_transfer_pin_set(struct gw_transfer *x, const char *msisdn, const char *old_pin,
                        const char *new_pin, int64_t now, gw_transfer_pin_cb cb, void *arg);
/* A carrier SIM swap: freezes msisdn's outgoing transfers (idempotent by ref). cb gets err 0 when
 * recorded (or a duplicate), < 0 when Redis failed (the event is then offered again). */
int gw_transfer_simswap(struct gw_transfer *x, const char *msisdn, const char *ref, int64_t now,
                        void (*cb)(void *arg, int err), void *arg);

/* Observer (may be NULL): called from the loop when a transfer's DEBIT answered (the points are
 * taken, the transfer is pending), before its CREDIT is sent. For metrics and the tests that
 * kill the process exactly there. */
void gw_transfer_on_debited(struct gw_transfer *x, void (*fn)(void *arg, const char *tid),
                            void *arg);

/* Starts the sweeper's timer (it reads the clock through gw_clock_now_ms()). 0 or -ENOMEM. */
int gw_transfer_sweep_start(struct gw_transfer *x);
/* One full pass over the pending sets now, cb(arg) when it ended (tests, loyaltyctl). 0 or
 * -EBUSY (a pass runs). */
int gw_transfer_sweep_once(struct gw_transfer *x, int64_t now, void (*cb)(void *arg), void *arg);
void gw_transfer_get_sweep_stats(const struct gw_transfer *x, struct gw_transfer_sweep_stats *out);

#endif
