/*
 * cat_priv.h - helpers shared inside catalog/ only: proleptic Gregorian date arithmetic (cat_tz.c),
 * strict parsers for the date and time texts staff write, whole-file reading, and the JSON error
 * helpers that make every message start with the JSON path (cat_json.c).
 */
#ifndef CAT_PRIV_H
#define CAT_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define CAT_PATH_LEN 160 /* JSON paths in messages: "items[511].descriptions.fa" */
#define CAT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- dates (cat_tz.c) */

int64_t cat_floordiv(int64_t a, int64_t b);
bool cat_is_leap(int64_t y);
int cat_days_in_month(int64_t y, int m);
/* Days since 1970-01-01 of a valid proleptic Gregorian date, and back. */
int64_t cat_days_from_civil(int64_t y, int m, int d);
void cat_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* YYYYMMDD <-> days since the epoch. cat_date_valid checks years 1..9999 and the day in month. */
bool cat_date_valid(int32_t ymd);
int64_t cat_date_to_days(int32_t ymd);
int32_t cat_days_to_date(int64_t days); /* 0 when outside years 1..9999 */

/* "YYYY-MM-DD" exactly -> YYYYMMDD. Returns 0 or -EINVAL. */
int cat_parse_date(const char *s, int32_t *ymd);
/* "HH:MM" or "HH:MM:SS" exactly (00:00..23:59:59) -> seconds after midnight. With end_of_minute,
 * "HH:MM" means its last second (HH:MM:59): an inclusive end. Returns 0 or -EINVAL. */
int cat_parse_hms(const char *s, bool end_of_minute, int32_t *sec);
/* "YYYY-MM-DDTHH:MM[:SS]" (a space instead of "T" is accepted). Returns 0 or -EINVAL. */
int cat_parse_local_datetime(const char *s, bool end_of_minute, int32_t *ymd, int32_t *sec);

/* cat_tz_local_to_utc for a wall-clock time given as days since the epoch * 86400 + seconds of
 * the day; the seconds may run past 86400 (an end at 24:00:00 is the next day's 00:00:00). */
int cat_tz_local_secs_to_utc(const struct cat_tz *tz, int64_t local, enum cat_tz_pick pick,
                             int64_t *out, enum cat_tz_fold *fold);

/* Reads a whole regular file of at most max bytes into a NUL-terminated heap buffer (*buf, freed
 * by the caller). Returns 0, -ENOENT, -EFBIG, -EINVAL (not a regular file), -ENOMEM or -errno. */
int cat_read_file(const char *path, size_t max, char **buf, size_t *len);

/* ---------------------------------------------------------------- JSON errors (cat_json.c) */

struct cat_jctx {
    const char *file; /* prefix for messages, or NULL */
    char *err;
    size_t errlen;
};

/* Writes "<file>: <path>: <reason>" into c->err and returns -EINVAL. */
int cat_jfail(struct cat_jctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses text with duplicate keys rejected; a syntax error becomes "<file>:line:col: text" (or
 * "line L, column C: text" without a file). Returns the root (caller decrefs) or NULL. */
json_t *cat_jparse(struct cat_jctx *c, const char *text, size_t len);
bool cat_jcomment(const char *key);
/* Every key of obj (comments aside) must be in allowed (NULL-terminated). Returns 0 or -EINVAL
 * naming "<path>.<key>: unknown key". */
int cat_jkeys(struct cat_jctx *c, json_t *obj, const char *path, const char *const *allowed);
/* Joins "path.key" / "path[i]" into out (bounded). Returns out. */
const char *cat_jpath_key(char *out, size_t len, const char *path, const char *key);
const char *cat_jpath_idx(char *out, size_t len, const char *path, size_t i);
/* A string member: required or not (absent -> *out NULL, 0). Must be a JSON string of 1..maxlen
 * bytes (maxlen 0: no limit) without control characters. Returns 0 or -EINVAL. */
int cat_jstring(struct cat_jctx *c, json_t *obj, const char *path, const char *key, bool required,
                size_t maxlen, const char **out);
/* Identifiers (item ids, versions, tiers, pools, causes, window names): non-empty, letters,
 * digits, "_", "-" and "." only - they end up in Redis keys and log lines. */
bool cat_name_ok(const char *s);
/* Copies s into dst of dstlen (the caller checked the length). */
void cat_copy(char *dst, size_t dstlen, const char *s);

/* ---------------------------------------------------------------- the draw */
/* "opening": {"mode": "draw", ...} at path p of item it (its stock_per_day already parsed):
 * fills it->draw. Returns 0 or -EINVAL. (cat_draw.c) */
int cat_draw_parse(struct cat_jctx *c, json_t *obj, const char *p, const struct cat_load_opts *opts,
                   struct cat_item *it);

/* cat_redeem.c -> cat_draw_run.c: what the draw's Redis side borrows from the module. */
struct cat_redeem_view {
    struct event_base *base;
    struct gw_redis *redis;
    struct cat_store *store;
    const struct cat_calendar *cal;
    int s_draw; /* lua/draw.lua */
};
void cat_redeem_view(struct cat_redeem *r, struct cat_redeem_view *out);
/* A winner's claim: the redemption chain for gift day `day` without the calendar (the claim
 * deadline rules, checked by draw.lua), no stock taken (the unit was taken at the draw), one
 * unit per member. Same contract as cat_redeem_confirm. */
int cat_redeem_claim(struct cat_redeem *r, const struct cat_redeem_request *req, int32_t day,
                     cat_redeem_cb cb, void *arg);
/* cat_redeem_confirm for an item opened by draw: register, claim or say where the member stands.
 * (cat_draw_run.c) */
int cat_draw_confirm(struct cat_redeem *r, const struct cat_item *it,
                     const struct cat_redeem_request *req, cat_redeem_cb cb, void *arg);

#endif
