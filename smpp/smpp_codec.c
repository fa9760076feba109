/*
 * smpp_codec.c - PDU bodies to and from C structs. The only file that includes <smpp34.h>.
 *
 * Decoding: libsmpp34 parses the bodies of submit_sm, deliver_sm, data_sm and bind_*, but never
 * the bytes that came off the socket. smpp_decode_sm()/smpp_decode_bind() first walk the PDU
 * themselves (it passed smpp_prescan(), but they re-check every bound) and write a canonical
 * private copy that libsmpp34 is known to accept:
 *   - command_status 0 and sequence_number 1 when the peer sent 0 (libsmpp34 refuses vendor
 *     statuses and sequence 0; the link reads both from the real header, not from us);
 *   - schedule_delivery_time and validity_period blanked to "" (libsmpp34 declares them 1 octet
 *     in deliver_sm, so any SMSC that fills them would be refused; we do not expose them);
 *   - TON, NPI and interface_version replaced by values libsmpp34 knows (it refuses reserved
 *     ones); the real values come from our own walk;
 *   - only the TLVs we read (message_payload, ussd_service_op, its_session_info,
 *     user_message_reference, message_state, receipted_message_id), first occurrence of each,
 *     so libsmpp34 never sees more than six TLVs whatever the peer sent: its global error log
 *     (2048 bytes, overflowed by long PDUs) stays small, and no TLV can leak or desynchronise.
 * The copy has a bounded size (CANON_MAX) and lives on the stack with a zero byte after it.
 * libsmpp34 then fills its struct, which we translate into struct smpp_sm / smpp_bind.
 *
 * Responses (smpp_decode_resp_id) and header-only PDUs are read and written by hand: they are a
 * header and at most one C-octet string, and libsmpp34 would refuse the vendor statuses and
 * sequence 0 we must be able to read and answer.
 *
 * Encoding sm/bind bodies goes through libsmpp34 with every string length checked first (it
 * truncates silently), into a private buffer strictly larger than any PDU we build, then copied
 * to the caller's buffer (-ENOSPC when it does not fit).
 *
 * Rules for libsmpp34 (../shared/notes/libraries.md): memset before unpack, destroy_tlv() after
 * every unpack, failed ones included; integer TLV lengths set to their width; its_session_info
 * is a host-order val16; smpp34_dumpPdu/dumpBuf are never called. libsmpp34 keeps global state
 * (smpp34_strerror): call this codec from one thread only.
 */
#include "smpp.h"
#include "smpp_wire.h"

#include <errno.h>
#include <string.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

/* ---------------------------------------------------------------- the canonical copy */

/* Largest canonical copy: header, the deliver_sm/submit_sm fixed part with blank times and a
 * 254-octet short_message, and one of each TLV we keep at its largest. */
#define CANON_FIXED_MAX (SMPP_HEADER_LEN + 6 + 2 + 21 + 2 + 21 + 3 + 1 + 1 + 4 + 1 + 254)
#define CANON_TLVS_MAX ((4 + 1024) + (4 + 1) + (4 + 2) + (4 + 2) + (4 + 1) + (4 + 65))
#define CANON_MAX 1536
_Static_assert(CANON_FIXED_MAX + CANON_TLVS_MAX <= CANON_MAX, "canonical copy bound");

/* Encoders pack here first: libsmpp34 needs a buffer strictly larger than the PDU. */
#define PACK_MAX 2048
_Static_assert(CANON_MAX < PACK_MAX, "pack buffer bound");

struct canon {
    uint8_t buf[CANON_MAX + 1]; /* + the zero byte libsmpp34's C-string scans rely on */
    size_t n;
    bool overflow;
};

static void canon_put(struct canon *k, const void *p, size_t n)
{
    if (k->overflow || n > CANON_MAX - k->n) {
        k->overflow = true;
        return;
    }
    memcpy(k->buf + k->n, p, n);
    k->n += n;
}

static void canon_u8(struct canon *k, uint8_t v)
{
    canon_put(k, &v, 1);
}

/* Copies the C-octet string at the cursor (max includes the NUL). */
static int canon_cstr(struct canon *k, struct smpp_cur *c, size_t max)
{
    const uint8_t *start = c->p;
    size_t n;

    if (smpp_cur_cstr(c, max, &n) != SMPP_CSTR_OK)
        return -EBADMSG;
    canon_put(k, start, n + 1);
    return 0;
}

/* Checks the C-octet string at the cursor and writes "" in its place. */
static int canon_blank_cstr(struct canon *k, struct smpp_cur *c, size_t max)
{
    size_t n;

    if (smpp_cur_cstr(c, max, &n) != SMPP_CSTR_OK)
        return -EBADMSG;
    canon_u8(k, 0);
    return 0;
}

static int cur_u8(struct smpp_cur *c, uint8_t *v)
{
    if (smpp_cur_left(c) < 1)
        return -EBADMSG;
    *v = *c->p++;
    return 0;
}

static int canon_copy_u8(struct canon *k, struct smpp_cur *c)
{
    uint8_t v;

    if (cur_u8(c, &v) < 0)
        return -EBADMSG;
    canon_u8(k, v);
    return 0;
}

/* Reads the header of pdu, checks it against len and starts the copy with a header libsmpp34
 * accepts (its command_length is patched by canon_finish). */
static int canon_start(struct canon *k, const uint8_t *pdu, size_t len, struct smpp_header *h,
                       struct smpp_cur *c)
{
    uint8_t hdr[SMPP_HEADER_LEN];

    if (pdu == NULL || len < SMPP_HEADER_LEN)
        return -EBADMSG;
    smpp_header_read(pdu, h);
    if (h->len != len)
        return -EBADMSG;
    k->n = 0;
    k->overflow = false;
    smpp_wr32(hdr, 0);
    smpp_wr32(hdr + 4, h->id);
    smpp_wr32(hdr + 8, 0);
    smpp_wr32(hdr + 12, h->seq != 0 ? h->seq : 1);
    canon_put(k, hdr, sizeof(hdr));
    c->p = pdu + SMPP_HEADER_LEN;
    c->end = pdu + len;
    return 0;
}

static int canon_finish(struct canon *k)
{
    if (k->overflow)
        return -EBADMSG;
    smpp_wr32(k->buf, (uint32_t)k->n);
    k->buf[k->n] = 0;
    return 0;
}

/* The TLVs we read, with the lengths we accept (SMPP 3.4 §5.3.2; the pre-scan enforces them). */
enum { KEEP_PAYLOAD, KEEP_USSD, KEEP_ITS, KEEP_UMR, KEEP_STATE, KEEP_RECEIPTED, KEEP_N };

static const struct {
    uint16_t tag;
    uint16_t min, max;
} keep_tlvs[KEEP_N] = {
    [KEEP_PAYLOAD] = {SMPP_TLV_MESSAGE_PAYLOAD, 0, SMPP_TLV_VALUE_MAX},
    [KEEP_USSD] = {SMPP_TLV_USSD_SERVICE_OP, 1, 1},
    [KEEP_ITS] = {SMPP_TLV_ITS_SESSION_INFO, 2, 2},
    [KEEP_UMR] = {SMPP_TLV_USER_MESSAGE_REFERENCE, 2, 2},
    [KEEP_STATE] = {SMPP_TLV_MESSAGE_STATE, 1, 1},
    [KEEP_RECEIPTED] = {SMPP_TLV_RECEIPTED_MESSAGE_ID, 0, SMPP_MAX_MESSAGE_ID},
};

static int canon_tlvs(struct canon *k, struct smpp_cur *c)
{
    bool seen[KEEP_N] = {false};

    while (smpp_cur_left(c) > 0) {
        uint16_t tag, len;

        if (smpp_cur_left(c) < 4)
            return -EBADMSG;
        tag = smpp_rd16(c->p);
        len = smpp_rd16(c->p + 2);
        if (len > smpp_cur_left(c) - 4)
            return -EBADMSG;
        for (int i = 0; i < KEEP_N; i++) {
            if (keep_tlvs[i].tag != tag)
                continue;
            if (len < keep_tlvs[i].min || len > keep_tlvs[i].max)
                return -EBADMSG;
            if (!seen[i])
                canon_put(k, c->p, 4u + len);
            seen[i] = true;
            break;
        }
        c->p += 4u + len;
    }
    return 0;
}

static void copy_str(char *dst, size_t dstsz, const void *src, size_t srcsz)
{
    size_t n = strnlen(src, srcsz);

    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---------------------------------------------------------------- decoding */

struct sm_wire {
    uint8_t src_ton, src_npi, dst_ton, dst_npi;
};

static int canon_sm(struct canon *k, const uint8_t *pdu, size_t len, struct smpp_header *h,
                    struct sm_wire *w)
{
    struct smpp_cur c;
    uint8_t sm_length;

    if (canon_start(k, pdu, len, h, &c) < 0)
        return -EBADMSG;
    if (h->id != SMPP_DELIVER_SM && h->id != SMPP_SUBMIT_SM && h->id != SMPP_DATA_SM)
        return -EBADMSG;
    if (canon_cstr(k, &c, SMPP_MAX_SERVICE_TYPE) < 0 || cur_u8(&c, &w->src_ton) < 0 ||
        cur_u8(&c, &w->src_npi) < 0)
        return -EBADMSG;
    canon_u8(k, 0); /* TON_Unknown, NPI_Unknown: libsmpp34 refuses reserved values */
    canon_u8(k, 0);
    if (canon_cstr(k, &c, SMPP_MAX_ADDR) < 0 || cur_u8(&c, &w->dst_ton) < 0 ||
        cur_u8(&c, &w->dst_npi) < 0)
        return -EBADMSG;
    canon_u8(k, 0);
    canon_u8(k, 0);
    if (canon_cstr(k, &c, SMPP_MAX_ADDR) < 0)
        return -EBADMSG;
    if (h->id == SMPP_DATA_SM) {
        /* esm_class, registered_delivery, data_coding */
        for (int i = 0; i < 3; i++)
            if (canon_copy_u8(k, &c) < 0)
                return -EBADMSG;
    } else {
        /* esm_class, protocol_id, priority_flag; the times; registered_delivery,
         * replace_if_present_flag, data_coding, sm_default_msg_id */
        for (int i = 0; i < 3; i++)
            if (canon_copy_u8(k, &c) < 0)
                return -EBADMSG;
        if (canon_blank_cstr(k, &c, SMPP_MAX_TIME) < 0 ||
            canon_blank_cstr(k, &c, SMPP_MAX_TIME) < 0)
            return -EBADMSG;
        for (int i = 0; i < 4; i++)
            if (canon_copy_u8(k, &c) < 0)
                return -EBADMSG;
        if (cur_u8(&c, &sm_length) < 0 || sm_length > SMPP_MAX_SHORT_MESSAGE ||
            sm_length > smpp_cur_left(&c))
            return -EBADMSG;
        canon_u8(k, sm_length);
        canon_put(k, c.p, sm_length);
        c.p += sm_length;
    }
    if (canon_tlvs(k, &c) < 0)
        return -EBADMSG;
    return canon_finish(k);
}

/* Reads the kept TLVs from libsmpp34's list into out; *payload points into the list (valid until
 * destroy_tlv). */
static void sm_read_tlvs(const tlv_t *list, struct smpp_sm *out, const uint8_t **payload,
                         uint16_t *payload_len)
{
    for (const tlv_t *t = list; t != NULL; t = t->next) {
        switch (t->tag) {
        case SMPP_TLV_MESSAGE_PAYLOAD:
            *payload = t->value.octet;
            *payload_len = t->length;
            break;
        case SMPP_TLV_USSD_SERVICE_OP:
            out->has_ussd_op = true;
            out->ussd_op = t->value.octet[0];
            break;
        case SMPP_TLV_ITS_SESSION_INFO:
            out->has_its_session = true;
            out->its_session = t->value.val16;
            break;
        case SMPP_TLV_USER_MESSAGE_REFERENCE:
            out->has_umr = true;
            out->umr = t->value.val16;
            break;
        case SMPP_TLV_MESSAGE_STATE:
            /* val08 in deliver_sm/data_sm, octet[0] in submit_sm: the same byte */
            out->has_message_state = true;
            out->message_state = t->value.octet[0];
            break;
        case SMPP_TLV_RECEIPTED_MESSAGE_ID:
            copy_str(out->receipted_id, sizeof(out->receipted_id), t->value.octet,
                     t->length < sizeof(out->receipted_id) ? t->length : sizeof(out->receipted_id));
            break;
        default:
            break;
        }
    }
}

/* The text: short_message, or message_payload when sm_length is 0. */
static void sm_set_text(struct smpp_sm *out, const uint8_t *sm, uint8_t sm_length,
                        const uint8_t *payload, uint16_t payload_len)
{
    if (sm_length > 0) {
        memcpy(out->text, sm, sm_length);
        out->text_len = sm_length;
    } else if (payload != NULL) {
        memcpy(out->text, payload, payload_len);
        out->text_len = payload_len;
        out->use_payload = true;
    }
    out->text[out->text_len] = 0;
}

/* deliver_sm_t and submit_sm_t share their field names. */
#define SM_COMMON_OUT(d, out)                                                                      \
    do {                                                                                           \
        copy_str((out)->service_type, sizeof((out)->service_type), (d).service_type,               \
                 sizeof((d).service_type));                                                        \
        copy_str((out)->src_addr, sizeof((out)->src_addr), (d).source_addr,                        \
                 sizeof((d).source_addr));                                                         \
        copy_str((out)->dst_addr, sizeof((out)->dst_addr), (d).destination_addr,                   \
                 sizeof((d).destination_addr));                                                    \
        (out)->esm_class = (d).esm_class;                                                          \
        (out)->registered_delivery = (d).registered_delivery;                                      \
        (out)->data_coding = (d).data_coding;                                                      \
    } while (0)

int smpp_decode_sm(const uint8_t *pdu, size_t len, struct smpp_sm *out, const char **reason)
{
    struct canon k;
    struct smpp_header h;
    struct sm_wire w = {0};
    const uint8_t *payload = NULL;
    uint16_t payload_len = 0;
    const char *why = "ok";
    int rc = 0, urc;

    if (out == NULL) {
        why = "no output struct";
        rc = -EINVAL;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (canon_sm(&k, pdu, len, &h, &w) < 0) {
        why = "malformed short message body (not pre-scanned?)";
        rc = -EBADMSG;
        goto out;
    }
    if (h.id == SMPP_DELIVER_SM) {
        deliver_sm_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(DELIVER_SM, &d, k.buf, (int)k.n);
        if (urc == 0) {
            SM_COMMON_OUT(d, out);
            out->protocol_id = d.protocol_id;
            out->priority = d.priority_flag;
            sm_read_tlvs(d.tlv, out, &payload, &payload_len);
            sm_set_text(out, d.short_message, d.sm_length, payload, payload_len);
        }
        destroy_tlv(d.tlv);
    } else if (h.id == SMPP_SUBMIT_SM) {
        submit_sm_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(SUBMIT_SM, &d, k.buf, (int)k.n);
        if (urc == 0) {
            SM_COMMON_OUT(d, out);
            out->protocol_id = d.protocol_id;
            out->priority = d.priority_flag;
            sm_read_tlvs(d.tlv, out, &payload, &payload_len);
            sm_set_text(out, d.short_message, d.sm_length, payload, payload_len);
        }
        destroy_tlv(d.tlv);
    } else {
        data_sm_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(DATA_SM, &d, k.buf, (int)k.n);
        if (urc == 0) {
            SM_COMMON_OUT(d, out);
            sm_read_tlvs(d.tlv, out, &payload, &payload_len);
            sm_set_text(out, NULL, 0, payload, payload_len);
        }
        destroy_tlv(d.tlv);
    }
    if (urc != 0) {
        memset(out, 0, sizeof(*out));
        why = "libsmpp34 refused the body";
        rc = -EBADMSG;
        goto out;
    }
    out->src_ton = w.src_ton;
    out->src_npi = w.src_npi;
    out->dst_ton = w.dst_ton;
    out->dst_npi = w.dst_npi;
out:
    if (reason != NULL)
        *reason = why;
    return rc;
}

struct bind_wire {
    uint8_t interface_version, addr_ton, addr_npi;
};

static int canon_bind(struct canon *k, const uint8_t *pdu, size_t len, struct smpp_header *h,
                      struct bind_wire *w)
{
    struct smpp_cur c;

    if (canon_start(k, pdu, len, h, &c) < 0)
        return -EBADMSG;
    if (h->id != SMPP_BIND_RECEIVER && h->id != SMPP_BIND_TRANSMITTER &&
        h->id != SMPP_BIND_TRANSCEIVER)
        return -EBADMSG;
    if (canon_cstr(k, &c, SMPP_MAX_SYSTEM_ID) < 0 || canon_cstr(k, &c, SMPP_MAX_PASSWORD) < 0 ||
        canon_cstr(k, &c, SMPP_MAX_SYSTEM_TYPE) < 0 || cur_u8(&c, &w->interface_version) < 0 ||
        cur_u8(&c, &w->addr_ton) < 0 || cur_u8(&c, &w->addr_npi) < 0)
        return -EBADMSG;
    canon_u8(k, SMPP_VERSION); /* libsmpp34 accepts only 0x34; the real one is in w */
    canon_u8(k, 0);
    canon_u8(k, 0);
    if (canon_cstr(k, &c, SMPP_MAX_ADDRESS_RANGE) < 0 || smpp_cur_left(&c) != 0)
        return -EBADMSG;
    return canon_finish(k);
}

#define BIND_OUT(d, out)                                                                           \
    do {                                                                                           \
        copy_str((out)->system_id, sizeof((out)->system_id), (d).system_id,                        \
                 sizeof((d).system_id));                                                           \
        copy_str((out)->password, sizeof((out)->password), (d).password, sizeof((d).password));    \
        copy_str((out)->system_type, sizeof((out)->system_type), (d).system_type,                  \
                 sizeof((d).system_type));                                                         \
        copy_str((out)->address_range, sizeof((out)->address_range), (d).address_range,            \
                 sizeof((d).address_range));                                                       \
    } while (0)

int smpp_decode_bind(const uint8_t *pdu, size_t len, struct smpp_bind *out, const char **reason)
{
    struct canon k;
    struct smpp_header h;
    struct bind_wire w = {0};
    const char *why = "ok";
    int rc = 0, urc;

    if (out == NULL) {
        why = "no output struct";
        rc = -EINVAL;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (canon_bind(&k, pdu, len, &h, &w) < 0) {
        why = "malformed bind body (not pre-scanned?)";
        rc = -EBADMSG;
        goto out;
    }
    /* bind bodies have no TLV list, so there is nothing to destroy */
    if (h.id == SMPP_BIND_RECEIVER) {
        bind_receiver_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(BIND_RECEIVER, &d, k.buf, (int)k.n);
        if (urc == 0)
            BIND_OUT(d, out);
    } else if (h.id == SMPP_BIND_TRANSMITTER) {
        bind_transmitter_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(BIND_TRANSMITTER, &d, k.buf, (int)k.n);
        if (urc == 0)
            BIND_OUT(d, out);
    } else {
        bind_transceiver_t d;

        memset(&d, 0, sizeof(d));
        urc = smpp34_unpack(BIND_TRANSCEIVER, &d, k.buf, (int)k.n);
        if (urc == 0)
            BIND_OUT(d, out);
    }
    if (urc != 0) {
        memset(out, 0, sizeof(*out));
        why = "libsmpp34 refused the body";
        rc = -EBADMSG;
        goto out;
    }
    out->interface_version = w.interface_version;
    out->addr_ton = w.addr_ton;
    out->addr_npi = w.addr_npi;
out:
    /* The copy holds the password: do not leave it on the stack. */
    explicit_bzero(k.buf, sizeof(k.buf));
    if (reason != NULL)
        *reason = why;
    return rc;
}

/* Hand-parsed: a header and an optional C-octet string. Returns -ENOSPC when the id does not
 * fit in idlen (never truncated). */
int smpp_decode_resp_id(const uint8_t *pdu, size_t len, char *id, size_t idlen, const char **reason)
{
    struct smpp_header h;
    struct smpp_cur c;
    size_t n = 0, max;
    const char *why = "ok";
    int rc = 0;

    if (id == NULL || idlen == 0) {
        why = "no output buffer";
        rc = -EINVAL;
        goto out;
    }
    id[0] = '\0';
    if (pdu == NULL || len < SMPP_HEADER_LEN) {
        why = "shorter than an SMPP header";
        rc = -EBADMSG;
        goto out;
    }
    smpp_header_read(pdu, &h);
    switch (h.id) {
    case SMPP_SUBMIT_SM_RESP:
    case SMPP_DELIVER_SM_RESP:
    case SMPP_DATA_SM_RESP:
        max = SMPP_MAX_MESSAGE_ID;
        break;
    case SMPP_BIND_RECEIVER_RESP:
    case SMPP_BIND_TRANSMITTER_RESP:
    case SMPP_BIND_TRANSCEIVER_RESP:
        max = SMPP_MAX_SYSTEM_ID;
        break;
    default:
        why = "not a response with an id";
        rc = -EBADMSG;
        goto out;
    }
    if (h.len != len) {
        why = "command_length differs from the PDU size";
        rc = -EBADMSG;
        goto out;
    }
    c.p = pdu + SMPP_HEADER_LEN;
    c.end = pdu + len;
    if (smpp_cur_left(&c) == 0)
        goto out; /* SMSCs omit the body on errors */
    if (smpp_cur_cstr(&c, max, &n) != SMPP_CSTR_OK) {
        why = "id not terminated within its maximum";
        rc = -EBADMSG;
        goto out;
    }
    if (n >= idlen) {
        why = "id longer than the caller's buffer";
        rc = -ENOSPC;
        goto out;
    }
    memcpy(id, pdu + SMPP_HEADER_LEN, n);
    id[n] = '\0';
out:
    if (reason != NULL)
        *reason = why;
    return rc;
}

/* ---------------------------------------------------------------- encoding */

static bool str_fits(const char *s, size_t field)
{
    return strnlen(s, field) < field;
}

static int copy_out(const uint8_t *buf, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    if (n > cap)
        return -ENOSPC;
    memcpy(out, buf, n);
    *len = n;
    return 0;
}

/* Prepends one TLV (libsmpp34 copies it): call in reverse wire order. */
static int tlv_add(tlv_t **list, uint16_t tag, uint16_t length, const void *octets, uint16_t v16)
{
    tlv_t t;

    memset(&t, 0, sizeof(t));
    t.tag = tag;
    t.length = length;
    if (octets != NULL)
        memcpy(t.value.octet, octets, length);
    else if (length == 2)
        t.value.val16 = v16;
    else
        t.value.val08 = (uint8_t)v16;
    return build_tlv(list, &t) == 0 ? 0 : -ENOMEM;
}

/* Wire order: message_payload, ussd_service_op, its_session_info, user_message_reference,
 * message_state, receipted_message_id. */
static int sm_build_tlvs(const struct smpp_sm *sm, bool payload, tlv_t **list)
{
    int rc = 0;

    if (sm->receipted_id[0] != '\0')
        rc = tlv_add(list, SMPP_TLV_RECEIPTED_MESSAGE_ID, (uint16_t)(strlen(sm->receipted_id) + 1),
                     sm->receipted_id, 0);
    if (rc == 0 && sm->has_message_state)
        rc = tlv_add(list, SMPP_TLV_MESSAGE_STATE, 1, NULL, sm->message_state);
    if (rc == 0 && sm->has_umr)
        rc = tlv_add(list, SMPP_TLV_USER_MESSAGE_REFERENCE, 2, NULL, sm->umr);
    if (rc == 0 && sm->has_its_session)
        rc = tlv_add(list, SMPP_TLV_ITS_SESSION_INFO, 2, NULL, sm->its_session);
    if (rc == 0 && sm->has_ussd_op)
        rc = tlv_add(list, SMPP_TLV_USSD_SERVICE_OP, 1, &sm->ussd_op, 0);
    if (rc == 0 && payload)
        rc = tlv_add(list, SMPP_TLV_MESSAGE_PAYLOAD, sm->text_len, sm->text, 0);
    return rc;
}

#define SM_COMMON_IN(d, cmd, seq, sm)                                                              \
    do {                                                                                           \
        (d).command_id = (cmd);                                                                    \
        (d).sequence_number = (seq);                                                               \
        memcpy((d).service_type, (sm)->service_type, strlen((sm)->service_type) + 1);              \
        (d).source_addr_ton = (sm)->src_ton;                                                       \
        (d).source_addr_npi = (sm)->src_npi;                                                       \
        memcpy((d).source_addr, (sm)->src_addr, strlen((sm)->src_addr) + 1);                       \
        (d).dest_addr_ton = (sm)->dst_ton;                                                         \
        (d).dest_addr_npi = (sm)->dst_npi;                                                         \
        memcpy((d).destination_addr, (sm)->dst_addr, strlen((sm)->dst_addr) + 1);                  \
        (d).esm_class = (sm)->esm_class;                                                           \
        (d).registered_delivery = (sm)->registered_delivery;                                       \
        (d).data_coding = (sm)->data_coding;                                                       \
    } while (0)

/* deliver_sm_t and submit_sm_t: the fields data_sm lacks. Times stay "" (we never schedule). */
#define SM_SHORT_IN(d, sm, payload)                                                                \
    do {                                                                                           \
        (d).protocol_id = (sm)->protocol_id;                                                       \
        (d).priority_flag = (sm)->priority;                                                        \
        if (!(payload)) {                                                                          \
            (d).sm_length = (uint8_t)(sm)->text_len;                                               \
            memcpy((d).short_message, (sm)->text, (sm)->text_len);                                 \
        }                                                                                          \
    } while (0)

/* Encodes sm into out. text_len over 253 needs use_payload (libsmpp34 packs at most 253 octets
 * of short_message although SMPP allows 254): -EINVAL otherwise. data_sm always carries the text
 * as message_payload (it has no short_message), only when text_len > 0 or use_payload is set.
 * TON/NPI values libsmpp34 does not know, and sequence 0, are -EINVAL. */
int smpp_encode_sm(uint32_t cmd_id, uint32_t seq, const struct smpp_sm *sm, uint8_t *out,
                   size_t cap, size_t *len)
{
    uint8_t buf[PACK_MAX];
    tlv_t *list = NULL;
    bool payload;
    int n = 0, rc, prc;

    if (sm == NULL || out == NULL || len == NULL || seq == 0)
        return -EINVAL;
    if (cmd_id != SMPP_DELIVER_SM && cmd_id != SMPP_SUBMIT_SM && cmd_id != SMPP_DATA_SM)
        return -EINVAL;
    if (!str_fits(sm->service_type, sizeof(sm->service_type)) ||
        !str_fits(sm->src_addr, sizeof(sm->src_addr)) ||
        !str_fits(sm->dst_addr, sizeof(sm->dst_addr)) ||
        !str_fits(sm->receipted_id, sizeof(sm->receipted_id)) || sm->text_len > SMPP_TEXT_MAX)
        return -EINVAL;
    if (cmd_id == SMPP_DATA_SM)
        payload = sm->use_payload || sm->text_len > 0;
    else
        payload = sm->use_payload;
    if (!payload && sm->text_len > SMPP_MAX_SHORT_MESSAGE - 1)
        return -EINVAL;
    rc = sm_build_tlvs(sm, payload, &list);
    if (rc < 0)
        goto out;
    if (cmd_id == SMPP_DELIVER_SM) {
        deliver_sm_t d;

        memset(&d, 0, sizeof(d));
        SM_COMMON_IN(d, DELIVER_SM, seq, sm);
        SM_SHORT_IN(d, sm, payload);
        d.tlv = list;
        prc = smpp34_pack(DELIVER_SM, buf, (int)sizeof(buf), &n, &d);
    } else if (cmd_id == SMPP_SUBMIT_SM) {
        submit_sm_t d;

        memset(&d, 0, sizeof(d));
        SM_COMMON_IN(d, SUBMIT_SM, seq, sm);
        SM_SHORT_IN(d, sm, payload);
        d.tlv = list;
        prc = smpp34_pack(SUBMIT_SM, buf, (int)sizeof(buf), &n, &d);
    } else {
        data_sm_t d;

        memset(&d, 0, sizeof(d));
        SM_COMMON_IN(d, DATA_SM, seq, sm);
        d.tlv = list;
        prc = smpp34_pack(DATA_SM, buf, (int)sizeof(buf), &n, &d);
    }
    if (prc != 0 || n < (int)SMPP_HEADER_LEN) {
        rc = -EINVAL; /* a TON/NPI libsmpp34 does not know; our lengths are checked above */
        goto out;
    }
    rc = copy_out(buf, (size_t)n, out, cap, len);
out:
    destroy_tlv(list);
    return rc;
}

#define BIND_IN(d, cmd, seq, b, ver)                                                               \
    do {                                                                                           \
        (d).command_id = (cmd);                                                                    \
        (d).sequence_number = (seq);                                                               \
        memcpy((d).system_id, (b)->system_id, strlen((b)->system_id) + 1);                         \
        memcpy((d).password, (b)->password, strlen((b)->password) + 1);                            \
        memcpy((d).system_type, (b)->system_type, strlen((b)->system_type) + 1);                   \
        (d).interface_version = (ver);                                                             \
        (d).addr_ton = (b)->addr_ton;                                                              \
        (d).addr_npi = (b)->addr_npi;                                                              \
        memcpy((d).address_range, (b)->address_range, strlen((b)->address_range) + 1);             \
    } while (0)

/* interface_version 0 is written as 0x34; any other value but 0x34 is -EINVAL (libsmpp34). */
int smpp_encode_bind(uint32_t cmd_id, uint32_t seq, const struct smpp_bind *b, uint8_t *out,
                     size_t cap, size_t *len)
{
    uint8_t buf[PACK_MAX];
    uint8_t ver;
    int n = 0, prc, rc;

    if (b == NULL || out == NULL || len == NULL || seq == 0)
        return -EINVAL;
    if (!str_fits(b->system_id, sizeof(b->system_id)) ||
        !str_fits(b->password, sizeof(b->password)) ||
        !str_fits(b->system_type, sizeof(b->system_type)) ||
        !str_fits(b->address_range, sizeof(b->address_range)))
        return -EINVAL;
    ver = b->interface_version == 0 ? SMPP_VERSION : b->interface_version;
    if (ver != SMPP_VERSION)
        return -EINVAL;
    if (cmd_id == SMPP_BIND_RECEIVER) {
        bind_receiver_t d;

        memset(&d, 0, sizeof(d));
        BIND_IN(d, BIND_RECEIVER, seq, b, ver);
        prc = smpp34_pack(BIND_RECEIVER, buf, (int)sizeof(buf), &n, &d);
        explicit_bzero(&d, sizeof(d));
    } else if (cmd_id == SMPP_BIND_TRANSMITTER) {
        bind_transmitter_t d;

        memset(&d, 0, sizeof(d));
        BIND_IN(d, BIND_TRANSMITTER, seq, b, ver);
        prc = smpp34_pack(BIND_TRANSMITTER, buf, (int)sizeof(buf), &n, &d);
        explicit_bzero(&d, sizeof(d));
    } else if (cmd_id == SMPP_BIND_TRANSCEIVER) {
        bind_transceiver_t d;

        memset(&d, 0, sizeof(d));
        BIND_IN(d, BIND_TRANSCEIVER, seq, b, ver);
        prc = smpp34_pack(BIND_TRANSCEIVER, buf, (int)sizeof(buf), &n, &d);
        explicit_bzero(&d, sizeof(d));
    } else {
        return -EINVAL;
    }
    if (prc != 0 || n < (int)SMPP_HEADER_LEN)
        rc = -EINVAL;
    else
        rc = copy_out(buf, (size_t)n, out, cap, len);
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static void header_write(uint8_t *p, uint32_t len, uint32_t id, uint32_t status, uint32_t seq)
{
    smpp_wr32(p, len);
    smpp_wr32(p + 4, id);
    smpp_wr32(p + 8, status);
    smpp_wr32(p + 12, seq);
}

/* Hand-built, any status and sequence (sequence 0 included: we may be answering one). */
int smpp_encode_header(uint32_t cmd_id, uint32_t status, uint32_t seq, uint8_t *out, size_t cap,
                       size_t *len)
{
    if (out == NULL || len == NULL)
        return -EINVAL;
    switch (cmd_id) {
    case SMPP_GENERIC_NACK:
    case SMPP_ENQUIRE_LINK:
    case SMPP_ENQUIRE_LINK_RESP:
    case SMPP_UNBIND:
    case SMPP_UNBIND_RESP:
        break;
    default:
        return -EINVAL;
    }
    if (cap < SMPP_HEADER_LEN)
        return -ENOSPC;
    header_write(out, SMPP_HEADER_LEN, cmd_id, status, seq);
    *len = SMPP_HEADER_LEN;
    return 0;
}

/*
 * Hand-built. deliver_sm_resp, submit_sm_resp, data_sm_resp: a message_id ("" when id is NULL),
 * whatever the status. bind_*_resp: a system_id ("" when id is NULL), except that with id NULL
 * and a non-ROK status the body is omitted, as SMPP 3.4 §4.1.2 says it "is not returned".
 * Header-only responses (enquire_link_resp, unbind_resp, generic_nack) are accepted with id NULL
 * or "" and go to smpp_encode_header(). An id longer than its field (64 / 15 characters) is
 * -EINVAL.
 */
int smpp_encode_resp(uint32_t resp_id, uint32_t status, uint32_t seq, const char *id, uint8_t *out,
                     size_t cap, size_t *len)
{
    size_t max, n, total;

    if (out == NULL || len == NULL)
        return -EINVAL;
    switch (resp_id) {
    case SMPP_DELIVER_SM_RESP:
    case SMPP_SUBMIT_SM_RESP:
    case SMPP_DATA_SM_RESP:
        max = SMPP_MAX_MESSAGE_ID;
        break;
    case SMPP_BIND_RECEIVER_RESP:
    case SMPP_BIND_TRANSMITTER_RESP:
    case SMPP_BIND_TRANSCEIVER_RESP:
        max = SMPP_MAX_SYSTEM_ID;
        if (id == NULL && status != SMPP_ROK) {
            if (cap < SMPP_HEADER_LEN)
                return -ENOSPC;
            header_write(out, SMPP_HEADER_LEN, resp_id, status, seq);
            *len = SMPP_HEADER_LEN;
            return 0;
        }
        break;
    case SMPP_ENQUIRE_LINK_RESP:
    case SMPP_UNBIND_RESP:
    case SMPP_GENERIC_NACK:
        if (id != NULL && id[0] != '\0')
            return -EINVAL;
        return smpp_encode_header(resp_id, status, seq, out, cap, len);
    default:
        return -EINVAL;
    }
    if (id == NULL)
        id = "";
    n = strnlen(id, max);
    if (n >= max)
        return -EINVAL;
    total = SMPP_HEADER_LEN + n + 1;
    if (cap < total)
        return -ENOSPC;
    header_write(out, (uint32_t)total, resp_id, status, seq);
    memcpy(out + SMPP_HEADER_LEN, id, n + 1);
    *len = total;
    return 0;
}
