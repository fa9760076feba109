/*
 * gw_redis.c - async hiredis 0.14 on the libevent loop, with deadlines, reconnect, scripts that
 * survive SCRIPT FLUSH or a restart, and deferred frees of the hiredis context (see gw_redis.h).
 *
 * Ownership: struct gw_redis owns
 *   - the live hiredis context (ac) and, briefly, one we dropped on purpose (ac_dying), which is
 *     freed from the deferred ev_down callback, never inside one of its own callbacks;
 *   - the request slots, allocated in chunks that never move, each with a deadline timer created
 *     once and reused. Every slot is added to one libevent "common timeout" queue: all requests
 *     share one deadline length, so add/remove is O(1) instead of a heap operation;
 *   - the registered scripts (body copy and SHA1 learnt from SCRIPT LOAD).
 * hiredis privdata is the request id (generation << 32 | slot index), never a pointer: a reply
 * that arrives after its slot was released (deadline fired, link failed) no longer matches and is
 * dropped and counted.
 *
 * Link life: connect_start -> [Sentinel: ask a sentinel where the primary is] -> (hiredis connect)
 * -> AUTH (when a password is set) -> [Sentinel: ROLE must say master] -> SCRIPT LOAD of every
 * script -> up. All of these are pipelined at once; the link is up when each has answered well
 * (gates_pending reaches 0), and any bad answer drops the link. Losing the
 * link, by hiredis noticing or by us dropping it (connect timeout, too many unanswered requests),
 * only records the fact and activates ev_down; ev_down frees a dropped context, fails every pending
 * request with -ENOTCONN (each exactly once, outside hiredis's call stack), tells the owner and
 * arms the back-off timer.
 *
 * Sentinel mode: where the primary is, and following it, lives in gw_redis_sentinel.c; the link
 * here only checks ROLE in its handshake and drops itself on READONLY/LOADING/MASTERDOWN.
 *
 * Cluster mode (struct gw_cluster, at the end of this file): the client the caller holds owns no
 * hiredis context. It owns one single-node struct gw_redis per master ("link", exactly the code
 * above, so reconnect, back-off, scripts and deadlines behave as for one Redis), the slot map, and
 * its own request slots, which carry the formatted command for re-sending after MOVED/ASK/TRYAGAIN.
 * The outer slot's deadline is the caller's deadline; each attempt is a request on a link whose
 * completion comes back through a tagged callback (tcb + the outer request id), so an answer to an
 * attempt the caller no longer waits for finds nothing. Links are freed from ev_reap only, never in
 * one of their own callbacks.
 */
#include "gw_redis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_redis_priv.h"

#define CHUNK_SLOTS 256u
#define SLOT_INDEX_MAX 0x7fffffffu
#define ARGV_STACK 48
/* Redis Cluster */
#define CL_NONE 0xffffu      /* slot_node value: no master known */
#define CL_MAX_NODES 1024u   /* a MOVED flood cannot make us open unbounded links */
#define CL_MAX_REDIRECTS 16u /* like redis-cli: a loop of redirections ends as an error reply */
/* Re-send delay: TRYAGAIN and CLUSTERDOWN (doubling up to CL_BUSY_MAX_MS: a cluster down for long
 * is not polled 50 times a second), and a target master whose link is still connecting. */
#define CL_RETRY_MS 20u
#define CL_BUSY_MAX_MS 320u
#define CL_REFRESH_GAP_MS 100u /* MOVED storms during a reshard coalesce into one CLUSTER SLOTS */

/* Request ids travel through hiredis as void *: generation in the high half needs 64 bits. */
_Static_assert(sizeof(void *) >= sizeof(uint64_t), "gw_redis needs 64-bit pointers");

struct gw_redis_req {
    struct gw_redis *owner;
    struct event *deadline; /* created with the slot, reused for every request it carries */
    gw_redis_cb cb;
    void *arg;
    char *cmd; /* the formatted EVALSHA, kept for the NOSCRIPT retry; else NULL */
    size_t cmd_len;
    int script_id; /* -1: not a retryable script call */
    uint32_t index;
    uint32_t gen; /* bumped on release: an old id never matches again */
    bool busy;
    bool retried;                     /* the one EVAL retry was sent */
    bool wait;                        /* a WAIT follows the command (cfg.wait_replicas) */
    uint8_t owed;                     /* replies hiredis still owes this request */
    uint8_t skip;                     /* WAIT replies to ignore (the one after a NOSCRIPT) */
    redisReply *held;                 /* the command's reply, kept until WAIT answers */
    struct gw_redis_req *prev, *next; /* pending list when busy, free list (next) when not */
    /* Cluster mode. On a link's request: tcb (instead of cb) reports to the cluster client with
     * tag, the cluster request's id; asking: ASKING precedes the command (and its EVAL retry). */
    void (*tcb)(void *arg, uint64_t tag, int err, const redisReply *reply);
    uint64_t tag;
    bool asking;
    /* On a cluster request: its slot (-1: keyless), redirections so far, the link it went to
     * (node index + generation), an ASK target to use on the next attempt (ask_gen 0: none), and
     * the timer of a delayed re-send (created on first use, kept with the slot). */
    int32_t slot;
    uint32_t redirects, busy_tries; /* MOVED/ASK (bounded); TRYAGAIN/CLUSTERDOWN (deadline) */
    uint32_t sent_node, sent_gen, ask_node, ask_gen;
    struct event *retry;
};

struct gw_redis_script {
    char *body;
    size_t len;
    char sha[41]; /* "" until SCRIPT LOAD answered: calls then go as EVAL */
};


static void connect_start(struct gw_redis *r);
static void reply_cb(redisAsyncContext *ac, void *reply, void *privdata);
static int submit_wait(struct gw_redis *r, char *cmd, size_t len, int script_id, bool asking,
                       bool wait, void (*tcb)(void *, uint64_t, int, const redisReply *),
                       uint64_t tag, gw_redis_cb cb, void *arg);
static int cluster_init(struct gw_redis *r);
static void cluster_free(struct gw_redis *r);
static void cluster_start(struct gw_redis *r);
static int cluster_submit(struct gw_redis *r, char *cmd, size_t len, int32_t slot, int script_id,
                          gw_redis_cb cb, void *arg);
static int32_t cluster_route_cmd(const char *cmd, size_t len);
static void cluster_stats(const struct gw_redis *r, struct gw_redis_stats *out);
static void cluster_script_added(struct gw_redis *r, int id);
static void cluster_learn_sha(struct gw_redis *r, int id);

void gw_redis_config_defaults(struct gw_redis_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->host, sizeof(cfg->host), "%s", "127.0.0.1");
    cfg->port = 6379;
    cfg->connect_timeout_ms = 1000;
    cfg->request_timeout_ms = 1000;
    cfg->reconnect_min_ms = 100;
    cfg->reconnect_max_ms = 5000;
    cfg->max_pending = 100000;
}


/* ---------------------------------------------------------------- request slots */

static uint64_t req_id(const struct gw_redis_req *q)
{
    return ((uint64_t)q->gen << 32) | q->index;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg);

static int grow(struct gw_redis *r)
{
    uint64_t next_index = (uint64_t)(r->n_chunks + 1) * CHUNK_SLOTS;
    if (next_index > SLOT_INDEX_MAX)
        return -ENOBUFS;
    struct gw_redis_req **chunks = realloc(r->chunks, sizeof(*chunks) * (r->n_chunks + 1));
    if (!chunks)
        return -ENOMEM;
    r->chunks = chunks;
    struct gw_redis_req *c = calloc(CHUNK_SLOTS, sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (uint32_t i = 0; i < CHUNK_SLOTS; i++) {
        c[i].deadline = evtimer_new(r->base, deadline_cb, &c[i]);
        if (!c[i].deadline) {
            for (uint32_t j = 0; j < i; j++)
                event_free(c[j].deadline);
            free(c);
            return -ENOMEM;
        }
    }
    /* Push in reverse so low indexes are used first (keeps the working set small). */
    for (uint32_t i = CHUNK_SLOTS; i-- > 0;) {
        c[i].owner = r;
        c[i].index = r->n_chunks * CHUNK_SLOTS + i;
        c[i].gen = 1;
        c[i].script_id = -1;
        c[i].next = r->free_list;
        r->free_list = &c[i];
    }
    r->chunks[r->n_chunks++] = c;
    return 0;
}

static struct gw_redis_req *req_alloc(struct gw_redis *r)
{
    if (!r->free_list && grow(r) < 0)
        return NULL;
    struct gw_redis_req *q = r->free_list;
    r->free_list = q->next;
    q->busy = true;
    q->retried = false;
    q->wait = false;
    q->owed = 0;
    q->skip = 0;
    q->held = NULL;
    q->asking = false;
    q->tcb = NULL;
    q->tag = 0;
    q->slot = -1;
    q->redirects = q->busy_tries = 0;
    q->ask_gen = q->sent_gen = 0;
    q->script_id = -1;
    q->cmd = NULL;
    q->cmd_len = 0;
    q->next = NULL;
    q->prev = r->pend_tail;
    if (r->pend_tail)
        r->pend_tail->next = q;
    else
        r->pend_head = q;
    r->pend_tail = q;
    r->st.pending++;
    return q;
}

static void req_release(struct gw_redis *r, struct gw_redis_req *q)
{
    evtimer_del(q->deadline);
    if (q->retry)
        evtimer_del(q->retry);
    free(q->cmd);
    q->cmd = NULL;
    if (q->held) {
        freeReplyObject(q->held);
        q->held = NULL;
    }
    if (q->prev)
        q->prev->next = q->next;
    else
        r->pend_head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        r->pend_tail = q->prev;
    q->busy = false;
    q->cb = NULL;
    q->tcb = NULL;
    q->arg = NULL;
    q->gen++;
    if (q->gen == 0)
        q->gen = 1;
    q->prev = NULL;
    q->next = r->free_list;
    r->free_list = q;
    r->st.pending--;
}

static struct gw_redis_req *req_find(struct gw_redis *r, uint64_t id)
{
    uint32_t index = (uint32_t)id;
    uint32_t gen = (uint32_t)(id >> 32);
    if (index / CHUNK_SLOTS >= r->n_chunks)
        return NULL;
    struct gw_redis_req *q = &r->chunks[index / CHUNK_SLOTS][index % CHUNK_SLOTS];
    return q->busy && q->gen == gen ? q : NULL;
}

/* Completes q: releases the slot first, so the callback may issue new requests freely. */
static void req_finish(struct gw_redis *r, struct gw_redis_req *q, int err, const redisReply *reply)
{
    if (r->cfg.n_sentinels > 0 && !r->wrote_since_up && r->up && err == 0 && q->script_id >= 0 &&
        reply && reply->type != REDIS_REPLY_ERROR) {
        /* After a failover: the moment writes go through again, for the operator's timeline. */
        r->wrote_since_up = true;
        GW_LOGN(LOG_CAT, "%s first write answered by primary %s:%u, %" PRId64 " ms after it was up",
                r->name, r->cur_host, (unsigned)r->cur_port, gw_clock_mono_ms() - r->up_ms);
    }
    gw_redis_cb cb = q->cb;
    void (*tcb)(void *, uint64_t, int, const redisReply *) = q->tcb;
    uint64_t tag = q->tag;
    void *arg = q->arg;
    req_release(r, q);
    if (tcb)
        tcb(arg, tag, err, reply);
    else
        cb(arg, err, reply);
}

static void fail_all(struct gw_redis *r, int err)
{
    /* Pop one at a time: a callback may add requests (they are refused while down). */
    while (r->pend_head)
        req_finish(r, r->pend_head, err, NULL);
}

/* ---------------------------------------------------------------- link state */

/* Records that the link is gone; the work happens in ev_down, outside hiredis's stack. */
static void link_down(struct gw_redis *r)
{
    if (r->up)
        r->notify_down = true;
    r->up = false;
    evtimer_del(r->ev_connect_to);
    if (!r->down_pending && !r->closing) {
        r->down_pending = true;
        event_active(r->ev_down, EV_TIMEOUT, 1);
    }
}

/* Drops the live link on purpose. The context is freed later by ev_down: we may be inside one of
 * its callbacks, where freeing it is the adapter's use-after-free (libraries.md). */
void gwr_drop_link(struct gw_redis *r, const char *why)
{
    if (!r->ac)
        return;
    GW_LOGN(LOG_CAT, "%s dropping link: %s", r->name, why);
    r->ac_dying = r->ac;
    r->ac = NULL;
    link_down(r);
}

void gwr_schedule_retry(struct gw_redis *r)
{
    if (r->closing || !r->started)
        return;
    if (r->reconnect_now) {
        /* Sentinel announced the new primary: connect to it now, not after a back-off. */
        r->reconnect_now = false;
        gw_backoff_reset(&r->backoff);
        struct timeval zero = {0, 0};
        evtimer_add(r->ev_retry, &zero);
        return;
    }
    uint64_t delay = gw_backoff_next(&r->backoff);
    struct timeval tv = ms_to_tv((uint32_t)delay);
    evtimer_add(r->ev_retry, &tv);
    GW_LOGD(LOG_CAT, "%s reconnect in %" PRIu64 " ms", r->name, delay);
}

static void down_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis *r = arg;
    (void)fd;
    (void)what;

    r->down_pending = false;
    if (r->ac_dying) {
        redisAsyncContext *ac = r->ac_dying;
        r->ac_dying = NULL;
        redisAsyncFree(ac); /* its callbacks find nothing: the link is no longer r->ac */
    }
    /* Every hiredis callback of the old link has now run (hiredis runs them all on free). */
    r->orphans = 0;
    fail_all(r, -ENOTCONN);
    if (r->notify_down) {
        r->notify_down = false;
        r->st.disconnects++;
        GW_LOGN(LOG_CAT, "%s down", r->name);
        if (r->state_fn)
            r->state_fn(r->state_arg, false);
    }
    gwr_schedule_retry(r);
}

static void link_ready(struct gw_redis *r)
{
    evtimer_del(r->ev_connect_to);
    r->up = true;
    r->auth_refused = false;
    r->wrote_since_up = false;
    r->up_ms = gw_clock_mono_ms();
    gw_backoff_reset(&r->backoff);
    r->st.connects++;
    if (r->cfg.n_sentinels > 0)
        GW_LOGN(LOG_CAT, "%s up: primary %s:%u (%d script(s) loaded)", r->name, r->cur_host,
                (unsigned)r->cur_port, r->n_scripts);
    else
        GW_LOGI(LOG_CAT, "%s up (%d script(s) loaded)", r->name, r->n_scripts);
    if (r->state_fn)
        r->state_fn(r->state_arg, true);
}

/* One of the answers the link waits for before it is up (AUTH, ROLE, an initial SCRIPT LOAD). */
static void gate_done(struct gw_redis *r)
{
    if (r->gates_pending > 0 && --r->gates_pending == 0 && !r->up)
        link_ready(r);
}

static void auth_cb(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    (void)privdata;

    if (r->closing || ac != r->ac || !reply)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        /* The reply names no secret ("WRONGPASS invalid username-password pair ..."). */
        r->auth_refused = true;
        r->st.auth_failures++;
        GW_LOGE(LOG_CAT, "%s authentication refused for user \"%s\": %.200s", r->name,
                r->cfg.username[0] ? r->cfg.username : "default", reply->str);
        gwr_drop_link(r, "authentication refused");
        return;
    }
    gate_done(r);
}

static bool is_error_word(const redisReply *reply, const char *word)
{
    size_t n = strlen(word);
    return reply->type == REDIS_REPLY_ERROR && reply->len >= n && strncmp(reply->str, word, n) == 0 &&
           (reply->len == n || reply->str[n] == ' ');
}

/* Sentinel mode: ROLE must say "master" before anything is sent (a sentinel may still name the
 * old primary, now a replica, during a failover). */
static void role_cb(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    const char *role = "unexpected ROLE reply";
    (void)privdata;

    if (r->closing || ac != r->ac || !reply)
        return;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        role = reply->element[0]->str;
        if (strcmp(role, "master") == 0) {
            gate_done(r);
            return;
        }
    } else if (reply->type == REDIS_REPLY_ERROR) {
        role = reply->str;
    }
    r->st.not_primary++;
    GW_LOGN(LOG_CAT, "%s %s:%u is not a primary (%.100s)", r->name, r->cur_host,
            (unsigned)r->cur_port, role);
    gwr_drop_link(r, "not a primary");
}

/* privdata of a SCRIPT LOAD: script id << 1 | 1 when it gates the link becoming ready. */
static void load_cb(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    uintptr_t v = (uintptr_t)privdata;
    int id = (int)(v >> 1);
    bool initial = v & 1;

    if (r->closing || ac != r->ac || !reply)
        return; /* link going away: ev_down handles it */
    if (reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        memcpy(r->scripts[id].sha, reply->str, 40);
        r->scripts[id].sha[40] = '\0';
    } else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "LOADING", 7) == 0) {
        gwr_drop_link(r, "Redis is loading its dataset");
        return;
    } else {
        /* A broken script is a deployment bug: its calls will go as EVAL and carry the error. */
        GW_LOGE(LOG_CAT, "%s SCRIPT LOAD of script %d failed: %.200s", r->name, id,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    }
    if (initial)
        gate_done(r);
}

static int send_load(struct gw_redis *r, int id, bool initial)
{
    uintptr_t v = ((uintptr_t)id << 1) | (initial ? 1u : 0u);
    return redisAsyncCommand(r->ac, load_cb, (void *)v, "SCRIPT LOAD %b", r->scripts[id].body,
                             r->scripts[id].len) == REDIS_OK
               ? 0
               : -ENOTCONN;
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    struct gw_redis *r = cac->data;

    if (r->closing || cac != r->ac)
        return;
    if (status != REDIS_OK) {
        GW_LOGN(LOG_CAT, "%s connect failed: %s", r->name, cac->errstr);
        r->ac = NULL; /* hiredis frees it when we return */
        link_down(r);
        return;
    }
    /* AUTH first, then (Sentinel) ROLE, then the scripts: the link counts as up only once all
     * have answered well, so EVALSHA works on it and it is a primary we may write to. */
    r->gates_pending = 0;
    if (r->cfg.password[0]) {
        int rc = r->cfg.username[0]
                     ? redisAsyncCommand(r->ac, auth_cb, NULL, "AUTH %s %s", r->cfg.username,
                                         r->cfg.password)
                     : redisAsyncCommand(r->ac, auth_cb, NULL, "AUTH %s", r->cfg.password);
        if (rc != REDIS_OK) {
            gwr_drop_link(r, "cannot queue AUTH");
            return;
        }
        r->gates_pending++;
    }
    if (r->cfg.n_sentinels > 0) {
        if (redisAsyncCommand(r->ac, role_cb, NULL, "ROLE") != REDIS_OK) {
            gwr_drop_link(r, "cannot queue ROLE");
            return;
        }
        r->gates_pending++;
    }
    for (int i = 0; i < r->n_scripts; i++) {
        if (send_load(r, i, true) < 0) {
            gwr_drop_link(r, "cannot queue SCRIPT LOAD");
            return;
        }
        r->gates_pending++;
    }
    if (r->gates_pending == 0)
        link_ready(r);
}

/* hiredis noticed the link is gone (it frees the context itself once its callbacks return). */
static void link_lost(struct gw_redis *r, const redisAsyncContext *ac)
{
    if (r->closing || ac != r->ac)
        return;
    GW_LOGN(LOG_CAT, "%s connection lost: %s", r->name,
            ac->err && ac->errstr ? ac->errstr : "closed");
    r->ac = NULL;
    link_down(r);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    (void)status;
    link_lost(cac->data, cac);
}

static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis *r = arg;
    (void)fd;
    (void)what;
    gwr_drop_link(r, "connect timed out");
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_start(arg);
}


static void connect_start(struct gw_redis *r)
{
    redisAsyncContext *ac;

    if (r->closing || r->ac || r->sq_ac)
        return;
    if (r->cfg.n_sentinels > 0) {
        gwr_sentinel_ask(r); /* connects once a sentinel named the primary */
        return;
    }
    if (r->cfg.unix_socket[0])
        ac = redisAsyncConnectUnix(r->cfg.unix_socket);
    else
        ac = redisAsyncConnect(r->cfg.host, r->cfg.port);
    gwr_connect_attach(r, ac);
}

/* Attaches a fresh connecting context to the loop as the link (or schedules a retry). */
void gwr_connect_attach(struct gw_redis *r, redisAsyncContext *ac)
{
    if (!ac || ac->err) {
        GW_LOGN(LOG_CAT, "%s connect failed: %s", r->name, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac); /* never attached, no callbacks: safe here */
        gwr_schedule_retry(r);
        return;
    }
    ac->data = r;
    if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
        redisAsyncFree(ac);
        gwr_schedule_retry(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    struct timeval tv = ms_to_tv(r->cfg.connect_timeout_ms);
    evtimer_add(r->ev_connect_to, &tv);
}

/* ---------------------------------------------------------------- requests */

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis_req *q = arg;
    struct gw_redis *r = q->owner;
    (void)fd;
    (void)what;

    r->st.timeouts++;
    if (r->ac)
        r->orphans += q->owed ? q->owed : 1; /* hiredis still owes these replies */
    GW_LOGD(LOG_CAT, "%s request %" PRIu64 " timed out", r->name, req_id(q));
    req_finish(r, q, -ETIMEDOUT, NULL);
    /* Redis that stopped answering but kept the socket open would grow hiredis's queue forever. */
    if (r->ac && r->orphans > r->cfg.max_pending)
        gwr_drop_link(r, "too many unanswered requests");
}

static bool is_noscript(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

/* Skips one RESP bulk string ("$<n>\r\n<n bytes>\r\n") at p; NULL if malformed. */
static const char *skip_bulk(const char *p, const char *end)
{
    if (p >= end || *p != '$')
        return NULL;
    char *eol;
    errno = 0;
    unsigned long long n = strtoull(p + 1, &eol, 10);
    if (errno || eol + 2 > end || eol[0] != '\r' || eol[1] != '\n')
        return NULL;
    p = eol + 2;
    if ((unsigned long long)(end - p) < n + 2)
        return NULL;
    return p + n + 2;
}

static int send_wait(struct gw_redis *r, redisAsyncContext *ac, struct gw_redis_req *q)
{
    uint32_t to = r->cfg.wait_timeout_ms ? r->cfg.wait_timeout_ms
                                         : (r->cfg.request_timeout_ms / 2 ? r->cfg.request_timeout_ms / 2 : 1);
    if (redisAsyncCommand(ac, reply_cb, (void *)(uintptr_t)req_id(q), "WAIT %u %u",
                          (unsigned)r->cfg.wait_replicas, (unsigned)to) != REDIS_OK)
        return -ENOTCONN;
    q->owed++;
    return 0;
}

/* A deep copy of a hiredis reply (freed with freeReplyObject, which uses free()). */
static redisReply *reply_dup(const redisReply *src)
{
    redisReply *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->type = src->type;
    d->integer = src->integer;
    if (src->str) {
        d->str = malloc(src->len + 1);
        if (!d->str)
            goto fail;
        memcpy(d->str, src->str, src->len);
        d->str[src->len] = '\0';
        d->len = src->len;
    }
    if (src->element && src->elements > 0) {
        d->element = calloc(src->elements, sizeof(*d->element));
        if (!d->element)
            goto fail;
        d->elements = src->elements;
        for (size_t i = 0; i < src->elements; i++) {
            if (!src->element[i])
                continue;
            d->element[i] = reply_dup(src->element[i]);
            if (!d->element[i])
                goto fail;
        }
    }
    return d;
fail:
    freeReplyObject(d);
    return NULL;
}

/* Sends q's EVALSHA again as EVAL: the same arguments after the SHA, the body in its place. */
static int send_eval_retry(struct gw_redis *r, redisAsyncContext *ac, struct gw_redis_req *q)
{
    const struct gw_redis_script *s = &r->scripts[q->script_id];
    /* ASKING holds for the next command only: the EVAL to an importing master needs it again. */
    if (q->asking && redisAsyncCommand(ac, NULL, NULL, "ASKING") != REDIS_OK)
        return -ENOTCONN;
    const char *end = q->cmd + q->cmd_len;
    const char *p = memchr(q->cmd, '\n', q->cmd_len); /* end of "*<argc>\r\n" */
    if (!p)
        return -EPROTO;
    const char *tail = skip_bulk(p + 1, end);  /* "EVALSHA" */
    tail = tail ? skip_bulk(tail, end) : NULL; /* the SHA */
    if (!tail)
        return -EPROTO;
    size_t argc_len = (size_t)(p + 1 - q->cmd);
    char head[64];
    int hn = snprintf(head, sizeof(head), "$4\r\nEVAL\r\n$%zu\r\n", s->len);
    if (hn < 0 || (size_t)hn >= sizeof(head))
        return -EPROTO;
    size_t tail_len = (size_t)(end - tail);
    size_t total = argc_len + (size_t)hn + s->len + 2 + tail_len;
    char *buf = malloc(total);
    if (!buf)
        return -ENOMEM;
    char *w = buf;
    memcpy(w, q->cmd, argc_len);
    w += argc_len;
    memcpy(w, head, (size_t)hn);
    w += hn;
    memcpy(w, s->body, s->len);
    w += s->len;
    memcpy(w, "\r\n", 2);
    w += 2;
    memcpy(w, tail, tail_len);
    int rc = redisAsyncFormattedCommand(ac, reply_cb, (void *)(uintptr_t)req_id(q), buf, total);
    free(buf);
    if (rc != REDIS_OK)
        return -ENOTCONN;
    q->owed++;
    if (q->wait) {
        /* The WAIT queued behind the EVALSHA answers before the EVAL: skip it, wait again. */
        if (send_wait(r, ac, q) < 0)
            return -ENOTCONN;
        q->skip++;
    }
    return 0;
}

static void reply_cb(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct gw_redis *r = ac->data;
    redisReply *reply = reply_;
    struct gw_redis_req *q = req_find(r, (uint64_t)(uintptr_t)privdata);

    if (!q) {
        /* Its deadline fired (or gw_redis_free cancelled it) before Redis answered. */
        if (r->orphans > 0 && ac == r->ac)
            r->orphans--;
        if (reply && !r->closing) {
            r->st.late_replies++;
            GW_LOGD(LOG_CAT, "%s late reply dropped", r->name);
        }
        return;
    }
    if (!reply) {
        /* hiredis is tearing the link down; ev_down fails q (and the others) exactly once. */
        link_lost(r, ac);
        return;
    }
    if (q->owed > 0)
        q->owed--;
    if (q->wait) {
        if (q->skip > 0 && reply->type == REDIS_REPLY_INTEGER && !q->held) {
            q->skip--; /* the WAIT behind a NOSCRIPT'd EVALSHA */
            return;
        }
        if (q->held) {
            /* WAIT's answer: the number of replicas that have every write made so far on this
             * connection, our command's included. */
            redisReply *held = q->held;
            bool enough = reply->type == REDIS_REPLY_INTEGER &&
                          reply->integer >= (long long)r->cfg.wait_replicas;
            if (!enough && held->type != REDIS_REPLY_ERROR) {
                r->st.wait_short++;
                GW_LOGN(LOG_CAT, "%s WAIT %u: %lld replica(s) in time; not acknowledged",
                        r->name, (unsigned)r->cfg.wait_replicas,
                        reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1LL);
                req_finish(r, q, -ETIMEDOUT, NULL);
                return;
            }
            q->held = NULL; /* req_finish must not free it before the callback */
            r->st.replies++;
            if (held->type == REDIS_REPLY_ERROR)
                r->st.errors_reply++;
            req_finish(r, q, 0, held);
            freeReplyObject(held);
            return;
        }
        if (!(q->script_id >= 0 && !q->retried && q->cmd && is_noscript(reply))) {
            q->held = reply_dup(reply);
            if (!q->held) {
                req_finish(r, q, -ENOMEM, NULL);
                return;
            }
            if (r->cfg.n_sentinels > 0 &&
                (is_error_word(reply, "READONLY") || is_error_word(reply, "LOADING") ||
                 is_error_word(reply, "MASTERDOWN")))
                gwr_drop_link(r, "the node no longer accepts writes (READONLY/LOADING/MASTERDOWN)");
            return; /* the command's answer: handed over when WAIT answers */
        }
    }
    if (q->script_id >= 0 && !q->retried && q->cmd && is_noscript(reply)) {
        /* SCRIPT FLUSH or a restart lost the script: EVAL once, under the same deadline. EVAL
         * also puts it back in Redis's cache, so the next EVALSHA works again. */
        if (send_eval_retry(r, ac, q) == 0) {
            q->retried = true;
            r->st.noscript_fallbacks++;
            GW_LOGN(LOG_CAT, "%s NOSCRIPT: retried with EVAL", r->name);
            return;
        }
    }
    r->st.replies++;
    if (reply->type == REDIS_REPLY_ERROR)
        r->st.errors_reply++;
    if (r->cfg.n_sentinels > 0 && ac == r->ac &&
        (is_error_word(reply, "READONLY") || is_error_word(reply, "LOADING") ||
         is_error_word(reply, "MASTERDOWN"))) {
        /* Not executed there: the primary moved (or is not ready). Drop the link first, so the
         * caller's callback cannot send more to it, then ask the sentinels again. */
        if (is_error_word(reply, "READONLY"))
            r->st.not_primary++;
        gwr_drop_link(r, "the node no longer accepts writes (READONLY/LOADING/MASTERDOWN)");
    }
    req_finish(r, q, 0, reply);
}

/* Queues a formatted command; takes ownership of cmd (kept for a script's retry, else freed).
 * tcb (cluster links only): completion goes to tcb(arg, tag, ...) instead of cb; asking: send
 * ASKING first, on the same connection, so it applies to this command. */
static int submit_ex(struct gw_redis *r, char *cmd, size_t len, int script_id, bool asking,
                     void (*tcb)(void *, uint64_t, int, const redisReply *), uint64_t tag,
                     gw_redis_cb cb, void *arg)
{
    return submit_wait(r, cmd, len, script_id, asking, false, tcb, tag, cb, arg);
}

/* submit_ex, and with wait (cfg.wait_replicas > 0) a WAIT behind the command. */
static int submit_wait(struct gw_redis *r, char *cmd, size_t len, int script_id, bool asking,
                       bool wait, void (*tcb)(void *, uint64_t, int, const redisReply *),
                       uint64_t tag, gw_redis_cb cb, void *arg)
{
    int rc;

    if (r->closing) {
        rc = -ECANCELED;
        goto fail;
    }
    if (!r->up || !r->ac) {
        r->st.not_connected++;
        rc = -ENOTCONN;
        goto fail;
    }
    if (r->st.pending >= r->cfg.max_pending) {
        rc = -ENOBUFS;
        goto fail;
    }
    struct gw_redis_req *q = req_alloc(r);
    if (!q) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((asking && redisAsyncCommand(r->ac, NULL, NULL, "ASKING") != REDIS_OK) ||
        redisAsyncFormattedCommand(r->ac, reply_cb, (void *)(uintptr_t)req_id(q), cmd, len) !=
            REDIS_OK) {
        req_release(r, q);
        r->st.not_connected++;
        rc = -ENOTCONN;
        goto fail;
    }
    q->owed = 1;
    if (wait) {
        q->wait = true;
        if (send_wait(r, r->ac, q) < 0) {
            /* The command is queued: the link is broken past repair, fail it with the others. */
            gwr_drop_link(r, "cannot queue WAIT");
        }
    }
    q->cb = cb;
    q->tcb = tcb;
    q->tag = tag;
    q->asking = asking;
    q->arg = arg;
    if (script_id >= 0) {
        q->script_id = script_id;
        q->cmd = cmd;
        q->cmd_len = len;
    } else {
        redisFreeCommand(cmd);
    }
    evtimer_add(q->deadline, r->req_tv);
    r->st.requests++;
    return 0;
fail:
    redisFreeCommand(cmd);
    return rc;
}

/* n in decimal at w, then CR LF; returns the end. */
static char *put_len(char *w, size_t n)
{
    w = gw_put_u64(w, n);
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

static size_t len_digits(size_t n)
{
    size_t d = 1;

    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

int gw_redis_format_argv(char **out, int argc, const char **argv, const size_t *argvlen)
{
    size_t total;

    if (!out || argc < 0 || (argc > 0 && !argv))
        return -EINVAL;
    total = 1 + len_digits((size_t)argc) + 2;
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            return -EINVAL;
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        total += 1 + len_digits(n) + 2 + n + 2;
    }
    if (total > INT32_MAX)
        return -EINVAL;
    char *buf = malloc(total + 1);
    if (!buf)
        return -ENOMEM;
    char *w = buf;
    *w++ = '*';
    w = put_len(w, (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        *w++ = '$';
        w = put_len(w, n);
        memcpy(w, argv[i], n);
        w += n;
        *w++ = '\r';
        *w++ = '\n';
    }
    *w = '\0';
    *out = buf;
    return (int)total;
}

static int submit(struct gw_redis *r, char *cmd, size_t len, int script_id, gw_redis_cb cb,
                  void *arg)
{
    if (r->cl)
        return cluster_submit(r, cmd, len, cluster_route_cmd(cmd, len), script_id, cb, arg);
    return submit_ex(r, cmd, len, script_id, false, NULL, 0, cb, arg);
}

int gw_redis_command(struct gw_redis *r, int argc, const char **argv, const size_t *argvlen,
                     gw_redis_cb cb, void *arg)
{
    char *cmd = NULL;

    if (!r || argc <= 0 || !argv || !cb)
        return -EINVAL;
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            return -EINVAL;
    }
    int len = gw_redis_format_argv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return len;
    return submit(r, cmd, (size_t)len, -1, cb, arg);
}

int gw_redis_commandf(struct gw_redis *r, gw_redis_cb cb, void *arg, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;

    if (!r || !cb || !fmt)
        return -EINVAL;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len == -2)
        return -EINVAL; /* bad format string */
    if (len < 0)
        return -ENOMEM;
    return submit(r, cmd, (size_t)len, -1, cb, arg);
}

int gw_redis_command_key(struct gw_redis *r, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen, gw_redis_cb cb, void *arg)
{
    char *cmd = NULL;

    if (!r || !key || argc <= 0 || !argv || !cb)
        return -EINVAL;
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            return -EINVAL;
    }
    int len = gw_redis_format_argv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return len;
    if (r->cl)
        return cluster_submit(r, cmd, (size_t)len, (int32_t)gw_redis_key_slot(key, keylen), -1, cb,
                              arg);
    return submit_ex(r, cmd, (size_t)len, -1, false, NULL, 0, cb, arg);
}

int gw_redis_script_add(struct gw_redis *r, const char *body, size_t len)
{
    if (!r || !body || len == 0)
        return -EINVAL;
    struct gw_redis_script *s = realloc(r->scripts, sizeof(*s) * (size_t)(r->n_scripts + 1));
    if (!s)
        return -ENOMEM;
    r->scripts = s;
    s = &r->scripts[r->n_scripts];
    memset(s, 0, sizeof(*s));
    s->body = malloc(len);
    if (!s->body)
        return -ENOMEM;
    memcpy(s->body, body, len);
    s->len = len;
    int id = r->n_scripts++;
    /* Added while connected: load it now; until the SHA is known its calls go as EVAL. */
    if (r->ac && r->up)
        (void)send_load(r, id, false);
    if (r->cl)
        cluster_script_added(r, id);
    return id;
}

int gw_redis_script_run(struct gw_redis *r, int script_id, int nkeys, int argc, const char **argv,
                        const size_t *argvlen, gw_redis_cb cb, void *arg)
{
    const char *sv[ARGV_STACK];
    size_t sl[ARGV_STACK];
    const char **v = sv;
    size_t *l = sl;
    char nk[16];
    char *cmd = NULL;
    int rc;

    if (!r || script_id < 0 || script_id >= r->n_scripts || nkeys < 0 || argc < nkeys ||
        (argc > 0 && !argv) || !cb || argc > INT32_MAX - 3)
        return -EINVAL;
    if (argc + 3 > ARGV_STACK) {
        v = malloc(sizeof(*v) * (size_t)(argc + 3));
        l = malloc(sizeof(*l) * (size_t)(argc + 3));
        if (!v || !l) {
            rc = -ENOMEM;
            goto out;
        }
    }
    if (r->cl)
        cluster_learn_sha(r, script_id);
    const struct gw_redis_script *s = &r->scripts[script_id];
    bool sha = s->sha[0] != '\0';
    snprintf(nk, sizeof(nk), "%d", nkeys);
    v[0] = sha ? "EVALSHA" : "EVAL";
    l[0] = strlen(v[0]);
    v[1] = sha ? s->sha : s->body;
    l[1] = sha ? 40 : s->len;
    v[2] = nk;
    l[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        if (!argv[i]) {
            rc = -EINVAL;
            goto out;
        }
        v[i + 3] = argv[i];
        l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    int len = gw_redis_format_argv(&cmd, argc + 3, v, l);
    if (len < 0) {
        rc = len;
        goto out;
    }
    if (r->cl)
        rc = cluster_submit(r, cmd, (size_t)len,
                            nkeys > 0 ? (int32_t)gw_redis_key_slot(v[3], l[3]) : -1,
                            sha ? script_id : -1, cb, arg);
    else
        rc = submit_wait(r, cmd, (size_t)len, sha ? script_id : -1, false,
                         r->cfg.wait_replicas > 0, NULL, 0, cb, arg);
out:
    if (v != sv)
        free(v);
    if (l != sl)
        free(l);
    return rc;
}

/* ---------------------------------------------------------------- life cycle */

struct gw_redis *gw_redis_new(struct event_base *base, const struct gw_redis_config *cfg)
{
    if (!base || !cfg)
        return NULL;
    struct gw_redis *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->base = base;
    r->cfg = *cfg;
    r->cfg.host[sizeof(r->cfg.host) - 1] = '\0';
    r->cfg.unix_socket[sizeof(r->cfg.unix_socket) - 1] = '\0';
    if (r->cfg.reconnect_max_ms < r->cfg.reconnect_min_ms)
        r->cfg.reconnect_max_ms = r->cfg.reconnect_min_ms;
    if (r->cfg.max_pending == 0)
        r->cfg.max_pending = 1;
    if (r->cfg.n_cluster_nodes > GW_REDIS_MAX_SEEDS)
        r->cfg.n_cluster_nodes = GW_REDIS_MAX_SEEDS;
    for (unsigned i = 0; i < r->cfg.n_cluster_nodes; i++)
        r->cfg.cluster_nodes[i][GW_REDIS_ADDR_LEN - 1] = '\0';
    if (r->cfg.n_sentinels > GW_REDIS_MAX_SEEDS)
        r->cfg.n_sentinels = GW_REDIS_MAX_SEEDS;
    if (r->cfg.n_cluster_nodes > 0)
        r->cfg.n_sentinels = 0; /* the config refuses both; Cluster has its own failover */
    for (unsigned i = 0; i < r->cfg.n_sentinels; i++)
        r->cfg.sentinels[i][GW_REDIS_ADDR_LEN - 1] = '\0';
    r->cfg.username[sizeof(r->cfg.username) - 1] = '\0';
    r->cfg.password[sizeof(r->cfg.password) - 1] = '\0';
    r->cfg.master_name[sizeof(r->cfg.master_name) - 1] = '\0';
    if (r->cfg.n_sentinels > 0 && !r->cfg.master_name[0]) {
        GW_LOGE(LOG_CAT, "redis: sentinels given without a master name");
        free(r);
        return NULL;
    }
    if (r->cfg.n_cluster_nodes > 0)
        snprintf(r->name, sizeof(r->name), "redis-cluster{%.100s%s}", r->cfg.cluster_nodes[0],
                 r->cfg.n_cluster_nodes > 1 ? ",..." : "");
    else if (r->cfg.n_sentinels > 0)
        snprintf(r->name, sizeof(r->name), "redis{sentinel:%s}", r->cfg.master_name);
    else if (r->cfg.unix_socket[0])
        snprintf(r->name, sizeof(r->name), "redis{%s}", r->cfg.unix_socket);
    else
        snprintf(r->name, sizeof(r->name), "redis{%.100s:%u}", r->cfg.host, (unsigned)r->cfg.port);
    gw_backoff_init(&r->backoff, r->cfg.reconnect_min_ms, r->cfg.reconnect_max_ms, 0);

    r->ev_connect_to = evtimer_new(base, connect_timeout_cb, r);
    r->ev_retry = evtimer_new(base, retry_cb, r);
    r->ev_down = event_new(base, -1, 0, down_cb, r);
    if (!r->ev_connect_to || !r->ev_retry || !r->ev_down) {
        gw_redis_free(r);
        return NULL;
    }
    r->req_tv_plain = ms_to_tv(r->cfg.request_timeout_ms);
    r->req_tv = event_base_init_common_timeout(base, &r->req_tv_plain);
    if (!r->req_tv)
        r->req_tv = &r->req_tv_plain;
    if (r->cfg.n_sentinels > 0 && gwr_sentinel_init(r) < 0) {
        gw_redis_free(r);
        return NULL;
    }
    if (r->cfg.n_cluster_nodes > 0 && cluster_init(r) < 0) {
        gw_redis_free(r);
        return NULL;
    }
    return r;
}

int gw_redis_start(struct gw_redis *r)
{
    if (!r)
        return -EINVAL;
    if (r->started)
        return 0;
    r->started = true;
    if (r->cl) {
        cluster_start(r);
    } else {
        if (r->cfg.n_sentinels > 0)
            gwr_sentinel_subscribe(r);
        connect_start(r);
    }
    return 0;
}

bool gw_redis_is_connected(const struct gw_redis *r)
{
    return r && r->up;
}

void gw_redis_on_state(struct gw_redis *r, void (*fn)(void *arg, bool up), void *arg)
{
    r->state_fn = fn;
    r->state_arg = arg;
}

void gw_redis_get_stats(const struct gw_redis *r, struct gw_redis_stats *out)
{
    *out = r->st;
    if (r->cl)
        cluster_stats(r, out);
}

void gw_redis_free(struct gw_redis *r)
{
    if (!r)
        return;
    r->closing = true;
    r->up = false;
    if (r->ev_retry)
        event_free(r->ev_retry);
    if (r->ev_connect_to)
        event_free(r->ev_connect_to);
    if (r->ev_down)
        event_free(r->ev_down);
    r->ev_retry = r->ev_connect_to = r->ev_down = NULL;
    fail_all(r, -ECANCELED);
    gwr_sentinel_free(r);
    /* The masters' links: their pending attempts report to us and find nothing (closing). */
    cluster_free(r);
    /* Not inside a hiredis callback (documented), so freeing the contexts here is safe; their
     * pending callbacks run now and find nothing. */
    if (r->ac_dying) {
        redisAsyncContext *ac = r->ac_dying;
        r->ac_dying = NULL;
        redisAsyncFree(ac);
    }
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
    }
    for (uint32_t c = 0; c < r->n_chunks; c++) {
        for (uint32_t i = 0; i < CHUNK_SLOTS; i++) {
            event_free(r->chunks[c][i].deadline);
            if (r->chunks[c][i].retry)
                event_free(r->chunks[c][i].retry);
        }
        free(r->chunks[c]);
    }
    free(r->chunks);
    for (int i = 0; i < r->n_scripts; i++)
        free(r->scripts[i].body);
    free(r->scripts);
    free(r);
}

/* ================================================================ Redis Cluster
 * The cluster client keeps the slot map as slot -> node index; nodes[] holds one entry per master
 * we talk to, each with its own single-node client (link). Entries are retired when a new slot
 * map no longer lists them (and nothing is in flight or recently redirected there); a retired
 * entry waits on the dead list until ev_reap frees its link at the top of the loop. */

struct gw_cnode {
    struct gw_redis *owner; /* the cluster client */
    struct gw_redis *link;  /* single-node client to this master */
    char host[256];
    uint16_t port;
    uint32_t index, gen; /* an (index, gen) pair kept elsewhere finds this node or nothing */
    bool ever_up, in_map;
    int64_t ask_ms; /* last ASK redirection here: a migration target may own no slot yet */
    struct gw_cnode *next_dead;
};

struct gw_cluster {
    struct gw_cnode **nodes; /* by index; NULL = free entry */
    uint32_t n_nodes;        /* entries in nodes[] */
    uint32_t gen_next, rr;   /* rr: round-robin start for keyless commands */
    struct gw_cnode *dead;
    struct event *ev_reap, *ev_refresh;
    bool map_loaded, stale, refreshing;
    struct gw_redis_stats retired; /* link counters of freed nodes, so the sums never go back */
    uint16_t slot_node[GW_REDIS_SLOTS];
    uint16_t scratch[GW_REDIS_SLOTS]; /* the map being parsed */
};

static void cluster_reply(void *arg, uint64_t tag, int err, const redisReply *reply);
static void refresh_start(struct gw_redis *r);

/* CRC16-CCITT as XMODEM uses it (poly 0x1021, init 0, no reflection): the Redis Cluster spec's
 * HASH_SLOT. Bit by bit: keys are a few dozen bytes, a table buys nothing measurable here. */
static uint16_t crc16_xmodem(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned gw_redis_key_slot(const char *key, size_t len)
{
    if (!key)
        len = 0;
    const char *open = len ? memchr(key, '{', len) : NULL;
    if (open) {
        size_t rest = len - (size_t)(open + 1 - key);
        const char *close = rest ? memchr(open + 1, '}', rest) : NULL;
        /* "{}" hashes the whole key: an empty tag would put every such key in one slot. */
        if (close && close > open + 1) {
            key = open + 1;
            len = (size_t)(close - open - 1);
        }
    }
    return crc16_xmodem((const unsigned char *)key, len) & (GW_REDIS_SLOTS - 1);
}

int gw_redis_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    if (!s || !host || hostlen == 0 || !port)
        return -EINVAL;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -EINVAL;
    const char *digits = colon + 1;
    size_t nd = strlen(digits);
    if (nd == 0 || nd > 5 || strspn(digits, "0123456789") != nd)
        return -EINVAL;
    unsigned long p = strtoul(digits, NULL, 10);
    if (p == 0 || p > 65535)
        return -EINVAL;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return -EINVAL;
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -EINVAL;
    for (size_t i = 0; i < hl; i++) {
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
            return -EINVAL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* ---------------------------------------------------------------- nodes */

static struct gw_cnode *node_get(const struct gw_redis *r, uint32_t index, uint32_t gen)
{
    const struct gw_cluster *cl = r->cl;
    if (index >= cl->n_nodes || !cl->nodes[index])
        return NULL;
    return cl->nodes[index]->gen == gen ? cl->nodes[index] : NULL;
}

static bool node_up(const struct gw_cnode *n)
{
    return n && gw_redis_is_connected(n->link);
}

static struct gw_cnode *node_of_slot(const struct gw_redis *r, int32_t slot)
{
    const struct gw_cluster *cl = r->cl;
    if (slot < 0 || slot >= GW_REDIS_SLOTS || cl->slot_node[slot] == CL_NONE)
        return NULL;
    return cl->nodes[cl->slot_node[slot]];
}

/* Any connected master (keyless commands, CLUSTER SLOTS), round-robin, masters in the map first. */
static struct gw_cnode *pick_up_node(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    struct gw_cnode *other = NULL;
    for (uint32_t k = 0; k < cl->n_nodes; k++) {
        uint32_t i = (cl->rr + k) % cl->n_nodes;
        struct gw_cnode *n = cl->nodes[i];
        if (!node_up(n))
            continue;
        if (n->in_map || !cl->map_loaded) {
            cl->rr = i + 1;
            return n;
        }
        if (!other)
            other = n;
    }
    return other;
}

static void node_state_cb(void *arg, bool up);

/* The node for host:port, creating (and, once the client is started, connecting) it. NULL when
 * the table is full or memory is short. */
static struct gw_cnode *node_add(struct gw_redis *r, const char *host, uint16_t port)
{
    struct gw_cluster *cl = r->cl;
    uint32_t idx = cl->n_nodes;

    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        struct gw_cnode *n = cl->nodes[i];
        if (n && n->port == port && strcmp(n->host, host) == 0)
            return n;
        if (!n && idx == cl->n_nodes)
            idx = i;
    }
    if (idx == cl->n_nodes) {
        if (cl->n_nodes >= CL_MAX_NODES)
            return NULL;
        struct gw_cnode **nodes = realloc(cl->nodes, sizeof(*nodes) * (cl->n_nodes + 1));
        if (!nodes)
            return NULL;
        cl->nodes = nodes;
        cl->nodes[cl->n_nodes++] = NULL;
    }
    struct gw_cnode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    struct gw_redis_config lc = r->cfg;
    lc.n_cluster_nodes = 0;
    lc.n_sentinels = 0;
    lc.unix_socket[0] = '\0';
    snprintf(lc.host, sizeof(lc.host), "%s", host);
    lc.port = port;
    n->link = gw_redis_new(r->base, &lc);
    if (!n->link)
        goto fail;
    /* Same scripts in the same order: a script id means the same script on every link. */
    for (int i = 0; i < r->n_scripts; i++) {
        if (gw_redis_script_add(n->link, r->scripts[i].body, r->scripts[i].len) != i)
            goto fail;
    }
    n->owner = r;
    snprintf(n->host, sizeof(n->host), "%s", host);
    n->port = port;
    n->index = idx;
    n->gen = ++cl->gen_next ? cl->gen_next : ++cl->gen_next;
    gw_redis_on_state(n->link, node_state_cb, n);
    cl->nodes[idx] = n;
    GW_LOGI(LOG_CAT, "%s master %.100s:%u added", r->name, host, (unsigned)port);
    if (r->started)
        gw_redis_start(n->link);
    return n;
fail:
    gw_redis_free(n->link);
    free(n);
    return NULL;
}

/* Takes n out of the table now (nothing new goes to it) and frees it later from ev_reap: we may be
 * inside one of its link's callbacks. */
static void node_retire(struct gw_redis *r, struct gw_cnode *n)
{
    struct gw_cluster *cl = r->cl;
    cl->nodes[n->index] = NULL;
    for (uint32_t s = 0; s < GW_REDIS_SLOTS; s++) {
        if (cl->slot_node[s] == n->index)
            cl->slot_node[s] = CL_NONE;
    }
    GW_LOGI(LOG_CAT, "%s master %.100s:%u retired", r->name, n->host, (unsigned)n->port);
    n->next_dead = cl->dead;
    cl->dead = n;
    event_active(cl->ev_reap, EV_TIMEOUT, 1);
}

static void add_link_stats(struct gw_redis_stats *to, const struct gw_redis_stats *from)
{
    to->connects += from->connects;
    to->disconnects += from->disconnects;
    to->noscript_fallbacks += from->noscript_fallbacks;
    to->late_replies += from->late_replies;
    to->auth_failures += from->auth_failures;
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis *r = arg;
    struct gw_cluster *cl = r->cl;
    (void)fd;
    (void)what;

    while (cl->dead) {
        struct gw_cnode *n = cl->dead;
        cl->dead = n->next_dead;
        struct gw_redis_stats st;
        gw_redis_get_stats(n->link, &st);
        add_link_stats(&cl->retired, &st);
        /* Attempts still on it come back as -ECANCELED, reported to the caller as -ENOTCONN. */
        gw_redis_free(n->link);
        free(n);
    }
}

/* Up when every slot has a master whose link is up; tells the owner on each change. */
static void cluster_update_state(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    bool up = cl->map_loaded;

    for (uint32_t s = 0; up && s < GW_REDIS_SLOTS; s++)
        up = cl->slot_node[s] != CL_NONE && node_up(cl->nodes[cl->slot_node[s]]);
    if (up == r->up || r->closing)
        return;
    r->up = up;
    if (up)
        GW_LOGI(LOG_CAT, "%s up: every slot has a connected master", r->name);
    else
        GW_LOGN(LOG_CAT, "%s down: some slots have no connected master", r->name);
    if (r->state_fn)
        r->state_fn(r->state_arg, up);
}

static void refresh_later(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    cl->stale = true;
    if (r->closing || cl->refreshing || evtimer_pending(cl->ev_refresh, NULL))
        return;
    struct timeval tv = ms_to_tv(CL_REFRESH_GAP_MS);
    evtimer_add(cl->ev_refresh, &tv);
}

static void node_state_cb(void *arg, bool up)
{
    struct gw_cnode *n = arg;
    struct gw_redis *r = n->owner;
    struct gw_cluster *cl = r->cl;

    if (r->closing || n->index >= cl->n_nodes || cl->nodes[n->index] != n)
        return; /* retired, waiting for ev_reap */
    if (up) {
        n->ever_up = true;
        if (!cl->map_loaded || cl->stale)
            refresh_start(r);
    } else {
        /* A master gone: with replicas one of them takes its slots; learn it soon. */
        refresh_later(r);
    }
    cluster_update_state(r);
}

/* ---------------------------------------------------------------- slot map */

/* Applies a CLUSTER SLOTS reply ([[start, end, [ip, port, id, ...], replicas...], ...]) obtained
 * from node `from` (an empty ip means "the address you asked"; "?" an unknown one: skipped). */
static int apply_slots(struct gw_redis *r, const redisReply *reply, const struct gw_cnode *from)
{
    struct gw_cluster *cl = r->cl;
    uint16_t *map = cl->scratch;
    uint32_t covered = 0;
    char host[256];

    if (reply->type != REDIS_REPLY_ARRAY)
        return -EPROTO;
    for (uint32_t s = 0; s < GW_REDIS_SLOTS; s++)
        map[s] = CL_NONE;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
            return -EPROTO;
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        const redisReply *ip = e->element[2]->element[0], *pt = e->element[2]->element[1];
        if (lo < 0 || hi < lo || hi >= GW_REDIS_SLOTS || ip->type != REDIS_REPLY_STRING ||
            pt->type != REDIS_REPLY_INTEGER || pt->integer <= 0 || pt->integer > 65535)
            return -EPROTO;
        if (ip->len == 0 && from)
            snprintf(host, sizeof(host), "%s", from->host);
        else if (ip->len > 0 && ip->len < sizeof(host) && memchr(ip->str, '\0', ip->len) == NULL &&
                 !(ip->len == 1 && ip->str[0] == '?'))
            snprintf(host, sizeof(host), "%.*s", (int)ip->len, ip->str);
        else
            continue;
        struct gw_cnode *n = node_add(r, host, (uint16_t)pt->integer);
        if (!n)
            continue; /* those slots stay without a master: not connected, retried later */
        for (long long s = lo; s <= hi; s++) {
            if (map[s] == CL_NONE)
                covered++;
            map[s] = (uint16_t)n->index;
        }
    }
    if (covered == 0)
        return -EPROTO;
    memcpy(cl->slot_node, map, sizeof(cl->slot_node));
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        if (cl->nodes[i])
            cl->nodes[i]->in_map = false;
    }
    for (uint32_t s = 0; s < GW_REDIS_SLOTS; s++) {
        if (map[s] != CL_NONE)
            cl->nodes[map[s]]->in_map = true;
    }
    /* Masters the cluster no longer lists: retire them, unless something is still in flight there
     * or a migration sent us there recently (an importing master may own no slot yet). */
    int64_t now = gw_clock_mono_ms();
    uint32_t masters = 0;
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        struct gw_cnode *n = cl->nodes[i];
        if (!n)
            continue;
        if (n->in_map) {
            masters++;
            continue;
        }
        struct gw_redis_stats st;
        gw_redis_get_stats(n->link, &st);
        if (st.pending == 0 && now - n->ask_ms > 10000)
            node_retire(r, n);
    }
    if (!cl->map_loaded || covered < GW_REDIS_SLOTS)
        GW_LOGI(LOG_CAT, "%s slot map: %u master(s), %u/%u slots covered", r->name, masters,
                covered, (unsigned)GW_REDIS_SLOTS);
    cl->map_loaded = true;
    return 0;
}

static void slots_reply(void *arg, uint64_t tag, int err, const redisReply *reply)
{
    struct gw_redis *r = arg;
    struct gw_cluster *cl = r->cl;

    cl->refreshing = false;
    if (r->closing)
        return;
    const struct gw_cnode *from = node_get(r, (uint32_t)tag, (uint32_t)(tag >> 32));
    int rc = err ? err : apply_slots(r, reply, from);
    if (rc < 0) {
        GW_LOGN(LOG_CAT, "%s CLUSTER SLOTS failed: %s", r->name,
                err ? strerror(-err)
                    : (reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply"));
        refresh_later(r);
    } else {
        r->st.slot_map_loads++;
        if (cl->stale)
            refresh_later(r); /* a MOVED arrived while this one was in flight */
    }
    cluster_update_state(r);
}

static void refresh_start(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    char *cmd = NULL;

    cl->stale = true;
    if (r->closing || cl->refreshing)
        return; /* the answer in flight sees stale and asks again */
    struct gw_cnode *n = pick_up_node(r);
    if (!n)
        return; /* the next link to come up asks */
    int len = redisFormatCommand(&cmd, "CLUSTER SLOTS");
    if (len < 0) {
        refresh_later(r);
        return;
    }
    uint64_t tag = ((uint64_t)n->gen << 32) | n->index;
    if (submit_ex(n->link, cmd, (size_t)len, -1, false, slots_reply, tag, NULL, r) < 0) {
        refresh_later(r);
        return;
    }
    evtimer_del(cl->ev_refresh);
    cl->stale = false;
    cl->refreshing = true;
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    refresh_start(arg);
}

/* ---------------------------------------------------------------- routing */

/* Reads up to max bulk strings of a formatted command; returns how many (or -1) and the total. */
static int resp_args(const char *p, size_t len, const char **av, size_t *al, int max, long *argc)
{
    const char *end = p + len;
    char *eol;

    /* The buffer comes from redisFormatCommand*: every number ends with "\r\n", so strtol stops
     * inside it. */
    if (len < 4 || p[0] != '*')
        return -1;
    long n = strtol(p + 1, &eol, 10);
    if (n < 0 || eol + 2 > end || eol[0] != '\r')
        return -1;
    p = eol + 2;
    int got = 0;
    for (; got < n && got < max; got++) {
        if (p >= end || *p != '$')
            return -1;
        unsigned long long bl = strtoull(p + 1, &eol, 10);
        if (eol + 2 > end || eol[0] != '\r')
            return -1;
        p = eol + 2;
        if ((unsigned long long)(end - p) < bl + 2)
            return -1;
        av[got] = p;
        al[got] = (size_t)bl;
        p += bl + 2;
    }
    *argc = n;
    return got;
}

/* Where the first key of a command is: 0 keyless, 2 = argv[2], -1 = EVAL-like (argv[3] when
 * numkeys > 0); every other command: argv[1]. */
static const struct {
    const char *name;
    int key;
} cmd_keys[] = {
    {"PING", 0},     {"ECHO", 0},      {"INFO", 0},      {"TIME", 0},         {"FLUSHALL", 0},
    {"FLUSHDB", 0},  {"DBSIZE", 0},    {"SCRIPT", 0},    {"CLUSTER", 0},      {"CLIENT", 0},
    {"CONFIG", 0},   {"COMMAND", 0},   {"FUNCTION", 0},  {"SELECT", 0},       {"AUTH", 0},
    {"HELLO", 0},    {"READONLY", 0},  {"READWRITE", 0}, {"ASKING", 0},       {"DEBUG", 0},
    {"SLOWLOG", 0},  {"LATENCY", 0},   {"KEYS", 0},      {"SCAN", 0},         {"RANDOMKEY", 0},
    {"LASTSAVE", 0}, {"SAVE", 0},      {"BGSAVE", 0},    {"BGREWRITEAOF", 0}, {"ROLE", 0},
    {"WAIT", 0},     {"PUBLISH", 0},   {"MEMORY", 2},    {"OBJECT", 2},       {"XINFO", 2},
    {"XGROUP", 2},   {"EVAL", -1},     {"EVALSHA", -1},  {"EVAL_RO", -1},     {"EVALSHA_RO", -1},
    {"FCALL", -1},   {"FCALL_RO", -1},
};

static int32_t cluster_route_cmd(const char *cmd, size_t len)
{
    const char *av[4];
    size_t al[4];
    long argc = 0;
    int got = resp_args(cmd, len, av, al, 4, &argc);
    int key = 1;

    if (got < 1)
        return -1;
    for (size_t i = 0; i < sizeof(cmd_keys) / sizeof(cmd_keys[0]); i++) {
        if (strlen(cmd_keys[i].name) == al[0] && strncasecmp(cmd_keys[i].name, av[0], al[0]) == 0) {
            key = cmd_keys[i].key;
            break;
        }
    }
    if (key == -1) {
        /* numkeys is argv[2]: "0" (or junk, which Redis rejects) means no key to route by */
        bool keys = got >= 4 && al[2] > 0 && al[2] < 10 && av[2][0] >= '1' && av[2][0] <= '9';
        return keys ? (int32_t)gw_redis_key_slot(av[3], al[3]) : -1;
    }
    if (key == 0 || got <= key)
        return -1;
    return (int32_t)gw_redis_key_slot(av[key], al[key]);
}

/* ---------------------------------------------------------------- requests */

/* Sends one attempt of cluster request q to node n (a copy of its command: the link owns and may
 * keep it for its NOSCRIPT retry). 0, or the link's refusal. */
static int attempt(struct gw_redis *r, struct gw_redis_req *q, struct gw_cnode *n, bool asking)
{
    /* NUL-terminated like redisFormatCommand's own buffers: hiredis peeks one byte past the
     * command name (its subscribe check), which for "PING" is the end of the buffer. */
    char *copy = malloc(q->cmd_len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, q->cmd, q->cmd_len);
    copy[q->cmd_len] = '\0';
    int rc = submit_ex(n->link, copy, q->cmd_len, q->script_id, asking, cluster_reply, req_id(q),
                       NULL, r);
    if (rc == 0) {
        q->sent_node = n->index;
        q->sent_gen = n->gen;
    }
    return rc;
}

static void resend(struct gw_redis *r, struct gw_redis_req *q);

static void cl_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_redis_req *q = arg;
    (void)fd;
    (void)what;
    resend(q->owner, q);
}

/* Re-sends q after ms; its deadline still runs and ends it (-ETIMEDOUT) if nothing works. */
static void later(struct gw_redis *r, struct gw_redis_req *q, uint32_t ms)
{
    if (!q->retry)
        q->retry = evtimer_new(r->base, cl_retry_cb, q);
    if (!q->retry) {
        req_finish(r, q, -ENOMEM, NULL);
        return;
    }
    struct timeval tv = ms_to_tv(ms);
    evtimer_add(q->retry, &tv);
}

static void resend(struct gw_redis *r, struct gw_redis_req *q)
{
    struct gw_cnode *n = q->ask_gen ? node_get(r, q->ask_node, q->ask_gen) : NULL;
    bool asking = n != NULL;

    if (!n)
        n = q->slot >= 0 ? node_of_slot(r, q->slot) : pick_up_node(r);
    if (!node_up(n)) {
        /* A master just learnt from MOVED/ASK is still connecting, or the slot has no master
         * right now (failover in progress): poll until the deadline. */
        later(r, q, CL_RETRY_MS);
        return;
    }
    int rc = attempt(r, q, n, asking);
    if (rc == 0)
        q->ask_gen = 0;
    else if (rc == -ENOTCONN)
        later(r, q, CL_RETRY_MS);
    else
        req_finish(r, q, rc, NULL);
}

static bool starts_with(const redisReply *reply, const char *word)
{
    size_t n = strlen(word);
    return reply->len >= n && strncmp(reply->str, word, n) == 0;
}

/* A redirection or "busy" error for q: takes q over (re-sent now or later) and returns true; false
 * leaves the error to be the caller's reply (not a redirection, malformed, or too many). */
static bool redirect(struct gw_redis *r, struct gw_redis_req *q, const redisReply *reply)
{
    struct gw_cluster *cl = r->cl;
    bool moved = starts_with(reply, "MOVED "), ask = starts_with(reply, "ASK ");
    bool busy = starts_with(reply, "TRYAGAIN") || starts_with(reply, "CLUSTERDOWN");

    if (!moved && !ask && !busy)
        return false;
    if (busy) {
        /* TRYAGAIN: a multi-key request during a slot migration; CLUSTERDOWN: the cluster is
         * electing or lost a slot. Neither executed anything: again, until the deadline. */
        r->st.retried_busy++;
        uint32_t shift = q->busy_tries < 4 ? q->busy_tries : 4;
        uint32_t ms = CL_RETRY_MS << shift;
        q->busy_tries++;
        later(r, q, ms < CL_BUSY_MAX_MS ? ms : CL_BUSY_MAX_MS);
        return true;
    }
    if (q->redirects >= CL_MAX_REDIRECTS) {
        GW_LOGN(LOG_CAT, "%s %u redirections: giving up with %.100s", r->name, q->redirects,
                reply->str);
        return false;
    }
    q->redirects++;
    /* "MOVED <slot> <host>:<port>" / "ASK <slot> <host>:<port>" (host may be empty: the node
     * that answered). */
    char buf[300], host[256];
    uint16_t port;
    const char *p = reply->str + (moved ? 6 : 4);
    size_t rest = reply->len - (size_t)(p - reply->str);
    if (rest >= sizeof(buf))
        return false;
    memcpy(buf, p, rest);
    buf[rest] = '\0';
    char *sp = strchr(buf, ' ');
    if (!sp || sp == buf || (size_t)(sp - buf) > 5 ||
        strspn(buf, "0123456789") != (size_t)(sp - buf))
        return false;
    unsigned long slot = strtoul(buf, NULL, 10);
    if (slot >= GW_REDIS_SLOTS)
        return false;
    const char *addr = sp + 1;
    if (addr[0] == ':') {
        const struct gw_cnode *from = node_get(r, q->sent_node, q->sent_gen);
        char full[300];
        if (!from)
            return false;
        snprintf(full, sizeof(full), "%s%s", from->host, addr);
        if (gw_redis_parse_addr(full, host, sizeof(host), &port) < 0)
            return false;
    } else if (gw_redis_parse_addr(addr, host, sizeof(host), &port) < 0) {
        return false;
    }
    struct gw_cnode *n = node_add(r, host, port);
    if (!n)
        return false;
    if (moved) {
        r->st.moved++;
        GW_LOGD(LOG_CAT, "%s MOVED %lu -> %s:%u", r->name, slot, host, (unsigned)port);
        cl->slot_node[slot] = (uint16_t)n->index;
        n->in_map = true;
        q->ask_gen = 0;
        refresh_later(r); /* one slot moved usually means more did */
    } else {
        r->st.asked++;
        GW_LOGD(LOG_CAT, "%s ASK %lu -> %s:%u", r->name, slot, host, (unsigned)port);
        n->ask_ms = gw_clock_mono_ms();
        q->ask_node = n->index;
        q->ask_gen = n->gen;
    }
    resend(r, q);
    if (moved)
        cluster_update_state(r);
    return true;
}

/* An attempt of a cluster request completed on its link. */
static void cluster_reply(void *arg, uint64_t tag, int err, const redisReply *reply)
{
    struct gw_redis *r = arg;
    struct gw_redis_req *q = req_find(r, tag);

    if (!q) {
        /* The caller's deadline fired first (or gw_redis_free cancelled it). */
        if (err == 0 && !r->closing) {
            r->st.late_replies++;
            GW_LOGD(LOG_CAT, "%s late reply dropped", r->name);
        }
        return;
    }
    if (err) {
        /* -ECANCELED: its link was retired under it. Either way the command may have run, so it
         * is not re-sent: the caller decides (a commit is idempotent, an INCR is not). */
        if (err == -ECANCELED)
            err = -ENOTCONN;
        if (err == -ENOTCONN)
            refresh_later(r);
        if (err == -ETIMEDOUT)
            r->st.timeouts++;
        req_finish(r, q, err, NULL);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR && redirect(r, q, reply))
        return;
    r->st.replies++;
    if (reply->type == REDIS_REPLY_ERROR)
        r->st.errors_reply++;
    req_finish(r, q, 0, reply);
}

/* Accepts a formatted command for slot (-1: any master); takes ownership of cmd. Same contract
 * as submit(): < 0 and the callback never runs. */
static int cluster_submit(struct gw_redis *r, char *cmd, size_t len, int32_t slot, int script_id,
                          gw_redis_cb cb, void *arg)
{
    int rc;

    if (r->closing) {
        rc = -ECANCELED;
        goto fail;
    }
    struct gw_cnode *n = slot >= 0 ? node_of_slot(r, slot) : pick_up_node(r);
    if (!node_up(n)) {
        r->st.not_connected++;
        rc = -ENOTCONN;
        goto fail;
    }
    if (r->st.pending >= r->cfg.max_pending) {
        rc = -ENOBUFS;
        goto fail;
    }
    struct gw_redis_req *q = req_alloc(r);
    if (!q) {
        rc = -ENOMEM;
        goto fail;
    }
    q->cmd = cmd;
    q->cmd_len = len;
    q->script_id = script_id;
    q->slot = slot;
    rc = attempt(r, q, n, false);
    if (rc < 0) {
        if (rc == -ENOTCONN)
            r->st.not_connected++;
        req_release(r, q); /* frees cmd */
        return rc;
    }
    q->cb = cb;
    q->arg = arg;
    evtimer_add(q->deadline, r->req_tv);
    r->st.requests++;
    return 0;
fail:
    free(cmd);
    return rc;
}

/* ---------------------------------------------------------------- life cycle */

static void cluster_script_added(struct gw_redis *r, int id)
{
    struct gw_cluster *cl = r->cl;
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        struct gw_cnode *n = cl->nodes[i];
        if (n && gw_redis_script_add(n->link, r->scripts[id].body, r->scripts[id].len) != id) {
            /* Ids must mean the same script everywhere: drop this link, the next slot map
             * brings the master back with every script. */
            GW_LOGE(LOG_CAT, "%s cannot register script %d on %.100s:%u", r->name, id, n->host,
                    (unsigned)n->port);
            node_retire(r, n);
            refresh_later(r);
        }
    }
}

/* SHA1 is of the body, the same on every master: learn it from any link that loaded it. */
static void cluster_learn_sha(struct gw_redis *r, int id)
{
    struct gw_cluster *cl = r->cl;
    if (r->scripts[id].sha[0])
        return;
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        const struct gw_cnode *n = cl->nodes[i];
        if (n && id < n->link->n_scripts && n->link->scripts[id].sha[0]) {
            memcpy(r->scripts[id].sha, n->link->scripts[id].sha, sizeof(r->scripts[id].sha));
            return;
        }
    }
}

static int cluster_init(struct gw_redis *r)
{
    struct gw_cluster *cl = calloc(1, sizeof(*cl));
    char host[256];
    uint16_t port;

    if (!cl)
        return -ENOMEM;
    r->cl = cl;
    for (uint32_t s = 0; s < GW_REDIS_SLOTS; s++)
        cl->slot_node[s] = CL_NONE;
    cl->ev_reap = event_new(r->base, -1, 0, reap_cb, r);
    cl->ev_refresh = evtimer_new(r->base, refresh_cb, r);
    if (!cl->ev_reap || !cl->ev_refresh)
        return -ENOMEM;
    for (unsigned i = 0; i < r->cfg.n_cluster_nodes; i++) {
        if (gw_redis_parse_addr(r->cfg.cluster_nodes[i], host, sizeof(host), &port) < 0) {
            GW_LOGE(LOG_CAT, "%s bad cluster seed \"%.100s\"", r->name, r->cfg.cluster_nodes[i]);
            return -EINVAL;
        }
        if (!node_add(r, host, port))
            return -ENOMEM;
    }
    return 0;
}

static void cluster_start(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        if (cl->nodes[i])
            gw_redis_start(cl->nodes[i]->link);
    }
}

static void cluster_stats(const struct gw_redis *r, struct gw_redis_stats *out)
{
    const struct gw_cluster *cl = r->cl;
    add_link_stats(out, &cl->retired);
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        const struct gw_cnode *n = cl->nodes[i];
        if (!n)
            continue;
        struct gw_redis_stats st;
        gw_redis_get_stats(n->link, &st);
        add_link_stats(out, &st);
        out->nodes++;
        if (node_up(n))
            out->nodes_up++;
    }
}

static void cluster_free(struct gw_redis *r)
{
    struct gw_cluster *cl = r->cl;
    if (!cl)
        return;
    if (cl->ev_reap)
        event_free(cl->ev_reap);
    if (cl->ev_refresh)
        event_free(cl->ev_refresh);
    for (uint32_t i = 0; i < cl->n_nodes; i++) {
        if (cl->nodes[i]) {
            gw_redis_free(cl->nodes[i]->link);
            free(cl->nodes[i]);
        }
    }
    while (cl->dead) {
        struct gw_cnode *n = cl->dead;
        cl->dead = n->next_dead;
        gw_redis_free(n->link);
        free(n);
    }
    free(cl->nodes);
    free(cl);
    r->cl = NULL;
}

bool gw_redis_auth_refused(const struct gw_redis *r)
{
    if (!r)
        return false;
    if (r->cl) {
        for (uint32_t i = 0; i < r->cl->n_nodes; i++) {
            if (r->cl->nodes[i] && r->cl->nodes[i]->link->auth_refused)
                return true;
        }
    }
    return r->auth_refused;
}
