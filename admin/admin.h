/*
 * admin.h - the staff console's back end (prefix adm_, issue 5): an HTTP/JSON API on its own port
 * and its own event loop, in its own process (loyalty-admin), so a slow report never delays a USSD
 * screen or a recharge. It shares Redis with the gateways: it reads wallets, history and dead
 * letters the gateways write, and it changes configuration by writing versioned documents
 * (cfg:{adm}:giftdays, cfg:{adm}:catalog) that the gateways will pick up (they still read their
 * files today).
 *
 * Owner: the staff-console engineer. Main struct: struct adm_server (one evhttp server, one Redis
 * client it borrows, the Lua scripts it registers). Every request is one struct adm_req that lives
 * until its single reply (adm_priv.h).
 *
 * Redis keys it owns (README "Staff console"):
 *   adm:user:<name>    hash   hash (crypt(3) yescrypt), role, created (unix ms), sgen (session
 *                             generation: bumped by a password reset, a disable or "revoke all",
 *                             which ends every session made before), disabled ("1" when set)
 *   adm:sess:<sid>     string "<sgen> <user name>"; TTL = the session lifetime. sid is the
 *                             SHA-256 (hex) of the bearer token: Redis never holds a token, so a
 *                             leaked dump or key listing gives no session
 *   adm:usess:<name>   hash   the user's sessions: sid -> "<created ms> <expires ms> <ip>"
 *                             (listing and revoking; entries past their expiry are skipped)
 *   adm:rl:login:<ip>  string login attempts in the current minute (per-IP rate limit)
 *   adm:rl:acct:{<user>}:n     string failed logins of one account in its window
 *   adm:rl:acct:{<user>}:lock  string set while the account's logins are locked (TTL)
 *   adm:{adm}:audit    stream append-only: at, who, role, ip, what, target, before, after, req
 *   cfg:{adm}:giftdays hash   doc (JSON text), version (counter), at, by
 *   cfg:{adm}:catalog  hash   the same for the catalogue
 * (one hash tag, {adm}: a document and its audit record are written by one script, and Redis
 * Cluster runs a script only within one slot).
 * and adds to the subscriber's ledger keys (gw_ledger.h): wallet field "blocked", history entries
 * ADJUST/BLOCK/UNBLOCK, and per-request records "~adm:<request id>" in lg:{M}:r.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct gw_redis;

#define ADM_USER_MAX 32     /* staff user names: [a-z0-9._-], 1..32 */
#define ADM_TOKEN_BYTES 32  /* random bytes of a session token (64 hex characters) */
#define ADM_PASSWORD_MIN 10 /* characters of a staff password */
#define ADM_PASSWORD_MAX 256
#define ADM_MAX_TIERS 8

/* Roles are bits so that a route lists who may call it. */
enum adm_role {
    ADM_ROLE_MARKETING = 1 << 0, /* calendar, catalogue, stock, campaigns, reports */
    ADM_ROLE_CARE = 1 << 1,      /* subscriber lookup, history, adjust, block/unblock */
    ADM_ROLE_AUDITOR = 1 << 2,   /* reads everything, changes nothing, reads the audit trail */
    ADM_ROLE_ADMIN = 1 << 3,     /* staff sessions: lists and revokes them; no subscriber data */
};
#define ADM_ROLES_ALL (ADM_ROLE_MARKETING | ADM_ROLE_CARE | ADM_ROLE_AUDITOR)

/* "marketing" | "care" | "auditor" | "admin" -> role; 0 when unknown. */
enum adm_role adm_role_parse(const char *name);
const char *adm_role_name(enum adm_role role); /* "?" when not exactly one role */

struct adm_config {
    char listen_host[64];            /* default "127.0.0.1" */
    uint16_t listen_port;            /* default 8081; 0 = any free port (tests) */
    uint32_t session_ttl_s;          /* default 3600 */
    uint32_t login_per_min;          /* login attempts per client IP per minute, default 10 */
    uint32_t account_fails;          /* failed logins of one account that lock it, default 5 */
    uint32_t account_window_s;       /* ... counted over this window from the first, default 900 */
    uint32_t account_lock_s;         /* how long the account's logins stay locked, default 900 */
    uint32_t max_body;               /* request body limit in bytes, default 65536 (then 413) */
    uint32_t preauth_body;           /* ... for requests without a bearer token, default 4096 */
    uint32_t max_conns;              /* open client connections at most, default 64 (then 503) */
    uint32_t request_timeout_s;      /* a request's head and body arrive within it, default 10 */
    uint32_t history_len;            /* the gateway's ledger.history_len (entries kept) */
    uint32_t ref_retention_days;     /* the gateway's ledger.ref_retention_days (request ids) */
    uint32_t page_max;               /* largest page of a list endpoint, default 500 */
    uint32_t points_validity_months; /* loyalty.points_validity_months: lot expiry, 0 = never */
    char tiers[ADM_MAX_TIERS][32];   /* the loyalty table's tier names, lowest first */
    unsigned n_tiers;
    char zoneinfo_dir[256]; /* "" = /usr/share/zoneinfo */
    /* The web console's files (admin/web), served read-only at "/" with a page CSP; "" = the
     * process serves the API only (README "Staff console", "Web console"). */
    char static_dir[512];
    /* Reports: the liability in money. currency = the gateway's events.currency; point_value_micro
     * = millionths of a currency unit one point is worth (--point-value), 0 = not set. */
    char currency[4];
    uint32_t point_value_micro;
    /* What-if (adm_whatif.c): the worker program (--whatif-ctl, default "loyaltyctl" from PATH)
     * and the gateway configuration it reads (--config: the journal and the table). */
    char whatif_ctl[512];
    char gw_config_path[512];
};
void adm_config_defaults(struct adm_config *cfg);

struct adm_server;

/* Creates the server on base, binds cfg's address and registers its Lua scripts on redis (which
 * must outlive the server and is started by the caller). cfg is copied. Returns NULL with err set
 * (bind failure, ENOMEM). */
struct adm_server *adm_server_new(struct event_base *base, struct gw_redis *redis,
                                  const struct adm_config *cfg, char *err, size_t errlen);
/* The port actually bound (useful with listen_port 0). */
uint16_t adm_server_port(const struct adm_server *s);
/* Stops accepting connections; requests in flight still get their answer. */
void adm_server_stop_listening(struct adm_server *s);
/* Requests waiting for Redis. */
unsigned adm_server_in_flight(const struct adm_server *s);
/* Frees the server. Call after gw_redis_free() (which answers every request still waiting for
 * Redis with 503 through its callbacks) or once adm_server_in_flight() is 0. NULL is a no-op. */
void adm_server_free(struct adm_server *s);

/* The versioned documents of cfg:{adm}:* that files can seed (adm_seed.c). */
enum adm_doc {
    ADM_DOC_GIFTDAYS = 0,
    ADM_DOC_CATALOG,
    ADM_DOC_LOYALTY,
    ADM_DOC_MENUS, /* the USSD menus and SMS texts (ussd.menus_file) */
    ADM_DOC_CAMPAIGNS, /* the campaign rules (gateway/gw_campaign.h); no file seeds it */
    ADM_DOC__COUNT
};

struct gw_config;
/* The gateway's configuration the loyalty table document is checked against (its other sections,
 * its zone). Borrowed: it must outlive the server. */
void adm_server_set_gateway_config(struct adm_server *s, const struct gw_config *gcfg);

/*
 * The files only seed an empty store: path (the gateway's catalog.giftdays_file / catalog.file,
 * resolved; "" = none) is read and validated now, like a PUT; once Redis answers, it becomes
 * version 1 of its document if none is stored yet (cfg_put.lua with base version 0, audited as
 * "<doc>.seed" by "seed"), and a stored document is never touched. A transport failure is tried
 * again every second. Returns 0, or -errno with err set (unreadable, too big or invalid file).
 */
int adm_server_seed(struct adm_server *s, enum adm_doc doc, const char *path, char *err,
                    size_t errlen);
/* The same from a text in memory (the loyalty table written inline in the configuration file);
 * name says where it came from, in the audit record. The text is copied. */
int adm_server_seed_text(struct adm_server *s, enum adm_doc doc, const char *name, const char *text,
                         char *err, size_t errlen);
/* true once every seed asked for was answered by the store (written or already stored). */
bool adm_server_seeded(const struct adm_server *s);

/* ---------------------------------------------------------------- helpers (unit-tested) */

/* Hashes password with crypt(3) yescrypt ("$y$", libcrypt's default cost) and a fresh salt.
 * Writes the hash (NUL-terminated) into out. Returns 0, -EINVAL (password outside
 * ADM_PASSWORD_MIN..MAX or with a NUL/newline), -ENOSPC (out too small), -ENOSYS (no yescrypt). */
int adm_password_hash(const char *password, char *out, size_t outlen);
/* true when password matches hash (compared in constant time). A hash that is not a crypt
 * string never matches. */
bool adm_password_verify(const char *password, const char *hash);

/* A new session token: ADM_TOKEN_BYTES from getrandom(2), as lowercase hex (out >= 65 bytes).
 * Returns 0 or -errno. */
int adm_token_new(char *out, size_t outlen);
/* true when s looks like a token (64 lowercase hex characters): checked before any key is built
 * from it. Session ids (adm_session_id) have the same shape. */
bool adm_token_valid(const char *s);
/* The session id of a token: SHA-256 of its 64 characters, as lowercase hex (out >= 65 bytes).
 * Only the id is stored in Redis (adm:sess:<id>). Returns 0, -EINVAL (not a token), -ENOSPC,
 * -ENOMEM. */
int adm_session_id(const char *token, char *out, size_t outlen);
/* Staff user names: 1..ADM_USER_MAX of [a-z0-9._-], starting with a letter or digit. */
bool adm_user_name_valid(const char *s);
/* MSISDN in a path: 8..15 digits (the ledger's limit). */
bool adm_msisdn_valid(const char *s);
/* A catalogue item id: 1..CAT_ID_MAX-1 (31) of [A-Za-z0-9._-]. */
bool adm_item_id_valid(const char *s);
/* Client request ids (idempotency keys): 1..64 of [A-Za-z0-9._:-]. */
bool adm_request_id_valid(const char *s);

/* One history entry of lg:{M}:h, "at|KIND|ref|points|balance|note" (the note may hold '|'), or
 * a record of the wallet's packed history E in that form (gw_hist.h: balance empty, read as
 * ADM_BALANCE_NONE). Pointers in out point into buf, which is modified. Returns 0 or -EINVAL. */
#define ADM_BALANCE_NONE INT64_MIN
struct adm_history_entry {
    int64_t at;
    const char *kind, *ref, *note;
    int64_t points, balance;
};
int adm_history_parse(char *buf, struct adm_history_entry *out);

/* Campaign send times (years 2000..2100, seconds optional, every field range-checked: a day
 * past the month's end is refused, never rolled into the next month):
 * adm_time_parse: "YYYY-MM-DDTHH:MM[:SS]" + "Z" or "+hh:mm"/"-hh:mm" -> unix s. 0 or -EINVAL.
 * adm_time_parse_local: "YYYY-MM-DDTHH:MM[:SS]" (no offset), a wall-clock time in zone tz ->
 * unix s. 0, -EINVAL, or -ENOENT (the clocks skip that time there: a spring-forward gap). A time
 * that happens twice (fall-back overlap) is the earlier instant. */
struct cat_tz;
int adm_time_parse(const char *s, int64_t *out);
int adm_time_parse_local(const char *s, const struct cat_tz *tz, int64_t *out);

/* Appends one CSV cell (RFC 4180 quoting) to buf (an evbuffer). Text cells that a spreadsheet
 * would run as a formula (starting with = + - @ tab or CR) get a leading apostrophe: dead
 * letters carry subscribers' own SMS text. */
struct evbuffer;
int adm_csv_text(struct evbuffer *buf, const char *text);
int adm_csv_int(struct evbuffer *buf, int64_t v);

/* Masks, in place, every phone number in a text shown to a role that may not see subscriber
 * data: a run of ADM_MASK_MIN_DIGITS or more digits (digits joined by "\x00" escapes count as one
 * run: UCS-2 text in a dead letter's escaped raw bytes) keeps its last ADM_MASK_KEEP digits, the
 * others become '*'. The length never changes. Returns the number of runs masked. */
#define ADM_MASK_MIN_DIGITS 6
#define ADM_MASK_KEEP 4
size_t adm_mask_numbers(char *s);

/* The pre-authentication guard (adm_server.c): watches a connection's request stream as it
 * arrives, before libevent buffers a body, and flags a request that carries no well-formed bearer
 * token (a login, or a stranger) yet announces a body over the pre-auth limit, or a chunked one
 * (its size unknown). Only the first ADM_PREAUTH_LINE bytes of each header line are kept: the
 * state is a few hundred bytes a connection. Requests with a token go through (evhttp's own
 * max body then applies; the token is checked in Redis afterwards). */
#define ADM_PREAUTH_LINE 128
struct adm_preauth {
    uint8_t state; /* 0 head, 1 body, 2 stopped (a chunked body with a token: evhttp's limits) */
    bool in_request, authed, chunked;
    uint64_t length, body_left;
    size_t line_len;
    char line[ADM_PREAUTH_LINE];
};
/* Feeds the next len bytes of the stream. 0, or -EMSGSIZE: refuse the request (413) and close. */
int adm_preauth_feed(struct adm_preauth *p, const char *data, size_t len, uint64_t max);

/* The web console's static files (adm_static.c). Maps a URL path (raw, as received) to a file
 * name relative to the static directory: "/" -> "index.html"; otherwise 1..ADM_STATIC_DEPTH
 * segments of [A-Za-z0-9._-], none empty nor starting with '.', (so no "..", no hidden files,
 * no percent-escapes, no backslashes), ending in a known extension. Writes the name into rel and
 * the content type into *ctype (a static string). Returns 0, or -ENOENT for anything else. */
#define ADM_STATIC_DEPTH 4
int adm_static_resolve(const char *url_path, char *rel, size_t rellen, const char **ctype);

#endif
