/*
 * test_whatif.c - the event journal's line format (gateway/gw_journal.c) and the what-if replay
 * (gateway/gw_whatif.c), each replay checked against a direct recomputation: floor(total x rate)
 * per subscriber (the exact remainder), the daily cap by hand, reversals, tiers, and the top
 * changes. Times come from the real clock read once in main (no literal dates).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_days.h"
#include "gw_journal.h"
#include "gw_whatif.h"
#include "gw_zone.h"

static int64_t T0; /* noon UTC of today's date, so a few hours either way stay on one day */

static struct gw_loyalty base, draft;

static int setup(void **state)
{
    (void)state;
    gw_loyalty_default(&base);
    gw_loyalty_default(&draft);
    return 0;
}

static struct gw_journal_rec rec(char kind, const char *msisdn, const char *ref, int64_t milli,
                                 int64_t at, char outcome, int64_t points)
{
    struct gw_journal_rec r;

    memset(&r, 0, sizeof(r));
    r.commit_ms = at * 1000;
    r.kind = kind == 'T' ? GW_EV_TOPUP : kind == 'B' ? GW_EV_BILL : GW_EV_REVERSAL;
    snprintf(r.msisdn, sizeof(r.msisdn), "%s", msisdn);
    snprintf(r.ref, sizeof(r.ref), "%s", ref);
    r.amount_milli = milli;
    r.at = at;
    r.outcome = (enum gw_journal_outcome)outcome;
    r.points = points;
    return r;
}

/* ---------------------------------------------------------------- the line format */

static void test_journal__format_then_parse__same_record(void **state)
{
    struct gw_journal_rec r = rec('T', "212612345678", "OCS-1", 50500, T0, 'c', 5), back;
    char line[GW_JOURNAL_LINE_MAX];
    int n;

    (void)state;
    snprintf(r.channel, sizeof(r.channel), "voucher");
    n = gw_journal_format(&r, line, sizeof(line));
    assert_true(n > 0 && line[n - 1] == '\n');
    assert_int_equal(gw_journal_parse(line, (size_t)n, &back), 0);
    assert_memory_equal(&r, &back, sizeof(r));

    r = rec('R', "212612345678", "OCS-2", 0, T0, 'r', 5);
    snprintf(r.orig, sizeof(r.orig), "OCS-1");
    n = gw_journal_format(&r, line, sizeof(line));
    assert_int_equal(gw_journal_parse(line, (size_t)n - 1, &back), 0); /* without its '\n' */
    assert_string_equal(back.orig, "OCS-1");
    assert_int_equal(back.outcome, GW_JOURNAL_REVERSED);
}

static void test_journal__bad_lines__refused(void **state)
{
    static const char *const bad[] = {
        "",
        "\n",
        "1 T 212612345678 10 5000 - R1 - c",          /* a field short (torn line) */
        "1 T 212612345678 10 5000 - R1 - c 0 9",      /* one too many */
        "1 T 212612345678 10 5000 - R1 - c  0",       /* two spaces */
        "1 X 212612345678 10 5000 - R1 - c 0",        /* unknown kind */
        "1 T 2126a2345678 10 5000 - R1 - c 0",        /* MSISDN not digits */
        "1 T 212612345678 10 -5000 - R1 - c 0",       /* a sign */
        "1 T 212612345678 10 5000 - R/1 - c 0",       /* a ref of other characters */
        "1 R 212612345678 10 0 - R2 - r 3",           /* a reversal without its orig */
        "1 T 212612345678 10 5000 - R1 R0 c 0",       /* an orig on an earning */
        "1 T 212612345678 10 5000 - R1 - r 0",        /* an earning cannot be "reversed" */
        "1 T 212612345678 10 5000 Voucher R1 - c 0",  /* channel: lower case */
        "1 T 212612345678 10 5000 - R1 - c 1234567890123456789", /* too many digits */
        "1 T 212612345678 10 5000 - R1 - c 0\r",      /* a control byte */
    };
    struct gw_journal_rec r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gw_journal_parse(bad[i], strlen(bad[i]), &r) != -EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    assert_int_equal(gw_journal_parse("1 T 212612345678 10 5000 - R1 - c 0", 35, &r), 0);
}

/* Format version 3: a referral accepted, "<ms> F <referrer> <referee> <YYYYMMDD>". */
static void test_journal__refer_line__round_trip_and_refusals(void **state)
{
    struct gw_journal_refer f = {.commit_ms = T0 * 1000 + 7, .day = gw_local_day(T0)}, back;
    char buf[GW_JOURNAL_LINE_MAX], want[96], day[12], ok[96];
    int n;

    (void)state;
    strcpy(f.referrer, "212612345678");
    strcpy(f.referee, "33612345678");
    n = gw_journal_refer_format(&f, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%lld F 212612345678 33612345678 %08d\n",
             (long long)f.commit_ms, (int)f.day);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
    assert_true(n < 60); /* compact: ~52 bytes a referral */
    assert_int_equal(gw_journal_refer_parse(buf, (size_t)n, &back), 0);
    assert_memory_equal(&f, &back, sizeof(f));
    assert_int_equal(gw_journal_refer_parse(buf, (size_t)n - 1, &back), 0); /* no '\n' */
    /* the writer refuses what would not parse back */
    struct gw_journal_refer self = f;
    strcpy(self.referee, self.referrer);
    assert_int_equal(gw_journal_refer_format(&self, buf, sizeof(buf)), -EINVAL);
    struct gw_journal_refer badday = f;
    badday.day = 20261301;
    assert_int_equal(gw_journal_refer_format(&badday, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(gw_journal_refer_format(&f, buf, 20), -ENOSPC);
    /* hostile lines: each refused */
    snprintf(day, sizeof(day), "%08d", (int)f.day);
    snprintf(ok, sizeof(ok), "1 F 212612345678 33612345678 %s", day);
    assert_int_equal(gw_journal_refer_parse(ok, strlen(ok), &back), 0);
    assert_int_equal(back.commit_ms, 1);
    char bad[16][96];
    int nb = 0;
    snprintf(bad[nb++], 96, "1 F 212612345678 212612345678 %s", day);   /* oneself */
    snprintf(bad[nb++], 96, "1 F 212612345678 33612345678 20261301");   /* month 13 */
    snprintf(bad[nb++], 96, "1 F 212612345678 33612345678 %.7s", day); /* 7 digits */
    snprintf(bad[nb++], 96, "1 F 212612345678 33612345678 %s0", day);  /* 9 digits */
    snprintf(bad[nb++], 96, "1 F 2126123456789012 33612345678 %s", day); /* 16 digits */
    snprintf(bad[nb++], 96, "1 F +212612345678 33612345678 %s", day);
    snprintf(bad[nb++], 96, "1 F 212612345678 3361234567a %s", day);
    snprintf(bad[nb++], 96, "1 F 212612345678  33612345678 %s", day);   /* two spaces */
    snprintf(bad[nb++], 96, "1 F 212612345678 33612345678 %s x", day);  /* six tokens */
    snprintf(bad[nb++], 96, "1 F 212612345678 33612345678");            /* four */
    snprintf(bad[nb++], 96, "-1 F 212612345678 33612345678 %s", day);
    snprintf(bad[nb++], 96, "1 J 212612345678 33612345678 %s", day);    /* another kind */
    snprintf(bad[nb++], 96, "1 FF 212612345678 33612345678 %s", day);
    snprintf(bad[nb++], 96, "1\tF 212612345678 33612345678 %s", day);
    for (int i = 0; i < nb; i++) {
        if (gw_journal_refer_parse(bad[i], strlen(bad[i]), &back) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
    }
    /* the other parsers refuse a referral line (the replay tells them apart) */
    struct gw_journal_rec r;
    struct gw_journal_enrol e;
    struct gw_journal_redeem d;
    assert_int_equal(gw_journal_parse(ok, strlen(ok), &r), -EINVAL);
    assert_int_equal(gw_journal_enrol_parse(ok, strlen(ok), &e), -EINVAL);
    assert_int_equal(gw_journal_redeem_parse(ok, strlen(ok), &d), -EINVAL);
    /* the headers the reader knows: 1 to GW_JOURNAL_VERSION, now 3 */
    assert_int_equal(GW_JOURNAL_VERSION, 3);
    assert_int_equal(gw_journal_header_parse("#lj 3\n", 6), 3);
}

static void test_journal__writer__day_files_and_prune(void **state)
{
    char dir[] = "/tmp/test_whatif.XXXXXX", path[512];
    struct gw_journal *j;
    struct gw_journal_rec r = rec('T', "212612345678", "W1", 10000, T0, 'c', 1);
    int32_t today = gw_local_day(T0), old = gw_days_add(today, -40);
    FILE *f;
    char line[GW_JOURNAL_LINE_MAX];
    struct gw_journal_rec back;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%08d-gw1.lj", dir, (int)old);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    j = gw_journal_open(dir, "gw 1", 35);
    assert_non_null(j);
    assert_int_equal(gw_journal_append(j, &r), 0);
    struct gw_journal_refer fr = {.commit_ms = T0 * 1000, .referrer = "212612345678",
                                  .referee = "212612345679", .day = today};
    assert_int_equal(gw_journal_append_refer(j, &fr), 0);
    uint64_t written, failed;
    gw_journal_counts(j, &written, &failed);
    assert_int_equal(written, 2);
    assert_int_equal(failed, 0);
    gw_journal_close(j);
    assert_int_not_equal(access(path, F_OK), 0); /* 40 days old, 35 kept: removed */
    snprintf(path, sizeof(path), "%s/%08d-gw_1.lj", dir, (int)today);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    /* a new file says its format version first */
    assert_int_equal(gw_journal_header_parse(line, strlen(line)), GW_JOURNAL_VERSION);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_int_equal(gw_journal_parse(line, strlen(line), &back), 0);
    assert_string_equal(back.ref, "W1");
    struct gw_journal_refer fb;
    f = fopen(path, "r");
    assert_non_null(f);
    for (int i = 0; i < 3; i++)
        assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_int_equal(gw_journal_refer_parse(line, strlen(line), &fb), 0);
    assert_string_equal(fb.referee, "212612345679");
    assert_int_equal(fb.day, today);
    unlink(path);
    rmdir(dir);
}

/* Lines in a file, the header included (0: no file). */
static int file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[GW_JOURNAL_LINE_MAX];
    int n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        n++;
    fclose(f);
    return n;
}

/* On the loop, the lines of one pass go out together at its end; a day change writes the old
 * day's lines to the old day's file first; close writes what is left. */
static void test_journal__batched_on_loop__written_at_pass_end_day_change_and_close(void **state)
{
    char dir[] = "/tmp/test_whatif.XXXXXX", p1[512], p2[512];
    struct event_base *eb = event_base_new();
    int32_t today = gw_local_day(T0), tomorrow = gw_days_add(today, 1);
    uint64_t written, failed;

    (void)state;
    assert_non_null(eb);
    assert_non_null(mkdtemp(dir));
    snprintf(p1, sizeof(p1), "%s/%08d-gw.lj", dir, (int)today);
    snprintf(p2, sizeof(p2), "%s/%08d-gw.lj", dir, (int)tomorrow);
    struct gw_journal *j = gw_journal_open(dir, "gw", 35);
    assert_non_null(j);
    assert_int_equal(gw_journal_set_loop(j, eb), 0);
    assert_int_equal(gw_journal_set_loop(j, eb), -EINVAL);
    struct gw_journal_rec r1 = rec('T', "212612345678", "B1", 10000, T0, 'c', 1);
    struct gw_journal_rec r2 = rec('B', "212612345679", "B2", 20000, T0, 'c', 2);
    assert_int_equal(gw_journal_append(j, &r1), 0);
    assert_int_equal(gw_journal_append(j, &r2), 0);
    assert_int_equal(file_lines(p1), 1); /* the header only: the lines wait for the pass end */
    gw_journal_counts(j, &written, &failed);
    assert_int_equal(written, 0);
    assert_true(event_base_loop(eb, EVLOOP_NONBLOCK) >= 0);
    assert_int_equal(file_lines(p1), 3);
    gw_journal_counts(j, &written, &failed);
    assert_int_equal(written, 2);
    assert_int_equal(failed, 0);
    /* one more today, then one tomorrow in the same pass: today's goes to today's file */
    struct gw_journal_rec r3 = rec('B', "212612345678", "B3", 30000, T0, 'c', 3);
    struct gw_journal_rec r4 = rec('T', "212612345678", "B4", 40000, T0 + 86400, 'c', 4);
    assert_int_equal(gw_journal_append(j, &r3), 0);
    assert_int_equal(gw_journal_append(j, &r4), 0);
    assert_int_equal(file_lines(p1), 4);
    assert_int_equal(file_lines(p2), 1);
    gw_journal_close(j); /* before the loop ran: close writes it */
    assert_int_equal(file_lines(p2), 2);
    event_base_free(eb);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
}

/* ---------------------------------------------------------------- the replay */

static struct gw_whatif_result run(const struct gw_journal_rec *recs, size_t n)
{
    struct gw_whatif *w = gw_whatif_new(&base, &draft, "MAD");
    struct gw_whatif_result res;

    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gw_whatif_feed(w, &recs[i]), 0);
    assert_int_equal(gw_whatif_result(w, &res), 0);
    gw_whatif_free(w);
    return res;
}

/* Random amounts for 50 subscribers; the same table on both sides must agree exactly, and
 * each subscriber earns floor(total MAD / 10) (1 point per 10, remainder carried), the draft at
 * 2 points per 10 floor(2 x total / 10). */
static void test_whatif__doubled_rate__floor_of_exact_totals(void **state)
{
    enum { SUBS = 50, EVENTS = 2000 };
    struct gw_journal_rec *recs = calloc(EVENTS, sizeof(*recs));
    int64_t total[SUBS] = {0}, want_base = 0, want_draft = 0;
    struct gw_whatif_result res;
    unsigned seed = 12345;

    (void)state;
    assert_non_null(recs);
    draft.rate[GW_EV_TOPUP].points = 2;
    for (int i = 0; i < EVENTS; i++) {
        char m[16], ref[16];
        int s = (int)(rand_r(&seed) % SUBS);
        int64_t milli = 1 + rand_r(&seed) % 99999; /* 0.001 .. 99.999 MAD */

        snprintf(m, sizeof(m), "2126%08d", s);
        snprintf(ref, sizeof(ref), "E%d", i);
        recs[i] = rec('T', m, ref, milli, T0 + i, 'c', 0);
        total[s] += milli;
    }
    for (int s = 0; s < SUBS; s++) {
        want_base += total[s] / 10000;    /* milli-MAD / 1000 / 10 */
        want_draft += total[s] * 2 / 10000;
    }
    res = run(recs, EVENTS);
    assert_int_equal(res.events, EVENTS);
    assert_int_equal(res.subscribers, SUBS);
    assert_int_equal(res.base.issued, want_base);
    assert_int_equal(res.draft.issued, want_draft);
    assert_int_equal(res.base.members[0], SUBS);
    free(recs);
}

static void test_whatif__same_table__no_change(void **state)
{
    struct gw_journal_rec recs[] = {
        rec('T', "212600000001", "A1", 5000, T0, 'c', 0),
        rec('T', "212600000001", "A2", 5000, T0 + 1, 'c', 1),
        rec('B', "212600000002", "B1", 45000, T0 + 2, 'c', 2),
    };
    struct gw_whatif_result res;

    (void)state;
    res = run(recs, 3);
    /* two 5 MAD recharges at 1 per 10 earn 1 point; 45 MAD of bill at 1 per 20: 2 */
    assert_int_equal(res.base.issued, 3);
    assert_int_equal(res.draft.issued, 3);
    assert_int_equal(res.recorded, 3);
    assert_int_equal(res.n_top, 0);
}

static void test_whatif__daily_cap__by_local_day(void **state)
{
    struct gw_journal_rec recs[] = {
        rec('T', "212600000001", "C1", 100000, T0, 'c', 0),        /* 10 points */
        rec('T', "212600000001", "C2", 100000, T0 + 60, 'c', 0),   /* 10 more, same day */
        rec('T', "212600000001", "C3", 100000, T0 + 86400, 'c', 0), /* the next day */
    };
    struct gw_whatif_result res;

    (void)state;
    base.daily_cap = 15;
    res = run(recs, 3);
    assert_int_equal(res.base.issued, 15 + 10);
    assert_int_equal(res.base.capped, 5);
    assert_int_equal(res.draft.issued, 30); /* the draft has no cap */
    assert_int_equal(res.n_top, 1);
    assert_string_equal(res.top[0].msisdn, "212600000001");
    assert_int_equal(res.top[0].base, 25);
    assert_int_equal(res.top[0].draft, 30);
}

static void test_whatif__reversal__takes_back_each_sides_points(void **state)
{
    struct gw_journal_rec recs[] = {
        rec('T', "212600000001", "R1", 100000, T0, 'c', 10),
        rec('R', "212600000001", "R2", 0, T0 + 1, 'r', 10),
        rec('R', "212600000002", "R3", 0, T0 + 2, 'r', 7), /* its original is before the window */
        rec('R', "212600000001", "R4", 0, T0 + 3, 'n', 0), /* no effect in the ledger */
    };
    struct gw_whatif_result res;

    (void)state;
    snprintf(recs[1].orig, sizeof(recs[1].orig), "R1");
    snprintf(recs[2].orig, sizeof(recs[2].orig), "R0");
    snprintf(recs[3].orig, sizeof(recs[3].orig), "R1");
    draft.rate[GW_EV_TOPUP].points = 3;
    res = run(recs, 4);
    assert_int_equal(res.base.issued, 10);
    assert_int_equal(res.base.reversed, 10 + 7);
    assert_int_equal(res.draft.issued, 30);
    assert_int_equal(res.draft.reversed, 30 + 7);
    assert_int_equal(res.recorded, 10 - 10 - 7);
}

/* Tiers by lifetime points: the multiplier applies from the event after the crossing. */
static void test_whatif__tiers__multiplier_after_crossing(void **state)
{
    struct gw_journal_rec recs[] = {
        rec('T', "212600000001", "T1", 100000, T0, 'c', 0),     /* 10 pts -> silver */
        rec('T', "212600000001", "T2", 100000, T0 + 1, 'c', 0), /* 10 x 200 % = 20 */
        rec('T', "212600000002", "T3", 50000, T0 + 2, 'c', 0),  /* 5 pts: standard */
    };
    struct gw_whatif_result res;

    (void)state;
    draft.n_tiers = 2;
    snprintf(draft.tiers[1].name, sizeof(draft.tiers[1].name), "silver");
    draft.tiers[1].min_points = 10;
    draft.tiers[1].pct = 200;
    res = run(recs, 3);
    assert_int_equal(res.base.issued, 25);
    assert_int_equal(res.draft.issued, 35);
    assert_int_equal(res.draft.members[0], 1);
    assert_int_equal(res.draft.members[1], 1);
    assert_int_equal(gw_whatif_tier(&draft, 9), 0);
    assert_int_equal(gw_whatif_tier(&draft, 10), 1);
}

/* Ten subscribers earning 1..10 points: the top 20 % (two) hold 19 of 55. */
static void test_whatif__top20_share_and_top_changes(void **state)
{
    struct gw_journal_rec recs[12];
    struct gw_whatif_result res;

    (void)state;
    for (int i = 0; i < 10; i++) {
        char m[16], ref[16];
        snprintf(m, sizeof(m), "2126000000%02d", i + 1);
        snprintf(ref, sizeof(ref), "S%d", i);
        recs[i] = rec('T', m, ref, (int64_t)(i + 1) * 10000, T0 + i, 'c', 0);
    }
    recs[10] = rec('B', "212600000099", "S10", 10, T0 + 20, 'c', 0); /* earns 0 */
    recs[11] = rec('B', "212600000098", "S11", 10, T0 + 21, 'c', 0);
    draft.rate[GW_EV_TOPUP].points = 2;
    res = run(recs, 12);
    /* 12 subscribers: the top ceil(12 / 5) = 3 hold 10 + 9 + 8 = 27 of 55 */
    assert_int_equal(res.base.top20_bp, 27 * 10000 / 55);
    assert_int_equal(res.n_top, 10);
    assert_string_equal(res.top[0].msisdn, "212600000010");
    assert_int_equal(res.top[0].draft - res.top[0].base, 10);
    assert_string_equal(res.top[9].msisdn, "212600000001");
}

/* The shared rule (the campaigns' what-if adds bonuses to these holdings): tiers by life, the
 * top 20 % by net (negative counted as 0); the replay's holdings are walked and looked up. */
static void test_whatif__spread_and_holdings__one_rule(void **state)
{
    const struct gw_whatif_holding h[] = {{5, 5}, {12, 12}, {30, -4}, {0, 0}, {9, 3}, {11, 20}};
    struct gw_whatif_side sp;
    struct gw_journal_rec recs[] = {
        rec('T', "212600000001", "T1", 100000, T0, 'c', 0),
        rec('T', "212600000002", "T2", 50000, T0 + 1, 'c', 0),
    };
    struct gw_whatif *w = gw_whatif_new(&base, &draft, "MAD");
    struct gw_whatif_holding one, two[2];
    char m[GW_MSISDN_MAX + 1];
    size_t pos = 0;
    int64_t seen = 0;

    (void)state;
    draft.n_tiers = 2;
    snprintf(draft.tiers[1].name, sizeof(draft.tiers[1].name), "silver");
    draft.tiers[1].min_points = 10;
    draft.tiers[1].pct = 100;
    assert_int_equal(gw_whatif_spread(&draft, h, 6, &sp), 0);
    assert_int_equal(sp.members[0], 3); /* 5, 0, 9 */
    assert_int_equal(sp.members[1], 3); /* 12, 30, 11 */
    /* ceil(6 / 5) = 2 hold 20 + 12 of 5 + 12 + 0 + 0 + 3 + 20 = 40 */
    assert_int_equal(sp.top20_bp, 32 * 10000 / 40);
    assert_int_equal(gw_whatif_spread(&draft, NULL, 0, &sp), 0);
    assert_int_equal(sp.top20_bp, 0);

    assert_non_null(w);
    for (int i = 0; i < 2; i++)
        assert_int_equal(gw_whatif_feed(w, &recs[i]), 0);
    assert_int_equal(gw_whatif_holding_of(w, "212600000001", 1, &one), 0);
    assert_int_equal(one.life, 10);
    assert_int_equal(one.net, 10);
    assert_int_equal(gw_whatif_holding_of(w, "212600000003", 0, &one), -ENOENT);
    assert_int_equal(gw_whatif_holding_of(w, "212600000001", 2, &one), -EINVAL);
    while (gw_whatif_next(w, &pos, m, two) == 1) {
        assert_int_equal(two[0].net, two[1].net);
        seen += two[0].net;
    }
    assert_int_equal(seen, 15);
    struct gw_whatif_result res;
    assert_int_equal(gw_whatif_result(w, &res), 0);
    assert_int_equal(res.subscribers, 2); /* a lookup never adds one */
    gw_whatif_free(w);
}

int main(void)
{
    time_t now = time(NULL);

    T0 = (int64_t)now - (int64_t)now % 86400 + 43200;
    if (gw_zone_load("UTC") < 0) /* local days are UTC days here */
        return 1;
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_journal__format_then_parse__same_record),
        T(test_journal__bad_lines__refused),
        T(test_journal__refer_line__round_trip_and_refusals),
        T(test_journal__writer__day_files_and_prune),
        T(test_journal__batched_on_loop__written_at_pass_end_day_change_and_close),
        T(test_whatif__doubled_rate__floor_of_exact_totals),
        T(test_whatif__same_table__no_change),
        T(test_whatif__daily_cap__by_local_day),
        T(test_whatif__reversal__takes_back_each_sides_points),
        T(test_whatif__tiers__multiplier_after_crossing),
        T(test_whatif__top20_share_and_top_changes),
        T(test_whatif__spread_and_holdings__one_rule),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
