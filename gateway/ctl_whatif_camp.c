/*
 * ctl_whatif_camp.c - the campaigns' what-if in loyaltyctl (ctl_whatif_camp.h). Two scratch
 * redis-servers (unix sockets in one mkdtemp folder, no persistence), one per side: [0] the
 * campaigns in force, [1] the draft. Requests are pipelined (PIPE at a time) and the replies read
 * in order; a table of the members with a wallet there (64-bit keys, open addressing) holds what
 * the replay needs to send only the calls that can change something (ctl_whatif_camp.h).
 */
#include "ctl_whatif_camp.h"
#include "ctl_whatif_camp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_birthday.h"
#include "gw_days.h"
#include "gw_event.h"
#include "gw_loyalty.h"
#include "gw_whatif.h"
#include "gw_zone.h"

extern char **environ;

uint64_t cwc_key_of(const char *m)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *m; m++)
        h = (h ^ (unsigned char)*m) * UINT64_C(1099511628211);
    return h ? h : 1;
}

struct member *cwc_member_get(struct ctl_whatif_camp *c, uint64_t k)
{
    for (size_t i = k & (c->cap - 1); c->m[i].key; i = (i + 1) & (c->cap - 1)) {
        if (c->m[i].key == k)
            return &c->m[i];
    }
    return NULL;
}

struct member *cwc_member_add(struct ctl_whatif_camp *c, const char *msisdn)
{
    uint64_t k = cwc_key_of(msisdn);
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        struct member *n = calloc(cap, sizeof(*n));
        if (!n)
            return NULL;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->m[i].key)
                continue;
            size_t j = c->m[i].key & (cap - 1);
            while (n[j].key)
                j = (j + 1) & (cap - 1);
            n[j] = c->m[i];
        }
        free(c->m);
        c->m = n;
        c->cap = cap;
    }
    size_t i = k & (c->cap - 1);
    for (; c->m[i].key; i = (i + 1) & (c->cap - 1)) {
        if (c->m[i].key == k)
            return &c->m[i];
    }
    c->m[i].key = k;
    snprintf(c->m[i].msisdn, sizeof(c->m[i].msisdn), "%s", msisdn);
    c->n++;
    return &c->m[i];
}

/* Reads the pending replies of one side, counting the grants of the EVENT replies: a flat list
 * {id, points, "ok"|"budget"} x N, then the balance (a referral's "refer" is REFPAY's, queued
 * after the call: cwc_ref_after); the referral's replies are ctl_whatif_ref.c's. */
static int drain(struct side *s)
{
    for (unsigned i = 0; i < s->pending; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(s->rc, (void **)&rep) != REDIS_OK || !rep)
            return -EIO;
        int rc = rep->type == REDIS_REPLY_ERROR ? -EPROTO : 0;
        if (rc < 0)
            fprintf(stderr, "loyaltyctl: whatif: campaign.lua: %.200s\n", rep->str);
        if (rc == 0 && (s->kind[i] == CWC_REFER || s->kind[i] == CWC_REFPAY))
            cwc_ref_reply(s, i, rep);
        else if (rc == 0 && s->kind[i] == CWC_EVENT && rep->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k + 3 < rep->elements; k += 3) {
                const redisReply *pts = rep->element[k + 1], *oc = rep->element[k + 2];
                if (pts->type != REDIS_REPLY_STRING || oc->type != REDIS_REPLY_STRING)
                    break;
                if (strcmp(oc->str, "ok") == 0) {
                    s->grants++;
                    s->issued += strtoll(pts->str, NULL, 10);
                    cwc_member_credit(s, i, strtoll(pts->str, NULL, 10));
                } else if (strcmp(oc->str, "budget") == 0)
                    s->stops++;
            }
        }
        freeReplyObject(rep);
        if (rc < 0)
            return rc;
    }
    s->pending = 0;
    return 0;
}

/* Sends both sides' pipelines before reading either: the two servers work at once. */
static int drain_both(struct ctl_whatif_camp *c)
{
    for (int k = 0; k < 2; k++) {
        int done = 0;
        while (!done) {
            if (redisBufferWrite(c->s[k].rc, &done) != REDIS_OK)
                return -EIO;
        }
    }
    return drain(&c->s[0]) < 0 || drain(&c->s[1]) < 0 ? -EIO : 0;
}

int cwc_queue(struct side *s, int argc, const char **argv, const size_t *len, unsigned char kind)
{
    if (s->pending >= sizeof(s->kind) - 1 && drain(s) < 0)
        return -EIO;
    if (redisAppendCommandArgv(s->rc, argc, argv, len) != REDIS_OK)
        return -ENOMEM;
    s->mkey[s->pending] = 0; /* the caller names the member of a grant */
    s->kind[s->pending++] = kind;
    return 0;
}

void cwc_member_credit(struct side *s, unsigned i, int64_t pts)
{
    struct member *m = s->mkey[i] ? cwc_member_get(s->c, s->mkey[i]) : NULL;

    if (m)
        m->bonus[s->k] += pts;
}

static int spawn_server(struct side *s, const char *redis_server, const char *dir, char *err,
                        size_t errlen)
{
    posix_spawn_file_actions_t fa;
    const char *argv[] = {redis_server, "--port", "0", "--unixsocket", s->sock,
                          "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                          "--databases", "1", "--dir", dir, NULL};

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int src = posix_spawnp(&s->pid, redis_server, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (src != 0) {
        s->pid = 0;
        snprintf(err, errlen, "%s: %s (the campaigns' what-if runs campaign.lua in a scratch "
                 "redis-server; --redis-server PATH)", redis_server, strerror(src));
        return -1;
    }
    return 0;
}

static int connect_server(struct side *s, char *err, size_t errlen)
{
    for (int i = 0; i < 200 && !s->rc; i++) { /* up to 10 s for the server to listen */
        redisContext *rc = redisConnectUnix(s->sock);
        if (rc && !rc->err)
            s->rc = rc;
        else {
            redisFree(rc);
            nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
        }
    }
    if (!s->rc) {
        snprintf(err, errlen, "the scratch redis-server did not answer on %s", s->sock);
        return -1;
    }
    /* campaign.lua, then referral.lua (REFER: ctl_whatif_ref.c) */
    const char *text[2] = {gw_lua_campaign, gw_lua_referral};
    size_t len[2] = {gw_lua_campaign_len, gw_lua_referral_len};
    char *sha[2] = {s->sha, s->rsha};
    for (int i = 0; i < 2; i++) {
        redisReply *rep = redisCommand(s->rc, "SCRIPT LOAD %b", text[i], len[i]);
        if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
            snprintf(err, errlen, "the scratch redis-server: %s",
                     rep && rep->str ? rep->str : "no reply");
            freeReplyObject(rep);
            return -1;
        }
        memcpy(sha[i], rep->str, 40);
        freeReplyObject(rep);
    }
    return 0;
}

/* The servers of the run under way, for a stop by signal (the console ends a worker with
 * SIGTERM): killed and reaped, their folder removed, then the signal's default action. Only
 * async-signal-safe calls. */
static struct ctl_whatif_camp *volatile live;

static void on_stop_signal(int sig)
{
    struct ctl_whatif_camp *c = live;

    for (int k = 0; c && k < 2; k++) {
        if (c->s[k].pid > 0) {
            kill(c->s[k].pid, SIGTERM);
            waitpid(c->s[k].pid, NULL, 0);
        }
        unlink(c->s[k].sock);
    }
    if (c && c->dir[0])
        rmdir(c->dir);
    signal(sig, SIG_DFL);
    raise(sig);
}

struct ctl_whatif_camp *ctl_whatif_camp_start(const char *redis_server,
                                              const struct gw_campaigns *doc[2],
                                              const struct gw_campaign_run_config *run,
                                              uint32_t history_len, char *err, size_t errlen)
{
    struct ctl_whatif_camp *c = calloc(1, sizeof(*c));
    const char *all = getenv("LGW_WHATIF_CALL_ALL");

    if (!c || !(c->m = calloc(c->cap = 1024, sizeof(*c->m)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    c->history_len = history_len;
    c->run = *run;
    c->call_all = all && strcmp(all, "1") == 0;
    snprintf(c->dir, sizeof(c->dir), "/tmp/lgw-whatif-redis.XXXXXX");
    live = c;
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);
    if (!mkdtemp(c->dir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        c->dir[0] = '\0';
        goto fail;
    }
    for (int k = 0; k < 2; k++) {
        c->s[k].c = c;
        c->s[k].k = k;
        snprintf(c->s[k].sock, sizeof(c->s[k].sock), "%s/s%d", c->dir, k);
        c->s[k].doc = *doc[k];
        if (spawn_server(&c->s[k], redis_server, c->dir, err, errlen) < 0)
            goto fail;
    }
    for (int k = 0; k < 2; k++) {
        if (connect_server(&c->s[k], err, errlen) < 0)
            goto fail;
    }
    return c;
fail:
    ctl_whatif_camp_stop(c);
    return NULL;
}

/* HSET of the wallet's fields on both sides. */
int cwc_wallet_set(struct ctl_whatif_camp *c, const char *msisdn, int n, const char **fv)
{
    char kw[40];
    const char *argv[2 + 2 * (CTL_WHATIF_MARKS + 8)];

    snprintf(kw, sizeof(kw), "lg:{%s}:w", msisdn);
    argv[0] = "HSET";
    argv[1] = kw;
    for (int i = 0; i < n; i++)
        argv[2 + i] = fv[i];
    for (int k = 0; k < 2; k++) {
        if (cwc_queue(&c->s[k], 2 + n, argv, NULL, CWC_OTHER) < 0)
            return -EIO;
    }
    if (c->s[0].pending >= PIPE || c->s[1].pending >= PIPE)
        return drain_both(c);
    return 0;
}

int ctl_whatif_camp_enrol(struct ctl_whatif_camp *c, const struct gw_journal_enrol *e)
{
    char since[24];
    struct member *m = cwc_member_add(c, e->msisdn);

    if (!m)
        return -ENOMEM;
    if (m->only != CWC_MEMBER) { /* a referee enrols (or a referrer's bare wallet, replayed now) */
        m->only = CWC_MEMBER;
        c->n_only--;
    }
    snprintf(since, sizeof(since), "%" PRId64, e->since);
    m->sday = gw_local_day(e->since);
    /* the wallet commit.lua creates (bal 0, life 0, since), the same on both sides */
    const char *fv[] = {"bal", "0", "life", "0", "since", since};
    return cwc_wallet_set(c, e->msisdn, 6, fv);
}

int ctl_whatif_camp_member(struct ctl_whatif_camp *c, const struct ctl_whatif_member *w)
{
    char since[24], rc[16], rl[24];
    const char *fv[2 * (CTL_WHATIF_MARKS + 8)];
    int n = 0;
    struct member *m = cwc_member_add(c, w->msisdn);

    if (!m)
        return -ENOMEM;
    m->sday = gw_local_day(w->since);
    m->rc = w->rc;
    m->rl = w->rl;
    snprintf(since, sizeof(since), "%" PRId64, w->since);
    snprintf(rc, sizeof(rc), "%" PRIu32, w->rc);
    snprintf(rl, sizeof(rl), "%" PRId64, w->rl);
    /* the balance does not matter to the rules: the bonus figures are the script's replies */
    fv[n++] = "bal", fv[n++] = "0", fv[n++] = "life", fv[n++] = "0", fv[n++] = "rc", fv[n++] = rc;
    if (w->since > 0)
        fv[n++] = "since", fv[n++] = since;
    if (w->rl > 0)
        fv[n++] = "rl", fv[n++] = rl;
    if (w->wo[0]) {
        fv[n++] = "wo", fv[n++] = w->wo;
        m->offer[0] = m->offer[1] = true;
    }
    if (w->blocked)
        fv[n++] = "blocked", fv[n++] = "1";
    char bd[16];
    if (w->bd > 0) { /* campaign.lua BDAY reads it */
        snprintf(bd, sizeof(bd), "%08" PRId32, w->bd);
        fv[n++] = "bd", fv[n++] = bd;
    }
    char field[CTL_WHATIF_MARKS][GW_CAMP_ID_MAX + 4];
    for (size_t i = 0; i < w->nmarks && i < CTL_WHATIF_MARKS; i++) {
        snprintf(field[i], sizeof(field[i]), "c:%s", w->marks[i].id);
        fv[n++] = field[i], fv[n++] = w->marks[i].v;
    }
    m->rc_sent[0] = m->rc_sent[1] = true;
    m->bd = w->bd;
    m->bd_from[0] = m->bd_from[1] = w->bd_from;
    return cwc_wallet_set(c, w->msisdn, n, fv);
}

int ctl_whatif_camp_budget(struct ctl_whatif_camp *c, const char *id, int64_t spent)
{
    char f[GW_CAMP_ID_MAX + 8], v[24];
    const char *argv[] = {"HSET", GW_CAMP_KEY_BUDGET, f, v};

    if (c->nbudget >= sizeof(c->budget) / sizeof(c->budget[0]))
        return -EINVAL;
    snprintf(c->budget[c->nbudget].id, sizeof(c->budget[0].id), "%s", id);
    c->budget[c->nbudget++].spent = spent;
    snprintf(f, sizeof(f), "%s:spent", id);
    snprintf(v, sizeof(v), "%" PRId64, spent);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < c->s[k].doc.n; i++) {
            if (strcmp(c->s[k].doc.c[i].id, id) == 0 &&
                cwc_queue(&c->s[k], 4, argv, NULL, CWC_OTHER) < 0)
                return -EIO;
        }
    }
    return drain_both(c);
}

/* The first run of the daily passes on day: at the end of the quiet hours when the day starts
 * quiet (campaigns.quiet_end_hour), else at its start. */
static int64_t pass_start(const struct ctl_whatif_camp *c, int32_t day)
{
    uint32_t qs = c->run.quiet_start_hour, qe = c->run.quiet_end_hour;
    uint32_t q = qs != qe && (qs > qe || qs == 0) ? qe : 0; /* the day starts quiet */
    return gw_zone_day_start(day) + (int64_t)q * 3600;
}

/* The first win-back of doc running on day, or NULL. */
static const struct gw_camp *winback_on(const struct gw_campaigns *doc, int32_t day)
{
    for (size_t i = 0; i < doc->n; i++)
        if (doc->c[i].rule == GW_CAMP_WINBACK && gw_camp_active(&doc->c[i], day))
            return &doc->c[i];
    return NULL;
}

/* The modelled offer pass for m on side k, if its due day came by `upto` (unix s): the TOPUP of
 * rl indexed m under rl's day + the lapse of the win-back running then; the first pass of that
 * day after the quiet hours and after the lapse itself (the daemon reads the day's set at each
 * pass of the day; the pass interval is not modelled), or the next day's first pass when the
 * lapse falls in the evening's quiet hours, asks campaign.lua OFFER, which decides. */
static int offer_due(struct ctl_whatif_camp *c, struct member *m, int k, int64_t upto)
{
    struct side *s = &c->s[k];

    if (m->rl <= 0 || m->asked_rl[k] == m->rl)
        return 0;
    int32_t rday = gw_local_day(m->rl);
    const struct gw_camp *ix = winback_on(&s->doc, rday);
    if (!ix) {
        m->asked_rl[k] = m->rl; /* not indexed: never offered for this recharge */
        return 0;
    }
    int32_t due = gw_days_add(rday, (int32_t)ix->lapse_days);
    int64_t t = pass_start(c, due);
    const struct gw_camp *wb = winback_on(&s->doc, due);
    if (wb && t < m->rl + (int64_t)wb->lapse_days * 86400) {
        t = m->rl + (int64_t)wb->lapse_days * 86400;
        if (gw_campaign_quiet(&c->run, t)) /* the evening: the next day's first pass */
            t = pass_start(c, gw_days_add(due, 1));
    }
    if (t > upto)
        return 0;
    m->asked_rl[k] = m->rl;
    if (!wb)
        return 0; /* no pass that day: the set waits for a campaign (not modelled) */
    char kw[40], now[24], mr[16], ld[16], ud[16], rc[16], rl[24];
    snprintf(kw, sizeof(kw), "lg:{%s}:w", m->msisdn);
    snprintf(now, sizeof(now), "%" PRId64, t);
    snprintf(mr, sizeof(mr), "%" PRIu32, wb->min_recharges);
    snprintf(ld, sizeof(ld), "%" PRIu32, wb->lapse_days);
    snprintf(ud, sizeof(ud), "%08" PRId32, gw_days_add(due, (int32_t)wb->valid_days));
    if (!m->rc_sent[k]) {
        snprintf(rc, sizeof(rc), "%" PRIu32, m->rc);
        snprintf(rl, sizeof(rl), "%" PRId64, m->rl);
        const char *hs[] = {"HSET", kw, "rc", rc, "rl", rl};
        if (cwc_queue(s, 6, hs, NULL, CWC_OTHER) < 0)
            return -EIO;
        m->rc_sent[k] = true;
    }
    const char *argv[] = {"EVALSHA", s->sha, "2", kw, GW_CAMP_KEY_BUDGET, "OFFER", now, wb->id,
                          mr, ld, ud};
    if (cwc_queue(s, 11, argv, NULL, CWC_OTHER) < 0)
        return -EIO;
    m->offer[k] = true;
    s->offers_asked++;
    return 0;
}

/* The birthday pass for m on side k (gw_campaign_bday.c), modelled: each day D from m->bd_from[k]
 * on which m's birth date is celebrated (gw_birthday_in_year: 29 February on 28 February in a
 * common year), once D's first pass (pass_start) came by upto, calls campaign.lua BDAY with the
 * daemon's arguments (today = the day paid = D, "now" = that moment) for the document's first
 * birthday campaign when it runs on D; the script decides (marker, blocked, budget). No pass is
 * missed in the replay: the catch-up days are not modelled. */
static int bday_due(struct ctl_whatif_camp *c, struct member *m, int k, int64_t upto)
{
    struct side *s = &c->s[k];
    const struct gw_camp *b = NULL;

    for (size_t i = 0; i < s->doc.n && !b; i++)
        if (s->doc.c[i].rule == GW_CAMP_BIRTHDAY)
            b = &s->doc.c[i];
    if (!m->bd || !b)
        return 0;
    for (int32_t y = m->bd_from[k] / 10000;; y++) {
        int32_t d = gw_birthday_in_year(m->bd, y);
        if (!d)
            return 0;
        if (d < m->bd_from[k])
            continue;
        int64_t t = pass_start(c, d);
        if (t > upto)
            return 0;
        m->bd_from[k] = gw_days_add(d, 1);
        if (!gw_camp_active(b, d))
            continue;
        char kw[40], kh[40], now[24], day[16], ref[24], hlen[16], pts[24], budget[24],
            tiers[400];
        if (gw_camp_tiers_arg(b, tiers, sizeof(tiers)) < 0)
            return -EINVAL;
        snprintf(kw, sizeof(kw), "lg:{%s}:w", m->msisdn);
        snprintf(kh, sizeof(kh), "lg:{%s}:h", m->msisdn);
        snprintf(now, sizeof(now), "%" PRId64, t);
        snprintf(day, sizeof(day), "%08" PRId32, d);
        snprintf(ref, sizeof(ref), "bd:%08" PRId32, d);
        snprintf(hlen, sizeof(hlen), "%" PRIu32, c->history_len);
        snprintf(pts, sizeof(pts), "%" PRId64, b->points);
        snprintf(budget, sizeof(budget), "%" PRId64, b->budget);
        /* gw_campaign_bday.c grant()'s call without the aggregates' keys (a tool's mode) */
        const char *argv[] = {"EVALSHA", s->sha, "3",  kw,     kh,       GW_CAMP_KEY_BUDGET,
                              "BDAY",    now,    day,  "BIRTHDAY", ref,  hlen,
                              "0",       "1",    b->id, "birthday", pts, tiers,
                              budget,    day,    b->label};
        s->calls++;
        if (cwc_queue(s, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL, CWC_EVENT) < 0)
            return -EIO;
        s->mkey[s->pending - 1] = m->key;
    }
}

/* Whether an anniversary of sday (+-1 day: the script's zone offset) falls in (d0, d1]. */
static bool anniversary_in(int32_t sday, int32_t d0, int32_t d1)
{
    int32_t lo = gw_days_add(d0, -1), hi = gw_days_add(d1, 1);
    int32_t y0 = lo / 10000 > sday / 10000 ? lo / 10000 : sday / 10000 + 1; /* not year 0 */
    for (int32_t y = y0; y <= hi / 10000; y++) {
        int32_t md = sday % 10000;
        int32_t a = y * 10000 + (md == 229 ? 228 : md); /* 29 February: 28 Feb / 1 March */
        if (gw_days_add(a, 2) > lo && gw_days_add(a, -1) <= hi)
            return true;
    }
    return false;
}

/* Whether the EVENT call on side k can change anything (ctl_whatif_camp.h); *settle: the welcome
 * rules that call settles. A tenure rule that was not running on the member's last call may pay
 * at once (an anniversary before it started). */
static bool worth_calling(const struct ctl_whatif_camp *c, const struct member *m, int k,
                          int32_t day, bool topup, uint16_t *settle)
{
    const struct gw_campaigns *doc = &c->s[k].doc;
    bool call = c->call_all || m->last_day[k] == 0 || (topup && m->offer[k]);

    *settle = 0;
    for (size_t i = 0; i < doc->n && i < 16; i++) {
        const struct gw_camp *cp = &doc->c[i];
        if (!gw_camp_active(cp, day))
            continue;
        if (cp->rule == GW_CAMP_WELCOME && !(m->settled[k] & (1u << i))) {
            *settle |= (uint16_t)(1u << i);
            call = true;
        } else if (cp->rule == GW_CAMP_TENURE && m->last_day[k] &&
                   (!gw_camp_active(cp, m->last_day[k]) ||
                    anniversary_in(m->sday, m->last_day[k], day)))
            call = true;
    }
    return call;
}

int ctl_whatif_camp_event(struct ctl_whatif_camp *c, const struct gw_journal_rec *r,
                          const char *const tier[2])
{
    const char *argv[GW_CAMP_EVENT_ARGS + 3];
    size_t len[GW_CAMP_EVENT_ARGS + 3];
    struct member *m = r->kind == GW_EV_REVERSAL ? NULL : cwc_member_get(c, cwc_key_of(r->msisdn));
    bool topup = r->kind == GW_EV_TOPUP && r->outcome == GW_JOURNAL_CREDITED;

    if (!m || m->only != CWC_MEMBER)
        return 0; /* no wallet in the scratch store (the script would do nothing), or a bare one */
    int64_t now = r->commit_ms / 1000;
    for (int k = 0; k < 2; k++) {
        if (bday_due(c, m, k, now) < 0 || offer_due(c, m, k, now) < 0)
            return -EIO;
    }
    if (topup) { /* commit.lua counts the recharge before the rules run */
        m->rc++;
        m->rl = r->at;
        m->rc_sent[0] = m->rc_sent[1] = false;
    }
    /* the daemon runs the rules after a credited earning event (gw_ingest.c after_commit) */
    if (r->outcome != GW_JOURNAL_CREDITED)
        return 0;
    int32_t day = gw_local_day(r->at);
    for (int k = 0; k < 2; k++) {
        struct side *s = &c->s[k];
        uint16_t settle;
        bool force = false;
        if (topup && m->ref && cwc_ref_before(c, m, k, &force) < 0)
            return -EIO;
        if (!worth_calling(c, m, k, day, r->kind == GW_EV_TOPUP, &settle) && !force) {
            c->skipped++;
            continue;
        }
        int rc = gw_campaign_event_call(&s->doc, r->msisdn, gw_event_kind_name(r->kind), r->ref,
                                        day, r->amount_milli, now, c->history_len, &c->call);
        if (rc == 1)
            continue; /* nothing runs that day: no call, nothing settled */
        if (rc < 0)
            return rc;
        m->settled[k] |= settle;
        m->last_day[k] = day;
        if (r->kind == GW_EV_TOPUP)
            m->offer[k] = false;
        const char *hset[] = {"HSET", c->call.kw, "tier", tier[k]};
        if (m->tier[k] != tier[k] && cwc_queue(s, 4, hset, NULL, CWC_OTHER) < 0)
            return -EIO;
        m->tier[k] = tier[k];
        /* keys: the wallet, its history, the budgets; not the win-back due set (the pass is
         * modelled above) nor the slot's aggregates (without them the script aggregates
         * nothing, as for every tool) */
        int na = 3;
        argv[0] = "EVALSHA", len[0] = 7;
        argv[1] = s->sha, len[1] = 40;
        argv[2] = "3", len[2] = 1;
        for (int i = 0; i < c->call.argc; i++) {
            if (i >= 3 && i < c->call.nkeys)
                continue;
            argv[na] = c->call.argv[i];
            len[na++] = c->call.len[i];
        }
        s->calls++;
        if (cwc_queue(s, na, argv, len, CWC_EVENT) < 0)
            return -EIO;
        s->mkey[s->pending - 1] = m->key;
        if (topup && m->ref && cwc_ref_after(c, m, k, day, now) < 0)
            return -EIO;
    }
    if (c->s[0].pending >= PIPE || c->s[1].pending >= PIPE)
        return drain_both(c);
    return 0;
}

static int64_t field_of(const redisReply *rep, const char *id, const char *what)
{
    size_t il = strlen(id);
    for (size_t k = 0; rep && rep->type == REDIS_REPLY_ARRAY && k + 1 < rep->elements; k += 2) {
        const char *f = rep->element[k]->str, *v = rep->element[k + 1]->str;
        if (f && v && strncmp(f, id, il) == 0 && f[il] == ':' && strcmp(f + il + 1, what) == 0)
            return strtoll(v, NULL, 10);
    }
    return 0;
}

static json_t *side_json(const struct ctl_whatif_camp *c, struct side *s)
{
    json_t *list = json_array();
    redisReply *rep = redisCommand(s->rc, "HGETALL %s", GW_CAMP_KEY_BUDGET);
    int64_t offers = 0;

    for (size_t i = 0; i < s->doc.n; i++) {
        const struct gw_camp *cp = &s->doc.c[i];
        int64_t stop = field_of(rep, cp->id, "stop"), off = field_of(rep, cp->id, "offered");
        int64_t before = 0;
        for (size_t j = 0; j < c->nbudget; j++)
            if (strcmp(c->budget[j].id, cp->id) == 0)
                before = c->budget[j].spent;
        offers += off;
        json_array_append_new(
            list, json_pack("{sssssIsIsIsIsIsbsIsI}", "id", cp->id, "rule",
                            gw_camp_rule_name(cp->rule), "budget", (json_int_t)cp->budget,
                            "spent_before", (json_int_t)before, "spent",
                            (json_int_t)(field_of(rep, cp->id, "spent") - before), "grants",
                            (json_int_t)field_of(rep, cp->id, "n"), "stops", (json_int_t)stop,
                            "stop_reached", stop > 0, "offered", (json_int_t)off, "back",
                            (json_int_t)field_of(rep, cp->id, "back")));
    }
    freeReplyObject(rep);
    return json_pack("{sIsIsIsIsIsoso}", "issued", (json_int_t)s->issued, "grants",
                     (json_int_t)s->grants, "stops", (json_int_t)s->stops, "offers",
                     (json_int_t)offers, "calls", (json_int_t)s->calls, "campaigns", list,
                     "referrals", cwc_ref_json(s));
}

/* The CTL_WHATIF_CAMP_TOP members whose bonus points change most between the sides, largest
 * first: [{msisdn, base, draft}] (bonus points on each side); none when nothing changes. */
static json_t *top_changes(const struct ctl_whatif_camp *c)
{
    struct gw_whatif_change top[CTL_WHATIF_CAMP_TOP];
    unsigned n = 0;
    json_t *arr = json_array();

    for (size_t i = 0; i < c->cap; i++) {
        if (c->m[i].key)
            gw_whatif_top_offer(top, &n, CTL_WHATIF_CAMP_TOP, c->m[i].msisdn, c->m[i].bonus[0],
                                c->m[i].bonus[1]);
    }
    for (unsigned i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{sssIsI}", "msisdn", top[i].msisdn, "base",
                                             (json_int_t)top[i].base, "draft",
                                             (json_int_t)top[i].draft));
    return arr;
}

json_t *ctl_whatif_camp_result(struct ctl_whatif_camp *c, int64_t end)
{
    for (size_t i = 0; i < c->cap; i++) {
        for (int k = 0; c->m[i].key && k < 2; k++) {
            if (bday_due(c, &c->m[i], k, end) < 0 || offer_due(c, &c->m[i], k, end) < 0)
                return NULL;
        }
    }
    if (drain_both(c) < 0)
        return NULL;
    return json_pack("{sosososIso}", "base", side_json(c, &c->s[0]), "draft",
                     side_json(c, &c->s[1]), "members",
                     json_integer((json_int_t)(c->n - c->n_only)), "skipped",
                     (json_int_t)c->skipped, "top_changes", top_changes(c));
}

/* Room for one more holding in h[0], h[1] (capacity *cap, n used). 0 or -ENOMEM. */
static int holdings_room(struct gw_whatif_holding *h[2], size_t *cap, size_t n)
{
    if (n < *cap)
        return 0;
    for (int k = 0; k < 2; k++) {
        void *p = realloc(h[k], *cap * 2 * sizeof(*h[k]));
        if (!p)
            return -ENOMEM;
        h[k] = p;
    }
    *cap *= 2;
    return 0;
}

/* side's "tiers" and "top20_share" from the holdings h[0..n) under t */
static int spread_json(const struct gw_loyalty *t, const struct gw_whatif_holding *h, size_t n,
                       json_t *side)
{
    struct gw_whatif_side sp;
    json_t *tiers = json_object();

    if (!tiers || gw_whatif_spread(t, h, n, &sp) < 0) {
        json_decref(tiers);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < t->n_tiers && i < GW_MAX_TIERS; i++)
        json_object_set_new(tiers, t->tiers[i].name, json_integer((json_int_t)sp.members[i]));
    json_object_set_new(side, "tiers", tiers);
    json_object_set_new(side, "top20_share", json_real(sp.top20_bp / 10000.0));
    return 0;
}

int ctl_whatif_camp_spread(struct ctl_whatif_camp *c, const struct gw_whatif *w,
                           const struct gw_loyalty *const t[2], json_t *result)
{
    size_t cap = c->n + 64, n = 0, pos = 0;
    struct gw_whatif_holding *h[2] = {malloc(cap * sizeof(*h[0])), malloc(cap * sizeof(*h[1]))};
    struct gw_whatif_holding one[2];
    char msisdn[GW_MSISDN_MAX + 1];
    int rc = -ENOMEM;

    if (!h[0] || !h[1])
        goto out;
    /* the loyalty replay's subscribers, each with the bonus points of each side */
    while (gw_whatif_next(w, &pos, msisdn, one) == 1) {
        if (holdings_room(h, &cap, n) < 0)
            goto out;
        const struct member *m = cwc_member_get(c, cwc_key_of(msisdn));
        for (int k = 0; k < 2; k++) {
            int64_t b = m ? m->bonus[k] : 0;
            h[k][n] = (struct gw_whatif_holding){one[k].life + b, one[k].net + b};
        }
        n++;
    }
    /* the members granted a bonus without an event of the window */
    for (size_t i = 0; i < c->cap; i++) {
        const struct member *m = &c->m[i];
        if (!m->key || (!m->bonus[0] && !m->bonus[1]) ||
            gw_whatif_holding_of(w, m->msisdn, 0, &one[0]) == 0)
            continue;
        if (holdings_room(h, &cap, n) < 0)
            goto out;
        for (int k = 0; k < 2; k++)
            h[k][n] = (struct gw_whatif_holding){m->bonus[k], m->bonus[k]};
        n++;
    }
    rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = spread_json(t[k], h[k], n, json_object_get(result, k ? "draft" : "base"));
    json_object_set_new(result, "holders", json_integer((json_int_t)n));
out:
    free(h[0]);
    free(h[1]);
    return rc;
}

void ctl_whatif_camp_stop(struct ctl_whatif_camp *c)
{
    if (!c)
        return;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    live = NULL;
    for (int k = 0; k < 2; k++) {
        redisFree(c->s[k].rc);
        if (c->s[k].pid > 0) {
            kill(c->s[k].pid, SIGTERM); /* the server this process started, by its id */
            waitpid(c->s[k].pid, NULL, 0);
        }
        if (c->s[k].sock[0])
            unlink(c->s[k].sock);
    }
    if (c->dir[0])
        rmdir(c->dir);
    free(c->m);
    free(c->refs);
    free(c);
}
