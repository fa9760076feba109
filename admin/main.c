/*
 * main.c - loyalty-admin, the staff console's server (issue 5): its own process, its own libevent
 * loop and its own port, so that a slow report or a login's yescrypt run never delays a USSD
 * screen or a recharge in loyaltygw. It reads the gateway's configuration file for what they share
 * (the Redis address, the loyalty table's tiers and zone, the ledger's history length and
 * retention) so both always talk to the same store with the same rules.
 * Owner: the staff-console engineer.
 *
 *   loyalty-admin [--config FILE] [--listen HOST:PORT] [--port-file FILE] [--session-ttl S]
 *                 [--login-per-min N] [--max-body BYTES] [--static DIR]
 *   loyalty-admin [--config FILE] --add-user NAME --role marketing|care|auditor  < password
 *
 * Signals: SIGTERM/SIGINT stop accepting, let requests in flight finish (at most 5 s), exit 0.
 * SIGHUP (systemctl reload, a log rotation) re-reads --config: a valid file's log level applies at
 * once; everything else it holds (Redis address, zone, limits) at the next start, which the log
 * says. A wrong file is logged and changes nothing. What the console serves (calendar, catalogue,
 * loyalty table, campaigns, menus) is read from Redis on each request: it has nothing to reload.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_redis.h"

#define DRAIN_MAX_MS 5000

struct app {
    struct event_base *base;
    struct gw_redis *redis;
    struct adm_server *srv;
    struct event *ev_term, *ev_int, *ev_drain, *ev_hup;
    int64_t drain_deadline;
    const char *config_path; /* --config, re-read on SIGHUP; NULL: the defaults */
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: loyalty-admin [--config FILE] [--listen HOST:PORT] [--port-file FILE]\n"
        "                     [--session-ttl S] [--login-per-min N] [--max-body BYTES]\n"
        "                     [--account-fails N] [--account-window S] [--account-lock S]\n"
        "                     [--preauth-body BYTES] [--max-conns N] [--request-timeout S]\n"
        "                     [--static DIR] [--point-value DECIMAL] [--whatif-ctl PATH]\n"
        "       loyalty-admin [--config FILE] --add-user NAME --role ROLE   < password\n"
        "  --config FILE        the gateway's configuration (Redis, tiers, zone, ledger)\n"
        "  --listen HOST:PORT   admin API address (default 127.0.0.1:8081; port 0 = any)\n"
        "  --port-file FILE     write the bound port there once listening\n"
        "  --session-ttl S      session lifetime, 60..86400 (default 3600)\n"
        "  --login-per-min N    login attempts per client IP per minute, 1..1000 (default 10)\n"
        "  --max-body BYTES     request body limit, 1024..4194304 (default 65536)\n"
        "  --preauth-body BYTES body limit of a request without a session token (a login),\n"
        "                       256..65536 (default 4096); refused 413 from its head\n"
        "  --account-fails N    failed logins of one account that lock its logins, 1..1000\n"
        "                       (default 5), counted over --account-window S (default 900)\n"
        "  --account-lock S     how long a locked account stays locked, 1..86400 (default 900)\n"
        "  --max-conns N        open client connections at most, 1..10000 (default 64);\n"
        "                       beyond it new ones are answered 503 and closed\n"
        "  --request-timeout S  a request must arrive whole within S seconds, 1..600\n"
        "                       (default 10); slower clients are disconnected\n"
        "  --static DIR         serve the web console's files from DIR (admin/web) at /\n"
        "  --point-value DEC    what one point is worth in events.currency, 0..1000 with up\n"
        "                       to 6 decimals (e.g. 0.05): reports show the liability in money\n"
        "  --whatif-ctl PATH    the what-if worker (default loyaltyctl from PATH): run as\n"
        "                       `PATH whatif --config FILE ...` in its own process\n"
        "  --add-user NAME      create or reset a staff account; the password (>= %d\n"
        "                       characters) is read from the first line of stdin\n"
        "  --role ROLE          marketing | care | auditor | admin (staff sessions)\n"
        "  --disable-user NAME  the account can no longer log in; its sessions end now\n"
        "  --redis-user NAME    Redis ACL user (default: redis.username of the config)\n"
        "  --redis-password-file FILE  its password (default: redis.password_file or\n"
        "                       LGW_REDIS_PASSWORD); never on the command line\n",
        ADM_PASSWORD_MIN);
}

/* "0.05" -> 50000 millionths; digits, an optional point and at most 6 decimals, 0..1000. */
static int parse_point_value(const char *val, uint32_t *out)
{
    uint64_t whole = 0, frac = 0;
    int nd = 0;
    const char *p = val;

    for (; *p >= '0' && *p <= '9' && whole <= 1000; p++)
        whole = whole * 10 + (uint64_t)(*p - '0');
    if (p == val && *p != '.')
        goto bad;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && nd < 6; p++, nd++)
            frac = frac * 10 + (uint64_t)(*p - '0');
        if (nd == 0)
            goto bad;
    }
    if (*p != '\0' || whole > 1000)
        goto bad;
    for (; nd < 6; nd++)
        frac *= 10;
    if (whole * 1000000 + frac > 1000000000ULL)
        goto bad;
    *out = (uint32_t)(whole * 1000000 + frac);
    return 0;
bad:
    fprintf(stderr,
            "loyalty-admin: --point-value: expected 0..1000 with up to 6 decimals, got %s\n", val);
    return -EINVAL;
}

/* Numeric options, declared once with their bounds. */
static int parse_bounded(const char *opt, const char *val, unsigned long lo, unsigned long hi,
                         uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi || val[0] == '-') {
        fprintf(stderr, "loyalty-admin: %s: %s is not within %lu..%lu\n", opt, val, lo, hi);
        return -EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_listen(const char *val, struct adm_config *cfg)
{
    const char *colon = strrchr(val, ':');
    uint32_t port;

    if (!colon || colon == val || (size_t)(colon - val) >= sizeof(cfg->listen_host)) {
        fprintf(stderr, "loyalty-admin: --listen: expected HOST:PORT, got %s\n", val);
        return -EINVAL;
    }
    if (parse_bounded("--listen", colon + 1, 0, 65535, &port) < 0)
        return -EINVAL;
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%.*s", (int)(colon - val), val);
    cfg->listen_port = (uint16_t)port;
    return 0;
}

/* ---------------------------------------------------------------- --add-user */

static int add_user(const struct gw_config *gcfg, const char *name, const char *role_name)
{
    enum adm_role role = adm_role_parse(role_name);
    struct timeval tv = {2, 0};
    redisContext *c = NULL;
    redisReply *old = NULL, *rep = NULL;
    char *line = NULL, hash[256], key[64], created[24], at[24], before[64], after[64], who[64];
    char cerr[320];
    size_t cap = 0;
    ssize_t n;
    int rc = 1;

    if (!adm_user_name_valid(name)) {
        fprintf(stderr, "loyalty-admin: user names are 1-%d of a-z 0-9 . _ -\n", ADM_USER_MAX);
        return 2;
    }
    if (!role) {
        fprintf(stderr, "loyalty-admin: --role must be marketing, care, auditor or admin\n");
        return 2;
    }
    n = getline(&line, &cap, stdin);
    if (n < 0) {
        fprintf(stderr, "loyalty-admin: no password on stdin\n");
        goto out;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int hr = adm_password_hash(line, hash, sizeof(hash));
    explicit_bzero(line, cap);
    if (hr == -EINVAL) {
        fprintf(stderr, "loyalty-admin: the password must be %d to %d characters on one line\n",
                ADM_PASSWORD_MIN, ADM_PASSWORD_MAX);
        goto out;
    }
    if (hr < 0) {
        fprintf(stderr, "loyalty-admin: cannot hash the password: %s\n", strerror(-hr));
        goto out;
    }
    /* the same address, user and password as the server (unix socket, host, or Sentinel) */
    c = gw_redis_connect_sync(&gcfg->redis, (uint32_t)(tv.tv_sec * 1000), cerr, sizeof(cerr));
    if (!c) {
        fprintf(stderr, "loyalty-admin: %s\n", cerr);
        goto out;
    }
    snprintf(key, sizeof(key), "adm:user:%s", name);
    old = redisCommand(c, "HGET %s role", key);
    if (!old || (old->type != REDIS_REPLY_STRING && old->type != REDIS_REPLY_NIL)) {
        fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    snprintf(created, sizeof(created), "%" PRId64, gw_clock_now_ms());
    rep = redisCommand(c, "HSET %s hash %s role %s created %s", key, hash, adm_role_name(role),
                       created);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    freeReplyObject(rep);
    /* A reset ends every session the account had (a new session generation), and re-enables it. */
    rep = redisCommand(c, "HINCRBY %s sgen 1", key);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    freeReplyObject(rep);
    rep = redisCommand(c, "HDEL %s disabled", key);
    freeReplyObject(rep);
    rep = redisCommand(c, "DEL adm:usess:%s", name);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    freeReplyObject(rep);
    /* The record says who ran the command on this machine; never the hash. */
    struct passwd *pw = getpwuid(geteuid());
    snprintf(who, sizeof(who), "cli:%.50s", pw ? pw->pw_name : "?");
    if (old->type == REDIS_REPLY_STRING)
        snprintf(before, sizeof(before), "{\"role\":\"%.20s\"}", old->str);
    else
        snprintf(before, sizeof(before), "null");
    snprintf(after, sizeof(after), "{\"role\":\"%s\",\"password\":\"set\"}", adm_role_name(role));
    snprintf(at, sizeof(at), "%" PRId64, gw_clock_now_ms());
    rep = redisCommand(
        c,
        "XADD adm:{adm}:audit * at %s who %s role %s ip %s what %s target %s before %s "
        "after %s req %s",
        at, who, "cli", "local", old->type == REDIS_REPLY_STRING ? "user.update" : "user.add", name,
        before, after, "");
    if (!rep || rep->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "loyalty-admin: the audit record was not written: %s\n",
                c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    printf("user %s (%s) saved\n", name, adm_role_name(role));
    rc = 0;
out:
    freeReplyObject(rep);
    freeReplyObject(old);
    if (c)
        redisFree(c);
    free(line);
    return rc;
}

/* --disable-user: the account can no longer log in, and its sessions end at once (a new session
 * generation, adm_sessions.c); --add-user with a new password enables it again. Audited. */
static int disable_user(const struct gw_config *gcfg, const char *name)
{
    redisContext *c = NULL;
    redisReply *rep = NULL;
    char cerr[320], key[64], at[24], who[64];
    int rc = 1;

    if (!adm_user_name_valid(name)) {
        fprintf(stderr, "loyalty-admin: user names are 1-%d of a-z 0-9 . _ -\n", ADM_USER_MAX);
        return 2;
    }
    c = gw_redis_connect_sync(&gcfg->redis, 2000, cerr, sizeof(cerr));
    if (!c) {
        fprintf(stderr, "loyalty-admin: %s\n", cerr);
        return 1;
    }
    snprintf(key, sizeof(key), "adm:user:%s", name);
    rep = redisCommand(c, "HEXISTS %s role", key);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    if (rep->integer != 1) {
        fprintf(stderr, "loyalty-admin: no user %s\n", name);
        goto out;
    }
    const char *cmds[] = {"HSET %s disabled 1", "HINCRBY %s sgen 1"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        freeReplyObject(rep);
        rep = redisCommand(c, cmds[i], key);
        if (!rep || rep->type != REDIS_REPLY_INTEGER) {
            fprintf(stderr, "loyalty-admin: Redis: %s\n", c->errstr[0] ? c->errstr : "bad reply");
            goto out;
        }
    }
    freeReplyObject(rep);
    rep = redisCommand(c, "DEL adm:usess:%s", name);
    freeReplyObject(rep);
    struct passwd *pw = getpwuid(geteuid());
    snprintf(who, sizeof(who), "cli:%.50s", pw ? pw->pw_name : "?");
    snprintf(at, sizeof(at), "%" PRId64, gw_clock_now_ms());
    rep = redisCommand(c,
                       "XADD adm:{adm}:audit * at %s who %s role %s ip %s what %s target %s "
                       "before %s after %s req %s",
                       at, who, "cli", "local", "user.disable", name, "{\"disabled\":false}",
                       "{\"disabled\":true}", "");
    if (!rep || rep->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "loyalty-admin: the audit record was not written: %s\n",
                c->errstr[0] ? c->errstr : "bad reply");
        goto out;
    }
    printf("user %s disabled; its sessions are ended\n", name);
    rc = 0;
out:
    freeReplyObject(rep);
    redisFree(c);
    return rc;
}

/* ---------------------------------------------------------------- the server */

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    struct timeval tv = {0, 50 * 1000};

    (void)fd;
    (void)what;
    if (adm_server_in_flight(a->srv) == 0 || gw_clock_mono_ms() >= a->drain_deadline) {
        event_base_loopexit(a->base, NULL);
        return;
    }
    evtimer_add(a->ev_drain, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;

    (void)what;
    if (a->drain_deadline) {
        event_base_loopbreak(a->base); /* a second signal: now */
        return;
    }
    gw_log(GW_LOG_NOTICE, "main", "signal %d: stop accepting, finishing %u request(s)", (int)sig,
           adm_server_in_flight(a->srv));
    adm_server_stop_listening(a->srv);
    gw_service_notify(GW_SERVICE_STOPPING, "finishing requests");
    a->drain_deadline = gw_clock_mono_ms() + DRAIN_MAX_MS;
    on_drain(-1, 0, a);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    struct gw_config *next;
    enum gw_log_level lvl;
    char err[256];

    (void)sig;
    (void)what;
    gw_service_notify(GW_SERVICE_RELOADING, "re-reading the configuration");
    if (!a->config_path) {
        gw_log(GW_LOG_NOTICE, "main", "SIGHUP: no --config file, nothing to re-read");
    } else if (!(next = malloc(sizeof(*next)))) {
        gw_log(GW_LOG_ERROR, "main", "SIGHUP: out of memory, configuration unchanged");
    } else {
        if (gw_config_load(a->config_path, next, err, sizeof(err)) < 0) {
            gw_log(GW_LOG_ERROR, "main", "SIGHUP: %s: %s; configuration unchanged", a->config_path,
                   err);
        } else if (gw_log_level_parse(next->log.level, &lvl) == 0) {
            gw_log_set_level(lvl);
            gw_log(GW_LOG_NOTICE, "main",
                   "SIGHUP: %s re-read: log level %s; its other settings apply at the next start",
                   a->config_path, next->log.level);
        }
        free(next);
    }
    gw_service_notify(GW_SERVICE_READY, "listening");
}

static int write_port_file(const char *path, uint16_t port)
{
    char tmp[512];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -errno;
    return 0;
}

/* The gateway's files seed an empty store (adm_seed.c): a path relative to the configuration
 * file, as the gateway resolves it. Waits up to SEED_WAIT_MS for Redis so that the console
 * serves the seeded documents from its first request; after that the seed goes on by itself. */
#define SEED_WAIT_MS 5000
static int seed_from_files(struct app *a, const struct gw_config *gcfg, const char *config_path)
{
    const char *file[ADM_DOC__COUNT] = {[ADM_DOC_GIFTDAYS] = gcfg->catalog.giftdays_file,
                                        [ADM_DOC_CATALOG] = gcfg->catalog.file,
                                        [ADM_DOC_MENUS] = gcfg->ussd_menus_file};
    char dir[512] = ".", tmp[512], path[1024], err[512];

    if (config_path) {
        snprintf(tmp, sizeof(tmp), "%s", config_path);
        snprintf(dir, sizeof(dir), "%s", dirname(tmp));
    }
    for (int k = 0; k < ADM_DOC__COUNT; k++) {
        if (!file[k] || !file[k][0]) /* the loyalty table: below */
            continue;
        int n = file[k][0] == '/' ? snprintf(path, sizeof(path), "%s", file[k])
                                  : snprintf(path, sizeof(path), "%s/%s", dir, file[k]);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "loyalty-admin: %s: path too long\n", file[k]);
            return -ENAMETOOLONG;
        }
        if (adm_server_seed(a->srv, (enum adm_doc)k, path, err, sizeof(err)) < 0) {
            fprintf(stderr, "loyalty-admin: cannot seed the store: %s\n", err);
            return -EINVAL;
        }
    }
    /* the loyalty table: its own file ("loyalty": "loyalty-table.json") or written inline */
    if (config_path) {
        json_error_t jerr;
        json_t *root = json_load_file(config_path, 0, &jerr),
               *lt = json_object_get(root, "loyalty");
        int rc = 0;
        if (json_is_string(lt)) {
            const char *f = json_string_value(lt);
            int n = f[0] == '/' ? snprintf(path, sizeof(path), "%s", f)
                                : snprintf(path, sizeof(path), "%s/%s", dir, f);
            rc = n < 0 || (size_t)n >= sizeof(path)
                     ? -ENAMETOOLONG
                     : adm_server_seed(a->srv, ADM_DOC_LOYALTY, path, err, sizeof(err));
        } else if (json_is_object(lt)) {
            char *text = json_dumps(lt, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            snprintf(path, sizeof(path), "%s#loyalty", config_path);
            rc = text ? adm_server_seed_text(a->srv, ADM_DOC_LOYALTY, path, text, err, sizeof(err))
                      : -ENOMEM;
            free(text);
        }
        json_decref(root);
        if (rc < 0) {
            fprintf(stderr, "loyalty-admin: cannot seed the loyalty table: %s\n",
                    rc == -ENAMETOOLONG ? "path too long" : err);
            return rc;
        }
    }
    int64_t until = gw_clock_mono_ms() + SEED_WAIT_MS;
    while (!adm_server_seeded(a->srv) && gw_clock_mono_ms() < until)
        event_base_loop(a->base, EVLOOP_ONCE);
    if (!adm_server_seeded(a->srv))
        gw_log(GW_LOG_ERROR, "main", "the store is not seeded yet (Redis?): still trying");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"port-file", required_argument, NULL, 'P'},
                                         {"session-ttl", required_argument, NULL, 't'},
                                         {"login-per-min", required_argument, NULL, 'r'},
                                         {"max-body", required_argument, NULL, 'b'},
                                         {"account-fails", required_argument, NULL, 'F'},
                                         {"account-window", required_argument, NULL, 'w'},
                                         {"account-lock", required_argument, NULL, 'L'},
                                         {"max-conns", required_argument, NULL, 'C'},
                                         {"preauth-body", required_argument, NULL, 'A'},
                                         {"request-timeout", required_argument, NULL, 'T'},
                                         {"add-user", required_argument, NULL, 'u'},
                                         {"role", required_argument, NULL, 'R'},
                                         {"static", required_argument, NULL, 's'},
                                         {"point-value", required_argument, NULL, 'v'},
                                         {"disable-user", required_argument, NULL, 'D'},
                                         {"redis-user", required_argument, NULL, 'U'},
                                         {"redis-password-file", required_argument, NULL, 'W'},
                                         {"whatif-ctl", required_argument, NULL, 'X'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct gw_config *gcfg = malloc(sizeof(*gcfg));
    struct adm_config cfg;
    struct app a = {0};
    const char *config_path = NULL, *port_file = NULL, *new_user = NULL, *role = NULL;
    const char *off_user = NULL, *redis_user = NULL, *redis_pwfile = NULL;
    char err[512];
    int c, rc = 1;

    if (!gcfg)
        return 1;
    adm_config_defaults(&cfg);
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'l':
            bad = parse_listen(optarg, &cfg);
            break;
        case 'P':
            port_file = optarg;
            break;
        case 't':
            bad = parse_bounded("--session-ttl", optarg, 60, 86400, &cfg.session_ttl_s);
            break;
        case 'r':
            bad = parse_bounded("--login-per-min", optarg, 1, 1000, &cfg.login_per_min);
            break;
        case 'b':
            bad = parse_bounded("--max-body", optarg, 1024, 4194304, &cfg.max_body);
            break;
        case 'F':
            bad = parse_bounded("--account-fails", optarg, 1, 1000, &cfg.account_fails);
            break;
        case 'w':
            bad = parse_bounded("--account-window", optarg, 1, 86400, &cfg.account_window_s);
            break;
        case 'L':
            bad = parse_bounded("--account-lock", optarg, 1, 86400, &cfg.account_lock_s);
            break;
        case 'C':
            bad = parse_bounded("--max-conns", optarg, 1, 10000, &cfg.max_conns);
            break;
        case 'A':
            bad = parse_bounded("--preauth-body", optarg, 256, 65536, &cfg.preauth_body);
            break;
        case 'T':
            bad = parse_bounded("--request-timeout", optarg, 1, 600, &cfg.request_timeout_s);
            break;
        case 'u':
            new_user = optarg;
            break;
        case 'R':
            role = optarg;
            break;
        case 'D':
            off_user = optarg;
            break;
        case 'U':
            redis_user = optarg;
            break;
        case 'W':
            redis_pwfile = optarg;
            break;
        case 's':
            if (strlen(optarg) >= sizeof(cfg.static_dir)) {
                fprintf(stderr, "loyalty-admin: --static: path too long\n");
                bad = -EINVAL;
            } else {
                snprintf(cfg.static_dir, sizeof(cfg.static_dir), "%s", optarg);
            }
            break;
        case 'v':
            bad = parse_point_value(optarg, &cfg.point_value_micro);
            break;
        case 'X':
            if (strlen(optarg) >= sizeof(cfg.whatif_ctl)) {
                fprintf(stderr, "loyalty-admin: --whatif-ctl: path too long\n");
                bad = -EINVAL;
            } else {
                snprintf(cfg.whatif_ctl, sizeof(cfg.whatif_ctl), "%s", optarg);
            }
            break;
        case 'h':
            usage(stdout);
            free(gcfg);
            return 0;
        default:
            usage(stderr);
            free(gcfg);
            return 2;
        }
        if (bad) {
            free(gcfg);
            return 2;
        }
    }
    if (optind != argc || (role && !new_user)) {
        usage(stderr);
        free(gcfg);
        return 2;
    }
    if (config_path && strlen(config_path) >= sizeof(cfg.gw_config_path)) {
        fprintf(stderr, "loyalty-admin: --config: path too long\n");
        goto out;
    }
    if (config_path)
        snprintf(cfg.gw_config_path, sizeof(cfg.gw_config_path), "%s", config_path);
    if (config_path) {
        if (gw_config_load(config_path, gcfg, err, sizeof(err)) < 0) {
            fprintf(stderr, "loyalty-admin: %s\n", err);
            goto out;
        }
    } else {
        gw_config_defaults(gcfg);
    }
    /* Its own Redis user (deploy/redis-users.acl.in: loyalty-admin), not the gateway's */
    if (redis_user) {
        if (strlen(redis_user) >= sizeof(gcfg->redis.username)) {
            fprintf(stderr, "loyalty-admin: --redis-user: too long\n");
            goto out;
        }
        snprintf(gcfg->redis.username, sizeof(gcfg->redis.username), "%s", redis_user);
    }
    if (redis_pwfile) {
        int prc = gw_redis_read_password_file(redis_pwfile, gcfg->redis.password,
                                              sizeof(gcfg->redis.password));
        if (prc < 0) {
            fprintf(stderr, "loyalty-admin: --redis-password-file %s: %s\n", redis_pwfile,
                    prc == -EINVAL ? "the first line must hold the password" : strerror(-prc));
            goto out;
        }
    }
    enum gw_log_level lvl;
    if (gw_log_level_parse(gcfg->log.level, &lvl) == 0)
        gw_log_set_level(lvl);
    (void)gw_log_configure(gcfg->log.format, gcfg->log.output, "loyalty-admin"); /* validated */
    /* Local days (the lot of a credit) are counted in the loyalty table's zone, as in loyaltygw. */
    if (gw_config_apply_timezone(gcfg) < 0) {
        fprintf(stderr, "loyalty-admin: unknown time zone %s\n", gcfg->loyalty.timezone);
        goto out;
    }
    if (new_user) {
        rc = add_user(gcfg, new_user, role ? role : "");
        goto out;
    }
    if (off_user) {
        rc = disable_user(gcfg, off_user);
        goto out;
    }
    cfg.history_len = gcfg->ledger.history_len;
    cfg.ref_retention_days = gcfg->ledger.ref_retention_days;
    cfg.points_validity_months = gcfg->loyalty.points_validity_months;
    snprintf(cfg.currency, sizeof(cfg.currency), "%s", gcfg->events.limits.currency);
    cfg.n_tiers = gcfg->loyalty.n_tiers < ADM_MAX_TIERS ? gcfg->loyalty.n_tiers : ADM_MAX_TIERS;
    for (unsigned i = 0; i < cfg.n_tiers; i++)
        snprintf(cfg.tiers[i], sizeof(cfg.tiers[i]), "%s", gcfg->loyalty.tiers[i].name);

    signal(SIGPIPE, SIG_IGN);
    a.base = event_base_new();
    if (!a.base)
        goto out;
    a.redis = gw_redis_new(a.base, &gcfg->redis);
    if (!a.redis)
        goto out;
    a.srv = adm_server_new(a.base, a.redis, &cfg, err, sizeof(err));
    if (!a.srv) {
        fprintf(stderr, "loyalty-admin: %s\n", err);
        goto out;
    }
    gw_redis_start(a.redis);
    adm_server_set_gateway_config(a.srv, gcfg);
    if (seed_from_files(&a, gcfg, config_path) < 0)
        goto out;
    a.ev_term = evsignal_new(a.base, SIGTERM, on_signal, &a);
    a.ev_int = evsignal_new(a.base, SIGINT, on_signal, &a);
    a.ev_hup = evsignal_new(a.base, SIGHUP, on_hup, &a);
    a.ev_drain = evtimer_new(a.base, on_drain, &a);
    a.config_path = config_path;
    if (!a.ev_term || !a.ev_int || !a.ev_hup || !a.ev_drain || evsignal_add(a.ev_term, NULL) < 0 ||
        evsignal_add(a.ev_int, NULL) < 0 || evsignal_add(a.ev_hup, NULL) < 0)
        goto out;
    if (port_file && write_port_file(port_file, adm_server_port(a.srv)) < 0) {
        fprintf(stderr, "loyalty-admin: cannot write %s\n", port_file);
        goto out;
    }
    gw_log(GW_LOG_NOTICE, "main", "loyalty-admin listening on %s:%u (Redis %s)", cfg.listen_host,
           adm_server_port(a.srv),
           gcfg->redis.unix_socket[0] ? gcfg->redis.unix_socket : gcfg->redis.host);
    /* systemd (Type=notify): listening is what "started" means here; Redis may come later, and
     * GET /ready says whether it did */
    gw_service_notify(GW_SERVICE_READY, "listening");
    if (gw_service_watchdog_start(a.base) < 0)
        goto out;
    event_base_dispatch(a.base);
    gw_service_watchdog_stop();
    gw_log(GW_LOG_NOTICE, "main", "loyalty-admin stopped");
    rc = 0;
out:
    gw_service_watchdog_stop();
    if (a.ev_term)
        event_free(a.ev_term);
    if (a.ev_int)
        event_free(a.ev_int);
    if (a.ev_hup)
        event_free(a.ev_hup);
    if (a.ev_drain)
        event_free(a.ev_drain);
    /* Redis first: it answers every request still waiting (503) while the HTTP server exists. */
    gw_redis_free(a.redis);
    adm_server_free(a.srv);
    if (a.base)
        event_base_free(a.base);
    free(gcfg);
    return rc;
}
