/*
 * ctl_birthday.h - loyaltyctl birthday-import: the carrier's CSV of birth dates (gw_birthday.h)
 * into the wallets (`bd`) and the birthday index (lg:bd:{tag}:<MMDD>), validated before anything
 * is written, idempotent, audited (docs/campaigns.md, "Birthday").
 */
#ifndef CTL_BIRTHDAY_H
#define CTL_BIRTHDAY_H

#include <hiredis/hiredis.h>
#include <stdio.h>

#include "gw_redis.h"

/* loyaltyctl birthday-import FILE [--dry-run]: args are the words after the command. c: the
 * caller's connection (kept); cfg: its address and credentials, for the other masters of a
 * Redis Cluster (not kept). Returns the exit code: 0 imported (or valid, dry run), 1 Redis error
 * (the records applied are counted on out; a re-import completes it), 2 usage or a refused file
 * (nothing written; the reasons on stderr, naming the lines). */
int ctl_birthday_import(redisContext *c, const struct gw_redis_config *cfg, int argc, char **argv,
                        FILE *out);
void ctl_birthday_usage(FILE *out);

#endif
