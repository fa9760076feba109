/*
 * gw_log.c - one-line logs with a level and category; MSISDN masking and escaping of untrusted
 * text. A single process-wide sink, swapped by tests to capture FSM transition logs. Lines go to
 * stderr (text or JSON), syslog or the systemd journal (gw_log_configure).
 */
#include "gw_core.h"

#define SD_JOURNAL_SUPPRESS_LOCATION /* the call site would always be this file */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

enum log_format { FMT_TEXT, FMT_JSON };
enum log_output { OUT_STDERR, OUT_SYSLOG, OUT_JOURNAL };

static enum gw_log_level g_level = GW_LOG_INFO;
static gw_log_sink g_sink;
static void *g_sink_arg;
static enum log_format g_format = FMT_TEXT;
static enum log_output g_output = OUT_STDERR;
static const char *g_ident = "loyaltygw";

static const char *const level_names[] = {"DEBUG", "INFO", "NOTICE", "ERROR"};

void gw_log_set_level(enum gw_log_level level)
{
    g_level = level;
}

enum gw_log_level gw_log_get_level(void)
{
    return g_level;
}

int gw_log_level_parse(const char *name, enum gw_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void gw_log_set_sink(gw_log_sink sink, void *arg)
{
    g_sink = sink;
    g_sink_arg = arg;
}

int gw_log_configure(const char *format, const char *output, const char *ident)
{
    enum log_format f;
    enum log_output o;

    if (!format || strcmp(format, "text") == 0)
        f = FMT_TEXT;
    else if (strcmp(format, "json") == 0)
        f = FMT_JSON;
    else
        return -EINVAL;
    if (!output || strcmp(output, "stderr") == 0)
        o = OUT_STDERR;
    else if (strcmp(output, "syslog") == 0)
        o = OUT_SYSLOG;
    else if (strcmp(output, "journal") == 0)
        o = OUT_JOURNAL;
    else
        return -EINVAL;
    if (ident && *ident)
        g_ident = ident;
    if (g_output == OUT_SYSLOG && o != OUT_SYSLOG)
        closelog();
    if (o == OUT_SYSLOG && g_output != OUT_SYSLOG)
        openlog(g_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    g_format = f;
    g_output = o;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (overlongs and
 * surrogates included), reading at most n bytes. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Appends s as the inside of a JSON string to out[*o..cap-tail): escapes quote, backslash and
 * control characters, replaces bytes that are not UTF-8 by U+FFFD, and stops at a character
 * boundary when full. */
static void json_put(char *out, size_t cap, size_t *o, const char *s, size_t tail)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);

    for (size_t i = 0; i < n;) {
        char esc[8];
        const char *piece = esc;
        size_t plen, adv = 1;

        if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)p[i], plen = 2;
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[p[i] >> 4], esc[5] = hex[p[i] & 15], plen = 6;
        } else if ((adv = utf8_seq(p + i, n - i)) == 0) {
            piece = "\\ufffd", plen = 6, adv = 1;
        } else {
            piece = (const char *)p + i, plen = adv;
        }
        if (*o + plen + tail >= cap)
            return;
        memcpy(out + *o, piece, plen);
        *o += plen;
        i += adv;
    }
}

size_t gw_log_format_json(char *out, size_t cap, int64_t now_ms, enum gw_log_level level,
                          const char *category, const char *msg)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    char ts[32];
    size_t o;
    int n;

    if (cap < 96) { /* the fixed part alone needs ~70 bytes */
        if (cap)
            out[0] = '\0';
        return 0;
    }
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(out, cap, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"cat\":\"", ts,
                 (int)(now_ms % 1000), level_names[level]);
    o = (size_t)n;
    json_put(out, cap, &o, category ? category : "", 12);
    memcpy(out + o, "\",\"msg\":\"", 9);
    o += 9;
    json_put(out, cap, &o, msg ? msg : "", 3);
    memcpy(out + o, "\"}", 3); /* with the NUL */
    return o + 2;
}

static void emit(enum gw_log_level level, const char *category, const char *msg)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_ERR};
    int64_t now = gw_clock_now_ms();
    char line[1024 * 6 + 128]; /* a 1 KiB message fully \u-escaped, and the fixed part */

    if (g_format == FMT_JSON)
        gw_log_format_json(line, sizeof(line), now, level, category, msg);
    switch (g_output) {
    case OUT_SYSLOG:
        if (g_format == FMT_JSON)
            syslog(prio[level], "%s", line);
        else
            syslog(prio[level], "%s %s", category, msg);
        return;
    case OUT_JOURNAL:
        if (g_format == FMT_JSON)
            sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio[level], "SYSLOG_IDENTIFIER=%s",
                            g_ident, "LGW_CATEGORY=%s", category, NULL);
        else
            sd_journal_send("MESSAGE=%s %s", category, msg, "PRIORITY=%d", prio[level],
                            "SYSLOG_IDENTIFIER=%s", g_ident, "LGW_CATEGORY=%s", category, NULL);
        return;
    case OUT_STDERR:
        break;
    }
    if (g_format == FMT_JSON) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    char ts[32];
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03dZ %-6s %-8s %s\n", ts, (int)(now % 1000), level_names[level], category,
            msg);
}

void gw_logv(enum gw_log_level level, const char *category, const char *fmt, va_list ap)
{
    char msg[1024];

    if (level < g_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* A message may quote untrusted text: never let it start a new log line. */
    for (char *p = msg; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    if (g_sink) {
        g_sink(g_sink_arg, level, category, msg);
        return;
    }
    emit(level, category, msg);
}

void gw_log(enum gw_log_level level, const char *category, const char *fmt, ...)
{
    va_list ap;

    if (level < g_level)
        return;
    va_start(ap, fmt);
    gw_logv(level, category, fmt, ap);
    va_end(ap);
}

const char *gw_mask_msisdn(const char *msisdn, char *buf)
{
    size_t n = msisdn ? strnlen(msisdn, 64) : 0;
    const char *tail = msisdn ? msisdn + (n > 4 ? n - 4 : 0) : "";
    size_t o = 0;

    /* "…" in UTF-8, then up to four characters */
    buf[o++] = (char)0xe2;
    buf[o++] = (char)0x80;
    buf[o++] = (char)0xa6;
    for (; *tail && o < GW_MASK_LEN - 1; tail++)
        buf[o++] = (*tail >= '0' && *tail <= '9') ? *tail : '?';
    buf[o] = '\0';
    return buf;
}

char *gw_put_u64(char *w, uint64_t v)
{
    char tmp[20];
    size_t k = 0;

    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *w++ = tmp[--k];
    return w;
}

const char *gw_escape(const void *data, size_t len, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t o = 0;

    if (outlen == 0)
        return out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
        if (o + need + 4 > outlen) { /* keep room for "..." and NUL */
            if (o + 4 <= outlen) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else if (need == 2) {
            out[o++] = '\\';
            out[o++] = '\\';
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}
