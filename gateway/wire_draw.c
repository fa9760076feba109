/*
 * wire_draw.c - the gateway's draw job (wire_draw.h): the timer, the winners' SMS and the audit
 * record of each draw this gateway published. The draw itself, its once-only publication and
 * the roll-down are cat_draw_tick's (catalog/cat_draw_run.c, lua/draw.lua).
 *
 * The winners' SMS come from the draw's outbox (catalog.h CAT_DRAW_SMS_*): this gateway sends
 * the entries its round claimed, through gw_sms (the link's TPS bucket and window), and removes
 * each one only once the SMSC accepted it - at least once across crashes and gateways.
 *
 * Ownership: struct wire_draw owns its timer; each SMS or audit write owns a small context
 * (struct dw_send) freed when its last reply came. Contexts point at the job: free it after
 * Redis and the SMPP link (main.c), whose teardown fails what is still in flight.
 */
#include "wire_draw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "catalog.h"
#include "gw_core.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "wire_catalog.h"

#define LOG_CAT "draw"

struct wire_draw {
    struct event_base *base;
    struct gw_redis *redis;
    struct wire_catalog *cat;
    struct gw_sms *sms;
    struct event *ev;
    char code[32];
    bool round_running;
    unsigned pending; /* SMS and audit writes in flight */
    void (*cb)(void *arg, int err);
    void *cb_arg;
    int err;
    struct wire_draw_stats st;
};

/* {item} {deadline} and the code to dial. The programme's four languages. */
static const struct {
    const char *lang, *fmt;
} TEXTS[] = {
    {"ar", "نادي الوفاء: ربحت %s في القرعة! اطلبها قبل %s: اطلب *%s#"},
    {"fr", "Club Fidélité : vous avez gagné %s au tirage ! À réclamer avant %s : composez *%s#"},
    {"en", "Loyalty Club: you won %s in the draw! Claim it by %s: dial *%s#"},
    {"fa", "باشگاه وفاداری: شما %s را در قرعه‌کشی بردید! تا %s "
           "دریافت "
           "کنید: "
           "*%s#"},
};
#define N_TEXTS (sizeof(TEXTS) / sizeof(TEXTS[0]))

int wire_draw_sms_text(const char *lang, const char *item, const char *deadline,
                       const char *service_code, char *out, size_t cap)
{
    size_t k = 2; /* English */
    int n;

    for (size_t i = 0; lang && i < N_TEXTS; i++)
        if (strcmp(TEXTS[i].lang, lang) == 0)
            k = i;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = snprintf(out, cap, TEXTS[k].fmt, item ? item : "", deadline ? deadline : "",
                 service_code ? service_code : "");
#pragma GCC diagnostic pop
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -ENOSPC;
    }
    return n;
}

static void maybe_done(struct wire_draw *d)
{
    if (d->round_running || d->pending > 0 || !d->cb)
        return;
    void (*cb)(void *, int) = d->cb;
    d->cb = NULL;
    cb(d->cb_arg, d->err);
}

/* ---------------------------------------------------------------- the winner's SMS */

/* One outbox entry this process claimed (cat_draw_hooks.offer): the wallet's language and
 * block, the SMS, then cat_draw_sent once the SMSC accepted it. On any failure the entry stays
 * claimed: the next round of any gateway sends it once the lease has run out. */
struct dw_send {
    struct wire_draw *d;
    char msisdn[24], item[CAT_ID_MAX];
    int32_t day;
    int64_t deadline;
    bool skipped; /* a blocked wallet: dropped without an SMS */
};

static void send_end(struct dw_send *s, int err)
{
    struct wire_draw *d = s->d;

    if (err < 0)
        d->st.sms_failed++;
    else if (s->skipped)
        d->st.sms_skipped++;
    else
        d->st.sms_sent++;
    free(s);
    d->pending--;
    maybe_done(d);
}

static void on_unqueued(void *arg, int err)
{
    struct dw_send *s = arg;
    char mask[GW_MASK_LEN];

    if (err < 0) /* sent, but the entry stays: a second SMS after the lease (at least once) */
        GW_LOGE(LOG_CAT, "draw{%s} %s: the SMS went but its outbox entry stays: %s",
                gw_mask_msisdn(s->msisdn, mask), s->item, strerror(-err));
    send_end(s, err == -ECANCELED ? err : 0);
}

/* The SMS is out (or needs none): the outbox entry goes. */
static void unqueue(struct dw_send *s)
{
    struct cat_redeem *r = wire_catalog_redeem(s->d->cat);
    int rc = r ? cat_draw_sent(r, s->item, s->day, s->msisdn, on_unqueued, s) : -ENOTCONN;
    if (rc < 0)
        on_unqueued(s, rc);
}

static void on_sent(void *arg, int err)
{
    char mask[GW_MASK_LEN];
    struct dw_send *s = arg;

    if (err < 0) {
        GW_LOGN(LOG_CAT, "draw{%s} %s: the winner's SMS failed (again after the lease): %s",
                gw_mask_msisdn(s->msisdn, mask), s->item, strerror(-err));
        send_end(s, err);
        return;
    }
    unqueue(s);
}

/* The wallet's saved language and block came (or not: the text goes in English). */
static void on_wallet(void *arg, int err, const struct redisReply *reply)
{
    struct dw_send *s = arg;
    char lang[8] = "en", when[48], text[400], mask[GW_MASK_LEN];
    int rc;

    if (err == -ECANCELED) { /* shutting down: the catalogue may be gone */
        send_end(s, err);
        return;
    }
    if (err == 0 && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        const struct redisReply *l = reply->element[0], *b = reply->element[1];
        if (l->type == REDIS_REPLY_STRING && l->len < sizeof(lang))
            snprintf(lang, sizeof(lang), "%s", l->str);
        if (b->type == REDIS_REPLY_STRING && strcmp(b->str, "1") == 0) {
            /* a blocked wallet gets no SMS from us (as the broadcast): nothing to claim either */
            GW_LOGN(LOG_CAT, "draw{%s} %s: blocked, no SMS", gw_mask_msisdn(s->msisdn, mask),
                    s->item);
            s->skipped = true;
            unqueue(s);
            return;
        }
    }
    struct cat_catalog *c = cat_store_current(wire_catalog_store(s->d->cat));
    const struct cat_item *it = c ? cat_catalog_find(c, s->item) : NULL;
    enum cat_lang l = CAT_LANG_EN;
    for (int k = 0; k < CAT_LANG__COUNT; k++)
        if (strcmp(lang, cat_lang_name((enum cat_lang)k)) == 0)
            l = (enum cat_lang)k;
    wire_catalog_format_local(s->d->cat, s->deadline, lang, when, sizeof(when));
    rc = wire_draw_sms_text(lang, it && it->name[l] ? it->name[l] : s->item, when, s->d->code, text,
                            sizeof(text));
    cat_catalog_unref(c);
    if (rc < 0 || !s->d->sms ||
        (rc = gw_sms_send(s->d->sms, s->msisdn, text, strlen(text), on_sent, s)) < 0) {
        GW_LOGN(LOG_CAT, "draw{%s} %s: the winner's SMS not sent (again after the lease): %s",
                gw_mask_msisdn(s->msisdn, mask), s->item, rc < 0 ? strerror(-rc) : "no SMS link");
        send_end(s, rc < 0 ? rc : -ENOTCONN);
        return;
    }
    GW_LOGI(LOG_CAT, "draw{%s} %s: offered, claim by %s", gw_mask_msisdn(s->msisdn, mask), s->item,
            when);
}

static void hook_offer(void *arg, const struct cat_draw_offer *o)
{
    struct wire_draw *d = arg;
    struct dw_send *s = calloc(1, sizeof(*s));
    char key[48];

    d->st.offers++;
    if (!s) {
        d->st.sms_failed++;
        return;
    }
    s->d = d;
    snprintf(s->msisdn, sizeof(s->msisdn), "%s", o->msisdn);
    snprintf(s->item, sizeof(s->item), "%s", o->item);
    s->day = o->day;
    s->deadline = o->deadline;
    snprintf(key, sizeof(key), "lg:{%.20s}:w", o->msisdn);
    d->pending++;
    if (gw_redis_commandf(d->redis, on_wallet, s, "HMGET %s lang blocked", key) < 0)
        on_wallet(s, -ENOTCONN, NULL);
}

/* ---------------------------------------------------------------- the audit record */

static void on_audit(void *arg, int err, const struct redisReply *reply)
{
    struct wire_draw *d = arg;

    if (err < 0 || !reply || reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(LOG_CAT, "the draw's audit record was not written: %s",
                err < 0 ? strerror(-err) : "unexpected reply");
        if (d->err == 0)
            d->err = err < 0 ? err : -EPROTO;
    }
    d->pending--;
    maybe_done(d);
}

static void hook_published(void *arg, const struct cat_draw_published *p)
{
    struct wire_draw *d = arg;
    char at[24], target[CAT_ID_MAX + 12];

    d->st.published++;
    snprintf(at, sizeof(at), "%" PRId64, gw_clock_now_ms());
    snprintf(target, sizeof(target), "%s:%08" PRId32, p->item, p->day);
    d->pending++;
    if (gw_redis_commandf(d->redis, on_audit, d,
                          "XADD adm:{adm}:audit * at %s who %s role %s ip - what %s target %s "
                          "before %s after %s req %s",
                          at, "gateway", "system", "draw.run", target, "{}", p->audit_json, "") < 0)
        on_audit(d, -ENOTCONN, NULL);
}

/* ---------------------------------------------------------------- rounds */

static void on_round(void *arg, int err)
{
    struct wire_draw *d = arg;

    d->round_running = false;
    if (err < 0 && err != -ECANCELED) {
        GW_LOGN(LOG_CAT, "draw round: %s (again in %d s)", strerror(-err),
                WIRE_DRAW_PERIOD_MS / 1000);
        if (d->err == 0)
            d->err = err;
    }
    maybe_done(d);
}

static int start_round(struct wire_draw *d, int64_t now)
{
    struct cat_redeem *r = wire_catalog_redeem(d->cat);
    /* without an SMS link this gateway leaves the outbox to one that has one */
    struct cat_draw_hooks hooks = {
        .offer = d->sms ? hook_offer : NULL, .published = hook_published, .arg = d};
    int rc;

    if (d->round_running || !r)
        return -EBUSY;
    d->err = 0;
    d->st.rounds++;
    d->round_running = true;
    rc = cat_draw_tick(r, now, &hooks, on_round, d);
    if (rc < 0)
        d->round_running = false;
    return rc;
}

int wire_draw_round(struct wire_draw *d, int64_t now, void (*cb)(void *arg, int err), void *arg)
{
    if (!d || !cb || d->cb)
        return -EINVAL;
    int rc = start_round(d, now);
    if (rc < 0)
        return rc;
    d->cb = cb;
    d->cb_arg = arg;
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct wire_draw *d = arg;
    (void)fd;
    (void)what;
    if (gw_redis_is_connected(d->redis))
        (void)start_round(d, gw_clock_now_ms() / 1000);
}

struct wire_draw *wire_draw_new(struct event_base *base, struct gw_redis *redis,
                                struct wire_catalog *cat, struct gw_sms *sms,
                                const struct gw_config *cfg)
{
    struct wire_draw *d;
    struct timeval tv = {WIRE_DRAW_PERIOD_MS / 1000, (WIRE_DRAW_PERIOD_MS % 1000) * 1000};

    if (!base || !redis || !cat || !cfg)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->base = base;
    d->redis = redis;
    d->cat = cat;
    d->sms = sms;
    snprintf(d->code, sizeof(d->code), "%.20s", cfg->ussd.service_code);
    d->ev = event_new(base, -1, EV_PERSIST, on_timer, d);
    if (!d->ev || event_add(d->ev, &tv) < 0) {
        wire_draw_free(d);
        return NULL;
    }
    return d;
}

void wire_draw_get_stats(const struct wire_draw *d, struct wire_draw_stats *out)
{
    *out = d->st;
}

void wire_draw_free(struct wire_draw *d)
{
    if (!d)
        return;
    if (d->ev)
        event_free(d->ev);
    free(d);
}
