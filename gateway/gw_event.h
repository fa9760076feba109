/*
 * gw_event.h - carrier events (../shared/spec/events.md): the text of one deliver_sm,
 * "KIND key=value ...", parsed and validated into a struct gw_event. Pure logic, no I/O.
 *
 * The layout is data-driven: kind names and key names come from a struct gw_event_format (the
 * spec's names by default), so a carrier with another vocabulary is served by configuration.
 */
#ifndef GW_EVENT_H
#define GW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GW_EV__COUNT counts the ledger's kinds (rates, kind_names, the commit script). GW_EV_SIMSWAP
 * is a carrier notice after them, our extension of the contract (docs/loyalty-and-events.md,
 * "SIMSWAP"): "SIMSWAP ref=... msisdn=... at=...", the SIM of msisdn was swapped; it earns
 * nothing, never reaches the ledger (gw_ledger_commit and gw_loyalty_earn refuse it) and freezes
 * the subscriber's outgoing points transfers (gw_transfer.h). Its name is fixed: a carrier's
 * kind_names cannot rename it nor take it. */
enum gw_event_kind {
    GW_EV_TOPUP = 0,
    GW_EV_BILL,
    GW_EV_USAGE,
    GW_EV_REVERSAL,
    GW_EV__COUNT,
    GW_EV_SIMSWAP = GW_EV__COUNT,
    GW_EV__ALL
};
#define GW_EV_SIMSWAP_NAME "SIMSWAP"

/* The keys an event may carry; which are required depends on the kind (see the spec's table). */
enum gw_event_field {
    GW_F_REF = 0,
    GW_F_MSISDN,
    GW_F_AMOUNT,
    GW_F_CURRENCY,
    GW_F_AT,
    GW_F_PERIOD,
    GW_F_ORIG,
    GW_F_CHANNEL,
    GW_F__COUNT
};

#define GW_REF_MAX 64
#define GW_MSISDN_MAX 15
#define GW_EVENT_TEXT_MAX 1024 /* longer event text is rejected */
#define GW_MAX_PREFIXES 8

struct gw_event {
    enum gw_event_kind kind;
    char ref[GW_REF_MAX + 1];
    char msisdn[GW_MSISDN_MAX + 1];
    int64_t amount_milli;  /* thousandths of a currency unit ("50.00" -> 50000); 0 for REVERSAL */
    char currency[4];      /* "" for REVERSAL */
    int64_t at;            /* event time, unix seconds (UTC) */
    char period[8];        /* "YYYY-MM" for BILL/USAGE, else "" */
    char orig[GW_REF_MAX + 1]; /* REVERSAL only */
    char channel[16];      /* TOPUP, optional: voucher|card|bank|wallet|transfer, else "" */
    unsigned n_unknown;    /* unknown keys seen (kept in the raw text, not fatal) */
};

struct gw_event_format {
    char kind_names[GW_EV__COUNT][16]; /* "TOPUP", "BILL", "USAGE", "REVERSAL" */
    char key_names[GW_F__COUNT][16];   /* "ref", "msisdn", ... */
};

struct gw_event_limits {
    char country_prefixes[GW_MAX_PREFIXES][8]; /* default {"212"} */
    unsigned n_prefixes;
    char currency[4];           /* default "MAD" */
    int64_t max_amount_milli;   /* default 100000.000 -> 100000000 */
    int64_t max_age_s;          /* default 30 days */
    int64_t max_future_s;       /* default 300 */
};

/* The spec's vocabulary and limits. */
void gw_event_format_default(struct gw_event_format *fmt);
void gw_event_limits_default(struct gw_event_limits *lim);

/*
 * Parses and validates one event text (untrusted, any bytes, not NUL-terminated) at time now
 * (unix seconds). Returns 0 and fills ev, or -EINVAL and writes a one-line reason that names the
 * offending key ("amount: more than 3 fraction digits") into err (always NUL-terminated; err may
 * be NULL with errlen 0). On error ev's content is unspecified. Runs of spaces separate tokens
 * and a trailing CR/LF is ignored; any other control byte (tab included), NUL or non-ASCII byte
 * rejects the text. Any key given twice is rejected, known or not.
 */
int gw_event_parse(const struct gw_event_format *fmt, const struct gw_event_limits *lim,
                   const void *text, size_t len, int64_t now, struct gw_event *ev, char *err,
                   size_t errlen);

/* "TOPUP" etc. per the default format, "SIMSWAP"; "?" out of range. */
const char *gw_event_kind_name(enum gw_event_kind kind);

/* Parses an RFC 3339 time ("2026-11-25T10:15:00Z", "...+01:00", optional fraction) into unix
 * seconds. Returns 0 or -EINVAL. */
int gw_parse_rfc3339(const char *s, size_t len, int64_t *out);

/* Additions for the config loader and tests (same rules the parser applies). */

/* Canonical kind from its spec name ("TOPUP" ...), or -EINVAL. Not the carrier's vocabulary. */
int gw_event_kind_from_name(const char *name);

/* true if name is a TOPUP channel of the spec: voucher, card, bank, wallet, transfer. */
bool gw_event_channel_known(const char *name);

/* Checks a format: every name 1..15 characters; kind names printable ASCII without '=' or space;
 * key names of [a-z0-9_]; no two kinds and no two keys share a name. Returns 0, or -EINVAL with
 * a reason naming the entry ("key_names.orig: same name as ref") in err. */
int gw_event_format_check(const struct gw_event_format *fmt, char *err, size_t errlen);

/* Parses a decimal amount ("50", "50.5", "0.005"; at most 3 fraction digits, no sign, no exponent)
 * into thousandths without floating point. Returns 0; -EINVAL (syntax, or zero) or -ERANGE (above
 * max_milli) with *reason static text ("more than 3 fraction digits"). */
int gw_parse_amount_milli(const char *s, size_t len, int64_t max_milli, int64_t *out,
                          const char **reason);

/* Writes thousandths as a decimal without trailing zeros (100000000 -> "100000", 5 -> "0.005")
 * into buf (always NUL-terminated). Returns buf. */
const char *gw_milli_to_text(int64_t milli, char *buf, size_t len);

#endif
