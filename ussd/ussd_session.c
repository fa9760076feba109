/*
 * ussd_session.c - one USSD dialogue as an explicit table-driven FSM (gw_fsm, the osmo_fsm
 * pattern): each state lists the events it accepts and the states it may go to, the timers are
 * named (T_ANSWER per answer, T_TOTAL per dialogue, T_END for the last screen to go out) and
 * arrive as events, and every transition is logged as "ussd(<id>){OLD} -> NEW", which the unit
 * tests compare with golden logs.
 *
 *   NEW     --OPEN-->    MENU | CONFIRM | ENDING        (engine: first screen)
 *   MENU    --ANSWER-->  MENU | CONFIRM | ENDING        (engine: next screen)
 *   CONFIRM --ANSWER-->  MENU | CONFIRM | ENDING
 *   MENU/CONFIRM --OPEN--> (a new PSSR indication on the same key restarts the dialogue)
 *   MENU/CONFIRM --ABORT | T_ANSWER | T_TOTAL--> ENDED
 *   ENDING  --SENT | T_END | ABORT--> ENDED
 *   ENDED   absorbs late ANSWER / ABORT / SENT (logged at debug, nothing to send)
 *
 * One timer per instance (gw_fsm): after each screen it is armed for whichever of T_ANSWER and
 * the rest of T_TOTAL expires first. Deadlines are also checked against the wall clock
 * (gw_clock_now_ms, injectable) when an answer arrives, because a session restored from Redis by
 * another process may already be past them (shared/spec/ussd.md: "The gateway expires every
 * session itself").
 *
 * This file also builds session keys and (de)serialises the stored record.
 *
 * Ownership: struct ussd_session is created by ussd_session_new()/ussd_session_restore() and
 * freed by ussd_session_free(); it borrows cfg and cbs. The ended callback must not free it.
 */
#include "ussd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_core.h"

#define LOG_CAT "ussd"

struct ussd_session {
    struct gw_fsm_inst fi;
    const struct ussd_config *cfg;
    struct ussd_session_cbs cbs;
    char key[USSD_KEY_MAX];
    struct ussd_state st;
    int64_t started_ms; /* wall clock: when the dialogue opened */
    int64_t last_ms;    /* wall clock: when the last screen was produced */
    enum ussd_end_reason end_reason;
};

/* What a dispatched event carries (OPEN, ANSWER) and what it returns. */
struct step_io {
    const struct ussd_env *env;
    const char *text;
    size_t len;
    struct ussd_reply *out;
    int rc;
};

static const char *const state_names[USSD_ST__COUNT] = {
    [USSD_ST_NEW] = "NEW",       [USSD_ST_MENU] = "MENU",   [USSD_ST_CONFIRM] = "CONFIRM",
    [USSD_ST_ENDING] = "ENDING", [USSD_ST_ENDED] = "ENDED",
};

static const char *const event_names[USSD_EV__COUNT] = {
    [USSD_EV_OPEN] = "OPEN",   [USSD_EV_ANSWER] = "ANSWER",     [USSD_EV_ABORT] = "ABORT",
    [USSD_EV_SENT] = "SENT",   [USSD_EV_T_ANSWER] = "T_ANSWER", [USSD_EV_T_TOTAL] = "T_TOTAL",
    [USSD_EV_T_END] = "T_END",
};

static const char *const timer_names[USSD_T__COUNT] = {
    [USSD_T_ANSWER] = "T_ANSWER",
    [USSD_T_TOTAL] = "T_TOTAL",
    [USSD_T_END] = "T_END",
};

const char *ussd_session_state_name(enum ussd_session_state state)
{
    return (unsigned)state < USSD_ST__COUNT ? state_names[state] : "?";
}

const char *ussd_end_reason_name(enum ussd_end_reason reason)
{
    switch (reason) {
    case USSD_ENDED_COMPLETED:
        return "completed";
    case USSD_ENDED_ABORTED:
        return "aborted";
    case USSD_ENDED_T_ANSWER:
        return "T_ANSWER";
    case USSD_ENDED_T_TOTAL:
        return "T_TOTAL";
    }
    return "?";
}

/* ---------------------------------------------------------------- transitions */

static struct ussd_session *sess(struct gw_fsm_inst *fi)
{
    return fi->priv;
}

static void end(struct ussd_session *s, enum ussd_end_reason reason)
{
    s->end_reason = reason;
    gw_fsm_state_chg(&s->fi, USSD_ST_ENDED, 0, -1);
}

/* Moves to the state the screen asks for, with the timer that expires first. */
static void after_screen(struct ussd_session *s, const struct ussd_reply *r, int64_t now)
{
    const struct ussd_config *cfg = s->cfg;
    int64_t left = s->started_ms + (int64_t)cfg->t_total_ms - now;
    uint32_t ms = cfg->t_answer_ms;
    int timer = USSD_T_ANSWER;

    s->last_ms = now;
    if (r->end) {
        gw_fsm_state_chg(&s->fi, USSD_ST_ENDING, cfg->t_end_ms, USSD_T_END);
        return;
    }
    if (left < (int64_t)ms) {
        ms = left > 0 ? (uint32_t)left : 1;
        timer = USSD_T_TOTAL;
    }
    gw_fsm_state_chg(&s->fi, r->confirm ? USSD_ST_CONFIRM : USSD_ST_MENU, ms, timer);
}

static void do_open(struct ussd_session *s, struct step_io *io)
{
    int64_t now = gw_clock_now_ms();
    struct ussd_state st;

    io->rc = ussd_engine_open(io->env, io->text, io->len, &st, io->out);
    if (io->rc < 0) {
        gw_fsm_log(&s->fi, GW_LOG_ERROR, "open failed: %d", io->rc);
        return;
    }
    if (s->fi.state != USSD_ST_NEW)
        gw_fsm_log(&s->fi, GW_LOG_NOTICE, "new PSSR indication: dialogue restarted");
    s->st = st;
    s->started_ms = now;
    after_screen(s, io->out, now);
}

static void do_answer(struct ussd_session *s, struct step_io *io)
{
    int64_t now = gw_clock_now_ms();

    /* a session restored from the store may be past its deadlines already */
    if (now - s->started_ms >= (int64_t)s->cfg->t_total_ms) {
        io->rc = -ETIMEDOUT;
        end(s, USSD_ENDED_T_TOTAL);
        return;
    }
    if (now - s->last_ms >= (int64_t)s->cfg->t_answer_ms) {
        io->rc = -ETIMEDOUT;
        end(s, USSD_ENDED_T_ANSWER);
        return;
    }
    io->rc = ussd_engine_answer(io->env, io->text, io->len, &s->st, io->out);
    if (io->rc < 0) {
        gw_fsm_log(&s->fi, GW_LOG_ERROR, "answer failed: %d", io->rc);
        return;
    }
    after_screen(s, io->out, now);
}

static void new_action(struct gw_fsm_inst *fi, uint32_t event, void *data)
{
    struct ussd_session *s = sess(fi);

    switch (event) {
    case USSD_EV_OPEN:
        do_open(s, data);
        break;
    case USSD_EV_ABORT:
        end(s, USSD_ENDED_ABORTED);
        break;
    }
}

static void dialogue_action(struct gw_fsm_inst *fi, uint32_t event, void *data)
{
    struct ussd_session *s = sess(fi);

    switch (event) {
    case USSD_EV_OPEN:
        do_open(s, data);
        break;
    case USSD_EV_ANSWER:
        do_answer(s, data);
        break;
    case USSD_EV_ABORT:
        end(s, USSD_ENDED_ABORTED);
        break;
    case USSD_EV_T_ANSWER:
        end(s, USSD_ENDED_T_ANSWER);
        break;
    case USSD_EV_T_TOTAL:
        end(s, USSD_ENDED_T_TOTAL);
        break;
    }
}

static void ending_action(struct gw_fsm_inst *fi, uint32_t event, void *data)
{
    struct ussd_session *s = sess(fi);
    struct step_io *io = data;

    switch (event) {
    case USSD_EV_OPEN:
        do_open(s, data);
        break;
    case USSD_EV_ANSWER:
        /* the subscriber typed on the last screen: nothing more to show */
        gw_fsm_log(fi, GW_LOG_DEBUG, "answer after the last screen ignored");
        if (io)
            io->rc = -ESRCH;
        break;
    case USSD_EV_SENT:
    case USSD_EV_T_END:
        end(s, USSD_ENDED_COMPLETED);
        break;
    case USSD_EV_ABORT:
        end(s, USSD_ENDED_ABORTED);
        break;
    }
}

static void ended_action(struct gw_fsm_inst *fi, uint32_t event, void *data)
{
    struct step_io *io = data;

    /* late traffic for a finished dialogue is normal on a busy network: absorb it */
    gw_fsm_log(fi, GW_LOG_DEBUG, "late %s ignored", event_names[event]);
    if (io && (event == USSD_EV_ANSWER || event == USSD_EV_OPEN))
        io->rc = -ESRCH;
}

static void ended_onenter(struct gw_fsm_inst *fi, uint32_t prev)
{
    struct ussd_session *s = sess(fi);

    (void)prev;
    gw_fsm_log(fi, GW_LOG_DEBUG, "ended: %s", ussd_end_reason_name(s->end_reason));
    if (s->cbs.ended)
        s->cbs.ended(s->cbs.arg, s, s->end_reason);
}

static void timer_cb(struct gw_fsm_inst *fi, int timer_id)
{
    static const uint32_t ev[USSD_T__COUNT] = {
        [USSD_T_ANSWER] = USSD_EV_T_ANSWER,
        [USSD_T_TOTAL] = USSD_EV_T_TOTAL,
        [USSD_T_END] = USSD_EV_T_END,
    };

    if (timer_id >= 0 && timer_id < USSD_T__COUNT)
        gw_fsm_dispatch(fi, ev[timer_id], NULL);
}

#define B(x) GW_BIT(USSD_##x)
#define TO_SCREEN (B(ST_MENU) | B(ST_CONFIRM) | B(ST_ENDING) | B(ST_ENDED))
#define IN_DIALOGUE (B(EV_OPEN) | B(EV_ANSWER) | B(EV_ABORT) | B(EV_T_ANSWER) | B(EV_T_TOTAL))

static const struct gw_fsm_state states[USSD_ST__COUNT] = {
    [USSD_ST_NEW] = {"NEW", B(EV_OPEN) | B(EV_ABORT), TO_SCREEN, new_action, NULL, NULL},
    [USSD_ST_MENU] = {"MENU", IN_DIALOGUE, TO_SCREEN, dialogue_action, NULL, NULL},
    [USSD_ST_CONFIRM] = {"CONFIRM", IN_DIALOGUE, TO_SCREEN, dialogue_action, NULL, NULL},
    [USSD_ST_ENDING] = {"ENDING",
                        B(EV_OPEN) | B(EV_ANSWER) | B(EV_SENT) | B(EV_T_END) | B(EV_ABORT),
                        TO_SCREEN, ending_action, NULL, NULL},
    [USSD_ST_ENDED] = {"ENDED", B(EV_OPEN) | B(EV_ANSWER) | B(EV_ABORT) | B(EV_SENT), 0,
                       ended_action, ended_onenter, NULL},
};

static const struct gw_fsm ussd_fsm = {
    .name = "ussd",
    .states = states,
    .num_states = USSD_ST__COUNT,
    .event_names = event_names,
    .num_events = USSD_EV__COUNT,
    .timer_names = timer_names,
    .num_timers = USSD_T__COUNT,
    .timer_cb = timer_cb,
};

/* ---------------------------------------------------------------- life cycle */

/* "ussd:212612345678:s12" -> "…5678:s12": the id shown in logs, MSISDN masked (STYLE.md). */
static void log_id(const char *key, const char *msisdn, char *out, size_t cap)
{
    char mask[GW_MASK_LEN];
    const char *suffix = "";
    const char *p = strncmp(key, "ussd:", 5) == 0 ? key + 5 : key;

    p = strchr(p, ':');
    if (p)
        suffix = p;
    snprintf(out, cap, "%s%s", gw_mask_msisdn(msisdn ? msisdn : "", mask), suffix);
}

struct ussd_session *ussd_session_new(const struct ussd_config *cfg, struct event_base *base,
                                      const char *key, const char *msisdn,
                                      const struct ussd_session_cbs *cbs)
{
    struct ussd_session *s;
    char id[48];

    if (!cfg || !key || strnlen(key, USSD_KEY_MAX) >= USSD_KEY_MAX)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = cfg;
    if (cbs)
        s->cbs = *cbs;
    snprintf(s->key, sizeof(s->key), "%s", key);
    log_id(key, msisdn, id, sizeof(id));
    if (gw_fsm_inst_init(&s->fi, &ussd_fsm, base, id, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

struct ussd_session *ussd_session_restore(const struct ussd_config *cfg, struct event_base *base,
                                          const char *key, const char *msisdn,
                                          const struct ussd_session_cbs *cbs,
                                          const struct ussd_record *rec)
{
    struct ussd_session *s;
    int64_t now, left;
    int timer = -1;

    if (!rec || (unsigned)rec->fsm_state >= USSD_ST__COUNT)
        return NULL;
    s = ussd_session_new(cfg, base, key, msisdn, cbs);
    if (!s)
        return NULL;
    /* Not a transition: the dialogue continues where another process left it. */
    s->fi.state = rec->fsm_state;
    s->st = rec->st;
    s->started_ms = rec->started_ms;
    s->last_ms = rec->last_ms;
    gw_fsm_log(&s->fi, GW_LOG_INFO, "restored");
    now = gw_clock_now_ms();
    if (rec->fsm_state == USSD_ST_MENU || rec->fsm_state == USSD_ST_CONFIRM) {
        int64_t a = s->last_ms + (int64_t)cfg->t_answer_ms - now;
        int64_t t = s->started_ms + (int64_t)cfg->t_total_ms - now;
        left = a <= t ? a : t;
        timer = a <= t ? USSD_T_ANSWER : USSD_T_TOTAL;
    } else if (rec->fsm_state == USSD_ST_ENDING) {
        left = s->last_ms + (int64_t)cfg->t_end_ms - now;
        timer = USSD_T_END;
    } else {
        left = 0;
    }
    if (timer >= 0) {
        /* past a deadline: expire on the next loop turn (or on the next answer's check) */
        if (left < 1)
            left = 1;
        if (left > (int64_t)cfg->t_total_ms)
            left = cfg->t_total_ms; /* a record from the future (clock skew) */
        gw_fsm_timer_arm(&s->fi, (uint32_t)left, timer);
    }
    return s;
}

void ussd_session_free(struct ussd_session *s)
{
    if (!s)
        return;
    gw_fsm_inst_cleanup(&s->fi);
    free(s);
}

static int dispatch(struct ussd_session *s, uint32_t event, struct step_io *io)
{
    int rc;

    if (!s)
        return -EINVAL;
    rc = gw_fsm_dispatch(&s->fi, event, io);
    if (rc < 0)
        return -ESRCH; /* not accepted in this state (logged by gw_fsm) */
    return io ? io->rc : 0;
}

int ussd_session_open(struct ussd_session *s, const struct ussd_env *env, const char *dialled,
                      size_t len, struct ussd_reply *out)
{
    struct step_io io = {env, dialled, len, out, 0};

    if (!env || !out)
        return -EINVAL;
    return dispatch(s, USSD_EV_OPEN, &io);
}

int ussd_session_answer(struct ussd_session *s, const struct ussd_env *env, const char *input,
                        size_t len, struct ussd_reply *out)
{
    struct step_io io = {env, input, len, out, 0};

    if (!env || !out)
        return -EINVAL;
    return dispatch(s, USSD_EV_ANSWER, &io);
}

int ussd_session_abort(struct ussd_session *s)
{
    if (s && s->fi.state == USSD_ST_ENDED)
        return -ESRCH;
    return dispatch(s, USSD_EV_ABORT, NULL);
}

int ussd_session_sent(struct ussd_session *s)
{
    if (s && s->fi.state != USSD_ST_ENDING)
        return -ESRCH; /* only the last screen's send matters */
    return dispatch(s, USSD_EV_SENT, NULL);
}

enum ussd_session_state ussd_session_get_state(const struct ussd_session *s)
{
    return s ? (enum ussd_session_state)s->fi.state : USSD_ST_ENDED;
}

const struct ussd_state *ussd_session_dialogue(const struct ussd_session *s)
{
    return s ? &s->st : NULL;
}

const char *ussd_session_get_key(const struct ussd_session *s)
{
    return s ? s->key : NULL;
}

void ussd_session_record(const struct ussd_session *s, struct ussd_record *rec)
{
    if (!s || !rec)
        return;
    memset(rec, 0, sizeof(*rec));
    rec->fsm_state = (enum ussd_session_state)s->fi.state;
    rec->st = s->st;
    rec->started_ms = s->started_ms;
    rec->last_ms = s->last_ms;
}

struct gw_fsm_inst *ussd_session_fsm(struct ussd_session *s)
{
    return s ? &s->fi : NULL;
}

/* ---------------------------------------------------------------- keys */

int ussd_session_key(const struct ussd_config *cfg, const char *msisdn, bool has_sinfo,
                     uint16_t sinfo, bool has_umr, uint16_t umr, char *out, size_t cap)
{
    enum ussd_key_mode mode = cfg ? cfg->key_mode : USSD_KEY_SESSION_INFO;
    const char *d;
    size_t n;
    int w;

    if (!msisdn || !out || cap == 0)
        return -EINVAL;
    d = msisdn[0] == '+' ? msisdn + 1 : msisdn;
    n = strnlen(d, 21);
    if (n == 0 || n > 20)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (d[i] < '0' || d[i] > '9')
            return -EINVAL;
    if (mode == USSD_KEY_SESSION_INFO && has_sinfo)
        /* the session number is the high octet; the low octet (seq<<1 | end) changes per PDU */
        w = snprintf(out, cap, "ussd:%s:s%u", d, (unsigned)(sinfo >> 8));
    else if (mode == USSD_KEY_UMR && has_umr)
        w = snprintf(out, cap, "ussd:%s:u%u", d, (unsigned)umr);
    else
        w = snprintf(out, cap, "ussd:%s", d);
    return (w < 0 || (size_t)w >= cap) ? -ENOSPC : 0;
}

/* ---------------------------------------------------------------- stored record */

/* Characters of a provider reference (catalogue version, item id) kept in a record: never the
 * record's own separators. */
#define REF_CHARSET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
#define DIGITS "0123456789"

static bool charset(const char *p, size_t n, const char *allowed);

/* Appends ";k=value" when value is non-empty and made of allowed characters (a value that is
 * not is left out: the confirmation then names no version, which the redeem hook refuses). */
static int put_opt(char *out, size_t cap, int w, char k, const char *value, size_t max,
                   const char *allowed)
{
    size_t n = strnlen(value, max);

    if (n == 0 || n >= max || !charset(value, n, allowed))
        return w;
    int a = snprintf(out + w, cap - (size_t)w, ";%c=%.*s", k, (int)n, value);
    return (a < 0 || (size_t)a >= cap - (size_t)w) ? -1 : w + a;
}

int ussd_record_format(const struct ussd_record *rec, char *out, size_t cap)
{
    int w;

    if (!rec || !out || cap == 0 || (unsigned)rec->fsm_state >= USSD_ST__COUNT)
        return -EINVAL;
    w = snprintf(out, cap,
                 "v=1;s=%s;n=%.31s;p=%" PRIu32 ";l=%.7s;c=%" PRIu32 ";i=%" PRIu32 ";e=%d;t=%" PRId64
                 ";a=%" PRId64 ";d=%.39s",
                 state_names[rec->fsm_state], rec->st.node, rec->st.page, rec->st.lang,
                 rec->st.category, rec->st.item, rec->st.error ? 1 : 0, rec->started_ms,
                 rec->last_ms, rec->st.dialled);
    if (w < 0 || (size_t)w >= cap)
        return -ENOSPC;
    /* what the last confirmation screen showed, and the beneficiary: only when set */
    w = put_opt(out, cap, w, 'w', rec->st.version, sizeof(rec->st.version), REF_CHARSET);
    if (w >= 0)
        w = put_opt(out, cap, w, 'r', rec->st.ref, sizeof(rec->st.ref), REF_CHARSET);
    if (w >= 0 && rec->st.price > 0) {
        int a = snprintf(out + w, cap - (size_t)w, ";m=%" PRId64, rec->st.price);
        w = (a < 0 || (size_t)a >= cap - (size_t)w) ? -1 : w + a;
    }
    if (w >= 0)
        w = put_opt(out, cap, w, 'b', rec->st.to, sizeof(rec->st.to), DIGITS);
    if (w >= 0 && rec->st.perk) { /* the premium perk's screens */
        int a = snprintf(out + w, cap - (size_t)w, ";k=1");
        w = (a < 0 || (size_t)a >= cap - (size_t)w) ? -1 : w + a;
    }
    return w < 0 ? -ENOSPC : w;
}

static bool parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool charset(const char *p, size_t n, const char *allowed)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(allowed, p[i]))
            return false;
    return true;
}

int ussd_record_parse(const char *in, size_t len, struct ussd_record *rec)
{
    static const char keys[] = "vsnltapciedwrmbk"; /* one bit each, to refuse duplicates */
    const char *p, *end;
    unsigned seen = 0;
    struct ussd_record r;
    uint64_t v;

    if (rec)
        memset(rec, 0, sizeof(*rec));
    if (!in || !rec || len == 0 || len >= USSD_RECORD_MAX || memchr(in, '\0', len))
        return -EINVAL;
    memset(&r, 0, sizeof(r));
    p = in;
    end = in + len;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *f_end = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(f_end - p));
        if (!eq || eq == p)
            return -EINVAL;
        size_t kl = (size_t)(eq - p);
        const char *val = eq + 1;
        size_t vl = (size_t)(f_end - val);
        const char *k = kl == 1 ? strchr(keys, p[0]) : NULL;
        if (k && p[0] != '\0') {
            unsigned bit = 1u << (k - keys);
            if (seen & bit)
                return -EINVAL;
            seen |= bit;
            switch (p[0]) {
            case 'v':
                if (vl != 1 || val[0] != '1')
                    return -EINVAL;
                break;
            case 's': {
                int found = -1;
                for (int i = 0; i < USSD_ST__COUNT; i++)
                    if (strlen(state_names[i]) == vl && memcmp(state_names[i], val, vl) == 0)
                        found = i;
                if (found < 0)
                    return -EINVAL;
                r.fsm_state = (enum ussd_session_state)found;
                break;
            }
            case 'n':
                if (vl == 0 || vl >= sizeof(r.st.node) ||
                    !charset(val, vl, "abcdefghijklmnopqrstuvwxyz0123456789_"))
                    return -EINVAL;
                memcpy(r.st.node, val, vl);
                break;
            case 'l':
                if (vl < 2 || vl > 3 || !charset(val, vl, "abcdefghijklmnopqrstuvwxyz"))
                    return -EINVAL;
                memcpy(r.st.lang, val, vl);
                break;
            case 'p':
                if (!parse_u64(val, vl, 9999, &v))
                    return -EINVAL;
                r.st.page = (uint32_t)v;
                break;
            case 'c':
            case 'i':
                if (!parse_u64(val, vl, UINT32_MAX, &v))
                    return -EINVAL;
                if (p[0] == 'c')
                    r.st.category = (uint32_t)v;
                else
                    r.st.item = (uint32_t)v;
                break;
            case 'e':
                if (vl != 1 || (val[0] != '0' && val[0] != '1'))
                    return -EINVAL;
                r.st.error = val[0] == '1';
                break;
            case 't':
            case 'a':
                if (!parse_u64(val, vl, INT64_MAX, &v))
                    return -EINVAL;
                if (p[0] == 't')
                    r.started_ms = (int64_t)v;
                else
                    r.last_ms = (int64_t)v;
                break;
            case 'd':
                if (vl >= sizeof(r.st.dialled) || !charset(val, vl, "0123456789*#"))
                    return -EINVAL;
                memcpy(r.st.dialled, val, vl);
                break;
            case 'w':
            case 'r': {
                char *dst = p[0] == 'w' ? r.st.version : r.st.ref;
                if (vl == 0 || vl >= USSD_REF_MAX || !charset(val, vl, REF_CHARSET))
                    return -EINVAL;
                memcpy(dst, val, vl);
                break;
            }
            case 'm':
                if (!parse_u64(val, vl, INT64_MAX, &v) || v == 0)
                    return -EINVAL;
                r.st.price = (int64_t)v;
                break;
            case 'b':
                if (vl == 0 || vl >= sizeof(r.st.to) || !charset(val, vl, DIGITS))
                    return -EINVAL;
                memcpy(r.st.to, val, vl);
                break;
            case 'k':
                if (vl != 1 || val[0] != '1')
                    return -EINVAL;
                r.st.perk = true;
                break;
            }
        } else if (kl > 16 || !charset(p, kl, "abcdefghijklmnopqrstuvwxyz_")) {
            return -EINVAL; /* an unknown key is skipped only when it looks like a key */
        }
        if (semi && semi + 1 == end)
            return -EINVAL; /* a trailing ';': we never write one */
        p = semi ? semi + 1 : end;
    }
    /* v, s, n, l, t and a (the first six keys) are required */
    if ((seen & 0x3Fu) != 0x3Fu)
        return -EINVAL;
    *rec = r;
    return 0;
}
