/*
 * sim_session.c - one SMPP session per TCP connection accepted by smsc-sim, seen from the SMSC:
 * framing, the pre-scan of every inbound PDU, bind (with optional credentials), submit_sm and
 * data_sm (answered with a message_id, --throttle-every, --record), deliver_sm_resp and
 * generic_nack (handed to the delivery side), enquire_link, unbind.
 *
 * Each session is a table-driven FSM (gw_fsm): OPEN -> BOUND_TX|BOUND_RX|BOUND_TRX ->
 * UNBINDING -> CLOSED, with named timers T_BIND (no bind in time) and T_UNBIND (our unbind not
 * answered); transitions are logged as smsc(<id>){STATE}.
 *
 * Everything the ESME sends is untrusted: every PDU passes smpp_prescan() before a decoder sees
 * it and is answered generic_nack when it fails or its command is not one an SMSC serves.
 * sim_session_close() frees the bufferevent at once (libevent defers that when inside its
 * callbacks) and moves the struct to the graveyard; the cron frees it.
 */
#include "sim_link.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CAT "smsc"
#define SIM_BIND_TIMEOUT_MS 10000
#define SIM_UNBIND_TIMEOUT_MS 1000
#define SIM_SYSTEM_ID "SMSCSIM"
#define RESP_BIT 0x80000000u

/* ---------------------------------------------------------------- session FSM */

enum sim_ss { SS_OPEN = 0, SS_BOUND_TX, SS_BOUND_RX, SS_BOUND_TRX, SS_UNBINDING, SS_CLOSED, SS__N };
enum sim_timer { T_BIND = 0, T_UNBIND };

static void session_timer_cb(struct gw_fsm_inst *fi, int timer_id);

#define BOUND_OUT (GW_BIT(SS_UNBINDING) | GW_BIT(SS_CLOSED))
static const struct gw_fsm_state ss_states[SS__N] = {
    [SS_OPEN] = {.name = "OPEN",
                 .out_state_mask = GW_BIT(SS_BOUND_TX) | GW_BIT(SS_BOUND_RX) |
                                   GW_BIT(SS_BOUND_TRX) | GW_BIT(SS_CLOSED)},
    [SS_BOUND_TX] = {.name = "BOUND_TX", .out_state_mask = BOUND_OUT},
    [SS_BOUND_RX] = {.name = "BOUND_RX", .out_state_mask = BOUND_OUT},
    [SS_BOUND_TRX] = {.name = "BOUND_TRX", .out_state_mask = BOUND_OUT},
    [SS_UNBINDING] = {.name = "UNBINDING", .out_state_mask = GW_BIT(SS_CLOSED)},
    [SS_CLOSED] = {.name = "CLOSED", .out_state_mask = 0},
};
static const char *const ss_timer_names[] = {"T_BIND", "T_UNBIND"};
static const struct gw_fsm ss_fsm = {
    .name = "smsc",
    .states = ss_states,
    .num_states = SS__N,
    .timer_names = ss_timer_names,
    .num_timers = 2,
    .timer_cb = session_timer_cb,
};

bool sim_session_is_receiver(const struct sim_session *s)
{
    return s->fi.state == SS_BOUND_RX || s->fi.state == SS_BOUND_TRX;
}

static bool session_is_transmitter(const struct sim_session *s)
{
    return s->fi.state == SS_BOUND_TX || s->fi.state == SS_BOUND_TRX;
}

bool sim_session_is_bound(const struct sim_session *s)
{
    return sim_session_is_receiver(s) || session_is_transmitter(s);
}

uint32_t sim_session_next_seq(struct sim_session *s)
{
    s->seq = (s->seq >= 0x7FFFFFFFu) ? 1 : s->seq + 1;
    return s->seq;
}

int sim_session_write(struct sim_session *s, const uint8_t *buf, size_t len)
{
    if (s->closed || !s->bev)
        return -ENOTCONN;
    if (bufferevent_write(s->bev, buf, len) < 0)
        return -EIO;
    return 0;
}

void sim_session_send_header(struct sim_session *s, uint32_t cmd, uint32_t status, uint32_t seq)
{
    uint8_t buf[SMPP_HEADER_LEN];
    size_t len;

    if (smpp_encode_header(cmd, status, seq, buf, sizeof(buf), &len) == 0)
        sim_session_write(s, buf, len);
    if (cmd == SMPP_GENERIC_NACK)
        s->sim->st.generic_nacks_sent++;
}

static void send_resp(struct sim_session *s, uint32_t resp_id, uint32_t status, uint32_t seq,
                      const char *id)
{
    uint8_t buf[128];
    size_t len;
    int rc = smpp_encode_resp(resp_id, status, seq, id, buf, sizeof(buf), &len);

    if (rc < 0) {
        gw_fsm_log(&s->fi, GW_LOG_ERROR, "cannot encode %s: %d", smpp_cmd_name(resp_id), rc);
        return;
    }
    sim_session_write(s, buf, len);
}

/* ---------------------------------------------------------------- closing */

void sim_session_close(struct sim_session *s, const char *why)
{
    struct sim *sim = s->sim;
    struct sim_session **pp;

    if (s->closed)
        return;
    s->closed = true;
    if (s->fi.state == SS_UNBINDING)
        s->unbound = true; /* we asked to part: a close instead of unbind_resp is orderly too */
    if (!s->unbound)
        sim->st.disconnects++;
    gw_fsm_log(&s->fi, s->unbound ? GW_LOG_INFO : GW_LOG_NOTICE,
               "closing (%s), %" PRIu32 " deliver_sm unanswered", why, s->win_used);
    gw_fsm_state_chg(&s->fi, SS_CLOSED, 0, -1);
    if (s->bev) {
        bufferevent_free(s->bev); /* closes the socket; deferred by libevent if in a callback */
        s->bev = NULL;
    }
    for (pp = &sim->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    s->next = sim->graveyard;
    sim->graveyard = s;
    while (s->win_used > 0) {
        struct sim_pending p = s->win[--s->win_used];
        sim_deliver_lost(sim, &p, "link lost");
    }
    s->win_events = 0;
    if (sim->inject_out && sim->inject_session == s->id) {
        struct sim_inject_item *it = &sim->inject[sim->inject_next];
        it->result = SIM_INJ_CLOSED;
        sim->inject_out = false;
        sim->inject_next++;
        GW_LOGN(CAT, "inject line %" PRIu32 ": connection closed", it->line);
    } else if (sim->inject_next > 0 && sim->inject_last_session == s->id &&
               sim_now_ms() < sim->inject_settle_ms) {
        /* answered, then closed: e.g. generic_nack ESME_RINVCMDLEN before giving up the
         * stream */
        struct sim_inject_item *it = &sim->inject[sim->inject_next - 1];
        it->closed_after = true;
        GW_LOGN(CAT, "inject line %" PRIu32 ": connection closed after the answer", it->line);
    }
}

/* Stops reading and closes once what we wrote has left (unbind_resp, a final generic_nack,
 * --disconnect-after). */
void sim_session_drain(struct sim_session *s, const char *why)
{
    if (s->closed || s->draining)
        return;
    s->draining = true;
    s->drain_reason = why;
    bufferevent_disable(s->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        sim_session_close(s, why);
}

void sim_session_unbind(struct sim_session *s)
{
    if (s->closed || s->draining || s->fi.state == SS_UNBINDING)
        return;
    if (sim_session_is_bound(s)) {
        sim_session_send_header(s, SMPP_UNBIND, SMPP_ROK, sim_session_next_seq(s));
        gw_fsm_state_chg(&s->fi, SS_UNBINDING, SIM_UNBIND_TIMEOUT_MS, T_UNBIND);
        return;
    }
    s->unbound = true; /* never bound: nothing to unbind, and not a disconnect */
    sim_session_close(s, "simulator done");
}

void sim_session_free(struct sim_session *s)
{
    if (s->bev)
        bufferevent_free(s->bev);
    gw_fsm_inst_cleanup(&s->fi);
    free(s->win);
    free(s);
}

static void session_timer_cb(struct gw_fsm_inst *fi, int timer_id)
{
    struct sim_session *s = fi->priv;

    if (timer_id == T_BIND)
        sim_session_close(s, "no bind within T_BIND");
    else if (timer_id == T_UNBIND)
        sim_session_close(s, "unbind not answered within T_UNBIND");
}

/* ---------------------------------------------------------------- --record */

static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    char esc[256];

    if (j)
        return j;
    /* not UTF-8 (untrusted bytes): escape */
    return json_string(gw_escape(s, strlen(s), esc, sizeof(esc)));
}

static void record_submit(struct sim *sim, const struct sim_session *s, const struct smpp_header *h,
                          const struct smpp_sm *sm, uint32_t status, const char *message_id)
{
    json_t *o;
    char hex[2 * SMPP_TEXT_MAX + 1];
    char utf8[4 * SMPP_TEXT_MAX + 1];
    const uint8_t *text = sm->text;
    size_t tlen = sm->text_len;
    bool printable;

    if (!sim->record)
        return;
    o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "ts_ms", json_integer(gw_clock_now_ms()));
    json_object_set_new(o, "session", json_integer(s->id));
    json_object_set_new(o, "cmd", json_string(smpp_cmd_name(h->id)));
    json_object_set_new(o, "seq", json_integer(h->seq));
    json_object_set_new(o, "src", jstr(sm->src_addr));
    json_object_set_new(o, "dst", jstr(sm->dst_addr));
    json_object_set_new(o, "service_type", jstr(sm->service_type));
    json_object_set_new(o, "data_coding", json_integer(sm->data_coding));
    json_object_set_new(o, "esm_class", json_integer(sm->esm_class));
    json_object_set_new(o, "registered_delivery", json_integer(sm->registered_delivery));
    if ((sm->esm_class & SMPP_ESM_UDHI) && tlen > 0 && (size_t)text[0] + 1 <= tlen) {
        /* a concatenated SMS part: show the UDH apart so the text decodes */
        size_t ulen = (size_t)text[0] + 1;
        for (size_t i = 0; i < ulen; i++)
            snprintf(hex + 2 * i, 3, "%02x", text[i]);
        json_object_set_new(o, "udh_hex", json_string(hex));
        text += ulen;
        tlen -= ulen;
    }
    for (size_t i = 0; i < tlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", text[i]);
    hex[2 * tlen] = '\0';
    json_object_set_new(o, "text_hex", json_string(hex));
    sim_text_to_utf8(sm->data_coding, text, tlen, utf8, sizeof(utf8), &printable);
    if (printable)
        json_object_set_new(o, "text", json_string(utf8));
    if (sm->has_ussd_op)
        json_object_set_new(o, "ussd_service_op", json_integer(sm->ussd_op));
    if (sm->has_its_session)
        json_object_set_new(o, "its_session_info", json_integer(sm->its_session));
    if (sm->has_umr)
        json_object_set_new(o, "user_message_reference", json_integer(sm->umr));
    json_object_set_new(o, "status", json_string(smpp_status_name(status)));
    if (message_id && *message_id)
        json_object_set_new(o, "message_id", json_string(message_id));
    if (json_dumpf(o, sim->record, JSON_COMPACT) == 0)
        fputc('\n', sim->record);
    fflush(sim->record);
    json_decref(o);
}

/* ---------------------------------------------------------------- inbound PDUs */

static void on_bind(struct sim_session *s, const struct smpp_header *h, const uint8_t *pdu,
                    size_t len)
{
    struct sim *sim = s->sim;
    const struct sim_config *cfg = sim->cfg;
    uint32_t resp = h->id | RESP_BIT;
    uint32_t status = SMPP_ROK;
    struct smpp_bind b;
    const char *reason = "";
    uint32_t next;

    if (s->fi.state != SS_OPEN) {
        send_resp(s, resp, SMPP_RALYBND, h->seq, NULL);
        return;
    }
    memset(&b, 0, sizeof(b));
    if (smpp_decode_bind(pdu, len, &b, &reason) < 0)
        status = SMPP_RBINDFAIL;
    else if (cfg->system_id && strcmp(b.system_id, cfg->system_id) != 0)
        status = SMPP_RINVSYSID;
    else if (cfg->password && strcmp(b.password, cfg->password) != 0)
        status = SMPP_RINVPASWD;
    if (status != SMPP_ROK) {
        char esc[64];
        sim->st.bind_failures++;
        gw_fsm_log(
            &s->fi, GW_LOG_NOTICE, "%s system_id=%s refused: %s%s%s", smpp_cmd_name(h->id),
            gw_escape(b.system_id, strnlen(b.system_id, sizeof(b.system_id)), esc, sizeof(esc)),
            smpp_status_name(status), *reason ? " " : "", reason);
        send_resp(s, resp, status, h->seq, NULL);
        return;
    }
    snprintf(s->system_id, sizeof(s->system_id), "%s", b.system_id);
    send_resp(s, resp, SMPP_ROK, h->seq, SIM_SYSTEM_ID);
    next = h->id == SMPP_BIND_TRANSMITTER ? SS_BOUND_TX
           : h->id == SMPP_BIND_RECEIVER  ? SS_BOUND_RX
                                          : SS_BOUND_TRX;
    gw_fsm_state_chg(&s->fi, next, 0, -1);
    sim->st.binds++;
    sim_pump(sim);
}

static void on_submit(struct sim_session *s, const struct smpp_header *h, const uint8_t *pdu,
                      size_t len)
{
    struct sim *sim = s->sim;
    uint32_t resp = h->id | RESP_BIT;
    struct smpp_sm sm;
    const char *reason = "";
    char msgid[24] = "";
    uint32_t status = SMPP_ROK;

    if (!session_is_transmitter(s)) {
        sim->st.submits_rejected++;
        send_resp(s, resp, SMPP_RINVBNDSTS, h->seq, "");
        return;
    }
    memset(&sm, 0, sizeof(sm));
    if (smpp_decode_sm(pdu, len, &sm, &reason) < 0) {
        sim->st.submits_rejected++;
        gw_fsm_log(&s->fi, GW_LOG_NOTICE, "%s seq=%" PRIu32 " undecodable: %s",
                   smpp_cmd_name(h->id), h->seq, reason ? reason : "?");
        send_resp(s, resp, SMPP_RSYSERR, h->seq, "");
        return;
    }
    sim->st.submits++;
    if (sim->cfg->throttle_every && sim->st.submits % sim->cfg->throttle_every == 0) {
        status = SMPP_RTHROTTLED;
        sim->st.submits_throttled++;
    } else {
        snprintf(msgid, sizeof(msgid), "%016" PRIx64, ++sim->message_ids);
    }
    send_resp(s, resp, status, h->seq, msgid);
    /* --ussd-load writes one --record line per dialogue instead (sim_load.c) */
    if (!sim->load.on)
        record_submit(sim, s, h, &sm, status, msgid);
    if (status != SMPP_ROK)
        return; /* throttled: the gateway sends it again */
    if (sim->ussd.state != SIM_USSD_OFF && strcmp(sm.dst_addr, sim->ussd.msisdn) == 0)
        sim_ussd_on_submit(sim, &sm);
    if (sim->load.on)
        sim_load_on_submit(sim, &sm);
    if (sim->phone.on && strcmp(sm.dst_addr, sim->phone.msisdn) == 0)
        sim_phone_on_submit(sim, &sm);
}

static void on_answer(struct sim_session *s, const struct smpp_header *h)
{
    struct sim *sim = s->sim;
    struct sim_pending p;

    if (h->id == SMPP_GENERIC_NACK)
        sim->st.generic_nacks_received++;
    if (sim_pending_take(s, h->seq, &p)) {
        if (h->id == SMPP_GENERIC_NACK)
            gw_fsm_log(&s->fi, GW_LOG_NOTICE, "deliver_sm seq=%" PRIu32 " got generic_nack %s",
                       h->seq, smpp_status_name(h->status));
        sim_deliver_answered(sim, &p, h->status);
        sim_pump(sim);
        return;
    }
    if (sim_inject_match(s)) {
        sim_inject_record(sim, h, false);
        sim_pump(sim);
        return;
    }
    sim->st.late_responses++;
    gw_fsm_log(&s->fi, GW_LOG_NOTICE, "%s seq=%" PRIu32 " %s matches nothing (late?), dropped",
               smpp_cmd_name(h->id), h->seq, smpp_status_name(h->status));
}

static void handle_pdu(struct sim_session *s, const uint8_t *pdu, size_t len)
{
    struct sim *sim = s->sim;
    struct smpp_header h;
    uint32_t status = SMPP_ROK;
    const char *reason = NULL;

    smpp_header_read(pdu, &h);
    s->last_rx_ms = sim_now_ms();
    GW_LOGD(CAT, "smsc(%" PRIu32 ") <- %s seq=%" PRIu32 " %s len=%zu", s->id, smpp_cmd_name(h.id),
            h.seq, smpp_status_name(h.status), len);
    if (smpp_prescan(pdu, len, &status, &reason) < 0) {
        sim->st.prescan_rejects++;
        gw_fsm_log(&s->fi, GW_LOG_NOTICE, "rejected %s (0x%08" PRIx32 ") seq=%" PRIu32 ": %s",
                   smpp_cmd_name(h.id), h.id, h.seq, reason ? reason : "?");
        if (h.id & RESP_BIT) {
            /* never answer a response; a malformed answer to an injection still counts */
            if (sim_inject_match(s))
                sim_inject_record(sim, &h, true);
            return;
        }
        sim_session_send_header(s, SMPP_GENERIC_NACK, status, h.seq);
        return;
    }
    switch (h.id) {
    case SMPP_BIND_TRANSMITTER:
    case SMPP_BIND_RECEIVER:
    case SMPP_BIND_TRANSCEIVER:
        on_bind(s, &h, pdu, len);
        return;
    case SMPP_SUBMIT_SM:
    case SMPP_DATA_SM:
        on_submit(s, &h, pdu, len);
        return;
    case SMPP_DELIVER_SM_RESP:
    case SMPP_GENERIC_NACK:
        on_answer(s, &h);
        return;
    case SMPP_ENQUIRE_LINK:
        sim->st.enquire_in++;
        sim_session_send_header(s, SMPP_ENQUIRE_LINK_RESP, SMPP_ROK, h.seq);
        return;
    case SMPP_ENQUIRE_LINK_RESP:
        if (s->enquire_out && h.seq == s->enquire_seq) {
            s->enquire_out = false;
            return;
        }
        break;
    case SMPP_UNBIND:
        sim_session_send_header(s, SMPP_UNBIND_RESP, SMPP_ROK, h.seq);
        s->unbound = true;
        sim_session_drain(s, "unbind from the ESME");
        return;
    case SMPP_UNBIND_RESP:
        if (s->fi.state == SS_UNBINDING) {
            s->unbound = true;
            sim_session_close(s, "unbind_resp");
            return;
        }
        break;
    default:
        break;
    }
    if (h.id & RESP_BIT) {
        if (sim_inject_match(s)) {
            sim_inject_record(sim, &h, false);
            return;
        }
        gw_fsm_log(&s->fi, GW_LOG_NOTICE, "unexpected %s seq=%" PRIu32 ", dropped",
                   smpp_cmd_name(h.id), h.seq);
        return;
    }
    /* A request an SMSC does not take from an ESME (deliver_sm, outbind, ...). */
    gw_fsm_log(&s->fi, GW_LOG_NOTICE, "%s (0x%08" PRIx32 ") not served: generic_nack",
               smpp_cmd_name(h.id), h.id);
    sim_session_send_header(s, SMPP_GENERIC_NACK, SMPP_RINVCMDID, h.seq);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct sim_session *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    while (!s->closed && !s->draining) {
        uint8_t hb[SMPP_HEADER_LEN];
        struct smpp_header h;
        size_t avail = evbuffer_get_length(in);

        if (avail < SMPP_HEADER_LEN)
            break;
        evbuffer_copyout(in, hb, sizeof(hb));
        /* frame_check on the header alone: < 0 for an impossible command_length, else the
         * length comes from the header and we wait for the rest */
        if (smpp_frame_check(hb, sizeof(hb), SMPP_PDU_MAX_DEFAULT, &h) < 0) {
            /* the stream cannot be resynchronised: nack (best effort) and close */
            smpp_header_read(hb, &h);
            gw_fsm_log(&s->fi, GW_LOG_NOTICE, "command_length %" PRIu32 " out of bounds", h.len);
            sim_session_send_header(s, SMPP_GENERIC_NACK, SMPP_RINVCMDLEN, h.seq);
            sim_session_drain(s, "bad command_length");
            break;
        }
        smpp_header_read(hb, &h);
        if (avail < h.len)
            break;
        evbuffer_remove(in, s->rx, h.len);
        s->rx[h.len] = 0;
        handle_pdu(s, s->rx, h.len);
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct sim_session *s = arg;

    if (s->draining && !s->closed && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        sim_session_close(s, s->drain_reason);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct sim_session *s = arg;

    (void)bev;
    if (what & BEV_EVENT_EOF)
        sim_session_close(s, "peer closed the connection");
    else if (what & BEV_EVENT_ERROR)
        sim_session_close(s, strerror(EVUTIL_SOCKET_ERROR()));
}

void sim_session_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                        int socklen, void *arg)
{
    struct sim *sim = arg;
    struct sim_session *s = calloc(1, sizeof(*s));
    char host[64] = "?", port[16] = "?", id[16];
    int one = 1;

    (void)l;
    if (!s)
        goto fail;
    s->win_cap = sim->cfg->window + 1 + (sim->load.on ? sim->load.window : 0);
    s->win = calloc(s->win_cap, sizeof(*s->win));
    if (!s->win)
        goto fail;
    s->bev = bufferevent_socket_new(sim->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!s->bev)
        goto fail;
    fd = -1; /* the bufferevent owns it */
    s->sim = sim;
    s->id = ++sim->next_session_id;
    snprintf(id, sizeof(id), "%" PRIu32, s->id);
    if (gw_fsm_inst_init(&s->fi, &ss_fsm, sim->base, id, s) < 0)
        goto fail;
    /* deliver_sm latency matters to the benchmarks: no Nagle */
    setsockopt(bufferevent_getfd(s->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    getnameinfo(addr, (socklen_t)socklen, host, sizeof(host), port, sizeof(port),
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(s->peer, sizeof(s->peer), "%s:%s", host, port);
    s->last_rx_ms = sim_now_ms();
    bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    gw_fsm_timer_arm(&s->fi, SIM_BIND_TIMEOUT_MS, T_BIND);
    s->next = sim->sessions;
    sim->sessions = s;
    sim->st.connections++;
    gw_fsm_log(&s->fi, GW_LOG_INFO, "connection from %s", s->peer);
    return;
fail:
    GW_LOGE(CAT, "cannot accept a connection: out of memory");
    if (fd >= 0)
        evutil_closesocket(fd);
    if (s)
        sim_session_free(s);
}
