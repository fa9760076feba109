/*
 * gw_suggest.h - the suggestion box (issue 10 section 2): members' ideas by SMS and their 1-5
 * ratings over USSD, kept for staff (the console's inbox, admin/adm_suggest.c).
 *
 * In:
 *   - SMS: an MO text to sms.short_code starting with one of sms.suggest_keywords (IDEE, IDEA,
 *     رأي, نظر; matched like the STOP/START keywords: gw_sms_keyword_prefix) followed by the idea.
 *     gw_sms hands the text after the keyword to gw_suggest_on_mo (gw_sms_set_suggest_hook).
 *   - USSD: a "rating" node of the menu file (the "Suggestions" option, and the screen after a
 *     redemption) answered 1..5: gw_ussd calls gw_suggest_rate (gw_ussd_set_rate_hook).
 *
 * Store (docs/data-model.md "Suggestions"): everything lives in the one hash slot {sg} - a
 * non-subscriber key on purpose: ideas come at human speed (a few per minute at most), and one
 * slot lets one script append, count per week and trim, and the console read them newest first
 * with one XREVRANGE:
 *   sg:{sg}:in     stream, one entry per idea or rating: at (ms), m (MSISDN digits), lang, src
 *                  (sms | ussd), node (the USSD rating node), r (1..5), item (redeemed item id),
 *                  t (the cleaned text). Trimmed on every append to suggestions.retention_days
 *                  (XADD MINID) and to suggestions.max_entries (XTRIM MAXLEN ~).
 *   sg:{sg}:wk     hash of weekly counters, "<monday YYYYMMDD>:n|rn|rs" (entries, ratings, the
 *                  ratings' sum); weeks older than the retention are deleted by the same script.
 *   sg:{sg}:meta   hash written by the console only: entry id -> {"tag","handled","by","at"};
 *                  fields of entries past the retention are deleted by the append script.
 * Per member, two fields of the wallet hash lg:{M}:w (on the member's slot, one small script):
 *   sgt   the local day of the thank-you SMS (set once: the thank-you goes once per member)
 *   sgn   "<day>:<count>": ideas and ratings today, capped at suggestions.per_day (a flood from
 *         one number is dropped, counted in the stats).
 *
 * Untrusted text: decoded by smpp_text_decode (GSM-7, Latin-1, UCS-2), then gw_suggest_clean:
 * valid UTF-8 only, control and bidi-override characters become spaces, runs of spaces collapse,
 * at most suggestions.text_max bytes cut on a character boundary. The console escapes it for
 * JSON (jansson) and CSV (adm_csv_text: quotes, formula prefix).
 *
 * Ownership: gw_suggest_new borrows cfg, redis, sms and the owner's menus pointer. Teardown:
 * gw_suggest_detach() before gw_redis_free(); gw_suggest_free() after the SMS sender is gone.
 */
#ifndef GW_SUGGEST_H
#define GW_SUGGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_config.h"
#include "ussd.h"

struct gw_redis;
struct gw_sms;
struct gw_suggest;

#define GW_SUGGEST_KEY_STREAM "sg:{sg}:in"
#define GW_SUGGEST_KEY_WEEKS "sg:{sg}:wk"
#define GW_SUGGEST_KEY_META "sg:{sg}:meta"

#define GW_SUGGEST_COUNTERS(X)                                                                     \
    X(ideas, "ideas by SMS stored")                                                                \
    X(ratings, "USSD ratings stored")                                                              \
    X(thanked, "thank-you SMS sent (once per member)")                                             \
    X(capped, "ideas or ratings dropped: the member's daily cap (suggestions.per_day)")            \
    X(empty, "SMS with the keyword but no text")                                                   \
    X(failed, "ideas or ratings not stored: Redis failed")

struct gw_suggest_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_SUGGEST_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
};

/* ---------------------------------------------------------------- pure parts */

/*
 * Cleans untrusted UTF-8 in[0..len) into out[0..cap) (NUL-terminated): invalid sequences and
 * overlong forms are dropped, C0/C1 controls, DEL, the bidi embeddings/overrides/isolates
 * (U+202A..U+202E, U+2066..U+2069) and U+FEFF become a space, runs of spaces collapse to one,
 * spaces at both ends are removed, and the result is cut to at most max bytes (and cap - 1) on a
 * character boundary. Returns the length written.
 */
size_t gw_suggest_clean(const char *in, size_t len, char *out, size_t cap, size_t max);

/*
 * The language of a text when the member saved none (docs: a guess, shown as such): "fa" when it
 * holds a Persian letter (پ چ ژ گ ک ی), "ar" for other Arabic letters, "fr" when it holds a
 * French accented letter or a common French word, else "en". Returns a static string.
 */
const char *gw_suggest_guess_lang(const char *text, size_t len);

/* The week of a local day YYYYMMDD: the Monday that starts it, YYYYMMDD; 0 for a bad day. */
int32_t gw_suggest_week(int32_t day);

/* ---------------------------------------------------------------- the service */

/* cfg, redis (may be NULL: nothing stored), sms (may be NULL: no thank-you) and *menus are
 * borrowed. NULL on ENOMEM or when redis script registration fails. */
struct gw_suggest *gw_suggest_new(const struct gw_config *cfg, struct gw_redis *redis,
                                  struct gw_sms *sms, struct ussd_menus *const *menus);

/* gw_sms's suggestion hook: from (the sender as the SMSC wrote it, validated), body[0..len) the
 * decoded UTF-8 text after the keyword. Stores it and, the first time, thanks the member. */
void gw_suggest_on_mo(void *arg, const char *from, const char *body, size_t len);

/* gw_ussd's rating hook: msisdn digits, the dialogue's language, rating 1..5, the rating node's
 * id, the redeemed item (0 = none: the rating is not about a redemption). */
void gw_suggest_rate(void *arg, const char *msisdn, const char *lang, unsigned rating,
                     const char *node, uint32_t item);

void gw_suggest_detach(struct gw_suggest *g);
void gw_suggest_get_stats(const struct gw_suggest *g, struct gw_suggest_stats *out);
void gw_suggest_stats_json(const struct gw_suggest_stats *st, FILE *out);
void gw_suggest_free(struct gw_suggest *g);

#endif
