/*
 * test_ussd_rating.c - the "rating" node of the USSD engine (the suggestion box, issue 10
 * section 2) on the shipped menus: the main menu's Suggestions screen, 1..5 as an effect with the
 * node's id and no item, 0 back to the menu, anything else the same screen with the error line;
 * and a menu file whose rating node has no "next" refused naming the key.
 * Owner: the suggestion-box engineer.
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
#define SUGGEST                                                                                    \
    "Send your ideas by SMS to 555: IDEA followed by your text.\nRate the club from 1 to 5 (0 Back)"

static int f_language(void *arg, char *out, size_t cap)
{
    (void)arg;
    snprintf(out, cap, "en");
    return 0;
}
static const struct ussd_subscriber_ops fake_sub = {.language = f_language};

struct fx {
    struct ussd_config cfg;
    struct ussd_menus *menus;
    struct ussd_env env;
    struct ussd_state st;
    struct ussd_reply r;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    ussd_config_defaults(&x->cfg);
    assert_int_equal(0, ussd_menus_load(SHIPPED, &x->menus, err, sizeof(err)));
    x->env = (struct ussd_env){.cfg = &x->cfg, .menus = x->menus, .sub = &fake_sub};
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

static void answer(struct fx *x, const char *in)
{
    assert_int_equal(0, ussd_engine_answer(&x->env, in, strlen(in), &x->st, &x->r));
}

static void test_rating__suggestions_menu__rates_skips_and_refuses(void **state)
{
    struct fx *x = *state;

    assert_int_equal(0, ussd_engine_open(&x->env, "*555#", 5, &x->st, &x->r));
    answer(x, "6");
    assert_string_equal(x->r.text, SUGGEST);
    assert_false(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "6"); /* not a rating: the same screen with the error line, no effect */
    assert_string_equal(x->r.text, "Invalid choice\n" SUGGEST);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "0"); /* back to the main menu */
    assert_non_null(strstr(x->r.text, "6 Suggestions"));
    answer(x, "6");
    answer(x, "3");
    assert_true(x->r.end);
    assert_int_equal(x->r.effect, USSD_EFFECT_RATE);
    assert_int_equal(x->r.effect_rating, 3);
    assert_string_equal(x->r.effect_node, "suggest");
    assert_int_equal(x->r.effect_item, 0); /* not after a redemption */
    assert_string_equal(x->r.text, "Thank you! Send your ideas by SMS to 555, starting with IDEA.");
}

static void test_rating__node_without_next__refused(void **state)
{
    static const char doc[] =
        "{\"version\": 1, \"languages\": [{\"code\": \"en\", \"name\": \"English\"}],"
        " \"default_language\": \"en\", \"root\": \"r\","
        " \"nodes\": {\"r\": {\"type\": \"rating\", \"back\": \"r\"}},"
        " \"labels\": {\"en\": {\"more\": \"00 More\", \"back\": \"0 Back\", \"invalid\": \"Bad\","
        " \"unavailable\": \"Later\", \"no_history\": \"None\"}},"
        " \"menus\": {\"en\": {\"r\": {\"text\": \"Rate 1-5\"}}}}";
    struct ussd_menus *m = NULL;
    char err[256];

    (void)state;
    assert_int_equal(-EINVAL, ussd_menus_load_buffer(doc, sizeof(doc) - 1, "m.json", &m, err,
                                                     sizeof(err)));
    assert_null(m);
    assert_string_equal(err, "m.json: nodes.r.next: missing (a \"rating\" node leads somewhere)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rating__suggestions_menu__rates_skips_and_refuses,
                                        setup, teardown),
        cmocka_unit_test(test_rating__node_without_next__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
