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
 *
 * Redis Cluster (cfg.n_cluster_nodes > 0; hiredis 0.14 has no cluster support, so it lives here):
 * the seeds give the slot map (CLUSTER SLOTS, at connect and again after MOVED or a lost node);
 * there is one single-node client per master on the same loop, each with its own reconnect,
 * back-off and script loading. A request goes to the master of its key's hash slot (CRC16 XMODEM
 * of the key or of its {hash tag}, mod 16384). MOVED updates the map and re-sends to the right
 * master; ASK re-sends there preceded by ASKING; TRYAGAIN and CLUSTERDOWN re-send after a short
 * delay (20 ms, doubling to 320 ms); all within the request's original deadline (then
 * -ETIMEDOUT), the callback still exactly once, at most 16 MOVED/ASK (then that error is the
 * reply); a target master still connecting is waited for, within the deadline. Those replies
 * mean "not executed", so re-sending is safe; a link lost with a request on it is -ENOTCONN, never
 * re-sent (the command may have run). Keys of one script or command in different slots get
 * Redis's CROSSSLOT error reply. gw_redis_is_connected() and gw_redis_on_state() are about the
 * whole: up when every slot has a connected master.
 *
 * Authentication (cfg.password set): AUTH [username] password is the first command on every
 * (re)connect, before anything else; a refusal is logged as an error (never the password), counted
 * (auth_failures) and retried with back-off, like any failed connect.
 *
 * Redis Sentinel (cfg.n_sentinels > 0, single Redis mode): every connect first asks the sentinels,
 * in turn, SENTINEL GET-MASTER-ADDR-BY-NAME master_name (each ask bounded by connect_timeout_ms),
 * connects there, authenticates, and checks ROLE: a link counts as up only on a "master", so
 * nothing is ever sent to a replica. A connection to one sentinel stays SUBSCRIBEd to
 * +switch-master: when our master moves, the link is dropped and the new primary connected at once
 * (no back-off wait). A READONLY, LOADING or MASTERDOWN error reply also drops the link and
 * re-asks (the request that got it has its error reply as usual: not executed). Requests made
 * while no primary is known fail at once with -ENOTCONN; every request keeps its deadline.
 */
#ifndef GW_REDIS_H
#define GW_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct redisReply;

#define GW_REDIS_MAX_SEEDS 16
#define GW_REDIS_ADDR_LEN 264 /* "host:port": a 255-byte host name, ':', 5 digits, NUL */
#define GW_REDIS_SLOTS 16384

struct gw_redis_config {
    char host[256];         /* default "127.0.0.1"; ignored when unix_socket is set */
    uint16_t port;          /* default 6379 */
    char unix_socket[108];  /* "" = TCP */
    uint32_t connect_timeout_ms;  /* default 1000 */
    uint32_t request_timeout_ms;  /* default 1000: the deadline of every request */
    uint32_t reconnect_min_ms;    /* default 100, doubled per failure with jitter */
    uint32_t reconnect_max_ms;    /* default 5000 */
    uint32_t max_pending;         /* requests in flight before -ENOBUFS (default 100000) */
    /* Redis Cluster seeds, "host:port" (IPv6 as "[addr]:port" or "addr:port", the last ':'
     * splits); n_cluster_nodes == 0: the single Redis above. When set, host/port/unix_socket are
     * ignored, and max_pending and the timeouts apply to the cluster as a whole and per master. */
    char cluster_nodes[GW_REDIS_MAX_SEEDS][GW_REDIS_ADDR_LEN];
    unsigned n_cluster_nodes;
    /* ACL user ("" = "default", plain requirepass) and its password ("" = no AUTH). The caller
     * loads the password from a file or the environment, never from the command line. */
    char username[64];
    char password[256];
    /* Redis Sentinel: "host:port" of each sentinel and the monitored master's name. n_sentinels
     * == 0: no Sentinel (host/port/unix_socket or cluster_nodes say where Redis is). */
    char sentinels[GW_REDIS_MAX_SEEDS][GW_REDIS_ADDR_LEN];
    unsigned n_sentinels;
    char master_name[64];
    /* Durability across a failover (single Redis or Sentinel mode; 0 = off): every script run
     * (gw_redis_script_run: the ledger's writes) is followed on its connection by WAIT
     * wait_replicas wait_timeout_ms, and its reply is handed over only once that many replicas
     * have it. Fewer in time: the caller gets -ETIMEDOUT (the write may exist on the primary
     * alone; callers treat it as "maybe done" and retry idempotently), never an acknowledgement
     * a failover could take back. wait_timeout_ms 0 = half of request_timeout_ms. */
    uint32_t wait_replicas;
    uint32_t wait_timeout_ms;
};
void gw_redis_config_defaults(struct gw_redis_config *cfg);

struct gw_redis_stats {
    uint64_t requests, replies, errors_reply, timeouts, not_connected, late_replies;
    uint64_t connects, disconnects, noscript_fallbacks;
    uint64_t auth_failures;   /* AUTH refused (wrong password, unknown or disabled user) */
    uint64_t not_primary;     /* Sentinel mode: links dropped for ROLE != master or READONLY */
    uint64_t sentinel_asks;   /* Sentinel mode: GET-MASTER-ADDR-BY-NAME answered */
    uint64_t switch_master;   /* Sentinel mode: +switch-master events for our master */
    uint64_t wait_short;      /* wait_replicas: WAIT answered with fewer replicas in time */
    uint32_t pending;
    /* Cluster mode only (0 otherwise); connects, disconnects, noscript_fallbacks and late_replies
     * are summed over the masters' links, the rest are counted once per request. */
    uint64_t moved, asked, retried_busy, slot_map_loads; /* retried_busy: TRYAGAIN/CLUSTERDOWN */
    uint32_t nodes, nodes_up;
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
/* In cluster mode gw_redis_command and gw_redis_commandf route by the command's first key: argv[1]
 * for ordinary commands (GET, SET, H*, L*, X ADD/LEN/RANGE/TRIM, INCR, EXPIRE, DEL k, ...), argv[2]
 * for MEMORY USAGE / OBJECT / XINFO / XGROUP, the first declared key of EVAL/EVALSHA/FCALL, and
 * any connected master for keyless commands (PING, INFO, TIME, CLUSTER, SCRIPT, CONFIG, CLIENT,
 * FLUSHALL, DBSIZE, KEYS, SCAN, ...; these then reach ONE master only). Commands whose first key
 * is elsewhere (XREAD ... STREAMS k, BITOP op dest, ...) must use gw_redis_command_key.
 * gw_redis_command_key: the same as gw_redis_command, routed by key (keylen bytes, binary-safe);
 * with a single Redis the key is only validated. Same contract and errors. */
int gw_redis_command_key(struct gw_redis *r, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen, gw_redis_cb cb, void *arg);

/* The Redis Cluster hash slot of a key (0..16383): CRC16-XMODEM of the key, or of the part between
 * the first '{' and the first '}' after it when that part is not empty. */
unsigned gw_redis_key_slot(const char *key, size_t len);

/* One command in the Redis protocol (an array of bulk strings; argvlen NULL: C strings), the
 * bytes hiredis's redisFormatCommandArgv writes, into *out (malloc'd, NUL-terminated, the
 * caller's to free()). Written by hand because hiredis 0.14 calls sprintf once per argument:
 * with the ~50 arguments of a ledger commit that was the gateway's largest cost per event.
 * Returns the length, or -ENOMEM / -EINVAL. */
int gw_redis_format_argv(char **out, int argc, const char **argv, const size_t *argvlen);

#define GW_SLOTS 16384
#define GW_SLOT_TAG_MAX 12 /* "{99999999}" + NUL */
/* The hash tag of a slot ("{123}"): the smallest decimal number whose CRC16 lands in the slot
 * (docs/data-model.md "per slot"; note: 0..99999 leave hundreds of slots without a tag, the
 * smallest numbers reach 8 digits). out needs GW_SLOT_TAG_MAX bytes. 0 or -EINVAL. */
int gw_slot_tag(unsigned slot, char *out);
/* The tag of the slot the subscriber's keys lg:{msisdn}:* live in. */
int gw_slot_tag_of(const char *msisdn, char *out);
/* Parses a seed "host:port" ("[v6]:port" accepted) into host (NUL-terminated) and port (1..65535).
 * Returns 0 or -EINVAL. */
int gw_redis_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port);

/* Registers a Lua script (body is copied) and returns its id (>= 0) or -ENOMEM. The client
 * SCRIPT LOADs it on every (re)connect. */
int gw_redis_script_add(struct gw_redis *r, const char *body, size_t len);
/* Runs a registered script with EVALSHA; on NOSCRIPT it retries once with EVAL, transparently,
 * under the same deadline. argv holds the keys first (nkeys of them), then the arguments.
 * Cluster mode: routed by the first key (any master when nkeys == 0). */
int gw_redis_script_run(struct gw_redis *r, int script_id, int nkeys, int argc,
                        const char **argv, const size_t *argvlen, gw_redis_cb cb, void *arg);

void gw_redis_get_stats(const struct gw_redis *r, struct gw_redis_stats *out);
/* true once AUTH was refused on the latest connect attempt (cleared when a link comes up): lets a
 * daemon stop at start with a clear error instead of retrying a wrong password forever. */
bool gw_redis_auth_refused(const struct gw_redis *r);

/* Synchronous connect for tools (loyaltyctl, loyalty-admin --add-user, test drivers): the same
 * address rules as the async client (unix socket, host:port, or the primary found through the
 * sentinels, ROLE checked), AUTH when a password is set, and timeout_ms on the connect and on
 * every later command. Returns a hiredis redisContext (the caller frees it with redisFree), or
 * NULL with a message in err (never containing the password). Not for Cluster mode (NULL). */
struct redisContext *gw_redis_connect_sync(const struct gw_redis_config *cfg, uint32_t timeout_ms,
                                           char *err, size_t errlen);
/* Tools and test drivers: the ACL user and password from LGW_REDIS_USER and LGW_REDIS_PASSWORD
 * when set (the daemons read theirs through gw_config). */
void gw_redis_config_env(struct gw_redis_config *cfg);
/* Reads a password file into out: the first line, without its end of line; -EINVAL when the
 * line is empty or does not fit (outlen - 1 bytes), -errno when unreadable. */
int gw_redis_read_password_file(const char *path, char *out, size_t outlen);
/* Fails every pending request with -ECANCELED (callbacks run before this returns), then frees.
 * NULL is a no-op. Never call from inside one of this client's callbacks. */
void gw_redis_free(struct gw_redis *r);

#endif
