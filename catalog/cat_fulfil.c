/*
 * cat_fulfil.c - the fulfilment worker (see cat_fulfil.h for the contract and the Redis markers;
 * owned by the fulfilment engineer).
 *
 * One struct cat_fulfil_worker per process, on the loop. It holds:
 *   - the poll timer, which runs one stream request at a time: XGROUP CREATE until the group
 *     exists, then this consumer's own pending entries (XREADGROUP ... 0, after a restart), then
 *     every claim period XAUTOCLAIM, otherwise XREADGROUP ... > for new entries;
 *   - one struct job per entry held (at most max_held), in a list. A job is a small state machine
 *     (enum job_state, job_run() performs the state's one request). Each job has at most one
 *     request outstanding (busy) and its own timer for back-off; a job is freed only when nothing
 *     is outstanding: after its XACK answered, or in cat_fulfil_worker_free().
 *
 * Job states (every arrow is one request; a Redis or store failure stays in the state and runs it
 * again after a short back-off):
 *
 *   MARKER --(no marker, provisioning)--> WAIT --(slot)--> CALL --granted/409--> FINAL
 *     |  \--(T marker)--> WAIT (until next_ms)              |--permanent-----> FINAL
 *     |--(no marker, voucher/charity)--> FINAL              |--temporary-----> SCHED --> WAIT
 *     \--(F/R marker: decided before a crash)--> CHARITY | TRANSITION    (past the deadline: FINAL)
 *   FINAL (SET F|R marker) --> [CHARITY] --> TRANSITION (mark fulfilled | refund)
 *     --(DONE, with an SMS sender)--> LANG (HGET lang of each recipient; then the SMS)
 *     --> ACK (XACK) --> freed
 *   LANG never retries: a recipient whose language cannot be read gets the default language.
 *
 * Callbacks find their job through the pointer they were given: a job is never freed while a
 * request of its own is outstanding, and the worker outlives the clients (cat_fulfil.h's order:
 * stop, free the clients, then free the worker), so the pointer cannot dangle.
 */
#include "cat_fulfil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_redis.h"

#define LOG_CAT "fulfil"
#define MARKER_PREFIX "cat:fulfil:m:"
#define KEY_MAX (sizeof(MARKER_PREFIX) + CAT_RID_MAX)
#define ID_MAX 48 /* stream ids "1700000000000-123" */
#define MSISDN_MAX 21
#define STORE_RETRY_MIN_MS 200u
#define BATCH_MAX 256u
#define LANG_MAX 8         /* a language code as the USSD menu saves it: 2-3 letters + NUL */
#define SMS_TEXT_MAX 1024u /* bytes of one SMS text: 8 UCS-2 parts are ~536 characters */

enum job_state {
    J_MARKER = 0,
    J_WAIT,
    J_CALL,
    J_SCHED,
    J_FINAL,
    J_CHARITY,
    J_TRANSITION,
    J_LANG,
    J_ACK,
};
static const char *const job_state_names[] = {"MARKER",  "WAIT",       "CALL", "SCHED", "FINAL",
                                              "CHARITY", "TRANSITION", "LANG", "ACK"};

enum job_decision { D_NONE = 0, D_FULFIL, D_REFUND };

struct job {
    struct cat_fulfil_worker *w;
    struct job *prev, *next; /* held list */
    struct job *qnext;       /* waiting for a call slot */
    bool queued;
    bool busy; /* one request of this job is outstanding */
    struct event *timer;

    char id[ID_MAX];                     /* stream entry id */
    char tag[CAT_RID_MAX + GW_MASK_LEN]; /* the rid with its MSISDN masked, for logs */
    /* the entry (catalog.h: fields of CAT_FULFIL_STREAM) */
    char rid[CAT_RID_MAX];
    char msisdn[MSISDN_MAX], to[MSISDN_MAX];
    char item[CAT_ID_MAX], version[CAT_ID_MAX];
    char kind[16], unit[8];
    char code[CAT_VOUCHER_CODE_MAX + 1];
    char cause[CAT_NAME_MAX];
    enum cat_fulfil_type type;
    int64_t price, quantity;
    const char *malformed; /* why the entry cannot be fulfilled, or NULL */

    enum job_state state;
    enum job_decision decision;
    bool charity_done;
    unsigned attempts; /* provider calls that failed temporarily */
    int64_t first_ms;  /* wall clock of the first call (persisted in the T marker) */
    int64_t next_ms;
    unsigned store_tries; /* consecutive failures of the current state's request */
    char reference[CAT_REF_MAX];
    char reason[CAT_REASON_MAX];
    /* J_LANG: the recipients' saved languages ("" = the default), read one after the other */
    unsigned lang_step; /* 0: the subscriber's, 1: the beneficiary's, 2: done */
    char lang_sub[LANG_MAX], lang_to[LANG_MAX];
};

struct cat_fulfil_worker {
    struct event_base *base;
    struct cat_fulfil_config cfg;
    struct cat_fulfil_deps deps;
    struct event *tick;
    bool started, stopping;
    bool req_busy; /* the poll's one stream request is outstanding */
    bool group_ready, pel_done;
    char pel_cursor[ID_MAX];
    char claim_cursor[ID_MAX];
    int64_t next_claim_ms;
    uint64_t rng;
    struct job *jobs;
    struct job *q_head, *q_tail;
    struct cat_fulfil_stats st;
};

static void job_run(struct job *j);

/* ---------------------------------------------------------------- config and pure parts */

void cat_fulfil_config_defaults(struct cat_fulfil_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->stream, sizeof(cfg->stream), "%s", CAT_FULFIL_STREAM);
    snprintf(cfg->group, sizeof(cfg->group), "fulfil");
    snprintf(cfg->consumer, sizeof(cfg->consumer), "fulfil-1");
    cfg->retry_min_ms = 2000;
    cfg->retry_max_ms = 300000;
    cfg->retry_deadline_s = 21600;
    cfg->claim_idle_ms = 60000;
    cfg->max_in_flight = 32;
    cfg->max_held = 1024;
    cfg->poll_ms = 100;
    cfg->store_retry_max_ms = 10000;
    cfg->marker_ttl_s = 90u * 86400u;
    cfg->sms_lang = CAT_SMS_EN;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : UINT64_C(0x9e3779b97f4a7c15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

uint32_t cat_fulfil_backoff_ms(uint32_t min_ms, uint32_t max_ms, unsigned attempt, uint64_t *rng)
{
    uint64_t d = min_ms ? min_ms : 1;

    if (max_ms < d)
        max_ms = (uint32_t)d;
    for (unsigned i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    /* equal jitter: half fixed so a retry never comes at once, half random so workers that
     * failed together do not retry together */
    uint64_t half = d / 2;
    return (uint32_t)(d - half + (half ? xorshift(rng) % (half + 1) : 0));
}

int64_t cat_fulfil_next_attempt(const struct cat_fulfil_config *cfg, unsigned attempts,
                                int64_t first_ms, int64_t now_ms, uint64_t *rng)
{
    int64_t deadline = first_ms + (int64_t)cfg->retry_deadline_s * 1000;
    int64_t next;

    if (now_ms >= deadline)
        return -1;
    next = now_ms + cat_fulfil_backoff_ms(cfg->retry_min_ms, cfg->retry_max_ms, attempts, rng);
    return next > deadline ? deadline : next;
}

const char *cat_fulfil_sms_kind_name(enum cat_sms_kind kind)
{
    switch (kind) {
    case CAT_SMS_CONFIRM:
        return "confirm";
    case CAT_SMS_SENT_TO:
        return "gift_sent";
    case CAT_SMS_GIFT_FROM:
        return "gift_received";
    case CAT_SMS_VOUCHER:
        return "voucher";
    case CAT_SMS_CHARITY:
        return "charity";
    case CAT_SMS_APOLOGY:
        return "apology";
    }
    return "";
}

size_t cat_fulfil_sms_text(enum cat_sms_lang lang, enum cat_sms_kind kind, const char *name,
                           const char *other, int64_t points, char *out, size_t outlen)
{
    bool fr = lang == CAT_SMS_FR;
    int n = 0;

    if (!out || outlen == 0)
        return 0;
    name = name ? name : "";
    other = other ? other : "";
    switch (kind) {
    case CAT_SMS_CONFIRM:
        if (other[0])
            n = snprintf(out, outlen,
                         fr ? "Votre cadeau %s a été livré. Réf : %s"
                            : "Your gift %s has been delivered. Ref: %s",
                         name, other);
        else
            n = snprintf(out, outlen,
                         fr ? "Votre cadeau %s a été livré." : "Your gift %s has been delivered.",
                         name);
        break;
    case CAT_SMS_SENT_TO:
        n = snprintf(out, outlen,
                     fr ? "Votre cadeau %s a été livré au %s."
                        : "Your gift %s has been delivered to %s.",
                     name, other);
        break;
    case CAT_SMS_GIFT_FROM:
        n = snprintf(out, outlen,
                     fr ? "%s vous a offert un cadeau : %s. Profitez-en !"
                        : "%s sent you a gift: %s. Enjoy!",
                     other, name);
        break;
    case CAT_SMS_VOUCHER:
        n = snprintf(out, outlen, fr ? "Votre bon %s : code %s" : "Your %s voucher code: %s", name,
                     other);
        break;
    case CAT_SMS_CHARITY:
        n = snprintf(out, outlen,
                     fr ? "Merci ! Vos %" PRId64 " points ont été donnés à %s."
                        : "Thank you! Your %" PRId64 " points were donated to %s.",
                     points, other);
        break;
    case CAT_SMS_APOLOGY:
        n = snprintf(
            out, outlen,
            fr ? "Désolé, nous n'avons pas pu livrer %s. Vos %" PRId64 " points ont été remboursés."
               : "Sorry, we could not deliver %s. Your %" PRId64 " points have been refunded.",
            name, points);
        break;
    }
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    if ((size_t)n >= outlen) {
        /* never cut a UTF-8 sequence in half */
        size_t len = outlen - 1;
        while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80)
            len--;
        out[len] = '\0';
        return len;
    }
    return (size_t)n;
}

/* ---------------------------------------------------------------- small helpers */

static int64_t now_ms(void)
{
    return gw_clock_now_ms();
}

static bool is_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);

    if (n < min || n > max)
        return false;
    return strspn(s, "0123456789") == n;
}

static bool is_word(const char *s)
{
    size_t n = strlen(s);

    return n > 0 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:._-") == n;
}

static bool reply_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str;
}

/* Copies a reply string into dst; false when it does not fit or holds a NUL. */
static bool copy_str(char *dst, size_t cap, const redisReply *r)
{
    if (!reply_str(r) || r->len >= cap || memchr(r->str, '\0', r->len))
        return false;
    memcpy(dst, r->str, r->len);
    dst[r->len] = '\0';
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!*s)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static void marker_key(const struct job *j, char *key, size_t cap)
{
    snprintf(key, cap, "%s%s", MARKER_PREFIX, j->rid);
}

static void jlog(const struct job *j, enum gw_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void jlog(const struct job *j, enum gw_log_level lvl, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (lvl == GW_LOG_DEBUG && gw_log_get_level() > GW_LOG_DEBUG)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_log(lvl, LOG_CAT, "fulfil{%s}[%s] %s", j->tag, job_state_names[j->state], msg);
}

/* ---------------------------------------------------------------- jobs */

static struct job *job_find(struct cat_fulfil_worker *w, const char *id)
{
    for (struct job *j = w->jobs; j; j = j->next) {
        if (strcmp(j->id, id) == 0)
            return j;
    }
    return NULL;
}

static void on_job_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    job_run(arg);
}

static struct job *job_new(struct cat_fulfil_worker *w, const char *id)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->w = w;
    j->timer = evtimer_new(w->base, on_job_timer, j);
    if (!j->timer) {
        free(j);
        return NULL;
    }
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->tag, sizeof(j->tag), "%s", id);
    j->next = w->jobs;
    if (w->jobs)
        w->jobs->prev = j;
    w->jobs = j;
    w->st.held++;
    return j;
}

static void queue_remove(struct cat_fulfil_worker *w, struct job *j)
{
    struct job **pp = &w->q_head, *prev = NULL;

    if (!j->queued)
        return;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp) {
        *pp = j->qnext;
        if (w->q_tail == j)
            w->q_tail = prev;
    }
    j->qnext = NULL;
    j->queued = false;
}

static void job_free(struct job *j)
{
    struct cat_fulfil_worker *w = j->w;

    queue_remove(w, j);
    if (j->prev)
        j->prev->next = j->next;
    else
        w->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    event_free(j->timer);
    w->st.held--;
    free(j);
}

static void job_set(struct job *j, enum job_state s)
{
    if (j->state != s)
        jlog(j, GW_LOG_DEBUG, "-> %s", job_state_names[s]);
    j->state = s;
    j->store_tries = 0;
}

static void job_later(struct job *j, int64_t delay_ms)
{
    struct timeval tv;

    if (delay_ms < 0)
        delay_ms = 0;
    tv.tv_sec = (time_t)(delay_ms / 1000);
    tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
    evtimer_add(j->timer, &tv);
}

/* The current state's request failed (Redis down, deadline, store error): run it again later. */
static void job_retry(struct job *j, const char *what, int err)
{
    uint32_t d;

    j->store_tries++;
    d = cat_fulfil_backoff_ms(STORE_RETRY_MIN_MS, j->w->cfg.store_retry_max_ms, j->store_tries,
                              &j->w->rng);
    jlog(j, j->store_tries == 1 ? GW_LOG_NOTICE : GW_LOG_DEBUG, "%s failed (%s): again in %u ms",
         what, err < 0 ? strerror(-err) : "error reply", d);
    job_later(j, d);
}

/* Parses one stream entry's field/value array into j. Problems set j->malformed (the entry is
 * then refunded if it has a usable rid, else only acknowledged). */
static void job_parse(struct job *j, const redisReply *fields)
{
    char type[16] = "", buf[32];
    bool have_price = false, have_qty = false;

    j->malformed = NULL;
    if (!fields || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2) {
        j->malformed = "entry has no field list";
        return;
    }
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        bool ok = true;

        if (!reply_str(k) || !reply_str(v))
            continue;
#define IS(name) (k->len == sizeof(name) - 1 && memcmp(k->str, name, k->len) == 0)
        if (IS("rid"))
            ok = copy_str(j->rid, sizeof(j->rid), v) && is_word(j->rid);
        else if (IS("msisdn"))
            ok = copy_str(j->msisdn, sizeof(j->msisdn), v) && is_digits(j->msisdn, 5, 20);
        else if (IS("to"))
            ok = copy_str(j->to, sizeof(j->to), v) && (!j->to[0] || is_digits(j->to, 5, 20));
        else if (IS("item"))
            ok = copy_str(j->item, sizeof(j->item), v) && is_word(j->item);
        else if (IS("version"))
            ok = copy_str(j->version, sizeof(j->version), v);
        else if (IS("type"))
            ok = copy_str(type, sizeof(type), v);
        else if (IS("kind"))
            ok = copy_str(j->kind, sizeof(j->kind), v);
        else if (IS("unit"))
            ok = copy_str(j->unit, sizeof(j->unit), v);
        else if (IS("code"))
            ok = copy_str(j->code, sizeof(j->code), v);
        else if (IS("cause"))
            ok = copy_str(j->cause, sizeof(j->cause), v);
        else if (IS("price"))
            ok = have_price =
                copy_str(buf, sizeof(buf), v) && parse_i64(buf, &j->price) && j->price >= 0;
        else if (IS("quantity"))
            ok = have_qty = copy_str(buf, sizeof(buf), v) && parse_i64(buf, &j->quantity);
#undef IS
        if (!ok && !j->malformed)
            j->malformed = "a field is too long or malformed";
    }
    if (j->rid[0]) {
        char mask[GW_MASK_LEN];
        const char *rest = strchr(j->rid, ':');

        /* rids start with the MSISDN (catalog.h): never log it whole */
        snprintf(j->tag, sizeof(j->tag), "%s%s", gw_mask_msisdn(j->msisdn, mask), rest ? rest : "");
    }
    if (j->malformed)
        return;
    if (!j->rid[0] || !j->msisdn[0] || !j->item[0])
        j->malformed = "rid, msisdn or item missing";
    else if (strcmp(type, "provisioning") == 0) {
        j->type = CAT_FULFIL_PROVISIONING;
        if (!is_word(j->kind) || !is_word(j->unit) || !have_qty || j->quantity <= 0)
            j->malformed = "provisioning entry without kind, unit or quantity";
    } else if (strcmp(type, "voucher") == 0) {
        j->type = CAT_FULFIL_VOUCHER;
        if (!j->code[0])
            j->malformed = "voucher entry without a code";
    } else if (strcmp(type, "charity") == 0) {
        j->type = CAT_FULFIL_CHARITY;
        if (!is_word(j->cause) || !have_price)
            j->malformed = "charity entry without cause or price";
    } else
        j->malformed = "unknown fulfilment type";
    if (!j->malformed && !have_price)
        j->price = 0; /* only the SMS texts use it outside charity */
}

/* ---------------------------------------------------------------- SMS */

/* The catalogue version the redemption was shown (its names), else the current one; a reference
 * the caller drops with cat_catalog_unref(). NULL without a catalogue. */
static struct cat_catalog *job_catalog(const struct job *j)
{
    struct cat_store *s = j->w->deps.catalog;
    struct cat_catalog *c = NULL;

    if (!s)
        return NULL;
    if (j->version[0])
        c = cat_store_find_version(s, j->version);
    return c ? c : cat_store_current(s);
}

/* The built-in text (English or French): the recipient's language when it is one of the two,
 * else the configured one. */
static size_t builtin_text(const struct cat_fulfil_worker *w, const char *lang,
                           const struct cat_sms_fields *f, char *out, size_t cap)
{
    enum cat_sms_lang bl = strcmp(lang, "fr") == 0   ? CAT_SMS_FR
                           : strcmp(lang, "en") == 0 ? CAT_SMS_EN
                                                     : w->cfg.sms_lang;
    const char *name = f->name[bl == CAT_SMS_FR ? CAT_LANG_FR : CAT_LANG_EN];
    const char *other = "";

    switch (f->kind) {
    case CAT_SMS_CONFIRM:
        other = f->reference;
        break;
    case CAT_SMS_SENT_TO:
        other = f->beneficiary;
        break;
    case CAT_SMS_GIFT_FROM:
        other = f->sender;
        break;
    case CAT_SMS_VOUCHER:
        other = f->code;
        break;
    case CAT_SMS_CHARITY:
        other = f->cause;
        break;
    case CAT_SMS_APOLOGY:
        break;
    }
    return cat_fulfil_sms_text(bl, f->kind, name, other, f->points, out, cap);
}

/* One SMS to `to`, whose saved language is lang ("" for the default). c: the catalogue for the
 * item's names, or NULL. */
static void sms(struct job *j, struct cat_catalog *c, const char *to, const char *lang,
                enum cat_sms_kind kind)
{
    struct cat_fulfil_worker *w = j->w;
    const struct cat_item *it = c ? cat_catalog_find(c, j->item) : NULL;
    struct cat_sms_fields f = {
        .kind = kind,
        .item = j->item,
        .reference = kind == CAT_SMS_CONFIRM ? j->reference : "",
        .beneficiary = kind == CAT_SMS_SENT_TO ? j->to : "",
        .sender = kind == CAT_SMS_GIFT_FROM ? j->msisdn : "",
        .code = kind == CAT_SMS_VOUCHER ? j->code : "",
        .cause = kind == CAT_SMS_CHARITY ? j->cause : "",
        .points = j->price,
    };
    char text[SMS_TEXT_MAX];
    char mask[GW_MASK_LEN];
    int n = -ENOENT;

    if (!w->deps.send_sms || !to || !to[0])
        return;
    for (int l = 0; l < CAT_LANG__COUNT; l++)
        f.name[l] = it && it->name[l] && it->name[l][0] ? it->name[l] : j->item;
    if (w->deps.sms_text)
        n = w->deps.sms_text(w->deps.sms_text_arg, lang, &f, text, sizeof(text));
    if (n <= 0) {
        if (w->deps.sms_text)
            jlog(j, GW_LOG_DEBUG, "no %s text for lang \"%s\" (%d): built-in text",
                 cat_fulfil_sms_kind_name(kind), lang, n);
        builtin_text(w, lang, &f, text, sizeof(text));
    }
    if (w->deps.send_sms(w->deps.sms_arg, to, text) == 0) {
        w->st.sms_sent++;
        jlog(j, GW_LOG_DEBUG, "%s SMS to %s (lang \"%s\")", cat_fulfil_sms_kind_name(kind),
             gw_mask_msisdn(to, mask), lang);
    } else {
        w->st.sms_failed++;
        jlog(j, GW_LOG_ERROR, "SMS to %s not accepted", gw_mask_msisdn(to, mask));
    }
}

/* A gift to someone else: the beneficiary gets SMS of their own. */
static bool job_is_gift(const struct job *j)
{
    return j->to[0] && strcmp(j->to, j->msisdn) != 0 && j->decision == D_FULFIL &&
           j->type != CAT_FULFIL_CHARITY;
}

/* The transition was applied by this call: tell the people concerned, each in their language. */
static void send_outcome_sms(struct job *j)
{
    struct cat_catalog *c = job_catalog(j);
    bool gift = job_is_gift(j);

    if (j->decision == D_REFUND) {
        sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_APOLOGY);
        goto out;
    }
    switch (j->type) {
    case CAT_FULFIL_PROVISIONING:
        if (gift) {
            sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_SENT_TO);
            sms(j, c, j->to, j->lang_to, CAT_SMS_GIFT_FROM);
        } else
            sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_CONFIRM);
        break;
    case CAT_FULFIL_VOUCHER:
        if (gift) {
            sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_SENT_TO);
            sms(j, c, j->to, j->lang_to, CAT_SMS_GIFT_FROM);
            sms(j, c, j->to, j->lang_to, CAT_SMS_VOUCHER);
        } else
            sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_VOUCHER);
        break;
    case CAT_FULFIL_CHARITY:
        sms(j, c, j->msisdn, j->lang_sub, CAT_SMS_CHARITY);
        break;
    }
out:
    if (c)
        cat_catalog_unref(c);
}

/* A saved language from the wallet (untrusted): 2-3 lowercase letters, else "" (the default). */
static void parse_lang(const redisReply *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r || r->type != REDIS_REPLY_STRING || r->len < 2 || r->len > 3 || r->len >= cap)
        return;
    for (size_t i = 0; i < r->len; i++)
        if (r->str[i] < 'a' || r->str[i] > 'z')
            return;
    memcpy(out, r->str, r->len);
    out[r->len] = '\0';
}

static void on_lang(void *arg, int err, const redisReply *reply)
{
    struct job *j = arg;
    char *dst = j->lang_step == 0 ? j->lang_sub : j->lang_to;

    j->busy = false;
    if (j->w->stopping)
        return;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        j->w->st.lang_fallbacks++;
        jlog(j, GW_LOG_NOTICE, "language of the %s not read (%s): default language",
             j->lang_step == 0 ? "subscriber" : "beneficiary",
             err < 0 ? strerror(-err) : "error reply");
        dst[0] = '\0';
    } else
        parse_lang(reply, dst, LANG_MAX);
    j->lang_step++;
    job_run(j);
}

/* J_LANG: reads the next recipient's language, or sends the SMS when all are known. */
static void job_lang(struct job *j)
{
    const char *who = NULL;
    char key[MSISDN_MAX + 8];
    const char *argv[3] = {"HGET", key, "lang"};
    size_t argvlen[3];
    int rc;

    if (j->lang_step == 0)
        who = j->msisdn;
    else if (j->lang_step == 1 && job_is_gift(j))
        who = j->to;
    if (!who) {
        send_outcome_sms(j);
        job_set(j, J_ACK);
        job_run(j);
        return;
    }
    /* the wallet key of gateway/gw_ledger.h (the hash tag keeps it on the subscriber's slot) */
    snprintf(key, sizeof(key), "lg:{%s}:w", who);
    for (int i = 0; i < 3; i++)
        argvlen[i] = strlen(argv[i]);
    rc = gw_redis_command(j->w->deps.redis, 3, argv, argvlen, on_lang, j);
    if (rc < 0) {
        /* not connected, queue full: the default language rather than a delay for an SMS */
        j->w->st.lang_fallbacks++;
        (j->lang_step == 0 ? j->lang_sub : j->lang_to)[0] = '\0';
        j->lang_step++;
        job_run(j);
        return;
    }
    j->busy = true;
}

/* ---------------------------------------------------------------- job steps */

static void decide(struct job *j, enum job_decision d, const char *reference, const char *reason)
{
    j->decision = d;
    snprintf(j->reference, sizeof(j->reference), "%s", reference ? reference : "");
    snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
    job_set(j, J_FINAL);
    job_run(j);
}

static void on_ack(void *arg, int err, const redisReply *reply)
{
    struct job *j = arg;
    struct cat_fulfil_worker *w = j->w;

    j->busy = false;
    if (w->stopping)
        return;
    if (err < 0) {
        w->st.redis_errors++;
        job_retry(j, "XACK", err);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR)
        jlog(j, GW_LOG_ERROR, "XACK refused: %.200s", reply->str);
    else
        w->st.acked++;
    job_free(j);
}

static void after_transition(struct job *j, enum cat_transition t)
{
    struct cat_fulfil_worker *w = j->w;
    bool fulfil = j->decision == D_FULFIL;

    switch (t) {
    case CAT_TR_DONE:
        jlog(j, GW_LOG_INFO, "%s%s%s",
             fulfil ? "fulfilled" : "refunded: ", fulfil && j->reference[0] ? " ref " : "",
             fulfil ? j->reference : j->reason);
        if (fulfil)
            w->st.granted++;
        else
            w->st.refunded++;
        if (w->deps.send_sms) {
            /* the SMS wait for the recipients' languages (J_LANG), then the entry is acked */
            j->lang_step = 0;
            job_set(j, J_LANG);
            job_run(j);
            return;
        }
        break;
    case CAT_TR_ALREADY:
        jlog(j, GW_LOG_INFO, "already %s (a repeat): no SMS", fulfil ? "fulfilled" : "refunded");
        if (fulfil)
            w->st.already++;
        break;
    case CAT_TR_CONFLICT:
        /* the store refuses: fulfilled cannot be refunded nor the reverse. Only a decision
         * taken twice differently could lead here, which the marker prevents: alert staff. */
        w->st.conflicts++;
        jlog(j, GW_LOG_ERROR, "ALERT store refused %s: the redemption is already %s",
             fulfil ? "fulfilment" : "the refund", fulfil ? "refunded" : "fulfilled");
        break;
    case CAT_TR_UNKNOWN:
        w->st.unknown++;
        jlog(j, GW_LOG_ERROR, "no paid redemption %s in the store: acknowledged without effect",
             fulfil ? "to fulfil" : "to refund");
        break;
    }
    job_set(j, J_ACK);
    job_run(j);
}

static void on_transition(void *arg, int err, enum cat_transition t)
{
    struct job *j = arg;

    j->busy = false;
    if (j->w->stopping)
        return;
    if (err < 0) {
        j->w->st.store_errors++;
        job_retry(j, j->decision == D_FULFIL ? "mark fulfilled" : "refund", err);
        return;
    }
    after_transition(j, t);
}

static void on_charity(void *arg, int err, enum cat_transition t)
{
    struct job *j = arg;

    j->busy = false;
    if (j->w->stopping)
        return;
    if (err < 0) {
        j->w->st.store_errors++;
        job_retry(j, "charity total", err);
        return;
    }
    if (t == CAT_TR_DONE)
        j->w->st.charity++;
    if (t == CAT_TR_CONFLICT || t == CAT_TR_UNKNOWN)
        jlog(j, GW_LOG_ERROR, "charity total refused (%s)",
             t == CAT_TR_CONFLICT ? "conflict" : "unknown redemption");
    j->charity_done = true;
    job_set(j, J_TRANSITION);
    job_run(j);
}

static void on_final_marker(void *arg, int err, const redisReply *reply)
{
    struct job *j = arg;

    j->busy = false;
    if (j->w->stopping)
        return;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        j->w->st.redis_errors++;
        job_retry(j, "decision marker", err);
        return;
    }
    job_set(j, j->decision == D_FULFIL && j->type == CAT_FULFIL_CHARITY && !j->charity_done
                   ? J_CHARITY
                   : J_TRANSITION);
    job_run(j);
}

static void on_sched_marker(void *arg, int err, const redisReply *reply)
{
    struct job *j = arg;

    j->busy = false;
    if (j->w->stopping)
        return;
    /* The schedule in Redis only lets a restarted worker keep it: if it cannot be written, the
     * back-off still holds in memory. */
    if (err < 0 || reply->type == REDIS_REPLY_ERROR)
        j->w->st.redis_errors++;
    job_set(j, J_WAIT);
    job_run(j);
}

static void pump(struct cat_fulfil_worker *w);

static void on_grant(void *arg, const struct cat_prov_result *res)
{
    struct job *j = arg;
    struct cat_fulfil_worker *w = j->w;
    int64_t now = now_ms(), next;

    j->busy = false;
    w->st.in_flight--;
    if (w->stopping)
        return;
    switch (res->outcome) {
    case CAT_PROV_GRANTED:
    case CAT_PROV_ALREADY:
        if (res->outcome == CAT_PROV_ALREADY)
            jlog(j, GW_LOG_INFO, "provider: already granted (409)");
        decide(j, D_FULFIL, res->reference, NULL);
        break;
    case CAT_PROV_PERMANENT:
        w->st.permanent++;
        jlog(j, GW_LOG_NOTICE, "provider refused: %s", res->reason);
        decide(j, D_REFUND, NULL, res->reason);
        break;
    case CAT_PROV_TEMPORARY:
        w->st.temporary++;
        j->attempts++;
        next = cat_fulfil_next_attempt(&w->cfg, j->attempts, j->first_ms, now, &w->rng);
        if (next < 0) {
            char why[CAT_REASON_MAX];

            w->st.gave_up++;
            snprintf(why, sizeof(why), "gave up after %u attempts: %.80s", j->attempts,
                     res->reason);
            jlog(j, GW_LOG_NOTICE, "%s", why);
            decide(j, D_REFUND, NULL, why);
            break;
        }
        j->next_ms = next;
        jlog(j, GW_LOG_INFO, "temporary failure %u (%s): next attempt in %" PRId64 " ms",
             j->attempts, res->reason, next - now);
        job_set(j, J_SCHED);
        job_run(j);
        break;
    }
    pump(w);
}

static void start_call(struct job *j)
{
    struct cat_fulfil_worker *w = j->w;
    struct cat_prov_grant g = {
        .redemption_id = j->rid,
        .msisdn = j->msisdn,
        .beneficiary = j->to,
        .item = j->item,
        .kind = j->kind,
        .quantity = j->quantity,
        .unit = j->unit,
    };
    int rc;

    job_set(j, J_CALL);
    if (j->first_ms == 0)
        j->first_ms = now_ms();
    rc = w->deps.prov->grant(w->deps.prov_impl, &g, on_grant, j);
    if (rc == -EINVAL) {
        /* the adapter cannot express this grant: it never will */
        decide(j, D_REFUND, NULL, "the provisioning adapter refused the request");
        return;
    }
    if (rc < 0) {
        /* no slot in the HTTP client, no memory: a local, temporary condition */
        job_set(j, J_WAIT);
        job_retry(j, "provisioning call", rc);
        return;
    }
    j->busy = true;
    w->st.in_flight++;
}

/* Starts calls for waiting jobs while slots are free. */
static void pump(struct cat_fulfil_worker *w)
{
    while (!w->stopping && w->q_head && w->st.in_flight < w->cfg.max_in_flight) {
        struct job *j = w->q_head;

        w->q_head = j->qnext;
        if (!w->q_head)
            w->q_tail = NULL;
        j->qnext = NULL;
        j->queued = false;
        start_call(j);
    }
}

/* Parses a marker "F <ref>", "R <reason>" or "T <attempts> <first_ms> <next_ms>". */
static void on_marker(void *arg, int err, const redisReply *reply)
{
    struct job *j = arg;
    char val[CAT_REASON_MAX + 8];

    j->busy = false;
    if (j->w->stopping)
        return;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        j->w->st.redis_errors++;
        job_retry(j, "marker read", err);
        return;
    }
    if (reply->type == REDIS_REPLY_NIL || !copy_str(val, sizeof(val), reply) || strlen(val) < 1) {
        /* nothing decided yet */
        if (j->type == CAT_FULFIL_PROVISIONING) {
            job_set(j, J_WAIT);
            job_run(j);
        } else {
            if (j->type == CAT_FULFIL_VOUCHER)
                j->w->st.voucher++;
            decide(j, D_FULFIL, NULL, NULL);
        }
        return;
    }
    if (val[0] == 'F' || val[0] == 'R') {
        const char *rest = val[1] == ' ' ? val + 2 : "";

        jlog(j, GW_LOG_NOTICE, "resuming a decision taken before: %s",
             val[0] == 'F' ? "fulfil" : "refund");
        j->decision = val[0] == 'F' ? D_FULFIL : D_REFUND;
        /* the marker is ours, but a value cut to the field is still a valid one */
        if (j->decision == D_FULFIL)
            snprintf(j->reference, sizeof(j->reference), "%.*s", (int)sizeof(j->reference) - 1,
                     rest);
        else
            snprintf(j->reason, sizeof(j->reason), "%.*s", (int)sizeof(j->reason) - 1, rest);
        job_set(j, j->decision == D_FULFIL && j->type == CAT_FULFIL_CHARITY ? J_CHARITY
                                                                            : J_TRANSITION);
        job_run(j);
        return;
    }
    if (val[0] == 'T') {
        unsigned a;
        long long first, next;

        if (sscanf(val, "T %u %lld %lld", &a, &first, &next) == 3 && first > 0) {
            j->attempts = a;
            j->first_ms = first;
            j->next_ms = next;
            jlog(j, GW_LOG_INFO, "resuming the retry schedule: attempt %u at %lld", a + 1, next);
        }
    }
    job_set(j, J_WAIT);
    job_run(j);
}

static int redis_set_marker(struct job *j, const char *value, gw_redis_cb cb)
{
    struct cat_fulfil_worker *w = j->w;
    char key[KEY_MAX], ttl[24];
    const char *argv[5];
    size_t argvlen[5];

    marker_key(j, key, sizeof(key));
    snprintf(ttl, sizeof(ttl), "%" PRIu32, w->cfg.marker_ttl_s);
    argv[0] = "SET";
    argv[1] = key;
    argv[2] = value;
    argv[3] = "EX";
    argv[4] = ttl;
    for (int i = 0; i < 5; i++)
        argvlen[i] = strlen(argv[i]);
    return gw_redis_command(w->deps.redis, 5, argv, argvlen, cb, j);
}

/* Performs the current state's one request. */
static void job_run(struct job *j)
{
    struct cat_fulfil_worker *w = j->w;
    int64_t now = now_ms();
    char val[CAT_REASON_MAX + 8];
    int rc = 0;

    if (w->stopping || j->busy)
        return;
    evtimer_del(j->timer);
    switch (j->state) {
    case J_MARKER: {
        char key[KEY_MAX];
        const char *argv[2] = {"GET", key};
        size_t argvlen[2];

        if (j->malformed) {
            w->st.malformed++;
            jlog(j, GW_LOG_ERROR, "malformed entry: %s", j->malformed);
            if (!j->rid[0] || !is_word(j->rid)) {
                /* nothing to refund without a rid: acknowledge, the log names the entry id */
                job_set(j, J_ACK);
                job_run(j);
                return;
            }
            decide(j, D_REFUND, NULL, j->malformed);
            return;
        }
        marker_key(j, key, sizeof(key));
        argvlen[0] = 3;
        argvlen[1] = strlen(key);
        rc = gw_redis_command(w->deps.redis, 2, argv, argvlen, on_marker, j);
        break;
    }
    case J_WAIT:
        if (j->next_ms > now) {
            job_later(j, j->next_ms - now);
            return;
        }
        if (!j->queued) {
            j->queued = true;
            if (w->q_tail)
                w->q_tail->qnext = j;
            else
                w->q_head = j;
            w->q_tail = j;
        }
        pump(w);
        return;
    case J_CALL:
        return; /* only pump() starts calls */
    case J_SCHED:
        snprintf(val, sizeof(val), "T %u %" PRId64 " %" PRId64, j->attempts, j->first_ms,
                 j->next_ms);
        rc = redis_set_marker(j, val, on_sched_marker);
        break;
    case J_FINAL:
        if (j->decision == D_FULFIL)
            snprintf(val, sizeof(val), "F %s", j->reference);
        else
            snprintf(val, sizeof(val), "R %s", j->reason);
        rc = redis_set_marker(j, val, on_final_marker);
        break;
    case J_CHARITY:
        if (!w->deps.store->charity_add) {
            job_set(j, J_TRANSITION);
            job_run(j);
            return;
        }
        rc = w->deps.store->charity_add(w->deps.store_ctx, j->rid, j->cause, j->price, now / 1000,
                                        on_charity, j);
        break;
    case J_TRANSITION:
        if (j->decision == D_FULFIL)
            rc = w->deps.store->mark_fulfilled(w->deps.store_ctx, j->rid,
                                               j->reference[0] ? j->reference : NULL, now / 1000,
                                               on_transition, j);
        else
            rc = w->deps.store->refund(w->deps.store_ctx, j->rid, j->reason, now / 1000,
                                       on_transition, j);
        break;
    case J_LANG:
        job_lang(j);
        return;
    case J_ACK: {
        const char *argv[4] = {"XACK", w->cfg.stream, w->cfg.group, j->id};
        size_t argvlen[4];

        for (int i = 0; i < 4; i++)
            argvlen[i] = strlen(argv[i]);
        rc = gw_redis_command(w->deps.redis, 4, argv, argvlen, on_ack, j);
        break;
    }
    }
    if (rc < 0) {
        if (j->state == J_CHARITY || j->state == J_TRANSITION)
            w->st.store_errors++;
        else
            w->st.redis_errors++;
        job_retry(j, job_state_names[j->state], rc);
        return;
    }
    j->busy = true;
}

/* ---------------------------------------------------------------- the stream */

static void poll_now(struct cat_fulfil_worker *w);

static void on_deleted_ack(void *arg, int err, const redisReply *reply)
{
    (void)arg;
    (void)err;
    (void)reply;
}

/* Takes the entries of an XREADGROUP/XAUTOCLAIM entry list. Returns how many were listed. */
static size_t take_entries(struct cat_fulfil_worker *w, const redisReply *list, bool claimed)
{
    if (!list || list->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *e = list->element[i];
        char id[ID_MAX];
        struct job *j;

        if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            !copy_str(id, sizeof(id), e->element[0]))
            continue;
        if (!w->pel_done)
            snprintf(w->pel_cursor, sizeof(w->pel_cursor), "%s", id);
        if (job_find(w, id))
            continue; /* ours already (a claim of our own idle entry): keep the one we have */
        if (e->element[1]->type == REDIS_REPLY_NIL) {
            /* trimmed from the stream while pending: nothing left to fulfil from */
            const char *argv[4] = {"XACK", w->cfg.stream, w->cfg.group, id};
            size_t argvlen[4];

            for (int k = 0; k < 4; k++)
                argvlen[k] = strlen(argv[k]);
            gw_log(GW_LOG_ERROR, LOG_CAT, "entry %s was deleted while pending: acknowledged", id);
            (void)gw_redis_command(w->deps.redis, 4, argv, argvlen, on_deleted_ack, w);
            continue;
        }
        j = job_new(w, id);
        if (!j) {
            gw_log(GW_LOG_ERROR, LOG_CAT, "out of memory: entry %s stays pending", id);
            break;
        }
        if (claimed)
            w->st.claimed++;
        else
            w->st.read++;
        job_parse(j, e->element[1]);
        jlog(j, GW_LOG_DEBUG, "taken (%s)", claimed ? "claimed" : "read");
        job_run(j);
    }
    return list->elements;
}

static void on_read(void *arg, int err, const redisReply *reply)
{
    struct cat_fulfil_worker *w = arg;
    size_t n = 0;
    bool own = !w->pel_done;

    w->req_busy = false;
    if (w->stopping)
        return;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        w->st.redis_errors++;
        if (err == 0 && reply->str && strncmp(reply->str, "NOGROUP", 7) == 0)
            w->group_ready = false; /* the stream or group was deleted: create it again */
        return;
    }
    /* [[stream, [[id, [f, v, ...]], ...]]] or nil */
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        n = take_entries(w, reply->element[0]->element[1], false);
    if (own && n == 0) {
        w->pel_done = true;
        gw_log(GW_LOG_INFO, LOG_CAT, "own pending entries resumed; reading new ones");
    }
    if (n > 0)
        poll_now(w); /* there may be more right away */
}

static void on_claim(void *arg, int err, const redisReply *reply)
{
    struct cat_fulfil_worker *w = arg;
    size_t n;

    w->req_busy = false;
    if (w->stopping)
        return;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements < 2) {
        w->st.redis_errors++;
        w->next_claim_ms = now_ms() + w->cfg.poll_ms;
        return;
    }
    /* [next cursor, [[id, fields]...], [deleted ids]] (Redis 7) */
    if (!copy_str(w->claim_cursor, sizeof(w->claim_cursor), reply->element[0]))
        snprintf(w->claim_cursor, sizeof(w->claim_cursor), "0-0");
    n = take_entries(w, reply->element[1], true);
    if (n)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "claimed %zu entries idle for over %" PRIu32 " ms", n,
               w->cfg.claim_idle_ms);
    if (strcmp(w->claim_cursor, "0-0") == 0)
        w->next_claim_ms = now_ms() + w->cfg.claim_idle_ms / 2;
}

static void on_group(void *arg, int err, const redisReply *reply)
{
    struct cat_fulfil_worker *w = arg;

    w->req_busy = false;
    if (w->stopping)
        return;
    if (err < 0) {
        w->st.redis_errors++;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR && (!reply->str || strncmp(reply->str, "BUSYGROUP", 9))) {
        gw_log(GW_LOG_ERROR, LOG_CAT, "XGROUP CREATE %s %s: %.200s", w->cfg.stream, w->cfg.group,
               reply->str ? reply->str : "");
        return;
    }
    w->group_ready = true;
    gw_log(GW_LOG_NOTICE, LOG_CAT, "consumer %s of group %s on %s: resuming pending entries",
           w->cfg.consumer, w->cfg.group, w->cfg.stream);
    poll_now(w);
}

static int send_cmd(struct cat_fulfil_worker *w, int argc, const char **argv, gw_redis_cb cb)
{
    size_t argvlen[16];

    for (int i = 0; i < argc; i++)
        argvlen[i] = strlen(argv[i]);
    return gw_redis_command(w->deps.redis, argc, argv, argvlen, cb, w);
}

static void poll_once(struct cat_fulfil_worker *w)
{
    char count[16], idle[16];
    uint32_t room;
    int rc;

    if (w->stopping || w->req_busy)
        return;
    if (!w->group_ready) {
        /* "0": entries queued before the group existed are fulfilment work too */
        const char *argv[] = {"XGROUP", "CREATE", w->cfg.stream, w->cfg.group, "0", "MKSTREAM"};
        rc = send_cmd(w, 6, argv, on_group);
        goto sent;
    }
    if (w->st.held >= w->cfg.max_held)
        return;
    room = w->cfg.max_held - w->st.held;
    if (room > BATCH_MAX)
        room = BATCH_MAX;
    snprintf(count, sizeof(count), "%" PRIu32, room);
    if (!w->pel_done) {
        const char *argv[] = {"XREADGROUP", "GROUP",   w->cfg.group,  w->cfg.consumer, "COUNT",
                              count,        "STREAMS", w->cfg.stream, w->pel_cursor};
        rc = send_cmd(w, 9, argv, on_read);
        goto sent;
    }
    if (now_ms() >= w->next_claim_ms) {
        const char *argv[] = {"XAUTOCLAIM", w->cfg.stream,   w->cfg.group, w->cfg.consumer,
                              idle,         w->claim_cursor, "COUNT",      count};
        snprintf(idle, sizeof(idle), "%" PRIu32, w->cfg.claim_idle_ms);
        rc = send_cmd(w, 8, argv, on_claim);
        goto sent;
    }
    {
        /* no BLOCK: the connection may be shared with the ledger, and a blocked connection
         * would hold every command queued behind it */
        const char *argv[] = {"XREADGROUP",    "GROUP",       w->cfg.group,
                              w->cfg.consumer, "COUNT",       count,
                              "STREAMS",       w->cfg.stream, ">"};
        rc = send_cmd(w, 9, argv, on_read);
    }
sent:
    if (rc == 0)
        w->req_busy = true;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    poll_once(arg);
}

static void poll_now(struct cat_fulfil_worker *w)
{
    poll_once(w);
}

/* ---------------------------------------------------------------- public */

struct cat_fulfil_worker *cat_fulfil_worker_new(struct event_base *base,
                                                const struct cat_fulfil_config *cfg,
                                                const struct cat_fulfil_deps *deps)
{
    struct cat_fulfil_worker *w;

    if (!base || !cfg || !deps || !deps->redis || !deps->prov || !deps->prov->grant ||
        !deps->store || !deps->store->mark_fulfilled || !deps->store->refund ||
        !is_word(cfg->stream) || !is_word(cfg->group) || !is_word(cfg->consumer) ||
        cfg->max_in_flight == 0 || cfg->max_held == 0 || cfg->poll_ms == 0 ||
        cfg->retry_deadline_s == 0 || cfg->claim_idle_ms == 0)
        return NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->base = base;
    w->cfg = *cfg;
    w->deps = *deps;
    if (w->cfg.store_retry_max_ms < STORE_RETRY_MIN_MS)
        w->cfg.store_retry_max_ms = STORE_RETRY_MIN_MS;
    if (w->cfg.marker_ttl_s == 0)
        w->cfg.marker_ttl_s = 90u * 86400u;
    w->rng = (uint64_t)gw_clock_mono_ms() * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)getpid();
    snprintf(w->pel_cursor, sizeof(w->pel_cursor), "0");
    snprintf(w->claim_cursor, sizeof(w->claim_cursor), "0-0");
    w->tick = event_new(base, -1, EV_PERSIST, on_tick, w);
    if (!w->tick) {
        free(w);
        return NULL;
    }
    return w;
}

int cat_fulfil_worker_start(struct cat_fulfil_worker *w)
{
    struct timeval tv;

    if (!w)
        return -EINVAL;
    if (w->started)
        return -EALREADY;
    w->started = true;
    tv.tv_sec = w->cfg.poll_ms / 1000;
    tv.tv_usec = (suseconds_t)(w->cfg.poll_ms % 1000) * 1000;
    event_add(w->tick, &tv);
    poll_once(w);
    return 0;
}

void cat_fulfil_worker_stop(struct cat_fulfil_worker *w)
{
    if (!w || w->stopping)
        return;
    w->stopping = true;
    event_del(w->tick);
    for (struct job *j = w->jobs; j; j = j->next)
        evtimer_del(j->timer);
    gw_log(GW_LOG_NOTICE, LOG_CAT, "stopping: %" PRIu32 " entries held stay pending in group %s",
           w->st.held, w->cfg.group);
}

void cat_fulfil_worker_free(struct cat_fulfil_worker *w)
{
    if (!w)
        return;
    cat_fulfil_worker_stop(w);
    while (w->jobs)
        job_free(w->jobs);
    event_free(w->tick);
    free(w);
}

void cat_fulfil_worker_get_stats(const struct cat_fulfil_worker *w, struct cat_fulfil_stats *out)
{
    if (w)
        *out = w->st;
    else
        memset(out, 0, sizeof(*out));
}
