/*
 * ctl_birthday.c - loyaltyctl birthday-import (ctl_birthday.h): the carrier's CSV of birth dates
 * into the wallets and the birthday index (docs/campaigns.md, "Birthday").
 *
 * Validated first, written after: every line is parsed (gw_birthday_csv_line) and the records
 * sorted by MSISDN before anything is written, so a file with one bad line, or one MSISDN twice
 * with two dates, changes nothing. Then one campaign.lua BDSET per record (the wallet's `bd` and
 * its month-day set lg:bd:{tag}:<MMDD> in one script, on the wallet's slot), pipelined by 1,000
 * per master. Redis Cluster: the masters are mapped once (ctl_masters.c, CLUSTER SLOTS), the
 * script loaded on each, and each record sent to its wallet's master; every master is reached
 * before the first write. A MOVED/ASK/TRYAGAIN (a resharding meanwhile) or a lost master stops
 * that master's records (the other masters' still go): exit 1 and the count of records applied,
 * and a re-run applies the rest.
 * Idempotent: a re-import of the same file finds every date in place ("same") and changes
 * nothing. Non-members (no wallet) are counted, not stored. The import is one record of the staff
 * audit trail (birthdays.import, who cli:<unix user>, the file and the counts).
 */
#include "ctl_birthday.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl_masters.h"
#include "gw_birthday.h"
#include "gw_campaign_bday.h"
#include "gw_campaign_run.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define RECORDS_MAX 10000000 /* 10 M lines (200 MB here): a larger file is split by the carrier */
#define ERRORS_SHOWN 20
#define BATCH 1000

struct rec {
    char msisdn[16];
    int32_t ymd;
    uint32_t line;
};

void ctl_birthday_usage(FILE *out)
{
    fprintf(out, "  birthday-import FILE [--dry-run]\n"
                 "                the carrier's birth dates (MSISDN,YYYY-MM-DD per line): all\n"
                 "                validated first (nothing is written if one line is bad), then\n"
                 "                stored for members; a re-import changes nothing; audited\n");
}

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    int c = strcmp(x->msisdn, y->msisdn);

    return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

/* Reads and validates the whole file. 0 with *out (sorted, unique), 2 refused (reasons printed). */
static int read_file(const char *path, struct rec **out, size_t *n_out, uint32_t *lines_out)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, msisdn[16], err[160];
    size_t cap = 0, n = 0, alloc = 0;
    ssize_t len;
    uint32_t no = 0, bad = 0;
    struct rec *v = NULL;
    int32_t today = gw_local_day((int64_t)time(NULL)), ymd;

    if (!f) {
        fprintf(stderr, "loyaltyctl: %s: %s\n", path, strerror(errno));
        return 2;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        no++;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        enum gw_bd_line k =
            gw_birthday_csv_line(line, (size_t)len, no, today, msisdn, &ymd, err, sizeof(err));
        if (k == GW_BD_BAD) {
            if (bad++ < ERRORS_SHOWN)
                fprintf(stderr, "loyaltyctl: %s: %s\n", path, err);
            continue;
        }
        if (k != GW_BD_RECORD)
            continue;
        if (n == RECORDS_MAX) {
            fprintf(stderr, "loyaltyctl: %s: more than %d records: split the file\n", path,
                    RECORDS_MAX);
            bad++;
            break;
        }
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 1024;
            struct rec *nv = realloc(v, na * sizeof(*v));
            if (!nv) {
                fprintf(stderr, "loyaltyctl: out of memory\n");
                bad++;
                break;
            }
            v = nv;
            alloc = na;
        }
        snprintf(v[n].msisdn, sizeof(v[n].msisdn), "%s", msisdn);
        v[n].ymd = ymd;
        v[n++].line = no;
    }
    free(line);
    fclose(f);
    if (n > 1)
        qsort(v, n, sizeof(*v), rec_cmp);
    /* one MSISDN twice: the same date is one record, two dates are a refusal */
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(v[u - 1].msisdn, v[i].msisdn) == 0) {
            if (v[u - 1].ymd != v[i].ymd && bad++ < ERRORS_SHOWN)
                fprintf(stderr, "loyaltyctl: %s: line %u: %s already has another date (line %u)\n",
                        path, v[i].line, v[i].msisdn, v[u - 1].line);
            continue;
        }
        v[u++] = v[i];
    }
    if (bad > 0) {
        fprintf(stderr, "loyaltyctl: %s: %u line(s) refused; nothing imported\n", path, bad);
        free(v);
        return 2;
    }
    *out = v;
    *n_out = u;
    *lines_out = no;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* The import's audit record (the staff trail, as loyaltyctl optin writes its own), on the
 * master of adm:{adm}:audit. */
static int audit(const struct ctl_masters *ms, const char *path, const char *after)
{
    static const char key[] = "adm:{adm}:audit";
    redisContext *c = ms->c[ctl_masters_of_key(ms, key, sizeof(key) - 1)];
    const char *user = getenv("USER");
    char who[64], at[24];

    snprintf(who, sizeof(who), "cli:%.40s", user && *user ? user : "?");
    snprintf(at, sizeof(at), "%lld", (long long)time(NULL) * 1000);
    redisReply *r =
        redisCommand(c,
                     "XADD %s * at %s who %s role cli ip - what %s "
                     "target %s before %s after %s req %s",
                     key, at, who, "birthdays.import", base_name(path), "{}", after, "");
    int rc = r && r->type == REDIS_REPLY_STRING ? 0 : 1;
    if (rc)
        fprintf(stderr, "loyaltyctl: the import is made but its audit record is not: %s\n",
                c->errstr[0] ? c->errstr : (r && r->type == REDIS_REPLY_ERROR ? r->str : "?"));
    freeReplyObject(r);
    return rc;
}

/* One BDSET per record idx[0..n) on master c (named host), pipelined. counts: new, same,
 * changed, nomember. 0, or < 0 with the reason on stderr (the records answered are counted). */
static int write_batch(redisContext *c, const char *host, const char *sha, const struct rec *v,
                       const uint32_t *idx, size_t n, int64_t now, uint64_t counts[4])
{
    static const char *const names[4] = {"new", "same", "changed", "nomember"};
    char tag[GW_SLOT_TAG_MAX], kw[40], kd[48], nows[24], ymd[16];
    int rc = 0;

    snprintf(nows, sizeof(nows), "%" PRId64, now);
    for (size_t i = 0; i < n; i++) {
        const struct rec *e = &v[idx[i]];
        if (gw_slot_tag_of(e->msisdn, tag) < 0)
            return -EINVAL;
        snprintf(kw, sizeof(kw), "lg:{%s}:w", e->msisdn);
        snprintf(kd, sizeof(kd), GW_BDAY_KEY_FMT, tag, (int)(e->ymd % 10000));
        snprintf(ymd, sizeof(ymd), "%08" PRId32, e->ymd);
        redisAppendCommand(c, "EVALSHA %s 2 %s %s BDSET %s %s", sha, kw, kd, nows, ymd);
    }
    /* every pipelined reply is read, even after an error */
    for (size_t i = 0; i < n; i++) {
        const struct rec *e = &v[idx[i]];
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            fprintf(stderr, "loyaltyctl: Redis %s: %s\n", host, c->errstr);
            return -EIO;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
            for (int k = 0; k < 4; k++)
                if (strcmp(r->element[0]->str, names[k]) == 0)
                    counts[k]++;
        } else if (rc == 0) {
            bool moved = r->type == REDIS_REPLY_ERROR &&
                         (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0 ||
                          strncmp(r->str, "TRYAGAIN", 8) == 0);
            fprintf(stderr, "loyaltyctl: %s on %s: %s%s\n", e->msisdn, host,
                    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply",
                    moved ? " (its slot is moving or moved: a resharding; not followed, this "
                            "master's remaining records are not written)"
                          : "");
            rc = -EPROTO;
        }
        freeReplyObject(r);
    }
    return rc;
}

/* campaign.lua on every master (its SHA1, the same everywhere, into sha). 0 or -1. */
static int load_script(const struct ctl_masters *ms, char sha[41])
{
    char host[128];

    for (unsigned k = 0; k < ms->n; k++) {
        redisContext *c = ms->c[k];
        redisReply *r = redisCommand(c, "SCRIPT LOAD %b", gw_lua_campaign, gw_lua_campaign_len);
        int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40 &&
                 (k == 0 || strcmp(sha, r->str) == 0);
        if (ok)
            memcpy(sha, r->str, 41);
        else
            fprintf(stderr, "loyaltyctl: SCRIPT LOAD on %s: %s\n",
                    ctl_masters_name(ms, k, host, sizeof(host)),
                    c->errstr[0]
                        ? c->errstr
                        : (r && r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
        freeReplyObject(r);
        if (!ok)
            return -1;
    }
    return 0;
}

/* The records' indexes grouped by master (ms->of of each wallet's slot); first[k]..first[k+1]
 * are master k's. NULL when out of memory. */
static uint32_t *by_master(const struct ctl_masters *ms, const struct rec *v, size_t n,
                           size_t first[CTL_MASTERS_MAX + 1])
{
    uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx));
    unsigned char *of = malloc(n ? n : 1);
    size_t at[CTL_MASTERS_MAX] = {0};

    if (!idx || !of) {
        free(idx);
        free(of);
        return NULL;
    }
    memset(first, 0, (CTL_MASTERS_MAX + 1) * sizeof(*first));
    for (size_t i = 0; i < n; i++) { /* the slot of lg:{M}:w is the slot of M */
        of[i] = (unsigned char)ctl_masters_of_key(ms, v[i].msisdn, strlen(v[i].msisdn));
        first[of[i] + 1]++;
    }
    for (unsigned k = 0; k < CTL_MASTERS_MAX; k++)
        first[k + 1] += first[k];
    for (size_t i = 0; i < n; i++)
        idx[first[of[i]] + at[of[i]]++] = (uint32_t)i;
    free(of);
    return idx;
}

int ctl_birthday_import(redisContext *c, const struct gw_redis_config *cfg, int argc, char **argv,
                        FILE *out)
{
    const char *path = NULL;
    bool dry = false;
    struct rec *v = NULL;
    size_t n = 0, first[CTL_MASTERS_MAX + 1];
    uint32_t lines = 0, *idx = NULL;
    uint64_t counts[4] = {0};
    struct ctl_masters ms;
    char sha[41], host[128];
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry = true;
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path) {
        ctl_birthday_usage(stderr);
        return 2;
    }
    if ((rc = read_file(path, &v, &n, &lines)) != 0)
        return rc;
    if (dry) {
        fprintf(out, "%s: %u lines, %zu birth dates, valid (dry run: nothing written)\n", path,
                lines, n);
        free(v);
        return 0;
    }
    /* every master reached and loaded before the first write: an unreachable one writes nothing */
    if (ctl_masters_open(&ms, c, cfg) < 0) {
        fprintf(stderr, "loyaltyctl: %s: nothing imported\n", path);
        free(v);
        return 1;
    }
    if (load_script(&ms, sha) < 0 || !(idx = by_master(&ms, v, n, first))) {
        if (!idx)
            fprintf(stderr, "loyaltyctl: %s: nothing imported\n", path);
        rc = 1;
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    /* master after master, BATCH commands in flight on each; a failure stops that master's
     * records (the others still go): what was written stays, a re-import completes it (BDSET is
     * idempotent) */
    for (unsigned k = 0; k < ms.n; k++) {
        ctl_masters_name(&ms, k, host, sizeof(host));
        for (size_t i = first[k]; i < first[k + 1]; i += BATCH)
            if (write_batch(ms.c[k], host, sha, v, idx + i,
                            first[k + 1] - i < BATCH ? first[k + 1] - i : BATCH, now, counts) < 0) {
                rc = 1;
                break;
            }
    }
    uint64_t applied = counts[0] + counts[1] + counts[2] + counts[3];
    if (applied < n)
        rc = 1; /* never a success that did not write everything */
    char after[256];
    snprintf(after, sizeof(after),
             "{\"lines\":%u,\"records\":%zu,\"new\":%" PRIu64 ",\"changed\":%" PRIu64
             ",\"same\":%" PRIu64 ",\"not_members\":%" PRIu64 ",\"complete\":%s}",
             lines, n, counts[0], counts[2], counts[1], counts[3], rc == 0 ? "true" : "false");
    if (audit(&ms, path, after) != 0)
        rc = 1;
    fprintf(out,
            "%s: %u lines, %zu birth dates: %" PRIu64 " new, %" PRIu64 " changed, %" PRIu64
            " unchanged, %" PRIu64 " not members (not stored)",
            path, lines, n, counts[0], counts[2], counts[1], counts[3]);
    if (applied < n)
        fprintf(out, "; INCOMPLETE: %" PRIu64 " of %zu applied, run it again\n", applied, n);
    else
        fprintf(out, "%s\n", rc == 0 ? "" : "; INCOMPLETE: run it again");
out:
    ctl_masters_close(&ms);
    free(idx);
    free(v);
    return rc;
}
