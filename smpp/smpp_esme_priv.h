/*
 * smpp_esme_priv.h - private to the ESME link (smpp_esme.c: FSM, sessions, inbound PDUs;
 * smpp_esme_submit.c: submit queue, window, TPS bucket, throttling, deferred callbacks).
 *
 * Ownership: struct smpp_esme owns everything below it - its sessions' bufferevents, every
 * struct esme_submit (queued, in the window, or completed and waiting for its callback), the
 * table of unanswered deliver_sm tokens and its libevent events. Nothing is shared with the
 * application except the opaque deliver token (a number, never a pointer).
 */
#ifndef SMPP_ESME_PRIV_H
#define SMPP_ESME_PRIV_H

#include "gw_core.h"
#include "smpp.h"

#include <event2/util.h>
#include <stdbool.h>
#include <stdint.h>

struct bufferevent;
struct event;

/* ---------------------------------------------------------------- FSM vocabulary */

enum esme_state {
    ST_STOPPED = 0,  /* initial: created, or stopped; nothing open */
    ST_DISCONNECTED, /* waiting T_RECONNECT (back-off) */
    ST_CONNECTING,   /* TCP connect(s) in progress, T_CONNECT */
    ST_BINDING,      /* bind(s) sent, T_BIND */
    ST_BOUND,        /* traffic; T_ENQUIRE drives idle enquire_link and dead-link detection */
    ST_DRAINING,     /* stop requested: waiting for in-flight work, T_DRAIN */
    ST_UNBINDING,    /* unbind sent, T_UNBIND */
    ST__COUNT
};

enum esme_event {
    E_START = 0,
    E_CONNECTED,   /* one session's TCP connect completed */
    E_CONN_FAIL,   /* a TCP connect failed */
    E_BIND_OK,     /* one session's bind_*_resp ESME_ROK */
    E_BIND_FAIL,   /* a bind refused (status or generic_nack) */
    E_LINK_DOWN,   /* EOF, socket error, framing violation, dead link */
    E_PEER_UNBIND, /* the SMSC sent unbind (already answered) */
    E_STOP,
    E_DRAINED,     /* window empty and every deliver_sm answered */
    E_UNBIND_DONE, /* every unbind answered */
    E_TIMEOUT,     /* data: int * named timer */
    E__COUNT
};

enum esme_timer { T_CONNECT = 0, T_BIND, T_ENQUIRE, T_RECONNECT, T_DRAIN, T_UNBIND, T__COUNT };

/* ---------------------------------------------------------------- objects */

/* One submit_sm from smpp_esme_submit() until its callback has run. pdu is encoded once at
 * submit time (so a field that does not fit fails synchronously); the sequence number is
 * patched in each time it is (re)sent. */
struct esme_submit {
    struct esme_submit *prev, *next;
    uint8_t *pdu; /* owned */
    size_t len;
    uint32_t seq;
    int64_t deadline_ms; /* monotonic; valid while in the window */
    smpp_submit_cb cb;
    void *arg;
    int err;
    uint32_t status;
    char message_id[65];
};

struct esme_list {
    struct esme_submit *head, *tail;
    uint32_t n;
};

/* One TCP session: the transceiver, or the transmitter / receiver of a TX_RX pair. */
struct esme_sess {
    struct smpp_esme *e;
    struct bufferevent *bev; /* NULL when closed */
    uint32_t gen;            /* connection generation, unique per open; high half of tokens */
    uint32_t bind_cmd;
    const char *role; /* "trx", "tx", "rx" for logs */
    bool connected, bound, unbind_sent, unbound;
    uint32_t bind_seq, enq_seq, unbind_seq;
    int64_t enq_deadline_ms, last_rx_ms;
};

/* One unanswered deliver_sm: a slot of an open-addressing table (linear probing, backward-shift
 * deletion, no tombstones) sized once at smpp_esme_new to a power of two >= 2 x rx_pending_max,
 * so a lookup by token stays O(1) on average and the table never grows. */
struct esme_pending {
    uint64_t token;   /* gen << 32 | sequence_number */
    uint32_t resp_id; /* deliver_sm_resp or data_sm_resp */
    bool used;
};

#define ESME_GRAVE_MAX 8

struct smpp_esme {
    struct event_base *base;
    struct smpp_esme_config cfg;
    struct smpp_esme_ops ops;
    void *arg;
    struct gw_fsm_inst fi;

    struct esme_sess sess[2];
    unsigned nsess; /* 1 (TRX) or 2 (TX_RX: sess[0] transmits, sess[1] receives) */
    uint32_t next_seq;
    uint32_t gen_counter;

    struct esme_list queue;  /* not yet sent, FIFO (throttled ones go back to the front) */
    struct esme_list window; /* sent, awaiting a response, in send order = deadline order */
    struct esme_list done;   /* completed, callback not yet run */

    struct esme_pending *pend; /* unanswered deliver_sm of live sessions: cap_pend slots */
    uint32_t npend, cap_pend;  /* npend <= cfg.rx_pending_max; cap_pend a power of two */

    struct smpp_bucket bucket;
    struct smpp_pace pace; /* the busiest second of sends (stats) */
    int64_t throttle_until_ms;

    struct event *ev_window; /* earliest submit deadline */
    struct event *ev_pump;   /* TPS token or throttle pause over */
    struct event *ev_defer;  /* callbacks, done(), freeing closed bufferevents */

    /* Closed bufferevents wait here for ev_defer: a session is often closed from inside its own
     * read or event callback. */
    struct bufferevent *grave[ESME_GRAVE_MAX];
    unsigned ngrave;

    struct gw_backoff backoff; /* reconnect back-off; reset on bind */
    bool stopping; /* smpp_esme_stop() called and no start since */
    bool freeing;
    bool bound_reported;
    void (*done_cb)(void *arg);
    void *done_arg;
    bool done_pending;

    struct smpp_esme_stats st;
    uint8_t *rx; /* one PDU, max_pdu + 1 bytes (a zero byte after every PDU) */
};

/* ---------------------------------------------------------------- smpp_esme.c */

int64_t esme_now(void);
int esme_sess_send(struct esme_sess *s, const uint8_t *pdu, size_t len);
uint32_t esme_next_seq(struct smpp_esme *e);
struct esme_sess *esme_tx_sess(struct smpp_esme *e);
/* Dispatches E_DRAINED when draining and nothing is left in flight. */
void esme_check_drained(struct smpp_esme *e);
/* Schedules ev_defer (callbacks, done, graveyard) to run from the loop. */
void esme_defer(struct smpp_esme *e);

/* ---------------------------------------------------------------- smpp_esme_submit.c */

void esme_list_push_back(struct esme_list *l, struct esme_submit *s);
void esme_list_push_front(struct esme_list *l, struct esme_submit *s);
void esme_list_remove(struct esme_list *l, struct esme_submit *s);
struct esme_submit *esme_list_pop(struct esme_list *l);

/* Moves s (already unlinked) to the done list with its result; the callback runs from ev_defer. */
void esme_submit_complete(struct smpp_esme *e, struct esme_submit *s, int err, uint32_t status,
                          const char *message_id);
/* Fails every submit in l with err (unlinking them). */
void esme_submit_fail_all(struct smpp_esme *e, struct esme_list *l, int err);
/* Sends what the window, the TPS bucket and any throttle pause allow. */
void esme_pump(struct smpp_esme *e);
void esme_window_rearm(struct smpp_esme *e);
/* A submit_sm_resp or generic_nack for a submit: returns false if seq is not in the window. */
bool esme_submit_resp(struct smpp_esme *e, uint32_t seq, uint32_t status, const char *message_id);
void esme_window_timer_cb(evutil_socket_t fd, short what, void *arg);
void esme_pump_timer_cb(evutil_socket_t fd, short what, void *arg);
/* Runs completed submit callbacks; the caller (ev_defer) owns the loop. */
void esme_run_completions(struct smpp_esme *e);

#endif
