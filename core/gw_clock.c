/*
 * gw_clock.c - the one wall clock every decision in the gateway reads, replaceable by tests.
 */
#include "gw_core.h"

#include <time.h>

static gw_clock_fn g_fn;
static void *g_arg;

void gw_clock_set(gw_clock_fn fn, void *arg)
{
    g_fn = fn;
    g_arg = arg;
}

int64_t gw_clock_now_ms(void)
{
    struct timespec ts;

    if (g_fn)
        return g_fn(g_arg);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
