/*
 * ctl_whatif_camp_int.h - the campaigns' what-if's insides, shared by ctl_whatif_camp.c (the
 * scratch servers, the event rules, the passes) and ctl_whatif_ref.c (the referral rule). Not an
 * interface: ctl_whatif_camp.h is.
 */
#ifndef CTL_WHATIF_CAMP_INT_H
#define CTL_WHATIF_CAMP_INT_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl_whatif_camp.h"
#include "gw_referral.h"

#define PIPE 8192 /* few round trips: each one waits for a time slice at nice 10 on a busy box */

/* what a pending reply is (struct side kind[]) */
enum { CWC_OTHER, CWC_EVENT, CWC_REFER, CWC_REFPAY };

struct side {
    struct ctl_whatif_camp *c; /* the run (its member table, for cwc_member_credit) */
    int k;                      /* 0 in force, 1 draft */
    pid_t pid;
    char sock[96];
    char sha[41];
    char rsha[41]; /* lua/referral.lua */
    redisContext *rc;
    struct gw_campaigns doc;
    unsigned pending; /* replies to read */
    unsigned char kind[PIPE * 2]; /* per pending reply: CWC_* */
    int32_t kpts[PIPE * 2];       /* CWC_REFPAY: the referrer's points */
    uint64_t mkey[PIPE * 2];      /* the member a grant of the reply goes to (key), 0 none */
    int64_t issued;
    uint64_t grants, stops, calls, offers_asked;
    /* referrals: recorded by referral.lua, refused (by outcome; [GW_REF_OK]: no referral
     * campaign ran that day), referrers paid by REFPAY */
    uint64_t ref_ok, ref_refused[GW_REF__OUTCOMES], ref_paid;
};

/* member.only: a table entry that is not a member replayed (its events are not sent) */
enum { CWC_MEMBER, CWC_REFEREE /* referred, no wallet yet */, CWC_REFERRER /* a bare wallet */ };

struct member {
    uint64_t key;
    char msisdn[GW_MSISDN_MAX + 1];
    const char *tier[2];    /* last written on each side (the replay's strings), NULL = none */
    int32_t sday;           /* local day of since */
    int32_t last_day[2];    /* the day of the last EVENT sent on side k, 0 none */
    uint16_t settled[2];    /* welcome rules (bit = index in the side's doc) settled */
    uint32_t rc;            /* recharges counted, as the ledger's rc */
    int64_t rl;             /* the last recharge, unix s (0 none or unknown) */
    int64_t asked_rl[2];    /* the rl the modelled pass last handled on side k */
    bool offer[2];          /* an offer was asked for since the last TOPUP sent */
    bool rc_sent[2];        /* rc and rl as written on side k */
    uint8_t only;           /* CWC_MEMBER, or what else the entry is */
    int32_t bd;             /* the birth date, 0 none */
    int32_t bd_from[2];     /* the first day whose birthday pass on side k is still to model */
    uint32_t ref;           /* referred: 1 + the index of its last referral (c->refs), 0 none */
    int64_t bonus[2];       /* the bonus points granted to it on side k (the ten largest changes) */
};

struct ctl_whatif_camp {
    char dir[64];
    uint32_t history_len;
    struct gw_campaign_run_config run;
    bool call_all; /* LGW_WHATIF_CALL_ALL: no call left out */
    struct side s[2];
    struct member *m; /* key 0 = free */
    size_t cap, n, n_only; /* n_only: entries that are not members replayed */
    uint64_t skipped;
    struct gw_camp_event_call call;
    size_t nbudget; /* budgets spent before the window (ctl_whatif_camp_budget) */
    struct {
        char id[GW_CAMP_ID_MAX + 1];
        int64_t spent;
    } budget[2 * GW_CAMP_MAX];
    char (*refs)[GW_MSISDN_MAX + 1]; /* the referrers of the referrals replayed */
    size_t nrefs, caprefs;
};

uint64_t cwc_key_of(const char *msisdn);
struct member *cwc_member_get(struct ctl_whatif_camp *c, uint64_t key);
/* The entry of msisdn, added (only = CWC_MEMBER, counted in n) when missing; NULL: no memory. */
struct member *cwc_member_add(struct ctl_whatif_camp *c, const char *msisdn);
/* Appends a command to side s's pipeline (reading replies when it is full). 0 or -errno. */
int cwc_queue(struct side *s, int argc, const char **argv, const size_t *len, unsigned char kind);
/* Pending reply i of side s granted pts: added to its member's bonus (s->mkey[i]; none: nothing). */
void cwc_member_credit(struct side *s, unsigned i, int64_t pts);
/* HSET of a wallet's fields on both sides. */
int cwc_wallet_set(struct ctl_whatif_camp *c, const char *msisdn, int n, const char **fv);

/* ctl_whatif_ref.c: a CWC_REFER or CWC_REFPAY reply (pending index i) of side s. */
void cwc_ref_reply(struct side *s, unsigned i, const redisReply *rep);
/* Around the EVENT call of member m's credited TOPUP on side k (day: the event's local day):
 * before, a referee's rc and rl are written (campaign.lua reads rc); after, REFPAY (the
 * referrer's half) follows a referee's first recharge. *force: the call must be sent. */
int cwc_ref_before(struct ctl_whatif_camp *c, struct member *m, int k, bool *force);
int cwc_ref_after(struct ctl_whatif_camp *c, struct member *m, int k, int32_t day, int64_t now);
/* The side's referral figures: {recorded, paid, refused: {outcome: n}} */
json_t *cwc_ref_json(const struct side *s);

#endif
