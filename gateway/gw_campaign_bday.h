/*
 * gw_campaign_bday.h - the birthday rule in the daemon (issue 10 section 1): once a local day, a
 * pass reads the month-day index sets of the birth dates celebrated today (and the catch-up days
 * before), credits each member's bonus once a year (lua/campaign.lua BDAY: budget, tier variant,
 * history line, the wallet's marker c:<id> = the year) and sends the greeting SMS to those who
 * consented (bc:{bc}:optin, read just before the send) through gw_sms (the link's TPS bucket).
 *
 * The index: lg:bd:{tag}:<MMDD> per slot (the wallet's slot tag) and month-day, written by
 * `loyaltyctl birthday-import` in the same script as the wallet's birth date (campaign.lua BDSET).
 * 29 February is read on 28 February in years without one (gw_birthday_sets_of_day). Never a scan
 * of all subscribers: 16,384 slots x (catch-up days + 1) SMEMBERS, and the members in them.
 *
 * Dates: the injected clock (gw_clock_now_ms) and the programme's zone (gw_local_day).
 * Ownership: the object keeps a copy of the birthday campaign; a pass under way keeps its own.
 * Free it after gw_redis_free and the SMPP link (their cancellations end a pass's requests).
 */
#ifndef GW_CAMPAIGN_BDAY_H
#define GW_CAMPAIGN_BDAY_H

#include <stdint.h>

#include "gw_campaign.h"
#include "gw_campaign_run.h"

struct event_base;
struct gw_redis;
struct gw_sms;
struct gw_campaign_bday;

#define GW_BDAY_KEY_FMT "lg:bd:%s:%04d" /* tag, MMDD */

/* base, redis, sms (may be NULL: bonuses without greetings) and st (the runner's counters) are
 * borrowed; cfg: catch-up days, pass interval, quiet hours. NULL on ENOMEM. */
struct gw_campaign_bday *gw_campaign_bday_new(struct event_base *base, struct gw_redis *redis,
                                              struct gw_sms *sms,
                                              const struct gw_campaign_run_config *cfg,
                                              uint32_t history_len, const char *fallback_lang,
                                              struct gw_campaign_stats *st);
/* The document in force (NULL: none): its first birthday campaign is copied. */
void gw_campaign_bday_set_doc(struct gw_campaign_bday *b, const struct gw_campaigns *doc);
/* Starts the pass timer (every cfg->pass_interval_s; a day's pass runs until one completes
 * without error, then waits for the next local day). 0 or -errno. */
int gw_campaign_bday_start(struct gw_campaign_bday *b);
/* One pass now (quiet hours are the timer's business). Returns 0: done(arg, err) fires once
 * (err < 0: some member or set failed; the next pass retries them, the bonus is once a year);
 * 1: nothing to do (no birthday campaign active today or in the catch-up days; done never fires);
 * < 0: not started (-EBUSY a pass is under way). done does not fire when the object is freed
 * during the pass. */
typedef void (*gw_campaign_bday_done_cb)(void *arg, int err);
int gw_campaign_bday_pass(struct gw_campaign_bday *b, gw_campaign_bday_done_cb done, void *arg);
/* A Redis Cluster: each bonus through gw_camp_cl_bonus (cl is borrowed; the runner's). */
struct gw_camp_cl;
void gw_campaign_bday_set_cluster(struct gw_campaign_bday *b, const struct gw_camp_cl *cl);
/* Before gw_redis_free: no new request. NULL is a no-op. */
void gw_campaign_bday_detach(struct gw_campaign_bday *b);
void gw_campaign_bday_free(struct gw_campaign_bday *b);

#endif
