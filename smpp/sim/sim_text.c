/*
 * sim_text.c - wire text to UTF-8 for the simulator's --record lines and USSD screens: GSM 03.38
 * default alphabet (unpacked, one septet per octet, with the extension table), UCS-2 big-endian,
 * Latin-1, ASCII. Pure functions on caller buffers; nothing is allocated. The gateway's own
 * text module lives in libsmpp; this small copy keeps the simulator an independent peer.
 */
#include "sim.h"

#include <errno.h>
#include <string.h>

#define REPLACEMENT 0xFFFDu

/* GSM 03.38 default alphabet, septet -> Unicode. 0x1B (escape) is handled by the caller. */
static const uint16_t gsm_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* 00 */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* 08 */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* 10 */
    0x03A3, 0x0398, 0x039E, 0x001B, 0x00C6, 0x00E6, 0x00DF, 0x00C9, /* 18 */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, /* 20 */
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, /* 28 */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 30 */
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, /* 38 */
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* 40 */
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, /* 48 */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* 50 */
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* 58 */
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* 60 */
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, /* 68 */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* 70 */
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* 78 */
};

/* The extension table (after 0x1B): the characters that cost two septets. */
static const struct {
    uint8_t septet;
    uint16_t ucs;
} gsm_ext[] = {
    {0x0A, 0x000C}, {0x14, '^'}, {0x28, '{'}, {0x29, '}'}, {0x2F, '\\'},
    {0x3C, '['},    {0x3D, '~'}, {0x3E, ']'}, {0x40, '|'}, {0x65, 0x20AC},
};

static uint32_t gsm_ext_lookup(uint8_t septet)
{
    for (size_t i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++) {
        if (gsm_ext[i].septet == septet)
            return gsm_ext[i].ucs;
    }
    return 0;
}

struct utf8_out {
    char *buf;
    size_t cap, len;
    bool full;
    bool printable;
};

/* Appends one code point; once one does not fit, nothing more is written (no cut characters). */
static void put_cp(struct utf8_out *o, uint32_t cp)
{
    char tmp[4];
    size_t n;

    if (cp == REPLACEMENT || (cp < 0x20 && cp != '\n' && cp != '\r') || cp == 0x7F ||
        (cp >= 0x80 && cp < 0xA0))
        o->printable = false;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | cp >> 6);
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | cp >> 12);
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (char)(0xF0 | cp >> 18);
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (o->full || o->len + n + 1 > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, tmp, n);
    o->len += n;
}

static void decode_gsm(struct utf8_out *o, const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c >= 0x80) {
            put_cp(o, REPLACEMENT);
        } else if (c == 0x1B) {
            uint32_t cp = (i + 1 < len) ? gsm_ext_lookup(in[i + 1]) : 0;
            if (cp) {
                put_cp(o, cp);
                i++;
            } else {
                /* 03.38: an unknown escape shows as the basic character; a trailing escape or
                 * one before a non-septet is garbage */
                if (i + 1 < len && in[i + 1] < 0x80 && in[i + 1] != 0x1B) {
                    put_cp(o, gsm_basic[in[i + 1]]);
                    i++;
                } else {
                    put_cp(o, REPLACEMENT);
                }
            }
        } else {
            put_cp(o, gsm_basic[c]);
        }
    }
}

static void decode_ucs2(struct utf8_out *o, const uint8_t *in, size_t len)
{
    size_t i = 0;

    for (; i + 1 < len; i += 2) {
        uint32_t u = (uint32_t)in[i] << 8 | in[i + 1];
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            uint32_t lo = (uint32_t)in[i + 2] << 8 | in[i + 3];
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                put_cp(o, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 2;
                continue;
            }
        }
        put_cp(o, (u >= 0xD800 && u <= 0xDFFF) ? REPLACEMENT : u);
    }
    if (i < len)
        put_cp(o, REPLACEMENT); /* odd octet count */
}

size_t sim_text_to_utf8(uint8_t data_coding, const uint8_t *in, size_t len, char *out,
                        size_t outlen, bool *printable)
{
    struct utf8_out o = {.buf = out, .cap = outlen, .len = 0, .full = false, .printable = true};

    if (outlen == 0) {
        if (printable)
            *printable = false;
        return 0;
    }
    switch (data_coding) {
    case 0:
        decode_gsm(&o, in, len);
        break;
    case 8:
        decode_ucs2(&o, in, len);
        break;
    case 3: /* ISO-8859-1: octet = code point */
        for (size_t i = 0; i < len; i++)
            put_cp(&o, in[i]);
        break;
    default: /* 1 (IA5) and anything else: ASCII */
        for (size_t i = 0; i < len; i++)
            put_cp(&o, in[i] < 0x80 ? in[i] : REPLACEMENT);
        break;
    }
    out[o.len] = '\0';
    if (printable)
        *printable = o.printable && !o.full;
    return o.len;
}

int sim_ascii_to_gsm(const char *in, uint8_t *out, size_t cap)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        uint8_t enc[2];
        size_t k = 1;
        uint32_t c = *p;

        enc[0] = '?';
        if (c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7F)) {
            bool found = false;
            for (uint8_t s = 0; s < 128; s++) {
                if (gsm_basic[s] == c) {
                    enc[0] = s;
                    found = true;
                    break;
                }
            }
            for (size_t i = 0; !found && i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++) {
                if (gsm_ext[i].ucs == c) {
                    enc[0] = 0x1B;
                    enc[1] = gsm_ext[i].septet;
                    k = 2;
                    found = true;
                }
            }
        }
        if (n + k > cap)
            return -ENOSPC;
        memcpy(out + n, enc, k);
        n += k;
    }
    return (int)n;
}

/* One code point from untrusted UTF-8 at s[0..len) (len > 0): *adv bytes consumed. Invalid,
 * overlong, surrogate, out-of-range or truncated sequences give U+FFFD and consume one byte, so
 * the next call resynchronises. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *adv)
{
    uint32_t cp, min;
    size_t n;

    *adv = 1;
    if (s[0] < 0x80)
        return s[0];
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
        min = 0x10000;
    } else {
        return REPLACEMENT;
    }
    if (n > len)
        return REPLACEMENT;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return REPLACEMENT;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return REPLACEMENT;
    *adv = n;
    return cp;
}

/* GSM 03.38 octets of cp into enc (1 or 2), 0 when it is not in the default alphabet. */
static size_t gsm_encode_cp(uint32_t cp, uint8_t enc[2])
{
    if (cp == 0x1B || cp >= 0x10000)
        return 0; /* the escape septet is not a character */
    for (uint8_t s = 0; s < 128; s++) {
        if (gsm_basic[s] == cp && s != 0x1B) {
            enc[0] = s;
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++) {
        if (gsm_ext[i].ucs == cp) {
            enc[0] = 0x1B;
            enc[1] = gsm_ext[i].septet;
            return 2;
        }
    }
    return 0;
}

int sim_utf8_to_wire(const char *utf8, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                     uint8_t *data_coding)
{
    const unsigned char *s = (const unsigned char *)utf8;
    bool gsm = true;
    size_t i, adv, n = 0;

    if (!utf8 || !out || !out_len || !data_coding)
        return -EINVAL;
    /* a handset picks the coding for the whole text: GSM-7 only when every character fits */
    for (i = 0; i < len && gsm; i += adv) {
        uint8_t enc[2];
        if (gsm_encode_cp(utf8_next(s + i, len - i, &adv), enc) == 0)
            gsm = false;
    }
    for (i = 0; i < len; i += adv) {
        uint32_t cp = utf8_next(s + i, len - i, &adv);
        uint8_t enc[4];
        size_t k;

        if (gsm) {
            k = gsm_encode_cp(cp, enc);
        } else if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000, hi = 0xD800 | v >> 10, lo = 0xDC00 | (v & 0x3FF);
            enc[0] = (uint8_t)(hi >> 8);
            enc[1] = (uint8_t)hi;
            enc[2] = (uint8_t)(lo >> 8);
            enc[3] = (uint8_t)lo;
            k = 4;
        } else {
            enc[0] = (uint8_t)(cp >> 8);
            enc[1] = (uint8_t)cp;
            k = 2;
        }
        if (n + k > cap)
            return -ENOSPC;
        memcpy(out + n, enc, k);
        n += k;
    }
    *out_len = n;
    *data_coding = gsm ? 0 : 8;
    return 0;
}
