/*
 * ctl_draw.h - "loyaltyctl draw": runs the seeded draw of an item's gift day (catalog.h, "The
 * draw") over the registrations in Redis and prints the draw order; with "publish", records
 * the draw (seed, how many registered, the winners' digest and the first winners) in the staff
 * audit trail (adm:{adm}:audit), where the console's audit log shows it. Run again with the same
 * seed, it prints the same winners: the audit's reproduction.
 */
#ifndef CTL_DRAW_H
#define CTL_DRAW_H

#include <hiredis/hiredis.h>
#include <stdio.h>

/* The registrations of item on gift day (YYYYMMDD): hash MSISDN -> weight (1..100). */
#define CTL_DRAW_REG_FMT "cat:{%s}:dr:%s:reg"

void ctl_draw_usage(FILE *out);
/* args: ITEM DAY SEED [WINNERS] [publish]. Returns the exit status (0, 1 store, 2 usage). */
int ctl_draw(redisContext *c, int argc, char **argv);

#endif
