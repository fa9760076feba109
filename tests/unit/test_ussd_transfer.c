/*
 * test_ussd_transfer.c - the points-transfer screens of the dialogue engine over the shipped menu
 * file (deploy/ussd-menus.json, issue 10 section 4): recipient (validated like a gift's
 * beneficiary), amount, the confirmation naming the masked number, the PIN screen and what it
 * hands to the transport (never kept in the state), the second pass with each outcome, the PIN
 * change screen's forms, and the record keeping recipient and amount between screens; the
 * premium perk's record flag (issue 10 section 6; its dialogue: tests/it/test_ussd_perk.sh).
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

#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"
#define ME "212612000001"
#define PEER "212698765432"
#define TRANSFER_MENU                                                                              \
    "Transfer points\n1 Send points\n2 Set or change my PIN\n3 Refer a friend\n0 Back"

static int f_balance(void *arg, int64_t *points)
{
    (void)arg;
    *points = 1250;
    return 0;
}

static int f_language(void *arg, char *out, size_t cap)
{
    snprintf(out, cap, "%s", (const char *)arg);
    return 0;
}

static const struct ussd_subscriber_ops fake_sub = {.balance = f_balance, .language = f_language};

struct fx {
    struct ussd_config cfg;
    struct ussd_menus *menus;
    struct ussd_env env;
    struct ussd_state st;
    struct ussd_reply r;
    char lang[8];
};

static const char *const prefixes[] = {"212"};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    ussd_config_defaults(&x->cfg);
    assert_int_equal(ussd_menus_load(SHIPPED, &x->menus, err, sizeof(err)), 0);
    snprintf(x->lang, sizeof(x->lang), "en");
    x->env = (struct ussd_env){.cfg = &x->cfg,
                               .menus = x->menus,
                               .sub = &fake_sub,
                               .sub_arg = x->lang,
                               .msisdn = ME,
                               .prefixes = prefixes,
                               .n_prefixes = 1,
                               .xfer_n = -1};
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    ussd_menus_free(x->menus);
    free(x);
    return 0;
}

static void answer(struct fx *x, const char *in, const char *screen)
{
    assert_int_equal(ussd_engine_answer(&x->env, in, strlen(in), &x->st, &x->r), 0);
    if (screen && strcmp(x->r.text, screen) != 0)
        fail_msg("answer \"%s\" gave:\n%s\nexpected:\n%s", in, x->r.text, screen);
}

/* From the root to the PIN screen of a transfer of 150 points to PEER. */
static void to_pin_screen(struct fx *x)
{
    assert_int_equal(ussd_engine_open(&x->env, "*555#", 5, &x->st, &x->r), 0);
    answer(x, "7", TRANSFER_MENU);
    answer(x, "8", "Invalid choice\n" TRANSFER_MENU);
    answer(x, "1", NULL);
    assert_string_equal(x->st.node, "xfer_to");
    answer(x, "0612", NULL);
    assert_true(strncmp(x->r.text, "Invalid number (country code + number)\n", 39) == 0);
    answer(x, ME, NULL);
    assert_true(strncmp(x->r.text, "That is your own number\n", 24) == 0);
    answer(x, "+" PEER, "Points to send to 2126******32:\n0 Back");
    answer(x, "12a", "Invalid amount (digits only)\nPoints to send to 2126******32:\n0 Back");
    answer(x, "150", "Send 150 points to 2126******32?\n1 Yes, continue\n2 No\n0 Back");
    answer(x, "1", "Enter your 4-digit transfer PIN to send 150 points to 2126******32:\n0 Back");
    assert_true(x->r.confirm);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_transfer__dialogue__pin_answer_carries_the_transfer(void **state)
{
    struct fx *x = *state;
    struct ussd_state before;
    char rec[USSD_RECORD_MAX];
    struct ussd_record r = {.fsm_state = USSD_ST_CONFIRM, .started_ms = 1, .last_ms = 2};

    to_pin_screen(x);
    /* the record between screens keeps recipient and amount, never a PIN */
    r.st = x->st;
    assert_true(ussd_record_format(&r, rec, sizeof(rec)) > 0);
    assert_non_null(strstr(rec, "b=" PEER));
    assert_non_null(strstr(rec, "m=150"));

    answer(x, "12",
           "A PIN is 4 digits\nEnter your 4-digit transfer PIN to send 150 points to "
           "2126******32:\n0 Back");
    before = x->st;
    /* Persian digits are digits */
    answer(x, "\u06F2\u06F5\u06F8\u06F0", NULL);
    assert_int_equal(x->r.effect, USSD_EFFECT_TRANSFER);
    assert_string_equal(x->r.effect_to, PEER);
    assert_int_equal(x->r.effect_price, 150);
    assert_string_equal(x->r.effect_pin, "2580");
    r.st = x->st;
    assert_true(ussd_record_format(&r, rec, sizeof(rec)) > 0);
    assert_null(strstr(rec, "2580"));

    /* the transport runs the same answer again with the outcome */
    x->st = before;
    x->env.outcome = USSD_XFER_OK;
    answer(x, "2580", "Done: 150 points sent to 2126******32. You will both get an SMS.");
    assert_true(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_transfer__outcomes__each_refusal_has_its_screen(void **state)
{
    struct fx *x = *state;
    static const struct {
        const char *outcome;
        int64_t n;
        const char *until, *screen;
    } cases[] = {
        {"badpin", 2, NULL, "Wrong PIN.\nTries left before transfers are locked: 2"},
        {"locked", -1, "08/12 10:15",
         "Too many wrong PINs. Transfers are locked.\nUntil: 08/12 10:15"},
        {"frozen", -1, "09/12 08:00",
         "Transfers are paused after your SIM change, for your safety.\nUntil: 09/12 08:00"},
        {"min", 10, NULL, "The minimum transfer is 10 points."},
        {"daycap", 40, NULL,
         "Today's transfer limit is reached.\nYou can still send 40 points today."},
        {"balance", 90, NULL, "Not enough points.\nYou can send up to 90 points."},
        {"not_member", -1, NULL, "2126******32 is not a member of the club. No points were sent."},
        {"nopin", -1, NULL, "Set your transfer PIN first: Transfer points > Set or change my PIN."},
    };

    to_pin_screen(x);
    struct ussd_state at_pin = x->st;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x->st = at_pin;
        x->env.outcome = cases[i].outcome;
        x->env.xfer_n = cases[i].n;
        x->env.until = cases[i].until;
        answer(x, "2580", cases[i].screen);
        assert_true(x->r.end);
    }
    /* an outcome the file does not know: "unavailable", the dialogue ends */
    x->st = at_pin;
    x->env.outcome = "bogus";
    answer(x, "2580", "Service unavailable, try later");
    assert_true(x->r.end);
}

static void test_transfer__no__cancels_without_effect(void **state)
{
    struct fx *x = *state;

    assert_int_equal(ussd_engine_open(&x->env, "*555#", 5, &x->st, &x->r), 0);
    answer(x, "7", NULL);
    answer(x, "1", NULL);
    answer(x, PEER, NULL);
    answer(x, "150", NULL);
    answer(x, "2", "Transfer cancelled. No points were sent.");
    assert_true(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_transfer__pin_change__forms_and_weak_pins(void **state)
{
    struct fx *x = *state;
    struct ussd_state at;
    static const char *const bad[] = {"2580",  "2580*2581",           "1234*1234",  "1111*1111",
                                      "12*12", "1357*2580*2580*2580", "2580**2580", "*2580*2580"};

    assert_int_equal(ussd_engine_open(&x->env, "*555#", 5, &x->st, &x->r), 0);
    answer(x, "7", NULL);
    answer(x, "2", NULL);
    assert_string_equal(x->st.node, "xfer_pin_set");
    assert_true(x->r.confirm);
    at = x->st;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        x->st = at;
        answer(x, bad[i], NULL);
        if (strncmp(x->r.text, "PINs differ or PIN too simple\n", 30) != 0)
            fail_msg("\"%s\" gave:\n%s", bad[i], x->r.text);
        assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    }
    x->st = at;
    answer(x, "2580*2580#", NULL);
    assert_int_equal(x->r.effect, USSD_EFFECT_SET_PIN);
    assert_string_equal(x->r.effect_pin, "2580");
    assert_string_equal(x->r.effect_old_pin, "");
    x->st = at;
    answer(x, " 1357*2580*2580 ", NULL);
    assert_int_equal(x->r.effect, USSD_EFFECT_SET_PIN);
    assert_string_equal(x->r.effect_pin, "2580");
    assert_string_equal(x->r.effect_old_pin, "1357");
    x->st = at;
    x->env.outcome = USSD_XFER_OK;
    answer(x, "1357*2580*2580", "Your transfer PIN is saved. Keep it secret.");
    assert_true(x->r.end);
}

static void test_transfer__mask__keeps_head_and_tail(void **state)
{
    char out[USSD_MSISDN_MAX];

    (void)state;
    ussd_mask_number(PEER, out, sizeof(out));
    assert_string_equal(out, "2126******32");
    ussd_mask_number("123456", out, sizeof(out));
    assert_string_equal(out, "****56");
    ussd_mask_number("", out, sizeof(out));
    assert_string_equal(out, "");
    assert_true(ussd_pin_acceptable("2580", 4));
    assert_false(ussd_pin_acceptable("9876", 4));
    assert_false(ussd_pin_acceptable("258", 3));
    assert_false(ussd_pin_acceptable("25a0", 4));
}

/* The premium perk's flag lives in the session record between its screens (k=1), and only a
 * confirm node may offer the perk. */
static void test_perk__record_flag_and_link_validation(void **state)
{
    struct fx *x = *state;
    struct ussd_record r = {.fsm_state = USSD_ST_MENU, .started_ms = 1, .last_ms = 2}, back;
    char rec[USSD_RECORD_MAX], err[256];
    struct ussd_menus *m = NULL;
    FILE *in = fopen(SHIPPED, "r");
    char *buf = calloc(1, 1 << 20), *at;
    size_t n;

    snprintf(r.st.node, sizeof(r.st.node), "perk_offer");
    snprintf(r.st.lang, sizeof(r.st.lang), "en");
    r.st.item = 1;
    r.st.perk = true;
    assert_true(ussd_record_format(&r, rec, sizeof(rec)) > 0);
    assert_non_null(strstr(rec, ";k=1"));
    assert_int_equal(ussd_record_parse(rec, strlen(rec), &back), 0);
    assert_true(back.st.perk);
    assert_int_equal(ussd_record_parse("v=1;s=MENU;n=main;l=en;t=1;a=2;k=2", 34, &back), -EINVAL);
    assert_true(ussd_menus_has_node(x->menus, "perk_offer"));

    assert_non_null(in);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, in);
    fclose(in);
    /* the item node's "gift" link renamed "perk": refused, naming the key */
    at = strstr(buf, "\"gift\": \"gift\",");
    assert_non_null(at);
    memcpy(at, "\"perk\"", 6);
    assert_int_equal(ussd_menus_load_buffer(buf, n, "m.json", &m, err, sizeof(err)), -EINVAL);
    assert_non_null(
        strstr(err, "nodes.item.perk: only a \"confirm\" node offers the premium perk"));
    free(buf);
}

/* The referral's menu entry (issue 10 section 1): Transfer points > Refer a friend asks for the
 * number; the answer is carried to the transport as ASCII (effect REFER, a confirmation screen:
 * the transport runs it before the store); "0" goes back (test_ussd_menu: the node needs the
 * file's "referral" section). */
static void test_refer__menu_entry__carries_the_number(void **state)
{
    struct fx *x = *state;
    struct ussd_state at;

    assert_int_equal(ussd_engine_open(&x->env, "*555#", 5, &x->st, &x->r), 0);
    answer(x, "7", TRANSFER_MENU);
    answer(x, "3", "Refer a friend.\nEnter their number with the country code (e.g. "
                   "212612345678):\n0 Back");
    assert_true(x->r.confirm);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    at = x->st;
    answer(x, "0", TRANSFER_MENU);
    x->st = at;
    /* "+212 6 98" in Persian digits, then ASCII: as the handset sent it, digits made ASCII */
    answer(x, "+\u06F2\u06F1\u06F2 698765432#", NULL);
    assert_int_equal(x->r.effect, USSD_EFFECT_REFER);
    assert_string_equal(x->r.effect_input, "+212 698765432");
    x->st = at;
    answer(x, "abc\u00e9", NULL);
    assert_int_equal(x->r.effect, USSD_EFFECT_REFER);
    assert_string_equal(x->r.effect_input, "");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_transfer__dialogue__pin_answer_carries_the_transfer),
        T(test_transfer__outcomes__each_refusal_has_its_screen),
        T(test_transfer__no__cancels_without_effect),
        T(test_transfer__pin_change__forms_and_weak_pins),
        T(test_transfer__mask__keeps_head_and_tail),
        T(test_perk__record_flag_and_link_validation),
        T(test_refer__menu_entry__carries_the_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
