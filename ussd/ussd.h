/*
 * ussd.h - the USSD layer of the loyalty gateway: sessions, menus, pagination, languages. It
 * knows no PDU: text goes in and out as UTF-8 plus the coding chosen for the wire (smpp_text.h).
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
};

/* Defaults: 182 / 80, "00 More", "0 Back" (static English strings), no bidi marks,
 * smpp_text_opts_defaults(). */
void ussd_page_config_defaults(struct ussd_page_config *cfg);

/* One page as returned by ussd_pages_get(); pointers stay valid until ussd_pages_free(). */
struct ussd_page {
    const char *text;             /* UTF-8, NUL-terminated, lines separated by "\n" */
    size_t text_len;              /* bytes of text */
    enum smpp_text_coding coding; /* the same for every page of one screen */
    uint8_t data_coding;          /* smpp_text_data_coding(coding, &cfg->text) */
    size_t units;                 /* length counted against the limit: septets or UCS-2 units */
    size_t encoded_len;           /* octets of smpp_text_encode(text) in coding */
    bool has_back;                /* the page ends with the back line (every page but the first) */
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
 * Layout: lines are body lines then options, in order; each page is its content lines followed
 * by "0 Back" (all pages but the first) and "00 More" (all pages but the last), and its length
 * including the "\n" separators and the navigation lines is <= the limit. Options are never cut
 * when they fit on a page: an option that does not fit the rest of a page moves to the next.
 * Body text is broken at spaces (the space at a break is dropped); a word is hard-split, on a
 * character boundary (never inside a UTF-8 sequence, GSM escape pair or surrogate pair), only
 * when it is longer than a whole page. As a last resort an option longer than a whole page is
 * split the same way as body text, continuing on the following page(s).
 * Text is never reordered or reversed (right-to-left scripts stay in logical order).
 *
 * Returns 0 and *out (free with ussd_pages_free()); -EINVAL for bad arguments, a limit of 0 or
 * above USSD_SCREEN_MAX, or navigation lines that leave no room for content; -ENOMEM.
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

#endif
