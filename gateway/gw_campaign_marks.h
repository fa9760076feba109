/*
 * gw_campaign_marks.h - the sweep of retired markers (issue 9 section 4, "no key grows without
 * bound"; docs/campaigns.md "Retired campaigns"). Every campaign rule leaves its once-only marker
 * c:<id> in the wallet of each member it settled; when a campaign is removed from the document its
 * id joins the document's "retired" list (gw_campaigns_retire) and is never used again, so its
 * markers are dead weight (~14 B per member, ~280 MB at 20 M members). This job deletes them.
 *
 * Only ids in "retired" are swept, never the ids of campaigns merely not running today: a paused
 * or ended campaign stays in the document and keeps its markers, so it never pays twice.
 *
 * The walk: one Redis: SCAN <cursor> MATCH lg:{*}:w COUNT <batch>; a Redis Cluster: slot by slot,
 * CLUSTER GETKEYSINSLOT sent to the slot's master, until a page holds about <batch> keys. Each
 * wallet of the page gets HDEL of the pass's markers (harmless when absent). The progress lives
 * in Redis (lua/campaign_marks.lua, lg:mk:{mk}): the pass's ids, its cursor saved after every page,
 * and the ids swept by completed passes, so a restart continues from the cursor and a completed
 * pass is not run again (one Redis: unless the server restarted or failed over meanwhile, which
 * changes its SCAN order: then the pass starts again, see lua/campaign_marks.lua EPOCH); a lease
 * (SET PX, renewed by each page) keeps the other gateways idle while one sweeps. A new id retired
 * starts a new pass (for the ids not yet swept); a pass whose ids are all swept stops. An id is
 * swept only once it was retired grace_s ago as seen by this gateway, or on an earlier local day:
 * gateways still on the previous document, and a cluster's reservations voided up to 10 minutes
 * later (gw_campaign_cl.h), may still write its marker.
 *
 * Ownership: owned by the campaigns runner (gw_campaign_run.c), which feeds it each document.
 * Free it after gw_redis_free (a page in flight frees itself on its cancelled callbacks).
 */
#ifndef GW_CAMPAIGN_MARKS_H
#define GW_CAMPAIGN_MARKS_H

#include <stdbool.h>
#include <stdint.h>

#include "gw_campaign.h"

struct event_base;
struct gw_redis;
struct gw_campaign_stats;
struct gw_campaign_run_config;
struct gw_camp_marks;

#define GW_CAMP_MARKS_KEY "lg:mk:{mk}"
#define GW_CAMP_MARKS_LEASE "lg:mk:{mk}:lease"
#define GW_CAMP_MARKS_IDS_MAX 32 /* ids deleted by one pass (the rest: the next pass) */

/* base, redis borrowed; cfg's marker_sweep_* keys, cluster and owner are read (copied); st is
 * the runner's, where the marker_* counters go. NULL on ENOMEM. */
struct gw_camp_marks *gw_camp_marks_new(struct event_base *base, struct gw_redis *redis,
                                        const struct gw_campaign_run_config *cfg,
                                        struct gw_campaign_stats *st);
/* The retired list of a new document in force (doc borrowed for the call). */
void gw_camp_marks_set_doc(struct gw_camp_marks *m, const struct gw_campaigns *doc);
/* Starts the tick. 0 or -EIO. */
int gw_camp_marks_start(struct gw_camp_marks *m);
/* Before gw_redis_free: no new request. NULL is a no-op. */
void gw_camp_marks_detach(struct gw_camp_marks *m);
/* After gw_redis_free. NULL is a no-op. */
void gw_camp_marks_free(struct gw_camp_marks *m);

extern const char gw_lua_campaign_marks[];
extern const size_t gw_lua_campaign_marks_len;

#endif
