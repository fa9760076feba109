/*
 * gw_log.c - one-line logs with a level and category; MSISDN masking and escaping of untrusted
 * text. A single process-wide sink, swapped by tests to capture FSM transition logs.
 */
#include "gw_core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum gw_log_level g_level = GW_LOG_INFO;
static gw_log_sink g_sink;
static void *g_sink_arg;

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
    int64_t now = gw_clock_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    char ts[32];
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03dZ %-6s %-8s %s\n", ts, (int)(now % 1000), level_names[level], category,
            msg);
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
