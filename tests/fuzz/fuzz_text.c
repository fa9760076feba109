/*
 * fuzz_text.c - libFuzzer target: GSM-7 / UCS-2 text (smpp/smpp_text.c), checked as round trips,
 * not only for crashes. The first input byte picks the options and the direction:
 *  - UTF-8 -> wire -> UTF-8: text is first made valid (smpp_text_decode as Latin-1 never fails,
 *    so the fuzzer's bytes become real characters); smpp_text_choose() picks the coding, encode
 *    must succeed, and decoding the octets must give the text back, except the characters the
 *    contract replaces (non-BMP in UCS-2 without surrogates; U+FFFD stays U+FFFD). The counted
 *    units (smpp_text_units) must equal what the encoder produced.
 *  - wire -> UTF-8 -> wire: any octets decoded under a data_coding give valid, NUL-free UTF-8;
 *    for GSM-7 (septets < 0x80, no escape) and UCS-2 (even length, no surrogates, no U+0000) the
 *    re-encoded octets are the original ones.
 *  - SMS split: parts never exceed their size, and their texts decode back to the whole text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp_text.h"

#define CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void utf8_round_trip(const struct smpp_text_opts *o, const char *text, size_t len)
{
    static uint8_t wire[2 * CAP + 8];
    static char back[4 * CAP + 8];
    size_t wlen = 0, blen = 0;
    uint8_t dcs = 0;
    enum smpp_text_coding c = smpp_text_choose(text, len, o, &dcs);
    ssize_t units = smpp_text_units(c, text, len, o);

    if (smpp_text_encode(text, len, c, o, wire, sizeof(wire), &wlen) != 0)
        abort(); /* the chosen coding holds every character */
    if (units < 0 || (size_t)units != (c == SMPP_TEXT_UCS2 ? wlen / 2 : wlen))
        abort(); /* what is counted against a limit is what is sent */
    if (smpp_text_decode(wire, wlen, dcs, o, back, sizeof(back), &blen) != 0)
        abort();
    if (c == SMPP_TEXT_GSM7 || o->ucs2_surrogates) {
        if (blen != len || memcmp(back, text, len) != 0)
            abort();
    } else {
        /* UCS-2 without surrogates: compare character by character, non-BMP replaced */
        size_t i = 0, j = 0, a1, a2;

        while (i < len && j < blen) {
            uint32_t c1 = smpp_text_utf8_next(text + i, len - i, &a1);
            uint32_t c2 = smpp_text_utf8_next(back + j, blen - j, &a2);

            if (c1 != c2 && !(c1 > 0xFFFF && c2 == (o->ucs2_replacement ? o->ucs2_replacement
                                                                          : (uint32_t)'?')))
                abort();
            i += a1;
            j += a2;
        }
        if (i != len || j != blen)
            abort();
    }
}

static void wire_round_trip(const struct smpp_text_opts *o, uint8_t dcs, const uint8_t *in,
                            size_t len)
{
    static char text[4 * CAP + 8];
    static uint8_t again[2 * CAP + 8];
    size_t tlen = 0, alen = 0, i, adv;
    enum smpp_text_coding c = smpp_text_coding_from_dcs(dcs, o);
    bool exact = true;

    if (smpp_text_decode(in, len, dcs, o, text, sizeof(text), &tlen) != 0)
        abort();
    if (strlen(text) != tlen)
        abort(); /* NUL-free */
    for (i = 0; i < tlen; i += adv)
        if (smpp_text_utf8_next(text + i, tlen - i, &adv) == SMPP_TEXT_REPLACEMENT &&
            memcmp(text + i, "\xEF\xBF\xBD", 3) != 0)
            abort(); /* valid UTF-8 out, whatever came in */
    if (c == SMPP_TEXT_GSM7) {
        for (i = 0; i < len; i++)
            if (in[i] >= 0x80 || in[i] == 0x1B || in[i] == 0x00)
                exact = false; /* replaced or escaped: no exact way back */
    } else if (c == SMPP_TEXT_UCS2) {
        if (len % 2)
            exact = false;
        for (i = 0; exact && i + 1 < len; i += 2) {
            uint16_t u = (uint16_t)(in[i] << 8 | in[i + 1]);
            if (u == 0 || (u >= 0xD800 && u <= 0xDFFF) || u == 0xFFFD)
                exact = false;
        }
    } else {
        exact = false; /* Latin-1 and binary are decoded only */
    }
    if (!exact)
        return;
    if (smpp_text_encode(text, tlen, c, o, again, sizeof(again), &alen) != 0)
        abort();
    /* '@' is septet 0x00, excluded above; every other GSM-7 septet maps back to itself */
    if (alen != len || memcmp(again, in, len) != 0)
        abort();
}

static void split_round_trip(const struct smpp_text_opts *o, const char *text, size_t len,
                             uint8_t ref)
{
    static struct smpp_text_sms_part parts[SMPP_TEXT_SMS_MAX_PARTS];
    static char whole[4 * CAP + 8];
    size_t n = 0, at = 0;

    if (smpp_text_sms_split(text, len, o, ref, parts, SMPP_TEXT_SMS_MAX_PARTS, &n) != 0)
        return; /* -E2BIG: too long for 255 parts */
    for (size_t p = 0; p < n; p++) {
        size_t skip = parts[p].esm_class & 0x40 ? SMPP_TEXT_SMS_UDH_LEN : 0;
        size_t got = 0;

        if (parts[p].len > SMPP_TEXT_SMS_PART_MAX || parts[p].len < skip)
            abort();
        if (smpp_text_decode(parts[p].data + skip, parts[p].len - skip, parts[p].data_coding, o,
                             whole + at, sizeof(whole) - at, &got) != 0)
            abort();
        at += got;
    }
    /* without surrogates a non-BMP character is replaced in UCS-2: compare GSM-7 exactly */
    if (n > 0 && parts[0].coding == SMPP_TEXT_GSM7 && (at != len || memcmp(whole, text, len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[4 * CAP + 8];
    struct smpp_text_opts o;
    size_t tlen = 0;
    uint8_t mode;

    if (size < 2 || size > CAP)
        return 0;
    mode = data[0];
    smpp_text_opts_defaults(&o);
    o.ucs2_surrogates = mode & 1;
    if (mode & 2)
        o.ucs2_replacement = 0xFFFD;
    data++;
    size--;
    switch ((mode >> 2) % 3) {
    case 0:
        /* the bytes as UTF-8 made valid (invalid subparts -> U+FFFD) by a UTF-8 pass */
        for (size_t i = 0, adv; i < size; i += adv) {
            uint32_t cp = smpp_text_utf8_next((const char *)data + i, size - i, &adv);
            if (cp == 0)
                cp = ' ';
            tlen += smpp_text_utf8_put(cp, text + tlen);
        }
        utf8_round_trip(&o, text, tlen);
        split_round_trip(&o, text, tlen, mode);
        break;
    case 1:
        wire_round_trip(&o, data[0], data + 1, size - 1);
        break;
    default:
        /* wire octets first, then the UTF-8 they decode to makes the round trip */
        if (smpp_text_decode(data + 1, size - 1, data[0], &o, text, sizeof(text), &tlen) != 0)
            abort();
        utf8_round_trip(&o, text, tlen);
        break;
    }
    return 0;
}
