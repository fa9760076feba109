/*
 * bench_local_day.c - the cost of gw_local_day(), which the gateway runs for every event (its
 * day, the daily cap's day, the lot's date). Loads the programme zone as the daemons do
 * (gw_config_apply_timezone) and asks the local day of N instants S seconds apart from
 * 2026-01-01T00:00Z (default 10,000,000 calls 3 s apart: a year, with both of Casablanca's
 * Ramadan changes in it). Prints the calls and a checksum of the days (so the loop is not
 * optimised away, and two builds can be compared for equal answers). Time it from outside:
 *   farm-bench -- build/tests/bench_local_day [zone [calls [step]]]
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gw_config.h"
#include "gw_loyalty.h"

int main(int argc, char **argv)
{
    static struct gw_config cfg;
    const char *zone = argc > 1 ? argv[1] : "Africa/Casablanca";
    long long n = argc > 2 ? atoll(argv[2]) : 10000000LL;
    int64_t step = argc > 3 ? atoll(argv[3]) : 3;
    int64_t t = INT64_C(1767225600);
    uint64_t sum = 0;

    gw_config_defaults(&cfg);
    snprintf(cfg.loyalty.timezone, sizeof(cfg.loyalty.timezone), "%s", zone);
    if (gw_config_apply_timezone(&cfg) < 0) {
        fprintf(stderr, "bench_local_day: unknown zone %s\n", zone);
        return 2;
    }
    for (long long i = 0; i < n; i++, t += step)
        sum = sum * 31 + (uint64_t)gw_local_day(t);
    printf("%lld calls, checksum %016" PRIx64 "\n", n, sum);
    return 0;
}
