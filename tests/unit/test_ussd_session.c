/*
 * test_ussd_session.c - the USSD session FSM (ussd_session.c): golden transition logs
 * ("ussd(id){OLD} -> NEW") for a whole dialogue, an abort, each timeout (fired by hand with
 * gw_fsm_timer_fire, time from a fake clock); deadlines enforced on a restored session; session
 * keys; the stored record's round trip and its refusal of garbage; the carrier settings that
 * reach the wire (inbound classification, outbound op / end bit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_core.h"
#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"
#define KEY "ussd:212612345678:s12"
#define MSISDN "212612345678"
#define ID "ussd(\u20265678:s12)"
#define LOG_LINES 32

/* ---------------------------------------------------------------- fakes */

static int f_balance(void *arg, int64_t *points)
{
    (void)arg;
    *points = 1250;
    return 0;
}

static int f_language(void *arg, char *out, size_t cap)
{
    (void)arg;
    snprintf(out, cap, "en");
    return 0;
}

static const struct ussd_subscriber_ops fake_sub = {.balance = f_balance, .language = f_language};

static int f_item(void *arg, const char *lang, uint32_t id, struct ussd_item *out)
{
    (void)arg;
    (void)lang;
    if (id != 3)
        return -ENOENT;
    memset(out, 0, sizeof(*out));
    out->id = 3;
    out->category_id = 1;
    snprintf(out->name, sizeof(out->name), "1 GB");
    out->price = 500;
    out->stock = 42;
    return 0;
}

static int f_window(void *arg, const char *lang, const char *tier, bool pass, bool *open,
                    char *next, size_t cap)
{
    (void)arg;
    (void)lang;
    (void)tier;
    (void)pass;
    *open = true;
    snprintf(next, cap, "%s", "");
    return 0;
}

static const struct ussd_catalog_ops fake_cat = {.item = f_item, .redeem_window = f_window};

struct fx {
    struct ussd_config cfg;
    struct ussd_menus *menus;
    struct ussd_env env;
    struct ussd_reply r;
    int64_t now;
    char log[LOG_LINES][256];
    size_t nlog;
    int ended;
    enum ussd_end_reason reason;
    struct ussd_session_cbs cbs;
};

static int64_t fake_clock(void *arg)
{
    return ((struct fx *)arg)->now;
}

static void sink(void *arg, enum gw_log_level level, const char *category, const char *line)
{
    struct fx *x = arg;

    (void)level;
    if (strcmp(category, "ussd") == 0 && x->nlog < LOG_LINES)
        snprintf(x->log[x->nlog++], sizeof(x->log[0]), "%s", line);
}

static void on_ended(void *arg, struct ussd_session *s, enum ussd_end_reason reason)
{
    struct fx *x = arg;

    assert_int_equal(ussd_session_get_state(s), USSD_ST_ENDED);
    x->ended++;
    x->reason = reason;
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    ussd_config_defaults(&x->cfg);
    assert_int_equal(ussd_menus_load(SHIPPED, &x->menus, err, sizeof(err)), 0);
    x->env = (struct ussd_env){.cfg = &x->cfg, .menus = x->menus, .sub = &fake_sub, .cat = &fake_cat};
    x->now = 1700000000000;
    x->cbs = (struct ussd_session_cbs){on_ended, x};
    gw_clock_set(fake_clock, x);
    gw_log_set_level(GW_LOG_INFO);
    gw_log_set_sink(sink, x);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    gw_log_set_sink(NULL, NULL);
    gw_clock_set(NULL, NULL);
    ussd_menus_free(x->menus);
    free(x);
    return 0;
}

static void expect_log(struct fx *x, const char *const *golden, size_t n)
{
    for (size_t i = 0; i < x->nlog && i < n; i++)
        assert_string_equal(x->log[i], golden[i]);
    assert_int_equal(x->nlog, n);
}

#define EXPECT_LOG(x, ...)                                                                         \
    do {                                                                                           \
        static const char *const golden_[] = {__VA_ARGS__};                                        \
        expect_log(x, golden_, sizeof(golden_) / sizeof(golden_[0]));                              \
    } while (0)

static int open_(struct fx *x, struct ussd_session *s, const char *dialled)
{
    return ussd_session_open(s, &x->env, dialled, strlen(dialled), &x->r);
}

static int answer(struct fx *x, struct ussd_session *s, const char *input)
{
    return ussd_session_answer(s, &x->env, input, strlen(input), &x->r);
}

/* ---------------------------------------------------------------- transitions */

static void test_session__open_answer_answer_end__golden_log(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_non_null(s);
    assert_int_equal(ussd_session_get_state(s), USSD_ST_NEW);
    assert_int_equal(open_(x, s, "*555*2*3#"), 0);
    assert_false(x->r.end);
    x->now += 5000;
    assert_int_equal(answer(x, s, "1"), 0);
    assert_true(x->r.confirm);
    assert_int_equal(ussd_session_get_state(s), USSD_ST_CONFIRM);
    x->now += 5000;
    assert_int_equal(answer(x, s, "1"), 0);
    assert_false(x->r.end); /* the redemption's screen asks for a rating (the suggestion box) */
    assert_int_equal(x->r.effect, USSD_EFFECT_REDEEM);
    assert_int_equal(x->r.effect_item, 3);
    assert_int_equal(ussd_session_get_state(s), USSD_ST_MENU);
    x->now += 5000;
    assert_int_equal(answer(x, s, "4"), 0);
    assert_true(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_RATE);
    assert_int_equal(x->r.effect_rating, 4);
    assert_int_equal(x->r.effect_item, 3); /* the rating is about the redeemed item */
    assert_string_equal(x->r.effect_node, "redeemed");
    assert_int_equal(x->ended, 0);
    assert_int_equal(ussd_session_sent(s), 0);
    assert_int_equal(x->ended, 1);
    assert_int_equal(x->reason, USSD_ENDED_COMPLETED);
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> CONFIRM (T_ANSWER=60000ms)",
               ID "{CONFIRM} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> ENDING (T_END=10000ms)",
               ID "{ENDING} -> ENDED");
    /* late traffic is absorbed: nothing to send, no transition, no second callback */
    assert_int_equal(answer(x, s, "1"), -ESRCH);
    assert_int_equal(ussd_session_abort(s), -ESRCH);
    assert_int_equal(ussd_session_sent(s), -ESRCH);
    assert_int_equal(x->ended, 1);
    assert_int_equal(x->nlog, 5);
    ussd_session_free(s);
    ussd_session_free(NULL);
}

static void test_session__menu_then_points__ends_in_two_steps(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(open_(x, s, "*555#"), 0);
    assert_int_equal(answer(x, s, "9"), 0); /* invalid: same menu, still MENU */
    assert_true(x->r.error);
    assert_int_equal(answer(x, s, "1"), 0);
    assert_true(x->r.end);
    assert_string_equal(x->r.text, "Balance: 1250 points");
    /* the subscriber types on the final screen before the send is confirmed */
    assert_int_equal(answer(x, s, "1"), -ESRCH);
    assert_int_equal(gw_fsm_timer_fire(ussd_session_fsm(s)), 0); /* T_END */
    assert_int_equal(x->reason, USSD_ENDED_COMPLETED);
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> MENU (T_ANSWER=60000ms)",
               ID "{MENU} -> ENDING (T_END=10000ms)", ID "{ENDING} -> ENDED");
    ussd_session_free(s);
}

static void test_session__abort__golden_log(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(open_(x, s, "*555#"), 0);
    assert_int_equal(ussd_session_abort(s), 0);
    assert_int_equal(x->ended, 1);
    assert_int_equal(x->reason, USSD_ENDED_ABORTED);
    assert_int_equal(answer(x, s, "1"), -ESRCH);
    assert_int_equal(gw_fsm_timer_fire(ussd_session_fsm(s)), -ENOENT); /* disarmed */
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> ENDED");
    ussd_session_free(s);

    /* an abort before anything was shown */
    x->nlog = 0;
    s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);
    assert_int_equal(ussd_session_abort(s), 0);
    EXPECT_LOG(x, ID "{NEW} -> ENDED");
    ussd_session_free(s);
}

static void test_session__t_answer_timeout__golden_log(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(open_(x, s, "*555#"), 0);
    x->now += 60000;
    assert_int_equal(gw_fsm_timer_fire(ussd_session_fsm(s)), 0);
    assert_int_equal(ussd_session_get_state(s), USSD_ST_ENDED);
    assert_int_equal(x->reason, USSD_ENDED_T_ANSWER);
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> ENDED");
    ussd_session_free(s);
}

static void test_session__t_total__armed_when_sooner_and_fires(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(open_(x, s, "*555#"), 0);
    x->now += 50000;
    assert_int_equal(answer(x, s, "3"), 0);
    x->now += 50000;
    assert_int_equal(answer(x, s, "0"), 0);
    x->now += 50000; /* 150 s in: 30 s of the 180 s are left, less than T_ANSWER */
    assert_int_equal(answer(x, s, "5"), 0);
    x->now += 30000;
    assert_int_equal(gw_fsm_timer_fire(ussd_session_fsm(s)), 0);
    assert_int_equal(x->reason, USSD_ENDED_T_TOTAL);
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> MENU (T_ANSWER=60000ms)",
               ID "{MENU} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> MENU (T_TOTAL=30000ms)",
               ID "{MENU} -> ENDED");
    ussd_session_free(s);
}

static void test_session__open_again__restarts_dialogue(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(open_(x, s, "*555#"), 0);
    assert_int_equal(answer(x, s, "5"), 0);
    assert_string_equal(ussd_session_dialogue(s)->node, "help");
    assert_int_equal(open_(x, s, "*555#"), 0);
    assert_string_equal(ussd_session_dialogue(s)->node, "main");
    EXPECT_LOG(x, ID "{NEW} -> MENU (T_ANSWER=60000ms)", ID "{MENU} -> MENU (T_ANSWER=60000ms)",
               ID "{MENU} new PSSR indication: dialogue restarted",
               ID "{MENU} -> MENU (T_ANSWER=60000ms)");
    ussd_session_free(s);
}

static void test_session__answer_before_open__refused(void **state)
{
    struct fx *x = *state;
    struct ussd_session *s = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);

    assert_int_equal(answer(x, s, "1"), -ESRCH);
    assert_int_equal(ussd_session_sent(s), -ESRCH);
    assert_int_equal(ussd_session_get_state(s), USSD_ST_NEW);
    EXPECT_LOG(x, ID "{NEW} event ANSWER not permitted");
    assert_null(ussd_session_new(&x->cfg, NULL, NULL, MSISDN, &x->cbs));
    assert_null(ussd_session_new(NULL, NULL, KEY, MSISDN, &x->cbs));
    assert_int_equal(ussd_session_open(s, NULL, "*555#", 5, &x->r), -EINVAL);
    ussd_session_free(s);
}

/* ---------------------------------------------------------------- store and restore */

static void test_session__restore_in_another_process__continues(void **state)
{
    struct fx *x = *state;
    struct ussd_session *a = ussd_session_new(&x->cfg, NULL, KEY, MSISDN, &x->cbs);
    struct ussd_session *b;
    struct ussd_record rec, back;
    char buf[USSD_RECORD_MAX];

    assert_int_equal(open_(x, a, "*555*2*3#"), 0);
    ussd_session_record(a, &rec);
    assert_true(ussd_record_format(&rec, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "v=1;s=MENU;n=item;p=0;l=en;c=1;i=3;e=0;t=1700000000000;"
                             "a=1700000000000;d=*555*2*3#");
    ussd_session_free(a);

    x->nlog = 0;
    x->now += 20000;
    assert_int_equal(ussd_record_parse(buf, strlen(buf), &back), 0);
    b = ussd_session_restore(&x->cfg, NULL, KEY, MSISDN, &x->cbs, &back);
    assert_non_null(b);
    assert_int_equal(ussd_session_get_state(b), USSD_ST_MENU);
    assert_int_equal(answer(x, b, "1"), 0);
    assert_true(x->r.confirm);
    EXPECT_LOG(x, ID "{MENU} restored", ID "{MENU} -> CONFIRM (T_ANSWER=60000ms)");
    ussd_session_free(b);
}

static void test_session__restored_past_deadline__answer_expires(void **state)
{
    struct fx *x = *state;
    struct ussd_record rec;
    struct ussd_session *s;

    memset(&rec, 0, sizeof(rec));
    rec.fsm_state = USSD_ST_MENU;
    snprintf(rec.st.node, sizeof(rec.st.node), "main");
    snprintf(rec.st.lang, sizeof(rec.st.lang), "en");
    rec.started_ms = x->now - 70000;
    rec.last_ms = x->now - 61000; /* the screen went out 61 s ago */
    s = ussd_session_restore(&x->cfg, NULL, KEY, MSISDN, &x->cbs, &rec);
    assert_non_null(s);
    assert_int_equal(answer(x, s, "1"), -ETIMEDOUT);
    assert_int_equal(x->reason, USSD_ENDED_T_ANSWER);
    EXPECT_LOG(x, ID "{MENU} restored", ID "{MENU} -> ENDED");
    ussd_session_free(s);

    x->nlog = 0;
    rec.started_ms = x->now - 181000; /* past T_TOTAL, though the last screen is recent */
    rec.last_ms = x->now - 1000;
    s = ussd_session_restore(&x->cfg, NULL, KEY, MSISDN, &x->cbs, &rec);
    assert_int_equal(answer(x, s, "1"), -ETIMEDOUT);
    assert_int_equal(x->reason, USSD_ENDED_T_TOTAL);
    ussd_session_free(s);

    /* the timer of a restored session is armed for what is left, the sooner one */
    x->nlog = 0;
    rec.started_ms = x->now - 150000;
    rec.last_ms = x->now - 10000;
    s = ussd_session_restore(&x->cfg, NULL, KEY, MSISDN, &x->cbs, &rec);
    assert_int_equal(ussd_session_fsm(s)->timer_id, USSD_T_TOTAL);
    assert_int_equal(gw_fsm_timer_fire(ussd_session_fsm(s)), 0);
    assert_int_equal(x->reason, USSD_ENDED_T_TOTAL);
    ussd_session_free(s);
    rec.fsm_state = (enum ussd_session_state)99;
    assert_null(ussd_session_restore(&x->cfg, NULL, KEY, MSISDN, &x->cbs, &rec));
}

static void test_record__round_trip(void **state)
{
    struct ussd_record rec, back;
    char buf[USSD_RECORD_MAX];

    (void)state;
    memset(&rec, 0, sizeof(rec));
    rec.fsm_state = USSD_ST_CONFIRM;
    snprintf(rec.st.node, sizeof(rec.st.node), "language_saved");
    snprintf(rec.st.lang, sizeof(rec.st.lang), "fa");
    rec.st.page = 9999;
    rec.st.category = UINT32_MAX;
    rec.st.item = 999;
    rec.st.error = true;
    snprintf(rec.st.dialled, sizeof(rec.st.dialled), "*555*2*999#");
    rec.started_ms = INT64_MAX;
    rec.last_ms = 0;
    int n = ussd_record_format(&rec, buf, sizeof(buf));
    assert_true(n > 0 && (size_t)n == strlen(buf));
    assert_int_equal(ussd_record_parse(buf, (size_t)n, &back), 0);
    assert_memory_equal(&rec, &back, sizeof(rec));
    /* an empty dialled string, unknown keys from a newer writer, any key order */
    const char *newer = "d=;a=2;t=1;x=7;l=ar;zz_future=abc;n=main;s=ENDING;v=1";
    assert_int_equal(ussd_record_parse(newer, strlen(newer), &back), 0);
    assert_int_equal(back.fsm_state, USSD_ST_ENDING);
    assert_string_equal(back.st.node, "main");
    assert_int_equal(back.last_ms, 2);
    assert_int_equal(ussd_record_format(&rec, buf, 20), -ENOSPC);
}

static void test_record__garbage__refused(void **state)
{
    static const char *const bad[] = {
        "",
        "v=1",
        "v=2;s=MENU;n=main;l=en;t=1;a=1",
        "v=1;s=MENU;n=main;l=en;t=1",                        /* a missing */
        "v=1;s=MENU;n=main;l=en;t=1;a=1;a=1",                /* duplicate */
        "v=1;s=WALKING;n=main;l=en;t=1;a=1",                 /* unknown state */
        "v=1;s=MENU;n=Main;l=en;t=1;a=1",                    /* node charset */
        "v=1;s=MENU;n=;l=en;t=1;a=1",                        /* empty node */
        "v=1;s=MENU;n=main;l=e;t=1;a=1",                     /* language */
        "v=1;s=MENU;n=main;l=en;t=-1;a=1",                   /* negative */
        "v=1;s=MENU;n=main;l=en;t=99999999999999999999;a=1", /* overflow */
        "v=1;s=MENU;n=main;l=en;t=01;a=1",                   /* leading zero */
        "v=1;s=MENU;n=main;l=en;t=1;a=1;p=10000",            /* page bound */
        "v=1;s=MENU;n=main;l=en;t=1;a=1;c=4294967296",       /* u32 bound */
        "v=1;s=MENU;n=main;l=en;t=1;a=1;e=2",
        "v=1;s=MENU;n=main;l=en;t=1;a=1;d=*555;#",
        "v=1;s=MENU;n=main;l=en;t=1;a=1;d=<script>",
        "v=1;s=MENU;n=main;l=en;t=1;a=1;", /* empty field */
        "v=1;s=MENU;n=main;l=en;t=1;a=1;;",
        "v=1;s=MENU;n=main;l=en;t=1;a=1;=5",
        "v=1;s=MENU;n=main;l=en;t=1;a=1;Q=5", /* not a key */
        "v=1;s=MENU;n=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;l=en;t=1;a=1",
        "\xff\xfe\x01",
    };
    struct ussd_record rec;
    char buf[600];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&rec, 0x55, sizeof(rec));
        if (ussd_record_parse(bad[i], strlen(bad[i]), &rec) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        struct ussd_record zero;
        memset(&zero, 0, sizeof(zero));
        assert_memory_equal(&rec, &zero, sizeof(rec));
    }
    /* a NUL inside, and a record longer than any we write */
    const char *ok = "v=1;s=MENU;n=main;l=en;t=1;a=1";
    memcpy(buf, ok, strlen(ok) + 1);
    assert_int_equal(ussd_record_parse(buf, strlen(ok), &rec), 0);
    assert_int_equal(ussd_record_parse(buf, strlen(ok) + 1, &rec), -EINVAL);
    memset(buf, 'a', sizeof(buf));
    assert_int_equal(ussd_record_parse(buf, sizeof(buf), &rec), -EINVAL);
    assert_int_equal(ussd_record_parse(NULL, 3, &rec), -EINVAL);
    /* random bytes: refused or parsed, never a crash (ASan watches) */
    uint32_t seed = 7;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 120);
        char *p = malloc(n ? n : 1);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = "v=1;sMENUnmailt0a9d*#xQ\x00\xff"[(seed >> 16) % 26];
        }
        (void)ussd_record_parse(p, n, &rec);
        free(p);
    }
}

/* ---------------------------------------------------------------- keys */

static void test_session_key__variants(void **state)
{
    struct ussd_config cfg;
    char key[USSD_KEY_MAX];

    (void)state;
    ussd_config_defaults(&cfg);
    /* session 12, seq 1, end bit set or not: the same key */
    assert_int_equal(ussd_session_key(&cfg, MSISDN, true, 0x0C03, false, 0, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678:s12");
    assert_int_equal(ussd_session_key(&cfg, MSISDN, true, 0x0C02, true, 77, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678:s12");
    assert_int_equal(ussd_session_key(&cfg, "+" MSISDN, true, 0xFF00, false, 0, key, sizeof(key)),
                     0);
    assert_string_equal(key, "ussd:212612345678:s255");
    /* without its_session_info: MSISDN alone */
    assert_int_equal(ussd_session_key(&cfg, MSISDN, false, 0, true, 77, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678");
    cfg.key_mode = USSD_KEY_UMR;
    assert_int_equal(ussd_session_key(&cfg, MSISDN, true, 0x0C03, true, 77, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678:u77");
    assert_int_equal(ussd_session_key(&cfg, MSISDN, true, 0x0C03, false, 0, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678");
    cfg.key_mode = USSD_KEY_MSISDN;
    assert_int_equal(ussd_session_key(&cfg, MSISDN, true, 0x0C03, true, 77, key, sizeof(key)), 0);
    assert_string_equal(key, "ussd:212612345678");
    /* untrusted MSISDNs */
    const char *bad[] = {"", "+", "21261234567a", "123456789012345678901", "2126 1234", "++212"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ussd_session_key(&cfg, bad[i], false, 0, false, 0, key, sizeof(key)),
                         -EINVAL);
    assert_int_equal(ussd_session_key(&cfg, NULL, false, 0, false, 0, key, sizeof(key)), -EINVAL);
    assert_int_equal(ussd_session_key(&cfg, MSISDN, false, 0, false, 0, key, 8), -ENOSPC);
}

/* ---------------------------------------------------------------- carrier settings */

static void test_config__defaults_check_and_wire_fields(void **state)
{
    struct ussd_config cfg;
    struct ussd_outbound o;
    char err[128], addr[24];

    (void)state;
    ussd_config_defaults(&cfg);
    assert_int_equal(ussd_config_check(&cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.service_code, "555");
    assert_int_equal(cfg.t_answer_ms, 60000);
    assert_int_equal(cfg.t_total_ms, 180000);
    assert_int_equal(cfg.abort_op, 0x81);
    assert_int_equal(cfg.text.dcs_gsm7, 0);
    assert_int_equal(cfg.text.dcs_ucs2, 8);
    assert_int_equal(ussd_config_service_addr(&cfg, addr, sizeof(addr)), 0);
    assert_string_equal(addr, "555");
    cfg.dest_form = USSD_DEST_STAR_HASH;
    assert_int_equal(ussd_config_service_addr(&cfg, addr, sizeof(addr)), 0);
    assert_string_equal(addr, "*555#");

    cfg.t_total_ms = 30000;
    assert_int_equal(ussd_config_check(&cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t_total_ms: t_answer_ms..3600000");
    ussd_config_defaults(&cfg);
    snprintf(cfg.service_code, sizeof(cfg.service_code), "55a");
    assert_int_equal(ussd_config_check(&cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "service_code: digits only");
    ussd_config_defaults(&cfg);
    cfg.ucs2_limit = 5;
    assert_int_equal(ussd_config_check(&cfg, NULL, 0), -EINVAL);

    /* inbound: the end bit wins; the vendor abort op; unknown ops */
    ussd_config_defaults(&cfg);
    assert_int_equal(ussd_inbound_classify(&cfg, 1, true, 0x0C00), USSD_IN_OPEN);
    assert_int_equal(ussd_inbound_classify(&cfg, 18, true, 0x0C02), USSD_IN_ANSWER);
    assert_int_equal(ussd_inbound_classify(&cfg, 18, true, 0x0C03), USSD_IN_ABORT);
    assert_int_equal(ussd_inbound_classify(&cfg, 0x81, false, 0), USSD_IN_ABORT);
    assert_int_equal(ussd_inbound_classify(&cfg, 17, false, 0), USSD_IN_UNKNOWN);
    assert_int_equal(ussd_inbound_classify(&cfg, -1, false, 0), USSD_IN_UNKNOWN);
    cfg.abort_op = -1;
    assert_int_equal(ussd_inbound_classify(&cfg, 0x81, false, 0), USSD_IN_UNKNOWN);

    /* outbound: continue = USSR request, end bit clear; end per method */
    ussd_config_defaults(&cfg);
    ussd_outbound_fields(&cfg, false, true, 0x0C03, &o);
    assert_int_equal(o.op, USSD_OP_USSR_REQUEST);
    assert_int_equal(o.sinfo, 0x0C02);
    ussd_outbound_fields(&cfg, true, true, 0x0C02, &o);
    assert_int_equal(o.op, USSD_OP_PSSR_RESPONSE);
    assert_int_equal(o.sinfo, 0x0C03);
    assert_true(o.has_sinfo);
    cfg.end_method = USSD_END_OP;
    ussd_outbound_fields(&cfg, true, true, 0x0C02, &o);
    assert_int_equal(o.op, USSD_OP_PSSR_RESPONSE);
    assert_int_equal(o.sinfo, 0x0C02);
    cfg.end_method = USSD_END_BIT;
    ussd_outbound_fields(&cfg, true, true, 0x0C02, &o);
    assert_int_equal(o.op, USSD_OP_USSR_REQUEST);
    assert_int_equal(o.sinfo, 0x0C03);
    /* no its_session_info to carry an end bit: only the op can end it */
    ussd_outbound_fields(&cfg, true, false, 0, &o);
    assert_int_equal(o.op, USSD_OP_PSSR_RESPONSE);
    assert_false(o.has_sinfo);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_session__open_answer_answer_end__golden_log),
        T(test_session__menu_then_points__ends_in_two_steps),
        T(test_session__abort__golden_log),
        T(test_session__t_answer_timeout__golden_log),
        T(test_session__t_total__armed_when_sooner_and_fires),
        T(test_session__open_again__restarts_dialogue),
        T(test_session__answer_before_open__refused),
        T(test_session__restore_in_another_process__continues),
        T(test_session__restored_past_deadline__answer_expires),
        cmocka_unit_test(test_record__round_trip),
        cmocka_unit_test(test_record__garbage__refused),
        cmocka_unit_test(test_session_key__variants),
        cmocka_unit_test(test_config__defaults_check_and_wire_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
