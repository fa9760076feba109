/*
 * gw_rules.h - a program's in-process cache of the rule dictionary lg:rules (rule text <-> id,
 * docs/data-model.md section 7; registered by core/lua/rule.lua, idempotently). The ledger asks it
 * for the id of each text an event's history record may carry; a miss costs one rule.lua call
 * before the commit, then never again in this process. Ids never change once given, so the
 * cache needs no invalidation. Bounded (GW_RULES_CACHE entries; when full, texts are simply
 * registered again, which rule.lua answers with the same id). Reference-counted: a commit in
 * flight holds it, so the ledger may be freed under it.
 */
#ifndef GW_RULES_H
#define GW_RULES_H

#include <stddef.h>
#include <stdint.h>

#define GW_RULES_CACHE 1024
#define GW_RULE_TEXT_MAX 200    /* rule.lua's bound */
#define GW_RULES_KEY "lg:rules" /* the dictionary: field <id> = text, t:<text> = id, seq */

/* core/lua/rule.lua, embedded: KEYS lg:rules, ARGV 1..16 texts -> their ids (0 = the dictionary
 * is full). Every program that registers texts adds it to its gw_redis. */
extern const char gw_lua_rule[];
extern const size_t gw_lua_rule_len;

struct gw_rules;

struct gw_rules *gw_rules_new(void);
void gw_rules_hold(struct gw_rules *r);
void gw_rules_release(struct gw_rules *r);
/* The id of text, or -1 when not cached. */
int gw_rules_find(const struct gw_rules *r, const char *text);
void gw_rules_put(struct gw_rules *r, const char *text, uint16_t id);

#endif
