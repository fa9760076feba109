/*
 * sim_events.c - what smsc-sim delivers: the --events file, the deterministic TOPUP generator
 * (--generate), and the raw PDUs of --inject-hex. Pure: no sockets, no loop, no clock (the
 * caller resolves --at now). struct sim_events owns every event text; sim_events_free() frees
 * them. Tests include this file directly.
 */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sim_events_add(struct sim_events *evs, const char *text, size_t len, uint32_t line)
{
    struct sim_event *ev;

    if (len == 0 || len > SIM_EVENT_TEXT_MAX)
        return -EINVAL;
    if (evs->n == evs->cap) {
        size_t cap = evs->cap ? evs->cap * 2 : 64;
        struct sim_event *v = realloc(evs->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        evs->v = v;
        evs->cap = cap;
    }
    ev = &evs->v[evs->n];
    memset(ev, 0, sizeof(*ev));
    ev->text = malloc(len + 1);
    if (!ev->text)
        return -ENOMEM;
    memcpy(ev->text, text, len);
    ev->text[len] = '\0';
    ev->len = (uint16_t)len;
    ev->line = line;
    ev->next = SIM_NONE;
    ev->state = SIM_EV_NEW;
    evs->n++;
    return 0;
}

void sim_events_free(struct sim_events *evs)
{
    if (!evs)
        return;
    for (size_t i = 0; i < evs->n; i++)
        free(evs->v[i].text);
    free(evs->v);
    memset(evs, 0, sizeof(*evs));
}

/* A line to skip: only blanks, or a comment ('#' as first non-blank character). */
static bool skip_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\t')
            continue;
        return s[i] == '#';
    }
    return true;
}

/* Removes "\n" or "\r\n" at the end; returns the new length. */
static size_t chomp(char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '\n')
        len--;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    s[len] = '\0';
    return len;
}

int sim_events_read(struct sim_events *evs, FILE *f, char *err, size_t errlen)
{
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    uint32_t lineno = 0;
    int rc = 0;

    while ((got = getline(&line, &linecap, f)) >= 0) {
        size_t len = chomp(line, (size_t)got);
        lineno++;
        if (skip_line(line, len))
            continue;
        if (len > 4 && strncmp(line, "hex:", 4) == 0) {
            /* "hex:<bytes>": a text with NUL bytes (UCS-2 with a space: 00 20) */
            uint8_t raw[SIM_EVENT_TEXT_MAX];
            size_t n = 0;
            if (sim_hex_decode(line + 4, raw, sizeof(raw), &n) < 0 || n == 0) {
                snprintf(err, errlen, "line %" PRIu32 ": bad hex: event text", lineno);
                rc = -EINVAL;
                goto out;
            }
            if ((rc = sim_events_add(evs, (const char *)raw, n, lineno)) < 0) {
                snprintf(err, errlen, "line %" PRIu32 ": %s", lineno, strerror(-rc));
                goto out;
            }
            continue;
        }
        if (memchr(line, '\0', len)) {
            snprintf(err, errlen, "line %" PRIu32 ": NUL byte in event text", lineno);
            rc = -EINVAL;
            goto out;
        }
        if (len > SIM_EVENT_TEXT_MAX) {
            snprintf(err, errlen, "line %" PRIu32 ": event text of %zu bytes (max %d)", lineno, len,
                     SIM_EVENT_TEXT_MAX);
            rc = -EINVAL;
            goto out;
        }
        rc = sim_events_add(evs, line, len, lineno);
        if (rc < 0) {
            snprintf(err, errlen, "line %" PRIu32 ": %s", lineno, strerror(-rc));
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        rc = -EIO;
    }
out:
    free(line);
    return rc;
}

int sim_events_load(struct sim_events *evs, const char *path, char *err, size_t errlen)
{
    FILE *f;
    int rc;

    if (strcmp(path, "-") == 0)
        return sim_events_read(evs, stdin, err, errlen);
    f = fopen(path, "r");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    rc = sim_events_read(evs, f, err, errlen);
    fclose(f);
    return rc;
}

/* splitmix64: tiny, good enough for test data, and identical on every platform. */
uint64_t sim_rand_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rand_below(uint64_t *state, uint64_t n)
{
    return n ? sim_rand_next(state) % n : 0;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool sim_rfc3339_valid(const char *s)
{
    size_t i = 19;

    /* YYYY-MM-DDTHH:MM:SS */
    if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    if (s[i] == '.') {
        i++;
        if (!isdigit((unsigned char)s[i]))
            return false;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
        return true;
    return (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2) && s[i + 3] == ':' &&
           digits(s + i + 4, 2) && s[i + 6] == '\0';
}

void sim_rfc3339_format(int64_t unix_s, char *out, size_t outlen)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && outlen > 0)
        out[0] = '\0';
}

static const char *const channels[] = {"voucher", "card", "bank", "wallet", "transfer"};

int sim_events_generate(struct sim_events *evs, const struct sim_gen_params *p, char *err,
                        size_t errlen)
{
    uint64_t rng = p->seed;
    size_t *uniq = NULL;
    char text[256];
    int rc = 0;

    if (p->subscribers == 0 || p->subscribers > 99999999u) {
        snprintf(err, errlen, "--subscribers must be 1..99999999");
        return -EINVAL;
    }
    if (strlen(p->ref_prefix) > 50) {
        snprintf(err, errlen, "--ref-prefix longer than 50 characters");
        return -EINVAL;
    }
    for (const char *c = p->ref_prefix; *c; c++) {
        if (!isalnum((unsigned char)*c) && !strchr("._:-", *c)) {
            snprintf(err, errlen, "--ref-prefix: only [A-Za-z0-9._:-] allowed in a ref");
            return -EINVAL;
        }
    }
    if (!sim_rfc3339_valid(p->at)) {
        snprintf(err, errlen, "--at: not an RFC 3339 date-time: %s", p->at);
        return -EINVAL;
    }
    /* uniq[k]: index in evs->v of the k-th unique event, so a duplicate finds its original in
     * O(1) (duplicates interleave with the unique events). */
    if (p->n) {
        uniq = malloc((size_t)p->n * sizeof(*uniq));
        if (!uniq)
            goto nomem;
    }
    for (uint32_t i = 1; i <= p->n; i++) {
        /* Draw every random number in a fixed order so a seed always gives the same file. */
        uint32_t sub = (uint32_t)rand_below(&rng, p->subscribers) + 1;
        uint32_t cents = 500 + (uint32_t)rand_below(&rng, 20000 - 500 + 1); /* 5.00 .. 200.00 */
        const char *ch = channels[rand_below(&rng, sizeof(channels) / sizeof(channels[0]))];
        bool dup = p->dup_rate && rand_below(&rng, 100) < p->dup_rate;
        uint64_t dup_of = rand_below(&rng, i); /* 0 .. i-1: one of the events made so far */
        int n = snprintf(text, sizeof(text),
                         "TOPUP ref=%s-%09" PRIu32 " msisdn=2126%08" PRIu32 " amount=%" PRIu32
                         ".%02" PRIu32 " currency=MAD at=%s channel=%s",
                         p->ref_prefix, i, sub, cents / 100, cents % 100, p->at, ch);

        if (n < 0 || (size_t)n >= sizeof(text)) {
            snprintf(err, errlen, "generated event too long");
            rc = -EINVAL;
            goto out;
        }
        uniq[i - 1] = evs->n;
        if (sim_events_add(evs, text, (size_t)n, 0) < 0)
            goto nomem;
        evs->generated++;
        evs->amount_minor_total += cents;
        if (dup) {
            /* A re-send of an earlier ref as a separate deliver_sm: the same text. Copy it out
             * first: sim_events_add() may move evs->v. */
            const struct sim_event *o = &evs->v[uniq[dup_of]];
            size_t dlen = o->len;
            memcpy(text, o->text, dlen);
            if (sim_events_add(evs, text, dlen, 0) < 0)
                goto nomem;
            evs->duplicates++;
        }
    }
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
    rc = -ENOMEM;
out:
    free(uniq);
    return rc;
}

/* ---------------------------------------------------------------- --inject-hex */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sim_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    int hi = -1;

    for (const char *p = hex; *p; p++) {
        int v;
        if (isspace((unsigned char)*p))
            continue;
        v = hexval((unsigned char)*p);
        if (v < 0)
            return -EINVAL;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= cap)
            return -ENOSPC;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0)
        return -EINVAL;
    *len = n;
    return 0;
}

void sim_inject_free(struct sim_inject_item *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i].pdu);
    free(items);
}

int sim_inject_load(const char *path, struct sim_inject_item **items, size_t *n, char *err,
                    size_t errlen)
{
    struct sim_inject_item *v = NULL;
    size_t cnt = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    uint32_t lineno = 0;
    int rc = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    while ((got = getline(&line, &linecap, f)) >= 0) {
        size_t len = chomp(line, (size_t)got);
        uint8_t *pdu;
        size_t plen;

        lineno++;
        if (skip_line(line, len))
            continue;
        pdu = malloc(len / 2 + 1);
        if (!pdu) {
            rc = -ENOMEM;
            goto fail;
        }
        rc = sim_hex_decode(line, pdu, len / 2 + 1, &plen);
        if (rc < 0 || plen == 0) {
            free(pdu);
            snprintf(err, errlen, "%s line %" PRIu32 ": not an even-length hex string", path,
                     lineno);
            rc = -EINVAL;
            goto fail;
        }
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct sim_inject_item *nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                free(pdu);
                rc = -ENOMEM;
                goto fail;
            }
            v = nv;
            cap = ncap;
        }
        memset(&v[cnt], 0, sizeof(v[cnt]));
        v[cnt].pdu = pdu;
        v[cnt].len = plen;
        v[cnt].line = lineno;
        cnt++;
    }
    free(line);
    fclose(f);
    *items = v;
    *n = cnt;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    free(line);
    fclose(f);
    sim_inject_free(v, cnt);
    return rc;
}
