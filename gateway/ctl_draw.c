/*
 * ctl_draw.c - loyaltyctl draw (ctl_draw.h). The registrations are read with HSCAN (a draw may
 * have a million of them), the order computed by cat_draw_order, the winners printed one per
 * line as "<rank> <msisdn> <weight>" after a line with the count and the winners' digest (the one
 * a published draw carries).
 */
#include "ctl_draw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"

void ctl_draw_usage(FILE *out)
{
    fprintf(out, "  draw ITEM DAY SEED [WINNERS] [publish]\n"
                 "                the seeded draw of ITEM's gift day DAY (YYYYMMDD) over its\n"
                 "                registrations: the order, or the first WINNERS; publish records\n"
                 "                it in the staff audit trail; the same seed prints the same\n"
                 "                winners\n");
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CAT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.", s[i]))
            return false;
    return true;
}

static bool digits_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Reads every registration; *bad counts the entries that are not MSISDN -> 1..100. */
static int read_regs(redisContext *c, const char *key, struct cat_draw_entry **out, size_t *n,
                     size_t *bad)
{
    char cursor[32] = "0";
    size_t cap = 0;

    *out = NULL;
    *n = *bad = 0;
    do {
        redisReply *r = redisCommand(c, "HSCAN %s %s COUNT 1000", key, cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "loyaltyctl: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
            freeReplyObject(r);
            return -EIO;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *kv = r->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2) {
            const char *m = kv->element[i]->str, *w = kv->element[i + 1]->str;
            if (!m || !w || !digits_ok(m, 8, 15) || !digits_ok(w, 1, 3) || atoi(w) < 1 ||
                atoi(w) > CAT_DRAW_WEIGHT_MAX) {
                (*bad)++;
                continue;
            }
            if (*n == cap) {
                size_t nc = cap ? cap * 2 : 1024;
                struct cat_draw_entry *e = realloc(*out, nc * sizeof(*e));
                if (!e) {
                    freeReplyObject(r);
                    return -ENOMEM;
                }
                *out = e;
                cap = nc;
            }
            memset(&(*out)[*n], 0, sizeof((*out)[*n]));
            snprintf((*out)[*n].msisdn, sizeof((*out)[*n].msisdn), "%s", m);
            (*out)[(*n)++].weight = (uint32_t)atoi(w);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int publish(redisContext *c, const char *item, const char *day, const char *seed,
                   const struct cat_draw_entry *e, size_t n, size_t winners)
{
    const char *user = getenv("USER");
    char who[64], at[24], target[64], after[1600];

    if (cat_draw_audit_json(seed, n, e, winners, after, sizeof(after)) < 0)
        return -ENOSPC;
    snprintf(who, sizeof(who), "cli:%.40s", user && *user ? user : "?");
    snprintf(at, sizeof(at), "%lld", (long long)time(NULL) * 1000);
    snprintf(target, sizeof(target), "%s:%s", item, day);
    redisReply *a = redisCommand(c,
                                 "XADD adm:{adm}:audit * at %s who %s role cli ip - what %s "
                                 "target %s before %s after %s req %s",
                                 at, who, "draw.run", target, "{}", after, "");
    int rc = a && a->type == REDIS_REPLY_STRING ? 0 : -EIO;
    if (rc < 0)
        fprintf(stderr, "loyaltyctl: the draw is not recorded: %s\n",
                c->errstr[0] ? c->errstr : (a && a->str ? a->str : "unexpected reply"));
    freeReplyObject(a);
    return rc;
}

int ctl_draw(redisContext *c, int argc, char **argv)
{
    struct cat_draw_entry *e = NULL;
    size_t n = 0, bad = 0, winners;
    char key[96];
    int rc;

    if (argc < 3 || !id_ok(argv[0]) || !digits_ok(argv[1], 8, 8) || !argv[2][0] ||
        strlen(argv[2]) > 64 || strpbrk(argv[2], "\"\\") ||
        (argc >= 4 && strcmp(argv[3], "publish") != 0 && !digits_ok(argv[3], 1, 9))) {
        ctl_draw_usage(stderr);
        return 2;
    }
    bool pub = (argc >= 4 && strcmp(argv[argc - 1], "publish") == 0);
    snprintf(key, sizeof(key), CTL_DRAW_REG_FMT, argv[0], argv[1]);
    if ((rc = read_regs(c, key, &e, &n, &bad)) < 0) {
        free(e);
        return 1;
    }
    int in = cat_draw_order(argv[2], e, n);
    if (in < 0) {
        free(e);
        return 1;
    }
    winners =
        (argc >= 4 && strcmp(argv[3], "publish") != 0) ? strtoul(argv[3], NULL, 10) : (size_t)in;
    if (winners > (size_t)in)
        winners = (size_t)in;
    /* the digest the gateways publish with a draw (:m, the audit, the console's draw page) */
    printf("draw %s %s seed %s: %d registered%s, %zu winner(s), digest %016" PRIx64 "\n", argv[0],
           argv[1], argv[2], in, bad ? " (some entries unreadable, left out)" : "", winners,
           cat_draw_digest(e, winners));
    for (size_t i = 0; i < winners; i++)
        printf("%zu %s %u\n", i + 1, e[i].msisdn, e[i].weight);
    rc = pub ? publish(c, argv[0], argv[1], argv[2], e, (size_t)in, winners) : 0;
    free(e);
    return rc < 0 ? 1 : 0;
}
