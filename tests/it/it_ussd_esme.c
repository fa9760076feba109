/*
 * it_ussd_esme.c - a minimal, scripted USSD application bound to smsc-sim, for the simulator's
 * own integration tests (test_sim_ussd.sh: --phone, --ussd-load, --route) and to validate the
 * USSD benchmark tool when no gateway is at hand. It is not the gateway: no Redis, no menus, no
 * sessions beyond echoing its_session_info - just the protocol of ../shared/spec/ussd.md, using
 * the project's ESME link (smpp_esme) and text module (smpp_text).
 *
 *   it_ussd_esme PORT [NAME]   binds transceiver to 127.0.0.1:PORT as system_id "loyalty";
 *                              runs until SIGTERM/SIGINT (graceful unbind)
 *
 * Every USSD deliver_sm is answered ESME_ROK at once, then (unless it is an abort: end bit or
 * op 0x81) a submit_sm to the subscriber with its its_session_info echoed:
 *   op 1 (dial, text T)   op 2  "NAME menu T\n1 Echo\n2 فارسی\n9 Bye"
 *   op 18 "9"             op 17 "Bye" with the end bit (a PSSR response)
 *   op 18 "8"             op 2  "End bit only" with the end bit
 *   op 18 "2"             op 2  "امتیاز شما: ۱۲۰\n0 بازگشت" (UCS-2)
 *   op 18 "sms"           op 2  "SMS sent", then a 2-part concatenated SMS, parts in reverse
 *   op 18 "mute"          nothing (the subscriber's side times out)
 *   op 18 "stale"         op 2  "Stale" for the NEXT session number (must not be applied)
 *   op 18 anything else   op 2  "NAME got <text>" (the text decoded from GSM-7 or UCS-2)
 * One line per deliver_sm goes to stdout: "deliver NAME msisdn=.. op=.. session=.. end=..
 * dc=.. text=.. | to=<destination_addr>", so a test sees which process received what.
 *
 * Ownership: one event_base, one ESME; submits are encoded by smpp_esme_submit() at once, so the
 * smpp_sm built on the stack is not kept.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gw_core.h"
#include "smpp.h"

struct app {
    struct event_base *base;
    struct smpp_esme *esme;
    const char *name;
    uint8_t sms_ref;
    int stopping;
};

static void on_submitted(void *arg, int err, uint32_t status, const char *message_id)
{
    (void)arg;
    (void)message_id;
    if (err || status != SMPP_ROK)
        fprintf(stderr, "it_ussd_esme: submit failed: err %d status %s\n", err,
                smpp_status_name(status));
}

/* Sends UTF-8 text to msisdn as a USSD screen (op, session echoed, end bit as asked). */
static void send_screen_as(struct app *a, const struct smpp_sm *in, uint8_t op, const char *utf8,
                           bool end, uint8_t session)
{
    struct smpp_sm sm;
    enum smpp_text_coding coding;
    size_t n = 0;

    memset(&sm, 0, sizeof(sm));
    snprintf(sm.service_type, sizeof(sm.service_type), "USSD");
    snprintf(sm.src_addr, sizeof(sm.src_addr), "%s", in->dst_addr);
    snprintf(sm.dst_addr, sizeof(sm.dst_addr), "%s", in->src_addr);
    sm.dst_ton = 1;
    sm.dst_npi = 1;
    coding = smpp_text_choose(utf8, strlen(utf8), NULL, &sm.data_coding);
    if (smpp_text_encode(utf8, strlen(utf8), coding, NULL, sm.text, 253, &n) < 0)
        return;
    sm.text_len = (uint16_t)n;
    sm.has_ussd_op = true;
    sm.ussd_op = op;
    if (in->has_its_session) {
        sm.has_its_session = true;
        sm.its_session = (uint16_t)(session << 8 | (end ? 1 : 0));
    }
    if (smpp_esme_submit(a->esme, &sm, on_submitted, a) < 0)
        fprintf(stderr, "it_ussd_esme: cannot queue a submit\n");
}

static void send_screen(struct app *a, const struct smpp_sm *in, uint8_t op, const char *utf8,
                        bool end)
{
    send_screen_as(a, in, op, utf8, end, (uint8_t)(in->its_session >> 8));
}

/* A long plain SMS (no USSD TLVs), split with UDH concatenation, parts sent last first so the
 * phone has to put them back in order. */
static void send_long_sms(struct app *a, const struct smpp_sm *in)
{
    static const char text[] =
        "Your loyalty statement: this message is deliberately longer than one SMS so that it "
        "travels as concatenated parts with a user data header, and the handset joins them "
        "in the right order whatever order they arrive in. Thank you for being with us!";
    struct smpp_text_sms_part parts[4];
    size_t n = 0;

    if (smpp_text_sms_split(text, strlen(text), NULL, ++a->sms_ref, parts, 4, &n) < 0)
        return;
    for (size_t i = n; i-- > 0;) {
        struct smpp_sm sm;
        memset(&sm, 0, sizeof(sm));
        snprintf(sm.src_addr, sizeof(sm.src_addr), "%s", in->dst_addr);
        snprintf(sm.dst_addr, sizeof(sm.dst_addr), "%s", in->src_addr);
        sm.esm_class = parts[i].esm_class;
        sm.data_coding = parts[i].data_coding;
        memcpy(sm.text, parts[i].data, parts[i].len);
        sm.text_len = parts[i].len;
        smpp_esme_submit(a->esme, &sm, on_submitted, a);
    }
}

static void on_deliver(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                       const struct smpp_sm *sm)
{
    struct app *a = arg;
    char text[4 * SMPP_TEXT_MAX + 1], reply[4 * SMPP_TEXT_MAX + 64];
    size_t n = 0;
    bool end = sm->has_its_session && (sm->its_session & 1);
    unsigned op = sm->has_ussd_op ? sm->ussd_op : 0;

    (void)cmd_id;
    smpp_esme_respond(e, token, SMPP_ROK); /* spec: USSD is answered ESME_ROK at once */
    smpp_text_decode(sm->text, sm->text_len, sm->data_coding, NULL, text, sizeof(text), &n);
    printf("deliver %s msisdn=%s op=%u session=%d end=%d dc=%u text=%s | to=%s\n", a->name,
           sm->src_addr, op, sm->has_its_session ? sm->its_session >> 8 : -1, end, sm->data_coding,
           text, sm->dst_addr);
    fflush(stdout);
    if (!sm->has_ussd_op || end || op == 0x81)
        return; /* an abort or a release: nothing to answer */
    if (op == 1) {
        snprintf(reply, sizeof(reply), "%s menu %s\n1 Echo\n2 فارسی\n9 Bye", a->name, text);
        send_screen(a, sm, 2, reply, false);
    } else if (strcmp(text, "9") == 0) {
        send_screen(a, sm, 17, "Bye", true);
    } else if (strcmp(text, "8") == 0) {
        send_screen(a, sm, 2, "End bit only", true);
    } else if (strcmp(text, "2") == 0) {
        send_screen(a, sm, 2, "امتیاز شما: ۱۲۰\n0 بازگشت", false);
    } else if (strcmp(text, "mute") == 0) {
        return;
    } else if (strcmp(text, "stale") == 0) {
        send_screen_as(a, sm, 2, "Stale", false, (uint8_t)((sm->its_session >> 8) + 1));
    } else if (strcmp(text, "sms") == 0) {
        send_screen(a, sm, 2, "SMS sent", false);
        send_long_sms(a, sm);
    } else {
        snprintf(reply, sizeof(reply), "%s got %s", a->name, text);
        send_screen(a, sm, 2, reply, false);
    }
}

static void on_stopped(void *arg)
{
    struct app *a = arg;

    event_base_loopexit(a->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;

    (void)sig;
    (void)what;
    if (a->stopping++)
        event_base_loopexit(a->base, NULL);
    else
        smpp_esme_stop(a->esme, on_stopped, a);
}

int main(int argc, char **argv)
{
    static const struct smpp_esme_ops ops = {.deliver = on_deliver};
    struct smpp_esme_config cfg;
    struct app a;
    struct event *s1 = NULL, *s2 = NULL;
    int rc = 1;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: it_ussd_esme PORT [NAME]\n");
        return 2;
    }
    memset(&a, 0, sizeof(a));
    a.name = argc == 3 ? argv[2] : "GW";
    gw_log_set_level(getenv("LGW_VERBOSE") ? GW_LOG_DEBUG : GW_LOG_NOTICE);
    signal(SIGPIPE, SIG_IGN);
    smpp_esme_config_defaults(&cfg);
    snprintf(cfg.name, sizeof(cfg.name), "%s", a.name);
    cfg.port = (uint16_t)atoi(argv[1]);
    snprintf(cfg.bind.system_id, sizeof(cfg.bind.system_id), "loyalty");
    snprintf(cfg.bind.password, sizeof(cfg.bind.password), "secret");
    cfg.window = 100;
    cfg.reconnect_min_ms = 100;
    cfg.reconnect_max_ms = 500;
    cfg.drain_timeout_ms = 500;
    a.base = event_base_new();
    if (!a.base)
        goto out;
    a.esme = smpp_esme_new(a.base, &cfg, &ops, &a);
    s1 = evsignal_new(a.base, SIGTERM, on_signal, &a);
    s2 = evsignal_new(a.base, SIGINT, on_signal, &a);
    if (!a.esme || !s1 || !s2 || event_add(s1, NULL) < 0 || event_add(s2, NULL) < 0)
        goto out;
    smpp_esme_start(a.esme);
    event_base_dispatch(a.base);
    rc = 0;
out:
    smpp_esme_free(a.esme);
    if (s1)
        event_free(s1);
    if (s2)
        event_free(s2);
    if (a.base)
        event_base_free(a.base);
    return rc;
}
