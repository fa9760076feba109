/*
 * gw_broadcast.c - the reminder broadcast runner (gw_broadcast.h; decisions in the README,
 * "Reminder broadcast"). Owner: the broadcast engineer (issue 5 part 4).
 *
 * One struct gw_broadcast per gateway, running at most one campaign at a time:
 *   IDLE --poll timer--> pick (lease + the due campaign) --> LOADING (HGETALL) --> BUILDING
 *   (one atomic batch per step) --> SENDING --> finish --> IDLE
 * While a campaign is loaded a 1 s tick renews the lease, publishes the cursor and the rate, and
 * reads back the figures (a cancel or a lost lease shows there and ends the run).
 *
 * SENDING keeps a window of recipients [base, base + n) in memory (struct bc_ent, by index):
 * NEW -> BUSY (one struct bc_job walks it: wallet + opt-in lookup, claim, gw_sms_send, mark)
 * -> FIN (final in Redis) or UNF (given back, not final: retried in the next pass or run). The
 * cursor (base) moves over the FIN prefix; an UNF entry holds it until the next pass. Jobs find
 * their entry by index and campaign generation, never by pointer: the window array moves.
 *
 * Ownership: the runner owns its jobs (freed when their chain ends) and the loaded campaign
 * (texts as a jansson object). Every Redis request and every SMS in flight is counted, so stop
 * knows when nothing can call back any more.
 */
#include "gw_broadcast.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_core.h"
#include "gw_redis.h"
#include "gw_sms.h"

#define LOG_CAT "broadcast"
#define RATE_SPAN 5  /* seconds the published rate is averaged over */
#define MARK_TRIES 3 /* a mark that fails is sent again this many times in all */
#define PASS_PAUSE_MS 1000

enum bc_state { BC_IDLE, BC_PICKING, BC_LOADING, BC_BUILDING, BC_SENDING, BC_FINISHING };
enum ent_state { ENT_NEW, ENT_BUSY, ENT_FIN, ENT_UNF };

struct bc_ent {
    char msisdn[21];
    uint8_t state;
};

struct bc_job {
    struct gw_broadcast *b;
    uint32_t gen;
    int64_t idx;
    char msisdn[21];
    int lookups; /* replies still expected from the lookup step */
    bool lookup_failed, optin, blocked;
    char lang[8];
    char tier[32];
    const char *outcome; /* for mark */
    int mark_tries;
};

struct gw_broadcast {
    struct event_base *base;
    struct gw_redis *redis; /* NULL once detached */
    struct gw_sms *sms;
    struct gw_broadcast_config cfg;
    gw_broadcast_next_open_fn next_open;
    void *next_open_arg;
    int script;
    char token[96];
    char owner[64];
    struct event *ev_poll, *ev_tick, *ev_kick, *ev_done;
    enum bc_state state;
    /* the loaded campaign */
    uint32_t gen;
    char id[GW_BC_ID_MAX + 1];
    char keys[GW_BC_NKEYS][GW_BC_KEY_MAX];
    json_t *texts;
    char default_lang[8];
    int64_t total, next_fetch, base_idx;
    struct bc_ent *ents;
    size_t head, n, cap; /* live entries are ents[head .. head + n) */
    bool fetching, abandon, pass_wait;
    uint32_t in_flight; /* jobs */
    uint64_t sent_hist[RATE_SPAN + 1];
    int64_t tick_ms[RATE_SPAN + 1]; /* the monotonic time of each sent_hist entry */
    uint32_t ticks;
    char resolve_failed[GW_BC_ID_MAX + 1]; /* logged once */
    /* campaigns the gateway plans (gw_broadcast_hooks): the loaded one's extra fields */
    struct gw_broadcast_hooks hooks;
    int64_t c_opening, c_until; /* 0 = none */
    bool c_quiet, paused;
    int64_t plan_at;                 /* monotonic ms of the last plan() */
    char planned[GW_BC_ID_MAX + 1]; /* the last id created (or found) here */
    /* stop */
    unsigned redis_pending, sms_pending;
    bool stopping, stopped, releasing;
    void (*done)(void *arg);
    void *done_arg;
    struct gw_broadcast_stats st;
};

/* ---------------------------------------------------------------- shared helpers */

void gw_broadcast_config_defaults(struct gw_broadcast_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->poll_ms = 1000;
    cfg->lease_ms = 15000;
    cfg->max_in_flight = 8;
    cfg->build_batch = 1000;
    cfg->progress_log_s = 10;
    cfg->keep_days = 30;
    cfg->slot_sms_hour = 10;
}

void gw_broadcast_keys(const char *id, char keys[GW_BC_NKEYS][GW_BC_KEY_MAX])
{
    static const char *const kinds[] = {"c", "q", "snap", "s", "d", "i"};

    snprintf(keys[0], GW_BC_KEY_MAX, "%s", GW_BC_KEY_LEASE);
    snprintf(keys[1], GW_BC_KEY_MAX, "%s", GW_BC_KEY_ACTIVE);
    snprintf(keys[2], GW_BC_KEY_MAX, "%s", GW_BC_KEY_ALL);
    snprintf(keys[3], GW_BC_KEY_MAX, "%s", GW_BC_KEY_OPTIN);
    for (int i = 0; i < 6; i++)
        snprintf(keys[4 + i], GW_BC_KEY_MAX, "bc:{bc}:%s:%s", kinds[i], id ? id : "");
}

bool gw_campaign_id_valid(const char *id)
{
    size_t n = id ? strnlen(id, GW_BC_ID_MAX + 1) : 0;

    if (n == 0 || n > GW_BC_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_')))
            return false;
    }
    return true;
}

bool gw_campaign_lang_valid(const char *lang)
{
    size_t n = lang ? strnlen(lang, 4) : 0;

    if (n < 2 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lang[i] < 'a' || lang[i] > 'z')
            return false;
    }
    return true;
}

int gw_campaign_text_check(const char *utf8, size_t len, const struct smpp_text_opts *opts,
                           struct gw_campaign_text_info *info, const char **why)
{
    struct smpp_text_sms_part parts[GW_BC_MAX_PARTS];
    size_t i = 0, adv, nparts = 0;
    ssize_t units;

    if (!utf8 || len == 0) {
        *why = "empty";
        return -EINVAL;
    }
    if (len > GW_BC_TEXT_MAX) {
        *why = "longer than 1400 bytes";
        return -EINVAL;
    }
    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(utf8 + i, len - i, &adv);
        /* U+FFFD from the decoder means invalid bytes, unless the text really holds U+FFFD */
        if (cp == SMPP_TEXT_REPLACEMENT &&
            !(adv == 3 && memcmp(utf8 + i, "\xEF\xBF\xBD", 3) == 0)) {
            *why = "not valid UTF-8";
            return -EINVAL;
        }
        if ((cp < 0x20 && cp != '\n' && cp != '\r') || cp == 0x7F) {
            *why = "holds a control character";
            return -EINVAL;
        }
        i += adv;
    }
    info->coding = smpp_text_choose(utf8, len, opts, NULL);
    units = smpp_text_units(info->coding, utf8, len, opts);
    info->units = units < 0 ? 0 : (size_t)units;
    if (smpp_text_sms_split(utf8, len, opts, 0, parts, GW_BC_MAX_PARTS, &nparts) < 0) {
        *why = "more than 8 SMS parts";
        return -EINVAL;
    }
    info->parts = nparts;
    return 0;
}

/* ---------------------------------------------------------------- Redis plumbing */

struct bc_req {
    struct gw_broadcast *b;
    void (*fn)(struct gw_broadcast *b, void *ctx, int err, const redisReply *reply);
    void *ctx;
};

static void maybe_stopped(struct gw_broadcast *b);

static void req_done(void *arg, int err, const redisReply *reply)
{
    struct bc_req *q = arg;
    struct gw_broadcast *b = q->b;

    b->redis_pending--;
    if (err == 0 && reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(LOG_CAT, "store error: %.200s", reply->str);
        err = -EPROTO;
        reply = NULL;
    }
    if (err < 0)
        b->st.redis_errors++;
    q->fn(b, q->ctx, err, err < 0 ? NULL : reply);
    free(q);
    maybe_stopped(b);
}

/* Runs one op of broadcast.lua with the loaded campaign's keys (or keys for id). Returns 0 (fn
 * fires once) or < 0 (never). */
static int bc_op(struct gw_broadcast *b, char keys[GW_BC_NKEYS][GW_BC_KEY_MAX], int nargs,
                 const char **args,
                 void (*fn)(struct gw_broadcast *, void *, int, const redisReply *), void *ctx)
{
    const char *argv[GW_BC_NKEYS + 12];
    struct bc_req *q;
    int rc;

    if (!b->redis || nargs > 12)
        return -ENOTCONN;
    for (int i = 0; i < GW_BC_NKEYS; i++)
        argv[i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[GW_BC_NKEYS + i] = args[i];
    q = malloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    *q = (struct bc_req){.b = b, .fn = fn, .ctx = ctx};
    rc = gw_redis_script_run(b->redis, b->script, GW_BC_NKEYS, GW_BC_NKEYS + nargs, argv, NULL,
                             req_done, q);
    if (rc < 0) {
        free(q);
        b->st.redis_errors++;
        return rc;
    }
    b->redis_pending++;
    return 0;
}

static int bc_cmd(struct gw_broadcast *b, int argc, const char **argv,
                  void (*fn)(struct gw_broadcast *, void *, int, const redisReply *), void *ctx)
{
    struct bc_req *q;
    int rc;

    if (!b->redis)
        return -ENOTCONN;
    q = malloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    *q = (struct bc_req){.b = b, .fn = fn, .ctx = ctx};
    rc = gw_redis_command(b->redis, argc, argv, NULL, req_done, q);
    if (rc < 0) {
        free(q);
        b->st.redis_errors++;
        return rc;
    }
    b->redis_pending++;
    return 0;
}

static void kick(struct gw_broadcast *b)
{
    if (b->ev_kick)
        event_active(b->ev_kick, 0, 0);
}

static void arm_poll(struct gw_broadcast *b, uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};

    if (!b->stopping)
        evtimer_add(b->ev_poll, &tv);
}

static const char *reply_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? r->str : "";
}

static int64_t reply_int(const redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

/* ---------------------------------------------------------------- campaign life */

static void unload(struct gw_broadcast *b)
{
    json_decref(b->texts);
    b->texts = NULL;
    free(b->ents);
    b->ents = NULL;
    b->head = b->n = b->cap = 0;
    b->id[0] = '\0';
    b->st.campaign[0] = '\0';
    b->gen++; /* late replies of this campaign's jobs are recognised and dropped */
    b->fetching = b->abandon = b->pass_wait = false;
    b->c_opening = b->c_until = 0;
    b->c_quiet = b->paused = false;
    evtimer_del(b->ev_tick);
    b->state = BC_IDLE;
}

static void go_idle(struct gw_broadcast *b, uint32_t poll_ms)
{
    unload(b);
    arm_poll(b, poll_ms);
}

static void on_pick(struct gw_broadcast *b, void *ctx, int err, const redisReply *r);

struct plan_req {
    char id[GW_BC_ID_MAX + 1];
    char keys[GW_BC_NKEYS][GW_BC_KEY_MAX];
};

static void on_planned(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    struct plan_req *q = ctx;

    if (err == 0 && r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
        if (strcmp(reply_str(r->element[0]), "created") == 0) {
            b->st.planned++;
            GW_LOGN(LOG_CAT, "campaign{%s} planned by the gateway", q->id);
        }
        snprintf(b->planned, sizeof(b->planned), "%s", q->id);
    }
    free(q);
}

/* At most once a minute while idle: the campaign the gateway's own plan wants now, created once
 * (the script answers 'exists' to every later create of that id, here or in another gateway). */
static void plan_campaign(struct gw_broadcast *b)
{
    int64_t mono = gw_clock_mono_ms(), now = gw_clock_now_ms() / 1000;
    char send_at[24], opening[24], until[24], ms[24];
    struct gw_broadcast_plan *p;
    struct plan_req *q;

    if (!b->hooks.plan || (b->plan_at && mono - b->plan_at < 60000))
        return;
    b->plan_at = mono;
    p = calloc(1, sizeof(*p));
    q = calloc(1, sizeof(*q));
    if (!p || !q || b->hooks.plan(b->hooks.arg, now, p) != 1 || !gw_campaign_id_valid(p->id) ||
        strcmp(p->id, b->planned) == 0) {
        free(p);
        free(q);
        return;
    }
    snprintf(q->id, sizeof(q->id), "%s", p->id);
    gw_broadcast_keys(p->id, q->keys);
    snprintf(send_at, sizeof(send_at), "%" PRId64, p->send_at);
    snprintf(opening, sizeof(opening), "%" PRId64, p->opening);
    snprintf(until, sizeof(until), "%" PRId64, p->until);
    snprintf(ms, sizeof(ms), "%" PRId64, gw_clock_now_ms());
    const char *args[] = {"create", b->token,   p->id, p->texts, p->default_lang, "at",
                          send_at,  ms,         "gateway", opening, until, p->quiet ? "1" : ""};
    if (bc_op(b, q->keys, 12, args, on_planned, q) < 0)
        free(q);
    free(p);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_broadcast *b = arg;
    char lease_ms[16], now_s[24];

    (void)fd;
    (void)what;
    if (b->stopping || b->state != BC_IDLE)
        return;
    plan_campaign(b);
    snprintf(lease_ms, sizeof(lease_ms), "%" PRIu32, b->cfg.lease_ms);
    snprintf(now_s, sizeof(now_s), "%" PRId64, gw_clock_now_ms() / 1000);
    gw_broadcast_keys("", b->keys);
    const char *args[] = {"pick", b->token, lease_ms, now_s, GW_BC_KEY_CAMPAIGN};
    b->state = BC_PICKING;
    if (bc_op(b, b->keys, 5, args, on_pick, NULL) < 0) {
        b->state = BC_IDLE;
        arm_poll(b, b->cfg.poll_ms);
    }
}

static void on_resolved(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)ctx;
    if (err == 0 && r->type == REDIS_REPLY_STRING)
        GW_LOGN(LOG_CAT, "campaign{%s} goes out at the next opening: unix %s", b->id, r->str);
    go_idle(b, 10); /* pick again at once: it may be due already */
}

static void resolve(struct gw_broadcast *b, const char *id, int64_t created_ms)
{
    int64_t start = 0;
    char at[24];
    int rc = b->next_open ? b->next_open(b->next_open_arg, created_ms / 1000, &start) : -ENOENT;

    if (rc < 0) {
        if (strcmp(b->resolve_failed, id) != 0)
            GW_LOGE(LOG_CAT,
                    "campaign{%s} is for the next gift-day opening, but no opening is known "
                    "(catalog.giftdays_file): it waits",
                    id);
        snprintf(b->resolve_failed, sizeof(b->resolve_failed), "%s", id);
        go_idle(b, b->cfg.poll_ms * 10);
        return;
    }
    snprintf(b->id, sizeof(b->id), "%s", id);
    gw_broadcast_keys(id, b->keys);
    snprintf(at, sizeof(at), "%" PRId64, start);
    const char *args[] = {"resolve", b->token, at};
    if (bc_op(b, b->keys, 3, args, on_resolved, NULL) < 0)
        go_idle(b, b->cfg.poll_ms);
}

static void load_campaign(struct gw_broadcast *b);

static void on_pick(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)ctx;
    b->state = BC_IDLE;
    if (err < 0 || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        arm_poll(b, b->cfg.poll_ms);
        return;
    }
    const char *what = reply_str(r->element[0]);
    if (b->stopping) {
        /* a lease taken by this very pick is released by stop's release step */
        return;
    }
    if (strcmp(what, "run") == 0 && r->elements >= 2 &&
        gw_campaign_id_valid(reply_str(r->element[1]))) {
        snprintf(b->id, sizeof(b->id), "%s", reply_str(r->element[1]));
        load_campaign(b);
        return;
    }
    if (strcmp(what, "resolve") == 0 && r->elements >= 3 &&
        gw_campaign_id_valid(reply_str(r->element[1]))) {
        resolve(b, reply_str(r->element[1]), reply_int(r->element[2]));
        return;
    }
    arm_poll(b, b->cfg.poll_ms);
}

static void on_loaded(struct gw_broadcast *b, void *ctx, int err, const redisReply *r);

static void load_campaign(struct gw_broadcast *b)
{
    char key[GW_BC_KEY_MAX];

    b->state = BC_LOADING;
    b->st.campaign[0] = '\0';
    gw_broadcast_keys(b->id, b->keys);
    snprintf(key, sizeof(key), "%s", b->keys[4]);
    const char *argv[] = {"HGETALL", key};
    if (bc_cmd(b, 2, argv, on_loaded, NULL) < 0)
        go_idle(b, b->cfg.poll_ms);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg);
static void build_step(struct gw_broadcast *b);
static void start_sending(struct gw_broadcast *b, int64_t total, int64_t cursor);

static void on_loaded(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    const char *state = "", *texts = NULL, *dl = "";
    int64_t total = 0, cursor = 0;
    json_error_t jerr;

    (void)ctx;
    if (b->stopping) {
        b->state = BC_IDLE;
        return;
    }
    if (err < 0 || r->type != REDIS_REPLY_ARRAY) {
        go_idle(b, b->cfg.poll_ms);
        return;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = reply_str(r->element[i]), *v = reply_str(r->element[i + 1]);
        if (strcmp(k, "state") == 0)
            state = v;
        else if (strcmp(k, "texts") == 0)
            texts = v;
        else if (strcmp(k, "default_lang") == 0)
            dl = v;
        else if (strcmp(k, "total") == 0)
            total = strtoll(v, NULL, 10);
        else if (strcmp(k, "cursor") == 0)
            cursor = strtoll(v, NULL, 10);
        else if (strcmp(k, "opening") == 0)
            b->c_opening = strtoll(v, NULL, 10);
        else if (strcmp(k, "until") == 0)
            b->c_until = strtoll(v, NULL, 10);
        else if (strcmp(k, "quiet") == 0)
            b->c_quiet = strcmp(v, "1") == 0;
    }
    json_decref(b->texts);
    b->texts = texts ? json_loads(texts, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(b->texts) || !json_is_string(json_object_get(b->texts, dl))) {
        /* written by loyalty-admin or loyaltyctl after validation: only a hand edit gets here */
        GW_LOGE(LOG_CAT, "campaign{%s} has no usable texts for its default language \"%.8s\"",
                b->id, dl);
        go_idle(b, b->cfg.poll_ms * 10);
        return;
    }
    snprintf(b->default_lang, sizeof(b->default_lang), "%s", dl);
    snprintf(b->st.campaign, sizeof(b->st.campaign), "%s", b->id);
    b->st.campaigns_run++;
    b->ticks = 0;
    memset(b->sent_hist, 0, sizeof(b->sent_hist));
    memset(b->tick_ms, 0, sizeof(b->tick_ms));
    /* the base the first ticks' rate is measured from */
    b->sent_hist[0] = b->st.sent;
    b->tick_ms[0] = gw_clock_mono_ms();
    struct timeval tv = {.tv_sec = 1};
    event_add(b->ev_tick, &tv);
    if (strcmp(state, "sending") == 0) {
        GW_LOGN(LOG_CAT, "campaign{%s} resumed at %" PRId64 " of %" PRId64, b->id, cursor, total);
        start_sending(b, total, cursor);
    } else if (strcmp(state, "scheduled") == 0 || strcmp(state, "building") == 0) {
        GW_LOGN(LOG_CAT, "campaign{%s} due: listing the opted-in subscribers", b->id);
        b->state = BC_BUILDING;
        build_step(b);
    } else {
        go_idle(b, b->cfg.poll_ms);
    }
}

static void on_build(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)ctx;
    if (b->stopping || b->abandon) {
        go_idle(b, b->cfg.poll_ms);
        return;
    }
    if (err < 0 || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        /* transient: the step is atomic, so trying again later repeats nothing */
        go_idle(b, b->cfg.poll_ms);
        return;
    }
    const char *what = reply_str(r->element[0]);
    int64_t n = r->elements >= 2 ? reply_int(r->element[1]) : 0;
    if (strcmp(what, "building") == 0) {
        build_step(b);
    } else if (strcmp(what, "sending") == 0) {
        GW_LOGN(LOG_CAT, "campaign{%s}: %" PRId64 " recipients listed; sending", b->id, n);
        start_sending(b, n, 0);
    } else {
        if (strcmp(what, "lease") == 0)
            b->st.lease_lost++;
        go_idle(b, b->cfg.poll_ms);
    }
}

static void build_step(struct gw_broadcast *b)
{
    char count[16], now[24];

    snprintf(count, sizeof(count), "%" PRIu32, b->cfg.build_batch);
    snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms());
    const char *args[] = {"build", b->token, count, now};
    if (bc_op(b, b->keys, 4, args, on_build, NULL) < 0)
        go_idle(b, b->cfg.poll_ms);
}

/* ---------------------------------------------------------------- the sending window */

static struct bc_ent *ent_at(struct gw_broadcast *b, int64_t idx)
{
    if (idx < b->base_idx || idx >= b->base_idx + (int64_t)b->n)
        return NULL;
    return &b->ents[b->head + (size_t)(idx - b->base_idx)];
}

static void start_sending(struct gw_broadcast *b, int64_t total, int64_t cursor)
{
    b->state = BC_SENDING;
    b->total = total;
    b->base_idx = b->next_fetch = cursor < 0 ? 0 : cursor;
    b->head = b->n = 0;
    kick(b);
}

static void on_fetch(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    uint32_t gen = (uint32_t)(uintptr_t)ctx;

    b->fetching = false;
    if (gen != b->gen || b->state != BC_SENDING)
        return;
    if (err < 0 || r->type != REDIS_REPLY_ARRAY) {
        b->pass_wait = true; /* the tick retries */
        return;
    }
    if (b->head + b->n + r->elements > b->cap) {
        /* compact first, grow if still short */
        if (b->n > 0 && b->head > 0)
            memmove(b->ents, b->ents + b->head, b->n * sizeof(*b->ents));
        b->head = 0;
        if (b->n + r->elements > b->cap) {
            size_t cap = b->n + r->elements + 64;
            struct bc_ent *e = realloc(b->ents, cap * sizeof(*e));
            if (!e) {
                b->pass_wait = true;
                return;
            }
            b->ents = e;
            b->cap = cap;
        }
    }
    for (size_t i = 0; i < r->elements; i++) {
        struct bc_ent *e = &b->ents[b->head + b->n++];
        /* untrusted (anyone with Redis access could push): a bad entry fails its send */
        snprintf(e->msisdn, sizeof(e->msisdn), "%.20s", reply_str(r->element[i]));
        e->state = ENT_NEW;
    }
    b->next_fetch += (int64_t)r->elements;
    if (r->elements == 0)
        b->next_fetch = b->total; /* the list is shorter than total: a hand edit */
    kick(b);
}

static void job_start(struct gw_broadcast *b, int64_t idx, struct bc_ent *e);
static void finish_campaign(struct gw_broadcast *b);

static void pump(struct gw_broadcast *b)
{
    if (b->state != BC_SENDING)
        return;
    /* the cursor moves over the final prefix */
    while (b->n > 0 && b->ents[b->head].state == ENT_FIN) {
        b->head++;
        b->n--;
        b->base_idx++;
    }
    if (b->n == 0)
        b->head = 0;
    if (b->stopping || b->abandon) {
        if (b->in_flight == 0) {
            if (b->abandon)
                GW_LOGN(LOG_CAT, "campaign{%s} left at %" PRId64 " of %" PRId64, b->id, b->base_idx,
                        b->total);
            go_idle(b, b->cfg.poll_ms);
        }
        return;
    }
    if (b->c_quiet && b->hooks.quiet && b->hooks.quiet(b->hooks.arg, gw_clock_now_ms() / 1000)) {
        /* the quiet hours: nothing new is started; the tick looks again every second */
        if (!b->paused) {
            b->st.quiet_pauses++;
            GW_LOGN(LOG_CAT, "campaign{%s} paused: quiet hours", b->id);
        }
        b->paused = true;
        return;
    }
    if (b->paused)
        GW_LOGN(LOG_CAT, "campaign{%s} goes on: the quiet hours are over", b->id);
    b->paused = false;
    size_t started = 0;
    for (size_t i = 0; i < b->n && b->in_flight < b->cfg.max_in_flight; i++) {
        struct bc_ent *e = &b->ents[b->head + i];
        if (e->state != ENT_NEW)
            continue;
        job_start(b, b->base_idx + (int64_t)i, e);
        started++;
    }
    (void)started;
    size_t fresh = 0;
    for (size_t i = 0; i < b->n; i++)
        fresh += b->ents[b->head + i].state == ENT_NEW;
    if (!b->fetching && !b->pass_wait && fresh < 2 * (size_t)b->cfg.max_in_flight &&
        b->next_fetch < b->total) {
        char from[24], to[24];
        int64_t chunk =
            4 * (int64_t)b->cfg.max_in_flight < 64 ? 64 : 4 * (int64_t)b->cfg.max_in_flight;
        snprintf(from, sizeof(from), "%" PRId64, b->next_fetch);
        snprintf(to, sizeof(to), "%" PRId64, b->next_fetch + chunk - 1);
        const char *argv[] = {"LRANGE", b->keys[5], from, to};
        if (bc_cmd(b, 4, argv, on_fetch, (void *)(uintptr_t)b->gen) == 0)
            b->fetching = true;
        else
            b->pass_wait = true;
        return;
    }
    if (b->fetching || b->in_flight > 0 || b->next_fetch < b->total)
        return;
    if (b->base_idx >= b->total) {
        finish_campaign(b);
        return;
    }
    /* Everything was tried; some recipients were given back (UNF): a new pass from the cursor
     * after a pause (the tick clears pass_wait). */
    if (!b->pass_wait) {
        GW_LOGN(LOG_CAT, "campaign{%s}: %zu recipients to try again from %" PRId64, b->id, b->n,
                b->base_idx);
        b->pass_wait = true;
    }
}

static void restart_pass(struct gw_broadcast *b)
{
    /* only when nothing is in flight: the window is rebuilt from the cursor */
    if (b->state != BC_SENDING || b->in_flight > 0 || b->fetching)
        return;
    if (b->next_fetch >= b->total && b->base_idx < b->total) {
        b->head = b->n = 0;
        b->next_fetch = b->base_idx;
    }
    b->pass_wait = false;
    kick(b);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

static void on_finish(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)ctx;
    if (err == 0 && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        b->st.campaigns_done++;
        GW_LOGN(LOG_CAT, "campaign{%s} done: %" PRId64 " recipients", b->id, b->total);
    }
    go_idle(b, 10);
}

static void finish_campaign(struct gw_broadcast *b)
{
    char now[24], ttl[24];

    b->state = BC_FINISHING;
    snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms());
    snprintf(ttl, sizeof(ttl), "%" PRIu64, (uint64_t)b->cfg.keep_days * 86400u);
    const char *args[] = {"finish", b->token, now, b->id, ttl};
    if (bc_op(b, b->keys, 5, args, on_finish, NULL) < 0)
        go_idle(b, b->cfg.poll_ms);
}

/* ---------------------------------------------------------------- one recipient */

static void job_end(struct bc_job *j, enum ent_state st)
{
    struct gw_broadcast *b = j->b;

    if (j->gen == b->gen) {
        struct bc_ent *e = ent_at(b, j->idx);
        if (e)
            e->state = (uint8_t)st;
        b->in_flight--;
        kick(b);
    }
    free(j);
}

static void job_mark(struct bc_job *j, const char *outcome);

static void on_mark(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    struct bc_job *j = ctx;

    (void)b;
    if (err < 0 || r->type != REDIS_REPLY_INTEGER) {
        if (++j->mark_tries < MARK_TRIES && b->redis) {
            job_mark(j, j->outcome);
            return;
        }
        /* The claim stays: on the next pass or run this recipient is "unknown", never sent
         * twice because a mark was lost. */
        GW_LOGE(LOG_CAT, "campaign{%s} #%" PRId64 ": outcome %s not recorded", b->id, j->idx,
                j->outcome);
        job_end(j, ENT_UNF);
        return;
    }
    job_end(j, ENT_FIN);
}

static void job_mark(struct bc_job *j, const char *outcome)
{
    struct gw_broadcast *b = j->b;
    char idx[24];

    j->outcome = outcome;
    snprintf(idx, sizeof(idx), "%" PRId64, j->idx);
    const char *args[] = {"mark", b->token, idx, outcome};
    if (j->gen != b->gen || bc_op(b, b->keys, 4, args, on_mark, j) < 0) {
        GW_LOGE(LOG_CAT, "campaign{%s} #%" PRId64 ": outcome %s not recorded", b->id, j->idx,
                outcome);
        job_end(j, ENT_UNF);
    }
}

static void on_unclaim(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)b;
    (void)err;
    (void)r;
    job_end(ctx, ENT_UNF);
}

/* Certainly not sent: give the claim back so a later pass or run sends it. */
static void job_unclaim(struct bc_job *j)
{
    struct gw_broadcast *b = j->b;
    char idx[24];

    b->st.unclaimed++;
    snprintf(idx, sizeof(idx), "%" PRId64, j->idx);
    const char *args[] = {"unclaim", b->token, idx};
    if (j->gen != b->gen || bc_op(b, b->keys, 3, args, on_unclaim, j) < 0)
        job_end(j, ENT_UNF); /* the claim stays: "unknown" later, never a duplicate */
}

static void on_sent(void *arg, int err)
{
    struct bc_job *j = arg;
    struct gw_broadcast *b = j->b;
    char mask[GW_MASK_LEN];

    b->sms_pending--;
    if (err == 0) {
        b->st.sent++;
        job_mark(j, "sent");
    } else if (err == -EPROTO) {
        /* the SMSC answered with an error status (throttling was already retried by the link) */
        b->st.failed++;
        GW_LOGI(LOG_CAT, "campaign{%s} %s: refused by the SMSC", b->id,
                gw_mask_msisdn(j->msisdn, mask));
        job_mark(j, "failed");
    } else if (err == -ECANCELED || err == -ENOBUFS) {
        /* cancelled in the link's queue (shutdown) or never queued: not on the wire */
        job_unclaim(j);
    } else if (b->cfg.resend_unknown) {
        job_unclaim(j);
    } else {
        b->st.unknown++;
        GW_LOGN(LOG_CAT, "campaign{%s} %s: no answer (%s): counted unknown, not resent", b->id,
                gw_mask_msisdn(j->msisdn, mask), strerror(-err));
        job_mark(j, "unknown");
    }
    maybe_stopped(b);
}

static const char *text_for(struct gw_broadcast *b, const char *lang, size_t *len)
{
    json_t *t = lang[0] ? json_object_get(b->texts, lang) : NULL;

    if (!json_is_string(t))
        t = json_object_get(b->texts, b->default_lang);
    *len = json_string_length(t);
    return json_string_value(t);
}

static void job_send(struct bc_job *j)
{
    struct gw_broadcast *b = j->b;
    size_t len = 0;
    const char *text = text_for(b, j->lang, &len);
    char mine[GW_BC_TEXT_MAX + 1];
    int rc;

    if (!text || !b->sms) {
        job_unclaim(j);
        return;
    }
    if (b->c_opening > 0) {
        /* a slot campaign: this member's own text, computed from their number, never listed */
        rc = b->hooks.expand ? b->hooks.expand(b->hooks.arg, b->c_opening, j->msisdn, j->tier,
                                               j->lang[0] ? j->lang : b->default_lang, text,
                                               mine, sizeof(mine))
                             : -ENOSYS;
        if (rc <= 0) {
            b->st.skipped++;
            job_mark(j, "skipped");
            return;
        }
        text = mine;
        len = (size_t)rc;
    }
    rc = gw_sms_send(b->sms, j->msisdn, text, len, on_sent, j);
    if (rc == 0) {
        b->sms_pending++;
        return;
    }
    if (rc == -EINVAL || rc == -E2BIG) {
        b->st.failed++;
        job_mark(j, "failed"); /* a malformed number in the list: never sendable */
    } else {
        job_unclaim(j); /* -ENOBUFS, -ESHUTDOWN, -ENOMEM: nothing left */
    }
}

static void on_claim(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    struct bc_job *j = ctx;
    const char *what = err < 0 ? "" : reply_str(r);

    if (j->gen != b->gen) {
        /* campaign unloaded meanwhile (only after in_flight reached 0: cannot happen) */
        free(j);
        return;
    }
    if (strcmp(what, "go") == 0) {
        if (b->stopping || b->abandon || !b->sms)
            job_unclaim(j);
        else
            job_send(j);
    } else if (strcmp(what, "done") == 0) {
        b->st.already++;
        job_end(j, ENT_FIN);
    } else if (strcmp(what, "unknown") == 0) {
        if (b->cfg.resend_unknown && !b->stopping && !b->abandon) {
            job_send(j);
        } else {
            b->st.unknown++;
            job_mark(j, "unknown");
        }
    } else {
        if (strcmp(what, "lease") == 0 && !b->abandon) {
            b->st.lease_lost++;
            GW_LOGE(LOG_CAT, "campaign{%s}: lease lost, another gateway runs it now", b->id);
            b->abandon = true;
        }
        job_end(j, ENT_UNF);
    }
}

static void job_claim(struct bc_job *j)
{
    struct gw_broadcast *b = j->b;
    char idx[24];

    snprintf(idx, sizeof(idx), "%" PRId64, j->idx);
    const char *args[] = {"claim", b->token, idx};
    if (bc_op(b, b->keys, 3, args, on_claim, j) < 0)
        job_end(j, ENT_UNF);
}

static void on_lookup(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    struct bc_job *j = ctx;

    if (err < 0) {
        j->lookup_failed = true;
    } else if (r->type == REDIS_REPLY_INTEGER) {
        j->optin = r->integer == 1; /* SISMEMBER */
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        const char *lang = reply_str(r->element[0]);
        if (gw_campaign_lang_valid(lang))
            snprintf(j->lang, sizeof(j->lang), "%s", lang);
        j->blocked = strcmp(reply_str(r->element[1]), "1") == 0;
        snprintf(j->tier, sizeof(j->tier), "%.31s", reply_str(r->element[2]));
    } else {
        j->lookup_failed = true;
    }
    if (--j->lookups > 0)
        return;
    if (j->lookup_failed || b->stopping || b->abandon) {
        job_end(j, ENT_UNF);
        return;
    }
    if (!j->optin || j->blocked) {
        b->st.skipped++;
        job_mark(j, "skipped");
        return;
    }
    job_claim(j);
}

static void job_start(struct gw_broadcast *b, int64_t idx, struct bc_ent *e)
{
    struct bc_job *j = calloc(1, sizeof(*j));
    char wkey[48];

    if (!j)
        return;
    *j = (struct bc_job){.b = b, .gen = b->gen, .idx = idx};
    snprintf(j->msisdn, sizeof(j->msisdn), "%s", e->msisdn);
    e->state = ENT_BUSY;
    b->in_flight++;
    /* the wallet (language, blocked) on the subscriber's slot, the opt-in on {bc}: read now,
     * not when the list was built */
    snprintf(wkey, sizeof(wkey), "lg:{%s}:w", e->msisdn[0] == '+' ? e->msisdn + 1 : e->msisdn);
    const char *hm[] = {"HMGET", wkey, "lang", "blocked", "tier"};
    const char *sm[] = {"SISMEMBER", GW_BC_KEY_OPTIN, e->msisdn};
    j->lookups = 2;
    if (bc_cmd(b, 5, hm, on_lookup, j) < 0) {
        j->lookup_failed = true;
        j->lookups--;
    }
    if (bc_cmd(b, 3, sm, on_lookup, j) < 0) {
        j->lookup_failed = true;
        if (--j->lookups == 0)
            job_end(j, ENT_UNF);
    }
}

/* ---------------------------------------------------------------- the 1 s tick */

/* Sends per second over the last RATE_SPAN ticks, divided by the time they really spanned: a tick
 * that fires late on a busy machine must not turn into a rate above the link's TPS. */
static double sent_rate(const struct gw_broadcast *b)
{
    uint32_t span = b->ticks < RATE_SPAN ? b->ticks : RATE_SPAN;
    if (span == 0 || b->tick_ms[span] == 0)
        return 0;
    int64_t ms = b->tick_ms[0] - b->tick_ms[span];
    return ms > 0 ? (double)(b->sent_hist[0] - b->sent_hist[span]) * 1000.0 / (double)ms : 0;
}

static void on_progress(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    uint32_t gen = (uint32_t)(uintptr_t)ctx;

    if (gen != b->gen || err < 0 || r->type != REDIS_REPLY_ARRAY || r->elements < 7)
        return;
    const char *state = reply_str(r->element[1]);
    if (r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 0 && !b->abandon &&
        b->state == BC_SENDING) {
        b->st.lease_lost++;
        GW_LOGE(LOG_CAT, "campaign{%s}: lease lost; stopping here", b->id);
        b->abandon = true;
        kick(b);
    }
    if (strcmp(state, "cancelled") == 0 && !b->abandon) {
        GW_LOGN(LOG_CAT, "campaign{%s} cancelled by staff", b->id);
        b->abandon = true;
        kick(b);
    }
    if (b->cfg.progress_log_s && b->ticks % b->cfg.progress_log_s == 0)
        GW_LOGN(LOG_CAT,
                "campaign{%s} progress: %s/%s sent, %s failed, %s skipped, %s unknown, "
                "%.1f/s",
                b->id, reply_str(r->element[3]), reply_str(r->element[2]), reply_str(r->element[4]),
                reply_str(r->element[5]), reply_str(r->element[6]),
                sent_rate(b));
}

static void on_cancelled(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)b;
    (void)ctx;
    (void)err;
    (void)r;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_broadcast *b = arg;
    char cursor[24], rate[32], now[24], lease[16];

    (void)fd;
    (void)what;
    if (b->stopping || b->state == BC_IDLE)
        return;
    b->ticks++;
    memmove(b->sent_hist + 1, b->sent_hist, RATE_SPAN * sizeof(b->sent_hist[0]));
    memmove(b->tick_ms + 1, b->tick_ms, RATE_SPAN * sizeof(b->tick_ms[0]));
    b->sent_hist[0] = b->st.sent;
    b->tick_ms[0] = gw_clock_mono_ms();
    double r = sent_rate(b);
    snprintf(cursor, sizeof(cursor), "%" PRId64, b->state == BC_SENDING ? b->base_idx : 0);
    snprintf(rate, sizeof(rate), "%.1f", r);
    snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms());
    snprintf(lease, sizeof(lease), "%" PRIu32, b->cfg.lease_ms);
    const char *args[] = {"progress", b->token, cursor, rate, now, b->owner, lease};
    (void)bc_op(b, b->keys, 7, args, on_progress, (void *)(uintptr_t)b->gen);
    if (b->c_until > 0 && gw_clock_now_ms() / 1000 >= b->c_until && !b->abandon) {
        /* past its use (the opening came): cancelled, whatever is left is not sent */
        const char *cancel[] = {"cancel", b->token};
        GW_LOGN(LOG_CAT, "campaign{%s} reached its end at %" PRId64 " of %" PRId64 ": cancelled",
                b->id, b->base_idx, b->total);
        b->st.expired++;
        (void)bc_op(b, b->keys, 2, cancel, on_cancelled, NULL);
        b->abandon = true;
        kick(b);
    }
    if (b->paused)
        kick(b);
    if (b->pass_wait)
        restart_pass(b);
    struct timeval tv = {.tv_sec = 1};
    event_add(b->ev_tick, &tv);
}

/* ---------------------------------------------------------------- stop */

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct gw_broadcast *b = arg;

    (void)fd;
    (void)what;
    if (b->done) {
        void (*fn)(void *) = b->done;
        b->done = NULL;
        fn(b->done_arg);
    }
}

static void on_release(struct gw_broadcast *b, void *ctx, int err, const redisReply *r)
{
    (void)ctx;
    (void)err;
    (void)r;
    b->releasing = false;
    b->stopped = true;
    GW_LOGN(LOG_CAT, "runner stopped; lease released");
    event_active(b->ev_done, 0, 0);
}

static void maybe_stopped(struct gw_broadcast *b)
{
    if (!b->stopping || b->stopped || b->releasing || b->redis_pending || b->sms_pending ||
        b->in_flight)
        return;
    unload(b);
    gw_broadcast_keys("", b->keys);
    const char *args[] = {"release", b->token};
    b->releasing = true;
    if (bc_op(b, b->keys, 2, args, on_release, NULL) < 0)
        on_release(b, NULL, -ENOTCONN, NULL);
}

void gw_broadcast_stop(struct gw_broadcast *b, void (*done)(void *arg), void *arg)
{
    if (!b)
        return;
    b->done = done;
    b->done_arg = arg;
    if (b->stopped) {
        event_active(b->ev_done, 0, 0);
        return;
    }
    if (!b->stopping) {
        b->stopping = true;
        evtimer_del(b->ev_poll);
        if (b->in_flight > 0)
            GW_LOGN(LOG_CAT, "stopping: %u recipients in flight", b->in_flight);
    }
    kick(b);
    maybe_stopped(b);
}

bool gw_broadcast_is_stopped(const struct gw_broadcast *b)
{
    return !b || b->stopped;
}

void gw_broadcast_detach(struct gw_broadcast *b)
{
    if (!b)
        return;
    b->stopping = true;
    b->redis = NULL;
    evtimer_del(b->ev_poll);
    evtimer_del(b->ev_tick);
}

/* ---------------------------------------------------------------- life */

struct gw_broadcast *gw_broadcast_new(struct event_base *base, struct gw_redis *redis,
                                      struct gw_sms *sms, const struct gw_broadcast_config *cfg,
                                      gw_broadcast_next_open_fn next_open, void *next_open_arg)
{
    struct gw_broadcast *b;
    char host[48] = "";
    uint64_t rnd = 0;
    FILE *f;

    if (!base || !redis || !cfg)
        return NULL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->base = base;
    b->redis = redis;
    b->sms = sms;
    b->cfg = *cfg;
    if (b->cfg.max_in_flight == 0)
        b->cfg.max_in_flight = 1;
    if (b->cfg.poll_ms == 0)
        b->cfg.poll_ms = 1000;
    b->next_open = next_open;
    b->next_open_arg = next_open_arg;
    b->script = gw_redis_script_add(redis, gw_lua_broadcast, gw_lua_broadcast_len);
    b->ev_poll = evtimer_new(base, poll_cb, b);
    b->ev_tick = evtimer_new(base, tick_cb, b);
    b->ev_kick = event_new(base, -1, 0, kick_cb, b);
    b->ev_done = event_new(base, -1, 0, done_cb, b);
    if (b->script < 0 || !b->ev_poll || !b->ev_tick || !b->ev_kick || !b->ev_done) {
        gw_broadcast_free(b);
        return NULL;
    }
    /* The lease token must differ between processes and between runs of one process: the
     * host, the pid and random bits. */
    if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "loyaltygw");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            *p = '_';
    }
    f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&rnd, sizeof(rnd), 1, f) != 1)
            rnd = (uint64_t)gw_clock_now_ms();
        fclose(f);
    } else {
        rnd = (uint64_t)gw_clock_now_ms();
    }
    snprintf(b->owner, sizeof(b->owner), "%s:%ld", host, (long)getpid());
    snprintf(b->token, sizeof(b->token), "%s:%016" PRIx64, b->owner, rnd);
    gw_broadcast_keys("", b->keys);
    return b;
}

int gw_broadcast_start(struct gw_broadcast *b)
{
    if (!b)
        return -EINVAL;
    GW_LOGN(LOG_CAT, "runner %s: up to %" PRIu32 " reminders in flight, lease %" PRIu32 " ms%s",
            b->owner, b->cfg.max_in_flight, b->cfg.lease_ms,
            b->cfg.resend_unknown ? ", resends unknown outcomes" : "");
    arm_poll(b, b->cfg.poll_ms);
    return 0;
}

void gw_broadcast_get_stats(const struct gw_broadcast *b, struct gw_broadcast_stats *out)
{
    if (!b) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = b->st;
    out->in_flight = b->in_flight;
}

void gw_broadcast_stats_json(const struct gw_broadcast_stats *st, FILE *out)
{
    fputc('{', out);
#define GW_X_JSON(name, help) fprintf(out, "\"%s\":%llu,", #name, (unsigned long long)st->name);
    GW_BROADCAST_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fprintf(out, "\"in_flight\":%u,\"campaign\":\"%s\"}", st->in_flight, st->campaign);
}

void gw_broadcast_free(struct gw_broadcast *b)
{
    if (!b)
        return;
    if (b->ev_poll)
        event_free(b->ev_poll);
    if (b->ev_tick)
        event_free(b->ev_tick);
    if (b->ev_kick)
        event_free(b->ev_kick);
    if (b->ev_done)
        event_free(b->ev_done);
    json_decref(b->texts);
    free(b->ents);
    free(b);
}

void gw_broadcast_set_hooks(struct gw_broadcast *b, const struct gw_broadcast_hooks *hooks)
{
    if (b && hooks)
        b->hooks = *hooks;
}
