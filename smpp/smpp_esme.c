/*
 * smpp_esme.c - the ESME side of one SMPP 3.4 link: TCP session(s) on bufferevents, framing with
 * a max_pdu limit, the pre-scan of every inbound PDU, the bind FSM (gw_fsm), enquire_link and
 * dead-link detection, answering the SMSC's enquire_link / unbind, deliver_sm to the application
 * and its out-of-order responses, reconnect with back-off, and the graceful stop.
 * The outbound submit path (queue, window, TPS, throttling) is in smpp_esme_submit.c.
 *
 * The link is one FSM instance ("smpp", id = cfg.name); every transition is logged as
 * smpp(NAME){OLD} -> NEW by gw_fsm, and all other lines use the same prefix. In TX_RX mode the
 * FSM drives both sessions together: it is CONNECTING until both are connected, BINDING until
 * both are bound, and any failure of either drops both.
 *
 * Ownership: smpp_esme_new() allocates the link; smpp_esme_free() releases it and everything
 * in it. Sessions are closed (callbacks detached) at once but their bufferevents are freed from
 * the deferred event, because closing usually happens inside their own callbacks.
 *
 * Delivery receipts (esm_class & 0x3C == 0x04) are counted (stats.receipts_in) and handed to
 * ops->deliver like any deliver_sm: the application decides what they mean and answers them.
 */
#include "smpp_esme_priv.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEQ_MAX 0x7FFFFFFFu
#define IS_RESP(id) (((id)&0x80000000u) != 0)

/* ---------------------------------------------------------------- FSM tables */

static const char *const event_names[E__COUNT] = {
    [E_START] = "START",
    [E_CONNECTED] = "CONNECTED",
    [E_CONN_FAIL] = "CONN_FAIL",
    [E_BIND_OK] = "BIND_OK",
    [E_BIND_FAIL] = "BIND_FAIL",
    [E_LINK_DOWN] = "LINK_DOWN",
    [E_PEER_UNBIND] = "PEER_UNBIND",
    [E_STOP] = "STOP",
    [E_DRAINED] = "DRAINED",
    [E_UNBIND_DONE] = "UNBIND_DONE",
    [E_TIMEOUT] = "TIMEOUT",
};

static const char *const timer_names[T__COUNT] = {
    [T_CONNECT] = "T_CONNECT",     [T_BIND] = "T_BIND",   [T_ENQUIRE] = "T_ENQUIRE",
    [T_RECONNECT] = "T_RECONNECT", [T_DRAIN] = "T_DRAIN", [T_UNBIND] = "T_UNBIND",
};

static void st_stopped_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_disconnected_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_connecting_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_binding_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_bound_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_draining_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_unbinding_action(struct gw_fsm_inst *fi, uint32_t ev, void *data);
static void st_disconnected_enter(struct gw_fsm_inst *fi, uint32_t prev);
static void st_stopped_enter(struct gw_fsm_inst *fi, uint32_t prev);
static void fsm_timer_cb(struct gw_fsm_inst *fi, int timer_id);

#define B GW_BIT
static const struct gw_fsm_state esme_states[ST__COUNT] = {
    [ST_STOPPED] = {.name = "STOPPED",
                    .in_event_mask = B(E_START),
                    .out_state_mask = B(ST_CONNECTING),
                    .action = st_stopped_action,
                    .onenter = st_stopped_enter},
    [ST_DISCONNECTED] = {.name = "DISCONNECTED",
                         .in_event_mask = B(E_TIMEOUT) | B(E_STOP),
                         .out_state_mask = B(ST_CONNECTING) | B(ST_STOPPED),
                         .action = st_disconnected_action,
                         .onenter = st_disconnected_enter},
    [ST_CONNECTING] = {.name = "CONNECTING",
                       .in_event_mask = B(E_CONNECTED) | B(E_CONN_FAIL) | B(E_LINK_DOWN) |
                                        B(E_PEER_UNBIND) | B(E_TIMEOUT) | B(E_STOP),
                       .out_state_mask = B(ST_BINDING) | B(ST_DISCONNECTED) | B(ST_STOPPED),
                       .action = st_connecting_action},
    [ST_BINDING] = {.name = "BINDING",
                    .in_event_mask = B(E_BIND_OK) | B(E_BIND_FAIL) | B(E_LINK_DOWN) |
                                     B(E_PEER_UNBIND) | B(E_TIMEOUT) | B(E_STOP),
                    .out_state_mask = B(ST_BOUND) | B(ST_DISCONNECTED) | B(ST_STOPPED),
                    .action = st_binding_action},
    [ST_BOUND] = {.name = "BOUND",
                  .in_event_mask = B(E_LINK_DOWN) | B(E_PEER_UNBIND) | B(E_TIMEOUT) | B(E_STOP),
                  .out_state_mask = B(ST_DISCONNECTED) | B(ST_DRAINING) | B(ST_UNBINDING),
                  .action = st_bound_action},
    [ST_DRAINING] = {.name = "DRAINING",
                     .in_event_mask = B(E_DRAINED) | B(E_LINK_DOWN) | B(E_PEER_UNBIND) |
                                      B(E_TIMEOUT) | B(E_STOP),
                     .out_state_mask = B(ST_UNBINDING) | B(ST_STOPPED),
                     .action = st_draining_action},
    [ST_UNBINDING] = {.name = "UNBINDING",
                      .in_event_mask = B(E_UNBIND_DONE) | B(E_LINK_DOWN) | B(E_PEER_UNBIND) |
                                       B(E_TIMEOUT) | B(E_STOP),
                      .out_state_mask = B(ST_STOPPED),
                      .action = st_unbinding_action},
};
#undef B

static const struct gw_fsm esme_fsm = {
    .name = "smpp",
    .states = esme_states,
    .num_states = ST__COUNT,
    .event_names = event_names,
    .num_events = E__COUNT,
    .timer_names = timer_names,
    .num_timers = T__COUNT,
    .timer_cb = fsm_timer_cb,
};

/* ---------------------------------------------------------------- small helpers */

int64_t esme_now(void)
{
    return gw_clock_mono_ms();
}

uint32_t esme_next_seq(struct smpp_esme *e)
{
    uint32_t s = e->next_seq;

    /* SMPP 3.4 5.1.4: 0x00000001 .. 0x7FFFFFFF; never 0, wraps to 1. */
    e->next_seq = (s >= SEQ_MAX) ? 1 : s + 1;
    return s;
}

struct esme_sess *esme_tx_sess(struct smpp_esme *e)
{
    return &e->sess[0];
}

void esme_defer(struct smpp_esme *e)
{
    if (e->ev_defer)
        event_active(e->ev_defer, EV_TIMEOUT, 0);
}

int esme_sess_send(struct esme_sess *s, const uint8_t *pdu, size_t len)
{
    if (!s->bev)
        return -ENOTCONN;
    if (bufferevent_write(s->bev, pdu, len) < 0)
        return -ENOMEM;
    s->e->st.pdus_out++;
    return 0;
}

static int send_header(struct esme_sess *s, uint32_t cmd, uint32_t status, uint32_t seq)
{
    uint8_t buf[SMPP_HEADER_LEN];
    size_t len = 0;
    int rc = smpp_encode_header(cmd, status, seq, buf, sizeof(buf), &len);

    if (rc < 0)
        return rc;
    if (cmd == SMPP_GENERIC_NACK)
        s->e->st.generic_nacks_sent++;
    return esme_sess_send(s, buf, len);
}

static int send_resp(struct esme_sess *s, uint32_t resp_id, uint32_t status, uint32_t seq)
{
    uint8_t buf[64];
    size_t len = 0;
    int rc = smpp_encode_resp(resp_id, status, seq, NULL, buf, sizeof(buf), &len);

    if (rc < 0)
        return rc;
    return esme_sess_send(s, buf, len);
}

static struct esme_sess *sess_by_gen(struct smpp_esme *e, uint32_t gen)
{
    for (unsigned i = 0; i < e->nsess; i++) {
        if (e->sess[i].bev && e->sess[i].gen == gen)
            return &e->sess[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- pending deliver_sm tokens */

static uint32_t pend_home(const struct smpp_esme *e, uint64_t token)
{
    /* splitmix64's finaliser: the SMSC picks the sequence numbers, so spread them well */
    token ^= token >> 30;
    token *= UINT64_C(0xbf58476d1ce4e5b9);
    token ^= token >> 27;
    token *= UINT64_C(0x94d049bb133111eb);
    token ^= token >> 31;
    return (uint32_t)token & (e->cap_pend - 1);
}

static int pend_find(const struct smpp_esme *e, uint64_t token)
{
    uint32_t mask = e->cap_pend - 1;

    for (uint32_t i = pend_home(e, token);; i = (i + 1) & mask) {
        if (!e->pend[i].used)
            return -1; /* the table is at most half full: an empty slot always ends the probe */
        if (e->pend[i].token == token)
            return (int)i;
    }
}

/* -ENOBUFS when rx_pending_max deliver_sm are already waiting for the application. */
static int pend_add(struct smpp_esme *e, uint64_t token, uint32_t resp_id)
{
    uint32_t mask = e->cap_pend - 1, i;

    if (e->npend >= e->cfg.rx_pending_max)
        return -ENOBUFS;
    for (i = pend_home(e, token); e->pend[i].used; i = (i + 1) & mask)
        ;
    e->pend[i].token = token;
    e->pend[i].resp_id = resp_id;
    e->pend[i].used = true;
    e->npend++;
    return 0;
}

/* Backward-shift deletion: later entries of the probe chain move up into the hole, so lookups
 * never meet a hole before their entry. */
static void pend_del(struct smpp_esme *e, int slot)
{
    uint32_t mask = e->cap_pend - 1, hole = (uint32_t)slot;

    for (uint32_t j = (hole + 1) & mask; e->pend[j].used; j = (j + 1) & mask) {
        uint32_t home = pend_home(e, e->pend[j].token);
        /* j may move to the hole when its home is not cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            e->pend[hole] = e->pend[j];
            hole = j;
        }
    }
    e->pend[hole].used = false;
    e->npend--;
}

static void pend_drop_gen(struct smpp_esme *e, uint32_t gen)
{
    /* A deletion only moves entries into the slot just emptied, or from the table's start into
     * its end: re-examining slot i after a deletion sees every entry. */
    for (uint32_t i = 0; i < e->cap_pend && e->npend > 0;) {
        if (e->pend[i].used && (uint32_t)(e->pend[i].token >> 32) == gen)
            pend_del(e, (int)i);
        else
            i++;
    }
}

/* ---------------------------------------------------------------- sessions */

static void sess_read_cb(struct bufferevent *bev, void *arg);
static void sess_event_cb(struct bufferevent *bev, short what, void *arg);

/* Detaches and closes a session. flush: push what is already queued (an unbind_resp, a
 * generic_nack) with one non-blocking write first - best effort, the socket is going away. */
static void sess_close(struct esme_sess *s, bool flush)
{
    struct smpp_esme *e = s->e;
    struct bufferevent *bev = s->bev;

    if (!bev)
        return;
    if (flush) {
        /* A socket bufferevent keeps the start of its output frozen for everyone but itself;
         * it is about to go, so thaw it, copy out what is queued and send it once, without
         * blocking and without SIGPIPE on a dead peer. */
        struct evbuffer *out = bufferevent_get_output(bev);
        evutil_socket_t fd = bufferevent_getfd(bev);
        uint8_t tail[512];
        ev_ssize_t n;

        evbuffer_unfreeze(out, 1);
        n = evbuffer_copyout(out, tail, sizeof(tail));
        if (fd >= 0 && n > 0)
            (void)send(fd, tail, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    bufferevent_disable(bev, EV_READ | EV_WRITE);
    if (e->ngrave < ESME_GRAVE_MAX) {
        e->grave[e->ngrave++] = bev;
        esme_defer(e);
    } else {
        bufferevent_free(bev); /* libevent defers the real free while a callback runs */
    }
    pend_drop_gen(e, s->gen);
    s->bev = NULL;
    if (s->connected)
        e->st.disconnects++;
    s->connected = s->bound = s->unbind_sent = s->unbound = false;
    s->enq_seq = 0;
}

static void sess_close_all(struct smpp_esme *e, bool flush)
{
    for (unsigned i = 0; i < e->nsess; i++)
        sess_close(&e->sess[i], flush);
}

static int sess_open(struct esme_sess *s, const struct sockaddr *sa, socklen_t salen)
{
    struct smpp_esme *e = s->e;

    s->bev = bufferevent_socket_new(e->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!s->bev)
        return -ENOMEM;
    s->gen = ++e->gen_counter;
    if (s->gen == 0)
        s->gen = ++e->gen_counter;
    s->connected = s->bound = s->unbind_sent = s->unbound = false;
    s->bind_seq = s->enq_seq = s->unbind_seq = 0;
    bufferevent_setcb(s->bev, sess_read_cb, NULL, sess_event_cb, s);
    /* Non-blocking; an immediate failure is reported through the (deferred) event callback. */
    if (bufferevent_socket_connect(s->bev, sa, (int)salen) < 0) {
        bufferevent_free(s->bev);
        s->bev = NULL;
        return -ECONNREFUSED;
    }
    return 0;
}

/* ---------------------------------------------------------------- transitions */

static void go_disconnected(struct smpp_esme *e)
{
    uint32_t delay = gw_backoff_next(&e->backoff);

    gw_fsm_state_chg(&e->fi, ST_DISCONNECTED, delay, T_RECONNECT);
}

static void go_stopped(struct smpp_esme *e)
{
    gw_fsm_state_chg(&e->fi, ST_STOPPED, 0, -1);
}

static void start_connect(struct smpp_esme *e)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    gw_fsm_state_chg(&e->fi, ST_CONNECTING, e->cfg.connect_timeout_ms, T_CONNECT);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%u", (unsigned)e->cfg.port);
    /* Blocking resolution: SMSC addresses are numeric or in /etc/hosts in every deployment we
     * know of; a slow resolver would stall the loop (see known gaps). */
    rc = getaddrinfo(e->cfg.host, port, &hints, &res);
    if (rc != 0 || !res) {
        gw_fsm_log(&e->fi, GW_LOG_ERROR, "cannot resolve %s: %s", e->cfg.host, gai_strerror(rc));
        if (res)
            freeaddrinfo(res);
        go_disconnected(e);
        return;
    }
    for (unsigned i = 0; i < e->nsess; i++) {
        if (sess_open(&e->sess[i], res->ai_addr, res->ai_addrlen) < 0) {
            gw_fsm_log(&e->fi, GW_LOG_ERROR, "connect %s:%u failed", e->cfg.host,
                       (unsigned)e->cfg.port);
            freeaddrinfo(res);
            sess_close_all(e, false);
            go_disconnected(e);
            return;
        }
    }
    freeaddrinfo(res);
}

static void start_bind(struct smpp_esme *e)
{
    gw_fsm_state_chg(&e->fi, ST_BINDING, e->cfg.response_timeout_ms, T_BIND);
    for (unsigned i = 0; i < e->nsess; i++) {
        struct esme_sess *s = &e->sess[i];
        uint8_t buf[256];
        size_t len = 0;
        int rc;

        s->bind_seq = esme_next_seq(e);
        rc = smpp_encode_bind(s->bind_cmd, s->bind_seq, &e->cfg.bind, buf, sizeof(buf), &len);
        if (rc < 0 || esme_sess_send(s, buf, len) < 0) {
            /* A bind that cannot be encoded is a config error: keep retrying with back-off so
             * it is visible in the logs rather than silently stopping. */
            gw_fsm_log(&e->fi, GW_LOG_ERROR, "%s: cannot encode %s (%d)", s->role,
                       smpp_cmd_name(s->bind_cmd), rc);
            sess_close_all(e, false);
            go_disconnected(e);
            return;
        }
        gw_fsm_log(&e->fi, GW_LOG_DEBUG, "%s: %s seq=%u system_id=%s", s->role,
                   smpp_cmd_name(s->bind_cmd), s->bind_seq, e->cfg.bind.system_id);
    }
}

static bool all(struct smpp_esme *e, bool want_connected)
{
    for (unsigned i = 0; i < e->nsess; i++) {
        if (want_connected ? !e->sess[i].connected : !e->sess[i].bound)
            return false;
    }
    return true;
}

static bool nothing_in_flight(const struct smpp_esme *e)
{
    return e->window.n == 0 && e->npend == 0;
}

static void start_unbind(struct smpp_esme *e)
{
    bool sent = false;

    gw_fsm_state_chg(&e->fi, ST_UNBINDING, e->cfg.response_timeout_ms, T_UNBIND);
    for (unsigned i = 0; i < e->nsess; i++) {
        struct esme_sess *s = &e->sess[i];

        if (!s->bev || !s->bound)
            continue;
        s->unbind_seq = esme_next_seq(e);
        if (send_header(s, SMPP_UNBIND, 0, s->unbind_seq) == 0) {
            s->unbind_sent = true;
            sent = true;
        }
    }
    if (!sent)
        go_stopped(e);
}

static void begin_stop_bound(struct smpp_esme *e)
{
    if (nothing_in_flight(e))
        start_unbind(e);
    else
        gw_fsm_state_chg(&e->fi, ST_DRAINING, e->cfg.drain_timeout_ms, T_DRAIN);
}

void esme_check_drained(struct smpp_esme *e)
{
    if (e->fi.state == ST_DRAINING && nothing_in_flight(e))
        gw_fsm_dispatch(&e->fi, E_DRAINED, NULL);
}

/* The application hears about bound -> not bound from the action that left BOUND, after the
 * state change completed, so a callback that calls back into the link sees a settled state. */
static void report_bound(struct smpp_esme *e)
{
    bool now = e->fi.state == ST_BOUND;

    if (now == e->bound_reported)
        return;
    e->bound_reported = now;
    if (e->ops.bound)
        e->ops.bound(e->arg, e, now);
}

/* Dead-link detection and idle enquire_link, per session (SMPP 3.4 4.11). Re-arms T_ENQUIRE for
 * the earliest of: a session becoming idle, an enquire_link_resp deadline. */
static void enquire_check(struct smpp_esme *e)
{
    int64_t now = esme_now(), next = INT64_MAX;

    for (unsigned i = 0; i < e->nsess; i++) {
        struct esme_sess *s = &e->sess[i];

        if (!s->bev || !s->bound)
            continue;
        if (s->enq_seq) {
            if (now >= s->enq_deadline_ms) {
                e->st.response_timeouts++;
                gw_fsm_log(&e->fi, GW_LOG_NOTICE, "%s: no enquire_link_resp in %ums, link dead",
                           s->role, e->cfg.response_timeout_ms);
                sess_close_all(e, false);
                go_disconnected(e);
                return;
            }
            if (s->enq_deadline_ms < next)
                next = s->enq_deadline_ms;
        } else if (now - s->last_rx_ms >= (int64_t)e->cfg.enquire_link_ms) {
            s->enq_seq = esme_next_seq(e);
            s->enq_deadline_ms = now + e->cfg.response_timeout_ms;
            e->st.enquire_sent++;
            send_header(s, SMPP_ENQUIRE_LINK, 0, s->enq_seq);
            if (s->enq_deadline_ms < next)
                next = s->enq_deadline_ms;
        } else if (s->last_rx_ms + e->cfg.enquire_link_ms < next) {
            next = s->last_rx_ms + e->cfg.enquire_link_ms;
        }
    }
    if (next == INT64_MAX)
        next = now + e->cfg.enquire_link_ms;
    gw_fsm_timer_arm(&e->fi, (uint32_t)(next - now > 0 ? next - now : 1), T_ENQUIRE);
}

/* ---------------------------------------------------------------- state actions */

static void fsm_timer_cb(struct gw_fsm_inst *fi, int timer_id)
{
    gw_fsm_dispatch(fi, E_TIMEOUT, &timer_id);
}

static void st_stopped_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    (void)data;
    if (ev == E_START)
        start_connect(fi->priv);
}

static void st_stopped_enter(struct gw_fsm_inst *fi, uint32_t prev)
{
    struct smpp_esme *e = fi->priv;

    (void)prev;
    sess_close_all(e, true);
    evtimer_del(e->ev_window);
    evtimer_del(e->ev_pump);
    esme_submit_fail_all(e, &e->window, -ECANCELED);
    esme_submit_fail_all(e, &e->queue, -ECANCELED);
    if (e->stopping && e->done_cb) {
        e->done_pending = true;
        esme_defer(e);
    }
}

static void st_disconnected_enter(struct gw_fsm_inst *fi, uint32_t prev)
{
    struct smpp_esme *e = fi->priv;

    (void)prev;
    sess_close_all(e, true);
    /* Outstanding submits have no answer now; queued ones wait for the next bind. */
    esme_submit_fail_all(e, &e->window, -ENOTCONN);
    evtimer_del(e->ev_window);
}

static void st_disconnected_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    struct smpp_esme *e = fi->priv;

    (void)data;
    if (ev == E_TIMEOUT)
        start_connect(e);
    else if (ev == E_STOP)
        go_stopped(e);
}

static void st_connecting_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    struct smpp_esme *e = fi->priv;

    (void)data;
    switch (ev) {
    case E_CONNECTED:
        if (all(e, true))
            start_bind(e);
        break;
    case E_STOP:
        go_stopped(e);
        break;
    default: /* CONN_FAIL, LINK_DOWN, PEER_UNBIND, TIMEOUT(T_CONNECT) */
        go_disconnected(e);
        break;
    }
}

static void st_binding_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    struct smpp_esme *e = fi->priv;

    switch (ev) {
    case E_BIND_OK:
        if (!all(e, false))
            break;
        gw_backoff_reset(&e->backoff);
        e->st.binds_ok++;
        gw_fsm_state_chg(fi, ST_BOUND, e->cfg.enquire_link_ms, T_ENQUIRE);
        report_bound(e);
        esme_pump(e);
        break;
    case E_STOP:
        go_stopped(e);
        break;
    case E_TIMEOUT:
        e->st.response_timeouts++;
        e->st.bind_failures++;
        gw_fsm_log(fi, GW_LOG_NOTICE, "no bind response in %ums (%s)", e->cfg.response_timeout_ms,
                   timer_names[*(int *)data]);
        go_disconnected(e);
        break;
    default: /* BIND_FAIL (counted where the status was read), LINK_DOWN, PEER_UNBIND */
        go_disconnected(e);
        break;
    }
}

static void st_bound_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    struct smpp_esme *e = fi->priv;

    (void)data;
    switch (ev) {
    case E_TIMEOUT:
        enquire_check(e);
        break;
    case E_STOP:
        begin_stop_bound(e);
        break;
    default: /* LINK_DOWN, PEER_UNBIND */
        go_disconnected(e);
        break;
    }
    report_bound(e);
}

static void st_draining_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    struct smpp_esme *e = fi->priv;

    (void)data;
    switch (ev) {
    case E_DRAINED:
        start_unbind(e);
        break;
    case E_TIMEOUT:
        gw_fsm_log(fi, GW_LOG_NOTICE, "drain timeout: %u submits, %u deliver_sm unanswered",
                   e->window.n, e->npend);
        start_unbind(e);
        break;
    case E_STOP:
        break; /* already stopping */
    default:   /* LINK_DOWN, PEER_UNBIND */
        go_stopped(e);
        break;
    }
}

static void st_unbinding_action(struct gw_fsm_inst *fi, uint32_t ev, void *data)
{
    (void)data;
    if (ev == E_STOP)
        return;
    if (ev == E_TIMEOUT)
        gw_fsm_log(fi, GW_LOG_NOTICE, "no unbind_resp, closing");
    go_stopped(fi->priv); /* UNBIND_DONE, TIMEOUT, LINK_DOWN, PEER_UNBIND */
}

/* ---------------------------------------------------------------- inbound */

static void refuse(struct esme_sess *s, const uint8_t *pdu, size_t len, const struct smpp_header *h,
                   uint32_t status, const char *reason, bool decode)
{
    struct smpp_esme *e = s->e;

    if (decode)
        e->st.rejected_decode++;
    else
        e->st.rejected_prescan++;
    gw_fsm_log(&e->fi, GW_LOG_NOTICE, "%s: refused %s seq=%u len=%zu: %s -> %s", s->role,
               smpp_cmd_name(h->id), h->seq, len, reason ? reason : "?", smpp_status_name(status));
    /* Answer first (the hook's contract says the link already answered). Responses are never
     * answered; a request we could not parse gets its own response type when it is one we
     * serve (the SMSC then knows the status), else generic_nack. */
    if (h->id == SMPP_DELIVER_SM || h->id == SMPP_DATA_SM)
        send_resp(s, h->id | 0x80000000u, status, h->seq);
    else if (!IS_RESP(h->id))
        send_header(s, SMPP_GENERIC_NACK, status, h->seq);
    if (e->ops.rejected)
        e->ops.rejected(e->arg, pdu, len, status, reason ? reason : "");
}

static void on_deliver(struct esme_sess *s, const uint8_t *pdu, size_t len,
                       const struct smpp_header *h)
{
    struct smpp_esme *e = s->e;
    uint32_t resp_id = h->id | 0x80000000u;
    struct smpp_sm *sm;
    const char *reason = NULL;
    uint64_t token;
    char masked[GW_MASK_LEN];

    e->st.deliver_in++;
    if (e->fi.state == ST_DRAINING || e->fi.state == ST_UNBINDING) {
        /* Stopping: the SMSC keeps it and redelivers to whoever binds next (events.md). */
        send_resp(s, resp_id, SMPP_RX_T_APPN, h->seq);
        return;
    }
    if (e->fi.state != ST_BOUND) {
        send_resp(s, resp_id, SMPP_RINVBNDSTS, h->seq);
        return;
    }
    sm = malloc(sizeof(*sm));
    if (!sm) {
        send_resp(s, resp_id, SMPP_RX_T_APPN, h->seq);
        return;
    }
    if (smpp_decode_sm(pdu, len, sm, &reason) < 0) {
        /* Passed the pre-scan but libsmpp34 refuses it (e.g. schedule_delivery_time set in a
         * deliver_sm): permanent for this PDU, so ESME_RX_P_APPN; the hook dead-letters it. */
        refuse(s, pdu, len, h, SMPP_RX_P_APPN, reason, true);
        free(sm);
        return;
    }
    if ((sm->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT)
        e->st.receipts_in++;
    token = ((uint64_t)s->gen << 32) | h->seq;
    if (pend_find(e, token) >= 0) {
        /* The SMSC reused a sequence number still unanswered: one response will serve both. */
        gw_fsm_log(&e->fi, GW_LOG_NOTICE, "%s: %s seq=%u repeats an unanswered one", s->role,
                   smpp_cmd_name(h->id), h->seq);
    } else if (pend_add(e, token, resp_id) < 0) {
        /* rx_pending_max already wait for the application (Redis slow or away): the SMSC is told
         * to slow down and redelivers; nothing is lost and memory stays bounded. */
        e->st.deliver_throttled++;
        gw_fsm_log(&e->fi, GW_LOG_DEBUG, "%s: %s seq=%u throttled: %u unanswered", s->role,
                   smpp_cmd_name(h->id), h->seq, e->npend);
        send_resp(s, resp_id, SMPP_RTHROTTLED, h->seq);
        free(sm);
        return;
    }
    gw_fsm_log(&e->fi, GW_LOG_DEBUG, "%s: %s seq=%u from %s esm=0x%02x len=%u", s->role,
               smpp_cmd_name(h->id), h->seq, gw_mask_msisdn(sm->src_addr, masked), sm->esm_class,
               sm->text_len);
    e->ops.deliver(e->arg, e, token, h->id, sm);
    free(sm);
}

static void on_unbind_resp(struct esme_sess *s)
{
    struct smpp_esme *e = s->e;

    s->unbound = true;
    for (unsigned i = 0; i < e->nsess; i++) {
        if (e->sess[i].unbind_sent && !e->sess[i].unbound)
            return;
    }
    if (e->fi.state == ST_UNBINDING)
        gw_fsm_dispatch(&e->fi, E_UNBIND_DONE, NULL);
}

static void on_bind_resp(struct esme_sess *s, uint32_t status)
{
    struct smpp_esme *e = s->e;

    if (status == SMPP_ROK) {
        s->bound = true;
        gw_fsm_log(&e->fi, GW_LOG_INFO, "%s: bound as %s", s->role, e->cfg.bind.system_id);
        gw_fsm_dispatch(&e->fi, E_BIND_OK, NULL);
    } else {
        e->st.bind_failures++;
        gw_fsm_log(&e->fi, GW_LOG_ERROR, "%s: bind refused: %s", s->role, smpp_status_name(status));
        gw_fsm_dispatch(&e->fi, E_BIND_FAIL, NULL);
    }
}

/* body_ok false: the PDU failed the pre-scan, only its header may be used (it still settles the
 * request it answers: a submit the SMSC accepted must not time out and be sent twice). */
static void on_response(struct esme_sess *s, const uint8_t *pdu, size_t len,
                        const struct smpp_header *h, bool body_ok)
{
    struct smpp_esme *e = s->e;
    uint32_t st = e->fi.state;

    if (st == ST_BINDING && s->bind_seq && h->seq == s->bind_seq &&
        (h->id == (s->bind_cmd | 0x80000000u) || h->id == SMPP_GENERIC_NACK)) {
        s->bind_seq = 0;
        on_bind_resp(s,
                     h->id == SMPP_GENERIC_NACK && h->status == 0 ? SMPP_RUNKNOWNERR : h->status);
        return;
    }
    if (s->enq_seq && h->seq == s->enq_seq &&
        (h->id == SMPP_ENQUIRE_LINK_RESP || h->id == SMPP_GENERIC_NACK)) {
        s->enq_seq = 0; /* any answer proves the link alive */
        return;
    }
    if (s->unbind_sent && h->seq == s->unbind_seq &&
        (h->id == SMPP_UNBIND_RESP || h->id == SMPP_GENERIC_NACK)) {
        on_unbind_resp(s);
        return;
    }
    if (h->id == SMPP_SUBMIT_SM_RESP || h->id == SMPP_GENERIC_NACK) {
        char id[65] = "";
        const char *reason = NULL;

        if (body_ok && h->id == SMPP_SUBMIT_SM_RESP &&
            smpp_decode_resp_id(pdu, len, id, sizeof(id), &reason) < 0) {
            /* The status in the header still tells the outcome; losing only the message_id is
             * better than a timeout that makes the application submit twice. */
            e->st.rejected_decode++;
            id[0] = '\0';
            if (e->ops.rejected)
                e->ops.rejected(e->arg, pdu, len, h->status, reason ? reason : "");
        }
        if (esme_submit_resp(e, h->seq, h->status, id))
            return;
    }
    gw_fsm_log(&e->fi, GW_LOG_INFO, "%s: late or unexpected %s seq=%u %s, dropped", s->role,
               smpp_cmd_name(h->id), h->seq, smpp_status_name(h->status));
}

/* One complete PDU, copied out of the socket buffer (pdu[len] == 0). */
static void process_pdu(struct esme_sess *s, const uint8_t *pdu, size_t len,
                        const struct smpp_header *h)
{
    struct smpp_esme *e = s->e;
    uint32_t status = 0;
    const char *reason = NULL;

    e->st.pdus_in++;
    s->last_rx_ms = esme_now();
    if (smpp_prescan(pdu, len, &status, &reason) < 0) {
        if (status == SMPP_RINVCMDID)
            e->st.unknown_cmds++;
        refuse(s, pdu, len, h, status, reason, false);
        if (IS_RESP(h->id) && status != SMPP_RINVCMDID && s->bev)
            on_response(s, pdu, len, h, false);
        return;
    }
    if (IS_RESP(h->id)) {
        on_response(s, pdu, len, h, true);
        return;
    }
    switch (h->id) {
    case SMPP_DELIVER_SM:
    case SMPP_DATA_SM:
        on_deliver(s, pdu, len, h);
        break;
    case SMPP_ENQUIRE_LINK:
        e->st.enquire_in++;
        send_header(s, SMPP_ENQUIRE_LINK_RESP, 0, h->seq);
        break;
    case SMPP_UNBIND:
        /* SMPP 3.4 4.2: answer, then the SMSC closes; we close too and come back later. */
        gw_fsm_log(&e->fi, GW_LOG_NOTICE, "%s: unbind from SMSC", s->role);
        send_header(s, SMPP_UNBIND_RESP, 0, h->seq);
        sess_close(s, true);
        gw_fsm_dispatch(&e->fi, E_PEER_UNBIND, NULL);
        break;
    default:
        /* A request an ESME does not serve (bind, submit_sm, outbind...). */
        e->st.unknown_cmds++;
        refuse(s, pdu, len, h, SMPP_RINVCMDID, "command not served by an ESME", false);
        break;
    }
}

static void sess_read_cb(struct bufferevent *bev, void *arg)
{
    struct esme_sess *s = arg;
    struct smpp_esme *e = s->e;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint32_t gen = s->gen;

    for (;;) {
        size_t avail = evbuffer_get_length(in), want;
        struct smpp_header h;
        const uint8_t *p;
        int n;

        if (avail < SMPP_HEADER_LEN)
            return;
        want = avail < e->cfg.max_pdu ? avail : e->cfg.max_pdu;
        p = evbuffer_pullup(in, (ev_ssize_t)want);
        if (!p)
            return;
        n = smpp_frame_check(p, want, e->cfg.max_pdu, &h);
        if (n == 0)
            return;
        if (n < 0) {
            /* The length cannot be trusted, so nothing after it can be framed: nack, close. */
            smpp_header_read(p, &h);
            e->st.pdus_in++;
            e->st.rejected_prescan++;
            gw_fsm_log(&e->fi, GW_LOG_ERROR, "%s: command_length %u (max %u), closing", s->role,
                       h.len, e->cfg.max_pdu);
            /* generic_nack whatever the command: its body was never read, so not answered */
            send_header(s, SMPP_GENERIC_NACK, SMPP_RINVCMDLEN, h.seq);
            if (e->ops.rejected)
                e->ops.rejected(e->arg, p, SMPP_HEADER_LEN, SMPP_RINVCMDLEN,
                                "command_length out of range");
            if (!s->bev || s->gen != gen)
                return;
            sess_close(s, true);
            gw_fsm_dispatch(&e->fi, E_LINK_DOWN, NULL);
            return;
        }
        memcpy(e->rx, p, (size_t)n);
        e->rx[n] = 0;
        evbuffer_drain(in, (size_t)n);
        process_pdu(s, e->rx, (size_t)n, &h);
        if (!s->bev || s->gen != gen)
            return; /* closed while handling it */
    }
}

static void sess_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct esme_sess *s = arg;
    struct smpp_esme *e = s->e;

    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        evutil_socket_t fd = bufferevent_getfd(bev);

        /* PDUs are small and latency-bound: no Nagle. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        s->connected = true;
        s->last_rx_ms = esme_now();
        e->st.connects++;
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        gw_fsm_log(&e->fi, GW_LOG_DEBUG, "%s: connected to %s:%u", s->role, e->cfg.host,
                   (unsigned)e->cfg.port);
        gw_fsm_dispatch(&e->fi, E_CONNECTED, NULL);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        int err = EVUTIL_SOCKET_ERROR();
        bool was_connected = s->connected;

        gw_fsm_log(&e->fi, GW_LOG_NOTICE, "%s: %s (%s)", s->role,
                   was_connected ? "connection lost" : "connect failed",
                   (what & BEV_EVENT_EOF) ? "EOF" : evutil_socket_error_to_string(err));
        sess_close(s, false);
        gw_fsm_dispatch(&e->fi, was_connected ? E_LINK_DOWN : E_CONN_FAIL, NULL);
    }
}

/* ---------------------------------------------------------------- deferred work */

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smpp_esme *e = arg;
    void (*done)(void *);
    void *done_arg;

    (void)fd;
    (void)what;
    while (e->ngrave > 0)
        bufferevent_free(e->grave[--e->ngrave]);
    esme_run_completions(e);
    if (e->done_pending) {
        /* Last: nothing of e is touched after done(), which may well free the link. */
        done = e->done_cb;
        done_arg = e->done_arg;
        e->done_pending = false;
        e->done_cb = NULL;
        if (done)
            done(done_arg);
    }
}

/* ---------------------------------------------------------------- public */

void smpp_esme_config_defaults(struct smpp_esme_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "SMSC");
    snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
    cfg->port = 2775;
    cfg->bind.interface_version = 0x34;
    cfg->mode = SMPP_BIND_TRX;
    cfg->window = 10;
    cfg->enquire_link_ms = 30000;
    cfg->response_timeout_ms = 10000;
    cfg->connect_timeout_ms = 5000;
    cfg->reconnect_min_ms = 1000;
    cfg->reconnect_max_ms = 60000;
    cfg->drain_timeout_ms = 5000;
    cfg->throttle_backoff_ms = 1000;
    cfg->tps = 0;
    cfg->max_pdu = SMPP_PDU_MAX_DEFAULT;
    cfg->submit_queue_max = 10000;
    cfg->rx_pending_max = 4096;
}

/* Zeros mean "default"; the rest is clamped so no timer can be 0 (a busy loop) and the receive
 * buffer can hold any PDU we are willing to decode. */
static void config_sanitise(struct smpp_esme_config *c)
{
    struct smpp_esme_config d;

    smpp_esme_config_defaults(&d);
#define DEF(f)                                                                                     \
    if (c->f == 0)                                                                                 \
    c->f = d.f
    DEF(window);
    DEF(enquire_link_ms);
    DEF(response_timeout_ms);
    DEF(connect_timeout_ms);
    DEF(reconnect_min_ms);
    DEF(reconnect_max_ms);
    DEF(drain_timeout_ms);
    DEF(throttle_backoff_ms);
    DEF(max_pdu);
    DEF(submit_queue_max);
    DEF(rx_pending_max);
#undef DEF
    if (c->bind.interface_version == 0)
        c->bind.interface_version = 0x34;
    if (c->reconnect_max_ms < c->reconnect_min_ms)
        c->reconnect_max_ms = c->reconnect_min_ms;
    if (c->max_pdu < 256)
        c->max_pdu = 256;
    if (c->max_pdu > 65536)
        c->max_pdu = 65536;
    if (!(c->tps >= 0)) /* also NaN */
        c->tps = 0;
    c->name[sizeof(c->name) - 1] = '\0';
    c->host[sizeof(c->host) - 1] = '\0';
}

struct smpp_esme *smpp_esme_new(struct event_base *base, const struct smpp_esme_config *cfg,
                                const struct smpp_esme_ops *ops, void *arg)
{
    struct smpp_esme *e;
    double burst;

    if (!base || !cfg || !ops || !ops->deliver)
        return NULL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->base = base;
    e->cfg = *cfg;
    config_sanitise(&e->cfg);
    e->ops = *ops;
    e->arg = arg;
    e->next_seq = 1;
    gw_backoff_init(&e->backoff, e->cfg.reconnect_min_ms, e->cfg.reconnect_max_ms, 0);
    if (e->cfg.mode == SMPP_BIND_TX_RX) {
        e->nsess = 2;
        e->sess[0].bind_cmd = SMPP_BIND_TRANSMITTER;
        e->sess[0].role = "tx";
        e->sess[1].bind_cmd = SMPP_BIND_RECEIVER;
        e->sess[1].role = "rx";
    } else {
        e->nsess = 1;
        e->sess[0].bind_cmd = SMPP_BIND_TRANSCEIVER;
        e->sess[0].role = "trx";
    }
    for (unsigned i = 0; i < 2; i++)
        e->sess[i].e = e;
    /* A burst of 50 ms worth of tokens (at least one): close to the contracted TPS in any
     * one-second window, without losing rate to timer granularity at high TPS. */
    burst = e->cfg.tps * 0.05;
    smpp_bucket_init(&e->bucket, e->cfg.tps, burst < 1.0 ? 1.0 : burst, esme_now());
    if (e->cfg.rx_pending_max > SMPP_RX_PENDING_MAX)
        e->cfg.rx_pending_max = SMPP_RX_PENDING_MAX;
    for (e->cap_pend = 16; e->cap_pend < 2 * e->cfg.rx_pending_max;)
        e->cap_pend *= 2;
    e->pend = calloc(e->cap_pend, sizeof(*e->pend));
    e->rx = malloc((size_t)e->cfg.max_pdu + 1);
    e->ev_window = evtimer_new(base, esme_window_timer_cb, e);
    e->ev_pump = evtimer_new(base, esme_pump_timer_cb, e);
    e->ev_defer = event_new(base, -1, 0, defer_cb, e);
    if (!e->rx || !e->pend || !e->ev_window || !e->ev_pump || !e->ev_defer ||
        gw_fsm_inst_init(&e->fi, &esme_fsm, base, e->cfg.name, e) < 0) {
        smpp_esme_free(e);
        return NULL;
    }
    return e;
}

int smpp_esme_start(struct smpp_esme *e)
{
    if (!e)
        return -EINVAL;
    if (e->fi.state != ST_STOPPED)
        return e->stopping ? -EBUSY : 0;
    /* A done() still pending from an earlier stop keeps its place and fires. */
    e->stopping = false;
    gw_backoff_reset(&e->backoff);
    gw_fsm_dispatch(&e->fi, E_START, NULL);
    return 0;
}

int smpp_esme_respond(struct smpp_esme *e, uint64_t token, uint32_t status)
{
    uint32_t gen = (uint32_t)(token >> 32), seq = (uint32_t)token;
    struct esme_sess *s;
    uint32_t resp_id;
    int i, rc;

    if (!e)
        return -EINVAL;
    s = sess_by_gen(e, gen);
    if (!s)
        return -ENOTCONN; /* that connection is gone: the SMSC will redeliver */
    i = pend_find(e, token);
    if (i < 0) {
        gw_fsm_log(&e->fi, GW_LOG_ERROR, "respond: seq=%u not pending (answered twice?)", seq);
        return -ENOENT;
    }
    resp_id = e->pend[i].resp_id;
    pend_del(e, i);
    rc = send_resp(s, resp_id, status, seq);
    esme_check_drained(e);
    return rc;
}

void smpp_esme_stop(struct smpp_esme *e, void (*done)(void *arg), void *arg)
{
    if (!e)
        return;
    /* A second stop while one is running replaces the completion (documented in the report). */
    e->done_cb = done;
    e->done_arg = arg;
    if (e->stopping && e->fi.state != ST_STOPPED)
        return;
    e->stopping = true;
    /* Queued submits never go out now; in-flight ones get until the end of the drain. */
    esme_submit_fail_all(e, &e->queue, -ECANCELED);
    evtimer_del(e->ev_pump);
    if (e->fi.state == ST_STOPPED) {
        e->done_pending = done != NULL;
        esme_defer(e);
        return;
    }
    gw_fsm_dispatch(&e->fi, E_STOP, NULL);
}

bool smpp_esme_is_bound(const struct smpp_esme *e)
{
    return e && e->fi.state == ST_BOUND;
}

uint32_t smpp_esme_pending_responses(const struct smpp_esme *e)
{
    return e ? e->npend : 0;
}

void smpp_esme_get_stats(const struct smpp_esme *e, struct smpp_esme_stats *out)
{
    if (!e || !out)
        return;
    *out = e->st;
    out->window_used = e->window.n;
    out->queue_len = e->queue.n;
    out->submit_peak_1s = e->pace.peak;
}

void smpp_esme_free(struct smpp_esme *e)
{
    struct esme_submit *s;

    if (!e)
        return;
    e->freeing = true;
    gw_fsm_inst_cleanup(&e->fi);
    for (unsigned i = 0; i < e->nsess; i++) {
        if (e->sess[i].bev) {
            bufferevent_free(e->sess[i].bev);
            e->sess[i].bev = NULL;
        }
    }
    while (e->ngrave > 0)
        bufferevent_free(e->grave[--e->ngrave]);
    /* Every accepted submit gets its one callback, here synchronously since the loop will not
     * see this link again: finished ones with their result, the rest -ECANCELED. */
    esme_submit_fail_all(e, &e->window, -ECANCELED);
    esme_submit_fail_all(e, &e->queue, -ECANCELED);
    while ((s = esme_list_pop(&e->done)) != NULL) {
        s->cb(s->arg, s->err, s->status, s->message_id);
        free(s->pdu);
        free(s);
    }
    if (e->ev_window)
        event_free(e->ev_window);
    if (e->ev_pump)
        event_free(e->ev_pump);
    if (e->ev_defer)
        event_free(e->ev_defer);
    free(e->pend);
    free(e->rx);
    free(e);
}
