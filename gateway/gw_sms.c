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

#include "gw_broadcast.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_redis.h"
#include "gw_wallet.h"

#define LOG_CAT "sms"
/* bytes of decoded MO text kept: a keyword is short, but an idea is a whole SMS (160 GSM-7
 * characters are up to 480 bytes of UTF-8; a message_payload up to 1024 octets, ~1.5 KB) */
#define MO_TEXT_MAX 2048

struct gw_sms {
    struct smpp_esme *esme;
    const struct gw_config *cfg;
    struct gw_redis *redis; /* NULL once detached */
    struct ussd_menus *const *menus;
    struct gw_sms_stats stats;
    uint8_t next_ref;
    gw_sms_suggest_fn suggest; /* the suggestion box (NULL: ideas ignored) */
    void *suggest_arg;
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

/* Latin-1 letters U+00C0..U+00FF (UTF-8 C3 80..C3 BF) without their accent, upper case; 0 keeps
 * the character as it is (x, ÷, ß, Æ, ...). */
static const char latin1_base[65] = "AAAAAA\0CEEEEIIII\0NOOOOO\0OUUUUY\0\0"
                                    "AAAAAA\0CEEEEIIII\0NOOOOO\0OUUUUY\0Y";

size_t gw_sms_keyword_fold(const char *text, size_t len, char *out, size_t cap)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t b = 0, e = len, n = 0, i;

    while (b < e && is_space(text[b]))
        b++;
    while (e > b && is_space(text[e - 1]))
        e--;
    for (i = b; i < e && n < cap; i++) {
        unsigned char c = t[i];
        if (c >= 'a' && c <= 'z') {
            out[n++] = (char)(c - 'a' + 'A');
        } else if (c == 0xC3 && i + 1 < e && t[i + 1] >= 0x80 && t[i + 1] <= 0xBF &&
                   latin1_base[t[i + 1] - 0x80]) {
            out[n++] = latin1_base[t[i + 1] - 0x80];
            i++;
        } else if (c == 0xD9 && i + 1 < e &&
                   (t[i + 1] == 0x80 || (t[i + 1] >= 0x8B && t[i + 1] <= 0x9F) ||
                    t[i + 1] == 0xB0)) {
            i++; /* Arabic tatweel U+0640, harakat U+064B..U+065F, superscript alef U+0670 */
        } else if (c == 0xE2 && i + 2 < e && t[i + 1] == 0x80 &&
                   (t[i + 2] == 0x8C || t[i + 2] == 0x8D)) {
            i += 2; /* ZWNJ / ZWJ (Persian typing) */
        } else {
            out[n++] = (char)c;
        }
    }
    return i < e ? cap + 1 : n; /* cap + 1: too long to be any keyword */
}

int gw_sms_keyword_in(const char (*list)[GW_SMS_KEYWORD_MAX], unsigned n, const char *text,
                      size_t len)
{
    char t[GW_SMS_KEYWORD_MAX], k[GW_SMS_KEYWORD_MAX];
    size_t tl = gw_sms_keyword_fold(text, len, t, sizeof(t));

    if (tl == 0 || tl > sizeof(t))
        return 0;
    for (unsigned i = 0; i < n; i++) {
        size_t kl =
            gw_sms_keyword_fold(list[i], strnlen(list[i], GW_SMS_KEYWORD_MAX), k, sizeof(k));
        if (kl == tl && memcmp(k, t, tl) == 0)
            return 1;
    }
    return 0;
}

int gw_sms_is_keyword(const struct gw_config *cfg, const char *text, size_t len)
{
    return gw_sms_keyword_in(cfg->sms.keywords, cfg->sms.n_keywords, text, len);
}

enum gw_sms_mo_kind gw_sms_mo_classify(const struct gw_config *cfg, const char *text, size_t len)
{
    if (gw_sms_keyword_in(cfg->sms.stop_keywords, cfg->sms.n_stop_keywords, text, len))
        return GW_SMS_MO_STOP;
    if (gw_sms_keyword_in(cfg->sms.start_keywords, cfg->sms.n_start_keywords, text, len))
        return GW_SMS_MO_START;
    if (gw_sms_keyword_in(cfg->sms.alerts_off_keywords, cfg->sms.n_alerts_off_keywords, text, len))
        return GW_SMS_MO_ALERTS_OFF;
    if (gw_sms_keyword_in(cfg->sms.alerts_on_keywords, cfg->sms.n_alerts_on_keywords, text, len))
        return GW_SMS_MO_ALERTS_ON;
    if (gw_sms_is_keyword(cfg, text, len))
        return GW_SMS_MO_BALANCE;
    size_t rest;
    if (gw_sms_keyword_prefix(cfg->sms.suggest_keywords, cfg->sms.n_suggest_keywords, text, len,
                              &rest))
        return GW_SMS_MO_SUGGEST;
    return GW_SMS_MO_NONE;
}

static bool word_end(char ch)
{
    return is_space(ch) || ch == ':';
}

int gw_sms_keyword_prefix(const char (*list)[GW_SMS_KEYWORD_MAX], unsigned n, const char *text,
                          size_t len, size_t *rest)
{
    size_t b = 0, e;

    while (b < len && is_space(text[b]))
        b++;
    for (e = b; e < len && !word_end(text[e]); e++)
        ;
    if (e == b || !gw_sms_keyword_in(list, n, text + b, e - b))
        return 0;
    while (e < len && word_end(text[e]))
        e++;
    *rest = e;
    return 1;
}

void gw_sms_set_suggest_hook(struct gw_sms *s, gw_sms_suggest_fn fn, void *arg)
{
    s->suggest = fn;
    s->suggest_arg = arg;
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

/* ---------------------------------------------------------------- consent (STOP / START) */

/* Built-in confirmations for a menu file without sms.<lang>.opted_out / opted_in / alerts_off /
 * alerts_on; indexed by the switch and the new state */
static const char *const consent_builtin[2][2] = {
    {"You will no longer receive marketing SMS. Send START to %s to get them again.",
     "You will receive marketing SMS again. Send STOP to %s to stop them."},
    {"You will no longer receive warnings before your points expire. Send START ALERTS to %s to "
     "get them again.",
     "You will receive warnings before your points expire again. Send STOP ALERTS to %s to stop "
     "them."},
};
static const char *const consent_text[2][2] = {{"opted_out", "opted_in"},
                                               {"alerts_off", "alerts_on"}};

/* The two switches of the consent record: marketing SMS (the reminder audience and the record's
 * "optin"), and the points-expiry warnings (the record's "alerts" only: no audience set) */
enum consent_switch { CONSENT_MARKETING, CONSENT_ALERTS };

struct consent_ctx {
    struct gw_sms *s;
    enum consent_switch sw;
    bool in;      /* START / alerts on */
    int pending;  /* replies still expected */
    bool set_ok;  /* the audience change was applied */
    bool rec_ok;  /* the consent record was written */
    char lang[8]; /* the wallet's saved language, "" when none */
    char to[21];  /* as the SMSC sent it */
    char digits[21];
};

static void consent_sent(void *arg, int err)
{
    char mask[GW_MASK_LEN];
    char *to = arg;

    if (err < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} consent confirmation not delivered: %s",
               gw_mask_msisdn(to, mask), strerror(-err));
    free(to);
}

static void consent_confirm(struct consent_ctx *c)
{
    struct gw_sms *s = c->s;
    char text[1024], mask[GW_MASK_LEN];
    size_t len = 0;
    int rc = -ENOENT;

    gw_mask_msisdn(c->to, mask);
    if (*s->menus) {
        struct ussd_env env = {.cfg = &s->cfg->ussd, .menus = *s->menus};
        rc = ussd_engine_text(&env, c->lang, consent_text[c->sw][c->in], text, sizeof(text),
                              &len);
    }
    if (rc < 0) {
        int n = snprintf(text, sizeof(text), consent_builtin[c->sw][c->in], s->cfg->sms.short_code);
        len = n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0;
    }
    char *to = strdup(c->to);
    if (!to || len == 0 || (rc = gw_sms_send(s, c->to, text, len, consent_sent, to)) < 0) {
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} consent confirmation not sent: %s", mask,
               strerror(to && len ? -rc : ENOMEM));
        free(to);
    }
}

static void consent_step_done(struct consent_ctx *c)
{
    static const char *const what[2][2] = {{"opt-out", "opt-in"}, {"alerts off", "alerts on"}};
    struct gw_sms *s = c->s;
    char mask[GW_MASK_LEN];

    if (--c->pending > 0)
        return;
    gw_mask_msisdn(c->to, mask);
    if (c->sw == CONSENT_ALERTS)
        c->set_ok = c->rec_ok; /* the record is the switch itself */
    if (!c->set_ok) {
        /* nothing changed: a confirmation would lie; the subscriber may send it again */
        s->stats.mo_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} %s by SMS: store unavailable, nothing changed",
               mask, what[c->sw][c->in]);
    } else {
        if (!c->rec_ok)
            gw_log(GW_LOG_ERROR, LOG_CAT, "sms{%s} %s applied but its consent record is not", mask,
                   what[c->sw][c->in]);
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} %s by SMS", mask, what[c->sw][c->in]);
        if (s->redis)
            consent_confirm(c);
    }
    free(c);
}

static bool reply_ok(int err, const redisReply *r, int type)
{
    return err == 0 && r && r->type == type;
}

static void on_consent_set(void *arg, int err, const redisReply *reply)
{
    struct consent_ctx *c = arg;

    c->set_ok = reply_ok(err, reply, REDIS_REPLY_INTEGER);
    consent_step_done(c);
}

static void on_consent_rec(void *arg, int err, const redisReply *reply)
{
    struct consent_ctx *c = arg;

    c->rec_ok = reply_ok(err, reply, REDIS_REPLY_INTEGER);
    consent_step_done(c);
}

static void on_consent_lang(void *arg, int err, const redisReply *reply)
{
    struct consent_ctx *c = arg;

    /* untrusted: a language code is a few lower-case letters, anything else means "default" */
    if (reply_ok(err, reply, REDIS_REPLY_STRING) && reply->len < sizeof(c->lang) &&
        strspn(reply->str, "abcdefghijklmnopqrstuvwxyz") == reply->len)
        memcpy(c->lang, reply->str, reply->len + 1);
    consent_step_done(c);
}

/* The audience change, the record and the language lookup go out together; the confirmation
 * waits for all three. The set and the record are on different slots: two commands. The alerts
 * switch has no audience set: the record (GW_CONSENT_KEY_FMT, fields alerts, alerts_at,
 * alerts_channel, alerts_by) is the switch the expiry job reads. */
static void consent_request(struct gw_sms *s, const char *from, enum consent_switch sw, bool in,
                            const char *by)
{
    char ckey[48], wkey[48], at[24], mask[GW_MASK_LEN];
    struct consent_ctx *c = calloc(1, sizeof(*c));
    int rc;

    if (!c) {
        s->stats.mo_failed++;
        return;
    }
    c->s = s;
    c->sw = sw;
    c->in = in;
    snprintf(c->to, sizeof(c->to), "%s", from);
    snprintf(c->digits, sizeof(c->digits), "%s", from[0] == '+' ? from + 1 : from);
    snprintf(ckey, sizeof(ckey), GW_CONSENT_KEY_FMT, c->digits);
    snprintf(wkey, sizeof(wkey), "lg:{%s}:w", c->digits);
    snprintf(at, sizeof(at), "%lld", (long long)gw_clock_now_ms());
    const char *set[] = {in ? "SADD" : "SREM", GW_BC_KEY_OPTIN, c->digits};
    const char *rec[] = {"HSET", ckey,      "optin", in ? "1" : "0", "at",
                         at,     "channel", "sms",   "by",           by};
    if (sw == CONSENT_ALERTS) {
        rec[2] = "alerts";
        rec[4] = "alerts_at";
        rec[6] = "alerts_channel";
        rec[8] = "alerts_by";
    }
    const char *lang[] = {"HGET", wkey, "lang"};
    size_t setl[] = {4, strlen(GW_BC_KEY_OPTIN), strlen(c->digits)};
    size_t recl[10], langl[] = {4, strlen(wkey), 4};
    for (int i = 0; i < 10; i++)
        recl[i] = strlen(rec[i]);
    /* hold one count while queueing (as gw_sms_send does), so an early answer cannot finish
     * the request half-way; a command that cannot be queued leaves its flag false / lang "" */
    c->pending = 1;
    c->pending++;
    if (sw == CONSENT_ALERTS)
        rc = s->redis ? 0 : -ENOTCONN; /* no audience set: the record alone */
    else
        rc = s->redis ? gw_redis_command(s->redis, 3, set, setl, on_consent_set, c) : -ENOTCONN;
    if (sw == CONSENT_ALERTS || rc < 0)
        c->pending--;
    if (rc < 0) {
        gw_log(GW_LOG_NOTICE, LOG_CAT, "sms{%s} %s by SMS: %s", gw_mask_msisdn(from, mask),
               in ? "opt-in" : "opt-out", strerror(-rc));
    } else {
        c->pending++;
        if (gw_redis_command(s->redis, 10, rec, recl, on_consent_rec, c) < 0)
            c->pending--;
        c->pending++;
        if (gw_redis_command(s->redis, 3, lang, langl, on_consent_lang, c) < 0)
            c->pending--;
    }
    consent_step_done(c); /* the hold: may finish (and free) the request now */
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
    enum gw_sms_mo_kind kind = GW_SMS_MO_NONE;
    if (smpp_text_decode(sm->text, sm->text_len, sm->data_coding, &s->cfg->ussd.text, text,
                         sizeof(text), &len) < 0 ||
        (kind = gw_sms_mo_classify(s->cfg, text, len)) == GW_SMS_MO_NONE) {
        s->stats.mo_ignored++;
        GW_LOGD(LOG_CAT, "sms{%s} MO SMS is no keyword: ignored",
                gw_mask_msisdn(sm->src_addr, mask));
        return;
    }
    if (kind == GW_SMS_MO_SUGGEST) {
        size_t rest = 0;
        if (!s->suggest) {
            s->stats.mo_ignored++;
            return;
        }
        s->stats.mo_suggest++;
        gw_sms_keyword_prefix(s->cfg->sms.suggest_keywords, s->cfg->sms.n_suggest_keywords, text,
                              len, &rest);
        s->suggest(s->suggest_arg, sm->src_addr, text + rest, len - rest);
        return;
    }
    if (kind == GW_SMS_MO_STOP || kind == GW_SMS_MO_START) {
        bool in = kind == GW_SMS_MO_START;
        if (in)
            s->stats.mo_start++;
        else
            s->stats.mo_stop++;
        consent_request(s, sm->src_addr, CONSENT_MARKETING, in, "subscriber");
        return;
    }
    if (kind == GW_SMS_MO_ALERTS_OFF || kind == GW_SMS_MO_ALERTS_ON) {
        bool in = kind == GW_SMS_MO_ALERTS_ON;
        if (in)
            s->stats.mo_alerts_on++;
        else
            s->stats.mo_alerts_off++;
        consent_request(s, sm->src_addr, CONSENT_ALERTS, in, "subscriber");
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
