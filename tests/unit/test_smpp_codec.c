/*
 * test_smpp_codec.c - the codec: decoding the vectors of tests/vectors/, encode -> prescan ->
 * decode round trips (USSD TLVs, a 1024-octet message_payload, binds, responses), encoder
 * refusals (never a silent truncation), and a deterministic random-mutation loop proving that
 * whatever passes the pre-scan decodes without crashing (run it under ASan and valgrind).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lgw_vectors.h"
#include "smpp.h"

/* libsmpp34's global error log (smpp34_structs.h). Declared here, not included: only
 * smpp_codec.c includes the library's headers. The test checks that what we let libsmpp34 see
 * keeps that log well inside its 2048 bytes. */
extern char smpp34_strerror[2048];

/* ---------------------------------------------------------------- helpers */

static uint8_t *load(const char *name, size_t *len)
{
    uint8_t *pdu = lgw_vector_load(name, len);

    assert_non_null(pdu);
    return pdu;
}

static void assert_prescan_ok(const uint8_t *pdu, size_t len)
{
    uint32_t status = 0xDEADBEEF;
    const char *reason = NULL;

    if (smpp_prescan(pdu, len, &status, &reason) != 0)
        fail_msg("prescan refused: %s (%s)", smpp_status_name(status), reason);
    assert_int_equal(status, SMPP_ROK);
}

static void decode_vector(const char *name, struct smpp_sm *sm)
{
    size_t len;
    uint8_t *pdu = load(name, &len);
    const char *reason = NULL;

    assert_prescan_ok(pdu, len);
    if (smpp_decode_sm(pdu, len, sm, &reason) != 0)
        fail_msg("%s: decode failed: %s", name, reason);
    free(pdu);
}

static void sm_ussd(struct smpp_sm *sm, const char *text)
{
    memset(sm, 0, sizeof(*sm));
    strcpy(sm->service_type, "USSD");
    sm->src_ton = 1;
    sm->src_npi = 1;
    strcpy(sm->src_addr, "212612345678");
    sm->dst_npi = 1;
    strcpy(sm->dst_addr, "123");
    sm->text_len = (uint16_t)strlen(text);
    memcpy(sm->text, text, sm->text_len);
    sm->has_ussd_op = true;
    sm->ussd_op = 0x01;
    sm->has_its_session = true;
    sm->its_session = 0x2A00;
}

/* encode -> frame_check -> prescan -> decode, and the decoded struct must equal the input */
static void round_trip_sm(uint32_t cmd, const struct smpp_sm *in)
{
    uint8_t buf[2048];
    size_t len = 0;
    struct smpp_sm out;
    struct smpp_header h;
    const char *reason = NULL;

    assert_int_equal(smpp_encode_sm(cmd, 1234, in, buf, sizeof(buf), &len), 0);
    assert_int_equal(smpp_frame_check(buf, len, SMPP_PDU_MAX_DEFAULT, &h), (int)len);
    assert_int_equal(h.id, cmd);
    assert_int_equal(h.seq, 1234);
    assert_int_equal(h.status, 0);
    assert_prescan_ok(buf, len);
    if (smpp_decode_sm(buf, len, &out, &reason) != 0)
        fail_msg("decode: %s", reason);
    assert_string_equal(out.service_type, in->service_type);
    assert_int_equal(out.src_ton, in->src_ton);
    assert_int_equal(out.src_npi, in->src_npi);
    assert_string_equal(out.src_addr, in->src_addr);
    assert_int_equal(out.dst_ton, in->dst_ton);
    assert_int_equal(out.dst_npi, in->dst_npi);
    assert_string_equal(out.dst_addr, in->dst_addr);
    assert_int_equal(out.esm_class, in->esm_class);
    assert_int_equal(out.registered_delivery, in->registered_delivery);
    assert_int_equal(out.data_coding, in->data_coding);
    if (cmd != SMPP_DATA_SM) {
        assert_int_equal(out.protocol_id, in->protocol_id);
        assert_int_equal(out.priority, in->priority);
    }
    assert_int_equal(out.text_len, in->text_len);
    assert_memory_equal(out.text, in->text, in->text_len);
    assert_int_equal(out.text[out.text_len], 0);
    assert_int_equal(out.has_ussd_op, in->has_ussd_op);
    assert_int_equal(out.ussd_op, in->ussd_op);
    assert_int_equal(out.has_its_session, in->has_its_session);
    assert_int_equal(out.its_session, in->its_session);
    assert_int_equal(out.has_umr, in->has_umr);
    assert_int_equal(out.umr, in->umr);
    assert_int_equal(out.has_message_state, in->has_message_state);
    assert_int_equal(out.message_state, in->message_state);
    assert_string_equal(out.receipted_id, in->receipted_id);
}

/* ---------------------------------------------------------------- decoding vectors */

static void test_decode_sm__ussd_vector__fields(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_ussd.hex", &sm);
    assert_string_equal(sm.service_type, "USSD");
    assert_int_equal(sm.src_ton, 1);
    assert_int_equal(sm.src_npi, 1);
    assert_string_equal(sm.src_addr, "212612345678");
    assert_string_equal(sm.dst_addr, "123");
    assert_int_equal(sm.text_len, 5);
    assert_string_equal((const char *)sm.text, "*123#");
    assert_false(sm.use_payload);
    assert_true(sm.has_ussd_op);
    assert_int_equal(sm.ussd_op, 1);
    assert_true(sm.has_its_session);
    assert_int_equal(sm.its_session, 0x2A00); /* session 42 in the high byte */
    assert_false(sm.has_umr);
    assert_false(sm.has_message_state);
    assert_string_equal(sm.receipted_id, "");
}

static void test_decode_sm__delivery_receipt__receipted_id_and_state(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_receipt.hex", &sm);
    assert_int_equal(sm.esm_class & SMPP_ESM_TYPE_MASK, SMPP_ESM_TYPE_DELIVERY_RECEIPT);
    assert_string_equal(sm.receipted_id, "abc123");
    assert_true(sm.has_message_state);
    assert_int_equal(sm.message_state, 2);
    assert_non_null(strstr((const char *)sm.text, "stat:DELIVRD"));
}

static void test_decode_sm__600_octet_payload__text_from_payload(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_tlv_600.hex", &sm);
    assert_int_equal(sm.text_len, 600);
    assert_true(sm.use_payload);
    assert_int_equal(sm.text[0], 'A');
    assert_int_equal(sm.text[599], 'A' + 599 % 26);
    assert_int_equal(sm.text[600], 0);
}

static void test_decode_sm__sequence_0__decodes(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_seq0.hex", &sm);
    assert_string_equal((const char *)sm.text, "*123#");
    assert_int_equal(sm.its_session, 0x2A00);
}

static void test_decode_sm__schedule_time_in_deliver_sm__decodes(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_schedule.hex", &sm);
    assert_string_equal((const char *)sm.text, "*123#");
    assert_true(sm.has_ussd_op);
}

static void test_decode_sm__reserved_ton_npi__kept(void **state)
{
    struct smpp_sm sm;

    (void)state;
    decode_vector("pdu_deliver_sm_reserved_ton.hex", &sm);
    assert_int_equal(sm.src_ton, 7);
    assert_int_equal(sm.src_npi, 2);
    assert_string_equal(sm.src_addr, "212612345678");
}

static void test_decode_sm__wrong_command__ebadmsg(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_bind_transceiver.hex", &len);
    struct smpp_sm sm;
    const char *reason = NULL;

    (void)state;
    assert_int_equal(smpp_decode_sm(pdu, len, &sm, &reason), -EBADMSG);
    assert_non_null(reason);
    assert_int_equal(smpp_decode_sm(pdu, 10, &sm, &reason), -EBADMSG);
    free(pdu);
}

static void test_decode_bind__vector__fields(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_bind_transceiver.hex", &len);
    struct smpp_bind b;
    const char *reason = NULL;

    (void)state;
    assert_prescan_ok(pdu, len);
    assert_int_equal(smpp_decode_bind(pdu, len, &b, &reason), 0);
    assert_string_equal(b.system_id, "loyalty");
    assert_string_equal(b.password, "s3cr3t");
    assert_string_equal(b.system_type, "USSD");
    assert_int_equal(b.interface_version, 0x34);
    assert_int_equal(b.addr_ton, 1);
    assert_int_equal(b.addr_npi, 1);
    assert_string_equal(b.address_range, "^2126");
    free(pdu);
}

static void test_decode_bind__old_interface_version__kept(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_bind_transceiver.hex", &len);
    struct smpp_bind b;

    (void)state;
    pdu[16 + 8 + 7 + 5] = 0x33; /* after "loyalty", "s3cr3t", "USSD" */
    assert_prescan_ok(pdu, len);
    assert_int_equal(smpp_decode_bind(pdu, len, &b, NULL), 0);
    assert_int_equal(b.interface_version, 0x33);
    free(pdu);
}

static void test_decode_resp_id__vendor_status_empty_body__empty_id(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_submit_sm_resp_vendor_status.hex", &len);
    char id[65] = "junk";
    struct smpp_header h;

    (void)state;
    assert_prescan_ok(pdu, len);
    smpp_header_read(pdu, &h);
    assert_int_equal(h.status, 0x40A);
    assert_int_equal(smpp_decode_resp_id(pdu, len, id, sizeof(id), NULL), 0);
    assert_string_equal(id, "");
    free(pdu);
}

static void test_decode_resp_id__vendor_status_with_id__id(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_data_sm_resp_vendor_status_id.hex", &len);
    char id[65];

    (void)state;
    assert_prescan_ok(pdu, len);
    assert_int_equal(smpp_decode_resp_id(pdu, len, id, sizeof(id), NULL), 0);
    assert_string_equal(id, "X1");
    free(pdu);
}

static void test_decode_resp_id__bind_resp_with_tlv__system_id(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_bind_transceiver_resp.hex", &len);
    char id[16];

    (void)state;
    assert_prescan_ok(pdu, len);
    assert_int_equal(smpp_decode_resp_id(pdu, len, id, sizeof(id), NULL), 0);
    assert_string_equal(id, "SMSC");
    free(pdu);
}

static void test_decode_resp_id__small_buffer__enospc(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_submit_sm_resp_ok.hex", &len);
    char id[8]; /* "5f3a9c01" needs 9 */
    char big[9];
    const char *reason = NULL;

    (void)state;
    assert_int_equal(smpp_decode_resp_id(pdu, len, id, sizeof(id), &reason), -ENOSPC);
    assert_string_equal(id, "");
    assert_int_equal(smpp_decode_resp_id(pdu, len, big, sizeof(big), &reason), 0);
    assert_string_equal(big, "5f3a9c01");
    free(pdu);
}

static void test_decode_resp_id__not_a_response__ebadmsg(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_deliver_sm_ussd.hex", &len);
    char id[65];

    (void)state;
    assert_int_equal(smpp_decode_resp_id(pdu, len, id, sizeof(id), NULL), -EBADMSG);
    free(pdu);
}

/* ---------------------------------------------------------------- round trips */

static void test_encode_sm__ussd_deliver_sm__matches_vector(void **state)
{
    size_t vlen, len = 0;
    uint8_t *vec = load("pdu_deliver_sm_ussd.hex", &vlen);
    uint8_t buf[256];
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "*123#");
    assert_int_equal(smpp_encode_sm(SMPP_DELIVER_SM, 7, &sm, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, vlen);
    assert_memory_equal(buf, vec, vlen);
    free(vec);
}

static void test_round_trip__deliver_sm_ussd__equal(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "*123*4#");
    round_trip_sm(SMPP_DELIVER_SM, &sm);
}

static void test_round_trip__submit_sm_ussd_menu__equal(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "1. Balance\n2. Gifts\n3. Exit");
    sm.ussd_op = 0x02;       /* PSSR response */
    sm.its_session = 0x2A03; /* session 42, seq 1, end */
    sm.has_umr = true;
    sm.umr = 0xBEEF;
    sm.registered_delivery = 1;
    sm.protocol_id = 0x7F;
    sm.priority = 1;
    sm.data_coding = 0x0F;
    round_trip_sm(SMPP_SUBMIT_SM, &sm);
}

static void test_round_trip__submit_sm_253_octets__short_message(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "");
    sm.text_len = 253;
    memset(sm.text, 'z', 253);
    round_trip_sm(SMPP_SUBMIT_SM, &sm);
}

static void test_round_trip__payload_1024__equal(void **state)
{
    struct smpp_sm sm;
    uint8_t buf[2048];
    size_t len;

    (void)state;
    sm_ussd(&sm, "");
    sm.use_payload = true;
    sm.text_len = 1024;
    for (int i = 0; i < 1024; i++)
        sm.text[i] = (uint8_t)(i * 7);
    round_trip_sm(SMPP_SUBMIT_SM, &sm);
    round_trip_sm(SMPP_DELIVER_SM, &sm);
    round_trip_sm(SMPP_DATA_SM, &sm);
    /* 1025 is one too many */
    sm.text_len = SMPP_TEXT_MAX + 1;
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
}

static void test_round_trip__receipt_tlvs__equal(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "id:abc123 stat:DELIVRD");
    sm.has_ussd_op = false;
    sm.has_its_session = false;
    sm.its_session = 0;
    sm.ussd_op = 0;
    sm.esm_class = SMPP_ESM_TYPE_DELIVERY_RECEIPT;
    sm.has_message_state = true;
    sm.message_state = 2;
    strcpy(sm.receipted_id, "abc123");
    round_trip_sm(SMPP_DELIVER_SM, &sm);
    round_trip_sm(SMPP_SUBMIT_SM, &sm); /* message_state is an octet TLV for libsmpp34 here */
    /* the longest receipted_message_id: 64 characters */
    memset(sm.receipted_id, 'r', 64);
    sm.receipted_id[64] = '\0';
    round_trip_sm(SMPP_DELIVER_SM, &sm);
}

static void test_round_trip__data_sm__equal(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "hello");
    sm.use_payload = true; /* data_sm always carries message_payload */
    round_trip_sm(SMPP_DATA_SM, &sm);
}

static void test_round_trip__empty_text__equal(void **state)
{
    struct smpp_sm sm;

    (void)state;
    sm_ussd(&sm, "");
    round_trip_sm(SMPP_DELIVER_SM, &sm);
}

static void test_round_trip__binds__equal(void **state)
{
    static const uint32_t cmds[] = {SMPP_BIND_RECEIVER, SMPP_BIND_TRANSMITTER,
                                    SMPP_BIND_TRANSCEIVER};
    struct smpp_bind in, out;
    uint8_t buf[256];
    size_t len;

    (void)state;
    memset(&in, 0, sizeof(in));
    strcpy(in.system_id, "loyaltygw123456"); /* 15: the longest */
    strcpy(in.password, "pa55word");         /* 8: the longest */
    strcpy(in.system_type, "USSDGATEWAY1");  /* 12 */
    in.addr_ton = 1;
    in.addr_npi = 1;
    memset(in.address_range, '9', 40);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        struct smpp_header h;

        assert_int_equal(smpp_encode_bind(cmds[i], 5, &in, buf, sizeof(buf), &len), 0);
        smpp_header_read(buf, &h);
        assert_int_equal(h.id, cmds[i]);
        assert_int_equal(h.len, len);
        assert_prescan_ok(buf, len);
        assert_int_equal(smpp_decode_bind(buf, len, &out, NULL), 0);
        assert_string_equal(out.system_id, in.system_id);
        assert_string_equal(out.password, in.password);
        assert_string_equal(out.system_type, in.system_type);
        assert_int_equal(out.interface_version, 0x34); /* 0 is sent as 0x34 */
        assert_int_equal(out.addr_ton, 1);
        assert_int_equal(out.addr_npi, 1);
        assert_string_equal(out.address_range, in.address_range);
    }
}

static void test_round_trip__responses__equal(void **state)
{
    static const uint32_t with_id[] = {SMPP_SUBMIT_SM_RESP, SMPP_DELIVER_SM_RESP, SMPP_DATA_SM_RESP,
                                       SMPP_BIND_TRANSCEIVER_RESP};
    uint8_t buf[128];
    size_t len;
    char id[65];

    (void)state;
    for (size_t i = 0; i < sizeof(with_id) / sizeof(with_id[0]); i++) {
        struct smpp_header h;

        assert_int_equal(smpp_encode_resp(with_id[i], SMPP_ROK, 77, "ID42", buf, sizeof(buf), &len),
                         0);
        assert_int_equal(len, 16 + 5);
        smpp_header_read(buf, &h);
        assert_int_equal(h.id, with_id[i]);
        assert_int_equal(h.seq, 77);
        assert_prescan_ok(buf, len);
        assert_int_equal(smpp_decode_resp_id(buf, len, id, sizeof(id), NULL), 0);
        assert_string_equal(id, "ID42");
    }
}

/* ---------------------------------------------------------------- response / header encoders */

static void test_encode_resp__deliver_sm_resp_null_id__empty_message_id(void **state)
{
    uint8_t buf[64];
    size_t len;
    static const uint8_t want[17] = {0, 0, 0, 17, 0x80, 0, 0, 5, 0, 0, 0, 0x64, 0, 0, 0, 9, 0};

    (void)state;
    assert_int_equal(
        smpp_encode_resp(SMPP_DELIVER_SM_RESP, SMPP_RX_T_APPN, 9, NULL, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 17);
    assert_memory_equal(buf, want, 17);
    assert_prescan_ok(buf, len);
}

static void test_encode_resp__bind_resp_error_null_id__header_only(void **state)
{
    uint8_t buf[64];
    size_t len;
    char id[16];

    (void)state;
    assert_int_equal(smpp_encode_resp(SMPP_BIND_TRANSCEIVER_RESP, SMPP_RINVPASWD, 1, NULL, buf,
                                      sizeof(buf), &len),
                     0);
    assert_int_equal(len, 16);
    assert_prescan_ok(buf, len);
    assert_int_equal(smpp_decode_resp_id(buf, len, id, sizeof(id), NULL), 0);
    assert_string_equal(id, "");
    /* ROK with NULL id still carries a system_id */
    assert_int_equal(
        smpp_encode_resp(SMPP_BIND_TRANSCEIVER_RESP, SMPP_ROK, 1, NULL, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 17);
}

static void test_encode_resp__vendor_status_and_seq_0__verbatim(void **state)
{
    uint8_t buf[64];
    size_t len;
    struct smpp_header h;

    (void)state;
    assert_int_equal(smpp_encode_resp(SMPP_SUBMIT_SM_RESP, 0x4FF, 0, "m", buf, sizeof(buf), &len),
                     0);
    smpp_header_read(buf, &h);
    assert_int_equal(h.status, 0x4FF);
    assert_int_equal(h.seq, 0);
}

static void test_encode_resp__too_long_or_too_small__refused(void **state)
{
    uint8_t buf[128];
    size_t len;
    char id[80];

    (void)state;
    memset(id, 'x', 65);
    id[65] = '\0';
    assert_int_equal(smpp_encode_resp(SMPP_SUBMIT_SM_RESP, 0, 1, id, buf, sizeof(buf), &len),
                     -EINVAL);
    id[64] = '\0';
    assert_int_equal(smpp_encode_resp(SMPP_SUBMIT_SM_RESP, 0, 1, id, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 16 + 65);
    assert_int_equal(smpp_encode_resp(SMPP_SUBMIT_SM_RESP, 0, 1, id, buf, 16 + 64, &len), -ENOSPC);
    assert_int_equal(
        smpp_encode_resp(SMPP_BIND_RECEIVER_RESP, 0, 1, "sixteen_chars_xx", buf, sizeof(buf), &len),
        -EINVAL);
    assert_int_equal(smpp_encode_resp(SMPP_DELIVER_SM, 0, 1, NULL, buf, sizeof(buf), &len),
                     -EINVAL);
    assert_int_equal(smpp_encode_resp(SMPP_ENQUIRE_LINK_RESP, 0, 1, "x", buf, sizeof(buf), &len),
                     -EINVAL);
    assert_int_equal(smpp_encode_resp(SMPP_ENQUIRE_LINK_RESP, 0, 1, NULL, buf, sizeof(buf), &len),
                     0);
    assert_int_equal(len, 16);
}

static void test_encode_header__generic_nack__hand_built(void **state)
{
    uint8_t buf[16];
    size_t len;
    static const uint8_t want[16] = {0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0};

    (void)state;
    assert_int_equal(
        smpp_encode_header(SMPP_GENERIC_NACK, SMPP_RINVCMDID, 0, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 16);
    assert_memory_equal(buf, want, 16);
    assert_prescan_ok(buf, len);
    assert_int_equal(smpp_encode_header(SMPP_ENQUIRE_LINK, 0, 1, buf, 15, &len), -ENOSPC);
    assert_int_equal(smpp_encode_header(SMPP_DELIVER_SM, 0, 1, buf, 16, &len), -EINVAL);
}

/* ---------------------------------------------------------------- encoder refusals */

static void test_encode_sm__fields_that_do_not_fit__refused(void **state)
{
    struct smpp_sm sm;
    uint8_t buf[2048];
    size_t len;

    (void)state;
    sm_ussd(&sm, "hi");
    memset(sm.src_addr, '1', sizeof(sm.src_addr)); /* no NUL within 21 */
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
    sm_ussd(&sm, "hi");
    memset(sm.service_type, 'S', sizeof(sm.service_type));
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
    sm_ussd(&sm, "");
    sm.text_len = 254; /* libsmpp34 packs at most 253 octets of short_message */
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
    sm.use_payload = true;
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), 0);
    sm_ussd(&sm, "hi");
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 0, &sm, buf, sizeof(buf), &len), -EINVAL);
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM_RESP, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
    sm.src_ton = 7; /* reserved: libsmpp34 will not pack it */
    assert_int_equal(smpp_encode_sm(SMPP_SUBMIT_SM, 1, &sm, buf, sizeof(buf), &len), -EINVAL);
}

static void test_encode_sm__small_buffer__enospc(void **state)
{
    struct smpp_sm sm;
    uint8_t buf[2048];
    size_t len = 0, need;

    (void)state;
    sm_ussd(&sm, "*123#");
    assert_int_equal(smpp_encode_sm(SMPP_DELIVER_SM, 1, &sm, buf, sizeof(buf), &need), 0);
    assert_int_equal(smpp_encode_sm(SMPP_DELIVER_SM, 1, &sm, buf, need - 1, &len), -ENOSPC);
    assert_int_equal(smpp_encode_sm(SMPP_DELIVER_SM, 1, &sm, buf, need, &len), 0);
    assert_int_equal(len, need);
}

static void test_encode_bind__fields_that_do_not_fit__refused(void **state)
{
    struct smpp_bind b;
    uint8_t buf[256];
    size_t len;

    (void)state;
    memset(&b, 0, sizeof(b));
    strcpy(b.system_id, "gw");
    memset(b.password, 'p', sizeof(b.password)); /* 9 characters: one too many */
    assert_int_equal(smpp_encode_bind(SMPP_BIND_TRANSCEIVER, 1, &b, buf, sizeof(buf), &len),
                     -EINVAL);
    strcpy(b.password, "pw");
    b.interface_version = 0x33;
    assert_int_equal(smpp_encode_bind(SMPP_BIND_TRANSCEIVER, 1, &b, buf, sizeof(buf), &len),
                     -EINVAL);
    b.interface_version = 0x34;
    assert_int_equal(smpp_encode_bind(SMPP_BIND_TRANSCEIVER, 1, &b, buf, 20, &len), -ENOSPC);
    assert_int_equal(smpp_encode_bind(SMPP_ENQUIRE_LINK, 1, &b, buf, sizeof(buf), &len), -EINVAL);
    assert_int_equal(smpp_encode_bind(SMPP_BIND_TRANSCEIVER, 1, &b, buf, sizeof(buf), &len), 0);
}

/* ---------------------------------------------------------------- libsmpp34 hazards */

/* The worst PDU the pre-scan accepts: longest strings and 20 TLVs with the longest names
 * libsmpp34 logs. What the library sees (our canonical copy) must keep its log small. */
static void test_decode_sm__worst_case_pdu__libsmpp34_log_bounded(void **state)
{
    static uint8_t buf[4096];
    size_t off = 16;
    struct smpp_sm sm;
    static const char service_type[6] = "CMT12";
    static const char addr[21] = "12345678901234567890"; /* 20 digits + NUL */

    (void)state;
    memcpy(buf + off, service_type, 6);
    off += 6;
    buf[off++] = 1;
    buf[off++] = 1;
    memcpy(buf + off, addr, 21);
    off += 21;
    buf[off++] = 1;
    buf[off++] = 1;
    memcpy(buf + off, addr, 21);
    off += 21;
    memset(buf + off, 0xFF, 3); /* esm_class, protocol_id, priority_flag */
    off += 3;
    memcpy(buf + off, "250101120000000+", 17);
    off += 17;
    memcpy(buf + off, "250101120000000+", 17);
    off += 17;
    memset(buf + off, 0xFF, 4);
    off += 4;
    buf[off++] = 254;
    memset(buf + off, 'm', 254);
    off += 254;
    for (int i = 0; i < SMPP_TLV_MAX_COUNT; i++) {
        /* receipted_message_id (kept once) and additional_status_info_text (dropped) */
        uint16_t tag = (i % 2) ? 0x001E : 0x001D;
        uint16_t l = (i % 2) ? 65 : 256;

        buf[off++] = (uint8_t)(tag >> 8);
        buf[off++] = (uint8_t)tag;
        buf[off++] = (uint8_t)(l >> 8);
        buf[off++] = (uint8_t)l;
        memset(buf + off, 'r', l);
        buf[off + l - 1] = 0;
        off += l;
    }
    buf[0] = (uint8_t)(off >> 24);
    buf[1] = (uint8_t)(off >> 16);
    buf[2] = (uint8_t)(off >> 8);
    buf[3] = (uint8_t)off;
    buf[7] = 5; /* deliver_sm */
    buf[11] = 0;
    buf[15] = 1;
    assert_prescan_ok(buf, off);
    assert_int_equal(smpp_decode_sm(buf, off, &sm, NULL), 0);
    assert_int_equal(sm.text_len, 254);
    assert_int_equal(strlen(sm.receipted_id), 64);
    assert_true(strnlen(smpp34_strerror, sizeof(smpp34_strerror)) < 1536);
}

/* ---------------------------------------------------------------- random mutations */

/* Longer runs for a soak: -DLGW_FUZZ_ITERS=2000000 -DLGW_FUZZ_SEED=... */
#ifndef LGW_FUZZ_ITERS
#define LGW_FUZZ_ITERS 20000
#endif
#ifndef LGW_FUZZ_SEED
#define LGW_FUZZ_SEED 0x5EED5EED12345678ull
#endif

static uint64_t rng = LGW_FUZZ_SEED;

static uint32_t rnd(void)
{
    /* xorshift64*: deterministic, good enough to shake a parser */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Whatever passes smpp_prescan() must decode: the codec never fails (or crashes) on a PDU the
 * link has accepted. 20000 mutations, fixed seed; meant to be run under ASan and valgrind. */
static void test_fuzz__random_mutations__prescan_then_decode_never_fails(void **state)
{
    static const char *seeds[] = {"pdu_deliver_sm_ussd.hex",       "pdu_deliver_sm_receipt.hex",
                                  "pdu_deliver_sm_tlv_600.hex",    "pdu_bind_transceiver.hex",
                                  "pdu_bind_transceiver_resp.hex", "pdu_submit_sm_resp_ok.hex"};
    static const uint32_t cmds[] = {
        SMPP_DELIVER_SM,         SMPP_SUBMIT_SM,      SMPP_DATA_SM,         SMPP_BIND_TRANSCEIVER,
        SMPP_BIND_RECEIVER_RESP, SMPP_SUBMIT_SM_RESP, SMPP_DELIVER_SM_RESP, SMPP_ENQUIRE_LINK};
    static const uint8_t interesting[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0x04, 0x05, 0x13, 0x83};
    enum { NSEEDS = sizeof(seeds) / sizeof(seeds[0]), CAP = 2048 };
    uint8_t *seed[NSEEDS];
    size_t seed_len[NSEEDS];
    static uint8_t buf[CAP + 1];
    unsigned accepted = 0;

    (void)state;
    for (int i = 0; i < NSEEDS; i++)
        seed[i] = load(seeds[i], &seed_len[i]);
    for (int iter = 0; iter < LGW_FUZZ_ITERS; iter++) {
        int s = (int)(rnd() % NSEEDS);
        size_t n = seed_len[s];
        unsigned muts = 1 + rnd() % 4;
        struct smpp_header h;
        int flen;

        memcpy(buf, seed[s], n);
        for (unsigned m = 0; m < muts; m++) {
            size_t pos = n ? rnd() % n : 0;

            switch (rnd() % 7) {
            case 0:
                if (n)
                    buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 1:
                if (n)
                    buf[pos] = (uint8_t)rnd();
                break;
            case 2:
                if (n)
                    buf[pos] = interesting[rnd() % sizeof(interesting)];
                break;
            case 3:
                if (n < CAP) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = (uint8_t)rnd();
                    n++;
                }
                break;
            case 4:
                if (n) {
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                }
                break;
            case 5:
                n = rnd() % (n + 1);
                break;
            case 6:
                if (n >= 8)
                    put_be32(buf + 4, cmds[rnd() % (sizeof(cmds) / sizeof(cmds[0]))]);
                break;
            }
        }
        /* usually keep command_length honest so that the body walks are reached */
        if (n >= 4 && rnd() % 4 != 0)
            put_be32(buf, (uint32_t)n);
        buf[n] = 0; /* the zero byte the link keeps after each PDU */

        flen = smpp_frame_check(buf, n, SMPP_PDU_MAX_DEFAULT, &h);
        if (flen <= 0)
            continue;
        if (smpp_prescan(buf, (size_t)flen, NULL, NULL) != 0)
            continue;
        accepted++;
        switch (h.id) {
        case SMPP_DELIVER_SM:
        case SMPP_SUBMIT_SM:
        case SMPP_DATA_SM: {
            struct smpp_sm sm;
            const char *reason = NULL;

            if (smpp_decode_sm(buf, (size_t)flen, &sm, &reason) != 0)
                fail_msg("iteration %d: prescan accepted, decode_sm failed: %s", iter, reason);
            assert_true(sm.text_len <= SMPP_TEXT_MAX);
            assert_int_equal(sm.text[sm.text_len], 0);
            break;
        }
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_TRANSCEIVER: {
            struct smpp_bind b;
            const char *reason = NULL;

            if (smpp_decode_bind(buf, (size_t)flen, &b, &reason) != 0)
                fail_msg("iteration %d: prescan accepted, decode_bind failed: %s", iter, reason);
            break;
        }
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
        case SMPP_DATA_SM_RESP:
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP: {
            char id[65];
            const char *reason = NULL;

            if (smpp_decode_resp_id(buf, (size_t)flen, id, sizeof(id), &reason) != 0)
                fail_msg("iteration %d: prescan accepted, decode_resp_id failed: %s", iter, reason);
            break;
        }
        default:
            break;
        }
    }
    /* the loop must actually exercise the decoders, not only the refusals */
    print_message("%u of %d mutants passed the pre-scan and decoded\n", accepted, LGW_FUZZ_ITERS);
    assert_true(accepted > LGW_FUZZ_ITERS / 20);
    for (int i = 0; i < NSEEDS; i++)
        free(seed[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_sm__ussd_vector__fields),
        cmocka_unit_test(test_decode_sm__delivery_receipt__receipted_id_and_state),
        cmocka_unit_test(test_decode_sm__600_octet_payload__text_from_payload),
        cmocka_unit_test(test_decode_sm__sequence_0__decodes),
        cmocka_unit_test(test_decode_sm__schedule_time_in_deliver_sm__decodes),
        cmocka_unit_test(test_decode_sm__reserved_ton_npi__kept),
        cmocka_unit_test(test_decode_sm__wrong_command__ebadmsg),
        cmocka_unit_test(test_decode_bind__vector__fields),
        cmocka_unit_test(test_decode_bind__old_interface_version__kept),
        cmocka_unit_test(test_decode_resp_id__vendor_status_empty_body__empty_id),
        cmocka_unit_test(test_decode_resp_id__vendor_status_with_id__id),
        cmocka_unit_test(test_decode_resp_id__bind_resp_with_tlv__system_id),
        cmocka_unit_test(test_decode_resp_id__small_buffer__enospc),
        cmocka_unit_test(test_decode_resp_id__not_a_response__ebadmsg),
        cmocka_unit_test(test_encode_sm__ussd_deliver_sm__matches_vector),
        cmocka_unit_test(test_round_trip__deliver_sm_ussd__equal),
        cmocka_unit_test(test_round_trip__submit_sm_ussd_menu__equal),
        cmocka_unit_test(test_round_trip__submit_sm_253_octets__short_message),
        cmocka_unit_test(test_round_trip__payload_1024__equal),
        cmocka_unit_test(test_round_trip__receipt_tlvs__equal),
        cmocka_unit_test(test_round_trip__data_sm__equal),
        cmocka_unit_test(test_round_trip__empty_text__equal),
        cmocka_unit_test(test_round_trip__binds__equal),
        cmocka_unit_test(test_round_trip__responses__equal),
        cmocka_unit_test(test_encode_resp__deliver_sm_resp_null_id__empty_message_id),
        cmocka_unit_test(test_encode_resp__bind_resp_error_null_id__header_only),
        cmocka_unit_test(test_encode_resp__vendor_status_and_seq_0__verbatim),
        cmocka_unit_test(test_encode_resp__too_long_or_too_small__refused),
        cmocka_unit_test(test_encode_header__generic_nack__hand_built),
        cmocka_unit_test(test_encode_sm__fields_that_do_not_fit__refused),
        cmocka_unit_test(test_encode_sm__small_buffer__enospc),
        cmocka_unit_test(test_encode_bind__fields_that_do_not_fit__refused),
        cmocka_unit_test(test_decode_sm__worst_case_pdu__libsmpp34_log_bounded),
        cmocka_unit_test(test_fuzz__random_mutations__prescan_then_decode_never_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
