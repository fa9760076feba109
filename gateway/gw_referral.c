/*
 * gw_referral.c - the referral rule's pure decisions (gw_referral.h).
 */
#include "gw_referral.h"

#include <errno.h>
#include <string.h>

#include "gw_days.h"

static const char *const names[GW_REF__OUTCOMES] = {"ok",    "bad_number", "self", "member",
                                                    "taken", "loop",       "cap",  "blocked"};

const char *gw_referral_outcome_name(enum gw_ref_outcome o)
{
    return (unsigned)o < GW_REF__OUTCOMES ? names[o] : "?";
}

int gw_referral_number(const char *in, size_t len, char out[16])
{
    size_t n = 0, i = 0;

    if (!in || !out)
        return -EINVAL;
    while (i < len && in[i] == ' ')
        i++;
    if (i < len && in[i] == '+')
        i++;
    else if (i + 1 < len && in[i] == '0' && in[i + 1] == '0')
        i += 2;
    for (; i < len; i++) {
        if (in[i] == ' ')
            continue;
        if (in[i] < '0' || in[i] > '9' || n == 15)
            return -EINVAL;
        out[n++] = in[i];
    }
    out[n] = '\0';
    /* a country code never starts with 0: a national number ("06...") is refused, not guessed */
    if (n < 8 || out[0] == '0')
        return -EINVAL;
    return 0;
}

enum gw_ref_outcome gw_referral_decide(const struct gw_ref_facts *f, const char *referee,
                                       uint32_t max_per_month)
{
    char norm[16];

    if (!f || !referee || gw_referral_number(referee, strlen(referee), norm) < 0 ||
        strcmp(norm, referee) != 0)
        return GW_REF_BAD_NUMBER;
    if (f->referrer_blocked)
        return GW_REF_BLOCKED;
    if (strcmp(referee, f->referrer) == 0)
        return GW_REF_SELF;
    /* before "member": the one who referred me is a member by now, and "loop" says why */
    for (size_t i = 0; i < f->n_chain && i < GW_REF_CHAIN_MAX; i++)
        if (strcmp(f->chain[i], referee) == 0)
            return GW_REF_LOOP;
    if (f->referee_member)
        return GW_REF_MEMBER;
    if (f->referee_pending && strcmp(f->referee_pending_by, f->referrer) != 0)
        return GW_REF_TAKEN;
    if (f->referee_pending) /* the same referral again: already counted */
        return GW_REF_OK;
    if (f->referrer_month_count >= max_per_month)
        return GW_REF_CAP;
    return GW_REF_OK;
}

bool gw_referral_qualifies(int32_t referred_day, uint32_t valid_days, int32_t recharge_day,
                           bool first_recharge, int64_t amount_milli, int64_t min_amount_milli)
{
    int32_t last = gw_days_add(referred_day, (int32_t)valid_days);

    return first_recharge && last != 0 && gw_days_valid(recharge_day) &&
           recharge_day >= referred_day && recharge_day <= last &&
           amount_milli >= min_amount_milli;
}
