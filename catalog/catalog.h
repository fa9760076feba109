/*
 * catalog.h - the gift catalogue and the gift-day calendar of the loyalty gateway (prefix cat_).
 * The pure-logic parts know no Redis, HTTP, SMPP or USSD; redemption (cat_redeem.c) keeps its
 * state in Redis through gw_redis.
 *
 * Three parts:
 *   - Time zones (cat_tz.c): the IANA zone of the calendar, read from its compiled TZif file
 *     (RFC 8536) and its POSIX TZ footer, so local<->UTC conversion is correct across DST and
 *     Morocco's Ramadan changes without the process TZ. The project's one time-zone reader: the
 *     gateway's programme zone (gateway/gw_zone.h) is a cat_tz too; nothing calls localtime/mktime.
 *   - The gift-day calendar (cat_calendar.c): weekly windows in local time, cancelled dates,
 *     special windows and an earlier opening for premium tiers; "is it open now?" and "when does
 *     it next open?" from the caller's clock.
 *   - The catalogue (cat_catalog.c, cat_voucher.c): the JSON file staff edit, validated with errors
 *     that name the JSON path; immutable refcounted versions behind an atomic switch so that a
 *     redemption in flight keeps the price it was shown; the price-integrity check; per-item kill
 *     switches; voucher code pools from CSV.
 *
 * Dates are local calendar dates as YYYYMMDD integers (20261125), like gw_local_day(). Instants are
 * unix seconds (int64_t, UTC). Everything runs on the gateway's one event-loop thread: nothing here
 * locks, and refcounts are plain integers.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAT_ZONEINFO_DIR "/usr/share/zoneinfo"
#define CAT_NAME_MAX 32 /* tier names, pool names, causes, special-window names, with the NUL */
#define CAT_ID_MAX 32   /* item ids and catalogue versions, with the NUL */

/* ================================================================ time zones (cat_tz.c) */

/* A loaded zone: its transition table and footer rule. Immutable after loading; owned by whoever
 * loaded it and released with cat_tz_free(). */
struct cat_tz;

/*
 * Loads zone `name` ("Africa/Casablanca") from CAT_ZONEINFO_DIR (cat_tz_load) or from `dir`
 * (cat_tz_load_dir, for tests). The name must be an IANA name, not a path: letters, digits and
 * "/_+-", no "..", no leading "/". The file must be a regular TZif file of version 1, 2, 3 or 4
 * without leap-second records (the "right/" zones count TAI seconds and would be off by ~27 s).
 * On success *out owns a new zone. Returns 0, -EINVAL (bad name), -ENOENT (no such zone),
 * -EBADMSG (not TZif, or corrupt), -ENOTSUP (leap seconds), -ENOMEM or another -errno from open().
 */
int cat_tz_load(const char *name, struct cat_tz **out);
int cat_tz_load_dir(const char *dir, const char *name, struct cat_tz **out);
/* The same from a TZif image in memory (tests build small ones); `name` is only remembered. */
int cat_tz_parse(const void *data, size_t len, const char *name, struct cat_tz **out);
void cat_tz_free(struct cat_tz *tz); /* NULL is a no-op */
const char *cat_tz_name(const struct cat_tz *tz);

/* Seconds east of UTC in force at instant t (3600 for Casablanca outside Ramadan). Before the
 * first transition: the file's first type (RFC 8536 s3.2); after the last one: the footer rule. */
int32_t cat_tz_utc_offset(const struct cat_tz *tz, int64_t t);
/* The same, and the span [*from, *until) around t over which that offset holds unchanged (it may
 * end earlier than the next real change, e.g. at a year's end under the footer rule; never later),
 * so that a caller asking often about nearby instants can remember it (gw_zone.c). */
int32_t cat_tz_utc_offset_span(const struct cat_tz *tz, int64_t t, int64_t *from, int64_t *until);
/* Whether a and b are the same zone with the same rules (a reload of an unchanged tzdata file). */
bool cat_tz_same(const struct cat_tz *a, const struct cat_tz *b);

struct cat_tm {
    int year, mon, day; /* mon 1..12, day 1..31 */
    int hour, min, sec; /* 0..23, 0..59, 0..59 */
    int wday;           /* 0 = Sunday .. 6 = Saturday */
    int32_t utc_offset; /* seconds east of UTC */
};
/* Breaks instant t down into local time. Returns 0, or -ERANGE outside years 1..9999. */
int cat_tz_localtime(const struct cat_tz *tz, int64_t t, struct cat_tm *out);
/* The local date of t as YYYYMMDD (0 when out of range). */
int32_t cat_tz_local_date(const struct cat_tz *tz, int64_t t);

/*
 * Local wall-clock time -> instant. A local time can be ambiguous:
 *   - it may occur twice (fall-back overlap: Casablanca 2026-02-15 02:00-02:59:59 happens once at
 *     +01 and again at +00): `pick` chooses CAT_TZ_EARLIER or CAT_TZ_LATER of the two instants;
 *   - it may not exist (spring-forward gap: Paris 2026-03-29 02:00-02:59:59): the result is the
 *     first valid instant after the gap, i.e. the transition itself, whatever `pick` says. So a
 *     window starting at 02:30 in a gap opens when the clock jumps, and a half-open end in a gap
 *     closes it at the same moment.
 * `fold` (may be NULL) tells which case applied. Fields are validated (mon 1..12, day within the
 * month, 00:00:00..23:59:59, years 1..9999). Returns 0, -EINVAL (bad fields) or -ERANGE (the zone
 * changes offset twice within two days around that time, which no real zone does).
 */
enum cat_tz_pick { CAT_TZ_EARLIER = 0, CAT_TZ_LATER = 1 };
enum cat_tz_fold { CAT_TZ_UNIQUE = 0, CAT_TZ_GAP, CAT_TZ_OVERLAP };
int cat_tz_local_to_utc(const struct cat_tz *tz, int year, int mon, int day, int hour, int min,
                        int sec, enum cat_tz_pick pick, int64_t *out, enum cat_tz_fold *fold);

/* "2026-12-02 00:00" in the zone, for "opens on ..." messages. Always NUL-terminates; returns
 * buf. len >= 17 holds the whole text. */
const char *cat_tz_format_local(const struct cat_tz *tz, int64_t t, char *buf, size_t len);

/* ================================================================ gift-day calendar */

#define CAT_CAL_MAX_WEEKLY 16
#define CAT_CAL_MAX_CANCELLED 128
#define CAT_CAL_MAX_SPECIAL 64
#define CAT_CAL_MAX_PREMIUM_TIERS 8
#define CAT_CAL_MAX_EARLY_MIN 1440  /* a premium opening at most one day earlier */
#define CAT_CAL_MAX_SPECIAL_DAYS 31 /* a special window lasts at most this many days */
#define CAT_CAL_SEARCH_DAYS 400     /* cat_calendar_next_open looks this far ahead */

/*
 * Window times are local wall-clock times with an INCLUSIVE end: a window "00:00" to "23:59:59"
 * includes the second 23:59:59 and closes at the next second. An end written as "HH:MM" means the
 * whole minute ("23:59" == "23:59:59"), so the issue's "Wednesday 00:00-23:59" is the whole day.
 * Internally every window is converted to a half-open UTC interval [start, end + 1 s).
 * Conversion (cat_tz_local_to_utc): a start in an overlap takes the earlier instant, an end the
 * later one (the window covers the repeated hour); a start or end in a gap moves to the first
 * valid instant after it. A window that falls entirely inside a gap is empty and never opens.
 */
struct cat_weekly_rule {
    int weekday;       /* 0 = Sunday .. 6 = Saturday */
    int32_t start_sec; /* local seconds after midnight of the first second, 0..86399 */
    int32_t end_sec;   /* local seconds after midnight of the last second, 0..86399; an end before
                        * the start runs into the next day (22:00-01:59:59) */
};

struct cat_special_window {
    char name[CAT_NAME_MAX]; /* "new-year-eve", for logs */
    int32_t start_date;      /* YYYYMMDD local */
    int32_t start_sec;       /* local seconds after midnight */
    int32_t end_date;        /* YYYYMMDD local, >= start_date */
    int32_t end_sec;         /* last second, inclusive; the end must not be before the start */
};

/* The calendar as staff configure it (deploy/giftdays.json). Plain data, copied by
 * cat_calendar_new(). */
struct cat_calendar_config {
    char timezone[64]; /* IANA name */
    struct cat_weekly_rule weekly[CAT_CAL_MAX_WEEKLY];
    unsigned n_weekly;
    /* A weekly window configured on a cancelled local date (its rule's day) does not open.
     * Special windows are never cancelled by this list: they are explicit. */
    int32_t cancelled[CAT_CAL_MAX_CANCELLED]; /* YYYYMMDD */
    unsigned n_cancelled;
    struct cat_special_window special[CAT_CAL_MAX_SPECIAL];
    unsigned n_special;
    /* Members of these tiers see every window (weekly and special) open premium_early_min minutes
     * earlier, counted in real elapsed time; the end does not move. */
    char premium_tiers[CAT_CAL_MAX_PREMIUM_TIERS][CAT_NAME_MAX];
    unsigned n_premium_tiers;
    int32_t premium_early_min; /* 0..CAT_CAL_MAX_EARLY_MIN */
};

/* Defaults: zone "UTC", one weekly rule Wednesday 00:00:00-23:59:59, nothing cancelled, no special
 * windows, no premium opening. */
void cat_calendar_config_defaults(struct cat_calendar_config *cfg);

/*
 * Parses and validates giftdays JSON text into cfg (which is first reset to the defaults):
 *   { "timezone": "Africa/Casablanca",
 *     "weekly": [ { "day": "wednesday", "start": "00:00", "end": "23:59:59" } ],
 *     "cancelled": [ "2026-12-09" ],
 *     "special": [ { "name": "new-year-eve", "start": "2026-12-31T18:00",
 *                    "end": "2026-12-31T23:59:59" } ],
 *     "premium": { "tiers": [ "gold" ], "early_minutes": 60 } }
 * "timezone" is required; "weekly" absent keeps the Wednesday default, [] means none. Keys starting
 * with "//" are comments; any other unknown key is an error. On error, err gets one line naming the
 * JSON path ("weekly[0].end: ...") or the line and column of a syntax error. The zone is not
 * opened here (cat_calendar_new does). Returns 0 or -EINVAL.
 */
int cat_calendar_config_parse(const char *text, size_t len, struct cat_calendar_config *cfg,
                              char *err, size_t errlen);

/* The calendar ready to answer: a copy of the config plus its loaded zone. */
struct cat_calendar;

/* Validates cfg (bounds, special windows ordered and short enough) and loads its zone from
 * zoneinfo_dir (NULL = CAT_ZONEINFO_DIR). On success *out owns a new calendar. Returns 0, -EINVAL
 * with err set, or an error of cat_tz_load_dir (err set too). */
int cat_calendar_new(const struct cat_calendar_config *cfg, const char *zoneinfo_dir,
                     struct cat_calendar **out, char *err, size_t errlen);
/* Reads the file at path, then cat_calendar_config_parse + cat_calendar_new. Errors are prefixed
 * with the path. Returns 0, -ENOENT, -EINVAL, -ENOMEM or a zone error. */
int cat_calendar_load_file(const char *path, struct cat_calendar **out, char *err, size_t errlen);
void cat_calendar_free(struct cat_calendar *cal); /* NULL is a no-op */
const struct cat_tz *cat_calendar_tz(const struct cat_calendar *cal);
const struct cat_calendar_config *cat_calendar_config(const struct cat_calendar *cal);
/* true if tier (may be NULL) is one of the configured premium tiers. */
bool cat_calendar_is_premium(const struct cat_calendar *cal, const char *tier);

/* One opening, as seen by one tier. */
struct cat_gift_window {
    int64_t start;         /* UTC, first second open for this tier (premium: earlier) */
    int64_t end;           /* UTC, first second closed again: the window is [start, end) */
    int64_t regular_start; /* UTC, the opening for non-premium tiers */
    /* The gift day this window belongs to, YYYYMMDD: the local date it is configured on (a
     * weekly rule's day, a special window's start date). Stock and per-subscriber limits count
     * per gift day, so every window of one date shares them. */
    int32_t gift_day;
    bool special;            /* a special window rather than a weekly one */
    char name[CAT_NAME_MAX]; /* special window name, or "weekly" */
};

/*
 * Is the calendar open at `now` for `tier` (NULL = not premium)? Returns 1 and fills *window
 * (may be NULL) with the window containing now - when windows overlap, the one that started
 * first - or 0 when closed (window untouched), or -ERANGE (now outside years 1..9999).
 */
int cat_calendar_is_open(const struct cat_calendar *cal, int64_t now, const char *tier,
                         struct cat_gift_window *window);

/*
 * The first window for `tier` that starts strictly after `now`, searching CAT_CAL_SEARCH_DAYS local
 * days ahead; meant for "closed, next opening on ..." (when open, it is the next window that starts
 * after now, possibly right after the current one). Fills *start and *end (may be NULL), and
 * *window when not NULL. Returns 0, -ENOENT when nothing opens within the horizon (special windows
 * are always considered), or -ERANGE (now outside years 1..9999).
 */
int cat_calendar_next_open(const struct cat_calendar *cal, int64_t now, const char *tier,
                           int64_t *start, int64_t *end, struct cat_gift_window *window);

/* Both answers from one clock reading, for the menu. */
struct cat_gift_status {
    bool open;
    struct cat_gift_window current; /* when open */
    bool has_next;
    struct cat_gift_window next; /* next opening after now, when one exists within the horizon */
};
int cat_calendar_status(const struct cat_calendar *cal, int64_t now, const char *tier,
                        struct cat_gift_status *st);

/* ================================================================ catalogue */

#define CAT_MAX_ITEMS 512
#define CAT_NAME_CHARS_MAX 60             /* characters (code points) of an item name */
#define CAT_DESC_CHARS_MAX 240            /* characters of an item description */
#define CAT_POINTS_MAX (INT64_C(1) << 53) /* points stay exact in Lua doubles (gw_loyalty.c) */

enum cat_lang { CAT_LANG_AR = 0, CAT_LANG_FR, CAT_LANG_EN, CAT_LANG_FA, CAT_LANG__COUNT };
enum cat_category {
    CAT_CATEGORY_DATA = 0,
    CAT_CATEGORY_VOICE,
    CAT_CATEGORY_SMS,
    CAT_CATEGORY_VOUCHER, /* a partner voucher */
    CAT_CATEGORY_CHARITY, /* a donation */
    CAT_CATEGORY__COUNT
};
enum cat_fulfil_type { CAT_FULFIL_PROVISIONING = 0, CAT_FULFIL_VOUCHER, CAT_FULFIL_CHARITY };

/* "ar", "fr", "en", "fa"; "data", "voice", "sms", "voucher", "charity"; "provisioning", ... */
const char *cat_lang_name(enum cat_lang lang);
const char *cat_category_name(enum cat_category cat);
const char *cat_fulfil_type_name(enum cat_fulfil_type type);

struct cat_fulfil {
    enum cat_fulfil_type type;
    /* provisioning: what the provisioning API is asked for */
    char kind[16];            /* "data", "voice", "sms" - the item's category */
    int64_t quantity;         /* > 0 */
    char unit[8];             /* data: "MB" | "GB"; voice: "min" | "sec"; sms: "sms" */
    char pool[CAT_NAME_MAX];  /* voucher: the code pool ("JUMIA100") */
    char cause[CAT_NAME_MAX]; /* charity: the ledger's cause ("FOOD_BANK") */
};

#define CAT_DRAW_WEIGHT_MAX 100
#define CAT_DRAW_REGISTER_HOURS_MAX 720 /* registration opens at most 30 days before */
#define CAT_DRAW_CLAIM_HOURS_MAX 168    /* a winner has at most a week to claim */
struct cat_draw_cfg {
    bool on;                /* "mode": "draw" */
    int32_t register_hours; /* 1..CAT_DRAW_REGISTER_HOURS_MAX */
    int32_t claim_hours;    /* 1..CAT_DRAW_CLAIM_HOURS_MAX */
    char weight_tiers[8][CAT_NAME_MAX];
    uint32_t weights[8]; /* 1..CAT_DRAW_WEIGHT_MAX; a tier not listed weighs 1 */
    unsigned n_weights;
    uint32_t tenure_per_year; /* "tenure_per_year": added per full year of membership, 0 = none */
};

#define CAT_COHORTS_MIN 2
#define CAT_COHORTS_MAX 64
#define CAT_COHORT_TIERS_MAX 8

/* One gift. Strings are owned by the catalogue version and live as long as it does. */
struct cat_item {
    char id[CAT_ID_MAX]; /* "DATA_1GB": letters, digits, "_", "-", "." */
    enum cat_category category;
    const char *name[CAT_LANG__COUNT]; /* UTF-8, no control characters */
    const char *description[CAT_LANG__COUNT];
    int64_t price;                /* points, 1..CAT_POINTS_MAX */
    char tier[CAT_NAME_MAX];      /* lowest loyalty tier that may redeem it */
    int64_t stock_per_day;        /* units per gift day; 0 = unlimited (key absent) */
    int64_t limit_per_day;        /* per subscriber per gift day; 0 = unlimited */
    int32_t valid_from, valid_to; /* local dates, inclusive; 0 = open-ended */
    bool enabled;                 /* false: listed nowhere, never redeemable */
    struct cat_fulfil fulfil;
    /* Opening: first come first served (cohorts 0), or staggered: the members are split into
     * `cohorts` cohorts by cat_cohort() and cohort k is released opening_minutes * k / cohorts
     * minutes after the gift day's regular opening (cat_cohort_release). File:
     * "opening": { "mode": "staggered", "cohorts": 4, "minutes": 60 } or { "mode": "fcfs" }. */
    uint32_t cohorts;        /* 0 = first come first served, else CAT_COHORTS_MIN..MAX */
    int32_t opening_minutes; /* staggered: minutes until the last cohort is released, 1..1440 */
    /* Tier cohorts instead of MSISDN-hash buckets ("by": "tier", "tiers": ["gold", "silver"]):
     * cohort k is the k-th tier listed, everyone else the last one (cohorts = n + 1). */
    char cohort_tiers[CAT_COHORT_TIERS_MAX][CAT_NAME_MAX];
    unsigned n_cohort_tiers; /* 0 = cohorts by MSISDN hash */
    /* Draw ("opening": { "mode": "draw", "register_hours": R, "claim_hours": C,
     * "weights": { "gold": 3, "silver": 2 }, "tenure_per_year": 1 }, needs stock_per_day): members register interest
     * over USSD in the R hours before the gift day's regular opening; at that opening one gateway
     * draws (cat_draw_order) the day's stock among them; each winner has C hours to claim and
     * pay, then the unit goes to the next one in the draw order (see "The draw in Redis"). */
    struct cat_draw_cfg draw;
};

/*
 * THE cohort of a member, the one function every part uses (redemption, menus, SMS): h = FNV-1a
 * (32 bits) over the MSISDN's bytes as given (digits, no "+"), then MurmurHash3's 32-bit
 * finaliser (fmix32), cohort = (h * n_cohorts) >> 32. Stable across processes, versions and
 * machines; consecutive numbers spread over the cohorts; n_cohorts 0 or 1 gives cohort 0.
 */
unsigned cat_cohort(const char *msisdn, unsigned n_cohorts);
/*
 * When `msisdn` may redeem staggered item `it` on a gift day whose regular opening is
 * `opening` (unix s): opening + cohort * opening_minutes * 60 / cohorts (rounded down), so cohort
 * 0 at the opening and the last one before opening + opening_minutes. An item first come first
 * served gives `opening`.
 */
int64_t cat_cohort_release(const struct cat_item *it, const char *msisdn, int64_t opening);
/*
 * The member's cohort for staggered item `it`: by tier when the item lists tiers (the index of
 * `tier` in it->cohort_tiers, else the last cohort; tier NULL or "" = not listed), else
 * cat_cohort(msisdn, it->cohorts). 0 for an item first come first served.
 */
unsigned cat_cohort_member(const struct cat_item *it, const char *msisdn, const char *tier);
/* cat_cohort_release with the member's tier (used by items with tier cohorts; ignored else). */
int64_t cat_cohort_release_tier(const struct cat_item *it, const char *msisdn, const char *tier,
                                int64_t opening);
/*
 * The stock is released with the cohorts, so the first cohort cannot empty a scarce item before
 * the others are let in: at `now`, with r of the n cohorts released (their slot <= now), the
 * units held back for the others are stock_per_day - stock_per_day * r / n (0 once all are in, for
 * an unlimited or first-come-first-served item, and stock_per_day before the opening).
 */
int64_t cat_cohort_held_back(const struct cat_item *it, int64_t opening, int64_t now);

/*
 * The draw (issue 12 s3), its pure part. Members who registered interest in an item are put in a draw order that
 * depends only on the seed and on who registered with which weight - not on the order the
 * registrations are read in, the machine or the library - so anyone holding the seed and the
 * registrations (published in the audit) re-runs it and gets the same winners. Weighted
 * sampling without replacement (Efraimidis-Spirakis) with integer weights and integer keys
 * only: a member of weight w gets key max(h(seed, msisdn, 1) .. h(seed, msisdn, w)), h a 64-bit
 * hash (FNV-1a over "seed|msisdn|j", then SplitMix64's finaliser); the order is by key
 * descending (ties: MSISDN ascending). A member of weight w is as likely to be first as w
 * members of weight 1 together; weight 0 is never drawn.
 */
struct cat_draw_entry {
    char msisdn[21];  /* digits */
    uint32_t weight;  /* 0..CAT_DRAW_WEIGHT_MAX */
    uint64_t key;     /* set by cat_draw_order */
};
/* The key of one registration (0 for weight 0). */
uint64_t cat_draw_key(const char *seed, const char *msisdn, uint32_t weight);
/* Sorts e[0..n) into the draw order (weight-0 entries last, keys 0). Returns the number of
 * entries that take part (weight > 0), or -EINVAL (NULL seed, a weight above the maximum). */
int cat_draw_order(const char *seed, struct cat_draw_entry *e, size_t n);
/* A member's weight in item it's draw: the weight of their tier ("weights", else 1) plus
 * tenure_per_year per full year (365 days) from `since` (unix s of enrolment, 0 = unknown) to
 * `now`, at most CAT_DRAW_WEIGHT_MAX. */
uint32_t cat_draw_weight(const struct cat_item *it, const char *tier, int64_t since, int64_t now);
/* The digest published with a draw: FNV-1a 64 over "msisdn\n" of e[0..winners) in draw order. */
uint64_t cat_draw_digest(const struct cat_draw_entry *e, size_t winners);
/* The audit record's "after" of a published draw: {"seed", "registered", "winners", "digest",
 * "first": the first CAT_DRAW_AUDIT_FIRST winners}. Returns the length or -ENOSPC. */
#define CAT_DRAW_AUDIT_FIRST 20
int cat_draw_audit_json(const char *seed, size_t registered, const struct cat_draw_entry *e,
                        size_t winners, char *out, size_t cap);

/*
 * The draw in Redis (cat_draw_run.c, lua/draw.lua; keys on the item's slot, docs/data-model.md):
 * cat:{ITEM}:dr:cur the gift day of the last draw published; cat:{ITEM}:dr:DAY:reg registrations
 * (msisdn -> weight), :m the published draw (seed, entrants, winners, digest, next, open), :o the
 * draw order (list), :p msisdn -> rank, :w offers (msisdn -> "p|c|x,<claim deadline>": pending,
 * claimed, lapsed). At the draw the units offered are taken from the day's stock at once
 * (cat:{ITEM}:s:DAY), so a claim never takes stock and stock is never oversold; a claim is a
 * redemption (points paid, fulfilment) limited to one unit per winner.
 */
#define CAT_DRAW_GRACE_S 120 /* a claim started before its deadline may finish after it */
/* The winners' SMS outbox (cat:{ITEM}:dr:DAY:ob), written in the same script as each offer (the
 * draw, a roll-down): every round claims up to CAT_DRAW_SMS_BATCH entries per item whose lease
 * has run out, for CAT_DRAW_SMS_LEASE_S (longer than an SMS takes to be answered, TPS queue
 * included), and hands them to the offer hook; the sender removes an entry with cat_draw_sent
 * once the SMSC accepted the SMS. A process that dies in between leaves the entry to the next
 * round of any gateway once the lease runs out: at least once; twice only when the SMSC accepted
 * it and the process died before cat_draw_sent. After CAT_DRAW_SMS_TRIES claims, or once the
 * offer is no longer pending (claimed, lapsed), the entry is dropped. */
#define CAT_DRAW_SMS_LEASE_S 120
#define CAT_DRAW_SMS_BATCH 20
#define CAT_DRAW_SMS_TRIES 5
struct cat_draw_offer {
    const char *item, *msisdn;
    int32_t day;
    int64_t deadline; /* unix s */
};
struct cat_draw_published {
    const char *item;
    int32_t day;
    const char *seed;
    size_t registered, winners;
    const char *audit_json; /* cat_draw_audit_json */
};
struct cat_draw_hooks {
    /* an outbox entry this process claimed (a winner, or the next on the waiting list): send
     * the SMS, then cat_draw_sent once the SMSC accepted it */
    void (*offer)(void *arg, const struct cat_draw_offer *o);
    /* a draw this process published (exactly one process does): record it in the audit */
    void (*published)(void *arg, const struct cat_draw_published *p);
    void *arg;
};

/* Options for loading. tiers: when n_tiers > 0, an item's "tier" must be one of them (the loyalty
 * table's tier names, lowest first). */
struct cat_load_opts {
    const char *const *tiers;
    unsigned n_tiers;
};

/*
 * One immutable version of the catalogue, refcounted. cat_catalog_parse/_load_file return it with
 * one reference owned by the caller; cat_catalog_ref adds one, cat_catalog_unref drops one and
 * frees the version with the last.
 */
struct cat_catalog;

/*
 * Parses and validates catalogue JSON:
 *   { "version": "2026-11-25.1", "items": [ { "id": "DATA_1GB", "category": "data",
 *     "names": {"ar":..,"fr":..,"en":..,"fa":..}, "descriptions": {...}, "price": 500,
 *     "tier": "standard", "stock_per_day": 1000, "limit_per_day": 1, "valid_from": "2026-11-01",
 *     "valid_to": "2027-12-31", "enabled": true,
 *     "fulfil": {"type":"provisioning","kind":"data","quantity":1024,"unit":"MB"}
 *             | {"type":"voucher","pool":"JUMIA100"} | {"type":"charity","cause":"FOOD_BANK"} } ] }
 * Required per item: id, category, names, descriptions, price, tier, fulfil; the four languages in
 * both names and descriptions. The fulfilment must fit the category (data/voice/sms provision
 * the same kind; voucher -> voucher; charity -> charity). Ids are unique. Keys starting with "//"
 * are comments; other unknown keys, and duplicate keys, are errors. err gets one line: the JSON
 * path and the reason ("items[3].price: must be a positive integer"), or "line:column: ..." for
 * a syntax error. Returns 0 with *out set, -EINVAL, or -ENOMEM.
 */
int cat_catalog_parse(const char *text, size_t len, const struct cat_load_opts *opts,
                      struct cat_catalog **out, char *err, size_t errlen);
/* The same from a file; errors start with "<path>: " (syntax errors "<path>:line:col: "). */
int cat_catalog_load_file(const char *path, const struct cat_load_opts *opts,
                          struct cat_catalog **out, char *err, size_t errlen);

struct cat_catalog *cat_catalog_ref(struct cat_catalog *c); /* returns c */
void cat_catalog_unref(struct cat_catalog *c);              /* NULL is a no-op */
const char *cat_catalog_version(const struct cat_catalog *c);
size_t cat_catalog_count(const struct cat_catalog *c);
/* Items in file order; NULL past the end. */
const struct cat_item *cat_catalog_item_at(const struct cat_catalog *c, size_t i);
/* The item with that id, or NULL. */
const struct cat_item *cat_catalog_find(const struct cat_catalog *c, const char *id);
/* true if both versions hold the same items with the same fields (the version string aside). */
bool cat_catalog_same_items(const struct cat_catalog *a, const struct cat_catalog *b);

/*
 * The store: the current version, older versions still referenced by redemptions in flight, and
 * the per-item kill switches. Owned by the gateway; cat_store_free() detaches the versions that are
 * still referenced (they are freed by their last unref).
 */
struct cat_store;
struct cat_store *cat_store_new(void);    /* NULL on ENOMEM */
void cat_store_free(struct cat_store *s); /* NULL is a no-op */

/*
 * The atomic switch: makes `next` current, taking over the caller's reference. The previous current
 * version loses the store's reference and lives on while redemptions hold theirs. A version
 * string names one content: a version equal to one still alive must have the same items.
 * Returns 0; -EALREADY when next is the same version with the same items as the current one (it is
 * not swapped and the reference is dropped: a reload of an unchanged file); -EEXIST when that
 * version string is alive with different items (the reference is dropped; bump "version").
 * Logs the switch at notice.
 */
int cat_catalog_swap(struct cat_store *s, struct cat_catalog *next);
/* A new reference to the current version (the one a menu shows), or NULL when none was loaded.
 * The caller keeps it for the whole redemption and unrefs it at the end. */
struct cat_catalog *cat_store_current(struct cat_store *s);
/* A new reference to a live version by its string, or NULL when no longer alive. */
struct cat_catalog *cat_store_find_version(struct cat_store *s, const char *version);
/* Number of versions alive (the current one included), for metrics and tests. */
unsigned cat_store_versions_alive(const struct cat_store *s);

/*
 * The price-integrity guard: the debit for item_id must equal its price in the version that was
 * shown. Returns 0 when it does; -ENOENT when the item is not in that version (or the version is no
 * longer alive, cat_store_price_check); -EPERM when the amounts differ. Every refusal is logged at
 * error level under category "catalog" as an alert ("price integrity").
 */
int cat_price_check(const struct cat_catalog *shown, const char *item_id, int64_t debit);
int cat_store_price_check(struct cat_store *s, const char *version, const char *item_id,
                          int64_t debit);

/* Per-item kill switch, by id, held by the store so that it survives catalogue swaps until
 * revived. Killing an id not in the current catalogue is allowed (it may come back in a new
 * version). Returns 0, -EINVAL (bad id) or -ENOSPC (CAT_MAX_ITEMS ids killed). Logged at notice. */
int cat_item_kill(struct cat_store *s, const char *item_id);
int cat_item_revive(struct cat_store *s, const char *item_id); /* 0 or -ENOENT (not killed) */
bool cat_item_killed(const struct cat_store *s, const char *item_id);

/* Why an item may not be redeemed: data for the menu, not an error. */
enum cat_item_state {
    CAT_ITEM_OK = 0,
    CAT_ITEM_UNKNOWN,  /* no such id in that version */
    CAT_ITEM_DISABLED, /* "enabled": false in the file */
    CAT_ITEM_KILLED,   /* the kill switch is on */
    CAT_ITEM_NOT_YET,  /* today is before valid_from */
    CAT_ITEM_EXPIRED,  /* today is after valid_to */
};
const char *cat_item_state_name(enum cat_item_state st);
/* Whether item_id of version c may be redeemed on local date `today` (YYYYMMDD). s may be NULL
 * (no kill switches). */
enum cat_item_state cat_item_check(const struct cat_store *s, const struct cat_catalog *c,
                                   const char *item_id, int32_t today);

/* Tier order check: true if tier `have` is at or above `required` in `tiers` (lowest first).
 * Unknown names are never allowed. */
bool cat_tier_meets(const char *required, const char *have, const char *const *tiers,
                    unsigned n_tiers);

/* ================================================================ voucher pools (cat_voucher.c) */

#define CAT_VOUCHER_CODE_MIN 4
#define CAT_VOUCHER_CODE_MAX 64
#define CAT_VOUCHER_MAX_CODES 1000000

struct cat_voucher {
    char code[CAT_VOUCHER_CODE_MAX + 1]; /* letters, digits and "-" */
    int32_t expiry;                      /* YYYYMMDD last valid local date; 0 = none */
};

/* The codes of one pool, in file order: the list the redemption module pushes to Redis, where each
 * code is popped once. Owned by the caller, released with cat_voucher_pool_free(). */
struct cat_voucher_pool {
    char name[CAT_NAME_MAX];
    struct cat_voucher *codes;
    size_t n_codes;
};

/*
 * Parses a pool CSV: one code per line, "code" or "code,expiry" (expiry YYYY-MM-DD). An optional
 * first line "code" or "code,expiry" is a header; blank lines and lines starting with "#" are
 * skipped; CRLF and a UTF-8 BOM are accepted. Codes are 4..64 of [A-Za-z0-9-]; a code may appear
 * once (case-sensitive). With today != 0 (YYYYMMDD), a code already expired is an error. The pool
 * must hold at least one code; "code," (empty expiry) means no expiry. err gets "line N: reason"
 * for the first bad line (duplicates: "line 7: duplicate code (first on line 3)"); codes are never
 * quoted in messages, they are worth money. Returns 0 with *out set, -EINVAL, -E2BIG
 * (more than CAT_VOUCHER_MAX_CODES) or -ENOMEM.
 */
int cat_voucher_pool_parse(const char *text, size_t len, const char *pool_name, int32_t today,
                           struct cat_voucher_pool **out, char *err, size_t errlen);
/* The same from a file; errors start with "<path>: ". */
int cat_voucher_pool_load_file(const char *path, const char *pool_name, int32_t today,
                               struct cat_voucher_pool **out, char *err, size_t errlen);
void cat_voucher_pool_free(struct cat_voucher_pool *p); /* NULL is a no-op */

/* ================================================================ redemption (cat_redeem.c) */

/*
 * Redemption: reserve -> debit -> confirm -> queue, designed for Redis Cluster where a
 * subscriber's keys (hash tag {MSISDN}) and an item's stock keys (hash tag {ITEM}) live on
 * different shards, so no script touches both (see cat_redeem.c for the keys and the proof
 * sketch). Every step is one Lua script, idempotent by the redemption id (rid):
 *   1. reserve (item slot)   kill switch, stock of the gift day > 0; records rid and takes one unit
 *   2. debit   (subscriber)  tombstone? blocked? negative balance? tier, per-day limit, balance;
 *                            spends the oldest lots first; writes the record (state "paid") and
 *                            a history entry
 *   3. confirm (item slot)   reservation -> confirmed; then XADD to CAT_FULFIL_STREAM and both
 *                            sides marked "queued"
 * A refused debit releases the reservation (stock back). The sweeper (cat_redeem_sweep) settles
 * reservations older than the reservation timeout: a subscriber-slot script either finds the
 * record paid (-> confirm + queue) or writes a tombstone that makes any late debit refuse (->
 * release). Stock, points and voucher codes are therefore never lost nor granted twice, whatever
 * step a crash interrupts.
 *
 * The rid names everything: "<msisdn>:<item id>:<gift day>:<tag>" (tag [A-Za-z0-9_-]{1,32}), so
 * every transition can find both slots from the rid alone.
 *
 * Fulfilment stream CAT_FULFIL_STREAM (a plain XADD, MAXLEN ~): one entry per granted redemption
 * with fields
 *   rid, msisdn, to (beneficiary MSISDN or ""), item, version, price, day (gift day YYYYMMDD),
 *   type ("provisioning" | "voucher" | "charity"), kind, quantity, unit (provisioning),
 *   code (voucher: the code handed out), cause (charity), at (unix s)
 * Delivery is AT LEAST ONCE: after a crash between XADD and "queued", the sweeper queues the rid
 * again. The worker must be idempotent by rid (it is the provisioning Idempotency-Key, and the
 * transitions below are idempotent).
 *
 * Record states (subscriber slot): paid -> queued -> fulfilled | refunded.
 */
#define CAT_RID_MAX 96            /* bytes of a rid, NUL included */
#define CAT_REF_MAX 65            /* a provisioning reference: [A-Za-z0-9._:-]{1,64} + NUL */
#define CAT_REASON_MAX 121        /* a refund reason: printable, '|' replaced, 120 bytes + NUL */
#define CAT_FULFIL_STREAM "cat:fulfil"

struct gw_redis;
struct event_base;

struct cat_redeem_config {
    uint32_t reservation_timeout_s; /* a reservation older than this is swept (default 30) */
    uint32_t sweep_interval_ms;     /* cat_redeem_start_sweeper period (default 1000) */
    uint32_t history_len;           /* history entries kept per subscriber (default 50) */
    uint32_t record_retention_days; /* redemption records kept (default 90) */
    uint32_t stream_maxlen;         /* approximate MAXLEN of the stream (default 1000000) */
    /* Tiers that may send a gift to another number (premium gifting). */
    char gift_tiers[CAT_CAL_MAX_PREMIUM_TIERS][CAT_NAME_MAX];
    unsigned n_gift_tiers;
    /* The loyalty tiers, lowest first (the order cat_tier_meets uses). */
    char tiers[8][CAT_NAME_MAX];
    unsigned n_tiers;
    /* How long points stay spendable (core/gw_days.h; the loyalty table's validity): lots past
     * it are never spent, whether or not the expiry job has removed them yet. 0/0 = forever. */
    uint32_t validity_days, validity_months;
    /* The premium perk (issue 10 section 6): a member of a gift tier who just redeemed a gift may
     * offer the same gift to a relative. The second unit takes stock like any unit and costs
     * perk_share_pct percent of the price (rounded down; default 0: free); perk_per_day perks per
     * member and gift day (default 1; 0 = no perk). */
    uint32_t perk_share_pct;
    uint32_t perk_per_day;
};
void cat_redeem_config_defaults(struct cat_redeem_config *cfg); /* gift tiers: "gold" */
/* What the perk unit of an item of `price` costs (perk_share_pct of it, rounded down). */
int64_t cat_perk_price(const struct cat_redeem_config *cfg, int64_t price);

struct cat_redeem;

/* base, redis, store and cal are borrowed and must outlive the module (cal may be swapped with
 * cat_redeem_set_calendar, e.g. on SIGHUP). cfg is copied. Registers the scripts with redis.
 * NULL on bad arguments or ENOMEM. */
struct cat_redeem *cat_redeem_new(struct event_base *base, struct gw_redis *redis,
                                  struct cat_store *store, const struct cat_calendar *cal,
                                  const struct cat_redeem_config *cfg);
void cat_redeem_set_calendar(struct cat_redeem *r, const struct cat_calendar *cal);
void cat_redeem_set_config(struct cat_redeem *r, const struct cat_redeem_config *cfg);
/* Stops the sweeper timer. Requests in flight are not touched: their contexts hold no pointer to
 * the module (free gw_redis first, as main.c does, to fail them). NULL is a no-op. */
void cat_redeem_free(struct cat_redeem *r);

/* Builds a rid "<msisdn>:<item>:<day>:<tag>" where tag is 16 hex digits of a hash of `source`
 * (the USSD session key plus its start time: one confirm screen = one rid, so a repeated PDU or
 * a retry never redeems twice). Returns 0, -EINVAL (bad msisdn/item/day) or -ENOSPC. */
int cat_redeem_rid(const char *msisdn, const char *item_id, int32_t gift_day, const char *source,
                   char *out, size_t cap);

enum cat_redeem_outcome {
    CAT_REDEEM_GRANTED = 0,    /* debited, stock taken, queued for fulfilment */
    CAT_REDEEM_DUPLICATE,      /* this rid was already granted: nothing new happened */
    CAT_REDEEM_CLOSED,         /* not a gift day now (result.next_open says when) */
    CAT_REDEEM_UNAVAILABLE,    /* unknown, disabled, killed, not yet valid or expired */
    CAT_REDEEM_PRICE_MISMATCH, /* price integrity: not the price of the version shown (alerted) */
    CAT_REDEEM_OUT_OF_STOCK,
    CAT_REDEEM_BLOCKED,        /* wallet field blocked=1 */
    CAT_REDEEM_NEGATIVE,       /* the balance is negative (a reversal took back spent points) */
    CAT_REDEEM_TIER,           /* tier below the item's */
    CAT_REDEEM_LIMIT,          /* per-subscriber limit of the gift day reached */
    CAT_REDEEM_BALANCE,        /* balance < price */
    CAT_REDEEM_GIFT_REFUSED,   /* gifting needs a gift tier, or the beneficiary is invalid/self */
    CAT_REDEEM_NO_CODE,        /* the voucher pool is empty */
    CAT_REDEEM_ABANDONED,      /* the sweeper already settled this rid (tombstone) */
    CAT_REDEEM_NOT_RELEASED,   /* staggered opening: this member's cohort is not released yet
                                * (result.next_open is the member's slot) */
    CAT_REDEEM_DRAW_REGISTERED, /* draw: registered (result.next_open: when the draw is) */
    CAT_REDEEM_DRAW_WON,        /* draw: a winner without the points yet (next_open: deadline) */
    CAT_REDEEM_DRAW_WAITING,    /* draw: not drawn, on the waiting list (result.position) */
    CAT_REDEEM_DRAW_LOST,       /* draw: not drawn and the list will not reach them, or the
                                 * claim deadline passed */
    CAT_REDEEM_DRAW_CLOSED,     /* draw: the registration is closed and they did not register */
    CAT_REDEEM__COUNT
};
const char *cat_redeem_outcome_name(enum cat_redeem_outcome o); /* "granted", "out_of_stock" */

struct cat_redeem_result {
    enum cat_redeem_outcome outcome;
    char rid[CAT_RID_MAX];
    int64_t price;                        /* charged (GRANTED/DUPLICATE) */
    int64_t balance;                      /* after the debit; -1 when not read */
    int32_t gift_day;                     /* YYYYMMDD, 0 when closed */
    int64_t next_open;                    /* CLOSED: unix s of the next opening, 0 = none;
                                           * NOT_RELEASED: unix s of the member's slot */
    char code[CAT_VOUCHER_CODE_MAX + 1];  /* voucher handed out, "" otherwise */
    int64_t position;                     /* DRAW_WAITING: 1 = the next to be offered a unit */
};

/* err 0 with res, or err < 0 with res NULL: -ETIMEDOUT / -ENOTCONN (gw_redis), -EPROTO (bad
 * reply). After an error the redemption may be half-way: retrying with the same rid is safe,
 * and the sweeper settles it anyway. -EINPROGRESS: the debit was answered "paid" and a later
 * step failed - the redemption went through, the sweeper confirms and queues it. */
typedef void (*cat_redeem_cb)(void *arg, int err, const struct cat_redeem_result *res);

struct cat_redeem_request {
    const char *msisdn;       /* the subscriber, digits */
    const char *beneficiary;  /* premium gifting: another MSISDN; NULL or "" = self */
    const char *version;      /* catalogue version the confirm screen showed */
    const char *item_id;
    int64_t price;            /* the price that screen showed */
    const char *rid_source;   /* for cat_redeem_rid (USSD session key + start); or NULL ... */
    const char *rid;          /* ... a ready rid from cat_redeem_rid (wins when non-NULL) */
    int64_t now;              /* unix s: the one clock of the decision (window, gift day, lots) */
    const char *tier;         /* the member's tier as the caller read it (tier cohorts of a
                               * staggered opening); NULL or "" = unknown: the last cohort */
    bool perk;                /* the premium perk: a second unit for `beneficiary` (required), at
                               * cat_perk_price (what `price` must say), limited per gift day by
                               * perk_per_day rather than the item's limit */
};

/* Redeems. Checks in C first (version alive, cat_price_check, cat_item_check, calendar), then
 * runs the steps. Returns 0 (cb fires exactly once, from the loop) or < 0 (-EINVAL bad request,
 * -ENOMEM, or a gw_redis error; cb never fires). */
int cat_redeem_confirm(struct cat_redeem *r, const struct cat_redeem_request *req,
                       cat_redeem_cb cb, void *arg);

/* One round of the draw job at `now` for every item of the current catalogue opened by draw:
 * the draw of a gift day whose regular opening has come (once over all gateways: the publish
 * script refuses a second one; a new seed from /dev/urandom), then the roll-down of the last
 * draw (offers past their deadline + CAT_DRAW_GRACE_S unclaimed go to the next in the order;
 * when the order is exhausted the unit goes back to the day's stock), then the outbox of the
 * winners' SMS (the entries this process claimed go to the offer hook; with no offer hook nothing
 * is claimed). published fires for the draw this process published. cb(arg, err) once the round
 * is over. Returns 0 (cb fires once) or < 0 (-EBUSY: a round is running; cb never fires). */
int cat_draw_tick(struct cat_redeem *r, int64_t now, const struct cat_draw_hooks *hooks,
                  void (*cb)(void *arg, int err), void *arg);
/* The SMS of an offer (cat_draw_hooks.offer) was accepted by the SMSC: its outbox entry goes.
 * Returns 0 (cb fires once, err 0 also when the entry was gone) or < 0 (cb never fires). */
int cat_draw_sent(struct cat_redeem *r, const char *item, int32_t day, const char *msisdn,
                  void (*cb)(void *arg, int err), void *arg);

/* --- store transitions for the fulfilment worker (each idempotent, async contract as above) */
enum cat_transition {
    CAT_TR_DONE = 0,  /* applied now */
    CAT_TR_ALREADY,   /* already in that state: nothing changed (a retry) */
    CAT_TR_CONFLICT,  /* refused: fulfilled cannot be refunded and refunded cannot be fulfilled */
    CAT_TR_UNKNOWN    /* no such paid redemption (never paid, tombstone, or aged out) */
};
const char *cat_transition_name(enum cat_transition t);
/* err 0 with t, or err < 0 (t meaningless). */
typedef void (*cat_transition_cb)(void *arg, int err, enum cat_transition t);

/* Marks rid fulfilled with the provisioning reference ([A-Za-z0-9._:-]{1,64}, or NULL/"" when
 * there is none, e.g. vouchers). Returns 0 (cb once) or -EINVAL/-ENOMEM/gw_redis error. */
int cat_redeem_mark_fulfilled(struct cat_redeem *r, const char *rid, const char *reference,
                              int64_t now, cat_transition_cb cb, void *arg);
/* Permanent failure: gives the points back (a new lot dated today's local date, a history
 * entry), gives the unit back to the gift day's stock and records the reason (untrusted text is
 * fine: cut to CAT_REASON_MAX-1 bytes, control characters and '|' replaced). Two slots, two
 * scripts: cb reports CAT_TR_DONE when the points were given back by this call, ALREADY when an
 * earlier call did (the restock is completed either way). Returns as above. */
int cat_redeem_refund(struct cat_redeem *r, const char *rid, const char *reason, int64_t now,
                      cat_transition_cb cb, void *arg);
/* Charity: adds the redemption's points to the cause's totals (hash cat:{cause:<CAUSE>} fields
 * total, count), once per rid. Returns as above. */
int cat_redeem_charity_add(struct cat_redeem *r, const char *rid, const char *cause,
                           int64_t points, int64_t now, cat_transition_cb cb, void *arg);

/* --- sweeper */
struct cat_sweep_stats {
    uint64_t scanned, confirmed, released, requeued, errors;
};
/* One pass over the items of the current catalogue: reservations older than the timeout at
 * `now` are settled (see above). cb(arg, err, stats) once the pass is over (err < 0 only when
 * nothing could be asked). Returns 0 or < 0 (cb never fires; -EBUSY when a pass is running). */
int cat_redeem_sweep(struct cat_redeem *r, int64_t now,
                     void (*cb)(void *arg, int err, const struct cat_sweep_stats *st), void *arg);
/* A timer running cat_redeem_sweep every sweep_interval_ms (one pass at a time) with the
 * gateway's clock. Returns 0 or -ENOMEM. */
int cat_redeem_start_sweeper(struct cat_redeem *r);
void cat_redeem_get_sweep_stats(const struct cat_redeem *r, struct cat_sweep_stats *out);

/* --- voucher pools in Redis: cat:{pool:<NAME>}:q (list of codes not yet handed out),
 * :all (every code ever loaded, so a reload never re-adds a code already given), :given (hash
 * rid -> code). A code is claimed by a rid once (idempotent), before the debit, and the record
 * keeps it; a refused debit or a swept reservation gives it back (it was never shown). */
/* Pushes the pool's codes that were never loaded before; cb(arg, err, added). */
int cat_redeem_pool_load(struct cat_redeem *r, const struct cat_voucher_pool *pool,
                         void (*cb)(void *arg, int err, size_t added), void *arg);

#endif
