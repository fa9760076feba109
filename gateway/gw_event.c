/*
 * gw_event.c - the carrier event parser (../shared/spec/events.md): one line
 * "KIND key=value ...", untrusted bytes in, a validated struct gw_event out.
 *
 * Data-driven: every key is one row of GW_EVENT_FIELDS (spec name, the kinds that require it, the
 * kinds it belongs to, its validator); the carrier's own names come from struct gw_event_format.
 * Pure logic: no allocation, no I/O, no floating point; the caller owns every buffer.
 */
#include "gw_event.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define K(kind) (UINT32_C(1) << (kind))
#define K_MONEY (K(GW_EV_TOPUP) | K(GW_EV_BILL) | K(GW_EV_USAGE))
#define K_PERIOD (K(GW_EV_BILL) | K(GW_EV_USAGE))
#define K_REV K(GW_EV_REVERSAL)
#define K_SWAP K(GW_EV_SIMSWAP) /* our extension: ref, msisdn, at (gw_event.h) */
#define K_ALL (K_MONEY | K_REV | K_SWAP)

struct parse_ctx {
    const struct gw_event_limits *lim;
    int64_t now;
    struct gw_event *ev;
    const char *key; /* the carrier's name of the field being validated, for messages */
    char *err;
    size_t errlen;
};

/* A validator gets a non-empty value of printable ASCII without spaces (the scanner made sure). */
typedef int (*field_fn)(struct parse_ctx *c, const char *v, size_t n);

/*
 * One row per key (spec section "Body"). "required" kinds fail without the key; "belongs" kinds
 * validate it. A key outside its kinds (amount in a REVERSAL) is treated like an unknown key:
 * counted and kept in the raw text, neither validated nor fatal, as the spec says of unknown keys.
 *
 *   field          spec name   required by  belongs to      validator
 */
#define GW_EVENT_FIELDS(X)                                                                         \
    X(GW_F_REF, "ref", K_ALL, K_ALL, field_ref)                                                    \
    X(GW_F_MSISDN, "msisdn", K_ALL, K_ALL, field_msisdn)                                           \
    X(GW_F_AMOUNT, "amount", K_MONEY, K_MONEY, field_amount)                                       \
    X(GW_F_CURRENCY, "currency", K_MONEY, K_MONEY, field_currency)                                 \
    X(GW_F_AT, "at", K_ALL, K_ALL, field_at)                                                       \
    X(GW_F_PERIOD, "period", K_PERIOD, K_PERIOD, field_period)                                     \
    X(GW_F_ORIG, "orig", K_REV, K_REV, field_orig)                                                 \
    X(GW_F_CHANNEL, "channel", 0, K(GW_EV_TOPUP), field_channel)

#define DECLARE(id, name, req, bel, fn) static int fn(struct parse_ctx *c, const char *v, size_t n);
GW_EVENT_FIELDS(DECLARE)
#undef DECLARE

struct field_def {
    const char *name;
    uint32_t required;
    uint32_t belongs;
    field_fn fn;
};

static const struct field_def fields[GW_F__COUNT] = {
#define ROW(id, name, req, bel, fn) [id] = {name, req, bel, fn},
    GW_EVENT_FIELDS(ROW)
#undef ROW
};

#define COUNT_ROW(id, name, req, bel, fn) +1
_Static_assert(0 GW_EVENT_FIELDS(COUNT_ROW) == GW_F__COUNT, "one GW_EVENT_FIELDS row per field");
_Static_assert(GW_EV__ALL <= 32, "kinds are bits of a uint32_t");
#undef COUNT_ROW

static const char *const kind_names[GW_EV__COUNT] = {"TOPUP", "BILL", "USAGE", "REVERSAL"};
static const char *const channels[] = {"voucher", "card", "bank", "wallet", "transfer"};

/* Longest piece of untrusted text quoted in a reason: enough to recognise it, short enough for
 * one log line and the dead-letter record. */
#define QUOTE_MAX 24

/* ---------------------------------------------------------------- small helpers */

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->err && c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '_';
}

/* Value of n decimal digits at s, or -1 when any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool name_eq(const char *name, const char *s, size_t n)
{
    return strlen(name) == n && memcmp(name, s, n) == 0;
}

/* ---------------------------------------------------------------- calendar */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in the proleptic Gregorian years 1..y (negative for y < 0, so that a difference of
 * two calls counts the leap years between any two years, year 0 included). */
static int64_t leaps_through(int64_t y)
{
    return floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d (UTC, proleptic Gregorian). Our own arithmetic rather than timegm
 * or mktime: those depend on the process TZ or are non-standard, and the event time must not.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = (y - 1970) * 365 + leaps_through(y - 1) - leaps_through(1969);

    days += before[m - 1] + (m > 2 && is_leap(y)) + (d - 1);
    return days;
}

int gw_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    size_t p = 19;

    /* YYYY-MM-DDTHH:MM:SS then an optional fraction, then Z or +hh:mm (RFC 3339 section 5.6) */
    if (!s || len < 20 || len > 40)
        return -EINVAL;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -EINVAL;
    if (s[p] == '.') {
        size_t start = ++p;

        while (p < len && is_digit(s[p]))
            p++;
        /* nanoseconds are the finest anyone sends; a longer fraction is garbage, not precision */
        if (p == start || p - start > 9)
            return -EINVAL;
    }
    if (p >= len)
        return -EINVAL;
    if (s[p] == 'Z' || s[p] == 'z') {
        p++;
    } else if (s[p] == '+' || s[p] == '-') {
        sign = s[p] == '+' ? 1 : -1;
        if (len - p != 6 || s[p + 3] != ':')
            return -EINVAL;
        oh = digits(s + p + 1, 2);
        om = digits(s + p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -EINVAL;
        p += 6;
    } else {
        return -EINVAL;
    }
    if (p != len)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59)
        return -EINVAL;
    /* A leap second (:60) is allowed by RFC 3339; unix time has no slot for it, so it lands on
     * the next minute's :00, as POSIX mktime normalises it. */
    if (sec > 60)
        return -EINVAL;
    /* the fraction is dropped: earning rules work in whole seconds */
    *out =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    return 0;
}

/* ---------------------------------------------------------------- amounts */

int gw_parse_amount_milli(const char *s, size_t len, int64_t max_milli, int64_t *out,
                          const char **reason)
{
    size_t i = 0, int_digits, frac_digits = 0;
    int64_t units = 0, frac = 0;

    if (!s || len == 0) {
        *reason = "empty";
        return -EINVAL;
    }
    if (s[0] == '+' || s[0] == '-') {
        *reason = "sign not allowed";
        return -EINVAL;
    }
    if (memchr(s, 'e', len) || memchr(s, 'E', len)) {
        *reason = "exponent not allowed";
        return -EINVAL;
    }
    while (i < len && is_digit(s[i]))
        i++;
    int_digits = i;
    if (i < len && s[i] == '.') {
        size_t start = ++i;

        while (i < len && is_digit(s[i]))
            i++;
        frac_digits = i - start;
        if (frac_digits == 0) {
            *reason = "not a decimal number";
            return -EINVAL;
        }
    }
    if (int_digits == 0 || i != len) {
        *reason = "not a decimal number";
        return -EINVAL;
    }
    if (frac_digits > 3) {
        *reason = "more than 3 fraction digits";
        return -EINVAL;
    }
    /* Stop as soon as the whole units pass the maximum: this also keeps units * 10 from
     * overflowing however many digits the sender wrote. */
    for (i = 0; i < int_digits; i++) {
        units = units * 10 + (s[i] - '0');
        if (units > max_milli / 1000) {
            *reason = "above the maximum";
            return -ERANGE;
        }
    }
    for (i = 0; i < 3; i++)
        frac = frac * 10 + (i < frac_digits ? s[int_digits + 1 + i] - '0' : 0);
    if (units * 1000 > max_milli - frac) {
        *reason = "above the maximum";
        return -ERANGE;
    }
    if (units == 0 && frac == 0) {
        *reason = "must be greater than 0";
        return -EINVAL;
    }
    *out = units * 1000 + frac;
    return 0;
}

const char *gw_milli_to_text(int64_t milli, char *buf, size_t len)
{
    /* unsigned so that INT64_MIN has a magnitude */
    uint64_t mag = milli < 0 ? -(uint64_t)milli : (uint64_t)milli;
    uint64_t frac = mag % 1000;
    char fr[5];

    if (!buf || len == 0)
        return buf;
    if (frac == 0) {
        snprintf(buf, len, "%s%" PRIu64, milli < 0 ? "-" : "", mag / 1000);
        return buf;
    }
    snprintf(fr, sizeof(fr), ".%03u", (unsigned)frac);
    for (size_t n = strlen(fr); fr[n - 1] == '0'; n--)
        fr[n - 1] = '\0';
    snprintf(buf, len, "%s%" PRIu64 "%s", milli < 0 ? "-" : "", mag / 1000, fr);
    return buf;
}

/* ---------------------------------------------------------------- field validators */

/* ref and orig: the idempotency key, 1-64 of [A-Za-z0-9._:-] (spec "Field rules"). */
static int check_ref(struct parse_ctx *c, const char *v, size_t n, char *dst)
{
    if (n > GW_REF_MAX)
        return fail(c, "%s: %zu characters, more than %d", c->key, n, GW_REF_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '.' ||
              ch == '_' || ch == ':' || ch == '-'))
            return fail(c, "%s: character '%c' not allowed", c->key, ch);
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

static int field_ref(struct parse_ctx *c, const char *v, size_t n)
{
    return check_ref(c, v, n, c->ev->ref);
}

static int field_orig(struct parse_ctx *c, const char *v, size_t n)
{
    return check_ref(c, v, n, c->ev->orig);
}

static int field_msisdn(struct parse_ctx *c, const char *v, size_t n)
{
    const struct gw_event_limits *lim = c->lim;
    bool prefix_ok = lim->n_prefixes == 0;

    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]))
            return fail(c, "%s: digits only, no '+' or separators", c->key);
    }
    if (n < 8 || n > GW_MSISDN_MAX)
        return fail(c, "%s: %zu digits, expected 8 to %d", c->key, n, GW_MSISDN_MAX);
    for (unsigned i = 0; i < lim->n_prefixes && i < GW_MAX_PREFIXES; i++) {
        size_t pl = strnlen(lim->country_prefixes[i], sizeof(lim->country_prefixes[i]));

        if (pl > 0 && pl < n && memcmp(v, lim->country_prefixes[i], pl) == 0)
            prefix_ok = true;
    }
    if (!prefix_ok)
        return fail(c, "%s: does not start with a configured country prefix (%s...)", c->key,
                    lim->country_prefixes[0]);
    memcpy(c->ev->msisdn, v, n);
    c->ev->msisdn[n] = '\0';
    return 0;
}

static int field_amount(struct parse_ctx *c, const char *v, size_t n)
{
    const char *reason = "";
    char max[32];
    int rc = gw_parse_amount_milli(v, n, c->lim->max_amount_milli, &c->ev->amount_milli, &reason);

    if (rc == -ERANGE)
        return fail(c, "%s: above the maximum %s", c->key,
                    gw_milli_to_text(c->lim->max_amount_milli, max, sizeof(max)));
    if (rc < 0)
        return fail(c, "%s: %s", c->key, reason);
    return 0;
}

static int field_currency(struct parse_ctx *c, const char *v, size_t n)
{
    if (n != 3 || memcmp(v, c->lim->currency, 3) != 0 || c->lim->currency[3] != '\0')
        return fail(c, "%s: '%.*s' is not the configured %s", c->key, (int)(n > 8 ? 8 : n), v,
                    c->lim->currency);
    memcpy(c->ev->currency, v, 3);
    c->ev->currency[3] = '\0';
    return 0;
}

static int field_at(struct parse_ctx *c, const char *v, size_t n)
{
    int64_t at;

    if (gw_parse_rfc3339(v, n, &at) < 0)
        return fail(c, "%s: not an RFC 3339 time with Z or an offset", c->key);
    /* both bounds are relative to now: the spec's rule on stale and future-dated events */
    if (c->now - at > c->lim->max_age_s)
        return fail(c, "%s: %" PRId64 " s old, older than the maximum %" PRId64 " s", c->key,
                    c->now - at, c->lim->max_age_s);
    if (at - c->now > c->lim->max_future_s)
        return fail(c, "%s: %" PRId64 " s in the future, more than the allowed %" PRId64 " s",
                    c->key, at - c->now, c->lim->max_future_s);
    c->ev->at = at;
    return 0;
}

static int field_period(struct parse_ctx *c, const char *v, size_t n)
{
    int m = n == 7 ? digits(v + 5, 2) : -1;

    if (n != 7 || digits(v, 4) < 0 || v[4] != '-' || m < 1 || m > 12)
        return fail(c, "%s: expected YYYY-MM", c->key);
    memcpy(c->ev->period, v, 7);
    c->ev->period[7] = '\0';
    return 0;
}

static int field_channel(struct parse_ctx *c, const char *v, size_t n)
{
    for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
        if (name_eq(channels[i], v, n)) {
            memcpy(c->ev->channel, v, n);
            c->ev->channel[n] = '\0';
            return 0;
        }
    }
    return fail(c, "%s: unknown '%.*s' (voucher, card, bank, wallet, transfer)", c->key,
                (int)(n > QUOTE_MAX ? QUOTE_MAX : n), v);
}

/* ---------------------------------------------------------------- the parser */

void gw_event_format_default(struct gw_event_format *fmt)
{
    memset(fmt, 0, sizeof(*fmt));
    for (int k = 0; k < GW_EV__COUNT; k++)
        snprintf(fmt->kind_names[k], sizeof(fmt->kind_names[k]), "%s", kind_names[k]);
    for (int f = 0; f < GW_F__COUNT; f++)
        snprintf(fmt->key_names[f], sizeof(fmt->key_names[f]), "%s", fields[f].name);
}

void gw_event_limits_default(struct gw_event_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    snprintf(lim->country_prefixes[0], sizeof(lim->country_prefixes[0]), "212");
    lim->n_prefixes = 1;
    snprintf(lim->currency, sizeof(lim->currency), "MAD");
    lim->max_amount_milli = INT64_C(100000000);
    lim->max_age_s = 30 * 86400;
    lim->max_future_s = 300;
}

const char *gw_event_kind_name(enum gw_event_kind kind)
{
    if (kind == GW_EV_SIMSWAP)
        return GW_EV_SIMSWAP_NAME;
    return (unsigned)kind < GW_EV__COUNT ? kind_names[kind] : "?";
}

int gw_event_kind_from_name(const char *name)
{
    for (int k = 0; name && k < GW_EV__COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    }
    return -EINVAL;
}

bool gw_event_channel_known(const char *name)
{
    for (size_t i = 0; name && i < sizeof(channels) / sizeof(channels[0]); i++) {
        if (strcmp(name, channels[i]) == 0)
            return true;
    }
    return false;
}

/* Finds the field whose (carrier) name is key[0..n), or -1. */
static int field_lookup(const struct gw_event_format *fmt, const char *key, size_t n)
{
    for (int f = 0; f < GW_F__COUNT; f++) {
        if (name_eq(fmt->key_names[f], key, n))
            return f;
    }
    return -1;
}

/* The unknown keys seen so far, to refuse a second one of the same name. A 1024-byte text holds
 * at most 512 "k=" tokens, so a fixed array suffices. */
struct seen_key {
    uint16_t off, len;
};

int gw_event_parse(const struct gw_event_format *fmt, const struct gw_event_limits *lim,
                   const void *text, size_t len, int64_t now, struct gw_event *ev, char *err,
                   size_t errlen)
{
    struct parse_ctx c = {
        .lim = lim, .now = now, .ev = ev, .key = "", .err = err, .errlen = errlen};
    struct seen_key unknown[GW_EVENT_TEXT_MAX / 2];
    unsigned n_unknown = 0;
    const char *t = text;
    uint32_t seen = 0;
    size_t p = 0, tok, n;
    int kind = -1;

    if (err && errlen)
        err[0] = '\0';
    memset(ev, 0, sizeof(*ev));
    if (!text && len)
        return fail(&c, "event: no text");
    if (len > GW_EVENT_TEXT_MAX)
        return fail(&c, "event: %zu bytes, more than the maximum %d", len, GW_EVENT_TEXT_MAX);
    /* Some mediation layers end the line; the line end is framing, not content. */
    while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r'))
        len--;
    /* Strict on content before anything is interpreted: printable ASCII and spaces only. Tabs are
     * refused too: the spec's separator is the space, and a tab may hide an injected key. */
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)t[i];

        if (b == 0)
            return fail(&c, "event: NUL byte at offset %zu", i);
        if (b >= 0x80)
            return fail(&c, "event: non-ASCII byte 0x%02X at offset %zu", b, i);
        if (b < 0x20 || b == 0x7f)
            return fail(&c, "event: control character 0x%02X at offset %zu", b, i);
    }

    /* Liberal with separators: any run of spaces, leading and trailing ones included. */
    for (;;) {
        while (p < len && t[p] == ' ')
            p++;
        if (p == len)
            break;
        tok = p;
        while (p < len && t[p] != ' ')
            p++;
        n = p - tok;

        if (kind < 0) {
            for (int k = 0; k < GW_EV__COUNT; k++) {
                if (name_eq(fmt->kind_names[k], t + tok, n))
                    kind = k;
            }
            if (kind < 0 && name_eq(GW_EV_SIMSWAP_NAME, t + tok, n))
                kind = GW_EV_SIMSWAP;
            if (kind < 0)
                return fail(&c, "kind: unknown '%.*s'", (int)(n > QUOTE_MAX ? QUOTE_MAX : n),
                            t + tok);
            ev->kind = (enum gw_event_kind)kind;
            continue;
        }

        const char *eq = memchr(t + tok, '=', n);
        int q = (int)(n > QUOTE_MAX ? QUOTE_MAX : n);

        if (!eq)
            return fail(&c, "event: '%.*s' is not key=value", q, t + tok);
        size_t klen = (size_t)(eq - (t + tok));
        const char *v = eq + 1;
        size_t vlen = n - klen - 1;

        if (klen == 0)
            return fail(&c, "event: '%.*s' has no key", q, t + tok);
        for (size_t i = 0; i < klen; i++) {
            if (!is_key_char(t[tok + i]))
                return fail(&c, "event: key '%.*s' is not lowercase ASCII",
                            (int)(klen > QUOTE_MAX ? QUOTE_MAX : klen), t + tok);
        }

        int f = field_lookup(fmt, t + tok, klen);

        if (f >= 0 && (fields[f].belongs & K(kind))) {
            c.key = fmt->key_names[f];
            if (seen & K(f))
                return fail(&c, "%s: given twice", c.key);
            seen |= K(f);
            if (vlen == 0)
                return fail(&c, "%s: empty value", c.key);
            int rc = fields[f].fn(&c, v, vlen);

            if (rc < 0)
                return rc;
            continue;
        }
        /* Unknown (or another kind's) key: kept in the raw text, not interpreted - but a second
         * one of the same name makes the text ambiguous for whoever reads it later. */
        for (unsigned i = 0; i < n_unknown; i++) {
            if (unknown[i].len == klen && memcmp(t + unknown[i].off, t + tok, klen) == 0)
                return fail(&c, "%.*s: given twice", (int)(klen > QUOTE_MAX ? QUOTE_MAX : klen),
                            t + tok);
        }
        unknown[n_unknown].off = (uint16_t)tok;
        unknown[n_unknown].len = (uint16_t)klen;
        n_unknown++;
    }
    if (kind < 0)
        return fail(&c, "event: empty");
    for (int f = 0; f < GW_F__COUNT; f++) {
        if ((fields[f].required & K(kind)) && !(seen & K(f))) {
            c.key = fmt->key_names[f];
            return fail(&c, "%s: missing (required for %s)", c.key,
                        kind < GW_EV__COUNT ? fmt->kind_names[kind] : GW_EV_SIMSWAP_NAME);
        }
    }
    ev->n_unknown = n_unknown;
    return 0;
}

int gw_event_format_check(const struct gw_event_format *fmt, char *err, size_t errlen)
{
    struct parse_ctx c = {.err = err, .errlen = errlen};

    for (int k = 0; k < GW_EV__COUNT; k++) {
        const char *name = fmt->kind_names[k];
        size_t n = strnlen(name, sizeof(fmt->kind_names[k]));

        if (n == 0 || n >= sizeof(fmt->kind_names[k]))
            return fail(&c, "kind_names.%s: 1 to %zu characters", kind_names[k],
                        sizeof(fmt->kind_names[k]) - 1);
        for (size_t i = 0; i < n; i++) {
            if (name[i] <= ' ' || name[i] > '~' || name[i] == '=')
                return fail(&c, "kind_names.%s: printable ASCII without '=' or spaces",
                            kind_names[k]);
        }
        for (int j = 0; j < k; j++) {
            if (strcmp(name, fmt->kind_names[j]) == 0)
                return fail(&c, "kind_names.%s: same name as %s", kind_names[k], kind_names[j]);
        }
        if (strcmp(name, GW_EV_SIMSWAP_NAME) == 0)
            return fail(&c, "kind_names.%s: " GW_EV_SIMSWAP_NAME " is taken by the SIM swap notice",
                        kind_names[k]);
    }
    for (int f = 0; f < GW_F__COUNT; f++) {
        const char *name = fmt->key_names[f];
        size_t n = strnlen(name, sizeof(fmt->key_names[f]));

        if (n == 0 || n >= sizeof(fmt->key_names[f]))
            return fail(&c, "key_names.%s: 1 to %zu characters", fields[f].name,
                        sizeof(fmt->key_names[f]) - 1);
        for (size_t i = 0; i < n; i++) {
            if (!is_key_char(name[i]))
                return fail(&c, "key_names.%s: lowercase ASCII [a-z0-9_] only", fields[f].name);
        }
        for (int j = 0; j < f; j++) {
            if (strcmp(name, fmt->key_names[j]) == 0)
                return fail(&c, "key_names.%s: same name as %s", fields[f].name, fields[j].name);
        }
    }
    return 0;
}
