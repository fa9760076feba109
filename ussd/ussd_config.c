/*
 * ussd_config.c - the per-carrier USSD settings marked (config) in shared/spec/ussd.md, their
 * defaults and checks, and the two places where they meet the wire: how an inbound
 * ussd_service_op / its_session_info is read and which op / end bit an outbound screen carries.
 * Pure functions; struct ussd_config is plain data owned by the caller (the gateway config).
 */
#include "ussd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SINFO_END_BIT 0x0001u /* its_session_info low octet: seq<<1 | end */

void ussd_config_defaults(struct ussd_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->service_code, sizeof(cfg->service_code), "555");
    cfg->dest_form = USSD_DEST_CODE;
    cfg->end_method = USSD_END_BOTH;
    cfg->abort_op = 0x81;
    cfg->key_mode = USSD_KEY_SESSION_INFO;
    cfg->t_answer_ms = 60000;
    cfg->t_total_ms = 180000;
    cfg->t_end_ms = 10000;
    cfg->gsm7_limit = USSD_SCREEN_GSM7_DEFAULT;
    cfg->ucs2_limit = USSD_SCREEN_UCS2_DEFAULT;
    cfg->bidi_marks = false;
    smpp_text_opts_defaults(&cfg->text);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int ussd_config_check(const struct ussd_config *cfg, char *err, size_t errlen)
{
    size_t n;

    if (!cfg)
        return -EINVAL;
    n = strnlen(cfg->service_code, sizeof(cfg->service_code));
    if (n == 0 || n >= sizeof(cfg->service_code))
        return fail(err, errlen, "service_code: 1..%zu digits", sizeof(cfg->service_code) - 1);
    for (size_t i = 0; i < n; i++)
        if (cfg->service_code[i] < '0' || cfg->service_code[i] > '9')
            return fail(err, errlen, "service_code: digits only");
    if (cfg->dest_form != USSD_DEST_CODE && cfg->dest_form != USSD_DEST_STAR_HASH)
        return fail(err, errlen, "dest_form: unknown value");
    if (cfg->end_method != USSD_END_OP && cfg->end_method != USSD_END_BIT &&
        cfg->end_method != USSD_END_BOTH)
        return fail(err, errlen, "end_method: unknown value");
    if (cfg->abort_op < -1 || cfg->abort_op > 255)
        return fail(err, errlen, "abort_op: -1 (none) or 0..255");
    if (cfg->abort_op == USSD_OP_PSSR_INDICATION || cfg->abort_op == USSD_OP_USSR_CONFIRM)
        return fail(err, errlen, "abort_op: %d is a dialogue op", cfg->abort_op);
    if (cfg->key_mode != USSD_KEY_SESSION_INFO && cfg->key_mode != USSD_KEY_UMR &&
        cfg->key_mode != USSD_KEY_MSISDN)
        return fail(err, errlen, "key_mode: unknown value");
    if (cfg->t_answer_ms < 1000 || cfg->t_answer_ms > 3600000)
        return fail(err, errlen, "t_answer_ms: 1000..3600000");
    if (cfg->t_total_ms < cfg->t_answer_ms || cfg->t_total_ms > 3600000)
        return fail(err, errlen, "t_total_ms: t_answer_ms..3600000");
    if (cfg->t_end_ms < 1000 || cfg->t_end_ms > 3600000)
        return fail(err, errlen, "t_end_ms: 1000..3600000");
    /* below these a screen cannot hold the error line, the navigation and one character (ussd.h);
     * the menu file is checked against the actual limits when it loads (ussd_menus_check) */
    if (cfg->gsm7_limit < USSD_SCREEN_GSM7_MIN || cfg->gsm7_limit > USSD_SCREEN_MAX)
        return fail(err, errlen, "gsm7_limit: %d..%d", USSD_SCREEN_GSM7_MIN, USSD_SCREEN_MAX);
    if (cfg->ucs2_limit < USSD_SCREEN_UCS2_MIN || cfg->ucs2_limit > USSD_SCREEN_MAX)
        return fail(err, errlen, "ucs2_limit: %d..%d", USSD_SCREEN_UCS2_MIN, USSD_SCREEN_MAX);
    return 0;
}

int ussd_config_service_addr(const struct ussd_config *cfg, char *out, size_t cap)
{
    int n;

    if (!cfg || !out || cap == 0)
        return -EINVAL;
    if (cfg->dest_form == USSD_DEST_STAR_HASH)
        n = snprintf(out, cap, "*%s#", cfg->service_code);
    else
        n = snprintf(out, cap, "%s", cfg->service_code);
    return (n < 0 || (size_t)n >= cap) ? -ENOSPC : 0;
}

enum ussd_inbound ussd_inbound_classify(const struct ussd_config *cfg, int op, bool has_sinfo,
                                        uint16_t sinfo)
{
    /* The end bit closes the dialogue whatever the op says (spec "A dialogue" step 5). */
    if (has_sinfo && (sinfo & SINFO_END_BIT))
        return USSD_IN_ABORT;
    if (cfg && cfg->abort_op >= 0 && op == cfg->abort_op)
        return USSD_IN_ABORT;
    if (op == USSD_OP_PSSR_INDICATION)
        return USSD_IN_OPEN;
    if (op == USSD_OP_USSR_CONFIRM)
        return USSD_IN_ANSWER;
    return USSD_IN_UNKNOWN;
}

void ussd_outbound_fields(const struct ussd_config *cfg, bool end, bool has_sinfo,
                          uint16_t sinfo_in, struct ussd_outbound *out)
{
    enum ussd_end_method m = cfg ? cfg->end_method : USSD_END_BOTH;

    if (!out)
        return;
    out->has_sinfo = has_sinfo;
    out->sinfo = (uint16_t)(sinfo_in & ~SINFO_END_BIT);
    out->op = USSD_OP_USSR_REQUEST;
    if (!end)
        return;
    /* Without its_session_info there is no end bit to set: only the op can end the dialogue. */
    if (m == USSD_END_OP || m == USSD_END_BOTH || !has_sinfo)
        out->op = USSD_OP_PSSR_RESPONSE;
    if (m == USSD_END_BIT || m == USSD_END_BOTH)
        out->sinfo |= SINFO_END_BIT;
}
