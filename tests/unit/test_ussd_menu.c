/*
 * test_ussd_menu.c - the menu file (ussd_menu.c): the shipped deploy/ussd-menus.json is valid;
 * every kind of mistake marketing can make is refused with a message naming the JSON path (or the
 * line, for a syntax error); a reload keeps the old menus when the new file is wrong.
 *
 * Broken files are made from the shipped one with jansson (load, change one value, dump), so each
 * case differs from a valid file by exactly the mistake it tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"

static json_t *shipped(void)
{
    json_error_t jerr;
    json_t *doc = json_load_file(SHIPPED, 0, &jerr);
    assert_non_null(doc);
    return doc;
}

/* json_t at a dotted path ("menus.fr.points"); each part an object key or an array index. */
static json_t *at(json_t *doc, const char *path)
{
    char buf[256];
    json_t *cur = doc;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)atoi(tok));
        else
            cur = json_object_get(cur, tok);
        assert_non_null(cur);
    }
    return cur;
}

/* Loads doc (consumed) as "m.json" and returns rc, with the message in err. */
static int load_doc(json_t *doc, char *err, size_t errlen)
{
    char *text = json_dumps(doc, JSON_INDENT(2));
    struct ussd_menus *m = NULL;
    int rc;

    assert_non_null(text);
    err[0] = '\0';
    rc = ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, errlen);
    if (rc == 0)
        assert_non_null(m);
    else
        assert_null(m);
    ussd_menus_free(m);
    free(text);
    json_decref(doc);
    return rc;
}

static void expect_error(json_t *doc, const char *msg)
{
    char err[512];

    assert_int_equal(load_doc(doc, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
}

/* ---------------------------------------------------------------- the shipped file */

static void test_menu__shipped_file__validates_with_four_languages(void **state)
{
    struct ussd_menus *m = NULL;
    char err[512] = "";

    (void)state;
    assert_int_equal(ussd_menus_load(SHIPPED, &m, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(ussd_menus_lang_count(m), 4);
    assert_string_equal(ussd_menus_lang_code(m, 0), "ar");
    assert_string_equal(ussd_menus_lang_code(m, 1), "fr");
    assert_string_equal(ussd_menus_lang_code(m, 2), "en");
    assert_string_equal(ussd_menus_lang_code(m, 3), "fa");
    assert_null(ussd_menus_lang_code(m, 4));
    assert_string_equal(ussd_menus_default_lang(m), "fr");
    assert_true(ussd_menus_has_lang(m, "fa"));
    assert_false(ussd_menus_has_lang(m, "de"));
    const char *nodes[] = {"main",    "points",   "history",  "catalog",        "items", "item",
                           "confirm", "redeemed", "language", "language_saved", "help"};
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
        assert_true(ussd_menus_has_node(m, nodes[i]));
    assert_false(ussd_menus_has_node(m, "nowhere"));
    ussd_menus_free(m);
    ussd_menus_free(NULL);
}

/* An optional label (issue 10 §5): in the four languages of the shipped file, apart from
 * "unavailable"; a file without it shows "unavailable"; too long or empty is refused like any
 * label. */
static void optional_label(const char *name, const char *en)
{
    struct ussd_menus *m = NULL;
    char err[512] = "", path[64];
    json_t *doc;

    assert_int_equal(ussd_menus_load(SHIPPED, &m, err, sizeof(err)), 0);
    assert_string_equal(ussd_menus_label(m, "en", name), en);
    for (const char *const *l = (const char *const[]){"ar", "fr", "fa", NULL}; *l; l++)
        assert_string_not_equal(ussd_menus_label(m, *l, name),
                                ussd_menus_label(m, *l, "unavailable"));
    ussd_menus_free(m);

    doc = shipped();
    for (const char *const *l = (const char *const[]){"ar", "fr", "en", "fa", NULL}; *l; l++)
        json_object_del(json_object_get(at(doc, "labels"), *l), name);
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, sizeof(err)),
                     0);
    free(text);
    assert_string_equal(ussd_menus_label(m, "en", name), ussd_menus_label(m, "en", "unavailable"));
    ussd_menus_free(m);

    doc = shipped();
    json_object_set_new(at(doc, "labels.en"), name, json_string(""));
    snprintf(path, sizeof(path), "m.json: labels.en.%s: must not be empty", name);
    expect_error(doc, path);
}

/* "processing": a redemption paid that the store did not finish. */
static void test_menu__processing_label__shipped_optional_and_validated(void **state)
{
    (void)state;
    optional_label("processing", "Request in progress, an SMS will follow");
}

/* "store_down": a step the store failed before anything was charged. */
static void test_menu__store_down_label__shipped_optional_and_validated(void **state)
{
    (void)state;
    optional_label("store_down", "Service unavailable, nothing charged");
}

/* The referral section (issue 10): shipped with a screen per outcome; optional; validated. */
static void test_menu__referral_section__shipped_optional_and_validated(void **state)
{
    struct ussd_menus *m = NULL;
    char err[512] = "";
    json_t *doc;

    (void)state;
    assert_int_equal(ussd_menus_load(SHIPPED, &m, err, sizeof(err)), 0);
    assert_string_equal(ussd_menus_referral_shortcut(m), "7");
    for (size_t k = 0; k < USSD_REFERRAL_SCREENS; k++)
        assert_non_null(ussd_menus_referral_node(m, ussd_referral_screens[k]));
    assert_string_equal(ussd_menus_referral_node(m, "loop"), "ref_loop");
    assert_null(ussd_menus_referral_node(m, "granted"));
    ussd_menus_free(m);

    doc = shipped();
    json_object_del(doc, "referral");
    /* its menu entry, a "refer" node, needs the section; without both the file is valid */
    json_t *bare = json_deep_copy(doc);
    expect_error(bare, "m.json: nodes.ref_ask: a \"refer\" node needs the \"referral\" section "
                       "(its outcomes' screens)");
    json_object_del(at(doc, "nodes"), "ref_ask");
    json_array_remove(at(doc, "nodes.transfer.options"), 2);
    for (const char *const *l = (const char *const[]){"ar", "fr", "en", "fa", NULL}; *l; l++) {
        json_t *lm = json_object_get(at(doc, "menus"), *l);
        json_object_del(lm, "ref_ask");
        json_array_remove(at(lm, "transfer.options"), 2);
    }
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, sizeof(err)),
                     0);
    free(text);
    assert_null(ussd_menus_referral_shortcut(m));
    assert_null(ussd_menus_referral_node(m, "ok"));
    ussd_menus_free(m);

    doc = shipped();
    json_object_del(at(doc, "referral"), "cap");
    expect_error(doc, "m.json: referral.cap: missing (every outcome needs its screen)");
    doc = shipped();
    json_object_set_new(at(doc, "referral"), "loop", json_string("main"));
    expect_error(doc, "m.json: referral.loop: must be an \"info\" node with \"end\": true");
    doc = shipped();
    json_object_set_new(at(doc, "referral"), "shortcut", json_string("1"));
    expect_error(doc, "m.json: referral.shortcut: already a shortcut of \"shortcuts\"");
    doc = shipped();
    json_object_set_new(at(doc, "referral"), "nope", json_string("ref_ok"));
    expect_error(doc, "m.json: referral.nope: unknown (ok, bad_number, self, member, taken, "
                      "loop, cap, blocked)");
}

/* Persian text uses Persian YEH/KEHEH, Arabic text Arabic YEH/KAF: a subscriber notices. */
static void test_menu__shipped_file__persian_and_arabic_letters_not_mixed(void **state)
{
    json_t *doc = shipped();
    struct {
        const char *lang;
        const char *forbidden[2];
    } rules[] = {{"fa", {"\u064A", "\u0643"}}, {"ar", {"\u06CC", "\u06A9"}}};

    (void)state;
    for (size_t r = 0; r < 2; r++) {
        json_t *tree[2] = {at(doc, "menus"), at(doc, "labels")};
        for (size_t t = 0; t < 2; t++) {
            char *dump = json_dumps(json_object_get(tree[t], rules[r].lang), 0);
            assert_non_null(dump);
            for (size_t k = 0; k < 2; k++)
                assert_null(strstr(dump, rules[r].forbidden[k]));
            free(dump);
        }
    }
    json_decref(doc);
}

/* ---------------------------------------------------------------- semantic errors name the path */

static void test_menu__unknown_placeholder__names_text_path(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_set_new(at(doc, "menus.fr.points"), "text", json_string("Solde : {pointz} points"));
    expect_error(doc, "m.json: menus.fr.points.text: unknown placeholder {pointz}");
}

static void test_menu__unterminated_placeholder__names_text_path(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_set_new(at(doc, "menus.ar.points"), "text", json_string("Points {points"));
    expect_error(doc, "m.json: menus.ar.points.text: unterminated placeholder at offset 7");
}

static void test_menu__option_to_unknown_node__names_option(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_array_set_new(at(doc, "nodes.main.options"), 2, json_string("x"));
    expect_error(doc, "m.json: nodes.main.options[3]: unknown node \"x\"");
}

static void test_menu__back_to_unknown_node__names_back(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_set_new(at(doc, "nodes.help"), "back", json_string("nowhere"));
    expect_error(doc, "m.json: nodes.help.back: unknown node \"nowhere\"");
}

static void test_menu__loop_through_options__refused_loop_through_back_allowed(void **state)
{
    json_t *doc = shipped();

    (void)state;
    /* help -> main through "back" already loops (main -> help): that is the way up, fine */
    assert_string_equal(json_string_value(at(doc, "nodes.help.back")), "main");
    json_array_set_new(at(doc, "nodes.main.options"), 4, json_string("main"));
    expect_error(doc, "m.json: nodes.main.options[5]: \"main\" leads back to an earlier node (a "
                      "loop is allowed only through \"back\")");

    doc = shipped();
    json_object_set_new(at(doc, "nodes.confirm"), "next", json_string("catalog"));
    expect_error(doc, "m.json: nodes.confirm.next: \"catalog\" leads back to an earlier node (a "
                      "loop is allowed only through \"back\")");
}

static void test_menu__node_missing_in_one_language__names_it(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_del(at(doc, "menus.fa"), "help");
    expect_error(doc, "m.json: menus.fa.help: missing (every node needs a text in every "
                      "language)");
}

static void test_menu__text_for_unknown_node__names_it(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_set_new(at(doc, "menus.en"), "foo", json_pack("{s:s}", "text", "Foo"));
    expect_error(doc, "m.json: menus.en.foo: no such node in \"nodes\"");
}

static void test_menu__language_without_menus_or_labels__names_it(void **state)
{
    json_t *doc = shipped();

    (void)state;
    json_object_del(at(doc, "labels"), "ar");
    expect_error(doc, "m.json: labels.ar: missing (every language needs its labels)");

    doc = shipped();
    json_object_del(at(doc, "menus"), "fr");
    expect_error(doc, "m.json: menus.fr: missing (every language needs every node)");
}

static void test_menu__misc_mistakes__each_names_its_key(void **state)
{
    json_t *doc;

    (void)state;
    doc = shipped();
    json_object_set_new(at(doc, "menus.en.main"), "titel", json_string("x"));
    expect_error(doc, "m.json: menus.en.main: unknown key \"titel\"");

    doc = shipped();
    json_object_set_new(at(doc, "nodes.catalog"), "next", json_string("item"));
    expect_error(doc, "m.json: nodes.catalog.next: must lead to a node of type \"items\" "
                      "(\"item\" is \"item\")");

    doc = shipped();
    json_object_set_new(at(doc, "shortcuts"), "3", json_string("items"));
    expect_error(doc, "m.json: shortcuts.3: a \"items\" node cannot be opened by a shortcut");

    doc = shipped();
    json_object_set_new(doc, "default_language", json_string("de"));
    expect_error(doc, "m.json: default_language: \"de\" is not in languages");

    doc = shipped();
    json_array_remove(at(doc, "menus.fr.main.options"), 4);
    expect_error(doc, "m.json: menus.fr.main.options: expected 7 labels, one per option of "
                      "nodes.main");

    doc = shipped();
    json_object_set_new(at(doc, "nodes.points"), "type", json_string("page"));
    expect_error(doc, "m.json: nodes.points.type: unknown type \"page\" (menu, info, language, "
                      "categories, items, item, confirm, gift, recipient, amount, pin, pin_set)");

    doc = shipped();
    json_object_set_new(at(doc, "labels.en"), "back", json_string("Back"));
    expect_error(doc, "m.json: labels.en.back: must start with \"0 \"");

    doc = shipped();
    json_array_set_new(at(doc, "menus.en.main.options"), 0, json_string("My\npoints"));
    expect_error(doc, "m.json: menus.en.main.options[1]: must be one line");

    doc = shipped();
    json_object_set_new(at(doc, "labels.fr"), "invalid", json_string("{points}"));
    expect_error(doc, "m.json: labels.fr.invalid: placeholders are not allowed here");

    doc = shipped();
    json_object_set_new(at(doc, "nodes.item"), "end", json_true());
    expect_error(doc, "m.json: nodes.item.end: only an \"info\" node can end the dialogue");

    doc = shipped();
    json_object_set_new(doc, "colour", json_string("blue"));
    expect_error(doc, "m.json: (top): unknown key \"colour\"");

    doc = shipped();
    json_object_set_new(at(doc, "languages.3"), "code", json_string("ar"));
    expect_error(doc, "m.json: languages[3].code: \"ar\" is listed twice");
}

/* ---------------------------------------------------------------- syntax errors name the line */

static void test_menu__syntax_error__names_line_and_column(void **state)
{
    const char *bad = "{\n  \"version\": 1,\n  \"root\": \"main\"\n  \"nodes\": {}\n}\n";
    struct ussd_menus *m = NULL;
    char err[512];

    (void)state;
    assert_int_equal(ussd_menus_load_buffer(bad, strlen(bad), "m.json", &m, err, sizeof(err)),
                     -EINVAL);
    assert_null(m);
    assert_non_null(strstr(err, "m.json:4:"));

    assert_int_equal(ussd_menus_load("/nonexistent/ussd-menus.json", &m, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/ussd-menus.json: "));
    /* NULL err is allowed */
    assert_int_equal(ussd_menus_load_buffer(bad, strlen(bad), NULL, &m, NULL, 0), -EINVAL);
    /* not even JSON: garbage bytes with NULs */
    char junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 37);
    assert_int_equal(ussd_menus_load_buffer(junk, sizeof(junk), "junk", &m, err, sizeof(err)),
                     -EINVAL);
    assert_null(m);
}

/* ---------------------------------------------------------------- reload */

static void write_file(const char *path, json_t *doc)
{
    assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
}

static void test_menu__reload__keeps_old_on_error_swaps_on_success(void **state)
{
    char path[] = "/tmp/test_ussd_menu_XXXXXX";
    int fd = mkstemp(path);
    struct ussd_menus *m = NULL, *before;
    char err[512];
    json_t *doc = shipped();
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    write_file(path, doc);
    assert_int_equal(ussd_menus_load(path, &m, err, sizeof(err)), 0);
    before = m;

    /* semantic error: the old menus stay in place and usable */
    json_object_set_new(at(doc, "menus.fr.points"), "text", json_string("{pointz}"));
    write_file(path, doc);
    assert_int_equal(ussd_menus_reload(&m, path, NULL, err, sizeof(err)), -EINVAL);
    assert_ptr_equal(m, before);
    assert_non_null(strstr(err, ": menus.fr.points.text: unknown placeholder {pointz}"));
    assert_string_equal(ussd_menus_default_lang(m), "fr");

    /* syntax error: the same */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\n\"version\": 1,\n,\n}", f);
    fclose(f);
    assert_int_equal(ussd_menus_reload(&m, path, NULL, err, sizeof(err)), -EINVAL);
    assert_ptr_equal(m, before);
    assert_non_null(strstr(err, ":3:"));

    /* missing file: the same */
    unlink(path);
    assert_int_equal(ussd_menus_reload(&m, path, NULL, err, sizeof(err)), -ENOENT);
    assert_ptr_equal(m, before);

    /* a valid new file replaces the old one */
    json_decref(doc);
    doc = shipped();
    json_object_set_new(doc, "default_language", json_string("ar"));
    write_file(path, doc);
    assert_int_equal(ussd_menus_reload(&m, path, NULL, err, sizeof(err)), 0);
    assert_string_equal(ussd_menus_default_lang(m), "ar");

    json_decref(doc);
    ussd_menus_free(m);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_menu__shipped_file__validates_with_four_languages),
        cmocka_unit_test(test_menu__processing_label__shipped_optional_and_validated),
        cmocka_unit_test(test_menu__store_down_label__shipped_optional_and_validated),
        cmocka_unit_test(test_menu__referral_section__shipped_optional_and_validated),
        cmocka_unit_test(test_menu__shipped_file__persian_and_arabic_letters_not_mixed),
        cmocka_unit_test(test_menu__unknown_placeholder__names_text_path),
        cmocka_unit_test(test_menu__unterminated_placeholder__names_text_path),
        cmocka_unit_test(test_menu__option_to_unknown_node__names_option),
        cmocka_unit_test(test_menu__back_to_unknown_node__names_back),
        cmocka_unit_test(test_menu__loop_through_options__refused_loop_through_back_allowed),
        cmocka_unit_test(test_menu__node_missing_in_one_language__names_it),
        cmocka_unit_test(test_menu__text_for_unknown_node__names_it),
        cmocka_unit_test(test_menu__language_without_menus_or_labels__names_it),
        cmocka_unit_test(test_menu__misc_mistakes__each_names_its_key),
        cmocka_unit_test(test_menu__syntax_error__names_line_and_column),
        cmocka_unit_test(test_menu__reload__keeps_old_on_error_swaps_on_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
