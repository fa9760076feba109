/*
 * sim_server.c - the delivery side of smsc-sim: the event queues (new events in file order, due
 * redeliveries first), the per-session window, the token bucket, response timeouts and
 * redelivery with --max-attempts, --disconnect-after, --inject-hex, enquire_link, the one cron
 * timer (as Redis' serverCron: redelivery, timeouts, enquire_link, the end), the listener, and
 * the orderly end (--exit-when-done: unbind everyone, bounded wait).
 *
 * USSD deliver_sm of every mode (--ussd, --ussd-load, --phone) go out through
 * sim_send_ussd_from(), which applies --route (first | rr | alternate) so that tests with two
 * ESMEs bound can send consecutive deliver_sm of one dialogue to different binds.
 *
 * Ownership: struct sim owns the sessions (sim_session.c creates and closes them); closed
 * sessions wait in the graveyard until the cron frees them, so no callback runs on freed memory.
 */
#include "sim_link.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CAT "smsc"
#define SIM_CRON_MS 10
#define SIM_FINISH_TIMEOUT_MS 1500
#define SIM_INJECT_SETTLE_MS 100  /* an ESME may nack then close: wait to see the close */
#define SIM_SHORT_MESSAGE_MAX 254 /* the brief: longer text goes in message_payload */

/* ---------------------------------------------------------------- small helpers */

int64_t sim_now_ms(void)
{
    return gw_clock_mono_ms();
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sim_now_us(void)
{
    return now_us();
}

int sim_route_parse(const char *name, enum sim_route *out)
{
    if (strcmp(name, "rr") == 0)
        *out = SIM_ROUTE_RR;
    else if (strcmp(name, "first") == 0)
        *out = SIM_ROUTE_FIRST;
    else if (strcmp(name, "alternate") == 0)
        *out = SIM_ROUTE_ALTERNATE;
    else
        return -EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- event queues */

static void fifo_push(struct sim *sim, uint32_t *head, uint32_t *tail, uint32_t idx)
{
    sim->events.v[idx].next = SIM_NONE;
    if (*tail == SIM_NONE)
        *head = idx;
    else
        sim->events.v[*tail].next = idx;
    *tail = idx;
}

static uint32_t fifo_pop(struct sim *sim, uint32_t *head, uint32_t *tail)
{
    uint32_t idx = *head;

    if (idx == SIM_NONE)
        return SIM_NONE;
    *head = sim->events.v[idx].next;
    if (*head == SIM_NONE)
        *tail = SIM_NONE;
    sim->events.v[idx].next = SIM_NONE;
    return idx;
}

static void ev_final(struct sim *sim, uint32_t idx, uint32_t status)
{
    struct sim_event *ev = &sim->events.v[idx];

    ev->state = SIM_EV_DONE;
    ev->final_status = status;
    sim->n_final++;
    sim->last_final_ms = sim_now_ms();
    if (status == SMPP_ROK)
        sim->st.final_rok++;
    else if (status == SMPP_RX_P_APPN)
        sim->st.final_pappn++;
    else
        sim->st.final_other++;
}

/* Answered with a temporary error or not answered: redeliver after --redeliver-ms, unless the
 * event has used its --max-attempts. The wait queue stays sorted by due time because the delay
 * is the same for every event. */
static void ev_retry(struct sim *sim, uint32_t idx)
{
    struct sim_event *ev = &sim->events.v[idx];

    if (ev->attempts >= sim->cfg->max_attempts) {
        ev->state = SIM_EV_DONE;
        ev->gave_up = true;
        sim->n_final++;
        sim->last_final_ms = sim_now_ms();
        sim->st.gave_up++;
        GW_LOGN(CAT, "event #%" PRIu32 " gave up after %" PRIu32 " attempts", idx + 1,
                ev->attempts);
        return;
    }
    ev->state = SIM_EV_WAITING;
    ev->due_ms = sim_now_ms() + sim->cfg->redeliver_ms;
    fifo_push(sim, &sim->wait_head, &sim->wait_tail, idx);
}

static bool have_event(const struct sim *sim)
{
    return sim->ready_head != SIM_NONE || sim->next_new < sim->events.n;
}

static uint32_t take_event(struct sim *sim)
{
    if (sim->ready_head != SIM_NONE)
        return fifo_pop(sim, &sim->ready_head, &sim->ready_tail);
    return (uint32_t)sim->next_new++;
}

static void latency_add(struct sim *sim, int64_t us)
{
    if (sim->lat_n == sim->lat_cap) {
        size_t cap = sim->lat_cap ? sim->lat_cap * 2 : 1024;
        uint32_t *v = realloc(sim->lat_us, cap * sizeof(*v));
        if (!v)
            return; /* the summary loses a sample, nothing else */
        sim->lat_us = v;
        sim->lat_cap = cap;
    }
    sim->lat_us[sim->lat_n++] = us < 0 ? 0 : (us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
}

/* ---------------------------------------------------------------- window */

bool sim_pending_take(struct sim_session *s, uint32_t seq, struct sim_pending *out)
{
    for (uint32_t i = 0; i < s->win_used; i++) {
        if (s->win[i].seq == seq) {
            *out = s->win[i];
            s->win[i] = s->win[--s->win_used];
            if (out->kind == PK_EVENT)
                s->win_events--;
            return true;
        }
    }
    return false;
}

static void pending_add(struct sim_session *s, uint32_t seq, uint8_t kind, uint32_t ev)
{
    struct sim_pending *p = &s->win[s->win_used++];

    p->seq = seq;
    p->kind = kind;
    p->src = SIM_SRC_USSD;
    p->ev = ev;
    p->sent_us = now_us();
    p->sent_ms = sim_now_ms();
    if (kind == PK_EVENT)
        s->win_events++;
}

/* An answer (deliver_sm_resp, or generic_nack) to one of our deliver_sm. */
void sim_deliver_answered(struct sim *sim, const struct sim_pending *p, uint32_t status)
{
    if (p->kind == PK_USSD) {
        if (p->src == SIM_SRC_LOAD)
            sim_load_on_resp(sim, p->ev, status);
        else if (p->src == SIM_SRC_PHONE)
            sim_phone_on_resp(sim, status);
        else
            sim_ussd_on_resp(sim, status);
        return;
    }
    latency_add(sim, now_us() - p->sent_us);
    switch (status) {
    case SMPP_ROK:
        sim->st.acked_rok++;
        ev_final(sim, p->ev, status);
        break;
    case SMPP_RX_T_APPN:
        sim->st.acked_tappn++;
        ev_retry(sim, p->ev);
        break;
    case SMPP_RX_P_APPN:
        sim->st.acked_pappn++;
        ev_final(sim, p->ev, status);
        break;
    case SMPP_RTHROTTLED:
    case SMPP_RMSGQFUL:
        /* temporary by nature, as a real SMSC treats them */
        sim->st.acked_other++;
        ev_retry(sim, p->ev);
        break;
    default:
        sim->st.acked_other++;
        ev_final(sim, p->ev, status);
        break;
    }
}

/* A deliver_sm that got no answer: the response timed out or the link went down. */
void sim_deliver_lost(struct sim *sim, const struct sim_pending *p, const char *why)
{
    if (p->kind == PK_USSD) {
        if (p->src == SIM_SRC_LOAD)
            sim_load_on_lost(sim, p->ev, why);
        else if (p->src == SIM_SRC_PHONE)
            sim_phone_on_lost(sim, why);
        else
            sim_ussd_on_lost(sim, why);
        return;
    }
    sim->st.unanswered++;
    ev_retry(sim, p->ev);
}

/* ---------------------------------------------------------------- injection */

static bool inject_done(const struct sim *sim)
{
    return sim->inject_next >= sim->n_inject;
}

bool sim_inject_match(const struct sim_session *s)
{
    return s->sim->inject_out && s->sim->inject_session == s->id;
}

static void inject_kick(struct sim *sim)
{
    struct sim_session *s, *best = NULL;
    struct sim_inject_item *it;

    if (inject_done(sim) || sim->inject_out || sim->finishing || sim->stopped ||
        sim_now_ms() < sim->inject_settle_ms)
        return;
    for (s = sim->sessions; s; s = s->next) {
        if (sim_session_is_bound(s) && !s->draining && (!best || s->id < best->id))
            best = s;
    }
    if (!best)
        return;
    it = &sim->inject[sim->inject_next];
    if (sim_session_write(best, it->pdu, it->len) < 0)
        return;
    sim->inject_out = true;
    sim->inject_session = best->id;
    sim->inject_sent_ms = sim_now_ms();
    gw_fsm_log(&best->fi, GW_LOG_NOTICE, "inject line %" PRIu32 " (%zu bytes)", it->line, it->len);
}

void sim_inject_record(struct sim *sim, const struct smpp_header *h, bool malformed)
{
    struct sim_inject_item *it = &sim->inject[sim->inject_next];

    it->result = SIM_INJ_RESPONSE;
    it->resp_cmd = h->id;
    it->resp_status = h->status;
    it->resp_seq = h->seq;
    it->malformed = malformed;
    sim->inject_out = false;
    sim->inject_next++;
    sim->inject_settle_ms = sim_now_ms() + SIM_INJECT_SETTLE_MS;
    sim->inject_last_session = sim->inject_session;
    GW_LOGN(CAT, "inject line %" PRIu32 ": answered %s %s%s", it->line, smpp_cmd_name(h->id),
            smpp_status_name(h->status), malformed ? " (malformed)" : "");
    inject_kick(sim);
}

/* ---------------------------------------------------------------- sending deliver_sm */

static void fill_sm_addrs(const struct sim_config *cfg, struct smpp_sm *sm)
{
    snprintf(sm->src_addr, sizeof(sm->src_addr), "%s", cfg->source);
    snprintf(sm->dst_addr, sizeof(sm->dst_addr), "%s", cfg->dest);
}

/* Encodes sm as deliver_sm with the session's next sequence number. Falls back to
 * message_payload when the codec refuses the text in short_message (libsmpp34 stops at 253). */
static int encode_deliver(struct sim_session *s, struct smpp_sm *sm, uint8_t *buf, size_t cap,
                          size_t *len, uint32_t *seq)
{
    int rc;

    *seq = sim_session_next_seq(s);
    rc = smpp_encode_sm(SMPP_DELIVER_SM, *seq, sm, buf, cap, len);
    if (rc < 0 && !sm->use_payload) {
        sm->use_payload = true;
        rc = smpp_encode_sm(SMPP_DELIVER_SM, *seq, sm, buf, cap, len);
    }
    return rc;
}

static void send_event(struct sim *sim, struct sim_session *s, uint32_t idx)
{
    struct sim_event *ev = &sim->events.v[idx];
    struct smpp_sm sm;
    uint8_t buf[SMPP_PDU_MAX_DEFAULT];
    size_t len;
    uint32_t seq;
    int rc;

    memset(&sm, 0, sizeof(sm));
    fill_sm_addrs(sim->cfg, &sm);
    sm.data_coding = (uint8_t)sim->cfg->data_coding;
    memcpy(sm.text, ev->text, ev->len);
    sm.text_len = ev->len;
    sm.use_payload = ev->len > SIM_SHORT_MESSAGE_MAX;
    rc = encode_deliver(s, &sm, buf, sizeof(buf), &len, &seq);
    if (rc == 0)
        rc = sim_session_write(s, buf, len);
    if (rc < 0) {
        GW_LOGE(CAT, "event #%" PRIu32 ": cannot send deliver_sm: %s", idx + 1, strerror(-rc));
        ev->attempts++;
        ev_final(sim, idx, SMPP_RSYSERR);
        return;
    }
    pending_add(s, seq, PK_EVENT, idx);
    if (!sim->first_send_ms)
        sim->first_send_ms = sim_now_ms();
    ev->state = SIM_EV_INFLIGHT;
    ev->attempts++;
    sim->st.sent++;
    if (ev->attempts > 1)
        sim->st.redelivered++;
    sim->rr_last = s->id;
    GW_LOGD(CAT,
            "smsc(%" PRIu32 ") -> deliver_sm seq=%" PRIu32 " event #%" PRIu32 " attempt %" PRIu32,
            s->id, seq, idx + 1, ev->attempts);
    if (sim->cfg->disconnect_after && !sim->dropped_once &&
        sim->st.sent == sim->cfg->disconnect_after) {
        sim->dropped_once = true;
        gw_fsm_log(&s->fi, GW_LOG_NOTICE, "--disconnect-after %" PRIu32 ": dropping the link",
                   sim->cfg->disconnect_after);
        sim_session_drain(s, "--disconnect-after");
    }
}

/* Round robin over receiver sessions with room: the first id after the last one served. Events
 * may fill cfg->window slots of a session; the extra slot is kept for the USSD dialogue. */
static struct sim_session *pick_session(struct sim *sim, bool ussd)
{
    struct sim_session *s, *after = NULL, *first = NULL;

    for (s = sim->sessions; s; s = s->next) {
        if (s->closed || s->draining || !sim_session_is_receiver(s))
            continue;
        if (s->win_used >= s->win_cap || (!ussd && s->win_events >= sim->cfg->window))
            continue;
        if (!first || s->id < first->id)
            first = s;
        if (s->id > sim->rr_last && (!after || s->id < after->id))
            after = s;
    }
    if (sim->route == SIM_ROUTE_FIRST)
        return first;
    return after ? after : first;
}

/* The receiver for a USSD deliver_sm under --route. A bind has room while its window (events
 * take at most cfg->window slots) has a free slot. rr and alternate take binds in round-robin
 * order after the last one served; alternate skips prev (the dialogue's previous bind) when
 * another bind has room, so two gateway processes see consecutive messages of one dialogue. */
static struct sim_session *pick_ussd(struct sim *sim, uint32_t prev)
{
    struct sim_session *s, *best = NULL;
    uint64_t best_key = UINT64_MAX;

    for (s = sim->sessions; s; s = s->next) {
        uint64_t key;
        if (s->closed || s->draining || !sim_session_is_receiver(s) || s->win_used >= s->win_cap)
            continue;
        if (sim->route == SIM_ROUTE_FIRST)
            key = s->id;
        else
            key = (uint64_t)(s->id > sim->rr_last ? 0 : 1) << 32 | s->id;
        if (sim->route == SIM_ROUTE_ALTERNATE && prev && s->id == prev)
            key |= (uint64_t)1 << 40;
        if (key < best_key) {
            best_key = key;
            best = s;
        }
    }
    return best;
}

bool sim_ussd_has_room(struct sim *sim)
{
    return pick_ussd(sim, 0) != NULL;
}

int sim_send_ussd_from(struct sim *sim, const struct smpp_sm *sm_in, enum sim_ussd_src src,
                       uint32_t idx, uint32_t prev, uint32_t *session, int64_t *sent_us)
{
    struct sim_session *s = pick_ussd(sim, prev);
    struct smpp_sm sm;
    uint8_t buf[SMPP_PDU_MAX_DEFAULT];
    size_t len;
    uint32_t seq;
    int rc;

    if (!s)
        return -EAGAIN;
    sm = *sm_in;
    rc = encode_deliver(s, &sm, buf, sizeof(buf), &len, &seq);
    if (rc == 0)
        rc = sim_session_write(s, buf, len);
    if (rc < 0) {
        GW_LOGE(CAT, "ussd: cannot send deliver_sm: %s", strerror(-rc));
        return rc;
    }
    pending_add(s, seq, PK_USSD, idx);
    s->win[s->win_used - 1].src = (uint8_t)src;
    if (sim->route != SIM_ROUTE_FIRST)
        sim->rr_last = s->id;
    if (session)
        *session = s->id;
    if (sent_us)
        *sent_us = s->win[s->win_used - 1].sent_us;
    GW_LOGD(CAT, "smsc(%" PRIu32 ") -> deliver_sm seq=%" PRIu32 " ussd op=%u session=%u", s->id,
            seq, sm.ussd_op, sm.its_session >> 8);
    return 0;
}

int sim_send_ussd(struct sim *sim, const struct smpp_sm *sm)
{
    return sim_send_ussd_from(sim, sm, SIM_SRC_USSD, 0, sim->ussd.last_session,
                              &sim->ussd.last_session, NULL);
}

static void on_pump_timer(evutil_socket_t fd, short what, void *arg);

/* Sends what can be sent now: the injection first, then USSD, then events (due redeliveries
 * before new ones) while a receiver has room and the bucket has a token. */
void sim_pump(struct sim *sim)
{
    if (sim->pumping || sim->finishing || sim->stopped)
        return;
    sim->pumping = true;
    inject_kick(sim);
    if (!inject_done(sim) || sim_now_ms() < sim->inject_settle_ms)
        goto out;
    if (sim->cfg->wait_binds > 1) {
        /* --wait-binds: a test with two gateways wants both bound before the first message */
        uint32_t n = 0;
        for (struct sim_session *s = sim->sessions; s; s = s->next)
            n += !s->closed && !s->draining && sim_session_is_receiver(s);
        if (n < sim->cfg->wait_binds && !sim->binds_reached)
            goto out;
        sim->binds_reached = true;
    }
    sim_ussd_pump(sim);
    sim_load_pump(sim);
    sim_phone_pump(sim);
    while (have_event(sim)) {
        struct sim_session *s = pick_session(sim, false);
        int64_t wait;

        if (!s)
            break;
        wait = smpp_bucket_take(&sim->bucket, sim_now_ms());
        if (wait > 0) {
            struct timeval tv = {.tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000};
            if (!evtimer_pending(sim->pump_timer, NULL))
                evtimer_add(sim->pump_timer, &tv);
            break;
        }
        send_event(sim, s, take_event(sim));
    }
out:
    sim->pumping = false;
}

static void on_pump_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sim_pump(arg);
}

/* ---------------------------------------------------------------- cron and the end */

bool sim_all_final(const struct sim *sim)
{
    return sim->n_final == sim->events.n && inject_done(sim) && sim_ussd_finished(&sim->ussd) &&
           sim_load_finished(&sim->load) && sim_phone_finished(&sim->phone);
}

void sim_stop(struct sim *sim, int exit_code)
{
    sim->stopped = true;
    sim->exit_code = exit_code;
    event_base_loopbreak(sim->base);
}

/* --exit-when-done: unbind every session, wait (bounded) for the answers, then stop. */
static void begin_finish(struct sim *sim)
{
    struct sim_session *s, *next;

    sim->finishing = true;
    sim->finish_deadline_ms = sim_now_ms() + SIM_FINISH_TIMEOUT_MS;
    GW_LOGI(CAT, "every event has a final answer: unbinding");
    for (s = sim->sessions; s; s = next) {
        next = s->next;
        sim_session_unbind(s);
    }
}

static void cron_timeouts(struct sim *sim, int64_t now)
{
    const struct sim_config *cfg = sim->cfg;
    struct sim_session *s, *next;

    for (s = sim->sessions; s; s = next) {
        next = s->next;
        for (uint32_t i = 0; i < s->win_used;) {
            if (now - s->win[i].sent_ms >= (int64_t)cfg->resp_timeout_ms) {
                struct sim_pending p = s->win[i];
                s->win[i] = s->win[--s->win_used];
                if (p.kind == PK_EVENT)
                    s->win_events--;
                gw_fsm_log(&s->fi, GW_LOG_NOTICE,
                           "deliver_sm seq=%" PRIu32 " unanswered after"
                           " %" PRIu32 " ms",
                           p.seq, cfg->resp_timeout_ms);
                sim_deliver_lost(sim, &p, "response timeout");
                continue;
            }
            i++;
        }
        if (cfg->enquire_link_ms && sim_session_is_bound(s) && !s->draining) {
            if (s->enquire_out && now - s->enquire_ms >= (int64_t)cfg->resp_timeout_ms) {
                gw_fsm_log(&s->fi, GW_LOG_NOTICE, "enquire_link seq=%" PRIu32 " unanswered",
                           s->enquire_seq);
                s->enquire_out = false;
            }
            if (!s->enquire_out && now - s->last_rx_ms >= (int64_t)cfg->enquire_link_ms &&
                now - s->enquire_ms >= (int64_t)cfg->enquire_link_ms) {
                s->enquire_seq = sim_session_next_seq(s);
                s->enquire_out = true;
                s->enquire_ms = now;
                sim->st.enquire_sent++;
                sim_session_send_header(s, SMPP_ENQUIRE_LINK, SMPP_ROK, s->enquire_seq);
            }
        }
    }
    if (sim->inject_out && now - sim->inject_sent_ms >= (int64_t)cfg->resp_timeout_ms) {
        struct sim_inject_item *it = &sim->inject[sim->inject_next];
        uint32_t sid = sim->inject_session;

        it->result = SIM_INJ_TIMEOUT;
        sim->inject_out = false;
        sim->inject_next++;
        GW_LOGN(CAT,
                "inject line %" PRIu32 ": no answer in %" PRIu32 " ms, dropping the link"
                " to resynchronise",
                it->line, cfg->resp_timeout_ms);
        for (s = sim->sessions; s; s = s->next) {
            if (s->id == sid) {
                sim_session_close(s, "injected PDU unanswered");
                break;
            }
        }
    }
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    struct sim *sim = arg;
    const struct sim_config *cfg = sim->cfg;
    int64_t now = sim_now_ms();

    (void)fd;
    (void)what;
    while (sim->graveyard) {
        struct sim_session *s = sim->graveyard;
        sim->graveyard = s->next;
        sim_session_free(s);
    }
    if (sim->stopped)
        return;
    while (sim->wait_head != SIM_NONE && sim->events.v[sim->wait_head].due_ms <= now) {
        uint32_t idx = fifo_pop(sim, &sim->wait_head, &sim->wait_tail);
        sim->events.v[idx].state = SIM_EV_READY;
        fifo_push(sim, &sim->ready_head, &sim->ready_tail, idx);
    }
    cron_timeouts(sim, now);
    sim_ussd_cron(sim, now);
    sim_load_cron(sim, now);
    sim_phone_cron(sim, now);
    sim_pump(sim);

    if (cfg->timeout_s && now - sim->start_ms >= (int64_t)cfg->timeout_s * 1000) {
        bool done = sim_all_final(sim);
        GW_LOGN(CAT, "--timeout-s %" PRIu32 " reached%s", cfg->timeout_s,
                done ? "" : " with events left without a final answer");
        sim_stop(sim, done ? 0 : 3);
        return;
    }
    if (!cfg->exit_when_done)
        return;
    if (!sim->finishing && sim_all_final(sim)) {
        if (!sim->done_since_ms)
            sim->done_since_ms = now;
        if (now - sim->done_since_ms >= (int64_t)cfg->linger_ms)
            begin_finish(sim);
    }
    if (sim->finishing && (!sim->sessions || now >= sim->finish_deadline_ms))
        sim_stop(sim, 0);
}

/* "HOST:PORT" or "[V6]:PORT" */
static int split_hostport(const char *in, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    size_t hl;

    if (in[0] == '[') {
        const char *end = strchr(in, ']');
        if (!end || end[1] != ':')
            return -EINVAL;
        hl = (size_t)(end - in - 1);
        in++;
        colon = end + 1;
    } else {
        colon = strrchr(in, ':');
        if (!colon)
            return -EINVAL;
        hl = (size_t)(colon - in);
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen)
        return -EINVAL;
    memcpy(host, in, hl);
    host[hl] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

static int write_port_file(const char *path, uint16_t port)
{
    char tmp[4096];
    FILE *f;
    int rc = 0;

    /* write then rename: a test polling the file never reads half a number */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%u\n", (unsigned)port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        rc = -errno;
    return rc;
}

int sim_start(struct sim *sim)
{
    const struct sim_config *cfg = sim->cfg;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], port[16], nhost[64], nport[16];
    struct timeval tv = {.tv_sec = 0, .tv_usec = SIM_CRON_MS * 1000};
    int rc;

    sim->start_ms = sim_now_ms();
    sim->wait_head = sim->wait_tail = SIM_NONE;
    sim->ready_head = sim->ready_tail = SIM_NONE;
    /* a burst of 10 ms worth of tokens lets millisecond timers reach high rates */
    smpp_bucket_init(&sim->bucket, cfg->rate, cfg->rate > 100 ? cfg->rate / 100 : 1, sim->start_ms);
    if (cfg->record) {
        sim->record = fopen(cfg->record, "a");
        if (!sim->record) {
            rc = -errno;
            fprintf(stderr, "smsc-sim: --record %s: %s\n", cfg->record, strerror(errno));
            return rc;
        }
    }
    if (split_hostport(cfg->listen, host, sizeof(host), port, sizeof(port)) < 0) {
        fprintf(stderr, "smsc-sim: --listen wants HOST:PORT, got %s\n", cfg->listen);
        return -EINVAL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "smsc-sim: --listen %s: %s\n", cfg->listen, gai_strerror(rc));
        return -EINVAL;
    }
    sim->listener = evconnlistener_new_bind(sim->base, sim_session_accept, sim,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                            ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!sim->listener) {
        rc = -errno;
        fprintf(stderr, "smsc-sim: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        return rc ? rc : -EADDRINUSE;
    }
    if (getsockname(evconnlistener_get_fd(sim->listener), (struct sockaddr *)&ss, &sl) < 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, nhost, sizeof(nhost), nport, sizeof(nport),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -EIO;
    snprintf(sim->listen_host, sizeof(sim->listen_host), "%s", nhost);
    sim->listen_port = (uint16_t)atoi(nport);
    sim->cron = event_new(sim->base, -1, EV_PERSIST, on_cron, sim);
    sim->pump_timer = evtimer_new(sim->base, on_pump_timer, sim);
    if (!sim->cron || !sim->pump_timer || event_add(sim->cron, &tv) < 0)
        return -ENOMEM;
    {
        /* the phone's stdout is the handset's screen: keep it for the subscriber */
        FILE *o = sim->phone.on ? stderr : stdout;
        if (strchr(nhost, ':'))
            fprintf(o, "listening on [%s]:%u\n", nhost, (unsigned)sim->listen_port);
        else
            fprintf(o, "listening on %s:%u\n", nhost, (unsigned)sim->listen_port);
        fflush(o);
    }
    if (cfg->port_file) {
        rc = write_port_file(cfg->port_file, sim->listen_port);
        if (rc < 0) {
            fprintf(stderr, "smsc-sim: --port-file %s: %s\n", cfg->port_file, strerror(-rc));
            return rc;
        }
    }
    GW_LOGI(CAT, "%zu events, %zu PDUs to inject, window %" PRIu32 ", rate %g/s", sim->events.n,
            sim->n_inject, cfg->window, cfg->rate);
    if (sim->load.on)
        smpp_bucket_init(&sim->load.bucket, cfg->load_rate,
                         cfg->load_rate > 100 ? cfg->load_rate / 100 : 1, sim->start_ms);
    return sim_phone_start(sim);
}

void sim_cleanup(struct sim *sim)
{
    struct sim_session *lists[2] = {sim->sessions, sim->graveyard};

    for (int i = 0; i < 2; i++) {
        while (lists[i]) {
            struct sim_session *s = lists[i];
            lists[i] = s->next;
            sim_session_free(s);
        }
    }
    sim->sessions = sim->graveyard = NULL;
    if (sim->listener)
        evconnlistener_free(sim->listener);
    if (sim->cron)
        event_free(sim->cron);
    if (sim->pump_timer)
        event_free(sim->pump_timer);
    if (sim->record)
        fclose(sim->record);
    sim->listener = NULL;
    sim->cron = sim->pump_timer = NULL;
    sim->record = NULL;
    sim_events_free(&sim->events);
    sim_inject_free(sim->inject, sim->n_inject);
    sim->inject = NULL;
    sim->n_inject = 0;
    sim_ussd_cleanup(&sim->ussd);
    sim_load_cleanup(&sim->load);
    sim_phone_cleanup(&sim->phone);
    free(sim->lat_us);
    sim->lat_us = NULL;
    sim->lat_n = sim->lat_cap = 0;
}
