/*
 * fuzz_event.c - libFuzzer target: the carrier's event text (gateway/gw_event.c) as it arrives in
 * a deliver_sm, parsed with the default format and limits at a fixed "now" (the parser takes the
 * clock as an argument: runs are reproducible). Property beyond "no crash, no leak": an accepted
 * event is within the limits the parser promises (strings terminated, amount within bounds, time
 * within the age window); a refused one says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_event.h"

#define NOW INT64_C(1795608000) /* 2026-11-25T12:00:00Z: the seeds are dated the day before */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gw_event_format fmt;
    static struct gw_event_limits lim;
    static int ready;
    struct gw_event ev;
    char err[160];
    int rc;

    if (!ready) {
        gw_event_format_default(&fmt);
        gw_event_limits_default(&lim);
        ready = 1;
    }
    err[0] = '\0';
    rc = gw_event_parse(&fmt, &lim, data, size, NOW, &ev, err, sizeof(err));
    if (rc == 0) {
        if (strnlen(ev.ref, sizeof(ev.ref)) == sizeof(ev.ref) ||
            strnlen(ev.msisdn, sizeof(ev.msisdn)) == sizeof(ev.msisdn) ||
            strnlen(ev.orig, sizeof(ev.orig)) == sizeof(ev.orig) ||
            strnlen(ev.channel, sizeof(ev.channel)) == sizeof(ev.channel))
            abort();
        if (ev.kind >= GW_EV__ALL || ev.amount_milli < 0 ||
            (ev.kind == GW_EV_SIMSWAP && (ev.amount_milli != 0 || ev.currency[0])) ||
            ev.amount_milli > lim.max_amount_milli)
            abort();
        if (ev.at < NOW - lim.max_age_s || ev.at > NOW + lim.max_future_s)
            abort();
        if (size > GW_EVENT_TEXT_MAX)
            abort();
    } else if (err[0] == '\0') {
        abort(); /* a refusal names its reason (it goes to the dead-letter stream) */
    }
    return 0;
}
