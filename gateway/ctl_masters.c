/*
 * ctl_masters.c - loyaltyctl's map of a Redis Cluster's masters (ctl_masters.h).
 *
 * CLUSTER SLOTS names the masters; one synchronous connection per master (the same user and
 * password as the caller's), each slot mapped to its master. A single Redis answers CLUSTER SLOTS
 * with an error: the caller's connection then serves every slot. The map is read once: a slot
 * that moves afterwards (a resharding) answers MOVED/ASK, which the commands report as an error
 * rather than follow (synchronous hiredis, like ctl.c).
 */
#include "ctl_masters.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define CTL_MASTERS_MAX_S STR_(CTL_MASTERS_MAX)

void ctl_masters_close(struct ctl_masters *ms)
{
    for (unsigned i = 0; i < ms->n; i++)
        if (ms->own[i])
            redisFree(ms->c[i]);
    ms->n = 0;
}

int ctl_masters_open(struct ctl_masters *ms, redisContext *ctx, const struct gw_redis_config *cfg)
{
    redisReply *r = redisCommand(ctx, "CLUSTER SLOTS");
    char err[320];

    memset(ms, 0, sizeof(*ms));
    ms->n = 1;
    ms->c[0] = ctx;
    if (!r)
        return fprintf(stderr, "loyaltyctl: redis: %s\n", ctx->errstr), -1;
    if (r->type != REDIS_REPLY_ARRAY) { /* not a cluster: one node has every slot */
        freeReplyObject(r);
        return 0;
    }
    ms->n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
            continue;
        const char *ip = e->element[2]->element[0]->str;
        long long port = e->element[2]->element[1]->integer;
        unsigned k;
        struct gw_redis_config nc = *cfg;
        for (k = 0; k < ms->n; k++) {
            redisContext *c = ms->c[k];
            if (c->tcp.host && strcmp(c->tcp.host, ip) == 0 && c->tcp.port == port)
                break;
        }
        if (k == ms->n) {
            if (ms->n >= CTL_MASTERS_MAX || !ip) {
                fprintf(stderr, "loyaltyctl: CLUSTER SLOTS: %s\n",
                        ip ? "more than " CTL_MASTERS_MAX_S " masters"
                           : "a master without address");
                goto fail;
            }
            nc.unix_socket[0] = '\0';
            nc.n_sentinels = 0;
            snprintf(nc.host, sizeof(nc.host), "%s", ip);
            nc.port = (uint16_t)port;
            ms->c[k] = gw_redis_connect_sync(&nc, 5000, err, sizeof(err));
            explicit_bzero(nc.password, sizeof(nc.password));
            if (!ms->c[k]) {
                fprintf(stderr, "loyaltyctl: master %s:%lld: %s\n", ip, port, err);
                goto fail;
            }
            ms->own[k] = true;
            ms->n++;
        }
        for (long long s = e->element[0]->integer; s <= e->element[1]->integer && s < GW_SLOTS; s++)
            ms->of[s] = (unsigned char)k;
    }
    freeReplyObject(r);
    if (ms->n == 0)
        fprintf(stderr, "loyaltyctl: CLUSTER SLOTS names no master\n");
    return ms->n > 0 ? 0 : -1;
fail:
    freeReplyObject(r);
    ctl_masters_close(ms);
    return -1;
}

unsigned ctl_masters_of_key(const struct ctl_masters *ms, const char *key, size_t len)
{
    return ms->of[gw_redis_key_slot(key, len)];
}

const char *ctl_masters_name(const struct ctl_masters *ms, unsigned k, char *buf, size_t len)
{
    const redisContext *c = k < ms->n ? ms->c[k] : NULL;

    if (c && c->connection_type == REDIS_CONN_UNIX && c->unix_sock.path)
        snprintf(buf, len, "%s", c->unix_sock.path);
    else if (c && c->tcp.host)
        snprintf(buf, len, "%s:%d", c->tcp.host, c->tcp.port);
    else
        snprintf(buf, len, "?");
    return buf;
}
