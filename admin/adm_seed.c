/*
 * adm_seed.c - the files in deploy/ seed an empty store, nothing more (issue 12 §1). The stored,
 * versioned documents cfg:{adm}:giftdays and cfg:{adm}:catalog are the one truth every reader
 * uses (gateways, broadcast, console, loyaltyctl); the gateway's catalog.giftdays_file and
 * catalog.file become version 1 of their document when the store holds none, so the console's
 * first edit starts from what is in force instead of a template (which dropped the file's
 * cancelled days and special windows). Owner: the staff-console engineer.
 *
 * Main struct: struct adm_seed, owned by the server (adm_server_free -> adm_seed_free). Each file
 * is read and validated at start (adm_server_seed: an invalid file stops the start, as in the
 * gateway), then written by cfg_put.lua with base version 0: the script writes only when no
 * version is stored, with its audit record, atomically, so two consoles starting together seed
 * once. A transport failure (Redis not up yet) is tried again every SEED_RETRY_MS. Replies find
 * their seed by index; gw_redis is freed before the server (main.c), so no reply outlives it.
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "adm_priv.h"
#include "gw_core.h"
#include "gw_redis.h"

#define SEED_RETRY_MS 1000
#define SEED_FILE_MAX (4u << 20) /* a catalogue of CAT_MAX_ITEMS items is well below */

static const char *const doc_key[ADM_DOC__COUNT] = {ADM_KEY_GIFTDAYS, ADM_KEY_CATALOG,
                                                    ADM_KEY_LOYALTY, ADM_KEY_MENUS,
                                                    ADM_KEY_CAMPAIGNS};
static const char *const doc_what[ADM_DOC__COUNT] = {"giftdays.seed", "catalog.seed",
                                                     "loyalty.seed", "menus.seed",
                                                     "campaigns.seed"};

struct seed_doc {
    char *text; /* the validated file; NULL = nothing to seed (or done) */
    char path[1024];
    bool in_flight;
};

struct adm_seed {
    struct adm_server *srv;
    struct event *ev_try;
    struct seed_doc doc[ADM_DOC__COUNT];
};

struct seed_req {
    struct adm_seed *seed;
    enum adm_doc doc;
};

static int read_file(const char *path, char **out, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = -errno;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SEED_FILE_MAX) {
        snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, SEED_FILE_MAX);
        rc = -EINVAL;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "shorter than stat");
            rc = n < 0 ? -errno : -EIO;
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

static void seed_try(evutil_socket_t fd, short what, void *arg);

static void schedule(struct adm_seed *sd, uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    evtimer_add(sd->ev_try, &tv);
}

static void on_seeded(void *arg, int err, const struct redisReply *reply)
{
    struct seed_req *q = arg;
    struct adm_seed *sd = q->seed;
    struct seed_doc *d = &sd->doc[q->doc];
    enum adm_doc k = q->doc;

    free(q);
    d->in_flight = false;
    if (err == -ECANCELED)
        return; /* shutting down */
    if (err < 0) {
        schedule(sd, SEED_RETRY_MS);
        return;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER &&
        reply->element[1]->type == REDIS_REPLY_INTEGER) {
        if (reply->element[0]->integer == 0)
            gw_log(GW_LOG_NOTICE, ADM_LOG, "%s seeded from %s: version %lld", doc_key[k], d->path,
                   reply->element[1]->integer);
        else
            gw_log(GW_LOG_INFO, ADM_LOG, "%s already stored (version %lld): %s not used",
                   doc_key[k], reply->element[1]->integer, d->path);
    } else {
        /* a script error is not cured by trying again: said once, the store stays empty */
        GW_LOGE(ADM_LOG, "%s: seeding from %s refused: %.200s", doc_key[k], d->path,
                adm_reply_err_text(reply));
    }
    free(d->text);
    d->text = NULL;
}

static void seed_try(evutil_socket_t fd, short what, void *arg)
{
    struct adm_seed *sd = arg;
    char now[24];

    (void)fd;
    (void)what;
    if (!gw_redis_is_connected(sd->srv->redis)) {
        schedule(sd, 100);
        return;
    }
    snprintf(now, sizeof(now), "%" PRId64, adm_now_ms());
    for (int k = 0; k < ADM_DOC__COUNT; k++) {
        struct seed_doc *d = &sd->doc[k];
        struct seed_req *q;
        if (!d->text || d->in_flight)
            continue;
        if (!(q = malloc(sizeof(*q)))) {
            schedule(sd, SEED_RETRY_MS);
            continue;
        }
        *q = (struct seed_req){.seed = sd, .doc = (enum adm_doc)k};
        /* the record names the file; the text itself is the document's version 1 */
        json_t *a =
            json_pack("{s:s, s:I}", "seeded_from", d->path, "bytes", (json_int_t)strlen(d->text));
        char *after = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!after) {
            free(q);
            schedule(sd, SEED_RETRY_MS);
            continue;
        }
        const char *argv[] = {doc_key[k], ADM_KEY_AUDIT, "0",     d->text, "seed", "system",
                              now,        doc_what[k],   d->path, "null",  after,  "local"};
        size_t lens[12];
        for (int i = 0; i < 12; i++)
            lens[i] = strlen(argv[i]);
        d->in_flight = true;
        if (gw_redis_script_run(sd->srv->redis, sd->srv->script[ADM_S_CFG_PUT], 2, 12, argv, lens,
                                on_seeded, q) < 0) {
            d->in_flight = false;
            free(q);
            schedule(sd, SEED_RETRY_MS);
        }
        free(after); /* the client copied the arguments */
    }
}

static int seed_take(struct adm_server *s, enum adm_doc doc, const char *name, char *text,
                     char *err, size_t errlen);

int adm_server_seed(struct adm_server *s, enum adm_doc doc, const char *path, char *err,
                    size_t errlen)
{
    char *text = NULL;
    int rc;

    if (!s || doc < 0 || doc >= ADM_DOC__COUNT || !path) {
        snprintf(err, errlen, "bad arguments");
        return -EINVAL;
    }
    if (!path[0])
        return 0;
    if ((rc = read_file(path, &text, err, errlen)) < 0)
        return rc;
    return seed_take(s, doc, path, text, err, errlen);
}

int adm_server_seed_text(struct adm_server *s, enum adm_doc doc, const char *name, const char *text,
                         char *err, size_t errlen)
{
    char *copy;

    if (!s || doc < 0 || doc >= ADM_DOC__COUNT || !name || !text) {
        snprintf(err, errlen, "bad arguments");
        return -EINVAL;
    }
    if (!(copy = strdup(text))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return seed_take(s, doc, name, copy, err, errlen);
}

/* Takes text (malloc'd) whatever happens. */
static int seed_take(struct adm_server *s, enum adm_doc doc, const char *path, char *text,
                     char *err, size_t errlen)
{
    int rc;

    if (!s->seed) {
        s->seed = calloc(1, sizeof(*s->seed));
        if (!s->seed || !(s->seed->ev_try = evtimer_new(s->base, seed_try, s->seed))) {
            free(s->seed);
            s->seed = NULL;
            free(text);
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        s->seed->srv = s;
    }
    char why[256];
    if ((rc = adm_doc_check(s, doc, text, strlen(text), why, sizeof(why))) < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(text);
        return rc;
    }
    struct seed_doc *d = &s->seed->doc[doc];
    free(d->text);
    d->text = text;
    snprintf(d->path, sizeof(d->path), "%s", path);
    event_active(s->seed->ev_try, EV_TIMEOUT, 0);
    return 0;
}

bool adm_server_seeded(const struct adm_server *s)
{
    if (!s || !s->seed)
        return true;
    for (int k = 0; k < ADM_DOC__COUNT; k++)
        if (s->seed->doc[k].text)
            return false;
    return true;
}

void adm_seed_free(struct adm_server *s)
{
    if (!s || !s->seed)
        return;
    if (s->seed->ev_try)
        event_free(s->seed->ev_try);
    for (int k = 0; k < ADM_DOC__COUNT; k++)
        free(s->seed->doc[k].text);
    free(s->seed);
    s->seed = NULL;
}
