/*
 * ctl_masters.h - loyaltyctl's map of a Redis Cluster's masters (ctl_masters.c): which synchronous
 * connection serves each of the 16,384 slots, for the commands that read or write every slot
 * (report, agg-check: ctl_agg.c) or route one key per command (birthday-import: ctl_birthday.c).
 * On a single Redis the caller's connection serves every slot.
 */
#ifndef CTL_MASTERS_H
#define CTL_MASTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_redis.h"

struct redisContext;

#define CTL_MASTERS_MAX 64

struct ctl_masters {
    unsigned n;                              /* connections in c[] (1 on a single Redis) */
    struct redisContext *c[CTL_MASTERS_MAX]; /* the masters, c[0] is ctx on a single Redis */
    bool own[CTL_MASTERS_MAX];               /* opened here (else the caller's) */
    unsigned char of[GW_SLOTS];              /* slot -> index in c[] */
};

/* Asks ctx CLUSTER SLOTS and opens one connection per master (cfg's user and password; cfg is
 * not kept), or, when ctx is not a cluster, takes ctx for every slot. Returns 0, or -1 with the
 * reason on stderr and nothing left open. ms is filled in either case (close it after 0). */
int ctl_masters_open(struct ctl_masters *ms, struct redisContext *ctx,
                     const struct gw_redis_config *cfg);
/* Closes the connections opened by ctl_masters_open (never the caller's ctx). */
void ctl_masters_close(struct ctl_masters *ms);
/* The index in ms->c of the master holding key (its hash slot; len bytes). */
unsigned ctl_masters_of_key(const struct ctl_masters *ms, const char *key, size_t len);
/* "host:port" (or the socket path) of master k, for messages. */
const char *ctl_masters_name(const struct ctl_masters *ms, unsigned k, char *buf, size_t len);

#endif
