/*
 * gw_hist.h - the history of a subscriber as the wallet's packed field E (docs/data-model.md,
 * section 2): 16-byte records, oldest first, written by lua/commit.lua and, for the other
 * movements (kinds 5-12), core/lua/wallet_hist.lua with
 * struct.pack('>c6I2BBi4I2'): 6 bytes of SHA-1(ref), the local day as days since 1970-01-01
 * (u16), the kind (GW_HIST_*), the state ('c' credited, 'r' credited then reversed, 'v' recorded
 * without credit because a REVERSAL came first, 'h' held by a velocity cap (not credited), 'x' a
 * reversal or another movement, 'p' a ref a REVERSAL named before it arrived: kind 0, 0 points,
 * not a movement, skipped by the merge), the
 * signed points (i32), the rule id in the dictionary hash lg:rules (0 = none). The records of
 * the ref retention window are also the subscriber's remembered refs, so E may hold more than
 * the history screens show.
 *
 * Readers (the USSD history screen, the console, loyaltyctl) decode E here and merge it with the
 * history list lg:{M}:h of the release before (no longer written), newest first, as raw lines
 * "at|KIND|ref|points|balance|note": the format of the list, so one formatter serves both. A
 * record's line has the day's noon (UTC) as its time, "#" and the digest's 12 hex digits as its
 * ref, an empty balance (E does not hold it) and as its note the rule's text, then the record's
 * text in the wallet's note field N (the other movements' free or per-member texts: a staff
 * reason, a gift's relative, a campaign, a transfer's peer; core/lua/wallet_hist.lua).
 *
 * Everything read from Redis is untrusted: a field whose length is not a multiple of 16 is
 * ignored, unknown kinds read "OTHER", texts are sanitised. Pure, no allocation.
 */
#ifndef GW_HIST_H
#define GW_HIST_H

/* The note of a record held by a velocity cap (state h): the USSD history line marks it. */
#define GW_HIST_NOTE_HELD "held: over a velocity cap, not credited"

#include <stddef.h>
#include <stdint.h>

#define GW_HIST_REC 16           /* bytes of one record of E */
#define GW_HIST_RULES "lg:rules" /* the rule dictionary: field <id> = text, t:<text> = id, seq */

enum gw_hist_kind {
    GW_HIST_OTHER = 0,
    GW_HIST_TOPUP = 1,
    GW_HIST_BILL = 2,
    GW_HIST_USAGE = 3,
    GW_HIST_REVERSAL = 4,
    GW_HIST_REDEEM = 5,
    GW_HIST_REFUND = 6,
    GW_HIST_ADJUST = 7,
    GW_HIST_EXPIRE = 8,
    GW_HIST_BONUS = 9,
    GW_HIST_XFER = 10,
    GW_HIST_BLOCK = 11,
    GW_HIST_UNBLOCK = 12,
};

struct gw_hist_rec {
    uint8_t dig[6];
    int32_t day; /* YYYYMMDD */
    uint8_t kind;
    char st;
    int32_t points;
    uint16_t rule;
};

/* Records in a field of len bytes (0 when len is not a multiple of GW_HIST_REC). */
size_t gw_hist_count(size_t len);

/* The i-th record counting from the NEWEST (i = 0 is the last one written). 0, or -EINVAL
 * (out of range, bad length). */
int gw_hist_get(const void *e, size_t len, size_t i, struct gw_hist_rec *out);

/* "TOPUP" ... "EXPIRE", "OTHER" for an unknown kind. */
const char *gw_hist_kind_name(uint8_t kind);

/* The raw line of one record (see above), note = rule text (NULL/"" for none), then more (the
 * record's text of the note field N, NULL for none), then what the state says ("reversed before
 * it arrived, no credit"; a reversal of 0 points: "no effect"). 0, -ENOSPC. */
int gw_hist_line(const struct gw_hist_rec *r, const char *rule, const char *more, char *out,
                 size_t cap);

/* The text of record r in the wallet's note field N (n, nlen; NULL: none): entries of the
 * record's 6-byte digest, its kind (1 byte), the text's length (1..255) and the text, written by
 * core/lua/wallet_hist.lua for the movements whose text is free or per member (a staff reason, a
 * peer). Copied into out (cap bytes, NUL-terminated, control characters replaced); returns its
 * length, -ENOENT when r has none, -EINVAL when N is malformed before r's entry. */
int gw_hist_note(const void *n, size_t nlen, const struct gw_hist_rec *r, char *out, size_t cap);

/* The rule text of id (0 for none) as the caller fetched it; NULL when unknown. */
typedef const char *(*gw_hist_rule_fn)(void *arg, uint16_t id);

/* Newest first, at most max lines of cap bytes each into out (out + k * cap): the records of E
 * (their notes from N, NULL for none) merged by time with the legacy lines (newest first, "at|...";
 * untrusted: a line without a leading time is skipped). A record has only its day: on the same
 * (UTC) day as a line, the line goes first. Returns the lines written. */
size_t gw_hist_merge(const void *e, size_t elen, const void *n, size_t nlen,
                     const char *const *legacy, const size_t *legacy_len, size_t nlegacy,
                     gw_hist_rule_fn rule, void *rarg, char *out, size_t cap, size_t max);

/* The distinct rule ids (not 0) of the newest max records of E, into ids (room for max);
 * returns how many. For the reader's HMGET lg:rules. */
size_t gw_hist_rule_ids(const void *e, size_t elen, size_t max, uint16_t *ids);

#endif
