/*
 * ussd_page.c - cuts one USSD menu screen (body + options) into pages that each fit the screen
 * limit, with "00 More" / "0 Back" navigation lines counted in that limit (see ussd.h for the
 * contract). Pure logic: no I/O, no clock.
 *
 * Ownership: ussd_pages_new() copies and sanitises its input (invalid UTF-8 -> U+FFFD) into
 * scratch buffers freed before it returns; struct ussd_pages owns an array of page texts, all
 * released by ussd_pages_free().
 *
 * Layout is greedy, one page at a time: first try to put everything left on a page that needs no
 * "00 More" (the last page); if it does not fit, fill a page whose budget leaves room for both
 * navigation lines. Lengths are counted in the units of the chosen coding (GSM-7 septets with
 * escapes counting two, or UCS-2 16-bit units), never in bytes or code points.
 */
#include "ussd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RLM 0x200Fu /* U+200F RIGHT-TO-LEFT MARK */

void ussd_page_config_defaults(struct ussd_page_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->gsm7_limit = USSD_SCREEN_GSM7_DEFAULT;
    cfg->ucs2_limit = USSD_SCREEN_UCS2_DEFAULT;
    cfg->more_label = "00 More";
    cfg->back_label = "0 Back";
    cfg->bidi_marks = false;
    smpp_text_opts_defaults(&cfg->text);
    cfg->header = NULL;
    cfg->first_back = false;
}

/* ---------------------------------------------------------------- result */

struct page_rec {
    char *text;
    size_t len;
    size_t units;
    bool back, more;
};

struct ussd_pages {
    enum smpp_text_coding coding;
    uint8_t data_coding;
    struct smpp_text_opts opts;
    size_t n, cap;
    struct page_rec *page;
};

/* ---------------------------------------------------------------- growable text buffer */

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap - b->len < n + 1) {
            if (ncap > SIZE_MAX / 2)
                return -ENOMEM;
            ncap *= 2;
        }
        char *np = realloc(b->p, ncap);
        if (!np)
            return -ENOMEM;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int sbuf_put_cp(struct sbuf *b, uint32_t cp)
{
    char tmp[4];
    return sbuf_put(b, tmp, smpp_text_utf8_put(cp, tmp));
}

/* Copies untrusted UTF-8 into a fresh NUL-terminated buffer of valid UTF-8 (U+FFFD for every
 * invalid subpart), so that page texts are valid and their counted length is what is sent. */
static int sanitize(const char *s, size_t len, struct sbuf *out)
{
    size_t i = 0, run = 0, adv;
    int rc = sbuf_put(out, "", 0);

    while (rc == 0 && i < len) {
        uint32_t cp = smpp_text_utf8_next(s + i, len - i, &adv);
        if (cp == SMPP_TEXT_REPLACEMENT || cp == 0) {
            rc = sbuf_put(out, s + run, i - run); /* the valid bytes before, as they are */
            if (rc == 0)
                rc = sbuf_put_cp(out, SMPP_TEXT_REPLACEMENT);
            run = i + adv;
        }
        i += adv;
    }
    if (rc == 0)
        rc = sbuf_put(out, s + run, len - run);
    return rc;
}

/* ---------------------------------------------------------------- layout context */

struct line {
    const char *s; /* valid UTF-8 (sanitised) */
    size_t len;
    bool option;
    size_t units; /* cost of the whole line in the layout's coding (set once it is chosen) */
};

struct layout {
    enum smpp_text_coding coding;
    const struct smpp_text_opts *opts;
    size_t pre;   /* units of the per-line prefix (RLM) or 0 */
    size_t fresh; /* content budget of any page with both navigation lines (and the header) */
    struct line *line;
    size_t nline;
    const struct line *header; /* shown on top of every page, or NULL */
    bool first_back;           /* the first page ends with the back line too */
};

/* Position in the content: line index, byte offset inside it. */
struct cursor {
    size_t li, off;
};

/* Units of s[0..len) in the layout's coding; every character fits (coding chosen for it). */
static size_t cost(const struct layout *lo, const char *s, size_t len)
{
    ssize_t n = smpp_text_units(lo->coding, s, len, lo->opts);
    return n < 0 ? 0 : (size_t)n;
}

/* Units of s[0..len), counted only as far as needed to know whether they exceed cap: the exact
 * count when it is <= cap, some value > cap otherwise (a long line is not counted to its end at
 * every page it is cut into). */
static size_t cost_upto(const struct layout *lo, const char *s, size_t len, size_t cap)
{
    size_t i = 0, adv, used = 0;

    while (i < len && used <= cap) {
        int c = smpp_text_char_cost(lo->coding, smpp_text_utf8_next(s + i, len - i, &adv), lo->opts);
        used += c < 0 ? 0 : (size_t)c;
        i += adv;
    }
    return used;
}

/* One page being built: text, counted units, number of lines (fixed: the header lines, which
 * do not count as content when deciding whether the page is still empty). */
struct page_build {
    struct sbuf text;
    size_t units;
    size_t nlines;
    size_t fixed;
};

/* Adds s[0..len), which costs units, as a line of its own. */
static int page_add_line(const struct layout *lo, struct page_build *pb, const char *s, size_t len,
                         size_t units)
{
    int rc = 0;

    if (pb->nlines > 0) {
        rc = sbuf_put(&pb->text, "\n", 1);
        pb->units += 1;
    }
    if (rc == 0 && lo->pre) {
        rc = sbuf_put_cp(&pb->text, RLM);
        pb->units += lo->pre;
    }
    if (rc == 0)
        rc = sbuf_put(&pb->text, s, len);
    pb->units += units;
    pb->nlines++;
    return rc;
}

/*
 * Within rest[0..len), finds the longest prefix that ends before a space (a word boundary) and
 * costs <= avail. Returns its length in bytes (0 if none) and sets *first_word to the cost of the
 * first word (up to the first space) - or, for a first word longer than a fresh page (it is only
 * compared with one), to some value above lo->fresh: the scan stops there instead of running to
 * the end of a long line at every page it is cut into.
 */
static size_t word_prefix(const struct layout *lo, const char *rest, size_t len, size_t avail,
                          size_t *first_word)
{
    size_t i = 0, adv, used = 0, best = 0;
    bool first_done = false;

    *first_word = 0;
    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(rest + i, len - i, &adv);
        if (cp == ' ' && i > 0 && rest[i - 1] != ' ') {
            if (used <= avail)
                best = i;
            first_done = true;
        }
        used += (size_t)smpp_text_char_cost(lo->coding, cp, lo->opts);
        if (!first_done)
            *first_word = used;
        if (used > avail && (first_done || used > lo->fresh))
            break; /* no longer prefix can fit; first_word is known, or known to be too long */
        i += adv;
    }
    if (i >= len && used <= avail)
        best = len;
    return best;
}

/* Longest prefix of rest[0..len) on a character boundary with cost <= avail. */
static size_t char_prefix(const struct layout *lo, const char *rest, size_t len, size_t avail)
{
    size_t i = 0, adv, used = 0;

    while (i < len) {
        uint32_t cp = smpp_text_utf8_next(rest + i, len - i, &adv);
        size_t c = (size_t)smpp_text_char_cost(lo->coding, cp, lo->opts);
        if (used + c > avail)
            break;
        used += c;
        i += adv;
    }
    return i;
}

/*
 * Fills one page with content from *cur, within budget units (navigation excluded). On return
 * *cur is advanced past what was placed. Returns 0 or -ENOMEM.
 */
static int fill_page(const struct layout *lo, struct cursor *cur, size_t budget,
                     struct page_build *pb)
{
    int rc = 0;

    while (rc == 0 && cur->li < lo->nline) {
        const struct line *ln = &lo->line[cur->li];
        const char *rest = ln->s + cur->off;
        size_t rlen = ln->len - cur->off;
        size_t need = (pb->nlines > 0 ? 1 : 0) + lo->pre;
        size_t whole;
        size_t avail, take, first_word;

        if (pb->units + need > budget)
            break; /* not even a separator fits */
        avail = budget - pb->units - need;
        whole = cur->off == 0 ? ln->units : cost_upto(lo, rest, rlen, avail);
        if (whole <= avail) {
            rc = page_add_line(lo, pb, rest, rlen, whole);
            cur->li++;
            cur->off = 0;
            continue;
        }
        /* An option that fits a page is never cut: it moves to the next page. */
        if (ln->option && cur->off == 0 && lo->pre + whole <= lo->fresh && pb->nlines > pb->fixed)
            break;
        take = word_prefix(lo, rest, rlen, avail, &first_word);
        if (take == 0) {
            /* The first word does not fit here. Hard-split it only when it would not fit a whole
             * page either (or this page is empty and nothing else can go on it). */
            if (lo->pre + first_word <= lo->fresh && pb->nlines > pb->fixed)
                break;
            take = char_prefix(lo, rest, rlen, avail);
            if (take == 0)
                break; /* not one character fits: next page (or the caller's no-progress) */
        }
        rc = page_add_line(lo, pb, rest, take, cost(lo, rest, take));
        cur->off += take;
        while (cur->off < ln->len && ln->s[cur->off] == ' ')
            cur->off++; /* the space(s) at a break are not shown */
        if (cur->off >= ln->len) {
            cur->li++;
            cur->off = 0;
        }
        break; /* a split line fills the page */
    }
    return rc;
}

static bool at_end(const struct layout *lo, const struct cursor *cur)
{
    return cur->li >= lo->nline;
}

/* ---------------------------------------------------------------- pages */

void ussd_pages_free(struct ussd_pages *pages)
{
    if (!pages)
        return;
    for (size_t i = 0; i < pages->n; i++)
        free(pages->page[i].text);
    free(pages->page);
    free(pages);
}

size_t ussd_pages_count(const struct ussd_pages *pages)
{
    return pages ? pages->n : 0;
}

int ussd_pages_get(const struct ussd_pages *pages, size_t i, struct ussd_page *page)
{
    if (!pages || !page || i >= pages->n)
        return -ERANGE;
    const struct page_rec *r = &pages->page[i];
    page->text = r->text;
    page->text_len = r->len;
    page->coding = pages->coding;
    page->data_coding = pages->data_coding;
    page->units = r->units;
    /* unpacked GSM-7: one octet per septet; UCS-2: two octets per 16-bit unit */
    page->encoded_len = pages->coding == SMPP_TEXT_UCS2 ? 2 * r->units : r->units;
    page->has_back = r->back;
    page->has_more = r->more;
    return 0;
}

int ussd_pages_encode(const struct ussd_pages *pages, size_t i, uint8_t *out, size_t cap,
                      size_t *len)
{
    if (!pages || i >= pages->n)
        return -ERANGE;
    return smpp_text_encode(pages->page[i].text, pages->page[i].len, pages->coding, &pages->opts,
                            out, cap, len);
}

static int pages_push(struct ussd_pages *pg, struct page_build *pb, bool back, bool more)
{
    if (pg->n == pg->cap) {
        size_t ncap = pg->cap ? pg->cap * 2 : 4;
        struct page_rec *np = realloc(pg->page, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        pg->page = np;
        pg->cap = ncap;
    }
    if (!pb->text.p && sbuf_put(&pb->text, "", 0) < 0)
        return -ENOMEM;
    pg->page[pg->n].text = pb->text.p; /* ownership moves to pg */
    pg->page[pg->n].len = pb->text.len;
    pg->page[pg->n].units = pb->units;
    pg->page[pg->n].back = back;
    pg->page[pg->n].more = more;
    pg->n++;
    memset(pb, 0, sizeof(*pb));
    return 0;
}

static bool all_gsm7(const struct line *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (smpp_text_gsm7_len(line[i].s, line[i].len) < 0)
            return false;
    return true;
}

/* The whole content as one page, in units, when it fits GSM-7 (for the coding decision). */
static size_t total_cost(const struct layout *lo)
{
    size_t t = 0;
    for (size_t i = 0; i < lo->nline; i++)
        t += (i > 0 ? 1 : 0) + lo->pre + cost(lo, lo->line[i].s, lo->line[i].len);
    return t;
}

/* Starts a page: the header line, if any, comes first on every page. */
static int page_start(const struct layout *lo, struct page_build *pb)
{
    int rc = 0;

    if (lo->header) {
        rc = page_add_line(lo, pb, lo->header->s, lo->header->len, lo->header->units);
        pb->fixed = pb->nlines;
    }
    return rc;
}

/*
 * Whether the rest of the content (from cur) may end on a page that already holds nlines lines
 * and has room units left: only if every remaining line goes on it whole, the last one at least
 * up to its trailing spaces (dropped at a break). When even that lower bound exceeds the room,
 * trying to end the content there is wasted work.
 */
static bool may_end_here(const struct layout *lo, const struct cursor *cur, size_t nlines,
                         size_t room)
{
    size_t t = 0;

    for (size_t i = cur->li; i < lo->nline && t <= room; i++, nlines++) {
        const struct line *ln = &lo->line[i];
        size_t off = i == cur->li ? cur->off : 0, len = ln->len - off, u;

        if (i + 1 == lo->nline) {
            while (len > 0 && ln->s[off + len - 1] == ' ')
                len--;
        }
        t += (nlines > 0 ? 1 : 0) + lo->pre;
        u = (off == 0 && len == ln->len) ? ln->units : cost_upto(lo, ln->s + off, len, room);
        t += u;
    }
    return t <= room;
}

/* Lays out every page of lo with navigation lines nav[0] (back) and nav[1] (more). */
static int paginate(const struct layout *lo, size_t limit, const struct line *back,
                    const struct line *more, struct ussd_pages *pg)
{
    struct cursor cur = {0, 0};
    struct page_build pb = {{NULL, 0, 0}, 0, 0, 0};
    size_t back_c = 1 + lo->pre + back->units;
    size_t more_c = 1 + lo->pre + more->units;
    int rc = 0;

    for (size_t p = 0; rc == 0 && (p == 0 || !at_end(lo, &cur)); p++) {
        bool has_back = p > 0 || lo->first_back;
        size_t nav_back = has_back ? back_c : 0;
        struct cursor try = cur;
        bool has_more = false;

        if (nav_back >= limit) {
            rc = -EINVAL;
            break;
        }
        rc = page_start(lo, &pb);
        if (rc == 0 && pb.units <= limit - nav_back &&
            may_end_here(lo, &cur, pb.nlines, limit - nav_back - pb.units))
            rc = fill_page(lo, &try, limit - nav_back, &pb);
        if (rc == 0 && !at_end(lo, &try)) {
            /* Not the last page: start again with room for "00 More" as well. */
            free(pb.text.p);
            memset(&pb, 0, sizeof(pb));
            has_more = true;
            if (nav_back + more_c >= limit) {
                rc = -EINVAL;
                break;
            }
            try = cur;
            rc = page_start(lo, &pb);
            if (rc == 0)
                rc = fill_page(lo, &try, limit - nav_back - more_c, &pb);
            if (rc == 0 && pb.nlines == pb.fixed)
                rc = -EINVAL; /* no progress: the limit cannot hold one character */
        }
        if (rc == 0 && has_back)
            rc = page_add_line(lo, &pb, back->s, back->len, back->units);
        if (rc == 0 && has_more)
            rc = page_add_line(lo, &pb, more->s, more->len, more->units);
        if (rc == 0 && pb.units > limit)
            rc = -EINVAL; /* the header and navigation lines alone overflow the page */
        if (rc == 0)
            rc = pages_push(pg, &pb, has_back, has_more);
        cur = try;
    }
    free(pb.text.p);
    return rc;
}

int ussd_pages_new(const struct ussd_page_config *cfg, const char *body, const char *const *options,
                   size_t n_options, struct ussd_pages **out)
{
    struct sbuf body_s = {NULL, 0, 0}, back_s = {NULL, 0, 0}, more_s = {NULL, 0, 0};
    struct sbuf head_s = {NULL, 0, 0};
    struct sbuf *opt_s = NULL;
    struct line *lines = NULL;
    struct ussd_pages *pg = NULL;
    struct layout lo;
    struct line back, more, head;
    size_t nlines = 0, body_lines = 0, limit;
    int rc = 0;

    if (out)
        *out = NULL;
    if (!cfg || !out || (n_options && !options) || !cfg->more_label || !cfg->back_label ||
        cfg->gsm7_limit == 0 || cfg->ucs2_limit == 0 || cfg->gsm7_limit > USSD_SCREEN_MAX ||
        cfg->ucs2_limit > USSD_SCREEN_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n_options; i++)
        if (!options[i])
            return -EINVAL;
    if (n_options > SIZE_MAX / sizeof(*lines) - 1)
        return -EINVAL;

    /* Sanitised copies: body, labels, options. */
    if (body)
        rc = sanitize(body, strlen(body), &body_s);
    else
        rc = sbuf_put(&body_s, "", 0);
    if (rc == 0)
        rc = sanitize(cfg->back_label, strlen(cfg->back_label), &back_s);
    if (rc == 0)
        rc = sanitize(cfg->more_label, strlen(cfg->more_label), &more_s);
    if (rc == 0 && cfg->header)
        rc = sanitize(cfg->header, strnlen(cfg->header, 4 * USSD_SCREEN_MAX), &head_s);
    if (rc < 0)
        goto out;
    opt_s = calloc(n_options ? n_options : 1, sizeof(*opt_s));
    if (!opt_s) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < n_options; i++)
        rc = sanitize(options[i], strlen(options[i]), &opt_s[i]);
    if (rc < 0)
        goto out;

    /* Lines: body split at "\n" (a final "\n" ignored), then one line per option. */
    if (body_s.len > 0) {
        body_lines = 1;
        for (size_t i = 0; i + 1 < body_s.len; i++)
            body_lines += body_s.p[i] == '\n';
    }
    lines = calloc(body_lines + n_options + 1, sizeof(*lines));
    if (!lines) {
        rc = -ENOMEM;
        goto out;
    }
    if (body_s.len > 0) {
        size_t start = 0, end = body_s.len;
        if (body_s.p[end - 1] == '\n')
            end--;
        for (size_t i = 0; i <= end; i++) {
            if (i == end || body_s.p[i] == '\n') {
                lines[nlines++] = (struct line){body_s.p + start, i - start, false, 0};
                start = i + 1;
            }
        }
    }
    for (size_t i = 0; i < n_options; i++)
        lines[nlines++] = (struct line){opt_s[i].p, opt_s[i].len, true, 0};
    back = (struct line){back_s.p, back_s.len, false, 0};
    more = (struct line){more_s.p, more_s.len, false, 0};
    head = (struct line){head_s.p, head_s.len, false, 0};
    /* a header is one line: anything after a "\n" in it is not shown */
    if (head_s.len > 0) {
        char *nl = memchr(head_s.p, '\n', head_s.len);
        if (nl)
            head.len = (size_t)(nl - head_s.p);
    }

    pg = calloc(1, sizeof(*pg));
    if (!pg) {
        rc = -ENOMEM;
        goto out;
    }
    pg->opts = cfg->text;

    /* Coding for the whole screen (spec "Text"): GSM-7 when everything shown fits it. The
     * navigation lines count only when shown, i.e. when the content needs more than one page. */
    memset(&lo, 0, sizeof(lo));
    lo.opts = &pg->opts;
    lo.line = lines;
    lo.nline = nlines;
    lo.header = head.len > 0 ? &head : NULL;
    lo.first_back = cfg->first_back;
    lo.coding = SMPP_TEXT_UCS2;
    /* The header, and the back line with first_back, are shown on every page. */
    if (all_gsm7(lines, nlines) && (!lo.header || all_gsm7(&head, 1)) &&
        (!lo.first_back || all_gsm7(&back, 1))) {
        lo.coding = SMPP_TEXT_GSM7;
        if (!all_gsm7(&back, 1) || !all_gsm7(&more, 1)) {
            size_t one = total_cost(&lo);
            if (lo.header)
                one += (nlines > 0 ? 1 : 0) + cost(&lo, head.s, head.len);
            if (lo.first_back)
                one += 1 + cost(&lo, back.s, back.len);
            if (one > cfg->gsm7_limit)
                lo.coding = SMPP_TEXT_UCS2;
        }
    }
    limit = lo.coding == SMPP_TEXT_GSM7 ? cfg->gsm7_limit : cfg->ucs2_limit;
    /* every line is counted once, in the coding chosen: the layout reuses these */
    for (size_t i = 0; i < nlines; i++)
        lines[i].units = cost(&lo, lines[i].s, lines[i].len);
    back.units = cost(&lo, back.s, back.len);
    more.units = cost(&lo, more.s, more.len);
    head.units = cost(&lo, head.s, head.len);
    lo.pre = (cfg->bidi_marks && lo.coding == SMPP_TEXT_UCS2) ? 1 : 0;
    {
        size_t nav = 2 + 2 * lo.pre + back.units + more.units;
        if (lo.header)
            nav += lo.pre + head.units + 1;
        lo.fresh = nav < limit ? limit - nav : 0;
    }
    pg->coding = lo.coding;
    pg->data_coding = smpp_text_data_coding(lo.coding, &pg->opts);

    rc = paginate(&lo, limit, &back, &more, pg);

out:
    if (rc < 0) {
        ussd_pages_free(pg);
        pg = NULL;
    }
    for (size_t i = 0; opt_s && i < n_options; i++)
        free(opt_s[i].p);
    free(opt_s);
    free(lines);
    free(body_s.p);
    free(back_s.p);
    free(more_s.p);
    free(head_s.p);
    *out = pg;
    return rc;
}
