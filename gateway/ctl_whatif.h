/*
 * ctl_whatif.h - `loyaltyctl whatif` (ctl_whatif.c): the what-if replay of the event journal
 * under a draft loyalty table, in its own process (no Redis).
 */
#ifndef CTL_WHATIF_H
#define CTL_WHATIF_H

#include <stdbool.h>

/* true when argv names the whatif command. */
bool ctl_whatif_is_command(int argc, char **argv);
/* Runs it; returns the exit status (0 ok, 1 failure, 2 usage). */
int ctl_whatif_main(int argc, char **argv);

#endif
