/*
 * gw_redis_priv.h - inside the Redis client (core/gw_redis*.c only): the client's struct and the
 * few link functions the Sentinel part (gw_redis_sentinel.c) shares with the rest (gw_redis.c).
 * Ownership and the link's life are described at the top of gw_redis.c.
 */
#ifndef GW_REDIS_PRIV_H
#define GW_REDIS_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include <hiredis/async.h>

#include "gw_core.h"
#include "gw_redis.h"

#define LOG_CAT "redis"

struct gw_redis_req;
struct gw_redis_script;
struct gw_cluster;

struct gw_redis {
    struct event_base *base;
    struct gw_redis_config cfg;
    struct gw_cluster *cl; /* NULL: a single Redis (everything below applies to it) */
    char name[140];        /* "redis{host:port}" or "redis{/path}" for logs */

    redisAsyncContext *ac;       /* the live (or connecting) link; NULL when down */
    redisAsyncContext *ac_dying; /* dropped by us, freed by ev_down */
    bool started, up, closing, down_pending, notify_down;
    bool auth_refused;      /* the latest AUTH was refused (cleared once up) */
    bool wrote_since_up;    /* Sentinel: a script answered on this link (logged once) */
    int64_t up_ms;          /* when the link came up (monotonic) */
    bool reconnect_now;     /* +switch-master: the next reconnect skips the back-off */
    uint32_t gates_pending; /* AUTH, ROLE and initial SCRIPT LOADs not yet answered */
    struct gw_backoff backoff; /* reconnect back-off (core), reset once the link is up */

    struct event *ev_connect_to, *ev_retry, *ev_down;
    const struct timeval *req_tv; /* the common-timeout deadline (or req_tv_plain) */
    struct timeval req_tv_plain;

    struct gw_redis_req **chunks;
    uint32_t n_chunks;
    struct gw_redis_req *free_list;
    struct gw_redis_req *pend_head, *pend_tail;
    uint32_t orphans; /* timed out on the live link, reply still owed by Redis */

    struct gw_redis_script *scripts;
    int n_scripts;

    void (*state_fn)(void *arg, bool up);
    void *state_arg;

    struct gw_redis_stats st;

    /* Redis Sentinel (cfg.n_sentinels > 0): the primary learnt from the sentinels, the query in
     * flight (sq_ac, bounded by ev_sq_to; an answered one waits in sq_done for ev_sq_free, as
     * contexts are never freed in their own callbacks) and the +switch-master subscription. */
    char cur_host[256];
    uint16_t cur_port;
    redisAsyncContext *sq_ac, *sq_done;
    unsigned sq_index, sq_tries;
    struct event *ev_sq_to, *ev_sq_free;
    redisAsyncContext *sub_ac;
    unsigned sub_index;
    struct event *ev_sub_retry;
};

static inline struct timeval ms_to_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* gw_redis.c */
/* Drops the live link on purpose; the context is freed later (never inside its own callback). */
void gwr_drop_link(struct gw_redis *r, const char *why);
/* Arms the reconnect after the back-off (at once after a +switch-master). */
void gwr_schedule_retry(struct gw_redis *r);
/* Makes a fresh connecting context the link (AUTH, ROLE, SCRIPT LOAD follow), or retries. */
void gwr_connect_attach(struct gw_redis *r, redisAsyncContext *ac);

/* gw_redis_sentinel.c (cfg.n_sentinels > 0) */
int gwr_sentinel_init(struct gw_redis *r);  /* its events; 0 or -ENOMEM */
void gwr_sentinel_free(struct gw_redis *r); /* not from inside its contexts' callbacks */
/* Asks the next sentinel where the primary is, then connects there (gwr_connect_attach). */
void gwr_sentinel_ask(struct gw_redis *r);
/* Keeps a SUBSCRIBE +switch-master on one sentinel (re-made on another when lost). */
void gwr_sentinel_subscribe(struct gw_redis *r);

#endif
