/*
 * sim_ussd.c - the --ussd mode: one subscriber dialogue played against the gateway, as the
 * carrier's USSD gateway would (../shared/spec/ussd.md). We dial the code with a deliver_sm
 * (ussd_service_op 1, PSSR indication), print every screen the gateway submits to the MSISDN,
 * answer each USSR request (op 2) with the next --ussd-inputs item as a USSR confirm (op 18),
 * and stop at a PSSR response (op 17), the end bit of its_session_info, or when the inputs run
 * out (then we release the dialogue: op 18 with the end bit, empty text).
 *
 * State lives in sim->ussd (struct sim_ussd); it owns the pending deliver_sm and the screens.
 *
 * Also here, for every USSD mode (--ussd, --ussd-load, --phone): sim_ussd_build(), the
 * subscriber's deliver_sm, and the --ussd-inputs splitter.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CAT "ussd"

int sim_ussd_split_inputs(char *buf, const char **items, size_t max)
{
    size_t n = 0;

    /* "1,2,0" -> {"1", "2", "0"}; an empty item is an empty answer; "" means no inputs */
    for (char *p = buf; *buf;) {
        char *comma = strchr(p, ',');
        if (n == max)
            return -E2BIG;
        items[n++] = p;
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return (int)n;
}

int sim_ussd_build(struct smpp_sm *sm, const char *msisdn, const char *code_addr, uint8_t op,
                   const char *text, uint8_t session_no, uint8_t seq, bool end)
{
    size_t n = 0;
    int rc;

    memset(sm, 0, sizeof(*sm));
    if (strlen(msisdn) >= sizeof(sm->src_addr) || strlen(code_addr) >= sizeof(sm->dst_addr))
        return -EINVAL;
    snprintf(sm->service_type, sizeof(sm->service_type), "USSD");
    snprintf(sm->src_addr, sizeof(sm->src_addr), "%s", msisdn);
    snprintf(sm->dst_addr, sizeof(sm->dst_addr), "%s", code_addr);
    sm->src_ton = 1; /* international */
    sm->src_npi = 1;
    rc = sim_utf8_to_wire(text, strlen(text), sm->text, SMPP_TEXT_MAX, &n, &sm->data_coding);
    if (rc < 0)
        return rc;
    sm->text_len = (uint16_t)n;
    sm->text[n] = 0;
    sm->has_ussd_op = true;
    sm->ussd_op = op;
    sm->has_its_session = true;
    sm->its_session = (uint16_t)(session_no << 8 | (seq & 0x7F) << 1 | (end ? 1 : 0));
    return 0;
}

int sim_ussd_init(struct sim_ussd *u, const char *msisdn, const char *code, const char *inputs)
{
    size_t n;
    int n_in;

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
    n_in = sim_ussd_split_inputs(u->inputs_buf, u->inputs, SIM_USSD_MAX_INPUTS);
    if (n_in < 0) {
        fprintf(stderr, "smsc-sim: at most %d --ussd-inputs\n", SIM_USSD_MAX_INPUTS);
        sim_ussd_cleanup(u);
        return -EINVAL;
    }
    u->n_inputs = (size_t)n_in;
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
    {
        char shown[4 * SMPP_TEXT_MAX + 1];
        sim_text_to_utf8(u->out->data_coding, u->out->text, u->out->text_len, shown, sizeof(shown),
                         NULL);
        printf("ussd >>> [op=%u session=%u%s] %s\n", u->out->ussd_op, u->out->its_session >> 8,
               end ? " end" : "", shown);
    }
    fflush(stdout);
    if (u->state == SIM_USSD_WAITING)
        u->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
}

/* Queues a deliver_sm from the subscriber to the service code and tries to send it. */
static void ussd_queue(struct sim *sim, uint8_t op, const char *text, bool end)
{
    struct sim_ussd *u = &sim->ussd;
    struct smpp_sm *sm = u->out;
    const char *addr = sim->cfg->ussd_code_addr ? sim->cfg->ussd_code_addr : u->code;

    if (sim_ussd_build(sm, u->msisdn, addr, op, text, u->session_no, u->seq, end) < 0) {
        /* an input too long for one deliver_sm: send it empty rather than cut */
        sim_ussd_build(sm, u->msisdn, addr, op, "", u->session_no, u->seq, end);
    }
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
