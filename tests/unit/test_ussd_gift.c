/*
 * test_ussd_gift.c - the redemption half of the dialogue engine over the shipped menu file
 * (deploy/ussd-menus.json) and a fake subscriber / catalogue: premium gifting (the item screen's
 * "send as a gift" option, the beneficiary's number and its checks, the confirmation naming the
 * beneficiary), what a confirmation carries for the redeem hook (version, item reference and
 * price shown, beneficiary), the second pass with the redemption's outcome (the "granted" screen
 * and each refusal from "outcomes"), the session record keeping those fields, and the menu
 * file's validation of gift nodes and outcomes. Owner: the USSD redemption engineer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"
#define ME "212612000001"

/* ---------------------------------------------------------------- fakes */

struct fake {
    int64_t balance;
    int64_t price;
    bool open;
};

static int f_balance(void *arg, int64_t *points)
{
    *points = ((struct fake *)arg)->balance;
    return 0;
}

static int f_language(void *arg, char *out, size_t cap)
{
    (void)arg;
    snprintf(out, cap, "en");
    return 0;
}

static const struct ussd_subscriber_ops fake_sub = {.balance = f_balance, .language = f_language};

static int f_categories(void *arg, const char *lang, struct ussd_category *out, size_t max,
                        size_t *n)
{
    (void)arg;
    (void)lang;
    *n = max ? 1 : 0;
    out[0].id = 1;
    snprintf(out[0].name, sizeof(out[0].name), "Data");
    return 0;
}

static void fill(const struct fake *f, struct ussd_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = 3;
    it->category_id = 1;
    snprintf(it->name, sizeof(it->name), "1 GB");
    it->price = f->price;
    it->stock = 10;
    snprintf(it->version, sizeof(it->version), "v%" PRId64, f->price);
    snprintf(it->ref, sizeof(it->ref), "DATA_1GB");
}

static int f_items(void *arg, const char *lang, uint32_t cat, struct ussd_item *out, size_t max,
                   size_t *n)
{
    (void)lang;
    *n = 0;
    if (cat == 1 && max)
        fill(arg, &out[(*n)++]);
    return 0;
}

static int f_item(void *arg, const char *lang, uint32_t id, struct ussd_item *out)
{
    (void)lang;
    if (id != 3 || ((struct fake *)arg)->price < 0)
        return -ENOENT;
    fill(arg, out);
    return 0;
}

static int f_window(void *arg, const char *lang, const char *tier, bool pass, bool *open,
                    char *next, size_t cap)
{
    (void)tier;
    (void)pass;
    (void)lang;
    *open = ((struct fake *)arg)->open;
    snprintf(next, cap, "%s", *open ? "" : "Wed 02/12 00:00");
    return 0;
}

static const struct ussd_catalog_ops fake_cat = {f_categories, f_items, f_item, f_window};

struct fx {
    struct ussd_config cfg;
    struct ussd_menus *menus;
    struct fake f;
    struct ussd_env env;
    struct ussd_state st;
    struct ussd_reply r;
};

static const char *const prefixes[] = {"212"};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    ussd_config_defaults(&x->cfg);
    assert_int_equal(ussd_menus_load(SHIPPED, &x->menus, err, sizeof(err)), 0);
    x->f = (struct fake){.balance = 2000, .price = 500, .open = true};
    x->env = (struct ussd_env){.cfg = &x->cfg,
                               .menus = x->menus,
                               .sub = &fake_sub,
                               .sub_arg = &x->f,
                               .cat = &fake_cat,
                               .cat_arg = &x->f,
                               .msisdn = ME,
                               .may_gift = true,
                               .prefixes = prefixes,
                               .n_prefixes = 1};
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

static void open_(struct fx *x, const char *dialled, const char *want)
{
    assert_int_equal(ussd_engine_open(&x->env, dialled, strlen(dialled), &x->st, &x->r), 0);
    assert_string_equal(x->r.text, want);
}

static void answer(struct fx *x, const char *in, const char *want)
{
    assert_int_equal(ussd_engine_answer(&x->env, in, strlen(in), &x->st, &x->r), 0);
    assert_string_equal(x->r.text, want);
}

/* the redemption's screen asks for a rating (the suggestion box): skippable with 0 */
#define RATE_LINE "\nRate this service from 1 to 5 (0 to skip)"
#define ITEM_GIFT                                                                                  \
    "1 GB (code 3)\nPrice: 500 points\nIn stock: 10\n1 Redeem\n2 Send as a gift\n0 Back"
#define ASK                                                                                        \
    "Send 1 GB as a gift.\nEnter your relative's number with the country code (e.g. "              \
    "212612345678):\n0 Back"

/* ---------------------------------------------------------------- gifting */

static void test_gift__premium__number_checked_confirm_names_beneficiary(void **state)
{
    struct fx *x = *state;

    open_(x, "*555*2*3#", ITEM_GIFT);
    answer(x, "2", ASK);
    answer(x, ME, "That is your own number\n" ASK);
    answer(x, "+" ME, "That is your own number\n" ASK);
    answer(x, "0612345678", "Invalid number (country code + number)\n" ASK);  /* no prefix */
    answer(x, "33612345678", "Invalid number (country code + number)\n" ASK); /* other prefix */
    answer(x, "2126123", "Invalid number (country code + number)\n" ASK);     /* 7 digits */
    answer(x, "2126123456789012", "Invalid number (country code + number)\n" ASK); /* 16 */
    answer(x, "21261234x678", "Invalid number (country code + number)\n" ASK);
    assert_string_equal(x->st.to, "");
    /* Arabic-Indic digits, the "00" international form, spaces and a final '#' are fine */
    answer(x, "00 ٢١٢ 698-765432#",
           "Send 1 GB to 212698765432 for 500 points?\n1 Yes, confirm\n2 No");
    assert_true(x->r.confirm);
    assert_string_equal(x->st.to, "212698765432");
    assert_string_equal(x->st.version, "v500");
    assert_string_equal(x->st.ref, "DATA_1GB");
    assert_int_equal(x->st.price, 500);

    /* first pass: the effect carries what the screen showed */
    struct ussd_state before = x->st;
    answer(x, "1",
           "Gift 1 GB sent to 212698765432. They will get an SMS saying it is from you. "
           "You will get an SMS confirmation.");
    assert_int_equal(x->r.effect, USSD_EFFECT_REDEEM);
    assert_int_equal(x->r.effect_item, 3);
    assert_string_equal(x->r.effect_to, "212698765432");
    assert_string_equal(x->r.effect_version, "v500");
    assert_string_equal(x->r.effect_ref, "DATA_1GB");
    assert_int_equal(x->r.effect_price, 500);
    assert_true(x->r.end);

    /* second pass with the outcome: the same screen, no effect */
    x->st = before;
    x->env.outcome = USSD_OUTCOME_GRANTED;
    answer(x, "1",
           "Gift 1 GB sent to 212698765432. They will get an SMS saying it is from you. "
           "You will get an SMS confirmation.");
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_gift__not_premium__no_gift_option(void **state)
{
    struct fx *x = *state;

    x->env.may_gift = false;
    open_(x, "*555*2*3#", "1 GB (code 3)\nPrice: 500 points\nIn stock: 10\n1 Redeem\n0 Back");
    answer(x, "2",
           "Invalid choice\n1 GB (code 3)\nPrice: 500 points\nIn stock: 10\n1 Redeem\n0 Back");
    /* closed: neither option */
    x->env.may_gift = true;
    x->f.open = false;
    open_(x, "*555*2*3#",
          "1 GB (code 3)\nPrice: 500 points\nIn stock: 10\nNext gift day: Wed 02/12 00:00\n0 Back");
}

static void
test_gift__back_from_number_screen__item_again_then_self_redeem_has_no_beneficiary(void **state)
{
    struct fx *x = *state;

    open_(x, "*555*2*3#", ITEM_GIFT);
    answer(x, "2", ASK);
    answer(x, "212698765432", "Send 1 GB to 212698765432 for 500 points?\n1 Yes, confirm\n2 No");
    answer(x, "2", ASK); /* "No" goes back to the number */
    answer(x, "0", ITEM_GIFT);
    answer(x, "1", "Redeem 1 GB for 500 points?\n1 Yes, confirm\n2 No");
    assert_string_equal(x->st.to, "");
    answer(x, "1", "Request received for 1 GB. You will get an SMS confirmation." RATE_LINE);
    assert_int_equal(x->r.effect, USSD_EFFECT_REDEEM);
    assert_string_equal(x->r.effect_to, "");
}

/* ---------------------------------------------------------------- outcomes */

static void outcome(struct fx *x, const char *name, const char *want)
{
    struct ussd_state at_confirm;
    bool closes = strcmp(name, "closed") == 0;

    x->env.outcome = NULL;
    x->f.open = true;
    open_(x, "*555*2*3#", ITEM_GIFT);
    answer(x, "1", "Redeem 1 GB for 500 points?\n1 Yes, confirm\n2 No");
    at_confirm = x->st;
    x->f.open = !closes; /* the redemption found the gift day closed: so does the screen */
    x->env.outcome = name;
    answer(x, "1", want);
    assert_true(x->r.end == (strcmp(name, "granted") != 0)); /* granted: the rating follows */
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    x->st = at_confirm;
}

static void test_outcomes__each_refusal__its_screen_from_the_menu_file(void **state)
{
    struct fx *x = *state;

    outcome(x, "granted", "Request received for 1 GB. You will get an SMS confirmation." RATE_LINE);
    outcome(x, "out_of_stock", "1 GB is out of stock for today.");
    outcome(x, "balance", "Not enough points for 1 GB (500 points).\nBalance: 2000 points");
    outcome(x, "limit", "You reached today's limit for 1 GB.");
    outcome(x, "blocked", "Your account is blocked. Please call customer care.");
    outcome(x, "unavailable", "This gift is not available any more.");
    outcome(x, "price_changed", "The offer has changed. Please check the catalogue again.");
    outcome(x, "gift_refused", "This gift cannot be sent to that number.");
    outcome(x, "expired", "Your request expired. Please try again.");
    outcome(x, "tier", "1 GB needs a higher tier."); /* no tier known: its line is left out */
    /* closed meanwhile: the next opening in local time comes from the catalogue provider */
    outcome(x, "closed", "Gifts can be redeemed on gift days only.\nNext opening: Wed 02/12 00:00");
    /* a name the file does not know: the "unavailable" label, the dialogue ends */
    outcome(x, "mystery", "Service unavailable, try later");
}

static json_t *shipped(void);

/* Staggered opening (issue 12): the member's slot from the transport, the live stock from the
 * catalogue; without a slot its line is left out. */
static void test_outcomes__not_released__slot_and_live_stock(void **state)
{
    struct fx *x = *state;

    x->env.slot = "Wed 09/12 10:15";
    outcome(x, "not_released", "1 GB opens in waves.\nYour slot: Wed 09/12 10:15\nIn stock: 10");
    x->env.slot = NULL;
    outcome(x, "not_released", "1 GB opens in waves.\nIn stock: 10");
}

/* A draw (issue 12): registered with the draw's time and the live stock, the waiting-list
 * position, registration closed - the shipped screens with the transport's {slot}. */
static void test_outcomes__draw__time_position_and_stock(void **state)
{
    struct fx *x = *state;

    x->env.slot = "Wed 09/12 10:00";
    outcome(x, "draw_registered",
            "You are registered for the 1 GB draw.\nDraw: Wed 09/12 10:00\nIn stock: 10");
    x->env.slot = "3";
    outcome(x, "draw_waiting", "Not drawn for 1 GB yet.\nWaiting list position: 3");
    x->env.slot = NULL;
    outcome(x, "draw_closed", "Registration for the 1 GB draw is closed.");
    outcome(x, "draw_lost", "You were not drawn for 1 GB this time.");
}

/* A menu file written before "not_released" existed still loads: the outcome shows its
 * "unavailable" screen. */
static void test_outcomes__file_without_not_released__unavailable_screen(void **state)
{
    struct fx *x = *state;
    json_t *doc = shipped();
    struct ussd_menus *m = NULL;
    char err[256];

    json_object_del(json_object_get(doc, "outcomes"), "not_released");
    char *text = json_dumps(doc, 0);
    assert_non_null(text);
    assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, sizeof(err)), 0);
    free(text);
    json_decref(doc);
    ussd_menus_free(x->menus);
    x->menus = m;
    x->env.menus = m;
    x->env.slot = "Wed 09/12 10:15";
    outcome(x, "not_released", "This gift is not available any more.");
}

static void test_outcomes__item_withdrawn_before_the_answer__unavailable_screen(void **state)
{
    struct fx *x = *state;

    open_(x, "*555*2*3#", ITEM_GIFT);
    answer(x, "1", "Redeem 1 GB for 500 points?\n1 Yes, confirm\n2 No");
    x->f.price = -1; /* f_item: the item is gone (stopped by marketing) */
    answer(x, "1", "This gift is not available any more.");
    assert_true(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_outcomes__price_shown_is_kept_even_when_the_catalogue_changes(void **state)
{
    struct fx *x = *state;

    open_(x, "*555*2*3#", ITEM_GIFT);
    answer(x, "1", "Redeem 1 GB for 500 points?\n1 Yes, confirm\n2 No");
    x->f.price = 900; /* a reload between the screens */
    assert_int_equal(ussd_engine_answer(&x->env, "1", 1, &x->st, &x->r), 0);
    assert_int_equal(x->r.effect, USSD_EFFECT_REDEEM);
    assert_int_equal(x->r.effect_price, 500);
    assert_string_equal(x->r.effect_version, "v500");
}

/* ---------------------------------------------------------------- the record */

static void test_record__confirmation_fields__round_trip_and_hostile_values(void **state)
{
    struct ussd_record rec, back;
    char buf[USSD_RECORD_MAX];
    (void)state;

    memset(&rec, 0, sizeof(rec));
    rec.fsm_state = USSD_ST_CONFIRM;
    snprintf(rec.st.node, sizeof(rec.st.node), "gift_confirm");
    snprintf(rec.st.lang, sizeof(rec.st.lang), "ar");
    rec.st.item = 3;
    snprintf(rec.st.version, sizeof(rec.st.version), "2026-11-25.a12");
    snprintf(rec.st.ref, sizeof(rec.st.ref), "DATA_1GB");
    rec.st.price = 500;
    snprintf(rec.st.to, sizeof(rec.st.to), "212698765432");
    rec.started_ms = 1764000000123;
    rec.last_ms = 1764000001456;
    snprintf(rec.st.dialled, sizeof(rec.st.dialled), "*555*2*3#");
    int n = ussd_record_format(&rec, buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, ";w=2026-11-25.a12;r=DATA_1GB;m=500;b=212698765432"));
    assert_int_equal(ussd_record_parse(buf, (size_t)n, &back), 0);
    assert_string_equal(back.st.version, rec.st.version);
    assert_string_equal(back.st.ref, rec.st.ref);
    assert_int_equal(back.st.price, 500);
    assert_string_equal(back.st.to, rec.st.to);
    assert_int_equal(back.started_ms, rec.started_ms);

    /* a record without them (an older writer) still parses, empty */
    const char *old = "v=1;s=MENU;n=main;p=0;l=fr;c=0;i=0;e=0;t=1;a=2;d=*555#";
    assert_int_equal(ussd_record_parse(old, strlen(old), &back), 0);
    assert_string_equal(back.st.to, "");
    assert_int_equal(back.st.price, 0);

    /* hostile stored values are refused whole */
    const char *bad[] = {
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;b=21269876543x",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;b=2126987654321098",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;m=0",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;m=-5",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;w=a b",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;r=",
        "v=1;s=MENU;n=main;l=fr;t=1;a=2;w=x;w=y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ussd_record_parse(bad[i], strlen(bad[i]), &back), -EINVAL);
}

/* ---------------------------------------------------------------- menu file validation */

static json_t *shipped(void)
{
    json_error_t e;
    json_t *doc = json_load_file(SHIPPED, 0, &e);
    assert_non_null(doc);
    return doc;
}

static void expect_error(json_t *doc, const char *want)
{
    char *text = json_dumps(doc, 0);
    struct ussd_menus *m = NULL;
    char err[512];

    assert_non_null(text);
    assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, sizeof(err)),
                     -EINVAL);
    assert_null(m);
    assert_string_equal(err, want);
    free(text);
    json_decref(doc);
}

static void test_menu__gift_and_outcomes_mistakes__each_names_its_key(void **state)
{
    json_t *doc;
    (void)state;

    doc = shipped();
    json_object_del(json_object_get(doc, "outcomes"), "limit");
    expect_error(doc, "m.json: outcomes.limit: missing (every outcome needs its screen)");

    doc = shipped();
    json_object_set_new(json_object_get(doc, "outcomes"), "late", json_string("refused_limit"));
    expect_error(doc, "m.json: outcomes.late: unknown outcome (closed, out_of_stock, balance, "
                      "limit, tier, blocked, unavailable, price_changed, gift_refused, expired, "
                      "not_released, draw_registered, draw_won, draw_waiting, draw_lost, "
                      "draw_closed, velocity, frozen, perk_limit)");

    doc = shipped();
    json_object_set_new(json_object_get(doc, "outcomes"), "tier", json_string("main"));
    expect_error(doc, "m.json: outcomes.tier: must be an \"info\" node with \"end\": true");

    doc = shipped();
    json_object_set_new(json_object_get(json_object_get(doc, "nodes"), "confirm"), "gift",
                        json_string("gift"));
    expect_error(doc, "m.json: nodes.confirm.gift: only an \"item\" node offers gifting");

    doc = shipped();
    json_object_set_new(json_object_get(json_object_get(doc, "nodes"), "item"), "gift",
                        json_string("confirm"));
    expect_error(doc, "m.json: nodes.item.gift: must lead to a node of type \"gift\" "
                      "(\"confirm\" is \"confirm\")");

    doc = shipped();
    json_object_del(json_object_get(json_object_get(json_object_get(doc, "menus"), "fa"), "item"),
                    "gift");
    expect_error(doc, "m.json: menus.fa.item.gift: missing");

    doc = shipped();
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(doc, "menus"), "fr"), "gift"), "bad_number",
        json_string("Numéro {beneficiaire} invalide"));
    expect_error(doc, "m.json: menus.fr.gift.bad_number: unknown placeholder {beneficiaire}");

    doc = shipped();
    json_object_set_new(json_object_get(doc, "shortcuts"), "3", json_string("gift"));
    expect_error(doc, "m.json: shortcuts.3: a \"gift\" node cannot be opened by a shortcut");

    /* a file without gifting or outcomes stays valid (older files) */
    doc = shipped();
    json_t *nodes = json_object_get(doc, "nodes");
    json_object_del(json_object_get(nodes, "item"), "gift");
    json_object_del(doc, "outcomes");
    const char *lang;
    json_t *v;
    json_object_foreach (json_object_get(doc, "menus"), lang, v)
        json_object_del(json_object_get(v, "item"), "gift");
    char *text = json_dumps(doc, 0);
    struct ussd_menus *m = NULL;
    char err[512];
    assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, sizeof(err)), 0);
    ussd_menus_free(m);
    free(text);
    json_decref(doc);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_gift__premium__number_checked_confirm_names_beneficiary),
        T(test_gift__not_premium__no_gift_option),
        T(test_gift__back_from_number_screen__item_again_then_self_redeem_has_no_beneficiary),
        T(test_outcomes__each_refusal__its_screen_from_the_menu_file),
        T(test_outcomes__item_withdrawn_before_the_answer__unavailable_screen),
        T(test_outcomes__not_released__slot_and_live_stock),
        T(test_outcomes__draw__time_position_and_stock),
        T(test_outcomes__file_without_not_released__unavailable_screen),
        T(test_outcomes__price_shown_is_kept_even_when_the_catalogue_changes),
        cmocka_unit_test(test_record__confirmation_fields__round_trip_and_hostile_values),
        cmocka_unit_test(test_menu__gift_and_outcomes_mistakes__each_names_its_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
