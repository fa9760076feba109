/*
 * ussd_priv.h - private to the ussd library: the in-memory form of a validated menu file, shared
 * by the loader (ussd_menu.c) and the dialogue engine (ussd_engine.c).
 *
 * Ownership: struct ussd_menus owns the parsed JSON document (doc); every `const char *` text
 * below points into it and lives exactly as long as the menus object. Arrays are owned by the
 * object and freed by ussd_menus_free().
 */
#ifndef USSD_PRIV_H
#define USSD_PRIV_H

#include "ussd.h"

#include <jansson.h>

/* Node kinds. The tree (nodes.*) is the same for every language; texts (menus.<lang>.*) differ. */
enum menu_kind {
    MENU_KIND_MENU = 0,   /* static options, each leading to a node */
    MENU_KIND_INFO,       /* a text with placeholders (my points, history, help, done screens) */
    MENU_KIND_LANGUAGE,   /* options are the file's languages; choosing one saves it */
    MENU_KIND_CATEGORIES, /* options are the catalogue's categories */
    MENU_KIND_ITEMS,      /* options are the items of the chosen category */
    MENU_KIND_ITEM,       /* one item; "1 Redeem" when redeeming is open and it is in stock */
    MENU_KIND_CONFIRM,    /* "1 Yes" / "2 No" before a redemption */
    MENU_KIND_GIFT,       /* premium gifting: asks for the beneficiary's number, then "next" */
    MENU_KIND_RATING,     /* the suggestion box: "1".."5" rates (an effect), then "next"; "0" is
                           * "back" (skip): no back line, the text says so */
    /* points transfer (issue 10 section 4) */
    MENU_KIND_RECIPIENT, /* asks for the recipient's number (as "gift" does), then "next" */
    MENU_KIND_AMOUNT,    /* asks for the points to send, then "next" */
    MENU_KIND_PIN,       /* asks for the PIN: the transfer runs (effect), "next" when it went */
    MENU_KIND_PIN_SET,   /* asks "new*new" or "current*new*new": the PIN is set, then "next" */
    MENU_KIND_REFER,     /* referral (issue 10 section 1): asks for the friend's number; the
                          * transport runs the referral (effect) and shows the outcome's screen
                          * of the file's "referral" section, the last one */
    MENU_KIND__COUNT
};

/* Placeholders a text may use ({points} ...). */
enum menu_ph {
    PH_POINTS = 0,
    PH_EXPIRING_POINTS,
    PH_EXPIRING_DATE,
    PH_TIER,
    PH_HISTORY,
    PH_NEXT_GIFTDAY,
    PH_ITEM_ID,
    PH_ITEM_NAME,
    PH_ITEM_PRICE,
    PH_ITEM_STOCK,
    PH_CATEGORY_NAME,
    PH_BENEFICIARY,
    PH_SLOT,
    PH_RECIPIENT,       /* the transfer's recipient, masked (ussd_mask_number) */
    PH_TRANSFER_POINTS, /* the transfer's amount */
    PH_LIMIT,           /* a transfer outcome's number (ussd_env.xfer_n) */
    PH_UNTIL,           /* a lock's or a freeze's end (ussd_env.until) */
    PH_PERK_PRICE,      /* the premium perk's price (ussd_state.price while perk) */
    PH__COUNT
};

extern const char *const menu_ph_names[PH__COUNT];
extern const char *const menu_kind_names[MENU_KIND__COUNT];

/* Finds a placeholder by name[0..len); -1 when unknown. */
int menu_ph_find(const char *name, size_t len);

/* The gift SMS texts of ussd.h's USSD_GIFT_SMS, in that order (ussd_sms.c). */
#define MENU_GIFT_SMS_ENUM(name, a, b, c) MENU_GIFT_SMS_##name,
enum menu_gift_sms { USSD_GIFT_SMS(MENU_GIFT_SMS_ENUM) MENU_GIFT_SMS__COUNT };
#undef MENU_GIFT_SMS_ENUM
struct menu_gift_sms_def {
    const char *name;            /* "confirm": the key under sms.<lang> */
    const char *placeholders[4]; /* the ones this text may use, NULL-terminated */
};
extern const struct menu_gift_sms_def menu_gift_sms_defs[MENU_GIFT_SMS__COUNT];

/* One node's texts in one language. NULL where the kind has no such text. */
struct menu_text {
    const char *text;     /* body (all kinds) */
    const char **opt;     /* MENU: one label per static option (node->nopt) */
    const char *option;   /* ITEMS: the line template of one item */
    const char *redeem;   /* ITEM: the redeem option label */
    const char *closed;   /* ITEM: line shown when redeeming is closed */
    const char *no_stock; /* ITEM: line shown when the item is out of stock */
    const char *yes, *no; /* CONFIRM: option labels */
    const char *gift;     /* ITEM with a "gift" link: the "send as a gift" option label */
    const char *bad_number, *own_number; /* GIFT, RECIPIENT: error lines for a refused number */
    const char *bad_amount;              /* AMOUNT: error line for a refused amount */
    const char *bad_pin;                 /* PIN, PIN_SET: error line for a malformed PIN */
};

struct menu_node {
    const char *id;
    enum menu_kind kind;
    bool end; /* a final screen: the dialogue ends on its last page */
    int back; /* node index "0" returns to on the first page, -1 none */
    int next; /* node index an option leads to (LANGUAGE, CATEGORIES, ITEMS, ITEM, CONFIRM, GIFT) */
    int gift; /* ITEM: the "gift" node option 2 leads to (premium subscribers), -1 none */
    int perk; /* CONFIRM: the premium perk's offer shown after a granted redemption, -1 none */
    int *opt; /* MENU: node index of each option */
    size_t nopt;
    struct menu_text *txt; /* one per language, in language order */
};

struct menu_lang {
    const char *code; /* "fr" */
    const char *name; /* in its own language: "Français" */
    bool rtl;         /* right-to-left script (bidi marks when configured) */
    const char *more, *back, *invalid, *unavailable, *no_history; /* labels */
    const char *processing; /* optional label: a paid redemption the store did not finish */
    const char *store_down; /* optional label: the store failed before anything was charged */
    const char *sms_balance; /* "sms.<lang>.balance" (optional section), NULL when absent */
    const char *sms_opted_out; /* "sms.<lang>.opted_out" / "opted_in" (consent confirmations, */
    const char *sms_opted_in;  /* optional): NULL when absent */
    const char *sms_alerts_off; /* "sms.<lang>.alerts_off" / "alerts_on": the expiry warnings' */
    const char *sms_alerts_on;  /* own switch (optional): NULL when absent */
    const char *sms_suggest_thanks; /* "sms.<lang>.suggest_thanks" (optional): NULL when absent */
    const char *sms_gift[MENU_GIFT_SMS__COUNT]; /* "sms.<lang>.confirm" ...: NULL when absent */
    const char *sms_xfer[2]; /* "sms.<lang>.transfer_sent" / "transfer_received" (USSD_XFER_SMS) */
};

struct menu_shortcut {
    const char *code; /* digits after the service code: "1" in *555*1# */
    int node;
};

struct ussd_menus {
    json_t *doc;
    struct menu_lang *lang;
    size_t nlang;
    size_t default_lang;
    struct menu_node *node;
    size_t nnode;
    size_t root;
    struct menu_shortcut *sc;
    size_t nsc;
    /* "outcomes": node index per USSD_OUTCOMES name, in that order; has_outcomes false when the
     * file has no such section (every refusal then reads "unavailable"). */
    bool has_outcomes;
    /* the gift SMS texts (sms.<lang>.confirm ...) are in the file, for every language */
    bool has_gift_sms;
    int outcome[24];
    /* "referral": the direct dial's shortcut ("" = none) and the node of each outcome */
    char ref_shortcut[4];
    int ref_node[USSD_REFERRAL_SCREENS];
    /* "transfer_outcomes": node index per USSD_XFER_OUTCOMES name; has_xfer_outcomes false when
     * the file has none (a refused transfer then reads "unavailable") */
    bool has_xfer_outcomes;
    int xfer_outcome[16];
    bool has_xfer_sms; /* sms.<lang>.transfer_sent / transfer_received, in every language */
};

/* Index of name in USSD_OUTCOMES order, -1 when unknown ("granted" included). */
int menu_outcome_find(const char *name);
extern const char *const menu_outcome_names[];
extern const size_t menu_outcome_count;

/* Index of name in USSD_XFER_OUTCOMES order, -1 when unknown ("ok" included). */
int menu_xfer_outcome_find(const char *name);
extern const char *const menu_xfer_outcome_names[];
extern const size_t menu_xfer_outcome_count;
/* The transfer texts of USSD_XFER_SMS, in that order (ussd_sms.c). */
extern const struct menu_gift_sms_def menu_xfer_sms_defs[2];

/* Node index by id, -1 when none. */
int menu_node_find(const struct ussd_menus *m, const char *id);
/* Language index by code, -1 when none. */
int menu_lang_find(const struct ussd_menus *m, const char *code);

#endif
