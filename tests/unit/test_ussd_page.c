/*
 * test_ussd_page.c - USSD screen pagination (ussd_page.c): limits counted in GSM-7 septets or
 * UCS-2 units including the navigation lines, options never cut, words never cut unless longer
 * than a page, right-to-left text kept in logical order, and a seeded property loop over many
 * generated menus.
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

#define RLM_UTF8 "\u200F"

static char *repeat(const char *unit, size_t times, const char *tail)
{
    size_t ul = strlen(unit), tl = tail ? strlen(tail) : 0;
    char *s = malloc(ul * times + tl + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    if (tl)
        memcpy(s + ul * times, tail, tl);
    s[ul * times + tl] = '\0';
    return s;
}

/* Body text of exactly n GSM-7 characters made of 9-letter words: "abcdefghi abcdefghi ab". */
static char *gsm_words(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 10 == 9) ? ' ' : (char)('a' + i % 10);
    if (n && s[n - 1] == ' ')
        s[n - 1] = 'z';
    s[n] = '\0';
    return s;
}

/* Checks the invariants every page must hold and returns the page count. */
static size_t check_pages(const struct ussd_pages *pg, const struct ussd_page_config *cfg)
{
    size_t n = ussd_pages_count(pg);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        struct ussd_page p;
        uint8_t wire[2 * USSD_SCREEN_MAX + 8];
        size_t wlen = 0;
        assert_int_equal(ussd_pages_get(pg, i, &p), 0);
        size_t limit = p.coding == SMPP_TEXT_GSM7 ? cfg->gsm7_limit : cfg->ucs2_limit;
        assert_true(p.units <= limit);
        assert_int_equal(strlen(p.text), p.text_len);
        assert_int_equal(smpp_text_units(p.coding, p.text, p.text_len, &cfg->text),
                         (ssize_t)p.units);
        assert_int_equal(ussd_pages_encode(pg, i, wire, sizeof(wire), &wlen), 0);
        assert_int_equal(wlen, p.encoded_len);
        assert_int_equal(
            smpp_text_encode(p.text, p.text_len, p.coding, &cfg->text, wire, sizeof(wire), &wlen),
            0);
        assert_int_equal(wlen, p.encoded_len);
        assert_int_equal(p.data_coding, smpp_text_data_coding(p.coding, &cfg->text));
        /* page texts are valid UTF-8: decoding and re-encoding every character is identity */
        for (size_t k = 0, adv; k < p.text_len; k += adv) {
            char tmp[4];
            uint32_t cp = smpp_text_utf8_next(p.text + k, p.text_len - k, &adv);
            assert_int_equal(smpp_text_utf8_put(cp, tmp), adv);
            assert_memory_equal(tmp, p.text + k, adv);
        }
        assert_int_equal(p.has_back, i > 0);
        assert_int_equal(p.has_more, i + 1 < n);
        struct ussd_page first;
        assert_int_equal(ussd_pages_get(pg, 0, &first), 0);
        assert_int_equal(p.coding, first.coding); /* one coding for the whole screen */
    }
    struct ussd_page p;
    assert_int_equal(ussd_pages_get(pg, n, &p), -ERANGE);
    return n;
}

static struct ussd_pages *paginate(const struct ussd_page_config *cfg, const char *body,
                                   const char *const *opts, size_t nopts)
{
    struct ussd_pages *pg = NULL;
    assert_int_equal(ussd_pages_new(cfg, body, opts, nopts, &pg), 0);
    assert_non_null(pg);
    check_pages(pg, cfg);
    return pg;
}

static const char *page_text(const struct ussd_pages *pg, size_t i)
{
    struct ussd_page p;
    assert_int_equal(ussd_pages_get(pg, i, &p), 0);
    return p.text;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && memcmp(s + a - b, tail, b) == 0;
}

/* ---------------------------------------------------------------- boundaries */

static void test_page__gsm7_182_is_one_page_183_is_two(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_page p;
    ussd_page_config_defaults(&cfg);

    char *body = gsm_words(182);
    struct ussd_pages *pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_string_equal(p.text, body);
    assert_int_equal(p.units, 182);
    assert_int_equal(p.coding, SMPP_TEXT_GSM7);
    assert_int_equal(p.data_coding, 0);
    assert_false(p.has_more);
    ussd_pages_free(pg);
    free(body);

    body = gsm_words(183);
    pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 2);
    assert_true(ends_with(page_text(pg, 0), "\n00 More"));
    assert_true(ends_with(page_text(pg, 1), "\n0 Back"));
    ussd_pages_free(pg);
    free(body);

    /* Extension characters count two: 91 '€' = 182 septets, one more is two pages. */
    body = repeat("€", 91, NULL);
    pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    ussd_pages_free(pg);
    free(body);
    body = repeat("€", 90, "[");
    pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    ussd_pages_free(pg);
    free(body);
    body = repeat("€", 91, "a");
    pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 2);
    ussd_pages_free(pg);
    free(body);
}

static void test_page__ucs2_80_is_one_page_81_is_two(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_page p;
    ussd_page_config_defaults(&cfg);

    /* "نقاطك " words: 5 letters + space */
    char *body = repeat("\u0646\u0642\u0627\u0637\u0643 ", 13, "\u0628\u0628"); /* 78 + 2 */
    struct ussd_pages *pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.coding, SMPP_TEXT_UCS2);
    assert_int_equal(p.data_coding, 8);
    assert_int_equal(p.units, 80);
    assert_int_equal(p.encoded_len, 160);
    assert_string_equal(p.text, body);
    ussd_pages_free(pg);
    free(body);

    body = repeat("\u0646\u0642\u0627\u0637\u0643 ", 13, "\u0628\u0628\u0628"); /* 81 */
    pg = paginate(&cfg, body, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 2);
    ussd_pages_free(pg);
    free(body);

    /* One non-GSM character makes the whole screen UCS-2, with the UCS-2 limit. */
    body = gsm_words(79);
    char *b2 = malloc(strlen(body) + 8);
    assert_non_null(b2);
    snprintf(b2, strlen(body) + 8, "%s\u00E7", body); /* ç is not in GSM-7 */
    pg = paginate(&cfg, b2, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.coding, SMPP_TEXT_UCS2);
    assert_int_equal(p.units, 80);
    ussd_pages_free(pg);
    snprintf(b2, strlen(body) + 8, "%sx\u00E7", body);
    pg = paginate(&cfg, b2, NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 2);
    ussd_pages_free(pg);
    free(b2);
    free(body);
}

static void test_page__navigation_lines__count_in_the_limit(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_page p;
    char opt[11][32];
    const char *opts[11];
    ussd_page_config_defaults(&cfg);

    /* 11 options of 17 characters: 10 fit 182 without navigation (10*17+9 = 179), but page one
     * must keep room for "\n00 More" (8), so it holds 9 (9*17+8 = 161, + 8 = 169). */
    for (int i = 0; i < 11; i++) {
        snprintf(opt[i], sizeof(opt[i]), "%-2d Option %c......", i + 1, 'A' + i);
        assert_int_equal(strlen(opt[i]), 17);
        opts[i] = opt[i];
    }
    struct ussd_pages *pg = paginate(&cfg, NULL, opts, 11);
    assert_int_equal(ussd_pages_count(pg), 2);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.units, 169);
    char expect[256] = "";
    for (int i = 0; i < 9; i++) {
        strncat(expect, opt[i], sizeof(expect) - strlen(expect) - 1);
        strncat(expect, "\n", sizeof(expect) - strlen(expect) - 1);
    }
    strncat(expect, "00 More", sizeof(expect) - strlen(expect) - 1);
    assert_string_equal(p.text, expect);
    assert_int_equal(ussd_pages_get(pg, 1, &p), 0);
    snprintf(expect, sizeof(expect), "%s\n%s\n0 Back", opt[9], opt[10]);
    assert_string_equal(p.text, expect);
    assert_int_equal(p.units, 17 + 1 + 17 + 1 + 6);
    ussd_pages_free(pg);

    /* A screen that exactly fills 182 with its navigation: 174 content + "\n00 More". */
    char *body = gsm_words(174);
    char *more = gsm_words(20);
    const char *o1[] = {more};
    pg = paginate(&cfg, body, o1, 1);
    assert_int_equal(ussd_pages_count(pg), 2);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.units, 182);
    assert_int_equal(ussd_pages_get(pg, 1, &p), 0);
    assert_int_equal(p.units, 20 + 7);
    ussd_pages_free(pg);
    free(body);
    free(more);

    /* Localised labels are counted with their real length. */
    cfg.more_label = "00 Suivant";
    cfg.back_label = "0 Retour";
    for (int i = 0; i < 11; i++)
        opts[i] = opt[i];
    pg = paginate(&cfg, NULL, opts, 11);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_true(ends_with(p.text, "\n00 Suivant"));
    assert_int_equal(p.units, 9 * 17 + 8 + 11);
    ussd_pages_free(pg);
}

/* ---------------------------------------------------------------- options and words */

static void test_page__option_never_cut_unless_longer_than_a_screen(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    ussd_page_config_defaults(&cfg);
    cfg.gsm7_limit = 60;

    const char *opts[] = {"1 My points balance today", "2 Redeem points for gifts",
                          "3 Gift day calendar this month", "4 Help"};
    struct ussd_pages *pg = paginate(&cfg, "Welcome to Loyalty", opts, 4);
    size_t n = ussd_pages_count(pg);
    for (size_t o = 0; o < 4; o++) {
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            const char *t = page_text(pg, i);
            const char *hit = strstr(t, opts[o]);
            if (hit && (hit == t || hit[-1] == '\n') &&
                (hit[strlen(opts[o])] == '\n' || hit[strlen(opts[o])] == '\0'))
                found = true;
        }
        assert_true(found);
    }
    ussd_pages_free(pg);

    /* An option longer than a whole screen is split at spaces across pages, as a last resort. */
    ussd_page_config_defaults(&cfg);
    char *long_opt = malloc(400);
    assert_non_null(long_opt);
    snprintf(long_opt, 400, "2 %s", "");
    for (int w = 0; strlen(long_opt) < 300; w++) {
        size_t l = strlen(long_opt);
        snprintf(long_opt + l, 400 - l, "word%02d ", w);
    }
    long_opt[strlen(long_opt) - 1] = '\0';
    const char *o2[] = {"1 Short", long_opt, "3 After"};
    pg = paginate(&cfg, "Menu", o2, 3);
    n = ussd_pages_count(pg);
    assert_int_equal(n, 2); /* 4 + 8 + 303 + 8 septets: the option starts on page one */
    assert_non_null(strstr(page_text(pg, 0), "1 Short\n2 word00 word01"));
    assert_non_null(strstr(page_text(pg, 1), "word42\n3 After\n0 Back"));
    /* no word is cut: every "wordNN" survives whole */
    for (int w = 0; w < 40; w++) {
        char word[16];
        snprintf(word, sizeof(word), "word%02d", w);
        if (!strstr(long_opt, word))
            break;
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || strstr(page_text(pg, i), word);
        assert_true(found);
    }
    assert_non_null(strstr(page_text(pg, n - 1), "3 After"));
    ussd_pages_free(pg);
    free(long_opt);
}

static void test_page__word_longer_than_a_page__hard_split_on_char_boundary(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    ussd_page_config_defaults(&cfg);

    /* 200 '€' (400 septets) in one word: pages split between escape pairs, never inside. */
    char *body = repeat("€", 200, NULL);
    struct ussd_pages *pg = paginate(&cfg, body, NULL, 0);
    size_t n = ussd_pages_count(pg), total = 0;
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        uint8_t wire[256];
        size_t len = 0;
        assert_int_equal(ussd_pages_encode(pg, i, wire, sizeof(wire), &len), 0);
        char *dec = malloc(len * 3 + 1);
        assert_non_null(dec);
        size_t dl = 0;
        assert_int_equal(smpp_text_decode(wire, len, 0, NULL, dec, len * 3 + 1, &dl), 0);
        assert_string_equal(dec, page_text(pg, i));
        for (const char *q = strstr(dec, "€"); q; q = strstr(q + 1, "€"))
            total++;
        free(dec);
    }
    assert_int_equal(total, 200);
    ussd_pages_free(pg);
    free(body);

    /* A 200-letter Arabic word: split between letters, never inside a UTF-8 sequence. */
    body = repeat("\u0628", 200, NULL);
    pg = paginate(&cfg, body, NULL, 0);
    n = ussd_pages_count(pg);
    total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = page_text(pg, i);
        for (size_t k = 0, adv; t[k]; k += adv) {
            uint32_t cp = smpp_text_utf8_next(t + k, strlen(t + k), &adv);
            assert_int_not_equal(cp, SMPP_TEXT_REPLACEMENT);
            total += cp == 0x0628;
        }
    }
    assert_int_equal(total, 200);
    ussd_pages_free(pg);
    free(body);

    /* A word that fits a page is moved, not cut. */
    cfg.gsm7_limit = 30;
    pg = paginate(&cfg, "aaaa bbbb cccc dddd eeeeeeeeeeeeee", NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 2);
    assert_string_equal(page_text(pg, 0), "aaaa bbbb cccc dddd\n00 More");
    assert_string_equal(page_text(pg, 1), "eeeeeeeeeeeeee\n0 Back");
    ussd_pages_free(pg);
}

/* ---------------------------------------------------------------- right to left */

#define AR_WELCOME                                                                                 \
    "\u0645\u0631\u062D\u0628\u0627 \u0628\u0643 \u0641\u064A "                                    \
    "\u0628\u0631\u0646\u0627\u0645\u062C \u0627\u0644\u0648\u0644\u0627\u0621"
/* Options: 1 your points, 2 redeem points, 3 available gifts, 4 gift day, 5 help, 6 (Persian)
 * points card with PERSIAN YEH and KEHEH; labels: 00 more, 0 back. */
#define AR_OPT1 "1 \u0646\u0642\u0627\u0637\u0643"
#define AR_OPT2 "2 \u0627\u0633\u062A\u0628\u062F\u0627\u0644 \u0627\u0644\u0646\u0642\u0627\u0637"
#define AR_OPT3                                                                                    \
    "3 \u0627\u0644\u0647\u062F\u0627\u064A\u0627 \u0627\u0644\u0645\u062A\u0627\u062D\u0629"
#define AR_OPT4 "4 \u064A\u0648\u0645 \u0627\u0644\u0647\u062F\u064A\u0629"
#define AR_OPT5 "5 \u0627\u0644\u0645\u0633\u0627\u0639\u062F\u0629"
#define FA_OPT6 "6 \u0627\u0645\u062A\u06CC\u0627\u0632 \u06A9\u0627\u0631\u062A"
#define AR_MORE "00 \u0627\u0644\u0645\u0632\u064A\u062F"
#define AR_BACK "0 \u0631\u062C\u0648\u0639"

static void test_page__arabic_menu__paginated_within_80_in_logical_order(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_page p;
    ussd_page_config_defaults(&cfg);
    cfg.more_label = AR_MORE;
    cfg.back_label = AR_BACK;

    const char *opts[] = {AR_OPT1, AR_OPT2, AR_OPT3, AR_OPT4, AR_OPT5, FA_OPT6};
    struct ussd_pages *pg = paginate(&cfg, AR_WELCOME, opts, 6);
    size_t n = ussd_pages_count(pg);
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ussd_pages_get(pg, i, &p), 0);
        assert_int_equal(p.coding, SMPP_TEXT_UCS2);
        assert_true(p.units <= 80);
        assert_true(p.encoded_len <= 160);
        assert_null(strstr(p.text, RLM_UTF8)); /* no bidi marks unless asked */
    }
    /* every option whole and byte-identical (logical order, never reversed) on some page */
    for (size_t o = 0; o < 6; o++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || strstr(page_text(pg, i), opts[o]);
        assert_true(found);
    }
    assert_non_null(strstr(page_text(pg, 0), AR_WELCOME));
    assert_true(ends_with(page_text(pg, 0), "\n" AR_MORE));
    assert_non_null(strstr(page_text(pg, 1), AR_BACK));
    ussd_pages_free(pg);

    /* With bidi marks every line of a UCS-2 page starts with U+200F, still within 80. */
    cfg.bidi_marks = true;
    pg = paginate(&cfg, AR_WELCOME, opts, 6);
    n = ussd_pages_count(pg);
    for (size_t i = 0; i < n; i++) {
        const char *t = page_text(pg, i);
        assert_true(strncmp(t, RLM_UTF8, strlen(RLM_UTF8)) == 0);
        for (const char *nl = strchr(t, '\n'); nl; nl = strchr(nl + 1, '\n'))
            assert_true(strncmp(nl + 1, RLM_UTF8, strlen(RLM_UTF8)) == 0);
    }
    ussd_pages_free(pg);

    /* ... but never on a GSM-7 screen. */
    pg = paginate(&cfg, "Hello", NULL, 0);
    assert_string_equal(page_text(pg, 0), "Hello");
    ussd_pages_free(pg);
}

static void test_page__coding__labels_count_only_when_shown(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_page p;
    ussd_page_config_defaults(&cfg);
    cfg.more_label = AR_MORE;
    cfg.back_label = AR_BACK;

    /* Fits one GSM-7 page: the Arabic labels are never shown, the screen stays GSM-7. */
    const char *opts[] = {"1 Points", "2 Gifts"};
    struct ussd_pages *pg = paginate(&cfg, "Welcome", opts, 2);
    assert_int_equal(ussd_pages_count(pg), 1);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.coding, SMPP_TEXT_GSM7);
    assert_string_equal(p.text, "Welcome\n1 Points\n2 Gifts");
    ussd_pages_free(pg);

    /* Needs pages: the labels are shown, so the whole screen is UCS-2 with its limit. */
    char *body = gsm_words(170);
    pg = paginate(&cfg, body, opts, 2);
    assert_true(ussd_pages_count(pg) >= 3);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.coding, SMPP_TEXT_UCS2);
    ussd_pages_free(pg);
    free(body);
}

/* ---------------------------------------------------------------- odd input and errors */

static void test_page__untrusted_input_and_errors(void **state)
{
    (void)state;
    struct ussd_page_config cfg;
    struct ussd_pages *pg = NULL;
    struct ussd_page p;
    ussd_page_config_defaults(&cfg);

    pg = paginate(&cfg, "Bad \xc0\xaf bytes\xe2\x82", NULL, 0);
    assert_int_equal(ussd_pages_get(pg, 0, &p), 0);
    assert_int_equal(p.coding, SMPP_TEXT_UCS2);
    assert_string_equal(p.text, "Bad \uFFFD\uFFFD bytes\uFFFD");
    ussd_pages_free(pg);

    pg = paginate(&cfg, "", NULL, 0);
    assert_int_equal(ussd_pages_count(pg), 1);
    assert_string_equal(page_text(pg, 0), "");
    ussd_pages_free(pg);

    pg = paginate(&cfg, "Title\n\nText\n", NULL, 0);
    assert_string_equal(page_text(pg, 0), "Title\n\nText");
    ussd_pages_free(pg);

    const char *bad[] = {"1 ok", NULL};
    assert_int_equal(ussd_pages_new(&cfg, "x", bad, 2, &pg), -EINVAL);
    assert_null(pg);
    assert_int_equal(ussd_pages_new(&cfg, "x", NULL, 1, &pg), -EINVAL);
    assert_int_equal(ussd_pages_new(NULL, "x", NULL, 0, &pg), -EINVAL);
    cfg.gsm7_limit = 0;
    assert_int_equal(ussd_pages_new(&cfg, "x", NULL, 0, &pg), -EINVAL);
    cfg.gsm7_limit = USSD_SCREEN_MAX + 1;
    assert_int_equal(ussd_pages_new(&cfg, "x", NULL, 0, &pg), -EINVAL);
    /* navigation lines that leave no room for content */
    cfg.gsm7_limit = 15;
    char *body = gsm_words(40);
    assert_int_equal(ussd_pages_new(&cfg, body, NULL, 0, &pg), -EINVAL);
    assert_null(pg);
    free(body);
    ussd_pages_free(NULL);
}

/* ---------------------------------------------------------------- property loop */

static uint32_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift32: a fixed sequence on every platform */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* The first GSM_POOL_N words are GSM-7 (extension characters included); the rest are not. */
static const char *const word_pool[] = {
    "points",
    "Bonus",
    "€5",
    "[gift]",
    "{x}",
    "a",
    "Ç\\a^",
    "1",
    "00",
    "~|",
    "é",
    "Δelta",
    "ب",
    "نقاطك",
    "امتیاز",
    "کارت",
    "😀",
    "étç",
    ("x\xff"
     "y"),
};
#define GSM_POOL_N 12
#define WORD_POOL_N (sizeof(word_pool) / sizeof(word_pool[0]))

static void append(char *buf, size_t cap, const char *s)
{
    size_t l = strlen(buf), n = strlen(s);
    assert_true(l + n < cap);
    memcpy(buf + l, s, n + 1);
}

static void gen_text(char *buf, size_t cap, size_t words, bool allow_nl, bool gsm_only)
{
    buf[0] = '\0';
    for (size_t w = 0; w < words; w++) {
        if (w > 0)
            append(buf, cap, (allow_nl && rnd() % 8 == 0) ? "\n" : " ");
        if (rnd() % 25 == 0) {
            /* a long word, possibly longer than any page */
            size_t len = 1 + rnd() % 220;
            const char *unit = (!gsm_only && rnd() % 3 == 0) ? "\u0628" : (rnd() % 2 ? "x" : "€");
            for (size_t k = 0; k < len; k++)
                append(buf, cap, unit);
        } else {
            append(buf, cap, word_pool[rnd() % (gsm_only ? GSM_POOL_N : WORD_POOL_N)]);
        }
    }
}

/* All non-space code points of s in order (after sanitising), for content comparisons. */
static size_t squeeze(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0, len = strlen(s);
    for (size_t k = 0, adv; k < len; k += adv) {
        uint32_t cp = smpp_text_utf8_next(s + k, len - k, &adv);
        if (cp == ' ' || cp == '\n' || cp == 0x200F)
            continue;
        assert_true(n < cap);
        out[n++] = cp;
    }
    return n;
}

static void test_page__property__every_page_fits_and_content_is_kept(void **state)
{
    (void)state;
    static const char *const labels[][2] = {
        {"00 More", "0 Back"},
        {"00 Suite", "0 Retour"},
        {AR_MORE, AR_BACK},
        {"00 \u0628\u06CC\u0634\u062A\u0631", "0 \u0628\u0627\u0632\u06AF\u0634\u062A"},
    };
    enum { CAP = 16384, MAXOPT = 12 };
    char *body = malloc(CAP), *all = malloc(CAP * (MAXOPT + 1)), *got = malloc(CAP * 4);
    char *opt[MAXOPT];
    uint32_t *want_cp = malloc(sizeof(uint32_t) * CAP * 4);
    uint32_t *got_cp = malloc(sizeof(uint32_t) * CAP * 4);
    assert_non_null(body);
    assert_non_null(all);
    assert_non_null(got);
    assert_non_null(want_cp);
    assert_non_null(got_cp);
    for (int i = 0; i < MAXOPT; i++) {
        opt[i] = malloc(CAP);
        assert_non_null(opt[i]);
    }

    rng_state = 0x5EED1234u;
    for (int iter = 0; iter < 1500; iter++) {
        struct ussd_page_config cfg;
        ussd_page_config_defaults(&cfg);
        cfg.gsm7_limit = 40 + rnd() % 143; /* 40..182 */
        cfg.ucs2_limit = 30 + rnd() % 51;  /* 30..80 */
        size_t li = rnd() % 4;
        cfg.bidi_marks = rnd() % 3 == 0;
        cfg.text.ucs2_surrogates = rnd() % 4 == 0;

        bool gsm_only = rnd() % 2 == 0;
        if (gsm_only && li >= 2)
            li -= 2; /* mostly GSM-7 screens: Latin labels */
        cfg.more_label = labels[li][0];
        cfg.back_label = labels[li][1];
        gen_text(body, CAP, rnd() % 40, true, gsm_only);
        size_t nopt = rnd() % MAXOPT;
        for (size_t o = 0; o < nopt; o++) {
            char num[24];
            snprintf(num, sizeof(num), "%zu ", o + 1);
            opt[o][0] = '\0';
            append(opt[o], CAP, num);
            gen_text(opt[o] + strlen(opt[o]), CAP - strlen(opt[o]), 1 + rnd() % 6, false,
                     gsm_only && rnd() % 16 != 0);
        }

        struct ussd_pages *pg = NULL;
        int rc = ussd_pages_new(&cfg, body, (const char *const *)opt, nopt, &pg);
        assert_int_equal(rc, 0);
        size_t n = check_pages(pg, &cfg);

        /* Content is kept, in order: pages minus navigation lines == input minus spaces. */
        struct ussd_page p0;
        assert_int_equal(ussd_pages_get(pg, 0, &p0), 0);
        bool marks = cfg.bidi_marks && p0.coding == SMPP_TEXT_UCS2;
        all[0] = '\0';
        append(all, CAP * (MAXOPT + 1), body);
        for (size_t o = 0; o < nopt; o++) {
            append(all, CAP * (MAXOPT + 1), " ");
            append(all, CAP * (MAXOPT + 1), opt[o]);
        }
        got[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            struct ussd_page p;
            assert_int_equal(ussd_pages_get(pg, i, &p), 0);
            size_t keep = p.text_len;
            /* strip the navigation lines from the end */
            for (int k = (int)p.has_back + (int)p.has_more; k > 0; k--) {
                while (keep > 0 && p.text[keep - 1] != '\n')
                    keep--;
                assert_true(keep > 0);
                keep--;
            }
            if (p.has_more) {
                char tail[64];
                snprintf(tail, sizeof(tail), "\n%s%s", marks ? RLM_UTF8 : "", cfg.more_label);
                assert_true(ends_with(p.text, tail));
            }
            size_t gl = strlen(got);
            assert_true(gl + keep + 2 < CAP * 4);
            memcpy(got + gl, p.text, keep);
            got[gl + keep] = ' ';
            got[gl + keep + 1] = '\0';
        }
        size_t nw = squeeze(all, want_cp, CAP * 4), ng = squeeze(got, got_cp, CAP * 4);
        assert_int_equal(nw, ng);
        assert_memory_equal(want_cp, got_cp, nw * sizeof(uint32_t));

        /* Options that fit a page appear whole, as one line of some page. */
        for (size_t o = 0; o < nopt; o++) {
            ssize_t c = smpp_text_units(p0.coding, opt[o], strlen(opt[o]), &cfg.text);
            size_t limit = p0.coding == SMPP_TEXT_GSM7 ? cfg.gsm7_limit : cfg.ucs2_limit;
            ssize_t nav =
                2 + 2 * marks +
                smpp_text_units(p0.coding, cfg.more_label, strlen(cfg.more_label), &cfg.text) +
                smpp_text_units(p0.coding, cfg.back_label, strlen(cfg.back_label), &cfg.text);
            if (c < 0 || strchr(opt[o], '\xff') || c + marks > (ssize_t)limit - nav)
                continue; /* does not fit a page (or holds bytes rewritten to U+FFFD) */
            bool found = false;
            for (size_t i = 0; i < n && !found; i++) {
                const char *t = page_text(pg, i);
                for (const char *hit = strstr(t, opt[o]); hit && !found;
                     hit = strstr(hit + 1, opt[o])) {
                    char after = hit[strlen(opt[o])];
                    found = (after == '\n' || after == '\0');
                }
            }
            assert_true(found);
        }
        ussd_pages_free(pg);
    }

    for (int i = 0; i < MAXOPT; i++)
        free(opt[i]);
    free(body);
    free(all);
    free(got);
    free(want_cp);
    free(got_cp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page__gsm7_182_is_one_page_183_is_two),
        cmocka_unit_test(test_page__ucs2_80_is_one_page_81_is_two),
        cmocka_unit_test(test_page__navigation_lines__count_in_the_limit),
        cmocka_unit_test(test_page__option_never_cut_unless_longer_than_a_screen),
        cmocka_unit_test(test_page__word_longer_than_a_page__hard_split_on_char_boundary),
        cmocka_unit_test(test_page__arabic_menu__paginated_within_80_in_logical_order),
        cmocka_unit_test(test_page__coding__labels_count_only_when_shown),
        cmocka_unit_test(test_page__untrusted_input_and_errors),
        cmocka_unit_test(test_page__property__every_page_fits_and_content_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
