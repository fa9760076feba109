/*
 * ctl.c - loyaltyctl, the operator's command line over the same Redis data the gateway writes.
 * Read-only for now: a subscriber's wallet, lots and history; the top subscribers; dead letters.
 * Synchronous hiredis is right here: one operator, one question at a time, off the daemon's loop.
 *
 *   loyaltyctl [--config FILE] [--socket PATH | --host H --port P] [--user NAME]
 *              [--password-file FILE] show MSISDN
 *   (--config: the gateway's file, for its Redis address, Sentinel, user and password; the options
 *   after it override; the password also from LGW_REDIS_PASSWORD, never from the command line)
 *   loyaltyctl [...] top [N]          (scans wallets: for the demo and small pilots; at carrier
 *                                      scale reports come from the staff console's aggregates)
 *   loyaltyctl [...] dlq [N]          newest N dead letters (both streams, merged)
 *   loyaltyctl [...] optin|optout MSISDN   the reminder broadcast's audience (gw_broadcast.h),
 *                                      recorded in the staff audit trail as cli:<unix user>
 *   loyaltyctl [...] alerts MSISDN on|off  the points-expiry warnings' own switch (consent record)
 *   loyaltyctl [...] campaign [ID]     a campaign's progress, or the newest 20 campaigns
 *   loyaltyctl [...] campaign-rules [--at UNIX] [--days N] [--json]   the campaign rules'
 *                                      figures and win-back preview (ctl_campaigns.c)
 *   loyaltyctl [...] birthday-import FILE [--dry-run]   the carrier's birth dates, validated,
 *                                      idempotent, audited (ctl_birthday.c)
 *   loyaltyctl [...] draw ITEM DAY SEED [WINNERS] [publish]   an item's seeded draw (ctl_draw.h)
 *   loyaltyctl [...] report [FROM [TO]]  the ledger's aggregates of those local days and its
 *                                      totals (ctl_agg.c; time independent of the subscribers)
 *   loyaltyctl [...] agg-check         recomputes the totals from the wallets: exit 1 on a
 *                                      difference (ctl_agg.c)
 *   loyaltyctl [--api URL] login|adjust|block|giftdays|catalog|item|audit|...   staff
 *                                      operations through loyalty-admin's API (ctl_api.c)
 */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_agg.h"
#include "ctl_api.h"
#include "ctl_birthday.h"
#include "ctl_campaigns.h"
#include "ctl_draw.h"
#include "ctl_whatif.h"
#include "gw_broadcast.h"
#include "gw_config.h"
#include "gw_hist.h"
#include "gw_ledger.h"
#include "gw_lots.h"
#include "gw_redis.h"
#include "gw_zone.h"

struct top_entry {
    char msisdn[GW_MSISDN_MAX + 1];
    long long bal;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: loyaltyctl [--config FILE] [--socket PATH | --host HOST --port PORT]\n"
                 "                  [--user NAME] [--password-file FILE] [--zone ZONE]\n"
                 "                  COMMAND\n"
                 "  --config FILE        Redis address, Sentinel, user, password and programme\n"
                 "                       zone (loyalty.timezone) of loyaltygw's config\n"
                 "  --zone ZONE          IANA zone of local days (report's today, the previews):\n"
                 "                       default the config's loyalty.timezone, else UTC; the TZ\n"
                 "                       environment variable is not used\n"
                 "  --user NAME          Redis ACL user (deploy/redis-users.acl: loyaltyctl)\n"
                 "  --password-file FILE its password (or LGW_REDIS_PASSWORD in the "
                 "environment)\n"
                 "  show MSISDN   wallet, lots and history of one subscriber\n"
                 "  top [N]       the N subscribers with the most points (default 10)\n"
                 "  dlq [N]       the newest N dead letters (default 10)\n"
                 "  optin MSISDN  add a subscriber to the reminder broadcast's audience\n"
                 "  optout MSISDN remove one\n"
                 "  alerts MSISDN on|off  the points-expiry warnings' own switch\n"
                 "  campaign [ID] a reminder campaign's progress (no ID: the newest 20)\n"
                 "  whatif ...    replay the event journal under a draft loyalty table\n"
                 "                (loyaltyctl whatif --help)\n"
                 "  report [FROM [TO]]  aggregates of the local days FROM..TO (YYYYMMDD, default\n"
                 "                today): points issued by kind and channel, redeemed, refunded,\n"
                 "                reversed, expired, adjusted; liability (in money with\n"
                 "                ledger.point_value_micro or --point-value-micro), tiers,\n"
                 "                balance histogram, top-20%% share\n"
                 "  agg-check [--repair]  recompute the aggregates' totals from the wallets; exit\n"
                 "                1 and print each difference (--repair: rewrite them, once after\n"
                 "                an upgrade, as a user that may write lg:ag:*)\n");
    ctl_campaigns_usage(out);
    ctl_birthday_usage(out);
    ctl_draw_usage(out);
    ctl_api_usage(out); /* the staff operations, through loyalty-admin (ctl_api.c) */
}

static bool valid_msisdn(const char *s)
{
    size_t n = strlen(s);

    if (n < 8 || n > GW_MSISDN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static const char *ctl_rule(void *arg, uint16_t id)
{
    const redisReply *rules = arg; /* HMGET lg:rules 1 .. n */

    if (!rules || rules->type != REDIS_REPLY_ARRAY || id == 0 || id > rules->elements)
        return NULL;
    return rules->element[id - 1]->type == REDIS_REPLY_STRING ? rules->element[id - 1]->str : NULL;
}

/* The wallet's packed history E merged with the list of the release before (gw_hist.h), the
 * rule texts from lg:rules, newest first. */
static void show_history(redisContext *c, const redisReply *w, const redisReply *h)
{
    const char *e = NULL, *notes = NULL, **legacy = calloc(h->elements + 1, sizeof(*legacy));
    size_t elen = 0, nlen = 0, *llen = calloc(h->elements + 1, sizeof(*llen)), cap = 512;
    uint16_t ids[64], maxid = 0;
    redisReply *rules = NULL;

    for (size_t i = 0; i + 1 < w->elements; i += 2)
        if (strcmp(w->element[i]->str, "E") == 0) {
            e = w->element[i + 1]->str;
            elen = w->element[i + 1]->len;
        } else if (strcmp(w->element[i]->str, "N") == 0) {
            notes = w->element[i + 1]->str;
            nlen = w->element[i + 1]->len;
        }
    size_t ne = gw_hist_count(elen), nids = gw_hist_rule_ids(e, elen, ne < 64 ? ne : 64, ids);
    for (size_t i = 0; i < nids; i++)
        maxid = ids[i] > maxid ? ids[i] : maxid;
    if (maxid > 0) {
        /* the ids are small and dense: one HMGET of 1..max (at most 65535 fields, read once) */
        const char **argv = calloc((size_t)maxid + 2, sizeof(*argv));
        char *num = malloc((size_t)maxid * 8);
        if (argv && num) {
            argv[0] = "HMGET";
            argv[1] = GW_HIST_RULES;
            for (unsigned i = 1; i <= maxid; i++) {
                snprintf(num + (i - 1) * 8, 8, "%u", i);
                argv[i + 1] = num + (i - 1) * 8;
            }
            rules = redisCommandArgv(c, (int)maxid + 2, argv, NULL);
        }
        free(argv);
        free(num);
    }
    char *lines = malloc((ne + h->elements + 1) * cap);
    if (legacy && llen && lines) {
        for (size_t i = 0; i < h->elements; i++) {
            legacy[i] = h->element[i]->str ? h->element[i]->str : "";
            llen[i] = h->element[i]->len;
        }
        size_t n = gw_hist_merge(e, elen, notes, nlen, legacy, llen, h->elements, ctl_rule, rules,
                                 lines, cap, ne + h->elements);
        if (n > 0)
            printf("history (newest first):\n");
        for (size_t i = 0; i < n; i++)
            printf("  %s\n", lines + i * cap);
    }
    freeReplyObject(rules);
    free(lines);
    free(legacy);
    free(llen);
}

/* The packed lots L (gw_lots.h), one line each as the old fields "l:YYYYMMDD" were shown. */
static void show_lots(const char *l, size_t len)
{
    struct gw_lot lot;
    size_t pos = 0;

    if (!gw_lots_valid(l, len)) {
        printf("  %-14s unreadable (%zu bytes: not u16 day + varint lots, oldest first)\n", "lots", len);
        return;
    }
    while (gw_lots_next(l, len, &pos, &lot)) {
        if (lot.day == GW_LOT_UNDATED) /* folded while points never expire: no date */
            printf("  lot %-10s %" PRId64 " points\n", "undated", lot.points);
        else
            printf("  lot %-10" PRId32 " %" PRId64 " points\n", lot.day, lot.points);
    }
}

static int cmd_show(redisContext *c, const char *msisdn)
{
    redisReply *w, *h;

    if (!valid_msisdn(msisdn)) {
        fprintf(stderr, "loyaltyctl: \"%s\" is not an MSISDN (8-15 digits)\n", msisdn);
        return 2;
    }
    w = redisCommand(c, "HGETALL lg:{%s}:w", msisdn);
    h = redisCommand(c, "LRANGE lg:{%s}:h 0 -1", msisdn);
    if (!w || !h || w->type != REDIS_REPLY_ARRAY || h->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "unexpected reply");
        freeReplyObject(w);
        freeReplyObject(h);
        return 1;
    }
    if (w->elements == 0) {
        printf("%s: not enrolled (no event seen)\n", msisdn);
    } else {
        printf("subscriber %s\n", msisdn);
        for (size_t i = 0; i + 1 < w->elements; i += 2) {
            const char *k = w->element[i]->str, *v = w->element[i + 1]->str;
            if (strncmp(k, "l:", 2) == 0) /* a lot of the release before (gw_lots.h) */
                printf("  lot %-10s %s points\n", k + 2, v);
            else if (strcmp(k, "L") == 0)
                show_lots(w->element[i + 1]->str, w->element[i + 1]->len);
            else if (strcmp(k, "R") == 0) /* packed records (docs/data-model.md) */
                printf("  %-14s %zu remembered\n", "refs", w->element[i + 1]->len / 15);
            else if (strcmp(k, "E") == 0) /* the packed history, below */
                printf("  %-14s %zu records\n", "history", gw_hist_count(w->element[i + 1]->len));
            else if (strcmp(k, "N") == 0) /* the history's notes (binary), shown with it */
                printf("  %-14s %zu bytes\n", "notes", w->element[i + 1]->len);
            else
                printf("  %-14s %s\n", k, v);
        }
    }
    show_history(c, w, h);
    freeReplyObject(w);
    freeReplyObject(h);
    return 0;
}

static int cmp_top(const void *a, const void *b)
{
    const struct top_entry *x = a, *y = b;

    if (x->bal != y->bal)
        return x->bal < y->bal ? 1 : -1;
    return strcmp(x->msisdn, y->msisdn);
}

static int cmd_top(redisContext *c, long n)
{
    struct top_entry *all = NULL;
    size_t len = 0, cap = 0;
    char cursor[32] = "0";
    int rc = 1;

    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH lg:{*}:w COUNT 1000", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "bad SCAN");
            freeReplyObject(r);
            goto out;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            const char *open = strchr(key, '{'), *close = open ? strchr(open, '}') : NULL;
            if (!open || !close || (size_t)(close - open - 1) > GW_MSISDN_MAX)
                continue;
            redisReply *b = redisCommand(c, "HGET %s bal", key);
            if (len == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct top_entry *grown = realloc(all, ncap * sizeof(*all));
                if (!grown) {
                    freeReplyObject(b);
                    freeReplyObject(r);
                    goto out;
                }
                all = grown;
                cap = ncap;
            }
            memcpy(all[len].msisdn, open + 1, (size_t)(close - open - 1));
            all[len].msisdn[close - open - 1] = '\0';
            all[len].bal = (b && b->type == REDIS_REPLY_STRING) ? atoll(b->str) : 0;
            len++;
            freeReplyObject(b);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);

    qsort(all, len, sizeof(*all), cmp_top);
    printf("%-4s %-16s %10s\n", "#", "subscriber", "points");
    for (size_t i = 0; i < len && (long)i < n; i++)
        printf("%-4zu %-16s %10lld\n", i + 1, all[i].msisdn, all[i].bal);
    printf("(%zu subscribers enrolled)\n", len);
    rc = 0;
out:
    free(all);
    return rc;
}

/* "ms-seq" ids of two streams, newest first; -1 when a is newer. */
static int dlq_newer(const char *a, const char *b)
{
    unsigned long long am, as = 0, bm, bs = 0;
    char *end;

    am = strtoull(a, &end, 10);
    if (*end == '-')
        as = strtoull(end + 1, NULL, 10);
    bm = strtoull(b, &end, 10);
    if (*end == '-')
        bs = strtoull(end + 1, NULL, 10);
    if (am != bm)
        return am > bm ? -1 : 1;
    return as > bs ? -1 : as < bs;
}

static bool dlq_entry_ok(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING && e->element[1]->type == REDIS_REPLY_ARRAY;
}

static void dlq_print(const redisReply *e, const char *stream)
{
    const redisReply *f = e->element[1];

    printf("- id %s\n    %-7s %s\n", e->element[0]->str, "stream", stream);
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
        if (f->element[j]->type == REDIS_REPLY_STRING &&
            f->element[j + 1]->type == REDIS_REPLY_STRING)
            printf("    %-7s %s\n", f->element[j]->str, f->element[j + 1]->str);
    }
}

/* The two dead-letter streams (gw_ledger.h: refused events, refused PDUs), merged newest first. */
static int cmd_dlq(redisContext *c, long n)
{
    redisReply *ev = redisCommand(c, "XREVRANGE lg:dlq:event + - COUNT %ld", n);
    redisReply *pd = ev ? redisCommand(c, "XREVRANGE lg:dlq:pdu + - COUNT %ld", n) : NULL;
    size_t i = 0, j = 0;
    long shown = 0;

    if (!ev || ev->type != REDIS_REPLY_ARRAY || !pd || pd->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "bad XREVRANGE");
        freeReplyObject(ev);
        freeReplyObject(pd);
        return 1;
    }
    while (shown < n && (i < ev->elements || j < pd->elements)) {
        if (i < ev->elements && !dlq_entry_ok(ev->element[i])) {
            i++;
            continue;
        }
        if (j < pd->elements && !dlq_entry_ok(pd->element[j])) {
            j++;
            continue;
        }
        bool take_ev = j >= pd->elements ||
                       (i < ev->elements && dlq_newer(ev->element[i]->element[0]->str,
                                                      pd->element[j]->element[0]->str) <= 0);
        if (shown == 0)
            printf("dead letters, newest first (events refused: lg:dlq:event, PDUs refused: "
                   "lg:dlq:pdu):\n");
        dlq_print(take_ev ? ev->element[i++] : pd->element[j++], take_ev ? "event" : "pdu");
        shown++;
    }
    if (shown == 0)
        printf("0 dead letters\n");
    freeReplyObject(ev);
    freeReplyObject(pd);
    return 0;
}

/* The consent record (GW_CONSENT_KEY_FMT) and the staff audit trail after a change of one of the
 * subscriber's two switches: marketing SMS (fields optin, at, channel, by) or the points-expiry
 * warnings (alerts, alerts_at, alerts_channel, alerts_by), as cli:<unix user> like
 * loyalty-admin --add-user does. */
static int consent_record(redisContext *c, const char *msisdn, bool alerts, bool in)
{
    const char *user = getenv("USER");
    const char *field = alerts ? "alerts" : "optin";
    char who[64], at[24], ckey[64], before[32], after[32];
    redisReply *r;

    snprintf(who, sizeof(who), "cli:%.40s", user && *user ? user : "?");
    snprintf(at, sizeof(at), "%lld", (long long)time(NULL) * 1000);
    snprintf(ckey, sizeof(ckey), GW_CONSENT_KEY_FMT, msisdn);
    r = alerts ? redisCommand(c, "HSET %s alerts %s alerts_at %s alerts_channel ctl alerts_by %s",
                              ckey, in ? "1" : "0", at, who)
               : redisCommand(c, "HSET %s optin %s at %s channel ctl by %s", ckey, in ? "1" : "0",
                              at, who);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyaltyctl: the consent record is not written: %s\n",
                c->errstr[0] ? c->errstr : "unexpected reply");
        freeReplyObject(r);
        return 1;
    }
    freeReplyObject(r);
    snprintf(before, sizeof(before), "{\"%s\":%s}", field, in ? "false" : "true");
    snprintf(after, sizeof(after), "{\"%s\":%s}", field, in ? "true" : "false");
    r = redisCommand(c, "XADD adm:{adm}:audit * at %s who %s role cli ip - what %s target %s "
                        "before %s after %s req %s",
                     at, who,
                     alerts ? (in ? "subscriber.alerts_on" : "subscriber.alerts_off")
                            : (in ? "subscriber.optin" : "subscriber.optout"),
                     msisdn, before, after, "");
    if (!r || r->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "loyaltyctl: the change is made but its audit record is not: %s\n",
                c->errstr[0] ? c->errstr : "unexpected reply");
        freeReplyObject(r);
        return 1;
    }
    freeReplyObject(r);
    return 0;
}

/* Opt-in is membership of bc:{bc}:optin (README "Reminder broadcast"), then the record. */
static int cmd_optin(redisContext *c, const char *msisdn, bool in)
{
    redisReply *r;

    if (!valid_msisdn(msisdn)) {
        fprintf(stderr, "loyaltyctl: \"%s\" is not an MSISDN (8-15 digits)\n", msisdn);
        return 2;
    }
    r = redisCommand(c, in ? "SADD %s %s" : "SREM %s %s", GW_BC_KEY_OPTIN, msisdn);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "unexpected reply");
        freeReplyObject(r);
        return 1;
    }
    bool changed = r->integer == 1;
    freeReplyObject(r);
    printf("%s: %s%s\n", msisdn, in ? "opted in" : "opted out", changed ? "" : " (already)");
    return changed ? consent_record(c, msisdn, false, in) : 0;
}

/* The expiry warnings' switch is the record's "alerts" alone (absent = on): the expiry job reads
 * it before each warning. */
static int cmd_alerts(redisContext *c, const char *msisdn, const char *state)
{
    redisReply *r;
    bool in = strcmp(state, "on") == 0;

    if (!valid_msisdn(msisdn)) {
        fprintf(stderr, "loyaltyctl: \"%s\" is not an MSISDN (8-15 digits)\n", msisdn);
        return 2;
    }
    if (!in && strcmp(state, "off") != 0) {
        fprintf(stderr, "loyaltyctl: alerts MSISDN on|off\n");
        return 2;
    }
    r = redisCommand(c, "HGET " GW_CONSENT_KEY_FMT " alerts", msisdn);
    if (!r || (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING)) {
        fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "unexpected reply");
        freeReplyObject(r);
        return 1;
    }
    bool was = r->type == REDIS_REPLY_NIL || strcmp(r->str, "0") != 0;
    freeReplyObject(r);
    printf("%s: expiry warnings %s%s\n", msisdn, in ? "on" : "off", was == in ? " (already)" : "");
    return was == in ? 0 : consent_record(c, msisdn, true, in);
}

static int cmd_campaign(redisContext *c, const char *id)
{
    redisReply *r;

    if (!id) {
        r = redisCommand(c, "ZREVRANGE %s 0 19", GW_BC_KEY_ALL);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
            freeReplyObject(r);
            return 1;
        }
        printf("%zu campaign(s), newest first:\n", r->elements);
        for (size_t i = 0; i < r->elements; i++)
            printf("  %s\n", r->element[i]->str);
        freeReplyObject(r);
        return 0;
    }
    if (!gw_campaign_id_valid(id)) {
        fprintf(stderr, "loyaltyctl: \"%s\" is not a campaign id\n", id);
        return 2;
    }
    r = redisCommand(c,
                     "HMGET %s%s state send_at total sent failed skipped unknown rate "
                     "updated_ms",
                     GW_BC_KEY_CAMPAIGN, id);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 9) {
        fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        freeReplyObject(r);
        return 1;
    }
    if (r->element[0]->type != REDIS_REPLY_STRING) {
        printf("%s: no such campaign\n", id);
        freeReplyObject(r);
        return 1;
    }
#define F(i) (r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "-")
    printf("campaign %s: %s, send_at %s\n  total %s  sent %s  failed %s  skipped %s  unknown %s"
           "  rate %s/s\n",
           id, F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7));
#undef F
    freeReplyObject(r);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, 'K'}, {"user", required_argument, NULL, 'U'},
        {"password-file", required_argument, NULL, 'W'},
        {"zone", required_argument, NULL, 'Z'},
        {"point-value-micro", required_argument, NULL, 'V'},
        {"repair", no_argument, NULL, 'R'}, /* agg-check --repair (getopt moves it here) */
        {NULL, 0, NULL, 0},
    };
    const char *sock = NULL, *host = NULL, *config = NULL, *user = NULL, *pwfile = NULL;
    const char *zone = NULL;
    const char *env_pw = getenv("LGW_REDIS_PASSWORD");
    int port = 0, c, rc;
    long long pv = -1; /* --point-value-micro, else the config's ledger.point_value_micro */
    uint32_t point_value = 0;
    bool repair = false;
    struct gw_redis_config rcfg;
    char err[320];
    redisContext *ctx;

    /* Changes go through loyalty-admin's API, where each rule lives once and is audited */
    if (ctl_api_is_command(argc, argv))
        return ctl_api_main(argc, argv);
    /* the what-if replay reads journal files only (ctl_whatif.c) */
    if (ctl_whatif_is_command(argc, argv))
        return ctl_whatif_main(argc, argv);
    while ((c = getopt_long(argc, argv, "+s:H:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sock = optarg;
            break;
        case 'H':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            if (port <= 0 || port > 65535) {
                fprintf(stderr, "loyaltyctl: --port: 1 to 65535\n");
                return 2;
            }
            break;
        case 'K':
            config = optarg;
            break;
        case 'U':
            user = optarg;
            break;
        case 'W':
            pwfile = optarg;
            break;
        case 'Z':
            zone = optarg;
            break;
        case 'R':
            repair = true;
            break;
        case 'V':
            pv = strtoll(optarg, NULL, 10);
            if (pv < 0 || pv > 1000000000) {
                fprintf(stderr, "loyaltyctl: --point-value-micro: 0 to 1000000000\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    gw_redis_config_defaults(&rcfg);
    if (config) {
        struct gw_config *g = malloc(sizeof(*g));
        if (!g || gw_config_load(config, g, err, sizeof(err)) < 0) {
            fprintf(stderr, "loyaltyctl: %s\n", g ? err : "out of memory");
            free(g);
            return 1;
        }
        rcfg = g->redis; /* LGW_REDIS_PASSWORD, when set, is already in it */
        point_value = g->ledger.point_value_micro;
        /* local days in the gateways' zone (the config loader checked the name) */
        rc = zone ? 0 : gw_config_apply_timezone(g);
        if (rc < 0)
            fprintf(stderr, "loyaltyctl: unknown time zone %s\n", g->loyalty.timezone);
        explicit_bzero(g, sizeof(*g));
        free(g);
        if (rc < 0)
            return 1;
    } else if (env_pw && env_pw[0]) {
        snprintf(rcfg.password, sizeof(rcfg.password), "%s", env_pw);
    }
    if (zone && gw_zone_load(zone) < 0) {
        fprintf(stderr, "loyaltyctl: --zone %s: not an installed IANA zone\n", zone);
        return 2;
    }
    if (sock) {
        snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", sock);
        rcfg.n_sentinels = 0;
    }
    if (host || port) {
        rcfg.unix_socket[0] = '\0';
        rcfg.n_sentinels = 0;
        if (host)
            snprintf(rcfg.host, sizeof(rcfg.host), "%s", host);
        if (port)
            rcfg.port = (uint16_t)port;
    }
    if (user)
        snprintf(rcfg.username, sizeof(rcfg.username), "%s", user);
    if (pwfile) {
        int prc = gw_redis_read_password_file(pwfile, rcfg.password, sizeof(rcfg.password));
        if (prc < 0) {
            fprintf(stderr, "loyaltyctl: --password-file %s: %s\n", pwfile,
                    prc == -EINVAL ? "the first line must hold the password" : strerror(-prc));
            return 1;
        }
    }
    if (pv >= 0)
        point_value = (uint32_t)pv;
    ctx = gw_redis_connect_sync(&rcfg, 2000, err, sizeof(err));
    if (ctx && strcmp(argv[optind], "birthday-import") == 0) {
        /* each record on its wallet's master: the others reached with the same credentials */
        rc = ctl_birthday_import(ctx, &rcfg, argc - optind - 1, argv + optind + 1, stdout);
        explicit_bzero(rcfg.password, sizeof(rcfg.password));
        redisFree(ctx);
        return rc;
    }
    if (ctx && ctl_agg_is_command(argv[optind])) {
        /* the other masters of a cluster are reached with the same credentials */
        char *check_repair[] = {argv[optind], "--repair"};
        rc = repair ? ctl_agg_main(ctx, &rcfg, point_value, 2, check_repair)
                    : ctl_agg_main(ctx, &rcfg, point_value, argc - optind, argv + optind);
        explicit_bzero(rcfg.password, sizeof(rcfg.password));
        redisFree(ctx);
        return rc;
    }
    explicit_bzero(rcfg.password, sizeof(rcfg.password));
    if (!ctx) {
        fprintf(stderr, "loyaltyctl: %s\n", err);
        return 1;
    }
    const char *cmd = argv[optind];
    long n = (optind + 1 < argc) ? strtol(argv[optind + 1], NULL, 10) : 10;
    if (n <= 0 || n > 100000)
        n = 10;
    if (strcmp(cmd, "show") == 0 && optind + 1 < argc)
        rc = cmd_show(ctx, argv[optind + 1]);
    else if (strcmp(cmd, "top") == 0)
        rc = cmd_top(ctx, n);
    else if (strcmp(cmd, "dlq") == 0)
        rc = cmd_dlq(ctx, n);
    else if ((strcmp(cmd, "optin") == 0 || strcmp(cmd, "optout") == 0) && optind + 1 < argc)
        rc = cmd_optin(ctx, argv[optind + 1], strcmp(cmd, "optin") == 0);
    else if (strcmp(cmd, "alerts") == 0 && optind + 2 < argc)
        rc = cmd_alerts(ctx, argv[optind + 1], argv[optind + 2]);
    else if (strcmp(cmd, "campaign") == 0)
        rc = cmd_campaign(ctx, optind + 1 < argc ? argv[optind + 1] : NULL);
    else if (strcmp(cmd, "campaign-rules") == 0)
        rc = ctl_campaign_rules(ctx, argc - optind - 1, argv + optind + 1, stdout);
    else if (strcmp(cmd, "draw") == 0)
        rc = ctl_draw(ctx, argc - optind - 1, argv + optind + 1);
    else {
        usage(stderr);
        rc = 2;
    }
    redisFree(ctx);
    return rc;
}
