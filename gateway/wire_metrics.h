/*
 * wire_metrics.h - loyaltygw's face to Prometheus, load balancers and systemd: the families of
 * GET /metrics (read from each module's counters when scraped, nothing kept twice), GET /health
 * and GET /ready, on the listener of core/gw_metrics.h (metrics.listen). Part of the loyaltygw
 * program, like every wire_*.c: it is the one place that knows every module.
 *
 * Readiness (/ready 200): not stopping, the SMPP link bound, Redis connected, and Redis writable:
 * a probe SETs lg:ready:<smpp.name> (PX 3 periods) every metrics.ready_probe_ms, and the last one
 * answered OK less than 3 periods ago. A replica (READONLY), a full Redis (OOM) or an ACL that
 * refuses the write make the instance not ready, which is what a load balancer must know.
 * The same probe round reads the fulfilment group's backlog (XINFO GROUPS cat:fulfil: lag and
 * pending) when fulfilment runs, for loyaltygw_fulfilment_queue_depth.
 *
 * Ownership: the sources are borrowed and must outlive the struct; free it after gw_redis_free
 * (whose cancelled probe callbacks still land here) and before the loop.
 */
#ifndef WIRE_METRICS_H
#define WIRE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct gw_config;
struct gw_redis;
struct gw_ingest;
struct smpp_esme;
struct gw_ussd;
struct gw_sms;
struct wire_fulfil;
struct wire_broadcast;
struct wire_brakes;

/* What the exposition reads. cfg, redis, ingest and esme are required; the rest may be NULL
 * (module off: its families are left out). */
struct wire_metrics_src {
    const struct gw_config *cfg;
    struct gw_redis *redis;
    struct gw_ingest *ingest;
    struct smpp_esme *esme;
    struct gw_ussd *ussd;
    struct gw_sms *sms;
    struct wire_fulfil *fulfil;
    struct wire_broadcast *bcast;
    struct wire_brakes *brakes;
    const char *version;
};

struct wire_metrics;

/* Starts the probe timer and, when cfg->metrics.listen is set, the listener. src is copied.
 * NULL with err set (cannot listen, ENOMEM). */
struct wire_metrics *wire_metrics_new(struct event_base *base, const struct wire_metrics_src *src,
                                      char *err, size_t errlen);
/* The listener's port (0 when off). */
uint16_t wire_metrics_port(const struct wire_metrics *m);
/* SIGTERM: /ready answers 503 "stopping" from now on; the probes stop. */
void wire_metrics_stopping(struct wire_metrics *m);
/* Whether the instance is ready, and why not (into why). */
bool wire_metrics_ready(const struct wire_metrics *m, char *why, size_t whylen);
/* The points-expiry job whose progress /metrics shows (it starts after the metrics; NULL: none).
 * x is borrowed: it outlives m or is unset first. */
struct gw_expiry;
void wire_metrics_set_expiry(struct wire_metrics *m, const struct gw_expiry *x);
/* The campaign rules whose counters /metrics shows (loyaltygw_campaign_<name>_total; NULL: none,
 * campaigns.enabled false). r is borrowed: it outlives m. */
struct gw_campaign_run;
void wire_metrics_set_campaigns(struct wire_metrics *m, const struct gw_campaign_run *r);
/* Writes the whole exposition into out. */
void wire_metrics_write(const struct wire_metrics *m, struct evbuffer *out);
/* NULL is a no-op. See the ownership note above. */
void wire_metrics_free(struct wire_metrics *m);

#endif
