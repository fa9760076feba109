/*
 * ctl_whatif_ref.c - the referral rule in the campaigns' what-if (ctl_whatif_camp.h): each
 * referral of the journal (format version 3) goes through lua/referral.lua REFER on both scratch
 * servers, with the arguments gw_campaign_run_refer builds under that side's document (the first
 * referral campaign running on the referral's day: its max_per_month and the record's lifetime);
 * the referee's first recharge then goes through campaign.lua EVENT (which reads the record and
 * the wallet's rc) and, as the daemon does after it, REFPAY on the referrer's wallet. The scripts
 * decide: the cap, a loop, a record already taken, the window, the minimum, the budget.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_whatif_camp_int.h"
#include "gw_days.h"

/* The first referral campaign of doc running on day (gw_campaign_run_refer's choice), or NULL. */
static const struct gw_camp *referral_on(const struct gw_campaigns *doc, int32_t day)
{
    for (size_t i = 0; i < doc->n; i++)
        if (doc->c[i].rule == GW_CAMP_REFERRAL && gw_camp_active(&doc->c[i], day))
            return &doc->c[i];
    return NULL;
}

int ctl_whatif_camp_refer(struct ctl_whatif_camp *c, const struct gw_journal_refer *f)
{
    struct member *a = cwc_member_get(c, cwc_key_of(f->referrer)), *b;

    /* the referrer was a member then (referral.lua said ok): a bare wallet when the replay has
     * none (enrolled before the window, no event in it, or --no-wallets); its events are not
     * replayed, REFPAY credits it */
    if (!a || a->only == CWC_REFEREE) {
        const char *fv[] = {"bal", "0", "life", "0"};
        if (!a && !(a = cwc_member_add(c, f->referrer)))
            return -ENOMEM;
        if (a->only == CWC_MEMBER)
            c->n_only++;
        a->only = CWC_REFERRER;
        if (cwc_wallet_set(c, f->referrer, 4, fv) < 0)
            return -EIO;
    }
    if (c->nrefs == c->caprefs) {
        size_t cap = c->caprefs ? c->caprefs * 2 : 256;
        void *n = realloc(c->refs, cap * sizeof(*c->refs));
        if (!n)
            return -ENOMEM;
        c->refs = n;
        c->caprefs = cap;
    }
    snprintf(c->refs[c->nrefs], sizeof(c->refs[0]), "%s", f->referrer);
    if (!(b = cwc_member_get(c, cwc_key_of(f->referee)))) {
        if (!(b = cwc_member_add(c, f->referee)))
            return -ENOMEM;
        b->only = CWC_REFEREE; /* no wallet until it enrols */
        c->n_only++;
    }
    b->ref = (uint32_t)++c->nrefs;
    char kw[40], kb[40], kr[40], now[24], day[12], max[16], ttl[16];
    snprintf(kw, sizeof(kw), "lg:{%s}:w", f->referrer);
    snprintf(kb, sizeof(kb), "lg:{%s}:w", f->referee);
    snprintf(kr, sizeof(kr), "lg:{%s}:rf", f->referee);
    snprintf(now, sizeof(now), "%" PRId64, f->commit_ms / 1000);
    snprintf(day, sizeof(day), "%08" PRId32, f->day);
    for (int k = 0; k < 2; k++) {
        struct side *s = &c->s[k];
        const struct gw_camp *cp = referral_on(&s->doc, f->day);
        if (!cp) { /* the gateway would have said "unavailable" */
            s->ref_refused[GW_REF_OK]++;
            continue;
        }
        snprintf(max, sizeof(max), "%" PRIu32, cp->max_per_month);
        snprintf(ttl, sizeof(ttl), "%" PRIu32, (cp->valid_days + 2) * 86400u);
        const char *argv[] = {"EVALSHA", s->rsha, "3", kw, kb, kr, "REFER", now, day, max, ttl};
        if (cwc_queue(s, 11, argv, NULL, CWC_REFER) < 0)
            return -EIO;
    }
    return 0;
}

int cwc_ref_before(struct ctl_whatif_camp *c, struct member *m, int k, bool *force)
{
    char kw[40], rc[16], rl[24];

    /* campaign.lua pays a referee on its first recharge only (rc 1, counted by the commit) */
    snprintf(kw, sizeof(kw), "lg:{%s}:w", m->msisdn);
    snprintf(rc, sizeof(rc), "%" PRIu32, m->rc);
    snprintf(rl, sizeof(rl), "%" PRId64, m->rl);
    const char *hs[] = {"HSET", kw, "rc", rc, "rl", rl};
    if (cwc_queue(&c->s[k], 6, hs, NULL, CWC_OTHER) < 0)
        return -EIO;
    m->rc_sent[k] = true;
    *force = m->rc == 1;
    return 0;
}

int cwc_ref_after(struct ctl_whatif_camp *c, struct member *m, int k, int32_t day, int64_t now)
{
    struct side *s = &c->s[k];
    const struct gw_camp *cp = referral_on(&s->doc, day);

    if (m->rc != 1 || !cp || m->ref == 0 || m->ref > c->nrefs)
        return 0;
    /* the daemon's REFPAY after an EVENT naming the referrer (gw_campaign_run.c refpay), without
     * the aggregates' keys: pays once while the record is "due", else "done" */
    const char *a = c->refs[m->ref - 1];
    char kw[40], kh[40], kr[40], ns[24], ds[12], pts[24], hl[16];
    snprintf(kw, sizeof(kw), "lg:{%s}:w", a);
    snprintf(kh, sizeof(kh), "lg:{%s}:h", a);
    snprintf(kr, sizeof(kr), "lg:{%s}:rf", m->msisdn);
    snprintf(ns, sizeof(ns), "%" PRId64, now);
    snprintf(ds, sizeof(ds), "%08" PRId32, day);
    snprintf(pts, sizeof(pts), "%" PRId64, cp->points);
    snprintf(hl, sizeof(hl), "%" PRIu32, c->history_len ? c->history_len : 50);
    const char *argv[] = {"EVALSHA", s->sha, "3", kw, kh, kr, "REFPAY", ns, ds, cp->id, pts,
                          cp->label, hl};
    if (cwc_queue(s, 13, argv, NULL, CWC_REFPAY) < 0)
        return -EIO;
    s->kpts[s->pending - 1] = (int32_t)cp->points;
    s->mkey[s->pending - 1] = cwc_key_of(a);
    return 0;
}

void cwc_ref_reply(struct side *s, unsigned i, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *oc = rep->element[0]->str;
    if (s->kind[i] == CWC_REFPAY) {
        if (strcmp(oc, "paid") == 0) { /* the referrer's bonus */
            s->ref_paid++;
            s->grants++;
            s->issued += s->kpts[i];
            cwc_member_credit(s, i, s->kpts[i]);
        }
        return;
    }
    if (strcmp(oc, "ok") == 0 && rep->elements == 1) {
        s->ref_ok++;
        return;
    }
    for (int o = GW_REF_OK + 1; o < GW_REF__OUTCOMES; o++)
        if (strcmp(oc, gw_referral_outcome_name((enum gw_ref_outcome)o)) == 0)
            s->ref_refused[o]++;
}

json_t *cwc_ref_json(const struct side *s)
{
    json_t *refused = json_object();

    for (int o = GW_REF_OK + 1; o < GW_REF__OUTCOMES; o++)
        if (s->ref_refused[o])
            json_object_set_new(refused, gw_referral_outcome_name((enum gw_ref_outcome)o),
                                json_integer((json_int_t)s->ref_refused[o]));
    return json_pack("{sIsIsosI}", "recorded", (json_int_t)s->ref_ok, "paid",
                     (json_int_t)s->ref_paid, "refused", refused, "no_campaign",
                     (json_int_t)s->ref_refused[GW_REF_OK]);
}

void ctl_whatif_camp_text_ref(const json_t *base, const json_t *draft)
{
    const json_t *r[2] = {json_object_get(base, "referrals"), json_object_get(draft, "referrals")};
    static const char *const rows[][2] = {{"referrals recorded", "recorded"},
                                          {"referrers paid", "paid"}};

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", rows[i][0],
               json_integer_value(json_object_get(r[0], rows[i][1])),
               json_integer_value(json_object_get(r[1], rows[i][1])));
    printf("%-22s %16" JSON_INTEGER_FORMAT " %16" JSON_INTEGER_FORMAT "\n", "referrals capped",
           json_integer_value(json_object_get(json_object_get(r[0], "refused"), "cap")),
           json_integer_value(json_object_get(json_object_get(r[1], "refused"), "cap")));
}
