/*
 * test_adm_static.c - the web console's URL-to-file mapping (admin/adm_static.c,
 * adm_static_resolve): what loyalty-admin --static agrees to serve and with which content type,
 * and every path trick it refuses before a file name is built. Owner: the staff-console engineer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "admin.h"

static void test_static__known_files__mapped_with_their_type(void **state)
{
    char rel[256];
    const char *ct = NULL;

    (void)state;
    assert_int_equal(0, adm_static_resolve("/", rel, sizeof(rel), &ct));
    assert_string_equal("index.html", rel);
    assert_string_equal("text/html; charset=utf-8", ct);
    assert_int_equal(0, adm_static_resolve("/app.js", rel, sizeof(rel), &ct));
    assert_string_equal("app.js", rel);
    assert_string_equal("text/javascript; charset=utf-8", ct);
    assert_int_equal(0, adm_static_resolve("/app.css", rel, sizeof(rel), &ct));
    assert_string_equal("text/css; charset=utf-8", ct);
    assert_int_equal(0, adm_static_resolve("/i18n/ar.json", rel, sizeof(rel), &ct));
    assert_string_equal("i18n/ar.json", rel);
    assert_string_equal("application/json; charset=utf-8", ct);
    assert_int_equal(0, adm_static_resolve("/img/logo.svg", rel, sizeof(rel), &ct));
    assert_string_equal("image/svg+xml", ct);
}

static void test_static__path_tricks__refused(void **state)
{
    static const char *const bad[] = {
        "",
        "app.js",
        "/..",
        "/../etc/passwd.txt",
        "/i18n/../../x.js",
        "/%2e%2e/x.js",
        "/.hidden.js",
        "/i18n/.x.json",
        "//app.js",
        "/i18n//en.json",
        "/i18n/",
        "/i18n",
        "/app.js/",
        "/a\\b.js",
        "/app.js.bak",
        "/app",
        "/app.JS",
        "/x.php",
        "/a b.js",
        "/app.js?x=1",
        "/a/b/c/d/e.js",
    };
    char rel[256];
    const char *ct = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (adm_static_resolve(bad[i], rel, sizeof(rel), &ct) != -ENOENT)
            fail_msg("served: %s", bad[i]);
    }
    assert_int_equal(-ENOENT, adm_static_resolve(NULL, rel, sizeof(rel), &ct));
}

static void test_static__long_names__refused_not_truncated(void **state)
{
    char path[512], rel[8];
    const char *ct;

    (void)state;
    /* a name that does not fit the caller's buffer is refused, never cut to another name */
    assert_int_equal(-ENOENT, adm_static_resolve("/a-long-name.js", rel, sizeof(rel), &ct));
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    memcpy(path + 300, ".js", 4);
    char big[512];
    assert_int_equal(-ENOENT, adm_static_resolve(path, big, sizeof(big), &ct));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static__known_files__mapped_with_their_type),
        cmocka_unit_test(test_static__path_tricks__refused),
        cmocka_unit_test(test_static__long_names__refused_not_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
