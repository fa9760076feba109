/*
 * gw_redis.h - the gateway's Redis client: async hiredis on the libevent loop, with what hiredis
 * 0.14 lacks: a deadline on every request, reconnect with back-off, scripts that survive a
 * restart or SCRIPT FLUSH (EVALSHA, NOSCRIPT -> EVAL), and deferred frees of the hiredis context
 * (its libevent adapter has a use-after-free when a context is freed inside its own callback).
 *
 * Callback contract: if a request function returns < 0 its callback never runs; if it returns 0
 * the callback runs exactly once, from the event loop, never from inside the request call:
 *   err == 0:  reply != NULL (it may be a REDIS_REPLY_ERROR: a protocol outcome, not a failure)
 *   err < 0:   reply == NULL; -ETIMEDOUT (deadline), -ENOTCONN (not connected, or the connection
 *              dropped before the answer), -ECANCELED (gw_redis_free)
 * The reply is owned by the client and valid only during the callback. A late reply, after its
 * deadline fired, is logged and dropped.
 */
#ifndef GW_REDIS_H
#define GW_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct redisReply;

struct gw_redis_config {
    char host[256];         /* default "127.0.0.1"; ignored when unix_socket is set */
    uint16_t port;          /* default 6379 */
    char unix_socket[108];  /* "" = TCP */
    uint32_t connect_timeout_ms;  /* default 1000 */
    uint32_t request_timeout_ms;  /* default 1000: the deadline of every request */
    uint32_t reconnect_min_ms;    /* default 100, doubled per failure with jitter */
    uint32_t reconnect_max_ms;    /* default 5000 */
    uint32_t max_pending;         /* requests in flight before -ENOBUFS (default 100000) */
};
void gw_redis_config_defaults(struct gw_redis_config *cfg);

struct gw_redis_stats {
    uint64_t requests, replies, errors_reply, timeouts, not_connected, late_replies;
    uint64_t connects, disconnects, noscript_fallbacks;
    uint32_t pending;
};

typedef void (*gw_redis_cb)(void *arg, int err, const struct redisReply *reply);

struct gw_redis;

/* Creates a client; nothing connects until gw_redis_start(). cfg is copied. NULL on ENOMEM. */
struct gw_redis *gw_redis_new(struct event_base *base, const struct gw_redis_config *cfg);
/* Starts connecting (and reconnecting whenever the link drops). Returns 0. */
int gw_redis_start(struct gw_redis *r);
bool gw_redis_is_connected(const struct gw_redis *r);
/* Called (may be NULL) whenever the connection comes up (true) or goes down (false). */
void gw_redis_on_state(struct gw_redis *r, void (*fn)(void *arg, bool up), void *arg);

/* Sends one command (binary-safe argv). -ENOTCONN when not connected, -ENOBUFS when too many
 * are pending, -EINVAL on bad arguments: then cb never runs. */
int gw_redis_command(struct gw_redis *r, int argc, const char **argv, const size_t *argvlen,
                     gw_redis_cb cb, void *arg);
/* Convenience for tests and tools: printf-style like redisAsyncCommand. */
int gw_redis_commandf(struct gw_redis *r, gw_redis_cb cb, void *arg, const char *fmt, ...);

/* Registers a Lua script (body is copied) and returns its id (>= 0) or -ENOMEM. The client
 * SCRIPT LOADs it on every (re)connect. */
int gw_redis_script_add(struct gw_redis *r, const char *body, size_t len);
/* Runs a registered script with EVALSHA; on NOSCRIPT it retries once with EVAL, transparently,
 * under the same deadline. argv holds the keys first (nkeys of them), then the arguments. */
int gw_redis_script_run(struct gw_redis *r, int script_id, int nkeys, int argc,
                        const char **argv, const size_t *argvlen, gw_redis_cb cb, void *arg);

void gw_redis_get_stats(const struct gw_redis *r, struct gw_redis_stats *out);
/* Fails every pending request with -ECANCELED (callbacks run before this returns), then frees.
 * NULL is a no-op. Never call from inside one of this client's callbacks. */
void gw_redis_free(struct gw_redis *r);

#endif
