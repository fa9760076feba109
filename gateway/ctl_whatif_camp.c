/*
 * ctl_whatif_camp.c - the campaigns' what-if in loyaltyctl (ctl_whatif_camp.h). One scratch
 * redis-server (unix socket in a mkdtemp folder, no persistence), two connections: database 0
 * is the side in force, database 1 the draft. Requests are pipelined (PIPE at a time) and the
 * replies read in order; a set of the MSISDNs enrolled in the window (64-bit keys, open
 * addressing) says which members have a wallet there, with the tier last written on each side
 * (a tier is written only when it changes).
 */
#include "ctl_whatif_camp.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_campaign_run.h"
#include "gw_days.h"
#include "gw_event.h"
#include "gw_loyalty.h"

#define PIPE 256

extern char **environ;

struct side {
    redisContext *rc;
    struct gw_campaigns doc;
    unsigned pending; /* replies to read */
    unsigned char kind[PIPE * 2]; /* per pending reply: 1 = an EVENT's grants, 0 = other */
    int64_t issued;
    uint64_t grants, stops;
};

struct ctl_whatif_camp {
    pid_t pid;
    char dir[64], sock[96];
    char sha[41];
    uint32_t history_len;
    struct side s[2];
    struct member *joined; /* the MSISDNs enrolled in the window; key 0 = free */
    size_t cap, n;
    struct gw_camp_event_call call;
};

struct member {
    uint64_t key;
    const char *tier[2]; /* last written on each side (the replay's strings), NULL = none */
};

static uint64_t key_of(const char *m)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *m; m++)
        h = (h ^ (unsigned char)*m) * UINT64_C(1099511628211);
    return h ? h : 1;
}

static struct member *joined_get(struct ctl_whatif_camp *c, uint64_t k)
{
    for (size_t i = k & (c->cap - 1); c->joined[i].key; i = (i + 1) & (c->cap - 1)) {
        if (c->joined[i].key == k)
            return &c->joined[i];
    }
    return NULL;
}

static int joined_add(struct ctl_whatif_camp *c, uint64_t k)
{
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        struct member *n = calloc(cap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->joined[i].key)
                continue;
            size_t j = c->joined[i].key & (cap - 1);
            while (n[j].key)
                j = (j + 1) & (cap - 1);
            n[j] = c->joined[i];
        }
        free(c->joined);
        c->joined = n;
        c->cap = cap;
    }
    size_t i = k & (c->cap - 1);
    for (; c->joined[i].key; i = (i + 1) & (c->cap - 1)) {
        if (c->joined[i].key == k)
            return 0;
    }
    c->joined[i].key = k;
    c->n++;
    return 0;
}

/* Reads the pending replies of one side, counting the grants of the EVENT replies: a flat list
 * {id, points, "ok"|"budget"} x N, then the balance. */
static int drain(struct side *s)
{
    for (unsigned i = 0; i < s->pending; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(s->rc, (void **)&rep) != REDIS_OK || !rep)
            return -EIO;
        int rc = rep->type == REDIS_REPLY_ERROR ? -EPROTO : 0;
        if (rc < 0)
            fprintf(stderr, "loyaltyctl: whatif: campaign.lua: %.200s\n", rep->str);
        if (rc == 0 && s->kind[i] && rep->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k + 3 < rep->elements; k += 3) {
                const redisReply *pts = rep->element[k + 1], *oc = rep->element[k + 2];
                if (pts->type != REDIS_REPLY_STRING || oc->type != REDIS_REPLY_STRING)
                    break;
                if (strcmp(oc->str, "ok") == 0) {
                    s->grants++;
                    s->issued += strtoll(pts->str, NULL, 10);
                } else
                    s->stops++;
            }
        }
        freeReplyObject(rep);
        if (rc < 0)
            return rc;
    }
    s->pending = 0;
    return 0;
}

static int queue_cmd(struct side *s, int argc, const char **argv, const size_t *len, bool event)
{
    if (s->pending >= sizeof(s->kind) - 1 && drain(s) < 0)
        return -EIO;
    if (redisAppendCommandArgv(s->rc, argc, argv, len) != REDIS_OK)
        return -ENOMEM;
    s->kind[s->pending++] = event;
    return 0;
}

struct ctl_whatif_camp *ctl_whatif_camp_start(const char *redis_server,
                                              const struct gw_campaigns *doc[2],
                                              uint32_t history_len, char *err, size_t errlen)
{
    struct ctl_whatif_camp *c = calloc(1, sizeof(*c));
    posix_spawn_file_actions_t fa;
    redisReply *rep = NULL;

    if (!c || !(c->joined = calloc(c->cap = 1024, sizeof(*c->joined)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    c->history_len = history_len;
    snprintf(c->dir, sizeof(c->dir), "/tmp/lgw-whatif-redis.XXXXXX");
    if (!mkdtemp(c->dir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        c->dir[0] = '\0';
        goto fail;
    }
    snprintf(c->sock, sizeof(c->sock), "%s/s", c->dir);
    const char *argv[] = {redis_server, "--port", "0", "--unixsocket", c->sock,
                          "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                          "--databases", "2", "--dir", c->dir, NULL};
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int src = posix_spawnp(&c->pid, redis_server, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (src != 0) {
        c->pid = 0;
        snprintf(err, errlen, "%s: %s (the campaigns' what-if runs campaign.lua in a scratch "
                 "redis-server; --redis-server PATH)", redis_server, strerror(src));
        goto fail;
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 200 && !c->s[k].rc; i++) { /* up to 10 s for the server to listen */
            redisContext *rc = redisConnectUnix(c->sock);
            if (rc && !rc->err)
                c->s[k].rc = rc;
            else {
                redisFree(rc);
                nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
            }
        }
        if (!c->s[k].rc) {
            snprintf(err, errlen, "the scratch redis-server did not answer on %s", c->sock);
            goto fail;
        }
        c->s[k].doc = *doc[k];
    }
    rep = redisCommand(c->s[1].rc, "SELECT 1");
    if (!rep || rep->type == REDIS_REPLY_ERROR)
        goto proto;
    freeReplyObject(rep);
    rep = redisCommand(c->s[0].rc, "SCRIPT LOAD %b", gw_lua_campaign, gw_lua_campaign_len);
    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40)
        goto proto;
    memcpy(c->sha, rep->str, 40);
    freeReplyObject(rep);
    return c;
proto:
    snprintf(err, errlen, "the scratch redis-server: %s", rep && rep->str ? rep->str : "no reply");
    freeReplyObject(rep);
fail:
    ctl_whatif_camp_stop(c);
    return NULL;
}

int ctl_whatif_camp_enrol(struct ctl_whatif_camp *c, const struct gw_journal_enrol *e)
{
    char kw[40], since[24];

    snprintf(kw, sizeof(kw), "lg:{%s}:w", e->msisdn);
    snprintf(since, sizeof(since), "%" PRId64, e->since);
    if (joined_add(c, key_of(e->msisdn)) < 0)
        return -ENOMEM;
    /* the wallet commit.lua creates (bal 0, life 0, since), the same on both sides */
    const char *argv[] = {"HSET", kw, "bal", "0", "life", "0", "since", since};
    for (int k = 0; k < 2; k++) {
        if (queue_cmd(&c->s[k], 8, argv, NULL, false) < 0)
            return -EIO;
    }
    return 0;
}

int ctl_whatif_camp_event(struct ctl_whatif_camp *c, const struct gw_journal_rec *r,
                          const char *const tier[2])
{
    char kw[40], sha_arg[41];
    const char *argv[GW_CAMP_EVENT_ARGS + 3];
    size_t len[GW_CAMP_EVENT_ARGS + 3];

    /* the daemon runs the rules after a credited earning event (gw_ingest.c after_commit) */
    struct member *m = NULL;
    if (r->kind == GW_EV_REVERSAL || r->outcome != GW_JOURNAL_CREDITED ||
        !(m = joined_get(c, key_of(r->msisdn))))
        return 0; /* no wallet in the scratch store: the script would do nothing */
    snprintf(kw, sizeof(kw), "lg:{%s}:w", r->msisdn);
    memcpy(sha_arg, c->sha, 41);
    for (int k = 0; k < 2; k++) {
        struct side *s = &c->s[k];
        int rc = gw_campaign_event_call(&s->doc, r->msisdn, gw_event_kind_name(r->kind), r->ref,
                                        gw_local_day(r->at), r->amount_milli, r->commit_ms / 1000,
                                        c->history_len,
                                        &c->call);
        if (rc == 1)
            continue;
        if (rc < 0)
            return rc;
        const char *hset[] = {"HSET", kw, "tier", tier[k]};
        if (m->tier[k] != tier[k] && queue_cmd(s, 4, hset, NULL, false) < 0)
            return -EIO;
        m->tier[k] = tier[k];
        char nk[12];
        snprintf(nk, sizeof(nk), "%d", c->call.nkeys);
        argv[0] = "EVALSHA";
        argv[1] = sha_arg;
        argv[2] = nk;
        for (int i = 0; i < c->call.argc; i++) {
            argv[i + 3] = c->call.argv[i];
            len[i + 3] = c->call.len[i];
        }
        len[0] = 7;
        len[1] = 40;
        len[2] = strlen(nk);
        if (queue_cmd(s, c->call.argc + 3, argv, len, true) < 0)
            return -EIO;
        if (s->pending >= PIPE && drain(s) < 0)
            return -EIO;
    }
    return 0;
}

static json_t *side_json(struct side *s)
{
    json_t *list = json_array();
    redisReply *rep = redisCommand(s->rc, "HGETALL %s", GW_CAMP_KEY_BUDGET);

    for (size_t i = 0; i < s->doc.n; i++) {
        const struct gw_camp *cp = &s->doc.c[i];
        int64_t spent = 0, n = 0, stop = 0;
        size_t il = strlen(cp->id);
        for (size_t k = 0; rep && rep->type == REDIS_REPLY_ARRAY && k + 1 < rep->elements; k += 2) {
            const char *f = rep->element[k]->str, *v = rep->element[k + 1]->str;
            if (!f || !v || strncmp(f, cp->id, il) != 0 || f[il] != ':')
                continue;
            if (strcmp(f + il + 1, "spent") == 0)
                spent = strtoll(v, NULL, 10);
            else if (strcmp(f + il + 1, "n") == 0)
                n = strtoll(v, NULL, 10);
            else if (strcmp(f + il + 1, "stop") == 0)
                stop = strtoll(v, NULL, 10);
        }
        json_array_append_new(list, json_pack("{sssssIsIsIsIsb}", "id", cp->id, "rule",
                                              gw_camp_rule_name(cp->rule), "budget",
                                              (json_int_t)cp->budget, "spent", (json_int_t)spent,
                                              "grants", (json_int_t)n, "stops", (json_int_t)stop,
                                              "stop_reached", stop > 0));
    }
    freeReplyObject(rep);
    return json_pack("{sIsIsIso}", "issued", (json_int_t)s->issued, "grants",
                     (json_int_t)s->grants, "stops", (json_int_t)s->stops, "campaigns", list);
}

json_t *ctl_whatif_camp_result(struct ctl_whatif_camp *c)
{
    if (drain(&c->s[0]) < 0 || drain(&c->s[1]) < 0)
        return NULL;
    return json_pack("{soso}", "base", side_json(&c->s[0]), "draft", side_json(&c->s[1]));
}

void ctl_whatif_camp_stop(struct ctl_whatif_camp *c)
{
    char path[128];

    if (!c)
        return;
    for (int k = 0; k < 2; k++)
        redisFree(c->s[k].rc);
    if (c->pid > 0) {
        kill(c->pid, SIGTERM); /* the server this process started, by its id */
        waitpid(c->pid, NULL, 0);
    }
    if (c->dir[0]) {
        snprintf(path, sizeof(path), "%s/s", c->dir);
        unlink(path);
        rmdir(c->dir);
    }
    free(c->joined);
    free(c);
}
