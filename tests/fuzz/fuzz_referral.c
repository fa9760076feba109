/*
 * fuzz_referral.c - libFuzzer target: the referee's number as typed on the handset after
 * *555*7* (gateway/gw_referral.c, gw_referral_number), then the decision on it. Property: an
 * accepted number is 8-15 digits not starting with 0, normalising it again gives itself, and the
 * decision on it is never "bad_number" (nor on a referral to oneself anything but "self").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_referral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[16], again[16];
    struct gw_ref_facts f;

    if (gw_referral_number((const char *)data, size, out) < 0)
        return 0;
    size_t n = strnlen(out, sizeof(out));
    if (n < 8 || n > 15 || out[0] == '0' || strspn(out, "0123456789") != n)
        abort();
    if (gw_referral_number(out, n, again) < 0 || strcmp(out, again) != 0)
        abort();
    memset(&f, 0, sizeof(f));
    memcpy(f.referrer, "212600000001", 13);
    if (gw_referral_decide(&f, out, 5) == GW_REF_BAD_NUMBER)
        abort();
    memcpy(f.referrer, out, n + 1);
    if (gw_referral_decide(&f, out, 5) != GW_REF_SELF)
        abort();
    return 0;
}
