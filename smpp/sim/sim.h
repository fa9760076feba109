/*
 * sim.h - private header of smsc-sim, the carrier's SMSC played by us for tests, the demo and
 * the benchmarks. Not part of libsmpp: only the files in smpp/sim (and the test_sim_ unit
 * tests, which include the pure .c files directly) see it.
 *
 * Pieces:
 *   smsc_sim.c    main: the option table, signals, exit codes
 *   sim_events.c  event file, the deterministic generator, the --inject-hex file (pure, no I/O
 *                 besides reading the files)
 *   sim_text.c    GSM 03.38 / UCS-2BE -> UTF-8 for --record and the USSD mode (pure)
 *   sim_server.c  delivery: queues, window, token bucket, redelivery, injection, the one cron
 *                 timer, the listener and the orderly end
 *   sim_session.c one SMPP session per connection (a gw_fsm each): framing, pre-scan, bind,
 *                 submits and --record, answers to our deliver_sm (shares sim_link.h with
 *                 sim_server.c)
 *   sim_ussd.c    the --ussd dialogue driver
 *   sim_summary.c the JSON and human summaries
 *
 * Ownership: struct sim owns everything (events, sessions, inject items, the record file); a
 * session is unlinked when it closes and freed later from the cron ("graveyard"), never inside
 * one of its own callbacks.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw_core.h"
#include "smpp.h"

/* ---------------------------------------------------------------- configuration */

/* Filled from the option table in smsc_sim.c; strings point into argv or are static defaults. */
struct sim_config {
    const char *listen;
    const char *port_file;
    const char *system_id; /* NULL: accept any */
    const char *password;  /* NULL: accept any */
    const char *events_file;
    uint32_t generate;
    uint32_t subscribers;
    uint64_t seed;
    const char *ref_prefix;
    const char *at;
    uint32_t dup_rate; /* percent */
    const char *source;
    const char *dest;
    uint32_t data_coding;
    double rate;
    uint32_t window;
    uint32_t resp_timeout_ms;
    uint32_t redeliver_ms;
    uint32_t max_attempts;
    const char *inject_hex;
    uint32_t disconnect_after;
    const char *record;
    uint32_t throttle_every;
    uint32_t enquire_link_ms;
    bool exit_when_done;
    uint32_t timeout_s;
    const char *summary;
    const char *ussd_msisdn;
    const char *ussd_code;
    const char *ussd_inputs;
    uint32_t ussd_timeout_ms;
    uint32_t linger_ms; /* --exit-when-done: wait this long for trailing submits before unbind */
    const char *log_level;
};

/* ---------------------------------------------------------------- events (sim_events.c) */

#define SIM_EVENT_TEXT_MAX SMPP_TEXT_MAX /* one deliver_sm: short_message or message_payload */
#define SIM_NONE UINT32_MAX              /* end of an intrusive event list */

enum sim_ev_state {
    SIM_EV_NEW = 0,  /* never sent */
    SIM_EV_INFLIGHT, /* a deliver_sm awaits its response */
    SIM_EV_WAITING,  /* answered ESME_RX_T_APPN or unanswered: waits --redeliver-ms */
    SIM_EV_READY,    /* due for redelivery, queued ahead of new events */
    SIM_EV_DONE,     /* final: ESME_ROK, a permanent error, or gave up */
};

struct sim_event {
    char *text; /* owned, NUL-terminated */
    uint16_t len;
    uint8_t state; /* enum sim_ev_state */
    bool gave_up;
    uint32_t attempts;     /* deliver_sm sent for it */
    uint32_t final_status; /* valid when state == SIM_EV_DONE && !gave_up */
    uint32_t line;         /* line in --events, 0 when generated */
    uint32_t next;         /* intrusive FIFO link (wait or ready queue), SIM_NONE at the end */
    int64_t due_ms;        /* SIM_EV_WAITING: monotonic time of redelivery */
};

struct sim_events {
    struct sim_event *v;
    size_t n, cap;
    /* generator bookkeeping, reported in the summary */
    uint32_t generated;         /* unique generated events */
    uint32_t duplicates;        /* generated re-sends of an earlier ref */
    int64_t amount_minor_total; /* sum of the unique generated amounts, in centimes */
};

struct sim_gen_params {
    uint32_t n;
    uint32_t subscribers;
    uint64_t seed;
    const char *ref_prefix;
    const char *at; /* RFC 3339 text, used verbatim in every event */
    uint32_t dup_rate;
};

/* Appends a copy of text[len] (1..SIM_EVENT_TEXT_MAX bytes). Returns 0, -EINVAL or -ENOMEM. */
int sim_events_add(struct sim_events *evs, const char *text, size_t len, uint32_t line);
/* Reads one event per line from f (blank lines and lines whose first non-blank character is '#'
 * are skipped; the line terminator, LF or CRLF, is removed, nothing else). On error returns < 0
 * and writes a reason naming the line into err. */
int sim_events_read(struct sim_events *evs, FILE *f, char *err, size_t errlen);
/* Same for a path; "-" is stdin. */
int sim_events_load(struct sim_events *evs, const char *path, char *err, size_t errlen);
/* Appends p->n TOPUP events (plus duplicates per p->dup_rate), deterministic for p->seed. */
int sim_events_generate(struct sim_events *evs, const struct sim_gen_params *p, char *err,
                        size_t errlen);
void sim_events_free(struct sim_events *evs);

/* The generator's PRNG (splitmix64), exposed for tests. */
uint64_t sim_rand_next(uint64_t *state);
/* Checks the shape of an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)). */
bool sim_rfc3339_valid(const char *s);
/* Formats unix seconds as YYYY-MM-DDTHH:MM:SSZ into out (>= 21 bytes). */
void sim_rfc3339_format(int64_t unix_s, char *out, size_t outlen);

/* ---------------------------------------------------------------- injection */

enum sim_inject_result {
    SIM_INJ_PENDING = 0,
    SIM_INJ_RESPONSE, /* the ESME answered with some response PDU */
    SIM_INJ_CLOSED,   /* the ESME closed the connection */
    SIM_INJ_TIMEOUT,  /* no answer within --resp-timeout-ms; we dropped the link to resync */
};

struct sim_inject_item {
    uint8_t *pdu; /* owned */
    size_t len;
    uint32_t line;
    uint8_t result;    /* enum sim_inject_result */
    bool malformed;    /* the response failed our pre-scan */
    bool closed_after; /* the ESME closed the link right after answering (within the settle) */
    uint32_t resp_cmd, resp_status, resp_seq;
};

/* Decodes hex (whitespace ignored) into out[cap]. Returns 0, -EINVAL (odd/non-hex) or -ENOSPC. */
int sim_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len);
/* Loads an --inject-hex file: one PDU per line, blank and '#' lines skipped. *items is owned by
 * the caller (sim_inject_free). */
int sim_inject_load(const char *path, struct sim_inject_item **items, size_t *n, char *err,
                    size_t errlen);
void sim_inject_free(struct sim_inject_item *items, size_t n);

/* ---------------------------------------------------------------- text (sim_text.c) */

/* Converts wire text to UTF-8 into out[outlen] (always NUL-terminated; stops cleanly before a
 * character that does not fit). data_coding 0: GSM 03.38 default alphabet, unpacked, with the
 * extension table; 8: UCS-2BE (UTF-16 surrogate pairs joined); 3: Latin-1; anything else:
 * ASCII. Bytes that cannot be decoded become U+FFFD. *printable (may be NULL) is false when the
 * text holds U+FFFD or control characters other than CR/LF. Returns the UTF-8 length. */
size_t sim_text_to_utf8(uint8_t data_coding, const uint8_t *in, size_t len, char *out,
                        size_t outlen, bool *printable);
/* Converts ASCII to GSM 03.38 octets for data_coding 0 ('@' '$' '_' remapped, characters of
 * the extension table escaped, anything else outside the alphabet becomes '?'). Returns the
 * output length, or -ENOSPC. */
int sim_ascii_to_gsm(const char *in, uint8_t *out, size_t cap);

/* ---------------------------------------------------------------- USSD (sim_ussd.c) */

#define SIM_USSD_MAX_INPUTS 32
#define SIM_USSD_MAX_SCREENS 64

enum sim_ussd_state {
    SIM_USSD_OFF = 0,
    SIM_USSD_IDLE,    /* waiting for a bind (and the injection) to dial */
    SIM_USSD_WAITING, /* our deliver_sm is out: waiting for a screen */
    SIM_USSD_DONE,
};

struct sim_ussd {
    uint8_t state;
    const char *msisdn;
    const char *code;
    char inputs_buf[512];
    const char *inputs[SIM_USSD_MAX_INPUTS];
    size_t n_inputs, next_input;
    uint8_t session_no;  /* its_session_info high byte */
    uint8_t seq;         /* our message counter in the dialogue (low byte: seq << 1 | end) */
    bool out_pending;    /* a deliver_sm waits for a session with room */
    struct smpp_sm *out; /* owned; the pending deliver_sm */
    int64_t deadline_ms; /* when WAITING: no screen by then -> "timeout" */
    const char *end_reason;
    char *screens[SIM_USSD_MAX_SCREENS]; /* owned UTF-8 texts received */
    uint8_t screen_ops[SIM_USSD_MAX_SCREENS];
    size_t n_screens;
    uint32_t sent;
};

struct sim;
/* Parses the --ussd options. Returns 0 or -EINVAL (message on stderr). */
int sim_ussd_init(struct sim_ussd *u, const char *msisdn, const char *code, const char *inputs);
void sim_ussd_cleanup(struct sim_ussd *u);
/* Called by the pump once a receiver is bound and the injection is over: dials, or retries a
 * deliver_sm that found no session with room. */
void sim_ussd_pump(struct sim *sim);
/* The response to one of our USSD deliver_sm. */
void sim_ussd_on_resp(struct sim *sim, uint32_t status);
/* A submit_sm/data_sm addressed to the USSD MSISDN that we answered ESME_ROK. */
void sim_ussd_on_submit(struct sim *sim, const struct smpp_sm *sm);
/* The USSD deliver_sm was lost (timeout or disconnect). */
void sim_ussd_on_lost(struct sim *sim, const char *why);
/* From the cron: ends the dialogue when no screen came in time. */
void sim_ussd_cron(struct sim *sim, int64_t now_ms);
bool sim_ussd_finished(const struct sim_ussd *u);

/* ---------------------------------------------------------------- the simulator */

struct sim_stats {
    uint64_t sent, redelivered, unanswered, gave_up;
    uint64_t acked_rok, acked_tappn, acked_pappn, acked_other;
    uint64_t final_rok, final_pappn, final_other;
    uint64_t connections, binds, bind_failures, disconnects;
    uint64_t submits, submits_throttled, submits_rejected;
    uint64_t generic_nacks_received, generic_nacks_sent, prescan_rejects, late_responses;
    uint64_t enquire_sent, enquire_in;
};

struct sim_session;
struct event_base;
struct event;
struct evconnlistener;

struct sim {
    struct event_base *base;
    const struct sim_config *cfg;

    struct sim_events events;
    size_t next_new;                 /* next event never sent, in file order */
    uint32_t wait_head, wait_tail;   /* answered T_APPN / unanswered, by due time */
    uint32_t ready_head, ready_tail; /* due redeliveries, sent before new events */
    size_t n_final;

    struct sim_session *sessions;  /* open sessions, newest first */
    struct sim_session *graveyard; /* closed, freed from the cron */
    uint32_t next_session_id;
    uint32_t rr_last; /* id of the session that got the last deliver_sm (round robin) */

    struct evconnlistener *listener;
    char listen_host[64];
    uint16_t listen_port;
    struct event *cron;
    struct event *pump_timer;
    struct smpp_bucket bucket;
    bool pumping; /* re-entrancy guard of the delivery pump */

    struct sim_stats st;
    uint32_t *lat_us; /* deliver_sm sent -> response, microseconds */
    size_t lat_n, lat_cap;

    struct sim_inject_item *inject;
    size_t n_inject, inject_next;
    bool inject_out;
    uint32_t inject_session;
    int64_t inject_sent_ms;
    int64_t inject_settle_ms; /* after an answer: no next PDU before this, to see a close */
    uint32_t inject_last_session;

    struct sim_ussd ussd;
    FILE *record;
    uint64_t message_ids;
    bool dropped_once;

    int64_t start_ms;
    int64_t first_send_ms, last_final_ms; /* for delivery_ms in the summary */
    int64_t done_since_ms; /* --exit-when-done: when everything became final (0: not yet) */
    bool finishing;        /* unbinding every session before exit */
    int64_t finish_deadline_ms;
    bool stopped;
    int exit_code;
};

/* sim_server.c. sim_start() listens and arms the cron; returns 0 or a negative errno. The loop
 * ends (event_base_loopbreak) when the simulator is done or stopped; sim_stop() requests that
 * from a signal handler or the timeout. sim_cleanup() frees everything sim_start() made. */
int sim_start(struct sim *sim);
void sim_stop(struct sim *sim, int exit_code);
void sim_cleanup(struct sim *sim);
bool sim_all_final(const struct sim *sim);
/* Sends a deliver_sm for the USSD driver on a receiver session with room (not rate limited).
 * Returns 0, or -EAGAIN when no session can take it now. */
int sim_send_ussd(struct sim *sim, const struct smpp_sm *sm);
int64_t sim_now_ms(void);

/* sim_summary.c */
struct json_t;
/* Nearest-rank percentile (p in 0..100) of v[n] sorted ascending; 0 when n == 0. */
uint32_t sim_percentile(const uint32_t *sorted, size_t n, unsigned p);
/* Builds the summary object (caller owns the reference). NULL on allocation failure. */
struct json_t *sim_summary_json(const struct sim *sim, int64_t elapsed_ms);
void sim_summary_print(const struct sim *sim, FILE *out, int64_t elapsed_ms);
int sim_summary_write(const struct sim *sim, const char *path, int64_t elapsed_ms);

#endif
