/*
 * gw_suggest.c - the suggestion box: ideas by SMS, ratings over USSD (gw_suggest.h).
 *
 * One idea or rating = one struct sg_req: the member's script (lua/suggest_member.lua, on the
 * member's slot: daily cap, thank-you once, saved language), then the append script
 * (lua/suggest_add.lua, on {sg}), then - for a first idea - the thank-you SMS. The two scripts
 * are on different slots, so two round trips; the member's count is taken first, so a Redis
 * failure between them loses at most one idea of today's cap (logged, counted as failed).
 * The request owns its copy of the text; it is freed in the last callback.
 */
#include "gw_suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_sms.h"

#define LOG_CAT "suggest"

extern const char gw_lua_suggest_member[], gw_lua_suggest_add[];
extern const size_t gw_lua_suggest_member_len, gw_lua_suggest_add_len;

struct gw_suggest {
    const struct gw_config *cfg;
    struct gw_redis *redis; /* NULL once detached */
    struct gw_sms *sms;
    struct ussd_menus *const *menus;
    int member_script, add_script;
    struct gw_suggest_stats stats;
};

struct sg_req {
    struct gw_suggest *g;
    bool idea;        /* an idea by SMS (else a rating) */
    bool thank;       /* the member's first idea: thank them once stored */
    unsigned rating;  /* 1..5, 0 = none */
    uint32_t item;    /* the redeemed item a rating is about, 0 = none */
    char to[21];      /* the sender as the SMSC wrote it (the thank-you's destination) */
    char digits[21];  /* MSISDN digits */
    char lang[8];     /* saved language, else the dialogue's or the guessed one */
    char node[USSD_NODE_ID_MAX];
    size_t len;
    char text[];      /* the cleaned idea, NUL-terminated ("" for a rating) */
};

/* ---------------------------------------------------------------- pure parts */

/* Length of the valid UTF-8 sequence at s[0..n) and its code point, 0 when invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static bool blank_cp(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF || c == 0x2028 || c == 0x2029;
}

size_t gw_suggest_clean(const char *in, size_t len, char *out, size_t cap, size_t max)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, n = 0;
    bool space = true; /* at the start: leading spaces are dropped */

    if (!out || cap == 0)
        return 0;
    if (max > cap - 1)
        max = cap - 1;
    while (in && i < len) {
        uint32_t cp;
        size_t l = utf8_next(s + i, len - i, &cp);
        if (l == 0) {
            i++; /* an invalid byte: dropped */
            continue;
        }
        if (cp == ' ' || blank_cp(cp)) {
            if (!space && n < max) {
                out[n++] = ' ';
                space = true;
            }
        } else {
            if (n + l > max)
                break;
            memcpy(out + n, s + i, l);
            n += l;
            space = false;
        }
        i += l;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return n;
}

const char *gw_suggest_guess_lang(const char *text, size_t len)
{
    static const char *const fr_words[] = {" le ",  " la ",   " les ",  " de ",   " des ",
                                           " du ",  " et ",   " pour ", " est ",  " une ",
                                           " avec ", " vous ", " merci"};
    const unsigned char *s = (const unsigned char *)text;
    bool arabic = false, fr = false;
    char low[512 + 2];
    size_t n = 0;

    for (size_t i = 0; text && i < len;) {
        uint32_t cp;
        size_t l = utf8_next(s + i, len - i, &cp);
        if (l == 0) {
            i++;
            continue;
        }
        /* Persian letters Arabic does not use: pe, tcheh, jeh, gaf, keheh, farsi yeh */
        if (cp == 0x067E || cp == 0x0686 || cp == 0x0698 || cp == 0x06AF || cp == 0x06A9 ||
            cp == 0x06CC)
            return "fa";
        if (cp >= 0x0600 && cp <= 0x06FF)
            arabic = true;
        if (cp == 0xE9 || cp == 0xE8 || cp == 0xEA || cp == 0xE0 || cp == 0xE7 || cp == 0xF9 ||
            cp == 0xEE || cp == 0xF4 || cp == 0xC9)
            fr = true;
        if (n == 0)
            low[n++] = ' ';
        if (n < sizeof(low) - 2 && cp < 0x80)
            low[n++] = (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
        i += l;
    }
    if (arabic)
        return "ar";
    low[n++] = ' ';
    low[n] = '\0';
    for (size_t k = 0; !fr && k < sizeof(fr_words) / sizeof(fr_words[0]); k++)
        fr = strstr(low, fr_words[k]) != NULL;
    return fr ? "fr" : "en";
}

int32_t gw_suggest_week(int32_t day)
{
    int32_t n = gw_days_number(day);

    if (n < 0)
        return 0;
    /* 1970-01-01 was a Thursday: (n + 3) % 7 is 0 on Mondays */
    return gw_days_from_number(n - (n + 3) % 7);
}

/* ---------------------------------------------------------------- the thank-you */

/* Built-in thank-you texts, for a menu file without sms.<lang>.suggest_thanks */
static const struct {
    const char *lang, *text;
} thanks_builtin[] = {
    {"ar", "نادي الوفاء: شكرا على اقتراحك! فريقنا يقرأ كل الأفكار."},
    {"fr", "Club Fidélité : merci pour votre idée ! Notre équipe lit toutes les suggestions."},
    {"en", "Loyalty Club: thank you for your idea! Our team reads every suggestion."},
    {"fa", "باشگاه وفاداری: از پیشنهاد شما سپاسگزاریم! تیم ما همه ایده‌ها را می‌خواند."},
};

static void thanks_sent(void *arg, int err)
{
    char mask[GW_MASK_LEN];
    char *to = arg;

    if (err < 0)
        gw_log(GW_LOG_NOTICE, LOG_CAT, "suggest{%s} thank-you SMS not delivered: %s",
               gw_mask_msisdn(to, mask), strerror(-err));
    free(to);
}

/* A transactional reply to the member's own SMS: sent at once through the link's TPS bucket,
 * like the balance and consent answers (quiet hours are for the messages we start). */
static void send_thanks(struct sg_req *q)
{
    struct gw_suggest *g = q->g;
    char text[1024], mask[GW_MASK_LEN];
    size_t len = 0;
    int rc = -ENOENT;

    gw_mask_msisdn(q->to, mask);
    if (!g->sms)
        return;
    if (*g->menus) {
        struct ussd_env env = {.cfg = &g->cfg->ussd, .menus = *g->menus};
        rc = ussd_engine_text(&env, q->lang, "suggest_thanks", text, sizeof(text), &len);
    }
    if (rc < 0) {
        const char *t = thanks_builtin[2].text;
        for (size_t i = 0; i < sizeof(thanks_builtin) / sizeof(thanks_builtin[0]); i++)
            if (strcmp(thanks_builtin[i].lang, q->lang) == 0)
                t = thanks_builtin[i].text;
        len = strlen(t);
        memcpy(text, t, len + 1);
    }
    char *to = strdup(q->to);
    if (!to || (rc = gw_sms_send(g->sms, q->to, text, len, thanks_sent, to)) < 0) {
        gw_log(GW_LOG_NOTICE, LOG_CAT, "suggest{%s} thank-you SMS not sent: %s", mask,
               strerror(to ? -rc : ENOMEM));
        free(to);
        return;
    }
    g->stats.thanked++;
}

/* ---------------------------------------------------------------- the two scripts */

static void on_added(void *arg, int err, const redisReply *reply)
{
    struct sg_req *q = arg;
    struct gw_suggest *g = q->g;
    char mask[GW_MASK_LEN];

    gw_mask_msisdn(q->digits, mask);
    if (err < 0 || !reply || reply->type != REDIS_REPLY_STRING) {
        g->stats.failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "suggest{%s} %s not stored: %s", mask,
               q->idea ? "idea" : "rating",
               err < 0 ? strerror(-err) : reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                                                     : "reply");
        goto out;
    }
    if (q->idea)
        g->stats.ideas++;
    else
        g->stats.ratings++;
    gw_log(GW_LOG_INFO, LOG_CAT, "suggest{%s} %s stored (%s, lang %s)", mask,
           q->idea ? "idea" : "rating", reply->str, q->lang);
    if (q->thank && g->redis)
        send_thanks(q);
out:
    free(q);
}

static void add(struct sg_req *q)
{
    struct gw_suggest *g = q->g;
    const struct gw_config *cfg = g->cfg;
    int64_t now = gw_clock_now_ms();
    int32_t today = gw_local_day(now / 1000);
    char minid[24], max[16], week[12], oldest[12], rating[12], at[24], item[12];
    /* 3 keys and 5 arguments, then at most 8 field/value pairs */
    const char *argv[8 + 2 * 8];
    size_t lens[8 + 2 * 8];
    int argc = 0;

    snprintf(minid, sizeof(minid), "%" PRId64,
             now - (int64_t)cfg->suggestions.retention_days * 86400000);
    snprintf(max, sizeof(max), "%" PRIu32, cfg->suggestions.max_entries);
    snprintf(week, sizeof(week), "%" PRId32, gw_suggest_week(today));
    snprintf(oldest, sizeof(oldest), "%" PRId32,
             gw_suggest_week(gw_days_add(today, -(int32_t)cfg->suggestions.retention_days)));
    snprintf(rating, sizeof(rating), "%s", "");
    if (q->rating)
        snprintf(rating, sizeof(rating), "%u", q->rating);
    snprintf(at, sizeof(at), "%" PRId64, now);
    snprintf(item, sizeof(item), "%" PRIu32, q->item);
    argv[argc++] = GW_SUGGEST_KEY_STREAM;
    argv[argc++] = GW_SUGGEST_KEY_WEEKS;
    argv[argc++] = GW_SUGGEST_KEY_META;
    argv[argc++] = minid;
    argv[argc++] = max;
    argv[argc++] = week;
    argv[argc++] = oldest;
    argv[argc++] = rating;
#define PAIR(k, v)                                                                                 \
    do {                                                                                           \
        argv[argc++] = (k);                                                                        \
        argv[argc++] = (v);                                                                        \
    } while (0)
    PAIR("at", at);
    PAIR("m", q->digits);
    PAIR("lang", q->lang);
    PAIR("src", q->idea ? "sms" : "ussd");
    if (q->rating)
        PAIR("r", rating);
    if (q->node[0])
        PAIR("node", q->node);
    if (q->item)
        PAIR("item", item);
    if (q->idea)
        PAIR("t", q->text);
#undef PAIR
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (!g->redis ||
        gw_redis_script_run(g->redis, g->add_script, 3, argc, argv, lens, on_added, q) < 0) {
        g->stats.failed++;
        free(q);
    }
}

static void on_member(void *arg, int err, const redisReply *reply)
{
    struct sg_req *q = arg;
    struct gw_suggest *g = q->g;
    char mask[GW_MASK_LEN];

    gw_mask_msisdn(q->digits, mask);
    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        g->stats.failed++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "suggest{%s} store unavailable (%s)", mask,
               err < 0 ? strerror(-err) : "unexpected reply");
        free(q);
        return;
    }
    if (reply->element[0]->integer != 1) {
        g->stats.capped++;
        gw_log(GW_LOG_INFO, LOG_CAT, "suggest{%s} today's cap reached: dropped", mask);
        free(q);
        return;
    }
    q->thank = q->idea && reply->element[1]->integer == 1;
    /* untrusted: a saved language is a few lower-case letters the menu file knows */
    const redisReply *l = reply->element[2];
    if (l->type == REDIS_REPLY_STRING && l->len > 0 && l->len < sizeof(q->lang) &&
        strspn(l->str, "abcdefghijklmnopqrstuvwxyz") == l->len &&
        (!*g->menus || ussd_menus_has_lang(*g->menus, l->str)))
        memcpy(q->lang, l->str, l->len + 1);
    if (!g->redis) {
        free(q);
        return;
    }
    add(q);
}

static void start(struct gw_suggest *g, struct sg_req *q)
{
    char wkey[48], day[12];
    int32_t today = gw_local_day(gw_clock_now_ms() / 1000);
    char per_day[12];

    snprintf(wkey, sizeof(wkey), "lg:{%s}:w", q->digits);
    snprintf(day, sizeof(day), "%" PRId32, today);
    snprintf(per_day, sizeof(per_day), "%" PRIu32, g->cfg->suggestions.per_day);
    const char *argv[] = {wkey, day, per_day, q->idea ? "1" : "0"};
    size_t lens[4];
    for (int i = 0; i < 4; i++)
        lens[i] = strlen(argv[i]);
    if (!g->redis ||
        gw_redis_script_run(g->redis, g->member_script, 1, 4, argv, lens, on_member, q) < 0) {
        g->stats.failed++;
        free(q);
    }
}

static bool digits_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 20 && strspn(s, "0123456789") == n;
}

void gw_suggest_on_mo(void *arg, const char *from, const char *body, size_t len)
{
    struct gw_suggest *g = arg;
    size_t cap = g->cfg->suggestions.text_max + 1;
    struct sg_req *q = calloc(1, sizeof(*q) + cap);
    char mask[GW_MASK_LEN];

    if (!q) {
        g->stats.failed++;
        return;
    }
    q->g = g;
    q->idea = true;
    snprintf(q->to, sizeof(q->to), "%s", from);
    snprintf(q->digits, sizeof(q->digits), "%s", from[0] == '+' ? from + 1 : from);
    q->len = gw_suggest_clean(body, len, q->text, cap, cap - 1);
    if (q->len == 0 || !digits_ok(q->digits)) {
        g->stats.empty++;
        gw_log(GW_LOG_INFO, LOG_CAT, "suggest{%s} keyword without an idea: ignored",
               gw_mask_msisdn(from, mask));
        free(q);
        return;
    }
    snprintf(q->lang, sizeof(q->lang), "%s", gw_suggest_guess_lang(q->text, q->len));
    start(g, q);
}

void gw_suggest_rate(void *arg, const char *msisdn, const char *lang, unsigned rating,
                     const char *node, uint32_t item)
{
    struct gw_suggest *g = arg;
    struct sg_req *q;

    if (rating < 1 || rating > 5 || !msisdn)
        return;
    q = calloc(1, sizeof(*q) + 1);
    if (!q) {
        g->stats.failed++;
        return;
    }
    q->g = g;
    q->rating = rating;
    q->item = item;
    snprintf(q->digits, sizeof(q->digits), "%s", msisdn[0] == '+' ? msisdn + 1 : msisdn);
    snprintf(q->lang, sizeof(q->lang), "%s", lang ? lang : "");
    snprintf(q->node, sizeof(q->node), "%s", node ? node : "");
    if (!digits_ok(q->digits)) {
        free(q);
        return;
    }
    start(g, q);
}

/* ---------------------------------------------------------------- life cycle */

struct gw_suggest *gw_suggest_new(const struct gw_config *cfg, struct gw_redis *redis,
                                  struct gw_sms *sms, struct ussd_menus *const *menus)
{
    struct gw_suggest *g;

    if (!cfg || !menus)
        return NULL;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = cfg;
    g->redis = redis;
    g->sms = sms;
    g->menus = menus;
    g->member_script = g->add_script = -1;
    if (redis) {
        g->member_script =
            gw_redis_script_add(redis, gw_lua_suggest_member, gw_lua_suggest_member_len);
        g->add_script = gw_redis_script_add(redis, gw_lua_suggest_add, gw_lua_suggest_add_len);
        if (g->member_script < 0 || g->add_script < 0) {
            free(g);
            return NULL;
        }
    }
    return g;
}

void gw_suggest_detach(struct gw_suggest *g)
{
    if (g)
        g->redis = NULL;
}

void gw_suggest_get_stats(const struct gw_suggest *g, struct gw_suggest_stats *out)
{
    *out = g->stats;
}

void gw_suggest_stats_json(const struct gw_suggest_stats *st, FILE *out)
{
    int first = 1;

    fputc('{', out);
#define GW_X_JSON(name, help)                                                                      \
    fprintf(out, "%s\"%s\":%llu", first ? "" : ",", #name, (unsigned long long)st->name);          \
    first = 0;
    GW_SUGGEST_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fputc('}', out);
}

void gw_suggest_free(struct gw_suggest *g)
{
    free(g);
}
