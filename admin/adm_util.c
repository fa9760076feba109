/*
 * adm_util.c - small pure helpers of the admin API: identifier validators (checked before any
 * Redis key is built from client input), session tokens from getrandom(2), the history-entry
 * parser and CSV cells. Owner: the staff-console engineer. Nothing here allocates except
 * evbuffer growth in the CSV helpers.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "admin.h"
#include "catalog.h"

int adm_token_new(char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[ADM_TOKEN_BYTES];
    size_t got = 0;

    if (outlen < 2 * ADM_TOKEN_BYTES + 1)
        return -ENOSPC;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * ADM_TOKEN_BYTES] = '\0';
    return 0;
}

bool adm_token_valid(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; s[i]; i++) {
        if (i >= 2 * ADM_TOKEN_BYTES ||
            !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return i == 2 * ADM_TOKEN_BYTES;
}

int adm_session_id(const char *token, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!adm_token_valid(token))
        return -EINVAL;
    if (outlen < 2 * 32 + 1)
        return -ENOSPC;
    /* One-shot EVP digest (OpenSSL 3): SHA-256 of the token's text. A token is 256 random bits,
     * so no salt or slow hash is needed: the id cannot be turned back into the token. */
    if (EVP_Digest(token, 2 * ADM_TOKEN_BYTES, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
}

bool adm_user_name_valid(const char *s)
{
    size_t i;

    if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (i >= ADM_USER_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool adm_item_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n >= CAT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

bool adm_msisdn_valid(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; s[i]; i++) {
        if (i >= 15 || s[i] < '0' || s[i] > '9')
            return false;
    }
    return i >= 8;
}

bool adm_request_id_valid(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (i >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return i >= 1;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;

    if (!*s)
        return -EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

int adm_history_parse(char *buf, struct adm_history_entry *out)
{
    char *f[5];
    char *p = buf;

    /* Five '|'-separated fields, then the note, which may itself hold '|' (commit.lua). */
    for (int i = 0; i < 5; i++) {
        char *bar = strchr(p, '|');
        if (!bar)
            return -EINVAL;
        *bar = '\0';
        f[i] = p;
        p = bar + 1;
    }
    /* an empty balance: a record of the wallet's packed history E, which does not hold it */
    if (parse_i64(f[0], &out->at) < 0)
        return -EINVAL;
    if (f[4][0] == '\0')
        out->balance = ADM_BALANCE_NONE;
    else if (parse_i64(f[4], &out->balance) < 0)
        return -EINVAL;
    if (f[3][0] == '+')
        f[3]++;
    if (parse_i64(f[3], &out->points) < 0)
        return -EINVAL;
    out->kind = f[1];
    out->ref = f[2];
    out->note = p;
    return 0;
}

int adm_csv_text(struct evbuffer *buf, const char *text)
{
    const char *t = text ? text : "";

    if (evbuffer_add(buf, "\"", 1) < 0)
        return -ENOMEM;
    /* A spreadsheet runs a cell starting with = + - @ (or a tab/CR before one) as a formula. */
    if (t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@' || t[0] == '\t' || t[0] == '\r')
        evbuffer_add(buf, "'", 1);
    for (const char *q; (q = strchr(t, '"')) != NULL; t = q + 1) {
        evbuffer_add(buf, t, (size_t)(q - t));
        evbuffer_add(buf, "\"\"", 2);
    }
    evbuffer_add(buf, t, strlen(t));
    return evbuffer_add(buf, "\"", 1) < 0 ? -ENOMEM : 0;
}

int adm_csv_int(struct evbuffer *buf, int64_t v)
{
    return evbuffer_add_printf(buf, "%" PRId64, v) < 0 ? -ENOMEM : 0;
}

/* A run is digits joined by nothing or by "\x00" (the escaped high byte of a UCS-2 digit, as
 * gw_escape writes a dead letter's raw bytes): returns the length of that escape at s, or 0. */
static size_t nul_escape_len(const char *s)
{
    return strncmp(s, "\\x00", 4) == 0 ? 4 : 0;
}

size_t adm_mask_numbers(char *s)
{
    size_t masked = 0, i = 0;

    if (!s)
        return 0;
    while (s[i]) {
        if (s[i] == '\\' && s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
            i += 4; /* an escaped byte: its hex digits are not a number */
            continue;
        }
        if (s[i] == '0' && s[i + 1] == 'x') {
            i += 2; /* 0x0000010b: a command id or status, in hex */
            while ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                   (s[i] >= 'A' && s[i] <= 'F'))
                i++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') {
            i++;
            continue;
        }
        /* First pass: the run's extent and its digit count. */
        size_t start = i, digits = 0, end = i;
        for (;;) {
            if (s[end] >= '0' && s[end] <= '9') {
                digits++;
                end++;
            } else if (nul_escape_len(s + end) && s[end + 4] >= '0' && s[end + 4] <= '9') {
                end += 4;
            } else {
                break;
            }
        }
        /* Second pass: every digit but the last ADM_MASK_KEEP becomes '*'. */
        if (digits >= ADM_MASK_MIN_DIGITS) {
            size_t hide = digits - ADM_MASK_KEEP;
            for (size_t k = start; k < end && hide > 0; k++) {
                if (s[k] >= '0' && s[k] <= '9') {
                    s[k] = '*';
                    hide--;
                } else {
                    k += 3; /* "\x00": its own "00" are not the subscriber's digits */
                }
            }
            masked++;
        }
        i = end;
    }
    return masked;
}

/* ---------------------------------------------------------------- pre-authentication guard */

enum { PA_HEAD = 0, PA_BODY, PA_STOPPED };

static bool prefix_ci(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);

    return n >= k && strncasecmp(line, name, k) == 0;
}

static const char *header_value(const char *line, size_t n, const char *name)
{
    const char *v = line + strlen(name);

    (void)n;
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

/* One header line (NUL-terminated, without its CR LF; cut at ADM_PREAUTH_LINE - 1 bytes). */
static void preauth_header(struct adm_preauth *p, const char *line, size_t n)
{
    if (prefix_ci(line, n, "content-length:")) {
        const char *v = header_value(line, n, "content-length:");
        char *end;
        unsigned long long len = strtoull(v, &end, 10);
        /* unparsable: as large as can be (evhttp refuses it too); two values: the larger */
        if (end == v || (*end && *end != ' ' && *end != '\t'))
            len = UINT64_MAX;
        if (len > p->length)
            p->length = len;
    } else if (prefix_ci(line, n, "transfer-encoding:")) {
        p->chunked = true; /* any coding but identity has no length we can check here */
    } else if (prefix_ci(line, n, "authorization:")) {
        const char *v = header_value(line, n, "authorization:");
        char tok[2 * ADM_TOKEN_BYTES + 1];
        size_t t;
        if (strncasecmp(v, "Bearer ", 7) != 0)
            return;
        v += 7;
        t = strcspn(v, " \t");
        if (t != 2 * ADM_TOKEN_BYTES)
            return;
        memcpy(tok, v, t);
        tok[t] = '\0';
        p->authed = adm_token_valid(tok);
    }
}

/* The head is over: decide, and set up the body. */
static int preauth_head_done(struct adm_preauth *p, uint64_t max)
{
    bool authed = p->authed, chunked = p->chunked;
    uint64_t length = p->length;

    p->in_request = p->authed = p->chunked = false;
    p->length = 0;
    if (!authed && (chunked || length > max))
        return -EMSGSIZE;
    if (chunked) {
        p->state = PA_STOPPED; /* no length to follow: evhttp's max body is the bound */
        return 0;
    }
    p->body_left = length;
    p->state = length ? PA_BODY : PA_HEAD;
    return 0;
}

int adm_preauth_feed(struct adm_preauth *p, const char *data, size_t len, uint64_t max)
{
    size_t i = 0;

    while (i < len && p->state != PA_STOPPED) {
        if (p->state == PA_BODY) {
            size_t n = len - i < p->body_left ? len - i : (size_t)p->body_left;
            p->body_left -= n;
            i += n;
            if (p->body_left == 0)
                p->state = PA_HEAD;
            continue;
        }
        char c = data[i++];
        if (c != '\n') {
            if (p->line_len < ADM_PREAUTH_LINE - 1)
                p->line[p->line_len] = c;
            p->line_len++;
            continue;
        }
        size_t n = p->line_len < ADM_PREAUTH_LINE - 1 ? p->line_len : ADM_PREAUTH_LINE - 1;
        if (n > 0 && p->line[n - 1] == '\r' && p->line_len == n)
            n--;
        p->line[n] = '\0';
        bool empty = p->line_len == 0 || (p->line_len == 1 && p->line[0] == '\0');
        p->line_len = 0;
        if (empty) {
            if (!p->in_request)
                continue; /* blank lines before a request line are tolerated */
            if (preauth_head_done(p, max) < 0)
                return -EMSGSIZE;
            continue;
        }
        if (!p->in_request)
            p->in_request = true; /* the request line */
        else
            preauth_header(p, p->line, n);
    }
    return 0;
}

/* ---------------------------------------------------------------- campaign send times */

/* "YYYY-MM-DDTHH:MM[:SS]" at the start of s: fields in range (the day within its month) and
 * *rest at what follows. 0 or -EINVAL. */
static int parse_wall(const char *s, int *f, const char **rest)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int n = 0, leap;

    f[5] = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &f[0], &f[1], &f[2], &f[3], &f[4], &n) != 5 || n != 16)
        return -EINVAL;
    s += n;
    if (*s == ':') {
        if (sscanf(s, ":%2d%n", &f[5], &n) != 1 || n != 3)
            return -EINVAL;
        s += n;
    }
    if (f[0] < 2000 || f[0] > 2100 || f[1] < 1 || f[1] > 12 || f[3] < 0 || f[3] > 23 || f[4] < 0 ||
        f[4] > 59 || f[5] < 0 || f[5] > 59)
        return -EINVAL;
    leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
    if (f[2] < 1 || f[2] > mdays[f[1] - 1] + (f[1] == 2 && leap))
        return -EINVAL;
    *rest = s;
    return 0;
}

int adm_time_parse(const char *s, int64_t *out)
{
    int f[6], oh = 0, om = 0, sign = 1;
    const char *p;
    struct tm tm;

    if (parse_wall(s, f, &p) < 0)
        return -EINVAL;
    if (*p == 'Z' && p[1] == '\0') {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
               sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && oh >= 0 && oh <= 14 && om >= 0 &&
               om < 60) {
        sign = *p == '+' ? 1 : -1;
    } else {
        return -EINVAL;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    *out = (int64_t)timegm(&tm) - sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    return 0;
}

int adm_time_parse_local(const char *s, const struct cat_tz *tz, int64_t *out)
{
    int f[6];
    const char *p;
    enum cat_tz_fold fold;

    if (parse_wall(s, f, &p) < 0 || *p != '\0')
        return -EINVAL;
    if (cat_tz_local_to_utc(tz, f[0], f[1], f[2], f[3], f[4], f[5], CAT_TZ_EARLIER, out, &fold) < 0)
        return -EINVAL;
    return fold == CAT_TZ_GAP ? -ENOENT : 0;
}
