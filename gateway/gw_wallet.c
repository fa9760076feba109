/*
 * gw_wallet.c - the wallet view behind the USSD "my points" and "history" screens and the balance
 * SMS (see gw_wallet.h). Owner: the USSD-wiring engineer (issue 3).
 *
 * Redis replies are untrusted (another writer, a manual HSET): numbers are parsed strictly and a
 * field that does not parse is ignored rather than shown; texts keep only characters that cannot
 * break a screen line. Nothing here allocates.
 */
#include "gw_wallet.h"

#include "gw_hist.h"
#include "gw_lots.h"

#include "gw_days.h"
#include "gw_zone.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* ---------------------------------------------------------------- parsing helpers */

/* Strict signed decimal of at most 18 digits (no overflow possible). */
static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    int64_t v = 0;
    size_t i = 0;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 18)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

int32_t gw_wallet_add_months(int32_t day, uint32_t months)
{
    if (months > 1200)
        return 0;
    return gw_days_add_months(day, (int32_t)months);
}

static void copy_clean(char *dst, size_t cap, const char *src, size_t n, const char *allowed)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (strchr(allowed, src[i]) && src[i] != '\0')
            dst[k++] = src[i];
    }
    dst[k] = '\0';
}

/* ---------------------------------------------------------------- the view */

void gw_wallet_view_parse(struct gw_wallet_view *v, const struct redisReply *hgetall,
                          const struct redisReply *lrange, uint32_t validity_months, int32_t today)
{
    const struct gw_validity val = {0, validity_months};

    gw_wallet_view_parse_validity(v, hgetall, lrange, &val, today);
}

/* The next expiry: lot's points count when its last valid day is the earliest today or later. */
static void expiring_add(struct gw_wallet_view *v, const struct gw_validity *validity,
                         int32_t today, const struct gw_lot *lot)
{
    int32_t exp;

    if (gw_validity_never(validity))
        return;
    exp = gw_validity_last_day(validity, lot->day);
    if (lot->points <= 0 || exp == 0 || exp < today)
        return;
    if (v->expiring_day == 0 || exp < v->expiring_day) {
        v->expiring_day = exp;
        v->expiring_points = lot->points;
    } else if (exp == v->expiring_day) {
        v->expiring_points += lot->points;
    }
}

void gw_wallet_view_parse_validity(struct gw_wallet_view *v, const struct redisReply *hgetall,
                                   const struct redisReply *lrange,
                                   const struct gw_validity *validity, int32_t today)
{
    const char *e = NULL; /* the packed history E (gw_hist.h) */
    const char *lots = NULL; /* the packed lots L (gw_lots.h) */
    size_t elen = 0, llen = 0;
    struct gw_lot lot;

    memset(v, 0, sizeof(*v));
    if (hgetall && hgetall->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < hgetall->elements; i += 2) {
            const redisReply *k = hgetall->element[i], *val = hgetall->element[i + 1];
            int64_t n;

            if (k->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING)
                continue;
            if (k->len == 3 && memcmp(k->str, "bal", 3) == 0) {
                if (parse_i64(val->str, val->len, &n)) {
                    v->balance = n;
                    v->exists = true;
                }
            } else if (k->len == 4 && memcmp(k->str, "tier", 4) == 0) {
                /* tier names come from the loyalty table: letters, digits, a few marks */
                copy_clean(v->tier, sizeof(v->tier), val->str, val->len,
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-+.");
            } else if (k->len == 2 && memcmp(k->str, "pp", 2) == 0) {
                /* "YYYYMMDD:<incident>" (admin/lua/pass.lua) */
                int64_t until;
                if (val->len > 9 && val->str[8] == ':' && parse_i64(val->str, 8, &until) &&
                    gw_days_valid((int32_t)until))
                    v->pass_until = (int32_t)until;
            } else if (k->len == 1 && k->str[0] == 'E') {
                e = val->str;
                elen = val->len;
            } else if (k->len == 4 && memcmp(k->str, "lang", 4) == 0) {
                if (val->len >= 2 && val->len <= 3)
                    copy_clean(v->lang, sizeof(v->lang), val->str, val->len,
                               "abcdefghijklmnopqrstuvwxyz");
            } else if (k->len == 1 && k->str[0] == 'L') {
                lots = val->str;
                llen = val->len;
            } else if (gw_lots_old_field(k->str, k->len, val->str, val->len, &lot)) {
                expiring_add(v, validity, today, &lot); /* a lot of the release before */
            }
        }
    }
    /* the lots of L (gw_lots.h; a malformed field is ignored) */
    if (lots && gw_lots_valid(lots, llen)) {
        size_t pos = 0;
        while (gw_lots_next(lots, llen, &pos, &lot))
            expiring_add(v, validity, today, &lot);
    }
    /* the newest of E and of the list of the release before (LRANGE lg:{M}:h), merged */
    if (lrange && lrange->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < lrange->elements && v->n_history < USSD_HISTORY_MAX; i++) {
            const redisReply *l = lrange->element[i];
            if (l->type != REDIS_REPLY_STRING)
                continue;
            size_t n = l->len < GW_WALLET_HISTORY_RAW - 1 ? l->len : GW_WALLET_HISTORY_RAW - 1;
            memcpy(v->history[v->n_history], l->str, n);
            v->history[v->n_history][n] = '\0';
            v->n_history++;
        }
    }
    gw_wallet_view_merge_e(v, e, elen);
}

void gw_wallet_view_merge_e(struct gw_wallet_view *v, const void *e, size_t elen)
{
    char legacy[USSD_HISTORY_MAX][GW_WALLET_HISTORY_RAW];
    const char *lp[USSD_HISTORY_MAX];
    size_t ll[USSD_HISTORY_MAX], n = v->n_history < USSD_HISTORY_MAX ? v->n_history : 0;

    if (!e || gw_hist_count(elen) == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        memcpy(legacy[i], v->history[i], GW_WALLET_HISTORY_RAW);
        lp[i] = legacy[i];
        ll[i] = strnlen(legacy[i], GW_WALLET_HISTORY_RAW);
    }
    /* the screen shows kind and points: no rule texts, no notes */
    v->n_history = gw_hist_merge(e, elen, NULL, 0, lp, ll, n, NULL, NULL, v->history[0],
                                 GW_WALLET_HISTORY_RAW, USSD_HISTORY_MAX);
}

/* ---------------------------------------------------------------- history lines */

struct reason {
    const char *kind;
    const char *text[4]; /* ar, fr, en, fa */
};

/* The reasons of the ledger's kinds and of a redemption, in the four launch languages. A kind
 * the table does not know is shown as the ledger wrote it. */
static const struct reason reasons[] = {
    {"TOPUP", {"تعبئة", "Recharge", "Top-up", "شارژ"}},
    {"BILL", {"فاتورة", "Facture", "Bill", "قبض"}},
    {"USAGE", {"استهلاك", "Consommation", "Usage", "مصرف"}},
    {"REVERSAL", {"إلغاء", "Annulation", "Reversal", "ابطال"}},
    {"REDEEM", {"هدية", "Cadeau", "Gift", "هدیه"}},
    {"REFUND", {"استرجاع", "Remboursement", "Refund", "بازپرداخت"}},
};

static int lang_index(const char *lang)
{
    static const char *const codes[4] = {"ar", "fr", "en", "fa"};

    for (int i = 0; i < 4; i++)
        if (lang && strcmp(lang, codes[i]) == 0)
            return i;
    return -1;
}

int gw_wallet_history_line(const char *raw, const char *lang, char *out, size_t cap)
{
    const char *f[5];
    size_t fl[5];
    const char *p = raw;
    char kind[24], pts[24];
    const char *why;
    int64_t at;
    struct cat_tm tm;
    int li = lang_index(lang);

    if (!raw || !out || cap == 0)
        return -EINVAL;
    /* at|KIND|ref|points|balance|note: the first five fields never hold '|' */
    for (int i = 0; i < 5; i++) {
        const char *bar = strchr(p, '|');
        if (!bar)
            return -EINVAL;
        f[i] = p;
        fl[i] = (size_t)(bar - p);
        p = bar + 1;
    }
    if (!parse_i64(f[0], fl[0], &at) || at < 0 || at > INT64_C(253402300799))
        return -EINVAL;
    copy_clean(kind, sizeof(kind), f[1], fl[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    copy_clean(pts, sizeof(pts), f[3], fl[3], "+-0123456789");
    if (!kind[0] || !pts[0])
        return -EINVAL;
    why = kind;
    for (size_t i = 0; li >= 0 && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strcmp(kind, reasons[i].kind) == 0)
            why = reasons[i].text[li];
    if (gw_zone_localtime(at, &tm) < 0)
        return -EINVAL;
    /* points held by a velocity cap are not in the balance: the member reads so */
    static const char *const held[4] = {"محجوزة", "retenus", "held", "معلق"};
    bool is_held = strstr(p, GW_HIST_NOTE_HELD) != NULL;
    if ((size_t)snprintf(out, cap, "%02d/%02d %s %s%s%s%s", tm.day, tm.mon, pts, why,
                         is_held ? " (" : "", is_held ? held[li >= 0 ? li : 2] : "",
                         is_held ? ")" : "") >= cap)
        return -ENOSPC;
    return 0;
}

/* ---------------------------------------------------------------- the engine's getters */

static int op_balance(void *arg, int64_t *points)
{
    const struct gw_wallet_view *v = arg;

    *points = v->balance;
    return 0;
}

static int op_expiring(void *arg, const char *lang, int64_t *points, char *date, size_t cap)
{
    const struct gw_wallet_view *v = arg;
    int32_t d = v->expiring_day;

    (void)lang;
    *points = v->expiring_points;
    if (v->expiring_points <= 0 || d == 0) {
        *points = 0;
        return 0;
    }
    /* dd/mm/yyyy reads the same in the four launch languages */
    snprintf(date, cap, "%02d/%02d/%04d", (int)(d % 100), (int)(d / 100 % 100), (int)(d / 10000));
    return 0;
}

static int op_tier(void *arg, const char *lang, char *out, size_t cap)
{
    const struct gw_wallet_view *v = arg;

    (void)lang;
    snprintf(out, cap, "%s", v->tier);
    return 0;
}

static int op_history(void *arg, const char *lang, char lines[][USSD_HISTORY_LINE_MAX], size_t max,
                      size_t *n)
{
    const struct gw_wallet_view *v = arg;
    size_t k = 0;

    for (size_t i = 0; i < v->n_history && k < max; i++) {
        if (gw_wallet_history_line(v->history[i], lang, lines[k], USSD_HISTORY_LINE_MAX) == 0)
            k++;
    }
    *n = k;
    return 0;
}

static int op_language(void *arg, char *out, size_t cap)
{
    const struct gw_wallet_view *v = arg;

    snprintf(out, cap, "%s", v->lang);
    return 0;
}

const struct ussd_subscriber_ops gw_wallet_ussd_ops = {
    .balance = op_balance,
    .expiring = op_expiring,
    .tier = op_tier,
    .history = op_history,
    .language = op_language,
};
