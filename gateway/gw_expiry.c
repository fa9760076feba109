/*
 * gw_expiry.c - the expiry job and its pure helpers (gw_expiry.h has the design).
 *
 * A pass is a chain of Redis requests driven from their callbacks, one slot at a time:
 *   GET lg:xj:done -> per slot: EXISTS <due sets of the days> -> SET claim NX PX -> per day:
 *   SSCAN -> the batch's visits at once (RUN -> REINDEX [-> RUN again] -> opt-in -> warn) ->
 *   next SSCAN / day -> LEASE release -> next slot -> ... -> SET lg:xj:done.
 * Every request in flight is counted in x->pending; a pass step waits for its batch to drain.
 * Visits (struct xp_visit) are owned by the job and freed when their chain ends; they reach the
 * job through a pointer that stays valid because gw_expiry_free comes after gw_redis_free.
 */
#include "gw_expiry.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_broadcast.h"
#include "gw_core.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_zone.h"

#define LOG_CAT "expiry"
#define KEY_DONE "lg:xj:done"
#define KEY_OPTIN GW_BC_KEY_OPTIN
#define MAX_LOTS 1024 /* lots of one wallet RUN may report (a listpack one holds < 256) */
#define MAX_RERUNS 3

extern const char gw_lua_expire[];
extern const size_t gw_lua_expire_len;

/* ---------------------------------------------------------------- pure helpers */

void gw_expiry_config_defaults(struct gw_expiry_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->warn_days, sizeof(cfg->warn_days), "30,7");
    cfg->quiet_start_hour = 21;
    cfg->quiet_end_hour = 9;
    cfg->pass_interval_s = 900;
    cfg->catchup_days = 60;
    cfg->lease_ms = 30000;
    cfg->batch = 64;
    cfg->require_optin = true;
}

int gw_expiry_parse_levels(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0;

    if (!s)
        return -EINVAL;
    while (*s) {
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = strtoul(s, &end, 10);
        if (v < 1 || v > 365 || n >= cap || n >= GW_EXPIRY_LEVELS_MAX || (n > 0 && v >= out[n - 1]))
            return -EINVAL;
        out[n++] = (uint32_t)v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -EINVAL;
    }
    return (int)n;
}

int32_t gw_expiry_next_action(const struct gw_validity *v, const uint32_t *levels, size_t nlevels,
                              int32_t today, const int32_t *days, const uint32_t *marks, size_t n)
{
    int32_t best = 0;

    for (size_t i = 0; i < n; i++) {
        int32_t last = gw_validity_last_day(v, days[i]);
        if (last == 0)
            continue;
        int32_t cand = gw_days_add(last, 1);
        for (size_t k = 0; k < nlevels; k++) {
            if (marks[i] != 0 && levels[k] >= marks[i])
                continue; /* this level (or a nearer one) was sent */
            int32_t wd = gw_validity_warn_day(v, days[i], levels[k]);
            if (wd > today && wd < cand)
                cand = wd;
        }
        if (cand <= today) /* an expired lot RUN did not delete: look again tomorrow */
            cand = gw_days_add(today, 1);
        if (cand != 0 && (best == 0 || cand < best))
            best = cand;
    }
    return best;
}

int32_t gw_expiry_lot_due(const struct gw_validity *v, const uint32_t *levels, size_t nlevels,
                          int32_t today, int32_t lot)
{
    int32_t last = gw_validity_last_day(v, lot);

    if (last == 0)
        return 0;
    int32_t due = gw_days_add(last, 1);
    for (size_t k = 0; k < nlevels; k++) {
        int32_t wd = gw_validity_warn_day(v, lot, levels[k]);
        if (wd != 0 && wd < due)
            due = wd;
    }
    return due < today ? today : due;
}

/* ---------------------------------------------------------------- the job */

enum xp_state { XP_IDLE, XP_DONE_GET, XP_SLOT, XP_CLAIM, XP_SCAN, XP_VISITS, XP_RELEASE, XP_END };

struct gw_expiry {
    struct event_base *base;
    struct gw_redis *redis;
    struct gw_expiry_config cfg;
    struct gw_expiry_params params;
    struct gw_expiry_ops ops;
    struct gw_walk_ops walk; /* the keys walked and, for another job's walk, its visit */
    uint32_t levels[GW_EXPIRY_LEVELS_MAX];
    size_t nlevels;
    char owner[64];
    int script;
    struct event *timer;
    bool started;
    bool detached; /* gw_expiry_detach: no new request */
    struct gw_expiry_stats st;

    /* the pass */
    enum xp_state state;
    void (*done)(void *arg);
    void *done_arg;
    int64_t now;         /* unix s, fixed for the pass */
    int32_t today, from; /* the days looked at: from..today */
    int32_t chunk;       /* the slot's first day not yet known empty (EXISTS by 64 days) */
    int32_t cut;         /* lots dated <= cut are expired today */
    int32_t warn_cut[GW_EXPIRY_LEVELS_MAX];
    unsigned slot0, slot_i; /* slots walked from slot0, slot_i of them so far */
    char tag[GW_SLOT_TAG_MAX];
    int32_t day; /* the set being scanned */
    char cursor[24];
    unsigned busy, failed; /* slots skipped this pass (claimed elsewhere / errors) */
    unsigned visits;       /* visits of the batch still running */
};

struct xp_visit {
    struct gw_expiry *x;
    char msisdn[16];
    char tag[GW_SLOT_TAG_MAX];
    int32_t set_day;
    int runs;
    struct gw_expiry_warning w;
};

static void pass_step(struct gw_expiry *x);
static void visit_run(struct xp_visit *v);

/* Every request goes through these two: none once detached (teardown). */
static int x_cmd(struct gw_expiry *x, int argc, const char **argv, gw_redis_cb cb, void *arg)
{
    return x->detached ? -ESHUTDOWN : gw_redis_command(x->redis, argc, argv, NULL, cb, arg);
}

static int x_script(struct gw_expiry *x, int nkeys, int argc, const char **argv, gw_redis_cb cb,
                    void *arg)
{
    return x->detached ? -ESHUTDOWN
                       : gw_redis_script_run(x->redis, x->script, nkeys, argc, argv, NULL, cb, arg);
}

static void key_of(char *out, size_t cap, const char *what, const char *tag, int32_t day)
{
    snprintf(out, cap, "lg:%s:%s:%08" PRId32, what, tag, day);
}

static int local_hour(int64_t now)
{
    struct cat_tm tm;

    if (gw_zone_localtime(now, &tm) < 0)
        return 12;
    return tm.hour;
}

static bool quiet_now(const struct gw_expiry *x, int64_t now)
{
    unsigned h = (unsigned)local_hour(now), s = x->cfg.quiet_start_hour, e = x->cfg.quiet_end_hour;

    if (s == e)
        return false;
    return s < e ? (h >= s && h < e) : (h >= s || h < e);
}

static void pass_end(struct gw_expiry *x)
{
    void (*done)(void *) = x->done;
    void *arg = x->done_arg;

    x->state = XP_IDLE;
    x->st.running = false;
    x->st.passes++;
    x->done = NULL;
    if (x->started && x->timer) {
        struct timeval tv = {(time_t)x->cfg.pass_interval_s, 0};
        event_add(x->timer, &tv);
    }
    if (done)
        done(arg);
}

/* On to the next slot (its first day chunk). */
static void next_slot(struct gw_expiry *x)
{
    x->slot_i++;
    x->chunk = 0;
    x->state = XP_SLOT;
    pass_step(x);
}

/* A request failed: log it, count it, and abandon this slot (its members stay in their sets). */
static void slot_error(struct gw_expiry *x, const char *what, int err, const redisReply *r)
{
    x->st.errors++;
    x->failed++;
    GW_LOGE(LOG_CAT, "slot %s: %s failed: %d %.120s", x->tag, what, err,
            r && r->type == REDIS_REPLY_ERROR ? r->str : "");
    x->state = XP_RELEASE;
    pass_step(x);
}

/* ---- visits */

static void visit_end(struct xp_visit *v)
{
    struct gw_expiry *x = v->x;

    free(v);
    if (--x->visits == 0 && x->state == XP_VISITS) {
        x->state = XP_SCAN;
        pass_step(x);
    }
}

static void on_warned(void *ctx, int err)
{
    struct xp_visit *v = ctx;

    if (err == 0)
        v->x->st.warnings_sent++;
    else
        v->x->st.warnings_failed++;
    visit_end(v);
}

static void visit_warn(struct xp_visit *v)
{
    struct gw_expiry *x = v->x;
    char mask[GW_MASK_LEN];

    x->st.warnings++;
    if (!x->ops.warn || x->ops.warn(x->ops.arg, &v->w, on_warned, v) < 0) {
        x->st.warnings_failed++;
        GW_LOGE(LOG_CAT, "expiry{%s}: warning of %" PRId64 " points not sent",
                gw_mask_msisdn(v->msisdn, mask), v->w.points);
        visit_end(v);
    }
}

/* The warnings' own switch, the consent record's "alerts" (absent = on; "0" = the subscriber
 * turned them off by SMS or through care): read just before the send, like the opt-in. */
static void on_alerts(void *arg, int err, const redisReply *r)
{
    struct xp_visit *v = arg;

    if (err == 0 && r && r->type == REDIS_REPLY_NIL) {
        visit_warn(v);
        return;
    }
    if (err == 0 && r && r->type == REDIS_REPLY_STRING) {
        if (strcmp(r->str, "0") != 0) {
            visit_warn(v);
            return;
        }
        v->x->st.warnings_declined++;
    } else {
        v->x->st.errors++;
    }
    v->x->st.warnings_skipped++; /* the lot is marked: a missed warning beats a warning twice */
    visit_end(v);
}

static void visit_alerts(struct xp_visit *v)
{
    struct gw_expiry *x = v->x;
    char key[48];

    snprintf(key, sizeof(key), GW_CONSENT_KEY_FMT, v->msisdn);
    const char *argv[] = {"HGET", key, "alerts"};
    if (x_cmd(x, 3, argv, on_alerts, v) == 0)
        return;
    x->st.errors++;
    x->st.warnings_skipped++;
    visit_end(v);
}

static void on_optin(void *arg, int err, const redisReply *r)
{
    struct xp_visit *v = arg;

    if (err == 0 && r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        visit_alerts(v);
        return;
    }
    if (err != 0)
        v->x->st.errors++;
    v->x->st.warnings_skipped++; /* the lot is marked: a missed warning beats a warning twice */
    visit_end(v);
}

static void on_reindex(void *arg, int err, const redisReply *r)
{
    struct xp_visit *v = arg;
    struct gw_expiry *x = v->x;

    /* a Lua string comes back as a bulk string */
    bool text = err == 0 && r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
    if (text && strcmp(r->str, "changed") == 0 && v->runs < MAX_RERUNS) {
        x->st.reruns++;
        visit_run(v);
        return;
    }
    if (!text || strcmp(r->str, "ok") != 0) {
        x->st.errors++;
        GW_LOGE(LOG_CAT, "reindex of a subscriber in slot %s: %d %.120s", v->tag, err,
                r && (text || r->type == REDIS_REPLY_ERROR) ? r->str : "");
    }
    if (v->w.points <= 0) {
        visit_end(v);
        return;
    }
    if (x->cfg.require_optin) {
        const char *argv[] = {"SISMEMBER", KEY_OPTIN, v->msisdn};
        if (x_cmd(x, 3, argv, on_optin, v) == 0)
            return;
        x->st.errors++;
        x->st.warnings_skipped++;
        visit_end(v);
        return;
    }
    visit_alerts(v);
}

static bool reply_i64(const redisReply *e, int64_t *out)
{
    if (e->type == REDIS_REPLY_INTEGER) {
        *out = e->integer;
        return true;
    }
    if (e->type == REDIS_REPLY_STRING && e->len > 0 && e->len < 20) {
        char buf[24], *end;
        memcpy(buf, e->str, e->len);
        buf[e->len] = '\0';
        long long n = strtoll(buf, &end, 10);
        if (*end == '\0') {
            *out = n;
            return true;
        }
    }
    return false;
}

static void on_run(void *arg, int err, const redisReply *r)
{
    struct xp_visit *v = arg;
    struct gw_expiry *x = v->x;
    int64_t f[7] = {0};
    int32_t days[MAX_LOTS];
    uint32_t marks[MAX_LOTS];
    size_t n = 0;
    char seen[MAX_LOTS * 9 + 1] = "";
    size_t slen = 0;
    char mask[GW_MASK_LEN];

    if (err != 0 || !r || r->type != REDIS_REPLY_ARRAY || r->elements < 7 ||
        (r->elements - 7) % 2 != 0 || (r->elements - 7) / 2 > MAX_LOTS) {
        x->st.errors++;
        GW_LOGE(LOG_CAT, "expiry{%s}: RUN failed: %d %.120s", gw_mask_msisdn(v->msisdn, mask), err,
                r && r->type == REDIS_REPLY_ERROR ? r->str : "");
        visit_end(v);
        return;
    }
    for (size_t i = 0; i < 7; i++) {
        if (i == 5)
            continue;
        if (!reply_i64(r->element[i], &f[i])) {
            x->st.errors++;
            visit_end(v);
            return;
        }
    }
    if (f[0] > 0) {
        x->st.expired_points += (uint64_t)f[0];
        x->st.expired_wallets++;
        GW_LOGI(LOG_CAT, "expiry{%s}: %" PRId64 " points expired", gw_mask_msisdn(v->msisdn, mask),
                f[0]);
    }
    if (f[1] > 0 && f[6] == 0) {
        v->w.points += f[1];
        if (v->w.last_day == 0 ||
            gw_validity_last_day(&x->params.validity, (int32_t)f[2]) < v->w.last_day)
            v->w.last_day = gw_validity_last_day(&x->params.validity, (int32_t)f[2]);
        if (v->w.level == 0 || (uint32_t)f[3] < v->w.level)
            v->w.level = (uint32_t)f[3];
        const redisReply *lg = r->element[5];
        if (lg->type == REDIS_REPLY_STRING && lg->len < sizeof(v->w.lang))
            snprintf(v->w.lang, sizeof(v->w.lang), "%.*s", (int)lg->len, lg->str);
    } else if (f[1] > 0) {
        x->st.warnings_skipped++;
    }
    for (size_t i = 7; i + 1 < r->elements; i += 2) {
        int64_t d, m;
        if (!reply_i64(r->element[i], &d) || !reply_i64(r->element[i + 1], &m) ||
            !gw_days_valid((int32_t)d) || m < 0 || m > 3650) {
            x->st.errors++;
            visit_end(v);
            return;
        }
        days[n] = (int32_t)d;
        marks[n] = (uint32_t)m;
        slen += (size_t)snprintf(seen + slen, sizeof(seen) - slen, "%s%08" PRId32, n ? "," : "",
                                 days[n]);
        n++;
    }

    int32_t next =
        gw_expiry_next_action(&x->params.validity, x->levels, x->nlevels, x->today, days, marks, n);
    char k_w[40], k_cur[48], k_next[48], nbuf[16];
    snprintf(k_w, sizeof(k_w), "lg:{%s}:w", v->msisdn);
    key_of(k_cur, sizeof(k_cur), x->walk.idx, v->tag, v->set_day);
    key_of(k_next, sizeof(k_next), x->walk.idx, v->tag, next ? next : v->set_day);
    snprintf(nbuf, sizeof(nbuf), "%08" PRId32, next);
    if (next == 0)
        snprintf(nbuf, sizeof(nbuf), "0");
    const char *argv[] = {k_w, k_cur, k_next, "REINDEX", v->msisdn, nbuf, seen};
    if (x_script(x, 3, 7, argv, on_reindex, v) < 0) {
        x->st.errors++;
        visit_end(v);
    }
}

static void visit_run(struct xp_visit *v)
{
    struct gw_expiry *x = v->x;
    char k_w[40], k_h[40], k_a[48], k_t[48], now[24], today[16], cut[16], hlen[16];
    char lv[GW_EXPIRY_LEVELS_MAX][12], lc[GW_EXPIRY_LEVELS_MAX][16], nw[8];
    const char *argv[10 + 2 * GW_EXPIRY_LEVELS_MAX];
    int argc = 0;

    v->runs++;
    snprintf(k_w, sizeof(k_w), "lg:{%s}:w", v->msisdn);
    snprintf(k_h, sizeof(k_h), "lg:{%s}:h", v->msisdn);
    key_of(k_a, sizeof(k_a), "ag", v->tag, x->today);
    snprintf(k_t, sizeof(k_t), "lg:ag:%s:tot", v->tag); /* the slot's running totals */
    snprintf(now, sizeof(now), "%" PRId64, x->now);
    snprintf(today, sizeof(today), "%08" PRId32, x->today);
    snprintf(cut, sizeof(cut), "%" PRId32, x->cut);
    snprintf(hlen, sizeof(hlen), "%" PRIu32, x->params.history_len ? x->params.history_len : 1);
    snprintf(nw, sizeof(nw), "%zu", x->nlevels);
    argv[argc++] = k_w;
    argv[argc++] = k_h;
    argv[argc++] = k_a;
    argv[argc++] = k_t;
    argv[argc++] = "RUN";
    argv[argc++] = now;
    argv[argc++] = today;
    argv[argc++] = cut;
    argv[argc++] = hlen;
    argv[argc++] = nw;
    for (size_t k = 0; k < x->nlevels; k++) {
        snprintf(lv[k], sizeof(lv[k]), "%" PRIu32, x->levels[k]);
        snprintf(lc[k], sizeof(lc[k]), "%" PRId32, x->warn_cut[k]);
        argv[argc++] = lv[k];
        argv[argc++] = lc[k];
    }
    x->st.visits++;
    if (x_script(x, 4, argc, argv, on_run, v) < 0) {
        x->st.errors++;
        visit_end(v);
    }
}

/* ---- another job's visit (gw_expiry_new_walk) */

static void on_other_done(void *ctx)
{
    visit_end(ctx);
}

static void visit_other(struct xp_visit *v)
{
    struct gw_expiry *x = v->x;

    x->st.visits++;
    if (x->detached || x->walk.visit(x->walk.arg, v->msisdn, v->tag, v->set_day, x->today,
                                     x->now, on_other_done, v) < 0) {
        x->st.errors++;
        visit_end(v);
    }
}

/* ---- the pass */

static void on_pass_reply(void *arg, int err, const redisReply *r);

static int send_cmd(struct gw_expiry *x, int argc, const char **argv)
{
    return x_cmd(x, argc, argv, on_pass_reply, x);
}

static void on_pass_reply(void *arg, int err, const redisReply *r)
{
    struct gw_expiry *x = arg;

    switch (x->state) {
    case XP_DONE_GET: {
        int64_t done = 0;
        if (err == 0 && r && r->type == REDIS_REPLY_STRING)
            reply_i64(r, &done);
        x->st.last_done = gw_days_valid((int32_t)done) ? (int32_t)done : 0;
        /* After the last complete pass every due set is newer (a commit indexes a lot at today
         * or later; REINDEX after today), however long ago that was; without one (a new
         * carrier, a lost key) catchup_days back. */
        int32_t floor_day = gw_days_add(x->today, -(int32_t)x->cfg.catchup_days);
        int32_t oldest = gw_days_add(x->today, -3660);
        x->from = x->st.last_done ? gw_days_add(x->st.last_done, 1) : floor_day;
        if (x->from < oldest)
            x->from = oldest;
        if (x->from == 0 || x->from > x->today)
            x->from = x->today;
        x->state = XP_SLOT;
        pass_step(x);
        return;
    }
    case XP_SLOT: /* EXISTS over the slot's due sets */
        if (err != 0 || !r || r->type != REDIS_REPLY_INTEGER) {
            slot_error(x, "EXISTS", err, r);
            return;
        }
        if (r->integer == 0) {
            int32_t next = gw_days_add(x->chunk, 64);
            if (next == 0 || next > x->today) {
                next_slot(x);
                return;
            }
            x->chunk = next; /* the next 64 days of this slot */
            pass_step(x);
            return;
        }
        x->state = XP_CLAIM;
        pass_step(x);
        return;
    case XP_CLAIM:
        if (err != 0 || !r || r->type == REDIS_REPLY_NIL) {
            if (err != 0 || !r) {
                x->st.errors++;
                x->failed++;
            } else {
                x->st.slots_busy++; /* another gateway works this slot */
                x->busy++;
            }
            next_slot(x);
            return;
        }
        x->st.slots_claimed++;
        x->day = x->chunk; /* the days before are empty in this slot */
        x->chunk = 0;
        snprintf(x->cursor, sizeof(x->cursor), "0");
        x->state = XP_SCAN;
        pass_step(x);
        return;
    case XP_SCAN: {
        /* [cursor, [members...]] */
        if (err != 0 || !r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= 24 ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            slot_error(x, "SSCAN", err, r);
            return;
        }
        snprintf(x->cursor, sizeof(x->cursor), "%.*s", (int)r->element[0]->len, r->element[0]->str);
        const redisReply *m = r->element[1];
        x->state = XP_VISITS;
        x->visits = 1; /* held while the batch starts, so no visit ends the batch early */
        for (size_t i = 0; i < m->elements; i++) {
            const redisReply *e = m->element[i];
            bool ok = e->type == REDIS_REPLY_STRING && e->len >= 1 && e->len <= 15;
            for (size_t k = 0; ok && k < e->len; k++)
                ok = e->str[k] >= '0' && e->str[k] <= '9';
            if (!ok) {
                GW_LOGE(LOG_CAT, "slot %s: a due set holds a bad member (ignored)", x->tag);
                x->st.errors++;
                continue;
            }
            struct xp_visit *v = calloc(1, sizeof(*v));
            if (!v) {
                x->st.errors++;
                continue;
            }
            v->x = x;
            memcpy(v->msisdn, e->str, e->len);
            memcpy(v->w.msisdn, e->str, e->len);
            memcpy(v->tag, x->tag, sizeof(v->tag));
            v->set_day = x->day;
            x->visits++;
            if (x->walk.visit)
                visit_other(v);
            else
                visit_run(v);
        }
        if (strcmp(x->cursor, "0") == 0) {
            x->day = gw_days_add(x->day, 1);
        }
        if (--x->visits == 0) {
            x->state = XP_SCAN;
            pass_step(x);
        }
        return;
    }
    case XP_RELEASE:
        next_slot(x);
        return;
    case XP_END:
        pass_end(x);
        return;
    default:
        return;
    }
}

static void pass_step(struct gw_expiry *x)
{
    char k[48], keys[64][48];
    const char *argv[72];
    int argc = 0;

    switch (x->state) {
    case XP_SLOT: {
        if (x->slot_i >= GW_SLOTS) {
            if (x->busy == 0 && x->failed == 0) {
                char d[16];
                snprintf(d, sizeof(d), "%08" PRId32, gw_days_add(x->today, -1));
                x->state = XP_END;
                const char *a[] = {"SET", x->walk.done_key, d};
                x->st.last_done = gw_days_add(x->today, -1);
                if (send_cmd(x, 3, a) == 0)
                    return;
            }
            pass_end(x);
            return;
        }
        if (x->chunk == 0 && quiet_now(x, gw_clock_now_ms() / 1000)) {
            /* quiet hours began during the pass: stop between slots (the sets keep the rest) */
            GW_LOGN(LOG_CAT, "quiet hours: pass stopped after %u slots", x->slot_i);
            x->failed++; /* not complete: lg:xj:done stays */
            pass_end(x);
            return;
        }
        gw_slot_tag((x->slot0 + x->slot_i) % GW_SLOTS, x->tag);
        if (x->chunk == 0)
            x->chunk = x->from;
        argv[argc++] = "EXISTS";
        for (int32_t d = x->chunk; d != 0 && d <= x->today && argc < 65; d = gw_days_add(d, 1)) {
            key_of(keys[argc - 1], sizeof(keys[0]), x->walk.idx, x->tag, d);
            argv[argc] = keys[argc - 1];
            argc++;
        }
        if (send_cmd(x, argc, argv) < 0) {
            /* Redis is away: end the pass here (the next one resumes from the sets) rather
             * than walk 16,384 slots through failing sends */
            x->st.errors++;
            x->failed++;
            GW_LOGE(LOG_CAT, "pass stopped at slot %s: Redis unavailable", x->tag);
            pass_end(x);
        }
        return;
    }
    case XP_CLAIM: {
        char ms[16];
        snprintf(k, sizeof(k), "lg:%s:%s", x->walk.claim, x->tag);
        snprintf(ms, sizeof(ms), "%" PRIu32, x->cfg.lease_ms);
        const char *a[] = {"SET", k, x->owner, "NX", "PX", ms};
        if (send_cmd(x, 6, a) < 0) {
            x->st.errors++;
            x->failed++;
            next_slot(x);
        }
        return;
    }
    case XP_SCAN: {
        char count[16], ms[16], ck[48];
        if (x->day == 0 || x->day > x->today) {
            x->state = XP_RELEASE;
            pass_step(x);
            return;
        }
        /* renew the claim with each batch (fire and forget: a lost claim only lets another
         * gateway do the same idempotent work) */
        snprintf(ck, sizeof(ck), "lg:%s:%s", x->walk.claim, x->tag);
        snprintf(ms, sizeof(ms), "%" PRIu32, x->cfg.lease_ms);
        const char *la[] = {ck, "LEASE", x->owner, ms};
        x_script(x, 1, 4, la, NULL, NULL);
        key_of(k, sizeof(k), x->walk.idx, x->tag, x->day);
        snprintf(count, sizeof(count), "%" PRIu32, x->cfg.batch);
        const char *a[] = {"SSCAN", k, x->cursor, "COUNT", count};
        if (send_cmd(x, 5, a) < 0)
            slot_error(x, "SSCAN", -ENOTCONN, NULL);
        return;
    }
    case XP_RELEASE: {
        char ck[48];
        snprintf(ck, sizeof(ck), "lg:%s:%s", x->walk.claim, x->tag);
        const char *la[] = {ck, "LEASE", x->owner, "0"};
        if (x_script(x, 1, 4, la, on_pass_reply, x) < 0)
            next_slot(x);
        return;
    }
    default:
        return;
    }
}

int gw_expiry_pass(struct gw_expiry *x, void (*done)(void *arg), void *arg)
{
    if (x->state != XP_IDLE)
        return -EBUSY;
    x->done = done;
    x->done_arg = arg;
    x->now = gw_clock_now_ms() / 1000;
    if (quiet_now(x, x->now)) {
        GW_LOGD(LOG_CAT, "quiet hours: no pass");
        x->st.running = true;
        pass_end(x);
        x->st.passes--; /* nothing was done */
        return 0;
    }
    x->today = gw_local_day(x->now);
    x->cut = gw_validity_cutoff(&x->params.validity, x->today);
    for (size_t k = 0; k < x->nlevels; k++)
        x->warn_cut[k] =
            gw_validity_cutoff(&x->params.validity, gw_days_add(x->today, (int32_t)x->levels[k]));
    x->slot0 = (unsigned)(gw_clock_mono_ms() ^ (int64_t)(uintptr_t)x) % GW_SLOTS;
    x->slot_i = 0;
    x->chunk = 0;
    x->busy = x->failed = 0;
    x->st.running = true;
    x->state = XP_DONE_GET;
    const char *a[] = {"GET", x->walk.done_key};
    if (send_cmd(x, 2, a) < 0) {
        x->st.errors++;
        pass_end(x);
    }
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gw_expiry *x = arg;

    (void)fd;
    (void)what;
    if (!gw_redis_is_connected(x->redis)) {
        /* Redis not up (the first pass is due at start, before the link is): a pass now would
         * fail at its first request, count an error and wait a whole pass_interval_s */
        struct timeval tv = {1, 0};
        event_add(x->timer, &tv);
        return;
    }
    if (gw_expiry_pass(x, NULL, NULL) < 0) {
        struct timeval tv = {(time_t)x->cfg.pass_interval_s, 0};
        event_add(x->timer, &tv);
    }
}

static const struct gw_walk_ops EXPIRY_WALK = {.idx = "xd", .claim = "xc", .done_key = "lg:xj:done"};

struct gw_expiry *gw_expiry_new(struct event_base *base, struct gw_redis *redis,
                                const struct gw_expiry_config *cfg,
                                const struct gw_expiry_params *params,
                                const struct gw_expiry_ops *ops, const char *owner)
{
    return gw_expiry_new_walk(base, redis, cfg, params, ops, &EXPIRY_WALK, owner);
}

struct gw_expiry *gw_expiry_new_walk(struct event_base *base, struct gw_redis *redis,
                                     const struct gw_expiry_config *cfg,
                                     const struct gw_expiry_params *params,
                                     const struct gw_expiry_ops *ops,
                                     const struct gw_walk_ops *walk, const char *owner)
{
    struct gw_expiry *x;
    int n;

    if (!base || !redis || !cfg || !params || !owner || strlen(owner) < 1 || strlen(owner) > 63 ||
        !walk || !walk->idx || !walk->claim || !walk->done_key)
        return NULL;
    x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->base = base;
    x->redis = redis;
    x->cfg = *cfg;
    if (x->cfg.batch == 0)
        x->cfg.batch = 64;
    x->params = *params;
    x->walk = *walk;
    if (ops)
        x->ops = *ops;
    snprintf(x->owner, sizeof(x->owner), "%s", owner);
    n = gw_expiry_parse_levels(cfg->warn_days, x->levels, GW_EXPIRY_LEVELS_MAX);
    if (n < 0)
        goto fail;
    x->nlevels = (size_t)n;
    x->script = gw_redis_script_add(redis, gw_lua_expire, gw_lua_expire_len);
    if (x->script < 0)
        goto fail;
    x->timer = evtimer_new(base, on_timer, x);
    if (!x->timer)
        goto fail;
    return x;
fail:
    free(x);
    return NULL;
}

int gw_expiry_start(struct gw_expiry *x)
{
    struct timeval tv = {0, 0};

    if (x->started)
        return -EALREADY;
    x->started = true;
    return event_add(x->timer, &tv) == 0 ? 0 : -ENOMEM;
}

void gw_expiry_set_params(struct gw_expiry *x, const struct gw_expiry_params *params)
{
    x->params = *params;
}

void gw_expiry_get_stats(const struct gw_expiry *x, struct gw_expiry_stats *out)
{
    *out = x->st;
}

void gw_expiry_stats_json(const struct gw_expiry_stats *st, FILE *out)
{
    fprintf(out, "{");
#define GW_X_JSON(name, help) fprintf(out, "\"%s\":%" PRIu64 ",", #name, st->name);
    GW_EXPIRY_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fprintf(out, "\"last_done\":%" PRId32 ",\"running\":%s}", st->last_done,
            st->running ? "true" : "false");
}

void gw_expiry_detach(struct gw_expiry *x)
{
    if (x)
        x->detached = true;
}

void gw_expiry_free(struct gw_expiry *x)
{
    if (!x)
        return;
    if (x->timer)
        event_free(x->timer);
    free(x);
}
