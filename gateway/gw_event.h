/*
 * gw_event.h - carrier events (../shared/spec/events.md): the text of one deliver_sm,
 * "KIND key=value ...", parsed and validated into a struct gw_event. Pure logic, no I/O.
 *
 * The layout is data-driven: kind names and key names come from a struct gw_event_format (the
 * spec's names by default), so a carrier with another vocabulary is served by configuration.
 */
#ifndef GW_EVENT_H
#define GW_EVENT_H

#include <stddef.h>
#include <stdint.h>

enum gw_event_kind { GW_EV_TOPUP = 0, GW_EV_BILL, GW_EV_USAGE, GW_EV_REVERSAL, GW_EV__COUNT };

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
 * offending key ("amount: more than 3 fraction digits") into err (always NUL-terminated).
 */
int gw_event_parse(const struct gw_event_format *fmt, const struct gw_event_limits *lim,
                   const void *text, size_t len, int64_t now, struct gw_event *ev, char *err,
                   size_t errlen);

/* "TOPUP" etc. per the default format; "?" out of range. */
const char *gw_event_kind_name(enum gw_event_kind kind);

/* Parses an RFC 3339 time ("2026-11-25T10:15:00Z", "...+01:00", optional fraction) into unix
 * seconds. Returns 0 or -EINVAL. */
int gw_parse_rfc3339(const char *s, size_t len, int64_t *out);

#endif
