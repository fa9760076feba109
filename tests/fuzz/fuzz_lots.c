/*
 * fuzz_lots.c - libFuzzer target: the wallet's packed lots L (gateway/gw_lots.c) as the readers
 * (loyaltyctl show, the USSD balance, the tests) take them from Redis (stored data, but a
 * hand-edited or corrupt field must be refused, never overrun). The input is one L. Properties
 * beyond "no crash": the reader never goes past the input and stops where a record is broken;
 * what gw_lots_valid accepts reads as days strictly ascending and points in (0, 2^53), and
 * encodes back (gw_lots_put) to the same lots in no more bytes (a varint may be written
 * shorter). The same bytes as a lot field of the release before (key: the first 10 bytes)
 * never yield a lot of 0 points or less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_lots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_lot lots[N], lot;
    uint8_t buf[N * GW_LOTS_REC_MAX];
    size_t pos = 0, len = 0, n = 0;
    bool valid = gw_lots_valid(data, size);

    while (n < N && gw_lots_next(data, size, &pos, &lots[n]) == 1) {
        if (pos > size || lots[n].points <= 0 || lots[n].points >= GW_VARINT_VALUE_MAX)
            abort();
        if (valid && n > 0 && lots[n].day <= lots[n - 1].day)
            abort();
        n++;
    }
    if (valid && n < N) {
        if (pos != size)
            abort();
        for (size_t i = 0; i < n; i++)
            if (gw_lots_put(buf, sizeof(buf), &len, lots[i].day, lots[i].points) != 0)
                abort();
        if (len > size || !gw_lots_valid(buf, len))
            abort();
        pos = 0;
        for (size_t i = 0; i < n; i++)
            if (gw_lots_next(buf, len, &pos, &lot) != 1 || lot.day != lots[i].day ||
                lot.points != lots[i].points)
                abort();
    }
    if (size >= 10 && gw_lots_old_field((const char *)data, 10, (const char *)data + 10,
                                        size - 10, &lot) == 1 && lot.points <= 0)
        abort();
    return 0;
}
