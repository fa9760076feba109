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
 *   sim_ussd.c    the --ussd dialogue driver, and the subscriber's deliver_sm every USSD mode
 *                 sends (sim_ussd_build)
 *   sim_load.c    --ussd-load: N dialogues by N subscribers, C at a time, hop latency
 *   sim_phone.c   --phone: a handset in the terminal (interactive, or a script of lines)
 *   sim_sms.c     user data headers and the reassembly of concatenated SMS (pure)
 *   sim_summary.c the JSON and human summaries, latency percentiles
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

struct event;

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
    const char *ussd_code_addr; /* destination_addr of USSD deliver_sm; NULL: the dialled code */
    uint32_t ussd_abort_op;     /* ussd_service_op of an abort; 0: the end bit alone */
    const char *route;          /* first | rr | alternate */
    const char *phone_msisdn;
    const char *phone_script;
    uint32_t load_n;
    uint32_t load_concurrency;
    uint64_t load_msisdn_base;
    uint32_t wait_binds;  /* deliver nothing before this many receivers are bound */
    double load_rate;     /* hops per second, 0 = unlimited */
    uint32_t load_window; /* USSD deliver_sm per session awaiting deliver_sm_resp */
};

/* --route: which bound receiver gets the next deliver_sm. */
enum sim_route {
    SIM_ROUTE_RR = 0,    /* round robin over every deliver_sm (events and USSD) */
    SIM_ROUTE_FIRST,     /* always the oldest bind with room */
    SIM_ROUTE_ALTERNATE, /* USSD: never the bind that took the dialogue's previous deliver_sm
                          * when another has room; events: round robin */
};
/* Parses a --route value; -EINVAL when unknown. */
int sim_route_parse(const char *name, enum sim_route *out);

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
/* Encodes what a subscriber typed (UTF-8, untrusted: invalid bytes become U+FFFD) as a handset
 * does: GSM 03.38 (data_coding 0, unpacked, extension characters as 0x1B + septet) when every
 * character is in the default alphabet, else UCS-2BE (data_coding 8; characters beyond the BMP
 * as surrogate pairs). Persian or Arabic-Indic digits are not in GSM 03.38, so they go as
 * UCS-2. Writes out[cap], *out_len and *data_coding. Returns 0, -ENOSPC (nothing written that
 * the caller may use) or -EINVAL. */
int sim_utf8_to_wire(const char *utf8, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                     uint8_t *data_coding);

/* ---------------------------------------------------------------- SMS (sim_sms.c) */

/* What a user data header says (3GPP TS 23.040 9.2.3.24). */
struct sim_udh {
    size_t len;    /* octets of the header, UDHL included: the text starts there */
    bool concat;   /* a valid concatenation IE (0x00 8-bit or 0x08 16-bit reference) */
    uint16_t ref;  /* concatenation reference */
    uint8_t total; /* parts in the message, 1..255 */
    uint8_t seq;   /* this part, 1..total */
};

/* Parses the UDH at data[0..len) of a short message sent with esm_class UDHI. Returns 0, or
 * -EBADMSG when UDHL or an information element runs past the data. A concatenation IE with
 * total 0, seq 0 or seq > total is ignored, as 23.040 asks of a receiver (concat stays false). */
int sim_udh_parse(const uint8_t *data, size_t len, struct sim_udh *out);

#define SIM_CONCAT_SLOTS 16
#define SIM_CONCAT_MAX_OUT (255 * 160) /* the longest reassembled text, in octets */

/* One message being reassembled; parts are owned (malloc). */
struct sim_concat_msg {
    bool used;
    char from[21];
    uint16_t ref;
    uint8_t total, have, data_coding;
    uint64_t stamp; /* insertion order, to drop the oldest when every slot is busy */
    uint16_t len[255];
    uint8_t *part[255];
};

/* Up to SIM_CONCAT_SLOTS messages in reassembly at once. Zero it to initialise. */
struct sim_concat {
    struct sim_concat_msg slot[SIM_CONCAT_SLOTS];
    uint64_t clock;
    uint64_t dropped; /* incomplete messages pushed out by newer ones */
};

/* Adds part u->seq of message (from, u->ref, u->total) whose text (after the UDH) is
 * text[0..len). A repeated part replaces the earlier copy. When the part completes the message
 * the parts are joined in order into out[cap] (*out_len octets, *data_coding of the first part)
 * and the slot is freed: returns 1. Returns 0 while parts are missing, -ENOMEM, -EINVAL (u not a
 * concatenation) or -ENOSPC (out too small; the message is dropped). */
int sim_concat_add(struct sim_concat *c, const char *from, const struct sim_udh *u,
                   uint8_t data_coding, const uint8_t *text, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len, uint8_t *out_dc);
void sim_concat_free(struct sim_concat *c);

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
    uint32_t last_session; /* the bind that took our previous deliver_sm (--route alternate) */
};

/* The subscriber's USSD deliver_sm, shared by --ussd, --ussd-load and --phone
 * (../shared/spec/ussd.md "A dialogue"): service_type USSD, source_addr msisdn (international),
 * destination_addr code_addr, ussd_service_op op, its_session_info (session_no << 8 |
 * (seq & 0x7F) << 1 | end), text encoded by sim_utf8_to_wire(). Returns 0, or -EINVAL (an
 * address too long) / -ENOSPC (text too long). */
int sim_ussd_build(struct smpp_sm *sm, const char *msisdn, const char *code_addr, uint8_t op,
                   const char *text, uint8_t session_no, uint8_t seq, bool end);
/* Splits "1,2,0" into at most max items in place (an empty item is an empty answer, "" is no
 * item). Returns the count, or -E2BIG. */
int sim_ussd_split_inputs(char *buf, const char **items, size_t max);

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

/* ---------------------------------------------------------------- --ussd-load (sim_load.c) */

/* How a dialogue ended; the names are those of the --record lines and the summary. */
enum sim_dlg_end {
    SIM_END_NONE = 0,
    SIM_END_PSSR,    /* "pssr": the gateway's PSSR response (op 17) */
    SIM_END_ENDBIT,  /* "endbit": a screen with the end bit of its_session_info */
    SIM_END_INPUTS,  /* "inputs_exhausted": a USSR request after the last input: we release */
    SIM_END_ABORT,   /* "abort": an input "!abort" (the subscriber aborts) */
    SIM_END_TIMEOUT, /* "timeout": no screen within --ussd-timeout-ms */
    SIM_END_REFUSED, /* "refused": a deliver_sm answered other than ESME_ROK */
    SIM_END_LOST,    /* "lost": a deliver_sm unanswered or its link dropped */
    SIM_END__N
};
const char *sim_dlg_end_name(enum sim_dlg_end e);

enum sim_dlg_state { SIM_DLG_NEW = 0, SIM_DLG_OPEN, SIM_DLG_DONE };

/* One dialogue of the load, by MSISDN base + index. */
struct sim_dlg {
    uint8_t state;      /* enum sim_dlg_state */
    uint8_t end;        /* enum sim_dlg_end */
    uint8_t session_no; /* its_session_info high byte, never 0 */
    uint8_t seq;        /* our next message counter */
    uint8_t next_input;
    uint8_t out_op; /* the queued message */
    bool out_end;   /* ... its end bit */
    bool out_hop;   /* ... expects a screen (a dial or an answer; not a release/abort) */
    bool queued;    /* in the send queue */
    bool waiting;   /* sent, a screen is expected */
    uint16_t n_screens;
    const char *out_text; /* the code, an input, or "" */
    uint32_t qnext;       /* send queue link */
    uint32_t last_session;
    int64_t sent_us;     /* when the deliver_sm that expects a screen was written */
    int64_t deadline_ms; /* waiting: no screen by then -> timeout */
    char **screens;      /* --record only: owned UTF-8 screens */
};

#define SIM_LOAD_MAX 2000000

struct sim_load {
    bool on;
    uint32_t n, conc, window;
    uint64_t base;
    const char *code, *code_addr;
    char inputs_buf[512];
    const char *inputs[SIM_USSD_MAX_INPUTS];
    size_t n_inputs;
    uint8_t abort_op;
    bool record;
    struct sim_dlg *d;                     /* n entries, owned */
    uint32_t next_new, open, open_max, lo; /* lo: below it every dialogue is done and sent */
    uint32_t q_head, q_tail;
    struct smpp_bucket bucket;
    uint8_t next_session_no;
    uint64_t ends[SIM_END__N];
    uint64_t hops, stray, deliver_sent;
    uint32_t *lat_us; /* hop latency samples, microseconds */
    size_t lat_n, lat_cap;
    int64_t first_us, last_us;       /* first hop deliver_sm sent, last screen received */
    uint64_t open_sum, open_samples; /* open dialogues sampled by the cron while hops flow */
    int64_t next_scan_ms;
};

/* Reads the --ussd-load options from cfg. Returns 0 (off when cfg->load_n is 0) or -EINVAL /
 * -ENOMEM (message on stderr). */
int sim_load_init(struct sim_load *l, const struct sim_config *cfg);
void sim_load_cleanup(struct sim_load *l);
/* Opens dialogues up to the concurrency and sends what the rate and the windows allow. */
void sim_load_pump(struct sim *sim);
void sim_load_on_resp(struct sim *sim, uint32_t idx, uint32_t status);
void sim_load_on_lost(struct sim *sim, uint32_t idx, const char *why);
/* A submit_sm/data_sm answered ESME_ROK: a screen for one of the dialogues, or stray. */
void sim_load_on_submit(struct sim *sim, const struct smpp_sm *sm);
void sim_load_cron(struct sim *sim, int64_t now_ms);
bool sim_load_finished(const struct sim_load *l);
/* Hop latency and rate, for the summary. */
struct sim_lat {
    size_t n;
    double p50, p99, max; /* milliseconds */
};
/* Sorts v[n] in place and fills out (milliseconds from microsecond samples). */
void sim_lat_compute(uint32_t *v, size_t n, struct sim_lat *out);
/* count / (last_us - first_us) per second; 0 when the window is empty. */
double sim_rate_per_s(uint64_t count, int64_t first_us, int64_t last_us);
/* Appends one sample to a growable array; -ENOMEM drops it. */
int sim_u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x);

/* ---------------------------------------------------------------- --phone (sim_phone.c) */

#define SIM_PHONE_LINE_MAX 512
#define SIM_PHONE_OUTQ 4

struct sim_phone {
    bool on;
    bool tty;  /* stdin is a terminal: prompts; else a script: echo each line */
    bool eof;  /* no more lines will come */
    bool done; /* quit / end of script: finishing */
    const char *msisdn, *code_addr;
    uint8_t abort_op;
    struct event *ev_stdin;
    char part[SIM_PHONE_LINE_MAX + 1]; /* a line being read from stdin */
    size_t part_len;
    bool part_overflow;
    char **lines; /* owned; lines not yet processed start at next_line */
    size_t n_lines, cap_lines, next_line;
    bool open;    /* a dialogue is open */
    bool waiting; /* ... and a screen is expected */
    uint8_t session_no, seq;
    uint32_t last_session;
    int64_t deadline_ms;
    char dialled[SIM_PHONE_LINE_MAX + 1]; /* the open dialogue's code: its destination_addr
                                           * unless --ussd-code-addr */
    struct smpp_sm *outq[SIM_PHONE_OUTQ]; /* owned; deliver_sm waiting for a bind with room */
    bool out_hop[SIM_PHONE_OUTQ];
    size_t out_head, out_n;
    struct sim_concat concat;
    uint64_t dialogues, screens, sms, sms_parts, ignored;
};

/* Validates the --phone options and reads --script. Returns 0 (off without --phone), -EINVAL or
 * -ENOMEM (message on stderr). */
int sim_phone_init(struct sim_phone *p, const struct sim_config *cfg);
/* Starts reading stdin (when no --script) on sim->base. Returns 0 or a negative errno. */
int sim_phone_start(struct sim *sim);
void sim_phone_cleanup(struct sim_phone *p);
void sim_phone_pump(struct sim *sim);
void sim_phone_on_resp(struct sim *sim, uint32_t status);
void sim_phone_on_lost(struct sim *sim, const char *why);
/* A submit_sm/data_sm to the phone's MSISDN answered ESME_ROK: a screen or an SMS. */
void sim_phone_on_submit(struct sim *sim, const struct smpp_sm *sm);
void sim_phone_cron(struct sim *sim, int64_t now_ms);
bool sim_phone_finished(const struct sim_phone *p);

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
    bool pumping;       /* re-entrancy guard of the delivery pump */
    bool binds_reached; /* --wait-binds was met once (later drops do not stop delivery) */

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
    struct sim_load load;
    struct sim_phone phone;
    enum sim_route route;
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
/* Where a USSD deliver_sm comes from, so its answer finds its dialogue. */
enum sim_ussd_src { SIM_SRC_USSD = 0, SIM_SRC_LOAD, SIM_SRC_PHONE };
/* True when some bound receiver has a free USSD window slot now. */
bool sim_ussd_has_room(struct sim *sim);
/* Sends sm as deliver_sm on the receiver --route picks (prev: the bind of the dialogue's
 * previous deliver_sm, 0 for none); its answer goes to src (idx: the load dialogue). Sets
 * *session to the bind used and *sent_us to the time it was written. Returns 0, -EAGAIN (no
 * bind has room) or another negative errno. */
int sim_send_ussd_from(struct sim *sim, const struct smpp_sm *sm, enum sim_ussd_src src,
                       uint32_t idx, uint32_t prev, uint32_t *session, int64_t *sent_us);
int64_t sim_now_us(void);
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
