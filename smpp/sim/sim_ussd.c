/*
 * sim_ussd.c - the --ussd mode: one subscriber dialogue played against the gateway, as the
 * carrier's USSD gateway would (../shared/spec/ussd.md). We dial the code with a deliver_sm
 * (ussd_service_op 1, PSSR indication), print every screen the gateway submits to the MSISDN,
 * answer each USSR request (op 2) with the next --ussd-inputs item as a USSR confirm (op 18),
 * and stop at a PSSR response (op 17), the end bit of its_session_info, or when the inputs run
 * out (then we release the dialogue: op 18 with the end bit, empty text).
 *
 * State lives in sim->ussd (struct sim_ussd); it owns the pending deliver_sm and the screens.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CAT "ussd"

int sim_ussd_init(struct sim_ussd *u, const char *msisdn, const char *code, const char *inputs)
{
    size_t n;
    char *p;

    memset(u, 0, sizeof(*u));
    if (!msisdn)
        return 0;
    n = strlen(msisdn);
    if (n == 0 || n > 20 || strspn(msisdn, "0123456789") != n) {
        fprintf(stderr, "smsc-sim: --ussd wants an MSISDN of 1..20 digits\n");
        return -EINVAL;
    }
    if (!code || strlen(code) == 0 || strlen(code) > 20) {
        fprintf(stderr, "smsc-sim: --ussd-code wants 1..20 characters (e.g. '*555#')\n");
        return -EINVAL;
    }
    if (inputs && strlen(inputs) >= sizeof(u->inputs_buf)) {
        fprintf(stderr, "smsc-sim: --ussd-inputs too long\n");
        return -EINVAL;
    }
    u->out = calloc(1, sizeof(*u->out));
    if (!u->out)
        return -ENOMEM;
    snprintf(u->inputs_buf, sizeof(u->inputs_buf), "%s", inputs ? inputs : "");
    /* "1,2,0" -> {"1", "2", "0"}; an empty item is an empty answer; "" means no inputs */
    for (p = u->inputs_buf; *u->inputs_buf;) {
        char *comma = strchr(p, ',');
        if (u->n_inputs == SIM_USSD_MAX_INPUTS) {
            fprintf(stderr, "smsc-sim: at most %d --ussd-inputs\n", SIM_USSD_MAX_INPUTS);
            sim_ussd_cleanup(u);
            return -EINVAL;
        }
        u->inputs[u->n_inputs++] = p;
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    u->msisdn = msisdn;
    u->code = code;
    u->session_no = 1;
    u->state = SIM_USSD_IDLE;
    return 0;
}

void sim_ussd_cleanup(struct sim_ussd *u)
{
    for (size_t i = 0; i < u->n_screens; i++)
        free(u->screens[i]);
    u->n_screens = 0;
    free(u->out);
    u->out = NULL;
}

bool sim_ussd_finished(const struct sim_ussd *u)
{
    return u->state == SIM_USSD_OFF || u->state == SIM_USSD_DONE;
}

static void ussd_end(struct sim *sim, const char *reason)
{
    struct sim_ussd *u = &sim->ussd;

    if (u->state == SIM_USSD_DONE)
        return;
    u->state = SIM_USSD_DONE;
    u->end_reason = reason;
    printf("ussd: dialogue ended: %s\n", reason);
    fflush(stdout);
}

static void ussd_flush(struct sim *sim)
{
    struct sim_ussd *u = &sim->ussd;
    bool end;

    if (!u->out_pending || sim_send_ussd(sim, u->out) < 0)
        return;
    u->out_pending = false;
    u->sent++;
    end = u->out->its_session & 1;
    printf("ussd >>> [op=%u session=%u%s] %s\n", u->out->ussd_op, u->out->its_session >> 8,
           end ? " end" : "", (const char *)u->out->text);
    fflush(stdout);
    if (u->state == SIM_USSD_WAITING)
        u->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
}

/* Queues a deliver_sm from the subscriber to the service code and tries to send it. */
static void ussd_queue(struct sim *sim, uint8_t op, const char *text, bool end)
{
    struct sim_ussd *u = &sim->ussd;
    struct smpp_sm *sm = u->out;
    int n;

    memset(sm, 0, sizeof(*sm));
    snprintf(sm->service_type, sizeof(sm->service_type), "USSD");
    snprintf(sm->src_addr, sizeof(sm->src_addr), "%s", u->msisdn);
    snprintf(sm->dst_addr, sizeof(sm->dst_addr), "%s", u->code);
    sm->src_ton = 1; /* international */
    sm->src_npi = 1;
    sm->data_coding = 0;
    n = sim_ascii_to_gsm(text, sm->text, SMPP_TEXT_MAX);
    sm->text_len = n > 0 ? (uint16_t)n : 0;
    sm->text[sm->text_len] = 0;
    sm->has_ussd_op = true;
    sm->ussd_op = op;
    sm->has_its_session = true;
    sm->its_session = (uint16_t)(u->session_no << 8 | (u->seq & 0x7F) << 1 | (end ? 1 : 0));
    u->seq++;
    u->out_pending = true;
    u->deadline_ms = 0; /* armed once it is really sent */
    ussd_flush(sim);
}

void sim_ussd_pump(struct sim *sim)
{
    struct sim_ussd *u = &sim->ussd;

    if (u->state == SIM_USSD_IDLE) {
        u->state = SIM_USSD_WAITING;
        ussd_queue(sim, 1, u->code, false); /* PSSR indication: the dialled string */
        return;
    }
    ussd_flush(sim);
}

void sim_ussd_on_resp(struct sim *sim, uint32_t status)
{
    if (status == SMPP_ROK || sim->ussd.state == SIM_USSD_DONE)
        return;
    /* spec: the gateway answers USSD ESME_ROK at once; anything else kills the dialogue */
    printf("ussd: deliver_sm answered %s\n", smpp_status_name(status));
    ussd_end(sim, "deliver_sm refused");
}

void sim_ussd_on_lost(struct sim *sim, const char *why)
{
    if (sim->ussd.state == SIM_USSD_DONE)
        return;
    printf("ussd: deliver_sm lost (%s)\n", why);
    ussd_end(sim, "deliver_sm lost");
}

void sim_ussd_cron(struct sim *sim, int64_t now_ms)
{
    struct sim_ussd *u = &sim->ussd;

    if (u->state == SIM_USSD_WAITING && u->deadline_ms && now_ms >= u->deadline_ms)
        ussd_end(sim, "timeout");
}

void sim_ussd_on_submit(struct sim *sim, const struct smpp_sm *sm)
{
    struct sim_ussd *u = &sim->ussd;
    char text[4 * SMPP_TEXT_MAX + 1];
    bool end = sm->has_its_session && (sm->its_session & 1);
    unsigned op = sm->has_ussd_op ? sm->ussd_op : 0;

    sim_text_to_utf8(sm->data_coding, sm->text, sm->text_len, text, sizeof(text), NULL);
    printf("ussd <<< [op=%u session=%d dc=%u%s]\n", op,
           sm->has_its_session ? sm->its_session >> 8 : -1, sm->data_coding, end ? " end" : "");
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        printf("    %.*s\n", len, line);
        line += len + (nl ? 1 : 0);
    }
    fflush(stdout);
    if (u->n_screens < SIM_USSD_MAX_SCREENS) {
        u->screens[u->n_screens] = strdup(text);
        u->screen_ops[u->n_screens] = (uint8_t)op;
        if (u->screens[u->n_screens])
            u->n_screens++;
    }
    if (u->state != SIM_USSD_WAITING)
        return; /* a late screen after the end: shown, not answered */
    u->deadline_ms = 0;
    if (op == 17) {
        ussd_end(sim, "pssr_response");
    } else if (end) {
        ussd_end(sim, "end_bit");
    } else if (op == 2 || op == 0) {
        if (u->next_input < u->n_inputs) {
            ussd_queue(sim, 18, u->inputs[u->next_input++], false); /* USSR confirm */
        } else {
            ussd_queue(sim, 18, "", true); /* release: the subscriber hangs up */
            ussd_end(sim, "inputs_exhausted");
        }
    } else {
        GW_LOGN(CAT, "ussd_service_op %u not handled by the simulator, waiting", op);
        u->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
    }
}
