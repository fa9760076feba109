/*
 * sim_phone.c - --phone MSISDN: a handset in the terminal, on the carrier's side of the SMSC.
 * A person (or a script) types lines:
 *   *555#  *555*1#   a line starting with '*' and ending with '#' dials (PSSR indication, op 1;
 *                    dialling while a dialogue is open releases it first, as hanging up does)
 *   1  00  ۱        any other line answers the open dialogue's screen (USSR confirm, op 18),
 *                    GSM-7 when every character fits, else UCS-2 (Persian digits)
 *   !abort           aborts the open dialogue (--ussd-abort-op, or the end bit alone with 0)
 *   quit             (or end of input) ends the phone: an open dialogue is released
 * and sees every screen the gateway sends to the MSISDN as a handset shows it (UTF-8;
 * right-to-left text in logical order, which a terminal lays out itself), '[dialogue ended]'
 * under a final screen (PSSR response or end bit), and every plain SMS (a submit_sm without
 * USSD TLVs), its UDH-concatenated parts joined.
 *
 * With a terminal on stdin the phone prompts; otherwise (--script FILE, or stdin a file or a
 * pipe) it runs the lines one after the other - each waits for the screen the previous one asked
 * for - echoes each as '> line', skips blank lines and lines starting with '#', and smsc-sim
 * exits 0 once the lines are done (--linger-ms keeps it a moment for trailing SMS).
 *
 * Dialogues are keyed by MSISDN plus session number: each dial takes the next number (1..255),
 * and a screen for another session is shown as ignored, never applied. With --events as well,
 * the phone's first message waits until every event has its final answer.
 *
 * Ownership: struct sim_phone (in struct sim) owns the lines, the queued deliver_sm, the
 * stdin event and the SMS parts being joined. Output goes to stdout (the handset's screen);
 * logs go to stderr as everywhere in smsc-sim.
 *
 * Owner: smsc-sim (smpp/sim).
 */
#include "sim_link.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAT "phone"
#define RULE "  +----------------------------------------"

/* ---------------------------------------------------------------- lines */

static int push_line(struct sim_phone *p, const char *text, size_t len)
{
    char *copy;

    if (p->n_lines == p->cap_lines) {
        size_t cap = p->cap_lines ? p->cap_lines * 2 : 16;
        char **v = realloc(p->lines, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->lines = v;
        p->cap_lines = cap;
    }
    copy = strndup(text, len);
    if (!copy)
        return -ENOMEM;
    p->lines[p->n_lines++] = copy;
    return 0;
}

/* Feeds bytes read from stdin or the script: complete lines become entries; a line longer than
 * SIM_PHONE_LINE_MAX is cut there (a handset takes 182 characters at most anyway). */
static void feed(struct sim_phone *p, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            push_line(p, p->part, p->part_len);
            p->part_len = 0;
            p->part_overflow = false;
            continue;
        }
        if (p->part_len < SIM_PHONE_LINE_MAX)
            p->part[p->part_len++] = buf[i];
        else if (!p->part_overflow) {
            p->part_overflow = true;
            fprintf(stderr, "smsc-sim: --phone: line longer than %d bytes cut\n",
                    SIM_PHONE_LINE_MAX);
        }
    }
}

static void feed_eof(struct sim_phone *p)
{
    if (p->part_len)
        push_line(p, p->part, p->part_len);
    p->part_len = 0;
    p->eof = true;
}

static int read_all(struct sim_phone *p, int fd)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        feed(p, buf, (size_t)n);
    feed_eof(p);
    return n < 0 ? -errno : 0;
}

int sim_phone_init(struct sim_phone *p, const struct sim_config *cfg)
{
    size_t n;

    memset(p, 0, sizeof(*p));
    if (!cfg->phone_msisdn) {
        if (cfg->phone_script) {
            fprintf(stderr, "smsc-sim: --script needs --phone\n");
            return -EINVAL;
        }
        return 0;
    }
    n = strlen(cfg->phone_msisdn);
    if (n == 0 || n > 20 || strspn(cfg->phone_msisdn, "0123456789") != n) {
        fprintf(stderr, "smsc-sim: --phone wants an MSISDN of 1..20 digits\n");
        return -EINVAL;
    }
    if (cfg->ussd_msisdn) {
        fprintf(stderr, "smsc-sim: --ussd, --ussd-load and --phone exclude each other\n");
        return -EINVAL;
    }
    if (cfg->ussd_code_addr && (!*cfg->ussd_code_addr || strlen(cfg->ussd_code_addr) > 20)) {
        fprintf(stderr, "smsc-sim: --ussd-code-addr wants 1..20 characters\n");
        return -EINVAL;
    }
    for (size_t i = 0; i < SIM_PHONE_OUTQ; i++) {
        p->outq[i] = calloc(1, sizeof(*p->outq[i]));
        if (!p->outq[i]) {
            sim_phone_cleanup(p);
            return -ENOMEM;
        }
    }
    p->msisdn = cfg->phone_msisdn;
    p->code_addr = cfg->ussd_code_addr;
    p->abort_op = (uint8_t)cfg->ussd_abort_op;
    p->on = true;
    if (cfg->phone_script) {
        FILE *f = fopen(cfg->phone_script, "r");
        int rc;
        if (!f) {
            fprintf(stderr, "smsc-sim: --script %s: %s\n", cfg->phone_script, strerror(errno));
            sim_phone_cleanup(p);
            return -EINVAL;
        }
        rc = read_all(p, fileno(f));
        fclose(f);
        if (rc < 0) {
            fprintf(stderr, "smsc-sim: --script %s: %s\n", cfg->phone_script, strerror(-rc));
            sim_phone_cleanup(p);
            return -EINVAL;
        }
    } else {
        p->tty = isatty(STDIN_FILENO);
    }
    return 0;
}

void sim_phone_cleanup(struct sim_phone *p)
{
    if (p->ev_stdin)
        event_free(p->ev_stdin);
    p->ev_stdin = NULL;
    for (size_t i = 0; i < p->n_lines; i++)
        free(p->lines[i]);
    free(p->lines);
    p->lines = NULL;
    p->n_lines = p->cap_lines = p->next_line = 0;
    for (size_t i = 0; i < SIM_PHONE_OUTQ; i++) {
        free(p->outq[i]);
        p->outq[i] = NULL;
    }
    sim_concat_free(&p->concat);
}

bool sim_phone_finished(const struct sim_phone *p)
{
    return !p->on || p->done;
}

/* ---------------------------------------------------------------- sending */

static void prompt(struct sim *sim)
{
    struct sim_phone *p = &sim->phone;

    if (!p->tty || p->done || p->waiting)
        return;
    fputs(p->open ? "reply> " : "dial> ", stdout);
    fflush(stdout);
}

static void dialogue_over(struct sim_phone *p, const char *why)
{
    p->open = false;
    p->waiting = false;
    p->deadline_ms = 0;
    if (why)
        printf("[%s]\n", why);
}

static void flush_out(struct sim *sim)
{
    struct sim_phone *p = &sim->phone;

    /* --events first: a script that dials "my points" sees the recharges of the same run */
    if (sim->n_final < sim->events.n)
        return;
    while (p->out_n > 0) {
        size_t k = p->out_head;
        int rc = sim_send_ussd_from(sim, p->outq[k], SIM_SRC_PHONE, 0, p->last_session,
                                    &p->last_session, NULL);
        if (rc == -EAGAIN)
            return; /* no bind yet: the bind pumps again */
        p->out_head = (p->out_head + 1) % SIM_PHONE_OUTQ;
        p->out_n--;
        if (rc < 0) {
            dialogue_over(p, "cannot send: dialogue ended");
            continue;
        }
        if (p->out_hop[k] && p->waiting)
            p->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
    }
}

static void queue_out(struct sim *sim, uint8_t op, const char *text, const char *dialled, bool end,
                      bool hop)
{
    struct sim_phone *p = &sim->phone;
    const char *addr = p->code_addr ? p->code_addr : dialled;
    size_t k;

    if (p->out_n == SIM_PHONE_OUTQ) {
        printf("[no network: request dropped]\n");
        return;
    }
    k = (p->out_head + p->out_n) % SIM_PHONE_OUTQ;
    if (sim_ussd_build(p->outq[k], p->msisdn, addr, op, text, p->session_no, p->seq, end) < 0) {
        printf("[too long for one USSD message: not sent]\n");
        if (hop)
            p->waiting = false;
        return;
    }
    p->seq++;
    p->out_hop[k] = hop;
    p->out_n++;
    flush_out(sim);
    if (p->out_n && p->tty) {
        printf("(waiting for the gateway: it goes out as soon as one is bound)\n");
        fflush(stdout);
    }
}

static void release(struct sim *sim, const char *why)
{
    struct sim_phone *p = &sim->phone;

    if (!p->open)
        return;
    queue_out(sim, 18, "", p->dialled, true, false);
    dialogue_over(p, why);
}

static void finish(struct sim *sim)
{
    struct sim_phone *p = &sim->phone;

    if (p->done)
        return;
    release(sim, "dialogue released");
    if (p->out_n)
        GW_LOGN(CAT, "%zu deliver_sm never sent (no bind)", p->out_n);
    p->done = true;
    fflush(stdout);
}

static bool is_dial(const char *s, size_t n)
{
    return n >= 2 && s[0] == '*' && s[n - 1] == '#';
}

static void handle_line(struct sim *sim, char *line)
{
    struct sim_phone *p = &sim->phone;
    size_t n = strlen(line);

    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    while (*line == ' ' || *line == '\t') {
        line++;
        n--;
    }
    if (!p->tty && (n == 0 || line[0] == '#'))
        return; /* blank lines and comments of a script */
    if (!p->tty)
        printf("> %s\n", line);
    if (n == 0)
        return;
    if (strcmp(line, "quit") == 0 || strcmp(line, "exit") == 0) {
        finish(sim);
        return;
    }
    if (strcmp(line, "!abort") == 0) {
        if (!p->open) {
            printf("(no dialogue open)\n");
            return;
        }
        queue_out(sim, p->abort_op ? p->abort_op : 18, "", p->dialled, true, false);
        dialogue_over(p, "dialogue aborted");
        return;
    }
    if (is_dial(line, n)) {
        release(sim, "dialogue released");
        p->session_no = (uint8_t)(p->session_no % 255 + 1);
        p->seq = 0;
        p->open = true;
        p->waiting = true;
        p->dialogues++;
        snprintf(p->dialled, sizeof(p->dialled), "%s", line);
        queue_out(sim, 1, line, p->dialled, false, true); /* PSSR indication */
        return;
    }
    if (!p->open) {
        printf("(no dialogue open: dial a code such as *555#)\n");
        return;
    }
    p->waiting = true;
    queue_out(sim, 18, line, p->dialled, false, true); /* USSR confirm */
}

/* Runs the lines that can run now: each waits for the screen the previous one asked for. */
static void process(struct sim *sim)
{
    struct sim_phone *p = &sim->phone;

    while (!p->done && !p->waiting && p->next_line < p->n_lines)
        handle_line(sim, p->lines[p->next_line++]);
    if (!p->done && !p->waiting && p->eof && p->next_line == p->n_lines) {
        if (p->tty)
            printf("\n");
        finish(sim);
    }
    prompt(sim);
    fflush(stdout);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
    struct sim *sim = arg;
    struct sim_phone *p = &sim->phone;
    char buf[4096];
    ssize_t n;

    (void)what;
    n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        feed_eof(p);
        event_del(p->ev_stdin);
    } else {
        feed(p, buf, (size_t)n);
    }
    process(sim);
}

int sim_phone_start(struct sim *sim)
{
    struct sim_phone *p = &sim->phone;
    struct stat st;

    if (!p->on)
        return 0;
    if (p->tty)
        printf("phone %s: dial a code (*555#), answer with what the screen offers, "
               "'!abort' aborts, 'quit' or Ctrl-D ends\n",
               p->msisdn);
    if (sim->cfg->phone_script) {
        process(sim);
        return 0;
    }
    /* epoll cannot watch a regular file (stdin redirected from a file): read it at once */
    if (fstat(STDIN_FILENO, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        int rc = read_all(p, STDIN_FILENO);
        process(sim);
        return rc;
    }
    p->ev_stdin = event_new(sim->base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, sim);
    if (!p->ev_stdin || event_add(p->ev_stdin, NULL) < 0) {
        /* /dev/null and other odd descriptors: read what is there */
        int rc = read_all(p, STDIN_FILENO);
        process(sim);
        return rc;
    }
    prompt(sim);
    return 0;
}

void sim_phone_pump(struct sim *sim)
{
    if (!sim->phone.on)
        return;
    flush_out(sim);
}

/* ---------------------------------------------------------------- what comes back */

void sim_phone_on_resp(struct sim *sim, uint32_t status)
{
    struct sim_phone *p = &sim->phone;
    char why[96];

    if (status == SMPP_ROK || !p->open)
        return;
    snprintf(why, sizeof(why), "the network refused the request (%s): dialogue ended",
             smpp_status_name(status));
    dialogue_over(p, why);
    process(sim);
}

void sim_phone_on_lost(struct sim *sim, const char *why)
{
    struct sim_phone *p = &sim->phone;
    char text[96];

    if (!p->open)
        return;
    snprintf(text, sizeof(text), "request lost (%s): dialogue ended", why);
    dialogue_over(p, text);
    process(sim);
}

/* Prints text[0..len) in data_coding as indented lines. */
static void print_lines(uint8_t data_coding, const uint8_t *text, size_t len, const char *prefix)
{
    static char utf8[4 * SIM_CONCAT_MAX_OUT + 1];
    const char *line = utf8;

    sim_text_to_utf8(data_coding, text, len, utf8, sizeof(utf8), NULL);
    do {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        printf("%s%.*s\n", prefix, n, line);
        line = nl ? nl + 1 : NULL;
    } while (line && *line);
}

static void on_sms(struct sim *sim, const struct smpp_sm *sm)
{
    struct sim_phone *p = &sim->phone;
    static uint8_t joined[SIM_CONCAT_MAX_OUT];
    const uint8_t *text = sm->text;
    size_t len = sm->text_len, jlen = 0;
    uint8_t dc = sm->data_coding;
    struct sim_udh u;

    if ((sm->esm_class & SMPP_ESM_UDHI) && sim_udh_parse(sm->text, sm->text_len, &u) == 0) {
        text += u.len;
        len -= u.len;
        if (u.concat && u.total > 1) {
            int rc = sim_concat_add(&p->concat, sm->src_addr, &u, sm->data_coding, text, len,
                                    joined, sizeof(joined), &jlen, &dc);
            p->sms_parts++;
            if (rc == 0)
                return; /* more parts to come */
            if (rc < 0) {
                printf("[SMS from %s: parts could not be joined (%s)]\n", sm->src_addr,
                       strerror(-rc));
                return;
            }
            text = joined;
            len = jlen;
        }
    }
    p->sms++;
    printf("[SMS from %s]\n", sm->src_addr);
    print_lines(dc, text, len, "  ");
}

void sim_phone_on_submit(struct sim *sim, const struct smpp_sm *sm)
{
    struct sim_phone *p = &sim->phone;
    unsigned op = sm->has_ussd_op ? sm->ussd_op : 0;
    bool end = sm->has_its_session && (sm->its_session & 1);
    bool final = op == 17 || end;

    if (!sm->has_ussd_op && !sm->has_its_session) {
        on_sms(sim, sm);
        prompt(sim);
        fflush(stdout);
        return;
    }
    if (!p->open || !p->waiting ||
        (sm->has_its_session && (sm->its_session >> 8) != p->session_no)) {
        /* keyed by MSISDN + session: a late screen or another session's is never applied */
        p->ignored++;
        printf("(screen for session %d ignored: %s)\n",
               sm->has_its_session ? sm->its_session >> 8 : -1,
               p->open ? "not the open dialogue's" : "no dialogue open");
        print_lines(sm->data_coding, sm->text, sm->text_len, "  : ");
        fflush(stdout);
        return;
    }
    p->screens++;
    puts(RULE);
    print_lines(sm->data_coding, sm->text, sm->text_len, "  | ");
    puts(RULE);
    if (final) {
        dialogue_over(p, "dialogue ended");
    } else if (op == 2 || op == 0) {
        p->waiting = false; /* a USSR request: the next line answers it */
        p->deadline_ms = 0;
    } else {
        /* an op the spec does not give the gateway: shown, still waiting */
        p->deadline_ms = sim_now_ms() + sim->cfg->ussd_timeout_ms;
    }
    process(sim);
}

void sim_phone_cron(struct sim *sim, int64_t now_ms)
{
    struct sim_phone *p = &sim->phone;
    char why[96];

    if (!p->on || !p->waiting || !p->deadline_ms || now_ms < p->deadline_ms)
        return;
    snprintf(why, sizeof(why), "no screen within %" PRIu32 " ms: dialogue ended",
             sim->cfg->ussd_timeout_ms);
    dialogue_over(p, why);
    process(sim);
}
