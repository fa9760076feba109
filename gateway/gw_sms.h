/*
 * gw_sms.h - the SMS side of the gateway (shared/spec/ussd.md "SMS"): sending a UTF-8 text to a
 * subscriber as plain submit_sm (no USSD TLVs), split with UDH concatenation when longer than one
 * segment (esm_class 0x40, 153 GSM-7 / 67 UCS-2 characters a part, never splitting an escape or
 * surrogate pair), through smpp_esme_submit, which applies the TPS bucket and the throttling
 * back-off. Any module may send through it (fulfilment confirmations, reminders).
 * Owner: the USSD-wiring engineer (issue 3).
 *
 * Mobile-originated keywords: an MO SMS to sms.short_code whose text, trimmed and compared
 * case-insensitively for Latin letters, is one of sms.keywords (BAL, SOLDE, رصيد, امتیاز) is
 * answered with the balance SMS ("sms.<lang>.balance" of the menu file) in the subscriber's saved
 * language (the default language of the menu file otherwise).
 *
 * Consent (issue 10 section 3): an MO text matching sms.stop_keywords (STOP, ARRET, توقف, لغو)
 * removes the sender from the marketing audience (bc:{bc}:optin, which the broadcast checks
 * before every send); sms.start_keywords (START, ...) adds them back. Either is recorded in
 * lg:{<msisdn>}:consent (optin 0|1, at ms, channel sms|console|ctl, by) and confirmed by the
 * "sms.<lang>.opted_out" / "opted_in" text (built-in English when the menu file has none).
 * Keywords match trimmed, Latin letters case- and accent-blind (ARRÊT = arret = ARRET), Arabic
 * harakat, tatweel and ZWNJ ignored; the MO text may come in GSM-7, Latin-1 or UCS-2.
 *
 * Ideas (issue 10 section 2): an MO text whose first word is one of sms.suggest_keywords (IDEE,
 * IDEA, رأي, نظر; folded as above) goes, without the keyword, to the suggestion box's hook.
 *
 * Ownership: gw_sms_new() borrows esme, cfg, redis and the owner's menus pointer; each send owns
 * a small context freed when its last part is answered. Teardown: gw_sms_detach() before
 * gw_redis_free(), smpp_esme_free() (fails pending parts) before gw_sms_free().
 */
#ifndef GW_SMS_H
#define GW_SMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_config.h"
#include "smpp.h"
#include "ussd.h"

struct gw_redis;
struct gw_sms;

#define GW_SMS_MAX_PARTS 8 /* a longer text is refused: nobody reads a 9-part SMS */

#define GW_SMS_COUNTERS(X)                                                                         \
    X(sent, "SMS accepted by the SMSC (all parts)")                                                \
    X(failed, "SMS with a part refused, timed out or not queued")                                  \
    X(parts, "submit_sm parts sent")                                                               \
    X(mo_in, "MO SMS handed over")                                                                 \
    X(mo_keyword, "MO SMS that asked for the balance")                                             \
    X(mo_stop, "MO SMS that opted out of marketing SMS (STOP keywords)")                           \
    X(mo_start, "MO SMS that opted back in (START keywords)")                                      \
    X(mo_alerts_off, "MO SMS that turned the points-expiry warnings off")                         \
    X(mo_alerts_on, "MO SMS that turned the points-expiry warnings back on")                      \
    X(mo_suggest, "MO SMS that sent an idea to the suggestion box (sms.suggest_keywords)")        \
    X(mo_ignored, "MO SMS that were no keyword or not for the short code")                         \
    X(mo_failed, "keyword requests answered nothing because Redis or the menu file failed")

struct gw_sms_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_SMS_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
};

/* err 0 when every part was accepted (SMPP_ROK), else the first failure: a negative errno of
 * smpp_submit_cb, or -EPROTO when the SMSC answered a part with an error status. */
typedef void (*gw_sms_cb)(void *arg, int err);

/* esme, cfg (sms, ussd.text, loyalty), redis and *menus are borrowed. NULL on ENOMEM. */
struct gw_sms *gw_sms_new(struct smpp_esme *esme, const struct gw_config *cfg,
                          struct gw_redis *redis, struct ussd_menus *const *menus);

/*
 * Sends utf8[0..len) (untrusted UTF-8 is fine: invalid bytes become U+FFFD) to the MSISDN `to`
 * (1..20 digits, optional '+') from sms.short_code. Returns 0 (cb, which may be NULL, fires
 * exactly once, later, when every part was answered) or < 0: -EINVAL (bad address or empty
 * text), -E2BIG (more than GW_SMS_MAX_PARTS parts), or the smpp_esme_submit error of the first
 * part (cb never fires).
 */
int gw_sms_send(struct gw_sms *s, const char *to, const char *utf8, size_t len, gw_sms_cb cb,
                void *arg);

/* The gw_ingest hook for a mobile-originated SMS (already answered ESME_ROK). arg: gw_sms. */
void gw_sms_on_mo(void *arg, struct smpp_esme *e, const struct smpp_sm *sm);

enum gw_sms_mo_kind {
    GW_SMS_MO_NONE,
    GW_SMS_MO_BALANCE,
    GW_SMS_MO_STOP,       /* marketing SMS off (sms.stop_keywords) */
    GW_SMS_MO_START,      /* marketing SMS on */
    GW_SMS_MO_ALERTS_OFF, /* points-expiry warnings off (sms.alerts_off_keywords) */
    GW_SMS_MO_ALERTS_ON,
    GW_SMS_MO_SUGGEST, /* an idea: a suggest keyword, then free text (gw_suggest.h) */
};

/*
 * Keyword folding (pure): text[0..len) trimmed of spaces/tabs/CR/LF, ASCII letters upper-cased,
 * Latin-1 accented letters (UTF-8 C3 xx) to their base letter, Arabic tatweel/harakat and
 * ZWNJ/ZWJ dropped, into out[0..cap) (not NUL-terminated). Returns the folded length, or cap + 1
 * when it does not fit.
 */
size_t gw_sms_keyword_fold(const char *text, size_t len, char *out, size_t cap);

/* Whether text[0..len) folds to the same bytes as one of list[0..n). */
int gw_sms_keyword_in(const char (*list)[GW_SMS_KEYWORD_MAX], unsigned n, const char *text,
                      size_t len);

/* Whether text[0..len) is one of the balance keywords (sms.keywords). */
int gw_sms_is_keyword(const struct gw_config *cfg, const char *text, size_t len);

/* Which keyword list text[0..len) belongs to: STOP first, then START, the alerts switches, the
 * balance; last an idea (the text's first word is one of sms.suggest_keywords). */
enum gw_sms_mo_kind gw_sms_mo_classify(const struct gw_config *cfg, const char *text, size_t len);

/*
 * Whether the first word of text[0..len) (after leading spaces; it ends at a space, tab, CR, LF
 * or ':') folds (gw_sms_keyword_fold) to one of list[0..n). On a match returns 1 and *rest = the
 * offset of what follows the word (separators skipped: the idea's text); else 0. Pure.
 */
int gw_sms_keyword_prefix(const char (*list)[GW_SMS_KEYWORD_MAX], unsigned n, const char *text,
                          size_t len, size_t *rest);

/* The suggestion box's hook (gw_suggest_on_mo): from is the sender as the SMSC wrote it (valid),
 * body[0..len) the decoded UTF-8 after the keyword (untrusted, may be empty). NULL: ideas are
 * ignored like any text that is no keyword. */
typedef void (*gw_sms_suggest_fn)(void *arg, const char *from, const char *body, size_t len);
void gw_sms_set_suggest_hook(struct gw_sms *s, gw_sms_suggest_fn fn, void *arg);

/* Stops issuing Redis requests (teardown: before gw_redis_free). */
void gw_sms_detach(struct gw_sms *s);
void gw_sms_get_stats(const struct gw_sms *s, struct gw_sms_stats *out);
void gw_sms_stats_json(const struct gw_sms_stats *st, FILE *out);
void gw_sms_free(struct gw_sms *s);

#endif
