/*
 * fuzz_ussd_dialogue.c - libFuzzer target: a whole USSD dialogue through the engine
 * (ussd/ussd_engine.c) with the shipped menus (deploy/ussd-menus.json) and the fake subscriber
 * and catalogue of tests/unit/ussd_fake.h. Input: byte 0 picks the screen limits (from the
 * configuration's minimum up), the saved language, gifting and provider failures; then lines
 * separated by '\n': the dialled string, then up to 23 answers (any bytes). Property:
 * with limits the configuration accepts and menus that passed ussd_menus_check, every step
 * returns 0 with a screen within its limit whose counted units match its text - bad input never
 * ends or breaks a dialogue. A PIN answer (points transfer) is run again with an outcome, as the
 * transport does. Each state is also serialised and parsed back as between answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ussd.h"
#include "ussd_fake.h"

#ifndef LGW_SRC
#error "LGW_SRC must name the source tree"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ussd_menus *menus;

static void check(const struct ussd_config *cfg, const struct ussd_reply *r)
{
    size_t limit = r->coding == SMPP_TEXT_GSM7 ? cfg->gsm7_limit : cfg->ucs2_limit;

    if (r->units > limit || strlen(r->text) != r->text_len ||
        smpp_text_units(r->coding, r->text, r->text_len, &cfg->text) != (ssize_t)r->units)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const langs[] = {"", "ar", "fr", "en", "fa", "xx", "", "en"};
    static const char *const prefixes[] = {"212"};
    static bool checked[8];
    struct ussd_config cfg;
    struct ussd_fake f = {.balance = 1250, .expiring = 300, .open = true};
    struct ussd_env env;
    struct ussd_state st;
    struct ussd_reply r;
    const char *p, *end, *nl;
    char err[256];
    uint8_t mode;
    bool opened = false;
    unsigned steps = 0;

    if (!menus && ussd_menus_load(LGW_SRC "/deploy/ussd-menus.json", &menus, err, sizeof(err)))
        abort();
    /* a real dialogue is a few screens: at most 24 steps (USSD_INPUT_MAX bytes an answer) */
    if (size < 1 || size > 24 * (USSD_INPUT_MAX + 8))
        return 0;
    mode = data[0];
    ussd_config_defaults(&cfg);
    /* the configuration's minimum, a few above it, or the defaults */
    cfg.gsm7_limit = (mode & 3) == 3 ? USSD_SCREEN_GSM7_DEFAULT : USSD_SCREEN_GSM7_MIN + (mode & 3);
    cfg.ucs2_limit = (mode & 3) == 3 ? USSD_SCREEN_UCS2_DEFAULT : USSD_SCREEN_UCS2_MIN + (mode & 3);
    cfg.bidi_marks = mode & 4;
    if (!checked[mode & 7]) {
        /* the shipped menus fit every limit the configuration accepts (once per variant) */
        if (ussd_config_check(&cfg, err, sizeof(err)) != 0 ||
            ussd_menus_check(menus, &cfg, err, sizeof(err)) != 0)
            abort();
        checked[mode & 7] = true;
    }
    snprintf(f.pref, sizeof(f.pref), "%s", langs[(mode >> 3) & 7]);
    f.open = !(mode & 0x40);
    f.items_down = mode & 0x80;
    env = (struct ussd_env){.cfg = &cfg,
                            .menus = menus,
                            .sub = &ussd_fake_sub,
                            .sub_arg = &f,
                            .cat = &ussd_fake_cat,
                            .cat_arg = &f,
                            .msisdn = "212612345678",
                            .may_gift = mode & 0x10,
                            .prefixes = prefixes,
                            .n_prefixes = 1,
                            .may_perk = mode & 0x10,
                            .perk_share_pct = 50};
    p = (const char *)data + 1;
    end = (const char *)data + size;
    while (p <= end && steps++ < 24) {
        struct ussd_record rec;
        char text[1024];

        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        if (!opened) {
            if (ussd_engine_open(&env, p, (size_t)(nl - p), &st, &r) != 0)
                abort();
            opened = true;
        } else {
            struct ussd_state prev = st;
            int rc = ussd_engine_answer(&env, p, (size_t)(nl - p), &st, &r);

            if (rc != 0) {
                fprintf(stderr, "ussd_engine_answer: %d at node %s page %u lang %s item %u\n", rc,
                        st.node, st.page, st.lang, st.item);
                abort();
            }
            check(&cfg, &r);
            if (r.effect == USSD_EFFECT_TRANSFER || r.effect == USSD_EFFECT_SET_PIN ||
                r.effect == USSD_EFFECT_REDEEM) {
                /* the transport runs a PIN answer (or a confirmation) again with the outcome of
                 * the transfer (or the redemption: granted reaches the premium perk's offer) */
                static const char *const xo[] = {USSD_XFER_OK, "pending", "badpin", "locked",
                                                 "frozen",     "daycap",  "not_member", "bogus"};
                static const char *const ro[] = {USSD_OUTCOME_GRANTED, "perk_limit", "limit",
                                                 USSD_OUTCOME_GRANTED};
                struct ussd_env again = env;
                again.outcome = r.effect == USSD_EFFECT_REDEEM ? ro[(size_t)(nl - p) % 4]
                                                               : xo[(size_t)(nl - p) % 8];
                again.xfer_n = (nl - p) % 3 - 1;
                again.until = (nl - p) % 2 ? "08/12 10:15" : NULL;
                st = prev;
                if (ussd_engine_answer(&again, p, (size_t)(nl - p), &st, &r) != 0 ||
                    r.effect != USSD_EFFECT_NONE)
                    abort();
            }
        }
        check(&cfg, &r);
        if (r.end)
            break;
        if (r.effect == USSD_EFFECT_REDEEM) {
            /* the transport runs the confirmation again with the outcome */
            env.outcome = (nl - p) % 2 ? USSD_OUTCOME_GRANTED : "out_of_stock";
        } else {
            env.outcome = NULL;
        }
        if (ussd_engine_show(&env, &st, &r) != 0)
            abort();
        check(&cfg, &r);
        /* between two answers the state lives in Redis as a record: format, parse, go on */
        memset(&rec, 0, sizeof(rec));
        rec.fsm_state = r.confirm ? USSD_ST_CONFIRM : USSD_ST_MENU;
        rec.st = st;
        rec.started_ms = INT64_C(1795608000000);
        rec.last_ms = rec.started_ms + 1000;
        if (ussd_record_format(&rec, text, sizeof(text)) < 0)
            abort();
        memset(&rec, 0, sizeof(rec));
        if (ussd_record_parse(text, strlen(text), &rec) != 0 || strcmp(rec.st.node, st.node) ||
            rec.st.page != st.page || strcmp(rec.st.lang, st.lang) || rec.st.item != st.item)
            abort();
        st = rec.st;
        p = nl + 1;
    }
    return 0;
}
