/*
 * ussd_engine.c - the dialogue engine: given the menus, where a dialogue stands (struct
 * ussd_state) and one input (the dialled string on open, the typed answer after), it computes the
 * next state, the screen to send, whether that screen ends the dialogue, and the side effect the
 * transport must carry out (save a language, redeem an item). Pure: no I/O, no clock, no
 * allocation that outlives a call; subscriber and catalogue data come from the caller's ops.
 *
 * Rules (issue "USSD self-service", shared/spec/ussd.md):
 *  - bad input never ends a dialogue: the same page is shown again with the short error line on
 *    top (the paginator's header, so the page still fits the screen);
 *  - a screen that cannot be built because a provider failed falls back to the screen the
 *    subscriber came from, with the "unavailable" line on top; the root menu is the last resort;
 *  - "00" is the next page, "0" the previous page or, on the first page, the node's "back";
 *  - a redemption is requested only from a confirmation screen, after "1".
 *
 * Ownership: every buffer here lives on the stack or in a scratch heap buffer freed before the
 * call returns; *st is updated only when the call succeeds.
 */
#include "ussd_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_MAX (64 * 1024) /* bound on one screen's text before pagination */

/* Internal result of building a screen: a provider failed, show "unavailable" instead. */
#define E_UNAVAILABLE (-EAGAIN)

/* ---------------------------------------------------------------- text buffer */

struct tbuf {
    char *p;
    size_t len, cap;
    bool overflow;
};

static int tb_put(struct tbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > SCRATCH_MAX) {
        b->overflow = true; /* a hostile provider cannot make us allocate without bound */
        n = b->len + 1 < SCRATCH_MAX ? SCRATCH_MAX - b->len - 1 : 0;
    }
    if (b->cap - b->len < n + 1) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap - b->len < n + 1)
            ncap *= 2;
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

static int tb_str(struct tbuf *b, const char *s)
{
    return tb_put(b, s, strlen(s));
}

/* Appends provider text: control characters become spaces so a name cannot add lines. */
static int tb_value(struct tbuf *b, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        char ch = s[i];
        if ((unsigned char)ch < 0x20 || ch == 0x7f)
            ch = ' ';
        rc = tb_put(b, &ch, 1);
    }
    return rc;
}

static void tb_free(struct tbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- one step */

struct step {
    const struct ussd_env *env;
    const struct ussd_menus *m;
    size_t li;            /* language index */
    struct ussd_state st; /* the state being built */
    /* provider data fetched during this step (fetched at most once) */
    bool have_item;
    bool item_frozen; /* the item op said -EAGAIN: stopped for now (the "frozen" screen) */
    struct ussd_item item;
    const struct ussd_item *cur_item; /* item the placeholders refer to, or NULL */
    bool have_window;
    bool open;
    char next_giftday[USSD_VALUE_MAX];
    struct ussd_category *cats;
    size_t ncats;
    bool have_cats;
    struct ussd_item *items;
    size_t nitems;
    bool have_items;
    size_t pages_shown; /* page count of the last screen rendered */
};

static void step_free(struct step *s)
{
    free(s->cats);
    free(s->items);
    s->cats = NULL;
    s->items = NULL;
}

static const char *lang_code(const struct step *s)
{
    return s->m->lang[s->li].code;
}

static int fetch_categories(struct step *s)
{
    const struct ussd_catalog_ops *cat = s->env->cat;
    size_t n = 0;
    int rc;

    if (s->have_cats)
        return 0;
    if (!cat || !cat->categories)
        return E_UNAVAILABLE;
    if (!s->cats && !(s->cats = calloc(USSD_LIST_MAX, sizeof(*s->cats))))
        return -ENOMEM;
    rc = cat->categories(s->env->cat_arg, lang_code(s), s->cats, USSD_LIST_MAX, &n);
    if (rc < 0)
        return E_UNAVAILABLE;
    s->ncats = n > USSD_LIST_MAX ? USSD_LIST_MAX : n;
    for (size_t i = 0; i < s->ncats; i++)
        s->cats[i].name[USSD_NAME_MAX - 1] = '\0';
    s->have_cats = true;
    return 0;
}

static int fetch_items(struct step *s)
{
    const struct ussd_catalog_ops *cat = s->env->cat;
    size_t n = 0;
    int rc;

    if (s->have_items)
        return 0;
    if (!cat || !cat->items)
        return E_UNAVAILABLE;
    if (!s->items && !(s->items = calloc(USSD_LIST_MAX, sizeof(*s->items))))
        return -ENOMEM;
    rc = cat->items(s->env->cat_arg, lang_code(s), s->st.category, s->items, USSD_LIST_MAX, &n);
    if (rc < 0)
        return E_UNAVAILABLE;
    s->nitems = n > USSD_LIST_MAX ? USSD_LIST_MAX : n;
    for (size_t i = 0; i < s->nitems; i++)
        s->items[i].name[USSD_NAME_MAX - 1] = '\0';
    s->have_items = true;
    return 0;
}

/* The item of st.item; -ENOENT when the catalogue has no such item. */
static int fetch_item(struct step *s)
{
    const struct ussd_catalog_ops *cat = s->env->cat;
    int rc;

    if (s->have_item && s->item.id == s->st.item)
        return 0;
    if (!cat || !cat->item)
        return E_UNAVAILABLE;
    memset(&s->item, 0, sizeof(s->item));
    rc = cat->item(s->env->cat_arg, lang_code(s), s->st.item, &s->item);
    s->item_frozen = rc == -EAGAIN;
    if (rc == -ENOENT || rc == -EAGAIN)
        return -ENOENT;
    if (rc < 0)
        return E_UNAVAILABLE;
    s->item.name[USSD_NAME_MAX - 1] = '\0';
    s->item.id = s->st.item;
    s->have_item = true;
    return 0;
}

static int fetch_window(struct step *s)
{
    const struct ussd_catalog_ops *cat = s->env->cat;

    if (s->have_window)
        return 0;
    if (!cat || !cat->redeem_window)
        return E_UNAVAILABLE;
    memset(s->next_giftday, 0, sizeof(s->next_giftday));
    if (cat->redeem_window(s->env->cat_arg, lang_code(s), s->env->tier, s->env->pass, &s->open,
                           s->next_giftday, sizeof(s->next_giftday)) < 0)
        return E_UNAVAILABLE;
    s->next_giftday[sizeof(s->next_giftday) - 1] = '\0';
    s->have_window = true;
    return 0;
}

static int put_int(struct tbuf *b, int64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRId64, v);
    return tb_str(b, num);
}

/* What the premium perk's unit of an item of `price` costs: ussd_env.perk_share_pct of it,
 * rounded down (catalog.h cat_perk_price: the same rule where it is charged). */
static int64_t perk_price(const struct step *s, int64_t price)
{
    uint32_t pct = s->env->perk_share_pct <= 100 ? s->env->perk_share_pct : 100;
    return price > 0 ? price * pct / 100 : 0;
}

/*
 * Appends the value of placeholder ph. Returns 0, 1 when it has no value (the line is left out),
 * E_UNAVAILABLE when a provider failed, -ENOMEM.
 */
static int ph_value(struct step *s, int ph, struct tbuf *b)
{
    const struct ussd_subscriber_ops *sub = s->env->sub;
    void *arg = s->env->sub_arg;
    char val[USSD_VALUE_MAX];
    int64_t n = 0;
    int rc;

    memset(val, 0, sizeof(val));
    switch ((enum menu_ph)ph) {
    case PH_POINTS:
        if (!sub || !sub->balance || sub->balance(arg, &n) < 0)
            return E_UNAVAILABLE;
        return put_int(b, n);
    case PH_EXPIRING_POINTS:
    case PH_EXPIRING_DATE:
        if (!sub || !sub->expiring)
            return 1;
        if (sub->expiring(arg, lang_code(s), &n, val, sizeof(val)) < 0)
            return E_UNAVAILABLE;
        if (n <= 0)
            return 1;
        return ph == PH_EXPIRING_POINTS ? put_int(b, n) : tb_value(b, val, sizeof(val));
    case PH_TIER:
        if (!sub || !sub->tier)
            return 1;
        if (sub->tier(arg, lang_code(s), val, sizeof(val)) < 0)
            return E_UNAVAILABLE;
        return val[0] ? tb_value(b, val, sizeof(val)) : 1;
    case PH_HISTORY: {
        char lines[USSD_HISTORY_MAX][USSD_HISTORY_LINE_MAX];
        size_t cnt = 0;
        if (sub && sub->history) {
            memset(lines, 0, sizeof(lines));
            if (sub->history(arg, lang_code(s), lines, USSD_HISTORY_MAX, &cnt) < 0)
                return E_UNAVAILABLE;
        }
        if (cnt > USSD_HISTORY_MAX)
            cnt = USSD_HISTORY_MAX;
        if (cnt == 0)
            return tb_str(b, s->m->lang[s->li].no_history);
        rc = 0;
        for (size_t i = 0; rc == 0 && i < cnt; i++) {
            /* one movement per line: the only "\n" in the value is ours */
            if (i > 0)
                rc = tb_str(b, "\n");
            if (rc == 0)
                rc = tb_value(b, lines[i], USSD_HISTORY_LINE_MAX);
        }
        return rc;
    }
    case PH_NEXT_GIFTDAY:
        if ((rc = fetch_window(s)) < 0)
            return rc;
        return s->next_giftday[0] ? tb_value(b, s->next_giftday, sizeof(s->next_giftday)) : 1;
    case PH_ITEM_ID:
        return s->cur_item ? put_int(b, s->cur_item->id) : 1;
    case PH_ITEM_NAME:
        return s->cur_item ? tb_value(b, s->cur_item->name, USSD_NAME_MAX) : 1;
    case PH_ITEM_PRICE:
        return s->cur_item ? put_int(b, s->cur_item->price) : 1;
    case PH_ITEM_STOCK:
        return s->cur_item ? put_int(b, s->cur_item->stock < 0 ? 0 : s->cur_item->stock) : 1;
    case PH_BENEFICIARY:
        return s->st.to[0] ? tb_value(b, s->st.to, sizeof(s->st.to)) : 1;
    case PH_SLOT:
        return s->env->slot && s->env->slot[0] ? tb_value(b, s->env->slot, USSD_VALUE_MAX) : 1;
    case PH_RECIPIENT:
        if (!s->st.to[0])
            return 1;
        ussd_mask_number(s->st.to, val, sizeof(val));
        return tb_str(b, val);
    case PH_PERK_PRICE:
        return s->st.perk && s->cur_item ? put_int(b, perk_price(s, s->cur_item->price)) : 1;
    case PH_TRANSFER_POINTS:
        return s->st.price > 0 ? put_int(b, s->st.price) : 1;
    case PH_LIMIT:
        return s->env->outcome && s->env->xfer_n >= 0 ? put_int(b, s->env->xfer_n) : 1;
    case PH_UNTIL:
        return s->env->until && s->env->until[0] ? tb_value(b, s->env->until, USSD_VALUE_MAX) : 1;
    case PH_CATEGORY_NAME:
        if (s->st.category == 0)
            return 1;
        if ((rc = fetch_categories(s)) < 0)
            return rc;
        for (size_t i = 0; i < s->ncats; i++)
            if (s->cats[i].id == s->st.category)
                return tb_value(b, s->cats[i].name, USSD_NAME_MAX);
        return 1;
    case PH__COUNT:
        break;
    }
    return 1;
}

/*
 * Expands template tpl (validated at load: placeholders are known and closed) into out. A line
 * holding a placeholder without a value is left out entirely ("300 points expire on ..." when
 * nothing expires). Returns 0, E_UNAVAILABLE or -ENOMEM.
 */
static int expand(struct step *s, const char *tpl, struct tbuf *out)
{
    struct tbuf line = {0};
    bool first = true, drop = false;
    int rc = 0;

    for (const char *p = tpl; rc == 0; p++) {
        if (*p == '\n' || *p == '\0') {
            if (!drop) {
                if (!first)
                    rc = tb_str(out, "\n");
                if (rc == 0)
                    rc = tb_put(out, line.p ? line.p : "", line.len);
                first = false;
            }
            tb_free(&line);
            drop = false;
            if (*p == '\0')
                break;
        } else if (drop) {
            continue; /* the rest of a line that is left out */
        } else if (*p == '{' && strchr(p, '}')) {
            const char *end = strchr(p, '}');
            int ph = menu_ph_find(p + 1, (size_t)(end - p - 1));
            if (ph < 0) {
                rc = tb_put(&line, p, 1); /* not with a validated file: shown as it is */
                continue;
            }
            rc = ph_value(s, ph, &line);
            if (rc == 1) {
                drop = true;
                rc = 0;
            }
            p = end;
        } else {
            size_t n = strcspn(p, "\n{"); /* plain text up to the next line or placeholder */
            rc = tb_put(&line, p, n ? n : 1);
            p += (n ? n : 1) - 1;
        }
    }
    tb_free(&line);
    return rc;
}

/* ---------------------------------------------------------------- screens */

struct screen {
    struct tbuf body;
    char **opt;
    size_t nopt, capopt;
};

static void screen_free(struct screen *sc)
{
    tb_free(&sc->body);
    for (size_t i = 0; i < sc->nopt; i++)
        free(sc->opt[i]);
    free(sc->opt);
    memset(sc, 0, sizeof(*sc));
}

/* Adds option line "<k> <text>". */
static int screen_opt(struct screen *sc, size_t k, const char *text, size_t len)
{
    char num[24];
    struct tbuf line = {0};
    int rc;

    if (sc->nopt == sc->capopt) {
        size_t ncap = sc->capopt ? sc->capopt * 2 : 8;
        char **np = realloc(sc->opt, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        sc->opt = np;
        sc->capopt = ncap;
    }
    snprintf(num, sizeof(num), "%zu ", k);
    rc = tb_str(&line, num);
    if (rc == 0)
        rc = tb_put(&line, text, len);
    if (rc < 0) {
        tb_free(&line);
        return rc;
    }
    sc->opt[sc->nopt++] = line.p;
    return 0;
}

/* Adds an option from a template (expanded; left out when it has an absent value). */
static int screen_opt_tpl(struct step *s, struct screen *sc, size_t k, const char *tpl)
{
    struct tbuf t = {0};
    int rc = expand(s, tpl, &t);

    if (rc == 0)
        rc = screen_opt(sc, k, t.p ? t.p : "", t.len);
    tb_free(&t);
    return rc;
}

/* Appends line tpl (expanded) to the body. */
static int body_line(struct step *s, struct screen *sc, const char *tpl)
{
    struct tbuf t = {0};
    int rc = expand(s, tpl, &t);

    if (rc == 0 && t.len > 0) {
        if (sc->body.len > 0)
            rc = tb_str(&sc->body, "\n");
        if (rc == 0)
            rc = tb_put(&sc->body, t.p, t.len);
    }
    tb_free(&t);
    return rc;
}

/* Whether the ITEM screen offers "1 Redeem" (needs fetch_item and fetch_window done). */
static bool item_redeemable(const struct step *s)
{
    return s->item.own_window || (s->open && s->item.stock > 0);
}

/* Whether the ITEM screen n also offers "2 Send as a gift": a premium subscriber (the transport
 * says so from their tier) on an item node with a gift link, when redeeming is possible. */
static bool item_giftable(const struct step *s, const struct menu_node *n)
{
    return n->kind == MENU_KIND_ITEM && n->gift >= 0 && s->env->may_gift && item_redeemable(s) &&
           !s->item.own_window;
}

/* Builds body and options of node ni in the step's language and state. */
static int build_screen(struct step *s, size_t ni, struct screen *sc)
{
    const struct menu_node *n = &s->m->node[ni];
    const struct menu_text *t = &n->txt[s->li];
    int rc = 0;

    s->cur_item = NULL;
    bool done_screen = n->kind == MENU_KIND_INFO || n->kind == MENU_KIND_RATING;
    /* the premium perk's offer (a menu) names the item just redeemed */
    bool perk_menu = n->kind == MENU_KIND_MENU && s->st.perk && s->st.item != 0;
    if (n->kind == MENU_KIND_ITEM || n->kind == MENU_KIND_CONFIRM || n->kind == MENU_KIND_GIFT ||
        (done_screen && s->st.item != 0) || perk_menu) {
        rc = fetch_item(s);
        if (rc == 0)
            s->cur_item = &s->item;
        else if (rc == -ENOENT && (done_screen || perk_menu))
            rc = 0; /* a done screen without its item: lines naming it are left out */
        else if (rc == -ENOENT)
            return E_UNAVAILABLE;
        if (rc < 0)
            return rc;
    }
    if ((rc = expand(s, t->text, &sc->body)) < 0)
        return rc;

    switch (n->kind) {
    case MENU_KIND_MENU:
        for (size_t i = 0; rc == 0 && i < n->nopt; i++)
            rc = screen_opt_tpl(s, sc, i + 1, t->opt[i]);
        break;
    case MENU_KIND_LANGUAGE:
        for (size_t i = 0; rc == 0 && i < s->m->nlang; i++)
            rc = screen_opt(sc, i + 1, s->m->lang[i].name, strlen(s->m->lang[i].name));
        break;
    case MENU_KIND_CATEGORIES:
        if ((rc = fetch_categories(s)) < 0)
            break;
        for (size_t i = 0; rc == 0 && i < s->ncats; i++)
            rc = screen_opt(sc, i + 1, s->cats[i].name, strnlen(s->cats[i].name, USSD_NAME_MAX));
        break;
    case MENU_KIND_ITEMS:
        if ((rc = fetch_items(s)) < 0)
            break;
        for (size_t i = 0; rc == 0 && i < s->nitems; i++) {
            s->cur_item = &s->items[i];
            rc = screen_opt_tpl(s, sc, i + 1, t->option);
        }
        s->cur_item = NULL;
        break;
    case MENU_KIND_ITEM:
        if ((rc = fetch_window(s)) < 0)
            break;
        if (s->item.own_window)
            rc = screen_opt_tpl(s, sc, 1, t->redeem);
        else if (!s->open)
            rc = body_line(s, sc, t->closed);
        else if (s->item.stock <= 0)
            rc = body_line(s, sc, t->no_stock);
        else
            rc = screen_opt_tpl(s, sc, 1, t->redeem);
        if (rc == 0 && item_giftable(s, n))
            rc = screen_opt_tpl(s, sc, 2, t->gift);
        break;
    case MENU_KIND_CONFIRM:
        /* what this screen shows is what the redemption will charge and name (ussd_state) */
        snprintf(s->st.version, sizeof(s->st.version), "%s", s->item.version);
        snprintf(s->st.ref, sizeof(s->st.ref), "%s", s->item.ref);
        s->st.price = s->item.price;
        if (s->st.perk) /* the premium perk's unit: its share of the price */
            s->st.price = perk_price(s, s->item.price);
        rc = screen_opt_tpl(s, sc, 1, t->yes);
        if (rc == 0)
            rc = screen_opt_tpl(s, sc, 2, t->no);
        break;
    case MENU_KIND_GIFT:
    case MENU_KIND_INFO:
    case MENU_KIND_RATING:
    case MENU_KIND_RECIPIENT:
    case MENU_KIND_AMOUNT:
    case MENU_KIND_PIN:
    case MENU_KIND_PIN_SET:
    case MENU_KIND_REFER:
    case MENU_KIND__COUNT:
        break;
    }
    return rc;
}

/* The paginator's settings for node n in language l: one place, so that the load-time check
 * (ussd_menus_check) lays out exactly what render() will. */
static void page_config(const struct ussd_config *cfg, const struct menu_lang *l,
                        const struct menu_node *n, const char *header, struct ussd_page_config *pc)
{
    ussd_page_config_defaults(pc);
    pc->gsm7_limit = cfg->gsm7_limit;
    pc->ucs2_limit = cfg->ucs2_limit;
    pc->text = cfg->text;
    pc->more_label = l->more;
    pc->back_label = l->back;
    pc->bidi_marks = cfg->bidi_marks && l->rtl;
    pc->header = header;
    /* a confirmation says "2 No" already: no "0 Back" line there ("0" still works) */
    pc->first_back = n->back >= 0 && !n->end && n->kind != MENU_KIND_CONFIRM &&
                     n->kind != MENU_KIND_RATING; /* a rating says "0" skips in its text */
}

/* Paginates node ni and fills *out with page st.page (clamped), with header when not NULL. */
static int render(struct step *s, size_t ni, const char *header, struct ussd_reply *out)
{
    const struct menu_node *n = &s->m->node[ni];
    const struct menu_lang *l = &s->m->lang[s->li];
    const struct ussd_config *cfg = s->env->cfg;
    struct screen sc = {0};
    struct ussd_pages *pages = NULL;
    struct ussd_page_config pc;
    struct ussd_page pg;
    size_t count, page;
    int rc;

    rc = build_screen(s, ni, &sc);
    if (rc < 0)
        goto out;
    page_config(cfg, l, n, header, &pc);
    rc = ussd_pages_new(&pc, sc.body.p ? sc.body.p : "", (const char *const *)sc.opt, sc.nopt,
                        &pages);
    if (rc < 0)
        goto out;
    count = ussd_pages_count(pages);
    s->pages_shown = count;
    page = s->st.page < count ? s->st.page : count - 1;
    if ((rc = ussd_pages_get(pages, page, &pg)) < 0)
        goto out;
    if (pg.text_len >= sizeof(out->text)) {
        rc = -ENOSPC;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->text, pg.text, pg.text_len + 1);
    out->text_len = pg.text_len;
    out->coding = pg.coding;
    out->data_coding = pg.data_coding;
    out->units = pg.units;
    out->end = n->end && page + 1 == count;
    if (out->end && pg.has_back) {
        /* the last page of a final screen: nothing can be typed, so no "0 Back" line */
        char *nl = strrchr(out->text, '\n');
        if (nl) {
            *nl = '\0';
            out->text_len = (size_t)(nl - out->text);
            ssize_t u = smpp_text_units(out->coding, out->text, out->text_len, &cfg->text);
            out->units = u < 0 ? 0 : (size_t)u;
        }
    }
    /* a PIN screen is a confirmation too: its answer runs an effect before the store */
    out->confirm = n->kind == MENU_KIND_CONFIRM || n->kind == MENU_KIND_PIN ||
                   n->kind == MENU_KIND_PIN_SET || n->kind == MENU_KIND_REFER;
    out->error = header != NULL;
    snprintf(s->st.node, sizeof(s->st.node), "%s", n->id);
    s->st.page = (uint32_t)page;
    s->st.error = header != NULL;
out:
    ussd_pages_free(pages);
    screen_free(&sc);
    return rc;
}

/* A bare last screen holding text (a label): the dialogue ends with it. */
static void last_screen(const struct step *s, const char *text, struct ussd_reply *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->text, sizeof(out->text), "%s", text);
    out->text_len = strlen(out->text);
    out->coding = smpp_text_choose(out->text, out->text_len, &s->env->cfg->text, &out->data_coding);
    ssize_t u = smpp_text_units(out->coding, out->text, out->text_len, &s->env->cfg->text);
    out->units = u < 0 ? 0 : (size_t)u;
    out->end = true;
    out->error = true;
}

/* Shows node ni, page 0 (or st.page when keep_page), or the fallback (node fb with the
 * unavailable line, then the root, then a bare "unavailable" last screen) when a provider
 * fails. Returns 0 or -ENOMEM / -EINVAL. */
static int show(struct step *s, size_t ni, const char *header, int fb,
                const struct ussd_state *fb_st, struct ussd_reply *out)
{
    const char *unavailable = s->m->lang[s->li].unavailable;
    int rc = render(s, ni, header, out);

    if (rc != E_UNAVAILABLE)
        return rc;
    out->effect = USSD_EFFECT_NONE; /* the effect's screen was not shown: no effect */
    if (fb >= 0 && fb_st) {
        int li = menu_lang_find(s->m, fb_st->lang);
        s->st = *fb_st;
        s->li = li >= 0 ? (size_t)li : s->m->default_lang;
        unavailable = s->m->lang[s->li].unavailable;
        s->have_item = s->have_items = s->have_cats = s->have_window = false;
        rc = render(s, (size_t)fb, unavailable, out);
        if (rc != E_UNAVAILABLE)
            return rc;
    }
    s->st.page = 0;
    s->st.item = s->st.category = 0;
    rc = render(s, s->m->root, unavailable, out);
    if (rc != E_UNAVAILABLE)
        return rc;
    /* even the root needs a provider that is down: say so and end the dialogue */
    last_screen(s, unavailable, out);
    return 0;
}

static int step_begin(struct step *s, const struct ussd_env *env, const struct ussd_state *st)
{
    memset(s, 0, sizeof(*s));
    if (!env || !env->cfg || !env->menus || !st)
        return -EINVAL;
    s->env = env;
    s->m = env->menus;
    s->st = *st;
    s->st.node[sizeof(s->st.node) - 1] = '\0';
    s->st.lang[sizeof(s->st.lang) - 1] = '\0';
    s->st.dialled[sizeof(s->st.dialled) - 1] = '\0';
    int li = menu_lang_find(s->m, s->st.lang);
    s->li = li >= 0 ? (size_t)li : s->m->default_lang;
    snprintf(s->st.lang, sizeof(s->st.lang), "%s", s->m->lang[s->li].code);
    return 0;
}

/* ---------------------------------------------------------------- open */

/* Strict decimal: 1..max digits, no leading zero, value 1..limit. */
static bool parse_num(const char *p, size_t n, size_t max_digits, uint32_t limit, uint32_t *out)
{
    uint32_t v = 0;

    if (n == 0 || n > max_digits || p[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v < 1 || v > limit)
        return false;
    *out = v;
    return true;
}

/*
 * "*<code>#" -> 0; "*<code>*<s>#" -> 1 with *sc; "*<code>*<s>*<n>#" -> 2 with *sc and *arg;
 * -1 for anything else. s is 1..99 and n 1..999, both without leading zeros.
 */
static int parse_dialled(const struct ussd_config *cfg, const char *d, size_t len, uint32_t *sc,
                         uint32_t *arg)
{
    size_t cl = strnlen(cfg->service_code, sizeof(cfg->service_code));
    const char *p, *end, *star;

    if (len < cl + 2 || len >= USSD_DIALLED_MAX || d[0] != '*' || d[len - 1] != '#')
        return -1;
    if (memcmp(d + 1, cfg->service_code, cl) != 0)
        return -1;
    p = d + 1 + cl;
    end = d + len - 1; /* at the final '#' */
    if (p == end)
        return 0;
    if (*p != '*')
        return -1;
    p++;
    star = memchr(p, '*', (size_t)(end - p));
    if (!star)
        return parse_num(p, (size_t)(end - p), 2, 99, sc) ? 1 : -1;
    if (!parse_num(p, (size_t)(star - p), 2, 99, sc))
        return -1;
    return parse_num(star + 1, (size_t)(end - star - 1), 3, USSD_ITEM_ID_MAX, arg) ? 2 : -1;
}

int ussd_engine_open(const struct ussd_env *env, const char *dialled, size_t len,
                     struct ussd_state *st, struct ussd_reply *out)
{
    struct ussd_state fresh;
    struct step s;
    const char *invalid;
    uint32_t code = 0, arg = 0;
    int kind, target = -1, rc;

    if (!out || (!dialled && len))
        return -EINVAL;
    memset(&fresh, 0, sizeof(fresh));
    if (env && env->sub && env->sub->language) {
        char pref[USSD_LANG_MAX];
        memset(pref, 0, sizeof(pref));
        /* a saved preference the file no longer has falls back to the default */
        if (env->sub->language(env->sub_arg, pref, sizeof(pref)) == 0) {
            pref[sizeof(pref) - 1] = '\0';
            snprintf(fresh.lang, sizeof(fresh.lang), "%s", pref);
        }
    }
    if ((rc = step_begin(&s, env, &fresh)) < 0)
        return rc;
    /* keep what was dialled, sanitised, for logs and the stored state */
    for (size_t i = 0, k = 0; i < len && k + 1 < sizeof(s.st.dialled); i++) {
        char ch = dialled[i];
        if ((ch >= '0' && ch <= '9') || ch == '*' || ch == '#')
            s.st.dialled[k++] = ch;
    }
    invalid = s.m->lang[s.li].invalid;
    kind = parse_dialled(env->cfg, dialled ? dialled : "", len, &code, &arg);
    if (kind >= 1) {
        char key[4];
        snprintf(key, sizeof(key), "%" PRIu32, code);
        for (size_t i = 0; i < s.m->nsc; i++)
            if (strcmp(s.m->sc[i].code, key) == 0)
                target = s.m->sc[i].node;
        if (target >= 0) {
            bool is_item = s.m->node[target].kind == MENU_KIND_ITEM;
            if (is_item != (kind == 2))
                target = -1; /* an item needs its number; nothing else takes one */
        }
    }
    if (kind == 0) {
        rc = show(&s, s.m->root, NULL, -1, NULL, out);
    } else if (target < 0) {
        rc = show(&s, s.m->root, invalid, -1, NULL, out);
    } else if (s.m->node[target].kind == MENU_KIND_ITEM) {
        s.st.item = arg;
        rc = fetch_item(&s);
        if (rc == 0) {
            s.st.category = s.item.category_id; /* "0" leads to the item's category */
            rc = show(&s, (size_t)target, NULL, -1, NULL, out);
        } else if (rc == -ENOENT) {
            s.st.item = 0;
            rc = show(&s, s.m->root, invalid, -1, NULL, out);
        } else if (rc == E_UNAVAILABLE) {
            s.st.item = 0;
            rc = show(&s, s.m->root, s.m->lang[s.li].unavailable, -1, NULL, out);
        }
    } else {
        rc = show(&s, (size_t)target, NULL, -1, NULL, out);
    }
    if (rc == 0)
        *st = s.st;
    step_free(&s);
    return rc;
}

/* ---------------------------------------------------------------- answer */

enum answer_kind { ANS_INVALID = 0, ANS_NEXT, ANS_BACK, ANS_NUMBER };

/* Arabic-Indic (U+0660..U+0669) and Persian (U+06F0..U+06F9) digits as ASCII digits; any other
 * code point as it is. */
static uint32_t ascii_digit(uint32_t cp)
{
    if (cp >= 0x0660 && cp <= 0x0669)
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return '0' + (cp - 0x06F0);
    return cp;
}

/*
 * Reads an untrusted answer: spaces around it and one final '#' ignored; "00", "0" or 1..999.
 * Arabic-Indic (U+0660..U+0669) and Persian (U+06F0..U+06F9) digits count as digits: a handset
 * with an Arabic or Persian keyboard may send them.
 */
static enum answer_kind parse_answer(const char *in, size_t len, uint32_t *num)
{
    char ascii[USSD_INPUT_MAX + 1];
    size_t n = 0, adv;

    if (!in || len > USSD_INPUT_MAX)
        return ANS_INVALID;
    for (size_t i = 0; i < len; i += adv) {
        uint32_t cp = smpp_text_utf8_next(in + i, len - i, &adv);
        cp = ascii_digit(cp);
        if (cp >= 0x80)
            return ANS_INVALID; /* nothing else outside ASCII can be part of an answer */
        ascii[n++] = (char)cp;
    }
    size_t b = 0, e = n;
    while (b < e && (ascii[b] == ' ' || ascii[b] == '\t' || ascii[b] == '\r' || ascii[b] == '\n'))
        b++;
    while (e > b && (ascii[e - 1] == ' ' || ascii[e - 1] == '\t' || ascii[e - 1] == '\r' ||
                     ascii[e - 1] == '\n'))
        e--;
    if (e > b && ascii[e - 1] == '#')
        e--;
    if (e - b == 2 && ascii[b] == '0' && ascii[b + 1] == '0')
        return ANS_NEXT;
    if (e - b == 1 && ascii[b] == '0')
        return ANS_BACK;
    return parse_num(ascii + b, e - b, 3, USSD_ITEM_ID_MAX, num) ? ANS_NUMBER : ANS_INVALID;
}

/*
 * Reads a beneficiary's number typed on a gift screen (untrusted): ASCII, Arabic-Indic or Persian
 * digits; spaces, '-' and '.' between them ignored; an optional leading "+" or "00" and one final
 * '#'. The number must be 8..15 digits in international form, starting with one of the country
 * prefixes, and not the subscriber's own. Returns 0 with out (digits), -EINVAL when it is no such
 * number, -EEXIST when it is the subscriber's own.
 */
static int parse_beneficiary(const struct ussd_env *env, const char *in, size_t len, char *out,
                             size_t cap)
{
    char d[USSD_INPUT_MAX + 1];
    size_t n = 0, adv, start = 0;
    bool plus = false;

    if (!in || len > USSD_INPUT_MAX || cap < USSD_MSISDN_MAX || env->n_prefixes == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i += adv) {
        uint32_t cp = smpp_text_utf8_next(in + i, len - i, &adv);
        cp = ascii_digit(cp);
        if (cp == ' ' || cp == '-' || cp == '.' || cp == '\t' || cp == '\r' || cp == '\n')
            continue;
        if (cp == '+' && n == 0 && !plus) {
            plus = true;
            continue;
        }
        if (cp == '#' && i + adv == len)
            break;
        if (cp < '0' || cp > '9')
            return -EINVAL;
        d[n++] = (char)cp;
    }
    d[n] = '\0';
    if (!plus && n > 2 && d[0] == '0' && d[1] == '0')
        start = 2; /* "00212..." is the international form typed without "+" */
    n -= start;
    if (n < 8 || n > 15)
        return -EINVAL;
    bool prefixed = false;
    for (size_t i = 0; i < env->n_prefixes && !prefixed; i++) {
        const char *p = env->prefixes[i];
        size_t pl = p ? strlen(p) : 0;
        prefixed = pl > 0 && pl < n && memcmp(d + start, p, pl) == 0;
    }
    if (!prefixed)
        return -EINVAL;
    if (env->msisdn &&
        strcmp(env->msisdn[0] == '+' ? env->msisdn + 1 : env->msisdn, d + start) == 0)
        return -EEXIST;
    memcpy(out, d + start, n + 1);
    return 0;
}

/* ---------------------------------------------------------------- points transfer */

bool ussd_pin_acceptable(const char *pin, size_t len)
{
    int up = 0, down = 0, same = 0;

    if (!pin || len != USSD_PIN_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return false;
    for (size_t i = 1; i < len; i++) {
        same += pin[i] == pin[i - 1];
        up += pin[i] == pin[i - 1] + 1;
        down += pin[i] == pin[i - 1] - 1;
    }
    /* the first PINs a thief tries: 0000..9999 by repeats and the runs 0123..6789, 9876..3210 */
    return same < USSD_PIN_LEN - 1 && up < USSD_PIN_LEN - 1 && down < USSD_PIN_LEN - 1;
}

/*
 * Splits an untrusted answer into groups of ASCII digits separated by '*' ("1357*2468*2468"):
 * Arabic-Indic and Persian digits count as digits, spaces around it and one final '#' are
 * ignored. Each group is 1..width digits. Returns the number of groups (1..max) or -1.
 */
static int digit_groups(const char *in, size_t len, char (*g)[12], size_t width, int max)
{
    size_t adv, k = 0;
    int n = 0;
    bool sp_end = false;

    if (!in || len > USSD_INPUT_MAX || width >= sizeof(g[0]))
        return -1;
    for (size_t i = 0; i < len; i += adv) {
        uint32_t cp = smpp_text_utf8_next(in + i, len - i, &adv);
        cp = ascii_digit(cp);
        if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n') {
            sp_end = n > 0 || k > 0;
            continue;
        }
        if (sp_end)
            return -1; /* a space inside the answer */
        if (cp == '#' && i + adv == len)
            break;
        if (cp == '*') {
            if (k == 0 || n + 1 >= max)
                return -1;
            g[n++][k] = '\0';
            k = 0;
            continue;
        }
        if (cp < '0' || cp > '9' || k >= width)
            return -1;
        g[n][k++] = (char)cp;
    }
    if (k == 0)
        return -1;
    g[n++][k] = '\0';
    return n;
}

/* Where a PIN screen leads once the transfer's (or the PIN change's) outcome is known (second
 * pass): "ok" to the node's next, a refusal to its screen from "transfer_outcomes"; -1 when the
 * file maps none. */
static int xfer_target(const struct step *s, const struct menu_node *n)
{
    if (strcmp(s->env->outcome, USSD_XFER_OK) == 0)
        return n->next;
    int k = menu_xfer_outcome_find(s->env->outcome);
    return k >= 0 && s->m->has_xfer_outcomes ? s->m->xfer_outcome[k] : -1;
}

/*
 * An answer typed on a transfer screen (recipient, amount, PIN, PIN change). Fills *target, and
 * *effect with the PIN(s) in out for the PIN screens; or *err_line (the node's own error line:
 * the screen is shown again). Returns 0, or 1 when the outcome maps to no screen (the caller ends
 * the dialogue with "unavailable").
 */
static int xfer_answer(struct step *s, const struct menu_node *n, const char *in, size_t len,
                       int *target, enum ussd_effect *effect, struct ussd_reply *pins,
                       const char **err_line)
{
    const struct menu_text *t = &n->txt[s->li];
    char g[3][12];
    int ng;

    switch (n->kind) {
    case MENU_KIND_RECIPIENT: {
        char to[USSD_MSISDN_MAX];
        int rc = parse_beneficiary(s->env, in, len, to, sizeof(to));
        if (rc < 0) {
            *err_line = rc == -EEXIST ? t->own_number : t->bad_number;
            return 0;
        }
        snprintf(s->st.to, sizeof(s->st.to), "%s", to);
        s->st.price = 0;
        *target = n->next;
        return 0;
    }
    case MENU_KIND_AMOUNT: {
        uint32_t pts = 0;
        ng = digit_groups(in, len, g, 9, 1);
        if (ng != 1 || !parse_num(g[0], strlen(g[0]), 9, 999999999, &pts)) {
            *err_line = t->bad_amount;
            return 0;
        }
        s->st.price = pts;
        *target = n->next;
        return 0;
    }
    case MENU_KIND_PIN:
    case MENU_KIND_PIN_SET:
        if (s->env->outcome) {
            /* second pass: the transport ran the transfer, the screen says what happened */
            *target = xfer_target(s, n);
            return *target < 0 ? 1 : 0;
        }
        ng = digit_groups(in, len, g, USSD_PIN_LEN, n->kind == MENU_KIND_PIN ? 1 : 3);
        for (int i = 0; i < ng; i++)
            if (strlen(g[i]) != USSD_PIN_LEN)
                ng = -1;
        if (n->kind == MENU_KIND_PIN) {
            if (ng != 1 || !s->st.to[0] || s->st.price <= 0) {
                *err_line = t->bad_pin;
                return 0;
            }
            *effect = USSD_EFFECT_TRANSFER;
            memcpy(pins->effect_pin, g[0], sizeof(pins->effect_pin));
        } else {
            /* "new*new" sets a first PIN, "current*new*new" changes it; the new one twice */
            if (ng < 2 || strcmp(g[ng - 1], g[ng - 2]) != 0 ||
                !ussd_pin_acceptable(g[ng - 1], USSD_PIN_LEN)) {
                *err_line = t->bad_pin;
                return 0;
            }
            *effect = USSD_EFFECT_SET_PIN;
            memcpy(pins->effect_pin, g[ng - 1], sizeof(pins->effect_pin));
            if (ng == 3)
                memcpy(pins->effect_old_pin, g[0], sizeof(pins->effect_old_pin));
        }
        memset(g, 0, sizeof(g));
        *target = n->next;
        return 0;
    default:
        return 0;
    }
}

/* Where a confirmation leads once the redemption's outcome is known (second pass): "granted"
 * to the node's next, a refusal to its screen from "outcomes"; -1 when the file maps none. */
static int outcome_target(const struct step *s, const struct menu_node *n)
{
    if (strcmp(s->env->outcome, USSD_OUTCOME_GRANTED) == 0)
        return n->next;
    int k = menu_outcome_find(s->env->outcome);
    return k >= 0 && s->m->has_outcomes ? s->m->outcome[k] : -1;
}

/* Whether rating node ni is the screen after a redemption (some confirmation's "next"): its
 * rating is then about the item the dialogue redeemed. */
static bool rating_after_redeem(const struct ussd_menus *m, int ni)
{
    for (size_t i = 0; i < m->nnode; i++)
        if (m->node[i].kind == MENU_KIND_CONFIRM && m->node[i].next == ni)
            return true;
    return false;
}

int ussd_engine_answer(const struct ussd_env *env, const char *input, size_t len,
                       struct ussd_state *st, struct ussd_reply *out)
{
    struct step s;
    struct ussd_state before;
    enum answer_kind kind;
    enum ussd_effect effect = USSD_EFFECT_NONE;
    const char *invalid;
    uint32_t num = 0;
    int cur, target = -1, rc;
    struct ussd_reply pins; /* the PIN(s) of a transfer screen, copied into *out at the end */

    if (!out || (!input && len))
        return -EINVAL;
    pins.effect_pin[0] = pins.effect_old_pin[0] = pins.effect_input[0] = '\0';
    if ((rc = step_begin(&s, env, st)) < 0)
        return rc;
    invalid = s.m->lang[s.li].invalid;
    before = s.st;
    before.error = false;
    cur = menu_node_find(s.m, s.st.node);
    if (cur < 0) {
        /* the menus were reloaded without this node, or the state is foreign: start over */
        memset(&s.st, 0, sizeof(s.st));
        snprintf(s.st.lang, sizeof(s.st.lang), "%s", before.lang);
        memcpy(s.st.dialled, before.dialled, sizeof(s.st.dialled));
        rc = show(&s, s.m->root, invalid, -1, NULL, out);
        goto done;
    }
    const struct menu_node *n = &s.m->node[cur];
    kind = parse_answer(input, len, &num);
    s.st.error = false;

    if (kind == ANS_NEXT || (kind == ANS_BACK && s.st.page > 0)) {
        /* paging: the page count comes from rendering the screen as it is now */
        uint32_t want = kind == ANS_NEXT ? s.st.page + 1 : s.st.page - 1;
        s.st.page = want;
        rc = render(&s, (size_t)cur, NULL, out);
        if (rc == 0 && s.st.page == want)
            goto done;
        if (rc == 0 && st->error && kind == ANS_NEXT) {
            /* The screen shown was paged with the error line on top, so it may have had more
             * pages than the clean layout: if it offered "00 More", the clean layout's last page
             * (the clamped one just rendered) is the right answer. */
            struct ussd_state clean = s.st;
            struct ussd_reply *probe = malloc(sizeof(*probe));
            if (!probe) {
                rc = -ENOMEM;
                goto done;
            }
            s.st = before;
            int prc = render(&s, (size_t)cur, invalid, probe);
            bool offered_more = prc == 0 && s.pages_shown > before.page + 1;
            free(probe);
            s.st = clean;
            if (offered_more)
                goto done;
        }
        if (rc < 0 && rc != E_UNAVAILABLE)
            goto done;
        /* no such page (clamped) or the provider failed: re-show the page as it was */
        s.st = before;
        rc = show(&s, (size_t)cur, rc == E_UNAVAILABLE ? s.m->lang[s.li].unavailable : invalid, -1,
                  NULL, out);
        goto done;
    }
    if (n->kind == MENU_KIND_GIFT && kind != ANS_BACK && kind != ANS_NEXT) {
        /* the beneficiary's number: a refused one re-shows the screen with its own error line */
        char to[USSD_MSISDN_MAX];
        int g = parse_beneficiary(s.env, input, len, to, sizeof(to));
        if (g < 0) {
            const struct menu_text *t = &n->txt[s.li];
            s.st = before;
            rc = show(&s, (size_t)cur, g == -EEXIST ? t->own_number : t->bad_number, -1, NULL, out);
            goto done;
        }
        snprintf(s.st.to, sizeof(s.st.to), "%s", to);
        target = n->next;
    } else if (n->kind == MENU_KIND_REFER && kind != ANS_BACK && kind != ANS_NEXT) {
        /* the friend's number: the transport validates it and runs the referral (its outcome's
         * screen ends the dialogue); here it is only carried, as ASCII */
        size_t k = 0, adv;
        for (size_t i = 0; i < len && k < USSD_INPUT_MAX; i += adv) {
            uint32_t cp = ascii_digit(smpp_text_utf8_next(input + i, len - i, &adv));
            if (cp >= 0x80) {
                k = 0;
                break;
            }
            pins.effect_input[k++] = (char)cp;
        }
        if (k > 0 && pins.effect_input[k - 1] == '#')
            k--; /* one final '#', as any answer */
        pins.effect_input[k] = '\0';
        effect = USSD_EFFECT_REFER;
        target = cur;
    } else if ((n->kind == MENU_KIND_RECIPIENT || n->kind == MENU_KIND_AMOUNT ||
                n->kind == MENU_KIND_PIN || n->kind == MENU_KIND_PIN_SET) &&
               kind != ANS_BACK && kind != ANS_NEXT) {
        const char *err_line = NULL;
        if (xfer_answer(&s, n, input, len, &target, &effect, &pins, &err_line) == 1) {
            last_screen(&s, s.m->lang[s.li].unavailable, out);
            rc = 0;
            goto done;
        }
        if (err_line) {
            s.st = before;
            rc = show(&s, (size_t)cur, err_line, -1, NULL, out);
            goto done;
        }
    } else if (kind == ANS_BACK) {
        target = n->back;
    } else if (kind == ANS_NUMBER && !n->end) {
        switch (n->kind) {
        case MENU_KIND_MENU:
            if (num <= n->nopt)
                target = n->opt[num - 1];
            break;
        case MENU_KIND_LANGUAGE:
            if (num <= s.m->nlang) {
                s.li = num - 1;
                snprintf(s.st.lang, sizeof(s.st.lang), "%s", s.m->lang[s.li].code);
                effect = USSD_EFFECT_SET_LANGUAGE;
                target = n->next;
            }
            break;
        case MENU_KIND_CATEGORIES:
            rc = fetch_categories(&s);
            if (rc == 0 && num <= s.ncats) {
                s.st.category = s.cats[num - 1].id;
                s.have_items = false;
                target = n->next;
            }
            break;
        case MENU_KIND_ITEMS:
            rc = fetch_items(&s);
            if (rc == 0 && num <= s.nitems) {
                s.st.item = s.items[num - 1].id;
                target = n->next;
            }
            break;
        case MENU_KIND_ITEM:
            rc = fetch_item(&s);
            if (rc == 0)
                rc = fetch_window(&s);
            if (rc == 0 && num == 1 && item_redeemable(&s)) {
                s.st.to[0] = '\0'; /* for oneself */
                s.st.perk = false;
                target = n->next;
            } else if (rc == 0 && num == 2 && item_giftable(&s, n)) {
                s.st.to[0] = '\0'; /* asked on the gift screen */
                s.st.perk = false;
                target = n->gift;
            }
            break;
        case MENU_KIND_CONFIRM:
            if (num == 2) {
                target = n->back >= 0 ? n->back : (int)s.m->root;
            } else if (num == 1 && s.env->outcome) {
                /* second pass: the redemption ran, the screen says what happened */
                target = outcome_target(&s, n);
                if (target == n->next && target >= 0 && n->perk >= 0 && s.env->may_perk &&
                    !s.st.perk && !s.st.to[0] &&
                    strcmp(s.env->outcome, USSD_OUTCOME_GRANTED) == 0) {
                    /* the premium perk: offer the same gift to a relative (once) */
                    target = n->perk;
                    s.st.perk = true;
                }
                if (target < 0) {
                    last_screen(&s, s.m->lang[s.li].unavailable, out);
                    rc = 0;
                    goto done;
                }
            } else if (num == 1) {
                /* check again: the gift day may have closed or the stock run out meanwhile;
                 * the catalogue module makes the final, atomic check when it redeems */
                rc = fetch_item(&s);
                if (rc == 0)
                    rc = fetch_window(&s);
                if (rc == 0 && item_redeemable(&s)) {
                    effect = USSD_EFFECT_REDEEM;
                    target = n->next;
                } else if (rc == -ENOENT && s.m->has_outcomes) {
                    /* the item was stopped or withdrawn since the confirmation screen: there is
                     * no item screen to go back to, so say so with the file's refusal screen */
                    rc = 0;
                    target =
                        s.m->outcome[menu_outcome_find(s.item_frozen ? "frozen" : "unavailable")];
                } else if (rc == 0 || rc == -ENOENT) {
                    rc = 0;
                    target = n->back >= 0 ? n->back : (int)s.m->root;
                }
            }
            break;
        case MENU_KIND_RATING:
            if (num >= 1 && num <= 5) {
                effect = USSD_EFFECT_RATE;
                target = n->next;
            }
            break;
        case MENU_KIND_GIFT: /* handled above, with the transfer screens */
        case MENU_KIND_RECIPIENT:
        case MENU_KIND_AMOUNT:
        case MENU_KIND_PIN:
        case MENU_KIND_PIN_SET:
        case MENU_KIND_REFER:
        case MENU_KIND_INFO:
        case MENU_KIND__COUNT:
            break;
        }
        if (rc == -ENOMEM)
            goto done;
        if (rc < 0) {
            s.st = before;
            rc = show(&s, (size_t)cur, s.m->lang[s.li].unavailable, -1, NULL, out);
            goto done;
        }
    }
    if (target < 0) {
        s.st = before;
        rc = show(&s, (size_t)cur, invalid, -1, NULL, out);
        goto done;
    }
    s.st.page = 0;
    if (s.m->node[target].kind == MENU_KIND_CATEGORIES)
        s.st.category = 0;
    rc = show(&s, (size_t)target, NULL, cur, &before, out);
    if (rc == 0 && !out->error && effect != USSD_EFFECT_NONE) {
        out->effect = effect;
        if (effect == USSD_EFFECT_SET_LANGUAGE) {
            snprintf(out->effect_lang, sizeof(out->effect_lang), "%s", s.st.lang);
        } else if (effect == USSD_EFFECT_RATE) {
            out->effect_rating = num;
            snprintf(out->effect_node, sizeof(out->effect_node), "%s", n->id);
            out->effect_item = rating_after_redeem(s.m, cur) ? s.st.item : 0;
        } else if (effect == USSD_EFFECT_TRANSFER || effect == USSD_EFFECT_SET_PIN) {
            snprintf(out->effect_to, sizeof(out->effect_to), "%s", s.st.to);
            out->effect_price = s.st.price;
            memcpy(out->effect_pin, pins.effect_pin, sizeof(out->effect_pin));
            memcpy(out->effect_old_pin, pins.effect_old_pin, sizeof(out->effect_old_pin));
        } else if (effect == USSD_EFFECT_REFER) {
            memcpy(out->effect_input, pins.effect_input, sizeof(out->effect_input));
        } else {
            out->effect_item = s.st.item;
            snprintf(out->effect_version, sizeof(out->effect_version), "%s", s.st.version);
            snprintf(out->effect_ref, sizeof(out->effect_ref), "%s", s.st.ref);
            out->effect_price = s.st.price;
            snprintf(out->effect_to, sizeof(out->effect_to), "%s", s.st.to);
            out->effect_perk = s.st.perk;
        }
    }
done:
    memset(&pins, 0, sizeof(pins));
    if (rc == 0)
        *st = s.st;
    step_free(&s);
    return rc;
}

/* ---------------------------------------------------------------- transport helpers */

int ussd_engine_show(const struct ussd_env *env, const struct ussd_state *st,
                     struct ussd_reply *out)
{
    struct step s;
    int cur, rc;

    if (!out || !st)
        return -EINVAL;
    if ((rc = step_begin(&s, env, st)) < 0)
        return rc;
    s.st.error = false;
    cur = menu_node_find(s.m, s.st.node);
    if (cur < 0) {
        s.st.page = 0;
        s.st.item = s.st.category = 0;
        cur = (int)s.m->root;
    }
    rc = show(&s, (size_t)cur, NULL, -1, NULL, out);
    step_free(&s);
    return rc;
}

int ussd_engine_text(const struct ussd_env *env, const char *lang, const char *name, char *out,
                     size_t cap, size_t *len)
{
    struct ussd_state st;
    struct step s;
    struct tbuf t = {0};
    const char *tpl;
    int rc;

    if (!name || !out || cap == 0 || !len)
        return -EINVAL;
    memset(&st, 0, sizeof(st));
    snprintf(st.lang, sizeof(st.lang), "%s", lang ? lang : "");
    if ((rc = step_begin(&s, env, &st)) < 0)
        return rc;
    if (strcmp(name, "balance") == 0)
        tpl = s.m->lang[s.li].sms_balance;
    else if (strcmp(name, "opted_out") == 0)
        tpl = s.m->lang[s.li].sms_opted_out;
    else if (strcmp(name, "opted_in") == 0)
        tpl = s.m->lang[s.li].sms_opted_in;
    else if (strcmp(name, "alerts_off") == 0)
        tpl = s.m->lang[s.li].sms_alerts_off;
    else if (strcmp(name, "alerts_on") == 0)
        tpl = s.m->lang[s.li].sms_alerts_on;
    else if (strcmp(name, "suggest_thanks") == 0)
        tpl = s.m->lang[s.li].sms_suggest_thanks;
    else
        tpl = NULL;
    if (!tpl) {
        rc = -ENOENT;
        goto out;
    }
    rc = expand(&s, tpl, &t);
    if (rc == E_UNAVAILABLE) {
        rc = -EAGAIN;
        goto out;
    }
    if (rc < 0)
        goto out;
    if (t.len >= cap) {
        rc = -ENOSPC;
        goto out;
    }
    memcpy(out, t.p ? t.p : "", t.len);
    out[t.len] = '\0';
    *len = t.len;
out:
    tb_free(&t);
    step_free(&s);
    return rc;
}

/* ---------------------------------------------------------------- load-time layout check */

/*
 * Content can always be cut (a word, then a character, moves to the next page), so what decides
 * whether a screen can be laid out at all is its fixed part: the error line on top, "0 Back" and
 * "00 More" at the bottom, and room for one character of content - the widest one, since an
 * item name or a history line may hold it. The probe bodies below are long enough to need a
 * first, a middle and a last page, in each coding a screen of this language can take: GSM-7 when
 * its labels fit the GSM alphabet (probe: the euro sign, two septets), and UCS-2 always, since
 * one character of content (a name from the catalogue) switches a whole screen to UCS-2 (probe:
 * a non-BMP character, two 16-bit units, unless non-BMP is replaced by one unit).
 */
int ussd_menus_check(const struct ussd_menus *m, const struct ussd_config *cfg, char *err,
                     size_t errlen)
{
    /* the euro sign (GSM-7 escape: two septets); U+1F381 (UCS-2: two units with surrogates) */
    static const char *const probe_cp[] = {"\xE2\x82\xAC", "\xF0\x9F\x8E\x81"};
    static char probe[2][4 * (2 * USSD_SCREEN_MAX + 4) + 1];
    int rc = 0;

    if (err && errlen)
        err[0] = '\0';
    if (!m || !cfg || cfg->gsm7_limit > USSD_SCREEN_MAX || cfg->ucs2_limit > USSD_SCREEN_MAX)
        return -EINVAL;
    for (size_t k = 0; k < 2; k++) {
        /* more than two pages of content at whichever limit applies: a first, a middle (back and
         * more) and a last page are laid out */
        size_t nchar = 2 * (k == 0 ? cfg->gsm7_limit : cfg->ucs2_limit) + 4;
        size_t w = strlen(probe_cp[k]);

        for (size_t i = 0; i < nchar; i++)
            memcpy(probe[k] + i * w, probe_cp[k], w);
        probe[k][nchar * w] = '\0';
    }
    for (size_t li = 0; rc == 0 && li < m->nlang; li++) {
        const struct menu_lang *l = &m->lang[li];
        const char *headers[] = {NULL, l->invalid, l->unavailable};

        /* a node changes the layout only by whether its first page has the back line: lay out
         * each variant once, named after the first node that has it; then every gift node with
         * its own error lines (a refused number; found by fuzz_ussd_dialogue) */
        for (size_t v = 0; rc == 0 && v < 2 + m->nnode; v++) {
            struct ussd_page_config pc;
            size_t ni;

            if (v < 2) {
                for (ni = 0; ni < m->nnode; ni++) {
                    page_config(cfg, l, &m->node[ni], NULL, &pc);
                    if (pc.first_back == (v == 1))
                        break;
                }
                if (ni == m->nnode)
                    continue;
            } else {
                ni = v - 2;
                const struct menu_text *t = &m->node[ni].txt[li];
                enum menu_kind k = m->node[ni].kind;
                if (k == MENU_KIND_GIFT || k == MENU_KIND_RECIPIENT) {
                    headers[1] = t->bad_number;
                    headers[2] = t->own_number;
                } else if (k == MENU_KIND_AMOUNT || k == MENU_KIND_PIN || k == MENU_KIND_PIN_SET) {
                    headers[1] = headers[2] = k == MENU_KIND_AMOUNT ? t->bad_amount : t->bad_pin;
                } else {
                    continue;
                }
            }
            for (size_t h = 0; rc == 0 && h < sizeof(headers) / sizeof(headers[0]); h++) {
                for (size_t k = 0; rc == 0 && k < 2; k++) {
                    struct ussd_pages *pages = NULL;

                    page_config(cfg, l, &m->node[ni], headers[h], &pc);
                    rc = ussd_pages_new(&pc, probe[k], NULL, 0, &pages);
                    ussd_pages_free(pages);
                    if (rc == -EINVAL && err && errlen) {
                        /* the coding the paginator chose: GSM-7 only if every line fits it */
                        bool gsm7 = k == 0 && smpp_text_gsm7_len(l->more, strlen(l->more)) >= 0 &&
                                    smpp_text_gsm7_len(l->back, strlen(l->back)) >= 0 &&
                                    (!headers[h] ||
                                     smpp_text_gsm7_len(headers[h], strlen(headers[h])) >= 0);

                        snprintf(err, errlen,
                                 "menus.%s.%s: a screen%s does not fit %s %u: its navigation "
                                 "lines and one character of content need more",
                                 l->code, m->node[ni].id, headers[h] ? " with the error line" : "",
                                 gsm7 ? "ussd.gsm7_limit" : "ussd.ucs2_limit",
                                 gsm7 ? cfg->gsm7_limit : cfg->ucs2_limit);
                    }
                }
            }
        }
    }
    return rc;
}
