/*
 * gw_campaign_marks.c - the sweep of retired markers (gw_campaign_marks.h).
 *
 * One page at a time, each tick: BEGIN (campaign_marks.lua: lease, the pass's ids and cursor) ->
 * one Redis: SCRIPT EXISTS of the pass's epoch script (gone: the server restarted or changed, its
 * SCAN order too, so SCRIPT LOAD of a new one and EPOCH: the pass starts again at 0) ->
 * the page's keys (SCAN, or GETKEYSINSLOT slot after slot on a cluster) -> HDEL of the markers on
 * each wallet, all at once -> SAVE (the next cursor, the counts; "done" at the end) -> next tick.
 * A struct page holds the requests of the step in flight (pending); a cancelled request
 * (-ECANCELED, gw_redis_free) finds the job gone through it and only ends the page.
 */
#include "gw_campaign_marks.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_campaign_run.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_redis.h"

#define LOG_CAT "campaign"
#define SLOT_KEYS_MAX "100000" /* keys one GETKEYSINSLOT answers: a slot holds ~1/16384 of them */
#define SLOTS_PER_PAGE 1024    /* an empty cluster's page still ends */
#define IDLE_RECHECK_MS 60000  /* "idle" is asked again this often while nothing changes */
#define ERROR_BACKOFF_MAX_MS 60000 /* the longest wait after pages that failed in a row */
#define IDS_TEXT (GW_CAMP_RETIRED_MAX * (GW_CAMP_ID_MAX + 1) + 1)

struct seen {
    char id[GW_CAMP_ID_MAX + 1];
    int32_t day;     /* retired on (the document's day) */
    int64_t seen_ms; /* when this gateway first saw it retired */
};

struct gw_camp_marks {
    struct event_base *base;
    struct gw_redis *redis; /* NULL once detached */
    int script;
    uint32_t interval_ms, batch, grace_s, lease_ms;
    bool cluster;
    char owner[64];
    struct gw_campaign_stats *st;
    struct seen seen[GW_CAMP_RETIRED_MAX];
    size_t n_seen;
    struct event *ev;
    struct page *page;       /* the page in flight, or NULL */
    char idle_for[IDS_TEXT]; /* the eligible ids BEGIN last answered "idle" for */
    int64_t idle_at_ms;
    bool resumed;   /* a page was begun since the start (a saved cursor is "resumed" once) */
    unsigned fails; /* pages failed in a row (the wait doubles with each) */
};

struct page {
    struct gw_camp_marks *m; /* NULL: the job is gone, finish quietly */
    char fp[GW_CAMP_MARKS_IDS_MAX * (GW_CAMP_ID_MAX + 1) + 1];
    char cur[24];   /* the cursor this page starts at */
    char next[24];  /* the cursor after this page; "" = the pass ends with it */
    char epoch[48]; /* one Redis: the pass's script SHA1 ("" none yet) */
    unsigned slot;  /* a cluster: the slot being read */
    unsigned slots_read;
    char **keys; /* the page's wallets */
    size_t nkeys, cap;
    int pending;
    bool failed;
    uint64_t deleted;
};

static void tick_later(struct gw_camp_marks *m, uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    if (m->redis && m->ev)
        evtimer_add(m->ev, &tv);
}

static void page_free(struct page *p)
{
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p);
}

/* The page is over (saved, lost or failed): the job ticks again. */
static void page_end(struct page *p, bool error)
{
    struct gw_camp_marks *m = p->m;

    if (m) {
        uint64_t wait = m->interval_ms;
        m->page = NULL;
        if (error) { /* a refusal (ACL, a full Redis) would repeat: back off, up to a minute */
            m->st->marker_errors++;
            m->fails += m->fails < 16;
            wait <<= m->fails;
            if (wait > ERROR_BACKOFF_MAX_MS)
                wait =
                    ERROR_BACKOFF_MAX_MS > m->interval_ms ? ERROR_BACKOFF_MAX_MS : m->interval_ms;
        } else
            m->fails = 0;
        tick_later(m, (uint32_t)wait);
    }
    page_free(p);
}

/* lg:{<1..15 digits>}:w */
static bool wallet_key(const char *k, size_t len)
{
    if (len < 8 || len > 22 || strncmp(k, "lg:{", 4) != 0 || strncmp(k + len - 3, "}:w", 3) != 0)
        return false;
    for (size_t i = 4; i < len - 3; i++)
        if (k[i] < '0' || k[i] > '9')
            return false;
    return true;
}

static int keep_key(struct page *p, const char *k, size_t len)
{
    if (!wallet_key(k, len))
        return 0;
    if (p->nkeys == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **n = realloc(p->keys, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        p->keys = n;
        p->cap = cap;
    }
    if (!(p->keys[p->nkeys] = strndup(k, len)))
        return -ENOMEM;
    p->nkeys++;
    return 0;
}

/* ---------------------------------------------------------------- SAVE */

static void saved(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;
    struct gw_camp_marks *m = p->m;

    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
                     reply->element[0]->type != REDIS_REPLY_STRING)) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "campaign_marks.lua SAVE: %.200s", reply->str);
        err = -EPROTO;
    }
    if (err < 0 || !m) {
        page_end(p, err < 0 && err != -ECANCELED);
        return;
    }
    const char *oc = reply->element[0]->str;
    if (strcmp(oc, "lost") == 0)
        GW_LOGN(LOG_CAT, "marker sweep: the pass changed hands or ids meanwhile (page not saved)");
    else {
        m->st->marker_wallets += p->nkeys;
        m->st->markers_deleted += p->deleted;
    }
    if (strcmp(oc, "done") == 0 && reply->elements == 3) {
        m->st->marker_passes++;
        GW_LOGN(LOG_CAT, "marker sweep of %s done: %lld wallets, %lld markers deleted", p->fp,
                reply->element[1]->integer, reply->element[2]->integer);
    }
    page_end(p, false);
}

static void save(struct page *p)
{
    struct gw_camp_marks *m = p->m;
    char lease[16], w[24], d[24], now[24];

    if (!m || !m->redis || p->failed) {
        page_end(p, p->failed);
        return;
    }
    snprintf(lease, sizeof(lease), "%" PRIu32, m->lease_ms);
    snprintf(w, sizeof(w), "%zu", p->nkeys);
    snprintf(d, sizeof(d), "%" PRIu64, p->deleted);
    snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms() / 1000);
    const char *argv[] = {
        GW_CAMP_MARKS_KEY, GW_CAMP_MARKS_LEASE, "SAVE", m->owner, lease, p->fp, p->next, w, d, now};
    size_t len[10];
    for (int i = 0; i < 10; i++)
        len[i] = strlen(argv[i]);
    if (gw_redis_script_run(m->redis, m->script, 2, 10, argv, len, saved, p) < 0)
        page_end(p, true);
}

/* ---------------------------------------------------------------- HDEL */

static void hdel_reply(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;

    if (err == 0 && reply->type == REDIS_REPLY_INTEGER)
        p->deleted += (uint64_t)reply->integer;
    else {
        if (err == 0 && reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "marker sweep: HDEL: %.200s", reply->str);
        p->failed = true; /* not saved: the page is swept again */
    }
    if (--p->pending == 0)
        save(p);
}

static void hdel_all(struct page *p)
{
    const char *argv[2 + GW_CAMP_MARKS_IDS_MAX];
    char fields[GW_CAMP_MARKS_IDS_MAX][GW_CAMP_ID_MAX + 3];
    int argc = 2;
    char ids[sizeof(p->fp)], *save_ptr = NULL;

    snprintf(ids, sizeof(ids), "%s", p->fp);
    argv[0] = "HDEL";
    for (char *id = strtok_r(ids, ",", &save_ptr); id && argc < 2 + GW_CAMP_MARKS_IDS_MAX;
         id = strtok_r(NULL, ",", &save_ptr)) {
        snprintf(fields[argc - 2], sizeof(fields[0]), "c:%s", id);
        argv[argc] = fields[argc - 2];
        argc++;
    }
    p->pending = 1; /* held while sending, so that no reply ends the page early */
    for (size_t i = 0; i < p->nkeys && p->m && p->m->redis; i++) {
        argv[1] = p->keys[i];
        if (gw_redis_command(p->m->redis, argc, argv, NULL, hdel_reply, p) < 0)
            p->failed = true;
        else
            p->pending++;
    }
    if (--p->pending == 0)
        save(p);
}

/* ---------------------------------------------------------------- the page's keys */

static void slot_read(struct page *p);

static void keys_reply(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;
    const struct redisReply *keys = NULL;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY) {
        if (p->m && !p->m->cluster && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_STRING &&
            reply->element[1]->type == REDIS_REPLY_ARRAY) {
            /* SCAN: {next cursor, keys}; "0" = the walk is complete */
            snprintf(p->next, sizeof(p->next), "%s",
                     strcmp(reply->element[0]->str, "0") == 0 ? "" : reply->element[0]->str);
            keys = reply->element[1];
        } else if (p->m && p->m->cluster)
            keys = reply;
    }
    if (!keys) {
        if (err == 0 && reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "marker sweep: reading keys: %.200s", reply->str);
        page_end(p, err != -ECANCELED);
        return;
    }
    for (size_t i = 0; i < keys->elements; i++)
        if (keys->element[i]->type == REDIS_REPLY_STRING &&
            keep_key(p, keys->element[i]->str, keys->element[i]->len) < 0) {
            page_end(p, true);
            return;
        }
    if (p->m && p->m->cluster) {
        if (keys->elements >= (size_t)atol(SLOT_KEYS_MAX))
            GW_LOGE(LOG_CAT, "marker sweep: slot %u holds more than %s keys: only those swept",
                    p->slot, SLOT_KEYS_MAX);
        p->slot++;
        p->slots_read++;
        if (p->slot < GW_REDIS_SLOTS && p->nkeys < p->m->batch && p->slots_read < SLOTS_PER_PAGE) {
            slot_read(p);
            return;
        }
        if (p->slot >= GW_REDIS_SLOTS)
            p->next[0] = '\0';
        else
            snprintf(p->next, sizeof(p->next), "%u", p->slot);
    }
    hdel_all(p);
}

/* a cluster: the keys of p->slot, asked of the slot's master (routed by its tag) */
static void slot_read(struct page *p)
{
    char tag[GW_SLOT_TAG_MAX], slot[12];

    if (!p->m || !p->m->redis || gw_slot_tag(p->slot, tag) < 0) {
        page_end(p, p->m != NULL);
        return;
    }
    snprintf(slot, sizeof(slot), "%u", p->slot);
    const char *argv[] = {"CLUSTER", "GETKEYSINSLOT", slot, SLOT_KEYS_MAX};
    if (gw_redis_command_key(p->m->redis, tag, strlen(tag), 4, argv, NULL, keys_reply, p) < 0)
        page_end(p, true);
}

static void page_read(struct page *p, const char *cur)
{
    struct gw_camp_marks *m = p->m;
    char count[16];

    if (m->cluster) {
        char *end;
        unsigned long s = strtoul(cur, &end, 10);
        p->slot = *end || s >= GW_REDIS_SLOTS ? 0 : (unsigned)s;
        slot_read(p);
        return;
    }
    snprintf(count, sizeof(count), "%" PRIu32, m->batch);
    const char *argv[] = {"SCAN", cur, "MATCH", "lg:{*}:w", "COUNT", count};
    if (gw_redis_command(m->redis, 6, argv, NULL, keys_reply, p) < 0)
        page_end(p, true);
}

/* ---------------------------------------------------------------- one Redis: the cursor's epoch */

static void epoch_set(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_STRING && p->m &&
        strcmp(reply->element[0]->str, "ok") == 0) {
        page_read(p, "0");
        return;
    }
    if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign_marks.lua EPOCH: %.200s", reply->str);
    page_end(p, err < 0 ? err != -ECANCELED : reply->type != REDIS_REPLY_ARRAY);
}

static void epoch_loaded(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;
    struct gw_camp_marks *m = p->m;
    char lease[16];

    if (err < 0 || reply->type != REDIS_REPLY_STRING || reply->len >= sizeof(p->epoch) || !m ||
        !m->redis) {
        if (err == 0 && reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "marker sweep: SCRIPT LOAD: %.200s", reply->str);
        page_end(p, err != -ECANCELED);
        return;
    }
    snprintf(p->epoch, sizeof(p->epoch), "%s", reply->str);
    snprintf(lease, sizeof(lease), "%" PRIu32, m->lease_ms);
    const char *argv[] = {GW_CAMP_MARKS_KEY, GW_CAMP_MARKS_LEASE, "EPOCH", m->owner, lease, p->fp,
                          p->epoch};
    size_t len[7];
    for (int i = 0; i < 7; i++)
        len[i] = strlen(argv[i]);
    if (gw_redis_script_run(m->redis, m->script, 2, 7, argv, len, epoch_set, p) < 0)
        page_end(p, true);
}

/* The pass (re)starts from cursor 0 under a script of its own (never run: its presence in the
 * server's script cache is the proof the server is the one that gave the cursors). */
static void epoch_new(struct page *p)
{
    struct gw_camp_marks *m = p->m;
    char body[160];

    if (strcmp(p->cur, "0") != 0)
        GW_LOGN(LOG_CAT,
                "marker sweep of %s: Redis was restarted or replaced since cursor %s was saved "
                "(its keys' order changed): the pass starts again",
                p->fp, p->cur);
    snprintf(body, sizeof(body), "return 'lg:mk epoch %s %" PRId64 " %ld'", m->owner,
             gw_clock_now_ms(), random());
    const char *argv[] = {"SCRIPT", "LOAD", body};
    if (gw_redis_command(m->redis, 3, argv, NULL, epoch_loaded, p) < 0)
        page_end(p, true);
}

static void epoch_checked(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;

    if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER || !p->m || !p->m->redis) {
        if (err == 0 && reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "marker sweep: SCRIPT EXISTS: %.200s", reply->str);
        page_end(p, err != -ECANCELED);
        return;
    }
    if (reply->element[0]->integer == 1)
        page_read(p, p->cur);
    else
        epoch_new(p);
}

/* ---------------------------------------------------------------- BEGIN */

/* The retired ids this gateway may sweep now, "a,b", into out. */
static void eligible(const struct gw_camp_marks *m, char *out, size_t cap)
{
    int64_t now = gw_clock_now_ms();
    int32_t today = gw_local_day(now / 1000);
    size_t at = 0;

    out[0] = '\0';
    for (size_t i = 0; i < m->n_seen; i++) {
        const struct seen *s = &m->seen[i];
        if (now - s->seen_ms < (int64_t)m->grace_s * 1000 && gw_days_add(s->day, 1) >= today)
            continue;
        int n = snprintf(out + at, cap - at, "%s%s", at ? "," : "", s->id);
        if (n < 0 || (size_t)n >= cap - at)
            break;
        at += (size_t)n;
    }
}

static void begun(void *arg, int err, const struct redisReply *reply)
{
    struct page *p = arg;
    struct gw_camp_marks *m = p->m;
    const char *oc = NULL;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        reply->element[0]->type == REDIS_REPLY_STRING)
        oc = reply->element[0]->str;
    else if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign_marks.lua BEGIN: %.200s", reply->str);
    if (!m || !oc) {
        page_end(p, m && err != -ECANCELED);
        return;
    }
    if (strcmp(oc, "busy") == 0) {
        m->st->marker_busy++;
        page_end(p, false);
        return;
    }
    if (strcmp(oc, "idle") == 0 || reply->elements != 4 ||
        reply->element[1]->type != REDIS_REPLY_STRING ||
        reply->element[2]->type != REDIS_REPLY_STRING ||
        reply->element[3]->type != REDIS_REPLY_STRING || reply->element[1]->len >= sizeof(p->fp) ||
        reply->element[2]->len >= sizeof(p->cur) || reply->element[3]->len >= sizeof(p->epoch)) {
        if (strcmp(oc, "idle") == 0) {
            eligible(m, m->idle_for, sizeof(m->idle_for));
            m->idle_at_ms = gw_clock_now_ms();
        }
        page_end(p, strcmp(oc, "idle") != 0);
        return;
    }
    snprintf(p->fp, sizeof(p->fp), "%s", reply->element[1]->str);
    snprintf(p->cur, sizeof(p->cur), "%s", reply->element[2]->str);
    snprintf(p->epoch, sizeof(p->epoch), "%s", reply->element[3]->str);
    if (strcmp(p->cur, "0") != 0 && !m->resumed)
        GW_LOGN(LOG_CAT, "marker sweep of %s resumed at cursor %s", p->fp, p->cur);
    m->resumed = true;
    if (m->cluster) { /* a slot number is good on any server */
        page_read(p, p->cur);
        return;
    }
    const char *argv[] = {"SCRIPT", "EXISTS", p->epoch};
    if (!p->epoch[0])
        epoch_new(p);
    else if (gw_redis_command(m->redis, 3, argv, NULL, epoch_checked, p) < 0)
        page_end(p, true);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct gw_camp_marks *m = arg;
    char ids[IDS_TEXT], lease[16], max[8];

    (void)fd;
    (void)what;
    if (!m->redis || m->page)
        return;
    eligible(m, ids, sizeof(ids));
    if (!ids[0] || !gw_redis_is_connected(m->redis) ||
        (strcmp(ids, m->idle_for) == 0 && gw_clock_now_ms() - m->idle_at_ms < IDLE_RECHECK_MS)) {
        tick_later(m, m->interval_ms);
        return;
    }
    struct page *p = calloc(1, sizeof(*p));
    if (!p) {
        tick_later(m, m->interval_ms);
        return;
    }
    p->m = m;
    m->page = p;
    snprintf(lease, sizeof(lease), "%" PRIu32, m->lease_ms);
    snprintf(max, sizeof(max), "%d", GW_CAMP_MARKS_IDS_MAX);
    const char *argv[] = {GW_CAMP_MARKS_KEY,
                          GW_CAMP_MARKS_LEASE,
                          "BEGIN",
                          m->owner,
                          lease,
                          ids,
                          m->cluster ? "c" : "s",
                          max};
    size_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = strlen(argv[i]);
    if (gw_redis_script_run(m->redis, m->script, 2, 8, argv, len, begun, p) < 0)
        page_end(p, true);
}

/* ---------------------------------------------------------------- life cycle */

struct gw_camp_marks *gw_camp_marks_new(struct event_base *base, struct gw_redis *redis,
                                        const struct gw_campaign_run_config *cfg,
                                        struct gw_campaign_stats *st)
{
    struct gw_camp_marks *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->base = base;
    m->redis = redis;
    m->st = st;
    m->interval_ms = cfg->marker_sweep_interval_ms ? cfg->marker_sweep_interval_ms : 1000;
    m->batch = cfg->marker_sweep_batch ? cfg->marker_sweep_batch : 500;
    m->grace_s = cfg->marker_sweep_grace_s;
    m->lease_ms = cfg->marker_sweep_lease_ms ? cfg->marker_sweep_lease_ms : 30000;
    m->cluster = cfg->cluster;
    snprintf(m->owner, sizeof(m->owner), "%s", cfg->owner[0] ? cfg->owner : "gw");
    m->script = gw_redis_script_add(redis, gw_lua_campaign_marks, gw_lua_campaign_marks_len);
    m->ev = evtimer_new(base, on_tick, m);
    if (m->script < 0 || !m->ev) {
        gw_camp_marks_free(m);
        return NULL;
    }
    return m;
}

void gw_camp_marks_set_doc(struct gw_camp_marks *m, const struct gw_campaigns *doc)
{
    struct seen was[GW_CAMP_RETIRED_MAX];
    size_t n_was = m->n_seen;
    int64_t now = gw_clock_now_ms();

    /* the list only grows, but a document put by hand may drop an id: follow the document */
    memcpy(was, m->seen, n_was * sizeof(was[0]));
    m->n_seen = 0;
    for (size_t i = 0; i < doc->n_retired && i < GW_CAMP_RETIRED_MAX; i++) {
        struct seen *s = &m->seen[m->n_seen++];
        snprintf(s->id, sizeof(s->id), "%s", doc->retired[i].id);
        s->day = doc->retired[i].day;
        s->seen_ms = now;
        for (size_t j = 0; j < n_was; j++)
            if (strcmp(was[j].id, s->id) == 0)
                s->seen_ms = was[j].seen_ms;
    }
}

int gw_camp_marks_start(struct gw_camp_marks *m)
{
    if (!m || !m->ev)
        return -EIO;
    tick_later(m, m->interval_ms);
    return 0;
}

void gw_camp_marks_detach(struct gw_camp_marks *m)
{
    if (!m)
        return;
    m->redis = NULL;
    if (m->ev)
        evtimer_del(m->ev);
}

void gw_camp_marks_free(struct gw_camp_marks *m)
{
    if (!m)
        return;
    if (m->page)
        m->page->m = NULL; /* its last callback (cancelled) frees it */
    if (m->ev)
        event_free(m->ev);
    free(m);
}
