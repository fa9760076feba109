/*
 * fuzz_journal.c - libFuzzer target: event journal files (gateway/gw_journal.c) as the what-if
 * replay reads them from disk (a copied, truncated or hand-edited file is untrusted). The input is
 * cut into lines; each goes through gw_journal_parse. Properties beyond "no crash, no leak": an
 * accepted line formats back into a line that parses to the same record (the writer and the
 * reader agree), and every accepted record replays (gw_whatif: the ledger's arithmetic, hostile
 * amounts included) without error under a default table and a draft with doubled rates, tiers
 * and a cap. Format version 2: redemption lines and the header go through their own parsers
 * (gw_journal_redeem_parse, gw_journal_header_parse) with the same round-trip property, and every
 * accepted redemption replays under a draft catalogue (gw_whatif_cat); enrolment lines round-trip
 * too. Format version 3: referral lines (gw_journal_refer_parse) round-trip, never name the
 * referrer as its own referee, and carry a valid day.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_days.h"
#include "gw_journal.h"
#include "catalog.h"
#include "gw_whatif.h"
#include "gw_whatif_cat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gw_loyalty base, draft;
    static int ready;
    static struct cat_catalog *cat;
    struct gw_whatif *w;
    struct gw_whatif_cat *wc;
    struct gw_whatif_result res;
    size_t at = 0;
    unsigned lines = 0;

    if (!ready) {
        gw_loyalty_default(&base);
        gw_loyalty_default(&draft);
        draft.rate[GW_EV_TOPUP].points = 2;
        draft.daily_cap = 500;
        draft.n_tiers = 2;
        strcpy(draft.tiers[1].name, "gold");
        draft.tiers[1].min_points = 100;
        draft.tiers[1].pct = 125;
        static const char doc[] =
            "{\"version\": \"f\", \"items\": [{\"id\": \"A\", \"category\": \"sms\", "
            "\"names\": {\"ar\": \"a\", \"fr\": \"a\", \"en\": \"a\", \"fa\": \"a\"}, "
            "\"descriptions\": {\"ar\": \"d\", \"fr\": \"d\", \"en\": \"d\", \"fa\": \"d\"}, "
            "\"price\": 7, \"tier\": \"standard\", \"fulfil\": {\"type\": \"provisioning\", "
            "\"kind\": \"sms\", \"quantity\": 1, \"unit\": \"sms\"}}]}";
        static const char *const tiers[] = {"standard"};
        struct cat_load_opts lo = {.tiers = tiers, .n_tiers = 1};
        char err[256];
        if (cat_catalog_parse(doc, sizeof(doc) - 1, &lo, &cat, err, sizeof(err)) != 0)
            abort();
        ready = 1;
    }
    w = gw_whatif_new(&base, &draft, "MAD");
    wc = gw_whatif_cat_new(cat);
    if (!w || !wc) {
        gw_whatif_free(w);
        gw_whatif_cat_free(wc);
        return 0;
    }
    while (at < size && lines++ < 256) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
        struct gw_journal_rec r, back;
        char buf[GW_JOURNAL_LINE_MAX];

        if (gw_journal_parse((const char *)data + at, len, &r) == 0) {
            int n = gw_journal_format(&r, buf, sizeof(buf));
            if (n < 0 || gw_journal_parse(buf, (size_t)n, &back) != 0 ||
                memcmp(&r, &back, sizeof(r)) != 0)
                abort();
            if (gw_whatif_feed(w, &r) != 0)
                abort();
        } else {
            struct gw_journal_redeem d, dback;
            if (gw_journal_redeem_parse((const char *)data + at, len, &d) == 0) {
                int n = gw_journal_redeem_format(&d, buf, sizeof(buf));
                if (n < 0 || gw_journal_redeem_parse(buf, (size_t)n, &dback) != 0 ||
                    memcmp(&d, &dback, sizeof(d)) != 0 || gw_whatif_cat_feed(wc, &d) != 0)
                    abort();
            }
            struct gw_journal_refer f, fback;
            if (gw_journal_refer_parse((const char *)data + at, len, &f) == 0) {
                int n = gw_journal_refer_format(&f, buf, sizeof(buf));
                if (n < 0 || gw_journal_refer_parse(buf, (size_t)n, &fback) != 0 ||
                    memcmp(&f, &fback, sizeof(f)) != 0 || strcmp(f.referrer, f.referee) == 0 ||
                    !gw_days_valid(f.day))
                    abort();
            }
            struct gw_journal_enrol e, eback;
            if (gw_journal_enrol_parse((const char *)data + at, len, &e) == 0) {
                int n = gw_journal_enrol_format(&e, buf, sizeof(buf));
                if (n < 0 || gw_journal_enrol_parse(buf, (size_t)n, &eback) != 0 ||
                    memcmp(&e, &eback, sizeof(e)) != 0)
                    abort();
            }
            (void)gw_journal_header_parse((const char *)data + at, len);
        }
        at += len;
    }
    if (gw_whatif_result(w, &res) == 0 && res.n_top > GW_WHATIF_TOP)
        abort();
    struct gw_whatif_cat_result cres;
    gw_whatif_cat_result(wc, &cres);
    if (cres.refused + cres.gone > cres.redemptions)
        abort();
    gw_whatif_free(w);
    gw_whatif_cat_free(wc);
    return 0;
}
