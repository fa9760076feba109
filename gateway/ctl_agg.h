/*
 * ctl_agg.h - loyaltyctl report and agg-check (ctl_agg.c): the readers of the ledger's per-slot
 * aggregates, on one Redis or on a cluster (one connection per master, opened and closed here).
 */
#ifndef CTL_AGG_H
#define CTL_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include "gw_redis.h"

struct redisContext;

/* true for "report" and "agg-check". */
bool ctl_agg_is_command(const char *cmd);
/* Runs argv[0] (a command above) with its arguments. ctx: the caller's connection (kept); cfg:
 * its address and credentials, for the other masters of a cluster (not kept). Returns the exit
 * status: 0, 1 (Redis failed, or agg-check found a difference), 2 (usage). */
int ctl_agg_main(struct redisContext *ctx, const struct gw_redis_config *cfg,
                 uint32_t point_value_micro, int argc, char **argv);

#endif
