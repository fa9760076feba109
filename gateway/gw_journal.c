/*
 * gw_journal.c - the event journal's line format, its strict parser and the gateway's appender
 * (gw_journal.h). The writer owns one file descriptor at a time (the current day's file) and, on a
 * loop (gw_journal_set_loop), the batch of whole lines not yet written and its flush event; the
 * records are the caller's.
 */
#include "gw_journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"

static const char kind_chars[GW_EV__COUNT] = {'T', 'B', 'U', 'R'};

static bool ref_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == ':' || ch == '-';
}

static bool valid_ref(const char *s, bool empty_ok)
{
    size_t n = strnlen(s, GW_REF_MAX + 1);

    if (n > GW_REF_MAX || (n == 0 && !empty_ok))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!ref_char(s[i]))
            return false;
    }
    return true;
}

static bool valid_word(const char *s, size_t max, size_t minlen)
{
    size_t n = strnlen(s, max);

    if (n >= max || n < minlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    }
    return true;
}

int gw_journal_format(const struct gw_journal_rec *r, char *buf, size_t len)
{
    int n;

    size_t ml = strnlen(r->msisdn, sizeof(r->msisdn));

    if (ml == 0 || ml >= sizeof(r->msisdn) || strspn(r->msisdn, "0123456789") != ml)
        return -EINVAL;
    if ((unsigned)r->kind >= GW_EV__COUNT ||
        !valid_ref(r->ref, false) || !valid_ref(r->orig, true) ||
        !valid_word(r->channel, sizeof(r->channel), 0) || r->commit_ms < 0 || r->at < 0 ||
        r->amount_milli < 0 || r->points < 0 ||
        (r->outcome != GW_JOURNAL_CREDITED && r->outcome != GW_JOURNAL_REVERSED &&
         r->outcome != GW_JOURNAL_VOIDED && r->outcome != GW_JOURNAL_NOOP))
        return -EINVAL;
    n = snprintf(buf, len, "%" PRId64 " %c %s %" PRId64 " %" PRId64 " %s %s %s %c %" PRId64 "\n",
                 r->commit_ms, kind_chars[r->kind], r->msisdn, r->at, r->amount_milli,
                 r->channel[0] ? r->channel : "-", r->ref, r->orig[0] ? r->orig : "-",
                 (char)r->outcome, r->points);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    return n;
}

/* ---------------------------------------------------------------- parser (untrusted) */

/* A non-negative decimal of 1..18 digits (no sign, no leading '+', fits int64). */
static int parse_u63(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (n == 0 || n > 18)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Cuts a line (with or without its '\n') into exactly n tokens separated by single spaces,
 * printable ASCII only. 0 or -EINVAL. */
static int split(const char *line, size_t len, const char **tok, size_t *tlen, unsigned n)
{
    unsigned nt = 0;
    size_t i = 0;

    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len == 0 || len >= GW_JOURNAL_LINE_MAX)
        return -EINVAL;
    while (i <= len) {
        size_t start = i;

        while (i < len && line[i] != ' ') {
            if ((unsigned char)line[i] < 0x21 || (unsigned char)line[i] > 0x7e)
                return -EINVAL;
            i++;
        }
        if (i == start || nt == n)
            return -EINVAL;
        tok[nt] = line + start;
        tlen[nt++] = i - start;
        i++; /* past the space (or the end) */
    }
    return nt == n ? 0 : -EINVAL;
}

int gw_journal_parse(const char *line, size_t len, struct gw_journal_rec *out)
{
    const char *tok[10];
    size_t tlen[10];

    /* exactly ten tokens */
    if (split(line, len, tok, tlen, 10) < 0)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (parse_u63(tok[0], tlen[0], &out->commit_ms) < 0 || tlen[1] != 1)
        return -EINVAL;
    out->kind = GW_EV__COUNT;
    for (unsigned k = 0; k < GW_EV__COUNT; k++) {
        if (tok[1][0] == kind_chars[k])
            out->kind = (enum gw_event_kind)k;
    }
    if (out->kind == GW_EV__COUNT || tlen[2] < 1 || tlen[2] > GW_MSISDN_MAX)
        return -EINVAL;
    for (size_t k = 0; k < tlen[2]; k++) {
        if (tok[2][k] < '0' || tok[2][k] > '9')
            return -EINVAL;
    }
    memcpy(out->msisdn, tok[2], tlen[2]);
    if (parse_u63(tok[3], tlen[3], &out->at) < 0 || out->at > INT64_C(100000000000) ||
        parse_u63(tok[4], tlen[4], &out->amount_milli) < 0 ||
        out->amount_milli > INT64_C(1000000000000000))
        return -EINVAL;
    if (!(tlen[5] == 1 && tok[5][0] == '-')) {
        if (tlen[5] >= sizeof(out->channel))
            return -EINVAL;
        memcpy(out->channel, tok[5], tlen[5]);
        if (!valid_word(out->channel, sizeof(out->channel), 1))
            return -EINVAL;
    }
    if (tlen[6] > GW_REF_MAX)
        return -EINVAL;
    memcpy(out->ref, tok[6], tlen[6]);
    if (!valid_ref(out->ref, false))
        return -EINVAL;
    if (!(tlen[7] == 1 && tok[7][0] == '-')) {
        if (tlen[7] > GW_REF_MAX)
            return -EINVAL;
        memcpy(out->orig, tok[7], tlen[7]);
        if (!valid_ref(out->orig, false))
            return -EINVAL;
    }
    /* a reversal names its original; nothing else does */
    if ((out->kind == GW_EV_REVERSAL) != (out->orig[0] != '\0'))
        return -EINVAL;
    if (tlen[8] != 1)
        return -EINVAL;
    switch (tok[8][0]) {
    case 'c':
    case 'v':
        if (out->kind == GW_EV_REVERSAL)
            return -EINVAL;
        break;
    case 'r':
    case 'n':
        if (out->kind != GW_EV_REVERSAL)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    out->outcome = (enum gw_journal_outcome)tok[8][0];
    if (parse_u63(tok[9], tlen[9], &out->points) < 0 || out->points > INT64_C(1000000000000))
        return -EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- version 2: redemptions */

static bool item_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

static bool valid_msisdn(const char *s, size_t n)
{
    return n >= 1 && n <= GW_MSISDN_MAX && strspn(s, "0123456789") >= n;
}

int gw_journal_redeem_format(const struct gw_journal_redeem *r, char *buf, size_t len)
{
    size_t ml = strnlen(r->msisdn, sizeof(r->msisdn)), il = strnlen(r->item, sizeof(r->item));
    int n;

    if (ml >= sizeof(r->msisdn) || !valid_msisdn(r->msisdn, ml) || il == 0 ||
        il >= sizeof(r->item) || r->commit_ms < 0 || r->price < 1 ||
        r->price > INT64_C(1000000000000) || r->balance < 0 ||
        r->balance > INT64_C(1000000000000000))
        return -EINVAL;
    for (size_t i = 0; i < il; i++) {
        if (!item_char(r->item[i]))
            return -EINVAL;
    }
    n = snprintf(buf, len, "%" PRId64 " D %s %s %" PRId64 " %" PRId64 "\n", r->commit_ms,
                 r->msisdn, r->item, r->price, r->balance);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    return n;
}

int gw_journal_redeem_parse(const char *line, size_t len, struct gw_journal_redeem *out)
{
    const char *tok[6];
    size_t tlen[6];

    if (split(line, len, tok, tlen, 6) < 0 || tlen[1] != 1 || tok[1][0] != 'D')
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (parse_u63(tok[0], tlen[0], &out->commit_ms) < 0 || !valid_msisdn(tok[2], tlen[2]) ||
        tlen[3] > GW_JOURNAL_ITEM_MAX || parse_u63(tok[4], tlen[4], &out->price) < 0 ||
        out->price < 1 || out->price > INT64_C(1000000000000) ||
        parse_u63(tok[5], tlen[5], &out->balance) < 0 ||
        out->balance > INT64_C(1000000000000000))
        return -EINVAL;
    for (size_t k = 0; k < tlen[3]; k++) {
        if (!item_char(tok[3][k]))
            return -EINVAL;
    }
    memcpy(out->msisdn, tok[2], tlen[2]);
    memcpy(out->item, tok[3], tlen[3]);
    return 0;
}

int gw_journal_enrol_format(const struct gw_journal_enrol *r, char *buf, size_t len)
{
    size_t ml = strnlen(r->msisdn, sizeof(r->msisdn));
    int n;

    if (ml >= sizeof(r->msisdn) || !valid_msisdn(r->msisdn, ml) || r->commit_ms < 0 ||
        r->since < 0 || r->since > INT64_C(100000000000))
        return -EINVAL;
    n = snprintf(buf, len, "%" PRId64 " J %s %" PRId64 "\n", r->commit_ms, r->msisdn, r->since);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    return n;
}

int gw_journal_enrol_parse(const char *line, size_t len, struct gw_journal_enrol *out)
{
    const char *tok[4];
    size_t tlen[4];

    if (split(line, len, tok, tlen, 4) < 0 || tlen[1] != 1 || tok[1][0] != 'J')
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (parse_u63(tok[0], tlen[0], &out->commit_ms) < 0 || !valid_msisdn(tok[2], tlen[2]) ||
        parse_u63(tok[3], tlen[3], &out->since) < 0 || out->since > INT64_C(100000000000))
        return -EINVAL;
    memcpy(out->msisdn, tok[2], tlen[2]);
    return 0;
}

/* ---------------------------------------------------------------- version 3: referrals */

int gw_journal_refer_format(const struct gw_journal_refer *r, char *buf, size_t len)
{
    size_t al = strnlen(r->referrer, sizeof(r->referrer));
    size_t bl = strnlen(r->referee, sizeof(r->referee));
    int n;

    if (al >= sizeof(r->referrer) || bl >= sizeof(r->referee) ||
        !valid_msisdn(r->referrer, al) || !valid_msisdn(r->referee, bl) ||
        strcmp(r->referrer, r->referee) == 0 || r->commit_ms < 0 || !gw_days_valid(r->day))
        return -EINVAL;
    n = snprintf(buf, len, "%" PRId64 " F %s %s %08" PRId32 "\n", r->commit_ms, r->referrer,
                 r->referee, r->day);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    return n;
}

int gw_journal_refer_parse(const char *line, size_t len, struct gw_journal_refer *out)
{
    const char *tok[5];
    size_t tlen[5];
    int64_t day;

    if (split(line, len, tok, tlen, 5) < 0 || tlen[1] != 1 || tok[1][0] != 'F')
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (parse_u63(tok[0], tlen[0], &out->commit_ms) < 0 || !valid_msisdn(tok[2], tlen[2]) ||
        !valid_msisdn(tok[3], tlen[3]) || tlen[4] != 8 || parse_u63(tok[4], 8, &day) < 0 ||
        !gw_days_valid((int32_t)day))
        return -EINVAL;
    memcpy(out->referrer, tok[2], tlen[2]);
    memcpy(out->referee, tok[3], tlen[3]);
    out->day = (int32_t)day;
    /* a referral of oneself is refused by referral.lua: never written */
    return strcmp(out->referrer, out->referee) == 0 ? -EINVAL : 0;
}

int gw_journal_header_parse(const char *line, size_t len)
{
    int64_t v;

    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len < 5 || len > 12 || memcmp(line, "#lj ", 4) != 0 ||
        parse_u63(line + 4, len - 4, &v) < 0 || v < 1 || v > 1000000)
        return -EINVAL;
    return (int)v;
}

void gw_journal_rec_event(const struct gw_journal_rec *r, const char *cur, struct gw_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = r->kind;
    memcpy(ev->ref, r->ref, sizeof(ev->ref));
    memcpy(ev->msisdn, r->msisdn, sizeof(ev->msisdn));
    memcpy(ev->orig, r->orig, sizeof(ev->orig));
    memcpy(ev->channel, r->channel, sizeof(ev->channel));
    ev->amount_milli = r->amount_milli;
    ev->at = r->at;
    if (r->kind != GW_EV_REVERSAL)
        snprintf(ev->currency, sizeof(ev->currency), "%s", cur);
}

/* ---------------------------------------------------------------- writer */

/* Lines batched on the loop (gw_journal_set_loop): at most this many bytes before a write. */
#define BATCH_MAX 65536

struct gw_journal {
    char dir[PATH_MAX / 2];
    char name[64];
    unsigned keep_days;
    int fd;
    int32_t day; /* of the open file */
    uint64_t written, failed;
    /* the batch (NULL: a write per line): whole lines of the open file's day, written by
     * ev_flush at the end of the loop pass that queued them; ev_lines of them are events' */
    char *batch;
    size_t used;
    uint32_t lines, ev_lines;
    uint64_t ev_lost; /* events' lines of batches whose write failed */
    struct event *ev_flush;
    bool armed;
    int64_t warned_ms;
};

struct gw_journal *gw_journal_open(const char *dir, const char *name, unsigned keep_days)
{
    struct gw_journal *j;
    size_t n = 0;

    if (!dir || !dir[0] || strlen(dir) >= sizeof(j->dir) || keep_days == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return NULL;
    j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    snprintf(j->dir, sizeof(j->dir), "%s", dir);
    for (; name && name[n] && n < sizeof(j->name) - 1; n++) {
        char ch = name[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        j->name[n] = ok ? ch : '_';
    }
    if (n == 0)
        snprintf(j->name, sizeof(j->name), "gw");
    j->keep_days = keep_days;
    j->fd = -1;
    return j;
}

int gw_journal_prune(const char *dir, int32_t today, unsigned keep_days)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int32_t oldest = gw_days_add(today, -(int32_t)keep_days + 1);
    int removed = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        size_t n = strlen(s);
        int64_t day;
        char path[PATH_MAX];

        if (n < 12 || s[8] != '-' || strcmp(s + n - 3, ".lj") != 0 ||
            parse_u63(s, 8, &day) < 0 || !gw_days_valid((int32_t)day) || day >= oldest)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, s) >= (int)sizeof(path))
            continue;
        if (unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

static int switch_day(struct gw_journal *j, int32_t day)
{
    char path[PATH_MAX];

    if (j->fd >= 0) {
        /* the day is over: its file is made durable once, off the per-event path */
        (void)fdatasync(j->fd);
        close(j->fd);
        j->fd = -1;
    }
    snprintf(path, sizeof(path), "%s/%08" PRId32 "-%s.lj", j->dir, day, j->name);
    j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (j->fd < 0)
        return -errno;
    /* a new file says its format version first (a file of an older gateway has no header) */
    struct stat st;
    if (fstat(j->fd, &st) == 0 && st.st_size == 0) {
        char hdr[16];
        int n = snprintf(hdr, sizeof(hdr), "#lj %d\n", GW_JOURNAL_VERSION);
        if (write(j->fd, hdr, (size_t)n) != n)
            j->failed++;
    }
    j->day = day;
    (void)gw_journal_prune(j->dir, day, j->keep_days);
    return 0;
}

/* Writes the batch to the open file in one write(2): whole lines on O_APPEND, so lines of
 * concurrent writers never interleave. A failed or short write loses the batch's lines (a short
 * one leaves a torn last line, which the replay skips and counts): counted in failed. */
static void flush_batch(struct gw_journal *j)
{
    if (j->used == 0)
        return;
    ssize_t w = j->fd >= 0 ? write(j->fd, j->batch, j->used) : -1;
    if (w == (ssize_t)j->used) {
        j->written += j->lines;
    } else {
        int err = w < 0 ? errno : EIO;
        j->failed += j->lines;
        j->ev_lost += j->ev_lines;
        if (gw_clock_now_ms() - j->warned_ms >= 60000) { /* at most once a minute */
            j->warned_ms = gw_clock_now_ms();
            gw_log(GW_LOG_NOTICE, "journal", "%u line(s) could not be written (%s): %llu so far",
                   (unsigned)j->lines, strerror(err), (unsigned long long)j->failed);
        }
    }
    j->used = 0;
    j->lines = j->ev_lines = 0;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_journal *j = arg;

    (void)fd;
    (void)what;
    j->armed = false;
    flush_batch(j);
}

/* One whole line of the local day of commit_ms (n < 0: the record did not format); ev: an
 * event's line (gw_journal_append). */
static int append_line(struct gw_journal *j, int64_t commit_ms, const char *line, int n, bool ev)
{
    int32_t day = gw_local_day(commit_ms / 1000);
    ssize_t w;

    if (n < 0 || day == 0) {
        j->failed++;
        return n < 0 ? n : -EINVAL;
    }
    if (j->fd < 0 || day != j->day) {
        flush_batch(j); /* the batch is the old day's */
        int rc = switch_day(j, day);
        if (rc < 0) {
            j->failed++;
            return rc;
        }
    }
    if (j->batch) {
        /* batched: one write(2) per loop pass instead of one per line (a write was a tenth of
         * the gateway's CPU per event); the pass ends before the event's answer leaves */
        if (j->used + (size_t)n > BATCH_MAX)
            flush_batch(j);
        memcpy(j->batch + j->used, line, (size_t)n);
        j->used += (size_t)n;
        j->lines++;
        j->ev_lines += ev;
        if (!j->armed) {
            j->armed = true;
            event_active(j->ev_flush, EV_TIMEOUT, 0);
        }
        return 0;
    }
    /* one write(2) per line on O_APPEND: lines of concurrent writers never interleave */
    w = write(j->fd, line, (size_t)n);
    if (w != n) {
        j->failed++;
        return w < 0 ? -errno : -EIO;
    }
    j->written++;
    return 0;
}

int gw_journal_append(struct gw_journal *j, const struct gw_journal_rec *r)
{
    char line[GW_JOURNAL_LINE_MAX];

    return append_line(j, r->commit_ms, line, gw_journal_format(r, line, sizeof(line)), true);
}

int gw_journal_append_redeem(struct gw_journal *j, const struct gw_journal_redeem *r)
{
    char line[GW_JOURNAL_LINE_MAX];

    return append_line(j, r->commit_ms, line, gw_journal_redeem_format(r, line, sizeof(line)), false);
}

int gw_journal_append_enrol(struct gw_journal *j, const struct gw_journal_enrol *r)
{
    char line[GW_JOURNAL_LINE_MAX];

    return append_line(j, r->commit_ms, line, gw_journal_enrol_format(r, line, sizeof(line)), false);
}

int gw_journal_append_refer(struct gw_journal *j, const struct gw_journal_refer *r)
{
    char line[GW_JOURNAL_LINE_MAX];

    return append_line(j, r->commit_ms, line, gw_journal_refer_format(r, line, sizeof(line)), false);
}

int gw_journal_set_loop(struct gw_journal *j, struct event_base *base)
{
    if (!j || !base || j->batch)
        return -EINVAL;
    j->ev_flush = event_new(base, -1, 0, flush_cb, j);
    j->batch = j->ev_flush ? malloc(BATCH_MAX) : NULL;
    if (!j->batch) {
        if (j->ev_flush)
            event_free(j->ev_flush);
        j->ev_flush = NULL;
        return -ENOMEM;
    }
    return 0;
}

void gw_journal_counts(const struct gw_journal *j, uint64_t *written, uint64_t *failed)
{
    *written = j ? j->written : 0;
    *failed = j ? j->failed : 0;
}

uint64_t gw_journal_events_lost(const struct gw_journal *j)
{
    return j ? j->ev_lost : 0;
}

void gw_journal_close(struct gw_journal *j)
{
    if (!j)
        return;
    flush_batch(j);
    if (j->ev_flush)
        event_free(j->ev_flush);
    free(j->batch);
    if (j->fd >= 0) {
        (void)fdatasync(j->fd);
        close(j->fd);
    }
    free(j);
}
