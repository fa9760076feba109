/*
 * gw_backoff.c - exponential reconnect back-off with full jitter (see gw_core.h). One
 * implementation for the SMPP link and the Redis client, so both behave alike under a restart
 * storm and are tested once.
 */
#include "gw_core.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

uint64_t gw_rng_next(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

void gw_backoff_init(struct gw_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed)
{
    struct timespec ts;

    b->min_ms = min_ms ? min_ms : 1;
    b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
    b->failures = 0;
    if (seed == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)b;
    }
    b->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint32_t gw_backoff_next(struct gw_backoff *b)
{
    uint64_t lo = b->min_ms, cap = lo;
    uint32_t n = b->failures < 30 ? b->failures + 1 : 30;

    for (uint32_t i = 0; i < n && cap < b->max_ms; i++)
        cap *= 2;
    if (cap > b->max_ms)
        cap = b->max_ms;
    if (b->failures < UINT32_MAX)
        b->failures++;
    if (cap <= lo)
        return (uint32_t)lo;
    return (uint32_t)(lo + gw_rng_next(&b->rng) % (cap - lo + 1));
}

void gw_backoff_reset(struct gw_backoff *b)
{
    b->failures = 0;
}
