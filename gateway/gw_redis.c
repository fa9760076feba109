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
 * Link life: connect_start -> (hiredis connect) -> SCRIPT LOAD of every script -> up. Losing the
 * link, by hiredis noticing or by us dropping it (connect timeout, too many unanswered requests),
 * only records the fact and activates ev_down; ev_down frees a dropped context, fails every pending
 * request with -ENOTCONN (each exactly once, outside hiredis's call stack), tells the owner and
 * arms the back-off timer.
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

#define LOG_CAT "redis"
#define CHUNK_SLOTS 256u
#define SLOT_INDEX_MAX 0x7fffffffu
#define ARGV_STACK 48

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
    struct gw_redis_req *prev, *next; /* pending list when busy, free list (next) when not */
};

struct gw_redis_script {
    char *body;
    size_t len;
    char sha[41]; /* "" until SCRIPT LOAD answered: calls then go as EVAL */
};

struct gw_redis {
    struct event_base *base;
    struct gw_redis_config cfg;
    char name[140]; /* "redis{host:port}" or "redis{/path}" for logs */

    redisAsyncContext *ac;       /* the live (or connecting) link; NULL when down */
    redisAsyncContext *ac_dying; /* dropped by us, freed by ev_down */
    bool started, up, closing, down_pending, notify_down;
    uint32_t loads_pending; /* initial SCRIPT LOADs not yet answered on this link */
    unsigned failures;      /* consecutive failed attempts: the back-off exponent */
    uint64_t rng;

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
};

static void connect_start(struct gw_redis *r);
static void reply_cb(redisAsyncContext *ac, void *reply, void *privdata);

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

static struct timeval ms_to_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* xorshift64: jitter only needs to de-synchronise gateways restarting together. */
static uint32_t rng_next(struct gw_redis *r)
{
    uint64_t x = r->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->rng = x;
    return (uint32_t)(x >> 32);
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
    free(q->cmd);
    q->cmd = NULL;
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
    gw_redis_cb cb = q->cb;
    void *arg = q->arg;
    req_release(r, q);
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
static void drop_link(struct gw_redis *r, const char *why)
{
    if (!r->ac)
        return;
    GW_LOGN(LOG_CAT, "%s dropping link: %s", r->name, why);
    r->ac_dying = r->ac;
    r->ac = NULL;
    link_down(r);
}

static void schedule_retry(struct gw_redis *r)
{
    if (r->closing || !r->started)
        return;
    uint64_t delay = r->cfg.reconnect_min_ms ? r->cfg.reconnect_min_ms : 1;
    unsigned shift = r->failures < 20 ? r->failures : 20;
    delay <<= shift;
    if (delay > r->cfg.reconnect_max_ms)
        delay = r->cfg.reconnect_max_ms;
    /* Jitter in [delay/2, delay]: a fleet restarted together must not reconnect in lock-step. */
    delay = delay / 2 + rng_next(r) % (delay / 2 + 1);
    r->failures++;
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
    schedule_retry(r);
}

static void link_ready(struct gw_redis *r)
{
    evtimer_del(r->ev_connect_to);
    r->up = true;
    r->failures = 0;
    r->st.connects++;
    GW_LOGI(LOG_CAT, "%s up (%d script(s) loaded)", r->name, r->n_scripts);
    if (r->state_fn)
        r->state_fn(r->state_arg, true);
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
        drop_link(r, "Redis is loading its dataset");
        return;
    } else {
        /* A broken script is a deployment bug: its calls will go as EVAL and carry the error. */
        GW_LOGE(LOG_CAT, "%s SCRIPT LOAD of script %d failed: %.200s", r->name, id,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    }
    if (initial && r->loads_pending > 0 && --r->loads_pending == 0 && !r->up)
        link_ready(r);
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
    /* Scripts first: the link counts as up only once EVALSHA can work on it. */
    r->loads_pending = 0;
    for (int i = 0; i < r->n_scripts; i++) {
        if (send_load(r, i, true) < 0) {
            drop_link(r, "cannot queue SCRIPT LOAD");
            return;
        }
        r->loads_pending++;
    }
    if (r->loads_pending == 0)
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
    drop_link(r, "connect timed out");
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

    if (r->closing || r->ac)
        return;
    if (r->cfg.unix_socket[0])
        ac = redisAsyncConnectUnix(r->cfg.unix_socket);
    else
        ac = redisAsyncConnect(r->cfg.host, r->cfg.port);
    if (!ac || ac->err) {
        GW_LOGN(LOG_CAT, "%s connect failed: %s", r->name, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac); /* never attached, no callbacks: safe here */
        schedule_retry(r);
        return;
    }
    ac->data = r;
    if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
        redisAsyncFree(ac);
        schedule_retry(r);
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
        r->orphans++; /* hiredis still owes this callback a reply */
    GW_LOGD(LOG_CAT, "%s request %" PRIu64 " timed out", r->name, req_id(q));
    req_finish(r, q, -ETIMEDOUT, NULL);
    /* Redis that stopped answering but kept the socket open would grow hiredis's queue forever. */
    if (r->ac && r->orphans > r->cfg.max_pending)
        drop_link(r, "too many unanswered requests");
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

/* Sends q's EVALSHA again as EVAL: the same arguments after the SHA, the body in its place. */
static int send_eval_retry(struct gw_redis *r, redisAsyncContext *ac, struct gw_redis_req *q)
{
    const struct gw_redis_script *s = &r->scripts[q->script_id];
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
    return rc == REDIS_OK ? 0 : -ENOTCONN;
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
    req_finish(r, q, 0, reply);
}

/* Queues a formatted command; takes ownership of cmd (kept for a script's retry, else freed). */
static int submit(struct gw_redis *r, char *cmd, size_t len, int script_id, gw_redis_cb cb,
                  void *arg)
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
    if (redisAsyncFormattedCommand(r->ac, reply_cb, (void *)(uintptr_t)req_id(q), cmd, len) !=
        REDIS_OK) {
        req_release(r, q);
        r->st.not_connected++;
        rc = -ENOTCONN;
        goto fail;
    }
    q->cb = cb;
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
    int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return -ENOMEM;
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
    int len = redisFormatCommandArgv(&cmd, argc + 3, v, l);
    if (len < 0) {
        rc = -ENOMEM;
        goto out;
    }
    rc = submit(r, cmd, (size_t)len, sha ? script_id : -1, cb, arg);
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
    if (r->cfg.unix_socket[0])
        snprintf(r->name, sizeof(r->name), "redis{%s}", r->cfg.unix_socket);
    else
        snprintf(r->name, sizeof(r->name), "redis{%.100s:%u}", r->cfg.host, (unsigned)r->cfg.port);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)r;
    if (r->rng == 0)
        r->rng = 0x9e3779b97f4a7c15ull;

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
    return r;
}

int gw_redis_start(struct gw_redis *r)
{
    if (!r)
        return -EINVAL;
    if (r->started)
        return 0;
    r->started = true;
    connect_start(r);
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
        for (uint32_t i = 0; i < CHUNK_SLOTS; i++)
            event_free(r->chunks[c][i].deadline);
        free(r->chunks[c]);
    }
    free(r->chunks);
    for (int i = 0; i < r->n_scripts; i++)
        free(r->scripts[i].body);
    free(r->scripts);
    free(r);
}
