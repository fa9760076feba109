/*
 * sim_summary.c - what smsc-sim reports at exit: the --summary JSON (the contract the lead's
 * integration tests and benchmarks read) and the human summary on stdout, and the latency maths
 * behind them (nearest-rank percentiles, rates over a window). Reads struct sim, changes
 * nothing; the JSON object returned belongs to the caller.
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

void sim_lat_compute(uint32_t *v, size_t n, struct sim_lat *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_u32);
    out->p50 = sim_percentile(v, n, 50) / 1000.0;
    out->p99 = sim_percentile(v, n, 99) / 1000.0;
    out->max = v[n - 1] / 1000.0;
}

double sim_rate_per_s(uint64_t count, int64_t first_us, int64_t last_us)
{
    if (count == 0 || last_us <= first_us)
        return 0;
    return (double)count * 1e6 / (double)(last_us - first_us);
}

int sim_u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        uint32_t *nv = realloc(*v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
    return 0;
}

const char *sim_dlg_end_name(enum sim_dlg_end e)
{
    static const char *const names[SIM_END__N] = {
        [SIM_END_NONE] = "open",       [SIM_END_PSSR] = "pssr",
        [SIM_END_ENDBIT] = "endbit",   [SIM_END_INPUTS] = "inputs_exhausted",
        [SIM_END_ABORT] = "abort",     [SIM_END_TIMEOUT] = "timeout",
        [SIM_END_REFUSED] = "refused", [SIM_END_LOST] = "lost",
    };

    return (unsigned)e < SIM_END__N ? names[e] : "?";
}

/* Percentiles of a copy of v[n] (the summary is printed and written from the same samples). */
static struct sim_lat lat_of(const uint32_t *v, size_t n)
{
    struct sim_lat l;
    uint32_t *c;

    memset(&l, 0, sizeof(l));
    if (n == 0)
        return l;
    c = malloc(n * sizeof(*c));
    if (!c)
        return l;
    memcpy(c, v, n * sizeof(*c));
    sim_lat_compute(c, n, &l);
    free(c);
    return l;
}

static struct sim_lat latency(const struct sim *sim)
{
    return lat_of(sim->lat_us, sim->lat_n);
}

/* Dialogues that ended well: the gateway closed them, or our script did. */
static uint64_t load_ok(const struct sim_load *l)
{
    return l->ends[SIM_END_PSSR] + l->ends[SIM_END_ENDBIT] + l->ends[SIM_END_INPUTS] +
           l->ends[SIM_END_ABORT];
}

static uint64_t load_failed(const struct sim_load *l)
{
    return l->ends[SIM_END_REFUSED] + l->ends[SIM_END_LOST];
}

static json_t *load_json(const struct sim_load *l)
{
    struct sim_lat hl = lat_of(l->lat_us, l->lat_n);
    json_t *o = json_object(), *ends = json_object();
    int rc = 0;

    if (!o || !ends) {
        json_decref(o);
        json_decref(ends);
        return NULL;
    }
    for (int e = SIM_END_PSSR; e < SIM_END__N; e++)
        rc |= json_object_set_new(ends, sim_dlg_end_name(e), json_integer((json_int_t)l->ends[e]));
    rc |= json_object_set_new(o, "dialogues", json_integer(l->n));
    rc |= json_object_set_new(o, "started", json_integer(l->next_new));
    rc |= json_object_set_new(o, "ok", json_integer((json_int_t)load_ok(l)));
    rc |= json_object_set_new(o, "failed", json_integer((json_int_t)load_failed(l)));
    rc |= json_object_set_new(o, "timeouts", json_integer((json_int_t)l->ends[SIM_END_TIMEOUT]));
    rc |= json_object_set_new(o, "ended", ends);
    rc |= json_object_set_new(o, "hops", json_integer((json_int_t)l->hops));
    rc |= json_object_set_new(o, "deliver_sm_sent", json_integer((json_int_t)l->deliver_sent));
    rc |= json_object_set_new(o, "stray_submits", json_integer((json_int_t)l->stray));
    rc |= json_object_set_new(o, "open_max", json_integer(l->open_max));
    rc |= json_object_set_new(
        o, "open_avg", json_real(l->open_samples ? (double)l->open_sum / l->open_samples : 0));
    rc |= json_object_set_new(
        o, "hop_window_ms",
        json_integer(l->last_us > l->first_us ? (l->last_us - l->first_us) / 1000 : 0));
    rc |= json_object_set_new(o, "hops_per_s",
                              json_real(sim_rate_per_s(l->hops, l->first_us, l->last_us)));
    rc |= json_object_set_new(
        o, "hop_latency_ms",
        json_pack("{s:f, s:f, s:f}", "p50", hl.p50, "p99", hl.p99, "max", hl.max));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
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
    struct sim_lat l = latency(sim);
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
    if (sim->load.on)
        rc |= json_object_set_new(o, "ussd_load", load_json(&sim->load));
    if (sim->phone.on)
        rc |= json_object_set_new(
            o, "phone",
            json_pack("{s:I, s:I, s:I, s:I, s:I}", "dialogues", (json_int_t)sim->phone.dialogues,
                      "screens", (json_int_t)sim->phone.screens, "sms", (json_int_t)sim->phone.sms,
                      "sms_parts", (json_int_t)sim->phone.sms_parts, "ignored",
                      (json_int_t)sim->phone.ignored));
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
    struct sim_lat l = latency(sim);
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
    if (sim->load.on) {
        const struct sim_load *ld = &sim->load;
        struct sim_lat hl = lat_of(ld->lat_us, ld->lat_n);
        fprintf(out,
                "ussd load   %" PRIu32 " dialogues (started %" PRIu32 "): ok %" PRIu64
                ", failed %" PRIu64 ", timeouts %" PRIu64 "; open max %" PRIu32 ", avg %.0f\n",
                ld->n, ld->next_new, load_ok(ld), load_failed(ld), ld->ends[SIM_END_TIMEOUT],
                ld->open_max, ld->open_samples ? (double)ld->open_sum / ld->open_samples : 0);
        fprintf(out,
                "ussd hops   %" PRIu64 " (%.1f/s over %.3f s), stray submits %" PRIu64
                "; hop latency ms p50 %.3f, p99 %.3f, max %.3f\n",
                ld->hops, sim_rate_per_s(ld->hops, ld->first_us, ld->last_us),
                ld->last_us > ld->first_us ? (ld->last_us - ld->first_us) / 1e6 : 0.0, ld->stray,
                hl.p50, hl.p99, hl.max);
    }
    fflush(out);
}
