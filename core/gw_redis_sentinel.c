/*
 * gw_redis_sentinel.c - Redis Sentinel for the client (gw_redis.h "Redis Sentinel"): where the
 * primary is, asked of the sentinels in turn before every connect (the one that answered last
 * first), and followed between connects through a SUBSCRIBE +switch-master on one sentinel.
 *
 * Ownership: struct gw_redis (gw_redis_priv.h) owns the query context in flight (sq_ac, bounded
 * by ev_sq_to), an answered one waiting to be freed (sq_done, freed from ev_sq_free: contexts are
 * never freed inside their own callbacks) and the subscription (sub_ac). The ROLE check of the
 * primary found is part of the link's handshake, in gw_redis.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "gw_redis_priv.h"

#define SUB_RETRY_MS 1000u /* a lost subscription is re-made on the next sentinel after this */

static void sq_next(struct gw_redis *r)
{
    r->sq_index++;
    r->sq_tries++;
    gwr_sentinel_ask(r);
}

/* The answered query context is freed here, outside its own callbacks. */
static void sq_free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis *r = arg;
    (void)fd;
    (void)what;
    if (r->sq_done) {
        redisAsyncContext *ac = r->sq_done;
        r->sq_done = NULL;
        redisAsyncFree(ac);
    }
}

static void sq_retire(struct gw_redis *r, redisAsyncContext *ac)
{
    evtimer_del(r->ev_sq_to);
    r->sq_ac = NULL;
    if (r->sq_done) /* cannot happen (one query at a time); never leak one anyway */
        redisAsyncFree(r->sq_done);
    r->sq_done = ac;
    event_active(r->ev_sq_free, EV_TIMEOUT, 1);
}

static void sq_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    const char *who = r->cfg.sentinels[r->sq_index % r->cfg.n_sentinels];
    (void)privdata;

    if (r->closing || ac != r->sq_ac)
        return;
    if (!reply) { /* connect failed or the link dropped: hiredis frees the context itself */
        evtimer_del(r->ev_sq_to);
        r->sq_ac = NULL;
        GW_LOGN(LOG_CAT, "%s sentinel %.100s unreachable: %.100s", r->name, who,
                ac->errstr[0] ? ac->errstr : "closed");
        sq_next(r);
        return;
    }
    sq_retire(r, ac);
    char *end = NULL;
    unsigned long port = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING &&
        reply->element[0]->len < sizeof(r->cur_host) && reply->element[0]->len > 0) {
        errno = 0;
        port = strtoul(reply->element[1]->str, &end, 10);
    }
    if (!end || *end || errno || port == 0 || port > 65535) {
        GW_LOGN(LOG_CAT, "%s sentinel %.100s does not name master \"%s\": %.100s", r->name, who,
                r->cfg.master_name,
                reply->type == REDIS_REPLY_ERROR ? reply->str
                : reply->type == REDIS_REPLY_NIL ? "unknown master"
                                                 : "unexpected reply");
        sq_next(r);
        return;
    }
    r->st.sentinel_asks++;
    r->sq_tries = 0;
    snprintf(r->cur_host, sizeof(r->cur_host), "%s", reply->element[0]->str);
    r->cur_port = (uint16_t)port;
    GW_LOGD(LOG_CAT, "%s sentinel %.100s: primary at %s:%u", r->name, who, r->cur_host,
            (unsigned)r->cur_port);
    gwr_connect_attach(r, redisAsyncConnect(r->cur_host, r->cur_port));
}

static void sq_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis *r = arg;
    (void)fd;
    (void)what;
    if (!r->sq_ac)
        return;
    redisAsyncContext *ac = r->sq_ac;
    r->sq_ac = NULL; /* its callback, run by the free, finds nothing */
    GW_LOGN(LOG_CAT, "%s sentinel %.100s did not answer in time", r->name,
            r->cfg.sentinels[r->sq_index % r->cfg.n_sentinels]);
    redisAsyncFree(ac); /* a timer callback, not one of its own: safe */
    sq_next(r);
}

static redisAsyncContext *sentinel_connect(struct gw_redis *r, unsigned index)
{
    char host[256];
    uint16_t port;
    const char *addr = r->cfg.sentinels[index % r->cfg.n_sentinels];

    if (gw_redis_parse_addr(addr, host, sizeof(host), &port) < 0)
        return NULL;
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (!ac || ac->err || redisLibeventAttach(ac, r->base) != REDIS_OK) {
        if (ac)
            redisAsyncFree(ac);
        return NULL;
    }
    ac->data = r;
    return ac;
}

void gwr_sentinel_ask(struct gw_redis *r)
{
    if (r->closing || r->sq_ac || r->ac)
        return;
    if (r->sq_tries >= r->cfg.n_sentinels) {
        /* Every sentinel asked, none knew: wait the back-off, then go round again. */
        r->sq_tries = 0;
        GW_LOGE(LOG_CAT, "%s no sentinel named a primary for \"%s\"", r->name, r->cfg.master_name);
        gwr_schedule_retry(r);
        return;
    }
    redisAsyncContext *ac = sentinel_connect(r, r->sq_index);
    if (!ac || redisAsyncCommand(ac, sq_reply, NULL, "SENTINEL get-master-addr-by-name %s",
                                 r->cfg.master_name) != REDIS_OK) {
        if (ac)
            redisAsyncFree(ac); /* nothing of it ran yet */
        r->sq_index++;
        r->sq_tries++;
        /* Deferred to the loop: a row of unusable sentinels must not recurse. */
        struct timeval zero = {0, 0};
        evtimer_add(r->ev_retry, &zero);
        return;
    }
    r->sq_ac = ac;
    struct timeval tv = ms_to_tv(r->cfg.connect_timeout_ms);
    evtimer_add(r->ev_sq_to, &tv);
}


static void sub_lost(struct gw_redis *r, const redisAsyncContext *ac)
{
    if (r->closing || ac != r->sub_ac)
        return;
    r->sub_ac = NULL; /* hiredis frees it after this callback */
    r->sub_index++;
    struct timeval tv = ms_to_tv(SUB_RETRY_MS);
    evtimer_add(r->ev_sub_retry, &tv);
}

static void sub_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    sub_lost(ac->data, ac);
}

/* "+switch-master" payload: "<master name> <old ip> <old port> <new ip> <new port>". */
static void sub_msg(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    char name[64], old_ip[64], new_ip[64];
    unsigned old_port, new_port;
    (void)privdata;

    if (!reply) {
        sub_lost(r, ac);
        return;
    }
    if (r->closing || ac != r->sub_ac || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0 ||
        reply->element[2]->type != REDIS_REPLY_STRING || reply->element[2]->len > 300)
        return; /* the subscribe confirmation, or noise */
    if (sscanf(reply->element[2]->str, "%63s %63s %u %63s %u", name, old_ip, &old_port, new_ip,
               &new_port) != 5 ||
        strcmp(name, r->cfg.master_name) != 0 || new_port == 0 || new_port > 65535)
        return;
    r->st.switch_master++;
    GW_LOGN(LOG_CAT, "%s sentinel: +switch-master %s:%u -> %s:%u", r->name, old_ip, old_port,
            new_ip, new_port);
    if (r->ac && r->up && strcmp(r->cur_host, new_ip) == 0 && r->cur_port == new_port)
        return; /* already there */
    r->reconnect_now = true;
    if (r->ac) {
        gwr_drop_link(r, "the primary moved (+switch-master)");
    } else if (!r->sq_ac && evtimer_pending(r->ev_retry, NULL)) {
        /* Waiting out a back-off after failed connects to the dead primary: go now. */
        evtimer_del(r->ev_retry);
        r->reconnect_now = false;
        gw_backoff_reset(&r->backoff);
        struct timeval zero = {0, 0};
        evtimer_add(r->ev_retry, &zero);
    }
}

void gwr_sentinel_subscribe(struct gw_redis *r)
{
    if (r->closing || r->sub_ac)
        return;
    redisAsyncContext *ac = sentinel_connect(r, r->sub_index);
    if (!ac) {
        r->sub_index++;
        struct timeval tv = ms_to_tv(SUB_RETRY_MS);
        evtimer_add(r->ev_sub_retry, &tv);
        return;
    }
    redisAsyncSetDisconnectCallback(ac, sub_disconnect);
    if (redisAsyncCommand(ac, sub_msg, NULL, "SUBSCRIBE +switch-master") != REDIS_OK) {
        redisAsyncFree(ac);
        r->sub_index++;
        struct timeval tv = ms_to_tv(SUB_RETRY_MS);
        evtimer_add(r->ev_sub_retry, &tv);
        return;
    }
    r->sub_ac = ac;
}

static void sub_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gwr_sentinel_subscribe(arg);
}

int gwr_sentinel_init(struct gw_redis *r)
{
    r->ev_sq_to = evtimer_new(r->base, sq_timeout_cb, r);
    r->ev_sq_free = event_new(r->base, -1, 0, sq_free_cb, r);
    r->ev_sub_retry = evtimer_new(r->base, sub_retry_cb, r);
    return r->ev_sq_to && r->ev_sq_free && r->ev_sub_retry ? 0 : -ENOMEM;
}

/* Called from gw_redis_free (never inside one of these contexts' callbacks). */
void gwr_sentinel_free(struct gw_redis *r)
{
    redisAsyncContext *ac;

    if (r->ev_sq_to)
        event_free(r->ev_sq_to);
    if (r->ev_sq_free)
        event_free(r->ev_sq_free);
    if (r->ev_sub_retry)
        event_free(r->ev_sub_retry);
    r->ev_sq_to = r->ev_sq_free = r->ev_sub_retry = NULL;
    if ((ac = r->sq_ac) != NULL) {
        r->sq_ac = NULL;
        redisAsyncFree(ac);
    }
    if ((ac = r->sq_done) != NULL) {
        r->sq_done = NULL;
        redisAsyncFree(ac);
    }
    if ((ac = r->sub_ac) != NULL) {
        r->sub_ac = NULL;
        redisAsyncFree(ac);
    }
}
