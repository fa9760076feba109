/*
 * gw_slot_tag.c - the hash tag of each Redis Cluster slot (gw_redis.h, gw_slot_tag): per-slot keys
 * (expiry due sets, daily aggregates) carry it so a script on a subscriber's slot can write them.
 * The table is built once, on first use, and read-only after (one thread per process).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gw_redis.h"

static char g_tags[GW_SLOTS][GW_SLOT_TAG_MAX];
static bool g_tags_ready;

static void tags_build(void)
{
    char num[12];
    unsigned left = GW_SLOTS;

    /* decimal strings do not reach every slot below 100000 (CRC16 is not uniform on them):
     * the table needs numbers up to a few million, found in well under a second, once */
    for (unsigned i = 0; i < 100000000 && left > 0; i++) {
        int n = snprintf(num, sizeof(num), "%u", i);
        unsigned slot = gw_redis_key_slot(num, (size_t)n);
        if (g_tags[slot][0] == '\0' && n > 0 && n <= 8) {
            g_tags[slot][0] = '{';
            memcpy(g_tags[slot] + 1, num, (size_t)n);
            g_tags[slot][n + 1] = '}';
            g_tags[slot][n + 2] = '\0';
            left--;
        }
    }
    g_tags_ready = true;
}

int gw_slot_tag(unsigned slot, char *out)
{
    if (slot >= GW_SLOTS || !out)
        return -EINVAL;
    if (!g_tags_ready)
        tags_build();
    if (g_tags[slot][0] == '\0')
        return -EINVAL; /* never: every slot has a tag (test_gw_expiry checks) */
    memcpy(out, g_tags[slot], GW_SLOT_TAG_MAX);
    return 0;
}

int gw_slot_tag_of(const char *msisdn, char *out)
{
    size_t n = msisdn ? strnlen(msisdn, 16) : 0;

    if (n < 1 || n > 15)
        return -EINVAL;
    return gw_slot_tag(gw_redis_key_slot(msisdn, n), out);
}
