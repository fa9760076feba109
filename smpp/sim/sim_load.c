/*
 * sim_load.c - --ussd-load: USSD at scale, as the carrier's USSD gateway would bring it
 * (../shared/spec/ussd.md). N dialogues by N distinct subscribers (--ussd-msisdn-base + i), at
 * most --ussd-concurrency open at a time. Each dials --ussd-code (PSSR indication, op 1), then
 * answers each USSR request (op 2) with the next --ussd-inputs item (USSR confirm, op 18) and
 * ends on a PSSR response (op 17), the end bit, or when its inputs run out (it then releases
 * the dialogue: op 18 with the end bit). An input "!abort" aborts instead (--ussd-abort-op).
 *
 * A hop is one deliver_sm that expects a screen (a dial or an answer) and the screen that came
 * back; its latency runs from the moment the deliver_sm was written to the socket to the moment
 * the next submit_sm for that subscriber and session was read. --ussd-rate paces hops (token
 * bucket); releases and aborts are not hops and are not paced.
 *
 * Dialogues are keyed by MSISDN plus session number (its_session_info high byte): the number is
 * chosen per dialogue from a rolling counter 1..255, so consecutive dialogues differ and a screen
 * for a stale session is counted as stray, never applied. A submit without its_session_info is
 * matched by MSISDN alone, as the spec allows.
 *
 * Ownership: struct sim_load (in struct sim) owns the dialogue array and, with --record, the
 * screens of open dialogues (written as one JSON line per dialogue when it ends, then freed).
 *
 * Owner: smsc-sim (smpp/sim).
 */
#include "sim_link.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CAT "ussd"
#define SCAN_MS 20 /* timeouts are checked at this pace, not every cron tick */
#define MAX_RECORDED_SCREENS 64

/* ---------------------------------------------------------------- set-up */

int sim_load_init(struct sim_load *l, const struct sim_config *cfg)
{
    int n_in;

    memset(l, 0, sizeof(*l));
    l->q_head = l->q_tail = SIM_NONE;
    if (!cfg->load_n)
        return 0;
    if (cfg->load_n > SIM_LOAD_MAX) {
        fprintf(stderr, "smsc-sim: --ussd-load: at most %d dialogues\n", SIM_LOAD_MAX);
        return -EINVAL;
    }
    if (cfg->ussd_msisdn || cfg->phone_msisdn) {
        fprintf(stderr, "smsc-sim: --ussd, --ussd-load and --phone exclude each other\n");
        return -EINVAL;
    }
    if (cfg->load_msisdn_base > UINT64_MAX - cfg->load_n) {
        fprintf(stderr, "smsc-sim: --ussd-msisdn-base too large\n");
        return -EINVAL;
    }
    if (!cfg->ussd_code || !*cfg->ussd_code || strlen(cfg->ussd_code) > 20 ||
        (cfg->ussd_code_addr && (!*cfg->ussd_code_addr || strlen(cfg->ussd_code_addr) > 20))) {
        fprintf(stderr, "smsc-sim: --ussd-code / --ussd-code-addr want 1..20 characters\n");
        return -EINVAL;
    }
    if (cfg->ussd_inputs && strlen(cfg->ussd_inputs) >= sizeof(l->inputs_buf)) {
        fprintf(stderr, "smsc-sim: --ussd-inputs too long\n");
        return -EINVAL;
    }
    snprintf(l->inputs_buf, sizeof(l->inputs_buf), "%s", cfg->ussd_inputs ? cfg->ussd_inputs : "");
    n_in = sim_ussd_split_inputs(l->inputs_buf, l->inputs, SIM_USSD_MAX_INPUTS);
    if (n_in < 0) {
        fprintf(stderr, "smsc-sim: at most %d --ussd-inputs\n", SIM_USSD_MAX_INPUTS);
        return -EINVAL;
    }
    l->n_inputs = (size_t)n_in;
    l->d = calloc(cfg->load_n, sizeof(*l->d));
    if (!l->d) {
        fprintf(stderr, "smsc-sim: --ussd-load: out of memory\n");
        return -ENOMEM;
    }
    l->n = cfg->load_n;
    l->conc = cfg->load_concurrency;
    l->window = cfg->load_window;
    l->base = cfg->load_msisdn_base;
    l->code = cfg->ussd_code;
    l->code_addr = cfg->ussd_code_addr ? cfg->ussd_code_addr : cfg->ussd_code;
    l->abort_op = (uint8_t)cfg->ussd_abort_op;
    l->record = cfg->record != NULL;
    l->on = true;
    return 0;
}

static void free_screens(struct sim_dlg *d)
{
    for (uint16_t k = 0; k < d->n_screens; k++)
        free(d->screens[k]);
    free(d->screens);
    d->screens = NULL;
    d->n_screens = 0;
}

void sim_load_cleanup(struct sim_load *l)
{
    for (uint32_t i = 0; l->d && i < l->n; i++)
        free_screens(&l->d[i]);
    free(l->d);
    free(l->lat_us);
    l->d = NULL;
    l->lat_us = NULL;
    l->lat_n = l->lat_cap = 0;
}

bool sim_load_finished(const struct sim_load *l)
{
    return !l->on || (l->next_new == l->n && l->open == 0 && l->q_head == SIM_NONE);
}

/* ---------------------------------------------------------------- dialogue life */

static void write_record(struct sim *sim, uint32_t i)
{
    struct sim_load *l = &sim->load;
    struct sim_dlg *d = &l->d[i];
    char msisdn[24];
    json_t *o, *a;

    if (!sim->record)
        return;
    snprintf(msisdn, sizeof(msisdn), "%" PRIu64, l->base + i);
    o = json_object();
    a = json_array();
    if (!o || !a) {
        json_decref(o);
        json_decref(a);
        return;
    }
    for (uint16_t k = 0; k < d->n_screens; k++) {
        json_t *t = json_string(d->screens[k]);
        json_array_append_new(a, t ? t : json_string("?"));
    }
    json_object_set_new(o, "msisdn", json_string(msisdn));
    json_object_set_new(o, "session", json_integer(d->session_no));
    json_object_set_new(o, "screens", a);
    json_object_set_new(o, "ended", json_string(sim_dlg_end_name(d->end)));
    if (json_dumpf(o, sim->record, JSON_COMPACT) == 0)
        fputc('\n', sim->record);
    json_decref(o);
}

static void dlg_end(struct sim *sim, uint32_t i, enum sim_dlg_end e)
{
    struct sim_load *l = &sim->load;
    struct sim_dlg *d = &l->d[i];

    if (d->state != SIM_DLG_OPEN)
        return;
    d->state = SIM_DLG_DONE;
    d->end = (uint8_t)e;
    d->waiting = false;
    l->open--;
    l->ends[e]++;
    if (l->record)
        write_record(sim, i);
    free_screens(d);
}

/* Queues the dialogue's next deliver_sm (one at a time: a dialogue never has two queued). */
static void dlg_queue(struct sim_load *l, uint32_t i, uint8_t op, const char *text, bool end,
                      bool hop)
{
    struct sim_dlg *d = &l->d[i];

    d->out_op = op;
    d->out_text = text;
    d->out_end = end;
    d->out_hop = hop;
    if (d->queued)
        return;
    d->queued = true;
    d->qnext = SIM_NONE;
    if (l->q_tail == SIM_NONE)
        l->q_head = i;
    else
        l->d[l->q_tail].qnext = i;
    l->q_tail = i;
}

static uint32_t dlg_dequeue(struct sim_load *l)
{
    uint32_t i = l->q_head;

    l->q_head = l->d[i].qnext;
    if (l->q_head == SIM_NONE)
        l->q_tail = SIM_NONE;
    l->d[i].queued = false;
    return i;
}

static void dlg_open(struct sim_load *l, uint32_t i)
{
    struct sim_dlg *d = &l->d[i];

    /* 1..255: the high byte of its_session_info; 0 is left out so that a zeroed field from a
     * careless peer never matches */
    l->next_session_no = (uint8_t)(l->next_session_no % 255 + 1);
    d->session_no = l->next_session_no;
    d->state = SIM_DLG_OPEN;
    l->open++;
    if (l->open > l->open_max)
        l->open_max = l->open;
    dlg_queue(l, i, 1, l->code, false, true); /* PSSR indication: the dialled string */
}

static void dlg_send(struct sim *sim, uint32_t i)
{
    struct sim_load *l = &sim->load;
    struct sim_dlg *d = &l->d[i];
    struct smpp_sm sm;
    char msisdn[24];
    int64_t sent_us = 0;
    int rc;

    if (d->out_hop && d->state != SIM_DLG_OPEN)
        return; /* ended while queued (a refused deliver_sm): nothing more to say */
    snprintf(msisdn, sizeof(msisdn), "%" PRIu64, l->base + i);
    if (sim_ussd_build(&sm, msisdn, l->code_addr, d->out_op, d->out_text, d->session_no, d->seq,
                       d->out_end) < 0)
        sim_ussd_build(&sm, msisdn, l->code_addr, d->out_op, "", d->session_no, d->seq, d->out_end);
    d->seq++;
    rc = sim_send_ussd_from(sim, &sm, SIM_SRC_LOAD, i, d->last_session, &d->last_session, &sent_us);
    if (rc < 0) {
        dlg_end(sim, i, SIM_END_LOST);
        return;
    }
    l->deliver_sent++;
    if (d->out_hop) {
        d->waiting = true;
        d->sent_us = sent_us;
        d->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
        if (!l->first_us)
            l->first_us = sent_us;
    }
}

void sim_load_pump(struct sim *sim)
{
    struct sim_load *l = &sim->load;

    if (!l->on)
        return;
    while (l->open < l->conc && l->next_new < l->n)
        dlg_open(l, l->next_new++);
    while (l->q_head != SIM_NONE) {
        struct sim_dlg *d = &l->d[l->q_head];

        if (!sim_ussd_has_room(sim))
            break; /* no bind, or every window full: the next answer or bind pumps again */
        if (d->out_hop && d->state == SIM_DLG_OPEN) {
            int64_t wait = smpp_bucket_take(&l->bucket, sim_now_ms());
            if (wait > 0) {
                struct timeval tv = {.tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000};
                if (!evtimer_pending(sim->pump_timer, NULL))
                    evtimer_add(sim->pump_timer, &tv);
                break;
            }
        }
        dlg_send(sim, dlg_dequeue(l));
        /* a dialogue that ended frees its place at once */
        while (l->open < l->conc && l->next_new < l->n)
            dlg_open(l, l->next_new++);
    }
}

/* ---------------------------------------------------------------- what comes back */

void sim_load_on_resp(struct sim *sim, uint32_t idx, uint32_t status)
{
    struct sim_load *l = &sim->load;

    if (status == SMPP_ROK || idx >= l->n)
        return;
    /* spec: USSD is answered ESME_ROK at once; anything else kills the dialogue */
    GW_LOGD(CAT, "dialogue %" PRIu32 ": deliver_sm answered %s", idx, smpp_status_name(status));
    dlg_end(sim, idx, SIM_END_REFUSED);
}

void sim_load_on_lost(struct sim *sim, uint32_t idx, const char *why)
{
    if (idx >= sim->load.n)
        return;
    GW_LOGD(CAT, "dialogue %" PRIu32 ": deliver_sm lost (%s)", idx, why);
    dlg_end(sim, idx, SIM_END_LOST);
}

/* The dialogue a submit is for: its MSISDN within the load's range. -1 when outside. */
static int64_t dlg_index(const struct sim_load *l, const char *addr)
{
    uint64_t v = 0;
    size_t n = strlen(addr);

    if (n == 0 || n > 20 || strspn(addr, "0123456789") != n)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(addr[k] - '0');
    }
    if (v < l->base || v - l->base >= l->n)
        return -1;
    return (int64_t)(v - l->base);
}

static void keep_screen(struct sim_dlg *d, const struct smpp_sm *sm)
{
    char text[4 * SMPP_TEXT_MAX + 1];
    char **v;

    if (d->n_screens >= MAX_RECORDED_SCREENS)
        return;
    v = realloc(d->screens, (d->n_screens + 1u) * sizeof(*v));
    if (!v)
        return;
    d->screens = v;
    sim_text_to_utf8(sm->data_coding, sm->text, sm->text_len, text, sizeof(text), NULL);
    d->screens[d->n_screens] = strdup(text);
    if (d->screens[d->n_screens])
        d->n_screens++;
}

void sim_load_on_submit(struct sim *sim, const struct smpp_sm *sm)
{
    struct sim_load *l = &sim->load;
    int64_t now = sim_now_us(), idx = dlg_index(l, sm->dst_addr);
    struct sim_dlg *d;
    unsigned op;
    bool end;

    if (idx < 0) {
        l->stray++; /* not one of ours (an SMS to someone else, a wrong address) */
        return;
    }
    d = &l->d[idx];
    if (d->state != SIM_DLG_OPEN || !d->waiting ||
        (sm->has_its_session && (sm->its_session >> 8) != d->session_no) ||
        (!sm->has_ussd_op && !sm->has_its_session)) {
        /* a late screen, another session's, or a plain SMS: never applied to this dialogue */
        l->stray++;
        return;
    }
    if (sim_u32_push(&l->lat_us, &l->lat_n, &l->lat_cap,
                     now - d->sent_us > UINT32_MAX ? UINT32_MAX : (uint32_t)(now - d->sent_us)) ==
        0)
        l->hops++;
    l->last_us = now;
    d->waiting = false;
    d->deadline_ms = 0;
    if (l->record)
        keep_screen(d, sm);
    op = sm->has_ussd_op ? sm->ussd_op : 0;
    end = sm->has_its_session && (sm->its_session & 1);
    if (op == 17) {
        dlg_end(sim, (uint32_t)idx, SIM_END_PSSR);
    } else if (end) {
        dlg_end(sim, (uint32_t)idx, SIM_END_ENDBIT);
    } else if (op == 2 || op == 0) {
        if (d->next_input < l->n_inputs) {
            const char *in = l->inputs[d->next_input++];
            if (strcmp(in, "!abort") == 0) {
                dlg_queue(l, (uint32_t)idx, l->abort_op ? l->abort_op : 18, "", true, false);
                dlg_end(sim, (uint32_t)idx, SIM_END_ABORT);
            } else {
                dlg_queue(l, (uint32_t)idx, 18, in, false, true); /* USSR confirm */
            }
        } else {
            dlg_queue(l, (uint32_t)idx, 18, "", true, false); /* release: the subscriber hangs up */
            dlg_end(sim, (uint32_t)idx, SIM_END_INPUTS);
        }
    } else {
        /* an op the spec does not give the gateway (a notify?): shown, then keep waiting */
        d->waiting = true;
        d->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
    }
    sim_pump(sim);
}

void sim_load_cron(struct sim *sim, int64_t now_ms)
{
    struct sim_load *l = &sim->load;

    if (!l->on)
        return;
    if (l->first_us && !sim_load_finished(l)) {
        l->open_sum += l->open;
        l->open_samples++;
    }
    if (now_ms < l->next_scan_ms)
        return;
    l->next_scan_ms = now_ms + SCAN_MS;
    while (l->lo < l->next_new && l->d[l->lo].state == SIM_DLG_DONE && !l->d[l->lo].queued)
        l->lo++;
    for (uint32_t i = l->lo; i < l->next_new; i++) {
        struct sim_dlg *d = &l->d[i];
        if (d->state == SIM_DLG_OPEN && d->waiting && now_ms >= d->deadline_ms)
            dlg_end(sim, i, SIM_END_TIMEOUT);
    }
}
