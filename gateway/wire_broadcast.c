/*
 * wire_broadcast.c - gw_broadcast inside loyaltygw, with the gift-day calendar as its "next
 * opening" (see wire_broadcast.h). Owner: the broadcast engineer (issue 5 part 4).
 */
#include "wire_broadcast.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "gw_core.h"

struct wire_broadcast {
    struct gw_broadcast *runner;
    char giftdays[1024];      /* resolved path, "" = none: the bootstrap */
    struct cat_calendar *cal; /* the stored calendar, once one was read; owned */
};

/* The first regular (non-premium) opening after after_s: the reminder goes out when everyone
 * can redeem, not at the premium tiers' early opening. */
static int next_regular(const struct cat_calendar *cal, int64_t after_s, int64_t *start_s)
{
    struct cat_gift_window win;
    int rc = cat_calendar_next_open(cal, after_s, NULL, NULL, NULL, &win);

    if (rc == 0)
        *start_s = win.regular_start;
    return rc;
}

static int next_open(void *arg, int64_t after_s, int64_t *start_s)
{
    struct wire_broadcast *w = arg;
    struct cat_calendar *cal = NULL;
    char err[256];
    int rc;

    if (w->cal)
        return next_regular(w->cal, after_s, start_s);
    if (!w->giftdays[0])
        return -ENOENT;
    rc = cat_calendar_load_file(w->giftdays, &cal, err, sizeof(err));
    if (rc < 0) {
        gw_log(GW_LOG_ERROR, "broadcast", "gift-day calendar: %s", err);
        return rc;
    }
    rc = next_regular(cal, after_s, start_s);
    cat_calendar_free(cal);
    return rc;
}

int wire_broadcast_set_calendar(void *arg, const char *text, size_t len, char *err, size_t errlen)
{
    struct wire_broadcast *w = arg;
    struct cat_calendar_config *cc = malloc(sizeof(*cc)); /* ~10 KiB: not on the stack */
    struct cat_calendar *cal = NULL;
    int rc;

    if (!cc) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = cat_calendar_config_parse(text, len, cc, err, errlen);
    if (rc == 0)
        rc = cat_calendar_new(cc, NULL, &cal, err, errlen);
    free(cc);
    if (rc < 0)
        return rc;
    cat_calendar_free(w->cal);
    w->cal = cal;
    return 0;
}

struct wire_broadcast *wire_broadcast_new(struct event_base *base, struct gw_redis *redis,
                                          struct gw_sms *sms, const struct gw_config *cfg,
                                          const char *config_path, char *err, size_t errlen)
{
    struct wire_broadcast *w;
    char dir[512] = "", tmp[512];
    const char *name = cfg->catalog.giftdays_file;
    int n;

    err[0] = '\0';
    if (!cfg->broadcast.enabled)
        return NULL;
    if (!sms) {
        snprintf(err, errlen, "broadcast.enabled needs the SMS side (ussd.menus_file)");
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (config_path) {
        snprintf(tmp, sizeof(tmp), "%s", config_path);
        snprintf(dir, sizeof(dir), "%s", dirname(tmp));
    }
    if (name[0] == '\0' || name[0] == '/' || dir[0] == '\0')
        n = snprintf(w->giftdays, sizeof(w->giftdays), "%s", name);
    else
        n = snprintf(w->giftdays, sizeof(w->giftdays), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(w->giftdays))
        w->giftdays[0] = '\0';
    w->runner = gw_broadcast_new(base, redis, sms, &cfg->broadcast, next_open, w);
    if (!w->runner || gw_broadcast_start(w->runner) < 0) {
        snprintf(err, errlen, "broadcast: cannot start the runner");
        wire_broadcast_free(w);
        return NULL;
    }
    return w;
}

struct gw_broadcast *wire_broadcast_runner(struct wire_broadcast *w)
{
    return w ? w->runner : NULL;
}

void wire_broadcast_free(struct wire_broadcast *w)
{
    if (!w)
        return;
    gw_broadcast_free(w->runner);
    cat_calendar_free(w->cal);
    free(w);
}
