/*
 * gw_campaign.c - the campaigns document: parser, validation and the pure helpers (gw_campaign.h).
 * Untrusted input (marketing edits it in the console): every field is type- and bound-checked,
 * unknown keys are refused; fuzzed by tests/fuzz/fuzz_campaigns.c.
 */
#include "gw_campaign.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gw_days.h"

const char *const gw_camp_langs[GW_CAMP_LANGS] = {"ar", "fr", "en", "fa"};
static const char *const rule_names[GW_CAMP__RULES] = {"welcome", "tenure", "winback",
                                                        "birthday", "referral"};

const char *gw_camp_rule_name(enum gw_camp_rule r)
{
    return (unsigned)r < GW_CAMP__RULES ? rule_names[r] : "?";
}

static int fail(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    return -EINVAL;
}

static bool id_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > GW_CAMP_ID_MAX || s[0] == '-' || s[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* "YYYY-MM-DD" -> YYYYMMDD, 0 when invalid */
static int32_t parse_day(const char *s)
{
    int y, m, d;
    char tail;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    int32_t ymd = y * 10000 + m * 100 + d;
    return gw_days_valid(ymd) ? ymd : 0;
}

static int get_int(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t dflt, bool required,
                   int64_t *out, const char *path, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    char p[160];

    snprintf(p, sizeof(p), "%.96s.%.40s", path, key);
    if (!v) {
        if (required)
            return fail(err, errlen, p, "missing");
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char what[64];
        snprintf(what, sizeof(what), "an integer from %" PRId64 " to %" PRId64, lo, hi);
        return fail(err, errlen, p, what);
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_day(json_t *o, const char *key, int32_t *out, const char *path, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(o, key);
    char p[160];

    snprintf(p, sizeof(p), "%.96s.%.40s", path, key);
    if (!json_is_string(v) || !(*out = parse_day(json_string_value(v))))
        return fail(err, errlen, p, "a local day \"YYYY-MM-DD\"");
    return 0;
}

/* UTF-8 without C0 controls other than LF; the SMS side checks the encoding again */
static bool text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && *p != '\n')
            return false;
    return true;
}

static int parse_tiers(json_t *t, struct gw_camp *c, const char *path, char *err, size_t errlen)
{
    const char *name;
    json_t *v;
    char p[160];

    if (!json_is_object(t))
        return fail(err, errlen, path, "an object {tier: points}");
    if (json_object_size(t) > GW_CAMP_TIERS_MAX)
        return fail(err, errlen, path, "too many tiers");
    json_object_foreach(t, name, v)
    {
        snprintf(p, sizeof(p), "%.96s.%.40s", path, name);
        size_t n = strlen(name);
        if (n < 1 || n >= sizeof(c->tiers[0].name) || strpbrk(name, ",=|"))
            return fail(err, errlen, p, "a tier name of 1..31 characters without , = |");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)name[i] < 0x21)
                return fail(err, errlen, p, "a tier name without spaces or controls");
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > GW_CAMP_POINTS_MAX)
            return fail(err, errlen, p, "points from 0 to 1000000");
        snprintf(c->tiers[c->n_tiers].name, sizeof(c->tiers[0].name), "%s", name);
        c->tiers[c->n_tiers++].points = json_integer_value(v);
    }
    return 0;
}

static int parse_years(json_t *a, struct gw_camp *c, const char *path, char *err, size_t errlen)
{
    size_t i;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > GW_CAMP_YEARS_MAX)
        return fail(err, errlen, path, "an array of 1..8 anniversaries (years)");
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100 ||
            (i > 0 && json_integer_value(v) <= (json_int_t)c->years[i - 1]))
            return fail(err, errlen, path, "ascending years from 1 to 100");
        c->years[c->n_years++] = (uint32_t)json_integer_value(v);
    }
    return 0;
}

static int parse_texts(json_t *t, struct gw_camp *c, const char *path, char *err, size_t errlen)
{
    const char *lang;
    json_t *v;
    char p[160];
    bool any = false;

    if (!json_is_object(t))
        return fail(err, errlen, path, "an object {lang: text}");
    json_object_foreach(t, lang, v)
    {
        int k = -1;
        snprintf(p, sizeof(p), "%.96s.%.8s", path, lang);
        for (int i = 0; i < GW_CAMP_LANGS; i++)
            if (strcmp(lang, gw_camp_langs[i]) == 0)
                k = i;
        if (k < 0)
            return fail(err, errlen, p, "a language among ar, fr, en, fa");
        if (!json_is_string(v) || json_string_length(v) < 1 ||
            json_string_length(v) > GW_CAMP_TEXT_MAX || !text_ok(json_string_value(v)))
            return fail(err, errlen, p, "a text of 1..480 bytes without control characters");
        snprintf(c->texts[k], sizeof(c->texts[k]), "%s", json_string_value(v));
        any = true;
    }
    if (!any)
        return fail(err, errlen, path, "at least one language");
    return 0;
}

static const char *const common_keys[] = {"id",     "rule",   "start", "end",
                                          "budget", "points", "tiers", "label"};
static const char *const rule_keys[GW_CAMP__RULES][4] = {
    {NULL},
    {"years", NULL},
    {"min_recharges", "lapse_days", "valid_days", "texts"},
    {"texts", NULL},
    {"valid_days", "max_per_month", "min_amount", NULL},
};

static bool key_known(enum gw_camp_rule r, const char *key)
{
    for (size_t i = 0; i < sizeof(common_keys) / sizeof(common_keys[0]); i++)
        if (strcmp(key, common_keys[i]) == 0)
            return true;
    for (size_t i = 0; i < 4 && rule_keys[r][i]; i++)
        if (strcmp(key, rule_keys[r][i]) == 0)
            return true;
    return false;
}

static int parse_one(json_t *o, struct gw_camp *c, const char *path, char *err, size_t errlen)
{
    json_t *v;
    int64_t x;
    char p[160];
    const char *key;
    int rc;

    if (!json_is_object(o))
        return fail(err, errlen, path, "an object");
    v = json_object_get(o, "id");
    snprintf(p, sizeof(p), "%s.id", path);
    if (!json_is_string(v) || !id_valid(json_string_value(v)))
        return fail(err, errlen, p, "1..24 characters of [a-z0-9_-]");
    snprintf(c->id, sizeof(c->id), "%s", json_string_value(v));
    v = json_object_get(o, "rule");
    snprintf(p, sizeof(p), "%s.rule", path);
    if (!json_is_string(v))
        return fail(err, errlen, p, "one of welcome, tenure, winback, birthday, referral");
    c->rule = GW_CAMP__RULES;
    for (int i = 0; i < GW_CAMP__RULES; i++)
        if (strcmp(json_string_value(v), rule_names[i]) == 0)
            c->rule = (enum gw_camp_rule)i;
    if (c->rule == GW_CAMP__RULES)
        return fail(err, errlen, p, "one of welcome, tenure, winback, birthday, referral");
    json_object_foreach(o, key, v)
    {
        if (!key_known(c->rule, key)) {
            snprintf(p, sizeof(p), "%.96s.%.40s", path, key);
            return fail(err, errlen, p, "unknown key for this rule");
        }
    }
    if ((rc = get_day(o, "start", &c->start, path, err, errlen)) < 0 ||
        (rc = get_day(o, "end", &c->end, path, err, errlen)) < 0)
        return rc;
    if (c->end < c->start) {
        snprintf(p, sizeof(p), "%s.end", path);
        return fail(err, errlen, p, "before start");
    }
    if ((rc = get_int(o, "budget", 1, GW_CAMP_BUDGET_MAX, 0, true, &c->budget, path, err,
                      errlen)) < 0 ||
        (rc = get_int(o, "points", 1, GW_CAMP_POINTS_MAX, 0, true, &c->points, path, err,
                      errlen)) < 0)
        return rc;
    if ((v = json_object_get(o, "tiers"))) {
        snprintf(p, sizeof(p), "%s.tiers", path);
        if ((rc = parse_tiers(v, c, p, err, errlen)) < 0)
            return rc;
    }
    v = json_object_get(o, "label");
    snprintf(p, sizeof(p), "%s.label", path);
    if (v) {
        if (!json_is_string(v) || json_string_length(v) < 1 ||
            json_string_length(v) > GW_CAMP_LABEL_MAX || !text_ok(json_string_value(v)) ||
            strchr(json_string_value(v), '\n'))
            return fail(err, errlen, p, "one line of 1..64 bytes");
        snprintf(c->label, sizeof(c->label), "%s", json_string_value(v));
    } else
        snprintf(c->label, sizeof(c->label), "%s bonus", rule_names[c->rule]);
    if (c->rule == GW_CAMP_TENURE) {
        snprintf(p, sizeof(p), "%s.years", path);
        return parse_years(json_object_get(o, "years"), c, p, err, errlen);
    }
    if (c->rule == GW_CAMP_WINBACK) {
        if ((rc = get_int(o, "min_recharges", 1, 1000, 3, false, &x, path, err, errlen)) < 0)
            return rc;
        c->min_recharges = (uint32_t)x;
        if ((rc = get_int(o, "lapse_days", 7, 730, 70, false, &x, path, err, errlen)) < 0)
            return rc;
        c->lapse_days = (uint32_t)x;
        if ((rc = get_int(o, "valid_days", 1, 90, 14, false, &x, path, err, errlen)) < 0)
            return rc;
        c->valid_days = (uint32_t)x;
        snprintf(p, sizeof(p), "%s.texts", path);
        return parse_texts(json_object_get(o, "texts"), c, p, err, errlen);
    }
    if (c->rule == GW_CAMP_REFERRAL) {
        if ((rc = get_int(o, "valid_days", 1, 365, 30, false, &x, path, err, errlen)) < 0)
            return rc;
        c->valid_days = (uint32_t)x;
        if ((rc = get_int(o, "max_per_month", 1, 1000, 5, false, &x, path, err, errlen)) < 0)
            return rc;
        c->max_per_month = (uint32_t)x;
        /* in the events' currency units; compared with the recharge's amount */
        if ((rc = get_int(o, "min_amount", 0, 1000000, 0, false, &x, path, err, errlen)) < 0)
            return rc;
        c->min_amount_milli = x * 1000;
        return 0;
    }
    if (c->rule == GW_CAMP_BIRTHDAY) {
        snprintf(p, sizeof(p), "%s.texts", path);
        return parse_texts(json_object_get(o, "texts"), c, p, err, errlen);
    }
    return 0;
}

/* "retired": [{"id", "day"}, ...]: valid, distinct ids no campaign of the document uses. */
static int parse_retired(json_t *a, struct gw_campaigns *out, char *err, size_t errlen)
{
    size_t i;
    json_t *e;
    char p[64];

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > GW_CAMP_RETIRED_MAX)
        return fail(err, errlen, "retired", "an array of at most 256 {id, day}");
    json_array_foreach(a, i, e)
    {
        struct gw_camp_retired *r = &out->retired[i];
        const char *key;
        json_t *v;
        snprintf(p, sizeof(p), "retired[%zu]", i);
        if (!json_is_object(e))
            return fail(err, errlen, p, "an object {id, day}");
        json_object_foreach(e, key, v)
        {
            if (strcmp(key, "id") != 0 && strcmp(key, "day") != 0) {
                snprintf(p, sizeof(p), "retired[%zu].%.24s", i, key);
                return fail(err, errlen, p, "unknown key");
            }
        }
        v = json_object_get(e, "id");
        if (!json_is_string(v) || !id_valid(json_string_value(v))) {
            snprintf(p, sizeof(p), "retired[%zu].id", i);
            return fail(err, errlen, p, "1..24 characters of [a-z0-9_-]");
        }
        snprintf(r->id, sizeof(r->id), "%s", json_string_value(v));
        if (get_day(e, "day", &r->day, p, err, errlen) < 0)
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->retired[j].id, r->id) == 0)
                return fail(err, errlen, p, "id listed twice");
        for (size_t j = 0; j < out->n; j++)
            if (strcmp(out->c[j].id, r->id) == 0) {
                char what[160];
                snprintf(p, sizeof(p), "campaigns[%zu].id", j);
                snprintf(what, sizeof(what),
                         "\"%s\" is retired and never used again (its members' markers are "
                         "deleted): choose a new id",
                         r->id);
                return fail(err, errlen, p, what);
            }
        out->n_retired = i + 1;
    }
    return 0;
}

int gw_campaigns_parse(const char *text, size_t len, struct gw_campaigns *out, char *err,
                       size_t errlen)
{
    json_error_t je;
    json_t *root, *v, *arr;
    const char *key;
    int rc = -EINVAL;

    if (!text || !out || !err || errlen == 0)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "line %d: %s", je.line, je.text);
        return -EINVAL;
    }
    if (!json_is_object(root)) {
        fail(err, errlen, "document", "a JSON object");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "version") != 0 && strcmp(key, "campaigns") != 0 &&
            strcmp(key, "retired") != 0) {
            snprintf(err, errlen, "%.40s: unknown key", key);
            goto out;
        }
    }
    v = json_object_get(root, "version");
    if (!json_is_string(v) || json_string_length(v) < 1 ||
        json_string_length(v) >= sizeof(out->version) || !text_ok(json_string_value(v))) {
        fail(err, errlen, "version", "a text of 1..63 bytes");
        goto out;
    }
    snprintf(out->version, sizeof(out->version), "%s", json_string_value(v));
    arr = json_object_get(root, "campaigns");
    if (!json_is_array(arr) || json_array_size(arr) > GW_CAMP_MAX) {
        fail(err, errlen, "campaigns", "an array of at most 16 campaigns");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char path[32];
        snprintf(path, sizeof(path), "campaigns[%zu]", i);
        if ((rc = parse_one(json_array_get(arr, i), &out->c[i], path, err, errlen)) < 0)
            goto out;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->c[j].id, out->c[i].id) == 0) {
                rc = fail(err, errlen, path, "id used twice");
                goto out;
            }
        out->n = i + 1;
    }
    if ((rc = parse_retired(json_object_get(root, "retired"), out, err, errlen)) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc < 0) {
        out->n = 0;
        out->n_retired = 0;
    }
    return rc;
}

static void day_text(int32_t ymd, char *out, size_t cap)
{
    snprintf(out, cap, "%04d-%02d-%02d", (int)(ymd / 10000), (int)(ymd / 100 % 100),
             (int)(ymd % 100));
}

/* The id of a campaign or retired entry, or NULL. The stored document is read leniently: one
 * written before this code, or by hand, is read as far as it goes. */
static const char *camp_id_of(json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    return id && id_valid(id) ? id : NULL;
}

static json_t *retired_find(json_t *list, const char *id)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e)
    {
        const char *x = camp_id_of(e);
        if (x && strcmp(x, id) == 0)
            return e;
    }
    return NULL;
}

/* Adds {id, day} to list unless id is there (an earlier day replaces a later one). */
static int retired_add(json_t *list, const char *id, const char *day)
{
    json_t *e = retired_find(list, id);
    const char *had = e ? json_string_value(json_object_get(e, "day")) : NULL;

    if (e) {
        if (day && had && strcmp(day, had) < 0 &&
            json_object_set_new(e, "day", json_string(day)) < 0)
            return -ENOMEM;
        return 0;
    }
    e = json_pack("{s:s, s:s}", "id", id, "day", day);
    return e && json_array_append_new(list, e) == 0 ? 0 : -ENOMEM;
}

int gw_campaigns_retire(const char *stored, size_t slen, const char *text, size_t len, int32_t today,
                        char **out, char *err, size_t errlen)
{
    json_t *old = stored ? json_loadb(stored, slen, 0, NULL) : NULL;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *list = NULL, *e, *camps;
    char day[16];
    size_t i;
    int rc = -EINVAL;

    *out = NULL;
    if (!json_is_object(doc)) {
        fail(err, errlen, "document", "a JSON object");
        goto done;
    }
    day_text(today, day, sizeof(day));
    list = json_array();
    if (!list) {
        rc = -ENOMEM;
        goto done;
    }
    /* text's own list, then the stored one, then the campaigns text dropped */
    json_array_foreach(json_object_get(doc, "retired"), i, e)
    {
        if (camp_id_of(e) && (rc = retired_add(list, camp_id_of(e),
                                               json_string_value(json_object_get(e, "day")))) < 0)
            goto done;
    }
    json_array_foreach(json_object_get(old, "retired"), i, e)
    {
        const char *d = json_string_value(json_object_get(e, "day"));
        if (camp_id_of(e) && (rc = retired_add(list, camp_id_of(e), d ? d : day)) < 0)
            goto done;
    }
    camps = json_object_get(doc, "campaigns");
    json_array_foreach(json_object_get(old, "campaigns"), i, e)
    {
        const char *id = camp_id_of(e);
        size_t j;
        json_t *n;
        bool kept = false;
        json_array_foreach(camps, j, n)
        {
            if (camp_id_of(n) && id && strcmp(camp_id_of(n), id) == 0)
                kept = true;
        }
        if (id && !kept && (rc = retired_add(list, id, day)) < 0)
            goto done;
    }
    /* a campaign of text under a retired id: its members' markers are being deleted, so it
     * would pay them again */
    json_array_foreach(camps, i, e)
    {
        json_t *r = camp_id_of(e) ? retired_find(list, camp_id_of(e)) : NULL;
        if (r) {
            snprintf(err, errlen,
                     "campaigns[%zu].id: \"%s\" was retired on %s and is never used again (its "
                     "members' markers are deleted): choose a new id",
                     i, camp_id_of(e), json_string_value(json_object_get(r, "day")));
            rc = -EINVAL;
            goto done;
        }
    }
    if (json_array_size(list) > GW_CAMP_RETIRED_MAX) {
        snprintf(err, errlen, "retired: more than %d retired ids", GW_CAMP_RETIRED_MAX);
        rc = -EINVAL;
        goto done;
    }
    rc = 0;
    if (json_equal(list, json_object_get(doc, "retired")) ||
        (json_array_size(list) == 0 && !json_object_get(doc, "retired")))
        goto done; /* text already says it all: stored as sent */
    if (json_object_set(doc, "retired", list) < 0 ||
        !(*out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        rc = -ENOMEM;
done:
    json_decref(list);
    json_decref(doc);
    json_decref(old);
    return rc;
}

bool gw_camp_active(const struct gw_camp *c, int32_t today)
{
    return c && today >= c->start && today <= c->end;
}

int64_t gw_camp_points(const struct gw_camp *c, const char *tier)
{
    for (size_t i = 0; tier && i < c->n_tiers; i++)
        if (strcmp(c->tiers[i].name, tier) == 0)
            return c->tiers[i].points;
    return c->points;
}

int gw_camp_tiers_arg(const struct gw_camp *c, char *out, size_t cap)
{
    size_t at = 0;

    if (cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    for (size_t i = 0; i < c->n_tiers; i++) {
        int n = snprintf(out + at, cap - at, "%s%s=%" PRId64, i ? "," : "", c->tiers[i].name,
                         c->tiers[i].points);
        if (n < 0 || (size_t)n >= cap - at) {
            out[0] = '\0';
            return -ENOSPC;
        }
        at += (size_t)n;
    }
    return 0;
}

/* Appends s (n bytes) at *at; false when it does not fit (with the NUL). */
static bool put(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at + n + 1 > cap)
        return false;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
    return true;
}

int gw_camp_offer_text(const struct gw_camp *c, const char *lang, const char *fallback,
                       int64_t points, int32_t until, char *out, size_t cap)
{
    const char *fmt = NULL;
    char pts[24], date[16];
    size_t at = 0;

    if (!c || !out || cap == 0)
        return -EINVAL;
    for (int pass = 0; pass < 3 && !fmt; pass++) {
        const char *want = pass == 0 ? lang : fallback;
        for (int i = 0; i < GW_CAMP_LANGS && !fmt; i++)
            if ((pass == 2 || (want && strcmp(want, gw_camp_langs[i]) == 0)) && c->texts[i][0])
                fmt = c->texts[i];
    }
    if (!fmt)
        return -ENOENT;
    snprintf(pts, sizeof(pts), "%" PRId64, points);
    snprintf(date, sizeof(date), "%02d/%02d/%04d", (int)(until % 100), (int)(until / 100 % 100),
             (int)(until / 10000));
    out[0] = '\0';
    for (const char *p = fmt; *p;) {
        bool ok;
        if (strncmp(p, "{points}", 8) == 0) {
            ok = put(out, cap, &at, pts, strlen(pts));
            p += 8;
        } else if (strncmp(p, "{date}", 6) == 0) {
            ok = put(out, cap, &at, date, strlen(date));
            p += 6;
        } else
            ok = put(out, cap, &at, p++, 1);
        if (!ok) {
            out[0] = '\0';
            return -ENOSPC;
        }
    }
    return 0;
}

bool gw_camp_winback_due(const struct gw_camp *c, int64_t now, bool exists, bool blocked,
                         int64_t rc, int64_t rl, int64_t offered_rl)
{
    if (!c || c->rule != GW_CAMP_WINBACK || !exists || blocked || rc < c->min_recharges || rl < 0)
        return false;
    if (rl > now - (int64_t)c->lapse_days * 86400)
        return false;
    return offered_rl != rl; /* one offer per lapse */
}
