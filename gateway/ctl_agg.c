/*
 * ctl_agg.c - loyaltyctl's readers of the ledger's per-slot aggregates (docs/data-model.md 6):
 *
 *   report [FROM [TO]]   the flows of the local days FROM..TO (YYYYMMDD; default today) summed
 *                        over the 16,384 slots, and the running totals (liability in points and
 *                        money, negative balances, members per tier, histogram, top-20 % share)
 *   agg-check            recomputes every slot's running totals from the wallets (SCAN) and
 *                        compares them with the stored ones, exactly: exit 1 and one line per
 *                        difference. Exact only while nothing writes (a commit between the scan
 *                        of a wallet and the read of its slot's totals shows as a difference):
 *                        run it at a quiet moment, or twice.
 *   agg-check --repair   the same, then rewrites the totals of each slot that differs from its
 *                        wallets (once, after upgrading wallets written before the aggregates
 *                        existed; needs a Redis user that may write lg:ag:*, not loyaltyctl's)
 *
 * Cost of a report: (days + 1) x 16,384 HGETALLs of small hashes, pipelined in batches of
 * PIPE commands per master - a few round trips per master, whatever the number of subscribers
 * (tests/bench/RESULTS.md). Every slot is read: at carrier scale every slot holds subscribers, so
 * a list of "slots touched" would save nothing and would be one more key to write per commit.
 *
 * Cluster: each slot is read from its master (ctl_masters.c: CLUSTER SLOTS, one synchronous
 * connection per master; on a single Redis the one connection serves every slot).
 */
#include "ctl_agg.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_masters.h"
#include "gw_agg.h"
#include "gw_days.h"
#include "gw_loyalty.h"

#define PIPE 2048     /* commands in flight per master */
#define MAX_DAYS 400  /* the day hashes live 400 days */

/* HGETALL of one key per slot (key_of(slot) built by the caller's format), pipelined per master;
 * each reply goes to fn(arg, slot, reply). 0 or -1. */
typedef void (*slot_fn)(void *arg, unsigned slot, const redisReply *r);

static int read_slots(struct ctl_masters *ns, const char *suffix, slot_fn fn, void *arg)
{
    static unsigned sent[PIPE];

    for (unsigned k = 0; k < ns->n; k++) {
        unsigned s = 0;
        while (s < GW_SLOTS) {
            unsigned n = 0;
            for (; s < GW_SLOTS && n < PIPE; s++) {
                char tag[GW_SLOT_TAG_MAX];
                if (ns->of[s] != k || gw_slot_tag(s, tag) < 0)
                    continue;
                redisAppendCommand(ns->c[k], "HGETALL lg:ag:%s:%s", tag, suffix);
                sent[n++] = s;
            }
            for (unsigned i = 0; i < n; i++) {
                redisReply *r = NULL;
                if (redisGetReply(ns->c[k], (void **)&r) != REDIS_OK || !r) {
                    fprintf(stderr, "loyaltyctl: redis: %s\n", ns->c[k]->errstr);
                    return -1;
                }
                if (r->type == REDIS_REPLY_ERROR) {
                    fprintf(stderr, "loyaltyctl: redis: %s\n", r->str);
                    freeReplyObject(r);
                    return -1;
                }
                fn(arg, sent[i], r);
                freeReplyObject(r);
            }
        }
    }
    return 0;
}

static void add_flows(void *arg, unsigned slot, const redisReply *r)
{
    (void)slot;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        gw_agg_flows_add(arg, r->element[i]->str, r->element[i + 1]->str);
}

static void add_tot(void *arg, unsigned slot, const redisReply *r)
{
    struct gw_agg_tot *t = arg;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        gw_agg_tot_add_field(&t[slot], r->element[i]->str, r->element[i + 1]->str);
}

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int day_arg(const char *s, int32_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || !gw_days_valid((int32_t)v))
        return fprintf(stderr, "loyaltyctl: %s: expected a day YYYYMMDD\n", s), -1;
    *out = (int32_t)v;
    return 0;
}

static int cmd_report(struct ctl_masters *ns, uint32_t point_value_micro, int argc, char **argv)
{
    static struct gw_agg_flows f;
    static struct gw_agg_tot slots[GW_SLOTS];
    struct gw_agg_tot all;
    int32_t from = gw_local_day(time(NULL)), to;
    struct timespec t0;
    int ndays = 0;
    char day[16], b[4], money[48];

    if (argc > 0 && day_arg(argv[0], &from) < 0)
        return 2;
    to = from;
    if (argc > 1 && day_arg(argv[1], &to) < 0)
        return 2;
    if (to < from || gw_days_number(to) - gw_days_number(from) >= MAX_DAYS) {
        fprintf(stderr, "loyaltyctl: report: FROM <= TO, at most %d days\n", MAX_DAYS);
        return 2;
    }
    memset(&f, 0, sizeof(f));
    memset(slots, 0, sizeof(slots));
    memset(&all, 0, sizeof(all));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int32_t d = from; d <= to; d = gw_days_add(d, 1), ndays++) {
        snprintf(day, sizeof(day), "%08" PRId32, d);
        if (read_slots(ns, day, add_flows, &f) < 0)
            return 1;
    }
    if (read_slots(ns, "tot", add_tot, slots) < 0)
        return 1;
    for (unsigned s = 0; s < GW_SLOTS; s++)
        gw_agg_tot_merge(&all, &slots[s]);
    int64_t ms = ms_since(&t0);

    printf("report days %08" PRId32 "..%08" PRId32 " (%d) slots %d masters %u keys %d read_ms %" PRId64
           "\n",
           from, to, ndays, GW_SLOTS, ns->n, (ndays + 1) * GW_SLOTS, ms);
    printf("flow issued %" PRId64 "\n", gw_agg_flows_prefix_sum(&f, "iss:"));
    static const char *const named[] = {"rev", "red", "rfd", "exp", "adj+", "adj-", "xfo", "xfi"};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        printf("flow %s %" PRId64 "\n", named[i], gw_agg_flows_get(&f, named[i]));
    for (unsigned i = 0; i < f.n; i++)
        if (strncmp(f.name[i], "iss:", 4) == 0 || strncmp(f.name[i], "n:", 2) == 0)
            printf("flow %s %" PRId64 "\n", f.name[i], f.v[i]);
    printf("total liability_points %" PRId64 "\n", all.liab);
    if (point_value_micro > 0 && gw_agg_money(all.liab, point_value_micro, money, sizeof(money)) == 0)
        printf("total liability_money %s\n", money);
    printf("total negative_points %" PRId64 "\n", all.neg);
    printf("total wallets %" PRId64 "\n", gw_agg_tot_wallets(&all));
    for (unsigned i = 0; i < all.ntiers; i++)
        printf("tier %s %" PRId64 "\n", all.tier[i], all.members[i]);
    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++) {
        if (all.h[i] == 0 && all.hs[i] == 0)
            continue;
        gw_agg_bucket_name(i, b);
        printf("hist %s %" PRId64 " %" PRId64 "\n", b, all.h[i], all.hs[i]);
    }
    int64_t ppm = gw_agg_top_share_ppm(&all, 20);
    printf("total top20_share_ppm %" PRId64 "\n", ppm);
    if (all.unknown || f.dropped)
        printf("warning unknown_fields %u dropped_flows %u\n", all.unknown, f.dropped);
    return 0;
}

/* ---- agg-check: the wallets, by SCAN on every master */

static int scan_wallets(redisContext *c, struct gw_agg_tot *slots, int64_t *nwallets)
{
    char cursor[32] = "0";

    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH lg:{*}:w COUNT 1000", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            fprintf(stderr, "loyaltyctl: SCAN: %s\n", r && r->type == REDIS_REPLY_ERROR ? r->str
                                                                                  : c->errstr);
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            redisAppendCommand(c, "HMGET %b bal tier", keys->element[i]->str,
                               (size_t)keys->element[i]->len);
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *w = NULL;
            if (redisGetReply(c, (void **)&w) != REDIS_OK || !w) {
                fprintf(stderr, "loyaltyctl: redis: %s\n", c->errstr);
                freeReplyObject(r);
                return -1;
            }
            const char *k = keys->element[i]->str, *a = strchr(k, '{'), *z = a ? strchr(a, '}') : NULL;
            if (w->type == REDIS_REPLY_ARRAY && w->elements == 2 &&
                w->element[0]->type == REDIS_REPLY_STRING && z) {
                unsigned slot = gw_redis_key_slot(a + 1, (size_t)(z - a - 1));
                const char *tier =
                    w->element[1]->type == REDIS_REPLY_STRING ? w->element[1]->str : NULL;
                gw_agg_tot_add_wallet(&slots[slot], strtoll(w->element[0]->str, NULL, 10), tier);
                (*nwallets)++;
            }
            freeReplyObject(w);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* Rewrites a slot's totals as recomputed: DEL, then one HSET of every non-zero field. */
static int repair_slot(redisContext *c, unsigned slot, const struct gw_agg_tot *t)
{
    char key[48], tag[GW_SLOT_TAG_MAX], names[2 * GW_AGG_BUCKETS + GW_AGG_TIERS + 2][48];
    char vals[2 * GW_AGG_BUCKETS + GW_AGG_TIERS + 2][24], b[4];
    const char *argv[2 + 2 * (2 * GW_AGG_BUCKETS + GW_AGG_TIERS + 2)];
    int n = 0, argc = 2;

#define PUT(v, ...)                                                                                \
    do {                                                                                           \
        if ((v) != 0) {                                                                            \
            snprintf(names[n], sizeof(names[n]), __VA_ARGS__);                                     \
            snprintf(vals[n], sizeof(vals[n]), "%" PRId64, (int64_t)(v));                          \
            argv[argc++] = names[n];                                                               \
            argv[argc++] = vals[n++];                                                              \
        }                                                                                          \
    } while (0)
    gw_slot_tag(slot, tag);
    snprintf(key, sizeof(key), "lg:ag:%s:tot", tag);
    PUT(t->liab, "liab");
    PUT(t->neg, "neg");
    for (unsigned i = 0; i < GW_AGG_BUCKETS; i++) {
        gw_agg_bucket_name(i, b);
        PUT(t->h[i], "h:%s", b);
        PUT(t->hs[i], "hs:%s", b);
    }
    for (unsigned i = 0; i < t->ntiers; i++)
        PUT(t->members[i], "t:%s", t->tier[i]);
#undef PUT
    redisReply *r = redisCommand(c, "DEL %s", key);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    if (ok && argc > 2) {
        argv[0] = "HSET";
        argv[1] = key;
        r = redisCommandArgv(c, argc, argv, NULL);
        ok = r && r->type == REDIS_REPLY_INTEGER;
        if (!ok)
            fprintf(stderr, "loyaltyctl: repair %s: %s\n", key,
                    r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
        freeReplyObject(r);
    }
    return ok ? 0 : -1;
}

static int cmd_check(struct ctl_masters *ns, bool repair)
{
    static struct gw_agg_tot want[GW_SLOTS], got[GW_SLOTS];
    struct gw_agg_tot wall, gall;
    int64_t nwallets = 0;
    unsigned diffs = 0;
    char label[48], tag[GW_SLOT_TAG_MAX];
    struct timespec t0;

    memset(want, 0, sizeof(want));
    memset(got, 0, sizeof(got));
    memset(&wall, 0, sizeof(wall));
    memset(&gall, 0, sizeof(gall));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned k = 0; k < ns->n; k++)
        if (scan_wallets(ns->c[k], want, &nwallets) < 0)
            return 1;
    if (read_slots(ns, "tot", add_tot, got) < 0)
        return 1;
    for (unsigned s = 0; s < GW_SLOTS; s++) {
        gw_slot_tag(s, tag);
        snprintf(label, sizeof(label), "slot %u %s", s, tag);
        unsigned d = gw_agg_tot_diff(&want[s], &got[s], label, stdout);
        if (d && repair && repair_slot(ns->c[ns->of[s]], s, &want[s]) < 0)
            return 1;
        diffs += d;
        gw_agg_tot_merge(&wall, &want[s]);
        gw_agg_tot_merge(&gall, &got[s]);
    }
    diffs += gw_agg_tot_diff(&wall, &gall, "all", stdout);
    printf("agg-check wallets %" PRId64 " liability %" PRId64 " stored %" PRId64
           " differences %u ms %" PRId64 "\n",
           nwallets, wall.liab, gall.liab, diffs, ms_since(&t0));
    if (gall.unknown)
        printf("agg-check unknown_fields %u\n", gall.unknown);
    if (repair) {
        printf("agg-check repaired %u differences\n", diffs);
        return 0;
    }
    return diffs || gall.unknown ? 1 : 0;
}

bool ctl_agg_is_command(const char *cmd)
{
    return strcmp(cmd, "report") == 0 || strcmp(cmd, "agg-check") == 0;
}

int ctl_agg_main(redisContext *ctx, const struct gw_redis_config *cfg, uint32_t point_value_micro,
                 int argc, char **argv)
{
    struct ctl_masters ns;
    int rc;

    if (argc < 1 || !ctl_agg_is_command(argv[0]))
        return 2;
    if (ctl_masters_open(&ns, ctx, cfg) < 0)
        return 1;
    if (strcmp(argv[0], "report") == 0)
        rc = cmd_report(&ns, point_value_micro, argc - 1, argv + 1);
    else
        rc = argc == 1                                        ? cmd_check(&ns, false)
             : argc == 2 && strcmp(argv[1], "--repair") == 0 ? cmd_check(&ns, true)
                                                              : 2;
    ctl_masters_close(&ns);
    return rc;
}
