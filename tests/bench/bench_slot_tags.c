/*
 * bench_slot_tags.c - prints the hash tag of every Redis Cluster slot (core gw_slot_tag), one
 * "slot tag" line each: tests/bench/agg_report.sh writes the per-slot aggregate keys with them.
 */
#include <stdio.h>

#include "gw_redis.h"

int main(void)
{
    char tag[GW_SLOT_TAG_MAX];

    for (unsigned s = 0; s < GW_SLOTS; s++) {
        if (gw_slot_tag(s, tag) < 0)
            return 1;
        printf("%u %s\n", s, tag);
    }
    return 0;
}
