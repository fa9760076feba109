/*
 * ctl_birthday.c - loyaltyctl birthday-import (ctl_birthday.h): the carrier's CSV of birth dates
 * into the wallets and the birthday index (docs/campaigns.md, "Birthday").
 *
 * Validated first, written after: every line is parsed (gw_birthday_csv_line) and the records
 * sorted by MSISDN before anything is written, so a file with one bad line, or one MSISDN twice
 * with two dates, changes nothing. Then one campaign.lua BDSET per record (the wallet's `bd` and
 * its month-day set lg:bd:{tag}:<MMDD> in one script, on the wallet's slot), pipelined by 1,000.
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

/* The import's audit record (the staff trail, as loyaltyctl optin writes its own). */
static int audit(redisContext *c, const char *path, const char *after)
{
    const char *user = getenv("USER");
    char who[64], at[24];

    snprintf(who, sizeof(who), "cli:%.40s", user && *user ? user : "?");
    snprintf(at, sizeof(at), "%lld", (long long)time(NULL) * 1000);
    redisReply *r = redisCommand(c,
                                 "XADD adm:{adm}:audit * at %s who %s role cli ip - what %s "
                                 "target %s before %s after %s req %s",
                                 at, who, "birthdays.import", base_name(path), "{}", after, "");
    int rc = r && r->type == REDIS_REPLY_STRING ? 0 : 1;
    if (rc)
        fprintf(stderr, "loyaltyctl: the import is made but its audit record is not: %s\n",
                c->errstr[0] ? c->errstr : (r && r->type == REDIS_REPLY_ERROR ? r->str : "?"));
    freeReplyObject(r);
    return rc;
}

/* counts: new, same, changed, nomember */
static int write_batch(redisContext *c, const char *sha, const struct rec *v, size_t n,
                       int64_t now, uint64_t counts[4])
{
    static const char *const names[4] = {"new", "same", "changed", "nomember"};
    char tag[GW_SLOT_TAG_MAX], kw[40], kd[48], nows[24], ymd[16];
    int rc = 0;

    snprintf(nows, sizeof(nows), "%" PRId64, now);
    for (size_t i = 0; i < n; i++) {
        if (gw_slot_tag_of(v[i].msisdn, tag) < 0)
            return -EINVAL;
        snprintf(kw, sizeof(kw), "lg:{%s}:w", v[i].msisdn);
        snprintf(kd, sizeof(kd), GW_BDAY_KEY_FMT, tag, (int)(v[i].ymd % 10000));
        snprintf(ymd, sizeof(ymd), "%08" PRId32, v[i].ymd);
        redisAppendCommand(c, "EVALSHA %s 2 %s %s BDSET %s %s", sha, kw, kd, nows, ymd);
    }
    /* every pipelined reply is read, even after an error */
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr);
            return -EIO;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
            for (int k = 0; k < 4; k++)
                if (strcmp(r->element[0]->str, names[k]) == 0)
                    counts[k]++;
        } else if (rc == 0) {
            fprintf(stderr, "loyaltyctl: %s: %s\n", v[i].msisdn,
                    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rc = -EPROTO;
        }
        freeReplyObject(r);
    }
    return rc;
}

int ctl_birthday_import(redisContext *c, int argc, char **argv, FILE *out)
{
    const char *path = NULL;
    bool dry = false;
    struct rec *v = NULL;
    size_t n = 0;
    uint32_t lines = 0;
    uint64_t counts[4] = {0};
    redisReply *r = NULL;
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
    r = redisCommand(c, "SCRIPT LOAD %b", gw_lua_campaign, gw_lua_campaign_len);
    if (!r || r->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "loyaltyctl: SCRIPT LOAD: %s\n",
                c->errstr[0] ? c->errstr : (r && r->type == REDIS_REPLY_ERROR ? r->str : "?"));
        rc = 1;
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n && rc == 0; i += BATCH)
        if (write_batch(c, r->str, v + i, n - i < BATCH ? n - i : BATCH, now, counts) < 0)
            rc = 1; /* stopped: what was written stays, a re-import completes it */
    char after[256];
    snprintf(after, sizeof(after),
             "{\"lines\":%u,\"records\":%zu,\"new\":%" PRIu64 ",\"changed\":%" PRIu64
             ",\"same\":%" PRIu64 ",\"not_members\":%" PRIu64 ",\"complete\":%s}",
             lines, n, counts[0], counts[2], counts[1], counts[3], rc == 0 ? "true" : "false");
    if (audit(c, path, after) != 0)
        rc = 1;
    fprintf(out, "%s: %u lines, %zu birth dates: %" PRIu64 " new, %" PRIu64 " changed, %" PRIu64
                 " unchanged, %" PRIu64 " not members (not stored)%s\n",
            path, lines, n, counts[0], counts[2], counts[1], counts[3],
            rc == 0 ? "" : "; INCOMPLETE: run it again");
out:
    freeReplyObject(r);
    free(v);
    return rc;
}
