/*
 * cat_calendar.c - the gift-day calendar: when subscribers may redeem. Weekly windows in the
 * configured IANA zone (default Wednesday 00:00:00-23:59:59), cancelled dates, special windows,
 * and an earlier opening for premium tiers. One clock: every answer is computed from the `now`
 * the caller passes (the gateway's clock or Redis TIME, never both in one decision).
 *
 * Windows are configured in local wall-clock time with an inclusive end and evaluated as half-open
 * UTC intervals [start, end + 1 s) produced by cat_tz (see catalog.h for the gap and overlap
 * policy). Nothing is precomputed: each question converts the few windows around `now` afresh, so
 * a calendar stays correct for any date the zone file knows, including Morocco's Ramadan changes
 * that move every year.
 *
 * Ownership: struct cat_calendar owns a copy of its config and its loaded zone; created by
 * cat_calendar_new() / cat_calendar_load_file(), released by cat_calendar_free().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_priv.h"
#include "catalog.h"

#define CAL_FILE_MAX (1u << 20)

struct cat_calendar {
    struct cat_calendar_config cfg;
    struct cat_tz *tz;
};

static const char *const weekday_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                             "thursday", "friday", "saturday"};

void cat_calendar_config_defaults(struct cat_calendar_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cat_copy(cfg->timezone, sizeof(cfg->timezone), "UTC");
    cfg->weekly[0] = (struct cat_weekly_rule){.weekday = 3, .start_sec = 0, .end_sec = 86399};
    cfg->n_weekly = 1;
}

/* ---------------------------------------------------------------- parsing giftdays JSON */

static int parse_weekly(struct cat_jctx *c, json_t *arr, struct cat_calendar_config *cfg)
{
    static const char *const keys[] = {"day", "start", "end", NULL};
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];
    size_t i;
    json_t *v;
    int rc;

    if (!json_is_array(arr))
        return cat_jfail(c, "weekly", "must be an array");
    if (json_array_size(arr) > CAT_CAL_MAX_WEEKLY)
        return cat_jfail(c, "weekly", "at most %d rules", CAT_CAL_MAX_WEEKLY);
    cfg->n_weekly = 0;
    json_array_foreach (arr, i, v) {
        struct cat_weekly_rule *r = &cfg->weekly[cfg->n_weekly];
        const char *day, *start, *end;
        int wd = -1;

        cat_jpath_idx(p, sizeof(p), "weekly", i);
        if (!json_is_object(v))
            return cat_jfail(c, p, "must be an object");
        if ((rc = cat_jkeys(c, v, p, keys)) < 0 ||
            (rc = cat_jstring(c, v, p, "day", true, 16, &day)) < 0 ||
            (rc = cat_jstring(c, v, p, "start", true, 8, &start)) < 0 ||
            (rc = cat_jstring(c, v, p, "end", true, 8, &end)) < 0)
            return rc;
        for (int d = 0; d < 7; d++) {
            if (strcmp(day, weekday_names[d]) == 0)
                wd = d;
        }
        if (wd < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "day"),
                             "must be a weekday in lower case (\"wednesday\")");
        r->weekday = wd;
        if (cat_parse_hms(start, false, &r->start_sec) < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "start"),
                             "must be HH:MM or HH:MM:SS (00:00 to 23:59:59)");
        if (cat_parse_hms(end, true, &r->end_sec) < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "end"),
                             "must be HH:MM or HH:MM:SS (00:00 to 23:59:59)");
        cfg->n_weekly++;
    }
    return 0;
}

static int parse_cancelled(struct cat_jctx *c, json_t *arr, struct cat_calendar_config *cfg)
{
    char p[CAT_PATH_LEN];
    size_t i;
    json_t *v;

    if (!json_is_array(arr))
        return cat_jfail(c, "cancelled", "must be an array");
    if (json_array_size(arr) > CAT_CAL_MAX_CANCELLED)
        return cat_jfail(c, "cancelled", "at most %d dates", CAT_CAL_MAX_CANCELLED);
    json_array_foreach (arr, i, v) {
        cat_jpath_idx(p, sizeof(p), "cancelled", i);
        if (!json_is_string(v) || cat_parse_date(json_string_value(v), &cfg->cancelled[i]) < 0)
            return cat_jfail(c, p, "must be a date YYYY-MM-DD");
        cfg->n_cancelled++;
    }
    return 0;
}

static int parse_special(struct cat_jctx *c, json_t *arr, struct cat_calendar_config *cfg)
{
    static const char *const keys[] = {"name", "start", "end", NULL};
    char p[CAT_PATH_LEN], q[CAT_PATH_LEN];
    size_t i;
    json_t *v;
    int rc;

    if (!json_is_array(arr))
        return cat_jfail(c, "special", "must be an array");
    if (json_array_size(arr) > CAT_CAL_MAX_SPECIAL)
        return cat_jfail(c, "special", "at most %d windows", CAT_CAL_MAX_SPECIAL);
    json_array_foreach (arr, i, v) {
        struct cat_special_window *w = &cfg->special[cfg->n_special];
        const char *name, *start, *end;

        cat_jpath_idx(p, sizeof(p), "special", i);
        if (!json_is_object(v))
            return cat_jfail(c, p, "must be an object");
        if ((rc = cat_jkeys(c, v, p, keys)) < 0 ||
            (rc = cat_jstring(c, v, p, "name", true, CAT_NAME_MAX - 1, &name)) < 0 ||
            (rc = cat_jstring(c, v, p, "start", true, 19, &start)) < 0 ||
            (rc = cat_jstring(c, v, p, "end", true, 19, &end)) < 0)
            return rc;
        if (!cat_name_ok(name))
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "name"),
                             "letters, digits, \"_\", \"-\" and \".\" only");
        cat_copy(w->name, sizeof(w->name), name);
        if (cat_parse_local_datetime(start, false, &w->start_date, &w->start_sec) < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "start"),
                             "must be a local time YYYY-MM-DDTHH:MM[:SS]");
        if (cat_parse_local_datetime(end, true, &w->end_date, &w->end_sec) < 0)
            return cat_jfail(c, cat_jpath_key(q, sizeof(q), p, "end"),
                             "must be a local time YYYY-MM-DDTHH:MM[:SS]");
        cfg->n_special++;
    }
    return 0;
}

static int parse_premium(struct cat_jctx *c, json_t *obj, struct cat_calendar_config *cfg)
{
    static const char *const keys[] = {"tiers", "early_minutes", NULL};
    json_t *tiers = json_object_get(obj, "tiers");
    json_t *early = json_object_get(obj, "early_minutes");
    char p[CAT_PATH_LEN];
    size_t i;
    json_t *v;
    int rc;

    if (!json_is_object(obj))
        return cat_jfail(c, "premium", "must be an object");
    if ((rc = cat_jkeys(c, obj, "premium", keys)) < 0)
        return rc;
    if (!tiers)
        return cat_jfail(c, "premium.tiers", "required");
    if (!json_is_array(tiers) || json_array_size(tiers) == 0)
        return cat_jfail(c, "premium.tiers", "must be a non-empty array of tier names");
    if (json_array_size(tiers) > CAT_CAL_MAX_PREMIUM_TIERS)
        return cat_jfail(c, "premium.tiers", "at most %d tiers", CAT_CAL_MAX_PREMIUM_TIERS);
    json_array_foreach (tiers, i, v) {
        const char *s = json_string_value(v);

        cat_jpath_idx(p, sizeof(p), "premium.tiers", i);
        if (!s || !s[0] || strlen(s) >= CAT_NAME_MAX || !cat_name_ok(s))
            return cat_jfail(c, p, "must be a tier name (letters, digits, \"_\", \"-\", \".\")");
        cat_copy(cfg->premium_tiers[i], sizeof(cfg->premium_tiers[i]), s);
        cfg->n_premium_tiers++;
    }
    if (!early)
        return cat_jfail(c, "premium.early_minutes", "required");
    if (!json_is_integer(early) || json_integer_value(early) < 0 ||
        json_integer_value(early) > CAT_CAL_MAX_EARLY_MIN)
        return cat_jfail(c, "premium.early_minutes", "must be an integer from 0 to %d",
                         CAT_CAL_MAX_EARLY_MIN);
    cfg->premium_early_min = (int32_t)json_integer_value(early);
    return 0;
}

static int config_parse(struct cat_jctx *c, const char *text, size_t len,
                        struct cat_calendar_config *cfg)
{
    static const char *const keys[] = {"timezone", "weekly",  "cancelled",
                                       "special",  "premium", NULL};
    json_t *root = cat_jparse(c, text, len);
    const char *tzname;
    json_t *v;
    int rc;

    cat_calendar_config_defaults(cfg);
    if (!root)
        return -EINVAL;
    if (!json_is_object(root)) {
        rc = cat_jfail(c, "(root)", "must be an object");
        goto out;
    }
    if ((rc = cat_jkeys(c, root, "", keys)) < 0 ||
        (rc = cat_jstring(c, root, "", "timezone", true, sizeof(cfg->timezone) - 1, &tzname)) < 0)
        goto out;
    cat_copy(cfg->timezone, sizeof(cfg->timezone), tzname);
    if ((v = json_object_get(root, "weekly")) && (rc = parse_weekly(c, v, cfg)) < 0)
        goto out;
    if ((v = json_object_get(root, "cancelled")) && (rc = parse_cancelled(c, v, cfg)) < 0)
        goto out;
    if ((v = json_object_get(root, "special")) && (rc = parse_special(c, v, cfg)) < 0)
        goto out;
    if ((v = json_object_get(root, "premium")) && (rc = parse_premium(c, v, cfg)) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int cat_calendar_config_parse(const char *text, size_t len, struct cat_calendar_config *cfg,
                              char *err, size_t errlen)
{
    struct cat_jctx c = {.file = NULL, .err = err, .errlen = errlen};

    return config_parse(&c, text, len, cfg);
}

/* ---------------------------------------------------------------- building */

/* Checks what the JSON parser already checks, for configs built in code. */
static int config_check(struct cat_jctx *c, const struct cat_calendar_config *cfg)
{
    char p[CAT_PATH_LEN];

    if (cfg->n_weekly > CAT_CAL_MAX_WEEKLY || cfg->n_cancelled > CAT_CAL_MAX_CANCELLED ||
        cfg->n_special > CAT_CAL_MAX_SPECIAL || cfg->n_premium_tiers > CAT_CAL_MAX_PREMIUM_TIERS)
        return cat_jfail(c, "(config)", "too many entries");
    for (unsigned i = 0; i < cfg->n_weekly; i++) {
        const struct cat_weekly_rule *r = &cfg->weekly[i];

        if (r->weekday < 0 || r->weekday > 6 || r->start_sec < 0 || r->start_sec > 86399 ||
            r->end_sec < 0 || r->end_sec > 86399)
            return cat_jfail(c, cat_jpath_idx(p, sizeof(p), "weekly", i), "out of range");
    }
    for (unsigned i = 0; i < cfg->n_cancelled; i++) {
        if (!cat_date_valid(cfg->cancelled[i]))
            return cat_jfail(c, cat_jpath_idx(p, sizeof(p), "cancelled", i), "not a date");
    }
    for (unsigned i = 0; i < cfg->n_special; i++) {
        const struct cat_special_window *w = &cfg->special[i];
        int64_t s, e;

        cat_jpath_idx(p, sizeof(p), "special", i);
        if (!cat_date_valid(w->start_date) || !cat_date_valid(w->end_date) || w->start_sec < 0 ||
            w->start_sec > 86399 || w->end_sec < 0 || w->end_sec > 86399)
            return cat_jfail(c, p, "out of range");
        s = cat_date_to_days(w->start_date) * 86400 + w->start_sec;
        e = cat_date_to_days(w->end_date) * 86400 + w->end_sec;
        if (e < s)
            return cat_jfail(c, p, "ends before it starts");
        /* Bounded so that "is it open now?" only has to look at a few days around now. */
        if (e - s >= (int64_t)CAT_CAL_MAX_SPECIAL_DAYS * 86400)
            return cat_jfail(c, p, "longer than %d days", CAT_CAL_MAX_SPECIAL_DAYS);
    }
    for (unsigned i = 0; i < cfg->n_premium_tiers; i++) {
        if (!cfg->premium_tiers[i][0])
            return cat_jfail(c, cat_jpath_idx(p, sizeof(p), "premium.tiers", i), "empty");
    }
    if (cfg->premium_early_min < 0 || cfg->premium_early_min > CAT_CAL_MAX_EARLY_MIN)
        return cat_jfail(c, "premium.early_minutes", "must be from 0 to %d", CAT_CAL_MAX_EARLY_MIN);
    return 0;
}

static int calendar_build(struct cat_jctx *c, const struct cat_calendar_config *cfg,
                          const char *zoneinfo_dir, struct cat_calendar **out)
{
    struct cat_calendar *cal;
    int rc;

    *out = NULL;
    if ((rc = config_check(c, cfg)) < 0)
        return rc;
    cal = calloc(1, sizeof(*cal));
    if (!cal)
        return -ENOMEM;
    cal->cfg = *cfg;
    cal->cfg.timezone[sizeof(cal->cfg.timezone) - 1] = '\0';
    rc = cat_tz_load_dir(zoneinfo_dir, cal->cfg.timezone, &cal->tz);
    if (rc < 0) {
        switch (rc) {
        case -EINVAL:
            cat_jfail(c, "timezone", "an IANA zone name (\"Africa/Casablanca\"), not a path");
            break;
        case -ENOENT:
            cat_jfail(c, "timezone", "no such zone \"%s\"", cal->cfg.timezone);
            break;
        default:
            cat_jfail(c, "timezone", "cannot load zone \"%s\": %s", cal->cfg.timezone,
                      strerror(-rc));
            break;
        }
        free(cal);
        return rc;
    }
    *out = cal;
    return 0;
}

int cat_calendar_new(const struct cat_calendar_config *cfg, const char *zoneinfo_dir,
                     struct cat_calendar **out, char *err, size_t errlen)
{
    struct cat_jctx c = {.file = NULL, .err = err, .errlen = errlen};

    return calendar_build(&c, cfg, zoneinfo_dir, out);
}

int cat_calendar_load_file(const char *path, struct cat_calendar **out, char *err, size_t errlen)
{
    struct cat_jctx c = {.file = path, .err = err, .errlen = errlen};
    struct cat_calendar_config *cfg = NULL;
    char *text = NULL;
    size_t len;
    int rc;

    *out = NULL;
    rc = cat_read_file(path, CAL_FILE_MAX, &text, &len);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    /* The config is a few KiB of fixed arrays: keep it off the event loop's stack. */
    cfg = malloc(sizeof(*cfg));
    if (!cfg) {
        rc = -ENOMEM;
        goto out;
    }
    rc = config_parse(&c, text, len, cfg);
    if (rc == 0)
        rc = calendar_build(&c, cfg, NULL, out);
out:
    free(cfg);
    free(text);
    return rc;
}

void cat_calendar_free(struct cat_calendar *cal)
{
    if (!cal)
        return;
    cat_tz_free(cal->tz);
    free(cal);
}

const struct cat_tz *cat_calendar_tz(const struct cat_calendar *cal)
{
    return cal->tz;
}

const struct cat_calendar_config *cat_calendar_config(const struct cat_calendar *cal)
{
    return &cal->cfg;
}

bool cat_calendar_is_premium(const struct cat_calendar *cal, const char *tier)
{
    if (!tier)
        return false;
    for (unsigned i = 0; i < cal->cfg.n_premium_tiers; i++) {
        if (strcmp(tier, cal->cfg.premium_tiers[i]) == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- windows */

static int weekday_of(int64_t days)
{
    return (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}

static bool cancelled(const struct cat_calendar *cal, int32_t ymd)
{
    for (unsigned i = 0; i < cal->cfg.n_cancelled; i++) {
        if (cal->cfg.cancelled[i] == ymd)
            return true;
    }
    return false;
}

/*
 * Converts one local window (wall-clock seconds, end exclusive) into UTC for a tier. Starts take
 * the earlier of two instants in an overlap, ends the later one, so a window covers a repeated
 * hour whole; gaps move either edge to the jump. Returns 1 when the window is not empty, 0 when it
 * vanished inside a gap, or -ERANGE.
 */
static int make_window(const struct cat_calendar *cal, int64_t local_start, int64_t local_end,
                       bool premium, struct cat_gift_window *w)
{
    int64_t s, e;
    int rc;

    rc = cat_tz_local_secs_to_utc(cal->tz, local_start, CAT_TZ_EARLIER, &s, NULL);
    if (rc == 0)
        rc = cat_tz_local_secs_to_utc(cal->tz, local_end, CAT_TZ_LATER, &e, NULL);
    if (rc < 0)
        return rc;
    if (e <= s)
        return 0;
    w->regular_start = s;
    /* "Minutes earlier" is elapsed time, so it is subtracted in UTC: an hour earlier stays an
     * hour even when the clock changed in between. */
    w->start = premium ? s - (int64_t)cal->cfg.premium_early_min * 60 : s;
    w->end = e;
    w->gift_day = cat_days_to_date(cat_floordiv(local_start, 86400));
    return 1;
}

static int weekly_window(const struct cat_calendar *cal, const struct cat_weekly_rule *r,
                         int64_t day, bool premium, struct cat_gift_window *w)
{
    int64_t end_excl = (int64_t)r->end_sec + 1;
    int rc;

    if (r->end_sec < r->start_sec)
        end_excl += 86400; /* runs past midnight */
    rc = make_window(cal, day * 86400 + r->start_sec, day * 86400 + end_excl, premium, w);
    if (rc > 0) {
        w->special = false;
        cat_copy(w->name, sizeof(w->name), "weekly");
    }
    return rc;
}

static int special_window(const struct cat_calendar *cal, const struct cat_special_window *sp,
                          bool premium, struct cat_gift_window *w)
{
    int rc = make_window(cal, cat_date_to_days(sp->start_date) * 86400 + sp->start_sec,
                         cat_date_to_days(sp->end_date) * 86400 + sp->end_sec + 1, premium, w);

    if (rc > 0) {
        w->special = true;
        cat_copy(w->name, sizeof(w->name), sp->name);
    }
    return rc;
}

/* Instants the calendar answers for: years 1..9999 with room for the days searched around them,
 * so the local-day arithmetic below cannot overflow on a garbage clock reading. */
static bool now_ok(int64_t now)
{
    return now > INT64_C(-62135596800) + 7 * 86400 &&
           now < INT64_C(253402300799) - (CAT_CAL_SEARCH_DAYS + 7) * INT64_C(86400);
}

static int64_t local_day(const struct cat_calendar *cal, int64_t now)
{
    return cat_floordiv(now + cat_tz_utc_offset(cal->tz, now), 86400);
}

/* Keeps in *best the window that started first (then the one that ends last). */
static void keep_earliest(struct cat_gift_window *best, bool *have, const struct cat_gift_window *w)
{
    if (!*have || w->start < best->start || (w->start == best->start && w->end > best->end)) {
        *best = *w;
        *have = true;
    }
}

int cat_calendar_is_open(const struct cat_calendar *cal, int64_t now, const char *tier,
                         struct cat_gift_window *window)
{
    bool premium = cat_calendar_is_premium(cal, tier);
    struct cat_gift_window best = {0}, w;
    bool have = false;
    int64_t today;
    int rc;

    if (!now_ok(now))
        return -ERANGE;
    today = local_day(cal, now);
    /* A weekly window lasts under two days and opens at most a day early (premium), so only those
     * configured from three days before today to two days after can contain now. */
    for (int64_t day = today - 3; day <= today + 2; day++) {
        if (cancelled(cal, cat_days_to_date(day)))
            continue;
        for (unsigned i = 0; i < cal->cfg.n_weekly; i++) {
            if (cal->cfg.weekly[i].weekday != weekday_of(day))
                continue;
            rc = weekly_window(cal, &cal->cfg.weekly[i], day, premium, &w);
            if (rc < 0)
                return rc;
            if (rc > 0 && w.start <= now && now < w.end)
                keep_earliest(&best, &have, &w);
        }
    }
    for (unsigned i = 0; i < cal->cfg.n_special; i++) {
        rc = special_window(cal, &cal->cfg.special[i], premium, &w);
        if (rc < 0)
            return rc;
        if (rc > 0 && w.start <= now && now < w.end)
            keep_earliest(&best, &have, &w);
    }
    if (!have)
        return 0;
    if (window)
        *window = best;
    return 1;
}

int cat_calendar_next_open(const struct cat_calendar *cal, int64_t now, const char *tier,
                           int64_t *start, int64_t *end, struct cat_gift_window *window)
{
    bool premium = cat_calendar_is_premium(cal, tier);
    struct cat_gift_window best = {0}, w;
    bool have = false;
    int64_t today;
    int rc;

    if (!now_ok(now))
        return -ERANGE;
    today = local_day(cal, now);
    for (unsigned i = 0; i < cal->cfg.n_special; i++) {
        rc = special_window(cal, &cal->cfg.special[i], premium, &w);
        if (rc < 0)
            return rc;
        if (rc > 0 && w.start > now)
            keep_earliest(&best, &have, &w);
    }
    for (int64_t day = today - 2; day <= today + CAT_CAL_SEARCH_DAYS; day++) {
        /* Windows configured on `day` start after (day - 3) * 86400 (offsets < 26 h, premium
         * <= 24 h): once that is past the best start found, no later day can beat it. */
        if (have && (day - 3) * 86400 > best.start)
            break;
        if (cancelled(cal, cat_days_to_date(day)))
            continue;
        for (unsigned i = 0; i < cal->cfg.n_weekly; i++) {
            if (cal->cfg.weekly[i].weekday != weekday_of(day))
                continue;
            rc = weekly_window(cal, &cal->cfg.weekly[i], day, premium, &w);
            if (rc < 0)
                return rc;
            if (rc > 0 && w.start > now)
                keep_earliest(&best, &have, &w);
        }
    }
    if (!have)
        return -ENOENT;
    if (start)
        *start = best.start;
    if (end)
        *end = best.end;
    if (window)
        *window = best;
    return 0;
}

int cat_calendar_status(const struct cat_calendar *cal, int64_t now, const char *tier,
                        struct cat_gift_status *st)
{
    int rc;

    memset(st, 0, sizeof(*st));
    rc = cat_calendar_is_open(cal, now, tier, &st->current);
    if (rc < 0)
        return rc;
    st->open = rc == 1;
    rc = cat_calendar_next_open(cal, now, tier, NULL, NULL, &st->next);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    st->has_next = rc == 0;
    return 0;
}
