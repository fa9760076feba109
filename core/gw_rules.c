/*
 * gw_rules.c - the in-process cache of the rule dictionary (gw_rules.h): open addressing on
 * FNV-1a of the text, no deletion.
 */
#include "gw_rules.h"

#include <stdlib.h>
#include <string.h>

struct rule_slot {
    uint16_t id;
    char *text; /* NULL: empty */
};

struct gw_rules {
    unsigned refs, used;
    struct rule_slot slot[GW_RULES_CACHE];
};

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct gw_rules *gw_rules_new(void)
{
    struct gw_rules *r = calloc(1, sizeof(*r));
    if (r)
        r->refs = 1;
    return r;
}

void gw_rules_hold(struct gw_rules *r)
{
    if (r)
        r->refs++;
}

void gw_rules_release(struct gw_rules *r)
{
    if (!r || --r->refs > 0)
        return;
    for (size_t i = 0; i < GW_RULES_CACHE; i++)
        free(r->slot[i].text);
    free(r);
}

int gw_rules_find(const struct gw_rules *r, const char *text)
{
    if (!r || !text)
        return -1;
    for (uint32_t i = fnv(text), n = 0; n < GW_RULES_CACHE; i++, n++) {
        const struct rule_slot *s = &r->slot[i % GW_RULES_CACHE];
        if (!s->text)
            return -1;
        if (strcmp(s->text, text) == 0)
            return s->id;
    }
    return -1;
}

void gw_rules_put(struct gw_rules *r, const char *text, uint16_t id)
{
    /* keep a quarter free: lookups of absent texts stay short */
    if (!r || !text || r->used >= GW_RULES_CACHE * 3 / 4 || gw_rules_find(r, text) >= 0)
        return;
    for (uint32_t i = fnv(text);; i++) {
        struct rule_slot *s = &r->slot[i % GW_RULES_CACHE];
        if (!s->text) {
            s->text = strdup(text);
            if (s->text) {
                s->id = id;
                r->used++;
            }
            return;
        }
    }
}
