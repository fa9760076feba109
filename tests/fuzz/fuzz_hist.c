/*
 * fuzz_hist.c - libFuzzer target: the wallet's history E and its notes N (gateway/gw_hist.c) as
 * the readers (the console, loyaltyctl show, the USSD history screen) take them from Redis
 * (stored data, but a hand-edited or corrupt field must be refused, never overrun). The input is
 * one byte k, then E's first 16 x (k % 8) bytes (fewer if the input is shorter), then N. Beyond
 * "no crash": every line the merge writes is NUL-terminated within its slot, holds no control
 * character, and at most max lines are written; a note is shorter than its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_hist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 160
#define MAX 12

static const char *rule(void *arg, uint16_t id)
{
    (void)arg;
    return id % 3 == 0 ? NULL : id % 3 == 1 ? "gift DATA_1GB (catalogue v1)" : "refund X\x01";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[MAX][CAP], note[64];
    struct gw_hist_rec r;

    if (size < 1)
        return 0;
    size_t elen = (size_t)(data[0] % 8) * GW_HIST_REC;
    if (elen > size - 1)
        elen = size - 1;
    const uint8_t *e = data + 1, *n = e + elen;
    size_t nlen = size - 1 - elen;
    const char *legacy[] = {"1|TOPUP|r|+1|1|x"};
    const size_t llen[] = {16};

    memset(out, 'z', sizeof(out));
    size_t k = gw_hist_merge(e, elen, n, nlen, legacy, llen, data[0] & 0x80 ? 1 : 0, rule, NULL,
                             out[0], CAP, MAX);
    if (k > MAX)
        abort();
    for (size_t i = 0; i < k; i++) {
        size_t len = strnlen(out[i], CAP);
        if (len >= CAP)
            abort();
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)out[i][j] < 0x20 || out[i][j] == 0x7f)
                abort();
    }
    for (size_t i = 0; gw_hist_get(e, elen, i, &r) == 0; i++) {
        int got = gw_hist_note(n, nlen, &r, note, sizeof(note));
        if (got >= (int)sizeof(note) || (got >= 0 && strlen(note) != (size_t)got))
            abort();
    }
    return 0;
}
