/*
 * smsc_sim.c - smsc-sim: the carrier's SMSC, played by us for the integration tests, the demo
 * and the benchmarks. It listens, accepts binds from the gateway (our ESME), delivers carrier
 * events as deliver_sm with a window, a rate and redelivery, records what the gateway submits,
 * injects raw PDUs, plays a USSD dialogue, a USSD load of many subscribers (--ussd-load) or a
 * handset for a person (--phone), and summarises everything at exit.
 *
 * This file: the option table (every option declared once, with type, bounds and default, as
 * Redis' config.c does), main(), signals and exit codes:
 *   0 done (or stopped with every event final), 1 runtime error, 2 usage error,
 *   3 stopped (--timeout-s, SIGINT, SIGTERM) with events left without a final answer.
 */
#include "sim.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STR, OPT_U32, OPT_U64, OPT_DBL, OPT_FLAG };

struct sim_option {
    const char *name;
    enum opt_type type;
    size_t offset;   /* into struct sim_config */
    const char *def; /* default as text; NULL: none */
    double min, max; /* numbers only */
    const char *arg; /* metavar for --help */
    const char *help;
};

#define O(field) offsetof(struct sim_config, field)
static const struct sim_option options[] = {
    {"listen", OPT_STR, O(listen), "127.0.0.1:2775", 0, 0, "HOST:PORT",
     "address to listen on; port 0 picks a free one (printed as 'listening on HOST:PORT')"},
    {"port-file", OPT_STR, O(port_file), NULL, 0, 0, "FILE", "write the listening port to FILE"},
    {"system-id", OPT_STR, O(system_id), NULL, 0, 0, "ID",
     "accept binds with this system_id only (default: any)"},
    {"password", OPT_STR, O(password), NULL, 0, 0, "PW",
     "accept binds with this password only (default: any)"},
    {"events", OPT_STR, O(events_file), NULL, 0, 0, "FILE",
     "event texts, one per line ('-' = stdin; blank and '#' lines skipped; 'hex:<bytes>' for "
     "a text holding NUL bytes, such as UCS-2)"},
    {"generate", OPT_U32, O(generate), "0", 0, 50000000, "N", "generate N TOPUP events"},
    {"subscribers", OPT_U32, O(subscribers), "1000", 1, 99999999, "M",
     "generated events spread over M subscribers 2126xxxxxxxx"},
    {"seed", OPT_U64, O(seed), "1", 0, 1.8e19, "S", "generator seed"},
    {"ref-prefix", OPT_STR, O(ref_prefix), "SIM", 0, 0, "P", "generated refs are P-000000001..."},
    {"at", OPT_STR, O(at), "now", 0, 0, "RFC3339|now", "event time of generated events"},
    {"dup-rate", OPT_U32, O(dup_rate), "0", 0, 100, "PCT",
     "after each generated event, re-send an earlier ref with probability PCT%"},
    {"source", OPT_STR, O(source), "LOYALTY", 0, 0, "ADDR", "source_addr of event deliver_sm"},
    {"dest", OPT_STR, O(dest), "LOYALTY", 0, 0, "ADDR", "destination_addr of event deliver_sm"},
    {"data-coding", OPT_U32, O(data_coding), "0", 0, 255, "DC", "data_coding of events"},
    {"rate", OPT_DBL, O(rate), "0", 0, 1e7, "R", "deliver_sm per second (0 = unlimited)"},
    {"window", OPT_U32, O(window), "10", 1, 100000, "W",
     "outstanding deliver_sm per session awaiting deliver_sm_resp"},
    {"resp-timeout-ms", OPT_U32, O(resp_timeout_ms), "5000", 1, 3600000, "T",
     "a deliver_sm (or injected PDU) unanswered within T is unanswered"},
    {"redeliver-ms", OPT_U32, O(redeliver_ms), "500", 0, 3600000, "D",
     "delay before redelivering after ESME_RX_T_APPN or no answer"},
    {"max-attempts", OPT_U32, O(max_attempts), "20", 1, 1000000, "K",
     "deliveries of one event before it counts as gave_up"},
    {"inject-hex", OPT_STR, O(inject_hex), NULL, 0, 0, "FILE",
     "raw PDUs (one hex line each) written after the first bind, before the events"},
    {"disconnect-after", OPT_U32, O(disconnect_after), "0", 0, UINT32_MAX, "N",
     "drop the connection once, without unbind, right after the Nth deliver_sm"},
    {"record", OPT_STR, O(record), NULL, 0, 0, "FILE",
     "append every submit_sm/data_sm received as a JSON line"},
    {"throttle-every", OPT_U32, O(throttle_every), "0", 0, UINT32_MAX, "N",
     "answer every Nth submit with ESME_RTHROTTLED"},
    {"enquire-link-ms", OPT_U32, O(enquire_link_ms), "0", 0, 3600000, "T",
     "send enquire_link after T ms without traffic from the ESME (0 = off)"},
    {"exit-when-done", OPT_FLAG, O(exit_when_done), NULL, 0, 0, NULL,
     "unbind and exit 0 once every event has a final answer"},
    {"linger-ms", OPT_U32, O(linger_ms), "0", 0, 3600000, "L",
     "with --exit-when-done: keep serving submits L ms after the last final answer"},
    {"timeout-s", OPT_U32, O(timeout_s), "0", 0, 864000, "S",
     "exit after S seconds anyway (exit 3 when events are unfinished)"},
    {"summary", OPT_STR, O(summary), NULL, 0, 0, "FILE", "write the JSON summary to FILE"},
    {"ussd", OPT_STR, O(ussd_msisdn), NULL, 0, 0, "MSISDN", "play one USSD dialogue as MSISDN"},
    {"ussd-code", OPT_STR, O(ussd_code), "*555#", 0, 0, "CODE", "the dialled service code"},
    {"ussd-inputs", OPT_STR, O(ussd_inputs), "", 0, 0, "A,B,..", "answers to the menus, in order"},
    {"ussd-timeout-ms", OPT_U32, O(ussd_timeout_ms), "10000", 1, 3600000, "T",
     "end the dialogue when no screen comes within T"},
    {"ussd-code-addr", OPT_STR, O(ussd_code_addr), NULL, 0, 0, "ADDR",
     "destination_addr of USSD deliver_sm (default: the dialled code, e.g. '*555#')"},
    {"ussd-abort-op", OPT_U32, O(ussd_abort_op), "129", 0, 255, "OP",
     "ussd_service_op of a subscriber abort ('!abort'), sent with the end bit; 0: the end bit"
     " alone (op 18)"},
    {"ussd-load", OPT_U32, O(load_n), "0", 0, SIM_LOAD_MAX, "N",
     "play N USSD dialogues by N subscribers (--ussd-msisdn-base + i): dial --ussd-code, answer"
     " each USSR request with the next --ussd-inputs item ('!abort' aborts); hop latency in the"
     " summary; --record gets one JSON line per dialogue (msisdn, session, screens, ended)"},
    {"ussd-concurrency", OPT_U32, O(load_concurrency), "100", 1, SIM_LOAD_MAX, "C",
     "with --ussd-load: at most C dialogues open at a time"},
    {"ussd-msisdn-base", OPT_U64, O(load_msisdn_base), "212690000000", 1, 1e19, "MSISDN",
     "with --ussd-load: the first subscriber"},
    {"ussd-rate", OPT_DBL, O(load_rate), "0", 0, 1e7, "R",
     "with --ussd-load: hops (dials and answers) per second, 0 = unlimited"},
    {"ussd-window", OPT_U32, O(load_window), "200", 1, 100000, "W",
     "with --ussd-load: USSD deliver_sm per bind awaiting deliver_sm_resp"},
    {"route", OPT_STR, O(route), "rr", 0, 0, "first|rr|alternate",
     "which bound receiver gets a deliver_sm: first = always the oldest bind with room; rr ="
     " round robin over every deliver_sm; alternate = as rr, but a USSD dialogue's next"
     " deliver_sm never goes to the bind that took its previous one while another bind has"
     " room (continuation across two gateways)"},
    {"wait-binds", OPT_U32, O(wait_binds), "1", 1, 1000, "K",
     "send no deliver_sm (events or USSD) before K receivers are bound at once"},
    {"phone", OPT_STR, O(phone_msisdn), NULL, 0, 0, "MSISDN",
     "be a handset: read lines from stdin ('*555#' dials, other lines answer, '!abort',"
     " 'quit'), print every screen and SMS sent to MSISDN; without a terminal on stdin the"
     " lines run as a script and smsc-sim exits 0 when they are done"},
    {"script", OPT_STR, O(phone_script), NULL, 0, 0, "FILE",
     "with --phone: run the lines of FILE ('#' lines are comments) instead of stdin"},
    {"log-level", OPT_STR, O(log_level), "info", 0, 0, "LEVEL", "debug|info|notice|error"},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: smsc-sim [options]\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct sim_option *o = &options[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        char text[640];
        size_t col = 33;
        snprintf(text, sizeof(text), "%s%s%s%s", o->help,
                 o->def && *o->def && o->type != OPT_FLAG ? " [" : "",
                 o->def && *o->def && o->type != OPT_FLAG ? o->def : "",
                 o->def && *o->def && o->type != OPT_FLAG ? "]" : "");
        fprintf(out, "  %-30s", left);
        /* wrap at 100 columns under the description column */
        for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
            size_t wl = strlen(w);
            if (col > 33 && col + 1 + wl > 100) {
                fprintf(out, "\n%32s", "");
                col = 33;
            }
            fprintf(out, " %s", w);
            col += 1 + wl;
        }
        fputc('\n', out);
    }
}

/* Stores text into the field of option o; -EINVAL when it is not a number within bounds. */
static int option_set(struct sim_config *cfg, const struct sim_option *o, const char *text)
{
    char *field = (char *)cfg + o->offset;
    char *end;

    switch (o->type) {
    case OPT_STR:
        *(const char **)(void *)field = text;
        return 0;
    case OPT_FLAG:
        *(bool *)(void *)field = true;
        return 0;
    case OPT_U32:
    case OPT_U64: {
        unsigned long long v;
        if (!text[0] || text[0] == '-')
            return -EINVAL;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno || *end || (double)v < o->min || (double)v > o->max)
            return -EINVAL;
        if (o->type == OPT_U32)
            *(uint32_t *)(void *)field = (uint32_t)v;
        else
            *(uint64_t *)(void *)field = (uint64_t)v;
        return 0;
    }
    case OPT_DBL: {
        double v;
        errno = 0;
        v = strtod(text, &end);
        if (errno || *end || end == text || !isfinite(v) || v < o->min || v > o->max)
            return -EINVAL;
        *(double *)(void *)field = v;
        return 0;
    }
    }
    return -EINVAL;
}

/* Defaults, then argv. Returns 0, 1 for --help, or -EINVAL (message printed). */
static int parse_args(int argc, char **argv, struct sim_config *cfg)
{
    struct option lopts[N_OPTIONS + 2];
    int c, idx;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].def && option_set(cfg, &options[i], options[i].def) < 0)
            return -EINVAL; /* a bad default is a bug; keep going would hide it */
        lopts[i].name = options[i].name;
        lopts[i].has_arg = options[i].type == OPT_FLAG ? no_argument : required_argument;
        lopts[i].flag = NULL;
        lopts[i].val = 0;
    }
    lopts[N_OPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[N_OPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, &idx)) != -1) {
        if (c == 'h')
            return 1;
        if (c != 0 || idx < 0 || (size_t)idx >= N_OPTIONS)
            return -EINVAL;
        if (option_set(cfg, &options[idx], optarg) < 0) {
            fprintf(stderr, "smsc-sim: --%s: invalid value '%s' (%g..%g)\n", options[idx].name,
                    optarg, options[idx].min, options[idx].max);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smsc-sim: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (strlen(cfg->source) > 20 || strlen(cfg->dest) > 20) {
        fprintf(stderr, "smsc-sim: --source/--dest: at most 20 characters\n");
        return -EINVAL;
    }
    {
        enum sim_route r;
        if (sim_route_parse(cfg->route, &r) < 0) {
            fprintf(stderr, "smsc-sim: --route: first, rr or alternate\n");
            return -EINVAL;
        }
    }
    /* the load and a script end by themselves: exit once they are done, as with events */
    if (cfg->load_n || cfg->phone_msisdn)
        cfg->exit_when_done = true;
    return 0;
}

/* Loads the events (file first, then generated ones) and the PDUs to inject. */
static int load_inputs(struct sim *sim, const struct sim_config *cfg)
{
    char err[256] = "";
    char at[32];

    if (cfg->events_file && sim_events_load(&sim->events, cfg->events_file, err, sizeof(err)) < 0) {
        fprintf(stderr, "smsc-sim: --events: %s\n", err);
        return -EINVAL;
    }
    if (cfg->generate) {
        struct sim_gen_params p = {
            .n = cfg->generate,
            .subscribers = cfg->subscribers,
            .seed = cfg->seed,
            .ref_prefix = cfg->ref_prefix,
            .at = cfg->at,
            .dup_rate = cfg->dup_rate,
        };
        if (strcmp(cfg->at, "now") == 0) {
            sim_rfc3339_format(gw_clock_now_ms() / 1000, at, sizeof(at));
            p.at = at;
        }
        if (sim_events_generate(&sim->events, &p, err, sizeof(err)) < 0) {
            fprintf(stderr, "smsc-sim: --generate: %s\n", err);
            return -EINVAL;
        }
    }
    if (sim->events.n >= SIM_NONE) {
        fprintf(stderr, "smsc-sim: too many events\n");
        return -EINVAL;
    }
    if (cfg->inject_hex &&
        sim_inject_load(cfg->inject_hex, &sim->inject, &sim->n_inject, err, sizeof(err)) < 0) {
        fprintf(stderr, "smsc-sim: --inject-hex: %s\n", err);
        return -EINVAL;
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct sim *sim = arg;

    (void)what;
    GW_LOGN("smsc", "signal %d: stopping", (int)sig);
    sim_stop(sim, sim_all_final(sim) ? 0 : 3);
}

int main(int argc, char **argv)
{
    struct sim_config cfg;
    struct sim sim;
    struct event *sig_int = NULL, *sig_term = NULL;
    enum gw_log_level level;
    int64_t elapsed;
    int rc, exit_code = 1;

    memset(&sim, 0, sizeof(sim));
    rc = parse_args(argc, argv, &cfg);
    if (rc > 0) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "smsc-sim: see smsc-sim --help\n");
        return 2;
    }
    if (gw_log_level_parse(cfg.log_level, &level) < 0) {
        fprintf(stderr, "smsc-sim: --log-level: debug|info|notice|error\n");
        return 2;
    }
    gw_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    sim.cfg = &cfg;
    sim_route_parse(cfg.route, &sim.route);
    if (load_inputs(&sim, &cfg) < 0 ||
        sim_ussd_init(&sim.ussd, cfg.ussd_msisdn, cfg.ussd_code, cfg.ussd_inputs) < 0 ||
        sim_load_init(&sim.load, &cfg) < 0 || sim_phone_init(&sim.phone, &cfg) < 0) {
        exit_code = 2;
        goto out;
    }
    sim.base = event_base_new();
    if (!sim.base)
        goto out;
    sig_int = evsignal_new(sim.base, SIGINT, on_signal, &sim);
    sig_term = evsignal_new(sim.base, SIGTERM, on_signal, &sim);
    if (!sig_int || !sig_term || event_add(sig_int, NULL) < 0 || event_add(sig_term, NULL) < 0)
        goto out;
    if (sim_start(&sim) < 0)
        goto out;
    event_base_dispatch(sim.base);
    exit_code = sim.stopped ? sim.exit_code : 0;
    elapsed = sim_now_ms() - sim.start_ms;
    if (!sim.phone.on) /* the phone's stdout is the handset's screen */
        sim_summary_print(&sim, stdout, elapsed);
    if (cfg.summary && sim_summary_write(&sim, cfg.summary, elapsed) < 0) {
        fprintf(stderr, "smsc-sim: cannot write --summary %s\n", cfg.summary);
        exit_code = exit_code ? exit_code : 1;
    }
out:
    sim_cleanup(&sim);
    if (sig_int)
        event_free(sig_int);
    if (sig_term)
        event_free(sig_term);
    if (sim.base)
        event_base_free(sim.base);
    return exit_code;
}
