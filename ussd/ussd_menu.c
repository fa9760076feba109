/*
 * ussd_menu.c - the menu file marketing edits (deploy/ussd-menus.json): loaded with jansson and
 * validated completely before anything uses it, at start-up and on every reload.
 *
 * A syntax error is reported with jansson's line and column; a semantic error with the JSON path
 * of the offending value ("menus.fr.points.text: unknown placeholder {pointz}"), so marketing can
 * fix the file without reading C. Only the first problem is reported.
 *
 * What is checked: known keys only (keys starting with "//" are comments); every language has
 * its labels and a text for every node, and no text for a node that does not exist; node kinds
 * get the texts and links they need; links (options, next, back, root, shortcuts) point to
 * existing nodes; option and next links never loop (a loop is allowed only through "back", the
 * way up); placeholders come from the known set; labels are one short line.
 *
 * Ownership: struct ussd_menus (ussd_priv.h) owns the JSON document and the index arrays built
 * over it; ussd_menus_free() releases both. ussd_menus_reload() builds a complete new object and
 * swaps it in only when it is valid.
 */
#include "ussd_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_CHARS_MAX 40 /* a label is one short line: room is left for the menu itself */
#define PATH_MAX_LEN 160

const char *const menu_ph_names[PH__COUNT] = {
    [PH_POINTS] = "points",
    [PH_EXPIRING_POINTS] = "expiring_points",
    [PH_EXPIRING_DATE] = "expiring_date",
    [PH_TIER] = "tier",
    [PH_HISTORY] = "history",
    [PH_NEXT_GIFTDAY] = "next_giftday",
    [PH_ITEM_ID] = "item_id",
    [PH_ITEM_NAME] = "item_name",
    [PH_ITEM_PRICE] = "item_price",
    [PH_ITEM_STOCK] = "item_stock",
    [PH_CATEGORY_NAME] = "category_name",
    [PH_BENEFICIARY] = "beneficiary",
    [PH_SLOT] = "slot",
    [PH_RECIPIENT] = "recipient",
    [PH_TRANSFER_POINTS] = "transfer_points",
    [PH_LIMIT] = "limit",
    [PH_UNTIL] = "until",
    [PH_PERK_PRICE] = "perk_price",
};

const char *const menu_kind_names[MENU_KIND__COUNT] = {
    [MENU_KIND_MENU] = "menu",
    [MENU_KIND_INFO] = "info",
    [MENU_KIND_LANGUAGE] = "language",
    [MENU_KIND_CATEGORIES] = "categories",
    [MENU_KIND_ITEMS] = "items",
    [MENU_KIND_ITEM] = "item",
    [MENU_KIND_CONFIRM] = "confirm",
    [MENU_KIND_GIFT] = "gift",
    [MENU_KIND_RECIPIENT] = "recipient",
    [MENU_KIND_AMOUNT] = "amount",
    [MENU_KIND_PIN] = "pin",
    [MENU_KIND_PIN_SET] = "pin_set",
    [MENU_KIND_RATING] = "rating",
    [MENU_KIND_REFER] = "refer",
};

#define X_NAME(n) #n,
const char *const menu_outcome_names[] = {USSD_OUTCOMES(X_NAME)};
#undef X_NAME
const size_t menu_outcome_count = sizeof(menu_outcome_names) / sizeof(menu_outcome_names[0]);
_Static_assert(sizeof(menu_outcome_names) / sizeof(menu_outcome_names[0]) <=
                   sizeof(((struct ussd_menus *)0)->outcome) / sizeof(int),
               "struct ussd_menus.outcome holds every outcome");

int menu_outcome_find(const char *name)
{
    for (size_t i = 0; name && i < menu_outcome_count; i++)
        if (strcmp(name, menu_outcome_names[i]) == 0)
            return (int)i;
    return -1;
}

#define X_NAME(n) #n,
const char *const menu_xfer_outcome_names[] = {USSD_XFER_OUTCOMES(X_NAME)};
#undef X_NAME
const size_t menu_xfer_outcome_count =
    sizeof(menu_xfer_outcome_names) / sizeof(menu_xfer_outcome_names[0]);
_Static_assert(sizeof(menu_xfer_outcome_names) / sizeof(menu_xfer_outcome_names[0]) <=
                   sizeof(((struct ussd_menus *)0)->xfer_outcome) / sizeof(int),
               "struct ussd_menus.xfer_outcome holds every transfer outcome");

int menu_xfer_outcome_find(const char *name)
{
    for (size_t i = 0; name && i < menu_xfer_outcome_count; i++)
        if (strcmp(name, menu_xfer_outcome_names[i]) == 0)
            return (int)i;
    return -1;
}

bool ussd_xfer_outcome_known(const char *name)
{
    return name && (strcmp(name, USSD_XFER_OK) == 0 || menu_xfer_outcome_find(name) >= 0);
}

bool ussd_outcome_known(const char *name)
{
    return name && (strcmp(name, USSD_OUTCOME_GRANTED) == 0 || menu_outcome_find(name) >= 0);
}

int menu_ph_find(const char *name, size_t len)
{
    for (int i = 0; i < PH__COUNT; i++)
        if (strlen(menu_ph_names[i]) == len && memcmp(menu_ph_names[i], name, len) == 0)
            return i;
    return -1;
}

int menu_node_find(const struct ussd_menus *m, const char *id)
{
    if (!m || !id)
        return -1;
    for (size_t i = 0; i < m->nnode; i++)
        if (strcmp(m->node[i].id, id) == 0)
            return (int)i;
    return -1;
}

int menu_lang_find(const struct ussd_menus *m, const char *code)
{
    if (!m || !code)
        return -1;
    for (size_t i = 0; i < m->nlang; i++)
        if (strcmp(m->lang[i].code, code) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- errors */

struct lctx {
    const char *name; /* file name for messages */
    char *err;
    size_t errlen;
    struct ussd_menus *m;
};

static int fail(struct lctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct lctx *c, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!c->err || c->errlen == 0)
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", c->name, path, msg);
    return -EINVAL;
}

static bool is_comment(const char *key)
{
    return key[0] == '/' && key[1] == '/';
}

/* Fails on the first key of obj that is neither a comment nor in allowed (NULL-terminated). */
static int only_keys(struct lctx *c, const char *path, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach (obj, key, v) {
        bool ok = is_comment(key);
        for (size_t i = 0; !ok && allowed[i]; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return fail(c, path, "unknown key \"%s\"", key);
    }
    return 0;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= USSD_NODE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool valid_lang(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return false;
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0, len = strlen(s), adv;

    for (size_t i = 0; i < len; i += adv, n++)
        (void)smpp_text_utf8_next(s + i, len - i, &adv);
    return n;
}

static bool in_list(const char *const *list, const char *name, size_t len)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
            return true;
    return false;
}

/*
 * A text marketing wrote: no control character but "\n" (only where multi_line), placeholders
 * from the known set (the screens' set, or `only` when not NULL: a gift SMS text has its own),
 * balanced braces.
 */
static int check_text_in(struct lctx *c, const char *path, const char *s, bool multi_line,
                         bool placeholders, const char *const *only)
{
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' && !multi_line)
            return fail(c, path, "must be one line");
        if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
            return fail(c, path, "control character at offset %zu", i);
        if (ch == '}')
            return fail(c, path, "'}' without '{' at offset %zu", i);
        if (ch != '{')
            continue;
        const char *end = strchr(s + i + 1, '}');
        const char *open = strchr(s + i + 1, '{');
        if (!end || (open && open < end))
            return fail(c, path, "unterminated placeholder at offset %zu", i);
        size_t len = (size_t)(end - (s + i + 1));
        if (!placeholders)
            return fail(c, path, "placeholders are not allowed here");
        if (only ? !in_list(only, s + i + 1, len) : menu_ph_find(s + i + 1, len) < 0)
            return fail(c, path, "unknown placeholder {%.*s}", (int)(len > 40 ? 40 : len),
                        s + i + 1);
        i += len + 1;
    }
    return 0;
}

static int check_text(struct lctx *c, const char *path, const char *s, bool multi_line,
                      bool placeholders)
{
    return check_text_in(c, path, s, multi_line, placeholders, NULL);
}

static int get_string(struct lctx *c, const char *path, json_t *v, const char **out)
{
    *out = NULL;
    if (!json_is_string(v))
        return fail(c, path, "expected a string");
    *out = json_string_value(v);
    return 0;
}

/* A label or option line: one line, 1..LABEL_CHARS_MAX characters. */
static int get_label(struct lctx *c, const char *path, json_t *v, bool placeholders,
                     const char **out)
{
    int rc = get_string(c, path, v, out);

    if (rc < 0)
        return rc;
    if ((*out)[0] == '\0')
        return fail(c, path, "must not be empty");
    if (!placeholders && utf8_chars(*out) > LABEL_CHARS_MAX)
        return fail(c, path, "longer than %d characters", LABEL_CHARS_MAX);
    return check_text(c, path, *out, false, placeholders);
}

/* ---------------------------------------------------------------- languages */

static int load_languages(struct lctx *c, json_t *root)
{
    static const char *const keys[] = {"code", "name", "rtl", NULL};
    struct ussd_menus *m = c->m;
    json_t *arr = json_object_get(root, "languages");
    char path[PATH_MAX_LEN];
    size_t i;
    json_t *v;
    int rc;

    if (!arr)
        return fail(c, "languages", "missing");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > USSD_LANGS_MAX)
        return fail(c, "languages", "expected an array of 1..%d languages", USSD_LANGS_MAX);
    m->lang = calloc(json_array_size(arr), sizeof(*m->lang));
    if (!m->lang)
        return -ENOMEM;
    json_array_foreach (arr, i, v) {
        struct menu_lang *l = &m->lang[i];
        snprintf(path, sizeof(path), "languages[%zu]", i);
        if (!json_is_object(v))
            return fail(c, path, "expected an object");
        if ((rc = only_keys(c, path, v, keys)) < 0)
            return rc;
        snprintf(path, sizeof(path), "languages[%zu].code", i);
        if ((rc = get_string(c, path, json_object_get(v, "code"), &l->code)) < 0)
            return rc;
        if (!valid_lang(l->code))
            return fail(c, path, "\"%s\" is not a 2- or 3-letter lowercase code", l->code);
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->lang[k].code, l->code) == 0)
                return fail(c, path, "\"%s\" is listed twice", l->code);
        snprintf(path, sizeof(path), "languages[%zu].name", i);
        if ((rc = get_label(c, path, json_object_get(v, "name"), false, &l->name)) < 0)
            return rc;
        json_t *rtl = json_object_get(v, "rtl");
        if (rtl && !json_is_boolean(rtl)) {
            snprintf(path, sizeof(path), "languages[%zu].rtl", i);
            return fail(c, path, "expected true or false");
        }
        l->rtl = rtl && json_is_true(rtl);
        m->nlang = i + 1;
    }

    json_t *def = json_object_get(root, "default_language");
    const char *code = NULL;
    if (!def)
        return fail(c, "default_language", "missing");
    if ((rc = get_string(c, "default_language", def, &code)) < 0)
        return rc;
    int li = menu_lang_find(m, code);
    if (li < 0)
        return fail(c, "default_language", "\"%s\" is not in languages", code);
    m->default_lang = (size_t)li;
    return 0;
}

/* ---------------------------------------------------------------- nodes */

static int parse_kind(const char *s)
{
    for (int k = 0; k < MENU_KIND__COUNT; k++)
        if (strcmp(s, menu_kind_names[k]) == 0)
            return k;
    return -1;
}

/* Resolves a node reference at path; *out = index. */
static int node_ref(struct lctx *c, const char *path, json_t *v, int *out)
{
    const char *id = NULL;
    int rc = get_string(c, path, v, &id);

    if (rc < 0)
        return rc;
    *out = menu_node_find(c->m, id);
    if (*out < 0)
        return fail(c, path, "unknown node \"%s\"", id);
    return 0;
}

/* The kind a "next" link of a node of kind k must reach, or -1 for any. */
static int next_kind(enum menu_kind k)
{
    switch (k) {
    case MENU_KIND_CATEGORIES:
        return MENU_KIND_ITEMS;
    case MENU_KIND_ITEMS:
        return MENU_KIND_ITEM;
    case MENU_KIND_ITEM:
    case MENU_KIND_GIFT:
        return MENU_KIND_CONFIRM;
    default:
        return -1;
    }
}

static int load_node_links(struct lctx *c, size_t idx, json_t *v)
{
    static const char *const keys[] = {"type", "options", "next", "back",
                                       "end",  "gift",    "perk", NULL};
    struct menu_node *n = &c->m->node[idx];
    char path[PATH_MAX_LEN];
    json_t *gift = json_object_get(v, "gift");
    json_t *opts = json_object_get(v, "options");
    json_t *next = json_object_get(v, "next");
    json_t *back = json_object_get(v, "back");
    json_t *end = json_object_get(v, "end");
    int rc;

    snprintf(path, sizeof(path), "nodes.%s", n->id);
    if ((rc = only_keys(c, path, v, keys)) < 0)
        return rc;
    if (n->kind == MENU_KIND_MENU) {
        snprintf(path, sizeof(path), "nodes.%s.options", n->id);
        if (!opts)
            return fail(c, path, "missing (a menu needs options)");
        if (!json_is_array(opts) || json_array_size(opts) == 0 ||
            json_array_size(opts) > USSD_OPTIONS_MAX)
            return fail(c, path, "expected an array of 1..%d node ids", USSD_OPTIONS_MAX);
        n->nopt = json_array_size(opts);
        n->opt = calloc(n->nopt, sizeof(*n->opt));
        if (!n->opt)
            return -ENOMEM;
        for (size_t i = 0; i < n->nopt; i++) {
            /* options are numbered as the subscriber types them: 1, 2, ... */
            snprintf(path, sizeof(path), "nodes.%s.options[%zu]", n->id, i + 1);
            if ((rc = node_ref(c, path, json_array_get(opts, i), &n->opt[i])) < 0)
                return rc;
        }
    } else if (opts) {
        snprintf(path, sizeof(path), "nodes.%s.options", n->id);
        return fail(c, path, "only a \"menu\" node has static options");
    }

    n->next = -1;
    /* a "refer" node's outcome screens are the file's "referral" section */
    bool needs_next = n->kind != MENU_KIND_MENU && n->kind != MENU_KIND_INFO &&
                      n->kind != MENU_KIND_REFER;
    snprintf(path, sizeof(path), "nodes.%s.next", n->id);
    if (needs_next && !next)
        return fail(c, path, "missing (a \"%s\" node leads somewhere)", menu_kind_names[n->kind]);
    if (!needs_next && next)
        return fail(c, path, "a \"%s\" node has no \"next\"", menu_kind_names[n->kind]);
    if (next) {
        if ((rc = node_ref(c, path, next, &n->next)) < 0)
            return rc;
        int want = next_kind(n->kind);
        enum menu_kind got = c->m->node[n->next].kind;
        if (want >= 0 && (int)got != want)
            return fail(c, path, "must lead to a node of type \"%s\" (\"%s\" is \"%s\")",
                        menu_kind_names[want], c->m->node[n->next].id, menu_kind_names[got]);
    }

    /* premium gifting: an item node may offer "send as a gift", which leads to a gift node */
    n->gift = -1;
    if (gift) {
        snprintf(path, sizeof(path), "nodes.%s.gift", n->id);
        if (n->kind != MENU_KIND_ITEM)
            return fail(c, path, "only an \"item\" node offers gifting");
        if ((rc = node_ref(c, path, gift, &n->gift)) < 0)
            return rc;
        if (c->m->node[n->gift].kind != MENU_KIND_GIFT)
            return fail(c, path, "must lead to a node of type \"gift\" (\"%s\" is \"%s\")",
                        c->m->node[n->gift].id, menu_kind_names[c->m->node[n->gift].kind]);
    }

    /* the premium perk: a confirm node may offer the same gift to a relative once granted */
    json_t *perk = json_object_get(v, "perk");
    n->perk = -1;
    if (perk) {
        snprintf(path, sizeof(path), "nodes.%s.perk", n->id);
        if (n->kind != MENU_KIND_CONFIRM)
            return fail(c, path, "only a \"confirm\" node offers the premium perk");
        if ((rc = node_ref(c, path, perk, &n->perk)) < 0)
            return rc;
    }

    n->back = -1;
    if (back) {
        snprintf(path, sizeof(path), "nodes.%s.back", n->id);
        if ((rc = node_ref(c, path, back, &n->back)) < 0)
            return rc;
    }
    if (end) {
        snprintf(path, sizeof(path), "nodes.%s.end", n->id);
        if (!json_is_boolean(end))
            return fail(c, path, "expected true or false");
        if (json_is_true(end) && n->kind != MENU_KIND_INFO)
            return fail(c, path, "only an \"info\" node can end the dialogue");
        n->end = json_is_true(end);
    }
    return 0;
}

/* Depth-first search over option and next links; back links are the way up and may loop. */
static int dag_visit(struct lctx *c, size_t i, unsigned char *color)
{
    const struct menu_node *n = &c->m->node[i];
    char path[PATH_MAX_LEN];
    int rc;

    color[i] = 1;
    for (size_t k = 0; k <= n->nopt + 2; k++) {
        int to = k < n->nopt        ? n->opt[k]
                 : k == n->nopt     ? n->next
                 : k == n->nopt + 1 ? n->gift
                                    : n->perk;
        if (k < n->nopt)
            snprintf(path, sizeof(path), "nodes.%s.options[%zu]", n->id, k + 1);
        else if (k == n->nopt)
            snprintf(path, sizeof(path), "nodes.%s.next", n->id);
        else
            snprintf(path, sizeof(path), "nodes.%s.%s", n->id, k == n->nopt + 1 ? "gift" : "perk");
        if (to < 0)
            continue;
        if (color[to] == 1)
            return fail(c, path,
                        "\"%s\" leads back to an earlier node (a loop is allowed only "
                        "through \"back\")",
                        c->m->node[to].id);
        if (color[to] == 0 && (rc = dag_visit(c, (size_t)to, color)) < 0)
            return rc;
    }
    color[i] = 2;
    return 0;
}

static int load_nodes(struct lctx *c, json_t *root)
{
    struct ussd_menus *m = c->m;
    json_t *nodes = json_object_get(root, "nodes");
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    size_t i = 0;
    int rc;

    if (!nodes)
        return fail(c, "nodes", "missing");
    if (!json_is_object(nodes) || json_object_size(nodes) == 0 ||
        json_object_size(nodes) > USSD_NODES_MAX)
        return fail(c, "nodes", "expected an object of 1..%d nodes", USSD_NODES_MAX);
    m->node = calloc(json_object_size(nodes), sizeof(*m->node));
    if (!m->node)
        return -ENOMEM;
    /* pass 1: ids and kinds, so that links may point forward */
    json_object_foreach (nodes, key, v) {
        if (is_comment(key))
            continue;
        struct menu_node *n = &m->node[i];
        const char *type = NULL;
        snprintf(path, sizeof(path), "nodes.%s", key);
        if (!valid_id(key))
            return fail(c, path, "a node id is 1..%d characters of a-z, 0-9, _",
                        USSD_NODE_ID_MAX - 1);
        if (!json_is_object(v))
            return fail(c, path, "expected an object");
        snprintf(path, sizeof(path), "nodes.%s.type", key);
        json_t *t = json_object_get(v, "type");
        if (!t)
            return fail(c, path, "missing");
        if ((rc = get_string(c, path, t, &type)) < 0)
            return rc;
        int k = parse_kind(type);
        if (k < 0)
            return fail(c, path,
                        "unknown type \"%s\" (menu, info, language, categories, items, "
                        "item, confirm, gift, recipient, amount, pin, pin_set)",
                        type);
        n->id = key;
        n->kind = (enum menu_kind)k;
        n->back = n->next = n->gift = n->perk = -1;
        m->nnode = ++i;
    }
    if (m->nnode == 0)
        return fail(c, "nodes", "no node");
    /* pass 2: links */
    i = 0;
    json_object_foreach (nodes, key, v) {
        if (is_comment(key))
            continue;
        if ((rc = load_node_links(c, i++, v)) < 0)
            return rc;
    }
    unsigned char *color = calloc(m->nnode, 1);
    if (!color)
        return -ENOMEM;
    rc = 0;
    for (i = 0; rc == 0 && i < m->nnode; i++)
        if (color[i] == 0)
            rc = dag_visit(c, i, color);
    free(color);
    if (rc < 0)
        return rc;

    json_t *r = json_object_get(root, "root");
    int ri;
    if (!r)
        return fail(c, "root", "missing");
    if ((rc = node_ref(c, "root", r, &ri)) < 0)
        return rc;
    if (m->node[ri].kind == MENU_KIND_ITEMS || m->node[ri].kind == MENU_KIND_ITEM ||
        m->node[ri].kind == MENU_KIND_CONFIRM || m->node[ri].kind == MENU_KIND_GIFT ||
        m->node[ri].kind == MENU_KIND_AMOUNT || m->node[ri].kind == MENU_KIND_PIN ||
        m->node[ri].kind == MENU_KIND_REFER || m->node[ri].end)
        return fail(c, "root", "\"%s\" cannot start a dialogue", m->node[ri].id);
    m->root = (size_t)ri;
    return 0;
}

static int load_shortcuts(struct lctx *c, json_t *root)
{
    struct ussd_menus *m = c->m;
    json_t *sc = json_object_get(root, "shortcuts");
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    int rc;

    if (!sc)
        return 0;
    if (!json_is_object(sc))
        return fail(c, "shortcuts", "expected an object {\"1\": \"node\"}");
    m->sc = calloc(json_object_size(sc) + 1, sizeof(*m->sc));
    if (!m->sc)
        return -ENOMEM;
    json_object_foreach (sc, key, v) {
        if (is_comment(key))
            continue;
        snprintf(path, sizeof(path), "shortcuts.%s", key);
        size_t n = strlen(key);
        bool digits = n >= 1 && n <= 2 && key[0] != '0';
        for (size_t k = 0; digits && k < n; k++)
            digits = key[k] >= '0' && key[k] <= '9';
        if (!digits)
            return fail(c, path, "a shortcut is 1..99 without leading zero");
        int ni;
        if ((rc = node_ref(c, path, v, &ni)) < 0)
            return rc;
        enum menu_kind k = m->node[ni].kind;
        /* items need a chosen category, confirm and gift a chosen item: no context on a
         * shortcut */
        if (k == MENU_KIND_ITEMS || k == MENU_KIND_CONFIRM || k == MENU_KIND_GIFT ||
            k == MENU_KIND_AMOUNT || k == MENU_KIND_PIN)
            return fail(c, path, "a \"%s\" node cannot be opened by a shortcut",
                        menu_kind_names[k]);
        m->sc[m->nsc].code = key;
        m->sc[m->nsc].node = ni;
        m->nsc++;
    }
    return 0;
}

/*
 * Reads the outcome map `section` ({"<outcome>": "<node>"}) into out[0..count), indexed like
 * names: each outcome one of names, each node an "info" node with "end": true. A file without
 * the section is fine (*has false). When present every outcome must be mapped - but those of
 * later[0..nlater), which came after the section was first shipped: unmapped, each takes the
 * screen of its fallback (so that an older menus version in the store still loads). known lists
 * the names for the error message.
 */
static int load_outcome_map(struct lctx *c, json_t *root, const char *section,
                            const char *const *names, size_t count, int *out, const int *later,
                            const int *fallback, size_t nlater, const char *known, bool *has)
{
    struct ussd_menus *m = c->m;
    json_t *oc = json_object_get(root, section);
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    int rc;

    if (!oc)
        return 0;
    if (!json_is_object(oc))
        return fail(c, section, "expected an object {\"%s\": \"node\"}", names[0]);
    for (size_t i = 0; i < count; i++)
        out[i] = -1;
    json_object_foreach (oc, key, v) {
        if (is_comment(key))
            continue;
        snprintf(path, sizeof(path), "%s.%s", section, key);
        int k = -1;
        for (size_t i = 0; i < count && k < 0; i++)
            if (strcmp(key, names[i]) == 0)
                k = (int)i;
        if (k < 0)
            return fail(c, path, "unknown outcome (%s)", known);
        int ni;
        if ((rc = node_ref(c, path, v, &ni)) < 0)
            return rc;
        if (m->node[ni].kind != MENU_KIND_INFO || !m->node[ni].end)
            return fail(c, path, "must be an \"info\" node with \"end\": true");
        out[k] = ni;
    }
    for (size_t i = 0; i < nlater; i++)
        if (out[later[i]] < 0)
            out[later[i]] = out[fallback[i]];
    for (size_t k = 0; k < count; k++) {
        if (out[k] < 0) {
            snprintf(path, sizeof(path), "%s.%s", section, names[k]);
            return fail(c, path, "missing (every outcome needs its screen)");
        }
    }
    *has = true;
    return 0;
}

/* Optional "referral": {"shortcut": "7", "ok": "<node>", "bad_number": ..., "blocked": ...}: the
 * direct dial *<code>*<shortcut>*<number># and the screen of each outcome of a referral
 * (gw_referral_outcome_name). When present, every outcome is mapped to an info node with
 * "end": true, and the shortcut is not one of "shortcuts". */
static int load_referral(struct lctx *c, json_t *root)
{
    struct ussd_menus *m = c->m;
    json_t *o = json_object_get(root, "referral"), *v;
    char path[PATH_MAX_LEN];
    const char *key, *sc = NULL;
    int rc;

    if (!o) {
        for (size_t i = 0; i < m->nnode; i++)
            if (m->node[i].kind == MENU_KIND_REFER) {
                snprintf(path, sizeof(path), "nodes.%s", m->node[i].id);
                return fail(c, path, "a \"refer\" node needs the \"referral\" section (its "
                                     "outcomes' screens)");
            }
        return 0;
    }
    if (!json_is_object(o))
        return fail(c, "referral", "expected an object {\"shortcut\": \"7\", \"ok\": \"node\"}");
    if ((rc = get_string(c, "referral.shortcut", json_object_get(o, "shortcut"), &sc)) < 0)
        return rc;
    if (strlen(sc) < 1 || strlen(sc) > 2 || strspn(sc, "0123456789") != strlen(sc) ||
        sc[0] == '0')
        return fail(c, "referral.shortcut", "1-2 digits, no leading zero");
    for (size_t i = 0; i < m->nsc; i++)
        if (strcmp(m->sc[i].code, sc) == 0)
            return fail(c, "referral.shortcut", "already a shortcut of \"shortcuts\"");
    snprintf(m->ref_shortcut, sizeof(m->ref_shortcut), "%s", sc);
    for (size_t k = 0; k < USSD_REFERRAL_SCREENS; k++)
        m->ref_node[k] = -1;
    json_object_foreach (o, key, v) {
        if (is_comment(key) || strcmp(key, "shortcut") == 0)
            continue;
        snprintf(path, sizeof(path), "referral.%s", key);
        size_t k = 0;
        while (k < USSD_REFERRAL_SCREENS && strcmp(ussd_referral_screens[k], key) != 0)
            k++;
        if (k == USSD_REFERRAL_SCREENS)
            return fail(c, path, "unknown (ok, bad_number, self, member, taken, loop, cap, "
                                 "blocked)");
        int ni;
        if ((rc = node_ref(c, path, v, &ni)) < 0)
            return rc;
        if (m->node[ni].kind != MENU_KIND_INFO || !m->node[ni].end)
            return fail(c, path, "must be an \"info\" node with \"end\": true");
        m->ref_node[k] = ni;
    }
    for (size_t k = 0; k < USSD_REFERRAL_SCREENS; k++)
        if (m->ref_node[k] < 0) {
            snprintf(path, sizeof(path), "referral.%s", ussd_referral_screens[k]);
            return fail(c, path, "missing (every outcome needs its screen)");
        }
    return 0;
}

const char *const ussd_referral_screens[USSD_REFERRAL_SCREENS] = {
    "ok", "bad_number", "self", "member", "taken", "loop", "cap", "blocked"};

const char *ussd_menus_referral_shortcut(const struct ussd_menus *m)
{
    return m && m->ref_shortcut[0] ? m->ref_shortcut : NULL;
}

const char *ussd_menus_referral_node(const struct ussd_menus *m, const char *outcome)
{
    if (!m || !m->ref_shortcut[0] || !outcome)
        return NULL;
    for (size_t k = 0; k < USSD_REFERRAL_SCREENS; k++)
        if (strcmp(ussd_referral_screens[k], outcome) == 0)
            return m->node[m->ref_node[k]].id;
    return NULL;
}

/* Optional "outcomes": {"closed": "refused_closed", ...}: the screen of each refused
 * redemption. "not_released" and the draw's outcomes (issue 12, staggered openings and draws),
 * "velocity" and "frozen" (issue 10 section 5, fraud brakes) and "perk_limit" (issue 10 section 6)
 * came later: a file without them shows the "unavailable" screen for them ("limit"'s for
 * perk_limit), so that an older menus version in the store still loads. */
static int load_outcomes(struct lctx *c, json_t *root)
{
    static const char *const later_names[] = {
        "not_released", "draw_registered", "draw_won", "draw_waiting", "draw_lost",
        "draw_closed",  "velocity",        "frozen",   "perk_limit"};
    enum { NLATER = sizeof(later_names) / sizeof(later_names[0]) };
    int later[NLATER], fallback[NLATER];

    for (size_t i = 0; i < NLATER; i++) {
        later[i] = menu_outcome_find(later_names[i]);
        fallback[i] = menu_outcome_find(strcmp(later_names[i], "perk_limit") ? "unavailable"
                                                                                : "limit");
    }

    return load_outcome_map(c, root, "outcomes", menu_outcome_names, menu_outcome_count,
                            c->m->outcome, later, fallback, NLATER,
                            "closed, out_of_stock, balance, limit, tier, blocked, unavailable, "
                            "price_changed, gift_refused, expired, not_released, "
                            "draw_registered, draw_won, draw_waiting, draw_lost, draw_closed, "
                            "velocity, frozen, perk_limit",
                            &c->m->has_outcomes);
}

/* Optional "transfer_outcomes": {"locked": "xfer_locked", ...}: the screen of each refused
 * points transfer or PIN change (issue 10 section 4). */
static int load_xfer_outcomes(struct lctx *c, json_t *root)
{
    return load_outcome_map(c, root, "transfer_outcomes", menu_xfer_outcome_names,
                            menu_xfer_outcome_count, c->m->xfer_outcome, NULL, NULL, 0,
                            "pending, nopin, badpin, locked, frozen, min, max, daycap, peercap, "
                            "balance, blocked, not_member",
                            &c->m->has_xfer_outcomes);
}

/* ---------------------------------------------------------------- labels and texts */

static int load_labels(struct lctx *c, json_t *root)
{
    static const char *const keys[] = {"more",       "back",       "invalid",    "unavailable",
                                       "no_history", "processing", "store_down", NULL};
    struct ussd_menus *m = c->m;
    json_t *labels = json_object_get(root, "labels");
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    int rc;

    if (!labels)
        return fail(c, "labels", "missing");
    if (!json_is_object(labels))
        return fail(c, "labels", "expected an object per language");
    json_object_foreach (labels, key, v) {
        if (!is_comment(key) && menu_lang_find(m, key) < 0) {
            snprintf(path, sizeof(path), "labels.%s", key);
            return fail(c, path, "\"%s\" is not in languages", key);
        }
    }
    for (size_t i = 0; i < m->nlang; i++) {
        struct menu_lang *l = &m->lang[i];
        const char **dst[] = {&l->more, &l->back, &l->invalid, &l->unavailable, &l->no_history};
        json_t *o = json_object_get(labels, l->code);
        snprintf(path, sizeof(path), "labels.%s", l->code);
        if (!o)
            return fail(c, path, "missing (every language needs its labels)");
        if (!json_is_object(o))
            return fail(c, path, "expected an object");
        if ((rc = only_keys(c, path, o, keys)) < 0)
            return rc;
        for (size_t k = 0; k < sizeof(dst) / sizeof(dst[0]); k++) {
            snprintf(path, sizeof(path), "labels.%s.%s", l->code, keys[k]);
            json_t *s = json_object_get(o, keys[k]);
            if (!s)
                return fail(c, path, "missing");
            if ((rc = get_label(c, path, s, false, dst[k])) < 0)
                return rc;
        }
        /* optional: the last screen of a redemption that is paid but that the store did not
         * finish (the sweeper will, and the SMS follows); absent: "unavailable" is shown */
        l->processing = NULL;
        json_t *pr = json_object_get(o, "processing");
        snprintf(path, sizeof(path), "labels.%s.processing", l->code);
        if (pr && (rc = get_label(c, path, pr, false, &l->processing)) < 0)
            return rc;
        /* optional: the store failed before anything was charged (issue 10 section 5: the
         * screen says so); absent: "unavailable" is shown */
        l->store_down = NULL;
        json_t *sd = json_object_get(o, "store_down");
        snprintf(path, sizeof(path), "labels.%s.store_down", l->code);
        if (sd && (rc = get_label(c, path, sd, false, &l->store_down)) < 0)
            return rc;
        /* "0" and "00" are what the subscriber types: the labels must say so */
        snprintf(path, sizeof(path), "labels.%s.back", l->code);
        if (strncmp(l->back, "0 ", 2) != 0)
            return fail(c, path, "must start with \"0 \"");
        snprintf(path, sizeof(path), "labels.%s.more", l->code);
        if (strncmp(l->more, "00 ", 3) != 0)
            return fail(c, path, "must start with \"00 \"");
    }
    return 0;
}

static int load_node_text(struct lctx *c, const struct menu_lang *l, struct menu_node *n,
                          struct menu_text *t, json_t *o)
{
    static const char *const keys[MENU_KIND__COUNT][6] = {
        [MENU_KIND_MENU] = {"text", "options", NULL},
        [MENU_KIND_INFO] = {"text", NULL},
        [MENU_KIND_LANGUAGE] = {"text", NULL},
        [MENU_KIND_CATEGORIES] = {"text", NULL},
        [MENU_KIND_ITEMS] = {"text", "option", NULL},
        [MENU_KIND_ITEM] = {"text", "redeem", "closed", "no_stock", "gift", NULL},
        [MENU_KIND_CONFIRM] = {"text", "yes", "no", NULL},
        [MENU_KIND_GIFT] = {"text", "bad_number", "own_number", NULL},
        [MENU_KIND_RATING] = {"text", NULL},
        [MENU_KIND_RECIPIENT] = {"text", "bad_number", "own_number", NULL},
        [MENU_KIND_AMOUNT] = {"text", "bad_amount", NULL},
        [MENU_KIND_PIN] = {"text", "bad_pin", NULL},
        [MENU_KIND_PIN_SET] = {"text", "bad_pin", NULL},
        [MENU_KIND_REFER] = {"text", NULL},
    };
    char path[PATH_MAX_LEN];
    json_t *v;
    int rc;

    snprintf(path, sizeof(path), "menus.%s.%s", l->code, n->id);
    if (!json_is_object(o))
        return fail(c, path, "expected an object");
    if ((rc = only_keys(c, path, o, keys[n->kind])) < 0)
        return rc;
    if (n->kind == MENU_KIND_ITEM && n->gift < 0 && json_object_get(o, "gift")) {
        snprintf(path, sizeof(path), "menus.%s.%s.gift", l->code, n->id);
        return fail(c, path, "nodes.%s has no \"gift\" link", n->id);
    }
    snprintf(path, sizeof(path), "menus.%s.%s.text", l->code, n->id);
    if (!(v = json_object_get(o, "text")))
        return fail(c, path, "missing");
    if ((rc = get_string(c, path, v, &t->text)) < 0 ||
        (rc = check_text(c, path, t->text, true, true)) < 0)
        return rc;

    if (n->kind == MENU_KIND_MENU) {
        json_t *opts = json_object_get(o, "options");
        snprintf(path, sizeof(path), "menus.%s.%s.options", l->code, n->id);
        if (!opts)
            return fail(c, path, "missing");
        if (!json_is_array(opts) || json_array_size(opts) != n->nopt)
            return fail(c, path, "expected %zu labels, one per option of nodes.%s", n->nopt, n->id);
        t->opt = calloc(n->nopt, sizeof(*t->opt));
        if (!t->opt)
            return -ENOMEM;
        for (size_t i = 0; i < n->nopt; i++) {
            snprintf(path, sizeof(path), "menus.%s.%s.options[%zu]", l->code, n->id, i + 1);
            if ((rc = get_label(c, path, json_array_get(opts, i), true, &t->opt[i])) < 0)
                return rc;
        }
    }
    /* the other texts of the kind: each required, one line, placeholders allowed */
    struct text_slot {
        const char *key;
        const char **dst;
    } more[4];
    size_t nmore = 0;
    if (n->kind == MENU_KIND_ITEMS) {
        more[nmore++] = (struct text_slot){"option", &t->option};
    } else if (n->kind == MENU_KIND_ITEM) {
        more[nmore++] = (struct text_slot){"redeem", &t->redeem};
        more[nmore++] = (struct text_slot){"closed", &t->closed};
        more[nmore++] = (struct text_slot){"no_stock", &t->no_stock};
        if (n->gift >= 0)
            more[nmore++] = (struct text_slot){"gift", &t->gift};
    } else if (n->kind == MENU_KIND_GIFT || n->kind == MENU_KIND_RECIPIENT) {
        more[nmore++] = (struct text_slot){"bad_number", &t->bad_number};
        more[nmore++] = (struct text_slot){"own_number", &t->own_number};
    } else if (n->kind == MENU_KIND_AMOUNT) {
        more[nmore++] = (struct text_slot){"bad_amount", &t->bad_amount};
    } else if (n->kind == MENU_KIND_PIN || n->kind == MENU_KIND_PIN_SET) {
        more[nmore++] = (struct text_slot){"bad_pin", &t->bad_pin};
    } else if (n->kind == MENU_KIND_CONFIRM) {
        more[nmore++] = (struct text_slot){"yes", &t->yes};
        more[nmore++] = (struct text_slot){"no", &t->no};
    }
    for (size_t i = 0; i < nmore; i++) {
        snprintf(path, sizeof(path), "menus.%s.%s.%s", l->code, n->id, more[i].key);
        if (!(v = json_object_get(o, more[i].key)))
            return fail(c, path, "missing");
        if ((rc = get_label(c, path, v, true, more[i].dst)) < 0)
            return rc;
    }
    return 0;
}

static int load_menus(struct lctx *c, json_t *root)
{
    struct ussd_menus *m = c->m;
    json_t *menus = json_object_get(root, "menus");
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    int rc;

    if (!menus)
        return fail(c, "menus", "missing");
    if (!json_is_object(menus))
        return fail(c, "menus", "expected an object per language");
    json_object_foreach (menus, key, v) {
        if (!is_comment(key) && menu_lang_find(m, key) < 0) {
            snprintf(path, sizeof(path), "menus.%s", key);
            return fail(c, path, "\"%s\" is not in languages", key);
        }
    }
    for (size_t i = 0; i < m->nnode; i++) {
        m->node[i].txt = calloc(m->nlang, sizeof(*m->node[i].txt));
        if (!m->node[i].txt)
            return -ENOMEM;
    }
    for (size_t li = 0; li < m->nlang; li++) {
        const struct menu_lang *l = &m->lang[li];
        json_t *o = json_object_get(menus, l->code);
        snprintf(path, sizeof(path), "menus.%s", l->code);
        if (!o)
            return fail(c, path, "missing (every language needs every node)");
        if (!json_is_object(o))
            return fail(c, path, "expected an object of node texts");
        json_object_foreach (o, key, v) {
            if (!is_comment(key) && menu_node_find(m, key) < 0) {
                snprintf(path, sizeof(path), "menus.%s.%s", l->code, key);
                return fail(c, path, "no such node in \"nodes\"");
            }
        }
        for (size_t ni = 0; ni < m->nnode; ni++) {
            struct menu_node *n = &m->node[ni];
            json_t *t = json_object_get(o, n->id);
            if (!t) {
                snprintf(path, sizeof(path), "menus.%s.%s", l->code, n->id);
                return fail(c, path, "missing (every node needs a text in every language)");
            }
            if ((rc = load_node_text(c, l, n, &n->txt[li], t)) < 0)
                return rc;
        }
    }
    return 0;
}

/* The gift SMS texts of one language (ussd.h USSD_GIFT_SMS): all or none per file, each with its
 * own placeholders. `want` is whether the file has them (any gift text in any language). */
static int load_sms_set(struct lctx *c, struct menu_lang *l, json_t *o, bool want,
                        const struct menu_gift_sms_def *defs, size_t ndefs, const char **dst,
                        const char *what)
{
    char path[PATH_MAX_LEN];
    int rc;

    for (size_t k = 0; k < ndefs; k++) {
        const struct menu_gift_sms_def *d = &defs[k];
        json_t *v = json_object_get(o, d->name);

        snprintf(path, sizeof(path), "sms.%s.%s", l->code, d->name);
        if (!v && want)
            return fail(c, path, "missing (the %s texts come as a set, in every language)", what);
        if (!v)
            continue;
        if ((rc = get_string(c, path, v, &dst[k])) < 0 ||
            (rc = check_text_in(c, path, dst[k], true, true, d->placeholders)) < 0)
            return rc;
        if (dst[k][0] == '\0')
            return fail(c, path, "must not be empty");
    }
    return 0;
}

static int load_gift_sms(struct lctx *c, struct menu_lang *l, json_t *o, bool want)
{
    return load_sms_set(c, l, o, want, menu_gift_sms_defs, MENU_GIFT_SMS__COUNT, l->sms_gift,
                        "gift");
}

/* Optional "sms": {"<lang>": {"balance": "...", "confirm": "...", ...}}: texts of the SMS side
 * (gw_sms.c, and the fulfilment worker's through gateway/wire_fulfil.c), multi-line, with
 * placeholders. When the section is there every language must have every text. */
static int load_sms(struct lctx *c, json_t *root)
{
    const char *keys[9 + MENU_GIFT_SMS__COUNT] = {"balance",    "opted_out", "opted_in",
                                                  "alerts_off", "alerts_on", "suggest_thanks",
                                                  NULL};
    struct ussd_menus *m = c->m;
    json_t *sms = json_object_get(root, "sms");
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    int rc;

    if (!sms)
        return 0;
    if (!json_is_object(sms))
        return fail(c, "sms", "expected an object per language");
    json_object_foreach (sms, key, v) {
        if (!is_comment(key) && menu_lang_find(m, key) < 0) {
            snprintf(path, sizeof(path), "sms.%s", key);
            return fail(c, path, "\"%s\" is not in languages", key);
        }
    }
    for (size_t k = 0; k < MENU_GIFT_SMS__COUNT; k++)
        keys[6 + k] = menu_gift_sms_defs[k].name;
    keys[6 + MENU_GIFT_SMS__COUNT] = menu_xfer_sms_defs[0].name;
    keys[7 + MENU_GIFT_SMS__COUNT] = menu_xfer_sms_defs[1].name;
    /* one gift text anywhere means the file has them: then every language needs every one */
    json_object_foreach (sms, key, v) {
        for (size_t k = 0; json_is_object(v) && k < MENU_GIFT_SMS__COUNT; k++)
            if (json_object_get(v, menu_gift_sms_defs[k].name))
                m->has_gift_sms = true;
        for (size_t k = 0; json_is_object(v) && k < 2; k++)
            if (json_object_get(v, menu_xfer_sms_defs[k].name))
                m->has_xfer_sms = true;
    }
    for (size_t i = 0; i < m->nlang; i++) {
        struct menu_lang *l = &m->lang[i];
        json_t *o = json_object_get(sms, l->code);
        snprintf(path, sizeof(path), "sms.%s", l->code);
        if (!o)
            return fail(c, path, "missing (every language needs its SMS texts)");
        if (!json_is_object(o))
            return fail(c, path, "expected an object");
        if ((rc = only_keys(c, path, o, keys)) < 0)
            return rc;
        snprintf(path, sizeof(path), "sms.%s.balance", l->code);
        if (!(v = json_object_get(o, "balance")))
            return fail(c, path, "missing");
        if ((rc = get_string(c, path, v, &l->sms_balance)) < 0 ||
            (rc = check_text(c, path, l->sms_balance, true, true)) < 0)
            return rc;
        if (l->sms_balance[0] == '\0')
            return fail(c, path, "must not be empty");
        /* the consent confirmations (STOP / START by SMS, and the expiry warnings' own switch):
         * optional, no placeholders needed */
        const char *const cn[] = {"opted_out", "opted_in", "alerts_off", "alerts_on",
                                  "suggest_thanks"};
        const char **cv[] = {&l->sms_opted_out, &l->sms_opted_in, &l->sms_alerts_off,
                             &l->sms_alerts_on, &l->sms_suggest_thanks};
        for (size_t k = 0; k < 5; k++) {
            snprintf(path, sizeof(path), "sms.%s.%s", l->code, cn[k]);
            if (!(v = json_object_get(o, cn[k])))
                continue;
            if ((rc = get_string(c, path, v, cv[k])) < 0 ||
                (rc = check_text(c, path, *cv[k], true, true)) < 0)
                return rc;
            if ((*cv[k])[0] == '\0')
                return fail(c, path, "must not be empty");
        }
        if ((rc = load_gift_sms(c, l, o, m->has_gift_sms)) < 0 ||
            (rc = load_sms_set(c, l, o, m->has_xfer_sms, menu_xfer_sms_defs, 2, l->sms_xfer,
                               "transfer")) < 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- load */

void ussd_menus_free(struct ussd_menus *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->node && i < m->nnode; i++) {
        for (size_t l = 0; m->node[i].txt && l < m->nlang; l++)
            free(m->node[i].txt[l].opt);
        free(m->node[i].txt);
        free(m->node[i].opt);
    }
    free(m->node);
    free(m->lang);
    free(m->sc);
    json_decref(m->doc);
    free(m);
}

/* Takes ownership of doc (a parsed file) and validates it into *out. */
static int build(json_t *doc, const char *name, struct ussd_menus **out, char *err, size_t errlen)
{
    static const char *const top[] = {"version",
                                      "languages",
                                      "default_language",
                                      "root",
                                      "shortcuts",
                                      "nodes",
                                      "labels",
                                      "menus",
                                      "sms",
                                      "outcomes",
                                      "referral",
                                      "transfer_outcomes",
                                      NULL};
    struct lctx c = {name, err, errlen, NULL};
    int rc;

    c.m = calloc(1, sizeof(*c.m));
    if (!c.m) {
        json_decref(doc);
        return -ENOMEM;
    }
    c.m->doc = doc;
    if (!json_is_object(doc)) {
        rc = fail(&c, "(top)", "expected an object");
        goto out;
    }
    json_t *ver = json_object_get(doc, "version");
    if (!ver || !json_is_integer(ver) || json_integer_value(ver) != 1) {
        rc = fail(&c, "version", "expected 1");
        goto out;
    }
    if ((rc = only_keys(&c, "(top)", doc, top)) < 0 || (rc = load_languages(&c, doc)) < 0 ||
        (rc = load_nodes(&c, doc)) < 0 || (rc = load_shortcuts(&c, doc)) < 0 ||
        (rc = load_outcomes(&c, doc)) < 0 || (rc = load_xfer_outcomes(&c, doc)) < 0 ||
        (rc = load_referral(&c, doc)) < 0 || (rc = load_labels(&c, doc)) < 0 ||
        (rc = load_menus(&c, doc)) < 0 || (rc = load_sms(&c, doc)) < 0)
        goto out;
    rc = 0;
out:
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "%s: out of memory", name);
    if (rc < 0) {
        ussd_menus_free(c.m);
        c.m = NULL;
    }
    *out = c.m;
    return rc;
}

static int syntax_error(const json_error_t *jerr, const char *name, char *err, size_t errlen)
{
    int rc = json_error_code(jerr) == json_error_cannot_open_file ? -ENOENT : -EINVAL;

    if (err && errlen) {
        if (rc == -ENOENT)
            snprintf(err, errlen, "%s: %s", name, jerr->text);
        else
            snprintf(err, errlen, "%s:%d:%d: %s", name, jerr->line, jerr->column, jerr->text);
    }
    return rc;
}

int ussd_menus_load_buffer(const char *buf, size_t len, const char *name, struct ussd_menus **out,
                           char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc;

    if (out)
        *out = NULL;
    if (!buf || !out)
        return -EINVAL;
    if (!name)
        name = "(buffer)";
    if (len > USSD_MENU_FILE_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "%s: larger than %d bytes", name, USSD_MENU_FILE_MAX);
        return -EINVAL;
    }
    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return syntax_error(&jerr, name, err, errlen);
    return build(doc, name, out, err, errlen);
}

int ussd_menus_load(const char *path, struct ussd_menus **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc;

    if (out)
        *out = NULL;
    if (!path || !out)
        return -EINVAL;
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return syntax_error(&jerr, path, err, errlen);
    return build(doc, path, out, err, errlen);
}

int ussd_menus_reload(struct ussd_menus **cur, const char *path, const struct ussd_config *cfg,
                      char *err, size_t errlen)
{
    struct ussd_menus *fresh = NULL;
    int rc;

    if (!cur)
        return -EINVAL;
    rc = ussd_menus_load(path, &fresh, err, errlen);
    if (rc == 0 && cfg)
        rc = ussd_menus_check(fresh, cfg, err, errlen);
    if (rc < 0) {
        ussd_menus_free(fresh);
        return rc; /* the old menus stay in use */
    }
    ussd_menus_free(*cur);
    *cur = fresh;
    return 0;
}

size_t ussd_menus_lang_count(const struct ussd_menus *m)
{
    return m ? m->nlang : 0;
}

const char *ussd_menus_lang_code(const struct ussd_menus *m, size_t i)
{
    return (m && i < m->nlang) ? m->lang[i].code : NULL;
}

const char *ussd_menus_default_lang(const struct ussd_menus *m)
{
    return m ? m->lang[m->default_lang].code : NULL;
}

bool ussd_menus_has_lang(const struct ussd_menus *m, const char *code)
{
    return menu_lang_find(m, code) >= 0;
}

bool ussd_menus_has_node(const struct ussd_menus *m, const char *id)
{
    return menu_node_find(m, id) >= 0;
}

const char *ussd_menus_label(const struct ussd_menus *m, const char *lang, const char *name)
{
    int li;
    const struct menu_lang *l;

    if (!m || !name)
        return NULL;
    li = menu_lang_find(m, lang);
    l = &m->lang[li >= 0 ? (size_t)li : m->default_lang];
    if (strcmp(name, "more") == 0)
        return l->more;
    if (strcmp(name, "back") == 0)
        return l->back;
    if (strcmp(name, "invalid") == 0)
        return l->invalid;
    if (strcmp(name, "unavailable") == 0)
        return l->unavailable;
    if (strcmp(name, "no_history") == 0)
        return l->no_history;
    if (strcmp(name, "processing") == 0)
        return l->processing ? l->processing : l->unavailable;
    if (strcmp(name, "store_down") == 0)
        return l->store_down ? l->store_down : l->unavailable;
    return NULL;
}
