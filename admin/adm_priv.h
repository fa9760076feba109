/*
 * adm_priv.h - inside the admin library: the server, one request, the reply helpers and the
 * handlers. Owner: the staff-console engineer.
 *
 * Request life: adm_server.c creates a struct adm_req per HTTP request, authenticates it, checks
 * the role against the route, and calls the route's handler. A handler either replies at once or
 * issues ONE Redis request at a time with adm_redis()/adm_script(), naming the step to run with
 * the reply. Every path ends in exactly one adm_reply_*(), which sends the answer and frees the
 * request: a Redis failure (timeout, disconnect, shutdown) is answered 503 by adm_redis itself.
 * Handlers never keep a pointer to the request after replying.
 */
#ifndef ADM_PRIV_H
#define ADM_PRIV_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "admin.h"

struct redisReply;
struct crypt_data;

#define ADM_LOG "admin"
/* The audit stream and the configuration documents share the hash tag {adm}: a document and its
 * audit record are written by one script, which Redis Cluster allows only within one slot. The
 * "adm:" / "cfg:" prefixes stay first so that ACL key patterns (~cfg:*) still work. */
#define ADM_KEY_AUDIT "adm:{adm}:audit"
#define ADM_KEY_USER "adm:user:"
#define ADM_KEY_SESS "adm:sess:" /* + session id, the SHA-256 of the token (never the token) */
#define ADM_KEY_USESS "adm:usess:" /* + user: that user's sessions (listing, revoking) */
#define ADM_KEY_RATE "adm:rl:login:"
/* Per-account login limit (login_acct.lua): one hash tag per account so that the failure count
 * and the lock are in one slot. */
#define ADM_KEY_ACCT_FAILS "adm:rl:acct:{%s}:n"
#define ADM_KEY_ACCT_LOCK "adm:rl:acct:{%s}:lock"
#define ADM_KEY_GIFTDAYS "cfg:{adm}:giftdays"
#define ADM_KEY_CATALOG "cfg:{adm}:catalog"
#define ADM_KEY_LOYALTY "cfg:{adm}:loyalty"
#define ADM_KEY_MENUS "cfg:{adm}:menus"
#define ADM_KEY_CAMPAIGNS "cfg:{adm}:campaigns" /* = GW_CAMP_KEY_DOC (gateway/gw_campaign_run.h) */
#define ADM_KEY_SEEN "cfg:{adm}:seen" /* the versions each running gateway uses (wire_cfgdocs) */
/* The gateways' two dead-letter streams (gw_ledger.c), each capped on its own so that a flood of
 * refused PDUs never trims a refused event out: the console reads and merges both. */
#define ADM_DLQ_KEY_EVENT "lg:dlq:event"
#define ADM_DLQ_KEY_PDU "lg:dlq:pdu"
/* The roles that may see subscriber identity (README "Staff console": not marketing). Everything
 * else that shows a phone number shows it masked (adm_mask_numbers). */
#define ADM_ROLES_SUBSCRIBER_DATA (ADM_ROLE_CARE | ADM_ROLE_AUDITOR)

enum adm_script {
    ADM_S_ADJUST = 0,
    ADM_S_BLOCK,
    ADM_S_CFG_PUT,
    ADM_S_LOGIN_RL,
    ADM_S_BOARD_ITEM,
    ADM_S_STOCK_MOVE,
    ADM_S_LOGIN_ACCT,
    ADM_S_PASS, /* make-good's priority pass (adm_makegood.c) */
    ADM_S_HOLD, /* release / cancel points held by the velocity caps (adm_hold.c) */
    ADM_S__COUNT
};

#define ADM_STATUS_MAX 600

#define ADM_HASH_MAX 128 /* a yescrypt hash string: "$y$j9T$<salt>$<hash>" is ~73 bytes */
struct adm_crypt;
struct adm_req;

struct adm_server {
    struct event_base *base;
    struct gw_redis *redis;
    struct adm_config cfg;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    uint16_t port;
    int script[ADM_S__COUNT];
    unsigned in_flight;
    unsigned conns;           /* open client connections (struct adm_conn), at most cfg.max_conns */
    uint64_t conns_refused;   /* connections answered 503 over the cap */
    uint64_t conns_timed_out; /* connections closed for not sending a whole request in time */
    uint64_t preauth_refused; /* requests without a token refused for their body size (413) */
    TAILQ_HEAD(, adm_conn) conn_list;
    struct adm_crypt *crypt;        /* the logins' yescrypt runs, off the loop (adm_crypt.c) */
    char dummy_hash[ADM_HASH_MAX]; /* verified against for unknown users: same cost, no probing */
    int static_fd;            /* the web console's directory (cfg.static_dir), or -1 */
    uint64_t replies[ADM_STATUS_MAX]; /* API replies by HTTP status, for /metrics */
    struct adm_seed *seed;    /* files waiting to seed an empty store (adm_seed.c), or NULL */
    const struct gw_config *gw; /* the gateway's configuration (the loyalty table's checks) */
    struct adm_whatif *whatif;  /* what-if jobs (adm_whatif.c), NULL until the first */
};

/* adm_crypt.c: a password checked against a hash on a worker thread. cb runs exactly once per
 * job accepted (0 returned): on the loop with 1 (match) or 0 (no match), or from adm_crypt_free
 * with -ECANCELED. Returns -EINVAL (too long), -EBUSY (queue full or stopping), -ENOMEM; then cb
 * never runs. r is passed through, untouched. */
typedef void (*adm_crypt_cb)(struct adm_req *r, int result, void *arg);
int adm_crypt_new(struct event_base *base, struct adm_crypt **out);
int adm_crypt_verify(struct adm_crypt *c, struct adm_req *r, const char *password,
                     const char *hash, adm_crypt_cb cb, void *arg);
void adm_crypt_free(struct adm_crypt *c);

/* adm_seed.c: frees the seeds (a reply still in flight finds them gone by its generation). */
void adm_seed_free(struct adm_server *s);

struct adm_req;
typedef void (*adm_step)(struct adm_req *r, const struct redisReply *reply);
typedef void (*adm_handler)(struct adm_req *r);

struct adm_route {
    enum evhttp_cmd_type method;
    const char *pattern; /* "/api/subscribers/ * /adjust" without spaces: '*' = one segment */
    unsigned roles;      /* 0 = public (login) */
    adm_handler fn;
    const char *what; /* audit name of the change, NULL for reads */
};

/* One client connection (adm_server.c), seen at accept through evhttp's bevcb. libevent 2.1 has
 * no hook for the end of a server connection, so it is known by its socket: fd plus the socket's
 * inode (a reused descriptor has another inode). A struct whose socket is gone is reaped at the
 * next count or at its deadline. */
struct adm_conn {
    struct adm_server *srv;
    struct bufferevent *bev; /* evhttp's (valid until evhttp frees it: only used at accept) */
    evutil_socket_t fd;      /* -1 until attached */
    ino_t ino;
    struct event *deadline;          /* the next whole request must have arrived by then */
    struct adm_req *req;             /* the request being answered (evhttp reads one at a time) */
    bool over_cap;                   /* accepted beyond cfg.max_conns: answered 503 and closed */
    bool closing;                    /* refused by the pre-auth guard: answered 413, shut down */
    struct evbuffer_cb_entry *in_cb; /* the guard's watch on the input (NULL once removed) */
    struct adm_preauth pa;           /* the guard's state (admin.h) */
    TAILQ_ENTRY(adm_conn) link;
};

struct adm_req {
    struct adm_server *srv;
    struct adm_conn *conn; /* NULL once the connection is gone */
    struct evhttp_request *http;
    const struct adm_route *route;
    char arg[80];           /* the path's '*' segment: an MSISDN, an item id, a session id */
    struct evkeyvalq query; /* the query string */
    json_t *body;           /* the JSON body (object) for POST/PUT/PATCH, owned */
    char token[2 * ADM_TOKEN_BYTES + 1];
    char sid[2 * ADM_TOKEN_BYTES + 1]; /* adm_session_id(token): the key in Redis */
    char user[ADM_USER_MAX + 1];
    enum adm_role role;
    char ip[INET6_ADDRSTRLEN];
    bool csv;      /* ?format=csv */
    bool prom;     /* GET /metrics: the board's answer is rendered by adm_metrics_reply */
    adm_step next; /* the step waiting for the Redis reply */
    /* Scratch for multi-step handlers; freed with the request. */
    json_t *j1, *j2;
    char *text;
    int64_t n1, n2, n3;
    char s1[256];
};

/* ---------------------------------------------------------------- adm_server.c */
/* Replies and frees r. obj is stolen (may be NULL for an empty object). */
void adm_reply_json(struct adm_req *r, int status, json_t *obj);
/* {"error": msg, "field": field} (field omitted when NULL), and frees r. */
void adm_reply_error(struct adm_req *r, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A body of type ctype (borrowed: the caller frees it), and frees r. */
void adm_reply_text(struct adm_req *r, int status, const char *ctype, struct evbuffer *body);
/* CSV body (stolen), as an attachment named filename, and frees r. */
void adm_reply_csv(struct adm_req *r, struct evbuffer *csv, const char *filename);
/* Sends one command; step runs with the reply (never an error of the transport: those are
 * answered 503 here). On a send failure r is answered 503 too. Either way the caller must not
 * touch r after this returns. */
void adm_redis(struct adm_req *r, adm_step step, int argc, const char **argv);
/* Same, with binary-safe lengths (NULL = strlen). */
void adm_redis_len(struct adm_req *r, adm_step step, int argc, const char **argv,
                   const size_t *argvlen);
void adm_script(struct adm_req *r, adm_step step, enum adm_script s, int nkeys, int argc,
                const char **argv);
/* A query parameter or NULL. */
const char *adm_query(struct adm_req *r, const char *name);
/* Reads ?count=&before= for stream pages: count in 1..page_max (default 50), before a stream id.
 * Replies 400 and returns -EINVAL when invalid. */
int adm_page_args(struct adm_req *r, long *count, const char **before);
bool adm_stream_id_valid(const char *s);
/* Refuses (400, naming the key, returns false and replies) a body key not in allowed (NULL-ended);
 * keys starting with "//" are comments, as in every JSON file of the project. */
bool adm_body_keys_ok(struct adm_req *r, const char *const *allowed);
/* The text of an error reply when a Redis reply is an error (for logs). */
const char *adm_reply_err_text(const struct redisReply *reply);
/* The step after adm_audit_append of a change already applied: replies r->j1 (200), or 503 when
 * the audit record was not written. */
void adm_reply_j1_audited(struct adm_req *r, const struct redisReply *reply);
/* Unix ms from the one clock the admin uses (gw_clock). */
int64_t adm_now_ms(void);
/* Appends an audit record with XADD (subscriber changes: their script runs on the subscriber's
 * slot, the audit stream lives elsewhere). before/after are JSON texts. step gets the reply. */
void adm_audit_append(struct adm_req *r, adm_step step, const char *what, const char *target,
                      const char *before, const char *after, const char *req_id);

/* ---------------------------------------------------------------- adm_config.c */
/* Validates a document's text with the library its readers use (the calendar: parse + zone; the
 * catalogue: parse with the loyalty table's tiers). Returns 0, or -EINVAL / -ENOMEM / a zone
 * error with err set to "path: reason". */
int adm_doc_check(const struct adm_server *srv, enum adm_doc doc, const char *text, size_t len,
                  char *err, size_t errlen);

/* adm_board.c: the gift day under way - the window open now in the calendar (reply: HGET of the
 * stored calendar's text, nil when none; a premium tier's early opening counts), else today in
 * the calendar's zone, else in the loyalty table's. *open says which; zone gets the calendar's
 * zone name ("" when none). Shared by the board and the stock change, so both mean one day. */
int32_t adm_gift_day_now(const struct adm_server *srv, const struct redisReply *reply, bool *open,
                         char *zone, size_t zonelen);

/* The tier names every gateway uses into srv->cfg.tiers: reply is HGET cfg:{adm}:loyalty doc; a
 * stored table parsed with the gateway's parser gives them, else the configuration's stay. */
void adm_tiers_refresh(struct adm_server *srv, const struct redisReply *reply);

/* ---------------------------------------------------------------- handlers */
/* adm_metrics.c: GET /metrics (the Prometheus exposition: this process and the gift-day board),
 * /health (alive) and /ready (Redis connected). adm_metrics_reply renders the board's answer
 * (obj stolen; any status) with the process's own families, and frees r. */
bool adm_obs_path(const char *path);
void adm_h_metrics(struct adm_req *r);
void adm_h_health(struct adm_req *r);
void adm_h_ready(struct adm_req *r);
void adm_metrics_reply(struct adm_req *r, int status, json_t *obj);
void adm_h_login(struct adm_req *r); /* adm_auth.c */
void adm_h_logout(struct adm_req *r);
void adm_h_me(struct adm_req *r);
void adm_h_sub_get(struct adm_req *r); /* adm_subscriber.c */
void adm_h_sub_adjust(struct adm_req *r);
/* adm_draw.c: GET /api/draws/<ITEM>[?day=] (the draw page) */
void adm_h_draw_get(struct adm_req *r);
/* adm_makegood.c */
void adm_h_makegood_get(struct adm_req *r);
void adm_h_makegood_grant(struct adm_req *r);
/* adm_hold.c */
void adm_h_sub_hold(struct adm_req *r);
void adm_h_sub_block(struct adm_req *r);
void adm_h_sub_unblock(struct adm_req *r);
void adm_h_giftdays_get(struct adm_req *r); /* adm_config.c */
void adm_h_giftdays_put(struct adm_req *r);
void adm_h_giftdays_preview(struct adm_req *r);
void adm_h_catalog_get(struct adm_req *r);
void adm_h_catalog_put(struct adm_req *r);
void adm_h_loyalty_get(struct adm_req *r);
void adm_h_loyalty_put(struct adm_req *r);
void adm_h_menus_get(struct adm_req *r);
void adm_h_menus_put(struct adm_req *r);
void adm_h_catalog_item_patch(struct adm_req *r);
void adm_h_rules_get(struct adm_req *r); /* the campaign rules' document (adm_config.c) */
void adm_h_rules_put(struct adm_req *r);
void adm_h_rules_figures(struct adm_req *r); /* adm_rules.c: budgets and the win-back funnel */
void adm_h_deadletters(struct adm_req *r); /* adm_lists.c */
void adm_h_audit(struct adm_req *r);
void adm_h_board(struct adm_req *r);   /* adm_board.c */
void adm_h_reports(struct adm_req *r); /* adm_reports.c */
void adm_h_reports_agg(struct adm_req *r); /* adm_reports_agg.c */
void adm_h_campaign_create(struct adm_req *r); /* adm_campaign.c: the reminder broadcast */
void adm_h_campaign_list(struct adm_req *r);
void adm_h_campaign_get(struct adm_req *r);
void adm_h_campaign_cancel(struct adm_req *r);
void adm_h_sub_optin(struct adm_req *r);
void adm_h_sub_optout(struct adm_req *r);
void adm_h_whatif_start(struct adm_req *r); /* adm_whatif.c: what-if before publishing */
void adm_h_whatif_get(struct adm_req *r);
void adm_whatif_free(struct adm_server *s); /* stops the workers still running */
void adm_h_sessions_list(struct adm_req *r); /* adm_sessions.c */
void adm_h_sessions_revoke_user(struct adm_req *r);
void adm_h_session_revoke(struct adm_req *r);
/* Records a new session (login): adm:sess:<r->sid> = "<gen> <user>" with the TTL, and its entry
 * in the user's index; then replies with the token. gen: the account's sgen. */
void adm_session_store(struct adm_req *r, long long gen);

/* The request's untrusted parts, parsed before any handler runs (pure: the fuzz target
 * tests/fuzz/fuzz_admin_request.c drives them without a socket or Redis). */
/* The route for method and URI path (NULL when none; *path_known says whether another method
 * would match, for 405 rather than 404), and the path's '*' segment in arg[0..arglen). */
const struct adm_route *adm_route_find(enum evhttp_cmd_type method, const char *path, char *arg,
                                       size_t arglen, bool *path_known);
/* A request body: content_type must be application/json and data[0..len) one JSON object
 * without duplicate keys. Returns 0 with *out owned by the caller, or the HTTP status to
 * answer (415, 400) with *field and msg[0..msglen) saying why and *out NULL. */
int adm_body_parse(const char *content_type, const char *data, size_t len, json_t **out,
                   const char **field, char *msg, size_t msglen);
void adm_h_sub_optin_get(struct adm_req *r);
/* adm_suggest.c: the suggestion box's inbox (adm_suggest.h) */
void adm_h_suggest_list(struct adm_req *r);
void adm_h_suggest_weeks(struct adm_req *r);
void adm_h_suggest_mark(struct adm_req *r);
void adm_h_sub_alerts_on(struct adm_req *r);
void adm_h_sub_alerts_off(struct adm_req *r);

/* ---------------------------------------------------------------- adm_static.c */
/* Opens cfg.static_dir into s->static_fd. 0 or -errno. */
int adm_static_open_dir(struct adm_server *s, const char *dir);
/* true when this request is for a console file (GET/HEAD outside /api/, a directory is set). */
bool adm_static_wants(const struct adm_server *s, enum evhttp_cmd_type method, const char *path);
/* Answers req with the file (200), or 404; no session needed (the files hold no data). */
void adm_static_serve(struct adm_server *s, struct evhttp_request *req, const char *path);

/* Embedded Lua (the scripts in admin/lua, built by lgw_embed_text). */
extern const char adm_lua_adjust[], adm_lua_block[], adm_lua_cfg_put[], adm_lua_login_rl[],
    adm_lua_board_item[], adm_lua_stock_move[], adm_lua_login_acct[], adm_lua_pass[],
    adm_lua_hold[];

#endif
