/*
 * gw_sms.c - plain SMS out (UDH-concatenated when long) and the MO balance keyword (gw_sms.h).
 * Owner: the USSD-wiring engineer (issue 3).
 *
 * One send = one struct send_ctx counting its parts: every part is queued at once (the link
 * paces them with its TPS bucket and window), each part's callback decrements the count, and the
 * last one reports to the caller. A part that cannot even be queued after earlier parts were
 * counts as failed; the caller still hears exactly once. The UDH reference is a per-process
 * counter: two long SMS to one subscriber within 256 messages never share it.
 */
#include "gw_sms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_redis.h"
#include "gw_wallet.h"

#define LOG_CAT "sms"
#define MO_TEXT_MAX 256 /* bytes of decoded MO text kept: a keyword is short */

struct gw_sms {
    struct smpp_esme *esme;
    const struct gw_config *cfg;
    struct gw_redis *redis; /* NULL once detached */
    struct ussd_menus *const *menus;
    struct gw_sms_stats stats;
    uint8_t next_ref;
};

struct send_ctx {
    struct gw_sms *s;
    gw_sms_cb cb;
    void *arg;
    unsigned outstanding;
    int err;
};

/* ---------------------------------------------------------------- sending */

static void part_done(void *arg, int err, uint32_t status, const char *message_id)
{
    struct send_ctx *c = arg;
    struct gw_sms *s = c->s;

    (void)message_id;
    if (c->err == 0 && err < 0)
        c->err = err;
    else if (c->err == 0 && status != SMPP_ROK)
        c->err = -EPROTO;
    if (--c->outstanding > 0)
        return;
    if (c->err == 0)
        s->stats.sent++;
    else
        s->stats.failed++;
    if (c->cb)
        c->cb(c->arg, c->err);
    free(c);
}

static bool valid_msisdn(const char *to)
{
    const char *d = to && to[0] == '+' ? to + 1 : to;
    size_t n = d ? strnlen(d, 21) : 0;

    return n >= 1 && n <= 20 && strspn(d, "0123456789") == n;
}

int gw_sms_send(struct gw_sms *s, const char *to, const char *utf8, size_t len, gw_sms_cb cb,
                void *arg)
{
    struct smpp_text_sms_part *parts = NULL;
    struct smpp_sm *sm = NULL;
    struct send_ctx *c = NULL;
    size_t n = 0;
    int rc;

    if (!s || !valid_msisdn(to) || !utf8 || len == 0)
        return -EINVAL;
    parts = calloc(GW_SMS_MAX_PARTS, sizeof(*parts));
    sm = calloc(1, sizeof(*sm));
    c = calloc(1, sizeof(*c));
    if (!parts || !sm || !c) {
        rc = -ENOMEM;
        goto out;
    }
    rc = smpp_text_sms_split(utf8, len, &s->cfg->ussd.text, s->next_ref, parts, GW_SMS_MAX_PARTS,
                             &n);
    if (rc < 0)
        goto out;
    s->next_ref++;
    c->s = s;
    c->cb = cb;
    c->arg = arg;
    snprintf(sm->src_addr, sizeof(sm->src_addr), "%s", s->cfg->sms.short_code);
    snprintf(sm->dst_addr, sizeof(sm->dst_addr), "%s", to);
    sm->dst_ton = to[0] == '+' ? 1 : 0;
    sm->dst_npi = 1;
    /* hold one count while queueing, so an early answer cannot finish the send half-way */
    c->outstanding = 1;
    for (size_t i = 0; i < n; i++) {
        sm->esm_class = parts[i].esm_class;
        sm->data_coding = parts[i].data_coding;
        memcpy(sm->text, parts[i].data, parts[i].len);
        sm->text_len = parts[i].len;
        sm->text[sm->text_len] = 0;
        c->outstanding++;
        int src = smpp_esme_submit(s->esme, sm, part_done, c);
        if (src < 0) {
            c->outstanding--;
            if (i == 0) {
                rc = src; /* nothing queued: the caller hears it now, cb never fires */
                goto out;
            }
            if (c->err == 0)
                c->err = src;
            break;
        }
        s->stats.parts++;
    }
    c->outstanding--;
    if (c->outstanding == 0) {
        /* every queued part was already answered? never: callbacks come from the loop */
        part_done(c, c->err, SMPP_ROK, NULL);
    }
    c = NULL;
    rc = 0;
out:
    free(parts);
    free(sm);
    free(c);
    return rc;
}

/* ---------------------------------------------------------------- MO keywords */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static char fold(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

int gw_sms_is_keyword(const struct gw_config *cfg, const char *text, size_t len)
{
    size_t b = 0, e = len;

    while (b < e && is_space(text[b]))
        b++;
    while (e > b && is_space(text[e - 1]))
        e--;
    for (unsigned k = 0; k < cfg->sms.n_keywords; k++) {
        const char *kw = cfg->sms.keywords[k];
        size_t kl = strlen(kw), i;

        if (kl != e - b)
            continue;
        /* Latin letters fold to upper case; Arabic script has no case and compares bytewise */
        for (i = 0; i < kl && fold(kw[i]) == fold(text[b + i]); i++)
            ;
        if (i == kl)
            return 1;
    }
    return 0;
}

struct mo_ctx {
    struct gw_sms *s;
    char to[21];
};

static void balance_sent(void *arg, int err)
{
    char mask[GW_MASK_LEN];
    const char *to = arg;

    if (err < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} balance SMS not delivered: %s",
               gw_mask_msisdn(to, mask), strerror(-err));
    free(arg);
}

static void on_wallet(void *arg, int err, const redisReply *reply)
{
    struct mo_ctx *c = arg;
    struct gw_sms *s = c->s;
    struct gw_wallet_view v;
    struct ussd_env env;
    char text[2048], mask[GW_MASK_LEN];
    size_t len = 0;
    int rc;

    gw_mask_msisdn(c->to, mask);
    if (err < 0 || reply->type == REDIS_REPLY_ERROR || !*s->menus) {
        /* an SMS has no "try later" screen: say nothing rather than a wrong balance */
        s->stats.mo_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} balance request: store unavailable (%s)", mask,
               err < 0 ? strerror(-err) : "error reply");
        goto out;
    }
    gw_wallet_view_parse_validity(&v, reply, NULL,
                                  &(struct gw_validity){s->cfg->loyalty.points_validity_days,
                                                        s->cfg->loyalty.points_validity_months},
                                  gw_local_day(gw_clock_now_ms() / 1000));
    env = (struct ussd_env){
        .cfg = &s->cfg->ussd, .menus = *s->menus, .sub = &gw_wallet_ussd_ops, .sub_arg = &v};
    rc = ussd_engine_text(&env, v.lang, "balance", text, sizeof(text), &len);
    if (rc < 0) {
        s->stats.mo_failed++;
        gw_log(GW_LOG_ERROR, LOG_CAT, "sms{%s} balance text: %s (menu file has no sms.balance?)",
               mask, strerror(-rc));
        goto out;
    }
    char *to = strdup(c->to);
    if (!to || (rc = gw_sms_send(s, c->to, text, len, balance_sent, to)) < 0) {
        s->stats.mo_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} balance SMS not sent: %s", mask,
               strerror(to ? -rc : ENOMEM));
        free(to);
        goto out;
    }
    gw_log(GW_LOG_INFO, LOG_CAT, "sms{%s} balance sent (%zu bytes, lang %s)", mask, len,
           v.lang[0] ? v.lang : ussd_menus_default_lang(*s->menus));
out:
    free(c);
}

void gw_sms_on_mo(void *arg, struct smpp_esme *e, const struct smpp_sm *sm)
{
    struct gw_sms *s = arg;
    char text[MO_TEXT_MAX], wkey[40], mask[GW_MASK_LEN];
    size_t len = 0;
    struct mo_ctx *c;

    (void)e;
    s->stats.mo_in++;
    if (strcmp(sm->dst_addr, s->cfg->sms.short_code) != 0 || !valid_msisdn(sm->src_addr)) {
        s->stats.mo_ignored++;
        return;
    }
    /* untrusted bytes in any coding; a truncated text is too long to be a keyword anyway */
    if (smpp_text_decode(sm->text, sm->text_len, sm->data_coding, &s->cfg->ussd.text, text,
                         sizeof(text), &len) < 0 ||
        !gw_sms_is_keyword(s->cfg, text, len)) {
        s->stats.mo_ignored++;
        GW_LOGD(LOG_CAT, "sms{%s} MO SMS is no keyword: ignored",
                gw_mask_msisdn(sm->src_addr, mask));
        return;
    }
    s->stats.mo_keyword++;
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->s = s;
    snprintf(c->to, sizeof(c->to), "%s", sm->src_addr);
    snprintf(wkey, sizeof(wkey), "lg:{%s}:w",
             sm->src_addr[0] == '+' ? sm->src_addr + 1 : sm->src_addr);
    const char *argv[] = {"HGETALL", wkey};
    size_t lens[] = {7, strlen(wkey)};
    int rc = s->redis ? gw_redis_command(s->redis, 2, argv, lens, on_wallet, c) : -ENOTCONN;
    if (rc < 0) {
        s->stats.mo_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} balance request: store unavailable (%s)",
               gw_mask_msisdn(c->to, mask), strerror(-rc));
        free(c);
    }
}

/* ---------------------------------------------------------------- life cycle */

struct gw_sms *gw_sms_new(struct smpp_esme *esme, const struct gw_config *cfg,
                          struct gw_redis *redis, struct ussd_menus *const *menus)
{
    struct gw_sms *s;

    if (!esme || !cfg || !menus)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->esme = esme;
    s->cfg = cfg;
    s->redis = redis;
    s->menus = menus;
    return s;
}

void gw_sms_detach(struct gw_sms *s)
{
    if (s)
        s->redis = NULL;
}

void gw_sms_get_stats(const struct gw_sms *s, struct gw_sms_stats *out)
{
    *out = s->stats;
}

void gw_sms_stats_json(const struct gw_sms_stats *st, FILE *out)
{
    int first = 1;

    fputc('{', out);
#define GW_X_JSON(name, help)                                                                      \
    fprintf(out, "%s\"%s\":%llu", first ? "" : ",", #name, (unsigned long long)st->name);          \
    first = 0;
    GW_SMS_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fputc('}', out);
}

void gw_sms_free(struct gw_sms *s)
{
    free(s);
}
