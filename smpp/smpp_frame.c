/*
 * smpp_frame.c - TCP framing of SMPP PDUs and the pre-scan that stands between the network and
 * libsmpp34 (see ../shared/notes/libraries.md for why it exists).
 *
 * smpp_frame_check() cuts a PDU out of a receive buffer; smpp_prescan() then walks the complete
 * PDU field by field, exactly as smpp_codec.c and libsmpp34 will, and refuses anything that the
 * SMPP 3.4 spec forbids or that would make libsmpp34 misbehave: C-octet strings not terminated
 * within their maximum (libsmpp34 strlen()s them), an sm_length beyond the body, a malformed TLV
 * area, more than SMPP_TLV_MAX_COUNT TLVs (libsmpp34 overflows its global error buffer with many),
 * integer TLVs whose length differs from the width libsmpp34 reads (it ignores the length field
 * and desynchronises), and octet TLVs over the cap libsmpp34 applies to that tag (it refuses them
 * and leaks the half-built TLV).
 *
 * Valid-but-unexpected traffic (sequence_number 0, vendor command_status, a non-empty
 * schedule_delivery_time in deliver_sm, reserved TON/NPI values) passes here: libsmpp34 refuses
 * it, but the codec hides those fields from the library (see smpp_codec.c).
 *
 * Everything here is pure: no allocation, no globals, reasons are static strings.
 */
#include "smpp.h"
#include "smpp_wire.h"

#include <errno.h>
#include <limits.h>

/* ---------------------------------------------------------------- names */

struct name_entry {
    uint32_t id;
    const char *name;
};

/* Every SMPP 3.4 command (§5.1.2.1), including the ones we never accept, so that logs can name
 * what a peer sent before we refused it. */
static const struct name_entry cmd_names[] = {
    {0x80000000u, "generic_nack"},          {0x00000001u, "bind_receiver"},
    {0x80000001u, "bind_receiver_resp"},    {0x00000002u, "bind_transmitter"},
    {0x80000002u, "bind_transmitter_resp"}, {0x00000003u, "query_sm"},
    {0x80000003u, "query_sm_resp"},         {0x00000004u, "submit_sm"},
    {0x80000004u, "submit_sm_resp"},        {0x00000005u, "deliver_sm"},
    {0x80000005u, "deliver_sm_resp"},       {0x00000006u, "unbind"},
    {0x80000006u, "unbind_resp"},           {0x00000007u, "replace_sm"},
    {0x80000007u, "replace_sm_resp"},       {0x00000008u, "cancel_sm"},
    {0x80000008u, "cancel_sm_resp"},        {0x00000009u, "bind_transceiver"},
    {0x80000009u, "bind_transceiver_resp"}, {0x0000000Bu, "outbind"},
    {0x00000015u, "enquire_link"},          {0x80000015u, "enquire_link_resp"},
    {0x00000021u, "submit_multi"},          {0x80000021u, "submit_multi_resp"},
    {0x00000102u, "alert_notification"},    {0x00000103u, "data_sm"},
    {0x80000103u, "data_sm_resp"},
};

/* SMPP 3.4 §5.1.3 command_status values. */
static const struct name_entry status_names[] = {
    {0x00, "ESME_ROK"},
    {0x01, "ESME_RINVMSGLEN"},
    {0x02, "ESME_RINVCMDLEN"},
    {0x03, "ESME_RINVCMDID"},
    {0x04, "ESME_RINVBNDSTS"},
    {0x05, "ESME_RALYBND"},
    {0x06, "ESME_RINVPRTFLG"},
    {0x07, "ESME_RINVREGDLVFLG"},
    {0x08, "ESME_RSYSERR"},
    {0x0A, "ESME_RINVSRCADR"},
    {0x0B, "ESME_RINVDSTADR"},
    {0x0C, "ESME_RINVMSGID"},
    {0x0D, "ESME_RBINDFAIL"},
    {0x0E, "ESME_RINVPASWD"},
    {0x0F, "ESME_RINVSYSID"},
    {0x11, "ESME_RCANCELFAIL"},
    {0x13, "ESME_RREPLACEFAIL"},
    {0x14, "ESME_RMSGQFUL"},
    {0x15, "ESME_RINVSERTYP"},
    {0x33, "ESME_RINVNUMDESTS"},
    {0x34, "ESME_RINVDLNAME"},
    {0x40, "ESME_RINVDESTFLAG"},
    {0x42, "ESME_RINVSUBREP"},
    {0x43, "ESME_RINVESMCLASS"},
    {0x44, "ESME_RCNTSUBDL"},
    {0x45, "ESME_RSUBMITFAIL"},
    {0x48, "ESME_RINVSRCTON"},
    {0x49, "ESME_RINVSRCNPI"},
    {0x50, "ESME_RINVDSTTON"},
    {0x51, "ESME_RINVDSTNPI"},
    {0x53, "ESME_RINVSYSTYP"},
    {0x54, "ESME_RINVREPFLAG"},
    {0x55, "ESME_RINVNUMMSGS"},
    {0x58, "ESME_RTHROTTLED"},
    {0x61, "ESME_RINVSCHED"},
    {0x62, "ESME_RINVEXPIRY"},
    {0x63, "ESME_RINVDFTMSGID"},
    {0x64, "ESME_RX_T_APPN"},
    {0x65, "ESME_RX_P_APPN"},
    {0x66, "ESME_RX_R_APPN"},
    {0x67, "ESME_RQUERYFAIL"},
    {0xC0, "ESME_RINVOPTPARSTREAM"},
    {0xC1, "ESME_ROPTPARNOTALLWD"},
    {0xC2, "ESME_RINVPARLEN"},
    {0xC3, "ESME_RMISSINGOPTPARAM"},
    {0xC4, "ESME_RINVOPTPARAMVAL"},
    {0xFE, "ESME_RDELIVERYFAILURE"},
    {0xFF, "ESME_RUNKNOWNERR"},
};

static const char *name_find(const struct name_entry *t, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

const char *smpp_cmd_name(uint32_t cmd_id)
{
    const char *n = name_find(cmd_names, sizeof(cmd_names) / sizeof(cmd_names[0]), cmd_id);

    return n != NULL ? n : "unknown_command";
}

const char *smpp_status_name(uint32_t status)
{
    const char *n = name_find(status_names, sizeof(status_names) / sizeof(status_names[0]), status);

    if (n != NULL)
        return n;
    if (status >= 0x400 && status <= 0x4FF)
        return "ESME_VENDOR_SPECIFIC";
    return "ESME_UNKNOWN_STATUS";
}

/* ---------------------------------------------------------------- framing */

void smpp_header_read(const uint8_t *buf, struct smpp_header *hdr)
{
    hdr->len = smpp_rd32(buf);
    hdr->id = smpp_rd32(buf + 4);
    hdr->status = smpp_rd32(buf + 8);
    hdr->seq = smpp_rd32(buf + 12);
}

/* hdr is filled whenever 16 bytes are available, -EMSGSIZE included, so that the link can
 * address its best-effort generic_nack to the offending sequence_number. max_pdu 0 means
 * SMPP_PDU_MAX_DEFAULT. */
int smpp_frame_check(const uint8_t *buf, size_t avail, size_t max_pdu, struct smpp_header *hdr)
{
    struct smpp_header h;

    if (avail < SMPP_HEADER_LEN)
        return 0;
    smpp_header_read(buf, &h);
    if (hdr != NULL)
        *hdr = h;
    if (max_pdu == 0)
        max_pdu = SMPP_PDU_MAX_DEFAULT;
    if (h.len < SMPP_PDU_MIN || h.len > max_pdu || h.len > (uint32_t)INT_MAX)
        return -EMSGSIZE;
    if (avail < h.len)
        return 0;
    return (int)h.len;
}

/* ---------------------------------------------------------------- pre-scan */

/* What follows the header, per command we accept. */
enum body_kind {
    BODY_NONE,    /* header only: enquire_link(_resp), unbind(_resp), generic_nack */
    BODY_SM,      /* submit_sm, deliver_sm */
    BODY_DATA_SM, /* data_sm */
    BODY_BIND,    /* bind_* */
    BODY_OUTBIND, /* outbind: system_id, password */
    BODY_RESP_ID, /* *_resp: optional message_id/system_id, then TLVs */
};

struct cmd_rule {
    uint32_t id;
    enum body_kind body;
    size_t id_max; /* BODY_RESP_ID: the C-octet string maximum */
};

/* The commands the link understands; anything else is ESME_RINVCMDID (answered with a
 * generic_nack by the link). deliver_sm_resp's message_id is "unused, NULL" in SMPP 3.4 but
 * some SMSCs fill it, so it gets the submit_sm_resp maximum. */
static const struct cmd_rule cmd_rules[] = {
    {SMPP_GENERIC_NACK, BODY_NONE, 0},
    {SMPP_BIND_RECEIVER, BODY_BIND, 0},
    {SMPP_BIND_RECEIVER_RESP, BODY_RESP_ID, SMPP_MAX_SYSTEM_ID},
    {SMPP_BIND_TRANSMITTER, BODY_BIND, 0},
    {SMPP_BIND_TRANSMITTER_RESP, BODY_RESP_ID, SMPP_MAX_SYSTEM_ID},
    {SMPP_SUBMIT_SM, BODY_SM, 0},
    {SMPP_SUBMIT_SM_RESP, BODY_RESP_ID, SMPP_MAX_MESSAGE_ID},
    {SMPP_DELIVER_SM, BODY_SM, 0},
    {SMPP_DELIVER_SM_RESP, BODY_RESP_ID, SMPP_MAX_MESSAGE_ID},
    {SMPP_UNBIND, BODY_NONE, 0},
    {SMPP_UNBIND_RESP, BODY_NONE, 0},
    {SMPP_BIND_TRANSCEIVER, BODY_BIND, 0},
    {SMPP_BIND_TRANSCEIVER_RESP, BODY_RESP_ID, SMPP_MAX_SYSTEM_ID},
    {SMPP_OUTBIND, BODY_OUTBIND, 0},
    {SMPP_ENQUIRE_LINK, BODY_NONE, 0},
    {SMPP_ENQUIRE_LINK_RESP, BODY_NONE, 0},
    {SMPP_DATA_SM, BODY_DATA_SM, 0},
    {SMPP_DATA_SM_RESP, BODY_RESP_ID, SMPP_MAX_MESSAGE_ID},
};

/*
 * TLV length rules. min == max: libsmpp34 reads the value as a fixed-width integer in at least
 * one PDU type (def_frame/{deliver_sm,submit_sm,data_sm,*_resp}.tlv and tlv.operation of
 * libsmpp34 1.14.1) and ignores the length field, so any other length desynchronises it; the
 * widths agree with SMPP 3.4 §5.3.2 in every PDU type, so one table serves them all.
 * ussd_service_op is an octet string of at most 1 for libsmpp34; SMPP 3.4 makes it exactly 1.
 * min 0: an octet string that libsmpp34 caps at max (it refuses a longer one and leaks the TLV).
 * Any other tag: at most SMPP_TLV_VALUE_MAX (libsmpp34's MAX_TLV_SIZE).
 */
struct tlv_rule {
    uint16_t tag;
    uint16_t min, max;
};

static const struct tlv_rule tlv_rules[] = {
    {0x0005, 1, 1},                  /* dest_addr_subunit */
    {0x0006, 1, 1},                  /* dest_network_type */
    {0x0007, 1, 1},                  /* dest_bearer_type */
    {0x0008, 2, 2},                  /* dest_telematics_id */
    {0x000D, 1, 1},                  /* source_addr_subunit */
    {0x000E, 1, 1},                  /* source_network_type */
    {0x000F, 1, 1},                  /* source_bearer_type */
    {0x0010, 1, 1},                  /* source_telematics_id */
    {0x0017, 4, 4},                  /* qos_time_to_live */
    {0x0019, 1, 1},                  /* payload_type */
    {0x001D, 0, 256},                /* additional_status_info_text */
    {0x001E, 0, 65},                 /* receipted_message_id */
    {0x0030, 1, 1},                  /* ms_msg_wait_facilities */
    {0x0201, 1, 1},                  /* privacy_indicator */
    {0x0202, 0, 23},                 /* source_subaddress */
    {0x0203, 0, 23},                 /* dest_subaddress */
    {0x0204, 2, 2},                  /* user_message_reference */
    {0x0205, 1, 1},                  /* user_response_code */
    {0x020A, 2, 2},                  /* source_port */
    {0x020B, 2, 2},                  /* destination_port */
    {0x020C, 2, 2},                  /* sar_msg_ref_num */
    {0x020D, 1, 1},                  /* language_indicator */
    {0x020E, 1, 1},                  /* sar_total_segments */
    {0x020F, 1, 1},                  /* sar_segment_seqnum */
    {0x0210, 1, 1},                  /* sc_interface_version */
    {0x0302, 1, 1},                  /* callback_num_pres_ind */
    {0x0303, 0, 65},                 /* callback_num_atag */
    {0x0304, 1, 1},                  /* number_of_messages */
    {0x0381, 0, 19},                 /* callback_num */
    {0x0420, 1, 1},                  /* dpf_result */
    {0x0421, 1, 1},                  /* set_dpf */
    {0x0422, 1, 1},                  /* ms_availability_status */
    {0x0423, 0, 3},                  /* network_error_code */
    {0x0424, 0, SMPP_TLV_VALUE_MAX}, /* message_payload */
    {0x0425, 1, 1},                  /* delivery_failure_reason */
    {0x0426, 1, 1},                  /* more_messages_to_send */
    {0x0427, 1, 1},                  /* message_state */
    {0x0501, 1, 1},                  /* ussd_service_op */
    {0x1201, 1, 1},                  /* display_time */
    {0x1203, 2, 2},                  /* sms_signal */
    {0x1204, 1, 1},                  /* ms_validity */
    {0x130C, 0, 0},                  /* alert_on_message_delivery (libsmpp34: "TODO", size 0) */
    {0x1380, 1, 1},                  /* its_reply_type */
    {0x1383, 2, 2},                  /* its_session_info */
};

struct verdict {
    uint32_t status;
    const char *reason;
};

static int refuse(struct verdict *v, uint32_t status, const char *reason)
{
    v->status = status;
    v->reason = reason;
    return -EBADMSG;
}

/* A mandatory C-octet string: its maximum and what to say when it is malformed. */
struct cfield {
    size_t max;
    const char *too_long; /* no NUL within max although the body goes on */
    const char *trunc;    /* the body ends inside it */
};

#define CFIELD(name, max)                                                                          \
    static const struct cfield F_##name = {max, #name " not terminated within " #max " octets",    \
                                           "body ends inside " #name}
CFIELD(service_type, 6);
CFIELD(source_addr, 21);
CFIELD(destination_addr, 21);
CFIELD(schedule_delivery_time, 17);
CFIELD(validity_period, 17);
CFIELD(system_id, 16);
CFIELD(password, 9);
CFIELD(system_type, 13);
CFIELD(address_range, 41);
CFIELD(message_id, 65);
#undef CFIELD

static int scan_cstr(struct smpp_cur *c, const struct cfield *f, struct verdict *v)
{
    size_t n;

    switch (smpp_cur_cstr(c, f->max, &n)) {
    case SMPP_CSTR_OK:
        return 0;
    case SMPP_CSTR_LONG:
        return refuse(v, SMPP_RINVPARLEN, f->too_long);
    case SMPP_CSTR_TRUNC:
    default:
        return refuse(v, SMPP_RINVCMDLEN, f->trunc);
    }
}

static int skip_octets(struct smpp_cur *c, size_t n, struct verdict *v)
{
    if (smpp_cur_left(c) < n)
        return refuse(v, SMPP_RINVCMDLEN, "body ends inside the mandatory parameters");
    c->p += n;
    return 0;
}

static int scan_tlvs(struct smpp_cur *c, struct verdict *v)
{
    unsigned count = 0;

    while (smpp_cur_left(c) > 0) {
        uint16_t tag, len, min = 0, max = SMPP_TLV_VALUE_MAX;

        if (++count > SMPP_TLV_MAX_COUNT)
            return refuse(v, SMPP_RINVOPTPARSTREAM, "more TLVs than SMPP_TLV_MAX_COUNT");
        if (smpp_cur_left(c) < 4)
            return refuse(v, SMPP_RINVOPTPARSTREAM, "truncated TLV header");
        tag = smpp_rd16(c->p);
        len = smpp_rd16(c->p + 2);
        c->p += 4;
        if (len > smpp_cur_left(c))
            return refuse(v, SMPP_RINVOPTPARSTREAM, "TLV length beyond the end of the body");
        for (size_t i = 0; i < sizeof(tlv_rules) / sizeof(tlv_rules[0]); i++) {
            if (tlv_rules[i].tag == tag) {
                min = tlv_rules[i].min;
                max = tlv_rules[i].max;
                break;
            }
        }
        if (min == max && len != min)
            return refuse(v, SMPP_RINVPARLEN, "fixed-size TLV with the wrong length");
        if (len < min || len > max)
            return refuse(v, SMPP_RINVPARLEN, "TLV value longer than allowed for its tag");
        c->p += len;
    }
    return 0;
}

/* submit_sm / deliver_sm, SMPP 3.4 §4.4.1 / §4.6.1. */
static int scan_sm(struct smpp_cur *c, struct verdict *v)
{
    int rc;
    uint8_t sm_length;

    if ((rc = scan_cstr(c, &F_service_type, v)) < 0 || (rc = skip_octets(c, 2, v)) < 0 ||
        (rc = scan_cstr(c, &F_source_addr, v)) < 0 || (rc = skip_octets(c, 2, v)) < 0 ||
        (rc = scan_cstr(c, &F_destination_addr, v)) < 0 || (rc = skip_octets(c, 3, v)) < 0 ||
        (rc = scan_cstr(c, &F_schedule_delivery_time, v)) < 0 ||
        (rc = scan_cstr(c, &F_validity_period, v)) < 0 || (rc = skip_octets(c, 4, v)) < 0 ||
        (rc = skip_octets(c, 1, v)) < 0)
        return rc;
    sm_length = c->p[-1];
    if (sm_length > SMPP_MAX_SHORT_MESSAGE)
        return refuse(v, SMPP_RINVMSGLEN, "sm_length over 254");
    if (sm_length > smpp_cur_left(c))
        return refuse(v, SMPP_RINVMSGLEN, "sm_length beyond the end of the body");
    c->p += sm_length;
    return scan_tlvs(c, v);
}

/* data_sm, SMPP 3.4 §4.7.1. */
static int scan_data_sm(struct smpp_cur *c, struct verdict *v)
{
    int rc;

    if ((rc = scan_cstr(c, &F_service_type, v)) < 0 || (rc = skip_octets(c, 2, v)) < 0 ||
        (rc = scan_cstr(c, &F_source_addr, v)) < 0 || (rc = skip_octets(c, 2, v)) < 0 ||
        (rc = scan_cstr(c, &F_destination_addr, v)) < 0 || (rc = skip_octets(c, 3, v)) < 0)
        return rc;
    return scan_tlvs(c, v);
}

/* bind_*, SMPP 3.4 §4.1.1: no TLVs in 3.4, so nothing may follow address_range. */
static int scan_bind(struct smpp_cur *c, struct verdict *v)
{
    int rc;

    if ((rc = scan_cstr(c, &F_system_id, v)) < 0 || (rc = scan_cstr(c, &F_password, v)) < 0 ||
        (rc = scan_cstr(c, &F_system_type, v)) < 0 || (rc = skip_octets(c, 3, v)) < 0 ||
        (rc = scan_cstr(c, &F_address_range, v)) < 0)
        return rc;
    if (smpp_cur_left(c) != 0)
        return refuse(v, SMPP_RINVCMDLEN, "bytes after address_range");
    return 0;
}

static int scan_outbind(struct smpp_cur *c, struct verdict *v)
{
    int rc;

    if ((rc = scan_cstr(c, &F_system_id, v)) < 0 || (rc = scan_cstr(c, &F_password, v)) < 0)
        return rc;
    if (smpp_cur_left(c) != 0)
        return refuse(v, SMPP_RINVCMDLEN, "bytes after password");
    return 0;
}

/* Responses: SMSCs omit the body on errors (SMPP 3.4 §4.1.2, §4.4.2), so an empty body is fine
 * whatever the status. Otherwise the id string, then a TLV area (bind_*_resp and data_sm_resp
 * have one; we tolerate one everywhere since we parse responses by hand). */
static int scan_resp(struct smpp_cur *c, size_t id_max, struct verdict *v)
{
    const struct cfield *f = id_max == SMPP_MAX_SYSTEM_ID ? &F_system_id : &F_message_id;
    int rc;

    if (smpp_cur_left(c) == 0)
        return 0;
    if ((rc = scan_cstr(c, f, v)) < 0)
        return rc;
    return scan_tlvs(c, v);
}

int smpp_prescan(const uint8_t *pdu, size_t len, uint32_t *status, const char **reason)
{
    struct verdict v = {SMPP_ROK, "ok"};
    const struct cmd_rule *rule = NULL;
    struct smpp_header h;
    struct smpp_cur c;
    int rc = 0;

    if (pdu == NULL || len < SMPP_HEADER_LEN) {
        rc = refuse(&v, SMPP_RINVCMDLEN, "shorter than an SMPP header");
        goto out;
    }
    smpp_header_read(pdu, &h);
    if (h.len != len) {
        rc = refuse(&v, SMPP_RINVCMDLEN, "command_length differs from the PDU size");
        goto out;
    }
    for (size_t i = 0; i < sizeof(cmd_rules) / sizeof(cmd_rules[0]); i++) {
        if (cmd_rules[i].id == h.id) {
            rule = &cmd_rules[i];
            break;
        }
    }
    if (rule == NULL) {
        rc = refuse(&v, SMPP_RINVCMDID, "unknown command_id");
        goto out;
    }
    c.p = pdu + SMPP_HEADER_LEN;
    c.end = pdu + len;
    switch (rule->body) {
    case BODY_NONE:
        if (smpp_cur_left(&c) != 0)
            rc = refuse(&v, SMPP_RINVCMDLEN, "body on a header-only command");
        break;
    case BODY_SM:
        rc = scan_sm(&c, &v);
        break;
    case BODY_DATA_SM:
        rc = scan_data_sm(&c, &v);
        break;
    case BODY_BIND:
        rc = scan_bind(&c, &v);
        break;
    case BODY_OUTBIND:
        rc = scan_outbind(&c, &v);
        break;
    case BODY_RESP_ID:
        rc = scan_resp(&c, rule->id_max, &v);
        break;
    }
out:
    if (status != NULL)
        *status = v.status;
    if (reason != NULL)
        *reason = v.reason;
    return rc;
}
