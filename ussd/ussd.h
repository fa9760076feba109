/*
 * ussd.h - the USSD layer of the loyalty gateway: sessions, menus, pagination, languages. It
 * knows no PDU: text goes in and out as UTF-8 plus the coding chosen for the wire (smpp_text.h),
 * and the few protocol numbers (ussd_service_op, its_session_info) go in and out as integers.
 *
 * Parts, each pure logic without sockets, Redis or a clock of its own:
 *   ussd_page.c     pagination of one screen (below)
 *   ussd_menu.c     the menu file marketing edits (deploy/ussd-menus.json): load, validate, reload
 *   ussd_engine.c   the dialogue engine: (menus, state, input) -> (next state, screen, effect)
 *   ussd_session.c  the session FSM (gw_fsm table), session keys, state (de)serialisation
 *   ussd_config.c   per-carrier settings marked (config) in shared/spec/ussd.md
 *
 * Pagination (ussd_page.c): a menu screen - a body text and a list of options - is cut into
 * pages that each fit one USSD screen (182 GSM-7 characters or 80 UCS-2 characters by default,
 * shared/spec/ussd.md "Text"). USSD has no concatenation, so a long menu is paginated with
 * localised navigation lines ("00 More" / "0 Back"), never cut. struct ussd_pages owns every page
 * text; it is created by ussd_pages_new() and released by ussd_pages_free().
 */
#ifndef USSD_H
#define USSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpp_text.h"

/* ---------------------------------------------------------------- pagination */

#define USSD_SCREEN_GSM7_DEFAULT 182 /* GSM-7 characters on one USSD screen */
#define USSD_SCREEN_UCS2_DEFAULT 80  /* UCS-2 characters on one USSD screen */
#define USSD_SCREEN_MAX 1024         /* largest limit accepted, in characters of either coding */
/* Smallest limits the configuration accepts: what the shipped menus (deploy/ussd-menus.json)
 * need on their widest screen - the longest line shown on top of a page (the gift screen's
 * "Invalid number (country code + number)", 38 characters), "0 Back" and "00 More", and one
 * character of content of two units (an escaped GSM-7 character such as the euro sign). Any menu file is
 * checked against the configured limits when it loads (ussd_menus_check), so a file with longer
 * labels is refused at start, never discovered by a subscriber. */
#define USSD_SCREEN_GSM7_MIN 57
#define USSD_SCREEN_UCS2_MIN 56

struct ussd_page_config {
    unsigned gsm7_limit;    /* characters per screen in GSM-7, escapes counting two (182) */
    unsigned ucs2_limit;    /* 16-bit units per screen in UCS-2 (80) */
    const char *more_label; /* UTF-8 navigation line to the next page ("00 More") */
    const char *back_label; /* UTF-8 navigation line to the previous page ("0 Back") */
    /* Right-to-left text is always kept in logical order. With bidi_marks, every line of a UCS-2
     * page starts with U+200F RIGHT-TO-LEFT MARK (counted in the limit) so that lines starting
     * with a digit ("1 ...") take a right-to-left base direction. GSM-7 pages never get marks
     * (GSM-7 cannot carry them and has no right-to-left letters). Default false. */
    bool bidi_marks;
    struct smpp_text_opts text; /* data_coding values and UCS-2 non-BMP handling */
    /* Optional UTF-8 line shown at the top of every page and counted in its limit (the
     * dialogue engine's short error line, so that a re-shown page keeps its error on top
     * whichever page it is). NULL or "" for none (default). It takes part in the coding choice
     * like any content line. */
    const char *header;
    /* The back line ends the first page too (a sub-menu whose "0" returns to the parent node);
     * every page then has has_back set. Default false: the first page has no back line. */
    bool first_back;
};

/* Defaults: 182 / 80, "00 More", "0 Back" (static English strings), no bidi marks,
 * smpp_text_opts_defaults(), no header, no back line on the first page. */
void ussd_page_config_defaults(struct ussd_page_config *cfg);

/* One page as returned by ussd_pages_get(); pointers stay valid until ussd_pages_free(). */
struct ussd_page {
    const char *text;             /* UTF-8, NUL-terminated, lines separated by "\n" */
    size_t text_len;              /* bytes of text */
    enum smpp_text_coding coding; /* the same for every page of one screen */
    uint8_t data_coding;          /* smpp_text_data_coding(coding, &cfg->text) */
    size_t units;                 /* length counted against the limit: septets or UCS-2 units */
    size_t encoded_len;           /* octets of smpp_text_encode(text) in coding */
    bool has_back;                /* the page ends with the back line (every page but the first,
                                   * and the first too with cfg->first_back) */
    bool has_more;                /* the page ends with the more line (every page but the last) */
};

struct ussd_pages;

/*
 * Paginates one menu screen.
 *   body      UTF-8 title/body text (NULL or "" for none); "\n" starts a new line (one final
 *             "\n" is ignored).
 *   options   n_options UTF-8 lines such as "1 My points" (options may be NULL when n_options 0).
 * Input is treated as untrusted: invalid UTF-8 becomes U+FFFD in the page texts.
 *
 * Coding: GSM-7 when every character of body, options and the navigation lines actually shown
 * fits the GSM alphabet, else UCS-2 for the whole screen, whose limit is then ucs2_limit.
 *
 * Layout: lines are body lines then options, in order; each page is the header (cfg->header,
 * if any), its content lines, then "0 Back" (all pages but the first; the first too with
 * cfg->first_back) and "00 More" (all pages but the last), and its length
 * including the "\n" separators and the navigation lines is <= the limit. Options are never cut
 * when they fit on a page: an option that does not fit the rest of a page moves to the next.
 * Body text is broken at spaces (the space at a break is dropped); a word is hard-split, on a
 * character boundary (never inside a UTF-8 sequence, GSM escape pair or surrogate pair), only
 * when it is longer than a whole page. As a last resort an option longer than a whole page is
 * split the same way as body text, continuing on the following page(s).
 * Text is never reordered or reversed (right-to-left scripts stay in logical order).
 *
 * Returns 0 and *out (free with ussd_pages_free()); -EINVAL for bad arguments, a limit of 0 or
 * above USSD_SCREEN_MAX, or header and navigation lines that leave no room for content; -ENOMEM.
 */
int ussd_pages_new(const struct ussd_page_config *cfg, const char *body, const char *const *options,
                   size_t n_options, struct ussd_pages **out);

/* Number of pages (>= 1; an empty screen is one empty page). */
size_t ussd_pages_count(const struct ussd_pages *pages);

/* Fills *page with page i (0-based). Returns 0 or -ERANGE. */
int ussd_pages_get(const struct ussd_pages *pages, size_t i, struct ussd_page *page);

/* Encodes page i for the wire into out[0..cap): see smpp_text_encode(). Returns 0 or < 0. */
int ussd_pages_encode(const struct ussd_pages *pages, size_t i, uint8_t *out, size_t cap,
                      size_t *len);

/* Frees all pages and their texts. NULL is a no-op. */
void ussd_pages_free(struct ussd_pages *pages);

/* ---------------------------------------------------------------- carrier configuration */

/* ussd_service_op values (shared/spec/ussd.md "A dialogue"). */
#define USSD_OP_PSSR_INDICATION 1 /* subscriber opens: *555# */
#define USSD_OP_USSR_REQUEST 2    /* we send a menu that expects an answer */
#define USSD_OP_PSSR_RESPONSE 17  /* we end the dialogue */
#define USSD_OP_USSR_CONFIRM 18   /* the subscriber's answer */

#define USSD_SERVICE_CODE_MAX 16

/* How destination_addr / source_addr spell the service code (config). */
enum ussd_dest_form {
    USSD_DEST_CODE = 0, /* "555" (default) */
    USSD_DEST_STAR_HASH /* "*555#" */
};

/* How the last screen ends the dialogue (config). */
enum ussd_end_method {
    USSD_END_OP = 0, /* ussd_service_op 17, its_session_info end bit clear */
    USSD_END_BIT,    /* ussd_service_op 2, end bit set */
    USSD_END_BOTH    /* ussd_service_op 17 and end bit set (default) */
};

/* What a session is keyed by (config): MSISDN plus the its_session_info session number (default),
 * MSISDN plus user_message_reference, or MSISDN alone. When the chosen TLV is absent from a PDU
 * the key falls back to MSISDN alone (spec: "by MSISDN alone otherwise"). */
enum ussd_key_mode { USSD_KEY_SESSION_INFO = 0, USSD_KEY_UMR, USSD_KEY_MSISDN };

struct ussd_config {
    char service_code[USSD_SERVICE_CODE_MAX]; /* digits dialled after '*': "555" */
    enum ussd_dest_form dest_form;            /* USSD_DEST_CODE */
    enum ussd_end_method end_method;          /* USSD_END_BOTH */
    int abort_op;                             /* vendor abort ussd_service_op (0x81); -1 = none */
    enum ussd_key_mode key_mode;              /* USSD_KEY_SESSION_INFO */
    uint32_t t_answer_ms;                     /* per-answer timeout, T_ANSWER (60000) */
    uint32_t t_total_ms;                      /* whole-dialogue timeout, T_TOTAL (180000) */
    uint32_t t_end_ms;          /* wait for the last screen to be sent, T_END (10000) */
    unsigned gsm7_limit;        /* characters per screen, GSM-7 (182; a carrier may want less) */
    unsigned ucs2_limit;        /* characters per screen, UCS-2 (80) */
    bool bidi_marks;            /* U+200F on each line of right-to-left languages (false) */
    struct smpp_text_opts text; /* data_coding values (0 / 8; some gateways want 1 or 0xF0) */
};

/* The defaults of shared/spec/ussd.md. */
void ussd_config_defaults(struct ussd_config *cfg);

/* Checks ranges (service code 1..15 digits, abort_op -1..255, timeouts 1 s..1 h with
 * t_answer <= t_total, limits 20..USSD_SCREEN_MAX). Returns 0 or -EINVAL with a message naming
 * the field in err (may be NULL). */
int ussd_config_check(const struct ussd_config *cfg, char *err, size_t errlen);

/* The service address as the carrier spells it ("555" or "*555#"), NUL-terminated in out.
 * Returns 0, -ENOSPC or -EINVAL. */
int ussd_config_service_addr(const struct ussd_config *cfg, char *out, size_t cap);

/* What an inbound deliver_sm means for a dialogue. */
enum ussd_inbound {
    USSD_IN_OPEN = 0, /* PSSR indication: a new dialogue */
    USSD_IN_ANSWER,   /* USSR confirm: the subscriber's answer */
    USSD_IN_ABORT,    /* end bit set, or the vendor abort op */
    USSD_IN_UNKNOWN   /* anything else: answer ESME_ROK, log, drop */
};

/* Classifies an inbound PDU: op is ussd_service_op or -1 when absent; has_sinfo/sinfo the
 * its_session_info TLV (session number in the high octet, seq<<1 | end in the low octet). An end
 * bit wins over the op: the network closed the dialogue whatever it says. */
enum ussd_inbound ussd_inbound_classify(const struct ussd_config *cfg, int op, bool has_sinfo,
                                        uint16_t sinfo);

/* TLVs of an outbound submit_sm for one screen. */
struct ussd_outbound {
    uint8_t op;     /* ussd_service_op */
    bool has_sinfo; /* echo its_session_info */
    uint16_t sinfo; /* the inbound value with the end bit set or cleared */
};

/* Fills *out for a screen that continues (end false) or ends the dialogue, per cfg->end_method;
 * its_session_info is echoed only when the inbound PDU had it. */
void ussd_outbound_fields(const struct ussd_config *cfg, bool end, bool has_sinfo,
                          uint16_t sinfo_in, struct ussd_outbound *out);

/* ---------------------------------------------------------------- menus (ussd_menu.c) */

#define USSD_LANG_MAX 8                  /* "fr" + NUL, room for 3-letter codes */
#define USSD_NODE_ID_MAX 32              /* node ids: [a-z0-9_], 1..31 characters */
#define USSD_LANGS_MAX 8                 /* languages in one menu file */
#define USSD_NODES_MAX 128               /* nodes in one menu file */
#define USSD_OPTIONS_MAX 20              /* static options of one menu node */
#define USSD_MENU_FILE_MAX (1024 * 1024) /* bytes of a menu file */

/* A validated menu file: the tree, every text in every language, the shortcuts. Immutable once
 * loaded; owned by whoever loaded it; freed by ussd_menus_free(). The dialogue state refers to
 * nodes by id, never by pointer, so a reload between two answers is safe. */
struct ussd_menus;

/*
 * Loads and validates a menu file (format: deploy/ussd-menus.json, whose "//" keys document it).
 * Returns 0 and *out; -ENOENT when the file cannot be opened; -EINVAL when it is invalid, with
 * err holding one line naming where: "<file>:<line>:<col>: <jansson message>" for a syntax error,
 * "<file>: <json path>: <problem>" for a semantic one (for instance
 * "menus.fr.points.text: unknown placeholder {pointz}"); -ENOMEM. err may be NULL.
 */
int ussd_menus_load(const char *path, struct ussd_menus **out, char *err, size_t errlen);

/* The same from a buffer (not NUL-terminated necessarily); name is used in messages. */
int ussd_menus_load_buffer(const char *buf, size_t len, const char *name, struct ussd_menus **out,
                           char *err, size_t errlen);

/*
 * Atomic reload: loads path into a fresh object; only when it is valid - and, when cfg is not
 * NULL, when every screen fits cfg's limits (ussd_menus_check) - is *cur freed and replaced.
 * On error *cur is untouched and still in use (err says why). Call it from the loop thread,
 * between dialogue steps (the engine keeps no pointer into menus across calls).
 */
int ussd_menus_reload(struct ussd_menus **cur, const char *path, const struct ussd_config *cfg,
                      char *err, size_t errlen);

void ussd_menus_free(struct ussd_menus *menus);

/* Language codes in file order, the default one, and whether code is one of them. */
size_t ussd_menus_lang_count(const struct ussd_menus *menus);
const char *ussd_menus_lang_code(const struct ussd_menus *menus, size_t i);
const char *ussd_menus_default_lang(const struct ussd_menus *menus);
bool ussd_menus_has_lang(const struct ussd_menus *menus, const char *code);
/* Whether node id exists (for tests and the session restore path). */
bool ussd_menus_has_node(const struct ussd_menus *menus, const char *id);
/* A label of "labels.<lang>" by name ("more", "back", "invalid", "unavailable", "no_history",
 * "processing", "store_down"), in lang or, when the file has no such language, the default one.
 * NULL for an unknown name. Valid until the menus are freed. The transport uses "store_down"
 * (optional in the file: "unavailable" when absent) when it cannot even run a step (the store is
 * down: nothing was charged), and "processing" (optional likewise) for a redemption that is paid
 * but that the store failed to finish. */
const char *ussd_menus_label(const struct ussd_menus *menus, const char *lang, const char *name);

/* Referral (issue 10): the file's optional "referral" section. The shortcut of the direct dial
 * *<code>*<shortcut>*<number># ("7"), NULL when the file has none; and the node (an info node
 * with "end": true) showing a referral's outcome: one of ussd_referral_screens (the names of
 * gw_referral_outcome_name), NULL for another name. Valid until the menus are freed. */
#define USSD_REFERRAL_SCREENS 8
extern const char *const ussd_referral_screens[USSD_REFERRAL_SCREENS];
const char *ussd_menus_referral_shortcut(const struct ussd_menus *menus);
const char *ussd_menus_referral_node(const struct ussd_menus *menus, const char *outcome);

/* ---------------------------------------------------------------- providers */

#define USSD_NAME_MAX 64         /* bytes of a category or item name, NUL included */
#define USSD_VALUE_MAX 64        /* bytes of a short text value (a date, a tier name) */
#define USSD_HISTORY_MAX 5       /* movements on the history screen */
#define USSD_HISTORY_LINE_MAX 96 /* bytes of one formatted movement, NUL included */
#define USSD_LIST_MAX 99         /* categories, or items of one category, offered in a menu */
#define USSD_ITEM_ID_MAX 999     /* *555*2*<n>#: n is 1..999 */

/*
 * The subscriber as the dialogue sees it, provided by the caller (the transport reads the wallet
 * from Redis before it runs the engine, so these getters only copy prefetched data). Every getter
 * is synchronous, returns 0 or a negative errno (the screen then says "service unavailable"),
 * writes NUL-terminated UTF-8 within cap, and may be NULL when the data does not exist. lang is
 * the dialogue's language code: texts (dates, tier, history reasons) come localised.
 */
struct ussd_subscriber_ops {
    int (*balance)(void *arg, int64_t *points);
    /* The next points to expire and when (local date as text); *points 0 = nothing expires. */
    int (*expiring)(void *arg, const char *lang, int64_t *points, char *date, size_t cap);
    int (*tier)(void *arg, const char *lang, char *out, size_t cap);
    /* Up to max (5) most recent movements, newest first, each one formatted line with its
     * reason ("12/05 +50 Recharge"); *n receives how many. */
    int (*history)(void *arg, const char *lang, char lines[][USSD_HISTORY_LINE_MAX], size_t max,
                   size_t *n);
    /* The saved language preference ("" for none). */
    int (*language)(void *arg, char *out, size_t cap);
};

struct ussd_category {
    uint32_t id;
    char name[USSD_NAME_MAX]; /* in the requested language */
};

#define USSD_REF_MAX 32    /* bytes of a provider reference (catalogue version, item id) */
#define USSD_MSISDN_MAX 16 /* bytes of an MSISDN in digits (<= 15), NUL included */

struct ussd_item {
    uint32_t id; /* 1..999: what *555*2*<id># dials */
    uint32_t category_id;
    char name[USSD_NAME_MAX]; /* in the requested language */
    int64_t price;            /* points */
    int64_t stock;            /* units left; 0 = out of stock */
    /* Opaque to the USSD layer, echoed in the redemption request so that the provider can tell
     * exactly what the confirmation screen showed, even after a catalogue reload between screens:
     * the catalogue version the item was read from and the item's own id in it ("" = none). */
    char version[USSD_REF_MAX];
    char ref[USSD_REF_MAX];
    /* The item keeps its own window (an item opened by draw: registration before the gift day,
     * claims after it, its units already set aside): "1 Redeem" is offered whatever the gift-day
     * window and the stock say, and the redemption's outcome tells where the member stands. Not
     * offered as a gift. */
    bool own_window;
};

/*
 * The gift catalogue, plugged in by the catalogue module (catalog/, cat_*) through main.c; tests
 * use a fake. Synchronous like the subscriber ops; 0 or a negative errno; lists are in display
 * order and at most max long.
 */
struct ussd_catalog_ops {
    int (*categories)(void *arg, const char *lang, struct ussd_category *out, size_t max,
                      size_t *n);
    int (*items)(void *arg, const char *lang, uint32_t category_id, struct ussd_item *out,
                 size_t max, size_t *n);
    /* One item by id; -ENOENT when there is none, -EAGAIN when it exists but is stopped for now
     * (its kill switch: a confirmation then shows the "frozen" outcome's screen). */
    int (*item)(void *arg, const char *lang, uint32_t item_id, struct ussd_item *out);
    /* Whether redeeming is open now (a gift day) for a member of tier (NULL or "" unknown) who
     * holds a make-good priority pass or not (pass: let in at the premium tiers' earlier opening
     * like them); when it is not, the next opening in local time as text ("Sat 14/12 09:00", ""
     * when none is planned). */
    int (*redeem_window)(void *arg, const char *lang, const char *tier, bool pass, bool *open,
                         char *next, size_t cap);
};

/* ---------------------------------------------------------------- dialogue engine */

#define USSD_DIALLED_MAX 40 /* bytes kept of the dialled string */
#define USSD_INPUT_MAX 32   /* an answer longer than this is invalid, whatever it holds */
#define USSD_TEXT_MAX (4 * USSD_SCREEN_MAX + 4) /* bytes of one screen in UTF-8 */

/* Where a dialogue stands. Plain data: serialised between answers (ussd_record_format()). */
struct ussd_state {
    char node[USSD_NODE_ID_MAX];    /* current node id */
    uint32_t page;                  /* page shown, 0-based */
    char lang[USSD_LANG_MAX];       /* language of the dialogue */
    uint32_t category;              /* category chosen (items node), 0 = none */
    uint32_t item;                  /* item shown or pending confirmation, 0 = none */
    bool error;                     /* the screen shown carries the error line */
    char dialled[USSD_DIALLED_MAX]; /* the dialled string, sanitised ([0-9*#] only) */
    /* What the last confirmation screen showed (set when a "confirm" node is rendered): the
     * provider's version and reference of the item and its price. The redemption charges this
     * price and names this version, so the price-integrity guard compares the debit with what
     * the subscriber read, even when the catalogue was reloaded between the screens. */
    char version[USSD_REF_MAX];
    char ref[USSD_REF_MAX];
    int64_t price;
    /* Premium gifting: the beneficiary's MSISDN (digits) typed on a "gift" node, "" = self.
     * A points transfer keeps its recipient here too (typed on a "recipient" node) and its
     * amount in price (typed on an "amount" node): what its confirmation screen showed. */
    char to[USSD_MSISDN_MAX];
    /* The premium perk (issue 10 section 6): after a granted redemption for themself, a member
     * who may gift was offered the same gift for a relative: the gift and confirm screens that
     * follow are that second unit's (price: its share, ussd_env.perk_share_pct). */
    bool perk;
};

/* A side effect the transport carries out after sending the screen (returned, never called). */
enum ussd_effect {
    USSD_EFFECT_NONE = 0,
    USSD_EFFECT_SET_LANGUAGE, /* save effect_lang as the subscriber's language */
    USSD_EFFECT_REDEEM,       /* redeem effect_item (the subscriber confirmed) */
    USSD_EFFECT_RATE,         /* store effect_rating (1..5) given on the rating node effect_node
                               * (the suggestion box); effect_item: the redeemed item when the
                               * node is a confirmation's "next", else 0 */
    /* Points transfer (issue 10 section 4), run like REDEEM before the screen is stored: */
    USSD_EFFECT_TRANSFER, /* send effect_price points to effect_to with the PIN effect_pin */
    USSD_EFFECT_SET_PIN,  /* set the PIN effect_pin (effect_old_pin the current one, "" none) */
    /* Referral (issue 10 section 1), run like TRANSFER before the screen is stored: the number
     * typed on a "refer" node (effect_input, ASCII) is referred; the referral section's screen of
     * the outcome ends the dialogue */
    USSD_EFFECT_REFER
};

#define USSD_PIN_LEN 4 /* digits of a transfer PIN */
/* A PIN a subscriber may choose: exactly USSD_PIN_LEN ASCII digits, not one digit four times and
 * not a run up or down ("1234", "9876"). The PIN change screen refuses others at once. */
bool ussd_pin_acceptable(const char *pin, size_t len);

/* One step's output. Caller-owned, no pointers inside. */
struct ussd_reply {
    char text[USSD_TEXT_MAX]; /* UTF-8 page, lines separated by "\n" */
    size_t text_len;
    enum smpp_text_coding coding; /* GSM-7 or UCS-2 for the whole screen */
    uint8_t data_coding;          /* the octet to send */
    size_t units;                 /* septets or UCS-2 units (<= the screen limit) */
    bool end;                     /* last screen: PSSR response / end bit (ussd_outbound_fields) */
    bool confirm;                 /* a confirmation screen (session state CONFIRM) */
    bool error;                   /* the screen carries the error line */
    enum ussd_effect effect;
    char effect_lang[USSD_LANG_MAX];
    uint32_t effect_item;
    /* USSD_EFFECT_REDEEM: what the confirmation screen showed (struct ussd_state above) */
    char effect_version[USSD_REF_MAX];
    char effect_ref[USSD_REF_MAX];
    int64_t effect_price;
    char effect_to[USSD_MSISDN_MAX]; /* beneficiary, "" = the subscriber; TRANSFER: recipient */
    unsigned effect_rating;          /* USSD_EFFECT_RATE: 1..5 */
    char effect_node[USSD_NODE_ID_MAX];
    bool effect_perk;                /* REDEEM: the premium perk's unit (ussd_state.perk) */
    /* TRANSFER / SET_PIN: the PIN(s) typed on this answer, ASCII digits. Never stored: the
     * engine keeps no PIN in struct ussd_state, and the transport wipes these after use. */
    char effect_pin[USSD_PIN_LEN + 1];
    char effect_old_pin[USSD_PIN_LEN + 1];
    /* REFER: the answer as typed, Arabic-Indic and Persian digits as ASCII ("" when it held
     * anything else outside ASCII); the transport validates it (gw_referral_number) */
    char effect_input[USSD_INPUT_MAX + 1];
};

/*
 * Outcomes of a redemption the menu file maps to screens ("outcomes": {"<name>": "<node>"}),
 * besides "granted" (the confirm node's "next"). The transport reports one of these names in
 * ussd_env.outcome; the names are the file's vocabulary, not the catalogue module's.
 */
#define USSD_OUTCOMES(X)                                                                           \
    X(closed)        /* not a gift day now: {next_giftday} says when */                            \
    X(out_of_stock)  /* no stock left today (or no voucher code) */                                \
    X(balance)       /* not enough points */                                                       \
    X(limit)         /* the per-subscriber limit of the gift day is reached */                     \
    X(tier)          /* the item needs a higher tier */                                            \
    X(blocked)       /* the account is blocked */                                                  \
    X(unavailable)   /* the item is unknown, disabled, stopped or out of its validity */           \
    X(price_changed) /* the price-integrity guard refused: not the price shown */                  \
    X(gift_refused)  /* gifting refused (tier, beneficiary) */                                     \
    X(expired)       /* the reservation was settled as abandoned meanwhile */                      \
    X(not_released)  /* staggered opening: the member's slot is later; {slot} says when.        \
                      * Optional in the file: unmapped, it shows the "unavailable" screen */  \
    /* an item opened by draw (optional like not_released): */                                  \
    X(draw_registered) /* registered; {slot} is when the draw is */                             \
    X(draw_won)        /* a winner short of points; {slot} is the claim deadline */             \
    X(draw_waiting)    /* not drawn, on the waiting list; {slot} is the position */             \
    X(draw_lost)       /* not drawn (the list will not reach them) or the deadline passed */    \
    X(draw_closed)     /* the registration is closed */                                         \
    X(velocity)      /* the subscriber's redemptions per hour/day cap (brakes.redeem_per_*).    \
                      * Optional like not_released */                                          \
    X(frozen)        /* the item is stopped for now (the breaker or staff froze it). Optional */\
    X(perk_limit)    /* the premium perk's per-day limit (optional: "limit"'s screen) */
#define USSD_OUTCOME_GRANTED "granted"
/* true if name is "granted" or one of USSD_OUTCOMES. */
bool ussd_outcome_known(const char *name);

/*
 * Outcomes of a points transfer or a PIN change (issue 10 section 4) the menu file maps to screens
 * ("transfer_outcomes": {"<name>": "<node>"}), besides "ok" (the "pin" / "pin_set" node's "next").
 * The transport reports one in ussd_env.outcome, with its number in ussd_env.xfer_n and its end
 * time in ussd_env.until where the outcome has one ({limit}, {until} placeholders).
 */
#define USSD_XFER_OUTCOMES(X)                                                                      \
    X(pending)    /* debited; the credit is being finished (the SMS follows) */                    \
    X(nopin)      /* no PIN set yet */                                                             \
    X(badpin)     /* wrong PIN: {limit} tries left */                                              \
    X(locked)     /* too many wrong PINs: locked until {until} */                                  \
    X(frozen)     /* SIM swap: outgoing transfers frozen until {until} */                          \
    X(min)        /* below the minimum ({limit}) */                                                \
    X(max)        /* above the maximum ({limit}) */                                                \
    X(daycap)     /* over the day's cap ({limit} left today) */                                    \
    X(peercap)    /* over the day's cap towards this recipient ({limit} left) */                   \
    X(balance)    /* not enough points ({limit} spendable) */                                      \
    X(blocked)    /* the sender's account is blocked */                                            \
    X(not_member) /* the recipient is not a member */
#define USSD_XFER_OK "ok"
/* true if name is "ok" or one of USSD_XFER_OUTCOMES. */
bool ussd_xfer_outcome_known(const char *name);

/* Everything one step needs; all borrowed for the duration of the call. */
struct ussd_env {
    const struct ussd_config *cfg;
    const struct ussd_menus *menus;
    const struct ussd_subscriber_ops *sub; /* may be NULL: no subscriber data */
    void *sub_arg;
    const struct ussd_catalog_ops *cat; /* may be NULL: the catalogue is "unavailable" */
    void *cat_arg;
    /* Premium gifting (issue 4): the subscriber's MSISDN (digits; a beneficiary must differ),
     * whether their tier may send gifts (the item screen then offers the "gift" node), and the
     * country prefixes a beneficiary's number must start with. NULL / false / 0: no gifting. */
    const char *msisdn;
    bool may_gift;
    const char *const *prefixes;
    size_t n_prefixes;
    /* NULL on a first pass. The transport runs a confirmation answer twice: once to learn the
     * effect (USSD_EFFECT_REDEEM), then - with the redemption's outcome here ("granted" or a
     * USSD_OUTCOMES name) - to produce the screen that says what happened, without an effect. */
    const char *outcome;
    /* With outcome "not_released": the member's slot in local time, as the {slot} placeholder
     * shows it ("Wed 09/12 10:15"); with draw_registered the draw's time, with draw_won the
     * claim deadline, with draw_waiting the position; NULL or "": a line holding {slot} is left
     * out. */
    const char *slot;
    /* With a transfer outcome (ussd_xfer_outcome_known): its number ({limit}: tries left, the
     * minimum, what is left of a cap, the spendable points; < 0 none) and its end in local time
     * ({until}: a lock, a freeze; NULL or "" none). */
    int64_t xfer_n;
    const char *until;
    /* The premium perk: whether a granted redemption for oneself offers the same gift to a
     * relative (a confirm node's "perk" link; may_gift too), and what that unit costs, in percent
     * of the price (rounded down). false / 0: no offer. */
    bool may_perk;
    uint32_t perk_share_pct;
    /* The gift day's earlier opening (catalog.h premium): the member's tier (NULL or "" unknown)
     * and whether they hold a make-good priority pass valid today (issue 10 section 5). */
    const char *tier;
    bool pass;
};

/*
 * A new dialogue (PSSR indication). dialled[0..len) is the untrusted dialled string: "*555#"
 * opens the root menu, "*555*<s>#" a shortcut from the menu file ("*555*1#": my points),
 * "*555*<s>*<n>#" item n (1..999, no leading zero) when shortcut s opens an item node. Anything
 * else opens the root menu with the error line. The language is the subscriber's saved one when
 * the menu file has it, else the file's default. *st is overwritten.
 * Returns 0 and fills *out (and *st); -EINVAL for NULL arguments; -ENOMEM. On error *st is
 * unchanged and *out is not meaningful.
 */
int ussd_engine_open(const struct ussd_env *env, const char *dialled, size_t len,
                     struct ussd_state *st, struct ussd_reply *out);

/*
 * The subscriber's answer (USSR confirm) to the screen described by *st. input[0..len) is
 * untrusted (any bytes, NULs included): spaces around it and one trailing '#' are ignored;
 * "00" is the next page, "0" the previous page or, on the first page, the parent node; a number
 * picks an option. Anything else - or a number without an option - re-shows the same page with
 * the error line on top; a dialogue never ends because of bad input.
 * Returns 0 with *st advanced and *out filled; -EINVAL; -ENOMEM (then *st is unchanged).
 */
int ussd_engine_answer(const struct ussd_env *env, const char *input, size_t len,
                       struct ussd_state *st, struct ussd_reply *out);

/*
 * Renders again the screen *st describes (its node and page, without the error line), for a
 * transport that must answer with the current screen without advancing the dialogue (an answer
 * that lost a race with another process). Returns 0 and fills *out; -EINVAL; -ENOMEM. A node the
 * menus no longer have gives the root menu.
 */
int ussd_engine_show(const struct ussd_env *env, const struct ussd_state *st,
                     struct ussd_reply *out);

/*
 * Checks at load time that every screen of every language of menus can be laid out at the
 * limits of cfg: the error line, "0 Back", "00 More" and one character of content (the widest:
 * two units) must fit one page, in GSM-7 at gsm7_limit and in UCS-2 at ucs2_limit (any screen
 * may turn UCS-2 because of a catalogue name). Without this check a limit too small for the
 * menu file's labels would make ussd_engine_open/answer fail with -EINVAL in front of a
 * subscriber. Returns 0; -EINVAL with err naming the language, the node and the limit
 * ("menus.fa.root: a screen with the error line does not fit ussd.ucs2_limit 36: ...").
 */
int ussd_menus_check(const struct ussd_menus *menus, const struct ussd_config *cfg, char *err,
                     size_t errlen);

/*
 * Expands the SMS text `name` ("balance", "opted_out", "opted_in", "alerts_off", "alerts_on",
 * "suggest_thanks") of
 * the menu file's optional "sms" section in language lang (the default language when the file
 * does not have lang) with the subscriber placeholders of env->sub, into out[0..cap) (UTF-8,
 * NUL-terminated) and *len. Lines whose placeholder has no value are left out, as on screens. Returns 0; -ENOENT when the file has
 * no such text; -EAGAIN when a provider failed; -ENOSPC when out is too small; -EINVAL; -ENOMEM.
 */
int ussd_engine_text(const struct ussd_env *env, const char *lang, const char *name, char *out,
                     size_t cap, size_t *len);

/* ---------------------------------------------------------------- gift SMS texts (ussd_sms.c) */

/*
 * The texts the fulfilment worker sends (issue 4), in the menu file's "sms" section next to
 * "balance", so marketing edits every subscriber-facing text in one file. Optional as a set:
 * a file has all of them in every language, or none (then the worker's built-in English/French
 * texts are used). Each text has its own placeholders (other placeholders are refused at load,
 * naming the key):
 *   confirm        {item_name} {reference}        delivered to the subscriber
 *   gift_sent      {item_name} {beneficiary}      to a subscriber whose gift reached a relative
 *   gift_received  {item_name} {sender}           to the relative: who sent it
 *   voucher        {item_name} {voucher_code}     the voucher's code
 *   charity        {item_name} {item_price} {cause}  thank-you for a donation (points given)
 *   apology        {item_name} {item_price}       not delivered, points refunded
 */
#define USSD_GIFT_SMS(X)                                                                           \
    X(confirm, "item_name", "reference", NULL)                                                     \
    X(gift_sent, "item_name", "beneficiary", NULL)                                                 \
    X(gift_received, "item_name", "sender", NULL)                                                  \
    X(voucher, "item_name", "voucher_code", NULL)                                                  \
    X(charity, "item_name", "item_price", "cause")                                                 \
    X(apology, "item_name", "item_price", NULL)

/*
 * The points-transfer texts (issue 10 section 4), sent by the gateway when a transfer went
 * through, each side in their saved language. Optional as a set, like the gift texts (the
 * gateway's built-in English texts when absent):
 *   transfer_sent      {transfer_points} {recipient}   to the sender (recipient masked)
 *   transfer_received  {transfer_points} {sender}      to the recipient
 */
#define USSD_XFER_SMS(X)                                                                           \
    X(transfer_sent, "transfer_points", "recipient", NULL)                                         \
    X(transfer_received, "transfer_points", "sender", NULL)

/* Whether the file has the transfer texts (the whole set). */
bool ussd_menus_has_xfer_sms(const struct ussd_menus *menus);

/* A number as transfer screens and SMS show it: the first 4 and the last 2 digits, the others
 * as '*' ("2126******78"); a number of 6 digits or fewer keeps only its last 2. Writes a NUL-
 * terminated string into out (USSD_MSISDN_MAX bytes at least). */
void ussd_mask_number(const char *msisdn, char *out, size_t cap);

/* A placeholder's value for ussd_menus_sms_text(). */
struct ussd_sms_var {
    const char *name;  /* without braces: "item_name" */
    const char *value; /* untrusted UTF-8; NULL or "": the lines using it are left out */
};

/* Whether the file has the gift texts (the whole set). */
bool ussd_menus_has_gift_sms(const struct ussd_menus *menus);

/* The language an SMS to a subscriber whose saved language is lang ("" or NULL: none) is written
 * in: lang when the file has it, else the file's default. Valid until the menus are freed. */
const char *ussd_menus_sms_lang(const struct ussd_menus *menus, const char *lang);

/*
 * Expands the gift text `name` ("confirm", see USSD_GIFT_SMS) in ussd_menus_sms_lang(lang) with
 * vars[0..nvars) into out[0..cap) (UTF-8, NUL-terminated) and *len. A line holding a placeholder
 * without a value is left out (as on screens); control characters of a value become spaces, so a
 * value cannot add lines. The transfer texts (USSD_XFER_SMS) are expanded the same way.
 * Returns 0; -ENOENT when the file has no gift texts or no such name;
 * -ENOSPC when out is too small (out then holds nothing); -EINVAL.
 */
int ussd_menus_sms_text(const struct ussd_menus *menus, const char *lang, const char *name,
                        const struct ussd_sms_var *vars, size_t nvars, char *out, size_t cap,
                        size_t *len);

/* ---------------------------------------------------------------- sessions (ussd_session.c) */

/* Session FSM states and events (the gw_fsm table in ussd_session.c). */
enum ussd_session_state {
    USSD_ST_NEW = 0, /* created, nothing received yet */
    USSD_ST_MENU,    /* a menu is shown, waiting for an answer */
    USSD_ST_CONFIRM, /* a confirmation is shown, waiting for yes/no */
    USSD_ST_ENDING,  /* the last screen is out, waiting for the transport to report it sent */
    USSD_ST_ENDED,   /* over: the transport deletes the stored state and frees the session */
    USSD_ST__COUNT
};

enum ussd_session_event {
    USSD_EV_OPEN = 0, /* PSSR indication */
    USSD_EV_ANSWER,   /* USSR confirm */
    USSD_EV_ABORT,    /* end bit or vendor abort op from the network */
    USSD_EV_SENT,     /* the transport sent the last screen (submit_sm_resp) */
    USSD_EV_T_ANSWER, /* timer T_ANSWER expired */
    USSD_EV_T_TOTAL,  /* timer T_TOTAL expired */
    USSD_EV_T_END,    /* timer T_END expired */
    USSD_EV__COUNT
};

/* Named timers (one armed at a time: the one that expires first). */
enum ussd_timer { USSD_T_ANSWER = 0, USSD_T_TOTAL, USSD_T_END, USSD_T__COUNT };

/* Why a session ended, given to the ended callback. */
enum ussd_end_reason {
    USSD_ENDED_COMPLETED = 0, /* last screen sent (or T_END passed) */
    USSD_ENDED_ABORTED,       /* the network or subscriber aborted */
    USSD_ENDED_T_ANSWER,
    USSD_ENDED_T_TOTAL
};

const char *ussd_end_reason_name(enum ussd_end_reason reason);

#define USSD_KEY_MAX 48 /* "ussd:" + MSISDN (<= 20) + ":s255" / ":u65535" + NUL */

/*
 * Builds the session key of shared/spec/ussd.md "A dialogue": "ussd:<msisdn>:s<n>" with n the
 * session number of its_session_info (high octet; the end bit lives in the low octet and never
 * matters), "ussd:<msisdn>:u<umr>" with user_message_reference, or "ussd:<msisdn>", per
 * cfg->key_mode and what the PDU carries. msisdn is untrusted: 1..20 digits with an optional
 * leading '+' (dropped). Returns 0, -EINVAL (bad MSISDN) or -ENOSPC.
 */
int ussd_session_key(const struct ussd_config *cfg, const char *msisdn, bool has_sinfo,
                     uint16_t sinfo, bool has_umr, uint16_t umr, char *out, size_t cap);

/* What is stored between answers (Redis, with a TTL of t_total): FSM state, dialogue state, when
 * the dialogue started and when its last screen was sent (wall-clock ms, gw_clock_now_ms(), so
 * that any process can enforce T_TOTAL and T_ANSWER). */
struct ussd_record {
    enum ussd_session_state fsm_state;
    struct ussd_state st;
    int64_t started_ms;
    int64_t last_ms;
};

#define USSD_RECORD_MAX 384 /* bytes of a formatted record, NUL included */

/* Formats rec as one compact line: "v=1;s=MENU;n=main;p=0;l=fr;c=0;i=0;e=0;t=...;a=...;d=*555#",
 * plus, when set, w=<version>;r=<item ref>;m=<price shown>;b=<beneficiary>;k=1 (premium perk).
 * Returns the length (< cap) or -ENOSPC / -EINVAL. */
int ussd_record_format(const struct ussd_record *rec, char *out, size_t cap);

/* Parses untrusted stored text (any bytes) back. Unknown keys are skipped (a newer writer);
 * every known key must be well formed and present at most once; v, s, n, l, t, a are required.
 * Returns 0 or -EINVAL (and *rec is zeroed). */
int ussd_record_parse(const char *in, size_t len, struct ussd_record *rec);

struct ussd_session;
struct event_base;
struct gw_fsm_inst;

/* Called once when the session enters ENDED, from inside a session call or a timer: do not free
 * the session inside it (defer, STYLE.md); delete the stored record. On ABORTED or a timeout the
 * network is told nothing by the session; a transport that wants to release the dialogue sends
 * its own last message. */
struct ussd_session_cbs {
    void (*ended)(void *arg, struct ussd_session *s, enum ussd_end_reason reason);
    void *arg;
};

/*
 * A session in state NEW. key (ussd_session_key()) names it in logs as ussd(<masked key>){STATE};
 * msisdn is masked to its last 4 digits there. base arms the named timers (NULL: never armed,
 * for unit tests that fire them by hand with ussd_session_fsm()/gw_fsm_timer_fire()). cfg and cbs
 * are borrowed and must outlive the session. Returns NULL on bad arguments or no memory.
 */
struct ussd_session *ussd_session_new(const struct ussd_config *cfg, struct event_base *base,
                                      const char *key, const char *msisdn,
                                      const struct ussd_session_cbs *cbs);

/* A session rebuilt from a stored record (another process sent the previous screen). The FSM
 * starts in rec->fsm_state without a transition (logged as "restored"); the timer is re-armed
 * for what remains of T_ANSWER / T_TOTAL. A record already past a deadline is restored and
 * expires on the caller's next step. Returns NULL on bad arguments or no memory. */
struct ussd_session *ussd_session_restore(const struct ussd_config *cfg, struct event_base *base,
                                          const char *key, const char *msisdn,
                                          const struct ussd_session_cbs *cbs,
                                          const struct ussd_record *rec);

/* Frees the session and disarms its timer. NULL is a no-op. Never from inside its callback. */
void ussd_session_free(struct ussd_session *s);

/*
 * Session steps. Each returns 0 with *out filled with the screen to send (open/answer), -ESRCH
 * when the session takes no such input in its state (late answer after the end, answer before
 * open: nothing to send), -ETIMEDOUT when T_TOTAL or T_ANSWER had already passed (the session
 * is then ENDED), -EINVAL/-ENOMEM. A repeated OPEN restarts the dialogue.
 */
int ussd_session_open(struct ussd_session *s, const struct ussd_env *env, const char *dialled,
                      size_t len, struct ussd_reply *out);
int ussd_session_answer(struct ussd_session *s, const struct ussd_env *env, const char *input,
                        size_t len, struct ussd_reply *out);
/* The network aborted (end bit or abort op). Returns 0 or -ESRCH when already ended. */
int ussd_session_abort(struct ussd_session *s);
/* The last screen was sent (submit_sm_resp): ENDING -> ENDED. Returns 0 or -ESRCH. */
int ussd_session_sent(struct ussd_session *s);

enum ussd_session_state ussd_session_get_state(const struct ussd_session *s);
const char *ussd_session_state_name(enum ussd_session_state state);
const struct ussd_state *ussd_session_dialogue(const struct ussd_session *s);
const char *ussd_session_get_key(const struct ussd_session *s);
/* The record to store after a step (its TTL: the rest of t_total). */
void ussd_session_record(const struct ussd_session *s, struct ussd_record *rec);
/* The embedded FSM instance, for tests (gw_fsm_timer_fire) and logs. */
struct gw_fsm_inst *ussd_session_fsm(struct ussd_session *s);

#endif
