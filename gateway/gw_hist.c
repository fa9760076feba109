/*
 * gw_hist.c - decoding the wallet's packed history E and merging it with the history list of the
 * release before (gw_hist.h; layout in docs/data-model.md, section 2).
 */
#include "gw_hist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gw_days.h"

/* the kinds' names as the history list of the release before wrote them */
static const char *const kind_names[] = {"OTHER",  "TOPUP",  "BILL",   "USAGE",  "REVERSAL",
                                         "REDEEM", "REFUND", "ADJUST", "EXPIRE", "BONUS",
                                         "XFER",   "BLOCK",  "UNBLOCK"};

size_t gw_hist_count(size_t len)
{
    return len % GW_HIST_REC == 0 ? len / GW_HIST_REC : 0;
}

const char *gw_hist_kind_name(uint8_t kind)
{
    return kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : kind_names[0];
}

int gw_hist_get(const void *e, size_t len, size_t i, struct gw_hist_rec *out)
{
    size_t n = gw_hist_count(len);
    const uint8_t *p;

    if (!e || !out || i >= n)
        return -EINVAL;
    p = (const uint8_t *)e + (n - 1 - i) * GW_HIST_REC;
    memcpy(out->dig, p, 6);
    /* big-endian, as Lua's struct.pack('>...') writes it */
    out->day = gw_days_from_number((int32_t)((uint32_t)p[6] << 8 | p[7]));
    out->kind = p[8];
    out->st = (char)p[9];
    out->points = (int32_t)((uint32_t)p[10] << 24 | (uint32_t)p[11] << 16 | (uint32_t)p[12] << 8 |
                            (uint32_t)p[13]);
    out->rule = (uint16_t)((unsigned)p[14] << 8 | p[15]);
    return 0;
}

/* Unix time of the record's day at noon UTC: the day a screen shows in any zone within 12 h. */
static int64_t rec_at(const struct gw_hist_rec *r)
{
    return (int64_t)gw_days_number(r->day) * 86400 + 43200;
}

int gw_hist_note(const void *n, size_t nlen, const struct gw_hist_rec *r, char *out, size_t cap)
{
    const uint8_t *p = n;
    size_t i = 0;

    if (!out || cap == 0)
        return -EINVAL;
    out[0] = '\0';
    if (!p || !r)
        return -ENOENT;
    /* entries: 6 bytes of digest, the kind, the text's length (1..255), the text */
    while (i + 8 <= nlen) {
        size_t len = p[i + 7];
        if (len == 0 || i + 8 + len > nlen)
            return -EINVAL; /* malformed from here: the rest is not read */
        if (memcmp(p + i, r->dig, 6) == 0 && p[i + 6] == r->kind) {
            size_t k = 0;
            /* untrusted text: no control characters */
            for (size_t j = 0; j < len && k + 1 < cap; j++) {
                char c = (char)p[i + 8 + j];
                out[k++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
            }
            out[k] = '\0';
            return (int)k;
        }
        i += 8 + len;
    }
    return -ENOENT;
}

int gw_hist_line(const struct gw_hist_rec *r, const char *rule, const char *more, char *out,
                 size_t cap)
{
    char note[512];
    size_t k = 0;
    const char *extra = NULL;

    if (!r || !out || cap == 0)
        return -EINVAL;
    /* the rule text and the note are untrusted: no control characters */
    for (const char *s = rule ? rule : ""; *s && k + 1 < sizeof(note); s++)
        note[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    for (const char *s = more ? more : ""; *s && k + 1 < sizeof(note); s++)
        note[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    note[k] = '\0';
    if (r->st == 'v')
        extra = "reversed before it arrived, no credit";
    else if (r->st == 'h')
        extra = GW_HIST_NOTE_HELD;
    else if (r->st == 'k')
        extra = "held, then cancelled by staff: not credited";
    else if (r->kind == GW_HIST_REVERSAL && r->points == 0)
        extra = "no effect";
    else if (r->kind == GW_HIST_EXPIRE)
        extra = "expired";
    if (extra)
        snprintf(note + k, sizeof(note) - k, "%s%s", k ? "; " : "", extra);
    /* a spend of 0 points (a perk priced 0) reads "-0" as the list wrote it */
    const char *sign = r->points > 0 || (r->points == 0 && r->kind != GW_HIST_REDEEM) ? "+"
                       : r->points == 0                                               ? "-"
                                                                                      : "";
    int n = snprintf(out, cap, "%" PRId64 "|%s|#%02x%02x%02x%02x%02x%02x|%s%" PRId32 "||%s",
                     rec_at(r), gw_hist_kind_name(r->kind), r->dig[0], r->dig[1], r->dig[2],
                     r->dig[3], r->dig[4], r->dig[5], sign, r->points, note);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

/* The leading time of a legacy line, or -1. */
static int64_t legacy_at(const char *s, size_t n)
{
    int64_t v = 0;
    size_t i = 0;

    for (; i < n && i < 12 && s[i] >= '0' && s[i] <= '9'; i++)
        v = v * 10 + (s[i] - '0');
    return i > 0 && i < n && s[i] == '|' ? v : -1;
}

size_t gw_hist_merge(const void *e, size_t elen, const void *n, size_t nlen,
                     const char *const *legacy, const size_t *legacy_len, size_t nlegacy,
                     gw_hist_rule_fn rule, void *rarg, char *out, size_t cap, size_t max)
{
    size_t ne = gw_hist_count(elen), ie = 0, il = 0, k = 0;

    if (!out || cap == 0)
        return 0;
    if (!e)
        ne = 0;
    if (!legacy || !legacy_len)
        nlegacy = 0;
    while (k < max && (ie < ne || il < nlegacy)) {
        struct gw_hist_rec r;
        int64_t at_l = -1;

        if (il < nlegacy && (at_l = legacy_at(legacy[il], legacy_len[il])) < 0) {
            il++; /* unreadable: skipped */
            continue;
        }
        /* a record only has its day: on the same day the list's line goes first (it was
         * written by redemption, staff or block, which write the list, or before the upgrade) */
        if (ie < ne && gw_hist_get(e, elen, ie, &r) == 0 && r.st == 'p') {
            ie++; /* a ref a REVERSAL named before it arrived: remembered, not a movement */
            continue;
        }
        if (ie < ne && gw_hist_get(e, elen, ie, &r) == 0 &&
            (il >= nlegacy || gw_days_number(r.day) > at_l / 86400)) {
            const char *text = r.rule && rule ? rule(rarg, r.rule) : NULL;
            char more[256];
            if (gw_hist_line(&r, text,
                             gw_hist_note(n, nlen, &r, more, sizeof(more)) > 0 ? more : NULL,
                             out + k * cap, cap) == 0)
                k++;
            ie++;
        } else if (il < nlegacy) {
            size_t len = legacy_len[il] < cap - 1 ? legacy_len[il] : cap - 1;
            memcpy(out + k * cap, legacy[il], len);
            out[k * cap + len] = '\0';
            k++;
            il++;
        } else {
            ie++;
        }
    }
    return k;
}

size_t gw_hist_rule_ids(const void *e, size_t elen, size_t max, uint16_t *ids)
{
    size_t n = 0, ne = gw_hist_count(elen);
    struct gw_hist_rec r;

    for (size_t i = 0; i < ne && i < max; i++) {
        if (gw_hist_get(e, elen, i, &r) < 0 || r.rule == 0)
            continue;
        size_t j = 0;
        while (j < n && ids[j] != r.rule)
            j++;
        if (j == n)
            ids[n++] = r.rule;
    }
    return n;
}
