/*
 * test_smpp_esme.c - the ESME link against a small fake SMSC in this file, over real loopback TCP
 * (listen on port 0), on one event_base. The fake uses the project's own codec to build and frame
 * PDUs, records every PDU it receives, and answers binds / enquire_link / unbind / submit_sm
 * according to per-test knobs. Timeouts are configured in tens of milliseconds so that the whole
 * file runs in a few seconds; assertions are on counts and order, never on exact speed.
 *
 * Ownership: each test's fixture (struct fx) owns the base, the fake SMSC, its connections and
 * the ESME; teardown frees them in that order of dependency.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gw_core.h"
#include "smpp.h"
/* White-box only where the public API cannot reach: fake time on the FSM timer and the
 * sequence counter near its wrap. */
#include "smpp_esme_priv.h"

/* ---------------------------------------------------------------- the fake SMSC */

#define FAKE_CONNS 16
#define FAKE_LOG 512

struct fake;

struct fake_conn {
    struct fake *f;
    struct bufferevent *bev; /* NULL once closed */
    uint32_t bind_cmd;
};

struct fake_pdu {
    int conn;
    struct smpp_header h;
    int64_t at_ms;
};

struct fake {
    struct event_base *base;
    struct evconnlistener *lis;
    uint16_t port;
    struct fake_conn conns[FAKE_CONNS];
    int nconns;
    struct fake_pdu log[FAKE_LOG];
    int nlog;
    /* knobs */
    uint32_t bind_status;
    bool answer_enquire;
    bool answer_bind;
    bool answer_unbind;
    bool answer_submit;
    int throttle_first; /* answer this many submit_sm with ESME_RTHROTTLED first */
    /* unanswered submit_sm (manual mode) */
    uint32_t unanswered[64];
    int nunanswered;
    int max_unanswered;
};

static void fake_send(struct fake *f, int conn, const uint8_t *pdu, size_t len)
{
    assert_true(conn >= 0 && conn < f->nconns);
    assert_non_null(f->conns[conn].bev);
    assert_int_equal(bufferevent_write(f->conns[conn].bev, pdu, len), 0);
}

static void fake_send_header(struct fake *f, int conn, uint32_t cmd, uint32_t status, uint32_t seq)
{
    uint8_t buf[16];
    size_t len = 0;

    assert_int_equal(smpp_encode_header(cmd, status, seq, buf, sizeof(buf), &len), 0);
    fake_send(f, conn, buf, len);
}

static void fake_send_resp(struct fake *f, int conn, uint32_t id, uint32_t status, uint32_t seq,
                           const char *msgid)
{
    uint8_t buf[128];
    size_t len = 0;

    assert_int_equal(smpp_encode_resp(id, status, seq, msgid, buf, sizeof(buf), &len), 0);
    fake_send(f, conn, buf, len);
}

static void fake_answer_submits(struct fake *f, int conn)
{
    char id[32];

    for (int i = 0; i < f->nunanswered; i++) {
        snprintf(id, sizeof(id), "M%u", f->unanswered[i]);
        fake_send_resp(f, conn, SMPP_SUBMIT_SM_RESP, SMPP_ROK, f->unanswered[i], id);
    }
    f->nunanswered = 0;
}

static void fake_on_pdu(struct fake_conn *c, const uint8_t *pdu, const struct smpp_header *h)
{
    struct fake *f = c->f;
    int ci = (int)(c - f->conns);
    char id[32];

    (void)pdu;
    if (f->nlog < FAKE_LOG) {
        f->log[f->nlog].conn = ci;
        f->log[f->nlog].h = *h;
        f->log[f->nlog].at_ms = gw_clock_mono_ms();
        f->nlog++;
    }
    switch (h->id) {
    case SMPP_BIND_TRANSCEIVER:
    case SMPP_BIND_TRANSMITTER:
    case SMPP_BIND_RECEIVER:
        c->bind_cmd = h->id;
        if (!f->answer_bind)
            break;
        fake_send_resp(f, ci, h->id | 0x80000000u, f->bind_status, h->seq,
                       f->bind_status == SMPP_ROK ? "FAKESMSC" : NULL);
        break;
    case SMPP_ENQUIRE_LINK:
        if (f->answer_enquire)
            fake_send_header(f, ci, SMPP_ENQUIRE_LINK_RESP, 0, h->seq);
        break;
    case SMPP_UNBIND:
        if (f->answer_unbind)
            fake_send_header(f, ci, SMPP_UNBIND_RESP, 0, h->seq);
        break;
    case SMPP_SUBMIT_SM:
        if (f->throttle_first > 0) {
            f->throttle_first--;
            fake_send_resp(f, ci, SMPP_SUBMIT_SM_RESP, SMPP_RTHROTTLED, h->seq, NULL);
        } else if (f->answer_submit) {
            snprintf(id, sizeof(id), "M%u", h->seq);
            fake_send_resp(f, ci, SMPP_SUBMIT_SM_RESP, SMPP_ROK, h->seq, id);
        } else if (f->nunanswered < 64) {
            f->unanswered[f->nunanswered++] = h->seq;
            if (f->nunanswered > f->max_unanswered)
                f->max_unanswered = f->nunanswered;
        }
        break;
    default:
        break;
    }
}

static void fake_read_cb(struct bufferevent *bev, void *arg)
{
    struct fake_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    for (;;) {
        size_t avail = evbuffer_get_length(in);
        struct smpp_header h;
        uint8_t *p;
        int n;

        if (avail < 16)
            return;
        p = evbuffer_pullup(in, -1);
        n = smpp_frame_check(p, avail, 65536, &h);
        assert_true(n >= 0);
        if (n == 0)
            return;
        fake_on_pdu(c, p, &h);
        evbuffer_drain(in, (size_t)n);
        if (!c->bev)
            return;
    }
}

static void fake_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct fake_conn *c = arg;

    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        /* Test code: libevent defers the real free while this callback runs. */
        bufferevent_free(bev);
        c->bev = NULL;
    }
}

static void fake_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg)
{
    struct fake *f = arg;
    struct fake_conn *c;

    (void)l;
    (void)sa;
    (void)salen;
    if (f->nconns >= FAKE_CONNS) {
        evutil_closesocket(fd);
        return;
    }
    c = &f->conns[f->nconns++];
    c->f = f;
    c->bev = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
    assert_non_null(c->bev);
    bufferevent_setcb(c->bev, fake_read_cb, NULL, fake_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void fake_start(struct fake *f, struct event_base *base)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);

    memset(f, 0, sizeof(*f));
    f->base = base;
    f->bind_status = SMPP_ROK;
    f->answer_enquire = true;
    f->answer_bind = true;
    f->answer_unbind = true;
    f->answer_submit = true;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0;
    f->lis =
        evconnlistener_new_bind(base, fake_accept_cb, f, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                16, (struct sockaddr *)&sin, sizeof(sin));
    assert_non_null(f->lis);
    assert_int_equal(getsockname(evconnlistener_get_fd(f->lis), (struct sockaddr *)&sin, &sl), 0);
    f->port = ntohs(sin.sin_port);
}

static void fake_close_conn(struct fake *f, int conn)
{
    if (f->conns[conn].bev) {
        bufferevent_free(f->conns[conn].bev);
        f->conns[conn].bev = NULL;
    }
}

static void fake_stop(struct fake *f)
{
    for (int i = 0; i < f->nconns; i++)
        fake_close_conn(f, i);
    if (f->lis)
        evconnlistener_free(f->lis);
    f->lis = NULL;
}

/* Number of received PDUs with this command id (on conn, or any conn when conn < 0). */
static int fake_count(const struct fake *f, uint32_t cmd, int conn)
{
    int n = 0;

    for (int i = 0; i < f->nlog; i++) {
        if (f->log[i].h.id == cmd && (conn < 0 || f->log[i].conn == conn))
            n++;
    }
    return n;
}

/* The k-th (0-based) received PDU with this command id, or NULL. */
static const struct fake_pdu *fake_nth(const struct fake *f, uint32_t cmd, int k)
{
    for (int i = 0; i < f->nlog; i++) {
        if (f->log[i].h.id == cmd && k-- == 0)
            return &f->log[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- the application side */

#define MAX_DELIVERS 16

struct app {
    struct smpp_esme *e;
    int bound_true, bound_false;
    int ndeliver;
    uint64_t tokens[MAX_DELIVERS];
    uint32_t cmds[MAX_DELIVERS];
    uint8_t esm[MAX_DELIVERS];
    char text[MAX_DELIVERS][32];
    int nrejected;
    uint32_t rej_status;
    int done_calls;
};

struct sub_res {
    int calls;
    int err;
    uint32_t status;
    char id[65];
};

static bool g_in_submit;

static void app_deliver(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                        const struct smpp_sm *sm)
{
    struct app *a = arg;

    assert_ptr_equal(e, a->e);
    if (a->ndeliver < MAX_DELIVERS) {
        a->tokens[a->ndeliver] = token;
        a->cmds[a->ndeliver] = cmd_id;
        a->esm[a->ndeliver] = sm->esm_class;
        size_t n = sm->text_len < sizeof(a->text[0]) - 1 ? sm->text_len : sizeof(a->text[0]) - 1;

        memcpy(a->text[a->ndeliver], sm->text, n);
        a->text[a->ndeliver][n] = '\0';
    }
    a->ndeliver++;
}

static void app_rejected(void *arg, const uint8_t *pdu, size_t len, uint32_t status,
                         const char *reason)
{
    struct app *a = arg;

    assert_non_null(pdu);
    assert_true(len >= 16);
    assert_non_null(reason);
    a->nrejected++;
    a->rej_status = status;
}

static void app_bound(void *arg, struct smpp_esme *e, bool is_bound)
{
    struct app *a = arg;

    assert_int_equal(smpp_esme_is_bound(e), is_bound);
    if (is_bound)
        a->bound_true++;
    else
        a->bound_false++;
}

static void app_done(void *arg)
{
    struct app *a = arg;

    a->done_calls++;
}

static void sub_cb(void *arg, int err, uint32_t status, const char *message_id)
{
    struct sub_res *r = arg;

    assert_false(g_in_submit); /* never from inside smpp_esme_submit() */
    r->calls++;
    r->err = err;
    r->status = status;
    snprintf(r->id, sizeof(r->id), "%s", message_id ? message_id : "");
}

/* ---------------------------------------------------------------- fixture */

#define LOG_LINES 256

struct fx {
    struct event_base *base;
    struct event *tick;
    struct fake f;
    struct app a;
    struct smpp_esme_config cfg;
    char log[LOG_LINES][256];
    int nlog;
};

static void log_sink(void *arg, enum gw_log_level level, const char *category, const char *line)
{
    struct fx *x = arg;

    (void)level;
    (void)category;
    if (x && x->nlog < LOG_LINES)
        snprintf(x->log[x->nlog++], sizeof(x->log[0]), "%s", line);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until cond holds or ms pass; the 2 ms tick makes EVLOOP_ONCE return often. */
#define RUN_UNTIL(x, cond, ms)                                                                     \
    do {                                                                                           \
        int64_t dl_ = gw_clock_mono_ms() + (ms);                                                   \
        while (!(cond) && gw_clock_mono_ms() < dl_)                                                \
            event_base_loop((x)->base, EVLOOP_ONCE);                                               \
    } while (0)

#define RUN_FOR(x, ms) RUN_UNTIL(x, false, ms)

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    struct timeval tv = {0, 2000};

    assert_non_null(x);
    gw_log_set_level(GW_LOG_INFO);
    gw_log_set_sink(log_sink, x);
    x->base = event_base_new();
    assert_non_null(x->base);
    x->tick = event_new(x->base, -1, EV_PERSIST, tick_cb, NULL);
    event_add(x->tick, &tv);
    fake_start(&x->f, x->base);
    smpp_esme_config_defaults(&x->cfg);
    snprintf(x->cfg.name, sizeof(x->cfg.name), "T1");
    snprintf(x->cfg.host, sizeof(x->cfg.host), "127.0.0.1");
    x->cfg.port = x->f.port;
    snprintf(x->cfg.bind.system_id, sizeof(x->cfg.bind.system_id), "loyalty");
    snprintf(x->cfg.bind.password, sizeof(x->cfg.bind.password), "secret");
    x->cfg.response_timeout_ms = 300;
    x->cfg.connect_timeout_ms = 500;
    x->cfg.reconnect_min_ms = 10;
    x->cfg.reconnect_max_ms = 40;
    x->cfg.drain_timeout_ms = 300;
    x->cfg.throttle_backoff_ms = 50;
    x->cfg.enquire_link_ms = 10000;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    if (getenv("ESME_TEST_LOG")) {
        for (int i = 0; i < x->nlog; i++)
            fprintf(stderr, "    | %s\n", x->log[i]);
    }

    smpp_esme_free(x->a.e);
    fake_stop(&x->f);
    event_free(x->tick);
    /* Let libevent finish what the frees above deferred before the base goes. */
    event_base_loop(x->base, EVLOOP_NONBLOCK);
    event_base_free(x->base);
    gw_log_set_sink(NULL, NULL);
    free(x);
    return 0;
}

static void esme_up(struct fx *x)
{
    static const struct smpp_esme_ops ops = {
        .deliver = app_deliver, .rejected = app_rejected, .bound = app_bound};

    x->a.e = smpp_esme_new(x->base, &x->cfg, &ops, &x->a);
    assert_non_null(x->a.e);
    assert_int_equal(smpp_esme_start(x->a.e), 0);
}

static void esme_bound(struct fx *x)
{
    esme_up(x);
    RUN_UNTIL(x, x->a.bound_true >= 1, 2000);
    assert_int_equal(x->a.bound_true, 1);
    assert_true(smpp_esme_is_bound(x->a.e));
}

static size_t make_deliver(uint32_t seq, const char *text, uint8_t esm, uint8_t *out, size_t cap)
{
    struct smpp_sm sm;
    size_t len = 0;

    memset(&sm, 0, sizeof(sm));
    snprintf(sm.src_addr, sizeof(sm.src_addr), "212612345678");
    snprintf(sm.dst_addr, sizeof(sm.dst_addr), "555");
    sm.src_ton = 1;
    sm.src_npi = 1;
    sm.esm_class = esm;
    sm.text_len = (uint16_t)strlen(text);
    memcpy(sm.text, text, sm.text_len);
    assert_int_equal(smpp_encode_sm(SMPP_DELIVER_SM, seq, &sm, out, cap, &len), 0);
    return len;
}

static void send_deliver(struct fx *x, int conn, uint32_t seq, const char *text)
{
    uint8_t buf[512];
    size_t len = make_deliver(seq, text, 0, buf, sizeof(buf));

    fake_send(&x->f, conn, buf, len);
}

static int submit_one(struct fx *x, struct sub_res *r)
{
    struct smpp_sm sm;
    int rc;

    memset(&sm, 0, sizeof(sm));
    snprintf(sm.src_addr, sizeof(sm.src_addr), "555");
    snprintf(sm.dst_addr, sizeof(sm.dst_addr), "212612345678");
    sm.text_len = 2;
    memcpy(sm.text, "hi", 2);
    g_in_submit = true;
    rc = smpp_esme_submit(x->a.e, &sm, sub_cb, r);
    g_in_submit = false;
    if (rc == 0)
        assert_int_equal(r->calls, 0);
    return rc;
}

/* Finds a response on any connection for seq. */
static const struct fake_pdu *find_resp(const struct fake *f, uint32_t id, uint32_t seq)
{
    for (int i = 0; i < f->nlog; i++) {
        if (f->log[i].h.id == id && f->log[i].h.seq == seq)
            return &f->log[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- tests: bind */

static void test_esme__bind_ok__bound_callback(void **state)
{
    struct fx *x = *state;
    struct smpp_esme_stats st;

    esme_bound(x);
    assert_int_equal(fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1), 1);
    assert_int_not_equal(fake_nth(&x->f, SMPP_BIND_TRANSCEIVER, 0)->h.seq, 0);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.binds_ok, 1);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.bind_failures, 0);
}

static void test_esme__bind_rejected__backoff_reconnect(void **state)
{
    struct fx *x = *state;
    struct smpp_esme_stats st;
    const struct fake_pdu *b0, *b1;

    x->f.bind_status = SMPP_RINVPASWD;
    esme_up(x);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1) >= 3, 2000);
    assert_true(fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1) >= 3);
    assert_int_equal(x->a.bound_true, 0);
    assert_false(smpp_esme_is_bound(x->a.e));
    /* each attempt on a new TCP connection, not sooner than reconnect_min_ms */
    assert_true(x->f.nconns >= 3);
    b0 = fake_nth(&x->f, SMPP_BIND_TRANSCEIVER, 0);
    b1 = fake_nth(&x->f, SMPP_BIND_TRANSCEIVER, 1);
    assert_int_not_equal(b0->conn, b1->conn);
    assert_true(b1->at_ms - b0->at_ms >= (int64_t)x->cfg.reconnect_min_ms - 1);
    smpp_esme_get_stats(x->a.e, &st);
    assert_true(st.bind_failures >= 2);
    /* the SMSC accepts us again: bound */
    x->f.bind_status = SMPP_ROK;
    RUN_UNTIL(x, x->a.bound_true == 1, 2000);
    assert_int_equal(x->a.bound_true, 1);
}

/* ---------------------------------------------------------------- tests: deliver_sm */

static void test_esme__deliver__respond__resp_same_seq_and_status(void **state)
{
    struct fx *x = *state;
    const struct fake_pdu *r;
    struct smpp_esme_stats st;
    uint8_t buf[512];
    size_t len;

    esme_bound(x);
    send_deliver(x, 0, 77, "TOPUP ref=1");
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    assert_int_equal(x->a.ndeliver, 1);
    assert_int_equal(x->a.cmds[0], SMPP_DELIVER_SM);
    assert_string_equal(x->a.text[0], "TOPUP ref=1");
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 1);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_RX_P_APPN), 0);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 0);
    RUN_UNTIL(x, find_resp(&x->f, SMPP_DELIVER_SM_RESP, 77) != NULL, 1000);
    r = find_resp(&x->f, SMPP_DELIVER_SM_RESP, 77);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_RX_P_APPN);
    /* answered once only */
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), -ENOENT);

    /* a delivery receipt is counted and still goes to the application */
    len = make_deliver(78, "id:1 stat:DELIVRD", SMPP_ESM_TYPE_DELIVERY_RECEIPT, buf, sizeof(buf));
    fake_send(&x->f, 0, buf, len);
    RUN_UNTIL(x, x->a.ndeliver == 2, 1000);
    assert_int_equal(x->a.ndeliver, 2);
    assert_int_equal(x->a.esm[1] & SMPP_ESM_TYPE_MASK, SMPP_ESM_TYPE_DELIVERY_RECEIPT);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.deliver_in, 2);
    assert_int_equal(st.receipts_in, 1);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[1], SMPP_ROK), 0);
    RUN_UNTIL(x, find_resp(&x->f, SMPP_DELIVER_SM_RESP, 78) != NULL, 1000);
    assert_non_null(find_resp(&x->f, SMPP_DELIVER_SM_RESP, 78));
}

static void test_esme__respond_after_disconnect__enotconn(void **state)
{
    struct fx *x = *state;
    int resps;

    esme_bound(x);
    send_deliver(x, 0, 5, "hello");
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    assert_int_equal(x->a.ndeliver, 1);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 1);
    fake_close_conn(&x->f, 0);
    RUN_UNTIL(x, x->a.bound_false == 1, 1000);
    assert_int_equal(x->a.bound_false, 1);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 0);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), -ENOTCONN);
    /* it reconnects; the stale token still sends nothing on the new connection */
    RUN_UNTIL(x, x->a.bound_true == 2, 2000);
    assert_int_equal(x->a.bound_true, 2);
    resps = fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), -ENOTCONN);
    RUN_FOR(x, 20);
    assert_int_equal(fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1), resps);
    assert_int_equal(resps, 0);
}

static void test_esme__out_of_order_responds(void **state)
{
    struct fx *x = *state;
    const struct fake_pdu *r0, *r1, *r2;

    esme_bound(x);
    send_deliver(x, 0, 10, "a");
    send_deliver(x, 0, 11, "b");
    send_deliver(x, 0, 12, "c");
    RUN_UNTIL(x, x->a.ndeliver == 3, 1000);
    assert_int_equal(x->a.ndeliver, 3);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 3);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[2], SMPP_RX_T_APPN), 0);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), 0);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 1);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[1], SMPP_RX_P_APPN), 0);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1) == 3, 1000);
    r0 = fake_nth(&x->f, SMPP_DELIVER_SM_RESP, 0);
    r1 = fake_nth(&x->f, SMPP_DELIVER_SM_RESP, 1);
    r2 = fake_nth(&x->f, SMPP_DELIVER_SM_RESP, 2);
    assert_non_null(r2);
    assert_int_equal(r0->h.seq, 12);
    assert_int_equal(r0->h.status, SMPP_RX_T_APPN);
    assert_int_equal(r1->h.seq, 10);
    assert_int_equal(r1->h.status, SMPP_ROK);
    assert_int_equal(r2->h.seq, 11);
    assert_int_equal(r2->h.status, SMPP_RX_P_APPN);
}

/* issue 11: the unanswered deliver_sm are bounded (rx_pending_max) and found by hash */
static void test_esme__rx_pending_max__beyond_it_throttled_then_room_again(void **state)
{
    struct fx *x = *state;
    const struct fake_pdu *r;
    struct smpp_esme_stats st;

    x->cfg.rx_pending_max = 8;
    esme_bound(x);
    for (uint32_t seq = 100; seq < 112; seq++)
        send_deliver(x, 0, seq, "TOPUP");
    RUN_UNTIL(x, fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1) == 4, 1000);
    RUN_FOR(x, 20);
    /* the first 8 wait for the application; the other 4 are throttled back to the SMSC */
    assert_int_equal(x->a.ndeliver, 8);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 8);
    assert_int_equal(fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1), 4);
    for (uint32_t seq = 108; seq < 112; seq++) {
        r = find_resp(&x->f, SMPP_DELIVER_SM_RESP, seq);
        assert_non_null(r);
        assert_int_equal(r->h.status, SMPP_RTHROTTLED);
    }
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.deliver_throttled, 4);
    assert_int_equal(st.deliver_in, 12);
    /* answered out of order: room again, the next ones are taken */
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[5], SMPP_ROK), 0);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), 0);
    send_deliver(x, 0, 200, "TOPUP");
    send_deliver(x, 0, 201, "TOPUP");
    RUN_UNTIL(x, x->a.ndeliver == 10, 1000);
    assert_int_equal(x->a.ndeliver, 10);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 8);
    for (int i = 1; i < 10; i++) {
        if (i != 5)
            assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[i], SMPP_ROK), 0);
    }
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 0);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1) == 14, 1000);
    r = find_resp(&x->f, SMPP_DELIVER_SM_RESP, 201);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_ROK);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.deliver_throttled, 4);
}

/* Many unanswered at once, answered in a scrambled order: every token is found once (the hash
 * table's probing and backward-shift deletion), then never again. */
static void test_esme__400_unanswered__scrambled_responds__each_found_once(void **state)
{
    enum { N = 400 };
    struct fx *x = *state;
    uint64_t gen;

    x->cfg.rx_pending_max = N;
    esme_bound(x);
    for (uint32_t k = 0; k < N; k++)
        send_deliver(x, 0, 1000 + k * 7, "TOPUP"); /* sequence numbers with gaps */
    send_deliver(x, 0, 999999, "TOPUP");           /* one beyond the bound */
    RUN_UNTIL(x, x->a.ndeliver == N && find_resp(&x->f, SMPP_DELIVER_SM_RESP, 999999), 3000);
    assert_int_equal(x->a.ndeliver, N);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), N);
    assert_int_equal(find_resp(&x->f, SMPP_DELIVER_SM_RESP, 999999)->h.status, SMPP_RTHROTTLED);
    gen = x->a.tokens[0] >> 32; /* token = generation << 32 | sequence number */
    /* k -> (k * 151) mod 400 is a permutation (151 is prime to 400) */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t k = (i * 151) % N;
        uint64_t token = gen << 32 | (1000 + k * 7);
        assert_int_equal(smpp_esme_respond(x->a.e, token, SMPP_ROK), 0);
        assert_int_equal(smpp_esme_pending_responses(x->a.e), N - 1 - i);
        assert_int_equal(smpp_esme_respond(x->a.e, token, SMPP_ROK), -ENOENT);
    }
    RUN_UNTIL(x, fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1) == N + 1, 3000);
    assert_int_equal(fake_count(&x->f, SMPP_DELIVER_SM_RESP, -1), N + 1);
    assert_non_null(find_resp(&x->f, SMPP_DELIVER_SM_RESP, 1000 + (N - 1) * 7));
}

/* ---------------------------------------------------------------- tests: link supervision */

static void test_esme__idle__enquire_link__then_dead_link_reconnects(void **state)
{
    struct fx *x = *state;
    struct smpp_esme_stats st;
    const struct fake_pdu *e0, *e1;

    x->cfg.enquire_link_ms = 40;
    x->cfg.response_timeout_ms = 80;
    esme_bound(x);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_ENQUIRE_LINK, -1) >= 2, 1000);
    assert_true(fake_count(&x->f, SMPP_ENQUIRE_LINK, -1) >= 2);
    e0 = fake_nth(&x->f, SMPP_ENQUIRE_LINK, 0);
    e1 = fake_nth(&x->f, SMPP_ENQUIRE_LINK, 1);
    assert_int_not_equal(e0->h.seq, e1->h.seq);
    assert_true(e1->at_ms - e0->at_ms >= 30); /* only when idle, not in a burst */
    assert_int_equal(x->a.bound_false, 0);
    assert_int_equal(x->f.nconns, 1);

    /* the SMSC stops answering: dead link, dropped, reconnected */
    x->f.answer_enquire = false;
    RUN_UNTIL(x, x->a.bound_true == 2, 2000);
    assert_int_equal(x->a.bound_false, 1);
    assert_int_equal(x->a.bound_true, 2);
    assert_int_equal(x->f.nconns, 2);
    smpp_esme_get_stats(x->a.e, &st);
    assert_true(st.response_timeouts >= 1);
    assert_true(st.enquire_sent >= 3);
}

static void test_esme__smsc_enquire_link__answered(void **state)
{
    struct fx *x = *state;
    const struct fake_pdu *r;
    struct smpp_esme_stats st;

    esme_bound(x);
    fake_send_header(&x->f, 0, SMPP_ENQUIRE_LINK, 0, 4242);
    RUN_UNTIL(x, find_resp(&x->f, SMPP_ENQUIRE_LINK_RESP, 4242) != NULL, 1000);
    r = find_resp(&x->f, SMPP_ENQUIRE_LINK_RESP, 4242);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_ROK);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.enquire_in, 1);
}

static void test_esme__smsc_unbind__answered_then_reconnects(void **state)
{
    struct fx *x = *state;

    esme_bound(x);
    fake_send_header(&x->f, 0, SMPP_UNBIND, 0, 99);
    RUN_UNTIL(x, x->a.bound_true == 2, 2000);
    assert_non_null(find_resp(&x->f, SMPP_UNBIND_RESP, 99));
    assert_int_equal(x->a.bound_false, 1);
    assert_int_equal(x->f.nconns, 2);
}

static void test_esme__unknown_command__generic_nack_rinvcmdid(void **state)
{
    struct fx *x = *state;
    const struct fake_pdu *r;
    struct smpp_esme_stats st;

    esme_bound(x);
    /* hand-built: the codec (rightly) refuses to encode a command id it does not know */
    static const uint8_t unknown[16] = {0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 31};

    fake_send(&x->f, 0, unknown, sizeof(unknown));
    RUN_UNTIL(x, find_resp(&x->f, SMPP_GENERIC_NACK, 31) != NULL, 1000);
    r = find_resp(&x->f, SMPP_GENERIC_NACK, 31);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_RINVCMDID);
    assert_int_equal(x->a.nrejected, 1);
    assert_int_equal(x->a.rej_status, SMPP_RINVCMDID);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.unknown_cmds, 1);
    assert_int_equal(st.generic_nacks_sent, 1);
    assert_true(smpp_esme_is_bound(x->a.e));
}

static void test_esme__hostile_deliver_30_tlvs__prescan_status_link_stays_up(void **state)
{
    struct fx *x = *state;
    uint8_t buf[1024];
    size_t len = make_deliver(55, "evil", 0, buf, sizeof(buf));
    uint32_t want = 0;
    const char *reason = NULL;
    const struct fake_pdu *r;
    struct smpp_esme_stats st;

    /* 30 vendor TLVs of one octet each: libsmpp34 would corrupt memory on this (>= 28) */
    for (int i = 0; i < 30; i++) {
        buf[len++] = 0x14;
        buf[len++] = 0x00;
        buf[len++] = 0x00;
        buf[len++] = 0x01;
        buf[len++] = (uint8_t)i;
    }
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    assert_true(smpp_prescan(buf, len, &want, &reason) < 0);
    assert_int_not_equal(want, SMPP_ROK);

    esme_bound(x);
    fake_send(&x->f, 0, buf, len);
    RUN_UNTIL(x, find_resp(&x->f, SMPP_DELIVER_SM_RESP, 55) != NULL, 1000);
    r = find_resp(&x->f, SMPP_DELIVER_SM_RESP, 55);
    assert_non_null(r);
    assert_int_equal(r->h.status, want);
    assert_int_equal(x->a.nrejected, 1);
    assert_int_equal(x->a.rej_status, want);
    assert_int_equal(x->a.ndeliver, 0);
    assert_int_equal(smpp_esme_pending_responses(x->a.e), 0);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.rejected_prescan, 1);

    /* the link is up and the next good PDU is processed */
    send_deliver(x, 0, 56, "good");
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    assert_int_equal(x->a.ndeliver, 1);
    assert_string_equal(x->a.text[0], "good");
    assert_true(smpp_esme_is_bound(x->a.e));
    assert_int_equal(x->a.bound_false, 0);
    assert_int_equal(x->f.nconns, 1);
}

static void test_esme__command_length_ffff__nack_close_reconnect(void **state)
{
    struct fx *x = *state;
    const uint8_t bad[16] = {0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x05,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07};
    const struct fake_pdu *r;

    esme_bound(x);
    fake_send(&x->f, 0, bad, sizeof(bad));
    RUN_UNTIL(x, x->a.bound_true == 2, 2000);
    r = find_resp(&x->f, SMPP_GENERIC_NACK, 7);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_RINVCMDLEN);
    assert_int_equal(r->conn, 0);
    assert_int_equal(x->a.nrejected, 1);
    assert_int_equal(x->a.rej_status, SMPP_RINVCMDLEN);
    assert_int_equal(x->a.bound_false, 1);
    assert_int_equal(x->a.bound_true, 2);
    assert_int_equal(x->f.nconns, 2);
    assert_null(x->f.conns[0].bev); /* the ESME closed the first connection */
}

/* ---------------------------------------------------------------- tests: submit */

static void test_esme__window_2__5_submits__at_most_2_outstanding(void **state)
{
    struct fx *x = *state;
    struct sub_res r[5];
    struct smpp_esme_stats st;
    int total;

    memset(r, 0, sizeof(r));
    x->cfg.window = 2;
    x->f.answer_submit = false;
    esme_bound(x);
    for (int i = 0; i < 5; i++)
        assert_int_equal(submit_one(x, &r[i]), 0);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_SUBMIT_SM, -1) >= 2, 1000);
    RUN_FOR(x, 30);
    assert_int_equal(fake_count(&x->f, SMPP_SUBMIT_SM, -1), 2);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.window_used, 2);
    assert_int_equal(st.queue_len, 3);
    for (int round = 0; round < 5; round++) {
        fake_answer_submits(&x->f, 0);
        total = fake_count(&x->f, SMPP_SUBMIT_SM, -1);
        RUN_UNTIL(x, x->f.nunanswered == 2 || fake_count(&x->f, SMPP_SUBMIT_SM, -1) == 5, 1000);
        if (total == 5)
            break;
    }
    fake_answer_submits(&x->f, 0);
    RUN_UNTIL(x, r[4].calls == 1, 1000);
    assert_int_equal(fake_count(&x->f, SMPP_SUBMIT_SM, -1), 5);
    assert_true(x->f.max_unanswered <= 2);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, SMPP_ROK);
        assert_true(r[i].id[0] == 'M');
    }
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.submits_ok, 5);
    assert_int_equal(st.window_used, 0);
}

static void test_esme__submit_timeout__etimedout_once(void **state)
{
    struct fx *x = *state;
    struct sub_res r;
    struct smpp_esme_stats st;
    const struct fake_pdu *p;

    memset(&r, 0, sizeof(r));
    x->cfg.response_timeout_ms = 60;
    x->f.answer_submit = false;
    esme_bound(x);
    assert_int_equal(submit_one(x, &r), 0);
    RUN_UNTIL(x, r.calls == 1, 1000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, -ETIMEDOUT);
    /* a late answer is dropped, the callback does not run again */
    p = fake_nth(&x->f, SMPP_SUBMIT_SM, 0);
    assert_non_null(p);
    fake_send_resp(&x->f, 0, SMPP_SUBMIT_SM_RESP, SMPP_ROK, p->h.seq, "LATE");
    RUN_FOR(x, 20);
    assert_int_equal(r.calls, 1);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.submits_failed, 1);
    assert_true(st.response_timeouts >= 1);
    assert_true(smpp_esme_is_bound(x->a.e));
}

static void test_esme__throttled__resubmitted_after_backoff__cb_once_rok(void **state)
{
    struct fx *x = *state;
    struct sub_res r;
    struct smpp_esme_stats st;
    const struct fake_pdu *s0, *s1;

    memset(&r, 0, sizeof(r));
    x->cfg.throttle_backoff_ms = 60;
    x->f.throttle_first = 1;
    esme_bound(x);
    assert_int_equal(submit_one(x, &r), 0);
    RUN_UNTIL(x, r.calls == 1, 1000);
    RUN_FOR(x, 10);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, SMPP_ROK);
    assert_int_equal(fake_count(&x->f, SMPP_SUBMIT_SM, -1), 2);
    s0 = fake_nth(&x->f, SMPP_SUBMIT_SM, 0);
    s1 = fake_nth(&x->f, SMPP_SUBMIT_SM, 1);
    assert_int_not_equal(s0->h.seq, s1->h.seq);
    assert_true(s1->at_ms - s0->at_ms >= 50);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.submits_ok, 1);
    assert_int_equal(st.submits_failed, 0);
}

static void test_esme__tps_10__5_submits_not_all_in_first_50ms(void **state)
{
    struct fx *x = *state;
    struct sub_res r[5];

    memset(r, 0, sizeof(r));
    x->cfg.tps = 10;
    esme_bound(x);
    for (int i = 0; i < 5; i++)
        assert_int_equal(submit_one(x, &r[i]), 0);
    RUN_FOR(x, 50);
    assert_true(fake_count(&x->f, SMPP_SUBMIT_SM, -1) < 5);
    RUN_UNTIL(x, r[4].calls == 1, 3000);
    assert_int_equal(fake_count(&x->f, SMPP_SUBMIT_SM, -1), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 1);
}

static void test_esme__queue_full__enobufs__free_cancels(void **state)
{
    struct fx *x = *state;
    static const struct smpp_esme_ops ops = {.deliver = app_deliver};
    struct sub_res r[3];

    memset(r, 0, sizeof(r));
    x->cfg.submit_queue_max = 2;
    x->a.e = smpp_esme_new(x->base, &x->cfg, &ops, &x->a); /* not started: all queue */
    assert_non_null(x->a.e);
    assert_int_equal(submit_one(x, &r[0]), 0);
    assert_int_equal(submit_one(x, &r[1]), 0);
    assert_int_equal(submit_one(x, &r[2]), -ENOBUFS);
    smpp_esme_free(x->a.e);
    x->a.e = NULL;
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[0].err, -ECANCELED);
    assert_int_equal(r[1].calls, 1);
    assert_int_equal(r[2].calls, 0);
}

/* ---------------------------------------------------------------- tests: stop */

static void test_esme__stop__drain_unbind_done_pending_ecanceled(void **state)
{
    struct fx *x = *state;
    struct sub_res r[3], late;
    struct smpp_esme_stats st;
    const struct fake_pdu *d;

    memset(r, 0, sizeof(r));
    memset(&late, 0, sizeof(late));
    x->cfg.window = 1;
    x->cfg.drain_timeout_ms = 80;
    x->f.answer_submit = false;
    esme_bound(x);
    for (int i = 0; i < 3; i++)
        assert_int_equal(submit_one(x, &r[i]), 0);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_SUBMIT_SM, -1) == 1, 1000);

    smpp_esme_stop(x->a.e, app_done, &x->a);
    assert_int_equal(submit_one(x, &late), -ESHUTDOWN);
    assert_false(smpp_esme_is_bound(x->a.e));
    assert_int_equal(x->a.bound_false, 1);
    /* queued ones are cancelled at once (from the loop); the in-flight one may still finish */
    RUN_UNTIL(x, r[1].calls == 1 && r[2].calls == 1, 1000);
    assert_int_equal(r[1].err, -ECANCELED);
    assert_int_equal(r[2].err, -ECANCELED);
    assert_int_equal(r[0].calls, 0);
    /* while stopping, a new deliver_sm is answered ESME_RX_T_APPN */
    send_deliver(x, 0, 300, "late event");
    RUN_UNTIL(x, find_resp(&x->f, SMPP_DELIVER_SM_RESP, 300) != NULL, 1000);
    d = find_resp(&x->f, SMPP_DELIVER_SM_RESP, 300);
    assert_non_null(d);
    assert_int_equal(d->h.status, SMPP_RX_T_APPN);
    assert_int_equal(x->a.ndeliver, 0);
    assert_int_equal(fake_count(&x->f, SMPP_UNBIND, -1), 0);

    /* the drain times out: unbind, unbind_resp, closed, done */
    RUN_UNTIL(x, x->a.done_calls == 1, 2000);
    assert_int_equal(x->a.done_calls, 1);
    assert_int_equal(fake_count(&x->f, SMPP_UNBIND, -1), 1);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[0].err, -ECANCELED);
    RUN_FOR(x, 20);
    assert_int_equal(x->a.done_calls, 1);
    assert_null(x->f.conns[0].bev);
    assert_int_equal(x->f.nconns, 1); /* no reconnect after stop */
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.disconnects, 1);
}

static void test_esme__stop__answered_work__unbinds_without_waiting(void **state)
{
    struct fx *x = *state;

    x->cfg.drain_timeout_ms = 5000; /* would fail the time budget if it were waited for */
    esme_bound(x);
    send_deliver(x, 0, 8, "x");
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    smpp_esme_stop(x->a.e, app_done, &x->a);
    RUN_FOR(x, 20);
    assert_int_equal(fake_count(&x->f, SMPP_UNBIND, -1), 0); /* one deliver_sm unanswered */
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), 0);
    RUN_UNTIL(x, x->a.done_calls == 1, 1000);
    assert_int_equal(x->a.done_calls, 1);
    assert_int_equal(fake_count(&x->f, SMPP_UNBIND, -1), 1);
    assert_non_null(find_resp(&x->f, SMPP_DELIVER_SM_RESP, 8));
}

/* ---------------------------------------------------------------- tests: TX_RX */

static void test_esme__tx_rx__two_sessions_deliver_on_rx_submit_on_tx(void **state)
{
    struct fx *x = *state;
    struct sub_res r;
    int tx = -1, rx = -1;
    const struct fake_pdu *s, *d;

    memset(&r, 0, sizeof(r));
    x->cfg.mode = SMPP_BIND_TX_RX;
    esme_bound(x);
    assert_int_equal(x->f.nconns, 2);
    assert_int_equal(fake_count(&x->f, SMPP_BIND_TRANSMITTER, -1), 1);
    assert_int_equal(fake_count(&x->f, SMPP_BIND_RECEIVER, -1), 1);
    assert_int_equal(fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1), 0);
    for (int i = 0; i < 2; i++) {
        if (x->f.conns[i].bind_cmd == SMPP_BIND_TRANSMITTER)
            tx = i;
        else if (x->f.conns[i].bind_cmd == SMPP_BIND_RECEIVER)
            rx = i;
    }
    assert_true(tx >= 0 && rx >= 0);

    send_deliver(x, rx, 21, "on rx");
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), 0);
    assert_int_equal(submit_one(x, &r), 0);
    RUN_UNTIL(x, r.calls == 1 && find_resp(&x->f, SMPP_DELIVER_SM_RESP, 21) != NULL, 1000);
    assert_int_equal(r.err, 0);
    s = fake_nth(&x->f, SMPP_SUBMIT_SM, 0);
    d = find_resp(&x->f, SMPP_DELIVER_SM_RESP, 21);
    assert_int_equal(s->conn, tx);
    assert_int_equal(d->conn, rx);

    /* losing one session drops the link: both reconnect and bind again */
    fake_close_conn(&x->f, rx);
    RUN_UNTIL(x, x->a.bound_true == 2, 2000);
    assert_int_equal(x->a.bound_false, 1);
    assert_int_equal(x->f.nconns, 4);
    assert_null(x->f.conns[tx].bev);
}

/* ---------------------------------------------------------------- golden transition log */

/* Keeps only "smpp(G1){A} -> B..." lines; the back-off delay is random, so its value is masked. */
static int transitions(struct fx *x, char out[][256], int max)
{
    int n = 0;

    for (int i = 0; i < x->nlog && n < max; i++) {
        const char *l = x->log[i];
        char *t;

        if (strncmp(l, "smpp(G1){", 9) != 0 || !strstr(l, "} -> "))
            continue;
        snprintf(out[n], 256, "%s", l);
        t = strstr(out[n], "T_RECONNECT=");
        if (t)
            snprintf(t, 256 - (size_t)(t - out[n]), "T_RECONNECT=*)");
        n++;
    }
    return n;
}

static void test_esme__golden_transition_log__bind_refused_bind_unbind(void **state)
{
    static const char *const want[] = {
        "smpp(G1){STOPPED} -> CONNECTING (T_CONNECT=500ms)",
        "smpp(G1){CONNECTING} -> BINDING (T_BIND=300ms)",
        "smpp(G1){BINDING} -> DISCONNECTED (T_RECONNECT=*)",
        "smpp(G1){DISCONNECTED} -> CONNECTING (T_CONNECT=500ms)",
        "smpp(G1){CONNECTING} -> BINDING (T_BIND=300ms)",
        "smpp(G1){BINDING} -> BOUND (T_ENQUIRE=10000ms)",
        "smpp(G1){BOUND} -> UNBINDING (T_UNBIND=300ms)",
        "smpp(G1){UNBINDING} -> STOPPED",
    };
    struct fx *x = *state;
    char got[32][256];
    int n;

    snprintf(x->cfg.name, sizeof(x->cfg.name), "G1");
    x->f.bind_status = SMPP_RBINDFAIL;
    esme_up(x);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1) == 1, 1000);
    x->f.bind_status = SMPP_ROK;
    RUN_UNTIL(x, x->a.bound_true == 1, 2000);
    smpp_esme_stop(x->a.e, app_done, &x->a);
    RUN_UNTIL(x, x->a.done_calls == 1, 2000);
    n = transitions(x, got, 32);
    for (int i = 0; i < n; i++)
        print_message("  %s\n", got[i]);
    assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
    for (int i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
}

/* ---------------------------------------------------------------- sequence numbers */

static void test_esme__sequence_numbers__never_zero_distinct(void **state)
{
    struct fx *x = *state;
    struct sub_res r[4];
    uint32_t prev = 0;

    memset(r, 0, sizeof(r));
    esme_bound(x);
    for (int i = 0; i < 4; i++)
        assert_int_equal(submit_one(x, &r[i]), 0);
    RUN_UNTIL(x, r[3].calls == 1, 1000);
    for (int i = 0; i < 4; i++) {
        const struct fake_pdu *p = fake_nth(&x->f, SMPP_SUBMIT_SM, i);

        assert_non_null(p);
        assert_true(p->h.seq >= 1 && p->h.seq <= 0x7FFFFFFFu);
        assert_true(p->h.seq > prev);
        prev = p->h.seq;
    }
}

/* ---------------------------------------------------------------- tests: more link cases */

static void test_esme__connection_refused__retries__stop_while_disconnected(void **state)
{
    struct fx *x = *state;
    struct smpp_esme_stats st;
    struct sub_res r;

    memset(&r, 0, sizeof(r));
    fake_stop(&x->f); /* nobody listens on the port any more */
    esme_up(x);
    assert_int_equal(submit_one(x, &r), 0); /* queued while unbound */
    RUN_FOR(x, 100);
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.connects, 0);
    assert_int_equal(x->a.bound_true, 0);
    assert_int_equal(r.calls, 0);
    assert_int_equal(st.queue_len, 1);
    /* several attempts were made (each logged as a transition to CONNECTING) */
    {
        int attempts = 0;

        for (int i = 0; i < x->nlog; i++)
            attempts += strstr(x->log[i], "-> CONNECTING") != NULL;
        assert_true(attempts >= 2);
    }
    smpp_esme_stop(x->a.e, app_done, &x->a);
    RUN_UNTIL(x, x->a.done_calls == 1, 1000);
    assert_int_equal(x->a.done_calls, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, -ECANCELED);
}

static void test_esme__bind_timeout_by_fake_time__reconnects(void **state)
{
    struct fx *x = *state;
    struct smpp_esme_stats st;

    x->cfg.response_timeout_ms = 10000; /* only fake time can make this expire in the test */
    x->f.answer_bind = false;
    esme_up(x);
    RUN_UNTIL(x, fake_count(&x->f, SMPP_BIND_TRANSCEIVER, -1) == 1, 1000);
    RUN_FOR(x, 10);
    assert_string_equal(gw_fsm_state_name(&x->a.e->fi), "BINDING");
    assert_int_equal(gw_fsm_timer_fire(&x->a.e->fi), 0); /* T_BIND expires now */
    assert_string_equal(gw_fsm_state_name(&x->a.e->fi), "DISCONNECTED");
    smpp_esme_get_stats(x->a.e, &st);
    assert_int_equal(st.bind_failures, 1);
    assert_int_equal(st.response_timeouts, 1);
    x->f.answer_bind = true;
    RUN_UNTIL(x, x->a.bound_true == 1, 2000);
    assert_int_equal(x->a.bound_true, 1);
    assert_int_equal(x->f.nconns, 2);
}

static void test_esme__data_sm__answered_with_data_sm_resp(void **state)
{
    struct fx *x = *state;
    struct smpp_sm sm;
    uint8_t buf[512];
    size_t len = 0;
    const struct fake_pdu *r;

    esme_bound(x);
    memset(&sm, 0, sizeof(sm));
    snprintf(sm.src_addr, sizeof(sm.src_addr), "212612345678");
    snprintf(sm.dst_addr, sizeof(sm.dst_addr), "555");
    sm.text_len = 3;
    memcpy(sm.text, "abc", 3);
    assert_int_equal(smpp_encode_sm(SMPP_DATA_SM, 64, &sm, buf, sizeof(buf), &len), 0);
    fake_send(&x->f, 0, buf, len);
    RUN_UNTIL(x, x->a.ndeliver == 1, 1000);
    assert_int_equal(x->a.cmds[0], SMPP_DATA_SM);
    assert_int_equal(smpp_esme_respond(x->a.e, x->a.tokens[0], SMPP_ROK), 0);
    RUN_UNTIL(x, find_resp(&x->f, SMPP_DATA_SM_RESP, 64) != NULL, 1000);
    r = find_resp(&x->f, SMPP_DATA_SM_RESP, 64);
    assert_non_null(r);
    assert_int_equal(r->h.status, SMPP_ROK);
}

static void test_esme__sequence_number__wraps_to_1_never_0(void **state)
{
    struct fx *x = *state;
    struct sub_res r[3];

    memset(r, 0, sizeof(r));
    esme_bound(x);
    x->a.e->next_seq = 0x7FFFFFFEu;
    for (int i = 0; i < 3; i++)
        assert_int_equal(submit_one(x, &r[i]), 0);
    RUN_UNTIL(x, r[2].calls == 1, 1000);
    assert_int_equal(fake_nth(&x->f, SMPP_SUBMIT_SM, 0)->h.seq, 0x7FFFFFFEu);
    assert_int_equal(fake_nth(&x->f, SMPP_SUBMIT_SM, 1)->h.seq, 0x7FFFFFFFu);
    assert_int_equal(fake_nth(&x->f, SMPP_SUBMIT_SM, 2)->h.seq, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, SMPP_ROK);
    }
}

static void test_esme__malformed_submit_sm_resp__header_status_settles_submit(void **state)
{
    struct fx *x = *state;
    struct sub_res r;
    uint8_t bad[16 + 70];
    uint32_t seq;

    memset(&r, 0, sizeof(r));
    x->f.answer_submit = false;
    esme_bound(x);
    assert_int_equal(submit_one(x, &r), 0);
    RUN_UNTIL(x, x->f.nunanswered == 1, 1000);
    seq = x->f.unanswered[0];
    /* ROK, but a message_id of 70 octets with no terminating NUL: fails the pre-scan */
    memset(bad, 'A', sizeof(bad));
    memcpy(bad, (const uint8_t[]){0, 0, 0, sizeof(bad), 0x80, 0, 0, 4, 0, 0, 0, 0}, 12);
    bad[12] = (uint8_t)(seq >> 24);
    bad[13] = (uint8_t)(seq >> 16);
    bad[14] = (uint8_t)(seq >> 8);
    bad[15] = (uint8_t)seq;
    fake_send(&x->f, 0, bad, sizeof(bad));
    RUN_UNTIL(x, r.calls == 1, 1000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, SMPP_ROK);
    assert_string_equal(r.id, "");
    assert_int_equal(x->a.nrejected, 1);
    assert_int_equal(fake_count(&x->f, SMPP_GENERIC_NACK, -1), 0); /* responses are not nacked */
    assert_true(smpp_esme_is_bound(x->a.e));
}

int main(void)
{
    /* A peer closing while we write must be an error return, not a signal (the daemon does the
     * same in main). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_esme__bind_ok__bound_callback),
        T(test_esme__bind_rejected__backoff_reconnect),
        T(test_esme__deliver__respond__resp_same_seq_and_status),
        T(test_esme__respond_after_disconnect__enotconn),
        T(test_esme__out_of_order_responds),
        T(test_esme__rx_pending_max__beyond_it_throttled_then_room_again),
        T(test_esme__400_unanswered__scrambled_responds__each_found_once),
        T(test_esme__idle__enquire_link__then_dead_link_reconnects),
        T(test_esme__smsc_enquire_link__answered),
        T(test_esme__smsc_unbind__answered_then_reconnects),
        T(test_esme__unknown_command__generic_nack_rinvcmdid),
        T(test_esme__hostile_deliver_30_tlvs__prescan_status_link_stays_up),
        T(test_esme__command_length_ffff__nack_close_reconnect),
        T(test_esme__window_2__5_submits__at_most_2_outstanding),
        T(test_esme__submit_timeout__etimedout_once),
        T(test_esme__throttled__resubmitted_after_backoff__cb_once_rok),
        T(test_esme__tps_10__5_submits_not_all_in_first_50ms),
        T(test_esme__queue_full__enobufs__free_cancels),
        T(test_esme__stop__drain_unbind_done_pending_ecanceled),
        T(test_esme__stop__answered_work__unbinds_without_waiting),
        T(test_esme__tx_rx__two_sessions_deliver_on_rx_submit_on_tx),
        T(test_esme__golden_transition_log__bind_refused_bind_unbind),
        T(test_esme__sequence_numbers__never_zero_distinct),
        T(test_esme__connection_refused__retries__stop_while_disconnected),
        T(test_esme__bind_timeout_by_fake_time__reconnects),
        T(test_esme__data_sm__answered_with_data_sm_resp),
        T(test_esme__sequence_number__wraps_to_1_never_0),
        T(test_esme__malformed_submit_sm_resp__header_status_settles_submit),
#undef T
    };

    return cmocka_run_group_tests_name("smpp_esme", tests, NULL, NULL);
}
