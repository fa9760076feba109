/*
 * sim_summary.c - what smsc-sim reports at exit: the --summary JSON (the contract the lead's
 * integration tests and benchmarks read) and the human summary on stdout. Reads struct sim,
 * changes nothing; the JSON object returned belongs to the caller.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

uint32_t sim_percentile(const uint32_t *sorted, size_t n, unsigned p)
{
    size_t rank;

    if (n == 0)
        return 0;
    if (p >= 100)
        return sorted[n - 1];
    /* nearest rank: the smallest value with at least p% of the samples at or below it */
    rank = ((size_t)p * n + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

struct lat {
    double p50, p99, max;
};

static struct lat latency(const struct sim *sim)
{
    struct lat l = {0, 0, 0};
    uint32_t *v;

    if (sim->lat_n == 0)
        return l;
    v = malloc(sim->lat_n * sizeof(*v));
    if (!v)
        return l;
    memcpy(v, sim->lat_us, sim->lat_n * sizeof(*v));
    qsort(v, sim->lat_n, sizeof(*v), cmp_u32);
    l.p50 = sim_percentile(v, sim->lat_n, 50) / 1000.0;
    l.p99 = sim_percentile(v, sim->lat_n, 99) / 1000.0;
    l.max = v[sim->lat_n - 1] / 1000.0;
    free(v);
    return l;
}

static const char *inject_result_name(uint8_t r)
{
    switch (r) {
    case SIM_INJ_RESPONSE:
        return "response";
    case SIM_INJ_CLOSED:
        return "closed";
    case SIM_INJ_TIMEOUT:
        return "timeout";
    default:
        return "pending";
    }
}

/* First deliver_sm sent -> last final answer: the throughput window, without the time the
 * gateway took to start and bind. 0 before any final answer. */
static int64_t delivery_ms(const struct sim *sim)
{
    if (!sim->first_send_ms || sim->last_final_ms < sim->first_send_ms)
        return 0;
    return sim->last_final_ms - sim->first_send_ms;
}

/* Events that never got a final answer (still queued, in flight or waiting). */
static uint64_t unfinished(const struct sim *sim)
{
    return sim->events.n - sim->n_final;
}

json_t *sim_summary_json(const struct sim *sim, int64_t elapsed_ms)
{
    const struct sim_stats *st = &sim->st;
    struct lat l = latency(sim);
    json_t *o = json_object(), *inj = json_array();
    int rc = 0;

    if (!o || !inj)
        goto fail;
    for (size_t i = 0; i < sim->n_inject; i++) {
        const struct sim_inject_item *it = &sim->inject[i];
        json_t *e = NULL;
        switch (it->result) {
        case SIM_INJ_RESPONSE:
            e = json_pack("{s:i, s:s, s:s, s:I, s:b}", "line", (int)it->line, "response_cmd",
                          smpp_cmd_name(it->resp_cmd), "status", smpp_status_name(it->resp_status),
                          "seq", (json_int_t)it->resp_seq, "malformed", it->malformed);
            if (e && it->closed_after)
                rc |= json_object_set_new(e, "closed", json_true());
            break;
        case SIM_INJ_CLOSED:
            e = json_pack("{s:i, s:b}", "line", (int)it->line, "closed", 1);
            break;
        case SIM_INJ_TIMEOUT:
            e = json_pack("{s:i, s:b}", "line", (int)it->line, "timeout", 1);
            break;
        default:
            e = json_pack("{s:i, s:b}", "line", (int)it->line, "pending", 1);
            break;
        }
        rc |= json_array_append_new(inj, e);
    }
    rc |= json_object_set_new(o, "events", json_integer((json_int_t)sim->events.n));
    rc |= json_object_set_new(o, "sent", json_integer((json_int_t)st->sent));
    rc |= json_object_set_new(
        o, "acked",
        json_pack("{s:I, s:I, s:I, s:I}", "ESME_ROK", (json_int_t)st->acked_rok, "ESME_RX_T_APPN",
                  (json_int_t)st->acked_tappn, "ESME_RX_P_APPN", (json_int_t)st->acked_pappn,
                  "other", (json_int_t)st->acked_other));
    rc |= json_object_set_new(o, "final",
                              json_pack("{s:I, s:I, s:I}", "ESME_ROK", (json_int_t)st->final_rok,
                                        "ESME_RX_P_APPN", (json_int_t)st->final_pappn, "other",
                                        (json_int_t)st->final_other));
    rc |= json_object_set_new(o, "redelivered", json_integer((json_int_t)st->redelivered));
    rc |= json_object_set_new(o, "unanswered", json_integer((json_int_t)st->unanswered));
    rc |= json_object_set_new(o, "gave_up", json_integer((json_int_t)st->gave_up));
    rc |= json_object_set_new(o, "unfinished", json_integer((json_int_t)unfinished(sim)));
    rc |= json_object_set_new(o, "binds", json_integer((json_int_t)st->binds));
    rc |= json_object_set_new(o, "bind_failures", json_integer((json_int_t)st->bind_failures));
    rc |= json_object_set_new(o, "connections", json_integer((json_int_t)st->connections));
    rc |= json_object_set_new(o, "disconnects", json_integer((json_int_t)st->disconnects));
    rc |= json_object_set_new(o, "submits", json_integer((json_int_t)st->submits));
    rc |= json_object_set_new(o, "submits_throttled",
                              json_integer((json_int_t)st->submits_throttled));
    rc |=
        json_object_set_new(o, "submits_rejected", json_integer((json_int_t)st->submits_rejected));
    rc |= json_object_set_new(o, "generic_nacks_received",
                              json_integer((json_int_t)st->generic_nacks_received));
    rc |= json_object_set_new(o, "generic_nacks_sent",
                              json_integer((json_int_t)st->generic_nacks_sent));
    rc |= json_object_set_new(o, "prescan_rejects", json_integer((json_int_t)st->prescan_rejects));
    rc |= json_object_set_new(o, "late_responses", json_integer((json_int_t)st->late_responses));
    rc |= json_object_set_new(o, "enquire_links",
                              json_pack("{s:I, s:I}", "sent", (json_int_t)st->enquire_sent,
                                        "received", (json_int_t)st->enquire_in));
    rc |= json_object_set_new(o, "generated",
                              json_pack("{s:I, s:I, s:I}", "unique",
                                        (json_int_t)sim->events.generated, "duplicates",
                                        (json_int_t)sim->events.duplicates, "amount_minor_total",
                                        (json_int_t)sim->events.amount_minor_total));
    rc |= json_object_set_new(o, "inject", inj);
    inj = NULL;
    if (sim->ussd.state != SIM_USSD_OFF) {
        json_t *u = json_object(), *screens = json_array();
        if (!u || !screens) {
            json_decref(u);
            json_decref(screens);
            goto fail;
        }
        for (size_t i = 0; i < sim->ussd.n_screens; i++)
            rc |= json_array_append_new(screens,
                                        json_pack("{s:i, s:s}", "op", sim->ussd.screen_ops[i],
                                                  "text", sim->ussd.screens[i]));
        rc |= json_object_set_new(
            u, "ended", sim->ussd.end_reason ? json_string(sim->ussd.end_reason) : json_null());
        rc |= json_object_set_new(u, "sent", json_integer(sim->ussd.sent));
        rc |= json_object_set_new(u, "screens", screens);
        rc |= json_object_set_new(o, "ussd", u);
    }
    rc |= json_object_set_new(o, "elapsed_ms", json_integer(elapsed_ms));
    rc |= json_object_set_new(o, "delivery_ms", json_integer(delivery_ms(sim)));
    rc |= json_object_set_new(
        o, "latency_ms", json_pack("{s:f, s:f, s:f}", "p50", l.p50, "p99", l.p99, "max", l.max));
    if (rc != 0)
        goto fail;
    return o;
fail:
    json_decref(inj);
    json_decref(o);
    return NULL;
}

int sim_summary_write(const struct sim *sim, const char *path, int64_t elapsed_ms)
{
    json_t *o = sim_summary_json(sim, elapsed_ms);
    int rc;

    if (!o)
        return -ENOMEM;
    rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) == 0 ? 0 : -EIO;
    json_decref(o);
    return rc;
}

void sim_summary_print(const struct sim *sim, FILE *out, int64_t elapsed_ms)
{
    const struct sim_stats *st = &sim->st;
    struct lat l = latency(sim);
    double secs = elapsed_ms > 0 ? elapsed_ms / 1000.0 : 0;

    fprintf(out, "--- smsc-sim summary (%.3f s) ---\n", secs);
    fprintf(out,
            "events      %zu (final %zu: ROK %" PRIu64 ", P_APPN %" PRIu64 ", other %" PRIu64
            ", gave up %" PRIu64 "; unfinished %" PRIu64 ")\n",
            sim->events.n, sim->n_final, st->final_rok, st->final_pappn, st->final_other,
            st->gave_up, unfinished(sim));
    fprintf(out, "deliver_sm  sent %" PRIu64 " (redelivered %" PRIu64 ", unanswered %" PRIu64 ")%s",
            st->sent, st->redelivered, st->unanswered, secs > 0 ? "" : "\n");
    if (secs > 0)
        fprintf(out, ", %.1f/s overall\n", st->sent / secs);
    if (delivery_ms(sim) > 0)
        fprintf(out,
                "throughput  %.1f final answers/s over %.3f s (first deliver_sm to last "
                "answer)\n",
                sim->n_final * 1000.0 / delivery_ms(sim), delivery_ms(sim) / 1000.0);
    fprintf(out,
            "answers     ROK %" PRIu64 ", T_APPN %" PRIu64 ", P_APPN %" PRIu64 ", other %" PRIu64
            "; generic_nack %" PRIu64 ", late %" PRIu64 "\n",
            st->acked_rok, st->acked_tappn, st->acked_pappn, st->acked_other,
            st->generic_nacks_received, st->late_responses);
    fprintf(out, "latency ms  p50 %.3f, p99 %.3f, max %.3f\n", l.p50, l.p99, l.max);
    fprintf(out,
            "links       connections %" PRIu64 ", binds %" PRIu64 " (refused %" PRIu64
            "), disconnects %" PRIu64 ", pre-scan rejects %" PRIu64 "\n",
            st->connections, st->binds, st->bind_failures, st->disconnects, st->prescan_rejects);
    fprintf(out, "submits     %" PRIu64 " (throttled %" PRIu64 ", refused %" PRIu64 ")\n",
            st->submits, st->submits_throttled, st->submits_rejected);
    for (size_t i = 0; i < sim->n_inject; i++) {
        const struct sim_inject_item *it = &sim->inject[i];
        fprintf(out, "inject      line %" PRIu32 ": %s", it->line, inject_result_name(it->result));
        if (it->result == SIM_INJ_RESPONSE)
            fprintf(out, " %s %s%s%s", smpp_cmd_name(it->resp_cmd),
                    smpp_status_name(it->resp_status), it->malformed ? " (malformed)" : "",
                    it->closed_after ? ", then closed" : "");
        fputc('\n', out);
    }
    if (sim->ussd.state != SIM_USSD_OFF)
        fprintf(out, "ussd        %zu screens, ended: %s\n", sim->ussd.n_screens,
                sim->ussd.end_reason ? sim->ussd.end_reason : "no");
    fflush(out);
}
