/*
 * wire_fulfil.c - gift fulfilment inside loyaltygw (see wire_fulfil.h; owned by the fulfilment
 * engineer): configuration mapping, and the ops that bind the worker to cat_redeem and gw_sms.
 */
#include "wire_fulfil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cat_fulfil.h"
#include "catalog.h"
#include "gw_core.h"
#include "gw_http.h"
#include "gw_sms.h"
#include "ussd.h"

struct wire_fulfil {
    struct gw_http *http;
    struct cat_prov_http *prov;
    struct cat_fulfil_worker *worker;
    struct cat_redeem *redeem;
    struct gw_sms *sms;
    struct ussd_menus *const *menus; /* the owner's pointer: NULL or *menus NULL = no texts */
};

/* ---------------------------------------------------------------- store ops -> cat_redeem */

static int st_mark(void *ctx, const char *rid, const char *reference, int64_t now,
                   cat_transition_cb cb, void *arg)
{
    return cat_redeem_mark_fulfilled(ctx, rid, reference, now, cb, arg);
}

static int st_refund(void *ctx, const char *rid, const char *reason, int64_t now,
                     cat_transition_cb cb, void *arg)
{
    return cat_redeem_refund(ctx, rid, reason, now, cb, arg);
}

static int st_charity(void *ctx, const char *rid, const char *cause, int64_t points, int64_t now,
                      cat_transition_cb cb, void *arg)
{
    return cat_redeem_charity_add(ctx, rid, cause, points, now, cb, arg);
}

static const struct cat_fulfil_store_ops redeem_store_ops = {
    .mark_fulfilled = st_mark,
    .refund = st_refund,
    .charity_add = st_charity,
};

/* ---------------------------------------------------------------- SMS hook -> gw_sms */

static int send_sms(void *arg, const char *to, const char *text)
{
    /* fire and forget: gw_sms counts failures, and a lost confirmation does not undo a grant */
    return gw_sms_send(arg, to, text, strlen(text), NULL, NULL);
}

/* ---------------------------------------------------------------- texts -> the menu file */

/* The catalogue language of a menu language code; -1 when the catalogue has no such language. */
static int cat_lang_of(const char *code)
{
    for (int l = 0; code && l < CAT_LANG__COUNT; l++)
        if (strcmp(cat_lang_name((enum cat_lang)l), code) == 0)
            return l;
    return -1;
}

/*
 * The worker's sms_text hook: the gift text of the menu file in the recipient's language (the
 * file's default when lang is "" or not in the file), the item named in that language. A menu
 * language the catalogue lacks names the item in the file's default language, else in English.
 */
static int sms_text(void *arg, const char *lang, const struct cat_sms_fields *f, char *out,
                    size_t cap)
{
    struct wire_fulfil *w = arg;
    const struct ussd_menus *m = w->menus ? *w->menus : NULL;
    const char *code;
    char price[24];
    size_t len;
    int cl, rc;

    if (!m || !ussd_menus_has_gift_sms(m))
        return -ENOENT;
    code = ussd_menus_sms_lang(m, lang);
    cl = cat_lang_of(code);
    if (cl < 0)
        cl = cat_lang_of(ussd_menus_default_lang(m));
    if (cl < 0)
        cl = CAT_LANG_EN;
    snprintf(price, sizeof(price), "%" PRId64, f->points);
    const struct ussd_sms_var vars[] = {
        {"item_name", f->name[cl]},  {"item_price", price},
        {"reference", f->reference}, {"beneficiary", f->beneficiary},
        {"sender", f->sender},       {"voucher_code", f->code},
        {"cause", f->cause},
    };
    rc = ussd_menus_sms_text(m, code, cat_fulfil_sms_kind_name(f->kind), vars,
                             sizeof(vars) / sizeof(vars[0]), out, cap, &len);
    if (rc < 0)
        return rc;
    /* every line left out (a text made of placeholders without values): the built-in one */
    return len > 0 && len <= INT32_MAX ? (int)len : -ENOENT;
}

/* ---------------------------------------------------------------- life */

/* The consumer name must be stable across restarts of one gateway (its own pending entries are
 * resumed at start) and distinct between gateways: the host name by default. */
static void consumer_name(const struct gw_config *cfg, char *out, size_t cap)
{
    char host[64] = "";

    if (cfg->provisioning.consumer[0]) {
        snprintf(out, cap, "%s", cfg->provisioning.consumer);
        return;
    }
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        snprintf(host, sizeof(host), "loyaltygw");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            *p = '_';
    }
    snprintf(out, cap, "%s", host);
}

struct wire_fulfil *wire_fulfil_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_config *cfg, struct cat_redeem *redeem,
                                    struct gw_sms *sms, struct ussd_menus *const *menus,
                                    struct cat_store *catalog, char *err, size_t errlen)
{
    const __typeof__(cfg->provisioning) *p = &cfg->provisioning;
    struct cat_prov_http_config pc;
    struct cat_fulfil_config fc;
    struct cat_fulfil_deps deps;
    struct gw_http_config hc;
    struct wire_fulfil *w;

    if (!redeem) {
        snprintf(err, errlen, "provisioning.enabled needs the catalogue (catalog.file)");
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->redeem = redeem;
    w->sms = sms;
    w->menus = menus;
    gw_http_config_defaults(&hc);
    /* one connection per call in flight at most: the provider sees our concurrency limit */
    hc.max_connections = p->max_in_flight;
    w->http = gw_http_new(base, &hc);
    /* The token never crosses a network in clear and the example's placeholder never reaches a
     * carrier (issue 11): refused here, at start, with the key to fix. insecure_test_mode is the
     * tests' and demos' explicit way out (cat_prov_http_new then logs a loud warning). */
    char why[256];
    if (cat_prov_url_check(p->base_url, p->insecure_test_mode, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "provisioning.base_url: %s", why);
        return NULL;
    }
    if (cat_prov_token_check(p->token, p->insecure_test_mode, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "provisioning.token: %s", why);
        return NULL;
    }
    cat_prov_http_config_defaults(&pc);
    snprintf(pc.base_url, sizeof(pc.base_url), "%s", p->base_url);
    snprintf(pc.token, sizeof(pc.token), "%s", p->token);
    pc.timeout_ms = p->timeout_ms;
    pc.connect_timeout_ms = p->connect_timeout_ms;
    pc.insecure_test_mode = p->insecure_test_mode;
    w->prov = w->http ? cat_prov_http_new(w->http, &pc) : NULL;
    if (!w->prov) {
        snprintf(err, errlen, "provisioning.base_url: cannot use \"%s\"", p->base_url);
        goto fail;
    }
    cat_fulfil_config_defaults(&fc);
    snprintf(fc.group, sizeof(fc.group), "%s", p->group);
    consumer_name(cfg, fc.consumer, sizeof(fc.consumer));
    fc.retry_min_ms = p->retry_min_ms;
    fc.retry_max_ms = p->retry_max_ms;
    fc.retry_deadline_s = p->retry_deadline_s;
    fc.claim_idle_ms = p->claim_idle_ms;
    fc.max_in_flight = p->max_in_flight;
    fc.sms_lang = strcmp(p->sms_lang, "fr") == 0 ? CAT_SMS_FR : CAT_SMS_EN;
    deps = (struct cat_fulfil_deps){
        .redis = redis,
        .prov = &cat_prov_http_ops,
        .prov_impl = w->prov,
        .store = &redeem_store_ops,
        .store_ctx = redeem,
        .send_sms = sms ? send_sms : NULL,
        .sms_arg = sms,
        .sms_text = sms_text,
        .sms_text_arg = w,
        .catalog = catalog,
    };
    w->worker = cat_fulfil_worker_new(base, &fc, &deps);
    if (!w->worker) {
        snprintf(err, errlen, "provisioning: invalid worker settings");
        goto fail;
    }
    if (!sms)
        gw_log(GW_LOG_NOTICE, "fulfil",
               "no SMS sender (ussd.menus_file \"\"): fulfilment "
               "sends no confirmation or apology SMS");
    cat_fulfil_worker_start(w->worker);
    gw_log(GW_LOG_NOTICE, "fulfil",
           "fulfilment worker %s: POST %s/v1/grants, deadline %" PRIu32 " ms, retries for %" PRIu32
           " s",
           fc.consumer, p->base_url, p->timeout_ms, p->retry_deadline_s);
    return w;
fail:
    wire_fulfil_free(w);
    return NULL;
}

void wire_fulfil_stop(struct wire_fulfil *w)
{
    if (w)
        cat_fulfil_worker_stop(w->worker);
}

void wire_fulfil_free(struct wire_fulfil *w)
{
    if (!w)
        return;
    /* the worker stops first, then the client fails its calls (the callbacks only count), then
     * the adapter and the worker go */
    cat_fulfil_worker_stop(w->worker);
    gw_http_free(w->http);
    cat_prov_http_free(w->prov);
    cat_fulfil_worker_free(w->worker);
    free(w);
}

void wire_fulfil_get_stats(const struct wire_fulfil *w, struct cat_fulfil_stats *fs,
                           struct gw_http_stats *hs)
{
    cat_fulfil_worker_get_stats(w ? w->worker : NULL, fs);
    gw_http_get_stats(w ? w->http : NULL, hs);
}

void wire_fulfil_stats_json(const struct wire_fulfil *w, FILE *out)
{
    struct cat_fulfil_stats s;
    struct gw_http_stats h;

    cat_fulfil_worker_get_stats(w ? w->worker : NULL, &s);
    gw_http_get_stats(w ? w->http : NULL, &h);
    fprintf(out,
            "{\"read\":%" PRIu64 ",\"claimed\":%" PRIu64 ",\"granted\":%" PRIu64
            ",\"already\":%" PRIu64 ",\"refunded\":%" PRIu64 ",\"permanent\":%" PRIu64
            ",\"temporary\":%" PRIu64 ",\"gave_up\":%" PRIu64 ",\"conflicts\":%" PRIu64
            ",\"unknown\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"acked\":%" PRIu64
            ",\"sms_sent\":%" PRIu64 ",\"sms_failed\":%" PRIu64 ",\"held\":%" PRIu32
            ",\"in_flight\":%" PRIu32 ",\"http_requests\":%" PRIu64 ",\"http_timeouts\":%" PRIu64
            ",\"http_refused\":%" PRIu64 ",\"lang_fallbacks\":%" PRIu64 "}",
            s.read, s.claimed, s.granted, s.already, s.refunded, s.permanent, s.temporary,
            s.gave_up, s.conflicts, s.unknown, s.malformed, s.acked, s.sms_sent, s.sms_failed,
            s.held, s.in_flight, h.requests, h.timeouts, h.refused, s.lang_fallbacks);
}
