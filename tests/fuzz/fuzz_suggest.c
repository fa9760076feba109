/*
 * fuzz_suggest.c - libFuzzer target: the suggestion box's untrusted inputs. The first byte picks
 * the parser, the rest is its input:
 *   0  an MO SMS text (decoded UTF-8): the keyword classification and prefix (gateway/gw_sms.c),
 *      then the idea's cleaning at a cap the next byte chooses and the language guess
 *      (gateway/gw_suggest.c). Properties: the cleaned text is valid UTF-8 without controls,
 *      within the cap; the guess is one of ar, fa, fr, en.
 *   1  a mark's JSON body (admin/adm_suggest.c): an accepted tag is "" or a valid tag.
 *   2  the list's query filters, four lines (rating, lang, tag, handled).
 *   3  the weekly counter hash, "field value" lines: the weeks stay sorted and unique.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adm_suggest.h"
#include "gw_config.h"
#include "gw_sms.h"
#include "gw_suggest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_config *cfg(void)
{
    static struct gw_config *c;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            abort();
        gw_config_defaults(c);
    }
    return c;
}

/* Valid UTF-8 without C0 controls or DEL (what gw_suggest_clean promises). */
static void check_clean(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                              : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (l == 0 || i + l > n || (c < 0x20 || c == 0x7F))
            abort();
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                abort();
        i += l;
    }
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        abort();
}

static void sms(const uint8_t *d, size_t n)
{
    char out[GW_SUGGEST_TEXT_CAP + 1];
    size_t rest = 0, max = n ? (size_t)d[0] * 4 : 0;

    if (n) {
        d++;
        n--;
    }
    if (gw_sms_mo_classify(cfg(), (const char *)d, n) == GW_SMS_MO_SUGGEST) {
        if (!gw_sms_keyword_prefix(cfg()->sms.suggest_keywords, cfg()->sms.n_suggest_keywords,
                                   (const char *)d, n, &rest) ||
            rest > n)
            abort();
    }
    size_t len = gw_suggest_clean((const char *)d + rest, n - rest, out, sizeof(out), max);
    if (len > max || len != strlen(out))
        abort();
    check_clean((const unsigned char *)out, len);
    const char *l = gw_suggest_guess_lang(out, len);
    if (strcmp(l, "ar") && strcmp(l, "fa") && strcmp(l, "fr") && strcmp(l, "en"))
        abort();
}

static void mark(const uint8_t *d, size_t n)
{
    json_t *j = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES, NULL);
    char tag[ADM_SG_TAG_MAX + 1];
    bool has_tag, has_h, h;
    const char *field, *msg;

    if (j && adm_sg_mark_parse(j, &has_tag, tag, sizeof(tag), &has_h, &h, &field, &msg) == 0) {
        if (!has_tag && !has_h)
            abort();
        if (has_tag && tag[0] && !adm_sg_tag_valid(tag))
            abort();
    }
    json_decref(j);
}

/* Splits d into up to max NUL-terminated lines (in buf). */
static size_t lines(const uint8_t *d, size_t n, char *buf, char **out, size_t max)
{
    size_t k = 0;

    memcpy(buf, d, n);
    buf[n] = '\0';
    for (char *p = buf; k < max && p; k++) {
        out[k] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    return k;
}

static void filters(const uint8_t *d, size_t n)
{
    char *buf = malloc(n + 1), *l[4] = {NULL, NULL, NULL, NULL};
    struct adm_sg_filter f;
    const char *field;

    if (!buf)
        return;
    lines(d, n, buf, l, 4);
    if (adm_sg_filter_parse(l[0], l[1], l[2], l[3], &f, &field) == 0) {
        if (f.rating < 0 || f.rating > 5 || (f.tag[0] && !adm_sg_tag_valid(f.tag)))
            abort();
        (void)adm_sg_filter_match(&f, 3, "ar", "x", true);
    }
    free(buf);
}

static void weeks(const uint8_t *d, size_t n)
{
    char *buf = malloc(n + 1), *l[64];
    struct adm_sg_week w[8];
    size_t nw = 0, k;

    if (!buf)
        return;
    k = lines(d, n, buf, l, 64);
    for (size_t i = 0; i < k; i++) {
        char *sp = strchr(l[i], ' ');
        if (!sp)
            continue;
        *sp = '\0';
        adm_sg_week_add(w, &nw, 8, l[i], sp + 1);
    }
    for (size_t i = 1; i < nw; i++)
        if (w[i - 1].week >= w[i].week)
            abort();
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        sms(data + 1, size - 1);
        break;
    case 1:
        mark(data + 1, size - 1);
        break;
    case 2:
        filters(data + 1, size - 1);
        break;
    default:
        weeks(data + 1, size - 1);
        break;
    }
    return 0;
}
