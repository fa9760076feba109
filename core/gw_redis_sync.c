/*
 * gw_redis_sync.c - the blocking side of the Redis client, for tools that ask one question at a
 * time (loyaltyctl, loyalty-admin --add-user, test drivers): connect by the same rules as the
 * async client (unix socket, host:port, or the primary named by the sentinels with its ROLE
 * checked), AUTH, and a timeout on every command. Also reads password files, for every process.
 *
 * Ownership: gw_redis_connect_sync returns a redisContext the caller frees with redisFree.
 */
#include "gw_redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

int gw_redis_read_password_file(const char *path, char *out, size_t outlen)
{
    char buf[1024];
    FILE *f;
    size_t n;
    int rc = 0;

    if (!path || !out || outlen == 0)
        return -EINVAL;
    f = fopen(path, "re");
    if (!f)
        return -errno;
    if (!fgets(buf, sizeof(buf), f))
        rc = ferror(f) ? -EIO : -EINVAL;
    fclose(f);
    if (rc == 0) {
        n = strcspn(buf, "\r\n");
        buf[n] = '\0';
        if (n == 0 || n >= outlen)
            rc = -EINVAL;
        else
            memcpy(out, buf, n + 1);
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

void gw_redis_config_env(struct gw_redis_config *cfg)
{
    const char *u = getenv("LGW_REDIS_USER"), *p = getenv("LGW_REDIS_PASSWORD");

    if (u && u[0])
        snprintf(cfg->username, sizeof(cfg->username), "%s", u);
    if (p && p[0])
        snprintf(cfg->password, sizeof(cfg->password), "%s", p);
}

static redisContext *connect_tv(const char *host, uint16_t port, const char *sock,
                                struct timeval tv, char *err, size_t errlen)
{
    redisContext *c = sock ? redisConnectUnixWithTimeout(sock, tv)
                           : redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        if (sock)
            snprintf(err, errlen, "cannot reach Redis at %s: %s", sock,
                     c ? c->errstr : "out of memory");
        else
            snprintf(err, errlen, "cannot reach Redis at %s:%u: %s", host, (unsigned)port,
                     c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv); /* every request has a deadline, here too */
    return c;
}

/* Asks the sentinels in turn where the primary is. 0 and host/port, or -EHOSTUNREACH. */
static int ask_sentinels(const struct gw_redis_config *cfg, struct timeval tv, char *host,
                         size_t hostlen, uint16_t *port, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->n_sentinels && i < GW_REDIS_MAX_SEEDS; i++) {
        char sh[256];
        uint16_t sp;
        if (gw_redis_parse_addr(cfg->sentinels[i], sh, sizeof(sh), &sp) < 0)
            continue;
        redisContext *s = connect_tv(sh, sp, NULL, tv, err, errlen);
        if (!s)
            continue;
        redisReply *rep =
            redisCommand(s, "SENTINEL get-master-addr-by-name %s", cfg->master_name);
        int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                 rep->element[0]->type == REDIS_REPLY_STRING &&
                 rep->element[1]->type == REDIS_REPLY_STRING &&
                 rep->element[0]->len < hostlen;
        if (ok) {
            long p = strtol(rep->element[1]->str, NULL, 10);
            ok = p > 0 && p <= 65535;
            if (ok) {
                memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
                *port = (uint16_t)p;
            }
        }
        if (!ok)
            snprintf(err, errlen, "sentinel %s does not name master \"%s\"", cfg->sentinels[i],
                     cfg->master_name);
        freeReplyObject(rep);
        redisFree(s);
        if (ok)
            return 0;
    }
    if (cfg->n_sentinels == 0)
        snprintf(err, errlen, "no sentinel configured");
    return -EHOSTUNREACH;
}

struct redisContext *gw_redis_connect_sync(const struct gw_redis_config *cfg, uint32_t timeout_ms,
                                           char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    char host[256];
    uint16_t port = cfg->port;
    redisContext *c;
    redisReply *rep;

    if (cfg->n_cluster_nodes > 0) {
        snprintf(err, errlen, "a Redis Cluster needs the async client");
        return NULL;
    }
    snprintf(host, sizeof(host), "%s", cfg->host);
    if (cfg->n_sentinels > 0) {
        if (ask_sentinels(cfg, tv, host, sizeof(host), &port, err, errlen) < 0)
            return NULL;
        c = connect_tv(host, port, NULL, tv, err, errlen);
    } else {
        c = connect_tv(host, port, cfg->unix_socket[0] ? cfg->unix_socket : NULL, tv, err,
                       errlen);
    }
    if (!c)
        return NULL;
    if (cfg->password[0]) {
        rep = cfg->username[0] ? redisCommand(c, "AUTH %s %s", cfg->username, cfg->password)
                               : redisCommand(c, "AUTH %s", cfg->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            /* Redis's reply names no secret ("WRONGPASS invalid username-password pair ..."). */
            snprintf(err, errlen, "Redis refused authentication as user \"%s\": %.200s",
                     cfg->username[0] ? cfg->username : "default",
                     rep ? rep->str : c->errstr);
            freeReplyObject(rep);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (cfg->n_sentinels > 0) {
        rep = redisCommand(c, "ROLE");
        bool master = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                      rep->element[0]->type == REDIS_REPLY_STRING &&
                      strcmp(rep->element[0]->str, "master") == 0;
        freeReplyObject(rep);
        if (!master) {
            snprintf(err, errlen, "%s:%u, named by the sentinels, is not a primary", host,
                     (unsigned)port);
            redisFree(c);
            return NULL;
        }
    }
    return c;
}
