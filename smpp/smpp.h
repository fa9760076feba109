/*
 * smpp.h - the SMPP 3.4 layer of the loyalty gateway: framing, the pre-scan that stands between
 * the network and libsmpp34, the codec (smpp_codec.c is the only includer of <smpp34.h>), and the
 * ESME link (bind FSM, window, enquire_link, reconnect, TPS bucket, throttling back-off).
 *
 * Nothing here knows about loyalty events or USSD menus: a deliver_sm reaches the application as
 * a decoded struct smpp_sm plus an opaque token, and the application answers it later, once, with
 * smpp_esme_respond(). Every byte from the socket is untrusted.
 *
 * Names of our own (SMPP_*) are used instead of libsmpp34's macros so that this header can be
 * included anywhere without dragging the library's global namespace along.
 */
#ifndef SMPP_H
#define SMPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* ---------------------------------------------------------------- protocol constants */

#define SMPP_HEADER_LEN 16u
#define SMPP_PDU_MIN 16u
#define SMPP_PDU_MAX_DEFAULT 4096u /* our limit; a longer command_length closes the link */
#define SMPP_TLV_MAX_COUNT 20      /* libsmpp34 corrupts memory at >= 28 */
#define SMPP_TEXT_MAX 1024         /* short_message (<=254) or message_payload (<=1024) */

enum smpp_cmd {
    SMPP_GENERIC_NACK = 0x80000000u,
    SMPP_BIND_RECEIVER = 0x00000001u,
    SMPP_BIND_RECEIVER_RESP = 0x80000001u,
    SMPP_BIND_TRANSMITTER = 0x00000002u,
    SMPP_BIND_TRANSMITTER_RESP = 0x80000002u,
    SMPP_SUBMIT_SM = 0x00000004u,
    SMPP_SUBMIT_SM_RESP = 0x80000004u,
    SMPP_DELIVER_SM = 0x00000005u,
    SMPP_DELIVER_SM_RESP = 0x80000005u,
    SMPP_UNBIND = 0x00000006u,
    SMPP_UNBIND_RESP = 0x80000006u,
    SMPP_BIND_TRANSCEIVER = 0x00000009u,
    SMPP_BIND_TRANSCEIVER_RESP = 0x80000009u,
    SMPP_OUTBIND = 0x0000000Bu,
    SMPP_ENQUIRE_LINK = 0x00000015u,
    SMPP_ENQUIRE_LINK_RESP = 0x80000015u,
    SMPP_DATA_SM = 0x00000103u,
    SMPP_DATA_SM_RESP = 0x80000103u,
};

enum smpp_status {
    SMPP_ROK = 0x00,
    SMPP_RINVMSGLEN = 0x01,
    SMPP_RINVCMDLEN = 0x02,
    SMPP_RINVCMDID = 0x03,
    SMPP_RINVBNDSTS = 0x04,
    SMPP_RALYBND = 0x05,
    SMPP_RSYSERR = 0x08,
    SMPP_RBINDFAIL = 0x0D,
    SMPP_RINVPASWD = 0x0E,
    SMPP_RINVSYSID = 0x0F,
    SMPP_RMSGQFUL = 0x14,
    SMPP_RTHROTTLED = 0x58,
    SMPP_RX_T_APPN = 0x64,
    SMPP_RX_P_APPN = 0x65,
    SMPP_RX_R_APPN = 0x66,
    SMPP_RINVOPTPARSTREAM = 0xC0,
    SMPP_ROPTPARNOTALLWD = 0xC1,
    SMPP_RINVPARLEN = 0xC2,
    SMPP_RMISSINGOPTPARAM = 0xC3,
    SMPP_RINVOPTPARAMVAL = 0xC4,
    SMPP_RUNKNOWNERR = 0xFF,
};

/* TLV tags we read or write */
#define SMPP_TLV_USER_MESSAGE_REFERENCE 0x0204u
#define SMPP_TLV_MESSAGE_PAYLOAD 0x0424u
#define SMPP_TLV_MESSAGE_STATE 0x0427u
#define SMPP_TLV_RECEIPTED_MESSAGE_ID 0x001Eu
#define SMPP_TLV_USSD_SERVICE_OP 0x0501u
#define SMPP_TLV_ITS_SESSION_INFO 0x1383u

/* esm_class bits */
#define SMPP_ESM_TYPE_MASK 0x3Cu
#define SMPP_ESM_TYPE_DELIVERY_RECEIPT 0x04u
#define SMPP_ESM_UDHI 0x40u

/* Human name of a command id / status ("deliver_sm", "ESME_RX_T_APPN"); never NULL. */
const char *smpp_cmd_name(uint32_t cmd_id);
const char *smpp_status_name(uint32_t status);

/* ---------------------------------------------------------------- framing and pre-scan */

struct smpp_header {
    uint32_t len;
    uint32_t id;
    uint32_t status;
    uint32_t seq;
};

/*
 * Looks at the start of a receive buffer. Returns the length of the complete PDU at buf (> 0)
 * and fills hdr; 0 when more bytes are needed (fewer than 16, or fewer than command_length);
 * -EMSGSIZE when command_length < 16 or > max_pdu: the stream cannot be resynchronised and the
 * link must be closed (after a generic_nack ESME_RINVCMDLEN, best effort).
 */
int smpp_frame_check(const uint8_t *buf, size_t avail, size_t max_pdu, struct smpp_header *hdr);

/* Reads the 16-byte header (big-endian) of a buffer holding at least 16 bytes. */
void smpp_header_read(const uint8_t *buf, struct smpp_header *hdr);

/*
 * Validates one complete PDU before anyone (libsmpp34 above all) parses it: header sanity, and for
 * the bodies we unpack (bind*, bind*_resp, submit_sm, deliver_sm, data_sm, *_resp with a
 * message_id) every C-octet string terminated within its maximum, sm_length within the body, the
 * TLV area well formed: at most SMPP_TLV_MAX_COUNT TLVs, each length within the body, integer TLVs
 * (ussd_service_op 1, its_session_info 2, user_message_reference 2, message_state 1) of exactly
 * their size, message_payload <= 1024 octets. Commands whose body we never unpack (enquire_link,
 * unbind, generic_nack and their responses) must have an empty body.
 *
 * Returns 0 when the PDU may be decoded; otherwise < 0, with *status the SMPP status to answer
 * with (ESME_RINVCMDLEN, ESME_RINVMSGLEN, ESME_RINVOPTPARSTREAM, ESME_RINVPARLEN, ESME_RINVCMDID
 * for an unknown command_id) and *reason a static, human-readable reason.
 */
int smpp_prescan(const uint8_t *pdu, size_t len, uint32_t *status, const char **reason);

/* ---------------------------------------------------------------- decoded messages */

/* A short message as the application sees it: deliver_sm, submit_sm or data_sm. */
struct smpp_sm {
    char service_type[6];
    uint8_t src_ton, src_npi;
    char src_addr[21];
    uint8_t dst_ton, dst_npi;
    char dst_addr[21];
    uint8_t esm_class;
    uint8_t protocol_id;
    uint8_t priority;
    uint8_t registered_delivery;
    uint8_t data_coding;
    /* The text: short_message, or message_payload when sm_length is 0 and the TLV is present.
     * Binary-safe; text[text_len] is always 0 for convenience. */
    uint16_t text_len;
    uint8_t text[SMPP_TEXT_MAX + 1];
    bool use_payload; /* encode: send text as message_payload instead of short_message */
    bool has_ussd_op;
    uint8_t ussd_op;
    bool has_its_session;
    uint16_t its_session; /* high byte: session number; low byte: seq << 1 | end */
    bool has_umr;
    uint16_t umr; /* user_message_reference */
    bool has_message_state;
    uint8_t message_state;
    char receipted_id[65]; /* receipted_message_id TLV, "" if absent */
};

struct smpp_bind {
    char system_id[16];
    char password[9];
    char system_type[13];
    uint8_t interface_version; /* 0x34 */
    uint8_t addr_ton, addr_npi;
    char address_range[41];
};

/*
 * Decoders. Each expects a PDU that passed smpp_prescan(). They return 0, or -EBADMSG with
 * *reason static text when libsmpp34 refuses the body. They never keep pointers into pdu.
 */
int smpp_decode_sm(const uint8_t *pdu, size_t len, struct smpp_sm *out, const char **reason);
int smpp_decode_bind(const uint8_t *pdu, size_t len, struct smpp_bind *out, const char **reason);
/* submit_sm_resp / data_sm_resp / bind*_resp: the message_id or system_id string ("" when the
 * body is empty, as SMSCs send on errors). */
int smpp_decode_resp_id(const uint8_t *pdu, size_t len, char *id, size_t idlen,
                        const char **reason);

/*
 * Encoders write a whole PDU (header included) into out[cap] and set *len. They return 0 or
 * -ENOSPC / -EINVAL (a field that does not fit is an error, never silently truncated).
 */
int smpp_encode_sm(uint32_t cmd_id, uint32_t seq, const struct smpp_sm *sm, uint8_t *out,
                   size_t cap, size_t *len);
int smpp_encode_bind(uint32_t cmd_id, uint32_t seq, const struct smpp_bind *b, uint8_t *out,
                     size_t cap, size_t *len);
/* A response with an optional C-string body (message_id / system_id; NULL for none). For
 * deliver_sm_resp and submit_sm_resp an empty message_id ("") is written when id is NULL, as
 * the SMPP 3.4 body requires. */
int smpp_encode_resp(uint32_t resp_id, uint32_t status, uint32_t seq, const char *id,
                     uint8_t *out, size_t cap, size_t *len);
/* Header-only PDUs: enquire_link(_resp), unbind(_resp), generic_nack. Hand-built, never via
 * libsmpp34 (it refuses sequence 0 and vendor statuses we must be able to answer). */
int smpp_encode_header(uint32_t cmd_id, uint32_t status, uint32_t seq, uint8_t *out, size_t cap,
                       size_t *len);

/* ---------------------------------------------------------------- TPS token bucket */

struct smpp_bucket {
    double rate;   /* tokens per second; 0 = unlimited */
    double burst;  /* capacity */
    double tokens;
    int64_t last_ms;
};
void smpp_bucket_init(struct smpp_bucket *b, double rate, double burst, int64_t now_ms);
/* Takes one token if available: returns 0, else the milliseconds until one will be (> 0). */
int64_t smpp_bucket_take(struct smpp_bucket *b, int64_t now_ms);

/* The busiest one-second window of submits, measured where the pace is decided: the link's
 * monotonic clock at the moment a token is taken and the PDU written, not when a peer happens to
 * read it (a peer that reads late sees a late burst the link never sent). Sliding window over the
 * last SMPP_PACE_SLOTS sends: a figure of SMPP_PACE_SLOTS means "at least that many". A plain
 * value owned by its caller, like the bucket. */
#define SMPP_PACE_SLOTS 1024
struct smpp_pace {
    int64_t t[SMPP_PACE_SLOTS]; /* send times (ms), a ring */
    uint32_t head, n;           /* oldest entry, entries within the last second */
    uint32_t peak;              /* most sends within any 1000 ms so far */
};
/* Records one send at now_ms (non-decreasing; a clock step back counts as now). */
void smpp_pace_note(struct smpp_pace *p, int64_t now_ms);

/* ---------------------------------------------------------------- the ESME link */

enum smpp_bind_mode { SMPP_BIND_TRX = 0, SMPP_BIND_TX_RX = 1 };

struct smpp_esme_config {
    char name[32];         /* "SMSC1": log prefix smpp{SMSC1}[STATE] */
    char host[256];
    uint16_t port;
    struct smpp_bind bind; /* system_id, password, system_type, address_range */
    enum smpp_bind_mode mode;
    uint32_t window;              /* outstanding submits awaiting a response (default 10) */
    uint32_t enquire_link_ms;     /* idle time before we send enquire_link (default 30000) */
    uint32_t response_timeout_ms; /* for bind, enquire_link, submit, unbind responses (10000) */
    uint32_t connect_timeout_ms;  /* (5000) */
    uint32_t reconnect_min_ms;    /* first back-off (1000), doubled per failure, with jitter */
    uint32_t reconnect_max_ms;    /* (60000) */
    uint32_t drain_timeout_ms;    /* on stop: time for in-flight work before unbind (5000) */
    uint32_t throttle_backoff_ms; /* pause after ESME_RTHROTTLED / ESME_RMSGQFUL (1000) */
    double tps;                   /* submit rate limit; 0 = unlimited */
    uint32_t max_pdu;             /* (SMPP_PDU_MAX_DEFAULT) */
    uint32_t submit_queue_max;    /* queued submits beyond the window (10000) */
    /* deliver_sm / data_sm received and not yet answered by the application, at most (4096);
     * beyond it the SMSC gets ESME_RTHROTTLED and redelivers later (stats.deliver_throttled) */
    uint32_t rx_pending_max;
};
void smpp_esme_config_defaults(struct smpp_esme_config *cfg);
#define SMPP_RX_PENDING_MAX 100000 /* rx_pending_max's ceiling (the table is ~32 B a slot) */

struct smpp_esme;

/* Result of a submit: err 0 and the SMSC's status (SMPP_ROK and message_id on success), or err
 * -ETIMEDOUT (no response in time), -ENOTCONN (link lost before an answer), -ECANCELED (stop),
 * -ENOBUFS (queue full). Fires exactly once for every submit that returned 0. */
typedef void (*smpp_submit_cb)(void *arg, int err, uint32_t status, const char *message_id);

struct smpp_esme_ops {
    /* An inbound deliver_sm or data_sm that passed the pre-scan and decoded. The application must
     * call smpp_esme_respond(e, token, status) exactly once, now or later; if the link dropped
     * meanwhile the respond is a harmless no-op (the SMSC redelivers). sm is valid only during
     * the call. */
    void (*deliver)(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                    const struct smpp_sm *sm);
    /* A PDU that failed the pre-scan or the codec. The link has already answered it (the status
     * given) or closed; this hook is for dead-lettering and counting. May be NULL. */
    void (*rejected)(void *arg, const uint8_t *pdu, size_t len, uint32_t status,
                     const char *reason);
    /* The link became bound (true) or stopped being bound (false). May be NULL. */
    void (*bound)(void *arg, struct smpp_esme *e, bool is_bound);
};

struct smpp_esme_stats {
    uint64_t connects, binds_ok, bind_failures, disconnects;
    uint64_t pdus_in, pdus_out, deliver_in, receipts_in;
    uint64_t rejected_prescan, rejected_decode, generic_nacks_sent, unknown_cmds;
    uint64_t enquire_sent, enquire_in, response_timeouts;
    uint64_t submits_ok, submits_failed, throttled;
    uint64_t deliver_throttled; /* deliver_sm answered ESME_RTHROTTLED: rx_pending_max reached */
    uint32_t window_used, queue_len;
    uint32_t submit_peak_1s; /* most submit_sm written in any 1000 ms (struct smpp_pace) */
};

/* Creates a stopped ESME. cfg and ops are copied. Returns NULL on allocation failure. */
struct smpp_esme *smpp_esme_new(struct event_base *base, const struct smpp_esme_config *cfg,
                                const struct smpp_esme_ops *ops, void *arg);
/* Connects and binds; reconnects for ever with back-off until smpp_esme_stop(). Returns 0. */
int smpp_esme_start(struct smpp_esme *e);
/* Answers the deliver_sm/data_sm identified by token with status. Returns 0 when written,
 * -ENOTCONN when the link it came from is gone (nothing sent; the SMSC will redeliver). */
int smpp_esme_respond(struct smpp_esme *e, uint64_t token, uint32_t status);
/* Queues a submit_sm (TPS bucket, window, throttling). Returns 0 (cb fires exactly once later,
 * never from inside this call) or < 0 (-ENOBUFS queue full, -ESHUTDOWN stopping; cb never
 * fires). */
int smpp_esme_submit(struct smpp_esme *e, const struct smpp_sm *sm, smpp_submit_cb cb, void *arg);
/* Graceful stop: stops taking new deliver_sm (answers them ESME_RX_T_APPN), waits up to
 * drain_timeout_ms for outstanding responses, sends unbind, waits for unbind_resp (bounded),
 * closes, then calls done(arg) from the loop. Pending submits fail with -ECANCELED. */
void smpp_esme_stop(struct smpp_esme *e, void (*done)(void *arg), void *arg);
bool smpp_esme_is_bound(const struct smpp_esme *e);
/* Number of deliver_sm received and not yet answered by the application. */
uint32_t smpp_esme_pending_responses(const struct smpp_esme *e);
void smpp_esme_get_stats(const struct smpp_esme *e, struct smpp_esme_stats *out);
/* Frees immediately (closing the socket without unbind). NULL is a no-op. Never call from
 * inside one of its own callbacks. */
void smpp_esme_free(struct smpp_esme *e);

#endif

#include "smpp_text.h"
