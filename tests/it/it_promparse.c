/*
 * it_promparse.c - a strict parser of the Prometheus text exposition format 0.0.4, for the
 * integration tests (Debian 12's promtool is not installed on CI). Reads an exposition on stdin;
 * exit 0 and one "series value" line per sample on stdout when it is valid, exit 1 and the first
 * problem (with its line number) on stderr when not.
 *
 * Checked, as the format and promtool's `check metrics` lint require:
 *   - every line ends with \n; # HELP / # TYPE with a valid metric name, each at most once per
 *     family, TYPE before the family's first sample; other # lines are comments
 *   - metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with
 *     "__", label values with only the escapes \\ \" \n, no label twice in one sample
 *   - values: a float (strtod takes it all), +Inf, -Inf or NaN; an optional integer timestamp
 *   - a family's samples are contiguous; no series twice
 *   - counters: the family name ends in _total, values are >= 0
 *   - histograms: _bucket lines with an le label, le ascending, counts non-decreasing, a +Inf
 *     bucket equal to _count, and a _sum, for each label set
 *   - every sample belongs to a family with a TYPE (we always declare one)
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAMILIES 512
#define MAX_SERIES 8192
#define LINE_MAX_LEN 8192

struct family {
    char name[256];
    char type[16];
    bool help, typed, closed, has_samples;
};

static struct family fams[MAX_FAMILIES];
static int n_fams;
static char *series[MAX_SERIES];
static int n_series;
static int lineno;

/* histogram state of the current label set */
static char h_key[LINE_MAX_LEN];
static double h_last_le, h_last_count, h_inf;
static bool h_has_inf, h_has_sum, h_has_count, h_open;
static double h_count;

static void die(const char *what, const char *line)
{
    fprintf(stderr, "line %d: %s%s%.200s\n", lineno, what, line ? ": " : "", line ? line : "");
    exit(1);
}

static bool name_ok(const char *s, size_t n, bool colon)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
              (i > 0 && isdigit((unsigned char)c))))
            return false;
    }
    return true;
}

static struct family *fam_find(const char *name)
{
    for (int i = 0; i < n_fams; i++) {
        if (strcmp(fams[i].name, name) == 0)
            return &fams[i];
    }
    return NULL;
}

static struct family *fam_get(const char *name)
{
    struct family *f = fam_find(name);

    if (f)
        return f;
    if (n_fams == MAX_FAMILIES)
        die("too many families", NULL);
    f = &fams[n_fams++];
    snprintf(f->name, sizeof(f->name), "%s", name);
    return f;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static double parse_value(const char *s, const char *line)
{
    char *end;
    double v;

    if (strcmp(s, "+Inf") == 0)
        return INFINITY;
    if (strcmp(s, "-Inf") == 0)
        return -INFINITY;
    if (strcmp(s, "NaN") == 0)
        return NAN;
    if (!*s || isspace((unsigned char)*s))
        die("missing value", line);
    v = strtod(s, &end);
    if (*end || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
        die("bad value", line);
    return v;
}

static void hist_close(const char *line)
{
    if (!h_open)
        return;
    if (!h_has_inf)
        die("histogram without a +Inf bucket", h_key);
    if (!h_has_sum || !h_has_count)
        die("histogram without _sum or _count", h_key);
    if (h_inf != h_count)
        die("histogram +Inf bucket differs from _count", h_key);
    (void)line;
    h_open = false;
}

static void current_family_switch(struct family *f, const char *line)
{
    static struct family *cur;

    if (cur == f)
        return;
    if (cur) {
        cur->closed = true;
        hist_close(line);
    }
    if (f->closed)
        die("samples of a family are not contiguous", line);
    cur = f;
}

static void sample(char *line)
{
    char name[256], labels[LINE_MAX_LEN] = "", le[64] = "", key[LINE_MAX_LEN + 300];
    char nole[LINE_MAX_LEN] = ""; /* the labels without le: one histogram's identity */
    size_t nlo = 0;
    char seen[32][128];
    int n_seen = 0;
    char *p = line, *q;
    size_t n;
    double v;

    n = strcspn(p, "{ ");
    if (n >= sizeof(name) || !name_ok(p, n, true))
        die("bad metric name", line);
    memcpy(name, p, n);
    name[n] = '\0';
    p += n;
    if (*p == '{') {
        size_t lo = 0;
        p++;
        while (*p != '}') {
            n = strcspn(p, "=");
            if (!p[n] || !name_ok(p, n, false) || (n >= 2 && p[0] == '_' && p[1] == '_') ||
                n >= sizeof(seen[0]))
                die("bad label name", line);
            for (int i = 0; i < n_seen; i++) {
                if (strlen(seen[i]) == n && strncmp(seen[i], p, n) == 0)
                    die("label given twice", line);
            }
            if (n_seen < 32) {
                memcpy(seen[n_seen], p, n);
                seen[n_seen++][n] = '\0';
            }
            bool is_le = n == 2 && strncmp(p, "le", 2) == 0;
            size_t lstart = lo;
            lo += (size_t)snprintf(labels + lo, sizeof(labels) - lo, "%s%.*s=\"", lo ? "," : "",
                                   (int)n, p);
            p += n + 1;
            if (*p != '"')
                die("label value not quoted", line);
            p++;
            size_t vstart = lo;
            while (*p != '"') {
                if (!*p)
                    die("unterminated label value", line);
                if (*p == '\\') {
                    if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                        die("bad escape in label value", line);
                    labels[lo++] = *p++;
                }
                if (lo + 4 >= sizeof(labels))
                    die("labels too long", line);
                labels[lo++] = *p++;
            }
            if (is_le)
                snprintf(le, sizeof(le), "%.*s", (int)(lo - vstart), labels + vstart);
            labels[lo++] = '"';
            labels[lo] = '\0';
            if (!is_le) {
                const char *piece = labels + lstart + (lstart ? 1 : 0);
                nlo +=
                    (size_t)snprintf(nole + nlo, sizeof(nole) - nlo, "%s%s", nlo ? "," : "", piece);
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                die("expected , or } after a label", line);
        }
        p++;
    }
    if (*p != ' ')
        die("expected one space before the value", line);
    p++;
    q = strchr(p, ' ');
    if (q) { /* timestamp */
        *q = '\0';
        for (char *t = q + 1 + (q[1] == '-'); *t; t++) {
            if (!isdigit((unsigned char)*t))
                die("bad timestamp", line);
        }
    }
    v = parse_value(p, line);

    /* which family: the name itself, or a histogram's base name */
    struct family *f = fam_find(name);
    const char *suffix = NULL;
    if (!f) {
        static const char *const sfx[] = {"_bucket", "_sum", "_count"};
        for (int i = 0; i < 3 && !f; i++) {
            if (ends_with(name, sfx[i])) {
                char base[256];
                snprintf(base, sizeof(base), "%.*s", (int)(strlen(name) - strlen(sfx[i])), name);
                f = fam_find(base);
                if (f && strcmp(f->type, "histogram") == 0)
                    suffix = sfx[i];
                else
                    f = NULL;
            }
        }
    }
    if (!f || !f->typed)
        die("sample without a # TYPE for its family", line);
    current_family_switch(f, line);
    f->has_samples = true;
    if (strcmp(f->type, "counter") == 0 && !(v >= 0))
        die("negative or NaN counter", line);
    if (strcmp(f->type, "histogram") == 0) {
        if (!suffix)
            die("histogram sample without _bucket/_sum/_count", line);
        /* the label set without le identifies one histogram */
        if (strcmp(suffix, "_bucket") == 0 && !le[0])
            die("bucket without le", line);
        if (strcmp(suffix, "_bucket") != 0 && le[0])
            die("le on a histogram's _sum or _count", line);
        if (!h_open || strcmp(nole, h_key) != 0) {
            hist_close(line);
            if (strcmp(suffix, "_bucket") != 0)
                die("histogram _sum/_count before its buckets", line);
            snprintf(h_key, sizeof(h_key), "%s", nole);
            h_open = true;
            h_has_inf = h_has_sum = h_has_count = false;
            h_last_le = -INFINITY;
            h_last_count = 0;
        }
        if (strcmp(suffix, "_bucket") == 0) {
            if (h_has_inf || h_has_sum || h_has_count)
                die("bucket after +Inf, _sum or _count", line);
            double b = parse_value(le, line);
            if (!(b > h_last_le))
                die("le not ascending", line);
            if (v < h_last_count)
                die("bucket counts not cumulative", line);
            h_last_le = b;
            h_last_count = v;
            if (isinf(b)) {
                h_has_inf = true;
                h_inf = v;
            }
        } else if (strcmp(suffix, "_sum") == 0) {
            h_has_sum = true;
        } else {
            h_has_count = true;
            h_count = v;
        }
    }
    snprintf(key, sizeof(key), "%s%s%s%s", name, labels[0] ? "{" : "", labels,
             labels[0] ? "}" : "");
    for (int i = 0; i < n_series; i++) {
        if (strcmp(series[i], key) == 0)
            die("series given twice", line);
    }
    if (n_series == MAX_SERIES)
        die("too many series", NULL);
    series[n_series++] = strdup(key);
    printf("%s %s\n", key, p);
}

static void comment(char *line)
{
    char kind[8], name[256];
    int off = 0;

    if (sscanf(line, "# %7s %255s %n", kind, name, &off) < 2 ||
        (strcmp(kind, "HELP") != 0 && strcmp(kind, "TYPE") != 0))
        return; /* a plain comment */
    if (!name_ok(name, strlen(name), true))
        die("bad metric name in # line", line);
    struct family *f = fam_get(name);
    if (strcmp(kind, "HELP") == 0) {
        if (f->help)
            die("second # HELP", line);
        for (const char *p = line + off; *p; p++) {
            if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
                die("bad escape in # HELP", line);
            if (*p == '\\')
                p++;
        }
        f->help = true;
        return;
    }
    if (f->typed)
        die("second # TYPE", line);
    if (f->has_samples)
        die("# TYPE after samples", line);
    const char *t = line + off;
    if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") &&
        strcmp(t, "summary") && strcmp(t, "untyped"))
        die("unknown type", line);
    if (strcmp(t, "counter") == 0 && !ends_with(name, "_total"))
        die("counter name does not end in _total", line);
    snprintf(f->type, sizeof(f->type), "%s", t);
    f->typed = true;
}

int main(void)
{
    static char line[LINE_MAX_LEN];

    while (fgets(line, sizeof(line), stdin)) {
        size_t n = strlen(line);
        lineno++;
        if (n == 0 || line[n - 1] != '\n')
            die("line too long or without a final newline", NULL);
        line[n - 1] = '\0';
        if (line[0] == '\0')
            continue; /* empty lines are allowed */
        if (line[0] == '#')
            comment(line);
        else
            sample(line);
    }
    hist_close(NULL);
    if (n_series == 0)
        die("no samples", NULL);
    return 0;
}
