/*
 * gw_fsm.c - table-driven state machines (after libosmocore's fsm.c; no code taken).
 *
 * Each instance has exactly one timer, named by the state that armed it; an expiry reaches the
 * FSM's timer_cb, never a free-floating callback, so every timeout is visible in the transition
 * log. The instance is embedded in its owner: cleanup disarms the timer, nothing else is freed.
 */
#include "gw_core.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static const char *state_name(const struct gw_fsm *fsm, uint32_t s)
{
    return s < fsm->num_states ? fsm->states[s].name : "?";
}

static const char *event_name(const struct gw_fsm *fsm, uint32_t e)
{
    return (fsm->event_names && e < fsm->num_events) ? fsm->event_names[e] : "?";
}

static const char *timer_name(const struct gw_fsm *fsm, int t)
{
    return (fsm->timer_names && t >= 0 && (uint32_t)t < fsm->num_timers) ? fsm->timer_names[t]
                                                                          : "?";
}

void gw_fsm_log(const struct gw_fsm_inst *fi, enum gw_log_level level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    if (level < gw_log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_log(level, fi->fsm->name, "%s(%s){%s} %s", fi->fsm->name, fi->id,
           state_name(fi->fsm, fi->state), msg);
}

static void timer_expired(evutil_socket_t fd, short what, void *arg)
{
    struct gw_fsm_inst *fi = arg;
    int t = fi->timer_id;

    (void)fd;
    (void)what;
    fi->timer_id = -1;
    gw_fsm_log(fi, GW_LOG_DEBUG, "timeout %s", timer_name(fi->fsm, t));
    if (fi->fsm->timer_cb)
        fi->fsm->timer_cb(fi, t);
}

int gw_fsm_inst_init(struct gw_fsm_inst *fi, const struct gw_fsm *fsm, struct event_base *base,
                     const char *id, void *priv)
{
    memset(fi, 0, sizeof(*fi));
    fi->fsm = fsm;
    fi->priv = priv;
    fi->timer_id = -1;
    snprintf(fi->id, sizeof(fi->id), "%s", id ? id : "");
    if (base) {
        fi->timer = evtimer_new(base, timer_expired, fi);
        if (!fi->timer)
            return -ENOMEM;
    }
    return 0;
}

void gw_fsm_inst_cleanup(struct gw_fsm_inst *fi)
{
    if (fi->timer) {
        event_free(fi->timer);
        fi->timer = NULL;
    }
    fi->timer_id = -1;
}

void gw_fsm_timer_arm(struct gw_fsm_inst *fi, uint32_t timeout_ms, int timer_id)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

    fi->timer_id = timer_id;
    if (fi->timer)
        evtimer_add(fi->timer, &tv);
}

void gw_fsm_timer_disarm(struct gw_fsm_inst *fi)
{
    if (fi->timer)
        evtimer_del(fi->timer);
    fi->timer_id = -1;
}

int gw_fsm_timer_fire(struct gw_fsm_inst *fi)
{
    if (fi->timer_id < 0)
        return -ENOENT;
    if (fi->timer)
        evtimer_del(fi->timer);
    timer_expired(-1, 0, fi);
    return 0;
}

int gw_fsm_dispatch(struct gw_fsm_inst *fi, uint32_t event, void *data)
{
    const struct gw_fsm_state *st = &fi->fsm->states[fi->state];

    if (event >= 32 || !(st->in_event_mask & GW_BIT(event))) {
        gw_fsm_log(fi, GW_LOG_ERROR, "event %s not permitted", event_name(fi->fsm, event));
        return -EPERM;
    }
    gw_fsm_log(fi, GW_LOG_DEBUG, "received event %s", event_name(fi->fsm, event));
    if (st->action)
        st->action(fi, event, data);
    return 0;
}

int gw_fsm_state_chg(struct gw_fsm_inst *fi, uint32_t new_state, uint32_t timeout_ms, int timer_id)
{
    const struct gw_fsm *fsm = fi->fsm;
    uint32_t old = fi->state;

    if (new_state >= fsm->num_states || !(fsm->states[old].out_state_mask & GW_BIT(new_state))) {
        gw_fsm_log(fi, GW_LOG_ERROR, "transition to %s not permitted",
                   state_name(fsm, new_state));
        return -EPERM;
    }
    gw_fsm_timer_disarm(fi);
    if (fsm->states[old].onleave)
        fsm->states[old].onleave(fi, new_state);
    fi->state = new_state;
    if (timeout_ms > 0 && timer_id >= 0) {
        gw_fsm_timer_arm(fi, timeout_ms, timer_id);
        gw_log(GW_LOG_INFO, fsm->name, "%s(%s){%s} -> %s (%s=%ums)", fsm->name, fi->id,
               state_name(fsm, old), state_name(fsm, new_state), timer_name(fsm, timer_id),
               timeout_ms);
    } else {
        gw_log(GW_LOG_INFO, fsm->name, "%s(%s){%s} -> %s", fsm->name, fi->id,
               state_name(fsm, old), state_name(fsm, new_state));
    }
    if (fsm->states[new_state].onenter)
        fsm->states[new_state].onenter(fi, old);
    return 0;
}

const char *gw_fsm_state_name(const struct gw_fsm_inst *fi)
{
    return state_name(fi->fsm, fi->state);
}
