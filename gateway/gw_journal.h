/*
 * gw_journal.h - the event journal: every event the ledger committed with an effect, one text
 * line each, appended to a day-partitioned file on the gateway's disk (issue 12 section 2,
 * "what-if before publishing": `loyaltyctl whatif` replays it under a draft loyalty table).
 * Nothing per event is kept in Redis for this (the ledger's memory budget); the journal lives on
 * disk, outside the hot path's critical section: a write(2) to the page cache, never an fsync.
 *
 * File: <journal.dir>/<YYYYMMDD>-<gateway name>.lj, the day being the local day (loyalty
 * timezone) of the commit. One line per event (docs/operations.md, "The event journal"):
 *
 *   <commit ms> <K> <msisdn> <at> <amount milli> <channel|-> <ref> <orig|-> <o> <points>\n
 *
 * K: T B U R (TOPUP BILL USAGE REVERSAL); o: c credited, r reversed (points taken back),
 * v voided (an original after its reversal: no credit), n a reversal with no effect.
 * Lines are short (< GW_JOURNAL_LINE_MAX) and written whole by one write(2) on an O_APPEND file,
 * so a reader never sees two events interleaved; a crash may leave a torn last line, which the
 * parser refuses and the replay skips (counted).
 *
 * Format version 2 (GW_JOURNAL_VERSION) adds, for the catalogue's what-if, one line per granted
 * redemption (gw_journal_rd.c):
 *
 *   <commit ms> D <msisdn> <item> <price> <balance after the debit>\n
 *
 * one line per enrolment (the commit that created the wallet; the campaigns' what-if needs when a
 * member joined: welcome and tenure rules):
 *
 *   <commit ms> J <msisdn> <since, unix s>\n
 *
 * and a header line "#lj 2" at the top of every file the writer creates. A file without a header
 * is version 1 (events only, written before the change): the reader takes both; lines of a
 * version it does not know are skipped and counted like torn lines.
 *
 * Format version 3 adds one line per referral accepted (referral.lua's "ok" the first time; the
 * same referral again writes nothing), for the campaigns' what-if of the referral rule:
 *
 *   <commit ms> F <referrer> <referee> <the referral's local day YYYYMMDD>\n
 *
 * (~52 bytes). Files the writer creates start with "#lj 3"; the reader takes versions 1 to 3.
 *
 * The parser is the only reader of these files and treats them as untrusted (a disk, a copy, a
 * hand edit): every field is checked, never a crash (tests/fuzz/fuzz_journal.c).
 */
#ifndef GW_JOURNAL_H
#define GW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gw_event.h"

#define GW_JOURNAL_LINE_MAX 256
#define GW_JOURNAL_VERSION 3   /* written in the header line of every new file */
#define GW_JOURNAL_ITEM_MAX 31 /* a catalogue item id (CAT_ID_MAX - 1) */

enum gw_journal_outcome {
    GW_JOURNAL_CREDITED = 'c',
    GW_JOURNAL_REVERSED = 'r',
    GW_JOURNAL_VOIDED = 'v',
    GW_JOURNAL_NOOP = 'n',
};

struct gw_journal_rec {
    int64_t commit_ms;             /* when the ledger answered (the gateway's clock) */
    enum gw_event_kind kind;
    char msisdn[GW_MSISDN_MAX + 1];
    int64_t at;                    /* event time, unix s */
    int64_t amount_milli;          /* 0 for REVERSAL */
    char channel[16];              /* "" when none */
    char ref[GW_REF_MAX + 1];
    char orig[GW_REF_MAX + 1];     /* REVERSAL only, else "" */
    enum gw_journal_outcome outcome;
    int64_t points;                /* credited, or taken back (>= 0) */
};

/* Writes r as one line (with its '\n') into buf. Returns the length, or -EINVAL when a field
 * would not parse back (spaces in a ref, ...) or -ENOSPC when len is too small. */
int gw_journal_format(const struct gw_journal_rec *r, char *buf, size_t len);

/* Parses one line (untrusted, any bytes, with or without its '\n'; not NUL-terminated).
 * Returns 0 and fills out, or -EINVAL (out's content then unspecified). */
int gw_journal_parse(const char *line, size_t len, struct gw_journal_rec *out);

/* Fills the event fields of ev from r (what gw_loyalty_earn reads); currency is set to cur. */
void gw_journal_rec_event(const struct gw_journal_rec *r, const char *cur, struct gw_event *ev);

/* A granted redemption (format version 2). */
struct gw_journal_redeem {
    int64_t commit_ms;                   /* when the debit was answered (the gateway's clock) */
    char msisdn[GW_MSISDN_MAX + 1];      /* who paid (the redeemer, also for a gift) */
    char item[GW_JOURNAL_ITEM_MAX + 1];  /* [A-Za-z0-9_.-] */
    int64_t price;                       /* points debited, >= 1 */
    int64_t balance;                     /* the balance after the debit, >= 0 */
};

/* Writes r as one line (with its '\n'): length, -EINVAL (a field would not parse back) or
 * -ENOSPC. */
int gw_journal_redeem_format(const struct gw_journal_redeem *r, char *buf, size_t len);
/* Parses one redemption line (untrusted, as gw_journal_parse). 0 or -EINVAL. */
int gw_journal_redeem_parse(const char *line, size_t len, struct gw_journal_redeem *out);
/* An enrolment (format version 2): since is the wallet's "since" (commit.lua: the commit's now). */
struct gw_journal_enrol {
    int64_t commit_ms;
    char msisdn[GW_MSISDN_MAX + 1];
    int64_t since;
};
int gw_journal_enrol_format(const struct gw_journal_enrol *r, char *buf, size_t len);
int gw_journal_enrol_parse(const char *line, size_t len, struct gw_journal_enrol *out);
struct gw_journal;
/* Appends an enrolment, as gw_journal_append (best effort, counted). */
int gw_journal_append_enrol(struct gw_journal *j, const struct gw_journal_enrol *r);

/* A referral accepted (format version 3): referrer referred referee on local day `day`. */
struct gw_journal_refer {
    int64_t commit_ms;                    /* when referral.lua answered "ok" */
    char referrer[GW_MSISDN_MAX + 1];
    char referee[GW_MSISDN_MAX + 1];      /* never the referrer */
    int32_t day;                          /* YYYYMMDD, the day referral.lua was given */
};
int gw_journal_refer_format(const struct gw_journal_refer *r, char *buf, size_t len);
int gw_journal_refer_parse(const char *line, size_t len, struct gw_journal_refer *out);
/* Appends a referral, as gw_journal_append (best effort, counted). */
int gw_journal_append_refer(struct gw_journal *j, const struct gw_journal_refer *r);

/* A header line ("#lj <version>", untrusted): the version (>= 1), or -EINVAL. */
int gw_journal_header_parse(const char *line, size_t len);

/* ---------------------------------------------------------------- the writer (loyaltygw) */

struct gw_journal;

/* Opens the writer: dir is created if missing (one level, mode 0750); a file it creates starts
 * with the header line "#lj 3" (GW_JOURNAL_VERSION); name (the gateway's
 * smpp.name, [A-Za-z0-9_-] kept, others become '_') goes in the file names; files of days older
 * than keep_days are removed at each day change and at open. NULL with errno on failure. */
struct gw_journal *gw_journal_open(const char *dir, const char *name, unsigned keep_days);

/* Appends r to the file of the local day of r->commit_ms (switching files at a day change:
 * the old one is fdatasync'ed and closed). Best effort: returns 0, or a negative errno after
 * which the event stays committed (the ledger is the truth) and the failure is counted. */
int gw_journal_append(struct gw_journal *j, const struct gw_journal_rec *r);

/* Appends a granted redemption, as gw_journal_append (best effort, counted). */
int gw_journal_append_redeem(struct gw_journal *j, const struct gw_journal_redeem *r);

/* Batches the lines on base's loop: an append copies its line and returns 0; the lines queued
 * in one loop pass go out in one write(2) at the end of that pass (an event made active), before
 * the next poll, hence before the answers queued in the same pass leave; also when 64 KiB are
 * queued, at a day change and at close. A write that fails then loses its batch's lines, counted
 * in gw_journal_counts' failed (events' lines also in gw_journal_events_lost). Without it (tools,
 * tests) each append is its own write(2). 0, -EINVAL (already set) or -ENOMEM. */
struct event_base;
int gw_journal_set_loop(struct gw_journal *j, struct event_base *base);

/* Lines written and lines that failed since open. */
void gw_journal_counts(const struct gw_journal *j, uint64_t *written, uint64_t *failed);

/* Events' lines (gw_journal_append) lost in a batched write that failed. */
uint64_t gw_journal_events_lost(const struct gw_journal *j);

/* Writes the batch, fdatasync's and closes. NULL is a no-op. */
void gw_journal_close(struct gw_journal *j);

/* Removes dir's journal files ("YYYYMMDD-*.lj") of days before today - keep_days + 1, today
 * being local day `today` (YYYYMMDD). Returns the number removed, or a negative errno. */
int gw_journal_prune(const char *dir, int32_t today, unsigned keep_days);

#endif
