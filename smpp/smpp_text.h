/*
 * smpp_text.h - text on the wire: UTF-8 inside the gateway; GSM 03.38 (unpacked, one septet per
 * octet, with the default extension table) or UCS-2 big-endian on the wire; UDH concatenation
 * for long SMS. Included by smpp.h; usable alone (ussd/ includes it without any PDU knowledge).
 *
 * Pure functions, no I/O, no allocation: every output goes into a caller-supplied buffer with its
 * capacity, and nothing is ever written past it.
 *
 * UTF-8 from anywhere is untrusted. Every function here decodes it with one strict decoder
 * (smpp_text_utf8_next()): truncated or invalid sequences, overlong forms, UTF-16 surrogates
 * (U+D800..U+DFFF) and values above U+10FFFF each become U+FFFD, one per maximal invalid
 * subpart (the Unicode "best practice" for replacement). U+FFFD is not in the GSM alphabet, so a
 * text with invalid bytes always chooses UCS-2.
 *
 * UCS-2 and characters outside the BMP (emoji): many USSD gateways and handsets treat the two
 * octets of each character literally and break on UTF-16 surrogates, so by default such a
 * character is sent as opts->ucs2_replacement ('?'), one unit. With opts->ucs2_surrogates it is
 * sent as a UTF-16 surrogate pair (two units, never split across SMS parts). Decoding always
 * joins a valid surrogate pair and turns a lone surrogate into U+FFFD.
 */
#ifndef SMPP_TEXT_H
#define SMPP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SMPP_TEXT_REPLACEMENT 0xFFFDu /* U+FFFD REPLACEMENT CHARACTER */
#define SMPP_TEXT_GSM7_ESC 0x1Bu      /* escape to the extension table */

/* The wire codings we produce. LATIN1 is decode-mostly (data_coding 3, and 2/4 binary read as
 * Latin-1); the encoder supports it for completeness. */
enum smpp_text_coding {
    SMPP_TEXT_GSM7 = 0,
    SMPP_TEXT_UCS2 = 1,
    SMPP_TEXT_LATIN1 = 2,
};

/* Per-carrier text options. Fill with smpp_text_opts_defaults(), then override. Every function
 * taking opts accepts NULL for the defaults. */
struct smpp_text_opts {
    uint8_t dcs_gsm7;          /* data_coding sent for GSM-7 (0; some gateways want 1 or 0xF0) */
    uint8_t dcs_ucs2;          /* data_coding sent for UCS-2 (8) */
    uint16_t ucs2_replacement; /* sent for a non-BMP character in UCS-2 ('?'); must be a BMP
                                * non-surrogate, else '?' is used */
    bool ucs2_surrogates;      /* send non-BMP characters as UTF-16 surrogate pairs (false) */
};

void smpp_text_opts_defaults(struct smpp_text_opts *opts);

/* ---------------------------------------------------------------- characters */

/*
 * Decodes one character from untrusted UTF-8 at s[0..len). len must be > 0. Sets *adv to the
 * number of bytes consumed (>= 1) and returns the code point, or SMPP_TEXT_REPLACEMENT for an
 * invalid, overlong, surrogate, out-of-range or truncated sequence (then *adv covers the maximal
 * invalid subpart, so the next call resynchronises on the next possible lead byte).
 */
uint32_t smpp_text_utf8_next(const char *s, size_t len, size_t *adv);

/* Writes cp as UTF-8 into out (at least 4 bytes); invalid code points write U+FFFD. Returns the
 * number of bytes written (1..4). */
size_t smpp_text_utf8_put(uint32_t cp, char *out);

/* GSM-7 cost of one character: 1 (basic table), 2 (extension table: escape + septet), or -1 when
 * the character is not in the GSM 03.38 default alphabet. */
int smpp_text_gsm7_cost(uint32_t cp);

/* UCS-2 cost of one character in 16-bit units: 2 for a non-BMP character when
 * opts->ucs2_surrogates, else 1. */
int smpp_text_ucs2_cost(uint32_t cp, const struct smpp_text_opts *opts);

/* Cost of one character in the given coding (GSM7: 1, 2 or -1; UCS2: 1 or 2; LATIN1: 1 or -1). */
int smpp_text_char_cost(enum smpp_text_coding coding, uint32_t cp,
                        const struct smpp_text_opts *opts);

/* ---------------------------------------------------------------- strings */

/* GSM-7 length in septets of utf8[0..len) (extension characters count two), or -1 when some
 * character (an invalid sequence included) is not in the GSM alphabet. */
ssize_t smpp_text_gsm7_len(const char *utf8, size_t len);

/* UCS-2 length in 16-bit units of utf8[0..len) under opts (surrogate pairs count two). */
size_t smpp_text_ucs2_len(const char *utf8, size_t len, const struct smpp_text_opts *opts);

/*
 * Length of utf8[0..len) in the units a limit is counted in: septets for GSM7, 16-bit units for
 * UCS2, octets for LATIN1. Returns -1 when some character does not fit the coding.
 */
ssize_t smpp_text_units(enum smpp_text_coding coding, const char *utf8, size_t len,
                        const struct smpp_text_opts *opts);

/* The data_coding octet to send for coding under opts (GSM7 -> opts->dcs_gsm7, UCS2 ->
 * opts->dcs_ucs2, LATIN1 -> 3). */
uint8_t smpp_text_data_coding(enum smpp_text_coding coding, const struct smpp_text_opts *opts);

/*
 * How a received data_coding octet is read: 0 and 1 (some gateways send GSM as 1, SMPP's IA5),
 * opts->dcs_gsm7, 0xF0..0xF3 and GSM 03.38 general-coding groups 0x00..0x3F with alphabet bits 00
 * -> GSM7; 8, opts->dcs_ucs2 and alphabet bits 10 -> UCS2; everything else (3 Latin-1, 2/4 binary,
 * unknown values) -> LATIN1, which maps every octet and therefore never fails.
 */
enum smpp_text_coding smpp_text_coding_from_dcs(uint8_t data_coding,
                                                const struct smpp_text_opts *opts);

/*
 * Chooses the coding for utf8[0..len): GSM7 when every character is in the GSM alphabet
 * (extension included), else UCS2. When data_coding is not NULL it receives the octet to send.
 */
enum smpp_text_coding smpp_text_choose(const char *utf8, size_t len,
                                       const struct smpp_text_opts *opts, uint8_t *data_coding);

/*
 * Encodes utf8[0..len) into out[0..cap) in coding: GSM7 unpacked, one septet per octet, extension
 * characters as 0x1B + septet; UCS2 big-endian (non-BMP per opts, see the header comment);
 * LATIN1 one octet per character. Sets *out_len to the octets written.
 * Returns 0; -EILSEQ when a character does not exist in GSM7/LATIN1 (choose the coding first;
 * out then holds the prefix before it); -ENOSPC when the result does not fit cap (out holds the
 * longest prefix that fits, never half an escape pair or half a surrogate pair); -EINVAL for a
 * NULL pointer or an unknown coding.
 */
int smpp_text_encode(const char *utf8, size_t len, enum smpp_text_coding coding,
                     const struct smpp_text_opts *opts, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decodes untrusted wire bytes in[0..len) sent with data_coding (read as by
 * smpp_text_coding_from_dcs()) into UTF-8 in out[0..cap), always NUL-terminated (cap >= 1).
 * *out_len receives the bytes written before the NUL.
 * GSM7: octets above 0x7F become U+FFFD; 0x1B followed by a septet without an extension character
 * gives the basic-table character of that septet (TS 23.038 6.2.1.1), 0x1B 0x1B and a final lone
 * 0x1B give a space. UCS2: an odd final octet becomes U+FFFD, surrogate pairs are joined, lone
 * surrogates become U+FFFD. LATIN1: each octet is its code point.
 * U+0000 in any coding becomes U+FFFD so the output is a safe C string.
 * Returns 0; -ENOSPC when truncated (out holds the longest whole-character prefix that fits);
 * -EINVAL for NULL pointers or cap 0.
 */
int smpp_text_decode(const uint8_t *in, size_t len, uint8_t data_coding,
                     const struct smpp_text_opts *opts, char *out, size_t cap, size_t *out_len);

/* ---------------------------------------------------------------- SMS segmentation */

#define SMPP_TEXT_SMS_GSM7_SINGLE 160 /* septets in one SMS */
#define SMPP_TEXT_SMS_UCS2_SINGLE 70  /* UCS-2 units in one SMS */
#define SMPP_TEXT_SMS_GSM7_PART 153   /* septets per part after a 6-octet UDH */
#define SMPP_TEXT_SMS_UCS2_PART 67    /* UCS-2 units per part after a 6-octet UDH */
#define SMPP_TEXT_SMS_UDH_LEN 6       /* 05 00 03 ref total seq */
#define SMPP_TEXT_SMS_PART_MAX 160    /* largest short_message of one part (unpacked GSM-7) */
#define SMPP_TEXT_SMS_MAX_PARTS 255

/* One submit_sm worth of SMS: short_message = data[0..len), with esm_class and data_coding. */
struct smpp_text_sms_part {
    uint8_t esm_class;   /* 0x40 (UDHI) for a part of a concatenated message, else 0 */
    uint8_t data_coding; /* smpp_text_data_coding(coding, opts) */
    enum smpp_text_coding coding;
    uint16_t len;   /* octets in data: UDH (6) + text, or text alone for a single SMS */
    uint16_t units; /* text length in septets / UCS-2 units (UDH excluded) */
    uint8_t data[SMPP_TEXT_SMS_PART_MAX];
};

/*
 * Splits utf8[0..len) into SMS. The coding is chosen as by smpp_text_choose(). Up to 160 septets
 * (GSM7) or 70 units (UCS2) give one part without UDH (esm_class 0). Longer text gives
 * concatenated parts, each data = UDH 05 00 03 <ref> <total> <seq 1..total> followed by at most
 * 153 septets / 67 units; a character is never split, so an escape pair or a surrogate pair that
 * would straddle the boundary moves whole to the next part. ref is the caller's 8-bit reference
 * (unique per recipient among recent messages). Writes up to max_parts entries of parts[] and
 * sets *nparts.
 * Returns 0; -E2BIG when more than max_parts (or 255) parts would be needed (parts[] then holds
 * garbage); -EINVAL for NULL pointers.
 */
int smpp_text_sms_split(const char *utf8, size_t len, const struct smpp_text_opts *opts,
                        uint8_t ref, struct smpp_text_sms_part *parts, size_t max_parts,
                        size_t *nparts);

#endif
