/*
 * gw_transfer.c - points transfer (gw_transfer.h): the PIN helpers, the DEBIT -> CREDIT -> DONE
 * chain of lua/transfer.lua and the sweeper that finishes what a crash left half-way.
 *
 * One struct xreq per call (send, PIN set, SIM swap, or one settle of the sweeper), freed after
 * its callback ran; it has at most one Redis request outstanding, and gw_redis answers every
 * accepted request exactly once (-ECANCELED on gw_redis_free), so its pointer cannot dangle.
 * The sweeper's pass is one at a time and belongs to struct gw_transfer.
 */
#include "gw_transfer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_expiry.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "ussd.h"

#define LOG_CAT "transfer"
#define SWEEP_BATCH "100"

extern const char gw_lua_transfer[];
extern const size_t gw_lua_transfer_len;

struct sweep_pass {
    bool running;
    unsigned slot;    /* next slot to visit */
    unsigned budget;  /* slots left in this tick (timer mode); UINT32_MAX for a full pass */
    int64_t now;
    char tids[100][GW_TID_MAX];
    size_t ntids, next_tid;
    void (*cb)(void *arg);
    void *cb_arg;
};

struct gw_transfer {
    struct event_base *base;
    struct gw_redis *redis;
    struct gw_transfer_config cfg;
    int script;
    struct event *tick;
    struct sweep_pass pass;
    struct gw_transfer_sweep_stats st;
    void (*on_debited)(void *arg, const char *tid);
    void *on_debited_arg;
    bool stopping; /* gw_transfer_detach: the sweeper sends nothing more */
};

/* ---------------------------------------------------------------- pure helpers */

void gw_transfer_config_defaults(struct gw_transfer_config *cfg)
{
    *cfg = (struct gw_transfer_config){
        .min_points = 10,
        .max_points = 5000,
        .day_cap = 10000,
        .peer_cap = 5000,
        .max_wrong_pins = 3,
        .lock_s = 86400,
        .simswap_freeze_s = 72 * 3600,
        .pending_timeout_s = 10,
        .sweep_interval_ms = 1000,
        .sweep_slots = 256,
        .history_len = 50,
        .retention_s = 35 * 86400,
    };
}

int gw_transfer_config_check(const struct gw_transfer_config *c, char *err, size_t errlen)
{
    const char *why = NULL;

    if (c->min_points < 1 || c->max_points < c->min_points)
        why = "min_points must be >= 1 and <= max_points";
    else if (c->max_points > INT64_C(1000000000000))
        why = "max_points above 10^12";
    else if (c->day_cap < 0 || c->peer_cap < 0)
        why = "caps must be >= 0 (0: none)";
    else if (c->max_wrong_pins < 1 || c->max_wrong_pins > 100)
        why = "max_wrong_pins must be 1..100";
    else if (c->lock_s > 30 * 86400 || c->simswap_freeze_s > 365 * 86400)
        why = "lock_s at most 30 days, simswap_freeze_s at most 365 days";
    else if (c->pending_timeout_s < 1 || c->sweep_interval_ms < 10 || c->sweep_slots < 1)
        why = "pending_timeout_s, sweep_interval_ms >= 10 and sweep_slots must be positive";
    else if (c->history_len < 1 || c->history_len > 10000 || c->retention_s < 3600 ||
             c->retention_s > 400 * 86400)
        why = "history_len 1..10000, retention_s 1 hour..400 days";
    if (!why)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return -EINVAL;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static bool msisdn_ok(const char *s)
{
    size_t n = s ? strnlen(s, 16) : 0;
    return n >= 1 && n <= 15 && all_digits(s, n);
}

bool gw_transfer_pin_acceptable(const char *pin, size_t len)
{
    /* one rule for the USSD screen that asks for it and for the script's caller */
    return ussd_pin_acceptable(pin, len);
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int gw_transfer_pin_salt(char out[GW_PIN_SALT_HEX + 1])
{
    unsigned char raw[GW_PIN_SALT_HEX / 2];
    size_t got = 0;

    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    to_hex(raw, sizeof(raw), out);
    return 0;
}

int gw_transfer_pin_hash(const char *salt, const char *msisdn, const char *pin, size_t pin_len,
                         char out[GW_PIN_HASH_HEX + 1])
{
    char buf[GW_PIN_SALT_HEX + 1 + 15 + 1 + GW_PIN_LEN + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n;

    if (!salt || strnlen(salt, GW_PIN_SALT_HEX + 1) != GW_PIN_SALT_HEX || !msisdn_ok(msisdn) ||
        !pin || pin_len != GW_PIN_LEN || !all_digits(pin, pin_len))
        return -EINVAL;
    for (size_t i = 0; i < GW_PIN_SALT_HEX; i++)
        if (!strchr("0123456789abcdefABCDEF", salt[i]))
            return -EINVAL;
    n = (size_t)snprintf(buf, sizeof(buf), "%s:%s:%.*s", salt, msisdn, (int)pin_len, pin);
    if (n >= sizeof(buf) || !EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -EINVAL;
    to_hex(md, mdlen, out);
    return 0;
}

static bool token_ok(const char *t)
{
    size_t n = t ? strnlen(t, 25) : 0;
    if (n < 1 || n > 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

int gw_transfer_tid(const char *from, const char *to, int64_t points, const char *token,
                    char out[GW_TID_MAX])
{
    if (!msisdn_ok(from) || !msisdn_ok(to) || strcmp(from, to) == 0 || points < 1 ||
        points > INT64_C(1000000000000) || !token_ok(token))
        return -EINVAL;
    snprintf(out, GW_TID_MAX, "%s:%s:%" PRId64 ":%s", from, to, points, token);
    return 0;
}

int gw_transfer_tid_parse(const char *tid, size_t len, char from[16], char to[16],
                          int64_t *points)
{
    char buf[GW_TID_MAX], tok[32];
    char *p[4];
    char *save = NULL;
    int64_t v = 0;

    if (!tid || len == 0 || len >= sizeof(buf) || memchr(tid, '\0', len))
        return -EINVAL;
    memcpy(buf, tid, len);
    buf[len] = '\0';
    for (int i = 0; i < 4; i++) {
        p[i] = strtok_r(i ? NULL : buf, ":", &save);
        if (!p[i])
            return -EINVAL;
    }
    if (strtok_r(NULL, ":", &save) || !msisdn_ok(p[0]) || !msisdn_ok(p[1]) ||
        strlen(p[2]) > 13 || !all_digits(p[2], strlen(p[2])) || strlen(p[3]) >= sizeof(tok) ||
        !token_ok(p[3]) || strcmp(p[0], p[1]) == 0)
        return -EINVAL;
    for (const char *s = p[2]; *s; s++)
        v = v * 10 + (*s - '0');
    if (v < 1 || v > INT64_C(1000000000000))
        return -EINVAL;
    snprintf(from, 16, "%s", p[0]);
    snprintf(to, 16, "%s", p[1]);
    *points = v;
    /* the canonical form only: "007" or a token with ':' never names the same transfer twice */
    char again[GW_TID_MAX];
    if (gw_transfer_tid(from, to, v, p[3], again) < 0 || strlen(again) != len ||
        memcmp(again, tid, len) != 0)
        return -EINVAL;
    return 0;
}

static const char *const outcome_names[] = {
    "ok",      "pending", "nopin",  "badpin",  "locked",  "frozen",    "min",
    "max",     "daycap",  "peercap", "balance", "blocked", "not-member",
};

const char *gw_transfer_outcome_name(enum gw_transfer_outcome o)
{
    return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o]
                                                                          : "?";
}

/* ---------------------------------------------------------------- requests */

enum xstep { X_INFO_TO, X_INFO_FROM, X_DEBIT, X_CREDIT, X_DONE, X_PIN_INFO, X_PIN_SET, X_SWAP };

struct xreq {
    struct gw_transfer *x;
    enum xstep step;
    bool sweeper; /* a settle of the sweeper: no user callback */
    char from[16], to[16];
    int64_t points, now;
    int32_t today, cut;
    char pin[GW_PIN_LEN + 1], old_pin[GW_PIN_LEN + 1];
    bool has_old;
    char ref[GW_TID_MAX];
    struct gw_transfer_result res;
    gw_transfer_cb cb;
    void (*done_cb)(void *arg, int err);
    void *arg;
};

static void req_reply(void *arg, int err, const redisReply *reply);

/* Runs one op of transfer.lua on owner's keys; extra: the op's own arguments. DEBIT and CREDIT
 * move a balance: the slot's aggregates of q->today are appended (docs/data-model.md 6). */
static int run(struct xreq *q, const char *owner, const char *op, int nextra, const char **extra)
{
    struct gw_transfer *x = q->x;
    char kw[40], kh[40], kx[40], kq[32], tag[GW_SLOT_TAG_MAX], now[24], hl[16], ret[16];
    char kag[2][48];
    const char *argv[26];
    size_t lens[26];
    int argc = 0, nkeys = 4;
    bool agg = strcmp(op, "DEBIT") == 0 || strcmp(op, "CREDIT") == 0;

    if (gw_slot_tag_of(owner, tag) < 0 || nextra > 15)
        return -EINVAL;
    snprintf(kw, sizeof(kw), "lg:{%s}:w", owner);
    snprintf(kh, sizeof(kh), "lg:{%s}:h", owner);
    snprintf(kx, sizeof(kx), "lg:{%s}:x", owner);
    snprintf(kq, sizeof(kq), "lg:xq:%s", tag);
    snprintf(now, sizeof(now), "%" PRId64, q->now);
    snprintf(hl, sizeof(hl), "%" PRIu32, x->cfg.history_len);
    snprintf(ret, sizeof(ret), "%" PRIu32, x->cfg.retention_s);
    snprintf(kag[0], sizeof(kag[0]), "lg:ag:%s:%08" PRId32, tag, q->today);
    snprintf(kag[1], sizeof(kag[1]), "lg:ag:%s:tot", tag);
    const char *keys[] = {kw, kh, kx, kq, kag[0], kag[1]}, *fixed[] = {op, owner, now, hl, ret};
    if (agg)
        nkeys += 2;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[argc++] = fixed[i];
    for (int i = 0; i < nextra; i++)
        argv[argc++] = extra[i];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return gw_redis_script_run(x->redis, x->script, nkeys, argc, argv, lens, req_reply, q);
}

static int str_el(const redisReply *r, size_t i, char *out, size_t cap)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len >= cap)
        return -EPROTO;
    memcpy(out, r->element[i]->str, r->element[i]->len);
    out[r->element[i]->len] = '\0';
    return 0;
}

static int64_t int_el(const redisReply *r, size_t i)
{
    char b[24];
    return str_el(r, i, b, sizeof(b)) == 0 ? strtoll(b, NULL, 10) : 0;
}

static void finish(struct xreq *q, int err)
{
    struct gw_transfer *x = q->x;
    char mask[GW_MASK_LEN], mto[GW_MASK_LEN];

    if (q->sweeper) {
        if (err == 0)
            x->st.completed++;
        else
            x->st.failed++;
        GW_LOGN(LOG_CAT, "sweeper: transfer{%s->%s} %" PRId64 " pts %s",
                gw_mask_msisdn(q->from, mask), gw_mask_msisdn(q->to, mto), q->points,
                err == 0 ? "credited and done" : "still pending");
    } else if (q->done_cb) {
        q->done_cb(q->arg, err);
    } else if (q->cb) {
        q->cb(q->arg, err, err == 0 ? &q->res : NULL);
    }
    if (q->sweeper)
        q->done_cb(q->arg, err);
    free(q);
}

/* Maps a refusal of DEBIT/PINSET/INFO's lock to the result; false when status is not one. */
static bool refusal(struct xreq *q, const char *st, const redisReply *r)
{
    static const struct {
        const char *name;
        enum gw_transfer_outcome o;
    } map[] = {
        {"nopin", GW_XFER_NOPIN},   {"badpin", GW_XFER_BADPIN},   {"locked", GW_XFER_LOCKED},
        {"frozen", GW_XFER_FROZEN}, {"min", GW_XFER_MIN},         {"max", GW_XFER_MAX},
        {"daycap", GW_XFER_DAYCAP}, {"peercap", GW_XFER_PEERCAP}, {"balance", GW_XFER_BALANCE},
        {"blocked", GW_XFER_BLOCKED},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(st, map[i].name) == 0) {
            q->res.outcome = map[i].o;
            if (map[i].o == GW_XFER_LOCKED || map[i].o == GW_XFER_FROZEN)
                q->res.until = int_el(r, 1);
            else
                q->res.n = int_el(r, 1);
            return true;
        }
    }
    return false;
}

static int step(struct xreq *q);

static void req_reply(void *arg, int err, const redisReply *reply)
{
    struct xreq *q = arg;
    char st[16], mask[GW_MASK_LEN];
    int rc;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(LOG_CAT, "transfer{%s} %d refused by Redis: %s", gw_mask_msisdn(q->from, mask),
                (int)q->step, reply->str);
        err = -EPROTO;
    }
    if (err == 0 && str_el(reply, 0, st, sizeof(st)) < 0)
        err = -EPROTO;
    if (err < 0) {
        /* After DEBIT the transfer is debited: it is the sweeper's to finish. */
        if (q->step == X_CREDIT || q->step == X_DONE) {
            q->res.outcome = GW_XFER_PENDING;
            finish(q, q->sweeper ? err : 0);
            return;
        }
        finish(q, err);
        return;
    }
    switch (q->step) {
    case X_INFO_TO:
        if (int_el(reply, 4) != 1) {
            q->res.outcome = GW_XFER_NOT_MEMBER;
            finish(q, 0);
            return;
        }
        q->step = X_INFO_FROM;
        break;
    case X_INFO_FROM:
    case X_PIN_INFO: {
        char salt[GW_PIN_SALT_HEX + 1];
        if (refusal(q, st, reply)) {
            finish(q, 0);
            return;
        }
        if (str_el(reply, 2, salt, sizeof(salt)) < 0) {
            finish(q, -EPROTO);
            return;
        }
        if (q->step == X_INFO_FROM) {
            if (int_el(reply, 3) != 1) {
                q->res.outcome = GW_XFER_NOPIN;
                finish(q, 0);
                return;
            }
            /* the typed PIN leaves this process only hashed with the subscriber's salt */
            if (gw_transfer_pin_hash(salt, q->from, q->pin, strlen(q->pin), q->ref) < 0) {
                finish(q, -EPROTO);
                return;
            }
            q->step = X_DEBIT;
        } else {
            q->has_old = q->has_old && int_el(reply, 3) == 1;
            if (int_el(reply, 3) == 1 && !q->has_old) {
                q->res.outcome = GW_XFER_BADPIN; /* a PIN exists: changing it needs it */
                finish(q, 0);
                return;
            }
            q->step = X_PIN_SET;
            /* the old PIN hashed with the old salt into ref; the new one gets a new salt */
            if (q->has_old && gw_transfer_pin_hash(salt, q->from, q->old_pin, GW_PIN_LEN,
                                                   q->ref) < 0) {
                finish(q, -EPROTO);
                return;
            }
        }
        break;
    }
    case X_DEBIT:
        if (refusal(q, st, reply)) {
            finish(q, 0);
            return;
        }
        if (strcmp(st, "ok") != 0 && strcmp(st, "dup") != 0) {
            finish(q, -EPROTO);
            return;
        }
        q->res.balance = int_el(reply, strcmp(st, "ok") == 0 ? 1 : 2);
        q->step = X_CREDIT;
        if (q->x->on_debited)
            q->x->on_debited(q->x->on_debited_arg, q->res.tid);
        break;
    case X_CREDIT:
        q->step = X_DONE;
        break;
    case X_DONE:
    case X_PIN_SET:
        if (q->step == X_PIN_SET && refusal(q, st, reply)) {
            finish(q, 0);
            return;
        }
        q->res.outcome = GW_XFER_OK;
        finish(q, 0);
        return;
    case X_SWAP:
        finish(q, 0);
        return;
    }
    rc = step(q);
    if (rc < 0) {
        if (q->step == X_CREDIT || q->step == X_DONE)
            q->res.outcome = GW_XFER_PENDING;
        finish(q, (q->step == X_CREDIT || q->step == X_DONE) && !q->sweeper ? 0 : rc);
    }
}

static int step(struct xreq *q)
{
    char a[6][24], today[12];
    struct gw_transfer_config *c = &q->x->cfg;

    snprintf(today, sizeof(today), "%" PRId32, q->today);
    switch (q->step) {
    case X_INFO_TO:
        return run(q, q->to, "INFO", 0, NULL);
    case X_INFO_FROM:
    case X_PIN_INFO:
        return run(q, q->from, "INFO", 0, NULL);
    case X_DEBIT: {
        char cut[12];
        snprintf(cut, sizeof(cut), "%" PRId32, q->cut > 0 ? q->cut : 0);
        snprintf(a[0], sizeof(a[0]), "%" PRId64, c->min_points);
        snprintf(a[1], sizeof(a[1]), "%" PRId64, c->max_points);
        snprintf(a[2], sizeof(a[2]), "%" PRId64, c->day_cap);
        snprintf(a[3], sizeof(a[3]), "%" PRId64, c->peer_cap);
        snprintf(a[4], sizeof(a[4]), "%" PRIu32, c->max_wrong_pins);
        snprintf(a[5], sizeof(a[5]), "%" PRIu32, c->lock_s);
        const char *ex[] = {q->res.tid, q->ref, today, a[0], a[1], a[2], a[3], a[4], a[5], cut};
        return run(q, q->from, "DEBIT", 10, ex);
    }
    case X_CREDIT: {
        const char *ex[] = {q->res.tid, today};
        return run(q, q->to, "CREDIT", 2, ex);
    }
    case X_DONE: {
        const char *ex[] = {q->res.tid};
        return run(q, q->from, "DONE", 1, ex);
    }
    case X_PIN_SET: {
        char salt[GW_PIN_SALT_HEX + 1], hash[GW_PIN_HASH_HEX + 1];
        if (gw_transfer_pin_salt(salt) < 0 ||
            gw_transfer_pin_hash(salt, q->from, q->pin, GW_PIN_LEN, hash) < 0)
            return -EIO;
        snprintf(a[4], sizeof(a[4]), "%" PRIu32, c->max_wrong_pins);
        snprintf(a[5], sizeof(a[5]), "%" PRIu32, c->lock_s);
        const char *ex[] = {salt, hash, q->has_old ? q->ref : "", a[4], a[5]};
        return run(q, q->from, "PINSET", 5, ex);
    }
    case X_SWAP: {
        snprintf(a[0], sizeof(a[0]), "%" PRIu32, c->simswap_freeze_s);
        const char *ex[] = {q->ref, a[0]};
        return run(q, q->from, "SIMSWAP", 2, ex);
    }
    }
    return -EINVAL;
}

static struct xreq *req_new(struct gw_transfer *x, const char *from, int64_t now)
{
    struct xreq *q;

    if (!msisdn_ok(from) || !(q = calloc(1, sizeof(*q))))
        return NULL;
    q->x = x;
    q->now = now;
    snprintf(q->from, sizeof(q->from), "%s", from);
    return q;
}

static int req_start(struct xreq *q)
{
    int rc = step(q);
    if (rc < 0)
        free(q);
    return rc;
}

int gw_transfer_send(struct gw_transfer *x, const char *from, const char *to, int64_t points,
                     const char *pin, size_t pin_len, const char *token, int32_t today,
                     int32_t cut, int64_t now, gw_transfer_cb cb, void *arg)
{
    struct xreq *q;

    if (!x || !cb || !pin || pin_len != GW_PIN_LEN || !all_digits(pin, pin_len) || today <= 0)
        return -EINVAL;
    if (!(q = req_new(x, from, now)))
        return -EINVAL;
    if (gw_transfer_tid(from, to, points, token, q->res.tid) < 0) {
        free(q);
        return -EINVAL;
    }
    snprintf(q->to, sizeof(q->to), "%s", to);
    memcpy(q->pin, pin, GW_PIN_LEN);
    q->points = points;
    q->today = today;
    q->cut = cut;
    q->cb = cb;
    q->arg = arg;
    q->step = X_INFO_TO;
    return req_start(q);
}

int gw_transfer_pin_set(struct gw_transfer *x, const char *msisdn, const char *old_pin,
                        const char *new_pin, int64_t now, gw_transfer_pin_cb cb, void *arg)
{
    struct xreq *q;

    if (!x || !cb || !new_pin || !gw_transfer_pin_acceptable(new_pin, strlen(new_pin)) ||
        (old_pin && (strlen(old_pin) != GW_PIN_LEN || !all_digits(old_pin, GW_PIN_LEN))))
        return -EINVAL;
    if (!(q = req_new(x, msisdn, now)))
        return -EINVAL;
    memcpy(q->pin, new_pin, GW_PIN_LEN);
    if (old_pin) {
        memcpy(q->old_pin, old_pin, GW_PIN_LEN);
        q->has_old = true;
    }
    q->cb = cb;
    q->arg = arg;
    q->step = X_PIN_INFO;
    return req_start(q);
}

int gw_transfer_simswap(struct gw_transfer *x, const char *msisdn, const char *ref, int64_t now,
                        void (*cb)(void *arg, int err), void *arg)
{
    struct xreq *q;

    if (!x || !cb || !ref || strlen(ref) < 1 || strlen(ref) > 64)
        return -EINVAL;
    if (!(q = req_new(x, msisdn, now)))
        return -EINVAL;
    snprintf(q->ref, sizeof(q->ref), "%s", ref);
    q->done_cb = cb;
    q->arg = arg;
    q->step = X_SWAP;
    return req_start(q);
}

/* ---------------------------------------------------------------- sweeper */

static void sweep_next(struct gw_transfer *x);

static void pass_end(struct gw_transfer *x)
{
    struct sweep_pass *p = &x->pass;
    void (*cb)(void *) = p->cb;
    void *arg = p->cb_arg;

    p->running = false;
    p->slot = 0;
    p->cb = NULL;
    x->st.passes++;
    if (cb)
        cb(arg);
}

static void settled(void *arg, int err)
{
    struct gw_transfer *x = arg;
    (void)err;
    sweep_next(x);
}

static void listed(void *arg, int err, const redisReply *reply)
{
    struct gw_transfer *x = arg;
    struct sweep_pass *p = &x->pass;

    p->ntids = p->next_tid = 0;
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        x->st.failed++;
    } else {
        for (size_t i = 0; i < reply->elements && p->ntids < 100; i++) {
            const redisReply *e = reply->element[i];
            if (e->type == REDIS_REPLY_STRING && e->len < GW_TID_MAX) {
                memcpy(p->tids[p->ntids], e->str, e->len);
                p->tids[p->ntids++][e->len] = '\0';
            }
        }
        x->st.found += p->ntids;
    }
    p->slot++;
    sweep_next(x);
}

/* Settles the next listed tid, else lists the next slot, else ends the pass or the tick. */
static void sweep_next(struct gw_transfer *x)
{
    struct sweep_pass *p = &x->pass;

    if (x->stopping) {
        p->running = false;
        return;
    }
    while (p->next_tid < p->ntids) {
        const char *tid = p->tids[p->next_tid++];
        char from[16], to[16];
        int64_t pts;
        struct xreq *q;
        if (gw_transfer_tid_parse(tid, strlen(tid), from, to, &pts) < 0) {
            GW_LOGE(LOG_CAT, "sweeper: malformed pending entry skipped (%zu bytes)",
                    strlen(tid));
            continue;
        }
        if (!(q = req_new(x, from, p->now)))
            continue;
        snprintf(q->to, sizeof(q->to), "%s", to);
        snprintf(q->res.tid, sizeof(q->res.tid), "%s", tid);
        q->points = pts;
        q->sweeper = true;
        q->done_cb = settled;
        q->arg = x;
        /* the recipient's lot and the day's aggregates: the local day the sweeper credits */
        q->today = gw_local_day(p->now);
        q->step = X_CREDIT;
        if (req_start(q) == 0)
            return;
        x->st.failed++;
    }
    if (p->slot >= GW_REDIS_SLOTS) {
        pass_end(x);
        return;
    }
    if (p->budget == 0) {
        p->running = false; /* the tick is over; the next one goes on from p->slot */
        return;
    }
    p->budget--;
    char tag[GW_SLOT_TAG_MAX], key[32], max[24];
    if (gw_slot_tag(p->slot, tag) < 0) {
        p->slot++;
        sweep_next(x);
        return;
    }
    snprintf(key, sizeof(key), "lg:xq:%s", tag);
    snprintf(max, sizeof(max), "(%" PRId64, p->now - (int64_t)x->cfg.pending_timeout_s);
    const char *argv[] = {"ZRANGEBYSCORE", key, "-inf", max, "LIMIT", "0", SWEEP_BATCH};
    size_t lens[7];
    for (int i = 0; i < 7; i++)
        lens[i] = strlen(argv[i]);
    if (gw_redis_command(x->redis, 7, argv, lens, listed, x) < 0) {
        x->st.failed++;
        p->running = false; /* not connected: the next tick tries this slot again */
        if (p->cb)
            pass_end(x);
    }
}

void gw_transfer_on_debited(struct gw_transfer *x, void (*fn)(void *arg, const char *tid),
                            void *arg)
{
    x->on_debited = fn;
    x->on_debited_arg = arg;
}

int gw_transfer_sweep_once(struct gw_transfer *x, int64_t now, void (*cb)(void *arg), void *arg)
{
    struct sweep_pass *p = &x->pass;

    if (p->running)
        return -EBUSY;
    *p = (struct sweep_pass){.running = true, .budget = UINT32_MAX, .now = now, .cb = cb,
                             .cb_arg = arg};
    sweep_next(x);
    return 0;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_transfer *x = arg;
    struct sweep_pass *p = &x->pass;

    (void)fd;
    (void)what;
    if (p->running || !gw_redis_is_connected(x->redis))
        return;
    p->running = true;
    p->budget = x->cfg.sweep_slots;
    p->now = gw_clock_now_ms() / 1000;
    p->ntids = p->next_tid = 0;
    sweep_next(x);
}

int gw_transfer_sweep_start(struct gw_transfer *x)
{
    struct timeval tv = {.tv_sec = x->cfg.sweep_interval_ms / 1000,
                         .tv_usec = (x->cfg.sweep_interval_ms % 1000) * 1000};

    if (!x->tick && !(x->tick = event_new(x->base, -1, EV_PERSIST, tick_cb, x)))
        return -ENOMEM;
    return event_add(x->tick, &tv) == 0 ? 0 : -ENOMEM;
}

void gw_transfer_get_sweep_stats(const struct gw_transfer *x, struct gw_transfer_sweep_stats *out)
{
    *out = x->st;
}

struct gw_transfer *gw_transfer_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_transfer_config *cfg)
{
    struct gw_transfer *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->base = base;
    x->redis = redis;
    x->cfg = *cfg;
    x->script = gw_redis_script_add(redis, gw_lua_transfer, gw_lua_transfer_len);
    if (x->script < 0) {
        free(x);
        return NULL;
    }
    return x;
}

void gw_transfer_detach(struct gw_transfer *x)
{
    if (!x)
        return;
    x->stopping = true;
    if (x->tick)
        event_del(x->tick);
}

void gw_transfer_free(struct gw_transfer *x)
{
    if (!x)
        return;
    if (x->tick)
        event_free(x->tick);
    free(x);
}
