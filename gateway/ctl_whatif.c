/*
 * ctl_whatif.c - `loyaltyctl whatif`: replays the event journal (gw_journal.h) of the last N
 * local days under the loyalty table in force and under a draft, and prints both side by side
 * (gw_whatif.h); with a draft catalogue, the journal's granted redemptions at its prices too
 * (gw_whatif_cat.h); with draft campaigns, campaign.lua in scratch redis-servers
 * (ctl_whatif_camp.h), the older members starting from their wallets (ctl_whatif_state.h: one
 * read-only HMGET each on the configuration's Redis). Its own process, at nice 10: never on the
 * gateway's loop. loyalty-admin runs it as a worker for the console (--json --progress-file).
 *
 *   loyaltyctl whatif --config FILE [--draft TABLE.json] [--draft-catalog CATALOG.json]
 *                     [--days N] [--table TABLE.json] [--journal DIR] [--today YYYYMMDD]
 *                     [--point-value X] [--json] [--progress-file FILE] [--no-redis]
 *                     [--campaigns FILE] [--draft-campaigns FILE] [--redis-server PATH]
 *                     [--no-wallets]
 * (at least one draft; without --draft the table in force is the draft too)
 *
 * The table in force: --table FILE, else the stored one (cfg:{adm}:loyalty, issue 12 section 1:
 * the console's edits are what the gateways earn by), read once from the configuration's Redis,
 * else - nothing stored, or --no-redis - the configuration's. The result names its source.
 *
 * Files of one day from several gateways are merged by commit time (a subscriber's events are
 * committed in order by one ledger, whichever gateway took them).
 */
#include "ctl_whatif.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_config.h"
#include "gw_days.h"
#include "gw_redis.h"
#include "gw_journal.h"
#include "catalog.h"
#include "ctl_whatif_camp.h"
#include "ctl_whatif_state.h"
#include "gw_whatif.h"
#include "gw_whatif_cat.h"
#include "gw_zone.h"

#define MAX_FILES 512 /* journal files in the window (days x gateways) */

struct reader {
    FILE *f;
    char line[GW_JOURNAL_LINE_MAX + 2];
    size_t len;
    struct gw_journal_rec rec;
    struct gw_journal_redeem red; /* when is_redeem */
    struct gw_journal_enrol enr;  /* when is_enrol */
    struct gw_journal_refer ref;  /* when is_refer (format version 3) */
    bool is_redeem, is_enrol, is_refer;
    int64_t ms; /* the record's commit time (the merge's key) */
    bool have;
};

struct run {
    struct gw_whatif *w;
    struct gw_whatif_cat *cat; /* NULL: no draft catalogue */
    struct ctl_whatif_camp *camp; /* NULL: no draft campaigns */
    uint64_t redeem_lines, refer_lines, bytes_total, bytes_done, bad_lines;
    const char *progress_file;
    bool bar;
    int last_pct;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loyaltyctl whatif --config FILE [--draft TABLE.json]\n"
            "         [--draft-catalog CATALOG.json] [--days N (7)] [--table TABLE.json]\n"
            "         [--journal DIR] [--today YYYYMMDD] [--point-value X] [--json]\n"
            "         [--progress-file FILE] [--no-redis]\n"
            "         [--campaigns FILE] [--draft-campaigns FILE] [--redis-server PATH]\n"
            "         [--no-wallets]\n"
            "  replays the event journal of the last N local days under the table in force\n"
            "  (--table, else the stored cfg:{adm}:loyalty, else the config's) and under the\n"
            "  draft, side by side; with\n"
            "  --draft-catalog, the granted redemptions at the draft catalogue's prices too\n");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 > cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!nb || cap > (size_t)16 << 20) {
                free(nb ? nb : buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static int load_table(const char *path, const struct gw_config *base, struct gw_loyalty *out)
{
    size_t len = 0;
    char *text = slurp(path, &len), err[320];
    int rc;

    if (!text) {
        fprintf(stderr, "loyaltyctl: %s: %s\n", path, strerror(errno ? errno : EIO));
        return -EIO;
    }
    rc = gw_config_loyalty_parse(path, text, len, base, out, err, sizeof(err));
    free(text);
    if (rc < 0)
        fprintf(stderr, "loyaltyctl: %s\n", err);
    return rc;
}

/* The stored table in force (cfg:{adm}:loyalty doc/version) into out, checked by the gateway's
 * parser. Returns its version (> 0), 0 when none is stored, or < 0 (Redis unreachable, or a
 * stored table the parser refuses: err says why). */
static long long stored_table(const struct gw_config *cfg, struct gw_loyalty *out, char *err,
                              size_t errlen)
{
    redisContext *c = gw_redis_connect_sync(&cfg->redis, 2000, err, errlen);
    redisReply *rep;
    long long version = 0;

    if (!c)
        return -ENOTCONN;
    rep = redisCommand(c, "HMGET cfg:{adm}:loyalty doc version");
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        snprintf(err, errlen, "cfg:{adm}:loyalty: %s", rep ? "unexpected reply" : c->errstr);
        version = -EPROTO;
    } else if (rep->element[0]->type == REDIS_REPLY_STRING) {
        const redisReply *d = rep->element[0], *v = rep->element[1];
        version = v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 1;
        if (gw_config_loyalty_parse("cfg:{adm}:loyalty", d->str, d->len, cfg, out, err,
                                    errlen) < 0)
            version = -EINVAL;
    }
    freeReplyObject(rep);
    redisFree(c);
    return version;
}

/* A campaigns document: FILE, else the stored cfg:{adm}:campaigns (when Redis is asked),
 * else none (no campaign). Returns 0 or < 0 (err set). */
static int load_campaigns(const char *path, const struct gw_config *cfg, bool redis,
                          struct gw_campaigns *out, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (path) {
        if (!(text = slurp(path, &len))) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
            return -EIO;
        }
    } else if (redis) {
        redisContext *c = gw_redis_connect_sync(&cfg->redis, 2000, err, errlen);
        if (!c)
            return -ENOTCONN;
        redisReply *rep = redisCommand(c, "HGET cfg:{adm}:campaigns doc");
        if (rep && rep->type == REDIS_REPLY_STRING && (text = malloc(rep->len + 1))) {
            memcpy(text, rep->str, rep->len + 1);
            len = rep->len;
        } else if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "cfg:{adm}:campaigns: %s", rep ? rep->str : c->errstr);
            rc = -EPROTO;
        }
        freeReplyObject(rep);
        redisFree(c);
    }
    if (rc == 0 && text) {
        char perr[256];
        rc = gw_campaigns_parse(text, len, out, perr, sizeof(perr));
        if (rc < 0)
            snprintf(err, errlen, "%s: %s", path ? path : "cfg:{adm}:campaigns", perr);
    }
    free(text);
    return rc;
}

static void progress(struct run *r, bool final)
{
    int pct = r->bytes_total ? (int)(r->bytes_done * 100 / r->bytes_total) : 100;

    if (!final && pct == r->last_pct)
        return;
    r->last_pct = pct;
    if (r->bar) {
        char bar[41];
        int full = pct * 40 / 100;
        memset(bar, '#', (size_t)full);
        memset(bar + full, '.', (size_t)(40 - full));
        bar[40] = '\0';
        fprintf(stderr, "\rwhatif [%s] %3d%%", bar, pct);
        if (final)
            fputc('\n', stderr);
    }
    if (r->progress_file) {
        /* written whole then renamed: the console never reads half a line */
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", r->progress_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%d %" PRIu64 " %" PRIu64 "\n", pct, r->bytes_done, r->bytes_total);
            if (fclose(f) == 0)
                (void)rename(tmp, r->progress_file);
        }
    }
}

/* Reads the next valid record of rd (bad lines are counted and skipped). */
static void reader_next(struct run *r, struct reader *rd)
{
    rd->have = false;
    while (fgets(rd->line, sizeof(rd->line), rd->f)) {
        size_t n = strlen(rd->line);

        r->bytes_done += n;
        if (n > 0 && rd->line[n - 1] != '\n' && !feof(rd->f)) {
            int ch; /* longer than any valid line: skip the rest */
            while ((ch = fgetc(rd->f)) != EOF && ch != '\n')
                r->bytes_done++;
            r->bad_lines++;
            continue;
        }
        if (rd->line[0] == '#') {
            /* the header (format version 2 or 3); a version this reader does not know is
             * counted */
            int v = gw_journal_header_parse(rd->line, n);
            if (v < 1 || v > GW_JOURNAL_VERSION)
                r->bad_lines++;
            continue;
        }
        rd->is_redeem = n > 16 && strstr(rd->line, " D ") != NULL &&
                        gw_journal_redeem_parse(rd->line, n, &rd->red) == 0;
        rd->is_enrol = !rd->is_redeem && strstr(rd->line, " J ") != NULL &&
                       gw_journal_enrol_parse(rd->line, n, &rd->enr) == 0;
        rd->is_refer = !rd->is_redeem && !rd->is_enrol && strstr(rd->line, " F ") != NULL &&
                       gw_journal_refer_parse(rd->line, n, &rd->ref) == 0;
        if (rd->is_redeem)
            rd->ms = rd->red.commit_ms;
        else if (rd->is_enrol)
            rd->ms = rd->enr.commit_ms;
        else if (rd->is_refer)
            rd->ms = rd->ref.commit_ms;
        else if (gw_journal_parse(rd->line, n, &rd->rec) == 0)
            rd->ms = rd->rec.commit_ms;
        else {
            r->bad_lines++;
            continue;
        }
        rd->have = true;
        return;
    }
}

/* Replays the files of one day, merged by commit time (ties: the first file). */
static int replay_day(struct run *r, char **paths, size_t n)
{
    struct reader *rd = calloc(n, sizeof(*rd));
    int rc = 0;

    if (!rd)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        rd[i].f = fopen(paths[i], "r");
        if (!rd[i].f) {
            fprintf(stderr, "loyaltyctl: %s: %s\n", paths[i], strerror(errno));
            continue;
        }
        reader_next(r, &rd[i]);
    }
    for (;;) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (rd[i].have && (best == n || rd[i].ms < rd[best].ms))
                best = i;
        }
        if (best == n)
            break;
        if (rd[best].is_redeem) {
            r->redeem_lines++;
            rc = r->cat ? gw_whatif_cat_feed(r->cat, &rd[best].red) : 0;
        } else if (rd[best].is_enrol)
            rc = r->camp ? ctl_whatif_camp_enrol(r->camp, &rd[best].enr) : 0;
        else if (rd[best].is_refer) {
            r->refer_lines++;
            rc = r->camp ? ctl_whatif_camp_refer(r->camp, &rd[best].ref) : 0;
        } else {
            rc = gw_whatif_feed(r->w, &rd[best].rec);
            if (rc == 0 && r->camp) {
                const char *tier[2] = {gw_whatif_tier_of(r->w, rd[best].rec.msisdn, 0),
                                       gw_whatif_tier_of(r->w, rd[best].rec.msisdn, 1)};
                rc = ctl_whatif_camp_event(r->camp, &rd[best].rec, tier);
            }
        }
        if (rc < 0)
            break;
        reader_next(r, &rd[best]);
        progress(r, false);
    }
    for (size_t i = 0; i < n; i++) {
        if (rd[i].f)
            fclose(rd[i].f);
    }
    free(rd);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The journal files of days [first, last], sorted by name (= by day, then gateway). */
static int list_files(const char *dir, int32_t first, int32_t last, char **paths, size_t *n,
                      uint64_t *bytes)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return -errno;
    *n = 0;
    while ((de = readdir(d)) != NULL && *n < MAX_FILES) {
        const char *s = de->d_name;
        size_t len = strlen(s);
        char *end;
        long day;
        struct stat st;

        if (len < 12 || s[8] != '-' || strcmp(s + len - 3, ".lj") != 0)
            continue;
        day = strtol(s, &end, 10);
        if (end != s + 8 || day < first || day > last)
            continue;
        if (asprintf(&paths[*n], "%s/%s", dir, s) < 0)
            break;
        if (stat(paths[*n], &st) == 0)
            *bytes += (uint64_t)st.st_size;
        (*n)++;
    }
    closedir(d);
    qsort(paths, *n, sizeof(*paths), cmp_str);
    return 0;
}

static json_t *side_json(const struct gw_whatif_side *s, const struct gw_loyalty *t,
                         uint32_t pv_micro)
{
    json_t *tiers = json_object();
    int64_t net = s->issued - s->reversed;

    for (unsigned i = 0; i < t->n_tiers && i < GW_MAX_TIERS; i++)
        json_object_set_new(tiers, t->tiers[i].name, json_integer((json_int_t)s->members[i]));
    return json_pack("{sIsIsIsIsIsosIsf}", "issued", (json_int_t)s->issued, "reversed",
                     (json_int_t)s->reversed, "net", (json_int_t)net, "capped",
                     (json_int_t)s->capped, "refused", (json_int_t)s->refused, "tiers", tiers,
                     "liability_milli", (json_int_t)(net * (int64_t)pv_micro / 1000),
                     "top20_share", s->top20_bp / 10000.0);
}

static json_t *cat_json(const struct gw_whatif_cat_result *c, uint32_t pv)
{
    json_t *items = json_array(), *top = json_array();

    for (unsigned i = 0; i < c->n_top; i++)
        json_array_append_new(top, json_pack("{sssIsI}", "msisdn", c->top[i].msisdn, "base",
                                             (json_int_t)c->top[i].base, "draft",
                                             (json_int_t)c->top[i].draft));

    for (unsigned i = 0; i < c->n_items; i++)
        json_array_append_new(
            items, json_pack("{sssIsIsIsI}", "id", c->items[i].id, "count",
                             (json_int_t)c->items[i].count, "price_base",
                             (json_int_t)c->items[i].price_base, "price_draft",
                             (json_int_t)c->items[i].price_draft, "refused",
                             (json_int_t)c->items[i].refused));
    /* liability: points not spent stay owed; the draft's spent moves it by the difference */
    return json_pack("{sIsIsIsIsIsIsIsIsoso}", "redemptions", (json_int_t)c->redemptions,
                     "members", (json_int_t)c->members, "spent", (json_int_t)c->spent,
                     "cost_draft", (json_int_t)c->cost_draft, "spent_draft",
                     (json_int_t)c->spent_draft, "refused", (json_int_t)c->refused, "gone",
                     (json_int_t)c->gone, "liability_change_milli",
                     (json_int_t)((c->spent - c->spent_draft) * (int64_t)pv / 1000), "items",
                     items, "top_changes", top);
}

static void print_json(const struct gw_whatif_result *res, const struct gw_loyalty *base,
                       const struct gw_loyalty *draft, uint32_t pv, const char *cur,
                       uint64_t bad, int32_t first, int32_t last,
                       const struct gw_whatif_cat_result *cat, uint64_t redeem_lines,
                       const char *source, json_t *camp)
{
    json_t *top = json_array();

    for (unsigned i = 0; i < res->n_top; i++)
        json_array_append_new(top, json_pack("{sssIsI}", "msisdn", res->top[i].msisdn, "base",
                                             (json_int_t)res->top[i].base, "draft",
                                             (json_int_t)res->top[i].draft));
    json_t *o = json_pack("{sisisIsIsIsIsssisososo}", "from", (int)first, "to", (int)last,
                          "events", (json_int_t)res->events, "subscribers",
                          (json_int_t)res->subscribers, "bad_lines", (json_int_t)bad,
                          "recorded", (json_int_t)res->recorded, "currency", cur,
                          "point_value_micro", (int)pv, "base", side_json(&res->base, base, pv),
                          "draft", side_json(&res->draft, draft, pv), "top_changes", top);
    if (o) {
        json_object_set_new(o, "redemptions_journaled", json_integer((json_int_t)redeem_lines));
        json_object_set_new(o, "table_source", json_string(source));
    }
    if (o && cat)
        json_object_set_new(o, "catalog", cat_json(cat, pv));
    if (o && camp)
        json_object_set(o, "campaigns", camp);
    if (!o) {
        fprintf(stderr, "loyaltyctl: out of memory\n");
        return;
    }
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(o);
}

static void print_cat_text(const struct gw_whatif_cat_result *c, uint32_t pv, const char *cur)
{
    printf("catalogue: %" PRIu64 " redemptions by %" PRIu64 " members\n", c->redemptions,
           c->members);
    printf("%-22s %16s %16s\n", "", "in force", "draft");
    printf("%-22s %16" PRId64 " %16" PRId64 "\n", "cost of the same", c->spent, c->cost_draft);
    printf("%-22s %16" PRId64 " %16" PRId64 "\n", "points spent", c->spent, c->spent_draft);
    printf("%-22s %16d %16" PRIu64 "\n", "refused (balance)", 0, c->refused);
    printf("%-22s %16d %16" PRIu64 "\n", "items not in draft", 0, c->gone);
    printf("liability change (%-3s) %16s %+16.3f\n", cur, "",
           (double)(c->spent - c->spent_draft) * pv / 1e6);
    for (unsigned i = 0; i < c->n_items; i++)
        printf("  %-20s x%-8" PRIu64 " %10" PRId64 " -> %10" PRId64 " pts, %" PRIu64
               " refused\n",
               c->items[i].id, c->items[i].count, c->items[i].price_base,
               c->items[i].price_draft, c->items[i].refused);
    if (c->n_top)
        printf("largest changes (points spent, in force -> draft):\n");
    for (unsigned i = 0; i < c->n_top; i++)
        printf("  %-16s %10" PRId64 " -> %10" PRId64 "\n", c->top[i].msisdn, c->top[i].base,
               c->top[i].draft);
}

static void print_camp_text(json_t *cj, const char *cur)
{
    json_t *b = json_object_get(cj, "base"), *d = json_object_get(cj, "draft"), *c;
    size_t i;

    printf("campaigns (%s):\n",
           json_string_value(json_object_get(json_object_get(cj, "start_state"), "source")));
    printf("%-22s %16s %16s\n", "", "in force", "draft");
    printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", "bonus points issued",
           json_integer_value(json_object_get(b, "issued")),
           json_integer_value(json_object_get(d, "issued")));
    printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", "bonuses",
           json_integer_value(json_object_get(b, "grants")),
           json_integer_value(json_object_get(d, "grants")));
    printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", "budget stops",
           json_integer_value(json_object_get(b, "stops")),
           json_integer_value(json_object_get(d, "stops")));
    printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", "win-back offers",
           json_integer_value(json_object_get(b, "offers")),
           json_integer_value(json_object_get(d, "offers")));
    printf("bonus liability (%-3s) %16.3f %16.3f\n", cur,
           json_integer_value(json_object_get(b, "liability_milli")) / 1000.0,
           json_integer_value(json_object_get(d, "liability_milli")) / 1000.0);
    printf("%-22s %15.2f%% %15.2f%%\n", "top 20% share",
           json_real_value(json_object_get(b, "top20_share")) * 100,
           json_real_value(json_object_get(d, "top20_share")) * 100);
    /* members per tier: each side's tiers in its table's order (both tables' names) */
    json_t *bt = json_object_get(b, "tiers"), *dt = json_object_get(d, "tiers"), *v;
    const char *name;
    void *it = json_object_iter(dt);
    int row = 0;
    json_object_foreach(bt, name, v) {
        char lb[48], ld[48] = "";
        snprintf(lb, sizeof(lb), "%s %" JSON_INTEGER_FORMAT, name, json_integer_value(v));
        if (it) {
            snprintf(ld, sizeof(ld), "%s %" JSON_INTEGER_FORMAT, json_object_iter_key(it),
                     json_integer_value(json_object_iter_value(it)));
            it = json_object_iter_next(dt, it);
        }
        printf("%-22s %16s %16s\n", row++ ? "" : "members per tier", lb, ld);
    }
    for (; it; it = json_object_iter_next(dt, it)) {
        char ld[48];
        snprintf(ld, sizeof(ld), "%s %" JSON_INTEGER_FORMAT, json_object_iter_key(it),
                 json_integer_value(json_object_iter_value(it)));
        printf("%-22s %16s %16s\n", row++ ? "" : "members per tier", "", ld);
    }
    ctl_whatif_camp_text_ref(b, d);
    if (json_array_size(json_object_get(cj, "top_changes")))
        printf("largest changes (bonus points, in force -> draft):\n");
    json_array_foreach(json_object_get(cj, "top_changes"), i, c)
        printf("  %-16s %10" JSON_INTEGER_FORMAT " -> %10" JSON_INTEGER_FORMAT "\n",
               json_string_value(json_object_get(c, "msisdn")),
               json_integer_value(json_object_get(c, "base")),
               json_integer_value(json_object_get(c, "draft")));
    json_array_foreach(json_object_get(d, "campaigns"), i, c)
        printf("  draft %-16s %-8s spent %" JSON_INTEGER_FORMAT " (+%" JSON_INTEGER_FORMAT
               " before) of %" JSON_INTEGER_FORMAT "%s\n",
               json_string_value(json_object_get(c, "id")),
               json_string_value(json_object_get(c, "rule")),
               json_integer_value(json_object_get(c, "spent")),
               json_integer_value(json_object_get(c, "spent_before")),
               json_integer_value(json_object_get(c, "budget")),
               json_is_true(json_object_get(c, "stop_reached")) ? ", stop reached" : "");
}

static void print_text(const struct gw_whatif_result *res, const struct gw_loyalty *base,
                       const struct gw_loyalty *draft, uint32_t pv, const char *cur,
                       uint64_t bad, int32_t first, int32_t last)
{
    const struct gw_whatif_side *b = &res->base, *d = &res->draft;
    int64_t bn = b->issued - b->reversed, dn = d->issued - d->reversed;

    printf("what-if %08" PRId32 "..%08" PRId32 ": %" PRIu64 " events, %" PRIu64
           " subscribers, %" PRIu64 " bad lines; the ledger credited %" PRId64 " net\n",
           first, last, res->events, res->subscribers, bad, res->recorded);
    printf("%-22s %16s %16s\n", "", "in force", "draft");
    printf("%-22s %16" PRId64 " %16" PRId64 "\n", "points issued", b->issued, d->issued);
    printf("%-22s %16" PRId64 " %16" PRId64 "\n", "points reversed", b->reversed, d->reversed);
    printf("%-22s %16" PRId64 " %16" PRId64 "\n", "capped", b->capped, d->capped);
    printf("liability (%-3s)        %16.3f %16.3f\n", cur, (double)bn * pv / 1e6,
           (double)dn * pv / 1e6);
    printf("%-22s %15.2f%% %15.2f%%\n", "top 20% share", b->top20_bp / 100.0,
           d->top20_bp / 100.0);
    for (unsigned i = 0; i < GW_MAX_TIERS && (i < base->n_tiers || i < draft->n_tiers); i++) {
        char lb[48] = "", ld[48] = "";
        if (i < base->n_tiers)
            snprintf(lb, sizeof(lb), "%s %" PRIu64, base->tiers[i].name, b->members[i]);
        if (i < draft->n_tiers)
            snprintf(ld, sizeof(ld), "%s %" PRIu64, draft->tiers[i].name, d->members[i]);
        printf("%-22s %16s %16s\n", i == 0 ? "members per tier" : "", lb, ld);
    }
    printf("largest changes (net points of the window):\n");
    for (unsigned i = 0; i < res->n_top; i++)
        printf("  %-15s %12" PRId64 " -> %12" PRId64 "\n", res->top[i].msisdn, res->top[i].base,
               res->top[i].draft);
}

int ctl_whatif_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"draft", required_argument, NULL, 'd'},
        {"days", required_argument, NULL, 'n'},    {"table", required_argument, NULL, 't'},
        {"journal", required_argument, NULL, 'j'}, {"today", required_argument, NULL, 'T'},
        {"point-value", required_argument, NULL, 'v'}, {"json", no_argument, NULL, 'J'},
        {"progress-file", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"draft-catalog", required_argument, NULL, 'C'}, {"no-redis", no_argument, NULL, 'R'},
        {"campaigns", required_argument, NULL, 'K'}, {"draft-campaigns", required_argument, NULL, 'D'},
        {"redis-server", required_argument, NULL, 'S'}, {"no-wallets", no_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *draft_path = NULL, *table_path = NULL, *dir = NULL;
    const char *cat_path = NULL;
    bool no_redis = false, no_wallets = false;
    struct ctl_whatif_state_stats sst = {0};
    struct ctl_whatif_budget_stats bst = {0};
    const char *camp_path = NULL, *dcamp_path = NULL, *redis_server = "redis-server";
    struct gw_campaigns *camps = calloc(2, sizeof(*camps)); /* ~60 KiB each */
    char source[96] = "config";
    struct cat_catalog *cat = NULL;
    long days = 7, today = 0;
    uint32_t pv = 0;
    bool json = false;
    struct run r = {.last_pct = -1};
    struct gw_config *cfg = calloc(1, sizeof(*cfg));
    struct gw_loyalty *base = calloc(1, sizeof(*base)), *draft = calloc(1, sizeof(*draft));
    char err[320], *paths[MAX_FILES];
    size_t n = 0;
    int c, rc = 2;

    if (!cfg || !base || !draft || !camps)
        goto out;
    /* a what-if is never urgent: the gateway's loop on this host comes first */
    errno = 0;
    if (nice(10) == -1 && errno != 0)
        fprintf(stderr, "loyaltyctl: nice: %s\n", strerror(errno));
    optind = 1;
    /* argv: [loyaltyctl, ..., "whatif", options...]: parse after the command word (a --config
     * before it, loyaltyctl's general option, counts too) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[i + 1];
        if (strcmp(argv[i], "whatif") == 0) {
            argv += i;
            argc -= i;
            break;
        }
    }
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'd': draft_path = optarg; break;
        case 'C': cat_path = optarg; break;
        case 'R': no_redis = true; break;
        case 'W': no_wallets = true; break;
        case 'K': camp_path = optarg; break;
        case 'D': dcamp_path = optarg; break;
        case 'S': redis_server = optarg; break;
        case 't': table_path = optarg; break;
        case 'j': dir = optarg; break;
        case 'J': json = true; break;
        case 'P': r.progress_file = optarg; break;
        case 'n':
            days = strtol(optarg, NULL, 10);
            if (days < 1 || days > 400) {
                fprintf(stderr, "loyaltyctl: --days: 1 to 400\n");
                goto out;
            }
            break;
        case 'T':
            today = strtol(optarg, NULL, 10);
            if (!gw_days_valid((int32_t)today)) {
                fprintf(stderr, "loyaltyctl: --today: YYYYMMDD\n");
                goto out;
            }
            break;
        case 'v': {
            double v = strtod(optarg, NULL);
            if (!(v >= 0 && v <= 1000)) {
                fprintf(stderr, "loyaltyctl: --point-value: 0 to 1000 currency units\n");
                goto out;
            }
            pv = (uint32_t)(v * 1e6 + 0.5);
            break;
        }
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (!config || (!draft_path && !cat_path && !dcamp_path)) {
        usage(stderr);
        goto out;
    }
    rc = 1;
    if (gw_config_load(config, cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "loyaltyctl: %s\n", err);
        goto out;
    }
    *base = cfg->loyalty;
    if (table_path)
        snprintf(source, sizeof(source), "file");
    else if (!no_redis) {
        long long v = stored_table(cfg, base, err, sizeof(err));
        if (v < 0) {
            fprintf(stderr, "loyaltyctl: the stored loyalty table: %s (--table FILE, or --no-redis "
                            "for the configuration's)\n", err);
            goto out;
        }
        if (v > 0)
            snprintf(source, sizeof(source), "cfg:{adm}:loyalty version %lld", v);
    }
    if ((table_path && load_table(table_path, cfg, base) < 0) ||
        (draft_path && load_table(draft_path, cfg, draft) < 0))
        goto out;
    if (!draft_path)
        *draft = *base; /* a catalogue-only what-if: the table in force on both sides */
    if (cat_path) {
        /* the draft catalogue, checked by the catalog library as every reader checks it, with
         * the tiers of the table in force */
        const char *tiers[GW_MAX_TIERS];
        for (unsigned i = 0; i < base->n_tiers && i < GW_MAX_TIERS; i++)
            tiers[i] = base->tiers[i].name;
        struct cat_load_opts lo = {.tiers = tiers, .n_tiers = base->n_tiers};
        if (cat_catalog_load_file(cat_path, &lo, &cat, err, sizeof(err)) < 0) {
            fprintf(stderr, "loyaltyctl: %s\n", err);
            goto out;
        }
    }
    /* local days (the daily cap, the window) in the zone of the table in force */
    cfg->loyalty = *base;
    if (gw_config_apply_timezone(cfg) < 0) {
        fprintf(stderr, "loyaltyctl: unknown time zone %s\n", base->timezone);
        goto out;
    }
    if (!dir)
        dir = cfg->journal.dir;
    if (!dir[0]) {
        fprintf(stderr, "loyaltyctl: no journal: set journal.dir in %s or give --journal\n",
                config);
        goto out;
    }
    if (!today)
        today = gw_local_day((int64_t)time(NULL));
    int32_t first = gw_days_add((int32_t)today, (int32_t)(1 - days));
    if (list_files(dir, first, (int32_t)today, paths, &n, &r.bytes_total) < 0) {
        fprintf(stderr, "loyaltyctl: %s: %s\n", dir, strerror(errno));
        goto out;
    }
    r.w = gw_whatif_new(base, draft, cfg->events.limits.currency);
    r.bar = !json && isatty(STDERR_FILENO);
    if (!r.w || (cat && !(r.cat = gw_whatif_cat_new(cat))))
        goto out;
    if (dcamp_path) {
        /* the campaigns in force (--campaigns, else the stored document) and the draft */
        if (load_campaigns(camp_path, cfg, !no_redis, &camps[0], err, sizeof(err)) < 0 ||
            load_campaigns(dcamp_path, cfg, false, &camps[1], err, sizeof(err)) < 0) {
            fprintf(stderr, "loyaltyctl: %s\n", err);
            goto out;
        }
        const struct gw_campaigns *docs[2] = {&camps[0], &camps[1]};
        r.camp = ctl_whatif_camp_start(redis_server, docs, &cfg->campaigns,
                                       cfg->ledger.history_len, err, sizeof(err));
        if (!r.camp) {
            fprintf(stderr, "loyaltyctl: %s\n", err);
            goto out;
        }
        if (!no_redis && !no_wallets) {
            /* the members enrolled before the window: their state at its start */
            redisContext *sc = gw_redis_connect_sync(&cfg->redis, 10000, err, sizeof(err));
            int src = sc ? ctl_whatif_state_load(r.camp, sc, paths, n, first, docs, &sst, err,
                                                 sizeof(err))
                         : -EIO;
            /* the budgets spent before the window */
            if (src == 0)
                src = ctl_whatif_budget_load(r.camp, sc, first, (int32_t)today, docs, &bst, err,
                                             sizeof(err));
            redisFree(sc);
            if (src < 0) {
                fprintf(stderr, "loyaltyctl: the members' wallets: %s (--no-wallets: only the "
                                "members enrolled in the window)\n", err);
                goto out;
            }
        }
    }
    progress(&r, false);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1; /* the files of one day: same 8-digit prefix after the dir */
        size_t pre = strlen(dir) + 1 + 8;
        while (j < n && strncmp(paths[i], paths[j], pre) == 0)
            j++;
        if (replay_day(&r, paths + i, j - i) < 0) {
            fprintf(stderr, "loyaltyctl: the replay failed (out of memory, or the scratch "
                            "store of the campaigns)\n");
            goto out;
        }
        i = j;
    }
    r.bytes_done = r.bytes_total;
    progress(&r, true);
    struct gw_whatif_result res;
    if (gw_whatif_result(r.w, &res) < 0)
        goto out;
    struct gw_whatif_cat_result cres;
    if (r.cat)
        gw_whatif_cat_result(r.cat, &cres);
    int64_t end = (int64_t)time(NULL);
    {
        int64_t eod = gw_zone_day_start(gw_days_add((int32_t)today, 1)) - 1;
        end = eod < end ? eod : end;
    }
    json_t *cj = r.camp ? ctl_whatif_camp_result(r.camp, end) : NULL;
    if (cj)
        json_object_set_new(
            cj, "start_state",
            no_redis || no_wallets
                ? json_pack("{ss}", "source", "enrolled in the window only")
                : json_pack("{sssIsIsIsIsIsI}", "source", "wallets", "members",
                            (json_int_t)sst.members, "read", (json_int_t)sst.read, "gone",
                            (json_int_t)sst.gone, "rl_unknown", (json_int_t)sst.rl_unknown,
                            "bytes", (json_int_t)sst.bytes, "ms", (json_int_t)sst.ms));
    if (cj)
        json_object_set_new(
            cj, "start_budgets",
            bst.read ? json_pack("{sssIsIsI}", "source", "lg:cb:{cmp} minus the window's "
                                 "iss:BONUS:<id> aggregates", "campaigns",
                                 (json_int_t)bst.campaigns, "commands", (json_int_t)bst.commands,
                                 "ms", (json_int_t)bst.ms)
                     : json_pack("{ss}", "source", no_redis || no_wallets
                                 ? "not read: every budget starts at 0"
                                 : "not read (a window longer than the aggregates' 70 days): "
                                   "every budget starts at 0"));
    if (cj)
        json_object_set_new(cj, "referrals_journaled", json_integer((json_int_t)r.refer_lines));
    const struct gw_loyalty *const tables[2] = {base, draft};
    if (cj && ctl_whatif_camp_spread(r.camp, r.w, tables, cj) < 0) {
        fprintf(stderr, "loyaltyctl: out of memory\n");
        json_decref(cj);
        goto out;
    }
    for (int k = 0; cj && k < 2; k++) { /* the bonus points issued stay owed: x the point value */
        json_t *side = json_object_get(cj, k ? "draft" : "base");
        json_int_t issued = json_integer_value(json_object_get(side, "issued"));
        json_object_set_new(side, "liability_milli", json_integer(issued * (json_int_t)pv / 1000));
    }
    if (r.camp && !cj) {
        fprintf(stderr, "loyaltyctl: the campaigns' scratch store failed\n");
        goto out;
    }
    if (json)
        print_json(&res, base, draft, pv, cfg->events.limits.currency, r.bad_lines, first,
                   (int32_t)today, r.cat ? &cres : NULL, r.redeem_lines, source, cj);
    else {
        print_text(&res, base, draft, pv, cfg->events.limits.currency, r.bad_lines, first,
                   (int32_t)today);
        printf("table in force: %s\n", source);
        if (r.cat)
            print_cat_text(&cres, pv, cfg->events.limits.currency);
        if (cj)
            print_camp_text(cj, cfg->events.limits.currency);
    }
    json_decref(cj);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    gw_whatif_free(r.w);
    gw_whatif_cat_free(r.cat);
    ctl_whatif_camp_stop(r.camp);
    free(camps);
    cat_catalog_unref(cat);
    free(cfg);
    free(base);
    free(draft);
    return rc;
}

bool ctl_whatif_is_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "whatif") == 0)
            return true;
    }
    return false;
}
