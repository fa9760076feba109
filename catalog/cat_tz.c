/*
 * cat_tz.c - IANA time zones read straight from their compiled TZif files (RFC 8536): the
 * project's one time-zone reader. The gift-day calendar converts its local wall-clock times with
 * it, and the gateway's programme zone (gateway/gw_zone.c: every event's local day) is a cat_tz;
 * the process TZ and libc's localtime/mktime are used nowhere (global state a library call could
 * switch under another module, and an environment that could move a day).
 *
 * struct cat_tz holds the 64-bit transition table (the version 2+ section; the 32-bit one only for
 * version 1 files) and the POSIX TZ footer, which gives the rule for instants after the last
 * transition ("CET-1CEST,M3.5.0,M10.5.0/3"). Morocco has no rule its changes follow (they move with
 * Ramadan), so tzdata lists them explicitly up to 2087 and the footer is a fixed "<+01>-1".
 *
 * Ownership: cat_tz_load*() and cat_tz_parse() allocate one struct cat_tz, freed by cat_tz_free().
 * It is immutable afterwards, so any number of calendars may share a const pointer to it.
 *
 * Also here: the proleptic Gregorian date arithmetic every part of catalog/ uses (cat_priv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cat_priv.h"
#include "catalog.h"

#define TZ_FILE_MAX (1u << 20) /* real zone files are < 4 KiB */
#define TZ_UTOFF_MIN (-89999)  /* RFC 8536 s3.2: |utoff| < 25 h, and not -2^31 */
#define TZ_UTOFF_MAX 93599
#define RULE_TIME_MAX (167 * 3600) /* RFC 8536 s3.3.1 extends POSIX rule times to +-167 h */
#define YEAR_MIN 1
#define YEAR_MAX 9999
/* Instants whose local time may fall within years 1..9999 (with a day of slack for offsets). */
#define T_MIN (INT64_C(-62135596800) - 2 * 86400)
#define T_MAX (INT64_C(253402300799) + 2 * 86400)

struct tz_type {
    int32_t utoff; /* seconds east of UTC */
    bool isdst;
};

/* One POSIX rule date: Jn (1..365, Feb 29 never counted), n (0..365), or Mm.w.d. */
struct tz_rule {
    char kind;    /* 'J', 'N' or 'M' */
    int n;        /* J and N */
    int m, w, d;  /* M: month 1..12, week 1..5 (5 = last), weekday 0..6 */
    int32_t time; /* local time of day of the change, seconds, may be negative or > 24 h */
};

struct tz_footer {
    bool present;
    bool has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC (POSIX writes them west-positive) */
    struct tz_rule start, end;
};

struct cat_tz {
    char name[64];
    size_t n_trans;
    int64_t *trans; /* ascending instants */
    uint8_t *trans_type;
    unsigned n_types;
    struct tz_type types[256];
    struct tz_footer footer;
};

/* ---------------------------------------------------------------- dates */

int64_t cat_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

bool cat_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cat_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m < 1 || m > 12)
        return 0;
    return dim[m - 1] + (m == 2 && cat_is_leap(y));
}

/* Days from 0001-01-01 to January 1st of year y (proleptic Gregorian). */
static int64_t days_before_year(int64_t y)
{
    int64_t p = y - 1;

    return 365 * p + cat_floordiv(p, 4) - cat_floordiv(p, 100) + cat_floordiv(p, 400);
}

static int days_before_month(int64_t y, int m)
{
    static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

    return cum[m - 1] + (m > 2 && cat_is_leap(y));
}

#define DAYS_0001_TO_1970 INT64_C(719162)

int64_t cat_days_from_civil(int64_t y, int m, int d)
{
    return days_before_year(y) - DAYS_0001_TO_1970 + days_before_month(y, m) + d - 1;
}

void cat_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    /* An estimate from the mean Gregorian year (146097 days per 400 years), then a step or two to
     * land on the year whose January 1st is the last one not after `days`. */
    int64_t yy = 1970 + cat_floordiv(days * 400, 146097);
    int mm = 1;
    int64_t doy;

    while (cat_days_from_civil(yy, 1, 1) > days)
        yy--;
    while (cat_days_from_civil(yy + 1, 1, 1) <= days)
        yy++;
    doy = days - cat_days_from_civil(yy, 1, 1);
    while (mm < 12 && days_before_month(yy, mm + 1) <= doy)
        mm++;
    *y = yy;
    *m = mm;
    *d = (int)(doy - days_before_month(yy, mm)) + 1;
}

bool cat_date_valid(int32_t ymd)
{
    int32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    return ymd > 0 && y >= YEAR_MIN && y <= YEAR_MAX && m >= 1 && m <= 12 && d >= 1 &&
           d <= cat_days_in_month(y, m);
}

int64_t cat_date_to_days(int32_t ymd)
{
    return cat_days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100);
}

int32_t cat_days_to_date(int64_t days)
{
    int64_t y;
    int m, d;

    if (days < cat_days_from_civil(YEAR_MIN, 1, 1) || days > cat_days_from_civil(YEAR_MAX, 12, 31))
        return 0;
    cat_civil_from_days(days, &y, &m, &d);
    return (int32_t)(y * 10000 + m * 100 + d);
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int cat_parse_date(const char *s, int32_t *ymd)
{
    int32_t v;

    if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return -EINVAL;
    v = num(s, 4) * 10000 + num(s + 5, 2) * 100 + num(s + 8, 2);
    if (!cat_date_valid(v))
        return -EINVAL;
    *ymd = v;
    return 0;
}

int cat_parse_hms(const char *s, bool end_of_minute, int32_t *sec)
{
    size_t n = strlen(s);
    int h, m, x = 0;

    if ((n != 5 && n != 8) || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2))
        return -EINVAL;
    if (n == 8 && (s[5] != ':' || !digits(s + 6, 2)))
        return -EINVAL;
    h = num(s, 2);
    m = num(s + 3, 2);
    if (n == 8)
        x = num(s + 6, 2);
    else if (end_of_minute)
        x = 59;
    if (h > 23 || m > 59 || x > 59)
        return -EINVAL;
    *sec = h * 3600 + m * 60 + x;
    return 0;
}

int cat_parse_local_datetime(const char *s, bool end_of_minute, int32_t *ymd, int32_t *sec)
{
    char date[11];

    if (strlen(s) < 11 || (s[10] != 'T' && s[10] != ' '))
        return -EINVAL;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (cat_parse_date(date, ymd) < 0)
        return -EINVAL;
    return cat_parse_hms(s + 11, end_of_minute, sec);
}

int cat_read_file(const char *path, size_t max, char **buf, size_t *len)
{
    struct stat st;
    char *b = NULL;
    size_t got = 0;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = -EFBIG;
        goto out;
    }
    b = malloc((size_t)st.st_size + 1);
    if (!b) {
        rc = -ENOMEM;
        goto out;
    }
    /* Read to EOF rather than trusting st_size: staff may be rewriting the file right now, and a
     * file that grew past max is refused instead of silently cut. */
    for (;;) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size + 1 - got);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > (size_t)st.st_size) {
            rc = -EFBIG;
            goto out;
        }
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    b = NULL;
out:
    free(b);
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------- the POSIX TZ footer */

struct cursor {
    const char *p, *end;
};

static bool at(const struct cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static bool is_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* An abbreviation: 3+ letters, or <...> with letters, digits, "+" and "-" (POSIX 2008). */
static int parse_abbr(struct cursor *c)
{
    const char *s = c->p;

    if (at(c, '<')) {
        c->p++;
        s = c->p;
        while (c->p < c->end &&
               (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p - s < 3 || !at(c, '>'))
            return -EBADMSG;
        c->p++;
        return 0;
    }
    while (c->p < c->end && is_alpha(*c->p))
        c->p++;
    return c->p - s >= 3 ? 0 : -EBADMSG;
}

static int parse_uint(struct cursor *c, int maxdigits, int *out)
{
    int v = 0, n = 0;

    while (c->p < c->end && is_digit(*c->p) && n < maxdigits) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n == 0)
        return -EBADMSG;
    *out = v;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]] with |hours| <= max_hours, in seconds (sign as written). */
static int parse_hms_signed(struct cursor *c, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (at(c, '+') || at(c, '-')) {
        sign = *c->p == '-' ? -1 : 1;
        c->p++;
    }
    if (parse_uint(c, 3, &h) < 0 || h > max_hours)
        return -EBADMSG;
    if (at(c, ':')) {
        c->p++;
        if (parse_uint(c, 2, &m) < 0 || m > 59)
            return -EBADMSG;
        if (at(c, ':')) {
            c->p++;
            if (parse_uint(c, 2, &s) < 0 || s > 59)
                return -EBADMSG;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_rule(struct cursor *c, struct tz_rule *r)
{
    if (at(c, 'J')) {
        c->p++;
        r->kind = 'J';
        if (parse_uint(c, 3, &r->n) < 0 || r->n < 1 || r->n > 365)
            return -EBADMSG;
    } else if (at(c, 'M')) {
        c->p++;
        r->kind = 'M';
        if (parse_uint(c, 2, &r->m) < 0 || r->m < 1 || r->m > 12 || !at(c, '.'))
            return -EBADMSG;
        c->p++;
        if (parse_uint(c, 1, &r->w) < 0 || r->w < 1 || r->w > 5 || !at(c, '.'))
            return -EBADMSG;
        c->p++;
        if (parse_uint(c, 1, &r->d) < 0 || r->d > 6)
            return -EBADMSG;
    } else {
        r->kind = 'N';
        if (parse_uint(c, 3, &r->n) < 0 || r->n > 365)
            return -EBADMSG;
    }
    r->time = 2 * 3600; /* POSIX default 02:00:00 */
    if (at(c, '/')) {
        c->p++;
        if (parse_hms_signed(c, 167, &r->time) < 0 || r->time > RULE_TIME_MAX ||
            r->time < -RULE_TIME_MAX)
            return -EBADMSG;
    }
    return 0;
}

/* std offset [dst [offset] [,start[/time],end[/time]]] */
static int parse_footer(const char *s, size_t len, struct tz_footer *f)
{
    struct cursor c = {s, s + len};
    int32_t off;

    memset(f, 0, sizeof(*f));
    if (len == 0)
        return 0;
    if (parse_abbr(&c) < 0 || parse_hms_signed(&c, 24, &off) < 0)
        return -EBADMSG;
    f->std_off = -off;
    f->present = true;
    if (c.p == c.end)
        return 0;
    if (parse_abbr(&c) < 0)
        return -EBADMSG;
    f->has_dst = true;
    f->dst_off = f->std_off + 3600;
    if (c.p < c.end && !at(&c, ',')) {
        if (parse_hms_signed(&c, 24, &off) < 0)
            return -EBADMSG;
        f->dst_off = -off;
    }
    if (c.p == c.end) {
        /* No rule: the POSIX default is implementation-defined; glibc uses the US rule, and RFC
         * 8536 footers always carry one, so this only matters for hand-made files. */
        f->start = (struct tz_rule){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
        f->end = (struct tz_rule){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
        return 0;
    }
    if (!at(&c, ','))
        return -EBADMSG;
    c.p++;
    if (parse_rule(&c, &f->start) < 0 || !at(&c, ','))
        return -EBADMSG;
    c.p++;
    if (parse_rule(&c, &f->end) < 0 || c.p != c.end)
        return -EBADMSG;
    if (f->dst_off < TZ_UTOFF_MIN || f->dst_off > TZ_UTOFF_MAX)
        return -EBADMSG;
    return 0;
}

/* The instant of rule r in year y, when the offset in force before it is `before`. */
static int64_t rule_instant(const struct tz_rule *r, int64_t y, int32_t before)
{
    int64_t day = cat_days_from_civil(y, 1, 1);

    switch (r->kind) {
    case 'J':
        /* Jn counts 1..365 and never Feb 29: day 60 is March 1st even in leap years. */
        day += r->n - 1 + (cat_is_leap(y) && r->n >= 60);
        break;
    case 'N':
        day += r->n;
        break;
    default: {
        int64_t first = cat_days_from_civil(y, r->m, 1);
        int wday_first = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int mday = 1 + (r->d - wday_first + 7) % 7 + (r->w - 1) * 7;

        while (mday > cat_days_in_month(y, r->m))
            mday -= 7; /* week 5 means "the last" */
        day = first + mday - 1;
        break;
    }
    }
    return day * 86400 + r->time - before;
}

static int32_t footer_offset(const struct tz_footer *f, int64_t t)
{
    int64_t y, s, e;
    int m, d;
    bool dst;

    if (!f->has_dst)
        return f->std_off;
    cat_civil_from_days(cat_floordiv(t + f->std_off, 86400), &y, &m, &d);
    s = rule_instant(&f->start, y, f->std_off);
    e = rule_instant(&f->end, y, f->dst_off);
    if (s < e)
        dst = t >= s && t < e;
    else /* southern hemisphere: DST spans the new year */
        dst = !(t >= e && t < s);
    return dst ? f->dst_off : f->std_off;
}

/* ---------------------------------------------------------------- TZif */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

/* Reads a 44-byte header at p; returns the size of the data block that follows, or 0 if bad. */
static size_t tzif_header(const uint8_t *p, size_t avail, size_t tsize, struct tzif_counts *n)
{
    if (avail < 44 || memcmp(p, "TZif", 4) != 0)
        return 0;
    n->isut = be32(p + 20);
    n->isstd = be32(p + 24);
    n->leap = be32(p + 28);
    n->time = be32(p + 32);
    n->type = be32(p + 36);
    n->chars = be32(p + 40);
    if (n->type == 0 || n->type > 256 || (n->isut != 0 && n->isut != n->type) ||
        (n->isstd != 0 && n->isstd != n->type) || n->time > 100000 || n->chars > 65536 ||
        n->leap > 10000)
        return 0;
    return (size_t)n->time * tsize + n->time + (size_t)n->type * 6 + n->chars +
           (size_t)n->leap * (tsize + 4) + n->isstd + n->isut;
}

static int tzif_block(struct cat_tz *tz, const uint8_t *p, size_t tsize,
                      const struct tzif_counts *n)
{
    const uint8_t *idx = p + (size_t)n->time * tsize;
    const uint8_t *types = idx + n->time;

    if (n->leap)
        return -ENOTSUP;
    tz->n_types = n->type;
    for (uint32_t i = 0; i < n->type; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);

        if (off < TZ_UTOFF_MIN || off > TZ_UTOFF_MAX || types[6 * i + 4] > 1 ||
            types[6 * i + 5] >= n->chars)
            return -EBADMSG;
        tz->types[i].utoff = off;
        tz->types[i].isdst = types[6 * i + 4];
    }
    if (n->time) {
        tz->trans = calloc(n->time, sizeof(*tz->trans));
        tz->trans_type = calloc(n->time, 1);
        if (!tz->trans || !tz->trans_type)
            return -ENOMEM;
    }
    tz->n_trans = n->time;
    for (uint32_t i = 0; i < n->time; i++) {
        tz->trans[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
        tz->trans_type[i] = idx[i];
        if (idx[i] >= n->type || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
            return -EBADMSG;
    }
    return 0;
}

int cat_tz_parse(const void *data, size_t len, const char *name, struct cat_tz **out)
{
    const uint8_t *p = data;
    struct tzif_counts n;
    struct cat_tz *tz;
    size_t blk, off;
    int rc;

    *out = NULL;
    blk = tzif_header(p, len, 4, &n);
    if (blk == 0 || len - 44 < blk)
        return -EBADMSG;
    if (p[4] != 0 && (p[4] < '2' || p[4] > '4'))
        return -EBADMSG;
    tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    cat_copy(tz->name, sizeof(tz->name), name ? name : "");
    if (p[4] == 0) {
        /* Version 1: 32-bit times only, no footer. */
        rc = tzif_block(tz, p + 44, 4, &n);
        goto out;
    }
    /* Version 2+: skip the 32-bit section, read the 64-bit one and the footer after it. */
    off = 44 + blk;
    blk = tzif_header(p + off, len - off, 8, &n);
    if (blk == 0 || len - off - 44 < blk) {
        rc = -EBADMSG;
        goto out;
    }
    rc = tzif_block(tz, p + off + 44, 8, &n);
    if (rc < 0)
        goto out;
    off += 44 + blk;
    {
        const char *f = (const char *)p + off;
        const char *nl;

        if (off >= len || f[0] != '\n') {
            rc = -EBADMSG;
            goto out;
        }
        nl = memchr(f + 1, '\n', len - off - 1);
        if (!nl) {
            rc = -EBADMSG;
            goto out;
        }
        rc = parse_footer(f + 1, (size_t)(nl - f - 1), &tz->footer);
    }
out:
    if (rc < 0) {
        cat_tz_free(tz);
        return rc;
    }
    *out = tz;
    return 0;
}

/* An IANA name becomes a path under the zoneinfo directory, so it must not climb out of it. */
static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= 64 || name[0] == '/' || strstr(name, "..") || strstr(name, "//"))
        return false;
    for (const char *p = name; *p; p++) {
        if (!(is_alpha(*p) || is_digit(*p) || *p == '/' || *p == '_' || *p == '+' || *p == '-'))
            return false;
    }
    return true;
}

int cat_tz_load_dir(const char *dir, const char *name, struct cat_tz **out)
{
    char path[512];
    char *buf = NULL;
    size_t len;
    int rc;

    *out = NULL;
    if (!name || !zone_name_ok(name))
        return -EINVAL;
    if (!dir)
        dir = CAT_ZONEINFO_DIR;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -EINVAL;
    rc = cat_read_file(path, TZ_FILE_MAX, &buf, &len);
    if (rc == -EINVAL || rc == -EISDIR)
        rc = -ENOENT; /* a directory such as "Africa" is not a zone */
    if (rc < 0)
        return rc;
    rc = cat_tz_parse(buf, len, name, out);
    free(buf);
    return rc;
}

int cat_tz_load(const char *name, struct cat_tz **out)
{
    return cat_tz_load_dir(CAT_ZONEINFO_DIR, name, out);
}

void cat_tz_free(struct cat_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz);
}

const char *cat_tz_name(const struct cat_tz *tz)
{
    return tz->name;
}

/* ---------------------------------------------------------------- conversions */

/* The index of the last transition at or before t (t >= trans[0]). */
static size_t trans_at(const struct cat_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n_trans;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int32_t cat_tz_utc_offset(const struct cat_tz *tz, int64_t t)
{
    /* The footer rule does date arithmetic on t; keep it within years 1..9999 so nothing
     * overflows for absurd instants (the answer there is the rule's anyway). */
    if (t < T_MIN)
        t = T_MIN;
    if (t > T_MAX)
        t = T_MAX;
    if (tz->n_trans == 0)
        return tz->footer.present ? footer_offset(&tz->footer, t) : tz->types[0].utoff;
    if (t < tz->trans[0])
        return tz->types[0].utoff;
    if (t >= tz->trans[tz->n_trans - 1] && tz->footer.present)
        return footer_offset(&tz->footer, t);
    return tz->types[tz->trans_type[trans_at(tz, t)]].utoff;
}

/* The footer rule's span around t: within the local standard-time year of t the offset changes
 * only at the rule's two instants, so the span runs between the nearest of {year start, start
 * instant, end instant, next year start} on either side. */
static int32_t footer_span(const struct tz_footer *f, int64_t t, int64_t *from, int64_t *until)
{
    int64_t y, b[4];
    int m, d;

    cat_civil_from_days(cat_floordiv(t + f->std_off, 86400), &y, &m, &d);
    b[0] = cat_days_from_civil(y, 1, 1) * 86400 - f->std_off;
    b[1] = cat_days_from_civil(y + 1, 1, 1) * 86400 - f->std_off;
    b[2] = f->has_dst ? rule_instant(&f->start, y, f->std_off) : b[0];
    b[3] = f->has_dst ? rule_instant(&f->end, y, f->dst_off) : b[0];
    *from = b[0];
    *until = b[1];
    for (int i = 2; i < 4; i++) {
        if (b[i] <= t && b[i] > *from)
            *from = b[i];
        if (b[i] > t && b[i] < *until)
            *until = b[i];
    }
    return footer_offset(f, t);
}

int32_t cat_tz_utc_offset_span(const struct cat_tz *tz, int64_t t, int64_t *from, int64_t *until)
{
    size_t lo;
    int32_t off;

    if (t <= T_MIN || t >= T_MAX) {
        /* clamped by cat_tz_utc_offset: no span worth remembering */
        *from = t;
        *until = t + 1;
        return cat_tz_utc_offset(tz, t);
    }
    if (tz->n_trans == 0) {
        if (tz->footer.present)
            return footer_span(&tz->footer, t, from, until);
        *from = T_MIN;
        *until = T_MAX;
        return tz->types[0].utoff;
    }
    if (t < tz->trans[0]) {
        *from = T_MIN;
        *until = tz->trans[0];
        return tz->types[0].utoff;
    }
    if (t >= tz->trans[tz->n_trans - 1] && tz->footer.present) {
        off = footer_span(&tz->footer, t, from, until);
        if (*from < tz->trans[tz->n_trans - 1])
            *from = tz->trans[tz->n_trans - 1];
        return off;
    }
    lo = trans_at(tz, t);
    *from = tz->trans[lo];
    if (lo + 1 < tz->n_trans)
        *until = tz->trans[lo + 1];
    else
        *until = T_MAX; /* no footer: the last type holds for ever */
    return tz->types[tz->trans_type[lo]].utoff;
}

bool cat_tz_same(const struct cat_tz *a, const struct cat_tz *b)
{
    if (strcmp(a->name, b->name) != 0 || a->n_trans != b->n_trans || a->n_types != b->n_types ||
        memcmp(&a->footer, &b->footer, sizeof(a->footer)) != 0)
        return false;
    for (unsigned i = 0; i < a->n_types; i++)
        if (a->types[i].utoff != b->types[i].utoff || a->types[i].isdst != b->types[i].isdst)
            return false;
    return a->n_trans == 0 || (memcmp(a->trans, b->trans, a->n_trans * sizeof(*a->trans)) == 0 &&
                               memcmp(a->trans_type, b->trans_type, a->n_trans) == 0);
}

int cat_tz_localtime(const struct cat_tz *tz, int64_t t, struct cat_tm *out)
{
    int32_t off;
    int64_t local, days, y, sod;
    int m, d;

    if (t < T_MIN || t > T_MAX)
        return -ERANGE;
    off = cat_tz_utc_offset(tz, t);
    local = t + off;
    days = cat_floordiv(local, 86400);
    sod = local - days * 86400;
    cat_civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX)
        return -ERANGE;
    out->year = (int)y;
    out->mon = m;
    out->day = d;
    out->hour = (int)(sod / 3600);
    out->min = (int)(sod / 60 % 60);
    out->sec = (int)(sod % 60);
    out->wday = (int)(((days + 4) % 7 + 7) % 7);
    out->utc_offset = off;
    return 0;
}

int32_t cat_tz_local_date(const struct cat_tz *tz, int64_t t)
{
    struct cat_tm tm;

    if (cat_tz_localtime(tz, t, &tm) < 0)
        return 0;
    return tm.year * 10000 + tm.mon * 100 + tm.day;
}

/*
 * `local` is the wall-clock time counted as if it were UTC (days since the epoch * 86400 + time of
 * day). Real zones change offset at most once in any two days, so the offsets in force a day
 * before and a day after bracket every candidate: local - o_before and local - o_after, each valid
 * when the zone really has that offset at that instant. Two valid candidates: an overlap; none: a
 * gap, whose end (the transition) is found by bisection. Works the same inside the table and under
 * the footer rule, since only cat_tz_utc_offset() is asked.
 */
int cat_tz_local_secs_to_utc(const struct cat_tz *tz, int64_t local, enum cat_tz_pick pick,
                             int64_t *out, enum cat_tz_fold *fold)
{
    int32_t oa = cat_tz_utc_offset(tz, local - 86400);
    int32_t ob = cat_tz_utc_offset(tz, local + 86400);
    int64_t ta = local - oa, tb = local - ob;
    bool va = cat_tz_utc_offset(tz, ta) == oa;
    bool vb = cat_tz_utc_offset(tz, tb) == ob;
    enum cat_tz_fold how = CAT_TZ_UNIQUE;

    if (va && vb && ta != tb) {
        how = CAT_TZ_OVERLAP;
        *out = (pick == CAT_TZ_EARLIER) == (ta < tb) ? ta : tb;
    } else if (va) {
        *out = ta;
    } else if (vb) {
        *out = tb;
    } else if (oa < ob) {
        /* Gap: tb is before the jump (offset still oa), ta after it. */
        int64_t lo = tb, hi = ta;

        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;

            if (cat_tz_utc_offset(tz, mid) == oa)
                lo = mid;
            else
                hi = mid;
        }
        how = CAT_TZ_GAP;
        *out = hi;
    } else {
        return -ERANGE;
    }
    if (fold)
        *fold = how;
    return 0;
}

int cat_tz_local_to_utc(const struct cat_tz *tz, int year, int mon, int day, int hour, int min,
                        int sec, enum cat_tz_pick pick, int64_t *out, enum cat_tz_fold *fold)
{
    if (year < YEAR_MIN || year > YEAR_MAX || mon < 1 || mon > 12 || day < 1 ||
        day > cat_days_in_month(year, mon) || hour < 0 || hour > 23 || min < 0 || min > 59 ||
        sec < 0 || sec > 59)
        return -EINVAL;
    return cat_tz_local_secs_to_utc(
        tz, cat_days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec, pick, out,
        fold);
}

const char *cat_tz_format_local(const struct cat_tz *tz, int64_t t, char *buf, size_t len)
{
    struct cat_tm tm;

    if (len == 0)
        return buf;
    if (cat_tz_localtime(tz, t, &tm) < 0)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.year, tm.mon, tm.day, tm.hour, tm.min);
    return buf;
}
