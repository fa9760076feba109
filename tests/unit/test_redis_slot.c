/*
 * test_redis_slot.c - the Redis Cluster hash slot (gw_redis_key_slot: CRC16-XMODEM mod 16384 with
 * the {hash tag} rules of the Cluster spec), the seed address parser, and the cluster options of
 * gw_redis_new (a bad seed is refused; a cluster client is not connected before its slot map).
 * Expected slots were checked against a real redis-server 7.0 (CLUSTER KEYSLOT); it_cluster.c
 * compares thousands more against a live cluster. Also the client's own command formatter against
 * hiredis's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>

#include "gw_core.h"
#include "gw_redis.h"

static unsigned slot(const char *k)
{
    return gw_redis_key_slot(k, strlen(k));
}

static void test_slot__spec_vector__crc16_of_123456789(void **state)
{
    (void)state;
    /* The Cluster spec's CRC16 check value: 0x31C3; the slot is its low 14 bits. */
    assert_int_equal(slot("123456789"), 0x31C3 & 0x3FFF);
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot(""), 0);
}

static void test_slot__hash_tag__same_slot_for_same_tag(void **state)
{
    (void)state;
    assert_int_equal(slot("{user1000}.following"), 3443);
    assert_int_equal(slot("{user1000}.followers"), 3443);
    /* Our subscriber keys: the three keys of a commit share the MSISDN's slot. */
    assert_int_equal(slot("lg:{212600000001}:w"), 4887);
    assert_int_equal(slot("lg:{212600000001}:r"), 4887);
    assert_int_equal(slot("lg:{212600000001}:h"), 4887);
    assert_int_equal(slot("lg:{212600000001}:w"), slot("212600000001"));
}

static void test_slot__tag_edge_cases__follow_the_spec(void **state)
{
    (void)state;
    /* "{}" is not a tag: the whole key is hashed. */
    assert_int_equal(slot("foo{}{bar}"), 8363);
    assert_int_equal(slot("{}"), 15257);
    /* The tag runs from the first '{' to the first '}' after it. */
    assert_int_equal(slot("foo{{bar}}zap"), 4015);
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), 5061);
    /* No closing brace: the whole key. */
    assert_int_equal(slot("a{b"), 13340);
}

static void test_slot__binary_key__length_not_nul(void **state)
{
    (void)state;
    const char k[] = {'f', 'o', 'o', '\0', 'x'};
    assert_int_equal(gw_redis_key_slot(k, 3), 12182);
    assert_int_not_equal(gw_redis_key_slot(k, sizeof(k)), 12182);
    assert_int_equal(gw_redis_key_slot(NULL, 0), 0);
}

static void test_addr__host_port__parsed_and_bounded(void **state)
{
    (void)state;
    char host[64];
    uint16_t port = 0;
    assert_int_equal(gw_redis_parse_addr("127.0.0.1:7000", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 7000);
    assert_int_equal(gw_redis_parse_addr("[::1]:6379", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(gw_redis_parse_addr("::1:6380", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 6380);
    assert_int_equal(gw_redis_parse_addr("redis-a.local:65535", host, sizeof(host), &port), 0);
    static const char *bad[] = {"",         "7000",    ":7000",     "h:",   "h:0",
                                "h:65536",  "h:12a",   "h:123456",  "h:-1", "[::1:7000",
                                "a b:7000", "[]:7000", "h\x01:7000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_redis_parse_addr(bad[i], host, sizeof(host), &port), -EINVAL);
    char small[4];
    assert_int_equal(gw_redis_parse_addr("abcd:1", small, sizeof(small), &port), -EINVAL);
}

static void count_cb(void *arg, int err, const struct redisReply *reply)
{
    (void)err;
    (void)reply;
    (*(int *)arg)++;
}

static void test_cluster_client__bad_seed_refused_and_not_connected_before_map(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct gw_redis_config cfg;
    int calls = 0;

    gw_redis_config_defaults(&cfg);
    assert_int_equal(cfg.n_cluster_nodes, 0);
    snprintf(cfg.cluster_nodes[0], sizeof(cfg.cluster_nodes[0]), "%s", "no-port");
    cfg.n_cluster_nodes = 1;
    assert_null(gw_redis_new(base, &cfg));

    /* A seed nobody listens on (port 1): nothing is routed, every request is refused at once. */
    snprintf(cfg.cluster_nodes[0], sizeof(cfg.cluster_nodes[0]), "%s", "127.0.0.1:1");
    struct gw_redis *r = gw_redis_new(base, &cfg);
    assert_non_null(r);
    assert_int_equal(gw_redis_start(r), 0);
    assert_false(gw_redis_is_connected(r));
    const char *argv[] = {"GET", "lg:{212600000001}:w"};
    assert_int_equal(gw_redis_command(r, 2, argv, NULL, count_cb, &calls), -ENOTCONN);
    assert_int_equal(gw_redis_command_key(r, "k", 1, 2, argv, NULL, count_cb, &calls), -ENOTCONN);
    assert_int_equal(gw_redis_commandf(r, count_cb, &calls, "PING"), -ENOTCONN);
    assert_int_equal(gw_redis_command_key(r, NULL, 0, 2, argv, NULL, count_cb, &calls), -EINVAL);
    struct gw_redis_stats st;
    gw_redis_get_stats(r, &st);
    assert_int_equal(st.nodes, 1);
    assert_int_equal(st.nodes_up, 0);
    assert_int_equal(st.not_connected, 3);
    gw_redis_free(r);
    assert_int_equal(calls, 0);
    event_base_free(base);
}

/* gw_redis_format_argv writes what hiredis's redisFormatCommandArgv writes, byte for byte
 * (binary arguments, empty ones, lengths across a power of ten, many arguments), and NUL-ends it. */
static void test_format__any_argv__same_bytes_as_hiredis(void **state)
{
    (void)state;
    static char big[12345];
    const char *argv[300];
    size_t len[300];
    unsigned seed = 7;

    memset(big, 'x', sizeof(big));
    big[17] = '\0';
    big[18] = '\r';
    for (int round = 0; round < 200; round++) {
        int argc = round < 4 ? round + 1 : 1 + (int)(seed % 299);
        for (int i = 0; i < argc; i++) {
            seed = seed * 1103515245u + 12345u;
            argv[i] = big + seed % 100;
            len[i] = (seed >> 8) % 4 == 0 ? 0 : (size_t)((seed >> 10) % 12000);
            if (i % 7 == 3)
                len[i] = (size_t)((seed >> 12) % 3 == 0 ? 9 : (seed >> 12) % 3 == 1 ? 10 : 99);
        }
        char *mine = NULL, *theirs = NULL;
        int n = gw_redis_format_argv(&mine, argc, argv, len);
        int m = redisFormatCommandArgv(&theirs, argc, argv, len);
        assert_true(n > 0);
        assert_int_equal(n, m);
        assert_memory_equal(mine, theirs, (size_t)n);
        assert_int_equal(mine[n], '\0');
        free(mine);
        redisFreeCommand(theirs);
    }
    /* C strings when argvlen is NULL */
    const char *c[] = {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "1", "lg:{2126}:w"};
    char *mine = NULL, *theirs = NULL;
    int n = gw_redis_format_argv(&mine, 4, c, NULL);
    assert_int_equal(n, redisFormatCommandArgv(&theirs, 4, c, NULL));
    assert_memory_equal(mine, theirs, (size_t)n);
    free(mine);
    redisFreeCommand(theirs);
    const char *bad[] = {"GET", NULL};
    assert_int_equal(gw_redis_format_argv(&mine, 2, bad, NULL), -EINVAL);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot__spec_vector__crc16_of_123456789),
        cmocka_unit_test(test_slot__hash_tag__same_slot_for_same_tag),
        cmocka_unit_test(test_slot__tag_edge_cases__follow_the_spec),
        cmocka_unit_test(test_slot__binary_key__length_not_nul),
        cmocka_unit_test(test_addr__host_port__parsed_and_bounded),
        cmocka_unit_test(test_cluster_client__bad_seed_refused_and_not_connected_before_map),
        cmocka_unit_test(test_format__any_argv__same_bytes_as_hiredis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
