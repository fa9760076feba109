/*
 * wire_transfer.c - points transfer over USSD (wire_transfer.h): the USSD hook to gw_transfer, and
 * the two SMS of a transfer that went through.
 *
 * One struct xctx per hook call, freed after gw_transfer's callback (which fires exactly once).
 * One struct smsctx per recipient-language read (HGET lg:{to}:w lang), freed in its callback;
 * the sender's SMS needs no read: the dialogue's language is theirs.
 */
#include "wire_transfer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "gw_transfer.h"
#include "gw_zone.h"
#include "ussd.h"

#define LOG_CAT "transfer"
#define SMS_MAX 640

struct wire_transfer {
    struct gw_transfer *x;
    struct gw_redis *redis;
    struct gw_sms *sms;
    struct ussd_menus *const *menus;
    const struct gw_config *cfg;
};

struct xctx {
    struct wire_transfer *w;
    gw_ussd_xfer_cb done;
    void *cb_arg;
    bool set_pin;
    char from[16], to[16];
    int64_t points;
    char lang[USSD_LANG_MAX];
};

struct smsctx {
    struct wire_transfer *w;
    char to[16], from[16];
    int64_t points;
};

struct wire_transfer *wire_transfer_new(struct gw_transfer *x, struct gw_redis *redis,
                                        struct gw_sms *sms, struct ussd_menus *const *menus,
                                        const struct gw_config *cfg)
{
    struct wire_transfer *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    *w = (struct wire_transfer){x, redis, sms, menus, cfg};
    return w;
}

void wire_transfer_free(struct wire_transfer *w)
{
    free(w);
}

/* ---------------------------------------------------------------- the SMS of both sides */

/* The text `name` in lang (the menu file's, or built-in English) into out. 0 or < 0. */
static int xfer_text(const struct wire_transfer *w, const char *lang, const char *name,
                     const char *points, const char *party, char *out, size_t cap)
{
    const struct ussd_menus *m = w->menus ? *w->menus : NULL;
    bool sent = strcmp(name, "transfer_sent") == 0;
    size_t len;

    if (m && ussd_menus_has_xfer_sms(m)) {
        const struct ussd_sms_var vars[] = {
            {"transfer_points", points},
            {sent ? "recipient" : "sender", party},
        };
        return ussd_menus_sms_text(m, lang, name, vars, 2, out, cap, &len);
    }
    if (sent)
        snprintf(out, cap, "Loyalty Club: you sent %s points to %s.", points, party);
    else
        snprintf(out, cap, "Loyalty Club: %s sent you %s points.", party, points);
    return 0;
}

static void send_one(struct wire_transfer *w, const char *to, const char *lang, const char *name,
                     const char *points, const char *party)
{
    char text[SMS_MAX];

    if (xfer_text(w, lang, name, points, party, text, sizeof(text)) < 0 ||
        gw_sms_send(w->sms, to, text, strlen(text), NULL, NULL) < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "%s SMS to ...%s not sent", name,
               strlen(to) > 4 ? to + strlen(to) - 4 : to);
}

static void on_recipient_lang(void *arg, int err, const redisReply *reply)
{
    struct smsctx *c = arg;
    char lang[USSD_LANG_MAX] = "", pts[24];

    /* no saved language (or Redis failed): the menu file's default, as the fulfilment texts */
    if (err == 0 && reply && reply->type == REDIS_REPLY_STRING && reply->len < sizeof(lang))
        memcpy(lang, reply->str, reply->len + 1);
    snprintf(pts, sizeof(pts), "%" PRId64, c->points);
    if (c->w->sms)
        send_one(c->w, c->to, lang, "transfer_received", pts, c->from);
    free(c);
}

/* Both SMS of a transfer that went through: the sender's in the dialogue's language now, the
 * recipient's once their saved language is read. Best effort: a lost SMS undoes nothing. */
static void notify(struct wire_transfer *w, const struct xctx *q)
{
    char pts[24], masked[USSD_MSISDN_MAX], key[40];
    struct smsctx *c;

    if (!w->sms)
        return;
    snprintf(pts, sizeof(pts), "%" PRId64, q->points);
    ussd_mask_number(q->to, masked, sizeof(masked));
    send_one(w, q->from, q->lang, "transfer_sent", pts, masked);
    if (!(c = calloc(1, sizeof(*c))))
        return;
    c->w = w;
    snprintf(c->to, sizeof(c->to), "%s", q->to);
    snprintf(c->from, sizeof(c->from), "%s", q->from);
    c->points = q->points;
    snprintf(key, sizeof(key), "lg:{%s}:w", q->to);
    const char *argv[] = {"HGET", key, "lang"};
    size_t lens[] = {4, strlen(key), 4};
    if (gw_redis_command(w->redis, 3, argv, lens, on_recipient_lang, c) < 0)
        on_recipient_lang(c, -EIO, NULL);
}

/* ---------------------------------------------------------------- the hook */

/* The outcome as the menu file names it (USSD_XFER_OUTCOMES; "ok"). */
static const char *outcome_of(enum gw_transfer_outcome o)
{
    return o == GW_XFER_NOT_MEMBER ? "not_member" : gw_transfer_outcome_name(o);
}

static void on_result(void *arg, int err, const struct gw_transfer_result *res)
{
    struct xctx *q = arg;
    char until[USSD_VALUE_MAX] = "";
    int64_t n = -1;
    const char *outcome = NULL;

    if (err == 0 && res) {
        outcome = outcome_of(res->outcome);
        if (res->outcome == GW_XFER_LOCKED || res->outcome == GW_XFER_FROZEN) {
            struct cat_tm tm;
            if (gw_zone_localtime(res->until, &tm) == 0)
                snprintf(until, sizeof(until), "%02d/%02d %02d:%02d", tm.day, tm.mon, tm.hour,
                         tm.min);
        } else if (res->outcome != GW_XFER_OK && res->outcome != GW_XFER_PENDING &&
                   res->outcome != GW_XFER_NOPIN && res->outcome != GW_XFER_BLOCKED &&
                   res->outcome != GW_XFER_NOT_MEMBER) {
            n = res->n;
        }
        /* a debited transfer whose credit is the sweeper's now went through all the same */
        if (!q->set_pin && (res->outcome == GW_XFER_OK || res->outcome == GW_XFER_PENDING))
            notify(q->w, q);
    }
    q->done(q->cb_arg, err, outcome, n, until);
    free(q);
}

/* The transfer id's token: one per dialogue (FNV-1a of the session key and its start). */
static void dialogue_token(const char *key, int64_t started_ms, char out[24])
{
    uint64_t h = 1469598103934665603ULL;
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "%s|%" PRId64, key ? key : "", started_ms);

    for (int i = 0; i < n && i < (int)sizeof(buf); i++) {
        h ^= (unsigned char)buf[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 24, "u%016" PRIx64, h);
}

int wire_transfer_ussd(void *arg, const struct gw_ussd_xfer_req *req, gw_ussd_xfer_cb done,
                       void *cb_arg)
{
    struct wire_transfer *w = arg;
    int64_t now = gw_clock_now_ms() / 1000;
    struct xctx *q;
    int rc;

    if (!w || !req || !done || !req->msisdn || !req->pin)
        return -EINVAL;
    if (!(q = calloc(1, sizeof(*q))))
        return -ENOMEM;
    q->w = w;
    q->done = done;
    q->cb_arg = cb_arg;
    q->set_pin = req->set_pin;
    snprintf(q->from, sizeof(q->from), "%s", req->msisdn);
    snprintf(q->to, sizeof(q->to), "%s", req->to ? req->to : "");
    q->points = req->points;
    snprintf(q->lang, sizeof(q->lang), "%s", req->lang ? req->lang : "");
    if (req->set_pin) {
        rc = gw_transfer_pin_set(w->x, req->msisdn,
                                 req->old_pin && req->old_pin[0] ? req->old_pin : NULL, req->pin,
                                 now, on_result, q);
    } else {
        char token[24];
        int32_t today = gw_local_day(now);
        struct gw_validity v = {w->cfg->loyalty.points_validity_days,
                                w->cfg->loyalty.points_validity_months};
        dialogue_token(req->session_key, req->started_ms, token);
        rc = gw_transfer_send(w->x, req->msisdn, q->to, req->points, req->pin, strlen(req->pin),
                              token, today, gw_validity_cutoff(&v, today), now, on_result, q);
    }
    if (rc < 0)
        free(q);
    return rc;
}
