/*
 * gw_ussd.c - USSD dialogues over SMPP and Redis (see gw_ussd.h for the step). Owner: the
 * USSD-wiring engineer (issue 3).
 *
 * Objects:
 *   struct step   one deliver_sm being handled: malloc'd when it arrives, freed when its screen
 *                 is handed to the link (or when nothing is to be sent). Redis callbacks find it
 *                 through their arg; gw_redis guarantees each fires exactly once, and teardown
 *                 frees the Redis client first (gw_ussd.h), so no callback outlives it.
 *   struct live   a dialogue whose last screen this process sent: it owns the ussd_session (the
 *                 FSM with its named timers T_ANSWER / T_TOTAL / T_END) and the record version it
 *                 stored. Found by session key in a small hash table. When the FSM ends (timer,
 *                 abort, last screen sent) the entry leaves the table for the graveyard and is
 *                 freed from a deferred event, never inside the session's own callback.
 *
 * Statelessness across processes: every step reads the stored record again and rebuilds the
 * session from it (ussd_session_restore), so it does not matter which process sent the previous
 * screen; a process's live entry only arms the expiry timers for the screen it sent. A timer that
 * fires after another process has moved the dialogue on finds a newer version and deletes
 * nothing (the compare-and-set below).
 *
 * Concurrency: two answers of one dialogue handled at once (two processes, or two PDUs in one)
 * both read version g and both compute a next screen; the store is a compare-and-set script
 * (CAS_LUA) that writes only when the stored version is still g, and stores g + 1. The winner
 * sends its screen and carries out its effect (language, redemption: so an effect happens once);
 * the loser gets the winner's record back from the same script and answers with the screen that
 * record describes (ussd_engine_show), without an effect - the subscriber sees the current screen
 * and can type again. If the winner ended the dialogue, the loser sends nothing.
 *
 * Redemption (the REDEEM effect) runs BEFORE the store, not after it like the other effects: an
 * answer to a confirmation screen is first run through the engine on a copy of the state to
 * learn whether it confirms (USSD_EFFECT_REDEEM); if it does, the redeem hook runs, and the step
 * is then computed for real with the outcome in ussd_env.outcome, so the screen the subscriber
 * gets - "redeemed", or the refusal with its reason ("outcomes" of the menu file) - is a node of
 * the menu file like any other (placeholders, languages, pagination). Two copies of one confirm
 * PDU handled at once both call the hook, with the same redemption id (session key + the
 * dialogue's start time; the catalogue adds item and gift day): the redemption module grants it
 * once and reports the other as a duplicate ("granted"), then the compare-and-set lets one
 * screen out.
 *
 * Stored value: "g=<version>;" + ussd_record_format() ("v=1;s=MENU;n=main;..."), TTL = what
 * remains of T_TOTAL (SET PX). The record parser skips the unknown "g" key, so the value is also
 * a valid record for tools.
 *
 * Language of a subscriber without a wallet (never recharged): HSET lg:{M}:w lang <code> creates
 * a wallet hash holding only "lang". That does not enrol anyone: enrolment is decided by the
 * absence of "bal" in lua/commit.lua, and every reader here treats a wallet without "bal" as not
 * enrolled (balance 0). One key per subscriber, no second place to look.
 */
#include "gw_ussd.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_hist.h"
#include "gw_metrics.h"
#include "gw_redis.h"
#include "gw_referral.h"
#include "gw_wallet.h"

#define LOG_CAT "ussd"
#define LIVE_BUCKETS 4096u /* power of two */
#define INPUT_MAX 512      /* bytes of decoded inbound text kept (answers are a few digits) */
#define VALUE_MAX (USSD_RECORD_MAX + 32)

/* KEYS[1] session key. ARGV[1] expected version (0 = no record), ARGV[2] "set" or "del",
 * ARGV[3] value, ARGV[4] TTL ms. Reply {1} when written, {0, current value or ""} when the
 * stored version differs (someone else moved the dialogue on). */
static const char CAS_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "local ver = 0\n"
    "if cur then ver = tonumber(string.match(cur, '^g=(%d+);')) or -1 end\n"
    "if ver ~= tonumber(ARGV[1]) then return {0, cur or ''} end\n"
    "if ARGV[2] == 'del' then redis.call('DEL', KEYS[1])\n"
    "else redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end\n"
    "return {1, ''}\n";

struct live {
    struct live *next;
    struct gw_ussd *u;
    char key[USSD_KEY_MAX];
    struct ussd_session *s;
    uint64_t id;      /* unique per entry: submit results find it by (key, id) */
    uint64_t version; /* record version this process stored */
    bool deleted;     /* the record is gone already (last screen): nothing to delete at the end */
};

struct step {
    struct gw_ussd *u;
    struct step *prev, *next; /* in-flight list */
    struct smpp_esme *e;
    enum ussd_inbound kind;
    char addr[21]; /* source_addr as received: the destination of our screens */
    uint8_t ton, npi;
    char msisdn[21]; /* digits only */
    char key[USSD_KEY_MAX];
    char wkey[40], hkey[40]; /* lg:{M}:w, lg:{M}:h */
    uint8_t hist_e[USSD_HISTORY_MAX * GW_HIST_REC]; /* the newest records of the wallet's E */
    size_t hist_elen;
    bool has_sinfo, has_umr;
    uint16_t sinfo, umr;
    char input[INPUT_MAX];
    size_t input_len;
    int pending; /* Redis replies still awaited */
    int err;     /* first Redis failure */
    bool have_rec;
    char rec[VALUE_MAX];
    size_t rec_len;
    struct gw_wallet_view wallet;
    struct ussd_session *s; /* the session of this step until it becomes live (or is freed) */
    uint64_t version;       /* record version read */
    uint64_t live_id;
    struct ussd_reply reply;
    int64_t t0_us;    /* gw_mono_us() when the deliver_sm came in: the hop's start */
    bool redeemed;    /* the redeem hook answered: the step runs again with the outcome */
    char outcome[24]; /* its outcome ("granted", "out_of_stock", ...) */
    char slot[USSD_VALUE_MAX]; /* "not_released": the member's slot, for {slot} */
    bool referring;            /* a direct dial *<code>*<shortcut>*<number># was handled */
    int64_t xfer_n;            /* a transfer outcome's number ({limit}), -1 none */
    char until[USSD_VALUE_MAX]; /* a transfer outcome's lock / freeze end ({until}) */
};

/* What a submit's callback needs: found again by key + id, never by a pointer into a session. */
struct submit_ctx {
    struct gw_ussd *u;
    char key[USSD_KEY_MAX];
    uint64_t live_id; /* 0: no live entry cares (a screen that ends nothing) */
    bool end;
};

struct gw_ussd {
    struct event_base *base;
    const struct gw_config *cfg;
    struct gw_redis *redis; /* NULL once detached */
    struct ussd_menus *const *menus;
    const struct ussd_catalog_ops *cat;
    void *cat_arg;
    struct gw_ussd_ops ops;
    gw_ussd_rate_fn rate; /* the suggestion box (NULL: ratings not kept) */
    void *rate_arg;
    gw_ussd_refer_fn refer; /* the referral hook (NULL: none) */
    void *refer_arg;
    gw_ussd_xfer_fn xfer; /* the transfer hook, NULL when not wired */
    void *xfer_arg;
    /* premium gifting (ussd_env): the country prefixes a beneficiary's number must start with
     * (events.country_prefixes) and the tiers that may gift (catalog.gift_tiers) */
    const char *prefixes[GW_MAX_PREFIXES];
    size_t n_prefixes;
    char gift_tiers[GW_MAX_TIERS][32];
    size_t n_gift_tiers;
    int cas_script;
    struct gw_ussd_stats stats;
    struct gw_histo hop_latency; /* deliver_sm in -> its screen handed to the link */
    struct live *table[LIVE_BUCKETS];
    struct live *graveyard;
    struct event *reap;
    struct step *steps;
    uint64_t next_live_id;
    struct ussd_session_cbs cbs;
};

/* ---------------------------------------------------------------- small helpers */

static uint32_t key_hash(const char *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 16777619u;
    return h & (LIVE_BUCKETS - 1);
}

static struct live *live_find(struct gw_ussd *u, const char *key)
{
    for (struct live *l = u->table[key_hash(key)]; l; l = l->next)
        if (strcmp(l->key, key) == 0)
            return l;
    return NULL;
}

static void live_unlink(struct gw_ussd *u, struct live *l)
{
    struct live **pp = &u->table[key_hash(l->key)];

    for (; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            u->stats.live--;
            return;
        }
    }
}

/* Moves l to the graveyard; the deferred reap frees it (we may be inside its session's call). */
static void live_bury(struct gw_ussd *u, struct live *l)
{
    live_unlink(u, l);
    l->next = u->graveyard;
    u->graveyard = l;
    event_active(u->reap, EV_TIMEOUT, 0);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    struct gw_ussd *u = arg;

    (void)fd;
    (void)what;
    while (u->graveyard) {
        struct live *l = u->graveyard;
        u->graveyard = l->next;
        ussd_session_free(l->s);
        free(l);
    }
}

/* "…5678:s12" for log lines that have no session object. */
static const char *log_id(const char *key, const char *msisdn, char *out, size_t cap)
{
    char mask[GW_MASK_LEN];
    const char *p = strncmp(key, "ussd:", 5) == 0 ? key + 5 : key;
    const char *suffix = strchr(p, ':');

    snprintf(out, cap, "%s%s", gw_mask_msisdn(msisdn, mask), suffix ? suffix : "");
    return out;
}

static void step_free(struct step *st)
{
    struct gw_ussd *u = st->u;

    if (st->prev)
        st->prev->next = st->next;
    else
        u->steps = st->next;
    if (st->next)
        st->next->prev = st->prev;
    u->stats.in_flight--;
    ussd_session_free(st->s);
    explicit_bzero(&st->reply, sizeof(st->reply)); /* may hold a PIN typed on a transfer screen */
    free(st);
}

/* Whether the subscriber's tier may send gifts to another number (catalog.gift_tiers). */
static bool may_gift(const struct gw_ussd *u, const struct gw_wallet_view *w)
{
    if (!w->exists || !w->tier[0])
        return false;
    for (size_t i = 0; i < u->n_gift_tiers; i++)
        if (strcmp(u->gift_tiers[i], w->tier) == 0)
            return true;
    return false;
}

static struct ussd_env env_of(struct step *st)
{
    struct gw_ussd *u = st->u;
    struct ussd_env env = {
        .cfg = &u->cfg->ussd,
        .menus = *u->menus,
        .sub = &gw_wallet_ussd_ops,
        .sub_arg = &st->wallet,
        .cat = u->cat,
        .cat_arg = u->cat_arg,
        .msisdn = st->msisdn,
        .may_gift = u->ops.redeem && may_gift(u, &st->wallet),
        .prefixes = u->prefixes,
        .n_prefixes = u->n_prefixes,
        .outcome = st->redeemed ? st->outcome : NULL,
        .slot = st->redeemed ? st->slot : NULL,
        .xfer_n = st->redeemed ? st->xfer_n : -1,
        .may_perk = u->ops.redeem && may_gift(u, &st->wallet) && u->cfg->catalog.perk_per_day > 0,
        .perk_share_pct = u->cfg->catalog.perk_share_pct,
        .until = st->redeemed ? st->until : NULL,
        .tier = st->wallet.tier,
        .pass = st->wallet.pass_until >= gw_local_day(gw_clock_now_ms() / 1000),
    };
    return env;
}

/* A plain last screen: text in lang's best coding, ending the dialogue. */
static void reply_text(struct gw_ussd *u, const char *text, struct ussd_reply *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->text, sizeof(r->text), "%s", text ? text : "");
    r->text_len = strlen(r->text);
    r->coding = smpp_text_choose(r->text, r->text_len, &u->cfg->ussd.text, &r->data_coding);
    r->end = true;
    r->error = true;
}

static void reply_unavailable(struct gw_ussd *u, const char *lang, struct ussd_reply *r)
{
    reply_text(u, ussd_menus_label(*u->menus, lang, "unavailable"), r);
}

/* ---------------------------------------------------------------- sending screens */

static void submit_done(void *arg, int err, uint32_t status, const char *message_id)
{
    struct submit_ctx *c = arg;
    struct gw_ussd *u = c->u;
    struct live *l;

    (void)message_id;
    if (err < 0 || status != SMPP_ROK) {
        u->stats.screens_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "screen not delivered (%s, %s)",
               err < 0 ? strerror(-err) : "SMSC refused", smpp_status_name(status));
    }
    /* The last screen is out (or will never be): the FSM goes ENDING -> ENDED; a failed send
     * still ends it, there is nothing left to retry in a USSD dialogue. */
    if (c->end && c->live_id && (l = live_find(u, c->key)) != NULL && l->id == c->live_id)
        ussd_session_sent(l->s);
    free(c);
}

/* Sends r to the subscriber of st. live_id names the live entry the screen belongs to. */
static void send_screen(struct step *st, const struct ussd_reply *r, uint64_t live_id)
{
    struct gw_ussd *u = st->u;
    const struct ussd_config *cfg = &u->cfg->ussd;
    struct ussd_outbound ob;
    struct smpp_sm *sm;
    struct submit_ctx *c;
    size_t n = 0;
    int rc;

    sm = calloc(1, sizeof(*sm));
    c = calloc(1, sizeof(*c));
    if (!sm || !c)
        goto fail;
    snprintf(sm->service_type, sizeof(sm->service_type), "USSD");
    if (ussd_config_service_addr(cfg, sm->src_addr, sizeof(sm->src_addr)) < 0)
        goto fail;
    memcpy(sm->dst_addr, st->addr, sizeof(sm->dst_addr));
    sm->dst_ton = st->ton;
    sm->dst_npi = st->npi;
    sm->data_coding = r->data_coding;
    rc = smpp_text_encode(r->text, r->text_len, r->coding, &cfg->text, sm->text, SMPP_TEXT_MAX, &n);
    if (rc < 0) {
        gw_log(GW_LOG_ERROR, LOG_CAT, "screen of %zu bytes cannot be encoded: %s", r->text_len,
               strerror(-rc));
        goto fail;
    }
    sm->text_len = (uint16_t)n;
    sm->use_payload = n > 254; /* a carrier limit above 127 UCS-2 characters */
    ussd_outbound_fields(cfg, r->end, st->has_sinfo, st->sinfo, &ob);
    sm->has_ussd_op = true;
    sm->ussd_op = ob.op;
    sm->has_its_session = ob.has_sinfo;
    sm->its_session = ob.sinfo;
    sm->has_umr = st->has_umr; /* echoed: some gateways match the dialogue by it */
    sm->umr = st->umr;
    c->u = u;
    snprintf(c->key, sizeof(c->key), "%s", st->key);
    c->live_id = live_id;
    c->end = r->end;
    rc = smpp_esme_submit(st->e, sm, submit_done, c);
    free(sm);
    if (rc == 0)
        gw_histo_observe(&u->hop_latency, (double)(gw_mono_us() - st->t0_us) / 1e6);
    if (rc < 0) {
        u->stats.screens_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "screen not queued: %s", strerror(-rc));
        free(c);
        return;
    }
    u->stats.screens++;
    return;
fail:
    u->stats.screens_failed++;
    free(sm);
    free(c);
}

/* ---------------------------------------------------------------- Redis plumbing */

static void ignore_reply(void *arg, int err, const redisReply *reply)
{
    const char *what = arg;

    if (err < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "%s failed: %s", what, strerror(-err));
    else if (reply->type == REDIS_REPLY_ERROR)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "%s refused: %.200s", what, reply->str);
}

/* CAS delete of a finished dialogue's record, best effort (the TTL removes it anyway). */
static void delete_record(struct gw_ussd *u, const char *key, uint64_t version)
{
    char ver[24];
    const char *argv[] = {key, ver, "del", "", "0"};
    size_t lens[5];

    if (!u->redis)
        return;
    snprintf(ver, sizeof(ver), "%" PRIu64, version);
    for (int i = 0; i < 5; i++)
        lens[i] = strlen(argv[i]);
    if (gw_redis_script_run(u->redis, u->cas_script, 1, 5, argv, lens, ignore_reply,
                            (void *)"delete session") < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "delete session: Redis not available");
}

/* ---------------------------------------------------------------- session end */

static void on_session_ended(void *arg, struct ussd_session *s, enum ussd_end_reason reason)
{
    struct gw_ussd *u = arg;
    const char *key = ussd_session_get_key(s);
    struct live *l = key ? live_find(u, key) : NULL;

    if (reason == USSD_ENDED_T_ANSWER || reason == USSD_ENDED_T_TOTAL)
        u->stats.expired++;
    else if (reason == USSD_ENDED_COMPLETED)
        u->stats.ended++;
    if (!l || l->s != s)
        return; /* a step's own session (not live yet): the step decides */
    gw_fsm_log(ussd_session_fsm(s), GW_LOG_INFO, "dialogue over (%s)",
               ussd_end_reason_name(reason));
    if (!l->deleted)
        delete_record(u, l->key, l->version);
    live_bury(u, l);
}

/* Makes st's session the live one for its key (replacing an older one of this process). */
static uint64_t make_live(struct step *st, uint64_t version, bool deleted)
{
    struct gw_ussd *u = st->u;
    struct live *l = live_find(u, st->key);

    if (ussd_session_get_state(st->s) == USSD_ST_ENDED)
        return 0; /* ended while the store was in flight: nothing to watch */
    if (!l) {
        l = calloc(1, sizeof(*l));
        if (!l)
            return 0; /* no timers then: the Redis TTL still removes the record */
        l->u = u;
        snprintf(l->key, sizeof(l->key), "%s", st->key);
        uint32_t h = key_hash(l->key);
        l->next = u->table[h];
        u->table[h] = l;
        u->stats.live++;
    } else {
        ussd_session_free(l->s); /* its timers belong to a screen that is no longer current */
    }
    l->s = st->s;
    st->s = NULL;
    l->id = ++u->next_live_id;
    l->version = version;
    l->deleted = deleted;
    return l->id;
}

/*
 * Ends st's dialogue with the "unavailable" last screen and drops what is stored of it: the
 * network considers the dialogue over once it sees the end, so the record (whatever its version)
 * and any local timers are removed - best effort, the TTL removes the record anyway when Redis
 * is what failed. Frees st.
 */
/* Ends the dialogue on st->reply (a last screen) and drops what is stored of it. Frees st. */
static void end_with_reply(struct step *st)
{
    struct gw_ussd *u = st->u;
    struct live *l = live_find(u, st->key);

    send_screen(st, &st->reply, 0);
    if (l) {
        l->deleted = true;
        ussd_session_abort(l->s);
    }
    if (u->redis) {
        const char *argv[] = {"DEL", st->key};
        size_t lens[] = {3, strlen(st->key)};
        (void)gw_redis_command(u->redis, 2, argv, lens, ignore_reply, (void *)"drop session");
    }
    step_free(st);
}

/* Ends the dialogue on a label's last screen ("unavailable", "processing") and drops it. */
static void end_unavailable_as(struct step *st, const char *lang, const char *label)
{
    reply_text(st->u, ussd_menus_label(*st->u->menus, lang, label), &st->reply);
    end_with_reply(st);
}

static void end_unavailable(struct step *st, const char *lang)
{
    end_unavailable_as(st, lang, "unavailable");
}

/* The store failed before any effect of this step ran: nothing was charged, and the subscriber
 * reads so ("store_down", the menu file's optional label; else "unavailable"); make-good hears of
 * it (gw_ussd_ops.store_failed: recorded on a gift day, issue 10 section 5). */
static void end_store_down(struct step *st, const char *lang, int err)
{
    if (st->u->ops.store_failed)
        st->u->ops.store_failed(st->u->ops.arg, st->msisdn, err);
    end_unavailable_as(st, lang, "store_down");
}

/* ---------------------------------------------------------------- effects */

static void run_step(struct step *st);

struct redeem_ctx {
    struct gw_ussd *u;
    struct step *st;
};

/* The hook's answer: run the step again, this time with the outcome (see "Redemption" above). */
static void redeem_done(void *cb_arg, int err, const char *outcome, const char *slot)
{
    struct redeem_ctx *rc = cb_arg;
    struct step *st = rc->st;
    struct gw_ussd *u = rc->u;
    char id[64];

    free(rc);
    /* a repeated confirmation: the subscriber reads what the first one got, and it is not a
     * second redemption in the counters (/metrics loyaltygw_redemptions_total) */
    bool duplicate = err == 0 && outcome && strcmp(outcome, GW_USSD_OUTCOME_DUPLICATE) == 0;
    if (duplicate)
        outcome = USSD_OUTCOME_GRANTED;
    if (err == -EINPROGRESS) {
        /* paid, then the store failed: it went through (the sweeper finishes it and the
         * fulfilment texts the subscriber), so the last screen says exactly that */
        u->stats.redeem_processing++;
        gw_log(GW_LOG_NOTICE, LOG_CAT,
               "ussd(%s){CONFIRM} redemption paid, not finished (store failed): 'processing'",
               log_id(st->key, st->msisdn, id, sizeof(id)));
        end_unavailable_as(st, st->wallet.lang, "processing");
        return;
    }
    if (err < 0 || !ussd_outcome_known(outcome)) {
        /* the store failed or timed out: the redemption may be half-way (its sweeper settles
         * it); the subscriber is told the service is unavailable and the dialogue ends */
        u->stats.redeem_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){CONFIRM} redemption failed (%s): last screen",
               log_id(st->key, st->msisdn, id, sizeof(id)),
               err < 0 ? strerror(-err) : "unknown outcome");
        end_unavailable(st, st->wallet.lang);
        return;
    }
    if (duplicate)
        u->stats.redeem_duplicate++;
    else if (strcmp(outcome, USSD_OUTCOME_GRANTED) == 0)
        u->stats.redeem_granted++;
    else
        u->stats.redeem_refused++;
    snprintf(st->outcome, sizeof(st->outcome), "%s", outcome);
    snprintf(st->slot, sizeof(st->slot), "%s", slot ? slot : "");
    st->redeemed = true;
    run_step(st);
}

/* The transfer hook's answer: run the step again with the outcome, as redeem_done does. */
static void xfer_done(void *cb_arg, int err, const char *outcome, int64_t n, const char *until)
{
    struct redeem_ctx *rc = cb_arg;
    struct step *st = rc->st;
    struct gw_ussd *u = rc->u;
    char id[64];

    free(rc);
    if (err < 0 || !ussd_xfer_outcome_known(outcome)) {
        u->stats.xfer_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){CONFIRM} transfer failed (%s): last screen",
               log_id(st->key, st->msisdn, id, sizeof(id)),
               err < 0 ? strerror(-err) : "unknown outcome");
        end_unavailable(st, st->wallet.lang);
        return;
    }
    if (strcmp(outcome, USSD_XFER_OK) == 0)
        u->stats.xfer_ok++;
    else
        u->stats.xfer_refused++;
    snprintf(st->outcome, sizeof(st->outcome), "%s", outcome);
    st->xfer_n = n;
    snprintf(st->until, sizeof(st->until), "%s", until ? until : "");
    st->redeemed = true;
    run_step(st);
}

/* Hands the transfer or PIN change of the probe (an answer to a PIN screen) to the hook; wipes
 * the PINs whatever happens. True when the hook took it (xfer_done continues the step). */
static bool start_xfer(struct step *st, const struct ussd_record *rec, const char *lang,
                       struct ussd_reply *probe)
{
    struct gw_ussd *u = st->u;
    struct redeem_ctx *rc = u->xfer ? calloc(1, sizeof(*rc)) : NULL;
    bool taken = false;

    if (rc) {
        struct gw_ussd_xfer_req req = {
            .msisdn = st->msisdn,
            .session_key = st->key,
            .started_ms = rec->started_ms,
            .set_pin = probe->effect == USSD_EFFECT_SET_PIN,
            .to = probe->effect_to,
            .points = probe->effect_price,
            .pin = probe->effect_pin,
            .old_pin = probe->effect_old_pin,
            .lang = lang,
        };
        rc->u = u;
        rc->st = st;
        u->stats.xfer_requested++;
        taken = u->xfer(u->xfer_arg, &req, xfer_done, rc) == 0;
        if (!taken)
            free(rc);
    }
    explicit_bzero(probe->effect_pin, sizeof(probe->effect_pin));
    explicit_bzero(probe->effect_old_pin, sizeof(probe->effect_old_pin));
    return taken;
}

static bool start_refer_menu(struct step *st, const char *typed);

/*
 * First pass of an answer to a confirmation screen: does it confirm? If so, hands the
 * redemption to the hook and returns true (the step continues in redeem_done); a PIN screen's
 * answer goes to the transfer hook the same way (xfer_done). A dialogue past its deadlines is
 * left to the real pass, which ends it without redeeming.
 */
static bool start_redeem(struct step *st, const struct ussd_env *env, const struct ussd_record *rec)
{
    struct gw_ussd *u = st->u;
    const struct ussd_config *cfg = &u->cfg->ussd;
    struct ussd_state copy = rec->st;
    struct ussd_reply *probe = &st->reply; /* scratch: the real pass overwrites it */
    int64_t now = gw_clock_now_ms();

    if (now - rec->started_ms >= (int64_t)cfg->t_total_ms ||
        now - rec->last_ms >= (int64_t)cfg->t_answer_ms)
        return false;
    if (ussd_engine_answer(env, st->input, st->input_len, &copy, probe) < 0)
        return false;
    if (probe->effect == USSD_EFFECT_TRANSFER || probe->effect == USSD_EFFECT_SET_PIN)
        return start_xfer(st, rec, copy.lang, probe);
    if (probe->effect == USSD_EFFECT_REFER)
        return start_refer_menu(st, probe->effect_input);
    if (probe->effect != USSD_EFFECT_REDEEM || !u->ops.redeem)
        return false;
    struct redeem_ctx *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return false; /* the real pass then reads "unavailable" (run_effect) */
    struct gw_ussd_redeem_req req = {
        .msisdn = st->msisdn,
        .session_key = st->key,
        .started_ms = rec->started_ms,
        .item_id = probe->effect_item,
        .version = probe->effect_version,
        .item_ref = probe->effect_ref,
        .price = probe->effect_price,
        .beneficiary = probe->effect_to,
        .lang = copy.lang,
        .tier = st->wallet.tier,
        .perk = probe->effect_perk,
    };
    rc->u = u;
    rc->st = st;
    u->stats.redeem_requested++;
    if (u->ops.redeem(u->ops.arg, &req, redeem_done, rc) == 0)
        return true;
    free(rc);
    return false;
}

/* Carries out the reply's effect after the store won. */
static void run_effect(struct step *st, const char *lang)
{
    struct gw_ussd *u = st->u;
    struct ussd_reply *r = &st->reply;

    if (r->effect == USSD_EFFECT_SET_LANGUAGE && u->redis) {
        const char *argv[] = {"HSET", st->wkey, "lang", r->effect_lang};
        size_t lens[4];
        for (int i = 0; i < 4; i++)
            lens[i] = strlen(argv[i]);
        if (gw_redis_command(u->redis, 4, argv, lens, ignore_reply, (void *)"save language") == 0)
            u->stats.lang_saved++;
        return;
    }
    if (r->effect == USSD_EFFECT_RATE) {
        if (u->rate) {
            u->stats.rated++;
            u->rate(u->rate_arg, st->msisdn, lang, r->effect_rating, r->effect_node,
                    r->effect_item);
        }
        return;
    }
    if (r->effect == USSD_EFFECT_REDEEM || r->effect == USSD_EFFECT_TRANSFER ||
        r->effect == USSD_EFFECT_SET_PIN || r->effect == USSD_EFFECT_REFER) {
        /* a confirmation that did not go through the hook (none wired, or it could not start):
         * say so rather than pretend (reply_unavailable wipes a PIN the reply held) */
        bool end = r->end || r->effect == USSD_EFFECT_REFER;
        reply_unavailable(u, lang, r);
        r->end = end;
    }
}

/* ---------------------------------------------------------------- referral */

/* The last screen of a referral: the menu file's node for outcome, in the subscriber's language. */
static void end_referral(struct step *st, const char *outcome)
{
    const struct ussd_menus *m = *st->u->menus;
    const char *node = ussd_menus_referral_node(m, outcome);
    struct ussd_env env = env_of(st);
    struct ussd_state s;

    memset(&s, 0, sizeof(s));
    snprintf(s.lang, sizeof(s.lang), "%s",
             ussd_menus_has_lang(m, st->wallet.lang) ? st->wallet.lang
                                                     : ussd_menus_default_lang(m));
    if (!node || strlen(node) >= sizeof(s.node)) {
        end_unavailable(st, st->wallet.lang);
        return;
    }
    snprintf(s.node, sizeof(s.node), "%s", node);
    if (ussd_engine_show(&env, &s, &st->reply) < 0) {
        end_unavailable(st, st->wallet.lang);
        return;
    }
    st->reply.end = true;
    st->reply.effect = USSD_EFFECT_NONE;
    end_with_reply(st);
}

static void refer_done(void *cb_arg, int err, const char *outcome)
{
    struct step *st = cb_arg;
    char id[64];

    if (err < 0 || !outcome) {
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){REFER} referral failed (%s): last screen",
               log_id(st->key, st->msisdn, id, sizeof(id)), err < 0 ? strerror(-err) : "?");
        end_unavailable(st, st->wallet.lang);
        return;
    }
    gw_log(GW_LOG_INFO, LOG_CAT, "ussd(%s){REFER} %s",
           log_id(st->key, st->msisdn, id, sizeof(id)), outcome);
    end_referral(st, outcome);
}

/* Refers the number typed (len bytes: the direct dial's, or a "refer" node's answer): the referral
 * runs and its outcome's screen ends the dialogue (end_with_reply drops what is stored of it).
 * False when no referral hook is wired. */
static bool refer_typed(struct step *st, const char *typed, size_t len)
{
    struct gw_ussd *u = st->u;
    char referee[16];

    if (!u->refer)
        return false;
    st->referring = true;
    if (gw_referral_number(typed, len, referee) < 0) {
        end_referral(st, gw_referral_outcome_name(GW_REF_BAD_NUMBER));
        return true;
    }
    int rc = u->refer(u->refer_arg, st->msisdn, referee, refer_done, st);
    if (rc < 0) {
        char id[64];
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){REFER} not started (%s): last screen",
               log_id(st->key, st->msisdn, id, sizeof(id)), strerror(-rc));
        end_unavailable(st, st->wallet.lang);
    }
    return true;
}

/* The answer to a menu's "refer" node (ASCII): the same referral and last screens as the direct
 * dial. False when no referral hook is wired (the real pass then says "unavailable"). */
static bool start_refer_menu(struct step *st, const char *typed)
{
    return refer_typed(st, typed, strlen(typed));
}

/*
 * A new dialogue dialled *<code>*<shortcut>*<number># (the menu file's referral shortcut): the
 * referral runs and its outcome is the last screen; no dialogue is stored. Returns false when
 * the string is not that (the engine opens it as usual).
 */
static bool start_referral(struct step *st)
{
    struct gw_ussd *u = st->u;
    const char *sc = ussd_menus_referral_shortcut(*u->menus);
    char prefix[32];
    size_t n, len = st->input_len;

    if (!u->refer || !sc)
        return false;
    n = (size_t)snprintf(prefix, sizeof(prefix), "*%s*%s*", u->cfg->ussd.service_code, sc);
    if (n >= sizeof(prefix) || len <= n + 1 || memcmp(st->input, prefix, n) != 0 ||
        st->input[len - 1] != '#')
        return false;
    u->stats.opened++;
    return refer_typed(st, st->input + n, len - n - 1);
}

/* ---------------------------------------------------------------- the store (CAS) */

static int parse_value(const char *v, size_t len, uint64_t *version, struct ussd_record *rec)
{
    uint64_t g = 0;
    size_t i = 2;

    if (len < 4 || memcmp(v, "g=", 2) != 0)
        return -EINVAL;
    for (; i < len && i < 22 && v[i] >= '0' && v[i] <= '9'; i++)
        g = g * 10 + (uint64_t)(v[i] - '0');
    if (i == 2 || i >= len || v[i] != ';')
        return -EINVAL;
    *version = g;
    return ussd_record_parse(v + i + 1, len - i - 1, rec);
}

static void store_done(void *arg, int err, const redisReply *reply)
{
    struct step *st = arg;
    struct gw_ussd *u = st->u;
    struct ussd_reply *r = &st->reply;
    char lang[USSD_LANG_MAX];

    snprintf(lang, sizeof(lang), "%s", ussd_session_dialogue(st->s)->lang);
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        /* the store failed: the screen cannot be continued by anyone, so end it politely */
        u->stats.store_failed++;
        gw_fsm_log(ussd_session_fsm(st->s), GW_LOG_NOTICE, "session not stored (%s)",
                   err < 0 ? strerror(-err) : "unexpected reply");
        end_store_down(st, lang, err < 0 ? err : -EPROTO);
        return;
    }
    if (reply->element[0]->integer != 1) {
        /* lost the race: answer with the screen the winner stored */
        struct ussd_record rec;
        uint64_t g;
        const redisReply *cur = reply->elements > 1 ? reply->element[1] : NULL;

        u->stats.cas_lost++;
        if (cur && cur->type == REDIS_REPLY_STRING &&
            parse_value(cur->str, cur->len, &g, &rec) == 0 &&
            (rec.fsm_state == USSD_ST_MENU || rec.fsm_state == USSD_ST_CONFIRM)) {
            struct ussd_env env = env_of(st);
            gw_fsm_log(ussd_session_fsm(st->s), GW_LOG_NOTICE,
                       "another answer moved the dialogue on (v%" PRIu64 "): current screen", g);
            if (ussd_engine_show(&env, &rec.st, r) == 0)
                send_screen(st, r, 0);
        } else {
            gw_fsm_log(ussd_session_fsm(st->s), GW_LOG_NOTICE,
                       "another answer ended the dialogue: nothing to send");
        }
        step_free(st);
        return;
    }
    st->live_id = make_live(st, st->version + 1, r->end);
    run_effect(st, lang);
    send_screen(st, r, st->live_id);
    step_free(st);
}

/* Stores the step's session (or deletes the record when the screen ends the dialogue). */
static void store(struct step *st)
{
    struct gw_ussd *u = st->u;
    struct ussd_record rec;
    char value[VALUE_MAX], ver[24], ttl[24];
    const char *argv[5];
    size_t lens[5];
    int64_t left;
    int n, w;

    ussd_session_record(st->s, &rec);
    left = rec.started_ms + (int64_t)u->cfg->ussd.t_total_ms - gw_clock_now_ms();
    if (left < 1)
        left = 1;
    n = snprintf(value, sizeof(value), "g=%" PRIu64 ";", st->version + 1);
    w = ussd_record_format(&rec, value + n, sizeof(value) - (size_t)n);
    if (w < 0) {
        end_unavailable(st, rec.st.lang);
        return;
    }
    snprintf(ver, sizeof(ver), "%" PRIu64, st->version);
    snprintf(ttl, sizeof(ttl), "%" PRId64, left);
    argv[0] = st->key;
    argv[1] = ver;
    argv[2] = st->reply.end ? "del" : "set";
    argv[3] = value;
    argv[4] = ttl;
    for (int i = 0; i < 5; i++)
        lens[i] = strlen(argv[i]);
    if (!u->redis ||
        gw_redis_script_run(u->redis, u->cas_script, 1, 5, argv, lens, store_done, st) < 0) {
        u->stats.store_failed++;
        end_store_down(st, rec.st.lang, -ENOTCONN);
    }
}

/* ---------------------------------------------------------------- one step */

static void run_step(struct step *st)
{
    struct gw_ussd *u = st->u;
    struct ussd_env env = env_of(st);
    struct ussd_record rec;
    char id[64];
    int rc;

    memset(&rec, 0, sizeof(rec));
    if (st->err < 0) {
        /* Redis down or slow: never leave the subscriber with a hanging dialogue */
        u->stats.store_failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){-} store unavailable (%s): last screen",
               log_id(st->key, st->msisdn, id, sizeof(id)), strerror(-st->err));
        end_store_down(st, st->wallet.lang, st->err);
        return;
    }
    if (st->have_rec && parse_value(st->rec, st->rec_len, &st->version, &rec) < 0) {
        gw_log(GW_LOG_NOTICE, LOG_CAT, "ussd(%s){-} stored session unreadable: ignored",
               log_id(st->key, st->msisdn, id, sizeof(id)));
        st->have_rec = false; /* st->version stays as parsed (or 0): the CAS overwrites it */
    }
    if (st->kind == USSD_IN_OPEN && !st->referring && start_referral(st))
        return; /* refer_done (or end_referral) ends the step */
    if (st->kind == USSD_IN_OPEN) {
        u->stats.opened++;
        st->s = ussd_session_new(&u->cfg->ussd, u->base, st->key, st->msisdn, &u->cbs);
        rc = st->s ? ussd_session_open(st->s, &env, st->input, st->input_len, &st->reply) : -ENOMEM;
    } else {
        u->stats.answers++;
        if (!st->have_rec) {
            /* expired, ended, or never opened: close the dialogue instead of leaving it open */
            u->stats.no_session++;
            gw_log(GW_LOG_INFO, LOG_CAT, "ussd(%s){-} answer without a session: last screen",
                   log_id(st->key, st->msisdn, id, sizeof(id)));
            end_unavailable(st, st->wallet.lang);
            return;
        }
        if (!st->redeemed && rec.fsm_state == USSD_ST_CONFIRM &&
            (u->ops.redeem || u->xfer || u->refer) &&
            start_redeem(st, &env, &rec))
            return; /* redeem_done runs this step again with the outcome */
        st->s = ussd_session_restore(&u->cfg->ussd, u->base, st->key, st->msisdn, &u->cbs, &rec);
        rc = st->s ? ussd_session_answer(st->s, &env, st->input, st->input_len, &st->reply)
                   : -ENOMEM;
    }
    if (rc == -ETIMEDOUT) {
        u->stats.no_session++;
        end_unavailable(st, rec.st.lang);
        return;
    }
    if (rc == -ESRCH) {
        step_free(st); /* nothing to show in the session's state (logged by the FSM) */
        return;
    }
    if (rc < 0) {
        end_unavailable(st, st->wallet.lang);
        return;
    }
    store(st);
}

static void read_done(struct step *st)
{
    if (--st->pending == 0) {
        gw_wallet_view_merge_e(&st->wallet, st->hist_e, st->hist_elen);
        run_step(st);
    }
}

static void on_get(void *arg, int err, const redisReply *reply)
{
    struct step *st = arg;

    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        st->err = err < 0 ? err : -EPROTO;
    } else if (reply->type == REDIS_REPLY_STRING && reply->len < VALUE_MAX) {
        memcpy(st->rec, reply->str, reply->len);
        st->rec[reply->len] = '\0';
        st->rec_len = reply->len;
        st->have_rec = true;
    }
    read_done(st);
}

static void on_wallet(void *arg, int err, const redisReply *reply)
{
    struct step *st = arg;
    struct gw_wallet_view h;

    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        st->err = err < 0 ? err : -EPROTO;
    } else {
        /* keep the history the LRANGE may have parsed already */
        memcpy(&h, &st->wallet, sizeof(h));
        gw_wallet_view_parse_validity(
            &st->wallet, reply, NULL,
            &(struct gw_validity){st->u->cfg->loyalty.points_validity_days,
                                  st->u->cfg->loyalty.points_validity_months},
            gw_local_day(gw_clock_now_ms() / 1000));
        st->wallet.n_history = h.n_history;
        memcpy(st->wallet.history, h.history, sizeof(h.history));
        /* the packed history E: merged with the list when both replies are in (read_done) */
        for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
            const redisReply *k = reply->element[i], *v = reply->element[i + 1];
            if (k->type == REDIS_REPLY_STRING && k->len == 1 && k->str[0] == 'E' &&
                v->type == REDIS_REPLY_STRING && v->len % GW_HIST_REC == 0) {
                size_t n = v->len < sizeof(st->hist_e) ? v->len : sizeof(st->hist_e);
                memcpy(st->hist_e, v->str + v->len - n, n); /* the newest records */
                st->hist_elen = n;
            }
        }
    }
    read_done(st);
}

static void on_history(void *arg, int err, const redisReply *reply)
{
    struct step *st = arg;
    struct gw_wallet_view h;

    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        st->err = err < 0 ? err : -EPROTO;
    } else {
        gw_wallet_view_parse(&h, NULL, reply, 0, 0);
        st->wallet.n_history = h.n_history;
        memcpy(st->wallet.history, h.history, sizeof(h.history));
    }
    read_done(st);
}

/* Sends one read; a read that cannot be sent counts as failed at once. */
static void read_one(struct step *st, int argc, const char **argv, gw_redis_cb cb)
{
    size_t lens[4];
    int rc;

    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    st->pending++;
    rc = st->u->redis ? gw_redis_command(st->u->redis, argc, argv, lens, cb, st) : -ENOTCONN;
    if (rc < 0) {
        st->err = rc;
        st->pending--;
    }
}

/* ---------------------------------------------------------------- inbound */

static void on_abort(struct gw_ussd *u, const char *key, const char *msisdn)
{
    struct live *l = live_find(u, key);
    char id[64];

    u->stats.aborts++;
    if (l) {
        l->deleted = true; /* deleted below, whatever its version: the network ended it */
        ussd_session_abort(l->s);
    } else {
        gw_log(GW_LOG_INFO, LOG_CAT, "ussd(%s){-} aborted by the network",
               log_id(key, msisdn, id, sizeof(id)));
    }
    if (u->redis) {
        const char *argv[] = {"DEL", key};
        size_t lens[] = {3, strlen(key)};
        if (gw_redis_command(u->redis, 2, argv, lens, ignore_reply, (void *)"abort") < 0)
            gw_log(GW_LOG_NOTICE, LOG_CAT, "abort: Redis not available; the TTL removes it");
    }
}

void gw_ussd_on_deliver(void *arg, struct smpp_esme *e, const struct smpp_sm *sm)
{
    struct gw_ussd *u = arg;
    const struct ussd_config *cfg = &u->cfg->ussd;
    char key[USSD_KEY_MAX], mask[GW_MASK_LEN];
    const char *digits;
    enum ussd_inbound kind;
    struct step *st;
    int op = sm->has_ussd_op ? sm->ussd_op : -1;

    u->stats.in++;
    if (!*u->menus)
        return;
    if (ussd_session_key(cfg, sm->src_addr, sm->has_its_session, sm->its_session, sm->has_umr,
                         sm->umr, key, sizeof(key)) < 0) {
        u->stats.bad_msisdn++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "USSD from a source_addr that is no MSISDN (%s): dropped",
               gw_mask_msisdn(sm->src_addr, mask));
        return;
    }
    digits = sm->src_addr[0] == '+' ? sm->src_addr + 1 : sm->src_addr;
    kind = ussd_inbound_classify(cfg, op, sm->has_its_session, sm->its_session);
    if (kind == USSD_IN_UNKNOWN) {
        u->stats.unknown++;
        gw_log(GW_LOG_INFO, LOG_CAT, "USSD op %d from %s not handled: dropped", op,
               gw_mask_msisdn(digits, mask));
        return;
    }
    if (kind == USSD_IN_ABORT) {
        on_abort(u, key, digits);
        return;
    }
    st = calloc(1, sizeof(*st));
    if (!st) {
        gw_log(GW_LOG_ERROR, LOG_CAT, "out of memory: USSD step dropped");
        return;
    }
    st->u = u;
    st->e = e;
    st->t0_us = gw_mono_us();
    st->kind = kind;
    memcpy(st->addr, sm->src_addr, sizeof(st->addr));
    st->ton = sm->src_ton;
    st->npi = sm->src_npi;
    snprintf(st->msisdn, sizeof(st->msisdn), "%s", digits);
    snprintf(st->key, sizeof(st->key), "%s", key);
    snprintf(st->wkey, sizeof(st->wkey), "lg:{%s}:w", st->msisdn);
    snprintf(st->hkey, sizeof(st->hkey), "lg:{%s}:h", st->msisdn);
    st->has_sinfo = sm->has_its_session;
    st->sinfo = sm->its_session;
    st->has_umr = sm->has_umr;
    st->umr = sm->umr;
    /* untrusted text in any coding -> UTF-8; a truncated answer is simply an invalid one */
    if (smpp_text_decode(sm->text, sm->text_len, sm->data_coding, &cfg->text, st->input,
                         sizeof(st->input), &st->input_len) < 0 &&
        st->input_len == 0)
        st->input[0] = '\0';
    st->next = u->steps;
    if (u->steps)
        u->steps->prev = st;
    u->steps = st;
    u->stats.in_flight++;

    /* one round trip: session record, wallet and the last movements together */
    const char *get[] = {"GET", st->key};
    const char *hall[] = {"HGETALL", st->wkey};
    const char *lr[] = {"LRANGE", st->hkey, "0", "4"};
    st->pending = 1; /* held until all three are sent, so none can finish the step early */
    read_one(st, 2, get, on_get);
    read_one(st, 2, hall, on_wallet);
    read_one(st, 4, lr, on_history);
    read_done(st);
}

/* ---------------------------------------------------------------- life cycle */

struct gw_ussd *gw_ussd_new(struct event_base *base, const struct gw_config *cfg,
                            struct gw_redis *redis, struct ussd_menus *const *menus)
{
    struct gw_ussd *u;

    if (!base || !cfg || !redis || !menus)
        return NULL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->base = base;
    u->cfg = cfg;
    u->redis = redis;
    u->menus = menus;
    gw_histo_init(&u->hop_latency, gw_histo_latency_bounds, gw_histo_latency_n);
    u->cbs.ended = on_session_ended;
    u->cbs.arg = u;
    for (unsigned i = 0; i < cfg->events.limits.n_prefixes && i < GW_MAX_PREFIXES; i++)
        u->prefixes[u->n_prefixes++] = cfg->events.limits.country_prefixes[i];
    /* "gold,platinum" (validated by gw_config.c) */
    for (const char *p = cfg->catalog.gift_tiers; *p && u->n_gift_tiers < GW_MAX_TIERS;) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < sizeof(u->gift_tiers[0])) {
            memcpy(u->gift_tiers[u->n_gift_tiers], p, n);
            u->gift_tiers[u->n_gift_tiers++][n] = '\0';
        }
        p += n;
        if (*p == ',')
            p++;
    }
    u->reap = event_new(base, -1, 0, on_reap, u);
    u->cas_script = gw_redis_script_add(redis, CAS_LUA, sizeof(CAS_LUA) - 1);
    if (!u->reap || u->cas_script < 0) {
        gw_ussd_free(u);
        return NULL;
    }
    return u;
}

void gw_ussd_set_catalog(struct gw_ussd *u, const struct ussd_catalog_ops *ops, void *arg)
{
    u->cat = ops;
    u->cat_arg = arg;
}

void gw_ussd_set_ops(struct gw_ussd *u, const struct gw_ussd_ops *ops)
{
    u->ops = *ops;
}

void gw_ussd_set_rate_hook(struct gw_ussd *u, gw_ussd_rate_fn fn, void *arg)
{
    u->rate = fn;
    u->rate_arg = arg;
}

void gw_ussd_set_refer(struct gw_ussd *u, gw_ussd_refer_fn refer, void *arg)
{
    if (!u)
        return;
    u->refer = refer;
    u->refer_arg = arg;
}

void gw_ussd_set_transfer(struct gw_ussd *u, gw_ussd_xfer_fn fn, void *arg)
{
    u->xfer = fn;
    u->xfer_arg = arg;
}

void gw_ussd_detach(struct gw_ussd *u)
{
    if (u)
        u->redis = NULL;
}

const struct gw_histo *gw_ussd_hop_latency(const struct gw_ussd *u)
{
    return &u->hop_latency;
}

void gw_ussd_get_stats(const struct gw_ussd *u, struct gw_ussd_stats *out)
{
    *out = u->stats;
}

void gw_ussd_stats_json(const struct gw_ussd_stats *s, FILE *out)
{
    fputc('{', out);
#define GW_X_JSON(name, help) fprintf(out, "\"%s\":%llu,", #name, (unsigned long long)s->name);
    GW_USSD_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fprintf(out, "\"live\":%u,\"in_flight\":%u}", s->live, s->in_flight);
}

void gw_ussd_free(struct gw_ussd *u)
{
    if (!u)
        return;
    while (u->steps)
        step_free(u->steps);
    for (size_t i = 0; i < LIVE_BUCKETS; i++) {
        while (u->table[i]) {
            struct live *l = u->table[i];
            u->table[i] = l->next;
            /* detach first: freeing a session never calls back, but be explicit about it */
            ussd_session_free(l->s);
            free(l);
        }
    }
    if (u->reap) {
        on_reap(-1, 0, u);
        event_free(u->reap);
    }
    free(u);
}
