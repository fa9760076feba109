/*
 * cat_json.c - the JSON plumbing shared by the catalogue and calendar loaders (jansson): one-line
 * errors that start with the JSON path ("items[3].price: must be a positive integer") so staff can
 * find the mistake in the file they edit, syntax errors with line and column, the "//" comment
 * convention of gw_config.c, and the unknown-key check. Nothing here keeps a pointer to a jansson
 * value beyond the call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cat_priv.h"

int cat_jfail(struct cat_jctx *c, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s%s%s: %s", c->file ? c->file : "", c->file ? ": " : "", path,
                 msg);
    return -EINVAL;
}

json_t *cat_jparse(struct cat_jctx *c, const char *text, size_t len)
{
    json_error_t jerr;
    /* Duplicate keys are refused: with two "price" keys, which one staff meant is a guess. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root)
        return root;
    if (c->err && c->errlen) {
        if (c->file)
            snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, jerr.line, jerr.column, jerr.text);
        else
            snprintf(c->err, c->errlen, "line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
    }
    return NULL;
}

bool cat_jcomment(const char *key)
{
    return strncmp(key, "//", 2) == 0;
}

int cat_jkeys(struct cat_jctx *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach (obj, key, v) {
        bool known = cat_jcomment(key);
        char p[CAT_PATH_LEN];

        for (size_t i = 0; !known && allowed[i]; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return cat_jfail(c, cat_jpath_key(p, sizeof(p), path, key), "unknown key");
    }
    return 0;
}

const char *cat_jpath_key(char *out, size_t len, const char *path, const char *key)
{
    if (path && path[0])
        snprintf(out, len, "%s.%s", path, key);
    else
        snprintf(out, len, "%s", key);
    return out;
}

const char *cat_jpath_idx(char *out, size_t len, const char *path, size_t i)
{
    snprintf(out, len, "%s[%zu]", path, i);
    return out;
}

int cat_jstring(struct cat_jctx *c, json_t *obj, const char *path, const char *key, bool required,
                size_t maxlen, const char **out)
{
    json_t *v = json_object_get(obj, key);
    char p[CAT_PATH_LEN];
    const char *s;
    size_t n;

    cat_jpath_key(p, sizeof(p), path, key);
    *out = NULL;
    if (!v)
        return required ? cat_jfail(c, p, "required") : 0;
    if (!json_is_string(v))
        return cat_jfail(c, p, "must be a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return cat_jfail(c, p, "must not be empty");
    if (strlen(s) != n)
        return cat_jfail(c, p, "must not contain NUL");
    if (maxlen && n > maxlen)
        return cat_jfail(c, p, "longer than %zu bytes", maxlen);
    /* Control characters would break USSD screens and log lines. */
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return cat_jfail(c, p, "must not contain control characters");
    }
    *out = s;
    return 0;
}

void cat_copy(char *dst, size_t dstlen, const char *s)
{
    snprintf(dst, dstlen, "%s", s);
}

bool cat_name_ok(const char *s)
{
    if (!s[0])
        return false;
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    }
    return true;
}
