/*
 * cat_voucher.c - voucher code pools from the CSV files partners send ("code[,expiry]" per line).
 * Validated whole before anything uses them: a pool with a duplicate would hand one code to two
 * subscribers, so the file is refused rather than "cleaned". The result is the list the redemption
 * module pushes to Redis, where each code is popped exactly once.
 *
 * Codes are value-bearing (a 100 MAD supermarket voucher), so messages name line numbers, never
 * codes: they end up in logs.
 *
 * Ownership: cat_voucher_pool_parse/_load_file allocate a struct cat_voucher_pool and its codes
 * array; cat_voucher_pool_free() releases both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_priv.h"
#include "catalog.h"

#define POOL_FILE_MAX (256u << 20)
#define LINE_MAX_BYTES 256

struct pool_ctx {
    const char *file;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct pool_ctx *c, size_t line,
                                                      const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err && c->errlen) {
        if (line)
            snprintf(c->err, c->errlen, "%s%sline %zu: %s", c->file ? c->file : "",
                     c->file ? ": " : "", line, msg);
        else
            snprintf(c->err, c->errlen, "%s%s%s", c->file ? c->file : "", c->file ? ": " : "", msg);
    }
    return -EINVAL;
}

static bool code_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
}

/* Trims spaces and tabs around [*s, *e): spreadsheet exports pad fields. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool is_header(const char *s, size_t n)
{
    return (n == 4 && strncasecmp(s, "code", 4) == 0) ||
           (n == 11 && strncasecmp(s, "code,expiry", 11) == 0);
}

/* One entry per code while checking duplicates: where it is and which line it came from. */
struct code_ref {
    size_t idx, line;
};

static int cmp_code(const void *a, const void *b, void *arg)
{
    const struct cat_voucher *codes = arg;
    const struct code_ref *x = a, *y = b;
    int cmp = strcmp(codes[x->idx].code, codes[y->idx].code);

    return cmp ? cmp : (x->line > y->line) - (x->line < y->line);
}

static int check_duplicates(struct pool_ctx *c, const struct cat_voucher_pool *p,
                            const size_t *lines)
{
    struct code_ref *refs = calloc(p->n_codes, sizeof(*refs));
    size_t dup = 0, first = 0;

    if (!refs)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_codes; i++)
        refs[i] = (struct code_ref){.idx = i, .line = lines[i]};
    qsort_r(refs, p->n_codes, sizeof(*refs), cmp_code, p->codes);
    /* Report the duplicate that appears earliest in the file, with its first occurrence. */
    for (size_t i = 1; i < p->n_codes; i++) {
        if (strcmp(p->codes[refs[i - 1].idx].code, p->codes[refs[i].idx].code) == 0 &&
            (dup == 0 || refs[i].line < dup)) {
            dup = refs[i].line;
            first = refs[i - 1].line;
        }
    }
    free(refs);
    if (dup)
        return fail(c, dup, "duplicate code (first on line %zu)", first);
    return 0;
}

static int pool_parse(struct pool_ctx *c, const char *text, size_t len, const char *pool_name,
                      int32_t today, struct cat_voucher_pool **out)
{
    struct cat_voucher_pool *p = NULL;
    size_t *lines = NULL, cap = 0, lineno = 0;
    const char *pos = text, *end = text + len;
    bool seen_data = false;
    int rc = 0;

    *out = NULL;
    if (!pool_name || strlen(pool_name) >= CAT_NAME_MAX || !cat_name_ok(pool_name))
        return fail(c, 0, "bad pool name");
    if (memchr(text, '\0', len))
        return fail(c, 0, "not a text file (NUL byte)");
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cat_copy(p->name, sizeof(p->name), pool_name);
    if (len >= 3 && memcmp(pos, "\xef\xbb\xbf", 3) == 0)
        pos += 3; /* UTF-8 byte order mark from spreadsheet exports */
    while (pos < end) {
        const char *nl = memchr(pos, '\n', (size_t)(end - pos));
        const char *le = nl ? nl : end, *ls = pos, *comma, *cs, *ce;
        struct cat_voucher *v;

        pos = nl ? nl + 1 : end;
        lineno++;
        if (le > ls && le[-1] == '\r')
            le--;
        if ((size_t)(le - ls) > LINE_MAX_BYTES) {
            rc = fail(c, lineno, "longer than %d bytes", LINE_MAX_BYTES);
            goto out;
        }
        trim(&ls, &le);
        if (ls == le || *ls == '#')
            continue;
        if (!seen_data) {
            seen_data = true;
            if (is_header(ls, (size_t)(le - ls)))
                continue;
        }
        if (p->n_codes >= CAT_VOUCHER_MAX_CODES) {
            rc = -E2BIG;
            fail(c, lineno, "more than %d codes in one pool", CAT_VOUCHER_MAX_CODES);
            goto out;
        }
        if (p->n_codes == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct cat_voucher *nc = realloc(p->codes, ncap * sizeof(*nc));
            size_t *nl2;

            if (!nc) {
                rc = -ENOMEM;
                goto out;
            }
            p->codes = nc;
            nl2 = realloc(lines, ncap * sizeof(*nl2));
            if (!nl2) {
                rc = -ENOMEM;
                goto out;
            }
            lines = nl2;
            cap = ncap;
        }
        v = &p->codes[p->n_codes];
        memset(v, 0, sizeof(*v));
        comma = memchr(ls, ',', (size_t)(le - ls));
        cs = ls;
        ce = comma ? comma : le;
        trim(&cs, &ce);
        if ((size_t)(ce - cs) < CAT_VOUCHER_CODE_MIN || (size_t)(ce - cs) > CAT_VOUCHER_CODE_MAX) {
            rc = fail(c, lineno, "a code has %d to %d characters", CAT_VOUCHER_CODE_MIN,
                      CAT_VOUCHER_CODE_MAX);
            goto out;
        }
        for (const char *q = cs; q < ce; q++) {
            if (!code_char(*q)) {
                rc = fail(c, lineno, "a code has only letters, digits and \"-\" (column %zu)",
                          (size_t)(q - ls) + 1);
                goto out;
            }
        }
        memcpy(v->code, cs, (size_t)(ce - cs));
        v->code[ce - cs] = '\0';
        if (comma) {
            const char *es = comma + 1, *ee = le;
            char date[11];

            trim(&es, &ee);
            if (memchr(es, ',', (size_t)(ee - es))) {
                rc = fail(c, lineno, "expected code[,expiry], found more fields");
                goto out;
            }
            if (ee > es) {
                /* An empty expiry ("CODE,") is "none": exports write it for blank cells. */
                if (ee - es != 10) {
                    rc = fail(c, lineno, "expiry must be a date YYYY-MM-DD");
                    goto out;
                }
                memcpy(date, es, 10);
                date[10] = '\0';
                if (cat_parse_date(date, &v->expiry) < 0) {
                    rc = fail(c, lineno, "expiry must be a date YYYY-MM-DD");
                    goto out;
                }
                if (today && v->expiry < today) {
                    rc = fail(c, lineno, "code expired on %s", date);
                    goto out;
                }
            }
        }
        lines[p->n_codes] = lineno;
        p->n_codes++;
    }
    if (p->n_codes == 0) {
        rc = fail(c, 0, "no codes");
        goto out;
    }
    rc = check_duplicates(c, p, lines);
out:
    free(lines);
    if (rc < 0) {
        if (rc == -ENOMEM && c->err && c->errlen)
            snprintf(c->err, c->errlen, "%s%sout of memory", c->file ? c->file : "",
                     c->file ? ": " : "");
        cat_voucher_pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int cat_voucher_pool_parse(const char *text, size_t len, const char *pool_name, int32_t today,
                           struct cat_voucher_pool **out, char *err, size_t errlen)
{
    struct pool_ctx c = {.file = NULL, .err = err, .errlen = errlen};

    return pool_parse(&c, text, len, pool_name, today, out);
}

int cat_voucher_pool_load_file(const char *path, const char *pool_name, int32_t today,
                               struct cat_voucher_pool **out, char *err, size_t errlen)
{
    struct pool_ctx c = {.file = path, .err = err, .errlen = errlen};
    char *text = NULL;
    size_t len;
    int rc;

    *out = NULL;
    rc = cat_read_file(path, POOL_FILE_MAX, &text, &len);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    rc = pool_parse(&c, text, len, pool_name, today, out);
    free(text);
    return rc;
}

void cat_voucher_pool_free(struct cat_voucher_pool *p)
{
    if (!p)
        return;
    free(p->codes);
    free(p);
}
