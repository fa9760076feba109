/*
 * smpp_text.c - UTF-8 <-> GSM 03.38 (unpacked) / UCS-2 BE / Latin-1, and SMS concatenation.
 *
 * The two tables below are written from 3GPP TS 23.038 section 6.2.1 (the GSM 7 bit default
 * alphabet) and 6.2.1.1 (its default extension table). Everything is stateless: no allocation,
 * no globals written, every output bounded by the caller's capacity (see smpp_text.h).
 */
#include "smpp_text.h"

#include <errno.h>
#include <string.h>

/* TS 23.038 6.2.1: septet -> Unicode. 0x1B is the escape to the extension table; it is listed as
 * U+00A0 (NBSP, what the standard suggests a receiver shows) but never matched when encoding. */
static const uint16_t gsm7_basic[128] = {
    /* 0x00 */ 0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
    /* 0x08 */ 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
    /* 0x10 */ 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    /* 0x18 */ 0x03A3, 0x0398, 0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
    /* 0x20 */ 0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
    /* 0x28 */ 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    /* 0x30 */ 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    /* 0x38 */ 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    /* 0x40 */ 0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    /* 0x48 */ 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    /* 0x50 */ 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    /* 0x58 */ 0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    /* 0x60 */ 0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    /* 0x68 */ 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    /* 0x70 */ 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    /* 0x78 */ 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* TS 23.038 6.2.1.1: the characters reached through 0x1B. 0x0D (CR2) and 0x1B (SS2) are
 * reserved control codes with no character and are handled in the decoder. */
static const struct {
    uint8_t septet;
    uint16_t cp;
} gsm7_ext[] = {
    {0x0A, 0x000C}, /* form feed (page break) */
    {0x14, 0x005E}, /* ^ */
    {0x28, 0x007B}, /* { */
    {0x29, 0x007D}, /* } */
    {0x2F, 0x005C}, /* \ */
    {0x3C, 0x005B}, /* [ */
    {0x3D, 0x007E}, /* ~ */
    {0x3E, 0x005D}, /* ] */
    {0x40, 0x007C}, /* | */
    {0x65, 0x20AC}, /* € */
};
#define GSM7_EXT_COUNT (sizeof(gsm7_ext) / sizeof(gsm7_ext[0]))

/* The two tables above read backwards, for the encoder: every character that is not plain ASCII
 * at its own septet, sorted by code point (a binary search: counting a screen or an SMS must not
 * scan 138 entries per character). units is 1 (basic) or 2 (escape + septet). test_smpp_text
 * checks it against the tables for every code point (decode of every septet and escape pair). */
static const struct {
    uint16_t cp;
    uint8_t septet;
    uint8_t units;
} gsm7_rev[] = {
    {0x000C, 0x0A, 2}, {0x0024, 0x02, 1}, {0x0040, 0x00, 1}, {0x005B, 0x3C, 2}, {0x005C, 0x2F, 2},
    {0x005D, 0x3E, 2}, {0x005E, 0x14, 2}, {0x005F, 0x11, 1}, {0x007B, 0x28, 2}, {0x007C, 0x40, 2},
    {0x007D, 0x29, 2}, {0x007E, 0x3D, 2}, {0x00A1, 0x40, 1}, {0x00A3, 0x01, 1}, {0x00A4, 0x24, 1},
    {0x00A5, 0x03, 1}, {0x00A7, 0x5F, 1}, {0x00BF, 0x60, 1}, {0x00C4, 0x5B, 1}, {0x00C5, 0x0E, 1},
    {0x00C6, 0x1C, 1}, {0x00C7, 0x09, 1}, {0x00C9, 0x1F, 1}, {0x00D1, 0x5D, 1}, {0x00D6, 0x5C, 1},
    {0x00D8, 0x0B, 1}, {0x00DC, 0x5E, 1}, {0x00DF, 0x1E, 1}, {0x00E0, 0x7F, 1}, {0x00E4, 0x7B, 1},
    {0x00E5, 0x0F, 1}, {0x00E6, 0x1D, 1}, {0x00E8, 0x04, 1}, {0x00E9, 0x05, 1}, {0x00EC, 0x07, 1},
    {0x00F1, 0x7D, 1}, {0x00F2, 0x08, 1}, {0x00F6, 0x7C, 1}, {0x00F8, 0x0C, 1}, {0x00F9, 0x06, 1},
    {0x00FC, 0x7E, 1}, {0x0393, 0x13, 1}, {0x0394, 0x10, 1}, {0x0398, 0x19, 1}, {0x039B, 0x14, 1},
    {0x039E, 0x1A, 1}, {0x03A0, 0x16, 1}, {0x03A3, 0x18, 1}, {0x03A6, 0x12, 1}, {0x03A8, 0x17, 1},
    {0x03A9, 0x15, 1}, {0x20AC, 0x65, 2},
};
#define GSM7_REV_COUNT (sizeof(gsm7_rev) / sizeof(gsm7_rev[0]))

void smpp_text_opts_defaults(struct smpp_text_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->dcs_gsm7 = 0x00;
    opts->dcs_ucs2 = 0x08;
    opts->ucs2_replacement = '?';
    opts->ucs2_surrogates = false;
}

static const struct smpp_text_opts *opts_or_default(const struct smpp_text_opts *opts,
                                                    struct smpp_text_opts *tmp)
{
    if (opts)
        return opts;
    smpp_text_opts_defaults(tmp);
    return tmp;
}

static bool is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

static uint16_t ucs2_replacement(const struct smpp_text_opts *opts)
{
    uint16_t r = opts->ucs2_replacement;
    return (r == 0 || is_surrogate(r)) ? (uint16_t)'?' : r;
}

/* ---------------------------------------------------------------- UTF-8 */

static bool in_range(uint8_t b, uint8_t lo, uint8_t hi)
{
    return b >= lo && b <= hi;
}

uint32_t smpp_text_utf8_next(const char *s, size_t len, size_t *adv)
{
    const uint8_t *p = (const uint8_t *)s;
    uint8_t b0 = p[0];
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte (RFC 3629 table) */
    size_t need;
    uint32_t cp;

    *adv = 1;
    if (b0 < 0x80)
        return b0;
    if (in_range(b0, 0xC2, 0xDF)) {
        need = 1;
        cp = b0 & 0x1Fu;
    } else if (in_range(b0, 0xE0, 0xEF)) {
        need = 2;
        cp = b0 & 0x0Fu;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (in_range(b0, 0xF0, 0xF4)) {
        need = 3;
        cp = b0 & 0x07u;
        if (b0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (b0 == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        return SMPP_TEXT_REPLACEMENT; /* continuation byte, C0/C1, F5..FF */
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= len)
            return SMPP_TEXT_REPLACEMENT; /* truncated: consume what was valid so far */
        uint8_t b = p[i];
        if (i == 1 ? !in_range(b, lo, hi) : !in_range(b, 0x80, 0xBF))
            return SMPP_TEXT_REPLACEMENT; /* b may start the next character: not consumed */
        cp = (cp << 6) | (b & 0x3Fu);
        *adv = i + 1;
    }
    return cp;
}

size_t smpp_text_utf8_put(uint32_t cp, char *out)
{
    uint8_t *o = (uint8_t *)out;

    if (cp > 0x10FFFF || is_surrogate(cp))
        cp = SMPP_TEXT_REPLACEMENT;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---------------------------------------------------------------- per character */

/* GSM septet(s) for cp: returns 1 (basic, *sept), 2 (extension: escape + *sept) or -1. */
static int gsm7_lookup(uint32_t cp, uint8_t *sept)
{
    size_t lo = 0, hi = GSM7_REV_COUNT;

    if (cp < 0x80 && gsm7_basic[cp] == cp && cp != 0x1B) {
        *sept = (uint8_t)cp; /* fast path: most of printable ASCII maps to itself */
        return 1;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gsm7_rev[mid].cp == cp) {
            *sept = gsm7_rev[mid].septet;
            return gsm7_rev[mid].units;
        }
        if (gsm7_rev[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int smpp_text_gsm7_cost(uint32_t cp)
{
    uint8_t s;
    return gsm7_lookup(cp, &s);
}

int smpp_text_ucs2_cost(uint32_t cp, const struct smpp_text_opts *opts)
{
    struct smpp_text_opts tmp;
    opts = opts_or_default(opts, &tmp);
    return (cp > 0xFFFF && opts->ucs2_surrogates) ? 2 : 1;
}

int smpp_text_char_cost(enum smpp_text_coding coding, uint32_t cp,
                        const struct smpp_text_opts *opts)
{
    switch (coding) {
    case SMPP_TEXT_GSM7:
        return smpp_text_gsm7_cost(cp);
    case SMPP_TEXT_UCS2:
        return smpp_text_ucs2_cost(cp, opts);
    case SMPP_TEXT_LATIN1:
        return cp <= 0xFF ? 1 : -1;
    }
    return -1;
}

/*
 * Appends one character in coding at out[*pos], within cap. Returns 0, -ENOSPC (nothing written:
 * the character is all or nothing, so escape and surrogate pairs are never halved) or -EILSEQ.
 */
static int put_char(enum smpp_text_coding coding, uint32_t cp, const struct smpp_text_opts *opts,
                    uint8_t *out, size_t cap, size_t *pos)
{
    size_t p = *pos;

    switch (coding) {
    case SMPP_TEXT_GSM7: {
        uint8_t sept;
        int n = gsm7_lookup(cp, &sept);
        if (n < 0)
            return -EILSEQ;
        if (cap - p < (size_t)n)
            return -ENOSPC;
        if (n == 2)
            out[p++] = SMPP_TEXT_GSM7_ESC;
        out[p++] = sept;
        break;
    }
    case SMPP_TEXT_UCS2:
        if (cp > 0xFFFF && opts->ucs2_surrogates) {
            uint32_t v = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xD800 | (v >> 10)), lo = (uint16_t)(0xDC00 | (v & 0x3FF));
            if (cap - p < 4)
                return -ENOSPC;
            out[p++] = (uint8_t)(hi >> 8);
            out[p++] = (uint8_t)hi;
            out[p++] = (uint8_t)(lo >> 8);
            out[p++] = (uint8_t)lo;
        } else {
            uint16_t u = cp > 0xFFFF ? ucs2_replacement(opts) : (uint16_t)cp;
            if (cap - p < 2)
                return -ENOSPC;
            out[p++] = (uint8_t)(u >> 8);
            out[p++] = (uint8_t)u;
        }
        break;
    case SMPP_TEXT_LATIN1:
        if (cp > 0xFF)
            return -EILSEQ;
        if (cap - p < 1)
            return -ENOSPC;
        out[p++] = (uint8_t)cp;
        break;
    default:
        return -EINVAL;
    }
    *pos = p;
    return 0;
}

/* ---------------------------------------------------------------- strings */

ssize_t smpp_text_units(enum smpp_text_coding coding, const char *utf8, size_t len,
                        const struct smpp_text_opts *opts)
{
    struct smpp_text_opts tmp;
    size_t total = 0, i = 0, adv;

    if (!utf8 && len)
        return -1;
    opts = opts_or_default(opts, &tmp);
    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(utf8 + i, len - i, &adv);
        int c = smpp_text_char_cost(coding, cp, opts);
        if (c < 0)
            return -1;
        total += (size_t)c;
        i += adv;
    }
    return (ssize_t)total;
}

ssize_t smpp_text_gsm7_len(const char *utf8, size_t len)
{
    return smpp_text_units(SMPP_TEXT_GSM7, utf8, len, NULL);
}

size_t smpp_text_ucs2_len(const char *utf8, size_t len, const struct smpp_text_opts *opts)
{
    ssize_t n = smpp_text_units(SMPP_TEXT_UCS2, utf8, len, opts);
    return n < 0 ? 0 : (size_t)n; /* UCS-2 takes every character; < 0 only for NULL input */
}

uint8_t smpp_text_data_coding(enum smpp_text_coding coding, const struct smpp_text_opts *opts)
{
    struct smpp_text_opts tmp;
    opts = opts_or_default(opts, &tmp);
    switch (coding) {
    case SMPP_TEXT_GSM7:
        return opts->dcs_gsm7;
    case SMPP_TEXT_UCS2:
        return opts->dcs_ucs2;
    case SMPP_TEXT_LATIN1:
        return 0x03;
    }
    return 0x03;
}

enum smpp_text_coding smpp_text_coding_from_dcs(uint8_t dcs, const struct smpp_text_opts *opts)
{
    struct smpp_text_opts tmp;
    opts = opts_or_default(opts, &tmp);

    /* The carrier's own configured values win over the generic reading below. */
    if (dcs == opts->dcs_ucs2)
        return SMPP_TEXT_UCS2;
    if (dcs == opts->dcs_gsm7)
        return SMPP_TEXT_GSM7;
    switch (dcs) {
    case 0x00:
    case 0x01: /* SMPP IA5; USSD gateways use it for the GSM default alphabet */
        return SMPP_TEXT_GSM7;
    case 0x08:
        return SMPP_TEXT_UCS2;
    case 0x02: /* octet unspecified */
    case 0x03: /* Latin-1 */
    case 0x04: /* octet unspecified */
        return SMPP_TEXT_LATIN1;
    default:
        break;
    }
    if ((dcs & 0xF0) == 0xF0) /* TS 23.038 4: data coding/message class, bit 2 = 8-bit data */
        return (dcs & 0x04) ? SMPP_TEXT_LATIN1 : SMPP_TEXT_GSM7;
    if ((dcs & 0xC0) == 0x00 && !(dcs & 0x20)) { /* general data coding, uncompressed */
        switch ((dcs >> 2) & 0x03) {
        case 0:
            return SMPP_TEXT_GSM7;
        case 2:
            return SMPP_TEXT_UCS2;
        default:
            return SMPP_TEXT_LATIN1;
        }
    }
    return SMPP_TEXT_LATIN1; /* unknown: every octet maps, nothing is lost or misparsed */
}

enum smpp_text_coding smpp_text_choose(const char *utf8, size_t len,
                                       const struct smpp_text_opts *opts, uint8_t *data_coding)
{
    enum smpp_text_coding c = smpp_text_gsm7_len(utf8, len) >= 0 ? SMPP_TEXT_GSM7 : SMPP_TEXT_UCS2;
    if (data_coding)
        *data_coding = smpp_text_data_coding(c, opts);
    return c;
}

int smpp_text_encode(const char *utf8, size_t len, enum smpp_text_coding coding,
                     const struct smpp_text_opts *opts, uint8_t *out, size_t cap, size_t *out_len)
{
    struct smpp_text_opts tmp;
    size_t i = 0, pos = 0, adv;
    int rc = 0;

    if ((!utf8 && len) || (!out && cap) || !out_len)
        return -EINVAL;
    if (coding != SMPP_TEXT_GSM7 && coding != SMPP_TEXT_UCS2 && coding != SMPP_TEXT_LATIN1)
        return -EINVAL;
    opts = opts_or_default(opts, &tmp);
    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(utf8 + i, len - i, &adv);
        rc = put_char(coding, cp, opts, out, cap, &pos);
        if (rc < 0)
            break;
        i += adv;
    }
    *out_len = pos;
    return rc;
}

/* Appends cp as UTF-8 to out, keeping room for the final NUL. */
static int put_utf8(uint32_t cp, char *out, size_t cap, size_t *pos)
{
    char tmp[4];
    size_t n;

    if (cp == 0)
        cp = SMPP_TEXT_REPLACEMENT;
    n = smpp_text_utf8_put(cp, tmp);
    if (cap - 1 - *pos < n)
        return -ENOSPC;
    memcpy(out + *pos, tmp, n);
    *pos += n;
    return 0;
}

static uint32_t gsm7_ext_char(uint8_t sept)
{
    for (unsigned i = 0; i < GSM7_EXT_COUNT; i++)
        if (gsm7_ext[i].septet == sept)
            return gsm7_ext[i].cp;
    return 0;
}

/* Reads the next GSM-7 character at in[*i]; advances *i. */
static uint32_t gsm7_next(const uint8_t *in, size_t len, size_t *i)
{
    uint8_t b = in[(*i)++];

    if (b > 0x7F)
        return SMPP_TEXT_REPLACEMENT; /* not a septet: unpacked GSM never sets bit 7 */
    if (b != SMPP_TEXT_GSM7_ESC)
        return gsm7_basic[b];
    if (*i >= len)
        return ' '; /* a lone final escape: show a space, as for an unknown extension */
    b = in[(*i)++];
    if (b > 0x7F)
        return SMPP_TEXT_REPLACEMENT;
    if (b == SMPP_TEXT_GSM7_ESC)
        return ' '; /* SS2: reserved for another extension table; TS 23.038 says show a space */
    uint32_t cp = gsm7_ext_char(b);
    /* TS 23.038 6.2.1.1: an unknown extension code shows the basic-table character instead. */
    return cp ? cp : gsm7_basic[b];
}

static uint32_t ucs2_next(const uint8_t *in, size_t len, size_t *i)
{
    if (len - *i < 2) {
        *i = len;
        return SMPP_TEXT_REPLACEMENT; /* odd final octet */
    }
    uint32_t u = (uint32_t)in[*i] << 8 | in[*i + 1];
    *i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && len - *i >= 2) {
        uint32_t lo = (uint32_t)in[*i] << 8 | in[*i + 1];
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *i += 2;
            return 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
    }
    return is_surrogate(u) ? SMPP_TEXT_REPLACEMENT : u;
}

int smpp_text_decode(const uint8_t *in, size_t len, uint8_t data_coding,
                     const struct smpp_text_opts *opts, char *out, size_t cap, size_t *out_len)
{
    enum smpp_text_coding coding;
    size_t i = 0, pos = 0;
    int rc = 0;

    if ((!in && len) || !out || cap == 0 || !out_len)
        return -EINVAL;
    coding = smpp_text_coding_from_dcs(data_coding, opts);
    while (i < len) {
        uint32_t cp;
        switch (coding) {
        case SMPP_TEXT_GSM7:
            cp = gsm7_next(in, len, &i);
            break;
        case SMPP_TEXT_UCS2:
            cp = ucs2_next(in, len, &i);
            break;
        default:
            cp = in[i++];
            break;
        }
        rc = put_utf8(cp, out, cap, &pos);
        if (rc < 0)
            break;
    }
    out[pos] = '\0';
    *out_len = pos;
    return rc;
}

/* ---------------------------------------------------------------- SMS */

static void udh_write(uint8_t *d, uint8_t ref, uint8_t seq)
{
    d[0] = 0x05; /* UDHL */
    d[1] = 0x00; /* IEI: concatenated short messages, 8-bit reference (TS 23.040 9.2.3.24.1) */
    d[2] = 0x03; /* IEDL */
    d[3] = ref;
    d[4] = 0; /* total: patched once known */
    d[5] = seq;
}

int smpp_text_sms_split(const char *utf8, size_t len, const struct smpp_text_opts *opts,
                        uint8_t ref, struct smpp_text_sms_part *parts, size_t max_parts,
                        size_t *nparts)
{
    struct smpp_text_opts tmp;
    enum smpp_text_coding coding;
    uint8_t dcs;
    size_t units, single, per_part, n = 0, i = 0, adv, pos = 0, used = 0;
    int rc = 0;

    if ((!utf8 && len) || !parts || !nparts)
        return -EINVAL;
    opts = opts_or_default(opts, &tmp);
    coding = smpp_text_choose(utf8, len, opts, &dcs);
    units = (size_t)smpp_text_units(coding, utf8, len, opts);
    single = coding == SMPP_TEXT_GSM7 ? SMPP_TEXT_SMS_GSM7_SINGLE : SMPP_TEXT_SMS_UCS2_SINGLE;
    per_part = coding == SMPP_TEXT_GSM7 ? SMPP_TEXT_SMS_GSM7_PART : SMPP_TEXT_SMS_UCS2_PART;
    if (max_parts > SMPP_TEXT_SMS_MAX_PARTS)
        max_parts = SMPP_TEXT_SMS_MAX_PARTS;
    *nparts = 0;
    if (max_parts == 0)
        return -E2BIG;

    if (units <= single) {
        struct smpp_text_sms_part *p = &parts[0];
        size_t olen;
        memset(p, 0, sizeof(*p));
        p->coding = coding;
        p->data_coding = dcs;
        rc = smpp_text_encode(utf8, len, coding, opts, p->data, sizeof(p->data), &olen);
        if (rc < 0)
            return rc; /* cannot happen: the coding was chosen to fit, 160 units fit data */
        p->len = (uint16_t)olen;
        p->units = (uint16_t)units;
        *nparts = 1;
        return 0;
    }

    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(utf8 + i, len - i, &adv);
        size_t cost = (size_t)smpp_text_char_cost(coding, cp, opts);
        if (n == 0 || used + cost > per_part) {
            /* A character never straddles two parts: an escape pair or a surrogate pair that
             * would end past per_part starts the next part instead. */
            if (n > 0)
                parts[n - 1].len = (uint16_t)pos;
            if (n == max_parts)
                return -E2BIG;
            struct smpp_text_sms_part *p = &parts[n++];
            memset(p, 0, sizeof(*p));
            p->esm_class = 0x40; /* UDHI: short_message starts with a user data header */
            p->coding = coding;
            p->data_coding = dcs;
            udh_write(p->data, ref, (uint8_t)n);
            pos = SMPP_TEXT_SMS_UDH_LEN;
            used = 0;
        }
        rc = put_char(coding, cp, opts, parts[n - 1].data, sizeof(parts[n - 1].data), &pos);
        if (rc < 0)
            return rc; /* cannot happen: 6 + 153 septets or 6 + 134 octets fit data */
        used += cost;
        parts[n - 1].units = (uint16_t)used;
        i += adv;
    }
    parts[n - 1].len = (uint16_t)pos;
    for (size_t k = 0; k < n; k++)
        parts[k].data[4] = (uint8_t)n;
    *nparts = n;
    return 0;
}
