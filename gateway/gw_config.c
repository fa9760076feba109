/*
 * gw_config.c - loyaltygw's JSON configuration (jansson). Every key is one row of `keys` (or of
 * an element table for array members: seasons, promotions, tiers, rates) with its type, bounds,
 * default and place in struct gw_config, Redis config.c style; loading, validation and
 * --print-config all walk the same rows, so a key cannot be loaded but not printed, or bounded
 * in one place and not the other. Unknown keys are errors naming their full path. Keys starting
 * with "//" are comments (JSON has none) and are skipped everywhere.
 *
 * Defaults: a row's `def` is JSON text applied by gw_config_defaults(); NULL means the value comes
 * from the owning module's _defaults() (smpp, redis, ledger, events, loyalty), which run first.
 *
 * Local dates in the loyalty table ("2026-07-01") are converted with the catalog's zone reader
 * (cat_tz_local_to_utc), the code the gift-day calendar and the console use, with the calendar's
 * policy (catalog.h): a "from" in a repeated hour is its earlier instant, a "to" its later one; a
 * time the clocks skip moves to the jump. (mktime() under a switched TZ used to do this: it read a
 * skipped 02:30 as 01:30, before the jump - found by tests/unit/test_date_sweeps.c.)
 *
 * Ownership: gw_config_load() fills the caller's struct only on success (it works on a heap
 * copy); nothing returned points into jansson objects.
 */
#include "gw_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "gw_core.h"
#include "gw_metrics.h"
#include "gw_zone.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
/* events.max_amount ceiling: a billion units keeps every earning product far from overflow */
#define AMOUNT_CEILING_MILLI (INT64_C(1000000000) * 1000)
/* Lifetime points are compared in Lua doubles: exact below 2^53. */
#define POINTS_MAX (INT64_C(1) << 53)
#define PATH_LEN 160

enum key_type { KT_INT, KT_UINT, KT_STRING, KT_BOOL, KT_DOUBLE, KT_ENUM, KT_SPECIAL };

#define KF_SECRET 1u   /* printed as "***" */
#define KF_REQUIRED 2u /* element tables: the member must give it */

struct load_ctx {
    struct gw_config *cfg;
    const char *file;   /* file being read, for messages ("" in validate) */
    char dir[PATH_MAX]; /* directory of the main file: "loyalty": "x.json" is relative to it */
    char *err;
    size_t errlen;
};

struct key_def;
/* Loads a KT_SPECIAL value (an array or object, or a value with its own syntax) at base. */
typedef int (*key_load_fn)(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                           void *base);
/* Returns a new JSON value of the effective setting, for --print-config. */
typedef json_t *(*key_dump_fn)(const void *base);

struct key_def {
    const char *name; /* main table: full path "smpp.window"; element tables: "from" */
    enum key_type type;
    size_t off, size;                   /* member of the base struct */
    int64_t min, max;                   /* numbers: value bounds; strings: min = shortest length */
    int64_t scale;                      /* stored = JSON value x scale (days -> seconds); 0 = 1 */
    const char *const *names;           /* KT_ENUM: value i is names[i], NULL-terminated */
    const char *(*check)(const char *); /* KT_STRING: why the value is invalid, or NULL */
    const char *def; /* default as JSON text; NULL = the owning module's default */
    unsigned flags;
    key_load_fn load; /* KT_SPECIAL */
    key_dump_fn dump;
};

#define MEMBER(S, m) .off = offsetof(S, m), .size = sizeof(((S *)0)->m)
#define C_(m) MEMBER(struct gw_config, m)

/* one row per key reads as a table: */
/* clang-format off */
#define K_UINT(path, S, m, lo, hi, d)                                                              \
    {.name = path, .type = KT_UINT, MEMBER(S, m), .min = lo, .max = hi, .def = d}
#define K_INT(path, S, m, lo, hi, d)                                                               \
    {.name = path, .type = KT_INT, MEMBER(S, m), .min = lo, .max = hi, .def = d}
#define K_STR(path, S, m, minlen, chk, d)                                                          \
    {.name = path, .type = KT_STRING, MEMBER(S, m), .min = minlen, .check = chk, .def = d}
#define K_SPECIAL(path, loadfn, dumpfn)                                                            \
    {.name = path, .type = KT_SPECIAL, .load = loadfn, .dump = dumpfn}

/* clang-format on */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4))) static int fail(struct load_ctx *c, const char *path,
                                                      const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s%s%s: %s", c->file ? c->file : "",
                 c->file && c->file[0] ? ": " : "", path, msg);
    return -EINVAL;
}

static bool is_comment(const char *key)
{
    return strncmp(key, "//", 2) == 0;
}

/* ---------------------------------------------------------------- string checks */

static const char *check_currency(const char *s)
{
    if (strlen(s) != 3)
        return "an ISO 4217 code of 3 capital letters";
    for (int i = 0; i < 3; i++) {
        if (s[i] < 'A' || s[i] > 'Z')
            return "an ISO 4217 code of 3 capital letters";
    }
    return NULL;
}

static const char *check_level(const char *s)
{
    enum gw_log_level lvl;

    return gw_log_level_parse(s, &lvl) == 0 ? NULL : "one of debug, info, notice, error";
}

static const char *check_log_format(const char *s)
{
    return strcmp(s, "text") == 0 || strcmp(s, "json") == 0 ? NULL : "one of text, json";
}

static const char *check_log_output(const char *s)
{
    return strcmp(s, "stderr") == 0 || strcmp(s, "syslog") == 0 || strcmp(s, "journal") == 0
               ? NULL
               : "one of stderr, syslog, journal";
}

/* metrics.listen: "" (off) or host:port, the form gw_obs_http_new takes */
static const char *check_listen(const char *s)
{
    char host[256];
    uint16_t port;

    return s[0] == '\0' || gw_obs_parse_listen(s, host, sizeof(host), &port) == 0
               ? NULL
               : "\"host:port\" (\"127.0.0.1:9464\", \"[::1]:9464\") or \"\" for off";
}

static const char *check_channel(const char *s)
{
    return s[0] == '\0' || gw_event_channel_known(s)
               ? NULL
               : "one of voucher, card, bank, wallet, transfer (or \"\" for any)";
}

/*
 * An IANA zone name is used as a path under /usr/share/zoneinfo (glibc does the same with TZ), so
 * it must not climb out of it; and it must name a compiled zone (TZif), not zone.tab or a
 * directory: glibc silently falls back to UTC for a zone it cannot read.
 */
static const char *check_timezone(const char *s)
{
    char path[sizeof(ZONEINFO_DIR) + 64];
    char magic[4];
    struct stat st;
    ssize_t got;
    int fd;

    if (s[0] == '\0')
        return "must not be empty";
    if (s[0] == '/' || strstr(s, ".."))
        return "an IANA zone name (\"Africa/Casablanca\"), not a path";
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '+' || *p == '-'))
            return "an IANA zone name (\"Africa/Casablanca\")";
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, s) >= sizeof(path))
        return "too long";
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return "no such zone in " ZONEINFO_DIR;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "zone file not readable";
    got = read(fd, magic, sizeof(magic));
    close(fd);
    if (got != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
        return "not a compiled zone file";
    return NULL;
}

static bool is_printable(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- integers by width */

static void store_int(void *p, size_t size, int64_t v)
{
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(p, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static int64_t read_int(const void *p, size_t size, bool is_signed)
{
    switch (size) {
    case 1: {
        uint8_t x;
        memcpy(&x, p, 1);
        return is_signed ? (int8_t)x : x;
    }
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        return is_signed ? (int16_t)x : x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        return is_signed ? (int64_t)(int32_t)x : (int64_t)x;
    }
    default: {
        int64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    }
}

/* ---------------------------------------------------------------- generic scalar handling */

static int set_value(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                     void *base)
{
    char *dst = (char *)base + k->off;
    int64_t scale = k->scale ? k->scale : 1;

    switch (k->type) {
    case KT_INT:
    case KT_UINT: {
        json_int_t x;

        if (!json_is_integer(v))
            return fail(c, path, "expected an integer");
        x = json_integer_value(v);
        if (x < k->min)
            return fail(c, path, "%lld is below the minimum %" PRId64, (long long)x, k->min);
        if (x > k->max)
            return fail(c, path, "%lld is above the maximum %" PRId64, (long long)x, k->max);
        store_int(dst, k->size, (int64_t)x * scale);
        return 0;
    }
    case KT_DOUBLE: {
        double x;

        if (!json_is_number(v))
            return fail(c, path, "expected a number");
        x = json_number_value(v);
        if (isnan(x) || x < (double)k->min)
            return fail(c, path, "%g is below the minimum %" PRId64, x, k->min);
        if (x > (double)k->max)
            return fail(c, path, "%g is above the maximum %" PRId64, x, k->max);
        memcpy(dst, &x, sizeof(x));
        return 0;
    }
    case KT_BOOL: {
        bool x;

        if (!json_is_boolean(v))
            return fail(c, path, "expected true or false");
        x = json_is_true(v);
        memcpy(dst, &x, sizeof(x));
        return 0;
    }
    case KT_ENUM:
        if (json_is_string(v)) {
            for (int i = 0; k->names[i]; i++) {
                if (strcmp(json_string_value(v), k->names[i]) == 0) {
                    store_int(dst, k->size, i);
                    return 0;
                }
            }
        }
        return fail(c, path, "expected one of \"%s\", \"%s\"", k->names[0], k->names[1]);
    case KT_STRING: {
        const char *s, *why;
        size_t len;

        if (!json_is_string(v))
            return fail(c, path, "expected a string");
        s = json_string_value(v);
        len = json_string_length(v);
        /* jansson refuses \u0000 by default; checked anyway since the copy relies on it */
        if (strlen(s) != len)
            return fail(c, path, "contains a NUL character");
        if (len > k->size - 1)
            return fail(c, path, "%zu characters, more than the maximum %zu", len, k->size - 1);
        if ((int64_t)len < k->min)
            return fail(c, path, "must not be empty");
        if (!is_printable(s))
            return fail(c, path, "control or non-ASCII characters are not allowed");
        if (k->check && (why = k->check(s)) != NULL)
            return fail(c, path, "\"%s\": %s", s, why);
        memcpy(dst, s, len + 1);
        return 0;
    }
    case KT_SPECIAL:
        return k->load(c, k, v, path, base);
    }
    return fail(c, path, "internal: unknown key type");
}

static json_t *dump_value(const struct key_def *k, const void *base)
{
    const char *src = (const char *)base + k->off;
    int64_t scale = k->scale ? k->scale : 1;

    switch (k->type) {
    case KT_INT:
        return json_integer(read_int(src, k->size, true) / scale);
    case KT_UINT:
        return json_integer(read_int(src, k->size, false) / scale);
    case KT_DOUBLE: {
        double x;

        memcpy(&x, src, sizeof(x));
        return json_real(x);
    }
    case KT_BOOL: {
        bool x;

        memcpy(&x, src, sizeof(x));
        return json_boolean(x);
    }
    case KT_ENUM: {
        int64_t i = read_int(src, k->size, true);
        int n = 0;

        while (k->names[n])
            n++;
        return json_string(i >= 0 && i < n ? k->names[i] : "?");
    }
    case KT_STRING:
        if (k->flags & KF_SECRET) /* an empty secret hides nothing, and loads back the same */
            return json_string(src[0] ? "***" : "");
        return json_stringn(src, strnlen(src, k->size));
    case KT_SPECIAL:
        return k->dump(base);
    }
    return json_null();
}

/* Checks the value already in base against the row, as set_value would have: this catches a
 * module default that drifted outside the bounds declared here. */
static int check_value(struct load_ctx *c, const struct key_def *k, const void *base)
{
    const char *src = (const char *)base + k->off;
    int64_t scale = k->scale ? k->scale : 1;
    const char *why;

    switch (k->type) {
    case KT_INT:
    case KT_UINT: {
        int64_t x = read_int(src, k->size, k->type == KT_INT) / scale;

        if (x < k->min)
            return fail(c, k->name, "%" PRId64 " is below the minimum %" PRId64, x, k->min);
        if (x > k->max)
            return fail(c, k->name, "%" PRId64 " is above the maximum %" PRId64, x, k->max);
        return 0;
    }
    case KT_DOUBLE: {
        double x;

        memcpy(&x, src, sizeof(x));
        if (isnan(x) || x < (double)k->min || x > (double)k->max)
            return fail(c, k->name, "%g is outside %" PRId64 "..%" PRId64, x, k->min, k->max);
        return 0;
    }
    case KT_STRING: {
        size_t len = strnlen(src, k->size);

        if (len == k->size)
            return fail(c, k->name, "not terminated");
        if ((int64_t)len < k->min)
            return fail(c, k->name, "must not be empty");
        if (k->check && (why = k->check(src)) != NULL)
            return fail(c, k->name, "\"%s\": %s", src, why);
        return 0;
    }
    case KT_ENUM: {
        int64_t x = read_int(src, k->size, true);
        int n = 0;

        while (k->names[n])
            n++;
        if (x < 0 || x >= n)
            return fail(c, k->name, "%" PRId64 " is not a known value", x);
        return 0;
    }
    default:
        return 0;
    }
}

/*
 * Walks a JSON object against a table. Main table rows carry full paths ("smpp.window") and are
 * matched against prefix.key; element tables carry leaf names. Returns the bit set of rows seen
 * through *seen (for required members), 0 or -EINVAL.
 */
static int walk_object(struct load_ctx *c, json_t *obj, const char *prefix,
                       const struct key_def *tab, size_t n, bool full_paths, void *base,
                       uint64_t *seen)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        char path[PATH_LEN];
        size_t i;

        if (is_comment(key))
            continue;
        snprintf(path, sizeof(path), "%s.%s", prefix, key);
        for (i = 0; i < n; i++) {
            if (strcmp(full_paths ? path : key, tab[i].name) == 0)
                break;
        }
        if (i == n)
            return fail(c, path, "unknown key");
        if (seen)
            *seen |= UINT64_C(1) << i;
        int rc = set_value(c, &tab[i], v, path, base);

        if (rc < 0)
            return rc;
    }
    return 0;
}

static int walk_element(struct load_ctx *c, json_t *obj, const char *path,
                        const struct key_def *tab, size_t n, void *base)
{
    uint64_t seen = 0;
    int rc;

    if (!json_is_object(obj))
        return fail(c, path, "expected an object");
    rc = walk_object(c, obj, path, tab, n, false, base, &seen);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((tab[i].flags & KF_REQUIRED) && !(seen & (UINT64_C(1) << i))) {
            char p[PATH_LEN];

            snprintf(p, sizeof(p), "%s.%s", path, tab[i].name);
            return fail(c, p, "missing");
        }
    }
    return 0;
}

static json_t *dump_element(const struct key_def *tab, size_t n, const void *base)
{
    json_t *o = json_object();

    for (size_t i = 0; i < n; i++) {
        json_t *v = dump_value(&tab[i], base);

        if (v)
            json_object_set_new(o, tab[i].name, v);
    }
    return o;
}

/* ---------------------------------------------------------------- events.* specials */

static int load_senders(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                        void *base)
{
    struct gw_config *cfg = base;
    size_t i;
    json_t *e;

    (void)k;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > GW_MAX_SENDERS)
        return fail(c, path, "expected an array of 1 to %d strings", GW_MAX_SENDERS);
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN];
        const char *s = json_string_value(e);

        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        /* source_addr is a C-octet string of at most 20 characters (SMPP 3.4 5.2.8) */
        if (!s || s[0] == '\0' || strlen(s) > 20 || !is_printable(s))
            return fail(c, p, "expected a source_addr of 1 to 20 printable characters");
        snprintf(cfg->events.senders[i], sizeof(cfg->events.senders[i]), "%s", s);
    }
    cfg->events.n_senders = (unsigned)json_array_size(v);
    return 0;
}

static json_t *dump_senders(const void *base)
{
    const struct gw_config *cfg = base;
    json_t *a = json_array();

    for (unsigned i = 0; i < cfg->events.n_senders && i < GW_MAX_SENDERS; i++)
        json_array_append_new(a, json_string(cfg->events.senders[i]));
    return a;
}

static int load_prefixes(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                         void *base)
{
    struct gw_event_limits *lim = &((struct gw_config *)base)->events.limits;
    size_t i;
    json_t *e;

    (void)k;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > GW_MAX_PREFIXES)
        return fail(c, path, "expected an array of 1 to %d strings", GW_MAX_PREFIXES);
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN];
        const char *s = json_string_value(e);
        size_t len = s ? strlen(s) : 0;

        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        if (len == 0 || len >= sizeof(lim->country_prefixes[i]) || strspn(s, "0123456789") != len)
            return fail(c, p, "expected a country prefix of 1 to %zu digits",
                        sizeof(lim->country_prefixes[i]) - 1);
        memcpy(lim->country_prefixes[i], s, len + 1);
    }
    lim->n_prefixes = (unsigned)json_array_size(v);
    return 0;
}

static json_t *dump_prefixes(const void *base)
{
    const struct gw_event_limits *lim = &((const struct gw_config *)base)->events.limits;
    json_t *a = json_array();

    for (unsigned i = 0; i < lim->n_prefixes && i < GW_MAX_PREFIXES; i++)
        json_array_append_new(a, json_string(lim->country_prefixes[i]));
    return a;
}

/* ---------------------------------------------------------------- redis.cluster_nodes, sentinels */

/* Seeds of a Redis Cluster, "host:port" each; [] (the default) = the single Redis of redis.host /
 * redis.port / redis.unix_socket. redis.sentinels: the same syntax, the sentinels to ask. */
static int load_addr_list(struct load_ctx *c, json_t *v, const char *path,
                          char (*out)[GW_REDIS_ADDR_LEN], unsigned *n_out)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > GW_REDIS_MAX_SEEDS)
        return fail(c, path, "expected an array of at most %d \"host:port\" strings",
                    GW_REDIS_MAX_SEEDS);
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN], host[256];
        uint16_t port;
        const char *s = json_string_value(e);

        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        if (!s || strlen(s) >= GW_REDIS_ADDR_LEN ||
            gw_redis_parse_addr(s, host, sizeof(host), &port) < 0)
            return fail(c, p, "expected \"host:port\" (port 1 to 65535)");
        snprintf(out[i], sizeof(out[i]), "%s", s);
    }
    *n_out = (unsigned)json_array_size(v);
    return 0;
}

static json_t *dump_addr_list(const char (*list)[GW_REDIS_ADDR_LEN], unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < n && i < GW_REDIS_MAX_SEEDS; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

static int load_cluster_nodes(struct load_ctx *c, const struct key_def *k, json_t *v,
                              const char *path, void *base)
{
    struct gw_redis_config *rc = &((struct gw_config *)base)->redis;

    (void)k;
    return load_addr_list(c, v, path, rc->cluster_nodes, &rc->n_cluster_nodes);
}

static json_t *dump_cluster_nodes(const void *base)
{
    const struct gw_redis_config *rc = &((const struct gw_config *)base)->redis;

    return dump_addr_list((const char(*)[GW_REDIS_ADDR_LEN])rc->cluster_nodes,
                          rc->n_cluster_nodes);
}

static int load_sentinels(struct load_ctx *c, const struct key_def *k, json_t *v,
                          const char *path, void *base)
{
    struct gw_redis_config *rc = &((struct gw_config *)base)->redis;

    (void)k;
    return load_addr_list(c, v, path, rc->sentinels, &rc->n_sentinels);
}

static json_t *dump_sentinels(const void *base)
{
    const struct gw_redis_config *rc = &((const struct gw_config *)base)->redis;

    return dump_addr_list((const char(*)[GW_REDIS_ADDR_LEN])rc->sentinels, rc->n_sentinels);
}

/* The Redis password comes from redis.password_file or LGW_REDIS_PASSWORD (the environment wins),
 * read after the whole file so the order of keys does not matter; never from a command line. */
static int load_redis_password(struct load_ctx *c, struct gw_config *cfg)
{
    const char *env = getenv("LGW_REDIS_PASSWORD");
    int rc;

    if (cfg->redis_password_file[0]) {
        char path[PATH_MAX];

        if (cfg->redis_password_file[0] == '/')
            rc = snprintf(path, sizeof(path), "%s", cfg->redis_password_file);
        else
            rc = snprintf(path, sizeof(path), "%s/%s", c->dir, cfg->redis_password_file);
        if (rc < 0 || (size_t)rc >= sizeof(path))
            return fail(c, "redis.password_file", "file name too long");
        rc = gw_redis_read_password_file(path, cfg->redis.password, sizeof(cfg->redis.password));
        if (rc == -EINVAL)
            return fail(c, "redis.password_file", "%s: the first line must hold the password "
                        "(1 to %zu characters)", path, sizeof(cfg->redis.password) - 1);
        if (rc < 0)
            return fail(c, "redis.password_file", "%s: %s", path, strerror(-rc));
    }
    if (env && env[0]) {
        size_t n = strlen(env);

        if (n >= sizeof(cfg->redis.password) || !is_printable(env))
            return fail(c, "LGW_REDIS_PASSWORD", "1 to %zu printable ASCII characters",
                        sizeof(cfg->redis.password) - 1);
        memcpy(cfg->redis.password, env, n + 1);
    }
    return 0;
}

/* Money is never a binary float (spec "Field rules"): a decimal string, or a JSON integer. */
static int load_max_amount(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                           void *base)
{
    struct gw_event_limits *lim = &((struct gw_config *)base)->events.limits;
    char ceiling[32];
    const char *reason = "";
    int64_t milli;

    (void)k;
    gw_milli_to_text(AMOUNT_CEILING_MILLI, ceiling, sizeof(ceiling));
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);

        if (x <= 0)
            return fail(c, path, "must be greater than 0");
        if (x > AMOUNT_CEILING_MILLI / 1000)
            return fail(c, path, "%lld is above the maximum %s", (long long)x, ceiling);
        lim->max_amount_milli = (int64_t)x * 1000;
        return 0;
    }
    if (json_is_real(v))
        return fail(c, path,
                    "write a fractional amount as a string (\"100000.5\"), never as a "
                    "binary floating-point number");
    if (!json_is_string(v))
        return fail(c, path, "expected a decimal string such as \"100000\"");
    int rc = gw_parse_amount_milli(json_string_value(v), json_string_length(v),
                                   AMOUNT_CEILING_MILLI, &milli, &reason);

    if (rc == -ERANGE)
        return fail(c, path, "above the maximum %s", ceiling);
    if (rc < 0)
        return fail(c, path, "%s", reason);
    lim->max_amount_milli = milli;
    return 0;
}

static json_t *dump_max_amount(const void *base)
{
    char buf[32];

    return json_string(gw_milli_to_text(
        ((const struct gw_config *)base)->events.limits.max_amount_milli, buf, sizeof(buf)));
}

/* kind_names / key_names: {"<spec name>": "<carrier's name>"}, only the names to change. */
static int load_names(struct load_ctx *c, json_t *v, const char *path, bool kinds,
                      struct gw_event_format *fmt)
{
    struct gw_event_format spec;
    const char *key;
    json_t *e;

    gw_event_format_default(&spec);
    if (!json_is_object(v))
        return fail(c, path, "expected an object");
    json_object_foreach(v, key, e)
    {
        char p[PATH_LEN];
        const char *s = json_string_value(e);
        int idx = -1;

        if (is_comment(key))
            continue;
        snprintf(p, sizeof(p), "%s.%s", path, key);
        for (int i = 0; i < (kinds ? GW_EV__COUNT : GW_F__COUNT); i++) {
            if (strcmp(key, kinds ? spec.kind_names[i] : spec.key_names[i]) == 0)
                idx = i;
        }
        if (idx < 0)
            return fail(c, p,
                        kinds ? "unknown key (kinds: TOPUP, BILL, USAGE, REVERSAL)"
                              : "unknown key (keys: ref, msisdn, amount, currency, at, "
                                "period, orig, channel)");
        if (!s || s[0] == '\0' || strlen(s) >= sizeof(fmt->kind_names[0]))
            return fail(c, p, "expected a name of 1 to %zu characters",
                        sizeof(fmt->kind_names[0]) - 1);
        if (kinds)
            snprintf(fmt->kind_names[idx], sizeof(fmt->kind_names[idx]), "%s", s);
        else
            snprintf(fmt->key_names[idx], sizeof(fmt->key_names[idx]), "%s", s);
    }
    return 0;
}

static int load_kind_names(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                           void *base)
{
    (void)k;
    return load_names(c, v, path, true, &((struct gw_config *)base)->events.format);
}

static int load_key_names(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                          void *base)
{
    (void)k;
    return load_names(c, v, path, false, &((struct gw_config *)base)->events.format);
}

static json_t *dump_kind_names(const void *base)
{
    const struct gw_event_format *fmt = &((const struct gw_config *)base)->events.format;
    json_t *o = json_object();

    for (int i = 0; i < GW_EV__COUNT; i++)
        json_object_set_new(o, gw_event_kind_name((enum gw_event_kind)i),
                            json_string(fmt->kind_names[i]));
    return o;
}

static json_t *dump_key_names(const void *base)
{
    const struct gw_event_format *fmt = &((const struct gw_config *)base)->events.format;
    struct gw_event_format spec;
    json_t *o = json_object();

    gw_event_format_default(&spec);
    for (int i = 0; i < GW_F__COUNT; i++)
        json_object_set_new(o, spec.key_names[i], json_string(fmt->key_names[i]));
    return o;
}

/* ---------------------------------------------------------------- loyalty.* specials */

/* The load context knows the config being built, hence the table's zone, when dates are read:
 * the loyalty walker applies "timezone" before any other key. */
static const char *table_zone(const struct load_ctx *c)
{
    return c->cfg->loyalty.timezone;
}

/*
 * Local civil time -> unix seconds in zone (see the file comment for the policy). add_days is
 * applied to the date first (civil arithmetic), so "to" + 1 day crosses month and year ends.
 */
static int local_to_unix(const char *zone, int y, int mo, int d, int h, int mi, int s, int add_days,
                         bool is_end, int64_t *out)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d + add_days, .tm_hour = 12};
    struct cat_tz *tz = NULL;
    time_t day;
    int rc;

    day = timegm(&tm); /* normalises the date moved by add_days */
    if (day == (time_t)-1 || !gmtime_r(&day, &tm))
        return -EINVAL;
    rc = cat_tz_load(zone, &tz);
    if (rc < 0)
        return rc;
    rc = cat_tz_local_to_utc(tz, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, h, mi, s,
                             is_end ? CAT_TZ_LATER : CAT_TZ_EARLIER, out, NULL);
    cat_tz_free(tz);
    return rc;
}

static int parse_num(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * A window bound: "YYYY-MM-DD" (local midnight in the table's zone; as an end, inclusive: the
 * next day's midnight), "YYYY-MM-DDTHH:MM[:SS]" (local time), or RFC 3339 with Z or an offset.
 */
static int parse_bound(struct load_ctx *c, json_t *v, const char *path, bool is_end, int64_t *out)
{
    const char *s = json_string_value(v);
    size_t len = s ? json_string_length(v) : 0;
    char probe[64];
    int64_t dummy;
    int y, mo, d, h = 0, mi = 0, sec = 0;

    if (!s)
        return fail(c, path, "expected a date string");
    if (len != 10 && len != 16 && len != 19)
        goto rfc3339;
    y = parse_num(s, 4);
    mo = parse_num(s + 5, 2);
    d = parse_num(s + 8, 2);
    if (y < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-')
        goto bad;
    if (len > 10) {
        h = parse_num(s + 11, 2);
        mi = parse_num(s + 14, 2);
        if (s[10] != 'T' || s[13] != ':' || h < 0 || mi < 0)
            goto bad;
        if (len == 19) {
            sec = parse_num(s + 17, 2);
            if (s[16] != ':' || sec < 0 || sec > 59)
                goto bad;
        }
    }
    /* the calendar rules (days per month, leap years, hours) are the RFC 3339 parser's */
    snprintf(probe, sizeof(probe), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
    if (y < 1970 || gw_parse_rfc3339(probe, strlen(probe), &dummy) < 0)
        goto bad;
    if (local_to_unix(table_zone(c), y, mo, d, h, mi, sec, is_end && len == 10, is_end, out) < 0)
        goto bad;
    return 0;
rfc3339:
    if (gw_parse_rfc3339(s, len, out) == 0)
        return 0;
bad:
    return fail(c, path, "\"%s\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM (local) or RFC 3339", s);
}

static int load_from(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                     void *base)
{
    (void)k;
    return parse_bound(c, v, path, false, &((struct gw_window *)base)->from);
}

static int load_to(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                   void *base)
{
    (void)k;
    return parse_bound(c, v, path, true, &((struct gw_window *)base)->to);
}

static json_t *dump_time(int64_t t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;

    /* UTC with Z: unambiguous, and loads back as the same instant */
    gmtime_r(&tt, &tm);
    if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
    return json_string(buf);
}

static json_t *dump_from(const void *base)
{
    return dump_time(((const struct gw_window *)base)->from);
}

static json_t *dump_to(const void *base)
{
    return dump_time(((const struct gw_window *)base)->to);
}

static int load_kinds(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                      void *base)
{
    uint32_t mask = 0;
    size_t i;
    json_t *e;

    (void)k;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, path, "expected a non-empty array of kinds (omit the key for all)");
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN];
        int kind = gw_event_kind_from_name(json_string_value(e));

        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        if (kind < 0 || kind == GW_EV_REVERSAL)
            return fail(c, p, "expected one of \"TOPUP\", \"BILL\", \"USAGE\"");
        mask |= UINT32_C(1) << kind;
    }
    ((struct gw_window *)base)->kinds = mask;
    return 0;
}

static json_t *dump_kinds(const void *base)
{
    uint32_t mask = ((const struct gw_window *)base)->kinds;
    json_t *a;

    if (mask == 0)
        return NULL; /* all earning kinds: the key is omitted */
    a = json_array();
    for (int i = 0; i < GW_EV__COUNT; i++) {
        if (mask & (UINT32_C(1) << i))
            json_array_append_new(a, json_string(gw_event_kind_name((enum gw_event_kind)i)));
    }
    return a;
}

/* one row per key reads as a table: */
/* clang-format off */
#define REQ .flags = KF_REQUIRED
#define W_(m) MEMBER(struct gw_window, m)
#define T_(m) MEMBER(struct gw_tier, m)
#define R_(m) MEMBER(struct gw_rate, m)
#define WINDOW_KEYS \
    {.name = "name", .type = KT_STRING, W_(name), .min = 1, REQ}, \
    {.name = "from", .type = KT_SPECIAL, .load = load_from, .dump = dump_from, REQ}, \
    {.name = "to", .type = KT_SPECIAL, .load = load_to, .dump = dump_to, REQ}, \
    {.name = "multiplier_pct", .type = KT_INT, W_(pct), .min = 1, .max = 10000, REQ}, \
    {.name = "kinds", .type = KT_SPECIAL, .load = load_kinds, .dump = dump_kinds}

static const struct key_def season_keys[] = {WINDOW_KEYS};
static const struct key_def promo_keys[] = {
    WINDOW_KEYS,
    {.name = "channel", .type = KT_STRING, W_(channel), .check = check_channel},
};

/* loyalty.tier_basis: enum gw_tier_basis, in order */
static const char *const tier_bases[] = {"lifetime", "points", "spend", NULL};

static const struct key_def tier_keys[] = {
    {.name = "name", .type = KT_STRING, T_(name), .min = 1, REQ},
    {.name = "min_points", .type = KT_INT, T_(min_points), .min = 0, .max = POINTS_MAX, REQ},
    {.name = "multiplier_pct", .type = KT_INT, T_(pct), .min = 1, .max = 10000, REQ},
};

static const struct key_def rate_keys[] = {
    {.name = "points", .type = KT_INT, R_(points), .min = 0, .max = 1000000, REQ},
    {.name = "per", .type = KT_INT, R_(per), .min = 1, .max = 1000000000, REQ},
};
/* clang-format on */

/* seasons, promotions, tiers: the array given replaces the default list entirely */
static int load_array(struct load_ctx *c, json_t *v, const char *path, const struct key_def *tab,
                      size_t ntab, void *items, size_t item_size, unsigned max, unsigned *count)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return fail(c, path, "expected an array");
    if (json_array_size(v) > max)
        return fail(c, path, "%zu entries, more than the maximum %u", json_array_size(v), max);
    memset(items, 0, item_size * max);
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN];
        int rc;

        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        rc = walk_element(c, e, p, tab, ntab, (char *)items + i * item_size);
        if (rc < 0)
            return rc;
    }
    *count = (unsigned)json_array_size(v);
    return 0;
}

static int load_seasons(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                        void *base)
{
    struct gw_loyalty *t = &((struct gw_config *)base)->loyalty;

    (void)k;
    return load_array(c, v, path, season_keys, ARRAY_LEN(season_keys), t->seasons,
                      sizeof(t->seasons[0]), GW_MAX_SEASONS, &t->n_seasons);
}

static int load_promos(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                       void *base)
{
    struct gw_loyalty *t = &((struct gw_config *)base)->loyalty;

    (void)k;
    return load_array(c, v, path, promo_keys, ARRAY_LEN(promo_keys), t->promos,
                      sizeof(t->promos[0]), GW_MAX_PROMOS, &t->n_promos);
}

static int load_tiers(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                      void *base)
{
    struct gw_loyalty *t = &((struct gw_config *)base)->loyalty;

    (void)k;
    if (json_is_array(v) && json_array_size(v) == 0)
        return fail(c, path, "at least one tier (the entry tier, min_points 0)");
    return load_array(c, v, path, tier_keys, ARRAY_LEN(tier_keys), t->tiers, sizeof(t->tiers[0]),
                      GW_MAX_TIERS, &t->n_tiers);
}

static json_t *dump_array(const struct key_def *tab, size_t ntab, const void *items,
                          size_t item_size, unsigned count)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < count; i++)
        json_array_append_new(a, dump_element(tab, ntab, (const char *)items + i * item_size));
    return a;
}

static json_t *dump_seasons(const void *base)
{
    const struct gw_loyalty *t = &((const struct gw_config *)base)->loyalty;

    return dump_array(season_keys, ARRAY_LEN(season_keys), t->seasons, sizeof(t->seasons[0]),
                      t->n_seasons);
}

static json_t *dump_promos(const void *base)
{
    const struct gw_loyalty *t = &((const struct gw_config *)base)->loyalty;

    return dump_array(promo_keys, ARRAY_LEN(promo_keys), t->promos, sizeof(t->promos[0]),
                      t->n_promos);
}

static json_t *dump_tiers(const void *base)
{
    const struct gw_loyalty *t = &((const struct gw_config *)base)->loyalty;

    return dump_array(tier_keys, ARRAY_LEN(tier_keys), t->tiers, sizeof(t->tiers[0]), t->n_tiers);
}

/* rates: {"TOPUP": {"points": 1, "per": 10}, ...}; kinds not named keep their default rate */
static int load_rates(struct load_ctx *c, const struct key_def *k, json_t *v, const char *path,
                      void *base)
{
    struct gw_loyalty *t = &((struct gw_config *)base)->loyalty;
    const char *key;
    json_t *e;

    (void)k;
    if (!json_is_object(v))
        return fail(c, path, "expected an object");
    json_object_foreach(v, key, e)
    {
        char p[PATH_LEN];
        int kind = gw_event_kind_from_name(key);
        int rc;

        if (is_comment(key))
            continue;
        snprintf(p, sizeof(p), "%s.%s", path, key);
        if (kind < 0)
            return fail(c, p, "unknown key (kinds: TOPUP, BILL, USAGE)");
        if (kind == GW_EV_REVERSAL)
            return fail(c, p, "a reversal takes back what orig earned; it has no rate");
        rc = walk_element(c, e, p, rate_keys, ARRAY_LEN(rate_keys), &t->rate[kind]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static json_t *dump_rates(const void *base)
{
    const struct gw_loyalty *t = &((const struct gw_config *)base)->loyalty;
    json_t *o = json_object();

    for (int i = 0; i < GW_EV__COUNT; i++) {
        if (i != GW_EV_REVERSAL)
            json_object_set_new(o, gw_event_kind_name((enum gw_event_kind)i),
                                dump_element(rate_keys, ARRAY_LEN(rate_keys), &t->rate[i]));
    }
    return o;
}

/* ---------------------------------------------------------------- ussd.* and sms.* specials */

static const char *check_service_code(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n < USSD_SERVICE_CODE_MAX && strspn(s, "0123456789") == n
               ? NULL
               : "the digits dialled after '*' (\"555\"), 1 to 15 of them";
}

/* "ussd-menus.json" is relative to the main config file's folder, like "loyalty": "x.json" */
static int load_menus_file(struct load_ctx *c, const struct key_def *k, json_t *v,
                           const char *path, void *base)
{
    struct gw_config *cfg = base;
    const char *s = json_string_value(v);
    int n;

    (void)k;
    if (!s || strlen(s) != json_string_length(v) || !is_printable(s))
        return fail(c, path, "expected a file name (\"\" = USSD off)");
    if (s[0] == '\0' || s[0] == '/' || c->dir[0] == '\0')
        n = snprintf(cfg->ussd_menus_file, sizeof(cfg->ussd_menus_file), "%s", s);
    else
        n = snprintf(cfg->ussd_menus_file, sizeof(cfg->ussd_menus_file), "%s/%s", c->dir, s);
    if (n < 0 || (size_t)n >= sizeof(cfg->ussd_menus_file))
        return fail(c, path, "file name too long");
    return 0;
}

static json_t *dump_menus_file(const void *base)
{
    return json_string(((const struct gw_config *)base)->ussd_menus_file);
}

/* Keywords are UTF-8 ("رصيد"): one line, no control characters, compared trimmed. One list per
 * key: the balance, STOP and START lists share the loader, told apart by the key's name. */
static char (*kw_list(const struct key_def *k, struct gw_config *cfg,
                      unsigned **n))[GW_SMS_KEYWORD_MAX]
{
    if (strcmp(k->name, "sms.stop_keywords") == 0) {
        *n = &cfg->sms.n_stop_keywords;
        return cfg->sms.stop_keywords;
    }
    if (strcmp(k->name, "sms.start_keywords") == 0) {
        *n = &cfg->sms.n_start_keywords;
        return cfg->sms.start_keywords;
    }
    if (strcmp(k->name, "sms.alerts_off_keywords") == 0) {
        *n = &cfg->sms.n_alerts_off_keywords;
        return cfg->sms.alerts_off_keywords;
    }
    if (strcmp(k->name, "sms.suggest_keywords") == 0) {
        *n = &cfg->sms.n_suggest_keywords;
        return cfg->sms.suggest_keywords;
    }
    if (strcmp(k->name, "sms.alerts_on_keywords") == 0) {
        *n = &cfg->sms.n_alerts_on_keywords;
        return cfg->sms.alerts_on_keywords;
    }
    *n = &cfg->sms.n_keywords;
    return cfg->sms.keywords;
}

static int load_sms_keywords(struct load_ctx *c, const struct key_def *k, json_t *v,
                             const char *path, void *base)
{
    struct gw_config *cfg = base;
    unsigned *n;
    char(*list)[GW_SMS_KEYWORD_MAX] = kw_list(k, cfg, &n);
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > GW_SMS_KEYWORDS_MAX)
        return fail(c, path, "expected an array of 0 to %d strings", GW_SMS_KEYWORDS_MAX);
    json_array_foreach(v, i, e)
    {
        char p[PATH_LEN];
        const char *s = json_string_value(e);
        size_t len = s ? json_string_length(e) : 0;
        bool ok = s && len > 0 && len < GW_SMS_KEYWORD_MAX && strlen(s) == len &&
                  s[0] != ' ' && s[len - 1] != ' ';

        for (size_t j = 0; ok && j < len; j++)
            ok = (unsigned char)s[j] >= 0x20 && s[j] != 0x7f;
        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        if (!ok)
            return fail(c, p, "expected a word of 1 to %d bytes without control characters or "
                              "spaces around it", GW_SMS_KEYWORD_MAX - 1);
        memcpy(list[i], s, len + 1);
    }
    *n = (unsigned)json_array_size(v);
    return 0;
}

static json_t *dump_kw(const char (*list)[GW_SMS_KEYWORD_MAX], unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < n && i < GW_SMS_KEYWORDS_MAX; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

static json_t *dump_sms_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.keywords, cfg->sms.n_keywords);
}

static json_t *dump_stop_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.stop_keywords, cfg->sms.n_stop_keywords);
}

static json_t *dump_start_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.start_keywords, cfg->sms.n_start_keywords);
}

static json_t *dump_alerts_off_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.alerts_off_keywords, cfg->sms.n_alerts_off_keywords);
}

static json_t *dump_alerts_on_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.alerts_on_keywords, cfg->sms.n_alerts_on_keywords);
}

static json_t *dump_suggest_keywords(const void *base)
{
    const struct gw_config *cfg = base;
    return dump_kw(cfg->sms.suggest_keywords, cfg->sms.n_suggest_keywords);
}

static const char *const ussd_dest_forms[] = {"code", "star_hash", NULL};
static const char *const ussd_end_methods[] = {"op", "bit", "both", NULL};
static const char *const ussd_key_modes[] = {"session_info", "umr", "msisdn", NULL};
_Static_assert(USSD_DEST_CODE == 0 && USSD_DEST_STAR_HASH == 1, "ussd_dest_forms[]");
_Static_assert(USSD_END_OP == 0 && USSD_END_BIT == 1 && USSD_END_BOTH == 2, "ussd_end_methods[]");
_Static_assert(USSD_KEY_SESSION_INFO == 0 && USSD_KEY_UMR == 1 && USSD_KEY_MSISDN == 2,
               "ussd_key_modes[]");

/* ---------------------------------------------------------------- provisioning.* checks */

static const char *check_base_url(const char *s)
{
    if (s[0] == '\0')
        return NULL; /* cross-checked in validate: required when provisioning.enabled */
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return "an http:// or https:// URL";
    if (strchr(s, ' ') || strchr(s, '?') || strchr(s, '#'))
        return "a base URL without spaces, query or fragment (\"/v1/grants\" is appended)";
    return NULL;
}

/* consumer group and consumer names end up in Redis commands and log lines */
static const char *check_worker_name(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.' || *s == ':'))
            return "letters, digits, '_', '-', '.' and ':' only";
    }
    return NULL;
}

static const char *check_sms_lang(const char *s)
{
    return strcmp(s, "en") == 0 || strcmp(s, "fr") == 0 ? NULL : "one of en, fr";
}

/* ---------------------------------------------------------------- catalog.* checks */

/* "gold,platinum": tier names separated by commas, no spaces (split by wire_catalog.c) */
static const char *check_tier_list(const char *s)
{
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '_' || *p == '-' || (*p == ',' && p != s && p[1] && p[1] != ',');
        if (!ok)
            return "tier names separated by commas (\"gold,platinum\")";
    }
    return NULL;
}

/* ---------------------------------------------------------------- expiry.* checks */

static const char *check_warn_days(const char *s)
{
    uint32_t lv[GW_EXPIRY_LEVELS_MAX];

    return gw_expiry_parse_levels(s, lv, GW_EXPIRY_LEVELS_MAX) < 0
               ? "up to 4 days-ahead values 1..365, descending, comma-separated (\"30,7\")"
               : NULL;
}

/* ---------------------------------------------------------------- the table of keys */

static const char *const bind_modes[] = {"trx", "tx_rx", NULL};
_Static_assert(SMPP_BIND_TRX == 0 && SMPP_BIND_TX_RX == 1, "bind_modes[] follows the enum");

/* one row per key reads as a table: */
/* clang-format off */
#define S_ struct gw_config
static const struct key_def keys[] = {
    /* smpp: the bind to the carrier's SMSC (smpp_esme_config_defaults) */
    K_STR("smpp.name", S_, smpp.name, 1, NULL, NULL),
    K_STR("smpp.host", S_, smpp.host, 1, NULL, NULL),
    K_UINT("smpp.port", S_, smpp.port, 1, 65535, NULL),
    /* the smpp module leaves it empty, but no SMSC binds an empty system_id: default to the
     * local set-up's (deploy/loyaltygw.json, smsc-sim accepts any) */
    K_STR("smpp.system_id", S_, smpp.bind.system_id, 1, NULL, "\"loyalty\""),
    {.name = "smpp.password", .type = KT_STRING, C_(smpp.bind.password), .flags = KF_SECRET},
    K_STR("smpp.system_type", S_, smpp.bind.system_type, 0, NULL, NULL),
    K_STR("smpp.address_range", S_, smpp.bind.address_range, 0, NULL, NULL),
    {.name = "smpp.bind_mode", .type = KT_ENUM, C_(smpp.mode), .names = bind_modes},
    K_UINT("smpp.window", S_, smpp.window, 1, 1000, NULL),
    K_UINT("smpp.enquire_link_ms", S_, smpp.enquire_link_ms, 1000, 3600000, NULL),
    K_UINT("smpp.response_timeout_ms", S_, smpp.response_timeout_ms, 100, 600000, NULL),
    K_UINT("smpp.connect_timeout_ms", S_, smpp.connect_timeout_ms, 100, 600000, NULL),
    K_UINT("smpp.reconnect_min_ms", S_, smpp.reconnect_min_ms, 10, 3600000, NULL),
    K_UINT("smpp.reconnect_max_ms", S_, smpp.reconnect_max_ms, 10, 3600000, NULL),
    K_UINT("smpp.drain_timeout_ms", S_, smpp.drain_timeout_ms, 0, 600000, NULL),
    K_UINT("smpp.throttle_backoff_ms", S_, smpp.throttle_backoff_ms, 0, 600000, NULL),
    {.name = "smpp.tps", .type = KT_DOUBLE, C_(smpp.tps), .min = 0, .max = 100000},
    /* a deliver_sm with a full 1024-octet message_payload and its addresses needs ~1.2 KiB */
    K_UINT("smpp.max_pdu", S_, smpp.max_pdu, 1536, 65536, NULL),
    K_UINT("smpp.submit_queue_max", S_, smpp.submit_queue_max, 0, 1000000, NULL),
    /* unanswered deliver_sm held at most; beyond, ESME_RTHROTTLED (the SMSC redelivers) */
    K_UINT("smpp.rx_pending_max", S_, smpp.rx_pending_max, 1, SMPP_RX_PENDING_MAX, NULL),

    /* redis: the ledger's store (gw_redis_config_defaults) */
    K_STR("redis.host", S_, redis.host, 0, NULL, NULL),
    K_UINT("redis.port", S_, redis.port, 1, 65535, NULL),
    K_STR("redis.unix_socket", S_, redis.unix_socket, 0, NULL, NULL),
    K_UINT("redis.connect_timeout_ms", S_, redis.connect_timeout_ms, 10, 600000, NULL),
    K_UINT("redis.request_timeout_ms", S_, redis.request_timeout_ms, 10, 600000, NULL),
    K_UINT("redis.reconnect_min_ms", S_, redis.reconnect_min_ms, 10, 3600000, NULL),
    K_UINT("redis.reconnect_max_ms", S_, redis.reconnect_max_ms, 10, 3600000, NULL),
    K_UINT("redis.max_pending", S_, redis.max_pending, 1, 10000000, NULL),
    K_SPECIAL("redis.cluster_nodes", load_cluster_nodes, dump_cluster_nodes),
    /* ACL user and password (deploy/redis-users.acl); the password is best kept out of this
     * file: redis.password_file, or LGW_REDIS_PASSWORD in the environment */
    K_STR("redis.username", S_, redis.username, 0, NULL, NULL),
    {.name = "redis.password", .type = KT_STRING, C_(redis.password), .flags = KF_SECRET},
    K_STR("redis.password_file", S_, redis_password_file, 0, NULL, "\"\""),
    /* Redis Sentinel: where to ask for the primary of master_name (deploy/sentinel.conf) */
    K_SPECIAL("redis.sentinels", load_sentinels, dump_sentinels),
    K_STR("redis.master_name", S_, redis.master_name, 0, NULL, NULL),
    /* acknowledge a commit only once this many replicas have it (WAIT): 0 lost at a failover */
    K_UINT("redis.wait_replicas", S_, redis.wait_replicas, 0, 16, NULL),
    K_UINT("redis.wait_timeout_ms", S_, redis.wait_timeout_ms, 0, 600000, NULL),

    /* events: the carrier contract's knobs (gw_event_limits_default, gw_event_format_default) */
    K_SPECIAL("events.senders", load_senders, dump_senders),
    K_SPECIAL("events.country_prefixes", load_prefixes, dump_prefixes),
    K_STR("events.currency", S_, events.limits.currency, 3, check_currency, NULL),
    K_SPECIAL("events.max_amount", load_max_amount, dump_max_amount),
    /* stored in seconds, written in days */
    {.name = "events.max_age_days", .type = KT_INT, C_(events.limits.max_age_s), .min = 1,
     .max = 365, .scale = 86400},
    K_INT("events.max_future_s", S_, events.limits.max_future_s, 0, 86400, NULL),
    K_SPECIAL("events.kind_names", load_kind_names, dump_kind_names),
    K_SPECIAL("events.key_names", load_key_names, dump_key_names),

    /* ledger (gw_ledger_config_defaults) */
    K_UINT("ledger.history_len", S_, ledger.history_len, 1, 1000, NULL),
    K_UINT("ledger.ref_retention_days", S_, ledger.ref_retention_days, 1, 3650, NULL),
    K_UINT("ledger.dlq_maxlen", S_, ledger.dlq_maxlen, 1, 100000000, NULL),
    K_UINT("ledger.ref_index_buckets", S_, ledger.ref_index_buckets, 1, 1048576, NULL),
    K_UINT("ledger.point_value_micro", S_, ledger.point_value_micro, 0, 1000000000, NULL),

    /* transfers: points transfer between members (gw_transfer_config_defaults) */
    K_INT("transfers.min_points", S_, transfers.min_points, 1, 1000000000000, NULL),
    K_INT("transfers.max_points", S_, transfers.max_points, 1, 1000000000000, NULL),
    K_INT("transfers.day_cap", S_, transfers.day_cap, 0, 1000000000000, NULL),
    K_INT("transfers.peer_cap", S_, transfers.peer_cap, 0, 1000000000000, NULL),
    K_UINT("transfers.max_wrong_pins", S_, transfers.max_wrong_pins, 1, 100, NULL),
    K_UINT("transfers.lock_s", S_, transfers.lock_s, 0, 2592000, NULL),
    K_UINT("transfers.simswap_freeze_s", S_, transfers.simswap_freeze_s, 0, 31536000, NULL),
    K_UINT("transfers.pending_timeout_s", S_, transfers.pending_timeout_s, 1, 86400, NULL),
    K_UINT("transfers.sweep_interval_ms", S_, transfers.sweep_interval_ms, 10, 600000, NULL),
    K_UINT("transfers.sweep_slots", S_, transfers.sweep_slots, 1, 16384, NULL),
    K_UINT("transfers.retention_s", S_, transfers.retention_s, 3600, 34560000, NULL),

    /* loyalty: marketing's table, inline or in its own file (gw_loyalty_default); the walker
     * applies timezone before any other key, since dates are local to it */
    K_STR("loyalty.timezone", S_, loyalty.timezone, 1, check_timezone, NULL),
    K_SPECIAL("loyalty.rates", load_rates, dump_rates),
    K_SPECIAL("loyalty.seasons", load_seasons, dump_seasons),
    K_SPECIAL("loyalty.promotions", load_promos, dump_promos),
    K_SPECIAL("loyalty.tiers", load_tiers, dump_tiers),
    {.name = "loyalty.tier_basis", .type = KT_ENUM, C_(loyalty.tier_basis), .names = tier_bases,
     .def = "\"lifetime\""},
    K_UINT("loyalty.tier_window_months", S_, loyalty.tier_window_months, 1, 12, "12"),
    K_UINT("loyalty.tier_grace_days", S_, loyalty.tier_grace_days, 0, 365, "30"),
    K_INT("loyalty.daily_cap", S_, loyalty.daily_cap, 0, 1000000000, NULL),
    K_UINT("loyalty.points_validity_months", S_, loyalty.points_validity_months, 0, 120, "0"),
    K_UINT("loyalty.points_validity_days", S_, loyalty.points_validity_days, 0, 3650, "0"),

    /* ussd: the carrier's variations of shared/spec/ussd.md (ussd_config_defaults) */
    K_STR("ussd.service_code", S_, ussd.service_code, 1, check_service_code, NULL),
    {.name = "ussd.dest_form", .type = KT_ENUM, C_(ussd.dest_form), .names = ussd_dest_forms},
    {.name = "ussd.end_method", .type = KT_ENUM, C_(ussd.end_method), .names = ussd_end_methods},
    K_INT("ussd.abort_op", S_, ussd.abort_op, -1, 255, NULL),
    {.name = "ussd.key_mode", .type = KT_ENUM, C_(ussd.key_mode), .names = ussd_key_modes},
    K_UINT("ussd.t_answer_ms", S_, ussd.t_answer_ms, 1000, 3600000, NULL),
    K_UINT("ussd.t_total_ms", S_, ussd.t_total_ms, 1000, 3600000, NULL),
    K_UINT("ussd.t_end_ms", S_, ussd.t_end_ms, 1000, 3600000, NULL),
    K_UINT("ussd.gsm7_limit", S_, ussd.gsm7_limit, USSD_SCREEN_GSM7_MIN, USSD_SCREEN_MAX, NULL),
    K_UINT("ussd.ucs2_limit", S_, ussd.ucs2_limit, USSD_SCREEN_UCS2_MIN, USSD_SCREEN_MAX, NULL),
    {.name = "ussd.bidi_marks", .type = KT_BOOL, C_(ussd.bidi_marks)},
    K_UINT("ussd.dcs_gsm7", S_, ussd.text.dcs_gsm7, 0, 255, NULL),
    K_UINT("ussd.dcs_ucs2", S_, ussd.text.dcs_ucs2, 0, 255, NULL),
    {.name = "ussd.ucs2_surrogates", .type = KT_BOOL, C_(ussd.text.ucs2_surrogates)},
    {.name = "ussd.menus_file", .type = KT_SPECIAL, .load = load_menus_file,
     .dump = dump_menus_file, .def = "\"\""},

    /* sms: balance by SMS for MO keywords sent to the short code (gw_sms.h) */
    K_STR("sms.short_code", S_, sms.short_code, 1, NULL, "\"555\""),
    {.name = "sms.keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_sms_keywords, .def = "[\"BAL\", \"SOLDE\", \"رصيد\", \"امتیاز\"]"},
    /* consent: opt out of / back into marketing SMS (gw_sms.h); matched case- and accent-blind */
    {.name = "sms.stop_keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_stop_keywords, .def = "[\"STOP\", \"ARRET\", \"توقف\", \"لغو\"]"},
    {.name = "sms.start_keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_start_keywords, .def = "[\"START\", \"DEMARRER\", \"ابدأ\", \"شروع\"]"},
    /* the points-expiry warnings' own switch: STOP (marketing) leaves them on */
    {.name = "sms.alerts_off_keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_alerts_off_keywords,
     .def = "[\"STOP ALERTS\", \"STOP ALERTES\", \"توقف التنبيهات\", \"لغو هشدار\"]"},
    {.name = "sms.alerts_on_keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_alerts_on_keywords,
     .def = "[\"START ALERTS\", \"START ALERTES\", \"ابدأ التنبيهات\", \"شروع هشدار\"]"},
    /* the suggestion box: the first word of an idea sent to the short code (gw_suggest.h) */
    {.name = "sms.suggest_keywords", .type = KT_SPECIAL, .load = load_sms_keywords,
     .dump = dump_suggest_keywords, .def = "[\"IDEE\", \"IDEA\", \"رأي\", \"نظر\"]"},
    K_UINT("suggestions.retention_days", S_, suggestions.retention_days, 1, 3650, "90"),
    K_UINT("suggestions.max_entries", S_, suggestions.max_entries, 100, 10000000, "100000"),
    K_UINT("suggestions.per_day", S_, suggestions.per_day, 1, 100, "5"),
    K_UINT("suggestions.text_max", S_, suggestions.text_max, 16, GW_SUGGEST_TEXT_CAP, "480"),

    /* provisioning: the carrier's grant API and the fulfilment worker (catalog/cat_fulfil.h) */
    {.name = "provisioning.enabled", .type = KT_BOOL, C_(provisioning.enabled), .def = "false"},
    K_STR("provisioning.base_url", S_, provisioning.base_url, 0, check_base_url, "\"\""),
    {.name = "provisioning.token", .type = KT_STRING, C_(provisioning.token), .def = "\"\"",
     .flags = KF_SECRET},
    {.name = "provisioning.insecure_test_mode", .type = KT_BOOL,
     C_(provisioning.insecure_test_mode), .def = "false"},
    K_UINT("provisioning.connect_timeout_ms", S_, provisioning.connect_timeout_ms, 10, 600000,
           "2000"),
    K_UINT("provisioning.timeout_ms", S_, provisioning.timeout_ms, 10, 600000, "5000"),
    K_UINT("provisioning.retry_min_ms", S_, provisioning.retry_min_ms, 10, 3600000, "2000"),
    K_UINT("provisioning.retry_max_ms", S_, provisioning.retry_max_ms, 10, 86400000, "300000"),
    K_UINT("provisioning.retry_deadline_s", S_, provisioning.retry_deadline_s, 1, 2592000,
           "21600"),
    K_UINT("provisioning.claim_idle_ms", S_, provisioning.claim_idle_ms, 100, 86400000, "60000"),
    K_UINT("provisioning.max_in_flight", S_, provisioning.max_in_flight, 1, 10000, "32"),
    K_STR("provisioning.group", S_, provisioning.group, 1, check_worker_name, "\"fulfil\""),
    K_STR("provisioning.consumer", S_, provisioning.consumer, 0, check_worker_name, "\"\""),
    K_STR("provisioning.sms_lang", S_, provisioning.sms_lang, 2, check_sms_lang, "\"en\""),

    /* catalog: the gift catalogue, gift days and redemption (gateway/wire_catalog.c) */
    K_STR("catalog.file", S_, catalog.file, 0, NULL, "\"\""),
    K_STR("catalog.giftdays_file", S_, catalog.giftdays_file, 0, NULL, "\"\""),
    K_STR("catalog.vouchers_dir", S_, catalog.vouchers_dir, 0, NULL, "\"\""),
    K_UINT("catalog.reservation_timeout_s", S_, catalog.reservation_timeout_s, 5, 86400, "30"),
    K_UINT("catalog.sweep_interval_ms", S_, catalog.sweep_interval_ms, 100, 600000, "1000"),
    K_STR("catalog.gift_tiers", S_, catalog.gift_tiers, 0, check_tier_list, "\"gold\""),
    /* the premium perk (issue 10 section 6): the same gift to a relative after a redemption */
    K_UINT("catalog.perk_share_pct", S_, catalog.perk_share_pct, 0, 100, "0"),
    K_UINT("catalog.perk_per_day", S_, catalog.perk_per_day, 0, 100, "0"),
    /* the staff console's documents in Redis (gateway/wire_cfgdocs.c; README "Staff console") */
    {.name = "catalog.follow_redis_docs", .type = KT_BOOL, C_(catalog.follow_redis_docs),
     .def = "true"},
    K_UINT("catalog.docs_poll_ms", S_, catalog.docs_poll_ms, 100, 3600000, "2000"),

    /* broadcast: the gift-day reminder (gw_broadcast.h; README "Reminder broadcast") */
    {.name = "broadcast.enabled", .type = KT_BOOL, C_(broadcast.enabled), .def = "false"},
    K_UINT("broadcast.poll_ms", S_, broadcast.poll_ms, 100, 600000, "1000"),
    K_UINT("broadcast.lease_ms", S_, broadcast.lease_ms, 3000, 600000, "15000"),
    K_UINT("broadcast.max_in_flight", S_, broadcast.max_in_flight, 1, 1000, "8"),
    K_UINT("broadcast.build_batch", S_, broadcast.build_batch, 10, 100000, "1000"),
    K_UINT("broadcast.progress_log_s", S_, broadcast.progress_log_s, 0, 3600, "10"),
    K_UINT("broadcast.keep_days", S_, broadcast.keep_days, 1, 3650, "30"),
    {.name = "broadcast.resend_unknown", .type = KT_BOOL, C_(broadcast.resend_unknown),
     .def = "false"},
    {.name = "broadcast.slot_sms", .type = KT_BOOL, C_(broadcast.slot_sms), .def = "false"},
    K_UINT("broadcast.slot_sms_hour", S_, broadcast.slot_sms_hour, 0, 23, "10"),

    /* expiry: points that really expire (gw_expiry.h) */
    {.name = "expiry.enabled", .type = KT_BOOL, C_(expiry.enabled), .def = "false"},
    K_STR("expiry.warn_days", S_, expiry.warn_days, 0, check_warn_days, "\"30,7\""),
    K_UINT("expiry.quiet_start_hour", S_, expiry.quiet_start_hour, 0, 23, "21"),
    K_UINT("expiry.quiet_end_hour", S_, expiry.quiet_end_hour, 0, 23, "9"),
    K_UINT("expiry.pass_interval_s", S_, expiry.pass_interval_s, 1, 86400, "900"),
    K_UINT("expiry.catchup_days", S_, expiry.catchup_days, 1, 3660, "60"),
    K_UINT("expiry.lease_ms", S_, expiry.lease_ms, 1000, 600000, "30000"),
    K_UINT("expiry.batch", S_, expiry.batch, 1, 1000, "64"),
    {.name = "expiry.require_optin", .type = KT_BOOL, C_(expiry.require_optin), .def = "true"},

    /* campaigns: the campaign rules' bonuses and win-back offers (gw_campaign_run.h) */
    {.name = "campaigns.enabled", .type = KT_BOOL, C_(campaigns.enabled), .def = "false"},
    K_UINT("campaigns.pass_interval_s", S_, campaigns.pass_interval_s, 1, 86400, "3600"),
    K_UINT("campaigns.catchup_days", S_, campaigns.catchup_days, 0, 31, "7"),
    K_UINT("campaigns.quiet_start_hour", S_, campaigns.quiet_start_hour, 0, 23, "21"),
    K_UINT("campaigns.quiet_end_hour", S_, campaigns.quiet_end_hour, 0, 23, "9"),
    K_UINT("campaigns.marker_sweep_interval_ms", S_, campaigns.marker_sweep_interval_ms, 10,
           600000, "1000"),
    K_UINT("campaigns.marker_sweep_batch", S_, campaigns.marker_sweep_batch, 1, 100000, "500"),
    K_UINT("campaigns.marker_sweep_grace_s", S_, campaigns.marker_sweep_grace_s, 0, 604800,
           "3600"),
    K_UINT("campaigns.marker_sweep_lease_ms", S_, campaigns.marker_sweep_lease_ms, 1000, 600000,
           "30000"),
    K_STR("journal.dir", S_, journal.dir, 0, NULL, "\"\""),
    K_UINT("journal.keep_days", S_, journal.keep_days, 1, 400, "35"),

    /* brakes: velocity caps and the redemption-rate breaker (gateway/wire_brakes.c) */
    K_UINT("brakes.redeem_per_hour", S_, brakes.redeem_per_hour, 0, 1000000, "0"),
    K_UINT("brakes.redeem_per_day", S_, brakes.redeem_per_day, 0, 1000000, "0"),
    K_UINT("brakes.events_per_hour", S_, brakes.events_per_hour, 0, 1000000, "0"),
    K_UINT("brakes.events_per_day", S_, brakes.events_per_day, 0, 1000000, "0"),
    K_UINT("brakes.points_per_hour", S_, brakes.points_per_hour, 0, 1000000000, "0"),
    K_UINT("brakes.points_per_day", S_, brakes.points_per_day, 0, 1000000000, "0"),
    {.name = "brakes.breaker", .type = KT_BOOL, C_(brakes.breaker), .def = "false"},
    K_UINT("brakes.breaker_window_s", S_, brakes.breaker_window_s, 1, 86400, "60"),
    K_UINT("brakes.breaker_half_life_s", S_, brakes.breaker_half_life_s, 1, 604800, "3600"),
    K_UINT("brakes.breaker_multiple_pct", S_, brakes.breaker_multiple_pct, 101, 100000, "500"),
    K_UINT("brakes.breaker_min_count", S_, brakes.breaker_min_count, 1, 1000000, "20"),
    K_UINT("brakes.breaker_floor_milli", S_, brakes.breaker_floor_milli, 0, 1000000000, "2000"),

    K_STR("log.level", S_, log.level, 1, check_level, "\"info\""),
    K_STR("log.format", S_, log.format, 1, check_log_format, "\"text\""),
    K_STR("log.output", S_, log.output, 1, check_log_output, "\"stderr\""),
    K_STR("metrics.stats_file", S_, metrics.stats_file, 0, NULL, "\"\""),
    K_UINT("metrics.interval_s", S_, metrics.interval_s, 1, 3600, "10"),
    K_STR("metrics.listen", S_, metrics.listen, 0, check_listen, "\"\""),
    K_UINT("metrics.ready_probe_ms", S_, metrics.ready_probe_ms, 100, 60000, "1000"),
};
#undef S_
/* clang-format on */

static const struct key_def *key_find(const char *path)
{
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        if (strcmp(keys[i].name, path) == 0)
            return &keys[i];
    }
    return NULL;
}

/* true when some row lives under section name ("smpp" for "smpp.window") */
static bool is_section(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        if (strncmp(keys[i].name, name, n) == 0 && keys[i].name[n] == '.')
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- defaults */

static struct gw_config defaults_once;
static pthread_once_t defaults_done = PTHREAD_ONCE_INIT;

static void defaults_build(void)
{
    struct gw_config *cfg = &defaults_once;
    struct load_ctx c = {.cfg = cfg, .file = "built-in defaults"};
    char err[256];

    memset(cfg, 0, sizeof(*cfg));
    smpp_esme_config_defaults(&cfg->smpp);
    gw_redis_config_defaults(&cfg->redis);
    gw_ledger_config_defaults(&cfg->ledger);
    gw_transfer_config_defaults(&cfg->transfers);
    gw_event_limits_default(&cfg->events.limits);
    gw_event_format_default(&cfg->events.format);
    snprintf(cfg->events.senders[0], sizeof(cfg->events.senders[0]), "LOYALTY");
    cfg->events.n_senders = 1;
    gw_loyalty_default(&cfg->loyalty);
    ussd_config_defaults(&cfg->ussd);
    c.err = err;
    c.errlen = sizeof(err);
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        json_t *v;

        if (!keys[i].def)
            continue;
        v = json_loads(keys[i].def, JSON_DECODE_ANY, NULL);
        /* a row whose default does not load is a bug in this file: fail loudly, at once */
        if (!v || set_value(&c, &keys[i], v, keys[i].name, cfg) < 0) {
            fprintf(stderr, "gw_config: bad default for %s: %s\n", keys[i].name,
                    v ? err : "not JSON");
            abort();
        }
        json_decref(v);
    }
}

/* The rows' JSON defaults are parsed once per process (about 200 json_loads); every later call
 * is a copy. */
void gw_config_defaults(struct gw_config *cfg)
{
    pthread_once(&defaults_done, defaults_build);
    memcpy(cfg, &defaults_once, sizeof(*cfg));
}

/* ---------------------------------------------------------------- loading */

static int load_loyalty_object(struct load_ctx *c, json_t *obj)
{
    json_t *tz = json_object_get(obj, "timezone");
    int rc;

    if (!json_is_object(obj))
        return fail(c, "loyalty", "expected an object, or the name of a JSON file");
    /* dates in seasons and promotions are local to the zone: read it first, whatever the order */
    if (tz) {
        rc = set_value(c, key_find("loyalty.timezone"), tz, "loyalty.timezone", c->cfg);
        if (rc < 0)
            return rc;
    }
    return walk_object(c, obj, "loyalty", keys, ARRAY_LEN(keys), true, c->cfg, NULL);
}

static json_t *load_json_file(struct load_ctx *c, const char *path, int *rc)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

    if (root) {
        *rc = 0;
        return root;
    }
    *rc = json_error_code(&jerr) == json_error_cannot_open_file ? -ENOENT : -EINVAL;
    if (!c->err || c->errlen == 0)
        return NULL;
    if (*rc == -ENOENT)
        snprintf(c->err, c->errlen, "%s: %s", path, jerr.text);
    else
        snprintf(c->err, c->errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    return NULL;
}

static json_t *load_json_text(struct load_ctx *c, const char *text, size_t len, int *rc)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

    *rc = root ? 0 : -EINVAL;
    if (!root && c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, jerr.line, jerr.column, jerr.text);
    return root;
}

/* "loyalty": "loyalty-table.json" - a file marketing owns, relative to the main file's folder */
static int load_loyalty_file(struct load_ctx *c, const char *name)
{
    char path[PATH_MAX];
    const char *outer = c->file;
    json_t *root;
    int rc;

    if (name[0] == '\0')
        return fail(c, "loyalty", "empty file name");
    if (name[0] == '/')
        rc = snprintf(path, sizeof(path), "%s", name);
    else
        rc = snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    if (rc < 0 || (size_t)rc >= sizeof(path))
        return fail(c, "loyalty", "file name too long");
    root = load_json_file(c, path, &rc);
    if (!root)
        return rc;
    c->file = path;
    rc = load_loyalty_object(c, root);
    c->file = outer;
    json_decref(root);
    return rc;
}

static int load_main(const char *path, const char *text, size_t len, struct gw_config *cfg,
                     char *err, size_t errlen)
{
    struct load_ctx c = {.file = path, .err = err, .errlen = errlen};
    struct gw_config *tmp = NULL;
    json_t *root = NULL, *v;
    const char *key, *slash;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    slash = strrchr(path, '/');
    if (!slash)
        snprintf(c.dir, sizeof(c.dir), ".");
    else if (slash == path)
        snprintf(c.dir, sizeof(c.dir), "/");
    else
        snprintf(c.dir, sizeof(c.dir), "%.*s", (int)(slash - path), path);

    tmp = malloc(sizeof(*tmp));
    if (!tmp) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    gw_config_defaults(tmp);
    c.cfg = tmp;
    if (text)
        root = load_json_text(&c, text, len, &rc);
    else
        root = load_json_file(&c, path, &rc);
    if (!root)
        goto out;
    if (!json_is_object(root)) {
        rc = fail(&c, "(top level)", "expected an object");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (is_comment(key))
            continue;
        if (strcmp(key, "loyalty") == 0 && json_is_string(v))
            rc = load_loyalty_file(&c, json_string_value(v));
        else if (strcmp(key, "loyalty") == 0)
            rc = load_loyalty_object(&c, v);
        else if (!is_section(key))
            rc = fail(&c, key, "unknown key");
        else if (!json_is_object(v))
            rc = fail(&c, key, "expected an object");
        else
            rc = walk_object(&c, v, key, keys, ARRAY_LEN(keys), true, tmp, NULL);
        if (rc < 0)
            goto out;
    }
    rc = load_redis_password(&c, tmp);
    if (rc < 0)
        goto out;
    memcpy(cfg, tmp, sizeof(*cfg));
    rc = 0;
out:
    json_decref(root);
    free(tmp);
    return rc;
}

int gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
    return load_main(path, NULL, 0, cfg, err, errlen);
}

int gw_config_load_text(const char *path, const char *text, size_t len, struct gw_config *cfg,
                        char *err, size_t errlen)
{
    return load_main(path, text ? text : "", text ? len : 0, cfg, err, errlen);
}

int gw_config_loyalty_parse(const char *name, const char *text, size_t len,
                            const struct gw_config *base, struct gw_loyalty *out, char *err,
                            size_t errlen)
{
    struct load_ctx c = {.file = name, .err = err, .errlen = errlen};
    struct gw_config *tmp = malloc(sizeof(*tmp)), *def = malloc(sizeof(*def));
    json_error_t jerr;
    json_t *root = NULL;
    int rc = -ENOMEM;

    if (err && errlen)
        err[0] = '\0';
    if (!tmp || !def) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    gw_config_defaults(def);
    memcpy(tmp, base, sizeof(*tmp));
    tmp->loyalty = def->loyalty; /* the document is the whole table: absent keys = defaults */
    c.cfg = tmp;
    snprintf(c.dir, sizeof(c.dir), ".");
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
        rc = -EINVAL;
        goto out;
    }
    if ((rc = load_loyalty_object(&c, root)) < 0 || (rc = gw_config_validate(tmp, err, errlen)) < 0)
        goto out;
    *out = tmp->loyalty;
    rc = 0;
out:
    json_decref(root);
    free(tmp);
    free(def);
    return rc;
}

/* ---------------------------------------------------------------- cross-key validation */

static int validate_window(struct load_ctx *c, const struct gw_window *w, const char *what,
                           unsigned i, bool promo)
{
    char p[PATH_LEN];

    snprintf(p, sizeof(p), "loyalty.%s[%u]", what, i);
    if (strnlen(w->name, sizeof(w->name)) == 0)
        return fail(c, p, "name must not be empty");
    if (w->from >= w->to)
        return fail(c, p, "from must be before to");
    if (w->pct < 1 || w->pct > 10000)
        return fail(c, p, "multiplier_pct %" PRId32 " is outside 1..10000", w->pct);
    if (w->kinds & ~(uint32_t)((1u << GW_EV_TOPUP) | (1u << GW_EV_BILL) | (1u << GW_EV_USAGE)))
        return fail(c, p, "kinds may name TOPUP, BILL and USAGE only");
    if (promo && w->channel[0]) {
        if (!gw_event_channel_known(w->channel))
            return fail(c, p, "unknown channel \"%s\"", w->channel);
        if (w->kinds && !(w->kinds & (1u << GW_EV_TOPUP)))
            return fail(c, p, "only TOPUP events have a channel: add TOPUP to kinds");
    }
    return 0;
}

int gw_config_validate(const struct gw_config *cfg, char *err, size_t errlen)
{
    struct load_ctx c = {.file = "", .err = err, .errlen = errlen};
    const struct gw_loyalty *t = &cfg->loyalty;
    char fmt_err[160];
    int64_t max_season = 100, max_promo = 100;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    /* 1. every row's bounds, for values that came from module defaults rather than the file */
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        rc = check_value(&c, &keys[i], cfg);
        if (rc < 0)
            return rc;
    }
    /* 2. events */
    if (cfg->events.n_senders == 0 || cfg->events.n_senders > GW_MAX_SENDERS)
        return fail(&c, "events.senders", "1 to %d senders", GW_MAX_SENDERS);
    if (cfg->events.limits.n_prefixes == 0 || cfg->events.limits.n_prefixes > GW_MAX_PREFIXES)
        return fail(&c, "events.country_prefixes", "1 to %d prefixes", GW_MAX_PREFIXES);
    if (cfg->events.limits.max_amount_milli <= 0 ||
        cfg->events.limits.max_amount_milli > AMOUNT_CEILING_MILLI)
        return fail(&c, "events.max_amount", "outside 0.001..1000000000");
    if (gw_event_format_check(&cfg->events.format, fmt_err, sizeof(fmt_err)) < 0)
        return fail(&c, "events", "%s", fmt_err);
    /* 3. a redelivery must find its ref for as long as the event itself is acceptable, or an
     * old duplicate would be credited twice (spec "Outcomes") */
    if ((int64_t)cfg->ledger.ref_retention_days * 86400 < cfg->events.limits.max_age_s + 86400)
        return fail(&c, "ledger.ref_retention_days",
                    "%" PRIu32 " days is less than events.max_age_days (%" PRId64 ") + 1",
                    cfg->ledger.ref_retention_days, cfg->events.limits.max_age_s / 86400);
    /* 4. connections */
    if (cfg->smpp.reconnect_min_ms > cfg->smpp.reconnect_max_ms)
        return fail(&c, "smpp.reconnect_min_ms",
                    "%" PRIu32 " is above smpp.reconnect_max_ms %" PRIu32,
                    cfg->smpp.reconnect_min_ms, cfg->smpp.reconnect_max_ms);
    if (cfg->redis.reconnect_min_ms > cfg->redis.reconnect_max_ms)
        return fail(&c, "redis.reconnect_min_ms",
                    "%" PRIu32 " is above redis.reconnect_max_ms %" PRIu32,
                    cfg->redis.reconnect_min_ms, cfg->redis.reconnect_max_ms);
    if (cfg->redis.host[0] == '\0' && cfg->redis.unix_socket[0] == '\0')
        return fail(&c, "redis.host", "set redis.host or redis.unix_socket");
    if (cfg->redis.n_sentinels > 0 && cfg->redis.master_name[0] == '\0')
        return fail(&c, "redis.master_name", "required with redis.sentinels");
    if (cfg->redis.n_sentinels > 0 && cfg->redis.n_cluster_nodes > 0)
        return fail(&c, "redis.sentinels", "not with redis.cluster_nodes (Cluster fails over itself)");
    if (cfg->redis.wait_replicas > 0 && cfg->redis.n_cluster_nodes > 0)
        return fail(&c, "redis.wait_replicas", "not with redis.cluster_nodes");
    if (cfg->redis.wait_replicas > 0 && cfg->redis.wait_timeout_ms >= cfg->redis.request_timeout_ms)
        return fail(&c, "redis.wait_timeout_ms", "%" PRIu32 " is not below redis.request_timeout_ms",
                    cfg->redis.wait_timeout_ms);
    if (cfg->redis.username[0] && cfg->redis.password[0] == '\0')
        return fail(&c, "redis.username",
                    "needs a password: redis.password_file or LGW_REDIS_PASSWORD");
    /* provisioning: a worker needs somewhere to call; a claim must not steal an entry whose
     * call may still be running in a live worker */
    if (cfg->provisioning.enabled && cfg->provisioning.base_url[0] == '\0')
        return fail(&c, "provisioning.base_url", "required when provisioning.enabled is true");
    if (cfg->provisioning.retry_min_ms > cfg->provisioning.retry_max_ms)
        return fail(&c, "provisioning.retry_min_ms",
                    "%" PRIu32 " is above provisioning.retry_max_ms %" PRIu32,
                    cfg->provisioning.retry_min_ms, cfg->provisioning.retry_max_ms);
    if ((uint64_t)cfg->provisioning.claim_idle_ms < 2 * (uint64_t)cfg->provisioning.timeout_ms)
        return fail(&c, "provisioning.claim_idle_ms",
                    "%" PRIu32 " is below twice provisioning.timeout_ms (%" PRIu32 ")",
                    cfg->provisioning.claim_idle_ms, cfg->provisioning.timeout_ms);
    /* broadcast: reminders never hold more of the window than it has (USSD needs the rest) */
    if (cfg->broadcast.enabled && cfg->broadcast.max_in_flight > cfg->smpp.window)
        return fail(&c, "broadcast.max_in_flight", "%" PRIu32 " is above smpp.window %" PRIu32,
                    cfg->broadcast.max_in_flight, cfg->smpp.window);
    {
        char terr[160];

        if (gw_transfer_config_check(&cfg->transfers, terr, sizeof(terr)) < 0)
            return fail(&c, "transfers", "%s", terr);
    }
    {
        char uerr[160];

        /* the ussd library names the field ("t_answer_ms > t_total_ms") */
        if (ussd_config_check(&cfg->ussd, uerr, sizeof(uerr)) < 0)
            return fail(&c, "ussd", "%s", uerr);
    }
    /* 5. the loyalty table */
    for (int k = 0; k < GW_EV__COUNT; k++) {
        char p[PATH_LEN];

        if (k == GW_EV_REVERSAL)
            continue;
        snprintf(p, sizeof(p), "loyalty.rates.%s", gw_event_kind_name((enum gw_event_kind)k));
        if (t->rate[k].per <= 0 || t->rate[k].points < 0)
            return fail(&c, p, "per must be > 0 and points >= 0");
    }
    if (t->n_seasons > GW_MAX_SEASONS || t->n_promos > GW_MAX_PROMOS)
        return fail(&c, "loyalty", "too many seasons or promotions");
    for (unsigned i = 0; i < t->n_seasons; i++) {
        rc = validate_window(&c, &t->seasons[i], "seasons", i, false);
        if (rc < 0)
            return rc;
        if (t->seasons[i].pct > max_season)
            max_season = t->seasons[i].pct;
    }
    for (unsigned i = 0; i < t->n_promos; i++) {
        rc = validate_window(&c, &t->promos[i], "promotions", i, true);
        if (rc < 0)
            return rc;
        if (t->promos[i].pct > max_promo)
            max_promo = t->promos[i].pct;
    }
    if (t->n_tiers == 0 || t->n_tiers > GW_MAX_TIERS)
        return fail(&c, "loyalty.tiers", "1 to %d tiers", GW_MAX_TIERS);
    if (t->tiers[0].min_points != 0)
        return fail(&c, "loyalty.tiers[0].min_points", "the first tier starts at 0 points");
    for (unsigned i = 0; i < t->n_tiers; i++) {
        char p[PATH_LEN];

        snprintf(p, sizeof(p), "loyalty.tiers[%u]", i);
        if (strnlen(t->tiers[i].name, sizeof(t->tiers[i].name)) == 0)
            return fail(&c, p, "name must not be empty");
        if (t->tiers[i].pct < 1 || t->tiers[i].pct > 10000)
            return fail(&c, p, "multiplier_pct %" PRId32 " is outside 1..10000", t->tiers[i].pct);
        if (i > 0 && t->tiers[i].min_points <= t->tiers[i - 1].min_points)
            return fail(&c, p, "min_points %" PRId64 " must be above the previous tier's %" PRId64,
                        t->tiers[i].min_points, t->tiers[i - 1].min_points);
    }
    /* 6. the largest acceptable event under the richest multipliers must stay within what
     * gw_loyalty_earn and the ledger accept (GW_EARN_MILLI_MAX): refuse such a table now rather
     * than dead-letter big top-ups later. */
    for (int k = 0; k < GW_EV__COUNT; k++) {
        unsigned __int128 worst;

        if (k == GW_EV_REVERSAL)
            continue;
        worst = (unsigned __int128)cfg->events.limits.max_amount_milli *
                (unsigned __int128)t->rate[k].points * (unsigned __int128)max_season *
                (unsigned __int128)max_promo / ((unsigned __int128)t->rate[k].per * 10000u);
        if (worst > (unsigned __int128)GW_EARN_MILLI_MAX) {
            char p[PATH_LEN];

            snprintf(p, sizeof(p), "loyalty.rates.%s", gw_event_kind_name((enum gw_event_kind)k));
            return fail(&c, p,
                        "an event of events.max_amount could earn more than %" PRId64
                        " milli-points (GW_EARN_MILLI_MAX)",
                        GW_EARN_MILLI_MAX);
        }
    }
    return 0;
}

int gw_config_apply_timezone(const struct gw_config *cfg)
{
    /* the key's own check (a name, a regular TZif file), then the file read by cat_tz, which
     * refuses a corrupt one; on failure the zone in force stays */
    if (check_timezone(cfg->loyalty.timezone) || gw_zone_load(cfg->loyalty.timezone) < 0)
        return -EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- printing */

void gw_config_print(const struct gw_config *cfg, FILE *out)
{
    json_t *root = json_object();

    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        const char *dot = strchr(keys[i].name, '.');
        char section[32];
        json_t *sec, *v;

        snprintf(section, sizeof(section), "%.*s", (int)(dot - keys[i].name), keys[i].name);
        sec = json_object_get(root, section);
        if (!sec) {
            sec = json_object();
            json_object_set_new(root, section, sec);
        }
        v = dump_value(&keys[i], cfg);
        if (v)
            json_object_set_new(sec, dot + 1, v);
    }
    json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', out);
    json_decref(root);
}

/* ---------------------------------------------------------------- reference */

/* Writes s into a Markdown table cell: '|' escaped, newlines as spaces. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void print_range(const struct key_def *k, FILE *out)
{
    switch (k->type) {
    case KT_INT:
    case KT_UINT:
    case KT_DOUBLE:
        fprintf(out, "%" PRId64 " .. %" PRId64, k->min, k->max);
        break;
    case KT_ENUM:
        for (int i = 0; k->names[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", k->names[i]);
        break;
    case KT_STRING:
        if (k->min > 0)
            fprintf(out, "at least %" PRId64 " character%s", k->min, k->min > 1 ? "s" : "");
        break;
    case KT_BOOL:
        fputs("`true`, `false`", out);
        break;
    case KT_SPECIAL:
        break;
    }
}

void gw_config_print_reference(FILE *out)
{
    static const char *const type_names[] = {
        [KT_INT] = "integer", [KT_UINT] = "integer", [KT_STRING] = "string",
        [KT_BOOL] = "boolean", [KT_DOUBLE] = "number",  [KT_ENUM] = "enum",
        [KT_SPECIAL] = "see meaning",
    };
    struct gw_config *cfg = malloc(sizeof(*cfg));
    char section[32] = "";

    if (!cfg)
        return;
    gw_config_defaults(cfg);
    fputs("# Configuration reference\n\n"
          "<!-- Generated by `loyaltygw --print-config-reference` from the key table of\n"
          "     gateway/gw_config.c. Do not edit: change the table (or gateway/gw_config_doc.c\n"
          "     for the meanings) and regenerate; tests/it/test_config_reference.sh fails on\n"
          "     drift. -->\n\n"
          "`loyaltygw` reads one JSON file (`--config FILE`; the package installs\n"
          "`/etc/loyaltygw/loyaltygw.json`). Every key below is optional: a missing key keeps\n"
          "its default. Unknown keys are errors naming their full path; keys starting with `//`\n"
          "are comments. `loyaltygw --check-config --config FILE` validates a file,\n"
          "`--print-config` shows the effective values (secrets as `***`). A `SIGHUP` reloads\n"
          "the loyalty table, the USSD menus and the catalogue; every other key needs a\n"
          "restart. `loyalty-admin` reads the same file for what it shares (Redis, the loyalty\n"
          "table's tiers and zone, the ledger's lengths, `log.*`).\n",
          out);
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        const struct key_def *k = &keys[i];
        const char *dot = strchr(k->name, '.');
        const char *doc = gw_config_key_doc(k->name);
        char *def = NULL;
        json_t *v;

        if (strncmp(section, k->name, (size_t)(dot - k->name)) != 0 ||
            section[dot - k->name] != '\0') {
            snprintf(section, sizeof(section), "%.*s", (int)(dot - k->name), k->name);
            fprintf(out, "\n## %s\n\n", section);
            if (gw_config_key_doc(section))
                fprintf(out, "%s\n\n", gw_config_key_doc(section));
            fputs("| key | type | allowed | default | meaning |\n"
                  "| --- | --- | --- | --- | --- |\n",
                  out);
        }
        fprintf(out, "| `%s` | %s | ", k->name, type_names[k->type]);
        print_range(k, out);
        fputs(" | ", out);
        if (k->flags & KF_SECRET) {
            fputs("(secret)", out);
        } else {
            v = dump_value(k, cfg);
            def = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10))
                    : NULL;
            json_decref(v);
            fputc('`', out);
            md_cell(out, def ? def : "null");
            fputc('`', out);
            free(def);
        }
        fputs(" | ", out);
        md_cell(out, doc ? doc : "(not described yet: add it to gateway/gw_config_doc.c)");
        fputs(" |\n", out);
    }
    free(cfg);
}
