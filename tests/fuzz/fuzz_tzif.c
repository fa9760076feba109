/*
 * fuzz_tzif.c - libFuzzer target: the TZif reader (catalog/cat_tz.c) on any bytes, then every
 * query the calendar makes on what it accepted, at instants taken from the input. Property: an
 * accepted zone answers every query without failing, with offsets within +-26 h, and local time
 * converted back to UTC lands on an instant that has that local time (unless it is a gap).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cat_tz *tz = NULL;
    int64_t probes[4] = {0, INT64_C(1795608000), INT64_C(-2208988800), INT64_C(4102444800)};

    if (size > 64 * 1024)
        return 0;
    if (cat_tz_parse(data, size, "Fuzz/Zone", &tz) != 0) {
        if (tz)
            abort();
        return 0;
    }
    if (size >= 8) {
        int64_t t;

        memcpy(&t, data + size - 8, sizeof(t));
        probes[0] = t % (INT64_C(400) * 365 * 86400); /* within +-400 years of 1970 */
    }
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        struct cat_tm tm;
        int64_t back;
        enum cat_tz_fold fold;
        char buf[64];
        int32_t off = cat_tz_utc_offset(tz, probes[i]);

        if (off < -26 * 3600 || off > 26 * 3600)
            abort();
        if (cat_tz_localtime(tz, probes[i], &tm) != 0)
            continue;
        (void)cat_tz_local_date(tz, probes[i]);
        (void)cat_tz_format_local(tz, probes[i], buf, sizeof(buf));
        if (cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, tm.hour, tm.min, tm.sec,
                                CAT_TZ_EARLIER, &back, &fold) == 0 &&
            fold != CAT_TZ_GAP) {
            struct cat_tm again;

            if (cat_tz_localtime(tz, back, &again) == 0 &&
                (again.year != tm.year || again.mon != tm.mon || again.day != tm.day ||
                 again.hour != tm.hour || again.min != tm.min || again.sec != tm.sec))
                abort();
        }
    }
    cat_tz_free(tz);
    return 0;
}
