/*
 * fuzz_birthday_csv.c - libFuzzer target: the carrier's CSV of birth dates (gateway/gw_birthday.c),
 * split into lines as an import would. Property: a record has an MSISDN of 8-15 digits and a
 * valid date not after "today" (fixed here), its celebration day exists in any year, and that
 * day's pass reads the record's month-day index set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_birthday.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const int32_t today = 20261207; /* a fixed "now": the input's own dates are the point */
    unsigned no = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char m[16], err[128];
        int32_t ymd = 0;
        enum gw_bd_line k = gw_birthday_csv_line(p, len, ++no, today, m, &ymd, err, sizeof(err));
        if (k == GW_BD_RECORD) {
            size_t n = strnlen(m, sizeof(m));
            if (n < 8 || n > 15 || !gw_birthday_date_valid(ymd) || ymd > today)
                abort();
            for (int32_t y = 1999; y <= 2001; y++) {
                int32_t on = gw_birthday_in_year(ymd, y), mmdd[2];
                if (!gw_birthday_date_valid(on))
                    abort();
                /* the pass of that day reads the record's month-day set */
                int ns = gw_birthday_sets_of_day(on, mmdd);
                if (ns < 1 || (mmdd[0] != ymd % 10000 && (ns < 2 || mmdd[1] != ymd % 10000)))
                    abort();
            }
        } else if (k == GW_BD_BAD && !memchr(err, '\0', sizeof(err)))
            abort();
        p += len + (nl ? 1 : 0);
    }
    return 0;
}
