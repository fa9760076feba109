/*
 * gw_ingest.h - from deliver_sm to points: tells carrier events from subscriber traffic
 * (../shared/spec/events.md "Telling events from subscriber traffic"), parses and validates the
 * event, computes what it earns, commits it through the ledger, and only then answers the SMSC:
 *   ESME_ROK        committed, or a duplicate of a committed ref
 *   ESME_RX_T_APPN  the store is down, slow or we are stopping: the SMSC redelivers later
 *   ESME_RX_P_APPN  malformed or rejected, once the dead letter is safely in Redis
 * A dead letter that cannot be written is answered ESME_RX_T_APPN too: nothing is lost.
 *
 * Subscriber traffic (USSD, MO SMS) and delivery receipts are acknowledged ESME_ROK at once and
 * counted; USSD and MO SMS are then handed to the hooks of struct gw_ingest_hooks (main.c wires
 * gw_ussd and gw_sms there). USSD is never answered ESME_RX_T_APPN: that only kills the dialogue.
 */
#ifndef GW_INGEST_H
#define GW_INGEST_H

#include <stdint.h>
#include <stdio.h>

#include "gw_config.h"
#include "gw_metrics.h"
#include "gw_ledger.h"
#include "smpp.h"

/* Counters, exposed as metrics (the stats file) and in the exit summary. */
#define GW_INGEST_COUNTERS(X)                                                                      \
    X(events_in, "event deliver_sm received")                                                      \
    X(credited, "events committed with an effect")                                                 \
    X(duplicates, "events whose ref was already committed")                                        \
    X(reversed, "reversals that took points back")                                                \
    X(reversal_noop, "reversals of unknown or already reversed events")                            \
    X(voided, "originals that arrived after their reversal: recorded, no credit")                 \
    X(ref_conflicts, "refs already committed for another MSISDN (ESME_RX_P_APPN)")                 \
    X(corrupt_wallets, "ALARM: events refused because the stored wallet is unreadable")           \
    X(rejected, "malformed or refused events (ESME_RX_P_APPN)")                                     \
    X(temp_failed, "events answered ESME_RX_T_APPN")                                               \
    X(deadletters, "dead letters written")                                                         \
    X(deadletter_failed, "dead letters Redis did not take")                                        \
    X(points_credited, "points credited")                                                          \
    X(points_reversed, "points taken back")                                                        \
    X(points_capped, "points forfeited to the daily cap")                                          \
    X(held, "ALARM: earning events over a velocity cap: committed, their points held")            \
    X(points_held, "points held by the velocity caps (brakes.events_*, points_*)")                 \
    X(enrolled, "subscribers enrolled")                                                            \
    X(receipts, "delivery receipts")                                                               \
    X(ussd_in, "USSD deliver_sm")                                                                  \
    X(mo_sms, "mobile-originated SMS")                                                             \
    X(pdu_rejected, "PDUs refused by the pre-scan or codec")                                       \
    X(late_responses, "answers for a link that had dropped")                                       \
    X(simswaps, "SIM swap notices recorded: outgoing transfers frozen")                            \
    X(journaled, "committed events written to the event journal")                                 \
    X(journal_failed, "journal lines that could not be written (the events stay committed)")

struct gw_ingest_stats {
#define GW_X_FIELD(name, help) uint64_t name;
    GW_INGEST_COUNTERS(GW_X_FIELD)
#undef GW_X_FIELD
    uint32_t in_flight;
};

struct gw_ingest;

/* cfg and ledger must outlive the ingest. NULL on ENOMEM. */
struct gw_ingest *gw_ingest_new(const struct gw_config *cfg, struct gw_ledger *ledger);
/* In-flight commits keep their memory until their callbacks fire: free only after the ledger's
 * Redis client was freed (which fails them all). NULL is a no-op. */
void gw_ingest_free(struct gw_ingest *g);

/* The smpp_esme_ops hooks; arg is the struct gw_ingest. */
void gw_ingest_on_deliver(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                          const struct smpp_sm *sm);
void gw_ingest_on_rejected(void *arg, const uint8_t *pdu, size_t len, uint32_t status,
                           const char *reason);

/* Where subscriber traffic goes once it was answered ESME_ROK. Either hook may be NULL (the PDU
 * is then only counted). sm is valid only during the call; e is the link it came from. */
struct gw_ingest_hooks {
    void (*ussd)(void *arg, struct smpp_esme *e, const struct smpp_sm *sm);
    void *ussd_arg;
    void (*mo_sms)(void *arg, struct smpp_esme *e, const struct smpp_sm *sm);
    void *mo_sms_arg;
    /* After an earning event's commit (credited, or a duplicate: a crash may have come between
     * the commit and this step): the campaign rules (gw_campaign_run_event, day = the event's
     * local day, amount_milli the event's amount). 0: the event is answered when done fires
     * (ESME_RX_T_APPN if err < 0, so the redelivery tries again); 1 nothing to do and < 0 not
     * sent: answered at once. NULL: none. */
    int (*after_commit)(void *arg, const char *msisdn, const char *kind, const char *ref,
                        int32_t day, int64_t amount_milli, int64_t now,
                        void (*done)(void *ctx, int err), void *ctx);
    void *after_commit_arg;
};
/* Sets the hooks (copied). */
void gw_ingest_set_hooks(struct gw_ingest *g, const struct gw_ingest_hooks *hooks);

/* The points transfers a SIMSWAP notice freezes (gw_transfer.h; must outlive the ingest). Without
 * one a SIMSWAP is answered ESME_RX_T_APPN: the SMSC keeps it until a gateway can record it. */
struct gw_transfer;
void gw_ingest_set_transfer(struct gw_ingest *g, struct gw_transfer *x);
/* Appends every committed event to journal (gw_journal.h; NULL = off). Not owned: it must
 * outlive the ingest or be unset first. */
struct gw_journal;
void gw_ingest_set_journal(struct gw_ingest *g, struct gw_journal *journal);

/* Swaps the loyalty table (after a reload). The table is copied. */
void gw_ingest_set_table(struct gw_ingest *g, const struct gw_loyalty *table);

void gw_ingest_get_stats(const struct gw_ingest *g, struct gw_ingest_stats *out);
/* Commit latency: from the event's deliver_sm to the ledger's answer (committed, or failed),
 * in seconds. Owned by g. */
const struct gw_histo *gw_ingest_commit_latency(const struct gw_ingest *g);
/* Writes the counters as one JSON object (no trailing newline). */
void gw_ingest_stats_json(const struct gw_ingest_stats *s, FILE *out);

#endif
