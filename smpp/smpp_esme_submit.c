/*
 * smpp_esme_submit.c - the outbound half of the ESME link: the submit queue, the window of
 * outstanding submit_sm with their response deadlines, the TPS token bucket, the pause after
 * ESME_RTHROTTLED / ESME_RMSGQFUL, and the deferred completion callbacks.
 *
 * Ownership: every struct esme_submit belongs to the link from smpp_esme_submit() returning 0 until
 * its callback has returned; it then is freed by esme_run_completions(), never by the callback.
 * A submit sits in exactly one list: queue -> window -> done (or queue -> done on cancel).
 * Callbacks run only from the link's deferred event, so smpp_esme_submit() never calls back.
 */
#include "smpp_esme_priv.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- intrusive list */

void esme_list_push_back(struct esme_list *l, struct esme_submit *s)
{
    s->next = NULL;
    s->prev = l->tail;
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
    l->n++;
}

void esme_list_push_front(struct esme_list *l, struct esme_submit *s)
{
    s->prev = NULL;
    s->next = l->head;
    if (l->head)
        l->head->prev = s;
    else
        l->tail = s;
    l->head = s;
    l->n++;
}

void esme_list_remove(struct esme_list *l, struct esme_submit *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        l->tail = s->prev;
    s->prev = s->next = NULL;
    l->n--;
}

struct esme_submit *esme_list_pop(struct esme_list *l)
{
    struct esme_submit *s = l->head;

    if (s)
        esme_list_remove(l, s);
    return s;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------- completion */

void esme_submit_complete(struct smpp_esme *e, struct esme_submit *s, int err, uint32_t status,
                          const char *message_id)
{
    s->err = err;
    s->status = status;
    snprintf(s->message_id, sizeof(s->message_id), "%s", message_id ? message_id : "");
    if (err == 0 && status == SMPP_ROK)
        e->st.submits_ok++;
    else
        e->st.submits_failed++;
    esme_list_push_back(&e->done, s);
    esme_defer(e);
}

void esme_submit_fail_all(struct smpp_esme *e, struct esme_list *l, int err)
{
    struct esme_submit *s;

    while ((s = esme_list_pop(l)) != NULL)
        esme_submit_complete(e, s, err, 0, NULL);
}

void esme_run_completions(struct smpp_esme *e)
{
    struct esme_submit *s;

    /* A callback may submit again; its completion lands on this list and runs in this loop or
     * the next deferred pass, never inside smpp_esme_submit(). */
    while ((s = esme_list_pop(&e->done)) != NULL) {
        s->cb(s->arg, s->err, s->status, s->message_id);
        free(s->pdu);
        free(s);
    }
}

/* ---------------------------------------------------------------- window and pump */

void esme_window_rearm(struct smpp_esme *e)
{
    struct esme_submit *h = e->window.head;
    int64_t wait;
    struct timeval tv;

    if (!h) {
        evtimer_del(e->ev_window);
        return;
    }
    wait = h->deadline_ms - esme_now();
    if (wait < 1)
        wait = 1;
    tv.tv_sec = (time_t)(wait / 1000);
    tv.tv_usec = (suseconds_t)((wait % 1000) * 1000);
    evtimer_add(e->ev_window, &tv);
}

static void pump_arm(struct smpp_esme *e, int64_t wait)
{
    struct timeval tv;

    if (wait < 1)
        wait = 1;
    tv.tv_sec = (time_t)(wait / 1000);
    tv.tv_usec = (suseconds_t)((wait % 1000) * 1000);
    evtimer_add(e->ev_pump, &tv);
}

void esme_pump(struct smpp_esme *e)
{
    struct esme_sess *tx = esme_tx_sess(e);
    int64_t now, wait;
    bool sent = false;

    if (e->fi.state != ST_BOUND || !tx || !tx->bound || !tx->bev)
        return;
    now = esme_now();
    if (now < e->throttle_until_ms) {
        pump_arm(e, e->throttle_until_ms - now);
        return;
    }
    while (e->queue.head && e->window.n < e->cfg.window) {
        struct esme_submit *s;

        wait = smpp_bucket_take(&e->bucket, now);
        if (wait > 0) {
            pump_arm(e, wait);
            break;
        }
        smpp_pace_note(&e->pace, now);
        s = esme_list_pop(&e->queue);
        s->seq = esme_next_seq(e);
        put_be32(s->pdu + 12, s->seq);
        s->deadline_ms = now + e->cfg.response_timeout_ms;
        esme_list_push_back(&e->window, s);
        if (esme_sess_send(tx, s->pdu, s->len) < 0) {
            /* Output buffer allocation failed: the link is unusable; the window entry will
             * time out or fail with the link. */
            gw_fsm_log(&e->fi, GW_LOG_ERROR, "submit_sm seq=%u: write failed", s->seq);
        }
        sent = true;
    }
    if (sent)
        esme_window_rearm(e);
}

void esme_pump_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    esme_pump(arg);
}

void esme_window_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smpp_esme *e = arg;
    int64_t now = esme_now();
    struct esme_submit *s;

    (void)fd;
    (void)what;
    while ((s = e->window.head) != NULL && s->deadline_ms <= now) {
        esme_list_remove(&e->window, s);
        e->st.response_timeouts++;
        gw_fsm_log(&e->fi, GW_LOG_NOTICE, "submit_sm seq=%u: no response in %ums", s->seq,
                   e->cfg.response_timeout_ms);
        /* The sequence number is now unknown: a late submit_sm_resp is logged and dropped. */
        esme_submit_complete(e, s, -ETIMEDOUT, 0, NULL);
    }
    esme_window_rearm(e);
    esme_pump(e);
    esme_check_drained(e);
}

bool esme_submit_resp(struct smpp_esme *e, uint32_t seq, uint32_t status, const char *message_id)
{
    struct esme_submit *s;

    for (s = e->window.head; s; s = s->next) {
        if (s->seq == seq)
            break;
    }
    if (!s)
        return false;
    esme_list_remove(&e->window, s);
    if (status == SMPP_RTHROTTLED || status == SMPP_RMSGQFUL) {
        /* Not a failure (SMPP 3.4 5.1.3): the SMSC asks us to slow down. Pause all submits and
         * send this one again first, so ordering per destination mostly survives. */
        e->st.throttled++;
        e->throttle_until_ms = esme_now() + e->cfg.throttle_backoff_ms;
        gw_fsm_log(&e->fi, GW_LOG_NOTICE, "submit_sm seq=%u: %s, pausing submits %ums", seq,
                   smpp_status_name(status), e->cfg.throttle_backoff_ms);
        esme_list_push_front(&e->queue, s);
    } else {
        esme_submit_complete(e, s, 0, status, message_id);
    }
    esme_window_rearm(e);
    esme_pump(e);
    esme_check_drained(e);
    return true;
}

/* ---------------------------------------------------------------- public */

int smpp_esme_submit(struct smpp_esme *e, const struct smpp_sm *sm, smpp_submit_cb cb, void *arg)
{
    struct esme_submit *s;
    uint8_t *buf;
    size_t len = 0;
    int rc;

    if (!e || !sm || !cb)
        return -EINVAL;
    if (e->stopping || e->freeing)
        return -ESHUTDOWN;
    if (e->queue.n >= e->cfg.submit_queue_max)
        return -ENOBUFS;
    buf = malloc(e->cfg.max_pdu);
    s = calloc(1, sizeof(*s));
    if (!buf || !s) {
        rc = -ENOMEM;
        goto fail;
    }
    /* Encoded once now (sequence patched at send time) so a field that does not fit is the
     * caller's synchronous error, not a callback later. */
    rc = smpp_encode_sm(SMPP_SUBMIT_SM, 1, sm, buf, e->cfg.max_pdu, &len);
    if (rc < 0)
        goto fail;
    /* Keep only what the PDU needs: a deep queue should not hold max_pdu bytes per entry. */
    s->pdu = malloc(len);
    if (!s->pdu) {
        rc = -ENOMEM;
        goto fail;
    }
    memcpy(s->pdu, buf, len);
    free(buf);
    s->len = len;
    s->cb = cb;
    s->arg = arg;
    esme_list_push_back(&e->queue, s);
    esme_pump(e);
    return 0;
fail:
    free(buf);
    free(s);
    return rc;
}
