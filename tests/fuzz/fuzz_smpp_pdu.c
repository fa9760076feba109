/*
 * fuzz_smpp_pdu.c - libFuzzer target: one receive buffer through the link's path - framing
 * (smpp_frame_check), the pre-scan (smpp_prescan), then the decoder the command selects. The
 * property, beyond "no crash, no leak": whatever the pre-scan accepts decodes (the codec never
 * refuses, or corrupts memory on, a PDU the link has let through), and a decoded short message
 * is NUL-terminated within its bounds. Seeds: the hex vectors of tests/vectors as binary (tests/fuzz/seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smpp_header h;
    uint8_t *buf;
    int flen;

    if (size > SMPP_PDU_MAX_DEFAULT + 64)
        return 0;
    /* the link keeps a zero byte after every received PDU: give the parsers the same */
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    flen = smpp_frame_check(buf, size, SMPP_PDU_MAX_DEFAULT, &h);
    if (flen > 0) {
        uint32_t status = 0;
        const char *reason = NULL;

        if (smpp_prescan(buf, (size_t)flen, &status, &reason) == 0) {
            switch (h.id) {
            case SMPP_DELIVER_SM:
            case SMPP_SUBMIT_SM:
            case SMPP_DATA_SM: {
                struct smpp_sm sm;

                if (smpp_decode_sm(buf, (size_t)flen, &sm, &reason) != 0)
                    abort(); /* the pre-scan let through what the codec refuses */
                if (sm.text_len > SMPP_TEXT_MAX || sm.text[sm.text_len] != 0)
                    abort();
                break;
            }
            case SMPP_BIND_RECEIVER:
            case SMPP_BIND_TRANSMITTER:
            case SMPP_BIND_TRANSCEIVER: {
                struct smpp_bind b;

                if (smpp_decode_bind(buf, (size_t)flen, &b, &reason) != 0)
                    abort();
                break;
            }
            case SMPP_SUBMIT_SM_RESP:
            case SMPP_DELIVER_SM_RESP:
            case SMPP_DATA_SM_RESP:
            case SMPP_BIND_RECEIVER_RESP:
            case SMPP_BIND_TRANSMITTER_RESP:
            case SMPP_BIND_TRANSCEIVER_RESP: {
                char id[66];

                if (smpp_decode_resp_id(buf, (size_t)flen, id, sizeof(id), &reason) != 0)
                    abort();
                if (strnlen(id, sizeof(id)) == sizeof(id))
                    abort();
                break;
            }
            default:
                break;
            }
        } else if (reason == NULL) {
            abort(); /* every refusal carries its reason */
        }
    }
    free(buf);
    return 0;
}
