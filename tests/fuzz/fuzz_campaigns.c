/*
 * fuzz_campaigns.c - libFuzzer target: the campaigns document (gateway/gw_campaign.c), as the
 * staff console and every gateway validate it. Property: an accepted document holds only valid
 * campaigns (bounded numbers, ordered dates, known rules), and its helpers (tier argument, offer
 * text in every language) answer without overflowing; no retired id is a campaign's. And
 * gw_campaigns_retire with the input as the stored document: a valid one has all its ids retired.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_campaign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gw_campaigns doc;
    char err[256], arg[400], text[GW_CAMP_TEXT_MAX * 4];

    static const char empty[] = "{\"version\": \"f\", \"campaigns\": []}";
    static struct gw_campaigns after;
    char *out = NULL;
    int rc;

    /* the input as the stored document an empty one replaces (read leniently, valid or not) */
    rc = gw_campaigns_retire((const char *)data, size, empty, strlen(empty), 20261208, &out, err,
                             sizeof(err));
    if (gw_campaigns_parse((const char *)data, size, &doc, err, sizeof(err)) != 0) {
        free(out);
        if (doc.n != 0 || memchr(err, '\0', sizeof(err)) == NULL)
            abort();
        return 0;
    }
    /* a valid stored document: every campaign and retired id of it is retired in the new one */
    if (rc == 0 && doc.n + doc.n_retired > 0 &&
        (!out || gw_campaigns_parse(out, strlen(out), &after, err, sizeof(err)) != 0 ||
         after.n_retired != doc.n + doc.n_retired))
        abort();
    if (rc < 0 && doc.n + doc.n_retired <= GW_CAMP_RETIRED_MAX)
        abort();
    free(out);
    if (doc.n > GW_CAMP_MAX || doc.n_retired > GW_CAMP_RETIRED_MAX)
        abort();
    for (size_t i = 0; i < doc.n_retired; i++)
        for (size_t j = 0; j < doc.n; j++)
            if (strcmp(doc.retired[i].id, doc.c[j].id) == 0)
                abort(); /* a retired id is never a campaign's */
    for (size_t i = 0; i < doc.n; i++) {
        const struct gw_camp *c = &doc.c[i];
        if (c->rule >= GW_CAMP__RULES || c->end < c->start || c->points < 1 ||
            c->points > GW_CAMP_POINTS_MAX || c->budget < 1 || c->n_tiers > GW_CAMP_TIERS_MAX ||
            c->n_years > GW_CAMP_YEARS_MAX)
            abort();
        (void)gw_camp_tiers_arg(c, arg, sizeof(arg));
        for (int l = 0; l < GW_CAMP_LANGS; l++)
            (void)gw_camp_offer_text(c, gw_camp_langs[l], "fr", c->points, c->end, text,
                                     sizeof(text));
        (void)gw_camp_points(c, "gold");
    }
    return 0;
}
