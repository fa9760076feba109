/*
 * test_smpp_frame.c - framing (smpp_frame_check, smpp_header_read), the pre-scan against the
 * hostile vectors of ../shared/notes/libraries.md (tests/vectors/pdu_*.hex), and the name tables.
 * Every refusal asserts the exact SMPP status the link will answer with.
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

/* ---------------------------------------------------------------- helpers */

/* Loads a vector and checks its length against its own command_length. */
static uint8_t *load(const char *name, size_t *len)
{
    uint8_t *pdu = lgw_vector_load(name, len);

    assert_non_null(pdu);
    return pdu;
}

static void expect_prescan(const char *name, uint32_t want_status)
{
    size_t len;
    uint8_t *pdu = load(name, &len);
    uint32_t status = 0xDEADBEEF;
    const char *reason = NULL;
    int rc = smpp_prescan(pdu, len, &status, &reason);

    assert_non_null(reason);
    if (want_status == SMPP_ROK)
        assert_int_equal(rc, 0);
    else
        assert_true(rc < 0);
    if (status != want_status)
        fail_msg("%s: status %s (%s), want %s", name, smpp_status_name(status), reason,
                 smpp_status_name(want_status));
    free(pdu);
}

static size_t put_header(uint8_t *p, uint32_t len, uint32_t id, uint32_t status, uint32_t seq)
{
    uint32_t v[4] = {len, id, status, seq};

    for (int i = 0; i < 4; i++) {
        p[4 * i] = (uint8_t)(v[i] >> 24);
        p[4 * i + 1] = (uint8_t)(v[i] >> 16);
        p[4 * i + 2] = (uint8_t)(v[i] >> 8);
        p[4 * i + 3] = (uint8_t)v[i];
    }
    return 16;
}

/* The fixed part of a minimal deliver_sm after the header; returns its length. */
static size_t put_sm_fixed(uint8_t *p)
{
    static const uint8_t fixed[] = {'U', 'S', 'S', 'D', 0,   1,   1,   '2', '1', '2', '6',
                                    '1', '2', '3', '4', '5', '6', '7', '8', 0,   0,   1,
                                    '1', '2', '3', 0,   0,   0,   0,   0,   0,   0,   0,
                                    0,   0,   5,   '*', '1', '2', '3', '#'};

    memcpy(p, fixed, sizeof(fixed));
    return sizeof(fixed);
}

/* A deliver_sm carrying n TLVs built by the caller's pattern; returns the PDU length. */
static size_t build_deliver_with_tlvs(uint8_t *buf, unsigned n, uint16_t tag, uint16_t tlen)
{
    size_t off = 16;

    off += put_sm_fixed(buf + off);
    for (unsigned i = 0; i < n; i++) {
        buf[off++] = (uint8_t)(tag >> 8);
        buf[off++] = (uint8_t)tag;
        buf[off++] = (uint8_t)(tlen >> 8);
        buf[off++] = (uint8_t)tlen;
        memset(buf + off, 0x11, tlen);
        off += tlen;
    }
    put_header(buf, (uint32_t)off, SMPP_DELIVER_SM, 0, 1);
    return off;
}

static uint32_t prescan_status(const uint8_t *pdu, size_t len)
{
    uint32_t status = 0xDEADBEEF;
    const char *reason = NULL;

    (void)smpp_prescan(pdu, len, &status, &reason);
    assert_non_null(reason);
    return status;
}

/* ---------------------------------------------------------------- header and framing */

static void test_header_read__big_endian__all_fields(void **state)
{
    const uint8_t raw[16] = {0x00, 0x00, 0x00, 0x44, 0x80, 0x00, 0x00, 0x04,
                             0x00, 0x00, 0x04, 0x0A, 0x7F, 0xFF, 0xFF, 0xFE};
    struct smpp_header h;

    (void)state;
    smpp_header_read(raw, &h);
    assert_int_equal(h.len, 0x44);
    assert_int_equal(h.id, SMPP_SUBMIT_SM_RESP);
    assert_int_equal(h.status, 0x40A);
    assert_int_equal(h.seq, 0x7FFFFFFE);
}

static void test_frame_check__partial_buffers__need_more(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_deliver_sm_ussd.hex", &len);
    struct smpp_header h;

    (void)state;
    /* every prefix shorter than the PDU asks for more bytes */
    for (size_t avail = 0; avail < len; avail++)
        assert_int_equal(smpp_frame_check(pdu, avail, SMPP_PDU_MAX_DEFAULT, &h), 0);
    assert_int_equal(smpp_frame_check(pdu, len, SMPP_PDU_MAX_DEFAULT, &h), (int)len);
    assert_int_equal(h.len, len);
    assert_int_equal(h.id, SMPP_DELIVER_SM);
    assert_int_equal(h.seq, 7);
    free(pdu);
}

static void test_frame_check__two_pdus_in_buffer__first_length(void **state)
{
    uint8_t buf[64];

    (void)state;
    put_header(buf, 16, SMPP_ENQUIRE_LINK, 0, 1);
    put_header(buf + 16, 16, SMPP_ENQUIRE_LINK_RESP, 0, 2);
    assert_int_equal(smpp_frame_check(buf, 32, SMPP_PDU_MAX_DEFAULT, NULL), 16);
    assert_int_equal(smpp_frame_check(buf + 16, 16, SMPP_PDU_MAX_DEFAULT, NULL), 16);
    assert_int_equal(smpp_frame_check(buf + 16, 15, SMPP_PDU_MAX_DEFAULT, NULL), 0);
}

static void test_frame_check__command_length_15__emsgsize(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_cmdlen_15.hex", &len);
    struct smpp_header h;

    (void)state;
    assert_int_equal(smpp_frame_check(pdu, len, SMPP_PDU_MAX_DEFAULT, &h), -EMSGSIZE);
    /* the header is still reported, so the link can address its generic_nack */
    assert_int_equal(h.seq, 19);
    free(pdu);
}

static void test_frame_check__command_length_huge__emsgsize(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_cmdlen_huge.hex", &len);

    (void)state;
    assert_int_equal(smpp_frame_check(pdu, len, SMPP_PDU_MAX_DEFAULT, NULL), -EMSGSIZE);
    /* whatever max_pdu says, a length that does not fit the int return is refused */
    memset(pdu, 0xFF, 4);
    assert_int_equal(smpp_frame_check(pdu, len, SIZE_MAX, NULL), -EMSGSIZE);
    free(pdu);
}

static void test_frame_check__max_pdu_boundary__exact_fits(void **state)
{
    uint8_t buf[16];

    (void)state;
    put_header(buf, 100, SMPP_DELIVER_SM, 0, 1);
    assert_int_equal(smpp_frame_check(buf, 16, 100, NULL), 0);
    assert_int_equal(smpp_frame_check(buf, 16, 99, NULL), -EMSGSIZE);
    put_header(buf, SMPP_PDU_MAX_DEFAULT + 1, SMPP_DELIVER_SM, 0, 1);
    assert_int_equal(smpp_frame_check(buf, 16, 0, NULL), -EMSGSIZE); /* 0: the default */
    put_header(buf, 16, SMPP_ENQUIRE_LINK, 0, 1);
    assert_int_equal(smpp_frame_check(buf, 16, 0, NULL), 16);
}

/* ---------------------------------------------------------------- pre-scan: accepted */

static void test_prescan__ussd_deliver_sm__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_ussd.hex", SMPP_ROK);
}

static void test_prescan__delivery_receipt__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_receipt.hex", SMPP_ROK);
}

static void test_prescan__600_octet_tlv__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_tlv_600.hex", SMPP_ROK);
}

static void test_prescan__sequence_0__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_enquire_link_seq0.hex", SMPP_ROK);
    expect_prescan("pdu_deliver_sm_seq0.hex", SMPP_ROK);
}

static void test_prescan__schedule_time_in_deliver_sm__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_schedule.hex", SMPP_ROK);
}

static void test_prescan__reserved_ton_npi__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_reserved_ton.hex", SMPP_ROK);
}

static void test_prescan__vendor_status_resp__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_submit_sm_resp_vendor_status.hex", SMPP_ROK);
    expect_prescan("pdu_data_sm_resp_vendor_status_id.hex", SMPP_ROK);
    expect_prescan("pdu_submit_sm_resp_ok.hex", SMPP_ROK);
}

static void test_prescan__binds__accepted(void **state)
{
    (void)state;
    expect_prescan("pdu_bind_transceiver.hex", SMPP_ROK);
    expect_prescan("pdu_bind_transceiver_resp.hex", SMPP_ROK);
}

static void test_prescan__20_tlvs__accepted(void **state)
{
    uint8_t buf[512];
    size_t len = build_deliver_with_tlvs(buf, SMPP_TLV_MAX_COUNT, 0x1400, 1);

    (void)state;
    assert_int_equal(smpp_prescan(buf, len, NULL, NULL), 0);
    assert_int_equal(prescan_status(buf, len), SMPP_ROK);
}

static void test_prescan__payload_1024__accepted(void **state)
{
    static uint8_t buf[1200];
    size_t len = build_deliver_with_tlvs(buf, 1, SMPP_TLV_MESSAGE_PAYLOAD, 1024);

    (void)state;
    assert_int_equal(prescan_status(buf, len), SMPP_ROK);
}

/* ---------------------------------------------------------------- pre-scan: refused */

static void test_prescan__29_tlvs__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_29_tlvs.hex", SMPP_RINVOPTPARSTREAM);
}

static void test_prescan__21_tlvs__refused(void **state)
{
    uint8_t buf[512];
    size_t len = build_deliver_with_tlvs(buf, SMPP_TLV_MAX_COUNT + 1, 0x1400, 1);

    (void)state;
    assert_true(smpp_prescan(buf, len, NULL, NULL) < 0);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVOPTPARSTREAM);
}

static void test_prescan__tlv_over_1024__refused(void **state)
{
    static uint8_t buf[1200];
    size_t len;

    (void)state;
    expect_prescan("pdu_deliver_sm_tlv_1025.hex", SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, 0x1400, 1025); /* vendor tag: same cap */
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
}

static void test_prescan__truncated_tlv__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_tlv_truncated.hex", SMPP_RINVOPTPARSTREAM);
}

static void test_prescan__tlv_length_beyond_body__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_tlv_beyond_body.hex", SMPP_RINVOPTPARSTREAM);
}

static void test_prescan__integer_tlv_wrong_length__refused(void **state)
{
    uint8_t buf[256];
    size_t len;

    (void)state;
    expect_prescan("pdu_deliver_sm_its_session_3.hex", SMPP_RINVPARLEN);
    expect_prescan("pdu_deliver_sm_ussd_op_2.hex", SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, SMPP_TLV_USER_MESSAGE_REFERENCE, 1);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, SMPP_TLV_MESSAGE_STATE, 0);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, 0x020C /* sar_msg_ref_num */, 4);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, 0x0017 /* qos_time_to_live */, 2);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
}

static void test_prescan__octet_tlv_over_libsmpp34_cap__refused(void **state)
{
    uint8_t buf[256];
    size_t len;

    (void)state;
    len = build_deliver_with_tlvs(buf, 1, SMPP_TLV_RECEIPTED_MESSAGE_ID, 66);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
    len = build_deliver_with_tlvs(buf, 1, SMPP_TLV_RECEIPTED_MESSAGE_ID, 65);
    assert_int_equal(prescan_status(buf, len), SMPP_ROK);
    len = build_deliver_with_tlvs(buf, 1, 0x0423 /* network_error_code */, 4);
    assert_int_equal(prescan_status(buf, len), SMPP_RINVPARLEN);
}

static void test_prescan__unterminated_cstring__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_src_unterminated.hex", SMPP_RINVPARLEN);
    expect_prescan("pdu_deliver_sm_body_ends_in_string.hex", SMPP_RINVCMDLEN);
}

static void test_prescan__sm_length_beyond_body__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_deliver_sm_sm_length_beyond.hex", SMPP_RINVMSGLEN);
}

static void test_prescan__command_length_15__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_cmdlen_15.hex", SMPP_RINVCMDLEN);
}

static void test_prescan__length_mismatch__refused(void **state)
{
    uint8_t buf[32] = {0};

    (void)state;
    put_header(buf, 20, SMPP_ENQUIRE_LINK, 0, 1);
    assert_int_equal(prescan_status(buf, 16), SMPP_RINVCMDLEN);
    assert_int_equal(prescan_status(buf, 8), SMPP_RINVCMDLEN);
    assert_int_equal(prescan_status(NULL, 0), SMPP_RINVCMDLEN);
}

static void test_prescan__unknown_command_id__invcmdid(void **state)
{
    uint8_t buf[16];

    (void)state;
    expect_prescan("pdu_unknown_cmd.hex", SMPP_RINVCMDID);
    /* SMPP 3.4 commands the link does not handle are unknown to it too */
    put_header(buf, 16, 0x00000003 /* query_sm */, 0, 1);
    assert_int_equal(prescan_status(buf, 16), SMPP_RINVCMDID);
}

static void test_prescan__header_only_with_body__refused(void **state)
{
    (void)state;
    expect_prescan("pdu_enquire_link_with_body.hex", SMPP_RINVCMDLEN);
}

static void test_prescan__bind_with_trailing_bytes__refused(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_bind_transceiver.hex", &len);
    uint8_t buf[128];

    (void)state;
    memcpy(buf, pdu, len);
    buf[len] = 0x42;
    put_header(buf, (uint32_t)(len + 1), SMPP_BIND_TRANSCEIVER, 0, 1);
    assert_int_equal(prescan_status(buf, len + 1), SMPP_RINVCMDLEN);
    free(pdu);
}

static void test_prescan__sm_length_255__refused(void **state)
{
    static uint8_t buf[400];
    size_t off = 16, fixed;

    (void)state;
    fixed = put_sm_fixed(buf + off);
    off += fixed - 6; /* back to sm_length */
    buf[off++] = 255;
    memset(buf + off, 'x', 255);
    off += 255;
    put_header(buf, (uint32_t)off, SMPP_DELIVER_SM, 0, 1);
    assert_int_equal(prescan_status(buf, off), SMPP_RINVMSGLEN);
}

static void test_prescan__every_truncation_of_valid_pdu__refused(void **state)
{
    size_t len;
    uint8_t *pdu = load("pdu_deliver_sm_ussd.hex", &len);
    uint8_t buf[128];

    (void)state;
    /* shortening the body and fixing command_length must never produce an accepted PDU that
     * is not a clean prefix at a TLV boundary */
    for (size_t cut = 16; cut < len; cut++) {
        uint32_t st;

        memcpy(buf, pdu, cut);
        put_header(buf, (uint32_t)cut, SMPP_DELIVER_SM, 0, 7);
        st = prescan_status(buf, cut);
        if (cut == len - 6 || cut == len - 11) /* the two TLV boundaries */
            assert_int_equal(st, SMPP_ROK);
        else
            assert_int_not_equal(st, SMPP_ROK);
    }
    free(pdu);
}

/* ---------------------------------------------------------------- names */

static void test_names__known_and_unknown__never_null(void **state)
{
    (void)state;
    assert_string_equal(smpp_cmd_name(SMPP_DELIVER_SM), "deliver_sm");
    assert_string_equal(smpp_cmd_name(SMPP_GENERIC_NACK), "generic_nack");
    assert_string_equal(smpp_cmd_name(0x00000003), "query_sm");
    assert_string_equal(smpp_cmd_name(0x12345678), "unknown_command");
    assert_string_equal(smpp_status_name(SMPP_RX_T_APPN), "ESME_RX_T_APPN");
    assert_string_equal(smpp_status_name(SMPP_RINVOPTPARSTREAM), "ESME_RINVOPTPARSTREAM");
    assert_string_equal(smpp_status_name(0x40A), "ESME_VENDOR_SPECIFIC");
    assert_string_equal(smpp_status_name(0x12345), "ESME_UNKNOWN_STATUS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_read__big_endian__all_fields),
        cmocka_unit_test(test_frame_check__partial_buffers__need_more),
        cmocka_unit_test(test_frame_check__two_pdus_in_buffer__first_length),
        cmocka_unit_test(test_frame_check__command_length_15__emsgsize),
        cmocka_unit_test(test_frame_check__command_length_huge__emsgsize),
        cmocka_unit_test(test_frame_check__max_pdu_boundary__exact_fits),
        cmocka_unit_test(test_prescan__ussd_deliver_sm__accepted),
        cmocka_unit_test(test_prescan__delivery_receipt__accepted),
        cmocka_unit_test(test_prescan__600_octet_tlv__accepted),
        cmocka_unit_test(test_prescan__sequence_0__accepted),
        cmocka_unit_test(test_prescan__schedule_time_in_deliver_sm__accepted),
        cmocka_unit_test(test_prescan__reserved_ton_npi__accepted),
        cmocka_unit_test(test_prescan__vendor_status_resp__accepted),
        cmocka_unit_test(test_prescan__binds__accepted),
        cmocka_unit_test(test_prescan__20_tlvs__accepted),
        cmocka_unit_test(test_prescan__payload_1024__accepted),
        cmocka_unit_test(test_prescan__29_tlvs__refused),
        cmocka_unit_test(test_prescan__21_tlvs__refused),
        cmocka_unit_test(test_prescan__tlv_over_1024__refused),
        cmocka_unit_test(test_prescan__truncated_tlv__refused),
        cmocka_unit_test(test_prescan__tlv_length_beyond_body__refused),
        cmocka_unit_test(test_prescan__integer_tlv_wrong_length__refused),
        cmocka_unit_test(test_prescan__octet_tlv_over_libsmpp34_cap__refused),
        cmocka_unit_test(test_prescan__unterminated_cstring__refused),
        cmocka_unit_test(test_prescan__sm_length_beyond_body__refused),
        cmocka_unit_test(test_prescan__command_length_15__refused),
        cmocka_unit_test(test_prescan__length_mismatch__refused),
        cmocka_unit_test(test_prescan__unknown_command_id__invcmdid),
        cmocka_unit_test(test_prescan__header_only_with_body__refused),
        cmocka_unit_test(test_prescan__bind_with_trailing_bytes__refused),
        cmocka_unit_test(test_prescan__sm_length_255__refused),
        cmocka_unit_test(test_prescan__every_truncation_of_valid_pdu__refused),
        cmocka_unit_test(test_names__known_and_unknown__never_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
