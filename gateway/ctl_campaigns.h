/*
 * ctl_campaigns.h - loyaltyctl's view of the campaign rules (gw_campaign.h): the stored document,
 * each campaign's figures (budget spent and left, grants, budget stops, the win-back funnel) and
 * the preview - how many subscribers would be offered on a day and what it would cost - read from
 * the due sets only (never a scan of the wallets). Read-only.
 */
#ifndef CTL_CAMPAIGNS_H
#define CTL_CAMPAIGNS_H

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>

/* loyaltyctl campaign-rules [--at UNIX] [--days N] [--json]: prints to out; returns the exit code
 * (0, 1 Redis or document error, 2 usage). args are the words after the command. */
int ctl_campaign_rules(redisContext *c, int argc, char **argv, FILE *out);
void ctl_campaigns_usage(FILE *out);

#endif
