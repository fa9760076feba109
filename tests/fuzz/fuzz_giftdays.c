/*
 * fuzz_giftdays.c - libFuzzer target: the gift-day calendar JSON (catalog/cat_calendar.c), as the
 * staff console validates it (cat_calendar_config_parse, then cat_calendar_new, which opens the
 * zone from the system's zoneinfo), then the questions the USSD menus ask of an accepted calendar
 * at instants taken from the input. Property: an accepted calendar answers them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cat_calendar_config cfg;
    struct cat_calendar *cal = NULL;
    char err[256];
    int64_t now = INT64_C(1795608000);

    if (cat_calendar_config_parse((const char *)data, size, &cfg, err, sizeof(err)) != 0)
        return 0;
    if (cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)) != 0) {
        if (cal)
            abort();
        return 0;
    }
    if (size >= 4) {
        uint32_t d;

        memcpy(&d, data + size - 4, sizeof(d));
        now += (int64_t)(d % (800u * 86400u)) - 400 * 86400; /* +-400 days */
    }
    for (size_t t = 0; t < 2; t++) {
        const char *tier = t ? "gold" : "standard";
        struct cat_gift_window w;
        struct cat_gift_status st;
        int64_t start, end;

        if (cat_calendar_is_open(cal, now, tier, &w) < 0)
            abort();
        (void)cat_calendar_next_open(cal, now, tier, &start, &end, &w);
        (void)cat_calendar_status(cal, now, tier, &st);
    }
    cat_calendar_free(cal);
    return 0;
}
