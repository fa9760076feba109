/*
 * gw_service.c - the service manager's side of the daemons' life (systemd, Type=notify): READY=1
 * once the process can take traffic, RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1 at
 * the start of a graceful stop, STATUS= lines, and WATCHDOG=1 pings from the event loop itself
 * (a timer at half of WatchdogSec), so a loop that hangs stops pinging and systemd restarts it.
 *
 * libsystemd's sd_notify() is a no-op returning 0 when $NOTIFY_SOCKET is unset: the same binary
 * runs under systemd, in a terminal, in the tests and in the demo without a switch.
 */
#include "gw_core.h"

#include <event2/event.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static struct event *g_watchdog;

void gw_service_notify(enum gw_service_state state, const char *status)
{
    static const char *const what[] = {
        [GW_SERVICE_READY] = "READY=1",
        [GW_SERVICE_RELOADING] = "RELOADING=1",
        [GW_SERVICE_STOPPING] = "STOPPING=1",
        [GW_SERVICE_STATUS] = "",
    };
    char msg[300];

    snprintf(msg, sizeof(msg), "%s%s%s%s", what[state], status && what[state][0] ? "\n" : "",
             status ? "STATUS=" : "", status ? status : "");
    (void)sd_notify(0, msg);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    (void)sd_notify(0, "WATCHDOG=1");
}

int gw_service_watchdog_start(struct event_base *base)
{
    uint64_t usec = 0;
    struct timeval tv;

    if (g_watchdog || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    g_watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
    if (!g_watchdog)
        return -1;
    usec /= 2; /* systemd's advice: ping at half the interval */
    tv.tv_sec = (time_t)(usec / 1000000);
    tv.tv_usec = (suseconds_t)(usec % 1000000);
    event_add(g_watchdog, &tv);
    gw_log(GW_LOG_INFO, "main", "systemd watchdog: pinging every %llu ms",
           (unsigned long long)(usec / 1000));
    return 1;
}

void gw_service_watchdog_stop(void)
{
    if (g_watchdog) {
        event_free(g_watchdog);
        g_watchdog = NULL;
    }
}
