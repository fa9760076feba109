/*
 * it_ussd_dup.c - a scripted handset behind a minimal SMSC that can send one USSD PDU TWICE,
 * back to back (a USSD gateway repeating a confirmation, or a retransmission): what smsc-sim's
 * --phone cannot do. Used by tests/it/test_ussd_redeem.sh to show that a repeated confirmation
 * redeems once. Owner: the USSD redemption engineer (issues 3+4).
 *
 *   it_ussd_dup PORT MSISDN SESSION LINGER_MS INPUT...
 *
 * Listens on 127.0.0.1:PORT, accepts the gateway's bind_transceiver (any credentials), then plays
 * the inputs as one USSD dialogue of MSISDN with session number SESSION: the first input is the
 * dial (deliver_sm, ussd_service_op 1), the others answers (op 18); its_session_info carries the
 * session number and a sequence. An input written "2x:TEXT" is sent twice in a row, with the same
 * its_session_info. After each input it waits (10 s at most) for the screen; after "2x:" it also
 * collects for 1 s whatever else comes. An input "wait:FILE" sends nothing: it keeps serving the
 * link until FILE exists (30 s at most), so a test can change something between two screens
 * (reload the catalogue, close the gift day) at a known point. After the last input it keeps
 * serving LINGER_MS (for SMS the gateway sends later), then closes and exits 0 (1 on a protocol
 * error or a timeout).
 *
 * Every submit_sm received is printed on stdout as one JSON line:
 *   {"kind":"screen","text":"...","op":2,"end":false}    a USSD screen (service_type USSD)
 *   {"kind":"sms","to":"2126...","text":"..."}           a plain SMS
 * Text is decoded from data_coding 0 (GSM-7) or 8 (UCS-2) to UTF-8 with the project's codec.
 *
 * Blocking I/O with poll(): one connection, one thread, no event loop - a test tool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smpp.h"
#include "smpp_text.h"

#define BUF_MAX 8192

struct conn {
    int fd;
    uint8_t buf[BUF_MAX + 1];
    size_t len;
    uint32_t seq;
    int screens; /* USSD screens received so far */
    const char *msisdn;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Prints s (UTF-8) as a JSON string body: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
}

static void on_submit(struct conn *c, const uint8_t *pdu, size_t len, uint32_t seq)
{
    struct smpp_sm sm;
    struct smpp_text_opts opts;
    const char *reason = NULL;
    char text[4 * SMPP_TEXT_MAX + 8], id[16];
    size_t n = 0, rl;
    uint8_t resp[64];

    memset(&sm, 0, sizeof(sm));
    if (smpp_decode_sm(pdu, len, &sm, &reason) < 0) {
        fprintf(stderr, "it_ussd_dup: bad submit_sm: %s\n", reason ? reason : "?");
        return;
    }
    smpp_text_opts_defaults(&opts);
    if (smpp_text_decode(sm.text, sm.text_len, sm.data_coding, &opts, text, sizeof(text), &n) < 0)
        n = 0;
    text[n] = '\0';
    snprintf(id, sizeof(id), "d%u", seq);
    if (smpp_encode_resp(SMPP_SUBMIT_SM_RESP, SMPP_ROK, seq, id, resp, sizeof(resp), &rl) == 0)
        (void)write_all(c->fd, resp, rl);
    if (strcmp(sm.service_type, "USSD") == 0) {
        bool end = sm.has_its_session && (sm.its_session & 1);
        printf("{\"kind\":\"screen\",\"text\":\"");
        json_str(text);
        printf("\",\"op\":%u,\"end\":%s}\n", sm.has_ussd_op ? sm.ussd_op : 0,
               end ? "true" : "false");
        c->screens++;
    } else {
        printf("{\"kind\":\"sms\",\"to\":\"");
        json_str(sm.dst_addr);
        printf("\",\"text\":\"");
        json_str(text);
        printf("\"}\n");
    }
    fflush(stdout);
}

/* Handles one complete PDU from the gateway. Returns 0, or -1 when the link must close. */
static int on_pdu(struct conn *c, const uint8_t *pdu, size_t len)
{
    struct smpp_header h;
    uint8_t out[128];
    size_t ol;
    uint32_t status;
    const char *reason;

    smpp_header_read(pdu, &h);
    if (smpp_prescan(pdu, len, &status, &reason) < 0) {
        fprintf(stderr, "it_ussd_dup: %s refused: %s\n", smpp_cmd_name(h.id), reason);
        return -1;
    }
    switch (h.id) {
    case SMPP_BIND_TRANSCEIVER:
        if (smpp_encode_resp(SMPP_BIND_TRANSCEIVER_RESP, SMPP_ROK, h.seq, "DUPSIM", out,
                             sizeof(out), &ol) == 0)
            return write_all(c->fd, out, ol);
        return -1;
    case SMPP_ENQUIRE_LINK:
        if (smpp_encode_header(SMPP_ENQUIRE_LINK_RESP, SMPP_ROK, h.seq, out, sizeof(out), &ol) == 0)
            return write_all(c->fd, out, ol);
        return -1;
    case SMPP_UNBIND:
        if (smpp_encode_header(SMPP_UNBIND_RESP, SMPP_ROK, h.seq, out, sizeof(out), &ol) == 0)
            (void)write_all(c->fd, out, ol);
        return -1;
    case SMPP_SUBMIT_SM:
        on_submit(c, pdu, len, h.seq);
        return 0;
    case SMPP_DELIVER_SM_RESP:
        if (h.status != SMPP_ROK)
            fprintf(stderr, "it_ussd_dup: deliver_sm %u answered %s\n", h.seq,
                    smpp_status_name(h.status));
        return 0;
    default:
        return 0; /* responses to nothing we sent, binds of other kinds: ignored */
    }
}

/* Serves the link until deadline (monotonic ms) or until stop() holds. Returns 0, or -1 when the
 * link closed. */
static int serve(struct conn *c, int64_t deadline, int want_screens)
{
    for (;;) {
        struct smpp_header h;
        int64_t left = deadline - now_ms();
        int plen;

        while ((plen = smpp_frame_check(c->buf, c->len, BUF_MAX, &h)) > 0) {
            int rc = on_pdu(c, c->buf, (size_t)plen);
            memmove(c->buf, c->buf + plen, c->len - (size_t)plen);
            c->len -= (size_t)plen;
            if (rc < 0)
                return -1;
        }
        if (plen < 0)
            return -1;
        if (want_screens > 0 && c->screens >= want_screens)
            return 0;
        if (left <= 0)
            return want_screens > 0 ? -1 : 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t n = read(c->fd, c->buf + c->len, BUF_MAX - c->len);
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

static int send_deliver(struct conn *c, const char *text, uint8_t op, uint16_t sinfo)
{
    struct smpp_sm sm;
    uint8_t out[600];
    size_t ol;

    memset(&sm, 0, sizeof(sm));
    snprintf(sm.service_type, sizeof(sm.service_type), "USSD");
    sm.src_ton = 1;
    sm.src_npi = 1;
    snprintf(sm.src_addr, sizeof(sm.src_addr), "%s", c->msisdn);
    snprintf(sm.dst_addr, sizeof(sm.dst_addr), "*555#");
    sm.data_coding = 0;
    sm.text_len = (uint16_t)strnlen(text, 160);
    memcpy(sm.text, text, sm.text_len);
    sm.has_ussd_op = true;
    sm.ussd_op = op;
    sm.has_its_session = true;
    sm.its_session = sinfo;
    if (smpp_encode_sm(SMPP_DELIVER_SM, ++c->seq, &sm, out, sizeof(out), &ol) < 0)
        return -1;
    return write_all(c->fd, out, ol);
}

int main(int argc, char **argv)
{
    struct conn c;
    struct sockaddr_in a;
    int one = 1, ls, rc = 1;

    if (argc < 6) {
        fprintf(stderr, "usage: it_ussd_dup PORT MSISDN SESSION LINGER_MS INPUT...\n");
        return 2;
    }
    memset(&c, 0, sizeof(c));
    c.msisdn = argv[2];
    unsigned session = (unsigned)atoi(argv[3]) & 0xFF;
    int linger = atoi(argv[4]);
    ls = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0) {
        perror("it_ussd_dup: listen");
        return 1;
    }
    struct pollfd lp = {.fd = ls, .events = POLLIN};
    if (poll(&lp, 1, 30000) <= 0 || (c.fd = accept(ls, NULL, NULL)) < 0) {
        fprintf(stderr, "it_ussd_dup: no gateway connected within 30 s\n");
        return 1;
    }
    close(ls);
    /* the bind first: nothing is delivered to an unbound ESME */
    if (serve(&c, now_ms() + 1500, 0) < 0)
        goto out;
    int hop = 0;
    for (int i = 5; i < argc; i++) {
        const char *in = argv[i];
        if (strncmp(in, "wait:", 5) == 0) {
            int64_t until = now_ms() + 30000;
            while (access(in + 5, F_OK) != 0) {
                if (now_ms() > until || serve(&c, now_ms() + 100, 0) < 0) {
                    fprintf(stderr, "it_ussd_dup: %s did not appear\n", in + 5);
                    goto out;
                }
            }
            continue;
        }
        bool twice = strncmp(in, "2x:", 3) == 0;
        uint16_t sinfo = (uint16_t)(session << 8 | ((unsigned)hop & 0x7F) << 1);
        uint8_t op = hop++ == 0 ? 1 : 18;
        int want = c.screens + 1;

        if (twice)
            in += 3;
        if (send_deliver(&c, in, op, sinfo) < 0 || (twice && send_deliver(&c, in, op, sinfo) < 0))
            goto out;
        if (serve(&c, now_ms() + 10000, want) < 0) {
            fprintf(stderr, "it_ussd_dup: no screen after input %d\n", i - 4);
            goto out;
        }
        if (twice && serve(&c, now_ms() + 1000, 0) < 0)
            goto out;
    }
    (void)serve(&c, now_ms() + linger, 0);
    rc = 0;
out:
    close(c.fd);
    return rc;
}
