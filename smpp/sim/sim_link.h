/*
 * sim_link.h - private to sim_server.c (delivery: queues, window, pump, injection, cron) and
 * sim_session.c (one SMPP session per TCP connection: FSM, inbound PDUs, --record). The session
 * struct is shared because the delivery side keeps its window in it.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include "sim.h"

#include <event2/util.h>

struct evconnlistener;
struct sockaddr;

enum sim_pending_kind { PK_EVENT = 1, PK_USSD };

/* A deliver_sm of ours awaiting deliver_sm_resp. */
struct sim_pending {
    uint32_t seq;
    uint8_t kind;
    uint8_t src; /* PK_USSD: enum sim_ussd_src */
    uint32_t ev; /* PK_EVENT: index in sim->events; PK_USSD from the load: the dialogue */
    int64_t sent_us, sent_ms;
};

struct sim_session {
    struct sim *sim;
    struct sim_session *next;
    uint32_t id;
    struct bufferevent *bev; /* NULL once closed */
    struct gw_fsm_inst fi;
    char peer[96];
    char system_id[16];
    uint32_t seq;
    struct sim_pending *win; /* window slots: cfg->window for events + 1 for USSD (+ the
                              * --ussd-window with --ussd-load) */
    uint32_t win_cap, win_used, win_events;
    int64_t last_rx_ms;
    bool enquire_out;
    uint32_t enquire_seq;
    int64_t enquire_ms;
    bool draining; /* close once the output is flushed; reads and sends nothing more */
    const char *drain_reason;
    bool unbound; /* an unbind exchange happened (or we asked for one): the close is orderly */
    bool closed;
    uint8_t rx[SMPP_PDU_MAX_DEFAULT + 1]; /* one PDU, plus the zero byte libsmpp34 wants */
};

/* ---- sim_session.c */
bool sim_session_is_receiver(const struct sim_session *s);
bool sim_session_is_bound(const struct sim_session *s);
/* The next sequence number of the session (1 .. 0x7FFFFFFF, then 1 again). */
uint32_t sim_session_next_seq(struct sim_session *s);
/* Queues bytes on the socket. Returns 0 or -ENOTCONN / -EIO. */
int sim_session_write(struct sim_session *s, const uint8_t *buf, size_t len);
void sim_session_send_header(struct sim_session *s, uint32_t cmd, uint32_t status, uint32_t seq);
/* Closes now: unanswered deliver_sm go back to the delivery side, the struct moves to the
 * graveyard (freed by the cron). Safe inside the session's own callbacks; idempotent. */
void sim_session_close(struct sim_session *s, const char *why);
/* Stops reading; closes once the output is flushed. */
void sim_session_drain(struct sim_session *s, const char *why);
/* Sends unbind and enters UNBINDING (T_UNBIND bounds the wait); closes a session never bound. */
void sim_session_unbind(struct sim_session *s);
void sim_session_free(struct sim_session *s);
/* The listener callback (arg: struct sim). */
void sim_session_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                        int socklen, void *arg);

/* ---- sim_server.c */
/* Removes the pending deliver_sm with this sequence number into *out; false when none. */
bool sim_pending_take(struct sim_session *s, uint32_t seq, struct sim_pending *out);
/* A deliver_sm_resp or generic_nack for one of our deliver_sm. */
void sim_deliver_answered(struct sim *sim, const struct sim_pending *p, uint32_t status);
/* A deliver_sm that got no answer (timeout, link lost). */
void sim_deliver_lost(struct sim *sim, const struct sim_pending *p, const char *why);
/* True when an injected PDU awaits its answer on this session. */
bool sim_inject_match(const struct sim_session *s);
void sim_inject_record(struct sim *sim, const struct smpp_header *h, bool malformed);
/* Sends what can be sent now (injection, USSD, events). Re-entrancy safe. */
void sim_pump(struct sim *sim);

#endif
