/*
 * adm_suggest.h - the suggestion box's inbox in the staff console (issue 10 section 2): the pure
 * parts of admin/adm_suggest.c, apart so that the unit test and the fuzz target drive them
 * without a socket or Redis. The store is described in gateway/gw_suggest.h.
 *
 * API (adm_suggest.c; roles: every reader; marks: marketing and care; audited):
 *   GET  /api/suggestions?count=&before=&rating=&lang=&tag=&handled=&format=csv
 *        newest first; the MSISDN (and any number in the text) masked for roles without
 *        subscriber data (ADM_ROLES_SUBSCRIBER_DATA: care, auditor)
 *   GET  /api/suggestions/weeks   {"weeks": [{"week": "YYYY-MM-DD", "count", "ratings",
 *                                  "average"}]}, oldest first (the chart)
 *   POST /api/suggestions/{id}/mark  {"tag": "wifi" | "", "handled": true|false}  (audited as
 *        suggestion.mark, before and after)
 */
#ifndef ADM_SUGGEST_H
#define ADM_SUGGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADM_SG_TAG_MAX 24 /* bytes of a tag: [a-z0-9_-], 1..24 */

/* The list's filters, from the query string; each optional. */
struct adm_sg_filter {
    int rating;   /* 1..5, 0 = any */
    char lang[4]; /* "ar", "" = any */
    char tag[ADM_SG_TAG_MAX + 1]; /* "" = any */
    int handled;  /* -1 any, 0 open, 1 handled */
};

/* A tag: 1..ADM_SG_TAG_MAX of [a-z0-9_-]. */
bool adm_sg_tag_valid(const char *s);

/* Parses the filters (each may be NULL = absent). Returns 0, or -EINVAL with *field naming the
 * bad parameter. */
int adm_sg_filter_parse(const char *rating, const char *lang, const char *tag,
                        const char *handled, struct adm_sg_filter *out, const char **field);

/* Whether an entry passes f: its rating (0 = none), language, tag ("" = none), handled. */
bool adm_sg_filter_match(const struct adm_sg_filter *f, int rating, const char *lang,
                         const char *tag, bool handled);

/* A mark's body: {"tag": string, "handled": bool}, at least one of them, no other key ("//"
 * comments allowed). tag "" removes it. *has_tag / *has_handled say which were given. Returns 0,
 * or -EINVAL with *field and msg. */
int adm_sg_mark_parse(const json_t *body, bool *has_tag, char *tag, size_t taglen,
                      bool *has_handled, bool *handled, const char **field, const char **msg);

/* One week of the counters (sg:{sg}:wk). */
struct adm_sg_week {
    int32_t week; /* the Monday, YYYYMMDD */
    int64_t count, ratings, rating_sum;
};

/*
 * Adds one field of sg:{sg}:wk ("<YYYYMMDD>:n|rn|rs" = value) to weeks[0..*n) (cap entries),
 * kept sorted by week. Unknown or malformed fields are ignored (untrusted store). Returns 0,
 * -ENOSPC when a new week does not fit, -EINVAL for a malformed field.
 */
int adm_sg_week_add(struct adm_sg_week *weeks, size_t *n, size_t cap, const char *field,
                    const char *value);

#endif
