/*
 * gw_rules.h - the gateway's in-process cache of the rule dictionary lg:rules (rule text <-> id,
 * docs/data-model.md section 7; registered by lua/rule.lua, idempotently). The ledger asks it
 * for the id of each text an event's history record may carry; a miss costs one rule.lua call
 * before the commit, then never again in this process. Ids never change once given, so the
 * cache needs no invalidation. Bounded (GW_RULES_CACHE entries; when full, texts are simply
 * registered again, which rule.lua answers with the same id). Reference-counted: a commit in
 * flight holds it, so the ledger may be freed under it.
 */
#ifndef GW_RULES_H
#define GW_RULES_H

#include <stdint.h>

#define GW_RULES_CACHE 1024
#define GW_RULE_TEXT_MAX 200 /* rule.lua's bound */

struct gw_rules;

struct gw_rules *gw_rules_new(void);
void gw_rules_hold(struct gw_rules *r);
void gw_rules_release(struct gw_rules *r);
/* The id of text, or -1 when not cached. */
int gw_rules_find(const struct gw_rules *r, const char *text);
void gw_rules_put(struct gw_rules *r, const char *text, uint16_t id);

#endif
